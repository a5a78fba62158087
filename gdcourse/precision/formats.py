r"""Floating-point formats and what rounding, overflow and underflow do to training numbers.

See :mod:`gdcourse.precision` for the story; the formulas of each function are in its docstring.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from gdcourse.backend import array_namespace, asarray

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

    Parameters
    ----------
    xp : module
        An array namespace (``array_namespace(x)`` of the arrays the dtype is for).
    dtype : {"float16", "float32", "float64"} or dtype
        A name, looked up in ``xp``; any other object is taken to be a dtype already and returned as it is.

    Returns
    -------
    dtype
        ``xp.float16``, ``xp.float32`` or ``xp.float64``, or ``dtype`` itself.

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
    dtype : {"float16", "float32", "float64"} or dtype
        The format the numbers are stored in (a name, or a dtype object of their library); another name,
        or float16 on a library without it, raises :class:`ValueError`.

    Returns
    -------
    array
        ``x`` rounded to ``dtype``, of ``x``'s shape.
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

    Parameters
    ----------
    x, dtype
        As for :func:`cast`: ``x`` is rounded to ``dtype`` first.

    Returns
    -------
    array of ``dtype``
        :math:`\mathrm{ulp}(x)`, of ``x``'s shape: ``inf`` for the largest finite number, NaN
        where ``x`` overflows to ``inf`` in ``dtype`` or is NaN.
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

    Parameters
    ----------
    theta : array or number
        The parameters :math:`\theta` (numbers and lists are put on the active backend first, as float64).
    step : array or number
        The update :math:`\delta`, an array of ``theta``'s shape or one number for every entry.
    dtype
        As for :func:`cast`.

    Returns
    -------
    array
        :math:`\theta^{+}` in ``dtype`` (``±inf`` where it overflows, without a warning).
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

    Parameters
    ----------
    theta, step : array or number
        As for :func:`apply_step`.
    dtype
        As for :func:`cast`.

    Returns
    -------
    array of bool
        ``True`` where the step is not 0 and :math:`\theta` stays the same number in ``dtype``.
    """
    xp, t = _xp_of(theta)
    s = step if hasattr(step, "shape") else xp.full_like(t, float(step))
    return (apply_step(t, s, dtype) == cast(t, dtype)) & (s != 0)


def rounding_error(x: Any, dtype: Any) -> Array:
    r"""Relative error of storing ``x`` in ``dtype``, :math:`|\mathrm{fl}(x) - x| / |x|`, computed in float64.

    At most :math:`\varepsilon/2` for normal numbers; larger for subnormals; 1 where ``x`` underflows to 0;
    ``inf`` where it overflows.  (0 for ``x = 0``.)

    Parameters
    ----------
    x, dtype
        As for :func:`cast`.

    Returns
    -------
    array of float64
        The relative errors, of ``x``'s shape.
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

    Parameters
    ----------
    value : float
        The number to store (anything ``float()`` accepts).
    dtype : str or dtype
        ``"float16"``, ``"bfloat16"``, ``"float32"`` or ``"float64"`` (or such a dtype object); another format
        raises :class:`ValueError`.  (``"bfloat16"`` has a :class:`FloatFormat` but NumPy cannot store it, so
        it raises :class:`ValueError` here too.)

    Returns
    -------
    str
        The phrase.
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
