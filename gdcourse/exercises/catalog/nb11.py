r"""Exercises of notebook 11 (practice: monitoring, diagnosing runs, mixed precision).

Conventions decided here:

- ``grad_norm(grads)`` takes a list of gradient arrays (any shapes, any backend) and returns the global
  L2 norm :math:`(\sum_l \lVert g_l\rVert_2^2)^{1/2}` as a number or a 0-d array (both pass; relative
  tolerance 1e-6).  Reference: :func:`gdcourse.monitoring.global_grad_norm`.
- ``dead_relu`` and ``nan_fix`` are about the four recorded runs A–D that notebook 11 plots: A is a
  learning rate far too small (plateau), B a step so large it killed the ReLUs, C a hand-written log
  loss that hits ``log(0)`` (NaN), D a learning rate too large (divergence).  The notebook records the
  runs in that order.
- ``loss_scale_step(scale, good_steps, finite, growth_interval)`` returns the tuple
  ``(new_scale, new_good_steps, apply_step)`` of dynamic loss scaling with growth factor 2 and backoff
  factor 0.5 (``torch.amp.GradScaler``'s rule).  Reference: :func:`gdcourse.precision.loss_scale_step`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gdcourse.backend import array_namespace, asarray
from gdcourse.exercises.core import Case, Exercise, Mistake
from gdcourse.monitoring import global_grad_norm
from gdcourse.precision import loss_scale_step as _loss_scale_step

__all__ = ["EXERCISES", "grad_norm", "loss_scale_step"]


# --- 11.grad_norm -------------------------------------------------------------------------------


def grad_norm(grads: list[Any]) -> Any:
    r"""Reference for ``11.grad_norm``: :math:`\lVert g\rVert_2 = (\sum_l \lVert g_l\rVert_2^2)^{1/2}`."""
    return global_grad_norm(list(grads))


def _grad_norm_cases(rng: np.random.Generator) -> list[Case]:
    def arrays(*shapes: tuple[int, ...], scale: float = 1.0) -> list[Any]:
        return [asarray(scale * rng.normal(size=shape)) for shape in shapes]

    return [
        Case((arrays((3, 4), (4,), (2, 3), (2,)),), label="an MLP's weights and biases (four arrays)"),
        Case((arrays((5, 2), (2,), scale=0.01),), label="a matrix and a vector of small gradients"),
        Case((arrays((6,)),), label="a single gradient vector"),
        Case((arrays((2, 2), (3,), (1,), scale=3.0),), label="three arrays of different sizes"),
        # a norm scaled by the largest entry (max·‖g/max‖) divides 0 by 0 here
        Case(([asarray(np.zeros(shape), dtype="float32") for shape in ((3, 2), (2,))],),
             label="float32 gradients that are all exactly zero"),
    ]


def _sum_of_norms(grads: list[Any]) -> Any:
    xp = array_namespace(*grads)
    return sum(xp.linalg.vector_norm(g) for g in grads)


def _first_only(grads: list[Any]) -> Any:
    return array_namespace(grads[0]).linalg.vector_norm(grads[0])


def _squared(grads: list[Any]) -> Any:
    xp = array_namespace(*grads)
    return sum(xp.sum(g * g) for g in grads)


def _mean_of_norms(grads: list[Any]) -> Any:
    xp = array_namespace(*grads)
    return sum(xp.linalg.vector_norm(g) for g in grads) / len(grads)


def _max_abs(grads: list[Any]) -> Any:
    xp = array_namespace(*grads)
    return xp.max(xp.stack([xp.max(xp.abs(g)) for g in grads]))


def _l1(grads: list[Any]) -> Any:
    xp = array_namespace(*grads)
    return sum(xp.sum(xp.abs(g)) for g in grads)


def _rms(grads: list[Any]) -> Any:
    xp = array_namespace(*grads)
    return xp.sqrt(sum(xp.sum(g * g) for g in grads) / sum(g.size for g in grads))


GRAD_NORM = Exercise(
    id="11.grad_norm",
    kind="function",
    title="grad_norm(grads): the global L2 norm of a list of gradient arrays, sqrt(Σ_l ‖g_l‖²)",
    reference=grad_norm,
    make_cases=_grad_norm_cases,
    hints=(
        "Think of every entry of every array as one long vector g; the norm is the square root of the sum of "
        "the squares of all its entries.",
        "For each array, sum the squares of its entries (np.sum(g**2)); add these sums over the arrays; take "
        "one square root at the very end.",
        "return np.sqrt(sum(np.sum(g**2) for g in grads))",
    ),
    solution=(
        "import numpy as np\n"
        "\n"
        "\n"
        "def grad_norm(grads):\n"
        "    return np.sqrt(sum(np.sum(g**2) for g in grads))\n"
    ),
    mistakes=(
        Mistake(
            "sum_of_norms",
            "You added the per-array norms, Σ‖g_l‖. That is larger than the norm of the whole vector (the "
            "triangle inequality): square the norms, add, and take one square root at the end.",
            _sum_of_norms,
        ),
        Mistake(
            "first_only",
            "You returned the norm of the first array only. The global norm covers every parameter array: loop "
            "over all of them.",
            _first_only,
        ),
        Mistake(
            "squared",
            "That is the squared norm Σ_l‖g_l‖²: the square root at the end is missing.",
            _squared,
        ),
        Mistake(
            "mean_of_norms",
            "You averaged the per-array norms. The global norm is not an average: it is sqrt(Σ_l ‖g_l‖²), the "
            "length of all gradients stacked into one vector.",
            _mean_of_norms,
        ),
        Mistake(
            "max_abs",
            "You returned the largest |entry| (the ∞-norm). The monitored gradient norm is the L2 norm: the "
            "square root of the sum of all squared entries.",
            _max_abs,
        ),
        Mistake(
            "l1",
            "You added the absolute values (the L1 norm). The L2 norm squares the entries, adds them, and takes "
            "a square root.",
            _l1,
        ),
        Mistake(
            "rms",
            "You divided by the number of entries: that is the root-mean-square entry, not the norm. Leave out "
            "the division.",
            _rms,
        ),
    ),
)


# --- 11.dead_relu -------------------------------------------------------------------------------

DEAD_RELU = Exercise(
    id="11.dead_relu",
    kind="choice",
    title="Which of the recorded runs A–D has dead ReLU units?",
    reference="b",
    choices={"a": "run A", "b": "run B", "c": "run C", "d": "run D"},
    hints=(
        "A dead ReLU outputs 0 for every example, so the gradient through it is 0. What does that do to the "
        "gradient norm of the layers before it?",
        "A run whose learning rate is tiny also has a flat loss, but its gradients are small, not zero. Look "
        "for a gradient that is exactly zero (a log scale cannot draw 0: the figure marks it with ▼).",
        "The run whose loss bumped up for a few steps and then settled flat at the variance of the targets, "
        "with its first-layer gradient exactly 0 from then on: the network predicts one number for every input.",
    ),
    solution=(
        "answer = 'b'\n"
        "# Run B: a few large steps made every unit of the second hidden layer negative on every input. From\n"
        "# then on those units output 0 and pass no gradient back: the weight gradients are exactly 0, and the\n"
        "# loss is flat at the variance of the targets (the network predicts their mean for every input).\n"
    ),
    mistakes=(
        Mistake(
            "plateau",
            "Run A's loss is flat too, but its gradients are small, not zero, and its update/weight ratio is "
            "near 1e-5: the weights move, just far too slowly. That is a learning rate that is too small.",
            "a",
        ),
        Mistake(
            "nan",
            "Run C's loss fell steadily and then became NaN at one step: a numerical problem in the loss "
            "formula, not units that stopped passing gradient.",
            "c",
        ),
        Mistake(
            "divergence",
            "Run D's loss and gradient norm explode within a few steps: the learning rate is too large, and the "
            "run was stopped as diverged. Dead units give exactly zero gradients, not huge ones.",
            "d",
        ),
    ),
)


# --- 11.nan_fix ---------------------------------------------------------------------------------

NAN_FIX = Exercise(
    id="11.nan_fix",
    kind="choice",
    title=(
        "Run C (logistic regression in float32, loss −[y log σ(z) + (1−y) log(1−σ(z))] written by hand) fell "
        "steadily, then gave NaN without growing first. What fixes it?"
    ),
    reference="b",
    choices={
        "a": "a learning rate 10 times smaller",
        "b": "computing the loss from the logit z with a stable formula, e.g. softplus(z) − y·z",
        "c": "training in float16",
        "d": "early stopping with a patience of 5 epochs",
    },
    hints=(
        "The loss was falling: the learning rate was doing its job. What in the formula can produce NaN from "
        "finite numbers?",
        "In float32, σ(z) rounds to exactly 1 once z > 17. What is log(1 − σ(z)) then, and what is 0 × that?",
        "Rewrite the loss in terms of z so that no probability is rounded before the log is taken: "
        "−[y log σ(z) + (1−y) log(1−σ(z))] = softplus(z) − y·z.",
    ),
    solution=(
        "answer = 'b'\n"
        "# σ(z) rounds to exactly 1.0 for z > 17 in float32, so log(1 - σ(z)) = log(0) = -inf, and\n"
        "# (1 - y) * (-inf) = 0 * (-inf) = NaN for an example with y = 1. The stable form\n"
        "# softplus(z) - y*z = log(1 + e^z) - y*z never rounds a probability before the log.\n"
    ),
    mistakes=(
        Mistake(
            "smaller_lr",
            "A smaller learning rate only postpones it: on separable data the logits keep growing, and once "
            "σ(z) rounds to 1 the formula takes log(0). The loss did not grow before the NaN, so the step size "
            "was not the problem.",
            "a",
        ),
        Mistake(
            "float16",
            "float16 makes it worse: σ(z) already rounds to 1 at z ≈ 8.3, so log(1 − σ(z)) = log(0) comes sooner.",
            "c",
        ),
        Mistake(
            "early_stopping",
            "Early stopping waits for the validation loss to stop improving; here the loss improved at every "
            "epoch until the very step that gave NaN, so it would not stop in time, and the formula stays broken.",
            "d",
        ),
    ),
)


# --- 11.loss_scale_step -------------------------------------------------------------------------


def loss_scale_step(scale: float, good_steps: int, finite: bool, growth_interval: int) -> tuple[float, int, bool]:
    """Reference for ``11.loss_scale_step``: growth factor 2, backoff factor 0.5."""
    return _loss_scale_step(scale, good_steps, finite, growth_interval)


def _scale_cases(rng: np.random.Generator) -> list[Case]:
    interval = int(rng.integers(4, 9))
    scales = [2.0 ** int(k) for k in rng.integers(8, 24, size=5)]
    return [
        Case((scales[0], int(rng.integers(1, interval - 1)), False, interval), label="an overflow mid-way"),
        Case((scales[1], int(rng.integers(0, interval - 2)), True, interval), label="a good step, far from growth"),
        Case((scales[2], interval - 1, True, interval), label="the good step that completes the interval"),
        Case((scales[3], interval - 2, True, interval), label="the good step just before that"),
        Case((scales[4], interval - 1, False, interval), label="an overflow when growth was due"),
        # halving with // sends a scale of 1 (or less) to 0 for ever
        Case((2.0 ** -int(rng.integers(0, 4)), int(rng.integers(1, interval - 1)), False, interval),
             label="an overflow with the scale below 2"),
    ]


def _grow_on_overflow(scale: float, good: int, finite: bool, interval: int) -> tuple[float, int, bool]:
    return _loss_scale_step(scale, good, True, interval) if finite else (scale * 2, 0, False)


def _applies_on_overflow(scale: float, good: int, finite: bool, interval: int) -> tuple[float, int, bool]:
    new_scale, new_good, _ = _loss_scale_step(scale, good, finite, interval)
    return new_scale, new_good, True


def _no_reset_on_overflow(scale: float, good: int, finite: bool, interval: int) -> tuple[float, int, bool]:
    return _loss_scale_step(scale, good, True, interval) if finite else (scale / 2, good, False)


def _keeps_scale_on_overflow(scale: float, good: int, finite: bool, interval: int) -> tuple[float, int, bool]:
    return _loss_scale_step(scale, good, True, interval) if finite else (scale, 0, False)


def _no_reset_after_growth(scale: float, good: int, finite: bool, interval: int) -> tuple[float, int, bool]:
    if not finite:
        return scale / 2, 0, False
    good += 1
    return (scale * 2 if good == interval else scale), good, True


def _grows_every_step(scale: float, good: int, finite: bool, interval: int) -> tuple[float, int, bool]:
    return (scale * 2, 0, True) if finite else (scale / 2, 0, False)


def _never_grows(scale: float, good: int, finite: bool, interval: int) -> tuple[float, int, bool]:
    return (scale, good + 1, True) if finite else (scale / 2, 0, False)


def _floor_halving(scale: float, good: int, finite: bool, interval: int) -> tuple[float, int, bool]:
    return _loss_scale_step(scale, good, True, interval) if finite else (scale // 2, 0, False)


def _grows_one_step_early(at_least: bool) -> Callable[[float, int, bool, int], tuple[float, int, bool]]:
    """Counts this step, then compares with growth_interval − 1 (``==``, or ``>=`` with ``at_least``)."""

    def answer(scale: float, good: int, finite: bool, interval: int) -> tuple[float, int, bool]:
        if not finite:
            return scale / 2, 0, False
        good += 1
        due = good >= interval - 1 if at_least else good == interval - 1
        return (scale * 2, 0, True) if due else (scale, good, True)

    return answer


_GROWS_EARLY = (
    "The scale doubles one good step early: after counting this step, good_steps must reach growth_interval "
    "(== growth_interval). Comparing with growth_interval − 1 after counting grows after growth_interval − 1 "
    "good steps."
)

LOSS_SCALE_STEP = Exercise(
    id="11.loss_scale_step",
    kind="function",
    title=(
        "loss_scale_step(scale, good_steps, finite, growth_interval) -> (scale, good_steps, apply_step): "
        "dynamic loss scaling, factors 2 and ½"
    ),
    reference=loss_scale_step,
    make_cases=_scale_cases,
    hints=(
        "Two situations: the scaled gradients overflowed (finite is False), or they did not.",
        "On overflow: skip the step (apply_step = False), halve the scale, and start counting good steps from 0 "
        "again. Otherwise: apply the step and count one more good step.",
        "When the count of good steps reaches growth_interval, double the scale and reset the count to 0.",
    ),
    solution=(
        "def loss_scale_step(scale, good_steps, finite, growth_interval):\n"
        "    if not finite:\n"
        "        return scale / 2, 0, False\n"
        "    good_steps += 1\n"
        "    if good_steps == growth_interval:\n"
        "        return scale * 2, 0, True\n"
        "    return scale, good_steps, True\n"
    ),
    mistakes=(
        Mistake(
            "grow_on_overflow",
            "On overflow you doubled the scale. Overflow means the scaled gradients were too large for float16: "
            "the scale must shrink (halve), or the next step overflows again.",
            _grow_on_overflow,
        ),
        Mistake(
            "applies_on_overflow",
            "You apply the step even when the gradients overflowed. They hold inf or NaN: one such update puts "
            "inf/NaN into every weight. Skip the step (apply_step = False).",
            _applies_on_overflow,
        ),
        Mistake(
            "no_reset_on_overflow",
            "After an overflow the count of good steps must start again from 0; you kept the old count, so the "
            "scale would grow again too soon after the overflow.",
            _no_reset_on_overflow,
        ),
        Mistake(
            "keeps_scale_on_overflow",
            "You skip the step on overflow but keep the scale: the next step overflows the same way, forever. "
            "Halve the scale.",
            _keeps_scale_on_overflow,
        ),
        Mistake(
            "no_reset_after_growth",
            "After doubling the scale, reset the count of good steps to 0: the next growth needs another "
            "growth_interval good steps at the new scale.",
            _no_reset_after_growth,
        ),
        Mistake(
            "grows_every_step",
            "You double the scale after every good step. It should grow only after growth_interval good steps "
            "in a row, or it overflows again almost at once.",
            _grows_every_step,
        ),
        Mistake(
            "never_grows",
            "The scale does not double at the step where good_steps reaches growth_interval (count this step "
            "first, then compare with ==; a > grows one step too late, which from a valid state is never). "
            "Without growth, a scale halved early stays small for the whole run and the small gradients "
            "underflow again.",
            _never_grows,
        ),
        # The case "an overflow with the scale below 2" is there for this one (see _scale_cases).
        Mistake(
            "floor_halving",
            "Floor division halves a scale of 2 or more correctly, but sends a scale of 1 (or any scale below 2) "
            "to 0, and 0 doubles to 0 for ever: every gradient is then multiplied by 0. Halve with scale / 2.",
            _floor_halving,
        ),
        # The mirror of never_grows's off-by-one, caught by the case "the good step just before that".
        Mistake(
            "grows_one_step_early",
            _GROWS_EARLY,
            _grows_one_step_early(at_least=False),
        ),
        Mistake(  # the same off-by-one written with >=: the same diagnosis
            "grows_one_step_early_at_least",
            _GROWS_EARLY,
            _grows_one_step_early(at_least=True),
        ),
    ),
)

EXERCISES: tuple[Exercise, ...] = (GRAD_NORM, DEAD_RELU, NAN_FIX, LOSS_SCALE_STEP)
