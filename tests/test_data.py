"""Tests of gdcourse.data: standardisation against scikit-learn, the split, seeded generators, bundled loaders."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.preprocessing import StandardScaler

from gdcourse import backend as B
from gdcourse import data


def host(x):
    return np.asarray(B.to_numpy(x))


# ----------------------------------------------------------------------------- standardisation


def test_standardizer_matches_sklearn_and_uses_train_statistics_only(backend):
    rng = np.random.default_rng(0)
    X_train = rng.normal(loc=[0.0, 100.0, -5.0], scale=[1.0, 50.0, 0.01], size=(40, 3))
    X_val = rng.normal(loc=[3.0, 0.0, 0.0], size=(10, 3))
    scaler = data.Standardizer().fit(B.asarray(X_train))
    Z_train = scaler.transform(B.asarray(X_train))
    Z_val = scaler.transform(B.asarray(X_val))
    assert Z_val.device == B.asarray(X_val).device
    ref = StandardScaler().fit(X_train)
    np.testing.assert_allclose(host(Z_train), ref.transform(X_train), atol=1e-12)
    np.testing.assert_allclose(host(Z_val), ref.transform(X_val), atol=1e-12)
    np.testing.assert_allclose(host(Z_train).mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(host(Z_train).std(axis=0), 1.0, atol=1e-12)
    np.testing.assert_allclose(host(scaler.inverse_transform(Z_val)), X_val, atol=1e-12)


def test_constant_features_become_zero_without_division_by_zero(backend):
    X = np.c_[np.full(5, 7.3), np.zeros(5), np.arange(5.0)]
    scaler = data.Standardizer()
    Z = host(scaler.fit_transform(B.asarray(X)))
    assert host(scaler.constant_).tolist() == [True, True, False]
    assert host(scaler.scale_).tolist()[:2] == [1.0, 1.0]
    np.testing.assert_array_equal(Z[:, :2], 0.0)
    assert np.all(np.isfinite(Z))
    np.testing.assert_allclose(Z, StandardScaler().fit_transform(X), atol=1e-12)


def test_standardizer_is_a_pipeline_step_on_every_backend(backend):
    # A scikit-learn Pipeline passes y to fit_transform; StandardScaler would need NumPy arrays.
    from sklearn.pipeline import make_pipeline

    from gdcourse.models import LinearRegression

    rng = np.random.default_rng(1)
    X = rng.normal(loc=[10.0, -3.0], scale=[5.0, 0.1], size=(50, 2))
    y = X @ np.array([0.5, 20.0]) + rng.normal(scale=0.1, size=50)
    piped = make_pipeline(data.Standardizer(), LinearRegression(tol=1e-10, max_epochs=5000))
    piped.fit(B.asarray(X), B.asarray(y))
    assert piped[0].mean_.device == B.asarray(X).device
    reference = make_pipeline(StandardScaler(), LinearRegression(tol=1e-10, max_epochs=5000)).fit(X, y)
    np.testing.assert_allclose(piped[-1].coef_, reference[-1].coef_, atol=1e-10)
    assert piped.score(B.asarray(X), B.asarray(y)) == pytest.approx(reference.score(X, y), abs=1e-12)


def test_standardize_returns_one_array_or_a_tuple():
    X_train, X_test = np.array([[1.0], [3.0]]), np.array([[5.0]])
    alone = data.standardize(X_train)
    assert alone.ravel().tolist() == [-1.0, 1.0]
    Z_train, Z_test = data.standardize(X_train, X_test)
    assert Z_test.ravel().tolist() == [3.0]


def test_float32_stays_float32_and_integers_become_float():
    Z = data.Standardizer().fit_transform(np.arange(6, dtype=np.float32).reshape(3, 2))
    assert Z.dtype == np.float32
    assert data.standardize(np.array([[1, 2], [3, 5]])).dtype == np.float64


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: data.Standardizer().fit(np.ones(3)), r"X must be 2-D .* x\[:, None\]"),
        (lambda: data.Standardizer().fit(np.array([[1.0], [np.nan]])), r"X contains NaN"),
        (lambda: data.Standardizer().transform(np.ones((2, 2))), r"not fitted"),
        (lambda: data.Standardizer().fit(np.ones((2, 2))).transform(np.ones((2, 3))), r"3 features.*fitted on 2"),
        (lambda: data.standardize([[1.0, 2.0]]), r"X must be an array"),
    ],
)
def test_standardizer_errors(call, message):
    with pytest.raises((ValueError, TypeError, RuntimeError), match=message):
        call()


# ----------------------------------------------------------------------------- split


def test_train_val_split_partitions_the_rows_the_same_way_on_every_backend(backend):
    n = 23
    X = np.c_[np.arange(n, dtype=float), -np.arange(n, dtype=float)]
    y = np.arange(n) * 10
    X_tr, X_val, y_tr, y_val = data.train_val_split(B.asarray(X), B.asarray(y), val_fraction=0.25, seed=3)
    assert X_val.shape == (6, 2) and X_tr.shape == (17, 2)  # ceil(0.25 * 23) = 6
    rows_tr, rows_val = host(X_tr)[:, 0].astype(int), host(X_val)[:, 0].astype(int)
    assert sorted(rows_tr.tolist() + rows_val.tolist()) == list(range(n))
    np.testing.assert_array_equal(host(y_tr), rows_tr * 10)  # y follows X
    np.testing.assert_array_equal(host(y_val), rows_val * 10)
    expected_val = np.random.default_rng(3).permutation(n)[:6]
    np.testing.assert_array_equal(rows_val, expected_val)
    other = data.train_val_split(B.asarray(X), B.asarray(y), val_fraction=0.25, seed=4)[1]
    assert host(other)[:, 0].tolist() != rows_val.tolist()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((np.ones((4, 2)), np.ones(3)), r"X has 4 samples but y has 3"),
        ((np.ones((4, 2)), np.ones(4), 1.0), r"val_fraction must be a number in \(0, 1\)"),
        ((np.ones((1, 2)), np.ones(1)), r"at least 2"),
    ],
)
def test_train_val_split_errors(args, message):
    with pytest.raises(ValueError, match=message):
        data.train_val_split(*args)


def test_tiny_split_keeps_one_sample_on_each_side():
    X_tr, X_val, _, _ = data.train_val_split(np.ones((2, 1)), np.ones(2), val_fraction=0.99)
    assert X_tr.shape[0] == 1 and X_val.shape[0] == 1


# ----------------------------------------------------------------------------- generators


def test_make_linear_noise_free_is_exactly_linear_and_scales_features(backend):
    X, y, w = data.make_linear(2000, 3, noise=0.0, scales=[1.0, 100.0, 0.01], intercept=2.0, seed=1, return_coef=True)
    assert X.shape == (2000, 3) and y.shape == (2000,) and X.device == B.asarray([0.0]).device
    Xh, yh = host(X), host(y)
    np.testing.assert_allclose(yh, Xh @ w + 2.0, atol=1e-9)
    np.testing.assert_allclose(Xh.std(axis=0) / [1.0, 100.0, 0.01], 1.0, atol=0.05)
    # each feature moves y by a similar amount whatever its scale
    contribution = np.abs(w) * [1.0, 100.0, 0.01]
    assert np.all((contribution >= 1.0) & (contribution <= 2.0))


def test_make_linear_noise_and_offsets():
    X, y = data.make_linear(5000, 1, noise=0.5, offsets=10.0, coef=[2.0], intercept=-1.0, seed=0)
    residual = y - (2.0 * X[:, 0] - 1.0)
    assert abs(X.mean() - 10.0) < 0.1 and abs(residual.std() - 0.5) < 0.02


def test_generators_are_seeded_and_identical_on_every_backend(backend):
    for make in (
        lambda s: data.make_linear(20, 2, seed=s),
        lambda s: data.make_blobs(20, 3, seed=s),
        lambda s: data.make_two_moons(20, seed=s),
        lambda s: data.make_polynomial(20, seed=s),
    ):
        first, again, other = make(0), make(0), make(1)
        with B.using("numpy"):
            reference = make(0)
        for a, b, r in zip(first, again, reference, strict=True):
            np.testing.assert_array_equal(host(a), host(b))
            np.testing.assert_array_equal(host(a), r)
        assert not np.array_equal(host(first[0]), host(other[0]))


def test_make_blobs_classes_and_centres():
    X, y = data.make_blobs(101, centers=[[0.0, 0.0], [10.0, 10.0]], cluster_std=0.1, seed=2)
    assert y.dtype == np.int64 and np.bincount(y).tolist() == [51, 50]
    np.testing.assert_allclose(X[y == 1].mean(axis=0), [10.0, 10.0], atol=0.05)
    X3, y3 = data.make_blobs(30, 3, n_features=5, seed=0, dtype="float32")
    assert X3.shape == (30, 5) and X3.dtype == np.float32 and set(y3.tolist()) == {0, 1, 2}


def test_make_two_moons_shape():
    X, y = data.make_two_moons(100, noise=0.0, seed=0)
    assert X.shape == (100, 2) and np.bincount(y).tolist() == [50, 50]
    np.testing.assert_allclose(np.hypot(X[y == 0, 0], X[y == 0, 1]), 1.0)  # the upper moon is the unit circle


def test_make_polynomial_and_features(backend):
    x, y = data.make_polynomial(15, coef=(1.0, 0.0, -2.0), noise=0.0, seed=0)
    np.testing.assert_allclose(host(y), 1.0 - 2.0 * host(x) ** 2, atol=1e-12)
    assert np.all(np.abs(host(x)) <= 1.0)
    P = data.polynomial_features(x, 3)
    assert P.shape == (15, 3) and P.device == x.device
    np.testing.assert_allclose(host(P), np.stack([host(x) ** k for k in (1, 2, 3)], axis=1), atol=1e-15)
    Pb = host(data.polynomial_features(x[:, None], 2, include_bias=True))
    np.testing.assert_array_equal(Pb[:, 0], 1.0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: data.make_linear(0), r"n_samples must be a positive integer"),
        (lambda: data.make_linear(10, 2, scales=[1.0, -1.0]), r"scales must be positive"),
        (lambda: data.make_linear(10, 2, scales=[1.0, 2.0, 3.0]), r"scales must be a number or 2 finite numbers"),
        (lambda: data.make_linear(10, noise=-1), r"noise must be a finite number >= 0"),
        (lambda: data.make_blobs(2, 3), r"less than the number of classes"),
        (lambda: data.make_polynomial(10, x_range=(1, 0)), r"x_range"),
        (lambda: data.polynomial_features(np.ones((3, 2)), 2), r"x must be one feature"),
        (lambda: data.polynomial_features(np.ones(3), 0), r"degree must be a positive integer"),
    ],
)
def test_generator_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ----------------------------------------------------------------------------- bundled datasets


@pytest.mark.parametrize(
    ("load", "shape", "n_classes"),
    [
        (data.load_digits, (1797, 64), 10),
        (data.load_breast_cancer, (569, 30), 2),
        (data.load_iris, (150, 4), 3),
        (data.load_diabetes, (442, 10), None),
    ],
)
def test_loaders_return_arrays_on_the_active_backend(load, shape, n_classes, backend):
    X, y = load()
    assert tuple(X.shape) == shape and y.shape == (shape[0],)
    assert X.device == B.asarray([0.0]).device
    if n_classes is None:
        assert B.dtype_of(y) == "float64"
    else:
        assert B.dtype_of(y) == "int64" and sorted(set(host(y).tolist())) == list(range(n_classes))


def test_loader_options():
    X, y, info = data.load_diabetes(scaled=False, return_info=True, dtype="float32")
    assert X.dtype == np.float32 and info["feature_names"][:2] == ["age", "sex"] and "Diabetes" in info["description"]
    X, y = data.load_digits(n_class=3)
    assert set(y.tolist()) == {0, 1, 2}
    _, _, info = data.load_breast_cancer(return_info=True)
    assert info["target_names"] == ["malignant", "benign"]
