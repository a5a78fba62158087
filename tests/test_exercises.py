"""The notebook API of gdcourse.exercises: check(), hint(), solution(), the registry and the catalog."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest

from gdcourse import backend as B
from gdcourse import exercises
from gdcourse.exercises import (
    Exercise,
    Feedback,
    Mistake,
    UnknownExerciseError,
    Verdict,
    all_exercises,
    check,
    get,
    hint,
    register,
    reset_hints,
    solution,
)
from gdcourse.exercises.feedback import format_value

# --- answers a learner might give ---------------------------------------------------------------


def gd_step(theta, grad, lr):
    xp = B.array_namespace(theta)
    return xp.subtract(theta, lr * grad)


def gd_step_ascent(theta, grad, lr):
    return theta + lr * grad


def gd_step_stub(theta, grad, lr):
    # YOUR CODE HERE
    raise NotImplementedError()


def gd_step_crashes(theta, grad, lr):
    return theta - lr * grad / 0 if False else {}["missing"]


def gd_step_wrong_type(theta, grad, lr):
    return "theta minus step"


def gd_step_wrong_shape(theta, grad, lr):
    xp = B.array_namespace(theta)
    return xp.reshape(theta - lr * grad, (-1, 1))


def gd_step_exits(theta, grad, lr):
    sys.exit(3)


def gd_step_odd_object(theta, grad, lr):
    class Odd:
        def __repr__(self):
            raise ValueError("no repr")

        def __eq__(self, other):
            raise ValueError("no comparison")

    return Odd()


def run_gd(grad_fn, theta0, lr, n_steps):
    theta = theta0
    for _ in range(n_steps):
        theta = theta - lr * grad_fn(theta)
    return theta


@pytest.fixture(autouse=True)
def _fresh_hints():
    reset_hints()
    yield
    reset_hints()


# --- check: rendering ---------------------------------------------------------------------------


def test_pass_rendering_is_exact(capsys):
    result = check("01.gd_step", gd_step)
    assert capsys.readouterr().out == "✔ 01.gd_step passed (3/3 cases) — 1 point\n"
    assert isinstance(result, Feedback) and isinstance(result, Verdict)
    assert result.passed and result.points == 1
    assert str(result) == "✔ 01.gd_step passed (3/3 cases) — 1 point"
    assert check("01.max_stable_lr", 0.5).text == "✔ 01.max_stable_lr correct — 1 point"
    assert check("00.pick_lr", " B ").passed
    assert check("00.pick_lr", "η").passed  # an accepted alternative


def test_fail_rendering_names_case_inputs_expected_got_and_diagnosis(capsys):
    result = check("01.gd_step", gd_step_ascent)
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "✘ 01.gd_step failed on case 1 of 3 (a vector of 3 parameters) — 0/1 point"
    assert lines[1].startswith("  inputs:    theta=array([") and "grad=array([" in lines[1] and "lr=0." in lines[1]
    assert lines[2].startswith("  expected:  array([")
    assert lines[3].startswith("  got:       array([")
    assert lines[4].startswith("  problem:   3 of 3 entries differ")
    assert lines[5].startswith("  diagnosis: Sign flipped: you are climbing the gradient.")
    assert lines[-1] == "  Try hint('01.gd_step')."
    assert not result.passed and result.points == 0 and result.case_index == 0
    assert result.diagnosis.startswith("Sign flipped")
    assert "0x" not in out
    assert re.findall(r"\d\.\d{5,}", out) == []  # rounded numbers only


def test_rendering_is_deterministic():
    texts = {check("01.run_gd", lambda g, t, lr, n: run_gd(g, t, lr, n + 1)).text for _ in range(3)}
    assert len(texts) == 1
    (text,) = texts
    assert "Off by one" in text and "n_steps=" in text and "grad_fn=<gradient of" in text


def test_value_and_choice_failures_do_not_reveal_the_answer():
    value = check("01.max_stable_lr", 0.3).text
    assert "0.5" not in value and "expected" not in value
    assert value.splitlines()[1] == "  your answer: 0.3"
    choice = check("00.pick_lr", "a").text
    assert "'b'" not in choice and "η" not in choice
    assert "θ (theta) is the parameters" in choice


def test_known_value_mistake_is_diagnosed():
    result = check("01.max_stable_lr", 1 / 4)
    assert not result.passed and "stability limit" in result.diagnosis


# --- check: never raises ------------------------------------------------------------------------

BAD_ANSWERS = {
    "exception in learner code": (gd_step_crashes, "an error — KeyError: 'missing'"),
    "wrong type": (gd_step_wrong_type, "expected a number or array, got str"),
    "returns None": (lambda theta, grad, lr: None, "returns None"),
    "NotImplementedError stub": (gd_step_stub, "not answered yet — gd_step still raises NotImplementedError"),
    "wrong shape": (gd_step_wrong_shape, "shape differs: expected (3,), got (3, 1)"),
    "result instead of function": (np.zeros(3), "check expects your function itself"),
    "None instead of function": (None, "check received None instead of your function"),
    "template ellipsis": (..., "not answered yet — replace `...` with your answer"),
    "wrong arity": (lambda theta: theta, "TypeError"),
    "sys.exit": (gd_step_exits, "your code called exit()"),
    "odd object": (gd_step_odd_object, "got:"),
    "xor for power": (lambda theta, grad, lr: theta ^ 2, "bitwise XOR"),
    "error naming an object": (lambda theta, grad, lr: theta - gd_step, "an error — TypeError"),
    "fake array": (lambda theta, grad, lr: type("Fake", (), {"shape": (3,), "dtype": "x"})(), "got:"),
}


@pytest.mark.parametrize("name", BAD_ANSWERS)
def test_check_never_raises_on_bad_answers(name, capsys):
    answer, expected_text = BAD_ANSWERS[name]
    result = check("01.gd_step", answer)
    out = capsys.readouterr().out
    assert isinstance(result, Feedback) and not result.passed and result.points == 0
    assert expected_text in result.text
    assert out == result.text + "\n"
    assert not re.search(r"0x[0-9a-fA-F]{4,}", out)


@pytest.mark.parametrize(
    ("exercise_id", "answer", "expected_text"),
    [
        ("01.max_stable_lr", None, "your answer is None"),
        ("01.max_stable_lr", lambda: 0.5, "expects a value, not a function"),
        ("01.max_stable_lr", "0.5", "expected a number or array, got str"),
        ("01.max_stable_lr", np.array([0.5, 0.5]), "shape differs"),
        ("01.max_stable_lr", ..., "not answered yet"),
        ("00.pick_lr", 2, "answer with the letter of one option"),
        ("00.pick_lr", "z", "'z' is not one of the options"),
        ("00.pick_lr", None, "answer with the letter of one option"),
        ("00.square", "x ** 2", "check expects your function itself"),
    ],
)
def test_check_never_raises_on_bad_values(exercise_id, answer, expected_text):
    result = check(exercise_id, answer)
    assert not result.passed and expected_text in result.text


def test_check_reports_a_bug_in_an_exercise_instead_of_raising(monkeypatch):
    broken = Exercise(
        id="99.broken",
        kind="function",
        title="t",
        reference=lambda x: 1 / 0,
        make_cases=lambda rng: [exercises.Case((1,))],
    )
    monkeypatch.setitem(exercises._REGISTRY, broken.id, broken)
    result = check("99.broken", lambda x: x)
    assert not result.passed and "bug in gdcourse" in result.text


def test_unknown_id_suggests_close_matches_and_the_notebook(capsys):
    result = check("01.gd_stp", gd_step)
    assert not result.passed
    assert "Did you mean '01.gd_step'?" in result.text
    assert "Exercises of notebook 01: 01.gd_step, 01.run_gd" in " ".join(result.text.split())
    with pytest.raises(UnknownExerciseError, match="Did you mean '00.square'"):
        get("00.sqare")
    with pytest.raises(UnknownExerciseError, match="Notebooks with exercises: 00, 01"):
        get("42.nothing_like_it")
    assert "got int" in check(1, gd_step).text
    hint("01.nope")
    solution("01.nope")
    out = capsys.readouterr().out
    assert out.count("unknown exercise '01.nope'") == 2


def test_feedback_display_is_not_repeated_in_the_cell_that_printed_it(capsys):
    result = check("00.square", lambda x: x * x)
    capsys.readouterr()
    assert repr(result) == "<Feedback 00.square: passed, 1/1 points>"
    object.__setattr__(result, "shown_in", -1)  # as if evaluated in a later cell
    result._ipython_display_()
    assert capsys.readouterr().out == result.text + "\n"


def test_format_value_is_short_rounded_and_addressless():
    assert format_value(0.30000000000000004) == "0.3"
    assert format_value(np.array([[1 / 3, 2.0], [3.0, 4.0]])) == "array([[0.3333, 2.    ], [3.    , 4.    ]])"
    assert format_value(np.float32(1.5)) == "1.5"
    assert format_value((1, "a", None)) == "(1, 'a', None)"
    assert "0x" not in format_value(object())
    assert format_value(gd_step) == "<function gd_step>"
    assert len(format_value(np.arange(10_000.0))) < 240


# --- backends -----------------------------------------------------------------------------------


def _texts():
    return [
        check("01.gd_step", gd_step).text,
        check("01.gd_step", gd_step_ascent).text,
        check("01.run_gd", run_gd).text,
        check("01.run_gd", lambda g, t, lr, n: run_gd(g, t, -lr, n)).text,
        check("00.square", lambda x: B.array_namespace(x).multiply(x, x)).text,
        check("00.square", lambda x: 2 * x).text,
    ]


def test_results_are_identical_on_every_backend(backend):
    with B.using("numpy"):
        on_numpy = _texts()
    here = _texts()
    assert here == on_numpy
    assert [t.startswith("✔") for t in here] == [True, False, True, False, True, False]


# --- hint and solution --------------------------------------------------------------------------


def test_hints_are_revealed_one_by_one_then_point_to_the_solution(capsys):
    for _ in range(4):
        hint("01.gd_step")
    hint("01.run_gd")
    lines = [line for line in capsys.readouterr().out.splitlines() if not line.startswith("  ")]
    assert [line.split(":")[0] for line in lines[:3]] == [f"Hint {i} of 3 for 01.gd_step" for i in (1, 2, 3)]
    assert lines[3] == "No more hints for 01.gd_step (all 3 shown). To see a solution: solution('01.gd_step')"
    assert lines[4].startswith("Hint 1 of 3 for 01.run_gd:")  # state is per exercise
    reset_hints("01.gd_step")
    hint("01.gd_step")
    assert capsys.readouterr().out.startswith("Hint 1 of 3 for 01.gd_step:")


def test_solution_prints_the_source(capsys):
    solution("01.gd_step")
    assert capsys.readouterr().out == (
        "Solution to 01.gd_step:\n\ndef gd_step(theta, grad, lr):\n    return theta - lr * grad\n"
    )


# --- registry -----------------------------------------------------------------------------------


@pytest.fixture
def private_registry(monkeypatch):
    all_exercises()  # load the catalog first
    monkeypatch.setattr(exercises, "_REGISTRY", dict(exercises._REGISTRY))


def _value_exercise(exercise_id="98.answer", value=42.0):
    return Exercise(id=exercise_id, kind="value", title="t", reference=lambda: value)


def test_register_adds_and_guards_ids(private_registry):
    added = register(_value_exercise())
    assert get("98.answer") is added and added in all_exercises()
    assert check("98.answer", 42).passed
    with pytest.raises(ValueError, match="already registered"):
        register(_value_exercise())
    register(_value_exercise(value=1.0), replace=True)
    assert check("98.answer", 1.0).passed
    with pytest.raises(ValueError, match="must look like"):
        register(_value_exercise("gd_step"))
    with pytest.raises(TypeError):
        register("01.gd_step")


def test_catalog_order_and_ids():
    ids = [e.id for e in all_exercises()]
    assert ids[:7] == [
        "00.square", "00.pick_lr",
        "01.gd_step", "01.run_gd", "01.max_stable_lr", "01.lr_for_budget", "01.diagnose_curve",
    ]  # fmt: skip
    assert ids == sorted(ids, key=lambda i: i.split(".")[0])


@pytest.mark.parametrize("exercise", all_exercises(), ids=lambda e: e.id)
def test_catalog_exercise_is_complete(exercise):
    assert exercise.title and 2 <= len(exercise.hints) <= 3
    assert all(m.diagnosis.strip() and m.name for m in exercise.mistakes)
    assert len({m.name for m in exercise.mistakes}) == len(exercise.mistakes)
    if exercise.kind == "function":
        assert [c.label for c in exercise.cases()] and all(c.label for c in exercise.cases())


def _checked_names() -> dict[str, set[str]]:
    """Exercise id -> the names its check cells pass in the source notebooks (a demo may check another)."""
    import nbformat

    names: dict[str, set[str]] = {}
    for path in sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            for match in re.finditer(r"check\(\"(\d\d\.\w+)\",\s*(\w+)\)", cell.source):
                names.setdefault(match.group(1), set()).add(match.group(2))
    return names


@pytest.mark.parametrize("exercise", all_exercises(), ids=lambda e: e.id)
def test_published_solution_pastes_into_the_exercise_cell_and_passes(exercise):
    """solution(ID) prints code that, pasted in place of the exercise cell, makes the check cell below pass."""
    namespace: dict = {}
    exec(exercise.solution, namespace)  # noqa: S102 - our own catalog's text
    name = exercise.id.split(".", 1)[1] if exercise.kind == "function" else "answer"
    assert name in _checked_names()[exercise.id], f"the check cell of {exercise.id} does not pass {name!r}"
    assert name in namespace, f"the solution of {exercise.id} does not define {name!r}, which its check cell uses"
    assert check(exercise.id, namespace[name]).passed


def test_mistake_objects_are_plain_data():
    mistake = get("01.gd_step").mistakes[0]
    assert isinstance(mistake, Mistake) and mistake.name == "ascent"


def test_check_stops_a_loop_that_never_ends_and_says_so(monkeypatch, capsys):
    import time

    from gdcourse.exercises import feedback, timelimit

    monkeypatch.setattr(feedback, "CHECK_SECONDS_PER_CASE", 0.3)
    calls = []

    def square(x):
        calls.append(1)
        while True:  # even a loop that swallows ordinary exceptions is stopped
            try:
                time.sleep(0.01)
            except Exception:  # noqa: BLE001 - the point of the test
                pass

    start = time.perf_counter()
    result = exercises.check("00.square", square)
    assert time.perf_counter() - start < 3.0 and len(calls) == 1  # the later cases were not run
    assert not result.passed
    text = capsys.readouterr().out
    assert "case 1 of 3" in text and "TimeoutError: no result after 0.3 s: is there a loop that never ends?" in text
    assert exercises.check("00.square", lambda x: x * x).passed  # the timer and the handler were restored
    assert timelimit.can_limit_time()


def test_time_limit_is_not_applied_off_the_main_thread():
    import threading

    from gdcourse.exercises.timelimit import can_limit_time, time_limit

    seen = []

    def worker():
        seen.append(can_limit_time())
        with time_limit(0.01):
            seen.append("ran")

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen == [False, "ran"]


# --- feedback names what failed -----------------------------------------------------------------


def test_a_stub_called_by_the_answer_is_named_with_the_exercise_to_answer_first():
    def gd_step(theta, grad, lr):
        raise NotImplementedError()

    def run_gd_calling_the_stub(grad_fn, theta0, lr, n_steps):
        theta = theta0
        for _ in range(n_steps):
            theta = gd_step(theta, grad_fn(theta), lr)
        return theta

    text = " ".join(check("01.run_gd", run_gd_calling_the_stub).text.split())
    assert "gd_step (called by run_gd) still raises NotImplementedError — answer 01.gd_step first" in text
    assert "run_gd still raises" not in text

    def helper(x):
        raise NotImplementedError()

    text = " ".join(check("00.square", lambda x: helper(x)).text.split())
    assert "helper (called by square) still raises NotImplementedError — write helper first" in text
    assert "not answered yet — gd_step still raises NotImplementedError" in check("01.gd_step", gd_step_stub).text


def test_a_not_implemented_error_from_a_library_is_an_error_not_a_stub():
    import logging

    text = check("00.square", lambda x: logging.Handler().emit(None)).text
    assert "not answered yet" not in text and "an error — NotImplementedError" in text


def test_stubs_that_return_ellipsis_or_have_an_empty_body_are_not_answered_yet():
    def conv_output_size(n, kernel, stride, padding):
        # YOUR CODE HERE
        return ...

    result = check("12.conv_output_size", conv_output_size)
    assert result.text.startswith("✘ 12.conv_output_size: not answered yet — conv_output_size still returns `...`")
    assert "Ellipsis" not in result.text and "failed on case" not in result.text

    def gd_step(theta, grad, lr):
        """Write the update here."""
        # YOUR CODE HERE
        pass

    assert "not answered yet — the body of gd_step is empty" in check("01.gd_step", gd_step).text
    # a lambda (or a body that does something) returning None is an answer, diagnosed as before
    assert "did you forget `return`" in check("01.gd_step", lambda theta, grad, lr: None).text


def test_failing_feedback_says_how_to_get_the_exact_inputs():
    result = check("01.gd_step", gd_step_ascent)
    assert "  get('01.gd_step').case(1).args gives these inputs exactly (from gdcourse.exercises import get)." in (
        result.text
    )
    exercise = get("01.gd_step")
    assert all(np.array_equal(a, b) for a, b in zip(exercise.case(2).args, exercise.cases()[1].args, strict=True))
    assert exercise.case(3).label == exercise.cases()[2].label
    for k in (0, 4, "1", 1.0):
        with pytest.raises(IndexError, match="cases 1 to 3"):
            exercise.case(k)
    assert get("01.max_stable_lr").case(1).args == ()


def test_a_timeout_does_not_advise_calling_the_function_by_hand(monkeypatch):
    from gdcourse.exercises import feedback

    monkeypatch.setattr(feedback, "CHECK_SECONDS_PER_CASE", 0.2)

    def square(x):
        while True:
            pass

    text = check("00.square", square).text
    assert "TimeoutError" in text and "Call your function on these inputs yourself" not in text
    assert "Call your function on these inputs yourself" in check("00.square", gd_step_crashes).text
