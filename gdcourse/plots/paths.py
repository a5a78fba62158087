r"""Where the iterates go: 1-D traces on the curve and 2-D trajectories on contour maps."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from gdcourse.backend import to_numpy
from gdcourse.plots._runs import (
    GID_CURVE,
    GID_END,
    GID_LOSS,
    GID_MINIMA,
    GID_START,
    GID_TRAJECTORY,
    Run,
    as_runs,
    evaluate,
    f_min_of,
    figure_and_axes,
    window_of,
)

__all__ = ["contour_levels", "plot_contour", "plot_trace_1d", "trajectory_lines"]


def _paths_in(objective: Any, histories: Any, dim: int, needs: str, instead: str) -> list[Run]:
    """The runs of ``histories`` as paths, after checking that they and ``objective`` live in ``dim`` dimensions."""
    if _dim(objective) not in (None, dim):
        raise ValueError(f"{needs}, got dim={_dim(objective)}; {instead}")
    runs = as_runs(histories, kind="path")
    for i, run in enumerate(runs):
        assert run.path is not None  # as_runs(kind="path") checked
        if run.path.shape[1] != dim:
            raise ValueError(f"histories[{i}] has dim {run.path.shape[1]}, expected {dim}")
    return runs


def _dim(objective: Any) -> int | None:
    dim = getattr(objective, "dim", None)
    return None if dim is None else int(dim)


def _minima(objective: Any, dim: int) -> np.ndarray:
    points = [np.asarray(to_numpy(m), dtype=np.float64).reshape(dim) for m in getattr(objective, "minima", ()) or ()]
    return np.stack(points) if points else np.empty((0, dim))


def _draw_minima(ax: Axes, xs: np.ndarray, ys: np.ndarray) -> None:
    if xs.size:
        label = "minimum" if xs.size == 1 else "minima"
        ax.plot(xs, ys, linestyle="none", marker="*", markersize=16, color="black",
                markerfacecolor="white", markeredgewidth=1.5, label=label, gid=GID_MINIMA, zorder=5)


def _draw_run(ax: Axes, run: Run, xs: np.ndarray, ys: np.ndarray, color: Any) -> Line2D:
    (line,) = ax.plot(xs, ys, color=color, marker="o", markersize=4, linewidth=1.6, alpha=0.9,
                      label=run.legend_label, gid=GID_TRAJECTORY, zorder=3)
    ax.plot(xs[:1], ys[:1], linestyle="none", marker="o", markersize=10, color=color,
            markerfacecolor="white", markeredgewidth=2, gid=GID_START, zorder=4)
    finite = np.flatnonzero(np.isfinite(xs) & np.isfinite(ys))
    if finite.size and not run.diverged:
        k = finite[-1]
        ax.plot(xs[k : k + 1], ys[k : k + 1], linestyle="none", marker="X", markersize=11, color=color,
                markeredgecolor="white", gid=GID_END, zorder=4)
    return line


def trajectory_lines(fig_or_ax: Figure | Axes) -> list[Line2D]:
    """The trajectory (or loss-curve) lines drawn by :mod:`gdcourse.plots`, in drawing order.

    Parameters
    ----------
    fig_or_ax : Figure or Axes
        Where to look.

    Returns
    -------
    list of Line2D
        Lines whose ``gid`` is ``"trajectory"`` (or ``"loss"`` for loss curves), one per run.
    """
    axes = fig_or_ax.axes if isinstance(fig_or_ax, Figure) else [fig_or_ax]
    return [ln for ax in axes for ln in ax.get_lines() if ln.get_gid() in (GID_TRAJECTORY, GID_LOSS)]


def plot_trace_1d(
    objective: Any,
    histories: Any = (),
    ax: Axes | None = None,
    *,
    window: Sequence[float] | None = None,
    n_grid: int = 400,
    show_minima: bool = True,
) -> Figure:
    r"""Draw a 1-D objective and each run's iterates on it.

    The figure shows the curve :math:`J(\theta)` over the window and, for each
    run, the points :math:`(\theta_t, J(\theta_t))` joined in order, so the
    zig-zag of a learning rate past :math:`1/L` and the overshoot of one past
    :math:`2/L` are visible.  A hollow circle marks :math:`\theta_0`, a cross the
    last iterate (omitted for a run that diverged; its legend entry says at
    which step), white stars the known minima.

    Parameters
    ----------
    objective : Objective
        A 1-D objective (``dim == 1``) with a vectorised ``value``; its ``domain``
        is the default window.
    histories : History, array or sequence of them
        Runs to draw: :class:`~gdcourse.descent.History` objects, or raw paths of
        shape ``(n+1, 1)`` / ``(n+1,)`` from any backend.
    ax : Axes, optional
        Draw into this axes; by default a new figure is created.
    window : (float, float), optional
        The :math:`\theta` range shown (default: the objective's domain, grown to
        include every start point and every iterate of a run that did not diverge).
    n_grid : int
        Number of points on the curve.
    show_minima : bool
        Mark the objective's known minima.

    Returns
    -------
    Figure
        The figure (not shown: end the cell with ``plt.show()``).
    """
    runs = _paths_in(objective, histories, 1, "plot_trace_1d needs a 1-D objective", "use plot_contour")
    fig, ax = figure_and_axes(ax)
    ((lo, hi),) = window_of(objective, runs, None if window is None else [window], 1)
    xs = np.linspace(lo, hi, int(n_grid))
    curve = evaluate(objective, xs[None, :])
    finite = curve[np.isfinite(curve)]
    bottom, top = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    pad = 0.06 * ((top - bottom) or 1.0)
    ax.set_xlim(lo, hi)
    ax.set_ylim(bottom - pad, top + pad)  # limits first: runs that leave the window are clipped
    ax.plot(xs, curve, color="0.35", linewidth=2.0, label=r"$J(\theta)$", gid=GID_CURVE, zorder=2)
    colors = plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])
    for i, run in enumerate(runs):
        assert run.path is not None  # as_runs(kind="path") checked
        theta = run.path[:, 0]
        cost = run.losses if run.losses is not None and len(run.losses) == len(theta) else evaluate(
            objective, theta[None, :]
        )
        _draw_run(ax, run, theta, cost, colors[i % len(colors)])
    if show_minima:
        minima = _minima(objective, 1)[:, 0]
        _draw_minima(ax, minima, evaluate(objective, minima[None, :]) if minima.size else minima)
    ax.set_xlabel(r"$\theta$")
    ax.set_ylabel(r"$J(\theta)$")
    if runs or show_minima:
        ax.legend(loc="best")
    return fig


def contour_levels(
    z: Any, f_min: float | None = None, n: int = 20, log: bool = True, upper_quantile: float = 0.98
) -> np.ndarray:
    r"""Contour levels for values ``z`` on a grid: increasing, finite, log-spaced above the minimum.

    With ``log=True`` the levels are :math:`J^* + d_k` with the gaps :math:`d_k`
    geometrically spaced from the 1st percentile of :math:`z - J^*` (its positive
    part) to the ``upper_quantile`` of it.  Rings crowd near the minimum, where
    the trajectories end, and the steep walls of Rosenbrock or Beale (values up
    to :math:`10^5`) do not swallow every level.  :math:`J^*` is ``f_min`` when
    it is known and not above ``z.min()``, else ``z.min()``.  With
    ``log=False`` the levels are evenly spaced.

    Parameters
    ----------
    z : array
        Objective values on the grid (any backend; NaN ignored).
    f_min : float, optional
        The known minimum value.
    n : int
        Number of levels (fewer when values coincide).
    log : bool
        Log-spaced (default) or evenly spaced levels.
    upper_quantile : float
        The highest level sits at this quantile of the values.

    Returns
    -------
    ndarray
        Strictly increasing finite levels.
    """
    values = np.asarray(to_numpy(z), dtype=np.float64).ravel()
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise ValueError("the objective is not finite anywhere on the grid; choose another window")
    if n < 2:
        raise ValueError(f"n must be at least 2 contour levels, got {n!r}")
    low = float(values.min())
    base = f_min if f_min is not None and np.isfinite(f_min) and f_min <= low else low
    gaps = values - base
    top = float(np.quantile(gaps, upper_quantile))
    if log:
        positive = gaps[gaps > 0]
        if positive.size == 0 or top <= 0:
            return np.array([base, base + 1.0])
        bottom = max(float(np.quantile(positive, 0.01)), top * 1e-8)
        levels = base + np.geomspace(bottom, max(top, bottom * 10), n)
    else:
        levels = np.linspace(base, base + (top if top > 0 else 1.0), n + 1)[1:]
    levels = np.unique(levels[np.isfinite(levels)])
    return levels if levels.size >= 2 else np.array([base, base + 1.0])


def plot_contour(
    objective: Any,
    histories: Any = (),
    ax: Axes | None = None,
    *,
    levels: int | Sequence[float] = 20,
    log_levels: bool = True,
    show_minima: bool = True,
    window: Sequence[tuple[float, float]] | None = None,
    n_grid: int = 200,
    equal_aspect: bool = True,
) -> Figure:
    r"""Draw a 2-D objective's contour map with the trajectories of one or more runs.

    The figure shows level sets of :math:`J` (grey, darker is lower; log-spaced by
    default, see :func:`contour_levels`) and for each run the path
    :math:`\theta_0, \theta_1, \dots` as a coloured line with one dot per
    iterate.  A hollow circle marks the start, a cross the last iterate (omitted
    for a diverged run, whose legend entry says at which step it diverged),
    white stars the known minima.  The legend shows each run's ``label``, which
    for :func:`gdcourse.descent.minimize` names the hyperparameters (``"GD η=0.1"``).

    Parameters
    ----------
    objective : Objective
        A 2-D objective whose ``value`` accepts a grid of shape ``(2, ny, nx)``.
    histories : History, array or sequence of them
        Runs to draw: :class:`~gdcourse.descent.History` objects or raw paths of
        shape ``(n+1, 2)`` from any backend.
    ax : Axes, optional
        Draw into this axes; by default a new figure is created.
    levels : int or sequence of float
        Number of contour levels, or the levels themselves.
    log_levels : bool
        Log-spaced levels above the minimum (default) or evenly spaced ones.
    show_minima : bool
        Mark the objective's known minima.
    window : ((float, float), (float, float)), optional
        ``((x_low, x_high), (y_low, y_high))``; default: the objective's domain,
        grown to include each start and each iterate of runs that did not diverge.
    n_grid : int
        Grid points per axis.
    equal_aspect : bool
        Same scale on both axes, so the bowl's true shape (and the gradient's
        right angle to the contours) is visible.

    Returns
    -------
    Figure
        The figure (not shown: end the cell with ``plt.show()``).
    """
    runs = _paths_in(objective, histories, 2, "plot_contour needs a 2-D objective", "use plot_trace_1d for 1-D")
    fig, ax = figure_and_axes(ax)
    (x_lo, x_hi), (y_lo, y_hi) = window_of(objective, runs, window, 2)
    gx, gy = np.linspace(x_lo, x_hi, int(n_grid)), np.linspace(y_lo, y_hi, int(n_grid))
    mesh_x, mesh_y = np.meshgrid(gx, gy)
    z = evaluate(objective, np.stack([mesh_x, mesh_y]))
    if isinstance(levels, int | np.integer):
        lv = contour_levels(z, f_min_of(objective), n=int(levels), log=log_levels)
    else:
        lv = np.asarray(to_numpy(levels), dtype=np.float64)
        if lv.ndim != 1 or lv.size < 2 or not np.all(np.isfinite(lv)) or np.any(np.diff(lv) <= 0):
            raise ValueError("levels must be an int or at least two finite, strictly increasing values")
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(y_lo, y_hi)  # limits first: runs that leave the window are clipped, not rescaled to
    colors = plt.get_cmap("Greys_r")(np.linspace(0.1, 0.7, lv.size))
    ax.contour(mesh_x, mesh_y, np.ma.masked_invalid(z), levels=lv, colors=colors, linewidths=1.0, zorder=1)
    cycle = plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])
    for i, run in enumerate(runs):
        assert run.path is not None  # as_runs(kind="path") checked
        _draw_run(ax, run, run.path[:, 0], run.path[:, 1], cycle[i % len(cycle)])
    if show_minima:
        minima = _minima(objective, 2)
        _draw_minima(ax, minima[:, 0], minima[:, 1])
    if equal_aspect:
        ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel(r"$\theta_1$")
    ax.set_ylabel(r"$\theta_2$")
    ax.grid(False)
    if runs:
        ax.legend(loc="best")
    return fig
