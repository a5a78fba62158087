r"""Data for the course: standardisation, train/validation split, synthetic generators, bundled datasets.

Sections of this module:

* **standardisation** — :class:`Standardizer` (``fit`` / ``transform`` / ``inverse_transform``) and
  :func:`standardize`: statistics from the training set only, applied to every other set;
* **splitting** — :func:`train_val_split`;
* **synthetic datasets** — :func:`make_linear` (features on very different scales for the
  conditioning lesson), :func:`make_blobs`, :func:`make_two_moons`, :func:`make_polynomial` and
  :func:`polynomial_features` (overfitting demos);
* **bundled datasets** — :func:`load_digits`, :func:`load_breast_cancer`, :func:`load_diabetes`,
  :func:`load_iris`: scikit-learn's datasets that ship inside the scikit-learn package (nothing is
  downloaded);
* **minibatches** — :func:`minibatch_indices`, :func:`iterate_minibatches` and :class:`Minibatches`:
  batch, stochastic (online) and minibatch iteration, a fresh seeded permutation per epoch.

Random numbers are drawn on the host with a seeded NumPy generator (:func:`gdcourse.backend.rng`)
and the result is moved to the active backend with :func:`gdcourse.backend.asarray`, so every
backend sees the same data.  Functions that take arrays (:class:`Standardizer`,
:func:`train_val_split`, :func:`polynomial_features`) follow them: results stay in the input's
library, device and floating dtype.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from numbers import Real
from typing import Any

import numpy as np
from array_api_compat import device

from gdcourse import _checks
from gdcourse.backend import array_namespace, asarray, rng

__all__ = [
    "Minibatches",
    "Standardizer",
    "iterate_minibatches",
    "load_breast_cancer",
    "load_diabetes",
    "load_digits",
    "load_iris",
    "make_blobs",
    "make_linear",
    "make_polynomial",
    "make_two_moons",
    "cut_into_batches",
    "minibatch_indices",
    "polynomial_features",
    "standardize",
    "train_val_split",
]

Array = Any
Seed = int | np.random.Generator | None


# ----------------------------------------------------------------------------------------------
# Checks
# ----------------------------------------------------------------------------------------------


def _namespace(x: Any, name: str) -> Any:
    try:
        return array_namespace(x)
    except TypeError:
        raise TypeError(
            f"{name} must be an array (NumPy, CuPy, ...; use gdcourse.asarray for lists), got {type(x).__name__}"
        ) from None


def _float_matrix(x: Any, name: str) -> tuple[Any, Array]:
    """``x`` checked 2-D, finite and real; integer data is converted to float64."""
    xp = _namespace(x, name)
    if x.ndim != 2:
        hint = " (a single feature x: use x[:, None])" if x.ndim == 1 else ""
        raise ValueError(f"{name} must be 2-D (n_samples, n_features), got shape {tuple(x.shape)}{hint}")
    if xp.isdtype(x.dtype, "complex floating") or x.dtype == xp.bool:
        raise TypeError(f"{name} has dtype {x.dtype}; expected real numbers")
    if not xp.isdtype(x.dtype, "real floating"):
        x = xp.astype(x, xp.float64)
    if not bool(xp.all(xp.isfinite(x))):
        raise ValueError(f"{name} contains NaN or infinity")
    return xp, x


def _like(host: np.ndarray, x: Array) -> Array:
    """Host data moved to the library and device of ``x``."""
    return array_namespace(x).asarray(host, device=device(x))


# ----------------------------------------------------------------------------------------------
# Standardisation
# ----------------------------------------------------------------------------------------------


class Standardizer:
    r"""Shift and scale each feature to mean 0 and standard deviation 1, with statistics from the training set.

    .. math:: z_{ij} = \frac{x_{ij} - \mu_j}{s_j}, \qquad \mu_j = \frac1n \sum_i x_{ij},\quad
              \sigma_j = \sqrt{\frac1n \sum_i (x_{ij} - \mu_j)^2}

    with :math:`s_j = \sigma_j`, except for a **constant feature** (:math:`\sigma_j \le n\,\varepsilon\,|\mu_j|`,
    i.e. zero up to rounding, :math:`\varepsilon` the machine epsilon of the dtype): it keeps
    :math:`s_j = 1`, so it is centred to exactly 0 and never divided by zero (scikit-learn's
    ``StandardScaler`` rule).  Fit on the training set only, then transform the validation and test
    sets with the *same* :math:`\mu, s`: using their own statistics would leak information about them.

    Attributes
    ----------
    mean_ : array, shape (n_features,)
        :math:`\mu` (in the library and device of the data passed to :meth:`fit`).
    scale_ : array, shape (n_features,)
        :math:`s`.
    constant_ : array of bool, shape (n_features,)
        Which features were treated as constant.
    n_features_in_ : int
    """

    def fit(self, X: Array, y: Any = None) -> Standardizer:
        r"""Compute :math:`\mu` and :math:`s` from ``X`` of shape ``(n_samples, n_features)``; return ``self``.

        ``y`` is ignored: it is accepted so that a scikit-learn ``Pipeline`` can pass the targets along.

        Parameters
        ----------
        X : array, shape (n_samples, n_features)
            The training inputs, finite and real, at least one sample (any backend; :math:`\mu` and :math:`s`
            stay there).  Integer data is converted to float64; a 1-D array, NaN or inf raises :class:`ValueError`.
        y : any, optional
            Ignored.
        """
        xp, X = _float_matrix(X, "X")
        n = X.shape[0]
        if n < 1:
            raise ValueError("X has no samples; standardisation needs at least one")
        mean = xp.mean(X, axis=0)
        std = xp.std(X, axis=0)
        eps = xp.finfo(X.dtype).eps
        self.constant_ = std <= (n * eps) * xp.abs(mean)
        self.mean_ = mean
        self.scale_ = xp.where(self.constant_, xp.ones_like(std), std)
        self.n_features_in_ = X.shape[1]
        return self

    def _check(self, X: Array, name: str) -> tuple[Any, Array]:
        if not hasattr(self, "mean_"):
            raise RuntimeError("this Standardizer is not fitted yet; call fit(X_train) first")
        xp, X = _float_matrix(X, name)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"{name} has {X.shape[1]} features, but the Standardizer was fitted on {self.n_features_in_}"
            )
        return xp, X

    def transform(self, X: Array) -> Array:
        r"""Standardise ``X`` with the fitted statistics: :math:`(X - \mu) / s`."""
        _, X = self._check(X, "X")
        return (X - self.mean_) / self.scale_

    def fit_transform(self, X: Array, y: Any = None) -> Array:
        """:meth:`fit` then :meth:`transform` on the same ``X`` (``y`` is ignored, as in :meth:`fit`).

        Parameters
        ----------
        X : array, shape (n_samples, n_features)
            The training set: its statistics are learnt and it is returned standardised.
        y : any, optional
            Not used; there for scikit-learn's ``Pipeline``.
        """
        return self.fit(X).transform(X)

    def inverse_transform(self, Z: Array) -> Array:
        r"""Undo :meth:`transform`: :math:`Z s + \mu` (constant features come back as their value)."""
        _, Z = self._check(Z, "Z")
        return Z * self.scale_ + self.mean_


def standardize(X_train: Array, *X_others: Array) -> Array | tuple[Array, ...]:
    r"""Standardise ``X_train`` and every array in ``X_others`` with statistics of ``X_train`` only.

    Parameters
    ----------
    X_train : array, shape (n_samples, n_features)
        The set whose :math:`\mu` and :math:`s` are used for all (see :class:`Standardizer`).
    *X_others : array, shape (m, n_features)
        The validation and test sets, as many as needed, each with ``X_train``'s number of features (else a
        :class:`ValueError`).

    Returns
    -------
    array or tuple of arrays
        ``Z_train`` alone when no other array is given, else ``(Z_train, *Z_others)``.

    Examples
    --------
    >>> import numpy as np
    >>> Z_train, Z_val = standardize(np.array([[1.0], [3.0]]), np.array([[5.0]]))
    >>> Z_train.ravel().tolist(), Z_val.ravel().tolist()
    ([-1.0, 1.0], [3.0])
    """
    scaler = Standardizer().fit(X_train)
    out = [scaler.transform(X_train)] + [scaler.transform(X) for X in X_others]
    return out[0] if not X_others else tuple(out)


# ----------------------------------------------------------------------------------------------
# Splitting
# ----------------------------------------------------------------------------------------------


def train_val_split(X: Array, y: Array, val_fraction: float = 0.2, seed: Seed = 0) -> tuple[Array, Array, Array, Array]:
    """Shuffle the samples with a seeded host generator and hold out a validation set.

    Parameters
    ----------
    X : array, shape (n_samples, ...)
        Inputs.
    y : array, shape (n_samples, ...)
        Targets, same number of samples; may be of another library than ``X`` (each stays in its own).
    val_fraction : float, default 0.2
        Fraction of samples in the validation set, in (0, 1); the count is
        ``ceil(val_fraction * n_samples)`` (scikit-learn's rule), kept between 1 and ``n_samples - 1``.
    seed : int or numpy Generator, default 0
        Seed of the permutation (the same on every backend).

    Returns
    -------
    X_train, X_val, y_train, y_val : arrays
        In ``sklearn.model_selection.train_test_split``'s order.
    """
    xp_x = _namespace(X, "X")
    xp_y = _namespace(y, "y")
    if X.ndim == 0 or y.ndim == 0:
        raise ValueError("X and y must have a first axis of samples")
    n = X.shape[0]
    if y.shape[0] != n:
        raise ValueError(f"X has {n} samples but y has {y.shape[0]}; they must have the same length")
    if isinstance(val_fraction, bool) or not isinstance(val_fraction, Real) or not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be a number in (0, 1), got {val_fraction!r}")
    if n < 2:
        raise ValueError(f"X has {n} sample(s); a train/validation split needs at least 2")
    n_val = min(max(math.ceil(val_fraction * n), 1), n - 1)
    perm = rng(seed).permutation(n)
    val, train = perm[:n_val], perm[n_val:]

    def take(a: Array, xp: Any, idx: np.ndarray) -> Array:
        return xp.take(a, _like(idx, a), axis=0)

    return take(X, xp_x, train), take(X, xp_x, val), take(y, xp_y, train), take(y, xp_y, val)


# ----------------------------------------------------------------------------------------------
# Synthetic datasets
# ----------------------------------------------------------------------------------------------


def _per_feature(name: str, value: Any, n_features: int, default: float) -> np.ndarray:
    if value is None:
        return np.full(n_features, default)
    arr = np.asarray(value, dtype=np.float64).reshape(-1)
    if arr.size == 1:
        arr = np.full(n_features, float(arr[0]))
    if arr.shape != (n_features,) or not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be a number or {n_features} finite numbers (one per feature), got {value!r}")
    return arr


def make_linear(
    n_samples: int = 100,
    n_features: int = 1,
    *,
    noise: float = 0.5,
    scales: float | Sequence[float] | None = None,
    offsets: float | Sequence[float] | None = None,
    coef: Sequence[float] | None = None,
    intercept: float = 1.0,
    seed: Seed = 0,
    dtype: str = "float64",
    return_coef: bool = False,
) -> tuple[Array, ...]:
    r"""A linear regression problem :math:`y = Xw + b + \text{noise}`.

    .. math:: x_{ij} = o_j + s_j\, u_{ij},\quad u_{ij} \sim \mathcal N(0, 1), \qquad
              y_i = \sum_j w_j x_{ij} + b + \sigma \varepsilon_i,\quad \varepsilon_i \sim \mathcal N(0, 1)

    Features on very different scales (``scales=[1, 100]``) or far from zero (``offsets``) make the
    MSE surface a long narrow valley: gradient descent crawls until the features are standardised.

    Parameters
    ----------
    n_samples, n_features : int
        Size of ``X``.
    noise : float, default 0.5
        Standard deviation :math:`\sigma` of the noise.
    scales : float or sequence, optional
        Spread :math:`s_j` of each feature (default 1).
    offsets : float or sequence, optional
        Centre :math:`o_j` of each feature (default 0).
    coef : sequence, optional
        True weights :math:`w`; by default :math:`w_j = \pm U(1, 2) / s_j`, so that every feature moves
        :math:`y` by a similar amount whatever its scale.
    intercept : float, default 1.0
        True intercept :math:`b`.
    seed : int or numpy Generator, default 0
        Seed of the host generator.
    dtype : str, default "float64"
        Dtype of ``X`` and ``y``.
    return_coef : bool, default False
        Also return the true :math:`w` (host NumPy array).

    Returns
    -------
    X : array, shape (n_samples, n_features)
    y : array, shape (n_samples,)
    coef : ndarray, shape (n_features,)
        Only with ``return_coef=True``.
    """
    n = _checks.positive_int("n_samples", n_samples)
    p = _checks.positive_int("n_features", n_features)
    sigma = _checks.nonneg("noise", noise)
    s = _per_feature("scales", scales, p, 1.0)
    if np.any(s <= 0):
        raise ValueError(f"scales must be positive, got {scales!r}")
    o = _per_feature("offsets", offsets, p, 0.0)
    g = rng(seed)
    if coef is None:
        w = g.choice([-1.0, 1.0], size=p) * g.uniform(1.0, 2.0, size=p) / s
    else:
        w = _per_feature("coef", coef, p, 0.0)
    X = o + s * g.standard_normal((n, p))
    y = X @ w + float(intercept) + sigma * g.standard_normal(n)
    out = (asarray(_cast("X", X, dtype), dtype=dtype), asarray(_cast("y", y, dtype), dtype=dtype))
    return (*out, w) if return_coef else out


def make_blobs(
    n_samples: int = 200,
    centers: int | Sequence[Sequence[float]] = 2,
    n_features: int = 2,
    *,
    cluster_std: float = 1.0,
    center_box: tuple[float, float] = (-5.0, 5.0),
    seed: Seed = 0,
    dtype: str = "float64",
) -> tuple[Array, Array]:
    """Gaussian blobs for classification: class ``k`` is ``N(center_k, cluster_std² I)``.

    Parameters
    ----------
    n_samples : int
        Total number of points, split as evenly as possible between the classes (rows shuffled).
    centers : int or array of shape (n_classes, n_features)
        Number of classes (centres drawn uniformly in ``center_box``) or the centres themselves.
    n_features : int
        Dimension (ignored when ``centers`` is an array).
    cluster_std : float
        Standard deviation of each blob.
    center_box : (float, float)
        Range of the random centres.
    seed, dtype
        As in :func:`make_linear`.

    Returns
    -------
    X : array, shape (n_samples, n_features)
    y : array of int64, shape (n_samples,)
        Class indices ``0..n_classes-1``.
    """
    n = _checks.positive_int("n_samples", n_samples)
    std = _checks.nonneg("cluster_std", cluster_std)
    g = rng(seed)
    if isinstance(centers, int | np.integer) and not isinstance(centers, bool):
        k = _checks.positive_int("centers", centers)
        p = _checks.positive_int("n_features", n_features)
        c = g.uniform(center_box[0], center_box[1], size=(k, p))
    else:
        c = np.asarray(centers, dtype=np.float64)
        if c.ndim != 2 or not np.all(np.isfinite(c)):
            raise ValueError(
                f"centers must be a number of classes or an array (n_classes, n_features), got {centers!r}"
            )
        k, p = c.shape
    if n < k:
        raise ValueError(f"n_samples={n} is less than the number of classes {k}")
    y = np.repeat(np.arange(k), [n // k + (1 if i < n % k else 0) for i in range(k)])
    X = c[y] + std * g.standard_normal((n, p))
    perm = g.permutation(n)
    return asarray(_cast("X", X[perm], dtype), dtype=dtype), asarray(y[perm].astype(np.int64))


def make_two_moons(
    n_samples: int = 200, *, noise: float = 0.1, seed: Seed = 0, dtype: str = "float64"
) -> tuple[Array, Array]:
    r"""Two interleaving half circles: a classic problem a *linear* classifier cannot solve exactly.

    Class 0: :math:`(\cos t, \sin t)`; class 1: :math:`(1 - \cos t, \tfrac12 - \sin t)`, :math:`t \in [0, \pi]`,
    plus Gaussian noise of standard deviation ``noise``.  Returns ``X`` (n, 2) and int64 labels ``y``.

    Parameters
    ----------
    n_samples : int
        :math:`n \ge 2`; the first moon gets :math:`\lceil n/2 \rceil` points, the second the rest.
    noise : float
        The noise's standard deviation, :math:`\ge 0` (0 puts the points exactly on the two arcs).
    seed : int, numpy Generator or None
        Seed of the noise and of the shuffle of the rows.
    dtype : str
        Floating dtype of ``X``.
    """
    n = _checks.int_at_least("n_samples", n_samples, 2)
    sigma = _checks.nonneg("noise", noise)
    g = rng(seed)
    n0 = (n + 1) // 2
    t0, t1 = np.linspace(0.0, np.pi, n0), np.linspace(0.0, np.pi, n - n0)
    X = np.concatenate([np.c_[np.cos(t0), np.sin(t0)], np.c_[1.0 - np.cos(t1), 0.5 - np.sin(t1)]])
    y = np.r_[np.zeros(n0, dtype=np.int64), np.ones(n - n0, dtype=np.int64)]
    X = X + sigma * g.standard_normal(X.shape)
    perm = g.permutation(n)
    return asarray(_cast("X", X[perm], dtype), dtype=dtype), asarray(y[perm])


def make_polynomial(
    n_samples: int = 20,
    *,
    coef: Sequence[float] = (0.5, -1.0, -1.0, 2.0),
    noise: float = 0.2,
    x_range: tuple[float, float] = (-1.0, 1.0),
    seed: Seed = 0,
    dtype: str = "float64",
) -> tuple[Array, Array]:
    r"""Noisy samples of a polynomial, for overfitting demos.

    .. math:: y_i = \sum_{k=0}^{d} c_k x_i^k + \sigma\varepsilon_i, \qquad x_i \sim U(\text{x\_range})

    Fitting :func:`polynomial_features` of a degree much larger than :math:`d` to few points overfits.

    Parameters
    ----------
    n_samples : int
        The number of points :math:`x_i`, at least 1.
    coef : sequence of float
        :math:`c_0, c_1, \dots, c_d`, the constant term first; the default is :math:`0.5 - x - x^2 + 2x^3`.
    noise : float
        :math:`\sigma \ge 0`, the standard deviation of the noise on :math:`y`.
    x_range : (float, float)
        The interval the :math:`x_i` are drawn from, low < high.
    seed : int, numpy Generator or None
        Seed of the draws of :math:`x` and of the noise.
    dtype : str
        The dtype of ``x`` and ``y``.

    Returns
    -------
    x : array, shape (n_samples,)
        Unsorted inputs (sort them for line plots).
    y : array, shape (n_samples,)
    """
    n = _checks.positive_int("n_samples", n_samples)
    sigma = _checks.nonneg("noise", noise)
    c = np.asarray(coef, dtype=np.float64).reshape(-1)
    if c.size == 0 or not np.all(np.isfinite(c)):
        raise ValueError(f"coef must be a non-empty sequence of finite numbers c_0, c_1, ..., got {coef!r}")
    lo, hi = float(x_range[0]), float(x_range[1])
    if not lo < hi:
        raise ValueError(f"x_range must be (low, high) with low < high, got {x_range!r}")
    g = rng(seed)
    x = g.uniform(lo, hi, size=n)
    y = np.polynomial.polynomial.polyval(x, c) + sigma * g.standard_normal(n)
    return asarray(_cast("x", x, dtype), dtype=dtype), asarray(_cast("y", y, dtype), dtype=dtype)


def polynomial_features(x: Array, degree: int, *, include_bias: bool = False) -> Array:
    r"""Columns :math:`[x, x^2, \dots, x^d]` (with a first column of ones if ``include_bias``).

    Parameters
    ----------
    x : array, shape (n,) or (n, 1)
        One input feature (any backend; the result stays there).
    degree : int
        :math:`d \ge 1`.
    include_bias : bool, default False
        Start with the column :math:`x^0 = 1`.
    """
    xp = _namespace(x, "x")
    d = _checks.positive_int("degree", degree)
    if x.ndim == 2 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 1:
        raise ValueError(f"x must be one feature, shape (n,) or (n, 1), got shape {tuple(x.shape)}")
    if not xp.isdtype(x.dtype, "real floating"):
        x = xp.astype(x, xp.float64)
    powers = [x**k for k in range(0 if include_bias else 1, d + 1)]
    return xp.stack(powers, axis=1)


# ----------------------------------------------------------------------------------------------
# Bundled datasets (they ship inside the scikit-learn package: nothing is downloaded)
# ----------------------------------------------------------------------------------------------


def _cast(what: str, host: np.ndarray, dtype: Any) -> np.ndarray:
    """``host`` cast to the floating ``dtype``, refused when the values do not fit (float16 overflows past 65504)."""
    resolved = _checks.float_dtype("dtype", dtype)
    with np.errstate(over="ignore"):  # an overflow is reported below, with the argument's name
        out = host.astype(resolved)
    if host.size and not np.array_equal(np.isfinite(out), np.isfinite(host)):
        big = float(np.nanmax(np.abs(host[np.isfinite(host)])))
        raise ValueError(
            f"dtype={dtype!r} cannot hold the values of {what} (largest magnitude {big:.6g}, the largest finite "
            f"{resolved} is {float(np.finfo(resolved).max):.6g}); use dtype='float32' or 'float64'"
        )
    return out


def _bundled(loader: Any, dtype: str, return_info: bool, **kwargs: Any) -> tuple[Any, ...]:
    _checks.float_dtype("dtype", dtype)
    bunch = loader(**kwargs)
    X = asarray(_cast("X", np.asarray(bunch.data), dtype), dtype=dtype)
    target = np.asarray(bunch.target)
    y = asarray(_cast("y", target, dtype)) if target.dtype.kind == "f" else asarray(target.astype(np.int64))
    if not return_info:
        return X, y
    info = {
        "feature_names": [str(f) for f in getattr(bunch, "feature_names", [])] or None,
        "target_names": None if getattr(bunch, "target_names", None) is None else [str(t) for t in bunch.target_names],
        "description": bunch.DESCR,
    }
    return X, y, info


def load_digits(*, n_class: int = 10, dtype: str = "float64", return_info: bool = False) -> tuple[Any, ...]:
    """Handwritten digits, 8x8 images (1797 samples, 64 features with values 0..16, classes 0..9).

    Parameters
    ----------
    n_class : int, default 10
        Keep the digits ``0..n_class-1``.
    dtype : str
        Dtype of ``X``; ``y`` is int64.
    return_info : bool
        Also return a dict with ``feature_names``, ``target_names`` and ``description``.

    Returns
    -------
    X, y (, info)
        On the active backend.  Source: ``sklearn.datasets.load_digits`` (UCI optical digits, BSD-3-Clause
        with scikit-learn).
    """
    from sklearn.datasets import load_digits as loader

    return _bundled(loader, dtype, return_info, n_class=_checks.int_at_least("n_class", n_class, 2))


def load_breast_cancer(*, dtype: str = "float64", return_info: bool = False) -> tuple[Any, ...]:
    """Wisconsin diagnostic breast cancer: 569 samples, 30 features on very different scales, 2 classes.

    ``y`` is 0 for malignant, 1 for benign.

    Source: ``sklearn.datasets.load_breast_cancer`` (UCI).  Returns ``X, y (, info)`` as :func:`load_digits`.

    Parameters
    ----------
    dtype : str
        Floating dtype of the 30 measurements ``X`` (``y`` is int64).
    return_info : bool
        Also return the feature names (``"mean radius"``, ...), the class names and the description.
    """
    from sklearn.datasets import load_breast_cancer as loader

    return _bundled(loader, dtype, return_info)


def load_diabetes(*, scaled: bool = True, dtype: str = "float64", return_info: bool = False) -> tuple[Any, ...]:
    """Diabetes progression regression: 442 samples, 10 features, a real target (the lasso path's classic).

    ``scaled=True`` gives scikit-learn's mean-centred features scaled to unit norm; ``False`` the raw values.
    Source: ``sklearn.datasets.load_diabetes`` (Efron et al., 2004).  Returns ``X, y (, info)``.

    Parameters
    ----------
    scaled : bool
        Centred features of unit norm (the default), or the raw age, sex, BMI, blood pressure and six blood serum
        measurements.
    dtype : str
        Floating dtype of ``X`` and of the target ``y`` (a disease progression score, 25 to 346).
    return_info : bool
        Also return a dict with ``feature_names``, ``target_names`` (``None``) and ``description``.
    """
    from sklearn.datasets import load_diabetes as loader

    return _bundled(loader, dtype, return_info, scaled=bool(scaled))


def load_iris(*, dtype: str = "float64", return_info: bool = False) -> tuple[Any, ...]:
    """Fisher's iris: 150 samples, 4 features, 3 classes (a small softmax-regression problem).

    Source: ``sklearn.datasets.load_iris``.  Returns ``X, y (, info)`` as :func:`load_digits`.

    Parameters
    ----------
    dtype : str
        Floating dtype of the four measurements in cm; the labels 0, 1, 2 are int64.
    return_info : bool
        Add the info dict: the feature names, the species (setosa, versicolor, virginica), the description.
    """
    from sklearn.datasets import load_iris as loader

    return _bundled(loader, dtype, return_info)


# ----------------------------------------------------------------------------------------------
# Minibatches
# ----------------------------------------------------------------------------------------------


def _batch_size_of(batch_size: Any, n: int, drop_last: bool) -> int:
    """``batch_size`` checked; ``None`` means the full batch ``n``."""
    if batch_size is None:
        return n
    if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer) or batch_size < 1:
        raise ValueError(
            f"batch_size must be a positive integer (1 = stochastic, n_samples or None = full batch), "
            f"got {batch_size!r}"
        )
    if drop_last and batch_size > n:
        raise ValueError(
            f"batch_size={batch_size} is larger than the {n} samples: with drop_last=True no batch is left; "
            f"use batch_size <= {n}"
        )
    return int(batch_size)


def minibatch_indices(
    n_samples: int,
    batch_size: int | None = None,
    *,
    shuffle: bool = True,
    drop_last: bool = False,
    seed: Seed = None,
) -> list[np.ndarray]:
    r"""The host index arrays of one epoch's minibatches.

    With ``shuffle`` the epoch visits the samples in the order of a permutation
    :math:`\pi` = ``rng(seed).permutation(n_samples)`` and cuts it into consecutive pieces of
    :math:`B` indices:

    .. math:: \mathcal B_k = \{\pi_{kB}, \pi_{kB+1}, \dots, \pi_{\min((k+1)B,\, n) - 1}\},
              \qquad k = 0, 1, \dots, \lceil n/B \rceil - 1,

    so every sample appears in exactly one batch per epoch; the last batch holds the
    :math:`n - B\lfloor n/B\rfloor` left-over samples when :math:`B` does not divide :math:`n`, or is
    dropped with ``drop_last=True``.  A **full batch** (:math:`B \ge n`) is the whole data set in its
    stored order and draws nothing from the generator: its gradient does not depend on the order, and
    keeping the order makes it equal full-batch gradient descent to the last bit.

    Parameters
    ----------
    n_samples : int
        :math:`n \ge 1`.
    batch_size : int or None
        :math:`B`: ``1`` is stochastic (online) descent, ``None`` or :math:`B \ge n` the full batch.
    shuffle : bool, default True
        Visit the samples in a random order (``False``: in the stored order ``0, 1, …, n-1``).
    drop_last : bool, default False
        Leave out the last batch when it is smaller than :math:`B`.
    seed : int, numpy Generator or None
        ``rng(seed)`` draws the permutation: an integer gives the same order on every call, a
        :class:`numpy.random.Generator` advances (so successive calls give fresh orders), ``None`` draws
        fresh entropy.

    Returns
    -------
    list of numpy.ndarray of int64
        One array of indices per minibatch, in the order they are visited.

    Examples
    --------
    >>> [b.tolist() for b in minibatch_indices(5, 2, shuffle=False)]
    [[0, 1], [2, 3], [4]]
    >>> [b.tolist() for b in minibatch_indices(5, 2, shuffle=False, drop_last=True)]
    [[0, 1], [2, 3]]
    """
    n = _checks.positive_int("n_samples", n_samples)
    size = _batch_size_of(batch_size, n, drop_last)
    if size >= n:
        return [np.arange(n, dtype=np.int64)]
    order = rng(seed).permutation(n) if shuffle else np.arange(n, dtype=np.int64)
    return cut_into_batches(order, size, drop_last=drop_last)


def cut_into_batches(order: Any, batch_size: int, *, drop_last: bool = False) -> list[Any]:
    r"""Cut an epoch's visiting order :math:`\pi` into consecutive minibatches of :math:`B` indices.

    :math:`\mathcal B_k = (\pi_{kB}, \dots, \pi_{\min((k+1)B, n) - 1})`: the last batch holds the left-over
    indices, or is left out with ``drop_last``.  The one cutting rule of every loop of the course
    (:func:`minibatch_indices`, :class:`gdcourse.train.Trainer`, the estimators of :mod:`gdcourse.models`,
    whose order comes from scikit-learn's ``random_state``); ``order`` may live on any array library.

    Parameters
    ----------
    order : array of int, shape (n,)
        :math:`\pi`, the indices in the order the epoch visits them.
    batch_size : int
        :math:`B \ge 1` (already checked by the caller).
    drop_last : bool
        Leave out the last batch when it holds fewer than :math:`B` indices.

    Returns
    -------
    list of arrays
        Slices of ``order`` (views, on its library and device).
    """
    n = int(order.shape[0])
    stop = n - n % batch_size if drop_last else n
    return [order[start : min(start + batch_size, n)] for start in range(0, stop, batch_size)]


def _check_pair(X: Any, y: Any) -> int:
    _namespace(X, "X")
    if X.ndim == 0:
        raise ValueError("X must have a first axis of samples, got a 0-d array")
    n = int(X.shape[0])
    if n < 1:
        raise ValueError("X has no samples; minibatches need at least one")
    if y is not None:
        _namespace(y, "y")
        if y.ndim == 0 or y.shape[0] != n:
            got = "a 0-d array" if y.ndim == 0 else f"{y.shape[0]}"
            raise ValueError(f"X has {n} samples but y has {got}; they must have the same length")
    return n


def _batches(X: Array, y: Array | None, index_arrays: list[np.ndarray]) -> Iterator[tuple[Array, Array | None]]:
    """Yield the rows of each index array, taken with ``xp.take`` on the data's own library and device.

    The epoch's indices are moved to each array's device once and sliced per batch (one transfer per
    epoch, not per batch).  The full batch in stored order is yielded as ``X, y`` themselves.
    """
    n = X.shape[0]
    if len(index_arrays) == 1 and index_arrays[0].size == n and np.array_equal(index_arrays[0], np.arange(n)):
        yield X, y
        return
    order = np.concatenate(index_arrays)
    xp_x = array_namespace(X)
    idx_x = xp_x.asarray(order, device=device(X))
    if y is not None:
        xp_y = array_namespace(y)
        idx_y = idx_x if device(y) == device(X) and xp_y is xp_x else xp_y.asarray(order, device=device(y))
    start = 0
    for idx in index_arrays:
        stop = start + idx.size
        Xb = xp_x.take(X, idx_x[start:stop], axis=0)
        yb = None if y is None else xp_y.take(y, idx_y[start:stop], axis=0)
        start = stop
        yield Xb, yb


def iterate_minibatches(
    X: Array,
    y: Array | None = None,
    batch_size: int | None = None,
    *,
    shuffle: bool = True,
    drop_last: bool = False,
    seed: Seed = None,
) -> Iterator[tuple[Array, Array | None]]:
    r"""One epoch of minibatches ``(X_batch, y_batch)``: batch, stochastic or minibatch iteration.

    The indices of each batch are drawn on the host (:func:`minibatch_indices`: a permutation of
    the samples cut into pieces of :math:`B`) and the rows are taken on the data's own library and
    device, ``xp.take(X, xp.asarray(idx, device=device(X)), axis=0)``, so every backend sees the same
    batches.  An update on the batch :math:`\mathcal B` uses the gradient of

    .. math:: J_{\mathcal B}(\theta) = \frac{1}{|\mathcal B|} \sum_{i \in \mathcal B} f_i(\theta),

    an unbiased estimate of the full cost's gradient :math:`\nabla J`, :math:`J = \frac1n\sum_i f_i`.

    Parameters
    ----------
    X : array, shape (n_samples, ...)
        Inputs (any backend).
    y : array, shape (n_samples, ...), optional
        Targets, same number of samples (may be of another library); ``y_batch`` is ``None`` without it.
    batch_size : int or None
        :math:`B`: ``1`` stochastic (online), ``None`` or ``n_samples`` the full batch (yielded as
        ``X, y`` themselves, in stored order).
    shuffle : bool, default True
        Visit the samples in a random order.
    drop_last : bool, default False
        Leave out a last batch smaller than :math:`B`.
    seed : int, numpy Generator or None
        Draws the order.  For several epochs pass one :class:`numpy.random.Generator` to every call
        (each epoch then gets a fresh permutation) or use :class:`Minibatches`; the same integer seed
        on every call repeats the same order every epoch.

    Yields
    ------
    X_batch, y_batch : arrays
        The rows of the batch (``y_batch`` is ``None`` when ``y`` is).
    """
    n = _check_pair(X, y)
    index_arrays = minibatch_indices(n, batch_size, shuffle=shuffle, drop_last=drop_last, seed=seed)
    return _batches(X, y, index_arrays)


class Minibatches:
    r"""Minibatches of ``(X, y)`` epoch after epoch, reproducibly: ``batches.epoch(e)`` is always epoch ``e``.

    Epoch :math:`e` visits the samples in the :math:`e`-th permutation drawn from one generator
    seeded with ``seed``, so ``Minibatches(X, y, B, seed=s).epoch(0)`` gives the same batches as
    ``iterate_minibatches(X, y, B, seed=s)``, and epochs ``0, 1, 2, …`` the same as successive calls of
    :func:`iterate_minibatches` sharing ``numpy.random.default_rng(s)``.  A fresh permutation each
    epoch; every sample exactly once per epoch (except the samples of a dropped last batch).

    Parameters
    ----------
    X, y, batch_size, shuffle, drop_last
        As in :func:`iterate_minibatches`.
    seed : int, numpy Generator or None, default 0
        An integer fixes every epoch's order; a Generator gives a child seed drawn from it (it
        advances, so two objects built from it differ); ``None`` draws fresh entropy once.

    Attributes
    ----------
    n_samples : int
        :math:`n`.
    batch_size : int
        :math:`B` (``n`` for the full batch).
    n_batches : int
        Batches (updates) per epoch: :math:`\lceil n/B\rceil`, or :math:`\lfloor n/B\rfloor` with
        ``drop_last``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.arange(10.0)[:, None]
    >>> batches = Minibatches(X, batch_size=4, seed=0)
    >>> batches.n_batches, [len(b) for b in batches.indices(0)]
    (3, [4, 4, 2])
    >>> [xb.ravel().tolist() for xb, _ in batches.epoch(1)] == [xb.ravel().tolist() for xb, _ in batches.epoch(1)]
    True
    """

    def __init__(
        self,
        X: Array,
        y: Array | None = None,
        batch_size: int | None = None,
        *,
        shuffle: bool = True,
        drop_last: bool = False,
        seed: Seed = 0,
    ) -> None:
        self.n_samples = _check_pair(X, y)
        self.batch_size = min(_batch_size_of(batch_size, self.n_samples, drop_last), self.n_samples)
        self.X, self.y = X, y
        self.shuffle, self.drop_last = bool(shuffle), bool(drop_last)
        if isinstance(seed, np.random.Generator):
            seed = int(seed.integers(0, 2**63 - 1))
        self._generator = rng(seed)
        self._states = [self._generator.bit_generator.state]  # the generator's state at the start of each epoch

    @property
    def n_batches(self) -> int:
        """Batches (updates) per epoch."""
        n, size = self.n_samples, self.batch_size
        return n // size if self.drop_last else -(-n // size)

    def __len__(self) -> int:
        return self.n_batches

    def _generator_at(self, epoch: int) -> np.random.Generator:
        while len(self._states) <= epoch:  # draw the missing epochs' permutations once, remember where each began
            self._generator.bit_generator.state = self._states[-1]
            if self.shuffle and self.batch_size < self.n_samples:
                self._generator.permutation(self.n_samples)
            self._states.append(self._generator.bit_generator.state)
        self._generator.bit_generator.state = self._states[epoch]
        return self._generator

    def indices(self, epoch: int = 0) -> list[np.ndarray]:
        """The host index arrays of epoch ``epoch`` (counted from 0), as :func:`minibatch_indices`."""
        e = _checks.nonneg_int("epoch", epoch)
        return minibatch_indices(
            self.n_samples,
            self.batch_size,
            shuffle=self.shuffle,
            drop_last=self.drop_last,
            seed=self._generator_at(e),
        )

    def epoch(self, epoch: int = 0) -> Iterator[tuple[Array, Array | None]]:
        """The minibatches ``(X_batch, y_batch)`` of epoch ``epoch``; the same every time it is asked for."""
        return _batches(self.X, self.y, self.indices(epoch))

    def __repr__(self) -> str:
        return (
            f"Minibatches(n_samples={self.n_samples}, batch_size={self.batch_size}, n_batches={self.n_batches}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last})"
        )
