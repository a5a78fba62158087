"""Wrong answers that only an edge case catches: each passes every other case of its exercise.

Each row is (exercise id, a wrong answer a learner could write, what it gets wrong, the label of the edge
case that rejects it).  Before the edge case was added to the exercise's ``make_cases``, the answer passed
the checks (on every seed, or on the seeds listed in ``passed_before``); now it must fail on the public seed
and on hidden seeds, and on the seeds where it passed before it must still agree with the reference on
every *other* case (so the row documents which case does the work).  The references pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from gdcourse.backend import array_namespace, asarray, to_numpy
from gdcourse.exercises import get

SEEDS = (None, 1, 2, 3, 20240607)  # None: the public seed a learner sees


@dataclass(frozen=True)
class Wrong:
    exercise_id: str
    answer: Callable[..., Any]
    what: str
    edge_label: str  # the label of the case that rejects it
    passed_before: tuple[int | None, ...] = SEEDS  # seeds on which every other case lets it through


# --- the wrong answers --------------------------------------------------------------------------


def gd_step_zip(theta, grad, lr):
    return np.array([t - lr * g for t, g in zip(theta, grad, strict=True)])


def standardize_one_pass(X_train, X_val):
    xp = array_namespace(X_train)
    mean = xp.mean(X_train, axis=0)
    std = xp.sqrt(xp.mean(X_train**2, axis=0) - mean**2)  # E[x²] − E[x]²: cancels away every digit in float32
    return (X_train - mean) / std, (X_val - mean) / std


def log_loss_exp_ratio(X, y, w):
    xp = array_namespace(X)
    z = X @ w
    with np.errstate(over="ignore", invalid="ignore"):
        p = xp.exp(z) / (1 + xp.exp(z))  # inf / inf = NaN once exp(z) overflows
    return X.T @ (p - y) / X.shape[0]


def log_loss_unsimplified(X, y, w):
    xp = array_namespace(X)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        p = 1 / (1 + xp.exp(-(X @ w)))
        dloss_dp = -y / p + (1 - y) / (1 - p)  # 1/0 where σ is exactly 0 or 1
        return X.T @ (dloss_dp * p * (1 - p)) / X.shape[0]


def soft_threshold_v_over_abs(v, t):
    xp = array_namespace(v)
    with np.errstate(invalid="ignore"):
        return v / xp.abs(v) * xp.maximum(xp.abs(v) - t, 0.0)  # sign(v) as v/|v|: 0/0 at v = 0


def early_stop_best_starts_at_first(val_losses, patience):
    best, best_epoch, wait = val_losses[0], 0, 0
    for epoch, loss in enumerate(val_losses):  # epoch 0 ties with itself and counts as a failure
        if loss < best:
            best, best_epoch, wait = loss, epoch, 0
        else:
            wait += 1
        if wait >= patience:
            return epoch, best_epoch
    return len(val_losses) - 1, best_epoch


def _early_stop_with(improves: Callable[[float, float], bool]) -> Callable[[list[float], int], tuple[int, int]]:
    def early_stop_epoch(val_losses, patience):
        best, best_epoch, wait = float("inf"), -1, 0
        for epoch, loss in enumerate(val_losses):
            if improves(loss, best):
                best, best_epoch, wait = loss, epoch, 0
            else:
                wait += 1
            if wait >= patience:
                return epoch, best_epoch
        return len(val_losses) - 1, best_epoch

    return early_stop_epoch


early_stop_min_delta = _early_stop_with(lambda loss, best: loss < best - 1e-3)
early_stop_isclose_is_a_tie = _early_stop_with(lambda loss, best: loss < best and not np.isclose(loss, best))
early_stop_min_delta.__name__ = "early_stop_min_delta"
early_stop_isclose_is_a_tie.__name__ = "early_stop_isclose_is_a_tie"


def grad_norm_scaled_by_max(grads):
    xp = array_namespace(*grads)
    big = max(float(xp.max(xp.abs(g))) for g in grads)
    with np.errstate(invalid="ignore"):
        return big * xp.sqrt(sum(xp.sum((g / big) ** 2) for g in grads))  # 0/0 when every gradient is 0


def loss_scale_floor_halving(scale, good_steps, finite, growth_interval):
    if not finite:
        return scale // 2, 0, False  # 1.0 // 2 == 0.0: the scale never recovers
    good_steps += 1
    if good_steps == growth_interval:
        return scale * 2, 0, True
    return scale, good_steps, True


def conv_plus_one_inside(n, kernel, stride, padding):
    return (n + 2 * padding - kernel + 1) // stride


def conv_round(n, kernel, stride, padding):
    return round((n + 2 * padding - kernel) / stride) + 1


def confusion_renumbered(y_true, y_pred, k):
    t, p = to_numpy(y_true), to_numpy(y_pred)
    seen = np.unique(np.concatenate([t, p]))  # renumbers the classes present: a missing class shifts the rest
    counts = np.zeros((k, k), dtype=np.int64)
    np.add.at(counts, (np.searchsorted(seen, t), np.searchsorted(seen, p)), 1)
    return asarray(counts)


WRONG = [
    Wrong("01.gd_step", gd_step_zip,
          "zips over the entries of theta: fails on a 0-d array (one parameter)",
          "one parameter as a 0-d array, learning rate above 1"),
    Wrong("02.standardize", standardize_one_pass,
          "std as sqrt(E[x²] − E[x]²): catastrophic cancellation for a feature far from 0 in float32",
          "float32 features far from zero with a small spread"),
    Wrong("03.log_loss_grad", log_loss_exp_ratio,
          "σ as exp(z)/(1 + exp(z)): NaN once exp overflows",
          "float32 inputs, scores so large that σ(z) is exactly 0 or 1"),
    Wrong("03.log_loss_grad", log_loss_unsimplified,
          "unsimplified chain rule (−y/p + (1−y)/(1−p))·p(1−p): NaN where σ saturates",
          "float32 inputs, scores so large that σ(z) is exactly 0 or 1"),
    Wrong("08.soft_threshold", soft_threshold_v_over_abs,
          "sign(v) written as v/|v|: NaN at v = 0",
          "float32 entries, some exactly zero"),
    Wrong("08.early_stop_epoch", early_stop_best_starts_at_first,
          "starts from best = val_losses[0] and counts epoch 0 as an epoch without improvement: stops one early",
          "the first epoch is already the best"),
    Wrong("08.early_stop_epoch", early_stop_min_delta,
          "an improvement must beat the best by 1e-3 (Keras's min_delta habit): a tiny new best is missed",
          "a new best lower by a hair"),
    Wrong("08.early_stop_epoch", early_stop_isclose_is_a_tie,
          "treats losses that np.isclose calls equal as a tie: a tiny new best is missed",
          "a new best lower by a hair"),
    Wrong("11.grad_norm", grad_norm_scaled_by_max,
          "max·‖g/max‖ (the scaled, overflow-safe form) without a guard: NaN when every gradient is 0",
          "float32 gradients that are all exactly zero"),
    Wrong("11.loss_scale_step", loss_scale_floor_halving,
          "halves with scale // 2: a scale of 1 or less becomes 0 for ever",
          "an overflow with the scale below 2"),
    Wrong("12.conv_output_size", conv_plus_one_inside,
          "(n + 2p − k + 1) // s: the + 1 inside the floor, one short when the stride divides the span",
          "a stride that divides n + 2·padding − kernel exactly", passed_before=(1, 20240607)),
    Wrong("12.conv_output_size", conv_round,
          "round() instead of floor: rounds x.5 up to the even neighbour",
          "stride 2, where rounding (n + 2·padding − kernel) / 2 to the nearest would go up", passed_before=(4, 20)),
    Wrong("12.confusion_matrix", confusion_renumbered,
          "renumbers the classes it sees (np.unique): a class missing before the last shifts the others",
          "5 classes, one before the last never occurs"),
]

IDS = [f"{w.exercise_id}-{w.answer.__name__}" for w in WRONG]


@pytest.mark.parametrize("wrong", WRONG, ids=IDS)
def test_the_edge_case_rejects_the_wrong_answer(wrong):
    exercise = get(wrong.exercise_id)
    for seed in dict.fromkeys(SEEDS + wrong.passed_before):
        verdict = exercise.judge(wrong.answer, seed)
        assert verdict.passed is False, (wrong.what, seed)
        if seed in wrong.passed_before:
            assert verdict.case_label == wrong.edge_label, (wrong.what, seed, verdict.case_label, verdict.detail)


@pytest.mark.parametrize("wrong", WRONG, ids=IDS)
def test_only_the_edge_case_catches_it(wrong):
    """Without its edge case the wrong answer passes: the case is what the checks were missing."""
    exercise = get(wrong.exercise_id)
    for seed in wrong.passed_before:
        others = [c for c in exercise.cases(seed) if c.label != wrong.edge_label]
        assert len(others) < len(exercise.cases(seed))
        assert exercise.assess(others, exercise.outcomes(wrong.answer, others)).passed, (wrong.what, seed)


@pytest.mark.parametrize("exercise_id", sorted({w.exercise_id for w in WRONG}))
def test_the_reference_passes_the_edge_cases(exercise_id):
    exercise = get(exercise_id)
    for seed in SEEDS:
        assert exercise.judge(exercise.reference, seed).passed, seed


def test_each_edge_case_label_names_one_case():
    for wrong in WRONG:
        for seed in SEEDS:
            labels = [c.label for c in get(wrong.exercise_id).cases(seed)]
            assert labels.count(wrong.edge_label) == 1, (wrong.exercise_id, seed, labels)


def test_float32_edge_cases_stay_float32_and_agree_with_float64():
    """A float32 case keeps float32 in the reference, and an answer that computes in float64 still passes it."""

    def upcast(a: Any) -> Any:
        if isinstance(a, list):
            return [upcast(x) for x in a]
        if hasattr(a, "dtype") and str(to_numpy(a).dtype) == "float32":
            return asarray(to_numpy(a).astype(np.float64))
        return a

    def float32_cases(exercise, seed):
        def is32(a):
            return any(is32(x) for x in a) if isinstance(a, list) else str(getattr(a, "dtype", "")) == "float32"

        return [c for c in exercise.cases(seed) if any(is32(a) for a in c.args)]

    ids = ["02.standardize", "03.log_loss_grad", "08.soft_threshold", "11.grad_norm"]
    for exercise_id in ids:
        exercise = get(exercise_id)
        in_float64 = _in_float64(exercise.reference, upcast)
        for seed in SEEDS:
            cases = float32_cases(exercise, seed)
            assert len(cases) == 1, (exercise_id, seed)
            out = exercise.reference(*cases[0].args)
            for item in out if isinstance(out, tuple) else (out,):
                assert str(to_numpy(item).dtype) == "float32", exercise_id
            assert exercise.assess(cases, exercise.outcomes(in_float64, cases)).passed, (exercise_id, seed)


def _in_float64(reference: Callable[..., Any], upcast: Callable[[Any], Any]) -> Callable[..., Any]:
    def answer(*args: Any) -> Any:
        return reference(*[upcast(a) for a in args])

    return answer


def test_the_floor_halving_answer_really_sticks_at_zero():
    """The failure the loss-scale edge case stands for: after one overflow at scale 1 the scale is 0 for ever."""
    scale, good = 1.0, 0
    scale, good, _ = loss_scale_floor_halving(scale, good, False, 4)
    for _ in range(20):
        scale, good, _ = loss_scale_floor_halving(scale, good, True, 4)
    assert scale == 0.0
