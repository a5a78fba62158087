"""Argument checks shared by the modules of :mod:`gdcourse` (internal).

Every public function checks its numeric arguments the same way and names the argument in the
error (the project's "bad input gets a clear error" convention):

* a **wrong type** (``True``, ``"0.1"``, ``None``, a list) raises :class:`TypeError`
  ``"lr must be a number, got str"`` -- a bool is not a number here, although Python says it is;
* a **wrong value** (``0``, ``-1``, ``nan``, ``inf`` where a positive finite number is needed) raises
  :class:`ValueError` ``"lr must be a positive finite number, got 0.0"``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from numbers import Integral, Real
from typing import Any

from gdcourse.backend import array_namespace

__all__ = [
    "finite",
    "float_array_namespace",
    "float_dtype",
    "int_at_least",
    "learning_rate",
    "nonneg",
    "nonneg_int",
    "number",
    "optional_nonneg",
    "positive",
    "positive_int",
]


def number(name: str, value: Any) -> float:
    """``value`` as a float: a real number (Python or NumPy), not a bool and not a string.

    Parameters
    ----------
    name : str
        The argument's name, as the caller wrote it (``"lr"``): every error message starts with it.
    value : object
        The value to check.  A bool, a string, ``None``, a list or an array raises :class:`TypeError`
        (``"lr must be a number, got str"``); NaN and the infinities pass: the other checks refuse them.
    """
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    return float(value)


def finite(name: str, value: Any) -> float:
    r"""A finite number, :math:`-\infty < x < \infty`.

    Parameters
    ----------
    name : str
        The argument's name, shown in the error.
    value : object
        A real number, else :class:`TypeError` (as :func:`number`); NaN, ``inf`` and ``-inf`` raise
        :class:`ValueError` (``"factor must be a finite number, got nan"``).
    """
    v = number(name, value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be a finite number, got {value}")
    return v


def positive(name: str, value: Any) -> float:
    r"""A positive finite number, :math:`0 < x < \infty`.

    Parameters
    ----------
    name : str
        The argument's name, shown in the error (``"lr"``, ``"lr0"``, ``"power"``).
    value : object
        A real number, else :class:`TypeError`; 0, a negative number, NaN or an infinity raises
        :class:`ValueError` (``"lr must be a positive finite number, got 0.0"``).
    """
    v = number(name, value)
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value}")
    return v


def nonneg(name: str, value: Any) -> float:
    r"""A finite number :math:`x \ge 0`.

    Parameters
    ----------
    name : str
        The argument's name, shown in the error (``"alpha"``, ``"noise"``, ``"min_delta"``).
    value : object
        A real number, else :class:`TypeError`; a negative number, NaN or an infinity raises
        :class:`ValueError` (``"alpha must be a finite number >= 0, got -1"``).  0 passes: it switches a term off.
    """
    v = number(name, value)
    if not (math.isfinite(v) and v >= 0):
        raise ValueError(f"{name} must be a finite number >= 0, got {value}")
    return v


def optional_nonneg(name: str, value: Any) -> float | None:
    r"""``None``, or a finite number :math:`x \ge 0` (a tolerance that may be switched off).

    Parameters
    ----------
    name : str
        The argument's name (``"tol_grad"``), shown in the error.
    value : object
        ``None`` (returned as it is) or a real number :math:`\ge 0`; any other type raises :class:`TypeError`,
        a negative, NaN or infinite number :class:`ValueError`
        (``"tol_grad must be a finite number >= 0 or None, got -1"``).
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a number >= 0 or None, got {type(value).__name__}")
    v = float(value)
    if not (math.isfinite(v) and v >= 0):
        raise ValueError(f"{name} must be a finite number >= 0 or None, got {value}")
    return v


def _integer(name: str, value: Any, low: int, words: str) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
        raise ValueError(f"{name} must be a {words} integer, got {value!r}")
    return int(value)


def int_at_least(name: str, value: Any, low: int) -> int:
    r"""An integer :math:`n \ge` ``low`` (Python or NumPy, not a bool).

    Parameters
    ----------
    name : str
        The argument's name, shown in the error.
    value : object
        The integer to check.  A bool, a float (even ``3.0``), a string, or an integer below ``low`` raises
        :class:`ValueError` (``"n_samples must be an integer >= 2, got 1"``).
    low : int
        The smallest value allowed.
    """
    if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def positive_int(name: str, value: Any) -> int:
    r"""An integer :math:`n \ge 1` (Python or NumPy, not a bool).

    Parameters
    ----------
    name : str
        The argument's name (``"n_samples"``, ``"batch_size"``), shown in the error.
    value : object
        A count that must be at least one: anything else (0, ``-3``, ``2.0``, ``True``) raises :class:`ValueError`
        (``"batch_size must be a positive integer, got 0"``).
    """
    return _integer(name, value, 1, "positive")


def nonneg_int(name: str, value: Any) -> int:
    r"""An integer :math:`n \ge 0` (Python or NumPy, not a bool).

    Parameters
    ----------
    name : str
        The argument's name, the start of the error: ``"max_iter must be a non-negative integer, got -1"``.
    value : object
        A count that may be zero (``max_iter=0``, ``epoch=0``).  A negative integer, a float, a bool or a
        string raises :class:`ValueError`.
    """
    return _integer(name, value, 0, "non-negative")


def learning_rate(lr: Any) -> float | Callable[[int], float]:
    r"""A learning rate :math:`\eta`: a positive finite number, or a schedule (a callable ``step -> lr``).

    A schedule is returned as it is (its values are checked where they are used); ``True`` and
    ``"0.1"`` are refused with a :class:`TypeError`, ``0``, negative, NaN and infinite rates with a
    :class:`ValueError`.
    """
    if callable(lr):
        return lr
    if isinstance(lr, bool) or not isinstance(lr, Real):
        raise TypeError(f"lr must be a positive number or a schedule (callable step -> lr), got {type(lr).__name__}")
    return positive("lr", lr)


def float_dtype(name: str, dtype: Any) -> Any:
    """A real floating NumPy dtype (``"float16"``, ``"float32"``, ``"float64"``, ...), as :class:`numpy.dtype`.

    Integer, bool and complex dtypes are refused with a :class:`ValueError` naming ``name``: casting real
    data to them truncates or wraps it (1001 becomes -23 in int8) without any error.

    Parameters
    ----------
    name : str
        The argument's name (``"dtype"``), shown in the error.
    dtype : str, type or numpy.dtype
        Anything :class:`numpy.dtype` reads as a floating dtype: ``"float32"``, ``np.float64``, ``np.dtype("f2")``.
        What NumPy cannot read as a dtype raises :class:`TypeError`.
    """
    import numpy as np

    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{name} must be a floating dtype such as 'float32' or 'float64', got {dtype!r}") from None
    if resolved.kind != "f":
        raise ValueError(
            f"{name} must be a floating dtype such as 'float32' or 'float64', got {dtype!r}: casting the data to "
            f"{resolved} would truncate or wrap it silently"
        )
    return resolved


def float_array_namespace(name: str, x: Any) -> Any:
    """The array-API namespace of ``x``, an array of a real floating dtype (float32, float64, ...).

    Parameters
    ----------
    name : str
        The argument's name (``"w"``, ``"y_pred"``), shown in the error.
    x : array
        An array of an array-API library (NumPy, CuPy, torch, ...); anything else, or an integer, bool or
        complex array, raises :class:`TypeError`.
    """
    try:
        xp = array_namespace(x)
    except TypeError:
        raise TypeError(f"{name} must be an array (NumPy, CuPy, ...), got {type(x).__name__}") from None
    if not xp.isdtype(x.dtype, "real floating"):
        raise TypeError(f"{name} has dtype {x.dtype}; expected a real floating dtype (float32 or float64)")
    return xp
