"""One command for a machine with an NVIDIA GPU: the unit suite on CuPy, the course on CuPy, the GPU benchmarks.

Run from the repository root, in the project's environment with CuPy installed
(``pip install -e ".[gpu]"``; a CUDA build of torch adds the PyTorch CUDA comparison)::

    python benchmarks/gpu_check.py            # or: make gpu-check
    python benchmarks/gpu_check.py --dry-run  # only print the steps

Steps (each one runs even if an earlier one failed; the exit status is 1 if any failed):

1. ``unit``: the unit suite with ``GDCOURSE_TEST_BACKENDS=numpy,cupy`` (every ``backend``-fixture test on
   NumPy and on CuPy arrays on the GPU), ``python -m pytest tests``.
2. ``course``: every notebook under strict nbval with ``GDCOURSE_BACKEND=cupy`` (new arrays on the GPU),
   timed per notebook by ``benchmarks/course_runtime.py --backend cupy``.  GPU floating point may differ
   from the CPU in the last digits; a notebook that prints one of those digits fails here and the log says
   which cell.
3. ``optimizer``: ``benchmarks/optimizer_step.py --gpu``: Adam, SGD-momentum and RMSprop on 1M and 10M
   float32 parameters on this machine's CPU (one thread) and with CuPy, with the speedup of the CuPy fused
   step over the CPU fused step and its ratio to ``torch`` fused on CUDA.

Logs go to ``benchmarks/results/gpu/`` and the summary to ``benchmarks/results/gpu/gpu_check.md``.  Without a
usable GPU it stops at once with exit status 2 and says why.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone

import _common as C

OUT = C.RESULTS / "gpu"
NO_GPU = 2


def probe() -> tuple[str | None, str]:
    """``(device name, note)`` when CuPy sees a GPU, else ``(None, why not)``."""
    try:
        import cupy

        count = cupy.cuda.runtime.getDeviceCount()
        name = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
    except ImportError:
        return None, 'CuPy is not installed: on a machine with an NVIDIA GPU, pip install -e ".[gpu]"'
    except Exception as err:  # noqa: BLE001 - any CUDA failure means no usable GPU
        return None, f"CuPy is installed but no CUDA GPU is usable ({type(err).__name__}: {err})"
    try:
        import torch

        torch_note = f"torch {torch.__version__}, CUDA {'available' if torch.cuda.is_available() else 'NOT available'}"
    except ImportError:
        torch_note = "torch not installed (no PyTorch CUDA comparison)"
    return name, f"{count} GPU(s), CuPy {cupy.__version__}; {torch_note}"


def steps() -> list[tuple[str, list[str], dict[str, str]]]:
    """``(name, command, extra environment)`` of each step, run from the repository root."""
    py = sys.executable
    one_thread = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    return [
        ("unit", [py, "-m", "pytest", "tests", "-q", "-p", "no:cacheprovider"],
         {**one_thread, "GDCOURSE_TEST_BACKENDS": "numpy,cupy"}),
        ("course", [py, "benchmarks/course_runtime.py", "--backend", "cupy", "--out", str(OUT)], one_thread),
        ("optimizer", [py, "benchmarks/optimizer_step.py", "--gpu", "--out", str(OUT)], one_thread),
    ]


def run_step(name: str, cmd: list[str], env: dict[str, str]) -> dict[str, object]:
    log = OUT / f"{name}.log"
    start = time.perf_counter()
    with log.open("w") as sink:
        code = subprocess.call(cmd, cwd=C.ROOT, env={**os.environ, **env}, stdout=sink, stderr=subprocess.STDOUT)
    lines = [ln for ln in log.read_text().splitlines() if ln.strip()]
    return {"step": name, "exit": code, "seconds": round(time.perf_counter() - start, 1),
            "last_line": lines[-1] if lines else "", "log": str(log)}


def summary(device: str, note: str, done: list[dict[str, object]]) -> str:
    date = datetime.now(timezone.utc).isoformat(timespec="seconds")
    md = [f"# GPU check on {device}\n", f"- {note}", f"- date (UTC): {date}\n",
          "| step | exit | seconds | last line of the log |", "|---|---:|---:|---|"]
    md += [f"| {d['step']} | {d['exit']} | {d['seconds']} | `{d['last_line']}` |" for d in done]
    ratios_file = OUT / "optimizer_step.json"
    if ratios_file.exists():
        gpu = json.loads(ratios_file.read_text()).get("gpu", {})
        md.append("\n## Optimizer step, CuPy fused\n")
        md.append("| rule | parameters | speedup over the CPU fused step | time ÷ torch fused (CUDA) |")
        md.append("|---|---:|---:|---:|")
        for r in gpu.get("ratios", []):
            torch_ratio = r["ratio_to_torch_cuda_fused"]
            md.append(f"| {r['rule']} | {r['size']:,} | {r['speedup_over_cpu']:.1f}× | "
                      + ("–" if torch_ratio is None else f"{torch_ratio:.2f}×") + " |")
    return "\n".join(md) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="print the steps and exit")
    parser.add_argument("--only", choices=[s[0] for s in steps()], action="append", help="run only these steps")
    args = parser.parse_args(argv)
    chosen = [s for s in steps() if not args.only or s[0] in args.only]
    if args.dry_run:
        for name, cmd, env in chosen:
            settings = " ".join(f"{k}={v}" for k, v in env.items())
            print(f"{name}: {settings} {' '.join(cmd)}")
        return 0
    device, note = probe()
    if device is None:
        print(f"gpu_check: no GPU to check here. {note}", file=sys.stderr)
        return NO_GPU
    OUT.mkdir(parents=True, exist_ok=True)
    print(f"GPU: {device} ({note})", flush=True)
    done = []
    for name, cmd, env in chosen:
        print(f"== {name}: {' '.join(cmd)}", flush=True)
        done.append(run_step(name, cmd, env))
        print(f"== {name}: exit {done[-1]['exit']} after {done[-1]['seconds']} s: {done[-1]['last_line']}", flush=True)
    report = summary(device, note, done)
    (OUT / "gpu_check.md").write_text(report)
    print(report)
    return 1 if any(d["exit"] != 0 for d in done) else 0


if __name__ == "__main__":
    sys.exit(main())
