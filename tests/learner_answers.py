"""A corpus of learner answers that nobody planted: the mistakes (and the valid variants) real learners write.

Each :class:`Answer` is one answer to one exercise of the course, written as a learner would write it in the
notebook cell: ``source`` defines a function named like the exercise's short name (``gd_step`` for
``"01.gd_step"``) or, for value and choice exercises, a variable ``answer``.  It may use the names the
notebook's first cell imports (``np``, ``xp``, ``math``, ``gdcourse``... see
:mod:`tests.test_learner_answers`), and ``Fraction`` and ``sympy``; anything else it imports itself.

- ``correct=False``: wrong by the exercise's own definition (its statement in the notebook, the catalog's
  conventions and hints), and behaving like none of the exercise's planted ``Mistake`` answers on the
  public cases.  Mutating an input (``theta -= lr * grad``) counts as wrong for the update rules: the
  course asks for a new array and never for a changed argument (01.gd_step and 07.rmsprop_step say so).
- ``correct=True``: a valid answer in another form or type (loops instead of vectors, another library,
  ``Fraction``, ``sympy`` numbers, NumPy scalars, upper-case choices...), never a different convention
  unless the exercise accepts it.

``expect_in_diagnosis`` lists words that a specific diagnosis of a wrong answer should contain, where the
right explanation is clear: each entry is matched case-insensitively, and ``"a|b"`` accepts either word.

The corpus is data: tests/test_learner_answers.py runs every answer through ``check``.  An answer whose
verdict disagrees with ``correct`` is a finding about the checks, not a reason to change the answer.
"""

from __future__ import annotations

import importlib
import textwrap
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ANSWERS", "Answer"]


@dataclass(frozen=True)
class Answer:
    """One learner answer: which exercise, whether it is right, and the notebook code that defines it."""

    exercise_id: str
    correct: bool
    name: str
    description: str
    source: str
    expect_in_diagnosis: tuple[str, ...] = ()

    @property
    def test_id(self) -> str:
        """A readable pytest id, e.g. ``"01.gd_step-wrong-divides-by-lr"``."""
        return f"{self.exercise_id}-{'correct' if self.correct else 'wrong'}-{self.name}"


ANSWERS: list[Answer] = []


def _add(exercise_id: str, correct: bool, name: str, description: str, source: str, expect: tuple[str, ...]) -> None:
    ANSWERS.append(Answer(exercise_id, correct, name, description, textwrap.dedent(source).strip() + "\n", expect))


def wrong(exercise_id: str, name: str, description: str, source: str, expect: tuple[str, ...] = ()) -> None:
    """Record a wrong answer (``expect``: words its diagnosis should contain)."""
    _add(exercise_id, False, name, description, source, expect)


def right(exercise_id: str, name: str, description: str, source: str) -> None:
    """Record a correct answer."""
    _add(exercise_id, True, name, description, source, ())


# === 00 · start here =====================================================================================

E = "00.square"
wrong(E, "caret-for-power", "x ^ 2: ^ is bitwise XOR in Python, an error on float arrays", """
    def square(x):
        return x ^ 2
""", ("**",))
wrong(E, "square-root", "the square root instead of the square (NaN for negative entries)", """
    def square(x):
        return np.sqrt(x)
""", ("root|sqrt",))
wrong(E, "matmul-instead-of-times", "x @ x: a dot/matrix product, not elementwise (one number for a vector)", """
    def square(x):
        return x @ x
""", ("elementwise|@",))
wrong(E, "returns-list", "a list comprehension: returns a Python list, not an array (and fails on a 0-d array)", """
    def square(x):
        return [v ** 2 for v in x]
""", ("list|array",))
wrong(E, "rounded", "rounds the squares to 2 decimals", """
    def square(x):
        return np.round(x ** 2, 2)
""", ("round",))
wrong(E, "math-pow", "math.pow only takes single numbers: an error on arrays", """
    def square(x):
        return math.pow(x, 2)
""")
wrong(E, "exp-of-log", "exp(2 log x): NaN for every negative entry", """
    def square(x):
        return np.exp(2 * np.log(x))
""", ("negative|nan",))
right(E, "power-operator", "the published solution's form, x ** 2", """
    def square(x):
        return x ** 2
""")
right(E, "np-square", "np.square", """
    def square(x):
        return np.square(x)
""")
right(E, "np-power-float-exponent", "np.power with a float exponent", """
    def square(x):
        return np.power(x, 2.0)
""")
right(E, "xp-multiply", "xp.multiply(x, x), the backend-neutral way", """
    def square(x):
        return xp.multiply(x, x)
""")
right(E, "abs-squared", "|x| ** 2", """
    def square(x):
        return abs(x) ** 2
""")
right(E, "loop-over-entries", "a loop over every index with np.ndindex (works for 0-d arrays too)", """
    def square(x):
        out = np.empty_like(x)
        for index in np.ndindex(x.shape):
            out[index] = x[index] * x[index]
        return out
""")

E = "00.pick_lr"
wrong(E, "theta-symbol", "the symbol θ itself (the parameters), not an option letter", """
    answer = "θ"
""", ("parameter",))
wrong(E, "nabla-symbol", "the symbol ∇J (the gradient), not an option letter", """
    answer = "∇J"
""", ("gradient",))
wrong(E, "alpha", "α, the learning rate's name in other books, but no symbol of this update", """
    answer = "α"
""")
wrong(E, "cost-name", "the word 'J' written out as 'cost'", """
    answer = "cost"
""")
right(E, "upper-case", "the letter in upper case", """
    answer = "B"
""")
right(E, "padded", "the letter with spaces around it", """
    answer = " b "
""")
right(E, "trailing-newline", "the letter with a newline, as pasted from the option list", """
    answer = "b\\n"
""")
right(E, "eta-capitalised", "the accepted name eta, capitalised", """
    answer = "Eta"
""")
right(E, "eta-symbol-padded", "the accepted symbol η with a trailing space", """
    answer = "η "
""")

# === 01 · the update rule ================================================================================

E = "01.gd_step"
wrong(E, "in-place", "theta -= lr * grad; return theta: right numbers, but it modifies the caller's theta", """
    def gd_step(theta, grad, lr):
        theta -= lr * grad
        return theta
""", ("modif|in place",))
wrong(E, "divides-by-lr", "divides the gradient by the learning rate", """
    def gd_step(theta, grad, lr):
        return theta - grad / lr
""", ("learning rate|lr",))
wrong(E, "sign-of-gradient", "steps by lr * sign(grad): the size of the gradient is lost", """
    def gd_step(theta, grad, lr):
        return theta - lr * np.sign(grad)
""", ("sign",))
wrong(E, "returns-list", "returns a Python list instead of an array", """
    def gd_step(theta, grad, lr):
        return list(theta - lr * grad)
""", ("list|array",))
wrong(E, "rounded", "rounds the new parameters to 2 decimals", """
    def gd_step(theta, grad, lr):
        return np.round(theta - lr * grad, 2)
""", ("round",))
wrong(E, "mean-gradient", "subtracts lr times the mean of the gradient from every parameter", """
    def gd_step(theta, grad, lr):
        return theta - lr * np.mean(grad)
""", ("mean",))
wrong(E, "normalised-gradient", "steps along the unit gradient grad / ||grad||", """
    def gd_step(theta, grad, lr):
        return theta - lr * grad / np.linalg.norm(grad)
""", ("norm",))
wrong(E, "transposed-gradient", "uses grad.T: wrong entries for a matrix of parameters", """
    def gd_step(theta, grad, lr):
        return theta - lr * grad.T
""", ("transpos",))
wrong(E, "zip-loop", "a loop over zip(theta, grad): fails on a 0-d array and flattens a matrix into rows", """
    def gd_step(theta, grad, lr):
        return np.array([t - lr * g for t, g in zip(theta, grad)])
""", ("0-d|shape",))
right(E, "np-subtract", "np.subtract", """
    def gd_step(theta, grad, lr):
        return np.subtract(theta, lr * grad)
""")
right(E, "plus-negative-step", "theta + (-lr) * grad", """
    def gd_step(theta, grad, lr):
        return theta + (-lr) * grad
""")
right(E, "copy-then-in-place", "copies theta first, then updates the copy in place", """
    def gd_step(theta, grad, lr):
        new_theta = theta.copy()
        new_theta -= lr * grad
        return new_theta
""")
right(E, "loop-over-entries", "a loop over every entry into a new array", """
    def gd_step(theta, grad, lr):
        new_theta = np.zeros_like(theta)
        for i in np.ndindex(theta.shape):
            new_theta[i] = theta[i] - lr * grad[i]
        return new_theta
""")
right(E, "step-variable", "names the step first", """
    def gd_step(theta, grad, lr):
        step = lr * grad
        theta_new = theta - step
        return theta_new
""")
right(E, "np-add-multiply", "np.add(theta, np.multiply(-lr, grad))", """
    def gd_step(theta, grad, lr):
        return np.add(theta, np.multiply(-lr, grad))
""")

E = "01.run_gd"
wrong(E, "in-place-on-theta0", "updates theta0 in place: the caller's starting point is changed", """
    def run_gd(grad_fn, theta0, lr, n_steps):
        for _ in range(n_steps):
            theta0 -= lr * grad_fn(theta0)
        return theta0
""", ("modif|in place",))
wrong(E, "returns-path", "returns the list of all iterates instead of the final theta", """
    def run_gd(grad_fn, theta0, lr, n_steps):
        path = [theta0]
        for _ in range(n_steps):
            path.append(path[-1] - lr * grad_fn(path[-1]))
        return path
""", ("final|last|path",))
wrong(E, "steps-from-theta0", "theta = theta0 - lr * grad_fn(theta): every step starts again from theta0", """
    def run_gd(grad_fn, theta0, lr, n_steps):
        theta = theta0
        for _ in range(n_steps):
            theta = theta0 - lr * grad_fn(theta)
        return theta
""", ("theta0",))
wrong(E, "returns-theta0", "updates theta but returns theta0 (the wrong variable)", """
    def run_gd(grad_fn, theta0, lr, n_steps):
        theta = theta0
        for _ in range(n_steps):
            theta = theta - lr * grad_fn(theta)
        return theta0
""", ("theta0|unchanged",))
wrong(E, "return-inside-loop", "return indented inside the loop: one step, and None for n_steps = 0", """
    def run_gd(grad_fn, theta0, lr, n_steps):
        theta = theta0
        for _ in range(n_steps):
            theta = theta - lr * grad_fn(theta)
            return theta
""", ("indent|one step|loop",))
wrong(E, "lr-divided-by-steps", "splits the learning rate over the steps, lr / n_steps per step", """
    def run_gd(grad_fn, theta0, lr, n_steps):
        theta = theta0
        for _ in range(n_steps):
            theta = theta - lr / n_steps * grad_fn(theta)
        return theta
""")
wrong(E, "decaying-lr", "decays the learning rate as lr / (k + 1) although a fixed lr is asked", """
    def run_gd(grad_fn, theta0, lr, n_steps):
        theta = theta0
        for k in range(n_steps):
            theta = theta - lr / (k + 1) * grad_fn(theta)
        return theta
""")
right(E, "while-loop", "a while loop with a counter", """
    def run_gd(grad_fn, theta0, lr, n_steps):
        theta, step = theta0, 0
        while step < n_steps:
            theta = theta - lr * grad_fn(theta)
            step += 1
        return theta
""")
right(E, "uses-gd-step", "calls its own gd_step, as the notebook suggests", """
    def gd_step(theta, grad, lr):
        return theta - lr * grad


    def run_gd(grad_fn, theta0, lr, n_steps):
        theta = theta0
        for _ in range(n_steps):
            theta = gd_step(theta, grad_fn(theta), lr)
        return theta
""")
right(E, "recursive", "recursion on n_steps", """
    def run_gd(grad_fn, theta0, lr, n_steps):
        if n_steps == 0:
            return theta0
        return run_gd(grad_fn, theta0 - lr * grad_fn(theta0), lr, n_steps - 1)
""")
right(E, "copy-then-in-place", "copies theta0, then updates the copy in place", """
    def run_gd(grad_fn, theta0, lr, n_steps):
        theta = np.array(theta0, dtype=float, copy=True)
        for _ in range(n_steps):
            theta -= lr * grad_fn(theta)
        return theta
""")
right(E, "reduce", "functools.reduce over range(n_steps)", """
    from functools import reduce


    def run_gd(grad_fn, theta0, lr, n_steps):
        return reduce(lambda theta, _: theta - lr * grad_fn(theta), range(n_steps), theta0)
""")
right(E, "counting-down", "a loop that counts down", """
    def run_gd(grad_fn, theta0, lr, n_steps):
        theta = theta0
        for remaining in range(n_steps, 0, -1):
            grad = grad_fn(theta)
            theta = theta - lr * grad
        return theta
""")

E = "01.max_stable_lr"
wrong(E, "integer-division", "2 // 4 floors to 0", """
    answer = 2 // 4
""", ("integer|//",))
wrong(E, "coefficient-as-curvature", "2 / 2: L read off J's coefficient 2 instead of the Hessian entry 4", """
    answer = 2 / 2
""", ("hessian|curvature|eigenvalue",))
wrong(E, "one-over-mu", "1/μ = 1/3", """
    answer = 1 / 3
""")
wrong(E, "mean-curvature", "2 over the average curvature (4 + 3) / 2", """
    answer = 2 / ((4 + 3) / 2)
""")
wrong(E, "number-as-string", "the number written as a string", """
    answer = "0.5"
""", ("string|number",))
right(E, "float", "0.5", """
    answer = 0.5
""")
right(E, "fraction", "fractions.Fraction(1, 2)", """
    from fractions import Fraction

    answer = Fraction(1, 2)
""")
right(E, "sympy-rational", "sympy.Rational(2, 4)", """
    answer = sympy.Rational(2, 4)
""")
right(E, "sympy-float", "sympy.Float(0.5)", """
    answer = sympy.Float(0.5)
""")
right(E, "decimal", "decimal.Decimal('0.5')", """
    from decimal import Decimal

    answer = Decimal("0.5")
""")
right(E, "numpy-float32", "a float32 scalar", """
    answer = np.float32(0.5)
""")
right(E, "from-eigenvalues", "2 / L with L from the Hessian's eigenvalues (a NumPy float)", """
    L = np.linalg.eigvalsh(np.diag([4.0, 3.0])).max()
    answer = 2 / L
""")
right(E, "zero-d-array", "a 0-d array", """
    answer = np.array(2 / 4)
""")

E = "01.diagnose_curve"
wrong(E, "hedge-c-and-d", "hedges between c and d", """
    answer = "c, d"
""", ("several options",))  # a hedge is told to pick one: naming why the others are wrong would give the answer away
wrong(E, "option-a-text", "the text of option a instead of a letter", """
    answer = "the learning rate is too small"
""", ("small",))
wrong(E, "sign-word", "'sign' (option d's idea) instead of a letter", """
    answer = "sign"
""")
right(E, "upper-case", "the letter in upper case", """
    answer = "C"
""")
right(E, "leading-space", "the letter with a leading space", """
    answer = " c"
""")
right(E, "numpy-str", "a NumPy string (np.str_ is a str)", """
    answer = np.str_("c")
""")

# === 02 · linear regression ==============================================================================

E = "02.mse_grad"
wrong(E, "wrong-axis-mean", "2 * mean(X.T * r, axis=0): averages over the features, one number per sample", """
    def mse_grad(X, y, w, b):
        r = X @ w + b - y
        return 2 * np.mean(X.T * r, axis=0), 2 * np.mean(r)
""", ("axis|shape",))
wrong(E, "missing-transpose", "X @ r instead of X.T @ r (a shape error)", """
    def mse_grad(X, y, w, b):
        n = X.shape[0]
        r = X @ w + b - y
        return 2 / n * (X @ r), 2 / n * np.sum(r)
""", ("transpos|X.T",))
wrong(E, "grad-b-not-averaged", "divides grad_w by n but not grad_b", """
    def mse_grad(X, y, w, b):
        n = X.shape[0]
        r = X @ w + b - y
        return 2 / n * (X.T @ r), 2 * np.sum(r)
""", ("mean|1/n|n times",))
wrong(E, "grad-b-without-two", "grad_b as mean(r), without the factor 2", """
    def mse_grad(X, y, w, b):
        n = X.shape[0]
        r = X @ w + b - y
        return 2 / n * (X.T @ r), np.mean(r)
""", ("factor 2|half",))
wrong(E, "divides-by-size", "n = X.size: divides by n·p", """
    def mse_grad(X, y, w, b):
        n = X.size
        r = X @ w + b - y
        return 2 / n * (X.T @ r), 2 / n * np.sum(r)
""")
wrong(E, "integer-division", "2 // n is 0 for n > 2: both gradients vanish", """
    def mse_grad(X, y, w, b):
        n = X.shape[0]
        r = X @ w + b - y
        return 2 // n * (X.T @ r), 2 // n * np.sum(r)
""", ("//|integer",))
wrong(E, "stacked-vector", "one vector of p + 1 entries (w's gradient with b's appended), not a pair", """
    def mse_grad(X, y, w, b):
        n = X.shape[0]
        r = X @ w + b - y
        return np.append(2 / n * (X.T @ r), 2 / n * np.sum(r))
""", ("pair|tuple",))
wrong(E, "sign-flipped-in-b-only", "grad_b from y - ŷ while grad_w uses ŷ - y", """
    def mse_grad(X, y, w, b):
        n = X.shape[0]
        r = X @ w + b - y
        return 2 / n * (X.T @ r), 2 / n * np.sum(y - X @ w - b)
""", ("sign",))
wrong(E, "b-missing-in-grad-w-only", "the residual of grad_w forgets b; grad_b includes it", """
    def mse_grad(X, y, w, b):
        n = X.shape[0]
        grad_w = 2 / n * X.T @ (X @ w - y)
        grad_b = 2 / n * np.sum(X @ w + b - y)
        return grad_w, grad_b
""", ("intercept|`b`|+ b",))
wrong(E, "grad-b-one-element-array", "grad_b as an array of shape (1,) instead of a number", """
    def mse_grad(X, y, w, b):
        n = X.shape[0]
        r = X @ w + b - y
        return 2 / n * (X.T @ r), np.array([2 / n * np.sum(r)])
""", ("shape|number",))
wrong(E, "order-swapped", "returns (grad_b, grad_w)", """
    def mse_grad(X, y, w, b):
        n = X.shape[0]
        r = X @ w + b - y
        return 2 / n * np.sum(r), 2 / n * (X.T @ r)
""", ("order",))
right(E, "loop-over-samples", "a loop over the samples", """
    def mse_grad(X, y, w, b):
        n, p = X.shape
        grad_w, grad_b = np.zeros(p), 0.0
        for i in range(n):
            r_i = X[i] @ w + b - y[i]
            grad_w += 2 * r_i * X[i] / n
            grad_b += 2 * r_i / n
        return grad_w, grad_b
""")
right(E, "mean-over-axis-0", "2 * mean(X * r[:, None], axis=0)", """
    def mse_grad(X, y, w, b):
        r = X @ w + b - y
        return 2 * np.mean(X * r[:, None], axis=0), 2 * np.mean(r)
""")
right(E, "r-at-x", "r @ X instead of X.T @ r", """
    def mse_grad(X, y, w, b):
        r = X @ w + b - y
        n = len(y)
        return r @ X * 2 / n, 2 * r.sum() / n
""")
right(E, "returns-list", "returns the pair as a list", """
    def mse_grad(X, y, w, b):
        r = X.dot(w) + b - y
        return [2 / X.shape[0] * X.T.dot(r), float(2 / X.shape[0] * r.sum())]
""")
right(E, "grad-b-zero-d-array", "grad_b as a 0-d array, which the exercise allows", """
    def mse_grad(X, y, w, b):
        n = X.shape[0]
        r = X @ w + b - y
        return 2 / n * (X.T @ r), np.asarray(2 / n * np.sum(r))
""")
right(E, "einsum", "np.einsum", """
    def mse_grad(X, y, w, b):
        n = X.shape[0]
        r = np.einsum("ij,j->i", X, w) + b - y
        return 2 / n * np.einsum("ij,i->j", X, r), 2 / n * np.sum(r)
""")
right(E, "prediction-first", "names the prediction, then the error y_hat - y", """
    def mse_grad(X, y, w, b):
        y_hat = X @ w + b
        error = y_hat - y
        grad_w = 2 * X.T @ error / X.shape[0]
        grad_b = 2 * np.mean(error)
        return (grad_w, grad_b)
""")

E = "02.condition_number"
wrong(E, "variance-on-diagonal-cond", "np.linalg.cond of [[1, 3], [3, 1]] (variance instead of mean of x²)", """
    answer = np.linalg.cond(np.array([[1.0, 3.0], [3.0, 1.0]]))
""", ("mean|x²",))
wrong(E, "mean-squared-on-diagonal", "mean(x)² = 9 on the diagonal: a singular matrix, κ astronomically large", """
    answer = np.linalg.cond(np.array([[9.0, 3.0], [3.0, 1.0]]))
""")
wrong(E, "two-significant-digits", "1.2e2: only two significant digits where three are asked", """
    answer = 1.2e2
""", ("digit",))
wrong(E, "truncated", "int() truncates 118.99 to 118", """
    answer = int(np.linalg.cond(np.array([[10.0, 3.0], [3.0, 1.0]])))
""")
wrong(E, "discriminant-sign", "eigenvalues from (11 ± √(121 + 4))/2: the determinant's sign flipped", """
    answer = (11 + math.sqrt(121 + 4)) / (11 - math.sqrt(121 + 4))
""")
wrong(E, "one-norm-condition", "np.linalg.cond(H, 1): the condition number in the 1-norm, not λmax/λmin", """
    answer = np.linalg.cond(np.array([[10.0, 3.0], [3.0, 1.0]]), 1)
""", ("eigen",))
right(E, "three-significant-digits", "119, three significant digits as the statement allows", """
    answer = 119
""")
right(E, "eigenvalue-ratio", "ratio of eigvalsh's eigenvalues (a NumPy float)", """
    eigenvalues = np.linalg.eigvalsh(np.array([[10.0, 3.0], [3.0, 1.0]]))
    answer = eigenvalues[-1] / eigenvalues[0]
""")
right(E, "trace-determinant", "(11 + √117)/(11 − √117) by hand", """
    answer = (11 + math.sqrt(117)) / (11 - math.sqrt(117))
""")
right(E, "with-factor-two", "np.linalg.cond of the Hessian itself, 2·[[10, 3], [3, 1]]", """
    answer = np.linalg.cond(2 * np.array([[10, 3], [3, 1]]))
""")
right(E, "from-a-data-set", "builds a feature with mean 3 and sd 1 and the Hessian from it", """
    x = np.array([2.0, 4.0])
    H = 2 * np.array([[np.mean(x**2), np.mean(x)], [np.mean(x), 1.0]])
    answer = np.linalg.cond(H)
""")
right(E, "sympy-exact", "the exact value as a sympy expression", """
    answer = (11 + sympy.sqrt(117)) / (11 - sympy.sqrt(117))
""")
right(E, "sympy-evaluated", "the sympy value evaluated with sympy.N (a sympy Float)", """
    answer = sympy.N((11 + sympy.sqrt(117)) / (11 - sympy.sqrt(117)))
""")
right(E, "rounded-one-decimal", "rounded to one decimal, 119.0", """
    answer = round(float(np.linalg.cond(np.array([[10.0, 3.0], [3.0, 1.0]]))), 1)
""")
right(E, "float32", "a float32 scalar", """
    answer = np.float32(118.99)
""")

E = "02.standardize"
wrong(E, "val-own-std-only", "Z_val uses the training mean but its own standard deviation", """
    def standardize(X_train, X_val):
        mean = X_train.mean(axis=0)
        return (X_train - mean) / X_train.std(axis=0), (X_val - mean) / X_val.std(axis=0)
""", ("training",))
wrong(E, "returns-only-train", "returns Z_train only", """
    def standardize(X_train, X_val):
        return (X_train - X_train.mean(axis=0)) / X_train.std(axis=0)
""", ("pair|z_val|both|all of them|tuple",))
wrong(E, "mean-over-rows-broadcast", "mean and std along axis=1, used for both sets (a shape error)", """
    def standardize(X_train, X_val):
        mean = np.mean(X_train, axis=1)
        std = np.std(X_train, axis=1)
        return (X_train - mean) / std, (X_val - mean) / std
""", ("axis",))
wrong(E, "std-without-square", "std as sqrt(mean(X - mean)): the square is missing, NaN and inf", """
    def standardize(X_train, X_val):
        mean = np.mean(X_train, axis=0)
        std = np.sqrt(np.mean(X_train - mean, axis=0))
        return (X_train - mean) / std, (X_val - mean) / std
""")
wrong(E, "std-without-mean", "std as sqrt of the SUM of squared deviations (the 1/n is missing)", """
    def standardize(X_train, X_val):
        mean = np.mean(X_train, axis=0)
        std = np.sqrt(np.sum((X_train - mean) ** 2, axis=0))
        return (X_train - mean) / std, (X_val - mean) / std
""", ("1/n|mean|divide",))
wrong(E, "variance-identity", "σ² as E[x²] − E[x]²: cancels catastrophically for features far from 0", """
    def standardize(X_train, X_val):
        mean = np.mean(X_train, axis=0)
        std = np.sqrt(np.mean(X_train**2, axis=0) - mean**2)
        return (X_train - mean) / std, (X_val - mean) / std
""", ("cancel|precision|float32",))
wrong(E, "mean-absolute-deviation", "divides by the mean absolute deviation instead of the standard deviation", """
    def standardize(X_train, X_val):
        mean = np.mean(X_train, axis=0)
        spread = np.mean(np.abs(X_train - mean), axis=0)
        return (X_train - mean) / spread, (X_val - mean) / spread
""", ("standard deviation",))
wrong(E, "operator-precedence", "X - mean / std: the division binds first", """
    def standardize(X_train, X_val):
        mean, std = X_train.mean(axis=0), X_train.std(axis=0)
        return X_train - mean / std, X_val - mean / std
""", ("parenthes|precedence",))
wrong(E, "min-max-scaling", "min-max scaling to [0, 1] instead of standardising", """
    def standardize(X_train, X_val):
        low, high = X_train.min(axis=0), X_train.max(axis=0)
        return (X_train - low) / (high - low), (X_val - low) / (high - low)
""", ("min|max",))
wrong(E, "rounded", "rounds the standardised values to 2 decimals", """
    def standardize(X_train, X_val):
        mean, std = X_train.mean(axis=0), X_train.std(axis=0)
        return np.round((X_train - mean) / std, 2), np.round((X_val - mean) / std, 2)
""", ("round",))
right(E, "sklearn-scaler", "scikit-learn's StandardScaler fitted on the training set", """
    from sklearn.preprocessing import StandardScaler


    def standardize(X_train, X_val):
        scaler = StandardScaler().fit(X_train)
        return scaler.transform(X_train), scaler.transform(X_val)
""")
right(E, "gdcourse-standardizer", "gdcourse's Standardizer, imported by the notebook", """
    from gdcourse.data import Standardizer


    def standardize(X_train, X_val):
        scaler = Standardizer().fit(X_train)
        return scaler.transform(X_train), scaler.transform(X_val)
""")
right(E, "column-loop", "a loop over the columns", """
    def standardize(X_train, X_val):
        Z_train, Z_val = np.empty_like(X_train), np.empty_like(X_val)
        for j in range(X_train.shape[1]):
            m, s = X_train[:, j].mean(), X_train[:, j].std()
            Z_train[:, j] = (X_train[:, j] - m) / s
            Z_val[:, j] = (X_val[:, j] - m) / s
        return Z_train, Z_val
""")
right(E, "sqrt-of-var", "std as sqrt(var), with keepdims", """
    def standardize(X_train, X_val):
        mean = np.mean(X_train, axis=0, keepdims=True)
        std = np.sqrt(np.var(X_train, axis=0, keepdims=True))
        return (X_train - mean) / std, (X_val - mean) / std
""")
right(E, "explicit-ddof", "np.std with ddof=0 written out, returned as a list", """
    def standardize(X_train, X_val):
        mu = np.mean(X_train, axis=0)
        sigma = np.std(X_train, axis=0, ddof=0)
        return [(X_train - mu) / sigma, (X_val - mu) / sigma]
""")
right(E, "float64-throughout", "converts to float64 first (float64 results for float32 inputs)", """
    def standardize(X_train, X_val):
        X_train, X_val = np.asarray(X_train, dtype=np.float64), np.asarray(X_val, dtype=np.float64)
        mean, std = X_train.mean(axis=0), X_train.std(axis=0)
        return (X_train - mean) / std, (X_val - mean) / std
""")
right(E, "helper-function", "a helper applied to both sets", """
    def standardize(X_train, X_val):
        mean = xp.mean(X_train, axis=0)
        std = xp.sqrt(xp.mean((X_train - mean) ** 2, axis=0))

        def apply(X):
            return (X - mean) / std

        return apply(X_train), apply(X_val)
""")

# === 03 · classification =================================================================================

E = "03.log_loss_grad"
wrong(E, "missing-transpose", "X @ (σ(Xw) − y) instead of X.T @ ...: a shape error", """
    def log_loss_grad(X, y, w):
        return X @ (losses.sigmoid(X @ w) - y) / X.shape[0]
""", ("transpos|X.T",))
wrong(E, "wrong-axis-mean", "mean over axis=1: one number per sample", """
    def log_loss_grad(X, y, w):
        p = losses.sigmoid(X @ w)
        return np.mean(X * (p - y)[:, None], axis=1)
""", ("axis|shape",))
wrong(E, "sigmoid-sign", "1 / (1 + exp(z)) is σ(−z): the sign inside the exponential is flipped", """
    def log_loss_grad(X, y, w):
        p = 1 / (1 + np.exp(X @ w))
        return X.T @ (p - y) / X.shape[0]
""", ("sign|σ(−z)|σ(-z)",))
wrong(E, "divides-by-features", "divides by the number of features p", """
    def log_loss_grad(X, y, w):
        return X.T @ (losses.sigmoid(X @ w) - y) / X.shape[1]
""", ("samples|shape[0]",))
wrong(E, "tanh-instead-of-sigmoid", "tanh as the link function", """
    def log_loss_grad(X, y, w):
        return X.T @ (np.tanh(X @ w) - y) / X.shape[0]
""", ("tanh|sigmoid",))
wrong(E, "derivative-wrt-probability", "(p − y) / (p(1 − p)): the derivative with respect to p, chain rule stopped", """
    def log_loss_grad(X, y, w):
        p = losses.sigmoid(X @ w)
        return X.T @ ((p - y) / (p * (1 - p))) / X.shape[0]
""", ("chain|σ'|σ(1 − σ)|p(1 − p)",))
wrong(E, "integer-division", "// X.shape[0]: floor division of the gradient", """
    def log_loss_grad(X, y, w):
        return X.T @ (losses.sigmoid(X @ w) - y) // X.shape[0]
""", ("//|integer",))
wrong(E, "summed-to-scalar", "sums over everything: one number instead of a vector", """
    def log_loss_grad(X, y, w):
        p = losses.sigmoid(X @ w)
        return np.sum(X.T * (p - y)) / X.shape[0]
""", ("shape|vector",))
wrong(E, "math-exp-overflow", "σ with math.exp in a loop: OverflowError once a score passes −710", """
    def log_loss_grad(X, y, w):
        n = X.shape[0]
        grad = np.zeros(X.shape[1])
        for i in range(n):
            p_i = 1 / (1 + math.exp(-float(X[i] @ w)))
            grad += (p_i - y[i]) * X[i]
        return grad / n
""", ("overflow|sigmoid",))
wrong(E, "exp-over-one-plus-exp", "σ as exp(z) / (1 + exp(z)): inf / inf = NaN for large scores", """
    def log_loss_grad(X, y, w):
        z = X @ w
        p = np.exp(z) / (1 + np.exp(z))
        return X.T @ (p - y) / X.shape[0]
""", ("nan|overflow",))
right(E, "loop-over-samples", "a loop over the samples with losses.sigmoid", """
    def log_loss_grad(X, y, w):
        n = X.shape[0]
        grad = np.zeros_like(w)
        for i in range(n):
            p_i = losses.sigmoid(X[i] @ w)
            grad += (p_i - y[i]) * X[i]
        return grad / n
""")
right(E, "mean-over-axis-0", "mean over the samples of (p − y) x", """
    def log_loss_grad(X, y, w):
        p = losses.sigmoid(X @ w)
        return np.mean(X * (p - y)[:, None], axis=0)
""")
right(E, "residual-at-x", "(p − y) @ X / n", """
    def log_loss_grad(X, y, w):
        return (losses.sigmoid(X @ w) - y) @ X / len(y)
""")
right(E, "explicit-sigmoid", "σ written out as 1 / (1 + exp(−z))", """
    def log_loss_grad(X, y, w):
        z = X @ w
        p = 1.0 / (1.0 + np.exp(-z))
        return X.T @ (p - y) / X.shape[0]
""")
right(E, "scipy-expit", "scipy.special.expit", """
    from scipy.special import expit


    def log_loss_grad(X, y, w):
        return X.T.dot(expit(X.dot(w)) - y) / X.shape[0]
""")
right(E, "tanh-identity", "σ(z) = (1 + tanh(z/2)) / 2", """
    def log_loss_grad(X, y, w):
        p = 0.5 * (1 + np.tanh(0.5 * (X @ w)))
        return X.T @ (p - y) / X.shape[0]
""")
right(E, "w-at-x-transposed", "the scores as w @ X.T", """
    def log_loss_grad(X, y, w):
        n = X.shape[0]
        return np.dot(X.T, losses.sigmoid(w @ X.T) - y) / n
""")

E = "03.hinge_subgradient"
wrong(E, "precedence-y-times-x", "y * X @ w is (y * X) @ w: a broadcasting error", """
    def hinge_subgradient(X, y, w):
        active = (y * X @ w < 1).astype(float)
        return -(X.T @ (y * active)) / X.shape[0]
""", ("parenthes|precedence",))
wrong(E, "half-at-the-kink", "weight ½ on the kink: a subgradient, but not the course's convention", """
    def hinge_subgradient(X, y, w):
        margin = y * (X @ w)
        weight = (margin < 1) + 0.5 * (margin == 1)
        return -(X.T @ (y * weight)) / X.shape[0]
""", ("kink|convention",))
wrong(E, "mean-over-active-points", "divides by the number of active points instead of n", """
    def hinge_subgradient(X, y, w):
        active = (y * (X @ w) < 1).astype(float)
        return -(X.T @ (y * active)) / active.sum()
""", ("samples|shape[0]|1/n",))
wrong(E, "loss-as-weight", "weights each point by its hinge loss max(0, 1 − m) instead of an indicator", """
    def hinge_subgradient(X, y, w):
        loss = np.maximum(0, 1 - y * (X @ w))
        return -(X.T @ (y * loss)) / X.shape[0]
""", ("loss|indicator",))
wrong(E, "wrong-axis-mean", "mean over axis=1: one number per sample", """
    def hinge_subgradient(X, y, w):
        active = y * (X @ w) < 1
        return -np.mean(X * (y * active)[:, None], axis=1)
""", ("axis|shape",))
wrong(E, "library-grad-divided-again", "losses.hinge_grad already carries 1/n: dividing again is n times too small", """
    def hinge_subgradient(X, y, w):
        return X.T @ losses.hinge_grad(X @ w, y) / X.shape[0]
""", ("1/n|once too often|twice",))
wrong(E, "squared-hinge", "the gradient of the squared hinge (LinearSVC's default loss)", """
    def hinge_subgradient(X, y, w):
        return X.T @ losses.squared_hinge_grad(X @ w, y)
""", ("squared",))
wrong(E, "divides-by-features", "divides by the number of features", """
    def hinge_subgradient(X, y, w):
        active = (y * (X @ w) < 1).astype(float)
        return -(X.T @ (y * active)) / X.shape[1]
""", ("samples|shape[0]",))
wrong(E, "weights-by-margin", "weights each active point by its margin m instead of 1", """
    def hinge_subgradient(X, y, w):
        margin = y * (X @ w)
        return -(X.T @ (y * margin * (margin < 1))) / X.shape[0]
""")
right(E, "loop-with-if", "a loop with an if", """
    def hinge_subgradient(X, y, w):
        n, p = X.shape
        g = np.zeros(p)
        for i in range(n):
            if y[i] * (X[i] @ w) < 1:
                g -= y[i] * X[i]
        return g / n
""")
right(E, "where-weights", "np.where(m < 1, −y, 0) @ X / n", """
    def hinge_subgradient(X, y, w):
        m = y * (X @ w)
        return np.where(m < 1, -y, 0.0) @ X / X.shape[0]
""")
right(E, "counts-the-kink", "<= 1: the other end of the subdifferential, accepted by the exercise", """
    def hinge_subgradient(X, y, w):
        active = y * (X @ w) <= 1
        return -X.T @ (y * active) / X.shape[0]
""")
right(E, "heaviside", "np.heaviside(1 − m, 0): 0 exactly at the kink", """
    def hinge_subgradient(X, y, w):
        active = np.heaviside(1 - y * (X @ w), 0.0)
        return -(X.T @ (y * active)) / X.shape[0]
""")
right(E, "sign-of-hinge", "sign(max(0, 1 − m)) as the indicator (0 on the kink)", """
    def hinge_subgradient(X, y, w):
        active = np.sign(np.maximum(0.0, 1 - y * (X @ w)))
        return -(X.T @ (y * active)) / X.shape[0]
""")
right(E, "library-hinge-grad", "the chain rule through losses.hinge_grad (which already averages)", """
    def hinge_subgradient(X, y, w):
        return X.T @ losses.hinge_grad(X @ w, y)
""")
right(E, "boolean-index", "selects the active rows with a boolean mask", """
    def hinge_subgradient(X, y, w):
        violators = y * (X @ w) < 1
        return -np.sum(y[violators][:, None] * X[violators], axis=0) / len(y)
""")

E = "03.support_vectors"
wrong(E, "points-of-option-b", "names the points B and C (option b's content) instead of a letter", """
    answer = "B, C"
""", ("misclassified|wrong side",))
wrong(E, "hedge-b-or-c", "hedges between options b and c", """
    answer = "b or c"
""")
wrong(E, "only-b-text", "'B only' written out (option a's content)", """
    answer = "B only"
""")
right(E, "upper-case", "the letter in upper case", """
    answer = "C"
""")
right(E, "padded", "the letter with spaces around it", """
    answer = "  c  "
""")
right(E, "trailing-newline", "the letter with a newline", """
    answer = "c\\n"
""")

# === 04 · backpropagation ================================================================================

E = "04.chain_rule"
wrong(E, "sign-flipped", "2(t − y) instead of 2(y − t)", """
    w, x, b, t = 0.5, 3.0, -0.5, 1.0
    y = math.tanh(w * x + b)
    answer = 2 * (t - y) * (1 - y**2) * x
""", ("sign",))
wrong(E, "sigmoid-derivative", "y(1 − y), the sigmoid's derivative, for tanh", """
    w, x, b, t = 0.5, 3.0, -0.5, 1.0
    y = math.tanh(w * x + b)
    answer = 2 * (y - t) * y * (1 - y) * x
""", ("tanh|1 − y²",))
wrong(E, "times-w-instead-of-x", "∂z/∂w taken as w instead of x", """
    w, x, b, t = 0.5, 3.0, -0.5, 1.0
    y = math.tanh(w * x + b)
    answer = 2 * (y - t) * (1 - y**2) * w
""", ("∂z/∂w|`x`|input",))
wrong(E, "one-minus-y-squared-misplaced", "(1 − y)² instead of 1 − y²", """
    w, x, b, t = 0.5, 3.0, -0.5, 1.0
    y = math.tanh(w * x + b)
    answer = 2 * (y - t) * (1 - y) ** 2 * x
""", ("1 − y²|tanh",))
wrong(E, "forward-difference", "a forward difference with h = 0.01 instead of the formula", """
    def L(w):
        return (math.tanh(w * 3.0 - 0.5) - 1.0) ** 2


    h = 0.01
    answer = (L(0.5 + h) - L(0.5)) / h
""")
wrong(E, "rounded", "rounded to 2 decimals", """
    w, x, b, t = 0.5, 3.0, -0.5, 1.0
    y = math.tanh(w * x + b)
    answer = round(2 * (y - t) * (1 - y**2) * x, 2)
""", ("round",))
wrong(E, "bias-sign", "z = w x − b: the bias subtracted", """
    w, x, b, t = 0.5, 3.0, -0.5, 1.0
    y = math.tanh(w * x - b)
    answer = 2 * (y - t) * (1 - y**2) * x
""", ("bias|w·x + b|wx + b",))
right(E, "notebook-variables", "the chain rule on the notebook's forward pass", """
    w, x, b, t = 0.5, 3.0, -0.5, 1.0
    z = w * x + b
    y = math.tanh(z)
    answer = 2 * (y - t) * (1 - y**2) * x
""")
right(E, "sech-squared", "1/cosh²(z) for the tanh derivative", """
    z = 0.5 * 3 - 0.5
    answer = 2 * (math.tanh(z) - 1) / math.cosh(z) ** 2 * 3
""")
right(E, "numpy", "NumPy functions (a NumPy float)", """
    z = np.float64(1.0)
    y = np.tanh(z)
    answer = 2 * (y - 1) * (1 - np.tanh(z) ** 2) * 3
""")
right(E, "sympy-diff", "sympy differentiates; the result is a sympy Float", """
    w = sympy.Symbol("w")
    L = (sympy.tanh(w * 3 - sympy.Rational(1, 2)) - 1) ** 2
    answer = sympy.diff(L, w).subs(w, sympy.Rational(1, 2)).evalf()
""")
right(E, "sympy-to-float", "sympy differentiates; converted with float()", """
    w = sympy.Symbol("w")
    L = (sympy.tanh(w * 3 - sympy.Rational(1, 2)) - 1) ** 2
    answer = float(sympy.diff(L, w).subs(w, sympy.Rational(1, 2)))
""")
right(E, "four-significant-digits", "−0.6007, copied from the printed value", """
    answer = -0.6007
""")
right(E, "local-gradients", "one local gradient per line, multiplied", """
    y = math.tanh(1.0)
    dL_dy = 2 * (y - 1.0)
    dy_dz = 1 - y * y
    dz_dw = 3.0
    answer = dL_dy * dy_dz * dz_dw
""")

E = "04.linear_backward"
wrong(E, "both-transposed", "grad_x uses Wᵀ and grad_W is transposed too", """
    def linear_backward(x, W, b, grad_out):
        return grad_out @ W.T, x.T @ grad_out, grad_out.sum(axis=0)
""", ("transpos",))
wrong(E, "grad-w-averaged", "divides grad_W by the batch size", """
    def linear_backward(x, W, b, grad_out):
        return grad_out @ W, grad_out.T @ x / x.shape[0], grad_out.sum(axis=0)
""", ("batch|mean|1/n|sum",))
wrong(E, "grad-b-summed-to-scalar", "grad_b summed over everything: one number", """
    def linear_backward(x, W, b, grad_out):
        return grad_out @ W, grad_out.T @ x, np.sum(grad_out)
""", ("axis|shape",))
wrong(E, "w-times-grad-out", "W @ grad_out: the factors in the wrong order (a shape error)", """
    def linear_backward(x, W, b, grad_out):
        return W @ grad_out, grad_out.T @ x, grad_out.sum(axis=0)
""", ("order|shape",))
wrong(E, "order-swapped", "returns (grad_W, grad_x, grad_b)", """
    def linear_backward(x, W, b, grad_out):
        grad_x = grad_out @ W
        grad_W = grad_out.T @ x
        return grad_W, grad_x, grad_out.sum(axis=0)
""", ("order",))
wrong(E, "outer-of-sums", "grad_W as the outer product of the batch sums", """
    def linear_backward(x, W, b, grad_out):
        grad_W = np.outer(grad_out.sum(axis=0), x.sum(axis=0))
        return grad_out @ W, grad_W, grad_out.sum(axis=0)
""")
wrong(E, "grad-b-keepdims", "grad_b with keepdims=True: shape (1, n_out) instead of b's (n_out,)", """
    def linear_backward(x, W, b, grad_out):
        return grad_out @ W, grad_out.T @ x, np.sum(grad_out, axis=0, keepdims=True)
""", ("shape|flat|row vector",))
right(E, "einsum", "np.einsum for all three", """
    def linear_backward(x, W, b, grad_out):
        grad_x = np.einsum("nj,ji->ni", grad_out, W)
        grad_W = np.einsum("nj,ni->ji", grad_out, x)
        grad_b = np.einsum("nj->j", grad_out)
        return grad_x, grad_W, grad_b
""")
right(E, "loops", "explicit loops over the batch", """
    def linear_backward(x, W, b, grad_out):
        grad_x = np.zeros_like(x)
        grad_W = np.zeros_like(W)
        grad_b = np.zeros_like(b)
        for n in range(x.shape[0]):
            grad_x[n] = W.T @ grad_out[n]
            grad_W += np.outer(grad_out[n], x[n])
            grad_b += grad_out[n]
        return grad_x, grad_W, grad_b
""")
right(E, "transpose-of-product", "grad_W as (x.T @ grad_out).T, returned as a list", """
    def linear_backward(x, W, b, grad_out):
        return [np.dot(grad_out, W), (x.T @ grad_out).T, np.ones(x.shape[0]) @ grad_out]
""")
right(E, "xp-functions", "xp.matmul, xp.matrix_transpose and xp.sum", """
    def linear_backward(x, W, b, grad_out):
        grad_x = xp.matmul(grad_out, W)
        grad_W = xp.matmul(xp.matrix_transpose(grad_out), x)
        grad_b = xp.sum(grad_out, axis=0)
        return grad_x, grad_W, grad_b
""")
right(E, "autodiff-tensor", "gdcourse's autodiff Tensor run backward", """
    from gdcourse.autodiff import Tensor


    def linear_backward(x, W, b, grad_out):
        xt, Wt, bt = (Tensor(a, requires_grad=True) for a in (x, W, b))
        (xt @ Wt.T + bt).backward(grad_out)
        return xt.grad, Wt.grad, bt.grad
""")

E = "04.relu_backward"
wrong(E, "times-sign", "grad_out * sign(x): negative inputs flip the gradient instead of stopping it", """
    def relu_backward(x, grad_out):
        return grad_out * np.sign(x)
""", ("sign|x < 0|`x` < 0",))
wrong(E, "half-at-zero", "np.heaviside(x, 0.5): slope ½ at the kink, not the course's 0", """
    def relu_backward(x, grad_out):
        return grad_out * np.heaviside(x, 0.5)
""", ("kink|at 0|x = 0|`x` = 0|zero",))
wrong(E, "keeps-x-elsewhere", "np.where(x > 0, grad_out, x): keeps x where the gradient should be 0", """
    def relu_backward(x, grad_out):
        return np.where(x > 0, grad_out, x)
""")
wrong(E, "boolean-index", "grad_out[x > 0]: a shorter 1-D array, not the shape of x", """
    def relu_backward(x, grad_out):
        return grad_out[x > 0]
""", ("shape",))
wrong(E, "relu-over-x", "grad_out * relu(x) / x: NaN at x = 0", """
    def relu_backward(x, grad_out):
        return grad_out * np.maximum(x, 0) / x
""", ("nan|0/0",))
wrong(E, "mask-on-x-sign-negated", "passes the gradient where x < 0 instead of x > 0", """
    def relu_backward(x, grad_out):
        return np.where(x < 0, grad_out, 0.0)
""", ("x > 0",))
right(E, "times-boolean-mask", "grad_out * (x > 0)", """
    def relu_backward(x, grad_out):
        return grad_out * (x > 0)
""")
right(E, "heaviside-zero", "np.heaviside(x, 0)", """
    def relu_backward(x, grad_out):
        return grad_out * np.heaviside(x, 0.0)
""")
right(E, "copy-and-zero", "copies grad_out, then zeroes it where x <= 0", """
    def relu_backward(x, grad_out):
        grad = grad_out.copy()
        grad[x <= 0] = 0
        return grad
""")
right(E, "where-inverted", "np.where(x <= 0, 0.0, grad_out)", """
    def relu_backward(x, grad_out):
        return np.where(x <= 0, 0.0, grad_out)
""")
right(E, "loop", "a loop over every entry", """
    def relu_backward(x, grad_out):
        grad_x = np.zeros_like(grad_out)
        for i in np.ndindex(x.shape):
            if x[i] > 0:
                grad_x[i] = grad_out[i]
        return grad_x
""")
right(E, "float-mask", "a float mask via astype", """
    def relu_backward(x, grad_out):
        return (x > 0).astype(grad_out.dtype) * grad_out
""")

# === 05 · stochastic descent =============================================================================

E = "05.minibatches"
wrong(E, "legacy-global-rng", "np.random.seed + np.random.permutation: another generator, another order", """
    def minibatches(n, batch_size, seed):
        np.random.seed(seed)
        perm = np.random.permutation(n)
        return [perm[i:i + batch_size] for i in range(0, n, batch_size)]
""", ("default_rng",))
wrong(E, "rng-choice", "rng.choice(n, n, replace=False): a permutation, but not the one asked for", """
    def minibatches(n, batch_size, seed):
        perm = np.random.default_rng(seed).choice(n, size=n, replace=False)
        return [perm[i:i + batch_size] for i in range(0, n, batch_size)]
""", ("permutation",))
wrong(E, "with-replacement", "rng.integers(0, n, n): drawn with replacement, some examples twice", """
    def minibatches(n, batch_size, seed):
        idx = np.random.default_rng(seed).integers(0, n, size=n)
        return [idx[i:i + batch_size] for i in range(0, n, batch_size)]
""", ("replacement|permutation",))
wrong(E, "lists-of-lists", "each batch as a Python list", """
    def minibatches(n, batch_size, seed):
        perm = np.random.default_rng(seed).permutation(n)
        return [list(perm[i:i + batch_size]) for i in range(0, n, batch_size)]
""", ("list|array",))
wrong(E, "batches-one-too-long", "perm[i:i + batch_size + 1]: consecutive batches share an example", """
    def minibatches(n, batch_size, seed):
        perm = np.random.default_rng(seed).permutation(n)
        return [perm[i:i + batch_size + 1] for i in range(0, n, batch_size)]
""", ("batch_size|off by one|off-by-one|one entry too many",))
wrong(E, "extra-empty-batch", "n // batch_size + 1 batches: an empty last batch when batch_size divides n", """
    def minibatches(n, batch_size, seed):
        perm = np.random.default_rng(seed).permutation(n)
        return [perm[k * batch_size:(k + 1) * batch_size] for k in range(n // batch_size + 1)]
""", ("empty|extra item",))
wrong(E, "reshape", "perm.reshape(-1, batch_size): fails when batch_size does not divide n", """
    def minibatches(n, batch_size, seed):
        perm = np.random.default_rng(seed).permutation(n)
        return list(perm.reshape(-1, batch_size))
""", ("last|divide",))
wrong(E, "generator", "yields the batches: a generator, not a list", """
    def minibatches(n, batch_size, seed):
        perm = np.random.default_rng(seed).permutation(n)
        for i in range(0, n, batch_size):
            yield perm[i:i + batch_size]
""", ("list|generator",))
wrong(E, "seed-ignored", "a fixed seed 0 instead of the seed argument", """
    def minibatches(n, batch_size, seed):
        perm = np.random.default_rng(0).permutation(n)
        return [perm[i:i + batch_size] for i in range(0, n, batch_size)]
""", ("seed",))
right(E, "np-split-indices", "np.split at the multiples of batch_size", """
    def minibatches(n, batch_size, seed):
        perm = np.random.default_rng(seed).permutation(n)
        return np.split(perm, range(batch_size, n, batch_size))
""")
right(E, "shuffle-arange", "rng.shuffle on np.arange(n) (what permutation(n) does)", """
    def minibatches(n, batch_size, seed):
        rng = np.random.default_rng(seed)
        order = np.arange(n)
        rng.shuffle(order)
        return [order[start:start + batch_size] for start in range(0, n, batch_size)]
""")
right(E, "while-loop", "a while loop", """
    def minibatches(n, batch_size, seed):
        perm = np.random.default_rng(seed).permutation(n)
        batches, start = [], 0
        while start < n:
            batches.append(perm[start:start + batch_size])
            start += batch_size
        return batches
""")
right(E, "ceil-count", "k over math.ceil(n / batch_size) batches", """
    def minibatches(n, batch_size, seed):
        perm = np.random.default_rng(seed).permutation(n)
        return [perm[k * batch_size:(k + 1) * batch_size] for k in range(math.ceil(n / batch_size))]
""")
right(E, "array-split-at-indices", "np.array_split with split points (not a number of sections)", """
    def minibatches(n, batch_size, seed):
        perm = np.random.default_rng(seed).permutation(n)
        return list(np.array_split(perm, np.arange(batch_size, n, batch_size)))
""")
right(E, "gdcourse-minibatch-indices", "gdcourse.data.minibatch_indices, which the exercise says it is", """
    from gdcourse.data import minibatch_indices


    def minibatches(n, batch_size, seed):
        return minibatch_indices(n, batch_size, shuffle=True, drop_last=False, seed=seed)
""")

E = "05.grad_variance"
wrong(E, "precedence", "12 / 10 * (100 - 10) / 100 - 1: the − 1 falls outside the fraction", """
    answer = 12 / 10 * (100 - 10) / 100 - 1
""", ("parenthes|n − 1",))
wrong(E, "forgot-batch-size", "σ²(n − B)/(n − 1): the division by B is missing", """
    answer = 12 * (100 - 10) / (100 - 1)
""", ("batch",))
wrong(E, "integer-division", "// floors the correction: 1.0", """
    answer = 12 / 10 * (100 - 10) // (100 - 1)
""", ("//|integer",))
wrong(E, "bessel-on-batch", "σ²/(B − 1), Bessel's correction in the wrong place", """
    answer = 12 / (10 - 1)
""")
wrong(E, "rounded", "rounded to 2 decimals, 1.09", """
    answer = round(12 / 10 * 90 / 99, 2)
""", ("round|digit",))
right(E, "float", "12/11 as a float", """
    answer = 12 / 11
""")
right(E, "fraction", "fractions.Fraction arithmetic", """
    from fractions import Fraction

    answer = Fraction(12, 10) * Fraction(100 - 10, 100 - 1)
""")
right(E, "sympy-rational", "sympy.Rational(12, 11)", """
    answer = sympy.Rational(12, 10) * sympy.Rational(90, 99)
""")
right(E, "named-variables", "the formula with named variables", """
    sigma2, n, B = 12, 100, 10
    answer = sigma2 / B * (n - B) / (n - 1)
""")
right(E, "numpy-float", "a NumPy float", """
    answer = np.float64(12) / 10 * (1 - (10 - 1) / (100 - 1))
""")
right(E, "four-decimals", "1.0909, four decimals", """
    answer = 1.0909
""")

E = "05.fix_divergence"
wrong(E, "hedge-a-and-c", "hedges between a smaller batch and a smaller learning rate", """
    answer = "a and c"
""", ("several options",))  # a hedge is told to pick one: naming why the others are wrong would give the answer away
wrong(E, "hedge-b-c", "hedges between b and c", """
    answer = "b, c"
""")
wrong(E, "smaller-batch-text", "'smaller batch' written out (option a's idea)", """
    answer = "smaller batch"
""", ("batch",))
right(E, "upper-case", "the letter in upper case", """
    answer = "C"
""")
right(E, "trailing-space", "the letter with a trailing space", """
    answer = "c "
""")
right(E, "tab-and-space", "the letter with a tab and a space", """
    answer = "\\tC "
""")

# === 06 · momentum =======================================================================================

E = "06.momentum_step"
wrong(E, "in-place", "v *= beta; v += grad; theta -= lr * v: right numbers, but the caller's arrays change", """
    def momentum_step(theta, v, grad, lr, beta):
        v *= beta
        v += grad
        theta -= lr * v
        return theta, v
""", ("modif|in place",))
wrong(E, "lr-inside-velocity", "v ← βv + ηg, θ ← θ − v: η folded into v, another convention", """
    def momentum_step(theta, v, grad, lr, beta):
        v = beta * v + lr * grad
        return theta - v, v
""", ("convention|η",))
wrong(E, "returns-old-velocity", "θ moves with the new velocity, but the old v is returned", """
    def momentum_step(theta, v, grad, lr, beta):
        v_new = beta * v + grad
        return theta - lr * v_new, v
""", ("new|velocity|unchanged",))
wrong(E, "velocity-sign", "v ← βv − g with θ ← θ − ηv: climbs", """
    def momentum_step(theta, v, grad, lr, beta):
        v = beta * v - grad
        return theta - lr * v, v
""", ("sign",))
wrong(E, "beta-on-both", "v ← β(v + g): the parenthesis puts β on the gradient too", """
    def momentum_step(theta, v, grad, lr, beta):
        v = beta * (v + grad)
        return theta - lr * v, v
""", ("β|beta",))
wrong(E, "velocity-unused", "updates v but steps θ with the plain gradient", """
    def momentum_step(theta, v, grad, lr, beta):
        v = beta * v + grad
        theta = theta - lr * grad
        return theta, v
""", ("velocity|`v`",))
wrong(E, "stacked-array", "np.array([theta, v]): one stacked array instead of a pair", """
    def momentum_step(theta, v, grad, lr, beta):
        v = beta * v + grad
        return np.array([theta - lr * v, v])
""", ("pair|tuple",))
right(E, "returns-list", "returns the pair as a list", """
    def momentum_step(theta, v, grad, lr, beta):
        v_new = beta * v + grad
        theta_new = theta - lr * v_new
        return [theta_new, v_new]
""")
right(E, "np-functions", "np.add and np.multiply", """
    def momentum_step(theta, v, grad, lr, beta):
        v = np.add(np.multiply(beta, v), grad)
        return np.subtract(theta, np.multiply(lr, v)), v
""")
right(E, "copies-then-in-place", "copies both arrays, then updates the copies in place", """
    def momentum_step(theta, v, grad, lr, beta):
        theta, v = theta.copy(), v.copy()
        v *= beta
        v += grad
        theta -= lr * v
        return theta, v
""")
right(E, "inline", "the new velocity written twice inline", """
    def momentum_step(theta, v, grad, lr, beta):
        return theta - lr * (beta * v + grad), beta * v + grad
""")
right(E, "expanded", "θ − ηβv − ηg expanded", """
    def momentum_step(theta, v, grad, lr, beta):
        new_theta = theta - lr * beta * v - lr * grad
        new_v = grad + beta * v
        return (new_theta, new_v)
""")

E = "06.nesterov_step"
wrong(E, "look-behind", "gradient at θ − βv: the look-ahead in the wrong direction", """
    def nesterov_step(theta, v, grad_fn, lr, beta):
        v = beta * v - lr * grad_fn(theta - beta * v)
        return theta + v, v
""", ("look-ahead|θ + βv",))
wrong(E, "look-ahead-with-lr", "look-ahead point θ + ηv: η where β belongs", """
    def nesterov_step(theta, v, grad_fn, lr, beta):
        v = beta * v - lr * grad_fn(theta + lr * v)
        return theta + v, v
""", ("look-ahead|θ + βv",))
wrong(E, "torch-convention", "torch's SGD(nesterov=True) update, another convention for theta and v", """
    def nesterov_step(theta, v, grad_fn, lr, beta):
        g = grad_fn(theta)
        v = beta * v + g
        return theta - lr * (g + beta * v), v
""", ("convention|look-ahead",))
wrong(E, "in-place", "v *= beta; v -= lr * grad_fn(theta + v); theta += v: right numbers, inputs modified", """
    def nesterov_step(theta, v, grad_fn, lr, beta):
        v *= beta
        v -= lr * grad_fn(theta + v)
        theta += v
        return theta, v
""", ("modif|in place",))
wrong(E, "lr-outside-velocity", "v ← βv − ∇J(θ + βv), θ ← θ + ηv: η on the velocity instead of the gradient", """
    def nesterov_step(theta, v, grad_fn, lr, beta):
        v = beta * v - grad_fn(theta + beta * v)
        return theta + lr * v, v
""", ("η|lr",))
wrong(E, "returns-look-ahead", "returns the look-ahead point θ + βv as the new θ", """
    def nesterov_step(theta, v, grad_fn, lr, beta):
        ahead = theta + beta * v
        v = beta * v - lr * grad_fn(ahead)
        return ahead, v
""", ("look-ahead",))
right(E, "named-look-ahead", "names the look-ahead point", """
    def nesterov_step(theta, v, grad_fn, lr, beta):
        lookahead = theta + beta * v
        g = grad_fn(lookahead)
        v_new = beta * v - lr * g
        return theta + v_new, v_new
""")
right(E, "returns-list", "returns a list", """
    def nesterov_step(theta, v, grad_fn, lr, beta):
        v = beta * v - lr * grad_fn(theta + beta * v)
        theta = theta + v
        return [theta, v]
""")
right(E, "copies-then-in-place", "in-place updates on copies", """
    def nesterov_step(theta, v, grad_fn, lr, beta):
        v = np.copy(v)
        v *= beta
        v -= lr * grad_fn(theta + v)
        return theta + v, v
""")
right(E, "expanded", "θ + βv − η∇J(θ + βv) written out", """
    def nesterov_step(theta, v, grad_fn, lr, beta):
        step = -lr * grad_fn(theta + beta * v)
        return theta + beta * v + step, beta * v + step
""")

E = "06.optimal_beta"
wrong(E, "precedence", "(√κ − 1)/(√κ + 1)**2: only the denominator is squared", """
    answer = (math.sqrt(49) - 1) / (math.sqrt(49) + 1) ** 2
""", ("parenthes|square",))
wrong(E, "square-root-instead-of-square", "the square root of the rate instead of its square", """
    answer = ((math.sqrt(49) - 1) / (math.sqrt(49) + 1)) ** 0.5
""", ("square",))
wrong(E, "squared-nesterov-rate", "(1 − 1/√κ)²", """
    answer = (1 - 1 / math.sqrt(49)) ** 2
""")
wrong(E, "integer-division", "(7 − 1) // (7 + 1) ** 2 is 0", """
    answer = (7 - 1) // (7 + 1) ** 2
""", ("//|integer",))
wrong(E, "times-two", "* 2 typed for ** 2", """
    answer = ((7 - 1) / (7 + 1)) * 2
""", ("square|**",))
wrong(E, "complex", "cmath.sqrt gives a complex number: β is asked as a real number", """
    import cmath

    answer = ((cmath.sqrt(49) - 1) / (cmath.sqrt(49) + 1)) ** 2
""", ("complex|real",))
right(E, "formula", "the formula with math.sqrt", """
    kappa = 49
    answer = ((math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)) ** 2
""")
right(E, "fraction-9-16", "9/16 as a Fraction", """
    from fractions import Fraction

    answer = Fraction(6, 8) ** 2
""")
right(E, "sympy", "sympy's exact value", """
    kappa = sympy.Integer(49)
    answer = ((sympy.sqrt(kappa) - 1) / (sympy.sqrt(kappa) + 1)) ** 2
""")
right(E, "float", "0.5625", """
    answer = 0.5625
""")
right(E, "other-form", "(1 − 2/(√κ + 1))², an equivalent form", """
    answer = (1 - 2 / (np.sqrt(49) + 1)) ** 2
""")
right(E, "three-significant-digits", "0.563: 0.5625 rounded half up to three significant digits", """
    answer = 0.563
""")
right(E, "float32", "a float32 scalar", """
    answer = np.float32(9 / 16)
""")

E = "06.ringing"
wrong(E, "hedge-b-c", "hedges between less momentum and a larger learning rate", """
    answer = "b, c"
""", ("several options",))  # a hedge is told to pick one: naming why the others are wrong would give the answer away
wrong(E, "more-momentum-text", "'more momentum' written out", """
    answer = "more momentum"
""", ("√β|friction",))
wrong(E, "hedge-a-or-b", "hedges between a and b", """
    answer = "a/b"
""")
right(E, "upper-case", "the letter in upper case", """
    answer = "B"
""")
right(E, "leading-space", "the letter with a leading space", """
    answer = " b"
""")
right(E, "trailing-newline", "the letter with a newline", """
    answer = "b\\n"
""")

# === 07 · adaptive methods ===============================================================================

E = "07.rmsprop_step"
wrong(E, "in-place", "updates v and theta in place: the statement says not to modify the inputs", """
    def rmsprop_step(theta, grad, v, lr, alpha, eps):
        v *= alpha
        v += (1 - alpha) * grad**2
        theta -= lr * grad / (np.sqrt(v) + eps)
        return theta, v
""", ("modif|in place",))
wrong(E, "eps-precedence", "lr * grad / np.sqrt(v) + eps: ε added to θ instead of the denominator", """
    def rmsprop_step(theta, grad, v, lr, alpha, eps):
        v = alpha * v + (1 - alpha) * grad**2
        return theta - lr * grad / np.sqrt(v) + eps, v
""", ("ε|eps|parenthes",))
wrong(E, "times-two-for-square", "grad * 2 typed for grad ** 2: NaN from the root of negative averages", """
    def rmsprop_step(theta, grad, v, lr, alpha, eps):
        v = alpha * v + (1 - alpha) * grad * 2
        return theta - lr * grad / (np.sqrt(v) + eps), v
""", ("square|**",))
wrong(E, "gradient-missing-in-step", "θ − η/(√v + ε): the gradient itself is left out of the step", """
    def rmsprop_step(theta, grad, v, lr, alpha, eps):
        v = alpha * v + (1 - alpha) * grad**2
        return theta - lr / (np.sqrt(v) + eps), v
""", ("gradient|`grad`",))
wrong(E, "dot-product", "grad @ grad: the squared norm (one number) instead of the elementwise square", """
    def rmsprop_step(theta, grad, v, lr, alpha, eps):
        v = alpha * v + (1 - alpha) * (grad @ grad)
        return theta - lr * grad / (np.sqrt(v) + eps), v
""", ("elementwise",))
wrong(E, "order-swapped", "returns (v, theta)", """
    def rmsprop_step(theta, grad, v, lr, alpha, eps):
        v = alpha * v + (1 - alpha) * grad**2
        return v, theta - lr * grad / (np.sqrt(v) + eps)
""", ("order",))
wrong(E, "returns-theta-only", "returns only theta", """
    def rmsprop_step(theta, grad, v, lr, alpha, eps):
        v = alpha * v + (1 - alpha) * grad**2
        return theta - lr * grad / (np.sqrt(v) + eps)
""", ("pair|tuple|both|all of them",))
right(E, "power-half", "v ** 0.5 and np.square", """
    def rmsprop_step(theta, grad, v, lr, alpha, eps):
        v = alpha * v + (1 - alpha) * np.square(grad)
        return theta - lr * grad / (v**0.5 + eps), v
""")
right(E, "xp-sqrt-list", "xp.sqrt, returned as a list", """
    def rmsprop_step(theta, grad, v, lr, alpha, eps):
        v_new = alpha * v + (1 - alpha) * grad * grad
        theta_new = theta - lr * grad / (xp.sqrt(v_new) + eps)
        return [theta_new, v_new]
""")
right(E, "copies-then-in-place", "in-place updates on copies", """
    def rmsprop_step(theta, grad, v, lr, alpha, eps):
        theta, v = theta.copy(), v.copy()
        v *= alpha
        v += (1 - alpha) * grad**2
        theta -= lr * grad / (np.sqrt(v) + eps)
        return theta, v
""")
right(E, "step-size-first", "computes the per-coordinate step size first", """
    def rmsprop_step(theta, grad, v, lr, alpha, eps):
        v = v + (1 - alpha) * (grad**2 - v)
        step_size = lr / (np.sqrt(v) + eps)
        return theta - step_size * grad, v
""")
right(E, "np-power", "np.power for both powers", """
    def rmsprop_step(theta, grad, v, lr, alpha, eps):
        v = np.multiply(alpha, v) + np.multiply(1 - alpha, np.power(grad, 2))
        return theta - lr * grad / (np.power(v, 0.5) + eps), v
""")

E = "07.adam_step"
wrong(E, "corrects-m-only", "bias-corrects m but not v", """
    def adam_step(theta, grad, m, v, t, lr, beta1, beta2, eps):
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad**2
        m_hat = m / (1 - beta1**t)
        return theta - lr * m_hat / (np.sqrt(v) + eps), m, v
""", ("bias|correct",))
wrong(E, "corrects-v-only", "bias-corrects v but not m", """
    def adam_step(theta, grad, m, v, t, lr, beta1, beta2, eps):
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad**2
        v_hat = v / (1 - beta2**t)
        return theta - lr * m / (np.sqrt(v_hat) + eps), m, v
""", ("bias|correct",))
wrong(E, "times-t-for-power", "1 − β·t typed for 1 − βᵗ", """
    def adam_step(theta, grad, m, v, t, lr, beta1, beta2, eps):
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad**2
        m_hat = m / (1 - beta1 * t)
        v_hat = v / (1 - beta2 * t)
        return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m, v
""", ("power|βᵗ|**",))
wrong(E, "beta1-in-v-correction", "v̂ = v / (1 − β₁ᵗ): β₁ typed where β₂ belongs in the second correction", """
    def adam_step(theta, grad, m, v, t, lr, beta1, beta2, eps):
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad**2
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta1**t)
        return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m, v
""", ("β₂|beta2",))
wrong(E, "power-on-parenthesis", "(1 − β)ᵗ instead of 1 − βᵗ", """
    def adam_step(theta, grad, m, v, t, lr, beta1, beta2, eps):
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad**2
        m_hat = m / (1 - beta1) ** t
        v_hat = v / (1 - beta2) ** t
        return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m, v
""", ("parenthes|βᵗ",))
wrong(E, "in-place", "updates m, v and theta in place: right numbers, inputs modified", """
    def adam_step(theta, grad, m, v, t, lr, beta1, beta2, eps):
        m *= beta1
        m += (1 - beta1) * grad
        v *= beta2
        v += (1 - beta2) * grad**2
        theta -= lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
        return theta, m, v
""", ("modif|in place",))
wrong(E, "returns-t-too", "returns (theta, m, v, t + 1): four items", """
    def adam_step(theta, grad, m, v, t, lr, beta1, beta2, eps):
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad**2
        m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
        return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m, v, t + 1
""", ("three|items",))
wrong(E, "returns-corrected-m-only", "returns m̂ (corrected) with the uncorrected v", """
    def adam_step(theta, grad, m, v, t, lr, beta1, beta2, eps):
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad**2
        m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
        return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m_hat, v
""", ("uncorrected|m̂",))
wrong(E, "square-of-sqrt", "divides by (√v̂ + ε)²", """
    def adam_step(theta, grad, m, v, t, lr, beta1, beta2, eps):
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad**2
        m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
        return theta - lr * m_hat / (np.sqrt(v_hat) + eps) ** 2, m, v
""")
right(E, "efficient-form", "Kingma & Ba's efficient ordering, accepted by the exercise", """
    def adam_step(theta, grad, m, v, t, lr, beta1, beta2, eps):
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad**2
        lr_t = lr * math.sqrt(1 - beta2**t) / (1 - beta1**t)
        return theta - lr_t * m / (np.sqrt(v) + eps), m, v
""")
right(E, "power-half-list", "v_hat ** 0.5, returned as a list", """
    def adam_step(theta, grad, m, v, t, lr, beta1, beta2, eps):
        m_new = beta1 * m + (1 - beta1) * grad
        v_new = beta2 * v + (1 - beta2) * grad * grad
        m_hat = m_new / (1 - beta1**t)
        v_hat = v_new / (1 - beta2**t)
        return [theta - lr * m_hat / (v_hat**0.5 + eps), m_new, v_new]
""")
right(E, "copies-then-in-place", "in-place updates on copies", """
    def adam_step(theta, grad, m, v, t, lr, beta1, beta2, eps):
        theta, m, v = theta.copy(), m.copy(), v.copy()
        m *= beta1
        m += (1 - beta1) * grad
        v *= beta2
        v += (1 - beta2) * np.square(grad)
        theta -= lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
        return theta, m, v
""")
right(E, "math-pow", "math.pow for the corrections and xp.sqrt", """
    def adam_step(theta, grad, m, v, t, lr, beta1, beta2, eps):
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad**2
        bias1 = 1 - math.pow(beta1, t)
        bias2 = 1 - math.pow(beta2, t)
        update = (m / bias1) / (xp.sqrt(v / bias2) + eps)
        return theta - lr * update, m, v
""")
right(E, "interpolation-form", "the averages written as m + (1 − β)(g − m)", """
    def adam_step(theta, grad, m, v, t, lr, beta1, beta2, eps):
        m = m + (1 - beta1) * (grad - m)
        v = v + (1 - beta2) * (grad**2 - v)
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m, v
""")

E = "07.first_step"
wrong(E, "hedge-a-b", "hedges between a and b", """
    answer = "a, b"
""")
wrong(E, "option-a-text", "'10 times smaller' written out", """
    answer = "10 times smaller"
""", ("v₁|√v",))
wrong(E, "hedge-b-and-d", "hedges between b and d", """
    answer = "b and d"
""")
right(E, "upper-case", "the letter in upper case", """
    answer = "B"
""")
right(E, "leading-space", "the letter with a leading space", """
    answer = " b"
""")
right(E, "trailing-newline", "the letter with a newline", """
    answer = "b\\n"
""")

# === 08 · regularisation =================================================================================

E = "08.soft_threshold"
wrong(E, "nan-at-zero", "v / |v| for the sign: NaN at v = 0, where S_t(0) = 0", """
    def soft_threshold(v, t):
        return v / np.abs(v) * np.maximum(np.abs(v) - t, 0)
""", ("nan|0/0|zero",))
wrong(E, "shrinks-negatives-away", "np.where(|v| > t, v − t, 0): negative entries move away from 0", """
    def soft_threshold(v, t):
        return np.where(np.abs(v) > t, v - t, 0.0)
""", ("sign|negative",))
wrong(E, "small-entries-kept", "shrinks the large entries but keeps the small ones unchanged", """
    def soft_threshold(v, t):
        return np.where(v > t, v - t, np.where(v < -t, v + t, v))
""", ("zero|small|exactly 0",))
wrong(E, "python-max", "Python's max on an array: an error", """
    def soft_threshold(v, t):
        return np.sign(v) * max(np.abs(v) - t, 0)
""", ("np.maximum|elementwise",))
wrong(E, "half-threshold", "shrinks by t/2", """
    def soft_threshold(v, t):
        return np.sign(v) * np.maximum(np.abs(v) - t / 2, 0)
""", ("t/2|half|threshold",))
wrong(E, "sign-zero-point-five", "max(|v| − t, 0.5): the floor typed as 0.5", """
    def soft_threshold(v, t):
        return np.sign(v) * np.maximum(np.abs(v) - t, 0.5)
""")
right(E, "two-relus", "max(v − t, 0) − max(−v − t, 0)", """
    def soft_threshold(v, t):
        return np.maximum(v - t, 0) - np.maximum(-v - t, 0)
""")
right(E, "minus-clip", "v − clip(v, −t, t)", """
    def soft_threshold(v, t):
        return v - np.clip(v, -t, t)
""")
right(E, "copysign", "np.copysign", """
    def soft_threshold(v, t):
        return np.copysign(np.maximum(np.abs(v) - t, 0.0), v)
""")
right(E, "where", "np.where(|v| > t, v − t·sign(v), 0)", """
    def soft_threshold(v, t):
        return np.where(np.abs(v) > t, v - t * np.sign(v), 0.0)
""")
right(E, "l1-prox", "gdcourse's l1_prox with η = 1, α = t (imported by the notebook)", """
    from gdcourse.regularization import l1_prox


    def soft_threshold(v, t):
        return l1_prox(v, 1.0, t)
""")
right(E, "loop", "a loop over the entries", """
    def soft_threshold(v, t):
        out = np.zeros_like(v)
        for i in np.ndindex(v.shape):
            if v[i] > t:
                out[i] = v[i] - t
            elif v[i] < -t:
                out[i] = v[i] + t
        return out
""")

E = "08.l2_grad_step"
wrong(E, "decay-after-step", "(1 − ηα)(w − η∇L): decays after the gradient step", """
    def l2_grad_step(w, grad, lr, alpha):
        return (1 - lr * alpha) * (w - lr * grad)
""", ("order|decay",))
wrong(E, "penalty-not-differentiated", "adds (α/2)w², the penalty itself, instead of its gradient αw", """
    def l2_grad_step(w, grad, lr, alpha):
        return w - lr * (grad + alpha / 2 * w**2)
""", ("gradient|αw",))
wrong(E, "l1-penalty", "α·sign(w): the L1 penalty's subgradient", """
    def l2_grad_step(w, grad, lr, alpha):
        return w - lr * (grad + alpha * np.sign(w))
""", ("L1|sign",))
wrong(E, "norm-instead-of-w", "α‖w‖ instead of αw", """
    def l2_grad_step(w, grad, lr, alpha):
        return w - lr * (grad + alpha * np.linalg.norm(w))
""", ("αw|norm",))
wrong(E, "gradient-not-scaled-by-lr", "(1 − ηα)w − ∇L: the gradient is not multiplied by η", """
    def l2_grad_step(w, grad, lr, alpha):
        return (1 - lr * alpha) * w - grad
""", ("η|lr",))
wrong(E, "in-place", "w -= lr * (grad + alpha * w): right numbers, but the caller's w changes", """
    def l2_grad_step(w, grad, lr, alpha):
        w -= lr * (grad + alpha * w)
        return w
""", ("modif|in place",))
wrong(E, "gradient-times-one-plus-alpha", "η(1 + α)∇L: α multiplies the gradient", """
    def l2_grad_step(w, grad, lr, alpha):
        return w - lr * grad * (1 + alpha)
""", ("αw",))
right(E, "weight-decay-form", "(1 − ηα)w − η∇L, accepted by the exercise", """
    def l2_grad_step(w, grad, lr, alpha):
        return (1 - lr * alpha) * w - lr * grad
""")
right(E, "two-terms", "w − η∇L − ηαw", """
    def l2_grad_step(w, grad, lr, alpha):
        return w - lr * grad - lr * alpha * w
""")
right(E, "named-gradient", "names the total gradient", """
    def l2_grad_step(w, grad, lr, alpha):
        total_grad = grad + alpha * w
        return w - lr * total_grad
""")
right(E, "np-functions", "np.subtract and np.add", """
    def l2_grad_step(w, grad, lr, alpha):
        return np.subtract(w, lr * np.add(grad, alpha * w))
""")
right(E, "copy-then-in-place", "in place on a copy", """
    def l2_grad_step(w, grad, lr, alpha):
        new_w = w.copy()
        new_w *= 1 - lr * alpha
        new_w -= lr * grad
        return new_w
""")

E = "08.early_stop_epoch"
wrong(E, "returns-best-loss", "returns the best loss instead of its epoch", """
    def early_stop_epoch(val_losses, patience):
        best, best_epoch, wait = float("inf"), -1, 0
        for epoch, loss in enumerate(val_losses):
            if loss < best:
                best, best_epoch, wait = loss, epoch, 0
            else:
                wait += 1
            if wait >= patience:
                return epoch, best
        return len(val_losses) - 1, best
""", ("epoch",))
wrong(E, "one-epoch-early", "wait >= patience − 1: stops one epoch early", """
    def early_stop_epoch(val_losses, patience):
        best, best_epoch, wait = float("inf"), -1, 0
        for epoch, loss in enumerate(val_losses):
            if loss < best:
                best, best_epoch, wait = loss, epoch, 0
            else:
                wait += 1
            if wait >= patience - 1:
                return epoch, best_epoch
        return len(val_losses) - 1, best_epoch
""", ("early|one epoch",))
wrong(E, "counts-from-one", "reports epochs counted from 1", """
    def early_stop_epoch(val_losses, patience):
        best, best_epoch, wait = float("inf"), -1, 0
        for epoch, loss in enumerate(val_losses, start=1):
            if loss < best:
                best, best_epoch, wait = loss, epoch, 0
            else:
                wait += 1
            if wait >= patience:
                return epoch, best_epoch
        return len(val_losses), best_epoch
""", ("from 0|from 1|off by one|one more",))
wrong(E, "no-stop-returns-length", "when it never stops, returns len(val_losses), one past the last epoch", """
    def early_stop_epoch(val_losses, patience):
        best, best_epoch, wait = float("inf"), -1, 0
        for epoch, loss in enumerate(val_losses):
            if loss < best:
                best, best_epoch, wait = loss, epoch, 0
            else:
                wait += 1
            if wait >= patience:
                return epoch, best_epoch
        return len(val_losses), best_epoch
""", ("last|len|off by one|one more",))
wrong(E, "best-is-patience-back", "best epoch computed as stop − patience", """
    def early_stop_epoch(val_losses, patience):
        best, wait = float("inf"), 0
        for epoch, loss in enumerate(val_losses):
            if loss < best:
                best, wait = loss, 0
            else:
                wait += 1
            if wait >= patience:
                return epoch, epoch - patience
        return len(val_losses) - 1, len(val_losses) - 1 - patience
""")
wrong(E, "latest-minimum-on-tie", "best epoch = the LAST epoch with the lowest loss (the latest on a tie)", """
    def early_stop_epoch(val_losses, patience):
        best, wait, stop = float("inf"), 0, len(val_losses) - 1
        for epoch, loss in enumerate(val_losses):
            if loss < best:
                best, wait = loss, 0
            else:
                wait += 1
            if wait >= patience:
                stop = epoch
                break
        seen = val_losses[:stop + 1]
        return stop, len(seen) - 1 - int(np.argmin(seen[::-1]))
""", ("tie|earliest",))
wrong(E, "compares-with-previous-epoch", "improvement judged against the previous epoch, not the best so far", """
    def early_stop_epoch(val_losses, patience):
        previous, wait, best_epoch = float("inf"), 0, 0
        for epoch, loss in enumerate(val_losses):
            if loss < previous:
                wait = 0
            else:
                wait += 1
            if loss < val_losses[best_epoch]:
                best_epoch = epoch
            previous = loss
            if wait >= patience:
                return epoch, best_epoch
        return len(val_losses) - 1, best_epoch
""", ("best",))
wrong(E, "min-delta", "an improvement must beat the best by 1e-3 (Keras's min_delta habit); the exercise has none", """
    def early_stop_epoch(val_losses, patience):
        best, best_epoch, wait = float("inf"), -1, 0
        for epoch, loss in enumerate(val_losses):
            if loss < best - 1e-3:
                best, best_epoch, wait = loss, epoch, 0
            else:
                wait += 1
            if wait >= patience:
                return epoch, best_epoch
        return len(val_losses) - 1, best_epoch
""", ("strict|min_delta",))
wrong(E, "first-epoch-counted-as-failure", "best starts at val_losses[0] and the loop starts at epoch 0", """
    def early_stop_epoch(val_losses, patience):
        best, best_epoch, wait = val_losses[0], 0, 0
        for epoch, loss in enumerate(val_losses):
            if loss < best:
                best, best_epoch, wait = loss, epoch, 0
            else:
                wait += 1
            if wait >= patience:
                return epoch, best_epoch
        return len(val_losses) - 1, best_epoch
""", ("epoch 0|first",))
right(E, "early-stopping-class", "gdcourse's EarlyStopping, imported by the notebook", """
    from gdcourse.regularization import EarlyStopping


    def early_stop_epoch(val_losses, patience):
        stopper = EarlyStopping(patience=patience)
        for epoch, loss in enumerate(val_losses):
            if stopper.update(loss):
                return epoch, stopper.best_epoch
        return len(val_losses) - 1, stopper.best_epoch
""")
right(E, "argmin-after-stop", "finds the stop first, then the earliest minimum up to it", """
    def early_stop_epoch(val_losses, patience):
        stop, best, wait = len(val_losses) - 1, float("inf"), 0
        for epoch, loss in enumerate(val_losses):
            if loss < best:
                best, wait = loss, 0
            else:
                wait += 1
                if wait == patience:
                    stop = epoch
                    break
        return stop, int(np.argmin(val_losses[:stop + 1]))
""")
right(E, "returns-list", "returns a list of NumPy integers", """
    def early_stop_epoch(val_losses, patience):
        losses = np.asarray(val_losses)
        best_epoch, wait = 0, 0
        for epoch in range(1, len(losses)):
            if losses[epoch] < losses[best_epoch]:
                best_epoch, wait = epoch, 0
            else:
                wait += 1
            if wait >= patience:
                return [np.int64(epoch), np.int64(best_epoch)]
        return [np.int64(len(losses) - 1), np.int64(best_epoch)]
""")
right(E, "index-of-min", "list.index(min(...)) on the epochs seen", """
    def early_stop_epoch(val_losses, patience):
        since_best = 0
        for epoch in range(len(val_losses)):
            if epoch > 0 and val_losses[epoch] >= min(val_losses[:epoch]):
                since_best += 1
            else:
                since_best = 0
            if since_best == patience:
                break
        seen = val_losses[:epoch + 1]
        return epoch, seen.index(min(seen))
""")

# === 09 · initialisation =================================================================================

E = "09.symmetry"
wrong(E, "hedge-c-d", "hedges between c and d", """
    answer = "c, d"
""", ("several options",))  # a hedge is told to pick one: naming why the others are wrong would give the answer away
wrong(E, "hedge-b-and-c", "hedges between b and c", """
    answer = "b and c"
""")
wrong(E, "zero-gradient-text", "'the gradient is zero' written out (option a's idea)", """
    answer = "gradient is zero"
""", ("not zero",))
right(E, "upper-case", "the letter in upper case", """
    answer = "C"
""")
right(E, "padded", "the letter with spaces", """
    answer = " c "
""")
right(E, "trailing-newline", "the letter with a newline", """
    answer = "c\\n"
""")

E = "09.output_variance"
wrong(E, "both-fans", "n_in · n_out · σ² · Var(x)", """
    answer = 200 * 50 * 0.1**2 * 3
""", ("n_out|fan",))
wrong(E, "variances-added", "n_in · σ² + Var(x): the variances added instead of multiplied", """
    answer = 200 * 0.1**2 + 3
""", ("product|multipl",))
wrong(E, "input-variance-squared", "Var(x)² where Var(x) belongs", """
    answer = 200 * 0.1**2 * 3**2
""")
wrong(E, "divided-by-n", "divides by n_in instead of multiplying", """
    answer = 0.1**2 * 3 / 200
""", ("n_in|sum",))
wrong(E, "std-of-products-summed", "n_in · σ · √Var(x): standard deviations summed as if they added", """
    answer = 200 * 0.1 * math.sqrt(3)
""", ("variance",))
right(E, "formula", "n_in σ² Var(x)", """
    n_in, sigma, var_x = 200, 0.1, 3
    answer = n_in * sigma**2 * var_x
""")
right(E, "int", "the integer 6", """
    answer = 6
""")
right(E, "fraction", "exact arithmetic with Fraction", """
    from fractions import Fraction

    answer = 200 * Fraction(1, 10) ** 2 * 3
""")
right(E, "sympy-integer", "sympy's exact result (a sympy Integer)", """
    answer = 200 * sympy.Rational(1, 10) ** 2 * 3
""")
right(E, "numpy-int", "a NumPy integer", """
    answer = np.int64(6)
""")
right(E, "std-times-sqrt", "(σ√Var(x))² n_in", """
    answer = 200 * (0.1 * math.sqrt(3)) ** 2
""")

E = "09.init_std"
wrong(E, "he-fan-out", "He in fan-out mode: √(2/n_out), while LeCun uses the fan-in", """
    def init_std(shape, scheme):
        fan_out, fan_in = shape
        if scheme == "lecun":
            return math.sqrt(1 / fan_in)
        if scheme == "xavier":
            return math.sqrt(2 / (fan_in + fan_out))
        return math.sqrt(2 / fan_out)
""", ("fan_in|fan-in",))
wrong(E, "xavier-product", "Xavier with the product of the fans", """
    def init_std(shape, scheme):
        fan_out, fan_in = shape
        if scheme == "lecun":
            return math.sqrt(1 / fan_in)
        if scheme == "xavier":
            return math.sqrt(2 / (fan_in * fan_out))
        return math.sqrt(2 / fan_in)
""", ("n_in + n_out|sum",))
wrong(E, "xavier-uniform-only", "Xavier's uniform bound √(6/(n_in + n_out)); the other two normal", """
    def init_std(shape, scheme):
        fan_out, fan_in = shape
        if scheme == "lecun":
            return math.sqrt(1 / fan_in)
        if scheme == "xavier":
            return math.sqrt(6 / (fan_in + fan_out))
        return math.sqrt(2 / fan_in)
""", ("uniform",))
wrong(E, "root-misplaced", "He as √2 / n_in", """
    def init_std(shape, scheme):
        fan_out, fan_in = shape
        if scheme == "lecun":
            return 1 / math.sqrt(fan_in)
        if scheme == "xavier":
            return math.sqrt(2 / (fan_in + fan_out))
        return math.sqrt(2) / fan_in
""", ("root|√",))
wrong(E, "precedence-half-power", "1 / fan_in ** 1/2 is (1 / fan_in) / 2", """
    def init_std(shape, scheme):
        fan_out, fan_in = shape
        if scheme == "lecun":
            return 1 / fan_in ** 1/2
        if scheme == "xavier":
            return (2 / (fan_in + fan_out)) ** 0.5
        return (2 / fan_in) ** 0.5
""", ("parenthes|precedence",))
wrong(E, "integer-division", "1 // fan_in and 2 // fan_in are 0", """
    def init_std(shape, scheme):
        fan_out, fan_in = shape
        if scheme == "lecun":
            return math.sqrt(1 // fan_in)
        if scheme == "xavier":
            return math.sqrt(2 // (fan_in + fan_out))
        return math.sqrt(2 // fan_in)
""", ("//|integer",))
wrong(E, "relu-gain-on-xavier", "multiplies Xavier by He's √2 gain as well", """
    def init_std(shape, scheme):
        fan_out, fan_in = shape
        if scheme == "lecun":
            return math.sqrt(1 / fan_in)
        if scheme == "xavier":
            return math.sqrt(2) * math.sqrt(2 / (fan_in + fan_out))
        return math.sqrt(2) * math.sqrt(1 / fan_in)
""", ("gain",))
wrong(E, "complex", "cmath.sqrt: complex numbers where a float is asked", """
    import cmath


    def init_std(shape, scheme):
        fan_out, fan_in = shape
        variance = {"lecun": 1 / fan_in, "xavier": 2 / (fan_in + fan_out), "he": 2 / fan_in}[scheme]
        return cmath.sqrt(variance)
""", ("complex|float",))
right(E, "power-half", "variances raised to 0.5", """
    def init_std(shape, scheme):
        n_out, n_in = shape
        if scheme == "lecun":
            return (1 / n_in) ** 0.5
        elif scheme == "xavier":
            return (2 / (n_in + n_out)) ** 0.5
        elif scheme == "he":
            return (2 / n_in) ** 0.5
""")
right(E, "dict-of-variances", "a dict of variances and np.sqrt (a NumPy float)", """
    def init_std(shape, scheme):
        fan_in, fan_out = shape[1], shape[0]
        variance = {"lecun": 1 / fan_in, "xavier": 2 / (fan_in + fan_out), "he": 2 / fan_in}
        return np.sqrt(variance[scheme])
""")
right(E, "gdcourse-init", "gdcourse.init's fan_in_and_fan_out and gain", """
    from gdcourse import init


    def init_std(shape, scheme):
        fan_in, fan_out = init.fan_in_and_fan_out(shape)
        if scheme == "he":
            return init.gain("relu") / math.sqrt(fan_in)
        if scheme == "xavier":
            return init.gain("linear") * math.sqrt(2.0 / (fan_in + fan_out))
        return 1 / math.sqrt(fan_in)
""")
right(E, "average-fan", "Xavier as 1/√(average fan)", """
    def init_std(shape, scheme):
        fan_out, fan_in = shape
        if scheme == "xavier":
            return 1 / math.sqrt((fan_in + fan_out) / 2)
        gain = math.sqrt(2) if scheme == "he" else 1.0
        return gain / math.sqrt(fan_in)
""")
right(E, "match-statement", "a match statement", """
    def init_std(shape, scheme):
        n_out, n_in = shape
        match scheme.lower():
            case "lecun":
                var = 1 / n_in
            case "xavier":
                var = 2 / (n_in + n_out)
            case "he":
                var = 2 / n_in
            case _:
                raise ValueError(scheme)
        return math.sqrt(var)
""")
right(E, "float32", "float32 scalars (a NumPy scalar passes, the float32 rounding is far inside 1e-6)", """
    def init_std(shape, scheme):
        n_out, n_in = shape
        var = {"lecun": 1 / n_in, "xavier": 2 / (n_in + n_out), "he": 2 / n_in}[scheme]
        return np.sqrt(np.float32(var))
""")
right(E, "sympy-sqrt", "sympy.sqrt of exact rationals (sympy numbers)", """
    def init_std(shape, scheme):
        n_out, n_in = shape
        var = {"lecun": sympy.Rational(1, n_in), "xavier": sympy.Rational(2, n_in + n_out),
               "he": sympy.Rational(2, n_in)}[scheme]
        return sympy.sqrt(var)
""")

# === 10 · tuning =========================================================================================

E = "10.log_uniform"
wrong(E, "base-ten-of-bounds", "10 ** (low + u (high − low)): interpolates the bounds, not their logarithms", """
    def log_uniform(u, low, high):
        return 10 ** (low + u * (high - low))
""", ("log",))
wrong(E, "log-of-difference", "log(high − low) instead of log(high) − log(low)", """
    def log_uniform(u, low, high):
        return np.exp(np.log(low) + u * np.log(high - low))
""", ("log",))
wrong(E, "ratio-as-difference", "low · (high − low) ** u", """
    def log_uniform(u, low, high):
        return low * (high - low) ** u
""", ("ratio|high / low",))
wrong(E, "logspace-ignores-u", "np.logspace: evenly spaced values that ignore u", """
    def log_uniform(u, low, high):
        return np.logspace(np.log10(low), np.log10(high), len(u))
""", ("`u`|draws|ignor",))
wrong(E, "fresh-random-draws", "draws new random numbers instead of transforming u", """
    def log_uniform(u, low, high):
        rng = np.random.default_rng(0)
        return np.exp(rng.uniform(np.log(low), np.log(high), size=u.shape))
""", ("`u`|draws|ignor",))
wrong(E, "high-to-the-u", "low · high ** u", """
    def log_uniform(u, low, high):
        return low * high ** u
""")
right(E, "geometric-interpolation", "low^(1−u) · high^u", """
    def log_uniform(u, low, high):
        return low ** (1 - u) * high**u
""")
right(E, "exp-log", "exp(log low + u (log high − log low))", """
    def log_uniform(u, low, high):
        return np.exp(np.log(low) + u * (np.log(high) - np.log(low)))
""")
right(E, "log10", "10 ** interpolated log10", """
    def log_uniform(u, low, high):
        a, b = math.log10(low), math.log10(high)
        return 10 ** (a + u * (b - a))
""")
right(E, "decreasing-map", "high · (low/high)^u, the decreasing map the exercise accepts", """
    def log_uniform(u, low, high):
        return high * (low / high) ** u
""")
right(E, "scipy-loguniform", "scipy.stats.loguniform's inverse CDF", """
    from scipy.stats import loguniform


    def log_uniform(u, low, high):
        return loguniform(low, high).ppf(u)
""")
right(E, "np-power", "np.power", """
    def log_uniform(u, low, high):
        return low * np.power(high / low, u)
""")

E = "10.expected_improvement"
wrong(E, "first-term-sign", "(μ − f*) Φ(z) with z = (f* − μ)/σ: the gain's sign flipped in one place", """
    from scipy.stats import norm

    z = (0.25 - 0.30) / 0.10
    answer = (0.30 - 0.25) * norm.cdf(z) + 0.10 * norm.pdf(z)
""", ("sign|f* − μ",))
wrong(E, "z-sign", "z = (μ − f*)/σ with the gain f* − μ", """
    from scipy.stats import norm

    z = (0.30 - 0.25) / 0.10
    answer = (0.25 - 0.30) * norm.cdf(z) + 0.10 * norm.pdf(z)
""", ("z =|sign",))
wrong(E, "variance-in-z", "divides by σ² = 0.01 in z", """
    from scipy.stats import norm

    z = (0.25 - 0.30) / 0.10**2
    answer = (0.25 - 0.30) * norm.cdf(z) + 0.10 * norm.pdf(z)
""", ("variance|σ²|standard deviation",))
wrong(E, "probability-of-improvement", "Φ(z): the probability of improvement, not the expected improvement", """
    from scipy.stats import norm

    answer = norm.cdf((0.25 - 0.30) / 0.10)
""", ("probability",))
wrong(E, "rounded", "rounded to 2 decimals, 0.02", """
    from scipy.stats import norm

    z = -0.5
    answer = round(-0.05 * norm.cdf(z) + 0.1 * norm.pdf(z), 2)
""", ("round|digit",))
right(E, "scipy-norm", "scipy.stats.norm as the notebook suggests", """
    from scipy.stats import norm

    mu, sigma, best = 0.30, 0.10, 0.25
    z = (best - mu) / sigma
    answer = (best - mu) * norm.cdf(z) + sigma * norm.pdf(z)
""")
right(E, "math-erf", "Φ and φ written with math.erf and math.exp", """
    z = (0.25 - 0.30) / 0.10
    cdf = 0.5 * (1 + math.erf(z / math.sqrt(2)))
    pdf = math.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    answer = (0.25 - 0.30) * cdf + 0.10 * pdf
""")
right(E, "statistics-normal-dist", "the standard library's statistics.NormalDist", """
    from statistics import NormalDist

    z = (0.25 - 0.30) / 0.10
    answer = -0.05 * NormalDist().cdf(z) + 0.10 * NormalDist().pdf(z)
""")
right(E, "numerical-integral", "E[max(f* − f, 0)] integrated numerically with scipy.integrate.quad", """
    from scipy.integrate import quad
    from scipy.stats import norm

    answer, _ = quad(lambda f: (0.25 - f) * norm.pdf(f, loc=0.30, scale=0.10), -math.inf, 0.25)
""")
right(E, "scipy-special", "scipy.special.ndtr for Φ", """
    from scipy.special import ndtr

    z = -0.5
    answer = -0.05 * ndtr(z) + 0.1 * np.exp(-(z**2) / 2) / np.sqrt(2 * np.pi)
""")
right(E, "three-significant-digits", "0.0198: three significant digits, as the exercise accepts", """
    answer = 0.0198
""")
right(E, "hint-table-values", "hint 3's four-digit table values: −0.05 · 0.3085 + 0.10 · 0.3521", """
    answer = -0.05 * 0.3085 + 0.10 * 0.3521
""")

E = "10.why_random"
wrong(E, "hedge-a-b", "hedges between a and b", """
    answer = "a, b"
""")
wrong(E, "adaptive-text", "'it learns from earlier trials' written out (option c's idea)", """
    answer = "it learns from earlier trials"
""", ("independent|bayesian",))
wrong(E, "hedge-b-and-d", "hedges between b and d", """
    answer = "b and d"
""")
right(E, "upper-case", "the letter in upper case", """
    answer = "B"
""")
right(E, "leading-space", "the letter with a leading space", """
    answer = " b"
""")
right(E, "trailing-space", "the letter with a trailing space", """
    answer = "b "
""")

# === 11 · practice =======================================================================================

E = "11.grad_norm"
wrong(E, "norm-of-ragged-list", "np.linalg.norm(grads): a ragged list is not one array (an error)", """
    def grad_norm(grads):
        return np.linalg.norm(grads)
""", ("flatten|concatenat|each",))
wrong(E, "square-of-sums", "sums each array, then squares: (Σ g)² instead of Σ g²", """
    def grad_norm(grads):
        return np.sqrt(sum(np.sum(g) ** 2 for g in grads))
""", ("square",))
wrong(E, "root-of-sum-of-norms", "√(Σ‖g_l‖): the norms are not squared", """
    def grad_norm(grads):
        return np.sqrt(sum(np.linalg.norm(g) for g in grads))
""", ("square",))
wrong(E, "concatenate-unflattened", "np.concatenate of arrays of different ranks (an error)", """
    def grad_norm(grads):
        return np.linalg.norm(np.concatenate(grads))
""", ("flatten|ravel",))
wrong(E, "skips-first", "grads[1:]: the first array is left out", """
    def grad_norm(grads):
        return np.sqrt(np.sum([np.sum(g**2) for g in grads[1:]]))
""", ("first|every",))
wrong(E, "overwrites-total", "total = ... instead of total += ...: only the last array counts", """
    def grad_norm(grads):
        total = 0.0
        for g in grads:
            total = np.sum(g**2)
        return np.sqrt(total)
""", ("last|every|+=",))
wrong(E, "spectral-norm", "np.linalg.norm(g, 2): the spectral norm of each matrix, not the Frobenius norm", """
    def grad_norm(grads):
        return np.sqrt(sum(np.linalg.norm(g, 2) ** 2 for g in grads))
""", ("frobenius|spectral|entries",))
wrong(E, "scaled-by-max", "max|g| · ‖g / max|g|‖, the overflow-safe form: 0/0 = NaN when every gradient is 0", """
    def grad_norm(grads):
        scale = max(float(np.max(np.abs(g))) for g in grads)
        return scale * np.sqrt(sum(np.sum((g / scale) ** 2) for g in grads))
""", ("nan|zero",))
right(E, "concatenate-ravel", "one long vector, then its norm", """
    def grad_norm(grads):
        return np.linalg.norm(np.concatenate([g.ravel() for g in grads]))
""")
right(E, "norm-of-norms", "the norm of the per-array norms", """
    def grad_norm(grads):
        return np.linalg.norm([np.linalg.norm(g) for g in grads])
""")
right(E, "loop-accumulate", "a loop that accumulates, returning a Python float", """
    def grad_norm(grads):
        total = 0.0
        for g in grads:
            total += float(np.sum(g * g))
        return math.sqrt(total)
""")
right(E, "vdot", "np.vdot of each array with itself", """
    def grad_norm(grads):
        return math.sqrt(sum(np.vdot(g, g) for g in grads))
""")
right(E, "xp-sqrt", "the notebook's xp form", """
    def grad_norm(grads):
        return xp.sqrt(sum(xp.sum(g**2) for g in grads))
""")
right(E, "squared-norms", "sum of squared per-array norms, then one root", """
    def grad_norm(grads):
        return sum(np.linalg.norm(g) ** 2 for g in grads) ** 0.5
""")

E = "11.dead_relu"
wrong(E, "hedge-b-d", "hedges between b and d", """
    answer = "b, d"
""", ("several options",))  # a hedge is told to pick one: naming why the others are wrong would give the answer away
wrong(E, "hedge-a-and-b", "hedges between a and b", """
    answer = "a and b"
""", ("several options",))  # a hedge is told to pick one: naming why the others are wrong would give the answer away
wrong(E, "none", "'none'", """
    answer = "none"
""")
right(E, "upper-case", "the letter in upper case (also the run's name)", """
    answer = "B"
""")
right(E, "leading-space", "the letter with a leading space", """
    answer = " b"
""")
right(E, "trailing-newline", "the letter with a newline", """
    answer = "b\\n"
""")

E = "11.nan_fix"
wrong(E, "hedge-a-b", "hedges between a smaller learning rate and the stable formula", """
    answer = "a, b"
""", ("several options",))  # a hedge is told to pick one: naming why the others are wrong would give the answer away
wrong(E, "float64-text", "'use float64' written out: postpones the NaN, is not an option", """
    answer = "use float64"
""")
wrong(E, "hedge-b-and-d", "hedges between b and d", """
    answer = "b and d"
""")
right(E, "upper-case", "the letter in upper case", """
    answer = "B"
""")
right(E, "trailing-space", "the letter with a trailing space", """
    answer = "b "
""")
right(E, "leading-tab", "the letter with a leading tab", """
    answer = "\\tb"
""")

E = "11.loss_scale_step"
wrong(E, "floor-halving", "scale // 2: floor division, 0 for a scale of 1 (only powers of two ≥ 2 come out right)", """
    def loss_scale_step(scale, good_steps, finite, growth_interval):
        if not finite:
            return scale // 2, 0, False
        good_steps += 1
        if good_steps == growth_interval:
            return scale * 2, 0, True
        return scale, good_steps, True
""", ("//|floor",))
wrong(E, "grows-one-step-late", "good_steps > growth_interval after counting: grows one good step too late", """
    def loss_scale_step(scale, good_steps, finite, growth_interval):
        if not finite:
            return scale / 2, 0, False
        good_steps += 1
        if good_steps > growth_interval:
            return scale * 2, 0, True
        return scale, good_steps, True
""", ("late|off by one|one good step",))
wrong(E, "order-swapped", "returns (scale, apply_step, good_steps)", """
    def loss_scale_step(scale, good_steps, finite, growth_interval):
        if not finite:
            return scale / 2, False, 0
        good_steps += 1
        if good_steps == growth_interval:
            return scale * 2, True, 0
        return scale, True, good_steps
""", ("order",))
wrong(E, "squares-scale", "scale ** 2 typed for scale * 2", """
    def loss_scale_step(scale, good_steps, finite, growth_interval):
        if not finite:
            return scale / 2, 0, False
        good_steps += 1
        if good_steps == growth_interval:
            return scale**2, 0, True
        return scale, good_steps, True
""", ("double|twice|× 2|* 2",))
wrong(E, "grows-one-step-early", "grows when good_steps reaches growth_interval − 1 after counting", """
    def loss_scale_step(scale, good_steps, finite, growth_interval):
        if not finite:
            return scale / 2, 0, False
        good_steps += 1
        if good_steps >= growth_interval - 1:
            return scale * 2, 0, True
        return scale, good_steps, True
""", ("early|interval",))
wrong(E, "overflow-keeps-count-and-applies", "on overflow: halves but applies the step and keeps the count", """
    def loss_scale_step(scale, good_steps, finite, growth_interval):
        if finite:
            good_steps += 1
            if good_steps == growth_interval:
                return scale * 2, 0, True
            return scale, good_steps, True
        return scale / 2, good_steps, True
""", ("skip",))
right(E, "modulo-counter", "the counter wraps around with % growth_interval", """
    def loss_scale_step(scale, good_steps, finite, growth_interval):
        if not finite:
            return scale * 0.5, 0, False
        good_steps = (good_steps + 1) % growth_interval
        if good_steps == 0:
            scale = scale * 2
        return scale, good_steps, True
""")
right(E, "check-before-counting", "tests good_steps + 1 >= growth_interval before counting", """
    def loss_scale_step(scale, good_steps, finite, growth_interval):
        if finite:
            if good_steps + 1 >= growth_interval:
                return 2 * scale, 0, True
            return scale, good_steps + 1, True
        return 0.5 * scale, 0, False
""")
right(E, "returns-list", "returns a list", """
    def loss_scale_step(scale, good_steps, finite, growth_interval):
        apply_step = finite
        if not finite:
            scale, good_steps = scale / 2, 0
        else:
            good_steps += 1
            if good_steps == growth_interval:
                scale, good_steps = scale * 2, 0
        return [scale, good_steps, apply_step]
""")
right(E, "one-return", "state variables updated in branches, one return at the end", """
    def loss_scale_step(scale, good_steps, finite, growth_interval):
        new_scale, new_good, apply_step = scale, good_steps, finite
        if finite:
            new_good += 1
            if new_good >= growth_interval:
                new_scale, new_good = 2.0 * scale, 0
        else:
            new_scale, new_good = scale * 0.5, 0
        return new_scale, new_good, apply_step
""")
right(E, "numpy-bool", "apply_step as np.all(finite), a NumPy boolean", """
    def loss_scale_step(scale, good_steps, finite, growth_interval):
        ok = np.all(finite)
        if not ok:
            return scale / 2, 0, ok
        good_steps += 1
        if good_steps == growth_interval:
            return scale * 2, 0, ok
        return scale, good_steps, ok
""")
right(E, "gdcourse-precision", "gdcourse.precision.loss_scale_step, imported by the notebook", """
    from gdcourse import precision


    def loss_scale_step(scale, good_steps, finite, growth_interval):
        return precision.loss_scale_step(scale, good_steps, finite, growth_interval)
""")

# === 12 · real models ====================================================================================

E = "12.conv_output_size"
wrong(E, "rounds-to-nearest", "round() instead of floor: rounds half the fractions up", """
    def conv_output_size(n, kernel, stride, padding):
        return round((n + 2 * padding - kernel) / stride) + 1
""", ("floor|//|round",))
wrong(E, "plus-one-inside", "(n + 2p − k + 1) // s: the + 1 inside the division", """
    def conv_output_size(n, kernel, stride, padding):
        return (n + 2 * padding - kernel + 1) // stride
""", ("+ 1|+1|plus one",))
wrong(E, "padding-after-division", "(n − k) // s + 1 + 2p: the padding added after dividing", """
    def conv_output_size(n, kernel, stride, padding):
        return (n - kernel) // stride + 1 + 2 * padding
""", ("padding",))
wrong(E, "precedence", "n + 2p − k // s + 1: only the kernel is divided", """
    def conv_output_size(n, kernel, stride, padding):
        return n + 2 * padding - kernel // stride + 1
""", ("parenthes|precedence",))
wrong(E, "modulo", "% typed for //", """
    def conv_output_size(n, kernel, stride, padding):
        return (n + 2 * padding - kernel) % stride + 1
""", ("//|%",))
wrong(E, "dilation-minus-one", "subtracts an extra 1 (kernel − 1 confused with the dilation formula)", """
    def conv_output_size(n, kernel, stride, padding):
        return (n + 2 * padding - kernel - 1) // stride + 1
""")
right(E, "numpy-int", "a NumPy integer", """
    def conv_output_size(n, kernel, stride, padding):
        return np.int64(n + 2 * padding - kernel) // stride + 1
""")
right(E, "int-of-division", "int() of the true division, which floors a positive number", """
    def conv_output_size(n, kernel, stride, padding):
        return int((n + 2 * padding - kernel) / stride) + 1
""")
right(E, "len-range", "counts the window starts with len(range(...))", """
    def conv_output_size(n, kernel, stride, padding):
        return len(range(0, n + 2 * padding - kernel + 1, stride))
""")
right(E, "math-floor", "math.floor", """
    def conv_output_size(n, kernel, stride, padding):
        return math.floor((n + 2 * padding - kernel) / stride + 1)
""")
right(E, "np-floor", "np.floor: an integer-valued NumPy float, accepted", """
    def conv_output_size(n, kernel, stride, padding):
        return np.floor((n + 2 * padding - kernel) / stride) + 1
""")
right(E, "ceil-identity", "ceil((n + 2p − k + 1) / s), the same count", """
    def conv_output_size(n, kernel, stride, padding):
        return math.ceil((n + 2 * padding - kernel + 1) / stride)
""")
right(E, "loop", "slides the window and counts", """
    def conv_output_size(n, kernel, stride, padding):
        count, start = 0, 0
        while start + kernel <= n + 2 * padding:
            count += 1
            start += stride
        return count
""")

E = "12.confusion_matrix"
wrong(E, "fancy-index-increment", "C[y_true, y_pred] += 1: repeated pairs are counted once", """
    def confusion_matrix(y_true, y_pred, k):
        C = np.zeros((k, k), dtype=int)
        C[y_true, y_pred] += 1
        return C
""", ("add.at|repeat|once",))
wrong(E, "histogram2d-default-bins", "np.histogram2d with k bins over the data range", """
    def confusion_matrix(y_true, y_pred, k):
        return np.histogram2d(y_true, y_pred, bins=k)[0]
""", ("bins|range",))
wrong(E, "bincount-without-minlength", "np.bincount without minlength: too short when the last class never occurs", """
    def confusion_matrix(y_true, y_pred, k):
        return np.bincount(y_true * k + y_pred).reshape(k, k)
""", ("minlength|k×k|size",))
wrong(E, "loops-from-one", "range(1, k): class 0's row and column stay 0", """
    def confusion_matrix(y_true, y_pred, k):
        C = np.zeros((k, k), dtype=int)
        for i in range(1, k):
            for j in range(1, k):
                C[i, j] = np.sum((y_true == i) & (y_pred == j))
        return C
""", ("range|class 0|row 0",))
wrong(E, "or-instead-of-and", "(y_true == i) | (y_pred == j): OR instead of AND", """
    def confusion_matrix(y_true, y_pred, k):
        C = np.zeros((k, k), dtype=int)
        for i in range(k):
            for j in range(k):
                C[i, j] = np.sum((y_true == i) | (y_pred == j))
        return C
""", ("&|both",))
wrong(E, "list-of-lists", "a list of lists instead of an array", """
    def confusion_matrix(y_true, y_pred, k):
        return [[int(np.sum((y_true == i) & (y_pred == j))) for j in range(k)] for i in range(k)]
""", ("list|array",))
wrong(E, "sklearn-without-labels", "sklearn's confusion_matrix without labels: the size comes from the data", """
    from sklearn.metrics import confusion_matrix as sk_confusion_matrix


    def confusion_matrix(y_true, y_pred, k):
        return sk_confusion_matrix(y_true, y_pred)
""", ("labels|k×k|size",))
wrong(E, "renumbers-seen-labels", "renumbers the labels seen (np.unique): a missing class shifts the others", """
    def confusion_matrix(y_true, y_pred, k):
        seen = np.unique(np.concatenate([y_true, y_pred]))
        index = {label: i for i, label in enumerate(seen)}
        C = np.zeros((k, k), dtype=int)
        for t, p in zip(y_true, y_pred):
            C[index[t], index[p]] += 1
        return C
""", ("missing|label",))
right(E, "add-at", "np.add.at", """
    def confusion_matrix(y_true, y_pred, k):
        C = np.zeros((k, k), dtype=np.int64)
        np.add.at(C, (y_true, y_pred), 1)
        return C
""")
right(E, "bincount", "np.bincount with minlength", """
    def confusion_matrix(y_true, y_pred, k):
        return np.bincount(y_true * k + y_pred, minlength=k * k).reshape(k, k)
""")
right(E, "zip-loop", "a loop over the pairs", """
    def confusion_matrix(y_true, y_pred, k):
        C = np.zeros((k, k), dtype=int)
        for t, p in zip(y_true, y_pred):
            C[t][p] += 1
        return C
""")
right(E, "sklearn-with-labels", "sklearn's confusion_matrix with labels=range(k)", """
    from sklearn.metrics import confusion_matrix as sk_confusion_matrix


    def confusion_matrix(y_true, y_pred, k):
        return sk_confusion_matrix(y_true, y_pred, labels=np.arange(k))
""")
right(E, "one-hot-product", "one-hot matrices multiplied (float counts, accepted)", """
    def confusion_matrix(y_true, y_pred, k):
        eye = np.eye(k)
        return eye[y_true].T @ eye[y_pred]
""")
right(E, "histogram2d-unit-bins", "np.histogram2d with one unit bin per class", """
    def confusion_matrix(y_true, y_pred, k):
        edges = np.arange(k + 1) - 0.5
        counts, _, _ = np.histogram2d(y_true, y_pred, bins=[edges, edges])
        return counts
""")

E = "12.curve_diagnosis"
wrong(E, "hedge-b-c", "hedges between b and c", """
    answer = "b, c"
""", ("several options",))  # a hedge is told to pick one: naming why the others are wrong would give the answer away
wrong(E, "underfitting-text", "'underfitting' written out", """
    answer = "underfitting"
""", ("training",))
wrong(E, "hedge-a-and-b", "hedges between a and b", """
    answer = "a and b"
""")
right(E, "upper-case", "the letter in upper case", """
    answer = "B"
""")
right(E, "padded", "the letter with spaces", """
    answer = " b "
""")
right(E, "trailing-newline", "the letter with a newline", """
    answer = "b\\n"
""")

del E


# The experiment exercises' answers (one per notebook) live beside this file, one module per notebook:
# tests/learner_answers_nbNN.py, each calling wrong() and right() from here when it is imported.
for _path in sorted(Path(__file__).parent.glob("learner_answers_nb[0-9][0-9].py")):
    importlib.import_module(_path.stem)
