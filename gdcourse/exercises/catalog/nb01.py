"""Exercises of notebook 01 (the update rule).

Conventions decided here:

- ``gd_step`` and ``run_gd`` take and return arrays of any shape on any backend;
  cases are float64 and the result's dtype is not checked (returning float64 or
  the input's dtype both pass), only its shape and values (relative tolerance 1e-6).
- ``run_gd`` returns only the final θ (after exactly ``n_steps`` updates), not the
  path; ``n_steps = 0`` returns ``theta0``.  Its ``grad_fn`` is a
  :class:`QuadraticGradient`: a callable holding plain arrays ``A`` and ``c``, so a
  grader can send it as data and rebuild it on the other side.
- ``lr_for_budget`` is an experiment: any learning rate with which ``n_steps`` plain
  GD steps from ``theta0`` bring J(θ) = ½θᵀAθ to ``target`` or below passes.  Each
  case's target sits halfway (geometrically) between the cost the fastest fixed rate
  2/(L + μ) reaches and the cost the "safe" rate 1/L reaches, so a scan finds it and
  1/L, 2/L and 1/μ all miss it, on every seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from gdcourse.backend import asarray, to_numpy
from gdcourse.exercises.core import Case, Exercise, Mistake, learning_rate_answer

__all__ = ["EXERCISES", "QuadraticGradient"]


# --- 01.gd_step ---------------------------------------------------------------------------------


def gd_step(theta: Any, grad: Any, lr: float) -> Any:
    """Reference for ``01.gd_step``: one gradient-descent update θ − η∇J.

    Parameters
    ----------
    theta : array
        The current parameters θ (any shape; not modified).
    grad : array
        The gradient ∇J(θ), of the same shape as ``theta``.
    lr : float
        The learning rate η > 0.

    Returns
    -------
    array
        The new parameters θ − η∇J, a new array.
    """
    return theta - lr * grad


def _gd_step_cases(rng: np.random.Generator) -> list[Case]:
    def case(shape: tuple[int, ...], lr: float, label: str) -> Case:
        theta, grad = rng.normal(size=shape), rng.normal(size=shape)
        return Case((asarray(theta), asarray(grad), lr), label=label)

    return [
        case((3,), round(float(rng.uniform(0.05, 0.5)), 3), "a vector of 3 parameters"),
        case((2, 2), round(float(rng.uniform(0.05, 0.5)), 3), "a 2×2 matrix of parameters"),
        # a 0-d array: answers that loop or zip over the entries of theta break here
        case((), round(float(rng.uniform(1.2, 2.0)), 3), "one parameter as a 0-d array, learning rate above 1"),
    ]


def _in_place(theta: Any, grad: Any, lr: float) -> None:
    theta -= lr * grad


GD_STEP = Exercise(
    id="01.gd_step",
    kind="function",
    title="gd_step(theta, grad, lr): one gradient-descent update, returning the new θ",
    reference=gd_step,
    make_cases=_gd_step_cases,
    hints=(
        "The gradient ∇J points uphill, the direction in which J grows fastest. Which way should θ move?",
        "The step is the gradient scaled by the learning rate η, taken against the gradient.",
        "One line: return theta - lr * grad",
    ),
    solution="def gd_step(theta, grad, lr):\n    return theta - lr * grad\n",
    mistakes=(
        Mistake(
            "ascent",
            "Sign flipped: you are climbing the gradient. θ + η∇J moves uphill, where J grows; "
            "gradient descent subtracts: θ − η∇J.",
            lambda theta, grad, lr: theta + lr * grad,
        ),
        Mistake(
            "lr_ignored",
            "The learning rate is ignored: you subtract the whole gradient. The step is η∇J; "
            "η is what keeps a step small enough not to overshoot.",
            lambda theta, grad, lr: theta - grad,
        ),
        Mistake(
            "lr_squared",
            "The learning rate is applied twice (η² instead of η): the step is η∇J, with η once.",
            lambda theta, grad, lr: theta - lr * lr * grad,
        ),
        Mistake(
            "returns_step",
            "You return the step −η∇J, not the new parameters: add it to θ, i.e. return θ − η∇J.",
            lambda theta, grad, lr: -lr * grad,
        ),
        Mistake(
            "returns_grad",
            "You return the gradient itself; the function should return the updated parameters θ − η∇J.",
            lambda theta, grad, lr: grad,
        ),
        Mistake(
            "returns_theta",
            "You return θ unchanged, so gradient descent would never move. Subtract η∇J.",
            lambda theta, grad, lr: theta,
        ),
        Mistake(
            "in_place_none",
            "Your function returns None: did you forget `return`? `theta -= lr * grad` changes the "
            "caller's array in place and returns nothing; write `return theta - lr * grad` instead, "
            "which leaves the caller's θ untouched.",
            _in_place,
        ),
    ),
)


# --- 01.run_gd ----------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class QuadraticGradient:
    """Gradient of the bowl J(θ) = ½ (θ − c)ᵀ A (θ − c): ``grad_fn(theta) = A @ (theta - c)``.

    Attributes
    ----------
    A : array
        Symmetric positive definite curvature matrix (the Hessian of J).
    c : array
        The minimiser of J.
    """

    A: Any
    c: Any

    def __call__(self, theta: Any) -> Any:
        """Return ∇J(θ) = A (θ − c)."""
        return self.A @ (theta - self.c)

    def __repr__(self) -> str:
        with np.printoptions(precision=4, suppress=True, floatmode="maxprec", threshold=20, linewidth=200):
            a = np.array2string(to_numpy(self.A), separator=", ").replace("\n", "")
            c = np.array2string(to_numpy(self.c), separator=", ")
        return f"<gradient of ½(θ−c)ᵀA(θ−c), A={a}, c={c}>"


def run_gd(grad_fn: Any, theta0: Any, lr: float, n_steps: int) -> Any:
    """Reference for ``01.run_gd``: ``n_steps`` gradient-descent updates from ``theta0``.

    Parameters
    ----------
    grad_fn : callable
        ``grad_fn(theta)`` returns the gradient ∇J(θ) at ``theta``.
    theta0 : array
        The starting parameters θ₀.
    lr : float
        The learning rate η > 0, the same at every step.
    n_steps : int
        The number of updates θ ← θ − η∇J(θ); 0 returns ``theta0``.

    Returns
    -------
    array
        The parameters after exactly ``n_steps`` updates (not the path).
    """
    theta = theta0
    for _ in range(n_steps):
        theta = theta - lr * grad_fn(theta)
    return theta


def _bowl(rng: np.random.Generator, n: int, low: float, high: float) -> tuple[np.ndarray, np.ndarray]:
    """A random SPD matrix with eigenvalues in [low, high] (both attained) and a random minimiser."""
    q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    eig = np.sort(rng.uniform(low, high, size=n))
    eig[0], eig[-1] = low, high
    a = (q * eig) @ q.T
    return (a + a.T) / 2, rng.uniform(-2.0, 2.0, size=n)


def _run_gd_cases(rng: np.random.Generator) -> list[Case]:
    def case(n: int, low: float, high: float, steps: int, label: str) -> Case:
        a, c = _bowl(rng, n, low, high)
        theta0 = c + rng.choice([-1.0, 1.0], size=n) * rng.uniform(1.0, 3.0, size=n)
        lr = round(float(rng.uniform(0.3, 0.7)) * 2 / high, 3)  # stable, but far from converged in a few steps
        return Case((QuadraticGradient(asarray(a), asarray(c)), asarray(theta0), lr, steps), label=label)

    return [
        case(1, 1.5, 1.5, int(rng.integers(3, 6)), "a 1-D bowl, a few steps"),
        case(2, 0.5, 2.0, int(rng.integers(4, 8)), "a round-ish 2-D bowl"),
        case(3, 0.2, 3.0, int(rng.integers(5, 9)), "an elongated 3-D bowl"),
        case(2, 1.0, 2.0, 0, "zero steps"),
    ]


def _steps_minus_one(grad_fn: Any, theta0: Any, lr: float, n_steps: int) -> Any:
    return run_gd(grad_fn, theta0, lr, max(n_steps - 1, 0))


def _steps_plus_one(grad_fn: Any, theta0: Any, lr: float, n_steps: int) -> Any:
    return run_gd(grad_fn, theta0, lr, n_steps + 1)


def _ascent(grad_fn: Any, theta0: Any, lr: float, n_steps: int) -> Any:
    theta = theta0
    for _ in range(n_steps):
        theta = theta + lr * grad_fn(theta)
    return theta


def _stale_gradient(grad_fn: Any, theta0: Any, lr: float, n_steps: int) -> Any:
    grad = grad_fn(theta0)
    theta = theta0
    for _ in range(n_steps):
        theta = theta - lr * grad
    return theta


RUN_GD = Exercise(
    id="01.run_gd",
    kind="function",
    title="run_gd(grad_fn, theta0, lr, n_steps): run n_steps updates from theta0, return the final θ",
    reference=run_gd,
    make_cases=_run_gd_cases,
    hints=(
        "Start from theta = theta0 and repeat the update exactly n_steps times (a for loop over range(n_steps)).",
        "Inside the loop, evaluate the gradient at the current θ: grad_fn(theta), not grad_fn(theta0).",
        "theta = theta - lr * grad_fn(theta) inside the loop; return theta after it.",
    ),
    solution=(
        "def run_gd(grad_fn, theta0, lr, n_steps):\n"
        "    theta = theta0\n"
        "    for _ in range(n_steps):\n"
        "        theta = theta - lr * grad_fn(theta)\n"
        "    return theta\n"
    ),
    mistakes=(
        Mistake(
            "one_step_short",
            "Off by one: your loop makes n_steps − 1 updates. range(n_steps) runs exactly n_steps times.",
            _steps_minus_one,
        ),
        Mistake(
            "one_step_long",
            "Off by one: your loop makes n_steps + 1 updates. range(n_steps) runs exactly n_steps times "
            "(and n_steps = 0 must return theta0).",
            _steps_plus_one,
        ),
        Mistake(
            "ascent",
            "Sign flipped: you are climbing the gradient, so θ walks away from the minimum. Subtract: θ − η∇J(θ).",
            _ascent,
        ),
        Mistake(
            "stale_gradient",
            "The gradient is not recomputed: you use ∇J(θ₀) at every step, so θ moves along a straight line "
            "forever. Evaluate grad_fn at the current θ inside the loop.",
            _stale_gradient,
        ),
    ),
)


# --- 01.max_stable_lr ---------------------------------------------------------------------------

MAX_STABLE_LR = Exercise(
    id="01.max_stable_lr",
    kind="value",
    title=(
        "J(θ) = 2θ₁² + 1.5θ₂² has Hessian diag(4, 3), so L = 4 and μ = 3: "
        "the largest learning rate η for which GD converges (the limit, as a number)"
    ),
    reference=lambda: 2 / 4,
    digits=3,
    hints=(
        "Along one eigen-direction with curvature λ, one GD step multiplies the distance to the minimum by (1 − ηλ).",
        "GD converges when |1 − ηλ| < 1 for every curvature λ. Which λ, 4 or 3, gives the tighter limit on η?",
        "Solve |1 − 4η| < 1 for η: the limit is 2/L.",
    ),
    solution="answer = 2 / 4  # 2/L with L = 4, the largest curvature: |1 - 4η| < 1  ⇔  0 < η < 1/2\n",
    mistakes=(
        Mistake(
            "one_over_L",
            "1/L = 0.25 is the step that lands exactly on the minimum along the steepest direction (the best step "
            "for a 1-D quadratic), not the stability limit: steps up to twice that still converge, overshooting "
            "and coming back.",
            lambda: 1 / 4,
        ),
        Mistake(
            "L_over_2",
            "L/2 = 2 is upside down: the steeper the bowl (larger L), the smaller the step must be. The limit is 2/L.",
            lambda: 4 / 2,
        ),
        Mistake(
            "two_L",
            "2L = 8 grows with the curvature, but steeper bowls need smaller steps; the limit is 2/L.",
            lambda: 2 * 4,
        ),
        Mistake(
            "two_over_mu",
            "2/μ = 2/3 uses the flattest direction (μ = 3); the steepest direction (L = 4) diverges first, "
            "so it sets the limit 2/L.",
            lambda: 2 / 3,
        ),
        Mistake(
            "optimal_rate",
            "2/(L + μ) = 2/7 is the step with the best worst-case convergence rate, not the largest that "
            "still converges (2/L).",
            lambda: 2 / 7,
        ),
        # Notebook 01 §5 writes the bowl as ½(θ − θ*)ᵀA(θ − θ*): a curvature is twice the coefficient of θᵢ²,
        # and J = 2θ₁² + 1.5θ₂² invites reading L = 2 off the formula instead of the Hessian's 4.
        Mistake(
            "coefficient_as_curvature",
            "2/2 = 1 takes L from J's coefficient 2. The curvature is the second derivative: d²(2θ₁²)/dθ₁² = 4, "
            "the Hessian's entry (a bowl ½Lθ² has coefficient L/2). With L = 4 the limit is 2/L.",
            lambda: 2 / 2,
        ),
    ),
)


# --- 01.diagnose_curve --------------------------------------------------------------------------

DIAGNOSE_CURVE = Exercise(
    id="01.diagnose_curve",
    kind="choice",
    title=(
        "The loss over steps is 1, 9, 81, 729, … and θ lands on the other side of the minimum "
        "at every step. What is the cause?"
    ),
    reference="c",
    choices={
        "a": "the learning rate is too small",
        "b": "gradient descent is stuck in a local minimum",
        "c": "the learning rate is too large: every step overshoots the minimum by more than it started",
        "d": "the update has the wrong sign (θ + η∇J), so it climbs the cost",
    },
    hints=(
        "Could a smaller step ever make the loss go up? Could a minimum make it grow?",
        "For J = ½Lθ², one step gives θ ← (1 − ηL)θ. What does a negative factor (1 − ηL) do to θ's side?",
        "θ switching sides means 1 − ηL < 0, and the loss growing means |1 − ηL| > 1, i.e. η > 2/L. "
        "A climbing update gives θ ← (1 + ηL)θ: θ would stay on one side.",
    ),
    solution=(
        "answer = 'c'  # the learning rate is too large\n"
        "# θ ← (1 − ηL)θ: switching sides means 1 − ηL < 0, growing means |1 − ηL| > 1, i.e. η > 2/L.\n"
        "# A sign bug (θ ← (1 + ηL)θ) also grows the loss, but θ would move away on one side only.\n"
    ),
    mistakes=(
        Mistake(
            "too_small",
            "A learning rate that is too small makes the loss fall slowly; it never makes the loss grow.",
            "a",
        ),
        Mistake(
            "local_minimum",
            "At a local minimum the gradient is zero and the loss stops changing; it does not grow by 9× per step.",
            "b",
        ),
        Mistake(
            "sign_bug",
            "A flipped sign does make the loss grow, but θ then walks steadily away on one side, uphill. "
            "Here θ jumps across the minimum at every step: that is overshooting, a step that is too large.",
            "d",
        ),
    ),
)

# --- 01.lr_for_budget ---------------------------------------------------------------------------


def lr_for_budget(A: Any, theta0: Any, n_steps: int, target: float) -> float:
    """Reference for ``01.lr_for_budget``: scan η on a log grid, keep the one with the lowest cost after the budget.

    Each run is ``n_steps`` updates θ ← θ − η Aθ from ``theta0`` on J(θ) = ½θᵀAθ; runs
    that blow up only lose the comparison.

    Parameters
    ----------
    A : array of shape (p, p)
        The symmetric positive definite Hessian of J(θ) = ½θᵀAθ (its gradient is Aθ).
    theta0 : array of shape (p,)
        The start of every run.
    n_steps : int
        The budget: the number of updates in each run.
    target : float
        The cost the exercise asks to reach; the reference does not use it (it keeps the lowest cost found).

    Returns
    -------
    float
        The learning rate of the grid (121 values from 1e-3 to 10, geometric) with the lowest final cost.
    """
    best_lr, best_cost = 0.0, float("inf")
    for lr in np.geomspace(1e-3, 10.0, 121):
        theta = theta0
        for _ in range(n_steps):
            theta = theta - float(lr) * (A @ theta)
        cost = 0.5 * float(theta @ (A @ theta))
        if cost < best_cost:
            best_lr, best_cost = float(lr), cost
    return best_lr


def _cost_after(a: np.ndarray, theta0: np.ndarray, lr: float, n_steps: int) -> float:
    """J(θ) = ½θᵀAθ after ``n_steps`` GD steps with learning rate ``lr`` from ``theta0`` (NumPy, float64)."""
    theta = theta0.copy()
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(n_steps):
            theta = theta - lr * (a @ theta)
        return float(0.5 * theta @ (a @ theta))


@dataclass(frozen=True)
class _BudgetKey:
    """What the judge knows about a case of ``01.lr_for_budget``: the curvatures and the cost at θ₀."""

    mu: float
    L: float
    start_cost: float


def _lr_for_budget_cases(rng: np.random.Generator) -> list[Case]:
    def case(n: int, mu: float, L: float, n_steps: int, label: str) -> Case:
        q, _ = np.linalg.qr(rng.normal(size=(n, n)))
        eig = np.sort(rng.uniform(mu, L, size=n))
        eig[0], eig[-1] = mu, L
        a = (q * eig) @ q.T
        a = (a + a.T) / 2
        # every direction gets a sizeable share of the start, so the steep one cannot be skipped
        theta0 = q @ (rng.choice([-1.0, 1.0], size=n) * rng.uniform(1.0, 2.0, size=n))
        fastest = _cost_after(a, theta0, 2 / (L + mu), n_steps)
        safe = _cost_after(a, theta0, 1 / L, n_steps)
        target = float(f"{np.sqrt(fastest * safe):.2g}")  # halfway on a log scale, rounded for reading
        key = _BudgetKey(mu=mu, L=L, start_cost=_cost_after(a, theta0, 0.0, 0))
        return Case((asarray(a), asarray(theta0), n_steps, target), label=label, key=key)

    return [
        case(2, 0.1, 1.0, int(rng.integers(28, 36)), "a 2-D valley ten times steeper across than along"),
        case(3, 0.2, 4.0, int(rng.integers(45, 60)), "a steep, narrow 3-D valley (L is not 1)"),
        case(2, 0.5, 2.5, int(rng.integers(12, 16)), "a gentle 2-D bowl with a short budget"),
    ]


def _lr_for_budget_requirement(case: Case, value: Any) -> str | None:
    """``None`` when ``n_steps`` GD steps with learning rate ``value`` reach the case's target cost."""
    a, theta0 = to_numpy(case.args[0]), to_numpy(case.args[1])
    n_steps, target = case.args[2], case.args[3]
    key: _BudgetKey = case.key
    lr, problem = learning_rate_answer(value)
    if problem is not None:
        return problem
    cost = _cost_after(a, theta0, lr, n_steps)
    if not cost <= target:  # also NaN
        shown = f"{cost:.3g}" if math.isfinite(cost) else "no longer finite"
        head = f"with η = {lr:.4g} the cost after {n_steps} steps is {shown}, above the target {target:.3g}"
        if not (math.isfinite(cost) and cost < key.start_cost):
            return head + f" (it started at {key.start_cost:.3g}): the run diverges, so η is too large"
        if lr < 2 / (key.L + key.mu):
            return head + ": the run is still crawling along the flattest direction, so try larger learning rates"
        return head + ": the steepest direction overshoots and barely shrinks, so try smaller learning rates"
    return None


LR_FOR_BUDGET = Exercise(
    id="01.lr_for_budget",
    kind="function",
    title=(
        "lr_for_budget(A, theta0, n_steps, target): find by experiment a learning rate with which n_steps GD "
        "steps on J(θ) = ½θᵀAθ from theta0 bring the cost to target or below"
    ),
    reference=lr_for_budget,
    make_cases=_lr_for_budget_cases,
    requirement=_lr_for_budget_requirement,
    hints=(
        "Run the experiment: for each learning rate on a grid, take n_steps steps from theta0 (your run_gd, with "
        "the gradient A @ theta) and compute the final cost ½ θᵀAθ. Keep the learning rate whose cost is lowest.",
        "Learning rates worth trying span several decades: np.geomspace(1e-3, 10, 121). Runs with η too large "
        "blow up; they simply lose the comparison (or skip costs that are not finite).",
        "for lr in np.geomspace(1e-3, 10, 121):  theta = theta0; repeat n_steps times theta = theta - lr * (A @ "
        "theta); cost = 0.5 * float(theta @ A @ theta); keep lr when cost is the lowest so far. Return that lr.",
    ),
    solution=(
        "import numpy as np\n\n\n"
        "def lr_for_budget(A, theta0, n_steps, target):\n"
        "    best_lr, best_cost = None, float('inf')\n"
        "    for lr in np.geomspace(1e-3, 10.0, 121).tolist():  # several decades, as Python floats\n"
        "        theta = theta0\n"
        "        for _ in range(n_steps):\n"
        "            theta = theta - lr * (A @ theta)  # the gradient of ½θᵀAθ is Aθ\n"
        "        cost = 0.5 * float(theta @ (A @ theta))\n"
        "        if cost < best_cost:  # a run that blew up has a huge (or NaN) cost and loses\n"
        "            best_lr, best_cost = lr, cost\n"
        "    return best_lr\n"
    ),
    mistakes=(
        Mistake(
            "safe_step",
            "η = 1/L is the safe textbook step, but not the fastest: the flattest direction shrinks only by "
            "1 − μ/L per step, too slowly for this budget. The experiment finds larger steps that are still "
            "stable, up to about 2/(L + μ), where the steepest and flattest directions shrink equally fast.",
            lambda A, theta0, n_steps, target: 1 / float(np.max(np.linalg.eigvalsh(to_numpy(A)))),
        ),
        Mistake(
            "stability_limit",
            "η = 2/L is the edge of stability, not a good step: along the steepest direction 1 − ηL = −1, so that "
            "part of θ flips sign every step and never shrinks. The fastest fixed step is smaller, about 2/(L + μ).",
            lambda A, theta0, n_steps, target: 2 / float(np.max(np.linalg.eigvalsh(to_numpy(A)))),
        ),
        Mistake(
            "flat_direction_step",
            "η = 1/μ is the perfect step for the flattest direction alone, but the steepest direction then has "
            "|1 − ηL| = L/μ − 1 > 1 and the run diverges: one learning rate must suit every direction at once.",
            lambda A, theta0, n_steps, target: 1 / float(np.min(np.linalg.eigvalsh(to_numpy(A)))),
        ),
    ),
)


EXERCISES: tuple[Exercise, ...] = (GD_STEP, RUN_GD, MAX_STABLE_LR, LR_FOR_BUDGET, DIAGNOSE_CURVE)
