"""gdcourse: verified reference implementations for a course on gradient descent.

The notebooks explain and show; this package holds the code that is tested to be
right.  Start with ``gdcourse.setup_notebook(seed=0)`` in a notebook, or run
``gdcourse doctor`` in a terminal.
"""

from gdcourse.backend import array_module, asarray, to_numpy, use

__version__ = "0.1.0"

__all__ = ["__version__", "array_module", "asarray", "setup_notebook", "to_numpy", "use"]


def setup_notebook(seed: int = 0, precision: int = 4, blas_threads: int | None = 1):
    """Seed randomness, set print precision and the course's plot style for a notebook.

    See :func:`gdcourse.notebook.setup_notebook`.
    """
    from gdcourse.notebook import setup_notebook as _setup

    return _setup(seed=seed, precision=precision, blas_threads=blas_threads)
