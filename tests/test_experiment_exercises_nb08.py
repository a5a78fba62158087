"""08.choose_alpha: its requirement accepts any value without raising, and its reasons name the cause."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from gdcourse.exercises import get

EXERCISE = get("08.choose_alpha")


@pytest.mark.parametrize(
    "junk",
    [None, "0.01", True, math.nan, math.inf, -math.inf, [0.01], (0.01,), {"alpha": 0.01}, np.array([0.01, 0.1]),
     np.array(np.nan), 1j, np.array(1 + 0j), object()],
)  # fmt: skip
def test_junk_never_raises_and_says_what_was_expected(junk):
    for case in EXERCISE.cases():
        reason = EXERCISE.requirement(case, junk)
        assert reason and "expected" in reason


@pytest.mark.parametrize(
    ("alpha", "words"),
    [(0.0, "too small"), (1e-300, "too small"), (1e-12, "too small"), (1e300, "too large"), (10**400, "expected")],
    ids=["zero", "1e-300", "1e-12", "1e300", "int-beyond-float"],
)
def test_extreme_alphas_are_judged_without_raising(alpha, words):
    for case in EXERCISE.cases():
        reason = EXERCISE.requirement(case, alpha)
        assert reason and words in reason


def test_a_negative_alpha_is_refused_and_a_logarithm_is_named():
    reason = EXERCISE.requirement(EXERCISE.cases()[0], -2.0)
    assert "negative" in reason and "10 ** -2" in reason


def test_any_real_number_type_of_the_chosen_alpha_passes():
    cases = EXERCISE.cases()
    for case in cases:
        alpha = EXERCISE.reference(*case.args)
        for form in (alpha, np.float32(alpha), np.array(alpha), Fraction(alpha).limit_denominator(10**12)):
            assert EXERCISE.requirement(case, form) is None, (case.label, form)


def test_the_judge_scores_on_held_out_data_the_answer_never_sees():
    case = EXERCISE.cases()[0]
    z_train, _, z_val, _ = case.args
    assert case.key.Z_test.shape[0] == 400 and case.key.Z_test.shape[1] == z_train.shape[1]
    assert not any(np.shares_memory(case.key.Z_test, np.asarray(a)) for a in (z_train, z_val))


def test_scikit_learn_alpha_is_recognised_in_the_reason():
    case = EXERCISE.cases()[2]  # the case made so that n × α misses
    n = case.args[0].shape[0]
    reason = EXERCISE.requirement(case, n * EXERCISE.reference(*case.args))
    assert "too large" in reason and "scikit-learn" in reason
