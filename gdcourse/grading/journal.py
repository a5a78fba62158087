"""The grading journal: one JSON line per graded submission, appended and fsynced as each finishes.

The first line is a header that fixes what the results mean (the exercises and
their points, a digest of the secret the hidden seeds come from, and the secret
itself when the grader made it up).  ``--resume`` reads the journal, checks the
header against the current run and skips every submission whose file name and
SHA-256 already have an entry.  A line cut short by a crash is dropped (the
file is truncated back to its last complete line before anything is appended).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

__all__ = ["Journal", "JournalMismatch"]

VERSION = 1


class JournalMismatch(ValueError):
    """The journal was written by a run with other settings; it cannot be resumed."""


class Journal:
    """An append-only JSON-lines file of results.

    Use :meth:`start` for a fresh run (truncates) or :meth:`resume` to continue one.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.header: dict[str, Any] = {}
        self.entries: list[dict[str, Any]] = []
        self._fd: int | None = None

    def start(self, header: dict[str, Any]) -> None:
        """Begin a new journal with ``header``, replacing any old one."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.header = {"type": "header", "version": VERSION, **header}
        self.entries = []
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o600)
        try:
            self._write(self.header)
        except BaseException:  # e.g. a full disk: do not leave the file descriptor open
            self.close()
            raise

    def resume(self) -> dict[str, Any]:
        """Open an existing journal for appending; return its header (entries are in :attr:`entries`).

        Raises
        ------
        JournalMismatch
            When there is no journal or its header is missing or of another version.
        """
        if not self.path.exists():
            raise JournalMismatch(f"there is no journal to resume at {self.path}")
        data = self.path.read_bytes()
        complete = data[: data.rfind(b"\n") + 1]
        records = []
        for line in complete.splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                records.append(record)
        if not records or records[0].get("type") != "header" or records[0].get("version") != VERSION:
            raise JournalMismatch(f"{self.path} does not start with a version-{VERSION} grading journal header")
        self.header = records[0]
        self.entries = [r for r in records[1:] if r.get("type") == "result"]
        if len(complete) != len(data):
            with open(self.path, "r+b") as f:
                f.truncate(len(complete))
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        return self.header

    def append(self, entry: dict[str, Any]) -> None:
        """Add one result and make sure it is on disk before returning."""
        self._write(entry)
        self.entries.append(entry)

    def _write(self, record: dict[str, Any]) -> None:
        if self._fd is None:
            raise RuntimeError("journal is not open")
        data = (json.dumps(record, sort_keys=True, allow_nan=False, separators=(",", ":")) + "\n").encode()
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]
        os.fsync(self._fd)

    def find(self, file: str, sha256: str) -> dict[str, Any] | None:
        """The latest entry for ``file`` with content hash ``sha256``, if any.

        Parameters
        ----------
        file : str
            The submission's file name, as the folder lists it.
        sha256 : str
            The SHA-256 of its bytes: an entry of the same file with other content is not it.

        Returns
        -------
        dict or None
        """
        for entry in reversed(self.entries):
            if entry.get("file") == file and entry.get("sha256") == sha256:
                return entry
        return None

    def close(self) -> None:
        """Close the file (entries stay readable)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
