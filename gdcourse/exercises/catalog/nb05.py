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
- ``fix_divergence`` is a letter.
"""

from __future__ import annotations

import math

import numpy as np

from gdcourse.exercises.core import Case, Exercise, Mistake

__all__ = ["EXERCISES"]


# --- 05.minibatches -------------------------------------------------------------------------------


def minibatches(n: int, batch_size: int, seed: int) -> list[np.ndarray]:
    """Reference for ``05.minibatches``: a seeded permutation cut into consecutive batches."""
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
    solution=(
        "answer = 'c'  # η = 1.2 > 2/L = 1: even the full batch diverges; no batch size fixes that\n"
    ),
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

EXERCISES: tuple[Exercise, ...] = (MINIBATCHES, GRAD_VARIANCE, FIX_DIVERGENCE)
