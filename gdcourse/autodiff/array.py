r"""An array reverse-mode engine: the scalar engine's idea, one array per node, for real models.

A :class:`Tensor` wraps an array of any array-API library (NumPy, CuPy, ``array_api_strict``...) and
follows it: every operation uses the array's own namespace and device, and keeps its dtype.
Each operation records its parents and one *backward rule* ``g -> (grad for each parent)``, the
vector-Jacobian product :math:`\bar x = J^\top \bar y` written as a formula, e.g. for
:math:`Y = AB`: :math:`\bar A = \bar Y B^\top`, :math:`\bar B = A^\top \bar Y`.

**Broadcasting.**  When ``a + b`` broadcasts ``b`` of shape ``(3,)`` against ``a`` of shape
``(N, 3)``, ``b`` is used N times, so its gradient is the *sum* of the N row gradients.  One helper,
:func:`unbroadcast`, applies this to every rule: a gradient is summed over the axes its parent
was broadcast along before it is accumulated.

Only tensors that need a gradient are recorded: inputs default to ``requires_grad=False``, so
a graph holds just the paths from parameters to the loss.

>>> import numpy as np
>>> from gdcourse.autodiff import Tensor
>>> W = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
>>> x = Tensor(np.array([[1.0, 2.0]]))
>>> loss = (x @ W).relu().sum()        # x W = [7, 10]: both units active
>>> loss.backward()
>>> W.grad.tolist()                    # W̄ = xᵀ Ȳ
[[1.0, 1.0], [2.0, 2.0]]

New operations are added with :meth:`Tensor.from_op` (used by :mod:`gdcourse.nn` for its fused
softmax cross-entropy): give the forward result, the parents, and the backward rule.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from array_api_compat import device as _device
from array_api_compat import is_array_api_obj

from gdcourse.backend import array_namespace, asarray, to_numpy

__all__ = ["Tensor", "as_tensor", "concat", "stack", "unbroadcast"]

Array = Any
Grads = Sequence[Array | None]
Backward = Callable[[Array], Grads]


def unbroadcast(xp: Any, g: Array, shape: tuple[int, ...]) -> Array:
    """Sum ``g`` over the axes along which an array of ``shape`` was broadcast to ``g.shape``.

    Leading axes that broadcasting added are summed away; axes where ``shape`` has 1 and ``g`` has
    more are summed with ``keepdims``.  The result has ``shape``.

    Parameters
    ----------
    xp : namespace
        The array-API namespace of ``g``.
    g : array
        A gradient of the broadcast result's shape, e.g. ``(N, 3)`` for ``a + b`` with ``a`` of shape ``(N, 3)``.
    shape : tuple of int
        The shape of the parent before broadcasting, e.g. ``(3,)`` for ``b``; ``g`` itself is returned when the
        shapes are already equal.
    """
    if tuple(g.shape) == tuple(shape):
        return g
    extra = g.ndim - len(shape)
    if extra > 0:
        g = xp.sum(g, axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = xp.sum(g, axis=axes, keepdims=True)
    return g


_NAMESPACES: dict[type, Any] = {}  # array type -> its array-API namespace (looked up once per type)


class Tensor:
    r"""An array with a gradient, a node of a computational graph.

    Parameters
    ----------
    data : array
        An array of any array-API library (a number or list is moved to the active backend).
    requires_grad : bool
        Whether :meth:`backward` computes ``grad`` for this tensor (parameters: ``True``).

    Attributes
    ----------
    data : array
        The value.
    grad : array or None
        :math:`\partial L/\partial` ``data`` after ``L.backward()``; ``None`` before.
    requires_grad : bool
        Whether a gradient flows to this tensor.
    op : str
        The operation that made it (``""`` for a leaf).
    """

    __slots__ = ("_backward", "_parents", "data", "grad", "op", "requires_grad", "xp")

    def __init__(self, data: Any, requires_grad: bool = False) -> None:
        if isinstance(data, Tensor):
            data = data.data
        if not is_array_api_obj(data):
            data = asarray(data)
        kind = type(data)
        xp = _NAMESPACES.get(kind)
        if xp is None:
            xp = _NAMESPACES[kind] = array_namespace(data)
        self.xp = xp
        if requires_grad and not self.xp.isdtype(data.dtype, "real floating"):
            raise TypeError(f"only floating tensors can require a gradient, got dtype {data.dtype}")
        self.data: Array = data
        self.grad: Array | None = None
        self.requires_grad = bool(requires_grad)
        self.op = ""
        self._parents: tuple[Tensor, ...] = ()
        self._backward: Backward | None = None

    @classmethod
    def from_op(cls, data: Array, parents: Sequence[Tensor], backward: Backward, op: str) -> Tensor:
        r"""The result of an operation: ``data``, made from ``parents``, with the rule ``backward``.

        ``backward(g)`` receives :math:`\bar y = \partial L/\partial y` (shape of ``data``) and
        returns one gradient per parent (or ``None`` where none is needed), of the parent's shape
        or broadcastable to it.  The result is recorded in the graph only if a parent requires a
        gradient.

        Parameters
        ----------
        data : array
            The forward result :math:`y`, computed by the caller (of the parents' library and device).
        parents : sequence of Tensor
            The inputs :math:`x_1, x_2, \dots` of the operation, at least one; the new tensor takes the first
            one's namespace.
        backward : callable
            The rule ``g -> (x̄_1, x̄_2, ...)``, one entry per parent, kept only if a parent needs a gradient.
        op : str
            A short name of the operation (``"matmul"``, ``"softmax_ce"``), shown in :attr:`op` when the graph
            is inspected.
        """
        out = cls.__new__(cls)
        out.data = data
        out.grad = None
        out.xp = parents[0].xp
        out.op = op
        if any(p.requires_grad for p in parents):
            out.requires_grad = True
            out._parents = tuple(parents)
            out._backward = backward
        else:
            out.requires_grad = False
            out._parents = ()
            out._backward = None
        return out

    # ------------------------------------------------------------------ basics

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of ``data``."""
        return tuple(self.data.shape)

    @property
    def ndim(self) -> int:
        """Number of dimensions of ``data``."""
        return self.data.ndim

    @property
    def dtype(self) -> Any:
        """The dtype of ``data``."""
        return self.data.dtype

    def numpy(self) -> np.ndarray:
        """A host NumPy copy of ``data`` (for printing and plotting)."""
        return to_numpy(self.data)

    def item(self) -> float:
        """The value of a one-element tensor as a Python float."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, this one has shape {self.shape}")
        return float(to_numpy(self.data).reshape(()))

    def detach(self) -> Tensor:
        """The same data, cut from the graph (no gradient flows through it)."""
        return Tensor(self.data)

    def __repr__(self) -> str:
        body = np.array2string(self.numpy(), precision=4, threshold=20, separator=", ")
        extra = f", op={self.op!r}" if self.op else (", requires_grad=True" if self.requires_grad else "")
        return f"Tensor({body}{extra})"

    def _lift(self, other: Any) -> Tensor | int | float:
        """Numbers stay numbers; arrays become constant tensors."""
        if isinstance(other, Tensor) or (isinstance(other, int | float) and not isinstance(other, bool)):
            return other
        if is_array_api_obj(other):
            return Tensor(other)
        raise TypeError(f"cannot combine a Tensor with {type(other).__name__}; expected a Tensor, an array or a number")

    # ------------------------------------------------------------------ arithmetic (broadcasting)

    def __add__(self, other: Any) -> Tensor:
        other = self._lift(other)
        if not isinstance(other, Tensor):
            return Tensor.from_op(self.data + other, (self,), lambda g: (g,), "+")
        # ∂(a+b)/∂a = 1, ∂(a+b)/∂b = 1
        return Tensor.from_op(self.data + other.data, (self, other), lambda g: (g, g), "+")

    def __sub__(self, other: Any) -> Tensor:
        other = self._lift(other)
        if not isinstance(other, Tensor):
            return Tensor.from_op(self.data - other, (self,), lambda g: (g,), "-")
        # ∂(a-b)/∂a = 1, ∂(a-b)/∂b = -1
        return Tensor.from_op(self.data - other.data, (self, other), lambda g: (g, -g), "-")

    def __mul__(self, other: Any) -> Tensor:
        other = self._lift(other)
        a = self.data
        if not isinstance(other, Tensor):
            return Tensor.from_op(a * other, (self,), lambda g: (g * other,), "*")
        b = other.data
        # ∂(ab)/∂a = b, ∂(ab)/∂b = a
        return Tensor.from_op(a * b, (self, other), lambda g: (g * b, g * a), "*")

    def __truediv__(self, other: Any) -> Tensor:
        other = self._lift(other)
        a = self.data
        if not isinstance(other, Tensor):
            return Tensor.from_op(a / other, (self,), lambda g: (g / other,), "/")
        b = other.data
        # ∂(a/b)/∂a = 1/b, ∂(a/b)/∂b = -a/b²
        return Tensor.from_op(a / b, (self, other), lambda g: (g / b, -g * a / (b * b)), "/")

    def __pow__(self, exponent: int | float) -> Tensor:
        if isinstance(exponent, bool) or not isinstance(exponent, int | float):
            got = type(exponent).__name__
            raise TypeError(f"the exponent must be a number, got {got}; for a tensor b write (b * a.log()).exp()")
        a = self.data
        # ∂(aⁿ)/∂a = n aⁿ⁻¹
        return Tensor.from_op(a**exponent, (self,), lambda g: (g * exponent * a ** (exponent - 1),), f"**{exponent:g}")

    def __neg__(self) -> Tensor:
        # ∂(-a)/∂a = -1
        return Tensor.from_op(-self.data, (self,), lambda g: (-g,), "neg")

    def __radd__(self, other: Any) -> Tensor:
        return self + other

    def __rmul__(self, other: Any) -> Tensor:
        return self * other

    def __rsub__(self, other: Any) -> Tensor:
        return -self + other

    def __rtruediv__(self, other: Any) -> Tensor:
        other = self._lift(other)
        return other / self if isinstance(other, Tensor) else (self**-1) * other

    def __matmul__(self, other: Any) -> Tensor:
        other = self._lift(other)
        if not isinstance(other, Tensor):
            raise TypeError("matmul needs a Tensor or an array on the right")
        a, b = self.data, other.data
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError("matmul needs at least 1-D operands; use * for a scalar")
        xp = self.xp
        need_a, need_b = self.requires_grad, other.requires_grad

        def backward(g: Array) -> Grads:
            # Y = A B:  Ā = Ȳ Bᵀ,  B̄ = Aᵀ Ȳ   (1-D operands are treated as a row / a column)
            a2 = a[None, :] if a.ndim == 1 else a
            b2 = b[:, None] if b.ndim == 1 else b
            g2 = g
            if a.ndim == 1:
                g2 = g2[..., None, :]
            if b.ndim == 1:
                g2 = g2[..., None]
            ga = gb = None
            if need_a:
                ga = g2 @ xp.matrix_transpose(b2)
                ga = xp.reshape(unbroadcast(xp, ga, (1, *a.shape) if a.ndim == 1 else a.shape), a.shape)
            if need_b:
                gb = xp.matrix_transpose(a2) @ g2
                gb = xp.reshape(unbroadcast(xp, gb, (*b.shape, 1) if b.ndim == 1 else b.shape), b.shape)
            return ga, gb

        return Tensor.from_op(a @ b, (self, other), backward, "@")

    def __rmatmul__(self, other: Any) -> Tensor:
        return self._lift(other) @ self

    # ------------------------------------------------------------------ elementwise functions

    def exp(self) -> Tensor:
        """:math:`e^x`."""
        y = self.xp.exp(self.data)
        # ∂eˣ/∂x = eˣ
        return Tensor.from_op(y, (self,), lambda g: (g * y,), "exp")

    def log(self) -> Tensor:
        """Natural logarithm."""
        x = self.data
        # ∂log x/∂x = 1/x
        return Tensor.from_op(self.xp.log(x), (self,), lambda g: (g / x,), "log")

    def tanh(self) -> Tensor:
        r""":math:`\tanh x`."""
        y = self.xp.tanh(self.data)
        # ∂tanh x/∂x = 1 - tanh² x
        return Tensor.from_op(y, (self,), lambda g: (g * (1 - y * y),), "tanh")

    def sigmoid(self) -> Tensor:
        r""":math:`\sigma(x) = 1/(1+e^{-x})`, evaluated without overflow."""
        xp, x = self.xp, self.data
        z = xp.exp(-xp.abs(x))  # in (0, 1]: never overflows
        y = xp.where(x >= 0, 1 / (1 + z), z / (1 + z))
        # ∂σ/∂x = σ (1 - σ)
        return Tensor.from_op(y, (self,), lambda g: (g * y * (1 - y),), "sigmoid")

    def relu(self) -> Tensor:
        r""":math:`\max(x, 0)`, with derivative 0 at 0 (as in PyTorch)."""
        xp, x = self.xp, self.data
        positive = x > 0
        # ∂relu/∂x = 1 where x > 0, else 0
        return Tensor.from_op(xp.maximum(x, 0.0), (self,), lambda g: (xp.where(positive, g, 0.0),), "relu")

    def abs(self) -> Tensor:
        r""":math:`|x|`, with derivative :math:`\operatorname{sign} x` (0 at 0, as in PyTorch)."""
        xp, x = self.xp, self.data
        # ∂|x|/∂x = sign(x)
        return Tensor.from_op(xp.abs(x), (self,), lambda g: (g * xp.sign(x),), "abs")

    def maximum(self, other: Any) -> Tensor:
        """Elementwise maximum; at a tie each side gets half the gradient (as ``torch.maximum``)."""
        other = self._lift(other)
        xp = self.xp
        a = self.data
        b = other.data if isinstance(other, Tensor) else xp.full_like(a, other)
        y = xp.maximum(a, b)

        def backward(g: Array) -> Grads:
            # ∂max(a,b)/∂a = 1 where a > b, 1/2 where a = b, 0 where a < b (and symmetrically for b)
            zero = xp.zeros_like(g)
            half = g / 2
            ga = xp.where(a > b, g, xp.where(a == b, half, zero))
            gb = xp.where(b > a, g, xp.where(a == b, half, zero))
            return ga, gb

        if isinstance(other, Tensor):
            return Tensor.from_op(y, (self, other), backward, "maximum")
        return Tensor.from_op(y, (self,), lambda g: backward(g)[:1], "maximum")

    def softmax(self, axis: int = -1) -> Tensor:
        r""":math:`s_i = e^{x_i} / \sum_j e^{x_j}` along ``axis`` (the max is subtracted first, for stability)."""
        xp, x = self.xp, self.data
        e = xp.exp(x - xp.max(x, axis=axis, keepdims=True))
        s = e / xp.sum(e, axis=axis, keepdims=True)
        # x̄ = s ⊙ (ȳ - Σⱼ ȳⱼ sⱼ)
        return Tensor.from_op(s, (self,), lambda g: (s * (g - xp.sum(g * s, axis=axis, keepdims=True)),), "softmax")

    def log_softmax(self, axis: int = -1) -> Tensor:
        r""":math:`x_i - \log\sum_j e^{x_j}` along ``axis``, computed stably (log-sum-exp with the max taken out)."""
        xp, x = self.xp, self.data
        shifted = x - xp.max(x, axis=axis, keepdims=True)
        y = shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))
        # x̄ = ȳ - softmax(x) Σⱼ ȳⱼ
        return Tensor.from_op(
            y, (self,), lambda g: (g - xp.exp(y) * xp.sum(g, axis=axis, keepdims=True),), "log_softmax"
        )

    # ------------------------------------------------------------------ reductions

    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Sum over ``axis`` (all axes by default).

        Parameters
        ----------
        axis : int, tuple of int or None
            The axes summed over (negative axes count from the end); ``None`` sums every entry to a 0-d tensor.
        keepdims : bool
            Keep the summed axes with length 1, so the result broadcasts against ``self``.
        """
        xp, shape = self.xp, self.shape
        kept = _kept_shape(shape, axis)
        # ∂(Σ x)/∂xᵢ = 1: the gradient is copied back to every summed entry
        return Tensor.from_op(
            xp.sum(self.data, axis=axis, keepdims=keepdims),
            (self,),
            lambda g: (xp.broadcast_to(xp.reshape(g, kept), shape),),
            "sum",
        )

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        r"""Mean over ``axis`` (all axes by default).

        Parameters
        ----------
        axis : int, tuple of int or None
            The axes averaged over; ``None`` averages all :math:`n` entries and each gets the gradient
            :math:`\bar y / n`.
        keepdims : bool
            Keep the averaged axes with length 1 (as ``xp.mean``).
        """
        xp, shape = self.xp, self.shape
        kept = _kept_shape(shape, axis)
        n = math.prod(shape) // max(math.prod(kept), 1)
        # ∂(Σ x / n)/∂xᵢ = 1/n
        return Tensor.from_op(
            xp.mean(self.data, axis=axis, keepdims=keepdims),
            (self,),
            lambda g: (xp.broadcast_to(xp.reshape(g / n, kept), shape),),
            "mean",
        )

    def max(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """Maximum over one ``axis`` (or all); the gradient goes to the first maximal entry (as ``torch.max``).

        Parameters
        ----------
        axis : int or None
            The one axis reduced (negative counts from the end); ``None`` takes the maximum of every entry.
        keepdims : bool
            Keep the reduced axis with length 1.
        """
        xp, x, shape = self.xp, self.data, self.shape
        flat = axis is None
        work = xp.reshape(x, (-1,)) if flat else x
        ax = 0 if flat else axis % x.ndim
        idx = xp.argmax(work, axis=ax, keepdims=True)
        y = xp.max(x, axis=axis, keepdims=keepdims)
        n = work.shape[ax]
        positions = xp.reshape(xp.arange(n, device=_device(x)), (n,) + (1,) * (work.ndim - ax - 1))

        def backward(g: Array) -> Grads:
            # ∂max/∂xᵢ = 1 for the (first) arg-max i, 0 elsewhere
            g = xp.reshape(g, idx.shape)
            gx = xp.where(positions == idx, g, xp.zeros_like(g))
            return (xp.reshape(gx, shape),)

        return Tensor.from_op(y, (self,), backward, "max")

    # ------------------------------------------------------------------ shape and indexing

    def reshape(self, *shape: int | tuple[int, ...]) -> Tensor:
        """The same entries in a new shape (``-1`` infers one dimension)."""
        new = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], tuple | list) else shape
        xp, old = self.xp, self.shape
        # reshaping moves no entry: the gradient is reshaped back
        return Tensor.from_op(xp.reshape(self.data, new), (self,), lambda g: (xp.reshape(g, old),), "reshape")

    def transpose(self, axes: Sequence[int] | None = None) -> Tensor:
        """Permute the axes (reverse them by default)."""
        xp = self.xp
        perm = tuple(range(self.ndim))[::-1] if axes is None else tuple(a % self.ndim for a in axes)
        inverse = tuple(int(i) for i in np.argsort(perm))
        # the gradient is permuted back by the inverse permutation
        return Tensor.from_op(
            xp.permute_dims(self.data, perm), (self,), lambda g: (xp.permute_dims(g, inverse),), "transpose"
        )

    @property
    def T(self) -> Tensor:  # noqa: N802 - as the array attribute
        """Transpose of a 2-D tensor."""
        if self.ndim != 2:
            raise ValueError(f".T needs a 2-D tensor, this one has shape {self.shape}; use transpose(axes)")
        # (Aᵀ)̄ = Āᵀ
        return Tensor.from_op(self.data.T, (self,), lambda g: (g.T,), "T")

    def __getitem__(self, key: Any) -> Tensor:
        """Basic indexing: integers, slices, ``None`` and ``...``.  For integer arrays use :meth:`take`."""
        parts = key if isinstance(key, tuple) else (key,)
        for k in parts:
            if not (k is None or k is Ellipsis or isinstance(k, int | slice)) or isinstance(k, bool):
                raise TypeError(
                    f"Tensor indexing takes integers, slices, None and ...; got {type(k).__name__}. "
                    "Use take(indices, axis) or take_along_axis(indices, axis) to pick with an integer array"
                )
        if Ellipsis not in parts:  # index every axis explicitly: the array API leaves flat indexing unspecified
            key = (*parts, Ellipsis)
        xp, x = self.xp, self.data

        def backward(g: Array) -> Grads:
            # x[key] = y: the gradient lands in the selected entries, 0 elsewhere
            gx = xp.zeros(x.shape, dtype=g.dtype, device=_device(x))
            gx[key] = g
            return (gx,)

        return Tensor.from_op(x[key], (self,), backward, "getitem")

    def take(self, indices: Any, axis: int = 0) -> Tensor:
        """Entries at integer ``indices`` (1-D, repeats allowed) along ``axis``, as ``xp.take``.

        Parameters
        ----------
        indices : array, Tensor or sequence of int
            The positions picked, a 1-D integer array (host data is moved to the tensor's device); a repeated
            index gets the sum of its gradients.  Other shapes raise :class:`ValueError`, non-integer dtypes
            :class:`TypeError`.
        axis : int
            The axis they index, 0 (the rows: a minibatch) by default.
        """
        xp, x = self.xp, self.data
        idx = _index_array(xp, indices, x)
        if idx.ndim != 1:
            raise ValueError(f"take needs 1-D indices, got shape {tuple(idx.shape)}; see take_along_axis")
        ax = axis % x.ndim
        n, dev = x.shape[ax], _device(x)

        def backward(g: Array) -> Grads:
            # x̄ⱼ = Σₖ [idxₖ = j] ȳₖ along the axis: a product with the one-hot matrix (repeats add up)
            onehot = xp.astype(xp.reshape(idx, (-1, 1)) == xp.reshape(xp.arange(n, device=dev), (1, n)), g.dtype)
            gx = xp.moveaxis(g, ax, -1) @ onehot
            return (xp.moveaxis(gx, -1, ax),)

        return Tensor.from_op(xp.take(x, idx, axis=ax), (self,), backward, "take")

    def take_along_axis(self, indices: Any, axis: int = -1) -> Tensor:
        """Pick ``x[..., indices[..., k], ...]`` along ``axis`` per row, as ``xp.take_along_axis``.

        ``x.take_along_axis(labels[:, None], axis=1)`` picks each example's logit of its label.

        Parameters
        ----------
        indices : array, Tensor or sequence
            Integer positions along ``axis``, with as many dimensions as ``self`` and its lengths on the other
            axes (``labels[:, None]`` for logits of shape ``(n, K)``); a non-integer dtype raises :class:`TypeError`.
        axis : int
            The axis picked from, the last (the classes) by default.
        """
        xp, x = self.xp, self.data
        idx = _index_array(xp, indices, x)
        ax = axis % x.ndim
        n, dev = x.shape[ax], _device(x)

        def backward(g: Array) -> Grads:
            # x̄ⱼ = Σₖ [idxₖ = j] ȳₖ along the axis, per row
            gm = xp.moveaxis(g, ax, -1)[..., None]  # (..., k, 1)
            im = xp.moveaxis(idx, ax, -1)[..., None]  # (..., k, 1)
            hit = im == xp.arange(n, device=dev)  # (..., k, n)
            gx = xp.sum(xp.where(hit, gm, xp.zeros_like(gm)), axis=-2)
            return (xp.moveaxis(gx, -1, ax),)

        return Tensor.from_op(xp.take_along_axis(x, idx, axis=ax), (self,), backward, "take_along_axis")

    def unfold2d(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        pad_value: float = 0.0,
    ) -> Tensor:
        r"""Image patches as columns (im2col), as ``torch.nn.functional.unfold``.

        ``x`` of shape ``(N, C, H, W)`` becomes ``(N, C·kh·kw, L)`` with
        :math:`L = H_{out} W_{out}`, :math:`H_{out} = \lfloor (H + 2p - k_h)/s \rfloor + 1`; entry
        ``(n, c·kh·kw + i·kw + j, l)`` is pixel ``(i, j)`` of the ``l``-th patch of channel ``c``.
        A convolution is then one matrix product, ``W.reshape(out, -1) @ cols``.

        Built from ``kh·kw`` strided slices (a loop over kernel positions, vectorised over the batch,
        channels and positions), so it needs no ``as_strided``; the backward rule (col2im) adds
        each slice's gradient back into its window, so overlapping patches add up.  ``pad_value``
        fills the border (``-inf`` for max pooling).

        Parameters
        ----------
        kernel_size : int or (int, int)
            :math:`(k_h, k_w)`, each at least 1; one int is used for both.
        stride : int or (int, int)
            :math:`s`, the step between patches, at least 1.
        padding : int or (int, int)
            :math:`p`, the rows and columns of ``pad_value`` added on each side, at least 0.
        pad_value : float
            The value of the padding: 0 for a convolution, ``-inf`` for max pooling.

        An input that is not 4-D, a kernel larger than the padded input, or a size that is not an int
        or a pair of ints raises :class:`ValueError`.
        """
        xp, x = self.xp, self.data
        if x.ndim != 4:
            raise ValueError(f"unfold2d needs an input of shape (N, C, H, W), got shape {self.shape}")
        kh, kw = _pair(kernel_size, "kernel_size")
        sh, sw = _pair(stride, "stride")
        ph, pw = _pair(padding, "padding")
        n, c, h, w = x.shape
        hp, wp = h + 2 * ph, w + 2 * pw
        oh, ow = (hp - kh) // sh + 1, (wp - kw) // sw + 1
        if oh < 1 or ow < 1:
            raise ValueError(f"kernel {(kh, kw)} does not fit the padded input {(hp, wp)}")
        dev = _device(x)
        if ph or pw:
            xpad = xp.full((n, c, hp, wp), pad_value, dtype=x.dtype, device=dev)
            xpad[:, :, ph : ph + h, pw : pw + w] = x
        else:
            xpad = x
        # window (i, j): rows i, i+s, ..., i+s(oh-1) and columns j, ..., j+s(ow-1) (stops kept in bounds)
        windows = [
            (slice(i, i + sh * (oh - 1) + 1, sh), slice(j, j + sw * (ow - 1) + 1, sw))
            for i in range(kh)
            for j in range(kw)
        ]
        cols = xp.stack([xpad[:, :, wi, wj] for wi, wj in windows], axis=2)  # (N, C, kh·kw, oh, ow)

        def backward(g: Array) -> Grads:
            # col2im: every patch entry's gradient is added back to the pixel it was copied from
            g = xp.reshape(g, (n, c, kh * kw, oh, ow))
            gpad = xp.zeros((n, c, hp, wp), dtype=g.dtype, device=dev)
            for k, (wi, wj) in enumerate(windows):
                gpad[:, :, wi, wj] = gpad[:, :, wi, wj] + g[:, :, k, :, :]
            return (gpad[:, :, ph : ph + h, pw : pw + w],)

        return Tensor.from_op(xp.reshape(cols, (n, c * kh * kw, oh * ow)), (self,), backward, "unfold2d")

    # ------------------------------------------------------------------ backpropagation

    def backward(self, grad: Any = None) -> None:
        r"""Backpropagate from this tensor: fill ``grad`` of every tensor it depends on that requires one.

        Parameters
        ----------
        grad : array, optional
            :math:`\partial L/\partial` ``self``; default 1 for a one-element tensor (a loss).

        Leaf gradients (parameters) accumulate over calls, as in PyTorch: call ``zero_grad`` (or set
        ``grad = None``) between steps.  Intermediate gradients are recomputed on every call.
        """
        xp = self.xp
        if not self.requires_grad:
            raise RuntimeError(
                "this tensor does not depend on any tensor with requires_grad=True; nothing to differentiate"
            )
        if grad is None:
            if self.data.size != 1:
                raise ValueError(f"backward() without grad needs a one-element tensor (a loss), got shape {self.shape}")
            grad = xp.ones_like(self.data)
        else:
            grad = grad.data if isinstance(grad, Tensor) else grad
            if tuple(grad.shape) != self.shape:
                raise ValueError(f"grad has shape {tuple(grad.shape)} but the tensor has shape {self.shape}")
        order = _topological_order(self)
        for t in order:
            if t._parents:
                t.grad = None
        self.grad = grad if self.grad is None else self.grad + grad  # a leaf root accumulates
        for t in reversed(order):
            if t._backward is None or t.grad is None:
                continue
            for parent, g in zip(t._parents, t._backward(t.grad), strict=True):
                if g is None or not parent.requires_grad:
                    continue
                g = unbroadcast(xp, g, parent.data.shape)
                parent.grad = g if parent.grad is None else parent.grad + g


def _topological_order(root: Tensor) -> list[Tensor]:
    """Every recorded tensor ``root`` depends on, each after its parents (iterative DFS)."""
    order: list[Tensor] = []
    seen: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        t, done = stack.pop()
        if done:
            order.append(t)
        elif id(t) not in seen:
            seen.add(id(t))
            stack.append((t, True))
            stack.extend((p, False) for p in t._parents if id(p) not in seen)
    return order


def _kept_shape(shape: tuple[int, ...], axis: int | tuple[int, ...] | None) -> tuple[int, ...]:
    """``shape`` with the reduced axes set to 1 (the keepdims shape)."""
    if axis is None:
        return (1,) * len(shape)
    axes = {a % len(shape) for a in ((axis,) if isinstance(axis, int) else axis)}
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _pair(v: int | tuple[int, int], name: str) -> tuple[int, int]:
    pair = (v, v) if isinstance(v, int) else tuple(v)
    if len(pair) != 2 or not all(isinstance(p, int) and not isinstance(p, bool) for p in pair):
        raise ValueError(f"{name} must be an int or a pair of ints, got {v!r}")
    if name != "padding" and min(pair) < 1:
        raise ValueError(f"{name} must be >= 1, got {v!r}")
    if min(pair) < 0:
        raise ValueError(f"{name} must be >= 0, got {v!r}")
    return pair  # type: ignore[return-value]


def _index_array(xp: Any, indices: Any, like: Array) -> Array:
    """Integer indices as an array on ``like``'s device."""
    if isinstance(indices, Tensor):
        indices = indices.data
    if not is_array_api_obj(indices) or array_namespace(indices) is not xp:  # host data: move it over
        indices = xp.asarray(np.asarray(to_numpy(indices)), device=_device(like))
    if not xp.isdtype(indices.dtype, "integral"):
        raise TypeError(f"indices must be integers, got dtype {indices.dtype}")
    return indices


def as_tensor(x: Any) -> Tensor:
    """``x`` itself if it is a :class:`Tensor`, else a constant tensor wrapping the array ``x``."""
    return x if isinstance(x, Tensor) else Tensor(x)


def stack(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Stack tensors of one shape along a new ``axis``; the gradient is split back into the pieces.

    Parameters
    ----------
    tensors : sequence of Tensor or array
        At least one (an empty sequence raises :class:`ValueError`), all of one shape; arrays become constants.
    axis : int
        The position of the new axis in the result, from ``-(ndim + 1)`` to ``ndim``.
    """
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack needs at least one tensor")
    xp = tensors[0].xp
    ax = axis % (tensors[0].ndim + 1)

    def backward(g: Array) -> Grads:
        # y[..., k, ...] = xₖ: each piece gets its slice of the gradient
        return [g[(slice(None),) * ax + (k, Ellipsis)] for k in range(len(tensors))]

    return Tensor.from_op(xp.stack([t.data for t in tensors], axis=ax), tensors, backward, "stack")


def concat(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors along an existing ``axis``; the gradient is cut back into the pieces.

    Parameters
    ----------
    tensors : sequence of Tensor or array
        At least one (none raises :class:`ValueError`); their shapes agree except along ``axis``.
    axis : int
        The axis they are joined along (negative counts from the end).
    """
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("concat needs at least one tensor")
    xp = tensors[0].xp
    ax = axis % tensors[0].ndim
    ends = np.cumsum([t.shape[ax] for t in tensors]).tolist()

    def backward(g: Array) -> Grads:
        # each piece gets the slice of the gradient it filled
        starts = [0, *ends[:-1]]
        return [g[(slice(None),) * ax + (slice(s, e), Ellipsis)] for s, e in zip(starts, ends, strict=True)]

    return Tensor.from_op(xp.concat([t.data for t in tensors], axis=ax), tensors, backward, "concat")
