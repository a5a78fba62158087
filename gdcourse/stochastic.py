r"""Stochastic and minibatch gradient descent on a finite sum, and the noise of minibatch gradients.

Most costs in machine learning are **finite sums**, one term per training example:

.. math:: J(\theta) = \frac1n \sum_{i=1}^n f_i(\theta), \qquad
          \nabla J(\theta) = \frac1n \sum_{i=1}^n \nabla f_i(\theta).

A minibatch :math:`\mathcal B` of :math:`B` examples gives the estimate
:math:`g_{\mathcal B} = \frac1B \sum_{i\in\mathcal B} \nabla f_i(\theta)`; one **update** is
:math:`\theta \leftarrow \theta - \eta\, g_{\mathcal B}` and one **epoch** is :math:`\lceil n/B\rceil`
updates, one pass over the data.  :math:`B = n` is batch (full) gradient descent, :math:`B = 1`
stochastic (online) descent, anything between minibatch descent (Bottou, Curtis & Nocedal, 2018,
"Optimization methods for large-scale machine learning", SIAM Review 60(2)).

This module holds

* :class:`LeastSquares` -- the finite sum :math:`f_i(\theta) = \tfrac12(x_i^\top\theta - y_i)^2`
  (linear regression), with its exact minimum, curvatures :math:`L, \mu` and per-example gradients;
* :func:`sgd_run` -- the minibatch loop (batches from :class:`gdcourse.data.Minibatches`), recording the
  cost against updates, epochs and examples processed in a :class:`StochasticHistory`;
* :func:`gradient_noise`, :func:`gradient_variance`, :func:`predicted_variance` -- the variance of
  :math:`g_{\mathcal B}` measured over many seeded minibatches and its prediction,

  .. math:: \mathbb E\,\lVert g_{\mathcal B} - \nabla J\rVert^2 = \frac{\sigma^2}{B}
            \quad\text{(with replacement)}, \qquad
            \frac{\sigma^2}{B}\,\frac{n - B}{n - 1} \quad\text{(without replacement)},

  where :math:`\sigma^2 = \frac1n\sum_i \lVert\nabla f_i - \nabla J\rVert^2`.  The minibatches of an
  epoch are drawn *without* replacement (pieces of a permutation), so the finite-population correction
  :math:`(n-B)/(n-1)` applies to them: it is 1 for :math:`B = 1` and 0 for :math:`B = n`, where the
  "estimate" is the exact gradient.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import numpy as np
from array_api_compat import device

from gdcourse import _checks, divergence
from gdcourse.backend import array_namespace, dtype_of, is_finite, rng, to_numpy
from gdcourse.data import Minibatches, minibatch_indices
from gdcourse.descent import DivergenceError, GradientDescent, History, Optimizer, _check_grad, _check_theta0
from gdcourse.functions import Objective

__all__ = [
    "GradientNoise",
    "LeastSquares",
    "StochasticHistory",
    "gradient_noise",
    "gradient_variance",
    "predicted_variance",
    "sgd_run",
]

Array = Any
Seed = int | np.random.Generator | None
Schedule = Callable[[int], float]


# ----------------------------------------------------------------------------------------------
# A finite sum with everything known: least squares
# ----------------------------------------------------------------------------------------------


class LeastSquares(Objective):
    r"""The least-squares cost of a linear model, a finite sum of one term per example.

    .. math:: J(\theta) = \frac1n \sum_{i=1}^n \tfrac12 (x_i^\top\theta - y_i)^2, \qquad
              \nabla f_i(\theta) = (x_i^\top\theta - y_i)\, x_i, \qquad
              \nabla^2 J = H = \tfrac1n X^\top X .

    Everything about it is known exactly: the minimiser :math:`\theta^*` (least squares, on the host),
    :math:`J^* = J(\theta^*)`, the curvatures :math:`L = \lambda_{\max}(H)` and :math:`\mu = \lambda_{\min}(H)`
    (full-batch gradient descent converges for :math:`\eta < 2/L`), and the identity
    :math:`J(\theta) = J^* + \tfrac12(\theta-\theta^*)^\top H(\theta-\theta^*)`, which :meth:`value` uses:
    it costs :math:`O(d^2)` per point whatever :math:`n` (so a contour grid is cheap) and gives the gap
    :math:`J - J^*` without cancellation.  :meth:`batch_value` computes the data form on any batch.

    Parameters
    ----------
    X : array, shape (n_samples, n_params)
        Design matrix (add a column of ones for an intercept); any backend, floating dtype.
    y : array, shape (n_samples,)
        Targets.
    domain : sequence of (float, float), optional
        Plotting window, one pair per parameter; default :math:`\theta^*_j \pm 3`.

    Attributes
    ----------
    X, y : arrays
        The data, as given.
    n_samples, dim : int
    H : numpy.ndarray
        :math:`\tfrac1n X^\top X` (host, float64).
    eigenvalues : numpy.ndarray
        Eigenvalues of :math:`H`, decreasing.
    L, mu, kappa : float
    global_minimum : numpy.ndarray
        :math:`\theta^*`.
    f_min : float
        :math:`J^*`.
    start : numpy.ndarray
        Zeros (the usual starting point).
    """

    name = "least_squares"

    def __init__(self, X: Array, y: Array, *, domain: Sequence[tuple[float, float]] | None = None) -> None:
        try:
            xp = array_namespace(X, y)
        except TypeError:
            raise TypeError(
                f"X and y must be arrays of one library (use gdcourse.asarray), got {type(X).__name__} and "
                f"{type(y).__name__}"
            ) from None
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (n_samples, n_params), got shape {tuple(X.shape)}")
        if y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise ValueError(f"y must have shape ({X.shape[0]},) to match X, got shape {tuple(y.shape)}")
        if not (xp.isdtype(X.dtype, "real floating") and xp.isdtype(y.dtype, "real floating")):
            raise TypeError(f"X and y must have a real floating dtype, got {X.dtype} and {y.dtype}")
        divergence.check_data("X", X, fix="clean or impute the data before building the objective")
        divergence.check_data("y", y, fix="clean or impute the data before building the objective")
        self.X, self.y = X, y
        self.n_samples, self.dim = int(X.shape[0]), int(X.shape[1])
        Xh = np.asarray(to_numpy(X), dtype=np.float64)
        yh = np.asarray(to_numpy(y), dtype=np.float64)
        H = Xh.T @ Xh / self.n_samples
        self.H = (H + H.T) / 2.0
        eigs = np.linalg.eigvalsh(self.H)[::-1]
        if not eigs[-1] > 1e-12 * max(eigs[0], 1e-300):
            raise ValueError("X has linearly dependent columns: the least-squares minimum is not unique")
        self.eigenvalues = eigs
        self.L, self.mu = float(eigs[0]), float(eigs[-1])
        self.kappa = self.L / self.mu
        theta_star = np.linalg.lstsq(Xh, yh, rcond=None)[0]
        self._J_star = float(np.mean(0.5 * (Xh @ theta_star - yh) ** 2))
        self._center = theta_star
        window = [(c - 3.0, c + 3.0) for c in theta_star] if domain is None else domain
        self._set_points(minima=[theta_star], domain=window, start=np.zeros(self.dim))

    def __repr__(self) -> str:
        return f"LeastSquares(n_samples={self.n_samples}, dim={self.dim}, L={self.L:.4g}, mu={self.mu:.4g})"

    def _host_const(self, value: np.ndarray, theta: Array) -> Array:
        return array_namespace(theta).asarray(value, dtype=theta.dtype, device=device(theta))

    def _offset(self, xp: Any, theta: Array) -> Array:
        c = self._host_const(self._center, theta)
        return theta - xp.reshape(c, (self.dim,) + (1,) * (theta.ndim - 1))

    def _value(self, xp: Any, theta: Array) -> Array:
        d = self._offset(xp, theta)
        Hd = xp.tensordot(self._host_const(self.H, theta), d, axes=1)
        return self._J_star + 0.5 * xp.sum(d * Hd, axis=0)

    def _grad(self, xp: Any, theta: Array) -> Array:
        if theta.ndim == 1:
            return self.batch_grad(theta, self.X, self.y)
        return xp.tensordot(self._host_const(self.H, theta), self._offset(xp, theta), axes=1)  # = H (θ − θ*)

    def _hessian(self, xp: Any, theta: Array) -> Array:
        H = self._host_const(self.H, theta)
        grid = tuple(theta.shape[1:])
        if not grid:
            return H
        return xp.broadcast_to(xp.reshape(H, (self.dim, self.dim) + (1,) * len(grid)), (self.dim, self.dim, *grid))

    @staticmethod
    def batch_value(theta: Array, Xb: Array, yb: Array) -> Array:
        r"""The cost of a batch, the mean of :math:`\tfrac12(x_i^\top\theta-y_i)^2` over its examples.

        .. math:: J_{\mathcal B}(\theta) = \frac1{|\mathcal B|}\sum_{i\in\mathcal B}\tfrac12(x_i^\top\theta-y_i)^2

        ``theta`` of shape ``(dim,)``, or ``(dim, k)`` for ``k`` parameter vectors at once (result ``(k,)``).
        """
        xp = array_namespace(theta, Xb)
        r = Xb @ theta - (yb if theta.ndim == 1 else yb[:, None])
        return xp.mean(0.5 * r**2, axis=0)

    @staticmethod
    def batch_grad(theta: Array, Xb: Array, yb: Array) -> Array:
        r"""The gradient of the batch cost.

        .. math:: g_{\mathcal B} = \frac1{|\mathcal B|} X_{\mathcal B}^\top (X_{\mathcal B}\theta - y_{\mathcal B})

        ``theta`` of shape ``(dim,)``, or ``(dim, k)`` for ``k`` parameter vectors at once (result ``(dim, k)``).
        With the whole data set it is :math:`\nabla J(\theta)`.
        """
        r = Xb @ theta - (yb if theta.ndim == 1 else yb[:, None])
        return Xb.T @ r / Xb.shape[0]

    def per_example_grads(self, theta: Array) -> Array:
        r"""Every example's gradient :math:`\nabla f_i(\theta) = (x_i^\top\theta - y_i)\,x_i`, one row each.

        ``theta`` of shape ``(dim,)``, on the data's backend; the result has shape ``(n_samples, dim)``.
        """
        _, theta = self._check(theta)
        if theta.ndim != 1:
            raise ValueError(f"theta must have shape ({self.dim},), got {tuple(theta.shape)}")
        r = self.X @ theta - self.y
        return r[:, None] * self.X


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
    lr: float | Schedule | None = None,
    optimizer: Optimizer | None = None,
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
    optimizer : Optimizer, optional
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
    opt = optimizer if optimizer is not None else GradientDescent(lr)
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
            epoch_batches = _independent(X, y, size, n_batches, gen) if replace else batches.epoch(epoch)
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


# ----------------------------------------------------------------------------------------------
# The noise of a minibatch gradient
# ----------------------------------------------------------------------------------------------


def _grads_matrix(per_example_grads: Array) -> tuple[Any, Array]:
    try:
        xp = array_namespace(per_example_grads)
    except TypeError:
        raise TypeError(
            f"per_example_grads must be an array (n_samples, dim), got {type(per_example_grads).__name__}"
        ) from None
    G = per_example_grads
    if G.ndim == 1:
        G = G[:, None]
    if G.ndim != 2 or G.shape[0] < 2:
        raise ValueError(
            "per_example_grads must have shape (n_samples, dim) with n_samples >= 2, "
            f"got {tuple(per_example_grads.shape)}"
        )
    if not xp.isdtype(G.dtype, "real floating"):
        G = xp.astype(G, xp.float64)
    return xp, G


def gradient_variance(per_example_grads: Array) -> float:
    r"""The spread of the examples' gradients, :math:`\sigma^2 = \frac1n\sum_i \lVert\nabla f_i - \nabla J\rVert^2`.

    The total variance (trace of the covariance) of the gradient of one example drawn uniformly,
    with :math:`\nabla J = \frac1n\sum_i\nabla f_i`; divisor :math:`n` (the population, not a sample).

    Parameters
    ----------
    per_example_grads : array, shape (n_samples, dim)
        Row :math:`i` is :math:`\nabla f_i(\theta)` (e.g. :meth:`LeastSquares.per_example_grads`).
    """
    xp, G = _grads_matrix(per_example_grads)
    centred = G - xp.mean(G, axis=0)
    return float(xp.mean(xp.sum(centred**2, axis=1)))


def predicted_variance(sigma2: float, n_samples: int, batch_size: int | Sequence[int], *, replace: bool = False) -> Any:
    r"""The variance of a minibatch gradient, :math:`\mathbb E\lVert g_{\mathcal B} - \nabla J\rVert^2`.

    .. math:: \frac{\sigma^2}{B} \quad\text{(B examples drawn with replacement)}, \qquad
              \frac{\sigma^2}{B}\cdot\frac{n-B}{n-1} \quad\text{(without replacement)}.

    Without replacement (a batch of distinct examples, as each batch of a shuffled epoch is), the
    terms of the mean are slightly negatively correlated; the finite-population correction
    :math:`(n-B)/(n-1)` is exact (e.g. Cochran, *Sampling Techniques*, 1977, Thm. 2.2) and goes from 1
    at :math:`B = 1` to 0 at :math:`B = n`.

    Parameters
    ----------
    sigma2 : float
        :math:`\sigma^2 \ge 0` (:func:`gradient_variance`); a negative value is refused.
    n_samples : int
        :math:`n \ge 1` (with :math:`n = 1` the one batch without replacement is the whole set: variance 0).
    batch_size : int or sequence of int
        :math:`B` (``1 <= B``, and ``B <= n`` without replacement).
    replace : bool, default False
        Whether the :math:`B` examples are drawn with replacement.

    Returns
    -------
    float or numpy.ndarray
        One value per batch size.
    """
    if isinstance(sigma2, bool) or not isinstance(sigma2, int | float | np.number) or not sigma2 >= 0:
        raise ValueError(f"sigma2 must be a variance, a number >= 0, got {sigma2!r}")
    if isinstance(n_samples, bool) or not isinstance(n_samples, int | np.integer) or n_samples < 1:
        raise ValueError(f"n_samples must be an integer >= 1, got {n_samples!r}")
    B = np.asarray(batch_size)
    if B.dtype.kind not in "iu" or np.any(B < 1) or (not replace and np.any(B > n_samples)):
        limit = "" if replace else f" and at most n_samples={n_samples}"
        raise ValueError(f"batch_size must be integers >= 1{limit}, got {batch_size!r}")
    if replace or n_samples == 1:  # n = 1: the only batch is the whole data set (B = 1 = n), variance 0 below
        out = sigma2 / B if replace else 0.0 * B
    else:
        out = sigma2 / B * (n_samples - B) / (n_samples - 1)
    return float(out) if B.ndim == 0 else out.astype(np.float64)


class GradientNoise(NamedTuple):
    r"""Measured and predicted variance of the minibatch gradient for several batch sizes.

    ``measured[k]`` is the mean of :math:`\lVert g_{\mathcal B} - \nabla J\rVert^2` over ``n_draws``
    minibatches of size ``batch_sizes[k]``; ``predicted[k]`` is :func:`predicted_variance`.
    """

    batch_sizes: np.ndarray
    measured: np.ndarray
    predicted: np.ndarray
    sigma2: float
    n_samples: int
    n_draws: int
    replace: bool


def gradient_noise(
    per_example_grads: Array,
    batch_sizes: int | Sequence[int],
    *,
    n_draws: int = 10_000,
    replace: bool = False,
    seed: Seed = 0,
) -> GradientNoise:
    r"""Measure the variance of the minibatch gradient over many seeded minibatches, beside its prediction.

    For each :math:`B`, ``n_draws`` minibatches are drawn and :math:`\lVert g_{\mathcal B} - \nabla J\rVert^2`
    is averaged, with :math:`g_{\mathcal B} = \frac1B\sum_{i\in\mathcal B}\nabla f_i`:

    * ``replace=False`` (default): the batches of :class:`gdcourse.data.Minibatches` with
      ``drop_last=True``, epoch after epoch -- exactly how :func:`sgd_run` draws them; the prediction is
      :math:`\frac{\sigma^2}{B}\frac{n-B}{n-1}`;
    * ``replace=True``: :math:`B` indices drawn independently and uniformly; the prediction is
      :math:`\sigma^2/B`.

    Parameters
    ----------
    per_example_grads : array, shape (n_samples, dim)
        :math:`\nabla f_i(\theta)` at one :math:`\theta`, any backend.
    batch_sizes : int or sequence of int
        The :math:`B` to measure (at most ``n_samples`` without replacement).
    n_draws : int, default 10000
        Minibatches per batch size (at least; whole epochs without replacement, one draw for :math:`B = n`).
    replace : bool, default False
        Draw with replacement instead of epochs of a permutation.
    seed : int, numpy Generator or None, default 0
        Seed of the draws.

    Returns
    -------
    GradientNoise
    """
    xp, G = _grads_matrix(per_example_grads)
    n = int(G.shape[0])
    sizes = np.atleast_1d(np.asarray(batch_sizes))
    if isinstance(n_draws, bool) or not isinstance(n_draws, int | np.integer) or n_draws < 1:
        raise ValueError(f"n_draws must be a positive integer, got {n_draws!r}")
    sigma2 = gradient_variance(G)
    predicted = np.atleast_1d(predicted_variance(sigma2, n, sizes, replace=replace))
    mean = xp.mean(G, axis=0)
    gen = rng(seed)
    measured = []
    for B in sizes.tolist():
        total, count = 0.0, 0
        if replace:
            idx = gen.integers(0, n, size=(n_draws, B))
            rows = xp.take(G, xp.asarray(idx.reshape(-1), device=device(G)), axis=0)
            means = xp.mean(xp.reshape(rows, (n_draws, B, -1)), axis=1)
            total, count = float(xp.sum((means - mean) ** 2)), n_draws
        else:
            while count < n_draws:  # epoch after epoch, as Minibatches(G, B, drop_last=True, seed=gen) draws them
                idx = np.concatenate(minibatch_indices(n, B, drop_last=True, seed=gen))
                k = idx.size // B
                rows = xp.take(G, xp.asarray(idx, device=device(G)), axis=0)
                means = xp.mean(xp.reshape(rows, (k, B, -1)), axis=1)
                total += float(xp.sum((means - mean) ** 2))
                count += k
                if B >= n:  # the full batch is the same every epoch: one draw says everything
                    break
        measured.append(total / count)
    return GradientNoise(
        sizes.astype(np.int64), np.asarray(measured), predicted, sigma2, n, int(n_draws), bool(replace)
    )
