r"""Backtracking (Armijo) line search, against a closed form, torch and the theory of L-smooth functions.

Independent sources:

- **a closed form** on quadratics: for :math:`J(\theta) = \frac12\theta^\top A\theta - b^\top\theta` the decrease
  along :math:`-g` is exactly :math:`\eta\lVert g\rVert^2 - \frac{\eta^2}{2} g^\top A g`, so Armijo's test passes
  exactly for :math:`\eta \le \eta_{\max} = 2(1-c)\lVert g\rVert^2 / g^\top A g`, and backtracking returns the first
  :math:`\eta_0\rho^k` at or below it;
- **torch**: the logistic loss and its gradient computed by torch's autograd, the candidates
  :math:`\eta_0\rho^k` tested one by one in torch;
- **theory**: the descent lemma's guarantee :math:`\eta \ge \min(\eta_0, \rho\cdot 2(1-c)/L)` and the
  :math:`O(1/t)` bound of backtracking gradient descent on a convex, not strongly convex problem.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import require

from gdcourse import backend as B
from gdcourse.line_search import ArmijoStep, armijo_step, backtracking_descent


def _quadratic(rng, p=4, low=0.05, high=3.0, rank=None):
    """``(f, grad, A, b)`` for J(θ) = ½θᵀAθ − bᵀθ with eigenvalues in [low, high] (``rank`` of them non-zero)."""
    q, _ = np.linalg.qr(rng.normal(size=(p, p)))
    eig = np.sort(rng.uniform(low, high, size=p))[::-1]
    eig[0] = high
    if rank is not None:
        eig[rank:] = 0.0
    A = (q * eig) @ q.T
    A = (A + A.T) / 2
    b = A @ rng.normal(size=p)  # in the range of A: a minimiser exists

    def f(theta):
        return 0.5 * theta @ A @ theta - b @ theta

    def grad(theta):
        return A @ theta - b

    return f, grad, A, b


def _armijo_holds(f, grad, theta, eta, c):
    g = grad(theta)
    return f(theta - eta * g) <= f(theta) - c * eta * (g @ g)


# --- the search ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(20))
def test_the_step_passes_armijo_and_the_step_before_it_fails(seed):
    rng = np.random.default_rng(seed)
    f, grad, _, _ = _quadratic(rng)
    theta = rng.normal(size=4) * 3
    eta0, shrink, c = float(rng.uniform(1, 50)), float(rng.uniform(0.2, 0.9)), float(rng.uniform(1e-4, 0.9))
    step = armijo_step(f, grad, theta, eta0=eta0, shrink=shrink, c=c)
    assert isinstance(step, ArmijoStep)
    assert _armijo_holds(f, grad, theta, step.eta, c)
    assert step.eta == pytest.approx(eta0 * shrink**step.shrinks, rel=1e-12)
    if step.eta < eta0:
        assert not _armijo_holds(f, grad, theta, step.eta / shrink, c)
    assert step.n_evals == step.shrinks + 2
    np.testing.assert_allclose(step.theta, theta - step.eta * grad(theta))
    assert step.value == pytest.approx(f(step.theta))


@pytest.mark.parametrize("seed", range(30))
def test_on_a_quadratic_the_step_is_the_closed_form(seed):
    rng = np.random.default_rng(100 + seed)
    f, grad, A, _ = _quadratic(rng, p=5, high=float(rng.uniform(0.5, 20)))
    theta = rng.normal(size=5) * 2
    eta0, shrink, c = float(rng.uniform(0.5, 30)), float(rng.uniform(0.2, 0.9)), float(rng.uniform(1e-4, 0.9))
    g = grad(theta)
    eta_max = 2 * (1 - c) * (g @ g) / (g @ A @ g)  # Armijo holds exactly for 0 < η ≤ η_max
    k = max(0, math.ceil(math.log(eta0 / eta_max) / math.log(1 / shrink)))
    candidates = [eta0 * shrink**j for j in range(max(k - 1, 0), k + 1)]
    assert all(abs(eta / eta_max - 1) > 1e-9 for eta in candidates), "a candidate on the boundary: another seed"
    step = armijo_step(f, grad, theta, eta0=eta0, shrink=shrink, c=c)
    assert step.shrinks == k
    assert step.eta == pytest.approx(eta0 * shrink**k, rel=1e-12)


@pytest.mark.parametrize("seed", range(20))
def test_the_step_is_at_least_what_the_descent_lemma_guarantees(seed):
    """J L-smooth: Armijo holds for every η ≤ 2(1 − c)/L, so η ≥ min(η₀, ρ·2(1 − c)/L), after few reductions."""
    rng = np.random.default_rng(200 + seed)
    L = float(rng.uniform(0.1, 100))
    f, grad, _, _ = _quadratic(rng, p=6, low=L / 1000, high=L)
    eta0, shrink, c = float(rng.uniform(0.01, 100)) / L, float(rng.uniform(0.1, 0.9)), float(rng.uniform(1e-4, 0.99))
    guaranteed = min(eta0, shrink * 2 * (1 - c) / L)
    most_shrinks = max(0, math.ceil(math.log(eta0 * L / (2 * (1 - c))) / math.log(1 / shrink)))
    for _ in range(5):
        step = armijo_step(f, grad, rng.normal(size=6) * 5, eta0=eta0, shrink=shrink, c=c)
        assert step.eta >= guaranteed * (1 - 1e-12)
        assert step.shrinks <= most_shrinks


def test_the_bound_is_attained_along_the_steepest_direction():
    """With g along the top eigenvector, η_max = 2(1 − c)/L exactly: the guarantee cannot be improved."""
    A = np.diag([4.0, 1.0])
    c, shrink = 0.25, 0.5
    step = armijo_step(
        lambda th: 0.5 * th @ A @ th, lambda th: A @ th, np.array([1.0, 0.0]), eta0=1.0, shrink=shrink, c=c
    )
    assert 2 * (1 - c) / 4 == 0.375
    assert step.eta == 0.25 and step.shrinks == 2  # 1 and 0.5 exceed 0.375, 0.25 does not


def test_against_torch_autograd_on_the_logistic_loss():
    torch = require("torch")
    rng = np.random.default_rng(7)
    X, y = rng.normal(size=(40, 3)), (rng.uniform(size=40) < 0.5).astype(float)

    def f(w):
        z = X @ w
        return float(np.mean(np.logaddexp(0.0, z) - y * z))

    def grad(w):
        return X.T @ (1 / (1 + np.exp(-(X @ w))) - y) / len(y)

    Xt, yt = torch.tensor(X), torch.tensor(y)

    def torch_loss(w):
        return torch.nn.functional.binary_cross_entropy_with_logits(Xt @ w, yt)

    for trial in range(10):
        w = rng.normal(size=3) * 3
        wt = torch.tensor(w, requires_grad=True)
        value = torch_loss(wt)
        (g,) = torch.autograd.grad(value, wt)
        with torch.no_grad():
            eta = next(
                e for e in (8.0 * 0.6**k for k in range(60)) if torch_loss(wt - e * g) <= value - 0.3 * e * (g @ g)
            )
        step = armijo_step(f, grad, w, eta0=8.0, shrink=0.6, c=0.3)
        assert step.eta == pytest.approx(eta, rel=1e-12), trial


def test_a_trial_that_overflows_is_rejected_not_fatal():
    def f(x):
        return float(np.sum(np.exp(x) + np.exp(-x)))

    def grad(x):
        return np.exp(x) - np.exp(-x)

    with np.errstate(over="ignore"):
        step = armijo_step(f, grad, np.array([1.0]), eta0=1e6)
    assert math.isfinite(step.value) and step.value < f(np.array([1.0]))
    assert step.shrinks > 10


def test_a_wrong_gradient_makes_the_search_fail_with_a_clear_error():
    A = np.diag([2.0, 1.0])
    with pytest.raises(RuntimeError, match="max_halvings=10"):
        armijo_step(lambda th: 0.5 * th @ A @ th, lambda th: -A @ th, np.array([1.0, 1.0]), max_halvings=10)


def test_at_a_stationary_point_the_first_step_is_accepted():
    step = armijo_step(lambda th: float(th @ th), lambda th: 2 * th, np.zeros(3), eta0=2.0)
    assert step.eta == 2.0 and step.shrinks == 0
    np.testing.assert_array_equal(step.theta, np.zeros(3))


def test_the_search_runs_on_every_backend(backend, xp, to_backend):
    A_host = np.diag([3.0, 0.5])
    A = to_backend(A_host)

    def f(th):
        return 0.5 * xp.sum(th * (A @ th))

    theta = to_backend(np.array([1.0, -2.0]))
    step = armijo_step(f, lambda th: A @ th, theta, eta0=4.0)
    reference = armijo_step(lambda th: 0.5 * th @ A_host @ th, lambda th: A_host @ th, np.array([1.0, -2.0]), eta0=4.0)
    assert step.eta == reference.eta
    np.testing.assert_allclose(B.to_numpy(step.theta), reference.theta)
    run = backtracking_descent(f, lambda th: A @ th, theta, 5, eta0=4.0)
    assert run.n_iter == 5 and run.losses[-1] < run.losses[0]


# --- the descent loop ---------------------------------------------------------------------------------


def test_the_descent_follows_the_closed_form_steps_and_counts_every_evaluation():
    rng = np.random.default_rng(3)
    f, grad, A, _ = _quadratic(rng, p=3, high=4.0)
    calls = {"f": 0, "grad": 0}

    def counted_f(theta):
        calls["f"] += 1
        return f(theta)

    def counted_grad(theta):
        calls["grad"] += 1
        return grad(theta)

    theta0 = rng.normal(size=3)
    run = backtracking_descent(counted_f, counted_grad, theta0, 25, eta0=2.0, shrink=0.5, c=0.1)
    theta = theta0.copy()
    for t in range(25):  # the closed-form search, written out
        g = grad(theta)
        eta_max = 2 * 0.9 * (g @ g) / (g @ A @ g)
        eta = 2.0 * 0.5 ** max(0, math.ceil(math.log2(2.0 / eta_max)))
        assert run.lrs[t] == pytest.approx(eta, rel=1e-12)
        theta = theta - eta * g
        np.testing.assert_allclose(run.path[t + 1], theta, rtol=1e-12, atol=1e-14)
    assert run.stop_reason == "max_iter" and run.n_iter == 25
    assert run.extras["f_evals"][-1] == calls["f"] and calls["grad"] == 26
    assert run.extras["f_evals"][0] == 1
    np.testing.assert_array_equal(np.diff(run.extras["f_evals"]), run.extras["shrinks"] + 1)
    np.testing.assert_allclose(run.losses, [f(p) for p in run.path])
    assert np.all(np.diff(run.losses) < 0)


def test_descent_with_backtracking_meets_the_one_over_t_bound_without_knowing_L():
    """Convex, L-smooth, not strongly convex (a rank-deficient quadratic); c = ½ and ρ = ½ from η₀ ≥ 1/L give
    J(θ_t) − J* ≤ ‖θ₀ − θ*‖² / (2 t η_min) with η_min = min(η₀, ρ/L) (Vandenberghe, EE236C lecture notes,
    *Gradient method*: the fixed-step proof with the accepted step, which is at least η_min)."""
    rng = np.random.default_rng(11)
    f, grad, A, b = _quadratic(rng, p=8, low=1e-3, high=5.0, rank=5)
    L = 5.0
    theta0 = rng.normal(size=8) * 4
    pinv = np.linalg.pinv(A)
    theta_star = pinv @ b + (np.eye(8) - pinv @ A) @ theta0  # the minimiser nearest θ₀
    J_star = f(theta_star)
    assert np.linalg.norm(grad(theta_star)) < 1e-10
    run = backtracking_descent(f, grad, theta0, 300, eta0=10.0, shrink=0.5, c=0.5, tol_grad=1e-5)
    t = np.arange(1, run.n_iter + 1)
    eta_min = min(10.0, 0.5 / L)
    bound = np.sum((theta0 - theta_star) ** 2) / (2 * t * eta_min)
    assert run.stop_reason == "tol_grad" and run.n_iter > 20
    assert np.all(run.losses[1:] - J_star <= bound)
    assert np.all(run.lrs >= eta_min)  # in exact arithmetic; see the next test for rounding


def test_past_the_rounding_error_of_J_the_run_stays_finite_and_never_climbs():
    """Armijo compares J values that differ by cη‖g‖²; below the rounding error of J steps are rejected that exact
    arithmetic accepts (the module docstring).  A run pushed far past that point must still end cleanly."""
    rng = np.random.default_rng(11)
    f, grad, _, _ = _quadratic(rng, p=8, low=1e-3, high=5.0, rank=5)
    run = backtracking_descent(f, grad, rng.normal(size=8) * 4, 300, eta0=10.0, shrink=0.5, c=0.5)
    assert run.stop_reason in ("max_iter", "no_decrease")
    assert np.all(np.isfinite(run.losses)) and np.all(np.diff(run.losses) <= 0)
    assert run.lrs.min() < min(10.0, 0.5 / 5.0)  # rounding did reject steps the guarantee covers


def test_on_a_quartic_the_gap_is_within_the_bound_of_the_smallest_accepted_step():
    """J(θ) = ¼Σ(aᵢᵀθ)⁴ has zero curvature at its minimum 0 and no global L.  With c = ½ every step satisfies
    J(θ_{t+1}) − J* ≤ (‖θ_t − θ*‖² − ‖θ_{t+1} − θ*‖²)/(2η_t), so J(θ_t) − J* ≤ ‖θ₀ − θ*‖²/(2 t min_{s<t} η_s)."""
    rng = np.random.default_rng(5)
    M = rng.normal(size=(6, 3))

    def f(th):
        return 0.25 * np.sum((M @ th) ** 4)

    def grad(th):
        return M.T @ (M @ th) ** 3

    theta0 = rng.normal(size=3)
    run = backtracking_descent(f, grad, theta0, 400, eta0=1.0, shrink=0.5, c=0.5)
    t = np.arange(1, 401)
    bound = np.sum(theta0**2) / (2 * t * np.minimum.accumulate(run.lrs))
    assert np.all(run.losses[1:] <= bound) and np.all(np.diff(run.losses) < 0)
    assert run.losses[-1] * 400 < run.losses[40] * 40  # the gap falls faster than 1/t here


def test_the_descent_stops_on_a_small_gradient_and_on_a_failed_search():
    A = np.diag([2.0, 1.0])

    def f(th):
        return 0.5 * th @ A @ th

    run = backtracking_descent(f, lambda th: A @ th, np.array([1.0, 1.0]), 1000, tol_grad=1e-8)
    assert run.stop_reason == "tol_grad" and run.grad_norms[-1] <= 1e-8 and run.n_iter < 1000
    wrong = backtracking_descent(f, lambda th: -A @ th, np.array([1.0, 1.0]), 10, max_halvings=5)
    assert wrong.stop_reason == "no_decrease" and wrong.n_iter == 0
    assert "Armijo" in wrong.message
    none = backtracking_descent(f, lambda th: A @ th, np.array([1.0, 1.0]), 0)
    assert none.n_iter == 0 and none.extras["f_evals"].tolist() == [1]


# --- bad input ----------------------------------------------------------------------------------------


def _bowl():
    return (lambda th: float(th @ th)), (lambda th: 2 * th), np.array([1.0, 2.0])


@pytest.mark.parametrize(
    "options, error, name",
    [
        ({"eta0": 0.0}, ValueError, "eta0"),
        ({"eta0": -1.0}, ValueError, "eta0"),
        ({"eta0": math.nan}, ValueError, "eta0"),
        ({"eta0": math.inf}, ValueError, "eta0"),
        ({"eta0": True}, TypeError, "eta0"),
        ({"eta0": "1"}, TypeError, "eta0"),
        ({"shrink": 0.0}, ValueError, "shrink"),
        ({"shrink": 1.0}, ValueError, "shrink"),
        ({"shrink": 1.5}, ValueError, "shrink"),
        ({"shrink": -0.5}, ValueError, "shrink"),
        ({"shrink": math.nan}, ValueError, "shrink"),
        ({"shrink": None}, TypeError, "shrink"),
        ({"c": 0.0}, ValueError, "c must"),
        ({"c": 1.0}, ValueError, "c must"),
        ({"c": 2.0}, ValueError, "c must"),
        ({"c": math.nan}, ValueError, "c must"),
        ({"max_halvings": -1}, ValueError, "max_halvings"),
        ({"max_halvings": 2.5}, ValueError, "max_halvings"),
    ],
)
def test_bad_options_raise_errors_naming_the_argument(options, error, name):
    f, grad, theta = _bowl()
    with pytest.raises(error, match=name):
        armijo_step(f, grad, theta, **options)
    with pytest.raises(error, match=name):
        backtracking_descent(f, grad, theta, 5, **options)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_non_finite_cost_at_the_start_is_refused(bad):
    _, grad, theta = _bowl()
    with pytest.raises(ValueError, match=r"f\(theta\)"):
        armijo_step(lambda th: bad, grad, theta)
    with pytest.raises(ValueError, match=r"f\(theta\)"):
        backtracking_descent(lambda th: bad, grad, theta, 3)


def test_a_bad_gradient_theta_or_function_is_refused():
    f, grad, theta = _bowl()
    with pytest.raises(ValueError, match="grad"):
        armijo_step(f, lambda th: np.array([np.nan, 1.0]), theta)
    with pytest.raises(ValueError, match="grad"):
        armijo_step(f, lambda th: np.ones(3), theta)
    with pytest.raises(TypeError, match="theta"):
        armijo_step(f, grad, [1.0, 2.0])
    with pytest.raises(TypeError, match="f must"):
        armijo_step(None, grad, theta)
    with pytest.raises(TypeError, match="grad must"):
        armijo_step(f, 3.0, theta)
    with pytest.raises(ValueError, match="steps"):
        backtracking_descent(f, grad, theta, -1)
    with pytest.raises(ValueError, match="tol_grad"):
        backtracking_descent(f, grad, theta, 3, tol_grad=-1.0)
