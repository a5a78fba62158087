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
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gdcourse.backend import asarray
from gdcourse.exercises.catalog.nb01 import QuadraticGradient
from gdcourse.exercises.core import Case, Exercise, Mistake

__all__ = ["EXERCISES"]


def _hyper(rng: np.random.Generator) -> tuple[float, float]:
    """A learning rate and a momentum that tell every planted mistake apart (η ≠ 1, 0 < β < 1, β ≠ η)."""
    return round(float(rng.uniform(0.05, 0.45)), 3), round(float(rng.uniform(0.55, 0.95)), 3)


# --- 06.momentum_step ---------------------------------------------------------------------------


def momentum_step(theta: Any, v: Any, grad: Any, lr: float, beta: float) -> tuple[Any, Any]:
    """Reference for ``06.momentum_step``: v ← βv + ∇J, θ ← θ − ηv; returns (θ, v)."""
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
    """Reference for ``06.nesterov_step``: v ← βv − η∇J(θ + βv), θ ← θ + v; returns (θ, v)."""
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
        "Heavy ball with β = 0.97 on the κ = 100 bowl: ‖θ_t − θ*‖ rises and falls in waves whose envelope "
        "shrinks by about 0.985 per step. What makes it converge faster?"
    ),
    reference="b",
    choices={
        "a": "more momentum, β = 0.99: more momentum means more speed",
        "b": "less momentum, β near Polyak's optimum ((√κ−1)/(√κ+1))² ≈ 0.67: the waves are underdamped oscillations",
        "c": "a larger learning rate η: bigger steps finish sooner",
        "d": "nothing will: the waves show that the run is diverging",
    },
    hints=(
        "Look at the envelope: 0.985 is √0.97. Which hyperparameter sets it?",
        "When the characteristic roots z² − (1 + β − ηλ)z + β are complex, their modulus is √β, "
        "whatever η is.",
        "Less β means more friction: the oscillation is damped and, down to Polyak's β*, the rate √β improves.",
    ),
    solution=(
        "answer = 'b'  # complex roots have modulus √β: 0.985 = √0.97; lower β towards 0.67 (rate 0.82)\n"
    ),
    mistakes=(
        Mistake(
            "more_momentum",
            "With complex roots the error shrinks like √β per step: β = 0.99 gives 0.995, slower and "
            "ringing longer. More momentum is less friction, not more speed.",
            "a",
        ),
        Mistake(
            "larger_lr",
            "While the roots are complex the envelope is √β, independent of η: a larger η changes the "
            "frequency of the waves, not how fast they die (and past 2(1+β)/L it diverges).",
            "c",
        ),
        Mistake(
            "diverging",
            "The envelope shrinks (0.985 < 1): the run converges, slowly. A diverging run grows.",
            "d",
        ),
    ),
)

EXERCISES: tuple[Exercise, ...] = (MOMENTUM_STEP, NESTEROV_STEP, OPTIMAL_BETA, RINGING)
