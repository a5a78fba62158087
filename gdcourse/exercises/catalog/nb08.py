r"""Exercises of notebook 08 (regularisation).

Conventions decided here:

- ``soft_threshold(v, t)`` is :math:`S_t(v) = \operatorname{sign}(v)\max(|v| - t, 0)` elementwise, for an
  array ``v`` of any shape and a threshold ``t > 0`` (a Python float); the reference is
  :func:`gdcourse.regularization.soft_threshold`.
- ``l2_grad_step(w, grad, lr, alpha)`` is one gradient step on :math:`L(w) + \frac{\alpha}{2}\lVert w\rVert^2`
  (the course's L2 convention, :func:`gdcourse.regularization.l2`): :math:`w - \eta(\nabla L + \alpha w)`.
  The "weight decay" form :math:`(1 - \eta\alpha)w - \eta\nabla L` is the same number and passes.
- ``early_stop_epoch(val_losses, patience)`` returns ``(stop_epoch, best_epoch)``.  ``val_losses[e]`` is
  the validation loss after epoch ``e`` (``e = 0, 1, ...``).  An epoch *improves* when its loss is
  strictly lower than every earlier one (a tie is not an improvement).  Training stops at the first
  epoch ``e`` such that the ``patience`` epochs ending at ``e`` all failed to improve; if that never
  happens it runs to the last epoch, ``len(val_losses) - 1``.  ``best_epoch`` is the epoch whose
  parameters restore-best keeps: the lowest loss among epochs ``0..stop_epoch`` (the earliest, on a
  tie).  This is :class:`gdcourse.regularization.EarlyStopping` with ``min_delta=0``, which is the
  reference.  Both are Python ints (any integer type passes).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gdcourse.backend import array_namespace, asarray
from gdcourse.exercises.catalog import XP_PREAMBLE
from gdcourse.exercises.core import Case, Exercise, Mistake
from gdcourse.regularization import EarlyStopping
from gdcourse.regularization import soft_threshold as _soft_threshold

__all__ = ["EXERCISES", "early_stop_epoch", "l2_grad_step", "soft_threshold"]


# --- 08.soft_threshold --------------------------------------------------------------------------


def soft_threshold(v: Any, t: float) -> Any:
    r"""Reference for ``08.soft_threshold``: :math:`S_t(v) = \operatorname{sign}(v)\max(|v| - t, 0)`."""
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
    return Case((asarray(values[rng.permutation(values.size)], dtype="float32"), t),
                label="float32 entries, some exactly zero")


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
    solution=(
        XP_PREAMBLE
        + "def soft_threshold(v, t):\n"
        "    return xp.sign(v) * xp.maximum(xp.abs(v) - t, 0.0)\n"
    ),
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
    r"""Reference for ``08.l2_grad_step``: :math:`w - \eta(\nabla L(w) + \alpha w)`."""
    return w - lr * (grad + alpha * w)


def _weight_decay_form(w: Any, grad: Any, lr: float, alpha: float) -> Any:
    """The same step written as decay then gradient: (1 − ηα)w − η∇L."""
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
    title="l2_grad_step(w, grad, lr, alpha): one GD step on L(w) + (α/2)‖w‖², where grad = ∇L(w)",
    reference=l2_grad_step,
    make_cases=_l2_cases,
    alternatives=(_weight_decay_form,),
    hints=(
        "The cost is L(w) + (α/2)‖w‖². Its gradient is ∇L(w) plus the gradient of the penalty.",
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
            "You used (α/2)w: the ½ in (α/2)‖w‖² cancels against the 2 from differentiating w², so the "
            "gradient is αw.",
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
    """Reference for ``08.early_stop_epoch``: :class:`~gdcourse.regularization.EarlyStopping`, epoch by epoch."""
    stopper = EarlyStopping(patience=patience)
    for epoch, loss in enumerate(val_losses):
        if stopper.update(float(loss)):
            return epoch, stopper.best_epoch
    return len(val_losses) - 1, stopper.best_epoch


def _curve(rng: np.random.Generator, patience: int, *, bump: bool, tie: bool, late_dip: bool,
           stops: bool) -> list[float]:
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
        Case((_curve(rng, p1, bump=True, tie=False, late_dip=True, stops=True), p1),
             label="a short bump, then the minimum, a rise, and a late dip"),
        Case((_curve(rng, p2, bump=False, tie=True, late_dip=False, stops=True), p2),
             label="the best loss comes back once (a tie)"),
        Case((_curve(rng, p3, bump=True, tie=True, late_dip=True, stops=True), p3),
             label="a bump, a tie and a late dip"),
        Case((_curve(rng, p4, bump=False, tie=False, late_dip=False, stops=False), p4),
             label="improves often enough never to stop"),
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


def _early_stopping_variant(val_losses: list[float], patience: int, *, late: int = 0, reset: bool = True,
                            ties_improve: bool = False, restore: bool = True, peek: bool = False,
                            first_as_best: bool = False, min_delta: float = 0.0) -> tuple[int, int]:
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

EXERCISES: tuple[Exercise, ...] = (SOFT_THRESHOLD, L2_GRAD_STEP, EARLY_STOP_EPOCH)
