"""Tests of gdcourse.plots.models: the confusion matrix and the filter grid show the numbers they claim."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # only inside this test process; notebook tests keep the inline backend

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from gdcourse import plots
from gdcourse.plots.models import GID_CONFUSION, GID_FILTER


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def no_show(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("plotting functions must not call plt.show()")

    monkeypatch.setattr(plt, "show", forbidden)


Y_TRUE = np.array([0, 0, 1, 1, 1, 2, 2, 2, 2])
Y_PRED = np.array([0, 1, 1, 1, 2, 2, 2, 0, 2])
EXPECTED = np.array([[1, 1, 0], [0, 2, 1], [1, 0, 3]])


def _texts(fig: Figure) -> dict[tuple[int, int], str]:
    ax = fig.axes[0]
    return {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in ax.texts}


def test_confusion_counts_rows_are_true_classes():
    C = plots.confusion_counts(Y_TRUE, Y_PRED)
    np.testing.assert_array_equal(C, EXPECTED)
    assert C.dtype == np.int64
    assert C.sum() == Y_TRUE.size


def test_confusion_counts_keeps_classes_that_never_occur(to_backend):
    C = plots.confusion_counts(to_backend(Y_TRUE), to_backend(Y_PRED), n_classes=5)
    assert C.shape == (5, 5)
    np.testing.assert_array_equal(C[:3, :3], EXPECTED)
    assert C[3:].sum() == 0 and C[:, 3:].sum() == 0


@pytest.mark.parametrize(
    ("y_true", "y_pred", "kwargs", "error", "match"),
    [
        (Y_TRUE, Y_PRED[:-1], {}, ValueError, "must match"),
        (Y_TRUE.reshape(3, 3), Y_PRED.reshape(3, 3), {}, ValueError, "1-D"),
        (Y_TRUE + 0.5, Y_PRED, {}, TypeError, "integer"),
        (Y_TRUE - 1, Y_PRED, {}, ValueError, "non-negative"),
        (Y_TRUE, Y_PRED, {"n_classes": 2}, ValueError, "n_classes=2"),
    ],
)
def test_confusion_counts_rejects_bad_labels(y_true, y_pred, kwargs, error, match):
    with pytest.raises(error, match=match):
        plots.confusion_counts(y_true, y_pred, **kwargs)


def test_confusion_matrix_plot_writes_every_count(no_show):
    fig = plots.plot_confusion_matrix(Y_TRUE, Y_PRED, class_names=["a", "b", "c"])
    assert isinstance(fig, Figure)
    texts = _texts(fig)
    for i in range(3):
        for j in range(3):
            if EXPECTED[i, j] or i == j:
                assert texts[(i, j)] == str(EXPECTED[i, j])
            else:
                assert (i, j) not in texts  # zeros off the diagonal stay blank
    ax = fig.axes[0]
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    image = next(im for im in ax.images if im.get_gid() == GID_CONFUSION)
    shown = np.ma.filled(image.get_array().astype(float), np.nan)
    assert np.all(np.isnan(np.diag(shown)))  # the colour scale is for the mistakes only
    off = ~np.eye(3, dtype=bool)
    np.testing.assert_array_equal(shown[off], EXPECTED[off])


def test_confusion_matrix_normalised_rows_and_counts_input(no_show):
    fig = plots.plot_confusion_matrix(counts=EXPECTED, normalize=True, title="recall")
    texts = _texts(fig)
    assert texts[(2, 2)] == "0.75" and texts[(0, 1)] == "0.50"
    assert fig.axes[0].get_title() == "recall"


def test_confusion_matrix_draws_into_given_axes(no_show):
    fig, (a, b) = plt.subplots(1, 2)
    out = plots.plot_confusion_matrix(Y_TRUE, Y_PRED, ax=b)
    assert out is fig
    assert not a.images and b.images


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((), {}, "give y_true and y_pred"),
        ((Y_TRUE, Y_PRED), {"counts": EXPECTED}, "not both"),
        ((), {"counts": np.ones((2, 3))}, "square"),
        ((Y_TRUE, Y_PRED), {"class_names": ["a"]}, "class_names"),
    ],
)
def test_confusion_matrix_rejects_bad_input(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        plots.plot_confusion_matrix(*args, **kwargs)


def test_filters_one_image_per_filter_with_a_shared_symmetric_scale(no_show, to_backend):
    w = np.arange(2 * 1 * 3 * 3, dtype=np.float64).reshape(2, 1, 3, 3) - 5.0
    fig = plots.plot_filters(to_backend(w), suptitle="learned")
    images = [im for ax in fig.axes for im in ax.images if im.get_gid() == GID_FILTER]
    assert len(images) == 2
    for k, image in enumerate(images):
        np.testing.assert_array_equal(image.get_array(), w[k, 0])
        assert image.get_clim() == (-12.0, 12.0)
    assert fig.get_suptitle() == "learned"
    assert [ax.get_title() for ax in fig.axes if ax.images] == ["filter 0", "filter 1"]


def test_filters_grid_hides_unused_axes_and_averages_channels(no_show):
    w = np.random.default_rng(0).normal(size=(10, 2, 3, 3))
    fig = plots.plot_filters(w, ncols=4, symmetric=False, titles=[f"f{i}" for i in range(10)])
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(fig.axes) == 12 and len(visible) == 10
    np.testing.assert_allclose(visible[3].images[0].get_array(), w[3].mean(axis=0))
    assert visible[9].get_title() == "f9"


def test_filters_into_given_axes_and_bad_input(no_show):
    fig, axes = plt.subplots(1, 3)
    assert plots.plot_filters(np.ones((3, 2, 2)), axes=axes) is fig
    with pytest.raises(ValueError, match="shape"):
        plots.plot_filters(np.ones((3, 3)))
    with pytest.raises(ValueError, match="axes has 3 axes for 4"):
        plots.plot_filters(np.ones((4, 2, 2)), axes=axes)
    with pytest.raises(ValueError, match="titles"):
        plots.plot_filters(np.ones((2, 2, 2)), titles=["a"])
    with pytest.raises(ValueError, match="ncols"):
        plots.plot_filters(np.ones((2, 2, 2)), ncols=0)
