"""Newton's method and conjugate gradient, the reference points of notebook 06, on every backend."""

from __future__ import annotations

import numpy as np
import pytest

from gdcourse import backend as B
from gdcourse import functions as F
from gdcourse.descent import History, conjugate_gradient, minimize, newton


def spd(n, kappa, seed, distinct=None, spacing="linear"):
    """A random SPD matrix with eigenvalues from 1 to kappa (evenly or geometrically spaced, or ``distinct`` values)."""
    gen = np.random.default_rng(seed)
    q, _ = np.linalg.qr(gen.normal(size=(n, n)))
    space = np.linspace if spacing == "linear" else np.geomspace
    eigs = space(1.0, kappa, n if distinct is None else distinct)
    if distinct is not None:
        eigs = eigs[np.arange(n) % distinct]
    a = (q * eigs) @ q.T
    return (a + a.T) / 2, gen.normal(size=n)


# --------------------------------------------------------------------------------------------
# Newton
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kappa", [1.0, 1000.0, 1e6])
def test_newton_solves_a_quadratic_in_one_step(backend, kappa):
    quad = F.Quadratic(kappa=kappa, L=3.0, angle=0.8, center=(1.0, -2.0))
    history = newton(quad, B.asarray([40.0, 25.0]))
    assert isinstance(history, History)
    assert history.n_iter == 1 and history.stop_reason == "tol_grad"
    np.testing.assert_allclose(history.path[1], quad.center, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(B.to_numpy(history.theta), quad.center, rtol=1e-9, atol=1e-9)
    assert np.isnan(history.lrs).all() and history.label == "Newton"


def test_newton_solves_an_n_dimensional_quadratic_in_one_step(backend):
    quad = F.Quadratic.from_eigenvalues(np.geomspace(1e-3, 10.0, 12), rotation_seed=3, center=np.arange(12.0))
    history = newton(quad, B.asarray(np.zeros(12)), max_iter=5, tol_grad=1e-8)
    assert history.n_iter == 1
    np.testing.assert_allclose(history.path[-1], quad.center, rtol=1e-8, atol=1e-9)


def test_newton_converges_quadratically_on_rosenbrock_near_the_minimum(backend):
    rosen = F.Rosenbrock()
    history = newton(rosen, B.asarray([0.9, 0.8]), max_iter=20, tol_grad=0.0)
    errors = np.linalg.norm(history.path - rosen.global_minimum, axis=1)
    positive = errors[errors > 0]
    assert errors[-1] <= 1e-15 and history.n_iter <= 8  # GD needs thousands of steps here (below)
    # quadratic convergence: e_{t+1} <= C e_t^2 with a moderate C, so the number of correct digits doubles
    ratios = positive[1:] / positive[:-1] ** 2
    assert np.all(ratios < 50), ratios
    last = positive[-3:]
    assert last[1] / last[0] < 1e-2 and last[2] / last[1] < 1e-5  # superlinear: the ratio itself goes to 0


def test_gd_is_slow_where_newton_is_fast():
    rosen = F.Rosenbrock()
    gd = minimize(rosen, np.array([0.9, 0.8]), lr=1e-3, max_iter=2000)
    assert np.linalg.norm(gd.theta - rosen.global_minimum) > 1e-3


def test_newton_keeps_float32(backend):
    quad = F.Quadratic(kappa=10.0, angle=0.3)
    history = newton(quad, B.asarray([1.0, 2.0], dtype="float32"), tol_grad=1e-5)
    assert B.dtype_of(history.theta) == "float32"
    np.testing.assert_allclose(history.path[-1], quad.center, atol=1e-5)


def test_newton_heads_for_a_saddle_point():
    """The stationary point of the local model is the saddle itself: Newton jumps there; GD runs away."""
    saddle = F.Saddle()
    history = newton(saddle, np.array(saddle.start))
    assert history.n_iter == 1
    np.testing.assert_allclose(history.path[1], saddle.saddle_points[0], atol=1e-15)


class SingularBowl:
    """J(θ) = θ₁², whose Hessian diag(2, 0) cannot be inverted."""

    def value(self, theta):
        return theta[0] ** 2

    def grad(self, theta):
        xp = B.array_namespace(theta)
        return xp.stack([2 * theta[0], 0 * theta[1]])

    def hessian(self, theta):
        xp = B.array_namespace(theta)
        return xp.stack([xp.stack([2 + 0 * theta[0], 0 * theta[0]]), xp.stack([0 * theta[0], 0 * theta[0]])])


def test_newton_reports_a_singular_hessian(backend):
    with pytest.raises(ValueError, match=r"Newton step 1: the Hessian at theta is singular"):
        newton(SingularBowl(), B.asarray([1.0, 1.0]))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"max_iter": -1}, ValueError, "max_iter"),
        ({"tol_grad": -1.0}, ValueError, "tol_grad"),
        ({"on_divergence": "ignore"}, ValueError, "on_divergence"),
    ],
)
def test_newton_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        newton(F.Quadratic(), np.array([1.0, 1.0]), **kwargs)


def test_newton_needs_a_hessian():
    class NoHessian:
        def value(self, theta):
            return theta @ theta

        def grad(self, theta):
            return 2 * theta

    with pytest.raises(TypeError, match="hessian"):
        newton(NoHessian(), np.array([1.0, 1.0]))


# --------------------------------------------------------------------------------------------
# Conjugate gradient
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "kappa", "seed"), [(2, 50.0, 0), (5, 10.0, 1), (10, 100.0, 2), (20, 30.0, 3)])
def test_cg_solves_an_spd_system_in_at_most_n_steps(backend, n, kappa, seed):
    a, b = spd(n, kappa, seed)
    expected = np.linalg.solve(a, b)
    history = conjugate_gradient(B.asarray(a), B.asarray(b), tol=1e-10)
    assert history.converged and history.n_iter <= n, history.message
    np.testing.assert_allclose(B.to_numpy(history.theta), expected, rtol=1e-8, atol=1e-10)
    # exactly n steps (the default budget) reach the solution to rounding
    full = conjugate_gradient(B.asarray(a), B.asarray(b), tol=0.0)
    assert full.n_iter == n
    np.testing.assert_allclose(B.to_numpy(full.theta), expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(full.path[-1], B.to_numpy(full.theta))
    assert full.grad_norms[-2] > 1e-6 * full.grad_norms[0]  # ... and not before: the last step does real work


def test_cg_in_floating_point_can_need_a_few_steps_more_than_n():
    """With clustered (geometrically spaced) eigenvalues rounding spoils finite termination a little."""
    n = 20
    a, b = spd(n, 30.0, seed=3, spacing="geometric")
    history = conjugate_gradient(a, b, max_iter=n + 5, tol=0.0)
    relative = history.grad_norms / np.linalg.norm(b)
    assert 1e-9 < relative[n] < 1e-4  # exact arithmetic would give 0 here
    assert relative[n + 3] < 1e-12
    np.testing.assert_allclose(history.theta, np.linalg.solve(a, b), rtol=1e-10)


def test_cg_needs_as_many_steps_as_distinct_eigenvalues(backend):
    a, b = spd(12, 100.0, seed=4, distinct=3)
    history = conjugate_gradient(B.asarray(a), B.asarray(b), tol=1e-10)
    assert history.n_iter == 3, history.grad_norms
    np.testing.assert_allclose(B.to_numpy(history.theta), np.linalg.solve(a, b), rtol=1e-9)


def test_cg_directions_are_conjugate_and_the_error_falls_monotonically():
    a, b = spd(8, 20.0, seed=5)
    history = conjugate_gradient(a, b, tol=0.0)
    steps = np.diff(history.path, axis=0)  # α_t p_t
    gram = steps @ a @ steps.T
    off_diagonal = gram - np.diag(np.diag(gram))
    assert np.abs(off_diagonal).max() < 1e-8 * np.abs(np.diag(gram)).max()
    x_star = np.linalg.solve(a, b)
    errors = history.path - x_star
    a_norms = np.sqrt(np.einsum("ti,ij,tj->t", errors, a, errors))
    assert np.all(np.diff(a_norms) < 0)
    # the classical bound ‖e_t‖_A <= 2 ((√κ-1)/(√κ+1))^t ‖e_0‖_A
    rho = (np.sqrt(20.0) - 1) / (np.sqrt(20.0) + 1)
    assert np.all(a_norms <= 2 * rho ** np.arange(len(a_norms)) * a_norms[0] * (1 + 1e-9))
    # the recorded residual norms are ‖b - A x_t‖ and the losses ½xᵀAx - bᵀx
    np.testing.assert_allclose(history.grad_norms, np.linalg.norm(b - history.path @ a, axis=1), rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(
        history.losses, 0.5 * np.einsum("ti,ij,tj->t", history.path, a, history.path) - history.path @ b, rtol=1e-12
    )
    assert len(history.lrs) == len(history.extras["betas"]) == history.n_iter
    assert np.all(history.lrs > 0)


def test_cg_matches_newton_and_the_minimum_of_a_quadratic():
    quad = F.Quadratic.from_eigenvalues([9.0, 4.0, 1.0], rotation_seed=1, center=[1.0, 2.0, 3.0])
    b = quad.A @ quad.center  # J(x) = ½(x-c)ᵀA(x-c) = ½xᵀAx - (Ac)ᵀx + const
    history = conjugate_gradient(np.asarray(quad.A), b)
    np.testing.assert_allclose(history.theta, quad.center, rtol=1e-10)
    np.testing.assert_allclose(history.losses - history.losses[-1], quad.value(history.path.T), atol=1e-12)


def test_cg_starts_from_x0_and_keeps_float32(backend):
    a, b = spd(4, 5.0, seed=6)
    history = conjugate_gradient(B.asarray(a, dtype="float32"), B.asarray(b, dtype="float32"),
                                 x0=B.asarray(np.ones(4), dtype="float32"), tol=1e-5)
    np.testing.assert_allclose(history.path[0], np.ones(4))
    assert B.dtype_of(history.theta) == "float32"
    np.testing.assert_allclose(B.to_numpy(history.theta), np.linalg.solve(a, b), rtol=1e-4)


def test_cg_rejects_an_indefinite_matrix(backend):
    a = B.asarray(np.diag([1.0, -1.0]))
    with pytest.raises(ValueError, match="not positive definite"):
        conjugate_gradient(a, B.asarray([0.0, 1.0]))


@pytest.mark.parametrize(
    ("a", "b", "kwargs", "match"),
    [
        (np.ones((2, 3)), np.ones(2), {}, "square"),
        (np.eye(2), np.ones(3), {}, r"b must have shape \(2,\)"),
        (np.eye(2), np.ones(2), {"x0": np.ones(3)}, "x0"),
        (np.eye(2), np.ones(2), {"max_iter": -1}, "max_iter"),
        (np.eye(2), np.ones(2), {"tol": -1.0}, "tol"),
    ],
)
def test_cg_rejects_bad_input(a, b, kwargs, match):
    with pytest.raises(ValueError, match=match):
        conjugate_gradient(a, b, **kwargs)


def test_cg_stops_at_once_when_x0_solves_the_system():
    history = conjugate_gradient(np.eye(3), np.zeros(3))
    assert history.n_iter == 0 and history.converged
