"""Tests of gdcourse.losses: gradients against central finite differences and torch.autograd on every backend,
stability at logits of ±1000, label conventions."""

from __future__ import annotations

import numpy as np
import pytest
import torch  # the `verify` extra; `make test` installs it, so the cross-checks always run

from gdcourse import backend as B
from gdcourse import losses

N, K = 7, 4


def _margins_away_from_kink(rng, n):
    """Margins y*z in (-2, 3) but at least 0.05 away from the hinge's kink at 1."""
    m = rng.uniform(-2.0, 3.0, size=n)
    return np.where(np.abs(m - 1.0) < 0.05, m + 0.2, m)


def make_case(name, seed=0):
    """Host (predictions, labels) for loss ``name``."""
    rng = np.random.default_rng(seed)
    if name == "mse":
        return rng.normal(size=(N, 2)), rng.normal(size=(N, 2))
    if name == "log_loss":
        return 3 * rng.normal(size=N), rng.integers(0, 2, size=N).astype(float)
    if name == "softmax_cross_entropy":
        return 3 * rng.normal(size=(N, K)), rng.integers(0, K, size=N)
    y = rng.choice([-1.0, 1.0], size=N)
    return y * _margins_away_from_kink(rng, N), y


NAMES = list(losses.LOSSES)


def torch_reference(name, z, y):
    """The losses written independently in torch (mean reductions)."""
    F = torch.nn.functional
    if name == "mse":
        return F.mse_loss(z, y)
    if name == "log_loss":
        return F.binary_cross_entropy_with_logits(z, y)
    if name == "softmax_cross_entropy":
        return F.cross_entropy(z, y)
    if name == "hinge":
        return torch.clamp(1 - y * z, min=0).mean()
    return torch.clamp(1 - y * z, min=0).pow(2).mean()


def central_differences(value, z_host, y_dev, dtype, h=1e-6):
    """Gradient of ``value(z, y)`` at ``z_host`` by central differences, computed on the active backend."""
    grad = np.zeros_like(z_host)
    for i in np.ndindex(z_host.shape):
        e = np.zeros_like(z_host)
        e[i] = h
        plus = float(value(B.asarray(z_host + e, dtype=dtype), y_dev))
        minus = float(value(B.asarray(z_host - e, dtype=dtype), y_dev))
        grad[i] = (plus - minus) / (2 * h)
    return grad


def assert_gradient_matches_fd(loss, z, y):
    y_dev = B.asarray(y)
    analytic = B.to_numpy(loss.grad(B.asarray(z, dtype="float64"), y_dev))
    numeric = central_differences(loss.value, z, y_dev, "float64")
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9)


# ----------------------------------------------------------------------------- finite differences


@pytest.mark.parametrize("name", NAMES)
def test_gradient_matches_central_differences(name, backend):
    z, y = make_case(name)
    assert_gradient_matches_fd(losses.get(name), z, y)


def test_softmax_cross_entropy_with_probability_targets(backend):
    rng = np.random.default_rng(3)
    z = rng.normal(size=(N, K))
    p = rng.dirichlet(np.ones(K), size=N)
    assert_gradient_matches_fd(losses.get("softmax_cross_entropy"), z, p)
    # one-hot probabilities give the same value and gradient as class indices
    idx = rng.integers(0, K, size=N)
    zd = B.asarray(z)
    one_hot = B.asarray(np.eye(K)[idx])
    assert float(losses.softmax_cross_entropy(zd, one_hot)) == pytest.approx(
        float(losses.softmax_cross_entropy(zd, B.asarray(idx))), rel=1e-12
    )


def test_finite_difference_check_can_fail():
    """The checker rejects a gradient off by a factor 2 or with a flipped sign."""
    z, y = make_case("log_loss")
    for wrong in (lambda z, y: 2 * losses.log_loss_grad(z, y), lambda z, y: -losses.log_loss_grad(z, y)):
        bad = losses.Loss("bad", losses.log_loss, wrong, "0/1")
        with pytest.raises(AssertionError):
            assert_gradient_matches_fd(bad, z, y)


def test_hinge_subgradient_is_zero_at_the_kink():
    z, y = np.array([1.0, -1.0, 0.5]), np.array([1.0, -1.0, 1.0])
    np.testing.assert_array_equal(losses.hinge_grad(z, y), [0.0, 0.0, -1.0 / 3])


# ----------------------------------------------------------------------------- torch.autograd


@pytest.mark.parametrize("name", NAMES)
def test_value_and_gradient_match_torch(name, backend):
    z, y = make_case(name, seed=1)
    loss = losses.get(name)
    ours_value = float(loss.value(B.asarray(z), B.asarray(y)))
    ours_grad = B.to_numpy(loss.grad(B.asarray(z), B.asarray(y)))
    zt = torch.tensor(z, requires_grad=True)
    yt = torch.tensor(y)
    ref = torch_reference(name, zt, yt)
    (ref_grad,) = torch.autograd.grad(ref, zt)
    assert ours_value == pytest.approx(ref.item(), rel=1e-12, abs=1e-14)
    np.testing.assert_allclose(ours_grad, ref_grad.numpy(), rtol=1e-10, atol=1e-14)


def _extreme_case(name):
    if name == "log_loss":
        return np.array([-1000.0, -1000.0, 1000.0, 1000.0, 0.0]), np.array([0.0, 1.0, 0.0, 1.0, 1.0])
    if name == "softmax_cross_entropy":
        z = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0], [0.0, 0.0, 0.0]])
        return z, np.array([1, 2, 0])
    return np.array([-1000.0, 1000.0, 1000.0]), np.array([1.0, 1.0, -1.0])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["log_loss", "softmax_cross_entropy", "hinge", "squared_hinge"])
def test_extreme_logits_are_finite_and_match_torch(name, dtype, backend):
    """Logits of ±1000: no overflow warning (warnings are errors here), finite results equal to torch's."""
    z, y = _extreme_case(name)
    loss = losses.get(name)
    zd = B.asarray(z, dtype=dtype)
    value, grad = loss.value(zd, B.asarray(y)), loss.grad(zd, B.asarray(y))
    assert B.dtype_of(value) == dtype and B.dtype_of(grad) == dtype
    v, g = float(B.to_numpy(value)), B.to_numpy(grad)
    assert np.isfinite(v) and np.all(np.isfinite(g))
    zt = torch.tensor(z, dtype=getattr(torch, dtype), requires_grad=True)
    ref = torch_reference(name, zt, torch.tensor(y if name == "softmax_cross_entropy" else y.astype(dtype)))
    (ref_grad,) = torch.autograd.grad(ref, zt)
    tol = 1e-6 if dtype == "float32" else 1e-12
    assert v == pytest.approx(ref.item(), rel=tol)
    np.testing.assert_allclose(g, ref_grad.numpy(), rtol=tol, atol=tol)


def test_stable_building_blocks_at_extremes(backend):
    z = B.asarray(np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0]))
    s = B.to_numpy(losses.sigmoid(z))
    np.testing.assert_allclose(s, [0.0, 1 / (1 + np.exp(30.0)), 0.5, 1 / (1 + np.exp(-30.0)), 1.0], rtol=1e-12)
    np.testing.assert_allclose(B.to_numpy(losses.softplus(z)), [0.0, np.log1p(np.exp(-30.0)), np.log(2), 30.0, 1000.0])
    Z = B.asarray(np.array([[1000.0, 1000.0], [-1000.0, 0.0]]))
    np.testing.assert_allclose(B.to_numpy(losses.logsumexp(Z, axis=1)), [1000.0 + np.log(2), 0.0], atol=1e-12)
    np.testing.assert_allclose(B.to_numpy(losses.softmax(Z)), [[0.5, 0.5], [0.0, 1.0]], atol=1e-12)


# ----------------------------------------------------------------------------- conventions, errors


def test_results_follow_the_input(backend, xp):
    z, y = make_case("mse")
    value = losses.mse(B.asarray(z, dtype="float32"), B.asarray(y))
    grad = losses.mse_grad(B.asarray(z, dtype="float32"), B.asarray(y))
    assert value.shape == () and grad.shape == z.shape
    assert B.dtype_of(value) == "float32" and B.dtype_of(grad) == "float32"
    assert grad.device == B.asarray(z).device


def test_known_values():
    assert float(losses.mse(np.array([1.0, 3.0]), np.array([0.0, 0.0]))) == pytest.approx(5.0)
    assert float(losses.log_loss(np.array([0.0]), np.array([1.0]))) == pytest.approx(np.log(2))
    assert float(losses.softmax_cross_entropy(np.zeros((2, 4)), np.array([0, 3]))) == pytest.approx(np.log(4))
    assert float(losses.hinge(np.array([0.5, 2.0]), np.array([1.0, 1.0]))) == pytest.approx(0.25)
    assert float(losses.squared_hinge(np.array([0.5, -1.0]), np.array([1.0, 1.0]))) == pytest.approx((0.25 + 4) / 2)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: losses.log_loss(np.zeros(3), np.array([-1.0, 1.0, 1.0])), r"\{0, 1\}.*\(y \+ 1\) / 2"),
        (lambda: losses.hinge(np.zeros(3), np.array([0.0, 1.0, 1.0])), r"\{-1, \+1\}.*2 \* y - 1"),
        (lambda: losses.squared_hinge_grad(np.zeros(2), np.array([2.0, 1.0])), r"squared_hinge takes labels y"),
        (lambda: losses.mse(np.zeros(3), np.zeros(4)), r"y has shape \(4,\)"),
        (lambda: losses.softmax_cross_entropy(np.zeros((3, 2)), np.array([0, 1, 2])), r"outside 0\.\.1"),
        (lambda: losses.softmax_cross_entropy(np.zeros((3, 2)), np.array([0.0, 1.0, 1.0])), r"integers"),
        (lambda: losses.softmax_cross_entropy(np.zeros(3), np.array([0, 1, 1])), r"n_samples, n_classes"),
        (lambda: losses.softmax_cross_entropy(np.zeros((2, 2)), np.array([[0.5, 0.6], [1, 0]])), "sum"),
        (lambda: losses.log_loss([0.0, 1.0], np.array([0.0, 1.0])), r"z must be an array"),
        (lambda: losses.mse(np.array([1, 2]), np.array([1, 2])), r"y_pred has dtype"),
        (lambda: losses.get("l2"), r"unknown loss 'l2'; known losses: mse"),
    ],
)
def test_bad_input_is_named(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_label_errors_on_device(backend):
    with pytest.raises(ValueError, match=r"\{0, 1\}"):
        losses.log_loss(B.asarray(np.zeros(2)), B.asarray(np.array([0.0, 2.0])))


def test_nan_predictions_propagate():
    assert np.isnan(float(losses.log_loss(np.array([np.nan, 0.0]), np.array([1.0, 0.0]))))
