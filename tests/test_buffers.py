"""Buffers: a module's non-trainable state (BatchNorm1d's running statistics), in state_dict and checkpoints.

:meth:`Module.register_buffer` declares one; reassigning the attribute replaces it; it is in
``named_buffers()`` and ``state_dict()`` (torch's names and order) but never among the parameters.
Checkpoints save the buffers in a ``buffers`` section written only for a model that has some, so a
buffer-free model's checkpoint is the format as before (and such older files still load); a model
with BatchNorm1d trained, checkpointed and loaded into a fresh model evaluates identically, and a
checkpoint whose buffers do not fit the model is refused with a message naming the buffer.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from array_api_compat import device
from conftest import require

from gdcourse import backend as B
from gdcourse import nn, optim
from gdcourse.autodiff import Tensor
from gdcourse.train import CheckpointError, Trainer, load_checkpoint

torch = require("torch")


class Counter(nn.Module):
    """A module with a buffer of its own and a BatchNorm1d (two more buffers) inside."""

    def __init__(self, c: int = 3) -> None:
        super().__init__()
        self.scale = Tensor(np.ones(c), requires_grad=True)
        self.register_buffer("seen", np.zeros(c))
        self.norm = nn.BatchNorm1d(c)

    def forward(self, x):
        self.seen = self.seen + 1.0  # reassigned, as BatchNorm1d does with its statistics
        return self.norm(x) * self.scale


def _model(dtype: str = "float64") -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(3, 8, seed=0, dtype=dtype),
        nn.BatchNorm1d(8, dtype=dtype),
        nn.ReLU(),
        nn.Linear(8, 2, seed=1, dtype=dtype),
    )


def _data(n: int = 64):
    rng = np.random.default_rng(0)
    X = rng.normal(loc=2.0, scale=[1.0, 5.0, 0.2], size=(n, 3))
    y = (X[:, 0] + X[:, 1] / 5 > 2.4).astype(np.int64)
    return X, y


def _trainer(model: nn.Module | None = None) -> Trainer:
    return Trainer(model or _model(), optim.adam(lr=0.02), "cross_entropy", batch_size=16, seed=0)


def _rewrite(src: Path, dst: Path, *, meta=None, drop=(), replace=None) -> Path:
    """A copy of the checkpoint ``src``: metadata changed by ``meta(dict)``, arrays dropped or replaced."""
    with np.load(src, allow_pickle=False) as f:
        content = {k: f[k] for k in f.files if k not in drop}
    content.update(replace or {})
    if meta is not None:
        m = json.loads(str(content["__meta__"][()]))
        meta(m)
        content["__meta__"] = np.array(json.dumps(m))
    np.savez(dst, **content)
    return dst


def _meta(path: Path) -> tuple[dict, list[str]]:
    with np.load(path, allow_pickle=False) as f:
        return json.loads(str(f["__meta__"][()])), list(f.files)


# ---------------------------------------------------------------------------------------- the Module API


def test_buffers_are_named_like_parameters_but_are_not_parameters():
    m = nn.Sequential(Counter(3), nn.Linear(3, 2, seed=0))
    assert [n for n, _ in m.named_buffers()] == ["0.seen", "0.norm.running_mean", "0.norm.running_var"]
    assert [n for n, _ in m.named_parameters()] == ["0.scale", "0.norm.weight", "0.norm.bias", "1.weight", "1.bias"]
    assert len(m.buffers()) == 3 and m.buffers()[0] is m[0].seen
    assert m.num_parameters() == 3 + 3 + 3 + 6 + 2 and len(m.parameters()) == len(m.grads()) == 5
    # own buffers first, then the sub-modules'; in state_dict each module's parameters, then its buffers
    assert list(m.state_dict()) == [
        "0.scale",
        "0.seen",
        "0.norm.weight",
        "0.norm.bias",
        "0.norm.running_mean",
        "0.norm.running_var",
        "1.weight",
        "1.bias",
    ]


def test_reassigning_a_buffer_replaces_it():
    c = Counter(3)
    c(np.random.default_rng(0).normal(size=(5, 3)))
    assert dict(c.named_buffers())["seen"] is c.seen
    np.testing.assert_array_equal(c.state_dict()["seen"], np.ones(3))
    np.testing.assert_array_equal(c.state_dict()["norm.running_mean"], c.norm.running_mean)
    assert not np.array_equal(c.norm.running_mean, np.zeros(3))  # the training pass updated the buffer
    with pytest.raises(TypeError, match="buffer 'seen' must be an array, got float"):
        c.seen = 1.0
    with pytest.raises(TypeError, match="got a Tensor"):
        c.seen = Tensor(np.zeros(3))
    del c.seen
    assert [n for n, _ in c.named_buffers()] == ["norm.running_mean", "norm.running_var"]


def test_register_buffer_refuses_bad_names_and_values():
    c = Counter(2)
    for name, error, match in [
        ("scale", KeyError, "attribute 'scale' already exists"),
        ("norm", KeyError, "attribute 'norm' already exists"),
        ("forward", KeyError, "attribute 'forward' already exists"),
        ("a.b", KeyError, "without '.'"),
        ("", KeyError, "non-empty"),
        (3, TypeError, "must be text"),
    ]:
        with pytest.raises(error, match=match):
            c.register_buffer(name, np.zeros(2))
    with pytest.raises(TypeError, match="buffer 'x' must be an array, got list"):
        c.register_buffer("x", [0.0, 1.0])
    c.register_buffer("seen", np.full(2, 7.0))  # an existing buffer may be registered again
    np.testing.assert_array_equal(c.seen, [7.0, 7.0])

    class Forgetful(nn.Module):
        def __init__(self) -> None:
            self.register_buffer("x", np.zeros(1))

    with pytest.raises(AttributeError, match="must call super"):
        Forgetful()


def test_state_dict_round_trip_with_buffers():
    x = np.random.default_rng(1).normal(size=(6, 3))
    a, b = Counter(3), Counter(3)
    for _ in range(3):
        a(x * 2 + 1)
    b.load_state_dict(a.state_dict())
    for (name, p), (_, q) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        np.testing.assert_array_equal(p, q, err_msg=name)
    a.eval(), b.eval()
    np.testing.assert_array_equal(a(x).data, b(x).data)


def test_load_state_dict_checks_every_buffer_before_changing_anything():
    a, b = Counter(3), Counter(3)
    state = a.state_dict()
    with pytest.raises(KeyError, match=r"missing \['norm.running_var'\]"):
        b.load_state_dict({k: v for k, v in state.items() if k != "norm.running_var"})
    with pytest.raises(KeyError, match=r"unexpected \['norm.num_batches_tracked'\]"):
        b.load_state_dict({**state, "norm.num_batches_tracked": np.array(0)})
    before = {k: v for k, v in b.state_dict().items()}
    bad = {**state, "scale": state["scale"] + 1, "norm.running_var": np.ones(4)}
    with pytest.raises(ValueError, match=r"buffer 'norm.running_var' has shape \(3,\), got \(4,\)"):
        b.load_state_dict(bad)
    assert all(b.state_dict()[k] is v for k, v in before.items())  # the parameter was not set either


def test_state_dict_names_and_order_are_torchs():
    """Torch's state_dict, less ``num_batches_tracked``: torch reads it only for ``momentum=None``, not offered."""
    ours = _model()
    theirs = torch.nn.Sequential(
        torch.nn.Linear(3, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(), torch.nn.Linear(8, 2)
    ).double()
    names = [k for k in theirs.state_dict() if not k.endswith("num_batches_tracked")]
    assert (
        list(ours.state_dict())
        == names
        == ["0.weight", "0.bias", "1.weight", "1.bias"]
        + [
            "1.running_mean",
            "1.running_var",
            "3.weight",
            "3.bias",
        ]
    )
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()][:2]
    # torch's trained statistics, loaded by name, give torch's evaluation outputs
    X, _ = _data()
    theirs.train()
    for i in range(0, 64, 16):
        theirs(torch.from_numpy(X[i : i + 16]))
    ours.load_state_dict({k: theirs.state_dict()[k].detach().numpy().copy() for k in names})
    ours.eval(), theirs.eval()
    with torch.no_grad():
        expected = theirs(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(ours(X).data, expected, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------------------- checkpoints


def test_a_trained_batchnorm_model_evaluates_identically_after_a_checkpoint(tmp_path):
    X, y = _data()
    trained = _trainer()
    trained.fit(X, y, epochs=3)
    path = trained.save_checkpoint(tmp_path / "bn.npz")
    meta, files = _meta(path)
    assert meta["buffers"] == [
        {"name": "1.running_mean", "key": "buffer/0", "shape": [8], "dtype": "float64"},
        {"name": "1.running_var", "key": "buffer/1", "shape": [8], "dtype": "float64"},
    ]
    assert {"buffer/0", "buffer/1"} <= set(files) and meta["version"] == 1
    assert list(load_checkpoint(path).buffers) == ["1.running_mean", "1.running_var"]
    trained.model.eval()
    fresh = _model()  # through load_checkpoint
    load_checkpoint(path, fresh)
    fresh.eval()
    np.testing.assert_array_equal(fresh(X).data, trained.model(X).data)
    assert not np.array_equal(_model().eval()(X).data, trained.model(X).data)  # the statistics matter
    resumed = _trainer()  # through a Trainer
    resumed.load_checkpoint(path)
    resumed.model.eval()
    np.testing.assert_array_equal(resumed.model[1].running_var, trained.model[1].running_var)
    np.testing.assert_array_equal(resumed.model(X).data, trained.model(X).data)


def test_buffers_return_to_the_models_device(backend, tmp_path):
    X, y = _data()
    trained = _trainer()
    trained.fit(B.asarray(X), B.asarray(y), epochs=1)
    path = trained.save_checkpoint(tmp_path / "bn.npz")
    fresh = _model()
    load_checkpoint(path, fresh)
    for (name, b), (_, ref) in zip(fresh.named_buffers(), trained.model.named_buffers(), strict=True):
        assert type(b) is type(ref) and device(b) == device(ref), name
        np.testing.assert_array_equal(B.to_numpy(b), B.to_numpy(ref))


def test_a_buffer_of_the_wrong_shape_is_refused_naming_it(tmp_path):
    X, y = _data()
    trained = _trainer()
    trained.fit(X, y, epochs=1)
    path = trained.save_checkpoint(tmp_path / "bn.npz")
    # a consistent file whose buffer does not fit the model
    bad = _rewrite(
        path,
        tmp_path / "bad.npz",
        meta=lambda m: m["buffers"][1].update(shape=[4]),
        replace={"buffer/1": np.ones(4)},
    )
    fresh = _trainer()
    before = [b.copy() for b in fresh.model.buffers()]
    with pytest.raises(ValueError, match=r"buffer '1.running_var': the checkpoint has shape \(4,\), the model \(8,\)"):
        fresh.load_checkpoint(bad)
    with pytest.raises(ValueError, match=r"buffer '1.running_var'"):
        load_checkpoint(bad, fresh.model)
    for a, b in zip(fresh.model.buffers(), before, strict=True):
        np.testing.assert_array_equal(a, b)  # left untouched
    assert fresh.epoch == 0
    # a file whose buffer does not match its own metadata, or is missing, is not a valid checkpoint
    lying = _rewrite(path, tmp_path / "lying.npz", replace={"buffer/0": np.ones(4)})
    with pytest.raises(
        CheckpointError, match=r"array 'buffer/0' \(buffer '1.running_mean'\) is float64 of shape \(4,\)"
    ):
        load_checkpoint(lying)
    missing = _rewrite(path, tmp_path / "missing.npz", drop=("buffer/1",))
    with pytest.raises(CheckpointError, match=r"missing array 'buffer/1' \(buffer '1.running_var'\)"):
        load_checkpoint(missing)
    # buffers the model does not have
    no_buffers = nn.Sequential(nn.Linear(3, 8, seed=0), nn.LayerNorm(8), nn.ReLU(), nn.Linear(8, 2, seed=1))
    with pytest.raises(ValueError, match=r"the checkpoint's buffers \['1.running_mean', '1.running_var'\] do not"):
        load_checkpoint(path, no_buffers)


def test_a_checkpoint_without_buffers_section_loads_for_a_buffer_free_model(tmp_path):
    """A buffer-free model's checkpoint is the format from before buffers: no section, no array, version 1."""
    X, y = _data()
    plain = lambda: nn.Sequential(nn.Linear(3, 8, seed=0), nn.Tanh(), nn.Linear(8, 2, seed=1))  # noqa: E731
    trained = _trainer(plain())
    trained.fit(X, y, epochs=2)
    path = trained.save_checkpoint(tmp_path / "old.npz")
    meta, files = _meta(path)
    assert "buffers" not in meta and not any(f.startswith("buffer/") for f in files) and meta["version"] == 1
    resumed = _trainer(plain())
    ck = resumed.load_checkpoint(path)
    assert ck.buffers == {} and resumed.epoch == 2
    for a, b in zip(resumed.model.parameters(), trained.model.parameters(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_checkpoint_from_before_buffers_is_refused_by_a_model_with_buffers(tmp_path):
    X, y = _data()
    trained = _trainer()
    trained.fit(X, y, epochs=1)
    path = trained.save_checkpoint(tmp_path / "bn.npz")
    legacy = _rewrite(path, tmp_path / "legacy.npz", meta=lambda m: m.pop("buffers"), drop=("buffer/0", "buffer/1"))
    assert load_checkpoint(legacy).buffers == {}  # readable on its own
    with pytest.raises(ValueError, match=r"holds no buffers.*\['1.running_mean', '1.running_var'\]"):
        _trainer().load_checkpoint(legacy)


def test_early_stopping_restores_the_best_epochs_buffers_with_its_parameters():
    """The restored model is the model of the best epoch: a run stopped there gives the same state, buffers too."""
    X, y = _data(96)
    X_val, y_val = X[64:], 1 - y[64:]  # labels flipped: validation gets worse as training improves

    def run(**options):
        trainer = Trainer(_model(), optim.adam(lr=0.05), "cross_entropy", batch_size=16, seed=0, **options)
        return trainer, trainer.fit(X[:64], y[:64], epochs=20, validation=(X_val, y_val))

    stopped, history = run(early_stopping=2)
    assert history.stop_reason == "early_stopping" and 1 <= history.best_epoch < stopped.epoch
    replay = Trainer(_model(), optim.adam(lr=0.05), "cross_entropy", batch_size=16, seed=0)  # the same run,
    replay.fit(X[:64], y[:64], epochs=history.best_epoch)  # stopped at the best epoch
    best, restored = replay.model.state_dict(), stopped.model.state_dict()
    assert list(best) == list(restored)
    for name in best:
        np.testing.assert_array_equal(restored[name], best[name], err_msg=name)
    last = run()[0].model  # without early stopping: the last epoch's statistics differ from the best epoch's
    assert not np.array_equal(last[1].running_mean, restored["1.running_mean"])
