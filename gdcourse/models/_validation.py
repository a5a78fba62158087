"""Input checks for the estimators: scikit-learn's at the NumPy boundary, array-API ones elsewhere.

Two kinds of input reach ``fit`` / ``predict``:

* **host data** — NumPy arrays, lists, pandas frames, anything that is not an array-API array of
  another library.  It goes through scikit-learn's own ``validate_data`` (feature names,
  ``n_features_in_``, sparse and complex rejection, scikit-learn's messages) and the model then
  works in NumPy;
* **array-API arrays of another library** (CuPy, torch, ``array_api_strict`` on any device) — they
  are checked here with array-API calls only and never converted, so the math runs where the data
  lives.

Either way the result of a check is a floating 2-D ``X`` (integers become float64) and, for ``fit``,
``y`` of the same library.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from array_api_compat import device, is_array_api_obj, is_numpy_array
from sklearn.exceptions import DataConversionWarning
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data

from gdcourse.backend import array_namespace, to_numpy
from gdcourse.divergence import nonfinite_summary

Array = Any


def is_host(x: Any) -> bool:
    """``True`` for data scikit-learn should validate (NumPy or not an array-API array at all)."""
    return is_numpy_array(x) or not is_array_api_obj(x)


def _n_samples(a: Any) -> int | None:
    try:
        return int(a.shape[0]) if hasattr(a, "shape") and len(a.shape) else len(a)
    except TypeError:
        return None


def check_fit_data(est: Any, X: Any, y: Any, *, classifier: bool) -> tuple[Array, Array]:
    """Validate ``X, y`` for ``fit``; sets ``est.n_features_in_``.  Returns arrays of one library.

    Parameters
    ----------
    est : estimator
        The estimator being fitted (its class name goes into the messages; ``n_features_in_`` is set on it).
    X : array-like or array-API array
        Training inputs, 2-D.  NaN, inf, complex numbers and 0 samples or features are refused
        (``ValueError``); integers become float64.
    y : array-like or array-API array
        Targets, one per row of ``X`` (a column vector is flattened with a ``DataConversionWarning``).
        ``None`` and a library other than ``X``'s are refused (``ValueError``, ``TypeError``).
    classifier : bool
        Check ``y`` as class labels (integers, or strings on the host); else cast it to ``X``'s dtype.

    Returns
    -------
    X, y : arrays
        Validated, from one library (NumPy for host data).
    """
    name = type(est).__name__
    if y is None:
        raise ValueError(f"{name} requires y to be passed, but the target y is None")
    nx, ny = _n_samples(X), _n_samples(y)
    if nx is not None and ny is not None and nx != ny:
        raise ValueError(f"X has {nx} samples but y has {ny}; X and y must have the same number of samples")
    if is_host(X) and is_host(y):
        X, y = validate_data(est, X, y, dtype=[np.float64, np.float32], y_numeric=not classifier)
        if classifier:
            check_classification_targets(y)
        else:
            y = y.astype(X.dtype, copy=False)
        return X, y
    if is_host(X) or is_host(y):
        raise TypeError(
            f"X ({type(X).__name__}) and y ({type(y).__name__}) must come from the same array library; "
            "move both to the same backend"
        )
    X = _check_X_array(X, name)
    y = _check_y_array(y, X, classifier)
    est.n_features_in_ = X.shape[1]
    if hasattr(est, "feature_names_in_"):
        del est.feature_names_in_
    return X, y


def check_predict_data(est: Any, X: Any) -> Array:
    """Validate ``X`` for ``predict``-like methods against the fitted number of features.

    Parameters
    ----------
    est : estimator
        A fitted estimator (its ``n_features_in_``).
    X : array-like or array-API array
        The inputs to predict for; another number of columns than at ``fit`` raises ``ValueError``.

    Returns
    -------
    array
        Floating 2-D ``X``, in its own library.
    """
    if is_host(X):
        return validate_data(est, X, dtype=[np.float64, np.float32], reset=False)
    name = type(est).__name__
    X = _check_X_array(X, name)
    if X.shape[1] != est.n_features_in_:
        raise ValueError(
            f"X has {X.shape[1]} features, but {name} is expecting {est.n_features_in_} features as input."
        )
    return X


def _check_X_array(X: Array, name: str) -> Array:
    xp = array_namespace(X)
    if X.ndim != 2:
        raise ValueError(
            f"Expected 2D array X of shape (n_samples, n_features), got shape {tuple(X.shape)}; "
            "reshape a single feature with X[:, None] or a single sample with X[None, :]"
        )
    if X.shape[0] < 1:
        raise ValueError(f"X has 0 samples (shape {tuple(X.shape)}); {name} needs at least 1")
    if X.shape[1] < 1:
        raise ValueError(f"X has 0 features (shape {tuple(X.shape)}); {name} needs at least 1")
    if xp.isdtype(X.dtype, "complex floating"):
        raise ValueError("Complex data not supported: X has a complex dtype")
    if not xp.isdtype(X.dtype, "real floating"):
        X = xp.astype(X, xp.float64)
    if not bool(xp.all(xp.isfinite(X))):  # scikit-learn's words first, then where
        raise ValueError(f"Input X contains NaN or infinity: {nonfinite_summary(X)}; clean or impute the data")
    return X


def _check_y_array(y: Array, X: Array, classifier: bool) -> Array:
    try:
        xp = array_namespace(X, y)
    except TypeError:
        raise TypeError(
            f"X ({type(X).__name__}) and y ({type(y).__name__}) come from different array libraries"
        ) from None
    if device(X) != device(y):
        raise ValueError(f"X is on device {device(X)} but y is on device {device(y)}; put them on the same device")
    if y.ndim == 2 and y.shape[1] == 1:
        warnings.warn(
            "A column-vector y was passed when a 1d array was expected; it is flattened",
            DataConversionWarning,
            stacklevel=3,
        )
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D (n_samples,), got shape {tuple(y.shape)}")
    if xp.isdtype(y.dtype, "complex floating"):
        raise ValueError("Complex data not supported: y has a complex dtype")
    if xp.isdtype(y.dtype, "real floating"):
        if not bool(xp.all(xp.isfinite(y))):
            raise ValueError(f"Input y contains NaN or infinity: {nonfinite_summary(y)}; clean or impute the data")
        if classifier and not bool(xp.all(y == xp.round(y))):
            raise ValueError("Unknown label type: continuous. Class labels must be integers (or strings on the host)")
    if classifier:
        return y
    return xp.astype(y, X.dtype)


def encode_labels(y: Array) -> tuple[np.ndarray, Array]:
    """Sorted class labels (host array, for ``classes_``) and ``y`` as int64 indices into them (``y``'s library)."""
    if is_numpy_array(y):
        classes, idx = np.unique(y, return_inverse=True)
        return classes, idx.astype(np.int64).reshape(-1)
    xp = array_namespace(y)
    classes = xp.unique_values(y)
    idx = xp.zeros(y.shape, dtype=xp.int64, device=device(y))
    for k in range(classes.shape[0]):
        idx = xp.where(y == classes[k], k, idx)
    return to_numpy(classes), idx


def labels_like(classes: np.ndarray, idx: Array) -> Array:
    """``classes[idx]`` in the library and device of ``idx`` (host NumPy for string labels).

    Parameters
    ----------
    classes : numpy.ndarray
        The sorted class labels (``classes_``).
    idx : array
        Class indices (int64), in any array-API library.
    """
    if is_numpy_array(idx):
        return classes[idx]
    xp = array_namespace(idx)
    return xp.take(xp.asarray(classes, device=device(idx)), idx, axis=0)
