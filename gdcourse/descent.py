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
  past ``divergence_factor`` times its starting size.  The verdict is
  :func:`gdcourse.divergence.classify`'s, the same in every loop of the course: the message
  names the step and the cause (a learning rate too large, with advice, or a numerical
  problem that a smaller one would not cure); ``on_divergence="raise"`` (default) raises
  :class:`DivergenceError` with the history attached, ``"stop"`` returns it.

A run that uses its whole budget and ends far above its start (more than 10 times a positive
:math:`J_0`) is flagged with a :class:`gdcourse.divergence.UnstableRunWarning`.  Arguments are
checked before anything runs: ``lr`` must be a positive finite number or a schedule (``True`` and
``"0.1"`` are refused), the tolerances non-negative numbers or ``None``, ``theta0`` finite, and
the gradient must have the shape of ``theta``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import numpy as np

from gdcourse import _checks, divergence, optim
from gdcourse.backend import array_namespace, dtype_of, is_finite, to_numpy

__all__ = [
    "DivergenceError",
    "History",
    "conjugate_gradient",
    "minimize",
    "newton",
]

ScheduleFn = Callable[[int], float]
"""A learning-rate schedule as a plain function ``t -> eta_t`` (a :class:`gdcourse.schedules.Schedule` is one)."""

_H = TypeVar("_H", bound="History")


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

    @classmethod
    def from_records(
        cls: type[_H], path: list, losses: list, grad_norms: list, lrs: list | None = None, **fields: Any
    ) -> _H:
        r"""Build a history from the per-step lists a loop records (iterates on any backend).

        Parameters
        ----------
        path : list of arrays
            The iterates :math:`\theta_0, \dots, \theta_n`, each of shape ``(dim,)``, on any backend (copied
            to the host as float64).
        losses, grad_norms : list of float
            :math:`J(\theta_t)` and :math:`\lVert\nabla J(\theta_t)\rVert_2` at every iterate, one more than
            the updates.
        lrs : list of float, optional
            The learning rate of each update; ``None`` records NaN for every update (rules without a
            single learning rate, such as Newton's method).
        **fields
            The other fields of the history (``stop_reason``, ``message``, ``theta``, ``label``,
            ``extras``, and a subclass's own).

        Returns
        -------
        History
            Or the subclass it is called on.
        """
        n_updates = len(losses) - 1
        return cls(
            path=np.stack([np.asarray(to_numpy(p), dtype=np.float64) for p in path]),
            losses=np.asarray(losses, dtype=np.float64),
            grad_norms=np.asarray(grad_norms, dtype=np.float64),
            lrs=np.full(n_updates, np.nan) if lrs is None else np.asarray(lrs, dtype=np.float64),
            **fields,
        )

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
    """Raised when a loop diverges.

    ``.history`` holds everything recorded up to that step, ``.verdict`` the
    :class:`gdcourse.divergence.Divergence` that stopped it (its ``cause``: ``"learning_rate"`` or
    ``"numerical"``).
    """

    def __init__(self, message: str, history: Any, verdict: divergence.Divergence | None = None):
        super().__init__(message)
        self.history = history
        self.verdict = verdict


def _check_theta0(theta0: Any) -> Any:
    try:
        xp = array_namespace(theta0)
    except TypeError:
        raise TypeError(f"theta0 must be an array (use gdcourse.asarray([...])), got {type(theta0).__name__}") from None
    if theta0.ndim != 1:
        raise ValueError(f"theta0 must be a 1-D array of parameters, got shape {tuple(theta0.shape)}")
    if not xp.isdtype(theta0.dtype, "real floating"):
        raise TypeError(f"theta0 must have a floating dtype (float32 or float64), got {theta0.dtype}")
    divergence.check_data("theta0", theta0, fix="start from finite parameters")
    return xp


def _check_grad(g: Any, theta: Any) -> None:
    """The gradient must be an array of ``theta``'s shape (a wrong shape would broadcast silently)."""
    if not hasattr(g, "shape"):
        raise TypeError(f"grad returned a {type(g).__name__}, expected an array of theta's shape {tuple(theta.shape)}")
    if tuple(g.shape) != tuple(theta.shape):
        raise ValueError(f"grad returned shape {tuple(g.shape)} for theta of shape {tuple(theta.shape)}")


def _objective_parts(objective: Any, grad: Callable | None) -> tuple[Callable, Callable]:
    value_fn = getattr(objective, "value", objective)
    grad_fn = grad if grad is not None else getattr(objective, "grad", None)
    if not callable(value_fn):
        raise TypeError(f"objective must be callable or have a .value method, got {type(objective).__name__}")
    if grad_fn is None:
        raise TypeError("objective has no .grad method; pass grad=... (a function theta -> gradient)")
    return value_fn, grad_fn


def _start(value_fn: Callable, grad_fn: Callable, theta: Any) -> tuple[Any, float]:
    """The gradient (checked: ``theta``'s shape) and the cost at the first iterate, in that order."""
    g = grad_fn(theta)
    _check_grad(g, theta)
    return g, float(value_fn(theta))


@dataclass
class _Trace:
    """What a loop of this module records, step by step, and why it stopped; :meth:`history` packs it."""

    message: str  # the reason when the budget runs out
    lrs: list[float] | None  # None: a rule without a learning rate (NaN in the history)
    path: list[Any] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    grad_norms: list[float] = field(default_factory=list)
    stop_reason: str = "max_iter"
    problem: divergence.Divergence | None = None

    def record(self, theta: Any, loss: float, grad_norm: float) -> None:
        """Keep an iterate (on the host), its cost and its gradient norm."""
        self.path.append(to_numpy(theta))
        self.losses.append(loss)
        self.grad_norms.append(grad_norm)

    def stop(self, reason: str, message: str) -> bool:
        """End the run for ``reason``; ``True``, so that a loop can ``break`` on it."""
        self.stop_reason, self.message = reason, message
        return True

    def gradient_small(self, tol_grad: float | None, t: int, steps: str) -> bool:
        r"""Stop when :math:`\lVert\nabla J(\theta_t)\rVert_2 \le` ``tol_grad`` after ``t`` ``steps``."""
        norm = self.grad_norms[-1]
        if tol_grad is None or not norm <= tol_grad:
            return False
        return self.stop("tol_grad", f"gradient norm {norm:.3g} <= tol_grad={tol_grad:g} after {t} {steps}")

    def cost_settled(self, tol_loss: float | None, change: float, t: int) -> bool:
        """Stop when the cost changed by at most ``tol_loss`` (``change``) at update ``t``."""
        if tol_loss is None or not abs(change) <= tol_loss:
            return False
        return self.stop("tol_loss", f"cost changed by {abs(change):.3g} <= tol_loss={tol_loss:g} at step {t}")

    def diverged(self, verdict: divergence.Divergence | None) -> bool:
        """Stop on the shared divergence verdict (kept for the error), if there is one."""
        self.problem = verdict
        return verdict is not None and self.stop("diverged", verdict.message)

    def history(self, theta: Any, label: str, on_divergence: str = "stop", **extras: Any) -> History:
        """The :class:`History`, or a :class:`DivergenceError` holding it (diverged, ``on_divergence="raise"``)."""
        history = History.from_records(
            self.path,
            self.losses,
            self.grad_norms,
            self.lrs,
            stop_reason=self.stop_reason,
            message=self.message,
            theta=theta,
            label=label,
            **extras,
        )
        if self.problem is not None and on_divergence == "raise":
            raise DivergenceError(self.message, history, self.problem)
        return history


def rule_of(lr: Any, optimizer: Any, plain: str) -> tuple[Any, Any]:
    r"""``(checked lr, update rule)`` of a loop given exactly one of ``lr`` (then ``optim.gd(lr)``) and ``optimizer``.

    Parameters
    ----------
    lr : float, callable or None
        Learning rate :math:`\eta > 0` or a schedule ``t -> eta_t`` for the loop's plain rule; checked by
        :func:`gdcourse._checks.learning_rate` (``True``, ``"0.1"``, 0, NaN and inf are refused).
    optimizer : object or None
        An update rule with ``init``/``step``, returned as it is (with ``None`` as the learning rate).
    plain : str
        Names the loop's plain rule in the error ("plain gradient descent", "plain SGD").

    Returns
    -------
    lr : float, callable or None
        The checked ``lr``; ``None`` when ``optimizer`` was given.
    rule : object
        ``optimizer``, or ``optim.gd(lr)``.

    Raises
    ------
    ValueError
        When both or neither of ``lr`` and ``optimizer`` are given.
    """
    if (lr is None) == (optimizer is None):
        raise ValueError(f"give exactly one of lr ({plain}) and optimizer")
    if optimizer is not None:
        return None, optimizer
    lr = _checks.learning_rate(lr)
    return lr, optim.gd(lr)


def minimize(
    objective: Any,
    theta0: Any,
    lr: float | ScheduleFn | None = None,
    *,
    optimizer: Any = None,
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
    optimizer : gdcourse.optim.Optimizer or compatible, optional
        Any object with ``init``/``step`` (e.g. ``gdcourse.optim.adam(lr=0.1)``); ``lr`` alone means
        ``gdcourse.optim.gd(lr)``, the same rule.
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

    Raises
    ------
    TypeError, ValueError
        For a bad argument (named in the message), or a gradient whose shape is not ``theta``'s.
    DivergenceError
        When the run diverges and ``on_divergence="raise"``.

    Warns
    -----
    gdcourse.divergence.UnstableRunWarning
        When the run used all ``max_iter`` updates and ended far above its start.
    """
    xp = _check_theta0(theta0)
    value_fn, grad_fn = _objective_parts(objective, grad)
    lr, opt = rule_of(lr, optimizer, "plain gradient descent")
    max_iter = _checks.nonneg_int("max_iter", max_iter)
    tol_grad = _checks.optional_nonneg("tol_grad", tol_grad)
    tol_loss = _checks.optional_nonneg("tol_loss", tol_loss)
    divergence_factor = divergence.check_options(divergence_factor, on_divergence)
    if label is None:
        label = f"GD η={lr:.3g}" if isinstance(lr, int | float) else getattr(opt, "name", type(opt).__name__)

    theta, state = theta0, opt.init(theta0)
    g, loss = _start(value_fn, grad_fn, theta)
    lrs: list[float] = []
    run = _Trace(f"reached max_iter={max_iter} updates", lrs)
    run.record(theta, loss, float(xp.linalg.vector_norm(g)))
    if not math.isfinite(loss):
        raise ValueError(f"the cost at theta0 is {loss}; start where the objective is defined")
    eps, dtype = divergence.optimizer_eps(opt), dtype_of(theta0)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported as divergence below
        for t in range(max_iter):
            if run.gradient_small(tol_grad, t, "updates"):
                break
            lrs.append(float(opt.lr_at(t)) if hasattr(opt, "lr_at") else math.nan)
            theta, state = opt.step(theta, _gradient_for_step(opt, grad_fn, theta, state, g), state)
            g = grad_fn(theta)
            previous, loss = loss, float(value_fn(theta))
            run.record(theta, loss, float(xp.linalg.vector_norm(g)))
            verdict = divergence.classify(
                run.losses, is_finite(theta), t + 1, lrs[-1], dtype, eps=eps, factor=divergence_factor
            )
            if run.diverged(verdict) or run.cost_settled(tol_loss, loss - previous, t + 1):
                break
        else:
            run.gradient_small(tol_grad, max_iter, "updates")
    if run.stop_reason == "max_iter":
        divergence.warn_if_unstable(run.losses[0], run.losses[-1], step=max_iter, lr=lrs[-1] if lrs else None)
    return run.history(theta, label, on_divergence)


def _gradient_for_step(opt: Any, grad_fn: Callable, theta: Any, state: Any, g: Any) -> Any:
    """The gradient the update takes: ``g``, taken at ``theta``, except for a look-ahead rule (Sutskever's Nesterov)."""
    return grad_fn(opt.lookahead(theta, state)) if getattr(opt, "needs_lookahead", False) else g


# ----------------------------------------------------------------------------------------------
# Second-order and conjugate-direction reference points (notebook 06)
# ----------------------------------------------------------------------------------------------


#: Newton's own advice, added to the verdict when the step length is blamed.
NEWTON_HINT = (
    "Newton's method takes the full step (η = 1) to the stationary point of its local quadratic model, which "
    "overshoots where that model is poor: damp it (θ − η H⁻¹∇J with η < 1, or a line search) or start closer to a "
    "minimum"
)


def newton(
    objective: Any,
    theta0: Any,
    max_iter: int = 20,
    tol_grad: float | None = 1e-10,
    *,
    on_divergence: Literal["raise", "stop"] = "raise",
    label: str = "Newton",
) -> History:
    r"""Newton's method: jump to the stationary point of the local quadratic model of :math:`J`.

    .. math:: \theta_{t+1} = \theta_t - \left[\nabla^2 J(\theta_t)\right]^{-1} \nabla J(\theta_t)

    The step :math:`d_t` solves :math:`\nabla^2 J(\theta_t)\, d_t = \nabla J(\theta_t)`
    (``xp.linalg.solve``; the inverse is never formed).  On a quadratic
    :math:`J(\theta) = \tfrac12(\theta-\theta^*)^\top A(\theta-\theta^*)` the model is exact and one
    step lands on :math:`\theta^*`, whatever the condition number.  Near a minimum with a positive
    definite, Lipschitz-continuous Hessian the convergence is *quadratic*,
    :math:`\lVert\theta_{t+1}-\theta^*\rVert \le C\,\lVert\theta_t-\theta^*\rVert^2`: the number of
    correct digits roughly doubles every step (Nocedal & Wright, *Numerical Optimization*, 2006,
    Thm. 3.5).  The price: the Hessian (:math:`n^2` numbers) and a linear solve (:math:`O(n^3)`)
    per step, and no preference for minima: where the Hessian is indefinite the step heads for the
    stationary point of the model, which may be a saddle point or a maximum.

    Parameters
    ----------
    objective : Objective
        Has ``value``, ``grad`` and ``hessian`` (every :mod:`gdcourse.functions` objective).
    theta0 : array, shape (dim,)
        Starting point (any backend; the run stays on it).
    max_iter : int, default 20
        Budget of Newton steps.
    tol_grad : float or None, default 1e-10
        Stop when :math:`\lVert\nabla J(\theta_t)\rVert_2 \le` ``tol_grad``.
    on_divergence : {"raise", "stop"}
        When the iterate or the cost stops being finite: raise :class:`DivergenceError`, or
        return the history with ``stop_reason="diverged"``.
    label : str
        Name for plots.

    Returns
    -------
    History
        As for :func:`minimize`; ``lrs`` is NaN (Newton has no learning rate: the step length is
        set by the Hessian).

    Raises
    ------
    ValueError
        If the Hessian is singular at some iterate (the message names the step).
    """
    xp = _check_theta0(theta0)
    value_fn, grad_fn = _objective_parts(objective, None)
    hessian_fn = getattr(objective, "hessian", None)
    if not callable(hessian_fn):
        raise TypeError(f"objective must have a .hessian method for Newton's method, got {type(objective).__name__}")
    max_iter = _checks.nonneg_int("max_iter", max_iter)
    tol_grad = _checks.optional_nonneg("tol_grad", tol_grad)
    divergence.check_options(math.inf, on_divergence)

    theta = theta0
    g, loss = _start(value_fn, grad_fn, theta)
    run = _Trace(f"reached max_iter={max_iter} Newton steps", lrs=None)
    run.record(theta, loss, float(xp.linalg.vector_norm(g)))
    for t in range(max_iter + 1):
        if run.gradient_small(tol_grad, t, "Newton steps") or t == max_iter:
            break
        theta = theta - _newton_step(xp, hessian_fn, theta, g, t)
        g = grad_fn(theta)
        with np.errstate(over="ignore", invalid="ignore"):
            loss = float(value_fn(theta))
        run.record(theta, loss, float(xp.linalg.vector_norm(g)))
        verdict = divergence.classify(
            run.losses, is_finite(theta), t + 1, 1.0, factor=math.inf, where=f"Newton step {t + 1}", hint=NEWTON_HINT
        )
        if run.diverged(verdict):
            break
    return run.history(theta, label, on_divergence)


def _newton_step(xp: Any, hessian_fn: Callable, theta: Any, g: Any, t: int) -> Any:
    r"""The step :math:`d` solving :math:`\nabla^2 J(\theta)\, d = g` at update ``t`` (from 0); an error names it."""
    try:  # a column right-hand side reads the same in every array-API version
        return xp.linalg.solve(hessian_fn(theta), g[:, None])[:, 0]
    except ValueError as err:  # numpy.linalg.LinAlgError is a ValueError
        raise ValueError(
            f"Newton step {t + 1}: the Hessian at theta is singular ({err}); Newton's method needs an "
            "invertible Hessian — start elsewhere, or use a gradient method"
        ) from err


def conjugate_gradient(
    A: Any,
    b: Any,
    x0: Any = None,
    max_iter: int | None = None,
    tol: float = 1e-10,
    *,
    label: str = "CG",
) -> History:
    r"""Conjugate gradient (Hestenes & Stiefel 1952): minimise :math:`J(x) = \tfrac12 x^\top A x - b^\top x`.

    For a symmetric positive definite :math:`A` the minimiser solves :math:`Ax = b`, and the
    residual :math:`r = b - Ax = -\nabla J(x)` is the negative gradient.  From :math:`x_0`,
    :math:`r_0 = b - Ax_0`, :math:`p_0 = r_0`:

    .. math::
        \alpha_t &= \frac{r_t^\top r_t}{p_t^\top A p_t}, \qquad
        x_{t+1} = x_t + \alpha_t p_t, \qquad
        r_{t+1} = r_t - \alpha_t A p_t, \\
        \beta_t &= \frac{r_{t+1}^\top r_{t+1}}{r_t^\top r_t}, \qquad
        p_{t+1} = r_{t+1} + \beta_t p_t .

    Each step is an exact line search along a direction that is :math:`A`-conjugate to all the
    previous ones (:math:`p_i^\top A p_j = 0`), so :math:`x_t` minimises :math:`J` over
    :math:`x_0 + \mathrm{span}\{r_0, Ar_0, \dots, A^{t-1}r_0\}`.  In exact arithmetic it stops
    after at most :math:`n` steps for an :math:`n \times n` system (after as many steps as
    :math:`A` has distinct eigenvalues), and before that the error in the :math:`A`-norm shrinks at
    least like :math:`2\left(\frac{\sqrt\kappa-1}{\sqrt\kappa+1}\right)^t` — heavy ball's rate,
    without any learning rate or momentum to tune.  It uses :math:`A` only through products
    :math:`Ap`, like a gradient.

    Parameters
    ----------
    A : array, shape (n, n)
        Symmetric positive definite matrix (any backend).
    b : array, shape (n,)
        Right-hand side, on the same backend and device as ``A``.
    x0 : array, shape (n,), optional
        Starting point (default: zeros).
    max_iter : int, optional
        Budget of steps (default ``n``; in floating point a badly conditioned system may need a few more).
    tol : float, default 1e-10
        Stop when :math:`\lVert b - Ax_t\rVert_2 \le` ``tol`` :math:`\cdot \lVert b\rVert_2`.
    label : str
        Name for plots.

    Returns
    -------
    History
        ``path`` the iterates :math:`x_t`, ``losses`` :math:`J(x_t)`, ``grad_norms`` the residual norms
        :math:`\lVert b - Ax_t\rVert_2` (computed afresh, not by the recurrence), ``lrs`` the step
        lengths :math:`\alpha_t`, ``extras["betas"]`` the :math:`\beta_t`; ``stop_reason`` is
        ``"tol_grad"`` when the tolerance was met, else ``"max_iter"``.

    Raises
    ------
    ValueError
        For mismatched shapes; when ``A`` is not symmetric (checked before the first step:
        :math:`\lVert A - A^\top\rVert_F > 100\,\epsilon\,\lVert A\rVert_F`, with :math:`\epsilon` the
        machine epsilon of ``A``'s dtype -- round-off asymmetry passes); or when :math:`p^\top A p \le 0`
        during the iteration (``A`` is not positive definite).

    References
    ----------
    Hestenes, M. R., & Stiefel, E. (1952). Methods of conjugate gradients for solving linear systems.
    Journal of Research of the National Bureau of Standards, 49(6), 409-436.
    """
    xp, x = _check_linear_system(A, b, x0)
    max_iter = int(A.shape[0]) if max_iter is None else max_iter
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 0:
        raise ValueError(f"max_iter must be a non-negative integer, got {max_iter!r}")
    if not (tol >= 0):
        raise ValueError(f"tol must be a non-negative number, got {tol!r}")

    threshold = tol * float(xp.linalg.vector_norm(b))
    r = b - A @ x
    p = r
    rr = r @ r
    alphas: list[float] = []
    betas: list[float] = []
    run = _Trace(f"reached max_iter={max_iter} steps", alphas)  # the step lengths stand as the learning rates
    run.record(x, *_cost_and_residual(xp, A, b, x))
    for t in range(max_iter + 1):
        if run.grad_norms[-1] <= threshold:
            run.stop("tol_grad", f"residual {run.grad_norms[-1]:.3g} <= tol·‖b‖ = {threshold:.3g} after {t} steps")
            break
        if t == max_iter or not float(rr) > 0:  # rr = 0: the recurrence says x is exact
            break
        ap = A @ p
        curvature = p @ ap
        if not float(curvature) > 0:
            raise ValueError(
                f"A must be symmetric positive definite; at conjugate gradient step {t + 1} pᵀAp = "
                f"{float(curvature):.3g} <= 0, so A is not positive definite"
            )
        alpha = rr / curvature
        x = x + alpha * p
        r = r - alpha * ap
        rr_new = r @ r
        beta = rr_new / rr
        p = r + beta * p
        rr = rr_new
        run.record(x, *_cost_and_residual(xp, A, b, x))
        alphas.append(float(alpha))
        betas.append(float(beta))
    return run.history(x, label, extras={"betas": np.asarray(betas, dtype=np.float64)})


def _check_linear_system(A: Any, b: Any, x0: Any) -> tuple[Any, Any]:
    """The namespace of a square real system ``A x = b`` and its start (``x0``, or zeros), all checked."""
    try:
        xp = array_namespace(A, b)
    except TypeError:
        raise TypeError("A and b must be arrays of the same array library (use gdcourse.asarray)") from None
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"A must be a square matrix, got shape {tuple(A.shape)}")
    n = int(A.shape[0])
    if tuple(b.shape) != (n,):
        raise ValueError(f"b must have shape ({n},) to match A of shape {tuple(A.shape)}, got {tuple(b.shape)}")
    if not (xp.isdtype(A.dtype, "real floating") and xp.isdtype(b.dtype, "real floating")):
        raise TypeError(f"A and b must have a real floating dtype, got {A.dtype} and {b.dtype}")
    x = xp.zeros_like(b) if x0 is None else x0
    if tuple(x.shape) != (n,):
        raise ValueError(f"x0 must have shape ({n},), got {tuple(x.shape)}")
    _check_symmetric(xp, A)
    return xp, x


def _check_symmetric(xp: Any, A: Any) -> None:
    r"""Refuse :math:`\lVert A - A^\top\rVert_F > 100\,\epsilon\,\lVert A\rVert_F` (round-off asymmetry passes).

    A non-symmetric ``A`` makes the recurrences solve a different problem without any sign of it.
    """
    size = float(xp.linalg.vector_norm(A, axis=None))
    asymmetry = float(xp.linalg.vector_norm(A - A.T, axis=None))
    sym_rtol = 100 * float(xp.finfo(A.dtype).eps)
    if not asymmetry <= sym_rtol * size:
        raise ValueError(
            f"A must be symmetric positive definite; A differs from A.T by {asymmetry:.3g} "
            f"(relative {asymmetry / size if size > 0 else math.inf:.3g} > tolerance {sym_rtol:.3g}, Frobenius norm); "
            "for a non-symmetric system solve the normal equations AᵀAx = Aᵀb or use a general solver"
        )


def _cost_and_residual(xp: Any, A: Any, b: Any, x: Any) -> tuple[float, float]:
    r""":math:`J(x) = \tfrac12 x^\top A x - b^\top x` and :math:`\lVert b - Ax\rVert_2`, from one product :math:`Ax`."""
    ax = A @ x
    return float(0.5 * (x @ ax) - b @ x), float(xp.linalg.vector_norm(ax - b))
