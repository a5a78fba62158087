"""Tests of gdcourse.widgets: the explorer's logic without a browser, its redraws, and its notebook output."""

from __future__ import annotations

import base64
import re

import matplotlib

matplotlib.use("Agg")  # only inside this test process; the notebook test below keeps the inline backend

import ipywidgets
import nbformat
import numpy as np
import pytest
from matplotlib.figure import Figure

from gdcourse import functions as F
from gdcourse import plots
from gdcourse.widgets import ExplorerState, LRExplorer, draw_lr_explorer, lr_explorer, lr_explorer_state


def path_data(fig):
    """The (x, y) data of the trajectory lines of a figure, copied."""
    return [np.column_stack([ln.get_xdata(), ln.get_ydata()]).copy() for ln in plots.trajectory_lines(fig.axes[0])]


# ----------------------------------------------------------------------------- the state function


@pytest.mark.parametrize("L", [1.0, 2.0, 5.0])
def test_status_too_small_good_and_too_large_lr(L):
    quad = F.Quadratic(kappa=10, L=L)
    threshold = f"2/L = {2 / L:.3g}"

    history, status = lr_explorer_state(quad, lr=0.01 / L, n_steps=50)
    assert status.startswith("still moving after 50 steps"), status
    assert history.n_iter == 50 and threshold in status and "<" in status

    for good in (1.0 / L, 1.9 / L):  # both below 2/L: converge (1.9/L zig-zags across the valley)
        history, status = lr_explorer_state(quad, lr=good, n_steps=500)
        assert status.startswith("converged in"), status
        assert history.converged and history.n_iter < 500
        assert np.allclose(history.path[-1], quad.center, atol=1e-5)

    # just above 2/L: the L-direction grows by |1 - 2.1| = 1.1 per step
    history, status = lr_explorer_state(quad, lr=2.1 / L, n_steps=50)
    assert status.startswith("diverging: the cost grew"), status
    assert f"> {threshold}" in status
    history, status = lr_explorer_state(quad, lr=2.1 / L, n_steps=500)
    assert history.stop_reason == "diverged"
    assert status.startswith(f"diverged at step {history.n_iter}:"), status
    assert "smaller learning rate" in status


def test_status_names_a_local_minimum_on_the_double_well():
    well = F.DoubleWell()
    history, status = lr_explorer_state(well, lr=0.05, n_steps=200)
    assert status.startswith("converged")
    assert "a local minimum, not the global minimum" in status
    assert "2/L" not in status  # no global L for a non-quadratic
    _, status = lr_explorer_state(well, theta0=[-2.0], lr=0.05, n_steps=200)
    assert status.startswith("converged") and "not the global" not in status


def test_state_is_the_same_on_every_backend(backend, to_backend):
    quad = F.Quadratic(kappa=10, L=2.0, angle=0.3)
    reference = lr_explorer_state(quad, theta0=np.asarray(quad.start), lr=0.7, n_steps=40)
    state = lr_explorer_state(quad, theta0=to_backend(quad.start), lr=0.7, n_steps=40)
    assert isinstance(state, ExplorerState)
    assert state.status == reference.status
    np.testing.assert_allclose(state.history.path, reference.history.path, rtol=1e-12)
    fig = draw_lr_explorer(quad, state.history)
    np.testing.assert_allclose(path_data(fig)[0], reference.history.path, rtol=1e-12)


# ----------------------------------------------------------------------------- the figure


@pytest.mark.parametrize("objective", [F.Quadratic(kappa=10), F.DoubleWell(), F.Rosenbrock()],
                         ids=lambda o: o.name)
def test_draw_shows_path_and_loss_side_by_side(objective):
    history, _ = lr_explorer_state(objective, lr=1e-3 if objective.name == "rosenbrock" else 0.05, n_steps=30)
    fig = draw_lr_explorer(objective, history)
    assert isinstance(fig, Figure)
    ax_path, ax_loss = fig.axes[:2]
    (line,) = plots.trajectory_lines(ax_path)
    np.testing.assert_array_equal(line.get_xdata(), history.path[:, 0])
    (loss,) = plots.trajectory_lines(ax_loss)
    np.testing.assert_allclose(loss.get_ydata(), np.where(history.losses - objective.f_min > 0,
                                                          history.losses - objective.f_min, np.nan))
    assert ax_loss.get_yscale() == "log"
    # redrawing into the same figure replaces, not adds
    again = draw_lr_explorer(objective, history, fig=fig, title="status")
    assert again is fig
    assert len(plots.trajectory_lines(fig)) == 2  # one path + one loss curve
    assert fig.get_suptitle() == "status"


def test_draw_uses_linear_scale_without_known_minimum():
    saddle = F.Saddle()
    history, _ = lr_explorer_state(saddle, lr=0.1, n_steps=20)
    fig = draw_lr_explorer(saddle, history)
    assert fig.axes[1].get_yscale() == "linear"


def test_draw_window_stays_fixed_while_lr_changes():
    quad = F.Quadratic(kappa=10)
    windows = set()
    for lr in (0.1, 1.5, 2.05):
        fig = draw_lr_explorer(quad, lr_explorer_state(quad, lr=lr, n_steps=50).history)
        windows.add((fig.axes[0].get_xlim(), fig.axes[0].get_ylim()))
    assert len(windows) == 1


# ----------------------------------------------------------------------------- the widget


def test_explorer_is_a_vbox_with_a_stable_repr():
    explorer = lr_explorer(F.Quadratic(kappa=10), lr=0.5, n_steps=40)
    assert isinstance(explorer, LRExplorer) and isinstance(explorer, ipywidgets.VBox)
    text = explorer._repr_mimebundle_()["text/plain"]
    assert text == repr(explorer) == "LRExplorer(quadratic, η=0.5, n_steps=40)"
    assert not re.search(r"0x[0-9a-f]+|[0-9a-f]{32}", text)  # no addresses, no model ids
    assert isinstance(explorer.lr_slider, ipywidgets.FloatLogSlider)
    assert isinstance(explorer.steps_slider, ipywidgets.IntSlider)
    assert explorer.lr_slider.min == pytest.approx(-3) and explorer.lr_slider.max == pytest.approx(1)
    (out,) = explorer.output.outputs
    assert out["output_type"] == "display_data"
    assert base64.b64decode(out["data"]["image/png"]).startswith(b"\x89PNG")
    assert "converged" in explorer.status.value or "still moving" in explorer.status.value


def test_moving_the_lr_slider_redraws():
    quad = F.Quadratic(kappa=10, L=1.0)
    explorer = lr_explorer(quad, lr=0.5, n_steps=60)
    before_paths = path_data(explorer.figure)
    before_png = explorer.output.outputs[0]["data"]["image/png"]
    before_status = explorer.status.value
    explorer.lr_slider.value = 2.1
    after_paths = path_data(explorer.figure)
    assert len(after_paths) == 1
    assert after_paths[0].shape != before_paths[0].shape or not np.allclose(after_paths[0], before_paths[0])
    np.testing.assert_array_equal(after_paths[0], explorer.state.history.path)
    assert explorer.state.history.lrs[0] == 2.1
    assert explorer.output.outputs[0]["data"]["image/png"] != before_png
    assert explorer.status.value != before_status and "diverg" in explorer.status.value
    assert "#D55E00" in explorer.status.value  # shown in the warning colour
    assert repr(explorer) == "LRExplorer(quadratic, η=2.1, n_steps=60)"


def test_moving_the_steps_slider_redraws():
    explorer = lr_explorer(F.Quadratic(kappa=50), lr=0.1, n_steps=10)
    assert len(path_data(explorer.figure)[0]) == 11
    explorer.steps_slider.value = 25
    assert len(path_data(explorer.figure)[0]) == 26
    assert explorer.state.history.n_iter == 25


def test_one_dimensional_explorer():
    explorer = lr_explorer(F.DoubleWell(), lr=0.05, lr_range=(1e-3, 1.0))
    assert plots.trajectory_lines(explorer.figure.axes[0])[0].get_gid() == "trajectory"
    assert [ln.get_gid() for ln in explorer.figure.axes[0].get_lines()][0] == "objective"


def test_lr_range_defaults_around_2_over_L():
    explorer = lr_explorer(F.Quadratic(L=4.0), lr=0.1)
    low, high = 10 ** explorer.lr_slider.min, 10 ** explorer.lr_slider.max
    assert low < 2 / 4.0 < high
    assert high == pytest.approx(10 / 4.0)


def test_errors_in_a_slider_callback_show_in_the_status():
    explorer = lr_explorer(F.Quadratic(), lr=0.5)

    class Broken:
        dim, name = 2, "broken"

        def value(self, theta):
            raise RuntimeError("boom")

        grad = value

    explorer.objective = Broken()
    explorer.lr_slider.value = 0.2
    assert "error: boom" in explorer.status.value


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"lr": 50.0}, "outside lr_range"),
        ({"lr_range": (1.0, 0.1)}, "lr_range"),
        ({"n_steps": 0}, "n_steps"),
        ({"n_steps": 100, "max_steps": 50}, "max_steps"),
    ],
)
def test_explorer_rejects_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        lr_explorer(F.Quadratic(), **kwargs)


# ----------------------------------------------------------------------------- in a real kernel

NOTEBOOK_CELLS = [
    "import matplotlib\nimport matplotlib.pyplot as plt\n"
    "from gdcourse import functions as F\nfrom gdcourse.plots import plot_contour, use_course_style\n"
    "from gdcourse.widgets import lr_explorer\nuse_course_style()\nprint('inline' in matplotlib.get_backend())",
    # an ordinary figure cell: proves the inline backend shows pyplot figures here, so a leak would be seen
    "quad = F.Quadratic(kappa=10)\n_ = plot_contour(quad)\nplt.show()",
    "explorer = lr_explorer(quad, lr=0.5, n_steps=40)\nexplorer",
    "explorer.lr_slider.value = 2.1\nprint(explorer.state.status)",
    "display(explorer)",
]


def _execute(tmp_path, name):
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in NOTEBOOK_CELLS]
    client = NotebookClient(nb, timeout=120, kernel_name="python3", store_widget_state=True,
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    nbformat.write(nb, tmp_path / name)
    return nb


def _summary(cell):
    """What strict nbval compares: output types, stream text and every non-image, non-widget payload."""
    rows = []
    for out in cell.outputs:
        data = {k: v for k, v in out.get("data", {}).items()
                if k not in ("image/png", "application/vnd.jupyter.widget-view+json")}
        rows.append((out.output_type, out.get("name"), out.get("text"), sorted(out.get("data", {})), data))
    return rows


def _nbval(tmp_path, notebook):
    """Run strict nbval on ``notebook`` (outside this project's pytest configuration); return (rc, report)."""
    import subprocess
    import sys
    from pathlib import Path

    sanitize = Path(__file__).with_name("nbval_sanitize.cfg")
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", str(tmp_path / "pytest.ini"),
           "--rootdir", str(tmp_path), "--nbval", "--nbval-current-env", "--nbval-sanitize-with", str(sanitize),
           str(notebook)]
    done = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    return done.returncode, done.stdout + done.stderr


@pytest.mark.slow
def test_explorer_cell_outputs_are_deterministic_in_a_headless_kernel(tmp_path, monkeypatch):
    """Execute a notebook with nbclient, then re-run it under strict nbval against those stored outputs.

    nbclient routes output captured by ``with output_widget:`` into the widget, nbval does not, so
    only the second run catches a figure that leaks into the cell outputs that way; a figure left
    to pyplot's inline backend shows up in both.
    """
    monkeypatch.delenv("MPLBACKEND", raising=False)  # as under nbval: the kernel's inline backend
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    nb = _execute(tmp_path, "explorer.ipynb")
    setup, figure, widget, change, redisplay = [_summary(c) for c in nb.cells]

    assert setup == [("stream", "stdout", "True\n", [], {})]
    assert [row[0] for row in figure] == ["display_data"] and "image/png" in figure[0][3]
    # the explorer cell shows the widget and nothing else: no second copy of its figure
    assert widget == [("execute_result", None, None,
                       ["application/vnd.jupyter.widget-view+json", "text/plain"],
                       {"text/plain": "LRExplorer(quadratic, η=0.5, n_steps=40)"})]
    # moving the slider from code redraws inside the widget without any cell output
    assert len(change) == 1 and change[0][0] == "stream" and change[0][2].startswith("diverging")
    assert redisplay == [("display_data", None, None,
                          ["application/vnd.jupyter.widget-view+json", "text/plain"],
                          {"text/plain": "LRExplorer(quadratic, η=2.1, n_steps=40)"})]

    # the figure lives in the Output widget's saved state
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    outputs = [m["state"].get("outputs", []) for m in state.values() if m["model_name"] == "OutputModel"]
    assert len(outputs) == 1 and len(outputs[0]) == 1
    assert "image/png" in outputs[0][0]["data"]

    # a second execution, by strict nbval, reproduces the stored outputs exactly
    rc, report = _nbval(tmp_path, tmp_path / "explorer.ipynb")
    assert rc == 0, report
    assert "5 passed" in report, report
