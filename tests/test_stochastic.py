"""Stochastic and minibatch descent (gdcourse.stochastic): the loop, the least-squares finite sum, gradient noise.

The acceptance test of issue 7: the variance of the minibatch gradient, measured over many seeded
minibatches, is within 10% of its prediction for B in {1, 8, 64}: sigma^2/B when the examples are drawn
with replacement, and sigma^2/B * (n-B)/(n-1) -- the finite-population correction -- when they are the
batches of a shuffled epoch (without replacement), which is how the course's iterator draws them.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from gdcourse import optim, schedules
from gdcourse.backend import asarray, to_numpy
from gdcourse.data import minibatch_indices
from gdcourse.descent import DivergenceError, minimize
from gdcourse.stochastic import (
    GradientNoise,
    LeastSquares,
    StochasticHistory,
    gradient_noise,
    gradient_variance,
    predicted_variance,
    sgd_run,
)


def regression(n=2000, seed=0):
    """y = 2x - 1 + noise with x ~ N(1, 1): the design [x, 1] gives a tilted, elongated bowl (kappa ~ 6.5)."""
    g = np.random.default_rng(seed)
    x = g.normal(1.0, 1.0, n)
    X = np.stack([x, np.ones(n)], axis=1)
    return X, X @ np.array([2.0, -1.0]) + 0.5 * g.normal(size=n)


X_HOST, Y_HOST = regression()
PROBLEM = LeastSquares(X_HOST, Y_HOST)


def direct_cost(theta):
    return np.mean(0.5 * (X_HOST @ theta - Y_HOST) ** 2)


@pytest.fixture
def problem(to_backend):
    X, y = to_backend(X_HOST), to_backend(Y_HOST)
    return LeastSquares(X, y), X, y


# ----------------------------------------------------------------------------- the finite sum


def test_least_squares_knows_its_minimum_and_curvature():
    theta_star = np.linalg.lstsq(X_HOST, Y_HOST, rcond=None)[0]
    np.testing.assert_allclose(PROBLEM.global_minimum, theta_star, rtol=1e-12)
    assert PROBLEM.f_min == pytest.approx(np.mean(0.5 * (X_HOST @ theta_star - Y_HOST) ** 2), rel=1e-12)
    H = X_HOST.T @ X_HOST / len(Y_HOST)
    np.testing.assert_allclose(PROBLEM.H, H, rtol=1e-12)
    eigs = np.linalg.eigvalsh(H)
    assert PROBLEM.L == pytest.approx(eigs[-1]) and PROBLEM.mu == pytest.approx(eigs[0])
    assert PROBLEM.kappa == pytest.approx(eigs[-1] / eigs[0])
    assert repr(PROBLEM).startswith("LeastSquares(n_samples=2000, dim=2, L=")


def test_value_is_the_mean_of_the_examples_costs_and_grad_their_mean_gradient(problem):
    ls, X, y = problem
    for theta in ([0.0, 0.0], [3.0, 1.5], [-1.0, 4.0]):
        t = np.asarray(theta)
        direct = direct_cost(t)
        theta_b = asarray(t)
        assert float(ls.value(theta_b)) == pytest.approx(direct, rel=1e-12)
        assert float(ls.batch_value(theta_b, X, y)) == pytest.approx(direct, rel=1e-12)
        per_example = ls.per_example_grads(theta_b)
        assert per_example.shape == (2000, 2)
        np.testing.assert_allclose(to_numpy(ls.grad(theta_b)), to_numpy(per_example).mean(axis=0), rtol=1e-10)
        np.testing.assert_allclose(to_numpy(ls.grad(theta_b)), PROBLEM.H @ (t - PROBLEM.global_minimum),
                                   rtol=1e-9, atol=1e-12)
        h = 1e-6  # central differences of the data form
        fd = [(direct_cost(t + h * e) - direct_cost(t - h * e)) / (2 * h) for e in np.eye(2)]
        np.testing.assert_allclose(to_numpy(ls.grad(theta_b)), fd, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(to_numpy(ls.hessian(theta_b)), PROBLEM.H, rtol=1e-12)


def test_value_and_grad_work_on_a_grid_and_on_several_thetas():
    grid = np.stack(np.meshgrid(np.linspace(-1, 3, 5), np.linspace(-2, 2, 4)))
    values = PROBLEM.value(grid)
    assert values.shape == (4, 5)
    direct = np.mean(0.5 * (np.tensordot(X_HOST, grid, axes=1) - Y_HOST[:, None, None]) ** 2, axis=0)
    np.testing.assert_allclose(values, direct, rtol=1e-11)
    np.testing.assert_allclose(PROBLEM.grad(grid)[:, 1, 2], PROBLEM.grad(grid[:, 1, 2]), rtol=1e-9)
    assert PROBLEM.hessian(grid).shape == (2, 2, 4, 5)
    thetas = np.array([[0.0, 1.0, 2.0], [0.0, -1.0, 3.0]])  # three parameter vectors, one per column
    np.testing.assert_allclose(PROBLEM.batch_grad(thetas, X_HOST, Y_HOST)[:, 1],
                               PROBLEM.batch_grad(thetas[:, 1], X_HOST, Y_HOST), rtol=1e-12)
    np.testing.assert_allclose(PROBLEM.batch_value(thetas, X_HOST, Y_HOST)[2],
                               PROBLEM.batch_value(thetas[:, 2], X_HOST, Y_HOST), rtol=1e-12)


def test_least_squares_rejects_bad_data():
    with pytest.raises(ValueError, match="2-D"):
        LeastSquares(np.zeros(5), np.zeros(5))
    with pytest.raises(ValueError, match=r"y must have shape \(5,\)"):
        LeastSquares(np.ones((5, 1)), np.zeros(4))
    with pytest.raises(ValueError, match="linearly dependent"):
        LeastSquares(np.ones((5, 2)), np.zeros(5))
    with pytest.raises(ValueError, match="NaN"):
        LeastSquares(np.array([[1.0], [np.nan]]), np.zeros(2))
    with pytest.raises(TypeError, match="floating"):
        LeastSquares(np.ones((3, 1), dtype=np.int64), np.zeros(3))
    with pytest.raises(TypeError, match="arrays"):
        LeastSquares([[1.0]], [1.0])


# ----------------------------------------------------------------------------- the loop


def test_full_batch_is_exactly_gradient_descent(backend, problem):
    ls, X, y = problem
    theta0 = asarray(np.zeros(2))  # on the active backend
    run = sgd_run(ls, theta0, X, y, batch_size=None, lr=0.3, epochs=25)
    gd = minimize(ls, theta0, lr=0.3, max_iter=25)
    assert run.n_iter == 25 and len(run.losses) == 26
    np.testing.assert_array_equal(run.path, gd.path)  # to the last bit
    np.testing.assert_array_equal(run.losses, gd.losses)
    np.testing.assert_array_equal(run.grad_norms, gd.grad_norms)
    np.testing.assert_array_equal(to_numpy(run.theta), to_numpy(gd.theta))
    same = sgd_run(ls, theta0, X, y, batch_size=2000, lr=0.3, epochs=25, seed=99)
    np.testing.assert_array_equal(same.path, gd.path)  # B = n: the seed plays no part


def test_one_epoch_of_sgd_is_the_hand_written_loop(backend, problem):
    ls, X, y = problem
    lr, B = 0.05, 7
    run = sgd_run(ls, asarray(np.zeros(2)), X, y, batch_size=B, lr=lr, epochs=2, seed=5)
    theta, gen = np.zeros(2), np.random.default_rng(5)
    path = [theta]
    for _ in range(2):
        for idx in minibatch_indices(2000, B, seed=gen):
            xb, yb = X_HOST[idx], Y_HOST[idx]
            theta = theta - lr * xb.T @ (xb @ theta - yb) / len(idx)
            path.append(theta)
    np.testing.assert_allclose(run.path, np.array(path), rtol=1e-12, atol=1e-14)


def test_history_counts_updates_epochs_and_examples():
    run = sgd_run(PROBLEM, np.zeros(2), X_HOST, Y_HOST, batch_size=300, lr=0.1, epochs=3)
    assert isinstance(run, StochasticHistory)
    per_epoch = math.ceil(2000 / 300)  # 7: six of 300 and one of 200
    assert run.n_iter == run.n_updates == 3 * per_epoch and run.batch_size == 300 and run.n_samples == 2000
    assert run.updates.tolist() == list(range(3 * per_epoch + 1))
    assert run.examples[:8].tolist() == [0, 300, 600, 900, 1200, 1500, 1800, 2000]
    np.testing.assert_allclose(run.epochs[[0, 7, 14, 21]], [0, 1, 2, 3])
    assert len(run.lrs) == run.n_iter and np.all(run.lrs == 0.1)
    assert repr(run) == f"History(B=300 η=0.1, n_iter=21, final_loss={run.final_loss:.4g}, stop_reason='max_iter')"
    dropped = sgd_run(PROBLEM, np.zeros(2), X_HOST, Y_HOST, batch_size=300, lr=0.1, epochs=3, drop_last=True)
    assert dropped.n_iter == 18 and dropped.examples[-1] == 3 * 1800


def test_sparse_recording_keeps_every_epoch_end():
    run = sgd_run(PROBLEM, np.zeros(2), X_HOST, Y_HOST, batch_size=1, lr=0.02, epochs=2, record_every=300)
    updates = run.updates.tolist()
    assert updates[:3] == [0, 300, 600] and 2000 in updates and updates[-1] == 4000
    assert all(b - a <= 300 for a, b in zip(updates, updates[1:], strict=False))
    assert len(run.losses) == len(run.path) == len(updates) and run.n_iter == 4000


def test_seeds_fix_the_run():
    a = sgd_run(PROBLEM, np.zeros(2), X_HOST, Y_HOST, batch_size=16, lr=0.1, epochs=2, seed=1)
    b = sgd_run(PROBLEM, np.zeros(2), X_HOST, Y_HOST, batch_size=16, lr=0.1, epochs=2, seed=1)
    c = sgd_run(PROBLEM, np.zeros(2), X_HOST, Y_HOST, batch_size=16, lr=0.1, epochs=2, seed=2)
    np.testing.assert_array_equal(a.path, b.path)
    assert not np.allclose(a.path, c.path)


def test_constant_lr_hovers_and_a_decaying_lr_converges():
    """Robbins & Monro (1951): with sum(eta) infinite and sum(eta^2) finite SGD converges; a constant eta does not."""
    theta0 = np.zeros(2)
    const = sgd_run(PROBLEM, theta0, X_HOST, Y_HOST, batch_size=1, lr=0.05, epochs=10, record_every=500)
    decay = sgd_run(PROBLEM, theta0, X_HOST, Y_HOST, batch_size=1, lr=schedules.inverse_time(0.05, 0.002),
                    epochs=10, record_every=500)
    gap_const = np.mean(const.losses[-10:] - PROBLEM.f_min)  # the noise ball
    gap_decay = decay.losses[-1] - PROBLEM.f_min
    assert gap_decay < gap_const / 10
    assert decay.lrs[-1] == pytest.approx(0.05 / (1 + 0.002 * (decay.n_iter - 1)))


def test_the_noise_ball_has_the_size_small_lr_theory_predicts():
    """Constant-lr SGD on a quadratic hovers at E[J - J*] ~ eta * sigma*^2 / (4B) for small eta (B << n).

    sigma*^2 is the spread of the examples' gradients at the minimum; the stationary covariance S of the
    iterates solves H S + S H = eta Sigma / B to first order in eta, and E[J - J*] = tr(H S) / 2.
    """
    sigma2 = gradient_variance(PROBLEM.per_example_grads(PROBLEM.global_minimum))
    run = sgd_run(PROBLEM, PROBLEM.global_minimum.copy(), X_HOST, Y_HOST, batch_size=8, lr=0.05, epochs=40,
                  record_every=10)
    measured = np.mean(run.losses[len(run.losses) // 10:] - PROBLEM.f_min)
    assert measured == pytest.approx(0.05 * sigma2 / (4 * 8), rel=0.15)


def test_any_optimizer_can_drive_the_loop():
    run = sgd_run(PROBLEM, np.zeros(2), X_HOST, Y_HOST, batch_size=32, optimizer=optim.sgd(0.05, momentum=0.9),
                  epochs=3)
    assert run.final_loss - PROBLEM.f_min < 1e-2 and run.label == "B=32"


def test_divergence_names_the_update_and_suggests_a_smaller_lr():
    lr = 2.2 / PROBLEM.L  # above 2/L: the mean of the iterates already diverges, whatever B
    with pytest.raises(DivergenceError, match=r"diverged at update \d+ \(epoch \d+, B=64\).*smaller") as info:
        sgd_run(PROBLEM, np.zeros(2), X_HOST, Y_HOST, batch_size=64, lr=lr, epochs=20)
    assert info.value.history.stop_reason == "diverged"
    run = sgd_run(PROBLEM, np.zeros(2), X_HOST, Y_HOST, batch_size=64, lr=lr, epochs=20, on_divergence="stop")
    assert run.stop_reason == "diverged" and run.n_iter < 20 * 32


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"lr": None}, ValueError, "exactly one of lr"),
        ({"optimizer": optim.sgd(0.1)}, ValueError, "exactly one of lr"),
        ({"epochs": -1}, ValueError, "epochs must be an integer"),
        ({"record_every": 0}, ValueError, "record_every"),
        ({"on_divergence": "ignore"}, ValueError, "on_divergence"),
        ({"divergence_factor": 1.0}, ValueError, "divergence_factor"),
        ({"batch_size": 0}, ValueError, "batch_size"),
    ],
)
def test_sgd_run_rejects_bad_arguments(kwargs, error, match):
    options = {"batch_size": 8, "lr": 0.1, **kwargs}
    with pytest.raises(error, match=match):
        sgd_run(PROBLEM, np.zeros(2), X_HOST, Y_HOST, **options)


def test_sgd_run_needs_a_batch_gradient():
    with pytest.raises(TypeError, match="batch_grad"):
        sgd_run(lambda theta: 0.0, np.zeros(2), X_HOST, Y_HOST, batch_size=8, lr=0.1)
    run = sgd_run(lambda theta: float(PROBLEM.value(theta)), np.zeros(2), X_HOST, Y_HOST, batch_size=500, lr=0.1,
                  epochs=1, grad_batch=LeastSquares.batch_grad)
    assert run.n_iter == 4 and np.all(np.isnan(run.grad_norms))  # no full gradient given: not recorded


# ----------------------------------------------------------------------------- gradient noise


@pytest.mark.parametrize("theta", [np.zeros(2), PROBLEM.global_minimum], ids=["far from the minimum", "at it"])
@pytest.mark.parametrize("replace", [False, True], ids=["without replacement", "with replacement"])
def test_measured_gradient_noise_matches_sigma2_over_B_within_10_percent(theta, replace):
    """Issue 7's acceptance test, for B in {1, 8, 64}."""
    G = PROBLEM.per_example_grads(theta)
    sigma2 = gradient_variance(G)
    noise = gradient_noise(G, [1, 8, 64], n_draws=20_000, replace=replace, seed=0)
    assert isinstance(noise, GradientNoise) and noise.sigma2 == sigma2 and noise.n_samples == 2000
    B = np.array([1, 8, 64])
    theory = sigma2 / B * (1.0 if replace else (2000 - B) / (2000 - 1))
    np.testing.assert_allclose(noise.predicted, theory, rtol=1e-12)
    np.testing.assert_allclose(noise.measured, theory, rtol=0.10)


def test_the_finite_population_correction_is_needed_for_batches_of_a_shuffled_epoch():
    """With n = 200 and B = 64 the correction (n-B)/(n-1) = 0.68: sigma^2/B alone would be off by 46%."""
    X, y = regression(n=200, seed=3)
    G = LeastSquares(X, y).per_example_grads(np.zeros(2))
    sigma2 = gradient_variance(G)
    without = gradient_noise(G, 64, n_draws=20_000, replace=False, seed=1)
    with_ = gradient_noise(G, 64, n_draws=20_000, replace=True, seed=1)
    fpc = (200 - 64) / (200 - 1)
    assert without.measured[0] == pytest.approx(sigma2 / 64 * fpc, rel=0.05)
    assert abs(without.measured[0] / (sigma2 / 64) - 1) > 0.25
    assert with_.measured[0] == pytest.approx(sigma2 / 64, rel=0.05)


def test_the_predictions_are_exact_over_every_possible_batch():
    """Averaging over all C(n, B) batches (without) or all n^B draws (with replacement) gives the formulas exactly."""
    g = np.random.default_rng(0)
    G = g.normal(size=(7, 3)) * [1.0, 3.0, 0.5]
    mean = G.mean(axis=0)
    sigma2 = gradient_variance(G)
    assert sigma2 == pytest.approx(np.mean(np.sum((G - mean) ** 2, axis=1)), rel=1e-14)
    for B in (1, 2, 3, 7):
        subsets = np.array(list(itertools.combinations(range(7), B)))  # every batch of B distinct examples
        exact = np.mean(np.sum((G[subsets].mean(axis=1) - mean) ** 2, axis=1))
        assert exact == pytest.approx(predicted_variance(sigma2, 7, B), rel=1e-12, abs=1e-15)
        if B <= 3:
            draws = np.array(list(itertools.product(range(7), repeat=B)))  # every ordered draw with replacement
            exact = np.mean(np.sum((G[draws].mean(axis=1) - mean) ** 2, axis=1))
            assert exact == pytest.approx(predicted_variance(sigma2, 7, B, replace=True), rel=1e-12)
    assert predicted_variance(sigma2, 7, 7) == 0.0


def test_full_batch_has_no_noise_and_the_measurement_is_the_same_on_every_backend(backend, problem):
    ls, _, _ = problem
    G = ls.per_example_grads(asarray(np.zeros(2)))
    noise = gradient_noise(G, [1, 50, 2000], n_draws=2000, seed=4)
    assert noise.measured[2] < 1e-20 and noise.predicted[2] == 0.0
    reference = gradient_noise(PROBLEM.per_example_grads(np.zeros(2)), [1, 50, 2000], n_draws=2000, seed=4)
    np.testing.assert_allclose(noise.measured[:2], reference.measured[:2], rtol=1e-10)


def test_noise_functions_reject_bad_input():
    G = PROBLEM.per_example_grads(np.zeros(2))
    with pytest.raises(ValueError, match="batch_size must be integers >= 1 and at most n_samples=2000"):
        predicted_variance(1.0, 2000, 2001)
    with pytest.raises(ValueError, match="batch_size must be integers >= 1"):
        predicted_variance(1.0, 2000, 0, replace=True)
    assert predicted_variance(1.0, 2000, 4000, replace=True) == 1 / 4000
    with pytest.raises(ValueError, match="n_draws"):
        gradient_noise(G, 4, n_draws=0)
    with pytest.raises(ValueError, match="n_samples >= 2"):
        gradient_variance(np.zeros((1, 3)))
    with pytest.raises(TypeError, match="per_example_grads must be an array"):
        gradient_variance([[1.0, 2.0]])
    assert gradient_variance(np.array([1.0, 3.0])) == 1.0  # one parameter: a 1-D array is fine
