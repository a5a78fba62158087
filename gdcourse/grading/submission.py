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

from gdcourse.exercises.core import Exercise
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


def grade_submission(sub: Submission, plan: Plan, sandbox: Sandbox, settings: Settings) -> dict[str, Any]:
    """Grade one submission; return its journal entry."""
    started = time.monotonic()
    entry: dict[str, Any] = {
        "type": "result",
        "student": sub.student,
        "file": sub.file,
        "sha256": sub.sha256,
        "isolation": "" if sub.code is None else sandbox.isolation,
    }
    records: dict[str, dict[str, Any]] = {}
    cells: dict[int, str] = {}
    notes: list[str] = []
    attempts = ignored = 0
    stderr = ""
    if sub.code is None:
        records = {ex.id: judge(ex, plan.cases[ex.id], None, "invalid") for ex in plan.exercises}
        notes.append(sub.problem or "invalid file")
    else:
        for index, error in sub.code.syntax_errors.items():
            cells[index] = f"SyntaxError, {error}"
        checks = sub.checks or {}
        by_id = {ex.id: ex for ex in plan.exercises}
        remaining = list(plan.ids)
        deadline = started + settings.timeout
        first = True
        while remaining:
            attempts += 1
            specs = [_spec(by_id[i], plan, checks) for i in remaining]
            attempt = _run_attempt(sub, specs, sandbox, settings, deadline)
            ignored += attempt.ignored_lines
            stderr = stderr or attempt.stderr.strip()[-1000:]
            if first:
                for index, problem in attempt.cells.items():
                    cells.setdefault(index, problem)
                first = False
            for exercise_id, message in attempt.results.items():
                records[exercise_id] = judge(by_id[exercise_id], plan.cases[exercise_id], message, "")
                remaining.remove(exercise_id)
            if attempt.end == "done" or not remaining:
                for exercise_id in remaining:
                    records[exercise_id] = judge(by_id[exercise_id], [], None, "crashed")
                if remaining:
                    notes.append("the worker ended without grading every exercise")
                break
            timed_out = attempt.end == "timeout"
            how = {"timeout": "ran out of time", "overflow": "sent more than the output limit"}.get(attempt.end, "died")
            if not attempt.cells_done:
                notes.append(f"the notebook's process {how} while running the cells")
                for exercise_id in remaining:
                    records[exercise_id] = judge(by_id[exercise_id], [], None, "timeout" if timed_out else "crashed")
                break
            current = attempt.current if attempt.current in remaining else remaining[0]
            notes.append(f"the notebook's process {how} during {current}")
            records[current] = judge(by_id[current], [], None, "timeout" if timed_out else "crashed")
            remaining.remove(current)
            if time.monotonic() >= deadline:
                for exercise_id in remaining:
                    records[exercise_id] = judge(by_id[exercise_id], [], None, "timeout")
                break
    ordered = {ex.id: records[ex.id] for ex in plan.exercises}
    statuses = {r["status"] for r in ordered.values()}
    if sub.code is None:
        status = "invalid"
    elif "crashed" in statuses:
        status = "crashed"
    elif "timeout" in statuses or "ran out of time" in cells.values():
        status = "timeout"
    else:
        status = "ok"
    code_cells = sub.code.cells if sub.code is not None else []
    entry.update(
        status=status,
        points={i: r["points"] for i, r in ordered.items()},
        total=float(sum(r["points"] for r in ordered.values())),
        max=float(sum(ex.points for ex in plan.exercises)),
        exercises=ordered,
        cells=[
            {"cell": i, "start": _cell_start(code_cells[i]) if i < len(code_cells) else "", "problem": p}
            for i, p in sorted(cells.items())
        ],
        note="; ".join(notes),
        attempts=attempts,
        ignored_lines=ignored,
        stderr=stderr,
        seconds=round(time.monotonic() - started, 3),
    )
    return entry
