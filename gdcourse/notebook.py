"""One call at the top of every notebook: seeded randomness, rounded printing, the course plot style."""

from __future__ import annotations

import random

import numpy as np

__all__ = ["setup_notebook"]


def setup_notebook(seed: int = 0, precision: int = 4) -> np.random.Generator:
    """Prepare a notebook so that a top-to-bottom run gives the same output on any CPU.

    * seeds Python's :mod:`random` and NumPy's legacy global generator with ``seed``;
    * sets NumPy's print precision to ``precision`` digits and suppresses scientific
      notation for small numbers, so printed arrays do not show last-digit noise;
    * applies the course's matplotlib style (colour-blind-safe palette, projector-size fonts).

    Parameters
    ----------
    seed : int
        Seed for every source of randomness the notebook uses.
    precision : int
        Digits after the decimal point in printed arrays.

    Returns
    -------
    numpy.random.Generator
        A generator seeded with ``seed``; draw the notebook's random numbers from it.
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if isinstance(precision, bool) or not isinstance(precision, int) or not 0 <= precision <= 16:
        raise ValueError(f"precision must be an integer between 0 and 16, got {precision!r}")
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - seeds learners' np.random.* calls too
    np.set_printoptions(precision=precision, suppress=True)
    try:
        from gdcourse.plots import use_course_style
    except ImportError:  # plotting extras absent: printing still works
        pass
    else:
        use_course_style()
    return np.random.default_rng(seed)
