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
- ``spot_the_bug(history)`` is an experiment on recorded runs.  ``history`` is a dict of lists of Python floats
  (host data, as :class:`gdcourse.train.TrainHistory` records them), one entry per step, for each of
  :data:`HISTORY_FIELDS`; the answer is a key of :data:`FAULTS` as a string (case, spaces and hyphens are
  forgiven), judged against the case's ``key``, the fault that was planted.  Each seed gives **six** cases, one
  run per fault in a shuffled order, more than the usual two to four: a wrong rule for any fault, and every
  planted mistake, must fail on every seed.  The runs are real: small models trained in NumPy (a one-hidden-layer
  ReLU network; a degree-11 polynomial for overfitting; section 5's linear regression with small targets, in
  float16 without loss scaling), each redrawn until its curves show the fault with a clear margin for every rule
  of the reference (:func:`_shows`).  A wrong answer is told what in the history contradicts it.  Calling
  :func:`gdcourse.monitoring.diagnose` does not solve it: it has no rule for float16 underflow (it calls that run
  dead ReLUs).  (It also used to blame the learning rate for the NaN run, taking minibatch noise for growth;
  this exercise's runs are how that was found and fixed in :func:`gdcourse.divergence.grew`.)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from gdcourse.backend import array_namespace, asarray
from gdcourse.exercises.core import Case, Exercise, Mistake
from gdcourse.monitoring import global_grad_norm
from gdcourse.precision import loss_scale_step as _loss_scale_step

__all__ = ["EXERCISES", "FAULTS", "HISTORY_FIELDS", "grad_norm", "loss_scale_step", "spot_the_bug"]


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
    r"""Reference for ``11.loss_scale_step``: growth factor 2, backoff factor 0.5.

    Parameters
    ----------
    scale : float
        The loss scale :math:`S` used for this step.
    good_steps : int
        Steps without overflow since the scale last changed.
    finite : bool
        Whether every scaled gradient of this step was finite.
    growth_interval : int
        Steps without overflow after which :math:`S` doubles.

    Returns
    -------
    (new_scale, new_good_steps, apply_step) : tuple
        On overflow :math:`(S/2, 0, \text{False})`: the step is skipped; after ``growth_interval`` good
        steps :math:`(2S, 0, \text{True})`; otherwise :math:`(S, \text{good\_steps} + 1, \text{True})`.
    """
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

# --- 11.spot_the_bug ----------------------------------------------------------------------------

FAULTS: dict[str, str] = {
    "lr_too_large": "the learning rate is too large",
    "lr_too_small": "the learning rate is too small",
    "dead_relu": "every hidden ReLU unit is dead (the biases started far below 0)",
    "nan_in_data": "one training example holds a NaN",
    "overfitting": "a flexible model fits the noise of a few training points",
    "float16_underflow": "float16 gradients without loss scaling round to 0",
}
"""The faults of ``11.spot_the_bug``: the name the answer returns, and what was planted in the run."""

HISTORY_FIELDS = ("loss", "val_loss", "grad_norm", "first_layer_grad_norm", "update_ratio")
"""The lists of a recorded history, one float per step (see :func:`spot_the_bug`)."""

_STEPS = 100  # steps of every run that does not break
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth")


def spot_the_bug(history: dict[str, list[float]]) -> str:
    r"""Reference for ``11.spot_the_bug``: read a recorded run's curves and name its fault (a key of :data:`FAULTS`).

    ``history`` holds one float per step for each of :data:`HISTORY_FIELDS`: the training loss :math:`J`,
    the validation loss, the global gradient norm :math:`\lVert g\rVert`, the norm of the first layer's
    weight gradient and the update/weight ratio :math:`\lVert\Delta\theta\rVert/\lVert\theta\rVert`.  The
    rules, in this order:

    1. a loss that stops being finite: after growing more than tenfold, the learning rate is too large;
       out of a loss that did not grow, a NaN in the data;
    2. a loss that grew more than tenfold: the learning rate is too large;
    3. every gradient exactly 0 at the end (:math:`\lVert g\rVert = 0`): float16 underflow;
    4. only the first layer's gradient exactly 0: dead ReLUs (the output layer still learns);
    5. a validation loss that ends more than 15 % above its lowest value: overfitting;
    6. what is left, a loss that hardly moves with non-zero gradients: a learning rate that is too small.
    """
    loss = np.asarray(history["loss"], dtype=np.float64)
    broken = ~np.isfinite(loss)
    if broken.any():
        before = loss[: int(np.argmax(broken))]
        return "lr_too_large" if before.size and before.max() > 10 * before[0] else "nan_in_data"
    if loss.max() > 10 * loss[0]:
        return "lr_too_large"
    if history["grad_norm"][-1] == 0:
        return "float16_underflow"
    if history["first_layer_grad_norm"][-1] == 0:
        return "dead_relu"
    val = np.asarray(history["val_loss"], dtype=np.float64)
    if val[-1] > 1.15 * val.min():
        return "overfitting"
    return "lr_too_small"


# The runs: small models trained by hand in NumPy (float32, or float16 passes with float32 weights), recorded
# step by step.  Each fault is planted in a fresh draw; a draw whose curves do not show the fault with a clear
# margin (see _shows) is drawn again, so every run of every seed reads the same way.


def _round16(a: np.ndarray) -> np.ndarray:
    """``a`` rounded to float16 and kept as float32 (float16 storage, float32 arithmetic, as tensor cores do)."""
    return a.astype(np.float16).astype(np.float32)


def _mlp(sizes: list[int], rng: np.random.Generator) -> list[np.ndarray]:
    """``[W1, b1, W2, b2, ...]`` in float32, each entry uniform in ±1/√fan_in (PyTorch's default)."""
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        bound = 1 / np.sqrt(fan_in)
        params += [rng.uniform(-bound, bound, size=(fan_in, fan_out)), rng.uniform(-bound, bound, size=fan_out)]
    return [p.astype(np.float32) for p in params]


def _forward(params: list[np.ndarray], x: np.ndarray, half: bool) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The layers' inputs (and the output, last) and pre-activations; ReLU between layers, none after the last."""
    inputs, pre = [x], []
    for layer in range(len(params) // 2):
        W, b = params[2 * layer], params[2 * layer + 1]
        z = _round16(inputs[-1] @ _round16(W) + _round16(b)) if half else inputs[-1] @ W + b
        pre.append(z)
        inputs.append(np.maximum(z, 0) if layer < len(params) // 2 - 1 else z)
    return inputs, pre


def _loss_and_grads(params: list[np.ndarray], x: np.ndarray, y: np.ndarray, half: bool) -> tuple[float, list]:
    """Mean squared error and its gradient by backpropagation; with ``half``, every gradient is stored in float16."""
    inputs, pre = _forward(params, x, half)
    r = inputs[-1] - y
    loss = float(np.mean(r * r))  # float32, as the run computes it: it overflows to inf like the run would
    delta = 2 * r / r.size  # ∂J/∂ŷ: in float16 this is where small gradients round to 0
    grads: list[np.ndarray] = [np.empty(0)] * len(params)
    for layer in reversed(range(len(params) // 2)):
        grads[2 * layer] = inputs[layer].T @ (_round16(delta) if half else delta)
        grads[2 * layer + 1] = np.sum(_round16(delta) if half else delta, axis=0)
        if layer:
            delta = (delta @ params[2 * layer].T) * (pre[layer - 1] > 0)
    return loss, [_round16(g) if half else g for g in grads]


def _record(
    params: list[np.ndarray],
    batches: list[tuple[np.ndarray, np.ndarray]],
    validation: tuple[np.ndarray, np.ndarray],
    lr: float,
    *,
    adam: bool = False,
    half: bool = False,
) -> dict[str, list[float]]:
    """Train on ``batches`` (one step each), recording :data:`HISTORY_FIELDS` before every update.

    Plain gradient descent, or Adam (β = 0.9, 0.999); the update is made in float32.  The run stops at the
    first step whose loss or gradient is not finite (recorded, with an update/weight ratio of NaN); the ratio
    is NaN too where the weights were all 0 (undefined, as in :func:`gdcourse.monitoring.update_ratios`).
    """
    history: dict[str, list[float]] = {name: [] for name in HISTORY_FIELDS}
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    with np.errstate(all="ignore"):  # the broken runs overflow on purpose
        for t, (x, y) in enumerate(batches, start=1):
            loss, grads = _loss_and_grads(params, x, y, half)
            out = _forward(params, validation[0], half=False)[0][-1]
            squares = [float(np.sum(np.square(g, dtype=np.float64))) for g in grads]
            row = [loss, float(np.mean((out - validation[1]) ** 2)), math.sqrt(sum(squares)), math.sqrt(squares[0])]
            if not (math.isfinite(row[0]) and math.isfinite(row[2])):
                for name, value in zip(HISTORY_FIELDS, [*row, math.nan], strict=True):
                    history[name].append(value)
                break
            if adam:
                m = [0.9 * mi + 0.1 * g for mi, g in zip(m, grads, strict=True)]
                v = [0.999 * vi + 0.001 * g * g for vi, g in zip(v, grads, strict=True)]
                steps = [
                    lr * (mi / (1 - 0.9**t)) / (np.sqrt(vi / (1 - 0.999**t)) + 1e-8)
                    for mi, vi in zip(m, v, strict=True)
                ]
            else:
                steps = [lr * g for g in grads]
            moved = math.sqrt(sum(float(np.sum(np.square(s, dtype=np.float64))) for s in steps))
            size = math.sqrt(sum(float(np.sum(np.square(p, dtype=np.float64))) for p in params))
            params = [(p - s).astype(np.float32) for p, s in zip(params, steps, strict=True)]
            ratio = moved / size if size > 0 else math.nan  # undefined for weights that are all 0
            for name, value in zip(HISTORY_FIELDS, [*row, ratio], strict=True):
                history[name].append(value)
    return history


def _sharpness(params: list[np.ndarray], x: np.ndarray) -> float:
    """Largest curvature of the MSE along the output layer's weights: the top eigenvalue of (2/n) AᵀA, A = [h, 1]."""
    hidden = _forward(params, x, half=False)[0][-2].astype(np.float64)
    design = np.concatenate([hidden, np.ones((x.shape[0], 1))], axis=1)
    return 2 * float(np.linalg.eigvalsh(design.T @ design / x.shape[0])[-1])


def _draw_run(fault: str, rng: np.random.Generator) -> dict[str, list[float]]:
    """One training run with ``fault`` planted (a draw: :func:`_shows` decides whether it is kept)."""
    c = rng.uniform(-1.5, 1.5, size=3)
    c[2] = rng.choice([-1.0, 1.0]) * rng.uniform(1.0, 2.0)  # y = c₀x + c₁x² + c₂x³ + noise, x in [-1, 1]

    def data(n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
        x = rng.uniform(-1, 1, size=(n, 1))
        y = c[0] * x + c[1] * x**2 + c[2] * x**3 + noise * rng.normal(size=(n, 1))
        return x.astype(np.float32), y.astype(np.float32)

    if fault == "float16_underflow":  # section 5's linear regression with small targets: float16, no loss scaling
        n, d, k = 256, 16, 4
        W = rng.normal(size=(d, k))
        X = _round16(rng.normal(size=(n + 200, d)).astype(np.float32))
        Y = (10 ** rng.uniform(-4.6, -4.0) * (X @ W + 0.02 * rng.normal(size=(n + 200, k)))).astype(np.float32)
        params = [np.zeros((d, k), np.float32), np.zeros(k, np.float32)]
        return _record(params, [(X[:n], Y[:n])] * _STEPS, (X[n:], Y[n:]), rng.uniform(0.2, 0.4), half=True)
    if fault == "overfitting":  # a degree-11 polynomial through 12 noisy points, trained with Adam
        degree = 11
        (x, y), (x_val, y_val) = data(12, 0.3), data(100, 0.3)
        features = [np.polynomial.legendre.legvander(a[:, 0], degree)[:, 1:].astype(np.float32) for a in (x, x_val)]
        params = [np.zeros((degree, 1), np.float32), np.zeros(1, np.float32)]
        return _record(params, [(features[0], y)] * _STEPS, (features[1], y_val), rng.uniform(0.04, 0.06), adam=True)
    params = _mlp([1, 32, 1], rng)  # the other runs: a ReLU network with one hidden layer, plain gradient descent
    if fault == "nan_in_data":  # minibatches of 32 read in file order; one record is corrupted
        x, y = data(32 * _STEPS, 0.1)
        lr = rng.uniform(0.3, 0.6) / _sharpness(params, x[:256])
        x[32 * int(rng.integers(_STEPS // 4, 3 * _STEPS // 4)) + int(rng.integers(0, 32)), 0] = np.nan
        batches = [(x[32 * t : 32 * (t + 1)], y[32 * t : 32 * (t + 1)]) for t in range(_STEPS)]
        return _record(params, batches, data(100, 0.1), lr)
    x, y = data(64, 0.1)
    sharpness = _sharpness(params, x)
    if fault == "dead_relu":  # every |w·x| ≤ 1 < -b: each unit is off on every input in [-1, 1]
        params[1] = -rng.uniform(1.1, 2.0, size=params[1].shape).astype(np.float32)
        return _record(params, [(x, y)] * _STEPS, data(100, 0.1), rng.uniform(0.02, 0.05))
    factor = rng.uniform(15, 30) if fault == "lr_too_large" else 10 ** rng.uniform(-4, -3.5)
    return _record(params, [(x, y)] * _STEPS, data(100, 0.1), factor / sharpness)


def _shows(fault: str, history: dict[str, list[float]]) -> bool:
    """Whether ``history`` shows ``fault`` with a clear margin for every rule of :func:`spot_the_bug`."""
    loss, val = np.asarray(history["loss"]), np.asarray(history["val_loss"])
    grad, first = np.asarray(history["grad_norm"]), np.asarray(history["first_layer_grad_norm"])
    end = len(loss) if np.isfinite(loss).all() else int(np.argmax(~np.isfinite(loss)))
    finite = loss[:end]
    if end < 4 or (end < len(loss)) != (fault in ("lr_too_large", "nan_in_data")):
        return False
    growth = float(finite.max() / finite[0])
    if fault == "lr_too_large":
        return growth >= 1e3
    if growth > 3:
        return False
    if fault == "nan_in_data":
        return end >= 20
    rise = float(val[-1] / val.min())
    if fault == "overfitting":
        low = int(np.argmin(val))
        return 3 <= low <= 70 and rise >= 1.3 and loss[-1] <= 0.7 * loss[low] and first[-1] > 0
    if rise > 1.05:
        return False
    if fault == "float16_underflow":
        return loss[-1] <= 0.01 * loss[0] and bool(np.all(grad[-10:] == 0))
    if fault == "dead_relu":  # the output layer's bias still learns: the global gradient is not 0
        return bool(np.all(first == 0)) and grad[-1] >= 1e-6 and loss[-1] >= 0.4 * loss[0]
    ratio = np.asarray(history["update_ratio"])
    return loss[-1] >= 0.97 * loss[0] and bool(np.all(first > 0)) and float(np.median(ratio)) <= 3e-5


def _recorded_run(fault: str, rng: np.random.Generator) -> dict[str, list[float]]:
    """The history of a run with ``fault`` planted, drawn until it shows the fault clearly (:func:`_shows`)."""
    for _ in range(200):
        history = _draw_run(fault, rng)
        if _shows(fault, history):
            return history
    raise RuntimeError(f"no run showed {fault!r} clearly in 200 draws")  # never seen: the draws are tuned


def _spot_cases(rng: np.random.Generator) -> list[Case]:
    """One run of each fault, in a shuffled order; the fault is the case's key."""
    faults = [list(FAULTS)[i] for i in rng.permutation(len(FAULTS))]
    return [
        Case((_recorded_run(fault, rng),), label=f"the {ordinal} recorded run", key=fault)
        for ordinal, fault in zip(_ORDINALS, faults, strict=True)
    ]


def _curves(history: dict[str, list[float]]) -> dict[str, np.ndarray]:
    return {name: np.asarray(history[name], dtype=np.float64) for name in HISTORY_FIELDS}


def _zero_from(values: np.ndarray) -> int | None:
    """The step (from 1) from which ``values`` are exactly 0 to the end, or ``None`` when the last one is not."""
    if values.size == 0 or values[-1] != 0:
        return None
    nonzero = np.flatnonzero(values != 0)
    return int(nonzero[-1]) + 2 if nonzero.size else 1


def _against(claim: str, history: dict[str, list[float]]) -> str:
    """What in ``history`` contradicts the answer ``claim`` (a key of :data:`FAULTS` that is not the run's fault)."""
    c = _curves(history)
    loss = c["loss"]
    end = len(loss) if np.isfinite(loss).all() else int(np.argmax(~np.isfinite(loss)))
    if end == 0:
        return "the loss was not finite at the first step"  # never in a case: every run starts finite
    finite = loss[:end]
    first, last, peak = finite[0], finite[-1], int(np.argmax(finite))
    growth, broke = finite[peak] / first, end < len(loss)
    grew = growth > 10
    broken = f"became {'NaN' if broke and math.isnan(loss[end]) else 'inf'} at step {end + 1}"
    grew_text = (
        f"the training loss grew {growth:.3g}-fold, from {first:.3g} at step 1 to {finite[peak]:.3g} at step {peak + 1}"
    )
    largest = "its first" if peak == 0 else f"{growth:.3g} times its first"
    fell_text = (
        f"the loss went from {first:.3g} at step 1 to {last:.3g} at step {end}, its largest value {largest}, and "
        f"{broken} in one step, without growing first"
    )
    quiet = {
        "lr_too_small": "a learning rate that is too small leaves the loss almost unchanged",
        "dead_relu": "dead units leave the loss flat",
        "overfitting": "overfitting shows in the validation loss while the training loss keeps falling",
        "float16_underflow": "gradients that round to 0 make the loss stall",
    }
    if claim == "lr_too_large":
        if broke and not grew:
            return (
                fell_text
                + ": a learning rate that is too large makes the loss grow, step after step, before it overflows"
            )
        if not grew:
            return (
                f"the training loss never grew: its largest value is {largest} ({finite[peak]:.3g}), and a learning "
                "rate that is too large makes it grow step after step"
            )
    elif claim == "nan_in_data":
        if grew:
            when = " before it " + broken if broke else ""
            return grew_text + when + ": a NaN in the data breaks the loss in one step, without any growth before it"
        if not broke:
            return (
                f"every recorded loss is finite ({len(loss)} steps): a NaN in the training data makes the loss NaN "
                "at the first step that uses it"
            )
    elif grew or broke:
        return (grew_text if grew else fell_text) + f": {quiet[claim]}; it neither makes it grow nor breaks it"
    else:
        grad_zero, first_zero = _zero_from(c["grad_norm"]), _zero_from(c["first_layer_grad_norm"])
        if claim == "lr_too_small":
            if grad_zero is not None:
                return (
                    f"every gradient is exactly 0 from step {grad_zero} on: with a learning rate that is too small the "
                    "gradients stay non-zero and the weights keep creeping"
                )
            if first_zero is not None:
                return (
                    f"the first layer's gradient is exactly 0 from step {first_zero} on: a small learning rate still "
                    "moves weights whose gradient is not zero, but these get no gradient at all"
                )
            if last < 0.95 * first:
                return (
                    f"the training loss fell {first / last:.3g}-fold, from {first:.3g} to {last:.3g}: with a learning "
                    "rate that is too small it would hardly move"
                )
        elif claim == "dead_relu":
            if first_zero is None:
                return (
                    f"the first layer's gradient is not 0 at the end ({c['first_layer_grad_norm'][-1]:.3g}): the "
                    "weights in front of a dead unit get no gradient at all, exactly 0"
                )
            if grad_zero is not None:
                return (
                    f"every gradient, the output layer's too, is exactly 0 from step {grad_zero} on, after the loss "
                    f"fell {first / last:.3g}-fold: dead hidden units leave the output layer's bias a gradient until "
                    "it has fitted the mean of the targets"
                )
        elif claim == "float16_underflow":
            if grad_zero is None:
                return (
                    f"the gradient norm is not 0 at the end ({c['grad_norm'][-1]:.3g}): gradients lost to float16 "
                    "underflow are exactly 0"
                )
        elif claim == "overfitting":
            val = c["val_loss"]
            low = int(np.argmin(val))
            if val[-1] <= 1.15 * val[low]:
                if low == len(val) - 1:
                    ends = f"is lowest at the end ({val[-1]:.3g} at step {len(val)})"
                elif val[-1] <= 1.001 * val[low]:
                    ends = f"stays at its lowest value ({val[low]:.3g}) from step {low + 1} on"
                else:
                    ends = f"ends within {100 * (val[-1] / val[low] - 1):.2g} % of its lowest value ({val[low]:.3g})"
                return (
                    f"the validation loss {ends}: overfitting shows as a validation loss that turns clearly upwards "
                    "while the training loss keeps falling"
                )
    return f"this run's curves do not show {FAULTS[claim]}"  # never reached on the cases: their margins are clear


def _fault_name(value: Any) -> str | None:
    """``value`` as a key of :data:`FAULTS` (case, spaces and hyphens forgiven), or ``None``."""
    if not isinstance(value, str):
        return None
    name = value.strip().lower().replace("-", "_").replace(" ", "_")
    return name if name in FAULTS else None


def _spot_requirement(case: Case, value: Any) -> str | None:
    """``None`` when ``value`` names the fault planted in the case's run, else what contradicts the answer."""
    names = ", ".join(f"'{name}'" for name in FAULTS)
    if not isinstance(value, str):
        return f"expected the name of a fault as a string, one of {names}; got {type(value).__name__}"
    claim = _fault_name(value)
    if claim is None:
        shown = repr(value) if len(value) <= 40 else repr(value[:37] + "...")
        return f"{shown} is not one of the fault names {names}"
    if claim == case.key:
        return None
    return _against(claim, case.args[0])


def _nan_blames_lr(history: dict[str, list[float]]) -> str:
    broken = not np.isfinite(np.asarray(history["loss"], dtype=np.float64)).all()
    return "lr_too_large" if broken else spot_the_bug(history)


def _nan_means_data(history: dict[str, list[float]]) -> str:
    broken = not np.isfinite(np.asarray(history["loss"], dtype=np.float64)).all()
    return "nan_in_data" if broken else spot_the_bug(history)


def _dead_as_small_lr(history: dict[str, list[float]]) -> str:
    answer = spot_the_bug(history)
    return "lr_too_small" if answer == "dead_relu" else answer


def _underflow_as_dead(history: dict[str, list[float]]) -> str:
    answer = spot_the_bug(history)
    return "dead_relu" if answer == "float16_underflow" else answer


def _training_loss_only(history: dict[str, list[float]]) -> str:
    loss = np.asarray(history["loss"], dtype=np.float64)
    if not np.isfinite(loss).all() or loss.max() > 10 * loss[0]:
        return "lr_too_large"
    return "lr_too_small" if loss[-1] > 0.95 * loss[0] else "overfitting"


def _validation_first(history: dict[str, list[float]]) -> str:
    val = np.asarray(history["val_loss"], dtype=np.float64)
    val = val[np.isfinite(val)]
    return "overfitting" if val.size and val[-1] > 1.15 * val.min() else spot_the_bug(history)


SPOT_THE_BUG = Exercise(
    id="11.spot_the_bug",
    kind="function",
    title="spot_the_bug(history): read a recorded training run's curves and name the fault planted in it",
    reference=spot_the_bug,
    make_cases=_spot_cases,
    requirement=_spot_requirement,
    hints=(
        "Read the curves in the order of section 2: did the loss stop being finite, and did it grow before? Then: "
        "are gradients exactly 0 at the end, and which ones? Then: does the validation loss turn upwards? What is "
        "left is a loss that hardly moves while its gradients are not zero.",
        "A loss that grows more than tenfold (then overflows) is a learning rate too large; a NaN out of a loss "
        "that did not grow is the data. grad_norm exactly 0 at the end: every gradient underflowed (float16); only "
        "first_layer_grad_norm exactly 0: dead ReLUs. val_loss ending well above its minimum: overfitting.",
        "loss = np.array(history['loss']); if not np.isfinite(loss).all(): before = loss[:np.argmax(~np.isfinite("
        "loss))]; return 'lr_too_large' if before.max() > 10 * before[0] else 'nan_in_data'. Then loss.max() > "
        "10 * loss[0] → 'lr_too_large'; history['grad_norm'][-1] == 0 → 'float16_underflow'; "
        "history['first_layer_grad_norm'][-1] == 0 → 'dead_relu'; val[-1] > 1.15 * val.min() → 'overfitting'; "
        "else 'lr_too_small'.",
    ),
    solution=(
        "import numpy as np\n"
        "\n"
        "\n"
        "def spot_the_bug(history):\n"
        "    loss = np.array(history['loss'])\n"
        "    broken = ~np.isfinite(loss)\n"
        "    if broken.any():  # did the loss grow before it broke?\n"
        "        before = loss[: np.argmax(broken)]\n"
        "        return 'lr_too_large' if before.max() > 10 * before[0] else 'nan_in_data'\n"
        "    if loss.max() > 10 * loss[0]:\n"
        "        return 'lr_too_large'\n"
        "    if history['grad_norm'][-1] == 0:  # every gradient rounded to 0\n"
        "        return 'float16_underflow'\n"
        "    if history['first_layer_grad_norm'][-1] == 0:  # no gradient passes the hidden units\n"
        "        return 'dead_relu'\n"
        "    val = np.array(history['val_loss'])\n"
        "    if val[-1] > 1.15 * val.min():  # the validation loss turned upwards\n"
        "        return 'overfitting'\n"
        "    return 'lr_too_small'  # a loss that hardly moves, with gradients that are not 0\n"
    ),
    mistakes=(
        Mistake(
            "nan_blames_lr",
            "You blamed the learning rate for every loss that stopped being finite. A step that is too large makes "
            "the loss grow first, over several steps, until it overflows; a loss that was falling and became NaN in "
            "a single step points at the data or a formula (here one training example holds a NaN), and no "
            "learning rate fixes that.",
            _nan_blames_lr,
        ),
        Mistake(
            "nan_means_data",
            "You blamed the data for every loss that stopped being finite. Look at the steps before it broke: a loss "
            "that grew by orders of magnitude and then overflowed is a learning rate that is too large; only a NaN "
            "that comes out of a loss that did not grow points at the data.",
            _nan_means_data,
        ),
        Mistake(
            "dead_as_small_lr",
            "A flat loss is not one diagnosis. With a learning rate that is too small the gradients stay non-zero "
            "and the weights creep; in the run you called that, the first layer's gradient is exactly 0 at every "
            "step: its ReLU units output 0 for every input and pass no gradient back, so no learning rate can "
            "revive them. Those are dead ReLUs.",
            _dead_as_small_lr,
        ),
        Mistake(
            "underflow_as_dead",
            "Exactly-zero gradients have two causes here. Dead ReLUs zero the first layer's gradient while the "
            "output layer still learns; in the float16 run every gradient reaches exactly 0, the output layer's "
            "too, after the loss fell by orders of magnitude: ∂J/∂ŷ became smaller than float16's smallest "
            "number and rounded to 0. That is underflow, which loss scaling fixes.",
            _underflow_as_dead,
        ),
        Mistake(
            "training_loss_only",
            "You read only the training loss. It cannot tell apart runs that look alike there: a NaN after growth "
            "(learning rate) from one out of a falling loss (data), a flat loss with creeping weights from one with "
            "dead units, a loss that stalls because its gradients rounded to 0 from one that overfits. Read the "
            "gradient norms and the validation loss too.",
            _training_loss_only,
        ),
        Mistake(
            "validation_first",
            "A validation loss that rises is overfitting only while the training loss keeps falling. You also "
            "called overfitting the run whose training loss grew by orders of magnitude: there both curves "
            "explode because the steps are too large. Check the training loss first.",
            _validation_first,
        ),
    ),
)

EXERCISES: tuple[Exercise, ...] = (GRAD_NORM, DEAD_RELU, NAN_FIX, LOSS_SCALE_STEP, SPOT_THE_BUG)
