"""Notebook 11's throughput measurement: examples per second of one training step, by batch size.

Notebook 11 (``notebooks/11_practice.ipynb``, section 4) counts, for the forward pass of an MLP 784-1024-1024-10
in float32, the operations and the bytes moved per example at each batch size B: the operations per example do not
change with B, the bytes per example fall, so the operations per byte rise. A notebook must print the same numbers
on every machine, so the measurement those counts predict is made here, once, and the notebook quotes it:

* the notebook's step: ``gdcourse.nn.MLP([784, 1024, 1024, 10], activation="relu", seed=0, dtype="float32")``,
  softmax cross-entropy on random inputs and labels, backward, one ``optim.sgd(lr=0.01)`` update (its
  ``zero_grad``, forward, backward, ``opt.step``, ``set_parameters``);
* B in 1, 8, 32, 256, 1024; per B, ``repeats`` timed runs of ``steps`` steps after one warm-up run, the batch sizes
  interleaved run by run so that a burst of load hits all of them alike; the median seconds per step;
* examples per second B / (seconds per step), and the gain over B = 1 and over the next smaller B, next to the
  notebook's deterministic count of operations per byte.

One thread (``_common``), as in the notebook. ``--backend cupy`` runs the same code on a GPU with CuPy
(``gdcourse.backend.using``; each timed run ends by copying a parameter to the host, which waits for the GPU);
``--backend array_api_strict`` checks that path on a machine without one. Run
``python benchmarks/nb11_batch_throughput.py`` (about 20 s on one core; ``--quick`` for a smoke test, written to
``results/quick/``). Results: ``benchmarks/results/nb11_batch_throughput.json`` and ``.md`` (with the backend's name
appended to the file name when it is not NumPy).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import _common as C  # first (sorted before numpy): pins every thread pool to one thread
import numpy as np

sys.path.insert(0, str(C.ROOT))
import gdcourse  # noqa: E402
from gdcourse import nn, optim  # noqa: E402
from gdcourse.backend import using  # noqa: E402

SIZES = [784, 1024, 1024, 10]  # the notebook's MLP for 28x28 images
BATCHES = (1, 8, 32, 256, 1024)


def counts(batch: int) -> dict[str, float]:
    """The notebook's count for the forward pass: operations and bytes per example, and operations per byte.

    Parameters
    ----------
    batch : int
        The batch size :math:`B`.
    """
    layers = list(zip(SIZES[:-1], SIZES[1:], strict=True))
    operations = sum(2 * batch * a * b for a, b in layers)  # a multiply and an add per weight and example
    moved = 4 * sum(a * b + batch * (a + b) for a, b in layers)  # float32: the weights once, activations per example
    return {
        "operations_per_example": operations / batch,
        "bytes_per_example": moved / batch,
        "operations_per_byte": operations / moved,
    }


class StepTimer:
    """The notebook's training step of the MLP at one batch size, ready to be timed.

    Parameters
    ----------
    batch : int
        Examples per step.
    """

    def __init__(self, batch: int) -> None:
        draw = np.random.default_rng(0)
        self.batch = batch
        self.net = nn.MLP(SIZES, activation="relu", seed=0, dtype="float32")
        self.opt = optim.sgd(lr=0.01)
        self.state = self.opt.init(self.net.parameters())
        self.X = gdcourse.asarray(draw.normal(size=(batch, SIZES[0])), dtype="float32")
        self.y = gdcourse.asarray(draw.integers(0, SIZES[-1], size=batch))

    def step(self) -> None:
        """One step: zero_grad, forward, loss, backward, update."""
        self.net.zero_grad()
        nn.softmax_cross_entropy(self.net(self.X), self.y).backward()
        new, self.state = self.opt.step(self.net.parameters(), self.net.grads(), self.state)
        self.net.set_parameters(new)

    def seconds_per_step(self, steps: int) -> float:
        """Wall time of ``steps`` steps, per step (a parameter copied to the host at the end waits for a GPU).

        Parameters
        ----------
        steps : int
            Steps in the timed run.
        """
        start = time.perf_counter()
        for _ in range(steps):
            self.step()
        gdcourse.to_numpy(self.net.parameters()[-1])
        return (time.perf_counter() - start) / steps


def measure(steps: int, repeats: int) -> dict[str, Any]:
    """Median seconds per step for every batch size, the batch sizes interleaved run by run.

    Parameters
    ----------
    steps : int
        Steps per timed run.
    repeats : int
        Timed runs per batch size (after one warm-up run each).
    """
    timers = {b: StepTimer(b) for b in BATCHES}
    for timer in timers.values():
        timer.seconds_per_step(1)  # warm-up
    runs: dict[int, list[float]] = {b: [] for b in BATCHES}
    for _ in range(repeats):
        for b, timer in timers.items():
            runs[b].append(timer.seconds_per_step(steps))
    rows = {}
    for b in BATCHES:
        median = statistics.median(runs[b])
        rows[b] = {"seconds_per_step": median, "examples_per_second": b / median, "runs_s": runs[b], **counts(b)}
    for previous, b in zip(BATCHES[:-1], BATCHES[1:], strict=True):
        rows[b]["gain_over_previous"] = rows[b]["examples_per_second"] / rows[previous]["examples_per_second"]
    for b in BATCHES:
        rows[b]["gain_over_1"] = rows[b]["examples_per_second"] / rows[1]["examples_per_second"]
    return rows


def markdown(
    rows: dict[int, Any],
    backend: str,
    info: dict[str, Any],
    load: tuple[list[float], list[float]],
    steps: int,
    repeats: int,
) -> str:
    """The results as the markdown page ``results/nb11_batch_throughput.md``.

    Parameters
    ----------
    rows : dict
        :func:`measure`'s result.
    backend : str
        The backend the steps ran on.
    info : dict
        :func:`_common.machine`.
    load : (list, list)
        Load averages before and after.
    steps, repeats : int
        As in :func:`measure`.
    """
    table = [
        f"| {b} | {r['seconds_per_step'] * 1e3:.3f} | {r['examples_per_second']:,.0f} | {r['gain_over_1']:.1f} | "
        + (f"{r['gain_over_previous']:.2f}" if "gain_over_previous" in r else "")
        + f" | {r['operations_per_byte']:.1f} |"
        for b, r in rows.items()
    ]
    return "\n".join(
        [
            "# Notebook 11, section 4: throughput of one training step by batch size\n",
            C.machine_markdown(info, *load),
            f"- backend: {backend}; MLP {'-'.join(map(str, SIZES))} (ReLU, float32), softmax cross-entropy, SGD; "
            f"median of {repeats} runs of {steps} steps per batch size (interleaved), after one warm-up run\n",
            "| B | ms per step | examples per second | × B = 1 | × previous B | operations per byte (count) |",
            "|---:|---:|---:|---:|---:|---:|",
            *table,
            "",
            "The last column is the notebook's deterministic count for the forward pass (each weight and each input "
            "and output of every layer read or written once); the others are measured. On a loaded machine every "
            "time is inflated; the ratios of one run are what to compare.\n",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    """Measure, print the table, write ``results/nb11_batch_throughput[_backend].{json,md}``.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments (``--quick``, ``--backend``, ``--out``); ``sys.argv`` by default.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke test: 1 step, 2 runs per batch size")
    parser.add_argument("--backend", default="numpy", help="numpy (default), cupy, array_api_strict")
    parser.add_argument("--out", type=Path, help="results folder (default: results/, or results/quick/ for --quick)")
    args = parser.parse_args(argv)
    out = args.out or (C.RESULTS / "quick" if args.quick else C.RESULTS)  # smoke tests never overwrite
    steps, repeats = (1, 2) if args.quick else (5, 15)
    load_before, info = C.load_average(), C.machine()
    gdcourse.setup_notebook(seed=11)  # the notebook's settings: one BLAS thread
    with using(args.backend):
        rows = measure(steps, repeats)
    load_after = C.load_average()
    md = markdown(rows, args.backend, info, (load_before, load_after), steps, repeats)
    print(md)
    payload = {
        "machine": info,
        "load_before": load_before,
        "load_after": load_after,
        "quick": args.quick,
        "backend": args.backend,
        "steps": steps,
        "repeats": repeats,
        "sizes": SIZES,
        "batches": {str(b): r for b, r in rows.items()},
    }
    suffix = "" if args.backend == "numpy" else "_" + args.backend.replace(":", "_")
    C.write_results("nb11_batch_throughput" + suffix, payload, md, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
