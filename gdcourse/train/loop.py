r"""Training loop for :mod:`gdcourse.nn` models: minibatches, validation, early stopping, monitoring, checkpoints.

One epoch shuffles the training set with the trainer's own seeded host generator, cuts it into
minibatches of ``batch_size`` examples (the last one may be smaller; a ``batch_size`` of at least the
number of examples is the full batch, in stored order: :func:`gdcourse.data.minibatch_indices`, the
course's one minibatch rule) and takes one optimizer step per minibatch, the step of :mod:`gdcourse.nn`'s docstring::

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

import json
import math
import os
import sys
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from array_api_compat import device as _device
from array_api_compat import is_array_api_obj

from gdcourse import _checks, divergence
from gdcourse.autodiff.array import Tensor
from gdcourse.backend import array_namespace, dtype_of, is_finite, rng, to_numpy
from gdcourse.data import minibatch_indices
from gdcourse.descent import DivergenceError
from gdcourse.nn.loss import mse_loss, softmax_cross_entropy
from gdcourse.nn.module import Module
from gdcourse.regularization import EarlyStopping
from gdcourse.schedules import ReduceOnPlateau
from gdcourse.train.checkpoint import (
    Checkpoint,
    CheckpointMismatchError,
    CheckpointWarning,
    _check_fits,
    _differences,
    _install,
    _jsonable,
    _like,
    _load,
    _named_modules,
    _prepare_checkpoint,
    _set_generator_state,
    save_checkpoint,
)
from gdcourse.train.history import TrainHistory

__all__ = ["DivergenceError", "Trainer", "evaluate", "fit"]

Array = Any
LossFn = Callable[[Tensor, Any], Tensor]

LOSSES: dict[str, LossFn] = {
    "mse": mse_loss,
    "cross_entropy": softmax_cross_entropy,
    "softmax_cross_entropy": softmax_cross_entropy,
}


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
        for idx in minibatch_indices(n, batch_size, shuffle=False):
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
# The trainer
# ----------------------------------------------------------------------------------------------


@dataclass
class _EpochTally:
    """What the steps of one epoch add up, for the epoch's entries in the history."""

    n_params: int
    dtype: str  # the parameters' dtype, for the divergence verdict (read once per epoch)
    n_steps: int = 0
    losses: list[Array] = field(default_factory=list)  # minibatch loss × its size, on the device
    correct: list[Array] = field(default_factory=list)  # correctly classified examples per minibatch
    step_norms: list[float] = field(default_factory=list)  # global gradient norm of each step
    g_sum: np.ndarray = field(init=False)  # per-parameter gradient norms, summed over the steps
    d_sum: np.ndarray = field(init=False)  # per-parameter update norms ‖θ⁺ − θ‖
    w_sum: np.ndarray = field(init=False)  # per-parameter weight norms ‖θ‖

    def __post_init__(self) -> None:
        self.g_sum, self.d_sum, self.w_sum = (np.zeros(self.n_params) for _ in range(3))


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

    def _train_step(self, xb: Array, yb: Array) -> tuple[Tensor, list[Array], list[Array], Any]:
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
                        h.step_loss[0],
                        h.train_loss[-1],
                        step=self.step,
                        lr=self._lr(),
                        where=f"epoch {self.epoch} (update {self.step} of the run)",
                    )
        if self.progress:
            print(file=sys.stderr)
        return self.history

    def _run_epoch(self, X: Array, y: Array, n: int, validation: Any, epochs: int) -> bool:
        """One epoch, as in the module docstring: a step per minibatch, then the end of the epoch.

        Returns True when training must end (early stopping or divergence).
        """
        params = self.model.parameters()
        tally = _EpochTally(len(params), dtype_of(params[0]))
        gen = self.generator if self.shuffle else None
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported as divergence
            batches = minibatch_indices(n, self.batch_size, shuffle=gen is not None, seed=gen)
            for k, idx in enumerate(batches, start=1):
                problem = self._step(_take(X, idx), _take(y, idx), len(idx), k, tally)
                if problem is not None:
                    return self._stop_diverged(problem)
        if not all(is_finite(p) for p in self.model.parameters()):
            return self._stop_diverged(self._verdict(False, self.epoch + 1, tally.n_steps, self.step, tally.dtype))
        monitored = self._record_epoch(tally, n, validation)
        if self._schedule is not None:
            self._schedule.observe(monitored)
        if self.progress:
            self._print_progress(epochs)
        return self._early_stop(monitored)

    def _step(self, xb: Array, yb: Array, size: int, k: int, tally: _EpochTally) -> divergence.Divergence | None:
        """Minibatch ``k`` of the epoch: forward, backward, divergence check, update, and its records."""
        loss, params, grads, out = self._train_step(xb, yb)
        xp = array_namespace(loss.data)
        host = _host_floats([loss.data, *(xp.linalg.vector_norm(g) for g in grads)])
        loss_value, g_norms = float(host[0]), host[1:]
        grad_norm = float(np.sqrt(np.sum(g_norms**2)))
        if self._first_loss is None:
            self._first_loss = loss_value
        self.history.step_loss.append(loss_value)
        self.history.step_grad_norm.append(grad_norm)
        problem = self._verdict(math.isfinite(grad_norm), self.epoch + 1, k, self.step + 1, tally.dtype)
        if problem is not None:
            return problem
        new_params, self.opt_state = self.optimizer.step(params, grads, self.opt_state)
        self.model.set_parameters(new_params)
        self.step += 1
        tally.n_steps += 1
        tally.losses.append(loss.data * size)
        if self.accuracy:
            tally.correct.append(_correct(out.data, yb))
        tally.step_norms.append(grad_norm)
        tally.g_sum += g_norms
        if self.monitor:
            moves = [xp.linalg.vector_norm(b - a) for a, b in zip(params, new_params, strict=True)]
            moved = _host_floats(moves + [xp.linalg.vector_norm(a) for a in params])
            tally.d_sum += moved[: len(params)]
            tally.w_sum += moved[len(params) :]
        return None

    def _record_epoch(self, tally: _EpochTally, n: int, validation: Any) -> float:
        """Close the epoch in the history (loss, accuracy, lr, norms, ratios, validation); the monitored loss."""
        h, names = self.history, [name for name, _ in self.model.named_parameters()]
        self.epoch += 1
        h.epoch.append(self.epoch)
        h.train_loss.append(float(np.sum(_host_floats(tally.losses))) / n)
        if self.accuracy:
            h.train_accuracy.append(float(np.sum(_host_floats(tally.correct))) / n)
        h.lr.append(self._lr())
        h.grad_norm.append(float(np.mean(tally.step_norms)))
        for i, name in enumerate(names):
            h.layer_grad_norm.setdefault(name, []).append(float(tally.g_sum[i] / tally.n_steps))
            if self.monitor:
                d, w = tally.d_sum[i], tally.w_sum[i]
                ratio = d / w if w > 0 else (0.0 if d == 0 else math.nan)
                h.update_ratio.setdefault(name, []).append(float(ratio))
        if validation is None:
            return h.train_loss[-1]
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
        self.model.train()
        return val_loss

    def _early_stop(self, monitored: float) -> bool:
        """Ask the early-stopping rule; when it says stop, restore the best parameters and say why."""
        h, stopper = self.history, self.early_stopping
        if stopper is None or not stopper.update(monitored, _tracked_state(self.model)):
            return False
        h.best_epoch = self.epoch - (stopper.n_updates - 1 - stopper.best_epoch)  # the epoch of the best update
        kept = ""
        if stopper.restore_best and stopper.best_params is not None:
            _install_state(self.model, list(stopper.restore(_tracked_state(self.model))))
            kept = f"; the parameters of epoch {h.best_epoch} (loss {stopper.best_loss:.4g}) were restored"
        h.stop_reason = "early_stopping"
        h.message = f"early stopping after epoch {self.epoch}: no improvement for {stopper.patience} epochs{kept}"
        return True

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

        Parameters
        ----------
        path : str or path-like
            The file to write (its folder is created if needed).  Another run's checkpoint, or any other
            file or a folder, at ``path`` is refused with ``FileExistsError`` unless ``overwrite``.
        overwrite : bool
            Replace whatever file is at ``path``, another run's checkpoint included.

        Returns
        -------
        pathlib.Path
            The path written.
        """
        return save_checkpoint(
            path,
            self.model,
            self.opt_state,
            epoch=self.epoch,
            step=self.step,
            run_id=self.run_id,
            optimizer=self.config["optimizer"],
            shuffle_state=self.generator.bit_generator.state,  # type: ignore[arg-type]  # a dict; numpy's stub: Mapping
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
          (their saved state could not be used), and parameters or buffers whose names, shapes or
          dtypes differ from the model's (``ValueError``/``TypeError``; the differing layers are listed);
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
        FileNotFoundError, CheckpointError
            As :func:`~gdcourse.train.checkpoint.load_checkpoint`: no file at ``path``, or not a valid
            checkpoint of this format version.
        CheckpointMismatchError
            If the checkpoint's run had other settings (the message lists them).
        ValueError, TypeError
            If the model's parameters or buffers do not match the checkpoint's (names and shapes, dtypes).
        """
        path = Path(path)
        ck = _load(path)
        self._refuse_another_setup(path, ck, allow_changes)
        differences = [] if ck.hyperparameters is None else _differences(ck.hyperparameters, self.hyperparameters)
        self._check_model_fits(ck, differences)
        _accept_differences(path, ck, differences, allow_changes)
        self._resume(ck, keep_saved_settings=not differences)
        return ck

    def _refuse_another_setup(self, path: Path, ck: Checkpoint, allow_changes: bool) -> None:
        """Refuse a checkpoint whose state this trainer cannot use, or (unless allowed) whose basic settings differ.

        Another update rule, early stopping or a ``ReduceOnPlateau`` rate on one side only are always
        refused; another loss, batch size or shuffling unless ``allow_changes``.
        """
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

    def _check_model_fits(self, ck: Checkpoint, differences: list[str]) -> None:
        """Raise unless the checkpoint's parameters and buffers fit the model; a misfit lists the layers that differ."""
        try:
            _check_fits(ck, self.model)  # names, shapes, dtypes, buffers and dropout generators; changes nothing
        except ValueError as err:
            layers = [d for d in differences if d.startswith("layer ")]
            if layers:
                raise CheckpointMismatchError(f"{err}; the layers differ:\n  " + "\n  ".join(layers)) from None
            raise

    def _resume(self, ck: Checkpoint, *, keep_saved_settings: bool) -> None:
        """Take over the checkpoint's state: model, optimizer, shuffling, counters, history, early stopping, rate.

        Early stopping takes the checkpoint's settings too when ``keep_saved_settings`` (no difference
        was found); after allowed changes it keeps this trainer's.
        """
        self.opt_state = ck.opt_state = _install(ck, self.model)
        if ck.shuffle_state is not None:
            _set_generator_state(self.generator, ck.shuffle_state, "the shuffling generator")
        self.epoch, self.step = ck.epoch, ck.step
        self.history = ck.history
        self.run_id = ck.run_id
        first = ck.config.get("first_loss")
        self._first_loss = None if first is None else float(first)
        if ck.early_stopping is not None and self.early_stopping is not None:
            _resume_early_stopping(
                self.early_stopping, ck.early_stopping, _tracked_state(self.model), keep_saved_settings
            )
        if ck.schedule is not None and self._schedule is not None:
            for key, value in ck.schedule.items():
                setattr(self._schedule, key, value)


def _accept_differences(path: Path, ck: Checkpoint, differences: list[str], allow_changes: bool) -> None:
    """Refuse changed settings unless ``allow_changes``, else warn about them; warn when they cannot be compared."""
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
            stacklevel=3,
        )
    if ck.hyperparameters is None:
        warnings.warn(
            f"the checkpoint {path} was written before gdcourse stored a run's settings in checkpoints: its "
            "learning rate, the optimizer's other hyperparameters and the layers' activations cannot be "
            "compared with this trainer's; make sure they are the same (the next checkpoint stores them)",
            CheckpointWarning,
            stacklevel=3,
        )


def _tracked_state(model: Module) -> list[Array]:
    """What early stopping keeps of the best epoch: the parameters, then the buffers (BatchNorm's statistics)."""
    return model.parameters() + model.buffers()


def _install_state(model: Module, state: list[Array]) -> None:
    """Put back a :func:`_tracked_state` list (the parameters, then the buffers) through ``load_state_dict``."""
    names = [name for name, _ in model.named_parameters()] + [name for name, _ in model.named_buffers()]
    model.load_state_dict(dict(zip(names, state, strict=True)))


def _resume_early_stopping(
    stopper: EarlyStopping, saved: dict[str, Any], ref: list[Array], keep_saved_settings: bool
) -> None:
    """Give ``stopper`` the saved state (its best parameters moved like ``ref``), and the saved settings if asked."""
    if keep_saved_settings:  # else this trainer's settings, as allowed
        settings = saved["patience"], saved["min_delta"], saved["restore_best"]
        stopper.patience, stopper.min_delta, stopper.restore_best = settings
    stopper.best_loss, stopper.best_epoch, stopper.wait = float(saved["best_loss"]), saved["best_epoch"], saved["wait"]
    stopper.n_updates, stopper.stopped = saved["n_updates"], saved["stopped"]
    best = saved["best_params"]
    stopper.best_params = None if best is None else [_like(b, p) for b, p in zip(best, ref, strict=True)]


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

    Parameters
    ----------
    model : gdcourse.nn.Module
        The model to train (its parameters are replaced step by step).
    X, y : arrays
        Training inputs and targets, as in :meth:`Trainer.fit`.
    optimizer : Optimizer
        Any :mod:`gdcourse.optim` rule, e.g. ``optim.adam(lr=1e-3)``.
    loss : str or callable
        ``"mse"`` (default), ``"cross_entropy"`` or ``loss(output, target) -> scalar Tensor``.
    epochs : int
        Number of epochs, 10 by default.
    batch_size : int
        Examples per minibatch :math:`B` (32 by default).
    validation : (X_val, y_val), optional
        Evaluated after every epoch; its loss is the one early stopping watches (else the training loss).
    early_stopping : EarlyStopping or int, optional
        The rule, or its patience in epochs.
    seed : int or numpy.random.Generator
        Seed of the shuffling.
    **options
        The other keyword arguments of :class:`Trainer`.

    Returns
    -------
    TrainHistory
        Losses, accuracies, norms and why training stopped.
    """
    trainer = Trainer(
        model, optimizer, loss, batch_size=batch_size, seed=seed, early_stopping=early_stopping, **options
    )
    return trainer.fit(X, y, epochs, validation=validation)
