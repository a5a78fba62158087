r"""The checkpoint format of :mod:`gdcourse.train`.

**Checkpoints** (:func:`save_checkpoint`, :func:`load_checkpoint`, :meth:`Trainer.save_checkpoint`,
:meth:`Trainer.load_checkpoint`) hold everything the rest of the run depends on: the parameters,
the buffers (:meth:`~gdcourse.nn.Module.register_buffer`: BatchNorm's running statistics), the
optimizer state, the number of epochs and steps done, the state of the shuffling generator
and of every dropout layer's generator, the early-stopping and plateau-schedule state and the
history.  So training 2 epochs, saving, loading in another process and training 2 more gives
*exactly* the parameters of 4 uninterrupted epochs (``tests/test_train.py`` checks it).

The file is one ``.npz`` archive: the arrays (as they are, float32 stays float32) plus one entry
``__meta__`` holding JSON text (numbers, names, generator states).  It is read with
``numpy.load(..., allow_pickle=False)`` and contains no pickled object, so **loading a checkpoint
from a stranger cannot execute code** (it can still hold wrong numbers: it is data, not trust).
It is written atomically (a temporary file in the same folder, then :func:`os.replace`), so a crash
mid-write leaves the previous checkpoint intact, and a checkpoint of *another run* (another
``run_id``) is never overwritten unless ``overwrite=True``.

A file that is not a valid checkpoint of this format (empty, truncated, damaged, not a zip archive,
another program's ``.npz``, another format version, a missing array) raises
:class:`CheckpointError`, whose message names the file and the problem.  :meth:`Trainer.fit` checks
the checkpoint's folder before the first epoch (it exists or can be created, is a folder, is
writable) and removes the temporary files that killed writes of that checkpoint left behind.  The
checkpoint also stores the settings that define the run (:attr:`Trainer.hyperparameters`: the
optimizer and its hyperparameters, the learning rate or schedule, the loss, batch size, early
stopping, every layer), and :meth:`Trainer.load_checkpoint` refuses to resume with other ones,
listing each difference (``lr: checkpoint 0.01, now 0.1``), unless ``allow_changes=True``.

The format version changes only when a reader of this version would misread a file.  Sections
added since version 1 are optional, written only when there is something to hold, and their
absence reads as empty: ``hyperparameters`` (absent from the oldest checkpoints) and ``buffers``
(the model's buffers, ``{"name", "key", "shape", "dtype"}`` per buffer like ``params``, arrays
``buffer/<i>``; absent for a model without buffers, whose checkpoints are therefore as before).  A
checkpoint without ``buffers`` loads into a model without buffers; a model with buffers refuses it,
naming them.
"""

from __future__ import annotations

import copy
import errno
import json
import os
import re
import tempfile
import uuid
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from array_api_compat import device as _device
from array_api_compat import is_array_api_obj

from gdcourse._version import __version__
from gdcourse.backend import array_namespace, dtype_of, to_numpy
from gdcourse.nn.module import Module
from gdcourse.optim import OptState
from gdcourse.regularization import EarlyStopping
from gdcourse.schedules import ReduceOnPlateau, Schedule
from gdcourse.train.history import TrainHistory

__all__ = [
    "Checkpoint",
    "CheckpointError",
    "CheckpointMismatchError",
    "CheckpointWarning",
    "load_checkpoint",
    "save_checkpoint",
]

Array = Any
FORMAT = "gdcourse.train checkpoint"
VERSION = 1


def _named_modules(module: Module, prefix: str = "") -> Iterator[tuple[str, Module]]:
    yield prefix.rstrip(".") or "(model)", module
    for name, child in module._modules.items():
        yield from _named_modules(child, f"{prefix}{name}.")


def _generators(model: Module) -> dict[str, np.random.Generator]:
    """Every module's host generator (dropout layers' masks), by module path."""
    return {
        name: generator
        for name, m in _named_modules(model)
        if isinstance(generator := getattr(m, "generator", None), np.random.Generator)
    }


def _set_generator_state(gen: np.random.Generator, state: dict[str, Any], what: str) -> None:
    if not isinstance(state, dict) or state.get("bit_generator") != type(gen.bit_generator).__name__:
        got = state.get("bit_generator") if isinstance(state, dict) else state
        raise ValueError(
            f"{what}: the checkpoint holds a {got!r} generator, this one is {type(gen.bit_generator).__name__}"
        )
    gen.bit_generator.state = state


# ----------------------------------------------------------------------------------------------
# Checkpoints
# ----------------------------------------------------------------------------------------------


class CheckpointError(ValueError):
    """A file that is not a valid checkpoint of :mod:`gdcourse.train`, whatever is wrong with it.

    Raised by :func:`load_checkpoint` and :meth:`Trainer.load_checkpoint` for an empty, truncated or
    damaged file, a file that is not a zip archive, an ``.npz`` archive of other arrays, a checkpoint
    of another format version, metadata that does not describe the arrays it holds, and arrays that
    would need unpickling.  The message names the file and the problem.  A subclass of
    :class:`ValueError`; a missing file is a :class:`FileNotFoundError`, as usual.

    Parameters
    ----------
    path : str or path-like
        The file.
    problem : str
        What is wrong with it, e.g. ``"not a gdcourse checkpoint (not a zip archive)"``.

    Attributes
    ----------
    path : pathlib.Path
        The file.
    problem : str
        What is wrong with it.
    """

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"cannot read checkpoint {self.path}: {problem}")

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.path, self.problem)


class CheckpointMismatchError(ValueError):
    """A valid checkpoint of a run with other settings than the trainer asked to resume it.

    Raised by :meth:`Trainer.load_checkpoint`; the message lists every difference, one per line
    (``"lr: checkpoint 0.01, now 0.1"``).  A subclass of :class:`ValueError`.
    """


class CheckpointWarning(UserWarning):
    """A resumed run whose settings changed (``allow_changes=True``) or could not be compared (old checkpoint)."""


@dataclass
class Checkpoint:
    """The content of a checkpoint file, as returned by :func:`load_checkpoint`.

    Attributes
    ----------
    run_id : str
        Identifier of the run that wrote it.
    epoch, step : int
        Epochs and optimizer steps completed.
    params : dict of str to numpy.ndarray
        Parameters by name (host arrays, their saved dtype).
    buffers : dict of str to numpy.ndarray
        Buffers by name (:meth:`~gdcourse.nn.Module.named_buffers`; host arrays, their saved dtype),
        in the order saved; empty for a model without buffers and for a checkpoint from before
        gdcourse saved them.
    opt_state : OptState
        Optimizer state; on the model's device when a model was given to :func:`load_checkpoint`,
        else on the host.
    optimizer : str
        Name of the update rule that made ``opt_state`` (e.g. ``"adam"``).
    shuffle_state : dict or None
        State of the shuffling generator (``numpy.random.Generator.bit_generator.state``).
    generator_states : dict
        State of each module's generator (dropout), by module path.
    early_stopping : dict or None
        Early-stopping state, with ``"best_params"`` as a list of host arrays (or None).
    schedule : dict or None
        State of a :class:`~gdcourse.schedules.ReduceOnPlateau` learning rate.
    history : TrainHistory
        The history up to the checkpoint.
    config : dict
        The trainer's settings (loss, batch size, shuffle, ...).
    meta : dict
        The whole JSON metadata.
    hyperparameters : dict or None
        The settings that define the run (:attr:`Trainer.hyperparameters`); None for a checkpoint
        written before gdcourse stored them.
    """

    run_id: str
    epoch: int
    step: int
    params: dict[str, np.ndarray]
    opt_state: OptState | None
    optimizer: str
    shuffle_state: dict[str, Any] | None
    generator_states: dict[str, Any]
    early_stopping: dict[str, Any] | None
    schedule: dict[str, Any] | None
    history: TrainHistory
    config: dict[str, Any]
    meta: dict[str, Any]
    hyperparameters: dict[str, Any] | None = None
    buffers: dict[str, np.ndarray] = field(default_factory=dict)


def _flat_slots(opt_state: OptState, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """Describe ``opt_state.slots`` in JSON, moving its arrays into ``arrays``."""
    out: dict[str, Any] = {}
    for slot, value in opt_state.slots.items():
        items = list(value) if isinstance(value, list | tuple) else [value]
        described: list[dict[str, str | float]] = []
        for i, v in enumerate(items):
            if is_array_api_obj(v):
                key = f"opt/{slot}/{i}"
                arrays[key] = np.asarray(to_numpy(v))
                described.append({"array": key})
            elif isinstance(v, int | float | np.number) and not isinstance(v, bool):
                described.append({"float": float(v)})
            else:
                raise TypeError(
                    f"optimizer slot {slot!r} holds a {type(v).__name__}; only arrays and numbers are saved"
                )
        kind = "list" if isinstance(value, list) else ("tuple" if isinstance(value, tuple) else "one")
        out[slot] = {"kind": kind, "items": described}
    return out


def _existing_run(path: Path) -> str | None:
    """Run id of the checkpoint at ``path``; raises FileExistsError if the file is not one."""
    try:
        meta, _ = _read_file(path, arrays=False)
    except CheckpointError as err:
        raise FileExistsError(
            f"{path} exists and is not a gdcourse checkpoint this version can read ({err.problem}); refusing to "
            "overwrite it. Choose another path, or delete the file."
        ) from None
    except OSError as err:
        raise FileExistsError(
            f"{path} exists and is not a gdcourse checkpoint ({err}); refusing to overwrite it. "
            "Choose another path, or delete the file."
        ) from None
    return meta.get("run_id")


def _refuse_another_run(path: Path, run_id: str, advice: str) -> None:
    """Raise FileExistsError unless the file at ``path`` is a checkpoint of the run ``run_id``."""
    other = _existing_run(path)
    if other != run_id:
        raise FileExistsError(
            f"{path} holds a checkpoint of another run (run id {other}); refusing to overwrite it. {advice}"
        )


# The writer's temporary files: ".<checkpoint name>.<8 characters of tempfile's alphabet>.tmp".
_TEMP_SUFFIX = ".tmp"


def _temp_prefix(path: Path) -> str:
    return f".{path.name}."


def _orphan_temp_files(path: Path) -> list[Path]:
    """Temporary files that :func:`save_checkpoint` left next to ``path`` when a write was killed.

    Only names of the writer's own pattern (``.<name>.XXXXXXXX.tmp``, ``XXXXXXXX`` from
    :func:`tempfile.mkstemp`'s alphabet) and regular files, never links or folders.
    """
    pattern = re.compile(re.escape(_temp_prefix(path)) + r"[a-z0-9_]{8}" + re.escape(_TEMP_SUFFIX))
    try:
        entries = list(path.parent.iterdir())
    except OSError:
        return []
    return [p for p in entries if pattern.fullmatch(p.name) and not p.is_symlink() and p.is_file()]


def _os_error(err: OSError, message: str) -> OSError:
    """An OSError of the same kind as ``err`` (``OSError(errno, ...)`` picks the subclass) with ``message``."""
    return OSError(err.errno, message) if err.errno is not None else OSError(message)


def _prepare_folder(path: Path) -> None:
    """Make sure the folder of the checkpoint ``path`` exists and is a folder; clear errors if it cannot be."""
    if path.is_dir():
        raise IsADirectoryError(
            errno.EISDIR,
            f"the checkpoint path {path} is a folder; give the name of a file in it, e.g. {path / 'ckpt.npz'}",
        )
    folder = path.parent
    if folder.is_dir():
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        blocker = next((p for p in (folder, *folder.parents) if p.exists() or p.is_symlink()), None)
        if blocker is not None and not blocker.is_dir():
            raise NotADirectoryError(
                errno.ENOTDIR, f"cannot keep checkpoints in {folder}: {blocker} is a file, not a folder"
            ) from None
        raise _os_error(err, f"cannot create the checkpoint folder {folder}: {err.strerror or err}") from None


def _prepare_checkpoint(path: Path, run_id: str) -> list[Path]:
    """Check, before training, that checkpoints can be written at ``path``; remove killed writes' temp files.

    The folder exists (or is created), is a folder and is writable (a probe file of the writer's
    own pattern is created and removed), and ``path`` is not another run's checkpoint or another
    file.  Returns the leftover temporary files removed.
    """
    _prepare_folder(path)
    if path.exists():
        _refuse_another_run(
            path, run_id, "Choose another path, resume that run with Trainer.load_checkpoint, or delete the file."
        )
    removed = []
    for orphan in _orphan_temp_files(path):
        try:
            orphan.unlink()
        except FileNotFoundError:
            continue
        except OSError:
            break  # unwritable: the probe below says so clearly
        removed.append(orphan)
    try:
        fd, probe = tempfile.mkstemp(prefix=_temp_prefix(path), suffix=_TEMP_SUFFIX, dir=path.parent)
    except OSError as err:
        raise _os_error(err, f"cannot write checkpoints in {path.parent}: {err.strerror or err}") from None
    os.close(fd)
    os.unlink(probe)
    return removed


def _describe_arrays(
    named: list[tuple[str, Array]], prefix: str, arrays: dict[str, np.ndarray]
) -> list[dict[str, Any]]:
    """Name, key (``<prefix>/<i>``), shape and dtype of each named array, in JSON; host copies go into ``arrays``."""
    described = []
    for i, (name, p) in enumerate(named):
        key = f"{prefix}/{i}"
        arrays[key] = np.asarray(to_numpy(p))
        described.append({"name": name, "key": key, "shape": list(p.shape), "dtype": str(arrays[key].dtype)})
    return described


def _describe_early_stopping(stopper: EarlyStopping, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """The state of ``stopper`` in JSON; its best parameters go into ``arrays`` (their keys in ``best_params``)."""
    best = stopper.best_params
    best_keys = None
    if best is not None:
        best_list = list(best) if isinstance(best, list | tuple) else [best]
        best_keys = []
        for i, b in enumerate(best_list):
            arrays[f"early_stopping/best/{i}"] = np.asarray(to_numpy(b))
            best_keys.append(f"early_stopping/best/{i}")
    return {
        "patience": stopper.patience,
        "min_delta": stopper.min_delta,
        "restore_best": stopper.restore_best,
        "best_loss": stopper.best_loss,
        "best_epoch": stopper.best_epoch,
        "wait": stopper.wait,
        "n_updates": stopper.n_updates,
        "stopped": stopper.stopped,
        "best_params": best_keys,
    }


def _write_atomically(path: Path, text: str, arrays: dict[str, np.ndarray]) -> None:
    """Write the ``.npz`` archive (``__meta__`` = ``text``, then ``arrays``) to a temporary file that replaces ``path``.

    The temporary file ``.<name>.XXXXXXXX.tmp`` lives in ``path``'s folder (created if needed), is
    flushed to the disk before :func:`os.replace`, and is removed if the write fails.
    """
    _prepare_folder(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(path), suffix=_TEMP_SUFFIX, dir=path.parent)
    except OSError as err:
        raise _os_error(err, f"cannot write the checkpoint {path}: {err.strerror or err}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            # mypy checks **arrays against savez's allow_pickle: bool too; its keys are "param/...", "opt/..."...
            np.savez(f, __meta__=np.array(text), **arrays)  # type: ignore[arg-type]
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_checkpoint(
    path: str | os.PathLike[str],
    model: Module,
    opt_state: OptState,
    *,
    epoch: int,
    step: int = 0,
    run_id: str | None = None,
    optimizer: str = "",
    shuffle_state: dict[str, Any] | None = None,
    early_stopping: EarlyStopping | None = None,
    schedule: ReduceOnPlateau | None = None,
    history: TrainHistory | None = None,
    config: dict[str, Any] | None = None,
    hyperparameters: dict[str, Any] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a checkpoint: parameters, optimizer state and trainer state, atomically, as ``.npz`` + JSON.

    The buffers of ``model`` (:meth:`~gdcourse.nn.Module.named_buffers`, e.g. BatchNorm's running
    statistics) and the generator of every dropout layer (by module path) are saved with it.
    Usually called through :meth:`Trainer.save_checkpoint`, which fills in every argument.

    The file is first written to a temporary file ``.<name>.XXXXXXXX.tmp`` in the same folder,
    which replaces ``path`` when complete; it is removed if the write fails.  A write killed with
    the process leaves it behind: :meth:`Trainer.fit` removes such files when it starts.

    Parameters
    ----------
    path : str or path-like
        The file (conventionally ``*.npz``; the name is used as given).
    model : gdcourse.nn.Module
        The model whose parameters (and buffers and dropout generators) are saved.
    opt_state : OptState
        The optimizer state (``opt.init(...)`` or the last ``opt.step(...)``).
    epoch, step : int
        Epochs and optimizer steps completed.
    run_id : str, optional
        Identifier of the run; a fresh one is made when omitted.
    optimizer : str
        Name of the update rule (checked on loading).
    shuffle_state : dict, optional
        ``generator.bit_generator.state`` of the shuffling generator.
    early_stopping : EarlyStopping, optional
        Its state, including the best parameters, is saved.
    schedule : ReduceOnPlateau, optional
        Its state is saved.
    history : TrainHistory, optional
        The history so far.
    config : dict, optional
        JSON-serialisable settings of the run, checked on loading by :meth:`Trainer.load_checkpoint`.
    hyperparameters : dict, optional
        JSON-serialisable settings that define the run (:attr:`Trainer.hyperparameters`), compared
        with the resuming trainer's by :meth:`Trainer.load_checkpoint`.
    overwrite : bool
        Replace a checkpoint of another run (or any other file) at ``path``.  Without it, an existing
        checkpoint is replaced only if it has the same ``run_id`` (a newer checkpoint of this run).

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    FileExistsError
        If ``path`` holds another run's checkpoint, or a file that is not a checkpoint, and
        ``overwrite`` is false.
    OSError
        If the folder cannot be created or written (the message names the folder).
    """
    path = Path(path)
    run_id = run_id or uuid.uuid4().hex
    if path.exists() and not overwrite:
        _refuse_another_run(path, run_id, "Choose another path, or pass overwrite=True to replace it.")
    if not isinstance(opt_state, OptState):
        raise TypeError(f"opt_state must be the OptState of a gdcourse optimizer, got {type(opt_state).__name__}")
    arrays: dict[str, np.ndarray] = {}  # filled by the descriptions below, which name their arrays' keys
    params = _describe_arrays(model.named_parameters(), "param", arrays)
    buffers = _describe_arrays(model.named_buffers(), "buffer", arrays)
    stopper = None if early_stopping is None else _describe_early_stopping(early_stopping, arrays)
    plateau = None
    if schedule is not None:
        plateau = {k: getattr(schedule, k) for k in ("lr", "best", "num_bad_steps", "cooldown_counter")}
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "gdcourse": __version__,
        "run_id": run_id,
        "epoch": int(epoch),
        "step": int(step),
        "params": params,
        **({"buffers": buffers} if buffers else {}),  # only then: a buffer-free model's checkpoint is as before
        "optimizer": {"name": optimizer, "t": int(opt_state.t), "slots": _flat_slots(opt_state, arrays)},
        "shuffle_state": shuffle_state,
        "generators": {name: g.bit_generator.state for name, g in _generators(model).items()},
        "early_stopping": stopper,
        "schedule": plateau,
        "history": (history or TrainHistory()).as_dict(),
        "config": config or {},
    }
    if hyperparameters is not None:
        meta["hyperparameters"] = hyperparameters
    _write_atomically(path, json.dumps(meta), arrays)  # Python's JSON: NaN and Infinity are written as such
    return path


_ZIP_MAGIC = b"PK\x03\x04"
_NPY_MAGIC = b"\x93NUMPY"


def _read_array(path: Path, archive: Any, key: str) -> np.ndarray:
    """``archive[key]``, with :class:`CheckpointError` for a damaged member or a pickled object."""
    try:
        return archive[key]
    except MemoryError:
        raise
    except Exception as err:  # noqa: BLE001 - any failure to decode a member means a damaged file
        if isinstance(err, ValueError) and "allow_pickle" in str(err):
            raise CheckpointError(
                path,
                f"array {key!r} holds Python objects that only unpickling could read "
                "(refused: checkpoints are read with allow_pickle=False)",
            ) from None
        raise CheckpointError(path, f"truncated or damaged: array {key!r} cannot be read ({err})") from None


def _parse_meta(path: Path, value: np.ndarray) -> dict[str, Any]:
    """The checked JSON metadata of the entry ``__meta__``."""
    meta = None
    if value.shape == () and value.dtype.kind == "U":
        try:
            meta = json.loads(str(value[()]))
        except ValueError:
            meta = None
    if not isinstance(meta, dict):
        raise CheckpointError(path, "not a gdcourse checkpoint (its '__meta__' entry is not a JSON object)")
    if meta.get("format") != FORMAT:
        raise CheckpointError(path, f"not a gdcourse checkpoint (its metadata does not say format {FORMAT!r})")
    version = meta.get("version")
    if version != VERSION:
        written = version if version is not None else "unknown (none recorded)"
        by = f" (gdcourse {meta['gdcourse']})" if isinstance(meta.get("gdcourse"), str) else ""
        raise CheckpointError(
            path,
            f"written by format version {written}{by}, this is version {VERSION} "
            f"(gdcourse {__version__}); it cannot be read by this version",
        )
    return meta


def _read_file(path: Path, *, arrays: bool = True) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The metadata and (if ``arrays``) the arrays of the checkpoint at ``path``, all in memory.

    Raises IsADirectoryError for a folder, FileNotFoundError if there is no file,
    :class:`CheckpointError` if it is not a checkpoint of this format version, and other
    OSErrors (permissions) as they come.
    """
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder, not a checkpoint file: give the path of the file inside it")
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    size = path.stat().st_size
    if size == 0:
        raise CheckpointError(path, "empty file (0 bytes), not a gdcourse checkpoint")
    with open(path, "rb") as fh:
        head = fh.read(len(_NPY_MAGIC))
    if not head.startswith(_ZIP_MAGIC):
        what = "a single .npy array, not an .npz archive" if head.startswith(_NPY_MAGIC) else "not a zip archive"
        if len(head) < len(_ZIP_MAGIC) and _ZIP_MAGIC.startswith(head):
            raise CheckpointError(path, f"truncated ({size} bytes): not even the zip archive's header is complete")
        raise CheckpointError(path, f"not a gdcourse checkpoint ({what})")
    try:
        archive = np.load(path, allow_pickle=False)
    except (zipfile.BadZipFile, EOFError, ValueError, OSError, zlib.error) as err:
        detail = "the zip directory at its end is missing or broken" if isinstance(err, zipfile.BadZipFile) else err
        raise CheckpointError(path, f"truncated or damaged ({size} bytes; {detail})") from None
    with archive:
        names = list(archive.files)
        if "__meta__" not in names:
            held = ", ".join(repr(n) for n in names[:5]) + (", ..." if len(names) > 5 else "")
            raise CheckpointError(
                path, f"not a gdcourse checkpoint (a zip archive without '__meta__'; it holds {held or 'nothing'})"
            )
        meta = _parse_meta(path, _read_array(path, archive, "__meta__"))
        contents = {k: _read_array(path, archive, k) for k in names if k != "__meta__"} if arrays else {}
    return meta, contents


def _load(path: Path) -> Checkpoint:
    """Read and check the checkpoint at ``path`` (host arrays; no model touched)."""
    meta, arrays = _read_file(path)
    try:
        return _Contents(path, meta, arrays).checkpoint()
    except CheckpointError:
        raise
    except KeyError as err:
        raise CheckpointError(path, f"malformed metadata (no entry {err})") from None
    except (TypeError, ValueError, AttributeError) as err:
        raise CheckpointError(path, f"malformed metadata ({err})") from None


@dataclass
class _Contents:
    """A checkpoint file's metadata and arrays, read back piece by piece into a :class:`Checkpoint`.

    Each piece checks that the arrays its metadata names are there (and, for the parameters, have the
    shape and dtype it says), with :class:`CheckpointError`; other malformed metadata raises
    ``KeyError``, ``TypeError``, ``ValueError`` or ``AttributeError``, which :func:`_load` words.
    """

    path: Path
    meta: dict[str, Any]
    arrays: dict[str, np.ndarray]

    def checkpoint(self) -> Checkpoint:
        """Every piece, checked in this order: parameters, buffers, optimizer state, early stopping, other sections."""
        meta = self.meta
        params, buffers = self.named_arrays("params", "parameter"), self.named_arrays("buffers", "buffer")
        slots, stopper = self.slots(), self.early_stopping()
        generators, config, hyper = self.sections()
        run_id = meta["run_id"]
        if not isinstance(run_id, str):
            raise CheckpointError(self.path, f"malformed metadata (run_id {run_id!r} is not text)")
        opt = meta["optimizer"]
        return Checkpoint(
            run_id=run_id,
            epoch=int(meta["epoch"]),
            step=int(meta["step"]),
            params=params,
            opt_state=OptState(t=int(opt["t"]), slots=slots),
            optimizer=str(opt.get("name", "")),
            shuffle_state=meta.get("shuffle_state"),
            generator_states=generators,
            early_stopping=stopper,
            schedule=meta.get("schedule"),
            history=TrainHistory(**meta.get("history", {})),
            config=config,
            meta=meta,
            hyperparameters=hyper,
            buffers=buffers,
        )

    def array(self, key: Any, what: str) -> np.ndarray:
        """The array stored under ``key``, which the metadata names for ``what``."""
        if not isinstance(key, str) or key not in self.arrays:
            raise CheckpointError(self.path, f"missing array {key!r} ({what}), which its metadata names")
        return self.arrays[key]

    def named_arrays(self, section: str, what: str) -> dict[str, np.ndarray]:
        """The arrays of ``section`` by name, each of the shape and dtype its metadata says.

        ``"params"`` must be there; ``"buffers"`` may be absent (a model without buffers, or a
        checkpoint from before gdcourse saved them): no buffers.
        """
        named = {}
        for p in self.meta[section] if section == "params" else self.meta.get(section, []):
            a = self.array(p["key"], f"{what} {p['name']!r}")
            if list(a.shape) != list(p["shape"]) or str(a.dtype) != p["dtype"]:
                raise CheckpointError(
                    self.path,
                    f"array {p['key']!r} ({what} {p['name']!r}) is {a.dtype} of shape {a.shape}, "
                    f"its metadata says {p['dtype']} of shape {tuple(p['shape'])}",
                )
            named[str(p["name"])] = a
        return named

    def slots(self) -> dict[str, Any]:
        """The optimizer's slots, each a list, a tuple or one value (arrays and numbers), as saved."""
        slots: dict[str, Any] = {}
        for slot, desc in self.meta["optimizer"]["slots"].items():
            what = f"optimizer slot {slot!r}"
            items = [
                self.array(item["array"], what) if "array" in item else float(item["float"]) for item in desc["items"]
            ]
            kind = desc["kind"]
            if kind not in ("list", "tuple", "one") or (kind == "one" and len(items) != 1):
                raise CheckpointError(
                    self.path, f"malformed metadata ({what} of kind {kind!r} with {len(items)} items)"
                )
            slots[slot] = items if kind == "list" else (tuple(items) if kind == "tuple" else items[0])
        return slots

    def early_stopping(self) -> dict[str, Any] | None:
        """Early stopping's state, with its best parameters as arrays (None without early stopping)."""
        stopper = self.meta.get("early_stopping")
        if stopper is not None and stopper.get("best_params") is not None:
            best = [self.array(k, "early stopping's best parameters") for k in stopper["best_params"]]
            stopper = {**stopper, "best_params": best}
        return stopper

    def sections(self) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None]:
        """The generators' states, the config and the hyperparameters, each checked to be a JSON object."""
        generators = self.meta.get("generators", {})
        config = self.meta.get("config", {})
        hyper = self.meta.get("hyperparameters")
        for name, value in (("generators", generators), ("config", config), ("hyperparameters", hyper)):
            if value is not None and not isinstance(value, dict):
                raise CheckpointError(
                    self.path, f"malformed metadata ({name} is a {type(value).__name__}, not an object)"
                )
        return generators, config, hyper


def _check_arrays_fit(saved: dict[str, np.ndarray], current: list[tuple[str, Array]], what: str) -> None:
    """Raise unless the ``saved`` arrays are the ``current`` ones' names (in order), shapes and dtypes."""
    names = [name for name, _ in current]
    if names != list(saved):
        raise ValueError(f"the checkpoint's {what}s {list(saved)} do not match the model's {names}")
    for name, p in current:
        s = saved[name]
        if tuple(s.shape) != tuple(p.shape):
            raise ValueError(f"{what} {name!r}: the checkpoint has shape {s.shape}, the model {tuple(p.shape)}")
        if str(s.dtype) != dtype_of(p):
            raise TypeError(f"{what} {name!r}: the checkpoint has dtype {s.dtype}, the model {p.dtype}")


def _check_fits(ck: Checkpoint, model: Module) -> None:
    """Raise unless ``ck``'s parameters, buffers, generators fit ``model`` (names, shapes, dtypes); changes nothing."""
    _check_arrays_fit(ck.params, model.named_parameters(), "parameter")
    buffers = model.named_buffers()
    if buffers and "buffers" not in ck.meta:
        raise ValueError(
            f"the checkpoint holds no buffers (it was written before gdcourse saved them), the model has "
            f"{[name for name, _ in buffers]}: their values cannot be restored"
        )
    _check_arrays_fit(ck.buffers, buffers, "buffer")
    gens = _generators(model)
    saved_gens = ck.generator_states
    if set(gens) != set(saved_gens):
        raise ValueError(
            f"the checkpoint has generators for modules {sorted(saved_gens)}, the model has {sorted(gens)}"
        )
    for name, gen in gens.items():  # a trial run on a copy: a bad state raises here
        try:
            _set_generator_state(copy.deepcopy(gen), saved_gens[name], f"module {name}")
        except (TypeError, KeyError) as err:
            raise ValueError(f"module {name}: the checkpoint's generator state is unusable ({err})") from None


def _install(ck: Checkpoint, model: Module) -> OptState:
    """Put ``ck``'s parameters, buffers and generator states into ``model``; its optimizer state, moved like them."""
    current = model.named_parameters()
    refs = [p for _, p in current]
    state = {name: _like(ck.params[name], p) for name, p in current}
    state.update((name, _like(ck.buffers[name], b)) for name, b in model.named_buffers())
    model.load_state_dict(state)  # the parameters as set_parameters would, then the buffers
    for name, gen in _generators(model).items():
        _set_generator_state(gen, ck.generator_states[name], f"module {name}")
    if ck.opt_state is None:
        raise ValueError("the checkpoint holds no optimizer state")
    slots: dict[str, Any] = {}
    for slot, value in ck.opt_state.slots.items():
        items = list(value) if isinstance(value, list | tuple) else [value]
        moved = [_like(v, refs[i]) if isinstance(v, np.ndarray) else v for i, v in enumerate(items)]
        slots[slot] = moved if isinstance(value, list) else (tuple(moved) if isinstance(value, tuple) else moved[0])
    return OptState(t=ck.opt_state.t, slots=slots)


def _like(host: np.ndarray, ref: Array) -> Array:
    """``host`` moved to the library and device of ``ref`` (dtype as saved)."""
    xp = array_namespace(ref)
    return xp.asarray(host, device=_device(ref))


def load_checkpoint(path: str | os.PathLike[str], model: Module | None = None) -> Checkpoint:
    """Read a checkpoint written by :func:`save_checkpoint` (never unpickles anything).

    Everything is checked before anything is used: a file that is not a valid checkpoint of this
    format raises :class:`CheckpointError` naming the file and the problem (empty, truncated or
    damaged, not a zip archive, another program's arrays, another format version, a missing
    array...), and a model that does not fit it is left untouched.

    Parameters
    ----------
    path : str or path-like
        The checkpoint file.
    model : gdcourse.nn.Module, optional
        When given, its parameters and buffers are replaced by the saved ones (moved to the library
        and device of its current ones; names, shapes and dtypes must match) and its dropout layers'
        generators are set to their saved states; the optimizer state is moved there too.

    Returns
    -------
    Checkpoint
        The content of the file.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    CheckpointError
        If the file is not a valid checkpoint of this format version.
    ValueError, TypeError
        If ``model``'s parameters, buffers or dropout layers do not match the checkpoint's (names and
        shapes, dtypes), or the model has buffers and the checkpoint none (written before they were saved).
    """
    path = Path(path)
    ck = _load(path)
    if model is not None:
        _check_fits(ck, model)  # everything first, so that a mismatch leaves the model untouched
        ck.opt_state = _install(ck, model)
    return ck


_ABSENT = object()


def _jsonable(value: Any) -> Any:
    """``value`` as JSON data (tuples become lists; other objects a stable description)."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    if isinstance(value, int | float):
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return _describe_callable(value)


def _describe_callable(value: Any) -> str:
    """A description without memory addresses: a schedule's repr, else the qualified name."""
    if isinstance(value, ReduceOnPlateau):  # its settings, not its state
        keys = ("lr0", "mode", "factor", "patience", "threshold", "threshold_mode", "cooldown", "min_lr", "eps")
        return "ReduceOnPlateau(" + ", ".join(f"{k}={getattr(value, k)!r}" for k in keys) + ")"
    if isinstance(value, Schedule):
        return repr(value)
    name = getattr(value, "__qualname__", None) or type(value).__qualname__
    module = getattr(value, "__module__", None) or type(value).__module__
    return f"{module}.{name}"


def _show(value: Any) -> str:
    if value is _ABSENT:
        return "(not recorded)"
    return value if isinstance(value, str) else repr(value)


def _differences(saved: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """``"key: checkpoint X, now Y"`` for every setting that differs (or is only on one side)."""
    out = []
    for key in [*saved, *(k for k in now if k not in saved)]:
        a, b = saved.get(key, _ABSENT), now.get(key, _ABSENT)
        if a is _ABSENT or b is _ABSENT or a != b:
            out.append(f"{key}: checkpoint {_show(a)}, now {_show(b)}")
    return out
