r"""Exercises of notebook 04 (backpropagation).

Conventions decided here:

- ``04.chain_rule`` is a value: :math:`\partial L/\partial w` for one tanh neuron with a squared
  error, :math:`L = (\tanh(wx + b) - t)^2` at :math:`w = 0.5, x = 3, b = -0.5, t = 1`, so
  :math:`\partial L/\partial w = 2(y - t)(1 - y^2)\,x` with :math:`y = \tanh 1`.
- ``04.linear_backward(x, W, b, grad_out)`` uses :class:`gdcourse.nn.Linear`'s (and PyTorch's)
  layout: ``W`` has shape ``(n_out, n_in)`` and the forward pass is :math:`Y = XW^\top + b`.  It
  returns ``(grad_x, grad_W, grad_b)`` :math:`= (\bar Y W,\ \bar Y^\top X,\ \sum_n \bar Y_n)`.
  The reference is the array engine itself (:func:`gdcourse.nn.linear` run backward).  The cases use
  square layers (``n_in == n_out``) with a batch of another size: a transposition mistake then gives
  wrong *numbers* that the check can diagnose, not just a shape error.
- ``04.relu_backward(x, grad_out)`` returns :math:`\bar y \odot [x > 0]`: the derivative of ReLU at
  exactly 0 is taken as **0**, as in PyTorch and :meth:`gdcourse.autodiff.Tensor.relu` (any value in
  [0, 1] is a valid subgradient there; the course fixes one so results are comparable).  Every case
  contains exact zeros.  The reference is the array engine.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gdcourse import nn
from gdcourse.autodiff import Tensor
from gdcourse.backend import array_namespace, asarray
from gdcourse.exercises.catalog import XP_PREAMBLE
from gdcourse.exercises.core import Case, Exercise, Mistake

__all__ = ["EXERCISES"]


# --- 04.chain_rule ------------------------------------------------------------------------------

W0, X0, B0, T0 = 0.5, 3.0, -0.5, 1.0


def _neuron(*, outer: float = 2.0, inner: str = "1-y^2", dz_dw: float = X0, sign: float = 1.0) -> float:
    """∂L/∂w for L = (tanh(wx + b) − t)², with switches that plant the known mistakes."""
    y = math.tanh(W0 * X0 + B0)
    local = {"1-y^2": 1 - y**2, "1": 1.0, "1-y": 1 - y, "1-z^2": 1 - (W0 * X0 + B0) ** 2, "y(1-y)": y * (1 - y)}[inner]
    return outer * sign * (y - T0) * local * dz_dw


CHAIN_RULE = Exercise(
    id="04.chain_rule",
    kind="value",
    title="L = (tanh(w·x + b) − t)² at w = 0.5, x = 3, b = −0.5, t = 1: the derivative ∂L/∂w (a number)",
    reference=lambda: _neuron(),
    digits=4,
    hints=(
        "Name the intermediate values: z = w·x + b, y = tanh(z), L = (y − t)². Then ∂L/∂w = ∂L/∂y · ∂y/∂z · ∂z/∂w.",
        "The three local derivatives: ∂L/∂y = 2(y − t), ∂y/∂z = 1 − tanh²(z) = 1 − y², ∂z/∂w = x.",
        "With z = 1: y = tanh(1); the answer is 2 * (y - 1) * (1 - y**2) * 3.",
    ),
    solution=(
        "import math\n\n"
        "z = 0.5 * 3 - 0.5                              # forward: z = w x + b = 1\n"
        "y = math.tanh(z)                               # y = tanh(z)\n"
        "answer = 2 * (y - 1) * (1 - y**2) * 3      # ∂L/∂y · ∂y/∂z · ∂z/∂w\n"
    ),
    mistakes=(
        Mistake(
            "forgot_dz_dw",
            "You stopped one link early: that is ∂L/∂z (or ∂L/∂b). z = w·x + b depends on w through the "
            "factor x, so multiply by ∂z/∂w = x = 3.",
            lambda: _neuron(dz_dw=1.0),
        ),
        Mistake(
            "forgot_outer_two",
            "The derivative of the square (y − t)² is 2(y − t): the factor 2 is missing.",
            lambda: _neuron(outer=1.0),
        ),
        Mistake(
            "forgot_tanh_derivative",
            "The tanh link is missing: y = tanh(z), so the chain needs ∂y/∂z = 1 − tanh²(z) = 1 − y².",
            lambda: _neuron(inner="1"),
        ),
        Mistake(
            "tanh_derivative_1_minus_y",
            "The derivative of tanh is 1 − tanh²(z) = 1 − y², not 1 − y (that is not the derivative "
            "of anything here; the sigmoid's is σ(1 − σ)).",
            lambda: _neuron(inner="1-y"),
        ),
        Mistake(
            "tanh_derivative_at_z",
            "The derivative of tanh is 1 − tanh²(z), the square of the *output* y = tanh(z), not 1 − z² of the input.",
            lambda: _neuron(inner="1-z^2"),
        ),
        # Notebook 04 §2: "a `*` node swaps: each input receives the incoming gradient times the *other* input";
        # multiplying by w itself is the slip that rule of thumb is there to prevent.
        Mistake(
            "dz_dw_is_w",
            "∂z/∂w is x, not w: z = w·x + b is a product, and a `*` node swaps — each factor receives the incoming "
            "gradient times the *other* factor. Multiply by x = 3, not by w = 0.5.",
            lambda: _neuron(dz_dw=W0),
        ),
        # The course's networks put tanh hidden units next to a sigmoid output (the XOR network of §4), and the
        # two local derivatives are easily swapped: σ' = σ(1 − σ) written with the output, like tanh' = 1 − y².
        Mistake(
            "sigmoid_derivative",
            "y(1 − y) is the derivative of the sigmoid, σ' = σ(1 − σ), written with its output. This neuron uses "
            "tanh, whose derivative written with its output is 1 − tanh²(z) = 1 − y².",
            lambda: _neuron(inner="y(1-y)"),
        ),
    ),
)


# --- 04.linear_backward -------------------------------------------------------------------------


def linear_backward(x: Any, W: Any, b: Any, grad_out: Any) -> tuple[Any, Any, Any]:  # noqa: N803 - the math's W
    """Reference for ``04.linear_backward``: :func:`gdcourse.nn.linear` (Y = X Wᵀ + b) run backward."""
    xt, wt, bt = Tensor(x, requires_grad=True), Tensor(W, requires_grad=True), Tensor(b, requires_grad=True)
    nn.linear(xt, wt, bt).backward(grad_out)
    return xt.grad, wt.grad, bt.grad


def _linear_cases(rng: np.random.Generator) -> list[Case]:
    def case(n: int, width: int, label: str) -> Case:
        x, w = rng.normal(size=(n, width)), rng.normal(size=(width, width))
        b, g = rng.normal(size=width), rng.normal(size=(n, width))
        return Case((asarray(x), asarray(w), asarray(b), asarray(g)), label=label)

    return [
        case(4, 3, "a batch of 4, a 3 → 3 layer"),
        case(2, 5, "a batch of 2, a 5 → 5 layer"),
        case(6, 2, "a batch of 6, a 2 → 2 layer"),
    ]


def _w_transposed(x: Any, W: Any, b: Any, grad_out: Any) -> tuple[Any, Any, Any]:  # noqa: N803
    gx, gw, gb = linear_backward(x, W, b, grad_out)
    return grad_out @ W.T, gw, gb


def _grad_w_transposed(x: Any, W: Any, b: Any, grad_out: Any) -> tuple[Any, Any, Any]:  # noqa: N803
    gx, gw, gb = linear_backward(x, W, b, grad_out)
    return gx, x.T @ grad_out, gb


def _bias_not_summed(x: Any, W: Any, b: Any, grad_out: Any) -> tuple[Any, Any, Any]:  # noqa: N803
    gx, gw, gb = linear_backward(x, W, b, grad_out)
    return gx, gw, grad_out


def _bias_wrong_axis(x: Any, W: Any, b: Any, grad_out: Any) -> tuple[Any, Any, Any]:  # noqa: N803
    gx, gw, gb = linear_backward(x, W, b, grad_out)
    return gx, gw, array_namespace(grad_out).sum(grad_out, axis=1)


def _bias_mean(x: Any, W: Any, b: Any, grad_out: Any) -> tuple[Any, Any, Any]:  # noqa: N803
    gx, gw, gb = linear_backward(x, W, b, grad_out)
    return gx, gw, array_namespace(grad_out).mean(grad_out, axis=0)


LINEAR_BACKWARD = Exercise(
    id="04.linear_backward",
    kind="function",
    title=(
        "linear_backward(x, W, b, grad_out) for Y = x Wᵀ + b (W of shape (n_out, n_in)): "
        "return (grad_x, grad_W, grad_b)"
    ),
    reference=linear_backward,
    make_cases=_linear_cases,
    hints=(
        "Each gradient has the shape of the thing it is the gradient of: grad_x like x (n, n_in), "
        "grad_W like W (n_out, n_in), grad_b like b (n_out,). Let the shapes tell you how to multiply.",
        "Y = x Wᵀ + b, so Y_nj = Σ_i x_ni W_ji + b_j. Differentiate one entry: ∂Y_nj/∂x_ni = W_ji, "
        "∂Y_nj/∂W_ji = x_ni, ∂Y_nj/∂b_j = 1, then sum over every (n, j) that uses it.",
        "grad_x = grad_out @ W, grad_W = grad_out.T @ x, grad_b = xp.sum(grad_out, axis=0) "
        "(b is added to every row of the batch, so its gradient sums over the batch).",
    ),
    solution=(
        XP_PREAMBLE
        + "def linear_backward(x, W, b, grad_out):\n"
        "    grad_x = grad_out @ W              # (n, n_out) @ (n_out, n_in) -> (n, n_in)\n"
        "    grad_W = grad_out.T @ x            # (n_out, n) @ (n, n_in) -> (n_out, n_in)\n"
        "    grad_b = xp.sum(grad_out, axis=0)  # b is used by every example: sum over the batch\n"
        "    return grad_x, grad_W, grad_b\n"
    ),
    mistakes=(
        Mistake(
            "w_transposed_in_grad_x",
            "grad_x uses Wᵀ: the forward pass multiplies x by Wᵀ, so the backward pass multiplies "
            "grad_out by (Wᵀ)ᵀ = W: grad_x = grad_out @ W. (With n_in ≠ n_out your version would "
            "not even have the right shape.)",
            _w_transposed,
        ),
        Mistake(
            "grad_w_transposed",
            "grad_W is transposed: x.T @ grad_out has shape (n_in, n_out), but W has shape (n_out, n_in). "
            "Use grad_out.T @ x, so that grad_W[j, i] = Σ_n grad_out[n, j] · x[n, i].",
            _grad_w_transposed,
        ),
        Mistake(
            "bias_not_summed",
            "grad_b is not summed over the batch: the same b is added to every example, so its gradient "
            "collects one contribution per example, xp.sum(grad_out, axis=0), of the shape of b.",
            _bias_not_summed,
        ),
        Mistake(
            "bias_wrong_axis",
            "grad_b sums over the wrong axis: axis 1 adds up the outputs of one example; the batch is "
            "axis 0, so grad_b = xp.sum(grad_out, axis=0), of the shape of b.",
            _bias_wrong_axis,
        ),
        Mistake(
            "bias_mean",
            "grad_b averages over the batch instead of summing. Any 1/N of a mean loss is already inside "
            "grad_out; backpropagation through b + ... just adds up the contributions.",
            _bias_mean,
        ),
    ),
)


# --- 04.relu_backward ---------------------------------------------------------------------------


def relu_backward(x: Any, grad_out: Any) -> Any:
    """Reference for ``04.relu_backward``: :meth:`gdcourse.autodiff.Tensor.relu` run backward (0 at x = 0)."""
    xt = Tensor(x, requires_grad=True)
    xt.relu().backward(grad_out)
    return xt.grad


def _relu_cases(rng: np.random.Generator) -> list[Case]:
    def case(shape: tuple[int, ...], label: str) -> Case:
        size = int(np.prod(shape))
        x, g = rng.normal(size=size), rng.normal(size=size)
        g[np.abs(g) < 0.1] = 0.5  # no vanishing upstream gradient where it would hide a mistake
        order = rng.permutation(size)
        zeros, neg, pos = order[: max(1, size // 4)], order[size // 4 + 1], order[size // 4 + 2]
        x[zeros] = 0.0  # exact zeros: where the convention at the kink matters
        x[neg], x[pos] = -abs(x[neg]) - 0.5, abs(x[pos]) + 0.5  # surely one input on each side of the kink
        g[zeros[0]], g[neg], g[pos] = abs(g[zeros[0]]) + 0.5, abs(g[neg]) + 0.5, -abs(g[pos]) - 0.5
        return Case((asarray(x.reshape(shape)), asarray(g.reshape(shape))), label=label)

    return [
        case((8,), "a vector with some exact zeros"),
        case((3, 4), "a (3, 4) batch with some exact zeros"),
        case((2, 3, 2), "a 3-D array with some exact zeros"),
    ]


def _relu_mistake(kind: str) -> Any:
    def answer(x: Any, grad_out: Any) -> Any:
        xp = array_namespace(x)
        zero = xp.zeros_like(grad_out)
        if kind == "one_at_zero":
            return xp.where(x >= 0, grad_out, zero)
        if kind == "passes_everything":
            return grad_out
        if kind == "mask_only":
            return xp.astype(x > 0, grad_out.dtype)
        if kind == "mask_on_grad":
            return xp.where(grad_out > 0, grad_out, zero)
        if kind == "times_relu":
            return grad_out * xp.maximum(x, zero)
        raise ValueError(kind)

    return answer


RELU_BACKWARD = Exercise(
    id="04.relu_backward",
    kind="function",
    title="relu_backward(x, grad_out): the gradient with respect to x of relu(x) = max(x, 0), given grad_out",
    reference=relu_backward,
    make_cases=_relu_cases,
    hints=(
        "relu has slope 1 where x > 0 and slope 0 where x < 0. At exactly x = 0 the course (like PyTorch) "
        "takes the slope as 0.",
        "By the chain rule, grad_x = grad_out × (slope of relu at x), entry by entry.",
        "xp.where(x > 0, grad_out, 0.0): grad_out where x > 0, and 0 everywhere else (x ≤ 0).",
    ),
    solution=(
        XP_PREAMBLE
        + "def relu_backward(x, grad_out):\n"
        "    return xp.where(x > 0, grad_out, 0.0)  # slope 1 where x > 0, else 0 (also at 0)\n"
    ),
    mistakes=(
        Mistake(
            "one_at_zero",
            "At x = 0 you pass the gradient through (slope 1, from x >= 0). ReLU has a kink there; the course "
            "takes the slope at exactly 0 as 0, as PyTorch and gdcourse.autodiff do: use x > 0.",
            _relu_mistake("one_at_zero"),
        ),
        Mistake(
            "passes_everything",
            "You pass grad_out through everywhere, also where x < 0. There relu is flat (constantly 0), "
            "so no gradient flows back: multiply by the mask x > 0.",
            _relu_mistake("passes_everything"),
        ),
        Mistake(
            "mask_only",
            "You return the local derivative (the mask x > 0) without multiplying by grad_out. The chain "
            "rule multiplies the local slope by the gradient arriving from above: xp.where(x > 0, grad_out, 0.0).",
            _relu_mistake("mask_only"),
        ),
        Mistake(
            "mask_on_grad",
            "You masked by the sign of grad_out. Whether the gradient flows depends on where relu was "
            "evaluated, i.e. on the input x: xp.where(x > 0, grad_out, 0.0).",
            _relu_mistake("mask_on_grad"),
        ),
        Mistake(
            "times_relu",
            "You multiplied by relu(x) itself, the function's value. Its slope is 1 where x > 0, not x: "
            "xp.where(x > 0, grad_out, 0.0).",
            _relu_mistake("times_relu"),
        ),
    ),
)

EXERCISES: tuple[Exercise, ...] = (CHAIN_RULE, LINEAR_BACKWARD, RELU_BACKWARD)
