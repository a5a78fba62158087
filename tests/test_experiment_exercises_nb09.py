"""09.stable_std: its requirement accepts any value without raising, and its reasons name the cause."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gdcourse.exercises import get

EXERCISE = get("09.stable_std")


@pytest.mark.parametrize(
    "junk", [None, "0.1", True, math.nan, math.inf, -0.1, 0, [0.1], np.array([0.1, 0.2]), np.array(np.nan), 1j]
)
def test_junk_never_raises_and_says_what_was_expected(junk):
    for case in EXERCISE.cases():
        reason = EXERCISE.requirement(case, junk)
        assert reason and "expected" in reason


@pytest.mark.parametrize(
    ("sigma", "words"), [(1e-300, "vanish"), (1e-3, "vanish"), (1.0, "explode"), (1e300, "explode")]
)
def test_extreme_scales_are_judged_without_raising_or_warning(sigma, words, recwarn):
    for case in EXERCISE.cases():
        reason = EXERCISE.requirement(case, sigma)
        assert reason and words in reason
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_he_passes_for_relu_and_xavier_fails_for_both():
    for case in EXERCISE.cases():
        width, _, activation = case.args
        if activation == "relu":
            assert EXERCISE.requirement(case, math.sqrt(2 / width)) is None
        assert "vanish" in EXERCISE.requirement(case, 1 / math.sqrt(width))


def test_the_tanh_case_shows_the_gradients_of_the_gain_five_thirds_grow():
    (case,) = [c for c in EXERCISE.cases() if c.args[2] == "tanh"]
    reason = EXERCISE.requirement(case, 5 / 3 / math.sqrt(case.args[0]))
    assert "gradients" in reason and "explode" in reason and "activations" not in reason


def test_a_zero_d_array_and_a_numpy_scalar_are_numbers():
    case = EXERCISE.cases()[0]
    sigma = math.sqrt(2 / case.args[0])
    assert EXERCISE.requirement(case, np.array(sigma)) is None
    assert EXERCISE.requirement(case, np.float32(sigma)) is None
