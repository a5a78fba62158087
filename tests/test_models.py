"""Tests of gdcourse.models: each estimator against independent solutions of the same convex problem
(closed forms, scikit-learn, scipy), scikit-learn's estimator checks, Pipeline/GridSearchCV, array-API
backends, early stopping, divergence and bad input."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
import sklearn
import sklearn.linear_model as sk
from scipy.optimize import minimize
from sklearn.datasets import load_wine
from sklearn.exceptions import ConvergenceWarning, SkipTestWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from sklearn.utils.estimator_checks import check_estimator

from gdcourse import backend as B
from gdcourse import data, optim, schedules
from gdcourse.models import (
    DivergenceError,
    FitHistory,
    LinearRegression,
    LinearSVM,
    LogisticRegression,
    SoftmaxRegression,
    SubgradientSchedule,
)

SKLEARN_VERSION = tuple(int(part) for part in sklearn.__version__.split(".")[:2])
REL = 1e-4  # the acceptance tolerance: relative error of the coefficients


def rel_err(ours, ref):
    ours, ref = np.ravel(ours), np.ravel(ref)
    return float(np.max(np.abs(ours - ref)) / np.max(np.abs(ref)))


def coefs(model):
    return np.r_[np.ravel(model.coef_), np.ravel(model.intercept_)]


def standardized(X):
    return StandardScaler().fit_transform(X)


# ----------------------------------------------------------------------------- datasets (host NumPy)


def regression_data(name):
    with B.using("numpy"):
        return _regression_data(name)


def _regression_data(name):
    if name == "diabetes":
        X, y = data.load_diabetes()
        return standardized(np.asarray(X)), np.asarray(y)
    coef = [1.5, 0.0, -2.0, 0.0, 0.3, 1.0]  # two irrelevant features: the lasso should drop them
    X, y = data.make_linear(300, 6, noise=1.0, scales=[1, 3, 0.5, 2, 1, 1], offsets=2.0, coef=coef, seed=5)
    return standardized(np.asarray(X)), np.asarray(y)


def binary_data(name):
    with B.using("numpy"):
        return _binary_data(name)


def _binary_data(name):
    if name == "breast_cancer":
        X, y = data.load_breast_cancer()
        return standardized(np.asarray(X)), np.asarray(y)
    X, y = data.make_blobs(300, centers=[[0.0, 0.0, 0.0], [1.5, 1.0, -0.5]], cluster_std=1.0, seed=3)
    return standardized(np.asarray(X)), np.asarray(y)


def multiclass_data(name):
    with B.using("numpy"):
        return _multiclass_data(name)


def _multiclass_data(name):
    if name == "iris":
        X, y = data.load_iris()
        return standardized(np.asarray(X)), np.asarray(y)
    X, y = load_wine(return_X_y=True)
    return standardized(X), y


def tight(model_cls, **kw):
    """An estimator converged to numerical precision (tol on the gradient norm)."""
    options = {"tol": 1e-10, "max_epochs": 50_000, **kw}
    return model_cls(**options)


# ----------------------------------------------------------------------------- linear regression


@pytest.mark.parametrize("dataset", ["diabetes", "synthetic"])
def test_linear_regression_matches_normal_equation_and_sklearn(dataset):
    X, y = regression_data(dataset)
    model = tight(LinearRegression, optimizer="nesterov").fit(X, y)
    Xt = np.c_[X, np.ones(len(y))]
    normal = np.linalg.solve(Xt.T @ Xt, Xt.T @ y)
    assert model.history_.stop_reason == "tol"
    assert rel_err(coefs(model), normal) < REL
    ref = sk.LinearRegression().fit(X, y)
    assert rel_err(coefs(model), np.r_[ref.coef_, ref.intercept_]) < REL
    assert model.score(X, y) == pytest.approx(ref.score(X, y), rel=1e-8)


@pytest.mark.parametrize("dataset", ["diabetes", "synthetic"])
def test_ridge_matches_closed_form_and_sklearn(dataset):
    X, y = regression_data(dataset)
    n, alpha = len(y), 0.3
    model = tight(LinearRegression, penalty="l2", alpha=alpha).fit(X, y)
    # (1/2n)||Xw + b - y||² + (alpha/2)||w||², intercept unpenalised: centre, then (Xc'Xc + n alpha I) w = Xc'yc
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    w = np.linalg.solve(Xc.T @ Xc + n * alpha * np.eye(X.shape[1]), Xc.T @ yc)
    b = y.mean() - X.mean(axis=0) @ w
    assert rel_err(coefs(model), np.r_[w, b]) < REL
    ref = sk.Ridge(alpha=n * alpha).fit(X, y)  # Ridge: ||Xw + b - y||² + alpha_Ridge ||w||²
    assert rel_err(coefs(model), np.r_[ref.coef_, ref.intercept_]) < REL


@pytest.mark.parametrize(("dataset", "alpha"), [("diabetes", 1.0), ("synthetic", 0.5)])
def test_lasso_matches_sklearn_with_the_same_zeros(dataset, alpha):
    X, y = regression_data(dataset)
    model = tight(LinearRegression, penalty="l1", alpha=alpha).fit(X, y)
    ref = sk.Lasso(alpha=alpha, tol=1e-14, max_iter=100_000).fit(X, y)
    assert rel_err(coefs(model), np.r_[ref.coef_, ref.intercept_]) < REL
    zeros = ref.coef_ == 0
    assert 0 < zeros.sum() < len(zeros)  # a meaningful sparsity pattern
    np.testing.assert_array_equal(model.coef_ == 0, zeros)


@pytest.mark.parametrize("dataset", ["diabetes", "synthetic"])
def test_elastic_net_matches_sklearn(dataset):
    X, y = regression_data(dataset)
    model = tight(LinearRegression, penalty="elasticnet", alpha=0.5, l1_ratio=0.7).fit(X, y)
    ref = sk.ElasticNet(alpha=0.5, l1_ratio=0.7, tol=1e-14, max_iter=100_000).fit(X, y)
    assert rel_err(coefs(model), np.r_[ref.coef_, ref.intercept_]) < REL
    np.testing.assert_array_equal(model.coef_ == 0, ref.coef_ == 0)


# ----------------------------------------------------------------------------- classifiers


@pytest.mark.parametrize("dataset", ["breast_cancer", "blobs"])
def test_logistic_regression_matches_sklearn(dataset):
    X, y = binary_data(dataset)
    n, alpha = len(y), 1e-2
    model = tight(LogisticRegression, alpha=alpha, optimizer="nesterov").fit(X, y)
    ref = sk.LogisticRegression(C=1 / (n * alpha), tol=1e-12, max_iter=10_000).fit(X, y)
    assert rel_err(coefs(model), np.r_[ref.coef_.ravel(), ref.intercept_]) < REL
    np.testing.assert_allclose(model.predict_proba(X), ref.predict_proba(X), atol=1e-5)


def test_unpenalised_logistic_regression_matches_sklearn_with_infinite_C():
    X, y = binary_data("blobs")
    model = tight(LogisticRegression, penalty=None, optimizer="nesterov").fit(X, y)
    ref = sk.LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(X, y)
    assert rel_err(coefs(model), np.r_[ref.coef_.ravel(), ref.intercept_]) < REL


def test_l1_logistic_regression_matches_saga_with_the_same_zeros():
    rng = np.random.default_rng(0)  # three relevant features out of six
    X = rng.normal(size=(300, 6))
    y = (X @ [2.0, 0.0, -1.0, 0.0, 0.0, 0.5] + rng.logistic(size=300) > 0).astype(int)
    n, alpha = len(y), 0.02
    model = tight(LogisticRegression, penalty="l1", alpha=alpha).fit(X, y)
    # scikit-learn 1.8 replaced penalty="l1" by l1_ratio=1 (before, l1_ratio was read only with penalty="elasticnet")
    l1 = {"l1_ratio": 1.0} if SKLEARN_VERSION >= (1, 8) else {"penalty": "l1"}
    ref = sk.LogisticRegression(C=1 / (n * alpha), solver="saga", tol=1e-12, max_iter=100_000, **l1).fit(X, y)
    assert rel_err(coefs(model), np.r_[ref.coef_.ravel(), ref.intercept_]) < REL
    assert 0 < (model.coef_ == 0).sum() < X.shape[1]
    np.testing.assert_array_equal(model.coef_ == 0, np.abs(ref.coef_) < 1e-10)


@pytest.mark.parametrize("dataset", ["iris", "wine"])
def test_softmax_regression_matches_sklearn_multinomial(dataset):
    X, y = multiclass_data(dataset)
    n, alpha = len(y), 1e-2
    model = tight(SoftmaxRegression, alpha=alpha, optimizer="nesterov").fit(X, y)
    ref = sk.LogisticRegression(C=1 / (n * alpha), tol=1e-12, max_iter=10_000).fit(X, y)
    # adding a constant to every class's intercept changes nothing and the intercept is not penalised:
    # compare centred intercepts (gradient descent from 0 keeps them centred anyway)
    b, b_ref = model.intercept_ - model.intercept_.mean(), ref.intercept_ - ref.intercept_.mean()
    assert rel_err(np.r_[model.coef_.ravel(), b], np.r_[ref.coef_.ravel(), b_ref]) < REL
    np.testing.assert_allclose(model.predict_proba(X), ref.predict_proba(X), atol=1e-5)


def squared_hinge_objective(theta, X, s, alpha):
    """(1/n) Σ max(0, 1 - s(Xw + b))² + (alpha/2)||w||², with its gradient, written independently."""
    w, b = theta[:-1], theta[-1]
    slack = np.maximum(0.0, 1.0 - s * (X @ w + b))
    g = -2.0 * s * slack / len(s)
    return np.mean(slack**2) + 0.5 * alpha * w @ w, np.r_[X.T @ g + alpha * w, g.sum()]


@pytest.mark.parametrize("dataset", ["breast_cancer", "blobs"])
def test_squared_hinge_svm_matches_linear_svc_without_intercept(dataset):
    """With fit_intercept=False both minimise C Σ max(0, 1 - y x'w)² + ½||w||² (C = 1/(n alpha))."""
    X, y = binary_data(dataset)
    n, alpha = len(y), 1e-2
    model = tight(LinearSVM, alpha=alpha, fit_intercept=False, optimizer="nesterov").fit(X, y)
    ref = LinearSVC(C=1 / (n * alpha), fit_intercept=False, dual=False, tol=1e-12, max_iter=100_000).fit(X, y)
    assert rel_err(model.coef_, ref.coef_) < REL
    assert model.intercept_.tolist() == [0.0]


def test_squared_hinge_svm_with_unpenalised_intercept_matches_scipy():
    """LinearSVC penalises its intercept; ours does not, so the reference is L-BFGS on our exact objective."""
    X, y = binary_data("breast_cancer")
    alpha = 1e-2
    model = tight(LinearSVM, alpha=alpha, optimizer="nesterov").fit(X, y)
    s = 2.0 * y - 1.0
    res = minimize(
        squared_hinge_objective,
        np.zeros(X.shape[1] + 1),
        args=(X, s, alpha),
        jac=True,
        method="L-BFGS-B",
        options={"gtol": 1e-12, "ftol": 1e-15, "maxiter": 100_000},
    )
    assert rel_err(coefs(model), res.x) < REL
    assert model.history_.objective[-1] == pytest.approx(res.fun, rel=1e-9)
    # and against LinearSVC (penalised intercept): same predictions on almost every sample
    ref = LinearSVC(C=1 / (len(y) * alpha), dual=False, tol=1e-12, max_iter=100_000).fit(X, y)
    assert np.mean(model.predict(X) == ref.predict(X)) > 0.99


def test_hinge_svm_reaches_the_linear_svc_objective():
    """Subgradient descent on the hinge loss gets close to the minimum (not to its exact coefficients)."""
    X, y = binary_data("breast_cancer")
    n, alpha = len(y), 1e-2
    model = LinearSVM(loss="hinge", alpha=alpha, fit_intercept=False, max_epochs=3000).fit(X, y)
    assert isinstance(model.lr_, SubgradientSchedule)
    ref = LinearSVC(loss="hinge", C=1 / (n * alpha), fit_intercept=False, dual=True, tol=1e-8, max_iter=10**6)
    ref.fit(X, y)
    s = 2.0 * y - 1.0

    def objective(w):
        return np.mean(np.maximum(0.0, 1.0 - s * (X @ w))) + 0.5 * alpha * w @ w

    ours, best = objective(model.coef_.ravel()), objective(ref.coef_.ravel())
    assert best <= ours < best * (1 + 2e-3)
    assert model.history_.objective[-1] == pytest.approx(ours, rel=1e-12)
    assert np.mean(model.predict(X) == ref.predict(X)) > 0.98


# ----------------------------------------------------------------------------- scikit-learn's estimator checks

# Every check runs; one is not applicable and is asserted to be the only one sklearn skips:
#   check_array_api_input  needs SCIPY_ARRAY_API=1 and tags.array_api_support; our fitted coef_ are host
#                          NumPy by design (array-API inputs are tested above on array_api_strict instead)
# The pandas checks run because the `test` extra installs pandas.
# A budget of 300 epochs keeps the checks fast; their datasets are not standardised, so the fits are
# not converged (ConvergenceWarning, silenced) but accurate enough for every check.
NOT_APPLICABLE = {"check_array_api_input"}  # (scikit-learn before 1.8 runs no such check: nothing is skipped)
ESTIMATORS = [
    LinearRegression(max_epochs=300),
    LogisticRegression(max_epochs=300),
    SoftmaxRegression(max_epochs=300),
    LinearSVM(max_epochs=300),
]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_sklearn_estimator_checks(estimator):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", SkipTestWarning)
        results = check_estimator(estimator, on_fail=None)
    failed = [(r["check_name"], repr(r["exception"])) for r in results if r["status"] == "failed"]
    skipped = {r["check_name"] for r in results if r["status"] == "skipped"}
    assert not failed
    assert skipped <= NOT_APPLICABLE, f"checks not run: {sorted(skipped - NOT_APPLICABLE)}"
    assert len(results) > 40


def test_pipeline_and_grid_search():
    X, y = data.load_breast_cancer()
    X, y = np.asarray(X) * 10 + 5, np.asarray(y)  # unscaled on purpose: the pipeline standardises
    pipe = Pipeline([("scale", StandardScaler()), ("model", LogisticRegression(max_epochs=300))])
    grid = GridSearchCV(
        pipe,
        {"model__alpha": [1e-3, 1e-1], "model__optimizer": ["gd", "nesterov"]},
        cv=3,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        grid.fit(X, y)
    assert set(grid.best_params_) == {"model__alpha", "model__optimizer"}
    assert grid.best_score_ > 0.95 and grid.score(X, y) > 0.95
    X, y = data.load_diabetes(scaled=False)
    X, y = np.asarray(X), np.asarray(y)
    reg = make_pipeline(StandardScaler(), LinearRegression(optimizer="nesterov", tol=1e-8))
    assert reg.fit(X, y).score(X, y) == pytest.approx(sk.LinearRegression().fit(X, y).score(X, y), rel=1e-8)


# ----------------------------------------------------------------------------- array-API backends


def _same_fit(model_factory, X, y, backend):
    """Fit on the backend's arrays and on NumPy: identical coefficients, predictions stay on the device."""
    ours = model_factory().fit(B.asarray(X), B.asarray(y))
    ref = model_factory().fit(X, y)
    np.testing.assert_allclose(coefs(ours), coefs(ref), rtol=1e-9, atol=1e-12)
    Xd = B.asarray(X)
    pred = ours.predict(Xd)
    assert pred.device == Xd.device
    np.testing.assert_array_equal(B.to_numpy(pred), ref.predict(X))
    assert ours.score(Xd, B.asarray(y)) == pytest.approx(ref.score(X, y), rel=1e-12)
    return ours


@pytest.mark.parametrize(
    ("factory", "kind"),
    [
        (lambda: LinearRegression(penalty="elasticnet", alpha=0.2, tol=None, max_epochs=50), "regression"),
        (
            lambda: LinearRegression(batch_size=64, optimizer="sgd", tol=None, max_epochs=5, random_state=0),
            "regression",
        ),
        (lambda: LogisticRegression(penalty="l1", alpha=1e-2, tol=None, max_epochs=50), "binary"),
        (
            lambda: LogisticRegression(early_stopping=True, patience=3, tol=None, max_epochs=40, random_state=1),
            "binary",
        ),
        (lambda: SoftmaxRegression(optimizer="adam", tol=None, max_epochs=30), "multiclass"),
        (
            lambda: LinearSVM(loss="hinge", optimizer="nesterov", l1_method="subgradient", tol=None, max_epochs=30),
            "binary",
        ),
    ],
)
def test_fitting_follows_the_data_on_every_backend(factory, kind, backend):
    if kind == "regression":
        X, y = regression_data("diabetes")
    elif kind == "binary":
        X, y = binary_data("breast_cancer")
    else:
        X, y = multiclass_data("iris")
    model = _same_fit(factory, X, y, backend)
    if kind != "regression":
        Xd = B.asarray(X)
        assert model.decision_function(Xd).device == Xd.device
        if hasattr(model, "predict_proba"):
            proba = model.predict_proba(Xd)
            np.testing.assert_allclose(B.to_numpy(proba).sum(axis=1), 1.0)


def test_device_input_checks(backend):
    X = np.ones((4, 2))
    X[1, 0] = np.nan
    with pytest.raises(ValueError, match=r"X holds 1 NaN value \(first at row 1, column 0\): clean or impute"):
        LinearRegression().fit(B.asarray(X), B.asarray(np.ones(4)))
    model = LinearRegression(max_epochs=3, tol=None).fit(B.asarray(np.eye(3)), B.asarray(np.arange(3.0)))
    with pytest.raises(ValueError, match="X has 2 features, but LinearRegression is expecting 3"):
        model.predict(B.asarray(np.ones((2, 2))))
    with pytest.raises(ValueError, match="X has 3 samples but y has 2"):
        LinearRegression().fit(B.asarray(np.eye(3)), B.asarray(np.ones(2)))
    with pytest.raises(ValueError, match="only one class"):
        LogisticRegression().fit(B.asarray(np.eye(3)), B.asarray(np.ones(3)))
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        LogisticRegression().fit(B.asarray(np.eye(3)), B.asarray(np.array([0.5, 1.0, 0.0])))


# ----------------------------------------------------------------------------- training behaviour


def test_early_stopping_restores_the_best_epoch():
    x, y = data.make_polynomial(30, noise=0.3, seed=1)
    X = data.standardize(data.polynomial_features(x, 12))
    options = {"early_stopping": True, "validation_fraction": 0.3, "tol": None, "max_epochs": 5000, "random_state": 0}
    model = LinearRegression(patience=20, **options).fit(X, y)
    h = model.history_
    assert h.stop_reason == "early_stopping" and h.val_loss is not None
    assert h.best_epoch == int(np.argmin(h.val_loss)) > 0
    assert model.n_iter_ == h.best_epoch + 20 < 5000  # stopped exactly `patience` epochs after the best
    assert np.all(h.val_loss[h.best_epoch + 1 :] >= h.val_loss[h.best_epoch])
    # the kept coefficients are those of the best epoch: rerun the same split for exactly that many epochs
    again = LinearRegression(**{**options, "max_epochs": h.best_epoch}, patience=10**6).fit(X, y)
    np.testing.assert_array_equal(model.coef_, again.coef_)
    assert model.intercept_ == again.intercept_


def test_divergence_is_reported_with_the_epoch_and_advice():
    X, y = regression_data("diabetes")
    with pytest.raises(DivergenceError, match=r"diverged at epoch \d+.*smaller lr.*standardise the features") as err:
        LinearRegression(lr=5.0).fit(X, y)
    assert isinstance(err.value.history, FitHistory) and err.value.history.stop_reason == "diverged"


@pytest.mark.parametrize("model_cls", [LinearRegression, LogisticRegression, SoftmaxRegression, LinearSVM])
def test_auto_learning_rate_makes_gradient_descent_monotone(model_cls):
    """lr='auto' is 1/L: by the descent lemma every full-batch step lowers the objective."""
    X, y = (regression_data if model_cls is LinearRegression else binary_data)(
        "synthetic" if model_cls is LinearRegression else "blobs"
    )
    if model_cls is SoftmaxRegression:
        X, y = multiclass_data("iris")
    model = model_cls(alpha=1e-3, penalty="l2", tol=None, max_epochs=200).fit(X * 3 + 1, y)
    objective = model.history_.objective
    assert len(objective) == model.n_iter_ + 1 == 201 and len(model.history_.lr) == 200
    assert np.all(np.diff(objective) <= 1e-12 * objective[0])
    assert model.history_.train_loss[-1] < model.history_.train_loss[0]


def test_tol_stops_on_the_gradient_norm_and_warns_when_epochs_run_out():
    X, y = binary_data("breast_cancer")
    model = LogisticRegression(alpha=1e-2, tol=1e-3, optimizer="nesterov").fit(X, y)
    h = model.history_
    assert h.stop_reason == "tol" and h.grad_norm[-1] <= 1e-3 * h.grad_norm[0] < h.grad_norm[-2]
    with pytest.warns(ConvergenceWarning, match=r"did not converge in max_epochs=5 epochs"):
        LogisticRegression(alpha=1e-2, max_epochs=5).fit(X, y)


def test_prox_gives_exact_zeros_and_the_subgradient_does_not():
    X, y = regression_data("diabetes")
    prox = LinearRegression(penalty="l1", alpha=1.0, tol=None, max_epochs=2000).fit(X, y)
    sub = LinearRegression(penalty="l1", alpha=1.0, tol=None, max_epochs=2000, l1_method="subgradient").fit(X, y)
    assert np.sum(prox.coef_ == 0) >= 3 and np.sum(sub.coef_ == 0) == 0
    small = prox.coef_ == 0
    assert np.max(np.abs(sub.coef_[small])) < 0.5  # the subgradient only hovers near zero


def test_minibatch_sgd_is_seeded_and_approaches_the_solution():
    X, y = regression_data("synthetic")
    schedule = schedules.inverse_time(0.05, 0.01)
    kw = {"optimizer": "sgd", "lr": schedule, "batch_size": 16, "tol": None, "max_epochs": 60}
    a = LinearRegression(random_state=0, **kw).fit(X, y)
    b = LinearRegression(random_state=0, **kw).fit(X, y)
    c = LinearRegression(random_state=1, **kw).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert not np.array_equal(a.coef_, c.coef_)
    exact = sk.LinearRegression().fit(X, y)
    assert rel_err(coefs(a), np.r_[exact.coef_, exact.intercept_]) < 0.05
    np.testing.assert_allclose(a.history_.lr[:3], [schedule(0), schedule(19), schedule(38)])  # 19 batches per epoch


def test_optimizer_objects_schedules_and_reduce_on_plateau():
    X, y = regression_data("synthetic")
    best = sk.LinearRegression().fit(X, y).score(X, y)
    m = LinearRegression(optimizer=optim.adam(lr=0.1), max_epochs=300).fit(X, y)
    assert m.score(X, y) == pytest.approx(best, rel=1e-6) and m.lr_ == 0.1
    plateau = schedules.ReduceOnPlateau(0.1, patience=0, factor=0.5)
    m = LinearRegression(lr=plateau, tol=None, max_epochs=80).fit(X, y)
    assert plateau.lr == 0.1  # the estimator's own copy observed the losses, not the caller's object
    assert m.history_.lr[0] == 0.1 and m.lr_.lr < 0.1 and m.history_.lr[-1] == m.lr_.lr  # it cut the rate
    m2 = LinearRegression(optimizer="heavy_ball", optimizer_kwargs={"momentum": 0.5}, max_epochs=500).fit(X, y)
    assert m2.score(X, y) == pytest.approx(best, rel=1e-6)


def test_float32_labels_and_pickling():
    X, y = binary_data("blobs")
    labels = np.array(["cat", "dog"])[y]
    model = LogisticRegression(max_epochs=100).fit(X.astype(np.float32), labels)
    assert model.coef_.dtype == np.float32 and model.classes_.tolist() == ["cat", "dog"]
    assert set(model.predict(X).tolist()) == {"cat", "dog"}
    svm = LinearSVM(loss="hinge", max_epochs=20).fit(X, y)
    for m in (model, svm):
        again = pickle.loads(pickle.dumps(m))
        np.testing.assert_array_equal(again.predict(X), m.predict(X))


def test_binary_probabilities_and_decision_shapes():
    X, y = multiclass_data("iris")
    two = y < 2
    soft = SoftmaxRegression(alpha=1e-2).fit(X[two], y[two])
    assert soft.coef_.shape == (2, 4) and soft.decision_function(X).shape == (150,)
    log = LogisticRegression(alpha=1e-2).fit(X[two], y[two])
    assert log.coef_.shape == (1, 4) and log.intercept_.shape == (1,)
    proba = log.predict_proba(X)
    np.testing.assert_allclose(proba[:, 1], 1 / (1 + np.exp(-log.decision_function(X))), rtol=1e-12)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-15)
    full = SoftmaxRegression(alpha=1e-2).fit(X, y)
    assert full.decision_function(X).shape == (150, 3)
    scores = X @ full.coef_.T + full.intercept_
    expected = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(full.predict_proba(X), expected, rtol=1e-12)
    assert (full.predict(X) == np.argmax(scores, axis=1)).all()


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("model", "X", "y", "message"),
    [
        (LinearRegression(), np.ones((5, 2)), np.ones(4), r"X has 5 samples but y has 4"),
        (LinearRegression(), np.array([[1.0, np.nan], [0.0, 1.0]]), np.ones(2), r"X holds 1 NaN value \(first at row"),
        (LinearRegression(), np.eye(2), np.array([1.0, np.nan]), r"y holds 1 NaN value \(first at index 1\)"),
        (LogisticRegression(), np.eye(3), np.zeros(3), r"only one class \(np.float64\(0.0\)\)|only one class"),
        (
            LinearSVM(),
            np.eye(3),
            np.arange(3),
            r"Only binary classification is supported by LinearSVM.*SoftmaxRegression",
        ),
        (LogisticRegression(), np.eye(3), np.array([0.1, 0.7, 0.3]), r"Unknown label type"),
        (LinearRegression(lr=0.0), np.eye(2), np.ones(2), r"lr must be 'auto', a positive finite number"),
        (LinearRegression(lr=-1), np.eye(2), np.ones(2), r"lr must be"),
        (LinearRegression(optimizer="adamm"), np.eye(2), np.ones(2), r"unknown optimizer 'adamm'; known optimizers"),
        (LinearRegression(optimizer=3), np.eye(2), np.ones(2), r"optimizer must be a name"),
        (LinearRegression(penalty="ridge"), np.eye(2), np.ones(2), r"unknown penalty 'ridge'"),
        (LinearRegression(penalty="elasticnet", l1_ratio=2), np.eye(2), np.ones(2), r"l1_ratio must be in \[0, 1\]"),
        (LinearRegression(alpha=-1, penalty="l2"), np.eye(2), np.ones(2), r"alpha must be a finite number >= 0"),
        (LinearRegression(batch_size=0), np.eye(2), np.ones(2), r"batch_size must be None or an integer >= 1"),
        (LinearRegression(max_epochs=0), np.eye(2), np.ones(2), r"max_epochs must be an integer >= 1"),
        (LinearRegression(tol=-1), np.eye(2), np.ones(2), r"tol must be a number >= 0 or None"),
        (LinearRegression(validation_fraction=1.5), np.eye(2), np.ones(2), r"validation_fraction must be"),
        (LinearRegression(l1_method="ista"), np.eye(2), np.ones(2), r"l1_method must be 'prox' or 'subgradient'"),
        (LinearSVM(loss="log"), np.eye(2), np.arange(2), r"loss must be 'squared_hinge' or 'hinge'"),
        (LinearRegression(optimizer_kwargs={"lr": 1}), np.eye(2), np.ones(2), r"must not contain 'lr'"),
        (LinearRegression(optimizer_kwargs={"weight_decay": 1}), np.eye(2), np.ones(2), r"penalty='l2'"),
        (LinearRegression(optimizer_kwargs={"beta": 1}), np.eye(2), np.ones(2), r"optimizer 'gd'.*does not take beta"),
        (LinearRegression(optimizer=optim.adam(), lr=0.1), np.eye(2), np.ones(2), r"carries its own learning rate"),
        (LinearRegression(penalty="l1", optimizer="adam"), np.eye(2), np.ones(2), r"l1_method='prox'.*'subgradient'"),
        (LinearRegression(), np.ones(3), np.ones(3), r"2D array"),
        (LinearRegression(), np.eye(2), None, r"requires y to be passed"),
    ],
)
def test_bad_input_is_named(model, X, y, message):
    with pytest.raises((ValueError, TypeError), match=message):
        model.fit(X, y)
