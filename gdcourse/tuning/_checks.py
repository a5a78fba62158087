"""Argument checks shared by the search methods: clear errors that name the argument."""

from __future__ import annotations

from concurrent.futures import Executor
from typing import Any

import numpy as np

__all__ = ["check_search_args"]


def check_search_args(objective: Any, budget: Any, seed: Any, executor: Any) -> tuple[int, int]:
    """Validate the arguments every search takes; return ``(budget, seed)`` as ints."""
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
    return int(budget), int(seed)
