r"""Exercises of notebook 07 (adaptive learning rates).

Conventions decided here:

- ``adam_step(theta, grad, m, v, t, lr, beta1, beta2, eps)`` returns ``(theta, m, v)``, the new
  parameters and the new *uncorrected* moments.  ``t`` is the number of this update counting from
  1, i.e. the number of updates made once this one is done: the first update has ``t = 1`` and the
  function does not increment it.  The update is torch's (and the paper's Algorithm 1):

  .. math::
      m \leftarrow \beta_1 m + (1-\beta_1) g, \quad v \leftarrow \beta_2 v + (1-\beta_2) g^2, \quad
      \theta \leftarrow \theta - \eta\,\frac{m/(1-\beta_1^t)}{\sqrt{v/(1-\beta_2^t)} + \epsilon}.

  The "efficient" ordering of Kingma & Ba's section 2 (also TensorFlow's),
  :math:`\eta_t = \eta\sqrt{1-\beta_2^t}/(1-\beta_1^t)`,
  :math:`\theta \leftarrow \theta - \eta_t\, m/(\sqrt v + \epsilon)`, differs only in where
  :math:`\epsilon` sits and is accepted too.
- ``rmsprop_step(theta, grad, v, lr, alpha, eps)`` returns ``(theta, v)`` with torch's form
  :math:`v \leftarrow \alpha v + (1-\alpha) g^2`, :math:`\theta \leftarrow \theta - \eta\, g/(\sqrt v + \epsilon)`.
- The references are :func:`gdcourse.optim.adam` and :func:`gdcourse.optim.rmsprop` themselves
  (checked step by step against ``torch.optim``), called on a state built from the arguments.
- Some cases use a large :math:`\epsilon` and small gradients, where :math:`\epsilon`'s place
  matters; results are compared with relative tolerance 1e-6 and absolute tolerance 1e-12.
- ``adam_lr(X, y, n_steps, target)`` is an experiment: it returns one learning rate η, and passes when
  ``n_steps`` updates of :func:`gdcourse.optim.adam` (torch's defaults β = (0.9, 0.999), ε = 1e-8) from
  θ = 0 on the linear-regression loss :math:`J(\theta) = \tfrac12\,\mathrm{mean}((X\theta - y)^2)` bring
  it to ``target`` or below.  The target is a thousandth of the way from J(0) down to the minimum J*
  (rounded to 3 significant digits).  The three cases are the same kind of data with the features in
  very different units, so that the weights to reach are about 0.001, about 1 and in the thousands.
  Adam's steps are about η long in the units of θ, so the good rates scale with the weights: from
  about a hundredth of the largest weight to a few times it (with scattered passes further up), and
  no single η passes all three cases.  The key holds J(0), J* and the minimiser, for the message
  ("too little to travel that far", "climbed or blew up", "too large to settle").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from gdcourse import optim
from gdcourse.backend import array_namespace, asarray, to_numpy
from gdcourse.exercises.core import Case, Exercise, Mistake, learning_rate_answer

__all__ = ["EXERCISES"]


# --- 07.adam_step -------------------------------------------------------------------------------


def adam_step(
    theta: Any, grad: Any, m: Any, v: Any, t: int, lr: float, beta1: float, beta2: float, eps: float
) -> tuple[Any, Any, Any]:
    r"""Reference for ``07.adam_step``: one update of :func:`gdcourse.optim.adam`, ``t`` = this update's number.

    Parameters
    ----------
    theta : array
        The parameters :math:`\theta` before the update.
    grad : array, same shape as ``theta``
        The gradient :math:`g` at ``theta``.
    m, v : array, same shape as ``theta``
        The first and second moments before the update, *uncorrected* (zeros before the first update).
    t : int
        The number of this update, counting from 1: the bias corrections divide by :math:`1-\beta_1^t` and
        :math:`1-\beta_2^t`, and the function does not increment it.
    lr : float
        The learning rate :math:`\eta`.
    beta1, beta2 : float
        The decay rates :math:`\beta_1` and :math:`\beta_2` of the two moments, in [0, 1).
    eps : float
        :math:`\epsilon`, added to :math:`\sqrt{\hat v}` in the denominator.

    Returns
    -------
    theta, m, v : array
        The new parameters and the new uncorrected moments.
    """
    opt = optim.adam(lr, betas=(beta1, beta2), eps=eps)
    new_theta, state = opt.step(theta, grad, optim.OptState(t - 1, {"m": m, "v": v}))
    return new_theta, state.m, state.v


def _denominator(xp: Any, r: Any, eps: float, *, eps_in_sqrt: bool, sqrt: bool) -> Any:
    r"""The denominator :math:`\sqrt r + \epsilon`, or a planted mistake: ``eps_in_sqrt`` or ``sqrt=False``.

    :math:`\sqrt{r + \epsilon}` and :math:`r + \epsilon` respectively (the first wins when both are set).
    """
    if eps_in_sqrt:
        return xp.sqrt(r + eps)
    return (xp.sqrt(r) if sqrt else r) + eps


def _adam(
    theta,
    grad,
    m,
    v,
    t,
    lr,
    beta1,
    beta2,
    eps,
    *,
    correct=True,
    t_used=None,
    eps_in_sqrt=False,
    swap=False,
    damp=True,
    sqrt=True,
    sign=-1.0,
    return_hat=False,
):
    """Adam written out, with switches that plant the known mistakes."""
    xp = array_namespace(theta)
    b1, b2 = (beta2, beta1) if swap else (beta1, beta2)
    m = b1 * m + ((1 - b1) if damp else 1.0) * grad
    v = b2 * v + ((1 - b2) if damp else 1.0) * grad**2
    k = t if t_used is None else t_used
    with np.errstate(divide="ignore", invalid="ignore"):  # t - 1 = 0 divides by zero: NaN, as a learner gets
        m_hat, v_hat = (m / (1 - b1**k), v / (1 - b2**k)) if correct else (m, v)
        theta = theta + sign * lr * m_hat / _denominator(xp, v_hat, eps, eps_in_sqrt=eps_in_sqrt, sqrt=sqrt)
    return (theta, m_hat, v_hat) if return_hat else (theta, m, v)


def _adam_efficient(theta, grad, m, v, t, lr, beta1, beta2, eps):
    """Kingma & Ba's reordered update (TensorFlow's): the step size absorbs both corrections."""
    xp = array_namespace(theta)
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    lr_t = lr * (1 - beta2**t) ** 0.5 / (1 - beta1**t)
    return theta - lr_t * m / (xp.sqrt(v) + eps), m, v


def _adam_cases(rng: np.random.Generator) -> list[Case]:
    def case(shape, m_v, t, lr, betas, eps, scale, label):
        theta, grad = rng.normal(size=shape), scale * rng.normal(size=shape)
        if m_v:  # moments as after a few earlier steps with gradients of about this size
            m = scale * rng.normal(size=shape) * 0.5
            v = scale**2 * rng.uniform(0.2, 2.0, size=shape)
        else:
            m, v = np.zeros(shape), np.zeros(shape)
        args = (asarray(theta), asarray(grad), asarray(m), asarray(v), t, lr, *betas, eps)
        return Case(args, label=label)

    r = lambda low, high: round(float(rng.uniform(low, high)), 4)  # noqa: E731 - a short local helper
    return [
        case((3,), False, 1, r(0.01, 0.1), (0.9, 0.999), 1e-8, 1.0, "the first update (t = 1, m = v = 0)"),
        case(
            (2, 2),
            True,
            int(rng.integers(3, 9)),
            r(0.01, 0.1),
            (r(0.8, 0.95), r(0.99, 0.9999)),
            1e-8,
            1.0,
            "a few updates in, other β's",
        ),
        case(
            (4,),
            True,
            int(rng.integers(20, 60)),
            r(0.001, 0.01),
            (0.9, 0.999),
            0.05,
            0.1,
            "later, with small gradients and a large ε",
        ),
        case(
            (2,),
            False,
            1,
            r(0.1, 0.5),
            (r(0.5, 0.8), r(0.9, 0.99)),
            1e-3,
            10.0,
            "the first update with large gradients and other β's",
        ),
    ]


ADAM_STEP = Exercise(
    id="07.adam_step",
    kind="function",
    title="adam_step(theta, grad, m, v, t, lr, beta1, beta2, eps) -> (theta, m, v): one Adam update, t = 1 first",
    reference=adam_step,
    make_cases=_adam_cases,
    atol=1e-12,
    hints=(
        "First update the two running averages: m ← β₁m + (1 − β₁)g and v ← β₂v + (1 − β₂)g² (g² elementwise).",
        "Correct the bias of the zero start with this update's number t (the caller already counts it, do not "
        "add 1): m̂ = m / (1 − β₁ᵗ), v̂ = v / (1 − β₂ᵗ). Return the uncorrected m and v as the new state.",
        "theta - lr * m_hat / (sqrt(v_hat) + eps), with ε outside the square root; return (theta, m, v).",
    ),
    solution=(
        "def adam_step(theta, grad, m, v, t, lr, beta1, beta2, eps):\n"
        "    m = beta1 * m + (1 - beta1) * grad\n"
        "    v = beta2 * v + (1 - beta2) * grad**2\n"
        "    m_hat = m / (1 - beta1**t)\n"
        "    v_hat = v / (1 - beta2**t)\n"
        "    theta = theta - lr * m_hat / (v_hat**0.5 + eps)\n"
        "    return theta, m, v\n"
    ),
    alternatives=(_adam_efficient,),
    mistakes=(
        Mistake(
            "no_bias_correction",
            "No bias correction: you divide m by √v directly. Both start at 0, so for the first hundreds of "
            "steps they are biased towards 0 — and √v more than m (β₂ > β₁), so your first steps are several "
            "times too large. Divide by (1 − β₁ᵗ) and (1 − β₂ᵗ).",
            lambda *a: _adam(*a, correct=False),
        ),
        Mistake(
            "t_minus_one",
            "The bias correction uses t − 1: t is already the number of this update (1 for the first), so "
            "(1 − β^(t−1)) is 0 at the first step and you divide by zero. Use β₁ᵗ and β₂ᵗ as given.",
            lambda theta, grad, m, v, t, *rest: _adam(theta, grad, m, v, t, *rest, t_used=t - 1),
        ),
        Mistake(
            "t_incremented",
            "t is incremented before use: the caller passes the number of this update (t = 1 for the first), "
            "so adding 1 corrects for one step too many. Use t as given.",
            lambda theta, grad, m, v, t, *rest: _adam(theta, grad, m, v, t, *rest, t_used=t + 1),
        ),
        Mistake(
            "eps_inside_sqrt",
            "ε is inside the square root: √(v̂ + ε) instead of √v̂ + ε. With a small v̂ (small gradients) "
            "that changes the step a lot; torch and the paper add ε after the root.",
            lambda *a: _adam(*a, eps_in_sqrt=True),
        ),
        Mistake(
            "betas_swapped",
            "β₁ and β₂ are swapped: β₁ (about 0.9, short memory) belongs to the average of g, β₂ (about 0.999, "
            "long memory) to the average of g².",
            lambda *a: _adam(*a, swap=True),
        ),
        Mistake(
            "missing_one_minus_beta",
            "The (1 − β) factors are missing: m ← β₁m + g is a sum that grows to g/(1 − β₁), not an average of g. "
            "Write m ← β₁m + (1 − β₁)g and v ← β₂v + (1 − β₂)g².",
            lambda *a: _adam(*a, damp=False),
        ),
        Mistake(
            "no_sqrt",
            "You divide by v̂, not by its square root: v̂ estimates g², so m̂/v̂ has the units of 1/g. "
            "Adam divides by √v̂ (the RMS of g), which makes the step about η whatever the gradient's scale.",
            lambda *a: _adam(*a, sqrt=False),
        ),
        Mistake(
            "ascent",
            "Sign flipped: you add the step, climbing the cost. Subtract η m̂/(√v̂ + ε).",
            lambda *a: _adam(*a, sign=1.0),
        ),
        Mistake(
            "returns_corrected_moments",
            "You return the bias-corrected m̂ and v̂ as the new state. The running averages must stay "
            "uncorrected: the correction is recomputed from t at every step (the next step would correct twice).",
            lambda *a: _adam(*a, return_hat=True),
        ),
    ),
)


# --- 07.rmsprop_step ----------------------------------------------------------------------------


def rmsprop_step(theta: Any, grad: Any, v: Any, lr: float, alpha: float, eps: float) -> tuple[Any, Any]:
    r"""Reference for ``07.rmsprop_step``: one update of :func:`gdcourse.optim.rmsprop`.

    :math:`v \leftarrow \alpha v + (1-\alpha) g^2`, :math:`\theta \leftarrow \theta - \eta\, g/(\sqrt v + \epsilon)`.

    Parameters
    ----------
    theta : array
        The parameters :math:`\theta` before the update.
    grad : array, same shape as ``theta``
        The gradient :math:`g` at ``theta``.
    v : array, same shape as ``theta``
        The running mean of :math:`g^2` before the update.
    lr : float
        The learning rate :math:`\eta`.
    alpha : float
        The decay rate :math:`\alpha` of ``v``, in [0, 1).
    eps : float
        :math:`\epsilon`, added to :math:`\sqrt v` in the denominator.

    Returns
    -------
    theta, v : array
        The new parameters and the new running mean.
    """
    opt = optim.rmsprop(lr, alpha=alpha, eps=eps)
    new_theta, state = opt.step(theta, grad, optim.OptState(0, {"v": v}))
    return new_theta, state.v


def _rmsprop(
    theta,
    grad,
    v,
    lr,
    alpha,
    eps,
    *,
    keep=None,
    add=None,
    square=True,
    eps_in_sqrt=False,
    stale=False,
    sqrt=True,
    sign=-1.0,
):
    """RMSprop written out, with switches that plant the known mistakes."""
    xp = array_namespace(theta)
    keep = alpha if keep is None else keep
    add = (1 - alpha) if add is None else add
    old = v
    v = keep * v + add * (grad**2 if square else grad)
    if not square:  # averaging g itself: a momentum (EWMA) step along the average
        return theta + sign * lr * v, v
    r = old if stale else v
    return theta + sign * lr * grad / _denominator(xp, r, eps, eps_in_sqrt=eps_in_sqrt, sqrt=sqrt), v


def _rmsprop_cases(rng: np.random.Generator) -> list[Case]:
    def case(shape, fresh, lr, alpha, eps, scale, label):
        theta, grad = rng.normal(size=shape), scale * rng.normal(size=shape)
        v = np.zeros(shape) if fresh else scale**2 * rng.uniform(0.2, 2.0, size=shape)
        return Case((asarray(theta), asarray(grad), asarray(v), lr, alpha, eps), label=label)

    r = lambda low, high: round(float(rng.uniform(low, high)), 4)  # noqa: E731 - a short local helper
    return [
        case((3,), True, r(0.001, 0.01), 0.99, 1e-8, 1.0, "the first update (v = 0), α = 0.99"),
        case((2, 3), False, r(0.001, 0.01), r(0.8, 0.95), 1e-8, 1.0, "a running average, another α"),
        case((4,), False, r(0.01, 0.1), r(0.9, 0.99), 0.05, 0.1, "small gradients and a large ε"),
    ]


RMSPROP_STEP = Exercise(
    id="07.rmsprop_step",
    kind="function",
    title="rmsprop_step(theta, grad, v, lr, alpha, eps) -> (theta, v): one RMSprop update",
    reference=rmsprop_step,
    make_cases=_rmsprop_cases,
    atol=1e-12,
    hints=(
        "v is a running average of the *squared* gradient: v ← αv + (1 − α)g², elementwise.",
        "Update v first, then divide the gradient by its root, coordinate by coordinate: g / (√v + ε).",
        "v = alpha * v + (1 - alpha) * grad**2; theta = theta - lr * grad / (v**0.5 + eps); return theta, v",
    ),
    solution=(
        "def rmsprop_step(theta, grad, v, lr, alpha, eps):\n"
        "    v = alpha * v + (1 - alpha) * grad**2\n"
        "    theta = theta - lr * grad / (v**0.5 + eps)\n"
        "    return theta, v\n"
    ),
    mistakes=(
        Mistake(
            "alpha_swapped",
            "α and 1 − α are swapped: v ← (1 − α)v + αg² keeps only a sliver of the past. α (about 0.99) is "
            "the weight of the old average, 1 − α the weight of the new g².",
            lambda th, g, v, lr, a, e: _rmsprop(th, g, v, lr, a, e, keep=1 - a, add=a),
        ),
        Mistake(
            "missing_one_minus_alpha",
            "The (1 − α) factor is missing: v ← αv + g² is a sum growing to g²/(1 − α), not an average, so "
            "the steps are √(1 − α) times too small. Write v ← αv + (1 − α)g².",
            lambda th, g, v, lr, a, e: _rmsprop(th, g, v, lr, a, e, add=1.0),
        ),
        Mistake(
            "adagrad_sum",
            "You add g² to v without decay (v ← v + g²): that is Adagrad's ever-growing sum, whose steps shrink "
            "forever. RMSprop forgets: v ← αv + (1 − α)g².",
            lambda th, g, v, lr, a, e: _rmsprop(th, g, v, lr, a, e, keep=1.0, add=1.0),
        ),
        Mistake(
            "averages_the_gradient",
            "You average the gradient itself and step along that average: that is momentum (an exponentially "
            "weighted average of g), not RMSprop. RMSprop averages g², keeps the current g, and divides it by "
            "√v — a per-coordinate step size, not a velocity.",
            lambda th, g, v, lr, a, e: _rmsprop(th, g, v, lr, a, e, square=False),
        ),
        Mistake(
            "stale_v",
            "The step uses the old v: update v with the new g² first, then divide by √v (on the first step, "
            "with v = 0, your step is g/ε — enormous).",
            lambda th, g, v, lr, a, e: _rmsprop(th, g, v, lr, a, e, stale=True),
        ),
        Mistake(
            "eps_inside_sqrt",
            "ε is inside the square root: √(v + ε) instead of √v + ε (torch's RMSprop adds ε after the root; "
            "with small gradients the difference is large).",
            lambda th, g, v, lr, a, e: _rmsprop(th, g, v, lr, a, e, eps_in_sqrt=True),
        ),
        Mistake(
            "no_sqrt",
            "You divide by v, not by √v: v estimates g², so g/v has the units of 1/g. Dividing by √v (the RMS "
            "of g) makes the step about η in every coordinate.",
            lambda th, g, v, lr, a, e: _rmsprop(th, g, v, lr, a, e, sqrt=False),
        ),
        Mistake(
            "ascent",
            "Sign flipped: you add the step and climb the cost. Subtract η g/(√v + ε).",
            lambda th, g, v, lr, a, e: _rmsprop(th, g, v, lr, a, e, sign=1.0),
        ),
    ),
)


# --- 07.first_step ------------------------------------------------------------------------------

FIRST_STEP = Exercise(
    id="07.first_step",
    kind="choice",
    title=(
        "Adam, β₁ = 0.9, β₂ = 0.999, m₀ = v₀ = 0, ε negligible: how does the first step *without* bias "
        "correction compare with the corrected one (η·sign(g))?"
    ),
    reference="b",
    choices={
        "a": "about 10 times smaller, because m₁ = 0.1·g is biased towards zero",
        "b": "about 3.2 times larger, because √v₁ ≈ 0.032·|g| is even more biased towards zero than m₁",
        "c": "the same: the two biases cancel",
        "d": "about 32 times larger, because only v₁ is biased",
    },
    hints=(
        "Write down m₁ and v₁ after one step from zero: m₁ = (1 − β₁)g, v₁ = (1 − β₂)g².",
        "The uncorrected step is η·m₁/√v₁. Compute (1 − β₁)/√(1 − β₂) for β₁ = 0.9, β₂ = 0.999.",
        "0.1 / √0.001 = 0.1 / 0.0316 ≈ 3.16, while the corrected m̂₁/√v̂₁ = g/|g| has size 1.",
    ),
    solution=(
        "answer = 'b'\n"
        "# m1 = 0.1 g and sqrt(v1) = sqrt(0.001) |g| = 0.0316 |g|: m1 / sqrt(v1) = 3.16 sign(g),\n"
        "# while the corrected m1_hat / sqrt(v1_hat) = sign(g). Both moments are biased towards 0,\n"
        "# but the slow average v much more, so the uncorrected first steps are too LARGE.\n"
    ),
    mistakes=(
        Mistake(
            "only_m_biased",
            "m₁ = 0.1·g is indeed 10 times too small, but you forgot that v₁ = 0.001·g² is biased too, and it "
            "sits under a square root in the denominator: √v₁ is about 32 times too small, which wins.",
            "a",
        ),
        Mistake(
            "biases_cancel",
            "They would cancel only if 1 − β₁ = √(1 − β₂). With β₁ = 0.9 and β₂ = 0.999, (1 − β₁)/√(1 − β₂) = "
            "0.1/0.0316 ≈ 3.2, not 1.",
            "c",
        ),
        Mistake(
            "only_v_biased",
            "√v₁ is about 32 times too small, but m₁ = 0.1·g in the numerator is biased too (10 times too "
            "small): the ratio is 0.1/0.0316 ≈ 3.2, not 32.",
            "d",
        ),
    ),
)

# --- 07.adam_lr ---------------------------------------------------------------------------------


def adam_lr(X: Any, y: Any, n_steps: int, target: float) -> float:
    r"""Reference for ``07.adam_lr``: sweep η over half-decades, keep the one with the lowest loss after the budget.

    Each run is ``n_steps`` updates of :func:`gdcourse.optim.adam` from θ = 0 on
    :math:`J(\theta) = \tfrac12\,\mathrm{mean}((X\theta - y)^2)`, whose gradient is :math:`X^\top(X\theta - y)/n`.

    Parameters
    ----------
    X : array of shape (n, p)
        The features, one example per row (in very different units from case to case).
    y : array of shape (n,)
        The targets.
    n_steps : int
        The number of Adam updates of a run.
    target : float
        The loss the run must reach (the judge's test; the reference keeps the lowest loss instead).

    Returns
    -------
    float
        The learning rate :math:`\eta`.
    """
    xp = array_namespace(X)
    n = X.shape[0]
    best_lr, best_loss = 0.0, math.inf
    with np.errstate(over="ignore", invalid="ignore"):  # the runs that blow up overflow
        for lr in (10.0 ** np.arange(-4.0, 3.5, 0.5)).tolist():  # 1e-4 ... 1e3
            opt = optim.adam(lr)
            theta = xp.zeros_like(X[0, :])
            state = opt.init(theta)
            for _ in range(n_steps):
                theta, state = opt.step(theta, X.T @ (X @ theta - y) / n, state)
            loss = 0.5 * float(xp.mean((X @ theta - y) ** 2))
            if loss < best_loss:
                best_lr, best_loss = lr, loss
    return best_lr


def _adam_loss(X: np.ndarray, y: np.ndarray, lr: float, n_steps: int) -> float:
    """J(θ) after ``n_steps`` Adam updates with learning rate ``lr`` from θ = 0 (NumPy, float64)."""
    opt = optim.adam(lr)
    theta = np.zeros(X.shape[1])
    state = opt.init(theta)
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(n_steps):
            theta, state = opt.step(theta, X.T @ (X @ theta - y) / X.shape[0], state)
        return float(0.5 * np.mean((X @ theta - y) ** 2))


@dataclass(frozen=True)
class _AdamKey:
    """What the judge knows about a case of ``07.adam_lr``: the start and minimum of the loss, and the minimiser."""

    start_loss: float
    min_loss: float
    minimiser: tuple[float, ...]


def _adam_lr_cases(rng: np.random.Generator) -> list[Case]:
    def case(log_scale: float, label: str) -> Case:
        n, d = int(rng.integers(150, 251)), 3
        features = rng.normal(size=(n, d)) * rng.permutation([1.0, 3.0, 0.3])  # three features, three spreads
        weights = rng.uniform(1.0, 3.0, size=d) * rng.choice([-1.0, 1.0], size=d)
        y = features @ weights + 0.3 * rng.normal(size=n)
        scale = 10.0 ** (log_scale + rng.uniform(-0.3, 0.3))
        X = features / scale  # the features in other units: the weights to find are `scale` times larger
        w_star = np.linalg.lstsq(X, y, rcond=None)[0]
        start, low = 0.5 * float(np.mean(y**2)), 0.5 * float(np.mean((X @ w_star - y) ** 2))
        target = float(f"{low + 1e-3 * (start - low):.3g}")  # a thousandth of the way down from J(0) to J*
        key = _AdamKey(start, low, tuple(float(w) for w in w_star))
        return Case((asarray(X), asarray(y), int(rng.integers(90, 121)), target), label=label, key=key)

    return [
        case(-3.0, "large feature values: the weights to find are about 0.001"),
        case(0.0, "features of order 1: weights of about 1"),
        case(3.0, "small feature values: weights in the thousands"),
    ]


def _adam_lr_requirement(case: Case, value: Any) -> str | None:
    """``None`` when ``n_steps`` Adam updates with learning rate ``value`` reach the case's target loss."""
    X, y = to_numpy(case.args[0]), to_numpy(case.args[1])
    n_steps, target = case.args[2], case.args[3]
    key: _AdamKey = case.key
    lr, problem = learning_rate_answer(value)
    if problem is not None:
        return problem
    loss = _adam_loss(X, y, lr, n_steps)
    if loss <= target:
        return None
    shown = f"{loss:.3g}" if math.isfinite(loss) else "no longer finite"
    head = f"with η = {lr:.3g} the loss after {n_steps} steps is {shown}, above the target {target:.3g}"
    if not loss < key.start_loss:
        return head + (
            f", and even above its value {key.start_loss:.3g} at θ = 0: the run climbed or blew up; check the sign "
            "of the gradient, or try smaller learning rates"
        )
    far = max(abs(w) for w in key.minimiser)
    if lr * n_steps < 10 * far:  # below the good rates, lr·n_steps/far stays under 2 on these cases; above, over 100
        return head + (
            f": Adam's steps are about η long, so {n_steps} steps cover about {lr * n_steps:.3g}, too little to "
            f"travel to weights of about {far:.3g} and settle there; try larger learning rates"
        )
    return head + (
        ": the steps (about η each) are large enough to get there but too large to settle near the minimum "
        "within the budget; try smaller learning rates"
    )


def _largest_curvature(X: Any) -> float:
    x = to_numpy(X)
    return float(np.linalg.eigvalsh(x.T @ x / x.shape[0]).max())


ADAM_LR = Exercise(
    id="07.adam_lr",
    kind="function",
    title=(
        "adam_lr(X, y, n_steps, target): find by experiment a learning rate with which n_steps Adam updates "
        "(torch's defaults) from θ = 0 bring J(θ) = ½·mean((Xθ − y)²) to target or below"
    ),
    reference=adam_lr,
    make_cases=_adam_lr_cases,
    requirement=_adam_lr_requirement,
    hints=(
        "Run the experiment: for each learning rate of a sweep, take n_steps Adam updates from θ = 0 "
        "(optim.adam(lr), with the gradient X.T @ (X @ theta - y) / n) and compute the final loss. Keep the "
        "learning rate whose loss is lowest.",
        "Sweep several decades, e.g. 10.0 ** np.arange(-4, 3.5, 0.5): Adam's steps are about η long in the units "
        "of θ, so the right η depends on how far the weights must travel, and the cases differ by factors of 1000. "
        "Start from theta = xp.zeros_like(X[0, :]) so that θ is on X's device.",
        "for lr in (10.0 ** np.arange(-4, 3.5, 0.5)).tolist(): opt = optim.adam(lr); theta = xp.zeros_like(X[0, :]); "
        "state = opt.init(theta); repeat n_steps times theta, state = opt.step(theta, X.T @ (X @ theta - y) / n, "
        "state); loss = 0.5 * float(xp.mean((X @ theta - y) ** 2)); keep lr when the loss is the lowest so far.",
    ),
    solution=(
        "import gdcourse\n"
        "import numpy as np\n"
        "from gdcourse import optim\n\n"
        "xp = gdcourse.array_module()  # the active backend's array module, as in the notebook\n\n\n"
        "def adam_lr(X, y, n_steps, target):\n"
        "    n = X.shape[0]\n"
        "    best_lr, best_loss = None, float('inf')\n"
        "    with np.errstate(over='ignore', invalid='ignore'):  # the runs that blow up overflow: let them\n"
        "        for lr in (10.0 ** np.arange(-4.0, 3.5, 0.5)).tolist():  # 1e-4 ... 1e3, half-decades\n"
        "            opt = optim.adam(lr)\n"
        "            theta = xp.zeros_like(X[0, :])  # θ = 0, on X's device\n"
        "            state = opt.init(theta)\n"
        "            for _ in range(n_steps):  # the budget: n_steps Adam updates\n"
        "                theta, state = opt.step(theta, X.T @ (X @ theta - y) / n, state)\n"
        "            loss = 0.5 * float(xp.mean((X @ theta - y) ** 2))\n"
        "            if loss < best_loss:  # a run that blew up has a huge (or NaN) loss and loses\n"
        "                best_lr, best_loss = lr, loss\n"
        "    return best_lr\n"
    ),
    mistakes=(
        Mistake(
            "torch_default",
            "η = 10⁻³, torch's default, is not tuned: Adam's steps are about η long in the units of θ, so 100 steps "
            "travel about 0.1 — enough for weights of about 0.001, far too little for weights of about 1 or in the "
            "thousands. The learning rate must be found for each problem (a sweep or the range test).",
            lambda X, y, n_steps, target: 1e-3,
        ),
        Mistake(
            "gd_step",
            "η = 1/L is gradient descent's safe step, in units of θ² per unit of cost: it scales like the square of "
            "the weights (1/L grows 10⁴-fold when the features shrink 100-fold). Adam divides the gradient by its "
            "own RMS, so its step is about η in the units of θ and its η scales like the weights themselves; 1/L "
            "is far too small where the weights are small and far too large where they are large.",
            lambda X, y, n_steps, target: 1 / _largest_curvature(X),
        ),
        Mistake(
            "exponent",
            "Your value is the exponent of the learning rate, log₁₀ η, not η itself: a sweep over 10.0 ** k "
            "must return 10.0 ** k (where the weights are small, your value is even negative).",
            lambda X, y, n_steps, target: math.log10(adam_lr(X, y, n_steps, target)),
        ),
    ),
)


EXERCISES: tuple[Exercise, ...] = (RMSPROP_STEP, ADAM_STEP, FIRST_STEP, ADAM_LR)
