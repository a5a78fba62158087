"""Exercises of notebook 10 (hyperparameter tuning).

Conventions decided here:

- ``log_uniform(u, low, high)`` maps uniform draws ``u`` in [0, 1] (an array of any
  shape, any backend) to log-uniform values in [low, high], elementwise.  The
  increasing map ``low * (high / low) ** u`` is the reference; the decreasing map
  ``high * (low / high) ** u`` gives the same distribution and is accepted too.
- ``expected_improvement`` is a value: EI for minimisation with ξ = 0, to a relative
  tolerance of 1e-4 (enough for a value read off tables of Φ and φ).
- ``tune_budget(objective, bounds, budget)`` is an experiment: ``objective`` is a
  :class:`ValidationSurface` (a gdcourse dataclass, so the grader sends it as data), called as
  ``objective(lr=..., weight_decay=...)``; ``bounds = {"lr": (low, high), "weight_decay": (low, high)}``;
  ``budget`` the number of evaluations allowed (30 or 40).  The answer is the pair ``(lr, weight_decay)``; a
  list, an array of two numbers or a dict with those two keys (``best.params``) passes too.  The judge evaluates
  only the returned setting: it must lie in ``bounds`` (a relative 1e-9 of slack for rounding) and its loss be
  at most the surface's minimum + 0.05 (``Case.key``).  The budget is not counted (the objective is a plain
  function): it is the learner's side of the experiment.  Each surface is a valley in ``log10 lr`` whose centre
  lies at least a decade above the lower bound of ``lr`` and at most at 10^-3.4; the target holds within 0.8
  decade of the centre at the best weight decay and within 0.7 at the worst.  So a grid on a linear scale never
  reaches it (with at most 40 levels, its first level is the lower bound and its second is above 0.02), random
  search on a log scale misses it with probability below 1e-4 per case, and a log grid with about √budget levels
  per hyperparameter always reaches it.  The best weight decay, 10^-2.6 to 10^-1.6, lies above the good
  learning rates, so a pair returned in the wrong order, (weight_decay, lr), misses in almost every case.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import norm

from gdcourse import tuning
from gdcourse.backend import asarray, to_numpy
from gdcourse.exercises.core import Case, Exercise, Mistake, real_scalar
from gdcourse.tuning import LogUniform, Uniform

__all__ = ["EXERCISES", "ValidationSurface"]


# --- 10.log_uniform -----------------------------------------------------------------------------


def log_uniform(u: Any, low: float, high: float) -> Any:
    r"""Reference for ``10.log_uniform``: :math:`x = a\,(b/a)^{u} = \exp\big(\log a + u\,(\log b - \log a)\big)`.

    Parameters
    ----------
    u : array
        Uniform draws in :math:`[0, 1]`, any shape; :math:`u = 0` gives ``low``, :math:`u = 1` gives ``high``.
    low : float
        The lower end :math:`a > 0` of the range.
    high : float
        The upper end :math:`b > a` of the range.

    Returns
    -------
    array
        The log-uniform values, in the shape of ``u``.
    """
    return low * (high / low) ** u


def _log_uniform_cases(rng: np.random.Generator) -> list[Case]:
    def case(shape: tuple[int, ...], low: float, high: float, label: str, ends: bool = False) -> Case:
        u = rng.uniform(0.0, 1.0, size=shape)
        if ends:
            u.reshape(-1)[:2] = [0.0, 1.0]
        return Case((asarray(u), low, high), label=label)

    decades = int(rng.integers(3, 6))
    return [
        case((6,), 10.0**-decades, 1.0, "a learning rate over several decades, with u = 0 and u = 1", ends=True),
        case((2, 3), round(float(rng.uniform(0.2, 0.9)), 2), round(float(rng.uniform(4.0, 9.0)), 1),
             "bounds around 1, a 2×3 array of draws"),
        case((5,), 1e-6, 1e-1, "a weight decay between 1e-6 and 0.1"),
    ]


def _linear(u: Any, low: float, high: float) -> Any:
    return low + u * (high - low)


def _exponent_only(u: Any, low: float, high: float) -> Any:
    return math.log10(low) + u * (math.log10(high) - math.log10(low))


def _natural_exponent_only(u: Any, low: float, high: float) -> Any:
    return math.log(low) + u * (math.log(high) - math.log(low))


def _mixed_bases(u: Any, low: float, high: float) -> Any:
    return 10.0 ** (math.log(low) + u * (math.log(high) - math.log(low)))


def _exp_of_bounds(u: Any, low: float, high: float) -> Any:
    return math.e ** (low + u * (high - low))


LOG_UNIFORM = Exercise(
    id="10.log_uniform",
    kind="function",
    title="log_uniform(u, low, high): turn uniform draws u in [0, 1] into log-uniform values in [low, high]",
    reference=log_uniform,
    alternatives=(lambda u, low, high: high * (low / high) ** u,),
    make_cases=_log_uniform_cases,
    hints=(
        "Log-uniform means: log x is uniform. Draw the logarithm uniformly between log(low) and log(high).",
        "log x = log(low) + u · (log(high) − log(low)); then undo the logarithm with the matching exponential.",
        "In one line: return low * (high / low) ** u   (the same as exp(log low + u (log high − log low))).",
    ),
    solution=(
        "def log_uniform(u, low, high):\n"
        "    # log x is uniform between log(low) and log(high): x = exp(log low + u (log high - log low))\n"
        "    return low * (high / low) ** u\n"
    ),
    mistakes=(
        Mistake(
            "linear",
            "That is uniform on a linear scale: low + u (high − low). Between 1e-4 and 1 it puts 90 % of the "
            "draws in the top decade [0.1, 1]. Interpolate the logarithms instead, then exponentiate.",
            _linear,
        ),
        Mistake(
            "returns_log10",
            "You return the exponent log₁₀ x, not x: your values are uniform between log₁₀(low) and "
            "log₁₀(high). Raise 10 to that power (or use low * (high / low) ** u).",
            _exponent_only,
        ),
        Mistake(
            "returns_log",
            "You return the natural logarithm of x, not x: exponentiate it with exp (or use low * (high / low) ** u).",
            _natural_exponent_only,
        ),
        Mistake(
            "mixed_bases",
            "Mixed bases: you interpolate natural logarithms (np.log) but undo them with 10 ** (...). Use the "
            "same base both ways: exp with log, or 10 ** with log10.",
            _mixed_bases,
        ),
        Mistake(
            "exp_of_bounds",
            "You interpolate the bounds themselves and exponentiate: exp(low + u (high − low)) is not even between "
            "low and high. Interpolate their logarithms: exp(log low + u (log high − log low)).",
            _exp_of_bounds,
        ),
    ),
)


# --- 10.expected_improvement --------------------------------------------------------------------

_MU, _SIGMA, _BEST = 0.30, 0.10, 0.25


def _ei(gain_sign: float = 1.0, swap: bool = False, z_sign: float = 1.0, z_scale: float = _SIGMA) -> float:
    gain = gain_sign * (_BEST - _MU)
    z = z_sign * gain / z_scale
    if swap:
        return gain * norm.pdf(z) + _SIGMA * norm.cdf(z)
    return gain * norm.cdf(z) + _SIGMA * norm.pdf(z)


EXPECTED_IMPROVEMENT = Exercise(
    id="10.expected_improvement",
    kind="value",
    title=(
        "At a candidate the GP predicts the validation loss μ = 0.30 with σ = 0.10; the best loss so far is "
        "f* = 0.25. Its expected improvement EI (minimisation, ξ = 0), as a number"
    ),
    reference=lambda: _ei(),
    digits=3,
    hints=(
        "EI = (f* − μ) Φ(z) + σ φ(z) with z = (f* − μ) / σ; Φ is the standard normal CDF, φ its density "
        "(scipy.stats.norm.cdf and norm.pdf).",
        "Here f* − μ = −0.05, so z = −0.5. The first term is negative (the mean is worse than the best), "
        "the second positive (the uncertainty leaves room to improve).",
        "EI = −0.05 · Φ(−0.5) + 0.10 · φ(−0.5) = −0.05 · 0.3085 + 0.10 · 0.3521.",
    ),
    solution=(
        "from scipy.stats import norm\n"
        "z = (0.25 - 0.30) / 0.10\n"
        "answer = (0.25 - 0.30) * norm.cdf(z) + 0.10 * norm.pdf(z)   # ≈ 0.0198\n"
    ),
    mistakes=(
        Mistake(
            "mean_only",
            "0 is the improvement of the *mean* prediction, max(f* − μ, 0). EI averages the improvement over all "
            "the values the GP thinks possible: with σ = 0.1 some of them beat 0.25, so EI > 0.",
            lambda: 0.0,
        ),
        Mistake(
            "exploration_only",
            "You kept only the exploration term σ φ(z). The first term (f* − μ) Φ(z) is part of EI too, and here "
            "it is negative because μ is worse than f*.",
            lambda: _SIGMA * float(norm.pdf((_BEST - _MU) / _SIGMA)),
        ),
        Mistake(
            "maximisation",
            "That is EI for maximisation, with the gain μ − f*. For a loss we minimise: the gain is f* − μ, "
            "so z = (f* − μ)/σ = −0.5.",
            lambda: _ei(gain_sign=-1.0),
        ),
        Mistake(
            "cdf_pdf_swapped",
            "Φ and φ are swapped: the gain f* − μ multiplies the CDF Φ(z), the uncertainty σ multiplies the "
            "density φ(z).",
            lambda: _ei(swap=True),
        ),
        # Notebook 10 §4 names EI's two terms, exploitation (f* − μ)Φ(z) and exploration σφ(z); keeping only the
        # first is the mirror of exploration_only above.
        Mistake(
            "exploitation_only",
            "You kept only the exploitation term (f* − μ) Φ(z), negative here because μ is worse than f*. EI adds "
            "the exploration term σ φ(z): EI is the mean of max(f* − f, 0), so it is never negative.",
            lambda: (_BEST - _MU) * float(norm.cdf((_BEST - _MU) / _SIGMA)),
        ),
        # The formula uses f* − μ twice; maximisation texts (the mistake above) write μ − f*. Mixing the two
        # conventions within one formula flips z alone.
        Mistake(
            "z_sign",
            "z has the opposite sign of the gain: for minimisation both use f* − μ, z = (f* − μ)/σ = −0.5. "
            "(μ − f*)/σ is the maximisation convention; mixing the two makes Φ(z) the probability of the wrong "
            "side.",
            lambda: _ei(z_sign=-1.0),
        ),
        Mistake(
            "gain_sign_in_first_term",
            "The first term has the opposite sign: for minimisation it is (f* − μ) Φ(z), the same gain f* − μ as in "
            "z. (μ − f*) belongs to the maximisation convention; mixing the two rewards a *worse* mean.",
            lambda: -(_BEST - _MU) * float(norm.cdf((_BEST - _MU) / _SIGMA)) + _SIGMA * float(
                norm.pdf((_BEST - _MU) / _SIGMA)
            ),
        ),
        # Standard deviation versus variance, the confusion notebooks 05 and 09 warn about: the GP's σ(h) is a
        # standard deviation (return_std=True in §4), and z standardises by it.
        Mistake(
            "variance_in_z",
            "z divides the gain by the variance σ² = 0.01: z = (f* − μ)/σ standardises with the standard "
            "deviation σ = 0.10, the GP's uncertainty in the same units as the loss.",
            lambda: _ei(z_scale=_SIGMA**2),
        ),
    ),
)


# --- 10.why_random ------------------------------------------------------------------------------

WHY_RANDOM = Exercise(
    id="10.why_random",
    kind="choice",
    title=(
        "With the same budget, random search usually finds a better setting than grid search when only one or two "
        "of the hyperparameters matter. Why?"
    ),
    reference="b",
    choices={
        "a": "random trials are cheaper, so random search runs more of them in the same time",
        "b": "every random trial tries a new value of the hyperparameter that matters; a k × k grid tries only k "
        "values of it and repeats each with other values of the ones that do not matter",
        "c": "random search learns from its earlier trials where to look next",
        "d": "a grid never tries the ends of the ranges, where the best values usually are",
    },
    hints=(
        "Look at the projection of the trials onto the axis of the hyperparameter that matters.",
        "With 9 trials, a 3 × 3 grid projects onto 3 distinct values. How many distinct values do 9 random "
        "trials project onto?",
    ),
    solution=(
        "answer = 'b'\n"
        "# B random trials test B distinct values of each hyperparameter; a grid of B = k^d points only k.\n"
        "# If only one hyperparameter matters, the grid wastes most of its budget (Bergstra & Bengio, 2012).\n"
    ),
    mistakes=(
        Mistake(
            "cheaper",
            "Both methods run the same objective with the same budget of trials: one trial costs the same either "
            "way. The difference is *which* settings are tried.",
            "a",
        ),
        Mistake(
            "adaptive",
            "Random search ignores earlier results: every trial is drawn independently. Learning from earlier "
            "trials is what Bayesian optimisation adds.",
            "c",
        ),
        Mistake(
            "ends",
            "A grid with k ≥ 2 levels includes both ends of every range. Its weakness is that it tries only k "
            "distinct values of the hyperparameter that matters.",
            "d",
        ),
    ),
)


# --- 10.tune_budget -----------------------------------------------------------------------------

_NEAR = 0.05
"""The requirement: the returned setting's validation loss within this much of the surface's minimum."""

_LR_HALF_WIDTH, _LR_HALF_WIDTH_WORST = 0.8, 0.7
"""Half-widths (in decades of η) of the region that meets the target, at the best weight decay and at the worst."""


@dataclass(frozen=True, eq=False)
class ValidationSurface:
    r"""A synthetic validation loss over a learning rate and a weight decay, cheap enough for many searches.

    .. math:: f(\eta, \lambda) = f_{min} + a\,(\log_{10}\eta - \ell_\eta)^2 + b\,(\log_{10}\lambda - \ell_\lambda)^2

    a valley in :math:`\log_{10}\eta`, the hyperparameter that matters, and a much flatter one in
    :math:`\log_{10}\lambda`.  Called as ``surface(lr=..., weight_decay=...)`` (the way
    :mod:`gdcourse.tuning` calls an objective), with numbers or arrays of any backend; a setting that is not
    positive gives NaN.  Its ``repr`` hides the parameters, so that printed feedback does not give the
    minimum away.

    Attributes
    ----------
    f_min : float
        The lowest loss, at :math:`\eta = 10^{\ell_\eta}`, :math:`\lambda = 10^{\ell_\lambda}`.
    log_lr, log_wd : float
        :math:`\ell_\eta` and :math:`\ell_\lambda`.
    lr_curvature, wd_curvature : float
        :math:`a` and :math:`b`, per decade squared.
    """

    f_min: float
    log_lr: float
    log_wd: float
    lr_curvature: float
    wd_curvature: float

    def __call__(self, lr: Any, weight_decay: Any) -> Any:
        """The validation loss at ``(lr, weight_decay)``: a float for numbers, an array for arrays."""
        lr, wd = np.asarray(to_numpy(lr), dtype=np.float64), np.asarray(to_numpy(weight_decay), dtype=np.float64)
        with np.errstate(all="ignore"):
            u, v = np.log10(lr) - self.log_lr, np.log10(wd) - self.log_wd
            value = np.where(
                (lr > 0) & (wd > 0), self.f_min + self.lr_curvature * u**2 + self.wd_curvature * v**2, np.nan
            )
        return float(value) if value.ndim == 0 else value

    def __repr__(self) -> str:
        return "<validation loss f(lr, weight_decay)>"


def tune_budget(
    objective: ValidationSurface, bounds: dict[str, tuple[float, float]], budget: int
) -> tuple[float, float]:
    """Reference for ``10.tune_budget``: random search on a log scale (:func:`gdcourse.tuning.random_search`).

    Parameters
    ----------
    objective : ValidationSurface
        The validation loss to minimise, called as ``objective(lr=..., weight_decay=...)``.
    bounds : dict
        ``{"lr": (low, high), "weight_decay": (low, high)}``: the search space, both searched log-uniformly.
    budget : int
        The number of evaluations of ``objective`` the search may spend.

    Returns
    -------
    (lr, weight_decay) : tuple of float
        The setting of the best trial.
    """
    space = {name: LogUniform(*bounds[name]) for name in ("lr", "weight_decay")}
    best = _best_params(tuning.random_search(objective, space, budget, seed=0))
    return best["lr"], best["weight_decay"]


def _best_params(result: Any) -> dict[str, float]:
    """The parameters of a search's best trial (the surfaces are finite everywhere, so there is one)."""
    if result.best is None:
        raise RuntimeError("every trial of the search failed on a surface that is finite everywhere")
    return result.best.params


@dataclass(frozen=True)
class _TuneKey:
    """What the judge knows about a case of ``10.tune_budget``: the surface's minimum and the target."""

    f_min: float
    target: float


def _tune_budget_cases(rng: np.random.Generator) -> list[Case]:
    def case(lr_bounds: tuple[float, float], budget: int, label: str) -> Case:
        wd_bounds = (1e-6, 1e-1)
        f_min = round(float(rng.uniform(0.08, 0.2)), 3)
        log_lr = float(rng.uniform(math.log10(lr_bounds[0]) + 1.0, -3.4))  # well inside, far below the top decade
        log_wd = float(rng.uniform(-2.6, -1.6))  # above the learning rates that work: a swapped pair misses
        lr_curvature = _NEAR / _LR_HALF_WIDTH**2
        farthest = max(log_wd - math.log10(wd_bounds[0]), math.log10(wd_bounds[1]) - log_wd)
        wd_curvature = (_NEAR - lr_curvature * _LR_HALF_WIDTH_WORST**2) / farthest**2
        surface = ValidationSurface(f_min, log_lr, log_wd, lr_curvature, wd_curvature)
        bounds = {"lr": lr_bounds, "weight_decay": wd_bounds}
        return Case((surface, bounds, budget), label=label, key=_TuneKey(f_min, f_min + _NEAR))

    return [
        case((1e-5, 1.0), 30, "learning rates from 1e-5 to 1, 30 trials"),
        case((1e-5, 1.0), 30, "another valley, 30 trials"),
        case((1e-6, 1.0), 40, "learning rates from 1e-6 to 1, 40 trials"),
    ]


def _setting(value: Any) -> tuple[float, float] | str:
    """``(lr, weight_decay)`` from a pair, a dict with those keys or an array of two numbers; else what is wrong."""
    if isinstance(value, dict):
        if set(value) != {"lr", "weight_decay"}:
            return f"a dict with the keys {sorted(map(str, value))}, expected 'lr' and 'weight_decay'"
        items = [value["lr"], value["weight_decay"]]
    elif isinstance(value, tuple | list):
        items = list(value)
    elif hasattr(value, "shape") and hasattr(value, "dtype"):
        shape = tuple(getattr(value, "shape", ()))
        if shape != (2,):
            return f"an array of shape {shape}"
        items = [value[0], value[1]]  # NumPy scalars or 0-d arrays, judged one by one below
    else:
        return type(value).__name__
    if len(items) != 2:
        return f"{len(items)} values"
    first, second = real_scalar(items[0]), real_scalar(items[1])
    if first is None or second is None:
        return "a pair whose items are not both numbers (" + ", ".join(type(v).__name__ for v in items) + ")"
    return first, second


def _tune_budget_requirement(case: Case, value: Any) -> str | None:
    """``None`` when the returned setting lies in the box and its validation loss is within 0.05 of the minimum."""
    surface, bounds, budget = case.args
    key: _TuneKey = case.key
    setting = _setting(value)
    if isinstance(setting, str):
        return f"expected the pair (lr, weight_decay) of the best setting found, got {setting}"
    for name, x in zip(("lr", "weight_decay"), setting, strict=True):
        low, high = bounds[name]
        if not (math.isfinite(x) and low * (1 - 1e-9) <= x <= high * (1 + 1e-9)):
            hint = ": return the hyperparameters themselves, not their logarithms" if x < 0 else ""
            return f"{name} = {x:.3g} is outside the search space [{low:g}, {high:g}]{hint}"
    lr, wd = setting
    loss = surface(lr=lr, weight_decay=wd)
    if loss <= key.target:
        return None
    where = "lower" if math.log10(lr) > surface.log_lr else "higher"
    return (
        f"the validation loss at lr = {lr:.3g}, weight_decay = {wd:.3g} is {loss:.3g}, more than {_NEAR:g} above the "
        f"minimum {key.f_min:.3g}: the good learning rates lie {where}. With {budget} trials, draw them on a log "
        "scale so that every decade gets its share"
    )


def _linear_grid(
    objective: ValidationSurface, bounds: dict[str, tuple[float, float]], budget: int
) -> tuple[float, float]:
    k = math.isqrt(budget)
    grid = [
        (float(lr), float(wd)) for lr in np.linspace(*bounds["lr"], k) for wd in np.linspace(*bounds["weight_decay"], k)
    ]
    return min(grid, key=lambda p: objective(lr=p[0], weight_decay=p[1]))


def _uniform_draws(
    objective: ValidationSurface, bounds: dict[str, tuple[float, float]], budget: int
) -> tuple[float, float]:
    space = {name: Uniform(*bounds[name]) for name in ("lr", "weight_decay")}
    best = _best_params(tuning.random_search(objective, space, budget, seed=0))
    return best["lr"], best["weight_decay"]


def _worst_trial(
    objective: ValidationSurface, bounds: dict[str, tuple[float, float]], budget: int
) -> tuple[float, float]:
    space = {name: LogUniform(*bounds[name]) for name in ("lr", "weight_decay")}
    trials = tuning.random_search(objective, space, budget, seed=0).trials
    worst = max(trials, key=lambda t: t.value).params
    return worst["lr"], worst["weight_decay"]


def _logarithms(
    objective: ValidationSurface, bounds: dict[str, tuple[float, float]], budget: int
) -> tuple[float, float]:
    lr, wd = tune_budget(objective, bounds, budget)
    return math.log10(lr), math.log10(wd)


TUNE_BUDGET = Exercise(
    id="10.tune_budget",
    kind="function",
    title=(
        "tune_budget(objective, bounds, budget): with at most budget evaluations of objective(lr=..., "
        "weight_decay=...), find a setting whose validation loss is within 0.05 of the minimum"
    ),
    reference=tune_budget,
    make_cases=_tune_budget_cases,
    requirement=_tune_budget_requirement,
    hints=(
        "The learning rate can lie anywhere between bounds['lr'][0] and bounds['lr'][1], several decades apart: "
        "only a search on a log scale gives every decade its share of the budget.",
        "Random search does it in one call: tuning.random_search(objective, {'lr': LogUniform(*bounds['lr']), "
        "'weight_decay': LogUniform(*bounds['weight_decay'])}, budget, seed=0). Its .best.params is the best "
        "setting found.",
        "best = tuning.random_search(objective, space, budget, seed=0).best.params; "
        "return best['lr'], best['weight_decay']  (the values themselves, not their logarithms).",
    ),
    solution=(
        "from gdcourse import tuning\n"
        "from gdcourse.tuning import LogUniform\n\n\n"
        "def tune_budget(objective, bounds, budget):\n"
        "    space = {name: LogUniform(*bounds[name]) for name in ('lr', 'weight_decay')}  # log scales\n"
        "    best = tuning.random_search(objective, space, budget, seed=0).best.params\n"
        "    return best['lr'], best['weight_decay']\n"
    ),
    mistakes=(
        Mistake(
            "linear_grid",
            "A grid of evenly spaced values on a *linear* scale: with 5 or 6 levels from the lower bound to 1, every "
            "level but the first is 0.2 or more, so the good learning rates, decades lower, are never tried (and the "
            "first level sits at the very bottom). Space the values on a log scale, or draw them log-uniformly.",
            _linear_grid,
        ),
        Mistake(
            "uniform_draws",
            "Random search with *uniform* draws (Uniform instead of LogUniform) puts 90% of the trials in the top "
            "decade of the range and almost none where the good learning rates are. Draw log-uniformly: every "
            "decade then gets the same share of the budget.",
            _uniform_draws,
        ),
        Mistake(
            "worst_trial",
            "You returned the trial with the *highest* validation loss (max instead of min): keep the one with the "
            "lowest, result.best.",
            _worst_trial,
        ),
        Mistake(
            "logarithms",
            "You returned log₁₀ of the hyperparameters (negative numbers), not the hyperparameters: the objective "
            "is called with lr and weight_decay themselves. Return 10 ** x, or the values from best.params.",
            _logarithms,
        ),
    ),
)

EXERCISES: tuple[Exercise, ...] = (LOG_UNIFORM, WHY_RANDOM, TUNE_BUDGET, EXPECTED_IMPROVEMENT)  # notebook order
