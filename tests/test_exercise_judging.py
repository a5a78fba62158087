"""Judging a learner can trust: side effects, number types, precision, and one judging path for check() and grade.

- An answer that changes its inputs in place fails, in the self-check and in the grader, even
  when its values are right (the course's rule: the caller's arrays stay as they were).
- Complex results and arrays of Python objects are rejected with a message saying so, and no warning.
- Every real number type is accepted (``Fraction``, SymPy numbers, NumPy scalars), and the
  self-check judges values after the same codec round trip as the grader, so both agree.
- Value exercises state the significant digits they need; the numbers their hints and
  solutions quote pass; an answer that is close is told so.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import warnings
from fractions import Fraction

import numpy as np
import pytest
import sympy

from gdcourse.exercises import Case, Exercise, all_exercises, check, codec, get
from gdcourse.exercises.core import MUTATION_DIAGNOSIS, Outcome, compare_values
from gdcourse.grading import report
from gdcourse.grading.assess import _outcomes, judge

# --- answers that change their inputs -----------------------------------------------------------


def gd_step_in_place(theta, grad, lr):
    theta -= lr * grad
    return theta


def run_gd_in_place(grad_fn, theta0, lr, n_steps):
    for _ in range(n_steps):
        theta0 -= lr * grad_fn(theta0)
    return theta0


def standardize_in_place(X_train, X_val):  # noqa: N803 - the exercise's names
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    X_train -= mean
    X_train /= std
    return X_train, (X_val - mean) / std


def relu_backward_in_place(x, grad_out):
    grad_out[x <= 0] = 0.0
    return grad_out


def soft_threshold_in_place(v, t):
    v[np.abs(v) <= t] = 0.0
    v -= np.sign(v) * t
    return v


IN_PLACE = {
    "01.gd_step": (gd_step_in_place, "theta"),
    "01.run_gd": (run_gd_in_place, "theta0"),
    "02.standardize": (standardize_in_place, "X_train"),
    "04.relu_backward": (relu_backward_in_place, "grad_out"),
    "08.soft_threshold": (soft_threshold_in_place, "v"),
}


@pytest.mark.parametrize("exercise_id", IN_PLACE)
def test_an_answer_that_changes_its_inputs_fails_with_right_values(exercise_id):
    answer, name = IN_PLACE[exercise_id]
    exercise = get(exercise_id)
    cases = exercise.cases()
    outcomes = exercise.outcomes(answer, cases)
    expected = exercise.outcomes(exercise.reference, cases)
    assert {o.mutated for o in outcomes} <= {(name,), ()} and all(o.mutated == () for o in expected)
    first = next(i for i, o in enumerate(outcomes) if o.mutated)  # run_gd with 0 steps changes nothing
    values_only = exercise.assess(cases, [dataclasses.replace(o, mutated=()) for o in outcomes])
    assert values_only.passed, "the values are right: only the side effect is wrong"
    verdict = exercise.judge(answer)
    assert not verdict.passed and verdict.case_index == first
    assert verdict.detail == f"changed its input `{name}` in place"
    assert verdict.diagnosis == MUTATION_DIAGNOSIS  # the verdict (as the grader shows it) names no input
    text = check(exercise_id, answer).text
    assert f"problem:   changed its input `{name}` in place" in text
    assert f"Your function changed the array passed as `{name}`." in " ".join(text.split())


def test_the_inputs_of_the_cases_are_untouched_after_a_check():
    exercise = get("01.gd_step")
    cases = exercise.cases()
    before = copy.deepcopy(cases)
    exercise.judge(gd_step_in_place)
    assert all(codec.same_data(a.args, b.args) for a, b in zip(before, cases, strict=True))


def test_a_known_mistake_is_still_diagnosed_when_the_answer_also_changes_its_inputs():
    def ascent_in_place(theta, grad, lr):
        theta += lr * grad
        return theta

    verdict = get("01.gd_step").judge(ascent_in_place)
    assert not verdict.passed and verdict.diagnosis.startswith("Sign flipped")

    def in_place_no_return(theta, grad, lr):
        theta -= lr * grad

    verdict = get("01.gd_step").judge(in_place_no_return)  # a planted mistake: it keeps its own diagnosis
    assert "did you forget `return`" in verdict.diagnosis


def test_an_exercise_may_allow_changing_inputs():
    square = get("00.square")

    def square_in_place(x):
        x *= x
        return x

    assert not square.judge(square_in_place).passed
    assert dataclasses.replace(square, allows_mutation=True).judge(square_in_place).passed
    assert not any(e.allows_mutation for e in all_exercises())


def test_same_data_compares_as_data():
    a = np.array([1.0, np.nan, -0.0])
    assert codec.same_data(a, a.copy()) and codec.same_data(a, np.array([1.0, np.nan, 0.0]))
    assert not codec.same_data(a, np.array([1.0, np.nan, 1.0]))
    assert not codec.same_data(a, a.astype(np.float32))
    assert codec.same_data([1, (2.0, {"k": a})], [1, (2.0, {"k": a.copy()})])
    assert not codec.same_data([1, 2], [1, 2, 3]) and not codec.same_data({"k": 1}, {"k": 2})
    assert not codec.same_data(1, 1.0)  # a change of type is a change
    assert codec.same_data(float("nan"), float("nan"))
    grad_fn = get("01.run_gd").cases()[0].args[0]
    changed = copy.deepcopy(grad_fn)
    assert codec.same_data(grad_fn, changed)
    changed.A[0, 0] += 1.0  # a gdcourse dataclass compared field by field
    assert not codec.same_data(grad_fn, changed)
    assert codec.same_data(np.random.default_rng(0), np.random.default_rng(1))  # cannot tell: unchanged


# --- complex and object results -----------------------------------------------------------------


def test_complex_results_are_rejected_clearly_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert compare_values(0.5, 0.5 + 0j, rtol=1e-6, atol=0, check_dtype=False) == (
            "a complex number, expected a real one"
        )
        assert compare_values(0.5, np.complex128(0.5), rtol=1e-6, atol=0, check_dtype=False) == (
            "a complex number, expected a real one"
        )
        problem = compare_values(np.ones(3), np.ones(3) + 0j, rtol=1e-6, atol=0, check_dtype=False)
        assert problem == "complex numbers (dtype complex128), expected real ones"
        result = check("01.gd_step", lambda theta, grad, lr: (theta - lr * grad) + 0j)
        assert not result.passed and "complex numbers (dtype complex128), expected real ones" in result.text
        result = check("01.max_stable_lr", 0.5 + 0j)
        assert not result.passed and "a complex number, expected a real one" in result.text
    assert report.safe_detail("a complex number, expected a real one") == "complex numbers, expected real ones"
    assert codec.loads(codec.dumps([1 + 2j, complex(math.nan, 1)]))[0] == 1 + 2j


def test_object_arrays_are_rejected_clearly():
    objects = np.array([1.0, 2.0, 3.0], dtype=object)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        problem = compare_values(np.ones(3), objects, rtol=1e-6, atol=0, check_dtype=False)
        assert problem == "expected numbers, got dtype object (an array of Python objects)"
        result = check("00.square", lambda x: np.array([object()] * x.size, dtype=object).reshape(x.shape))
    assert not result.passed and "a value the checker cannot compare — an array of Python objects" in result.text
    assert "Call your function on these inputs yourself" not in result.text  # there is no traceback to see


# --- number types -------------------------------------------------------------------------------

HALVES = {
    "Fraction": Fraction(1, 2),
    "sympy.Rational": sympy.Rational(1, 2),
    "sympy.Float": sympy.Float(0.5),
    "sympy expression": sympy.Integer(1) / 2,
    "np.float32": np.float32(0.5),
    "np.float64": np.float64(0.5),
    "0-d array": np.array(0.5),
}


@pytest.mark.parametrize("name", HALVES)
def test_any_real_number_type_is_accepted(name):
    value = HALVES[name]
    assert compare_values(0.5, value, rtol=1e-6, atol=0, check_dtype=False) is None
    assert check("01.max_stable_lr", value).passed
    assert get("01.max_stable_lr").judge(value).passed


def test_numbers_that_are_not_real_are_not_accepted():
    x = sympy.Symbol("x")
    assert compare_values(0.5, x, rtol=1e-6, atol=0, check_dtype=False).startswith("expected a number or array")
    assert compare_values(0.5, "0.5", rtol=1e-6, atol=0, check_dtype=False) == "expected a number or array, got str"
    result = check("01.max_stable_lr", x)
    assert not result.passed and "your answer: x" in result.text and "cannot compare" in result.text


def test_np_bool_is_a_bool_where_a_bool_is_expected():
    assert compare_values(True, np.bool_(True), rtol=1e-6, atol=0, check_dtype=False) is None
    assert compare_values(True, np.bool_(False), rtol=1e-6, atol=0, check_dtype=False) is not None

    def loss_scale_step(scale, good_steps, finite, growth_interval):
        scale_, good, ok = get("11.loss_scale_step").reference(scale, good_steps, finite, growth_interval)
        return scale_, good, np.bool_(ok)

    assert check("11.loss_scale_step", loss_scale_step).passed


def test_the_codec_sends_other_real_numbers_as_numbers():
    assert codec.round_trip([Fraction(1, 4), sympy.Rational(3, 4), sympy.Float(2.5)]) == [0.25, 0.75, 2.5]
    assert codec.round_trip(sympy.Integer(7)) == 7 and isinstance(codec.round_trip(sympy.Integer(7)), int)
    assert codec.round_trip(np.bool_(True)) is True
    with pytest.raises(codec.CodecError):
        codec.dumps(sympy.Symbol("x"))
    with pytest.raises(codec.CodecError):
        codec.dumps(object())
    with pytest.raises(codec.CodecError):
        codec.dumps(...)


# --- one judging path: check() and the grader agree ---------------------------------------------


def worker_message(exercise: Exercise, answer, cases: list[Case]) -> dict:
    """What a grading worker sends for ``answer``: cases decoded from the wire, values encoded, inputs compared."""
    outcomes = []
    for case in cases:
        wire = {"args": codec.encode(list(case.args), refs=True), "kwargs": codec.encode(case.kwargs, refs=True)}
        args, kwargs = codec.decode(wire["args"], refs=True), codec.decode(wire["kwargs"], refs=True)
        before = codec.decode(wire["args"], refs=True)
        try:
            value = answer(*args, **kwargs) if exercise.kind == "function" else answer
            item = {"value": codec.encode(value)}
        except codec.CodecError as err:
            item = {"error": f"UnsupportedResult: {err}"}
        except Exception as err:  # noqa: BLE001 - the learner's error is data
            item = {"error": f"{type(err).__name__}: {err}"}
        else:
            mutated = [f"arg{i + 1}" for i, a in enumerate(before) if not codec.same_data(a, args[i])]
            if mutated:
                item["mutated"] = mutated
        outcomes.append(item)
    return {"t": "result", "id": exercise.id, "source": "check", "timeout": False, "outcomes": outcomes}


def _ascent(theta, grad, lr):
    return theta + lr * grad


SAME_VERDICT = [
    ("01.gd_step", lambda theta, grad, lr: theta - lr * grad, True),
    ("01.gd_step", lambda theta, grad, lr: (theta - lr * grad).astype(np.float32), True),
    ("01.gd_step", gd_step_in_place, False),
    ("01.gd_step", _ascent, False),
    ("01.gd_step", lambda theta, grad, lr: (theta - lr * grad) + 0j, False),
    ("01.gd_step", lambda theta, grad, lr: np.array([object()]), False),
    ("01.gd_step", lambda theta, grad, lr: list(np.ravel(theta - lr * grad)), False),
    ("01.run_gd", run_gd_in_place, False),
    ("02.standardize", standardize_in_place, False),
    ("08.soft_threshold", soft_threshold_in_place, False),
    ("01.max_stable_lr", Fraction(1, 2), True),
    ("01.max_stable_lr", sympy.Rational(1, 2), True),
    ("01.max_stable_lr", sympy.Float(0.5), True),
    ("01.max_stable_lr", np.float32(0.5), True),
    ("01.max_stable_lr", np.bool_(True), False),
    ("01.max_stable_lr", 0.5 + 0j, False),
    ("01.max_stable_lr", 0.497, False),
    ("10.expected_improvement", 0.0198, True),
    ("00.pick_lr", np.str_("b"), True),
]


@pytest.mark.parametrize(("exercise_id", "answer", "passes"), SAME_VERDICT, ids=lambda x: repr(x)[:40])
def test_check_and_the_grader_give_the_same_verdict(exercise_id, answer, passes):
    exercise = get(exercise_id)
    mine = check(exercise_id, answer)
    cases = exercise.cases()
    record = judge(exercise, cases, worker_message(exercise, answer, cases), "ok")
    assert mine.passed is passes, mine.text
    assert (record["status"] == "passed") is passes, record
    if not passes:
        assert record["case_index"] == (mine.case_index or 0)
        assert record["detail"] in report.DIFFERENCES or record["detail"].startswith("raised ")
        authored = {m.diagnosis for m in exercise.mistakes}
        if mine.diagnosis in authored and "changed" not in record["detail"]:  # graded feedback: authored texts only
            assert record["diagnosis"] == mine.diagnosis
        elif mine.diagnosis is not None and "changed" not in record["detail"]:
            assert record["diagnosis"] is None


def test_the_np_bool_verdict_is_the_same_on_both_paths():
    """The grader always accepted a np.bool_ flag (the codec sends it as a bool); the self-check now does too."""
    exercise = get("11.loss_scale_step")

    def answer(scale, good_steps, finite, growth_interval):
        s, g, ok = exercise.reference(scale, good_steps, finite, growth_interval)
        return s, g, np.bool_(ok)

    cases = exercise.cases()
    assert judge(exercise, cases, worker_message(exercise, answer, cases), "ok")["status"] == "passed"
    assert check("11.loss_scale_step", answer).passed


def test_the_grader_fails_a_changed_input_and_shows_only_the_fixed_text():
    exercise = get("01.gd_step")
    cases = exercise.cases(12345)
    record = judge(exercise, cases, worker_message(exercise, gd_step_in_place, cases), "ok")
    assert record["status"] == "failed" and record["points"] == 0
    assert record["detail"] == "changed an input in place"
    assert record["raw"] == "changed its input `theta` in place"  # the journal, for the instructor
    assert record["diagnosis"] == MUTATION_DIAGNOSIS and "`theta`" not in MUTATION_DIAGNOSIS.split(".")[0]


def test_the_grader_reads_only_short_names_as_changed_inputs():
    def message(mutated):
        return {"outcomes": [{"value": codec.encode(1.0), "mutated": mutated}]}

    assert _outcomes(message(["arg1", "lr"]))[0].mutated == ("arg1", "lr")
    for bad in ("arg1", ["x" * 41], [1], ["a b"], ["arg1"] * 17, {"arg1": 1}, [["arg1"]]):
        assert _outcomes(message(bad))[0] == Outcome(value=1.0), bad
    assert _outcomes({"outcomes": [{"error": "TypeError: x", "mutated": ["arg1"]}]})[0].mutated == ()


def test_the_grading_worker_reports_changed_inputs(tmp_path):
    from test_grading import FAST, SECRET, read_csv, write_submissions

    from gdcourse.grading import grade

    head = "from gdcourse.exercises import check\nimport numpy as np"
    gd_in_place = "def gd_step(theta, grad, lr):\n    theta -= lr * grad\n    return theta\n"
    gd_in_place += "check('01.gd_step', gd_step)"
    gd_fine = "def gd_step(theta, grad, lr):\n    return theta - lr * grad\ncheck('01.gd_step', gd_step)"
    run_in_place = (  # theta0 arrives beside a gradient function rebuilt from its fields
        "def run_gd(grad_fn, theta0, lr, n_steps):\n    for _ in range(n_steps):\n"
        "        theta0 -= lr * grad_fn(theta0)\n    return theta0\ncheck('01.run_gd', run_gd)"
    )
    run_fine = run_in_place.replace("theta0 -= lr * grad_fn(theta0)", "theta0 = theta0 - lr * grad_fn(theta0)")
    subs = {"in_place": (head, gd_in_place, run_in_place), "fine": (head, gd_fine, run_fine)}
    write_submissions(tmp_path / "subs", subs)
    exercises = (get("01.gd_step"), get("01.run_gd"))
    done = grade(
        tmp_path / "subs", tmp_path / "out.csv", exercises=exercises, secret=SECRET, sandbox="none", quiet=True,
        feedback=False, **FAST,
    )  # fmt: skip
    rows = read_csv(tmp_path / "out.csv")
    assert {i: float(rows["fine"][i]) for i in ("01.gd_step", "01.run_gd")} == {"01.gd_step": 1, "01.run_gd": 1}
    assert {i: float(rows["in_place"][i]) for i in ("01.gd_step", "01.run_gd")} == {"01.gd_step": 0, "01.run_gd": 0}
    results = next(e for e in done.entries if e["student"] == "in_place")["exercises"]
    for exercise_id, name in (("01.gd_step", "theta"), ("01.run_gd", "theta0")):
        assert results[exercise_id]["detail"] == "changed an input in place"
        assert results[exercise_id]["raw"] == f"changed its input `{name}` in place"
        assert results[exercise_id]["diagnosis"] == MUTATION_DIAGNOSIS


# --- precision of value exercises ---------------------------------------------------------------

VALUE_EXERCISES = [e for e in all_exercises() if e.kind == "value"]

# (exercise id, the text as its hints or solution quote it, the number that text stands for)
QUOTED = [
    ("01.max_stable_lr", "0 < η < 1/2", 1 / 2),
    ("02.condition_number", "≈ 119", 119.0),
    ("02.condition_number", "λ = (11 ± √117)/2", ((11 + math.sqrt(117)) / 2) / ((11 - math.sqrt(117)) / 2)),
    ("04.chain_rule", "2 * (y - 1) * (1 - y**2) * 3", 2 * (math.tanh(1) - 1) * (1 - math.tanh(1) ** 2) * 3),
    ("05.grad_variance", "12/10 × 90/99", 12 / 10 * 90 / 99),
    ("05.grad_variance", "1.0909…", 1.0909),
    ("06.optimal_beta", "(6/8)²", (6 / 8) ** 2),
    ("06.optimal_beta", "0.5625", 0.5625),
    ("09.output_variance", "200 · 0.1² · 3", 200 * 0.1**2 * 3),
    ("09.output_variance", "6.0", 6.0),
    ("10.expected_improvement", "−0.05 · 0.3085 + 0.10 · 0.3521", -0.05 * 0.3085 + 0.10 * 0.3521),
    ("10.expected_improvement", "≈ 0.0198", 0.0198),
]


@pytest.mark.parametrize("exercise", VALUE_EXERCISES, ids=lambda e: e.id)
def test_every_value_exercise_states_its_precision(exercise):
    assert exercise.digits is not None and 3 <= exercise.digits <= 6
    assert exercise.rtol <= 0.5 * 10.0**-exercise.digits, "rtol must not loosen what digits asks for"
    value = float(exercise.planted(exercise.reference))
    rounded = float(f"{value:.{exercise.digits - 1}e}")
    assert exercise.judge(rounded).passed, "the expected value rounded to `digits` significant digits passes"
    assert not exercise.judge(value * 1.01).passed and not exercise.judge(value * 0.99).passed


@pytest.mark.parametrize(("exercise_id", "text", "value"), QUOTED, ids=[f"{q[0]}: {q[1]}" for q in QUOTED])
def test_numbers_quoted_in_hints_and_solutions_pass(exercise_id, text, value):
    exercise = get(exercise_id)
    assert text in " ".join([*exercise.hints, exercise.solution]), "the table quotes the exercise's own text"
    assert exercise.judge(value).passed, f"{exercise_id} rejects the {value!r} its own text gives ({text})"


def test_the_quote_table_covers_every_value_exercise():
    assert {e.id for e in VALUE_EXERCISES} == {q[0] for q in QUOTED}


def test_a_close_value_is_told_how_many_digits_to_give():
    result = check("10.expected_improvement", 0.0197)
    assert not result.passed
    assert "close to the expected value — give at least 3 significant digits (rounded)" in result.text
    assert check("10.expected_improvement", 0.02).detail.startswith("close to the expected value")  # too few digits
    far = check("10.expected_improvement", 0.03)
    assert "close" not in far.text and far.detail.startswith("value differs")
    assert report.safe_detail(result.detail) == "close to the expected value"
    custom = Exercise("98.close", "value", "t", lambda: 10.0)  # no digits: the tolerance is rtol
    assert custom.judge(10.05).detail == "close to the expected value, but not within its tolerance"


def test_digits_must_be_a_small_whole_number():
    for bad in (0, 16, 2.5, True):
        with pytest.raises(ValueError, match="digits"):
            Exercise("98.bad", "value", "t", lambda: 1.0, digits=bad)


# --- what failed, said right --------------------------------------------------------------------


def test_differences_that_are_nan_or_infinite_say_so():
    expected = np.arange(1.0, 9.0)
    got = expected.copy()
    got[[2, 5]] = np.nan
    assert compare_values(expected, got, rtol=1e-6, atol=0, check_dtype=False) == (
        "2 of 8 entries are NaN where a number was expected"
    )
    got = expected.copy()
    got[0] = -np.inf
    assert compare_values(expected, got, rtol=1e-6, atol=0, check_dtype=False) == (
        "1 of 8 entries is infinite where a finite number was expected"
    )
    assert compare_values(1.0, math.nan, rtol=1e-6, atol=0, check_dtype=False) == (
        "the value is NaN where a number was expected"
    )
    assert compare_values(math.nan, 1.0, rtol=1e-6, atol=0, check_dtype=False) == (
        "the value is a number where NaN was expected"
    )
    got = expected.copy()
    got[[1, 4]] += 0.5
    got[6] = np.nan
    assert compare_values(expected, got, rtol=1e-6, atol=0, check_dtype=False).startswith("1 of 8 entries is NaN")
    got[6] = expected[6]
    assert compare_values(expected, got, rtol=1e-6, atol=0, check_dtype=False) == (
        "2 of 8 entries differ (largest absolute error 0.5)"
    )


def test_graded_feedback_keeps_authored_diagnoses_only():
    """A computed diagnosis describes what the student's code returned: the self-check shows it, grading does not."""
    exercise = get("01.gd_step")
    cases = exercise.cases(seed=123)

    def doubled(theta, grad, lr):
        return 2 * (theta - lr * grad)

    local = exercise.assess(cases, exercise.outcomes(doubled, cases))
    assert local.diagnosis and "twice" in local.diagnosis.lower()
    message = {"outcomes": [{"value": codec.encode(o.value)} for o in exercise.outcomes(doubled, cases)]}
    assert judge(exercise, cases, message, "")["diagnosis"] is None
    planted = exercise.mistakes[0]
    message = {"outcomes": [{"value": codec.encode(o.value)} for o in exercise.outcomes(planted.answer, cases)]}
    assert judge(exercise, cases, message, "")["diagnosis"] == planted.diagnosis
