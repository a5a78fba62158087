"""Shared helpers: turn histories or raw arrays from any backend into host data ready to draw."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Number
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from gdcourse.backend import to_numpy

#: ``gid`` of the artists the plotting functions draw, so tests and later code can find them.
GID_TRAJECTORY = "trajectory"
GID_START = "start"
GID_END = "end"
GID_MINIMA = "minima"
GID_CURVE = "objective"
GID_LOSS = "loss"
GID_DIVERGED = "diverged"


@dataclass(frozen=True)
class Run:
    """One run, on the host: path ``(n+1, dim)`` and/or losses ``(n+1,)``, label, why it stopped."""

    path: np.ndarray | None
    losses: np.ndarray | None
    label: str
    stop_reason: str = ""
    source: Any = None

    @property
    def diverged(self) -> bool:
        """``True`` when the run stopped because it diverged."""
        return self.stop_reason == "diverged"

    @property
    def n_steps(self) -> int:
        """Number of updates in the run."""
        data = self.losses if self.losses is not None else self.path
        return 0 if data is None else len(data) - 1

    @property
    def legend_label(self) -> str:
        """The label, plus ``" — diverged at step k"`` for a run that diverged."""
        return self.label + (f" — diverged at step {self.n_steps}" if self.diverged else "")


def _host_float(x: Any, what: str) -> np.ndarray:
    try:
        arr = np.asarray(to_numpy(x), dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{what} must be an array of real numbers, got {type(x).__name__}") from err
    # Non-finite entries (a diverged run) become NaN: matplotlib leaves a gap instead of failing.
    return np.where(np.isfinite(arr), arr, np.nan)


def _is_single(item: Any) -> bool:
    if hasattr(item, "path") or hasattr(item, "losses"):
        return True
    if isinstance(item, list | tuple):
        return len(item) > 0 and isinstance(item[0], Number)
    return hasattr(item, "shape")


def as_runs(histories: Any, *, kind: str) -> list[Run]:
    """Normalise ``histories`` to a list of :class:`Run`.

    Parameters
    ----------
    histories : History, array, or a sequence of them
        A :class:`~gdcourse.descent.History` (anything with ``.path`` / ``.losses`` /
        ``.label`` / ``.stop_reason``), or a raw array from any backend: a path of
        shape ``(n+1, dim)`` when ``kind="path"``, losses of shape ``(n+1,)`` when
        ``kind="losses"``.
    kind : {"path", "losses"}
        What a raw array holds.
    """
    if histories is None:
        return []
    items = [histories] if _is_single(histories) else list(histories)
    runs = []
    for i, item in enumerate(items):
        default_label = f"run {i + 1}"
        if hasattr(item, "path") or hasattr(item, "losses"):
            path = getattr(item, "path", None)
            losses = getattr(item, "losses", None)
            path = None if path is None else _host_float(path, f"histories[{i}].path")
            losses = None if losses is None else _host_float(losses, f"histories[{i}].losses")
            label = str(getattr(item, "label", "") or default_label)
            runs.append(Run(path, losses, label, str(getattr(item, "stop_reason", "") or ""), item))
        else:
            arr = _host_float(item, f"histories[{i}]")
            if kind == "path":
                runs.append(Run(arr.reshape(len(arr), -1) if arr.ndim == 1 else arr, None, default_label))
            else:
                runs.append(Run(None, arr.reshape(-1), default_label))
    for i, run in enumerate(runs):
        if kind == "path":
            if run.path is None or run.path.ndim != 2:
                shape = None if run.path is None else run.path.shape
                raise ValueError(f"histories[{i}]: expected a path of shape (n_steps + 1, dim), got shape {shape}")
        elif run.losses is None or run.losses.ndim != 1:
            shape = None if run.losses is None else run.losses.shape
            raise ValueError(f"histories[{i}]: expected losses of shape (n_steps + 1,), got shape {shape}")
    return runs


def figure_and_axes(ax: Axes | None, **subplots_kw: Any) -> tuple[Figure, Axes]:
    """``ax`` and its figure, or a new pyplot figure with one axes.

    Parameters
    ----------
    ax : Axes or None
        The axes to draw into; ``None`` makes a new figure with ``plt.subplots(**subplots_kw)``.
        Anything else is rejected (``TypeError``).
    **subplots_kw
        Passed to :func:`matplotlib.pyplot.subplots` for a new figure (e.g. ``figsize``); unused with ``ax``.

    Returns
    -------
    (Figure, Axes)
        The figure holding ``ax`` (its root figure, not a subfigure) and ``ax``.
    """
    if ax is None:
        fig, ax = plt.subplots(**subplots_kw)
        return fig, ax
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    try:
        fig = ax.get_figure(root=True)
    except TypeError:  # matplotlib < 3.10: no subfigure-aware ``root``
        fig = ax.figure
    return fig, ax


def _settled(run: Run) -> bool:
    """``True`` unless the run diverged or its cost went up overall (its iterates may be escaping)."""
    if run.diverged:
        return False
    losses = run.losses
    return losses is None or len(losses) < 2 or bool(np.isfinite(losses[-1]) and losses[-1] <= losses[0])


def window_of(
    objective: Any, runs: Sequence[Run], window: Any, dim: int, *, max_growth: float = 3.0
) -> list[tuple[float, float]]:
    """The plotting window: ``window`` if given, else the objective's ``domain`` grown to show the runs.

    Every start point is included, and every iterate of a run that neither
    diverged nor ended with a higher cost than it started with, but the window
    never grows beyond ``max_growth`` times the domain's span around its centre
    (a run that escapes is drawn until it leaves the window).

    Parameters
    ----------
    objective : Objective
        Its ``domain``, one ``(low, high)`` pair per coordinate, is the smallest window.  Without one
        (and without ``window``) the window is unknown (``ValueError``).
    runs : sequence of Run
        The runs to show, from :func:`as_runs`; their paths may grow the window.
    window : sequence of (float, float), or None
        An explicit window, one finite ``(low, high)`` pair with ``low < high`` per coordinate, used as
        it is; anything else is rejected (``ValueError``).  ``None`` computes the window.
    dim : int
        Number of coordinates drawn (1 for a curve, 2 for a contour map).
    max_growth : float, default 3.0
        The window grows at most to ``max_growth`` times the domain's half-span on each side of its centre.

    Returns
    -------
    list of (float, float)
        One ``(low, high)`` pair per coordinate.
    """
    if window is not None:
        win = np.asarray(window, dtype=np.float64).reshape(dim, 2)
        if not (np.all(np.isfinite(win)) and np.all(win[:, 1] > win[:, 0])):
            raise ValueError(f"window must be {dim} finite (low, high) pair(s) with low < high, got {window!r}")
        return [(float(lo), float(hi)) for lo, hi in win]
    domain = getattr(objective, "domain", None)
    if not domain or len(domain) != dim:
        raise ValueError(f"{type(objective).__name__} has no plotting domain; pass window=[(low, high), ...]")
    out = []
    for d, (lo, hi) in enumerate(domain):
        centre, half = 0.5 * (lo + hi), 0.5 * (hi - lo)
        cap_lo, cap_hi = centre - max_growth * half, centre + max_growth * half
        points = [r.path[:, d] if _settled(r) else r.path[:1, d] for r in runs if r.path is not None]
        values = np.concatenate(points) if points else np.empty(0)
        values = values[np.isfinite(values) & (values >= cap_lo) & (values <= cap_hi)]
        if values.size:
            pad = 0.05 * (hi - lo)
            lo, hi = min(lo, float(values.min()) - pad), max(hi, float(values.max()) + pad)
        out.append((float(lo), float(hi)))
    return out


def f_min_of(objective: Any) -> float | None:
    """The objective's known minimum value, or ``None`` when unknown or not finite."""
    value = getattr(objective, "f_min", None)
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def evaluate(objective: Any, grid: np.ndarray) -> np.ndarray:
    """``objective.value`` on a host grid of shape ``(dim, *shape)``, returned on the host with NaN for non-finite.

    Parameters
    ----------
    objective : Objective or callable
        Its ``value(theta)`` (or the callable itself) must be vectorised: ``theta`` of shape ``(dim, *shape)``
        gives values of shape ``shape``; another shape is rejected (``ValueError``).
    grid : ndarray, shape (dim, *shape)
        The points, coordinates first (e.g. ``np.stack(np.meshgrid(x, y))``).

    Returns
    -------
    ndarray, shape ``shape``
        The values as float64, NaN where they are not finite (matplotlib leaves a gap there).
    """
    value_fn = getattr(objective, "value", objective)
    with np.errstate(all="ignore"):
        z = np.asarray(to_numpy(value_fn(grid)), dtype=np.float64)
    if z.shape != grid.shape[1:]:
        raise ValueError(
            f"objective.value must be vectorised over a grid: theta of shape {grid.shape} gave shape {z.shape}"
        )
    return np.where(np.isfinite(z), z, np.nan)
