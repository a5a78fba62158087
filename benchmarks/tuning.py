"""Grid vs random vs Bayesian search on an equal budget: trials needed to come within a gap of the optimum.

Two problems, 10 seeds each (one run per method and seed):

* ``LrMomentumSurface``: a synthetic 4-D validation-loss surface with a known minimum
  (0.2) where only the learning rate and the momentum matter much; one random instance
  (minimum placed at random) per seed.
* ``LogisticValidation``: the validation log loss of logistic regression on the
  breast-cancer data after 30 heavy-ball steps, over (lr, momentum, weight decay); the
  optimum is estimated by a dense 24³ grid (vectorised training) polished by
  Nelder-Mead, and lowered to the best value any run found if that is lower.

A run that never reaches the target counts as budget + 1.  What is measured is a count of
trials, not a time, so the machine's load does not change it.  Writes
``benchmarks/results/tuning.json`` and ``tuning.md`` and prints the table.

    python benchmarks/tuning.py            # budget 40, about a minute of CPU
    python benchmarks/tuning.py --quick    # budget 30, as in tests/test_tuning.py
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import _common  # first (sorted before numpy): pins every thread pool to one thread
import numpy as np

from gdcourse.tuning import LogisticValidation, LrMomentumSurface, race

SEEDS = tuple(range(10))
SURFACE_GAPS = (0.01, 0.02, 0.05)
LOGISTIC_GAPS = (0.005, 0.01, 0.02)


def run_surface(budget: int) -> dict:
    start = time.perf_counter()
    result = race(LrMomentumSurface, budget, SEEDS, per_seed=True)
    optimum = LrMomentumSurface.f0
    return {
        "problem": "LrMomentumSurface (random instance per seed)",
        "optimum": optimum,
        "budget": budget,
        "seeds": list(SEEDS),
        "by_gap": {str(g): _table(result, optimum + g) for g in SURFACE_GAPS},
        "seconds": round(time.perf_counter() - start, 1),
    }


def run_logistic(budget: int, n_grid: int) -> dict:
    start = time.perf_counter()
    problem = LogisticValidation()
    estimate, argmin = problem.estimate_minimum(n_grid=n_grid)
    result = race(problem, budget, SEEDS)
    best_found = min(float(np.nanmin(r.values)) for runs in result.results.values() for r in runs)
    optimum = min(estimate, best_found)
    return {
        "problem": repr(problem),
        "optimum": optimum,
        "optimum_estimate": {"value": estimate, "params": argmin, "n_grid": n_grid},
        "best_found_by_any_run": best_found,
        "budget": budget,
        "seeds": list(SEEDS),
        "by_gap": {str(g): _table(result, optimum + g) for g in LOGISTIC_GAPS},
        "seconds": round(time.perf_counter() - start, 1),
    }


def _table(result, target: float) -> dict:
    counts = result.trials_to_reach(target)
    summary = result.summary(target)
    return {m: {**summary[m], "trials": counts[m].tolist()} for m in result.methods}


def markdown(report: dict) -> str:
    lines = [
        "# Tuning: trials to come within a gap of the optimum (mean over 10 seeds)\n",
        "Grid vs random vs Bayesian search, one run per method and seed; a run that never reaches the",
        "target counts as budget + 1, and (k/10) says on how many seeds it did.\n",
    ]
    for name in ("surface", "logistic"):
        part = report[name]
        lines += [
            f"## {part['problem']}\n",
            f"optimum {part['optimum']:.5g}, budget {part['budget']}\n",
            "| gap | grid | random | Bayesian |",
            "|---|---|---|---|",
        ]
        for gap, table in part["by_gap"].items():
            cells = " | ".join(f"{t['mean_trials']:.1f} ({t['reached']}/10)" for t in table.values())
            lines.append(f"| {gap} | {cells} |")
        lines.append("")
    return "\n".join(lines) + "\n" + report["machine_markdown"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="budget 30 (the test's setting)")
    parser.add_argument("--out-dir", type=Path, default=_common.RESULTS)
    args = parser.parse_args()
    budget = 30 if args.quick else 40
    load_before = _common.load_average()
    report = {
        "what": "mean trials to reach optimum + gap over 10 seeds (budget + 1 where not reached)",
        "surface": run_surface(budget),
        "logistic": run_logistic(budget, n_grid=12 if args.quick else 24),
    }
    info = _common.machine()
    report["machine"] = info
    report["machine_markdown"] = _common.machine_markdown(info, load_before, _common.load_average())
    text = markdown(report)
    name = "tuning_quick" if args.quick else "tuning"
    paths = _common.write_results(name, report, text, args.out_dir)
    print(text)
    print("written: " + ", ".join(str(p) for p in paths))


if __name__ == "__main__":
    main()
