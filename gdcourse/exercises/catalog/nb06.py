r"""Exercises of notebook 06 (momentum and Nesterov).

Conventions decided here:

- ``momentum_step`` uses **one** convention, stated in its title: Polyak's heavy ball as written by
  ``torch.optim.SGD``, :math:`v \leftarrow \beta v + \nabla J`, :math:`\theta \leftarrow \theta - \eta v`
  (``v`` is a running sum of gradients, without η).  The EWMA convention (``(1-β)`` on the gradient)
  and Sutskever's (``v ← βv − η∇J``, ``θ ← θ + v``) are correct *methods* but answer a different
  question; they are known mistakes whose diagnosis explains the rescaling, not "wrong".
- ``nesterov_step`` uses Sutskever's look-ahead form (``gdcourse.optim.nesterov``):
  :math:`v \leftarrow \beta v - \eta\nabla J(\theta + \beta v)`, :math:`\theta \leftarrow \theta + v`.
  Its ``grad_fn`` is a :class:`~gdcourse.exercises.catalog.nb01.QuadraticGradient` (plain data a
  grader can send).
- Both return the pair ``(theta, v)`` in that order (a tuple or a list); arrays of any shape and
  backend, compared with relative tolerance 1e-6.
- ``tune_momentum`` is an experiment: it returns a pair ``(lr, beta)`` (a tuple, a list or an array of
  two numbers, ``0 <= beta < 1``), and passes when ``n_steps`` heavy-ball steps in ``momentum_step``'s
  convention from ``theta0`` (``v = 0``) bring J(θ) = ½(θ − c)ᵀA(θ − c) to ``target`` or below.  Each
  target is the geometric mean of the start cost and the cost Polyak's parameters reach in the budget.
  The start gives every eigen-direction a sizeable share of the cost (½λᵢeᵢ² of the same order), so
  plain gradient descent at its best fixed η misses the target by a factor of about 100 or more (the key
  holds that best cost and the curvatures, for the message), while a scan over a few β and a log grid
  of η finds it.  Learning rates and β's that are not numbers, η ≤ 0 and β outside [0, 1) are refused
  with a reason; a run that blows up simply fails, and the message names the cause from the iteration's
  roots along each eigen-direction (diverging, ringing with √β, or crawling along the flattest one).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from gdcourse.backend import array_namespace, asarray, to_numpy
from gdcourse.exercises.catalog import XP_PREAMBLE
from gdcourse.exercises.catalog.nb01 import QuadraticGradient
from gdcourse.exercises.core import Case, Exercise, Mistake, real_scalar

__all__ = ["EXERCISES"]


def _hyper(rng: np.random.Generator) -> tuple[float, float]:
    """A learning rate and a momentum that tell every planted mistake apart (η ≠ 1, 0 < β < 1, β ≠ η)."""
    return round(float(rng.uniform(0.05, 0.45)), 3), round(float(rng.uniform(0.55, 0.95)), 3)


# --- 06.momentum_step ---------------------------------------------------------------------------


def momentum_step(theta: Any, v: Any, grad: Any, lr: float, beta: float) -> tuple[Any, Any]:
    r"""Reference for ``06.momentum_step``: one heavy-ball step in ``torch.optim.SGD``'s convention.

    .. math:: v \leftarrow \beta v + \nabla J(\theta), \qquad \theta \leftarrow \theta - \eta v

    (the parameters move with the *new* velocity).

    Parameters
    ----------
    theta : array
        The parameters :math:`\theta` before the step (any shape, any backend).
    v : array
        The velocity :math:`v` before the step, a decaying sum of past gradients without η (zeros at the
        first step); the same shape as ``theta``.
    grad : array
        The gradient :math:`\nabla J(\theta)` at ``theta``; the same shape as ``theta``.
    lr : float
        The learning rate :math:`\eta > 0`.
    beta : float
        The momentum :math:`\beta`, ``0 <= beta < 1``.

    Returns
    -------
    tuple of (array, array)
        The new parameters and the new velocity, in that order.
    """
    v = beta * v + grad
    return theta - lr * v, v


def _momentum_cases(rng: np.random.Generator) -> list[Case]:
    def case(shape: tuple[int, ...], first: bool, label: str) -> Case:
        theta, grad = rng.normal(size=shape), rng.normal(size=shape)
        v = np.zeros(shape) if first else rng.normal(size=shape)
        lr, beta = _hyper(rng)
        return Case((asarray(theta), asarray(v), asarray(grad), lr, beta), label=label)

    return [
        case((3,), False, "3 parameters, a velocity already built up"),
        case((2, 2), False, "a 2×2 matrix of parameters"),
        case((4,), True, "the first step: v = 0"),
    ]


def _ewma(theta, v, grad, lr, beta):
    v = beta * v + (1 - beta) * grad
    return theta - lr * v, v


def _old_velocity(theta, v, grad, lr, beta):
    return theta - lr * v, beta * v + grad


def _ascent(theta, v, grad, lr, beta):
    v = beta * v + grad
    return theta + lr * v, v


def _no_beta(theta, v, grad, lr, beta):
    v = v + grad
    return theta - lr * v, v


def _beta_on_grad(theta, v, grad, lr, beta):
    v = v + beta * grad
    return theta - lr * v, v


def _sutskever(theta, v, grad, lr, beta):
    v = beta * v - lr * grad
    return theta + v, v


def _step_form_positive(theta, v, grad, lr, beta):
    v = beta * v + lr * grad
    return theta - v, v


def _swapped(theta, v, grad, lr, beta):
    theta, v = momentum_step(theta, v, grad, lr, beta)
    return v, theta


MOMENTUM_STEP = Exercise(
    id="06.momentum_step",
    kind="function",
    title=(
        "momentum_step(theta, v, grad, lr, beta): one heavy-ball step in torch's convention, "
        "v ← βv + ∇J then θ ← θ − ηv; return (theta, v)"
    ),
    reference=momentum_step,
    make_cases=_momentum_cases,
    hints=(
        "Two lines, in order: first the new velocity from the old one and the gradient, then θ with the NEW velocity.",
        "The velocity here is a decaying sum of gradients, without η: v_new = beta * v + grad.",
        "v = beta * v + grad; then return theta - lr * v, v",
    ),
    solution=(
        "def momentum_step(theta, v, grad, lr, beta):\n"
        "    v = beta * v + grad\n"
        "    return theta - lr * v, v\n"
    ),
    mistakes=(
        Mistake(
            "ewma",
            "You used the EWMA convention v ← βv + (1−β)∇J. That is a correct way to write momentum, but not the "
            "one asked for: it scales the velocity by (1−β), so the same method needs η/(1−β) in place of η. "
            "Here v is the plain decaying sum, v ← βv + ∇J (torch.optim.SGD's convention).",
            _ewma,
        ),
        Mistake(
            "old_velocity",
            "θ moved with the OLD velocity: compute v ← βv + ∇J first, then θ ← θ − η·(new v). With the old v "
            "the gradient you just computed has no effect until the next step.",
            _old_velocity,
        ),
        Mistake(
            "ascent",
            "Sign flipped: θ + ηv climbs. The velocity accumulates gradients (uphill directions), so the step "
            "is θ − ηv.",
            _ascent,
        ),
        Mistake(
            "no_beta",
            "β is missing: v ← v + ∇J never forgets, so old gradients keep pushing forever. Momentum decays the "
            "old velocity: v ← βv + ∇J.",
            _no_beta,
        ),
        Mistake(
            "beta_on_grad",
            "β multiplies the gradient instead of the old velocity. The decay applies to the memory: "
            "v ← βv + ∇J.",
            _beta_on_grad,
        ),
        Mistake(
            "sutskever",
            "You wrote Sutskever's convention, v ← βv − η∇J, θ ← θ + v, where v is a step (η inside, pointing "
            "downhill). It is the same method, but here v is the running sum of gradients without η: "
            "v ← βv + ∇J, θ ← θ − ηv, and the v you return must be that sum.",
            _sutskever,
        ),
        # Notebook 06's box on momentum's forms ("their velocities differ only by constant factors ... ask which v
        # is meant"): the step form is also written with v pointing uphill, v ← βv + η∇J, θ ← θ − v, which is
        # the Sutskever form above with the opposite sign of v.
        Mistake(
            "step_form_uphill",
            "You folded η into the velocity, v ← βv + η∇J, θ ← θ − v: the step form of momentum (Sutskever's, with "
            "v pointing uphill). The same method, but here v is the running sum of gradients without η: "
            "v ← βv + ∇J, θ ← θ − ηv, and the v you return must be that sum.",
            _step_form_positive,
        ),
        Mistake(
            "swapped",
            "Right numbers, wrong order: return (theta, v), the parameters first.",
            _swapped,
        ),
    ),
)


# --- 06.nesterov_step ---------------------------------------------------------------------------


def nesterov_step(theta: Any, v: Any, grad_fn: Any, lr: float, beta: float) -> tuple[Any, Any]:
    r"""Reference for ``06.nesterov_step``: one Nesterov step in Sutskever et al.'s look-ahead form.

    .. math:: v \leftarrow \beta v - \eta\,\nabla J(\theta + \beta v), \qquad \theta \leftarrow \theta + v

    (the look-ahead point :math:`\theta + \beta v` is only where the gradient is evaluated).

    Parameters
    ----------
    theta : array
        The parameters :math:`\theta` before the step.
    v : array
        The velocity :math:`v` before the step, a step that includes η (zeros at the first step); the same
        shape as ``theta``.
    grad_fn : callable
        ``grad_fn(x)`` returns :math:`\nabla J(x)`; the grader passes a
        :class:`~gdcourse.exercises.catalog.nb01.QuadraticGradient`.
    lr : float
        The learning rate :math:`\eta > 0`.
    beta : float
        The momentum :math:`\beta`, ``0 <= beta < 1``.

    Returns
    -------
    tuple of (array, array)
        The new parameters and the new velocity, in that order.
    """
    v = beta * v - lr * grad_fn(theta + beta * v)
    return theta + v, v


def _bowl(rng: np.random.Generator, n: int) -> QuadraticGradient:
    q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    eig = np.sort(rng.uniform(0.5, 3.0, size=n))
    a = (q * eig) @ q.T
    return QuadraticGradient(asarray((a + a.T) / 2), asarray(rng.uniform(-2.0, 2.0, size=n)))


def _nesterov_cases(rng: np.random.Generator) -> list[Case]:
    def case(n: int, first: bool, label: str) -> Case:
        grad_fn = _bowl(rng, n)
        theta = rng.normal(size=n)
        v = np.zeros(n) if first else rng.normal(size=n)
        lr, beta = _hyper(rng)
        return Case((asarray(theta), asarray(v), grad_fn, lr, beta), label=label)

    return [
        case(2, False, "a 2-D bowl, moving"),
        case(3, False, "a 3-D bowl, moving"),
        case(2, True, "the first step: v = 0"),
    ]


def _gradient_at_theta(theta, v, grad_fn, lr, beta):
    v = beta * v - lr * grad_fn(theta)
    return theta + v, v


def _lookahead_without_beta(theta, v, grad_fn, lr, beta):
    v = beta * v - lr * grad_fn(theta + v)
    return theta + v, v


def _nesterov_ascent(theta, v, grad_fn, lr, beta):
    v = beta * v + lr * grad_fn(theta + beta * v)
    return theta + v, v


def _moves_to_lookahead(theta, v, grad_fn, lr, beta):
    ahead = theta + beta * v
    v = beta * v - lr * grad_fn(ahead)
    return ahead + v, v


def _returns_next_lookahead(theta, v, grad_fn, lr, beta):
    v = beta * v - lr * grad_fn(theta + beta * v)
    return theta + v + beta * v, v


def _nesterov_old_velocity(theta, v, grad_fn, lr, beta):
    return theta + v, beta * v - lr * grad_fn(theta + beta * v)


NESTEROV_STEP = Exercise(
    id="06.nesterov_step",
    kind="function",
    title=(
        "nesterov_step(theta, v, grad_fn, lr, beta): one Nesterov step in the look-ahead form, "
        "v ← βv − η∇J(θ + βv) then θ ← θ + v; return (theta, v)"
    ),
    reference=nesterov_step,
    make_cases=_nesterov_cases,
    hints=(
        "Where would momentum alone carry θ? That look-ahead point, θ + βv, is where you evaluate the gradient.",
        "The look-ahead point is only an evaluation point: θ itself moves once, by the new velocity.",
        "v = beta * v - lr * grad_fn(theta + beta * v); then return theta + v, v",
    ),
    solution=(
        "def nesterov_step(theta, v, grad_fn, lr, beta):\n"
        "    v = beta * v - lr * grad_fn(theta + beta * v)\n"
        "    return theta + v, v\n"
    ),
    mistakes=(
        Mistake(
            "gradient_at_theta",
            "You evaluated the gradient at θ: that is classical (heavy-ball) momentum. Nesterov evaluates it at "
            "the look-ahead point θ + βv, where the momentum is about to carry θ.",
            _gradient_at_theta,
        ),
        Mistake(
            "lookahead_without_beta",
            "The look-ahead point is θ + βv (where the decayed momentum alone would carry θ), not θ + v.",
            _lookahead_without_beta,
        ),
        Mistake(
            "ascent",
            "Sign flipped: v ← βv + η∇J pushes uphill. The velocity must take −η∇J: v ← βv − η∇J(θ + βv).",
            _nesterov_ascent,
        ),
        Mistake(
            "moves_to_lookahead",
            "You moved θ to the look-ahead point and then added the new velocity, which counts the momentum "
            "twice (this is the 'overshoot, then correct' story taken literally). The look-ahead point is only "
            "where the gradient is evaluated; θ moves once: θ ← θ + v.",
            _moves_to_lookahead,
        ),
        Mistake(
            "returns_next_lookahead",
            "You returned θ + v + βv, the NEXT look-ahead point (what torch's sgd(nesterov=True) stores as its "
            "parameters). In the look-ahead form asked for here θ moves by v alone: return theta + v, v.",
            _returns_next_lookahead,
        ),
        Mistake(
            "old_velocity",
            "θ moved with the OLD velocity: compute the new v first, then θ ← θ + (new v).",
            _nesterov_old_velocity,
        ),
    ),
)


# --- 06.optimal_beta ----------------------------------------------------------------------------

OPTIMAL_BETA = Exercise(
    id="06.optimal_beta",
    kind="value",
    title="the best heavy-ball momentum β (Polyak's optimum) for a quadratic with condition number κ = 49",
    reference=lambda: ((7 - 1) / (7 + 1)) ** 2,
    digits=3,
    hints=(
        "The best heavy ball contracts the error by (√κ − 1)/(√κ + 1) per step, and with complex roots the "
        "contraction is √β.",
        "So β is the square of that rate. What is √49?",
        "β* = ((√κ − 1)/(√κ + 1))² = (6/8)².",
    ),
    solution="answer = ((7 - 1) / (7 + 1)) ** 2  # ((√κ-1)/(√κ+1))² with √49 = 7: 0.5625\n",
    mistakes=(
        Mistake(
            "rate_not_beta",
            "0.75 = (√κ−1)/(√κ+1) is the rate heavy ball reaches, √β (and the β of Nesterov's textbook "
            "parameters); Polyak's heavy-ball momentum is its square.",
            lambda: (7 - 1) / (7 + 1),
        ),
        Mistake(
            "kappa_not_sqrt",
            "You used κ where √κ belongs: ((κ−1)/(κ+1))² is built from gradient descent's rate. Momentum's gain "
            "is exactly that κ becomes √κ.",
            lambda: (48 / 50) ** 2,
        ),
        Mistake(
            "gd_rate",
            "0.96 = (κ−1)/(κ+1) is the rate of plain gradient descent with its best step, not a momentum.",
            lambda: 48 / 50,
        ),
        Mistake(
            "nesterov_rate",
            "1 − 1/√κ ≈ 0.857 is the rate of Nesterov's method with its textbook parameters, not the best "
            "heavy-ball momentum.",
            lambda: 1 - 1 / 7,
        ),
        Mistake(
            "default",
            "0.9 is the popular default, not the optimum for κ = 49: too much momentum here, the error would ring "
            "and shrink only like √0.9 ≈ 0.95 per step.",
            lambda: 0.9,
        ),
        # The hints say the contraction is √β, so β = rate²; inverting that the wrong way takes the root.
        Mistake(
            "root_not_square",
            "≈ 0.866 is √0.75, the square root of the rate. The rate is √β (the modulus of the complex roots), "
            "so β is the rate *squared*: ((√κ−1)/(√κ+1))².",
            lambda: ((7 - 1) / (7 + 1)) ** 0.5,
        ),
        # Notebook 06 §5 tabulates three rates; β* is the square of the heavy ball's row, not of Nesterov's.
        Mistake(
            "nesterov_rate_squared",
            "≈ 0.735 = (1 − 1/√κ)² squares Nesterov's rate. β* is the square of the *heavy ball's* rate "
            "(√κ−1)/(√κ+1), the one the complex roots of Polyak's iteration reach.",
            lambda: (1 - 1 / 7) ** 2,
        ),
    ),
)


# --- 06.ringing ---------------------------------------------------------------------------------

RINGING = Exercise(
    id="06.ringing",
    kind="choice",
    title=(
        "Heavy ball with η = 0.5 and β = 0.97 on the κ = 100 bowl (L = 1, μ = 0.01): ‖θ_t − θ*‖ rises and falls "
        "in waves whose envelope shrinks by about 0.985 per step. Which change makes it converge fastest?"
    ),
    reference="b",
    choices={
        "a": "more momentum, β = 0.99 (η stays 0.5): more momentum means more speed",
        "b": "less momentum, β ≈ 0.86 (η stays 0.5): just enough friction that the flattest direction stops "
        "oscillating",
        "c": "Polyak's optimum β* = ((√κ−1)/(√κ+1))² ≈ 0.67 (η stays 0.5): the best momentum for κ = 100",
        "d": "a larger learning rate η (β stays 0.97): bigger steps finish sooner",
        "e": "nothing will: the waves show that the run is diverging",
    },
    hints=(
        "Look at the envelope: 0.985 is √0.97. Which hyperparameter sets it, and which one does not?",
        "Along an eigen-direction with curvature λ the error obeys z² − (1 + β − ηλ)z + β = 0. The roots are "
        "complex, with modulus √β whatever η is, when β > (1 − √(ηλ))²; below that they are real, and as β "
        "falls the larger one climbs back towards 1.",
        "The slowest direction is the flattest one, λ = μ = 0.01. At η = 0.5 its roots turn complex at "
        "β = (1 − √(ημ))² ≈ 0.864 (critical damping): there every root has modulus √β ≈ 0.93, the best rate "
        "this η allows. Polyak's β* ≈ 0.67 belongs with Polyak's η* ≈ 3.3, not with η = 0.5.",
    ),
    solution=(
        "answer = 'b'  # the envelope is √β; at η = 0.5 the best β is (1 − √(ημ))² ≈ 0.864: rate ≈ 0.93\n"
        "# (β = 0.67 gives 0.984 at this η, β = 0.99 gives 0.995, a larger η leaves √0.97 = 0.985)\n"
    ),
    mistakes=(
        Mistake(
            "more_momentum",
            "With complex roots the error shrinks like √β per step: β = 0.99 gives 0.995, slower and "
            "ringing longer. More momentum is less friction, not more speed.",
            "a",
        ),
        Mistake(
            "polyak_beta_at_another_lr",
            "Polyak's β* ≈ 0.67 is optimal only together with Polyak's learning rate η* = 4/(√L + √μ)² ≈ 3.3. "
            "At η = 0.5 it damps the flattest direction too much: its roots are real and the larger one is "
            "about 0.984, hardly better than the 0.985 of the ringing run. The best β depends on η.",
            "c",
        ),
        Mistake(
            "larger_lr",
            "While the roots are complex the envelope is √β = 0.985, independent of η: a larger η changes the "
            "frequency of the waves, not how fast they die (and past 2(1+β)/L ≈ 3.9 it diverges).",
            "d",
        ),
        Mistake(
            "diverging",
            "The envelope shrinks (0.985 < 1): the run converges, slowly. A diverging run grows.",
            "e",
        ),
    ),
)

# --- 06.tune_momentum ---------------------------------------------------------------------------


def tune_momentum(A: Any, c: Any, theta0: Any, n_steps: int, target: float) -> tuple[float, float]:
    r"""Reference for ``06.tune_momentum``: scan a few β and a log grid of η, keep the pair with the lowest cost.

    Each run is ``n_steps`` heavy-ball steps :math:`v \leftarrow \beta v + A(\theta - c)`,
    :math:`\theta \leftarrow \theta - \eta v` from ``theta0`` with :math:`v = 0`, scored by
    :math:`J(\theta) = \tfrac12(\theta - c)^\top A(\theta - c)`; runs that blow up only lose the comparison.

    Parameters
    ----------
    A : array of shape (p, p)
        The symmetric positive definite Hessian of the valley.
    c : array of shape (p,)
        The minimum :math:`\theta^*` of the valley.
    theta0 : array of shape (p,)
        The start of every run.
    n_steps : int
        The budget: the number of heavy-ball steps of each run.
    target : float
        The cost the returned pair must reach; the scan ignores it and returns its best pair.

    Returns
    -------
    tuple of (float, float)
        The pair ``(lr, beta)`` whose run ended with the lowest cost.
    """
    xp = array_namespace(theta0)
    best, best_cost = (0.0, 0.0), math.inf
    with np.errstate(over="ignore", invalid="ignore"):  # the runs that blow up overflow
        for beta in (0.5, 0.7, 0.8, 0.9, 0.95):
            for lr in np.geomspace(0.1, 10.0, 16).tolist():
                theta, v = theta0, xp.zeros_like(theta0)
                for _ in range(n_steps):
                    v = beta * v + A @ (theta - c)
                    theta = theta - lr * v
                cost = 0.5 * float((theta - c) @ (A @ (theta - c)))
                if cost < best_cost:
                    best, best_cost = (lr, beta), cost
    return best


def _heavy_ball_cost(a: np.ndarray, c: np.ndarray, theta0: np.ndarray, lr: float, beta: float, n_steps: int) -> float:
    """J(θ) after ``n_steps`` heavy-ball steps from ``theta0`` (NumPy, float64); inf or NaN when the run blew up."""
    theta, v = theta0.copy(), np.zeros_like(theta0)
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(n_steps):
            v = beta * v + a @ (theta - c)
            theta = theta - lr * v
        d = theta - c
        return float(0.5 * d @ (a @ d))


def _worst_direction(eigenvalues: tuple[float, ...], lr: float, beta: float) -> tuple[float, float, bool]:
    """The heavy ball's slowest factor per step, the curvature λ it belongs to, and whether its roots are complex.

    Along an eigenvector with curvature λ the error follows z² − (1 + β − ηλ)z + β = 0; the factor is the
    larger modulus of the two roots.
    """
    worst = (-1.0, 0.0, False)
    for lam in eigenvalues:
        trace = 1 + beta - lr * lam
        disc = trace * trace - 4 * beta
        modulus = math.sqrt(beta) if disc < 0 else (abs(trace) + math.sqrt(disc)) / 2
        if modulus > worst[0]:
            worst = (modulus, lam, disc < 0)
    return worst


@dataclass(frozen=True)
class _MomentumKey:
    """What the judge knows about a case of ``06.tune_momentum``: the curvatures, plain GD's best cost."""

    eigenvalues: tuple[float, ...]
    gd_best: float


def _tune_momentum_cases(rng: np.random.Generator) -> list[Case]:
    def case(n: int, L: float, kappa: float, n_steps: int, label: str) -> Case:
        mu = L / kappa
        q, _ = np.linalg.qr(rng.normal(size=(n, n)))
        eig = np.sort(rng.uniform(mu, L, size=n))
        eig[0], eig[-1] = mu, L
        a = (q * eig) @ q.T
        a = (a + a.T) / 2
        c = rng.uniform(-2.0, 2.0, size=n)
        # every direction holds a sizeable share of the start cost ½λᵢeᵢ², so the flat one cannot be neglected
        theta0 = c + q @ (rng.choice([-1.0, 1.0], size=n) * rng.uniform(1.0, 2.0, size=n) / np.sqrt(eig))
        lr_star = 4 / (math.sqrt(L) + math.sqrt(mu)) ** 2  # Polyak's parameters
        beta_star = ((math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)) ** 2
        start = _heavy_ball_cost(a, c, theta0, 0.0, 0.0, 0)
        polyak = _heavy_ball_cost(a, c, theta0, lr_star, beta_star, n_steps)
        target = float(f"{math.sqrt(start * polyak):.2g}")  # halfway on a log scale, rounded for reading
        # plain GD multiplies the error along eigenvector i by (1 − ηλᵢ) per step: its best over a fine grid of η
        lrs = np.linspace(0.0, 2.0, 401)[1:, None] / L
        shares = (q.T @ (theta0 - c)) ** 2
        gd_best = float(np.min(0.5 * np.sum(eig * shares * (1 - lrs * eig) ** (2 * n_steps), axis=1)))
        key = _MomentumKey(tuple(float(e) for e in eig), gd_best)
        return Case((asarray(a), asarray(c), asarray(theta0), n_steps, target), label=label, key=key)

    return [
        case(2, 1.0, float(rng.uniform(80, 120)), int(rng.integers(70, 91)), "a 2-D valley, κ about 100"),
        case(
            5,
            float(rng.uniform(1.5, 2.0)),
            float(rng.uniform(100, 150)),
            int(rng.integers(90, 111)),
            "a 5-D valley with L between 1.5 and 2",
        ),
        case(
            3,
            float(rng.uniform(0.5, 0.8)),
            float(rng.uniform(60, 90)),
            int(rng.integers(60, 81)),
            "a 3-D valley with L below 1 and a short budget",
        ),
    ]


def _pair(value: Any) -> list | str:
    """The two items of a tuple, list or array ``(lr, beta)``, or why ``value`` is not such a pair."""
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        try:
            host = np.asarray(to_numpy(value))
        except Exception:  # noqa: BLE001 - a fake array is not a pair
            return f"expected a pair (lr, beta), got {type(value).__name__}"
        if host.shape == ():
            return "expected a pair (lr, beta), got a single number"
        if host.shape != (2,):
            return f"expected a pair (lr, beta), got an array of shape {host.shape}"
        return list(host)
    if not isinstance(value, tuple | list):
        return f"expected a pair (lr, beta), got {type(value).__name__}"
    if len(value) != 2:
        return f"expected a pair (lr, beta), got {len(value)} items"
    return list(value)


def _tune_momentum_requirement(case: Case, value: Any) -> str | None:
    """``None`` when ``n_steps`` heavy-ball steps with the returned ``(lr, beta)`` reach the case's target."""
    a, c, theta0 = (to_numpy(x) for x in case.args[:3])
    n_steps, target = case.args[3], case.args[4]
    key: _MomentumKey = case.key
    items = _pair(value)
    if isinstance(items, str):
        return items
    lr, beta = real_scalar(items[0]), real_scalar(items[1])
    if lr is None or beta is None:
        kinds = ", ".join(type(v).__name__ for v in items)
        return f"expected two numbers (lr, beta), got ({kinds})"
    if not (math.isfinite(lr) and lr > 0):
        return f"the learning rate must be a positive, finite number, got η = {lr!r}"
    if not 0 <= beta < 1:
        return f"the momentum must satisfy 0 ≤ β < 1, got β = {beta!r} (is the pair in the order (lr, beta)?)"
    cost = _heavy_ball_cost(a, c, theta0, lr, beta, n_steps)
    if cost <= target:
        return None
    shown = f"{cost:.3g}" if math.isfinite(cost) else "no longer finite"
    head = f"with η = {lr:.4g}, β = {beta:.4g} the cost after {n_steps} steps is {shown}, above the target {target:.3g}"
    factor, lam, ringing = _worst_direction(key.eigenvalues, lr, beta)
    if not math.isfinite(cost) or factor > 1:  # not the cost against the start: a ringing run may be above it
        limit = 2 * (1 + beta) / max(key.eigenvalues)
        return head + f": the run diverges, η is above the heavy ball's limit 2(1 + β)/L = {limit:.3g}"
    if beta == 0:
        return head + (
            f": β = 0 is plain gradient descent, and even at its best fixed η it reaches only {key.gd_best:.2g} "
            "in this budget; add momentum"
        )
    if ringing:
        return head + (
            f": the error rings and shrinks only by √β = {factor:.3f} per step; less momentum "
            "(with an η that suits it) damps it faster"
        )
    if lam == min(key.eigenvalues):
        return head + (
            f": along the flattest direction the error shrinks only by {factor:.4f} per step; "
            "try a larger η or more momentum"
        )
    return head + f": along the steepest direction the error shrinks only by {factor:.4f} per step; try a smaller η"


def _curvatures(A: Any) -> tuple[float, float]:
    eig = np.linalg.eigvalsh(to_numpy(A))
    return float(eig.max()), float(eig.min())


def _polyak(A: Any) -> tuple[float, float]:
    """Polyak's best heavy-ball parameters η* = 4/(√L + √μ)², β* = ((√L − √μ)/(√L + √μ))² for the bowl A."""
    root_L, root_mu = (math.sqrt(v) for v in _curvatures(A))
    return 4 / (root_L + root_mu) ** 2, ((root_L - root_mu) / (root_L + root_mu)) ** 2


def _best_gd(A: Any, c: Any, theta0: Any, n_steps: int, target: float) -> tuple[float, float]:
    L, mu = _curvatures(A)
    return 2 / (L + mu), 0.0


def _ewma_lr(A: Any, c: Any, theta0: Any, n_steps: int, target: float) -> tuple[float, float]:
    lr, beta = _polyak(A)
    return lr / (1 - beta), beta


def _gd_lr_with_polyak_beta(A: Any, c: Any, theta0: Any, n_steps: int, target: float) -> tuple[float, float]:
    L, _ = _curvatures(A)
    return 1 / L, _polyak(A)[1]


def _kappa_not_sqrt(A: Any, c: Any, theta0: Any, n_steps: int, target: float) -> tuple[float, float]:
    L, mu = _curvatures(A)
    return _polyak(A)[0], ((L - mu) / (L + mu)) ** 2


def _too_much_momentum(A: Any, c: Any, theta0: Any, n_steps: int, target: float) -> tuple[float, float]:
    return _polyak(A)[0], 0.99


def _swapped_pair(A: Any, c: Any, theta0: Any, n_steps: int, target: float) -> tuple[float, float]:
    lr, beta = _polyak(A)
    return beta, lr


TUNE_MOMENTUM = Exercise(
    id="06.tune_momentum",
    kind="function",
    title=(
        "tune_momentum(A, c, theta0, n_steps, target): find by experiment a pair (lr, beta) with which n_steps "
        "heavy-ball steps on J(θ) = ½(θ − c)ᵀA(θ − c) from theta0 bring the cost to target or below, a target "
        "plain gradient descent cannot reach in that budget"
    ),
    reference=tune_momentum,
    make_cases=_tune_momentum_cases,
    requirement=_tune_momentum_requirement,
    hints=(
        "Run the experiment: for each pair (η, β) on a grid, take n_steps heavy-ball steps from theta0 with "
        "v = 0 (your momentum_step, with the gradient A @ (theta - c)) and compute the final cost "
        "½(θ − c)ᵀA(θ − c). Keep the pair whose cost is lowest.",
        "A few momenta are enough, β in (0.5, 0.7, 0.8, 0.9, 0.95), with η on a log grid over two decades, "
        "np.geomspace(0.1, 10, 16): with momentum, good learning rates go well beyond gradient descent's 2/L. "
        "Runs that blow up simply lose the comparison.",
        "for beta in (...): for lr in np.geomspace(0.01, 10, 31).tolist(): theta, v = theta0, 0 * theta0; repeat "
        "n_steps times v = beta * v + A @ (theta - c); theta = theta - lr * v; then cost = 0.5 * float((theta - c) "
        "@ A @ (theta - c)); keep (lr, beta) when the cost is the lowest so far. Return that pair.",
    ),
    solution=(
        XP_PREAMBLE + "import numpy as np\n\n\n"
        "def tune_momentum(A, c, theta0, n_steps, target):\n"
        "    best, best_cost = None, float('inf')\n"
        "    with np.errstate(over='ignore', invalid='ignore'):  # the runs that blow up overflow: let them\n"
        "        for beta in (0.5, 0.7, 0.8, 0.9, 0.95):\n"
        "            for lr in np.geomspace(0.1, 10.0, 16).tolist():  # two decades, as Python floats\n"
        "                theta, v = theta0, xp.zeros_like(theta0)\n"
        "                for _ in range(n_steps):  # the budget: n_steps heavy-ball steps\n"
        "                    v = beta * v + A @ (theta - c)  # the heavy ball: v ← βv + ∇J(θ)\n"
        "                    theta = theta - lr * v\n"
        "                cost = 0.5 * float((theta - c) @ (A @ (theta - c)))\n"
        "                if cost < best_cost:  # a run that blew up has a huge (or NaN) cost and loses\n"
        "                    best, best_cost = (lr, beta), cost\n"
        "    return best\n"
    ),
    mistakes=(
        Mistake(
            "no_momentum",
            "β = 0 is plain gradient descent, even with its best fixed step 2/(L + μ): the error shrinks only by "
            "(κ − 1)/(κ + 1) per step, far too slowly for this budget. That is the point of the exercise: momentum "
            "(β > 0) makes the rate (√κ − 1)/(√κ + 1).",
            _best_gd,
        ),
        Mistake(
            "ewma_lr",
            "Your η is Polyak's η*/(1 − β*): the learning rate of the averaging convention v ← βv + (1 − β)∇J. Here "
            "momentum is run as in momentum_step, v ← βv + ∇J, whose velocity is 1/(1 − β) times larger, so your "
            "steps are too large and the run blows up. Hyperparameters do not transfer between conventions: "
            "multiply η by (1 − β).",
            _ewma_lr,
        ),
        Mistake(
            "gd_lr_with_polyak_beta",
            "Polyak's β* with gradient descent's safe step η = 1/L: η and β must be tuned together. With β* the "
            "best step is η* = 4/(√L + √μ)², far beyond gradient descent's limit 2/L (momentum raises the limit "
            "to 2(1 + β)/L); with η = 1/L the flattest direction still crawls.",
            _gd_lr_with_polyak_beta,
        ),
        Mistake(
            "kappa_not_sqrt",
            "β = ((κ − 1)/(κ + 1))² uses κ where √κ belongs: that much momentum makes the error ring, shrinking "
            "only by √β = (κ − 1)/(κ + 1) per step, no faster than gradient descent. Polyak's β* is "
            "((√κ − 1)/(√κ + 1))².",
            _kappa_not_sqrt,
        ),
        Mistake(
            "too_much_momentum",
            "β = 0.99 is too much momentum for this budget: the ball rings, and the error shrinks only by "
            "√0.99 ≈ 0.995 per step. More momentum is less friction, not more speed; for these valleys Polyak's "
            "β* = ((√κ − 1)/(√κ + 1))² is about 0.6 to 0.7.",
            _too_much_momentum,
        ),
        Mistake(
            "swapped_pair",
            "The pair is in the wrong order: return (lr, beta), the learning rate first. Your first number "
            "is a momentum below 1 and your second a learning rate above 1.",
            _swapped_pair,
        ),
    ),
)


EXERCISES: tuple[Exercise, ...] = (MOMENTUM_STEP, NESTEROV_STEP, OPTIMAL_BETA, RINGING, TUNE_MOMENTUM)
