"""Checkpoints that fail clearly and never resume the wrong run.

Every file that is not a valid checkpoint raises :class:`~gdcourse.train.CheckpointError` naming the
file and the problem; a bad checkpoint folder is refused before the first epoch; the temporary
files of killed writes are removed (and nothing else); a resume with other settings is refused,
listing each difference, unless ``allow_changes=True``; and resuming after a SIGKILL stays bit-exact.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest
from test_train import (  # the resume test's model and data (SETUP also runs in the subprocess)
    SETUP,
    X,
    X_val,
    make_trainer,
    y,
    y_val,
)

import gdcourse.train.checkpoint as checkpoint
from gdcourse import nn, optim, schedules
from gdcourse.regularization import EarlyStopping
from gdcourse.train import (
    CheckpointError,
    CheckpointMismatchError,
    CheckpointWarning,
    Trainer,
    load_checkpoint,
)

ROOT = Path(__file__).resolve().parents[1]



def _trainer(
    *,
    lr: float | schedules.Schedule = 0.01,
    betas: tuple[float, float] = (0.9, 0.999),
    activation: str = "tanh",
    sizes: tuple[int, ...] = (2, 8, 2),
    batch_size: int = 16,
    early_stopping: EarlyStopping | None = None,
) -> Trainer:
    model = nn.MLP(list(sizes), activation=activation, seed=0)
    opt = optim.adam(lr=lr, betas=betas)
    return Trainer(model, opt, "cross_entropy", batch_size=batch_size, seed=0, early_stopping=early_stopping)


@pytest.fixture
def ckpt(tmp_path: Path) -> Path:
    """A valid 1-epoch checkpoint of ``_trainer()``."""
    trainer = _trainer()
    trainer.fit(X, y, epochs=1)
    return trainer.save_checkpoint(tmp_path / "c.npz")


def _rewrite(src: Path, dst: Path, *, meta=None, drop=(), extra=None) -> Path:
    """A copy of the checkpoint ``src`` with its metadata changed by ``meta(dict)`` and arrays dropped/added."""
    with np.load(src, allow_pickle=False) as f:
        content = {k: f[k] for k in f.files if k not in drop}
    if meta is not None:
        m = json.loads(str(content["__meta__"][()]))
        meta(m)
        content["__meta__"] = np.array(json.dumps(m))
    np.savez(dst, **content, **(extra or {}))
    return dst


# ---------------------------------------------------------------------------------------- corrupt files


def _corrupt_files(ckpt: Path) -> dict[str, tuple[Path, str]]:
    folder = ckpt.parent
    data = ckpt.read_bytes()
    files: dict[str, tuple[Path, str]] = {}

    def write(name: str, content: bytes, expected: str) -> None:
        (folder / name).write_bytes(content)
        files[name] = (folder / name, expected)

    write("truncated.npz", data[: len(data) // 2], r"truncated or damaged \(\d+ bytes")
    write("header_only.npz", data[:2], r"truncated \(2 bytes\)")
    write("empty.npz", b"", r"empty file \(0 bytes\)")
    write("notes.npz", b"my notes, not a checkpoint\n", r"not a gdcourse checkpoint \(not a zip archive\)")
    np.save(folder / "one.npy", np.zeros(3))
    files["one.npy"] = (folder / "one.npy", r"a single \.npy array, not an \.npz archive")
    np.savez(folder / "foreign.npz", weights=np.zeros(3), bias=np.ones(2))
    files["foreign.npz"] = (folder / "foreign.npz", r"not a gdcourse checkpoint \(a zip archive without '__meta__'")
    # a byte of an array's data flipped: the zip member's CRC no longer matches
    with np.load(ckpt) as f:
        needle = f["param/0"].tobytes()
    at = data.index(needle) + 3
    write(
        "flipped.npz", data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :], r"truncated or damaged: array 'param/0'"
    )

    def rewrite(name: str, expected: str, **kw) -> None:
        files[name] = (_rewrite(ckpt, folder / name, **kw), expected)

    rewrite("future.npz", r"written by format version 99 .*this is version 1", meta=lambda m: m.update(version=99))
    rewrite("old.npz", r"written by format version 0 .*this is version 1", meta=lambda m: m.update(version=0))
    rewrite("noversion.npz", r"written by format version unknown", meta=lambda m: m.pop("version"))
    rewrite("other_format.npz", r"does not say format", meta=lambda m: m.update(format="someone else's"))
    rewrite("missing.npz", r"missing array 'param/2' \(parameter '2.weight'\)", drop=("param/2",))
    rewrite("no_epoch.npz", r"malformed metadata \(no entry 'epoch'\)", meta=lambda m: m.pop("epoch"))
    rewrite("bad_history.npz", r"malformed metadata", meta=lambda m: m["history"].update(bogus=[1]))
    rewrite("bad_params.npz", r"malformed metadata", meta=lambda m: m.update(params=3))
    rewrite(
        "wrong_shape.npz",
        r"array 'param/0' \(parameter '0.weight'\) is float64 of shape \(8, 2\), its metadata says float64 of shape",
        meta=lambda m: m["params"][0].update(shape=[2, 8]),
    )
    rewrite(
        "pickled.npz",
        r"array 'payload' holds Python objects.*allow_pickle=False",
        extra={"payload": np.array([{"not": "data"}], dtype=object)},
    )
    files["meta_not_json.npz"] = (folder / "meta_not_json.npz", r"'__meta__' entry is not a JSON object")
    np.savez(folder / "meta_not_json.npz", __meta__=np.array("{not json"))
    return files


def test_every_invalid_file_raises_one_clear_error(ckpt):
    for name, (path, expected) in _corrupt_files(ckpt).items():
        with pytest.raises(CheckpointError, match=expected) as err:
            load_checkpoint(path)
        assert str(path) in str(err.value), name
        assert err.value.path == path and isinstance(err.value, ValueError)
        # the same through a trainer, which is left untouched
        trainer = _trainer()
        before = [p.copy() for p in trainer.model.parameters()]
        with pytest.raises(CheckpointError, match=expected):
            trainer.load_checkpoint(path)
        assert trainer.epoch == 0 and trainer.history.n_epochs == 0
        for a, b in zip(trainer.model.parameters(), before, strict=True):
            np.testing.assert_array_equal(a, b)
    with pytest.raises(FileNotFoundError):
        load_checkpoint(ckpt.parent / "absent.npz")


def test_an_invalid_file_is_never_overwritten_by_a_save(ckpt):
    empty = ckpt.parent / "empty.npz"
    empty.write_bytes(b"")
    trainer = _trainer()
    with pytest.raises(FileExistsError, match=r"not a gdcourse checkpoint.*empty file"):
        trainer.save_checkpoint(empty)
    assert empty.read_bytes() == b""


def test_checkpoint_error_pickles():
    import pickle

    err = pickle.loads(pickle.dumps(CheckpointError("/x/c.npz", "truncated")))
    assert isinstance(err, CheckpointError) and str(err) == "cannot read checkpoint /x/c.npz: truncated"


# ---------------------------------------------------------------------------------------- the folder


def _assert_untrained(trainer: Trainer, before: list[np.ndarray]) -> None:
    assert trainer.epoch == 0 and trainer.step == 0 and trainer.history.n_epochs == 0
    for a, b in zip(trainer.model.parameters(), before, strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_file_in_place_of_the_folder_is_refused_before_epoch_1(tmp_path):
    (tmp_path / "runs").write_text("a file")
    trainer = _trainer()
    before = [p.copy() for p in trainer.model.parameters()]
    with pytest.raises(NotADirectoryError, match=r"cannot keep checkpoints in .*runs is a file, not a folder"):
        trainer.fit(X, y, epochs=2, checkpoint=tmp_path / "runs" / "c.npz")
    with pytest.raises(NotADirectoryError, match="is a file, not a folder"):
        trainer.fit(X, y, epochs=2, checkpoint=tmp_path / "runs" / "deeper" / "c.npz")
    with pytest.raises(IsADirectoryError, match="is a folder; give the name of a file"):
        trainer.fit(X, y, epochs=2, checkpoint=tmp_path)
    _assert_untrained(trainer, before)
    assert (tmp_path / "runs").read_text() == "a file"


def test_an_unwritable_folder_is_refused_before_epoch_1(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(tmp_path / ".c.npz.abcdefgh.tmp"))

    monkeypatch.setattr(checkpoint.tempfile, "mkstemp", refuse)
    trainer = _trainer()
    before = [p.copy() for p in trainer.model.parameters()]
    with pytest.raises(PermissionError, match=f"cannot write checkpoints in {tmp_path}: Permission denied") as err:
        trainer.fit(X, y, epochs=2, checkpoint=tmp_path / "c.npz")
    assert ".tmp" not in str(err.value)  # the folder is named, not a hidden temporary file
    _assert_untrained(trainer, before)


def test_another_runs_checkpoint_is_refused_before_epoch_1(ckpt):
    trainer = _trainer()
    before = [p.copy() for p in trainer.model.parameters()]
    with pytest.raises(FileExistsError, match="another run"):
        trainer.fit(X, y, epochs=2, checkpoint=ckpt)
    _assert_untrained(trainer, before)


def test_a_missing_folder_is_created(tmp_path):
    trainer = _trainer()
    trainer.fit(X, y, epochs=1, checkpoint=tmp_path / "a" / "b" / "c.npz")
    assert load_checkpoint(tmp_path / "a" / "b" / "c.npz").epoch == 1
    assert sorted(p.name for p in (tmp_path / "a" / "b").iterdir()) == ["c.npz"]  # no probe file left


# ---------------------------------------------------------------------------------------- temporary files


def test_orphan_temp_files_are_removed_and_nothing_else(tmp_path):
    orphans = [".c.npz.abcd1234.tmp", ".c.npz.x_y0z9qq.tmp"]
    kept = [
        "notes.txt",
        "c.npz.tmp",  # not the writer's pattern
        ".c.npz.tmp",
        ".c.npz.ABCD1234.tmp",  # tempfile never uses capitals
        ".c.npz.abcd123.tmp",  # 7 characters
        ".c.npz.abcd1234.tmp.keep",
        ".d.npz.abcd1234.tmp",  # another checkpoint's write, maybe in progress
        "other.npz",
    ]
    for name in orphans + kept:
        (tmp_path / name).write_text(name)
    (tmp_path / ".c.npz.dir12345.tmp").mkdir()  # a folder of that name is not ours either
    trainer = _trainer()
    trainer.fit(X, y, epochs=1, checkpoint=tmp_path / "c.npz")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted([*kept, ".c.npz.dir12345.tmp", "c.npz"])
    for name in kept:
        assert (tmp_path / name).read_text() == name


def test_a_failed_write_removes_its_temp_file(tmp_path, monkeypatch):
    trainer = _trainer()
    trainer.fit(X, y, epochs=1, checkpoint=tmp_path / "c.npz")

    def broken_savez(f, *args, **kwargs):
        f.write(b"PK\x03\x04 half a checkpoint")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(checkpoint.np, "savez", broken_savez)
    with pytest.raises(OSError, match="No space left"):
        trainer.save_checkpoint(tmp_path / "c.npz")
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.npz"]
    assert load_checkpoint(tmp_path / "c.npz").epoch == 1  # the previous checkpoint is intact


# ---------------------------------------------------------------------------------------- other settings

MISMATCHES = {
    "lr": (dict(lr=0.1), ["lr: checkpoint 0.01, now 0.1"]),
    "betas": (dict(betas=(0.8, 0.999)), ["betas: checkpoint [0.9, 0.999], now [0.8, 0.999]"]),
    "activation": (dict(activation="relu"), ["layer 1: checkpoint Tanh(), now ReLU()"]),
    "schedule": (
        dict(lr=schedules.exponential(0.01, gamma=0.9)),
        ["lr: checkpoint 0.01, now exponential(lr0=0.01, gamma=0.9)"],
    ),
    "several": (
        dict(lr=0.1, activation="sigmoid"),
        ["lr: checkpoint 0.01, now 0.1", "layer 1: checkpoint Tanh(), now Sigmoid()"],
    ),
}


@pytest.mark.parametrize("case", list(MISMATCHES))
def test_other_settings_are_refused_then_accepted_with_allow_changes(ckpt, case):
    changes, lines = MISMATCHES[case]
    trainer = _trainer(**changes)
    before = [p.copy() for p in trainer.model.parameters()]
    with pytest.raises(CheckpointMismatchError, match="allow_changes=True") as err:
        trainer.load_checkpoint(ckpt)
    message = str(err.value)
    assert str(ckpt) in message
    listed = [line.strip() for line in message.splitlines()[1:-1]]
    assert listed == lines
    _assert_untrained(trainer, before)  # a refused checkpoint changes nothing

    with pytest.warns(CheckpointWarning, match="changed settings") as record:
        ck = trainer.load_checkpoint(ckpt, allow_changes=True)
    assert all(line in str(record[0].message) for line in lines)
    assert trainer.epoch == ck.epoch == 1
    for a, b in zip(trainer.model.parameters(), ck.params.values(), strict=True):
        np.testing.assert_array_equal(a, b)
    trainer.fit(X, y, epochs=2, checkpoint=ckpt)  # continues with its own settings, and stores them
    assert load_checkpoint(ckpt).hyperparameters == trainer.hyperparameters
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _trainer(**changes).load_checkpoint(ckpt)  # now the same settings: no complaint


def test_another_layer_layout_is_refused_with_the_layers_listed(ckpt):
    with pytest.raises(CheckpointMismatchError, match="do not match the model|the checkpoint has shape") as err:
        _trainer(sizes=(2, 9, 2)).load_checkpoint(ckpt, allow_changes=True)  # arrays that cannot fit: never
    assert "layer 0: checkpoint Linear(in_features=2, out_features=8, bias=True), now Linear(" in str(err.value)
    with pytest.raises(CheckpointMismatchError, match="do not match the model") as err:
        _trainer(sizes=(2, 8, 8, 2)).load_checkpoint(ckpt)
    assert "layer 3: checkpoint (not recorded), now Tanh()" in str(err.value)


def test_a_dropout_rate_change_is_a_layer_difference(tmp_path):
    trainer = make_trainer()
    trainer.fit(X, y, epochs=1)
    path = trainer.save_checkpoint(tmp_path / "c.npz")
    other = make_trainer()
    other.model[2].p = 0.5
    with pytest.raises(CheckpointMismatchError, match=r"layer 2: checkpoint Dropout\(p=0.3\), now Dropout\(p=0.5\)"):
        other.load_checkpoint(path)


def test_batch_size_and_early_stopping_settings(ckpt, tmp_path):
    with pytest.raises(CheckpointMismatchError, match="batch_size=16, this trainer has batch_size=8"):
        _trainer(batch_size=8).load_checkpoint(ckpt)
    with pytest.warns(CheckpointWarning, match="batch_size: checkpoint 16, now 8"):
        t = _trainer(batch_size=8)
        t.load_checkpoint(ckpt, allow_changes=True)
    assert t.batch_size == 8

    first = _trainer(early_stopping=EarlyStopping(patience=3))
    first.fit(X, y, epochs=1, validation=(X_val, y_val))
    path = first.save_checkpoint(tmp_path / "es.npz")
    with pytest.raises(CheckpointMismatchError, match="early_stopping.patience: checkpoint 3, now 5"):
        _trainer(early_stopping=EarlyStopping(patience=5)).load_checkpoint(path)
    resumed = _trainer(early_stopping=EarlyStopping(patience=5))
    with pytest.warns(CheckpointWarning, match="early_stopping.patience: checkpoint 3, now 5"):
        resumed.load_checkpoint(path, allow_changes=True)
    assert resumed.early_stopping.patience == 5  # the trainer's own setting, as allowed
    assert resumed.early_stopping.n_updates == first.early_stopping.n_updates  # the state is the checkpoint's
    with pytest.raises(CheckpointMismatchError, match="early stopping"):
        _trainer().load_checkpoint(path, allow_changes=True)  # the saved state has nowhere to go


def test_another_update_rule_is_refused_even_with_allow_changes(ckpt):
    model = nn.MLP([2, 8, 2], activation="tanh", seed=0)
    trainer = Trainer(model, optim.sgd(lr=0.01), "cross_entropy", batch_size=16)
    with pytest.raises(CheckpointMismatchError, match="optimizer='adam'.*another update rule"):
        trainer.load_checkpoint(ckpt, allow_changes=True)


def test_a_checkpoint_from_before_stored_settings_loads_with_a_warning(ckpt, tmp_path):
    legacy = _rewrite(ckpt, tmp_path / "legacy.npz", meta=lambda m: m.pop("hyperparameters"))
    assert load_checkpoint(legacy).hyperparameters is None
    trainer = _trainer(lr=0.1)  # cannot be told apart: the warning says so
    with pytest.warns(CheckpointWarning, match="cannot be compared"):
        ck = trainer.load_checkpoint(legacy)
    assert trainer.epoch == ck.epoch == 1
    with pytest.raises(CheckpointMismatchError, match="batch_size=16"):  # what it recorded is still checked
        _trainer(batch_size=8).load_checkpoint(legacy)


# ---------------------------------------------------------------------------------------- a killed run

KILLED = (
    SETUP
    + """
import os, signal, sys
saves = []
real_savez = np.savez


def dying_savez(f, *args, **kwargs):  # the third checkpoint's write is killed half-way
    if len(saves) == 2:
        f.write(b"PK\\x03\\x04 half a checkpoint")
        f.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    saves.append(1)
    real_savez(f, *args, **kwargs)


np.savez = dying_savez
trainer = make_trainer()
trainer.fit(X, y, epochs=4, validation=(X_val, y_val), checkpoint=sys.argv[1])
"""
)


def test_resume_after_a_kill_mid_write_is_bit_exact_and_cleans_up(tmp_path):
    uninterrupted = make_trainer()
    uninterrupted.fit(X, y, epochs=4, validation=(X_val, y_val))

    path = tmp_path / "run.npz"
    (tmp_path / "notes.txt").write_text("mine")
    script = tmp_path / "killed.py"
    script.write_text(textwrap.dedent(KILLED))
    done = subprocess.run(
        [sys.executable, str(script), str(path)], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    orphans = [p.name for p in tmp_path.iterdir() if p.name.startswith(".run.npz.")]
    assert len(orphans) == 1 and orphans[0].endswith(".tmp")  # what a killed write leaves
    assert load_checkpoint(path).epoch == 2  # the last complete checkpoint is intact

    resumed = make_trainer()
    resumed.load_checkpoint(path)
    resumed.fit(X, y, epochs=4, validation=(X_val, y_val), checkpoint=path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["killed.py", "notes.txt", "run.npz"]
    assert (tmp_path / "notes.txt").read_text() == "mine"
    for a, b in zip(resumed.model.parameters(), uninterrupted.model.parameters(), strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)  # bit for bit
    assert json.dumps(resumed.history.as_dict()) == json.dumps(uninterrupted.history.as_dict())
    assert load_checkpoint(path).epoch == 4
