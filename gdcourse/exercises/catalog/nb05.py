"""Exercises of notebook 05 (batch, stochastic and minibatch descent).

Conventions decided here:

- ``minibatches(n, batch_size, seed)`` returns one epoch's batches as a list of NumPy index arrays.  The
  order is defined by the exercise, so that a correct answer is unique: ``perm =
  np.random.default_rng(seed).permutation(n)``, cut into consecutive pieces of ``batch_size``, the last
  one smaller when ``batch_size`` does not divide ``n`` (not dropped).  The order *inside* a batch counts
  (it is the order of ``perm``).  The cases always have ``1 <= batch_size < n`` and most leave a partial
  last batch.  It is :func:`gdcourse.data.minibatch_indices` with ``shuffle=True, drop_last=False``.
- ``grad_variance`` is a number (relative tolerance 1e-4, so the finite-population factor with ``n``
  instead of ``n - 1``, 1% off, is caught).
- ``signal_batch`` is an experiment on the least-squares cost of notebook 05, f_i(θ) = ½(x_iᵀθ − y_i)²:
  among candidate batch sizes (powers of 2), the smallest whose minibatch noise E‖g_B − ∇J‖², for the
  batches of a shuffled epoch (without replacement), is below the signal ‖∇J(θ)‖².  The answer is an
  integer; any real number equal to a candidate passes (``64.0``, a NumPy integer, a 0-d array).  The
  judge knows the exact noise σ²/B · (n − B)/(n − 1) of every candidate (``Case.key``) and accepts the
  exact answer, and a neighbouring candidate only where the noise at the boundary is within 10% of the
  signal, where a measurement may land on either side.  The cases keep the noise more than 25% away
  from the signal at both candidates around the answer, several times the typical error (about 4%) of
  a measurement over 1000 minibatches, so that rule never applies to them.  The three cases share one
  data set and move θ from far to near θ*, so the answer grows from 8 or 16 to 256; the last case puts
  the finite-population factor to work (B is about half of n).
- ``fix_divergence`` is a letter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from gdcourse.backend import array_namespace, asarray, to_numpy
from gdcourse.exercises.catalog import XP_PREAMBLE
from gdcourse.exercises.core import Case, Exercise, Mistake, real_scalar
from gdcourse.stochastic import gradient_noise

__all__ = ["EXERCISES"]


# --- 05.minibatches -------------------------------------------------------------------------------


def minibatches(n: int, batch_size: int, seed: int) -> list[np.ndarray]:
    """Reference for ``05.minibatches``: a seeded permutation cut into consecutive batches.

    Parameters
    ----------
    n : int
        The number of examples.
    batch_size : int
        The size of each batch, ``1 <= batch_size < n``; the last batch is smaller when it does not divide ``n``.
    seed : int
        The seed of the permutation: ``np.random.default_rng(seed).permutation(n)``.

    Returns
    -------
    list of ndarray of int
        One epoch's batches of indices, in the order of the permutation.
    """
    perm = np.random.default_rng(seed).permutation(n)
    return [perm[start : start + batch_size] for start in range(0, n, batch_size)]


def _minibatches_cases(rng: np.random.Generator) -> list[Case]:
    def case(n: int, batch_size: int, label: str) -> Case:
        return Case((n, batch_size, int(rng.integers(0, 10_000))), label=label)

    return [
        case(int(rng.integers(10, 14)) * 3 + 1, 3, "batches of 3 with one example left over"),
        case(int(rng.integers(20, 30)) * 8 + 5, 8, "batches of 8 and a smaller last batch"),
        case(int(rng.integers(4, 8)) * 5, 5, "a batch size that divides n"),
        case(int(rng.integers(6, 10)), 1, "stochastic: batches of one example"),
    ]


def _no_shuffle(n: int, batch_size: int, seed: int) -> list[np.ndarray]:
    order = np.arange(n)
    return [order[start : start + batch_size] for start in range(0, n, batch_size)]


def _drop_last(n: int, batch_size: int, seed: int) -> list[np.ndarray]:
    perm = np.random.default_rng(seed).permutation(n)
    return [perm[start : start + batch_size] for start in range(0, n - batch_size + 1, batch_size)]


def _overlapping(n: int, batch_size: int, seed: int) -> list[np.ndarray]:
    perm = np.random.default_rng(seed).permutation(n)
    return [perm[start : start + batch_size] for start in range(0, n - batch_size + 1)]


def _one_short(n: int, batch_size: int, seed: int) -> list[np.ndarray]:
    perm = np.random.default_rng(seed).permutation(n)
    return [perm[start : start + batch_size - 1] for start in range(0, n, batch_size)]


def _last_one_missing(n: int, batch_size: int, seed: int) -> list[np.ndarray]:
    perm = np.random.default_rng(seed).permutation(n)
    return [perm[start : start + batch_size] for start in range(0, n - 1, batch_size)]


def _array_split(n: int, batch_size: int, seed: int) -> list[np.ndarray]:
    perm = np.random.default_rng(seed).permutation(n)
    return list(np.array_split(perm, math.ceil(n / batch_size)))


def _sorted_batches(n: int, batch_size: int, seed: int) -> list[np.ndarray]:
    perm = np.random.default_rng(seed).permutation(n)
    return [np.sort(perm[start : start + batch_size]) for start in range(0, n, batch_size)]


MINIBATCHES = Exercise(
    id="05.minibatches",
    kind="function",
    title=(
        "minibatches(n, batch_size, seed): one epoch's batches, the permutation "
        "np.random.default_rng(seed).permutation(n) cut into consecutive pieces of batch_size"
    ),
    reference=minibatches,
    make_cases=_minibatches_cases,
    hints=(
        "First shuffle: perm = np.random.default_rng(seed).permutation(n) holds every index 0..n-1 once, "
        "in a random order.",
        "Batch k is perm[k*B : (k+1)*B]. Let the start run over range(0, n, batch_size).",
        "Slicing past the end is fine in Python: the last slice is simply shorter. Do not drop it: every "
        "example must appear once per epoch.",
    ),
    solution=(
        "import numpy as np\n\n\n"
        "def minibatches(n, batch_size, seed):\n"
        "    perm = np.random.default_rng(seed).permutation(n)\n"
        "    return [perm[start:start + batch_size] for start in range(0, n, batch_size)]\n"
    ),
    mistakes=(
        Mistake(
            "no_shuffle",
            "Your batches follow the stored order 0, 1, 2, …: nothing is shuffled. If the data are sorted "
            "(by label, by date), every batch then sees only one kind of example. Cut "
            "np.random.default_rng(seed).permutation(n) instead of range(n).",
            _no_shuffle,
        ),
        Mistake(
            "drop_last",
            "The last, smaller batch is missing: the examples left over after the full batches are never "
            "used in this epoch. Keep it: slice up to n with range(0, n, batch_size); Python cuts the "
            "last slice short by itself.",
            _drop_last,
        ),
        Mistake(
            "overlapping",
            "Your batches overlap: the start moves by 1 instead of by batch_size, so each example lands in "
            "up to batch_size batches and the epoch has about n batches. Step the start by batch_size: "
            "range(0, n, batch_size).",
            _overlapping,
        ),
        Mistake(
            "one_short",
            "Off by one: every batch holds batch_size - 1 examples (perm[start:start + batch_size - 1]), so "
            "one example per batch is skipped. A slice a[i:j] has j - i elements: use perm[start:start + "
            "batch_size].",
            _one_short,
        ),
        Mistake(
            "last_one_missing",
            "Off by one at the end: when the last batch would hold a single example, your loop stops before "
            "it (range(0, n - 1, batch_size)?). Use range(0, n, batch_size).",
            _last_one_missing,
        ),
        Mistake(
            "array_split",
            "np.array_split(perm, k) spreads the examples evenly over k batches, so several batches are "
            "smaller than batch_size instead of only the last one. Slice perm[start:start + batch_size].",
            _array_split,
        ),
        Mistake(
            "sorted_batches",
            "Each batch is sorted. The batches hold the right examples (and the gradient would not change), "
            "but the exercise asks for them in the order of the permutation: return the slices of perm "
            "as they are.",
            _sorted_batches,
        ),
    ),
)


# --- 05.grad_variance -----------------------------------------------------------------------------

SIGMA2, N, B = 12.0, 100, 10

GRAD_VARIANCE = Exercise(
    id="05.grad_variance",
    kind="value",
    title=(
        "The examples' gradients have spread σ² = 12 (n = 100 examples). A batch of B = 10 distinct examples "
        "(one batch of a shuffled epoch, drawn without replacement): the expected E‖g_B − ∇J‖²"
    ),
    reference=lambda: SIGMA2 / B * (N - B) / (N - 1),
    digits=4,
    hints=(
        "Drawn with replacement, the average of B independent gradients has variance σ²/B.",
        "Without replacement the B examples are distinct, and a batch of all n examples would have no "
        "noise at all: the variance is multiplied by the finite-population factor (n − B)/(n − 1).",
        "12/10 × 90/99.",
    ),
    solution="answer = 12 / 10 * (100 - 10) / (100 - 1)  # σ²/B × (n − B)/(n − 1) = 1.0909…\n",
    mistakes=(
        Mistake(
            "no_correction",
            "σ²/B = 1.2 is the variance for B examples drawn with replacement (or n ≫ B). The batch of a "
            "shuffled epoch holds distinct examples: multiply by the finite-population factor (n − B)/(n − 1).",
            lambda: SIGMA2 / B,
        ),
        Mistake(
            "correction_over_n",
            "Close: the factor is (n − B)/(n − 1), not (n − B)/n. (With n − 1 the formula is exact; check: "
            "B = 1 must give σ² itself.)",
            lambda: SIGMA2 / B * (N - B) / N,
        ),
        Mistake(
            "over_B_squared",
            "σ²/B² divides once too often: the mean of B gradients has variance σ²/B (each term's variance is "
            "divided by B², and there are B terms).",
            lambda: SIGMA2 / B**2 * (N - B) / (N - 1),
        ),
        Mistake(
            "over_sqrt_B",
            "σ²/√B mixes up variance and standard deviation: the *standard deviation* falls like 1/√B, the "
            "variance like 1/B.",
            lambda: SIGMA2 / math.sqrt(B) * (N - B) / (N - 1),
        ),
        Mistake(
            "standard_deviation",
            "That is the standard deviation √(σ²/B · (n − B)/(n − 1)); the question asks for the variance, "
            "E‖g_B − ∇J‖², without the square root.",
            lambda: math.sqrt(SIGMA2 / B * (N - B) / (N - 1)),
        ),
        Mistake(
            "inverted_correction",
            "The factor is upside down: it must shrink the variance (distinct examples cannot repeat), so it is "
            "(n − B)/(n − 1) ≤ 1, which reaches 0 at B = n.",
            lambda: SIGMA2 / B * (N - 1) / (N - B),
        ),
        # Notebook 05 §5 ("four times the batch, a quarter of the variance"): averaging B gradients divides the
        # variance by B; keeping only the finite-population factor forgets what the batch is for.
        Mistake(
            "batch_ignored",
            "That is σ² · (n − B)/(n − 1): the division by B is missing. The batch gradient is an *average* of B "
            "examples' gradients, and averaging B terms divides their variance by B (four times the batch, a "
            "quarter of the variance); the finite-population factor then shrinks it a little more.",
            lambda: SIGMA2 * (N - B) / (N - 1),
        ),
    ),
)


# --- 05.signal_batch ------------------------------------------------------------------------------


def signal_batch(X: Any, y: Any, theta: Any, batch_sizes: tuple[int, ...]) -> int:
    r"""Reference for ``05.signal_batch``: measure the noise of each candidate, stop at the first below the signal.

    With :math:`\nabla f_i(\theta) = (x_i^\top\theta - y_i)\,x_i`, the signal is :math:`\lVert\nabla J\rVert^2`
    and the noise of batch size :math:`B` is :math:`\mathbb E\lVert g_{\mathcal B} - \nabla J\rVert^2`, measured by
    :func:`gdcourse.stochastic.gradient_noise` over 1000 minibatches of shuffled epochs.

    Parameters
    ----------
    X : array of shape (n, p)
        The inputs :math:`x_i` of the ``n`` examples, as rows.
    y : array of shape (n,)
        Their targets :math:`y_i`.
    theta : array of shape (p,)
        The point :math:`\theta` where the signal and the noise are measured.
    batch_sizes : tuple of int
        The candidate batch sizes :math:`B`, increasing (powers of 2).

    Returns
    -------
    int
        The smallest candidate whose noise is below the signal (the largest when none is).
    """
    xp = array_namespace(X)
    G = (X @ theta - y)[:, None] * X  # row i: the gradient of example i
    signal = float(xp.sum(xp.mean(G, axis=0) ** 2))
    for B in batch_sizes:
        if gradient_noise(G, B, n_draws=1000, seed=0).measured[0] < signal:
            return B
    return batch_sizes[-1]


def _exact(X: Any, y: Any, theta: Any, batch_sizes: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, float]:
    """The candidates, their exact noise σ²/B · (n − B)/(n − 1) and the signal ‖∇J‖² (NumPy, float64)."""
    x, t, th = to_numpy(X), to_numpy(y), to_numpy(theta)
    G = (x @ th - t)[:, None] * x
    grad = G.mean(axis=0)
    sigma2 = float(np.mean(np.sum((G - grad) ** 2, axis=1)))
    n, sizes = x.shape[0], np.asarray(batch_sizes, dtype=np.int64)
    return sizes, sigma2 / sizes * (n - sizes) / (n - 1), float(grad @ grad)


@dataclass(frozen=True)
class _NoiseKey:
    """What the judge knows about a case of ``05.signal_batch``: the exact noise of every candidate."""

    batch_sizes: tuple[int, ...]
    noise: tuple[float, ...]
    signal: float
    answer: int


MEASUREMENT_SLACK = 1.1
"""A neighbour of the exact answer passes where noise and signal differ by less than this factor there."""


def _signal_batch_cases(rng: np.random.Generator) -> list[Case]:
    n = int(rng.integers(520, 561))  # a batch of 256 is about half the data: (n − B)/(n − 1) ≈ 0.5
    x = rng.normal(1.0, 1.0, size=n)
    X = np.column_stack([x, np.ones(n)])  # one feature and a column of ones, as in notebook 05
    y = X @ np.array([rng.uniform(1.0, 3.0), rng.uniform(-2.0, 0.0)]) + 0.5 * rng.normal(size=n)
    theta_star = np.linalg.lstsq(X, y, rcond=None)[0]
    residual = X @ theta_star - y
    sizes = tuple(2**k for k in range(10))  # 1, 2, ..., 512 < n
    H = X.T @ X / n

    def case(answer: int, low: float, high: float, label: str) -> Case:
        # θ = θ* + s·u: the noise σ²(s) = a + bs + cs² and the signal s²‖Hu‖² are quadratics in s; solve for
        # the s that puts noise/signal at `ratio` (drawn in [low, high]) at B = answer
        ratio, fpc = rng.uniform(low, high), (n - answer) / (n - 1)
        for _ in range(1000):  # a direction whose noise floor (s → ∞) is low enough: most of them
            angle = rng.uniform(0.0, 2 * np.pi)
            u = np.array([np.cos(angle), np.sin(angle)])
            p, q = residual[:, None] * X, (X @ u)[:, None] * X - H @ u
            a, b, c = np.mean(np.sum(p * p, 1)), 2 * np.mean(np.sum(p * q, 1)), np.mean(np.sum(q * q, 1))
            lead = c - ratio * answer / fpc * float((H @ u) @ (H @ u))
            if lead < 0:  # then exactly one positive root
                s = (-b - math.sqrt(b * b - 4 * lead * a)) / (2 * lead)
                break
        else:
            raise RuntimeError(f"05.signal_batch: no direction puts the answer at B = {answer}")
        theta = theta_star + s * u
        _, noise, signal = _exact(X, y, theta, sizes)
        key = _NoiseKey(sizes, tuple(float(v) for v in noise), signal, answer)
        return Case((asarray(X), asarray(y), asarray(theta), sizes), label=label, key=key)

    return [
        case(int(rng.choice([8, 16])), 0.64, 0.76, "far from the minimum"),
        case(int(rng.choice([32, 64])), 0.64, 0.76, "closer to the minimum"),
        case(256, 0.64, 0.74, "near the minimum, where a batch is a large part of the data"),
    ]


def _signal_batch_requirement(case: Case, value: Any) -> str | None:
    """``None`` when ``value`` is the smallest candidate whose noise is below the signal (see the module docstring)."""
    key: _NoiseKey = case.key
    sizes = key.batch_sizes
    shown = ", ".join(map(str, sizes))
    b = real_scalar(value)
    if b is None:
        return f"expected one of the candidate batch sizes ({shown}), a whole number, got {type(value).__name__}"
    if b not in sizes:  # also NaN, ±inf and 63.5
        return f"{b:g} is not one of the candidate batch sizes ({shown})"
    k, j = sizes.index(int(b)), sizes.index(key.answer)
    noise, signal = key.noise[k], key.signal
    if (
        k == j
        or (k == j - 1 and noise < MEASUREMENT_SLACK * signal)
        or (k == j + 1 and key.noise[j] * MEASUREMENT_SLACK > signal)
    ):
        return None
    if k < j:
        return (
            f"at B = {int(b)} the minibatch noise E‖g_B − ∇J‖² = {noise:.3g} is still {noise / signal:.2g} times "
            f"the signal ‖∇J‖² = {signal:.3g}: the noise dominates at this batch size, so look at larger ones"
        )
    return (
        f"at B = {int(b)} the noise ({noise:.3g}) is below the signal ‖∇J‖² = {signal:.3g}, but it is at a "
        "smaller candidate too: return the smallest batch size whose noise is below the signal"
    )


def _first(sizes: np.ndarray, below: np.ndarray) -> int:
    return int(sizes[np.argmax(below)]) if below.any() else int(sizes[-1])


def _last_noisy(X: Any, y: Any, theta: Any, batch_sizes: tuple[int, ...]) -> int:
    sizes, noise, signal = _exact(X, y, theta, batch_sizes)
    return int(sizes[max(int(np.argmax(noise < signal)) - 1, 0)])


def _with_replacement(X: Any, y: Any, theta: Any, batch_sizes: tuple[int, ...]) -> int:
    sizes, noise, signal = _exact(X, y, theta, batch_sizes)
    n = to_numpy(X).shape[0]
    return _first(sizes, noise * (n - 1) / (n - sizes) < signal)  # σ²/B: the factor (n − B)/(n − 1) undone


def _norm_not_squared(X: Any, y: Any, theta: Any, batch_sizes: tuple[int, ...]) -> int:
    sizes, noise, signal = _exact(X, y, theta, batch_sizes)
    return _first(sizes, noise < math.sqrt(signal))


def _comparison_reversed(X: Any, y: Any, theta: Any, batch_sizes: tuple[int, ...]) -> int:
    sizes, noise, signal = _exact(X, y, theta, batch_sizes)
    return _first(sizes, noise > signal)


SIGNAL_BATCH = Exercise(
    id="05.signal_batch",
    kind="function",
    title=(
        "signal_batch(X, y, theta, batch_sizes): measure the minibatch-gradient noise E‖g_B − ∇J‖² (shuffled "
        "epochs) of least squares at θ for each candidate B and return the smallest B whose noise is below "
        "the signal ‖∇J(θ)‖²"
    ),
    reference=signal_batch,
    make_cases=_signal_batch_cases,
    requirement=_signal_batch_requirement,
    hints=(
        "First the per-example gradients at θ, one row per example: G = (X @ theta - y)[:, None] * X. Their mean "
        "over the rows is ∇J(θ), and the signal is its squared norm.",
        "gradient_noise(G, B, n_draws=1000, seed=0).measured[0] is the noise E‖g_B − ∇J‖² of batches of B "
        "distinct examples (the batches of shuffled epochs). Try the candidates in increasing order.",
        "signal = float(xp.sum(xp.mean(G, axis=0) ** 2)); for B in batch_sizes: if gradient_noise(G, B, "
        "n_draws=1000, seed=0).measured[0] < signal: return B",
    ),
    solution=(
        XP_PREAMBLE + "from gdcourse.stochastic import gradient_noise\n\n\n"
        "def signal_batch(X, y, theta, batch_sizes):\n"
        "    G = (X @ theta - y)[:, None] * X  # row i: the gradient of example i at theta\n"
        "    signal = float(xp.sum(xp.mean(G, axis=0) ** 2))  # ‖∇J‖²\n"
        "    for B in batch_sizes:  # increasing: the first one below the signal is the smallest\n"
        "        noise = gradient_noise(G, B, n_draws=1000, seed=0).measured[0]  # E‖g_B − ∇J‖², shuffled epochs\n"
        "        if noise < signal:\n"
        "            return B\n"
        "    return batch_sizes[-1]\n"
    ),
    mistakes=(
        Mistake(
            "last_noisy",
            "Your batch size is one candidate too small on every case: there the noise is still above the signal. "
            "Return the first batch size where the noise has fallen below ‖∇J‖², not the last one where it still "
            "dominates. (If you measured the noise as a mean over the coordinates, np.mean((g_B − ∇J)**2), you "
            "halved it: E‖g_B − ∇J‖² sums the squares over the coordinates, like ‖∇J‖².)",
            _last_noisy,
        ),
        Mistake(
            "with_replacement",
            "You used the noise of batches drawn with replacement, σ²/B. The batches of a shuffled epoch hold B "
            "distinct examples, and their noise is smaller by the factor (n − B)/(n − 1): when B is half of the "
            "data that halves it, and a smaller batch already beats the signal. Measure with gradient_noise "
            "(replace=False, its default) or multiply by (n − B)/(n − 1).",
            _with_replacement,
        ),
        Mistake(
            "norm_not_squared",
            "You compared the noise E‖g_B − ∇J‖², a squared length, with ‖∇J‖, a length. The signal in the same "
            "units is ‖∇J‖² (here ‖∇J‖ < 1, so ‖∇J‖ is the larger number and your batch size comes out too small).",
            _norm_not_squared,
        ),
        Mistake(
            "comparison_reversed",
            "Your function returns the smallest candidate, 1: the comparison is reversed (noise > signal holds at "
            "B = 1 already). Return the first batch size whose noise is *below* the signal ‖∇J‖².",
            _comparison_reversed,
        ),
    ),
)


# --- 05.fix_divergence ----------------------------------------------------------------------------

FIX_DIVERGENCE = Exercise(
    id="05.fix_divergence",
    kind="choice",
    title=(
        "Minibatch SGD with B = 32 and η = 1.2 on a least-squares problem with L = 2 blows up within a few "
        "epochs. What fixes it?"
    ),
    reference="c",
    choices={
        "a": "a smaller batch, e.g. B = 4: smaller batches overshoot less",
        "b": "a larger batch, e.g. B = 512: less noise in the gradient",
        "c": "a smaller learning rate, below 2/L = 1",
        "d": "more epochs, so that the noise averages out",
    },
    hints=(
        "What does full-batch gradient descent do with η = 1.2 on this problem?",
        "Averaged over the batches, the minibatch update is the full-batch update: its mean follows "
        "θ ← θ − ηH(θ − θ*) exactly. Which quantity decides whether that recursion blows up?",
        "Along the steepest direction one step multiplies the error by 1 − ηL = 1 − 2.4 = −1.4.",
    ),
    solution=("answer = 'c'  # η = 1.2 > 2/L = 1: even the full batch diverges; no batch size fixes that\n"),
    mistakes=(
        Mistake(
            "smaller_batch",
            "This is the myth of the notebook: a smaller batch does not make the step smaller, it makes it "
            "noisier. The mean update is the full-batch one, which diverges for η > 2/L; B = 4 diverges too "
            "(with one example the limit is even a little lower).",
            "a",
        ),
        Mistake(
            "larger_batch",
            "Less noise does not help: with B = n the run is full-batch gradient descent, and with η = 1.2 > 2/L "
            "that diverges, every step multiplying the error along the steepest direction by |1 − ηL| = 1.4.",
            "b",
        ),
        Mistake(
            "more_epochs",
            "More epochs of a diverging run only let it grow further: the error is multiplied by about 1.4 per "
            "update. The learning rate must go below 2/L.",
            "d",
        ),
    ),
)

EXERCISES: tuple[Exercise, ...] = (MINIBATCHES, GRAD_VARIANCE, SIGNAL_BATCH, FIX_DIVERGENCE)
