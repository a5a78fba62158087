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
- ``09.stable_std(width, depth, activation)`` is an experiment: it returns one standard deviation σ for every
  weight of the square network of notebook 09 §3 (``depth`` hidden layers of ``width`` units, ``"relu"`` or
  ``"tanh"``, weights :math:`N(0, \sigma^2)`, biases 0, an output layer and the mean squared error against
  random targets: what :func:`gdcourse.widgets.init_explorer_state` measures with the scheme ``"plain"``).  It
  passes when, on 8 networks drawn with hidden seeds (``Case.key``) and 64 standard normal inputs each, the
  geometric means of :math:`s(h_D)/s(h_1)` and of :math:`s(\partial J/\partial h_1)/s(\partial J/\partial h_D)`
  both lie in [1/2, 2].  The judge runs its own forward and backward pass in NumPy (float32), the same network
  as the widget's.  The cases: ReLU with 8 to 10 layers, ReLU with 12 to 14, where He's
  :math:`\sqrt{2/n}` passes and Xavier's :math:`1/\sqrt n` vanishes (×0.71 per layer); tanh with 13 layers,
  where the window is about :math:`1.12/\sqrt n` to :math:`1.55/\sqrt n`: Xavier's forward signal fades to
  a third, and PyTorch's gain 5/3 lets the gradients grow ×2.5 or more on the way back.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from gdcourse import init as _init
from gdcourse.exercises.core import Case, Exercise, Mistake, real_scalar

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
    solution=("answer = 200 * 0.1**2 * 3  # n_in · Var(W) · Var(x) = 6.0; the fan-out plays no role here\n"),
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

    Parameters
    ----------
    shape : tuple of int
        The weight's shape, ``(n_out, n_in)`` (the layout of :class:`gdcourse.nn.Linear` and PyTorch).
    scheme : {"lecun", "xavier", "he"}
        The initialisation scheme; any other raises ``ValueError``.

    Returns
    -------
    float
        The standard deviation :math:`\sigma`.
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
            _variant(lecun=lambda fi, fo: 1 / fi, xavier=lambda fi, fo: 2 / (fi + fo), he=lambda fi, fo: 2 / fi),
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


# --- 09.stable_std ------------------------------------------------------------------------------

_SEEDS_PER_CASE = 8
"""How many networks with hidden seeds the judge draws for each case."""

_FACTOR = 2.0
"""The requirement: both ratios (last layer to first, and back) within a factor of this."""


def _network(
    rng: np.random.Generator, width: int, depth: int, n_samples: int = 64
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
    """Standard normal draws for one network and its data: hidden weights, output weights, inputs, targets.

    In float32, which halves the time and is plenty for ratios of standard deviations.
    """

    def normal(*shape: int) -> np.ndarray:
        return rng.standard_normal(shape, dtype=np.float32)

    layers = [normal(width, width) for _ in range(depth)]
    return layers, normal(1, width), normal(n_samples, width), normal(n_samples, 1)


def _log_ratios(
    sigma: float, activation: str, layers: list[np.ndarray], w_out: np.ndarray, x: np.ndarray, y: np.ndarray
) -> tuple[float, float]:
    r"""One forward and one backward pass with the weights ``sigma * layers``: (log r_fwd, log r_bwd).

    :math:`h_0 = x`, :math:`h_l = \phi(W_l h_{l-1})`, output :math:`f = W_{out} h_D`, :math:`J` = mean squared
    error against ``y`` (the network and the measurement of :func:`gdcourse.widgets.init_explorer_state` with
    the scheme ``"plain"``).  :math:`r_{fwd} = s(h_D)/s(h_1)` and
    :math:`r_{bwd} = s(\partial J/\partial h_1)/s(\partial J/\partial h_D)`, with :math:`s` the standard
    deviation over all entries.  A signal that overflowed gives ``+inf``, one that died out ``-inf``.
    """
    with np.errstate(all="ignore"):
        h, hs, zs = x, [], []
        for g in layers:
            z = sigma * (h @ g.T)
            h = np.tanh(z) if activation == "tanh" else np.maximum(z, 0.0)
            zs.append(z)
            hs.append(h)
        grad = sigma * ((2 * (sigma * (h @ w_out.T) - y) / y.size) @ w_out)  # ∂J/∂h_D
        top = grad
        for layer in range(len(layers) - 1, 0, -1):  # from ∂J/∂h_l to ∂J/∂h_(l−1)
            slope = 1 - hs[layer] ** 2 if activation == "tanh" else (zs[layer] > 0)
            grad = sigma * ((grad * slope) @ layers[layer])
        stds = [float(np.std(v)) for v in (hs[0], hs[-1], grad, top)]
    if not all(math.isfinite(v) for v in stds):
        return math.inf, math.inf  # the numbers left the floating-point range: an explosion

    def log_ratio(num: float, den: float) -> float:
        if den == 0:
            return math.inf if num > 0 else -math.inf
        return math.log(num / den) if num > 0 else -math.inf

    return log_ratio(stds[1], stds[0]), log_ratio(stds[2], stds[3])


def stable_std(width: int, depth: int, activation: str) -> float:
    r"""Reference for ``09.stable_std``: bisect σ until the signal loses forward what the gradient gains backward.

    The experiment of the published solution, with the forward and backward passes written out in NumPy
    (:func:`_log_ratios`, several times faster than the autograd networks of
    :func:`gdcourse.widgets.init_explorer_state`).

    Both ratios, :math:`r_{fwd} = s(h_D)/s(h_1)` and :math:`r_{bwd} = s(\partial J/\partial h_1)/s(\partial
    J/\partial h_D)`, grow with σ.  Between :math:`1/\sqrt n` (ReLU's signal vanishes, tanh's fades) and
    :math:`2/\sqrt n` (ReLU explodes, tanh's gradients grow), the bisection on a log scale finds where
    :math:`\log r_{fwd} + \log r_{bwd} = 0`, measured on three networks (32 inputs each) whose random draws
    are made once and scaled by each σ: for ReLU both ratios are then about 1 (He's σ), for tanh the forward
    ratio is a little below 1 and the backward one as much above.

    Parameters
    ----------
    width : int
        The number of units :math:`n` of every hidden layer (and of the input).
    depth : int
        The number of hidden layers :math:`D`.
    activation : {"relu", "tanh"}
        The activation of the hidden layers.

    Returns
    -------
    float
        The standard deviation :math:`\sigma` of every weight.
    """
    rng = np.random.default_rng(0)
    networks = [_network(rng, width, depth, n_samples=32) for _ in range(3)]

    def imbalance(sigma: float) -> float:
        return sum(sum(_log_ratios(sigma, activation, *net)) for net in networks)

    low, high = 1 / math.sqrt(width), 2 / math.sqrt(width)
    for _ in range(5):
        mid = math.sqrt(low * high)
        if imbalance(mid) < 0:
            low = mid
        else:
            high = mid
    return math.sqrt(low * high)


def _stable_std_cases(rng: np.random.Generator) -> list[Case]:
    def case(width: int, depth: int, activation: str, label: str) -> Case:
        seeds = tuple(int(s) for s in rng.integers(0, 2**31, size=_SEEDS_PER_CASE))
        return Case((width, depth, activation), label=label, key=seeds)

    return [
        case(int(rng.integers(96, 129)), int(rng.integers(8, 11)), "relu", "ReLU, about 10 layers"),
        case(int(rng.integers(112, 145)), int(rng.integers(12, 15)), "relu", "ReLU, deeper: about 13 layers"),
        case(int(rng.integers(80, 113)), 13, "tanh", "tanh, 13 layers"),
    ]


def _stable_std_requirement(case: Case, value: Any) -> str | None:
    """``None`` when, with σ = ``value``, both ratios stay within a factor 2 (geometric mean over the hidden seeds)."""
    sigma = real_scalar(value)
    if sigma is None:
        shape = getattr(value, "shape", None)
        what = (
            f"an array of shape {tuple(shape)}"
            if hasattr(value, "dtype") and shape is not None
            else type(value).__name__
        )
        return f"expected σ, the weights' standard deviation, as one positive number, got {what}"
    if not (math.isfinite(sigma) and sigma > 0):
        return f"expected a positive, finite standard deviation σ, got {sigma!r}"
    width, depth, activation = case.args
    measured = np.array(
        [_log_ratios(sigma, activation, *_network(np.random.default_rng(seed), width, depth)) for seed in case.key]
    )
    with np.errstate(invalid="ignore"):
        forward, backward = np.exp(np.mean(measured, axis=0))  # geometric means over the networks
    head = (
        f"with σ = {sigma:.3g} (= {sigma * math.sqrt(width):.3g}/√{width}) in {depth} {activation} layers of {width}, "
    )

    def change(ratio: float, grows: str, shrinks: str) -> str:
        if math.isnan(ratio):
            return "becomes NaN (some networks overflow, others die out)"
        if math.isinf(ratio):
            return f"{grows} beyond the floating-point range"
        return f"{grows if ratio > 1 else shrinks} ×{ratio:.2g}" if ratio > 0 else f"{shrinks} to 0"

    problems = []
    if not 1 / _FACTOR <= forward <= _FACTOR:
        what = "vanishes" if forward < 1 else "runs away" if math.isnan(forward) else "explodes"
        problems.append(
            f"the activations' std {change(forward, 'grows', 'shrinks')} from layer 1 to layer {depth}: "
            f"the signal {what}"
        )
    if not 1 / _FACTOR <= backward <= _FACTOR:
        what = "vanish" if backward < 1 else "run away" if math.isnan(backward) else "explode"
        problems.append(
            f"the gradients' std {change(backward, 'grows', 'shrinks')} on the way back to layer 1: they {what}"
        )
    if not problems:
        return None
    direction = "too large" if not (forward <= _FACTOR and backward <= _FACTOR) else "too small"
    return head + "; ".join(problems) + f" (both must stay within a factor {_FACTOR:g}), so σ is {direction}"


def _per_activation(relu: Callable[[int], float], tanh: Callable[[int], float]) -> Callable[[int, int, str], float]:
    """A planted answer that gives ``relu(width)`` for ReLU and ``tanh(width)`` for tanh networks."""

    def answer(width: int, depth: int, activation: str) -> float:
        return relu(width) if activation == "relu" else tanh(width)

    return answer


def _everywhere(formula: Callable[[int], float]) -> Callable[[int, int, str], float]:
    return _per_activation(formula, formula)


STABLE_STD = Exercise(
    id="09.stable_std",
    kind="function",
    title=(
        "stable_std(width, depth, activation): find by experiment a weight std σ with which neither the "
        "activations nor the gradients of a deep network vanish or explode"
    ),
    reference=stable_std,
    make_cases=_stable_std_cases,
    requirement=_stable_std_requirement,
    hints=(
        "Measure, don't guess: widgets.init_explorer_state(sigma, activation, 'plain', depth=depth, width=width, "
        "n_samples=64, seed=s) runs the network with weights N(0, σ²). From its activation_std a and gradient_std g, "
        "the forward ratio is a[-1] / a[0] and the backward ratio g[0] / g[-1]; both must stay within a factor 2.",
        "Both ratios grow with σ, and 1/√width is too small while 2/√width is too large, for ReLU and for tanh. "
        "Bisect σ between them (on a log scale) until log(forward) + log(backward) ≈ 0: what the signal loses "
        "forward, the gradient gains backward, so neither runs away. Average over two or three seeds.",
        "low, high = 1 / math.sqrt(width), 2 / math.sqrt(width); repeat 5 times: mid = math.sqrt(low * high); "
        "if log(a[-1] / a[0]) + log(g[0] / g[-1]) measured at mid is < 0: low = mid, else high = mid. "
        "Return math.sqrt(low * high).",
    ),
    solution=(
        "import math\n"
        "\n"
        "from gdcourse import widgets\n"
        "\n"
        "\n"
        "def stable_std(width, depth, activation):\n"
        "    def imbalance(sigma):  # log(forward ratio) + log(backward ratio), summed over two networks\n"
        "        total = 0.0\n"
        "        for seed in (0, 1):\n"
        '            state = widgets.init_explorer_state(sigma, activation, "plain", depth=depth, width=width,\n'
        "                                                n_samples=64, seed=seed)\n"
        "            a, g = state.activation_std, state.gradient_std\n"
        "            total += math.log(a[-1] / a[0]) + math.log(g[0] / g[-1])\n"
        "        return total\n"
        "\n"
        "    low, high = 1 / math.sqrt(width), 2 / math.sqrt(width)  # too small, too large\n"
        "    for _ in range(5):  # bisection on a log scale\n"
        "        mid = math.sqrt(low * high)\n"
        "        too_small = imbalance(mid) < 0  # more lost forward than gained backward\n"
        "        low, high = (mid, high) if too_small else (low, mid)\n"
        "    return math.sqrt(low * high)\n"
    ),
    mistakes=(
        Mistake(
            "std_one",
            "σ = 1 ignores the width: each layer multiplies the signal's std by about σ√n (σ√(n/2) after ReLU), "
            "about 7 or more here, so ReLU activations explode and tanh units saturate while the gradients grow "
            "towards the input. The scale must shrink with the width, like 1/√n.",
            _everywhere(lambda n: 1.0),
        ),
        Mistake(
            "xavier_everywhere",
            "1/√n is Xavier's (and LeCun's) σ for equal fans: right for an activation that behaves like the "
            "identity, but ReLU zeroes half of its input, so each layer keeps only 1/√2 of the std and the signal "
            "vanishes (and with tanh the forward signal still fades over this many layers). Measure the ratios "
            "and move σ up.",
            _everywhere(lambda n: 1 / math.sqrt(n)),
        ),
        Mistake(
            "one_over_fan_in",
            "1/n is the *variance* that LeCun's rule gives, used as the standard deviation: σ should be √(1/n) "
            "or more, and σ = 1/n makes every layer shrink the signal by √n·σ = 1/√n, so it vanishes at once.",
            _everywhere(lambda n: 1 / n),
        ),
        Mistake(
            "he_variance",
            "2/n is He's *variance*; the standard deviation is its square root, √(2/n). With σ = 2/n every layer "
            "shrinks the signal several-fold (√n·σ = 2/√n) and it vanishes.",
            _everywhere(lambda n: 2 / n),
        ),
        Mistake(
            "two_on_std",
            "2/√n puts He's factor 2 on the standard deviation: the variance is 2/n, so σ = √2/√n. With 2/√n each "
            "ReLU layer multiplies the std by √2 and the signal explodes.",
            _everywhere(lambda n: 2 / math.sqrt(n)),
        ),
        Mistake(
            "tanh_gain_five_thirds",
            "For tanh you used PyTorch's gain 5/3 (σ = (5/3)/√n): it keeps the forward signal, but the gradients "
            "grow about ×1.1 per layer on the way back (as measured in §4), which compounds to more than ×2 over "
            "this many layers. Measure both ratios: a gain between 1 and 5/3 balances them.",
            _per_activation(lambda n: math.sqrt(2 / n), lambda n: 5 / 3 / math.sqrt(n)),
        ),
    ),
)

EXERCISES: tuple[Exercise, ...] = (SYMMETRY, OUTPUT_VARIANCE, INIT_STD, STABLE_STD)
