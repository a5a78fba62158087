"""What the grader writes: the scores CSV (atomically) and one feedback file per student.

Feedback names each failed exercise, the *label* of the first failing case (its
description, e.g. "ill-conditioned bowl") and what kind of difference it was
("shape differs", "3 of 4 entries differ", "raised ZeroDivisionError", the known
mistake's diagnosis).  It never shows a hidden input, an expected value, a value
the learner's code returned, or a message produced by the learner's code (those
could carry the hidden inputs out).
"""

from __future__ import annotations

import builtins
import csv
import io
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["format_points", "render_feedback", "safe_detail", "safe_error", "write_atomic", "write_csv"]

_SAFE_EXCEPTIONS = {
    name for name, obj in vars(builtins).items() if isinstance(obj, type) and issubclass(obj, BaseException)
} | {"LinAlgError", "UnsupportedResult"}

_STRUCTURAL = [
    re.compile(r"shape differs: expected \([\d, ]*\), got \([\d, ]*\)"),
    re.compile(r"dtype differs: expected \w+, got \w+"),
    re.compile(r"expected a number or array, got [\w.]+"),
    re.compile(r"expected numbers, got dtype \w+"),
    re.compile(r"expected a sequence of \d+ items, got [\w.]+"),
    re.compile(r"expected \d+ items, got \d+"),
    re.compile(r"expected results for \d+ cases, got \d+"),
    re.compile(r"\d+ of \d+ entries differ"),
    re.compile(r"value differs"),
]
_ERROR_SIZE = re.compile(r"\s*\(largest absolute error [^)]*\)$")
_ITEM = re.compile(r"^(item \d+: )+")


def safe_error(text: str) -> str:
    """``"raised ZeroDivisionError"`` for an error text ``"ZeroDivisionError: ..."``; the message is dropped.

    Only built-in exception names are shown (a learner's class name could be made up to carry data).
    """
    name = text.split(":", 1)[0].strip()
    return f"raised {name}" if name in _SAFE_EXCEPTIONS else "raised an exception"


def safe_detail(detail: str) -> str:
    """Reduce a :attr:`Verdict.detail` to the kind of difference, without any value in it."""
    if detail.startswith("raised "):
        return safe_error(detail[len("raised ") :])
    prefix_match = _ITEM.match(detail)
    prefix = prefix_match.group(0) if prefix_match else ""
    rest = _ERROR_SIZE.sub("", detail[len(prefix) :])
    if any(pattern.fullmatch(rest) for pattern in _STRUCTURAL):
        return prefix + rest
    return prefix + "wrong value"


def format_points(x: float) -> str:
    """Points as the CSV shows them: ``2`` for 2.0, ``0.5``, at most 6 significant digits."""
    x = float(x)
    return str(int(x)) if x.is_integer() else f"{x:.6g}"


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and :func:`os.replace`."""
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
    """Write the scores CSV: student, file, sha256, status, one column per exercise, total, max."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student", "file", "sha256", "status", *exercise_ids, "total", "max"])
    for entry in sorted(entries, key=lambda e: (e["student"], e["file"])):
        points = entry["points"]
        writer.writerow(
            [
                entry["student"],
                entry["file"],
                entry["sha256"],
                entry["status"],
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
}


def render_feedback(entry: dict[str, Any], exercise_titles: dict[str, str]) -> str:
    """The feedback text for one journal entry (see the module docstring for what it may show)."""
    lines = [
        f"Feedback for {entry['student']} ({entry['file']}, sha256 {entry['sha256'][:12]})",
        f"Status: {entry['status']}",
        f"Score: {format_points(entry['total'])} / {format_points(entry['max'])}",
    ]
    if entry.get("note"):
        lines.append(f"Note: {entry['note']}")
    lines.append("")
    for exercise_id, result in entry["exercises"].items():
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
    if entry.get("cells"):
        lines += ["", "Cells that did not run to the end (counting code cells from 1):"]
        for cell in entry["cells"]:
            lines.append(f"  code cell {cell['cell'] + 1} (starting {cell['start']!r}): {cell['problem']}")
    return "\n".join(lines) + "\n"
