"""plot_decision_boundary draws what it claims: the boundary and margin lines where the model puts them."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # only inside this test process; notebook tests keep the inline backend

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.contour import ContourSet
from matplotlib.figure import Figure

from gdcourse import plots
from gdcourse.backend import to_numpy
from gdcourse.models import LinearSVM, LogisticRegression, SoftmaxRegression
from gdcourse.plots.boundary import SUPPORT_TOL

W, B = np.array([1.5, -0.75]), 0.25


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def collections_with_gid(ax, gid):
    return [c for c in ax.collections if c.get_gid() == gid]


def vertices(contour_set: ContourSet, level_index: int = 0) -> np.ndarray:
    """All vertices of the contour lines drawn at one level of a ContourSet."""
    paths = contour_set.get_paths()
    return paths[level_index].vertices


def two_blobs(seed=0, n=60):
    g = np.random.default_rng(seed)
    X = np.concatenate([g.normal([-1.5, -1.0], 0.8, size=(n // 2, 2)), g.normal([1.5, 1.0], 0.8, size=(n // 2, 2))])
    y = np.repeat([0, 1], n // 2)
    return X, y


class KnownLinear:
    """A 'fitted' linear classifier with known w, b (decision_function and classes_ only)."""

    classes_ = np.array([0, 1])

    def decision_function(self, X):
        return X @ W + B


def test_boundary_lies_on_the_analytic_line():
    X, y = two_blobs()
    fig = plots.plot_decision_boundary(KnownLinear(), X, y)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    (boundary,) = collections_with_gid(ax, "boundary")
    v = vertices(boundary)
    assert len(v) > 10
    # every vertex satisfies w·x + b = 0 (linear interpolation of a linear function is exact)
    np.testing.assert_allclose(v @ W + B, 0.0, atol=1e-9)
    # and the line crosses the whole window: it spans it in x2 (the steeper direction here)
    y_lo, y_hi = ax.get_ylim()
    assert v[:, 1].min() == pytest.approx(y_lo) and v[:, 1].max() == pytest.approx(y_hi)


def test_window_covers_the_data_with_a_border():
    X, y = two_blobs()
    ax = plots.plot_decision_boundary(KnownLinear(), X, y).axes[0]
    (x_lo, x_hi), (y_lo, y_hi) = ax.get_xlim(), ax.get_ylim()
    assert x_lo < X[:, 0].min() and x_hi > X[:, 0].max() and y_lo < X[:, 1].min() and y_hi > X[:, 1].max()


def test_margin_lines_at_plus_minus_one_and_support_vectors():
    X, y = two_blobs(n=80)
    fig = plots.plot_decision_boundary(lambda P: P @ W + B, X, y, margin=True)
    ax = fig.axes[0]
    (margin,) = collections_with_gid(ax, "margin")
    np.testing.assert_allclose(vertices(margin, 0) @ W + B, -1.0, atol=1e-9)
    np.testing.assert_allclose(vertices(margin, 1) @ W + B, 1.0, atol=1e-9)
    (ringed,) = collections_with_gid(ax, "support_vectors")
    y_pm = np.where(y == 1, 1.0, -1.0)
    expected = X[y_pm * (X @ W + B) <= 1.0 + SUPPORT_TOL]
    assert 0 < len(expected) < len(X)
    np.testing.assert_allclose(np.asarray(ringed.get_offsets()), expected)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert f"support vectors ({len(expected)})" in labels


def test_regions_follow_the_sign_of_the_score():
    X, y = two_blobs()
    ax = plots.plot_decision_boundary(KnownLinear(), X, y, grid=50).axes[0]
    (regions,) = collections_with_gid(ax, "regions")
    assert list(regions.levels)[1] == 0.0  # filled below and above z = 0
    colours = [tuple(c) for c in regions.get_facecolor()]
    assert len(colours) == 2 and colours[0][:3] != colours[1][:3]


def test_points_are_coloured_by_true_class():
    X, y = two_blobs()
    ax = plots.plot_decision_boundary(KnownLinear(), X, y).axes[0]
    points = collections_with_gid(ax, "points")
    assert len(points) == 2
    for k, scatter in enumerate(points):
        np.testing.assert_allclose(scatter.get_offsets(), X[y == k])
        assert scatter.get_label() == f"class {k}"
        assert matplotlib.colors.to_hex(scatter.get_facecolor()[0]) == plots.PALETTE[k].lower()


def test_fitted_svm_margin_matches_its_decision_function():
    X, y = two_blobs(seed=1, n=80)
    svm = LinearSVM(loss="hinge", alpha=0.05, max_epochs=300).fit(X, y)
    ax = plots.plot_decision_boundary(svm, X, y, margin=True).axes[0]
    w, b = svm.coef_[0], svm.intercept_[0]
    (boundary,) = collections_with_gid(ax, "boundary")
    np.testing.assert_allclose(vertices(boundary) @ w + b, 0.0, atol=1e-9)
    (margin,) = collections_with_gid(ax, "margin")
    np.testing.assert_allclose(vertices(margin, 1) @ w + b, 1.0, atol=1e-9)


def test_multi_class_regions_are_the_argmax_of_the_scores():
    g = np.random.default_rng(2)
    centres = np.array([[0.0, 3.0], [-3.0, -2.0], [3.0, -2.0]])
    X = np.concatenate([g.normal(c, 0.7, size=(30, 2)) for c in centres])
    y = np.repeat(np.array(["a", "b", "c"]), 30)
    model = SoftmaxRegression(alpha=0.01, max_epochs=300, tol=None).fit(X, y)
    grid = 40
    ax = plots.plot_decision_boundary(model, X, y, grid=grid).axes[0]
    (regions,) = collections_with_gid(ax, "regions")
    np.testing.assert_allclose(regions.levels, [-0.5, 0.5, 1.5, 2.5])
    # the filled field is argmax of the model's scores on the grid: rebuild it and compare
    gx = np.linspace(*ax.get_xlim(), grid)
    gy = np.linspace(*ax.get_ylim(), grid)
    xx, yy = np.meshgrid(gx, gy)
    expected = np.argmax(model.decision_function(np.column_stack([xx.ravel(), yy.ravel()])), axis=1)
    assert set(expected) == {0, 1, 2}
    predicted = np.searchsorted(model.classes_, model.predict(np.column_stack([xx.ravel(), yy.ravel()])))
    np.testing.assert_array_equal(expected, predicted)
    # the borders of classes 0 and 1 (they include every border of class 2); every vertex of class k's
    # border has z_k equal to the best other score
    borders = collections_with_gid(ax, "boundary")
    assert len(borders) == 2
    for k, border in enumerate(borders):
        v = np.concatenate([p.vertices for p in border.get_paths()])
        S = model.decision_function(v)
        gap = S[:, k] - np.max(np.delete(S, k, axis=1), axis=1)
        # exact (linear interpolation of a linear function) except in the grid cell of the triple point,
        # where the difference bends
        assert np.mean(np.abs(gap) < 1e-9) > 0.9 and np.max(np.abs(gap)) < 0.1
    assert [t.get_text() for t in ax.get_legend().get_texts()][:3] == ["class a", "class b", "class c"]


def test_predict_only_estimator_fills_regions_from_labels():
    class ThresholdOnX1:
        classes_ = np.array(["left", "right"])

        def predict(self, X):
            return np.where(X[:, 0] > 0.3, "right", "left")

    X, y = two_blobs()
    labels = np.where(y == 1, "right", "left")
    ax = plots.plot_decision_boundary(ThresholdOnX1(), X, labels, grid=101).axes[0]
    (border,) = collections_with_gid(ax, "boundary")
    x1 = border.get_paths()[0].vertices[:, 0]
    step = np.diff(ax.get_xlim())[0] / 100
    assert np.all(np.abs(x1 - 0.3) <= step)  # within one grid cell of the true threshold
    with pytest.raises(ValueError, match="margin=True needs one score"):
        plots.plot_decision_boundary(ThresholdOnX1(), X, labels, margin=True)


def test_draws_into_a_given_axes_and_never_shows(monkeypatch):
    monkeypatch.setattr(plt, "show", lambda *a, **k: pytest.fail("plot_decision_boundary must not call plt.show()"))
    fig, (ax1, ax2) = plt.subplots(1, 2)
    X, y = two_blobs()
    assert plots.plot_decision_boundary(KnownLinear(), X, y, ax=ax2) is fig
    assert not ax1.collections and ax2.collections


def test_logistic_regression_boundary_and_any_backend(backend, to_backend):
    X, y = two_blobs(seed=3)
    model = LogisticRegression(alpha=0.01, max_epochs=200, tol=None).fit(X, y)
    Xb, yb = to_backend(X), to_backend(y)
    ax = plots.plot_decision_boundary(model, Xb, yb, margin=True, grid=60).axes[0]
    w, b = model.coef_[0], model.intercept_[0]
    (boundary,) = collections_with_gid(ax, "boundary")
    np.testing.assert_allclose(vertices(boundary) @ w + b, 0.0, atol=1e-8)
    points = collections_with_gid(ax, "points")
    np.testing.assert_allclose(np.concatenate([p.get_offsets() for p in points]),
                               np.concatenate([X[y == 0], X[y == 1]]))
    # a plain function gets the grid in X's library
    seen = []

    def score(P):
        seen.append(type(P).__module__.split(".")[0])
        return P @ to_backend(W) + B

    plots.plot_decision_boundary(score, Xb, yb, grid=20)
    assert seen[0] == type(Xb).__module__.split(".")[0]
    assert np.asarray(to_numpy(Xb)).shape == X.shape


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ((np.zeros((5, 3)), np.array([0, 1, 0, 1, 0])), {}, ValueError, r"shape \(n_samples, 2\)"),
        ((np.zeros((5, 2)), np.array([0, 1, 0])), {}, ValueError, "same length"),
        ((np.zeros((4, 2)), np.array([0, 1, 0, 1])), {"grid": 1}, ValueError, "grid"),
        ((np.array([[0.0, np.nan], [1.0, 1.0]]), np.array([0, 1])), {}, ValueError, "NaN"),
        ((np.zeros((4, 2)), np.array([0, 1, 2, 3])), {}, ValueError, "two classes"),
    ],
)
def test_bad_input_is_named(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        plots.plot_decision_boundary(lambda P: P[:, 0], *args, **kwargs)


def test_unknown_labels_and_non_classifiers_are_rejected():
    X, y = two_blobs()
    with pytest.raises(ValueError, match="not among the classes"):
        plots.plot_decision_boundary(KnownLinear(), X, y + 5)
    with pytest.raises(TypeError, match="fitted classifier"):
        plots.plot_decision_boundary(42, X, y)
    with pytest.raises(ValueError, match="margin=True"):
        plots.plot_decision_boundary(lambda P: np.stack([P[:, 0], P[:, 1], -P[:, 0]], axis=1), X,
                                     np.arange(len(X)) % 3, margin=True)
