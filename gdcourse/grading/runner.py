"""Grade a folder of submitted notebooks: the batch, one submission, and the verdicts.

See :func:`grade` and ``docs/grading.md``.  In short: every file in the folder is
a submission (student = file stem); its code runs in a fresh worker
(:mod:`gdcourse.grading.sandbox`) that reports the values the learner's answers
compute on inputs drawn from hidden seeds; this process judges them with
:meth:`gdcourse.exercises.core.Exercise.assess`; each result is journaled as it
comes; the CSV and the feedback files are written at the end.
"""

from __future__ import annotations

import concurrent.futures
import os
import secrets
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gdcourse.exercises.core import Exercise
from gdcourse.grading import notebook_code as nbc
from gdcourse.grading import options
from gdcourse.grading.assess import GradingError, Plan, judge, make_plan, secret_digest
from gdcourse.grading.class_report import render_html, render_markdown, summarize, write_gradebook
from gdcourse.grading.cluster import SandboxConfig, check_scheduler, grade_on_cluster
from gdcourse.grading.collect import (
    Submission,
    cell_text,
    feedback_file_name,
    list_submissions,
    read_roster,
    read_roster_ids,
    read_submission,
)
from gdcourse.grading.journal import Journal, JournalMismatch
from gdcourse.grading.parse import parse_submission
from gdcourse.grading.progress import Progress
from gdcourse.grading.report import render_feedback, write_atomic, write_csv
from gdcourse.grading.sandbox import Limits, Sandbox, SandboxUnavailable
from gdcourse.grading.submission import Settings, grade_submission

__all__ = ["GradeReport", "GradingError", "grade"]


@dataclass
class GradeReport:
    """What :func:`grade` did.

    Attributes
    ----------
    csv : Path
    journal : Path
    feedback : Path or None
        Folder of the feedback files.
    sandbox : str
        ``"bwrap"`` or ``"none"``.
    exercise_ids : list of str
        The CSV's exercise columns.
    isolation : str
        How this run's workers were isolated (:attr:`gdcourse.grading.sandbox.Sandbox.isolation`).
    entries : list of dict
        One row per CSV line: the submission's journal entry with the student's name in
        this run (and status ``duplicate`` or ``absent`` where that applies), sorted by student.
    graded, reused : int
        Submissions graded in this run, and results taken from the journal (``resume``).
    duplicates : list of str
        Students whose name two files give (their rows say ``duplicate``).
    missing, unknown : list of str
        With a roster: its students without a submission, and submissions of students not on it.
    seconds : float
        Wall-clock time of the run.
    class_report : list of Path
        The class report's HTML and Markdown files (empty when not written).
    gradebook : Path or None
        The gradebook written, if any.
    """

    csv: Path
    journal: Path
    feedback: Path | None
    sandbox: str
    exercise_ids: list[str]
    isolation: str = ""
    entries: list[dict[str, Any]] = field(default_factory=list)
    graded: int = 0
    reused: int = 0
    duplicates: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    seconds: float = 0.0
    class_report: list[Path] = field(default_factory=list)
    gradebook: Path | None = None

    @property
    def counts(self) -> Counter:
        """Submissions per status."""
        return Counter(e["status"] for e in self.entries)


def _registry(exercises: Mapping[str, Exercise] | Iterable[Exercise] | None) -> list[Exercise]:
    if exercises is None:
        from gdcourse.exercises import all_exercises

        return list(all_exercises())
    if isinstance(exercises, Mapping):
        return list(exercises.values())
    return list(exercises)


def _read_and_parse(sub: Submission, max_bytes: int) -> None:
    """Read and parse one submission in place; any failure becomes ``sub.problem``, never an exception."""
    try:
        data = read_submission(sub, max_bytes)
        if data is not None:
            sub.code, sub.checks = parse_submission(data, max_bytes=max_bytes)
    except nbc.InvalidNotebook as err:
        sub.problem = str(err)
    except Exception as err:  # noqa: BLE001 - one file never stops the batch
        sub.problem = f"the file could not be read ({type(err).__name__})"


def _read_all(subs: list[Submission], max_bytes: int, jobs: int) -> None:
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(lambda sub: _read_and_parse(sub, max_bytes), subs))


def _expected(
    registry: list[Exercise], subs: list[Submission], notebooks: Sequence[str] | None, warn: Callable[[str], None]
) -> list[Exercise]:
    """The exercises every submission is graded on: those of the given notebooks, or of the batch's majority."""
    if notebooks is None:
        valid = [s for s in subs if s.code is not None]
        votes: Counter = Counter()
        for sub in valid:
            votes.update({nbc.notebook_prefix(i) for i in sub.checks or {}} - {None})
        chosen = sorted(p for p, n in votes.items() if 2 * n >= len(valid))
        ignored = sorted(set(votes) - set(chosen))
        if ignored:
            warn(f"checks of notebook(s) {', '.join(ignored)} appear in a minority of submissions and are not graded")
        notebooks = chosen
    wanted = {str(n).zfill(2) for n in notebooks}
    return [ex for ex in registry if nbc.notebook_prefix(ex.id) in wanted]


def _check_options(jobs: int, settings: Settings, limits: Limits) -> None:
    """Every numeric option by :func:`gdcourse.grading.options.problem`; a GradingError naming the option otherwise."""
    values = {
        "jobs": jobs,
        "timeout": settings.timeout,
        "cell_timeout": settings.cell_timeout,
        "exercise_timeout": settings.exercise_timeout,
        "memory_mb": limits.memory_mb,
        "file_size_mb": limits.file_size_mb,
        "open_files": limits.open_files,
        "disk_mb": limits.disk_mb,
    }
    for name, value in values.items():
        why = options.problem(name, value)
        if why is not None:
            raise GradingError(f"{name.replace('_', '-')}: {why}")


@dataclass(frozen=True)
class _Paths:
    """Where a run reads and writes, as absolute paths (see :func:`grade`'s parameters for the defaults)."""

    submissions: Path
    csv: Path
    journal: Path
    feedback: Path | None  # None: no feedback files
    reports: list[Path]  # the class report's HTML and Markdown files (written only with class_report)
    gradebook: Path | None

    def others(self, class_report: bool) -> list[Path]:
        """The files this run writes besides the CSV."""
        return [self.journal, *(self.reports if class_report else []), *([self.gradebook] if self.gradebook else [])]

    def hidden(self, roster: str | os.PathLike | None, hide: Sequence[str | os.PathLike]) -> list[str | os.PathLike]:
        """The folders the workers must not see: the submissions, the outputs, the roster's and ``hide``."""
        return [
            self.submissions,
            self.csv.parent,
            self.journal.parent,
            *([self.feedback] if self.feedback else []),
            *([Path(roster).absolute().parent] if roster is not None else []),
            *hide,
        ]


def _paths(
    submissions_dir: str | os.PathLike,
    output_csv: str | os.PathLike,
    journal: str | os.PathLike | None,
    feedback: bool,
    feedback_dir: str | os.PathLike | None,
    gradebook: str | os.PathLike | None,
) -> _Paths:
    """The run's paths from :func:`grade`'s arguments, defaults filled in next to the CSV."""
    csv_path = Path(output_csv).absolute()
    feedback_path = None
    if feedback:
        default_feedback = csv_path.with_name(csv_path.stem + ".feedback")
        feedback_path = Path(feedback_dir).absolute() if feedback_dir else default_feedback
    return _Paths(
        submissions=Path(submissions_dir).resolve(),
        csv=csv_path,
        journal=Path(journal).absolute() if journal else csv_path.with_name(csv_path.name + ".journal"),
        feedback=feedback_path,
        reports=[csv_path.with_name(f"{csv_path.stem}.report.{ext}") for ext in ("html", "md")],
        gradebook=Path(gradebook).absolute() if gradebook is not None else None,
    )


def _check_request(
    paths: _Paths, class_report: bool, roster: str | os.PathLike | None, scheduler: str | None, only: str | None
) -> None:
    """Refuse, before reading any submission, a request that cannot be carried out (a GradingError saying why)."""
    if paths.gradebook is not None and roster is None:
        raise GradingError("--gradebook needs --roster: the gradebook's rows are the roster's students and ids")
    _check_outputs(paths.submissions, paths.csv, paths.others(class_report), paths.feedback)
    if scheduler is not None:
        check_scheduler(scheduler)
    if only is not None and not paths.journal.exists():
        raise GradingError(f"--only regrades one file of a graded class: there is no journal at {paths.journal}")


def _check_outputs(submissions: Path, csv_path: Path, others: Sequence[Path], feedback: Path | None) -> None:
    """Refuse, before any grading, outputs that could not be written or would land among the submissions."""
    if not submissions.is_dir():
        raise GradingError(f"{submissions} is not a folder")
    for path in [csv_path, *others, *([feedback] if feedback else [])]:
        if path == submissions or submissions in path.parents:
            raise GradingError(
                f"{path} is inside the submissions folder {submissions}: write outputs elsewhere "
                "(a file there would be graded as a submission)"
            )
    for path in [csv_path, *others]:
        if path.is_dir():
            raise GradingError(f"{path} is a folder: give the path of a file to write")
    if feedback is not None and feedback.exists() and not feedback.is_dir():
        raise GradingError(f"the feedback folder {feedback} is a file: give another --feedback folder")
    for folder in {p.parent for p in [csv_path, *others]} | ({feedback} if feedback else set()):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise GradingError(f"cannot create the folder {folder}: {err.strerror}") from None
        if not os.access(folder, os.W_OK | os.X_OK):
            raise GradingError(f"cannot write in {folder}")


def _read_class(
    roster: str | os.PathLike | None, gradebook: Path | None
) -> tuple[list[str] | None, list[tuple[str, str]]]:
    """The roster's students (None without a roster) and, for a gradebook, their ids."""
    try:
        class_list = read_roster(roster) if roster is not None else None
        roster_ids = read_roster_ids(roster) if gradebook is not None and roster is not None else []
    except ValueError as err:
        raise GradingError(str(err)) from None
    return class_list, roster_ids


def _read_submissions(folder: Path, only: str | None, max_bytes: int, jobs: int) -> list[Submission]:
    """Every submission of ``folder``, read and parsed (``only`` must be one of them)."""
    subs = list_submissions(folder)
    if only is not None and only not in {sub.file for sub in subs}:
        raise GradingError(f"--only {only!r}: no such file in {folder}")
    _read_all(subs, max_bytes, jobs)
    return subs


def _exercises_to_grade(
    exercises: Mapping[str, Exercise] | Iterable[Exercise] | None,
    subs: list[Submission],
    notebooks: Sequence[str] | None,
    warn: Callable[[str], None],
) -> list[Exercise]:
    """The exercises of the registry that every submission is graded on; a GradingError when there are none."""
    expected = _expected(_registry(exercises), subs, notebooks, warn)
    if not expected:
        raise GradingError(
            "no exercises to grade: no registered exercise belongs to "
            + (f"notebook(s) {', '.join(notebooks)}" if notebooks else "the notebooks the submissions check")
        )
    return expected


def _open_journal(
    path: Path, points: dict[str, float], resume: bool, secret: str | None, warn: Callable[[str], None]
) -> tuple[Journal, bool, str | None]:
    """The journal, whether this run resumes it (not when there is none yet), and the secret to use."""
    log = Journal(path)
    if resume and not path.exists():
        warn(f"there is no journal at {path} to resume: grading every submission")
        resume = False
    if resume:
        secret = _resume_journal(log, points, secret)
    return log, resume, secret


def _resume_journal(log: Journal, points: dict[str, float], secret: str | None) -> str:
    """Open ``log`` for resuming; check it matches this run; return the secret to use."""
    try:
        header = log.resume()
        if header.get("exercises") != points:
            raise GradingError(f"{log.path} was written for other exercises or points; grade without resume")
        if secret is None:
            secret = header.get("secret")
            if secret is None:
                raise GradingError("this journal was made with an explicit secret: pass the same secret to resume")
        elif header.get("secret_digest") != secret_digest(secret):
            raise GradingError("the secret differs from the journal's: pass the same secret to resume")
    except (GradingError, JournalMismatch) as err:
        log.close()
        raise GradingError(str(err)) from err
    return secret


def _journal_header(points: dict[str, float], plan_secret: str, secret: str | None) -> dict[str, Any]:
    """A fresh journal's header: the exercises' points and the secret's digest (the secret too when made up here)."""
    return {
        "exercises": points,
        "secret_digest": secret_digest(plan_secret),
        "secret": None if secret else plan_secret,
    }


def _plan_and_sandbox(
    log: Journal,
    expected: list[Exercise],
    secret: str,
    mode: str,
    hide: Sequence[str | os.PathLike],
    limits: Limits,
    warn: Callable[[str], None],
) -> tuple[Plan, Sandbox]:
    """The hidden cases drawn from ``secret``, and the sandbox the workers run in (the journal closed on failure)."""
    try:
        plan = make_plan(expected, secret)
        box = Sandbox(mode, hide=hide, limits=limits, warn=warn)
    except GradingError:
        log.close()
        raise
    except SandboxUnavailable as err:
        log.close()
        raise GradingError(str(err)) from err
    return plan, box


@dataclass
class _Run:
    """A planned run: its journal, hidden cases, sandbox and report, and the result of each file so far."""

    log: Journal
    plan: Plan
    box: Sandbox
    report: GradeReport
    progress: Progress
    done: dict[str, dict[str, Any]] = field(default_factory=dict)

    def resume_from_journal(self, subs: list[Submission], resume: bool, only: str | None) -> list[Submission]:
        """Take the journal's result of every unchanged file (``only`` aside); return the submissions to grade."""
        pending = []
        for sub in subs:
            previous = self.log.find(sub.file, sub.sha256) if resume and sub.file != only else None
            if previous is not None:
                self.done[sub.file] = previous
            else:
                pending.append(sub)
        if only is not None and [sub.file for sub in pending] != [only]:
            self.box.stop()  # nothing will be graded: remove the sandbox's folder now, not at interpreter exit
            self.log.close()
            others_left = sorted(sub.file for sub in pending if sub.file != only)
            raise GradingError(
                f"--only {only!r}: the journal has no result for {', '.join(others_left[:5])}"
                f"{' and more' if len(others_left) > 5 else ''} (new or changed files): grade the class with --resume"
            )
        self.report.reused = len(self.done)
        return pending

    def dispatch(
        self, pending: list[Submission], settings: Settings, jobs: int, scheduler: str | None, mode: str
    ) -> None:
        """Grade ``pending`` on the Dask cluster or in ``jobs`` threads, recording each result as it comes.

        ``mode`` is :func:`grade`'s ``sandbox`` option, for the sandboxes of the Dask workers.  The sandbox
        is stopped, the progress bar ended and the journal closed however it ends.
        """
        self.progress.update(len(self.done), self._statuses())
        try:
            if scheduler is not None:
                config = SandboxConfig(mode, tuple(str(h) for h in self.box.hidden_paths), self.box.limits)
                for entry in grade_on_cluster(scheduler, pending, self.plan, config, settings):
                    self.record(entry)
            else:
                self._grade_in_threads(pending, settings, jobs)
        finally:
            self.box.stop()
            self.progress.close()
            self.log.close()

    def _grade_in_threads(self, pending: list[Submission], settings: Settings, jobs: int) -> None:
        """Each submission in a thread of its own (``jobs`` at a time); on any interruption, stop every worker."""
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(_grade_safely, sub, self.plan, self.box, settings): sub for sub in pending}
            try:
                for future in concurrent.futures.as_completed(futures):
                    self.record(future.result())
            except BaseException:
                for future in futures:
                    future.cancel()
                self.box.stop()
                raise

    def record(self, entry: dict[str, Any]) -> None:
        """Journal one result (on disk before anything else), then count it and show it."""
        self.log.append(entry)
        self.done[entry["file"]] = entry
        self.report.graded += 1
        self.progress.update(len(self.done), self._statuses(), cell_text(entry["file"]))

    def _statuses(self) -> Counter:
        return Counter(e["status"] for e in self.done.values())


def grade(
    submissions_dir: str | os.PathLike,
    output_csv: str | os.PathLike,
    *,
    jobs: int = 1,
    resume: bool = False,
    exercises: Mapping[str, Exercise] | Iterable[Exercise] | None = None,
    notebooks: Sequence[str] | None = None,
    timeout: float = 300.0,
    cell_timeout: float = 60.0,
    exercise_timeout: float = 30.0,
    memory_mb: int = 2048,
    file_size_mb: int = 64,
    open_files: int = 256,
    disk_mb: int = 256,
    feedback_dir: str | os.PathLike | None = None,
    feedback: bool = True,
    journal: str | os.PathLike | None = None,
    secret: str | None = None,
    sandbox: str = "auto",
    hide: Sequence[str | os.PathLike] = (),
    roster: str | os.PathLike | None = None,
    quiet: bool = False,
    warn: Callable[[str], None] | None = None,
    class_report: bool = True,
    gradebook: str | os.PathLike | None = None,
    assignment: str | None = None,
    only: str | None = None,
    scheduler: str | None = None,
) -> GradeReport:
    """Grade every submission in ``submissions_dir`` and write the scores to ``output_csv``.

    Parameters
    ----------
    submissions_dir : path
        Folder of submitted notebooks; every entry not starting with ``.`` (nor ending
        with ``~``) is a submission and gets a CSV row (not recursive).  Anything but a
        regular file (a link, a folder, a device) is an ``invalid`` row and is never
        followed or opened.  The student's name is the file name without ``.ipynb``
        (see :mod:`gdcourse.grading.collect` for collisions).
    output_csv : path
        The scores: ``student, file, sha256, status, isolation, <one column per exercise>,
        total, max``, rows sorted by student; written atomically once all are graded.
        Must not be a folder nor inside ``submissions_dir`` (nor may the journal or the
        feedback folder).
    jobs : int
        Submissions graded in parallel (one worker process each).
    resume : bool
        Continue an interrupted run from its journal: submissions already in it with the
        same file name and SHA-256 are not graded again (everything is graded, with a
        warning, when there is no journal yet).
    exercises : mapping or iterable of Exercise, optional
        The registry to grade from (default: :func:`gdcourse.exercises.all_exercises`).
    notebooks : sequence of str, optional
        Grade the exercises of these notebook numbers (``["01"]``).  Default: the notebook
        numbers of the ``check`` calls found in at least half of the valid submissions.
        A submission is graded on all of them: a deleted check cell scores 0 ("missing").
    timeout : float
        Wall-clock seconds for a whole submission (all its worker runs).
    cell_timeout : float
        Seconds for one code cell; a cell that runs longer is stopped and the next one runs.
    exercise_timeout : float
        Seconds for one exercise's cases; an exercise that runs longer scores 0 ("timeout")
        and the next exercises are still graded.
    memory_mb, file_size_mb, open_files, disk_mb : int
        Worker resource limits (see :class:`gdcourse.grading.sandbox.Limits`).
    feedback_dir : path, optional
        Folder for ``<student>.txt`` feedback files (default: next to the CSV, named after
        it: ``grades/01.csv`` -> ``grades/01.feedback/``, so assignments never share one).
    feedback : bool
        Write feedback files at all.
    journal : path, optional
        The journal (default: ``<output_csv>.journal``).
    secret : str, optional
        Where the hidden seeds come from.  Default: a random secret, kept in the journal
        so that ``resume`` uses the same seeds.  Pass the same secret to regrade with
        the same hidden cases.
    sandbox : {"auto", "bwrap", "none"}
        Use bubblewrap when it works / always (fail otherwise) / never.
    hide : sequence of path
        More folders the workers must not see (the submissions, output, journal and
        feedback folders, the course checkout and home folders are always hidden).
    roster : path, optional
        A CSV of the class (its ``student`` column, else its first column): each student
        without a submission gets an ``absent`` row; the report lists them
        (``missing``) and the submissions of students not on it (``unknown``).
    quiet : bool
        No progress bar (it is only shown on a terminal anyway).
    warn : callable, optional
        Receives warnings (default: printed to stderr).
    class_report : bool
        Also write the class report next to the CSV, ``<stem>.report.html`` and ``<stem>.report.md``
        (:mod:`gdcourse.grading.class_report`: pass rates, most frequent diagnoses, score histogram,
        roster problems).
    gradebook : path, optional
        Add (or replace) this run's column in a gradebook CSV for a learning-management system
        (:func:`gdcourse.grading.class_report.write_gradebook`); needs ``roster`` (the student ids).
    assignment : str, optional
        The gradebook column's name (default: the CSV's file name without ``.csv``).
    scheduler : str, optional
        Hand the submissions to a Dask distributed cluster instead of ``jobs`` local threads:
        a scheduler address (``"tcp://host:8786"``) or ``"local:N"`` for a ``LocalCluster`` of ``N``
        single-threaded worker processes on this machine (:mod:`gdcourse.grading.cluster`).  Each
        Dask worker grades with the same isolated worker process and limits as a local run; the
        journal, resume and the atomic CSV stay here.  A submission whose Dask worker dies is graded
        again elsewhere, and recorded once.
    only : str, optional
        Regrade only this file of the folder (e.g. ``"ana.ipynb"``, after a late or corrected submission)
        and take every other result from the journal, which must hold all of them: the CSV, the report
        and the gradebook are rewritten for the whole class.

    Returns
    -------
    GradeReport

    Raises
    ------
    GradingError
        Before grading: an option that is not a positive number, outputs that cannot be
        written or are folders, bad folders, an unreadable roster, no exercises to grade,
        an exercise whose cases cannot be sent to a worker or whose reference fails
        them, or a journal that does not match (resume).  After grading: an output that
        could not be written (the message says how to finish with ``resume``).
    """
    started = time.monotonic()
    # check the request, then read the class and its submissions
    warn = warn or (lambda text: print(f"warning: {text}", file=sys.stderr))
    settings = Settings(timeout=timeout, cell_timeout=cell_timeout, exercise_timeout=exercise_timeout)
    limits = Limits(memory_mb=memory_mb, file_size_mb=file_size_mb, open_files=open_files, disk_mb=disk_mb)
    _check_options(jobs, settings, limits)
    paths = _paths(submissions_dir, output_csv, journal, feedback, feedback_dir, gradebook)
    _check_request(paths, class_report, roster, scheduler, only)
    resume = resume or only is not None
    class_list, roster_ids = _read_class(roster, paths.gradebook)
    subs = _read_submissions(paths.submissions, only, settings.max_notebook_bytes, jobs)
    expected = _exercises_to_grade(exercises, subs, notebooks, warn)
    # plan: the hidden cases (drawn from the journal's secret when resuming) and the sandbox
    points = {ex.id: float(ex.points) for ex in expected}
    log, resume, secret = _open_journal(paths.journal, points, resume, secret, warn)
    plan_secret = secret if secret is not None else secrets.token_hex(16)
    plan, box = _plan_and_sandbox(log, expected, plan_secret, sandbox, paths.hidden(roster, hide), limits, warn)
    if not resume:
        log.start(_journal_header(points, plan_secret, secret))
    report = GradeReport(paths.csv, paths.journal, paths.feedback, box.mode, plan.ids, isolation=box.isolation)
    run = _Run(log, plan, box, report, Progress(len(subs), enabled=not quiet))
    # resume from the journal, then dispatch the rest, recording each result as it comes
    pending = run.resume_from_journal(subs, resume, only)
    run.dispatch(pending, settings, jobs, scheduler, sandbox)
    # write the outputs
    report.entries = _class_rows(subs, run.done, class_list, plan, report)
    _write_results(report, plan, paths, class_report, roster_ids, assignment)
    report.seconds = time.monotonic() - started
    return report


def _grade_safely(sub: Submission, plan: Plan, box: Sandbox, settings: Settings) -> dict[str, Any]:
    """:func:`grade_submission`, with any failure of the grader on this submission recorded as its result."""
    try:
        return grade_submission(sub, plan, box, settings)
    except Exception as err:  # noqa: BLE001 - one submission never stops the batch
        entry = _ungraded_row(plan, sub.student, "error", "the grader failed on this submission (your instructor "
                              "has been told)", file=sub.file, sha256=sub.sha256)  # fmt: skip
        return {"type": "result", **entry, "raw": f"{type(err).__name__}: {err}"[:1000]}


def _ungraded_row(plan: Plan, student: str, status: str, note: str, file: str = "", sha256: str = "") -> dict:
    """A row whose every exercise has ``status`` and no point (a grader failure, a student absent)."""
    records = {ex.id: judge(ex, [], None, status) for ex in plan.exercises}
    return {
        "student": student,
        "file": file,
        "sha256": sha256,
        "isolation": "",
        "status": status,
        "points": {i: 0.0 for i in records},
        "total": 0.0,
        "max": float(sum(ex.points for ex in plan.exercises)),
        "exercises": records,
        "cells": [],
        "note": note,
    }


def _class_rows(
    subs: list[Submission],
    done: dict[str, dict[str, Any]],
    class_list: list[str] | None,
    plan: Plan,
    report: GradeReport,
) -> list[dict[str, Any]]:
    """One row per submission (named as in this run), and one per roster student who submitted nothing."""
    rows = []
    for sub in subs:
        row = dict(done[sub.file], student=sub.student)
        if sub.duplicate:
            row["status"] = "duplicate"
            report.duplicates.append(sub.student)
        rows.append(row)
    if class_list is not None:
        listed = {name.casefold() for name in class_list}
        submitted = {sub.student.casefold() for sub in subs}
        report.unknown = sorted(sub.student for sub in subs if sub.student.casefold() not in listed)
        report.missing = sorted({name for name in class_list if name.casefold() not in submitted})
        rows += [_ungraded_row(plan, name, "absent", "no submission") for name in report.missing]
    return sorted(rows, key=lambda e: (e["student"], e["file"]))


def _write_class_report(report: GradeReport, plan: Plan, paths: list[Path]) -> None:
    """The class report, HTML and Markdown, next to the CSV (:mod:`gdcourse.grading.class_report`)."""
    summary = summarize(
        report.entries,
        {ex.id: ex.title for ex in plan.exercises},
        missing=report.missing,
        unknown=report.unknown,
        duplicates=report.duplicates,
    )
    title = f"Class report: {report.csv.stem}"
    try:
        write_atomic(paths[0], render_html(summary, title=title))
        write_atomic(paths[1], render_markdown(summary))
    except OSError as err:
        raise GradingError(f"could not write the class report {paths[0]}: {err.strerror or err}") from None


def _write_outputs(report: GradeReport, plan: Plan) -> None:
    """The CSV, then the feedback files; a failure says where the results are and how to finish."""
    titles = {ex.id: ex.title for ex in plan.exercises}
    path = report.csv
    try:
        write_csv(path, report.entries, plan.ids)
        if report.feedback is not None:
            for entry in report.entries:
                if entry["status"] == "absent":
                    continue
                path = report.feedback / feedback_file_name(entry["student"])
                write_atomic(path, render_feedback(entry, titles, plan.ids))
    except OSError as err:
        raise GradingError(
            f"could not write {path} ({err.strerror or err}). Every result is in the journal {report.journal}: "
            "make room or fix the permissions, then run the same command with --resume (nothing is graded again)"
        ) from None


def _write_results(
    report: GradeReport,
    plan: Plan,
    paths: _Paths,
    class_report: bool,
    roster_ids: list[tuple[str, str]],
    assignment: str | None,
) -> None:
    """The CSV and the feedback files, then the class report and the gradebook's column where asked for."""
    _write_outputs(report, plan)
    if class_report:
        report.class_report = paths.reports
        _write_class_report(report, plan, paths.reports)
    if paths.gradebook is not None:
        column = (assignment or paths.csv.stem).strip()
        try:
            write_gradebook(paths.gradebook, report.entries, roster_ids, column)
        except (OSError, ValueError) as err:
            raise GradingError(f"could not write the gradebook {paths.gradebook}: {err}") from None
        report.gradebook = paths.gradebook
