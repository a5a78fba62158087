"""Tests of gdcourse.regularization: proximal operators against their definition (numerical minimisation),
exact zeros of soft-thresholding, (sub)gradients, and early stopping on scripted validation curves."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import minimize, minimize_scalar

from gdcourse import backend as B
from gdcourse import regularization as R

# ----------------------------------------------------------------------------- proximal operators

PENALTIES = {
    # name: (penalty value on the host, our prox)
    "l1": (lambda x, a, r: a * np.sum(np.abs(x)), lambda v, lr, a, r: R.l1_prox(v, lr, a)),
    "l2": (lambda x, a, r: 0.5 * a * np.sum(x * x), lambda v, lr, a, r: R.l2_prox(v, lr, a)),
    "elasticnet": (
        lambda x, a, r: a * (r * np.sum(np.abs(x)) + 0.5 * (1 - r) * np.sum(x * x)),
        lambda v, lr, a, r: R.elastic_net_prox(v, lr, a, r),
    ),
}


def prox_by_definition(penalty, v, lr, alpha, l1_ratio):
    """argmin_x ½‖x − v‖² + lr·R(x), coordinate by coordinate (every penalty here is separable)."""
    out = np.empty_like(v)
    for i, vi in enumerate(v):

        def f(x, vi=vi):
            return 0.5 * (x - vi) ** 2 + lr * penalty(np.array([x]), alpha, l1_ratio)

        res = minimize_scalar(f, bounds=(-abs(vi) - 1, abs(vi) + 1), method="bounded", options={"xatol": 1e-12})
        out[i] = res.x
    return out


@pytest.mark.parametrize("name", list(PENALTIES))
@pytest.mark.parametrize("seed", range(4))
def test_prox_minimises_its_definition(name, seed, backend):
    rng = np.random.default_rng(seed)
    v = rng.normal(scale=2.0, size=5)
    lr, alpha, l1_ratio = rng.uniform(0.1, 1.0), rng.uniform(0.2, 2.0), rng.uniform(0.1, 0.9)
    value, prox = PENALTIES[name]
    ours = B.to_numpy(prox(B.asarray(v), lr, alpha, l1_ratio))
    np.testing.assert_allclose(ours, prox_by_definition(value, v, lr, alpha, l1_ratio), atol=1e-7)


@pytest.mark.parametrize("name", list(PENALTIES))
def test_prox_beats_any_other_point_of_the_full_objective(name):
    """Whole-vector check with a generic minimiser started from many points."""
    rng = np.random.default_rng(10)
    v, lr, alpha, r = rng.normal(size=3), 0.7, 0.9, 0.4
    value, prox = PENALTIES[name]

    def objective(x):
        return 0.5 * np.sum((x - v) ** 2) + lr * value(x, alpha, r)

    ours = objective(prox(v, lr, alpha, r))
    for _ in range(5):
        res = minimize(objective, rng.normal(size=3), method="Powell", options={"xtol": 1e-10, "ftol": 1e-14})
        assert ours <= res.fun + 1e-10


def test_soft_threshold_gives_exact_zeros(backend):
    v = B.asarray(np.array([-3.0, -0.5, 0.0, 0.49, 0.5, 2.0]))
    out = B.to_numpy(R.soft_threshold(v, 0.5))
    np.testing.assert_array_equal(out, [-2.5, 0.0, 0.0, 0.0, 0.0, 1.5])
    assert np.sum(out == 0.0) == 4
    # and l1_prox is soft-thresholding at lr * alpha
    np.testing.assert_array_equal(B.to_numpy(R.l1_prox(v, 0.25, 2.0)), out)


def test_l2_prox_never_gives_zeros_and_shrinks_by_a_constant_factor():
    v = np.array([-2.0, 1e-8, 3.0])
    out = R.l2_prox(v, 0.5, 2.0)
    np.testing.assert_allclose(out, v / 2.0)
    assert np.all(out != 0.0)


# ----------------------------------------------------------------------------- values and gradients


def test_values_and_gradients(backend):
    w_host = np.array([-2.0, 0.0, 0.5, 3.0])
    w = B.asarray(w_host)
    assert float(R.l1(w, 0.5)) == pytest.approx(0.5 * 5.5)
    assert float(R.l2(w, 0.5)) == pytest.approx(0.25 * (4 + 0.25 + 9))
    assert float(R.elastic_net(w, 0.5, 0.3)) == pytest.approx(0.5 * (0.3 * 5.5 + 0.35 * 13.25))
    np.testing.assert_allclose(B.to_numpy(R.l1_grad(w, 2.0)), [-2.0, 0.0, 2.0, 2.0])
    np.testing.assert_allclose(B.to_numpy(R.l2_grad(w, 2.0)), 2.0 * w_host)
    np.testing.assert_allclose(
        B.to_numpy(R.elastic_net_grad(w, 2.0, 0.25)), 2.0 * (0.25 * np.sign(w_host) + 0.75 * w_host)
    )


@pytest.mark.parametrize(
    ("value", "grad"),
    [
        (lambda w: R.l1(w, 0.7), lambda w: R.l1_grad(w, 0.7)),
        (lambda w: R.l2(w, 0.7), lambda w: R.l2_grad(w, 0.7)),
        (lambda w: R.elastic_net(w, 0.7, 0.3), lambda w: R.elastic_net_grad(w, 0.7, 0.3)),
    ],
)
def test_gradients_match_central_differences_away_from_zero(value, grad):
    w = np.array([-1.5, 0.3, 2.0])
    h = 1e-6
    numeric = [(float(value(w + h * e)) - float(value(w - h * e))) / (2 * h) for e in np.eye(3)]
    np.testing.assert_allclose(grad(w), numeric, rtol=1e-7)


def test_elastic_net_reduces_to_l1_and_l2():
    w = np.array([-1.0, 0.2, 3.0])
    assert float(R.elastic_net(w, 0.4, 1.0)) == pytest.approx(float(R.l1(w, 0.4)))
    assert float(R.elastic_net(w, 0.4, 0.0)) == pytest.approx(float(R.l2(w, 0.4)))
    np.testing.assert_allclose(R.elastic_net_prox(w, 0.3, 0.4, 1.0), R.l1_prox(w, 0.3, 0.4))
    np.testing.assert_allclose(R.elastic_net_prox(w, 0.3, 0.4, 0.0), R.l2_prox(w, 0.3, 0.4))


def test_penalty_strengths():
    assert R.penalty_strengths(None, 3.0) == (0.0, 0.0)
    assert R.penalty_strengths("l1", 3.0) == (3.0, 0.0)
    assert R.penalty_strengths("l2", 3.0) == (0.0, 3.0)
    assert R.penalty_strengths("elasticnet", 2.0, 0.25) == (0.5, 1.5)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: R.penalty_strengths("ridge", 1.0), r"unknown penalty 'ridge'; expected one of None, 'l1'"),
        (lambda: R.penalty_strengths("l1", -1.0), r"alpha must be a finite number >= 0"),
        (lambda: R.elastic_net(np.ones(2), 1.0, 1.5), r"l1_ratio must be in \[0, 1\]"),
        (lambda: R.l1_prox(np.ones(2), 0.0, 1.0), r"lr must be a positive finite number"),
        (lambda: R.soft_threshold(np.ones(2), -1.0), r"threshold must be a finite number >= 0"),
        (lambda: R.l2(np.array([1, 2]), 1.0), r"w has dtype"),
        (lambda: R.l1([1.0], 1.0), r"w must be an array"),
        (lambda: R.EarlyStopping(patience=0), r"patience must be an integer >= 1"),
        (lambda: R.EarlyStopping(min_delta=-1), r"min_delta must be a finite number >= 0"),
    ],
)
def test_bad_arguments_are_named(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


# ----------------------------------------------------------------------------- early stopping


def run_scripted(curve, **options):
    """Feed ``curve`` epoch by epoch with parameters that record the epoch; return (stopper, stop epoch, params)."""
    stopper = R.EarlyStopping(**options)
    params = None
    for epoch, loss in enumerate(curve):
        params = [np.array([float(epoch)]), np.array([-float(epoch)])]
        if stopper.update(loss, params):
            return stopper, epoch, stopper.restore(params)
    return stopper, None, stopper.restore(params)


def test_stops_after_patience_epochs_without_improvement_and_restores_the_best():
    curve = [5.0, 4.0, 3.0, 3.5, 3.2, 3.1, 0.1, 0.0]
    stopper, stopped_at, params = run_scripted(curve, patience=3)
    assert stopped_at == 5  # epochs 3, 4, 5 did not improve on epoch 2
    assert stopper.best_epoch == 2 and stopper.best_loss == 3.0 and stopper.wait == 3
    assert params[0].tolist() == [2.0] and params[1].tolist() == [-2.0]


def test_patience_resets_on_improvement():
    stopper, stopped_at, _ = run_scripted([5.0, 6.0, 6.0, 4.0, 6.0, 6.0, 6.0], patience=3)
    assert stopped_at == 6 and stopper.best_epoch == 3


def test_min_delta_and_nan():
    # improvements smaller than min_delta do not count
    stopper, stopped_at, _ = run_scripted([1.0, 0.95, 0.91, 0.9], patience=2, min_delta=0.1)
    assert stopped_at == 2 and stopper.best_epoch == 0
    # a NaN never improves
    stopper, stopped_at, _ = run_scripted([1.0, math.nan, math.nan], patience=2)
    assert stopped_at == 2 and stopper.best_loss == 1.0


def test_restore_best_false_keeps_the_current_parameters():
    _, stopped_at, params = run_scripted([3.0, 2.0, 2.5, 2.6], patience=2, restore_best=False)
    assert stopped_at == 3 and params[0].tolist() == [3.0]


def test_no_stop_on_an_improving_curve():
    stopper, stopped_at, params = run_scripted([4.0, 3.0, 2.0, 1.0], patience=1)
    assert stopped_at is None and not stopper.stopped and params[0].tolist() == [3.0]


def test_best_params_are_a_copy_and_losses_may_be_device_arrays(backend):
    stopper = R.EarlyStopping(patience=2)
    w = B.asarray(np.array([1.0, 2.0]))
    stopper.update(B.asarray(np.array(0.5)), w)
    assert stopper.best_params is not w
    np.testing.assert_array_equal(B.to_numpy(stopper.best_params), [1.0, 2.0])
    host = np.array([1.0])
    stopper.update(0.1, host)
    host[0] = 99.0  # an in-place change by the caller does not alter the kept copy
    assert stopper.best_params.tolist() == [1.0]
    assert "best_loss=0.1" in repr(stopper)
