"""gdcourse.precision: float formats, rounding/overflow/underflow helpers, loss scaling, the FP16 run.

The formats are derived from their bit layouts and checked against NumPy's ``finfo`` (and torch's for
bfloat16); the dynamic loss scale is checked step by step against torch's own update rule; the issue's
acceptance test shows an FP16 run that fails (its gradients underflow) and the loss-scaling fix that
reaches the float32 loss within 1%.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from conftest import require, skip_outside_ci

from gdcourse import backend as B
from gdcourse import nn, optim
from gdcourse import precision as P
from gdcourse.autodiff.array import Tensor
from gdcourse.nn.loss import softmax_cross_entropy

NUMPY_FORMATS = ("float16", "float32", "float64")


# --- formats ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NUMPY_FORMATS)
def test_formats_match_numpy_finfo(name):
    fmt, info = P.float_format(name), np.finfo(name)
    assert fmt.bits == info.bits
    assert fmt.eps == float(info.eps)
    assert fmt.max == float(info.max)
    assert fmt.smallest_normal == float(info.smallest_normal)
    assert fmt.smallest_subnormal == float(info.smallest_subnormal)
    assert fmt.significand_bits - 1 == info.nmant
    assert fmt.emax + 1 == info.maxexp and fmt.emin == info.minexp
    assert fmt.bytes() == np.dtype(name).itemsize


def test_float16_numbers_the_notebook_quotes():
    fmt = P.float_format(np.float16)
    assert fmt.max == 65504.0
    assert fmt.smallest_normal == 2.0**-14 and f"{fmt.smallest_normal:.2g}" == "6.1e-05"
    assert fmt.smallest_subnormal == 2.0**-24 and f"{fmt.smallest_subnormal:.2g}" == "6e-08"
    assert fmt.eps == 2.0**-10
    assert round(fmt.decimal_digits, 1) == 3.3


def test_bfloat16_matches_torch():
    torch = require("torch")
    fmt, info = P.float_format("bfloat16"), torch.finfo(torch.bfloat16)
    assert (fmt.bits, fmt.eps, fmt.max, fmt.smallest_normal) == (info.bits, info.eps, info.max, info.smallest_normal)
    tiny = torch.nextafter(torch.tensor(0.0, dtype=torch.bfloat16), torch.tensor(1.0, dtype=torch.bfloat16))
    assert float(tiny) == fmt.smallest_subnormal


def test_unknown_formats_and_dtypes_are_refused():
    with pytest.raises(ValueError, match="not a floating-point format"):
        P.float_format("int8")
    with pytest.raises(ValueError, match="float16"):
        P.resolve_dtype(np, "float128")


def test_float16_on_array_api_strict_gives_a_clear_error():
    strict = require("array_api_strict")
    with pytest.raises(ValueError, match="no float16.*array API"):
        P.resolve_dtype(strict, "float16")
    with B.using("array_api_strict:device1"):
        X, Y = P.regression_data(16, 3, 2)
        with pytest.raises(ValueError, match="no float16"):
            P.train_linear(X, Y, dtype="float16", steps=1)


# --- rounding, overflow, underflow --------------------------------------------------------------


@pytest.mark.parametrize("name", NUMPY_FORMATS)
def test_ulp_is_numpy_spacing(name):
    x = np.random.default_rng(0).lognormal(0.0, 4.0, size=200).astype(name)
    x = x[np.isfinite(x) & (x < np.finfo(name).max / 2)]
    assert np.array_equal(B.to_numpy(P.ulp(x, name)), np.spacing(x))
    assert np.array_equal(B.to_numpy(P.ulp(-x, name)), np.spacing(x))


def test_small_updates_round_away_in_float16_and_not_in_float32():
    theta = np.array([1.0])
    assert bool(P.update_lost(theta, 1e-4, "float16")[0])  # 1e-4 < 2^-12: half the gap below 1
    assert not bool(P.update_lost(theta, 3e-4, "float16")[0])  # > 2^-12: rounds to 1 - 2^-11
    assert not bool(P.update_lost(theta, 1e-4, "float32")[0])
    theta16 = np.float16(1.0)
    for _ in range(1000):
        theta16 = P.apply_step(np.array([theta16]), 1e-4, "float16")[0]
    assert theta16 == 1.0  # 1000 updates of 1e-4: nothing moved
    theta32 = np.array([1.0], dtype=np.float32)
    for _ in range(1000):
        theta32 = P.apply_step(theta32, 1e-4, "float32")
    assert abs(float(theta32[0]) - 0.9) < 1e-4


@pytest.mark.parametrize("name", ("float16", "float32"))
def test_update_lost_follows_the_half_gap_rule(name):
    """Lost exactly when |δ| < half the gap to θ's neighbour on the side the step goes to (ties excluded)."""
    g = np.random.default_rng(1)
    theta = g.uniform(0.1, 100.0, size=400).astype(name)
    down_gap = theta - np.nextafter(theta, np.array(0, dtype=name))  # θ - δ with δ > 0 moves down
    delta = (down_gap.astype(np.float64) * g.uniform(0.05, 1.5, size=theta.size)).astype(name)
    keep = np.abs(delta.astype(np.float64) - down_gap.astype(np.float64) / 2) > 1e-3 * down_gap
    lost = B.to_numpy(P.update_lost(theta, delta, name))
    expected = delta.astype(np.float64) < down_gap.astype(np.float64) / 2
    assert np.array_equal(lost[keep], expected[keep])
    assert expected[keep].any() and not expected[keep].all()


def test_overflow_and_underflow_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        big = B.to_numpy(P.cast(np.array([65504.0, 65519.0, 65520.0, 1e5, -1e5]), "float16"))
        small = B.to_numpy(P.cast(np.array([2.0**-24, 2.0**-25, 1.01 * 2.0**-25, 1e-8, 3e-5]), "float16"))
    with np.errstate(over="ignore"):  # outside gdcourse: the overflow of 300² in float16 is the point
        squared = B.to_numpy(P.cast(np.array([300.0]), "float16")) ** 2
    assert list(big[:2]) == [65504.0, 65504.0] and math.isinf(big[2]) and big[3] == np.inf and big[4] == -np.inf
    assert small[0] == 2.0**-24 and small[1] == 0.0 and small[2] == 2.0**-24 and small[3] == 0.0
    assert 0 < small[4] < 2.0**-14  # a subnormal
    assert squared.dtype == np.float16 and math.isinf(squared[0])  # 300² = 90000 > 65504


def test_rounding_error_by_range():
    x = np.array([1.0 + 2.0**-12, 3.3, 1e-6, 1e-8, 0.0, 1e6])
    err = B.to_numpy(P.rounding_error(x, "float16"))
    eps = P.float_format("float16").eps
    assert err[0] <= eps / 2 and err[1] <= eps / 2  # normal numbers: at most half an ulp, relative
    assert eps / 2 < err[2] < 0.1  # subnormal: fewer bits, larger relative error
    assert err[3] == 1.0 and err[4] == 0.0 and math.isinf(err[5])


def test_cast_outcome_phrases():
    assert P.cast_outcome(7e4, "float16") == "overflow to inf"
    assert P.cast_outcome(65504, "float16") == "exact"
    assert P.cast_outcome(1e-8, "float16") == "underflow to 0"
    assert P.cast_outcome(2.0**-24, "float16") == "subnormal: 1 significant bit"
    assert P.cast_outcome(2.0**-15, "float16") == "subnormal: 10 significant bits"
    assert P.cast_outcome(0.1, "float16").startswith("rounded (relative error")
    assert P.cast_outcome(1e-8, "float32").startswith("rounded")


# --- loss scaling -------------------------------------------------------------------------------


def test_loss_scale_step_rule():
    assert P.loss_scale_step(1024.0, 3, False, 5) == (512.0, 0, False)
    assert P.loss_scale_step(1024.0, 3, True, 5) == (1024.0, 4, True)
    assert P.loss_scale_step(1024.0, 4, True, 5) == (2048.0, 0, True)
    assert P.loss_scale_step(2.0**1023 * 1.5, 0, True, 1)[0] == 2.0**1023 * 1.5  # never grows past a finite float


def test_dynamic_loss_scale_matches_torch_step_by_step():
    torch = require("torch")
    if not hasattr(torch, "_amp_update_scale_"):
        skip_outside_ci("this torch has no _amp_update_scale_ (GradScaler's update kernel)")
    g = np.random.default_rng(2)
    for trial in range(5):
        interval = int(g.integers(1, 6))
        flags = g.random(60) < (0.15 + 0.1 * trial)
        scaler = P.DynamicLossScaler(init_scale=2.0**10, growth_interval=interval)
        scale = torch.tensor(2.0**10)
        tracker = torch.tensor(0, dtype=torch.int32)
        for overflow in flags:
            applied = scaler.update(not overflow)
            torch._amp_update_scale_(scale, tracker, torch.tensor(float(overflow)), 2.0, 0.5, interval)
            assert scaler.scale == float(scale) and scaler.good_steps == int(tracker)
            assert applied == (not overflow)


def test_dynamic_loss_scaler_validates():
    assert P.DynamicLossScaler().scale == 65536.0 and P.DynamicLossScaler().growth_interval == 2000
    for kwargs in ({"init_scale": 0}, {"growth_factor": 1.0}, {"backoff_factor": 1.0}, {"growth_interval": 0}):
        with pytest.raises(ValueError):
            P.DynamicLossScaler(**kwargs)


# --- the FP16 failure and the loss-scaling fix (issue 7's acceptance) ----------------------------


@pytest.fixture(scope="module")
def problem():
    return P.regression_data(seed=0)


@pytest.fixture(scope="module")
def float32_run(problem):
    return P.train_linear(*problem, dtype="float32")


def test_float16_fails_because_gradients_underflow(problem, float32_run):
    pure = P.train_linear(*problem, dtype="float16")
    master = P.train_linear(*problem, dtype="float16", master_dtype="float32")
    for run in (pure, master):
        assert run.final_loss > 10 * float32_run.final_loss  # stalls far above the float32 loss
        assert run.underflow[0] < 0.1 < 0.9 < run.underflow[-1]  # more and more of ∂J/∂ŷ flushes to 0
    assert master.grad_zero[-1] == 1.0  # in the end, no gradient at all reaches the weights
    assert float32_run.underflow.max() == 0.0
    assert float32_run.final_loss < float32_run.loss[0] * 1e-4


@pytest.mark.parametrize("scale", [2.0**16, "dynamic", P.DynamicLossScaler(init_scale=2.0**32, growth_interval=20)])
def test_loss_scaling_with_master_weights_reaches_the_float32_loss(problem, float32_run, scale):
    fixed = P.train_linear(*problem, dtype="float16", master_dtype="float32", loss_scale=scale)
    assert abs(fixed.final_loss / float32_run.final_loss - 1) < 0.01
    assert fixed.underflow.max() < 0.01 and fixed.stop_reason == "steps"
    assert fixed.master_dtype == "float32" and B.dtype_of(fixed.params[0]) == "float32"


def test_dynamic_scale_skips_overflowing_steps_and_adapts(problem, float32_run):
    scaler = P.DynamicLossScaler(init_scale=2.0**32, growth_interval=20)
    run = P.train_linear(*problem, dtype="float16", master_dtype="float32", loss_scale=scaler)
    assert scaler.scale == 2.0**32  # the caller's scaler is copied, not modified
    assert run.skipped[0] and run.skipped.sum() >= 3
    assert run.scale[0] == 2.0**32 and run.scale.min() < 2.0**32
    assert np.all(np.diff(np.log2(run.scale)) <= 1) and set(np.diff(np.log2(run.scale))) <= {-1.0, 0.0, 1.0}
    assert run.scale[-1] > run.scale.min()  # it grows again as the gradients shrink


def test_static_scale_that_overflows_ends_the_run(problem):
    run = P.train_linear(*problem, dtype="float16", master_dtype="float32", loss_scale=2.0**32)
    assert run.n_steps == 1 and math.isnan(run.final_loss) and "overflowed" in run.stop_reason


@pytest.mark.parametrize("k", range(10, 17))
def test_loss_scaling_without_master_weights_saves_the_gradients_not_the_updates(problem, float32_run, k):
    """Issue 19: S = 2^10 .. 2^16 without master weights ends within 1.4× of the float32 loss (no scaling: 34×).

    The scaled gradients survive the backward pass and are unscaled in float32; what is left of the gap is the
    float16 weights, which lose most of their small updates (the master copy's job).
    """
    unscaled = P.train_linear(*problem, dtype="float16")
    run = P.train_linear(*problem, dtype="float16", loss_scale=2.0**k)
    assert unscaled.final_loss > 30 * float32_run.final_loss
    assert 1.1 < run.final_loss / float32_run.final_loss < 1.4 and run.stop_reason == "steps"
    assert run.underflow[-1] < 0.02 and run.grad_zero[-1] < 0.1  # the gradients reach the weights
    assert run.lost_updates[-1] > 0.5  # and most of the updates round away in the float16 weights


def test_the_loss_scale_is_unscaled_in_float32_not_float16(problem, float32_run):
    """float16 cannot hold S = 65536 (> 65504): dividing float16 gradients by it there would give 0 everywhere."""
    assert P.cast_outcome(2.0**16, "float16") == "overflow to inf"
    g16 = np.array([3.0, -0.5, 0.01], dtype=np.float16)  # scaled gradients
    with np.errstate(over="ignore"):
        assert np.all(g16 / np.float16(2.0**16) == 0)  # the artefact: g / inf
    assert np.all(P.cast(g16.astype(np.float32) / np.float32(2.0**16), "float16") != 0)  # unscaled in float32
    at_15 = P.train_linear(*problem, dtype="float16", loss_scale=2.0**15)
    at_16 = P.train_linear(*problem, dtype="float16", loss_scale=2.0**16)
    assert at_16.grad_zero.max() < 0.1 and at_16.final_loss == pytest.approx(at_15.final_loss, rel=1e-3)


@pytest.mark.parametrize("master", [None, "float32"])
def test_a_static_scale_whose_scaled_gradients_overflow_is_reported(problem, master):
    """The scaled gradients pass 65504 from S = 2^29 on (at the first step, from zero weights): reported, not hidden."""
    fine = P.train_linear(*problem, dtype="float16", master_dtype=master, loss_scale=2.0**28)
    lost = P.train_linear(*problem, dtype="float16", master_dtype=master, loss_scale=2.0**29)
    assert fine.stop_reason == "steps"
    assert lost.n_steps == 1 and math.isnan(lost.final_loss)
    assert "overflowed" in lost.stop_reason and "2^29 is static" in lost.stop_reason


def test_a_smaller_learning_rate_does_not_fix_float16(problem, float32_run):
    for lr in (0.1, 0.03):
        run = P.train_linear(*problem, dtype="float16", master_dtype="float32", lr=lr, steps=300)
        assert run.final_loss > 10 * float32_run.final_loss
        assert run.underflow[-1] > 0.9


def test_float64_and_float32_agree(problem, float32_run):
    run = P.train_linear(*problem, dtype="float64")
    assert run.final_loss == pytest.approx(float32_run.final_loss, rel=1e-4)
    assert run.lost_updates.max() == 0.0


def test_any_optimizer_with_master_weights(problem):
    run = P.train_linear(*problem, dtype="float16", master_dtype="float32", loss_scale="dynamic",
                         optimizer=optim.sgd(lr=0.1, momentum=0.9), steps=60)
    ref = P.train_linear(*problem, dtype="float32", optimizer=optim.sgd(lr=0.1, momentum=0.9), steps=60)
    assert run.final_loss == pytest.approx(ref.final_loss, rel=0.01)


def test_train_linear_is_backend_agnostic(backend):
    X, Y = P.regression_data(64, 5, 2, seed=3)
    run = P.train_linear(X, Y, dtype="float32", steps=20)
    with B.using("numpy"):
        Xn, Yn = P.regression_data(64, 5, 2, seed=3)
        ref = P.train_linear(Xn, Yn, dtype="float32", steps=20)
    assert np.allclose(run.loss, ref.loss, rtol=1e-5)
    assert type(run.params[0]).__module__.split(".")[0] == type(X).__module__.split(".")[0]
    assert B.dtype_of(run.params[0]) == "float32"


def test_bad_arguments(problem):
    X, Y = problem
    for kwargs, match in (
        ({"loss_scale": "auto"}, "loss_scale"),
        ({"loss_scale": -1.0}, "loss_scale"),
        ({"lr": 0}, "lr"),
        ({"steps": -1}, "steps"),
        ({"dtype": "int32"}, "dtype"),
    ):
        with pytest.raises(ValueError, match=match):
            P.train_linear(X, Y, **kwargs)
    with pytest.raises(TypeError, match="optimizer"):
        P.train_linear(X, Y, optimizer="adam")
    with pytest.raises(ValueError, match="same N"):
        P.train_linear(X, Y[:10])
    with pytest.raises(ValueError, match="n_samples"):
        P.regression_data(0)


# --- memory -------------------------------------------------------------------------------------


def _stored_bytes(loss: Tensor, params: list) -> int:
    """Bytes of every non-parameter array the autodiff graph keeps for the backward pass."""
    ids, seen, stack, total = {id(p) for p in params}, set(), [loss], 0
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        if id(t.data) not in ids and t.ndim == 2:
            total += t.data.nbytes
        stack.extend(t._parents)
    return total


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_training_memory_matches_what_the_engine_keeps(dtype):
    sizes, batch = [5, 7, 3, 4], 6
    model = nn.MLP(sizes, activation="relu", seed=0, dtype=dtype)
    X = np.random.default_rng(0).normal(size=(batch, 5)).astype(dtype)
    loss = softmax_cross_entropy(model(X), np.zeros(batch, dtype=np.int64))
    est = P.training_memory(sizes, batch, dtype=dtype, optimizer_slots=2)
    assert est.activations == _stored_bytes(loss, model.parameters()) == batch * est.per_example
    assert est.parameters == sum(p.nbytes for p in model.parameters()) == est.gradients
    assert est.optimizer_state == 2 * est.parameters and est.master_weights == 0
    assert est.total == est.parameters * 4 + est.activations


def test_training_memory_mixed_precision_and_batch_size():
    half = P.training_memory([784, 1024, 10], 256, dtype="float16", master_dtype="float32")
    full = P.training_memory([784, 1024, 10], 256, dtype="float32")
    assert half.activations * 2 == full.activations
    assert half.master_weights == full.parameters and half.optimizer_state == full.optimizer_state
    assert P.training_memory([784, 1024, 10], 512).activations == 2 * full.activations
    with pytest.raises(ValueError):
        P.training_memory([3], 8)
    with pytest.raises(ValueError):
        P.training_memory([3, 2], 0)


def test_cast_outcome_describes_a_number_on_any_backend(backend):
    # one number is described on the host: float16 works even where the active backend has none
    assert P.cast_outcome(7e4, "float16") == "overflow to inf"
    assert P.cast_outcome(1e-5, "float16") == "subnormal: 8 significant bits"
    assert P.cast_outcome(3.14159, "float32").startswith("rounded")
