"""What the grader writes: the scores CSV (atomically) and one feedback file per student.

Feedback names each failed exercise, the *label* of the first failing case (its
description, e.g. "ill-conditioned bowl"), what kind of difference it was, and
the known mistake's diagnosis.  The kind of difference comes from a short, fixed
vocabulary (:data:`DIFFERENCES`, the exception names of :data:`SHOWN_EXCEPTIONS`),
and at most :data:`MAX_CELLS_LISTED` failing cells are named: feedback never
shows a hidden input, an expected value, a value, shape, length or count the
learner's code produced, or a message or exception name the learner's code
chose beyond that vocabulary (any of those could carry hidden inputs out, a few
bits at a time).  The journal keeps the unfiltered details for the instructor.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gdcourse.grading.collect import cell_text

__all__ = [
    "DIFFERENCES",
    "MAX_CELLS_LISTED",
    "NOT_ANSWERED",
    "SHOWN_EXCEPTIONS",
    "format_points",
    "render_feedback",
    "safe_detail",
    "safe_error",
    "write_atomic",
    "write_csv",
]

SHOWN_EXCEPTIONS = frozenset(
    {
        "NotImplementedError",
        "NameError",
        "TypeError",
        "ValueError",
        "IndexError",
        "KeyError",
        "AttributeError",
        "ZeroDivisionError",
        "ImportError",
        "ModuleNotFoundError",
        "RecursionError",
        "MemoryError",
        "SyntaxError",
        "OverflowError",
        "LinAlgError",
    }
)
"""Exception names feedback shows; any other is "raised an exception"."""

MAX_CELLS_LISTED = 3
"""Failing cells named in a feedback file; more are summed up as "and more"."""

_DIFFERENCES = [
    (re.compile(r"shape differs: .*"), "shape differs from the expected one"),
    (re.compile(r"dtype differs: .*"), "dtype differs from the expected one"),
    (re.compile(r"expected a number or array, got .*"), "not a number or array"),
    (re.compile(r"expected numbers, got dtype .*"), "not numbers"),
    (re.compile(r"expected a sequence of \d+ items, got .*"), "not a sequence"),
    (re.compile(r"expected \d+ items, got \d+"), "wrong number of items"),
    (re.compile(r"expected results for \d+ cases, got \d+"), "wrong number of results"),
    (re.compile(r"changed its inputs? .* in place"), "changed an input in place"),
    (re.compile(r"close to the expected value\b.*"), "close to the expected value"),
    (re.compile(r"does not meet the requirement\b.*"), "does not meet the requirement"),
    (
        re.compile(r"(a complex number, expected a real one|complex numbers .*, expected real ones)"),
        "complex numbers, expected real ones",
    ),
]
NOT_ANSWERED = "not answered yet (the answer is still `...`)"
"""What feedback says of a stub that returns ``...``, in the self-check's words."""

DIFFERENCES = (*(text for _, text in _DIFFERENCES), "wrong value", NOT_ANSWERED)
"""Every kind of difference feedback may name (besides "raised ...")."""

_ITEM = re.compile(r"^(item \d+: )+")


def safe_error(text: str) -> str:
    """``"raised ZeroDivisionError"`` for an error text ``"ZeroDivisionError: ..."``; the message is dropped.

    Only the names in :data:`SHOWN_EXCEPTIONS` are shown: a learner who can raise any
    of a hundred exception types, or name a class as they like, could spell data with them.
    """
    name = text.split(":", 1)[0].strip()
    if name == "NotAnswered":  # the worker's word for an answer still `...` (a stub), as the self-check says
        return NOT_ANSWERED
    return f"raised {name}" if name in SHOWN_EXCEPTIONS else "raised an exception"


def safe_detail(detail: str) -> str:
    """Reduce a :attr:`Verdict.detail` to one entry of the fixed vocabulary, without any value in it."""
    if detail.startswith("raised "):
        return safe_error(detail[len("raised ") :])
    rest = _ITEM.sub("", detail)
    for pattern, text in _DIFFERENCES:
        if pattern.fullmatch(rest):
            return text
    return "wrong value"


def format_points(x: float) -> str:
    """Points as the CSV shows them: ``2`` for 2.0, ``0.5``, at most 6 significant digits."""
    x = float(x)
    return str(int(x)) if x.is_integer() else f"{x:.6g}"


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and :func:`os.replace`.

    A reader sees the old file or the new one, never half of one; the file and its folder are
    synced to disk before returning.

    Parameters
    ----------
    path : Path
        The file to write (its folder is created when missing).
    text : str
        The whole content, written as UTF-8 with its newlines as they are.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with_suppressed_unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def with_suppressed_unlink(path: str) -> None:
    """Remove ``path`` if it exists."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def write_csv(path: Path, entries: Sequence[dict[str, Any]], exercise_ids: Sequence[str]) -> None:
    """Write the scores CSV: student, file, sha256, status, isolation, one column per exercise, total, max.

    Names are written through :func:`gdcourse.grading.collect.cell_text` (no control
    characters, no formula a spreadsheet would run).

    Parameters
    ----------
    path : Path
        The CSV, written atomically (:func:`write_atomic`).
    entries : sequence of dict
        One row per entry (journal entries with the run's student names), sorted by student then file.
    exercise_ids : sequence of str
        The exercise columns, in order.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student", "file", "sha256", "status", "isolation", *exercise_ids, "total", "max"])
    for entry in sorted(entries, key=lambda e: (e["student"], e["file"])):
        points = entry["points"]
        writer.writerow(
            [
                cell_text(entry["student"]),
                cell_text(entry["file"]),
                entry["sha256"],
                entry["status"],
                entry.get("isolation", ""),
                *(format_points(points.get(i, 0.0)) for i in exercise_ids),
                format_points(entry["total"]),
                format_points(entry["max"]),
            ]
        )
    write_atomic(path, out.getvalue())


_STATUS_TEXT = {
    "passed": "passed",
    "missing": 'missing: no check("{id}", ...) call was found in the notebook',
    "timeout": "ran out of time",
    "crashed": "not graded: the notebook's process died before this exercise finished",
    "invalid": "not graded: the file is not a notebook the grader can read",
    "error": "not graded: the grader could not judge this answer (your instructor has been told)",
    "absent": "no submission",
}


def render_feedback(entry: dict[str, Any], exercise_titles: dict[str, str], order: Sequence[str]) -> str:
    """The feedback text for one CSV row, exercises in ``order`` (see the module docstring for what it may show).

    Parameters
    ----------
    entry : dict
        The row: its student, file, status, points, per-exercise records and the cells that failed.
    exercise_titles : dict of str to str
        Exercise id to the title shown after it (an id without one shows none).
    order : sequence of str
        The exercise ids to list, in this order.

    Returns
    -------
    str
        The text, ending with a newline.
    """
    lines = [
        f"Feedback for {cell_text(entry['student'])} ({cell_text(entry['file'])}, sha256 {entry['sha256'][:12]})",
        f"Status: {entry['status']}",
        f"Score: {format_points(entry['total'])} / {format_points(entry['max'])}",
    ]
    if entry.get("note"):
        lines.append(f"Note: {entry['note']}")
    lines.append("")
    for exercise_id in order:
        result = entry["exercises"][exercise_id]
        head = f"{exercise_id} [{format_points(result['points'])}/{format_points(result['max_points'])}]"
        title = exercise_titles.get(exercise_id)
        if title:
            head += f" {title}"
        lines.append(head)
        status = result["status"]
        if status == "failed":
            label = f' "{result["case_label"]}"' if result.get("case_label") else ""
            number = "" if result.get("case_index") is None else f" {result['case_index'] + 1}"
            lines.append(f"  failed on case{number}{label}: {result['detail']}")
            if result.get("diagnosis"):
                lines.append(f"  Diagnosis: {result['diagnosis']}")
        else:
            lines.append("  " + _STATUS_TEXT.get(status, status).format(id=exercise_id))
    cells = entry.get("cells") or []
    if cells:
        lines += ["", "Cells that did not run to the end (counting code cells from 1):"]
        for cell in cells[:MAX_CELLS_LISTED]:
            lines.append(f"  code cell {cell['cell'] + 1} (starting {cell['start']!r}): {cell['problem']}")
        if len(cells) > MAX_CELLS_LISTED:
            lines.append("  and more")
    return "\n".join(lines) + "\n"
