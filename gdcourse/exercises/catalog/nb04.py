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
- ``04.spot_the_bug(loss_fn, grad_fn, theta)`` is an experiment: a gradient check.  ``loss_fn`` is a
  :class:`RidgeLogisticLoss` (returns a Python float), ``grad_fn`` a :class:`HandWrittenGradient` (both
  gdcourse dataclasses, so the grader sends them as data): the exact gradient with a few entries multiplied
  by a wrong factor (−1, 2, ½, 0, 1.01, or 1 ± a few 10⁻⁴ or 10⁻⁵), drawn from the case's ``pattern`` and
  ``seed``.  The answer is the indices of the wrong entries, as a list, tuple or 1-D integer array (a single
  int is one index), in any order; it passes when it names exactly the slipped entries (the case's
  ``key``: index → relative error of the slip).  The features' scales run from 0.02 to 50, so the entries
  span four orders of magnitude; every case is drawn so that central differences (h = 1e-6, float64) agree
  with each correct entry to 1e-7 or better and differ from each slip by about 5e-5 or more, on both sides of the
  tolerance 1e-6 by a factor 10.  The second case puts a slip of about 1e-4 on an entry of size 3.5e-3
  (missed by an absolute test) and one on an entry above 0.1; the first case has correct entries that a
  one-sided difference and a tiny step each flag, not the same ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from array_api_compat import device

from gdcourse import nn
from gdcourse.autodiff import Tensor
from gdcourse.backend import array_namespace, asarray, to_numpy
from gdcourse.exercises.catalog import XP_PREAMBLE
from gdcourse.exercises.core import Case, Exercise, Mistake
from gdcourse.gradcheck import numerical_grad, relative_error
from gdcourse.losses import sigmoid

__all__ = ["EXERCISES", "HandWrittenGradient", "RidgeLogisticLoss"]


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
    r"""Reference for ``04.linear_backward``: :func:`gdcourse.nn.linear` (Y = X Wᵀ + b) run backward.

    Parameters
    ----------
    x : array of shape (n, n_in)
        The layer's input, one example per row.
    W : array of shape (n_out, n_in)
        The weights (the layout of :class:`gdcourse.nn.Linear` and PyTorch).
    b : array of shape (n_out,)
        The bias.
    grad_out : array of shape (n, n_out)
        The upstream gradient :math:`\bar Y = \partial L/\partial Y`.

    Returns
    -------
    grad_x : array of shape (n, n_in)
        :math:`\bar Y W`.
    grad_W : array of shape (n_out, n_in)
        :math:`\bar Y^\top X`.
    grad_b : array of shape (n_out,)
        :math:`\sum_n \bar Y_n`.
    """
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
        XP_PREAMBLE + "def linear_backward(x, W, b, grad_out):\n"
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
    r"""Reference for ``04.relu_backward``: :meth:`gdcourse.autodiff.Tensor.relu` run backward (0 at x = 0).

    Parameters
    ----------
    x : array
        The input of the ReLU (any shape; it may hold exact zeros).
    grad_out : array, same shape as ``x``
        The upstream gradient :math:`\bar y`.

    Returns
    -------
    array, same shape as ``x``
        :math:`\bar y \odot [x > 0]`: the derivative at exactly 0 is taken as 0.
    """
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
        XP_PREAMBLE + "def relu_backward(x, grad_out):\n"
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

# --- 04.spot_the_bug ----------------------------------------------------------------------------

_SLIP_TOL = 1e-6
"""The gradient check's tolerance on the relative error (this notebook's, for float64)."""


@dataclass(frozen=True, eq=False)
class RidgeLogisticLoss:
    r"""The loss of ``04.spot_the_bug``: logistic regression with a ridge penalty.

    .. math:: J(\theta) = \frac1n\sum_i \big[\log(1 + e^{z_i}) - y_i z_i\big]
              + \frac\alpha2\lVert\theta\rVert^2, \qquad z = X\theta .

    Attributes
    ----------
    X : array
        Features, shape ``(n, p)``, on very different scales.
    y : array
        Labels 0 or 1, shape ``(n,)``.
    alpha : float
        Ridge strength.
    """

    X: Any
    y: Any
    alpha: float

    def __call__(self, theta: Any) -> float:
        """Return J(θ) as a Python float."""
        xp = array_namespace(self.X)
        z = self.X @ theta
        return float(xp.mean(xp.logaddexp(xp.zeros_like(z), z) - self.y * z) + 0.5 * self.alpha * (theta @ theta))

    def __repr__(self) -> str:
        return f"<ridge logistic loss J(θ), {self.X.shape[1]} parameters>"


def _planted_slips(pattern: str, seed: int, p: int) -> list[tuple[int, float]]:
    """The entries of the gradient that :class:`HandWrittenGradient` gets wrong, and the factor each is off by.

    ``"one"``: one entry off by a sign, a factor 2 or ½, or dropped; ``"subtle"``: two entries off by a few parts
    in 10⁴ (the first on a small entry, the second on a large one, as the case generator arranges); ``"several"``:
    two or three entries, each off by a sign, a factor, a dropped term or 1%.
    """
    gen = np.random.default_rng(seed)
    order = [int(i) for i in gen.permutation(p)]
    if pattern == "one":
        return [(order[0], float(gen.choice([-1.0, 2.0, 0.5, 0.0])))]
    if pattern == "subtle":
        small = 1.0 + float(gen.choice([-1.0, 1.0])) * float(gen.uniform(5e-5, 1e-4))
        large = 1.0 + float(gen.choice([-1.0, 1.0])) * float(gen.uniform(1e-4, 5e-4))
        return [(order[0], small), (order[1], large)]
    count = int(gen.integers(2, 4))
    return [(order[k], float(gen.choice([-1.0, 2.0, 0.5, 0.0, 1.01]))) for k in range(count)]


def _true_gradient(X: Any, y: Any, alpha: float, theta: Any) -> Any:
    r""":math:`\nabla J(\theta) = \frac1n X^\top(\sigma(X\theta) - y) + \alpha\theta` for :class:`RidgeLogisticLoss`."""
    return X.T @ (sigmoid(X @ theta) - y) / X.shape[0] + alpha * theta


@dataclass(frozen=True, eq=False)
class HandWrittenGradient:
    r"""A hand-written gradient of :class:`RidgeLogisticLoss` with a few slips: the exercise's "buggy backward".

    :math:`\nabla J(\theta) = \frac1n X^\top(\sigma(X\theta) - y) + \alpha\theta`, except at the entries
    :func:`_planted_slips` picks from ``pattern`` and ``seed``, which are off by a factor.
    """

    X: Any
    y: Any
    alpha: float
    pattern: str
    seed: int

    def __call__(self, theta: Any) -> Any:
        """Return the (partly wrong) gradient at θ, an array like θ."""
        xp = array_namespace(self.X)
        grad = _true_gradient(self.X, self.y, self.alpha, theta)
        factors = np.ones(self.X.shape[1])
        for index, factor in _planted_slips(self.pattern, self.seed, self.X.shape[1]):
            factors[index] = factor
        return grad * xp.asarray(factors, dtype=grad.dtype, device=device(grad))

    def __repr__(self) -> str:
        return f"<hand-written gradient of J(θ), {self.X.shape[1]} parameters>"


def spot_the_bug(loss_fn: Any, grad_fn: Any, theta: Any) -> np.ndarray:
    r"""Reference for ``04.spot_the_bug``: the entries whose relative error against central differences exceeds 1e-6.

    :math:`r_k = |a_k - n_k| / \max(|a_k|, |n_k|)` with :math:`a` = ``grad_fn(theta)`` and :math:`n` the
    central differences of ``loss_fn`` with :math:`h = 10^{-6}` in float64
    (:func:`gdcourse.gradcheck.numerical_grad`); returns the sorted flat indices with :math:`r_k > 10^{-6}`.

    Parameters
    ----------
    loss_fn : callable
        The loss :math:`L(\theta)`, a Python float.
    grad_fn : callable
        The hand-written gradient to check: an array shaped like ``theta``, a few of its entries wrong.
    theta : array of shape (p,)
        The point where the gradient is checked.

    Returns
    -------
    ndarray of int
        The indices of the wrong entries, sorted.
    """
    numeric = numerical_grad(loss_fn, theta)  # central differences, h = 1e-6, float64
    return np.flatnonzero(relative_error(grad_fn(theta), numeric) > _SLIP_TOL)


_SCALES = np.array([50.0, 5.0, 1.0, 1.0, 0.2, 0.02, 0.02])
"""The features' scales (permuted in each case): gradient entries range over four orders of magnitude."""
_ALPHA = 0.01


def _central(f: Any, theta: np.ndarray, h: float) -> np.ndarray:
    return np.array([(f(theta + h * e) - f(theta - h * e)) / (2 * h) for e in np.eye(theta.size)])


def _steps_show(loss: Any, theta: np.ndarray, grad: np.ndarray, correct: list[int]) -> bool:
    """Whether a one-sided difference (h = 1e-4) and a tiny step (h = 1e-10) each flag a correct entry, not the same.

    The first errs by about h·J''/2 where the loss curves strongly, the second by rounding where the gradient is
    small, so on a case with both kinds of entry the two planted mistakes flag different sets.
    """
    f0 = loss(theta)
    forward = np.array([(loss(theta + 1e-4 * e) - f0) / 1e-4 for e in np.eye(theta.size)])
    forward_error = relative_error(grad, forward)[correct]
    tiny_h_error = relative_error(grad, _central(loss, theta, 1e-10))[correct]
    flagged = 10 * _SLIP_TOL
    return (
        float(np.max(forward_error)) >= flagged
        and float(np.max(tiny_h_error)) >= flagged
        and bool(np.any((forward_error >= flagged) & (tiny_h_error <= 0.3 * _SLIP_TOL)))
    )


def _spot_the_bug_cases(rng: np.random.Generator) -> list[Case]:
    def case(pattern: str, label: str, *, steps_show: bool = False) -> Case:
        p, n = _SCALES.size, 40
        seed = int(rng.integers(2**31))
        slips = _planted_slips(pattern, seed, p)
        scales = rng.permutation(_SCALES)
        if pattern == "subtle":  # the first slip on a feature of scale 0.02, the second on the one of scale 50
            (small, _), (large, _) = slips
            others = [k for k in range(p) if k not in (small, large)]
            scales[small], scales[large] = 0.02, 50.0
            scales[others] = rng.permutation(np.delete(_SCALES, [0, 5]))
        slipped = [k for k, _ in slips]
        correct = [k for k in range(p) if k not in slipped]
        while True:  # one or two draws: keep cases where the check is sharp and the classic mistakes show
            X = rng.normal(size=(n, p)) * scales
            y = (rng.random(n) < sigmoid(X @ (rng.normal(size=p) / np.maximum(scales, 0.5)))).astype(float)
            theta = rng.normal(size=p) / np.maximum(scales, 0.5)
            loss = RidgeLogisticLoss(X, y, _ALPHA)
            grad = _true_gradient(X, y, _ALPHA, theta)
            if pattern == "subtle":  # set the small slip's entry to ±3.5e-3: a slip of 1e-4 is 3.5e-7 there
                target = float(rng.choice([-1.0, 1.0])) * 3.5e-3
                for _ in range(3):
                    theta[small] += (target - grad[small]) / _ALPHA
                    grad = _true_gradient(X, y, _ALPHA, theta)
            error = relative_error(grad, _central(loss, theta, 1e-6))  # what the reference sees on the true gradient
            if float(np.max(error)) > 0.1 * _SLIP_TOL:
                continue  # the check must be sharp: a correct entry at most 1e-7
            if pattern == "subtle" and abs(grad[large]) < 0.1:
                continue  # the larger of the two tiny slips must be large in absolute terms
            if not steps_show or _steps_show(loss, theta, grad, correct):
                break
        key = {k: abs(f - 1.0) / max(abs(f), 1.0) for k, f in slips}  # each slip's relative error
        gradient = HandWrittenGradient(asarray(X), asarray(y), _ALPHA, pattern, seed)
        return Case((RidgeLogisticLoss(asarray(X), asarray(y), _ALPHA), gradient, asarray(theta)), label=label, key=key)

    return [
        case("one", "one slip: a sign, a factor or a dropped term", steps_show=True),
        case("subtle", "two tiny slips, on a small entry and on a large one"),
        case("several", "two or three slips of various sizes"),
    ]


def _indices(value: Any, p: int) -> set[int] | str:
    """The set of indices in a learner's ``value``, or why it is not a list or array of indices into θ."""
    if isinstance(value, bool | np.bool_) or value is None or isinstance(value, str | bytes | dict):
        return f"expected the indices of the wrong entries (a list or array of ints), got {type(value).__name__}"
    if isinstance(value, int | np.integer):
        value = [value]
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        try:
            host = np.asarray(to_numpy(value))
        except Exception:  # noqa: BLE001 - a fake array
            return "expected the indices of the wrong entries (a list or array of ints)"
        if host.dtype == np.bool_:
            return "expected indices, got a boolean mask: np.flatnonzero(mask) turns a mask into the indices"
        if host.ndim > 1 or host.dtype.kind not in "iu":
            return f"expected a 1-D array of ints (indices into θ), got shape {host.shape}, dtype {host.dtype}"
        value = host.reshape(-1).tolist()
    if not isinstance(value, list | tuple):
        return f"expected the indices of the wrong entries (a list or array of ints), got {type(value).__name__}"
    if any(isinstance(v, bool | np.bool_) for v in value) and len(value) == p:
        return "expected indices, got a list of booleans (a mask): return the positions of the True entries"
    if not all(isinstance(v, int | np.integer) and not isinstance(v, bool | np.bool_) for v in value):
        return "expected whole-number indices into θ (ints), got other values in the list"
    if not all(0 <= v < p for v in value):
        return f"every index must be between 0 and {p - 1} (θ has {p} entries)"
    return {int(v) for v in value}


def _spot_the_bug_requirement(case: Case, value: Any) -> str | None:
    """``None`` when ``value`` names exactly the entries of the gradient that are wrong."""
    p = case.args[2].shape[0]
    got = _indices(value, p)
    if isinstance(got, str):
        return got
    slips: dict[int, float] = case.key
    missed, false_alarms = sorted(set(slips) - got), sorted(got - set(slips))
    if not missed and not false_alarms:
        return None
    reasons = []
    if false_alarms:
        reasons.append(
            f"the analytic gradient is right at {_listed(false_alarms)}: the check itself was off there. Use central "
            "differences (forward ones err by about h·J''/2), a step h near 1e-6 (a far smaller h drowns the "
            "difference in rounding), float64, and the relative error"
        )
    if missed:
        sizes = ", ".join(f"{slips[k]:.2g}" for k in missed)
        reasons.append(
            f"you missed {_listed(missed)}, wrong by a relative {sizes}: that is a bug, far above the 1e-8 or so "
            "that rounding leaves in float64. Compare the relative error |a − n| / max(|a|, |n|) with the "
            "tolerance 1e-6 (an absolute error hides a slip on a small entry)"
        )
    return "; ".join(reasons)


def _listed(indices: list[int]) -> str:
    return ("entry " if len(indices) == 1 else "entries ") + ", ".join(str(k) for k in indices)


def _check_variant(
    *, h: float = 1e-6, forward: bool = False, absolute: bool = False, tol: float = _SLIP_TOL, worst_only: bool = False
) -> Any:
    """A planted answer: a gradient check done one way or another."""

    def answer(loss_fn: Any, grad_fn: Any, theta: Any) -> np.ndarray:
        xp = array_namespace(theta)
        analytic = np.asarray(to_numpy(grad_fn(theta)), dtype=np.float64)
        unit = xp.eye(theta.shape[0], dtype=theta.dtype, device=device(theta))
        steps = [h * unit[k, :] for k in range(theta.shape[0])]
        if forward:
            f0 = loss_fn(theta)
            numeric = np.array([(loss_fn(theta + step) - f0) / h for step in steps])
        else:
            numeric = np.array([(loss_fn(theta + step) - loss_fn(theta - step)) / (2 * h) for step in steps])
        error = np.abs(analytic - numeric) if absolute else relative_error(analytic, numeric)
        if worst_only:
            return np.array([int(np.argmax(error))])
        return np.flatnonzero(error > tol)

    return answer


SPOT_THE_BUG = Exercise(
    id="04.spot_the_bug",
    kind="function",
    title=(
        "spot_the_bug(loss_fn, grad_fn, theta): a gradient check of a hand-written gradient; return the indices "
        "of the entries of grad_fn(theta) that are wrong"
    ),
    reference=spot_the_bug,
    make_cases=_spot_the_bug_cases,
    requirement=_spot_the_bug_requirement,
    hints=(
        "Estimate each partial derivative with central differences, (J(θ + h e_k) − J(θ − h e_k)) / (2h), "
        "h = 1e-6, in float64: numerical_grad(loss_fn, theta) does exactly this.",
        "Compare entry by entry with the relative error |a − n| / max(|a|, |n|): the entries range over four "
        "orders of magnitude, so an absolute error would miss a slip on a small entry. gdcourse.gradcheck."
        "relative_error(a, n) computes it.",
        "error = relative_error(grad_fn(theta), numerical_grad(loss_fn, theta)); "
        "return np.flatnonzero(error > 1e-6)  (a correct entry gives about 1e-8 here, a slip 5e-5 or more).",
    ),
    solution=(
        "import numpy as np\n\n"
        "from gdcourse.gradcheck import numerical_grad, relative_error\n\n\n"
        "def spot_the_bug(loss_fn, grad_fn, theta):\n"
        "    numeric = numerical_grad(loss_fn, theta)  # central differences, h = 1e-6, float64\n"
        "    error = relative_error(grad_fn(theta), numeric)  # |a - n| / max(|a|, |n|), entry by entry\n"
        "    return np.flatnonzero(error > 1e-6)\n"
    ),
    mistakes=(
        Mistake(
            "flags_everything",
            "Your check flags every entry, the correct ones too: it is not accurate enough for a tolerance of 1e-6. "
            "One-sided differences (J(θ + h e_k) − J(θ)) / h err by about h·J''/2, far above 1e-6 of an entry for "
            "any usable h; a check in float32 rounds at about 1e-7 of J. Central differences in float64 agree with "
            "a correct entry to about 1e-8 here.",
            _check_variant(h=1e-4, forward=True),
        ),
        Mistake(
            "absolute_error",
            "You compare the absolute error |a − n| with 1e-6, so you miss a slip on an entry that is itself tiny "
            "(a few 1e-3, off by 1e-4 relative: an absolute error of a few 1e-7). The entries of this gradient span "
            "four orders of magnitude: compare the relative error |a − n| / max(|a|, |n|).",
            _check_variant(absolute=True),
        ),
        Mistake(
            "tiny_step",
            "You flag entries whose analytic gradient is right: with h = 1e-10 the two values J(θ ± h e_k) agree "
            "to 10 digits, so their difference is mostly rounding error (about 1e-16·J / h = 1e-6·J). A step near "
            "1e-6 balances truncation and rounding in float64.",
            _check_variant(h=1e-10),
        ),
        Mistake(
            "loose_tolerance",
            "Your tolerance is too loose: a relative error of 1e-3 lets through slips of a few parts in 10⁴ — a "
            "mistyped constant, a forgotten small term. In float64 a correct gradient agrees with central "
            "differences to about 1e-8, so anything above 1e-6 is a bug.",
            _check_variant(tol=1e-3),
        ),
        Mistake(
            "worst_only",
            "You return only the entry with the largest error, but a gradient can be wrong in several places: "
            "return every entry whose relative error exceeds the tolerance.",
            _check_variant(worst_only=True),
        ),
    ),
)


EXERCISES: tuple[Exercise, ...] = (CHAIN_RULE, LINEAR_BACKWARD, RELU_BACKWARD, SPOT_THE_BUG)
