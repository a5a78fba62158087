"""11.spot_the_bug, the experiment exercise of notebook 11: its runs, its requirement's reasons, its edge values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gdcourse.exercises import codec, get
from gdcourse.exercises.catalog import nb11

SEEDS = (None, 1, 2, 3, 20240607)
EXERCISE = get("11.spot_the_bug")


@pytest.mark.parametrize("seed", SEEDS)
def test_every_seed_holds_one_run_of_each_fault_as_plain_floats(seed):
    cases = EXERCISE.cases(seed)
    assert sorted(case.key for case in cases) == sorted(nb11.FAULTS)
    for case in cases:
        (history,) = case.args
        assert set(history) == set(nb11.HISTORY_FIELDS)
        assert len({len(values) for values in history.values()}) == 1
        assert all(type(v) is float for values in history.values() for v in values)
        assert codec.same_data(codec.round_trip(history), history)  # what the grader sends is what was drawn
        assert nb11.spot_the_bug(history) == case.key


@pytest.mark.parametrize("seed", SEEDS)
def test_every_wrong_name_is_contradicted_by_the_curves(seed):
    for case in EXERCISE.cases(seed):
        assert EXERCISE.requirement(case, case.key) is None
        for claim in nb11.FAULTS:
            if claim != case.key:
                why = EXERCISE.requirement(case, claim)
                assert why and not why.startswith("this run's curves"), (case.key, claim, why)


def test_the_reasons_name_the_evidence():
    cases = {case.key: case for case in EXERCISE.cases()}
    said = {(truth, claim): EXERCISE.requirement(cases[truth], claim) for truth in cases for claim in nb11.FAULTS}
    assert "without growing first" in said["nan_in_data", "lr_too_large"]
    assert "grew" in said["lr_too_large", "nan_in_data"]
    assert "before it became inf" in said["lr_too_large", "nan_in_data"]
    assert "first layer's gradient is exactly 0" in said["dead_relu", "lr_too_small"]
    assert "output layer's too" in said["float16_underflow", "dead_relu"]
    assert "gradient norm is not 0" in said["dead_relu", "float16_underflow"]
    assert "validation loss" in said["lr_too_small", "overfitting"]
    assert "fell" in said["overfitting", "lr_too_small"]


def test_spellings_of_a_name_are_forgiven():
    case = next(c for c in EXERCISE.cases() if c.key == "dead_relu")
    for spelling in ("dead_relu", " Dead-ReLU ", "DEAD RELU", np.str_("dead_relu")):
        assert EXERCISE.requirement(case, spelling) is None, spelling


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (None, "string"),
        (0.1, "string"),
        (math.nan, "string"),
        (math.inf, "string"),
        (-1, "string"),
        (True, "string"),
        ([], "string"),
        (["dead_relu"], "string"),
        ({"dead_relu": 1}, "string"),
        (b"dead_relu", "string"),
        (np.array(3.0), "string"),
        (np.array(["dead_relu"]), "string"),
        ("", "not one of"),
        ("0.1", "not one of"),
        ("dead ReLUs", "not one of"),
        ("x" * 500, "not one of"),
    ],
)
def test_junk_values_never_raise_and_say_what_was_expected(value, words):
    for case in EXERCISE.cases():
        why = EXERCISE.requirement(case, value)
        assert isinstance(why, str) and words in why, (value, why)
        assert len(why) < 300


def test_a_check_is_fast():
    import time

    start = time.perf_counter()
    verdict = EXERCISE.judge(nb11.spot_the_bug, 7)
    assert verdict.passed and time.perf_counter() - start < 2.0  # ~0.15 s; generous for a loaded machine
