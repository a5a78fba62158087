"""The momentum explorer: its state (measured vs theoretical rates), its figure and its widget, without a browser."""

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

from gdcourse import functions as F
from gdcourse import plots, rates
from gdcourse.widgets import (
    MomentumExplorer,
    MomentumState,
    draw_momentum_explorer,
    momentum_explorer,
    momentum_explorer_state,
)

VALLEY = F.Quadratic(kappa=50, L=1.0, angle=0.5)


def lines_with_gid(ax, gid):
    return [ln for ln in ax.get_lines() if ln.get_gid() == gid]


# ----------------------------------------------------------------------------- the state function


@pytest.mark.parametrize(("lr", "beta"), [(0.5, 0.8), (1.0, 0.5), (1.5, 0.3)])
def test_measured_rates_match_theory(lr, beta):
    state = momentum_explorer_state(VALLEY, lr=lr, momentum=beta, n_steps=200)
    assert isinstance(state, MomentumState)
    assert [h.label for h in state.histories] == ["GD", "heavy ball", "Nesterov"]
    expected = (
        rates.gd_rate(VALLEY.eigenvalues, lr),
        rates.heavy_ball_rate(VALLEY.eigenvalues, lr, beta),
        rates.nesterov_rate(VALLEY.eigenvalues, lr, beta),
    )
    np.testing.assert_allclose(state.theory, expected)
    for measured, theory in zip(state.measured, state.theory, strict=True):
        assert measured == pytest.approx(theory, rel=0.02)
    assert state.status.startswith(f"η = {lr:.3g}, β = {beta:.3g} — rate per step, measured (theory): GD: ")
    for name, measured, theory in zip(("GD", "heavy ball", "Nesterov"), state.measured, state.theory, strict=True):
        assert f"{name}: {measured:.3g} ({theory:.3g})" in state.status


def test_momentum_beats_gd_on_an_ill_conditioned_bowl():
    best_lr, best_beta, best_rate = rates.optimal_heavy_ball(VALLEY.L, VALLEY.mu)
    state = momentum_explorer_state(VALLEY, lr=1.0, momentum=0.7, n_steps=150)
    gd, heavy_ball, nesterov = state.measured
    assert heavy_ball < gd and nesterov < gd
    assert f"best heavy ball: η = {best_lr:.3g}, β = {best_beta:.3g} → {best_rate:.3g}" in state.status


def test_status_reports_divergence_with_the_theoretical_rate_above_one():
    # η = 2.1 > 2/L: GD diverges; heavy ball's limit is 2(1+β)/L, so it survives with β = 0.3
    state = momentum_explorer_state(VALLEY, lr=2.1, momentum=0.3, n_steps=150)
    gd, heavy_ball, nesterov = state.histories
    assert gd.stop_reason == "diverged" and math.isnan(state.measured[0]) and state.theory[0] > 1
    assert f"GD: diverged at step {gd.n_iter} ({state.theory[0]:.3g})" in state.status
    assert heavy_ball.stop_reason != "diverged" and state.theory[1] < 1
    assert nesterov.stop_reason == "diverged"


def test_rate_at_the_rounding_floor_is_not_measured():
    round_bowl = F.Quadratic(kappa=1.0, L=1.0, center=(1.0, 2.0))
    state = momentum_explorer_state(round_bowl, lr=1.0, momentum=0.0, n_steps=10)  # GD lands in one step
    assert math.isnan(state.measured[0]) and "GD: converged to rounding (0)" in state.status


def test_objective_without_eigenvalues_has_no_theory():
    state = momentum_explorer_state(F.Rosenbrock(), theta0=[-1.0, 1.0], lr=1e-3, momentum=0.9, n_steps=50)
    assert all(math.isnan(t) for t in state.theory)
    assert "rate per step, measured:" in state.status and "best heavy ball" not in state.status


def test_state_is_the_same_on_every_backend(backend, to_backend):
    reference = momentum_explorer_state(VALLEY, theta0=np.asarray(VALLEY.start), lr=0.7, momentum=0.6, n_steps=40)
    state = momentum_explorer_state(VALLEY, theta0=to_backend(VALLEY.start), lr=0.7, momentum=0.6, n_steps=40)
    assert state.status == reference.status
    for h, r in zip(state.histories, reference.histories, strict=True):
        np.testing.assert_allclose(h.path, r.path, rtol=1e-12, atol=1e-15)


# ----------------------------------------------------------------------------- the figure


def test_draw_shows_three_paths_and_their_errors_with_theory():
    state = momentum_explorer_state(VALLEY, lr=0.5, momentum=0.8, n_steps=60)
    fig = draw_momentum_explorer(VALLEY, state)
    assert isinstance(fig, Figure)
    ax_path, ax_err = fig.axes[:2]
    paths = plots.trajectory_lines(ax_path)
    assert len(paths) == 3
    for line, history in zip(paths, state.histories, strict=True):
        np.testing.assert_array_equal(line.get_xdata(), history.path[:, 0])
    errors = lines_with_gid(ax_err, "error")
    assert [ln.get_label() for ln in errors] == ["GD", "heavy ball", "Nesterov"]
    np.testing.assert_allclose(errors[1].get_ydata(), np.linalg.norm(state.histories[1].path, axis=1))
    theory = lines_with_gid(ax_err, "theory")
    assert len(theory) == 3
    ratio = theory[0].get_ydata()[1:] / theory[0].get_ydata()[:-1]
    np.testing.assert_allclose(ratio, state.theory[0])
    assert ax_err.get_yscale() == "log"
    # colours match between the panels
    assert [ln.get_color() for ln in paths] == [ln.get_color() for ln in errors]
    again = draw_momentum_explorer(VALLEY, state, fig=fig, title="status")
    assert again is fig and len(plots.trajectory_lines(fig.axes[0])) == 3 and fig.get_suptitle() == "status"


def test_draw_omits_theory_for_a_diverged_run():
    state = momentum_explorer_state(VALLEY, lr=2.1, momentum=0.3, n_steps=150)
    fig = draw_momentum_explorer(VALLEY, state)
    assert len(lines_with_gid(fig.axes[1], "theory")) == 1  # heavy ball only


def test_window_stays_fixed_while_the_sliders_move():
    windows = set()
    for lr, beta in [(0.2, 0.0), (1.0, 0.9), (2.5, 0.5)]:
        fig = draw_momentum_explorer(VALLEY, momentum_explorer_state(VALLEY, lr=lr, momentum=beta, n_steps=50))
        windows.add((fig.axes[0].get_xlim(), fig.axes[0].get_ylim()))
    assert len(windows) == 1


# ----------------------------------------------------------------------------- the widget


def test_explorer_is_a_vbox_with_a_stable_repr():
    explorer = momentum_explorer(VALLEY, lr=0.5, momentum=0.8, n_steps=60)
    assert isinstance(explorer, MomentumExplorer) and isinstance(explorer, ipywidgets.VBox)
    text = explorer._repr_mimebundle_()["text/plain"]
    assert text == repr(explorer) == "MomentumExplorer(quadratic κ=50, η=0.5, β=0.80, n_steps=60)"
    assert not re.search(r"0x[0-9a-f]+|[0-9a-f]{32}", text)
    assert isinstance(explorer.lr_slider, ipywidgets.FloatLogSlider)
    assert isinstance(explorer.momentum_slider, ipywidgets.FloatSlider)
    assert explorer.momentum_slider.max == 0.99
    low, high = 10**explorer.lr_slider.min, 10**explorer.lr_slider.max
    assert low == pytest.approx(0.01) and high == pytest.approx(4.0)  # 2/L and 2(1+β)/L inside
    (out,) = explorer.output.outputs
    assert base64.b64decode(out["data"]["image/png"]).startswith(b"\x89PNG")
    assert "rate per step" in explorer.status.value


def test_moving_the_momentum_slider_redraws():
    explorer = momentum_explorer(VALLEY, lr=0.5, momentum=0.0, n_steps=60)
    gd, hb, _ = explorer.state.histories
    np.testing.assert_allclose(gd.path, hb.path)  # β = 0: heavy ball is GD
    before_png = explorer.output.outputs[0]["data"]["image/png"]
    explorer.momentum_slider.value = 0.8
    _, hb, _ = explorer.state.histories
    assert not np.allclose(gd.path, hb.path)
    np.testing.assert_array_equal(plots.trajectory_lines(explorer.figure.axes[0])[1].get_xdata(), hb.path[:, 0])
    assert explorer.output.outputs[0]["data"]["image/png"] != before_png
    assert "β = 0.8" in explorer.status.value
    assert repr(explorer) == "MomentumExplorer(quadratic κ=50, η=0.5, β=0.80, n_steps=60)"


def test_moving_lr_past_the_limit_shows_the_warning_colour():
    explorer = momentum_explorer(VALLEY, lr=0.5, momentum=0.3, n_steps=150)
    assert "#D55E00" not in explorer.status.value
    explorer.lr_slider.value = 2.1
    assert "diverged" in explorer.status.value and "#D55E00" in explorer.status.value
    explorer.steps_slider.value = 40
    assert all(h.n_iter <= 40 for h in explorer.state.histories)


def test_errors_in_a_slider_callback_show_in_the_status():
    explorer = momentum_explorer(VALLEY)

    class Broken:
        dim, name = 2, "broken"

        def value(self, theta):
            raise RuntimeError("boom")

        grad = value

    explorer.objective = Broken()
    explorer.momentum_slider.value = 0.5
    assert "error: boom" in explorer.status.value


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"lr": 50.0}, "outside lr_range"),
        ({"lr_range": (1.0, 0.1)}, "lr_range"),
        ({"momentum": 1.0}, "momentum"),
        ({"n_steps": 1}, "n_steps"),
        ({"n_steps": 100, "max_steps": 50}, "max_steps"),
    ],
)
def test_explorer_rejects_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        momentum_explorer(VALLEY, **kwargs)
