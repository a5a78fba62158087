"""Convolution (im2col and one matrix product) and pooling."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from gdcourse import _checks
from gdcourse import init as _init
from gdcourse.autodiff.array import Tensor, as_tensor
from gdcourse.backend import rng
from gdcourse.nn.layers import _bias
from gdcourse.nn.module import Module, _check_input, _param

__all__ = ["AvgPool2d", "Conv2d", "MaxPool2d"]

Array = Any
Seed = int | np.random.Generator | None
Init = str | Callable[..., Array]


class Conv2d(Module):
    r"""2-D convolution (cross-correlation, as in PyTorch) by im2col and one matrix product.

    .. math:: y_{n,o,i,j} = b_o + \sum_{c,u,v} W_{o,c,u,v}\, x_{n,c,\,s i + u - p,\, s j + v - p}

    Input ``(N, C_in, H, W)``, weight ``(C_out, C_in, kh, kw)``, output ``(N, C_out, H_out, W_out)``
    with :math:`H_{out} = \lfloor (H + 2p - k_h)/s \rfloor + 1`.  The patches are unfolded
    (:meth:`Tensor.unfold2d`) into ``(N, C_in·kh·kw, H_out·W_out)`` and multiplied by the weight
    reshaped to ``(C_out, C_in·kh·kw)``.

    Parameters
    ----------
    in_channels, out_channels : int
        Channels of input and output.
    kernel_size, stride, padding : int or (int, int)
        As in ``torch.nn.Conv2d`` (zero padding).
    bias : bool
        Whether to add a bias per output channel.
    init, seed, dtype
        As in :class:`Linear` (``"torch"``: :math:`U(\pm 1/\sqrt{C_{in} k_h k_w})`).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        bias: bool = True,
        *,
        init: Init = "torch",
        seed: Seed = None,
        dtype: str = "float64",
    ) -> None:
        super().__init__()
        self.in_channels = _checks.positive_int("in_channels", in_channels)
        self.out_channels = _checks.positive_int("out_channels", out_channels)
        self.kernel_size = _pair(kernel_size)
        self.stride = _pair(stride)
        self.padding = _pair(padding)
        gen = rng(seed)
        shape = (out_channels, in_channels, *self.kernel_size)
        self.weight = _param(_init.get(init)(shape, seed=gen, dtype=dtype))
        fan_in = _init.fan_in_and_fan_out(shape)[0]
        self.bias = _param(_bias(init, out_channels, fan_in, gen, dtype)) if bias else None

    def forward(self, x: Any) -> Tensor:
        """Convolve ``x`` of shape ``(N, C_in, H, W)``."""
        x = as_tensor(x)
        _check_input(x, 4, "(N, C, H, W)", self.weight.dtype, "Conv2d")
        n, c, h, w = x.shape
        if c != self.in_channels:
            raise ValueError(f"Conv2d expects {self.in_channels} input channels, got {c} (input shape {x.shape})")
        cols = x.unfold2d(self.kernel_size, self.stride, self.padding)  # (N, C·kh·kw, L)
        y = self.weight.reshape(self.out_channels, -1) @ cols  # (N, C_out, L)
        if self.bias is not None:
            y = y + self.bias.reshape(self.out_channels, 1)
        oh, ow = _out_size((h, w), self.kernel_size, self.stride, self.padding)
        return y.reshape(n, self.out_channels, oh, ow)

    def extra_repr(self) -> str:
        """Channels, kernel, stride, padding."""
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}"
        )


def _pair(v: int | tuple[int, int]) -> tuple[int, int]:
    return (int(v), int(v)) if isinstance(v, int | np.integer) else (int(v[0]), int(v[1]))


def _out_size(hw: tuple[int, int], k: tuple[int, int], s: tuple[int, int], p: tuple[int, int]) -> tuple[int, int]:
    return tuple((n + 2 * pi - ki) // si + 1 for n, ki, si, pi in zip(hw, k, s, p, strict=True))  # type: ignore[return-value]


class _Pool2d(Module):
    reduce = "max"

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
    ) -> None:
        super().__init__()
        self.kernel_size = _pair(kernel_size)
        self.stride = self.kernel_size if stride is None else _pair(stride)
        self.padding = _pair(padding)

    def forward(self, x: Any) -> Tensor:
        """Pool each channel over ``kernel_size`` windows."""
        x = as_tensor(x)
        if x.ndim != 4:
            raise ValueError(f"{type(self).__name__} expects input of shape (N, C, H, W), got shape {x.shape}")
        n, c, h, w = x.shape
        kh, kw = self.kernel_size
        pad_value = -math.inf if self.reduce == "max" else 0.0
        cols = x.unfold2d(self.kernel_size, self.stride, self.padding, pad_value)  # (N, C·kh·kw, L)
        cols = cols.reshape(n, c, kh * kw, -1)
        y = cols.max(axis=2) if self.reduce == "max" else cols.mean(axis=2)
        oh, ow = _out_size((h, w), self.kernel_size, self.stride, self.padding)
        return y.reshape(n, c, oh, ow)

    def extra_repr(self) -> str:
        """Kernel, stride, padding."""
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """Maximum over each window (``stride`` defaults to the kernel size; padding counts as −∞).

    The gradient goes to the first maximal entry of each window, as in ``torch.nn.MaxPool2d``.
    """

    reduce = "max"


class AvgPool2d(_Pool2d):
    """Mean over each window (``stride`` defaults to the kernel size; padding counts as 0).

    As ``torch.nn.AvgPool2d`` with its default ``count_include_pad=True``.
    """

    reduce = "mean"
