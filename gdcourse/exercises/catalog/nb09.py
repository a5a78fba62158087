r"""Exercises of notebook 09 (initialisation).

Conventions decided here:

- ``09.symmetry`` is a choice about a small tanh network whose weights all start at the same
  *non-zero* constant (0.5) and whose biases start at 0: the weights move, but the hidden units keep
  identical weights for ever.  (All-*zero* weights are a different case: with tanh, ``h = tanh(0) = 0``
  and ``W₂ = 0`` stop every weight gradient, which is a wrong option here.)
- ``09.output_variance`` is a value: the variance of one output of :math:`z = Wx` for
  :math:`n_{in} = 200`, :math:`n_{out} = 50`, weights i.i.d. with mean 0 and standard deviation
  :math:`\sigma = 0.1`, inputs i.i.d. with mean 0 and variance 3, independent of the weights:
  :math:`\mathrm{Var}(z_i) = n_{in}\,\sigma^2\,\mathrm{Var}(x) = 6`.
- ``09.init_std(shape, scheme)`` returns the standard deviation of the **normal** version of a
  scheme for a weight of ``shape = (n_out, n_in)`` (the layout of :class:`gdcourse.nn.Linear` and
  PyTorch): ``"lecun"`` :math:`\sqrt{1/n_{in}}`, ``"xavier"`` :math:`\sqrt{2/(n_{in}+n_{out})}`,
  ``"he"`` :math:`\sqrt{2/n_{in}}` (fan-in mode, ReLU gain).  The reference is built from
  :func:`gdcourse.init.fan_in_and_fan_out` and :func:`gdcourse.init.gain`.  Every case has
  :math:`n_{in} \ne n_{out}`, so a layer read the wrong way round is caught; a Python float is
  expected (a NumPy scalar passes too), relative tolerance 1e-6.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from gdcourse import init as _init
from gdcourse.exercises.core import Case, Exercise, Mistake

__all__ = ["EXERCISES"]


# --- 09.symmetry --------------------------------------------------------------------------------

SYMMETRY = Exercise(
    id="09.symmetry",
    kind="choice",
    title=(
        "A 2 → 8 → 1 tanh network starts with every weight equal to 0.5 and every bias 0, and is trained "
        "by gradient descent. After 1000 steps, what is true?"
    ),
    reference="c",
    choices={
        "a": "every weight is still 0.5: when all weights are equal, the gradient is zero",
        "b": "only the output layer has learned; the first-layer weights are still 0.5",
        "c": (
            "the weights have changed, but the 8 hidden units still have identical weights to each other: "
            "the network computes only what a network with one hidden unit could"
        ),
        "d": "the hidden units have become different, because every training example pushes them in its own direction",
    },
    hints=(
        "Write hidden unit j as h_j = tanh(w_j · x + b_j) and the output as f = Σ_j v_j h_j + c. "
        "At the start, how do the units differ from each other?",
        "The gradient for unit j's incoming weights is (∂J/∂f) · v_j · (1 − h_j²) · x, summed over the examples. "
        "Is it zero? Does it depend on j?",
        "Units that are equal get equal gradients, so after one step they are still equal — and so on for ever. "
        "Nothing is zero (v_j = 0.5 and h_j ≠ 0), so the weights do move.",
    ),
    solution=(
        "answer = 'c'\n"
        "# Units with equal weights compute equal h_j and receive equal gradients (the same v_j, the same\n"
        "# (1 − h_j²), the same examples), so one step keeps them equal, and so does every later step.\n"
        "# The gradients are not zero (v_j = 0.5, h_j ≠ 0): the weights move, in lockstep.\n"
    ),
    mistakes=(
        Mistake(
            "gradient_zero",
            "The gradient is not zero: unit j's incoming weights get (∂J/∂f) · v_j · (1 − h_j²) · x with "
            "v_j = 0.5, which is not 0. What is zero is the *difference* between the gradients of two units, "
            "so the weights move, but in lockstep.",
            "a",
        ),
        Mistake(
            "zero_init_confusion",
            "That is what all-*zero* weights do with tanh: h = tanh(0) = 0 stops the output layer's weight "
            "gradient and v = 0 stops the first layer's. With 0.5 both gradients flow; they are just the "
            "same for every hidden unit, so the units move together and stay identical.",
            "b",
        ),
        Mistake(
            "examples_break_symmetry",
            "Each example does push in its own direction, but it pushes every hidden unit in the *same* "
            "direction: units with identical weights compute identical h_j for that example and get identical "
            "gradients. Summing over examples cannot make them differ. Only a random start breaks the symmetry.",
            "d",
        ),
    ),
)


# --- 09.output_variance -------------------------------------------------------------------------

N_IN, N_OUT, SIGMA, VAR_X = 200, 50, 0.1, 3.0

OUTPUT_VARIANCE = Exercise(
    id="09.output_variance",
    kind="value",
    title=(
        "z = W x with n_in = 200 inputs and n_out = 50 outputs, weights i.i.d. with mean 0 and std 0.1, inputs "
        "i.i.d. with mean 0 and variance 3, independent of W: the variance of one output z_i (a number)"
    ),
    reference=lambda: N_IN * SIGMA**2 * VAR_X,
    digits=4,
    hints=(
        "z_i = Σ_j W_ij x_j is a sum of n_in independent terms. The variance of a sum of independent terms is "
        "the sum of their variances.",
        "For independent W and x with mean 0: Var(W x) = E[W²] E[x²] = Var(W) · Var(x). "
        "Var(W) is the square of the standard deviation.",
        "Var(z_i) = n_in · σ² · Var(x) = 200 · 0.1² · 3.",
    ),
    solution=(
        "answer = 200 * 0.1**2 * 3  # n_in · Var(W) · Var(x) = 6.0; the fan-out plays no role here\n"
    ),
    mistakes=(
        Mistake(
            "one_term",
            "That is the variance of one product W_ij x_j. z_i adds n_in = 200 of them, independent, so "
            "their variances add: multiply by n_in.",
            lambda: SIGMA**2 * VAR_X,
        ),
        Mistake(
            "sigma_not_squared",
            "The standard deviation 0.1 was used as the variance. Var(W) = σ² = 0.01.",
            lambda: N_IN * SIGMA * VAR_X,
        ),
        Mistake(
            "input_variance_ignored",
            "The input's variance is missing: Var(W_ij x_j) = Var(W) · Var(x) for independent, zero-mean "
            "factors, and here Var(x) = 3, not 1.",
            lambda: N_IN * SIGMA**2,
        ),
        Mistake(
            "fan_out",
            "n_out = 50 is the number of outputs, not of terms in one output: z_i sums over the n_in = 200 "
            "inputs, so the forward variance grows with fan-in.",
            lambda: N_OUT * SIGMA**2 * VAR_X,
        ),
        Mistake(
            "fan_average",
            "The average of fan-in and fan-out belongs to Xavier's compromise for choosing σ, not to the "
            "variance of a given layer's output: z_i sums over the n_in = 200 inputs.",
            lambda: (N_IN + N_OUT) / 2 * SIGMA**2 * VAR_X,
        ),
        Mistake(
            "std_returned",
            "That is the standard deviation of z_i; the question asks for its variance n_in · σ² · Var(x).",
            lambda: math.sqrt(N_IN * SIGMA**2 * VAR_X),
        ),
        Mistake(
            "input_std_used",
            "The input's standard deviation √3 was used; the formula needs its variance, 3.",
            lambda: N_IN * SIGMA**2 * math.sqrt(VAR_X),
        ),
        # Notebook 09 §3–4: a layer multiplies the variance by n_in·σ², and initialisation schemes choose σ so
        # that this factor is 1. Assuming the variance is kept (or halved by a ReLU that is not there) gives 3.
        Mistake(
            "variance_kept",
            "3 is the input's variance itself, as if the layer kept the variance. It does only when n_in · σ² = 1, "
            "which is what LeCun/Xavier initialisation aims for; here n_in · σ² = 200 · 0.01 = 2, so the layer "
            "multiplies the variance by 2. (No ReLU halves it either: z = Wx has no activation.)",
            lambda: VAR_X,
        ),
        # Hint 2 and §3: for independent zero-mean factors the variance of a product is the product of the
        # variances; adding them is the sum rule applied where it does not hold.
        Mistake(
            "variances_added",
            "n_in · σ² + Var(x) adds the two variances. For independent, zero-mean W_ij and x_j the variance of the "
            "*product* W_ij x_j is the product Var(W) · Var(x); variances add over the n_in *terms* of the sum.",
            lambda: N_IN * SIGMA**2 + VAR_X,
        ),
        # Notebook 05 §5: an *average* of B terms divides the variance by B. z_i is a sum, whose variance grows.
        Mistake(
            "averaged_not_summed",
            "Dividing by n_in is what an *average* of n_in independent terms does to the variance. z_i = Σ_j W_ij x_j "
            "is a *sum*: the variances of its n_in terms add, so multiply by n_in.",
            lambda: SIGMA**2 * VAR_X / N_IN,
        ),
        # Standard deviation versus variance, the confusion notebooks 05 and 09 keep separating (above: σ used as
        # a variance, √Var(x) used): here the given variance 3 treated as a standard deviation and squared.
        Mistake(
            "input_variance_squared",
            "Var(x) = 3 is already a variance: squaring it treats it as a standard deviation. The formula uses "
            "Var(W) = σ² (the square of the weights' standard deviation 0.1) and Var(x) = 3 as given.",
            lambda: N_IN * SIGMA**2 * VAR_X**2,
        ),
        # The same confusion carried through: both standard deviations used where the variances belong.
        Mistake(
            "standard_deviations_throughout",
            "n_in · σ · √Var(x) works with standard deviations throughout. Variances, not standard deviations, add "
            "over independent terms and multiply for independent zero-mean factors: n_in · σ² · Var(x).",
            lambda: N_IN * SIGMA * math.sqrt(VAR_X),
        ),
    ),
)


# --- 09.init_std --------------------------------------------------------------------------------


def init_std(shape: tuple[int, ...], scheme: str) -> float:
    r"""Reference for ``09.init_std``: the standard deviation of a scheme's normal distribution.

    .. math:: \sigma_{\rm LeCun} = \sqrt{1/n_{in}}, \qquad
              \sigma_{\rm Xavier} = \sqrt{2/(n_{in}+n_{out})}, \qquad
              \sigma_{\rm He} = \sqrt 2 \cdot \sqrt{1/n_{in}}

    for a weight of ``shape = (n_out, n_in)`` (fans from :func:`gdcourse.init.fan_in_and_fan_out`, He's
    :math:`\sqrt 2` from :func:`gdcourse.init.gain`).
    """
    fan_in, fan_out = _init.fan_in_and_fan_out(shape)
    if scheme == "lecun":
        return 1.0 / math.sqrt(fan_in)
    if scheme == "xavier":
        return _init.gain("linear") * math.sqrt(2.0 / (fan_in + fan_out))
    if scheme == "he":
        return _init.gain("relu") / math.sqrt(fan_in)
    raise ValueError(f"scheme must be 'lecun', 'xavier' or 'he', got {scheme!r}")


def _variant(**formulas: Callable[[int, int], float]) -> Callable[[tuple[int, ...], str], float]:
    """The reference with some schemes' formulas replaced: ``formula(fan_in, fan_out) -> value``."""

    def answer(shape: tuple[int, ...], scheme: str) -> float:
        if scheme in formulas:
            fan_out, fan_in = shape[0], shape[1]
            return formulas[scheme](fan_in, fan_out)
        return init_std(shape, scheme)

    return answer


def _init_std_cases(rng: np.random.Generator) -> list[Case]:
    def layer(narrowing: bool) -> tuple[int, int]:
        big, small = int(rng.integers(120, 500)), int(rng.integers(10, 100))
        return (small, big) if narrowing else (big, small)  # (n_out, n_in)

    return [
        Case((layer(True), "he"), label="He, a layer that narrows (n_in > n_out)"),
        Case((layer(False), "he"), label="He, a layer that widens (n_in < n_out)"),
        Case((layer(True), "xavier"), label="Xavier, a layer that narrows"),
        Case((layer(False), "xavier"), label="Xavier, a layer that widens"),
        Case((layer(True), "lecun"), label="LeCun, a layer that narrows"),
        Case((layer(False), "lecun"), label="LeCun, a layer that widens"),
    ]


INIT_STD = Exercise(
    id="09.init_std",
    kind="function",
    title="init_std(shape, scheme): the std of the normal LeCun, Xavier or He initialisation of a (n_out, n_in) weight",
    reference=init_std,
    make_cases=_init_std_cases,
    hints=(
        "A Linear layer's weight has shape (n_out, n_in): fan_in = shape[1] (the inputs each output sums over), "
        "fan_out = shape[0].",
        "Start from the variances: LeCun 1/n_in keeps the forward variance; Xavier 2/(n_in + n_out) is the "
        "compromise between forward (1/n_in) and backward (1/n_out); He doubles LeCun, 2/n_in, because ReLU "
        "zeroes half of its input.",
        "Return the square root of the variance: math.sqrt(2 / fan_in) for He, and so on.",
    ),
    solution=(
        "import math\n\n\n"
        "def init_std(shape, scheme):\n"
        "    fan_out, fan_in = shape[0], shape[1]  # weight layout (n_out, n_in)\n"
        "    if scheme == 'lecun':\n"
        "        return math.sqrt(1 / fan_in)\n"
        "    if scheme == 'xavier':\n"
        "        return math.sqrt(2 / (fan_in + fan_out))\n"
        "    if scheme == 'he':\n"
        "        return math.sqrt(2 / fan_in)\n"
        "    raise ValueError(scheme)\n"
    ),
    mistakes=(
        Mistake(
            "fans_swapped",
            "fan_in and fan_out are swapped: a weight of shape (n_out, n_in) has fan_in = shape[1], the number "
            "of inputs each output sums over. For LeCun and He, which use only the fan-in, it matters "
            "(for Xavier's sum it does not).",
            _variant(lecun=lambda fi, fo: math.sqrt(1 / fo), he=lambda fi, fo: math.sqrt(2 / fo)),
        ),
        Mistake(
            "he_without_two",
            "He's variance is 2/n_in, not 1/n_in (that is LeCun's): ReLU sets half of its inputs to zero, "
            "which halves the second moment of the signal at every layer, and the factor 2 puts it back.",
            _variant(he=lambda fi, fo: math.sqrt(1 / fi)),
        ),
        Mistake(
            "two_on_std",
            "The factor 2 belongs to the variance, not to the standard deviation: He's σ is √(2/n_in) = √2/√n_in, "
            "not 2/√n_in.",
            _variant(he=lambda fi, fo: 2 / math.sqrt(fi)),
        ),
        Mistake(
            "variance",
            "These are the variances (1/n_in, 2/(n_in + n_out), 2/n_in); the question asks for the standard "
            "deviation, their square root.",
            _variant(
                lecun=lambda fi, fo: 1 / fi, xavier=lambda fi, fo: 2 / (fi + fo), he=lambda fi, fo: 2 / fi
            ),
        ),
        Mistake(
            "uniform_bound",
            "These are the bounds b of the *uniform* versions, U(−b, b) with b = √3 σ (a uniform distribution "
            "on (−b, b) has variance b²/3). The normal versions have σ itself: √(2/(n_in + n_out)) for Xavier.",
            _variant(
                lecun=lambda fi, fo: math.sqrt(3 / fi),
                xavier=lambda fi, fo: math.sqrt(6 / (fi + fo)),
                he=lambda fi, fo: math.sqrt(6 / fi),
            ),
        ),
        Mistake(
            "xavier_fan_in_only",
            "For Xavier you used the fan-in only (that is LeCun's 1/n_in). Glorot and Bengio average the "
            "forward condition n_in Var(W) = 1 and the backward condition n_out Var(W) = 1: Var(W) = 2/(n_in + n_out).",
            _variant(xavier=lambda fi, fo: math.sqrt(1 / fi)),
        ),
        Mistake(
            "xavier_without_two",
            "Xavier's variance is 2/(n_in + n_out) = 1/((n_in + n_out)/2): one over the *average* fan. "
            "1/(n_in + n_out) is half of it.",
            _variant(xavier=lambda fi, fo: math.sqrt(1 / (fi + fo))),
        ),
    ),
)

EXERCISES: tuple[Exercise, ...] = (SYMMETRY, OUTPUT_VARIANCE, INIT_STD)
