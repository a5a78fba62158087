"""The precision explorer: the state (runs and verdict), the figure and the widget, without a browser."""

from __future__ import annotations

import base64
import re

import matplotlib

matplotlib.use("Agg")  # only inside this test process; notebooks keep the inline backend

import ipywidgets
import numpy as np
import pytest
from matplotlib.figure import Figure

from gdcourse import precision
from gdcourse.widgets.precision import (
    PrecisionExplorer,
    draw_precision_explorer,
    precision_explorer,
    precision_explorer_state,
)


@pytest.fixture(scope="module")
def problem():
    return precision.regression_data(seed=0)


@pytest.fixture(scope="module")
def reference(problem):
    return precision.train_linear(*problem, dtype="float32")


def test_float16_fails_and_the_recipe_matches_float32(problem, reference):
    failed = precision_explorer_state(*problem, reference=reference)
    assert "fails" in failed.status and "100%" in failed.status
    fixed = precision_explorer_state(*problem, master=True, log2_scale=16, reference=reference)
    assert "matches float32" in fixed.status and "rounded to 0 at the end: 0%" in fixed.status
    assert fixed.run.final_loss == pytest.approx(reference.final_loss, rel=0.01)
    dynamic = precision_explorer_state(*problem, master=True, log2_scale=32, dynamic=True, reference=reference)
    assert "matches float32" in dynamic.status and dynamic.run.skipped.sum() > 0
    lost = precision_explorer_state(*problem, master=True, log2_scale=32, reference=reference)
    assert "the run is lost" in lost.status
    same = precision_explorer_state(*problem, dtype="float64", master=True, reference=reference)
    assert same.run.master_dtype == "float64" and "matches float32" in same.status  # master only for float16


def test_state_computes_its_reference_and_checks_arguments(problem):
    state = precision_explorer_state(*problem, dtype="float32", steps=10)
    assert state.reference.n_steps == 10 and "matches float32" in state.status
    with pytest.raises(ValueError, match="dtype"):
        precision_explorer_state(*problem, dtype="int8")
    with pytest.raises(ValueError, match="log2_scale"):
        precision_explorer_state(*problem, log2_scale=-1)


def test_draw_shows_losses_underflow_and_scale(problem, reference):
    state = precision_explorer_state(*problem, master=True, log2_scale=32, dynamic=True, reference=reference)
    fig = draw_precision_explorer(state, title="status")
    assert isinstance(fig, Figure) and len(fig.axes) == 3 and fig.get_suptitle() == "status"
    lines = {line.get_gid(): line for ax in fig.axes for line in ax.get_lines()}
    np.testing.assert_allclose(lines["run"].get_ydata(), state.run.loss)
    np.testing.assert_allclose(lines["reference"].get_ydata(), reference.loss)
    np.testing.assert_allclose(lines["underflow"].get_ydata(), state.run.underflow)
    assert "skipped" in lines and fig.axes[0].get_yscale() == "log"
    assert draw_precision_explorer(state, fig=fig) is fig and len(fig.axes) == 3  # redrawn, not added


def test_explorer_is_a_vbox_with_a_stable_repr():
    explorer = precision_explorer()
    assert isinstance(explorer, PrecisionExplorer) and isinstance(explorer, ipywidgets.VBox)
    text = explorer._repr_mimebundle_()["text/plain"]
    assert text == repr(explorer) == "PrecisionExplorer(float16)"
    assert not re.search(r"0x[0-9a-f]+|[0-9a-f]{32}", text)
    (out,) = explorer.output.outputs
    assert base64.b64decode(out["data"]["image/png"]).startswith(b"\x89PNG")
    assert "fails" in explorer.status.value and "#D55E00" in explorer.status.value


def test_changing_the_controls_reruns():
    explorer = precision_explorer(steps=60)
    before = explorer.output.outputs[0]["data"]["image/png"]
    explorer.master_box.value = True
    explorer.scale_slider.value = 16
    assert "matches float32" in explorer.status.value and "#D55E00" not in explorer.status.value
    assert explorer.output.outputs[0]["data"]["image/png"] != before
    assert repr(explorer) == "PrecisionExplorer(float16, master=float32, loss scale 2^16)"
    explorer.dynamic_box.value = True
    assert repr(explorer) == "PrecisionExplorer(float16, master=float32, dynamic loss scale from 2^16)"
    explorer.dtype_select.value = "float64"
    assert repr(explorer) == "PrecisionExplorer(float64, dynamic loss scale from 2^16)"


def test_errors_in_a_callback_show_in_the_status():
    explorer = precision_explorer(steps=5)
    explorer.options = {**explorer.options, "lr": -1.0}
    explorer.scale_slider.value = 3
    assert "error: lr must be" in explorer.status.value


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"dtype": "bfloat16"}, "dtype"),
        ({"log2_scale": 41}, "log2_scale"),
        ({"lr": 0.0}, "lr"),
        ({"steps": 0}, "steps"),
        ({"growth_interval": 0}, "growth_interval"),
        ({"X": np.zeros((3, 2))}, "both X and Y"),
    ],
)
def test_explorer_rejects_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        precision_explorer(**kwargs)
