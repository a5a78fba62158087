r"""How the cost falls (or blows up): loss curves of one or more runs."""

from __future__ import annotations

import math
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from gdcourse.plots._runs import GID_DIVERGED, GID_LOSS, Run, as_runs, figure_and_axes

__all__ = ["plot_loss"]


def _x_values(run: Run, against: str, i: int) -> np.ndarray:
    assert run.losses is not None  # as_runs(kind="losses") checked
    n = len(run.losses)
    if against == "step":
        return np.arange(n, dtype=np.float64)
    source = run.source
    extras = getattr(source, "extras", None) or {}
    values = extras.get(against, getattr(source, against, None)) if source is not None else None
    if values is None:
        raise ValueError(
            f"against={against!r}: histories[{i}] has no such entry in .extras or attribute; use against='step'"
        )
    x = np.asarray(values, dtype=np.float64).reshape(-1)
    if x.size != n:
        raise ValueError(f"against={against!r}: histories[{i}] has {x.size} values for {n} losses")
    return x


def plot_loss(
    histories: Any,
    ax: Axes | None = None,
    *,
    log: bool = True,
    against: str = "step",
    f_min: float | None = None,
    ceiling_factor: float = 1e6,
) -> Figure:
    r"""Plot the cost of each run against the step.

    The figure shows :math:`J(\theta_t)` for :math:`t = 0, 1, \dots`, or the
    *optimality gap* :math:`J(\theta_t) - J^*` when ``f_min`` (:math:`J^*`) is
    given.  On the default log scale a linearly converging run,
    :math:`J(\theta_t) - J^* \approx C\,\rho^{t}`, is a straight line of slope
    :math:`\log_{10}\rho` per step, so rates can be read off and compared; plot
    the gap, not :math:`J` itself, or the line bends towards :math:`J^*` and
    hides the rate.  A run that diverged is drawn up to the step where it stopped,
    and that step is marked with a cross (at the top edge when the cost is off
    the scale or no longer finite); its legend entry says at which step it
    diverged.

    Parameters
    ----------
    histories : History, array or sequence of them
        :class:`~gdcourse.descent.History` objects, or raw arrays of costs of
        shape ``(n+1,)`` from any backend.
    ax : Axes, optional
        Draw into this axes; by default a new figure is created.
    log : bool
        Logarithmic cost axis (default).  Values :math:`\le 0` cannot be shown on
        it and are left out (e.g. a gap that reached exactly 0, or a cost below 0:
        pass ``f_min`` or use ``log=False``).
    against : str
        ``"step"`` (default), or the name of an entry of ``History.extras`` (or
        an attribute) holding one value per iterate, e.g. ``"epoch"``.
    f_min : float, optional
        The minimum value :math:`J^*`; the curves show :math:`J(\theta_t) - J^*`.
    ceiling_factor : float
        The cost axis stops at ``ceiling_factor`` times the largest starting
        value (a diverging run leaves through the top instead of squashing the
        others flat); the same factor as ``divergence_factor`` in
        :func:`gdcourse.descent.minimize`.

    Returns
    -------
    Figure
        The figure (not shown: end the cell with ``plt.show()``).
    """
    runs = as_runs(histories, kind="losses")
    fig, ax = figure_and_axes(ax)
    shift = 0.0
    if f_min is not None:
        shift = float(f_min)
        if not math.isfinite(shift):
            raise ValueError(f"f_min must be a finite number or None, got {f_min!r}")
    ys: list[np.ndarray] = []
    for run in runs:
        assert run.losses is not None  # as_runs(kind="losses") checked
        y = run.losses - shift
        ys.append(np.where(y > 0, y, np.nan) if log else y)
    shown = np.concatenate([y[np.isfinite(y)] for y in ys]) if ys else np.empty(0)
    starts = [abs(y[np.isfinite(y)][0]) for y in ys if np.isfinite(y).any()]
    ceiling = ceiling_factor * max([1e-300, *starts]) if starts else math.inf
    if log:
        ax.set_yscale("log")
    if shown.size:  # limits before drawing: huge costs of a diverged run must not drive autoscaling
        bottom, top = float(shown.min()), min(float(shown.max()), ceiling)
        if log:
            a, b = math.log10(bottom), math.log10(max(top, bottom))
            margin = 0.05 * (b - a) if b > a else 0.5
            ax.set_ylim(10 ** (a - margin), 10 ** (b + margin))
        else:
            margin = 0.05 * (top - bottom) if top > bottom else 0.5
            ax.set_ylim(bottom - margin, top + margin)
    top_edge = ax.get_ylim()[1]
    colors = plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])
    for i, (run, y) in enumerate(zip(runs, ys, strict=True)):
        x = _x_values(run, against, i)
        color = colors[i % len(colors)]
        ax.plot(x, y, color=color, label=run.legend_label, gid=GID_LOSS)
        if run.diverged:
            last = y[-1] if np.isfinite(y[-1]) else math.inf
            ax.plot(x[-1:], [min(last, top_edge)], linestyle="none", marker="X", markersize=12, color=color,
                    markeredgecolor="white", clip_on=False, gid=GID_DIVERGED, zorder=4)
    ax.set_xlabel("step $t$" if against == "step" else against)
    ax.set_ylabel(r"$J(\theta_t) - J^*$" if f_min is not None else r"$J(\theta_t)$")
    if runs:
        ax.legend(loc="best")
    return fig
