r"""Exercises of notebook 08 (regularisation).

Conventions decided here:

- ``soft_threshold(v, t)`` is :math:`S_t(v) = \operatorname{sign}(v)\max(|v| - t, 0)` elementwise, for an
  array ``v`` of any shape and a threshold ``t > 0`` (a Python float); the reference is
  :func:`gdcourse.regularization.soft_threshold`.
- ``l2_grad_step(w, grad, lr, alpha)`` is one gradient step on :math:`J(w) + \frac{\alpha}{2}\lVert w\rVert^2`
  (the course's L2 convention, :func:`gdcourse.regularization.l2`): :math:`w - \eta(\nabla J + \alpha w)`.
  The "weight decay" form :math:`(1 - \eta\alpha)w - \eta\nabla J` is the same number and passes.
- ``early_stop_epoch(val_losses, patience)`` returns ``(stop_epoch, best_epoch)``.  ``val_losses[e]`` is
  the validation loss after epoch ``e`` (``e = 0, 1, ...``).  An epoch *improves* when its loss is
  strictly lower than every earlier one (a tie is not an improvement).  Training stops at the first
  epoch ``e`` such that the ``patience`` epochs ending at ``e`` all failed to improve; if that never
  happens it runs to the last epoch, ``len(val_losses) - 1``.  ``best_epoch`` is the epoch whose
  parameters restore-best keeps: the lowest loss among epochs ``0..stop_epoch`` (the earliest, on a
  tie).  This is :class:`gdcourse.regularization.EarlyStopping` with ``min_delta=0``, which is the
  reference.  Both are Python ints (any integer type passes).
- ``choose_alpha(Z_train, y_train, Z_val, y_val)`` is an experiment: it returns the ridge strength α (one
  number) of the course's :math:`J_\alpha = \frac{1}{2n}\lVert Zw + b - y\rVert^2 + \frac{\alpha}{2}\lVert w\rVert^2`
  (scikit-learn's ``Ridge(alpha)`` is n times this α).  The features are standardised polynomial features
  (degree 12) of 15 to 22 training points, the validation set has 200 points.  The judge refits ridge with the
  returned α on the training set and computes its test MSE on 400 held-out inputs (``Case.key``: their features
  and the noise-free truth; the MSE is averaged over the label noise, σ² + mean (ŷ − f)²); any α ≥ 0 whose test
  MSE is within 25% of the best over all α passes.  Cases are drawn until the margins are clear: the reference's
  α (51 candidates, 5 per decade) is within 10% of the best and a scan with one α per decade within 20%, the
  smallest and the largest candidates (1e-8, 100) at least double the best, the reference's α is below 1 (its
  logarithm is negative), and in the third case n × α misses by 60% or more.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from array_api_compat import device

from gdcourse.backend import array_namespace, asarray, to_numpy
from gdcourse.exercises.catalog import XP_PREAMBLE
from gdcourse.exercises.core import Case, Exercise, Mistake, real_scalar
from gdcourse.regularization import EarlyStopping
from gdcourse.regularization import soft_threshold as _soft_threshold

__all__ = ["EXERCISES", "early_stop_epoch", "l2_grad_step", "soft_threshold"]


# --- 08.soft_threshold --------------------------------------------------------------------------


def soft_threshold(v: Any, t: float) -> Any:
    r"""Reference for ``08.soft_threshold``: :math:`S_t(v) = \operatorname{sign}(v)\max(|v| - t, 0)`.

    Parameters
    ----------
    v : array
        The values to shrink (any shape).
    t : float
        The threshold :math:`t > 0`: entries with :math:`|v| \le t` become 0, the others move :math:`t`
        towards 0.

    Returns
    -------
    array, same shape as ``v``
    """
    return _soft_threshold(v, t)


def _mixed_vector(rng: np.random.Generator, t: float, n_small: int, n_large: int) -> np.ndarray:
    """Entries with |v| < t and |v| > t, of both signs, in random order."""
    small = rng.uniform(0.1, 0.9, size=n_small) * t
    large = t + rng.uniform(0.3, 2.0, size=n_large) * t
    signs = np.tile([1.0, -1.0], (n_small + n_large + 1) // 2)[: n_small + n_large]
    values = np.concatenate([small, large]) * signs[rng.permutation(n_small + n_large)]
    return values[rng.permutation(values.size)]


def _soft_threshold_cases(rng: np.random.Generator) -> list[Case]:
    t1 = round(float(rng.uniform(0.5, 1.0)), 3)
    t2 = round(float(rng.uniform(0.2, 0.6)), 3)
    t3 = round(float(rng.uniform(1.5, 3.0)), 3)
    matrix = _mixed_vector(rng, t2, 3, 3).reshape(2, 3)
    return [
        Case((asarray(_mixed_vector(rng, t1, 3, 3)), t1), label="a vector with entries on both sides of ±t"),
        Case((asarray(matrix), t2), label="a 2×3 matrix, small threshold"),
        Case((asarray(_mixed_vector(rng, t3, 2, 2)), t3), label="a large threshold"),
        _exact_zeros_float32(rng),
    ]


def _exact_zeros_float32(rng: np.random.Generator) -> Case:
    """float32 entries that are exactly 0 (where v/|v| is 0/0), the others on both sides of ±t.

    A dyadic threshold and multiples of t/4: exact in float32, so float32 and float64 answers agree.
    """
    t = float(rng.choice([0.5, 0.75, 1.25, 1.5]))
    sizes = np.concatenate([rng.choice([0.25, 0.5, 0.75], size=2), rng.choice([1.5, 2.25, 3.0], size=3)])
    signs = rng.permutation([1.0, -1.0, 1.0, -1.0, 1.0])
    values = np.concatenate([[0.0, 0.0], t * signs * sizes])
    return Case(
        (asarray(values[rng.permutation(values.size)], dtype="float32"), t), label="float32 entries, some exactly zero"
    )


def _hard_threshold(v: Any, t: float) -> Any:
    xp = array_namespace(v)
    return xp.where(xp.abs(v) > t, v, xp.zeros_like(v))


def _sign_lost(v: Any, t: float) -> Any:
    xp = array_namespace(v)
    return xp.maximum(xp.abs(v) - t, 0.0)


def _no_max(v: Any, t: float) -> Any:
    xp = array_namespace(v)
    return v - t * xp.sign(v)


def _clip(v: Any, t: float) -> Any:
    xp = array_namespace(v)
    return xp.minimum(xp.maximum(v, -t), t)


def _one_sided(v: Any, t: float) -> Any:
    xp = array_namespace(v)
    return xp.maximum(v - t, 0.0)


SOFT_THRESHOLD = Exercise(
    id="08.soft_threshold",
    kind="function",
    title="soft_threshold(v, t): sign(v)·max(|v| − t, 0) elementwise, the proximal step of t‖·‖₁",
    reference=soft_threshold,
    make_cases=_soft_threshold_cases,
    hints=(
        "Entries with |v| ≤ t become exactly 0; every other entry moves t closer to 0 and keeps its sign.",
        "The size of the result is max(|v| − t, 0); its sign is sign(v). Multiply the two.",
        "return xp.sign(v) * xp.maximum(xp.abs(v) - t, 0.0)",
    ),
    solution=(XP_PREAMBLE + "def soft_threshold(v, t):\n    return xp.sign(v) * xp.maximum(xp.abs(v) - t, 0.0)\n"),
    mistakes=(
        Mistake(
            "hard_threshold",
            "That is *hard* thresholding: small entries become 0 but large ones are kept unchanged. The proximal "
            "step of t‖v‖₁ also moves every surviving entry t towards 0: sign(v)·max(|v| − t, 0).",
            _hard_threshold,
        ),
        Mistake(
            "sign_lost",
            "The sign is lost: max(|v| − t, 0) is the *size* of the result, so negative entries came back "
            "positive. Multiply by sign(v).",
            _sign_lost,
        ),
        Mistake(
            "shrinks_by_2t",
            "Every entry moves 2t towards 0 (and entries up to 2t vanish): the threshold is t. Did you "
            "differentiate t·|v| and get the factor from a square, or shrink twice?",
            lambda v, t: _soft_threshold(v, 2 * t),
        ),
        Mistake(
            "no_max",
            "The max(·, 0) is missing: sign(v)·(|v| − t) = v − t·sign(v) pushes small entries *past* 0 to the "
            "other side instead of stopping at 0. Entries with |v| ≤ t must become exactly 0.",
            _no_max,
        ),
        Mistake(
            "clip",
            "You clipped v to [−t, t]: that keeps the small entries and caps the large ones, which is exactly the "
            "part soft-thresholding removes (v − S_t(v)). Small entries must become 0, large ones shrink by t.",
            _clip,
        ),
        Mistake(
            "one_sided",
            "max(v − t, 0) is one-sided (a ReLU shifted by t): every negative entry became 0. Work with |v| and put "
            "the sign back: sign(v)·max(|v| − t, 0).",
            _one_sided,
        ),
    ),
)


# --- 08.l2_grad_step ----------------------------------------------------------------------------


def l2_grad_step(w: Any, grad: Any, lr: float, alpha: float) -> Any:
    r"""Reference for ``08.l2_grad_step``: :math:`w - \eta(\nabla J(w) + \alpha w)`.

    One gradient step on :math:`J(w) + \frac{\alpha}{2}\lVert w\rVert^2`.

    Parameters
    ----------
    w : array
        The weights before the step.
    grad : array, same shape as ``w``
        The gradient :math:`\nabla J(w)` of the unregularised loss.
    lr : float
        The learning rate :math:`\eta`.
    alpha : float
        The L2 strength :math:`\alpha \ge 0`.

    Returns
    -------
    array, same shape as ``w``
        The weights after the step.
    """
    return w - lr * (grad + alpha * w)


def _weight_decay_form(w: Any, grad: Any, lr: float, alpha: float) -> Any:
    """The same step written as decay then gradient: (1 − ηα)w − η∇J."""
    return (1 - lr * alpha) * w - lr * grad


def _l2_cases(rng: np.random.Generator) -> list[Case]:
    def case(shape: tuple[int, ...], lr: float, alpha: float, label: str) -> Case:
        w, grad = rng.normal(size=shape), rng.normal(size=shape)
        return Case((asarray(w), asarray(grad), lr, alpha), label=label)

    r = lambda low, high: round(float(rng.uniform(low, high)), 3)  # noqa: E731 - a short local helper
    return [
        case((3,), r(0.05, 0.3), r(0.3, 2.0), "a vector of 3 weights"),
        case((2, 2), r(0.05, 0.3), r(0.05, 0.3), "a 2×2 matrix of weights, small α"),
        case((4,), r(0.3, 0.6), r(1.5, 3.0), "large α and learning rate"),
    ]


L2_GRAD_STEP = Exercise(
    id="08.l2_grad_step",
    kind="function",
    title="l2_grad_step(w, grad, lr, alpha): one GD step on J(w) + (α/2)‖w‖², where grad = ∇J(w)",
    reference=l2_grad_step,
    make_cases=_l2_cases,
    alternatives=(_weight_decay_form,),
    hints=(
        "The cost is J(w) + (α/2)‖w‖². Its gradient is ∇J(w) plus the gradient of the penalty.",
        "The gradient of (α/2)‖w‖² = (α/2)Σ wᵢ² is αw (the ½ cancels the 2 from the square).",
        "return w - lr * (grad + alpha * w)   — the same as (1 - lr*alpha) * w - lr * grad",
    ),
    solution="def l2_grad_step(w, grad, lr, alpha):\n    return w - lr * (grad + alpha * w)\n",
    mistakes=(
        Mistake(
            "penalty_missing",
            "The penalty's gradient is missing: you took a plain GD step on L. The cost has (α/2)‖w‖² too, "
            "whose gradient αw must be added to grad.",
            lambda w, grad, lr, alpha: w - lr * grad,
        ),
        Mistake(
            "alpha_not_times_w",
            "You added α, not αw: the gradient of (α/2)‖w‖² is αw, which pulls each weight towards 0 in "
            "proportion to its size. Adding the constant α shifts every weight the same way.",
            lambda w, grad, lr, alpha: w - lr * (grad + alpha),
        ),
        Mistake(
            "penalty_sign",
            "The penalty has the wrong sign: −αw pushes the weights away from 0, so they grow. The gradient of "
            "(α/2)‖w‖² is +αw and, like grad, it is subtracted: w − η(grad + αw).",
            lambda w, grad, lr, alpha: w - lr * (grad - alpha * w),
        ),
        Mistake(
            "penalty_not_scaled_by_lr",
            "The penalty term is not multiplied by the learning rate: w − η·grad − αw. Both parts of the gradient "
            "are scaled by η: w − η(grad + αw).",
            lambda w, grad, lr, alpha: w - lr * grad - alpha * w,
        ),
        Mistake(
            "half_alpha",
            "You used (α/2)w: the ½ in (α/2)‖w‖² cancels against the 2 from differentiating w², so the gradient is αw.",
            lambda w, grad, lr, alpha: w - lr * (grad + 0.5 * alpha * w),
        ),
        Mistake(
            "two_alpha",
            "You used 2αw, the gradient of α‖w‖². The course's L2 penalty is (α/2)‖w‖² (as in scikit-learn's "
            "ElasticNet), whose gradient is αw.",
            lambda w, grad, lr, alpha: w - lr * (grad + 2 * alpha * w),
        ),
        Mistake(
            "ascent",
            "Sign flipped: you add the step and climb the cost. Subtract: w − η(grad + αw).",
            lambda w, grad, lr, alpha: w + lr * (grad + alpha * w),
        ),
    ),
)


# --- 08.early_stop_epoch ------------------------------------------------------------------------


def early_stop_epoch(val_losses: list[float], patience: int) -> tuple[int, int]:
    """Reference for ``08.early_stop_epoch``: :class:`~gdcourse.regularization.EarlyStopping`, epoch by epoch.

    Parameters
    ----------
    val_losses : list of float
        The validation loss after each epoch, ``val_losses[e]`` for epoch ``e = 0, 1, ...``.
    patience : int
        How many epochs in a row without improvement (a loss strictly below every earlier one) stop training.

    Returns
    -------
    stop_epoch : int
        The epoch training stops at (the last one, ``len(val_losses) - 1``, when it never stops early).
    best_epoch : int
        The epoch with the lowest loss among ``0..stop_epoch`` (the earliest on a tie).
    """
    stopper = EarlyStopping(patience=patience)
    for epoch, loss in enumerate(val_losses):
        if stopper.update(float(loss)):
            return epoch, stopper.best_epoch
    return len(val_losses) - 1, stopper.best_epoch


def _curve(
    rng: np.random.Generator, patience: int, *, bump: bool, tie: bool, late_dip: bool, stops: bool
) -> list[float]:
    """A validation curve: falls (maybe with a short bump), then rises; features placed to tell mistakes apart.

    ``bump``: a rise shorter than ``patience`` before the minimum (a counter that is never reset stops there);
    ``tie``: the minimum value comes back once, within ``patience`` epochs after it;
    ``late_dip``: long after the stop, a value below the minimum (only a look into the future finds it);
    ``stops=False``: the curve keeps improving often enough never to trigger the stop.
    """
    level = round(float(rng.uniform(0.9, 1.2)), 2)
    values = [level]

    def down(k: int) -> None:  # k new bests in a row
        for _ in range(k):
            values.append(round(min(values) - float(rng.uniform(0.02, 0.06)), 3))

    def up(k: int) -> None:  # k epochs without improvement
        for _ in range(k):
            values.append(round(values[-1] + float(rng.uniform(0.01, 0.04)), 3))

    if not stops:
        for _ in range(4):
            down(int(rng.integers(1, 3)))
            up(patience - 1)  # patience − 1 epochs without improvement, then a new best
        down(1)
        return values
    down(int(rng.integers(2, 4)))
    if bump:
        up(patience - 1)
        down(int(rng.integers(1, 3)))  # back below the earlier best
    else:
        down(int(rng.integers(1, 3)))
    best = values[-1]
    if tie:
        up(1)
        values.append(best)  # the same loss again: not an improvement
        up(patience)
    else:
        up(patience + 1)
    up(1)
    if late_dip:
        values.append(round(best - float(rng.uniform(0.01, 0.05)), 3))
        up(2)
    return values


def _early_stop_cases(rng: np.random.Generator) -> list[Case]:
    p1, p2, p3, p4 = (int(rng.integers(3, 6)) for _ in range(4))
    return [
        Case(
            (_curve(rng, p1, bump=True, tie=False, late_dip=True, stops=True), p1),
            label="a short bump, then the minimum, a rise, and a late dip",
        ),
        Case(
            (_curve(rng, p2, bump=False, tie=True, late_dip=False, stops=True), p2),
            label="the best loss comes back once (a tie)",
        ),
        Case(
            (_curve(rng, p3, bump=True, tie=True, late_dip=True, stops=True), p3), label="a bump, a tie and a late dip"
        ),
        Case(
            (_curve(rng, p4, bump=False, tie=False, late_dip=False, stops=False), p4),
            label="improves often enough never to stop",
        ),
        _first_epoch_best(rng),
        _tiny_improvement(rng),
    ]


def _first_epoch_best(rng: np.random.Generator) -> Case:
    """Epoch 0 is the best: an answer that starts from best = val_losses[0] counts epoch 0 as a failure."""
    patience = int(rng.integers(2, 5))
    level = round(float(rng.uniform(0.9, 1.2)), 2)
    later = [round(level + float(rng.uniform(0.01, 0.1)), 3) for _ in range(patience + 2)]
    return Case(([level, *later], patience), label="the first epoch is already the best")


def _tiny_improvement(rng: np.random.Generator) -> Case:
    """A new best lower by a few millionths, just before the patience runs out: still an improvement.

    An answer with a threshold (Keras's ``min_delta`` habit) or that calls near-equal losses a tie
    (``np.isclose``) lets the patience run out there and stops too early, with an earlier best epoch.
    """
    patience = int(rng.integers(3, 6))
    values = [round(float(rng.uniform(0.9, 1.2)), 2)]
    for _ in range(2):
        values.append(round(values[-1] - float(rng.uniform(0.02, 0.06)), 3))
    best = values[-1]
    values += [round(best + float(rng.uniform(0.01, 0.05)), 3) for _ in range(patience - 1)]
    values.append(round(best - float(rng.uniform(2e-6, 8e-6)), 7))
    values += [round(best + float(rng.uniform(0.01, 0.05)), 3) for _ in range(patience + 1)]
    return Case((values, patience), label="a new best lower by a hair")


def _early_stopping_variant(
    val_losses: list[float],
    patience: int,
    *,
    late: int = 0,
    reset: bool = True,
    ties_improve: bool = False,
    restore: bool = True,
    peek: bool = False,
    first_as_best: bool = False,
    min_delta: float = 0.0,
) -> tuple[int, int]:
    """Early stopping written out, with switches that plant the known mistakes.

    ``first_as_best`` starts from ``best = val_losses[0]`` (so epoch 0 is then compared with itself and counts
    as an epoch without improvement); ``min_delta`` demands that much improvement.
    """
    best_loss, best, wait = (val_losses[0], 0, 0) if first_as_best else (float("inf"), -1, 0)
    stop = len(val_losses) - 1
    for epoch, loss in enumerate(val_losses):
        if loss < best_loss - min_delta or (ties_improve and loss == best_loss):
            best_loss, best = loss, epoch
            if reset:
                wait = 0
        else:
            wait += 1
        if wait >= patience + late:
            stop = epoch
            break
    if peek:
        best = int(np.argmin(val_losses))
    return stop, (best if restore else stop)


EARLY_STOP_EPOCH = Exercise(
    id="08.early_stop_epoch",
    kind="function",
    title=(
        "early_stop_epoch(val_losses, patience) -> (stop_epoch, best_epoch): where early stopping with "
        "patience stops, and which epoch's parameters restore-best keeps"
    ),
    reference=early_stop_epoch,
    make_cases=_early_stop_cases,
    hints=(
        "Walk through the losses once, keeping the best loss so far, its epoch, and a counter of epochs in a "
        "row without improvement. Improvement means strictly lower than the best so far.",
        "On an improvement, remember the loss and the epoch and reset the counter to 0; otherwise add 1. "
        "Stop (return) as soon as the counter reaches patience. If the loop ends, the stop epoch is the last.",
        "best, best_epoch, wait = inf, -1, 0; for e, loss in enumerate(val_losses): if loss < best: "
        "best, best_epoch, wait = loss, e, 0 else: wait += 1; if wait >= patience: return e, best_epoch. "
        "After the loop: return len(val_losses) - 1, best_epoch",
    ),
    solution=(
        "def early_stop_epoch(val_losses, patience):\n"
        "    best, best_epoch, wait = float('inf'), -1, 0\n"
        "    for epoch, loss in enumerate(val_losses):\n"
        "        if loss < best:\n"
        "            best, best_epoch, wait = loss, epoch, 0\n"
        "        else:\n"
        "            wait += 1\n"
        "        if wait >= patience:\n"
        "            return epoch, best_epoch\n"
        "    return len(val_losses) - 1, best_epoch\n"
    ),
    mistakes=(
        Mistake(
            "one_epoch_late",
            "You stop one epoch late: the counter must reach patience (wait >= patience), not exceed it. With "
            "patience 3 training stops at the 3rd epoch in a row without improvement.",
            lambda losses, patience: _early_stopping_variant(losses, patience, late=1),
        ),
        Mistake(
            "counter_not_reset",
            "The counter is never reset: you count *all* epochs without improvement, so an early bump uses up "
            "the patience. Patience counts epochs without improvement *in a row*: set it back to 0 whenever the "
            "loss improves.",
            lambda losses, patience: _early_stopping_variant(losses, patience, reset=False),
        ),
        Mistake(
            "tie_improves",
            "A tie counts as an improvement in your code (<= instead of <): a loss equal to the best so far "
            "resets the patience and moves the best epoch later. Improvement must be strict (loss < best).",
            lambda losses, patience: _early_stopping_variant(losses, patience, ties_improve=True),
        ),
        Mistake(
            "no_restore",
            "The second number is the stop epoch itself: that is what you get without restore-best. Restore-best "
            "keeps the parameters of the epoch with the lowest validation loss seen up to the stop.",
            lambda losses, patience: _early_stopping_variant(losses, patience, restore=False),
        ),
        Mistake(
            "peeks_at_the_future",
            "Your best epoch is the minimum of the *whole* list, including epochs after training stopped. "
            "Early stopping never sees those: the best epoch is the lowest loss among epochs 0..stop_epoch.",
            lambda losses, patience: _early_stopping_variant(losses, patience, peek=True),
        ),
        # The mirror of one_epoch_late: the hints say stop as soon as the counter *reaches* patience.
        Mistake(
            "one_epoch_early",
            "You stop one epoch early (wait >= patience − 1, or > patience − 2): the counter must reach patience. "
            "With patience 3, training stops at the 3rd epoch in a row without improvement, not the 2nd.",
            lambda losses, patience: _early_stopping_variant(losses, patience, late=-1),
        ),
        # The case "the first epoch is already the best" is there for this start (see _first_epoch_best).
        Mistake(
            "first_epoch_counted_as_failure",
            "Starting from best = val_losses[0] makes epoch 0 compare with itself: it is not strictly lower, so it "
            "counts as an epoch without improvement and the patience runs out one epoch early. Start from "
            "best = inf (or count the first epoch as an improvement).",
            lambda losses, patience: _early_stopping_variant(losses, patience, first_as_best=True),
        ),
        # The case "a new best lower by a hair" is there for this habit (see _tiny_improvement).
        Mistake(
            "improvement_threshold",
            "A loss lower than the best by a few millionths is an improvement here: your code demands a margin "
            "(a min_delta, as in Keras, or np.isclose calling near-equal losses a tie), so the patience runs out "
            "too early. The exercise counts any strictly lower loss (loss < best).",
            lambda losses, patience: _early_stopping_variant(losses, patience, min_delta=1e-4),
        ),
    ),
)


# --- 08.choose_alpha ----------------------------------------------------------------------------

ALPHA_GRID = tuple(np.logspace(-8, 2, 51).tolist())
"""The reference's candidates for α: 5 per decade from 1e-8 to 100 (also the grid the planted mistakes scan)."""

_TEST_ALPHAS = np.concatenate([[0.0], np.logspace(-10, 3, 131)])
"""Where the judge looks for the best test error any α achieves (α = 0 included: plain least squares)."""

_TEST_SLACK = 1.25
"""The requirement: the test MSE with the learner's α is at most this many times the best over every α."""


def choose_alpha(Z_train: Any, y_train: Any, Z_val: Any, y_val: Any) -> float:
    r"""Reference for ``08.choose_alpha``: scan α on a log grid, fit ridge on the training set, keep the best α.

    For each α the fit minimises :math:`\frac{1}{2n}\lVert Zw + b - y\rVert^2 + \frac{\alpha}{2}\lVert w\rVert^2`
    on the training set: the features are centred, so :math:`b = \bar y` and
    :math:`(Z^\top Z/n + \alpha I)\,w = Z^\top(y - \bar y)/n`; the α kept is the one whose fit has the lowest
    validation MSE :math:`\frac{1}{m}\lVert Z_{val}w + b - y_{val}\rVert^2`.

    Parameters
    ----------
    Z_train : array of shape (n, d)
        The standardised features of the training set.
    y_train : array of shape (n,)
        Its targets.
    Z_val : array of shape (m, d)
        The features of the validation set, standardised like the training set's.
    y_val : array of shape (m,)
        Its targets.

    Returns
    -------
    float
        The ridge strength :math:`\alpha` (one of :data:`ALPHA_GRID`, 1e-8 to 100).
    """
    xp = array_namespace(Z_train)
    n, d = Z_train.shape
    b = xp.mean(y_train)
    gram, moment = Z_train.T @ Z_train / n, Z_train.T @ (y_train - b) / n
    best_alpha, best_mse = ALPHA_GRID[0], float("inf")
    for alpha in ALPHA_GRID:
        w = xp.linalg.solve(gram + alpha * xp.eye(d, dtype=gram.dtype, device=device(gram)), moment)
        val_mse = float(xp.mean((Z_val @ w + b - y_val) ** 2))
        if val_mse < best_mse:
            best_alpha, best_mse = alpha, val_mse
    return best_alpha


def _ridge_path(Z: np.ndarray, y: np.ndarray, alphas: Any) -> tuple[np.ndarray, float]:
    r"""Ridge fits for every α of ``alphas`` at once in NumPy: ``(W, b)`` with one column of ``W`` per α.

    With the SVD :math:`Z/\sqrt n = USV^\top`, the minimiser of
    :math:`\frac{1}{2n}\lVert Zw + b - y\rVert^2 + \frac{\alpha}{2}\lVert w\rVert^2` (centred features) is
    :math:`b = \bar y`, :math:`w = V\,\mathrm{diag}\big(s_k/(s_k^2 + \alpha)\big)\,U^\top(y - \bar y)/\sqrt n`:
    stable for a tiny or a huge α, and for α = 0 the least-squares fit of least norm (singular values below
    the rounding level count as 0, as in ``np.linalg.lstsq``).
    """
    n = Z.shape[0]
    b = float(np.mean(y))
    u, s, vt = np.linalg.svd(Z / math.sqrt(n), full_matrices=False)
    s = np.where(s > s[0] * max(Z.shape) * np.finfo(float).eps, s, 0.0)
    alphas = np.asarray(alphas, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        gain = np.where(s[:, None] > 0, s[:, None] / (s[:, None] ** 2 + alphas[None, :]), 0.0)
    return vt.T @ (gain * (u.T @ (y - b))[:, None] / math.sqrt(n)), b


def _curves(Z_train: Any, y_train: Any, Z_val: Any, y_val: Any) -> tuple[np.ndarray, np.ndarray]:
    """Training and validation MSE of the ridge fit at every α of :data:`ALPHA_GRID` (host NumPy)."""
    zt, yt, zv, yv = (np.asarray(to_numpy(a), dtype=np.float64) for a in (Z_train, y_train, Z_val, y_val))
    w, b = _ridge_path(zt, yt, ALPHA_GRID)
    train = np.mean((zt @ w + b - yt[:, None]) ** 2, axis=0)
    val = np.mean((zv @ w + b - yv[:, None]) ** 2, axis=0)
    return train, val


@dataclass(frozen=True, eq=False)
class _AlphaKey:
    """What the judge knows about a case of ``08.choose_alpha``: a test set from the same source.

    ``Z_test`` are the features of 400 test inputs (standardised with the training statistics) and ``f_test``
    the true function there, without noise; ``noise_var`` is σ².  The test MSE of a fit, averaged over the
    noise of the test labels, is ``noise_var + mean((Z_test w + b − f_test)²)``.  ``best_mse`` is the lowest
    test MSE any α achieves and ``best_alpha`` where.
    """

    Z_test: np.ndarray
    f_test: np.ndarray
    noise_var: float
    best_mse: float
    best_alpha: float


def _cubic(x: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """The polynomial with coefficients ``coef`` (lowest degree first), ``08.choose_alpha``'s first kind of truth."""
    return np.asarray(np.polynomial.polynomial.polyval(x, coef))


def _sine(x: np.ndarray, omega: float, phase: float) -> np.ndarray:
    """sin(ωx + φ), the smooth truth of ``08.choose_alpha``'s second kind of case."""
    return np.sin(omega * x + phase)


def _test_mse(Z_train: np.ndarray, y_train: np.ndarray, key: _AlphaKey, alphas: Any) -> np.ndarray:
    """The test MSE, averaged over the test noise, of the ridge fit at each α of ``alphas``."""
    w, b = _ridge_path(Z_train, y_train, np.atleast_1d(alphas))
    return key.noise_var + np.mean((key.Z_test @ w + b - key.f_test[:, None]) ** 2, axis=0)


def _choose_alpha_case(
    rng: np.random.Generator, n: int, degree: int, noise: float, truth: str, label: str, convention_case: bool = False
) -> Case:
    r"""Draw data sets until they make a case with clear margins (a few draws at most).

    The training inputs are spread evenly (one in each n-th of [−1, 1], as in notebook 08 §6, so that no edge
    is left empty), the 200 validation inputs are uniform, the 400 test inputs evenly spaced.  A draw is kept
    when the validation set is representative (the reference's α has a test MSE within 10% of the best), when
    the problem needs a penalty (α = 1e-8, the smallest candidate, and α = 100, the largest, both at least
    double the best test MSE) and when the reference's α is below 1 (so its logarithm is negative).
    ``convention_case`` also asks for α × n, scikit-learn's scale for our α, to miss the target clearly.
    """
    for _ in range(100):
        if truth == "cubic":  # notebook 08's cubic 0.5 − x − x² + 2x³, each coefficient perturbed
            coef = np.array([0.5, -1.0, -1.0, 2.0]) * rng.uniform(0.7, 1.3, size=4) * rng.choice([-1.0, 1.0])

            f: Callable[[np.ndarray], np.ndarray] = functools.partial(_cubic, coef=coef)
        else:
            omega, phase = rng.uniform(2.0, 3.5), rng.uniform(0.0, 2 * np.pi)
            f = functools.partial(_sine, omega=omega, phase=phase)

        x_train = -1 + 2 * (np.arange(n) + rng.uniform(size=n)) / n
        x_val, x_test = rng.uniform(-1.0, 1.0, size=200), np.linspace(-1.0, 1.0, 400)
        y_train = f(x_train) + noise * rng.normal(size=n)
        y_val = f(x_val) + noise * rng.normal(size=x_val.size)
        powers = np.arange(1, degree + 1)
        raw = [x[:, None] ** powers for x in (x_train, x_val, x_test)]
        mean, std = raw[0].mean(axis=0), raw[0].std(axis=0)
        z_train, z_val, z_test = ((p - mean) / std for p in raw)
        probe = _AlphaKey(z_test, f(x_test), noise**2, math.nan, math.nan)
        tests = _test_mse(z_train, y_train, probe, _TEST_ALPHAS)
        key = _AlphaKey(z_test, f(x_test), noise**2, float(tests.min()), float(_TEST_ALPHAS[np.argmin(tests)]))
        val = _curves(z_train, y_train, z_val, y_val)[1]
        chosen = ALPHA_GRID[int(np.argmin(val))]
        coarse = ALPHA_GRID[5 * int(np.argmin(val[::5]))]  # a scan with one α per decade
        candidates = [chosen, ALPHA_GRID[0], ALPHA_GRID[-1], n * chosen, coarse]
        ratio = _test_mse(z_train, y_train, key, candidates) / key.best_mse
        if not (ratio[0] <= 1.1 and ratio[4] <= 1.2 and chosen < 1 and ratio[1] >= 2 and ratio[2] >= 2):
            continue
        if convention_case and ratio[3] < 1.6:
            continue
        return Case((asarray(z_train), asarray(y_train), asarray(z_val), asarray(y_val)), label=label, key=key)
    raise RuntimeError("no data set with clear margins in 100 draws")  # never seen: a third of the draws or more pass


def _choose_alpha_cases(rng: np.random.Generator) -> list[Case]:
    return [
        _choose_alpha_case(
            rng,
            int(rng.integers(18, 23)),
            12,
            0.2,
            "cubic",
            "a noisy cubic, about 20 training points, degree-12 features",
        ),
        _choose_alpha_case(rng, int(rng.integers(18, 23)), 12, 0.25, "sin", "a sine wave, more noise"),
        _choose_alpha_case(
            rng, int(rng.integers(15, 19)), 12, 0.2, "sin", "a sine wave, fewer training points", convention_case=True
        ),
    ]


def _describe(value: Any) -> str:
    """What ``value`` is, for a message: its type, and its shape when it is an array."""
    shape = getattr(value, "shape", None)
    if hasattr(value, "dtype") and shape is not None:
        return f"an array of shape {tuple(shape)}"
    return type(value).__name__


def _choose_alpha_requirement(case: Case, value: Any) -> str | None:
    """``None`` when ridge with α = ``value``, fitted on the training set, has a test MSE within 25% of the best."""
    alpha = real_scalar(value)
    if alpha is None:
        return f"expected α as one number (a float), got {_describe(value)}"
    if math.isnan(alpha) or math.isinf(alpha):
        return f"expected a finite α ≥ 0, got {alpha}"
    if alpha < 0:
        return (
            f"α = {alpha:.3g} is negative: the penalty (α/2)‖w‖² needs α ≥ 0 (if {alpha:.3g} is log₁₀ α, "
            f"return 10 ** {alpha:.3g} instead)"
        )
    key: _AlphaKey = case.key
    z_train, y_train = (np.asarray(to_numpy(a), dtype=np.float64) for a in case.args[:2])
    mse = float(_test_mse(z_train, y_train, key, alpha)[0])
    if mse <= _TEST_SLACK * key.best_mse:
        return None
    if alpha < key.best_alpha:
        why = "α is too small: the fit still follows the noise of the training points"
    else:
        why = "α is too large: the penalty flattens the fit, which misses the trend"
        n = z_train.shape[0]
        if float(_test_mse(z_train, y_train, key, alpha / n)[0]) <= _TEST_SLACK * key.best_mse:
            why += (
                f" (if it is scikit-learn's alpha: its Ridge minimises ‖Zw + b − y‖² + α‖w‖², so its alpha is "
                f"n = {n} times the course's α; divide by n)"
            )
    return (
        f"with α = {alpha:.3g} the test MSE is {mse:.3g}, more than 25% above the best any α achieves "
        f"({key.best_mse:.3g}): {why}. Keep the α whose fit has the lowest *validation* MSE, among values "
        "spread over several decades"
    )


def _by_training_error(Z_train: Any, y_train: Any, Z_val: Any, y_val: Any) -> float:
    return ALPHA_GRID[int(np.argmin(_curves(Z_train, y_train, Z_val, y_val)[0]))]


def _index(Z_train: Any, y_train: Any, Z_val: Any, y_val: Any) -> float:
    return float(np.argmin(_curves(Z_train, y_train, Z_val, y_val)[1]))


def _exponent(Z_train: Any, y_train: Any, Z_val: Any, y_val: Any) -> float:
    return math.log10(choose_alpha(Z_train, y_train, Z_val, y_val))


def _sklearn_scale(Z_train: Any, y_train: Any, Z_val: Any, y_val: Any) -> float:
    return Z_train.shape[0] * choose_alpha(Z_train, y_train, Z_val, y_val)


CHOOSE_ALPHA = Exercise(
    id="08.choose_alpha",
    kind="function",
    title=(
        "choose_alpha(Z_train, y_train, Z_val, y_val): choose the ridge strength α by experiment, so that the fit "
        "on the training set does well on new data"
    ),
    reference=choose_alpha,
    make_cases=_choose_alpha_cases,
    requirement=_choose_alpha_requirement,
    hints=(
        "Run the experiment of §2 for many α: fit ridge on the *training* set, then measure the MSE on the "
        "*validation* set. The training MSE always prefers the smallest α; only data the fit has not seen can "
        "tell a good α from one that overfits.",
        "α spans many decades: try np.logspace(-8, 2, 51). For each, b = mean(y_train) and w solves "
        "(Z_trainᵀZ_train/n + αI) w = Z_trainᵀ(y_train − b)/n (the notebook's ridge); keep the α with the lowest "
        "mean((Z_val @ w + b − y_val)²).",
        "best = None; for alpha in np.logspace(-8, 2, 51).tolist(): w = ridge(Z_train, y_train, alpha); "
        "val = mse(Z_val, w, xp.mean(y_train), y_val); keep alpha when val is the lowest so far. Return that alpha "
        "(the number α itself, not its logarithm or its position in the grid).",
    ),
    solution=(
        "import numpy as np\n\n" + XP_PREAMBLE + "def choose_alpha(Z_train, y_train, Z_val, y_val):\n"
        "    n, d = Z_train.shape\n"
        "    b = xp.mean(y_train)  # the features are centred: the intercept is the mean of y\n"
        "    best_alpha, best_val = None, float('inf')\n"
        "    for alpha in np.logspace(-8, 2, 51).tolist():  # several decades, as Python floats\n"
        "        w = xp.linalg.solve(Z_train.T @ Z_train / n + alpha * xp.eye(d), Z_train.T @ (y_train - b) / n)\n"
        "        val = float(xp.mean((Z_val @ w + b - y_val) ** 2))  # judged on data the fit has not seen\n"
        "        if val < best_val:\n"
        "            best_alpha, best_val = alpha, val\n"
        "    return best_alpha\n"
    ),
    mistakes=(
        Mistake(
            "by_training_error",
            "You kept the α with the lowest *training* MSE: that is always the smallest α you tried, because a "
            "penalty can only make the fit to the training points worse. That fit follows their noise and does "
            "badly on new data. Judge each α on the validation set, which the fit has not seen.",
            _by_training_error,
        ),
        Mistake(
            "grid_index",
            "You returned the position of the best α in your grid (the argmin), not α itself: index 30 of "
            "np.logspace(-8, 2, 51) is α = 0.01, not 30. Return alphas[i].",
            _index,
        ),
        Mistake(
            "log10",
            "You returned log₁₀ α, a negative number, not α: a penalty (α/2)‖w‖² needs α ≥ 0. If you scanned "
            "exponents, return 10 ** exponent.",
            _exponent,
        ),
        Mistake(
            "sklearn_scale",
            "Your α is n times too large: scikit-learn's Ridge minimises ‖Zw + b − y‖² + α‖w‖², without the 1/(2n) "
            "and the ½ of the course's (1/2n)‖Zw + b − y‖² + (α/2)‖w‖², so its alpha is n × ours. Divide by n "
            "(len(y_train)), or fit with the course's formula.",
            _sklearn_scale,
        ),
    ),
)

EXERCISES: tuple[Exercise, ...] = (SOFT_THRESHOLD, L2_GRAD_STEP, EARLY_STOP_EPOCH, CHOOSE_ALPHA)
