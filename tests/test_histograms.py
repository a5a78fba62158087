"""Per-layer histograms and statistics (gdcourse.plots.histograms): the figures hold the data they claim to show."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")  # only inside this test process; notebook tests keep the inline backend

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from gdcourse import plots
from gdcourse.autodiff import Tensor
from gdcourse.plots.histograms import GID_LAYER_HISTOGRAM, GID_LAYER_STAT


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def no_show(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("plotting functions must not call plt.show()")

    monkeypatch.setattr(plt, "show", forbidden)


def lines(ax, gid):
    return [ln for ln in ax.get_lines() if ln.get_gid() == gid]


def layers_shrinking(n_layers=10, factor=0.1, size=(200, 30), seed=0):
    """Gaussian values whose std is factor**l at layer l (l = 0, 1, ...)."""
    rng = np.random.default_rng(seed)
    return [factor**layer * rng.standard_normal(size) for layer in range(n_layers)]


# ----------------------------------------------------------------------------- layer_stds


def test_layer_stds_is_the_std_over_every_entry_of_each_layer(backend, to_backend):
    host = layers_shrinking(4, factor=0.5)
    stds = plots.layer_stds([to_backend(v) for v in host])
    assert isinstance(stds, np.ndarray) and stds.shape == (4,)
    np.testing.assert_allclose(stds, [np.std(v) for v in host], rtol=1e-12)


def test_layer_stds_accepts_tensors_and_an_array_of_layers():
    host = layers_shrinking(3)
    np.testing.assert_allclose(plots.layer_stds([Tensor(v) for v in host]), plots.layer_stds(host))
    np.testing.assert_allclose(plots.layer_stds(np.stack(host)), plots.layer_stds(host))


def test_layer_stds_is_nan_for_a_layer_that_overflowed():
    stds = plots.layer_stds([np.ones(3), np.array([1.0, np.inf]), np.array([np.nan])])
    assert stds[0] == 0 and math.isnan(stds[1]) and math.isnan(stds[2])


@pytest.mark.parametrize("bad", [[], "abc", 3.0])
def test_layer_stds_rejects_what_is_not_a_list_of_layers(bad):
    with pytest.raises((TypeError, ValueError), match="values_per_layer"):
        plots.layer_stds(bad)


# ----------------------------------------------------------------------------- plot_layer_stats


def test_one_network_is_one_line_over_layers_one_to_n(no_show):
    stds = np.array([1.0, 0.5, 0.25, 0.125])
    fig = plots.plot_layer_stats(stds, reference=1.0, title="forward")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    (line,) = lines(ax, GID_LAYER_STAT)
    np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3, 4])
    np.testing.assert_array_equal(line.get_ydata(), stds)
    assert ax.get_yscale() == "log" and ax.get_title() == "forward" and ax.get_xlabel() == "layer $l$"
    assert ax.get_legend() is None  # one unlabelled network needs no legend
    assert any(ln.get_linestyle() == ":" and list(ln.get_ydata()) == [1.0, 1.0] for ln in ax.get_lines())


def test_several_networks_from_a_mapping_a_matrix_or_a_list(backend, to_backend):
    a, b = np.array([1.0, 2.0, 4.0]), np.array([1.0, 0.5, 0.25])
    fig = plots.plot_layer_stats({"He": to_backend(a), "small": to_backend(b)})
    got = lines(fig.axes[0], GID_LAYER_STAT)
    assert [ln.get_label() for ln in got] == ["He", "small"]
    np.testing.assert_array_equal(got[1].get_ydata(), b)
    fig = plots.plot_layer_stats(np.stack([a, b]), labels=["x", "y"])
    assert [ln.get_label() for ln in lines(fig.axes[0], GID_LAYER_STAT)] == ["x", "y"]
    fig = plots.plot_layer_stats([a, b[:2]])  # lengths may differ
    got = lines(fig.axes[0], GID_LAYER_STAT)
    assert [ln.get_label() for ln in got] == ["network 1", "network 2"] and len(got[1].get_xdata()) == 2
    fig = plots.plot_layer_stats([1.0, 0.1, 0.01])  # a list of numbers is one network
    np.testing.assert_array_equal(lines(fig.axes[0], GID_LAYER_STAT)[0].get_ydata(), [1.0, 0.1, 0.01])


def test_colours_follow_the_course_palette():
    with plots.course_style():
        fig = plots.plot_layer_stats({"a": [1.0, 2.0], "b": [2.0, 1.0]})
        colors = [ln.get_color() for ln in lines(fig.axes[0], GID_LAYER_STAT)]
    assert [c.lower() for c in colors] == [c.lower() for c in plots.PALETTE[:2]]


def test_values_a_log_axis_cannot_show_leave_a_gap():
    fig = plots.plot_layer_stats(np.array([1.0, 0.0, np.inf, -1.0, 2.0]))
    y = lines(fig.axes[0], GID_LAYER_STAT)[0].get_ydata()
    assert y[0] == 1.0 and y[4] == 2.0 and np.all(np.isnan(y[1:4]))
    fig = plots.plot_layer_stats(np.array([1.0, 0.0, -1.0]), log=False)
    assert fig.axes[0].get_yscale() == "linear"
    np.testing.assert_array_equal(lines(fig.axes[0], GID_LAYER_STAT)[0].get_ydata(), [1.0, 0.0, -1.0])


def test_draws_into_a_given_axes():
    fig, (ax1, ax2) = plt.subplots(1, 2)
    assert plots.plot_layer_stats([1.0, 2.0], ax=ax2) is fig
    assert not lines(ax1, GID_LAYER_STAT) and len(lines(ax2, GID_LAYER_STAT)) == 1


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (([[1.0, 2.0], [3.0, 4.0]],), {"labels": ["one"]}, "labels"),
        (({"a": [1.0]},), {"labels": ["a"]}, "labels"),
        ((np.ones((2, 2, 2)),), {}, "1-D"),
        ((np.array([]),), {}, "1-D"),
        (("abc",), {}, "real numbers"),
    ],
)
def test_plot_layer_stats_rejects_bad_input(args, kwargs, match):
    with pytest.raises((TypeError, ValueError), match=match):
        plots.plot_layer_stats(*args, **kwargs)


# ----------------------------------------------------------------------------- plot_layer_histograms


def test_default_shows_five_spread_layers_as_densities(no_show):
    values = layers_shrinking(10, factor=0.9)
    fig = plots.plot_layer_histograms(values, bins=40, title="h")
    ax = fig.axes[0]
    got = lines(ax, GID_LAYER_HISTOGRAM)
    assert [ln.get_label() for ln in got] == ["layer 1", "layer 3", "layer 5", "layer 8", "layer 10"]
    centres = got[0].get_xdata()
    width = centres[1] - centres[0]
    for line in got:  # each curve is a probability density over the common bins
        assert np.sum(line.get_ydata()) * width == pytest.approx(1.0)
        np.testing.assert_array_equal(line.get_xdata(), centres)
    everything = np.concatenate([values[i].ravel() for i in (0, 2, 4, 7, 9)])
    assert centres[0] - width / 2 == pytest.approx(everything.min())
    assert centres[-1] + width / 2 == pytest.approx(everything.max())
    assert ax.get_xlabel() == "activation value" and ax.get_ylabel() == "density" and ax.get_title() == "h"
    assert got[0].get_color() != got[-1].get_color()


def test_histogram_densities_are_numpys(backend, to_backend):
    values = layers_shrinking(3, factor=0.5)
    fig = plots.plot_layer_histograms([to_backend(v) for v in values], bins=25, value_range=(-2.0, 2.0))
    for line, v in zip(lines(fig.axes[0], GID_LAYER_HISTOGRAM), values, strict=True):
        expected, edges = np.histogram(v, bins=25, range=(-2.0, 2.0), density=True)
        np.testing.assert_allclose(line.get_ydata(), expected)
        np.testing.assert_allclose(line.get_xdata(), (edges[:-1] + edges[1:]) / 2)


def test_relu_zeros_are_not_binned_and_their_share_is_reported():
    rng = np.random.default_rng(1)
    relu = np.maximum(rng.standard_normal(10_000), 0.0)
    share = np.mean(relu == 0)
    fig = plots.plot_layer_histograms([relu, np.abs(rng.standard_normal(100)) + 0.1])
    first, second = lines(fig.axes[0], GID_LAYER_HISTOGRAM)
    assert first.get_label() == f"layer 1 ({share:.0%} zeros)" and second.get_label() == "layer 2"
    centres = first.get_xdata()
    width = centres[1] - centres[0]
    assert np.sum(first.get_ydata()) * width == pytest.approx(1.0)  # a density of the non-zero values
    assert first.get_ydata()[0] < 2.0  # no spike at 0


def test_gradients_are_shown_by_order_of_magnitude():
    values = layers_shrinking(4, factor=0.1, size=(4000,))
    fig = plots.plot_layer_histograms(values, kind="gradients", bins=80)
    ax = fig.axes[0]
    got = lines(ax, GID_LAYER_HISTOGRAM)
    assert "log" in ax.get_xlabel() and "gradient" in ax.get_xlabel()
    centres = got[0].get_xdata()
    peaks = [centres[np.argmax(ln.get_ydata())] for ln in got]
    medians = [np.median(np.log10(np.abs(v))) for v in values]
    # a factor 10 per layer shifts the curve by one unit per layer
    np.testing.assert_allclose(np.diff(medians), -1.0, atol=0.05)
    np.testing.assert_allclose(np.diff(peaks), -1.0, atol=0.35)
    fig = plots.plot_layer_histograms(values, kind="activations", magnitude=True)
    assert "activation" in fig.axes[0].get_xlabel() and "log" in fig.axes[0].get_xlabel()


def test_magnitude_axis_counts_exact_zeros_it_cannot_place():
    fig = plots.plot_layer_histograms([np.array([0.0, 1.0, 10.0, 0.0])], kind="gradients")
    (line,) = lines(fig.axes[0], GID_LAYER_HISTOGRAM)
    assert line.get_label() == "layer 1 (50% zeros)"


def test_chosen_layers_and_non_finite_values():
    values = layers_shrinking(6)
    values[2] = np.array([1.0, np.inf, np.nan, -1.0])
    fig = plots.plot_layer_histograms(values, layers=[3, 6])
    got = lines(fig.axes[0], GID_LAYER_HISTOGRAM)
    assert [ln.get_label() for ln in got] == ["layer 3", "layer 6"]
    assert np.all(np.isfinite(got[0].get_ydata()))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"kind": "weights"}, "kind"),
        ({"layers": [0]}, "numbered 1 to 3"),
        ({"layers": [4]}, "numbered 1 to 3"),
        ({"bins": 0}, "bins"),
        ({"value_range": (1.0, 1.0)}, "value_range"),
    ],
)
def test_plot_layer_histograms_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        plots.plot_layer_histograms(layers_shrinking(3), **kwargs)


def test_histograms_draw_into_a_given_axes():
    fig, (ax1, ax2) = plt.subplots(1, 2)
    assert plots.plot_layer_histograms(layers_shrinking(2), ax=ax1) is fig
    assert len(lines(ax1, GID_LAYER_HISTOGRAM)) == 2 and not lines(ax2, GID_LAYER_HISTOGRAM)
