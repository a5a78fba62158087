"""05.signal_batch: the requirement never raises, names the cause, and the cases keep the margins the catalog states."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from gdcourse.exercises import get
from gdcourse.exercises.catalog.nb05 import _exact

EXERCISE = get("05.signal_batch")
SEEDS = (None, 1, 2, 3, 20240607)
JUNK = [None, "0.1", "64", True, math.nan, math.inf, -64, 0, 63.5, 1024, [64], (64,), {}, np.zeros((2, 2)),
        np.array([64]), 64 + 0j, object(), Fraction(1, 3)]  # fmt: skip


@pytest.mark.parametrize("value", JUNK, ids=repr)
def test_junk_is_refused_with_a_reason_and_never_raises(value):
    for case in EXERCISE.cases():
        why = EXERCISE.requirement(case, value)
        assert isinstance(why, str) and why


@pytest.mark.parametrize("form", [int, float, np.int64, np.float32, np.array, Fraction])
def test_the_answer_passes_in_any_real_number_form(form):
    for case in EXERCISE.cases():
        assert EXERCISE.requirement(case, form(case.key.answer)) is None


def test_the_reason_says_which_way_to_go():
    for case in EXERCISE.cases():
        answer = case.key.answer
        assert "larger" in EXERCISE.requirement(case, answer // 2)
        assert "smallest" in EXERCISE.requirement(case, 2 * answer)
        assert "not one of the candidate" in EXERCISE.requirement(case, 3 * answer)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_key_is_the_exact_answer_with_a_margin_on_both_sides(seed):
    for case in EXERCISE.cases(seed):
        sizes, noise, signal = _exact(*case.args)
        k = int(np.argmax(noise < signal))
        assert sizes[k] == case.key.answer and np.allclose(noise, case.key.noise)
        assert noise[k] < signal / 1.25 and noise[k - 1] > 1.25 * signal  # far from the 10% slack of the rule


def test_the_answer_grows_towards_the_minimum_and_the_last_needs_the_finite_population_factor():
    for seed in SEEDS:
        cases = EXERCISE.cases(seed)
        answers = [c.key.answer for c in cases]
        assert answers == sorted(answers) and answers[-1] == 256
        X = cases[-1].args[0]
        assert 256 / X.shape[0] > 0.45  # a batch is about half of the data
