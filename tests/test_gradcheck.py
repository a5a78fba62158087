"""Gradient checking passes correct gradients and flags planted backpropagation bugs."""

from __future__ import annotations

import numpy as np
import pytest

from gdcourse import backend as B
from gdcourse import nn
from gdcourse.autodiff import Tensor
from gdcourse.gradcheck import GradCheckReport, check_grad, check_module, numerical_grad, relative_error


def _logsumexp(x):
    xp = B.array_namespace(x)
    m = xp.max(x)
    return m + xp.log(xp.sum(xp.exp(x - m)))


def _softmax(x):
    xp = B.array_namespace(x)
    e = xp.exp(x - xp.max(x))
    return e / xp.sum(e)


def test_check_grad_passes_a_correct_gradient(backend):
    x = B.asarray(np.random.default_rng(0).normal(size=(3, 4)))
    report = check_grad(_logsumexp, _softmax, x)
    assert report.passed and report.max_error < 1e-8, report
    assert report.counts == {"x": 12}


def test_check_grad_flags_a_missing_factor_two(backend):
    x = B.asarray(np.random.default_rng(1).normal(size=(5,)))
    xp = B.current().xp
    report = check_grad(lambda v: xp.sum(v**2), lambda v: v, x)  # the true gradient is 2 v
    assert not report.passed
    assert report.max_error == pytest.approx(0.5, rel=1e-6)  # |v - 2v| / |2v|
    assert report.failed() == ["x"]


def test_numerical_grad_is_exact_for_a_quadratic():
    A = np.array([[2.0, 0.5], [0.5, 1.0]])
    x = np.array([0.3, -1.2])
    g = numerical_grad(lambda v: 0.5 * v @ A @ v, x, h=1e-3)
    np.testing.assert_allclose(g, A @ x, rtol=1e-9)  # central differences are exact for quadratics
    g_some = numerical_grad(lambda v: 0.5 * v @ A @ v, x, entries=[1])
    assert g_some[0] == 0 and g_some[1] == pytest.approx((A @ x)[1])


def test_float32_input_is_checked_in_float64_by_default():
    x = np.random.default_rng(2).normal(size=4).astype(np.float32)
    seen = []

    def f(v):
        seen.append(v.dtype)
        return np.sum(np.sin(v))

    assert check_grad(f, np.cos, x).passed
    assert set(seen) == {np.dtype(np.float64)}
    report32 = check_grad(f, np.cos, x, dtype=None, h=1e-2, tol=1e-3)  # keeps float32 if asked
    assert np.dtype(np.float32) in seen and report32.passed


def test_relative_error_definition():
    err = relative_error(np.array([1.0, 0.0, 2.0, 0.0]), np.array([1.1, 0.0, -2.0, 1e-20]), eps=1e-10)
    np.testing.assert_allclose(err, [0.1 / 1.1, 0.0, 2.0, 1e-10])


# ---------------------------------------------------------------------------- modules


class _TransposedGradLinear(nn.Linear):
    """A planted bug: the weight gradient is transposed (shapes match since the layer is square)."""

    def forward(self, x):
        x = Tensor(x) if not isinstance(x, Tensor) else x
        W, b = self.weight, self.bias
        return Tensor.from_op(
            x.data @ W.data.T + b.data,
            (x, W, b),
            lambda g: (g @ W.data, (g.T @ x.data).T, B.array_namespace(g).sum(g, axis=0)),  # bug: .T
            "buggy_linear",
        )


class _HalfGradSquare(nn.Module):
    """A planted bug: y = x², backward g·x instead of 2·g·x."""

    def __init__(self):
        super().__init__()
        self.scale = Tensor(B.asarray(np.array([1.5, -0.5, 2.0])), requires_grad=True)

    def forward(self, x):
        x = x * self.scale
        return Tensor.from_op(x.data**2, (x,), lambda g: (g * x.data,), "bad_square")


def test_check_module_passes_correct_layers(backend):
    r = np.random.default_rng(3)
    model = nn.MLP([4, 5, 3], "tanh", seed=0)
    x, y = B.asarray(r.normal(size=(6, 4))), B.asarray(r.integers(0, 3, size=6))
    report = check_module(model, x, lambda out: nn.softmax_cross_entropy(out, y))
    assert report.passed, report
    assert list(report.errors) == ["0.weight", "0.bias", "2.weight", "2.bias", "input"]
    assert report.max_error < 1e-7


def test_check_module_flags_a_transposed_weight_gradient():
    x = np.random.default_rng(4).normal(size=(5, 3))
    report = check_module(_TransposedGradLinear(3, 3, seed=0), x, lambda out: (out**2).sum())
    assert not report.passed
    assert report.failed() == ["weight"]
    assert report.errors["weight"] > 0.1
    assert report.errors["bias"] < 1e-7 and report.errors["input"] < 1e-7
    assert "FAIL" in repr(report)


def test_check_module_flags_a_missing_factor_two():
    report = check_module(_HalfGradSquare(), np.array([[0.3, -1.0, 2.0]]), lambda out: out.sum())
    assert set(report.failed()) == {"scale", "input"}
    assert report.errors["scale"] == pytest.approx(0.5, rel=1e-5)


def test_check_module_restores_parameters_and_dtype():
    model = nn.Linear(3, 2, seed=0, dtype="float32")
    before = [p.copy() for p in model.parameters()]
    report = check_module(model, np.ones((2, 3), dtype=np.float32), lambda out: (out**2).sum())
    assert report.passed, report
    for a, b in zip(model.parameters(), before, strict=True):
        assert a.dtype == np.float32
        np.testing.assert_array_equal(a, b)
    assert all(g is None for g in (model.weight.grad, model.bias.grad))


def test_check_module_random_subset_is_seeded():
    model = nn.Linear(20, 10, seed=0)
    x = np.random.default_rng(5).normal(size=(4, 20))
    a = check_module(model, x, lambda out: out.tanh().sum(), max_entries=7, seed=1)
    b = check_module(model, x, lambda out: out.tanh().sum(), max_entries=7, seed=1)
    assert a.counts == {"weight": 7, "bias": 7, "input": 7}
    assert a.errors == b.errors and a.passed


def test_report_repr_is_rounded_and_deterministic():
    report = GradCheckReport(
        errors={"weight": 3.14e-9, "bias": 0.0, "input": 0.5}, counts={"weight": 12, "bias": 3, "input": 4}, tol=1e-6
    )
    assert repr(report) == (
        "GradCheckReport(FAILED, tol=1e-06)\n"
        "  weight  rel. error < 1e-08  (12 entries)  ok\n"
        "  bias    rel. error = 0  (3 entries)  ok\n"
        "  input   rel. error < 1e+00  (4 entries)  FAIL"
    )
    assert not report and report.failed() == ["input"]
