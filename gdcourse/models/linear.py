r"""Linear regression trained by gradient descent (plain, ridge, lasso or elastic net).

.. math::
    J(w, b) = \frac{1}{2n} \lVert Xw + b - y\rVert_2^2
              + \alpha_1 \lVert w\rVert_1 + \frac{\alpha_2}{2}\lVert w\rVert_2^2

The data term is *half* the mean squared error, :math:`\frac12\,\mathrm{MSE}`, so that the objective is
scikit-learn's ``Lasso`` / ``ElasticNet`` objective exactly: ``penalty="l1"`` with ``alpha`` is
``Lasso(alpha)``, ``penalty="elasticnet"`` is ``ElasticNet(alpha, l1_ratio)``, and ``penalty="l2"`` is
``Ridge(alpha=n_samples * alpha)`` (``Ridge`` minimises
:math:`\lVert Xw + b - y\rVert^2 + \alpha_{\text{Ridge}}\lVert w\rVert^2`).
The gradient of the data term is :math:`\nabla_w = \frac1n X^\top(Xw + b - y)`,
:math:`\nabla_b = \frac1n \sum_i (x_i^\top w + b - y_i)`.
``history_.train_loss`` reports the MSE itself (no factor ½).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import RegressorMixin

from gdcourse.backend import array_namespace
from gdcourse.losses import _mse, _mse_grad  # labels checked by the estimator

from ._base import LinearGDModel, document

Array = Any


@document(
    attributes="""
    coef_ : ndarray, shape (n_features,)
        Weights :math:`w`.
    intercept_ : float
        :math:`b` (0.0 with ``fit_intercept=False``)."""
)
class LinearRegression(RegressorMixin, LinearGDModel):
    r"""Least-squares linear regression :math:`\hat y = Xw + b`, fitted by gradient descent.

    Objective: :math:`\frac{1}{2n}\lVert Xw + b - y\rVert^2 + R(w)` (see :mod:`gdcourse.models.linear`
    for how ``alpha`` maps to ``Ridge``, ``Lasso`` and ``ElasticNet``).

    Examples
    --------
    >>> import numpy as np
    >>> from gdcourse.models import LinearRegression
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> model = LinearRegression(tol=None, max_epochs=500).fit(X, 2 * X[:, 0] + 1)
    >>> round(float(model.coef_[0]), 4), round(float(model.intercept_), 4)
    (2.0, 1.0)
    """

    def __init__(
        self,
        *,
        penalty: str | None = None,
        alpha: float = 1e-4,
        l1_ratio: float = 0.15,
        fit_intercept: bool = True,
        optimizer: Any = "gd",
        lr: Any = "auto",
        optimizer_kwargs: dict | None = None,
        batch_size: int | None = None,
        max_epochs: int = 1000,
        tol: float | None = 1e-4,
        patience: int = 5,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        l1_method: str = "prox",
        random_state: Any = None,
    ) -> None:
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.optimizer = optimizer
        self.lr = lr
        self.optimizer_kwargs = optimizer_kwargs
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.tol = tol
        self.patience = patience
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.l1_method = l1_method
        self.random_state = random_state

    _curvature = 1.0
    _loss_scale = 2.0  # history_.train_loss is the MSE, the data term is half of it

    def _encode_targets(self, y: Array, X: Array) -> tuple[Array, int]:
        return y, 1

    def _data_term(self, xp: Any, S: Array, T: Array) -> Array:
        return 0.5 * _mse(xp, S[:, 0], T)

    def _data_grad(self, xp: Any, S: Array, T: Array) -> Array:
        return (0.5 * _mse_grad(xp, S[:, 0], T))[:, None]

    def _store_coef(self, W: np.ndarray, b: np.ndarray) -> None:
        self.coef_ = np.ascontiguousarray(W[:, 0])
        self.intercept_ = float(b[0]) if self.fit_intercept else 0.0

    def predict(self, X: Any) -> Array:
        """Predictions :math:`Xw + b`, shape ``(n_samples,)``, in the library and device of ``X``."""
        return self._scores(X)[:, 0]

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        r"""Coefficient of determination :math:`R^2 = 1 - \sum_i (y_i - \hat y_i)^2 / \sum_i (y_i - \bar y)^2`.

        Host data (and any call with ``sample_weight``) uses scikit-learn's ``r2_score``.

        Parameters
        ----------
        X, y : array-like
            Inputs ``(n_samples, n_features)`` and the true targets :math:`y_i` ``(n_samples,)``.
        sample_weight : array-like of shape (n_samples,), optional
            Weights of the squared errors (handled by scikit-learn).

        Returns
        -------
        float
            :math:`R^2`: 1 for perfect predictions, 0 for predicting :math:`\bar y`, negative when worse.
            Constant targets give 1.0 when predicted exactly, else 0.0.
        """
        if self._sklearn_scores(X, y, sample_weight):
            return super().score(X, y, sample_weight=sample_weight)
        xp = array_namespace(y)
        pred = self.predict(X)
        y = xp.astype(y, pred.dtype)
        ss_res = float(xp.sum((y - pred) ** 2))
        ss_tot = float(xp.sum((y - xp.mean(y)) ** 2))
        if ss_tot == 0:
            return 1.0 if ss_res == 0 else 0.0
        return 1.0 - ss_res / ss_tot
