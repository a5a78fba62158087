"""A time limit for a learner's code run by an in-notebook ``check``.

A loop that never ends would leave the check cell busy until the learner interrupts the kernel.  With
:func:`time_limit`, each case of a check gets ``seconds`` of wall time; then a
:class:`TimeLimitExceeded` is raised inside the learner's code and the check reports it as the outcome
of that case.  The exception derives from :class:`BaseException`, so ``except Exception:`` in the
learner's loop does not swallow it, and the timer fires again every half second until the code stops.

It needs ``signal.setitimer`` (Unix, macOS) and the main thread, which is where a Jupyter kernel runs
cells; elsewhere (Windows, a worker thread) the limit is simply not applied.  The grader does not use
this: it runs each submission in its own process with its own timeouts (:mod:`gdcourse.grading`).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

__all__ = ["CHECK_SECONDS_PER_CASE", "TimeLimitExceeded", "time_limit"]

CHECK_SECONDS_PER_CASE = 10.0
"""Wall time a learner's answer gets per case in :func:`gdcourse.exercises.check` (reference answers take
milliseconds)."""

_REPEAT_SECONDS = 0.5


class TimeLimitExceeded(BaseException):  # noqa: N818 - it reads as what happened
    """The learner's code ran past the time limit of one case."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"no result after {seconds:g} s: is there a loop that never ends?")
        self.seconds = seconds


def can_limit_time() -> bool:
    """``True`` where :func:`time_limit` works: a Unix timer signal, on the main thread."""
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`TimeLimitExceeded` in the block after ``seconds`` (``None``: no limit)."""
    if seconds is None or not can_limit_time():
        yield
        return

    def on_timer(signum: int, frame: object) -> None:
        raise TimeLimitExceeded(seconds)

    previous = signal.signal(signal.SIGALRM, on_timer)
    try:
        signal.setitimer(signal.ITIMER_REAL, seconds, _REPEAT_SECONDS)
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0, 0)
        signal.signal(signal.SIGALRM, previous)
