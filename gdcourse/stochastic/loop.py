r"""The minibatch loop :func:`sgd_run`: one update per minibatch, the cost recorded per update and epoch."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from array_api_compat import device

from gdcourse import _checks, divergence
from gdcourse.backend import array_namespace, dtype_of, is_finite, rng, to_numpy
from gdcourse.data import Minibatches
from gdcourse.descent import DivergenceError, History, _check_grad, _check_theta0, rule_of

Array = Any
Seed = int | np.random.Generator | None
ScheduleFn = Callable[[int], float]


# ----------------------------------------------------------------------------------------------
# The minibatch loop
# ----------------------------------------------------------------------------------------------


@dataclass(repr=False)
class StochasticHistory(History):
    r"""A :class:`~gdcourse.descent.History` of a minibatch run, recorded every ``record_every`` updates.

    ``path``, ``losses`` and ``grad_norms`` hold the full cost :math:`J` (not the batch cost), the
    iterate and :math:`\lVert\nabla J\rVert` at the recorded updates only, and ``extras`` says where:

    * ``extras["update"]``: the update count :math:`t` of each record (0 = the start);
    * ``extras["epoch"]``: :math:`t` in epochs (fractional inside an epoch), examples processed / :math:`n`;
    * ``extras["examples"]``: examples processed so far (gradient evaluations of single :math:`f_i`).

    So ``plot_loss(run, against="examples")`` or ``against="epoch"`` compares runs with different batch
    sizes on an equal budget.  ``lrs`` holds the learning rate of every update.
    """

    n_updates: int = 0
    batch_size: int = 0
    n_samples: int = 0

    @property
    def n_iter(self) -> int:
        """Number of updates taken (not the number of records)."""
        return self.n_updates

    @property
    def epochs(self) -> np.ndarray:
        """``extras["epoch"]``."""
        return self.extras["epoch"]

    @property
    def examples(self) -> np.ndarray:
        """``extras["examples"]``."""
        return self.extras["examples"]

    @property
    def updates(self) -> np.ndarray:
        """``extras["update"]``."""
        return self.extras["update"]


def _parts(objective: Any, grad_batch: Callable | None) -> tuple[Callable, Callable, Callable | None]:
    value_fn = getattr(objective, "value", objective)
    if not callable(value_fn):
        raise TypeError(f"objective must be callable or have a .value method, got {type(objective).__name__}")
    batch_fn = grad_batch if grad_batch is not None else getattr(objective, "batch_grad", None)
    if not callable(batch_fn):
        raise TypeError(
            "objective has no .batch_grad method; pass grad_batch=... (a function (theta, X_batch, y_batch) -> "
            "gradient of the batch cost)"
        )
    return value_fn, batch_fn, getattr(objective, "grad", None)


def _independent(X: Array, y: Array | None, size: int, n_batches: int, gen: np.random.Generator) -> Any:
    """``n_batches`` batches of ``size`` rows drawn uniformly with replacement (indices on the host)."""

    def take(a: Array, idx: np.ndarray) -> Array:
        xp = array_namespace(a)
        return xp.take(a, xp.asarray(idx, device=device(a)), axis=0)

    for _ in range(n_batches):
        idx = gen.integers(0, X.shape[0], size=size)
        yield take(X, idx), (None if y is None else take(y, idx))


class _Run:
    """The records of one :func:`sgd_run` and its named pieces: the update, what is recorded after it, the history."""

    def __init__(
        self,
        value_fn: Callable,
        grad_fn: Callable | None,
        xp: Any,
        opt: Any,
        theta0: Array,
        record_every: int,
        factor: float,
        batch_size: int,
    ) -> None:
        self.value_fn, self.grad_fn, self.xp, self.opt = value_fn, grad_fn, xp, opt
        self.factor, self.batch_size = factor, batch_size
        self.eps, self.dtype = divergence.optimizer_eps(opt), dtype_of(theta0)
        self.unit = "update" if record_every == 1 else "record"
        loss, norm = self.full(theta0)
        if not math.isfinite(loss):
            raise ValueError(f"the cost at theta0 is {loss}; start where the objective is defined")
        self.path, self.losses, self.norms = [to_numpy(theta0)], [loss], [norm]
        self.updates, self.seen = [0], [0]
        self.lrs: list[float] = []
        self.stop_reason, self.message = "max_iter", ""
        self.problem: divergence.Divergence | None = None

    def full(self, theta: Array) -> tuple[float, float]:
        r"""The full-data cost :math:`J(\theta)` and gradient norm (NaN without a full gradient)."""
        loss = float(self.value_fn(theta))
        norm = float(self.xp.linalg.vector_norm(self.grad_fn(theta))) if self.grad_fn is not None else math.nan
        return loss, norm

    def step(self, theta: Array, state: Any, g: Array, t: int, *, plain: bool) -> tuple[Array, Any]:
        r"""Update ``t`` (from 0): :math:`\theta \leftarrow \theta - \eta_t g_B` (plain SGD), else the optimizer's."""
        if t == 0:
            _check_grad(g, theta)
        if plain:  # plain SGD, written out: θ ← θ − η_t g
            eta = self.opt.lr_at(t)
            theta = theta - eta * g
        else:
            eta = float(self.opt.lr_at(t)) if hasattr(self.opt, "lr_at") else math.nan
            theta, state = self.opt.step(theta, g, state)
        self.lrs.append(eta)
        return theta, state

    def record(self, theta: Array, t: int, examples: int, epoch: int) -> bool:
        """Record the full cost after update ``t``; ``True`` when the run diverged (the verdict is kept)."""
        loss, norm = self.full(theta)
        self.path.append(to_numpy(theta))
        self.losses.append(loss)
        self.norms.append(norm)
        self.updates.append(t)
        self.seen.append(examples)
        self.problem = divergence.classify(
            self.losses,
            is_finite(theta),
            t,
            self.lrs[-1],
            self.dtype,
            eps=self.eps,
            factor=self.factor,
            unit=self.unit,
            where=f"update {t} (epoch {epoch + 1}, B={self.batch_size})",
        )
        if self.problem is not None:
            self.stop_reason, self.message = "diverged", self.problem.message
        return self.problem is not None

    def history(self, theta: Array, label: str, message: str, *, n_updates: int, n_samples: int) -> StochasticHistory:
        """The :class:`StochasticHistory` of the records: ``n_updates`` updates on ``n_samples`` examples."""
        return StochasticHistory.from_records(
            self.path,
            self.losses,
            self.norms,
            self.lrs,
            stop_reason=self.stop_reason,
            message=message,
            theta=theta,
            label=label,
            extras={
                "update": np.asarray(self.updates),
                "epoch": np.asarray(self.seen, dtype=np.float64) / n_samples,
                "examples": np.asarray(self.seen),
            },
            n_updates=n_updates,
            batch_size=self.batch_size,
            n_samples=n_samples,
        )


def sgd_run(
    objective: Any,
    theta0: Array,
    X: Array,
    y: Array | None = None,
    *,
    batch_size: int | None,
    lr: float | ScheduleFn | None = None,
    optimizer: Any = None,
    epochs: int = 20,
    grad_batch: Callable[[Array, Array, Array | None], Array] | None = None,
    shuffle: bool = True,
    drop_last: bool = False,
    replace: bool = False,
    seed: Seed = 0,
    record_every: int = 1,
    divergence_factor: float = 1e6,
    on_divergence: Literal["raise", "stop"] = "raise",
    label: str | None = None,
) -> StochasticHistory:
    r"""Minibatch gradient descent for ``epochs`` epochs: batch (:math:`B=n`), stochastic (:math:`B=1`) or between.

    The loop, with the batches of :class:`gdcourse.data.Minibatches` (a fresh seeded permutation
    per epoch, every example once per epoch)::

        for epoch in range(epochs):
            for X_batch, y_batch in batches.epoch(epoch):
                g = grad_batch(theta, X_batch, y_batch)     # gradient of the batch cost J_B
                theta, state = opt.step(theta, g, state)    # theta - lr * g for plain SGD

    i.e. :math:`\theta_{t+1} = \theta_t - \eta_t\, g_{\mathcal B_t}(\theta_t)`.  With :math:`B = n` the
    batch is the whole data set in stored order, so the run *is* full-batch gradient descent with
    gradient ``grad_batch(theta, X, y)``, to the last bit.

    The full cost :math:`J(\theta_t)` (``objective.value``) and :math:`\lVert\nabla J(\theta_t)\rVert`
    (``objective.grad``, NaN without one) are recorded at the start, every ``record_every`` updates
    and at the end of every epoch; they cost a pass over the data each, which is why a run with
    :math:`B = 1` may record less often than it updates.

    Parameters
    ----------
    objective : object or callable
        Has ``.value(theta)`` (the full cost :math:`J`) and ``.batch_grad(theta, X_batch, y_batch)``
        (e.g. :class:`LeastSquares`); or a cost function ``theta -> J`` with ``grad_batch=``.
    theta0 : array, shape (dim,)
        Start (any backend; the run stays on it).
    X, y : arrays
        The data the batches are cut from (``y`` may be ``None``).
    batch_size : int or None
        :math:`B`; ``None`` is the full batch.
    lr : float or callable, optional
        :math:`\eta`, or a schedule ``t -> eta_t`` (``t`` counts updates from 0) for plain SGD.  Give exactly
        one of ``lr`` and ``optimizer``.
    optimizer : gdcourse.optim.Optimizer or compatible, optional
        Any ``init``/``step`` optimizer of :mod:`gdcourse.optim`.
    epochs : int, default 20
        Passes over the data.
    grad_batch : callable, optional
        ``(theta, X_batch, y_batch) -> gradient``; overrides ``objective.batch_grad``.
    shuffle, drop_last : bool
        As in :func:`gdcourse.data.iterate_minibatches`.
    replace : bool, default False
        Instead of epochs of a permutation, draw every batch's :math:`B` examples independently and
        uniformly, with replacement -- the idealisation most theory assumes: then
        :math:`\mathbb E[g_{\mathcal B_t} \mid \theta_t] = \nabla J(\theta_t)` at every update, and for a quadratic
        :math:`\mathbb E[\theta_t]` follows the full-batch recursion exactly.  An "epoch" is then
        :math:`\lceil n/B\rceil` such batches (``shuffle`` and ``drop_last`` are ignored).
    seed : int, numpy Generator or None, default 0
        Seed of the batch order.
    record_every : int, default 1
        Record every this many updates (and at every epoch's end).
    divergence_factor : float
        Divergence when a recorded :math:`|J|` exceeds ``divergence_factor * max(1, |J(theta0)|)``, or
        :math:`J` or :math:`\theta` is not finite; the verdict (a learning rate too large, or a numerical
        problem) is :func:`gdcourse.divergence.classify`'s, as in every loop of the course.
    on_divergence : {"raise", "stop"}
        Raise :class:`~gdcourse.descent.DivergenceError` (default) or return the history.
    label : str, optional
        Default ``"B=… η=…"``.

    Returns
    -------
    StochasticHistory

    Raises
    ------
    ValueError
        For NaN or inf in ``X``, ``y`` or ``theta0`` (named, counted and located), or another bad argument.
    DivergenceError
        When the run diverges and ``on_divergence="raise"``.

    Warns
    -----
    gdcourse.divergence.UnstableRunWarning
        When the run used all its epochs and ended far above its start.
    """
    xp = _check_theta0(theta0)
    value_fn, batch_fn, grad_fn = _parts(objective, grad_batch)
    lr, opt = rule_of(lr, optimizer, "plain SGD")
    epochs = _checks.int_at_least("epochs", epochs, 0)
    record_every = _checks.int_at_least("record_every", record_every, 1)
    divergence_factor = divergence.check_options(divergence_factor, on_divergence)
    divergence.check_data("X", X)
    divergence.check_data("y", y)
    batches = Minibatches(X, y, batch_size, shuffle=shuffle, drop_last=drop_last and not replace, seed=seed)
    n, size = batches.n_samples, batches.batch_size
    gen = rng(seed) if replace else None
    if label is None:
        label = f"B={size} η={lr:.3g}" if isinstance(lr, int | float) else f"B={size}"

    run = _Run(value_fn, grad_fn, xp, opt, theta0, record_every, divergence_factor, size)
    theta, state, t, examples = theta0, opt.init(theta0), 0, 0
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported as divergence below
        n_batches = batches.n_batches
        for epoch in range(epochs):
            epoch_batches = _independent(X, y, size, n_batches, gen) if gen is not None else batches.epoch(epoch)
            for k, (Xb, yb) in enumerate(epoch_batches, start=1):
                theta, state = run.step(theta, state, batch_fn(theta, Xb, yb), t, plain=optimizer is None)
                t, examples = t + 1, examples + int(Xb.shape[0])
                if (t % record_every == 0 or k == n_batches) and run.record(theta, t, examples, epoch):
                    break
            if run.stop_reason == "diverged":
                break
    if run.stop_reason == "max_iter":
        last_lr = run.lrs[-1] if run.lrs else None
        divergence.warn_if_unstable(run.losses[0], run.losses[-1], step=t, lr=last_lr, unit="update")
    history = run.history(theta, label, run.message or f"ran {epochs} epochs", n_updates=t, n_samples=n)
    if run.stop_reason == "diverged" and on_divergence == "raise":
        raise DivergenceError(history.message, history, run.problem)
    return history
