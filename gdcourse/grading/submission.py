"""Grade one submission: run workers until every exercise has a verdict.

A worker that dies or runs out of time during an exercise costs that exercise
only: it is scored 0 (``crashed`` or ``timeout``) and a fresh worker runs the
notebook again for the exercises still to grade, within the submission's
wall-clock budget.  A worker that dies while running the cells costs every
exercise.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from gdcourse.exercises.core import Case, Exercise
from gdcourse.grading import notebook_code as nbc
from gdcourse.grading.assess import Plan, judge
from gdcourse.grading.collect import Submission
from gdcourse.grading.protocol import new_nonce, parse_line
from gdcourse.grading.report import safe_error
from gdcourse.grading.sandbox import Sandbox

__all__ = ["Settings", "grade_submission"]

_GRACE = 2.0  # seconds the grader waits beyond the worker's own per-exercise timer


@dataclass(frozen=True)
class Settings:
    """Time and size limits of one submission (see :func:`grade`)."""

    timeout: float = 300.0
    cell_timeout: float = 60.0
    exercise_timeout: float = 30.0
    max_output_bytes: int = 16 * 2**20
    max_notebook_bytes: int = 20 * 2**20


def _cell_start(source: str) -> str:
    first = next((line.strip() for line in source.splitlines() if line.strip()), "")
    return first if len(first) <= 60 else first[:57] + "..."


@dataclass
class _Attempt:
    cells_done: bool = False
    cells: dict[int, str] = field(default_factory=dict)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    current: str | None = None
    end: str = ""
    exit_status: int | None = None
    stderr: str = ""
    ignored_lines: int = 0


def _run_attempt(
    sub: Submission, specs: list[dict[str, Any]], sandbox: Sandbox, settings: Settings, deadline: float
) -> _Attempt:
    """One worker run on the remaining exercises ``specs``; stops at the first abnormal end."""
    nonce = new_nonce()
    assert sub.code is not None  # grade_submission runs a worker only for a notebook it could read
    request = {
        "nonce": nonce,
        "cells": sub.code.cells,
        "exercises": specs,
        "cell_timeout": settings.cell_timeout,
        "exercise_timeout": settings.exercise_timeout,
        "limits": sandbox.limits_for_request(settings.timeout),
        "max_message_bytes": settings.max_output_bytes // 2,
        "parent_pid": sandbox.parent_pid,
        "drop_to": sandbox.drop_to,
    }
    wanted = {s["id"] for s in specs}
    attempt = _Attempt()
    worker = sandbox.start(json.dumps(request, allow_nan=False).encode(), max_output=settings.max_output_bytes)
    try:
        exercise_deadline = float("inf")
        while True:
            lines, end = worker.read(min(deadline, exercise_deadline))
            for line in lines:
                message = parse_line(nonce, line)
                if message is None:
                    attempt.ignored_lines += 1
                    continue
                kind = message["t"]
                if kind == "cell" and not attempt.cells_done and isinstance(message.get("index"), int):
                    problem = "ran out of time" if message.get("timeout") else safe_error(str(message.get("error")))
                    attempt.cells.setdefault(message["index"], problem)
                elif kind == "cells_done":
                    attempt.cells_done = True
                elif kind == "begin" and attempt.cells_done and message.get("id") in wanted:
                    attempt.current = message["id"]
                    exercise_deadline = time.monotonic() + settings.exercise_timeout + _GRACE
                elif kind == "result" and attempt.cells_done and message.get("id") in wanted:
                    attempt.results.setdefault(message["id"], message)
                    exercise_deadline = float("inf")
                elif kind == "done":
                    end = "done"
                elif kind == "fatal":
                    end = "fatal"
                if end:
                    break
            if end:
                attempt.end = "timeout" if end == "timeout" else end
                break
    finally:
        attempt.exit_status = worker.kill()
        attempt.stderr = worker.stderr_tail
    return attempt


def _spec(exercise: Exercise, plan: Plan, checks: dict[str, nbc.Check]) -> dict[str, Any]:
    check = checks.get(exercise.id)
    return {
        "id": exercise.id,
        "kind": exercise.kind,
        "expression": check.expression if check else None,
        "site": check.site if check else None,
        "cases": plan.wire[exercise.id],
    }


@dataclass
class _Grading:
    """One submission's grading so far: the exercises still to grade, and what its worker runs found."""

    by_id: dict[str, Exercise]
    remaining: list[str]
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    cells: dict[int, str] = field(default_factory=dict)  # code cell index -> what went wrong there
    notes: list[str] = field(default_factory=list)
    attempts: int = 0
    ignored: int = 0
    stderr: str = ""

    def take(self, attempt: _Attempt, cases: dict[str, list[Case]]) -> None:
        """Judge the results of one worker run, and keep its counts, stderr and (first run only) cell problems."""
        self.ignored += attempt.ignored_lines
        self.stderr = self.stderr or attempt.stderr.strip()[-1000:]
        if self.attempts == 1:  # later runs run the same cells again: their problems are not new
            for index, problem in attempt.cells.items():
                self.cells.setdefault(index, problem)
        for exercise_id, message in attempt.results.items():
            self.records[exercise_id] = judge(self.by_id[exercise_id], cases[exercise_id], message, "")
            self.remaining.remove(exercise_id)

    def worker_done(self) -> None:
        """The worker ended normally (or nothing is left): an exercise it never reported is ``crashed``."""
        self.score_remaining("crashed")
        if self.remaining:
            self.notes.append("the worker ended without grading every exercise")

    def worker_lost(self, attempt: _Attempt, deadline: float) -> bool:
        """Record a worker that died or ran out of time; whether a fresh one should grade the rest.

        During the cells, every exercise left is lost; during an exercise, only that one, and a fresh
        worker runs the notebook again for the others while the submission's time lasts.
        """
        status = "timeout" if attempt.end == "timeout" else "crashed"
        how = {"timeout": "ran out of time", "overflow": "sent more than the output limit"}.get(attempt.end, "died")
        if not attempt.cells_done:
            self.notes.append(f"the notebook's process {how} while running the cells")
            self.score_remaining(status)
            return False
        current = attempt.current if attempt.current in self.remaining else self.remaining[0]
        self.notes.append(f"the notebook's process {how} during {current}")
        self.records[current] = judge(self.by_id[current], [], None, status)
        self.remaining.remove(current)
        if time.monotonic() >= deadline:
            self.score_remaining("timeout")
            return False
        return True

    def score_remaining(self, status: str) -> None:
        """Give every exercise still to grade ``status`` and no point."""
        for exercise_id in self.remaining:
            self.records[exercise_id] = judge(self.by_id[exercise_id], [], None, status)


def _run_workers(sub: Submission, plan: Plan, sandbox: Sandbox, settings: Settings, deadline: float) -> _Grading:
    """Run workers on ``sub`` until every exercise of ``plan`` has a record or ``deadline`` passes."""
    assert sub.code is not None  # an invalid file runs no worker
    grading = _Grading({ex.id: ex for ex in plan.exercises}, list(plan.ids))
    for index, error in sub.code.syntax_errors.items():
        grading.cells[index] = f"SyntaxError, {error}"
    checks = sub.checks or {}
    while grading.remaining:
        grading.attempts += 1
        specs = [_spec(grading.by_id[i], plan, checks) for i in grading.remaining]
        attempt = _run_attempt(sub, specs, sandbox, settings, deadline)
        grading.take(attempt, plan.cases)
        if attempt.end == "done" or not grading.remaining:
            grading.worker_done()
            break
        if not grading.worker_lost(attempt, deadline):
            break
    return grading


def _status(sub: Submission, records: dict[str, dict[str, Any]], cells: dict[int, str]) -> str:
    """The submission's status: ``invalid``, ``crashed``, ``timeout`` (an exercise or a cell), else ``ok``."""
    statuses = {r["status"] for r in records.values()}
    if sub.code is None:
        return "invalid"
    if "crashed" in statuses:
        return "crashed"
    if "timeout" in statuses or "ran out of time" in cells.values():
        return "timeout"
    return "ok"


def grade_submission(sub: Submission, plan: Plan, sandbox: Sandbox, settings: Settings) -> dict[str, Any]:
    """Grade one submission; return its journal entry.

    Parameters
    ----------
    sub : Submission
        The submission, read and parsed (``sub.code`` is ``None`` for an invalid file: every
        exercise is then ``invalid`` and no worker runs).
    plan : Plan
        The run's exercises and hidden cases.
    sandbox : Sandbox
        Where its workers run.
    settings : Settings
        Its time and size limits: ``timeout`` covers every worker run of this submission.

    Returns
    -------
    dict
        The journal entry: the student, file, SHA-256, isolation and status (``ok``, ``timeout``,
        ``crashed`` or ``invalid``), the points and record of each exercise, the total and maximum,
        the cells that failed, a note, and the worker runs' counts, stderr tail and seconds.
    """
    started = time.monotonic()
    entry: dict[str, Any] = {
        "type": "result",
        "student": sub.student,
        "file": sub.file,
        "sha256": sub.sha256,
        "isolation": "" if sub.code is None else sandbox.isolation,
    }
    if sub.code is None:
        grading = _Grading({}, [], {ex.id: judge(ex, plan.cases[ex.id], None, "invalid") for ex in plan.exercises})
        grading.notes.append(sub.problem or "invalid file")
    else:
        grading = _run_workers(sub, plan, sandbox, settings, started + settings.timeout)
    ordered = {ex.id: grading.records[ex.id] for ex in plan.exercises}
    code_cells = sub.code.cells if sub.code is not None else []
    entry.update(
        status=_status(sub, ordered, grading.cells),
        points={i: r["points"] for i, r in ordered.items()},
        total=float(sum(r["points"] for r in ordered.values())),
        max=float(sum(ex.points for ex in plan.exercises)),
        exercises=ordered,
        cells=[
            {"cell": i, "start": _cell_start(code_cells[i]) if i < len(code_cells) else "", "problem": p}
            for i, p in sorted(grading.cells.items())
        ],
        note="; ".join(grading.notes),
        attempts=grading.attempts,
        ignored_lines=grading.ignored,
        stderr=grading.stderr,
        seconds=round(time.monotonic() - started, 3),
    )
    return entry
