"""Exercises of notebook 00 (start here): a warm-up function and a question on notation."""

from __future__ import annotations

from typing import Any

import numpy as np

from gdcourse.backend import array_namespace, asarray
from gdcourse.exercises.core import Case, Exercise, Mistake

__all__ = ["EXERCISES"]


def square(x: Any) -> Any:
    """Reference for ``00.square``: ``x²`` elementwise, on any backend."""
    return x * x


def _square_cases(rng: np.random.Generator) -> list[Case]:
    vector = rng.uniform(-3.0, 3.0, size=4)
    vector[0] = -abs(vector[0]) - 0.5  # at least one clearly negative entry
    return [
        Case((asarray(vector),), label="a vector with negative entries"),
        Case((asarray(rng.uniform(-2.0, 2.0, size=(2, 3))),), label="a 2×3 matrix"),
        Case((asarray(np.float64(rng.uniform(1.5, 4.0))),), label="a single number (0-d array)"),
    ]


def _sum_of_squares(x: Any) -> Any:
    return array_namespace(x).sum(x * x)


SQUARE = Exercise(
    id="00.square",
    kind="function",
    title="square(x): return x² elementwise for an array x",
    reference=square,
    make_cases=_square_cases,
    hints=(
        "Arithmetic operators on arrays work elementwise: x + 1 adds 1 to every entry.",
        "In Python the power operator is **, so x squared is x ** 2 (or x * x).",
        "The whole body is one line: return x ** 2",
    ),
    solution="def square(x):\n    return x ** 2\n",
    mistakes=(
        Mistake(
            "two_x",
            "Your function returns 2·x: that is the derivative of x², not x² itself "
            "(or a typo: x * 2 doubles, x ** 2 squares).",
            lambda x: 2 * x,
        ),
        Mistake("identity", "Your function returns x unchanged: square it before returning.", lambda x: x),
        Mistake(
            "sum_of_squares",
            "Your function returns one number, the sum of the squares; the exercise asks for x² of every "
            "entry, an array of the same shape as x. Drop the sum.",
            _sum_of_squares,
        ),
    ),
)

PICK_LR = Exercise(
    id="00.pick_lr",
    kind="choice",
    title="In the update θ ← θ − η∇J(θ), which symbol is the learning rate?",
    reference="b",
    choices={"a": "θ (theta)", "b": "η (eta)", "c": "J", "d": "∇J"},
    alternatives=("η", "eta"),
    hints=(
        "The learning rate is a number you choose; it scales how far one step goes.",
        "In the update, which symbol multiplies the gradient?",
    ),
    solution=(
        "answer = 'b'  # η (eta) is the learning rate: it multiplies the gradient ∇J in θ ← θ − η∇J(θ).\n"
        "# θ are the parameters being learned, J is the cost, ∇J its gradient.\n"
    ),
    mistakes=(
        Mistake(
            "theta",
            "θ (theta) is the parameters: the numbers gradient descent changes. "
            "The learning rate is the step size that multiplies the gradient.",
            "a",
        ),
        Mistake(
            "cost",
            "J is the cost (the loss): the function we minimise. The learning rate multiplies its gradient.",
            "c",
        ),
        Mistake(
            "gradient",
            "∇J is the gradient of the cost: the direction of steepest ascent. "
            "The learning rate is the number that scales it.",
            "d",
        ),
    ),
)

EXERCISES: tuple[Exercise, ...] = (SQUARE, PICK_LR)
