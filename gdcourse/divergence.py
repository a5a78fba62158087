r"""Divergence: one decision, and one wording, for every training loop of the course.

Every loop of :mod:`gdcourse` (:func:`~gdcourse.descent.minimize` and Newton's method,
:func:`~gdcourse.stochastic.sgd_run`, the estimators of :mod:`gdcourse.models`,
:class:`~gdcourse.train.Trainer`, :func:`~gdcourse.precision.train_linear`, the learning-rate range
test) and :func:`~gdcourse.monitoring.diagnose` ask this module the same questions, so the same
history gets the same verdict and the same explanation wherever it was recorded:

* :func:`check_data` -- before the run: NaN or inf **in the data** (or in :math:`\theta_0`) is refused
  with a :class:`ValueError` that names the argument, counts the bad values and gives the first one's
  position.  A loop never has to guess afterwards whether the data broke it.
* :func:`classify` -- at every recorded step: is the run broken, and if so, why?  ``None`` while the
  cost :math:`J_t` is finite, the parameters are finite and :math:`|J_t| \le` ``factor``
  :math:`\cdot\max(1, |J_0|)`; otherwise a :class:`Divergence` naming the step and the cause.
* :func:`check_end` / :func:`warn_if_unstable` -- at the end of the budget: a run that neither converged
  nor diverged past the bound but ends far above its start (an adaptive rule with a huge :math:`\eta`
  rattling around) is flagged with an :class:`UnstableRunWarning`.

The rules of the decision, in the order they are tried (:math:`J_0` the first cost, "before" the
finite costs before the break; *grew* means the last finite cost is more than 25% above the lowest
one before it, :math:`J_{\text{last}} - J_{\min} > 0.25\,|J_{\min}|`; for a history of 16 or more
costs both sides are means over windows of :math:`w = \min(8, \lfloor n/8\rfloor)` costs and the rise
must also clear three standard errors of the step-to-step noise, so that the noise of minibatch losses
is not taken for growth: :func:`grew`):

===================================================================  =================  =======================
what the history shows                                               cause              the message says
===================================================================  =================  =======================
NaN/inf in ``X``, ``y`` or :math:`\theta_0` (before the run)         ``data``           argument, count, where
:math:`|J_t| > \text{factor}\cdot\max(1,|J_0|)`, :math:`J_t` finite  ``learning_rate``  grew past the bound
the cost grew, then turned non-finite (or the parameters did)        ``learning_rate``  grew, then broke
the optimizer's ``eps`` is below the dtype's smallest normal         ``numerical``      eps too small: 0/0
parameters (or gradient) non-finite, the cost still finite           ``numerical``      the update made NaN
the cost is non-finite at the first step, before any update          ``numerical``      the model or the loss
one finite cost, then non-finite at once (too fast to see)           ``learning_rate``  and what else to check
falling or flat, then non-finite in one step                         ``numerical``      log 0, 0/0, exp
the budget ends with :math:`J > J_0 + 9|J_0|`                        ``grew``           a warning, not an error
===================================================================  =================  =======================

The message is ``"diverged at <where>: <detail>"``: ``where`` is the loop's own name for the step
(``"step 7"``, ``"update 12 (epoch 1, B=64)"``, ``"epoch 3"``), followed by ``with η=…`` when the
learning rate is blamed; ``detail`` -- the evidence, the cause and the advice -- is the same text for
the same history whichever loop, or :func:`~gdcourse.monitoring.diagnose`, produced it.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from gdcourse.backend import array_namespace, to_numpy

__all__ = [
    "CAUSES",
    "DIVERGENCE_FACTOR",
    "Divergence",
    "UnstableRunWarning",
    "check_data",
    "check_end",
    "check_options",
    "classify",
    "grew",
    "nonfinite_summary",
    "optimizer_eps",
    "smallest_normal",
    "warn_if_unstable",
]

#: The causes a :class:`Divergence` can name.
CAUSES = ("data", "numerical", "learning_rate", "grew")

#: Default bound: divergence when :math:`|J_t| > 10^6 \max(1, |J_0|)`.
DIVERGENCE_FACTOR = 1e6

#: "The cost grew": its last finite value is more than this fraction above the lowest one before it.
RISE = 0.25

#: :func:`check_end` flags a run that ends above this multiple of a positive start.
END_RATIO = 10.0

_LR_REASON = "the learning rate is too large for the curvature: every step overshoots by more than it gains"
_LR_ADVICE = (
    "try a smaller learning rate (10 times smaller; on a quadratic with largest curvature L, gradient descent "
    "needs η < 2/L, and η < 2(1+β)/L with momentum β, whatever the batch size)"
)
_NUMERICAL = "the log of a probability that rounded to 0 or 1, a division 0/0, or an exp that overflowed"
_NUMERICAL_ADVICE = (
    "compute the loss from the logits with a stable formula (log-sum-exp, softplus), add a small epsilon where "
    "you divide or take a log, and check the gradient (gdcourse.gradcheck); lowering the learning rate will not cure it"
)


class UnstableRunWarning(UserWarning):
    """A run used its whole budget and ended with its cost far above its start (see :func:`check_end`)."""


@dataclass(frozen=True)
class Divergence:
    """The verdict on a broken (or unstable) run: where, why, and what to do.

    Attributes
    ----------
    step : int
        The loop's number of the step where it was detected.
    cause : str
        One of :data:`CAUSES`: ``"numerical"``, ``"learning_rate"`` (:func:`classify`) or ``"grew"``
        (:func:`check_end`); ``"data"`` is reported by :func:`check_data` before a run.
    evidence : str
        What the costs show, with numbers.
    reason : str
        The cause in words.
    advice : str
        What to try.
    where : str
        The loop's name for the step (``"step 7"``, ``"epoch 3"``, ...).
    lr : float or None
        The learning rate of the last update, shown when the learning rate is blamed.
    """

    step: int
    cause: str
    evidence: str
    reason: str
    advice: str
    where: str
    lr: float | None = None

    @property
    def detail(self) -> str:
        """Evidence, cause and advice: the same text for the same history in every loop."""
        return f"{self.evidence}. {self.reason[:1].upper()}{self.reason[1:]}; {self.advice}."

    @property
    def message(self) -> str:
        """``"diverged at <where> [with η=…]: <detail>"`` (``"unstable run, ended at …"`` for ``"grew"``)."""
        verb = "unstable run, ended at" if self.cause == "grew" else "diverged at"
        blamed = self.cause in ("learning_rate", "grew") and self.lr is not None and math.isfinite(self.lr)
        eta = f" with η={self.lr:.3g}" if blamed else ""
        return f"{verb} {self.where}{eta}: {self.detail}"

    def __str__(self) -> str:
        return self.message


# ----------------------------------------------------------------------------------------------
# Before the run: the data and the options
# ----------------------------------------------------------------------------------------------


def _position(host: np.ndarray, flat_index: int) -> str:
    if host.ndim == 0:
        return ""
    index = np.unravel_index(flat_index, host.shape)
    if host.ndim == 1:
        return f" (first at index {index[0]})"
    if host.ndim == 2:
        return f" (first at row {index[0]}, column {index[1]})"
    return f" (first at index {tuple(int(i) for i in index)})"


def check_data(name: str, array: Any, *, fix: str = "clean or impute the data before training") -> None:
    """Refuse NaN or inf in ``array`` with a :class:`ValueError` naming ``name``, the count and the first position.

    ``"X holds 3 NaN values (first at row 7, column 2): clean or impute the data before training"``.
    Arrays of any array-API library are checked where they live (one reduction; the details are
    computed on the host only when something is wrong); lists and data frames through NumPy.
    Integer, boolean and non-numeric data cannot hold NaN and pass; ``None`` passes.

    Parameters
    ----------
    name : str
        The argument's name, as the user wrote it (``"X"``, ``"y_val"``, ``"theta0"``).
    array : array-like or None
        The data.
    fix : str
        What to do about it, the end of the message.
    """
    where = nonfinite_summary(array)
    if where is not None:
        raise ValueError(f"{name} holds {where}: {fix}")


def nonfinite_summary(array: Any) -> str | None:
    """``"3 NaN values (first at row 7, column 2)"`` for an array holding NaN or inf, else ``None``.

    Arrays of any array-API library are checked where they live (one reduction); lists through
    NumPy; integer, boolean, non-numeric data and ``None`` give ``None``.
    """
    if array is None:
        return None
    try:
        xp = array_namespace(array)
    except TypeError:
        try:
            array = np.asarray(array)
        except (TypeError, ValueError):
            return None  # ragged or otherwise not numeric: other checks name the problem
        xp = np
    if not xp.isdtype(array.dtype, ("real floating", "complex floating")):
        return None
    if bool(xp.all(xp.isfinite(array))):
        return None
    host = np.asarray(to_numpy(array))
    n_nan, n_inf = int(np.count_nonzero(np.isnan(host))), int(np.count_nonzero(np.isinf(host)))
    parts = [f"{n} {what} value{'s' if n != 1 else ''}" for n, what in ((n_nan, "NaN"), (n_inf, "infinite")) if n]
    first = int(np.flatnonzero(~np.isfinite(host))[0])
    return f"{' and '.join(parts)}{_position(host, first)}"


def check_options(divergence_factor: Any, on_divergence: Any) -> float:
    """Check a loop's divergence options; return the factor as a float.

    Parameters
    ----------
    divergence_factor : float
        The bound's factor, a number greater than 1 (``inf`` switches the bound off).
    on_divergence : {"raise", "stop"}
        Raise :class:`~gdcourse.descent.DivergenceError` or stop and return the history.
    """
    if not isinstance(on_divergence, str) or on_divergence not in ("raise", "stop"):
        raise ValueError(f"on_divergence must be 'raise' or 'stop', got {on_divergence!r}")
    if isinstance(divergence_factor, bool) or not isinstance(divergence_factor, int | float | np.integer | np.floating):
        raise TypeError(f"divergence_factor must be a number greater than 1, got {type(divergence_factor).__name__}")
    if not divergence_factor > 1:
        raise ValueError(f"divergence_factor must be greater than 1, got {divergence_factor!r}")
    return float(divergence_factor)


def optimizer_eps(optimizer: Any) -> float | None:
    r"""The :math:`\epsilon` of an adaptive rule of :mod:`gdcourse.optim` (``None`` for rules without one)."""
    hyper = getattr(optimizer, "hyperparams", None)
    eps = hyper.get("eps") if isinstance(hyper, dict) else None
    return float(eps) if isinstance(eps, int | float) and not isinstance(eps, bool) else None


def smallest_normal(dtype: Any) -> float:
    r"""The smallest positive normal number of a floating dtype: :math:`2^{e_{\min}}`.

    float16: :math:`6.1\times10^{-5}`, float32: :math:`1.2\times10^{-38}`, float64: :math:`2.2\times10^{-308}`.
    ``dtype`` is a name (``"float16"``) or a dtype of any library; an unknown one counts as float64.
    """
    name = dtype if isinstance(dtype, str) else str(getattr(dtype, "name", dtype))
    name = name.rsplit(".", 1)[-1]  # "torch.float16" -> "float16"
    try:
        return float(np.finfo(name).tiny)
    except (TypeError, ValueError):
        return float(np.finfo(np.float64).tiny)


def _dtype_name(dtype: Any) -> str:
    if dtype is None:
        return "float64"
    name = dtype if isinstance(dtype, str) else str(getattr(dtype, "name", dtype))
    return name.rsplit(".", 1)[-1]


# ----------------------------------------------------------------------------------------------
# During the run: the decision
# ----------------------------------------------------------------------------------------------


def grew(finite: Sequence[float]) -> tuple[float, float, int] | None:
    r"""Whether a run of finite costs grew at its end: ``(lowest level, last level, window)``, else ``None``.

    For fewer than 16 costs a level is one cost, and the last one grew when it is more than
    :data:`RISE` above the lowest before it: :math:`J_{\text{last}} - J_{\min} > 0.25\,|J_{\min}|`.

    For 16 or more (minibatch losses, which jump from step to step) a level is the mean of a window of
    :math:`w = \min(8, \lfloor n/8\rfloor)` consecutive costs, and the last level must also clear the noise:
    :math:`\bar J_{\text{last}} - \bar J_{\min} > \max(0.25\,|\bar J_{\min}|,\ 3\,\hat s\sqrt{2/w})`, with
    :math:`\hat s` the step-to-step noise estimated from the differences of successive costs
    (:math:`1.4826\,\mathrm{MAD}/\sqrt2`, robust to the jump that ends the run).  A noisy loss 25% above the
    best one is noise; a run that blows up clears both bars by orders of magnitude.
    """
    n = len(finite)
    window = 1 if n < 16 else min(8, n // 8)
    if n < window + 1:
        return None
    values = np.asarray(finite, dtype=np.float64)
    levels = np.convolve(values, np.ones(window) / window, mode="valid")  # means of consecutive windows
    high, earlier = float(levels[-1]), levels[: len(levels) - window]
    if earlier.size == 0:
        return None
    low = float(np.min(earlier))
    bar = RISE * abs(low)
    if window > 1:
        steps = np.diff(values)
        noise = 1.4826 * float(np.median(np.abs(steps - np.median(steps)))) / math.sqrt(2)
        bar = max(bar, 3 * noise * math.sqrt(2 / window))
    return (low, high, window) if high - low > bar else None


class _Finding(NamedTuple):
    """The part of a :class:`Divergence` that the history decides: the cause and its explanation."""

    cause: str
    evidence: str
    reason: str
    advice: str


def classify(
    losses: Any,
    params_finite: bool = True,
    step: int | None = None,
    lr: float | None = None,
    dtype: Any = None,
    *,
    eps: float | None = None,
    factor: float = DIVERGENCE_FACTOR,
    unit: str = "step",
    where: str | None = None,
    hint: str | None = None,
) -> Divergence | None:
    r"""Decide whether a run is broken and why (rules in the module docstring).

    Cheap when nothing is wrong (the last cost is compared with the bound), so loops call it at
    every recorded step.

    Parameters
    ----------
    losses : sequence of float
        The costs recorded so far, :math:`J_0` first and the newest last; a loop stops at the first
        broken one, so only the last may be non-finite.
    params_finite : bool
        Whether the parameters (or the gradient about to update them) are finite.
    step : int, optional
        The loop's number of the newest cost; default ``len(losses) - 1`` (:math:`J_t` after ``t`` updates).
    lr : float, optional
        The learning rate of the last update (shown as ``with η=…`` when it is blamed).
    dtype : str or dtype, optional
        The dtype of the parameters or the optimizer state (for the ``eps`` rule); default float64.
    eps : float, optional
        The optimizer's :math:`\epsilon` (:func:`optimizer_eps`), for adaptive rules.
    factor : float
        The bound :math:`|J_t| \le` ``factor`` :math:`\cdot\max(1, |J_0|)`; ``inf`` checks finiteness only.
    unit : str
        The loop's word for what ``losses`` counts (``"step"``, ``"epoch"``, ``"update"``).
    where : str, optional
        The loop's name for the step; default ``f"{unit} {step}"``.
    hint : str, optional
        A sentence of the loop's own added to the message when the learning rate is blamed.

    Returns
    -------
    Divergence or None
    """
    last, start = float(losses[-1]), float(losses[0])
    bound = factor * max(1.0, abs(start))
    if params_finite and math.isfinite(last) and abs(last) <= bound:
        return None
    step = len(losses) - 1 if step is None else int(step)
    where = f"{unit} {step}" if where is None else where
    finding = _diagnose(losses, factor, bound, unit, dtype, eps)
    advice = finding.advice
    if hint and finding.cause == "learning_rate":
        advice = f"{advice}. {hint.rstrip('.')}"
    return Divergence(step, finding.cause, finding.evidence, finding.reason, advice, where, lr)


def _diagnose(losses: Any, factor: float, bound: float, unit: str, dtype: Any, eps: float | None) -> _Finding:
    """The rules of the module docstring's table, in its order, for a history that :func:`classify` found broken."""
    values = [float(v) for v in losses]
    start, last = values[0], values[-1]
    n_finite = next((i for i, v in enumerate(values) if not math.isfinite(v)), len(values))
    finite = values[:n_finite]
    blamed = _past_the_bound(start, last, factor, bound) or _grew_then_broke(finite, last, unit)
    if blamed is not None:
        return blamed
    evidence = _how_it_broke(start, last, finite, unit)
    return _eps_too_small(evidence, dtype, eps) or _broke_without_growing(evidence, last, finite)


def _past_the_bound(start: float, last: float, factor: float, bound: float) -> _Finding | None:
    """A finite cost past the bound: the learning rate."""
    if not (math.isfinite(last) and abs(last) > bound):
        return None
    return _Finding(
        "learning_rate",
        f"the cost grew from {start:.3g} to {last:.3g}, past the bound {factor:.3g}·max(1, |J₀|) = {bound:.3g}",
        _LR_REASON,
        _LR_ADVICE,
    )


def _grew_then_broke(finite: list[float], last: float, unit: str) -> _Finding | None:
    """The finite costs grew (:func:`grew`), then the cost or the parameters broke: the learning rate."""
    growth = grew(finite)
    if growth is None:
        return None
    low, high, window = growth
    averaged = f" (means over {window} {unit}s)" if window > 1 else ""
    broken = "the parameters stopped being finite" if math.isfinite(last) else f"became {last}"
    return _Finding(
        "learning_rate",
        f"the cost grew from {low:.3g} to {high:.3g}{averaged} and then {broken}",
        _LR_REASON,
        _LR_ADVICE,
    )


def _how_it_broke(start: float, last: float, finite: list[float], unit: str) -> str:
    """The evidence of a break that no growth explains, in words."""
    if math.isfinite(last):
        return f"the parameters stopped being finite while the cost was still finite ({last:.3g})"
    if not finite:
        return f"the cost is {last} at the first {unit}, before any update"
    if len(finite) == 1:
        return f"the cost went from {start:.3g} to {last} in one {unit}, too fast to see it grow"
    return (
        f"the cost became {last} without growing first (it went from {finite[0]:.3g} to {finite[-1]:.3g} "
        f"over {len(finite)} {unit}s)"
    )


def _eps_too_small(evidence: str, dtype: Any, eps: float | None) -> _Finding | None:
    r"""An adaptive rule's :math:`\epsilon` below the dtype's smallest normal: 0/0 in the update."""
    name = _dtype_name(dtype)
    tiny = smallest_normal(name)
    if eps is None or not eps < tiny:
        return None
    return _Finding(
        "numerical",
        evidence,
        f"a numerical problem, not the learning rate: the optimizer's eps={eps:g} is too small for {name} "
        f"(its smallest normal number is {tiny:.2g}), so where a gradient entry is 0 (a constant or all-zero "
        "feature, or a gradient that underflowed) the adaptive step divides 0 by 0 and gives NaN",
        "give the optimizer an eps the dtype can hold (the default 1e-8 suits float32 and float64; float16 "
        "needs about 1e-4), or keep the optimizer state in float32",
    )


def _broke_without_growing(evidence: str, last: float, finite: list[float]) -> _Finding:
    """The last rows of the table: what broke, told by when it broke."""
    if math.isfinite(last):
        return _Finding(
            "numerical",
            evidence,
            "the update itself produced NaN or inf, a numerical problem, not the learning rate: a gradient that is "
            "NaN or overflowed, or 0/0 inside the update rule",
            "check the gradient for NaN and inf (gdcourse.gradcheck) and the update rule's divisions; lowering the "
            "learning rate will not cure it",
        )
    if not finite:
        return _Finding(
            "numerical",
            evidence,
            f"the model or the loss produces it by itself, a numerical problem, not the learning rate: {_NUMERICAL}",
            _NUMERICAL_ADVICE,
        )
    if len(finite) == 1:
        return _Finding(
            "learning_rate",
            evidence,
            _LR_REASON,
            f"{_LR_ADVICE}; if a much smaller one breaks the same way, look for a numerical problem instead "
            "(a NaN gradient, the log of 0, a division 0/0)",
        )
    return _Finding(
        "numerical",
        evidence,
        f"a cost that breaks without growing first points at a numerical problem, not at the learning rate: "
        f"{_NUMERICAL}",
        _NUMERICAL_ADVICE,
    )


# ----------------------------------------------------------------------------------------------
# At the end of the budget: a run that ended far above its start
# ----------------------------------------------------------------------------------------------


def check_end(
    start: float,
    end: float,
    *,
    step: int,
    lr: float | None = None,
    ratio: float = END_RATIO,
    unit: str = "step",
    where: str | None = None,
    hint: str | None = None,
) -> Divergence | None:
    r"""Flag a run that used its whole budget and ended far above its start.

    .. math:: J_{\text{end}} > J_0 \quad\text{and}\quad J_{\text{end}} - J_0 > (\text{ratio} - 1)\,|J_0|

    (for a positive start: :math:`J_{\text{end}} > \text{ratio}\cdot J_0`).  Such a run neither converged
    nor crossed the divergence bound: typically an adaptive rule (RMSprop, Adam) whose huge :math:`\eta`
    keeps every parameter rattling about :math:`\eta` away from the minimum.

    Parameters
    ----------
    start, end : float
        :math:`J_0` and the last cost.
    step : int
        The loop's number of the last step.
    lr : float, optional
        The learning rate of the last update.
    ratio : float
        How far above the start counts (10 by default).
    unit, where, hint : str, optional
        As for :func:`classify`.

    Returns
    -------
    Divergence or None
        A verdict with ``cause="grew"``, or ``None``.
    """
    start, end = float(start), float(end)
    if not (math.isfinite(start) and math.isfinite(end) and end > start and end - start > (ratio - 1) * abs(start)):
        return None
    times = f", {end / start:.3g} times its start ({start:.3g})" if start > 0 else f", above its start ({start:.3g})"
    advice = _LR_ADVICE if not hint else f"{_LR_ADVICE}. {hint.rstrip('.')}"
    return Divergence(
        int(step),
        "grew",
        f"the cost is {end:.3g} at the end{times}",
        "the run neither converged nor diverged past the bound: the learning rate is too large, so the steps keep "
        "overshooting (adaptive rules such as Adam and RMSprop move each parameter by about η per step, however "
        "small its gradient)",
        advice,
        f"{unit} {int(step)}" if where is None else where,
        lr,
    )


def warn_if_unstable(start: float, end: float, *, stacklevel: int = 2, **options: Any) -> Divergence | None:
    """:func:`check_end`, and an :class:`UnstableRunWarning` with its message when it flags the run.

    Parameters
    ----------
    start, end : float
        :math:`J_0` and the last cost of the run.
    stacklevel : int
        Which frame the warning points at, counted from the caller of this function (2, the default: the
        caller's caller, the user's line), as in :func:`warnings.warn`.
    **options
        ``step`` (required), ``lr``, ``ratio``, ``unit``, ``where`` and ``hint``, passed to :func:`check_end`.

    Returns
    -------
    Divergence or None
        The verdict of :func:`check_end` (``cause="grew"``), also issued as the warning; ``None`` when the run
        ended near or below its start.
    """
    verdict = check_end(start, end, **options)
    if verdict is not None:
        warnings.warn(verdict.message, UnstableRunWarning, stacklevel=stacklevel + 1)
    return verdict
