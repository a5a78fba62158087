r"""The learning-rate range test (Smith 2017): one short run with a growing learning rate.

Instead of training once per candidate learning rate, train *once* while the
learning rate grows geometrically from ``lr_min`` to ``lr_max``,

.. math::

    \eta_k = \eta_{\min} \left(\frac{\eta_{\max}}{\eta_{\min}}\right)^{k/(n-1)}, \qquad k = 0, \dots, n-1,

and record the cost after every update.  Read against :math:`\eta`, the curve has
three parts: a flat start (steps too small to matter), a descent (useful
learning rates), and a blow-up (learning rates too large for the curvature).
The run stops early once the cost exceeds ``stop_factor`` times the lowest cost
seen so far, or when :func:`gdcourse.divergence.classify` -- the verdict every loop of the course
shares -- finds it broken (the cost or the parameters no longer finite); when that verdict is a
*numerical* problem (the cost broke without growing first, or an ``eps`` too small for the dtype),
the cliff says nothing about the learning rate, and the result's message says so.

Three learning rates are read off the curve (:class:`LRRangeResult`):

``best_lr``
    the learning rate of the update that reached the lowest cost;
``divergence_lr``
    the learning rate of the first update after that lowest cost, i.e. where the
    cost starts to rise for good.  For gradient descent on a quadratic the cost
    falls at every step with :math:`\eta < 2/L` and, along the steepest direction,
    grows by :math:`(1-\eta L)^2 > 1` once :math:`\eta > 2/L`; starting along that
    direction, ``divergence_lr`` is the first grid value above :math:`2/L`.  It is never
    below :math:`2/L` (the cost falls at every step before), but from a generic start with
    *exact* gradients it can be far above: as :math:`\eta` passes :math:`1/L` each update
    nearly wipes out the steep direction (:math:`1-\eta L \approx 0`), and its regrowth
    beyond :math:`2/L` takes many steps to show in the cost.  Gradient noise, as in SGD, keeps
    every direction excited, and the cliff shows close to :math:`2/L`;
``suggested_lr``
    the recommendation, by one of two documented rules:

    * ``rule="fraction"`` (default): ``fraction * divergence_lr``, with
      ``fraction = 0.5``.  For gradient descent on an :math:`L`-smooth cost this
      gives about :math:`1/L`, the step of the classical descent lemma
      (:math:`J(\theta - \eta\nabla J) \le J(\theta) - \eta(1 - L\eta/2)\lVert\nabla J\rVert^2`,
      largest decrease at :math:`\eta = 1/L`), safely away from the cliff.
    * ``rule="steepest"``: the learning rate where the cost falls fastest per
      decade of :math:`\eta`, i.e. the minimum of
      :math:`\mathrm{d}\log J / \mathrm{d}\log\eta` before the lowest cost (the
      rule of the fast.ai learning-rate finder).

The test works with any optimizer of :mod:`gdcourse.optim` (the growing rate is
passed to it as a schedule) and any objective with ``value`` and ``grad``
(stochastic gradients included; use ``smoothing`` to average noisy costs).

References
----------
Smith, L. N. (2017). Cyclical learning rates for training neural networks. WACV (section 3.3,
"How can one estimate reasonable minimum and maximum boundary values?").
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from gdcourse import _checks, divergence, optim
from gdcourse.backend import array_namespace, dtype_of, is_finite

__all__ = ["LRRangeResult", "lr_grid", "lr_range_test"]

Rule = Literal["fraction", "steepest"]


@dataclass(frozen=True)
class LRRangeResult:
    r"""What a learning-rate range test measured.

    Attributes
    ----------
    lrs : ndarray, shape (n,)
        The learning rate of each update that was made (stops early at divergence).
    losses : ndarray, shape (n,)
        The cost after each update (smoothed when ``smoothing > 0``), :math:`J(\theta_{k+1})`.
    loss0 : float
        The cost at the start, :math:`J(\theta_0)`.
    best_lr : float
        Learning rate of the update that reached the lowest cost.
    divergence_lr : float or None
        Learning rate of the first update after the lowest cost (the cost rises from there on);
        ``None`` when the cost was still at its lowest at the end of the grid.
    suggested_lr : float
        The recommendation of ``rule`` (see the module docstring).
    rule : str
        ``"fraction"`` or ``"steepest"``.
    stopped_early : bool
        ``True`` when the run stopped because the cost blew up.
    message : str
        One sentence summing up the test.
    divergence : gdcourse.divergence.Divergence or None
        The shared verdict when the run stopped on a cost or parameters no longer finite.
    """

    lrs: np.ndarray
    losses: np.ndarray
    loss0: float
    best_lr: float
    divergence_lr: float | None
    suggested_lr: float
    rule: str
    stopped_early: bool
    message: str
    divergence: divergence.Divergence | None = None

    def __repr__(self) -> str:
        div = "none" if self.divergence_lr is None else f"{self.divergence_lr:.3g}"
        return (
            f"LRRangeResult(n={len(self.lrs)}, best_lr={self.best_lr:.3g}, divergence_lr={div}, "
            f"suggested_lr={self.suggested_lr:.3g} ({self.rule}))"
        )


def lr_grid(lr_min: float, lr_max: float, n: int) -> np.ndarray:
    r"""The geometric grid :math:`\eta_k = \eta_{\min}(\eta_{\max}/\eta_{\min})^{k/(n-1)}`, :math:`k = 0..n-1`.

    Consecutive values differ by the factor :math:`(\eta_{\max}/\eta_{\min})^{1/(n-1)}`, the
    resolution of the test.

    Parameters
    ----------
    lr_min, lr_max : float
        :math:`\eta_{\min}` and :math:`\eta_{\max}`, the ends of the grid, both included: positive finite
        numbers with ``lr_min < lr_max`` (else :class:`ValueError`; a non-number is a :class:`TypeError`).
    n : int
        Number of grid points, at least 2 (the range test's ``n_steps``, as its error message says).

    Returns
    -------
    ndarray, shape (n,)
        The learning rates :math:`\eta_0 = \eta_{\min}, \dots, \eta_{n-1} = \eta_{\max}`, float64.
    """
    lo, hi = _checks.positive("lr_min", lr_min), _checks.positive("lr_max", lr_max)
    if not lo < hi:
        raise ValueError(f"lr_min must be smaller than lr_max, got lr_min={lr_min!r}, lr_max={lr_max!r}")
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 2:
        raise ValueError(f"n_steps must be an integer >= 2, got {n!r}")
    return lo * (hi / lo) ** (np.arange(n) / (n - 1))


def lr_range_test(
    objective: Any,
    theta0: Any,
    optimizer: str | Callable[..., Any] = "gd",
    *,
    lr_min: float = 1e-5,
    lr_max: float = 10.0,
    n_steps: int = 100,
    stop_factor: float = 4.0,
    smoothing: float = 0.0,
    rule: Rule = "fraction",
    fraction: float = 0.5,
    grad: Callable[[Any], Any] | None = None,
    **hyperparams: Any,
) -> LRRangeResult:
    r"""Run a learning-rate range test: one run whose learning rate grows geometrically, cost recorded.

    Update :math:`k` (:math:`k = 0, \dots, n-1`) uses :math:`\eta_k` of :func:`lr_grid`; the
    cost :math:`J(\theta_{k+1})` is recorded after it.  The run stops after the update whose
    cost is not finite or exceeds ``stop_factor`` times the lowest cost so far (and
    :math:`J(\theta_0)`).  The optimizer's state (momentum, squared-gradient averages) carries
    over from one learning rate to the next, as in a real training run.

    Parameters
    ----------
    objective : object
        Anything with ``value(theta)`` and ``grad(theta)`` (every :mod:`gdcourse.functions`
        objective); or a cost function ``theta -> J`` with ``grad=``.
    theta0 : array, shape (dim,)
        Starting point (any backend).
    optimizer : str or callable, default "gd"
        A name of :data:`gdcourse.optim.OPTIMIZERS` (made with ``lr=`` the growing schedule and
        ``**hyperparams``), or a factory ``lr -> Optimizer``, e.g.
        ``lambda lr: optim.sgd(lr, momentum=0.9)``.
    lr_min, lr_max : float
        Ends of the geometric grid (``0 < lr_min < lr_max``).
    n_steps : int
        Number of updates (grid points), at least 2.
    stop_factor : float
        Stop once the cost exceeds this multiple of the lowest cost so far (> 1).
    smoothing : float
        :math:`\beta \in [0, 1)`: record the bias-corrected running average
        :math:`\bar J_k = \mathrm{EWMA}_\beta(J) / (1-\beta^{k+1})` instead of the raw cost (for
        stochastic gradients or minibatch costs); 0 records the raw cost.
    rule : {"fraction", "steepest"}
        How ``suggested_lr`` is chosen (module docstring).
    fraction : float
        For ``rule="fraction"``: the suggestion is ``fraction * divergence_lr`` (``0 < fraction <= 1``).
        When the cost never rose, ``fraction * best_lr`` is suggested instead.
    grad : callable, optional
        ``theta -> gradient``, overriding ``objective.grad``.
    **hyperparams
        Other hyperparameters of a named optimizer (e.g. ``momentum=0.9``, ``betas=(0.9, 0.99)``).

    Returns
    -------
    LRRangeResult
    """
    array_namespace(theta0)  # a clear TypeError for a non-array start
    divergence.check_data("theta0", theta0, fix="start from finite parameters")
    value_fn = getattr(objective, "value", objective)
    grad_fn = grad if grad is not None else getattr(objective, "grad", None)
    if not callable(value_fn) or not callable(grad_fn):
        raise TypeError("objective must have .value and .grad (or pass a cost function and grad=...)")
    lrs = lr_grid(lr_min, lr_max, n_steps)
    stop_factor = _check_options(stop_factor, smoothing, rule, fraction)

    def schedule(k: int) -> float:
        return float(lrs[min(k, len(lrs) - 1)])

    opt = _make_optimizer(optimizer, schedule, hyperparams)
    theta, state = theta0, opt.init(theta0)
    costs = _Costs(_first_cost(value_fn, theta0), smoothing)
    stopped, problem = False, None
    eps, dtype = divergence.optimizer_eps(opt), dtype_of(theta0)
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(len(lrs)):
            point = opt.lookahead(theta, state) if getattr(opt, "needs_lookahead", False) else theta
            theta, state = opt.step(theta, grad_fn(point), state)
            cost = costs.add(float(value_fn(theta)), k)
            curve = [costs.loss0, *costs.losses]
            problem = divergence.classify(
                curve, is_finite(theta), k + 1, float(lrs[k]), dtype, eps=eps, factor=math.inf, unit="update"
            )
            if problem is not None or cost > stop_factor * costs.best:
                stopped = True
                break
            costs.best = min(costs.best, cost)
    tried, recorded = lrs[: len(costs.losses)], np.asarray(costs.losses, dtype=np.float64)
    return _summarise(tried, recorded, costs.loss0, stopped, rule, float(fraction), problem)


def _check_options(stop_factor: float, smoothing: float, rule: str, fraction: float) -> float:
    """``stop_factor`` checked (> 1), and ``smoothing``, ``rule`` and ``fraction`` checked as documented."""
    stop_factor = _checks.positive("stop_factor", stop_factor)
    if not stop_factor > 1:
        raise ValueError(f"stop_factor must be greater than 1, got {stop_factor!r}")
    if not (isinstance(smoothing, int | float) and 0 <= smoothing < 1):
        raise ValueError(f"smoothing must be a number in [0, 1), got {smoothing!r}")
    if rule not in ("fraction", "steepest"):
        raise ValueError(f"rule must be 'fraction' or 'steepest', got {rule!r}")
    if not (isinstance(fraction, int | float) and 0 < fraction <= 1):
        raise ValueError(f"fraction must be a number in (0, 1], got {fraction!r}")
    return stop_factor


def _first_cost(value_fn: Callable[[Any], Any], theta0: Any) -> float:
    r""":math:`J(\theta_0)`, which must be finite and >= 0 (the test compares costs by ratios)."""
    loss0 = float(value_fn(theta0))
    if not math.isfinite(loss0):
        raise ValueError(f"the cost at theta0 is {loss0}; start where the objective is defined")
    if loss0 < 0:
        raise ValueError(
            f"the cost at theta0 is {loss0:.4g} < 0; the range test compares costs by ratios, so they "
            "must be >= 0 (subtract a lower bound of the cost)"
        )
    return loss0


@dataclass
class _Costs:
    """The costs a range test records: the start, one per update (smoothed or raw), the lowest so far."""

    loss0: float
    smoothing: float
    losses: list[float] = field(default_factory=list)
    average: float = 0.0  # the running average of the raw costs, not bias-corrected
    best: float = field(init=False)

    def __post_init__(self) -> None:
        self.best = self.loss0

    def add(self, raw: float, k: int) -> float:
        r"""Record the cost after update ``k``: ``raw``, or :math:`\bar J_k` when smoothing; return it."""
        if raw < 0:
            raise ValueError(
                f"the cost became negative ({raw:.4g}) at update {k}; the range test needs a cost "
                ">= 0 (subtract a lower bound of the cost)"
            )
        if self.smoothing > 0 and math.isfinite(raw):
            self.average = self.smoothing * self.average + (1 - self.smoothing) * raw
            raw = self.average / (1 - self.smoothing ** (k + 1))
        self.losses.append(raw)
        return raw


def _make_optimizer(optimizer: Any, schedule: Callable[[int], float], hyperparams: dict) -> Any:
    if isinstance(optimizer, str):
        return optim.get(optimizer, lr=schedule, **hyperparams)
    if callable(optimizer):
        if hyperparams:
            raise ValueError("hyperparameters go into the factory when optimizer is a callable, not into **kwargs")
        return optimizer(schedule)
    raise TypeError(f"optimizer must be a name such as 'adam' or a factory lr -> Optimizer, got {optimizer!r}")


def _summarise(
    lrs: np.ndarray,
    losses: np.ndarray,
    loss0: float,
    stopped: bool,
    rule: str,
    fraction: float,
    problem: divergence.Divergence | None = None,
) -> LRRangeResult:
    finite = np.where(np.isfinite(losses), losses, np.inf)
    b = int(np.argmin(finite))  # the update that reached the lowest cost
    if finite[b] >= loss0:
        raise ValueError(
            f"the cost never fell below its start ({loss0:.4g}) between lr={lrs[0]:.3g} and lr={lrs[-1]:.3g}; "
            "lower lr_min (the smallest learning rate already blows up) or check the gradient"
        )
    best_lr = float(lrs[b])
    divergence_lr = float(lrs[b + 1]) if b + 1 < len(lrs) else None
    if rule == "fraction":
        suggested = fraction * (divergence_lr if divergence_lr is not None else best_lr)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.log(np.concatenate([[loss0], finite[: b + 1]]))
        # slope of log J against log eta over update k, from J(theta_k) to J(theta_{k+1})
        slopes = np.diff(logs) / np.log(lrs[1] / lrs[0]) if len(lrs) > 1 else np.diff(logs)
        suggested = float(lrs[int(np.argmin(slopes))])
    div = "the cost never rose" if divergence_lr is None else f"the cost rises from lr = {divergence_lr:.3g} on"
    stop = " (run stopped: cost blew up)" if stopped else ""
    if problem is not None and problem.cause == "numerical":  # the cliff is not the learning rate's
        stop = f" (run stopped, not by the learning rate: {problem.message})"
    message = (
        f"lowest cost {finite[b]:.3g} at lr = {best_lr:.3g}; {div}{stop}; suggested lr = {suggested:.3g} ({rule} rule)"
    )
    return LRRangeResult(lrs, losses, loss0, best_lr, divergence_lr, float(suggested), rule, stopped, message, problem)
