r"""A scalar reverse-mode automatic differentiation engine, small enough to read in one sitting.

Each :class:`Value` holds a number (``data``), the derivative of the final output with respect to
it (``grad``), the values it was computed from (``parents``) and a *local backward rule*: given
:math:`\bar v = \partial L/\partial v` for this value, add :math:`\bar v \cdot \partial v/\partial p`
to the ``grad`` of every parent :math:`p` (the chain rule).  :meth:`Value.backward` sorts the graph
so that every value comes after its parents, sets :math:`\partial L/\partial L = 1` and runs the
rules in reverse order, so each value's ``grad`` is complete before it is passed on.

Gradients *accumulate* (``+=``): a value used twice, as in ``y = x * x``, receives one contribution
per use, :math:`\partial y/\partial x = x + x`.

>>> from gdcourse.autodiff import Value
>>> x = Value(3.0, label="x")
>>> y = x * x + x          # dy/dx = 2x + 1
>>> y.backward()
>>> x.grad
7.0

The design follows Andrej Karpathy's *micrograd*.  :func:`gdcourse.plots.draw_graph` draws the
computational graph of a value.
"""

from __future__ import annotations

import math
from collections.abc import Callable

__all__ = ["Value", "topological_order"]

Number = int | float

_EXP_MAX = math.log(1.7976931348623157e308)  # exp(x) overflows float64 above this (≈ 709.78)


class Value:
    r"""A scalar in a computational graph: data, gradient, parents and a local backward rule.

    Parameters
    ----------
    data : float
        The number.
    label : str, optional
        A name shown by :func:`draw_graph` and ``repr``.

    Attributes
    ----------
    data : float
        The number.
    grad : float
        :math:`\partial L / \partial` this value after ``L.backward()`` (0 before).
    parents : tuple of Value
        The values this one was computed from (empty for an input).
    op : str
        The operation that made it (``""`` for an input).
    """

    __slots__ = ("_backward", "data", "grad", "label", "op", "parents")

    def __init__(self, data: Number, label: str = "", *, parents: tuple[Value, ...] = (), op: str = "") -> None:
        if isinstance(data, Value):
            raise TypeError("data is already a Value; use it directly")
        if isinstance(data, bool) or not isinstance(data, Number):
            try:
                data = float(data)  # NumPy scalars and 0-d arrays
            except (TypeError, ValueError):
                raise TypeError(f"data must be a number, got {type(data).__name__}") from None
        self.data = float(data)
        self.grad = 0.0
        self.label = label
        self.parents = parents
        self.op = op
        self._backward: Callable[[], None] = _nothing

    def __repr__(self) -> str:
        name = f"{self.label}, " if self.label else ""
        return f"Value({name}data={self.data:.6g}, grad={self.grad:.6g})"

    # ------------------------------------------------------------------ arithmetic

    def __add__(self, other: Value | Number) -> Value:
        other = _lift(other)
        out = Value(self.data + other.data, parents=(self, other), op="+")

        def backward() -> None:
            # d(a + b)/da = 1,  d(a + b)/db = 1
            self.grad += out.grad
            other.grad += out.grad

        out._backward = backward
        return out

    def __mul__(self, other: Value | Number) -> Value:
        other = _lift(other)
        out = Value(self.data * other.data, parents=(self, other), op="*")

        def backward() -> None:
            # d(a b)/da = b,  d(a b)/db = a
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = backward
        return out

    def __truediv__(self, other: Value | Number) -> Value:
        other = _lift(other)
        if other.data == 0:
            raise ZeroDivisionError(f"division by a Value equal to 0 ({other!r})")
        out = Value(self.data / other.data, parents=(self, other), op="/")

        def backward() -> None:
            # d(a/b)/da = 1/b,  d(a/b)/db = -a/b²
            self.grad += out.grad / other.data
            other.grad += -self.data / other.data**2 * out.grad

        out._backward = backward
        return out

    def __pow__(self, exponent: Number) -> Value:
        if isinstance(exponent, Value):
            raise TypeError("the exponent must be a number; for a Value exponent b write (b * a.log()).exp()")
        if isinstance(exponent, bool) or not isinstance(exponent, Number):
            raise TypeError(f"the exponent must be a number, got {type(exponent).__name__}")
        if self.data == 0 and exponent < 0:
            raise ZeroDivisionError(f"0 ** {exponent} is undefined")
        if self.data < 0 and not float(exponent).is_integer():
            raise ValueError(f"({self.data}) ** {exponent}: a negative base needs an integer exponent")
        out = Value(self.data**exponent, parents=(self,), op=f"**{exponent:g}")

        def backward() -> None:
            # d(a^n)/da = n a^(n-1)
            self.grad += exponent * self.data ** (exponent - 1) * out.grad

        out._backward = backward
        return out

    def __neg__(self) -> Value:
        out = Value(-self.data, parents=(self,), op="neg")

        def backward() -> None:
            # d(-a)/da = -1
            self.grad += -out.grad

        out._backward = backward
        return out

    def __sub__(self, other: Value | Number) -> Value:
        other = _lift(other)
        out = Value(self.data - other.data, parents=(self, other), op="-")

        def backward() -> None:
            # d(a - b)/da = 1,  d(a - b)/db = -1
            self.grad += out.grad
            other.grad += -out.grad

        out._backward = backward
        return out

    def __radd__(self, other: Number) -> Value:
        return _lift(other) + self

    def __rmul__(self, other: Number) -> Value:
        return _lift(other) * self

    def __rsub__(self, other: Number) -> Value:
        return _lift(other) - self

    def __rtruediv__(self, other: Number) -> Value:
        return _lift(other) / self

    # ------------------------------------------------------------------ functions

    def exp(self) -> Value:
        """:math:`e^a`; ``inf`` (not an OverflowError) above ≈ 709.78, as in NumPy and PyTorch."""
        out = Value(math.exp(self.data) if self.data <= _EXP_MAX else math.inf, parents=(self,), op="exp")

        def backward() -> None:
            # d(e^a)/da = e^a
            self.grad += out.data * out.grad

        out._backward = backward
        return out

    def log(self) -> Value:
        """Natural logarithm, defined for ``data > 0`` (a clear ValueError otherwise)."""
        if not self.data > 0:
            raise ValueError(f"log is defined for positive numbers only, got log({self.data})")
        out = Value(math.log(self.data), parents=(self,), op="log")

        def backward() -> None:
            # d(log a)/da = 1/a
            self.grad += out.grad / self.data

        out._backward = backward
        return out

    def tanh(self) -> Value:
        r""":math:`\tanh a`, computed by :func:`math.tanh` (no overflow at ±1000)."""
        out = Value(math.tanh(self.data), parents=(self,), op="tanh")

        def backward() -> None:
            # d(tanh a)/da = 1 - tanh² a
            self.grad += (1.0 - out.data**2) * out.grad

        out._backward = backward
        return out

    def relu(self) -> Value:
        r""":math:`\max(a, 0)`; its derivative at 0 is taken as 0 (as in PyTorch)."""
        out = Value(self.data if self.data > 0 else 0.0, parents=(self,), op="relu")

        def backward() -> None:
            # d(relu a)/da = 1 if a > 0 else 0
            self.grad += (1.0 if self.data > 0 else 0.0) * out.grad

        out._backward = backward
        return out

    def sigmoid(self) -> Value:
        r""":math:`\sigma(a) = 1/(1+e^{-a})`, evaluated without overflow for any ``a``."""
        if self.data >= 0:
            s = 1.0 / (1.0 + math.exp(-self.data))
        else:  # e^a / (1 + e^a): e^a never overflows for a < 0
            z = math.exp(self.data)
            s = z / (1.0 + z)
        out = Value(s, parents=(self,), op="sigmoid")

        def backward() -> None:
            # dσ(a)/da = σ(a) (1 - σ(a))
            self.grad += out.data * (1.0 - out.data) * out.grad

        out._backward = backward
        return out

    # ------------------------------------------------------------------ backpropagation

    def backward(self) -> None:
        r"""Backpropagate from this value: fill ``grad`` of every value it depends on.

        Sets ``self.grad = 1`` (:math:`\partial L/\partial L`) and applies the local rules in
        reverse topological order.  Gradients of the *inputs* (values without parents) accumulate
        over calls, as in PyTorch; the intermediate values are reset first, so calling
        ``backward()`` twice doubles the inputs' gradients and nothing else.
        """
        order = topological_order(self)
        for v in order:
            if v.parents:
                v.grad = 0.0
        self.grad = 1.0
        for v in reversed(order):
            v._backward()


def _nothing() -> None:
    """Backward rule of an input: nothing to pass on."""


def _lift(x: Value | Number) -> Value:
    if isinstance(x, Value):
        return x
    if isinstance(x, bool) or not isinstance(x, Number):
        raise TypeError(f"cannot combine a Value with {type(x).__name__}; expected a Value or a number")
    return Value(x)


def topological_order(root: Value) -> list[Value]:
    """Every value ``root`` depends on (itself included), each after all of its parents.

    Depth-first search with an explicit stack, so deep graphs do not hit Python's recursion limit.
    """
    order: list[Value] = []
    seen: set[int] = set()
    stack: list[tuple[Value, bool]] = [(root, False)]
    while stack:
        v, parents_done = stack.pop()
        if parents_done:
            order.append(v)
            continue
        if id(v) in seen:
            continue
        seen.add(id(v))
        stack.append((v, True))
        stack.extend((p, False) for p in reversed(v.parents) if id(p) not in seen)
    return order
