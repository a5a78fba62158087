r"""Floating-point precision in training: float16, float32, float64, mixed precision and loss scaling.

A floating-point number with a ``p``-bit significand (the implicit leading bit included) and an
exponent range :math:`[e_{\min}, e_{\max}]` has

.. math::
    \varepsilon = 2^{1-p}, \qquad x_{\max} = (2 - 2^{1-p})\, 2^{e_{\max}}, \qquad
    x_{\min}^{\text{normal}} = 2^{e_{\min}}, \qquad x_{\min}^{\text{subnormal}} = 2^{e_{\min} + 1 - p},

and neighbouring numbers near :math:`x` are about :math:`\varepsilon|x|` apart (the *ulp*, unit in the
last place).  For IEEE half precision (float16: :math:`p = 11`, :math:`e_{\max} = 15`,
:math:`e_{\min} = -14`) that is :math:`\varepsilon \approx 9.8\times10^{-4}`, :math:`x_{\max} = 65504`,
:math:`x_{\min}^{\text{normal}} \approx 6.1\times10^{-5}` and
:math:`x_{\min}^{\text{subnormal}} \approx 6.0\times10^{-8}`.
Three things go wrong when training in it:

* **small updates round away** — :math:`\theta - \eta g` rounds back to :math:`\theta` when
  :math:`|\eta g|` is below half the gap between :math:`\theta` and its neighbour (about
  :math:`\mathrm{ulp}(\theta)/2`): :func:`apply_step`, :func:`update_lost`, :func:`ulp`;
* **overflow** — anything above 65504 becomes ``inf`` (and ``inf - inf`` becomes NaN);
* **underflow** — values below :math:`6\times10^{-8}` become 0, and between that and
  :math:`6.1\times10^{-5}` (the *subnormals*) they keep fewer significant bits
  (:func:`rounding_error`, :func:`cast_outcome`).

**Mixed precision** (Micikevicius et al., *Mixed Precision Training*, ICLR 2018) keeps the forward
and backward passes in float16 and fixes the problems with three techniques, all options of
:func:`train_linear` (full-batch gradient descent on a linear regression with several outputs, the
model notebook 11 uses; :func:`regression_data` makes its data, with small targets so that float16
gradients underflow):

1. a float32 **master copy** of the weights receives the updates (so small updates are not lost),
   and a float16 copy of it is made for each forward and backward pass;
2. products are **accumulated in float32** and rounded to float16 once at the end (as tensor cores do);
3. **loss scaling**: the loss is multiplied by :math:`S` before the backward pass, so every gradient is
   :math:`S` times larger and stays clear of the underflow region; the weight gradients are divided by
   :math:`S` in float32 before the update.  With *dynamic* loss scaling (:class:`DynamicLossScaler`,
   :func:`loss_scale_step`) a step whose gradients overflowed is skipped and :math:`S` is halved, and
   :math:`S` is doubled after ``growth_interval`` steps without overflow (the rule of
   ``torch.amp.GradScaler``, checked against it in the tests).

**Backends.** Everything follows the arrays it is given (array API).  float16 is not part of the array
API standard: NumPy and CuPy have it, ``array_api_strict`` does not, so the float16 parts run on NumPy
and CuPy only (asking for float16 elsewhere raises a clear error); float32 and float64 run everywhere.
Overflow while casting is *expected* here (it is what a loss scaler detects), so the functions of this
module silence NumPy's overflow warnings inside themselves.

:func:`training_memory` counts the bytes a training step of an MLP keeps: parameters, gradients,
optimizer state, master weights and the activations stored for the backward pass (the only part that
grows with the batch size).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from array_api_compat import device as _device

from gdcourse import divergence
from gdcourse.backend import array_namespace, asarray, rng, to_numpy
from gdcourse.optim import gd

__all__ = [
    "FORMATS",
    "DynamicLossScaler",
    "FloatFormat",
    "MemoryEstimate",
    "PrecisionRun",
    "apply_step",
    "cast",
    "cast_outcome",
    "float_format",
    "loss_scale_step",
    "linear_loss",
    "resolve_dtype",
    "rounding_error",
    "regression_data",
    "train_linear",
    "training_memory",
    "ulp",
    "update_lost",
]

Array = Any


# ----------------------------------------------------------------------------------------------
# Formats
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FloatFormat:
    r"""A binary floating-point format, derived from its bit layout.

    Attributes
    ----------
    name : str
        ``"float16"``, ``"bfloat16"``, ``"float32"`` or ``"float64"``.
    bits : int
        Total width: 1 sign bit + ``exponent_bits`` + (``significand_bits`` − 1) stored fraction bits.
    exponent_bits : int
        Width :math:`e` of the exponent field; :math:`e_{\max} = 2^{e-1} - 1`, :math:`e_{\min} = 1 - e_{\max}`.
    significand_bits : int
        Precision :math:`p`, counting the implicit leading 1.
    """

    name: str
    bits: int
    exponent_bits: int
    significand_bits: int

    @property
    def emax(self) -> int:
        r"""Largest exponent :math:`e_{\\max} = 2^{e-1} - 1`."""
        return 2 ** (self.exponent_bits - 1) - 1

    @property
    def emin(self) -> int:
        r"""Smallest normal exponent :math:`e_{\\min} = 1 - e_{\\max}`."""
        return 1 - self.emax

    @property
    def eps(self) -> float:
        """Machine epsilon :math:`2^{1-p}`: the gap between 1 and the next larger number."""
        return 2.0 ** (1 - self.significand_bits)

    @property
    def max(self) -> float:
        r"""Largest finite number :math:`(2 - 2^{1-p})\\,2^{e_{\\max}}`; anything above rounds to ``inf``."""
        return (2.0 - self.eps) * 2.0**self.emax

    @property
    def smallest_normal(self) -> float:
        r""":math:`2^{e_{\\min}}`: below it numbers are subnormal and keep fewer significant bits."""
        return 2.0**self.emin

    @property
    def smallest_subnormal(self) -> float:
        r""":math:`2^{e_{\\min}+1-p}`: the smallest positive number; half of it and less round to 0."""
        return 2.0 ** (self.emin + 1 - self.significand_bits)

    @property
    def decimal_digits(self) -> float:
        r"""Significant decimal digits, :math:`p \\log_{10} 2`."""
        return self.significand_bits * math.log10(2.0)

    def bytes(self) -> int:
        """Bytes per number."""
        return self.bits // 8


FORMATS: dict[str, FloatFormat] = {
    "float16": FloatFormat("float16", 16, 5, 11),
    "bfloat16": FloatFormat("bfloat16", 16, 8, 8),
    "float32": FloatFormat("float32", 32, 8, 24),
    "float64": FloatFormat("float64", 64, 11, 53),
}


def _dtype_name(dtype: Any) -> str:
    if isinstance(dtype, str):
        name = dtype
    else:
        name = getattr(dtype, "name", None) or getattr(dtype, "__name__", None) or str(dtype)
    name = str(name).rsplit(".", 1)[-1]
    return {"half": "float16", "single": "float32", "double": "float64"}.get(name, name)


def float_format(dtype: Any) -> FloatFormat:
    """The :class:`FloatFormat` of ``dtype`` (a name such as ``"float16"`` or a dtype object)."""
    name = _dtype_name(dtype)
    if name not in FORMATS:
        known = ", ".join(FORMATS)
        raise ValueError(f"dtype {dtype!r} is not a floating-point format known here; expected one of {known}")
    return FORMATS[name]


def resolve_dtype(xp: Any, dtype: Any) -> Any:
    """The dtype object of the namespace ``xp`` for ``dtype`` (a name or a dtype).

    Raises
    ------
    ValueError
        For a name that is not ``float16``, ``float32`` or ``float64``, or for ``float16`` on a library
        that has no float16 (the array API standard does not include it; ``array_api_strict`` omits it).
    """
    if not isinstance(dtype, str):
        return dtype
    if dtype not in ("float16", "float32", "float64"):
        raise ValueError(f"dtype must be 'float16', 'float32' or 'float64', got {dtype!r}")
    found = getattr(xp, dtype, None)
    if found is None:
        raise ValueError(
            f"this array library ({getattr(xp, '__name__', xp)}) has no {dtype}: float16 is not part of the "
            "array API standard; use NumPy or CuPy for half precision"
        )
    return found


def _xp_of(x: Any) -> tuple[Any, Array]:
    """Namespace of ``x`` and ``x`` as an array (numbers and lists go to the active backend as float64)."""
    try:
        return array_namespace(x), x
    except TypeError:
        arr = asarray(np.asarray(x, dtype=np.float64), dtype="float64")
        return array_namespace(arr), arr


# ----------------------------------------------------------------------------------------------
# Rounding, overflow, underflow
# ----------------------------------------------------------------------------------------------


def cast(x: Any, dtype: Any) -> Array:
    """``x`` rounded to ``dtype`` (round to nearest, ties to even); overflow gives ``±inf`` without a warning.

    Parameters
    ----------
    x : array or number
        Values (numbers and lists are put on the active backend first, as float64).
    dtype : str or dtype
        Target dtype.
    """
    xp, a = _xp_of(x)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow to inf is the behaviour being shown
        return xp.astype(a, resolve_dtype(xp, dtype))


def ulp(x: Any, dtype: Any) -> Array:
    r"""Unit in the last place: the gap between :math:`|x|` (rounded to ``dtype``) and the next larger number.

    .. math::
        \mathrm{ulp}(x) = \operatorname{nextafter}(|x|, +\infty) - |x|
        \approx \varepsilon\, 2^{\lfloor\log_2|x|\rfloor}

    It is constant on each binade :math:`[2^k, 2^{k+1})`, e.g. :math:`2^{-10}` on :math:`[1, 2)` in float16.
    """
    a = cast(x, dtype)
    xp = array_namespace(a)
    a = xp.abs(a)
    with np.errstate(over="ignore", invalid="ignore"):
        return xp.nextafter(a, xp.full_like(a, math.inf)) - a


def apply_step(theta: Any, step: Any, dtype: Any) -> Array:
    r"""The update :math:`\theta - \delta` as it comes out when both are stored in ``dtype``.

    .. math:: \theta^{+} = \mathrm{fl}\big(\mathrm{fl}(\theta) - \mathrm{fl}(\delta)\big)

    where :math:`\mathrm{fl}` rounds to ``dtype``.  When :math:`|\delta|` is below half the gap between
    :math:`\theta` and its neighbour in the direction of the step (about :math:`\mathrm{ulp}(\theta)/2`),
    :math:`\theta^{+} = \theta`: the update is lost.
    """
    xp, t = _xp_of(theta)
    s = step if hasattr(step, "shape") else xp.full_like(t, float(step))
    with np.errstate(over="ignore", invalid="ignore"):
        return cast(t, dtype) - cast(s, dtype)


def update_lost(theta: Any, step: Any, dtype: Any) -> Array:
    r"""Boolean array: where a non-zero step :math:`\delta` leaves :math:`\theta` unchanged in ``dtype``.

    .. math:: \mathrm{fl}(\theta - \delta) = \mathrm{fl}(\theta) \quad\text{and}\quad \delta \ne 0

    A sufficient condition is :math:`|\delta| < \tfrac12 \mathrm{ulp}^{-}(\theta)` with
    :math:`\mathrm{ulp}^{-}` the gap on the side the step goes to (below a power of two that gap is half
    of :func:`ulp`); at exactly half the gap the tie is rounded to the even neighbour.
    """
    xp, t = _xp_of(theta)
    s = step if hasattr(step, "shape") else xp.full_like(t, float(step))
    return (apply_step(t, s, dtype) == cast(t, dtype)) & (s != 0)


def rounding_error(x: Any, dtype: Any) -> Array:
    r"""Relative error of storing ``x`` in ``dtype``, :math:`|\mathrm{fl}(x) - x| / |x|`, computed in float64.

    At most :math:`\varepsilon/2` for normal numbers; larger for subnormals; 1 where ``x`` underflows to 0;
    ``inf`` where it overflows.  (0 for ``x = 0``.)
    """
    xp, a = _xp_of(x)
    a64 = xp.astype(a, xp.float64)
    back = xp.astype(cast(a, dtype), xp.float64)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        err = xp.abs(back - a64) / xp.abs(a64)
    return xp.where(a64 == 0, xp.zeros_like(a64), err)


def cast_outcome(value: float, dtype: Any) -> str:
    """What happens to one number stored in ``dtype``: a short phrase for tables.

    One of ``"overflow to inf"``, ``"underflow to 0"``, ``"subnormal: k significant bits"``, ``"exact"``
    or ``"rounded (relative error r)"``.  One number is described on the host, with NumPy, whatever the
    active backend (so float16 works even where the backend has none, e.g. ``array_api_strict``).
    """
    fmt = float_format(dtype)
    x = float(value)
    stored = float(cast(np.float64(x), dtype))
    if math.isinf(stored) and math.isfinite(x):
        return "overflow to inf"
    if stored == 0.0 and x != 0.0:
        return "underflow to 0"
    if 0 < abs(stored) < fmt.smallest_normal:
        bits = int(math.floor(math.log2(abs(stored) / fmt.smallest_subnormal))) + 1
        return f"subnormal: {bits} significant bit{'s' if bits != 1 else ''}"
    if stored == x:
        return "exact"
    return f"rounded (relative error {abs(stored - x) / abs(x):.1e})"


# ----------------------------------------------------------------------------------------------
# Loss scaling
# ----------------------------------------------------------------------------------------------


def loss_scale_step(
    scale: float,
    good_steps: int,
    finite: bool,
    growth_interval: int = 2000,
    growth_factor: float = 2.0,
    backoff_factor: float = 0.5,
) -> tuple[float, int, bool]:
    r"""One update of a dynamic loss scale after a backward pass.

    .. math::
        \text{gradients not finite:}\quad & S \leftarrow \beta_{\text{back}} S,\ n \leftarrow 0,
        \ \text{skip the step} \\
        \text{finite and } n + 1 = N:\quad & S \leftarrow \gamma S,\ n \leftarrow 0,\ \text{apply the step} \\
        \text{finite otherwise:}\quad & n \leftarrow n + 1,\ \text{apply the step}

    with :math:`n` the count of good steps since the last change of :math:`S`, :math:`N` the
    ``growth_interval``, :math:`\gamma` the ``growth_factor`` and :math:`\beta_{\text{back}}` the
    ``backoff_factor`` (a grown scale that is no longer a finite float is not taken).  This is the rule of
    Micikevicius et al. (2018) as implemented by ``torch.amp.GradScaler`` (defaults as there).

    Returns
    -------
    scale : float
        The scale for the next step.
    good_steps : int
        The new count :math:`n`.
    apply_step : bool
        Whether this step's (unscaled) gradients may be used; ``False`` when they overflowed.
    """
    if not finite:
        return scale * backoff_factor, 0, False
    good_steps += 1
    if good_steps >= growth_interval:
        grown = scale * growth_factor
        return (grown if math.isfinite(grown) else scale), 0, True
    return scale, good_steps, True


@dataclass
class DynamicLossScaler:
    """Dynamic loss scaling: the state of :func:`loss_scale_step` (``torch.amp.GradScaler``'s defaults).

    Attributes
    ----------
    scale : float
        The current loss scale :math:`S` (starts at ``init_scale``).
    good_steps : int
        Steps without overflow since :math:`S` last changed.
    """

    init_scale: float = 2.0**16
    growth_factor: float = 2.0
    backoff_factor: float = 0.5
    growth_interval: int = 2000
    scale: float = field(init=False)
    good_steps: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        if not (self.init_scale > 0 and math.isfinite(self.init_scale)):
            raise ValueError(f"init_scale must be a positive finite number, got {self.init_scale!r}")
        if not self.growth_factor > 1:
            raise ValueError(f"growth_factor must be greater than 1, got {self.growth_factor!r}")
        if not 0 < self.backoff_factor < 1:
            raise ValueError(f"backoff_factor must be in (0, 1), got {self.backoff_factor!r}")
        interval = self.growth_interval
        if isinstance(interval, bool) or not isinstance(interval, int) or interval < 1:
            raise ValueError(f"growth_interval must be a positive integer, got {self.growth_interval!r}")
        self.scale = float(self.init_scale)

    def update(self, finite: bool) -> bool:
        """Record whether this step's gradients were finite; return whether to apply the step."""
        self.scale, self.good_steps, apply = loss_scale_step(
            self.scale, self.good_steps, bool(finite), self.growth_interval, self.growth_factor, self.backoff_factor
        )
        return apply


# ----------------------------------------------------------------------------------------------
# A dtype-parametrised training run
# ----------------------------------------------------------------------------------------------


def regression_data(
    n_samples: int = 512,
    n_features: int = 16,
    n_outputs: int = 4,
    *,
    target_scale: float = 1e-4,
    noise: float = 0.02,
    seed: int | np.random.Generator | None = 0,
    dtype: str = "float64",
) -> tuple[Array, Array]:
    r"""A linear regression problem with several outputs and *small* targets.

    .. math:: x_i \sim \mathcal N(0, I_d), \qquad y_i = s\,\big(W_\star^\top x_i + \sigma\,\varepsilon_i\big),
              \quad (W_\star)_{jk}, \varepsilon_{ik} \sim \mathcal N(0, 1)

    with :math:`s` the ``target_scale`` and :math:`\sigma` the relative ``noise``.  With
    :math:`s = 10^{-4}` the targets are a few :math:`10^{-4}`, so the errors, the loss and every gradient
    are small numbers: in float16 the gradients underflow.

    Returns
    -------
    X : array, shape (n_samples, n_features)
    Y : array, shape (n_samples, n_outputs)
    """
    for name, value in (("n_samples", n_samples), ("n_features", n_features), ("n_outputs", n_outputs)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if not (target_scale > 0 and noise >= 0):
        raise ValueError(f"target_scale must be positive and noise non-negative, got {target_scale!r}, {noise!r}")
    g = rng(seed)
    X = g.standard_normal((n_samples, n_features))
    W = g.standard_normal((n_features, n_outputs))
    Y = float(target_scale) * (X @ W + float(noise) * g.standard_normal((n_samples, n_outputs)))
    return asarray(X.astype(dtype), dtype=dtype), asarray(Y.astype(dtype), dtype=dtype)


def linear_loss(params: Sequence[Array], X: Array, Y: Array, dtype: str = "float64") -> float:
    r"""Mean squared error :math:`J = \frac{1}{NK}\sum_{i,k} (\hat y_{ik} - y_{ik})^2` of :math:`\hat Y = XW + b`.

    Evaluated in ``dtype`` (float64 by default), from ``params = [W, b]`` in any precision.
    """
    xp = array_namespace(X)
    dt = resolve_dtype(xp, dtype)
    W, b = (xp.astype(p, dt) for p in params)
    r = xp.astype(X, dt) @ W + b - xp.astype(Y, dt)
    return float(to_numpy(xp.mean(r * r)))


@dataclass
class PrecisionRun:
    r"""The record of one :func:`train_linear` run, one entry per step.

    Attributes
    ----------
    label : str
        E.g. ``"float16, float32 master weights, loss scale 65536"``.
    dtype, master_dtype : str
        Precision of the data, outputs and gradients; precision of the weights that receive the update
        (equal to ``dtype`` without master weights).
    loss : numpy.ndarray
        Training loss at each step, as computed in the run's own arithmetic (before the step).
    scale : numpy.ndarray
        Loss scale :math:`S` used at each step (1 without loss scaling).
    skipped : numpy.ndarray of bool
        Steps skipped because the scaled gradients overflowed (dynamic loss scaling).
    underflow : numpy.ndarray
        Fraction of the entries of :math:`S\,\partial J/\partial \hat Y` that are non-zero in float32 and 0
        after rounding to ``dtype``: gradient signal lost to underflow.
    grad_zero : numpy.ndarray
        Fraction of the weight-gradient entries that are exactly 0 after unscaling.
    lost_updates : numpy.ndarray
        Fraction of the weights whose non-zero update rounded away (weight unchanged).
    final_loss : float
        Loss of the final weights, evaluated in float64 (NaN if they are not finite).
    params : list of arrays
        Final ``[W, b]`` (in ``master_dtype``).
    stop_reason : str
        ``"steps"``, or why the run stopped early: the message of :func:`gdcourse.divergence.classify`
        (weights or loss no longer finite: an overflow, 0/0 from an ``eps`` too small for the dtype, ...).
    """

    label: str
    dtype: str
    master_dtype: str
    loss: np.ndarray
    scale: np.ndarray
    skipped: np.ndarray
    underflow: np.ndarray
    grad_zero: np.ndarray
    lost_updates: np.ndarray
    final_loss: float
    params: list[Array]
    stop_reason: str = "steps"

    @property
    def n_steps(self) -> int:
        """Number of steps recorded."""
        return len(self.loss)

    def __repr__(self) -> str:
        return (
            f"PrecisionRun({self.label}: {self.n_steps} steps, final loss {self.final_loss:.4g}, "
            f"{int(self.skipped.sum())} skipped, stop_reason={self.stop_reason!r})"
        )


def _describe(dtype: str, master: str, scaling: str) -> str:
    parts = [dtype]
    if master != dtype:
        parts.append(f"{master} master weights")
    if scaling:
        parts.append(scaling)
    return ", ".join(parts)


def _count(xp: Any, mask: Array) -> int:
    return int(xp.count_nonzero(mask))


def train_linear(
    X: Array,
    Y: Array,
    *,
    dtype: str = "float32",
    master_dtype: str | None = None,
    loss_scale: float | str | DynamicLossScaler | None = None,
    optimizer: Any = None,
    lr: float = 0.3,
    steps: int = 100,
    params: Sequence[Array] | None = None,
    label: str | None = None,
) -> PrecisionRun:
    r"""Full-batch gradient descent on linear regression :math:`\hat Y = XW + b` with MSE, in a chosen precision.

    One step, with :math:`c` the compute dtype ``dtype``, :math:`a` the accumulation dtype (float32 when
    :math:`c` is float16, else :math:`c`), :math:`m` the master dtype and :math:`\mathrm{fl}_c` rounding to
    :math:`c`:

    .. math::
        W_c &= \mathrm{fl}_c(W_m),\ b_c = \mathrm{fl}_c(b_m) & \text{(a copy of the weights in } c)\\
        \hat Y &= \mathrm{fl}_c(X_c W_c) + b_c & \text{(products summed in } a)\\
        J &= \tfrac{1}{NK}\textstyle\sum_{ik} (\hat y_{ik} - y_{ik})^2 & \text{(in } a)\\
        \Delta &= \mathrm{fl}_c\!\big(S \cdot \tfrac{2}{NK}(\hat Y - Y)\big)
              & \text{(scaled } \partial J/\partial\hat Y\text{: underflow happens here)}\\
        g_W &= \mathrm{fl}_c(X_c^\top \Delta), \quad g_b = \mathrm{fl}_c\big(\textstyle\sum_i \Delta_i\big)
              & \text{(backward in } c)\\
        g &\leftarrow \mathrm{fl}_m(g) / S; \quad \text{if finite: } (W_m, b_m) \leftarrow \text{optimizer step}
              & \text{(unscale and update in } m)

    Parameters
    ----------
    X, Y : arrays, shapes (N, d) and (N, K)
        Data (any floating dtype; rounded to ``dtype``).
    dtype : {"float16", "float32", "float64"}
        Precision of the data, the outputs and the gradients.
    master_dtype : str, optional
        Precision of the weights that receive the update.  ``None``: the weights live in ``dtype`` and are
        updated there (pure low precision).
    loss_scale : None, number, "dynamic" or DynamicLossScaler
        ``None`` (or 1): no scaling.  A number :math:`S`: static scaling (an overflow then puts inf into the
        weights and ends the run).  ``"dynamic"`` or a :class:`DynamicLossScaler` (copied, not modified):
        dynamic scaling, which skips the steps that overflow.
    optimizer : gdcourse.optim rule, optional
        Default ``gdcourse.optim.gd(lr)``.  Its state lives in the master dtype.
    lr : float
        Learning rate :math:`\eta` of the default optimizer.
    steps : int
        Number of gradient evaluations (skipped steps included).
    params : [W, b], optional
        Initial weights; default zeros.
    label : str, optional
        Name of the run; by default a description of the settings.

    Returns
    -------
    PrecisionRun

    Raises
    ------
    ValueError
        For NaN or inf in ``X``, ``Y`` or ``params``, or another bad argument.

    Warns
    -----
    gdcourse.divergence.UnstableRunWarning
        When the run took all its steps and ended far above its starting loss.
    """
    xp = array_namespace(X)
    c = resolve_dtype(xp, dtype)
    m = resolve_dtype(xp, master_dtype or dtype)
    acc = xp.float32 if c == getattr(xp, "float16", None) else c
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
    if optimizer is None:
        if isinstance(lr, bool) or not (isinstance(lr, int | float) and lr > 0):
            raise ValueError(f"lr must be a positive number, got {lr!r}")
        optimizer = gd(lr)
    elif not (hasattr(optimizer, "init") and hasattr(optimizer, "step")):
        raise TypeError(f"optimizer must be a gdcourse.optim rule (with init and step), got {optimizer!r}")
    scaler: DynamicLossScaler | None = None
    if isinstance(loss_scale, str):
        if loss_scale != "dynamic":
            raise ValueError(f"loss_scale must be None, a number, 'dynamic' or a DynamicLossScaler, got {loss_scale!r}")
        scaler = DynamicLossScaler()
    elif isinstance(loss_scale, DynamicLossScaler):
        scaler = copy.deepcopy(loss_scale)
    elif loss_scale is not None and (
        isinstance(loss_scale, bool) or not isinstance(loss_scale, int | float) or not 0 < loss_scale < math.inf
    ):
        raise ValueError(f"loss_scale must be a positive finite number, got {loss_scale!r}")
    static = 1.0 if (loss_scale is None or scaler is not None) else float(loss_scale)
    if scaler is not None:
        scaling = f"dynamic loss scale (from 2^{math.log2(scaler.init_scale):g})"
    else:
        scaling = f"loss scale 2^{math.log2(static):g}" if static != 1.0 else ""
    if X.ndim != 2 or Y.ndim != 2 or X.shape[0] != Y.shape[0]:
        raise ValueError(f"X must be (N, d) and Y (N, K) with the same N, got {X.shape} and {Y.shape}")
    divergence.check_data("X", X)
    divergence.check_data("Y", Y)
    n, k = X.shape[0], Y.shape[1]
    if params is None:
        params = [xp.zeros((X.shape[1], k), dtype=m, device=_device(X)), xp.zeros((k,), dtype=m, device=_device(X))]
    for i, p in enumerate(params):
        divergence.check_data(f"params[{i}]", p, fix="start from finite weights")
    weights = [xp.astype(p, m) for p in params]
    state = optimizer.init(weights)
    Xc, Ya = xp.astype(X, c), xp.astype(Y, acc)
    Xa_T = xp.matrix_transpose(xp.astype(Xc, acc))  # float16 inputs, float32 products (tensor-core style)
    size = sum(w.size for w in weights)
    records: list[tuple[float, ...]] = []
    losses: list[float] = []
    stop = "steps"
    eps, eta = divergence.optimizer_eps(optimizer), getattr(optimizer, "lr", None)
    eta = float(eta) if isinstance(eta, int | float) else None
    # overflow is detected and reported (that is what a loss scaler is for), not warned about
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        for _ in range(steps):
            S = scaler.scale if scaler is not None else static
            W, b = (xp.astype(w, c) for w in weights)
            out = xp.astype(xp.matrix_transpose(Xa_T) @ xp.astype(W, acc), c) + b
            r = xp.astype(out, acc) - Ya
            loss = xp.mean(r * r)
            delta_a = (S * 2.0 / (n * k)) * r
            delta = xp.astype(delta_a, c)
            lost_signal = _count(xp, (delta == 0) & (delta_a != 0)) / (n * k)
            delta_sum = xp.astype(delta, acc)
            g_W = xp.astype(Xa_T @ delta_sum, c)
            g_b = xp.astype(xp.sum(delta_sum, axis=0), c)
            grads = [xp.astype(g_W, m) / S, xp.astype(g_b, m) / S]
            finite = all(bool(xp.all(xp.isfinite(g))) for g in grads)
            zeros = sum(_count(xp, g == 0) for g in grads) / size
            apply = scaler.update(finite) if scaler is not None else True
            lost = 0.0
            if apply:
                new, state = optimizer.step(weights, grads, state)
                unchanged = [_count(xp, (w1 == w0) & (g != 0)) for w0, w1, g in zip(weights, new, grads, strict=True)]
                lost = sum(unchanged) / size
                weights = new
            records.append((float(to_numpy(loss)), S, float(not apply), lost_signal, zeros, lost))
            losses.append(records[-1][0])
            weights_ok = not apply or all(bool(xp.all(xp.isfinite(w))) for w in weights)
            problem = divergence.classify(losses, weights_ok, len(records), eta, _dtype_name(m), eps=eps)
            if problem is not None:
                stop = problem.message
                if not finite and static != 1.0:  # the loss scale's own part of the story
                    stop += f" The loss scale 2^{math.log2(static):g} is static: lower it, or use loss_scale='dynamic'."
                break
    rec = np.asarray(records, dtype=np.float64).reshape(-1, 6)
    finite_weights = all(bool(xp.all(xp.isfinite(w))) for w in weights)
    final = linear_loss(weights, X, Y, "float64") if finite_weights else math.nan
    if stop == "steps" and losses:
        divergence.warn_if_unstable(losses[0], final, step=len(records), lr=eta)
    name_c, name_m = _dtype_name(c), _dtype_name(m)
    return PrecisionRun(
        label=label or _describe(name_c, name_m, scaling),
        dtype=name_c,
        master_dtype=name_m,
        loss=rec[:, 0],
        scale=rec[:, 1],
        skipped=rec[:, 2].astype(bool),
        underflow=rec[:, 3],
        grad_zero=rec[:, 4],
        lost_updates=rec[:, 5],
        final_loss=final,
        params=weights,
        stop_reason=stop,
    )


# ----------------------------------------------------------------------------------------------
# Memory
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemoryEstimate:
    r"""Bytes one training step of an MLP keeps in memory (see :func:`training_memory`).

    Attributes
    ----------
    parameters, gradients, optimizer_state, master_weights : int
        Independent of the batch size.
    activations : int
        :math:`B \times` (numbers kept per example) :math:`\times` bytes per number.
    per_example : int
        Activation bytes per example.
    """

    parameters: int
    gradients: int
    optimizer_state: int
    master_weights: int
    activations: int
    per_example: int

    @property
    def total(self) -> int:
        """All of it, in bytes."""
        return self.parameters + self.gradients + self.optimizer_state + self.master_weights + self.activations


def training_memory(
    sizes: Sequence[int],
    batch_size: int,
    *,
    dtype: str = "float32",
    optimizer_slots: int = 2,
    master_dtype: str | None = None,
) -> MemoryEstimate:
    r"""Memory of one training step of an MLP with layer widths ``sizes`` (inputs first).

    With :math:`P = \sum_l (n_{l-1} + 1)\, n_l` parameters, :math:`b` bytes per number and batch size :math:`B`:

    .. math::
        \text{parameters} = \text{gradients} = P b, \quad \text{optimizer state} = s P b_m, \quad
        \text{activations} = B\,\Big(n_0 + 2\sum_{\text{hidden } l} n_l + n_L\Big)\, b

    The activations are what the backward pass needs, as :mod:`gdcourse.nn` keeps them: the inputs, each
    hidden layer's pre-activation and activation, and the outputs.  :math:`s` is the number of state arrays
    per parameter (0 for GD, 1 for momentum or RMSprop, 2 for Adam), kept in the master dtype :math:`m`
    (:math:`b_m` bytes; master weights add :math:`P b_m` when :math:`m` differs from ``dtype``).
    """
    sizes = [int(s) for s in sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"sizes must list at least two positive layer widths, got {sizes!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    b = float_format(dtype).bytes()
    bm = float_format(master_dtype or dtype).bytes()
    n_params = sum((a + 1) * c for a, c in zip(sizes[:-1], sizes[1:], strict=True))
    per_example = (sizes[0] + 2 * sum(sizes[1:-1]) + sizes[-1]) * b
    return MemoryEstimate(
        parameters=n_params * b,
        gradients=n_params * b,
        optimizer_state=int(optimizer_slots) * n_params * bm,
        master_weights=n_params * bm if master_dtype and master_dtype != dtype else 0,
        activations=batch_size * per_example,
        per_example=per_example,
    )
