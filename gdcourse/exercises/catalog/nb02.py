r"""Exercises of notebook 02 (linear regression).

Conventions decided here:

- ``mse_grad`` differentiates the **mean** squared error without a factor ½,

  .. math:: J(w, b) = \frac1n \sum_{i=1}^n (x_i^\top w + b - y_i)^2,\qquad
            \nabla_w J = \frac2n X^\top r,\quad \frac{\partial J}{\partial b} = \frac2n \sum_i r_i,
            \quad r = Xw + b - y,

  the cost the notebook writes down and :func:`gdcourse.losses.mse` computes.  Only this convention is
  accepted: the gradient of :math:`\tfrac12\mathrm{MSE}` (the objective of
  :class:`gdcourse.models.LinearRegression`, factor :math:`1/n`) and of the residual sum of squares
  (factor 2, no :math:`1/n`) are known mistakes whose diagnoses say which cost they belong to.  The answer is
  the pair ``(grad_w, grad_b)`` (tuple or list): ``grad_w`` of shape ``(p,)``, ``grad_b`` a number (a
  Python float or a 0-d array).  ``X`` has shape ``(n, p)`` with ``n != p`` in every case.
- ``standardize`` takes the mean and the standard deviation **of the training set only**, with
  ``ddof=0`` (divide by :math:`n`: ``np.std``'s default and scikit-learn's ``StandardScaler``), and applies
  them to both sets; it returns ``(Z_train, Z_val)``.  The cases have no constant feature.
- ``condition_number`` is a value: :math:`\kappa` of the MSE's Hessian for a feature with mean 3 and
  standard deviation 1 (relative tolerance 1e-3, so 119 passes).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gdcourse.backend import array_namespace, asarray
from gdcourse.exercises.catalog import XP_PREAMBLE
from gdcourse.exercises.core import Case, Exercise, Mistake

__all__ = ["EXERCISES"]


# --- 02.mse_grad --------------------------------------------------------------------------------


def mse_grad(X: Any, y: Any, w: Any, b: float) -> tuple[Any, Any]:
    r"""Reference for ``02.mse_grad``: :math:`(\frac2n X^\top r, \frac2n\sum_i r_i)` with :math:`r = Xw + b - y`."""
    xp = array_namespace(X)
    n = X.shape[0]
    r = X @ w + b - y
    return (2.0 / n) * (X.T @ r), (2.0 / n) * xp.sum(r)


def _mse_grad_cases(rng: np.random.Generator) -> list[Case]:
    def case(n: int, p: int, scales: np.ndarray, label: str) -> Case:
        X = rng.normal(size=(n, p)) * scales + rng.uniform(-1.0, 1.0, size=p)
        y = X @ rng.normal(size=p) + rng.normal(size=n)
        w = rng.normal(size=p)
        b = round(float(rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 2.0)), 3)
        return Case((asarray(X), asarray(y), asarray(w), b), label=label)

    return [
        case(int(rng.integers(8, 15)), 1, np.ones(1), "one feature: a slope and an intercept"),
        case(int(rng.integers(10, 20)), 3, np.ones(3), "three features"),
        case(int(rng.integers(20, 30)), 2, np.array([1.0, 10.0]), "two features on different scales"),
    ]


def _grad_parts(X: Any, y: Any, w: Any, b: float) -> tuple[Any, Any, int]:
    return X @ w + b - y, array_namespace(X), X.shape[0]


def _half_mse(X, y, w, b):
    r, xp, n = _grad_parts(X, y, w, b)
    return (1.0 / n) * (X.T @ r), (1.0 / n) * xp.sum(r)


def _sum_not_mean(X, y, w, b):
    r, xp, _ = _grad_parts(X, y, w, b)
    return 2.0 * (X.T @ r), 2.0 * xp.sum(r)


def _sign_flipped(X, y, w, b):
    r, xp, n = _grad_parts(X, y, w, b)
    return (2.0 / n) * (X.T @ -r), (2.0 / n) * xp.sum(-r)


def _residual_without_b(X, y, w, b):
    xp, n = array_namespace(X), X.shape[0]
    r = X @ w - y
    return (2.0 / n) * (X.T @ r), (2.0 / n) * xp.sum(r)


def _divides_by_p(X, y, w, b):
    r, xp, _ = _grad_parts(X, y, w, b)
    p = X.shape[1]
    return (2.0 / p) * (X.T @ r), (2.0 / p) * xp.sum(r)


def _per_sample(X, y, w, b):
    r, xp, n = _grad_parts(X, y, w, b)
    return (2.0 / n) * X * xp.expand_dims(r, axis=1), (2.0 / n) * xp.sum(r)


def _only_grad_w(X, y, w, b):
    return mse_grad(X, y, w, b)[0]


def _intercept_grad_zero(X, y, w, b):
    return mse_grad(X, y, w, b)[0], 0.0


MSE_GRAD = Exercise(
    id="02.mse_grad",
    kind="function",
    title=(
        "mse_grad(X, y, w, b): the gradient of J(w, b) = (1/n) Σ (x_iᵀw + b − y_i)², "
        "returned as the pair (grad_w, grad_b)"
    ),
    reference=mse_grad,
    make_cases=_mse_grad_cases,
    hints=(
        "Compute the residuals once: r = X @ w + b - y, one per sample (shape (n,)).",
        "The chain rule on (r_i)²: d/dw of (1/n) Σ r_i² is (1/n) Σ 2 r_i ∂r_i/∂w, and ∂r_i/∂w = x_i, ∂r_i/∂b = 1.",
        "Σ_i r_i x_i for all features at once is X.T @ r (shape (p,), like w). "
        "So grad_w = 2 / n * X.T @ r and grad_b = 2 / n * xp.sum(r), with n = X.shape[0].",
    ),
    solution=(
        XP_PREAMBLE
        + "def mse_grad(X, y, w, b):\n"
        "    n = X.shape[0]\n"
        "    r = X @ w + b - y              # residuals, shape (n,)\n"
        "    return 2 / n * (X.T @ r), 2 / n * xp.sum(r)\n"
    ),
    mistakes=(
        Mistake(
            "half_mse",
            "Your gradient is half the expected one: it is the gradient of ½·MSE (factor 1/n), the cost "
            "gdcourse's LinearRegression minimises. This exercise's cost is the MSE itself, (1/n) Σ r_i², and "
            "the derivative of r² is 2r: the factor is 2/n.",
            _half_mse,
        ),
        Mistake(
            "sum_not_mean",
            "Your gradient is n times too large: it is the gradient of the residual *sum* of squares Σ r_i². "
            "The cost here is the *mean*, so divide by n = X.shape[0]: the factor is 2/n.",
            _sum_not_mean,
        ),
        Mistake(
            "sign_flipped",
            "Sign flipped: you used the residual y − ŷ instead of ŷ − y. That is −∇J, the downhill direction; "
            "the gradient points uphill. With r = X @ w + b - y the signs come out right.",
            _sign_flipped,
        ),
        Mistake(
            "residual_without_b",
            "The intercept is missing from the residual: you used r = Xw − y. The prediction is ŷ = Xw + b, so "
            "r = X @ w + b - y; both gradients depend on b.",
            _residual_without_b,
        ),
        Mistake(
            "divides_by_p",
            "You divided by the number of features p = X.shape[1]; the mean is over the n = X.shape[0] samples.",
            _divides_by_p,
        ),
        Mistake(
            "per_sample",
            "grad_w has shape (n, p): these are the per-sample terms 2/n · r_i x_i. Sum them over the samples "
            "(X.T @ r does the product and the sum at once) to get one number per feature, shape (p,).",
            _per_sample,
        ),
        Mistake(
            "only_grad_w",
            "You returned only grad_w. The intercept b is a parameter too: return the pair (grad_w, grad_b), "
            "with grad_b = 2/n · Σ r_i.",
            _only_grad_w,
        ),
        Mistake(
            "intercept_grad_zero",
            "grad_b is 0, but J changes when b moves: ∂J/∂b = 2/n · Σ r_i (each residual changes by 1 "
            "when b does). It is zero only at the minimum, where the residuals average to 0.",
            _intercept_grad_zero,
        ),
    ),
)


# --- 02.standardize -----------------------------------------------------------------------------


def standardize(X_train: Any, X_val: Any) -> tuple[Any, Any]:
    r"""Reference for ``02.standardize``: :math:`(X - \mu_{\text{train}}) / \sigma_{\text{train}}` for both sets."""
    xp = array_namespace(X_train)
    mean = xp.mean(X_train, axis=0)
    std = xp.std(X_train, axis=0)
    return (X_train - mean) / std, (X_val - mean) / std


def _standardize_cases(rng: np.random.Generator) -> list[Case]:
    def case(n_train: int, n_val: int, p: int, label: str) -> Case:
        scales = rng.uniform(0.5, 20.0, size=p)
        offsets = rng.uniform(-10.0, 50.0, size=p)
        X_train = offsets + scales * rng.normal(size=(n_train, p))
        shift = scales * rng.uniform(0.5, 1.5, size=p)  # the validation set is not a copy of the training set
        X_val = offsets + shift + 1.5 * scales * rng.normal(size=(n_val, p))
        return Case((asarray(X_train), asarray(X_val)), label=label)

    return [
        case(int(rng.integers(10, 16)), int(rng.integers(4, 7)), 2, "two features, a small validation set"),
        case(int(rng.integers(16, 25)), int(rng.integers(5, 9)), 3, "three features on different scales"),
        case(int(rng.integers(6, 9)), int(rng.integers(3, 5)), 2, "few training samples"),
        _far_from_zero_float32(rng),
    ]


def _far_from_zero_float32(rng: np.random.Generator) -> Case:
    """float32 features in the thousands that vary by a few units, where E[x²] − E[x]² loses every digit.

    Whole numbers and 8 training rows: the mean, the deviations and their squares are exact in float32, only
    the square root and the division round, so every correct answer (float32 or float64) agrees to ~1e-7.
    """
    p = 2
    offsets = 5000.0 + 1000.0 * rng.permutation(4)[:p] + rng.integers(0, 500, size=p)  # no two columns close
    while True:  # no constant column (in either set), so every planted mistake stays finite
        X_train = offsets + rng.integers(-6, 7, size=(8, p))
        X_val = offsets + rng.integers(-9, 10, size=(int(rng.integers(3, 6)), p))
        if np.all(np.ptp(X_train, axis=0) > 0) and np.all(np.ptp(X_val, axis=0) > 0):
            return Case((asarray(X_train, dtype="float32"), asarray(X_val, dtype="float32")),
                        label="float32 features far from zero with a small spread")


def _val_own_stats(X_train, X_val):
    xp = array_namespace(X_train)
    z_val = (X_val - xp.mean(X_val, axis=0)) / xp.std(X_val, axis=0)
    return standardize(X_train, X_val)[0], z_val


def _pooled_stats(X_train, X_val):
    xp = array_namespace(X_train)
    both = xp.concat([X_train, X_val], axis=0)
    mean, std = xp.mean(both, axis=0), xp.std(both, axis=0)
    return (X_train - mean) / std, (X_val - mean) / std


def _by_variance(X_train, X_val):
    xp = array_namespace(X_train)
    mean, var = xp.mean(X_train, axis=0), xp.var(X_train, axis=0)
    return (X_train - mean) / var, (X_val - mean) / var


def _ddof_one(X_train, X_val):
    xp = array_namespace(X_train)
    mean, std = xp.mean(X_train, axis=0), xp.std(X_train, axis=0, correction=1)
    return (X_train - mean) / std, (X_val - mean) / std


def _centre_only(X_train, X_val):
    mean = array_namespace(X_train).mean(X_train, axis=0)
    return X_train - mean, X_val - mean


def _scale_only(X_train, X_val):
    std = array_namespace(X_train).std(X_train, axis=0)
    return X_train / std, X_val / std


def _global_stats(X_train, X_val):
    xp = array_namespace(X_train)
    mean, std = xp.mean(X_train), xp.std(X_train)
    return (X_train - mean) / std, (X_val - mean) / std


def _row_stats(X_train, X_val):
    xp = array_namespace(X_train)

    def rows(X):
        return (X - xp.mean(X, axis=1, keepdims=True)) / xp.std(X, axis=1, keepdims=True)

    return rows(X_train), rows(X_val)


STANDARDIZE = Exercise(
    id="02.standardize",
    kind="function",
    title=(
        "standardize(X_train, X_val): subtract the training mean and divide by the training standard "
        "deviation (ddof=0), feature by feature; return (Z_train, Z_val)"
    ),
    reference=standardize,
    make_cases=_standardize_cases,
    hints=(
        "Rows are samples, columns are features: each feature (column) gets its own mean and standard "
        "deviation, so take them along axis=0.",
        "Compute mean and std from X_train only, then apply the *same* two arrays to X_train and to X_val: "
        "the validation set plays the part of future data you have not seen yet.",
        "mean = xp.mean(X_train, axis=0); std = xp.std(X_train, axis=0)  (ddof=0, the default); "
        "return (X_train - mean) / std, (X_val - mean) / std",
    ),
    solution=(
        XP_PREAMBLE
        + "def standardize(X_train, X_val):\n"
        "    mean = xp.mean(X_train, axis=0)  # one mean per feature, from the training set only\n"
        "    std = xp.std(X_train, axis=0)    # ddof=0: divide by n\n"
        "    return (X_train - mean) / std, (X_val - mean) / std\n"
    ),
    mistakes=(
        Mistake(
            "val_own_stats",
            "Z_val was standardised with the validation set's own mean and standard deviation. A model trained "
            "on Z_train expects inputs transformed exactly like the training data; and at prediction time "
            "there is no 'set' to take statistics from, only new points. Use the training statistics for both.",
            _val_own_stats,
        ),
        Mistake(
            "pooled_stats",
            "Your statistics come from the training and validation sets together. That leaks information about "
            "the validation data into training, so the validation score is no longer an honest estimate. "
            "Fit mean and std on X_train only.",
            _pooled_stats,
        ),
        Mistake(
            "by_variance",
            "You divided by the variance σ², not the standard deviation σ: the result does not have unit "
            "spread (its standard deviation is 1/σ). Divide by xp.std(X_train, axis=0).",
            _by_variance,
        ),
        Mistake(
            "ddof_one",
            "You used the sample standard deviation with ddof=1 (divide by n − 1). This exercise uses ddof=0 "
            "(divide by n), the default of xp.std (and np.std) and of scikit-learn's StandardScaler, so that the "
            "standardised training features have exactly mean 0 and variance 1.",
            _ddof_one,
        ),
        Mistake(
            "centre_only",
            "You subtracted the mean but did not divide by the standard deviation: the features are centred "
            "but keep their different scales, which is what stretches the cost's contours.",
            _centre_only,
        ),
        Mistake(
            "scale_only",
            "You divided by the standard deviation but did not subtract the mean: a feature far from 0 still "
            "couples the slope with the intercept and stretches the contours. Subtract the mean first.",
            _scale_only,
        ),
        Mistake(
            "global_stats",
            "You used one mean and one standard deviation over all entries of X_train. Each feature (column) "
            "needs its own: xp.mean(X_train, axis=0), xp.std(X_train, axis=0).",
            _global_stats,
        ),
        Mistake(
            "row_stats",
            "You standardised each sample (row, axis=1) instead of each feature (column, axis=0). Rows are "
            "samples: take the statistics along axis=0.",
            _row_stats,
        ),
    ),
)


# --- 02.condition_number ------------------------------------------------------------------------

_TRACE, _DISCRIMINANT = 11.0, math.sqrt(11.0**2 - 4.0)  # the matrix [[10, 3], [3, 1]]: trace 11, determinant 1
_LAMBDA_MAX, _LAMBDA_MIN = (_TRACE + _DISCRIMINANT) / 2, (_TRACE - _DISCRIMINANT) / 2

CONDITION_NUMBER = Exercise(
    id="02.condition_number",
    kind="value",
    title=(
        "A feature x has mean 3 and standard deviation 1 (ddof=0). The condition number κ = L/μ of the "
        "Hessian of J(w, b) = (1/n) Σ (w x_i + b − y_i)²"
    ),
    reference=lambda: _LAMBDA_MAX / _LAMBDA_MIN,
    digits=3,
    hints=(
        "The Hessian is H = 2 [[mean(x²), mean(x)], [mean(x), 1]]. The factor 2 scales both eigenvalues, so it "
        "does not change κ.",
        "mean(x²) = sd(x)² + mean(x)² (the variance identity with ddof=0), so the matrix is [[10, 3], [3, 1]].",
        "κ is the ratio of its largest to its smallest eigenvalue: np.linalg.eigvalsh([[10, 3], [3, 1]]), "
        "or by hand from trace 11 and determinant 1: λ = (11 ± √117)/2.",
    ),
    solution=(
        "import numpy as np\n\n"
        "eigenvalues = np.linalg.eigvalsh(np.array([[10.0, 3.0], [3.0, 1.0]]))  # H/2, mean(x²) = 1 + 3²\n"
        "answer = eigenvalues.max() / eigenvalues.min()               # ≈ 119\n"
    ),
    mistakes=(
        Mistake(
            "diagonal_ratio",
            "10 is the ratio of the diagonal entries, mean(x²)/1. The off-diagonal mean(x) = 3 couples slope and "
            "intercept and tilts the bowl: the eigenvalues spread much further apart than the diagonal "
            "suggests. Take the eigenvalues of [[10, 3], [3, 1]].",
            lambda: 10.0,
        ),
        Mistake(
            "offset_ignored",
            "κ = 1 would hold for a *standardised* feature (mean 0, standard deviation 1). This x has mean 3: "
            "mean(x²) = 1 + 9 = 10 and the off-diagonal entries are 3.",
            lambda: 1.0,
        ),
        Mistake(
            "square_root",
            "≈ 10.9 is λ_max of [[10, 3], [3, 1]] and, because its determinant is 1, also √κ: the condition "
            "number of the data matrix [x, 1] itself (its singular values are the square roots of these "
            "eigenvalues). The Hessian's κ is λ_max / λ_min ≈ 119.",
            lambda: _LAMBDA_MAX,
        ),
        Mistake(
            "largest_eigenvalue",
            "≈ 21.8 is L = λ_max of the Hessian itself; κ divides it by the smallest eigenvalue μ.",
            lambda: 2.0 * _LAMBDA_MAX,
        ),
        Mistake(
            "variance_on_diagonal",
            "The top-left entry is the mean of x², which is sd² + mean² = 10, not the variance 1: with "
            "[[1, 3], [3, 1]] the 'Hessian' has a negative eigenvalue, which a sum of squares cannot have.",
            lambda: -2.0,
        ),
        # The same misconception computed as the notebook's own cell computes κ (np.linalg.cond): the 2-norm
        # condition number is |λmax / λmin| = |4 / −2|, so the negative eigenvalue goes unnoticed.
        Mistake(
            "variance_on_diagonal_cond",
            "2 is np.linalg.cond of [[1, 3], [3, 1]], with the variance 1 where mean(x²) belongs. That matrix has "
            "eigenvalues 4 and −2 (cond reports |4/−2|), and a Hessian of a sum of squares cannot have a negative "
            "eigenvalue. The top-left entry is mean(x²) = sd² + mean² = 1 + 9 = 10.",
            lambda: 2.0,
        ),
    ),
)

EXERCISES: tuple[Exercise, ...] = (MSE_GRAD, CONDITION_NUMBER, STANDARDIZE)
