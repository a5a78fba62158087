r"""Hyperparameter tuning: grid, random and Bayesian search with one interface.

::

    from gdcourse.tuning import LogUniform, Uniform, grid_search, random_search, bayesian_search

    def val_loss(lr, momentum):               # train with these hyperparameters, return the validation loss
        ...

    space = {"lr": LogUniform(1e-4, 1.0), "momentum": Uniform(0.0, 0.99)}
    result = random_search(val_loss, space, budget=30, seed=0)   # grid_search, bayesian_search: same arguments
    result.best                 # Trial(index, params, value, ...)
    result.best_so_far          # best value after 1, 2, ..., n trials
    result.trials               # every trial, failed ones included, in order

Every search takes ``(objective, space, budget, seed=0, executor=None)``:

* ``objective(**params)`` returns the number to minimise.  A trial that raises
  or returns NaN is recorded as ``status="failed"`` with the error, and the
  search goes on (Bayesian search leaves it out of its surrogate's fit).
* ``seed``: the same seed gives the same trials, for every method.
* ``executor``: any :class:`concurrent.futures.Executor` -- a thread or process
  pool, or a ``dask.distributed`` client's ``client.get_executor()`` to spread a
  sweep over a cluster (``pip install "gdcourse[distributed]"``).  Results are
  collected in submission order, so the trials do not depend on the executor.

=====================================  ============================================================
:mod:`~gdcourse.tuning.space`          dimensions (:class:`Uniform`, :class:`LogUniform`,
                                       :class:`Integer`, :class:`Categorical`) and :class:`Space`
:mod:`~gdcourse.tuning.trials`         :class:`Trial`, :class:`SearchResult`, running trials on an executor
:mod:`~gdcourse.tuning.search`         :func:`grid_search`, :func:`random_search`, :func:`search`
:mod:`~gdcourse.tuning.bayes`          :func:`bayesian_search`: GP surrogate + expected improvement
:mod:`~gdcourse.tuning.problems`       test problems with a known optimum
:mod:`~gdcourse.tuning.compare`        :func:`race`: methods on an equal budget over several seeds
=====================================  ============================================================

References
----------
Bergstra, J., & Bengio, Y. (2012). Random search for hyper-parameter optimization. JMLR 13, 281-305.
Jones, D. R., Schonlau, M., & Welch, W. J. (1998). Efficient global optimization of expensive
black-box functions. Journal of Global Optimization 13, 455-492.
Snoek, J., Larochelle, H., & Adams, R. P. (2012). Practical Bayesian optimization of machine
learning algorithms. NeurIPS.
"""

from gdcourse.tuning.bayes import bayesian_search, expected_improvement, fit_gp, propose
from gdcourse.tuning.compare import Race, race
from gdcourse.tuning.problems import LogisticValidation, LrMomentumSurface
from gdcourse.tuning.search import grid_search, random_search, search
from gdcourse.tuning.space import Categorical, Integer, LogUniform, Space, Uniform
from gdcourse.tuning.trials import SearchResult, SerialExecutor, Trial

__all__ = [
    "Categorical",
    "Integer",
    "LogUniform",
    "LogisticValidation",
    "LrMomentumSurface",
    "Race",
    "SearchResult",
    "SerialExecutor",
    "Space",
    "Trial",
    "Uniform",
    "bayesian_search",
    "expected_improvement",
    "fit_gp",
    "grid_search",
    "propose",
    "race",
    "random_search",
    "search",
]
