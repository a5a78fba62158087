"""gdcourse.train: minibatch training, monitoring, early stopping, divergence, checkpoints.

The acceptance test of checkpoints: 2 epochs, save, load **in a new process**, 2 more epochs gives
bit for bit the parameters (and the history) of 4 uninterrupted epochs, with dropout in the model
(so the dropout generators' states must travel too) and a learning-rate schedule.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest

import gdcourse
from gdcourse import backend as B
from gdcourse import nn, optim, schedules
from gdcourse.data import make_two_moons
from gdcourse.descent import DivergenceError
from gdcourse.regularization import EarlyStopping
from gdcourse.train import Trainer, evaluate, fit, load_checkpoint, save_checkpoint

ROOT = Path(__file__).resolve().parents[1]

# The model and data of the resume test; the subprocess script builds exactly the same.
SETUP = """
import numpy as np
from gdcourse import nn, optim, schedules
from gdcourse.data import make_two_moons
from gdcourse.train import Trainer

X, y = make_two_moons(120, noise=0.25, seed=3)
X_val, y_val = make_two_moons(60, noise=0.25, seed=4)


def make_trainer():
    model = nn.Sequential(
        nn.Linear(2, 16, seed=1), nn.Tanh(), nn.Dropout(0.3, seed=7),
        nn.Linear(16, 16, seed=2), nn.ReLU(), nn.Dropout(0.2, seed=8),
        nn.Linear(16, 2, seed=3),
    )
    opt = optim.adam(lr=schedules.exponential(0.02, gamma=0.99))
    return Trainer(model, opt, "cross_entropy", batch_size=16, seed=11)
"""
_ns: dict = {}
exec(SETUP, _ns)  # noqa: S102 - our own source, shared with the subprocess
make_trainer, X, y, X_val, y_val = (_ns[k] for k in ("make_trainer", "X", "y", "X_val", "y_val"))


RESUME = (
    SETUP
    + """
import json, sys
trainer = make_trainer()
trainer.load_checkpoint(sys.argv[1])
trainer.fit(X, y, epochs=4, validation=(X_val, y_val))
np.savez(sys.argv[2], *trainer.model.parameters())
with open(sys.argv[3], "w") as f:
    json.dump(trainer.history.as_dict(), f)
"""
)


def test_resume_in_a_new_process_gives_the_identical_trajectory(tmp_path):
    uninterrupted = make_trainer()
    uninterrupted.fit(X, y, epochs=4, validation=(X_val, y_val))

    first = make_trainer()
    first.fit(X, y, epochs=2, validation=(X_val, y_val))
    ckpt = first.save_checkpoint(tmp_path / "run.npz")
    script = tmp_path / "resume.py"
    script.write_text(textwrap.dedent(RESUME))
    out_params, out_history = tmp_path / "params.npz", tmp_path / "history.json"
    done = subprocess.run(
        [sys.executable, str(script), str(ckpt), str(out_params), str(out_history)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    with np.load(out_params) as f:
        resumed = [f[k] for k in f.files]
    expected = uninterrupted.model.parameters()
    assert len(resumed) == len(expected)
    for a, b in zip(resumed, expected, strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)  # bit for bit
    history = json.loads(out_history.read_text())
    assert history == json.loads(json.dumps(uninterrupted.history.as_dict()))
    assert history["epoch"] == [1, 2, 3, 4]

    # without the dropout generators' states the trajectory would differ: the test can fail
    broken = make_trainer()
    broken.load_checkpoint(ckpt)
    for m in broken.model:
        if isinstance(m, nn.Dropout):
            m.generator = np.random.default_rng(0)
    broken.fit(X, y, epochs=4)
    assert not all(np.array_equal(a, b) for a, b in zip(broken.model.parameters(), expected, strict=True))


def test_fit_epochs_is_the_total_to_reach():
    trainer = make_trainer()
    trainer.fit(X, y, epochs=1)
    trainer.fit(X, y, epochs=3)
    assert trainer.epoch == 3 and trainer.history.epoch == [1, 2, 3]
    with pytest.raises(ValueError, match="already completed 3"):
        trainer.fit(X, y, epochs=2)


def test_history_contents():
    trainer = make_trainer()
    h = trainer.fit(X, y, epochs=3, validation=(X_val, y_val))
    steps_per_epoch = math.ceil(len(X) / 16)
    assert h.stop_reason == "max_epochs" and h.n_epochs == 3 and h.n_steps == 3 * steps_per_epoch
    assert trainer.step == h.n_steps == trainer.opt_state.t
    for name in ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "grad_norm"):
        assert len(getattr(h, name)) == 3, name
    names = [n for n, _ in trainer.model.named_parameters()]
    assert list(h.layer_grad_norm) == names and list(h.update_ratio) == names
    for name in names:
        assert all(v > 0 and math.isfinite(v) for v in h.layer_grad_norm[name] + h.update_ratio[name])
    assert all(0 <= a <= 1 for a in h.train_accuracy + h.val_accuracy)
    # the schedule's rate at the last update of each epoch
    assert h.lr == pytest.approx([0.02 * 0.99 ** (k * steps_per_epoch - 1) for k in (1, 2, 3)])
    # the epoch's gradient norm is the mean of the per-step norms
    per_epoch = np.reshape(h.step_grad_norm, (3, steps_per_epoch)).mean(axis=1)
    assert h.grad_norm == pytest.approx(per_epoch.tolist())
    # validation loss is the model's loss in evaluation mode, as evaluate() computes it
    loss, acc = evaluate(trainer.model, X_val, y_val, "cross_entropy")
    assert (loss, acc) == (pytest.approx(h.val_loss[-1]), pytest.approx(h.val_accuracy[-1]))
    assert trainer.model.training  # evaluation did not leave the model in eval mode
    assert h.val_accuracy[-1] > 0.8 and h.train_loss[-1] < h.train_loss[0]
    assert "TrainHistory(epochs=3" in repr(h)


def test_update_ratio_formula():
    """ρ = mean ‖Δθ‖ / mean ‖θ‖ over the steps: with plain GD, Δθ = −η g, so ‖Δθ‖ = η ‖g‖."""
    Xr = np.random.default_rng(0).normal(size=(40, 3))
    yr = Xr @ np.array([[1.0], [-2.0], [0.5]])
    model = nn.Linear(3, 1, seed=0)
    h = fit(model, Xr, yr, optimizer=optim.gd(lr=0.05), epochs=1, batch_size=40)
    w0 = nn.Linear(3, 1, seed=0).weight.data
    expected = 0.05 * h.layer_grad_norm["weight"][0] / np.linalg.norm(w0)
    assert h.update_ratio["weight"][0] == pytest.approx(expected, rel=1e-12)


def test_early_stopping_restores_the_best_parameters():
    rng = np.random.default_rng(0)
    Xr = rng.normal(size=(64, 4))
    yr = Xr @ rng.normal(size=(4, 1))
    Xv, yv = Xr[:16], -yr[:16]  # validation targets that training moves away from: val loss rises

    def trainer(patience):
        model = nn.MLP([4, 8, 1], activation="tanh", seed=0)
        return Trainer(model, optim.sgd(lr=0.05), "mse", batch_size=8, seed=0, early_stopping=patience)

    t = trainer(2)
    h = t.fit(Xr, yr, epochs=30, validation=(Xv, yv))
    best = int(np.argmin(h.val_loss)) + 1
    assert h.stop_reason == "early_stopping" and h.best_epoch == best
    assert h.n_epochs == best + 2 < 30
    assert f"epoch {best}" in h.message and "restored" in h.message
    # the parameters are those after the best epoch: retrain to it and compare
    reference = trainer(100)
    reference.fit(Xr, yr, epochs=best, validation=(Xv, yv))
    for a, b in zip(t.model.parameters(), reference.model.parameters(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert evaluate(t.model, Xv, yv)[0] == pytest.approx(min(h.val_loss))
    assert t.fit(Xr, yr, epochs=40) is h and h.n_epochs == best + 2  # a stopped run stays stopped


def test_early_stopping_state_survives_a_checkpoint(tmp_path):
    rng = np.random.default_rng(1)
    Xr = rng.normal(size=(48, 3))
    yr = Xr @ rng.normal(size=(3, 1))
    Xv, yv = Xr[:12], -yr[:12]

    def trainer():
        plateau = schedules.ReduceOnPlateau(0.05, patience=0, factor=0.5)
        model = nn.MLP([3, 6, 1], activation="tanh", seed=1)
        stopper = EarlyStopping(patience=3)
        return Trainer(model, optim.sgd(lr=plateau, momentum=0.9), "mse", batch_size=8, early_stopping=stopper)

    whole = trainer()
    whole.fit(Xr, yr, epochs=30, validation=(Xv, yv))
    part = trainer()
    part.fit(Xr, yr, epochs=2, validation=(Xv, yv))
    part.save_checkpoint(tmp_path / "c.npz")
    resumed = trainer()
    resumed.load_checkpoint(tmp_path / "c.npz")
    assert resumed.optimizer.lr.lr == part.optimizer.lr.lr and resumed.early_stopping.wait == part.early_stopping.wait
    resumed.fit(Xr, yr, epochs=30, validation=(Xv, yv))
    assert resumed.history.as_dict() == whole.history.as_dict()
    assert whole.history.stop_reason == "early_stopping" and whole.optimizer.lr.lr < 0.05
    for a, b in zip(resumed.model.parameters(), whole.model.parameters(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_divergence_is_detected_and_named():
    Xr = np.random.default_rng(0).normal(size=(64, 5)) * 10
    yr = Xr @ np.ones((5, 1))
    model = nn.MLP([5, 16, 1], seed=0)
    with pytest.raises(DivergenceError, match=r"diverged at epoch \d+, step \d+") as err:
        fit(model, Xr, yr, optimizer=optim.sgd(lr=0.5), epochs=20, batch_size=16)
    message = str(err.value)
    assert "smaller learning rate" in message and "η=0.5" in message
    assert err.value.history.stop_reason == "diverged"

    model = nn.MLP([5, 16, 1], seed=0)
    h = fit(model, Xr, yr, optimizer=optim.sgd(lr=0.5), epochs=20, batch_size=16, on_divergence="stop")
    assert h.stop_reason == "diverged" and h.n_epochs < 20 and h.message == message
    # a sane learning rate does not trigger it
    h = fit(nn.MLP([5, 16, 1], seed=0), Xr, yr, optimizer=optim.sgd(lr=1e-4), epochs=3, batch_size=16)
    assert h.stop_reason == "max_epochs"


def test_float32_stays_float32(tmp_path):
    X32, y32 = make_two_moons(64, seed=0, dtype="float32")
    model = nn.MLP([2, 8, 2], seed=0, dtype="float32")
    trainer = Trainer(model, optim.adam(lr=0.01), "cross_entropy", batch_size=16)
    h = trainer.fit(X32, y32, epochs=2, validation=(X32, y32))
    assert all(p.dtype == np.float32 for p in model.parameters())
    assert all(m.dtype == np.float32 for m in trainer.opt_state.slots["m"])
    assert all(isinstance(v, float) for v in h.train_loss + h.val_loss)
    trainer.save_checkpoint(tmp_path / "f32.npz")
    ck = load_checkpoint(tmp_path / "f32.npz")
    assert {str(a.dtype) for a in ck.params.values()} == {"float32"}
    other = Trainer(nn.MLP([2, 8, 2], seed=5, dtype="float32"), optim.adam(lr=0.01), "cross_entropy", batch_size=16)
    other.load_checkpoint(tmp_path / "f32.npz")
    for a, b in zip(other.model.parameters(), model.parameters(), strict=True):
        assert a.dtype == np.float32
        np.testing.assert_array_equal(a, b)
    wrong = Trainer(nn.MLP([2, 8, 2], seed=0), optim.adam(lr=0.01), "cross_entropy", batch_size=16)
    with pytest.raises(TypeError, match="dtype float32"):
        wrong.load_checkpoint(tmp_path / "f32.npz")


def test_small_mlp_on_every_backend(backend, tmp_path):
    Xb, yb = make_two_moons(48, seed=0)  # on the active backend
    Xh, yh = B.to_numpy(Xb), B.to_numpy(yb)

    def trainer():
        model = nn.Sequential(nn.Linear(2, 8, seed=0), nn.ReLU(), nn.Dropout(0.2, seed=1), nn.Linear(8, 2, seed=2))
        return Trainer(model, optim.sgd(lr=0.1, momentum=0.9), "cross_entropy", batch_size=12, seed=0)

    whole = trainer()
    h = whole.fit(Xb, yb, epochs=3, validation=(Xb, yb))
    assert h.n_epochs == 3 and all(math.isfinite(v) for v in h.val_loss + h.grad_norm)
    assert all(type(p) is type(Xb) for p in whole.model.parameters())
    part = trainer()
    part.fit(Xb, yb, epochs=1, validation=(Xb, yb))
    part.save_checkpoint(tmp_path / "c.npz")
    resumed = trainer()
    resumed.load_checkpoint(tmp_path / "c.npz")
    assert all(type(p) is type(Xb) for p in resumed.model.parameters())
    assert all(type(b) is type(Xb) for b in resumed.opt_state.slots["b"])
    resumed.fit(Xb, yb, epochs=3, validation=(Xb, yb))
    for a, b in zip(resumed.model.parameters(), whole.model.parameters(), strict=True):
        np.testing.assert_array_equal(B.to_numpy(a), B.to_numpy(b))
    # the same numbers as on NumPy
    with B.using("numpy"):
        reference = trainer()
        reference.fit(Xh, yh, epochs=3, validation=(Xh, yh))
    for a, b in zip(whole.model.parameters(), reference.model.parameters(), strict=True):
        np.testing.assert_allclose(B.to_numpy(a), b, rtol=1e-12, atol=1e-14)


def test_checkpoint_is_plain_data_written_atomically(tmp_path):
    trainer = make_trainer()
    trainer.fit(X, y, epochs=1)
    path = trainer.save_checkpoint(tmp_path / "c.npz")
    assert [p.name for p in tmp_path.iterdir()] == ["c.npz"]  # no temporary file left behind
    with zipfile.ZipFile(path) as z:
        assert all(name.endswith(".npy") for name in z.namelist())
    with np.load(path, allow_pickle=False) as f:  # nothing needs unpickling
        meta = json.loads(str(f["__meta__"][()]))
        assert all(f[k].dtype != object for k in f.files)
    assert meta["format"] == "gdcourse.train checkpoint" and meta["epoch"] == 1
    assert meta["gdcourse"] == gdcourse.__version__ and set(meta["generators"]) == {"2", "5"}
    assert meta["config"]["batch_size"] == 16 and meta["optimizer"]["name"] == "adam"


def test_checkpoint_never_overwrites_another_run(tmp_path):
    path = tmp_path / "c.npz"
    a, b = make_trainer(), make_trainer()
    a.fit(X, y, epochs=1)
    a.save_checkpoint(path)
    a.fit(X, y, epochs=2)
    a.save_checkpoint(path)  # the same run: a newer checkpoint replaces the older
    assert load_checkpoint(path).epoch == 2
    b.fit(X, y, epochs=1)
    with pytest.raises(FileExistsError, match="another run"):
        b.save_checkpoint(path)
    assert load_checkpoint(path).run_id == a.run_id
    b.save_checkpoint(path, overwrite=True)
    assert load_checkpoint(path).run_id == b.run_id
    # a resumed trainer continues the run it loaded, so it may update that checkpoint
    c = make_trainer()
    c.load_checkpoint(path)
    assert c.run_id == b.run_id
    c.fit(X, y, epochs=2, checkpoint=path)
    assert load_checkpoint(path).epoch == 2
    other = tmp_path / "notes.npz"
    other.write_text("not a checkpoint")
    with pytest.raises(FileExistsError, match="not a gdcourse checkpoint"):
        c.save_checkpoint(other)
    assert other.read_text() == "not a checkpoint"


def test_loading_checks_the_settings(tmp_path):
    trainer = make_trainer()
    trainer.fit(X, y, epochs=1)
    path = trainer.save_checkpoint(tmp_path / "c.npz")
    model = nn.MLP([2, 16, 2], seed=0)
    with pytest.raises(ValueError, match="batch_size=16"):
        Trainer(model, optim.adam(lr=0.01), "cross_entropy", batch_size=8).load_checkpoint(path)
    with pytest.raises(ValueError, match="optimizer='adam'"):
        Trainer(model, optim.sgd(lr=0.01), "cross_entropy", batch_size=16).load_checkpoint(path)
    with pytest.raises(ValueError, match="do not match the model"):
        Trainer(model, optim.adam(lr=0.01), "cross_entropy", batch_size=16).load_checkpoint(path)
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "missing.npz")
    state = optim.adam(lr=0.1).init(model.parameters())
    save_checkpoint(tmp_path / "bare.npz", model, state, epoch=0)
    assert load_checkpoint(tmp_path / "bare.npz", model).opt_state.t == 0


def test_progress_is_silent_by_default_and_never_prints_timings(capsys):
    fit(nn.MLP([2, 4, 2], seed=0), X, y, optimizer=optim.adam(lr=0.01), loss="cross_entropy", epochs=2)
    assert capsys.readouterr() == ("", "")
    fit(nn.MLP([2, 4, 2], seed=0), X, y, optimizer=optim.adam(lr=0.01), loss="cross_entropy", epochs=2, progress=True)
    out, err = capsys.readouterr()
    assert out == "" and "epoch 2/2" in err and " s" not in err and "it/s" not in err


def test_bad_arguments_get_clear_errors():
    model = nn.MLP([2, 4, 2], seed=0)
    with pytest.raises(ValueError, match="unknown loss"):
        Trainer(model, optim.adam(lr=0.01), "hinge")
    with pytest.raises(ValueError, match="batch_size"):
        Trainer(model, optim.adam(lr=0.01), batch_size=0)
    with pytest.raises(TypeError, match="optimizer"):
        Trainer(model, 0.1)
    trainer = Trainer(model, optim.adam(lr=0.01), "cross_entropy")
    with pytest.raises(ValueError, match="120 examples but y has 10"):
        trainer.fit(X, y[:10], epochs=1)
    with pytest.raises(TypeError, match="validation"):
        trainer.fit(X, y, epochs=1, validation=X)


def test_a_loss_that_breaks_without_growing_is_blamed_on_a_formula_not_the_learning_rate(backend):
    """Naive cross-entropy log(sigmoid(z)): once sigmoid rounds to exactly 1 the loss is NaN, the lr is innocent."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 2))
    y = (X[:, :1] + X[:, 1:] > 0).astype(np.float64)
    Xb, yb = B.asarray(X, dtype="float32"), B.asarray(y, dtype="float32")

    def naive_cross_entropy(z, target):
        p = z.sigmoid()
        return -(p.log() * target + (1.0 - p).log() * (1.0 - target)).mean()

    model = nn.Sequential(nn.Linear(2, 1, seed=0, dtype="float32"))
    with pytest.raises(DivergenceError) as err, np.errstate(divide="ignore"):  # NumPy warns about log(0)
        fit(model, Xb, yb, loss=naive_cross_entropy, optimizer=optim.sgd(lr=5.0), epochs=200, batch_size=64)
    message = str(err.value)
    losses = err.value.history.step_loss
    assert not math.isfinite(losses[-1]) and max(losses[:-1]) == losses[0]  # it fell, then broke at once
    assert "without growing first points at a numerical problem" in message and "log of a probability" in message
    assert "smaller learning rate" not in message
    assert f"from {losses[0]:.3g} to {losses[-2]:.3g} over {len(losses) - 1} steps" in message


def test_the_shared_decision_on_step_losses():
    """The trainer's verdict is gdcourse.divergence.classify's (tests/test_divergence.py tests it in full)."""
    from gdcourse.divergence import classify

    nan = float("nan")
    assert classify([0.7, 0.5, 0.3, nan]).cause == "numerical"  # fell, then broke at once
    assert classify([0.7, 0.9, 5.0, nan]).cause == "learning_rate"  # grew first
    assert classify([0.7, 0.5, nan]).cause == "numerical"  # two falling losses are enough to tell
    assert classify([0.7, nan]).cause == "learning_rate"  # too fast to see: the usual cause, with a caveat
    assert classify([0.7, 0.5, 0.3]) is None


def test_a_diverged_run_keeps_its_last_good_checkpoint(tmp_path):
    Xr = np.random.default_rng(0).normal(size=(64, 5)) * 10
    yr = Xr @ np.ones((5, 1))

    def lr(t):  # sane for 2 epochs (4 steps each), then far too large
        return 1e-4 if t < 8 else 0.5

    trainer = Trainer(nn.MLP([5, 16, 1], seed=0), optim.sgd(lr=lr), "mse", batch_size=16, on_divergence="stop")
    h = trainer.fit(Xr, yr, epochs=10, checkpoint=tmp_path / "c.npz")
    assert h.stop_reason == "diverged" and "epoch 3" in h.message
    ck = load_checkpoint(tmp_path / "c.npz")
    assert ck.epoch == 2 and all(np.all(np.isfinite(a)) for a in ck.params.values())


def test_nesterov_lookahead_trains_and_resumes(tmp_path):
    def trainer():
        model = nn.Sequential(nn.Linear(2, 8, seed=0), nn.Tanh(), nn.Dropout(0.1, seed=1), nn.Linear(8, 2, seed=2))
        return Trainer(model, optim.nesterov(lr=0.05, momentum=0.9), "cross_entropy", batch_size=16)

    whole = trainer()
    h = whole.fit(X, y, epochs=4)
    assert h.train_loss[-1] < h.train_loss[0]
    part = trainer()
    part.fit(X, y, epochs=2, checkpoint=tmp_path / "n.npz")
    resumed = trainer()
    resumed.load_checkpoint(tmp_path / "n.npz")
    resumed.fit(X, y, epochs=4)
    for a, b in zip(resumed.model.parameters(), whole.model.parameters(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_checkpoint_with_pickled_objects_or_missing_arrays_is_refused(tmp_path):
    trainer = make_trainer()
    path = trainer.save_checkpoint(tmp_path / "c.npz")
    with np.load(path) as f:
        content = {k: f[k] for k in f.files}
    evil = tmp_path / "evil.npz"
    np.savez(evil, **content, payload=np.array([{"not": "data"}], dtype=object))
    with pytest.raises(ValueError, match="allow_pickle"):
        load_checkpoint(evil)
    broken = tmp_path / "broken.npz"
    np.savez(broken, **{k: v for k, v in content.items() if k != "param/2"})
    model = make_trainer().model
    before = [p.copy() for p in model.parameters()]
    with pytest.raises(ValueError, match="param/2"):
        load_checkpoint(broken, model)
    other = Trainer(nn.MLP([2, 16, 2], seed=0), optim.adam(lr=0.01), "cross_entropy", batch_size=16)
    with pytest.raises(ValueError, match="do not match"):
        load_checkpoint(path, other.model)
    for a, b in zip(model.parameters(), before, strict=True):  # a refused checkpoint changes nothing
        np.testing.assert_array_equal(a, b)
