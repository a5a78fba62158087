r"""Trials, search results, and running trials through an executor.

Every search method asks for a batch of hyperparameter settings, runs them with
:func:`run_trials` and records one :class:`Trial` per setting, in the order the
settings were proposed.  A trial whose objective raises, or returns something
that is not a finite number (NaN, inf), is recorded with ``status="failed"`` and
the error; the search goes on.

Executors
---------
Trials run through any :class:`concurrent.futures.Executor`: the default
:class:`SerialExecutor` runs each one at once in this process; a
``ThreadPoolExecutor`` or ``ProcessPoolExecutor`` runs a batch in parallel; a
``dask.distributed`` client's ``client.get_executor()`` spreads it over a
cluster.  Results are collected in *submission* order (``future.result()`` one
future after the other), never in completion order, so the trials -- and every
later decision that depends on them -- are the same whichever executor ran them.
Each trial is submitted as ``executor.submit(evaluate_trial, objective, params)``
(positional arguments only, so no hyperparameter name can collide with an
executor's own keywords); for process-based executors ``objective`` must be
picklable (a module-level function or an instance of a module-level class).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from gdcourse.backend import to_numpy
from gdcourse.tuning.space import Space

__all__ = ["SearchResult", "SerialExecutor", "Trial", "evaluate_trial", "run_trials"]

Objective = Callable[..., float]


@dataclass(frozen=True)
class Trial:
    """One evaluation of the objective.

    Attributes
    ----------
    index : int
        Position in the search, 0 for the first trial.
    params : dict
        The hyperparameters, ``{name: value}``; the objective was called as ``objective(**params)``.
    value : float
        What the objective returned; ``nan`` for a failed trial.
    status : {"ok", "failed"}
        ``"failed"`` when the objective raised or returned NaN/inf or a non-number.
    error : str or None
        For a failed trial, why: ``"ValueError: ..."`` or ``"returned nan"``.
    """

    index: int
    params: dict[str, Any]
    value: float
    status: Literal["ok", "failed"]
    error: str | None = None

    @property
    def ok(self) -> bool:
        """``True`` when the objective returned a finite number."""
        return self.status == "ok"

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={_fmt(v)}" for k, v in self.params.items())
        outcome = f"value={self.value:.4g}" if self.ok else f"failed: {self.error}"
        return f"Trial({self.index}, {params}, {outcome})"


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else repr(value)


@dataclass(frozen=True)
class SearchResult:
    """Every trial of one search, in the order they were proposed.

    Attributes
    ----------
    method : str
        ``"grid"``, ``"random"`` or ``"bayes"``.
    space : Space
        The space searched.
    budget : int
        Trials allowed (grid search may use fewer: the largest grid that fits).
    seed : int
        The seed of the search.
    trials : tuple of Trial
        Every trial, failed ones included.
    """

    method: str
    space: Space
    budget: int
    seed: int
    trials: tuple[Trial, ...] = field(default_factory=tuple)

    def __len__(self) -> int:
        return len(self.trials)

    def __repr__(self) -> str:
        best = self.best
        tail = f"best value {best.value:.4g} at trial {best.index}" if best else "no successful trial"
        n_failed = sum(not t.ok for t in self.trials)
        return f"SearchResult({self.method}, {len(self.trials)} trials, {n_failed} failed, {tail})"

    @property
    def values(self) -> np.ndarray:
        """The objective's value at every trial (``nan`` where it failed)."""
        return np.array([t.value for t in self.trials], dtype=np.float64)

    @property
    def best(self) -> Trial | None:
        """The successful trial with the lowest value (the first of them on a tie); ``None`` if all failed."""
        ok = [t for t in self.trials if t.ok]
        return min(ok, key=lambda t: (t.value, t.index)) if ok else None

    @property
    def best_so_far(self) -> np.ndarray:
        r"""The best value after each trial, :math:`b_n = \min_{i \le n,\ \text{ok}} f(x_i)`.

        ``nan`` before the first successful trial.
        """
        values = np.where(np.isfinite(self.values), self.values, np.inf)
        best = np.minimum.accumulate(values) if len(values) else values
        return np.where(np.isfinite(best), best, np.nan)

    def trials_to_reach(self, target: float) -> int | None:
        """The number of trials after which the best value is at most ``target`` (``None``: never reached)."""
        reached = np.flatnonzero(np.nan_to_num(self.best_so_far, nan=np.inf) <= target)
        return int(reached[0]) + 1 if reached.size else None

    def params_list(self) -> list[dict[str, Any]]:
        """The hyperparameters of every trial, in order."""
        return [dict(t.params) for t in self.trials]


class SerialExecutor(Executor):
    """The default executor: ``submit`` runs the function at once, here, and returns a finished future."""

    def submit(self, fn: Callable, /, *args: Any, **kwargs: Any) -> Future:
        """Run ``fn(*args, **kwargs)`` now; a future holding its result, or the exception it raised.

        Parameters
        ----------
        fn : callable
            The function to run (positional only, as in :meth:`concurrent.futures.Executor.submit`).
        *args, **kwargs
            Its arguments.

        Returns
        -------
        concurrent.futures.Future
            Already done.
        """
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as err:  # noqa: BLE001 - delivered through the future, as any executor does
            future.set_exception(err)
        return future


def _as_value(value: Any) -> tuple[float, str | None]:
    """The objective's return value as a float, or the reason it is not a usable one.

    A Python or NumPy number, or a one-element array of any backend (a loss computed
    on CuPy, say: it is copied to the host with :func:`gdcourse.backend.to_numpy`).
    """
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        array = np.asarray(to_numpy(value))
    elif isinstance(value, numbers.Real) and not isinstance(value, bool):
        array = np.asarray(value)
    else:
        return math.nan, f"returned {type(value).__name__} {value!r:.60}, not a number"
    if array.dtype == bool or not np.issubdtype(array.dtype, np.number):
        return math.nan, f"returned an array of dtype {array.dtype}, not a number"
    if array.size != 1:
        return math.nan, f"returned an array of shape {array.shape}, not one number"
    number = float(array.reshape(()))
    if not math.isfinite(number):
        return math.nan, f"returned {number}"
    return number, None


def evaluate_trial(objective: Objective, params: Mapping[str, Any]) -> tuple[float, str | None]:
    """Call ``objective(**params)`` and return ``(value, None)``, or ``(nan, reason)`` when it fails.

    This is what runs on the worker: an exception inside the objective is caught
    there and comes back as data, so one bad trial cannot stop a search.

    Parameters
    ----------
    objective : callable
        The function to minimise.
    params : mapping of str
        One setting, passed as keyword arguments.

    Returns
    -------
    value, error : float, str or None
        The objective's value and ``None``; or ``nan`` and why the trial failed (the exception,
        or a value that is not one finite number).
    """
    try:
        value = objective(**params)
    except Exception as err:  # noqa: BLE001 - a failing trial is a result, not a crash
        return math.nan, f"{type(err).__name__}: {err}"
    return _as_value(value)


def run_trials(
    objective: Objective,
    batch: Sequence[Mapping[str, Any]],
    executor: Executor | None,
    start: int = 0,
) -> list[Trial]:
    """Evaluate a batch of settings through ``executor`` and return their trials, in submission order.

    Parameters
    ----------
    objective : callable
        Called as ``objective(**params)``; returns the number to minimise.
    batch : sequence of dict
        The settings to evaluate.
    executor : concurrent.futures.Executor or None
        Where the trials run; ``None`` runs them one by one here (:class:`SerialExecutor`).
    start : int
        Index of the first trial of the batch.
    """
    executor = SerialExecutor() if executor is None else executor
    futures = [executor.submit(evaluate_trial, objective, dict(params)) for params in batch]
    trials = []
    for offset, (params, future) in enumerate(zip(batch, futures, strict=True)):
        try:
            value, error = future.result()
        except Exception as err:  # noqa: BLE001 - e.g. the objective could not be sent to a worker
            value, error = math.nan, f"{type(err).__name__}: {err}"
        status: Literal["ok", "failed"] = "ok" if error is None else "failed"
        trials.append(Trial(start + offset, dict(params), value, status, error))
    return trials
