"""Shared helpers of the benchmarks: one thread, the machine's description, timing, result files.

Import this module *before* NumPy or torch: it pins every BLAS/OpenMP pool to one thread.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")
for _var in THREAD_VARS:
    os.environ[_var] = "1"

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def load_average() -> list[float]:
    """1, 5 and 15-minute load averages (how busy the machine was; compare with the core count)."""
    return [round(x, 2) for x in os.getloadavg()]


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _caches() -> dict[str, str]:
    caches = {}
    for index in sorted(Path("/sys/devices/system/cpu/cpu0/cache").glob("index*")):
        level, kind, size = (_read(str(index / f)).strip() for f in ("level", "type", "size"))
        if level and kind != "Instruction":
            caches[f"L{level}{'d' if kind == 'Data' else ''}"] = size
    return caches


def machine() -> dict[str, Any]:
    """CPU, cores, caches, memory, library versions, SIMD and BLAS, thread and OpenBLAS settings."""
    cpuinfo = _read("/proc/cpuinfo")
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")), "")
    meminfo = _read("/proc/meminfo")
    mem_kb = next((int(line.split()[1]) for line in meminfo.splitlines() if line.startswith("MemTotal")), 0)
    info: dict[str, Any] = {
        "cpu": model or platform.processor() or platform.machine(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "caches_per_core": _caches(),
        "memory_gib": round(mem_kb / 2**20, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "env": {k: os.environ.get(k) for k in (*THREAD_VARS, "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")},
    }
    import numpy as np

    info["numpy"] = np.__version__
    try:
        from numpy._core._multiarray_umath import __cpu_features__  # private, informative only

        wanted = ("AVX2", "FMA3", "AVX512F", "AVX512_SKX", "AVX512_ICL", "AVX512_SPR", "ASIMD", "SVE")
        info["numpy_simd"] = [f for f in wanted if __cpu_features__.get(f)]
    except ImportError:
        pass
    try:
        import torch

        info["torch"] = torch.__version__
    except ImportError:
        info["torch"] = None
    try:
        from threadpoolctl import threadpool_info

        info["blas"] = [
            {k: p.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
            for p in threadpool_info()
            if p.get("user_api") == "blas"
        ]
    except ImportError:
        info["blas"] = "threadpoolctl not installed"
    return info


def time_per_call(fn: Callable[[], Any], calls: int, sync: Callable[[], Any] | None = None) -> float:
    """Seconds per call of ``fn``, timed over ``calls`` consecutive calls (``sync`` waits for a GPU)."""
    if sync is not None:
        sync()
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    if sync is not None:
        sync()
    return (time.perf_counter() - start) / calls


def summary(seconds: list[float]) -> dict[str, Any]:
    """Median, min, quartiles (in ms) of repeated measurements, and the raw values."""
    ms = sorted(s * 1e3 for s in seconds)
    q = statistics.quantiles(ms, n=4) if len(ms) > 1 else [ms[0]] * 3
    return {
        "median_ms": round(statistics.median(ms), 3),
        "min_ms": round(ms[0], 3),
        "q1_ms": round(q[0], 3),
        "q3_ms": round(q[2], 3),
        "runs_ms": [round(x, 3) for x in ms],
    }


def write_results(name: str, payload: dict[str, Any], markdown: str, out_dir: Path = RESULTS) -> tuple[Path, Path]:
    """Write ``<name>.json`` and ``<name>.md`` into ``out_dir``; return both paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": name,
        "date_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        **payload,
    }
    json_path, md_path = out_dir / f"{name}.json", out_dir / f"{name}.md"
    json_path.write_text(json.dumps(payload, indent=2) + "\n")
    md_path.write_text(markdown)
    return json_path, md_path


def machine_markdown(info: dict[str, Any], load_before: list[float], load_after: list[float]) -> str:
    """A short description of the machine and how loaded it was, for the markdown results."""
    blas = info.get("blas")
    blas_text = (
        ", ".join(f"{b['internal_api']} {b['version']} ({b['architecture']})" for b in blas)
        if isinstance(blas, list)
        else str(blas)
    )
    caches = ", ".join(f"{k} {v}" for k, v in info["caches_per_core"].items())
    return (
        f"- CPU: {info['cpu']} — {info['usable_cpus']} usable of {info['logical_cpus']} logical CPUs; {caches}; "
        f"{info['memory_gib']} GiB\n"
        f"- Python {info['python']}, NumPy {info['numpy']} (SIMD: {', '.join(info.get('numpy_simd', [])) or '?'}), "
        f"torch {info['torch']}; BLAS: {blas_text}\n"
        f"- threads pinned to 1 ({', '.join(f'{k}={v}' for k, v in info['env'].items() if v is not None)})\n"
        f"- load average (1, 5, 15 min) before: {load_before}, after: {load_after} — on {info['usable_cpus']} CPUs; "
        "a load above the CPU count means other processes competed for the cores and the times are inflated\n"
    )
