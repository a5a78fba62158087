r"""What an instructor reads after grading: a class report (HTML and Markdown) and a gradebook export.

:func:`summarize` turns the rows of a run (:attr:`gdcourse.grading.runner.GradeReport.entries`) into a
:class:`ClassSummary`:

* per exercise, the share of submissions that passed it, and its most frequent diagnoses: the
  authored diagnosis a failed answer got (a planted mistake's, or "changed an input in place"), else the
  kind of failure (``"not answered"``, ``"raised NotImplementedError"``, ``"wrong value"``...), each with
  its count and its share of the submissions ("41% — you forgot the bias correction...");
* a histogram of the totals as a percentage of the maximum, in ten bins (the last one includes 100%);
* the students on the roster without a submission and the submissions of students not on it.

:func:`render_html` writes it as one self-contained page (inline CSS and an inline SVG histogram, no
script, nothing fetched: it opens offline and prints); :func:`render_markdown` as Markdown tables.
Names, diagnoses and file names are escaped.

:func:`write_gradebook` writes the totals in the layout learning-management systems import: one row per
student of the roster, a ``student_id`` and a ``student`` column, then **one column per assignment**.  An
existing gradebook is updated in place: this assignment's column is added or replaced and every other
column and row is kept, so grading each notebook in turn builds the term's gradebook.  A roster student
without a submission gets an empty cell (most systems then leave the grade unchanged), and a submission of
a student not on the roster is left out of the gradebook (the report lists it).
"""

from __future__ import annotations

import csv
import html
import io
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gdcourse.grading.report import format_points, write_atomic

__all__ = [
    "ClassSummary",
    "ExerciseSummary",
    "render_html",
    "render_markdown",
    "summarize",
    "write_gradebook",
]

TOP_DIAGNOSES = 3
"""Diagnoses listed per exercise."""

N_BINS = 10
"""Bins of the score histogram (each 10% of the maximum wide)."""

_NOT_GRADED = {"absent", "invalid", "duplicate"}
"""Row statuses without a graded submission: they count in the roster lists, not in the pass rates."""

_FAILURE_WORDS = {
    "missing": "not answered (no check cell ran it)",
    "timeout": "ran out of time",
    "error": "could not be judged",
}


@dataclass(frozen=True)
class ExerciseSummary:
    """One exercise across the class.

    Attributes
    ----------
    id, title : str
    max_points : float
    submissions : int
        Graded submissions (rows with a submission the grader could read).
    passed : int
        Of those, how many passed.
    top : list of (str, int)
        The most frequent diagnoses of the others, with their counts, most frequent first.
    """

    id: str
    title: str
    max_points: float
    submissions: int
    passed: int
    top: list[tuple[str, int]]

    @property
    def pass_rate(self) -> float:
        """``passed / submissions`` (NaN without submissions)."""
        return self.passed / self.submissions if self.submissions else math.nan


@dataclass(frozen=True)
class ClassSummary:
    """The class after a grading run (see the module docstring)."""

    exercises: list[ExerciseSummary]
    totals: list[tuple[str, float]]  # (student, total) of every graded submission
    max_points: float
    histogram: list[int]  # N_BINS counts of total / max_points
    statuses: dict[str, int]
    missing: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)


def _failure(record: Mapping[str, Any]) -> str:
    """What a failed exercise record says went wrong: its authored diagnosis, else the kind of failure."""
    if record.get("diagnosis"):
        return str(record["diagnosis"])
    status = record.get("status", "")
    if status in _FAILURE_WORDS:
        return _FAILURE_WORDS[status]
    detail = str(record.get("detail") or "wrong value")
    return "not answered yet (a stub: raised NotImplementedError)" if detail == "raised NotImplementedError" else detail


def _bin(fraction: float) -> int:
    """The histogram bin of a score fraction in [0, 1]: ``floor(10 f)``, with 100% in the last bin."""
    return min(max(int(math.floor(fraction * N_BINS)), 0), N_BINS - 1)


def summarize(
    entries: Sequence[Mapping[str, Any]],
    titles: Mapping[str, str],
    *,
    missing: Sequence[str] = (),
    unknown: Sequence[str] = (),
    duplicates: Sequence[str] = (),
) -> ClassSummary:
    """The :class:`ClassSummary` of a run's rows; ``titles`` maps the exercise ids, in column order, to titles.

    Parameters
    ----------
    entries : sequence of mapping
        The run's rows (:attr:`gdcourse.grading.runner.GradeReport.entries`); rows ``absent``,
        ``invalid`` or ``duplicate`` are listed but not counted as graded.
    titles : mapping of str to str
        Exercise id to title, in the CSV's column order (the report's order).
    missing, unknown, duplicates : sequence of str
        Roster students without a submission, submissions of students not on the roster, and
        students whose name two files give; listed as they are.

    Returns
    -------
    ClassSummary
    """
    graded = [e for e in entries if e.get("status") not in _NOT_GRADED]
    exercises = []
    for eid, title in titles.items():
        records = [e["exercises"][eid] for e in graded if eid in e.get("exercises", {})]
        failures = Counter(_failure(r) for r in records if r.get("status") != "passed")
        max_points = max((float(r.get("max_points", 0)) for r in records), default=0.0)
        exercises.append(
            ExerciseSummary(
                id=eid,
                title=title,
                max_points=max_points,
                submissions=len(records),
                passed=sum(r.get("status") == "passed" for r in records),
                top=failures.most_common(TOP_DIAGNOSES),
            )
        )
    max_points = max((float(e.get("max", 0)) for e in entries), default=0.0)
    totals = [(str(e["student"]), float(e.get("total", 0.0))) for e in graded]
    histogram = [0] * N_BINS
    for _, total in totals:
        histogram[_bin(total / max_points if max_points > 0 else 0.0)] += 1
    return ClassSummary(
        exercises=exercises,
        totals=totals,
        max_points=max_points,
        histogram=histogram,
        statuses=dict(sorted(Counter(str(e.get("status", "")) for e in entries).items())),
        missing=sorted(missing),
        unknown=sorted(unknown),
        duplicates=sorted(set(duplicates)),
    )


def _percent(x: float) -> str:
    return "–" if math.isnan(x) else f"{100 * x:.0f}%"


def _bin_label(i: int) -> str:
    return f"{10 * i}–{10 * (i + 1)}%" if i < N_BINS - 1 else f"{10 * i}–100%"


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else math.nan


def render_markdown(summary: ClassSummary) -> str:
    """The summary as Markdown: the class in one line, a table per exercise, the histogram, the roster lists."""
    scores = [t for _, t in summary.totals]
    lines = [
        "# Class report",
        "",
        f"{len(scores)} graded submissions; mean score {format_points(_mean(scores)) if scores else '–'} of "
        f"{format_points(summary.max_points)}. Rows by status: "
        + ", ".join(f"{status} {n}" for status, n in summary.statuses.items())
        + ".",
        "",
        "## Exercises",
        "",
        "| exercise | passed | most frequent diagnoses (share of submissions) |",
        "|---|---:|---|",
    ]
    for ex in summary.exercises:
        diagnoses = "<br>".join(f"{_percent(n / ex.submissions)} — {_md_cell(text)}" for text, n in ex.top) or "–"
        lines.append(f"| `{ex.id}` {_md_cell(ex.title)} | {_percent(ex.pass_rate)} ({ex.passed}/{ex.submissions}) "
                     f"| {diagnoses} |")  # fmt: skip
    lines += ["", "## Scores", "", "| score | students |", "|---|---:|"]
    lines += [f"| {_bin_label(i)} | {n} |" for i, n in enumerate(summary.histogram)]
    for heading, names in (
        ("On the roster, no submission", summary.missing),
        ("Submitted, not on the roster", summary.unknown),
        ("Two files give the same name", summary.duplicates),
    ):
        if names:
            lines += ["", f"## {heading} ({len(names)})", "", ", ".join(_md_cell(n) for n in names)]
    return "\n".join(lines) + "\n"


def _md_cell(text: str) -> str:
    """``text`` safe inside a Markdown table cell: no pipe, no line break, no HTML."""
    return html.escape(" ".join(str(text).split())).replace("|", "\\|")


_CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;
color:#1a1a1a}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem}
table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;padding:.4rem .6rem;
border-bottom:1px solid #ddd}th{background:#f4f4f4}
.rate{white-space:nowrap;width:12rem}.bar{display:inline-block;height:.7rem;background:#0072B2;margin-right:.4rem;
vertical-align:middle}.bar.low{background:#D55E00}.id{font-family:ui-monospace,monospace;white-space:nowrap}
.share{font-weight:600;margin-right:.3rem}ul.diag{margin:0;padding-left:1rem}.muted{color:#666}
"""


def _histogram_svg(summary: ClassSummary) -> str:
    width, height, pad = 640, 220, 30
    top = max(summary.histogram, default=0) or 1
    bar_w = (width - 2 * pad) / N_BINS
    parts = [f'<svg role="img" aria-label="score histogram" width="{width}" height="{height + 40}" '
             f'viewBox="0 0 {width} {height + 40}" xmlns="http://www.w3.org/2000/svg">']  # fmt: skip
    for i, n in enumerate(summary.histogram):
        h = (height - 2 * pad) * n / top
        x, y = pad + i * bar_w, height - pad - h
        parts.append(f'<rect x="{x + 2:.1f}" y="{y:.1f}" width="{bar_w - 4:.1f}" height="{h:.1f}" fill="#0072B2">'
                     f"<title>{_bin_label(i)}: {n}</title></rect>")  # fmt: skip
        parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{y - 4:.1f}" font-size="12" text-anchor="middle">{n}</text>')
        parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{height - pad + 16:.1f}" font-size="11" '
                     f'text-anchor="middle">{10 * i}%</text>')  # fmt: skip
    parts.append(f'<line x1="{pad}" x2="{width - pad}" y1="{height - pad}" y2="{height - pad}" stroke="#444"/>')
    parts.append(f'<text x="{width / 2}" y="{height + 20}" font-size="12" text-anchor="middle">score, % of '
                 f"{html.escape(format_points(summary.max_points))} points (bins of 10%; the last includes 100%)"
                 "</text></svg>")  # fmt: skip
    return "".join(parts)


def render_html(summary: ClassSummary, *, title: str = "Class report") -> str:
    """The summary as one self-contained HTML page (no script, nothing fetched).

    Parameters
    ----------
    summary : ClassSummary
        What :func:`summarize` returned.
    title : str
        The page's title and heading (escaped).

    Returns
    -------
    str
        The page, ending with a newline.
    """
    e = html.escape
    scores = [t for _, t in summary.totals]
    rows = []
    for ex in summary.exercises:
        rate = ex.pass_rate
        width = 0 if math.isnan(rate) else round(100 * rate)
        low = " low" if not math.isnan(rate) and rate < 0.5 else ""
        diagnoses = "".join(
            f'<li><span class="share">{_percent(n / ex.submissions)}</span>{e(text)}</li>' for text, n in ex.top
        )
        rows.append(
            f'<tr><td class="id">{e(ex.id)}</td><td>{e(ex.title)}</td>'
            f'<td class="rate"><span class="bar{low}" style="width:{width / 2:.0f}px"></span>'
            f'{_percent(rate)} <span class="muted">({ex.passed}/{ex.submissions})</span></td>'
            f"<td>{f'<ul class=diag>{diagnoses}</ul>' if diagnoses else '<span class=muted>–</span>'}</td></tr>"
        )
    roster = []
    for heading, names in (
        ("On the roster, no submission", summary.missing),
        ("Submitted, not on the roster", summary.unknown),
        ("Two files give the same name", summary.duplicates),
    ):
        if names:
            roster.append(f"<h2>{heading} ({len(names)})</h2><p>{', '.join(e(n) for n in names)}</p>")
    statuses = ", ".join(f"{e(s)} {n}" for s, n in summary.statuses.items())
    mean = format_points(_mean(scores)) if scores else "–"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{e(title)}</title><style>{_CSS}</style></head><body>"
        f'<h1>{e(title)}</h1><p class="muted">{len(scores)} graded submissions; mean score {mean} of '
        f"{format_points(summary.max_points)}. Rows by status: {statuses}.</p>"
        "<h2>Exercises</h2><table><thead><tr><th>exercise</th><th>title</th><th>passed</th>"
        "<th>most frequent diagnoses (share of submissions)</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table><h2>Scores</h2>"
        + _histogram_svg(summary)
        + "".join(roster)
        + "</body></html>\n"
    )


def write_gradebook(
    path: Path,
    entries: Sequence[Mapping[str, Any]],
    roster: Sequence[tuple[str, str]],
    assignment: str,
) -> None:
    """Add or replace the column ``assignment`` of the gradebook CSV at ``path`` (created when missing).

    ``roster`` is ``(student name, student id)`` per student, as :func:`gdcourse.grading.collect.read_roster_ids`
    reads it.  Every roster student gets a row (an empty cell without a graded submission); rows and
    columns already in the file are kept.  Written atomically.

    Parameters
    ----------
    path : Path
        The gradebook CSV, read when it exists and rewritten.
    entries : sequence of mapping
        The run's rows; a row's ``total`` fills its student's cell unless it is ``absent``,
        ``invalid`` or ``duplicate``.  Names are matched to the roster without case.
    roster : sequence of (str, str)
        ``(student name, student id)`` per student; the id is the row's key.
    assignment : str
        The column's name (surrounding blanks removed).

    Raises
    ------
    ValueError
        When ``assignment`` is empty or names the id or name column, or the existing file has no
        ``student_id`` column.
    """
    assignment = assignment.strip()
    if not assignment or assignment in ("student_id", "student"):
        raise ValueError(f"the assignment's column needs a name other than 'student_id' and 'student': {assignment!r}")
    header, rows = ["student_id", "student"], {}
    if path.exists():
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            if reader.fieldnames is None or "student_id" not in reader.fieldnames:
                raise ValueError(f"{path} is not a gradebook of this format: it has no 'student_id' column")
            header = list(reader.fieldnames)
            rows = {row["student_id"]: dict(row) for row in reader}
    if assignment not in header:
        header.append(assignment)
    scores = {
        str(e["student"]).casefold(): format_points(e.get("total", 0.0))
        for e in entries
        if e.get("status") not in _NOT_GRADED
    }
    for name, sid in roster:
        row = rows.setdefault(sid, {"student_id": sid, "student": name})
        row[assignment] = scores.get(name.casefold(), "")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, restval="", lineterminator="\n")
    writer.writeheader()
    for sid in sorted(rows, key=lambda k: (rows[k].get("student", ""), k)):
        writer.writerow({k: rows[sid].get(k, "") for k in header})
    write_atomic(path, out.getvalue())
