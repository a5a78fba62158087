"""gdcourse: verified reference implementations for a course on gradient descent.

The notebooks explain and show; this package holds the code that is tested to be
right.  Start with ``gdcourse.setup_notebook(seed=0)`` in a notebook, or run
``gdcourse doctor`` in a terminal.

Layers.  Every module and subpackage belongs to one layer, and imports only from its
own layer and the layers listed before it (tests/test_architecture.py reads this list
and fails on an upward import, at module level or inside a function):

1. foundation: ``_version``, ``_checks``, ``backend``
2. mathematics: ``autodiff``, ``functions``, ``losses``, ``init``, ``regularization``, ``early_stopping``,
   ``schedules``, ``rates``, ``data``, ``divergence``, ``optim_fused``
3. algorithms: ``optim``, ``clipping``, ``line_search``, ``descent``, ``nn``, ``gradcheck``, ``monitoring``,
   ``precision``, ``stochastic``, ``lr_range``, ``models``, ``train``, ``tuning``
4. presentation: ``plots``, ``widgets``
5. course tools: ``exercises``, ``grading``, ``notebook``, ``doctor``, ``tools`` (assign, slides, site,
   bench and the gdcourse command), ``__main__``

A learner reads layers 1 to 3 (the update rules, the loops, the models), a notebook
also uses layer 4, and instructors and the grader use layer 5.  This module itself is
a facade over layer 1 (its only other import, ``setup_notebook``'s, happens when called).
"""

from gdcourse._version import __version__
from gdcourse.backend import array_module, asarray, to_numpy, use

__all__ = ["__version__", "array_module", "asarray", "setup_notebook", "to_numpy", "use"]


def setup_notebook(seed: int = 0, precision: int = 4, blas_threads: int | None = 1):
    """Seed randomness, set print precision and the course's plot style for a notebook.

    See :func:`gdcourse.notebook.setup_notebook`.

    Parameters
    ----------
    seed : int
        Seed for every source of randomness the notebook uses (a non-negative integer).
    precision : int
        Digits after the decimal point in printed arrays (0 to 16).
    blas_threads : int or None
        Thread limit for the BLAS library; ``None`` leaves the library's default.

    Returns
    -------
    numpy.random.Generator
        A generator seeded with ``seed``.
    """
    from gdcourse.notebook import setup_notebook as _setup

    return _setup(seed=seed, precision=precision, blas_threads=blas_threads)
