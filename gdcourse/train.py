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
import json
import math
import os
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from array_api_compat import device as _device
from array_api_compat import is_array_api_obj

import gdcourse
from gdcourse import divergence
from gdcourse.autodiff.array import Tensor
from gdcourse.backend import array_namespace, dtype_of, is_finite, rng, to_numpy
from gdcourse.descent import DivergenceError
from gdcourse.nn.loss import mse_loss, softmax_cross_entropy
from gdcourse.nn.module import Module
from gdcourse.optim import OptState
from gdcourse.regularization import EarlyStopping
from gdcourse.schedules import ReduceOnPlateau

__all__ = [
    "Checkpoint",
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


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


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
    batch_size = _positive_int("batch_size", batch_size)
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
    config : dict
        The trainer's settings (loss, batch size, shuffle, ...).
    meta : dict
        The whole JSON metadata.
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
        meta = _read_meta(path)
    except (OSError, ValueError, KeyError) as err:
        raise FileExistsError(
            f"{path} exists and is not a gdcourse checkpoint ({err}); refusing to overwrite it. "
            "Choose another path, or delete the file."
        ) from None
    return meta.get("run_id")


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
    overwrite: bool = False,
) -> Path:
    """Write a checkpoint: parameters, optimizer state and trainer state, atomically, as ``.npz`` + JSON.

    The generator of every dropout layer of ``model`` is saved with it (by module path).
    Usually called through :meth:`Trainer.save_checkpoint`, which fills in every argument.

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
        "gdcourse": gdcourse.__version__,
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
    text = json.dumps(meta)  # Python's JSON: NaN and Infinity are written as such
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
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


def _read_meta(path: Path) -> dict[str, Any]:
    with np.load(path, allow_pickle=False) as f:
        meta = json.loads(str(f["__meta__"][()]))
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError("no gdcourse checkpoint metadata")
    return meta


def _like(host: np.ndarray, ref: Array) -> Array:
    """``host`` moved to the library and device of ``ref`` (dtype as saved)."""
    xp = array_namespace(ref)
    return xp.asarray(host, device=_device(ref))


def load_checkpoint(path: str | os.PathLike[str], model: Module | None = None) -> Checkpoint:
    """Read a checkpoint written by :func:`save_checkpoint` (never unpickles anything).

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
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    with np.load(path, allow_pickle=False) as f:
        try:
            meta = json.loads(str(f["__meta__"][()]))
        except KeyError:
            raise ValueError(f"{path} is not a gdcourse checkpoint (no __meta__ entry)") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise ValueError(f"{path} is not a gdcourse checkpoint")
        if meta.get("version") != VERSION:
            raise ValueError(
                f"{path} is a version {meta.get('version')} checkpoint; this gdcourse reads version {VERSION}"
            )
        arrays = {key: f[key] for key in f.files if key != "__meta__"}

    def array(key: str) -> np.ndarray:
        if key not in arrays:
            raise ValueError(f"{path} is incomplete: its metadata names an array {key!r} that it does not hold")
        return arrays[key]

    params = {p["name"]: array(p["key"]) for p in meta["params"]}
    opt = meta["optimizer"]
    host_slots = {
        slot: [array(item["array"]) if "array" in item else float(item["float"]) for item in desc["items"]]
        for slot, desc in opt["slots"].items()
    }
    refs: list[Array] = []
    if model is not None:  # check everything first, so that a mismatch leaves the model untouched
        current = model.named_parameters()
        names = [name for name, _ in current]
        if names != list(params):
            raise ValueError(f"the checkpoint's parameters {list(params)} do not match the model's {names}")
        for name, p in current:
            saved = params[name]
            if tuple(saved.shape) != tuple(p.shape):
                raise ValueError(
                    f"parameter {name!r}: the checkpoint has shape {saved.shape}, the model {tuple(p.shape)}"
                )
            if str(saved.dtype) != dtype_of(p):
                raise TypeError(f"parameter {name!r}: the checkpoint has dtype {saved.dtype}, the model {p.dtype}")
        gens = _generators(model)
        saved_gens = meta.get("generators", {})
        if set(gens) != set(saved_gens):
            raise ValueError(
                f"the checkpoint has generators for modules {sorted(saved_gens)}, the model has {sorted(gens)}"
            )
        for name, gen in gens.items():  # a trial run on a copy: a bad state raises here
            _set_generator_state(copy.deepcopy(gen), saved_gens[name], f"module {name}")
        refs = [p for _, p in current]
        model.set_parameters([_like(params[name], p) for name, p in current])
        for name, gen in gens.items():
            _set_generator_state(gen, saved_gens[name], f"module {name}")

    slots: dict[str, Any] = {}
    for slot, items in host_slots.items():
        items = [_like(v, refs[i]) if refs and isinstance(v, np.ndarray) else v for i, v in enumerate(items)]
        kind = opt["slots"][slot]["kind"]
        slots[slot] = items if kind == "list" else (tuple(items) if kind == "tuple" else items[0])
    stopper = meta.get("early_stopping")
    if stopper is not None and stopper.get("best_params") is not None:
        stopper = dict(stopper)
        stopper["best_params"] = [array(k) for k in stopper["best_params"]]
    return Checkpoint(
        run_id=meta["run_id"],
        epoch=int(meta["epoch"]),
        step=int(meta["step"]),
        params=params,
        opt_state=OptState(t=int(opt["t"]), slots=slots),
        optimizer=opt.get("name", ""),
        shuffle_state=meta.get("shuffle_state"),
        generator_states=meta.get("generators", {}),
        early_stopping=stopper,
        schedule=meta.get("schedule"),
        history=TrainHistory(**meta.get("history", {})),
        config=meta.get("config", {}),
        meta=meta,
    )


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
        self.batch_size = _positive_int("batch_size", batch_size)
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
            Save a checkpoint there every ``checkpoint_every`` epochs and when training ends.
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
        checkpoint_every = _positive_int("checkpoint_every", checkpoint_every)
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
            overwrite=overwrite,
        )

    def load_checkpoint(self, path: str | os.PathLike[str]) -> Checkpoint:
        """Continue the run saved at ``path``: load the model, optimizer and trainer state from it.

        The trainer must have been built like the one that saved it (same model architecture, same
        optimizer and hyperparameters, same loss, batch size and shuffling; the first four are
        checked).  Afterwards :attr:`run_id` is the checkpoint's, so later saves to the same path
        update it.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no checkpoint at {path}")
        try:
            meta = _read_meta(path)
        except (KeyError, ValueError) as err:
            raise ValueError(f"{path} is not a gdcourse checkpoint ({err})") from None
        saved, config = meta.get("config", {}), self.config
        for key in ("loss", "batch_size", "shuffle", "optimizer"):
            if key in saved and saved[key] != config[key]:
                raise ValueError(
                    f"the checkpoint was made with {key}={saved[key]!r}, this trainer has {key}={config[key]!r}; "
                    "resume with the same settings"
                )
        if (meta.get("early_stopping") is None) != (self.early_stopping is None):
            raise ValueError(
                "the checkpoint and this trainer disagree on early stopping; resume with the same settings"
            )
        if (meta.get("schedule") is None) != (self._schedule is None):
            raise ValueError("the checkpoint and this trainer disagree on a ReduceOnPlateau learning rate")
        ck = load_checkpoint(path, self.model)  # checks names, shapes and dtypes, loads params and dropout states
        if ck.shuffle_state is not None:
            _set_generator_state(self.generator, ck.shuffle_state, "the shuffling generator")
        self.opt_state = ck.opt_state
        self.epoch, self.step = ck.epoch, ck.step
        self.history = ck.history
        self.run_id = ck.run_id
        first = ck.config.get("first_loss")
        self._first_loss = None if first is None else float(first)
        if ck.early_stopping is not None and self.early_stopping is not None:
            s, saved = self.early_stopping, ck.early_stopping
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
