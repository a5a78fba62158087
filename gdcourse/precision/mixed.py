r"""A dtype-parametrised training run (:func:`train_linear`).

Full-batch gradient descent on a linear regression with several outputs, in float16, float32 or float64,
with or without float32 master weights and loss scaling.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from array_api_compat import device as _device

from gdcourse import divergence
from gdcourse.backend import array_namespace, asarray, rng, to_numpy
from gdcourse.optim import gd
from gdcourse.precision.formats import _dtype_name, resolve_dtype
from gdcourse.precision.loss_scaling import DynamicLossScaler

Array = Any

# ----------------------------------------------------------------------------------------------
# A dtype-parametrised training run
# ----------------------------------------------------------------------------------------------


def regression_data(
    n_samples: int = 512,
    n_features: int = 16,
    n_outputs: int = 4,
    *,
    target_scale: float = 1e-4,
    noise: float = 0.02,
    seed: int | np.random.Generator | None = 0,
    dtype: str = "float64",
) -> tuple[Array, Array]:
    r"""A linear regression problem with several outputs and *small* targets.

    .. math:: x_i \sim \mathcal N(0, I_d), \qquad y_i = s\,\big(W_\star^\top x_i + \sigma\,\varepsilon_i\big),
              \quad (W_\star)_{jk}, \varepsilon_{ik} \sim \mathcal N(0, 1)

    with :math:`s` the ``target_scale`` and :math:`\sigma` the relative ``noise``.  With
    :math:`s = 10^{-4}` the targets are a few :math:`10^{-4}`, so the errors, the loss and every gradient
    are small numbers: in float16 the gradients underflow.

    Parameters
    ----------
    n_samples, n_features, n_outputs : int
        :math:`N`, :math:`d` and :math:`K`: the shapes of ``X`` (N, d) and ``Y`` (N, K); positive integers
        (else :class:`ValueError`).
    target_scale : float, default 1e-4
        :math:`s > 0`, the size of the targets.
    noise : float, default 0.02
        :math:`\sigma \ge 0`, the noise relative to the signal :math:`W_\star^\top x_i`.
    seed : int, numpy Generator or None, default 0
        Seed of the draws (see :func:`gdcourse.backend.rng`).
    dtype : str, default "float64"
        Dtype of the arrays returned, on the active backend (the numbers are drawn in float64).

    Returns
    -------
    X : array, shape (n_samples, n_features)
    Y : array, shape (n_samples, n_outputs)
    """
    for name, value in (("n_samples", n_samples), ("n_features", n_features), ("n_outputs", n_outputs)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if not (target_scale > 0 and noise >= 0):
        raise ValueError(f"target_scale must be positive and noise non-negative, got {target_scale!r}, {noise!r}")
    g = rng(seed)
    X = g.standard_normal((n_samples, n_features))
    W = g.standard_normal((n_features, n_outputs))
    Y = float(target_scale) * (X @ W + float(noise) * g.standard_normal((n_samples, n_outputs)))
    return asarray(X.astype(dtype), dtype=dtype), asarray(Y.astype(dtype), dtype=dtype)


def linear_loss(params: Sequence[Array], X: Array, Y: Array, dtype: str = "float64") -> float:
    r"""Mean squared error :math:`J = \frac{1}{NK}\sum_{i,k} (\hat y_{ik} - y_{ik})^2` of :math:`\hat Y = XW + b`.

    Evaluated in ``dtype`` (float64 by default), from ``params = [W, b]`` in any precision.

    Parameters
    ----------
    params : [W, b]
        The weights, shapes (d, K) and (K,), in any floating dtype of the data's library.
    X, Y : arrays, shapes (N, d) and (N, K)
        The data.
    dtype : {"float16", "float32", "float64"}, default "float64"
        The arithmetic of the evaluation: everything is cast to it first.

    Returns
    -------
    float
        :math:`J` on the host.
    """
    xp = array_namespace(X)
    dt = resolve_dtype(xp, dtype)
    W, b = (xp.astype(p, dt) for p in params)
    r = xp.astype(X, dt) @ W + b - xp.astype(Y, dt)
    return float(to_numpy(xp.mean(r * r)))


@dataclass
class PrecisionRun:
    r"""The record of one :func:`train_linear` run, one entry per step.

    Attributes
    ----------
    label : str
        E.g. ``"float16, float32 master weights, loss scale 65536"``.
    dtype, master_dtype : str
        Precision of the data, outputs and gradients; precision of the weights that receive the update
        (equal to ``dtype`` without master weights).
    loss : numpy.ndarray
        Training loss at each step, as computed in the run's own arithmetic (before the step).
    scale : numpy.ndarray
        Loss scale :math:`S` used at each step (1 without loss scaling).
    skipped : numpy.ndarray of bool
        Steps skipped because the scaled gradients overflowed (dynamic loss scaling).
    underflow : numpy.ndarray
        Fraction of the entries of :math:`S\,\partial J/\partial \hat Y` that are non-zero in float32 and 0
        after rounding to ``dtype``: gradient signal lost to underflow.
    grad_zero : numpy.ndarray
        Fraction of the weight-gradient entries that are exactly 0 after unscaling.
    lost_updates : numpy.ndarray
        Fraction of the weights whose non-zero update rounded away (weight unchanged).
    final_loss : float
        Loss of the final weights, evaluated in float64 (NaN if they are not finite).
    params : list of arrays
        Final ``[W, b]`` (in ``master_dtype``).
    stop_reason : str
        ``"steps"``, or why the run stopped early: the message of :func:`gdcourse.divergence.classify`
        (weights or loss no longer finite: an overflow, 0/0 from an ``eps`` too small for the dtype, ...).
    """

    label: str
    dtype: str
    master_dtype: str
    loss: np.ndarray
    scale: np.ndarray
    skipped: np.ndarray
    underflow: np.ndarray
    grad_zero: np.ndarray
    lost_updates: np.ndarray
    final_loss: float
    params: list[Array]
    stop_reason: str = "steps"

    @property
    def n_steps(self) -> int:
        """Number of steps recorded."""
        return len(self.loss)

    def __repr__(self) -> str:
        return (
            f"PrecisionRun({self.label}: {self.n_steps} steps, final loss {self.final_loss:.4g}, "
            f"{int(self.skipped.sum())} skipped, stop_reason={self.stop_reason!r})"
        )


def _describe(dtype: str, master: str, scaling: str) -> str:
    parts = [dtype]
    if master != dtype:
        parts.append(f"{master} master weights")
    if scaling:
        parts.append(scaling)
    return ", ".join(parts)


def _count(xp: Any, mask: Array) -> int:
    return int(xp.count_nonzero(mask))


def train_linear(
    X: Array,
    Y: Array,
    *,
    dtype: str = "float32",
    master_dtype: str | None = None,
    loss_scale: float | str | DynamicLossScaler | None = None,
    optimizer: Any = None,
    lr: float = 0.3,
    steps: int = 100,
    params: Sequence[Array] | None = None,
    label: str | None = None,
) -> PrecisionRun:
    r"""Full-batch gradient descent on linear regression :math:`\hat Y = XW + b` with MSE, in a chosen precision.

    One step, with :math:`c` the compute dtype ``dtype``, :math:`a` the accumulation dtype (float32 when
    :math:`c` is float16, else :math:`c`), :math:`m` the master dtype, :math:`u` the wider of :math:`a` and
    :math:`m` (float32 for float16 training, with or without master weights) and :math:`\mathrm{fl}_c`
    rounding to :math:`c`:

    .. math::
        W_c &= \mathrm{fl}_c(W_m),\ b_c = \mathrm{fl}_c(b_m) & \text{(a copy of the weights in } c)\\
        \hat Y &= \mathrm{fl}_c(X_c W_c) + b_c & \text{(products summed in } a)\\
        J &= \tfrac{1}{NK}\textstyle\sum_{ik} (\hat y_{ik} - y_{ik})^2 & \text{(in } a)\\
        \Delta &= \mathrm{fl}_c\!\big(S \cdot \tfrac{2}{NK}(\hat Y - Y)\big)
              & \text{(scaled } \partial J/\partial\hat Y\text{: underflow happens here)}\\
        g_W &= \mathrm{fl}_c(X_c^\top \Delta), \quad g_b = \mathrm{fl}_c\big(\textstyle\sum_i \Delta_i\big)
              & \text{(backward in } c)\\
        g &\leftarrow \mathrm{fl}_m\big(\mathrm{fl}_u(g) / S\big)
              & \text{(unscale in } u\text{, then round to } m)\\
        &\text{if } g \text{ is finite: } (W_m, b_m) \leftarrow \text{optimizer step} & \text{(update in } m)

    The division by :math:`S` happens in :math:`u`, never in float16: float16 cannot even hold
    :math:`S = 2^{16}` (it rounds to ``inf``, and :math:`g/\infty = 0` would erase every gradient).
    Without master weights (:math:`m` = float16) the unscaled gradient is then rounded to float16, where
    its smallest entries can round to 0 again, and the update is rounded to the float16 weights, where
    most small updates round away; with float32 master weights nothing returns to float16 after the
    backward pass.

    Parameters
    ----------
    X, Y : arrays, shapes (N, d) and (N, K)
        Data (any floating dtype; rounded to ``dtype``).
    dtype : {"float16", "float32", "float64"}
        Precision of the data, the outputs and the gradients.
    master_dtype : str, optional
        Precision of the weights that receive the update.  ``None``: the weights live in ``dtype`` and are
        updated there (pure low precision).
    loss_scale : None, number, "dynamic" or DynamicLossScaler
        ``None`` (or 1): no scaling.  A number :math:`S`: static scaling (an overflow then puts inf into the
        weights and ends the run).  ``"dynamic"`` or a :class:`DynamicLossScaler` (copied, not modified):
        dynamic scaling, which skips the steps that overflow.
    optimizer : gdcourse.optim rule, optional
        Default ``gdcourse.optim.gd(lr)``.  Its state lives in the master dtype.
    lr : float
        Learning rate :math:`\eta` of the default optimizer.
    steps : int
        Number of gradient evaluations (skipped steps included).
    params : [W, b], optional
        Initial weights; default zeros.
    label : str, optional
        Name of the run; by default a description of the settings.

    Returns
    -------
    PrecisionRun

    Raises
    ------
    ValueError
        For NaN or inf in ``X``, ``Y`` or ``params``, or another bad argument.

    Warns
    -----
    gdcourse.divergence.UnstableRunWarning
        When the run took all its steps and ended far above its starting loss.
    """
    xp = array_namespace(X)
    c = resolve_dtype(xp, dtype)
    m = resolve_dtype(xp, master_dtype or dtype)
    acc = xp.float32 if c == getattr(xp, "float16", None) else c
    unscale = xp.result_type(acc, m)  # where g / S is computed: float32 at least when c is float16
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
    optimizer = _update_rule(optimizer, lr)
    scaler, static = _loss_scaling(loss_scale)
    weights = _first_weights(xp, X, Y, params, m)
    state = optimizer.init(weights)
    passes = _Passes.of(xp, X, Y, c, acc, m, unscale)
    size = sum(w.size for w in weights)
    records: list[tuple[float, ...]] = []
    losses: list[float] = []
    stop = "steps"
    eps, eta = divergence.optimizer_eps(optimizer), getattr(optimizer, "lr", None)
    eta = float(eta) if isinstance(eta, int | float) else None
    # overflow is detected and reported (that is what a loss scaler is for), not warned about
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        for _ in range(steps):
            S = scaler.scale if scaler is not None else static
            loss, grads, lost_signal = passes.gradients(weights, S)  # forward and backward in c, unscaled in u
            finite = _all_finite(xp, grads)
            zeros = sum(_count(xp, g == 0) for g in grads) / size
            apply = scaler.update(finite) if scaler is not None else True  # a dynamic scale skips an overflow
            lost = 0.0
            if apply:
                weights, state, lost = _update(xp, optimizer, weights, grads, state, size)
            records.append((float(to_numpy(loss)), S, float(not apply), lost_signal, zeros, lost))
            losses.append(records[-1][0])
            weights_ok = not apply or _all_finite(xp, weights)
            problem = divergence.classify(losses, weights_ok, len(records), eta, _dtype_name(m), eps=eps)
            if problem is not None:
                stop = _stop_reason(problem, finite, static)
                break
    final = linear_loss(weights, X, Y, "float64") if _all_finite(xp, weights) else math.nan
    if stop == "steps" and losses:
        divergence.warn_if_unstable(losses[0], final, step=len(records), lr=eta)
    name_c, name_m = _dtype_name(c), _dtype_name(m)
    label = label or _describe(name_c, name_m, _scaling_text(scaler, static))
    return _precision_run(label, name_c, name_m, records, final, weights, stop)


def _update_rule(optimizer: Any, lr: float) -> Any:
    """``optimizer`` (checked: it has ``init`` and ``step``), or ``gd(lr)`` with ``lr`` a positive number."""
    if optimizer is None:
        if isinstance(lr, bool) or not (isinstance(lr, int | float) and lr > 0):
            raise ValueError(f"lr must be a positive number, got {lr!r}")
        return gd(lr)
    if not (hasattr(optimizer, "init") and hasattr(optimizer, "step")):
        raise TypeError(f"optimizer must be a gdcourse.optim rule (with init and step), got {optimizer!r}")
    return optimizer


def _loss_scaling(loss_scale: Any) -> tuple[DynamicLossScaler | None, float]:
    """``(scaler, static scale)``: a dynamic scaler (a fresh one or a copy) and 1.0, or ``None`` and :math:`S`."""
    scaler: DynamicLossScaler | None = None
    if isinstance(loss_scale, str):
        if loss_scale != "dynamic":
            raise ValueError(f"loss_scale must be None, a number, 'dynamic' or a DynamicLossScaler, got {loss_scale!r}")
        scaler = DynamicLossScaler()
    elif isinstance(loss_scale, DynamicLossScaler):
        scaler = copy.deepcopy(loss_scale)
    elif loss_scale is not None and (
        isinstance(loss_scale, bool) or not isinstance(loss_scale, int | float) or not 0 < loss_scale < math.inf
    ):
        raise ValueError(f"loss_scale must be a positive finite number, got {loss_scale!r}")
    static = float(loss_scale) if isinstance(loss_scale, int | float) and scaler is None else 1.0
    return scaler, static


def _scaling_text(scaler: DynamicLossScaler | None, static: float) -> str:
    """The loss scaling of a run, for its label (empty without scaling)."""
    if scaler is not None:
        return f"dynamic loss scale (from 2^{math.log2(scaler.init_scale):g})"
    return f"loss scale 2^{math.log2(static):g}" if static != 1.0 else ""


def _first_weights(xp: Any, X: Array, Y: Array, params: Sequence[Array] | None, m: Any) -> list[Array]:
    """The starting ``[W, b]`` in the master dtype ``m`` (zeros by default), data and weights checked finite."""
    if X.ndim != 2 or Y.ndim != 2 or X.shape[0] != Y.shape[0]:
        raise ValueError(f"X must be (N, d) and Y (N, K) with the same N, got {X.shape} and {Y.shape}")
    divergence.check_data("X", X)
    divergence.check_data("Y", Y)
    k = Y.shape[1]
    if params is None:
        params = [xp.zeros((X.shape[1], k), dtype=m, device=_device(X)), xp.zeros((k,), dtype=m, device=_device(X))]
    for i, p in enumerate(params):
        divergence.check_data(f"params[{i}]", p, fix="start from finite weights")
    return [xp.astype(p, m) for p in params]


@dataclass(frozen=True)
class _Passes:
    """The forward and backward passes of :func:`train_linear` in its dtypes, with the data rounded once."""

    xp: Any
    c: Any  # compute dtype
    acc: Any  # accumulation dtype
    m: Any  # master dtype
    unscale: Any  # where g / S is computed
    Xa_T: Array  # Xᵀ: float16 inputs, float32 products (tensor-core style)
    Ya: Array
    n: int
    k: int

    @classmethod
    def of(cls, xp: Any, X: Array, Y: Array, c: Any, acc: Any, m: Any, unscale: Any) -> _Passes:
        """Round ``X`` to ``c`` and ``Y`` to ``acc``, once for the whole run."""
        Xc, Ya = xp.astype(X, c), xp.astype(Y, acc)
        Xa_T = xp.matrix_transpose(xp.astype(Xc, acc))
        return cls(xp, c, acc, m, unscale, Xa_T, Ya, X.shape[0], Y.shape[1])

    def gradients(self, weights: list[Array], S: float) -> tuple[Array, list[Array], float]:
        r"""One step's loss (in ``acc``), its unscaled gradients (in ``m``) and the fraction of :math:`\Delta` lost.

        The equations of :func:`train_linear` line by line, from :math:`W_c` to the unscaled :math:`g`; the
        lost fraction counts the entries of :math:`S\,\partial J/\partial\hat Y` that underflow to 0 in ``c``.
        """
        xp, c, acc, n, k = self.xp, self.c, self.acc, self.n, self.k
        W, b = (xp.astype(w, c) for w in weights)
        out = xp.astype(xp.matrix_transpose(self.Xa_T) @ xp.astype(W, acc), c) + b
        r = xp.astype(out, acc) - self.Ya
        loss = xp.mean(r * r)
        delta_a = (S * 2.0 / (n * k)) * r
        delta = xp.astype(delta_a, c)
        lost_signal = _count(xp, (delta == 0) & (delta_a != 0)) / (n * k)
        delta_sum = xp.astype(delta, acc)
        g_W = xp.astype(self.Xa_T @ delta_sum, c)
        g_b = xp.astype(xp.sum(delta_sum, axis=0), c)
        grads = [xp.astype(xp.astype(g, self.unscale) / S, self.m) for g in (g_W, g_b)]  # unscaled in float32 or wider
        return loss, grads, lost_signal


def _update(
    xp: Any, optimizer: Any, weights: list[Array], grads: list[Array], state: Any, size: int
) -> tuple[list[Array], Any, float]:
    """The optimizer's step: new weights and state, and the fraction of the weights whose update rounded away."""
    new, state = optimizer.step(weights, grads, state)
    unchanged = [_count(xp, (w1 == w0) & (g != 0)) for w0, w1, g in zip(weights, new, grads, strict=True)]
    return new, state, sum(unchanged) / size


def _all_finite(xp: Any, arrays: list[Array]) -> bool:
    return all(bool(xp.all(xp.isfinite(a))) for a in arrays)


def _stop_reason(problem: divergence.Divergence, finite: bool, static: float) -> str:
    """The verdict's message, with the static loss scale's own part of the story when it overflowed."""
    stop = problem.message
    if not finite and static != 1.0:
        stop += f" The loss scale 2^{math.log2(static):g} is static: lower it, or use loss_scale='dynamic'."
    return stop


def _precision_run(
    label: str, name_c: str, name_m: str, records: list, final: float, weights: list[Array], stop: str
) -> PrecisionRun:
    """The :class:`PrecisionRun` of the per-step records ``(loss, S, skipped, underflow, grad_zero, lost)``."""
    rec = np.asarray(records, dtype=np.float64).reshape(-1, 6)
    return PrecisionRun(
        label=label,
        dtype=name_c,
        master_dtype=name_m,
        loss=rec[:, 0],
        scale=rec[:, 1],
        skipped=rec[:, 2].astype(bool),
        underflow=rec[:, 3],
        grad_zero=rec[:, 4],
        lost_updates=rec[:, 5],
        final_loss=final,
        params=weights,
        stop_reason=stop,
    )
