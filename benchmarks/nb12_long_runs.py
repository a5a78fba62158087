"""Notebook 12's longer runs: what the notebook's models reach when trained longer than its time budget allows.

Notebook 12 (``notebooks/12_real_models.ipynb``) must run in well under 20 s, so its models are trained briefly
and the prose quotes what longer training gives. Those numbers come from this script, which runs the notebook's
own code with the notebook's seeds and splits, only for more epochs:

* ``mlp``  — section 2's MLP 64-128-10 on the digits (Adam, lr 1e-3, B = 32, ``fit(..., seed=0)``), 100 epochs:
  the validation loss after 20 (the notebook's run), 50 and 100 epochs, and the epoch of its lowest value
  (``fit`` draws one shuffled order per epoch from its own generator, so the first 50 epochs of this run are
  the 50-epoch run);
* ``cnn``  — section 4's CNN (8 filters of 5x5, padding 2, ReLU, 2x2 max-pooling, linear; Adam, lr 3e-3),
  50 epochs: the validation accuracy after 15 (the notebook's run) and 50 epochs;
* ``lstm`` — section 5's LSTM (16 hidden units and a linear head, Adam with a cosine schedule over the whole
  run, 16 minibatches of 32 windows per epoch), trained for 15 epochs (the notebook's run, as a check that
  this script reproduces it) and for 60 epochs (the schedule then spans 60 epochs): the validation MSE.

The notebook's short-run values are recomputed here too, so the results show that the script trains the
notebook's models (same numbers as the notebook's printouts). One thread, as in the notebook; float32 on the
NumPy backend. Run ``python benchmarks/nb12_long_runs.py`` (a minute or two on one core; ``--quick`` for a
smoke test, written to ``results/quick/``). Results: ``benchmarks/results/nb12_long_runs.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import _common as C  # first (sorted before numpy): pins every thread pool to one thread
import numpy as np

sys.path.insert(0, str(C.ROOT))
import gdcourse  # noqa: E402
from gdcourse import nn, optim, schedules  # noqa: E402
from gdcourse.data import Standardizer, load_digits, train_val_split  # noqa: E402
from gdcourse.train import fit  # noqa: E402

NOTEBOOK_SEED = 12  # gdcourse.setup_notebook(seed=12): the generator the LSTM's data are drawn from
T, NOISE = 12, 0.1  # section 5: window length and noise level
NOTEBOOK_PRINTS = {"mlp": 0.034, "cnn": 0.972, "lstm": 0.023}  # the notebook's short runs, as it prints them


def digits() -> dict[str, Any]:
    """Section 1's split (test 20 % with seed 0, then validation 20 % of the rest with seed 1), standardised."""
    X, y = load_digits(dtype="float32")
    X_rest, X_test, y_rest, y_test = train_val_split(X, y, val_fraction=0.2, seed=0)
    X_train, X_val, y_train, y_val = train_val_split(X_rest, y_rest, val_fraction=0.2, seed=1)
    scaler = Standardizer().fit(X_train)
    return {
        "X_train": X_train,
        "X_val": X_val,
        "y_train": y_train,
        "y_val": y_val,
        "Z_train": scaler.transform(X_train),
        "Z_val": scaler.transform(X_val),
    }


def mlp_run(data: dict[str, Any], epochs: int) -> dict[str, Any]:
    """Section 2's MLP, trained for ``epochs`` epochs; the validation loss after every epoch."""
    mlp = nn.MLP([64, 128, 10], activation="relu", seed=0, dtype="float32")
    history = fit(
        mlp,
        data["Z_train"],
        data["y_train"],
        optimizer=optim.adam(lr=1e-3),
        loss="cross_entropy",
        epochs=epochs,
        batch_size=32,
        validation=(data["Z_val"], data["y_val"]),
        seed=0,
    )
    val = [round(v, 6) for v in history.val_loss]
    at = {e: val[e - 1] for e in (20, 50, 100) if e <= epochs}
    return {
        "epochs": epochs,
        "val_loss": val,
        "val_loss_at": at,
        "val_accuracy_last": history.val_accuracy[-1],
        "lowest_val_loss_epoch": int(np.argmin(val)) + 1,
        "still_falling_at_end": bool(val[-1] < min(val[:-1], default=np.inf)),
    }


def cnn_run(data: dict[str, Any], epochs: int) -> dict[str, Any]:
    """Section 4's CNN, trained for ``epochs`` epochs; the validation accuracy after every epoch."""
    images = {name: gdcourse.array_module().reshape(data[f"X_{name}"] / 16, (-1, 1, 8, 8)) for name in ("train", "val")}
    cnn = nn.Sequential(
        nn.Conv2d(1, 8, kernel_size=5, padding=2, seed=0, dtype="float32"),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(8 * 4 * 4, 10, seed=1, dtype="float32"),
    )
    history = fit(
        cnn,
        images["train"],
        data["y_train"],
        optimizer=optim.adam(lr=3e-3),
        loss="cross_entropy",
        epochs=epochs,
        batch_size=32,
        validation=(images["val"], data["y_val"]),
        seed=0,
    )
    acc = [round(a, 6) for a in history.val_accuracy]
    at = {e: acc[e - 1] for e in (15, 50) if e <= epochs}
    return {"epochs": epochs, "val_accuracy": acc, "val_accuracy_at": at, "val_loss_last": history.val_loss[-1]}


class NextValue(nn.Module):
    """Section 5's model: an LSTM reads the window; a linear layer maps its last hidden state to the prediction.

    Parameters
    ----------
    hidden : int
        Hidden units of the LSTM.
    seed : int
        Seed of the LSTM's weights (the head uses ``seed + 1``).
    """

    def __init__(self, hidden: int, seed: int) -> None:
        super().__init__()
        self.lstm = nn.LSTM(1, hidden, seed=seed, dtype="float32")
        self.head = nn.Linear(hidden, 1, seed=seed + 1, dtype="float32")

    def forward(self, x: Any) -> Any:
        """The prediction of the value after each window of ``x`` (N, T, 1): shape (N, 1)."""
        outputs, (h, c) = self.lstm(x)
        return self.head(h)


def noisy_sine_windows(n: int, length: int, gen: np.random.Generator) -> tuple[Any, Any]:
    """Section 5's data: ``n`` noisy sine windows of ``length`` values (own frequency and phase) and the next value."""
    freq = gen.uniform(0.25, 0.6, size=(n, 1))
    phase = gen.uniform(0, 2 * np.pi, size=(n, 1))
    series = np.sin(freq * np.arange(length + 1) + phase) + NOISE * gen.normal(size=(n, length + 1))
    series = gdcourse.asarray(series, dtype="float32")
    return series[:, :length, None], series[:, length:]


def lstm_run(epochs: int) -> dict[str, Any]:
    """Section 5's training loop for ``epochs`` epochs (cosine schedule over all of them); the validation MSE."""
    xp = gdcourse.array_module()
    rng = np.random.default_rng(NOTEBOOK_SEED)  # what setup_notebook(seed=12) returns; nothing draws from it before
    S_train, t_train = noisy_sine_windows(512, T, rng)
    S_val, t_val = noisy_sine_windows(512, T, rng)
    lstm, batches = NextValue(hidden=16, seed=0), 16
    opt = optim.adam(lr=schedules.cosine(1e-2, T_max=epochs * batches))
    state = opt.init(lstm.parameters())
    order = np.random.default_rng(0)
    for _ in range(epochs):
        for idx in np.array_split(order.permutation(S_train.shape[0]), batches):
            idx = gdcourse.asarray(idx)
            lstm.zero_grad()
            loss = nn.mse_loss(lstm(xp.take(S_train, idx, axis=0)), xp.take(t_train, idx, axis=0))
            loss.backward()
            params, state = opt.step(lstm.parameters(), lstm.grads(), state)
            lstm.set_parameters(params)
    val_mse = float(xp.mean((lstm(S_val).data - t_val) ** 2))
    return {"epochs": epochs, "steps": epochs * batches, "val_mse": round(val_mse, 6), "noise_floor": NOISE**2}


def run_all(quick: bool) -> dict[str, Any]:
    """Every long run (``quick``: a few epochs each); each entry also records its seconds."""
    data = digits()
    plan = {
        "mlp": lambda: mlp_run(data, 3 if quick else 100),
        "cnn": lambda: cnn_run(data, 2 if quick else 50),
        "lstm_notebook": lambda: lstm_run(1 if quick else 15),
        "lstm_long": lambda: lstm_run(2 if quick else 60),
    }
    results = {}
    for name, job in plan.items():
        start = time.perf_counter()
        results[name] = job()
        results[name]["seconds"] = round(time.perf_counter() - start, 1)
        print(f"{name}: done in {results[name]['seconds']} s", flush=True)
    return results


def markdown(results: dict[str, Any], info: dict[str, Any], load: tuple[list[float], list[float]]) -> str:
    """The results as the markdown page ``results/nb12_long_runs.md``."""
    mlp, cnn = results["mlp"], results["cnn"]
    short, long = results["lstm_notebook"], results["lstm_long"]
    recomputed = {"mlp": mlp["val_loss_at"].get(20), "cnn": cnn["val_accuracy_at"].get(15), "lstm": short["val_mse"]}
    match = [v is not None and round(v, 3) == NOTEBOOK_PRINTS[k] for k, v in recomputed.items()]
    same = (
        "the same, to the printed digits, as the notebook's printouts "
        if all(match)
        else "NOT all equal to the notebook's printouts "
    ) + str(NOTEBOOK_PRINTS)
    rows = [f"| MLP 64-128-10, validation loss | {e} | {v:.3f} |" for e, v in mlp["val_loss_at"].items()]
    rows += [f"| CNN, validation accuracy | {e} | {v:.3f} |" for e, v in cnn["val_accuracy_at"].items()]
    rows += [
        f"| LSTM, validation MSE (cosine schedule over the run) | {r['epochs']} | {r['val_mse']:.3f} |"
        for r in (short, long)
    ]
    return "\n".join(
        [
            "# Notebook 12's models, trained longer than the notebook can afford\n",
            C.machine_markdown(info, *load),
            "Each model is the notebook's, with the notebook's seeds, split and optimizer; only the number of epochs "
            "differs. The rows at 20 (MLP) and 15 epochs (CNN, LSTM) are the notebook's own runs, recomputed: "
            f"{same}.\n",
            "| model | epochs | value |",
            "|---|---:|---:|",
            *rows,
            "",
            f"- MLP: lowest validation loss at epoch {mlp['lowest_val_loss_epoch']} of {mlp['epochs']}; "
            f"still falling at the last epoch: {'yes' if mlp['still_falling_at_end'] else 'no'}; "
            f"validation accuracy at the end {mlp['val_accuracy_last']:.3f}.",
            f"- LSTM: noise floor {long['noise_floor']:.3f} (the variance of the noise of the value to predict).",
            "- Seconds per run (one thread, " + ", ".join(f"{k} {v['seconds']}" for k, v in results.items()) + ").\n",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    """Run the long runs, print the table, write ``results/nb12_long_runs.{json,md}``.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments (``--quick``, ``--out``); ``sys.argv`` by default.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke test: a few epochs each")
    parser.add_argument("--out", type=Path, help="results folder (default: results/, or results/quick/ for --quick)")
    args = parser.parse_args(argv)
    out = args.out or (C.RESULTS / "quick" if args.quick else C.RESULTS)  # smoke tests never overwrite
    load_before, info = C.load_average(), C.machine()
    gdcourse.setup_notebook(seed=NOTEBOOK_SEED)  # the notebook's settings: one BLAS thread, seeded globals
    results = run_all(args.quick)
    load_after = C.load_average()
    md = markdown(results, info, (load_before, load_after))
    print(md)
    payload = {"machine": info, "load_before": load_before, "load_after": load_after, "quick": args.quick, **results}
    C.write_results("nb12_long_runs", payload, md, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
