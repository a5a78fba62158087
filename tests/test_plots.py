"""Tests of gdcourse.plots: the figures hold the data they claim to show, on every backend."""

from __future__ import annotations

import math
import warnings

import matplotlib

matplotlib.use("Agg")  # only inside this test process; notebook tests keep the inline backend

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.contour import ContourSet
from matplotlib.figure import Figure

from gdcourse import functions as F
from gdcourse import plots
from gdcourse.backend import to_numpy
from gdcourse.descent import History, minimize


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def no_show(monkeypatch):
    """Fail if a plotting function calls plt.show() itself."""

    def forbidden(*args, **kwargs):
        raise AssertionError("plotting functions must not call plt.show()")

    monkeypatch.setattr(plt, "show", forbidden)


def run(objective, lr, max_iter=100, theta0=None):
    start = np.asarray(objective.start if theta0 is None else theta0, dtype=np.float64)
    return minimize(objective, start, lr=lr, max_iter=max_iter, on_divergence="stop")


def lines_with_gid(fig_or_ax, gid):
    axes = fig_or_ax.axes if isinstance(fig_or_ax, Figure) else [fig_or_ax]
    return [ln for ax in axes for ln in ax.get_lines() if ln.get_gid() == gid]


def legend_texts(ax):
    legend = ax.get_legend()
    return [t.get_text() for t in legend.get_texts()] if legend else []


def draw_strictly(fig):
    """Render the figure with every warning turned into an error (overflow in ticks, NaN paths ...)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig.canvas.draw()


def assert_same(a, b):
    np.testing.assert_array_equal(np.asarray(a, dtype=float), np.asarray(b, dtype=float))


# ----------------------------------------------------------------------------- style


def test_course_style_palette_fonts_and_no_latex():
    before = dict(plt.rcParams)
    with matplotlib.rc_context():
        plots.use_course_style()
        colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        assert [c.upper().lstrip("#") for c in colors] == [c.lstrip("#") for c in plots.PALETTE]
        assert plt.rcParams["font.size"] >= 13
        assert plt.rcParams["text.usetex"] is False
        assert plt.rcParams["axes.grid"] is True
    assert plt.rcParams["font.size"] == before["font.size"]  # rc_context restored the previous style


def test_course_style_context_manager_restores():
    before = plt.rcParams["axes.prop_cycle"]
    with plots.course_style():
        assert plt.rcParams["axes.prop_cycle"].by_key()["color"][0].upper().lstrip("#") == plots.PALETTE[0].lstrip("#")
    assert plt.rcParams["axes.prop_cycle"] == before


def test_style_file_is_shipped_next_to_the_package():
    assert plots.COURSE_STYLE.is_file()
    assert plots.COURSE_STYLE.name == "course.mplstyle"


# ----------------------------------------------------------------------------- contour


@pytest.mark.parametrize(
    ("objective", "lrs"),
    [
        (F.Quadratic(kappa=10), (0.3, 1.0, 1.9)),
        (F.Quadratic(kappa=25, angle=0.6), (0.5,)),
        (F.Rosenbrock(), (1e-3, 1.5e-3)),
        (F.Beale(), (0.01,)),
        (F.Himmelblau(), (0.005, 0.01)),
    ],
    ids=lambda v: getattr(v, "name", None),
)
def test_contour_lines_are_the_paths_with_their_labels(objective, lrs, no_show):
    histories = [run(objective, lr) for lr in lrs]
    fig = plots.plot_contour(objective, histories)
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    lines = plots.trajectory_lines(fig)
    assert len(lines) == len(histories)
    for line, h in zip(lines, histories, strict=True):
        assert_same(line.get_xdata(), h.path[:, 0])
        assert_same(line.get_ydata(), h.path[:, 1])
    # start and end markers sit on the first and last iterate of each run
    for marker, h in zip(lines_with_gid(ax, "start"), histories, strict=True):
        assert_same([marker.get_xdata()[0], marker.get_ydata()[0]], h.path[0])
    for marker, h in zip(lines_with_gid(ax, "end"), histories, strict=True):
        assert_same([marker.get_xdata()[0], marker.get_ydata()[0]], h.path[-1])
    assert legend_texts(ax)[: len(histories)] == [h.label for h in histories]
    assert legend_texts(ax)[-1] in ("minimum", "minima")
    (minima,) = lines_with_gid(ax, "minima")
    assert_same(np.column_stack([minima.get_xdata(), minima.get_ydata()]), np.stack(objective.minima))
    (contours,) = [c for c in ax.collections if isinstance(c, ContourSet)]
    levels = np.asarray(contours.levels)
    assert levels.size >= 5
    assert np.all(np.isfinite(levels))
    assert np.all(np.diff(levels) > 0)
    draw_strictly(fig)


def test_contour_levels_are_log_spaced_above_the_minimum():
    obj = F.Rosenbrock()
    x, y = np.meshgrid(np.linspace(-2, 2, 101), np.linspace(-1, 3, 101))
    z = obj.value(np.stack([x, y]))
    levels = plots.contour_levels(z, obj.f_min, n=15)
    assert levels.size == 15
    assert levels[0] > obj.f_min
    gaps = levels - obj.f_min
    ratios = gaps[1:] / gaps[:-1]
    np.testing.assert_allclose(ratios, ratios[0], rtol=1e-9)  # geometric: log-spaced
    assert levels[0] < 1.0 < 100.0 < levels[-1]  # the valley floor and the walls both get levels
    linear = plots.contour_levels(z, obj.f_min, n=15, log=False)
    np.testing.assert_allclose(np.diff(linear), np.diff(linear)[0])


def test_contour_levels_ignore_nan_and_reject_nothing_finite():
    z = np.array([[0.0, 1.0], [np.nan, 4.0]])
    levels = plots.contour_levels(z, 0.0, n=5)
    assert np.all(np.isfinite(levels)) and np.all(np.diff(levels) > 0)
    with pytest.raises(ValueError, match="not finite anywhere"):
        plots.contour_levels(np.full((3, 3), np.nan))


def test_contour_accepts_explicit_levels_and_rejects_bad_ones():
    obj = F.Quadratic()
    fig = plots.plot_contour(obj, levels=[0.1, 0.5, 1.0])
    (contours,) = [c for c in fig.axes[0].collections if isinstance(c, ContourSet)]
    assert_same(contours.levels, [0.1, 0.5, 1.0])
    with pytest.raises(ValueError, match="strictly increasing"):
        plots.plot_contour(obj, levels=[1.0, 0.5])


def test_contour_with_a_diverged_run_draws_without_warnings(no_show):
    obj = F.Quadratic(kappa=10, L=1.0)
    good, bad = run(obj, 1.0, 50), run(obj, 2.5, 500)
    assert bad.stop_reason == "diverged"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plots.plot_contour(obj, [good, bad])
    draw_strictly(fig)
    ax = fig.axes[0]
    labels = legend_texts(ax)
    assert labels[0] == good.label
    assert labels[1] == f"{bad.label} — diverged at step {bad.n_iter}"
    assert len(lines_with_gid(ax, "end")) == 1  # no "end" cross for the run that blew up
    # the window stays on the objective's domain: the diverged run leaves it instead of rescaling it
    assert ax.get_xlim() == pytest.approx(obj.domain[0])
    assert ax.get_ylim() == pytest.approx(obj.domain[1])
    # finite iterates are drawn exactly, the rest are gaps
    line = plots.trajectory_lines(fig)[1]
    finite = np.isfinite(bad.path[:, 0])
    assert_same(line.get_xdata()[finite], bad.path[finite, 0])


def test_contour_with_non_finite_path_entries_draws_without_warnings():
    obj = F.Quadratic()
    path = np.array([[1.0, 1.0], [-3.0, 2.0], [1e200, -1e200], [np.inf, np.nan]])
    h = History(path=path, losses=np.array([1.0, 5.0, 1e300, np.inf]), grad_norms=np.ones(4), lrs=np.ones(3),
                stop_reason="diverged", message="", theta=path[-1], label="blow-up")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plots.plot_contour(obj, h)
        draw_strictly(fig)
        fig2 = plots.plot_loss(h)
        draw_strictly(fig2)
    x = plots.trajectory_lines(fig)[0].get_xdata()
    assert_same(x[:3], path[:3, 0])
    assert np.isnan(x[3])


def test_contour_window_grows_to_show_the_start():
    obj = F.Quadratic(kappa=4)
    h = run(obj, 0.5, 30, theta0=[5.0, -0.5])
    fig = plots.plot_contour(obj, h)
    lo, hi = fig.axes[0].get_xlim()
    assert lo <= -3.0 and hi >= 5.0


def test_contour_draws_into_given_axes_and_returns_its_figure(no_show):
    obj = F.Himmelblau()
    fig, (ax1, ax2) = plt.subplots(1, 2)
    n_figures = len(plt.get_fignums())
    out = plots.plot_contour(obj, run(obj, 0.01), ax=ax2)
    assert out is fig
    assert len(plt.get_fignums()) == n_figures
    assert len(plots.trajectory_lines(ax2)) == 1 and plots.trajectory_lines(ax1) == []


def test_contour_rejects_wrong_dimensions_and_axes():
    with pytest.raises(ValueError, match="2-D objective"):
        plots.plot_contour(F.DoubleWell())
    with pytest.raises(ValueError, match="expected 2"):
        plots.plot_contour(F.Quadratic(), [np.zeros((4, 3))])
    with pytest.raises(TypeError, match="Axes"):
        plots.plot_contour(F.Quadratic(), ax="left")


def test_contour_needs_a_window_without_domain():
    class Bowl:
        dim = 2

        def value(self, theta):
            return theta[0] ** 2 + theta[1] ** 2

    with pytest.raises(ValueError, match="window"):
        plots.plot_contour(Bowl())
    fig = plots.plot_contour(Bowl(), [np.array([[1.0, 1.0], [0.5, 0.5]])], window=[(-1, 1), (-1, 1)])
    assert plots.trajectory_lines(fig)[0].get_label() == "run 1"


# ----------------------------------------------------------------------------- 1-D trace


def test_trace_1d_shows_iterates_on_the_curve(no_show):
    obj = F.DoubleWell()
    histories = [run(obj, 0.01, 60), run(obj, 0.05, 60), run(obj, 0.3, 60)]
    assert histories[-1].stop_reason == "diverged"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plots.plot_trace_1d(obj, histories)
    draw_strictly(fig)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    lines = plots.trajectory_lines(fig)
    assert len(lines) == 3
    for line, h in zip(lines, histories, strict=True):
        finite = np.isfinite(h.losses)
        assert_same(line.get_xdata()[finite], h.path[finite, 0])
        assert_same(line.get_ydata()[finite], h.losses[finite])
    labels = legend_texts(ax)
    assert labels[1:4] == [histories[0].label, histories[1].label,
                           f"{histories[2].label} — diverged at step {histories[2].n_iter}"]
    (curve,) = lines_with_gid(ax, "objective")
    assert_same(curve.get_ydata(), obj.value(curve.get_xdata()[None, :]))
    (minima,) = lines_with_gid(ax, "minima")
    assert_same(minima.get_xdata(), [m[0] for m in obj.minima])
    # a run ends in the local minimum it converges to
    np.testing.assert_allclose(lines[1].get_xdata()[-1], obj.minima[1][0], atol=1e-3)


def test_trace_1d_rejects_2d_objective():
    with pytest.raises(ValueError, match="1-D objective"):
        plots.plot_trace_1d(F.Quadratic())


# ----------------------------------------------------------------------------- loss curves


def test_loss_curves_are_the_gaps_on_a_log_scale(no_show):
    obj = F.Quadratic(kappa=10, L=1.0)
    histories = [run(obj, 0.5, 80), run(obj, 1.9, 80)]
    fig = plots.plot_loss(histories, f_min=obj.f_min)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    lines = plots.trajectory_lines(fig)
    assert len(lines) == 2
    for line, h in zip(lines, histories, strict=True):
        assert_same(line.get_xdata(), np.arange(h.n_iter + 1))
        gap = h.losses - obj.f_min
        shown = gap > 0
        assert_same(line.get_ydata()[shown], gap[shown])
    assert legend_texts(ax) == [h.label for h in histories]
    assert "J^*" in ax.get_ylabel()
    draw_strictly(fig)


def test_loss_gap_subtracts_a_nonzero_f_min():
    well = F.DoubleWell()  # f_min is about -3.5: the gap differs from the cost
    h = run(well, 0.02, 40, theta0=[-2.0])
    line = plots.trajectory_lines(plots.plot_loss(h, f_min=well.f_min))[0]
    assert well.f_min < -1
    gap = h.losses - well.f_min
    shown = gap > 0
    assert shown.sum() > 10
    assert_same(line.get_ydata()[shown], gap[shown])
    assert np.all(np.isnan(line.get_ydata()[~shown]))


def test_linear_convergence_is_a_straight_line_on_the_log_scale():
    # GD with step 1/L on a quadratic contracts the gap by (1 - 1/kappa)^2 per step, once the L-direction is gone
    kappa = 10.0
    obj = F.Quadratic(kappa=kappa, L=1.0)
    h = run(obj, 1.0, 60)
    y = np.log10(plots.trajectory_lines(plots.plot_loss(h, f_min=0.0))[0].get_ydata())
    slopes = np.diff(y)[5:]
    np.testing.assert_allclose(slopes, 2 * math.log10(1 - 1 / kappa), rtol=1e-6)


def test_loss_of_a_diverged_run_stops_where_it_stopped(no_show):
    obj = F.Quadratic(kappa=10, L=1.0)
    good, bad = run(obj, 1.0, 200), run(obj, 2.2, 200)
    assert bad.stop_reason == "diverged"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plots.plot_loss([good, bad], f_min=0.0)
    draw_strictly(fig)
    ax = fig.axes[0]
    lines = plots.trajectory_lines(fig)
    assert len(lines[1].get_xdata()) == bad.n_iter + 1
    (cross,) = lines_with_gid(ax, "diverged")
    assert cross.get_xdata()[0] == bad.n_iter
    assert cross.get_ydata()[0] <= ax.get_ylim()[1]
    assert legend_texts(ax)[1].endswith(f"diverged at step {bad.n_iter}")
    lo, hi = ax.get_ylim()
    assert 0 < lo < hi < math.inf


def test_loss_linear_scale_and_raw_arrays():
    fig = plots.plot_loss([[3.0, 2.0, 1.5], np.array([3.0, -1.0, -2.0])], log=False)
    ax = fig.axes[0]
    assert ax.get_yscale() == "linear"
    lines = plots.trajectory_lines(fig)
    assert_same(lines[1].get_ydata(), [3.0, -1.0, -2.0])
    assert legend_texts(ax) == ["run 1", "run 2"]
    assert ax.get_ylabel() == r"$J(\theta_t)$"


def test_loss_against_an_extras_entry():
    h = run(F.Quadratic(), 0.5, 10)
    h.extras["epoch"] = np.arange(11) / 5
    line = plots.trajectory_lines(plots.plot_loss(h, against="epoch"))[0]
    assert_same(line.get_xdata(), np.arange(11) / 5)
    with pytest.raises(ValueError, match="against='time'"):
        plots.plot_loss(h, against="time")


# ----------------------------------------------------------------------------- any backend


def test_every_plot_takes_backend_arrays(backend, to_backend):
    quad, well = F.Quadratic(kappa=5), F.DoubleWell()
    h2 = minimize(quad, to_backend(quad.start), lr=0.5, max_iter=20)
    h1 = minimize(well, to_backend(well.start), lr=0.02, max_iter=20)
    # raw arrays living on the backend (on array_api_strict's device1 they must go through to_numpy)
    path2, path1, losses = to_backend(h2.path), to_backend(h1.path), to_backend(h2.losses)
    raw_history = History(path=path2, losses=losses, grad_norms=to_backend(h2.grad_norms), lrs=to_backend(h2.lrs),
                          stop_reason=h2.stop_reason, message="", theta=h2.theta, label="on the backend")

    fig = plots.plot_contour(quad, [h2, path2, raw_history])
    lines = plots.trajectory_lines(fig)
    for line in lines:
        assert_same(line.get_xdata(), h2.path[:, 0])
        assert_same(line.get_ydata(), h2.path[:, 1])
    assert legend_texts(fig.axes[0])[:3] == [h2.label, "run 2", "on the backend"]

    fig = plots.plot_trace_1d(well, [h1, path1])
    for line in plots.trajectory_lines(fig):
        assert_same(line.get_xdata(), h1.path[:, 0])
        assert_same(line.get_ydata(), h1.losses)

    fig = plots.plot_loss([losses, raw_history], f_min=0.0)
    for line in plots.trajectory_lines(fig):
        assert_same(line.get_ydata(), to_numpy(losses))
    draw_strictly(fig)


def test_plots_return_figures_with_axes():
    obj = F.Quadratic()
    h = run(obj, 0.5, 5)
    for fig in (plots.plot_contour(obj, h), plots.plot_loss(h), plots.plot_trace_1d(F.DoubleWell())):
        assert isinstance(fig, Figure)
        assert all(isinstance(ax, Axes) for ax in fig.axes)
