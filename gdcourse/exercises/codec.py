"""Plain-data encoding of exercise inputs and answers (JSON, never pickle).

The grader sends inputs to an untrusted worker and reads back the values the
learner's code computed.  Both directions use this codec, so nothing but data
crosses the boundary: ``None``, booleans, integers, floats (NaN and ±inf
included), strings, lists, tuples, dicts with string keys and NumPy arrays
(arrays from any backend are copied to the host first).
"""

from __future__ import annotations

import base64
import json
import math
from typing import Any

import numpy as np

__all__ = ["CodecError", "decode", "dumps", "encode", "loads"]

_ALLOWED_DTYPES = {"bool", "int8", "int16", "int32", "int64", "uint8", "float16", "float32", "float64"}
MAX_DEPTH = 32


class CodecError(ValueError):
    """Raised when a value cannot be encoded or a payload is not valid encoded data."""


def _float(x: float) -> Any:
    if math.isfinite(x):
        return x
    return {"__float__": "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")}


def encode(obj: Any, _depth: int = 0) -> Any:
    """Turn ``obj`` into JSON-compatible data (arrays become tagged dicts)."""
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
    if isinstance(obj, list):
        return [encode(x, _depth + 1) for x in obj]
    if isinstance(obj, tuple):
        return {"__tuple__": [encode(x, _depth + 1) for x in obj]}
    if isinstance(obj, dict):
        if not all(isinstance(k, str) for k in obj):
            raise CodecError("dict keys must be strings")
        return {"__dict__": {k: encode(v, _depth + 1) for k, v in obj.items()}}
    if hasattr(obj, "shape") and hasattr(obj, "dtype"):
        from gdcourse.backend import to_numpy

        arr = np.ascontiguousarray(to_numpy(obj))
        if str(arr.dtype) not in _ALLOWED_DTYPES:
            raise CodecError(f"arrays of dtype {arr.dtype} are not supported")
        return {
            "__ndarray__": base64.b64encode(arr.tobytes()).decode("ascii"),
            "dtype": str(arr.dtype),
            "shape": list(arr.shape),
        }
    raise CodecError(f"cannot encode a value of type {type(obj).__name__}")


def decode(data: Any, _depth: int = 0) -> Any:
    """Inverse of :func:`encode`; rejects anything that is not encoded data."""
    if _depth > MAX_DEPTH:
        raise CodecError("payload is nested too deeply")
    if data is None or isinstance(data, bool | int | float | str):
        return data
    if isinstance(data, list):
        return [decode(x, _depth + 1) for x in data]
    if isinstance(data, dict):
        if set(data) == {"__float__"} and data["__float__"] in ("nan", "inf", "-inf"):
            return float(data["__float__"])
        if set(data) == {"__tuple__"} and isinstance(data["__tuple__"], list):
            return tuple(decode(x, _depth + 1) for x in data["__tuple__"])
        if set(data) == {"__dict__"} and isinstance(data["__dict__"], dict):
            return {str(k): decode(v, _depth + 1) for k, v in data["__dict__"].items()}
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


def dumps(obj: Any) -> str:
    """Encode ``obj`` and serialise it to a JSON string."""
    return json.dumps(encode(obj), allow_nan=False, separators=(",", ":"))


def loads(text: str | bytes) -> Any:
    """Parse a JSON string made by :func:`dumps` and decode it."""
    try:
        return decode(json.loads(text))
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError, TypeError) as err:
        raise CodecError(f"payload is not valid encoded data: {err}") from err
