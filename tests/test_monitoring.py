"""gdcourse.monitoring: gradient norms, update/weight ratios, dead units and the diagnosis of recorded runs.

The norms are checked against NumPy on the concatenated vector, against what gdcourse.train records
and against torch's gradient clipping; diagnose() is checked on hand-made histories of every kind and
on real runs that diverge, stall, kill their ReLUs, hit log(0) and overfit.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import require

from gdcourse import backend as B
from gdcourse import data, nn, optim
from gdcourse.monitoring import KINDS, Diagnosis, dead_units, diagnose, global_grad_norm, grad_norms, update_ratios
from gdcourse.train import Trainer, fit

# --- norms and ratios ---------------------------------------------------------------------------


def _grads(to_backend):
    g = np.random.default_rng(0)
    host = [g.normal(size=(3, 4)), g.normal(size=4), g.normal(size=(2, 3))]
    return host, [to_backend(a) for a in host]


def test_global_grad_norm_is_the_norm_of_the_stacked_vector(to_backend):
    host, grads = _grads(to_backend)
    flat = np.concatenate([a.ravel() for a in host])
    assert float(B.to_numpy(global_grad_norm(grads))) == pytest.approx(np.linalg.norm(flat), rel=1e-12)
    assert grad_norms(grads) == pytest.approx([np.linalg.norm(a) for a in host], rel=1e-12)
    total = math.sqrt(sum(n**2 for n in grad_norms(grads)))
    assert total == pytest.approx(np.linalg.norm(flat))
    assert total < sum(grad_norms(grads))  # not the sum of the norms
    assert float(B.to_numpy(global_grad_norm(grads[0]))) == pytest.approx(np.linalg.norm(host[0]))


def test_global_grad_norm_matches_torch_clipping():
    torch = require("torch")
    host, grads = _grads(lambda a: a)
    tensors = [torch.zeros(a.shape, dtype=torch.float64, requires_grad=True) for a in host]
    for t, a in zip(tensors, host, strict=True):
        t.grad = torch.from_numpy(a.copy())
    total = torch.nn.utils.clip_grad_norm_(tensors, max_norm=1e9)
    assert float(global_grad_norm(grads)) == pytest.approx(float(total), rel=1e-12)


def test_update_ratios(to_backend):
    old = [to_backend(np.array([3.0, 4.0])), to_backend(np.zeros(2))]
    new = [to_backend(np.array([3.0, 4.005])), to_backend(np.array([0.1, 0.0]))]
    ratios = update_ratios(old, new)
    assert ratios[0] == pytest.approx(1e-3) and math.isnan(ratios[1])
    with pytest.raises(ValueError, match="must match"):
        update_ratios(old, new[:1])
    with pytest.raises(TypeError, match="expected an array"):
        grad_norms([1.0, 2.0])
    with pytest.raises(ValueError, match="empty"):
        global_grad_norm([])


def test_the_trainer_records_the_same_norms():
    x, y = data.make_polynomial(24, seed=1)
    x, y = x[:, None], y[:, None]
    model = nn.MLP([1, 8, 1], activation="tanh", seed=0)
    before = model.parameters()
    trainer = Trainer(model, optim.sgd(lr=0.1), "mse", batch_size=24, shuffle=False)
    model.zero_grad()
    loss = nn.mse_loss(model(x), y)
    loss.backward()
    grads = model.grads()
    history = trainer.fit(x, y, 1)
    assert history.step_grad_norm[0] == pytest.approx(float(global_grad_norm(grads)), rel=1e-12)
    for (name, _), ratio in zip(model.named_parameters(), update_ratios(before, model.parameters()), strict=True):
        assert history.update_ratio[name][0] == pytest.approx(ratio, rel=1e-12)


# --- dead units -----------------------------------------------------------------------------------


def test_dead_units_counts_units_that_are_zero_on_every_example():
    model = nn.MLP([2, 4, 3, 1], activation="relu", seed=0)
    X = np.random.default_rng(0).normal(size=(50, 2))
    params = model.parameters()
    params[3] = params[3] - 100.0  # second hidden layer: every bias very negative
    model.set_parameters(params)
    fractions = dead_units(model, X)
    assert list(fractions) == ["1", "3"] and fractions["3"] == 1.0 and fractions["1"] < 1.0
    with pytest.raises(TypeError, match="Sequential"):
        dead_units(nn.Linear(2, 1), X)


# --- diagnose on hand-made histories ------------------------------------------------------------


def _history(**fields):
    return {"train_loss": [1.0, 0.5, 0.3, 0.2], **fields}


@pytest.mark.parametrize(
    ("history", "kind"),
    [
        (_history(step_loss=[1.0, 0.6, 0.4, float("nan")]), "nan"),
        (_history(step_loss=[1.0, 3.0, 50.0, float("inf")]), "divergence"),
        (_history(train_loss=[1.0, 5.0, 40.0, 900.0]), "divergence"),
        (_history(stop_reason="diverged"), "divergence"),
        (_history(layer_grad_norm={"0.weight": [0.3, 0.0, 0.0, 0.0], "0.bias": [0.1, 0.1, 0.1, 0.1]}), "dead_relu"),
        (_history(), "healthy"),
        (_history(train_loss=[1.0, 0.999, 0.998, 0.997], update_ratio={"0.weight": [1e-7] * 4}), "plateau"),
        (_history(train_loss=[1.0, 0.99, 0.98, 0.98], update_ratio={"0.weight": [1e-3] * 4}), "plateau"),
        (
            _history(train_loss=list(np.linspace(1, 0.1, 12)), val_loss=[1, 0.6, 0.5, 0.45, 0.46, 0.48, 0.5, 0.53, 0.55,
                                                                          0.58, 0.6, 0.62]),
            "overfitting",
        ),
    ],
)
def test_diagnose_hand_made_histories(history, kind):
    result = diagnose(history)
    assert isinstance(result, Diagnosis) and result.kind == kind and result.kind in KINDS
    assert result.evidence and result.cause and result.fix and str(result).startswith(kind)


def test_diagnose_details():
    slow = diagnose(_history(train_loss=[1.0, 0.999, 0.998, 0.997], update_ratio={"w": [1e-7] * 4}))
    assert "far too small" in slow.cause and "1.0e-07" in slow.evidence
    flat = diagnose(_history(train_loss=[1.0, 0.99, 0.98, 0.98], update_ratio={"w": [1e-3] * 4}))
    assert "flat region" in flat.cause
    assert diagnose(_history(), dead_fraction={"1": 0.8}).kind == "dead_relu"
    assert diagnose(_history(), dead_fraction=[0.1, 0.2]).kind == "healthy"
    short_rise = _history(train_loss=list(np.linspace(1, 0.1, 6)), val_loss=[1, 0.5, 0.4, 0.45, 0.5, 0.55])
    assert diagnose(short_rise).kind == "healthy"  # the rise is shorter than the patience
    with pytest.raises(ValueError, match="no losses"):
        diagnose({})


# --- diagnose on real runs ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def curve():
    x, y = data.make_polynomial(220, noise=0.3, seed=3)
    return x[:20, None], y[:20, None], x[20:, None], y[20:, None]


def _mlp_run(curve, optimizer, activation="relu", epochs=30, width=32, seed=1):
    xtr, ytr, xva, yva = curve
    model = nn.MLP([1, width, width, 1], activation=activation, seed=seed)
    history = fit(model, xtr, ytr, optimizer=optimizer, loss="mse", epochs=epochs, batch_size=20,
                  validation=(xva, yva), on_divergence="stop")
    return model, history


def test_real_runs_are_diagnosed(curve):
    assert diagnose(_mlp_run(curve, optim.sgd(lr=2.0))[1]).kind == "divergence"
    plateau = diagnose(_mlp_run(curve, optim.sgd(lr=1e-4))[1])
    assert plateau.kind == "plateau" and "far too small" in plateau.cause
    model, history = _mlp_run(curve, optim.sgd(lr=0.7))  # notebook 11's run B
    assert diagnose(history).kind == "dead_relu"
    assert dead_units(model, curve[0])["3"] == 1.0
    assert history.train_loss[-1] == pytest.approx(float(np.var(curve[1])), rel=1e-3)  # it predicts the mean
    _, oscillating = _mlp_run(curve, optim.sgd(lr=1.0), seed=0)  # dead too; the output bias bounces around the mean
    assert diagnose(oscillating).kind == "dead_relu"
    assert diagnose(_mlp_run(curve, optim.adam(lr=1e-2), seed=0)[1]).kind == "healthy"
    overfit = _mlp_run(curve, optim.adam(lr=1e-2), "tanh", epochs=200, width=64, seed=0)[1]
    assert diagnose(overfit).kind == "overfitting"


def test_a_hand_written_log_loss_gives_a_sudden_nan():
    X, y = data.make_blobs(200, centers=[[-2, -2], [2, 2]], cluster_std=1.0, seed=0, dtype="float32")
    Y = y[:, None].astype(np.float32)

    def naive_log_loss(z, t):
        p = z.sigmoid()
        return -(p.log() * t + (1 - p).log() * (1 - t)).mean()

    model = nn.Linear(2, 1, seed=0, dtype="float32")
    with np.errstate(divide="ignore"):  # log(0) is the bug this run shows
        history = fit(model, X, Y, optimizer=optim.adam(lr=0.2), loss=naive_log_loss, epochs=40, batch_size=200,
                      on_divergence="stop")
    result = diagnose(history)
    assert result.kind == "nan" and "without growing first" in result.evidence
    assert history.stop_reason == "diverged" and len(history.train_loss) >= 10
