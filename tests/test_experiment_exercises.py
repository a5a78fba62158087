"""Experiment exercises: judged by what the learner's result achieves (``Exercise.requirement``), not by equality.

Checked here on a small exercise made for the purpose and on ``01.lr_for_budget``: many different answers pass,
the requirement's reason becomes the diagnosis in a self-check but never reaches graded feedback, the case's
``key`` is never shown to the answer nor sent to a grading worker, and a requirement that breaks is reported as
the exercise's bug.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from gdcourse.exercises import check, get
from gdcourse.exercises.core import REQUIREMENT_NOT_MET, Case, Exercise, Mistake, real_scalar
from gdcourse.grading.assess import make_plan
from gdcourse.grading.report import safe_detail


def _above_requirement(case: Case, value):
    x = real_scalar(value)
    if x is None:
        return f"expected a number, got {type(value).__name__}"
    return None if x > case.key else f"{x:g} is not above the hidden threshold"


ABOVE = Exercise(
    id="99.above",
    kind="function",
    title="above(n): any number above a threshold the answer cannot see",
    reference=lambda n: 100.0,
    make_cases=lambda rng: [Case((int(rng.integers(1, 5)),), label="a threshold", key=float(rng.uniform(1, 10)))],
    requirement=_above_requirement,
    mistakes=(Mistake("zero", "zero is never above a positive threshold", lambda n: 0.0),),
)


def test_different_answers_that_meet_the_requirement_all_pass():
    for answer in (lambda n: 100.0, lambda n: 11, lambda n: Fraction(23, 2), lambda n: np.float32(50)):
        assert ABOVE.judge(answer).passed


def test_the_requirement_reason_is_the_diagnosis_and_a_planted_mistake_keeps_its_own():
    verdict = ABOVE.judge(lambda n: 0.5)
    assert not verdict.passed
    assert verdict.detail.startswith(REQUIREMENT_NOT_MET)
    assert verdict.diagnosis == "0.5 is not above the hidden threshold"
    assert ABOVE.judge(lambda n: 0.0).diagnosis == "zero is never above a positive threshold"


def test_graded_feedback_shows_only_that_the_requirement_was_not_met():
    verdict = ABOVE.judge(lambda n: 0.5)
    assert safe_detail(verdict.detail) == "does not meet the requirement"


def test_the_key_is_neither_given_to_the_answer_nor_sent_to_a_worker():
    seen = []

    def spy(*args, **kwargs):
        seen.append((args, kwargs))
        return 100.0

    ABOVE.judge(spy)
    key = ABOVE.cases()[0].key
    assert seen and all(key not in args and key not in kwargs.values() for args, kwargs in seen)
    plan = make_plan([ABOVE], secret="s")
    (wire,) = plan.wire["99.above"]
    assert set(wire) == {"args", "kwargs"}
    assert repr(plan.cases["99.above"][0].key) not in repr(wire)


def test_a_requirement_that_raises_is_the_exercise_bug_named():
    broken = Exercise(
        id="99.broken", kind="function", title="t", reference=lambda n: 1.0,
        make_cases=lambda rng: [Case((1,), label="one")], requirement=lambda case, value: 1 / 0,
    )  # fmt: skip
    with pytest.raises(RuntimeError, match="requirement of '99.broken'"):
        broken.judge(lambda n: 1.0)


def test_a_requirement_only_fits_function_exercises_without_alternatives():
    with pytest.raises(ValueError, match="requirement"):
        Exercise(id="99.v", kind="value", title="t", reference=lambda: 1.0, requirement=_above_requirement)
    with pytest.raises(ValueError, match="requirement"):
        Exercise(
            id="99.a", kind="function", title="t", reference=lambda n: 1.0, make_cases=lambda rng: [],
            requirement=_above_requirement, alternatives=(lambda n: 2.0,),
        )  # fmt: skip


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1.5, 1.5), (2, 2.0), (Fraction(1, 4), 0.25), (np.float32(0.5), 0.5), (np.array(3.0), 3.0),
        (True, None), (np.bool_(False), None), ("1.5", None), (1 + 2j, None), (np.array([1.0]), None),
        (None, None), (np.array(1 + 0j), None),
    ],
)  # fmt: skip
def test_real_scalar(value, expected):
    assert real_scalar(value) == expected


@pytest.mark.parametrize(
    "junk", [None, "0.1", True, math.nan, math.inf, -1.0, 0, [1.0], np.array([1.0, 2.0]), np.array(np.nan), 1j]
)
def test_lr_for_budget_requirement_never_raises_and_says_what_was_expected(junk):
    exercise = get("01.lr_for_budget")
    for case in exercise.cases():
        reason = exercise.requirement(case, junk)
        assert reason and ("expected" in reason or "diverges" in reason or "above the target" in reason)


def test_lr_for_budget_self_check_reports_the_run_it_made(capsys):
    feedback = check("01.lr_for_budget", lambda A, theta0, n_steps, target: 100.0)
    assert not feedback.passed
    text = capsys.readouterr().out
    assert "works:" in text and "expected:" not in text  # the reference is one answer of many
    assert "the run diverges, so η is too large" in text
