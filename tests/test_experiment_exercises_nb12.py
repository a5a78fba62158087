"""12.train_to_target, the experiment exercise of notebook 12: its data, its margins and its requirement's reasons."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gdcourse.backend import to_numpy
from gdcourse.exercises import get
from gdcourse.exercises.catalog import nb12

SEEDS = (None, 1, 2, 3, 20240607)
EXERCISE = get("12.train_to_target")


def _accuracy(case, labels):
    return float(np.mean(np.asarray(to_numpy(labels)) == case.key))


@pytest.mark.parametrize("seed", SEEDS)
def test_the_reference_clears_the_target_and_the_broken_models_miss_it_by_a_margin(seed):
    for case in EXERCISE.cases(seed):
        X_train, y_train, X_val = case.args
        assert X_train.shape == (240, 2) and X_val.shape == (300, 2) and case.key.shape == (300,)
        assert sorted(np.unique(to_numpy(y_train)).tolist()) == [0, 1, 2]
        assert _accuracy(case, nb12.train_to_target(*case.args)) >= nb12.TARGET_ACCURACY + 0.02
        for knobs in ({"train": False}, {"hidden": ()}, {"standardise": False}):
            assert _accuracy(case, nb12._mlp_recipe(*case.args, **knobs)) <= nb12.TARGET_ACCURACY - 0.2, knobs


def _labels(n=300, k=3):
    return np.arange(n) % k


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (None, "got None"),
        ("0.1", "got a str"),
        (0.1, "got a float"),
        (math.nan, "got a float"),
        (True, "got a bool"),
        ({"labels": 1}, "got a dict"),
        (b"\x00", "got a bytes"),
        ([], "shape (0,)"),
        ([[1, 2], [3]], "not an array of numbers"),
        (np.array(3), "shape ()"),
        (np.zeros((300, 3)), "argmax over axis 1"),
        (np.zeros((300, 1)), "flatten"),
        (np.zeros(240, dtype=int), "X_train"),
        (np.zeros(299, dtype=int), "shape (299,)"),
        (np.zeros((3, 300)), "shape (3, 300)"),
        (np.ones(300, dtype=bool), "booleans"),
        (np.full(300, np.nan), "not finite"),
        (np.full(300, np.inf), "not finite"),
        (np.full(300, 0.5), "whole numbers"),
        (-_labels(), "0 to 2"),
        (_labels() + 1, "0 to 2"),
        (_labels().astype(complex), "complex"),
        (_labels().astype(str), "values"),
        (np.array([object()] * 300), "object"),
        ({1, 2, 3}, "object"),
        (np.zeros(300, dtype=int), "every prediction is class 0"),
        (_labels(), "straight boundaries"),
    ],
)
def test_junk_values_never_raise_and_say_what_was_expected(value, words):
    case = EXERCISE.cases()[0]
    why = EXERCISE.requirement(case, value)
    assert isinstance(why, str) and words in why, (value, why)


def test_valid_forms_of_the_labels_pass():
    case = EXERCISE.cases()[0]
    truth = case.key
    for value in (truth, truth.astype(np.float32), truth.tolist(), tuple(truth.tolist()), truth.astype(np.uint8)):
        assert EXERCISE.requirement(case, value) is None


def test_a_partial_fit_is_told_to_train_more():
    case = EXERCISE.cases()[0]
    labels = case.key.copy()
    labels[:30] = (labels[:30] + 1) % 3  # accuracy 0.9: the boundaries bend, not enough
    why = EXERCISE.requirement(case, labels)
    assert "0.900" in why and "bend" in why


def test_a_passing_check_takes_well_under_a_second():
    import time

    nb12._TRAINED.clear()
    start = time.perf_counter()
    assert EXERCISE.judge(nb12.train_to_target, 11).passed
    assert time.perf_counter() - start < 3.0  # ~0.2 s (four trainings of 80 steps); generous for a loaded machine
