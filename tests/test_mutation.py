"""Mutation testing of every registered exercise: the checks must reject every wrong answer we can think of.

For each exercise in the registry (so a new notebook's exercises are covered
without touching this file): the reference and every alternative pass on the
public seed and on hidden seeds; every known mistake and every generic mutant
is rejected on every seed, and a known mistake is reported with its own
diagnosis.  The mutation score (mutants rejected / mutants) must be 100%; the
last tests show that the harness does catch an exercise whose cases are too few
or whose comparator is too lenient.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from gdcourse.backend import array_namespace, asarray
from gdcourse.exercises import all_exercises, get
from gdcourse.exercises.core import Case, Exercise

SEEDS = (None, 1, 2, 3, 20240607)  # None: the public seed a learner sees
EXERCISES = all_exercises()
IDS = [exercise.id for exercise in EXERCISES]


@dataclasses.dataclass(frozen=True)
class Mutant:
    name: str
    answer: Any  # in learner form
    diagnosis: str | None = None  # the diagnosis it must get (known mistakes only)


def _post(reference: Callable, change: Callable[[Any], Any]) -> Callable:
    def mutant(*args: Any, **kwargs: Any) -> Any:
        return change(reference(*args, **kwargs))

    return mutant


def _zeros_like(out: Any) -> Any:
    if hasattr(out, "shape") and hasattr(out, "dtype"):
        return array_namespace(out).zeros_like(out)
    return 0.0


def _raises(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("mutant raises")


def _shift_int_arg(reference: Callable, index: int, delta: int) -> Callable:
    def mutant(*args: Any, **kwargs: Any) -> Any:
        args = list(args)
        args[index] = max(args[index] + delta, 0)
        return reference(*args, **kwargs)

    return mutant


def _int_positions(exercise: Exercise) -> list[int]:
    cases = exercise.cases()
    width = min(len(c.args) for c in cases)
    return [
        i
        for i in range(width)
        if all(isinstance(c.args[i], int | np.integer) and not isinstance(c.args[i], bool) for c in cases)
    ]


def generic_mutants(exercise: Exercise) -> list[Mutant]:
    """Plausible wrong answers built from the reference, independent of the exercise's subject."""
    if exercise.kind == "function" and exercise.requirement is not None:
        # an experiment accepts many answers, so a nearby one (× 1.01) may be right too: only the broken ones
        ref = exercise.reference
        return [
            Mutant("negated output", _post(ref, lambda out: -out)),
            Mutant("zeros like the output", _post(ref, _zeros_like)),
            Mutant("returns the first argument", lambda *a, **k: a[0] if a else next(iter(k.values()))),
            Mutant("returns None", lambda *a, **k: None),
            Mutant("a string", lambda *a, **k: "0.1"),
            Mutant("raises", _raises),
        ]
    if exercise.kind == "function":
        ref = exercise.reference
        mutants = [
            Mutant("negated output", _post(ref, lambda out: -out)),
            Mutant("output + 1e-3", _post(ref, lambda out: out + 1e-3)),
            Mutant("output × 1.01", _post(ref, lambda out: out * 1.01)),
            Mutant("output × 0.99", _post(ref, lambda out: out * 0.99)),
            Mutant("zeros like the output", _post(ref, _zeros_like)),
            Mutant("returns the first argument", lambda *a, **k: a[0] if a else next(iter(k.values()))),
            Mutant("returns None", lambda *a, **k: None),
            Mutant("raises", _raises),
        ]
        for i in _int_positions(exercise):  # off-by-one in every count argument
            mutants += [
                Mutant(f"argument {i + 1} plus one", _shift_int_arg(ref, i, +1)),
                Mutant(f"argument {i + 1} minus one", _shift_int_arg(ref, i, -1)),
            ]
        return mutants
    if exercise.kind == "value":
        value = exercise.planted(exercise.reference)
        changes = {"+1%": 1.01, "-1%": 0.99, "×2": 2.0, "×½": 0.5, "sign flipped": -1.0}
        mutants = [Mutant(name, value * factor) for name, factor in changes.items()]
        return mutants + [Mutant("+1", value + 1), Mutant("None", None), Mutant("a string", str(value))]
    others = [key for key in exercise.choices if key.strip().lower() != exercise.reference.strip().lower()]
    return [Mutant(f"option {key!r}", key) for key in others] + [Mutant("no option", ""), Mutant("None", None)]


def known_mistakes(exercise: Exercise) -> list[Mutant]:
    return [Mutant(f"mistake {m.name}", exercise.planted(m.answer), m.diagnosis) for m in exercise.mistakes]


@dataclasses.dataclass(frozen=True)
class Result:
    mutant: Mutant
    killed: bool  # rejected on every seed
    diagnosed: bool  # known mistakes: reported with their own diagnosis on every seed


def _judge(exercise: Exercise, mutant: Mutant) -> Result:
    verdicts = [exercise.judge(mutant.answer, seed) for seed in SEEDS]
    killed = not any(v.passed for v in verdicts)
    diagnosed = mutant.diagnosis is None or all(v.diagnosis == mutant.diagnosis for v in verdicts)
    return Result(mutant, killed, diagnosed)


def mutation_report(exercise: Exercise) -> list[Result]:
    """Judge every known mistake and generic mutant of ``exercise`` on every seed."""
    return [_judge(exercise, m) for m in known_mistakes(exercise) + generic_mutants(exercise)]


@functools.cache
def _report(exercise_id: str) -> tuple[Result, ...]:
    return tuple(mutation_report(get(exercise_id)))


def test_registry_is_not_empty():
    assert {"00.square", "00.pick_lr", "01.gd_step", "01.run_gd", "01.max_stable_lr", "01.diagnose_curve"} <= set(IDS)


@pytest.mark.parametrize("exercise_id", IDS)
def test_reference_passes_on_every_seed(exercise_id):
    exercise = get(exercise_id)
    for seed in SEEDS:
        verdict = exercise.judge(exercise.planted(exercise.reference), seed)
        assert verdict.passed, (seed, verdict)
        assert verdict.points == exercise.points


@pytest.mark.parametrize("exercise_id", IDS)
def test_alternatives_pass_on_every_seed(exercise_id):
    exercise = get(exercise_id)
    for alternative in exercise.alternatives:
        for seed in SEEDS:
            assert exercise.judge(exercise.planted(alternative), seed).passed, (alternative, seed)


@pytest.mark.parametrize("exercise_id", IDS)
def test_every_mutant_is_rejected(exercise_id):
    survivors = [r.mutant.name for r in _report(exercise_id) if not r.killed]
    assert not survivors, f"{exercise_id}: these wrong answers pass the checks: {survivors}"


@pytest.mark.parametrize("exercise_id", IDS)
def test_known_mistakes_get_their_own_diagnosis(exercise_id):
    wrong = [r.mutant.name for r in _report(exercise_id) if not r.diagnosed]
    assert not wrong, f"{exercise_id}: these mistakes are not reported with their own diagnosis: {wrong}"


@pytest.mark.parametrize("exercise_id", IDS)
def test_has_known_mistakes(exercise_id):
    exercise = get(exercise_id)
    assert exercise.mistakes, f"{exercise_id} has no known mistakes"
    if exercise.kind == "choice":  # every wrong option explains itself
        planted = {m.answer.strip().lower() for m in exercise.mistakes}
        wrong_options = {k.strip().lower() for k in exercise.choices} - {exercise.reference.strip().lower()}
        assert planted == wrong_options


def test_mutation_score_is_100_percent():
    results = [r for exercise_id in IDS for r in _report(exercise_id)]
    killed = sum(r.killed for r in results)
    score = killed / len(results)
    print(f"\nmutation score: {killed}/{len(results)} mutants rejected = {score:.1%} over {len(IDS)} exercises")
    assert score == 1.0


# --- the guard guards: a weak exercise is caught ------------------------------------------------


def _survivors(exercise: Exercise) -> set[str]:
    return {r.mutant.name for r in mutation_report(exercise) if not r.killed}


def test_harness_catches_cases_that_are_too_symmetric():
    """With the learning rate always 1, ignoring it (or squaring it) goes unnoticed."""
    gd_step = get("01.gd_step")

    def unit_lr_cases(rng):
        return [Case((asarray(rng.normal(size=3)), asarray(rng.normal(size=3)), 1.0), label="lr = 1")]

    weak = dataclasses.replace(gd_step, make_cases=unit_lr_cases)
    assert {"mistake lr_ignored", "mistake lr_squared"} <= _survivors(weak)


def test_harness_catches_a_lenient_comparator():
    weak = dataclasses.replace(get("01.gd_step"), rtol=0.05)
    assert {"output × 1.01", "output × 0.99"} <= _survivors(weak)
    weak_value = dataclasses.replace(get("01.max_stable_lr"), rtol=0.05)
    assert {"+1%", "-1%"} <= _survivors(weak_value)


def test_harness_catches_too_few_cases():
    """A single input of 2 cannot tell x² from 2x; zeros cannot tell anything apart."""
    square = get("00.square")
    two = dataclasses.replace(square, make_cases=lambda rng: [Case((asarray(np.array([2.0])),))])
    assert "mistake two_x" in _survivors(two)
    zero = dataclasses.replace(square, make_cases=lambda rng: [Case((asarray(np.zeros(3)),))])
    assert {"negated output", "zeros like the output", "returns the first argument"} <= _survivors(zero)


def test_harness_catches_indistinguishable_mistakes():
    """Cases where two known mistakes behave alike give the wrong diagnosis for one of them."""
    run_gd = get("01.run_gd")

    def zero_step_cases(rng):
        return [c for c in run_gd.make_cases(rng) if c.args[3] == 0]

    weak = dataclasses.replace(run_gd, make_cases=zero_step_cases)
    report = mutation_report(weak)
    assert not all(r.killed and r.diagnosed for r in report)
