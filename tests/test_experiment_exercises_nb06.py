"""06.tune_momentum: the requirement never raises, names the cause, and plain GD cannot meet the targets."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gdcourse import rates
from gdcourse.backend import to_numpy
from gdcourse.exercises import get
from gdcourse.exercises.catalog.nb06 import _heavy_ball_cost

EXERCISE = get("06.tune_momentum")
SEEDS = (None, 1, 2, 3, 20240607)
JUNK = [None, "0.1", 0.5, True, (), (1.0,), (1.0, 0.5, 0.1), ("1", "0.5"), (math.nan, 0.5), (1.0, math.inf),
        (-1.0, 0.5), (0.0, 0.5), (1.0, 1.0), (1.0, -0.2), (True, 0.5), np.zeros((2, 2)), np.array(1.0),
        np.array([1.0, 0.5, 0.1]), {"lr": 1.0, "beta": 0.5}, (1 + 0j, 0.5), (1e308, 0.9), (1e-300, 0.5)]  # fmt: skip


@pytest.mark.parametrize("value", JUNK, ids=repr)
def test_junk_is_refused_with_a_reason_and_never_raises(value):
    for case in EXERCISE.cases():
        why = EXERCISE.requirement(case, value)
        assert isinstance(why, str) and why


def _polyak(case):
    eig = np.linalg.eigvalsh(to_numpy(case.args[0]))
    lr, beta, _ = rates.optimal_heavy_ball(eig.max(), eig.min())
    return lr, beta


@pytest.mark.parametrize("seed", SEEDS)
def test_polyak_passes_and_gd_at_its_best_misses_by_a_factor_100(seed):
    for case in EXERCISE.cases(seed):
        lr, beta = _polyak(case)
        assert EXERCISE.requirement(case, (lr, beta)) is None
        assert (
            EXERCISE.requirement(case, [lr, beta]) is None and EXERCISE.requirement(case, np.array([lr, beta])) is None
        )
        target = case.args[4]
        assert case.key.gd_best > 100 * target


def test_the_best_gd_cost_in_the_key_is_what_gd_reaches():
    for case in EXERCISE.cases():
        a, c, theta0 = (to_numpy(x) for x in case.args[:3])
        L = max(case.key.eigenvalues)
        simulated = min(_heavy_ball_cost(a, c, theta0, lr, 0.0, case.args[3]) for lr in np.linspace(0.005, 2, 400) / L)
        assert math.isclose(simulated, case.key.gd_best, rel_tol=1e-2)


def test_the_reason_names_the_cause():
    case = EXERCISE.cases()[0]
    L = max(case.key.eigenvalues)
    lr, beta = _polyak(case)
    assert "plain gradient descent" in EXERCISE.requirement(case, (1 / L, 0.0))
    assert "limit" in EXERCISE.requirement(case, (2.2 * (1 + beta) / L, beta))
    assert "rings" in EXERCISE.requirement(case, (lr, 0.99))
    assert "flattest" in EXERCISE.requirement(case, (0.1 / L, beta))
    assert "(lr, beta)" in EXERCISE.requirement(case, (beta, lr))  # the swapped pair: β > 1 asks about the order
