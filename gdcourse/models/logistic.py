r"""Binary logistic regression trained by gradient descent.

.. math::
    J(w, b) = \frac1n \sum_i \big[\log(1 + e^{z_i}) - y_i z_i\big]
              + \alpha_1\lVert w\rVert_1 + \frac{\alpha_2}{2}\lVert w\rVert_2^2,
    \qquad z_i = x_i^\top w + b,\ y_i \in \{0, 1\}

(:func:`gdcourse.losses.log_loss`; ``classes_[1]`` is the positive class).  Multiplying by :math:`nC`
gives scikit-learn's ``LogisticRegression`` objective :math:`C\sum_i \ell_i + \frac12\lVert w\rVert^2`
(``l1``: :math:`C\sum_i\ell_i + \lVert w\rVert_1`), so ``alpha`` :math:`= 1/(nC)`, i.e. ``C = 1 / (n_samples * alpha)``;
``penalty=None`` is ``C=np.inf``.  Neither penalises the intercept (``lbfgs``/``saga`` solvers).
"""

from __future__ import annotations

from typing import Any

from gdcourse.backend import array_namespace
from gdcourse.losses import _log_loss, _log_loss_grad, sigmoid  # labels checked by the estimator

from ._base import document
from ._classifier import LinearClassifier

Array = Any


@document(
    attributes="""
    classes_ : ndarray, shape (2,)
        The two labels, sorted; ``classes_[1]`` is the positive class (:math:`y = 1`).
    coef_ : ndarray, shape (1, n_features)
        Weights :math:`w`.
    intercept_ : ndarray, shape (1,)
        :math:`b`."""
)
class LogisticRegression(LinearClassifier):
    r"""Binary logistic regression :math:`P(y = 1 \mid x) = \sigma(x^\top w + b)`, fitted by gradient descent.

    Objective: mean log loss plus penalty; ``alpha = 1 / (n_samples * C)`` relates it to
    scikit-learn's ``LogisticRegression(C=...)`` (see :mod:`gdcourse.models.logistic`).

    Examples
    --------
    >>> import numpy as np
    >>> from gdcourse.models import LogisticRegression
    >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    >>> model = LogisticRegression(alpha=0.1).fit(X, np.array(["no", "no", "yes", "yes"]))
    >>> model.predict(np.array([[-3.0], [3.0]])).tolist()
    ['no', 'yes']
    """

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

    _curvature = 0.25  # sigma'(z) <= 1/4

    def _encode_targets(self, y: Array, X: Array) -> tuple[Array, int]:
        idx = self._class_indices(y)
        return array_namespace(idx).astype(idx, X.dtype), 1

    def _data_term(self, xp: Any, S: Array, T: Array) -> Array:
        return _log_loss(xp, S[:, 0], T)

    def _data_grad(self, xp: Any, S: Array, T: Array) -> Array:
        return _log_loss_grad(xp, S[:, 0], T)[:, None]

    def decision_function(self, X: Any) -> Array:
        """Logits :math:`z = Xw + b` (log-odds of ``classes_[1]``), shape ``(n_samples,)``."""
        return self._scores(X)[:, 0]

    def predict_proba(self, X: Any) -> Array:
        r"""Class probabilities :math:`[\sigma(-z), \sigma(z)]`, shape ``(n_samples, 2)``.

        :math:`\sigma(-z)` rather than :math:`1 - \sigma(z)`: the same number without cancellation.
        """
        z = self.decision_function(X)
        return array_namespace(z).stack([sigmoid(-z), sigmoid(z)], axis=1)
