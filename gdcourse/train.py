r"""Training loop for :mod:`gdcourse.nn` models: minibatches, validation, early stopping, monitoring, checkpoints.

One epoch shuffles the training set with the trainer's own seeded host generator, cuts it into
minibatches of ``batch_size`` examples (the last one may be smaller) and takes one optimizer step
per minibatch, the step of :mod:`gdcourse.nn`'s docstring::

    model.zero_grad()
    loss = loss_fn(model(xb), yb)            # batch forward and loss
    loss.backward()                          # backpropagation: every parameter's gradient
    params, state = opt.step(model.parameters(), model.grads(), state)   # the update
    model.set_parameters(params)

After each epoch it evaluates the model on the validation set (evaluation mode: dropout off),
records everything in a :class:`TrainHistory`, asks the early-stopping rule whether to stop, and
saves a checkpoint if asked to.

Monitored quantities (for every parameter array :math:`\theta_l` of the model, named as in
:meth:`~gdcourse.nn.Module.named_parameters`, e.g. ``"0.weight"``):

* **gradient norm** :math:`\lVert g_l\rVert_2`, with :math:`g_l = \partial J_B/\partial\theta_l` the
  minibatch gradient; the history keeps its mean over the steps of each epoch, and the global norm
  :math:`\lVert g\rVert_2 = (\sum_l \lVert g_l\rVert_2^2)^{1/2}` at every step;
* **update/weight ratio** :math:`\rho_l = \overline{\lVert \theta_l^{+} - \theta_l\rVert_2} \,/\,
  \overline{\lVert\theta_l\rVert_2}`, the size of the step relative to the size of the weights (both
  averaged over the steps of the epoch, :math:`\theta_l` before and :math:`\theta_l^{+}` after each
  update).  A common rule of thumb puts healthy values near :math:`10^{-3}`: much smaller and
  the layer barely learns, much larger and the step is wild.

**Divergence** is detected at every step, as in every loop of the course: the minibatch loss or
the gradient is no longer finite, or the loss grew past ``divergence_factor`` times its first
value.  The verdict is :func:`gdcourse.divergence.classify`'s (the same words for the same history
as :func:`~gdcourse.descent.minimize` and :func:`~gdcourse.monitoring.diagnose`): the message names
the epoch and the step and suggests a smaller learning rate when the loss grew first; a loss that
turned non-finite without growing first, or an ``eps`` too small for the dtype, points at a
numerical cause (a log of 0, an overflowing exp, 0/0), which a smaller learning rate would not cure.
NaN or inf in the data is refused before training (:func:`gdcourse.divergence.check_data`).
``on_divergence="raise"`` (default) raises :class:`~gdcourse.descent.DivergenceError` with the
history attached, ``"stop"`` returns the history with ``stop_reason="diverged"``.  A run that
completes its epochs with a loss far above its first one warns with
:class:`gdcourse.divergence.UnstableRunWarning`.

**Checkpoints** (:func:`save_checkpoint`, :func:`load_checkpoint`, :meth:`Trainer.save_checkpoint`,
:meth:`Trainer.load_checkpoint`) hold everything the rest of the run depends on: the parameters,
the optimizer state, the number of epochs and steps done, the state of the shuffling generator
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

>>> import numpy as np
>>> from gdcourse import nn, optim
>>> from gdcourse.train import fit
>>> X = np.random.default_rng(0).normal(size=(64, 2))
>>> y = X[:, :1] * X[:, 1:]
>>> model = nn.MLP([2, 8, 1], activation="tanh", seed=0)
>>> history = fit(model, X, y, optimizer=optim.adam(lr=0.01), loss="mse", epochs=3, batch_size=16)
>>> len(history.train_loss), history.stop_reason
(3, 'max_epochs')
"""

from __future__ import annotations

import copy
import errno
import json
import math
import os
import re
import sys
import tempfile
import uuid
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from array_api_compat import device as _device
from array_api_compat import is_array_api_obj

from gdcourse import _checks, divergence
from gdcourse._version import __version__
from gdcourse.autodiff.array import Tensor
from gdcourse.backend import array_namespace, dtype_of, is_finite, rng, to_numpy
from gdcourse.descent import DivergenceError
from gdcourse.nn.loss import mse_loss, softmax_cross_entropy
from gdcourse.nn.module import Module
from gdcourse.optim import OptState
from gdcourse.regularization import EarlyStopping
from gdcourse.schedules import ReduceOnPlateau, Schedule

__all__ = [
    "Checkpoint",
    "CheckpointError",
    "CheckpointMismatchError",
    "CheckpointWarning",
    "DivergenceError",
    "TrainHistory",
    "Trainer",
    "evaluate",
    "fit",
    "load_checkpoint",
    "save_checkpoint",
]

Array = Any
LossFn = Callable[[Tensor, Any], Tensor]
FORMAT = "gdcourse.train checkpoint"
VERSION = 1

LOSSES: dict[str, LossFn] = {
    "mse": mse_loss,
    "cross_entropy": softmax_cross_entropy,
    "softmax_cross_entropy": softmax_cross_entropy,
}


# ----------------------------------------------------------------------------------------------
# History
# ----------------------------------------------------------------------------------------------


@dataclass
class TrainHistory:
    r"""What happened during training, one entry per epoch (and per step where noted).

    Attributes
    ----------
    epoch : list of int
        Epoch numbers, counted from 1.
    train_loss : list of float
        Mean minibatch loss over the epoch, :math:`\frac1N\sum_B |B|\,J_B` (measured during training,
        so in training mode: with dropout active and with the parameters changing along the epoch).
    train_accuracy : list of float
        Fraction of correctly classified training examples during the epoch (classification only).
    val_loss, val_accuracy : list of float
        Loss and accuracy on the validation set after the epoch, in evaluation mode (empty without one).
    lr : list of float
        Learning rate of the last update of the epoch (NaN when the optimizer has no ``lr_at``).
    grad_norm : list of float
        Mean over the epoch's steps of the global gradient norm :math:`\lVert g\rVert_2`.
    layer_grad_norm : dict of str to list of float
        Per parameter array: mean over the epoch's steps of :math:`\lVert g_l\rVert_2`.
    update_ratio : dict of str to list of float
        Per parameter array: :math:`\rho_l = \overline{\lVert\Delta\theta_l\rVert_2}/\overline{\lVert\theta_l\rVert_2}`
        over the epoch's steps (NaN for an array that stayed exactly 0).
    step_loss, step_grad_norm : list of float
        Minibatch loss :math:`J_B` and global gradient norm at every step.
    stop_reason : str
        ``""`` before training, then ``"max_epochs"``, ``"early_stopping"`` or ``"diverged"``.
    message : str
        A sentence explaining why training stopped.
    best_epoch : int or None
        With early stopping: the epoch whose parameters were kept (counted from 1).
    """

    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    layer_grad_norm: dict[str, list[float]] = field(default_factory=dict)
    update_ratio: dict[str, list[float]] = field(default_factory=dict)
    step_loss: list[float] = field(default_factory=list)
    step_grad_norm: list[float] = field(default_factory=list)
    stop_reason: str = ""
    message: str = ""
    best_epoch: int | None = None

    @property
    def n_epochs(self) -> int:
        """Number of epochs recorded."""
        return len(self.epoch)

    @property
    def n_steps(self) -> int:
        """Number of optimizer steps recorded."""
        return len(self.step_loss)

    def as_dict(self) -> dict[str, Any]:
        """A plain dictionary of the fields (lists and numbers, JSON-ready)."""
        return asdict(self)

    def __repr__(self) -> str:
        def last(values: list[float]) -> str:
            return f"{values[-1]:.4g}" if values else "-"

        val = f", val_loss={last(self.val_loss)}" if self.val_loss else ""
        acc = f", val_accuracy={last(self.val_accuracy)}" if self.val_accuracy else ""
        return (
            f"TrainHistory(epochs={self.n_epochs}, steps={self.n_steps}, train_loss={last(self.train_loss)}"
            f"{val}{acc}, stop_reason={self.stop_reason!r})"
        )


# ----------------------------------------------------------------------------------------------
# Small helpers
# ----------------------------------------------------------------------------------------------


def _resolve_loss(loss: str | LossFn) -> tuple[str, LossFn]:
    if isinstance(loss, str):
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; expected one of {', '.join(LOSSES)} or a callable")
        name = "cross_entropy" if loss == "softmax_cross_entropy" else loss
        return name, LOSSES[loss]
    if callable(loss):
        if loss is softmax_cross_entropy:
            return "cross_entropy", loss
        return getattr(loss, "__name__", type(loss).__name__), loss
    raise TypeError(
        f"loss must be a name ('mse', 'cross_entropy') or a callable (output, target) -> loss, got {loss!r}"
    )


def _check_data(X: Any, y: Any, what: str) -> int:
    for name, a in ((f"X{what}", X), (f"y{what}", y)):
        if not is_array_api_obj(a):
            raise TypeError(f"{name} must be an array (use gdcourse.asarray for lists), got {type(a).__name__}")
        if a.ndim == 0:
            raise ValueError(f"{name} must have a first axis of examples, got a 0-d array")
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X{what} has {X.shape[0]} examples but y{what} has {y.shape[0]}; they must match")
    if X.shape[0] == 0:
        raise ValueError(f"X{what} has no examples")
    return int(X.shape[0])


def _take(a: Array, idx: np.ndarray) -> Array:
    """Rows ``idx`` (host indices) of ``a``, on ``a``'s library and device."""
    xp = array_namespace(a)
    return xp.take(a, xp.asarray(idx, device=_device(a)), axis=0)


def _minibatches(n: int, batch_size: int, gen: np.random.Generator | None) -> Iterator[np.ndarray]:
    """Host index arrays of the minibatches of one epoch: a permutation drawn from ``gen`` (or in order)."""
    order = gen.permutation(n) if gen is not None else np.arange(n)
    for start in range(0, n, batch_size):
        yield order[start : start + batch_size]


def _host_floats(values: list[Array]) -> np.ndarray:
    """Several 0-d arrays of one library brought to the host in one transfer, as float64."""
    if not values:
        return np.zeros(0)
    xp = array_namespace(values[0])
    return np.asarray(to_numpy(xp.stack(values)), dtype=np.float64)


def _correct(out: Array, y: Array) -> Array:
    """Number of rows of ``out`` whose arg-max equals the label (a 0-d integer array, on the device)."""
    xp = array_namespace(out)
    labels = y if array_namespace(y) is xp else xp.asarray(to_numpy(y), device=_device(out))
    return xp.sum(xp.astype(xp.argmax(out, axis=1) == labels, xp.int64))


def _named_modules(module: Module, prefix: str = "") -> Iterator[tuple[str, Module]]:
    yield prefix.rstrip(".") or "(model)", module
    for name, child in module._modules.items():
        yield from _named_modules(child, f"{prefix}{name}.")


def _generators(model: Module) -> dict[str, np.random.Generator]:
    """Every module's host generator (dropout layers' masks), by module path."""
    return {
        name: m.generator
        for name, m in _named_modules(model)
        if isinstance(getattr(m, "generator", None), np.random.Generator)
    }


def _set_generator_state(gen: np.random.Generator, state: dict[str, Any], what: str) -> None:
    if not isinstance(state, dict) or state.get("bit_generator") != type(gen.bit_generator).__name__:
        got = state.get("bit_generator") if isinstance(state, dict) else state
        raise ValueError(
            f"{what}: the checkpoint holds a {got!r} generator, this one is {type(gen.bit_generator).__name__}"
        )
    gen.bit_generator.state = state


# ----------------------------------------------------------------------------------------------
# Evaluation
# ----------------------------------------------------------------------------------------------


def evaluate(
    model: Module,
    X: Array,
    y: Array,
    loss: str | LossFn = "mse",
    *,
    batch_size: int = 1024,
    accuracy: bool | None = None,
) -> tuple[float, float | None]:
    r"""Loss (and accuracy) of ``model`` on ``(X, y)`` in evaluation mode, by batches.

    The loss is the example-weighted mean :math:`\frac1N \sum_B |B|\,J_B` (the mean loss over the
    whole set for a loss that averages over its batch).  The model's training/evaluation mode is
    restored afterwards.

    Parameters
    ----------
    model : gdcourse.nn.Module
        The model to evaluate.
    X, y : arrays
        Inputs and targets (labels for classification).
    loss : str or callable
        ``"mse"``, ``"cross_entropy"`` or ``loss(output, target) -> scalar Tensor``.
    batch_size : int
        Examples per forward pass (bounds the memory used).
    accuracy : bool, optional
        Also compute the accuracy :math:`\frac1N\sum_i [\arg\max_c z_{ic} = y_i]`; default: for
        ``"cross_entropy"`` only.

    Returns
    -------
    loss, accuracy : float, float or None
    """
    name, loss_fn = _resolve_loss(loss)
    n = _check_data(X, y, "")
    batch_size = _checks.positive_int("batch_size", batch_size)
    accuracy = (name == "cross_entropy") if accuracy is None else accuracy
    was_training = model.training
    model.eval()
    try:
        losses, correct = [], []
        for idx in _minibatches(n, batch_size, None):
            xb, yb = (X, y) if len(idx) == n else (_take(X, idx), _take(y, idx))
            out = model(xb)
            losses.append(loss_fn(out, yb).data * len(idx))
            if accuracy:
                correct.append(_correct(out.data, yb))
        total = float(np.sum(_host_floats(losses))) / n
        acc = float(np.sum(_host_floats(correct))) / n if accuracy else None
    finally:
        model.train(was_training)
    return total, acc


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


def _flat_slots(opt_state: OptState, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """Describe ``opt_state.slots`` in JSON, moving its arrays into ``arrays``."""
    out: dict[str, Any] = {}
    for slot, value in opt_state.slots.items():
        items = list(value) if isinstance(value, list | tuple) else [value]
        described = []
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
        other = _existing_run(path)
        if other != run_id:
            raise FileExistsError(
                f"{path} holds a checkpoint of another run (run id {other}); refusing to overwrite it. "
                "Choose another path, resume that run with Trainer.load_checkpoint, or delete the file."
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

    The generator of every dropout layer of ``model`` is saved with it (by module path).
    Usually called through :meth:`Trainer.save_checkpoint`, which fills in every argument.

    The file is first written to a temporary file ``.<name>.XXXXXXXX.tmp`` in the same folder,
    which replaces ``path`` when complete; it is removed if the write fails.  A write killed with
    the process leaves it behind: :meth:`Trainer.fit` removes such files when it starts.

    Parameters
    ----------
    path : str or path-like
        The file (conventionally ``*.npz``; the name is used as given).
    model : gdcourse.nn.Module
        The model whose parameters (and dropout generators) are saved.
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
        other = _existing_run(path)
        if other != run_id:
            raise FileExistsError(
                f"{path} holds a checkpoint of another run (run id {other}); refusing to overwrite it. "
                "Choose another path, or pass overwrite=True to replace it."
            )
    if not isinstance(opt_state, OptState):
        raise TypeError(f"opt_state must be the OptState of a gdcourse optimizer, got {type(opt_state).__name__}")
    arrays: dict[str, np.ndarray] = {}
    params = []
    for i, (name, p) in enumerate(model.named_parameters()):
        key = f"param/{i}"
        arrays[key] = np.asarray(to_numpy(p))
        params.append({"name": name, "key": key, "shape": list(p.shape), "dtype": str(arrays[key].dtype)})
    stopper = None
    if early_stopping is not None:
        best = early_stopping.best_params
        best_keys = None
        if best is not None:
            best_list = list(best) if isinstance(best, list | tuple) else [best]
            best_keys = []
            for i, b in enumerate(best_list):
                arrays[f"early_stopping/best/{i}"] = np.asarray(to_numpy(b))
                best_keys.append(f"early_stopping/best/{i}")
        stopper = {
            "patience": early_stopping.patience,
            "min_delta": early_stopping.min_delta,
            "restore_best": early_stopping.restore_best,
            "best_loss": early_stopping.best_loss,
            "best_epoch": early_stopping.best_epoch,
            "wait": early_stopping.wait,
            "n_updates": early_stopping.n_updates,
            "stopped": early_stopping.stopped,
            "best_params": best_keys,
        }
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
    text = json.dumps(meta)  # Python's JSON: NaN and Infinity are written as such
    _prepare_folder(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(path), suffix=_TEMP_SUFFIX, dir=path.parent)
    except OSError as err:
        raise _os_error(err, f"cannot write the checkpoint {path}: {err.strerror or err}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, __meta__=np.array(text), **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
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

    def array(key: Any, what: str) -> np.ndarray:
        if not isinstance(key, str) or key not in arrays:
            raise CheckpointError(path, f"missing array {key!r} ({what}), which its metadata names")
        return arrays[key]

    try:
        params = {}
        for p in meta["params"]:
            a = array(p["key"], f"parameter {p['name']!r}")
            if list(a.shape) != list(p["shape"]) or str(a.dtype) != p["dtype"]:
                raise CheckpointError(
                    path,
                    f"array {p['key']!r} (parameter {p['name']!r}) is {a.dtype} of shape {a.shape}, "
                    f"its metadata says {p['dtype']} of shape {tuple(p['shape'])}",
                )
            params[str(p["name"])] = a
        opt = meta["optimizer"]
        slots: dict[str, Any] = {}
        for slot, desc in opt["slots"].items():
            what = f"optimizer slot {slot!r}"
            items = [array(item["array"], what) if "array" in item else float(item["float"]) for item in desc["items"]]
            kind = desc["kind"]
            if kind not in ("list", "tuple", "one") or (kind == "one" and len(items) != 1):
                raise CheckpointError(path, f"malformed metadata ({what} of kind {kind!r} with {len(items)} items)")
            slots[slot] = items if kind == "list" else (tuple(items) if kind == "tuple" else items[0])
        stopper = meta.get("early_stopping")
        if stopper is not None and stopper.get("best_params") is not None:
            best = [array(k, "early stopping's best parameters") for k in stopper["best_params"]]
            stopper = {**stopper, "best_params": best}
        generators = meta.get("generators", {})
        config = meta.get("config", {})
        hyper = meta.get("hyperparameters")
        for name, value in (("generators", generators), ("config", config), ("hyperparameters", hyper)):
            if value is not None and not isinstance(value, dict):
                raise CheckpointError(path, f"malformed metadata ({name} is a {type(value).__name__}, not an object)")
        run_id = meta["run_id"]
        if not isinstance(run_id, str):
            raise CheckpointError(path, f"malformed metadata (run_id {run_id!r} is not text)")
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
        )
    except CheckpointError:
        raise
    except KeyError as err:
        raise CheckpointError(path, f"malformed metadata (no entry {err})") from None
    except (TypeError, ValueError, AttributeError) as err:
        raise CheckpointError(path, f"malformed metadata ({err})") from None


def _check_fits(ck: Checkpoint, model: Module) -> None:
    """Raise unless ``ck``'s parameters and generators fit ``model`` (names, shapes, dtypes); changes nothing."""
    params, current = ck.params, model.named_parameters()
    names = [name for name, _ in current]
    if names != list(params):
        raise ValueError(f"the checkpoint's parameters {list(params)} do not match the model's {names}")
    for name, p in current:
        saved = params[name]
        if tuple(saved.shape) != tuple(p.shape):
            raise ValueError(f"parameter {name!r}: the checkpoint has shape {saved.shape}, the model {tuple(p.shape)}")
        if str(saved.dtype) != dtype_of(p):
            raise TypeError(f"parameter {name!r}: the checkpoint has dtype {saved.dtype}, the model {p.dtype}")
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
    """Put ``ck``'s parameters and generator states into ``model``; its optimizer state, moved like them."""
    current = model.named_parameters()
    refs = [p for _, p in current]
    model.set_parameters([_like(ck.params[name], p) for name, p in current])
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
        When given, its parameters are replaced by the saved ones (moved to the library and device
        of its current parameters; names, shapes and dtypes must match) and its dropout layers'
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
        If ``model``'s parameters or dropout layers do not match the checkpoint's (names and shapes, dtypes).
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


# ----------------------------------------------------------------------------------------------
# The trainer
# ----------------------------------------------------------------------------------------------


class Trainer:
    r"""Train a :mod:`gdcourse.nn` model with any :mod:`gdcourse.optim` optimizer, by minibatches.

    Parameters
    ----------
    model : gdcourse.nn.Module
        The model; its parameters are replaced after every step (never modified in place).
    optimizer : Optimizer
        E.g. ``optim.adam(lr=1e-3)``; its ``lr`` may be a schedule (evaluated at the optimizer's step
        count) or a :class:`~gdcourse.schedules.ReduceOnPlateau`, which is shown the validation loss
        (the training loss without validation data) after every epoch.
    loss : str or callable
        ``"mse"`` (:func:`~gdcourse.nn.mse_loss`), ``"cross_entropy"``
        (:func:`~gdcourse.nn.softmax_cross_entropy` of integer labels), or
        ``loss(output, target) -> scalar Tensor``, the mean over the batch.
    batch_size : int
        Examples per minibatch :math:`B` (the last minibatch of an epoch may be smaller).
    shuffle : bool
        Draw a new order of the training set for every epoch (default) or keep the given order.
    seed : int or numpy.random.Generator
        Seed of the host generator that shuffles (the same order on every backend).
    early_stopping : EarlyStopping or int, optional
        A :class:`~gdcourse.regularization.EarlyStopping` (or its ``patience``) fed with the validation
        loss (the training loss without validation data) after every epoch; when it says stop, the
        best epoch's parameters are put back in the model if its ``restore_best`` is true.
    monitor : bool
        Record the per-parameter update/weight ratios (two more norms per array and step); the gradient
        norms are always recorded (they are also what divergence detection reads).
    accuracy : bool, optional
        Record accuracies; default: for ``"cross_entropy"`` only.
    divergence_factor : float
        Declare divergence when a minibatch loss exceeds ``divergence_factor * max(1, |first loss|)``.
    on_divergence : {"raise", "stop"}
        Raise :class:`~gdcourse.descent.DivergenceError` (default) or stop and return the history.
    progress : bool
        Print a one-line text progress bar to ``stderr`` (epoch and losses, never timings).  Off by
        default, so notebook outputs stay the same on every run.
    run_id : str, optional
        Identifier written into checkpoints (a fresh random one by default); a checkpoint of another
        run is never overwritten silently.

    Attributes
    ----------
    opt_state : OptState
        The optimizer's state.
    epoch, step : int
        Epochs and optimizer steps completed.
    history : TrainHistory
    generator : numpy.random.Generator
        The shuffling generator.
    """

    def __init__(
        self,
        model: Module,
        optimizer: Any,
        loss: str | LossFn = "mse",
        *,
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int | np.random.Generator | None = 0,
        early_stopping: EarlyStopping | int | None = None,
        monitor: bool = True,
        accuracy: bool | None = None,
        divergence_factor: float = 1e6,
        on_divergence: Literal["raise", "stop"] = "raise",
        progress: bool = False,
        run_id: str | None = None,
    ) -> None:
        if not isinstance(model, Module):
            raise TypeError(f"model must be a gdcourse.nn.Module, got {type(model).__name__}")
        if not (hasattr(optimizer, "init") and hasattr(optimizer, "step")):
            raise TypeError(f"optimizer must have init/step (e.g. gdcourse.optim.adam(lr=1e-3)), got {optimizer!r}")
        self.model = model
        self.optimizer = optimizer
        self.loss_name, self.loss_fn = _resolve_loss(loss)
        self.batch_size = _checks.positive_int("batch_size", batch_size)
        if not isinstance(shuffle, bool):
            raise TypeError(f"shuffle must be True or False, got {shuffle!r}")
        self.shuffle = shuffle
        self.generator = rng(seed)
        if isinstance(early_stopping, int) and not isinstance(early_stopping, bool):
            early_stopping = EarlyStopping(patience=early_stopping)
        if early_stopping is not None and not isinstance(early_stopping, EarlyStopping):
            raise TypeError(
                f"early_stopping must be an EarlyStopping, a patience (int) or None, got {early_stopping!r}"
            )
        self.early_stopping = early_stopping
        self.monitor = bool(monitor)
        self.accuracy = (self.loss_name == "cross_entropy") if accuracy is None else bool(accuracy)
        self.divergence_factor = divergence.check_options(divergence_factor, on_divergence)
        self.on_divergence = on_divergence
        self.progress = bool(progress)
        self.run_id = run_id or uuid.uuid4().hex
        self.opt_state = optimizer.init(model.parameters())
        self.epoch = 0
        self.step = 0
        self.history = TrainHistory()
        self._first_loss: float | None = None

    def __repr__(self) -> str:
        return (
            f"Trainer({type(self.model).__name__}, {self.optimizer!r}, loss={self.loss_name!r}, "
            f"batch_size={self.batch_size}; epoch={self.epoch}, step={self.step})"
        )

    @property
    def _schedule(self) -> ReduceOnPlateau | None:
        lr = getattr(self.optimizer, "lr", None)
        return lr if isinstance(lr, ReduceOnPlateau) else None

    @property
    def config(self) -> dict[str, Any]:
        """The settings a resumed run must share with the run that wrote the checkpoint."""
        return {
            "loss": self.loss_name,
            "batch_size": self.batch_size,
            "shuffle": self.shuffle,
            "optimizer": getattr(self.optimizer, "name", type(self.optimizer).__name__),
        }

    @property
    def hyperparameters(self) -> dict[str, Any]:
        """The settings that define this run, as JSON data: stored in checkpoints, compared on resuming.

        ``optimizer`` (the update rule's name), ``lr`` (a number, or the schedule as text: its name
        and parameters; a :class:`~gdcourse.schedules.ReduceOnPlateau` by its settings, not its
        state), the optimizer's other hyperparameters under their own names (``betas``, ``eps``,
        ``momentum``...), ``loss``, ``batch_size``, ``shuffle``, ``early_stopping.patience``,
        ``early_stopping.min_delta`` and ``early_stopping.restore_best`` (or ``early_stopping: None``),
        and every layer as ``"layer <module path>": "Type(arguments)"`` (e.g. ``"layer 1": "Tanh()"``).
        """
        opt = self.optimizer
        out: dict[str, Any] = {"optimizer": self.config["optimizer"], "lr": _jsonable(getattr(opt, "lr", None))}
        hyper = getattr(opt, "hyperparams", None)
        for key, value in hyper.items() if isinstance(hyper, dict) else ():
            out.setdefault(str(key), _jsonable(value))
        out.update(loss=self.loss_name, batch_size=self.batch_size, shuffle=self.shuffle)
        stopper = self.early_stopping
        if stopper is None:
            out["early_stopping"] = None
        else:
            for key in ("patience", "min_delta", "restore_best"):
                out[f"early_stopping.{key}"] = _jsonable(getattr(stopper, key))
        for name, module in _named_modules(self.model):
            if not module._modules:
                out[f"layer {name}"] = f"{type(module).__name__}({module.extra_repr()})"
        return json.loads(json.dumps(out))  # as it reads back from a checkpoint

    # ------------------------------------------------------------------ one step

    def _train_step(self, xb: Array, yb: Array) -> tuple[Tensor, list[Array], list[Array], list[Array]]:
        """Forward, backward and update on one minibatch; returns the output, and the old params, grads, new params."""
        model, opt = self.model, self.optimizer
        params = model.parameters()
        if getattr(opt, "needs_lookahead", False):  # Nesterov's look-ahead form: gradient at θ + βv
            model.set_parameters(opt.lookahead(params, self.opt_state))
        model.zero_grad()
        out = model(xb)
        loss = self.loss_fn(out, yb)
        if not isinstance(loss, Tensor) or loss.data.size != 1:
            raise TypeError("the loss function must return a one-element Tensor (the mean loss of the batch)")
        loss.backward()
        grads = model.grads()
        model.set_parameters(params)
        return loss, params, grads, out

    def _verdict(
        self, params_finite: bool, epoch: int, k: int, update: int, dtype: str
    ) -> divergence.Divergence | None:
        """The shared verdict on the step losses so far (``None`` while training is sound)."""
        return divergence.classify(
            self.history.step_loss,
            params_finite,
            update,
            self._lr(),
            dtype,
            eps=divergence.optimizer_eps(self.optimizer),
            factor=self.divergence_factor,
            where=f"epoch {epoch}, step {k} of the epoch (update {update} of the run)",
        )

    def _lr(self) -> float:
        lr_at = getattr(self.optimizer, "lr_at", None)
        return float(lr_at(max(self.step - 1, 0))) if lr_at is not None else math.nan

    # ------------------------------------------------------------------ epochs

    def fit(
        self,
        X: Array,
        y: Array,
        epochs: int,
        *,
        validation: tuple[Array, Array] | None = None,
        checkpoint: str | os.PathLike[str] | None = None,
        checkpoint_every: int = 1,
    ) -> TrainHistory:
        r"""Train until ``epochs`` epochs are completed *in total* (counting those before a checkpoint).

        So ``trainer.fit(X, y, epochs=4)`` after :meth:`load_checkpoint` of a 2-epoch checkpoint
        trains epochs 3 and 4, and a script that resumes from its last checkpoint and calls
        ``fit(..., epochs=20)`` always ends after epoch 20.

        Parameters
        ----------
        X, y : arrays
            Training inputs ``(N, ...)`` and targets (``(N, ...)`` for MSE, integer labels ``(N,)``
            for cross-entropy), in the model's dtype.
        epochs : int
            Total number of epochs to reach.
        validation : (X_val, y_val), optional
            Evaluated after every epoch (evaluation mode).
        checkpoint : path, optional
            Save a checkpoint there every ``checkpoint_every`` epochs and when training ends.  Checked
            before the first epoch: its folder must exist or be creatable, be a folder and be writable,
            and the file, if any, must be a checkpoint of this run.  Temporary files that killed
            writes of this checkpoint left in the folder (``.<name>.XXXXXXXX.tmp``, the writer's own
            pattern) are removed then; no other file is touched.
        checkpoint_every : int
            Epochs between checkpoints.

        Returns
        -------
        TrainHistory
            :attr:`history` (also when training had already stopped early: then nothing is done).

        Raises
        ------
        DivergenceError
            When training diverges and ``on_divergence="raise"``; ``err.history`` holds the history.
        OSError
            When the checkpoint's folder is not usable (a file in the way, not writable), before any epoch.
        FileExistsError
            When ``checkpoint`` is another run's checkpoint or another file, before any epoch.
        """
        n = _check_data(X, y, "")
        divergence.check_data("X", X)
        divergence.check_data("y", y)
        if validation is not None:
            if not isinstance(validation, tuple | list) or len(validation) != 2:
                raise TypeError("validation must be a pair (X_val, y_val)")
            _check_data(validation[0], validation[1], "_val")
            divergence.check_data("X_val", validation[0])
            divergence.check_data("y_val", validation[1])
        if isinstance(epochs, bool) or not isinstance(epochs, int | np.integer) or epochs < 0:
            raise ValueError(f"epochs must be a non-negative integer (the total to reach), got {epochs!r}")
        if epochs < self.epoch:
            raise ValueError(
                f"epochs is the total number of epochs to reach, and this trainer has already completed "
                f"{self.epoch}; ask for at least {self.epoch}"
            )
        checkpoint_every = _checks.positive_int("checkpoint_every", checkpoint_every)
        if checkpoint is not None:
            _prepare_checkpoint(Path(checkpoint), self.run_id)
        if self.history.stop_reason in ("early_stopping", "diverged"):
            return self.history
        self.model.train()
        while self.epoch < epochs:
            finished = self._run_epoch(X, y, n, validation, epochs)
            last = finished or self.epoch == epochs
            # never replace the last good checkpoint by a diverged state
            due = last or self.epoch % checkpoint_every == 0
            if checkpoint is not None and due and self.history.stop_reason != "diverged":
                self.save_checkpoint(checkpoint)
            if finished:
                break
        else:
            h = self.history
            if h.stop_reason not in ("early_stopping", "diverged"):
                h.stop_reason = "max_epochs"
                h.message = f"completed {self.epoch} epochs ({self.step} steps)"
                if h.step_loss and h.train_loss:  # the first step's loss against the last epoch's
                    divergence.warn_if_unstable(
                        h.step_loss[0], h.train_loss[-1], step=self.step, lr=self._lr(),
                        where=f"epoch {self.epoch} (update {self.step} of the run)",
                    )
        if self.progress:
            print(file=sys.stderr)
        return self.history

    def _run_epoch(self, X: Array, y: Array, n: int, validation: Any, epochs: int) -> bool:
        """One epoch; returns True when training must end (early stopping or divergence)."""
        h, names = self.history, [name for name, _ in self.model.named_parameters()]
        epoch = self.epoch + 1
        losses, correct, step_norms = [], [], []
        g_sum = np.zeros(len(names))
        d_sum = np.zeros(len(names))
        w_sum = np.zeros(len(names))
        n_steps = 0
        gen = self.generator if self.shuffle else None
        dtype = dtype_of(self.model.parameters()[0])
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported as divergence
            for k, idx in enumerate(_minibatches(n, self.batch_size, gen), start=1):
                xb, yb = _take(X, idx), _take(y, idx)
                loss, params, grads, out = self._train_step(xb, yb)
                xp = array_namespace(loss.data)
                norms = [xp.linalg.vector_norm(g) for g in grads]
                host = _host_floats([loss.data, *norms])
                loss_value, g_norms = float(host[0]), host[1:]
                grad_norm = float(np.sqrt(np.sum(g_norms**2)))
                if self._first_loss is None:
                    self._first_loss = loss_value
                h.step_loss.append(loss_value)
                h.step_grad_norm.append(grad_norm)
                problem = self._verdict(math.isfinite(grad_norm), epoch, k, self.step + 1, dtype)
                if problem is not None:
                    return self._stop_diverged(problem)
                new_params, self.opt_state = self.optimizer.step(params, grads, self.opt_state)
                self.model.set_parameters(new_params)
                self.step += 1
                n_steps += 1
                losses.append(loss.data * len(idx))
                if self.accuracy:
                    correct.append(_correct(out.data, yb))
                step_norms.append(grad_norm)
                g_sum += g_norms
                if self.monitor:
                    pairs = [xp.linalg.vector_norm(b - a) for a, b in zip(params, new_params, strict=True)]
                    weights = [xp.linalg.vector_norm(a) for a in params]
                    moved = _host_floats(pairs + weights)
                    d_sum += moved[: len(names)]
                    w_sum += moved[len(names) :]
        if not all(is_finite(p) for p in self.model.parameters()):
            return self._stop_diverged(self._verdict(False, epoch, n_steps, self.step, dtype))

        self.epoch = epoch
        h.epoch.append(epoch)
        h.train_loss.append(float(np.sum(_host_floats(losses))) / n)
        if self.accuracy:
            h.train_accuracy.append(float(np.sum(_host_floats(correct))) / n)
        h.lr.append(self._lr())
        h.grad_norm.append(float(np.mean(step_norms)))
        for i, name in enumerate(names):
            h.layer_grad_norm.setdefault(name, []).append(float(g_sum[i] / n_steps))
            if self.monitor:
                ratio = d_sum[i] / w_sum[i] if w_sum[i] > 0 else (0.0 if d_sum[i] == 0 else math.nan)
                h.update_ratio.setdefault(name, []).append(float(ratio))
        monitored = h.train_loss[-1]
        if validation is not None:
            val_loss, val_acc = evaluate(
                self.model,
                validation[0],
                validation[1],
                self.loss_fn,
                batch_size=max(self.batch_size, 1024),
                accuracy=self.accuracy,
            )
            h.val_loss.append(val_loss)
            if val_acc is not None:
                h.val_accuracy.append(val_acc)
            monitored = val_loss
            self.model.train()
        if self._schedule is not None:
            self._schedule.observe(monitored)
        if self.progress:
            self._print_progress(epochs)
        stopper = self.early_stopping
        if stopper is not None and stopper.update(monitored, self.model.parameters()):
            h.best_epoch = epoch - (stopper.n_updates - 1 - stopper.best_epoch)  # the epoch of the best update
            kept = ""
            if stopper.restore_best and stopper.best_params is not None:
                self.model.set_parameters(list(stopper.restore(self.model.parameters())))
                kept = f"; the parameters of epoch {h.best_epoch} (loss {stopper.best_loss:.4g}) were restored"
            h.stop_reason = "early_stopping"
            h.message = f"early stopping after epoch {epoch}: no improvement for {stopper.patience} epochs{kept}"
            return True
        return False

    def _stop_diverged(self, problem: divergence.Divergence | None) -> bool:
        h = self.history
        h.stop_reason = "diverged"
        h.message = problem.message if problem is not None else "diverged"
        if self.progress:
            print(file=sys.stderr)
        if self.on_divergence == "raise":
            raise DivergenceError(h.message, h, problem)
        return True

    def _print_progress(self, epochs: int) -> None:
        h, width = self.history, 20
        done = int(width * self.epoch / max(epochs, 1))
        val = f"  val {h.val_loss[-1]:.4g}" if h.val_loss else ""
        bar = "=" * done + " " * (width - done)
        print(f"\repoch {self.epoch}/{epochs} [{bar}] loss {h.train_loss[-1]:.4g}{val}", end="", file=sys.stderr)
        sys.stderr.flush()

    # ------------------------------------------------------------------ checkpoints

    def save_checkpoint(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Save everything this run depends on to ``path`` (see :func:`save_checkpoint`).

        A checkpoint of this run (same :attr:`run_id`) at ``path`` is replaced; one of another run is
        not, unless ``overwrite=True``.
        """
        return save_checkpoint(
            path,
            self.model,
            self.opt_state,
            epoch=self.epoch,
            step=self.step,
            run_id=self.run_id,
            optimizer=self.config["optimizer"],
            shuffle_state=self.generator.bit_generator.state,
            early_stopping=self.early_stopping,
            schedule=self._schedule,
            history=self.history,
            config={**self.config, "first_loss": self._first_loss},
            hyperparameters=self.hyperparameters,
            overwrite=overwrite,
        )

    def load_checkpoint(self, path: str | os.PathLike[str], *, allow_changes: bool = False) -> Checkpoint:
        """Continue the run saved at ``path``: load the model, optimizer and trainer state from it.

        The trainer must be built like the one that saved it.  Refused before anything changes:

        * a file that is not a valid checkpoint (:class:`CheckpointError`, naming the problem);
        * another update rule, or early stopping or a ``ReduceOnPlateau`` rate on one side only
          (their saved state could not be used), and parameters whose names, shapes or dtypes
          differ from the model's (``ValueError``/``TypeError``; the differing layers are listed);
        * unless ``allow_changes``: other settings (:attr:`hyperparameters`: the learning rate or
          schedule, the optimizer's hyperparameters, the loss, batch size, shuffling, early
          stopping's settings, the layers' types and arguments, e.g. the activations), with
          :class:`CheckpointMismatchError` listing each difference (``lr: checkpoint 0.01, now 0.1``).

        With ``allow_changes=True`` those differences are accepted with a :class:`CheckpointWarning`
        that lists them, and this trainer's settings are used from now on (its learning rate, its
        early stopping's patience...; a ``ReduceOnPlateau`` rate continues from its saved state).
        The next checkpoint stores them.

        A checkpoint written before gdcourse stored these settings (no ``hyperparameters`` in its
        metadata) still loads: only the update rule, loss, batch size and shuffling (and the
        parameters' shapes) can be checked, and a :class:`CheckpointWarning` says that the rest
        could not be compared.

        Afterwards :attr:`run_id` is the checkpoint's, so later saves to the same path update it.

        Parameters
        ----------
        path : str or path-like
            The checkpoint file.
        allow_changes : bool
            Resume even if the settings differ from the checkpoint's (with a warning).

        Returns
        -------
        Checkpoint
            The checkpoint read (its ``opt_state`` is now this trainer's).

        Raises
        ------
        FileNotFoundError
            If there is no file at ``path``.
        CheckpointError
            If the file is not a valid checkpoint of this format version.
        CheckpointMismatchError
            If the checkpoint's run had other settings (the message lists them).
        ValueError, TypeError
            If the model's parameters do not match the checkpoint's (names and shapes, dtypes).
        """
        path = Path(path)
        ck = _load(path)
        saved, config = ck.config, self.config
        for key in ("loss", "batch_size", "shuffle", "optimizer"):
            if key in saved and saved[key] != config[key] and (key == "optimizer" or not allow_changes):
                hint = (
                    "its optimizer state cannot be used by another update rule"
                    if key == "optimizer"
                    else "resume with the same settings, or pass allow_changes=True to continue with this trainer's"
                )
                raise CheckpointMismatchError(
                    f"the checkpoint {path} was made with {key}={saved[key]!r}, this trainer has "
                    f"{key}={config[key]!r}; {hint}"
                )
        if (ck.early_stopping is None) != (self.early_stopping is None):
            raise CheckpointMismatchError(
                f"the checkpoint {path} and this trainer disagree on early stopping; resume with the same settings"
            )
        if (ck.schedule is None) != (self._schedule is None):
            raise CheckpointMismatchError(
                f"the checkpoint {path} and this trainer disagree on a ReduceOnPlateau learning rate"
            )
        differences = [] if ck.hyperparameters is None else _differences(ck.hyperparameters, self.hyperparameters)
        try:
            _check_fits(ck, self.model)  # names, shapes, dtypes and dropout generators; changes nothing
        except ValueError as err:
            layers = [d for d in differences if d.startswith("layer ")]
            if layers:
                raise CheckpointMismatchError(f"{err}; the layers differ:\n  " + "\n  ".join(layers)) from None
            raise
        if differences and not allow_changes:
            raise CheckpointMismatchError(
                f"the checkpoint {path} was written by a run with other settings than this trainer's:\n  "
                + "\n  ".join(differences)
                + "\nResume with the same settings, or pass allow_changes=True to continue with this trainer's."
            )
        if differences:
            warnings.warn(
                f"resuming {path} with changed settings (this trainer's are used from now on):\n  "
                + "\n  ".join(differences),
                CheckpointWarning,
                stacklevel=2,
            )
        if ck.hyperparameters is None:
            warnings.warn(
                f"the checkpoint {path} was written before gdcourse stored a run's settings in checkpoints: its "
                "learning rate, the optimizer's other hyperparameters and the layers' activations cannot be "
                "compared with this trainer's; make sure they are the same (the next checkpoint stores them)",
                CheckpointWarning,
                stacklevel=2,
            )
        self.opt_state = ck.opt_state = _install(ck, self.model)
        if ck.shuffle_state is not None:
            _set_generator_state(self.generator, ck.shuffle_state, "the shuffling generator")
        self.epoch, self.step = ck.epoch, ck.step
        self.history = ck.history
        self.run_id = ck.run_id
        first = ck.config.get("first_loss")
        self._first_loss = None if first is None else float(first)
        if ck.early_stopping is not None and self.early_stopping is not None:
            s, saved = self.early_stopping, ck.early_stopping
            if not differences:  # else this trainer's settings, as allowed
                s.patience, s.min_delta, s.restore_best = saved["patience"], saved["min_delta"], saved["restore_best"]
            s.best_loss, s.best_epoch, s.wait = float(saved["best_loss"]), saved["best_epoch"], saved["wait"]
            s.n_updates, s.stopped = saved["n_updates"], saved["stopped"]
            ref = self.model.parameters()
            best = saved["best_params"]
            s.best_params = None if best is None else [_like(b, p) for b, p in zip(best, ref, strict=True)]
        if ck.schedule is not None and self._schedule is not None:
            for key, value in ck.schedule.items():
                setattr(self._schedule, key, value)
        return ck


def fit(
    model: Module,
    X: Array,
    y: Array,
    *,
    optimizer: Any,
    loss: str | LossFn = "mse",
    epochs: int = 10,
    batch_size: int = 32,
    validation: tuple[Array, Array] | None = None,
    early_stopping: EarlyStopping | int | None = None,
    seed: int | np.random.Generator | None = 0,
    **options: Any,
) -> TrainHistory:
    """Train ``model`` for ``epochs`` epochs and return the history: ``Trainer(...).fit(...)`` in one call.

    ``options`` are the other arguments of :class:`Trainer` (``shuffle``, ``monitor``, ``accuracy``,
    ``divergence_factor``, ``on_divergence``, ``progress``).  Use a :class:`Trainer` directly to
    save and resume checkpoints.
    """
    trainer = Trainer(
        model, optimizer, loss, batch_size=batch_size, seed=seed, early_stopping=early_stopping, **options
    )
    return trainer.fit(X, y, epochs, validation=validation)
