r"""Racing search methods on an equal budget, over several seeds.

One seed is one repetition: each method runs once with that seed, on the
problem for that seed (the same problem for every seed, or a random instance
per seed).  The comparison is the *best-so-far curve*
:math:`b_n = \min_{i \le n} f(x_i)` -- the best value after :math:`n` trials --
and the number of trials each method needs to come within a given gap of the
optimum:

.. math::
    N(\varepsilon) = \min\{\, n : b_n \le f^* + \varepsilon \,\}.

A run that never gets there within the budget :math:`B` counts as :math:`B + 1`
(a lower bound on its true :math:`N`), so averages over seeds are
conservative for methods that often miss; :attr:`Race.reached` tells how often
each method got there at all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import numpy as np

from gdcourse.tuning.search import search
from gdcourse.tuning.trials import SearchResult

__all__ = ["Race", "race"]


@dataclass(frozen=True)
class Race:
    """The results of :func:`race`.

    Attributes
    ----------
    budget : int
        Trials per run.
    seeds : tuple of int
        One run per method and seed.
    results : dict
        Method -> one :class:`SearchResult` per seed.
    """

    budget: int
    seeds: tuple[int, ...]
    results: dict[str, list[SearchResult]]

    @property
    def methods(self) -> list[str]:
        """The methods raced, in order."""
        return list(self.results)

    def curves(self, method: str) -> np.ndarray:
        """Best-so-far values, shape ``(n_seeds, budget)``; a grid smaller than the budget keeps its last value."""
        rows = []
        for result in self.results[method]:
            curve = result.best_so_far
            if len(curve) < self.budget:
                fill = curve[-1] if len(curve) else np.nan
                curve = np.concatenate([curve, np.full(self.budget - len(curve), fill)])
            rows.append(curve)
        return np.array(rows)

    def trials_to_reach(self, target: float | Sequence[float]) -> dict[str, np.ndarray]:
        """Per method, the trials each seed needed to reach ``target`` (``budget + 1`` where it never did).

        ``target`` may be one number or one per seed (e.g. each random instance's optimum plus a gap).
        """
        targets = np.broadcast_to(np.asarray(target, dtype=np.float64), (len(self.seeds),))
        out = {}
        for method, results in self.results.items():
            counts = [r.trials_to_reach(float(t)) for r, t in zip(results, targets, strict=True)]
            out[method] = np.array([self.budget + 1 if n is None else n for n in counts])
        return out

    def reached(self, target: float | Sequence[float]) -> dict[str, int]:
        """Per method, on how many seeds the best value reached ``target`` within the budget."""
        return {m: int(np.sum(n <= self.budget)) for m, n in self.trials_to_reach(target).items()}

    def summary(self, target: float | Sequence[float]) -> dict[str, dict[str, float]]:
        """Per method: mean trials to reach ``target`` (unreached = budget + 1), seeds that reached it, mean best."""
        counts, reached = self.trials_to_reach(target), self.reached(target)
        return {
            m: {
                "mean_trials": float(np.mean(counts[m])),
                "reached": reached[m],
                "mean_best": float(np.mean(self.curves(m)[:, -1])),
            }
            for m in self.results
        }


def race(
    problem: Any | Callable[[int], Any],
    budget: int,
    seeds: Sequence[int],
    methods: Sequence[str] = ("grid", "random", "bayes"),
    *,
    per_seed: bool = False,
    space: Any = None,
    executor: Executor | None = None,
    options: dict[str, dict[str, Any]] | None = None,
) -> Race:
    """Run every method once per seed with the same budget.

    Parameters
    ----------
    problem : objective, or callable ``seed -> objective``
        The objective to minimise (with a ``.space`` attribute unless ``space`` is
        given), or with ``per_seed=True`` a function making one instance per seed
        (e.g. the class :class:`~gdcourse.tuning.problems.LrMomentumSurface`).
    budget : int
        Trials per run.
    seeds : sequence of int
        Seeds of the repetitions.
    methods : sequence of str
        Among ``"grid"``, ``"random"``, ``"bayes"``.
    per_seed : bool, default False
        Call ``problem(seed)`` for each seed's objective.
    space : dict or Space, optional
        The search space (default: ``objective.space``).
    executor : concurrent.futures.Executor, optional
        Where the trials run.
    options : dict, optional
        Extra keyword arguments per method, e.g. ``{"bayes": {"n_initial": 8}}``.

    Returns
    -------
    Race
    """
    options = options or {}
    results: dict[str, list[SearchResult]] = {m: [] for m in methods}
    for seed in seeds:
        objective: Any = problem(seed) if per_seed else problem
        run_space = objective.space if space is None else space
        for method in methods:
            results[method].append(
                search(objective, run_space, budget, int(seed), executor, method=method, **options.get(method, {}))
            )
    return Race(int(budget), tuple(int(s) for s in seeds), results)
