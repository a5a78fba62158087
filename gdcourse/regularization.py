r"""Penalties (L1, L2, elastic net) with their (sub)gradients and proximal steps.

A penalty :math:`R` is added to a data loss: :math:`J(\theta) = L(\theta) + R(\theta)`.  Each comes
as three functions in the style of :mod:`gdcourse.losses`: the value, a (sub)gradient, and the
proximal operator

.. math:: \operatorname{prox}_{\eta R}(v) = \arg\min_x\ \tfrac12 \lVert x - v\rVert_2^2 + \eta R(x),

which turns gradient descent on :math:`L` into *proximal* gradient descent on :math:`L + R`
(ISTA): :math:`\theta \leftarrow \operatorname{prox}_{\eta R}(\theta - \eta \nabla L(\theta))`.
For L1 the prox is soft-thresholding, which sets small weights to exactly zero; a subgradient step
only makes them oscillate around zero.

The strengths follow scikit-learn's ``ElasticNet``:

.. math::
    R(w) = \alpha\Big(r \lVert w\rVert_1 + \frac{1-r}{2} \lVert w\rVert_2^2\Big),

with ``l1_ratio`` :math:`r`: :func:`l1` is :math:`r = 1` (:math:`\alpha\lVert w\rVert_1`, as ``Lasso``),
:func:`l2` is :math:`r = 0` (:math:`\frac{\alpha}{2}\lVert w\rVert_2^2`).

:class:`EarlyStopping` (in :mod:`gdcourse.early_stopping`, importable from here) is the other
regulariser of the course: it stops on a validation loss, keeping the best parameters.
"""

from __future__ import annotations

from typing import Any

from gdcourse import _checks
from gdcourse.early_stopping import EarlyStopping

__all__ = [
    "PENALTIES",
    "EarlyStopping",
    "elastic_net",
    "elastic_net_grad",
    "elastic_net_prox",
    "l1",
    "l1_grad",
    "l1_prox",
    "l2",
    "l2_grad",
    "l2_prox",
    "penalty_strengths",
    "soft_threshold",
]

Array = Any

PENALTIES = (None, "l1", "l2", "elasticnet")


# ----------------------------------------------------------------------------------------------
# Argument checks
# ----------------------------------------------------------------------------------------------


def _ratio(value: Any) -> float:
    v = _checks.finite("l1_ratio", value)
    if not 0 <= v <= 1:
        raise ValueError(f"l1_ratio must be in [0, 1], got {value}")
    return v


# ----------------------------------------------------------------------------------------------
# L1
# ----------------------------------------------------------------------------------------------


def soft_threshold(v: Array, threshold: float) -> Array:
    r"""Soft-thresholding :math:`S_\tau(v) = \operatorname{sign}(v) \max(|v| - \tau, 0)`, elementwise.

    Entries with :math:`|v_i| \le \tau` become exactly 0; the others move :math:`\tau` towards 0.

    Parameters
    ----------
    v : array
        The point, of a real floating dtype (any backend; the result stays there).
    threshold : float
        :math:`\tau \ge 0`; a negative, NaN or infinite one raises :class:`ValueError`.
    """
    xp = _checks.float_array_namespace("v", v)
    tau = _checks.nonneg("threshold", threshold)
    return xp.sign(v) * xp.maximum(xp.abs(v) - tau, 0.0)


def l1(w: Array, alpha: float) -> Array:
    r"""L1 penalty :math:`R(w) = \alpha \lVert w\rVert_1 = \alpha \sum_i |w_i|` (0-d array).

    Parameters
    ----------
    w : array
        The weights penalised (not the intercept), a real floating array; anything else raises :class:`TypeError`.
    alpha : float
        The strength :math:`\alpha \ge 0` (0: no penalty), else :class:`ValueError`.
    """
    xp = _checks.float_array_namespace("w", w)
    return _checks.nonneg("alpha", alpha) * xp.sum(xp.abs(w))


def l1_grad(w: Array, alpha: float) -> Array:
    r"""A subgradient of :func:`l1`: :math:`\alpha \operatorname{sign}(w)`, taking 0 at :math:`w_i = 0`.

    At 0 any value in :math:`[-\alpha, \alpha]` is a subgradient; 0 is the one of least norm.

    Parameters
    ----------
    w : array
        The weights; the subgradient has their shape.
    alpha : float
        :math:`\alpha \ge 0`, the size of every nonzero entry of the result.
    """
    xp = _checks.float_array_namespace("w", w)
    return _checks.nonneg("alpha", alpha) * xp.sign(w)


def l1_prox(v: Array, lr: float, alpha: float) -> Array:
    r"""Proximal step of :func:`l1`: :math:`\operatorname{prox}_{\eta\alpha\lVert\cdot\rVert_1}(v) = S_{\eta\alpha}(v)`.

    Parameters
    ----------
    v : array
        The point after the gradient step, :math:`\theta - \eta\nabla L(\theta)`.
    lr : float
        Step size :math:`\eta > 0`.
    alpha : float
        Strength :math:`\alpha \ge 0`.
    """
    return soft_threshold(v, _checks.positive("lr", lr) * _checks.nonneg("alpha", alpha))


# ----------------------------------------------------------------------------------------------
# L2
# ----------------------------------------------------------------------------------------------


def l2(w: Array, alpha: float) -> Array:
    r"""L2 penalty :math:`R(w) = \frac{\alpha}{2} \lVert w\rVert_2^2` (0-d array).

    Parameters
    ----------
    w : array
        Weights :math:`w` of a real floating dtype.
    alpha : float
        :math:`\alpha \ge 0`; with the factor :math:`\frac12` its gradient is exactly :math:`\alpha w`.
    """
    xp = _checks.float_array_namespace("w", w)
    return (0.5 * _checks.nonneg("alpha", alpha)) * xp.sum(w * w)


def l2_grad(w: Array, alpha: float) -> Array:
    r"""Gradient of :func:`l2`: :math:`\alpha w` (what ``weight_decay`` adds in :mod:`gdcourse.optim`).

    Parameters
    ----------
    w : array
        The weights the gradient is taken at (checked real floating, returned scaled).
    alpha : float
        The decay :math:`\alpha \ge 0`.
    """
    _checks.float_array_namespace("w", w)
    return _checks.nonneg("alpha", alpha) * w


def l2_prox(v: Array, lr: float, alpha: float) -> Array:
    r"""Proximal step of :func:`l2`: :math:`\operatorname{prox}_{\eta R}(v) = v / (1 + \eta\alpha)`.

    From setting the gradient of :math:`\frac12\lVert x-v\rVert^2 + \frac{\eta\alpha}{2}\lVert x\rVert^2` to zero:
    :math:`x - v + \eta\alpha x = 0`.  A shrinkage by a constant factor; never an exact zero.

    Parameters
    ----------
    v : array
        The point after the gradient step on the data loss.
    lr : float
        :math:`\eta > 0` (0, negative, NaN or inf raise :class:`ValueError`).
    alpha : float
        :math:`\alpha \ge 0`.
    """
    _checks.float_array_namespace("v", v)
    return v / (1.0 + _checks.positive("lr", lr) * _checks.nonneg("alpha", alpha))


# ----------------------------------------------------------------------------------------------
# Elastic net
# ----------------------------------------------------------------------------------------------


def elastic_net(w: Array, alpha: float, l1_ratio: float = 0.5) -> Array:
    r"""Elastic-net penalty :math:`R(w) = \alpha\big(r\lVert w\rVert_1 + \frac{1-r}{2}\lVert w\rVert_2^2\big)`.

    The parametrisation of scikit-learn's ``ElasticNet`` (``l1_ratio`` :math:`r`).

    Parameters
    ----------
    w : array
        The penalised weights (a real floating array).
    alpha : float
        The overall strength :math:`\alpha \ge 0`.
    l1_ratio : float
        :math:`r \in [0, 1]`: 1 is :func:`l1`, 0 is :func:`l2`, 0.5 by default; outside raises :class:`ValueError`.
    """
    xp = _checks.float_array_namespace("w", w)
    a, r = _checks.nonneg("alpha", alpha), _ratio(l1_ratio)
    return a * (r * xp.sum(xp.abs(w)) + 0.5 * (1.0 - r) * xp.sum(w * w))


def elastic_net_grad(w: Array, alpha: float, l1_ratio: float = 0.5) -> Array:
    r"""A subgradient of :func:`elastic_net`: :math:`\alpha\big(r \operatorname{sign}(w) + (1-r) w\big)`.

    Parameters
    ----------
    w : array
        The weights (:math:`\operatorname{sign}(0) = 0` is taken at a zero entry).
    alpha : float
        :math:`\alpha`, at least 0.
    l1_ratio : float
        The mix :math:`r` between the L1 and the L2 part, in [0, 1].
    """
    xp = _checks.float_array_namespace("w", w)
    a, r = _checks.nonneg("alpha", alpha), _ratio(l1_ratio)
    return a * (r * xp.sign(w) + (1.0 - r) * w)


def elastic_net_prox(v: Array, lr: float, alpha: float, l1_ratio: float = 0.5) -> Array:
    r"""Proximal step of :func:`elastic_net`: :math:`S_{\eta\alpha r}(v) / (1 + \eta\alpha(1-r))`.

    Soft-threshold for the L1 part, then the L2 shrinkage (the two compose in this order for this sum).

    Parameters
    ----------
    v : array
        :math:`\theta - \eta\nabla L(\theta)`, the plain gradient step.
    lr : float
        The step size :math:`\eta`, positive and finite.
    alpha : float
        Strength :math:`\alpha \ge 0` of the whole penalty.
    l1_ratio : float
        Its L1 share :math:`r`, between 0 and 1.
    """
    eta, a, r = _checks.positive("lr", lr), _checks.nonneg("alpha", alpha), _ratio(l1_ratio)
    return soft_threshold(v, eta * a * r) / (1.0 + eta * a * (1.0 - r))


def penalty_strengths(penalty: str | None, alpha: float, l1_ratio: float = 0.5) -> tuple[float, float]:
    r"""Reduce a named penalty to the pair :math:`(\alpha_1, \alpha_2)`.

    The penalty is then :math:`R = \alpha_1\lVert w\rVert_1 + \frac{\alpha_2}{2}\lVert w\rVert_2^2`:
    ``None`` gives (0, 0), ``"l1"`` :math:`(\alpha, 0)`, ``"l2"`` :math:`(0, \alpha)`, ``"elasticnet"``
    :math:`(\alpha r, \alpha(1-r))`.

    Parameters
    ----------
    penalty : {None, "l1", "l2", "elasticnet"}
        The name of the penalty, as the estimators of :mod:`gdcourse.models` and scikit-learn's take it.
    alpha : float
        Its strength :math:`\alpha \ge 0`.
    l1_ratio : float
        :math:`r` of ``"elasticnet"`` (checked only for it).

    Returns
    -------
    (float, float)
        :math:`(\alpha_1, \alpha_2)`.

    Raises
    ------
    ValueError
        For an unknown ``penalty`` (the message lists the known ones), ``alpha < 0`` or ``l1_ratio`` outside [0, 1].
    """
    if penalty not in PENALTIES:
        raise ValueError(f"unknown penalty {penalty!r}; expected one of None, 'l1', 'l2', 'elasticnet'")
    a = _checks.nonneg("alpha", alpha)
    if penalty is None:
        return 0.0, 0.0
    if penalty == "l1":
        return a, 0.0
    if penalty == "l2":
        return 0.0, a
    r = _ratio(l1_ratio)
    return a * r, a * (1.0 - r)
