"""Dense layers: Linear (and its fused operation), activations, Flatten, MLP, Dropout."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from array_api_compat import device as _device

from gdcourse import _checks
from gdcourse import init as _init
from gdcourse.autodiff.array import Tensor, as_tensor
from gdcourse.backend import rng
from gdcourse.nn.module import Module, Sequential, _param

__all__ = [
    "ACTIVATIONS",
    "MLP",
    "Dropout",
    "Flatten",
    "Identity",
    "Linear",
    "ReLU",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "linear",
]

Array = Any
Seed = int | np.random.Generator | None
Init = str | Callable[..., Array]


class Linear(Module):
    r"""Affine layer :math:`y = x W^\top + b`, with ``weight`` :math:`W` of shape ``(out, in)``.

    Parameters
    ----------
    in_features, out_features : int
        Sizes of the input and output (last axis).
    bias : bool
        Whether to add :math:`b` (shape ``(out,)``).
    init : str or callable
        Initialiser of the weight (:mod:`gdcourse.init`).  ``"torch"`` (default) draws weight and
        bias from :math:`U(\pm 1/\sqrt{\text{in}})` as ``torch.nn.Linear``; other schemes start the bias at 0.
    seed : int or numpy.random.Generator, optional
        Seed of the host generator the weights are drawn from.
    dtype : str
        ``"float64"`` or ``"float32"``.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
        init: Init = "torch",
        seed: Seed = None,
        dtype: str = "float64",
    ) -> None:
        super().__init__()
        self.in_features = _checks.positive_int("in_features", in_features)
        self.out_features = _checks.positive_int("out_features", out_features)
        gen = rng(seed)
        self.weight = _param(_init.get(init)((out_features, in_features), seed=gen, dtype=dtype))
        if bias:
            self.bias: Tensor | None = _param(_bias(init, out_features, in_features, gen, dtype))
        else:
            self.bias = None

    def forward(self, x: Any) -> Tensor:
        r""":math:`x W^\top + b` for ``x`` of shape ``(..., in)``."""
        x = as_tensor(x)
        if not x.shape or x.shape[-1] != self.in_features:
            raise ValueError(f"Linear({self.in_features}, {self.out_features}) got input of shape {x.shape}")
        if x.dtype != self.weight.dtype:
            raise TypeError(f"Linear has {self.weight.dtype} weights but the input has dtype {x.dtype}; cast one")
        return linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        """Sizes and bias."""
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    r"""The affine map :math:`Y = X W^\top + b` as one operation with its backward rule.

    .. math:: \bar X = \bar Y W, \qquad \bar W = \bar Y^\top X, \qquad \bar b = \textstyle\sum_n \bar Y_n

    (sums over every leading axis of ``x``).  The same as ``x @ weight.T + bias`` on the engine,
    in one node instead of three: this is the step that dominates an MLP's training time.

    Parameters
    ----------
    x : Tensor, shape (..., in)
        The input :math:`X`; every leading axis is a batch axis.
    weight : Tensor, shape (out, in)
        :math:`W`, as stored by :class:`Linear` (and ``torch.nn.Linear``).
    bias : Tensor of shape (out,), optional
        :math:`b`; ``None`` for no bias.  Shapes and dtypes are not checked here (:class:`Linear` does).

    Returns
    -------
    Tensor, shape (..., out)
        :math:`Y`, a node of the graph with the backward rule above.
    """
    xp = x.xp
    xd, w = x.data, weight.data
    y = xd @ w.T
    if bias is not None:
        y = y + bias.data
    need_x = x.requires_grad

    def backward(g: Array) -> tuple[Array | None, ...]:
        g2, x2 = g, xd
        if g.ndim != 2:  # (..., out) -> (n, out): every leading axis is a batch axis
            g2, x2 = xp.reshape(g, (-1, g.shape[-1])), xp.reshape(xd, (-1, xd.shape[-1]))
        gx = g @ w if need_x else None  # X̄ = Ȳ W
        gw = g2.T @ x2  # W̄ = Ȳᵀ X
        if bias is None:
            return gx, gw
        return gx, gw, xp.sum(g2, axis=0)  # b̄ = Σₙ Ȳₙ

    parents = (x, weight) if bias is None else (x, weight, bias)
    return Tensor.from_op(y, parents, backward, "linear")


def _bias(init: Init, n_out: int, fan_in: int, gen: np.random.Generator, dtype: str) -> Array:
    r"""Bias of a layer: PyTorch's :math:`U(\pm 1/\sqrt{fan_{in}})` for ``init="torch"``, else zeros."""
    if init == "torch":
        return _init.torch_default((n_out,), fan_in=fan_in, seed=gen, dtype=dtype)
    return _init.zeros((n_out,), dtype=dtype)


class Identity(Module):
    """:math:`y = x`."""

    def forward(self, x: Any) -> Tensor:
        """Return the input."""
        return as_tensor(x)


class ReLU(Module):
    r""":math:`\max(x, 0)` elementwise."""

    def forward(self, x: Any) -> Tensor:
        """Apply ReLU."""
        return as_tensor(x).relu()


class Tanh(Module):
    r""":math:`\tanh x` elementwise."""

    def forward(self, x: Any) -> Tensor:
        """Apply tanh."""
        return as_tensor(x).tanh()


class Sigmoid(Module):
    r""":math:`\sigma(x) = 1/(1+e^{-x})` elementwise."""

    def forward(self, x: Any) -> Tensor:
        """Apply the logistic sigmoid."""
        return as_tensor(x).sigmoid()


class Softmax(Module):
    r""":math:`e^{x_i}/\sum_j e^{x_j}` along ``axis`` (computed stably).

    For training, prefer :func:`softmax_cross_entropy` on the logits: it is exact where
    ``log(softmax(x))`` underflows.
    """

    def __init__(self, axis: int = -1) -> None:
        super().__init__()
        self.axis = axis

    def forward(self, x: Any) -> Tensor:
        """Apply softmax."""
        return as_tensor(x).softmax(self.axis)

    def extra_repr(self) -> str:
        """The axis."""
        return f"axis={self.axis}"


class Flatten(Module):
    """Flatten every axis from ``start_axis`` on: ``(N, C, H, W) -> (N, C·H·W)``."""

    def __init__(self, start_axis: int = 1) -> None:
        super().__init__()
        self.start_axis = start_axis

    def forward(self, x: Any) -> Tensor:
        """Reshape to ``shape[:start_axis] + (-1,)``."""
        x = as_tensor(x)
        return x.reshape(*x.shape[: self.start_axis], -1)


ACTIVATIONS: dict[str, type[Module]] = {
    "relu": ReLU,
    "tanh": Tanh,
    "sigmoid": Sigmoid,
    "identity": Identity,
    "linear": Identity,
}


def _activation(activation: str | Callable[[], Module]) -> Module:
    if isinstance(activation, str):
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; expected one of {', '.join(ACTIVATIONS)}")
        return ACTIVATIONS[activation]()
    if callable(activation):
        module = activation()
        if not isinstance(module, Module):
            raise TypeError(f"activation() must return a Module, got {type(module).__name__}")
        return module
    raise TypeError(f"activation must be a name or a Module class, got {activation!r}")


class MLP(Sequential):
    """A multilayer perceptron: ``Linear, activation, Linear, ..., Linear`` (no activation after the last).

    Parameters
    ----------
    sizes : sequence of int
        Layer widths from input to output, e.g. ``[64, 128, 10]``.
    activation : str or callable
        ``"relu"``, ``"tanh"``, ``"sigmoid"``, ``"identity"``, or a Module class.
    init : str or callable
        Weight initialiser of every Linear layer (see :class:`Linear`).
    bias : bool
        Whether the layers have biases.
    seed : int or numpy.random.Generator, optional
        One generator seeds all layers in order.
    dtype : str
        ``"float64"`` or ``"float32"``.
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str | Callable[[], Module] = "relu",
        init: Init = "torch",
        *,
        bias: bool = True,
        seed: Seed = None,
        dtype: str = "float64",
    ) -> None:
        sizes = list(sizes)
        if len(sizes) < 2:
            raise ValueError(f"sizes needs at least an input and an output size, got {sizes!r}")
        gen = rng(seed)
        layers: list[Module] = []
        for k, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            layers.append(Linear(n_in, n_out, bias, init=init, seed=gen, dtype=dtype))
            if k < len(sizes) - 2:
                layers.append(_activation(activation))
        super().__init__(*layers)
        self.sizes = sizes


class Dropout(Module):
    r"""Inverted dropout: in training, zero each entry with probability ``p`` and scale the rest by :math:`1/(1-p)`.

    .. math:: y = x \odot m / (1-p), \qquad m_i \sim \text{Bernoulli}(1-p)

    so the expected output equals the input and evaluation mode (:meth:`Module.eval`) is the identity.
    The mask is drawn on the host, ``keep = generator.random(x.shape) >= p`` with the layer's own
    generator seeded by ``seed`` (one new mask per call), and moved to the input's device.
    """

    def __init__(self, p: float = 0.5, *, seed: Seed = None) -> None:
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, int | float) or not 0 <= p <= 1:
            raise ValueError(f"p must be a probability in [0, 1], got {p!r}")
        self.p = float(p)
        self.generator = rng(seed)

    def forward(self, x: Any) -> Tensor:
        """Apply a fresh mask in training mode; return ``x`` unchanged in evaluation mode."""
        x = as_tensor(x)
        if not self.training or self.p == 0:
            return x
        keep = self.generator.random(x.shape) >= self.p
        scale = 0.0 if self.p == 1 else 1.0 / (1.0 - self.p)
        mask = x.xp.asarray(keep * scale, dtype=x.dtype, device=_device(x.data))
        return x * mask

    def extra_repr(self) -> str:
        """The drop probability."""
        return f"p={self.p}"
