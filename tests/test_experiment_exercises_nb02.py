"""02.beat_the_budget: its requirement accepts any working choice, explains a failing one, and never raises."""

from __future__ import annotations

import math
import time
from fractions import Fraction

import numpy as np
import pytest

from gdcourse.exercises import check, get
from gdcourse.exercises.catalog import nb02

EXERCISE = get("02.beat_the_budget")
JUNK = [None, "0.1", True, math.nan, math.inf, -1.0, 0, [1.0], np.array([1.0, 2.0]), np.array(np.nan), 1j,
        (True,), (True, 0.1, 2), (True, "0.1"), (True, math.nan), (True, -0.1), (True, 1j), (1, 0.1), ("True", 0.1),
        (True, np.array([0.1, 0.2])), (True, 1e300), (False, 1e300)]  # fmt: skip


def _curvature(case, standardize):
    X = np.asarray(case.args[0])
    return nb02._largest_curvature((X - X.mean(axis=0)) / X.std(axis=0) if standardize else X)


@pytest.mark.parametrize("junk", JUNK, ids=repr)
def test_the_requirement_never_raises_and_says_what_is_wrong(junk):
    for case in EXERCISE.cases():
        reason = EXERCISE.requirement(case, junk)
        assert reason and any(w in reason for w in ("expected", "must", "stability limit", "above its minimum"))


def test_any_learning_rate_near_one_over_l_of_the_standardised_features_passes():
    for seed in (None, 1, 2):
        for case in EXERCISE.cases(seed):
            L = _curvature(case, True)
            for factor in (0.6, 1.0, 1.8):
                assert EXERCISE.requirement(case, (True, factor / L)) is None
            assert EXERCISE.requirement(case, [np.bool_(True), Fraction(1, 1) / Fraction(L)]) is None


def test_no_learning_rate_is_enough_on_the_raw_features():
    for case in EXERCISE.cases():
        L = _curvature(case, False)
        for factor in np.geomspace(0.05, 1.99, 25):
            reason = EXERCISE.requirement(case, (False, factor / L))
            assert "Standardise the features" in reason


def test_the_reasons_name_the_cause():
    case = EXERCISE.cases()[1]
    L_raw, L_std = _curvature(case, False), _curvature(case, True)
    assert "Standardise" in EXERCISE.requirement(case, (False, 1 / L_raw))
    assert "η is small" in EXERCISE.requirement(case, (True, 1 / L_raw))
    assert "stability limit" in EXERCISE.requirement(case, (False, 1 / L_std))
    assert "stability limit" in EXERCISE.requirement(case, (True, 2 / L_std))
    assert "in that order" in EXERCISE.requirement(case, (1 / L_std, True))


def test_a_whole_check_is_fast(capsys):
    start = time.perf_counter()
    assert check("02.beat_the_budget", EXERCISE.reference).passed
    assert time.perf_counter() - start < 1.0
