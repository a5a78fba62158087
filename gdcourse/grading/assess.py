"""Hidden cases and verdicts: everything the grader decides in its own process.

:func:`make_plan` draws each exercise's cases from a seed derived from the run's
secret, encodes them for the worker, and checks that the reference passes them
after a round trip through the codec.  :func:`judge` turns one worker ``result``
message into a journal record by decoding the values as plain data and calling
:meth:`gdcourse.exercises.core.Exercise.assess` here, so nothing the learner's
code did in its own process (patching NumPy, builtins or the comparator) can
change the verdict.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gdcourse.exercises import codec
from gdcourse.exercises.core import MUTATION_DIAGNOSIS, Case, Exercise, Outcome
from gdcourse.grading.report import safe_detail

__all__ = ["GradingError", "Plan", "judge", "make_plan", "secret_digest"]


class GradingError(RuntimeError):
    """The batch cannot be graded as asked (bad folders, an exercise that cannot be sent, a journal mismatch)."""


@dataclass(frozen=True)
class Plan:
    """The exercises of a run, their hidden cases, and the cases as sent to workers."""

    exercises: tuple[Exercise, ...]
    cases: dict[str, list[Case]]
    wire: dict[str, list[dict[str, Any]]]

    @property
    def ids(self) -> list[str]:
        """The exercise ids, in registry order."""
        return [ex.id for ex in self.exercises]


def _seed(secret: str, exercise_id: str) -> int:
    digest = hashlib.sha256(f"gdcourse-grade\0{secret}\0{exercise_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def secret_digest(secret: str) -> str:
    """A digest of ``secret`` to store in the journal header."""
    return hashlib.sha256(f"gdcourse-grade-secret\0{secret}".encode()).hexdigest()


def _encode_case(exercise: Exercise, case: Case) -> dict[str, Any]:
    try:
        wire = {"args": codec.encode(list(case.args), refs=True), "kwargs": codec.encode(dict(case.kwargs), refs=True)}
        json.dumps(wire, allow_nan=False)
        codec.decode(wire["args"], refs=True)
        codec.decode(wire["kwargs"], refs=True)
    except (codec.CodecError, TypeError, ValueError) as err:
        raise GradingError(f"the cases of {exercise.id} cannot be sent to a grading worker: {err}") from err
    return wire


def _as_sent(wire: dict[str, Any]) -> Case:
    return Case(tuple(codec.decode(wire["args"], refs=True)), codec.decode(wire["kwargs"], refs=True))


def make_plan(exercises: Sequence[Exercise], secret: str) -> Plan:
    """Draw every exercise's hidden cases and check that the reference passes them as a worker would see them.

    The reference is applied to the cases *after* a round trip through the codec,
    its values make the return trip, and :meth:`Exercise.assess` must pass them:
    a case that does not survive encoding is found here, not in every submission.

    Parameters
    ----------
    exercises : sequence of Exercise
        The exercises of the run, in the CSV's column order.
    secret : str
        Where the hidden seeds come from: each exercise draws its cases from a seed hashed
        from ``secret`` and its id, so the same secret gives the same cases.

    Returns
    -------
    Plan

    Raises
    ------
    GradingError
        When an exercise's cases cannot be sent to a worker, or its reference answer cannot
        be graded or fails its own cases once sent.
    """
    cases, wire = {}, {}
    for exercise in exercises:
        drawn = exercise.cases(_seed(secret, exercise.id))
        cases[exercise.id] = drawn
        wire[exercise.id] = [_encode_case(exercise, c) for c in drawn]
        try:
            sent = [_as_sent(w) for w in wire[exercise.id]]
            produced = exercise.outcomes(exercise.planted(exercise.reference), sent)
            returned = [Outcome(value=codec.loads(codec.dumps(o.value))) if o.error is None else o for o in produced]
            verdict = exercise.assess(drawn, returned)
        except Exception as err:  # noqa: BLE001 - any failure here is the exercise's
            raise GradingError(f"the reference answer of {exercise.id} cannot be graded: {err}") from err
        if not verdict.passed:
            raise GradingError(
                f"the reference answer of {exercise.id} fails its own hidden cases once sent to a worker: "
                f"{verdict.detail}"
            )
    return Plan(tuple(exercises), cases, wire)


_MUTATED_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,39}")
_MAX_MUTATED = 16


def _mutated(item: dict[str, Any]) -> tuple[str, ...]:
    """The inputs a worker says the answer changed: a list of at most 16 short identifiers, else nothing.

    Anything else (not a list, a name that is not a short identifier, too many) is ignored as a
    whole: the names reach only the journal's raw detail (feedback says "changed an input in place").
    """
    names = item.get("mutated")
    if not isinstance(names, list) or len(names) > _MAX_MUTATED:
        return ()
    if not all(isinstance(n, str) and _MUTATED_NAME.fullmatch(n) for n in names):
        return ()
    return tuple(dict.fromkeys(names))


def _outcomes(message: dict[str, Any]) -> list[Outcome]:
    """Decode a worker's outcomes as plain data (never code); anything malformed is an error outcome."""
    items = message.get("outcomes")
    out = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get("error"), str):
            out.append(Outcome(error=item["error"][:500]))
        elif isinstance(item, dict) and "value" in item:
            try:
                out.append(Outcome(value=codec.decode(item["value"]), mutated=_mutated(item)))
            except (codec.CodecError, RecursionError, ValueError, TypeError) as err:
                out.append(Outcome(error=f"UnsupportedResult: {err}"[:500]))
        else:
            out.append(Outcome(error="UnsupportedResult: malformed outcome"))
    return out


def _authored(exercise: Exercise, diagnosis: str | None) -> str | None:
    """``diagnosis`` when the course's authors wrote it (a planted mistake's, or the in-place one), else ``None``.

    A computed diagnosis (:mod:`gdcourse.exercises.diagnosis`) names counts and shapes of what the
    learner's code returned: in the self-check that is useful, in graded feedback it would be a channel
    for hidden inputs, so graded feedback keeps to the fixed texts.
    """
    if diagnosis == MUTATION_DIAGNOSIS or diagnosis in {m.diagnosis for m in exercise.mistakes}:
        return diagnosis
    return None


def judge(exercise: Exercise, cases: list[Case], message: dict[str, Any] | None, status: str) -> dict[str, Any]:
    """The journal record of one exercise: its status, points and the safe and raw details.

    Parameters
    ----------
    exercise : Exercise
        The exercise judged.
    cases : list of Case
        Its hidden cases, in the order the worker ran them.
    message : dict or None
        The worker's ``result`` message for this exercise; ``None`` when there is none (the
        record then says ``status`` and gives no point).
    status : str
        The status without a message (``"crashed"``, ``"timeout"``, ``"invalid"``, ``"error"``,
        ``"absent"``); with a message it is replaced by the verdict's.

    Returns
    -------
    dict
        ``status``, ``points``, ``max_points``, ``case_index``, ``case_label``, the safe
        ``detail`` and authored ``diagnosis`` shown to the learner, and ``raw`` for the journal.
    """
    record: dict[str, Any] = {
        "status": status,
        "points": 0.0,
        "max_points": float(exercise.points),
        "case_index": None,
        "case_label": "",
        "detail": "",
        "diagnosis": None,
        "raw": "",
    }
    if message is None:
        return record
    if message.get("source") == "missing":
        record["status"] = "missing"
        return record
    if message.get("timeout"):
        record["status"] = "timeout"
        return record
    try:
        verdict = exercise.assess(cases, _outcomes(message))
    except Exception as err:  # noqa: BLE001 - an answer the comparator chokes on is not graded, and flagged
        record.update(status="error", raw=f"{type(err).__name__}: {err}"[:500])
        return record
    record.update(
        status="passed" if verdict.passed else "failed",
        points=float(verdict.points),
        case_index=verdict.case_index,
        case_label=verdict.case_label,
        detail="" if verdict.passed else safe_detail(verdict.detail),
        diagnosis=_authored(exercise, verdict.diagnosis),
        raw=verdict.detail[:500],
    )
    return record
