"""The fault suite: bad inputs and faults across the API and the CLI, each with the class of outcome it must get.

Issue #17 tried 341 bad inputs and faults; this table keeps one or more of each kind, by category (optimizers,
schedules, descent, data, stochastic, models, train/nn, checkpoints, tuning, backends, CLI).  Every fault has
one expected outcome:

``error``    an exception of the stated type whose message matches ``match``: the argument's name and what
             was expected, or the real cause (a NaN *in the data* is not "the learning rate is too large");
``warning``  the run goes on, and a warning of the stated category says what is wrong (never silence);
``kept``     a command refuses, and every file the user had is still there, byte for byte.

Nothing here may end in a traceback from inside a library, a silent wrong result, or a lost file.  The
deeper behaviour of each fault (bit-exact resume, the divergence rules, the output-folder markers) is tested
in the test module of its subject; this table is the cross-section, and its last test counts it.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import gdcourse
from gdcourse import data, descent, init, nn, optim, schedules, stochastic, train, tuning
from gdcourse.divergence import UnstableRunWarning
from gdcourse.functions import Quadratic
from gdcourse.models import LinearRegression, LogisticRegression
from gdcourse.optim import EpsUnderflowWarning
from gdcourse.tuning import LogUniform, Uniform

CATEGORIES = (
    "optimizers",
    "schedules",
    "descent",
    "data",
    "stochastic",
    "models",
    "train/nn",
    "checkpoints",
    "tuning",
    "backends",
    "CLI",
)


@dataclass(frozen=True)
class Fault:
    category: str
    name: str
    call: Callable[..., Any]  # takes tmp_path when it needs files
    outcome: str  # "error" | "warning" | "kept"
    kind: type[BaseException] | type[Warning] | None = None
    match: str = ""


FAULTS: list[Fault] = []


def error(category: str, name: str, call: Callable[..., Any], kind: type[BaseException], match: str) -> None:
    FAULTS.append(Fault(category, name, call, "error", kind, match))


def warns(category: str, name: str, call: Callable[..., Any], kind: type[Warning], match: str) -> None:
    FAULTS.append(Fault(category, name, call, "warning", kind, match))


def kept(category: str, name: str, call: Callable[..., Any]) -> None:
    """``call(tmp_path)`` builds a user's folder (:func:`_user_folder`) and runs a command on it: it must refuse
    (raise with a message or exit non-zero) and leave every file in that folder unchanged."""
    FAULTS.append(Fault(category, name, call, "kept"))


def _xy(n: int = 40, d: int = 2, seed: int = 0) -> tuple[Any, Any]:
    X, y = data.make_linear(n, d, noise=0.1, seed=seed)
    return X, y


def _with_nan(a: Any, index: tuple[int, ...] = (3,)) -> Any:
    host = gdcourse.to_numpy(a).copy()
    host[index] = np.nan
    return gdcourse.asarray(host)


BOWL = Quadratic(kappa=10.0, L=1.0)
THETA0 = gdcourse.asarray(np.array([1.0, -1.0]))

# --- optimizers ------------------------------------------------------------------------------------------
for name in ("sgd", "adam", "rmsprop", "adagrad", "adamw", "nadam"):
    error("optimizers", f"{name} lr=0", lambda n=name: getattr(optim, n)(lr=0.0), ValueError, r"lr.*(positive|> ?0)")
    error("optimizers", f"{name} lr=-1", lambda n=name: getattr(optim, n)(lr=-1.0), ValueError, r"lr")
    error("optimizers", f"{name} lr=nan", lambda n=name: getattr(optim, n)(lr=float("nan")), ValueError, r"lr")
    error("optimizers", f"{name} lr='0.1'", lambda n=name: getattr(optim, n)(lr="0.1"), (TypeError, ValueError), r"lr")
error("optimizers", "adam beta1=1", lambda: optim.adam(lr=0.1, betas=(1.0, 0.999)), ValueError, r"beta")
error("optimizers", "adam beta2=-0.1", lambda: optim.adam(lr=0.1, betas=(0.9, -0.1)), ValueError, r"beta")
error("optimizers", "momentum=1.5", lambda: optim.heavy_ball(lr=0.1, momentum=1.5), ValueError, r"momentum")
error("optimizers", "adadelta eps=0", lambda: optim.adadelta(eps=0.0), ValueError, r"eps")
error("optimizers", "unknown name", lambda: optim.get("adamm"), (KeyError, ValueError), r"adamm.*(adam|known)")
warns(
    "optimizers",
    "adam float16 eps underflow",
    lambda: optim.adam(lr=1e-3).step(
        [gdcourse.asarray(np.ones(3, np.float16))],
        [gdcourse.asarray(np.full(3, 1e-3, np.float16))],
        optim.adam(lr=1e-3).init([gdcourse.asarray(np.ones(3, np.float16))]),
    ),
    EpsUnderflowWarning,
    r"eps",
)

# --- schedules -------------------------------------------------------------------------------------------
error("schedules", "step_decay step_size=0", lambda: schedules.step_decay(0.1, 0), ValueError, r"step_size")
error("schedules", "step_decay gamma=-1", lambda: schedules.step_decay(0.1, 10, gamma=-1.0), ValueError, r"gamma")
error("schedules", "cosine T_max=0", lambda: schedules.cosine(0.1, 0), ValueError, r"T_max")
error("schedules", "cosine lr0=nan", lambda: schedules.cosine(float("nan"), 10), ValueError, r"lr0")
error("schedules", "warmup steps=-1", lambda: schedules.warmup(0.1, -1), ValueError, r"warmup_steps")
error("schedules", "exponential lr0=0", lambda: schedules.exponential(0.0, 0.9), ValueError, r"lr0")
error("schedules", "unknown name", lambda: schedules.get("cosin"), (KeyError, ValueError), r"cosin")

# --- descent ---------------------------------------------------------------------------------------------
error("descent", "minimize lr=0", lambda: descent.minimize(BOWL, THETA0, lr=0.0), ValueError, r"lr")
error("descent", "minimize lr=True", lambda: descent.minimize(BOWL, THETA0, lr=True), (TypeError, ValueError), r"lr")
error("descent", "minimize lr='0.1'", lambda: descent.minimize(BOWL, THETA0, lr="0.1"), (TypeError, ValueError), r"lr")
error(
    "descent",
    "minimize tol_grad='1e-3'",
    lambda: descent.minimize(BOWL, THETA0, lr=0.1, tol_grad="1e-3"),
    (TypeError, ValueError),
    r"tol_grad",
)
error(
    "descent",
    "minimize max_iter=-1",
    lambda: descent.minimize(BOWL, THETA0, lr=0.1, max_iter=-1),
    ValueError,
    r"max_iter",
)
error(
    "descent",
    "minimize theta0 with NaN",
    lambda: descent.minimize(BOWL, _with_nan(THETA0, (0,)), lr=0.1),
    ValueError,
    r"theta0 holds 1 NaN",
)
error(
    "descent",
    "gradient of the wrong shape",
    lambda: descent.minimize(BOWL, THETA0, lr=0.1, grad=lambda th: gdcourse.asarray(np.ones(1))),
    ValueError,
    r"grad.*shape",
)
error(
    "descent",
    "diverging lr names the learning rate",
    lambda: descent.minimize(BOWL, THETA0, lr=2.5),
    descent.DivergenceError,
    r"learning rate",
)
error(
    "descent",
    "on_divergence='ignore'",
    lambda: descent.minimize(BOWL, THETA0, lr=0.1, on_divergence="ignore"),
    ValueError,
    r"on_divergence",
)
error(
    "descent",
    "conjugate_gradient non-symmetric A",
    lambda: descent.conjugate_gradient(
        gdcourse.asarray(np.array([[2.0, 1.0], [0.0, 2.0]])), gdcourse.asarray(np.ones(2))
    ),
    ValueError,
    r"symmetric",
)
error(
    "descent",
    "unknown objective name",
    lambda: gdcourse.functions.get("rosenbrok"),
    (KeyError, ValueError),
    r"rosenbrok",
)

error(
    "descent",
    "NaN gradient with a constant cost is numerical, not 'grew to 1'",
    lambda: descent.minimize(lambda t: 1.0, np.array([0.5, 0.5]), grad=lambda t: np.full(2, np.nan), lr=0.1),
    descent.DivergenceError,
    r"numerical problem, not the learning rate",
)
for _rule in (optim.rmsprop(lr=100.0), optim.adam(lr=10.0)):
    warns(
        "optimizers",
        f"{_rule.name} with a huge lr ends far above its start",
        lambda r=_rule: descent.minimize(
            lambda t: float(np.sum(np.abs(t))), np.array([0.001, 0.001]), grad=np.sign, optimizer=r, max_iter=100
        ),
        UnstableRunWarning,
        r"times its start.*smaller learning rate",
    )

# --- data ------------------------------------------------------------------------------------------------
error("data", "make_linear n_samples=0", lambda: data.make_linear(0), ValueError, r"n_samples")
error("data", "make_linear noise=-1", lambda: data.make_linear(10, noise=-1.0), ValueError, r"noise")
error("data", "make_linear dtype=int8", lambda: data.make_linear(10, dtype="int8"), (TypeError, ValueError), r"dtype")
error(
    "data",
    "load_breast_cancer dtype=int8",
    lambda: data.load_breast_cancer(dtype="int8"),
    (TypeError, ValueError),
    r"dtype",
)
error("data", "standardize X 1-D", lambda: data.standardize(gdcourse.asarray(np.ones(5))), ValueError, r"2-D")
error("data", "standardize X with NaN", lambda: data.standardize(_with_nan(_xy()[0], (3, 1))), ValueError, r"NaN")
error(
    "data",
    "train_val_split val_fraction=1.5",
    lambda: data.train_val_split(*_xy(), val_fraction=1.5),
    ValueError,
    r"val_fraction",
)
error("data", "Minibatches batch_size=0", lambda: data.Minibatches(_xy()[0], batch_size=0), ValueError, r"batch_size")
error(
    "data",
    "Minibatches y of another length",
    lambda: data.Minibatches(_xy()[0], _xy(30)[1], batch_size=4),
    ValueError,
    r"y|length|samples",
)

# --- stochastic ------------------------------------------------------------------------------------------
error(
    "stochastic",
    "LeastSquares X with NaN",
    lambda: stochastic.LeastSquares(_with_nan(_xy()[0], (3, 1)), _xy()[1]),
    ValueError,
    r"X holds 1 NaN value.*row 3",
)
error(
    "stochastic",
    "LeastSquares y with inf",
    lambda: stochastic.LeastSquares(
        _xy()[0], gdcourse.asarray(np.where(np.arange(40) == 5, np.inf, gdcourse.to_numpy(_xy()[1])))
    ),
    ValueError,
    r"y holds 1 infinite",
)
error(
    "stochastic",
    "sgd_run NaN in X blames the data",
    lambda: stochastic.sgd_run(
        stochastic.LeastSquares(*_xy()),
        gdcourse.asarray(np.zeros(2)),
        _with_nan(_xy()[0], (3, 1)),
        _xy()[1],
        batch_size=4,
        lr=0.1,
    ),
    ValueError,
    r"X holds 1 NaN",
)
error(
    "stochastic",
    "sgd_run batch_size=0",
    lambda: stochastic.sgd_run(
        stochastic.LeastSquares(*_xy()), gdcourse.asarray(np.zeros(2)), *_xy(), batch_size=0, lr=0.1
    ),
    ValueError,
    r"batch_size",
)
error(
    "stochastic",
    "sgd_run lr=0",
    lambda: stochastic.sgd_run(
        stochastic.LeastSquares(*_xy()), gdcourse.asarray(np.zeros(2)), *_xy(), batch_size=4, lr=0.0
    ),
    ValueError,
    r"lr",
)
error(
    "stochastic",
    "predicted_variance negative sigma2",
    lambda: stochastic.predicted_variance(-1.0, 10, 2),
    ValueError,
    r"sigma2",
)
error(
    "stochastic",
    "predicted_variance batch above n",
    lambda: stochastic.predicted_variance(1.0, 10, 20),
    ValueError,
    r"batch_size",
)

# --- models ----------------------------------------------------------------------------------------------
error(
    "models",
    "fit X with NaN names X and the position",
    lambda: LinearRegression().fit(_with_nan(_xy()[0], (3, 1)), _xy()[1]),
    ValueError,
    r"X.*NaN.*row 3",
)
error(
    "models",
    "fit y with NaN",
    lambda: LinearRegression().fit(_xy()[0], _with_nan(_xy()[1], (2,))),
    ValueError,
    r"y.*NaN",
)
error("models", "lr=-1", lambda: LinearRegression(lr=-1.0).fit(*_xy()), ValueError, r"lr")
error(
    "models",
    "unknown optimizer",
    lambda: LinearRegression(optimizer="adamm").fit(*_xy()),
    (KeyError, ValueError),
    r"adamm",
)
error("models", "unknown penalty", lambda: LinearRegression(penalty="l3").fit(*_xy()), ValueError, r"penalty")
error("models", "alpha=-1", lambda: LinearRegression(alpha=-1.0).fit(*_xy()), ValueError, r"alpha")
error(
    "models",
    "X and y of different lengths",
    lambda: LinearRegression().fit(_xy()[0], _xy(30)[1]),
    ValueError,
    r"samples|length|inconsistent",
)
error(
    "models",
    "continuous labels for a classifier",
    lambda: LogisticRegression().fit(*_xy()),
    ValueError,
    r"label|continuous",
)
error(
    "models",
    "adam eps=0 on a zero column is numerical, not the learning rate",
    lambda: LinearRegression(optimizer="adam", optimizer_kwargs={"eps": 0.0}, lr=0.1, max_epochs=5).fit(
        gdcourse.asarray(np.column_stack([np.zeros(20), np.linspace(0, 1, 20)])),
        gdcourse.asarray(np.linspace(0, 1, 20)),
    ),
    descent.DivergenceError,
    r"numerical problem, not the learning rate",
)
error("models", "predict before fit", lambda: LinearRegression().predict(_xy()[0]), Exception, r"fit")

# --- train/nn --------------------------------------------------------------------------------------------


def _mlp(dtype: str = "float64") -> Any:
    return nn.Sequential(nn.Linear(2, 4, seed=0, dtype=dtype), nn.Tanh(), nn.Linear(4, 1, seed=1, dtype=dtype))


def _y2(y: Any) -> Any:
    return gdcourse.asarray(gdcourse.to_numpy(y)[:, None])


error(
    "train/nn",
    "fit X with NaN blames the data, not the learning rate",
    lambda: train.fit(_mlp(), _with_nan(_xy()[0], (3, 1)), _y2(_xy()[1]), optimizer=optim.sgd(lr=0.1), epochs=1),
    ValueError,
    r"X holds 1 NaN",
)
error(
    "train/nn",
    "fit y with inf",
    lambda: train.fit(
        _mlp(), _xy()[0], gdcourse.asarray(np.full((40, 1), np.inf)), optimizer=optim.sgd(lr=0.1), epochs=1
    ),
    ValueError,
    r"y holds 40 infinite",
)
error(
    "train/nn",
    "fit epochs=-1",
    lambda: train.fit(_mlp(), _xy()[0], _y2(_xy()[1]), optimizer=optim.sgd(lr=0.1), epochs=-1),
    ValueError,
    r"epochs",
)
error(
    "train/nn",
    "fit batch_size=0",
    lambda: train.fit(_mlp(), _xy()[0], _y2(_xy()[1]), optimizer=optim.sgd(lr=0.1), batch_size=0),
    ValueError,
    r"batch_size",
)
error(
    "train/nn",
    "fit unknown loss",
    lambda: train.fit(_mlp(), _xy()[0], _y2(_xy()[1]), optimizer=optim.sgd(lr=0.1), loss="mae2"),
    (KeyError, ValueError),
    r"mae2",
)
error(
    "train/nn",
    "diverging run names the learning rate",
    lambda: train.fit(_mlp(), _xy()[0], _y2(_xy()[1]) * 100, optimizer=optim.sgd(lr=50.0), epochs=5),
    train.DivergenceError,
    r"learning rate",
)
error("train/nn", "Linear in_features=0", lambda: nn.Linear(0, 3), ValueError, r"in_features")
error(
    "train/nn",
    "Linear input of the wrong width",
    lambda: nn.Linear(3, 2, seed=0)(gdcourse.asarray(np.ones((4, 5)))),
    ValueError,
    r"3|features|shape",
)
error("train/nn", "unknown initialiser", lambda: init.get("xavier_normall"), (KeyError, ValueError), r"xavier_normall")
error(
    "train/nn",
    "MLP unknown activation",
    lambda: nn.MLP([2, 3, 1], activation="relu6"),
    (KeyError, ValueError),
    r"relu6",
)

# --- checkpoints -----------------------------------------------------------------------------------------


def _trained(tmp: Path) -> tuple[Path, Any]:
    model = _mlp()
    opt = optim.adam(lr=0.01)
    state = opt.init(model.parameters())
    path = train.save_checkpoint(
        tmp / "run.ckpt", model, state, epoch=1, optimizer="adam", hyperparameters={"lr": 0.01}
    )
    return path, model


def _corrupt(tmp: Path, payload: bytes) -> Any:
    path = tmp / "bad.ckpt"
    path.write_bytes(payload)
    return train.load_checkpoint(path)


def _truncated(tmp: Path) -> Any:
    path, _ = _trained(tmp)
    blob = path.read_bytes()
    path.write_bytes(blob[: len(blob) // 2])
    return train.load_checkpoint(path)


error("checkpoints", "empty file", lambda tmp: _corrupt(tmp, b""), train.CheckpointError, r"bad\.ckpt")
error("checkpoints", "text file", lambda tmp: _corrupt(tmp, b"hello"), train.CheckpointError, r"bad\.ckpt")
error(
    "checkpoints",
    "a zip that is no checkpoint",
    lambda tmp: _corrupt(tmp, b"PK\x05\x06" + b"\0" * 18),
    train.CheckpointError,
    r"bad\.ckpt",
)
error("checkpoints", "truncated checkpoint", _truncated, train.CheckpointError, r"run\.ckpt")
error(
    "checkpoints",
    "missing file",
    lambda tmp: train.load_checkpoint(tmp / "none.ckpt"),
    (FileNotFoundError, train.CheckpointError),
    r"none\.ckpt",
)
error(
    "checkpoints",
    "a folder where a file is expected",
    lambda tmp: train.load_checkpoint(tmp),
    IsADirectoryError,
    r"is a folder, not a checkpoint file",
)
error(
    "checkpoints",
    "another architecture",
    lambda tmp: train.load_checkpoint(
        _trained(tmp)[0], nn.Sequential(nn.Linear(2, 5, seed=0), nn.Tanh(), nn.Linear(5, 1, seed=1))
    ),
    ValueError,
    r"parameter '0.weight': the checkpoint has shape \(4, 2\), the model \(5, 2\)",
)
error(
    "checkpoints",
    "saving over an existing checkpoint without overwrite",
    lambda tmp: (_trained(tmp), _trained(tmp)),
    FileExistsError,
    r"run\.ckpt.*overwrite",
)

# --- tuning ----------------------------------------------------------------------------------------------
SPACE = {"lr": LogUniform(1e-3, 1.0), "momentum": Uniform(0.0, 0.9)}
error("tuning", "LogUniform low=0", lambda: LogUniform(0.0, 1.0), ValueError, r"low")
error("tuning", "Uniform high < low", lambda: Uniform(1.0, 0.0), ValueError, r"high|low")
error("tuning", "budget=0", lambda: tuning.random_search(lambda lr, momentum: lr, SPACE, 0), ValueError, r"budget")
error(
    "tuning",
    "a space name the objective does not take",
    lambda: tuning.random_search(lambda lr, beta: lr, SPACE, 3),
    (TypeError, ValueError),
    r"momentum",
)
warns(
    "tuning",
    "every trial failed",
    lambda: tuning.random_search(lambda lr, momentum: 1 / 0, SPACE, 3),
    tuning._checks.AllTrialsFailedWarning,
    r"every one of the 3 trials.*ZeroDivisionError",
)
error(
    "tuning",
    "space is not a mapping",
    lambda: tuning.random_search(lambda lr: lr, [("lr", 1)], 3),
    (TypeError, ValueError),
    r"space",
)

# --- backends --------------------------------------------------------------------------------------------
error("backends", "use('torch')", lambda: gdcourse.use("torch"), ValueError, r"torch.*(numpy|supported)")
error("backends", "use('os')", lambda: gdcourse.use("os"), ValueError, r"os.*(numpy|supported)")
error("backends", "use('cupyy')", lambda: gdcourse.use("cupyy"), ValueError, r"cupyy")
error("backends", "use(3)", lambda: gdcourse.use(3), (TypeError, ValueError), r"3|name")

# --- CLI -------------------------------------------------------------------------------------------------


def _user_folder(tmp: Path) -> Path:
    """A folder full of a user's own files."""
    folder = tmp / "mine"
    (folder / "sub").mkdir(parents=True)
    (folder / "index.html").write_text("<p>my page</p>")
    (folder / "notes.md").write_text("my notes")
    (folder / "sub" / "data.csv").write_text("1,2,3")
    (folder / "deck.slides.html").write_text("my deck")
    (folder / "_assets").mkdir()
    (folder / "_assets" / "logo.svg").write_text("<svg/>")
    return folder


def _cli(*args: str) -> int:
    from gdcourse.tools.cli import main

    try:
        return main(list(args))
    except SystemExit as stop:
        return int(stop.code or 0)


kept("CLI", "site -o a folder of the user's files", lambda tmp: _cli("site", "-o", str(_user_folder(tmp))))
kept("CLI", "slides -o a folder of the user's files", lambda tmp: _cli("slides", "-o", str(_user_folder(tmp))))
kept("CLI", "slides -o an existing file", lambda tmp: _cli("slides", "-o", str(_user_folder(tmp) / "notes.md")))
kept(
    "CLI",
    "site -o the working folder",
    lambda tmp: (_user_folder(tmp), os.chdir(tmp / "mine"), _cli("site", "-o", "."))[2],
)
kept(
    "CLI",
    "assign --source X --target X --force",
    lambda tmp: _cli("assign", "--source", str(_user_folder(tmp)), "--target", str(tmp / "mine"), "--force"),
)
kept(
    "CLI",
    "assign --target the source's parent --force",
    lambda tmp: _cli("assign", "--source", str(_user_folder(tmp) / "sub"), "--target", str(tmp / "mine"), "--force"),
)
kept(
    "CLI",
    "grade -o a folder, not a CSV file",
    lambda tmp: _cli("grade", str(_user_folder(tmp) / "sub"), "-o", str(tmp / "mine")),
)


# --- the tests -------------------------------------------------------------------------------------------


def _snapshot(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "<dir>"
        for p in sorted(root.rglob("*"))
    }


def _needs_tmp(call: Callable[..., Any]) -> bool:
    return call.__code__.co_argcount - len(call.__defaults__ or ()) >= 1


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f"{f.category}:{f.name}")
def test_fault(fault, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = (tmp_path,) if _needs_tmp(fault.call) else ()
    if fault.outcome == "error":
        with pytest.raises(fault.kind, match=fault.match):
            fault.call(*args)
    elif fault.outcome == "warning":
        with pytest.warns(fault.kind, match=fault.match):
            fault.call(*args)
    else:
        try:  # the call builds the user's folder itself: it is compared with an untouched twin built the same way
            code = fault.call(*args)
        except Exception as err:  # noqa: BLE001 - a refusal by exception is fine, as long as it is clear
            assert str(err), f"{fault.name}: refused with an empty message ({type(err).__name__})"
            code = 1
        assert code != 0, f"{fault.name}: the command did not refuse"
        twin = tmp_path / "_twin"
        twin.mkdir()
        _user_folder(twin)
        mine = tmp_path / "mine"
        assert mine.is_dir(), f"{fault.name}: the user's folder is gone"
        assert _snapshot(mine) == _snapshot(twin / "mine"), f"{fault.name}: the user's files changed"


def test_the_suite_covers_every_category():
    counts = Counter(f.category for f in FAULTS)
    print("\nfaults per category: " + ", ".join(f"{c} {counts[c]}" for c in CATEGORIES) + f"; total {len(FAULTS)}")
    assert set(counts) == set(CATEGORIES) and min(counts.values()) >= 4
    assert len({(f.category, f.name) for f in FAULTS}) == len(FAULTS)
