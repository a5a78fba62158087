r"""Grid search and random search, and :func:`search`, which runs any of the three methods.

All three methods share one signature::

    result = grid_search(objective, space, budget, seed=0, executor=None)
    result = random_search(objective, space, budget, seed=0, executor=None)
    result = bayesian_search(objective, space, budget, seed=0, executor=None)
    result = search(objective, space, budget, seed=0, executor=None, method="random")

``objective(**params)`` returns the number to minimise (say, a validation loss);
``space`` maps each hyperparameter to a dimension (:mod:`gdcourse.tuning.space`);
``budget`` is the number of trials.  Neither grid nor random search looks at the
values while it runs, so each submits all its trials at once: with a parallel
executor, the whole budget runs side by side.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import Executor
from typing import Any

import numpy as np

from gdcourse.tuning._checks import check_search_args, warn_if_all_failed
from gdcourse.tuning.space import Dimension, Space
from gdcourse.tuning.trials import Objective, SearchResult, run_trials

__all__ = ["METHODS", "grid_search", "random_search", "search"]


def grid_search(
    objective: Objective,
    space: Mapping[str, Dimension] | Space,
    budget: int,
    seed: int = 0,
    executor: Executor | None = None,
    *,
    shuffle: bool = True,
) -> SearchResult:
    r"""Evaluate the objective on the largest balanced grid that fits in ``budget`` trials.

    With :math:`d` dimensions, each gets about :math:`k = \lfloor B^{1/d} \rfloor`
    evenly spaced levels, ends included (log-spaced for log-uniform dimensions);
    the first dimensions get one more level while the product of the levels stays
    within the budget :math:`B` (:meth:`Space.grid_shape`).  Budget left over is
    not spent.  A grid of :math:`k^d` points tries only :math:`k` distinct values
    of each hyperparameter: when one hyperparameter matters most, only :math:`k`
    of the trials differ where it counts (Bergstra & Bengio, 2012).

    Parameters
    ----------
    objective, space, executor
        As in :func:`random_search`.
    budget : int
        Maximum number of trials.
    seed : int
        Seeds the order in which the grid points are visited (see ``shuffle``).
    shuffle : bool, default True
        Visit the points in a random order drawn from ``seed``.  A grid has no
        natural order; in nested-loop order (``shuffle=False``, last dimension
        fastest) the first trials all share the first value of the first
        hyperparameter, so the best-so-far curve of a search stopped early depends
        on how the loops were nested.

    Returns
    -------
    SearchResult
    """
    space, budget, seed = check_search_args(objective, space, budget, seed, executor)
    points = space.grid(budget)
    if shuffle:
        order = np.random.default_rng(seed).permutation(len(points))
        points = [points[int(i)] for i in order]
    return warn_if_all_failed(SearchResult("grid", space, budget, seed, tuple(run_trials(objective, points, executor))))


def random_search(
    objective: Objective,
    space: Mapping[str, Dimension] | Space,
    budget: int,
    seed: int = 0,
    executor: Executor | None = None,
) -> SearchResult:
    r"""Evaluate the objective at ``budget`` settings drawn independently from the space.

    Each hyperparameter is drawn from its own distribution (uniform, log-uniform,
    uniform integer or uniform choice), with ``numpy.random.default_rng(seed)``.
    Every trial tries a new value of *every* hyperparameter, so :math:`B` trials
    test :math:`B` distinct values of the one that matters, whichever it is
    (Bergstra & Bengio, 2012).

    Parameters
    ----------
    objective : callable
        ``objective(**params) -> float`` to minimise.
    space : dict or Space
        ``{name: dimension}``.
    budget : int
        Number of trials.
    seed : int
        Seed of the draws: the same seed gives the same trials.
    executor : concurrent.futures.Executor, optional
        Where the trials run (default: one after the other, here).

    Returns
    -------
    SearchResult
    """
    space, budget, seed = check_search_args(objective, space, budget, seed, executor)
    points = space.sample(np.random.default_rng(seed), budget)
    result = SearchResult("random", space, budget, seed, tuple(run_trials(objective, points, executor)))
    return warn_if_all_failed(result)


def _bayesian_search(*args: Any, **kwargs: Any) -> SearchResult:
    from gdcourse.tuning.bayes import bayesian_search

    return bayesian_search(*args, **kwargs)


METHODS = {"grid": grid_search, "random": random_search, "bayes": _bayesian_search}


def search(
    objective: Objective,
    space: Mapping[str, Dimension] | Space,
    budget: int,
    seed: int = 0,
    executor: Executor | None = None,
    *,
    method: str = "random",
    **options: Any,
) -> SearchResult:
    """Run ``method`` (``"grid"``, ``"random"`` or ``"bayes"``) with the common arguments and its own ``options``.

    See :func:`grid_search`, :func:`random_search` and
    :func:`gdcourse.tuning.bayes.bayesian_search`.

    Parameters
    ----------
    objective, space, budget, seed, executor
        The arguments every method takes (:func:`random_search` describes them).
    method : {"grid", "random", "bayes"}, default "random"
        The search method; another name raises ``ValueError``.
    **options
        The method's own keyword arguments (``shuffle`` for grid search, ``n_initial``,
        ``batch_size``... for Bayesian optimisation).

    Returns
    -------
    SearchResult
    """
    if method not in METHODS:
        raise ValueError(f"unknown search method {method!r}; choose one of {', '.join(map(repr, METHODS))}")
    return METHODS[method](objective, space, budget, seed, executor, **options)
