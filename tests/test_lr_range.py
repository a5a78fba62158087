"""Tests of the learning-rate range test (gdcourse.lr_range) against what theory says about quadratics."""

from __future__ import annotations

import numpy as np
import pytest

from gdcourse import functions as F
from gdcourse import optim
from gdcourse.descent import minimize
from gdcourse.lr_range import LRRangeResult, lr_grid, lr_range_test


def _first_above(grid: np.ndarray, x: float) -> float:
    return float(grid[np.argmax(grid > x)])


def test_grid_is_geometric():
    grid = lr_grid(1e-3, 10.0, 5)
    np.testing.assert_allclose(grid, [1e-3, 1e-2, 1e-1, 1.0, 10.0], rtol=1e-12)
    np.testing.assert_allclose(np.diff(np.log(lr_grid(1e-4, 1.0, 41))), np.log(10) / 10, rtol=1e-12)


@pytest.mark.parametrize("L", [0.5, 1.0, 4.0, 30.0])
@pytest.mark.parametrize("n_steps", [60, 200])
def test_gd_on_a_one_dimensional_quadratic_diverges_at_the_first_grid_rate_above_2_over_L(L, n_steps):
    """J = ½Lθ²: one update multiplies J by (1 - ηL)², which exceeds 1 exactly when η > 2/L."""
    bowl = F.Quadratic.from_eigenvalues([L])
    result = lr_range_test(bowl, np.array([1.0]), lr_min=1e-4 / L, lr_max=10.0 / L, n_steps=n_steps)
    grid = lr_grid(1e-4 / L, 10.0 / L, n_steps)
    assert result.divergence_lr == _first_above(grid, 2.0 / L)
    step = grid[1] / grid[0]
    assert 2.0 / L < result.divergence_lr <= 2.0 / L * step  # found within the grid's resolution
    assert result.best_lr == float(grid[np.argmax(grid > 2.0 / L) - 1])
    assert result.suggested_lr == pytest.approx(0.5 * result.divergence_lr)  # about 1/L
    assert result.stopped_early and result.rule == "fraction"
    i = int(np.argmax(grid > 2.0 / L))
    costs = np.concatenate([[result.loss0], result.losses])
    assert np.all(np.diff(costs[: i + 1]) < 0) and costs[i + 1] > costs[i]  # falls at every η < 2/L, then rises


@pytest.mark.parametrize("kappa", [1.0, 10.0, 100.0])
@pytest.mark.parametrize("L", [1.0, 4.0])
def test_gd_from_the_steepest_direction_finds_2_over_L_for_any_condition_number(kappa, L):
    bowl = F.Quadratic(kappa=kappa, L=L, angle=0.3)
    start = 2.0 * bowl.eigenvectors[:, 0]  # along the eigenvector of curvature L
    grid = lr_grid(1e-4 / L, 10.0 / L, 100)
    result = lr_range_test(bowl, start, lr_min=1e-4 / L, lr_max=10.0 / L, n_steps=100)
    assert result.divergence_lr == _first_above(grid, 2.0 / L)


@pytest.mark.parametrize("kappa", [3.0, 10.0, 100.0])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gd_never_reports_divergence_below_2_over_L(kappa, seed):
    """Below 2/L every direction contracts, so the cost cannot rise: the reported point is never too early.

    (It can be late: once η passes 1/L the steep direction is nearly solved, and its regrowth beyond
    2/L takes several steps to show in the cost; the module docstring says so.)
    """
    bowl = F.Quadratic(kappa=kappa, L=1.0, angle=0.7)
    start = np.random.default_rng(seed).normal(size=2)
    result = lr_range_test(bowl, start, lr_min=1e-4, lr_max=100.0, n_steps=120)
    assert result.divergence_lr is not None and result.divergence_lr > 2.0


def test_noisy_gradients_keep_the_steep_direction_awake():
    """With gradient noise (as in SGD) the cliff shows near 2/L even from a generic start."""
    bowl = F.Quadratic(kappa=10.0, L=1.0, angle=0.3)
    rng = np.random.default_rng(0)

    def noisy(theta):
        return bowl.grad(theta) + 0.01 * rng.normal(size=2)

    result = lr_range_test(bowl, np.asarray(bowl.start), grad=noisy, lr_min=1e-4, lr_max=10.0, n_steps=200)
    assert 1.5 < result.divergence_lr < 2.5


@pytest.mark.parametrize(
    ("name", "hyper"),
    [("adam", {}), ("rmsprop", {}), ("sgd", {"momentum": 0.9}), ("nesterov", {"momentum": 0.9}), ("adagrad", {})],
)
def test_any_optimizer_gets_a_learning_rate_that_works(name, hyper):
    bowl = F.Quadratic(kappa=10.0, L=1.0, angle=0.3)
    result = lr_range_test(bowl, np.asarray(bowl.start), name, lr_min=1e-4, lr_max=10.0, n_steps=150, **hyper)
    assert 1e-4 <= result.suggested_lr <= 10.0
    run = minimize(bowl, np.asarray(bowl.start), optimizer=optim.get(name, lr=result.suggested_lr, **hyper),
                   max_iter=300, on_divergence="stop")
    assert run.stop_reason != "diverged" and run.final_loss < 1e-2 * run.losses[0]


def test_a_factory_is_the_same_as_a_name():
    bowl = F.Quadratic(kappa=10.0, angle=0.3)
    by_name = lr_range_test(bowl, np.asarray(bowl.start), "sgd", momentum=0.5, n_steps=80)
    by_factory = lr_range_test(bowl, np.asarray(bowl.start), lambda lr: optim.sgd(lr, momentum=0.5), n_steps=80)
    np.testing.assert_array_equal(by_name.losses, by_factory.losses)
    assert by_name.suggested_lr == by_factory.suggested_lr


def test_the_optimizer_sees_the_growing_rate_as_a_schedule():
    """Update k uses η_k: on J = ½θ² plain GD gives θ_{k+1} = (1 - η_k) θ_k exactly."""
    bowl = F.Quadratic.from_eigenvalues([1.0])
    result = lr_range_test(bowl, np.array([1.0]), lr_min=1e-3, lr_max=1.0, n_steps=30)
    expected = 0.5 * np.cumprod((1.0 - lr_grid(1e-3, 1.0, 30)) ** 2)
    np.testing.assert_allclose(result.losses, expected, rtol=1e-12)
    assert result.divergence_lr is None and not result.stopped_early  # η never passed 2/L = 2
    assert result.best_lr == 1.0 and result.suggested_lr == 0.5  # fraction of the best when nothing rose


def test_steepest_rule_picks_the_fastest_fall_per_decade():
    bowl = F.Quadratic.from_eigenvalues([1.0])
    result = lr_range_test(bowl, np.array([1.0]), lr_min=1e-3, lr_max=10.0, n_steps=50, rule="steepest")
    logs = np.log(np.concatenate([[result.loss0], result.losses]))
    b = int(np.argmin(result.losses))
    assert result.suggested_lr == float(result.lrs[int(np.argmin(np.diff(logs)[: b + 1]))])
    assert result.suggested_lr <= result.best_lr and result.rule == "steepest"


def test_smoothing_records_the_debiased_running_average():
    bowl = F.Quadratic(kappa=5.0, angle=0.2)
    raw = lr_range_test(bowl, np.asarray(bowl.start), lr_min=1e-3, lr_max=1.0, n_steps=40)
    smooth = lr_range_test(bowl, np.asarray(bowl.start), lr_min=1e-3, lr_max=1.0, n_steps=40, smoothing=0.9)
    k = np.arange(1, 41)
    ewma = np.zeros(40)
    for i, loss in enumerate(raw.losses):
        ewma[i] = (0.9 * ewma[i - 1] if i else 0.0) + 0.1 * loss
    np.testing.assert_allclose(smooth.losses, ewma / (1 - 0.9**k), rtol=1e-12)


def test_result_is_readable():
    bowl = F.Quadratic.from_eigenvalues([2.0])
    result = lr_range_test(bowl, np.array([1.0]), lr_min=1e-3, lr_max=10.0, n_steps=50)
    assert isinstance(result, LRRangeResult)
    assert repr(result).startswith("LRRangeResult(n=") and "suggested_lr=" in repr(result)
    assert "the cost rises from lr = " in result.message and "(fraction rule)" in result.message


def test_runs_on_every_backend(backend, to_backend):
    bowl = F.Quadratic(kappa=4.0, angle=0.5)
    reference = lr_range_test(bowl, np.asarray(bowl.start), "adam", n_steps=60)
    result = lr_range_test(bowl, to_backend(bowl.start), "adam", n_steps=60)
    np.testing.assert_allclose(result.losses, reference.losses, rtol=1e-10)
    assert result.suggested_lr == reference.suggested_lr


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"lr_min": 1.0, "lr_max": 0.1}, ValueError, "lr_min must be smaller"),
        ({"lr_min": 0.0}, ValueError, "lr_min"),
        ({"n_steps": 1}, ValueError, "n_steps"),
        ({"stop_factor": 1.0}, ValueError, "stop_factor"),
        ({"smoothing": 1.0}, ValueError, "smoothing"),
        ({"rule": "valley"}, ValueError, "rule"),
        ({"fraction": 0.0}, ValueError, "fraction"),
        ({"optimizer": "lbfgs"}, ValueError, "unknown optimizer"),
        ({"optimizer": 3}, TypeError, "optimizer must be"),
        ({"optimizer": lambda lr: optim.gd(lr), "momentum": 0.9}, ValueError, "factory"),
        ({"lr_min": 5.0, "lr_max": 50.0}, ValueError, "never fell"),
    ],
)
def test_bad_arguments_get_clear_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        lr_range_test(F.Quadratic(), np.array([1.0, 1.0]), **kwargs)


def test_negative_costs_are_refused():
    well = F.DoubleWell()
    with pytest.raises(ValueError, match=">= 0"):
        lr_range_test(well, np.array([1.0]))
    with pytest.raises(ValueError, match="became negative"):
        lr_range_test(well, np.array([2.0]), lr_min=1e-2, lr_max=1.0, n_steps=20)
