"""Recurrent layers: an Elman RNN cell and an LSTM cell, each unrolled over time by a wrapper."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from array_api_compat import device as _device

from gdcourse import _checks
from gdcourse import init as _init
from gdcourse.autodiff.array import Tensor, as_tensor, stack
from gdcourse.backend import rng
from gdcourse.nn.layers import linear
from gdcourse.nn.module import Module, _param

__all__ = ["LSTM", "RNN", "LSTMCell", "RNNCell"]

Array = Any
Seed = int | np.random.Generator | None
Init = str | Callable[..., Array]


class RNNCell(Module):
    r"""One step of an Elman RNN: :math:`h' = \tanh(x W_{ih}^\top + b_{ih} + h W_{hh}^\top + b_{hh})`.

    Shapes and names as ``torch.nn.RNNCell``: ``weight_ih`` ``(H, in)``, ``weight_hh`` ``(H, H)``,
    ``bias_ih`` and ``bias_hh`` ``(H,)``.  ``init="torch"`` draws all four from
    :math:`U(\pm 1/\sqrt{H})` as PyTorch does; another scheme draws the weights and zeroes the biases.
    """

    gates = 1

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        *,
        init: Init = "torch",
        seed: Seed = None,
        dtype: str = "float64",
    ) -> None:
        super().__init__()
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.input_size = _checks.positive_int("input_size", input_size)
        self.hidden_size = h = _checks.positive_int("hidden_size", hidden_size)
        self.nonlinearity = nonlinearity
        gen = rng(seed)
        rows = self.gates * h
        if init == "torch":
            k = 1.0 / math.sqrt(h)

            def draw(shape: tuple[int, ...]) -> Array:
                return _init.uniform(shape, -k, k, seed=gen, dtype=dtype)

            weight = bias_draw = draw
        else:
            weight = lambda shape: _init.get(init)(shape, seed=gen, dtype=dtype)  # noqa: E731
            bias_draw = lambda shape: _init.zeros(shape, dtype=dtype)  # noqa: E731
        self.weight_ih = _param(weight((rows, input_size)))
        self.weight_hh = _param(weight((rows, h)))
        self.bias_ih = _param(bias_draw((rows,))) if bias else None
        self.bias_hh = _param(bias_draw((rows,))) if bias else None

    def _preactivation(self, x: Tensor, h: Tensor) -> Tensor:
        r""":math:`x W_{ih}^\top + b_{ih} + h W_{hh}^\top + b_{hh}`."""
        return linear(x, self.weight_ih, self.bias_ih) + linear(h, self.weight_hh, self.bias_hh)

    def _check(self, x: Tensor) -> None:
        if x.ndim != 2 or x.shape[1] != self.input_size:
            raise ValueError(f"{type(self).__name__} expects input of shape (N, {self.input_size}), got {x.shape}")

    def _zeros(self, x: Tensor) -> Tensor:
        return Tensor(x.xp.zeros((x.shape[0], self.hidden_size), dtype=x.dtype, device=_device(x.data)))

    def forward(self, x: Any, h: Any = None) -> Tensor:
        """The next hidden state for input ``x`` ``(N, in)`` and state ``h`` ``(N, H)`` (zeros if omitted).

        Parameters
        ----------
        x : Tensor or array, shape (N, in)
            The inputs of this time step; another shape raises ``ValueError``.
        h : Tensor or array of shape (N, H), optional
            The previous hidden state; ``None`` starts from zeros.

        Returns
        -------
        Tensor, shape (N, H)
            :math:`h'`.
        """
        x = as_tensor(x)
        self._check(x)
        h = self._zeros(x) if h is None else as_tensor(h)
        a = self._preactivation(x, h)
        return a.tanh() if self.nonlinearity == "tanh" else a.relu()

    def extra_repr(self) -> str:
        """Sizes."""
        return f"{self.input_size}, {self.hidden_size}"


class LSTMCell(RNNCell):
    r"""One step of an LSTM, gates stacked in PyTorch's order i, f, g, o (``torch.nn.LSTMCell``).

    .. math::
        \begin{aligned}
        (a_i, a_f, a_g, a_o) &= x W_{ih}^\top + b_{ih} + h W_{hh}^\top + b_{hh} \\
        i = \sigma(a_i),\ f &= \sigma(a_f),\ g = \tanh(a_g),\ o = \sigma(a_o) \\
        c' &= f \odot c + i \odot g, \qquad h' = o \odot \tanh(c')
        \end{aligned}

    ``weight_ih`` is ``(4H, in)``, ``weight_hh`` ``(4H, H)``, the biases ``(4H,)``.
    """

    gates = 4

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        *,
        init: Init = "torch",
        seed: Seed = None,
        dtype: str = "float64",
    ) -> None:
        super().__init__(input_size, hidden_size, bias, "tanh", init=init, seed=seed, dtype=dtype)

    # An LSTMCell shares RNNCell's weights and checks, but its state is a pair: (h', c'), not h'.
    def forward(self, x: Any, state: tuple[Any, Any] | None = None) -> tuple[Tensor, Tensor]:  # type: ignore[override]
        """``(h', c')`` for input ``x`` ``(N, in)`` and ``state = (h, c)`` (zeros if omitted).

        Parameters
        ----------
        x : Tensor or array, shape (N, in)
            One time step's inputs; another shape raises ``ValueError``.
        state : pair of Tensors or arrays, optional
            The hidden state :math:`h` and the cell state :math:`c`, each ``(N, H)``; ``None``: both zero.

        Returns
        -------
        h, c : Tensor, shape (N, H)
            The next hidden and cell states :math:`h'` and :math:`c'`.
        """
        x = as_tensor(x)
        self._check(x)
        if state is None:
            h, c = self._zeros(x), self._zeros(x)
        else:
            h, c = as_tensor(state[0]), as_tensor(state[1])
        a = self._preactivation(x, h)
        n = self.hidden_size
        i = a[:, :n].sigmoid()
        f = a[:, n : 2 * n].sigmoid()
        g = a[:, 2 * n : 3 * n].tanh()
        o = a[:, 3 * n :].sigmoid()
        c = f * c + i * g
        return o * c.tanh(), c


class RNN(Module):
    """An :class:`RNNCell` unrolled over time, the same parameters at every step.

    ``forward(x, h0)`` takes ``x`` of shape ``(N, T, input_size)`` (batch first) and returns
    ``(outputs, h_T)``: every hidden state ``(N, T, H)`` and the last one ``(N, H)``.  Equals
    ``torch.nn.RNN(batch_first=True)`` with one layer.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        *,
        init: Init = "torch",
        seed: Seed = None,
        dtype: str = "float64",
    ) -> None:
        super().__init__()
        self.cell = RNNCell(input_size, hidden_size, bias, nonlinearity, init=init, seed=seed, dtype=dtype)

    def forward(self, x: Any, h0: Any = None) -> tuple[Tensor, Tensor]:
        r"""Run the cell over the time axis of ``x``.

        Parameters
        ----------
        x : Tensor or array, shape (N, T, input_size)
            A batch of sequences, batch first, :math:`T \ge 1`; another shape raises ``ValueError``.
        h0 : Tensor or array of shape (N, H), optional
            The hidden state before the first step (zeros when ``None``).

        Returns
        -------
        outputs : Tensor, shape (N, T, H)
            The hidden state after every step.
        h : Tensor, shape (N, H)
            The last one, :math:`h_T`.
        """
        x = as_tensor(x)
        _check_sequence(x, self.cell)
        h = h0
        outputs = []
        for t in range(x.shape[1]):
            h = self.cell(x[:, t, :], h)
            outputs.append(h)
        return stack(outputs, axis=1), h


class LSTM(Module):
    """An :class:`LSTMCell` unrolled over time, the same parameters at every step.

    ``forward(x, state)`` takes ``x`` of shape ``(N, T, input_size)`` (batch first) and
    ``state = (h0, c0)`` (zeros if omitted); returns ``(outputs, (h_T, c_T))`` with outputs
    ``(N, T, H)``.  Equals ``torch.nn.LSTM(batch_first=True)`` with one layer.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        *,
        init: Init = "torch",
        seed: Seed = None,
        dtype: str = "float64",
    ) -> None:
        super().__init__()
        self.cell = LSTMCell(input_size, hidden_size, bias, init=init, seed=seed, dtype=dtype)

    def forward(self, x: Any, state: tuple[Any, Any] | None = None) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        r"""Run the cell over the time axis of ``x``.

        Parameters
        ----------
        x : Tensor or array, shape (N, T, input_size)
            Sequences, batch first, at least one step long (else ``ValueError``).
        state : (h0, c0), optional
            Hidden and cell states before the first step, each ``(N, H)``; zeros when ``None``.

        Returns
        -------
        outputs : Tensor, shape (N, T, H)
            The hidden states :math:`h_1, \dots, h_T`.
        (h, c) : pair of Tensors, shape (N, H)
            The states after the last step, :math:`(h_T, c_T)`.
        """
        x = as_tensor(x)
        _check_sequence(x, self.cell)
        outputs = []
        for t in range(x.shape[1]):
            state = self.cell(x[:, t, :], state)
            outputs.append(state[0])
        assert state is not None  # _check_sequence: T >= 1
        return stack(outputs, axis=1), state


def _check_sequence(x: Tensor, cell: RNNCell) -> None:
    if x.ndim != 3 or x.shape[2] != cell.input_size or x.shape[1] < 1:
        raise ValueError(
            f"{type(cell).__name__[:-4]} expects input of shape (N, T, {cell.input_size}) with T >= 1, got {x.shape}"
        )
