"""Argument checks shared by the search methods: clear errors that name the argument."""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Iterable
from concurrent.futures import Executor
from typing import Any

import numpy as np

from gdcourse.tuning.space import Space, as_space

__all__ = ["AllTrialsFailedWarning", "check_objective_names", "check_search_args", "warn_if_all_failed"]


class AllTrialsFailedWarning(UserWarning):
    """Every trial of a search failed: ``result.best`` is ``None`` (the message quotes the first failure)."""


def check_search_args(objective: Any, space: Any, budget: Any, seed: Any, executor: Any) -> tuple[Space, int, int]:
    """Validate the arguments every search takes; return ``(space, budget, seed)``, the space as a :class:`Space`.

    Parameters
    ----------
    objective : callable
        Called as ``objective(**params)``; anything else raises ``TypeError``.
    space : dict or Space
        ``{name: dimension}``; names the objective does not take raise ``ValueError``
        (:func:`check_objective_names`).
    budget : int
        Number of trials, at least 1 (else ``ValueError``; ``True`` is not a number here).
    seed : int
        The search's seed, at least 0 (else ``ValueError``).
    executor : concurrent.futures.Executor or None
        Where trials run: an executor or an object with its ``submit`` method (else ``TypeError``).
    """
    if not callable(objective):
        raise TypeError(f"objective must be callable as objective(**params), got {type(objective).__name__}")
    if isinstance(budget, bool) or not isinstance(budget, int | np.integer) or budget < 1:
        raise ValueError(f"budget must be a positive integer (the number of trials), got {budget!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if executor is not None and not (isinstance(executor, Executor) or callable(getattr(executor, "submit", None))):
        raise TypeError(
            "executor must be a concurrent.futures.Executor (or have its submit method), e.g. "
            f"ThreadPoolExecutor() or a dask client's client.get_executor(); got {type(executor).__name__}"
        )
    space = as_space(space)
    check_objective_names(objective, space)
    return space, int(budget), int(seed)


def check_objective_names(objective: Any, names: Iterable[str]) -> None:
    """Refuse a space whose hyperparameter ``names`` the objective does not take, before the first trial.

    Checked only when the objective has a signature with named parameters and no ``**kwargs``: a name
    the objective does not accept, or a required parameter the space does not give, would make every
    trial fail with the same :class:`TypeError`.

    Parameters
    ----------
    objective : callable
        The objective of the search.
    names : iterable of str
        The hyperparameters' names, in the space's order (iterating a space gives them).

    Raises
    ------
    ValueError
        Naming the hyperparameters that do not match the objective's parameters.
    """
    try:
        signature = inspect.signature(objective)
    except (TypeError, ValueError):  # a builtin or C callable without a signature: nothing to check
        return
    params = signature.parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return
    by_keyword = {p.name: p for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    names = list(names)
    unknown = [n for n in names if n not in by_keyword]
    missing = [n for n, p in by_keyword.items() if p.default is inspect.Parameter.empty and n not in names]
    if not unknown and not missing:
        return
    problems = []
    if unknown:
        problems.append(f"the search space has {unknown}, which the objective does not take")
    if missing:
        problems.append(f"the objective requires {missing}, which the search space does not give")
    raise ValueError(
        f"{' and '.join(problems)}: the objective is called as objective(**params) and takes "
        f"({', '.join(by_keyword) or 'no named parameters'}); rename the dimensions of the space to match"
    )


def warn_if_all_failed(result: Any) -> Any:
    """Return ``result``; warn (:class:`AllTrialsFailedWarning`) when it has trials and every one failed."""
    trials = getattr(result, "trials", ())
    if trials and not any(t.ok for t in trials):
        first = trials[0]
        warnings.warn(
            f"every one of the {len(trials)} trials of the {result.method} search failed, so result.best is None; "
            f"the first failure (trial {first.index}, {first.params}): {first.error}",
            AllTrialsFailedWarning,
            stacklevel=3,
        )
    return result
