"""The whole course under strict nbval: wall time per notebook and in total, one thread.

Each source notebook (``notebooks/NN_*.ipynb``) runs in its own subprocess as
``python -m pytest notebooks/NN_x.ipynb`` from the repository root, so the project's pytest options
apply (``--nbval`` strict mode, the sanitize file, the current environment's kernel), with
``OMP_NUM_THREADS=OPENBLAS_NUM_THREADS=MKL_NUM_THREADS=1``.  The time includes starting Python,
pytest and the Jupyter kernel; the ``startup`` column is the same command with ``--collect-only``
(no kernel, no cell run), for scale.  DESIGN.md asks every notebook to take under ~20 s on a 2-core CPU.

Run ``python benchmarks/course_runtime.py`` (``--repeats 3`` for medians; ``--backend
array_api_strict:device1`` runs the course with that backend through ``GDCOURSE_BACKEND``).
Results: ``benchmarks/results/course_runtime.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import _common as C

LIMIT_S = 20.0


def run_pytest(path: Path, env: dict[str, str], extra: list[str], timeout: float) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *extra, str(path.relative_to(C.ROOT))]
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=C.ROOT, env=env, capture_output=True, text=True, timeout=timeout)
        returncode, output = proc.returncode, proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as err:
        returncode, output = None, f"timed out after {timeout} s\n{err.stdout or ''}"
    seconds = time.perf_counter() - start
    lines = [ln for ln in output.strip().splitlines() if ln.strip()]
    summary_line = next((ln for ln in reversed(lines) if re.search(r"\b(passed|failed|error|no tests ran)\b", ln)), "")
    reported = re.search(r" in ([0-9.]+)s", summary_line)  # pytest's own time: the cells, without start-up
    return {
        "seconds": seconds,
        "returncode": returncode,
        "summary": summary_line.strip("= ").strip(),
        "pytest_s": float(reported.group(1)) if reported else None,
    }


def _median_or_dash(values: list[float | None]) -> str:
    known = [v for v in values if v is not None]
    return f"{statistics.median(known):.1f}" if known else "–"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="notebook paths or numbers (default: every notebooks/NN_*.ipynb)")
    parser.add_argument("--repeats", type=int, default=1, help="runs per notebook (median reported)")
    parser.add_argument("--backend", help="GDCOURSE_BACKEND for the kernels, e.g. array_api_strict:device1")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds before a notebook run is stopped")
    parser.add_argument("--quick", action="store_true", help="only the first notebook, once")
    parser.add_argument("--out", type=Path, help="results folder (default: results/, or results/quick/ for --quick)")
    args = parser.parse_args(argv)
    args.out = args.out or (C.RESULTS / "quick" if args.quick else C.RESULTS)  # smoke tests never overwrite

    sources = sorted((C.ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if args.notebooks:
        wanted = [w if w.endswith(".ipynb") else f"{int(w):02d}_" for w in args.notebooks]
        sources = [p for p in sources if any(p.name.startswith(w) or str(p).endswith(w) for w in wanted)]
    if args.quick:
        sources, args.repeats = sources[:1], 1
    if not sources:
        print("no notebooks found under notebooks/", file=sys.stderr)
        return 2
    env = {**os.environ, **{v: "1" for v in C.THREAD_VARS}}
    env.pop("MPLBACKEND", None)  # figure outputs differ under Agg (DESIGN.md 9): run as the test suite does
    if args.backend:
        env["GDCOURSE_BACKEND"] = args.backend

    load_before = C.load_average()
    info = C.machine()
    print(f"machine: {info['cpu']}, {info['usable_cpus']} CPUs, load average {load_before}", flush=True)
    records = []
    for path in sources:
        runs = [run_pytest(path, env, [], args.timeout) for _ in range(args.repeats)]
        startup = run_pytest(path, env, ["--collect-only"], args.timeout)  # after: caches as warm as for the runs
        seconds = [r["seconds"] for r in runs]
        median = statistics.median(seconds)
        ok = all(r["returncode"] == 0 for r in runs)
        records.append(
            {
                "notebook": path.name,
                "median_s": round(median, 2),
                "runs_s": [round(s, 2) for s in seconds],
                "startup_s": round(startup["seconds"], 2),
                "pytest_reported_s": [r["pytest_s"] for r in runs],
                "passed": ok,
                "summary": runs[-1]["summary"],
                "under_limit": median < LIMIT_S,
            }
        )
        flag = "" if ok else f"  FAILED: {runs[-1]['summary']}"
        print(f"  {path.name}: {median:.1f} s (startup {startup['seconds']:.1f} s){flag}", flush=True)
    load_after = C.load_average()
    total = sum(r["median_s"] for r in records)

    lines = [
        f"# The course under strict nbval{f' (backend {args.backend})' if args.backend else ''}\n",
        C.machine_markdown(info, load_before, load_after),
        f"- `python -m pytest notebooks/NN_x.ipynb` per notebook in a subprocess, {args.repeats} run(s) each "
        "(median); wall = the whole command, pytest = the time pytest reports (kernel and cells), "
        "startup = the same command with `--collect-only`\n",
        "| notebook | wall s | pytest s | startup s | < 20 s | result |",
        "|---|---:|---:|---:|:---:|---|",
    ]
    lines += [
        f"| {r['notebook']} | {r['median_s']:.1f} | {_median_or_dash(r['pytest_reported_s'])} | {r['startup_s']:.1f} "
        f"| {'yes' if r['under_limit'] else '**no**'} "
        f"| {r['summary'] if r['passed'] else '**' + r['summary'] + '**'} |"
        for r in records
    ]
    lines.append(f"| **total** | **{total:.1f}** | | | | |")
    payload = {
        "machine": info,
        "load_average_before": load_before,
        "load_average_after": load_after,
        "config": {"repeats": args.repeats, "backend": args.backend, "limit_s": LIMIT_S},
        "notebooks": records,
        "total_s": round(total, 2),
        "all_passed": all(r["passed"] for r in records),
        "all_under_limit": all(r["under_limit"] for r in records),
    }
    name = "course_runtime" if not args.backend else f"course_runtime_{re.sub(r'[^A-Za-z0-9]+', '_', args.backend)}"
    json_path, md_path = C.write_results(name, payload, "\n".join(lines) + "\n", args.out)
    print(f"total {total:.1f} s over {len(records)} notebooks; load average before {load_before}, after {load_after}")
    print(f"wrote {json_path} and {md_path}")
    return 0 if payload["all_passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
