"""Losses on the array engine: softmax cross-entropy from logits (one fused operation) and MSE."""

from __future__ import annotations

from typing import Any

import numpy as np
from array_api_compat import device as _device
from array_api_compat import is_array_api_obj

from gdcourse.autodiff.array import Tensor, as_tensor
from gdcourse.backend import array_namespace, to_numpy

__all__ = ["mse_loss", "softmax_cross_entropy"]

Array = Any


def softmax_cross_entropy(logits: Any, labels: Any, reduction: str = "mean") -> Tensor:
    r"""Cross-entropy of integer ``labels`` under the softmax of ``logits``, computed stably.

    .. math::
        \ell_i = -\log \frac{e^{z_{i,y_i}}}{\sum_c e^{z_{ic}}}
               = \log\sum_c e^{z_{ic} - m_i} - (z_{i,y_i} - m_i), \qquad m_i = \max_c z_{ic}

    and its gradient, one fused backward rule:
    :math:`\partial \ell_i/\partial z_{ic} = \operatorname{softmax}(z_i)_c - [c = y_i]`
    (divided by :math:`N` for the mean).  As ``torch.nn.functional.cross_entropy``.

    Parameters
    ----------
    logits : Tensor or array, shape (N, C)
        Unnormalised scores.
    labels : array of int, shape (N,)
        Class indices in ``[0, C)``.
    reduction : {"mean", "sum", "none"}
        Average, total, or the per-example losses.
    """
    z = as_tensor(logits)
    xp = z.xp
    if z.ndim != 2:
        raise ValueError(f"logits must have shape (N, C), got {z.shape}")
    y = _labels(labels, z)
    n, c = z.shape
    shifted = z.data - xp.max(z.data, axis=1, keepdims=True)
    lse = xp.log(xp.sum(xp.exp(shifted), axis=1))
    onehot = xp.astype(xp.reshape(y, (n, 1)) == xp.reshape(xp.arange(c, device=_device(z.data)), (1, c)), z.dtype)
    losses = lse - xp.sum(shifted * onehot, axis=1)

    def backward(g: Array) -> tuple[Array]:
        # ∂ℓᵢ/∂zᵢ꜀ = softmax(zᵢ)꜀ - [c = yᵢ], times the upstream gradient of ℓᵢ
        p = xp.exp(shifted - xp.reshape(lse, (n, 1)))
        gi = xp.reshape(g, (-1, 1)) if reduction == "none" else (g / n if reduction == "mean" else g)
        return ((p - onehot) * gi,)

    if reduction == "none":
        out = losses
    elif reduction == "mean":
        out = xp.mean(losses)
    elif reduction == "sum":
        out = xp.sum(losses)
    else:
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    return Tensor.from_op(out, (z,), backward, "softmax_cross_entropy")


def _labels(labels: Any, z: Tensor) -> Array:
    xp = z.xp
    y = labels.data if isinstance(labels, Tensor) else labels
    if not is_array_api_obj(y) or array_namespace(y) is not xp:
        y = xp.asarray(np.asarray(to_numpy(y)), device=_device(z.data))
    if not xp.isdtype(y.dtype, "integral"):
        raise TypeError(f"labels must be integer class indices, got dtype {y.dtype}")
    n, c = z.shape
    if tuple(y.shape) != (n,):
        raise ValueError(f"labels must have shape ({n},) to match logits of shape {z.shape}, got {tuple(y.shape)}")
    if n and bool(xp.any((y < 0) | (y >= c))):
        raise ValueError(f"labels must be class indices in [0, {c}); got values outside")
    return y


def mse_loss(pred: Any, target: Any, reduction: str = "mean") -> Tensor:
    r"""Mean squared error :math:`\frac1n \sum_i (\hat y_i - y_i)^2` (``"sum"``: without :math:`1/n`).

    ``pred`` and ``target`` must have the same shape (no silent broadcasting of ``(N, 1)``
    against ``(N,)``).

    Parameters
    ----------
    pred : Tensor or array
        The predictions :math:`\hat y`, any shape.
    target : Tensor or array
        The targets :math:`y`, the shape of ``pred`` (another shape raises ``ValueError``).
    reduction : {"mean", "sum", "none"}
        The mean over every element (default), their sum, or the squared errors themselves;
        another value raises ``ValueError``.
    """
    p = as_tensor(pred)
    t = target if isinstance(target, Tensor) else Tensor(target)
    if p.shape != t.shape:
        raise ValueError(f"pred has shape {p.shape} but target has shape {t.shape}; they must match")
    sq = (p - t) ** 2
    if reduction == "mean":
        return sq.mean()
    if reduction == "sum":
        return sq.sum()
    if reduction == "none":
        return sq
    raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
