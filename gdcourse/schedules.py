r"""Learning-rate schedules: callables ``step -> lr``, checked against ``torch.optim.lr_scheduler``.

Pass a schedule wherever an optimizer takes ``lr``::

    opt = gdcourse.optim.sgd(lr=schedules.cosine(0.1, T_max=100), momentum=0.9)

The optimizer evaluates it at ``step = state.t``: ``0`` for the first update, ``1`` for the second,
... -- the same as a ``torch.optim.lr_scheduler`` whose ``.step()`` is called once after every
``optimizer.step()``.  A schedule is a pure function of the step, so it can be plotted before
training (``[s(k) for k in range(100)]``) and reused; the exception is :class:`ReduceOnPlateau`, which
needs to see the loss (``.observe(loss)``) and therefore holds state.

Every schedule is a :class:`Schedule`; :func:`get` makes one by name.
"""

from __future__ import annotations

import bisect
import math
import operator
from collections.abc import Callable, Sequence
from typing import Any

from gdcourse import _checks

__all__ = [
    "SCHEDULES",
    "ReduceOnPlateau",
    "Schedule",
    "constant",
    "cosine",
    "exponential",
    "get",
    "inverse_time",
    "multistep",
    "one_cycle",
    "polynomial",
    "reduce_on_plateau",
    "step_decay",
    "warmup",
]


class Schedule:
    """A learning-rate schedule: ``schedule(step) -> lr`` for ``step = 0, 1, 2, ...``.

    Made by the functions of this module; ``formula`` is the function of the step it evaluates.

    Parameters
    ----------
    name : str
        Name of the function that made it, e.g. ``"cosine"``.
    formula : callable
        ``int -> float``.
    **params
        Its parameters, for display (``repr``).
    """

    def __init__(self, name: str, formula: Callable[[int], float], **params: Any) -> None:
        self.name = name
        self.formula = formula
        self.params = params

    def __call__(self, step: int) -> float:
        """Learning rate for update number ``step`` (0 for the first)."""
        return float(self.formula(_check_step(step)))

    def __repr__(self) -> str:
        return f"{self.name}(" + ", ".join(f"{k}={v!r}" for k, v in self.params.items()) + ")"


def constant(lr0: float) -> Schedule:
    r"""Constant learning rate: :math:`\eta_t = \eta_0`.

    Parameters
    ----------
    lr0 : float
        :math:`\eta_0 > 0`.
    """
    lr0 = _checks.positive("lr0", lr0)
    return Schedule("constant", lambda t: lr0, lr0=lr0)


def step_decay(lr0: float, step_size: int, gamma: float = 0.1) -> Schedule:
    r"""Step decay: multiply by :math:`\gamma` every ``step_size`` steps (``torch.optim.lr_scheduler.StepLR``).

    .. math:: \eta_t = \eta_0\, \gamma^{\lfloor t / s \rfloor}

    Parameters
    ----------
    lr0 : float
        :math:`\eta_0 > 0`.
    step_size : int
        :math:`s \ge 1`.
    gamma : float, default 0.1
        :math:`\gamma \in (0, 1]`.
    """
    lr0 = _checks.positive("lr0", lr0)
    step_size = _int_at_least("step_size", step_size, 1)
    gamma = _factor("gamma", gamma)
    return Schedule("step_decay", lambda t: lr0 * gamma ** (t // step_size), lr0=lr0, step_size=step_size, gamma=gamma)


def multistep(lr0: float, milestones: Sequence[int], gamma: float = 0.1) -> Schedule:
    r"""Multiply by :math:`\gamma` at each milestone (``torch.optim.lr_scheduler.MultiStepLR``).

    .. math:: \eta_t = \eta_0\, \gamma^{\#\{i\,:\, m_i \le t\}}

    Parameters
    ----------
    lr0 : float
        :math:`\eta_0 > 0`.
    milestones : sequence of int
        Strictly increasing steps :math:`m_1 < m_2 < \dots`, each :math:`\ge 1`.
    gamma : float, default 0.1
        :math:`\gamma \in (0, 1]`.
    """
    lr0 = _checks.positive("lr0", lr0)
    if isinstance(milestones, str) or not isinstance(milestones, Sequence) or len(milestones) == 0:
        raise ValueError(f"milestones must be a non-empty list of increasing steps, got {milestones!r}")
    ms = [_int_at_least(f"milestones[{i}]", m, 1) for i, m in enumerate(milestones)]
    if any(a >= b for a, b in zip(ms, ms[1:], strict=False)):
        raise ValueError(f"milestones must be strictly increasing, got {list(milestones)}")
    gamma = _factor("gamma", gamma)
    return Schedule(
        "multistep", lambda t: lr0 * gamma ** bisect.bisect_right(ms, t), lr0=lr0, milestones=ms, gamma=gamma
    )


def exponential(lr0: float, gamma: float) -> Schedule:
    r"""Exponential decay (``torch.optim.lr_scheduler.ExponentialLR``).

    .. math:: \eta_t = \eta_0\, \gamma^{t}

    Parameters
    ----------
    lr0 : float
        :math:`\eta_0 > 0`.
    gamma : float
        :math:`\gamma \in (0, 1]`.
    """
    lr0 = _checks.positive("lr0", lr0)
    gamma = _factor("gamma", gamma)
    return Schedule("exponential", lambda t: lr0 * gamma**t, lr0=lr0, gamma=gamma)


def inverse_time(lr0: float, decay: float) -> Schedule:
    r"""Inverse-time ("1/t") decay.

    .. math:: \eta_t = \frac{\eta_0}{1 + \delta\, t}

    The classic stochastic-approximation schedule: :math:`\sum_t \eta_t = \infty` and
    :math:`\sum_t \eta_t^2 < \infty` (Robbins & Monro 1951), which SGD needs to converge with noisy
    gradients.  Adagrad's ``lr_decay`` applies the same formula.

    Parameters
    ----------
    lr0 : float
        :math:`\eta_0 > 0`.
    decay : float
        :math:`\delta \ge 0`.
    """
    lr0 = _checks.positive("lr0", lr0)
    decay = _checks.nonneg("decay", decay)
    return Schedule("inverse_time", lambda t: lr0 / (1 + decay * t), lr0=lr0, decay=decay)


def polynomial(lr0: float, total_steps: int, power: float = 1.0, end: float = 0.0) -> Schedule:
    r"""Polynomial decay from :math:`\eta_0` to ``end`` in ``total_steps`` steps (``PolynomialLR`` for ``end=0``).

    .. math:: \eta_t = (\eta_0 - \eta_{\text{end}}) \left(1 - \frac{\min(t, T)}{T}\right)^{p} + \eta_{\text{end}}

    ``power=1`` is a linear decay.  With ``end=0`` the rate is 0 from step :math:`T` on, which an
    optimizer rejects: train for at most :math:`T` updates.

    Parameters
    ----------
    lr0 : float
        :math:`\eta_0 > 0`.
    total_steps : int
        :math:`T \ge 1`.
    power : float, default 1.0
        :math:`p > 0`.
    end : float, default 0.0
        :math:`\eta_{\text{end}} \in [0, \eta_0]`.
    """
    lr0 = _checks.positive("lr0", lr0)
    total = _int_at_least("total_steps", total_steps, 1)
    power = _checks.positive("power", power)
    end = _checks.nonneg("end", end)
    if end > lr0:
        raise ValueError(f"end must be <= lr0 = {lr0}, got {end}")
    return Schedule(
        "polynomial",
        lambda t: (lr0 - end) * (1 - min(t, total) / total) ** power + end,
        lr0=lr0,
        total_steps=total,
        power=power,
        end=end,
    )


def cosine(lr0: float, T_max: int, eta_min: float = 0.0) -> Schedule:
    r"""Cosine annealing from :math:`\eta_0` to :math:`\eta_{\min}` in ``T_max`` steps (``CosineAnnealingLR``).

    .. math:: \eta_t = \eta_{\min} + \tfrac12 (\eta_0 - \eta_{\min}) \left(1 + \cos\frac{\pi t}{T_{\max}}\right)

    As in torch, the cosine goes on after :math:`T_{\max}` (the rate rises again, period
    :math:`2T_{\max}`); with ``eta_min=0`` the rate at step :math:`T_{\max}` is 0, which an optimizer
    rejects: train for :math:`T_{\max}` updates, or set ``eta_min > 0``.

    Parameters
    ----------
    lr0 : float
        :math:`\eta_0 > 0`.
    T_max : int
        Half-period :math:`T_{\max} \ge 1`.
    eta_min : float, default 0.0
        :math:`\eta_{\min} \ge 0`.

    References
    ----------
    Loshchilov, I., & Hutter, F. (2017). SGDR: Stochastic gradient descent with warm restarts. ICLR.
    """
    lr0 = _checks.positive("lr0", lr0)
    T_max = _int_at_least("T_max", T_max, 1)
    eta_min = _checks.nonneg("eta_min", eta_min)
    return Schedule(
        "cosine",
        lambda t: eta_min + (lr0 - eta_min) * (1 + math.cos(math.pi * t / T_max)) / 2,
        lr0=lr0,
        T_max=T_max,
        eta_min=eta_min,
    )


def warmup(schedule: Callable[[int], float] | float, warmup_steps: int, start_factor: float = 1 / 3) -> Schedule:
    r"""Linear warm-up for ``warmup_steps`` steps, then ``schedule`` (restarted at its step 0).

    .. math::
        \eta_t = \begin{cases}
            \eta^{s}_0 \left(f + (1-f)\,\dfrac{t}{W}\right) & t < W \\
            \eta^{s}_{t-W} & t \ge W
        \end{cases}

    where :math:`\eta^{s}` is the wrapped schedule and :math:`f` = ``start_factor``.  This is
    torch's ``SequentialLR([LinearLR(start_factor, total_iters=W), S], milestones=[W])``.  Warm-up
    keeps the first, large and unreliable, steps of adaptive methods and large-batch training small.

    Parameters
    ----------
    schedule : callable or float
        The schedule after warm-up (a number means a constant rate).
    warmup_steps : int
        :math:`W \ge 1`.
    start_factor : float, default 1/3
        :math:`f \in (0, 1]` (torch's ``LinearLR`` default).

    References
    ----------
    Goyal, P., et al. (2017). Accurate, large minibatch SGD: Training ImageNet in 1 hour. arXiv:1706.02677.
    """
    after = schedule if callable(schedule) else constant(schedule)
    W = _int_at_least("warmup_steps", warmup_steps, 1)
    f = _checks.finite("start_factor", start_factor)
    if not 0 < f <= 1:
        raise ValueError(f"start_factor must be in (0, 1], got {start_factor}")

    def formula(t: int) -> float:
        return after(0) * (f + (1 - f) * t / W) if t < W else after(t - W)

    return Schedule("warmup", formula, schedule=after, warmup_steps=W, start_factor=f)


def one_cycle(
    max_lr: float,
    total_steps: int,
    pct_start: float = 0.3,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
) -> Schedule:
    r"""The 1cycle policy: a cosine rise to ``max_lr``, then a cosine fall far below the start (``OneCycleLR``).

    With :math:`T` = ``total_steps``, :math:`p` = ``pct_start``, the rates
    :math:`\eta_{\text{start}} = \eta_{\max}/d` and :math:`\eta_{\text{end}} = \eta_{\text{start}}/d_f`, and the
    end of the rise :math:`W = pT - 1`:

    .. math::
        \eta_t = \begin{cases}
            \eta_{\max} + \tfrac12 (\eta_{\text{start}} - \eta_{\max}) \left(1 + \cos\dfrac{\pi t}{W}\right)
                & t \le W \\
            \eta_{\text{end}} + \tfrac12 (\eta_{\max} - \eta_{\text{end}})
                \left(1 + \cos\dfrac{\pi (t - W)}{T - 1 - W}\right) & W < t \le T - 1
        \end{cases}

    so (for :math:`pT > 1`) :math:`\eta_0 = \eta_{\max}/d`, the peak :math:`\eta_{\max}` is reached at
    step :math:`W` when :math:`W` is an integer, and (for :math:`p < 1`) the last update,
    :math:`t = T-1`, uses :math:`\eta_{\text{end}}`.  (With :math:`pT < 1` there is no rise: the fall
    starts before step 0.)  This is
    ``torch.optim.lr_scheduler.OneCycleLR(max_lr, total_steps, pct_start, anneal_strategy="cos",
    div_factor, final_div_factor, three_phase=False, cycle_momentum=False)`` stepped once per
    update.  The schedule covers exactly :math:`T` updates: a step :math:`t \ge T` raises
    ``ValueError`` (torch raises one step later).  The short warm-up lets a large :math:`\eta_{\max}`
    be used without diverging at the start; the long fall ends with small, precise steps.

    Parameters
    ----------
    max_lr : float
        The peak rate :math:`\eta_{\max} > 0`.
    total_steps : int
        :math:`T \ge 1`, the number of updates of the run.
    pct_start : float, default 0.3
        :math:`p \in [0, 1]`, the fraction of the steps spent rising (:math:`pT = 1` is refused: the
        rise would end at step 0, where the formula is :math:`0/0`).
    div_factor : float, default 25.0
        :math:`d > 0`: the first rate is :math:`\eta_{\max}/d`.
    final_div_factor : float, default 1e4
        :math:`d_f > 0`: the last rate is :math:`\eta_{\max}/(d\,d_f)`.

    References
    ----------
    Smith, L. N., & Topin, N. (2019). Super-convergence: Very fast training of neural networks using large
    learning rates. Proc. SPIE 11006.
    """
    max_lr = _checks.positive("max_lr", max_lr)
    T = _int_at_least("total_steps", total_steps, 1)
    p = _checks.finite("pct_start", pct_start)
    if not 0 <= p <= 1:
        raise ValueError(f"pct_start must be in [0, 1], got {pct_start}")
    d = _checks.positive("div_factor", div_factor)
    d_f = _checks.positive("final_div_factor", final_div_factor)
    W = float(p * T) - 1  # the end of the rise, as torch computes it (may be fractional or negative)
    if W == 0:
        raise ValueError(
            f"pct_start * total_steps = {p * T:g} puts the whole rise at step 0, where the formula is 0/0 (torch's "
            "OneCycleLR fails there too); choose pct_start so that pct_start * total_steps is not 1"
        )
    start = max_lr / d
    end = start / d_f

    def anneal(high: float, low: float, fraction: float) -> float:  # from high at 0 to low at 1
        return low + (high - low) * (1 + math.cos(math.pi * fraction)) / 2

    def formula(t: int) -> float:
        if t >= T:
            raise ValueError(f"one_cycle covers total_steps={T} updates (steps 0 to {T - 1}), got step {t}")
        if t <= W:
            return anneal(start, max_lr, t / W)
        return anneal(max_lr, end, (t - W) / (T - 1 - W))

    return Schedule(
        "one_cycle",
        formula,
        max_lr=max_lr,
        total_steps=T,
        pct_start=p,
        div_factor=d,
        final_div_factor=d_f,
    )


class ReduceOnPlateau:
    r"""Divide the rate by ``1/factor`` when the loss has stopped improving (``ReduceLROnPlateau``).

    Unlike the other schedules it depends on the loss, so it holds state: call
    :meth:`observe` with the loss after each step (or epoch); ``schedule(step)`` returns the current
    rate whatever ``step`` is.  Use a fresh one for each training run.

    The loss :math:`\ell` improves on the best so far, :math:`\ell^*`, when (``mode="min"``)
    :math:`\ell < \ell^*(1 - \tau)` (``threshold_mode="rel"``) or :math:`\ell < \ell^* - \tau`
    (``"abs"``); ``mode="max"`` flips the comparisons for a metric to maximise.  After more than
    ``patience`` observations without improvement,

    .. math:: \eta \leftarrow \max(\gamma\,\eta,\ \eta_{\min})

    (skipped when the change would be smaller than ``eps``), and no reduction happens for the next
    ``cooldown`` observations.  A NaN loss never improves (as in torch).

    Parameters
    ----------
    lr0 : float
        Initial rate :math:`\eta_0 > 0`.
    mode : {"min", "max"}, default "min"
        Whether the observed quantity should decrease or increase.
    factor : float, default 0.1
        :math:`\gamma \in (0, 1)`.
    patience : int, default 10
        Observations without improvement tolerated before reducing (``>= 0``).
    threshold : float, default 1e-4
        :math:`\tau \ge 0`, the least improvement that counts.
    threshold_mode : {"rel", "abs"}, default "rel"
        Relative or absolute threshold.
    cooldown : int, default 0
        Observations to wait after a reduction before counting again (``>= 0``).
    min_lr : float, default 0.0
        :math:`\eta_{\min} \ge 0`.
    eps : float, default 1e-8
        Smallest change of the rate that is applied.

    Attributes
    ----------
    lr : float
        The current rate.
    best : float
        Best loss so far.
    num_bad_steps : int
        Observations since the last improvement.

    Examples
    --------
    >>> plateau = ReduceOnPlateau(0.1, patience=2)
    >>> [plateau.observe(loss) for loss in [3.0, 2.0, 2.0, 2.0, 2.0]]
    [0.1, 0.1, 0.1, 0.1, 0.010000000000000002]
    >>> plateau(123)
    0.010000000000000002
    """

    def __init__(
        self,
        lr0: float,
        *,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float = 0.0,
        eps: float = 1e-8,
    ) -> None:
        self.lr0 = _checks.positive("lr0", lr0)
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        self.mode = mode
        self.threshold_mode = threshold_mode
        self.factor = _checks.finite("factor", factor)
        if not 0 < self.factor < 1:
            raise ValueError(f"factor must be in (0, 1), got {factor}")
        self.patience = _int_at_least("patience", patience, 0)
        self.threshold = _checks.nonneg("threshold", threshold)
        self.cooldown = _int_at_least("cooldown", cooldown, 0)
        self.min_lr = _checks.nonneg("min_lr", min_lr)
        self.eps = _checks.nonneg("eps", eps)
        self.reset()

    def reset(self) -> None:
        """Start again from ``lr0``, forgetting every observed loss."""
        self.lr = self.lr0
        self.best = math.inf if self.mode == "min" else -math.inf
        self.num_bad_steps = 0
        self.cooldown_counter = 0

    def __call__(self, step: int) -> float:
        """The current rate (``step`` is checked but otherwise ignored)."""
        _check_step(step)
        return self.lr

    def __repr__(self) -> str:
        return (
            f"ReduceOnPlateau(lr0={self.lr0!r}, mode={self.mode!r}, factor={self.factor!r}, "
            f"patience={self.patience!r}, threshold={self.threshold!r}, threshold_mode={self.threshold_mode!r}, "
            f"cooldown={self.cooldown!r}, min_lr={self.min_lr!r}, eps={self.eps!r}; lr={self.lr!r})"
        )

    def _improves(self, loss: float) -> bool:
        sign = 1.0 if self.mode == "min" else -1.0
        if self.threshold_mode == "rel":
            return sign * loss < sign * self.best * (1 - sign * self.threshold)
        return sign * loss < sign * self.best - self.threshold

    def observe(self, loss: Any) -> float:
        """Record the latest loss (a number or a 0-d array on any backend); return the rate for the next step."""
        from gdcourse.backend import to_numpy

        try:
            value = float(to_numpy(loss))
        except (TypeError, ValueError):
            raise TypeError(f"loss must be a number or a 0-d array, got {type(loss).__name__}") from None
        if self._improves(value):
            self.best = value
            self.num_bad_steps = 0
        else:
            self.num_bad_steps += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_steps = 0  # bad steps during cooldown do not count
        if self.num_bad_steps > self.patience:
            new_lr = max(self.lr * self.factor, self.min_lr)
            if self.lr - new_lr > self.eps:
                self.lr = new_lr
            self.cooldown_counter = self.cooldown
            self.num_bad_steps = 0
        return self.lr


def reduce_on_plateau(lr0: float, **options: Any) -> ReduceOnPlateau:
    r"""Make a :class:`ReduceOnPlateau` schedule (same arguments).

    Parameters
    ----------
    lr0 : float
        Initial rate :math:`\eta_0 > 0`.
    **options
        The keyword arguments of :class:`ReduceOnPlateau` (``mode``, ``factor``, ``patience``,
        ``threshold``, ``threshold_mode``, ``cooldown``, ``min_lr``, ``eps``).

    Returns
    -------
    ReduceOnPlateau
    """
    return ReduceOnPlateau(lr0, **options)


SCHEDULES: dict[str, Callable[..., Any]] = {
    f.__name__: f
    for f in (
        constant,
        step_decay,
        multistep,
        exponential,
        inverse_time,
        polynomial,
        cosine,
        warmup,
        one_cycle,
        reduce_on_plateau,
    )
}


def get(name: str, *args: Any, **kwargs: Any) -> Schedule | ReduceOnPlateau:
    """Make a schedule by name, e.g. ``get("cosine", 0.1, T_max=100)``; unknown names list the known ones.

    Parameters
    ----------
    name : str
        One of :data:`SCHEDULES`: the name of a function of this module, e.g. ``"one_cycle"``.
    *args
        Positional arguments of that function.
    **kwargs
        Keyword arguments of that function.

    Returns
    -------
    Schedule or ReduceOnPlateau

    Raises
    ------
    ValueError
        For an unknown name (the message lists the known ones).
    """
    if name not in SCHEDULES:
        raise ValueError(f"unknown schedule {name!r}; known schedules: {', '.join(SCHEDULES)}")
    return SCHEDULES[name](*args, **kwargs)


# ----------------------------------------------------------------------------------------------
# Validation
# ----------------------------------------------------------------------------------------------


def _check_step(step: Any) -> int:
    try:
        k = operator.index(step)
    except TypeError:
        raise TypeError(f"step must be an integer, got {type(step).__name__}") from None
    if k < 0 or isinstance(step, bool):
        raise ValueError(f"step must be a non-negative integer, got {step!r}")
    return k





def _factor(name: str, value: Any) -> float:
    v = _checks.finite(name, value)
    if not 0 < v <= 1:
        raise ValueError(f"{name} must be in (0, 1], got {value}")
    return v


def _int_at_least(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    try:
        v = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}") from None
    if v < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value}")
    return v
