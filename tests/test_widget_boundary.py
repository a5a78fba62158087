"""The decision-boundary explorer: its state (a stored training run), its figure and its widget, without a browser."""

from __future__ import annotations

import base64
import re

import matplotlib

matplotlib.use("Agg")  # only inside this test process; notebooks keep the inline backend

import ipywidgets
import numpy as np
import pytest
from matplotlib.figure import Figure

from gdcourse import losses
from gdcourse.widgets import (
    BoundaryExplorer,
    BoundaryState,
    boundary_explorer,
    boundary_explorer_state,
    boundary_step_status,
    draw_boundary_explorer,
)

THETA0 = [-2.0, 1.0, 2.0]


def blobs(n=80, seed=0):
    g = np.random.default_rng(seed)
    X = np.concatenate([g.normal([-1.0, -0.5], 1.1, size=(n // 2, 2)), g.normal([1.5, 1.0], 1.1, size=(n // 2, 2))])
    return X, np.repeat([0, 1], n // 2)


def gd_by_hand(X, y, lr, n_steps, theta0):
    """Plain gradient descent on the mean log loss, θ = (w1, w2, b)."""
    Xt = np.column_stack([X, np.ones(len(X))])
    theta = np.asarray(theta0, dtype=float)
    path = [theta]
    for _ in range(n_steps):
        theta = theta - lr * Xt.T @ (losses.sigmoid(Xt @ theta) - y) / len(X)
        path.append(theta)
    return np.array(path), Xt


# ----------------------------------------------------------------------------- the state function


def test_state_stores_the_gradient_descent_path():
    X, y = blobs()
    state = boundary_explorer_state(X, y, lr=0.7, n_steps=40, theta0=THETA0)
    assert isinstance(state, BoundaryState) and state.n_steps == 40 and state.lr == 0.7
    path, Xt = gd_by_hand(X, y.astype(float), 0.7, 40, THETA0)
    np.testing.assert_allclose(state.path, path, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(state.losses, [float(losses.log_loss(Xt @ t, y.astype(float))) for t in path])
    np.testing.assert_allclose(state.accuracy, [np.mean((Xt @ t > 0) == (y == 1)) for t in path])
    assert state.losses[-1] < state.losses[0] and state.accuracy[-1] > state.accuracy[0]
    assert state.status == (
        f"η = 0.7, 40 steps: log loss {state.losses[0]:.3g} → {state.losses[-1]:.3g}, "
        f"training accuracy {state.accuracy[0]:.0%} → {state.accuracy[-1]:.0%}"
    )


def test_default_start_is_zero_and_labels_can_be_any_two_classes():
    X, y = blobs()
    names = np.where(y == 1, "yes", "no")
    state = boundary_explorer_state(X, names, lr=1.0, n_steps=5)
    np.testing.assert_array_equal(state.path[0], 0.0)
    assert state.losses[0] == pytest.approx(np.log(2))
    reference = boundary_explorer_state(X, y, lr=1.0, n_steps=5)
    np.testing.assert_allclose(state.path, reference.path)  # "yes" > "no": the same positive class
    assert boundary_step_status(state, 0) == (
        f"step 0: w = 0: every point scores z = b, no boundary yet; log loss {np.log(2):.3g}, accuracy 50%"
    )


def test_step_status_describes_one_step_and_clamps():
    X, y = blobs()
    state = boundary_explorer_state(X, y, lr=1.0, n_steps=10, theta0=THETA0)
    w1, w2, b = state.path[4]
    assert boundary_step_status(state, 4) == (
        f"step 4: w = ({w1:.3g}, {w2:.3g}), b = {b:.3g}; log loss {state.losses[4]:.3g}, "
        f"accuracy {state.accuracy[4]:.0%}"
    )
    assert boundary_step_status(state, 99).startswith("step 10:")
    assert boundary_step_status(state, -3).startswith("step 0:")


def test_divergence_stops_the_run_and_says_so():
    X, y = blobs()
    X = 1e4 * X  # huge features and a huge step: the loss grows a millionfold
    state = boundary_explorer_state(X, y, lr=1e4, n_steps=50, theta0=THETA0)
    assert state.n_steps < 50 and "diverged at step" in state.status
    assert len(state.path) == len(state.losses) == len(state.accuracy) == state.n_steps + 1


def test_state_is_the_same_on_every_backend(backend, to_backend):
    X, y = blobs()
    reference = boundary_explorer_state(X, y, lr=0.5, n_steps=20, theta0=THETA0)
    state = boundary_explorer_state(to_backend(X), to_backend(y), lr=0.5, n_steps=20, theta0=THETA0)
    assert state.status == reference.status
    np.testing.assert_allclose(state.path, reference.path, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(state.accuracy, reference.accuracy)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"lr": 0.0}, "lr"),
        ({"lr": float("nan")}, "lr"),
        ({"n_steps": 0}, "n_steps"),
        ({"theta0": [1.0, 2.0]}, "theta0"),
    ],
)
def test_state_rejects_bad_parameters(kwargs, match):
    X, y = blobs()
    with pytest.raises(ValueError, match=match):
        boundary_explorer_state(X, y, **kwargs)


def test_state_rejects_bad_data():
    X, y = blobs()
    with pytest.raises(ValueError, match="two features"):
        boundary_explorer_state(np.column_stack([X, X]), y)
    with pytest.raises(ValueError, match="exactly two classes"):
        boundary_explorer_state(X, np.arange(len(X)) % 3)
    with pytest.raises(ValueError, match="samples"):
        boundary_explorer_state(X, y[:-1])
    with pytest.raises(TypeError, match="must be an array"):
        boundary_explorer_state(X.tolist(), y)


# ----------------------------------------------------------------------------- the figure


def test_draw_shows_the_boundary_of_the_chosen_step_and_the_trail():
    X, y = blobs()
    state = boundary_explorer_state(X, y, lr=1.0, n_steps=30, theta0=THETA0)
    fig = draw_boundary_explorer(X, y, state, 12, trail=3, grid=60)
    assert isinstance(fig, Figure)
    ax_data, ax_loss = fig.axes[:2]
    (boundary,) = [c for c in ax_data.collections if c.get_gid() == "boundary"]
    w1, w2, b = state.path[12]
    v = boundary.get_paths()[0].vertices
    np.testing.assert_allclose(w1 * v[:, 0] + w2 * v[:, 1] + b, 0.0, atol=1e-9)
    trail = [ln for ln in ax_data.get_lines() if ln.get_gid() == "trail"]
    assert len(trail) == 3  # steps 0, 4, 8: evenly spaced before 12
    for line, k in zip(trail, (0, 4, 8), strict=True):
        x, yy = line.get_xdata(), line.get_ydata()
        np.testing.assert_allclose(state.path[k][0] * x + state.path[k][1] * yy + state.path[k][2], 0.0, atol=1e-9)
    (current,) = [ln for ln in ax_loss.get_lines() if ln.get_gid() == "current"]
    assert current.get_xdata()[0] == 12 and current.get_ydata()[0] == state.losses[12]
    (loss,) = [ln for ln in ax_loss.get_lines() if ln.get_gid() == "loss"]
    np.testing.assert_array_equal(loss.get_ydata(), state.losses)
    assert ax_data.get_title() == "step 12 (dashed: earlier steps)"


def test_window_stays_fixed_while_the_step_moves():
    X, y = blobs()
    state = boundary_explorer_state(X, y, lr=1.0, n_steps=30, theta0=THETA0)
    windows = {
        (draw_boundary_explorer(X, y, state, t, grid=30).axes[0].get_xlim(),
         draw_boundary_explorer(X, y, state, t, grid=30).axes[0].get_ylim())
        for t in (0, 1, 5, 30)
    }
    assert len(windows) == 1


def test_redraw_into_the_same_figure():
    X, y = blobs()
    state = boundary_explorer_state(X, y, lr=1.0, n_steps=10, theta0=THETA0)
    fig = draw_boundary_explorer(X, y, state, 0, grid=30)
    again = draw_boundary_explorer(X, y, state, 10, fig=fig, grid=30, title="status")
    assert again is fig and len(fig.axes) == 2 and fig.get_suptitle() == "status"
    assert len([ln for ln in fig.axes[0].get_lines() if ln.get_gid() == "trail"]) == 4  # the default trail


# ----------------------------------------------------------------------------- the widget


def test_explorer_is_a_vbox_with_a_stable_repr():
    X, y = blobs()
    explorer = boundary_explorer(X, y, lr=1.0, n_steps=50, theta0=THETA0, grid=40)
    assert isinstance(explorer, BoundaryExplorer) and isinstance(explorer, ipywidgets.VBox)
    text = explorer._repr_mimebundle_()["text/plain"]
    assert text == repr(explorer) == "BoundaryExplorer(logistic regression, n=80, η=1, step=5/50)"
    assert not re.search(r"0x[0-9a-f]+|[0-9a-f]{32}", text)
    assert isinstance(explorer.step_slider, ipywidgets.IntSlider) and explorer.step_slider.max == 50
    assert isinstance(explorer.lr_slider, ipywidgets.FloatLogSlider)
    (out,) = explorer.output.outputs
    assert base64.b64decode(out["data"]["image/png"]).startswith(b"\x89PNG")
    assert "step 5:" in explorer.status.value and "η = 1, 50 steps" in explorer.status.value


def test_moving_the_step_slider_redraws_without_retraining():
    X, y = blobs()
    explorer = boundary_explorer(X, y, lr=1.0, n_steps=50, theta0=THETA0, grid=40)
    state = explorer.state
    before = explorer.output.outputs[0]["data"]["image/png"]
    explorer.step_slider.value = 40
    assert explorer.state is state  # the stored run, not a new one
    assert explorer.output.outputs[0]["data"]["image/png"] != before
    assert "step 40:" in explorer.status.value
    assert repr(explorer) == "BoundaryExplorer(logistic regression, n=80, η=1, step=40/50)"


def test_moving_the_lr_slider_retrains():
    X, y = blobs()
    explorer = boundary_explorer(X, y, lr=1.0, n_steps=50, theta0=THETA0, grid=40)
    first = explorer.state
    explorer.lr_slider.value = 0.05
    assert explorer.state is not first and explorer.state.lr == pytest.approx(0.05)
    path, _ = gd_by_hand(X, y.astype(float), explorer.state.lr, 50, THETA0)
    np.testing.assert_allclose(explorer.state.path, path, rtol=1e-12, atol=1e-14)
    assert "η = 0.05" in explorer.status.value


def test_divergence_shows_the_warning_colour():
    X, y = blobs()
    explorer = boundary_explorer(1e4 * X, y, lr=0.01, n_steps=30, theta0=THETA0, grid=30, lr_range=(0.01, 1e4))
    assert "#D55E00" not in explorer.status.value
    explorer.lr_slider.value = 1e4
    assert "diverged" in explorer.status.value and "#D55E00" in explorer.status.value
    explorer.step_slider.value = 30  # beyond the stored run: clamped, no error
    assert "error" not in explorer.status.value


def test_errors_in_a_slider_callback_show_in_the_status():
    X, y = blobs()
    explorer = boundary_explorer(X, y, n_steps=20, grid=30)
    explorer.y = np.arange(len(X)) % 3  # three classes: training now fails
    explorer.lr_slider.value = 2.0
    assert "error: y must hold exactly two classes" in explorer.status.value


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"lr": 500.0}, "outside lr_range"),
        ({"lr_range": (1.0, 0.1)}, "lr_range"),
        ({"n_steps": 0}, "n_steps"),
        ({"n_steps": 50, "step": 60}, "step"),
        ({"step": -1}, "step"),
    ],
)
def test_explorer_rejects_bad_parameters(kwargs, match):
    X, y = blobs()
    with pytest.raises(ValueError, match=match):
        boundary_explorer(X, y, **kwargs)
