"""Find the submissions in a folder, read them safely, and name the students unambiguously.

Every entry of the folder becomes exactly one row of the CSV, whatever it is:

- a regular file is read through a descriptor opened with ``O_NOFOLLOW`` and
  checked with ``fstat`` (so a file swapped for a link or a FIFO after the
  listing is not followed), hashed, and parsed in a limited process
  (:func:`gdcourse.grading.parse.parse_submission`);
- anything else (a symbolic link, a folder, a device, a FIFO, a socket) is an
  ``invalid`` row with the reason; the grader never follows it, so
  ``mallory.ipynb -> alice.ipynb`` does not get alice's grade and
  ``eve.ipynb -> /etc/shadow`` is never read.

Names starting with ``.`` (``.ipynb_checkpoints``, ``.DS_Store``) or ending with
``~`` (editor backups) are not submissions.

Student names are the file name without ``.ipynb`` (or the stem of another
file), normalised to Unicode NFC.  When two files give the same name (compared
without case), both use their full file name; when even those collide (``é``
written as one character or as ``e`` and a combining accent, ``Alice.ipynb`` and
``alice.ipynb``), both rows are marked ``duplicate`` and numbered, and the
instructor decides.  :func:`cell_text` makes any name safe to show in a CSV
cell or a text file: no control characters, no invisible differences, no
spreadsheet formula.
"""

from __future__ import annotations

import csv
import errno
import hashlib
import os
import stat
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from gdcourse.grading import notebook_code as nbc

__all__ = [
    "ID_COLUMNS",
    "Submission",
    "cell_text",
    "feedback_file_name",
    "list_submissions",
    "read_roster",
    "read_roster_ids",
    "read_submission",
]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


@dataclass
class Submission:
    """One entry of the submissions folder.

    Attributes
    ----------
    path : Path
    file : str
        The entry's name as the file system has it (the journal's key, with its SHA-256).
    student : str
        The name on the CSV row (NFC; unique in the batch).
    sha256 : str
        Hash of the bytes graded; ``""`` for an entry that is not a regular file.
    duplicate : bool
        Another entry gives the same student name.
    code, checks
        The parsed notebook (``None`` while unread or when invalid).
    problem : str or None
        Why it is ``invalid``.
    """

    path: Path
    file: str
    student: str
    sha256: str = ""
    duplicate: bool = False
    code: nbc.NotebookCode | None = None
    checks: dict[str, nbc.Check] | None = None
    problem: str | None = None


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def cell_text(text: str) -> str:
    r"""``text`` as it may appear in a CSV cell or a feedback file.

    Control, format, surrogate (undecodable bytes) and unassigned characters are
    written as escapes (``\u202e``); in a name that is not in NFC form, combining
    marks are too, so two names that only differ by normalisation look
    different; a leading ``=``, ``+``, ``-``, ``@``, tab or newline gets a ``'``
    in front, so a spreadsheet shows the text instead of running a formula.
    """
    escape_marks = unicodedata.normalize("NFC", text) != text
    shown = "".join(
        _escape(c)
        if unicodedata.category(c).startswith("C") or (escape_marks and unicodedata.category(c).startswith("M"))
        else c
        for c in text
    )
    return "'" + shown if shown.startswith(_FORMULA_START) else shown


def feedback_file_name(student: str) -> str:
    """A file name for ``student``'s feedback: printable, and short enough for every file system."""
    name = cell_text(student).replace("/", "_").replace("\\", "_")
    if name.startswith("."):
        name = "_" + name
    if len(name.encode("utf-8")) > 200:
        digest = hashlib.sha256(student.encode("utf-8", "surrogateescape")).hexdigest()[:12]
        name = name.encode("utf-8")[:180].decode("utf-8", "ignore") + "-" + digest
    return name + ".txt"


def _stem(name: str) -> str:
    return name[: -len(".ipynb")] if name.endswith(".ipynb") and name != ".ipynb" else Path(name).stem or name


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _collisions(subs: list[Submission]) -> list[list[Submission]]:
    groups: dict[str, list[Submission]] = defaultdict(list)
    for sub in subs:
        groups[sub.student.casefold()].append(sub)
    return [group for group in groups.values() if len(group) > 1]


def _name_students(subs: list[Submission]) -> None:
    """Give every submission a unique student name; mark the ones that cannot be told apart."""
    for sub in subs:
        sub.student = _nfc(_stem(sub.file))
    while True:  # a stem that collides becomes the full file name (alice.ipynb, alice.json, alice.ipynb.ipynb)
        shortened = [s for group in _collisions(subs) for s in group if s.student != _nfc(s.file)]
        if not shortened:
            break
        for group in _collisions(subs):
            for sub in group:
                sub.student = _nfc(sub.file)
    for group in _collisions(subs):  # equal full names up to normalisation or case: a human decides
        group.sort(key=lambda s: s.file.encode("utf-8", "surrogateescape"))
        for number, sub in enumerate(group, 1):
            sub.student, sub.duplicate = f"{sub.student} ({number})", True


def _kind(mode: int) -> str | None:
    """Why an entry of this mode is not a submission, or ``None`` for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISLNK(mode):
        return "a symbolic link, not a file (the grader does not follow links: submit the notebook itself)"
    if stat.S_ISDIR(mode):
        return "a folder, not a file"
    return "not a regular file (a device, FIFO or socket)"


def list_submissions(folder: Path) -> list[Submission]:
    """Every entry of ``folder`` that is a submission (see the module docstring), with student names."""
    subs = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.startswith(".") or entry.name.endswith("~"):
                continue
            sub = Submission(Path(entry.path), entry.name, entry.name)
            try:
                sub.problem = _kind(entry.stat(follow_symlinks=False).st_mode)
            except OSError as err:
                sub.problem = f"cannot be read ({err.strerror})"
            subs.append(sub)
    subs.sort(key=lambda s: s.file.encode("utf-8", "surrogateescape"))
    _name_students(subs)
    return subs


def read_submission(sub: Submission, max_bytes: int) -> bytes | None:
    """Hash ``sub`` and return its bytes (``None``, with ``sub.problem`` set, when it is not a readable file).

    The file is opened without following links and without blocking, and must
    still be a regular file once open; a file larger than ``max_bytes`` is hashed
    but not kept.

    Parameters
    ----------
    sub : Submission
        The entry to read; its ``sha256`` and ``problem`` are set here.
    max_bytes : int
        Largest file kept, in bytes.
    """
    if sub.problem is not None:
        return None
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(sub.path, flags)
    except OSError as err:  # ELOOP: it became a link since the listing
        sub.problem = _kind(stat.S_IFLNK) if err.errno == errno.ELOOP else f"cannot be read ({err.strerror})"
        return None
    digest, kept, size = hashlib.sha256(), [], 0
    try:
        sub.problem = _kind(os.fstat(fd).st_mode)
        if sub.problem is not None:
            return None
        while chunk := os.read(fd, 1 << 20):
            digest.update(chunk)
            size += len(chunk)
            if size <= max_bytes:
                kept.append(chunk)
    except OSError as err:
        sub.problem = f"cannot be read ({err.strerror})"
        return None
    finally:
        os.close(fd)
    sub.sha256 = digest.hexdigest()
    if size > max_bytes:
        sub.problem = f"the file is larger than {max_bytes // 2**20} MB"
        return None
    return b"".join(kept)


ID_COLUMNS = ("student_id", "id", "sis_id", "sis user id", "email")
"""Roster columns that hold a student's id for the gradebook, in order of preference."""


def read_roster_ids(path: str | os.PathLike) -> list[tuple[str, str]]:
    """``(name, id)`` per student of a roster CSV, in file order.

    The id comes from the roster's first column of :data:`ID_COLUMNS` (case ignored), else it is
    the name itself.

    Raises
    ------
    ValueError
        As :func:`read_roster`, and for a roster whose header names no ``student`` column while it has an
        id column (which column is the name would be a guess).
    """
    names = read_roster(path)
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = [row for row in csv.reader(f) if any(cell.strip() for cell in row)]
    header = [cell.strip().casefold() for cell in rows[0]]
    id_column = next((header.index(c) for c in ID_COLUMNS if c in header), None)
    if id_column is None:
        return [(name, name) for name in names]
    if "student" not in header:
        raise ValueError(f"the roster {path} has an id column but no 'student' column naming the students")
    name_column = header.index("student")
    pairs = [
        (_nfc(row[name_column].strip()), row[id_column].strip())
        for row in rows[1:]
        if len(row) > max(name_column, id_column) and row[name_column].strip()
    ]
    return [(name, sid or name) for name, sid in pairs]


def read_roster(path: str | os.PathLike) -> list[str]:
    """The student names of a roster CSV: its ``student`` column, else its first column (NFC).

    Raises
    ------
    ValueError
        When the file cannot be read as CSV or lists nobody.
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = [row for row in csv.reader(f) if any(cell.strip() for cell in row)]
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise ValueError(f"cannot read the roster {path}: {err}") from None
    if not rows:
        raise ValueError(f"the roster {path} lists no student")
    header = [cell.strip().casefold() for cell in rows[0]]
    column = header.index("student") if "student" in header else 0
    body = rows[1:] if "student" in header or header[0] in ("name", "id", "student_id") else rows
    names = [_nfc(row[column].strip()) for row in body if len(row) > column and row[column].strip()]
    if not names:
        raise ValueError(f"the roster {path} lists no student")
    return names
