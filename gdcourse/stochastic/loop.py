r"""The minibatch loop :func:`sgd_run`: one update per minibatch, the cost recorded per update and epoch."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from array_api_compat import device

from gdcourse import _checks, divergence, optim
from gdcourse.backend import array_namespace, dtype_of, is_finite, rng, to_numpy
from gdcourse.data import Minibatches
from gdcourse.descent import DivergenceError, History, _check_grad, _check_theta0

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
    if (lr is None) == (optimizer is None):
        raise ValueError("give exactly one of lr (plain SGD) and optimizer")
    if lr is not None:
        lr = _checks.learning_rate(lr)
    for name, value in (("epochs", epochs), ("record_every", record_every)):
        low = 0 if name == "epochs" else 1
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    divergence_factor = divergence.check_options(divergence_factor, on_divergence)
    divergence.check_data("X", X)
    divergence.check_data("y", y)
    batches = Minibatches(X, y, batch_size, shuffle=shuffle, drop_last=drop_last and not replace, seed=seed)
    n, size = batches.n_samples, batches.batch_size
    gen = rng(seed) if replace else None
    if optimizer is not None:
        opt = optimizer
    else:
        assert lr is not None  # exactly one of lr and optimizer (checked above)
        opt = optim.gd(lr)
    if label is None:
        label = f"B={size} η={lr:.3g}" if isinstance(lr, int | float) else f"B={size}"

    def full(theta: Array) -> tuple[float, float]:
        loss = float(value_fn(theta))
        norm = float(xp.linalg.vector_norm(grad_fn(theta))) if grad_fn is not None else math.nan
        return loss, norm

    theta, state = theta0, opt.init(theta0)
    loss, norm = full(theta)
    if not math.isfinite(loss):
        raise ValueError(f"the cost at theta0 is {loss}; start where the objective is defined")
    eps, dtype = divergence.optimizer_eps(opt), dtype_of(theta0)
    unit = "update" if record_every == 1 else "record"
    path, losses, norms, updates, seen = [to_numpy(theta)], [loss], [norm], [0], [0]
    lrs: list[float] = []
    stop_reason, message, problem = "max_iter", f"ran {epochs} epochs", None
    t = examples = 0

    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported as divergence below
        n_batches = batches.n_batches
        for epoch in range(int(epochs)):
            epoch_batches = _independent(X, y, size, n_batches, gen) if gen is not None else batches.epoch(epoch)
            for k, (Xb, yb) in enumerate(epoch_batches, start=1):
                g = batch_fn(theta, Xb, yb)
                if t == 0:
                    _check_grad(g, theta)
                if optimizer is None:  # plain SGD, written out: θ ← θ − η_t g
                    eta = opt.lr_at(t)
                    theta = theta - eta * g
                else:
                    eta = float(opt.lr_at(t)) if hasattr(opt, "lr_at") else math.nan
                    theta, state = opt.step(theta, g, state)
                lrs.append(eta)
                t += 1
                examples += int(Xb.shape[0])
                if t % record_every and k < n_batches:
                    continue
                loss, norm = full(theta)
                path.append(to_numpy(theta))
                losses.append(loss)
                norms.append(norm)
                updates.append(t)
                seen.append(examples)
                problem = divergence.classify(
                    losses, is_finite(theta), t, lrs[-1], dtype, eps=eps, factor=divergence_factor, unit=unit,
                    where=f"update {t} (epoch {epoch + 1}, B={size})",
                )
                if problem is not None:
                    stop_reason, message = "diverged", problem.message
                    break
            if stop_reason == "diverged":
                break
    if stop_reason == "max_iter":
        divergence.warn_if_unstable(losses[0], losses[-1], step=t, lr=lrs[-1] if lrs else None, unit="update")

    history = StochasticHistory.from_records(
        path,
        losses,
        norms,
        lrs,
        stop_reason=stop_reason,
        message=message,
        theta=theta,
        label=label,
        extras={
            "update": np.asarray(updates),
            "epoch": np.asarray(seen, dtype=np.float64) / n,
            "examples": np.asarray(seen),
        },
        n_updates=t,
        batch_size=size,
        n_samples=n,
    )
    if stop_reason == "diverged" and on_divergence == "raise":
        raise DivergenceError(message, history, problem)
    return history
