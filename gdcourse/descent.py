r"""The gradient-descent loop: compute the gradient, update, recompute the cost, decide whether to stop.

.. math:: \theta_{t+1} = \theta_t - \eta_t \nabla J(\theta_t)

:func:`minimize` runs that loop (or any optimizer with the ``init``/``step``
interface of :mod:`gdcourse.optim`) on an objective and records a
:class:`History`: the path, the cost and the gradient norm at every iterate,
the learning rate used at every step and why the loop stopped.  The loop stops on

* ``max_iter`` updates;
* ``tol_grad``: :math:`\lVert\nabla J(\theta_t)\rVert_2 \le` ``tol_grad`` (a stationary point);
* ``tol_loss``: :math:`|J(\theta_t) - J(\theta_{t-1})| \le` ``tol_loss`` (the cost stopped changing);
* divergence: the cost or the parameters are no longer finite, or the cost grew
  past ``divergence_factor`` times its starting size.  The message names the step
  and suggests a smaller learning rate; ``on_divergence="raise"`` (default) raises
  :class:`DivergenceError` with the history attached, ``"stop"`` returns it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np

from gdcourse.backend import array_namespace, is_finite, to_numpy

__all__ = ["DivergenceError", "GradientDescent", "History", "Optimizer", "minimize"]

Schedule = Callable[[int], float]


class Optimizer(Protocol):
    """The optimizer interface: ``state = opt.init(params)``; ``params, state = opt.step(params, grads, state)``.

    Optional: ``opt.lr_at(t)`` (recorded in the history) and ``opt.needs_lookahead`` with
    ``opt.lookahead(params, state)``, the point where the gradient of the next step is taken.
    """

    def init(self, params: Any) -> Any:
        """Create the optimizer state for ``params``."""

    def step(self, params: Any, grads: Any, state: Any) -> tuple[Any, Any]:
        """Return updated parameters and state."""


def _lr_at(lr: float | Schedule, t: int) -> float:
    value = lr(t) if callable(lr) else lr
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        where = f" at step {t}" if callable(lr) else ""
        raise ValueError(f"lr must be a positive finite number{where}, got {value!r}")
    return value


@dataclass(frozen=True)
class GradientDescent:
    r"""Plain gradient descent, :math:`\theta \leftarrow \theta - \eta_t \nabla J(\theta)`.

    Parameters
    ----------
    lr : float or callable
        The learning rate :math:`\eta`, or a schedule ``t -> eta_t`` (``t`` counts updates from 0).
    """

    lr: float | Schedule = 0.1

    def __post_init__(self) -> None:
        if not callable(self.lr):
            _lr_at(self.lr, 0)

    def init(self, params: Any) -> int:
        """The state is the number of updates taken so far."""
        return 0

    def lr_at(self, t: int) -> float:
        """The learning rate of update ``t`` (counted from 0)."""
        return _lr_at(self.lr, t)

    def step(self, params: Any, grads: Any, state: int) -> tuple[Any, int]:
        """One update ``theta - lr * grad``; returns new parameters (never modifies ``params``)."""
        return params - self.lr_at(state) * grads, state + 1


@dataclass
class History:
    r"""What happened during a run of :func:`minimize`.

    Attributes
    ----------
    path : ndarray, shape (n_iter + 1, dim)
        Every iterate :math:`\theta_0, \dots, \theta_n` (on the host, float64).
    losses : ndarray, shape (n_iter + 1,)
        :math:`J(\theta_t)` at every iterate.
    grad_norms : ndarray, shape (n_iter + 1,)
        :math:`\lVert\nabla J(\theta_t)\rVert_2` at every iterate.
    lrs : ndarray, shape (n_iter,)
        The learning rate used by each update (NaN when the optimizer has no single ``lr``).
    stop_reason : str
        ``"max_iter"``, ``"tol_grad"``, ``"tol_loss"`` or ``"diverged"``.
    message : str
        A sentence explaining why the loop stopped.
    theta : array
        The last iterate, on the backend of ``theta0``.
    label : str
        A name for legends, e.g. ``"GD η=0.1"``.
    """

    path: np.ndarray
    losses: np.ndarray
    grad_norms: np.ndarray
    lrs: np.ndarray
    stop_reason: str
    message: str
    theta: Any
    label: str = ""
    extras: dict = field(default_factory=dict)

    @property
    def n_iter(self) -> int:
        """Number of updates taken."""
        return len(self.losses) - 1

    @property
    def converged(self) -> bool:
        """``True`` when a tolerance (not the iteration budget, not divergence) stopped the loop."""
        return self.stop_reason in ("tol_grad", "tol_loss")

    @property
    def final_loss(self) -> float:
        """:math:`J` at the last iterate."""
        return float(self.losses[-1])

    def __repr__(self) -> str:
        return (
            f"History({self.label + ', ' if self.label else ''}n_iter={self.n_iter}, "
            f"final_loss={self.final_loss:.4g}, stop_reason={self.stop_reason!r})"
        )


class DivergenceError(FloatingPointError):
    """Raised when the loop diverges; ``.history`` holds everything recorded up to that step."""

    def __init__(self, message: str, history: History):
        super().__init__(message)
        self.history = history


def _check_theta0(theta0: Any) -> Any:
    try:
        xp = array_namespace(theta0)
    except TypeError:
        raise TypeError(
            f"theta0 must be an array (use gdcourse.asarray([...])), got {type(theta0).__name__}"
        ) from None
    if theta0.ndim != 1:
        raise ValueError(f"theta0 must be a 1-D array of parameters, got shape {tuple(theta0.shape)}")
    if not xp.isdtype(theta0.dtype, "real floating"):
        raise TypeError(f"theta0 must have a floating dtype (float32 or float64), got {theta0.dtype}")
    if not is_finite(theta0):
        raise ValueError("theta0 contains NaN or inf; start from finite parameters")
    return xp


def _objective_parts(objective: Any, grad: Callable | None) -> tuple[Callable, Callable]:
    value_fn = getattr(objective, "value", objective)
    grad_fn = grad if grad is not None else getattr(objective, "grad", None)
    if not callable(value_fn):
        raise TypeError(f"objective must be callable or have a .value method, got {type(objective).__name__}")
    if grad_fn is None:
        raise TypeError("objective has no .grad method; pass grad=... (a function theta -> gradient)")
    return value_fn, grad_fn


def minimize(
    objective: Any,
    theta0: Any,
    lr: float | Schedule | None = None,
    *,
    optimizer: Optimizer | None = None,
    grad: Callable[[Any], Any] | None = None,
    max_iter: int = 1000,
    tol_grad: float | None = None,
    tol_loss: float | None = None,
    divergence_factor: float = 1e6,
    on_divergence: Literal["raise", "stop"] = "raise",
    label: str | None = None,
) -> History:
    r"""Minimise ``objective`` from ``theta0`` by gradient descent (or by ``optimizer``).

    The loop is the one from the course::

        g = grad(theta)                         # compute the gradient
        theta, state = opt.step(theta, g, state)  # update: theta - lr * g for plain GD
        loss = J(theta)                         # recompute the cost, then test the stopping rules

    Parameters
    ----------
    objective : object or callable
        Something with ``.value(theta)`` and ``.grad(theta)`` (every :mod:`gdcourse.functions`
        objective), or a cost function ``theta -> J(theta)`` together with ``grad=``.
    theta0 : array, shape (dim,)
        Starting point :math:`\theta_0` (any backend; the run stays on it).
    lr : float or callable, optional
        Learning rate :math:`\eta` or schedule ``t -> eta_t`` for plain gradient descent.
        Give exactly one of ``lr`` and ``optimizer``.
    optimizer : Optimizer, optional
        Any object with ``init``/``step`` (e.g. ``gdcourse.optim.adam(lr=0.1)``).
    grad : callable, optional
        ``theta -> gradient``; overrides ``objective.grad``.
    max_iter : int
        Budget of updates.
    tol_grad, tol_loss : float, optional
        Stop when the gradient norm, or the change in cost between iterates, is at most this.
    divergence_factor : float
        Declare divergence when :math:`|J(\theta_t)| > ` ``divergence_factor`` ``* max(1, |J(\theta_0)|)``.
    on_divergence : {"raise", "stop"}
        Raise :class:`DivergenceError` (default) or return the history with ``stop_reason="diverged"``.
    label : str, optional
        Name for plots; defaults to ``"GD η=…"``.

    Returns
    -------
    History
    """
    xp = _check_theta0(theta0)
    value_fn, grad_fn = _objective_parts(objective, grad)
    if (lr is None) == (optimizer is None):
        raise ValueError("give exactly one of lr (plain gradient descent) and optimizer")
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 0:
        raise ValueError(f"max_iter must be a non-negative integer, got {max_iter!r}")
    for name, tol in (("tol_grad", tol_grad), ("tol_loss", tol_loss)):
        if tol is not None and not (tol >= 0):
            raise ValueError(f"{name} must be a non-negative number or None, got {tol!r}")
    if on_divergence not in ("raise", "stop"):
        raise ValueError(f"on_divergence must be 'raise' or 'stop', got {on_divergence!r}")
    if not divergence_factor > 1:
        raise ValueError(f"divergence_factor must be greater than 1, got {divergence_factor!r}")
    opt = optimizer if optimizer is not None else GradientDescent(lr)
    if label is None:
        label = f"GD η={lr:.3g}" if isinstance(lr, int | float) else type(opt).__name__

    theta = theta0
    state = opt.init(theta)
    g = grad_fn(theta)
    loss = float(value_fn(theta))
    path, losses, grad_norms, lrs = [to_numpy(theta)], [loss], [float(xp.linalg.vector_norm(g))], []
    if not math.isfinite(loss):
        raise ValueError(f"the cost at theta0 is {loss}; start where the objective is defined")
    bound = divergence_factor * max(1.0, abs(loss))
    stop_reason, message = "max_iter", f"reached max_iter={max_iter} updates"

    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported as divergence below
        for t in range(max_iter):
            if tol_grad is not None and grad_norms[-1] <= tol_grad:
                stop_reason = "tol_grad"
                message = f"gradient norm {grad_norms[-1]:.3g} <= tol_grad={tol_grad:g} after {t} updates"
                break
            lrs.append(float(opt.lr_at(t)) if hasattr(opt, "lr_at") else math.nan)
            # look-ahead methods (Nesterov in Sutskever's form) take the gradient at another point
            g_step = grad_fn(opt.lookahead(theta, state)) if getattr(opt, "needs_lookahead", False) else g
            theta, state = opt.step(theta, g_step, state)
            g = grad_fn(theta)
            previous, loss = loss, float(value_fn(theta))
            path.append(to_numpy(theta))
            losses.append(loss)
            grad_norms.append(float(xp.linalg.vector_norm(g)))
            if not (math.isfinite(loss) and is_finite(theta)) or abs(loss) > bound:
                stop_reason = "diverged"
                what = "is no longer finite" if not math.isfinite(loss) else f"grew to {loss:.3g}"
                hint = f" (η={lrs[-1]:.3g})" if math.isfinite(lrs[-1]) else ""
                message = (
                    f"diverged at step {t + 1}: the cost {what}. The learning rate{hint} is too large for "
                    "the curvature of this objective; try a smaller learning rate (for a quadratic, η < 2/L)."
                )
                break
            if tol_loss is not None and abs(loss - previous) <= tol_loss:
                stop_reason = "tol_loss"
                message = f"cost changed by {abs(loss - previous):.3g} <= tol_loss={tol_loss:g} at step {t + 1}"
                break
        else:
            if tol_grad is not None and grad_norms[-1] <= tol_grad:
                stop_reason = "tol_grad"
                message = f"gradient norm {grad_norms[-1]:.3g} <= tol_grad={tol_grad:g} after {max_iter} updates"

    history = History(
        path=np.stack([p.astype(np.float64) for p in path]),
        losses=np.asarray(losses),
        grad_norms=np.asarray(grad_norms),
        lrs=np.asarray(lrs, dtype=np.float64),
        stop_reason=stop_reason,
        message=message,
        theta=theta,
        label=label,
    )
    if stop_reason == "diverged" and on_divergence == "raise":
        raise DivergenceError(message, history)
    return history
