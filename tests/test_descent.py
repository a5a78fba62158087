"""The descent loop: stopping rules, divergence detection, theory, bad input."""

import numpy as np
import pytest

from gdcourse import backend as B
from gdcourse import optim
from gdcourse.descent import DivergenceError, minimize


class Bowl:
    """J(θ) = ½ θᵀ diag(L, μ) θ, written independently of gdcourse.functions."""

    def __init__(self, L=4.0, mu=1.0):
        self.L, self.mu = L, mu

    def _diag(self, theta):
        xp = B.array_namespace(theta)
        from array_api_compat import device

        return xp.asarray([self.L, self.mu], dtype=theta.dtype, device=device(theta))

    def value(self, theta):
        xp = B.array_namespace(theta)
        return 0.5 * xp.sum(self._diag(theta) * theta * theta)

    def grad(self, theta):
        return self._diag(theta) * theta


def test_matches_a_hand_written_loop(backend):
    bowl = Bowl()
    hist = minimize(bowl, B.asarray([1.0, -2.0]), lr=0.1, max_iter=25)
    theta = np.array([1.0, -2.0])
    expected = [theta]
    for _ in range(25):
        theta = theta - 0.1 * np.array([4.0, 1.0]) * theta
        expected.append(theta)
    np.testing.assert_allclose(hist.path, np.array(expected), rtol=1e-12)
    np.testing.assert_allclose(B.to_numpy(hist.theta), expected[-1], rtol=1e-12)
    assert hist.n_iter == 25 and hist.stop_reason == "max_iter"
    np.testing.assert_allclose(hist.losses, [0.5 * (4 * p[0] ** 2 + p[1] ** 2) for p in expected], rtol=1e-12)


def test_contraction_rate_matches_theory():
    """GD with η = 2/(L+μ) on a quadratic contracts the error by exactly (κ-1)/(κ+1) per step."""
    L, mu = 10.0, 1.0
    kappa = L / mu
    hist = minimize(Bowl(L, mu), B.asarray([1.0, 1.0]), lr=2 / (L + mu), max_iter=30)
    norms = np.linalg.norm(hist.path, axis=1)
    np.testing.assert_allclose(norms[1:] / norms[:-1], (kappa - 1) / (kappa + 1), rtol=1e-10)


@pytest.mark.parametrize("factor, diverges", [(1.9, False), (2.1, True)])
def test_two_over_L_is_the_stability_threshold(factor, diverges):
    L = 4.0
    run = lambda: minimize(Bowl(L, 1.0), B.asarray([1.0, 1.0]), lr=factor / L, max_iter=2000)  # noqa: E731
    if diverges:
        with pytest.raises(DivergenceError):
            run()
    else:
        assert run().final_loss < 1e-20


def test_divergence_message_names_step_and_suggests_smaller_lr(backend):
    with pytest.raises(DivergenceError) as info:
        minimize(Bowl(), B.asarray([1.0, 1.0]), lr=1.0, max_iter=1000)
    message = str(info.value)
    step = info.value.history.n_iter
    assert f"step {step}" in message and "smaller learning rate" in message
    # J0 = 2.5; with η = 1 the first coordinate is multiplied by 1 - ηL = -3 and the second set to 0,
    # so J_k = 2 * 9**k, which first exceeds the bound 1e6 * J0 = 2.5e6 at k = 7.
    assert step == 7
    assert info.value.history.stop_reason == "diverged"


def test_divergence_to_nan_is_caught_without_warnings(recwarn):
    def value(theta):
        return B.array_namespace(theta).sum(theta**4)

    def grad(theta):
        return 4 * theta**3

    hist = minimize(value, B.asarray([10.0]), grad=grad, lr=1.0, on_divergence="stop", divergence_factor=1e300)
    assert hist.stop_reason == "diverged"
    assert "step 4" in hist.message and "grew from 1e+04 to " in hist.message and "then became inf" in hist.message
    assert "smaller learning rate" in hist.message
    assert not np.isfinite(hist.losses[-1])
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_stop_on_gradient_norm():
    hist = minimize(Bowl(), B.asarray([1.0, 1.0]), lr=0.2, tol_grad=1e-6, max_iter=10_000)
    assert hist.stop_reason == "tol_grad" and hist.converged
    assert hist.grad_norms[-1] <= 1e-6 < hist.grad_norms[-2]


def test_stop_on_loss_change():
    hist = minimize(Bowl(), B.asarray([1.0, 1.0]), lr=0.01, tol_loss=1e-4, max_iter=10_000)
    assert hist.stop_reason == "tol_loss"
    assert abs(hist.losses[-1] - hist.losses[-2]) <= 1e-4 < abs(hist.losses[-2] - hist.losses[-3])


def test_already_at_minimum_takes_no_step():
    hist = minimize(Bowl(), B.asarray([0.0, 0.0]), lr=0.1, tol_grad=1e-12)
    assert hist.n_iter == 0 and hist.stop_reason == "tol_grad"


def test_schedule_is_called_per_step_and_recorded():
    hist = minimize(Bowl(), B.asarray([1.0, 1.0]), lr=lambda t: 0.1 / (1 + t), max_iter=5)
    np.testing.assert_allclose(hist.lrs, [0.1, 0.05, 0.1 / 3, 0.025, 0.02])
    theta = np.array([1.0, 1.0])
    for t in range(5):
        theta = theta - 0.1 / (1 + t) * np.array([4.0, 1.0]) * theta
    np.testing.assert_allclose(hist.path[-1], theta)


def test_float32_stays_float32(backend):
    hist = minimize(Bowl(), B.asarray([1.0, 1.0], dtype="float32"), lr=0.1, max_iter=3)
    assert B.dtype_of(hist.theta) == "float32"


def test_custom_optimizer_plugs_in():
    class HalfStep:
        lr = 0.05

        def init(self, params):
            return 0

        def step(self, params, grads, state):
            return params - 0.05 * grads, state + 1

    a = minimize(Bowl(), B.asarray([1.0, 1.0]), optimizer=HalfStep(), max_iter=10)
    b = minimize(Bowl(), B.asarray([1.0, 1.0]), lr=0.05, max_iter=10)
    np.testing.assert_array_equal(a.path, b.path)
    c = minimize(Bowl(), B.asarray([1.0, 1.0]), optimizer=optim.gd(0.05), max_iter=10)
    np.testing.assert_array_equal(c.path, b.path)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"lr": 0.0}, "lr must be a positive"),
        ({"lr": -1.0}, "lr must be a positive"),
        ({"lr": float("nan")}, "lr must be a positive"),
        ({"lr": lambda t: 0.1 if t < 2 else 0.0}, "lr schedule .* returned 0.0 at step 2; expected a positive finite"),
        ({}, "exactly one of lr"),
        ({"lr": 0.1, "optimizer": optim.gd(0.1)}, "exactly one of lr"),
        ({"lr": 0.1, "max_iter": -1}, "max_iter"),
        ({"lr": 0.1, "tol_grad": -1.0}, "tol_grad"),
        ({"lr": 0.1, "on_divergence": "ignore"}, "on_divergence"),
    ],
)
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        minimize(Bowl(), B.asarray([1.0, 1.0]), max_iter=kwargs.pop("max_iter", 5), **kwargs)


@pytest.mark.parametrize(
    "theta0, error, match",
    [
        ([1.0, 1.0], TypeError, "theta0 must be an array"),
        (np.ones((2, 1)), ValueError, "theta0 must be a 1-D"),
        (np.array([1, 1]), TypeError, "floating dtype"),
        (np.array([1.0, np.nan]), ValueError, "NaN"),
    ],
)
def test_bad_theta0_is_named(theta0, error, match):
    with pytest.raises(error, match=match):
        minimize(Bowl(), theta0, lr=0.1)


def test_objective_without_gradient_is_named():
    with pytest.raises(TypeError, match="grad"):
        minimize(lambda theta: theta @ theta, np.array([1.0]), lr=0.1)


def test_gdcourse_optimizers_plug_in_including_lookahead_nesterov():
    """Sutskever's look-ahead Nesterov (gradient at θ+βv) run through the loop equals torch's form."""
    from gdcourse import optim

    plain = minimize(Bowl(), B.asarray([1.0, 1.0]), optimizer=optim.gd(lr=0.05), max_iter=10)
    np.testing.assert_allclose(plain.path, minimize(Bowl(), B.asarray([1.0, 1.0]), lr=0.05, max_iter=10).path)
    np.testing.assert_allclose(plain.lrs, 0.05)
    lookahead = minimize(Bowl(), B.asarray([1.0, 1.0]), optimizer=optim.nesterov(lr=0.05, momentum=0.8), max_iter=30)
    torch_form = minimize(
        Bowl(), B.asarray([1.0, 1.0]), optimizer=optim.sgd(lr=0.05, momentum=0.8, nesterov=True), max_iter=30
    )
    # both converge to the minimum; hand-written look-ahead recursion as the independent reference
    theta, v = np.array([1.0, 1.0]), np.zeros(2)
    for _ in range(30):
        v = 0.8 * v - 0.05 * np.array([4.0, 1.0]) * (theta + 0.8 * v)
        theta = theta + v
    np.testing.assert_allclose(lookahead.path[-1], theta, rtol=1e-12)
    assert torch_form.final_loss < 1e-3 and lookahead.final_loss < 1e-3
