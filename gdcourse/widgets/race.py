r"""An optimizer race: several update rules from the same start on the same map, paths and costs side by side.

Like every explorer (see :mod:`gdcourse.widgets.lr_explorer`) it is split in three:

* the *state* function :func:`race_state` runs every chosen optimizer with its learning
  rate (:func:`run_racer`), ranks the runs (:func:`race_score`) and returns the runs with
  a one-line standings text;
* the *draw* function :func:`draw_race` draws the paths on the contour map (left) and the
  costs against the step (right) into a :class:`~matplotlib.figure.Figure`;
* the widget :func:`race` wires a dropdown (the track: Beale, a saddle, Rosenbrock), one
  checkbox and one learning-rate slider per optimizer, and a steps slider to those two.

:func:`animate_race` plays finished races side by side, step by step (a deterministic
JavaScript player, see :mod:`gdcourse.plots.animation`).

Show the widget as the last expression of a cell; its ``text/plain`` form is a fixed
string such as ``Race(beale, 200 steps: GD η=0.0316, Adam η=0.1)``, so strict nbval sees
the same output on every run (the figure lives in the widget's ``Output``, as a PNG).

How a race is scored
--------------------
* On a track with a known minimum (Beale, Rosenbrock): the gap :math:`J(\theta_T) - J^*`
  after the last step; lower is better, a run that diverged comes last.
* On a track that is unbounded below (the saddle :math:`x^2 - y^2`): the first step at which
  :math:`J \le` ``escape_level`` (default :math:`-1`, well below the saddle value 0), i.e. the
  run has left the saddle point downhill; fewer steps is better.  A run is stopped where it
  leaves the map (the objective's ``domain``): leaving it before escaping (say, thrown out
  along the stable :math:`x` direction by a too large step) counts as a failure, like diverging.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, NamedTuple

import ipywidgets as widgets
import numpy as np
from cycler import cycler
from matplotlib import rc_context
from matplotlib.animation import FuncAnimation
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine

from gdcourse import functions, optim
from gdcourse.descent import History, minimize
from gdcourse.plots import PALETTE, plot_contour, plot_loss
from gdcourse.plots._runs import f_min_of
from gdcourse.plots.animation import AnimationHTML, embedded_player
from gdcourse.widgets._explorer import Explorer, check_range, log_slider, new_or_cleared
from gdcourse.widgets.lr_explorer import _start

__all__ = [
    "DEFAULT_LRS",
    "RACERS",
    "RACER_COLORS",
    "TRACKS",
    "Race",
    "RaceState",
    "animate_race",
    "draw_race",
    "race",
    "race_score",
    "race_state",
    "run_racer",
]

#: The optimizers of the race: name -> factory ``lr -> Optimizer`` (other hyperparameters: torch's defaults).
RACERS: dict[str, Callable[[float], optim.Optimizer]] = {
    "GD": lambda lr: optim.gd(lr),
    "momentum": lambda lr: optim.sgd(lr, momentum=0.9),
    "Adagrad": lambda lr: optim.adagrad(lr),
    "RMSprop": lambda lr: optim.rmsprop(lr),
    "Adadelta": lambda lr: optim.adadelta(lr),
    "Adam": lambda lr: optim.adam(lr),
}

#: Each racer's colour (the Okabe-Ito palette in the order of :data:`RACERS`), the same in every figure.
RACER_COLORS: dict[str, str] = {name: PALETTE[i] for i, name in enumerate(RACERS)}

#: The tracks of the widget's dropdown: name -> objective factory.
TRACKS: dict[str, Callable[[], Any]] = {
    "beale": functions.Beale,
    "saddle": functions.Saddle,
    "rosenbrock": functions.Rosenbrock,
}

#: Starting learning rates per track and optimizer: the best of the 11-point grid
#: ``10 ** np.arange(-4, 1.01, 0.5)`` after 200 steps from the track's ``start``, scored by
#: :func:`race_score` (an equal tuning budget per optimizer, as in notebook 07).
DEFAULT_LRS: dict[str, dict[str, float]] = {
    "beale": {"GD": 0.0316, "momentum": 0.00316, "Adagrad": 1.0, "RMSprop": 0.1, "Adadelta": 10.0, "Adam": 3.16},
    "saddle": {"GD": 0.316, "momentum": 1.0, "Adagrad": 0.316, "RMSprop": 0.0316, "Adadelta": 10.0, "Adam": 1.0},
    "rosenbrock": {"GD": 0.001, "momentum": 0.001, "Adagrad": 3.16, "RMSprop": 0.316, "Adadelta": 10.0, "Adam": 1.0},
}


class RaceState(NamedTuple):
    """What the race shows: one run per optimizer (in the order given) and the standings."""

    histories: dict[str, History]
    status: str


def _colors(names: Sequence[str]) -> list[str]:
    """One colour per name: :data:`RACER_COLORS` for racers, the palette's other colours for other names."""
    spare = [c for c in PALETTE if c not in RACER_COLORS.values()] or list(PALETTE)
    out, k = [], 0
    for name in names:
        if name in RACER_COLORS:
            out.append(RACER_COLORS[name])
        else:
            out.append(spare[k % len(spare)])
            k += 1
    return out


def _unbounded(objective: Any) -> bool:
    return f_min_of(objective) is None


def _inside(objective: Any, path: np.ndarray) -> np.ndarray:
    """``True`` for each iterate inside the objective's ``domain`` (the map)."""
    inside = np.ones(len(path), dtype=bool)
    for d, (lo, hi) in enumerate(objective.domain):
        inside &= (path[:, d] >= lo) & (path[:, d] <= hi)
    return inside


def _truncate(history: History, n: int, reason: str, message: str) -> History:
    """The first ``n`` updates of ``history`` (``n + 1`` iterates)."""
    return replace(
        history,
        path=history.path[: n + 1],
        losses=history.losses[: n + 1],
        grad_norms=history.grad_norms[: n + 1],
        lrs=history.lrs[:n],
        stop_reason=reason,
        message=message,
    )


def run_racer(objective: Any, name: str, lr: float, n_steps: int = 200, theta0: Any = None) -> History:
    r"""Run the optimizer ``name`` of :data:`RACERS` with learning rate ``lr`` for ``n_steps`` updates.

    The run is :func:`gdcourse.descent.minimize` with ``on_divergence="stop"``, labelled
    ``"Adam η=0.1"``.  On an objective that is unbounded below, the run is cut at the last
    iterate inside the map (``objective.domain``) with ``stop_reason = "left the map"``.

    Parameters
    ----------
    objective : Objective
        A 2-D objective with a ``domain``.
    name : str
        A key of :data:`RACERS`.
    lr : float
        Learning rate :math:`\eta > 0`.
    n_steps : int
        Budget of updates.
    theta0 : array, optional
        Start (default ``objective.start``).

    Returns
    -------
    History
    """
    if name not in RACERS:
        raise ValueError(f"unknown racer {name!r}; the racers are {', '.join(RACERS)}")
    if not (isinstance(lr, int | float) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr for {name} must be a positive finite number, got {lr!r}")
    history = minimize(
        objective,
        _start(objective, theta0),
        optimizer=RACERS[name](float(lr)),
        max_iter=int(n_steps),
        on_divergence="stop",
        label=f"{name} η={lr:.3g}",
    )
    if _unbounded(objective):
        outside = np.flatnonzero(~_inside(objective, history.path))
        if outside.size:
            k = int(outside[0]) - 1  # the last update that stayed on the map
            history = _truncate(history, max(k, 0), "left the map", f"left the map at step {k + 1}")
    return history


def race_score(objective: Any, history: History, escape_level: float = -1.0) -> tuple[tuple[int, float], str]:
    r"""Rank key (lower is better) and a short result text for one run of the race.

    * Objective with a known minimum :math:`J^*`: key ``(0, J_T - J*)`` and ``"J − J* = 1.2e-05"``.
    * Unbounded objective: key ``(0, t)`` and ``"escaped at step t"`` for the first step with
      :math:`J \le` ``escape_level``; else ``(1, J_T)`` and ``"J = 2.2 after T steps"``.
    * A run that diverged or left the map (before escaping): key ``(2, step)``.

    Parameters
    ----------
    objective : Objective
        The track; its ``f_min`` (:math:`J^*`) decides which rule ranks the runs (none, or not finite:
        unbounded).
    history : History
        One racer's run, from :func:`run_racer`.
    escape_level : float, default -1.0
        On an unbounded objective, a run has escaped at the first step with :math:`J \le` ``escape_level``.

    Returns
    -------
    ((int, float), str)
        The rank key, compared as a tuple (group first, then the number), and the result text.
    """
    n = history.n_iter
    if _unbounded(objective):
        escaped = np.flatnonzero(history.losses <= escape_level)
        if escaped.size:
            return (0, float(escaped[0])), f"escaped at step {int(escaped[0])}"
        if history.stop_reason == "left the map":
            return (2, float(n)), f"thrown off the map at step {n + 1}"
        if history.stop_reason == "diverged":
            return (2, float(n)), f"diverged at step {n}"
        return (1, history.final_loss), f"J = {history.final_loss:.3g} after {n} steps"
    if history.stop_reason == "diverged":
        return (2, float(n)), f"diverged at step {n}"
    f_min = f_min_of(objective)
    assert f_min is not None  # not _unbounded(objective)
    gap = history.final_loss - f_min
    return (0, gap), f"J − J* = {gap:.2g}"


def race_state(
    objective: Any,
    lrs: Mapping[str, float],
    n_steps: int = 200,
    theta0: Any = None,
    *,
    escape_level: float = -1.0,
) -> RaceState:
    r"""Run every optimizer of ``lrs`` (name -> learning rate) and rank them.

    Parameters
    ----------
    objective : Objective
        The track, a 2-D objective with a ``domain``.
    lrs : mapping
        ``{"Adam": 0.1, "GD": 0.03, ...}``: names of :data:`RACERS` and their learning rates.
    n_steps : int
        Budget of updates of every run.
    theta0 : array, optional
        Common start (default ``objective.start``).
    escape_level : float
        For an objective unbounded below: the cost at which a run has escaped (see
        :func:`race_score`).

    Returns
    -------
    RaceState
        ``histories`` (name -> :class:`~gdcourse.descent.History`, in the order of ``lrs``) and
        ``status``: ``"200 steps — 1. Adam: J − J* = 3e-07 · 2. GD: …"`` (ties keep the given order).
    """
    if isinstance(n_steps, bool) or not isinstance(n_steps, int) or n_steps < 1:
        raise ValueError(f"n_steps must be a positive integer, got {n_steps!r}")
    start = _start(objective, theta0)
    histories = {name: run_racer(objective, name, lr, n_steps, start) for name, lr in lrs.items()}
    if not histories:
        return RaceState({}, "no optimizer chosen: tick at least one")
    scored = [(race_score(objective, h, escape_level), i, name) for i, (name, h) in enumerate(histories.items())]
    ranked = sorted(scored, key=lambda item: (item[0][0], item[1]))
    standings = " · ".join(f"{place}. {name}: {text}" for place, ((_, text), _, name) in enumerate(ranked, 1))
    return RaceState(histories, f"{n_steps} steps — {standings}")


def draw_race(
    objective: Any,
    histories: Mapping[str, History] | Sequence[History],
    fig: Figure | None = None,
    *,
    title: str | None = None,
) -> Figure:
    r"""Draw a race: every path on the contour map (left), every cost against the step (right).

    The map shows the objective's ``domain`` (fixed, so the frame stays still while
    sliders move).  The cost panel shows :math:`J(\theta_t) - J^*` on a log scale when
    :math:`J^*` is known, else :math:`J(\theta_t)` on a linear scale.  Each racer keeps its colour
    of :data:`RACER_COLORS` (other names, and runs given as a sequence, take the palette's other colours).

    Parameters
    ----------
    objective : Objective
        The track (2-D, with a ``domain``).
    histories : mapping or sequence of History
        The runs, e.g. ``race_state(...).histories``.
    fig : Figure, optional
        Clear and reuse this figure; by default a new :class:`~matplotlib.figure.Figure` not
        managed by ``pyplot``.
    title : str, optional
        A title over both panels.

    Returns
    -------
    Figure
    """
    runs = list(histories.values()) if isinstance(histories, Mapping) else list(histories)
    names = list(histories) if isinstance(histories, Mapping) else [f"run {i}" for i in range(len(runs))]
    fig = new_or_cleared(fig, figsize=(9.5, 3.9), dpi=80)
    ax_path, ax_loss = fig.subplots(1, 2)
    f_min = f_min_of(objective)
    with rc_context({"axes.prop_cycle": cycler(color=_colors(names) or list(PALETTE))}):
        plot_contour(objective, runs, ax=ax_path, window=objective.domain, levels=15)
        if runs:
            plot_loss(runs, ax=ax_loss, f_min=f_min, log=f_min is not None)
    if not runs:
        ax_loss.set(xlabel="step $t$", ylabel=r"$J(\theta_t)$")
    if f_min is None:  # unbounded below: show the costs met on the map, not where escaped runs went
        values = np.concatenate([h.losses for h in runs]) if runs else np.zeros(1)
        values = values[np.isfinite(values)]
        low, high = float(values.min()), float(values.max())
        pad = 0.05 * ((high - low) or 1.0)
        ax_loss.set_ylim(low - pad, high + pad)
    if runs:
        ax_path.legend(loc="best", fontsize="x-small")
        ax_loss.legend(loc="best", fontsize="x-small")
    if title:
        fig.suptitle(title)
    return fig


def _frame_steps(n_steps: int, n_frames: int) -> np.ndarray:
    """Steps shown by the frames: 0 ... n_steps, geometrically spaced (early steps, where most happens, get more)."""
    return np.unique(np.round(np.geomspace(1, n_steps + 1, n_frames)).astype(int) - 1)


def animate_race(
    tracks: Mapping[str, Any],
    runs: Mapping[str, Mapping[str, History]],
    *,
    n_frames: int = 25,
    interval: int = 300,
    dpi: int = 50,
    levels: int = 9,
    name: str = "race",
) -> AnimationHTML:
    r"""Animate races side by side: one contour map per track, every racer's path growing step by step.

    Frame :math:`k` shows each path up to step :math:`s_k`, with the steps spaced geometrically from 0
    to the longest run's last step (a run that stopped earlier stays at its end).  A colour key names
    the racers (each in its colour of :data:`RACER_COLORS`, as in :func:`draw_race`).  The
    result is matplotlib's JavaScript player with the frames embedded, made deterministic by
    :func:`gdcourse.plots.animation.deterministic_ids` (strict nbval compares it byte for byte) and
    small by :func:`gdcourse.plots.animation.compress_frames` (the course's palette, so every racer
    keeps its exact colour).

    Parameters
    ----------
    tracks : mapping
        Title -> 2-D objective with a ``domain`` (the window shown).
    runs : mapping
        Title (the keys of ``tracks``) -> {racer name -> History}.
    n_frames : int
        Number of frames before removing repeated steps (2 to 60; each frame is stored).
    interval : int
        Milliseconds between frames.
    dpi : int
        Resolution of the frames.
    levels : int
        Contour levels per map.
    name : str
        Used in the player's id.

    Returns
    -------
    AnimationHTML
        Shown as the player when it is the last expression of a cell; ``repr`` is a short fixed text.
    """
    if isinstance(n_frames, bool) or not isinstance(n_frames, int) or not 2 <= n_frames <= 60:
        raise ValueError(f"n_frames must be an integer from 2 to 60 (each frame is stored), got {n_frames!r}")
    if set(runs) != set(tracks) or not tracks:
        raise ValueError(f"runs must have one entry per track: tracks {list(tracks)}, runs {list(runs)}")
    fig = Figure(figsize=(4.0 * len(tracks), 4.6), dpi=dpi, layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(tracks)))
    names = list(dict.fromkeys(racer for title in tracks for racer in runs[title]))
    color_of = dict(zip(names, _colors(names), strict=True))
    moving = []
    for ax, (title, objective) in zip(axes, tracks.items(), strict=True):
        plot_contour(objective, ax=ax, window=objective.domain, levels=levels, n_grid=120)
        ax.set(xticks=[], yticks=[], xlabel="", ylabel="", title=title)
        for racer, history in runs[title].items():
            (line,) = ax.plot([], [], color=color_of[racer], linewidth=1.8)
            (head,) = ax.plot([], [], "o", color=color_of[racer], markersize=8, markeredgecolor="white")
            moving.append((line, head, np.asarray(history.path)))
    for i, racer in enumerate(names):  # a colour key as plain text: a legend costs more per frame than the rest
        fig.text(
            (i + 0.5) / len(names),
            0.015,
            racer,
            color=color_of[racer],
            ha="center",
            va="bottom",
            fontsize=13,
            fontweight="bold",
        )
    counter = fig.suptitle("step 0", fontsize=14)
    engine = fig.get_layout_engine()
    assert isinstance(engine, ConstrainedLayoutEngine)  # layout="constrained" above
    engine.set(rect=(0.0, 0.07, 1.0, 0.93))  # room for the key below the maps
    fig.draw_without_rendering()  # lay out once; the frames keep that layout
    fig.set_layout_engine("none")
    steps = _frame_steps(max(len(path) - 1 for _, _, path in moving), n_frames)

    def draw(step: int) -> list:
        for line, head, path in moving:
            shown = path[: min(step, len(path) - 1) + 1]
            line.set_data(shown[:, 0], shown[:, 1])
            head.set_data(shown[-1:, 0], shown[-1:, 1])
        counter.set_text(f"step {step}")
        return []

    animation = FuncAnimation(fig, draw, frames=steps, interval=interval, repeat=False)
    return embedded_player(animation, name, n_frames=len(steps), interval=interval, dpi=dpi)


class Race(Explorer):
    r"""The race widget; build it with :func:`race`.

    Attributes
    ----------
    track : ipywidgets.Dropdown
        The objective (a key of :data:`TRACKS`).
    checkboxes : dict of ipywidgets.Checkbox
        One per racer: whether it runs.
    lr_sliders : dict of ipywidgets.FloatLogSlider
        One per racer: its learning rate :math:`\eta`.
    steps_slider : ipywidgets.IntSlider
        The number of steps.
    status : ipywidgets.HTML
        The standings of :func:`race_state`.
    output : ipywidgets.Output
        Shows the figure as a PNG.
    figure : Figure
        Redrawn in place on every change.
    state : RaceState
        The last race.
    """

    def __init__(
        self,
        track: str,
        selected: Sequence[str],
        lrs: Mapping[str, float],
        n_steps: int,
        max_steps: int,
        lr_range: tuple[float, float],
    ) -> None:
        self._quiet = True
        self.track = widgets.Dropdown(options=list(TRACKS), value=track, description="track")
        self.steps_slider = widgets.IntSlider(
            value=n_steps, min=1, max=max_steps, description="steps", continuous_update=False
        )
        self.checkboxes: dict[str, widgets.Checkbox] = {}
        self.lr_sliders: dict[str, widgets.FloatLogSlider] = {}
        rows = []
        for name in RACERS:
            self.checkboxes[name] = widgets.Checkbox(value=name in selected, description=name, indent=False)
            self.lr_sliders[name] = log_slider(lrs[name], lr_range, step=0.05)
            rows.append(widgets.HBox([self.checkboxes[name], self.lr_sliders[name]]))
        grid = widgets.GridBox(rows, layout=widgets.Layout(grid_template_columns="repeat(2, 50%)"))
        super().__init__(widgets.HBox([self.track, self.steps_slider]), grid)
        self.objective = TRACKS[track]()
        self.start(self.steps_slider, *self.checkboxes.values(), *self.lr_sliders.values())
        self._quiet = False
        self.track.observe(self._on_track, names="value")

    @property
    def entries(self) -> dict[str, float]:
        """The racers that are ticked, with their learning rates."""
        return {n: float(self.lr_sliders[n].value) for n in RACERS if self.checkboxes[n].value}

    def update(self) -> None:
        """Rerun the race with the controls' values and redraw the figure and the standings."""
        self.state = race_state(self.objective, self.entries, n_steps=int(self.steps_slider.value))
        self.show(draw_race(self.objective, self.state.histories, fig=self.figure))
        self.set_status(self.state.status)

    def _on_track(self, change: dict) -> None:
        """A new track: its objective and its default learning rates, then one redraw."""
        self._quiet = True
        try:
            self.objective = TRACKS[change["new"]]()
            for name, slider in self.lr_sliders.items():
                slider.value = DEFAULT_LRS[change["new"]][name]
        finally:
            self._quiet = False
        self._on_change(change)

    def _on_change(self, change: dict) -> None:
        if not self._quiet:
            super()._on_change(change)

    def __repr__(self) -> str:
        runners = ", ".join(f"{n} η={lr:.3g}" for n, lr in self.entries.items()) or "no racers"
        return f"Race({self.track.value}, {self.steps_slider.value} steps: {runners})"


def race(
    track: str = "beale",
    optimizers: Sequence[str] = ("GD", "momentum", "RMSprop", "Adam"),
    lrs: Mapping[str, float] | None = None,
    n_steps: int = 200,
    *,
    max_steps: int = 1000,
    lr_range: tuple[float, float] = (1e-4, 10.0),
) -> Race:
    r"""An optimizer race: pick a track and the racers, set each one's learning rate, compare.

    Every change reruns :func:`race_state` and redraws :func:`draw_race`: the paths of the
    ticked optimizers on the contour map and their costs, with the standings above (see the
    module docstring for the scoring).  Choosing another track resets the learning rates to
    that track's :data:`DEFAULT_LRS`.  Show it as the last expression of a cell.

    Parameters
    ----------
    track : {"beale", "saddle", "rosenbrock"}
        The objective to start on.
    optimizers : sequence of str
        The racers ticked at the start (keys of :data:`RACERS`).
    lrs : mapping, optional
        Learning rates to start with, overriding :data:`DEFAULT_LRS` of ``track``.
    n_steps : int
        Initial number of steps.
    max_steps : int
        Upper end of the steps slider.
    lr_range : (float, float)
        Range of the log-scale learning-rate sliders.

    Returns
    -------
    Race
        A ``VBox`` with ``.track``, ``.checkboxes``, ``.lr_sliders``, ``.steps_slider``,
        ``.status``, ``.output``, ``.figure``, ``.state``.
    """
    if track not in TRACKS:
        raise ValueError(f"unknown track {track!r}; the tracks are {', '.join(TRACKS)}")
    unknown = [n for n in [*optimizers, *(lrs or {})] if n not in RACERS]
    if unknown:
        raise ValueError(f"unknown racer(s) {', '.join(map(repr, unknown))}; the racers are {', '.join(RACERS)}")
    low, high = check_range("lr", lr_range)
    start_lrs = {**DEFAULT_LRS[track], **(lrs or {})}
    outside = {n: v for n, v in start_lrs.items() if not low <= v <= high}
    if outside:
        raise ValueError(f"learning rates {outside} are outside lr_range={lr_range!r}")
    if isinstance(n_steps, bool) or not isinstance(n_steps, int) or not 1 <= n_steps <= max_steps:
        raise ValueError(f"n_steps must be an integer in [1, max_steps={max_steps}], got {n_steps!r}")
    return Race(track, list(optimizers), start_lrs, n_steps, int(max_steps), (low, high))
