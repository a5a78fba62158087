"""A one-line text progress bar on stderr, shown only on a terminal."""

from __future__ import annotations

import sys
from collections import Counter
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    """``[#######.............] 12/50  1 timeout  alice.ipynb``, redrawn in place.

    Parameters
    ----------
    total : int
        Number of submissions.
    enabled : bool
        Draw at all (``--quiet`` turns it off); even then nothing is drawn when
        ``stream`` is not a terminal.
    stream : file, optional
        Default ``sys.stderr``.
    """

    def __init__(self, total: int, *, enabled: bool = True, stream: TextIO | None = None, width: int = 30) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.total, self.width = total, width
        isatty = getattr(self.stream, "isatty", None)
        self.enabled = enabled and callable(isatty) and isatty()
        self._drawn = False

    def update(self, done: int, statuses: Counter, current: str = "") -> None:
        """Redraw with ``done`` submissions finished; ``statuses`` counts them by status.

        Parameters
        ----------
        done : int
            Submissions finished so far (graded or taken from the journal).
        statuses : Counter
            Those submissions by status; every status but ``ok`` is shown with its count.
        current : str
            The file just finished (its first 30 characters are shown), or ``""``.
        """
        if not self.enabled:
            return
        filled = self.width * done // self.total if self.total else self.width
        problems = "  ".join(f"{n} {status}" for status, n in sorted(statuses.items()) if status != "ok" and n)
        line = f"[{'#' * filled}{'.' * (self.width - filled)}] {done}/{self.total}"
        if problems:
            line += f"  {problems}"
        if current:
            line += f"  {current[:30]}"
        self.stream.write("\r" + line + "\033[K")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        """End the line."""
        if self.enabled and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
