r"""Exercises of notebook 03 (classification).

Conventions decided here:

- ``log_loss_grad(X, y, w)`` is the gradient of the mean log loss of a model **without a separate
  intercept** (put a column of ones in ``X`` to have one):

  .. math:: J(w) = \frac1n \sum_i \big[-y_i \log\sigma(x_i^\top w) - (1 - y_i)\log(1 - \sigma(x_i^\top w))\big],
            \qquad \nabla J(w) = \frac1n X^\top\big(\sigma(Xw) - y\big),

  with labels ``y`` in :math:`\{0, 1\}` given as floats, ``X`` of shape ``(n, p)``, ``w`` of shape ``(p,)``.
  Results are compared with relative tolerance 1e-6.
- ``log_loss_lr(X, y, n_steps, target)`` is an experiment on the same loss (``X``'s last column is ones,
  the intercept): any learning rate with which ``n_steps = 40`` steps
  :math:`w \leftarrow w - \eta\,\frac1n X^\top(\sigma(Xw) - y)` from :math:`w = 0` end at a log loss of
  ``target`` or below passes.  The case's ``key`` holds the minimum :math:`J^*` (Newton's method; data that
  turn out separable are drawn again) and :math:`\lambda_{\max}(X^\top X/n)`.  ``target`` is placed on a
  fine grid of :math:`\eta = c \cdot 4/\lambda_{\max}`, :math:`1 \le c \le 64`: its gap to :math:`J^*` is
  twice the worst gap over :math:`c \in [c^*/1.5, 1.5c^*]` (:math:`c^*` the best on the grid), and the safe
  step :math:`c = 1` (the Hessian is at most :math:`X^\top X/(4n)`) misses it by a factor of 10 or more.
  So a scan with ratio 2 between rates finds it, and the safe step, the MSE's step
  :math:`1/(2\lambda_{\max})` and :math:`1/\lambda_{\max}` all fail, on every seed.
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

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from gdcourse.backend import array_namespace, asarray, to_numpy
from gdcourse.exercises.catalog import XP_PREAMBLE
from gdcourse.exercises.core import Case, Exercise, Mistake, learning_rate_answer
from gdcourse.losses import log_loss, sigmoid

__all__ = ["EXERCISES"]


# --- 03.log_loss_grad ---------------------------------------------------------------------------


def log_loss_grad(X: Any, y: Any, w: Any) -> Any:
    r"""Reference for ``03.log_loss_grad``: :math:`\frac1n X^\top(\sigma(Xw) - y)`.

    Parameters
    ----------
    X : array of shape (n, p)
        The features, one example per row (no separate intercept).
    y : array of shape (n,)
        The labels, 0 or 1, as floats.
    w : array of shape (p,)
        The weights where the gradient is taken.

    Returns
    -------
    array of shape (p,)
        The gradient of the mean log loss :math:`J(w)`.
    """
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
    r"""Reference for ``03.hinge_subgradient``: :math:`-\frac1n X^\top (y \odot [y \odot Xw < 1])` (0 at the kink).

    Parameters
    ----------
    X : array of shape (n, p)
        The features, one example per row (no separate intercept).
    y : array of shape (n,)
        The labels, -1 or +1.
    w : array of shape (p,)
        The weights where the subgradient is taken.

    Returns
    -------
    array of shape (p,)
        A subgradient of :math:`J(w) = \frac1n\sum_i \max(0, 1 - y_i x_i^\top w)`: points exactly on the
        margin (:math:`y_i x_i^\top w = 1`) contribute 0.
    """
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
        parts: list[np.ndarray] = [np.asarray(base), rng.choice(base, size=max(n - len(base), 0))]
        margins = np.concatenate(parts + ([np.ones(2)] if kink else []))
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

# --- 03.log_loss_lr -----------------------------------------------------------------------------

_LR_MULTIPLES = np.geomspace(1.0, 64.0, 13)
"""The learning rates the reference tries, as multiples of the safe step 4/λmax(XᵀX/n) (ratio √2 apart)."""


def log_loss_lr(X: Any, y: Any, n_steps: int, target: float) -> float:
    r"""Reference for ``03.log_loss_lr``: scan η upwards from the safe step, keep the lowest loss after the budget.

    The log loss's Hessian :math:`\frac1n X^\top\operatorname{diag}(p_i(1-p_i))X` is at most
    :math:`\frac14 X^\top X/n`, so :math:`\eta = 4/\lambda_{\max}(X^\top X/n) = 1/L` is safe; each run is
    ``n_steps`` updates :math:`w \leftarrow w - \eta\,\frac1n X^\top(\sigma(Xw) - y)` from :math:`w = 0`.

    Parameters
    ----------
    X : array of shape (n, p)
        The features; the last column is ones (the intercept).
    y : array of shape (n,)
        The labels, 0 or 1, as floats.
    n_steps : int
        The budget: the number of updates in each run.
    target : float
        The log loss the exercise asks to reach; the reference does not use it (it keeps the lowest loss found).

    Returns
    -------
    float
        The learning rate, among 1 to 64 times the safe step (13 values, ratio √2), with the lowest final loss.
    """
    xp = array_namespace(X)
    n = X.shape[0]
    safe = 4.0 / float(xp.max(xp.linalg.eigvalsh(X.T @ X / n)))
    best_lr, best_cost = safe, math.inf
    for multiple in _LR_MULTIPLES.tolist():
        lr = multiple * safe
        w = xp.zeros_like(X[0, :])
        for _ in range(n_steps):
            w = w - lr * (X.T @ (sigmoid(X @ w) - y)) / n
        cost = float(log_loss(X @ w, y))
        if cost < best_cost:
            best_lr, best_cost = lr, cost
    return best_lr


def _log_losses_after(X: np.ndarray, y: np.ndarray, lrs: np.ndarray, n_steps: int, *, every: bool = True) -> Any:
    """The log loss during ``n_steps`` GD steps from 0, for every learning rate in ``lrs`` at once (NumPy, float64).

    With ``every``, an array of shape ``(n_steps + 1, len(lrs))``, row 0 the start (log 2); else only the last row.
    """
    n = X.shape[0]
    W = np.zeros((X.shape[1], lrs.size))
    rows = [np.full(lrs.size, math.log(2.0))]
    with np.errstate(over="ignore", invalid="ignore"):
        for step in range(n_steps):
            W = W - lrs * (X.T @ (_sigmoid_host(X @ W) - y[:, None])) / n
            if every or step == n_steps - 1:
                Z = X @ W
                rows.append(np.mean(np.logaddexp(0.0, Z) - y[:, None] * Z, axis=0))
    return np.array(rows) if every else rows[-1]


def _sigmoid_host(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # σ without overflow


def _log_loss_minimum(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float] | None:
    """The minimiser of the mean log loss by Newton's method, and the minimum; ``None`` if the data look separable.

    On separable data the log loss has no minimiser: the weights grow without bound (or the Hessian becomes
    singular), and the case is drawn again.
    """
    n, w = X.shape[0], np.zeros(X.shape[1])
    for _ in range(100):
        p = _sigmoid_host(X @ w)
        try:
            step = np.linalg.solve(X.T @ (X * (p * (1 - p))[:, None]) / n, X.T @ (p - y) / n)
        except np.linalg.LinAlgError:
            return None
        w = w - step
        if not np.max(np.abs(w)) < 30.0:
            return None
        if np.max(np.abs(step)) < 1e-13:
            z = X @ w
            return w, float(np.mean(np.logaddexp(0.0, z) - y * z))
    return None


@dataclass(frozen=True)
class _LogLossKey:
    """What the judge knows about a case of ``03.log_loss_lr``: the minimum J* and λmax(XᵀX/n)."""

    J_star: float
    lam_max: float


_DESIGN_MULTIPLES = np.geomspace(1.0, 64.0, 121)
"""A fine grid of learning rates, as multiples of the safe step, to place each case's target."""


def _log_loss_lr_cases(rng: np.random.Generator) -> list[Case]:
    def case(n: int, p: int, separation: float, n_steps: int, label: str) -> Case:
        while True:  # two draws on average: drop separable data and data without a clear window of good rates
            U = rng.normal(size=(n, p))
            direction = rng.normal(size=p)
            scores = U @ (separation * direction / np.linalg.norm(direction)) + rng.uniform(-1.0, 1.0)
            y = (rng.random(n) < _sigmoid_host(scores)).astype(float)
            X = np.column_stack([U, np.ones(n)])  # the intercept is the last weight
            minimum = _log_loss_minimum(X, y)
            if minimum is None:
                continue
            J_star = minimum[1]
            lam_max = float(np.linalg.eigvalsh(X.T @ X / n)[-1])
            gaps = _log_losses_after(X, y, 4.0 / lam_max * _DESIGN_MULTIPLES, n_steps, every=False) - J_star
            best = _DESIGN_MULTIPLES[int(np.argmin(gaps))]
            # every rate within a factor 1.5 of the best one must pass, with a factor 2 to spare
            window = (_DESIGN_MULTIPLES >= best / 1.5) & (_DESIGN_MULTIPLES <= best * 1.5)
            target_gap = max(2.0 * float(np.max(gaps[window])), 1e-10)
            if gaps[0] >= 10.0 * target_gap:  # and the safe step misses the target by a factor 10 or more
                break
        key = _LogLossKey(J_star=J_star, lam_max=lam_max)
        return Case((asarray(X), asarray(y), n_steps, J_star + target_gap), label=label, key=key)

    return [
        case(80, 2, 4.0, 40, "two features, overlapping classes"),
        case(120, 3, 4.0, 40, "three features, more samples"),
        case(60, 1, 5.0, 40, "one feature, well separated classes"),
    ]


def _log_loss_lr_requirement(case: Case, value: Any) -> str | None:
    """``None`` when ``n_steps`` GD steps on the log loss with learning rate ``value`` reach the target."""
    X, y = np.asarray(to_numpy(case.args[0]), dtype=np.float64), np.asarray(to_numpy(case.args[1]), dtype=np.float64)
    n_steps, target = case.args[2], case.args[3]
    key: _LogLossKey = case.key
    lr, problem = learning_rate_answer(value)
    if problem is not None:
        return problem
    costs = _log_losses_after(X, y, np.array([lr]), n_steps)[:, 0]
    if costs[-1] <= target:
        return None
    above = f"{costs[-1] - key.J_star:.3g} above" if math.isfinite(costs[-1]) else "not finite, far above"
    head = (
        f"with η = {lr:.4g} the log loss after {n_steps} steps is {above} its minimum {key.J_star:.6g}; the "
        f"target asks for at most {target - key.J_star:.3g} above it"
    )
    if not np.all(np.isfinite(costs)) or np.any(np.diff(costs) > 1e-12):
        return head + ": the loss went up at some steps, so η overshoots: try smaller learning rates"
    safe = 4.0 / key.lam_max
    return (
        head + f": the loss fell at every step, but too slowly, so try larger learning rates. The bound "
        f"L = λmax(XᵀX/n)/4 makes η = 1/L = {safe:.4g} safe, not fast"
    )


def _log_loss_lr_mistake(factor: float) -> Any:
    """A planted answer: ``factor / λmax(XᵀX/n)``."""

    def answer(X: Any, y: Any, n_steps: int, target: float) -> float:
        xp = array_namespace(X)
        return factor / float(xp.max(xp.linalg.eigvalsh(X.T @ X / X.shape[0])))

    return answer


LOG_LOSS_LR = Exercise(
    id="03.log_loss_lr",
    kind="function",
    title=(
        "log_loss_lr(X, y, n_steps, target): find by experiment a learning rate with which n_steps GD steps on "
        "the log loss from w = 0 bring it to target or below"
    ),
    reference=log_loss_lr,
    make_cases=_log_loss_lr_cases,
    requirement=_log_loss_lr_requirement,
    hints=(
        "Write the run once: from w = 0, n_steps times w ← w − η Xᵀ(σ(Xw) − y)/n, then the loss "
        "losses.log_loss(X @ w, y). Then run it for many learning rates and keep the best.",
        "Start from the safe step η = 1/L with L = λmax(XᵀX/n)/4 (the log loss's Hessian is at most a quarter "
        "of XᵀX/n) and try larger ones too, e.g. that step times 1, √2, 2, 2√2, … up to 64.",
        "safe = 4 / float(xp.max(xp.linalg.eigvalsh(X.T @ X / n))); for each lr in safe * np.geomspace(1, 64, 13): "
        "run the n_steps updates from zeros, compute the final loss, keep the lr with the lowest one; return it.",
    ),
    solution=(
        XP_PREAMBLE + "import numpy as np\n\n"
        "from gdcourse import losses\n\n\n"
        "def log_loss_lr(X, y, n_steps, target):\n"
        "    n = X.shape[0]\n"
        "    safe = 4 / float(xp.max(xp.linalg.eigvalsh(X.T @ X / n)))  # 1/L: the Hessian is at most XᵀX/(4n)\n"
        '    best_lr, best_loss = safe, float("inf")\n'
        "    for lr in (safe * np.geomspace(1, 64, 13)).tolist():  # the safe step and larger ones\n"
        "        w = xp.zeros_like(X[0, :])  # w = 0\n"
        "        for _ in range(n_steps):\n"
        "            w = w - lr * (X.T @ (losses.sigmoid(X @ w) - y)) / n\n"
        "        loss = float(losses.log_loss(X @ w, y))\n"
        "        if loss < best_loss:\n"
        "            best_lr, best_loss = lr, loss\n"
        "    return best_lr\n"
    ),
    mistakes=(
        Mistake(
            "mse_curvature",
            "η = 1/(2λmax(XᵀX/n)) is 1/L for the mean *squared* error (notebook 02), whose Hessian is 2XᵀX/n. The "
            "log loss's Hessian is (1/n) Xᵀ diag(p(1 − p)) X, and p(1 − p) ≤ ¼: its bowl is at least 8 times "
            "flatter, so this η crawls. Start from 4/λmax and experiment with larger steps.",
            _log_loss_lr_mistake(0.5),
        ),
        Mistake(
            "no_quarter",
            "η = 1/λmax(XᵀX/n) forgets the factor p(1 − p) ≤ ¼ in the log loss's Hessian (1/n) Xᵀ diag(p(1 − p)) X: "
            "the bowl is at least 4 times flatter than XᵀX/n, so this η crawls. Start from 4/λmax and experiment "
            "with larger steps.",
            _log_loss_lr_mistake(1.0),
        ),
        Mistake(
            "safe_bound",
            "η = 4/λmax(XᵀX/n) is 1/L for the bound L = λmax/4: safe, but not the fastest. The bound holds at "
            "w = 0, where every p = ½ and p(1 − p) = ¼; as the predictions become confident, p(1 − p) falls well "
            "below ¼, the bowl flattens, and steps two or three times larger still converge. Only the experiment "
            "shows how large.",
            _log_loss_lr_mistake(4.0),
        ),
    ),
)


EXERCISES: tuple[Exercise, ...] = (LOG_LOSS_GRAD, LOG_LOSS_LR, HINGE_SUBGRADIENT, SUPPORT_VECTORS)
