r"""Update rules of gradient descent: one small function per rule, checked against ``torch.optim``.

Every rule is used the same way::

    opt = gdcourse.optim.adam(lr=1e-3)             # hyperparameters: torch.optim's names and defaults
    state = opt.init(params)                       # OptState(t=0, slots={"m": ..., "v": ...})
    for k in range(100):
        grads = grad_J(opt.lookahead(params, state))   # == params, except for the look-ahead Nesterov form
        params, state = opt.step(params, grads, state)

``params`` and ``grads`` are one array or a list (or tuple) of arrays; ``step`` returns new arrays in
the same structure and never modifies the caller's arrays.  The arrays may live on any array-API
backend (NumPy, CuPy, ``array_api_strict``, ...): each rule follows the data with
``xp = array_namespace(theta)`` and keeps its dtype (float32 stays float32).

Anywhere ``lr`` is taken, a schedule is too: a callable ``step -> lr`` (see :mod:`gdcourse.schedules`)
evaluated at ``step = state.t``, i.e. ``0`` for the first update, exactly as a ``torch.optim.lr_scheduler``
stepped once per optimizer step.

Conventions shared by every rule (all as in ``torch.optim``):

* ``maximize=True`` ascends: the rule sees :math:`g = -\nabla J`.
* ``weight_decay`` :math:`\lambda` is L2 regularisation added to the gradient,
  :math:`g \leftarrow g + \lambda\theta` (``adamw`` and ``decoupled_weight_decay=True`` instead shrink
  the parameters directly, :math:`\theta \leftarrow \theta(1-\eta\lambda)`).
* NaN or inf in the gradients is *not* an error here: the update is computed and the NaN propagates
  to the parameters, where :mod:`gdcourse.descent` detects the divergence and stops with a message.

The course also teaches two other ways of writing momentum; both are offered and proved equivalent
to torch's form in ``tests/test_optim.py``:

* :func:`heavy_ball` with ``ewma=True``: :math:`v \leftarrow \beta v + (1-\beta) g`, which is torch's
  ``sgd(momentum=β)`` with the learning rate scaled by :math:`(1-\beta)`;
* :func:`nesterov`: Sutskever's look-ahead form, whose gradient is evaluated at
  ``opt.lookahead(params, state)`` :math:`= \theta + \beta v`; it is torch's ``sgd(nesterov=True)``
  after the change of variables :math:`\phi = \theta + \beta v`.
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from gdcourse import _checks, divergence, optim_fused
from gdcourse.backend import array_namespace

__all__ = [
    "OPTIMIZERS",
    "EpsUnderflowWarning",
    "OptState",
    "Optimizer",
    "adadelta",
    "adagrad",
    "adam",
    "adamax",
    "adamw",
    "amsgrad",
    "gd",
    "get",
    "heavy_ball",
    "nadam",
    "nesterov",
    "rmsprop",
    "sgd",
]

Array = Any
Params = Any  # one array, or a list/tuple of arrays
LR = float | Callable[[int], float]
Slots = dict[str, Any]
Update = Callable[[Array, Array, Slots, int, float], tuple[Array, Slots]]


# ----------------------------------------------------------------------------------------------
# State and the generic optimizer
# ----------------------------------------------------------------------------------------------


class OptState(NamedTuple):
    """State of an update rule between steps.

    Attributes
    ----------
    t : int
        Number of updates applied so far (0 after :meth:`Optimizer.init`).
    slots : dict
        The rule's buffers by name (e.g. ``"m"`` and ``"v"`` for Adam).  Each has the structure of
        ``params``: one array for one parameter array, a list for a list.  ``state.m`` is a shortcut
        for ``state.slots["m"]``.

    Treat it as read-only: :meth:`Optimizer.step` returns a new state and leaves the old one intact.
    """

    t: int
    slots: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        if not name.startswith("_") and name in self.slots:
            return self.slots[name]
        raise AttributeError(f"OptState has no attribute or slot {name!r}; slots: {sorted(self.slots)}")


class EpsUnderflowWarning(UserWarning):
    """An adaptive rule's ``eps`` is below the smallest normal number of the parameters' dtype (see ``init``)."""


class Optimizer:
    """An update rule with its hyperparameters; made by :func:`sgd`, :func:`adam`, ... or :func:`get`.

    Parameters
    ----------
    name : str
        Name of the rule, e.g. ``"adam"``.
    lr : float or callable
        Learning rate, or a schedule ``step -> lr`` evaluated at ``state.t``.
    hyperparams : dict
        The other hyperparameters, for display.
    slots : dict
        Buffer name -> initialiser ``theta -> initial value`` (an array like ``theta`` or a float).
    update : callable
        ``update(theta, g, s, t, lr) -> (theta, s)`` for one parameter array, where ``g`` already includes
        ``maximize`` and (coupled) weight decay, ``s`` holds the buffers of that array, ``t`` is the
        1-based number of this update and ``lr`` the learning rate for it.
    weight_decay : float
        Coefficient of L2 regularisation added to the gradient (0 for decoupled weight decay).
    maximize : bool
        Ascend instead of descend.
    lookahead : callable, optional
        ``lookahead(theta, s) -> point`` where the gradient must be evaluated (default: ``theta``).
    fused : optim_fused.FusedRule, optional
        Fast path used instead of ``update`` for the parameter arrays where ``fused.applies(...)``
        (large NumPy/CuPy arrays; see :mod:`gdcourse.optim_fused`), with the same results.
    """

    def __init__(
        self,
        name: str,
        lr: LR,
        hyperparams: Mapping[str, Any],
        slots: Mapping[str, Callable[[Array], Any]],
        update: Update,
        *,
        weight_decay: float = 0.0,
        maximize: bool = False,
        lookahead: Callable[[Array, Slots], Array] | None = None,
        fused: optim_fused.FusedRule | None = None,
    ) -> None:
        self.name = name
        self.lr = _check_lr(lr)
        self.hyperparams = dict(hyperparams)
        self._slots = dict(slots)
        self._update = update
        self._weight_decay = _check_nonneg("weight_decay", weight_decay)
        self._maximize = _check_bool("maximize", maximize)
        self._lookahead = lookahead
        self._fused = fused

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in {"lr": self.lr, **self.hyperparams}.items())
        return f"{self.name}({args})"

    @property
    def needs_lookahead(self) -> bool:
        """``True`` when gradients must be taken at :meth:`lookahead`, not at the parameters."""
        return self._lookahead is not None

    def lr_at(self, step: int) -> float:
        """Learning rate of update number ``step`` (0 for the first), checked positive and finite."""
        if not callable(self.lr):
            return self.lr
        value = self.lr(step)
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise TypeError(f"lr schedule {self.lr!r} returned {value!r} at step {step}; expected a number") from None
        if not (math.isfinite(value) and value > 0):
            raise ValueError(
                f"lr schedule {self.lr!r} returned {value!r} at step {step}; expected a positive finite "
                "learning rate (a schedule that reaches 0 ends training: stop before, or set its minimum > 0)"
            )
        return value

    def init(self, params: Params) -> OptState:
        """Fresh state for ``params`` (an array or a list of arrays): ``t = 0`` and zeroed buffers."""
        thetas, kind = _flatten(params, "params")
        for i, theta in enumerate(thetas):
            _check_floating(theta, _label("params", i, kind))
        self._warn_if_eps_underflows(thetas)
        slots = {name: _unflatten([make(theta) for theta in thetas], kind) for name, make in self._slots.items()}
        return OptState(t=0, slots=slots)

    def _warn_if_eps_underflows(self, thetas: list[Array]) -> None:
        """Warn when ``0 < eps <`` the smallest normal of a parameter's dtype (``divergence.smallest_normal``).

        Such an eps rounds to (nearly) 0 in that dtype, so a gradient entry that underflows gives 0/0 or
        g/0 = ±inf in the first step (Adam in float16 with eps=1e-8).  ``eps=0`` is a deliberate choice,
        legal as in torch, and not warned about; the divergence policy explains the NaN if it comes.
        """
        eps = divergence.optimizer_eps(self)
        if eps is None or eps <= 0:
            return
        for dtype in dict.fromkeys(getattr(theta, "dtype", None) for theta in thetas):
            tiny = divergence.smallest_normal(dtype)
            if eps < tiny:
                name = str(getattr(dtype, "name", dtype)).rsplit(".", 1)[-1]
                warnings.warn(
                    f"{self.name}: eps={eps:g} is below the smallest normal number of {name} ({tiny:.2g}), so it "
                    "rounds to 0 there and a zero or underflowed gradient entry makes the step 0/0 (NaN) or "
                    "±inf; use an eps the dtype can hold (float16 needs about 1e-4) or keep the parameters "
                    "and the optimizer state in float32",
                    EpsUnderflowWarning,
                    stacklevel=3,
                )

    def lookahead(self, params: Params, state: OptState) -> Params:
        r"""Where the gradient for the next :meth:`step` must be evaluated.

        ``params`` itself for every rule except the look-ahead form of :func:`nesterov`,
        where it is :math:`\theta + \beta v`.  A generic descent loop calls
        ``grads = grad_J(opt.lookahead(params, state))`` and works for every rule.

        Parameters
        ----------
        params : array or list of arrays
            Current parameters :math:`\theta`, as for :meth:`step`; nothing is modified.
        state : OptState
            From :meth:`init` or the previous :meth:`step` (its velocity :math:`v` for :func:`nesterov`).

        Returns
        -------
        array or list of arrays
            The point where the next gradient is taken, with the structure of ``params``.
        """
        if self._lookahead is None:
            return params
        thetas, kind = _flatten(params, "params")
        per_param = self._state_per_param(state, len(thetas), kind)
        return _unflatten([self._lookahead(theta, s) for theta, s in zip(thetas, per_param, strict=True)], kind)

    def step(self, params: Params, grads: Params, state: OptState) -> tuple[Params, OptState]:
        r"""Apply one update: return ``(new_params, new_state)``; nothing passed in is modified.

        Parameters
        ----------
        params : array or list of arrays
            Current parameters :math:`\theta`.
        grads : array or list of arrays
            Gradients with the same structure, shapes and dtypes, evaluated at
            ``self.lookahead(params, state)`` (which is ``params`` for all rules but :func:`nesterov`).
            NaN/inf are not rejected (see the module docstring).
        state : OptState
            From :meth:`init` or the previous :meth:`step`.
        """
        return self._step(params, grads, state, in_place=False)

    def step_in_place(self, params: Params, grads: Params, state: OptState) -> tuple[Params, OptState]:
        r"""Apply one update by overwriting ``params`` and the buffers of ``state``, as ``torch.optim`` does.

        The same numbers as :meth:`step`, written into the arrays passed in instead of new ones:
        ``params`` (the same arrays, now holding :math:`\theta_{t+1}`) and a state whose buffers are
        ``state``'s own arrays, updated, with ``t + 1``.  The old ``state`` object keeps its old
        ``t`` but shares the updated buffers: do not step from it again.  Nothing is allocated for
        the parameters and buffers, which is what makes the fast path of :mod:`gdcourse.optim_fused`
        fast on large arrays; use it in a training loop that does not keep old iterates.

        Parameters
        ----------
        params, grads, state
            As for :meth:`step`; ``params`` and the buffers must be writable arrays.

        Returns
        -------
        params : array or list of arrays
            ``params`` itself (the same structure and arrays), updated.
        state : OptState
            The new state, holding ``state``'s arrays.
        """
        return self._step(params, grads, state, in_place=True)

    def _step(self, params: Params, grads: Params, state: OptState, *, in_place: bool) -> tuple[Params, OptState]:
        thetas, kind = _flatten(params, "params")
        gs, gkind = _flatten(grads, "grads")
        if gkind != kind or len(gs) != len(thetas):
            raise ValueError(
                f"grads must have the structure of params: params is {_describe(thetas, kind)}, "
                f"grads is {_describe(gs, gkind)}"
            )
        for i, (theta, g) in enumerate(zip(thetas, gs, strict=True)):
            _check_pair(theta, g, i, kind)
        per_param = self._state_per_param(state, len(thetas), kind)
        t = state.t + 1
        lr = self.lr_at(state.t)
        new_thetas, new_slots = [], []
        for theta, g, s in zip(thetas, gs, per_param, strict=True):
            if self._fused is not None and self._fused.applies(theta, g, s):
                # same result; maximize and weight decay inside
                new_theta, new_s = self._fused(theta, g, s, t, lr, in_place=in_place)
            else:
                new_theta, new_s = self._readable_update(theta, g, s, t, lr)
                if in_place:
                    new_theta = _write_over(theta, new_theta)
                    new_s = {name: _write_over(s[name], value) for name, value in new_s.items()}
            new_thetas.append(new_theta)
            new_slots.append(new_s)
        slots = {name: _unflatten([s[name] for s in new_slots], kind) for name in self._slots}
        new_params = params if in_place and kind is not None else _unflatten(new_thetas, kind)
        return new_params, OptState(t=t, slots=slots)

    def _readable_update(self, theta: Array, g: Array, s: Slots, t: int, lr: float) -> tuple[Array, Slots]:
        """The rule as written in its docstring: ``maximize`` and weight decay, then the update."""
        if self._maximize:
            g = -g
        if self._weight_decay != 0:
            point = theta if self._lookahead is None else self._lookahead(theta, s)
            g = g + self._weight_decay * point
        return self._update(theta, g, s, t, lr)

    def _state_per_param(self, state: OptState, n: int, kind: type | None) -> list[Slots]:
        if not isinstance(state, OptState):
            raise TypeError(
                f"state must be the OptState returned by opt.init(params) or opt.step(...), got {type(state).__name__}"
            )
        if set(state.slots) != set(self._slots):
            raise ValueError(
                f"state has slots {sorted(state.slots)} but {self.name} needs {sorted(self._slots)}; "
                "was it made by another optimizer? Call opt.init(params)"
            )
        per_param: list[Slots] = [{} for _ in range(n)]
        for name, value in state.slots.items():
            values = [value] if kind is None else value
            if kind is not None and (not isinstance(value, list | tuple) or len(values) != n):
                raise ValueError(
                    f"state.slots[{name!r}] does not match params ({n} arrays); call opt.init(params) again"
                )
            for s, v in zip(per_param, values, strict=True):
                s[name] = v
        return per_param


# ----------------------------------------------------------------------------------------------
# The rules
# ----------------------------------------------------------------------------------------------


def gd(lr: LR, *, weight_decay: float = 0.0, maximize: bool = False) -> Optimizer:
    r"""Plain gradient descent.

    .. math:: \theta \leftarrow \theta - \eta \nabla J(\theta)

    Parameters
    ----------
    lr : float or callable
        Step size :math:`\eta > 0`, or a schedule ``step -> lr``.
    weight_decay : float, default 0
        L2 coefficient :math:`\lambda`: :math:`g \leftarrow g + \lambda\theta`.
    maximize : bool, default False
        Gradient ascent instead.

    References
    ----------
    Cauchy, A. (1847). Méthode générale pour la résolution des systèmes d'équations simultanées.
    Comptes rendus de l'Académie des sciences, 25, 536-538.
    """

    def update(theta, g, s, t, lr):
        return theta - lr * g, s

    return Optimizer(
        "gd",
        lr,
        {"weight_decay": weight_decay, "maximize": maximize},
        {},
        update,
        weight_decay=weight_decay,
        maximize=maximize,
    )


def sgd(
    lr: LR = 1e-3,
    momentum: float = 0.0,
    dampening: float = 0.0,
    weight_decay: float = 0.0,
    nesterov: bool = False,
    *,
    maximize: bool = False,
    fused: bool | None = None,
) -> Optimizer:
    r"""(Stochastic) gradient descent with optional momentum, exactly as ``torch.optim.SGD``.

    With momentum :math:`\mu > 0` and dampening :math:`d`, the buffer :math:`b` starts at the first
    gradient and

    .. math::
        b &\leftarrow \mu b + (1-d)\, g \\
        \theta &\leftarrow \theta - \eta\, b
        \qquad\text{or, with ``nesterov=True``,}\qquad
        \theta \leftarrow \theta - \eta\,(g + \mu b).

    With :math:`d = 0` this is Polyak's heavy ball,
    :math:`\theta_{t+1} = \theta_t - \eta\nabla J(\theta_t) + \mu(\theta_t - \theta_{t-1})`.
    The Nesterov variant is Sutskever's look-ahead form rewritten at the look-ahead point
    (see :func:`nesterov`).  For the course's EWMA convention see :func:`heavy_ball`.

    Parameters
    ----------
    lr : float or callable, default 1e-3
        Step size :math:`\eta > 0`, or a schedule ``step -> lr``.
    momentum : float, default 0
        :math:`\mu \in [0, 1)`.
    dampening : float, default 0
        :math:`d \in [0, 1]`; not applied to the first step (torch's convention).
    weight_decay : float, default 0
        L2 coefficient :math:`\lambda`: :math:`g \leftarrow g + \lambda\theta`.
    nesterov : bool, default False
        Nesterov momentum; needs ``momentum > 0`` and ``dampening == 0``.
    maximize : bool, default False
        Ascend instead.
    fused : bool or None, default None
        Fast path (same results, see :mod:`gdcourse.optim_fused`): ``None`` for NumPy/CuPy arrays of
        at least ``optim_fused.FUSED_MIN_SIZE`` elements, ``True`` for all of them, ``False`` never.

    References
    ----------
    Robbins, H., & Monro, S. (1951). A stochastic approximation method. Ann. Math. Statist., 22(3), 400-407.
    Polyak, B. T. (1964). Some methods of speeding up the convergence of iteration methods.
    USSR Comput. Math. Math. Phys., 4(5), 1-17.
    Sutskever, I., Martens, J., Dahl, G., & Hinton, G. (2013). On the importance of initialization and
    momentum in deep learning. ICML.
    """
    momentum = _check_unit("momentum", momentum)
    dampening = _check_range("dampening", dampening, 0.0, 1.0, "[0, 1]")
    nesterov = _check_bool("nesterov", nesterov)
    if nesterov and (momentum == 0 or dampening != 0):
        raise ValueError(
            f"nesterov=True requires momentum > 0 and dampening == 0 (as torch.optim.SGD), "
            f"got momentum={momentum}, dampening={dampening}"
        )
    hyper = {
        "momentum": momentum,
        "dampening": dampening,
        "weight_decay": weight_decay,
        "nesterov": nesterov,
        "maximize": maximize,
    }

    def update(theta, g, s, t, lr):
        if momentum == 0:
            return theta - lr * g, s
        if t == 1:  # torch starts b at (a copy of) the first gradient, without dampening
            b = array_namespace(g).asarray(g, copy=True)
        else:
            b = momentum * s["b"] + (1 - dampening) * g
        direction = g + momentum * b if nesterov else b
        return theta - lr * direction, {"b": b}

    slots = {"b": _zeros} if momentum != 0 else {}
    fast = optim_fused.sgd(
        fused, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov, maximize=maximize
    )
    return Optimizer("sgd", lr, hyper, slots, update, weight_decay=weight_decay, maximize=maximize, fused=fast)


def heavy_ball(
    lr: LR, momentum: float = 0.9, *, ewma: bool = False, weight_decay: float = 0.0, maximize: bool = False
) -> Optimizer:
    r"""Polyak's heavy-ball momentum, in torch's convention or as an exponentially weighted average.

    .. math::
        v &\leftarrow \beta v + c\, g, \qquad c = 1 \text{ (default) or } c = 1-\beta \text{ (``ewma=True``)} \\
        \theta &\leftarrow \theta - \eta\, v,

    with :math:`v_0 = 0` and :math:`\beta` = ``momentum``.  With :math:`c = 1` it is exactly
    ``sgd(lr, momentum=β)`` and, for constant :math:`\eta`, Polyak's
    :math:`\theta_{t+1} = \theta_t - \eta\nabla J(\theta_t) + \beta(\theta_t - \theta_{t-1})`.
    With ``ewma=True``, :math:`v` is an average of past gradients (the course's convention); since
    :math:`v^{\mathrm{ewma}}_t = (1-\beta)\, v^{\mathrm{torch}}_t`, it is ``sgd(lr=(1-β)·η, momentum=β)``:
    the same method with the learning rate rescaled by :math:`(1-\beta)` (also under a schedule).

    Parameters
    ----------
    lr : float or callable
        Step size :math:`\eta > 0`, or a schedule ``step -> lr``.
    momentum : float, default 0.9
        :math:`\beta \in [0, 1)`.
    ewma : bool, default False
        Average the gradients with weight :math:`1-\beta` instead of summing them.
    weight_decay : float, default 0
        L2 coefficient :math:`\lambda`: :math:`g \leftarrow g + \lambda\theta`.
    maximize : bool, default False
        Ascend instead.

    References
    ----------
    Polyak, B. T. (1964). Some methods of speeding up the convergence of iteration methods.
    USSR Comput. Math. Math. Phys., 4(5), 1-17.
    """
    beta = _check_unit("momentum", momentum)
    c = 1 - beta if _check_bool("ewma", ewma) else 1.0

    def update(theta, g, s, t, lr):
        v = beta * s["v"] + c * g
        return theta - lr * v, {"v": v}

    hyper = {"momentum": beta, "ewma": ewma, "weight_decay": weight_decay, "maximize": maximize}
    return Optimizer("heavy_ball", lr, hyper, {"v": _zeros}, update, weight_decay=weight_decay, maximize=maximize)


def nesterov(lr: LR, momentum: float = 0.9, *, weight_decay: float = 0.0, maximize: bool = False) -> Optimizer:
    r"""Nesterov's accelerated gradient in its look-ahead form (Sutskever et al. 2013).

    .. math::
        v &\leftarrow \beta v - \eta \nabla J(\theta + \beta v) \\
        \theta &\leftarrow \theta + v

    with :math:`v_0 = 0`.  The gradient is taken at the look-ahead point
    :math:`\theta + \beta v`, returned by ``opt.lookahead(params, state)``: pass
    ``grads = grad_J(opt.lookahead(params, state))`` to :meth:`Optimizer.step`.  Weight decay is
    the gradient of :math:`\frac{\lambda}{2}\|\theta\|^2` at that same point.

    For constant :math:`\eta`, the look-ahead points :math:`\phi = \theta + \beta v` follow exactly
    ``sgd(lr, momentum=β, nesterov=True)`` (torch's form, which stores :math:`\phi` as the
    parameters and :math:`b = -v/\eta` as its buffer):
    :math:`\phi_{t+1} = \phi_t - \eta\,(g_t + \beta b_{t+1})`.

    Parameters
    ----------
    lr : float or callable
        Step size :math:`\eta > 0`, or a schedule ``step -> lr``.
    momentum : float, default 0.9
        :math:`\beta \in [0, 1)`.
    weight_decay : float, default 0
        L2 coefficient :math:`\lambda`: :math:`g \leftarrow g + \lambda(\theta + \beta v)`.
    maximize : bool, default False
        Ascend instead.

    References
    ----------
    Nesterov, Y. (1983). A method for solving the convex programming problem with convergence rate
    O(1/k²). Soviet Mathematics Doklady, 27, 372-376.
    Sutskever, I., Martens, J., Dahl, G., & Hinton, G. (2013). On the importance of initialization and
    momentum in deep learning. ICML.
    """
    beta = _check_unit("momentum", momentum)

    def lookahead(theta, s):
        return theta + beta * s["v"]

    def update(theta, g, s, t, lr):
        v = beta * s["v"] - lr * g
        return theta + v, {"v": v}

    hyper = {"momentum": beta, "weight_decay": weight_decay, "maximize": maximize}
    return Optimizer(
        "nesterov", lr, hyper, {"v": _zeros}, update, lookahead=lookahead, weight_decay=weight_decay, maximize=maximize
    )


def adagrad(
    lr: LR = 1e-2,
    lr_decay: float = 0.0,
    weight_decay: float = 0.0,
    initial_accumulator_value: float = 0.0,
    eps: float = 1e-10,
    *,
    maximize: bool = False,
) -> Optimizer:
    r"""Adagrad: per-coordinate steps shrinking with the sum of squared gradients (``torch.optim.Adagrad``).

    .. math::
        G &\leftarrow G + g^2 \\
        \theta &\leftarrow \theta - \frac{\eta_t}{\sqrt{G} + \epsilon}\, g,
        \qquad \eta_t = \frac{\eta}{1 + (t-1)\,\text{lr\_decay}}

    with :math:`G_0` = ``initial_accumulator_value`` and :math:`t = 1, 2, \dots` the update count.

    Parameters
    ----------
    lr : float or callable, default 1e-2
        :math:`\eta > 0`, or a schedule ``step -> lr``.
    lr_decay : float, default 0
        Inverse-time decay of :math:`\eta` (``>= 0``).
    weight_decay : float, default 0
        L2 coefficient :math:`\lambda`: :math:`g \leftarrow g + \lambda\theta`.
    initial_accumulator_value : float, default 0
        :math:`G_0 \ge 0`.
    eps : float, default 1e-10
        :math:`\epsilon \ge 0`, added to :math:`\sqrt{G}`.
    maximize : bool, default False
        Ascend instead.

    References
    ----------
    Duchi, J., Hazan, E., & Singer, Y. (2011). Adaptive subgradient methods for online learning and
    stochastic optimization. JMLR, 12, 2121-2159.
    """
    lr_decay = _check_nonneg("lr_decay", lr_decay)
    g0 = _check_nonneg("initial_accumulator_value", initial_accumulator_value)
    eps = _check_nonneg("eps", eps)

    def update(theta, g, s, t, lr):
        xp = array_namespace(theta)
        lr_t = lr / (1 + (t - 1) * lr_decay)
        G = s["G"] + g**2
        return theta - lr_t * g / (xp.sqrt(G) + eps), {"G": G}

    hyper = {
        "lr_decay": lr_decay,
        "weight_decay": weight_decay,
        "initial_accumulator_value": g0,
        "eps": eps,
        "maximize": maximize,
    }
    return Optimizer("adagrad", lr, hyper, {"G": _full(g0)}, update, weight_decay=weight_decay, maximize=maximize)


def rmsprop(
    lr: LR = 1e-2,
    alpha: float = 0.99,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    momentum: float = 0.0,
    centered: bool = False,
    *,
    maximize: bool = False,
    fused: bool | None = None,
) -> Optimizer:
    r"""RMSprop: divide the gradient by a running average of its magnitude (``torch.optim.RMSprop``).

    .. math::
        v &\leftarrow \alpha v + (1-\alpha)\, g^2 \\
        \theta &\leftarrow \theta - \eta\, \frac{g}{\sqrt{v} + \epsilon}

    With ``centered=True`` the running mean :math:`\bar g \leftarrow \alpha\bar g + (1-\alpha) g` is
    also kept and :math:`\sqrt{v}` becomes :math:`\sqrt{v - \bar g^2}` (an estimate of the standard
    deviation, Graves 2013).  With ``momentum`` :math:`\mu > 0` the scaled step is accumulated:
    :math:`b \leftarrow \mu b + g / (\sqrt{v}+\epsilon)`, :math:`\theta \leftarrow \theta - \eta b`.

    Parameters
    ----------
    lr : float or callable, default 1e-2
        :math:`\eta > 0`, or a schedule ``step -> lr``.
    alpha : float, default 0.99
        Decay rate :math:`\alpha \in [0, 1)` of the average of :math:`g^2`.
    eps : float, default 1e-8
        :math:`\epsilon \ge 0`.
    weight_decay : float, default 0
        L2 coefficient :math:`\lambda`: :math:`g \leftarrow g + \lambda\theta`.
    momentum : float, default 0
        :math:`\mu \in [0, 1)`.
    centered : bool, default False
        Normalise by the estimated variance instead of the second moment.
    maximize : bool, default False
        Ascend instead.
    fused : bool or None, default None
        Fast path, as in :func:`sgd`.

    References
    ----------
    Hinton, G., Srivastava, N., & Swersky, K. (2012). Neural Networks for Machine Learning,
    Lecture 6e: rmsprop — divide the gradient by a running average of its recent magnitude. Coursera.
    Graves, A. (2013). Generating sequences with recurrent neural networks. arXiv:1308.0850.
    """
    alpha = _check_unit("alpha", alpha)
    eps = _check_nonneg("eps", eps)
    momentum = _check_unit("momentum", momentum)
    centered = _check_bool("centered", centered)

    def update(theta, g, s, t, lr):
        xp = array_namespace(theta)
        v = alpha * s["v"] + (1 - alpha) * g**2
        new = {"v": v}
        if centered:
            g_avg = new["g_avg"] = alpha * s["g_avg"] + (1 - alpha) * g
            step = g / (xp.sqrt(v - g_avg**2) + eps)
        else:
            step = g / (xp.sqrt(v) + eps)
        if momentum > 0:
            step = new["b"] = momentum * s["b"] + step
        return theta - lr * step, new

    slots = {"v": _zeros}
    if centered:
        slots["g_avg"] = _zeros
    if momentum > 0:
        slots["b"] = _zeros
    hyper = {
        "alpha": alpha,
        "eps": eps,
        "weight_decay": weight_decay,
        "momentum": momentum,
        "centered": centered,
        "maximize": maximize,
    }
    fast = optim_fused.rmsprop(
        fused, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum, centered=centered, maximize=maximize
    )
    return Optimizer("rmsprop", lr, hyper, slots, update, weight_decay=weight_decay, maximize=maximize, fused=fast)


def adadelta(
    lr: LR = 1.0, rho: float = 0.9, eps: float = 1e-6, weight_decay: float = 0.0, *, maximize: bool = False
) -> Optimizer:
    r"""Adadelta: steps in the units of the parameters, from two running averages (``torch.optim.Adadelta``).

    .. math::
        v &\leftarrow \rho v + (1-\rho)\, g^2 \\
        \Delta &= \frac{\sqrt{u + \epsilon}}{\sqrt{v + \epsilon}}\, g \\
        u &\leftarrow \rho u + (1-\rho)\, \Delta^2 \\
        \theta &\leftarrow \theta - \eta\, \Delta

    :math:`v` averages squared gradients, :math:`u` squared updates; their ratio gives :math:`\Delta`
    the units of :math:`\theta` (Zeiler's "unit argument").  Zeiler's method has no learning rate,
    i.e. :math:`\eta = 1` (torch's default).

    Parameters
    ----------
    lr : float or callable, default 1.0
        :math:`\eta > 0`, or a schedule ``step -> lr``.
    rho : float, default 0.9
        Decay rate :math:`\rho \in [0, 1)`.
    eps : float, default 1e-6
        :math:`\epsilon > 0`.  Unlike Adam's, Adadelta's eps cannot be 0: the first step is
        :math:`\sqrt{0 + \epsilon}/\sqrt{v + \epsilon}\, g`, so with :math:`\epsilon = 0` the update
        accumulator :math:`u` stays 0 and the parameters never move.
    weight_decay : float, default 0
        L2 coefficient :math:`\lambda`: :math:`g \leftarrow g + \lambda\theta`.
    maximize : bool, default False
        Ascend instead.

    Raises
    ------
    ValueError
        If ``eps <= 0`` (the rule would never take a step).

    References
    ----------
    Zeiler, M. D. (2012). ADADELTA: An adaptive learning rate method. arXiv:1212.5701.
    """
    rho = _check_unit("rho", rho)
    eps = _check_number("eps", eps)
    if not (math.isfinite(eps) and eps > 0):
        raise ValueError(
            f"eps must be a positive finite number for adadelta, got {eps!r}: its step is "
            "sqrt(u + eps) / sqrt(v + eps) * g with u starting at 0, so with eps <= 0 it never moves"
        )

    def update(theta, g, s, t, lr):
        xp = array_namespace(theta)
        v = rho * s["v"] + (1 - rho) * g**2
        delta = xp.sqrt(s["u"] + eps) / xp.sqrt(v + eps) * g
        u = rho * s["u"] + (1 - rho) * delta**2
        return theta - lr * delta, {"v": v, "u": u}

    hyper = {"rho": rho, "eps": eps, "weight_decay": weight_decay, "maximize": maximize}
    return Optimizer(
        "adadelta", lr, hyper, {"v": _zeros, "u": _zeros}, update, weight_decay=weight_decay, maximize=maximize
    )


def adam(
    lr: LR = 1e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    amsgrad: bool = False,
    *,
    maximize: bool = False,
    decoupled_weight_decay: bool = False,
    fused: bool | None = None,
) -> Optimizer:
    r"""Adam: momentum on the gradient, per-coordinate scaling by its RMS, both bias-corrected (``torch.optim.Adam``).

    .. math::
        m &\leftarrow \beta_1 m + (1-\beta_1)\, g \\
        v &\leftarrow \beta_2 v + (1-\beta_2)\, g^2 \\
        \hat m &= \frac{m}{1-\beta_1^t}, \qquad \hat v = \frac{v}{1-\beta_2^t} \\
        \theta &\leftarrow \theta - \eta\, \frac{\hat m}{\sqrt{\hat v} + \epsilon}

    with :math:`m_0 = v_0 = 0` and :math:`t = 1, 2, \dots`.  The bias corrections undo the pull of the
    zero initialisation towards 0 in the first steps.

    * ``amsgrad=True`` (AMSGrad, Reddi et al. 2018) normalises by the running maximum
      :math:`v_{\max} \leftarrow \max(v_{\max}, v)` instead of :math:`v`, so steps never grow because
      :math:`v` forgot a large gradient.
    * ``decoupled_weight_decay=True`` is AdamW (see :func:`adamw`): first
      :math:`\theta \leftarrow \theta(1-\eta\lambda)`, and :math:`\lambda` is not added to :math:`g`.

    Parameters
    ----------
    lr : float or callable, default 1e-3
        :math:`\eta > 0`, or a schedule ``step -> lr``.
    betas : (float, float), default (0.9, 0.999)
        :math:`\beta_1, \beta_2 \in [0, 1)`.
    eps : float, default 1e-8
        :math:`\epsilon \ge 0`, added to :math:`\sqrt{\hat v}`.
    weight_decay : float, default 0
        :math:`\lambda \ge 0`: L2 added to the gradient, or decoupled (see above).
    amsgrad : bool, default False
        Use AMSGrad's running maximum of :math:`v`.
    maximize : bool, default False
        Ascend instead.
    decoupled_weight_decay : bool, default False
        Shrink the parameters directly (AdamW) instead of adding :math:`\lambda\theta` to :math:`g`.
    fused : bool or None, default None
        Fast path, as in :func:`sgd`.

    References
    ----------
    Kingma, D. P., & Ba, J. (2015). Adam: A method for stochastic optimization. ICLR.
    Reddi, S. J., Kale, S., & Kumar, S. (2018). On the convergence of Adam and beyond. ICLR.
    Loshchilov, I., & Hutter, F. (2019). Decoupled weight decay regularization. ICLR.
    """
    beta1, beta2 = _check_betas(betas)
    eps = _check_nonneg("eps", eps)
    weight_decay = _check_nonneg("weight_decay", weight_decay)
    amsgrad = _check_bool("amsgrad", amsgrad)
    decoupled = _check_bool("decoupled_weight_decay", decoupled_weight_decay)

    def update(theta, g, s, t, lr):
        xp = array_namespace(theta)
        if decoupled:
            theta = theta * (1 - lr * weight_decay)
        m = beta1 * s["m"] + (1 - beta1) * g
        v = beta2 * s["v"] + (1 - beta2) * g**2
        new = {"m": m, "v": v}
        if amsgrad:
            v = new["v_max"] = xp.maximum(s["v_max"], v)  # normalise by the largest v so far
        m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
        return theta - lr * m_hat / (xp.sqrt(v_hat) + eps), new

    slots = {"m": _zeros, "v": _zeros, **({"v_max": _zeros} if amsgrad else {})}
    hyper = {
        "betas": (beta1, beta2),
        "eps": eps,
        "weight_decay": weight_decay,
        "amsgrad": amsgrad,
        "maximize": maximize,
        "decoupled_weight_decay": decoupled,
    }
    name = "adamw" if decoupled else "adam"
    fast = optim_fused.adam(
        fused,
        betas=(beta1, beta2),
        eps=eps,
        weight_decay=weight_decay,
        amsgrad=amsgrad,
        maximize=maximize,
        decoupled=decoupled,
    )
    wd = 0.0 if decoupled else weight_decay
    return Optimizer(name, lr, hyper, slots, update, weight_decay=wd, maximize=maximize, fused=fast)


def adamw(
    lr: LR = 1e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 1e-2,
    amsgrad: bool = False,
    *,
    maximize: bool = False,
) -> Optimizer:
    r"""AdamW: Adam with decoupled weight decay (``torch.optim.AdamW``).

    .. math::
        \theta &\leftarrow \theta\,(1 - \eta\lambda) \\
        \theta &\leftarrow \theta - \eta\, \frac{\hat m}{\sqrt{\hat v} + \epsilon}
        \qquad (\hat m, \hat v \text{ as in } :func:`adam`, \text{ from } g \text{ alone})

    In Adam with L2 (``adam(weight_decay=λ)``) the decay term :math:`\lambda\theta` is divided by
    :math:`\sqrt{\hat v}` like the gradient, so heavily-updated weights are barely regularised; AdamW
    shrinks every weight by the same factor.  Note torch's default ``weight_decay=1e-2``.

    Parameters
    ----------
    lr, betas, eps, amsgrad, maximize
        As in :func:`adam`.
    weight_decay : float, default 1e-2
        Decoupled decay :math:`\lambda \ge 0`.

    References
    ----------
    Loshchilov, I., & Hutter, F. (2019). Decoupled weight decay regularization. ICLR.
    """
    return adam(lr, betas, eps, weight_decay, amsgrad, maximize=maximize, decoupled_weight_decay=True)


def amsgrad(
    lr: LR = 1e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    *,
    maximize: bool = False,
) -> Optimizer:
    r"""AMSGrad: ``adam(..., amsgrad=True)``, normalising by the running maximum of :math:`v`.

    .. math::
        v_{\max} \leftarrow \max(v_{\max}, v), \qquad
        \theta \leftarrow \theta - \eta\, \frac{\hat m}{\sqrt{v_{\max}/(1-\beta_2^t)} + \epsilon}

    Parameters
    ----------
    lr, betas, eps, weight_decay, maximize
        As in :func:`adam` (``eps`` is added to :math:`\sqrt{v_{\max}/(1-\beta_2^t)}`, ``weight_decay`` is L2).

    References
    ----------
    Reddi, S. J., Kale, S., & Kumar, S. (2018). On the convergence of Adam and beyond. ICLR.
    """
    return adam(lr, betas, eps, weight_decay, amsgrad=True, maximize=maximize)


def adamax(
    lr: LR = 2e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    *,
    maximize: bool = False,
) -> Optimizer:
    r"""Adamax: Adam with the infinity norm in place of the RMS (``torch.optim.Adamax``).

    .. math::
        m &\leftarrow \beta_1 m + (1-\beta_1)\, g \\
        u &\leftarrow \max(\beta_2 u,\ |g| + \epsilon) \\
        \theta &\leftarrow \theta - \frac{\eta}{1-\beta_1^t}\, \frac{m}{u}

    :math:`u` needs no bias correction: it is a maximum, not an average started at 0.

    Parameters
    ----------
    lr : float or callable, default 2e-3
        :math:`\eta > 0`, or a schedule ``step -> lr``.
    betas : (float, float), default (0.9, 0.999)
        :math:`\beta_1, \beta_2 \in [0, 1)`.
    eps : float, default 1e-8
        :math:`\epsilon \ge 0` (torch adds it to :math:`|g|`).
    weight_decay : float, default 0
        L2 coefficient :math:`\lambda`: :math:`g \leftarrow g + \lambda\theta`.
    maximize : bool, default False
        Ascend instead.

    References
    ----------
    Kingma, D. P., & Ba, J. (2015). Adam: A method for stochastic optimization. ICLR (section 7.1).
    """
    beta1, beta2 = _check_betas(betas)
    eps = _check_nonneg("eps", eps)

    def update(theta, g, s, t, lr):
        xp = array_namespace(theta)
        m = beta1 * s["m"] + (1 - beta1) * g
        u = xp.maximum(beta2 * s["u"], xp.abs(g) + eps)
        return theta - lr / (1 - beta1**t) * m / u, {"m": m, "u": u}

    hyper = {"betas": (beta1, beta2), "eps": eps, "weight_decay": weight_decay, "maximize": maximize}
    return Optimizer(
        "adamax", lr, hyper, {"m": _zeros, "u": _zeros}, update, weight_decay=weight_decay, maximize=maximize
    )


def nadam(
    lr: LR = 2e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    momentum_decay: float = 4e-3,
    decoupled_weight_decay: bool = False,
    *,
    maximize: bool = False,
) -> Optimizer:
    r"""NAdam: Adam with Nesterov momentum (``torch.optim.NAdam``).

    With the momentum schedule :math:`\mu_t = \beta_1\,(1 - \tfrac12\, 0.96^{t\psi})`
    (:math:`\psi` = ``momentum_decay``) and :math:`\Pi_t = \mu_1\cdots\mu_t`:

    .. math::
        m &\leftarrow \beta_1 m + (1-\beta_1)\, g, \qquad v \leftarrow \beta_2 v + (1-\beta_2)\, g^2,
        \qquad \hat v = \frac{v}{1-\beta_2^t} \\
        \theta &\leftarrow \theta - \eta \left( \frac{1-\mu_t}{1-\Pi_t}\, g
                 + \frac{\mu_{t+1}}{1-\Pi_t\mu_{t+1}}\, m \right) \Big/ \left(\sqrt{\hat v} + \epsilon\right)

    The :math:`m` term already uses the *next* momentum coefficient: Nesterov's look-ahead, applied
    to the moment estimate instead of to the parameters.

    Parameters
    ----------
    lr : float or callable, default 2e-3
        :math:`\eta > 0`, or a schedule ``step -> lr``.
    betas : (float, float), default (0.9, 0.999)
        :math:`\beta_1, \beta_2 \in [0, 1)`.
    eps : float, default 1e-8
        :math:`\epsilon \ge 0`.
    weight_decay : float, default 0
        :math:`\lambda \ge 0`: L2 added to the gradient, or decoupled as in AdamW.
    momentum_decay : float, default 4e-3
        :math:`\psi \ge 0`.
    decoupled_weight_decay : bool, default False
        Shrink the parameters directly, :math:`\theta \leftarrow \theta(1-\eta\lambda)` (NAdamW).
    maximize : bool, default False
        Ascend instead.

    References
    ----------
    Dozat, T. (2016). Incorporating Nesterov momentum into Adam. ICLR Workshop.
    """
    beta1, beta2 = _check_betas(betas)
    eps = _check_nonneg("eps", eps)
    psi = _check_nonneg("momentum_decay", momentum_decay)
    weight_decay = _check_nonneg("weight_decay", weight_decay)
    decoupled = _check_bool("decoupled_weight_decay", decoupled_weight_decay)

    def mu(t: int) -> float:
        return beta1 * (1 - 0.5 * 0.96 ** (t * psi))

    def update(theta, g, s, t, lr):
        xp = array_namespace(theta)
        if decoupled:
            theta = theta * (1 - lr * weight_decay)
        mu_product = s["mu_product"] * mu(t)
        m = beta1 * s["m"] + (1 - beta1) * g
        v = beta2 * s["v"] + (1 - beta2) * g**2
        denom = xp.sqrt(v / (1 - beta2**t)) + eps
        step = (1 - mu(t)) / (1 - mu_product) * g + mu(t + 1) / (1 - mu_product * mu(t + 1)) * m
        return theta - lr * step / denom, {"m": m, "v": v, "mu_product": mu_product}

    hyper = {
        "betas": (beta1, beta2),
        "eps": eps,
        "weight_decay": weight_decay,
        "momentum_decay": psi,
        "decoupled_weight_decay": decoupled,
        "maximize": maximize,
    }
    return Optimizer(
        "nadam",
        lr,
        hyper,
        {"m": _zeros, "v": _zeros, "mu_product": _one},
        update,
        weight_decay=0.0 if decoupled else weight_decay,
        maximize=maximize,
    )


OPTIMIZERS: dict[str, Callable[..., Optimizer]] = {
    f.__name__: f
    for f in (gd, sgd, heavy_ball, nesterov, adagrad, rmsprop, adadelta, adam, adamw, amsgrad, adamax, nadam)
}


def get(name: str, **hyperparams: Any) -> Optimizer:
    """Make an optimizer by name, e.g. ``get("adam", lr=0.01)``.

    Parameters
    ----------
    name : str
        One of :data:`OPTIMIZERS` (case-insensitive).
    **hyperparams
        Keyword arguments of that rule's function.

    Raises
    ------
    ValueError
        For an unknown name (the message lists the known ones) or a hyperparameter the rule does not take.
    """
    key = name.lower() if isinstance(name, str) else name
    if key not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; known optimizers: {', '.join(OPTIMIZERS)}")
    factory = OPTIMIZERS[key]
    accepted = list(inspect.signature(factory).parameters)
    unknown = [k for k in hyperparams if k not in accepted]
    if unknown:
        raise ValueError(f"{key} does not take {', '.join(unknown)}; its hyperparameters are {', '.join(accepted)}")
    return factory(**hyperparams)


# ----------------------------------------------------------------------------------------------
# Helpers: slot initialisers, structure, validation
# ----------------------------------------------------------------------------------------------


def _zeros(theta: Array) -> Array:
    return array_namespace(theta).zeros_like(theta)


def _full(value: float) -> Callable[[Array], Array]:
    def make(theta: Array) -> Array:
        return array_namespace(theta).full_like(theta, value)

    return make


def _one(theta: Array) -> float:
    return 1.0


def _write_over(target: Array, value: Array) -> Array:
    """Copy ``value`` into the array ``target`` (``target[...] = value``) and return ``target``.

    A slot that is a Python number (NAdam's running product of momentum coefficients) cannot be written
    over: the new number is returned instead.
    """
    if isinstance(target, int | float):
        return value
    target[...] = value
    return target


def _flatten(x: Params, name: str) -> tuple[list[Array], type | None]:
    """``([arrays], kind)`` with kind ``None`` for one array, ``list`` or ``tuple`` for a sequence."""
    if isinstance(x, list | tuple):
        if len(x) == 0:
            raise ValueError(f"{name} is an empty {type(x).__name__}; expected an array or a list of arrays")
        for i, a in enumerate(x):
            _check_array(a, f"{name}[{i}]")
        return list(x), type(x)
    _check_array(x, name)
    return [x], None


def _unflatten(items: list[Any], kind: type | None) -> Any:
    if kind is None:
        return items[0]
    return kind(items)


def _check_array(a: Any, label: str) -> None:
    # NumPy scalars (what 0-d NumPy arithmetic returns) count as 0-d arrays; Python numbers do not
    if isinstance(a, Sequence) or type(a) in (bool, int, float, complex) or not hasattr(a, "shape"):
        raise TypeError(f"{label} must be an array (NumPy, CuPy, ...), got {type(a).__name__}")
    try:
        array_namespace(a)
    except TypeError:
        raise TypeError(f"{label} must be an array of an array-API library, got {type(a).__name__}") from None


def _check_floating(a: Array, label: str) -> None:
    xp = array_namespace(a)
    if not xp.isdtype(a.dtype, "real floating"):
        raise TypeError(f"{label} has dtype {a.dtype}; expected a real floating dtype (float32 or float64)")


def _label(name: str, i: int, kind: type | None) -> str:
    return name if kind is None else f"{name}[{i}]"


def _describe(items: list[Array], kind: type | None) -> str:
    return "one array" if kind is None else f"a {kind.__name__} of {len(items)} arrays"


def _check_pair(theta: Array, g: Array, i: int, kind: type | None) -> None:
    p, q = _label("params", i, kind), _label("grads", i, kind)
    try:
        array_namespace(theta, g)
    except TypeError:
        raise TypeError(
            f"{q} ({type(g).__name__}) and {p} ({type(theta).__name__}) come from different array libraries"
        ) from None
    if tuple(g.shape) != tuple(theta.shape):
        raise ValueError(f"{q} has shape {tuple(g.shape)} but {p} has shape {tuple(theta.shape)}")
    if g.dtype != theta.dtype:
        raise TypeError(
            f"{q} has dtype {g.dtype} but {p} has dtype {theta.dtype}; cast the gradient "
            "(float32 parameters stay float32)"
        )


_check_lr = _checks.learning_rate  # a positive finite number or a schedule; True and "0.1" are refused
_check_number = _checks.number
_check_nonneg = _checks.nonneg


def _check_range(name: str, value: Any, low: float, high: float, text: str, *, open_high: bool = False) -> float:
    v = _check_number(name, value)
    if not (low <= v and (v < high if open_high else v <= high)):
        raise ValueError(f"{name} must be in {text}, got {value}")
    return v


def _check_unit(name: str, value: Any) -> float:
    return _check_range(name, value, 0.0, 1.0, "[0, 1)", open_high=True)


def _check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return value


def _check_betas(betas: Any) -> tuple[float, float]:
    if not isinstance(betas, Sequence) or isinstance(betas, str) or len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    return _check_unit("betas[0]", betas[0]), _check_unit("betas[1]", betas[1])
