"""Feedback for a self-check in a notebook: judge an answer and render the verdict as plain text.

The text is made to read well in JupyterLab and to be byte-identical on every run
and machine (strict nbval compares it): numbers are rounded to 4 significant
digits, arrays print on one line, and no memory address or timing ever appears.

Passing::

    ✔ 01.gd_step passed (3/3 cases) — 1 point

Failing: the first failing case (its label, inputs, expected value and what came),
what differs, the diagnosis when the answer behaves like a known mistake (or changed
its inputs in place, naming them), how to get that case's exact inputs
(``get(id).case(k).args``: the printed ones are rounded), and a pointer to
``hint(id)``.  Value and choice exercises never show the expected answer.

An answer that is not written yet gets one line instead: a stub that raises
``NotImplementedError`` (or calls another exercise's stub, which is named), returns
``...``, or has an empty body.
"""

from __future__ import annotations

import dis
import inspect
import re
import textwrap
from dataclasses import dataclass, fields, replace
from typing import Any, TypedDict

import numpy as np

from gdcourse.backend import to_numpy
from gdcourse.exercises import codec
from gdcourse.exercises.core import (
    MUTATION_DIAGNOSIS,
    REQUIREMENT_NOT_MET,
    Case,
    Exercise,
    Outcome,
    Verdict,
    mutation_diagnosis,
)
from gdcourse.exercises.timelimit import CHECK_SECONDS_PER_CASE

__all__ = ["Feedback", "evaluate", "format_value", "problem"]

WIDTH = 100
_ADDRESS = re.compile(r"\s+at 0x[0-9A-Fa-f]+")
_HEX = re.compile(r"0x[0-9A-Fa-f]{6,}")


class _Points(TypedDict):
    """The keyword arguments ``**pts`` passes to :func:`problem`."""

    max_points: float


@dataclass(frozen=True, repr=False)
class Feedback(Verdict):
    """A :class:`Verdict` together with the feedback ``text`` that :func:`check` printed.

    ``str(feedback)`` is the text.  In IPython, evaluating the object in the cell that
    printed it shows nothing more (the text is already there); evaluated in a later
    cell it shows the text again.
    """

    text: str = ""
    shown_in: int | None = None

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        state = "passed" if self.passed else "not passed"
        return f"<Feedback {self.exercise_id}: {state}, {_num(self.points)}/{_num(self.max_points)} points>"

    def _ipython_display_(self) -> None:
        if self.shown_in is None or self.shown_in != _execution_count():
            print(self.text)


def _execution_count() -> int | None:
    """The IPython cell being run, or ``None`` outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is installed with Jupyter
        return None
    shell = get_ipython()
    return None if shell is None else getattr(shell, "execution_count", None)


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.3g}"


def _points(verdict: Verdict) -> str:
    unit = "point" if verdict.max_points == 1 else "points"
    if verdict.passed:
        return f"{_num(verdict.points)} {'point' if verdict.points == 1 else 'points'}"
    return f"{_num(verdict.points)}/{_num(verdict.max_points)} {unit}"


def format_value(x: Any, limit: int = 240) -> str:
    """A short, deterministic one-line rendering of a value (4 significant digits).

    Arrays of every backend print like NumPy arrays; objects lose their memory address.

    Parameters
    ----------
    x : object
        The value to show (an object that cannot be shown becomes ``<type object>``).
    limit : int
        Longest text returned, in characters; a longer one is cut and ends with ``...``.

    Returns
    -------
    str
    """
    try:
        text = _format(x)
    except Exception:  # noqa: BLE001 - a learner's odd object must not break the feedback
        text = f"<{type(x).__name__} object>"
    text = _ADDRESS.sub("", text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _format(x: Any) -> str:
    if x is None or isinstance(x, bool | str):
        return repr(x)
    if isinstance(x, int | np.integer):
        return str(int(x))
    if isinstance(x, float | np.floating):
        return f"{float(x):.4g}"
    if hasattr(x, "shape") and hasattr(x, "dtype") and not callable(x):
        with np.printoptions(
            precision=4, threshold=20, edgeitems=3, floatmode="maxprec", suppress=False, linewidth=10_000, sign="-"
        ):
            return re.sub(r"\n\s*", " ", np.array_repr(np.asarray(to_numpy(x))))
    if isinstance(x, list | tuple):
        inner = ", ".join(_format(v) for v in x[:8]) + (", ..." if len(x) > 8 else "")
        return f"[{inner}]" if isinstance(x, list) else f"({inner}{',' if len(x) == 1 else ''})"
    if inspect.isfunction(x) or inspect.isbuiltin(x):
        return f"<function {x.__name__}>"
    return repr(x)


def _describe_type(x: Any) -> str:
    return f"a value of type {type(x).__name__}"


def _short_name(exercise_id: str) -> str:
    return exercise_id.split(".", 1)[-1]


def _wrap(label: str, text: str) -> str:
    head = f"  {label:<11}" if label else "  "
    return textwrap.fill(text, width=WIDTH, initial_indent=head, subsequent_indent=" " * len(head))


def _feedback(verdict: Verdict, text: str) -> Feedback:
    values = {f.name: getattr(verdict, f.name) for f in fields(Verdict)}
    text = _HEX.sub("0x…", _ADDRESS.sub("", text))  # errors and reprs from learner code may carry addresses
    return Feedback(**values, text=text, shown_in=_execution_count())


def problem(
    exercise_id: str, message: str, *, max_points: float = 1.0, detail: str = "", diagnosis: str | None = None
) -> Feedback:
    """A failed :class:`Feedback` for an answer that could not be judged (no case was run).

    ``diagnosis`` is set when ``message`` explains a wrong answer (an answer in the wrong form), not
    when the answer is missing ("not answered yet") or the checker failed.

    Parameters
    ----------
    exercise_id : str
        The exercise's id (``"02.mse_grad"``).
    message : str
        What went wrong, shown after ``✘ id:``.
    max_points : float
        The exercise's points (the answer gets none).
    detail : str
        The verdict's detail (default: ``message``).
    diagnosis : str, optional
        The diagnosis to record (see above).

    Returns
    -------
    Feedback
    """
    verdict = Verdict(exercise_id, False, 0.0, max_points, detail=detail or message, diagnosis=diagnosis)
    return _feedback(verdict, textwrap.fill(f"✘ {exercise_id}: {message}", width=WIDTH, subsequent_indent="  "))


def _option_meant(exercise: Exercise, answer: str) -> str | None:
    """The one option whose text the learner wrote out ("underfitting", "θ"), if exactly one matches."""
    text = answer.strip().lower()
    if len(text) < 1:
        return None
    hits = []
    for key, option in (exercise.choices or {}).items():
        option = option.lower()
        head = option.split(":", 1)[0].strip()
        if text == head or (len(text) >= 4 and text in option) or (len(text) < 4 and text in head.split()):
            hits.append(str(key).lower())
    return hits[0] if len(hits) == 1 else None


def _precheck(exercise: Exercise, answer: Any) -> Feedback | None:
    """Messages for answers that are not answers yet (``...``, ``None``, a value for a function...)."""
    pts = _Points(max_points=exercise.points)
    eid, name = exercise.id, _short_name(exercise.id)
    if answer is Ellipsis:
        return problem(eid, "not answered yet — replace `...` with your answer, run that cell, then this one.", **pts)
    if exercise.kind == "function":
        if answer is None:
            return problem(
                eid,
                f"check received None instead of your function. Pass the function itself: check({eid!r}, {name}).",
                **pts,
            )
        if not callable(answer):
            return problem(
                eid,
                f"check expects your function itself, as in check({eid!r}, {name}) — without "
                f"parentheses after {name}; it received {_describe_type(answer)} "
                f"({format_value(answer, 60)}), perhaps the result of calling it.",
                **pts,
            )
    elif exercise.kind == "value":
        if answer is None:
            return problem(
                eid, "your answer is None: assign the value itself (a function without `return` gives None).", **pts
            )
        if callable(answer):
            return problem(eid, "this exercise expects a value, not a function: compute the value and pass it.", **pts)
    else:
        options = "; ".join(f"{k}) {v}" for k, v in (exercise.choices or {}).items())
        valid = {str(k).strip().lower() for k in [*(exercise.choices or {}), *exercise.alternatives]}
        if not isinstance(answer, str):
            why = f"answer with the letter of one option, as a string, e.g. check({eid!r}, 'a')."
            return problem(eid, f"{why} Options: {options}.", diagnosis=why, **pts)
        if answer.strip().lower() not in valid:
            named = sorted(set(re.findall(r"\b[a-z]\b", answer.lower())) & valid)
            meant = _option_meant(exercise, answer)
            if len(named) > 1:  # naming the wrong ones among them would tell which one is right
                why = f"{answer!r} names several options ({', '.join(named)}): pick the one that is true."
            elif meant is not None:
                mistake = next((m for m in exercise.mistakes if str(m.answer).strip().lower() == meant), None)
                why = f"{answer!r} is option {meant}'s idea: answer with its letter, check({eid!r}, {meant!r})."
                if mistake is not None:
                    why += f" But it is not right: {mistake.diagnosis}"
            else:
                why = f"{answer!r} is not one of the options; answer with one letter."
            return problem(eid, f"{why} Options: {options}.", diagnosis=why, **pts)
    return None


def _notes(got: Outcome) -> list[str]:
    """Advice for common symptoms, used when no known mistake matched.

    No advice to call the function by hand after a timeout: that call would hang too.
    """
    notes = []
    if got.error is None and got.value is None:
        notes.append("Your function returned None: did you forget `return`?")
    if got.error is None and got.value is Ellipsis:
        notes.append("Your function returned `...`, the placeholder of the exercise cell: replace it with your code.")
    error = got.error or ""
    if "bitwise_xor" in error or "for ^" in error:
        notes.append("In Python `^` is bitwise XOR; a power is written `**`, e.g. x ** 2.")
    if error.startswith("NameError"):
        notes.append("A name used in your function is not defined: a typo, or a cell above that was not run?")
    if error.startswith(_UNSUPPORTED):
        notes.append(
            "Return numbers, arrays of numbers, strings, booleans or None, or lists, tuples and dicts of them: "
            "that is what the checker (and the grader) can compare."
        )
    elif error and not error.startswith("TimeoutError"):
        notes.append("Call your function on these inputs yourself to see the full traceback.")
    return notes


_UNSUPPORTED = "UnsupportedResult: "


def _argument_names(exercise: Exercise, case: Case) -> list[str]:
    return exercise.argument_names(case)


def _diagnosis(exercise: Exercise, verdict: Verdict, case: Case | None, got: Outcome) -> str | None:
    """The verdict's diagnosis; for an answer that changed its inputs, one that names them (the inputs are public)."""
    if verdict.diagnosis != MUTATION_DIAGNOSIS or case is None or not got.mutated:
        return verdict.diagnosis
    by_name = dict(zip(exercise.argument_names(case), case.args, strict=False)) | dict(case.kwargs)
    kinds = [_kind(by_name.get(n)) for n in got.mutated]
    return mutation_diagnosis(got.mutated, kinds)


def _kind(x: Any) -> str:
    """A word for the kind of input ``x`` is, for the diagnosis of a changed input."""
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        return "array"
    kinds: dict[type, str] = {list: "list", dict: "dict", tuple: "tuple"}
    return kinds.get(type(x), "value")


def render(exercise: Exercise, verdict: Verdict, cases: list[Case], outcomes: list[Outcome]) -> str:
    """The feedback text for ``verdict``, an assessment of ``outcomes`` on the public ``cases``.

    Parameters
    ----------
    exercise : Exercise
        The exercise judged.
    verdict : Verdict
        Its verdict (:meth:`gdcourse.exercises.core.Exercise.assess`).
    cases : list of Case
        The public cases the answer ran on.
    outcomes : list of Outcome
        The answer's outcome on each case, in order.

    Returns
    -------
    str
        One line when it passed; otherwise the failing case's inputs, the expected and received
        values and the diagnosis, wrapped at :data:`WIDTH` characters.
    """
    eid = exercise.id
    if verdict.passed:
        if exercise.kind == "function":
            return f"✔ {eid} passed ({len(cases)}/{len(cases)} cases) — {_points(verdict)}"
        return f"✔ {eid} correct — {_points(verdict)}"
    index = verdict.case_index or 0
    got = outcomes[index] if index < len(outcomes) else Outcome(error="no result")
    lines = []
    if exercise.kind == "function":
        case = cases[index]
        label = f" ({case.label})" if case.label else ""
        lines.append(f"✘ {eid} failed on case {index + 1} of {len(cases)}{label} — {_points(verdict)}")
        names = _argument_names(exercise, case)
        shown = [f"{n}={format_value(a)}" for n, a in zip(names, case.args, strict=False)]
        shown += [f"{k}={format_value(v)}" for k, v in case.kwargs.items()]
        lines.append(f"  {'inputs:':<11}" + ", ".join(shown))
        expected = exercise.outcomes(exercise.planted(exercise.reference), [case])[0]
        if exercise.requirement is None:
            lines.append(f"  {'expected:':<11}" + format_value(expected.value))
        else:  # an experiment: many answers are right, the reference is one of them
            lines.append(f"  {'works:':<11}" + format_value(expected.value) + " (one answer of many)")
        if got.error and got.error.startswith(_UNSUPPORTED):
            lines.append(_wrap("got:", f"a value the checker cannot compare — {got.error[len(_UNSUPPORTED) :]}"))
        elif got.error:
            lines.append(_wrap("got:", f"an error — {got.error}"))
        else:
            lines.append(f"  {'got:':<11}{format_value(got.value)}")
        if not got.error and verdict.detail:
            # an experiment's reason is shown once, as the diagnosis
            unmet = exercise.requirement is not None and verdict.detail.startswith(REQUIREMENT_NOT_MET)
            lines.append(_wrap("problem:", REQUIREMENT_NOT_MET if unmet else verdict.detail))
    else:
        lines.append(f"✘ {eid}: not correct — {_points(verdict)}")
        answer = got.value
        text = format_value(answer)
        if exercise.kind == "choice" and isinstance(answer, str):
            option = (exercise.choices or {}).get(answer.strip().lower())
            text += f" — {option}" if option else ""
        lines.append(f"  {'your answer:':<13}" + text)
        # the detail of a wrong choice or a wrong number would give the answer away
        if exercise.kind == "value" and verdict.detail and "largest absolute error" not in verdict.detail:
            if got.error and got.error.startswith(_UNSUPPORTED):
                lines.append(_wrap("problem:", f"the checker cannot compare it — {got.error[len(_UNSUPPORTED) :]}"))
            else:
                lines.append(_wrap("problem:", verdict.detail))
    diagnosis = _diagnosis(exercise, verdict, cases[index] if exercise.kind == "function" else None, got)
    if diagnosis:
        lines.append(_wrap("diagnosis:", diagnosis))
    else:
        lines += [_wrap("", note) for note in _notes(got)]
    if exercise.kind == "function":
        given = ".args and .kwargs give" if cases[index].kwargs else ".args gives"
        exact = f"get({eid!r}).case({index + 1}){given} these inputs exactly (from gdcourse.exercises import get)."
        lines.append(_wrap("", exact))
    lines.append(f"  Try hint({eid!r}).")
    return "\n".join(lines)


def _empty_body(answer: Any) -> bool:
    """Whether ``answer`` is a ``def`` whose body does nothing (``pass``, a docstring, comments, ``return None``).

    Read from its bytecode (cheap, no source needed); lambdas are never "empty": ``lambda x: None``
    is an answer, a wrong one.
    """
    code = getattr(answer, "__code__", None)
    if code is None or code.co_name == "<lambda>":
        return False
    try:
        ops = [(i.opname, i.argval) for i in dis.get_instructions(code)]
    except Exception:  # noqa: BLE001 - an odd code object is simply not a stub
        return False
    ops = [op for op in ops if op[0] not in ("RESUME", "NOP", "CACHE")]
    return ops in ([("LOAD_CONST", None), ("RETURN_VALUE", None)], [("RETURN_CONST", None)])


def _stub(exercise: Exercise, answer: Any, outcomes: list[Outcome]) -> Feedback | None:
    """Feedback for a function answer that is not written yet (or calls one that is not); ``None`` otherwise.

    Three signs: a ``NotImplementedError`` raised in learner code (named after the function
    that raised it, so a stub called by the answer is named, with the exercise to answer
    first when it is one of this notebook's), every case returning ``...`` (a stub
    ``return ...``), or an empty body returning ``None``.
    """
    eid, name, pts = exercise.id, _short_name(exercise.id), _Points(max_points=exercise.points)
    write = "Replace `# YOUR CODE HERE` and `raise NotImplementedError()` with your code, run that cell, then this one."
    stub = next((o for o in outcomes if (o.error or "").startswith("NotImplementedError") and o.raised_in), None)
    if stub is not None:
        raised = stub.raised_in
        assert raised is not None  # stub was chosen for its raised_in
        own = raised in (name, getattr(answer, "__name__", None)) or raised == "<lambda>"
        if own:
            return problem(
                eid,
                f"not answered yet — {name} still raises NotImplementedError. {write}",
                **pts,
                detail=f"raised {stub.error}",
            )
        other = _exercise_named(eid, raised)
        first = f"answer {other} first, run its cell, then this one." if other else f"write {raised} first."
        return problem(
            eid,
            f"{raised} (called by {name}) still raises NotImplementedError — {first}",
            **pts,
            detail=f"raised {stub.error}",
        )
    if outcomes and all(o.error is None and o.value is Ellipsis for o in outcomes):
        return problem(
            eid,
            f"not answered yet — {name} still returns `...`. Replace it with your code, run that cell, then this one.",
            **pts,
        )
    if outcomes and all(o.error is None and o.value is None for o in outcomes) and _empty_body(answer):
        return problem(
            eid,
            f"not answered yet — the body of {name} is empty (it only passes and returns None). Write your code "
            "there, run that cell, then this one.",
            **pts,
        )
    return None


def _exercise_named(exercise_id: str, function: str) -> str | None:
    """The id of this notebook's exercise whose answer is a function called ``function``, if one is registered.

    Looks in the registry only (this notebook's catalog module is loaded: ``exercise_id`` came from it),
    never loads the rest of the catalog, which takes seconds.
    """
    from gdcourse import exercises  # the registry imports this module

    candidate = f"{exercise_id.split('.', 1)[0]}.{function}"
    return candidate if candidate != exercise_id and candidate in exercises._REGISTRY else None


def _as_graded(outcome: Outcome) -> Outcome:
    """``outcome`` with its value as the grader would receive it (:func:`gdcourse.exercises.codec.round_trip`).

    A value the codec cannot carry becomes the error the grading worker records for it
    (``UnsupportedResult: ...``); any other error while encoding is reported as the
    worker would report it, as an error of the answer.  The value itself is kept beside
    the error, for feedback to show what the learner gave.
    """
    if outcome.error is not None:
        return outcome
    try:
        return replace(outcome, value=codec.round_trip(outcome.value))
    except codec.CodecError as err:
        return replace(outcome, error=f"{_UNSUPPORTED}{err}")
    except RecursionError:
        return replace(outcome, error=f"{_UNSUPPORTED}value is nested too deeply")
    except Exception as err:  # noqa: BLE001 - a learner's object may break while being encoded
        return replace(outcome, error=f"{type(err).__name__}: {err}")


def evaluate(exercise: Exercise, answer: Any) -> Feedback:
    """Judge ``answer`` on the public cases of ``exercise`` and render the result; never raises.

    Errors raised by the learner's code are part of the verdict; an error in the
    checker itself (a bug in gdcourse) is reported as such.  The values the answer
    returned are judged as the grader would receive them, after a round trip through
    :mod:`gdcourse.exercises.codec`, so the self-check and the grader give the same
    verdict (a ``Fraction`` is a float to both, a value the grader cannot receive fails
    in both).

    Parameters
    ----------
    exercise : Exercise
        The exercise to check.
    answer : object
        The learner's function, or value for a value exercise.

    Returns
    -------
    Feedback
    """
    early = _precheck(exercise, answer)
    if early is not None:
        return early
    try:
        cases = exercise.cases()
        outcomes = exercise.outcomes(answer, cases, seconds_per_case=CHECK_SECONDS_PER_CASE)
    except SystemExit:
        return problem(
            exercise.id, "your code called exit() or sys.exit(); remove that call.", max_points=exercise.points
        )
    except Exception as err:  # noqa: BLE001 - never crash the notebook
        return problem(
            exercise.id, f"the checker could not run ({type(err).__name__}: {err}).", max_points=exercise.points
        )
    if exercise.kind == "function":
        stub = _stub(exercise, answer, outcomes)
        if stub is not None:
            return stub
    outcomes = [_as_graded(o) for o in outcomes]  # judge what the grader would receive
    try:
        verdict = exercise.assess(cases, outcomes)
        return _feedback(verdict, render(exercise, verdict, cases, outcomes))
    except Exception as err:  # noqa: BLE001 - a bug in an exercise must not crash the notebook
        if isinstance(err, RuntimeError) and str(err).startswith("reference of"):
            message = (
                f"the checker itself failed ({err}); this is a bug in gdcourse, not in your answer — please report it."
            )
        else:
            message = (
                f"your answer could not be compared with the expected one ({type(err).__name__}: {err}). "
                "Return a number or an array; if it already is one, please report this."
            )
        return problem(exercise.id, message, max_points=exercise.points)
