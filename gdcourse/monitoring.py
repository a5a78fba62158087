r"""Watching a training run: gradient norms, update/weight ratios, dead units, and a diagnosis of the history.

:mod:`gdcourse.train` records, per epoch, the training and validation loss, the global gradient norm
and, per parameter array, the gradient norm and the update/weight ratio.  This module holds the
formulas on their own (for a hand-written loop) and reads a recorded history back:

* :func:`grad_norms`, :func:`global_grad_norm` — :math:`\lVert g_l\rVert_2` per array and
  :math:`\lVert g\rVert_2 = \big(\sum_l \lVert g_l\rVert_2^2\big)^{1/2}` over all of them (the norm of all
  gradients stacked into one vector, *not* the sum of the per-array norms);
* :func:`update_ratios` — :math:`\lVert\theta_l^{+} - \theta_l\rVert_2 / \lVert\theta_l\rVert_2`.  A rule of
  thumb from Karpathy's CS231n notes puts healthy values near :math:`10^{-3}`: around :math:`10^{-6}` the
  layer barely learns (learning rate too small), around :math:`10^{-1}` the steps are wild;
* :func:`dead_units` — the fraction of ReLU units that output 0 for *every* example: such a unit passes
  no gradient back (:math:`\mathrm{relu}'(z) = 0` for :math:`z < 0`), so nothing can revive it;
* :func:`diagnose` — classifies a recorded run as one of :data:`KINDS` and explains the evidence, the
  usual cause and the usual fix.

The rules of :func:`diagnose`, checked in this order (the first that fires wins).  Rules 1 and 3 are
the verdict of :func:`gdcourse.divergence.classify` and :func:`~gdcourse.divergence.check_end`, the ones
every training loop uses, so a diagnosis never contradicts the message the loop stopped with:

1. a loss that is no longer finite, or past ``divergence_factor`` times its start: **nan** when the
   verdict is a numerical problem (the loss broke *without* growing first: the log of a probability
   rounded to exactly 0 or 1, a division 0/0, an overflowing ``exp``), **divergence** when it blames
   the learning rate (the loss grew first, or past the bound);
2. **dead_relu** — the gradient of some weight array is exactly 0 over the last epochs (or the measured
   fraction of dead units is at least one half): no signal reaches it;
3. **divergence** — the final loss is more than ``growth`` times the first (the learning rate is too
   large), or training stopped as diverged (with the loop's verdict: parameters no longer finite);
4. **plateau** — the training loss fell by less than ``plateau_tol`` (relative) over the whole run;
   with update/weight ratios below :math:`10^{-5}` the learning rate is far too small;
5. **overfitting** — the validation loss reached its minimum at least ``patience`` epochs before the end
   and then rose by more than ``overfit_tol`` while the training loss kept falling;
6. **healthy** — none of the above.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gdcourse.autodiff.array import as_tensor
from gdcourse.backend import array_namespace, to_numpy
from gdcourse.divergence import DIVERGENCE_FACTOR, Divergence, check_end, classify

__all__ = [
    "KINDS",
    "Diagnosis",
    "dead_units",
    "diagnose",
    "global_grad_norm",
    "grad_norms",
    "update_ratios",
]

Array = Any

#: The classes :func:`diagnose` can return.
KINDS = ("nan", "dead_relu", "divergence", "plateau", "overfitting", "healthy")


def _arrays(xs: Any, name: str) -> list[Array]:
    items = list(xs) if isinstance(xs, list | tuple) else [xs]
    if not items:
        raise ValueError(f"{name} is empty; expected an array or a non-empty list of arrays")
    for i, a in enumerate(items):
        if not (hasattr(a, "shape") and hasattr(a, "dtype")):
            raise TypeError(f"{name}[{i}] is a {type(a).__name__}, expected an array")
    return items


def grad_norms(grads: Any) -> list[float]:
    r"""The L2 norm of each gradient array: :math:`\lVert g_l\rVert_2 = \big(\sum_i g_{l,i}^2\big)^{1/2}`.

    (The Frobenius norm for a matrix: all its entries as one vector.)  Returns host floats.
    """
    items = _arrays(grads, "grads")
    xp = array_namespace(*items)
    norms = [xp.linalg.vector_norm(g) for g in items]
    return [float(v) for v in np.asarray(to_numpy(xp.stack(norms)), dtype=np.float64)]


def global_grad_norm(grads: Any) -> Array:
    r"""The norm of all gradients stacked into one vector.

    .. math:: \lVert g\rVert_2 = \Big(\sum_l \lVert g_l\rVert_2^2\Big)^{1/2} = \Big(\sum_l \sum_i g_{l,i}^2\Big)^{1/2}


    This is the quantity gradient clipping bounds and :mod:`gdcourse.train` records at every step
    (:func:`gdcourse.clipping.global_norm` computes it as a host float, without overflow).
    Returns a 0-d array of the gradients' library.
    """
    items = _arrays(grads, "grads")
    xp = array_namespace(*items)
    total = sum(xp.sum(g * g) for g in items)
    return xp.sqrt(total)


def update_ratios(old: Any, new: Any) -> list[float]:
    r"""Per parameter array, the size of the step relative to the size of the weights.

    .. math:: \rho_l = \lVert\theta^{+}_l - \theta_l\rVert_2 \,/\, \lVert\theta_l\rVert_2


    NaN for an array that was exactly 0 before the step (the ratio is undefined).

    Parameters
    ----------
    old, new : array or list of arrays
        The parameters before (:math:`\theta_l`) and after (:math:`\theta_l^{+}`) one step, array by array
        in the same order and of one array library.  An empty list raises :class:`ValueError`, so do lists
        of different lengths; an entry that is not an array raises :class:`TypeError`.

    Returns
    -------
    list of float
        :math:`\rho_l` for each array, as host floats.
    """
    before, after = _arrays(old, "old"), _arrays(new, "new")
    if len(before) != len(after):
        raise ValueError(f"old has {len(before)} arrays and new has {len(after)}; they must match")
    xp = array_namespace(*before, *after)
    pairs = [xp.linalg.vector_norm(b - a) for a, b in zip(before, after, strict=True)]
    sizes = [xp.linalg.vector_norm(a) for a in before]
    host = np.asarray(to_numpy(xp.stack(pairs + sizes)), dtype=np.float64)
    moved, size = host[: len(before)], host[len(before) :]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(size > 0, moved / np.where(size > 0, size, 1.0), math.nan)
    return [float(r) for r in ratio]


def dead_units(model: Any, X: Array) -> dict[str, float]:
    r"""For each ReLU layer of a :class:`~gdcourse.nn.Sequential` model, the fraction of its units dead on ``X``.

    A unit :math:`j` is dead when :math:`\mathrm{relu}(z_{ij}) = 0` for every example :math:`i` of ``X``:
    its gradient :math:`\partial J/\partial z_{ij} = 0` too, so gradient descent can never bring it back.

    Parameters
    ----------
    model : gdcourse.nn.Sequential
        E.g. an :class:`~gdcourse.nn.MLP`.
    X : array, shape (N, ...)
        Inputs (the training set, or a large sample of it).

    Returns
    -------
    dict
        ``{"1": 0.25, "3": 0.97}``: the index of each ReLU layer in the model and its dead fraction.
    """
    from gdcourse.nn import ReLU, Sequential

    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a gdcourse.nn.Sequential (e.g. an MLP), got {type(model).__name__}")
    out: dict[str, float] = {}
    h = as_tensor(X)
    for i, layer in enumerate(model):
        h = layer(h)
        if isinstance(layer, ReLU):
            xp = array_namespace(h.data)
            flat = xp.reshape(h.data, (h.shape[0], -1))
            alive = xp.any(flat != 0, axis=0)
            out[str(i)] = 1.0 - int(xp.count_nonzero(alive)) / flat.shape[1]
    return out


# ----------------------------------------------------------------------------------------------
# Diagnosis of a recorded run
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Diagnosis:
    """What :func:`diagnose` concludes about a run.

    Attributes
    ----------
    kind : str
        One of :data:`KINDS`.
    evidence : str
        What in the history shows it (with numbers).
    cause : str
        The usual cause.
    fix : str
        What to try.
    divergence : gdcourse.divergence.Divergence or None
        For a broken or diverging run, the shared verdict the evidence, cause and fix come from (the
        same text a training loop stops with).
    """

    kind: str
    evidence: str
    cause: str
    fix: str
    divergence: Divergence | None = None

    def __str__(self) -> str:
        return f"{self.kind}: {self.evidence}\n  cause: {self.cause}\n  fix:   {self.fix}"


def _field(history: Any, name: str, default: Any) -> Any:
    if isinstance(history, Mapping):
        return history.get(name, default)
    return getattr(history, name, default)


def _floats(values: Any) -> np.ndarray:
    return np.asarray(list(values) if values is not None else [], dtype=np.float64)


def _from_verdict(kind: str, verdict: Divergence) -> Diagnosis:
    return Diagnosis(kind, f"at {verdict.where}, {verdict.evidence}", verdict.reason, verdict.advice, verdict)


def _median_ratio(update_ratio: Mapping[str, Sequence[float]]) -> float | None:
    values = [v for series in update_ratio.values() for v in series if math.isfinite(v)]
    return float(np.median(values)) if values else None


@dataclass(frozen=True)
class _Recorded:
    """The curves of a history that :func:`diagnose` reads (an absent one is empty)."""

    train: np.ndarray  # per epoch
    steps: np.ndarray  # per step (minibatch losses), when recorded
    val: np.ndarray
    layer_norms: Mapping[str, Sequence[float]]
    ratios: Mapping[str, Sequence[float]]
    stop: str

    @classmethod
    def of(cls, history: Any) -> _Recorded:
        """Read the curves from a history object or mapping; refuse one without any loss."""
        recorded = cls(
            train=_floats(_field(history, "train_loss", [])),
            steps=_floats(_field(history, "step_loss", [])),
            val=_floats(_field(history, "val_loss", [])),
            layer_norms=_field(history, "layer_grad_norm", {}) or {},
            ratios=_field(history, "update_ratio", {}) or {},
            stop=_field(history, "stop_reason", "") or "",
        )
        if recorded.losses.size == 0:
            raise ValueError("the history holds no losses (train_loss or step_loss); train first")
        return recorded

    @property
    def losses(self) -> np.ndarray:
        """The finest loss curve: per step when recorded, else per epoch."""
        return self.steps if self.steps.size else self.train

    @property
    def unit(self) -> str:
        """What one entry of :attr:`losses` is: ``"step"`` or ``"epoch"``."""
        return "step" if self.steps.size else "epoch"

    @property
    def curve(self) -> np.ndarray:
        """The training loss per epoch when recorded, else :attr:`losses`."""
        return self.train if self.train.size else self.losses


def diagnose(
    history: Any,
    *,
    dead_fraction: Mapping[str, float] | Sequence[float] | None = None,
    growth: float = 10.0,
    plateau_tol: float = 0.05,
    overfit_tol: float = 0.05,
    patience: int = 5,
    zero_epochs: int = 3,
    divergence_factor: float = DIVERGENCE_FACTOR,
) -> Diagnosis:
    """Classify a recorded training run and explain why (rules in the module docstring).

    Parameters
    ----------
    history : TrainHistory, FitHistory or mapping
        Anything with (some of) ``train_loss``, ``step_loss``, ``val_loss``, ``grad_norm``,
        ``layer_grad_norm``, ``update_ratio``, ``stop_reason`` — as :class:`gdcourse.train.TrainHistory`
        records them (a dictionary with those keys works too).
    dead_fraction : mapping or sequence of float, optional
        Measured fractions of dead ReLU units (e.g. :func:`dead_units` after training).
    growth : float
        A final loss more than ``growth`` times the first counts as divergence.
    plateau_tol : float
        A run whose loss fell by less than this fraction of its first value is on a plateau.
    overfit_tol : float
        Relative rise of the validation loss above its minimum that counts as overfitting.
    patience : int
        Epochs after the validation minimum before overfitting is declared.
    zero_epochs : int
        Consecutive final epochs with an exactly zero gradient norm that mark a dead layer.
    divergence_factor : float
        A loss above ``divergence_factor * max(1, |first loss|)`` has diverged (the loops' bound).

    Returns
    -------
    Diagnosis
    """
    run = _Recorded.of(history)
    return (  # the rules of the module docstring, in order: the first that fires wins
        _broken_loss(run, divergence_factor)  # 1. nan or divergence: the loops' own verdict
        or _dead_relu(run, dead_fraction, zero_epochs, growth)  # 2. a gradient exactly 0, dead units
        or _grown(run, growth, divergence_factor)  # 3. divergence: ended far above the start
        or _plateau(run, plateau_tol)  # 4. hardly any progress
        or _overfitting(run, patience, overfit_tol)  # 5. validation loss rising
        or _healthy(run)  # 6. none of the above
    )


def _broken_loss(run: _Recorded, divergence_factor: float) -> Diagnosis | None:
    """Rule 1, a broken loss: the verdict every training loop gives (:mod:`gdcourse.divergence`)."""
    losses = run.losses
    with np.errstate(invalid="ignore", over="ignore"):
        broken = ~np.isfinite(losses) | (np.abs(losses) > divergence_factor * max(1.0, abs(float(losses[0]))))
    if not broken.any():
        return None
    i = int(np.argmax(broken))
    verdict = classify(losses[: i + 1], step=i + 1, factor=divergence_factor, unit=run.unit)
    if verdict is None:
        return None
    return _from_verdict("nan" if verdict.cause == "numerical" else "divergence", verdict)


def _dead_relu(
    run: _Recorded, dead_fraction: Mapping[str, float] | Sequence[float] | None, zero_epochs: int, growth: float
) -> Diagnosis | None:
    """Rule 2, dead units: an exactly zero gradient for the last epochs, or a measured dead fraction >= 1/2."""
    dead_layers = [
        name
        for name, series in run.layer_norms.items()
        if "bias" not in name and len(series) >= zero_epochs and all(v == 0 for v in list(series)[-zero_epochs:])
    ]
    fractions = list(dead_fraction.values()) if isinstance(dead_fraction, Mapping) else list(dead_fraction or [])
    if not (dead_layers or (fractions and max(fractions) >= 0.5)):
        return None
    parts = []
    if dead_layers:
        parts.append(f"the gradient of {', '.join(dead_layers)} is exactly 0 for the last {zero_epochs} epochs")
    if fractions:
        parts.append(f"{max(fractions):.0%} of the units of a ReLU layer are 0 on every example")
    train, jump = run.train, ""
    if train.size >= 2 and train.max() > growth * train[0]:
        jump = f"; the loss jumped from {train[0]:.3g} to {train.max():.3g} before it froze"
    return Diagnosis(
        "dead_relu",
        " and ".join(parts) + f", so the loss is stuck at {train[-1]:.4g}{jump}",
        "dead ReLU units: their input is negative for every example, so they output 0 and pass no gradient back; "
        "a too-large step (or a large negative bias) usually puts them there",
        "a smaller learning rate, He initialisation with zero or small positive biases, or a leaky ReLU",
    )


def _grown(run: _Recorded, growth: float, divergence_factor: float) -> Diagnosis | None:
    """Rule 3, divergence without a broken loss: the run ended far above its start, or the loop stopped it."""
    end, unit = run.curve, "epoch" if run.train.size else run.unit
    grown = check_end(run.losses[0], end[-1], step=len(end), ratio=growth, unit=unit)
    if grown is not None:
        return _from_verdict("divergence", grown)
    if run.stop == "diverged":  # the losses look sound, so the parameters broke (the loop's own verdict)
        verdict = classify(run.losses, False, len(run.losses), factor=divergence_factor, unit=run.unit)
        return _from_verdict("divergence", verdict)  # type: ignore[arg-type]
    return None


def _plateau(run: _Recorded, plateau_tol: float) -> Diagnosis | None:
    """Rule 4, a plateau: the training loss hardly fell; tiny update/weight ratios blame the learning rate."""
    first, best = float(run.curve[0]), float(run.curve.min())
    median_ratio = _median_ratio(run.ratios)
    if not (first > 0 and (first - best) / first < plateau_tol):
        return None
    ratio_text = ""
    if median_ratio is not None:
        ratio_text = f"; the update/weight ratio is about {median_ratio:.1e} (healthy: about 1e-3)"
    if median_ratio is not None and median_ratio < 1e-5:
        cause = "the learning rate is far too small: the weights barely move"
        fix = "raise the learning rate (try 10 to 100 times larger; a learning-rate range test finds it)"
    else:
        cause = "a flat region (a saddle point or saturated units) or a learning rate too small to cross it"
        fix = "a larger learning rate, momentum or Adam, a better initialisation, standardised inputs"
    return Diagnosis(
        "plateau",
        f"the training loss fell only {(first - best) / first:.1%} (from {first:.4g} to {best:.4g}){ratio_text}",
        cause,
        fix,
    )


def _overfitting(run: _Recorded, patience: int, overfit_tol: float) -> Diagnosis | None:
    """Rule 5, overfitting: the validation loss rose from its minimum while the training loss kept falling."""
    train, val = run.train, run.val
    if val.size <= patience:
        return None
    k = int(np.argmin(val))
    if not (val.size - 1 - k >= patience and val[-1] > val[k] * (1 + overfit_tol) and train[-1] < train[k]):
        return None
    return Diagnosis(
        "overfitting",
        f"the validation loss was lowest at epoch {k + 1} ({val[k]:.4g}) and rose {val[-1] / val[k] - 1:.0%} "
        f"to {val[-1]:.4g} while the training loss kept falling ({train[k]:.4g} to {train[-1]:.4g})",
        "the model fits the noise of the training set: more capacity or more training than the data support",
        "early stopping (keep the weights of the best validation epoch), regularisation, more data",
    )


def _healthy(run: _Recorded) -> Diagnosis:
    """Rule 6, healthy: none of the above."""
    median_ratio = _median_ratio(run.ratios)
    ratio_text = f"; update/weight ratios about {median_ratio:.1e}" if median_ratio else ""
    return Diagnosis(
        "healthy",
        f"the training loss fell from {float(run.curve[0]):.4g} to {float(run.curve[-1]):.4g}{ratio_text}",
        "nothing pathological in the recorded curves",
        "keep watching the validation loss",
    )
