"""Plain-data encoding of exercise inputs and answers (JSON, never pickle).

The grader sends inputs to an untrusted worker and reads back the values the
learner's code computed.  Both directions use this codec, so nothing but data
crosses the boundary: ``None``, booleans, integers, floats (NaN and ±inf
included), strings, lists, tuples, dicts with string keys and NumPy arrays
(arrays from any backend are copied to the host first).  Other real numbers
(:class:`fractions.Fraction`, :class:`decimal.Decimal`, SymPy numbers: anything that is a
:class:`numbers.Real` or converts with ``float()``) are sent as floats, integral ones
(:class:`numbers.Integral`) as integers, and complex numbers as complex numbers, so the
judge can say what is wrong with them.  The in-notebook self-check sends every value
an answer returns through the same round trip (:func:`round_trip`), so it judges
exactly what the grader would.

Exercise *inputs* may also hold code that lives in :mod:`gdcourse` itself, sent
by name (never as code): module-level functions and classes of a ``gdcourse``
module, instances of a ``gdcourse`` dataclass (rebuilt from their encoded
fields, e.g. a gradient function holding its matrices) and
:func:`functools.partial` of those.  These *references* are written only with
``refs=True`` and read back only with ``refs=True``: the grader encodes inputs
with them and the worker decodes them; the worker's outputs are plain data, and
the grader reads them with the default ``refs=False``, which rejects references.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import importlib
import json
import math
import numbers
from typing import Any, TypeGuard

import numpy as np

__all__ = ["CodecError", "decode", "dumps", "encode", "loads", "round_trip", "same_data"]

_ALLOWED_DTYPES = {
    "bool",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float16",
    "float32",
    "float64",
    "complex64",
    "complex128",
}
MAX_DEPTH = 32


class CodecError(ValueError):
    """Raised when a value cannot be encoded or a payload is not valid encoded data."""


def _float(x: float) -> Any:
    if math.isfinite(x):
        return x
    return {"__float__": "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")}


def _is_gdcourse_module(name: Any) -> TypeGuard[str]:
    return isinstance(name, str) and (name == "gdcourse" or name.startswith("gdcourse."))


def _reference_name(obj: Any) -> str | None:
    """``"module:qualname"`` when ``obj`` is a function or class importable from a ``gdcourse`` module."""
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if not (_is_gdcourse_module(module) and isinstance(qualname, str)) or "<" in qualname:
        return None
    try:
        found = _resolve(module, qualname)
    except CodecError:
        return None
    return f"{module}:{qualname}" if found is obj else None


def _resolve(module: str, qualname: str) -> Any:
    if not _is_gdcourse_module(module) or not qualname or "<" in qualname:
        raise CodecError(f"not a gdcourse reference: {module}:{qualname}")
    try:
        found: Any = importlib.import_module(module)
        for part in qualname.split("."):
            if part.startswith("__"):
                raise CodecError(f"not a gdcourse reference: {module}:{qualname}")
            found = getattr(found, part)
    except (ImportError, AttributeError) as err:
        raise CodecError(f"cannot resolve {module}:{qualname}: {err}") from err
    return found


def _encode_reference(obj: Any, depth: int) -> Any:
    if isinstance(obj, functools.partial):
        return {
            "__partial__": [
                encode(obj.func, depth + 1, refs=True),
                [encode(a, depth + 1, refs=True) for a in obj.args],
                {"__dict__": {k: encode(v, depth + 1, refs=True) for k, v in obj.keywords.items()}},
            ]
        }
    name = _reference_name(obj)
    if name is not None and callable(obj):
        return {"__ref__": name}
    cls = type(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type) and _reference_name(cls) is not None:
        fields = {f.name: encode(getattr(obj, f.name), depth + 1, refs=True) for f in dataclasses.fields(obj) if f.init}
        return {"__object__": _reference_name(cls), "fields": {"__dict__": fields}}
    return None


def encode(obj: Any, _depth: int = 0, *, refs: bool = False) -> Any:
    """Turn ``obj`` into JSON-compatible data (arrays become tagged dicts).

    With ``refs=True``, functions, classes and dataclass instances of ``gdcourse``
    modules and partials of them are encoded by name (see the module docstring).

    Parameters
    ----------
    obj : object
        The value to encode: data (see the module docstring), nested at most :data:`MAX_DEPTH` deep.
    _depth : int
        How deep ``obj`` lies in the value being encoded (0 at the top; used by the recursion).
    refs : bool
        Also encode ``gdcourse`` code by name (for exercise inputs); default: data only.

    Returns
    -------
    object
        JSON-compatible data.

    Raises
    ------
    CodecError
        For a value that is not data (nor, with ``refs``, a reference), or nested too deeply.
    """
    if _depth > MAX_DEPTH:
        raise CodecError("value is nested too deeply")
    if obj is None or isinstance(obj, bool | str):
        return obj
    if isinstance(obj, int | np.integer) and not isinstance(obj, bool):
        return int(obj)
    if isinstance(obj, float | np.floating):
        return _float(float(obj))
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, complex | np.complexfloating):
        return {"__complex__": [_float(float(obj.real)), _float(float(obj.imag))]}
    if isinstance(obj, list):
        return [encode(x, _depth + 1, refs=refs) for x in obj]
    if isinstance(obj, tuple):
        return {"__tuple__": [encode(x, _depth + 1, refs=refs) for x in obj]}
    if isinstance(obj, dict):
        if not all(isinstance(k, str) for k in obj):
            raise CodecError("dict keys must be strings")
        return {"__dict__": {k: encode(v, _depth + 1, refs=refs) for k, v in obj.items()}}
    if hasattr(obj, "shape") and hasattr(obj, "dtype"):
        from gdcourse.backend import to_numpy

        arr = np.asarray(to_numpy(obj))  # not ascontiguousarray: it turns a 0-d array into shape (1,)
        if arr.dtype == object:
            raise CodecError("an array of Python objects (dtype object) is not supported: expected numbers")
        if str(arr.dtype) not in _ALLOWED_DTYPES:
            raise CodecError(f"arrays of dtype {arr.dtype} are not supported")
        return {
            "__ndarray__": base64.b64encode(arr.tobytes()).decode("ascii"),
            "dtype": str(arr.dtype),
            "shape": list(arr.shape),
        }
    number = _real_number(obj)
    if number is not None:
        return number
    if refs:
        encoded = _encode_reference(obj, _depth)
        if encoded is not None:
            return encoded
        raise CodecError(
            f"cannot encode a value of type {type(obj).__name__}: only data, and functions, classes, "
            "dataclass instances and partials from gdcourse modules, can be sent"
        )
    raise CodecError(f"cannot encode a value of type {type(obj).__name__}")


def _real_number(obj: Any) -> int | float | dict[str, str] | None:
    """``obj`` as encoded data when it is a real number of another type (Fraction, SymPy...), else ``None``.

    Integral numbers become integers; other :class:`numbers.Real` instances, and objects that
    define ``__float__`` (that are not strings, bytes or complex numbers), become floats.
    A number that ``float()`` refuses (a SymPy expression with a free symbol) is not encodable.
    """
    if isinstance(obj, str | bytes | bytearray | complex | np.complexfloating) or callable(obj):
        return None
    if isinstance(obj, numbers.Integral):
        try:
            return int(obj)
        except (TypeError, ValueError, OverflowError) as err:
            raise CodecError(f"cannot encode a value of type {type(obj).__name__}: {err}") from err
    if isinstance(obj, numbers.Real) or hasattr(type(obj), "__float__"):
        try:
            value = float(obj)
        except (TypeError, ValueError, OverflowError) as err:
            raise CodecError(f"cannot encode a value of type {type(obj).__name__}: {err}") from err
        return _float(value)
    return None


def _decode_reference(data: dict, depth: int) -> Any:
    if set(data) == {"__ref__"} and isinstance(data["__ref__"], str) and ":" in data["__ref__"]:
        found = _resolve(*data["__ref__"].split(":", 1))
        if not callable(found):
            raise CodecError(f"{data['__ref__']} is not callable")
        return found
    if set(data) == {"__object__", "fields"} and isinstance(data["__object__"], str) and ":" in data["__object__"]:
        cls = _resolve(*data["__object__"].split(":", 1))
        fields = decode(data["fields"], depth + 1, refs=True)
        if not (isinstance(cls, type) and dataclasses.is_dataclass(cls) and isinstance(fields, dict)):
            raise CodecError(f"{data['__object__']} is not a dataclass")
        try:
            return cls(**fields)
        except (TypeError, ValueError) as err:
            raise CodecError(f"cannot rebuild {data['__object__']}: {err}") from err
    if set(data) == {"__partial__"} and isinstance(data["__partial__"], list) and len(data["__partial__"]) == 3:
        func, args, kwargs = (decode(x, depth + 1, refs=True) for x in data["__partial__"])
        if not (callable(func) and isinstance(args, list) and isinstance(kwargs, dict)):
            raise CodecError("bad partial")
        return functools.partial(func, *args, **kwargs)
    return _NOT_A_REFERENCE


_NOT_A_REFERENCE = object()


def decode(data: Any, _depth: int = 0, *, refs: bool = False) -> Any:
    """Inverse of :func:`encode`; rejects anything that is not encoded data.

    References to ``gdcourse`` code are rebuilt only with ``refs=True`` (imports
    ``gdcourse`` modules); otherwise they are rejected like any unknown tag.

    Parameters
    ----------
    data : object
        JSON data as :func:`encode` makes it.
    _depth : int
        How deep ``data`` lies in the payload (0 at the top; used by the recursion).
    refs : bool
        Rebuild references to ``gdcourse`` code; default: reject them.

    Returns
    -------
    object
        The value (arrays come back as fresh, writable NumPy arrays).

    Raises
    ------
    CodecError
        For anything that is not encoded data: an unknown tag, a bad array header, too deep.
    """
    if _depth > MAX_DEPTH:
        raise CodecError("payload is nested too deeply")
    if data is None or isinstance(data, bool | int | float | str):
        return data
    if isinstance(data, list):
        return [decode(x, _depth + 1, refs=refs) for x in data]
    if isinstance(data, dict):
        if refs:
            found = _decode_reference(data, _depth)
            if found is not _NOT_A_REFERENCE:
                return found
        if set(data) == {"__float__"} and data["__float__"] in ("nan", "inf", "-inf"):
            return float(data["__float__"])
        if set(data) == {"__complex__"} and isinstance(data["__complex__"], list) and len(data["__complex__"]) == 2:
            real, imag = (decode(x, _depth + 1) for x in data["__complex__"])
            if not all(isinstance(x, float | int) and not isinstance(x, bool) for x in (real, imag)):
                raise CodecError("bad complex number")
            return complex(real, imag)
        if set(data) == {"__tuple__"} and isinstance(data["__tuple__"], list):
            return tuple(decode(x, _depth + 1, refs=refs) for x in data["__tuple__"])
        if set(data) == {"__dict__"} and isinstance(data["__dict__"], dict):
            return {str(k): decode(v, _depth + 1, refs=refs) for k, v in data["__dict__"].items()}
        if set(data) == {"__ndarray__", "dtype", "shape"}:
            dtype, shape = data["dtype"], data["shape"]
            if dtype not in _ALLOWED_DTYPES or not isinstance(shape, list):
                raise CodecError("bad array header")
            if not all(isinstance(n, int) and n >= 0 for n in shape):
                raise CodecError("bad array shape")
            raw = base64.b64decode(data["__ndarray__"], validate=True)
            count = math.prod(shape)
            if len(raw) != count * np.dtype(dtype).itemsize:
                raise CodecError("array data does not match its shape")
            return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    raise CodecError(f"not encoded data: {type(data).__name__}")


def dumps(obj: Any, *, refs: bool = False) -> str:
    """Encode ``obj`` and serialise it to a JSON string.

    Parameters
    ----------
    obj : object
        The value (see :func:`encode`).
    refs : bool
        Also encode ``gdcourse`` code by name.

    Returns
    -------
    str
        Compact JSON, without NaN or infinity (those are tagged).
    """
    return json.dumps(encode(obj, refs=refs), allow_nan=False, separators=(",", ":"))


def loads(text: str | bytes, *, refs: bool = False) -> Any:
    """Parse a JSON string made by :func:`dumps` and decode it.

    Parameters
    ----------
    text : str or bytes
        The JSON payload.
    refs : bool
        Rebuild references to ``gdcourse`` code; default: reject them.

    Returns
    -------
    object

    Raises
    ------
    CodecError
        When ``text`` is not JSON or not encoded data.
    """
    try:
        return decode(json.loads(text), refs=refs)
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError, TypeError) as err:
        raise CodecError(f"payload is not valid encoded data: {err}") from err


def round_trip(value: Any) -> Any:
    """``value`` as the judge receives it from a grading worker: ``loads(dumps(value))``.

    The self-check judges this, so a number type the codec turns into a float (``np.float32``,
    ``Fraction``, a SymPy number) or a ``np.bool_`` the codec turns into a ``bool`` gets the
    same verdict in a notebook as in the grader.  Raises :class:`CodecError` for a value the
    grader could not receive either.
    """
    return loads(dumps(value))


def _host_array(x: Any) -> np.ndarray:
    if isinstance(x, np.ndarray):
        return x
    from gdcourse.backend import to_numpy

    return np.asarray(to_numpy(x))


def same_data(before: Any, after: Any, _depth: int = 0) -> bool:
    """Whether ``after`` holds the same data as ``before`` (used to see whether an answer changed its inputs).

    Arrays (of any backend, compared on the host) are the same when their shapes, dtypes and
    entries are equal, NaN equal to NaN; numbers when equal (NaN equal to NaN); lists,
    tuples and dicts item by item; dataclass instances and :func:`functools.partial`
    objects field by field; other objects through their ``__dict__`` when they have one,
    else with their own ``==``.  A change of type counts as a change.  What cannot be
    compared (an object whose equality is identity, such as a random generator, an ``==``
    that raises or gives no truth value, nesting deeper than :data:`MAX_DEPTH`) counts as
    unchanged: this flags changes, it never invents them.

    It lives here because the grading worker loads its own copy of this module before any
    learner code runs and compares each case's inputs, decoded afresh, with the ones the
    answer was given (the in-notebook check compares its deep copies the same way).

    Parameters
    ----------
    before : object
        The input as it was given (a fresh copy).
    after : object
        The same input once the answer has run.
    _depth : int
        How deep the pair lies in the values compared (0 at the top; used by the recursion).

    Returns
    -------
    bool
        False only when a change is certain.
    """
    if before is after or _depth > MAX_DEPTH:
        return True
    if type(before) is not type(after):
        return False
    try:
        if hasattr(before, "shape") and hasattr(before, "dtype") and not isinstance(before, type):
            a, b = _host_array(before), _host_array(after)
            if a.shape != b.shape or a.dtype != b.dtype:
                return False
            try:
                return bool(np.array_equal(a, b, equal_nan=True))
            except TypeError:  # equal_nan needs numbers
                return bool(np.array_equal(a, b))
        if isinstance(before, float | complex):
            return before == after or (math.isnan(abs(before)) and math.isnan(abs(after)))
        if isinstance(before, list | tuple):
            return len(before) == len(after) and all(
                same_data(x, y, _depth + 1) for x, y in zip(before, after, strict=True)
            )
        if isinstance(before, dict):
            return before.keys() == after.keys() and all(same_data(before[k], after[k], _depth + 1) for k in before)
        if isinstance(before, functools.partial):
            return (
                same_data(before.func, after.func, _depth + 1)
                and same_data(before.args, after.args, _depth + 1)
                and same_data(before.keywords, after.keywords, _depth + 1)
            )
        if dataclasses.is_dataclass(before) and not isinstance(before, type):
            return all(
                same_data(getattr(before, f.name, None), getattr(after, f.name, None), _depth + 1)
                for f in dataclasses.fields(before)
            )
        if hasattr(before, "__dict__") and not callable(before):
            return same_data(vars(before), vars(after), _depth + 1)
        if type(before).__eq__ is object.__eq__:  # equality is identity: a copy cannot be told from a change
            return True
        equal = before == after
    except RecursionError:
        return True
    except Exception:  # noqa: BLE001 - an object that cannot be compared is not called changed
        return True
    return bool(equal) if isinstance(equal, bool | np.bool_) else True
