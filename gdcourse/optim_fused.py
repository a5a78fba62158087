r"""Fast path of the Adam, SGD (with momentum) and RMSprop steps, equal to the readable rules of :mod:`gdcourse.optim`.

The readable rule, e.g. ``theta - lr * m_hat / (xp.sqrt(v_hat) + eps)``, creates a new full-size
array for every operator: about ten temporaries per Adam step, each of them written to memory, read
back and freed.  On 10 million parameters that is several hundred megabytes of memory traffic and a
page fault on every fresh block.  This module computes *the same operations in the same order*
(so the results are equal bit for bit on NumPy) without the temporaries:

* **NumPy**: the arrays are walked in chunks of :data:`CHUNK` elements.  For each chunk every
  operation is one ufunc with ``out=`` into one of three small scratch buffers that stay in the
  CPU's caches, so each big array is read once from memory and each result written once per step.
* **CuPy**: the whole update is one elementwise GPU kernel made by ``cupy.fuse`` from a few lines
  of Python (the ``_*_body`` functions below, which the tests also run on NumPy against the
  reference).  The GPU compiler may contract ``a*b + c`` into one fused multiply-add, so on a GPU
  the results equal the reference up to rounding rather than bit for bit.
* Any other array library (``array_api_strict``, torch, ...) and non-contiguous NumPy arrays use
  the readable rule.

**Two ways to use it, both explicit.**  :meth:`gdcourse.optim.Optimizer.step` never modifies what
the caller holds: a fused step writes the new parameters and buffers into fresh arrays (an old state
stays valid; a loop that keeps every iterate sees each one unchanged).
:meth:`gdcourse.optim.Optimizer.step_in_place` overwrites the caller's parameter arrays and the
state's buffers, as ``torch.optim`` does: nothing is allocated after the first step, which is what
makes the fast path fast on large arrays (a fresh 40 MB array costs a page fault per 4 KiB page on
first touch).  Every operation of a chunk reads an element before it writes the same element, so
writing the outputs over the inputs gives the same numbers.

**Selection.**  ``adam``, ``sgd`` and ``rmsprop`` take ``fused=None`` (default: per parameter array,
the fast path for NumPy or CuPy arrays of at least :data:`FUSED_MIN_SIZE` elements), ``True`` (for
every NumPy/CuPy array, however small; other libraries still use the readable rule) or ``False``
(always the readable rule).  ``adamw`` and ``amsgrad`` go through ``adam`` and are fused by size.
Those rules of :mod:`gdcourse.optim` check their hyperparameters and pass them on to the functions of
the same names here, which do not check them again.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["CHUNK", "FUSED_MIN_SIZE", "FusedRule", "adam", "rmsprop", "sgd"]

FUSED_MIN_SIZE = 1 << 20
"""Smallest parameter array (1,048,576 elements) that takes the fast path when ``fused=None``.

Below it the readable rule's temporaries fit in the caches and the fast path gains little."""

CHUNK = 1 << 16
"""Elements per chunk on NumPy (65,536: 256 KiB of float32 per operand).

Each chunk costs about fourteen ufunc calls of fixed overhead (≈ 0.5 µs each), so chunks must not be
small; the scratch buffers and the chunk's results must stay in the L2/L3 caches, so not large either.
Measured with ``benchmarks/optimizer_step.py --chunks``: 16K-elements chunks were ~30% slower, 256K
and 512K no faster (on a 1 MiB-L2 AMD EPYC)."""

Array = Any
Slots = dict[str, Array]


# ----------------------------------------------------------------------------------------------
# The fused rule: selection, NumPy chunk loop, CuPy kernel
# ----------------------------------------------------------------------------------------------


class FusedRule:
    """Fast path of one update rule, used by :class:`gdcourse.optim.Optimizer` where :meth:`applies`.

    Parameters
    ----------
    name : str
        Name of the rule (also names the CuPy kernel).
    mode : bool or None
        ``None``: arrays of at least :data:`FUSED_MIN_SIZE` elements; ``True``: every size.
    slots : tuple of str
        The rule's state buffers, in the order of the kernels' arguments.
    constants : callable
        ``constants(t, lr) -> tuple of float``: the scalars of update number ``t`` (1-based).
    chunk : callable
        ``chunk(c, theta, g, s, theta_out, s_out, tmp)`` for NumPy: one chunk, every operation a
        ufunc with ``out=``; ``c`` are the constants in the arrays' dtype, ``s``/``s_out`` the slot
        chunks in order, ``tmp`` three scratch arrays of the chunk's length.
    body : callable
        ``body(xp)`` returns the elementwise update
        ``f(theta, g, *slots, *constants) -> (theta, *slots)`` written with operators, ``xp.sqrt``
        and ``xp.maximum`` only (fused into one kernel by ``cupy.fuse``).

    Notes
    -----
    The caller has already checked that ``g`` matches ``theta`` (shape and dtype) and that ``lr``
    is positive; ``maximize`` and weight decay are applied inside the kernels.
    """

    def __init__(
        self,
        name: str,
        mode: bool | None,
        slots: tuple[str, ...],
        constants: Callable[[int, float], tuple[float, ...]],
        chunk: Callable[..., None],
        body: Callable[[Any], Callable[..., tuple[Array, ...]]],
    ) -> None:
        self.name = name
        self.mode = mode
        self.slots = slots
        self.constants = constants
        self.chunk = chunk
        self.body = body
        self._cupy_kernel: Callable[..., Any] | None = None

    def __repr__(self) -> str:
        return f"FusedRule({self.name!r}, mode={self.mode!r})"

    def applies(self, theta: Array, g: Array, s: Slots) -> bool:
        """``True`` when this parameter array takes the fast path (see the module docstring).

        Parameters
        ----------
        theta : array
            One parameter array: the fast path needs a floating NumPy array (C-contiguous) or a CuPy
            array, of at least :data:`FUSED_MIN_SIZE` elements unless ``mode`` is ``True``.
        g : array
            Its gradient, of the same library, shape and dtype (and contiguity on NumPy).
        s : dict of str to array
            Its state buffers, by slot name; each of :attr:`slots` must match ``theta`` like ``g``.

        Returns
        -------
        bool
            ``False`` sends the array to the readable rule (same numbers, more memory traffic).
        """
        library = _library(theta)
        if library is None or (self.mode is None and theta.size < FUSED_MIN_SIZE):
            return False
        others = [g, *(s.get(name) for name in self.slots)]
        if any(_library(a) != library or a.shape != theta.shape or a.dtype != theta.dtype for a in others):
            return False
        # NumPy chunks are taken from flat views, which needs C-contiguous arrays
        return library == "cupy" or all(a.flags.c_contiguous for a in (theta, *others))

    def __call__(
        self, theta: Array, g: Array, s: Slots, t: int, lr: float, *, in_place: bool = False
    ) -> tuple[Array, Slots]:
        """One update of one parameter array: ``(new theta, new slots)``.

        By default the inputs are only read and the results are fresh arrays; with ``in_place``
        the results are written over ``theta`` and the arrays of ``s``, which are returned.
        """
        # Python floats are cast to the arrays' dtype, exactly as NumPy casts them in the readable
        # rule (a float32 array times a Python float is computed in float32).  On NumPy they become
        # 0-d arrays, which a ufunc takes about twice as fast as a scalar (it need not convert them).
        if _library(theta) == "cupy":
            constants = tuple(theta.dtype.type(x) for x in self.constants(t, lr))
            return self._cupy_step(theta, g, s, constants, in_place)
        constants = tuple(np.asarray(x, theta.dtype) for x in self.constants(t, lr))
        return self._numpy_step(theta, g, s, constants, in_place)

    def _numpy_step(
        self, theta: np.ndarray, g: np.ndarray, s: Slots, c: tuple[Any, ...], in_place: bool
    ) -> tuple[Array, Slots]:
        if in_place:
            out = {"theta": theta, **{name: s[name] for name in self.slots}}
        else:
            out = {name: np.empty(theta.shape, theta.dtype) for name in ("theta", *self.slots)}
        flat_in = [theta.reshape(-1), g.reshape(-1), *(s[name].reshape(-1) for name in self.slots)]
        flat_out = [out["theta"].reshape(-1), *(out[name].reshape(-1) for name in self.slots)]
        n, k = theta.size, len(self.slots)
        scratch = [np.empty(min(n, CHUNK), theta.dtype) for _ in range(3)]
        for start in range(0, n, CHUNK):
            stop = min(start + CHUNK, n)
            a = [x[start:stop] for x in flat_in]
            b = [x[start:stop] for x in flat_out]
            tmp = scratch if stop - start == len(scratch[0]) else [x[: stop - start] for x in scratch]
            self.chunk(c, a[0], a[1], a[2 : 2 + k], b[0], b[1 : 1 + k], tmp)
        return out["theta"], {name: out[name] for name in self.slots}

    def _cupy_step(self, theta: Array, g: Array, s: Slots, c: tuple[Any, ...], in_place: bool) -> tuple[Array, Slots]:
        if self._cupy_kernel is None:
            import cupy

            self._cupy_kernel = cupy.fuse(kernel_name=f"gdcourse_{self.name}")(self.body(cupy))
        new = self._cupy_kernel(theta, g, *(s[name] for name in self.slots), *c)
        new = new if isinstance(new, tuple) else (new,)
        if in_place:
            targets = (theta, *(s[name] for name in self.slots))
            for target, value in zip(targets, new, strict=True):
                target[...] = value
            new = targets
        return new[0], dict(zip(self.slots, new[1:], strict=True))


def _library(a: Any) -> str | None:
    """``"numpy"`` for a plain NumPy array, ``"cupy"`` for a CuPy array, otherwise ``None``."""
    if type(a) is np.ndarray:
        return "numpy" if np.issubdtype(a.dtype, np.floating) else None
    cupy = sys.modules.get("cupy")
    if cupy is not None and isinstance(a, cupy.ndarray):
        return "cupy"
    return None


# ----------------------------------------------------------------------------------------------
# The three rules: constants, NumPy chunk, elementwise body (same operations, same order as optim)
# ----------------------------------------------------------------------------------------------


def _gradient(g: np.ndarray, theta: np.ndarray, out: np.ndarray, wd: Any, maximize: bool, l2: bool) -> np.ndarray:
    r"""The gradient the rule sees: :math:`g \leftarrow -g` (maximize), then :math:`g + \lambda\theta` (L2)."""
    if l2:
        np.multiply(theta, wd, out=out)
        return np.subtract(out, g, out=out) if maximize else np.add(g, out, out=out)  # λθ − g == (−g) + λθ
    return np.negative(g, out=out) if maximize else g


def adam(
    mode: bool | None,
    *,
    betas: tuple[float, float],
    eps: float,
    weight_decay: float,
    amsgrad: bool,
    maximize: bool,
    decoupled: bool,
) -> FusedRule | None:
    r"""Fast path of :func:`gdcourse.optim.adam` (``None`` when ``mode`` is ``False``).

    .. math::
        m &\leftarrow \beta_1 m + (1-\beta_1)\, g, \qquad v \leftarrow \beta_2 v + (1-\beta_2)\, g^2 \\
        \theta &\leftarrow \theta - \eta\, \frac{m/(1-\beta_1^t)}{\sqrt{v/(1-\beta_2^t)} + \epsilon}

    with :math:`v` replaced by :math:`v_{\max} \leftarrow \max(v_{\max}, v)` for AMSGrad and
    :math:`\theta \leftarrow \theta(1-\eta\lambda)` first for decoupled weight decay (AdamW).

    Parameters
    ----------
    mode : bool or None
        The optimizer's ``fused`` argument: ``None`` takes the fast path for arrays of at least
        :data:`FUSED_MIN_SIZE` elements, ``True`` for every NumPy/CuPy array, ``False`` never (then this
        returns ``None``); anything else raises :class:`TypeError`.
    betas : (float, float)
        :math:`\beta_1, \beta_2 \in [0, 1)`, the decay rates of :math:`m` and :math:`v`.
    eps : float
        :math:`\epsilon \ge 0`, added to :math:`\sqrt{\hat v}`.
    weight_decay : float
        :math:`\lambda \ge 0`: L2 (:math:`g \leftarrow g + \lambda\theta`), or decoupled with ``decoupled``.
    amsgrad : bool
        Normalise by :math:`\sqrt{v_{\max}}` (a third buffer, ``v_max``).
    maximize : bool
        Ascend: the rule sees :math:`-g`.
    decoupled : bool
        Apply ``weight_decay`` as :math:`\theta \leftarrow \theta(1-\eta\lambda)` (AdamW) instead of as L2.

    Returns
    -------
    FusedRule or None
        The fast path, with slots ``("m", "v")`` (and ``"v_max"``).
    """
    if not _check_mode(mode):
        return None
    beta1, beta2 = betas
    l2 = weight_decay != 0 and not decoupled
    slots = ("m", "v", "v_max") if amsgrad else ("m", "v")

    def constants(t: int, lr: float) -> tuple[float, ...]:
        decay = 1 - lr * weight_decay
        return (weight_decay, decay, beta1, 1 - beta1, beta2, 1 - beta2, 1 - beta1**t, 1 - beta2**t, lr, eps)

    chunk = _adam_chunk(l2=l2, decoupled=decoupled, amsgrad=amsgrad, maximize=maximize)
    body = _adam_body(l2=l2, decoupled=decoupled, amsgrad=amsgrad, maximize=maximize)
    return FusedRule("adam", mode, slots, constants, chunk, body)


def _adam_chunk(*, l2: bool, decoupled: bool, amsgrad: bool, maximize: bool) -> Callable[..., None]:
    """The NumPy chunk of :func:`adam`: the readable rule's operations, each a ufunc with ``out=``."""

    def chunk(c, theta, g, s, theta_out, s_out, tmp):
        wd, decay, b1, one_b1, b2, one_b2, c1, c2, lr, eps_ = c
        a, b, gbuf = tmp
        g = _gradient(g, theta, gbuf, wd, maximize, l2)
        if decoupled:
            theta = np.multiply(theta, decay, out=theta_out)  # θ ← θ(1 − ηλ)
        m, v = s_out[0], s_out[1]
        np.multiply(s[0], b1, out=m)  # m ← β1 m + (1 − β1) g
        np.multiply(g, one_b1, out=a)
        np.add(m, a, out=m)
        np.square(g, out=a)  # v ← β2 v + (1 − β2) g²
        np.multiply(a, one_b2, out=a)
        np.multiply(s[1], b2, out=v)
        np.add(v, a, out=v)
        if amsgrad:
            v = np.maximum(s[2], v, out=s_out[2])  # v_max ← max(v_max, v)
        np.divide(v, c2, out=a)  # a = √(v / (1 − β2^t)) + ε
        np.sqrt(a, out=a)
        np.add(a, eps_, out=a)
        np.divide(m, c1, out=b)  # b = η (m / (1 − β1^t)) / a
        np.multiply(b, lr, out=b)
        np.divide(b, a, out=b)
        np.subtract(theta, b, out=theta_out)  # θ ← θ − b

    return chunk


def _adam_body(*, l2: bool, decoupled: bool, amsgrad: bool, maximize: bool) -> Callable[[Any], Callable[..., Any]]:
    """The elementwise update of :func:`adam`, written with operators for ``cupy.fuse``."""

    def body(xp):
        def adam_step(theta, g, m, v, *rest):
            v_max, rest = (rest[0], rest[1:]) if amsgrad else (None, rest)
            wd, decay, b1, one_b1, b2, one_b2, c1, c2, lr, eps_ = rest
            g = -g if maximize else g
            g = g + wd * theta if l2 else g
            theta = theta * decay if decoupled else theta
            m = b1 * m + one_b1 * g
            v = b2 * v + one_b2 * (g * g)
            new: tuple[Any, ...] = (m, v)
            if amsgrad:
                v_max = xp.maximum(v_max, v)
                new, v = (m, v, v_max), v_max
            return (theta - lr * (m / c1) / (xp.sqrt(v / c2) + eps_), *new)

        return adam_step

    return body


def sgd(
    mode: bool | None, *, momentum: float, dampening: float, weight_decay: float, nesterov: bool, maximize: bool
) -> FusedRule | None:
    r"""Fast path of :func:`gdcourse.optim.sgd` (``None`` when ``mode`` is ``False``).

    .. math::
        b \leftarrow \mu b + (1-d)\, g \quad (b \leftarrow g \text{ at } t = 1), \qquad
        \theta \leftarrow \theta - \eta\, b \quad\text{or}\quad \theta - \eta\,(g + \mu b)\ \text{(Nesterov)}

    and :math:`\theta \leftarrow \theta - \eta g` without momentum.

    Parameters
    ----------
    mode
        As for :func:`adam`.
    momentum : float
        :math:`\mu \in [0, 1)`; 0 keeps no buffer.
    dampening : float
        :math:`d \in [0, 1]`, not applied at the first step (there :math:`b = g`).
    weight_decay : float
        L2 coefficient :math:`\lambda \ge 0`: :math:`g \leftarrow g + \lambda\theta`.
    nesterov : bool
        Step along :math:`g + \mu b` instead of :math:`b`.
    maximize : bool
        Ascend: the rule sees :math:`-g`, as in :func:`adam`.

    Returns
    -------
    FusedRule or None
        The fast path, with slot ``("b",)`` when ``momentum != 0``, else none.
    """
    if not _check_mode(mode):
        return None
    slots = ("b",) if momentum != 0 else ()
    l2 = weight_decay != 0

    def constants(t: int, lr: float) -> tuple[float, ...]:
        # the first buffer is the gradient itself: b = 0·b + 1·g
        mu_b, one_d = (0.0, 1.0) if t == 1 else (momentum, 1 - dampening)
        return (weight_decay, mu_b, one_d, momentum, lr)

    chunk = _sgd_chunk(momentum=momentum, dampening=dampening, nesterov=nesterov, maximize=maximize, l2=l2)
    body = _sgd_body(momentum=momentum, nesterov=nesterov, maximize=maximize, l2=l2)
    return FusedRule("sgd", mode, slots, constants, chunk, body)


def _sgd_chunk(*, momentum: float, dampening: float, nesterov: bool, maximize: bool, l2: bool) -> Callable[..., None]:
    """The NumPy chunk of :func:`sgd`: the readable rule's operations, each a ufunc with ``out=``."""

    def chunk(c, theta, g, s, theta_out, s_out, tmp):
        wd, mu_b, one_d, mu, lr = c
        a, _, gbuf = tmp
        g = _gradient(g, theta, gbuf, wd, maximize, l2)
        direction = g
        if momentum != 0:
            b = direction = s_out[0]
            if mu_b == 0:  # first step: b is a copy of g
                np.copyto(b, g)
            else:  # b ← μ b + (1 − d) g   (1·g is g: skip the multiplication)
                np.multiply(s[0], mu_b, out=b)
                np.add(b, g if dampening == 0 else np.multiply(g, one_d, out=a), out=b)
            if nesterov:  # direction = g + μ b
                direction = np.add(g, np.multiply(b, mu, out=a), out=a)
        np.multiply(direction, lr, out=a)
        np.subtract(theta, a, out=theta_out)  # θ ← θ − η direction

    return chunk


def _sgd_body(*, momentum: float, nesterov: bool, maximize: bool, l2: bool) -> Callable[[Any], Callable[..., Any]]:
    """The elementwise update of :func:`sgd`, written with operators for ``cupy.fuse``."""

    def body(xp):
        def sgd_step(theta, g, *rest):
            b, rest = (rest[0], rest[1:]) if momentum != 0 else (None, rest)
            wd, mu_b, one_d, mu, lr = rest
            g = -g if maximize else g
            g = g + wd * theta if l2 else g
            if momentum == 0:
                return (theta - lr * g,)
            b = mu_b * b + one_d * g
            direction = g + mu * b if nesterov else b
            return (theta - lr * direction, b)

        return sgd_step

    return body


def rmsprop(
    mode: bool | None,
    *,
    alpha: float,
    eps: float,
    weight_decay: float,
    momentum: float,
    centered: bool,
    maximize: bool,
) -> FusedRule | None:
    r"""Fast path of :func:`gdcourse.optim.rmsprop` (``None`` when ``mode`` is ``False``).

    .. math::
        v &\leftarrow \alpha v + (1-\alpha)\, g^2, \qquad
        \bar g \leftarrow \alpha \bar g + (1-\alpha)\, g \ \text{(centered)} \\
        s &= g / \left(\sqrt{v - \bar g^2} + \epsilon\right), \qquad
        b \leftarrow \mu b + s \ \text{(momentum)}, \qquad \theta \leftarrow \theta - \eta\, s \text{ (or } b)

    Parameters
    ----------
    mode
        As for :func:`adam`.
    alpha : float
        :math:`\alpha \in [0, 1)`, the decay rate of the averages.
    eps : float
        :math:`\epsilon \ge 0`, added to the root.
    weight_decay : float
        L2 coefficient :math:`\lambda \ge 0`: :math:`g \leftarrow g + \lambda\theta`.
    momentum : float
        :math:`\mu \in [0, 1)`; 0 keeps no buffer ``b``.
    centered : bool
        Normalise by the estimated variance :math:`v - \bar g^2` (a buffer ``g_avg``) instead of :math:`v`.
    maximize : bool
        Ascend: the rule sees :math:`-g`, as in :func:`adam`.

    Returns
    -------
    FusedRule or None
        The fast path, with slots ``("v",)``, then ``"g_avg"`` (centered) and ``"b"`` (momentum).
    """
    if not _check_mode(mode):
        return None
    slots = ("v",) + (("g_avg",) if centered else ()) + (("b",) if momentum > 0 else ())
    l2 = weight_decay != 0

    def constants(t: int, lr: float) -> tuple[float, ...]:
        return (weight_decay, alpha, 1 - alpha, eps, momentum, lr)

    chunk = _rmsprop_chunk(centered=centered, momentum=momentum, maximize=maximize, l2=l2)
    body = _rmsprop_body(centered=centered, momentum=momentum, maximize=maximize, l2=l2)
    return FusedRule("rmsprop", mode, slots, constants, chunk, body)


def _rmsprop_chunk(*, centered: bool, momentum: float, maximize: bool, l2: bool) -> Callable[..., None]:
    """The NumPy chunk of :func:`rmsprop`: the readable rule's operations, each a ufunc with ``out=``."""

    def chunk(c, theta, g, s, theta_out, s_out, tmp):
        wd, al, one_al, eps_, mu, lr = c
        a, b, gbuf = tmp
        g = _gradient(g, theta, gbuf, wd, maximize, l2)
        v = s_out[0]
        np.square(g, out=a)  # v ← α v + (1 − α) g²
        np.multiply(a, one_al, out=a)
        np.multiply(s[0], al, out=v)
        np.add(v, a, out=v)
        if centered:
            g_avg = s_out[1]
            np.multiply(s[1], al, out=g_avg)  # ḡ ← α ḡ + (1 − α) g
            np.multiply(g, one_al, out=a)
            np.add(g_avg, a, out=g_avg)
            np.square(g_avg, out=a)  # a = √(v − ḡ²)
            np.subtract(v, a, out=a)
            np.sqrt(a, out=a)
        else:
            np.sqrt(v, out=a)
        np.add(a, eps_, out=a)
        step = np.divide(g, a, out=a)  # step = g / (a + ε)
        if momentum > 0:
            step = np.add(np.multiply(s[-1], mu, out=s_out[-1]), step, out=s_out[-1])  # b ← μ b + step
        np.multiply(step, lr, out=b)
        np.subtract(theta, b, out=theta_out)  # θ ← θ − η step

    return chunk


def _rmsprop_body(*, centered: bool, momentum: float, maximize: bool, l2: bool) -> Callable[[Any], Callable[..., Any]]:
    """The elementwise update of :func:`rmsprop`, written with operators for ``cupy.fuse``."""

    def body(xp):
        def rmsprop_step(theta, g, v, *rest):
            g_avg, rest = (rest[0], rest[1:]) if centered else (None, rest)
            b, rest = (rest[0], rest[1:]) if momentum > 0 else (None, rest)
            wd, al, one_al, eps_, mu, lr = rest
            g = -g if maximize else g
            g = g + wd * theta if l2 else g
            v = al * v + one_al * (g * g)
            new: tuple[Any, ...] = (v,)
            if centered:
                g_avg = al * g_avg + one_al * g
                new = (v, g_avg)
                step = g / (xp.sqrt(v - g_avg * g_avg) + eps_)
            else:
                step = g / (xp.sqrt(v) + eps_)
            if momentum > 0:
                step = mu * b + step
                new = (*new, step)
            return (theta - lr * step, *new)

        return rmsprop_step

    return body


def _check_mode(mode: Any) -> bool:
    """``True`` when a fast path is wanted (``mode`` is ``None`` or ``True``)."""
    if mode is not None and not isinstance(mode, bool):
        raise TypeError(f"fused must be None (automatic, by size), True or False, got {mode!r}")
    return mode is not False
