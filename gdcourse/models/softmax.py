r"""Softmax (multinomial logistic) regression trained by gradient descent.

.. math::
    J(W, b) = \frac1n \sum_i \Big[\log\sum_k e^{z_{ik}} - z_{i y_i}\Big]
              + \alpha_1\lVert W\rVert_1 + \frac{\alpha_2}{2}\lVert W\rVert_F^2,
    \qquad z_i = W^\top x_i + b

(:func:`gdcourse.losses.softmax_cross_entropy`).  With ``alpha = 1 / (n_samples * C)`` it is
scikit-learn's multinomial ``LogisticRegression(C=...)`` objective divided by :math:`nC`; with an L2
penalty the solution is unique (without one, adding the same vector to every class's weights changes
nothing, so only differences between classes are determined).
"""

from __future__ import annotations

from typing import Any

from gdcourse.losses import _softmax_ce, _softmax_ce_grad, one_hot, softmax

from ._base import document
from ._classifier import LinearClassifier

Array = Any


@document(
    attributes="""
    classes_ : ndarray, shape (n_classes,)
        The labels, sorted.
    coef_ : ndarray, shape (n_classes, n_features)
        One weight vector per class (also for two classes).
    intercept_ : ndarray, shape (n_classes,)
        One intercept per class."""
)
class SoftmaxRegression(LinearClassifier):
    r"""Multinomial logistic regression :math:`P(y = k \mid x) = \operatorname{softmax}(W^\top x + b)_k`.

    Objective: mean softmax cross-entropy plus penalty; ``alpha = 1 / (n_samples * C)`` relates it to
    scikit-learn's multinomial ``LogisticRegression(C=...)`` (see :mod:`gdcourse.models.softmax`).
    For two classes, :meth:`decision_function` returns :math:`z_1 - z_0` (shape ``(n,)``), as
    scikit-learn requires of binary classifiers.

    Examples
    --------
    >>> import numpy as np
    >>> from gdcourse.models import SoftmaxRegression
    >>> X = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]])
    >>> model = SoftmaxRegression(alpha=0.01, max_epochs=200, tol=None).fit(X, np.array([0, 1, 2]))
    >>> model.predict(np.array([[5.0, 0.0], [0.0, 5.0]])).tolist()
    [1, 2]
    """

    _binary_only = False
    _curvature = 0.5  # the Hessian of the cross-entropy in the logits, diag(p) - p p^T, is <= 1/2

    def __init__(
        self,
        *,
        penalty: str | None = "l2",
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

    def _encode_targets(self, y: Array, X: Array) -> tuple[Array, int]:
        idx = self._class_indices(y)
        k = len(self.classes_)
        return one_hot(idx, k, X.dtype), k

    def _data_term(self, xp: Any, S: Array, T: Array) -> Array:
        return _softmax_ce(xp, S, T)

    def _data_grad(self, xp: Any, S: Array, T: Array) -> Array:
        return _softmax_ce_grad(xp, S, T)

    def decision_function(self, X: Any) -> Array:
        """Logits ``(n_samples, n_classes)``; for two classes :math:`z_1 - z_0`, shape ``(n_samples,)``."""
        S = self._scores(X)
        return S[:, 1] - S[:, 0] if S.shape[1] == 2 else S

    def predict_proba(self, X: Any) -> Array:
        """Class probabilities ``softmax(z)``, shape ``(n_samples, n_classes)``, rows summing to 1."""
        return softmax(self._scores(X), axis=1)
