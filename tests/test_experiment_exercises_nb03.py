"""03.log_loss_lr: its requirement accepts any learning rate that reaches the target, explains a miss, never raises."""

from __future__ import annotations

import math
import time
from fractions import Fraction

import numpy as np
import pytest

from gdcourse.exercises import check, get
from gdcourse.exercises.catalog import nb03

EXERCISE = get("03.log_loss_lr")
JUNK = [None, "0.1", True, math.nan, math.inf, -1.0, 0, [1.0], np.array([1.0, 2.0]), np.array(np.nan), 1j, 1e300,
        np.array(-2.0)]  # fmt: skip


@pytest.mark.parametrize("junk", JUNK, ids=repr)
def test_the_requirement_never_raises_and_says_what_is_wrong(junk):
    for case in EXERCISE.cases():
        reason = EXERCISE.requirement(case, junk)
        assert reason and ("expected" in reason or "overshoots" in reason)


def test_a_window_of_learning_rates_passes_and_the_safe_step_does_not():
    for seed in (None, 1, 2):
        for case in EXERCISE.cases(seed):
            X, y, n_steps = np.asarray(case.args[0]), np.asarray(case.args[1]), case.args[2]
            safe = 4 / case.key.lam_max
            finals = nb03._log_losses_after(X, y, safe * nb03._DESIGN_MULTIPLES, n_steps, every=False)
            best = safe * float(nb03._DESIGN_MULTIPLES[int(np.argmin(finals))])
            for factor in (1 / 1.5, 1.0, 1.5):  # the target was placed so that this whole window passes
                assert EXERCISE.requirement(case, best * factor) is None
            assert EXERCISE.requirement(case, Fraction(best)) is None
            assert EXERCISE.requirement(case, nb03.log_loss_lr(*case.args)) is None
            reason = EXERCISE.requirement(case, safe)
            assert "fell at every step" in reason and "try larger" in reason
            assert "try smaller" in EXERCISE.requirement(case, 64 * safe * 8)


def test_the_target_lies_between_the_minimum_and_what_the_safe_step_reaches():
    for case in EXERCISE.cases():
        X, y = np.asarray(case.args[0]), np.asarray(case.args[1])
        safe = 4 / case.key.lam_max
        after_safe = nb03._log_losses_after(X, y, np.array([safe]), case.args[2], every=False)[0]
        assert case.key.J_star < case.args[3] and after_safe - case.key.J_star >= 10 * (case.args[3] - case.key.J_star)


def test_a_whole_check_is_fast(capsys):
    start = time.perf_counter()
    assert check("03.log_loss_lr", EXERCISE.reference).passed
    assert time.perf_counter() - start < 1.5
