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
import hashlib
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
from gdcourse.grading.assess import GradingError, make_plan, secret_digest
from gdcourse.grading.journal import Journal, JournalMismatch
from gdcourse.grading.progress import Progress
from gdcourse.grading.report import render_feedback, write_atomic, write_csv
from gdcourse.grading.sandbox import Limits, Sandbox, SandboxUnavailable
from gdcourse.grading.submission import Settings, Submission, grade_submission

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
    entries : list of dict
        One journal entry per submission, sorted by student.
    graded, reused : int
        Submissions graded in this run, and results taken from the journal (``resume``).
    seconds : float
        Wall-clock time of the run.
    """

    csv: Path
    journal: Path
    feedback: Path | None
    sandbox: str
    exercise_ids: list[str]
    entries: list[dict[str, Any]] = field(default_factory=list)
    graded: int = 0
    reused: int = 0
    seconds: float = 0.0

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


def _read(path: Path, max_bytes: int) -> tuple[str, bytes | None]:
    """SHA-256 of the file, and its bytes unless it is larger than ``max_bytes``."""
    digest = hashlib.sha256()
    kept: list[bytes] = []
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
            if size <= max_bytes:
                kept.append(chunk)
    return digest.hexdigest(), b"".join(kept) if size <= max_bytes else None


def _list_submissions(folder: Path, max_bytes: int) -> list[Submission]:
    """Every regular file of ``folder`` not starting with ``.`` (nor ending ``~``), read and parsed."""
    paths = sorted(p for p in folder.iterdir() if not p.name.startswith(".") and not p.name.endswith("~"))
    paths = [p for p in paths if p.is_file()]
    stems = Counter(p.stem for p in paths)
    out = []
    for path in paths:
        sha256, data = _read(path, max_bytes)
        sub = Submission(path, path.name, path.stem if stems[path.stem] == 1 else path.name, sha256)
        try:
            if data is None:
                raise nbc.InvalidNotebook(f"file is larger than {max_bytes // 2**20} MB")
            sub.code = nbc.load_notebook(data, max_bytes=max_bytes)
        except nbc.InvalidNotebook as err:
            sub.problem = str(err)
        out.append(sub)
    return out


def _expected(
    registry: list[Exercise], subs: list[Submission], notebooks: Sequence[str] | None, warn: Callable[[str], None]
) -> list[Exercise]:
    """The exercises every submission is graded on: those of the given notebooks, or of the batch's majority."""
    if notebooks is None:
        valid = [s for s in subs if s.code is not None]
        votes: Counter = Counter()
        for sub in valid:
            votes.update({nbc.notebook_prefix(i) for i in nbc.find_checks(sub.code)} - {None})
        chosen = sorted(p for p, n in votes.items() if 2 * n >= len(valid))
        ignored = sorted(set(votes) - set(chosen))
        if ignored:
            warn(f"checks of notebook(s) {', '.join(ignored)} appear in a minority of submissions and are not graded")
        notebooks = chosen
    wanted = {str(n).zfill(2) for n in notebooks}
    return [ex for ex in registry if nbc.notebook_prefix(ex.id) in wanted]


def _check_folders(submissions: Path, outputs: Sequence[Path]) -> None:
    if not submissions.is_dir():
        raise GradingError(f"{submissions} is not a folder")
    for path in outputs:
        if path == submissions or submissions in path.parents:
            raise GradingError(
                f"{path} is inside the submissions folder {submissions}: write outputs elsewhere "
                "(a file there would be graded as a submission)"
            )


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
    quiet: bool = False,
    warn: Callable[[str], None] | None = None,
) -> GradeReport:
    """Grade every submission in ``submissions_dir`` and write the scores to ``output_csv``.

    Parameters
    ----------
    submissions_dir : path
        Folder of submitted notebooks; every regular file not starting with ``.`` is a
        submission (not recursive).  The student's name is the file's stem
        (``alice.ipynb`` -> ``alice``; the full file name when two files share a stem).
    output_csv : path
        The scores: ``student, file, sha256, status, <one column per exercise>, total, max``,
        rows sorted by student; written atomically once all are graded.  Must not be
        inside ``submissions_dir`` (nor may the journal or the feedback folder).
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
        Folder for ``<student>.txt`` feedback files (default: ``feedback/`` next to the CSV).
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
    quiet : bool
        No progress bar (it is only shown on a terminal anyway).
    warn : callable, optional
        Receives warnings (default: printed to stderr).

    Returns
    -------
    GradeReport

    Raises
    ------
    GradingError
        Bad folders, no exercises to grade, an exercise whose cases cannot be sent to a
        worker or whose reference fails them, or a journal that does not match (resume).
    """
    started = time.monotonic()
    warn = warn or (lambda text: print(f"warning: {text}", file=sys.stderr))
    submissions = Path(submissions_dir).resolve()
    csv_path = Path(output_csv).resolve()
    journal_path = Path(journal).resolve() if journal else csv_path.with_name(csv_path.name + ".journal")
    feedback_path = (
        (Path(feedback_dir).resolve() if feedback_dir else csv_path.parent / "feedback") if feedback else None
    )
    _check_folders(submissions, [p for p in (csv_path, journal_path, feedback_path) if p is not None])
    settings = Settings(timeout=timeout, cell_timeout=cell_timeout, exercise_timeout=exercise_timeout)
    subs = _list_submissions(submissions, settings.max_notebook_bytes)
    registry = _registry(exercises)
    expected = _expected(registry, subs, notebooks, warn)
    if not expected:
        raise GradingError(
            "no exercises to grade: no registered exercise belongs to "
            + (f"notebook(s) {', '.join(notebooks)}" if notebooks else "the notebooks the submissions check")
        )
    points = {ex.id: float(ex.points) for ex in expected}
    log = Journal(journal_path)
    if resume and not journal_path.exists():
        warn(f"there is no journal at {journal_path} to resume: grading every submission")
        resume = False
    if resume:
        secret = _resume_journal(log, points, secret)
    plan_secret = secret if secret is not None else secrets.token_hex(16)
    try:
        plan = make_plan(expected, plan_secret)
        box = Sandbox(
            sandbox,
            hide=[
                submissions,
                csv_path.parent,
                journal_path.parent,
                *([feedback_path] if feedback_path else []),
                *hide,
            ],
            limits=Limits(memory_mb=memory_mb, file_size_mb=file_size_mb, open_files=open_files, disk_mb=disk_mb),
            warn=warn,
        )
    except GradingError:
        log.close()
        raise
    except SandboxUnavailable as err:
        log.close()
        raise GradingError(str(err)) from err
    if not resume:
        log.start(
            {
                "exercises": points,
                "secret_digest": secret_digest(plan_secret),
                "secret": None if secret else plan_secret,
            }
        )
    report = GradeReport(csv_path, journal_path, feedback_path, box.mode, plan.ids)
    done: dict[str, dict[str, Any]] = {}
    pending = []
    for sub in subs:
        previous = log.find(sub.file, sub.sha256) if resume else None
        if previous is not None:
            done[sub.file] = previous
        else:
            pending.append(sub)
    report.reused = len(done)
    progress = Progress(len(subs), enabled=not quiet)
    progress.update(len(done), Counter(e["status"] for e in done.values()))
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = {pool.submit(grade_submission, sub, plan, box, settings): sub for sub in pending}
            try:
                for future in concurrent.futures.as_completed(futures):
                    entry = future.result()
                    log.append(entry)
                    done[entry["file"]] = entry
                    report.graded += 1
                    progress.update(len(done), Counter(e["status"] for e in done.values()), entry["file"])
            except BaseException:
                for future in futures:
                    future.cancel()
                box.stop()
                raise
    finally:
        box.stop()
        progress.close()
        log.close()
    report.entries = sorted(done.values(), key=lambda e: (e["student"], e["file"]))
    write_csv(csv_path, report.entries, plan.ids)
    if feedback_path is not None:
        titles = {ex.id: ex.title for ex in plan.exercises}
        for entry in report.entries:
            write_atomic(feedback_path / f"{entry['student']}.txt", render_feedback(entry, titles))
    report.seconds = time.monotonic() - started
    return report
