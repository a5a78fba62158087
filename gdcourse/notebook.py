"""One call at the top of every notebook: seeded randomness, rounded printing, the course plot style."""

from __future__ import annotations

import random

import numpy as np

__all__ = ["setup_notebook"]


def setup_notebook(seed: int = 0, precision: int = 4, blas_threads: int | None = 1) -> np.random.Generator:
    """Prepare a notebook so that a top-to-bottom run gives the same output on any CPU.

    * seeds Python's :mod:`random` and NumPy's legacy global generator with ``seed``;
    * sets NumPy's print precision to ``precision`` digits and suppresses scientific
      notation for small numbers, so printed arrays do not show last-digit noise;
    * applies the course's matplotlib style (colour-blind-safe palette, projector-size fonts);
    * limits the BLAS library to ``blas_threads`` threads: the course's matrices are small, and for
      them extra threads cost far more than they bring (measured: a notebook's training loop ran 10x
      slower with two OpenBLAS threads on a busy 2-core machine); one thread also keeps results from
      depending on how the work was split.

    Parameters
    ----------
    seed : int
        Seed for every source of randomness the notebook uses.
    precision : int
        Digits after the decimal point in printed arrays.
    blas_threads : int or None
        Thread limit for BLAS (through :mod:`threadpoolctl`, a scikit-learn dependency);
        ``None`` leaves the library's default.

    Returns
    -------
    numpy.random.Generator
        A generator seeded with ``seed``; draw the notebook's random numbers from it.
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if isinstance(precision, bool) or not isinstance(precision, int) or not 0 <= precision <= 16:
        raise ValueError(f"precision must be an integer between 0 and 16, got {precision!r}")
    if blas_threads is not None:
        if isinstance(blas_threads, bool) or not isinstance(blas_threads, int) or blas_threads < 1:
            raise ValueError(f"blas_threads must be a positive integer or None, got {blas_threads!r}")
        from threadpoolctl import threadpool_limits

        threadpool_limits(blas_threads, user_api="blas")
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
