r"""Linear support vector machine trained by (sub)gradient descent.

.. math::
    J(w, b) = \frac1n \sum_i \ell(y_i z_i) + \alpha_1\lVert w\rVert_1 + \frac{\alpha_2}{2}\lVert w\rVert_2^2,
    \qquad z_i = x_i^\top w + b,\ y_i \in \{-1, +1\}

with :math:`\ell(m) = \max(0, 1 - m)^2` (``loss="squared_hinge"``, differentiable) or
:math:`\max(0, 1 - m)` (``loss="hinge"``, where gradient descent uses a subgradient and, with
``lr="auto"``, decreasing steps: see :class:`~gdcourse.models.SubgradientSchedule`).  ``classes_[1]`` is :math:`y = +1`.

Relation to scikit-learn's ``LinearSVC``, which minimises :math:`C\sum_i \ell(y_i z_i) + \frac12\lVert w\rVert^2`
(``penalty="l2"``): ``alpha = 1 / (n_samples * C)``.  One difference: ``LinearSVC`` penalises the
intercept too (it is the weight of an extra constant feature ``intercept_scaling``), this model does
not.  With ``fit_intercept=False`` on both sides the two objectives are identical.
"""

from __future__ import annotations

from typing import Any

from gdcourse.backend import array_namespace
from gdcourse.losses import _hinge, _hinge_grad, _squared_hinge, _squared_hinge_grad

from ._base import document
from ._classifier import LinearClassifier

Array = Any

LOSSES = ("squared_hinge", "hinge")


@document(
    extra_parameters="""
    loss : {"squared_hinge", "hinge"}, default "squared_hinge"
        :math:`\\max(0, 1 - y z)^2` (smooth, ``LinearSVC``'s default) or :math:`\\max(0, 1 - y z)`.""",
    attributes="""
    classes_ : ndarray, shape (2,)
        The two labels, sorted; ``classes_[1]`` is :math:`y = +1`.
    coef_ : ndarray, shape (1, n_features)
        Weights :math:`w`.
    intercept_ : ndarray, shape (1,)
        :math:`b`.""",
)
class LinearSVM(LinearClassifier):
    r"""Linear SVM: :math:`\operatorname{sign}(x^\top w + b)` with a (squared) hinge loss and an L2 penalty.

    ``alpha = 1 / (n_samples * C)`` relates it to ``sklearn.svm.LinearSVC(C=...)``; the intercept is
    not penalised here (see :mod:`gdcourse.models.svm`).

    Examples
    --------
    >>> import numpy as np
    >>> from gdcourse.models import LinearSVM
    >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    >>> LinearSVM(alpha=0.01).fit(X, np.array([0, 0, 1, 1])).predict(np.array([[-0.5], [0.5]])).tolist()
    [0, 1]
    """

    def __init__(
        self,
        *,
        loss: str = "squared_hinge",
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
        self.loss = loss
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

    @property
    def _curvature(self) -> float | None:  # type: ignore[override]
        return 2.0 if self.loss == "squared_hinge" else None

    def _check_params(self) -> dict[str, Any]:
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be 'squared_hinge' or 'hinge', got {self.loss!r}")
        return super()._check_params()

    def _encode_targets(self, y: Array, X: Array) -> tuple[Array, int]:
        idx = self._class_indices(y)
        return 2.0 * array_namespace(idx).astype(idx, X.dtype) - 1.0, 1

    def _data_term(self, xp: Any, S: Array, T: Array) -> Array:
        return (_squared_hinge if self.loss == "squared_hinge" else _hinge)(xp, S[:, 0], T)

    def _data_grad(self, xp: Any, S: Array, T: Array) -> Array:
        grad = _squared_hinge_grad if self.loss == "squared_hinge" else _hinge_grad
        return grad(xp, S[:, 0], T)[:, None]

    def decision_function(self, X: Any) -> Array:
        """Signed scores :math:`z = Xw + b`, shape ``(n_samples,)``; positive means ``classes_[1]``."""
        return self._scores(X)[:, 0]
