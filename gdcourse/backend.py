"""Where new arrays live: NumPy by default, CuPy or any array-API library on request.

Every function in :mod:`gdcourse` follows the data it is given
(``xp = array_namespace(x)``); this module only decides where *new* data is
created (datasets, initial parameters, random draws).  Random numbers are always
drawn on the host with a seeded :class:`numpy.random.Generator` and then moved to
the chosen backend, so every backend sees exactly the same numbers.

The backend is chosen by the environment variable ``GDCOURSE_BACKEND``
(``numpy``, ``cupy``, ``array_api_strict`` or ``array_api_strict:device1``)
or at run time with :func:`use`.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from array_api_compat import array_namespace as _compat_array_namespace

__all__ = [
    "Backend",
    "array_module",
    "array_namespace",
    "asarray",
    "check_spec",
    "current",
    "dtype_of",
    "is_finite",
    "random_normal",
    "random_uniform",
    "rng",
    "to_numpy",
    "use",
    "using",
]

KNOWN_BACKENDS = ("numpy", "cupy", "array_api_strict")


@dataclass(frozen=True)
class Backend:
    """An array library and the device new arrays are placed on.

    Attributes
    ----------
    name : str
        Import name of the library, e.g. ``"numpy"``.
    xp : module
        The array-API namespace used to create arrays.
    device : object or None
        Device passed to ``xp.asarray(..., device=device)``; ``None`` for the default.
    """

    name: str
    xp: Any
    device: Any = None

    def __str__(self) -> str:
        return self.name if self.device is None else f"{self.name}:{self.device}"


#: Libraries that are not array backends of the course, with the reason (said when one is asked for).
NOT_BACKENDS = {
    "torch": "torch is not a supported array backend of gdcourse (it is used only to cross-check the optimizers)",
}


def check_spec(spec: Any) -> tuple[str, str]:
    """Check a backend setting such as ``"numpy"`` or ``"array_api_strict:device1"`` without importing it.

    The one check behind :func:`use`, ``GDCOURSE_BACKEND`` and ``gdcourse doctor``.

    Parameters
    ----------
    spec : str
        ``"library"`` or ``"library:device"``; ``library`` is one of :data:`KNOWN_BACKENDS`.

    Returns
    -------
    tuple of str
        The library name and the device name (``""`` for the default device).

    Raises
    ------
    TypeError
        If ``spec`` is not a string.
    ValueError
        If the library is not a supported backend (the message lists the supported ones), or a device
        is given to a library that takes none.
    """
    if not isinstance(spec, str):
        raise TypeError(f"backend must be a string such as 'numpy' or 'cupy', got {type(spec).__name__}")
    name, _, device_name = spec.strip().partition(":")
    name, device_name = name.strip(), device_name.strip()
    supported = "supported backends: " + ", ".join(KNOWN_BACKENDS) + " (array_api_strict and cupy take ':device')"
    if not name:
        raise ValueError(f"backend name is empty; {supported}")
    if name in NOT_BACKENDS:
        raise ValueError(f"backend {name!r} refused: {NOT_BACKENDS[name]}; {supported}")
    if name not in KNOWN_BACKENDS:
        raise ValueError(f"backend {name!r} is not supported; {supported}")
    if device_name and name == "numpy":
        raise ValueError(f"backend {name!r} does not take a device (got {device_name!r}); {supported}")
    if device_name and name == "cupy" and not device_name.isdigit():
        raise ValueError(f"backend 'cupy' takes a GPU number as device (got {device_name!r}); {supported}")
    return name, device_name


def _load(spec: str) -> Backend:
    name, device_name = check_spec(spec)
    try:
        module = importlib.import_module(name)
    except ImportError as err:
        hint = " (install it with `pip install cupy-cuda12x` on a machine with an NVIDIA GPU)" if name == "cupy" else ""
        raise ValueError(
            f"backend {name!r} cannot be imported{hint}; known backends: {', '.join(KNOWN_BACKENDS)}"
        ) from err
    xp = array_namespace(module.asarray([0.0]))
    device = None
    if device_name:
        if name == "array_api_strict":
            device = module.Device(device_name)
        elif name == "cupy":
            device = module.cuda.Device(int(device_name))
        else:
            raise ValueError(f"backend {name!r} does not take a device (got {device_name!r})")
    return Backend(name=name, xp=xp, device=device)


_current: Backend | None = None
_NAMESPACE_OF_TYPE: dict[type, Any] = {}


def array_namespace(*arrays: Any, **kwargs: Any) -> Any:
    """The array-API namespace of ``arrays`` (:func:`array_api_compat.array_namespace`).

    The answer for a single array depends only on its type, so it is remembered per
    type: a training step asks this question dozens of times, and the full lookup
    was measured at 14% of an MLP step's time on digits.

    Parameters
    ----------
    *arrays : array
        Arrays of one library (NumPy, CuPy, ``array_api_strict``, torch...); arrays of two libraries, or
        something that is not an array (a list, a number), raise :class:`TypeError`.
    **kwargs
        Passed to :func:`array_api_compat.array_namespace` (``api_version``, ``use_compat``); with any of
        them, or with several arrays, nothing is remembered.
    """
    if len(arrays) != 1 or kwargs:
        return _compat_array_namespace(*arrays, **kwargs)
    cls = type(arrays[0])
    xp = _NAMESPACE_OF_TYPE.get(cls)
    if xp is None:
        xp = _NAMESPACE_OF_TYPE[cls] = _compat_array_namespace(arrays[0])
    return xp


def current() -> Backend:
    """Return the active backend (read from ``GDCOURSE_BACKEND`` on first use)."""
    global _current
    if _current is None:
        spec = os.environ.get("GDCOURSE_BACKEND", "numpy") or "numpy"
        try:
            _current = _load(spec)
        except ValueError as err:
            raise ValueError(f"GDCOURSE_BACKEND={spec!r} in the environment: {err}") from None
    return _current


def use(name: str) -> Backend:
    """Create new arrays with the library ``name`` from now on.

    Parameters
    ----------
    name : str
        ``"numpy"``, ``"cupy"``, ``"array_api_strict"``, or ``"library:device"``,
        e.g. ``"array_api_strict:device1"`` (arrays on a non-host device, where any
        hidden NumPy call fails as it would on a GPU).

    Returns
    -------
    Backend
        The backend now active.

    Raises
    ------
    ValueError
        If ``name`` is not one of :data:`KNOWN_BACKENDS` (``"torch"`` is refused: it is used only for
        cross-checks), with a message listing the supported ones.
    """
    global _current
    if not isinstance(name, str):
        raise TypeError(f"name must be a string such as 'numpy' or 'cupy', got {type(name).__name__}")
    _current = _load(name)  # check_spec refuses anything but KNOWN_BACKENDS (torch with its reason)
    return _current


@contextlib.contextmanager
def using(name: str) -> Iterator[Backend]:
    """Context manager: use backend ``name`` inside the ``with`` block, then restore."""
    global _current
    previous = _current
    try:
        yield use(name)
    finally:
        _current = previous


#: Functions of the array API that create arrays from nothing (they take ``device=``).
CREATION_FUNCTIONS = frozenset({"arange", "asarray", "empty", "eye", "full", "linspace", "ones", "zeros"})


class _OnDevice:
    """The namespace ``xp`` with its creation functions placing arrays on ``device`` by default."""

    def __init__(self, xp: Any, device: Any) -> None:
        self._xp = xp
        self._device = device

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._xp, name)
        if name in CREATION_FUNCTIONS:
            return functools.partial(attribute, device=self._device)
        return attribute

    def __repr__(self) -> str:
        return f"<array module {self._xp.__name__} on {self._device}>"


_MODULE_OF_BACKEND: dict[Backend, Any] = {}


def array_module() -> Any:
    """The array module of the active backend, for notebooks: ``xp = gdcourse.array_module()``.

    ``xp.sqrt``, ``xp.mean``, ``xp.linalg.vector_norm`` ... work on the arrays of
    the active backend (NumPy by default, CuPy on a GPU), and ``xp.zeros``,
    ``xp.asarray``, ``xp.linspace`` and the other creation functions put new
    arrays on the backend's device.  It follows the array API standard, so code
    written with it runs unchanged on every backend.
    """
    backend = current()
    if backend.device is None:
        return backend.xp
    module = _MODULE_OF_BACKEND.get(backend)
    if module is None:
        module = _MODULE_OF_BACKEND[backend] = _OnDevice(backend.xp, backend.device)
    return module


def _resolve_dtype(xp: Any, dtype: Any) -> Any:
    if dtype is None or not isinstance(dtype, str):
        return dtype
    try:
        return getattr(xp, dtype)
    except AttributeError:
        expected = "expected e.g. 'float32' or 'float64'"
        raise ValueError(f"dtype {dtype!r} is not a dtype of this backend; {expected}") from None


def asarray(x: Any, dtype: Any = None) -> Any:
    """Move ``x`` (a number, list or host array) to the active backend.

    Parameters
    ----------
    x : array_like
        Data on the host (NumPy array, list, scalar) or already on the backend.
    dtype : str or dtype, optional
        ``"float32"``, ``"float64"`` or a dtype of the backend; default keeps ``x``'s.
    """
    backend = current()
    xp = backend.xp
    kwargs = {} if backend.device is None else {"device": backend.device}
    return xp.asarray(x, dtype=_resolve_dtype(xp, dtype), **kwargs)


def to_numpy(x: Any) -> np.ndarray:
    """Copy an array from any backend to a NumPy array on the host (for printing and plotting)."""
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, int | float | complex | np.generic | list | tuple):
        return np.asarray(x)
    module = type(x).__module__.split(".")[0]
    if module == "cupy":
        return x.get()
    if module == "array_api_strict":
        import array_api_strict

        return np.asarray(x.to_device(array_api_strict.Device("CPU_DEVICE")))
    if module == "torch":
        return x.detach().cpu().numpy()
    return np.asarray(x)


def dtype_of(x: Any) -> str:
    """Name of the dtype of ``x``, e.g. ``"float32"`` (same string on every backend)."""
    return str(to_numpy(x[..., :0] if getattr(x, "ndim", 0) else x).dtype)


def is_finite(x: Any) -> bool:
    """``True`` when every entry of ``x`` is finite (no NaN, no ±inf)."""
    xp = array_namespace(x)
    return bool(xp.all(xp.isfinite(x)))


def rng(seed: int | np.random.Generator | None = None) -> np.random.Generator:
    """A seeded NumPy random generator on the host.

    Passing a generator returns it unchanged, so functions can take either.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and (not isinstance(seed, int | np.integer) or seed < 0):
        raise ValueError(f"seed must be a non-negative integer or a numpy Generator, got {seed!r}")
    return np.random.default_rng(seed)


def random_normal(
    shape: int | Sequence[int],
    *,
    seed: int | np.random.Generator | None = None,
    scale: float = 1.0,
    dtype: str = "float64",
) -> Any:
    r"""Draw ``N(0, scale²)`` samples on the host and move them to the active backend.

    Parameters
    ----------
    shape : int or sequence of int
        The shape of the array drawn.
    seed : int, numpy Generator or None
        Passed to :func:`rng`: the same integer gives the same samples on every backend; ``None`` draws fresh
        entropy.
    scale : float
        The standard deviation :math:`\sigma`, at least 0.
    dtype : str
        The name of a floating dtype, ``"float64"`` by default: the samples are drawn in float64 and rounded
        to it.
    """
    host = rng(seed).normal(0.0, scale, size=shape).astype(dtype)
    return asarray(host, dtype=dtype)


def random_uniform(
    shape: int | Sequence[int],
    *,
    low: float = 0.0,
    high: float = 1.0,
    seed: int | np.random.Generator | None = None,
    dtype: str = "float64",
) -> Any:
    r"""Draw ``U[low, high)`` samples on the host and move them to the active backend.

    Parameters
    ----------
    shape : int or sequence of int
        How many samples, as an array shape.
    low, high : float
        The interval :math:`[\text{low}, \text{high})`, 0 and 1 by default.
    seed : int, numpy Generator or None
        Seed of the host generator (:func:`rng`); a generator passed in advances.
    dtype : str
        The floating dtype of the result, float64 by default.
    """
    host = rng(seed).uniform(low, high, size=shape).astype(dtype)
    return asarray(host, dtype=dtype)
