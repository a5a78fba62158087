r"""Gradient clipping by the global norm, and an optimizer that clips before it steps.

Clipping rescales the gradient :math:`g = (g_1, \dots, g_L)` of all the parameter arrays together
when its global 2-norm exceeds a threshold :math:`c`:

.. math::
    \lVert g\rVert_2 = \Big(\sum_l \lVert g_l\rVert_2^2\Big)^{1/2}, \qquad
    g_l \leftarrow \min\!\Big(1, \frac{c}{\lVert g\rVert_2}\Big)\, g_l

The direction of the step is kept and only its length is capped, so one exploding minibatch
gradient (a cliff of the loss surface, a recurrent network unrolled over many steps) cannot throw
the parameters far away; below the threshold nothing changes.  Use it as a function on the
gradients, or wrap an optimizer::

    opt = clipping.clipped(optim.adam(lr=1e-3), max_norm=1.0)
    state = opt.init(params)
    params, state = opt.step(params, grads, state)   # adam's step on the clipped gradients

The wrapped optimizer has the interface of :mod:`gdcourse.optim`'s (``init``, ``step``,
``step_in_place``, ``lookahead``, ``lr``, ``lr_at``, ``hyperparams``) and the same state, so it
trains a model in :class:`gdcourse.train.Trainer` and its checkpoints hold ``max_norm`` among the
hyperparameters.  Both are checked against ``torch.nn.utils.clip_grad_norm_`` (followed by the
torch optimizer) in ``tests/test_clipping.py``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from array_api_compat import is_array_api_obj

from gdcourse import _checks
from gdcourse.backend import array_namespace, to_numpy

__all__ = ["ClippedOptimizer", "clip_grad_norm", "clipped", "global_norm"]

Array = Any


def clip_grad_norm(grads: Any, max_norm: float) -> tuple[list[Array], float]:
    r"""The gradients rescaled so that their global 2-norm is at most ``max_norm``, and that norm before.

    .. math::
        \lVert g\rVert_2 = \Big(\sum_l \lVert g_l\rVert_2^2\Big)^{1/2}, \qquad
        g_l' = \min\!\Big(1, \frac{c}{\lVert g\rVert_2}\Big)\, g_l

    so :math:`\lVert g'\rVert_2 = \min(\lVert g\rVert_2, c)` and every :math:`g_l'` points where
    :math:`g_l` did.  ``torch.nn.utils.clip_grad_norm_`` divides by :math:`\lVert g\rVert_2 + 10^{-6}`
    instead (a relative difference of :math:`10^{-6}/\lVert g\rVert_2`) and works in place; here
    new arrays are returned (in the gradients' dtype and library) and nothing passed in is modified.

    **A non-finite norm** (a NaN or an infinity in some gradient; a norm whose squares overflow is
    computed by rescaling, see :func:`global_norm`) is not clipped: the gradients are returned
    unchanged and the NaN/inf norm is returned, so the divergence check of the loop that called
    (:mod:`gdcourse.train`, :mod:`gdcourse.descent`) sees it and stops with its message, instead of
    a clipped NaN that hides where it came from.  (torch multiplies by the NaN factor instead.)

    Parameters
    ----------
    grads : array or sequence of arrays
        The gradients :math:`g_l` (real floating arrays of one array-API library), e.g.
        ``model.grads()``.
    max_norm : float
        The threshold :math:`c > 0` (finite).

    Returns
    -------
    clipped : list of arrays
        The rescaled gradients, in the order given (a list also for one array).
    norm : float
        :math:`\lVert g\rVert_2` before clipping.

    Examples
    --------
    >>> import numpy as np
    >>> clipped, norm = clip_grad_norm([np.array([3.0]), np.array([4.0])], max_norm=1.0)
    >>> norm, [round(float(g[0]), 12) for g in clipped]
    (5.0, [0.6, 0.8])
    """
    gs = _check_grads(grads)
    c = _checks.positive("max_norm", max_norm)
    norm = _global_norm(gs)
    scale = c / norm if math.isfinite(norm) and norm > c else 1.0
    return [g * scale for g in gs], norm


def global_norm(grads: Any) -> float:
    r"""The global norm :math:`(\sum_l \lVert g_l\rVert_2^2)^{1/2}` of several arrays, as a Python float.

    Each array's norm is computed in its own dtype and library, and again as
    :math:`m\,\lVert g_l/m\rVert_2` with :math:`m = \max_i |g_{l,i}|` where the squares overflowed
    (float32 overflows beyond :math:`\lVert g_l\rVert \approx 10^{19}`); the norms are combined in
    float64 on the host, also without overflow.  The result is NaN or infinite only when an entry is.
    It is the quantity :func:`gdcourse.monitoring.global_grad_norm` computes, which stays a 0-d array of the
    gradients' library (no transfer) and is not guarded against overflow: clipping needs the host number
    that decides whether to scale.

    Parameters
    ----------
    grads : array or sequence of arrays
        The arrays :math:`g_l` (one transfer to the host for all of them, two if some overflowed).
    """
    return _global_norm(_check_grads(grads))


def _global_norm(grads: list[Array]) -> float:
    """:func:`global_norm` of checked arrays."""
    xp = array_namespace(*grads)
    with np.errstate(over="ignore", invalid="ignore"):  # NumPy warns where the squares overflow
        norms = [xp.linalg.vector_norm(g) for g in grads]
        host = _host_float64(xp, norms)
        for i in np.flatnonzero(np.isposinf(host)).tolist():
            m = xp.max(xp.abs(grads[i]))
            top = float(to_numpy(m))
            if math.isfinite(top):  # finite entries whose squares overflowed: rescale
                host[i] = top * float(to_numpy(xp.linalg.vector_norm(grads[i] / m)))
    return math.hypot(*host.tolist())  # NaN or inf if any norm is


def _host_float64(xp: Any, values: list[Array]) -> np.ndarray:
    """0-d arrays of one library (any floating dtypes) on the host as float64, in one transfer."""
    return np.asarray(to_numpy(xp.stack([xp.astype(v, xp.float64) for v in values])), dtype=np.float64)


class ClippedOptimizer:
    r"""An optimizer of :mod:`gdcourse.optim` whose steps use the clipped gradients; made by :func:`clipped`.

    ``step(params, grads, state)`` is ``optimizer.step(params, clip_grad_norm(grads, max_norm)[0], state)``
    (with the structure of ``grads`` kept).  The state is the wrapped optimizer's own, and its
    learning rate, schedule, look-ahead and hyperparameters are the wrapped optimizer's, with
    ``max_norm`` added to the hyperparameters.

    Parameters
    ----------
    optimizer : Optimizer
        The update rule to wrap (anything with ``init(params)`` and ``step(params, grads, state)``).
    max_norm : float
        The clipping threshold :math:`c > 0`.

    Attributes
    ----------
    optimizer : Optimizer
        The wrapped rule.
    max_norm : float
        The threshold.
    name : str
        ``"clipped(<name of the rule>)"``, e.g. ``"clipped(adam)"`` (what a checkpoint records).
    """

    def __init__(self, optimizer: Any, max_norm: float) -> None:
        for method in ("init", "step"):
            if not callable(getattr(optimizer, method, None)):
                raise TypeError(
                    f"optimizer must have init(params) and step(params, grads, state), e.g. "
                    f"gdcourse.optim.adam(lr=1e-3); got {optimizer!r}, which has no {method}()"
                )
        self.optimizer = optimizer
        self.max_norm = _checks.positive("max_norm", max_norm)
        self.name = f"clipped({getattr(optimizer, 'name', type(optimizer).__name__)})"

    def __repr__(self) -> str:
        return f"clipped({self.optimizer!r}, max_norm={self.max_norm!r})"

    @property
    def lr(self) -> Any:
        """The wrapped optimizer's learning rate or schedule (``None`` if it has none)."""
        return getattr(self.optimizer, "lr", None)

    @property
    def hyperparams(self) -> dict[str, Any]:
        """The wrapped optimizer's hyperparameters, and ``max_norm``."""
        inner = getattr(self.optimizer, "hyperparams", None)
        return {**(inner if isinstance(inner, dict) else {}), "max_norm": self.max_norm}

    @property
    def needs_lookahead(self) -> bool:
        """Whether the wrapped rule takes its gradient at :meth:`lookahead` (Nesterov's look-ahead form)."""
        return bool(getattr(self.optimizer, "needs_lookahead", False))

    def lr_at(self, step: int) -> float:
        """The wrapped optimizer's learning rate for update number ``step`` (NaN if it cannot say)."""
        lr_at = getattr(self.optimizer, "lr_at", None)
        return float(lr_at(step)) if lr_at is not None else math.nan

    def lookahead(self, params: Any, state: Any) -> Any:
        """Where the gradient of the next step must be evaluated: the wrapped rule's point.

        Parameters
        ----------
        params : array or list of arrays
            The parameters.
        state : OptState
            The optimizer state.
        """
        lookahead = getattr(self.optimizer, "lookahead", None)
        return lookahead(params, state) if lookahead is not None else params

    def init(self, params: Any) -> Any:
        """The wrapped optimizer's fresh state for ``params``."""
        return self.optimizer.init(params)

    def step(self, params: Any, grads: Any, state: Any) -> tuple[Any, Any]:
        r"""Clip ``grads`` by their global norm, then take the wrapped rule's step; nothing passed in is modified.

        Parameters
        ----------
        params : array or list of arrays
            The parameters :math:`\theta`.
        grads : array or list of arrays
            Their gradients, in the structure of ``params``.
        state : OptState
            From :meth:`init` or the previous step.

        Returns
        -------
        params, state
            As the wrapped optimizer's ``step`` returns them.
        """
        return self.optimizer.step(params, self._clip(grads), state)

    def step_in_place(self, params: Any, grads: Any, state: Any) -> tuple[Any, Any]:
        """Clip ``grads`` (into new arrays), then the wrapped rule's ``step_in_place`` (overwrites ``params``).

        Parameters
        ----------
        params : array or list of arrays
            The parameters, overwritten with the new ones.
        grads : array or list of arrays
            Their gradients (not modified).
        state : OptState
            From :meth:`init` or the previous step; its buffers are overwritten.

        Returns
        -------
        params, state
            As the wrapped optimizer's ``step_in_place`` returns them.
        """
        step_in_place = getattr(self.optimizer, "step_in_place", None)
        if step_in_place is None:
            raise AttributeError(f"the wrapped optimizer {self.optimizer!r} has no step_in_place; use step")
        return step_in_place(params, self._clip(grads), state)

    def _clip(self, grads: Any) -> Any:
        """``grads`` clipped, in their own structure (one array, a list or a tuple)."""
        clipped_grads, _ = clip_grad_norm(grads, self.max_norm)
        if isinstance(grads, tuple):
            return tuple(clipped_grads)
        return clipped_grads if isinstance(grads, list) else clipped_grads[0]


def clipped(optimizer: Any, max_norm: float) -> ClippedOptimizer:
    r"""``optimizer`` taking its steps on gradients clipped to the global norm ``max_norm``.

    .. math:: \theta \leftarrow \mathrm{step}\Big(\theta,\ \min\!\Big(1, \frac{c}{\lVert g\rVert_2}\Big)\, g\Big)

    where :math:`\lVert g\rVert_2` is the global norm over all parameter arrays (see
    :func:`clip_grad_norm`) and :math:`\mathrm{step}` the wrapped update rule.  The same as
    ``torch.nn.utils.clip_grad_norm_(params, c)`` before ``torch_optimizer.step()``.

    Parameters
    ----------
    optimizer : Optimizer
        A :mod:`gdcourse.optim` update rule, e.g. ``optim.sgd(lr=0.1, momentum=0.9)``.
    max_norm : float
        The threshold :math:`c > 0` (finite).

    Returns
    -------
    ClippedOptimizer
        With ``init``, ``step``, ``step_in_place``, ``lookahead``, ``lr``, ``lr_at`` and
        ``hyperparams`` (the wrapped ones plus ``max_norm``); its state is the wrapped rule's.

    Examples
    --------
    >>> import numpy as np
    >>> from gdcourse import optim
    >>> opt = clipped(optim.sgd(lr=0.1), max_norm=1.0)
    >>> theta, state = opt.step(np.array([0.0, 0.0]), np.array([30.0, 40.0]), opt.init(np.zeros(2)))
    >>> np.round(theta, 12).tolist()
    [-0.06, -0.08]
    """
    return ClippedOptimizer(optimizer, max_norm)


def _check_grads(grads: Any) -> list[Array]:
    """``grads`` as a list of real floating arrays of one library (TypeError/ValueError naming ``grads``)."""
    if isinstance(grads, list | tuple):
        if not grads:
            raise ValueError("grads is an empty sequence; expected an array or a list of arrays")
        items, labels = list(grads), [f"grads[{i}]" for i in range(len(grads))]
    else:
        items, labels = [grads], ["grads"]
    for g, label in zip(items, labels, strict=True):
        if not is_array_api_obj(g):
            raise TypeError(f"{label} must be an array (NumPy, CuPy, ...), got {type(g).__name__}")
        if not array_namespace(g).isdtype(g.dtype, "real floating"):
            raise TypeError(f"{label} has dtype {g.dtype}; expected a real floating dtype (float32 or float64)")
    try:
        array_namespace(*items)
    except TypeError:
        raise TypeError("grads mixes arrays of different libraries; move them to one") from None
    return items
