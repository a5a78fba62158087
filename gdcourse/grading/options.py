"""The one rule for the numeric options of ``gdcourse grade``, shared by the command line and :func:`grade`.

Times are positive, finite numbers of seconds; counts are whole numbers of at least
:data:`MINIMUM` (1 where not listed).  Imports nothing heavy: :mod:`gdcourse.grading`'s
argument parser uses it.
"""

from __future__ import annotations

import math

__all__ = ["COUNTS", "MINIMUM", "problem"]

MINIMUM = {"jobs": 1, "memory_mb": 256, "file_size_mb": 1, "open_files": 16, "disk_mb": 16}
"""Smallest value of each whole-number option (256 MB: Python and NumPy need about that much to start)."""
COUNTS = frozenset(MINIMUM)
"""The options that are whole numbers; the others are seconds."""


def problem(name: str, value: object) -> str | None:
    """What is wrong with ``value`` for the option ``name`` (``"timeout"``, ``"jobs"``...), or ``None``.

    Parameters
    ----------
    name : str
        The option's name with underscores (``"cell_timeout"``): a name of :data:`COUNTS` takes a whole
        number of at least its :data:`MINIMUM`, any other a positive, finite number of seconds.
    value : object
        The value given (``True`` and ``False`` are not numbers here).

    Returns
    -------
    str or None
        The reason, as the error message says it (``"expected a whole number >= 1, got 0"``).
    """
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value > 0
    if name in COUNTS:
        if ok and isinstance(value, int | float) and float(value).is_integer() and value >= MINIMUM[name]:
            return None
        return f"expected a whole number >= {MINIMUM[name]}, got {value!r}"
    return None if ok else f"expected a positive number of seconds, got {value!r}"
