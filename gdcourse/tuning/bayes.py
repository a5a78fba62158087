r"""Bayesian optimisation, written out for teaching: a Gaussian-process surrogate and expected improvement.

The loop (Jones, Schonlau & Welch, 1998; Snoek, Larochelle & Adams, 2012):

1. **Initial design.** Evaluate ``n_initial`` random settings -- the same ones
   :func:`~gdcourse.tuning.search.random_search` tries first with the same seed.
2. **Surrogate.** Fit a Gaussian process to the successful trials so far, in the
   unit cube of :meth:`Space.encode` (log-scaled dimensions in log space,
   categoricals one-hot).  At any setting :math:`x` it gives a prediction
   :math:`\mu(x)` and an uncertainty :math:`\sigma(x)` of the objective.
   Failed trials (an error, NaN) have no value and are left out of the fit.
3. **Acquisition.** Draw a seeded set of candidate settings (uniform over the
   space, and as many again near the best setting so far) and score them by
   their expected improvement over the best value :math:`f^*` found so far,

   .. math::
       \mathrm{EI}(x) = \mathbb E\,[\max(f^* - \xi - f(x),\ 0)]
       = (f^* - \xi - \mu)\,\Phi(z) + \sigma\,\varphi(z),
       \qquad z = \frac{f^* - \xi - \mu}{\sigma},

   (:math:`\Phi`, :math:`\varphi`: the standard normal CDF and density) and
   evaluate the best-scoring candidate next.  EI is large where the prediction is
   low (exploitation) *or* the uncertainty is large (exploration).  Candidates
   whose nearest earlier trial failed are dropped first (:func:`away_from_failures`).
4. Repeat 2-3 until the budget is spent.

:func:`propose` is steps 2-3 as a pure function of the trials so far and the seed:
it draws its candidates and seeds the GP's optimiser restarts from
``numpy.random.default_rng([seed, n_trials])``.  So the same seed gives the same
trials, and a notebook can call :func:`propose` on the first ``n`` trials of a
finished search to see exactly the surrogate and the acquisition that chose
trial ``n``.

Executors.  Each proposal needs the results of all earlier trials, so the search
is sequential: with the default ``batch_size=1`` it submits one trial at a time
(the initial design, which needs no results, is submitted as one batch).  With
``batch_size=q > 1`` it proposes ``q`` settings at a time by the *kriging
believer* rule (Ginsbourger, Le Riche & Carraro, 2010): after choosing a setting
it pretends the objective returned the GP's prediction there, conditions the GP
on that (kernel hyperparameters kept), and chooses the next; the ``q`` trials
then run in parallel.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import norm
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern
from threadpoolctl import ThreadpoolController

from gdcourse.tuning._checks import check_search_args, warn_if_all_failed
from gdcourse.tuning.space import Dimension, Space, as_space
from gdcourse.tuning.trials import Objective, SearchResult, Trial, run_trials

__all__ = [
    "Proposal",
    "away_from_failures",
    "bayesian_search",
    "expected_improvement",
    "fit_gp",
    "make_kernel",
    "propose",
]


def expected_improvement(mu: Any, sigma: Any, best: float, xi: float = 0.0) -> np.ndarray:
    r"""Expected improvement below ``best`` of a Gaussian prediction :math:`\mathcal N(\mu, \sigma^2)` (minimisation).

    .. math::
        \mathrm{EI} = (f^* - \xi - \mu)\,\Phi(z) + \sigma\,\varphi(z),
        \qquad z = \frac{f^* - \xi - \mu}{\sigma},

    and :math:`\mathrm{EI} = \max(f^* - \xi - \mu, 0)` where :math:`\sigma = 0`
    (Jones, Schonlau & Welch, 1998).

    Parameters
    ----------
    mu, sigma : array_like
        Predicted mean and standard deviation at each candidate.
    best : float
        :math:`f^*`, the lowest value observed so far.
    xi : float, default 0
        :math:`\xi \ge 0`: count only improvements larger than ``xi`` (more exploration).

    Returns
    -------
    numpy.ndarray
        EI at each candidate (:math:`\ge 0`).
    """
    mu = np.asarray(mu, dtype=np.float64)
    sigma = np.asarray(sigma, dtype=np.float64)
    gain = best - xi - mu
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(sigma > 0, gain / np.where(sigma > 0, sigma, 1.0), 0.0)
    ei = np.where(sigma > 0, gain * norm.cdf(z) + sigma * norm.pdf(z), np.maximum(gain, 0.0))
    return np.maximum(ei, 0.0)


def make_kernel(width: int) -> Any:
    r"""The surrogate's covariance :math:`k(x, x') = c\,k_{5/2}(r)`, a constant times a Matérn-5/2 kernel.

    .. math::
        k_{5/2}(r) = \Bigl(1 + \sqrt5\,r + \tfrac53 r^2\Bigr)\,e^{-\sqrt5\,r},
        \qquad r^2 = \sum_j \frac{(x_j - x'_j)^2}{\ell_j^2}.

    Matérn-5/2 (twice-differentiable sample paths: smooth, but less so than the
    squared exponential) is the choice of Snoek et al. (2012).  Each input column
    has its own length scale :math:`\ell_j` (automatic relevance determination):
    a hyperparameter that barely matters gets a long one.  The bounds suit inputs
    in the unit cube and outputs normalised to unit variance.
    """
    return ConstantKernel(1.0, (1e-2, 1e2)) * Matern(
        length_scale=np.full(width, 0.3), length_scale_bounds=(1e-2, 1e1), nu=2.5
    )


def fit_gp(
    x: np.ndarray, y: np.ndarray, seed: int, *, n_restarts: int = 0, noise: float = 1e-6
) -> GaussianProcessRegressor:
    r"""Fit the GP surrogate to points ``x`` (rows in the unit cube) and values ``y``.

    The kernel's hyperparameters (:func:`make_kernel`) maximise the marginal
    likelihood: L-BFGS-B from the initial guess, plus ``n_restarts`` random starts
    seeded by ``seed``.  ``y`` is normalised to mean 0 and variance 1 inside the
    fit, and ``noise`` (in those units) is added to the kernel's diagonal: a
    nugget that keeps the fit stable when two trials nearly coincide.

    Parameters
    ----------
    x : numpy.ndarray, shape (n, width)
        The successful trials, encoded by :meth:`Space.encode`.
    y : numpy.ndarray, shape (n,)
        Their objective values.
    seed : int
        Seeds the random restarts.
    n_restarts : int, default 0
        Extra starts of the marginal-likelihood optimiser (0: the initial guess only).
    noise : float, default 1e-6
        The nugget, a variance in units of the normalised ``y``.

    Returns
    -------
    GaussianProcessRegressor
        The fitted surrogate: ``gp.predict(u, return_std=True)`` gives :math:`\mu` and :math:`\sigma`.
    """
    x = np.asarray(x, dtype=np.float64)
    gp = GaussianProcessRegressor(
        kernel=make_kernel(x.shape[1]),
        alpha=noise,
        normalize_y=True,
        n_restarts_optimizer=n_restarts,
        random_state=int(seed),
    )
    with warnings.catch_warnings():
        # With few points a length scale often runs to its bound (a hyperparameter that barely matters has
        # no finite best length scale) and sklearn warns; the fit is still the best within the bounds.
        warnings.simplefilter("ignore", ConvergenceWarning)
        gp.fit(x, np.asarray(y, dtype=np.float64))
    return gp


@dataclass(frozen=True)
class Proposal:
    """What :func:`propose` chose, and why.

    Attributes
    ----------
    params : list of dict
        The settings to evaluate next.
    gp : GaussianProcessRegressor or None
        The fitted surrogate (``None`` for an initial-design or fallback random proposal).
    candidates : numpy.ndarray
        The candidates scored, encoded in the unit cube (empty without a GP).
    ei : numpy.ndarray
        Their expected improvement (for the first pick of the batch).
    best : float
        :math:`f^*`, the best value so far (``nan`` without a GP).
    """

    params: list[dict[str, Any]]
    gp: GaussianProcessRegressor | None
    candidates: np.ndarray
    ei: np.ndarray
    best: float


def _candidates(space: Space, rng: np.random.Generator, n: int, incumbent: dict[str, Any], scale: float) -> np.ndarray:
    """``n`` uniform random settings and ``n`` Gaussian perturbations of the incumbent, encoded.

    Uniform candidates are uniform points of the unit cube snapped to valid settings
    (:meth:`Space.snap`): the distribution of
    :meth:`Space.sample`, drawn in one vectorised call.
    """
    uniform = space.snap(rng.uniform(0.0, 1.0, size=(n, space.width)))
    center = space.encode([incumbent])
    local = space.snap(center + scale * rng.standard_normal((n, space.width)))
    return np.vstack([uniform, local])


@functools.cache
def _blas_controller() -> ThreadpoolController:
    """One inspection of the loaded BLAS libraries, reused (inspecting them costs milliseconds)."""
    return ThreadpoolController()


def away_from_failures(candidates: np.ndarray, x_ok: np.ndarray, x_failed: np.ndarray) -> np.ndarray:
    """The candidates whose nearest earlier trial succeeded (all of them, if that leaves none).

    A one-nearest-neighbour guess of where the objective fails.  Failed trials have
    no value for the GP to fit, so it cannot learn that a region is bad; without
    this rule the search could return again and again to a region where, say,
    training diverges.  Distances are measured in the unit cube of :meth:`Space.encode`.

    Parameters
    ----------
    candidates : numpy.ndarray, shape (m, width)
        Encoded candidate settings.
    x_ok : numpy.ndarray, shape (n_ok, width)
        The encoded trials that succeeded.
    x_failed : numpy.ndarray, shape (n_failed, width)
        The encoded trials that failed; with none, every candidate is kept.

    Returns
    -------
    numpy.ndarray
        The rows of ``candidates`` kept, in their order.
    """
    if len(x_failed) == 0:
        return candidates

    def nearest(points: np.ndarray) -> np.ndarray:
        return np.min(np.sum((candidates[:, None, :] - points[None, :, :]) ** 2, axis=2), axis=1)

    keep = nearest(x_ok) <= nearest(x_failed)
    return candidates[keep] if np.any(keep) else candidates


def propose(
    space: Mapping[str, Dimension] | Space,
    trials: Sequence[Trial],
    seed: int,
    *,
    n_initial: int,
    batch_size: int = 1,
    n_candidates: int = 1000,
    local_scale: float = 0.05,
    xi: float = 0.0,
    n_restarts: int = 0,
) -> Proposal:
    r"""The next settings to try, given the ``trials`` so far (a pure function of its arguments).

    * While fewer than ``n_initial`` trials exist: the rest of the initial design,
      ``space.sample(default_rng(seed), n_initial)`` (at most ``batch_size`` of them
      unless no trial exists yet, when the whole design is returned at once).
    * With fewer than 2 successful trials: random settings (nothing to fit).
    * Otherwise: fit the GP (:func:`fit_gp`) to the successful trials, score
      ``n_candidates`` uniform random settings plus ``n_candidates`` perturbations
      of the best setting (Gaussian, standard deviation ``local_scale`` in the unit
      cube) by :func:`expected_improvement`, and return the best; for
      ``batch_size > 1`` the kriging believer picks the rest (module docstring).

    The candidates and the GP's restarts are seeded by
    ``numpy.random.default_rng([seed, len(trials)])``.

    Parameters
    ----------
    space : dict or Space
        The space searched.
    trials : sequence of Trial
        Every trial so far, in order (failed ones included).
    seed : int
        The search's seed.
    n_initial : int
        Size of the initial design.
    batch_size : int, default 1
        How many settings to propose, at least 1 (:func:`bayesian_search` checks it); the whole
        initial design when no trial exists yet.
    n_candidates, local_scale, xi, n_restarts
        As in :func:`bayesian_search`.

    Returns
    -------
    Proposal
        The settings, and the surrogate and scores that chose them.
    """
    space = as_space(space)
    n = len(trials)
    if n < n_initial:
        design = space.sample(np.random.default_rng(seed), n_initial)
        stop = n_initial if n == 0 else min(n + batch_size, n_initial)
        return Proposal(design[n:stop], None, np.zeros((0, space.width)), np.zeros(0), math.nan)
    rng = np.random.default_rng([seed, n])
    ok = [t for t in trials if t.ok]
    if len(ok) < 2:
        return Proposal(space.sample(rng, batch_size), None, np.zeros((0, space.width)), np.zeros(0), math.nan)
    x = space.encode([t.params for t in ok])
    y = np.array([t.value for t in ok])
    best_trial = min(ok, key=lambda t: (t.value, t.index))
    candidates = _candidates(space, rng, n_candidates, best_trial.params, local_scale)
    candidates = away_from_failures(candidates, x, space.encode([t.params for t in trials if not t.ok]))
    chosen: list[np.ndarray] = []
    first_ei: np.ndarray | None = None
    # The matrices are tiny (tens of points): BLAS threads cost more than they save here.
    with _blas_controller().limit(limits=1):
        gp = believer = fit_gp(x, y, int(rng.integers(2**31 - 1)), n_restarts=n_restarts)
        available = np.ones(len(candidates), dtype=bool)
        for _ in range(batch_size):
            mu, sigma = believer.predict(candidates, return_std=True)
            ei = expected_improvement(mu, sigma, float(y.min()), xi)
            first_ei = ei if first_ei is None else first_ei
            pick = int(np.argmax(np.where(available, ei, -1.0)))  # the first of equal maxima: deterministic
            chosen.append(candidates[pick])
            available[pick] = False
            if len(chosen) < batch_size:  # kriging believer: pretend f(pick) = mu(pick), keep the kernel
                x, y = np.vstack([x, candidates[pick]]), np.append(y, mu[pick])
                believer = GaussianProcessRegressor(kernel=gp.kernel_, alpha=gp.alpha, normalize_y=True, optimizer=None)
                believer.fit(x, y)
    params = space.decode(np.array(chosen))  # raises for an empty batch (batch_size < 1)
    assert first_ei is not None  # set by the first pick
    return Proposal(params, gp, candidates, first_ei, float(best_trial.value))


def bayesian_search(
    objective: Objective,
    space: Mapping[str, Dimension] | Space,
    budget: int,
    seed: int = 0,
    executor: Executor | None = None,
    *,
    n_initial: int | None = None,
    batch_size: int = 1,
    n_candidates: int = 1000,
    local_scale: float = 0.05,
    xi: float = 0.0,
    n_restarts: int = 0,
) -> SearchResult:
    r"""Bayesian optimisation with a Gaussian-process surrogate and expected improvement.

    See the module docstring for the loop and :func:`propose` for one step.

    Parameters
    ----------
    objective, space
        As in :func:`gdcourse.tuning.search.random_search`.
    budget : int
        Number of trials, the initial design included.
    seed : int
        Seeds the initial design, the candidates and the GP fits: same seed, same trials.
    executor : concurrent.futures.Executor, optional
        Where the trials run (default: one after the other, here).  The initial
        design is submitted as one batch, then ``batch_size`` trials at a time.
    n_initial : int, optional
        Random trials before the first GP fit; default ``max(5, d + 1)`` for
        ``d`` encoded columns, at most ``budget``.
    batch_size : int, default 1
        Settings proposed (and run in parallel) per GP fit, by the kriging believer rule.
    n_candidates : int, default 1000
        Uniform random candidates per proposal (as many again are drawn near the best setting).
    local_scale : float, default 0.05
        Standard deviation, in the unit cube, of the candidates drawn near the best setting.
    xi : float, default 0
        Minimum improvement that counts, :math:`\xi` in :func:`expected_improvement`.
    n_restarts : int, default 0
        Random restarts of the GP's marginal-likelihood optimiser.

    Returns
    -------
    SearchResult
    """
    space, budget, seed = check_search_args(objective, space, budget, seed, executor)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    n_initial = min(budget, max(5, space.width + 1)) if n_initial is None else int(n_initial)
    if not 1 <= n_initial <= budget:
        raise ValueError(f"n_initial must be between 1 and budget={budget}, got {n_initial!r}")
    trials: list[Trial] = []
    while len(trials) < budget:
        proposal = propose(
            space,
            trials,
            seed,
            n_initial=n_initial,
            batch_size=min(batch_size, budget - len(trials)),
            n_candidates=n_candidates,
            local_scale=local_scale,
            xi=xi,
            n_restarts=n_restarts,
        )
        batch = proposal.params[: budget - len(trials)]
        trials += run_trials(objective, batch, executor, start=len(trials))
    return warn_if_all_failed(SearchResult("bayes", space, budget, seed, tuple(trials)))
