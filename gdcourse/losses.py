r"""Losses of the course's models, each with its gradient with respect to the predictions or logits.

Every loss is a pair of functions with the same arguments::

    value = losses.log_loss(z, y)        # a 0-d array: the mean over the samples
    g = losses.log_loss_grad(z, y)       # dJ/dz, same shape as z (the 1/n of the mean included)

so a model's gradient follows by the chain rule, e.g. for logits :math:`z = X\theta`,
:math:`\nabla_\theta J = X^\top` ``log_loss_grad(z, y)``.  :func:`get` returns the pair as a
:class:`Loss` by name.  All reductions are means, as ``torch.nn.functional``'s defaults.

Label conventions (checked, with a hint when the other convention is passed):

=====================  ============================  ==================================
loss                   predictions                   labels ``y``
=====================  ============================  ==================================
mse                    real values, any shape        real values, same shape
log_loss               logits :math:`z`, any shape   :math:`\{0, 1\}`, same shape
softmax_cross_entropy  logits :math:`Z`, ``(n, K)``  class indices ``(n,)`` in ``0..K-1``
                                                     (integer dtype), or class
                                                     probabilities ``(n, K)``
hinge, squared_hinge   scores :math:`z`, any shape   :math:`\{-1, +1\}`, same shape
=====================  ============================  ==================================

The logit losses are computed in a numerically stable form (no ``exp`` of a large positive number):
they give finite values and gradients for logits of :math:`\pm 1000` in float32 and float64.
Predictions are not checked for NaN: a NaN propagates to the value, where the training loop
reports it as divergence.  Every function follows its input (``xp = array_namespace(z)``): the
result has the library, device and floating dtype of the predictions; labels are cast to it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from array_api_compat import device

from gdcourse import _checks
from gdcourse.backend import array_namespace

__all__ = [
    "LOSSES",
    "Loss",
    "get",
    "hinge",
    "hinge_grad",
    "log_loss",
    "log_loss_grad",
    "logsumexp",
    "mse",
    "mse_grad",
    "one_hot",
    "sigmoid",
    "softmax",
    "softmax_cross_entropy",
    "softmax_cross_entropy_grad",
    "softplus",
    "squared_hinge",
    "squared_hinge_grad",
]

Array = Any


# ----------------------------------------------------------------------------------------------
# Stable building blocks
# ----------------------------------------------------------------------------------------------


def sigmoid(z: Array) -> Array:
    r"""Logistic function :math:`\sigma(z) = 1 / (1 + e^{-z})`, without overflow.

    Uses :math:`e^{-|z|} \le 1`: :math:`\sigma(z) = 1/(1+e^{-|z|})` for :math:`z \ge 0` and
    :math:`e^{-|z|}/(1+e^{-|z|})` for :math:`z < 0`.
    """
    xp = array_namespace(z)
    e = xp.exp(-xp.abs(z))
    return xp.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def softplus(z: Array) -> Array:
    r"""Softplus :math:`\log(1 + e^{z}) = \max(z, 0) + \log(1 + e^{-|z|})`, without overflow."""
    xp = array_namespace(z)
    return xp.maximum(z, 0.0) + xp.log1p(xp.exp(-xp.abs(z)))


def logsumexp(z: Array, axis: int = -1, keepdims: bool = False) -> Array:
    r"""Log-sum-exp :math:`\log \sum_k e^{z_k} = m + \log \sum_k e^{z_k - m}` with :math:`m = \max_k z_k`.

    Parameters
    ----------
    z : array
        Logits of any backend; every exponent :math:`z_k - m` is at most 0, so no entry overflows.
    axis : int
        The axis summed over (the classes), the last by default.
    keepdims : bool
        Keep that axis with length 1, so the result broadcasts against ``z``.
    """
    xp = array_namespace(z)
    m = xp.max(z, axis=axis, keepdims=True)
    out = m + xp.log(xp.sum(xp.exp(z - m), axis=axis, keepdims=True))
    return out if keepdims else xp.squeeze(out, axis=axis)


def softmax(z: Array, axis: int = -1) -> Array:
    r"""Softmax :math:`p_k = e^{z_k - m} / \sum_j e^{z_j - m}` (shifting by :math:`m = \max z` changes nothing).

    Parameters
    ----------
    z : array
        Logits; the result has their shape, with entries in :math:`[0, 1]`.
    axis : int
        The axis of the classes, along which the probabilities sum to 1 (the last by default).
    """
    xp = array_namespace(z)
    e = xp.exp(z - xp.max(z, axis=axis, keepdims=True))
    return e / xp.sum(e, axis=axis, keepdims=True)


def one_hot(y: Array, n_classes: int, dtype: Any = None) -> Array:
    """Indicator matrix ``Y[i, k] = 1`` if ``y[i] == k`` else 0, shape ``(n, n_classes)``, on ``y``'s device.

    Parameters
    ----------
    y : array of int, shape (n,)
        Class indices; an index outside ``0..n_classes-1`` gives a row of zeros (nothing is checked here).
    n_classes : int
        :math:`K`, the number of columns.
    dtype : dtype, optional
        A dtype of ``y``'s library for the result; default float64.
    """
    xp = array_namespace(y)
    classes = xp.arange(n_classes, dtype=y.dtype, device=device(y))
    hot = y[:, None] == classes[None, :]
    return xp.astype(hot, dtype if dtype is not None else xp.float64)


# ----------------------------------------------------------------------------------------------
# Input checks
# ----------------------------------------------------------------------------------------------


def _predictions(z: Array, name: str) -> tuple[Any, Array]:
    xp = _checks.float_array_namespace(name, z)
    if z.ndim == 0 or z.shape[0] == 0:
        raise ValueError(f"{name} must have at least one sample, got shape {tuple(z.shape)}")
    return xp, z


def _labels(y: Array, z: Array, xp: Any, shape: tuple[int, ...] | None = None) -> Array:
    """``y`` as an array of ``z``'s library, checked for shape, cast to ``z``'s dtype."""
    try:
        array_namespace(z, y)
    except TypeError:
        raise TypeError(
            f"y ({type(y).__name__}) must be an array of the same library as the predictions ({type(z).__name__})"
        ) from None
    expected = tuple(z.shape) if shape is None else shape
    if tuple(y.shape) != expected:
        raise ValueError(f"y has shape {tuple(y.shape)} but the predictions need labels of shape {expected}")
    if xp.isdtype(y.dtype, "complex floating"):
        raise TypeError(f"y has complex dtype {y.dtype}; expected real labels")
    return xp.astype(y, z.dtype)


def _check_in(y: Array, xp: Any, values: tuple[float, float], loss: str, hint: str) -> None:
    a, b = values
    if not bool(xp.all((y == a) | (y == b))):
        shown = "{0, 1}" if a == 0 else "{-1, +1}"
        raise ValueError(f"{loss} takes labels y in {shown}; y has other values{hint}")


def _binary01(y: Array, z: Array, xp: Any) -> Array:
    y = _labels(y, z, xp)
    hint = "" if not bool(xp.any(y == -1.0)) else " (labels -1/+1? use (y + 1) / 2 for log loss)"
    _check_in(y, xp, (0.0, 1.0), "log_loss", hint)
    return y


def _binary_pm1(y: Array, z: Array, xp: Any, loss: str) -> Array:
    y = _labels(y, z, xp)
    hint = "" if not bool(xp.any(y == 0.0)) else " (labels 0/1? use 2 * y - 1 for the hinge losses)"
    _check_in(y, xp, (-1.0, 1.0), loss, hint)
    return y


def _class_targets(y: Array, z: Array, xp: Any) -> Array:
    """Class indices ``(n,)`` or probabilities ``(n, K)`` -> probabilities ``(n, K)`` in ``z``'s dtype."""
    if z.ndim != 2:
        raise ValueError(f"logits must have shape (n_samples, n_classes), got shape {tuple(z.shape)}")
    n, k = z.shape
    try:
        array_namespace(z, y)
    except TypeError:
        raise TypeError(f"y ({type(y).__name__}) must be an array of the same library as the logits") from None
    if y.ndim == 1:
        if tuple(y.shape) != (n,):
            raise ValueError(f"y has shape {tuple(y.shape)} but the logits have {n} rows; expected shape ({n},)")
        if not xp.isdtype(y.dtype, "integral"):
            raise TypeError(
                f"y has dtype {y.dtype}: class indices must be integers 0..{k - 1} (or pass probabilities (n, K))"
            )
        if not bool(xp.all((y >= 0) & (y < k))):
            raise ValueError(f"y holds class indices outside 0..{k - 1} (the logits have {k} columns)")
        return one_hot(y, k, z.dtype)
    if tuple(y.shape) != (n, k):
        raise ValueError(f"y has shape {tuple(y.shape)}; expected class indices ({n},) or probabilities ({n}, {k})")
    y = xp.astype(y, z.dtype)
    total = xp.sum(y, axis=1)
    if not bool(xp.all(y >= 0)) or not bool(xp.all(xp.abs(total - 1.0) <= 1e-6)):
        raise ValueError("y as class probabilities must be non-negative with rows summing to 1")
    return y


# ----------------------------------------------------------------------------------------------
# The losses (private versions: namespace given, labels already checked and in the predictions' dtype)
# ----------------------------------------------------------------------------------------------


def _mse(xp: Any, z: Array, y: Array) -> Array:
    return xp.mean((z - y) ** 2)


def _mse_grad(xp: Any, z: Array, y: Array) -> Array:
    return (2.0 / _size(z)) * (z - y)


def _log_loss(xp: Any, z: Array, y: Array) -> Array:
    return xp.mean(xp.maximum(z, 0.0) + xp.log1p(xp.exp(-xp.abs(z))) - y * z)


def _log_loss_grad(xp: Any, z: Array, y: Array) -> Array:
    e = xp.exp(-xp.abs(z))
    return (xp.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)) - y) / _size(z)


def _softmax_ce(xp: Any, z: Array, y: Array) -> Array:
    return xp.mean(logsumexp(z, axis=1) - xp.sum(y * z, axis=1))


def _softmax_ce_grad(xp: Any, z: Array, y: Array) -> Array:
    return (softmax(z, axis=1) - y) / z.shape[0]


def _hinge(xp: Any, z: Array, y: Array) -> Array:
    return xp.mean(xp.maximum(1.0 - y * z, 0.0))


def _hinge_grad(xp: Any, z: Array, y: Array) -> Array:
    active = xp.astype(y * z < 1.0, z.dtype)
    return (-y * active) / _size(z)


def _squared_hinge(xp: Any, z: Array, y: Array) -> Array:
    return xp.mean(xp.maximum(1.0 - y * z, 0.0) ** 2)


def _squared_hinge_grad(xp: Any, z: Array, y: Array) -> Array:
    return (-2.0 / _size(z)) * y * xp.maximum(1.0 - y * z, 0.0)


def _size(z: Array) -> int:
    n = 1
    for s in z.shape:
        n *= s
    return n


# ----------------------------------------------------------------------------------------------
# Public, checked functions
# ----------------------------------------------------------------------------------------------


def mse(y_pred: Array, y: Array) -> Array:
    r"""Mean squared error.

    .. math:: J = \frac{1}{m} \sum_{i} (\hat y_i - y_i)^2

    over all :math:`m` entries (``torch.nn.functional.mse_loss``).

    Parameters
    ----------
    y_pred : array
        Predictions :math:`\hat y`, any shape.
    y : array
        Targets, same shape.

    Returns
    -------
    array
        0-d array of ``y_pred``'s dtype; ``float(...)`` gives the number.
    """
    xp, z = _predictions(y_pred, "y_pred")
    return _mse(xp, z, _labels(y, z, xp))


def mse_grad(y_pred: Array, y: Array) -> Array:
    r"""Gradient of :func:`mse` with respect to the predictions: :math:`\frac{2}{m} (\hat y - y)`.

    Parameters
    ----------
    y_pred : array
        The predictions :math:`\hat y` the gradient is taken at; it has their shape and dtype.
    y : array
        The targets, of ``y_pred``'s shape and library (else :class:`ValueError` / :class:`TypeError`).
    """
    xp, z = _predictions(y_pred, "y_pred")
    return _mse_grad(xp, z, _labels(y, z, xp))


def log_loss(z: Array, y: Array) -> Array:
    r"""Binary log loss (cross-entropy) from logits, labels in :math:`\{0, 1\}`.

    .. math::
        J = \frac{1}{n} \sum_i \big[-y_i \log \sigma(z_i) - (1 - y_i) \log(1 - \sigma(z_i))\big]
          = \frac{1}{n} \sum_i \big[\operatorname{softplus}(z_i) - y_i z_i\big]

    with :math:`\operatorname{softplus}(z) = \log(1 + e^z) = \max(z, 0) + \log(1 + e^{-|z|})`, the form
    computed here: no overflow for any logit (``binary_cross_entropy_with_logits`` in torch).

    Parameters
    ----------
    z : array
        Logits :math:`z = \log \frac{p}{1-p}`, any shape.
    y : array
        Labels 0 or 1, same shape.
    """
    xp, z = _predictions(z, "z")
    return _log_loss(xp, z, _binary01(y, z, xp))


def log_loss_grad(z: Array, y: Array) -> Array:
    r"""Gradient of :func:`log_loss` with respect to the logits: :math:`\frac{1}{n} (\sigma(z) - y)`.

    Parameters
    ----------
    z : array
        Logits, any shape; :math:`n` is their number of entries.
    y : array
        0/1 labels of ``z``'s shape; other values raise :class:`ValueError` (with a hint for -1/+1 labels).
    """
    xp, z = _predictions(z, "z")
    return _log_loss_grad(xp, z, _binary01(y, z, xp))


def softmax_cross_entropy(z: Array, y: Array) -> Array:
    r"""Softmax cross-entropy from logits (multinomial log loss).

    .. math::
        J = \frac{1}{n} \sum_i \Big[\log \sum_k e^{z_{ik}} - \sum_k y_{ik} z_{ik}\Big]
          = -\frac{1}{n} \sum_i \sum_k y_{ik} \log p_{ik}, \qquad p_{ik} = \frac{e^{z_{ik}}}{\sum_j e^{z_{ij}}}

    where :math:`y_{ik}` is one-hot (class indices) or a probability row; log-sum-exp is computed as
    :math:`m_i + \log \sum_k e^{z_{ik} - m_i}` with :math:`m_i = \max_k z_{ik}` (``torch.nn.functional.cross_entropy``).

    Parameters
    ----------
    z : array, shape (n, K)
        Logits.
    y : array, shape (n,) or (n, K)
        Class indices in ``0..K-1`` (integer dtype), or class probabilities (rows summing to 1).
    """
    xp, z = _predictions(z, "z")
    return _softmax_ce(xp, z, _class_targets(y, z, xp))


def softmax_cross_entropy_grad(z: Array, y: Array) -> Array:
    r"""Gradient of :func:`softmax_cross_entropy` w.r.t. the logits: :math:`\frac{1}{n}(p - y)`, shape ``(n, K)``.

    Parameters
    ----------
    z : array, shape (n, K)
        The logits, one row per example.
    y : array, shape (n,) or (n, K)
        Integer class indices (made one-hot) or probability rows; an index outside ``0..K-1`` or a row not
        summing to 1 raises :class:`ValueError`.
    """
    xp, z = _predictions(z, "z")
    return _softmax_ce_grad(xp, z, _class_targets(y, z, xp))


def hinge(z: Array, y: Array) -> Array:
    r"""Hinge loss of a linear SVM, labels in :math:`\{-1, +1\}`.

    .. math:: J = \frac{1}{n} \sum_i \max(0,\ 1 - y_i z_i)

    Parameters
    ----------
    z : array
        Scores (decision values), any shape.
    y : array
        Labels -1 or +1, same shape.
    """
    xp, z = _predictions(z, "z")
    return _hinge(xp, z, _binary_pm1(y, z, xp, "hinge"))


def hinge_grad(z: Array, y: Array) -> Array:
    r"""A subgradient of :func:`hinge`: :math:`-\frac{1}{n} y_i` where :math:`y_i z_i < 1`, else 0.

    At the kink :math:`y_i z_i = 1` any value between :math:`-y_i/n` and 0 is a subgradient; this
    function returns 0 there.

    Parameters
    ----------
    z : array
        Decision values :math:`z_i`, any shape (:math:`n` entries).
    y : array
        Labels :math:`y_i = \pm 1`, same shape; 0/1 labels raise :class:`ValueError` with the fix ``2 * y - 1``.
    """
    xp, z = _predictions(z, "z")
    return _hinge_grad(xp, z, _binary_pm1(y, z, xp, "hinge"))


def squared_hinge(z: Array, y: Array) -> Array:
    r"""Squared hinge loss (``LinearSVC``'s default), labels in :math:`\{-1, +1\}`.

    .. math:: J = \frac{1}{n} \sum_i \max(0,\ 1 - y_i z_i)^2

    Unlike :func:`hinge` it is differentiable everywhere (its gradient is Lipschitz with constant 2/n).

    Parameters
    ----------
    z : array
        Scores :math:`z_i = w^\top x_i + b`, any shape.
    y : array
        Labels in :math:`\{-1, +1\}` of ``z``'s shape.
    """
    xp, z = _predictions(z, "z")
    return _squared_hinge(xp, z, _binary_pm1(y, z, xp, "squared_hinge"))


def squared_hinge_grad(z: Array, y: Array) -> Array:
    r"""Gradient of :func:`squared_hinge`: :math:`-\frac{2}{n} y_i \max(0, 1 - y_i z_i)`.

    Parameters
    ----------
    z : array
        The scores the gradient is taken at; it has their shape and is 0 where the margin :math:`y_i z_i \ge 1`
        is met.
    y : array
        The -1/+1 labels, checked as for :func:`squared_hinge`.
    """
    xp, z = _predictions(z, "z")
    return _squared_hinge_grad(xp, z, _binary_pm1(y, z, xp, "squared_hinge"))


# ----------------------------------------------------------------------------------------------
# Registry
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Loss:
    """A loss and its gradient, e.g. ``get("log_loss")``.

    Attributes
    ----------
    name : str
        Registry name.
    value : callable
        ``value(pred, y) -> 0-d array``.
    grad : callable
        ``grad(pred, y) -> array like pred``.
    labels : str
        The label convention: ``"real"``, ``"0/1"``, ``"-1/+1"`` or ``"class index"``.
    """

    name: str
    value: Callable[[Array, Array], Array]
    grad: Callable[[Array, Array], Array]
    labels: str

    def __call__(self, pred: Array, y: Array) -> Array:
        """Same as :attr:`value`."""
        return self.value(pred, y)


LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in (
        Loss("mse", mse, mse_grad, "real"),
        Loss("log_loss", log_loss, log_loss_grad, "0/1"),
        Loss("softmax_cross_entropy", softmax_cross_entropy, softmax_cross_entropy_grad, "class index"),
        Loss("hinge", hinge, hinge_grad, "-1/+1"),
        Loss("squared_hinge", squared_hinge, squared_hinge_grad, "-1/+1"),
    )
}


def get(name: str) -> Loss:
    """The :class:`Loss` called ``name``; an unknown name lists the known ones."""
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; known losses: {', '.join(LOSSES)}")
    return LOSSES[name]
