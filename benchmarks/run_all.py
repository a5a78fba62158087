"""Run every benchmark, one after the other, each in its own process: ``python benchmarks/run_all.py``.

``python benchmarks/run_all.py optimizer_step`` runs only the named ones; ``--quick`` passes each its
smoke-test option (seconds instead of minutes); ``--gpu`` adds the CuPy / torch CUDA measurements
where a benchmark has them.  Results land in ``benchmarks/results/``.  ``gdcourse bench`` calls this.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

QUICK = ["--quick"]
QUICK_OUT = str(HERE / "results" / "quick")  # smoke-test results never overwrite the recorded ones

# name -> (script, what it measures, arguments for --quick); a script not written yet is reported and skipped
BENCHMARKS = {
    "optimizer_step": ("optimizer_step.py", "Adam/SGD-momentum/RMSprop step: gdcourse vs torch.optim vs NumPy", QUICK),
    "mlp_digits": ("mlp_digits.py", "MLP 64-128-10 on digits, Adam, batch 32, 20 epochs, one thread", QUICK),
    "tuning": (
        "tuning.py",
        "grid vs random vs Bayesian search: trials to reach the optimum",
        [*QUICK, "--out-dir", QUICK_OUT],
    ),
    "grading": ("grading.py", "gdcourse grade on 200 notebook-00 submissions, --jobs 2, sandboxed", QUICK),
    "course_runtime": ("course_runtime.py", "wall time of strict nbval per notebook and in total", QUICK),
    "nb11_batch_throughput": (
        "nb11_batch_throughput.py",
        "examples per second of notebook 11's MLP step vs batch size (the numbers its prose quotes)",
        QUICK,
    ),
    "nb12_long_runs": ("nb12_long_runs.py", "notebook 12's models trained longer: the numbers its prose quotes", QUICK),
}
GPU_AWARE = {"optimizer_step"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help=f"benchmarks to run (default all): {', '.join(BENCHMARKS)}"
    )
    parser.add_argument("--quick", action="store_true", help="smoke-test sizes (seconds, not minutes)")
    parser.add_argument("--gpu", action="store_true", help="also measure on the GPU where a benchmark can")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)
    if args.list:
        for name, (script, what, _) in BENCHMARKS.items():
            state = "" if (HERE / script).exists() else "  [not written yet]"
            print(f"{name:16s} {what}{state}")
        return 0
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    failed = []
    for name in args.names or list(BENCHMARKS):
        script, what, quick = BENCHMARKS[name]
        if not (HERE / script).exists():
            print(f"== {name}: skipped, benchmarks/{script} is not written yet ({what})\n", flush=True)
            continue
        cmd = [sys.executable, str(HERE / script)]
        cmd += quick if args.quick else []
        cmd += ["--gpu"] if args.gpu and name in GPU_AWARE else []
        print(f"== {name}: {what}", flush=True)
        start = time.perf_counter()
        code = subprocess.call(cmd, cwd=HERE.parent)
        print(f"== {name}: exit {code} after {time.perf_counter() - start:.0f} s\n", flush=True)
        if code != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
