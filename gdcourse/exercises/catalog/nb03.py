r"""Exercises of notebook 03 (classification).

Conventions decided here:

- ``log_loss_grad(X, y, w)`` is the gradient of the mean log loss of a model **without a separate
  intercept** (put a column of ones in ``X`` to have one):

  .. math:: J(w) = \frac1n \sum_i \big[-y_i \log\sigma(x_i^\top w) - (1 - y_i)\log(1 - \sigma(x_i^\top w))\big],
            \qquad \nabla J(w) = \frac1n X^\top\big(\sigma(Xw) - y\big),

  with labels ``y`` in :math:`\{0, 1\}` given as floats, ``X`` of shape ``(n, p)``, ``w`` of shape ``(p,)``.
  Results are compared with relative tolerance 1e-6.
- ``hinge_subgradient(X, y, w)`` is a subgradient of the mean hinge loss, labels in :math:`\{-1, +1\}`:

  .. math:: J(w) = \frac1n \sum_i \max(0,\ 1 - y_i x_i^\top w), \qquad
            g = -\frac1n \sum_{i:\ y_i x_i^\top w < 1} y_i x_i .

  At the kink :math:`y_i x_i^\top w = 1` exactly, every value between :math:`-y_i x_i / n` and 0 is
  a subgradient of that point's term.  The course's convention is 0 there (a strict ``<``, as
  :func:`gdcourse.losses.hinge_grad`); the other end of the interval (``<=``) is accepted too.  One
  case puts points exactly on the kink: its inputs are dyadic numbers, so :math:`y_i x_i^\top w = 1`
  holds exactly in floating point and the two conventions are told apart from everything else.
- ``support_vectors`` is a choice about the notebook's figure of a fitted linear SVM with four marked
  points: A beyond the margin, B on a margin line, C inside the margin on its own side, D on the wrong
  side of the boundary.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gdcourse.backend import array_namespace, asarray
from gdcourse.exercises.catalog import XP_PREAMBLE
from gdcourse.exercises.core import Case, Exercise, Mistake
from gdcourse.losses import sigmoid

__all__ = ["EXERCISES"]


# --- 03.log_loss_grad ---------------------------------------------------------------------------


def log_loss_grad(X: Any, y: Any, w: Any) -> Any:
    r"""Reference for ``03.log_loss_grad``: :math:`\frac1n X^\top(\sigma(Xw) - y)`."""
    return X.T @ (sigmoid(X @ w) - y) / X.shape[0]


def _log_loss_cases(rng: np.random.Generator) -> list[Case]:
    def case(n: int, p: int, scale: float, label: str) -> Case:
        X = rng.normal(size=(n, p))
        w = scale * rng.normal(size=p)
        y = np.zeros(n)
        y[rng.permutation(n)[: n // 2]] = 1.0  # both classes present
        return Case((asarray(X), asarray(y), asarray(w)), label=label)

    return [
        case(int(rng.integers(6, 10)), 2, 0.5, "a few samples, 2 features, small weights"),
        case(int(rng.integers(12, 20)), 3, 2.0, "more samples, 3 features, confident predictions"),
        case(int(rng.integers(25, 40)), 4, 1.0, "a larger data set, 4 features"),
        _saturated_float32(rng),
    ]


def _saturated_float32(rng: np.random.Generator) -> Case:
    """float32 scores xᵀw of a few hundred in size, some beyond ±710: σ is exactly 0 or 1 in float32.

    exp(z) overflows there (also in float64 beyond 710), so exp(z)/(1 + exp(z)) gives NaN, and so does the
    unsimplified chain rule (−y/p + (1 − y)/(1 − p))·p(1 − p).  Whole-number X, 8 samples: the result is exact.
    """
    n, p = 8, 3
    w = 150.0 * rng.choice([-2.0, -1.0, 1.0, 2.0], size=p)
    while True:
        X = rng.integers(-3, 4, size=(n, p)).astype(float)
        z = X @ w
        y = rng.permutation(np.repeat([0.0, 1.0], n // 2))  # both classes; some predictions confidently wrong
        if np.all(z != 0) and z.max() > 710 and z.min() < -710 and np.any((z > 0) != (y > 0)):
            return Case((asarray(X, dtype="float32"), asarray(y, dtype="float32"), asarray(w, dtype="float32")),
                        label="float32 inputs, scores so large that σ(z) is exactly 0 or 1")


def _sign_flipped(X: Any, y: Any, w: Any) -> Any:
    return X.T @ (y - sigmoid(X @ w)) / X.shape[0]


def _no_mean(X: Any, y: Any, w: Any) -> Any:
    return X.T @ (sigmoid(X @ w) - y)


def _pm1_labels(X: Any, y: Any, w: Any) -> Any:
    return X.T @ (sigmoid(X @ w) - (2.0 * y - 1.0)) / X.shape[0]


def _no_sigmoid(X: Any, y: Any, w: Any) -> Any:
    return X.T @ (X @ w - y) / X.shape[0]


def _mse_of_probabilities(X: Any, y: Any, w: Any) -> Any:
    p = sigmoid(X @ w)
    return X.T @ (2.0 * (p - y) * p * (1.0 - p)) / X.shape[0]


LOG_LOSS_GRAD = Exercise(
    id="03.log_loss_grad",
    kind="function",
    title="log_loss_grad(X, y, w): gradient of the mean log loss, labels 0/1, no separate intercept",
    reference=log_loss_grad,
    make_cases=_log_loss_cases,
    hints=(
        "Start from one sample: with z = xᵀw and p = σ(z), the loss is −y log p − (1 − y) log(1 − p). "
        "Use σ'(z) = σ(z)(1 − σ(z)) to find dℓ/dz.",
        "dℓ/dz simplifies to σ(z) − y: the σ(1 − σ) of the chain rule cancels the denominators. "
        "Then dz/dw = x.",
        "Stack the samples: the mean over i of (σ(x_iᵀw) − y_i) x_i is Xᵀ(σ(Xw) − y) / n. "
        "gdcourse.losses.sigmoid computes σ without overflow.",
    ),
    solution=(
        "from gdcourse.losses import sigmoid\n\n\n"
        "def log_loss_grad(X, y, w):\n"
        "    return X.T @ (sigmoid(X @ w) - y) / X.shape[0]\n"
    ),
    mistakes=(
        Mistake(
            "sign_flipped",
            "Sign flipped: you return Xᵀ(y − σ(Xw))/n, the direction in which the log loss *decreases*. "
            "The gradient is Xᵀ(σ(Xw) − y)/n (prediction minus label); gradient descent then subtracts it.",
            _sign_flipped,
        ),
        Mistake(
            "no_mean",
            "Missing 1/n: you return the gradient of the *sum* of the losses, n times too large. "
            "J is the mean, so divide by the number of samples X.shape[0].",
            _no_mean,
        ),
        Mistake(
            "pm1_labels",
            "You used labels −1/+1 in a formula made for 0/1: σ(z) − y compares a probability with 0 or 1. "
            "With y ∈ {0, 1} as given, use σ(Xw) − y directly (for ±1 labels the formula would be different).",
            _pm1_labels,
        ),
        Mistake(
            "no_sigmoid",
            "You forgot the sigmoid: Xᵀ(Xw − y)/n is the gradient of the squared error of a *linear* model "
            "(notebook 02). The prediction of logistic regression is σ(Xw).",
            _no_sigmoid,
        ),
        Mistake(
            "mse_of_probabilities",
            "That is the gradient of the squared error (σ(Xw) − y)², not of the log loss: it carries an extra "
            "factor 2σ(1 − σ), which vanishes on confident mistakes. The log loss's gradient is Xᵀ(σ(Xw) − y)/n.",
            _mse_of_probabilities,
        ),
    ),
)


# --- 03.hinge_subgradient -----------------------------------------------------------------------


def hinge_subgradient(X: Any, y: Any, w: Any) -> Any:
    r"""Reference for ``03.hinge_subgradient``: :math:`-\frac1n X^\top (y \odot [y \odot Xw < 1])` (0 at the kink)."""
    xp = array_namespace(X)
    active = xp.astype(y * (X @ w) < 1.0, X.dtype)
    return -(X.T @ (y * active)) / X.shape[0]


def _hinge_with_kink(X: Any, y: Any, w: Any) -> Any:
    """The other end of the subdifferential at the kink: points with y·xᵀw = 1 count (``<=``)."""
    xp = array_namespace(X)
    active = xp.astype(y * (X @ w) <= 1.0, X.dtype)
    return -(X.T @ (y * active)) / X.shape[0]


def _hinge_cases(rng: np.random.Generator) -> list[Case]:
    """Dyadic inputs with chosen margins: beyond the margin, inside it, misclassified (and on the kink)."""

    def case(n: int, p: int, kink: bool, label: str) -> Case:
        w = rng.choice([-1.0, -0.5, -0.25, 0.25, 0.5, 1.0], size=p)
        w[0] = rng.choice([-0.5, -0.25, 0.25, 0.5])  # a power of two: solving for x_0 stays exact
        base = [2.5, 1.5, 1.25, 0.5, 0.25, -0.5, -1.5]  # beyond, inside, and on the wrong side of the margin
        parts = [base, rng.choice(base, size=max(n - len(base), 0))] + ([[1.0, 1.0]] if kink else [])
        margins = np.concatenate(parts)
        rng.shuffle(margins)
        n = len(margins)
        y = rng.choice([-1.0, 1.0], size=n)
        y[:2] = (-1.0, 1.0)  # both classes
        X = np.empty((n, p))
        X[:, 1:] = rng.integers(-3, 4, size=(n, p - 1))
        X[:, 0] = (y * margins - X[:, 1:] @ w[1:]) / w[0]  # so that y_i x_iᵀw = margin_i exactly
        return Case((asarray(X), asarray(y), asarray(w)), label=label)

    return [
        case(int(rng.integers(7, 10)), 2, False, "2 features, points beyond, inside and across the margin"),
        case(int(rng.integers(10, 15)), 3, False, "3 features, more points"),
        case(7, 3, True, "two points exactly on the margin (y·xᵀw = 1): the convention there is 0"),
    ]


def _hinge_variant(X: Any, y: Any, w: Any, *, rule: str, use_y: bool = True, sign: float = -1.0,
                   mean: bool = True) -> Any:
    xp = array_namespace(X)
    z = X @ w
    if rule == "margin":
        active = y * z < 1.0
    elif rule == "misclassified":
        active = y * z < 0.0
    elif rule == "beyond":
        active = y * z > 1.0
    elif rule == "z_only":
        active = z < 1.0
    else:  # "all"
        active = z == z
    weights = (y if use_y else xp.ones_like(y)) * xp.astype(active, X.dtype)
    g = sign * (X.T @ weights)
    return g / X.shape[0] if mean else g


HINGE_SUBGRADIENT = Exercise(
    id="03.hinge_subgradient",
    kind="function",
    title="hinge_subgradient(X, y, w): a subgradient of the mean hinge loss, labels −1/+1, 0 at y·xᵀw = 1",
    reference=hinge_subgradient,
    make_cases=_hinge_cases,
    alternatives=(_hinge_with_kink,),
    hints=(
        "One sample's loss is max(0, 1 − m) with the margin m = y xᵀw. Where is it flat, where is it a line "
        "of slope −1 in m?",
        "Where m < 1 the term is 1 − y xᵀw, whose gradient in w is −y x; where m > 1 it is 0. At m = 1 "
        "exactly, use 0 (the course's convention).",
        "active = y * (X @ w) < 1; return −Xᵀ(y · active) / n, with active turned into 0.0/1.0 "
        "by xp.astype(active, X.dtype).",
    ),
    solution=(
        XP_PREAMBLE
        + "def hinge_subgradient(X, y, w):\n"
        "    active = xp.astype(y * (X @ w) < 1, X.dtype)  # on or beyond the margin: flat, contributes 0\n"
        "    return -(X.T @ (y * active)) / X.shape[0]\n"
    ),
    mistakes=(
        Mistake(
            "no_y_factor",
            "Missing the y factor: each active point contributes −y_i x_i, not −x_i. Without y, points of "
            "the negative class push w the wrong way.",
            lambda X, y, w: _hinge_variant(X, y, w, rule="margin", use_y=False),
        ),
        Mistake(
            "no_y_in_condition",
            "The condition must use the margin y·xᵀw, not the score xᵀw alone: a point of class −1 with "
            "xᵀw = −3 is far on its correct side (margin 3) and contributes nothing.",
            lambda X, y, w: _hinge_variant(X, y, w, rule="z_only"),
        ),
        Mistake(
            "misclassified_only",
            "You counted only misclassified points (y·xᵀw < 0): that is the perceptron's rule. The hinge loss "
            "is positive until the margin reaches 1, so correctly classified points *inside* the margin "
            "(0 ≤ y·xᵀw < 1) contribute too.",
            lambda X, y, w: _hinge_variant(X, y, w, rule="misclassified"),
        ),
        Mistake(
            "all_points",
            "You counted every point, including the correctly classified ones beyond the margin "
            "(y·xᵀw > 1), where the hinge loss is flat at 0 and its gradient is 0.",
            lambda X, y, w: _hinge_variant(X, y, w, rule="all"),
        ),
        Mistake(
            "beyond_margin",
            "The condition is inverted: you counted the points beyond the margin (y·xᵀw > 1), where the loss "
            "is flat, and skipped the ones that violate it. Count y·xᵀw < 1.",
            lambda X, y, w: _hinge_variant(X, y, w, rule="beyond"),
        ),
        Mistake(
            "sign_flipped",
            "Sign flipped: d/dw (1 − y xᵀw) = −y x. Your +Xᵀ(y · active)/n points uphill.",
            lambda X, y, w: _hinge_variant(X, y, w, rule="margin", sign=1.0),
        ),
        Mistake(
            "no_mean",
            "Missing 1/n: J is the mean of the hinge losses, so divide the sum by X.shape[0].",
            lambda X, y, w: _hinge_variant(X, y, w, rule="margin", mean=False),
        ),
    ),
)


# --- 03.support_vectors -------------------------------------------------------------------------

SUPPORT_VECTORS = Exercise(
    id="03.support_vectors",
    kind="choice",
    title=(
        "A fitted linear SVM with four marked points: A beyond the margin, B on a margin line, C inside the "
        "margin on its own side, D on the wrong side of the boundary. Which are support vectors?"
    ),
    reference="c",
    choices={
        "a": "B only: the support vectors are the points exactly on the dashed margin lines",
        "b": "B and C: points on or inside the margin, but not misclassified ones",
        "c": "B, C and D: every point on or inside the margin, misclassified ones included (y·z ≤ 1)",
        "d": "A: the points farthest from the boundary, which the classifier is most sure of",
    },
    hints=(
        "A support vector is a point whose hinge loss term takes part in the solution: move it a little and "
        "w or b changes. Which points have a non-zero (sub)gradient?",
        "The hinge term max(0, 1 − y z) is active wherever y z ≤ 1. What is y z for a misclassified point?",
        "Misclassified points have y z < 0 < 1: they are inside (beyond) the margin and pull on w as hard as any.",
    ),
    solution=(
        "answer = 'c'  # every point with y·z ≤ 1: on the margin (B), inside it (C) and misclassified (D)\n"
    ),
    mistakes=(
        Mistake(
            "on_margin_only",
            "Only for separable data with a hard margin are the support vectors exactly the points on the margin "
            "lines. With a soft margin, every point with y·z ≤ 1 has an active hinge term: C and D pull on w too.",
            "a",
        ),
        Mistake(
            "not_misclassified",
            "A misclassified point has y·z < 0, deep inside the margin: its hinge loss 1 − y·z is the largest of "
            "all and its subgradient −y x pulls on w. It is a support vector.",
            "b",
        ),
        Mistake(
            "farthest",
            "Points beyond the margin (y·z > 1) have zero hinge loss and zero gradient: move A a little and "
            "nothing changes. The SVM is decided by the points near (or on the wrong side of) the boundary.",
            "d",
        ),
    ),
)

EXERCISES: tuple[Exercise, ...] = (LOG_LOSS_GRAD, HINGE_SUBGRADIENT, SUPPORT_VECTORS)
