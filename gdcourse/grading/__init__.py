"""Bulk grading of submitted notebooks: ``gdcourse grade SUBMISSIONS/ -o scores.csv``.

Python API: :func:`grade` (in :mod:`gdcourse.grading.runner`).  Command line:
:func:`add_arguments` and :func:`run`, used by ``gdcourse grade`` and by
``python -m gdcourse.grading``.  The instructor's guide is ``docs/grading.md``.

Modules: :mod:`~gdcourse.grading.notebook_code` (parse notebooks and their
``check`` calls), :mod:`~gdcourse.grading.worker` (runs one submission),
:mod:`~gdcourse.grading.protocol` (what crosses the pipe),
:mod:`~gdcourse.grading.sandbox` (limits, bubblewrap, process groups),
:mod:`~gdcourse.grading.submission` (one submission, with restarts),
:mod:`~gdcourse.grading.assess` (hidden cases and verdicts, in the grader),
:mod:`~gdcourse.grading.journal`, :mod:`~gdcourse.grading.report` (CSV, feedback),
:mod:`~gdcourse.grading.runner` (the batch).

This module imports nothing heavy: the worker starts by importing it.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

from gdcourse.grading import options

__all__ = ["GradeReport", "GradingError", "add_arguments", "grade", "run"]


def __getattr__(name: str) -> Any:
    if name in ("grade", "GradeReport", "GradingError"):
        from gdcourse.grading import runner

        return getattr(runner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _option(name: str) -> Callable[[str], float]:
    """An argparse type for the numeric option ``name``, checked by :func:`gdcourse.grading.options.problem`."""

    def parse(text: str) -> float:
        try:
            value: float = int(text) if name in options.COUNTS else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        why = options.problem(name, value)
        if why is not None:
            raise argparse.ArgumentTypeError(why.replace(f"got {value!r}", f"got {text!r}"))
        return value

    return parse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``gdcourse grade`` to ``parser`` (numbers are checked before anything runs)."""
    parser.add_argument("submissions", help="folder of submitted notebooks (one file per student; student = file stem)")
    parser.add_argument("-o", "--output", required=True, help="scores CSV to write (outside the submissions folder)")
    parser.add_argument(
        "-j", "--jobs", type=_option("jobs"), default=1, help="submissions graded in parallel (default 1)"
    )
    parser.add_argument("--resume", action="store_true", help="continue an interrupted run from its journal")
    parser.add_argument(
        "--notebook",
        action="append",
        dest="notebooks",
        metavar="NN",
        help="grade the exercises of notebook NN (repeatable; default: the notebooks most submissions check)",
    )
    parser.add_argument(
        "--timeout", type=_option("timeout"), default=300.0, help="seconds per submission (default 300)"
    )
    parser.add_argument(
        "--cell-timeout", type=_option("cell_timeout"), default=60.0, help="seconds per code cell (default 60)"
    )
    parser.add_argument(
        "--exercise-timeout", type=_option("exercise_timeout"), default=30.0, help="seconds per exercise (default 30)"
    )
    parser.add_argument(
        "--memory-mb", type=_option("memory_mb"), default=2048, help="address-space limit per worker (default 2048)"
    )
    parser.add_argument(
        "--file-size-mb", type=_option("file_size_mb"), default=64, help="largest file a worker may write (default 64)"
    )
    parser.add_argument(
        "--open-files", type=_option("open_files"), default=256, help="open files per worker (default 256)"
    )
    parser.add_argument(
        "--disk-mb", type=_option("disk_mb"), default=256, help="private /tmp size under bubblewrap (default 256)"
    )
    parser.add_argument(
        "--feedback", metavar="DIR", help="folder for feedback files (default: CSV name + .feedback, by the CSV)"
    )
    parser.add_argument("--no-feedback", action="store_true", help="write no feedback files")
    parser.add_argument("--journal", metavar="PATH", help="journal file (default: OUTPUT.journal)")
    parser.add_argument(
        "--secret",
        help="secret of the hidden seeds (default: $GDCOURSE_GRADING_SECRET, else random, kept in the journal)",
    )
    parser.add_argument(
        "--sandbox",
        choices=("auto", "bwrap", "none"),
        default="auto",
        help="bubblewrap: when it works (default) / required / never",
    )
    parser.add_argument(
        "--hide", action="append", default=[], metavar="DIR", help="another folder workers must not see"
    )
    parser.add_argument(
        "--roster", metavar="CSV", help="class list (column 'student', else the first): report missing and unknown"
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="grade on a Dask cluster: its scheduler's address (tcp://host:8786), or local:N for N local workers",
    )
    parser.add_argument(
        "--only", metavar="FILE", help="regrade this one file of the folder; every other result comes from the journal"
    )
    parser.add_argument(
        "--no-report", action="store_true", help="write no class report (default: OUTPUT stem + .report.html/.md)"
    )
    parser.add_argument(
        "--gradebook",
        metavar="CSV",
        help="add this run's column to a gradebook CSV for an LMS (rows: the roster's students; needs --roster)",
    )
    parser.add_argument("--assignment", metavar="NAME", help="the gradebook column (default: OUTPUT's file stem)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary")


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    """Run ``gdcourse grade`` with parsed ``args``; return the exit status (0 done, 2 refused, 130 interrupted)."""
    from gdcourse.grading.runner import GradingError, grade

    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        report = grade(
            args.submissions,
            args.output,
            jobs=args.jobs,
            resume=args.resume,
            notebooks=args.notebooks,
            timeout=args.timeout,
            cell_timeout=args.cell_timeout,
            exercise_timeout=args.exercise_timeout,
            memory_mb=args.memory_mb,
            file_size_mb=args.file_size_mb,
            open_files=args.open_files,
            disk_mb=args.disk_mb,
            feedback_dir=args.feedback,
            feedback=not args.no_feedback,
            journal=args.journal,
            secret=args.secret or os.environ.get("GDCOURSE_GRADING_SECRET") or None,
            sandbox=args.sandbox,
            hide=args.hide,
            roster=args.roster,
            quiet=args.quiet,
            class_report=not args.no_report,
            gradebook=args.gradebook,
            assignment=args.assignment,
            only=args.only,
            scheduler=args.scheduler,
        )
    except GradingError as err:
        print(f"gdcourse grade: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "gdcourse grade: interrupted; finished submissions are in the journal: rerun with --resume", file=sys.stderr
        )
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    if not args.quiet:
        print(summary(report), file=sys.stderr)
    return 0


def summary(report: Any) -> str:
    """The lines ``gdcourse grade`` prints at the end: counts, isolation, roster and name problems."""
    counts = ", ".join(f"{n} {status}" for status, n in sorted(report.counts.items()))
    reused = f" ({report.reused} from the journal)" if report.reused else ""
    lines = [
        f"graded {len(report.entries)} rows{reused} in {report.seconds:.1f} s [{counts}], "
        f"isolation: {report.isolation} -> {report.csv}"
    ]
    if report.class_report:
        lines.append(f"class report: {report.class_report[0]}")
    if report.gradebook is not None:
        lines.append(f"gradebook: {report.gradebook}")
    if report.isolation != "sandboxed":
        lines.append(
            f"WARNING: workers were {report.isolation}: submissions could read and change what that user can "
            "(see docs/grading.md, 'Without bubblewrap')"
        )
    for what, names in (
        ("two files give the same student name (rows marked 'duplicate')", report.duplicates),
        ("on the roster without a submission", report.missing),
        ("submitted but not on the roster", report.unknown),
    ):
        if names:
            shown = ", ".join(names[:20]) + (f" and {len(names) - 20} more" if len(names) > 20 else "")
            lines.append(f"{len(names)} {what}: {shown}")
    return "\n".join(lines)
