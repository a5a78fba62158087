"""BatchNorm1d and LayerNorm against torch.nn.BatchNorm1d / torch.nn.LayerNorm, finite differences and theory.

Against torch (weights copied over, random weight and bias so that every gradient is non-trivial):
outputs and the gradients of input, weight and bias in training and evaluation modes, float64 (tight)
and float32, 2-D and 3-D inputs; BatchNorm's running mean and variance after several training batches.
Central differences (gdcourse.gradcheck) check the same gradients independently of torch.  Models with
these layers train in gdcourse.train.Trainer, and resume from checkpoints.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import require

from gdcourse import backend as B
from gdcourse import nn, optim
from gdcourse.autodiff import Tensor
from gdcourse.gradcheck import check_module
from gdcourse.train import Trainer

torch = require("torch")

TOL = {"float64": {"rtol": 1e-10, "atol": 1e-12}, "float32": {"rtol": 1e-4, "atol": 2e-5}}
WORST: dict[str, float] = {}


def _note(label, a, b):
    WORST[label] = max(WORST.get(label, 0.0), float(np.max(np.abs(np.asarray(a, dtype=np.float64) - b), initial=0)))


def _pair(kind, c, dtype, seed=0, **kwargs):
    """Our layer and torch's, with the same random weight and bias."""
    rng = np.random.default_rng(seed)
    ours = getattr(nn, kind)(c, dtype=dtype, **kwargs)
    theirs = getattr(torch.nn, kind)(c, **kwargs).to(getattr(torch, dtype))
    weight, bias = rng.uniform(0.5, 2, size=c), rng.normal(size=c)
    ours.set_parameters([B.asarray(weight, dtype=dtype), B.asarray(bias, dtype=dtype)])
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(weight))
        theirs.bias.copy_(torch.from_numpy(bias))
    return ours, theirs


def _compare(ours, theirs, x_host, dtype, label):
    """Forward both, backpropagate a random projection, compare output and every gradient."""
    tol = TOL[dtype]
    x = Tensor(B.asarray(x_host, dtype=dtype), requires_grad=True)
    xt = torch.tensor(x_host.astype(dtype), requires_grad=True)
    y, yt = ours(x), theirs(xt)
    assert B.dtype_of(y.data) == dtype
    np.testing.assert_allclose(B.to_numpy(y.data), yt.detach().numpy(), **tol, err_msg=f"{label}: output")
    _note(f"{label} output", B.to_numpy(y.data), yt.detach().numpy())
    proj = np.random.default_rng(99).normal(size=tuple(yt.shape)).astype(dtype)
    ours.zero_grad()
    theirs.zero_grad()
    (y * B.asarray(proj)).sum().backward()
    (yt * torch.from_numpy(proj)).sum().backward()
    pairs = [("input", x.grad, xt.grad)] + [
        (name, g, t.grad)
        for (name, _), g, t in zip(ours.named_parameters(), ours.grads(), theirs.parameters(), strict=True)
    ]
    for name, g, tg in pairs:
        assert B.dtype_of(g) == dtype
        np.testing.assert_allclose(B.to_numpy(g), tg.numpy(), **tol, err_msg=f"{label}: gradient of {name}")
        _note(f"{label} grad {name}", B.to_numpy(g), tg.numpy())


def _batches(shape, n, seed):
    rng = np.random.default_rng(seed)
    return [
        rng.normal(loc=rng.normal(size=shape[1]).reshape((1, -1) + (1,) * (len(shape) - 2)), scale=3.0, size=shape)
        for _ in range(n)
    ]


# ----------------------------------------------------------------------------------------------
# BatchNorm1d
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape", [(16, 5), (6, 3, 7), (2, 4)], ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize(("momentum", "eps"), [(0.1, 1e-5), (0.3, 1e-3), (1.0, 1e-5), (0.0, 1e-5)])
def test_batchnorm_matches_torch_in_training_and_evaluation(shape, dtype, momentum, eps):
    c = shape[1]
    ours, theirs = _pair("BatchNorm1d", c, dtype, momentum=momentum, eps=eps)
    for k, x in enumerate(_batches(shape, 5, seed=c)):  # several training steps: the running statistics move
        _compare(ours, theirs, x, dtype, f"BatchNorm1d train {dtype}")
        for ours_stat, their_stat in ((ours.running_mean, theirs.running_mean), (ours.running_var, theirs.running_var)):
            assert B.dtype_of(ours_stat) == dtype
            np.testing.assert_allclose(B.to_numpy(ours_stat), their_stat.numpy(), **TOL[dtype], err_msg=f"step {k}")
            _note(f"BatchNorm1d running stats {dtype}", B.to_numpy(ours_stat), their_stat.numpy())
    assert int(theirs.num_batches_tracked) == 5
    ours.eval()
    theirs.eval()
    for x in _batches(shape, 2, seed=100 + c):
        _compare(ours, theirs, x, dtype, f"BatchNorm1d eval {dtype}")


def test_batchnorm_statistics_in_closed_form():
    rng = np.random.default_rng(1)
    x = rng.normal(loc=[1.0, -2.0, 5.0], scale=[0.5, 2.0, 3.0], size=(50, 3))
    bn = nn.BatchNorm1d(3, momentum=1.0)  # the running statistics become the last batch's
    gamma, beta = np.array([2.0, 0.5, 1.0]), np.array([0.1, -1.0, 3.0])
    bn.set_parameters([gamma, beta])
    y = bn(x).data
    var = x.var(axis=0)
    np.testing.assert_allclose(y.mean(axis=0), beta, atol=1e-13)
    np.testing.assert_allclose(y.std(axis=0), gamma * np.sqrt(var / (var + 1e-5)), rtol=1e-12)
    np.testing.assert_allclose(bn.running_mean, x.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(bn.running_var, x.var(axis=0, ddof=1), rtol=1e-13)  # unbiased
    bn.eval()  # evaluation: the fixed affine map of the running statistics, example by example
    one = bn(x[:1]).data
    np.testing.assert_allclose(one, gamma * (x[:1] - x.mean(0)) / np.sqrt(x.var(0, ddof=1) + 1e-5) + beta, rtol=1e-12)
    frozen = nn.BatchNorm1d(3, momentum=0.0)
    frozen(x)
    np.testing.assert_array_equal(frozen.running_mean, np.zeros(3))
    np.testing.assert_array_equal(frozen.running_var, np.ones(3))


def test_in_training_an_output_depends_on_the_rest_of_the_batch_and_in_evaluation_it_does_not():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(8, 2))
    bn = nn.BatchNorm1d(2)
    first = bn(x).data[0]
    shifted = x.copy()
    shifted[1:] += 5.0
    assert not np.allclose(bn(shifted).data[0], first)
    bn.eval()
    np.testing.assert_array_equal(bn(x).data[0], bn(shifted).data[0])


# ----------------------------------------------------------------------------------------------
# LayerNorm
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape", [(16, 5), (4, 3, 6), (7,), (1, 2)], ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("eps", [1e-5, 1e-2])
def test_layernorm_matches_torch(shape, dtype, eps):
    ours, theirs = _pair("LayerNorm", shape[-1], dtype, eps=eps)
    x = np.random.default_rng(len(shape)).normal(loc=2.0, scale=3.0, size=shape)
    _compare(ours, theirs, x, dtype, f"LayerNorm {dtype}")
    ours.eval()
    theirs.eval()  # the same computation in both modes
    _compare(ours, theirs, x, dtype, f"LayerNorm {dtype}")


def test_layernorm_standardises_each_example():
    x = np.random.default_rng(3).normal(loc=4.0, scale=2.0, size=(5, 20))
    y = nn.LayerNorm(20, eps=1e-12)(x).data
    np.testing.assert_allclose(y.mean(axis=1), 0.0, atol=1e-14)
    np.testing.assert_allclose(y.std(axis=1), 1.0, rtol=1e-10)


# ----------------------------------------------------------------------------------------------
# Finite differences
# ----------------------------------------------------------------------------------------------


def _loss(seed, shape):
    target = np.random.default_rng(seed).normal(size=shape)
    return lambda out: ((out - B.asarray(target)) ** 2).mean()


@pytest.mark.parametrize("shape", [(6, 3), (4, 2, 5)], ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_batchnorm_gradients_pass_a_finite_difference_check(shape, mode):
    bn = nn.BatchNorm1d(shape[1], momentum=0.5)
    bn.set_parameters([np.array([1.5, 0.7, 1.1])[: shape[1]], np.array([0.2, -0.4, 0.9])[: shape[1]]])
    x = np.random.default_rng(4).normal(size=shape) * 2
    for batch in _batches(shape, 3, seed=5):  # non-trivial running statistics for evaluation mode
        bn(batch)
    bn.train(mode == "train")
    report = check_module(bn, x, _loss(6, shape), tol=1e-6)
    assert report.passed, report
    WORST[f"gradcheck BatchNorm1d {mode} {shape}"] = report.max_error


@pytest.mark.parametrize("shape", [(6, 4), (3, 2, 4), (4,)], ids=lambda s: "x".join(map(str, s)))
def test_layernorm_gradients_pass_a_finite_difference_check(shape):
    ln = nn.LayerNorm(4)
    ln.set_parameters([np.array([1.5, 0.7, 1.1, 2.0]), np.array([0.2, -0.4, 0.9, 0.0])])
    report = check_module(ln, np.random.default_rng(7).normal(size=shape), _loss(8, shape), tol=1e-6)
    assert report.passed, report
    WORST[f"gradcheck LayerNorm {shape}"] = report.max_error


def test_a_float32_batchnorm_keeps_float32_statistics_through_a_float64_check():
    bn = nn.BatchNorm1d(3, dtype="float32")
    x = np.random.default_rng(9).normal(size=(5, 3)).astype(np.float32)
    report = check_module(bn, x, _loss(10, (5, 3)), tol=1e-5)  # evaluated in float64
    assert report.passed, report
    assert bn.running_mean.dtype == bn.running_var.dtype == np.float32
    assert bn(x).data.dtype == np.float32


# ----------------------------------------------------------------------------------------------
# Backends, arguments
# ----------------------------------------------------------------------------------------------


def test_on_every_backend(backend):
    x_host = np.random.default_rng(11).normal(size=(6, 3))
    with B.using("numpy"):
        ref = nn.BatchNorm1d(3)
        ref_out = [B.to_numpy(ref(x_host).data) for _ in range(2)]
    bn, ln = nn.BatchNorm1d(3), nn.LayerNorm(3)
    x = B.asarray(x_host)
    out = [bn(x) for _ in range(2)]
    for a, r in zip(out, ref_out, strict=True):
        assert type(a.data) is type(x)
        np.testing.assert_allclose(B.to_numpy(a.data), r, rtol=1e-12)
    assert type(bn.running_mean) is type(x)
    np.testing.assert_allclose(B.to_numpy(bn.running_var), B.to_numpy(ref.running_var), rtol=1e-12)
    bn.eval()
    assert type(bn(x).data) is type(x) and type(ln(x).data) is type(x)


def test_statistics_follow_the_parameters_to_another_library():
    """Buffers made on the host follow an input of another library (as parameters moved by set_parameters do)."""
    array_api_strict = require("array_api_strict")
    bn = nn.BatchNorm1d(2)
    bn.set_parameters([array_api_strict.asarray(p) for p in bn.parameters()])
    x = array_api_strict.asarray(np.random.default_rng(12).normal(size=(4, 2)))
    bn(x)
    assert type(bn.running_mean) is type(x)
    bn.eval()
    assert type(bn(x).data) is type(x)


def test_one_example_per_feature_is_refused_in_training_only():
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match="more than 1 value per feature"):
        bn(np.ones((1, 3)))
    bn(np.ones((1, 3, 2)))  # N L = 2 values per feature: fine
    bn.eval()
    assert bn(np.ones((1, 3))).shape == (1, 3)
    assert nn.LayerNorm(3)(np.ones((1, 3))).shape == (1, 3)


def test_wrong_inputs_are_refused():
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3\) expects input of shape \(N, 3\)"):
        nn.BatchNorm1d(3)(np.ones((4, 2)))
    with pytest.raises(ValueError, match="BatchNorm1d"):
        nn.BatchNorm1d(3)(np.ones((2, 3, 4, 5)))
    with pytest.raises(ValueError, match="BatchNorm1d"):
        nn.BatchNorm1d(3)(np.ones(3))
    with pytest.raises(TypeError, match="float64 parameters but the input has dtype float32"):
        nn.BatchNorm1d(3)(np.ones((4, 3), dtype=np.float32))
    with pytest.raises(ValueError, match=r"LayerNorm\(3\) expects input of shape \(\.\.\., 3\)"):
        nn.LayerNorm(3)(np.ones((4, 2)))
    with pytest.raises(TypeError, match="LayerNorm"):
        nn.LayerNorm(3, dtype="float32")(np.ones((4, 3)))


@pytest.mark.parametrize("kind", ["BatchNorm1d", "LayerNorm"])
@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"num_features": 0}, ValueError, "num_features"),
        ({"num_features": 2.5}, ValueError, "num_features"),
        ({"num_features": True}, ValueError, "num_features"),
        ({"eps": 0}, ValueError, "eps"),
        ({"eps": -1e-5}, ValueError, "eps"),
        ({"eps": math.nan}, ValueError, "eps"),
        ({"eps": "1e-5"}, TypeError, "eps"),
        ({"dtype": "int32"}, ValueError, "dtype"),
    ],
)
def test_bad_arguments_are_named(kind, kwargs, error, name):
    with pytest.raises(error, match=name):
        getattr(nn, kind)(**{"num_features": 3, **kwargs})


@pytest.mark.parametrize(
    ("momentum", "error"),
    [(-0.1, ValueError), (1.5, ValueError), (math.nan, ValueError), (None, TypeError), ("0.1", TypeError)],
)
def test_bad_momentum_is_named(momentum, error):
    with pytest.raises(error, match="momentum"):
        nn.BatchNorm1d(3, momentum=momentum)


def test_parameters_names_and_exports():
    bn = nn.BatchNorm1d(4)
    assert [n for n, _ in bn.named_parameters()] == ["weight", "bias"]  # as torch's state_dict, minus buffers
    # torch's state_dict, less num_batches_tracked (read by torch only for momentum=None, not offered)
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var"]
    np.testing.assert_array_equal(bn.parameters()[0], np.ones(4))
    np.testing.assert_array_equal(bn.parameters()[1], np.zeros(4))
    assert repr(bn) == "BatchNorm1d(num_features=4, eps=1e-05, momentum=0.1)"
    assert repr(nn.LayerNorm(2, eps=1e-3)) == "LayerNorm(num_features=2, eps=0.001)"
    assert {"BatchNorm1d", "LayerNorm"} <= set(nn.__all__)


# ----------------------------------------------------------------------------------------------
# In gdcourse.train.Trainer
# ----------------------------------------------------------------------------------------------


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(loc=3.0, scale=[1.0, 10.0, 0.1], size=(120, 3))
    y = (X[:, 0] * 0.5 + X[:, 1] / 10 > 1.5).astype(np.int64) + (X[:, 2] > 0.0).astype(np.int64)
    return X[:96], y[:96], X[96:], y[96:]


def _model(norm):
    layer = nn.BatchNorm1d(16) if norm == "batch" else nn.LayerNorm(16)
    return nn.Sequential(nn.Linear(3, 16, seed=0), layer, nn.ReLU(), nn.Linear(16, 3, seed=1))


@pytest.mark.parametrize("norm", ["batch", "layer"])
def test_models_with_normalisation_train_in_the_trainer(norm):
    X, y, Xv, yv = _data()
    trainer = Trainer(_model(norm), optim.adam(lr=0.02), "cross_entropy", batch_size=16)
    h = trainer.fit(X, y, epochs=8, validation=(Xv, yv))
    assert h.train_loss[-1] < 0.6 * h.train_loss[0] and h.val_accuracy[-1] > h.val_accuracy[0]
    assert trainer.model.training  # evaluation mode was left after validating
    assert "layer 1" in trainer.hyperparameters
    if norm == "batch":
        bn = trainer.model[1]
        assert not np.allclose(bn.running_mean, 0.0)
        trainer.model.eval()  # the validation loss used the running statistics
        logits = trainer.model(Xv).data
        expected = nn.softmax_cross_entropy(Tensor(logits), yv).item()
        assert h.val_loss[-1] == pytest.approx(expected, rel=1e-12)


def test_a_resumed_run_has_the_same_parameters(tmp_path):
    """Training uses the batch statistics, so the parameters' trajectory resumes exactly."""
    X, y, _, _ = _data()

    def trainer():
        return Trainer(_model("batch"), optim.adam(lr=0.02), "cross_entropy", batch_size=16)

    whole = trainer()
    whole.fit(X, y, epochs=4)
    part = trainer()
    part.fit(X, y, epochs=2, checkpoint=tmp_path / "bn.npz")
    resumed = trainer()
    resumed.load_checkpoint(tmp_path / "bn.npz")
    resumed.fit(X, y, epochs=4)
    for a, b in zip(resumed.model.parameters(), whole.model.parameters(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_running_statistics_survive_a_checkpoint(tmp_path):
    X, y, _, _ = _data()
    part = Trainer(_model("batch"), optim.adam(lr=0.02), "cross_entropy", batch_size=16)
    part.fit(X, y, epochs=2)
    part.save_checkpoint(tmp_path / "bn.npz")
    resumed = Trainer(_model("batch"), optim.adam(lr=0.02), "cross_entropy", batch_size=16)
    resumed.load_checkpoint(tmp_path / "bn.npz")
    np.testing.assert_array_equal(resumed.model[1].running_mean, part.model[1].running_mean)
    np.testing.assert_array_equal(resumed.model[1].running_var, part.model[1].running_var)


def test_print_the_largest_differences():
    """Not a check: prints the largest differences measured by the tests above (run with -s)."""
    for label in sorted(WORST):
        print(f"{label}: {WORST[label]:.1e}")
