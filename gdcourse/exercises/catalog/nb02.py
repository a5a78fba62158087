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
- ``beat_the_budget(X, y, n_steps, tol)`` is an experiment.  Gradient descent on the MSE above (factor
  :math:`2/n`, an intercept) starts from :math:`(w, b) = 0` and takes exactly ``n_steps`` steps, on the raw
  features or on the standardised ones (training mean and ``ddof=0`` standard deviation of ``X``, as in
  ``standardize``); the answer is the pair ``(standardize, lr)``, a ``bool`` (or ``np.bool_``) and one
  positive number.  It passes when that run ends within ``tol`` of the least-squares minimum :math:`J^*`
  (the case's ``key``, computed with ``np.linalg.lstsq``; standardising does not change it).  The cases are
  badly scaled or offset (κ of the raw features from a few hundred to about 10⁶, of the standardised ones
  below 8), ``n_steps = 50`` and ``tol`` is a millionth of :math:`J(0) - J^*`: on the raw features the best
  fixed η misses ``tol`` by a factor of 1000 or more, on the standardised ones every
  :math:`\eta \in [0.6/L, 1.8/L]` meets it (:math:`L = \lambda_{\max}(\frac2n\tilde F^\top\tilde F)` of
  the features run on), and :math:`\eta = 2/L` misses it by a factor of 1000 or more.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gdcourse.backend import array_namespace, asarray, to_numpy
from gdcourse.exercises.catalog import XP_PREAMBLE
from gdcourse.exercises.core import Case, Exercise, Mistake, real_scalar

__all__ = ["EXERCISES"]


# --- 02.mse_grad --------------------------------------------------------------------------------


def mse_grad(X: Any, y: Any, w: Any, b: float) -> tuple[Any, Any]:
    r"""Reference for ``02.mse_grad``: :math:`(\frac2n X^\top r, \frac2n\sum_i r_i)` with :math:`r = Xw + b - y`.

    Parameters
    ----------
    X : array of shape (n, p)
        The features, one example per row.
    y : array of shape (n,)
        The targets.
    w : array of shape (p,)
        The weights where the gradient is taken.
    b : float
        The intercept where the gradient is taken.

    Returns
    -------
    grad_w : array of shape (p,)
        :math:`\partial J/\partial w = \frac2n X^\top r`.
    grad_b : float or 0-d array
        :math:`\partial J/\partial b = \frac2n \sum_i r_i`.
    """
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
        XP_PREAMBLE + "def mse_grad(X, y, w, b):\n"
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
    r"""Reference for ``02.standardize``: :math:`(X - \mu_{\text{train}}) / \sigma_{\text{train}}` for both sets.

    Parameters
    ----------
    X_train : array of shape (n_train, p)
        The training set: its column means :math:`\mu` and standard deviations :math:`\sigma` (``ddof=0``)
        are the ones used for both sets.
    X_val : array of shape (n_val, p)
        The validation set, scaled with the training set's :math:`\mu` and :math:`\sigma`.

    Returns
    -------
    Z_train : array of shape (n_train, p)
    Z_val : array of shape (n_val, p)
    """
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
            return Case(
                (asarray(X_train, dtype="float32"), asarray(X_val, dtype="float32")),
                label="float32 features far from zero with a small spread",
            )


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
        XP_PREAMBLE + "def standardize(X_train, X_val):\n"
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

# --- 02.beat_the_budget -------------------------------------------------------------------------


def _with_ones(F: Any) -> Any:
    """The design matrix ``[F, 1]`` (a column of ones for the intercept), in ``F``'s namespace."""
    xp = array_namespace(F)
    return xp.concat([F, xp.ones_like(F[:, :1])], axis=1)


def _standardized(X: Any) -> Any:
    """``X`` with each column centred and divided by its standard deviation (``ddof=0``)."""
    xp = array_namespace(X)
    return (X - xp.mean(X, axis=0)) / xp.std(X, axis=0)


def _largest_curvature(F: Any) -> float:
    r"""L of the MSE on features ``F`` and an intercept: :math:`\lambda_{\max}(\frac2n\tilde F^\top\tilde F)`."""
    xp = array_namespace(F)
    F1 = _with_ones(F)
    return 2.0 * float(xp.max(xp.linalg.eigvalsh(F1.T @ F1 / F.shape[0])))


def beat_the_budget(X: Any, y: Any, n_steps: int, tol: float) -> tuple[bool, float]:
    r"""Reference for ``02.beat_the_budget``: try the raw features, then the standardised ones, with η near 1/L.

    For each choice of features :math:`F` (raw :math:`X`, then :math:`Z = (X - \bar X)/\operatorname{sd}(X)`),
    run ``n_steps`` steps of gradient descent on :math:`J(w, b) = \frac1n\lVert Fw + b - y\rVert^2` from
    :math:`(w, b) = 0` with :math:`\eta = c/L`, :math:`L = \lambda_{\max}(\frac2n\tilde F^\top\tilde F)`, for
    a few :math:`c`, and return the first ``(standardize, lr)`` whose final cost is within ``tol`` of the
    least-squares minimum :math:`J^*` (the normal equations on the raw features).

    Parameters
    ----------
    X : array of shape (n, p)
        The raw features (badly scaled or offset).
    y : array of shape (n,)
        The targets.
    n_steps : int
        The number of gradient steps of the run (50 in the cases).
    tol : float
        How far above :math:`J^*` the final cost may be.

    Returns
    -------
    standardize : bool
        Whether the run uses the standardised features.
    lr : float
        The learning rate :math:`\eta` of the run.
    """
    xp = array_namespace(X)
    n = X.shape[0]
    X1 = _with_ones(X)
    theta_star = xp.linalg.solve(X1.T @ X1, X1.T @ y)  # the normal equations: the same J* for raw or standardised
    J_star = float(xp.mean((X1 @ theta_star - y) ** 2))
    lr = 0.0
    for standardize in (False, True):
        F1 = _with_ones(_standardized(X) if standardize else X)
        L = 2.0 * float(xp.max(xp.linalg.eigvalsh(F1.T @ F1 / n)))
        for c in (1.0, 0.5, 1.5):  # all below the stability limit 2/L
            lr = c / L
            theta = xp.zeros_like(F1[0, :])
            for _ in range(n_steps):
                theta = theta - lr * (2.0 / n) * (F1.T @ (F1 @ theta - y))
            if float(xp.mean((F1 @ theta - y) ** 2)) - J_star <= tol:
                return standardize, lr
    return True, lr


def _budget_cases(rng: np.random.Generator) -> list[Case]:
    def case(scales: list[float], offsets: list[float], rho: float, label: str) -> Case:
        n, p = int(rng.integers(40, 61)), len(scales)
        U = rng.normal(size=(n, p))
        if p > 1:  # correlate the first two features: κ of the standardised features is then above 1
            U[:, 1] = rho * U[:, 0] + math.sqrt(1.0 - rho**2) * U[:, 1]
        X = np.asarray(offsets) + np.asarray(scales) * U
        coef = rng.uniform(0.5, 2.0, size=p)  # same signs: the steepest standardised direction carries signal
        y = U @ coef + rng.uniform(-3.0, 3.0) + rng.normal(0.0, 0.5, size=n)
        X1 = np.column_stack([X, np.ones(n)])
        theta_star = np.linalg.lstsq(X1, y, rcond=None)[0]
        J_star = float(np.mean((X1 @ theta_star - y) ** 2))
        tol = float(f"{1e-6 * (float(np.mean(y**2)) - J_star):.1g}")  # a millionth of the gap at the start
        return Case((asarray(X), asarray(y), 50, tol), label=label, key=J_star)

    return [
        case(
            [float(rng.uniform(0.5, 1.5))],
            [float(rng.choice([-1.0, 1.0]) * rng.uniform(8.0, 15.0))],
            0.0,
            "one feature far from zero",
        ),
        case(
            [float(rng.uniform(20.0, 50.0)), float(rng.uniform(0.05, 0.2))],
            [float(rng.uniform(-5.0, 5.0)), float(rng.uniform(-1.0, 1.0))],
            float(rng.uniform(0.2, 0.5)),
            "two features on very different scales",
        ),
        case(
            [1.0, float(rng.uniform(5.0, 15.0)), float(rng.uniform(0.1, 0.3))],
            [float(rng.uniform(2.0, 5.0)), float(rng.uniform(-10.0, 10.0)), 0.0],
            float(rng.uniform(0.3, 0.6)),
            "three features, two of them correlated",
        ),
    ]


def _run_budget(F: np.ndarray, y: np.ndarray, lr: float, n_steps: int) -> tuple[float, bool]:
    """Final MSE of ``n_steps`` GD steps from 0 on ``[F, 1]`` (host float64), and whether the cost blew up."""
    n = F.shape[0]
    F1 = np.column_stack([F, np.ones(n)])
    theta = np.zeros(F1.shape[1])
    start = float(np.mean(y**2))
    with np.errstate(all="ignore"):
        for _ in range(n_steps):
            theta = theta - lr * (2.0 / n) * (F1.T @ (F1 @ theta - y))
            cost = float(np.mean((F1 @ theta - y) ** 2))
            if not math.isfinite(cost) or cost > 1e6 * start:
                return cost, True
    return cost, False


def _what(x: Any) -> str:
    """A short description of a value a learner returned, for a requirement's reason."""
    if x is None or isinstance(x, bool | np.bool_ | str):
        return repr(x) if not isinstance(x, str) or len(x) <= 20 else "a string"
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        return f"an array of shape {tuple(x.shape)}"
    if isinstance(x, tuple | list):
        return f"a {type(x).__name__} of {len(x)} items"
    return f"a value of type {type(x).__name__}"


def _budget_requirement(case: Case, value: Any) -> str | None:
    """``None`` when ``n_steps`` GD steps with the answer's features and learning rate end within ``tol`` of J*."""
    X, y, n_steps, tol = case.args
    if not isinstance(value, tuple | list) or len(value) != 2:
        return f"expected the pair (standardize, lr), a bool and a learning rate; got {_what(value)}"
    standardize, lr = value
    if real_scalar(standardize) is not None and isinstance(lr, bool | np.bool_):
        return "the pair is (standardize, lr), in that order: the bool first, then the learning rate"
    if not isinstance(standardize, bool | np.bool_):
        return f"standardize must be True or False, got {_what(standardize)}"
    rate = real_scalar(lr)
    if rate is None:
        return f"lr must be one positive number, got {_what(lr)}"
    if not (math.isfinite(rate) and rate > 0):
        return f"lr must be a positive, finite learning rate, got {rate:.4g}"
    X_host, y_host = np.asarray(to_numpy(X), dtype=np.float64), np.asarray(to_numpy(y), dtype=np.float64)
    F = (X_host - X_host.mean(axis=0)) / X_host.std(axis=0) if standardize else X_host
    features = "standardised" if standardize else "raw"
    F1 = np.column_stack([F, np.ones(F.shape[0])])
    eigenvalues = np.linalg.eigvalsh(2.0 * F1.T @ F1 / F.shape[0])
    L, kappa = float(eigenvalues[-1]), float(eigenvalues[-1] / eigenvalues[0])
    cost, blew_up = _run_budget(F, y_host, rate, int(n_steps))
    gap = cost - float(case.key)
    if not blew_up and gap <= tol:
        return None
    if blew_up or rate >= 2.0 / L:
        advice = (
            "The raw features' bowl is far steeper than the standardised one: compute L on the features gradient "
            "descent runs on"
            if not standardize
            else "Take η below 2/L, for example 1/L"
        )
        return (
            f"on the {features} features η = {rate:.4g} is at or above the stability limit 2/L = {2.0 / L:.4g} "
            f"(L = {L:.4g}, the largest curvature of these features' bowl), so gradient descent does not settle. "
            + advice
        )
    where = (
        f"after {n_steps} steps on the {features} features with η = {rate:.4g} the cost is {gap:.3g} above "
        f"its minimum, more than tol = {tol:.3g}"
    )
    if not standardize:
        return (
            f"{where}. These features' bowl has condition number κ = {kappa:.3g}: gradient descent needs on the "
            f"order of κ steps whatever η, far more than {n_steps}. Standardise the features"
        )
    if rate < 1.0 / L:
        return f"{where}. η is small for these features: their L is {L:.4g}, and η = 1/L is the classic step"
    return f"{where}. η is close to the stability limit 2/L = {2.0 / L:.4g}: the steepest direction barely shrinks"


def _budget_mistake(standardize: bool, on: str, factor: float = 1.0, swapped: bool = False) -> Any:
    """A planted answer ``(standardize, factor / L)``, L computed on the raw (``on="raw"``) or standardised features."""

    def answer(X: Any, y: Any, n_steps: int, tol: float) -> Any:
        lr = factor / _largest_curvature(X if on == "raw" else _standardized(X))
        return (lr, standardize) if swapped else (standardize, lr)

    return answer


BEAT_THE_BUDGET = Exercise(
    id="02.beat_the_budget",
    kind="function",
    title=(
        "beat_the_budget(X, y, n_steps, tol): choose raw or standardised features and a learning rate with "
        "which n_steps of gradient descent bring the MSE within tol of its minimum; return (standardize, lr)"
    ),
    reference=beat_the_budget,
    make_cases=_budget_cases,
    requirement=_budget_requirement,
    hints=(
        "First find the target: J* is the cost at the exact minimum, from the normal equations on the design "
        "matrix [X, 1] (section 5). Then write a helper that runs n_steps of gradient descent from zeros on "
        "features F (with an intercept) and returns the final cost.",
        "Try the raw features with η = 1/L, L the largest eigenvalue of the Hessian 2·F̃ᵀF̃/n of *those* "
        "features, and a few multiples of it: does any reach J* + tol in n_steps? Then the same on the "
        "standardised features Z = (X − mean) / std, with Z's own L.",
        "for standardize in (False, True): F = Z if standardize else X; F1 = [F, 1]; "
        "L = 2 * max(eigvalsh(F1.T @ F1 / n)); run n_steps of θ ← θ − (1/L)·(2/n)·F1ᵀ(F1θ − y) from 0; "
        "if mean((F1θ − y)²) − J* <= tol: return standardize, 1 / L.",
    ),
    solution=(
        XP_PREAMBLE + "def beat_the_budget(X, y, n_steps, tol):\n"
        "    n = X.shape[0]\n"
        "    ones = xp.ones_like(X[:, :1])  # a column of ones, shape (n, 1)\n"
        "    X1 = xp.concat([X, ones], axis=1)\n"
        "    theta_star = xp.linalg.solve(X1.T @ X1, X1.T @ y)  # the normal equations\n"
        "    J_star = float(xp.mean((X1 @ theta_star - y) ** 2))\n"
        "    Z = (X - xp.mean(X, axis=0)) / xp.std(X, axis=0)\n"
        "    for standardize, F in ((False, X), (True, Z)):\n"
        "        F1 = xp.concat([F, ones], axis=1)\n"
        "        L = 2 * float(xp.max(xp.linalg.eigvalsh(F1.T @ F1 / n)))  # largest curvature of THESE features\n"
        "        for lr in (1 / L, 0.5 / L, 1.5 / L):\n"
        "            theta = xp.zeros_like(F1[0, :])  # (w, b) = 0\n"
        "            for _ in range(n_steps):\n"
        "                theta = theta - lr * 2 / n * (F1.T @ (F1 @ theta - y))\n"
        "            if float(xp.mean((F1 @ theta - y) ** 2)) - J_star <= tol:\n"
        "                return standardize, lr\n"
        "    return True, lr  # nothing reached the target: the last try\n"
    ),
    mistakes=(
        Mistake(
            "raw_features",
            "You kept the raw features, with their own η = 1/L. No fixed step does much better on them, and it is "
            "not enough: their bowl is a long, narrow valley (κ in the hundreds or more), and gradient descent needs "
            "on the order of κ steps to walk along its floor. Standardise the features: κ drops to a few units.",
            _budget_mistake(False, "raw"),
        ),
        Mistake(
            "raw_lr_on_standardised",
            "You standardised the features but kept the learning rate computed on the raw ones. The raw bowl is "
            "far steeper (its L is much larger), so that η is tiny on the standardised bowl and the budget runs "
            "out. Compute L again, on the features gradient descent actually runs on.",
            _budget_mistake(True, "raw"),
        ),
        Mistake(
            "standardised_lr_on_raw",
            "You return the learning rate of the standardised features but say to run on the raw ones. On the raw "
            "features, whose bowl is far steeper, that η is above the stability limit 2/L and gradient descent "
            "diverges. The learning rate belongs to the features it was computed on.",
            _budget_mistake(False, "standardised"),
        ),
        Mistake(
            "edge_of_stability",
            "Your η is 2/L on the standardised features, the stability limit itself: the steepest direction is "
            "multiplied by 1 − ηL = −1 at every step, so it flips sign forever and never shrinks. (That is "
            "η = 1/λmax(F̃ᵀF̃/n), the step for ½·MSE; the Hessian of the MSE is 2·F̃ᵀF̃/n.) Take η = 1/L.",
            _budget_mistake(True, "standardised", factor=2.0),
        ),
        Mistake(
            "swapped_pair",
            "The pair is in the wrong order: return (standardize, lr), the bool first and the learning rate second.",
            _budget_mistake(True, "standardised", swapped=True),
        ),
    ),
)

EXERCISES: tuple[Exercise, ...] = (MSE_GRAD, CONDITION_NUMBER, BEAT_THE_BUDGET, STANDARDIZE)
