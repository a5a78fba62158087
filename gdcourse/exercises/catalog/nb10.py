"""Exercises of notebook 10 (hyperparameter tuning).

Conventions decided here:

- ``log_uniform(u, low, high)`` maps uniform draws ``u`` in [0, 1] (an array of any
  shape, any backend) to log-uniform values in [low, high], elementwise.  The
  increasing map ``low * (high / low) ** u`` is the reference; the decreasing map
  ``high * (low / high) ** u`` gives the same distribution and is accepted too.
- ``expected_improvement`` is a value: EI for minimisation with ξ = 0, to a relative
  tolerance of 1e-4 (enough for a value read off tables of Φ and φ).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.stats import norm

from gdcourse.backend import asarray
from gdcourse.exercises.core import Case, Exercise, Mistake

__all__ = ["EXERCISES"]


# --- 10.log_uniform -----------------------------------------------------------------------------


def log_uniform(u: Any, low: float, high: float) -> Any:
    """Reference for ``10.log_uniform``: ``low * (high / low) ** u``, i.e. exp(log low + u (log high - log low))."""
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

EXERCISES: tuple[Exercise, ...] = (LOG_UNIFORM, EXPECTED_IMPROVEMENT, WHY_RANDOM)
