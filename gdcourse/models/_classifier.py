"""Shared parts of the classifiers: label encoding, ``predict`` and an array-API ``score``."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from gdcourse.backend import array_namespace

from ._base import LinearGDModel
from ._validation import encode_labels, labels_like

Array = Any


class LinearClassifier(ClassifierMixin, LinearGDModel):
    """Base class of the classifiers: ``classes_`` from ``y``, predictions mapped back to the labels."""

    _is_classifier = True
    #: Whether the estimator handles exactly two classes (``True``) or two or more (``False``).
    _binary_only = True

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = not self._binary_only
        return tags

    def _class_indices(self, y: Array) -> Array:
        """Set ``classes_`` and return ``y`` as int64 class indices (``y``'s library); check the class count."""
        self.classes_, idx = encode_labels(y)
        n_classes = len(self.classes_)
        name = type(self).__name__
        if n_classes < 2:
            raise ValueError(
                f"y contains only one class ({self.classes_[0]!r}); {name} needs samples of at least 2 classes"
            )
        if self._binary_only and n_classes > 2:
            raise ValueError(
                f"Only binary classification is supported by {name}, but y has {n_classes} classes; "
                "use SoftmaxRegression for more than two"
            )
        return idx

    def _predict_indices(self, X: Any) -> Array:
        """Index of the predicted class for each row of ``X`` (int64, ``X``'s library)."""
        S = self._scores(X)
        xp = array_namespace(S)
        if S.shape[1] == 1:
            return xp.astype(S[:, 0] > 0, xp.int64)
        return xp.argmax(S, axis=1)

    def predict(self, X: Any) -> Array:
        """Predicted class labels, shape ``(n_samples,)``, in the library and device of ``X``."""
        check_is_fitted(self, "coef_")
        return labels_like(self.classes_, self._predict_indices(X))

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Accuracy: the fraction of samples whose predicted label equals ``y``.

        Host data (and any call with ``sample_weight``) uses scikit-learn's ``accuracy_score``;
        arrays of another library are scored where they live.

        Parameters
        ----------
        X : array-like, shape (n_samples, n_features)
            The examples to classify.
        y : array-like, shape (n_samples,)
            Their true labels.
        sample_weight : array-like, optional
            A weight per example (scikit-learn's score then); ``None`` counts every example once.

        Returns
        -------
        float
            Accuracy in :math:`[0, 1]`.
        """
        if self._sklearn_scores(X, y, sample_weight):
            return super().score(X, y, sample_weight=sample_weight)
        xp = array_namespace(y)
        return float(xp.mean(xp.astype(self.predict(X) == y, xp.float64)))


def host_float(x: Any) -> np.ndarray:
    """A NumPy float array (for intercepts)."""
    return np.asarray(x, dtype=np.float64)
