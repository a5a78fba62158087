r"""Gradient checking: compare a backpropagated gradient with central finite differences.

The central difference approximates each partial derivative to :math:`O(h^2)`:

.. math:: \frac{\partial f}{\partial x_i} \approx \frac{f(x + h e_i) - f(x - h e_i)}{2h}

and the check reports, per parameter, the largest *relative error*

.. math:: r_i = \frac{|a_i - n_i|}{\max(|a_i|, |n_i|, \varepsilon)}

between the analytic gradient :math:`a` and the numerical one :math:`n` (:math:`\varepsilon`
avoids 0/0 where both vanish).  In float64 with :math:`h = 10^{-6}` a correct gradient gives
:math:`r \lesssim 10^{-7}`; a backpropagation bug (a transposed weight gradient, a missing factor
2) gives :math:`r` of order 1.  Near a kink (ReLU at 0, max pooling with near-ties) a correct
gradient can show a large error on a few entries: move the input away from the kink.

Perturbations are made on the host in float64 and moved to the array's device, and modules are
evaluated in float64 while they are checked (``dtype=None`` keeps the arrays' own dtype).

>>> import numpy as np
>>> from gdcourse.gradcheck import check_grad
>>> report = check_grad(lambda x: (x**3).sum(), lambda x: 3 * x**2, np.array([1.0, -2.0, 0.5]))
>>> report.passed
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from array_api_compat import device as _device

from gdcourse.autodiff.array import Tensor
from gdcourse.backend import array_namespace, rng, to_numpy

__all__ = ["GradCheckReport", "check_grad", "check_module", "numerical_grad", "relative_error"]

Array = Any


def relative_error(analytic: Any, numeric: Any, eps: float = 1e-10) -> np.ndarray:
    r"""Elementwise :math:`|a-n| / \max(|a|, |n|, \varepsilon)`, on the host in float64.

    Parameters
    ----------
    analytic : array
        The gradient :math:`a` to check (backpropagated or written by hand), of any backend.
    numeric : array
        The reference :math:`n`, e.g. :func:`numerical_grad`; the same shape as ``analytic``, else a
        :class:`ValueError`.
    eps : float
        :math:`\varepsilon`, the floor of the denominator: where both gradients vanish the error is 0, not 0/0.

    Returns
    -------
    numpy.ndarray
        float64 errors of ``analytic``'s shape, between 0 (exact agreement) and 2 (opposite signs).
    """
    a = np.asarray(to_numpy(analytic), dtype=np.float64)
    n = np.asarray(to_numpy(numeric), dtype=np.float64)
    if a.shape != n.shape:
        raise ValueError(f"analytic gradient has shape {a.shape} but numerical gradient has shape {n.shape}")
    return np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), eps)


@dataclass
class GradCheckReport:
    """Result of a gradient check: the largest relative error of each checked array.

    Attributes
    ----------
    errors : dict
        ``{name: largest relative error}`` (float) for each checked array.
    counts : dict
        ``{name: number of entries checked}``.
    tol : float
        Tolerance: the check passes when every error is at most ``tol``.
    worst : dict
        ``{name: index of the entry with the largest error}`` (a tuple), to locate a bug.

    ``repr`` shows each error rounded up to a power of ten, so it prints the same on every machine.
    """

    errors: dict[str, float]
    counts: dict[str, int]
    tol: float
    worst: dict[str, tuple[int, ...]] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """Whether every relative error is at most ``tol`` (NaN fails)."""
        return all(e <= self.tol for e in self.errors.values())

    @property
    def max_error(self) -> float:
        """The largest relative error over all arrays."""
        return max(self.errors.values(), default=0.0)

    def failed(self) -> list[str]:
        """Names of the arrays whose error exceeds ``tol``."""
        return [name for name, e in self.errors.items() if not e <= self.tol]

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        width = max((len(n) for n in self.errors), default=0)
        lines = [f"GradCheckReport({'passed' if self.passed else 'FAILED'}, tol={self.tol:.0e})"]
        for name, e in self.errors.items():
            mark = "ok" if e <= self.tol else "FAIL"
            lines.append(f"  {name:<{width}}  rel. error {_bound(e)}  ({self.counts[name]} entries)  {mark}")
        return "\n".join(lines)


def _bound(e: float) -> str:
    """``< 1e-08``: the error rounded up to a power of ten (stable across machines)."""
    if math.isnan(e):
        return "nan"
    if e == 0:
        return "= 0"
    return f"< 1e{math.floor(math.log10(e)) + 1:+03d}" if math.isfinite(e) else "inf"


def _host64(x: Any) -> np.ndarray:
    return np.array(to_numpy(x), dtype=np.float64)


def _like(host: np.ndarray, x: Array, dtype: str | None) -> Array:
    """``host`` moved to ``x``'s namespace and device, as float64 (or ``x``'s dtype if ``dtype`` is None)."""
    xp = array_namespace(x)
    target = x.dtype if dtype is None else getattr(xp, dtype)
    return xp.asarray(host, dtype=target, device=_device(x))


def _scalar(value: Any) -> float:
    v = value.data if isinstance(value, Tensor) else value
    arr = to_numpy(v)
    if np.size(arr) != 1:
        raise ValueError(f"the function must return a scalar (one element), got shape {np.shape(arr)}")
    return float(np.reshape(arr, ()))


def _entries(size: int, max_entries: int | None, gen: np.random.Generator) -> np.ndarray:
    """Flat indices to check: all of them, or ``max_entries`` drawn at random without repetition."""
    if max_entries is None or size <= max_entries:
        return np.arange(size)
    return np.sort(gen.choice(size, size=max_entries, replace=False))


def numerical_grad(
    f: Callable[[Array], Any],
    x: Array,
    h: float = 1e-6,
    *,
    dtype: str | None = "float64",
    entries: Sequence[int] | None = None,
) -> np.ndarray:
    r"""Central-difference gradient :math:`(f(x+he_i) - f(x-he_i))/2h` of a scalar function, on the host.

    Parameters
    ----------
    f : callable
        ``f(x) -> scalar`` (a number, a 0-d array or a one-element Tensor).
    x : array
        The point, of any backend; each perturbed copy is made on the host in float64 and moved
        to ``x``'s device.
    h : float
        Step.  :math:`10^{-6}` balances truncation (:math:`O(h^2)`) and rounding (:math:`O(\epsilon/h)`) in float64.
    dtype : str or None
        dtype the perturbed points are given to ``f`` in; ``None`` keeps ``x``'s (e.g. float32).
    entries : sequence of int, optional
        Flat indices to differentiate (default: all); the others are left at 0.

    Returns
    -------
    numpy.ndarray
        float64 array of ``x``'s shape.
    """
    if not h > 0:
        raise ValueError(f"h must be positive, got {h!r}")
    base = _host64(x)
    grad = np.zeros_like(base)
    flat_grad = grad.reshape(-1)
    for i in range(base.size) if entries is None else entries:
        point = base.copy()
        flat = point.reshape(-1)
        flat[i] = base.flat[i] + h
        f_plus = _scalar(f(_like(point, x, dtype)))
        flat[i] = base.flat[i] - h
        f_minus = _scalar(f(_like(point, x, dtype)))
        flat_grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def check_grad(
    f: Callable[[Array], Any],
    grad_f: Callable[[Array], Array],
    x: Array,
    *,
    h: float = 1e-6,
    tol: float = 1e-6,
    eps: float = 1e-10,
    dtype: str | None = "float64",
    name: str = "x",
) -> GradCheckReport:
    """Check ``grad_f`` against central differences of ``f`` at ``x``.

    Parameters
    ----------
    f : callable
        ``f(x) -> scalar``.
    grad_f : callable
        ``grad_f(x) -> array`` of ``x``'s shape, the gradient to check.
    x : array
        The point (any backend).
    h, dtype
        As in :func:`numerical_grad`.
    tol : float
        Largest relative error accepted.
    eps : float
        Floor of the denominator of the relative error.
    name : str
        Name shown in the report.

    Returns
    -------
    GradCheckReport
    """
    analytic = to_numpy(grad_f(_like(_host64(x), x, dtype)))
    if np.shape(analytic) != tuple(x.shape):
        raise ValueError(f"grad_f(x) has shape {np.shape(analytic)} but x has shape {tuple(x.shape)}")
    numeric = numerical_grad(f, x, h, dtype=dtype)
    err = relative_error(analytic, numeric, eps)
    worst = np.unravel_index(int(np.nanargmax(err)) if err.size else 0, err.shape) if err.size else ()
    return GradCheckReport(
        errors={name: float(err.max()) if err.size else 0.0},
        counts={name: int(err.size)},
        tol=tol,
        worst={name: tuple(int(i) for i in worst)},
    )


class _Probe:
    """A module and its loss at an input, evaluated at host float64 points: what :func:`check_module` perturbs.

    It keeps the module's own parameters (:meth:`restore` puts them back) and their float64 host copies,
    the base point of every perturbation.
    """

    def __init__(self, module: Any, x: Any, loss: Callable[[Any], Any], dtype: str | None) -> None:
        self.module, self.loss, self.dtype = module, loss, dtype
        self.x_arr = x.data if isinstance(x, Tensor) else x
        self.saved = module.parameters()
        self.names = [name for name, _ in module.named_parameters()]
        self.hosts = [_host64(p) for p in self.saved]
        self.x_host = _host64(self.x_arr)

    def load(self, arrays: list[np.ndarray]) -> None:
        """Give the module these host values as its parameters (in ``dtype``, on their devices)."""
        self.module.set_parameters([_like(a, p, self.dtype) for a, p in zip(arrays, self.saved, strict=True)])

    def evaluate(self, x_point: np.ndarray, *, grad: bool = False) -> Any:
        """The input tensor and ``loss(module(input))`` at the host point ``x_point``."""
        inp = Tensor(_like(x_point, self.x_arr, self.dtype), requires_grad=grad)
        return inp, self.loss(self.module(inp))

    def targets(self, check_input: bool) -> list[tuple[str, np.ndarray]]:
        """``(name, host float64 values)`` of each checked array: the parameters, then ``"input"``."""
        return list(zip(self.names, self.hosts, strict=True)) + ([("input", self.x_host)] if check_input else [])

    def backpropagated(self, check_input: bool) -> list[np.ndarray]:
        """The analytic gradients of :meth:`targets`, from one ``backward()`` at the base point."""
        self.load(self.hosts)
        self.module.zero_grad()
        inp, value = self.evaluate(self.x_host, grad=check_input)
        value.backward()
        analytic = [_host64(g) for g in self.module.grads()]
        if check_input:
            analytic.append(_host64(inp.grad) if inp.grad is not None else np.zeros_like(self.x_host))
        self.module.zero_grad()
        return analytic

    def central_differences(self, k: int, name: str, base: np.ndarray, entries: np.ndarray, h: float) -> np.ndarray:
        r""":math:`(L(\theta + he_i) - L(\theta - he_i))/2h` at the flat ``entries`` of target ``k`` (0 elsewhere)."""
        numeric = np.zeros(base.size)
        for i in entries:
            values = []
            for sign in (1.0, -1.0):
                point = base.copy()
                point.flat[i] += sign * h
                values.append(self.loss_at(k, name, point))
            numeric[i] = (values[0] - values[1]) / (2 * h)
        if name != "input":
            self.load(self.hosts)
        return numeric

    def loss_at(self, k: int, name: str, point: np.ndarray) -> float:
        """The loss with target ``k`` (the input, or one parameter) moved to ``point``, the others at the base."""
        if name == "input":
            return _scalar(self.evaluate(point)[1])
        self.load([point if j == k else a for j, a in enumerate(self.hosts)])
        return _scalar(self.evaluate(self.x_host)[1])

    def restore(self) -> None:
        """Give the module back its own parameters, with no gradient."""
        self.module.set_parameters(self.saved)
        self.module.zero_grad()


def _worst_entry(err: np.ndarray, entries: np.ndarray, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The index, in an array of ``shape``, of the checked entry with the largest error (``()`` if none)."""
    if not err.size:
        return ()
    return tuple(int(j) for j in np.unravel_index(int(entries[int(np.nanargmax(err))]), shape))


def check_module(
    module: Any,
    x: Any,
    loss: Callable[[Any], Any],
    *,
    h: float = 1e-6,
    tol: float = 1e-6,
    eps: float = 1e-10,
    max_entries: int | None = None,
    seed: int = 0,
    check_input: bool = True,
    dtype: str | None = "float64",
) -> GradCheckReport:
    """Check the backpropagated gradients of a :mod:`gdcourse.nn` module against central differences.

    Runs ``L = loss(module(x))``, ``L.backward()`` once for the analytic gradients, then perturbs
    each checked entry of each parameter (and of ``x``) by ``±h`` and re-evaluates ``L``.

    Parameters
    ----------
    module : gdcourse.nn.Module
        The layer or model.  Random layers (dropout) must be in evaluation mode.
    x : array or Tensor
        Input batch.
    loss : callable
        ``loss(output) -> scalar Tensor``, e.g. ``lambda out: nn.softmax_cross_entropy(out, y)``.
    h, eps, dtype
        As in :func:`check_grad`; with ``dtype="float64"`` the module's parameters and ``x`` are
        cast to float64 during the check and restored afterwards.
    tol : float
        Largest relative error accepted.
    max_entries : int, optional
        Check at most this many entries of each array, drawn at random with ``seed`` (default: all).
    seed : int
        Seed of that draw.
    check_input : bool
        Also check the gradient with respect to ``x`` (under the name ``"input"``).

    Returns
    -------
    GradCheckReport
        One entry per parameter (names of :meth:`~gdcourse.nn.Module.named_parameters`), then ``"input"``.
    """
    gen = rng(seed)
    probe = _Probe(module, x, loss, dtype)
    errors, counts, worst = {}, {}, {}
    try:
        analytic = probe.backpropagated(check_input)
        for k, (name, base) in enumerate(probe.targets(check_input)):
            entries = _entries(base.size, max_entries, gen)
            numeric = probe.central_differences(k, name, base, entries, h)
            err = relative_error(analytic[k].reshape(-1)[entries], numeric[entries], eps)
            errors[name] = float(err.max()) if err.size else 0.0
            counts[name] = int(entries.size)
            worst[name] = _worst_entry(err, entries, base.shape)
    finally:
        probe.restore()
    return GradCheckReport(errors=errors, counts=counts, tol=tol, worst=worst)
