"""The feature-scaling explorer: the state (κ and steps), the figure and the widget, no browser.

The MSE objective :class:`gdcourse.functions.LinearMSE` is tested in ``test_functions.py``.
"""

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

from gdcourse import backend as B
from gdcourse import functions, plots
from gdcourse.widgets import (
    LinearMSE,
    ScalingExplorer,
    ScalingState,
    draw_scaling_explorer,
    scaling_data,
    scaling_explorer,
    scaling_explorer_state,
)


def test_linear_mse_is_re_exported_from_functions():
    assert LinearMSE is functions.LinearMSE  # it lives with the objectives; old imports keep working


# ----------------------------------------------------------------------------- data and state


def test_data_keep_the_targets_and_change_only_the_units_of_x():
    x1, y1 = scaling_data(1.0, 0.0, seed=4)
    x2, y2 = scaling_data(7.0, -3.0, seed=4)
    np.testing.assert_array_equal(y1, y2)
    np.testing.assert_allclose(x2, -3.0 + 7.0 * x1, rtol=1e-12)
    np.testing.assert_allclose((x1 - x1.mean()) / x1.std(), (x2 - x2.mean()) / x2.std(), atol=1e-12)


def test_standardised_bowl_is_round_and_takes_one_step():
    for scale, offset in [(1.0, 0.0), (5.0, 3.0), (0.2, -4.0)]:
        state = scaling_explorer_state(scale, offset, max_steps=50)  # the raw run need not finish here
        assert isinstance(state, ScalingState)
        assert state.kappas[1] == pytest.approx(1.0, abs=1e-9)
        assert state.steps[1] == 1 and state.converged[1]
        raw, standardised = state.surfaces
        assert raw.f_min == pytest.approx(standardised.f_min, rel=1e-9)  # the same lines, other coordinates
        np.testing.assert_allclose(state.histories[1].path[-1], standardised.global_minimum, atol=1e-9)


def test_steps_grow_with_the_condition_number_as_theory_says():
    """GD with η = 1/L shrinks the flattest direction by 1 − 1/κ per step, so steps ≈ κ · const."""
    tol = 1e-6
    steps, kappas = [], []
    for scale in (1.0, 3.0, 10.0):
        state = scaling_explorer_state(scale, 0.0, tol=tol, max_steps=20_000)
        assert state.converged[0]
        raw = state.surfaces[0]
        assert state.kappas[0] == pytest.approx(raw.kappa)
        np.testing.assert_allclose(state.histories[0].path[-1], raw.global_minimum, rtol=1e-4, atol=1e-6)
        # never slower than the worst case: the gradient shrinks at least by (1 − 1/κ) per step
        assert state.steps[0] <= math.ceil(math.log(tol) / math.log(1 - 1 / raw.kappa))
        steps.append(state.steps[0])
        kappas.append(state.kappas[0])
    assert kappas[0] < kappas[1] < kappas[2] and steps[0] < steps[1] < steps[2]
    assert kappas[2] / kappas[1] == pytest.approx((10 / 3) ** 2, rel=0.1)  # κ ≈ s² for a centred feature
    ratios = [s / k for s, k in zip(steps[1:], kappas[1:], strict=True)]
    assert ratios[1] == pytest.approx(ratios[0], rel=0.25)


def test_status_reports_kappa_and_steps():
    state = scaling_explorer_state(1.0, 2.0)
    assert state.status == (
        f"x = 2 + 1·u: κ = {state.kappas[0]:.3g}, GD (η = 1/L) converged in {state.steps[0]} steps"
        " — standardised: κ = 1, converged in 1 step"
    )
    slow = scaling_explorer_state(1.0, 10.0, max_steps=200)
    assert not slow.converged[0] and slow.steps[0] == 200
    assert "not converged after 200 steps (‖∇J‖ fell only " in slow.status


def test_state_is_the_same_on_every_backend(backend):
    state = scaling_explorer_state(2.0, 1.0)
    with B.using("numpy"):
        reference = scaling_explorer_state(2.0, 1.0)
    assert state.status == reference.status and state.steps == reference.steps
    for history, expected in zip(state.histories, reference.histories, strict=True):
        np.testing.assert_allclose(history.path, expected.path, rtol=1e-10, atol=1e-12)
        assert type(history.theta) is type(backend.xp.asarray(0.0))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"scale": 0.0}, "scale"),
        ({"offset": math.inf}, "offset"),
        ({"tol": 2.0}, "tol"),
        ({"max_steps": 0}, "max_steps"),
        ({"n_samples": 2}, "n_samples"),
    ],
)
def test_state_rejects_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        scaling_explorer_state(**kwargs)


# ----------------------------------------------------------------------------- the figure


def test_draw_shows_both_bowls_and_both_cost_curves():
    state = scaling_explorer_state(3.0, 1.0)
    fig = draw_scaling_explorer(state, title="status")
    assert isinstance(fig, Figure) and len(fig.axes) == 3 and fig.get_suptitle() == "status"
    for ax, history, surface in zip(fig.axes[:2], state.histories, state.surfaces, strict=True):
        (line,) = plots.trajectory_lines(ax)
        np.testing.assert_array_equal(line.get_xdata(), history.path[:, 0])
        assert ax.get_xlim() == pytest.approx(surface.domain[0]) and ax.get_aspect() == 1.0
        assert f"κ = {surface.kappa:.3g}" in ax.get_title()
    gaps = [ln for ln in fig.axes[2].get_lines() if ln.get_gid() == "gap"]
    assert len(gaps) == 2 and fig.axes[2].get_yscale() == "log"
    floor = next(ln for ln in fig.axes[2].get_lines() if ln.get_gid() == "floor").get_ydata()[0]
    for line, history, surface in zip(gaps, state.histories, state.surfaces, strict=True):
        np.testing.assert_allclose(line.get_ydata(), np.maximum(history.losses - surface.f_min, floor))
    assert draw_scaling_explorer(state, fig=fig) is fig and len(fig.axes) == 3  # redrawn, not added


# ----------------------------------------------------------------------------- the widget


def test_explorer_is_a_vbox_with_a_stable_repr():
    explorer = scaling_explorer(2.0, 1.0)
    assert isinstance(explorer, ScalingExplorer) and isinstance(explorer, ipywidgets.VBox)
    text = explorer._repr_mimebundle_()["text/plain"]
    assert text == repr(explorer) == "ScalingExplorer(scale=2, offset=1, max_steps=5000)"
    assert not re.search(r"0x[0-9a-f]+|[0-9a-f]{32}", text)
    assert isinstance(explorer.scale_slider, ipywidgets.FloatLogSlider)
    assert isinstance(explorer.offset_slider, ipywidgets.FloatSlider)
    (out,) = explorer.output.outputs
    assert base64.b64decode(out["data"]["image/png"]).startswith(b"\x89PNG")
    assert "κ = 1, converged in 1 step" in explorer.status.value


def test_moving_the_sliders_redraws():
    explorer = scaling_explorer(1.0, 8.0, max_steps=300)
    assert explorer.state.steps[0] == 300 and not explorer.state.converged[0]
    assert "#D55E00" in explorer.status.value  # not converged: warning colour
    before_png = explorer.output.outputs[0]["data"]["image/png"]
    explorer.offset_slider.value = 0.0
    assert explorer.state.converged[0] and explorer.state.steps[0] < 300
    assert "#D55E00" not in explorer.status.value
    assert explorer.output.outputs[0]["data"]["image/png"] != before_png
    steps = explorer.state.steps[0]
    explorer.scale_slider.value = 3.0
    assert explorer.state.steps[0] > steps  # κ ≈ s² for a centred feature
    assert repr(explorer) == "ScalingExplorer(scale=3, offset=0, max_steps=300)"


def test_errors_in_a_slider_callback_show_in_the_status():
    explorer = scaling_explorer(1.0, 0.0)
    explorer.options = {**explorer.options, "tol": -1.0}
    explorer.scale_slider.value = 2.0
    assert "error: tol must be" in explorer.status.value


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"scale": 100.0}, "outside scale_range"),
        ({"scale_range": (1.0, 0.1)}, "scale_range"),
        ({"offset": 20.0}, "outside offset_range"),
        ({"offset_range": (1.0, -1.0)}, "offset_range"),
        ({"max_steps": 0}, "max_steps"),
        ({"noise": -1.0}, "noise"),
    ],
)
def test_explorer_rejects_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        scaling_explorer(**kwargs)
