r"""Backtracking (Armijo) line search: choose every step's learning rate by trying it, without knowing :math:`L`.

From :math:`\theta` with gradient :math:`g = \nabla J(\theta)`, a trial step :math:`\eta` is accepted when it
lowers the cost by at least a fraction :math:`c` of what the slope promises, the **Armijo condition**
(sufficient decrease):

.. math:: J(\theta - \eta g) \le J(\theta) - c\,\eta\,\lVert g\rVert^2, \qquad 0 < c < 1.

**Backtracking** tries :math:`\eta = \eta_0, \rho\eta_0, \rho^2\eta_0, \dots` (:math:`\rho` = ``shrink``) and
accepts the first that satisfies it (Armijo 1966; Boyd & Vandenberghe, *Convex Optimization*, 2004, §9.2;
Nocedal & Wright, *Numerical Optimization*, 2006, Algorithm 3.1).

Why it terminates, and how small the step can get: if :math:`J` is :math:`L`-smooth, the **descent lemma**

.. math:: J(\theta - \eta g) \le J(\theta) - \eta\Big(1 - \frac{L\eta}{2}\Big)\lVert g\rVert^2

shows that the condition holds for every :math:`\eta \le 2(1 - c)/L`.  The first trial at or below that bound
is accepted, so the accepted step is at least :math:`\min\big(\eta_0,\ \rho\cdot 2(1-c)/L\big)`, found after at
most :math:`\lceil \log_{1/\rho}(\eta_0 L / (2(1-c))) \rceil` reductions — without :math:`L` ever being given.

That is exact arithmetic.  In floating point the test compares two values of :math:`J` that differ by about
:math:`c\,\eta\lVert g\rVert^2`; near a minimum, once that is below the rounding error of :math:`J` (about
:math:`10^{-16}\lvert J\rvert` in float64), steps are rejected that exact arithmetic would accept, and the search
may shrink the step far below the guarantee or fail.  Stop before that, with a tolerance on :math:`\lVert g\rVert`.

:func:`armijo_step` does one search; :func:`backtracking_descent` runs gradient descent with a search at every
step and records the path, the accepted steps and the number of evaluations of :math:`J` it cost.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from gdcourse import _checks
from gdcourse.backend import array_namespace, is_finite
from gdcourse.descent import History

__all__ = ["ArmijoStep", "armijo_step", "backtracking_descent"]


@dataclass(frozen=True)
class ArmijoStep:
    r"""The outcome of one backtracking search (:func:`armijo_step`).

    Attributes
    ----------
    eta : float
        The accepted learning rate :math:`\eta = \eta_0\rho^k`.
    theta : array
        The new point :math:`\theta - \eta\nabla J(\theta)`.
    value : float
        :math:`J` at the new point.
    n_evals : int
        Evaluations of :math:`J` the search made: one at :math:`\theta` and one per trial step, :math:`k + 2`.
    shrinks : int
        :math:`k`, the number of times the trial step was multiplied by ``shrink``.
    """

    eta: float
    theta: Any
    value: float
    n_evals: int
    shrinks: int


def _in_unit_interval(name: str, value: Any) -> float:
    """A number strictly between 0 and 1 (``shrink``, ``c``), else an error naming ``name``."""
    v = _checks.number(name, value)
    if not 0.0 < v < 1.0:
        raise ValueError(f"{name} must be a number in the open interval (0, 1), got {value}")
    return v


def _check_callables(f: Any, grad: Any) -> None:
    for name, fn in (("f", f), ("grad", grad)):
        if not callable(fn):
            raise TypeError(f"{name} must be a function of theta, got {type(fn).__name__}")


def _check_options(eta0: Any, shrink: Any, c: Any, max_halvings: Any) -> tuple[float, float, float, int]:
    return (
        _checks.positive("eta0", eta0),
        _in_unit_interval("shrink", shrink),
        _in_unit_interval("c", c),
        _checks.nonneg_int("max_halvings", max_halvings),
    )


def _cost_and_gradient(f: Callable, grad: Callable, theta: Any) -> tuple[float, Any, float]:
    r""":math:`J(\theta)`, :math:`\nabla J(\theta)` and :math:`\lVert\nabla J\rVert^2`, checked to be finite."""
    try:
        xp = array_namespace(theta)
    except TypeError:
        raise TypeError(f"theta must be an array (use gdcourse.asarray([...])), got {type(theta).__name__}") from None
    value = float(f(theta))
    if not math.isfinite(value):
        raise ValueError(f"f(theta) is {value}: the line search needs a finite cost at theta")
    g = grad(theta)
    if not hasattr(g, "shape") or tuple(g.shape) != tuple(theta.shape):
        raise ValueError(f"grad must return an array of theta's shape {tuple(theta.shape)}, got {g!r}")
    if not is_finite(g):
        raise ValueError("grad(theta) is not finite: the line search needs a finite gradient at theta")
    return value, g, float(xp.sum(g * g))


def _backtrack(
    f: Callable, theta: Any, g: Any, value: float, squared_norm: float, options: tuple[float, float, float, int]
) -> ArmijoStep | None:
    r"""The first :math:`\eta_0\rho^k` (:math:`k \le` ``max_halvings``) that passes Armijo's test, or ``None``."""
    eta0, shrink, c, max_halvings = options
    eta = eta0
    for k in range(max_halvings + 1):
        trial = theta - eta * g
        trial_value = float(f(trial))  # NaN or inf (an overflow) fails the test and shrinks the step
        if trial_value <= value - c * eta * squared_norm:
            return ArmijoStep(eta=eta, theta=trial, value=trial_value, n_evals=k + 2, shrinks=k)
        eta *= shrink
    return None


def armijo_step(
    f: Callable[[Any], Any],
    grad: Callable[[Any], Any],
    theta: Any,
    eta0: float = 1.0,
    shrink: float = 0.5,
    c: float = 1e-4,
    max_halvings: int = 60,
) -> ArmijoStep:
    r"""One backtracking line search from ``theta`` along :math:`-\nabla J(\theta)`.

    Tries :math:`\eta = \eta_0\rho^k` for :math:`k = 0, 1, \dots` and returns the first that satisfies

    .. math:: J(\theta - \eta g) \le J(\theta) - c\,\eta\,\lVert g\rVert^2, \qquad g = \nabla J(\theta).

    So the returned :math:`\eta` passes the test and :math:`\eta/\rho` fails it (unless :math:`\eta = \eta_0`).
    For an :math:`L`-smooth :math:`J` it is at least :math:`\min(\eta_0, \rho\cdot 2(1-c)/L)` (module docstring).

    Parameters
    ----------
    f : callable
        The cost, ``theta -> J(theta)`` (a number or a 0-d array).  A trial point where it is NaN or infinite
        (an overflow) fails the test, so the step shrinks; at ``theta`` itself it must be finite.
    grad : callable
        The gradient, ``theta -> ∇J(theta)``, an array of ``theta``'s shape; evaluated once, at ``theta``.
    theta : array
        The current point (any shape, any backend; not modified).
    eta0 : float
        The first trial step :math:`\eta_0 > 0`, also the largest step that can be returned.
    shrink : float
        The factor :math:`\rho \in (0, 1)` that multiplies a rejected step (0.5: halve it).
    c : float
        The fraction :math:`c \in (0, 1)` of the predicted decrease :math:`\eta\lVert g\rVert^2` required
        (1e-4, Nocedal & Wright's usual choice, accepts nearly any decrease).
    max_halvings : int
        The most reductions tried (:math:`k \le` ``max_halvings``) before giving up.

    Returns
    -------
    ArmijoStep
        The accepted ``eta``, the new ``theta`` and its ``value``, the evaluations of ``f`` (``n_evals``, the
        one at ``theta`` included) and the number of reductions (``shrinks``).

    Raises
    ------
    TypeError, ValueError
        For a bad argument, named in the message (``eta0 <= 0``, ``shrink`` or ``c`` outside (0, 1), a
        non-finite ``f(theta)`` or ``grad(theta)``).
    RuntimeError
        When no step down to :math:`\eta_0\rho^{\text{max\_halvings}}` passes: the gradient is wrong (not a
        descent direction), or the decrease is below the rounding error of ``f``.
    """
    _check_callables(f, grad)
    options = _check_options(eta0, shrink, c, max_halvings)
    value, g, squared_norm = _cost_and_gradient(f, grad, theta)
    step = _backtrack(f, theta, g, value, squared_norm, options)
    if step is None:
        raise RuntimeError(
            f"no step down to eta0 * shrink**max_halvings = {options[0] * options[1] ** options[3]:.3g} decreased "
            f"f enough (max_halvings={options[3]}): is grad the gradient of f, or is theta at a minimum "
            f"within rounding error (|grad|^2 = {squared_norm:.3g})?"
        )
    return step


def backtracking_descent(
    f: Callable[[Any], Any],
    grad: Callable[[Any], Any],
    theta0: Any,
    steps: int,
    *,
    eta0: float = 1.0,
    shrink: float = 0.5,
    c: float = 1e-4,
    max_halvings: int = 60,
    tol_grad: float | None = None,
    label: str = "backtracking",
) -> History:
    r"""Gradient descent :math:`\theta_{t+1} = \theta_t - \eta_t\nabla J(\theta_t)` with :math:`\eta_t` from a search.

    Every step starts a fresh search at ``eta0`` (:func:`armijo_step`'s rule), so no learning rate, and no
    :math:`L`, has to be known.  The cost at each new point is the one the search computed; the loop evaluates
    :math:`J` once more only at ``theta0``.

    Parameters
    ----------
    f : callable
        The cost, ``theta -> J(theta)``; finite at ``theta0``.
    grad : callable
        The gradient, ``theta -> ∇J(theta)``, an array of ``theta``'s shape; evaluated once per iterate.
    theta0 : array
        The starting point (any backend; the path is recorded on the host as float64).
    steps : int
        The budget: at most this many updates.
    eta0 : float
        The first trial step of every search (:math:`\eta_0 > 0`).
    shrink : float
        The reduction factor :math:`\rho \in (0, 1)` of a rejected trial.
    c : float
        Armijo's fraction :math:`c \in (0, 1)`.
    max_halvings : int
        The most reductions per search.
    tol_grad : float, optional
        Stop when :math:`\lVert\nabla J(\theta_t)\rVert_2 \le` ``tol_grad``.
    label : str
        A name for plots.

    Returns
    -------
    History
        As :func:`gdcourse.descent.minimize`'s: ``path``, ``losses``, ``grad_norms``, and ``lrs`` the accepted
        steps :math:`\eta_t`.  ``extras["f_evals"]`` holds the evaluations of :math:`J` made up to each iterate
        (1 at :math:`\theta_0`), ``extras["shrinks"]`` the reductions of each search.  ``stop_reason`` is
        ``"max_iter"``, ``"tol_grad"`` or ``"no_decrease"`` (a search failed: see :func:`armijo_step`).
    """
    _check_callables(f, grad)
    options = _check_options(eta0, shrink, c, max_halvings)
    steps = _checks.nonneg_int("steps", steps)
    tol_grad = _checks.optional_nonneg("tol_grad", tol_grad)
    value, g, squared_norm = _cost_and_gradient(f, grad, theta0)
    theta, path, losses, norms = theta0, [theta0], [value], [math.sqrt(squared_norm)]
    lrs: list[float] = []
    evals, shrinks = [1], []
    reason, message = "max_iter", f"reached max_iter={steps} updates"
    for t in range(steps + 1):
        if tol_grad is not None and norms[-1] <= tol_grad:
            reason, message = "tol_grad", f"gradient norm {norms[-1]:.3g} <= tol_grad={tol_grad:g} after {t} updates"
            break
        if t == steps:  # the last pass only tests tol_grad at the final iterate
            break
        step = _backtrack(f, theta, g, value, squared_norm, options)
        if step is None:
            reason, message = "no_decrease", f"no step passed Armijo's test at update {t + 1} (see armijo_step)"
            break
        theta, value = step.theta, step.value
        g = grad(theta)
        squared_norm = float(array_namespace(g).sum(g * g))
        path.append(theta)
        losses.append(value)
        norms.append(math.sqrt(squared_norm))
        lrs.append(step.eta)
        evals.append(evals[-1] + step.n_evals - 1)  # J at theta is known from the previous search
        shrinks.append(step.shrinks)
    extras = {"f_evals": np.asarray(evals), "shrinks": np.asarray(shrinks, dtype=int)}
    return History.from_records(
        path, losses, norms, lrs, stop_reason=reason, message=message, theta=theta, label=label, extras=extras
    )
