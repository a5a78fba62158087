"""Grading on a Dask distributed cluster: ``gdcourse grade --scheduler ADDRESS``.

The instructor's process keeps everything that must not be lost or duplicated: the plan (hidden seeds),
the journal, resume and the CSV.  Each submission becomes one Dask task, :func:`grade_task`, which a
Dask worker runs exactly as a local run does: it starts the same isolated worker process
(:class:`gdcourse.grading.sandbox.Sandbox`, bubblewrap where it works) with the same limits, then judges
the values it returns.  Results come back as the journal entries a local run writes and are journaled
in the order they arrive.

Dask reruns the task of a worker that dies (up to its ``allowed-failures``, 3 by default), so a
submission whose worker was killed is graded again elsewhere; the grader records the one result its
task returns, so nothing is lost or counted twice.  Each Dask worker process builds its sandbox once
(from a :class:`SandboxConfig`) and reuses it.

``"local:N"`` starts a ``LocalCluster`` of ``N`` single-threaded worker processes on this machine (for a
test, or to use this machine's cores through the same path).  For a real cluster, start a scheduler and
workers on machines that have this project installed (same Python, same ``gdcourse``, Debian's
``bubblewrap``), and pass the scheduler's address::

    dask scheduler                            # on one machine: prints tcp://10.0.0.5:8786
    dask worker tcp://10.0.0.5:8786 --nthreads 1 --nworkers 4   # on each grading machine
    gdcourse grade submissions/ -o grades/01.csv --scheduler tcp://10.0.0.5:8786

Submissions travel to the workers inside the task (they are data, read and parsed on this side); the
workers need no shared folder.  Needs ``pip install "gdcourse[distributed]"``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from gdcourse.grading.assess import GradingError, Plan
from gdcourse.grading.collect import Submission
from gdcourse.grading.sandbox import Limits, Sandbox
from gdcourse.grading.submission import Settings

__all__ = ["SandboxConfig", "check_scheduler", "grade_on_cluster", "grade_task"]


@dataclass(frozen=True)
class SandboxConfig:
    """What a Dask worker needs to build the grader's sandbox: the mode, the folders to hide, the limits."""

    mode: str
    hide: tuple[str, ...]
    limits: Limits


_SANDBOXES: dict[SandboxConfig, Sandbox] = {}
_LOCK = threading.Lock()


def _sandbox(config: SandboxConfig) -> Sandbox:
    """The sandbox of the current process for ``config``, built on first use (it probes bubblewrap once)."""
    with _LOCK:
        if config not in _SANDBOXES:
            _SANDBOXES[config] = Sandbox(config.mode, hide=config.hide, limits=config.limits)
        return _SANDBOXES[config]


def grade_task(sub: Submission, plan: Plan, config: SandboxConfig, settings: Settings) -> dict[str, Any]:
    """The Dask task of one submission: grade it on this worker as a local run would; the journal entry.

    Parameters
    ----------
    sub : Submission
        The submission, already read and parsed by the grader's process.
    plan : Plan
        The run's exercises and hidden cases.
    config : SandboxConfig
        The sandbox to grade in (built once per Dask worker process).
    settings : Settings
        The submission's time and size limits.

    Returns
    -------
    dict
        Its journal entry (a failure of the grader is recorded there, never raised).
    """
    from gdcourse.grading.runner import _grade_safely

    return _grade_safely(sub, plan, _sandbox(config), settings)


def check_scheduler(scheduler: str) -> int | None:
    """Check ``scheduler`` before any grading: the ``N`` of ``"local:N"``, else ``None`` (an address).

    Raises
    ------
    GradingError
        When Dask distributed is not installed, or ``local:N`` has no whole number ``N >= 1``.
    """
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise GradingError('--scheduler needs Dask distributed: pip install "gdcourse[distributed]"') from None
    if not scheduler.startswith("local:"):
        return None
    text = scheduler.split(":", 1)[1]
    if not text.isdigit() or int(text) < 1:
        raise GradingError(f"--scheduler local:N needs a number of workers N >= 1, got {scheduler!r}")
    return int(text)


def _client(scheduler: str) -> tuple[Any, Any]:
    """A Dask client for ``scheduler`` (and the ``LocalCluster`` it started for ``"local:N"``, else None)."""
    from distributed import Client, LocalCluster

    n = check_scheduler(scheduler)
    if n is not None:
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None)
        return Client(cluster), cluster
    try:
        return Client(scheduler, timeout=30), None
    except OSError as err:
        raise GradingError(f"cannot reach the Dask scheduler at {scheduler}: {err}") from None


def grade_on_cluster(
    scheduler: str, subs: Sequence[Submission], plan: Plan, config: SandboxConfig, settings: Settings
) -> Iterator[dict[str, Any]]:
    """Grade ``subs`` on the cluster; yield each journal entry as its task finishes (in that order).

    Parameters
    ----------
    scheduler : str
        A scheduler address (``"tcp://host:8786"``) or ``"local:N"`` for a ``LocalCluster`` of ``N``
        single-threaded worker processes (see :func:`check_scheduler`).
    subs : sequence of Submission
        The submissions to grade, one Dask task each.
    plan : Plan
        The run's exercises and hidden cases.
    config : SandboxConfig
        The sandbox each Dask worker grades in.
    settings : Settings
        Each submission's time and size limits.

    Yields
    ------
    dict
        One journal entry per submission, as its task finishes.

    Raises
    ------
    GradingError
        When the scheduler cannot be reached.
    """
    from distributed import as_completed

    client, cluster = _client(scheduler)
    try:
        # one task per submission, never merged with another or taken from a cache: pure=False
        futures = [
            client.submit(grade_task, sub, plan, config, settings, pure=False, key=f"grade-{i}-{sub.sha256[:16]}")
            for i, sub in enumerate(subs)
        ]
        try:
            for future in as_completed(futures):
                yield future.result()
        except BaseException:
            client.cancel(futures)
            raise
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
