"""The batch-size explorer: its state (minibatch SGD beside full-batch GD), figure and widget, without a browser."""

from __future__ import annotations

import base64
import math
import re

import matplotlib

matplotlib.use("Agg")  # only inside this test process; notebooks keep the inline backend

import ipywidgets
import numpy as np
import pytest
from matplotlib.figure import Figure

from gdcourse import plots
from gdcourse.backend import asarray
from gdcourse.stochastic import LeastSquares, gradient_variance, sgd_run
from gdcourse.widgets import BatchExplorer, BatchState, batch_explorer, batch_explorer_state, draw_batch_explorer


def make_problem(n=400, seed=5):
    g = np.random.default_rng(seed)
    x = g.normal(1.0, 1.0, n)
    X = np.stack([x, np.ones(n)], axis=1)
    return LeastSquares(X, X @ np.array([2.0, -1.0]) + 0.5 * g.normal(size=n))


PROBLEM = make_problem()


def lines_with_gid(ax, gid):
    return [ln for ln in ax.get_lines() if ln.get_gid() == gid]


# ----------------------------------------------------------------------------- the state function


def test_state_runs_minibatch_sgd_and_full_batch_gd_with_the_same_lr():
    state = batch_explorer_state(PROBLEM, batch_size=32, lr=0.1, epochs=5, seed=3)
    assert isinstance(state, BatchState)
    run, full = state.run, state.full
    assert run.n_iter == 5 * 13 and full.n_iter == 5  # ceil(400 / 32) = 13 updates per epoch
    assert run.label == "B = 32" and full.label == "full batch (B = 400)"
    again = sgd_run(PROBLEM, np.zeros(2), PROBLEM.X, PROBLEM.y, batch_size=32, lr=0.1, epochs=5, seed=3)
    np.testing.assert_array_equal(run.theta, again.theta)  # the same seeded run as sgd_run
    np.testing.assert_allclose(run.epochs[-1], 5.0) and np.testing.assert_allclose(full.epochs, np.arange(6))
    sigma2 = gradient_variance(PROBLEM.per_example_grads(PROBLEM.global_minimum))
    assert state.noise_floor == pytest.approx(0.1 * sigma2 / (4 * 32))
    gap = run.final_loss - PROBLEM.f_min
    assert state.status == (
        f"B = 32: 13 updates per epoch, 65 in 5 epochs → J − J* = {gap:.2g} (noise floor ≈ {state.noise_floor:.2g})"
        f" · full batch: 5 updates → J − J* = {full.final_loss - PROBLEM.f_min:.2g}"
        f" · η = 0.1 < 2/L = {2 / PROBLEM.L:.3g}"
    )


def test_b_equal_n_is_the_full_batch_run_and_has_no_noise_floor():
    state = batch_explorer_state(PROBLEM, batch_size=400, lr=0.3, epochs=4)
    np.testing.assert_array_equal(state.run.path, state.full.path)
    assert state.noise_floor == 0.0 and "noise floor" not in state.status
    assert state.status.startswith("B = 400: 1 update per epoch, 4 in 4 epochs")


def test_stochastic_runs_record_a_bounded_number_of_points():
    state = batch_explorer_state(PROBLEM, batch_size=1, lr=0.05, epochs=3)
    assert state.run.n_iter == 1200
    assert len(state.run.losses) <= 3 * 50 + 4  # about RECORDS_PER_EPOCH per epoch, plus the epoch ends


def test_status_reports_divergence_above_two_over_L():
    lr = 1.3 * 2 / PROBLEM.L
    state = batch_explorer_state(PROBLEM, batch_size=64, lr=lr, epochs=20)
    assert state.full.stop_reason == "diverged" and state.run.stop_reason == "diverged"
    assert f"→ diverged at update {state.run.n_iter}" in state.status
    assert f"η = {lr:.3g} > 2/L" in state.status and "noise floor" not in state.status


def test_state_is_the_same_on_every_backend(backend, to_backend):
    problem = LeastSquares(to_backend(PROBLEM.X), to_backend(PROBLEM.y))
    state = batch_explorer_state(problem, batch_size=16, lr=0.2, epochs=2, theta0=asarray(np.zeros(2)))
    reference = batch_explorer_state(PROBLEM, batch_size=16, lr=0.2, epochs=2)
    assert state.status == reference.status
    np.testing.assert_allclose(state.run.path, reference.run.path, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"batch_size": 0}, ValueError, "batch_size must be an integer from 1 to n_samples=400"),
        ({"batch_size": 401}, ValueError, "batch_size"),
        ({"epochs": 0}, ValueError, "epochs must be a positive integer"),
    ],
)
def test_state_rejects_bad_parameters(kwargs, error, match):
    with pytest.raises(error, match=match):
        batch_explorer_state(PROBLEM, **{"batch_size": 8, "lr": 0.1, **kwargs})


def test_only_two_parameter_least_squares_problems():
    with pytest.raises(TypeError, match="LeastSquares"):
        batch_explorer_state(object(), 8, 0.1)
    three = LeastSquares(np.random.default_rng(0).normal(size=(20, 3)), np.zeros(20))
    with pytest.raises(ValueError, match="dim=3"):
        batch_explorer(three)


# ----------------------------------------------------------------------------- the figure


def test_draw_shows_both_paths_both_gaps_and_the_floor():
    state = batch_explorer_state(PROBLEM, batch_size=8, lr=0.1, epochs=4)
    fig = draw_batch_explorer(PROBLEM, state)
    assert isinstance(fig, Figure)
    ax_path, ax_gap = fig.axes[:2]
    paths = plots.trajectory_lines(ax_path)
    assert len(paths) == 2
    np.testing.assert_array_equal(paths[0].get_xdata(), state.full.path[:, 0])
    np.testing.assert_array_equal(paths[1].get_ydata(), state.run.path[:, 1])
    gaps = lines_with_gid(ax_gap, "gap")
    assert [ln.get_label() for ln in gaps] == ["full batch (B = 400)", "B = 8"]
    np.testing.assert_allclose(gaps[1].get_xdata(), state.run.epochs)
    np.testing.assert_allclose(gaps[1].get_ydata(), state.run.losses - PROBLEM.f_min)
    (floor,) = lines_with_gid(ax_gap, "floor")
    assert floor.get_ydata()[0] == pytest.approx(state.noise_floor)
    assert ax_gap.get_yscale() == "log" and ax_gap.get_xlabel() == "epoch"
    assert [ln.get_color() for ln in paths] == [ln.get_color() for ln in gaps]  # colours match between panels
    again = draw_batch_explorer(PROBLEM, state, fig=fig, title="status")
    assert again is fig and len(plots.trajectory_lines(fig.axes[0])) == 2 and fig.get_suptitle() == "status"


def test_window_and_scale_stay_fixed_while_the_sliders_move():
    frames = set()
    for B, lr in [(1, 0.02), (32, 0.3), (400, 0.7), (8, 0.9)]:
        fig = draw_batch_explorer(PROBLEM, batch_explorer_state(PROBLEM, B, lr, 3))
        frames.add((fig.axes[0].get_xlim(), fig.axes[0].get_ylim(), fig.axes[1].get_ylim()))
    assert len(frames) == 1


def test_no_floor_line_for_the_full_batch():
    state = batch_explorer_state(PROBLEM, batch_size=400, lr=0.3, epochs=3)
    assert lines_with_gid(draw_batch_explorer(PROBLEM, state).axes[1], "floor") == []


# ----------------------------------------------------------------------------- the widget


def test_explorer_is_a_vbox_with_a_stable_repr():
    explorer = batch_explorer(PROBLEM, batch_size=32, lr=0.1, epochs=5)
    assert isinstance(explorer, BatchExplorer) and isinstance(explorer, ipywidgets.VBox)
    text = explorer._repr_mimebundle_()["text/plain"]
    assert text == repr(explorer) == "BatchExplorer(n=400, B=32, η=0.1, epochs=5)"
    assert not re.search(r"0x[0-9a-f]+|[0-9a-f]{32}", text)
    assert list(explorer.batch_slider.options) == [1, 2, 4, 8, 16, 32, 64, 128, 256, 400]
    low, high = 10**explorer.lr_slider.min, 10**explorer.lr_slider.max
    assert low == pytest.approx(0.01 / PROBLEM.L) and high == pytest.approx(3 / PROBLEM.L)  # 2/L inside
    (out,) = explorer.output.outputs
    assert base64.b64decode(out["data"]["image/png"]).startswith(b"\x89PNG")
    assert "updates per epoch" in explorer.status.value


def test_an_unusual_initial_batch_size_is_offered_on_the_slider():
    explorer = batch_explorer(PROBLEM, batch_size=50, lr=0.1, epochs=2)
    assert 50 in explorer.batch_slider.options and explorer.batch_slider.value == 50


def test_moving_the_batch_slider_redraws():
    explorer = batch_explorer(PROBLEM, batch_size=32, lr=0.1, epochs=3)
    before_png = explorer.output.outputs[0]["data"]["image/png"]
    explorer.batch_slider.value = 4
    assert explorer.state.run.n_iter == 3 * 100
    np.testing.assert_array_equal(plots.trajectory_lines(explorer.figure.axes[0])[1].get_xdata(),
                                  explorer.state.run.path[:, 0])
    assert explorer.output.outputs[0]["data"]["image/png"] != before_png
    assert "B = 4: 100 updates per epoch" in explorer.status.value
    assert repr(explorer) == "BatchExplorer(n=400, B=4, η=0.1, epochs=3)"
    explorer.epochs_slider.value = 1
    assert explorer.state.run.n_iter == 100


def test_moving_lr_past_two_over_L_shows_the_warning_colour():
    explorer = batch_explorer(PROBLEM, batch_size=32, lr=0.1, epochs=5)
    assert "#D55E00" not in explorer.status.value
    explorer.lr_slider.value = 1.2 * 2 / PROBLEM.L
    assert "#D55E00" in explorer.status.value and "&gt; 2/L" in explorer.status.value


def test_errors_in_a_slider_callback_show_in_the_status():
    explorer = batch_explorer(PROBLEM, epochs=2)
    explorer.problem = object()
    explorer.batch_slider.value = 8
    assert "error: problem must be a gdcourse.stochastic.LeastSquares" in explorer.status.value


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"lr": 50.0}, "outside lr_range"),
        ({"lr_range": (1.0, 0.1)}, "lr_range"),
        ({"batch_size": 0}, "batch_size"),
        ({"epochs": 60}, "epochs must be an integer from 1 to max_epochs=50"),
    ],
)
def test_explorer_rejects_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        batch_explorer(PROBLEM, **kwargs)


def test_lr_range_default_contains_the_stability_limit():
    explorer = batch_explorer(PROBLEM, lr=0.2, epochs=1)
    assert 10**explorer.lr_slider.min < 2 / PROBLEM.L < 10**explorer.lr_slider.max
    assert math.isclose(explorer.lr_slider.value, 0.2)
