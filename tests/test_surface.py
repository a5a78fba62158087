import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from gdcourse import backend as B  # noqa: E402
from gdcourse import functions  # noqa: E402
from gdcourse.descent import minimize  # noqa: E402
from gdcourse.plots.surface import plot_lr_sweep, plot_surface  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _lines(fig, gid):
    return [line for ax in fig.axes for line in ax.get_lines() if line.get_gid() == gid]


def test_surface_lifts_each_run_onto_the_cost(backend):
    bowl = functions.Quadratic(kappa=5.0, angle=0.4)
    runs = [minimize(bowl, B.asarray([-2.0, 1.5]), lr=lr, max_iter=15, label=f"η={lr}") for lr in (0.3, 1.0)]
    fig = plot_surface(bowl, runs)
    lines = _lines(fig, "trajectory")
    assert [line.get_label() for line in lines] == ["η=0.3", "η=1.0"]
    for line, run in zip(lines, runs, strict=True):
        xs, ys, zs = line.get_data_3d()
        np.testing.assert_allclose(np.c_[xs, ys], run.path)
        np.testing.assert_allclose(zs, run.losses, rtol=1e-12)  # the heights are J(θ_t)
    ends = _lines(fig, "end")
    assert len(ends) == 2 and np.allclose(ends[1].get_data_3d()[0], runs[1].path[-1, 0])


def test_surface_log_height_and_errors():
    rosen = functions.Rosenbrock()
    run = minimize(rosen, np.array([-1.5, 2.0]), lr=1e-3, max_iter=50)
    fig = plot_surface(rosen, run, log_height=True)
    zs = _lines(fig, "trajectory")[0].get_data_3d()[2]
    assert np.all(zs >= 0) and np.all(np.diff(zs) <= 1e-12)  # log(1 + J - min) falls along a descent path
    with pytest.raises(TypeError, match="3-D axes"):
        plot_surface(rosen, run, ax=plt.subplots()[1])
    with pytest.raises(ValueError, match="dim"):
        plot_surface(rosen, np.zeros((3, 3)))


def test_lr_sweep_marks_divergence_and_threshold():
    L = 4.0
    bowl = functions.Quadratic(kappa=10.0, L=L)
    lrs = np.geomspace(0.01, 1.0, 12)
    finals = [minimize(bowl, np.array([1.0, 1.0]), lr=lr, max_iter=100, on_divergence="stop") for lr in lrs]
    losses = np.array([h.final_loss for h in finals])
    diverged = np.array([h.stop_reason == "diverged" for h in finals])
    fig = plot_lr_sweep(lrs, losses, threshold=2 / L, diverged=diverged, label="GD")
    (sweep,) = _lines(fig, "sweep")
    np.testing.assert_allclose(sweep.get_xdata(), lrs[~diverged])
    (crosses,) = _lines(fig, "diverged")
    np.testing.assert_allclose(crosses.get_xdata(), lrs[diverged])
    assert np.all(lrs[diverged] > 2 / L) and np.all(lrs[~diverged] < 2 / L)
    (mark,) = _lines(fig, "threshold")
    assert mark.get_xdata()[0] == pytest.approx(0.5)
    assert fig.axes[0].get_xscale() == "log" and fig.axes[0].get_yscale() == "log"


@pytest.mark.parametrize(
    "lrs, losses, match",
    [([0.1, -1.0], [1.0, 2.0], "positive"), ([0.1], [1.0, 2.0], "equal"), ([], [], "non-zero")],
)
def test_lr_sweep_bad_input(lrs, losses, match):
    with pytest.raises(ValueError, match=match):
        plot_lr_sweep(lrs, losses)
