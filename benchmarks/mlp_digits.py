"""MLP 64-128-10 on the digits dataset: gdcourse layers vs PyTorch vs scikit-learn vs hand-fused NumPy, one thread.

The task of DESIGN.md section 8 and issue 6: scikit-learn's 8×8 digits (1797 images), standardised with
statistics of the training set, a fixed split (``gdcourse.data.train_val_split``, 20 % held out as the
test set, seed 0), a 64-128-10 ReLU network, softmax cross-entropy, Adam with ``lr = 1e-3``,
minibatches of 32, float32, 20 epochs, every thread pool pinned to one thread.

Side by side, in one process, with the runs of the implementations interleaved (a burst of load on a
shared machine hits all of them alike):

* ``gdcourse``          — ``gdcourse.nn.MLP`` on the array autodiff engine, ``gdcourse.optim.adam``, the
  training step of :mod:`gdcourse.nn`'s docstring (``zero_grad``, forward, ``backward``, ``opt.step``,
  ``set_parameters``);
* ``gdcourse, adam(fused=True)`` — the same, with Adam's fused fast path (``gdcourse.optim_fused``) forced
  on although the arrays are small (by default it starts at 1,048,576 elements): what the optimizer's
  Python overhead costs here;
* ``gdcourse Trainer``  — the same through ``gdcourse.train.fit`` (``monitor=False``; it shuffles with its
  own generator, so its batches differ), when ``gdcourse.train`` is importable;
* ``PyTorch``           — ``nn.Sequential(Linear, ReLU, Linear)``, ``torch.optim.Adam`` (its CPU default),
  ``F.cross_entropy``, ``torch.set_num_threads(1)``, the initial weights copied from the gdcourse model;
* ``scikit-learn``      — ``MLPClassifier(hidden_layer_sizes=(128,), solver="adam", batch_size=32,
  max_iter=20, learning_rate_init=1e-3, alpha=0, tol=0, n_iter_no_change=1000, shuffle=True)``: its own
  initialisation (Glorot) and its own shuffling, so its accuracy differs a little;
* ``NumPy, hand-fused`` — forward, backward and the Adam step written out by hand on preallocated
  buffers (``out=`` everywhere, no temporaries in the loop): the practical floor for NumPy.

gdcourse, PyTorch and the hand-written loop start from the same weights and see the same minibatches
in the same order (one seeded permutation per epoch), so they compute the same training run up to
float32 rounding; the results record the largest difference of their final parameters from gdcourse's.
Each time is one whole training run (model set-up and 20 epochs, not the data loading); the figure
reported is the median over ``--repeats`` runs after one untimed warm-up run of each implementation.
The test accuracy of every implementation is reported next to its time (equal accuracy is part of the
target).  Afterwards one gdcourse run is profiled with :mod:`cProfile` and the time is attributed to
the modules it is spent in (``gdcourse_profile`` in the results).

Run ``python benchmarks/mlp_digits.py`` (about a minute; ``--quick`` for a smoke test).
Results: ``benchmarks/results/mlp_digits.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import pstats
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _common as C  # first (sorted before numpy): pins every thread pool to one thread
import numpy as np

sys.path.insert(0, str(C.ROOT))
from gdcourse import nn, optim  # noqa: E402
from gdcourse.data import Standardizer, load_digits, train_val_split  # noqa: E402

SIZES = (64, 128, 10)
LR, BETAS, EPS = 1e-3, (0.9, 0.999), 1e-8
BATCH = 32
SEED = 0
IMPLS = ["gdcourse", "gdcourse, adam(fused=True)", "gdcourse Trainer", "PyTorch", "scikit-learn", "NumPy, hand-fused"]

Data = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
Result = tuple[float, dict[str, np.ndarray] | None]  # test accuracy, final parameters (torch layout) or None


# ----------------------------------------------------------------------------------------------
# Data and the shared schedule of minibatches
# ----------------------------------------------------------------------------------------------


def load_data() -> Data:
    """Standardised digits, float32, the fixed split: ``X_train, X_test, y_train, y_test`` (NumPy)."""
    X, y = load_digits(dtype="float32")
    X_train, X_test, y_train, y_test = train_val_split(X, y, val_fraction=0.2, seed=SEED)
    scaler = Standardizer().fit(X_train)
    Z_train = np.ascontiguousarray(scaler.transform(X_train), dtype=np.float32)
    Z_test = np.ascontiguousarray(scaler.transform(X_test), dtype=np.float32)
    return Z_train, Z_test, np.asarray(y_train, dtype=np.int64), np.asarray(y_test, dtype=np.int64)


def batch_schedule(n: int, epochs: int) -> list[list[np.ndarray]]:
    """Index arrays of every minibatch of every epoch: one seeded permutation per epoch, cut into 32s."""
    gen = np.random.default_rng(SEED)
    schedule = []
    for _ in range(epochs):
        perm = gen.permutation(n)
        schedule.append([perm[i : i + BATCH] for i in range(0, n, BATCH)])
    return schedule


def initial_weights() -> list[np.ndarray]:
    """The starting parameters ``[W1, b1, W2, b2]`` (PyTorch layout), from ``gdcourse.nn.MLP(seed=0)``."""
    return [np.array(p, copy=True) for p in nn.MLP(SIZES, seed=SEED, dtype="float32").parameters()]


def accuracy(logits: np.ndarray, y: np.ndarray) -> float:
    """Fraction of rows whose largest logit is the label."""
    return float(np.mean(np.argmax(logits, axis=1) == y))


# ----------------------------------------------------------------------------------------------
# Implementations: each trains from scratch and returns (test accuracy, final parameters)
# ----------------------------------------------------------------------------------------------


def run_gdcourse(data: Data, schedule: list[list[np.ndarray]], fused: bool | None = None) -> Result:
    """The training step of ``gdcourse.nn``'s docstring, on the autodiff engine (``fused``: Adam's fast path)."""
    X_train, X_test, y_train, y_test = data
    model = nn.MLP(SIZES, seed=SEED, dtype="float32")
    opt = optim.adam(lr=LR, betas=BETAS, eps=EPS, fused=fused)
    state = opt.init(model.parameters())
    for epoch in schedule:
        for idx in epoch:
            model.zero_grad()
            loss = nn.softmax_cross_entropy(model(X_train[idx]), y_train[idx])
            loss.backward()
            params, state = opt.step(model.parameters(), model.grads(), state)
            model.set_parameters(params)
    acc = accuracy(np.asarray(model(X_test).data), y_test)
    return acc, dict(zip(("W1", "b1", "W2", "b2"), model.parameters(), strict=True))


def make_trainer_run() -> Callable[[Data, list[list[np.ndarray]]], Result] | None:
    """``gdcourse.train.fit`` with monitoring off, or None when that module is not available."""
    try:
        from gdcourse.train import fit
    except ImportError:
        return None

    def run(data: Data, schedule: list[list[np.ndarray]]) -> Result:
        X_train, X_test, y_train, y_test = data
        model = nn.MLP(SIZES, seed=SEED, dtype="float32")
        fit(
            model,
            X_train,
            y_train,
            optimizer=optim.adam(lr=LR, betas=BETAS, eps=EPS),
            loss="cross_entropy",
            epochs=len(schedule),
            batch_size=BATCH,
            seed=SEED,
            monitor=False,
        )
        return accuracy(np.asarray(model(X_test).data), y_test), None

    return run


def run_torch(data: Data, schedule: list[list[np.ndarray]]) -> Result:
    """``nn.Sequential`` + ``torch.optim.Adam`` from the same initial weights and the same batches."""
    import torch
    import torch.nn.functional as F  # noqa: N812 - PyTorch's own convention

    X_train, X_test, y_train, y_test = data
    model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    with torch.no_grad():
        for p, w in zip(model.parameters(), initial_weights(), strict=True):
            p.copy_(torch.from_numpy(w))
    opt = torch.optim.Adam(model.parameters(), lr=LR, betas=BETAS, eps=EPS)
    Xt, yt = torch.from_numpy(X_train), torch.from_numpy(y_train)
    for epoch in schedule:
        for idx in epoch:
            it = torch.from_numpy(idx)
            opt.zero_grad()
            loss = F.cross_entropy(model(Xt[it]), yt[it])
            loss.backward()
            opt.step()
    with torch.no_grad():
        logits = model(torch.from_numpy(X_test)).numpy()
        params = [p.detach().numpy().copy() for p in model.parameters()]
    return accuracy(logits, y_test), dict(zip(("W1", "b1", "W2", "b2"), params, strict=True))


def run_sklearn(data: Data, schedule: list[list[np.ndarray]]) -> Result:
    """scikit-learn's ``MLPClassifier`` with the settings of DESIGN.md (its own init and shuffling)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    X_train, X_test, y_train, y_test = data
    clf = MLPClassifier(
        hidden_layer_sizes=(SIZES[1],),
        solver="adam",
        batch_size=BATCH,
        max_iter=len(schedule),
        learning_rate_init=LR,
        beta_1=BETAS[0],
        beta_2=BETAS[1],
        epsilon=EPS,
        alpha=0.0,
        tol=0.0,
        n_iter_no_change=1000,
        shuffle=True,
        random_state=SEED,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 20 epochs is the budget, not a failure
        clf.fit(X_train, y_train)
    return float(np.mean(clf.predict(X_test) == y_test)), None


def run_numpy_fused(data: Data, schedule: list[list[np.ndarray]]) -> Result:
    """Forward, backward and Adam by hand, every operation writing into a preallocated buffer."""
    X_train, X_test, y_train, y_test = data
    n_in, n_hidden, n_out = SIZES
    W1, b1, W2, b2 = params = initial_weights()
    grads = [np.empty_like(p) for p in params]
    gW1, gb1, gW2, gb2 = grads
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    tmp = [np.empty_like(p) for p in params]
    xb_buf = np.empty((BATCH, n_in), np.float32)
    h_buf = np.empty((BATCH, n_hidden), np.float32)
    dh_buf = np.empty((BATCH, n_hidden), np.float32)
    z_buf = np.empty((BATCH, n_out), np.float32)
    col_buf = np.empty((BATCH, 1), np.float32)
    mask_buf = np.empty((BATCH, n_hidden), bool)
    rows = np.arange(BATCH)
    beta1, beta2 = BETAS
    t = 0
    for epoch in schedule:
        for idx in epoch:
            B = idx.shape[0]
            xb, h, dh, z, col, mask = xb_buf[:B], h_buf[:B], dh_buf[:B], z_buf[:B], col_buf[:B], mask_buf[:B]
            np.take(X_train, idx, axis=0, out=xb)
            # forward: h = relu(x W1ᵀ + b1), z = h W2ᵀ + b2, p = softmax(z) (in z's buffer)
            np.matmul(xb, W1.T, out=h)
            h += b1
            np.maximum(h, 0, out=h)
            np.matmul(h, W2.T, out=z)
            z += b2
            np.max(z, axis=1, keepdims=True, out=col)
            z -= col
            np.exp(z, out=z)
            np.sum(z, axis=1, keepdims=True, out=col)
            z /= col
            # backward: dz = (p - onehot) / B, then the two layers
            z[rows[:B], y_train[idx]] -= 1
            z *= 1.0 / B
            np.matmul(z.T, h, out=gW2)
            np.sum(z, axis=0, out=gb2)
            np.matmul(z, W2, out=dh)
            np.greater(h, 0, out=mask)
            np.multiply(dh, mask, out=dh)
            np.matmul(dh.T, xb, out=gW1)
            np.sum(dh, axis=0, out=gb1)
            # Adam (torch.optim.Adam's arithmetic), in place
            t += 1
            step_size = LR / (1 - beta1**t)
            inv_sqrt_bc2 = 1.0 / np.sqrt(1 - beta2**t)
            for p, g, mi, vi, s in zip(params, grads, m, v, tmp, strict=True):
                mi *= beta1
                np.multiply(g, 1 - beta1, out=s)
                mi += s
                vi *= beta2
                np.multiply(g, g, out=s)
                s *= 1 - beta2
                vi += s
                np.sqrt(vi, out=s)
                s *= inv_sqrt_bc2
                s += EPS
                np.divide(mi, s, out=s)
                s *= step_size
                p -= s
    hidden = np.maximum(X_test @ W1.T + b1, 0)
    return accuracy(hidden @ W2.T + b2, y_test), dict(zip(("W1", "b1", "W2", "b2"), params, strict=True))


# ----------------------------------------------------------------------------------------------
# Measurement
# ----------------------------------------------------------------------------------------------


def implementations() -> dict[str, Callable[[Data, list[list[np.ndarray]]], Result] | None]:
    """Name -> training function (None where the library is missing)."""
    try:
        import torch

        torch.set_num_threads(1)
        torch_run: Any = run_torch
    except ImportError:
        torch_run = None
    return {
        "gdcourse": run_gdcourse,
        "gdcourse, adam(fused=True)": functools.partial(run_gdcourse, fused=True),
        "gdcourse Trainer": make_trainer_run(),
        "PyTorch": torch_run,
        "scikit-learn": run_sklearn,
        "NumPy, hand-fused": run_numpy_fused,
    }


def bench(data: Data, epochs: int, repeats: int) -> list[dict[str, Any]]:
    """Time every implementation ``repeats`` times (interleaved, after a warm-up run); one record each."""
    schedule = batch_schedule(data[0].shape[0], epochs)
    impls = implementations()
    runnable = [name for name in IMPLS if impls[name] is not None]
    seconds: dict[str, list[float]] = {name: [] for name in runnable}
    accs: dict[str, list[float]] = {name: [] for name in runnable}
    finals: dict[str, dict[str, np.ndarray] | None] = {}
    for name in runnable:  # warm-up: imports, lazy initialisation, caches
        accs[name].append(impls[name](data, schedule)[0])
    for r in range(repeats):
        order = runnable[r % len(runnable) :] + runnable[: r % len(runnable)]  # rotate who goes first
        for name in order:
            start = time.perf_counter()
            acc, final = impls[name](data, schedule)
            seconds[name].append(time.perf_counter() - start)
            accs[name].append(acc)
            finals[name] = final
    reference = finals["gdcourse"]
    records = []
    for name in IMPLS:
        if impls[name] is None:
            records.append({"impl": name, "skipped": "library not available"})
            continue
        rec: dict[str, Any] = {"impl": name, **C.summary(seconds[name])}
        rec["test_accuracy"] = accs[name][-1]
        rec["test_accuracy_all_runs_equal"] = len(set(accs[name])) == 1
        final = finals[name]
        if final is not None and reference is not None and name != "gdcourse":
            rec["max_abs_param_diff_vs_gdcourse"] = float(
                max(np.max(np.abs(np.asarray(final[k]) - np.asarray(reference[k]))) for k in reference)
            )
        records.append(rec)
    return records


def phase_times(data: Data, epochs: int, repeats: int = 3) -> dict[str, float]:
    """Median µs per step spent in each phase of gdcourse's training step (no profiler: plain timers).

    Phases: ``forward`` (model and loss), ``backward``, ``optimizer`` (``opt.step``), ``bookkeeping``
    (``zero_grad``, ``parameters``, ``grads``, ``set_parameters``) and ``batch`` (indexing the data).
    """
    X_train, _, y_train, _ = data
    schedule = batch_schedule(X_train.shape[0], epochs)
    n_steps = sum(len(e) for e in schedule)
    runs: dict[str, list[float]] = {}
    clock = time.perf_counter
    for _ in range(repeats):
        model = nn.MLP(SIZES, seed=SEED, dtype="float32")
        opt = optim.adam(lr=LR, betas=BETAS, eps=EPS)
        state = opt.init(model.parameters())
        spent = dict.fromkeys(("batch", "forward", "backward", "optimizer", "bookkeeping"), 0.0)
        for epoch in schedule:
            for idx in epoch:
                t0 = clock()
                xb, yb = X_train[idx], y_train[idx]
                t1 = clock()
                model.zero_grad()
                t2 = clock()
                loss = nn.softmax_cross_entropy(model(xb), yb)
                t3 = clock()
                loss.backward()
                t4 = clock()
                params, grads = model.parameters(), model.grads()
                t5 = clock()
                params, state = opt.step(params, grads, state)
                t6 = clock()
                model.set_parameters(params)
                t7 = clock()
                spent["batch"] += t1 - t0
                spent["forward"] += t3 - t2
                spent["backward"] += t4 - t3
                spent["optimizer"] += t6 - t5
                spent["bookkeeping"] += (t2 - t1) + (t5 - t4) + (t7 - t6)
        for phase, seconds in spent.items():
            runs.setdefault(phase, []).append(seconds / n_steps * 1e6)
    return {phase: round(float(np.median(values)), 1) for phase, values in runs.items()}


def profile_gdcourse(data: Data, epochs: int, top: int = 15) -> dict[str, Any]:
    """cProfile one gdcourse run: the share of time per module (own time) and the top functions."""
    schedule = batch_schedule(data[0].shape[0], epochs)
    profiler = cProfile.Profile()
    profiler.enable()
    run_gdcourse(data, schedule)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = sum(tt for (_, _, tt, _, _) in stats.stats.values())  # type: ignore[attr-defined]
    by_module: dict[str, float] = {}
    rows = []
    for (path, line, func), (_, ncalls, tt, ct, _) in stats.stats.items():  # type: ignore[attr-defined]
        where = _module_of(path, func)
        by_module[where] = by_module.get(where, 0.0) + tt
        rows.append({"function": f"{_short_path(path)}:{line}({func})", "calls": ncalls, "own_s": tt, "cum_s": ct})
    rows.sort(key=lambda r: -r["own_s"])
    n_steps = sum(len(e) for e in schedule)
    return {
        "steps": n_steps,
        "total_s": round(total, 4),
        "us_per_step": round(total / n_steps * 1e6, 1),
        "share_by_module": {k: round(v / total, 3) for k, v in sorted(by_module.items(), key=lambda kv: -kv[1])},
        "top_functions": [{**r, "own_s": round(r["own_s"], 4), "cum_s": round(r["cum_s"], 4)} for r in rows[:top]],
    }


def _short_path(path: str) -> str:
    for marker in ("/gdcourse/", "/site-packages/", "/benchmarks/"):
        if marker in path:
            return marker.strip("/") + "/" + path.split(marker, 1)[1]
    return path


def _module_of(path: str, func: str) -> str:
    """Group a profiled function: a gdcourse module, array_api_compat, or NumPy's compiled kernels."""
    if "/gdcourse/" in path:
        return "gdcourse/" + path.split("/gdcourse/", 1)[1]
    if "array_api_compat" in path:
        return "array_api_compat (namespace look-ups)"
    if "/numpy/" in path:
        return "numpy (Python wrappers)"
    if path == "~":  # built-in functions: the compiled kernels (matmul, ufuncs, reductions) and the rest
        numeric = ("ufunc", "matmul", "numpy", "take", "argmax", "array")
        return "numpy kernels (C)" if any(k in func for k in numeric) else "other built-ins"
    return "other Python"


def markdown_table(records: list[dict[str, Any]], epochs: int) -> str:
    """The results as a markdown table (median seconds, ratios to gdcourse, accuracy)."""
    times = {r["impl"]: r["median_ms"] for r in records if "median_ms" in r}
    base = times.get("gdcourse")
    lines = [
        f"| implementation | median s ({epochs} epochs) | min s | gdcourse ÷ this | test accuracy "
        "| max abs Δθ vs gdcourse |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in records:
        if "median_ms" not in r:
            lines.append(f"| {r['impl']} | n/a ({r['skipped']}) | | | | |")
            continue
        ratio = f"{base / r['median_ms']:.2f}" if base else "n/a"
        diff = r.get("max_abs_param_diff_vs_gdcourse")
        diff_text = "—" if r["impl"] == "gdcourse" else ("other init/batches" if diff is None else f"{diff:.1e}")
        lines.append(
            f"| {r['impl']} | {r['median_ms'] / 1e3:.3f} | {r['min_ms'] / 1e3:.3f} | {ratio} | "
            f"{r['test_accuracy']:.3f} | {diff_text} |"
        )
    return "\n".join(lines) + "\n"


def acceptance(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Issue 6's target: gdcourse faster than PyTorch CPU and no slower than scikit-learn at equal accuracy."""
    by = {r["impl"]: r for r in records if "median_ms" in r}
    out: dict[str, Any] = {}
    g = by.get("gdcourse")
    if g is None:
        return out
    for other, key in (("PyTorch", "torch"), ("scikit-learn", "sklearn"), ("NumPy, hand-fused", "numpy_fused")):
        if other in by:
            out[f"gdcourse_over_{key}"] = round(g["median_ms"] / by[other]["median_ms"], 3)
            out[f"gdcourse_over_{key}_of_minima"] = round(g["min_ms"] / by[other]["min_ms"], 3)
            out[f"accuracy_gap_vs_{key}"] = round(g["test_accuracy"] - by[other]["test_accuracy"], 4)
    if "gdcourse_over_torch" in out:
        out["faster_than_torch"] = out["gdcourse_over_torch"] < 1
    if "gdcourse_over_sklearn" in out:
        out["no_slower_than_sklearn"] = out["gdcourse_over_sklearn"] <= 1
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per implementation (median reported)")
    parser.add_argument("--no-profile", action="store_true", help="skip the cProfile run of gdcourse")
    parser.add_argument("--quick", action="store_true", help="smoke test: 2 epochs, 2 repeats")
    parser.add_argument("--out", type=Path, help="results folder (default: results/, or results/quick/ for --quick)")
    args = parser.parse_args(argv)
    args.out = args.out or (C.RESULTS / "quick" if args.quick else C.RESULTS)  # smoke tests never overwrite
    if args.quick:
        args.epochs, args.repeats = 2, 2

    load_before = C.load_average()
    info = C.machine()
    print(f"machine: {info['cpu']}, {info['usable_cpus']} CPUs, load average {load_before}", flush=True)
    data = load_data()
    print(
        f"digits: {data[0].shape[0]} training / {data[1].shape[0]} test images, MLP {SIZES}, "
        f"{args.epochs} epochs, {args.repeats} repeats ...",
        flush=True,
    )
    records = bench(data, args.epochs, args.repeats)
    profile = {} if args.no_profile else profile_gdcourse(data, args.epochs)
    if profile:
        profile["phase_us_per_step"] = phase_times(data, args.epochs)
    load_after = C.load_average()
    accept = acceptance(records)
    table = markdown_table(records, args.epochs)

    n_steps = sum(len(e) for e in batch_schedule(data[0].shape[0], args.epochs))
    md = [
        "# MLP 64-128-10 on digits: gdcourse vs PyTorch vs scikit-learn vs hand-fused NumPy (CPU, one thread)\n",
        C.machine_markdown(info, load_before, load_after),
        f"- {data[0].shape[0]} training / {data[1].shape[0]} test images (standardised, split seed {SEED}), "
        f"Adam lr {LR}, batch {BATCH}, float32, {args.epochs} epochs = {n_steps} steps; "
        f"{args.repeats} timed runs per implementation after one warm-up, interleaved; medians",
        "- gdcourse, PyTorch and NumPy start from the same weights and see the same minibatches; scikit-learn and "
        "the Trainer shuffle with their own generators (scikit-learn also initialises its own weights)\n",
        table,
    ]
    if accept:
        md.append(
            f"**Acceptance (issue 6):** gdcourse takes {accept.get('gdcourse_over_torch', float('nan')):.2f}× "
            f"PyTorch's time (target < 1: {'met' if accept.get('faster_than_torch') else 'NOT met'}) and "
            f"{accept.get('gdcourse_over_sklearn', float('nan')):.2f}× scikit-learn's (target ≤ 1: "
            f"{'met' if accept.get('no_slower_than_sklearn') else 'NOT met'}) — ratios of the fastest runs: "
            f"{accept.get('gdcourse_over_torch_of_minima', float('nan')):.2f}× and "
            f"{accept.get('gdcourse_over_sklearn_of_minima', float('nan')):.2f}×; test accuracy gdcourse − PyTorch "
            f"{accept.get('accuracy_gap_vs_torch', float('nan')):+.3f}, gdcourse − scikit-learn "
            f"{accept.get('accuracy_gap_vs_sklearn', float('nan')):+.3f}. The hand-fused NumPy loop (the floor) "
            f"is {1 / accept.get('gdcourse_over_numpy_fused', float('nan')):.2f}× gdcourse's time.\n"
        )
    if profile:
        shares = ", ".join(f"{k} {v:.0%}" for k, v in list(profile["share_by_module"].items())[:8])
        md.append(
            f"**Where gdcourse's time goes** (cProfile of one run, {profile['us_per_step']:.0f} µs per step under "
            f"the profiler; own time by module — NumPy work started by an operator such as `@` or `+` counts as "
            f"the own time of the function that wrote it): {shares}.\n"
        )
        phases = profile["phase_us_per_step"]
        numpy_us = next((r["median_ms"] for r in records if r["impl"] == "NumPy, hand-fused"), None)
        floor = f" (the hand-fused NumPy loop: {numpy_us * 1e3 / n_steps:.0f} µs per whole step)" if numpy_us else ""
        md.append(
            "Time per step by phase, plain timers, median of 3 runs: "
            + ", ".join(f"{k} {v:.0f} µs" for k, v in phases.items())
            + f" = {sum(phases.values()):.0f} µs{floor}.\n"
        )
        md.append("| function | calls | own s | cumulative s |\n|---|---:|---:|---:|")
        md += [
            f"| `{r['function']}` | {r['calls']} | {r['own_s']:.3f} | {r['cum_s']:.3f} |"
            for r in profile["top_functions"][:10]
        ]
        md.append("")
    payload = {
        "machine": info,
        "load_average_before": load_before,
        "load_average_after": load_after,
        "config": {
            "sizes": list(SIZES),
            "lr": LR,
            "betas": list(BETAS),
            "eps": EPS,
            "batch_size": BATCH,
            "epochs": args.epochs,
            "steps": n_steps,
            "repeats": args.repeats,
            "dtype": "float32",
            "train_samples": int(data[0].shape[0]),
            "test_samples": int(data[1].shape[0]),
            "split_seed": SEED,
        },
        "results": records,
        "acceptance": accept,
        "gdcourse_profile": profile,
    }
    json_path, md_path = C.write_results("mlp_digits", payload, "\n".join(md) + "\n", args.out)
    print(table)
    if accept:
        print("acceptance:", accept)
    if profile:
        print("gdcourse profile, share of own time by module:", profile["share_by_module"])
        print("gdcourse µs per step by phase:", profile["phase_us_per_step"])
    print(f"load average before {load_before}, after {load_after}")
    print(f"wrote {json_path} and {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
