r"""Exercises of notebook 12 (real models).

Conventions decided here:

- ``conv_output_size(n, kernel, stride, padding)`` is the length of one spatial axis after a
  convolution or pooling window (PyTorch's ``Conv2d``/``MaxPool2d`` with zero padding, no dilation):

  .. math:: n_{out} = \left\lfloor \frac{n + 2p - k}{s} \right\rfloor + 1 .

  Arguments and result are Python integers; an integer-valued float (``7.0``) is accepted too
  (values are compared, not types), a fraction is not.  Every draw contains a case with stride 1,
  one with stride 1 and padding, and cases with stride 2 and 3 where :math:`n + 2p - k` is not a
  multiple of the stride (so floor and ceiling differ).
- ``confusion_matrix(y_true, y_pred, k)`` returns the ``(k, k)`` matrix of counts
  :math:`C_{ij} = \#\{m : y^{true}_m = i,\ y^{pred}_m = j\}`: **rows are the true classes, columns the
  predicted ones** (scikit-learn's convention).  Labels are integers in ``[0, k)``; the size comes from
  ``k``, not from the labels present (one case never shows the last class at all).  Integer or float
  counts are both accepted.  Every case's matrix is non-symmetric, so a transposed answer is caught.
- ``curve_diagnosis`` is a choice about training curves (the notebook's MLP trained too long on a
  small training set): training loss falling towards 0 while the validation loss turns upwards.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from array_api_compat import device

from gdcourse.backend import array_namespace, asarray
from gdcourse.exercises.catalog import XP_PREAMBLE
from gdcourse.exercises.core import Case, Exercise, Mistake

__all__ = ["EXERCISES"]


# --- 12.conv_output_size ------------------------------------------------------------------------


def conv_output_size(n: int, kernel: int, stride: int, padding: int) -> int:
    """Reference for ``12.conv_output_size``: ``(n + 2·padding − kernel) // stride + 1``."""
    return (n + 2 * padding - kernel) // stride + 1


def _conv_cases(rng: np.random.Generator) -> list[Case]:
    def draw(stride: int, padding: int, kernel: int, label: str) -> Case:
        while True:
            n = int(rng.integers(kernel + 3, 33))
            span = n + 2 * padding - kernel
            if stride == 1 or span % stride != 0:  # floor ≠ ceil when the stride does not divide the span
                return Case((n, kernel, stride, padding), label=label)

    return [
        draw(1, 0, int(rng.choice([3, 5])), "stride 1, no padding"),
        draw(1, 1, 3, "a 3×3 kernel, stride 1, padding 1"),
        draw(2, 1, int(rng.choice([3, 5])), "stride 2 with padding"),
        draw(3, 2, int(rng.choice([3, 4, 5])), "stride 3 with padding 2"),
        draw(2, 0, 2, "a 2×2 pooling window, stride 2"),
        # (n + 2p − k + 1) // s, the + 1 slipped inside the floor, is one short when s divides the span
        _draw_span(rng, int(rng.choice([2, 3])), int(rng.integers(0, 2)), int(rng.choice([2, 3, 5])), (1, 0),
                   "a stride that divides n + 2·padding − kernel exactly"),
        # round((n + 2p − k) / s) + 1 rounds x.5 to the even neighbour: up when the span is 3 modulo 4
        _draw_span(rng, 2, int(rng.integers(0, 2)), 3, (2, 3),
                   "stride 2, where rounding (n + 2·padding − kernel) / 2 to the nearest would go up"),
    ]


def _draw_span(rng: np.random.Generator, stride: int, padding: int, kernel: int, span_mod: tuple[int, int],
               label: str) -> Case:
    """A case whose span n + 2·padding − kernel is ``r`` modulo ``k · stride``, for ``(k, r) = span_mod``."""
    k, r = span_mod
    while True:
        n = int(rng.integers(kernel + 3, 33))
        if (n + 2 * padding - kernel) % (k * stride) == r:
            return Case((n, kernel, stride, padding), label=label)


CONV_OUTPUT_SIZE = Exercise(
    id="12.conv_output_size",
    kind="function",
    title="conv_output_size(n, kernel, stride, padding): the output length of one axis after a convolution",
    reference=conv_output_size,
    make_cases=_conv_cases,
    hints=(
        "Padding adds `padding` zeros at *both* ends of the axis: the padded length is n + 2·padding.",
        "The first window starts at position 0; the last must still fit, so its start is at most "
        "n + 2·padding − kernel. Starts go 0, stride, 2·stride, …: how many of them are ≤ that bound?",
        "Count the starts: (n + 2*padding - kernel) // stride + 1 — floor division, and the + 1 counts the start at 0.",
    ),
    solution=(
        "def conv_output_size(n, kernel, stride, padding):\n"
        "    return (n + 2 * padding - kernel) // stride + 1\n"
    ),
    mistakes=(
        Mistake(
            "no_plus_one",
            "One window short: (n + 2p − k) // s counts the steps *between* window positions, not the positions. "
            "The window at position 0 counts too: add 1.",
            lambda n, kernel, stride, padding: (n + 2 * padding - kernel) // stride,
        ),
        Mistake(
            "padding_once",
            "Padding goes on both sides of the axis (before the first entry and after the last), so it adds "
            "2·padding to the length, not padding.",
            lambda n, kernel, stride, padding: (n + padding - kernel) // stride + 1,
        ),
        Mistake(
            "padding_ignored",
            "The padding is missing: with padding p the window slides over n + 2p entries.",
            lambda n, kernel, stride, padding: (n - kernel) // stride + 1,
        ),
        Mistake(
            "ceil",
            "Rounded up: a last window that would stick out past the (padded) end is not computed, so the count "
            "rounds *down* — floor division //, not ceil.",
            lambda n, kernel, stride, padding: -(-(n + 2 * padding - kernel) // stride) + 1,
        ),
        Mistake(
            "true_division",
            "Not a whole number: / gives a fraction when the stride does not divide n + 2p − k. Only whole "
            "windows exist: use floor division //.",
            lambda n, kernel, stride, padding: (n + 2 * padding - kernel) / stride + 1,
        ),
        # The last case is there for this one: round() goes up when the fraction is above ½ (and at ½ to even).
        Mistake(
            "rounds_to_nearest",
            "round() rounds to the nearest whole number, so a last window that would stick out past the padded "
            "end is counted when the fraction is ½ or more. Only whole windows exist: round *down*, with floor "
            "division //.",
            lambda n, kernel, stride, padding: round((n + 2 * padding - kernel) / stride) + 1,
        ),
        # The case "a stride that divides n + 2·padding − kernel exactly" is there for this one.
        Mistake(
            "plus_one_inside",
            "The + 1 slipped inside the floor division: (n + 2p − k + 1) // s is one short whenever s divides "
            "n + 2p − k. The + 1 counts the window at position 0 and is added after dividing: "
            "(n + 2p − k) // s + 1.",
            lambda n, kernel, stride, padding: (n + 2 * padding - kernel + 1) // stride,
        ),
        Mistake(
            "stride_ignored",
            "The stride is missing: with stride s the window jumps s entries at a time, so the span "
            "n + 2p − k is divided by s (floor) before adding 1.",
            lambda n, kernel, stride, padding: n + 2 * padding - kernel + 1,
        ),
    ),
)


# --- 12.confusion_matrix ------------------------------------------------------------------------


def confusion_matrix(y_true: Any, y_pred: Any, k: int) -> Any:
    """Reference for ``12.confusion_matrix``: counts with rows = true class, columns = predicted class."""
    xp = array_namespace(y_true, y_pred)
    classes = xp.arange(k, dtype=y_true.dtype, device=device(y_true))
    true_onehot = xp.astype(xp.reshape(y_true, (-1, 1)) == classes, xp.int64)  # (n, k)
    pred_onehot = xp.astype(xp.reshape(y_pred, (-1, 1)) == classes, xp.int64)
    return xp.matrix_transpose(true_onehot) @ pred_onehot  # C[i, j] = Σ_m [y_m = i][ŷ_m = j]


def _confusion_cases(rng: np.random.Generator) -> list[Case]:
    def draw(n: int, k: int, used: int, label: str, skip: int | None = None) -> Case:
        """Labels in [0, used) (used <= k), predictions right about 60 % of the time; non-symmetric counts.

        With ``skip``, labels from ``skip`` on move up by one, so that class ``skip`` never occurs.
        """
        while True:
            y_true = rng.integers(0, used, size=n)
            wrong = rng.random(n) < 0.4
            y_pred = np.where(wrong, rng.integers(0, used, size=n), y_true)
            counts = np.zeros((k, k), dtype=np.int64)
            np.add.at(counts, (y_true, y_pred), 1)
            if not np.array_equal(counts, counts.T) and np.all(counts.sum(axis=1)[:used] > 0):
                if skip is not None:
                    y_true, y_pred = y_true + (y_true >= skip), y_pred + (y_pred >= skip)
                return Case((asarray(y_true), asarray(y_pred), k), label=label)

    return [
        draw(int(rng.integers(20, 40)), 3, 3, "3 classes"),
        draw(int(rng.integers(30, 60)), 5, 5, "5 classes"),
        draw(int(rng.integers(20, 40)), 4, 3, "4 classes, the last one never occurs"),
        # answers that renumber the labels they see (np.unique) shift every class after the missing one
        draw(int(rng.integers(30, 50)), 5, 4, "5 classes, one before the last never occurs",
             skip=int(rng.integers(0, 4))),
    ]


def _row_normalised(y_true: Any, y_pred: Any, k: int) -> Any:
    counts = confusion_matrix(y_true, y_pred, k)
    xp = array_namespace(counts)
    totals = xp.sum(counts, axis=1, keepdims=True)
    return xp.astype(counts, xp.float64) / xp.astype(xp.where(totals > 0, totals, 1), xp.float64)


def _size_from_data(y_true: Any, y_pred: Any, k: int) -> Any:
    xp = array_namespace(y_true, y_pred)
    seen = int(max(xp.max(y_true), xp.max(y_pred))) + 1
    return confusion_matrix(y_true, y_pred, seen)


def _renumbers_seen_labels(y_true: Any, y_pred: Any, k: int) -> Any:
    """Labels renumbered by their rank among the labels seen (what indexing into np.unique does)."""
    xp = array_namespace(y_true, y_pred)
    seen = xp.unique_values(xp.concat([y_true, y_pred]))

    def rank(y: Any) -> Any:  # how many seen labels are smaller: the index of y in the sorted unique labels
        smaller = xp.reshape(seen, (1, -1)) < xp.reshape(y, (-1, 1))
        return xp.astype(xp.sum(xp.astype(smaller, xp.int64), axis=1), y.dtype)

    return confusion_matrix(rank(y_true), rank(y_pred), k)


def _diagonal_only(y_true: Any, y_pred: Any, k: int) -> Any:
    counts = confusion_matrix(y_true, y_pred, k)
    xp = array_namespace(counts)
    return counts * xp.eye(k, dtype=counts.dtype, device=device(counts))


CONFUSION_MATRIX = Exercise(
    id="12.confusion_matrix",
    kind="function",
    title="confusion_matrix(y_true, y_pred, k): the k×k counts, row = true class, column = predicted class",
    reference=confusion_matrix,
    make_cases=_confusion_cases,
    hints=(
        "Start from a k×k array of zeros; every example adds 1 to exactly one entry.",
        "Example m goes to row y_true[m] (what it is) and column y_pred[m] (what the model said).",
        "C = xp.zeros((k, k), dtype=xp.int64); for every pair (i, j): C[i, j] = the number of m with "
        "y_true[m] == i and y_pred[m] == j, i.e. xp.sum(xp.astype((y_true == i) & (y_pred == j), xp.int64)).",
    ),
    solution=(
        XP_PREAMBLE
        + "def confusion_matrix(y_true, y_pred, k):\n"
        "    C = xp.zeros((k, k), dtype=xp.int64)\n"
        "    for i in range(k):          # row = true class\n"
        "        for j in range(k):      # column = predicted class\n"
        "            C[i, j] = xp.sum(xp.astype((y_true == i) & (y_pred == j), xp.int64))\n"
        "    return C\n"
    ),
    mistakes=(
        Mistake(
            "transposed",
            "Rows and columns are swapped: your rows are the *predicted* classes. The convention (scikit-learn's "
            "too) puts the true class in the row, C[y_true, y_pred], so a row shows how one real digit was labelled.",
            lambda y_true, y_pred, k: array_namespace(y_true).matrix_transpose(confusion_matrix(y_true, y_pred, k)),
        ),
        Mistake(
            "size_from_data",
            "The size comes from the labels you saw (largest label + 1), so a class that never occurs loses its "
            "row and column. Use k: the matrix is always k×k.",
            _size_from_data,
        ),
        Mistake(
            "k_plus_one",
            "One row and column too many: labels 0, …, k−1 are k classes, so the matrix is k×k, not (k+1)×(k+1).",
            lambda y_true, y_pred, k: confusion_matrix(y_true, y_pred, k + 1),
        ),
        Mistake(
            "row_normalised",
            "These are fractions of each row, not counts. Normalising is a useful view (recall per class), but "
            "the exercise asks for the counts C[i, j].",
            _row_normalised,
        ),
        Mistake(
            "diagonal_only",
            "Only the correct predictions are counted (the diagonal). The off-diagonal entries — which class was "
            "mistaken for which — are the point of a confusion matrix.",
            _diagonal_only,
        ),
        # The last case is there for this one: a class that never occurs, followed by classes that do.
        Mistake(
            "renumbers_seen_labels",
            "The labels were renumbered by the classes that occur (np.unique, an index into the sorted labels): "
            "when a class never occurs, every class after it moves down one row and column. The labels are the "
            "class numbers themselves: count example m at C[y_true[m], y_pred[m]].",
            _renumbers_seen_labels,
        ),
    ),
)


# --- 12.curve_diagnosis -------------------------------------------------------------------------

CURVE_DIAGNOSIS = Exercise(
    id="12.curve_diagnosis",
    kind="choice",
    title=(
        "Training loss falls steadily towards 0 while the validation loss falls for a few epochs, "
        "then rises; training accuracy reaches 100 %. What is happening, and what helps?"
    ),
    reference="b",
    choices={
        "a": "underfitting: the model is too small or trained too briefly — train longer or make it bigger",
        "b": "overfitting: the model fits the training examples' noise — stop at the validation minimum, "
        "regularise, or get more data",
        "c": "the learning rate is too large and training diverges — lower it",
        "d": "gradient descent is stuck in a local minimum — restart from another initialisation",
    },
    hints=(
        "Which of the two curves is still improving, and which one got worse?",
        "Underfitting means the model does badly even on the data it trains on. Is that the case here?",
        "A training loss near 0 with a rising validation loss means the model learns things that do not carry "
        "over to new examples.",
    ),
    solution=(
        "answer = 'b'  # overfitting: the training loss keeps falling, the validation loss turns up\n"
        "# Remedies: early stopping at the validation minimum, L2 / dropout, more data, a smaller model.\n"
    ),
    mistakes=(
        Mistake(
            "underfitting",
            "Underfitting shows as a *high training* loss: the model cannot even fit the examples it sees. "
            "Here the training loss goes to 0; training longer or a bigger model would make the gap worse.",
            "a",
        ),
        Mistake(
            "diverging",
            "A learning rate that is too large makes the *training* loss jump or grow. Here it falls smoothly "
            "towards 0: the optimiser is doing its job on the training set — too well.",
            "c",
        ),
        Mistake(
            "local_minimum",
            "Stuck in a poor minimum, the training loss would stall at a high value. It reaches almost 0: the "
            "problem is not the optimisation but what the model learned (it does not generalise).",
            "d",
        ),
    ),
)

EXERCISES: tuple[Exercise, ...] = (CONV_OUTPUT_SIZE, CONFUSION_MATRIX, CURVE_DIAGNOSIS)
