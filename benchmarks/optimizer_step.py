"""Optimizer step throughput: Adam, SGD-momentum and RMSprop on large float32 parameter vectors, one thread.

Side by side, in one process, with the runs of the implementations interleaved (so a burst of load on
a shared machine hits all of them alike):

* ``gdcourse readable``  — ``gdcourse.optim.<rule>(fused=False)``: the teaching code, one temporary per operator;
* ``gdcourse fused``     — ``fused=True``, ``opt.step``: chunked NumPy ufuncs with ``out=`` into fresh arrays
  (``gdcourse.optim_fused``; the caller's arrays are never touched);
* ``gdcourse fused in place`` — ``fused=True``, ``opt.step_in_place``: the same chunks written over the
  parameters and state buffers, as ``torch.optim`` does (nothing allocated per step);
* ``torch foreach``      — ``torch.optim.<Rule>(foreach=True)``, CPU, ``torch.set_num_threads(1)``;
* ``torch fused``        — ``torch.optim.<Rule>(fused=True)`` (Adam, SGD; torch has no fused RMSprop);
* ``numpy temporaries``  — the rule written as plain NumPy expressions (what a tutorial would write);
* ``numpy out=, whole arrays`` — in-place ufuncs on whole arrays, no chunks (shows what chunking buys).

Every implementation does the same number of steps from the same start with the same gradient, and the
final parameters are compared with gdcourse readable (column ``max |Δθ|``).  The *memory floor* is the
bytes the rule must move per step (read θ, g and each state buffer, write θ and each buffer) divided
by the best single-thread memory bandwidth measured here with STREAM-like NumPy/torch kernels.

Run ``python benchmarks/optimizer_step.py`` (about 5 minutes; ``--quick`` for a smoke test).
Results: ``benchmarks/results/optimizer_step.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _common as C  # first (sorted before numpy): pins every thread pool to one thread
import numpy as np

sys.path.insert(0, str(C.ROOT))
from gdcourse import optim, optim_fused  # noqa: E402

RULES = {  # name -> (gdcourse hyperparameters, torch class name, state buffers per parameter)
    "adam": ({"lr": 1e-3}, "Adam", 2),
    "sgd": ({"lr": 1e-3, "momentum": 0.9}, "SGD", 1),
    "rmsprop": ({"lr": 1e-2}, "RMSprop", 1),
}
LABELS = {"adam": "Adam", "sgd": "SGD-momentum", "rmsprop": "RMSprop"}
IMPLS = [
    "gdcourse readable",
    "gdcourse fused",
    "gdcourse fused in place",
    "torch foreach",
    "torch fused",
    "numpy temporaries",
    "numpy out=, whole arrays",
]


# ----------------------------------------------------------------------------------------------
# Implementations: each returns (step, final_params)
# ----------------------------------------------------------------------------------------------


def make_gdcourse(rule: str, theta: np.ndarray, g: np.ndarray, fused: bool, in_place: bool = False):
    opt = getattr(optim, rule)(**RULES[rule][0], fused=fused)
    box = {"params": theta.copy()}
    box["state"] = opt.init(box["params"])
    update = opt.step_in_place if in_place else opt.step

    def step():
        box["params"], box["state"] = update(box["params"], g, box["state"])

    return step, lambda: box["params"]


def make_torch(rule: str, theta: np.ndarray, g: np.ndarray, mode: str, device: str = "cpu"):
    import torch

    kw, cls, _ = RULES[rule]
    p = torch.tensor(theta, device=device).requires_grad_()
    p.grad = torch.tensor(g, device=device)
    opt = getattr(torch.optim, cls)([p], **kw, **{mode: True})
    return opt.step, lambda: p.detach().cpu().numpy()


def make_numpy_temporaries(rule: str, theta: np.ndarray, g: np.ndarray):
    lr = RULES[rule][0]["lr"]
    s = {"theta": theta.copy(), "m": np.zeros_like(theta), "v": np.zeros_like(theta), "t": 0}

    def adam(b1=0.9, b2=0.999, eps=1e-8):
        s["t"] += 1
        s["m"] = b1 * s["m"] + (1 - b1) * g
        s["v"] = b2 * s["v"] + (1 - b2) * g**2
        m_hat, v_hat = s["m"] / (1 - b1 ** s["t"]), s["v"] / (1 - b2 ** s["t"])
        s["theta"] = s["theta"] - lr * m_hat / (np.sqrt(v_hat) + eps)

    def sgd(mu=0.9):
        s["t"] += 1
        s["m"] = g.copy() if s["t"] == 1 else mu * s["m"] + g
        s["theta"] = s["theta"] - lr * s["m"]

    def rmsprop(alpha=0.99, eps=1e-8):
        s["v"] = alpha * s["v"] + (1 - alpha) * g**2
        s["theta"] = s["theta"] - lr * g / (np.sqrt(s["v"]) + eps)

    return {"adam": adam, "sgd": sgd, "rmsprop": rmsprop}[rule], lambda: s["theta"]


def make_numpy_inplace(rule: str, theta: np.ndarray, g: np.ndarray):
    """The same as the fused path, but each ufunc runs over the whole array (temporaries don't fit in cache)."""
    lr = RULES[rule][0]["lr"]
    th, m, v, a, b = (
        theta.copy(),
        np.zeros_like(theta),
        np.zeros_like(theta),
        np.empty_like(theta),
        np.empty_like(theta),
    )
    t = [0]

    def adam(b1=0.9, b2=0.999, eps=1e-8):
        t[0] += 1
        np.multiply(m, b1, out=m)
        np.multiply(g, 1 - b1, out=a)
        np.add(m, a, out=m)
        np.square(g, out=a)
        np.multiply(a, 1 - b2, out=a)
        np.multiply(v, b2, out=v)
        np.add(v, a, out=v)
        np.divide(v, 1 - b2 ** t[0], out=a)
        np.sqrt(a, out=a)
        np.add(a, eps, out=a)
        np.divide(m, 1 - b1 ** t[0], out=b)
        np.multiply(b, lr, out=b)
        np.divide(b, a, out=b)
        np.subtract(th, b, out=th)

    def sgd(mu=0.9):
        t[0] += 1
        if t[0] == 1:
            np.copyto(m, g)
        else:
            np.multiply(m, mu, out=m)
            np.add(m, g, out=m)
        np.multiply(m, lr, out=a)
        np.subtract(th, a, out=th)

    def rmsprop(alpha=0.99, eps=1e-8):
        np.square(g, out=a)
        np.multiply(a, 1 - alpha, out=a)
        np.multiply(v, alpha, out=v)
        np.add(v, a, out=v)
        np.sqrt(v, out=a)
        np.add(a, eps, out=a)
        np.divide(g, a, out=a)
        np.multiply(a, lr, out=a)
        np.subtract(th, a, out=th)

    return {"adam": adam, "sgd": sgd, "rmsprop": rmsprop}[rule], lambda: th


def implementations(rule: str, theta: np.ndarray, g: np.ndarray) -> dict[str, tuple[Callable, Callable] | str]:
    impls: dict[str, Any] = {
        "gdcourse readable": make_gdcourse(rule, theta, g, fused=False),
        "gdcourse fused": make_gdcourse(rule, theta, g, fused=True),
        "gdcourse fused in place": make_gdcourse(rule, theta, g, fused=True, in_place=True),
        "numpy temporaries": make_numpy_temporaries(rule, theta, g),
        "numpy out=, whole arrays": make_numpy_inplace(rule, theta, g),
    }
    try:
        import torch  # noqa: F401

        impls["torch foreach"] = make_torch(rule, theta, g, "foreach")
        try:
            impls["torch fused"] = make_torch(rule, theta, g, "fused")
        except (TypeError, RuntimeError) as err:
            impls["torch fused"] = f"n/a ({type(err).__name__}: {str(err).splitlines()[0][:60]})"
    except ImportError:
        impls["torch foreach"] = impls["torch fused"] = "n/a (torch not installed)"
    return {name: impls[name] for name in IMPLS if name in impls}


# ----------------------------------------------------------------------------------------------
# Memory bandwidth
# ----------------------------------------------------------------------------------------------


def stream_bandwidth(n: int, repeats: int) -> dict[str, Any]:
    """GB/s of STREAM-like kernels on float32 arrays of ``n`` elements (bytes counted as STREAM does)."""
    b, c = np.full(n, 1.0, np.float32), np.full(n, 2.0, np.float32)
    a = np.empty_like(b)
    tmp = np.empty(optim_fused.CHUNK, np.float32)

    def triad_chunked():  # a = b + s*c, one pass over memory: s*c goes through an L2-sized scratch
        for i in range(0, n, len(tmp)):
            j = min(i + len(tmp), n)
            np.add(b[i:j], np.multiply(c[i:j], 3.0, out=tmp[: j - i]), out=a[i:j])

    kernels: dict[str, tuple[Callable[[], Any], int]] = {
        "numpy copy (np.copyto)": (lambda: np.copyto(a, b), 2),
        "numpy scale (multiply out=)": (lambda: np.multiply(b, 3.0, out=a), 2),
        "numpy add (add out=)": (lambda: np.add(b, c, out=a), 3),
        "numpy triad (chunked)": (triad_chunked, 3),
    }
    try:
        import torch

        ta, tb, tc = (torch.from_numpy(x) for x in (a, b, c))
        kernels["torch triad (add alpha, out=)"] = (lambda: torch.add(tb, tc, alpha=3.0, out=ta), 3)
    except ImportError:
        pass
    out: dict[str, Any] = {"array_elements": n, "kernels": {}}
    for name, (fn, arrays) in kernels.items():
        fn()
        seconds = [C.time_per_call(fn, 3) for _ in range(repeats)]
        s = C.summary(seconds)
        out["kernels"][name] = {"gb_per_s": round(arrays * 4 * n / (s["min_ms"] / 1e3) / 1e9, 2), **s}
    best = max(out["kernels"], key=lambda k: out["kernels"][k]["gb_per_s"])
    out["best"] = {"kernel": best, "gb_per_s": out["kernels"][best]["gb_per_s"]}
    return out


def bytes_per_step(rule: str, n: int) -> int:
    """Bytes the rule must read and write per step: read θ, g, buffers; write θ, buffers (float32)."""
    buffers = RULES[rule][2]
    return 4 * n * ((2 + buffers) + (1 + buffers))


# ----------------------------------------------------------------------------------------------
# The benchmark
# ----------------------------------------------------------------------------------------------


def bench_one(rule: str, n: int, steps: int, repeats: int, warmup: int, seed: int = 0) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    theta = rng.standard_normal(n, dtype=np.float32)
    g = rng.standard_normal(n, dtype=np.float32)
    impls = implementations(rule, theta, g)
    runnable = {k: v for k, v in impls.items() if not isinstance(v, str)}
    for step, _ in runnable.values():
        for _ in range(warmup):
            step()
    times: dict[str, list[float]] = {k: [] for k in runnable}
    for _ in range(repeats):  # interleaved: each repeat times every implementation once
        for name, (step, _) in runnable.items():
            times[name].append(C.time_per_call(step, steps))
    reference = np.asarray(runnable["gdcourse readable"][1](), dtype=np.float64)
    records = []
    for name, impl in impls.items():
        record: dict[str, Any] = {"rule": rule, "size": n, "impl": name}
        if isinstance(impl, str):
            record["note"] = impl
        else:
            final = np.asarray(impl[1](), dtype=np.float64)
            record.update(C.summary(times[name]))
            record["max_abs_diff_vs_readable"] = float(np.max(np.abs(final - reference))) if n else 0.0
        records.append(record)
    del impls, runnable
    gc.collect()
    return records


def chunk_sweep(n: int, chunks: list[int], steps: int, repeats: int) -> list[dict[str, Any]]:
    """Adam with the fused path at several chunk sizes (to choose ``optim_fused.CHUNK`` on a new machine)."""
    rng = np.random.default_rng(1)
    theta, g = rng.standard_normal(n, dtype=np.float32), rng.standard_normal(n, dtype=np.float32)
    steppers = {c: make_gdcourse("adam", theta, g, fused=True)[0] for c in chunks}
    default = optim_fused.CHUNK
    times: dict[int, list[float]] = {c: [] for c in chunks}
    try:
        for r in range(repeats + 1):
            for c, step in steppers.items():
                optim_fused.CHUNK = c
                t = C.time_per_call(step, steps)
                if r:  # the first round warms up
                    times[c].append(t)
    finally:
        optim_fused.CHUNK = default
    return [{"chunk": c, "size": n, **C.summary(times[c])} for c in chunks]


def gpu_bench(sizes: list[int], steps: int, repeats: int) -> dict[str, Any]:
    """The same steps with CuPy (gdcourse) and torch CUDA, when a GPU is usable."""
    try:
        import cupy

        cupy.cuda.runtime.getDeviceCount()
    except Exception as err:  # noqa: BLE001 - any failure means no usable GPU
        return {"skipped": f"no usable GPU ({type(err).__name__}: {err})"}
    try:
        import torch

        torch_cuda = torch.cuda.is_available()
    except ImportError:
        torch_cuda = False

    def sync():
        cupy.cuda.Device().synchronize()
        if torch_cuda:
            torch.cuda.synchronize()

    out: dict[str, Any] = {"device": cupy.cuda.runtime.getDeviceProperties(0)["name"].decode(), "records": []}
    if not torch_cuda:
        out["note"] = "torch has no CUDA here: CuPy rows only"
    for rule in RULES:
        for n in sizes:
            rng = np.random.default_rng(0)
            theta, g = rng.standard_normal(n, dtype=np.float32), rng.standard_normal(n, dtype=np.float32)
            impls: dict[str, Any] = {}
            for fused in (False, True):
                opt = getattr(optim, rule)(**RULES[rule][0], fused=fused)
                box = {"p": cupy.asarray(theta)}
                box["s"] = opt.init(box["p"])
                gg = cupy.asarray(g)

                def step(opt=opt, box=box, gg=gg):
                    box["p"], box["s"] = opt.step(box["p"], gg, box["s"])

                impls[f"gdcourse {'fused' if fused else 'readable'} (CuPy)"] = step
            for mode in ("foreach", "fused") if torch_cuda else ():
                try:
                    impls[f"torch {mode} (CUDA)"] = make_torch(rule, theta, g, mode, device="cuda")[0]
                except (TypeError, RuntimeError):
                    pass
            for step in impls.values():
                for _ in range(3):
                    step()
            times: dict[str, list[float]] = {k: [] for k in impls}
            for _ in range(repeats):
                for name, step in impls.items():
                    times[name].append(C.time_per_call(step, steps, sync))
            for name in impls:
                out["records"].append({"rule": rule, "size": n, "impl": name, **C.summary(times[name])})
    return out


def gpu_ratios(cpu: list[dict[str, Any]], gpu: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per rule and size: CuPy fused step vs gdcourse fused on the CPU (speedup), and vs torch fused CUDA (ratio)."""
    def ms(rows: list[dict[str, Any]], rule: str, n: int, impl: str) -> float | None:
        return next((r["median_ms"] for r in rows if (r["rule"], r["size"], r["impl"]) == (rule, n, impl)), None)

    out = []
    for rule, n in dict.fromkeys((r["rule"], r["size"]) for r in gpu):
        fused_gpu = ms(gpu, rule, n, "gdcourse fused (CuPy)")
        fused_cpu = ms(cpu, rule, n, "gdcourse fused")
        torch_fused = ms(gpu, rule, n, "torch fused (CUDA)")
        if fused_gpu is None or fused_cpu is None:
            continue
        out.append({
            "rule": rule,
            "size": n,
            "speedup_over_cpu": fused_cpu / fused_gpu,
            "ratio_to_torch_cuda_fused": None if torch_fused is None else fused_gpu / torch_fused,
        })
    return out


def markdown_table(records: list[dict[str, Any]], sizes: list[int], floors: dict[tuple[str, int], float]) -> str:
    lines = []
    for n in sizes:
        rules = [r for r in RULES if any(x["rule"] == r and x["size"] == n for x in records)]
        lines.append(f"\n**{n:,} float32 parameters** — median ms per step (× memory floor)\n")
        lines.append("| implementation | " + " | ".join(LABELS[r] for r in rules) + " |")
        lines.append("|---|" + "---:|" * len(rules))
        for impl in IMPLS:
            cells = []
            for r in rules:
                rec = next((x for x in records if x["rule"] == r and x["size"] == n and x["impl"] == impl), None)
                if rec is None:
                    cells.append("")
                elif "median_ms" not in rec:
                    cells.append("n/a")
                else:
                    cells.append(f"{rec['median_ms']:.1f} ({rec['median_ms'] / floors[(r, n)]:.1f}×)")
            lines.append(f"| {impl} | " + " | ".join(cells) + " |")
        lines.append("| *memory floor* | " + " | ".join(f"{floors[(r, n)]:.3g}" for r in rules) + " |")
    return "\n".join(lines) + "\n"


def acceptance(records: list[dict[str, Any]], n: int) -> dict[str, Any]:
    def median(impl: str) -> float | None:
        rec = next((x for x in records if x["rule"] == "adam" and x["size"] == n and x["impl"] == impl), None)
        return rec.get("median_ms") if rec else None

    # step_in_place is the like-for-like comparison: torch.optim also writes over its parameters and state
    ours, foreach, fused = median("gdcourse fused in place"), median("torch foreach"), median("torch fused")
    if ours is None or foreach is None or fused is None:
        return {"size": n, "note": "not measured (needs the Adam row at this size with torch)"}
    return {
        "size": n,
        "gdcourse_fused_in_place_ms": ours,
        "gdcourse_fused_fresh_arrays_ms": median("gdcourse fused"),
        "torch_foreach_ms": foreach,
        "torch_fused_ms": fused,
        "ratio_to_torch_foreach": round(ours / foreach, 3),
        "ratio_to_torch_fused": round(ours / fused, 3),
        "no_slower_than_foreach": ours <= foreach,
        "within_1.5x_of_fused": ours <= 1.5 * fused,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000,10000000", help="comma-separated parameter counts")
    parser.add_argument("--rules", default="adam,sgd,rmsprop")
    parser.add_argument("--steps", type=int, default=20, help="steps per timed run")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per implementation (median reported)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--chunks", default="", help="also time fused Adam at these CHUNK sizes, e.g. 4096,16384,65536")
    parser.add_argument("--gpu", action="store_true", help="also run with CuPy and torch CUDA if a GPU is usable")
    parser.add_argument("--quick", action="store_true", help="smoke test: 100k parameters, 3 steps, 2 repeats")
    parser.add_argument("--out", type=Path, help="results folder (default: results/, or results/quick/ for --quick)")
    args = parser.parse_args(argv)
    args.out = args.out or (C.RESULTS / "quick" if args.quick else C.RESULTS)  # smoke tests never overwrite
    if args.quick:
        args.sizes, args.steps, args.repeats, args.warmup = "100000", 3, 2, 1
    sizes = [int(float(s)) for s in args.sizes.split(",") if s]
    rules = [r for r in args.rules.split(",") if r]
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass

    load_before = C.load_average()
    info = C.machine()
    print(f"machine: {info['cpu']}, {info['usable_cpus']} CPUs, load average {load_before}", flush=True)
    stream = stream_bandwidth(max(sizes[-1], 1 << 22) if not args.quick else 1 << 20, 3 if args.quick else 5)
    bw = stream["best"]["gb_per_s"]
    print(f"memory bandwidth (best of STREAM-like kernels): {bw} GB/s ({stream['best']['kernel']})", flush=True)
    records: list[dict[str, Any]] = []
    for n in sizes:
        for rule in rules:
            print(f"  {LABELS[rule]} on {n:,} parameters ...", flush=True)
            records += bench_one(rule, n, args.steps, args.repeats, args.warmup)
    floors = {(r, n): bytes_per_step(r, n) / (bw * 1e9) * 1e3 for r in rules for n in sizes}
    for rec in records:
        rec["memory_floor_ms"] = round(floors[(rec["rule"], rec["size"])], 3)
        rec["bytes_per_step"] = bytes_per_step(rec["rule"], rec["size"])
    sweep = (
        chunk_sweep(sizes[-1], [int(c) for c in args.chunks.split(",")], args.steps, args.repeats)
        if args.chunks
        else []
    )
    gpu = gpu_bench(sizes, args.steps, args.repeats) if args.gpu else {"skipped": "not requested (--gpu)"}
    load_after = C.load_average()
    accept = acceptance(records, sizes[-1]) if "adam" in rules else {}

    table = markdown_table(records, sizes, floors)
    md = [
        "# Optimizer step: gdcourse vs torch.optim vs NumPy (CPU, one thread)\n",
        C.machine_markdown(info, load_before, load_after),
        f"- memory bandwidth: {bw} GB/s ({stream['best']['kernel']}); floor = bytes read+written per step ÷ bandwidth",
        f"- {args.steps} steps per run, {args.repeats} runs per implementation after {args.warmup} warm-up steps, "
        "runs interleaved; medians",
        f"- fused path: chunks of {optim_fused.CHUNK} elements; chosen automatically from "
        f"{optim_fused.FUSED_MIN_SIZE:,} elements",
        table,
    ]
    if accept.get("ratio_to_torch_foreach") is not None:
        md.append(
            f"**Acceptance (Adam, {accept['size']:,} params):** gdcourse fused in place "
            f"{accept['gdcourse_fused_in_place_ms']:.1f} ms "
            f"(fresh arrays: {accept['gdcourse_fused_fresh_arrays_ms']:.1f} ms), "
            f"torch foreach {accept['torch_foreach_ms']:.1f} ms ({accept['ratio_to_torch_foreach']:.2f}×: "
            f"{'no slower — met' if accept['no_slower_than_foreach'] else 'slower — NOT met'}), torch fused "
            f"{accept['torch_fused_ms']:.1f} ms ({accept['ratio_to_torch_fused']:.2f}×: target 1.5× "
            f"{'met' if accept['within_1.5x_of_fused'] else 'not met'}).\n"
        )
    if sweep:
        md.append(
            "\nFused Adam by chunk size (median ms): " + ", ".join(f"{s['chunk']}: {s['median_ms']:.1f}" for s in sweep)
        )
    if "records" in gpu:
        gpu["ratios"] = gpu_ratios(records, gpu["records"])
        md.append(f"\n## GPU: {gpu['device']}\n")
        md.append(gpu.get("note", ""))
        md.append("| rule | size | implementation | median ms |\n|---|---:|---|---:|")
        md += [f"| {r['rule']} | {r['size']:,} | {r['impl']} | {r['median_ms']:.3f} |" for r in gpu["records"]]
        md.append("\n| rule | size | CuPy fused vs gdcourse fused on this CPU | vs torch fused (CUDA) |")
        md.append("|---|---:|---:|---:|")
        md += [
            f"| {r['rule']} | {r['size']:,} | {r['speedup_over_cpu']:.1f}× faster | "
            + ("–" if r["ratio_to_torch_cuda_fused"] is None else f"{r['ratio_to_torch_cuda_fused']:.2f}× the time")
            + " |"
            for r in gpu["ratios"]
        ]
    else:
        md.append(f"\nGPU: {gpu['skipped']}\n")
    payload = {
        "machine": info,
        "load_average_before": load_before,
        "load_average_after": load_after,
        "config": {
            "sizes": sizes,
            "rules": {r: RULES[r][0] for r in rules},
            "steps": args.steps,
            "repeats": args.repeats,
            "warmup": args.warmup,
            "chunk": optim_fused.CHUNK,
            "fused_min_size": optim_fused.FUSED_MIN_SIZE,
            "dtype": "float32",
        },
        "stream_bandwidth": stream,
        "results": records,
        "acceptance_adam": accept,
        "chunk_sweep": sweep,
        "gpu": gpu,
    }
    json_path, md_path = C.write_results("optimizer_step", payload, "\n".join(md) + "\n", args.out)
    print(table)
    if accept:
        print("acceptance:", {k: v for k, v in accept.items() if k != "size"})
    if sweep:
        print("chunk sweep:", {s["chunk"]: s["median_ms"] for s in sweep})
    print(f"load average before {load_before}, after {load_after}")
    print(f"wrote {json_path} and {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
