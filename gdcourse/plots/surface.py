r"""3-D surface of a 2-D objective with trajectories, and the learning-rate sweep plot."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure

from gdcourse.backend import to_numpy
from gdcourse.plots._runs import GID_CURVE, GID_END, GID_START, GID_TRAJECTORY, as_runs, evaluate, window_of

if TYPE_CHECKING:
    from mpl_toolkits.mplot3d import Axes3D

__all__ = ["plot_lr_sweep", "plot_surface"]


def plot_surface(
    objective: Any,
    histories: Any = (),
    ax: Axes3D | None = None,
    *,
    window: Sequence[tuple[float, float]] | None = None,
    n_grid: int = 60,
    log_height: bool = False,
    elev: float = 35.0,
    azim: float = -60.0,
) -> Figure:
    r"""Draw a 2-D objective as a 3-D surface :math:`(\theta_1, \theta_2, J(\theta))` with runs on it.

    Each run's iterates are lifted onto the surface, :math:`(\theta_t, J(\theta_t))`,
    so descent is literally downhill; a hollow circle marks the start, a cross the
    last iterate.  The surface is drawn semi-transparent so the paths stay visible.

    Parameters
    ----------
    objective : Objective
        A 2-D objective whose ``value`` accepts a grid of shape ``(2, ny, nx)``.
    histories : History, array or sequence of them
        Runs to draw (:class:`~gdcourse.descent.History` or raw ``(n+1, 2)`` paths, any backend).
    ax : Axes3D, optional
        A 3-D axes (``projection="3d"``) to draw into; by default a new figure is created.
    window : ((float, float), (float, float)), optional
        Plot window; default: the objective's domain, grown to include the runs.
    n_grid : int
        Grid points per axis (the surface is coarse on purpose: it is a picture, not data).
    log_height : bool
        Plot :math:`\log_{10}(1 + J - J_{\min})` instead of :math:`J`, for steep functions
        such as Rosenbrock or Beale whose interesting valley is flat on a linear scale.
    elev, azim : float
        Viewing angles in degrees.

    Returns
    -------
    Figure
        The figure (not shown: end the cell with ``plt.show()``).
    """
    runs = as_runs(histories, kind="path")
    for i, run in enumerate(runs):
        assert run.path is not None  # as_runs(kind="path") checked
        if run.path.shape[1] != 2:
            raise ValueError(f"histories[{i}] has dim {run.path.shape[1]}, expected 2")
    if ax is None:
        fig = plt.figure()
        ax = fig.add_subplot(projection="3d")
    elif getattr(ax, "name", "") != "3d":
        raise TypeError("ax must be a 3-D axes: fig.add_subplot(projection='3d')")
    else:
        fig = ax.get_figure()
    (x_lo, x_hi), (y_lo, y_hi) = window_of(objective, runs, window, 2)
    mesh_x, mesh_y = np.meshgrid(np.linspace(x_lo, x_hi, int(n_grid)), np.linspace(y_lo, y_hi, int(n_grid)))
    z = evaluate(objective, np.stack([mesh_x, mesh_y]))
    f_min = float(np.nanmin(z))

    def height(values: np.ndarray) -> np.ndarray:
        return np.log10(1.0 + np.maximum(values - f_min, 0.0)) if log_height else values

    surface = ax.plot_surface(mesh_x, mesh_y, height(z), cmap="viridis", alpha=0.55, linewidth=0, antialiased=True)
    surface.set_gid(GID_CURVE)
    cycle = plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])
    for i, run in enumerate(runs):
        assert run.path is not None  # as_runs(kind="path") checked
        color = cycle[i % len(cycle)]
        inside = (
            (run.path[:, 0] >= x_lo) & (run.path[:, 0] <= x_hi) & (run.path[:, 1] >= y_lo) & (run.path[:, 1] <= y_hi)
        )
        path = run.path[inside] if not np.all(inside) else run.path
        if len(path) == 0:
            continue
        zs = height(evaluate(objective, path.T.copy()))
        (line,) = ax.plot(path[:, 0], path[:, 1], zs, "-o", color=color, markersize=3, label=run.legend_label)
        line.set_gid(GID_TRAJECTORY)
        ax.plot(path[:1, 0], path[:1, 1], zs[:1], "o", mfc="none", color=color, markersize=9, gid=GID_START)
        if not run.diverged:
            ax.plot(path[-1:, 0], path[-1:, 1], zs[-1:], "x", color=color, markersize=9, gid=GID_END)
    ax.set_xlabel(r"$\theta_1$")
    ax.set_ylabel(r"$\theta_2$")
    ax.set_zlabel(r"$\log_{10}(1 + J - J_{\min})$" if log_height else r"$J(\theta)$")
    ax.view_init(elev=elev, azim=azim)
    if runs:
        ax.legend(loc="upper left")
    return fig


def plot_lr_sweep(
    lrs: Any,
    final_losses: Any,
    ax: Axes | None = None,
    *,
    label: str | None = None,
    threshold: float | None = None,
    diverged: Any = None,
) -> Figure | SubFigure:
    r"""Final cost against learning rate, both on log scales: the picture of "too small, right, too large".

    Parameters
    ----------
    lrs : array_like, shape (k,)
        The learning rates :math:`\eta` tried (positive).
    final_losses : array_like, shape (k,)
        The cost (or gap :math:`J - J^*`) each run ended with; non-finite values are runs
        that blew up and are drawn as red crosses at the top of the axes.
    ax : Axes, optional
        Draw into this axes (several sweeps can share one); by default a new figure.
    label : str, optional
        Legend label of this sweep.
    threshold : float, optional
        A learning rate to mark with a vertical line, e.g. the stability limit :math:`2/L`.
    diverged : array_like of bool, optional
        Which runs diverged (default: those whose final loss is not finite).

    Returns
    -------
    Figure
    """
    eta = np.asarray(to_numpy(lrs), dtype=np.float64).ravel()
    loss = np.asarray(to_numpy(final_losses), dtype=np.float64).ravel()
    if eta.shape != loss.shape or eta.size == 0:
        shapes = f"got {eta.shape} and {loss.shape}"
        raise ValueError(f"lrs and final_losses must be 1-D of equal, non-zero length; {shapes}")
    if not np.all(np.isfinite(eta)) or np.any(eta <= 0):
        raise ValueError("lrs must be positive finite numbers (they are plotted on a log scale)")
    blown = ~np.isfinite(loss) if diverged is None else np.asarray(to_numpy(diverged), dtype=bool).ravel()
    if blown.shape != eta.shape:
        raise ValueError(f"diverged must have the shape of lrs {eta.shape}, got {blown.shape}")
    fig: Figure | SubFigure | None
    if ax is None:
        fig, ax = plt.subplots()
    else:
        fig = ax.get_figure()  # the subfigure ax is in, if it is in one
    assert fig is not None  # an Axes belongs to a figure
    ok = ~blown & np.isfinite(loss) & (loss > 0)
    (line,) = ax.plot(eta[ok], loss[ok], "-o", markersize=4, label=label)
    line.set_gid("sweep")
    ax.set_xscale("log")
    ax.set_yscale("log")
    if np.any(blown):
        top = np.nanmax(loss[ok]) * 10 if np.any(ok) else 1.0
        ax.plot(eta[blown], np.full(int(blown.sum()), top), "x", color="C3", markersize=8, gid="diverged",
                label="diverged")
    if threshold is not None:
        ax.axvline(float(threshold), color="k", linestyle=":", gid="threshold")
    ax.set_xlabel(r"learning rate $\eta$")
    ax.set_ylabel("final cost")
    if label is not None or np.any(blown):
        ax.legend(loc="best")
    return fig
