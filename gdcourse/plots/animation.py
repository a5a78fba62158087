r"""Trajectories that move: an animation of one or more runs on a contour map, playable in the notebook.

:func:`animate_paths` draws the runs step by step with :class:`matplotlib.animation.FuncAnimation` and
returns the animation as self-contained HTML (matplotlib's JavaScript player with the frames embedded
as PNG), which plays offline in JupyterLab and in a saved notebook: no ffmpeg, no network.

Why not simply ``HTML(anim.to_jshtml())``?  Strict nbval compares a cell's ``text/html`` byte for
byte, and matplotlib's player gets a fresh random id (``uuid4``) on every run.  Here the id is derived
from the animation's name and content (a hash), so the same run gives the same bytes: the frames
themselves are deterministic PNGs (same matplotlib version, same data).  Two small changes make the
player fully offline: the Font Awesome stylesheet it loads from a CDN is dropped and its button icons
are replaced by plain Unicode symbols.

:func:`embedded_player` does that last part (player, fixed id, compressed frames) for any matplotlib
animation: :func:`gdcourse.widgets.race.animate_race` uses it too.

Keep animations small, they are stored in the notebook: a few dozen frames (``n_frames``), a small
figure and a low ``dpi``; the size of the HTML is ``len(anim.html)``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import Animation, FuncAnimation, HTMLWriter
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from PIL import Image

from gdcourse.plots._runs import GID_TRAJECTORY, Run, as_runs, window_of
from gdcourse.plots.paths import plot_contour
from gdcourse.plots.style import PALETTE

# matplotlib.typing.LegendLocType exists from matplotlib 3.11 on; the course supports older ones
LegendLocType = str | tuple[float, float]

__all__ = ["AnimationHTML", "animate_paths", "compress_frames", "deterministic_ids", "embedded_player"]

_ICONS = {
    "fa fa-minus": "&minus;",
    "fa fa-fast-backward": "&#x23EE;",
    "fa fa-step-backward": "&lsaquo;",
    "fa fa-play fa-flip-horizontal": "&#x25C0;",
    "fa fa-pause": "&#x23F8;",
    "fa fa-play": "&#x25B6;",
    "fa fa-step-forward": "&rsaquo;",
    "fa fa-fast-forward": "&#x23ED;",
    "fa fa-plus": "+",
}
_CDN_LINK = re.compile(r"<link[^>]*font-awesome[^>]*>\s*", re.IGNORECASE)
_PLAYER_ID = re.compile(r'id="_anim_img([0-9A-Za-z_]+)"')
_PNG_FRAME = re.compile(r'data:image/png;base64,((?:[A-Za-z0-9+/=]|\\\n)+)"')


@dataclass(frozen=True)
class AnimationHTML:
    """An animation as HTML: Jupyter shows it through ``_repr_html_``; ``repr`` is a short fixed text.

    Attributes
    ----------
    html : str
        The self-contained player (frames embedded).
    name : str
        The name the player's id was derived from.
    n_frames : int
        Number of frames.
    """

    html: str
    name: str
    n_frames: int

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"<animation {self.name!r}: {self.n_frames} frames>"


def deterministic_ids(html: str, name: str) -> str:
    """Replace the random id of matplotlib's JavaScript player by one derived from ``name`` and the content.

    Also drops the player's Font Awesome stylesheet (loaded from a CDN) and puts Unicode symbols in its
    buttons, so the player needs no network.

    Parameters
    ----------
    html : str
        Output of :meth:`matplotlib.animation.Animation.to_jshtml` (or :class:`~matplotlib.animation.HTMLWriter`).
    name : str
        A name for the animation; letters, digits and ``_`` are kept in the id.

    Returns
    -------
    str
        The same player with the id ``<name>_<12 hex digits of a SHA-256 of the content>``: equal inputs
        give equal bytes, different animations different ids (so two players in one notebook never clash).
    """
    found = _PLAYER_ID.search(html)
    if found is None:
        raise ValueError("no animation player found in html (expected matplotlib's to_jshtml output)")
    old = found.group(1)
    html = _CDN_LINK.sub("", html)
    for css, symbol in _ICONS.items():
        html = html.replace(f'<i class="{css}"></i>', symbol)
    digest = hashlib.sha256(html.replace(old, "").encode("utf-8")).hexdigest()[:12]
    slug = re.sub(r"[^0-9A-Za-z_]", "_", name) or "animation"
    return html.replace(old, f"{slug}_{digest}")


def _course_palette() -> Image.Image:
    """A 64-colour palette image: the course colours, three tints of each towards white, and 32 greys."""
    rgb = [tuple(int(c[i : i + 2], 16) for i in (1, 3, 5)) for c in PALETTE]
    tints = [tuple(round(v + (255 - v) * f) for v in c) for c in rgb for f in (0.25, 0.5, 0.75)]
    greys = [(g, g, g) for g in np.linspace(0, 255, 32).round().astype(int).tolist()]
    entries = rgb + tints + greys
    palette = Image.new("P", (1, 1))
    palette.putpalette([v for entry in entries for v in entry] + [0, 0, 0] * (256 - len(entries)))
    return palette


def compress_frames(html: str) -> str:
    """Re-encode the PNG frames of a player with a fixed 64-colour palette (about 3× smaller).

    Contour maps and a few coloured lines need few colours: the palette holds the course's colours
    (:data:`~gdcourse.plots.PALETTE`), tints of them and greys, so the lines keep their exact colours.
    Mapping to a fixed palette without dithering is deterministic: equal frames stay equal bytes.
    """
    palette = _course_palette()

    def shrink(match: re.Match) -> str:
        png = base64.b64decode(match.group(1).replace("\\\n", ""))
        image = Image.open(io.BytesIO(png)).convert("RGB")
        small = image.quantize(palette=palette, dither=Image.Dither.NONE)
        out = io.BytesIO()
        small.save(out, format="PNG")
        return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii") + '"'

    return _PNG_FRAME.sub(shrink, html)


def _frame_steps(n_steps: int, n_frames: int) -> np.ndarray:
    """The step shown in each frame: 0, ..., n_steps, evenly spread and without repeats."""
    return np.unique(np.round(np.linspace(0, n_steps, n_frames)).astype(int))


def embedded_player(animation: Animation, name: str, *, n_frames: int, interval: int, dpi: int) -> AnimationHTML:
    """Render ``animation`` as matplotlib's JavaScript player, frames embedded, deterministic and compressed.

    The player is written by :class:`~matplotlib.animation.HTMLWriter`, then its frames are re-encoded
    (:func:`compress_frames`) and its id derived from ``name`` and the content (:func:`deterministic_ids`).

    Parameters
    ----------
    animation : matplotlib.animation.Animation
        The animation to render, e.g. a :class:`~matplotlib.animation.FuncAnimation`; every frame is drawn.
    name : str
        Used for the player's id (see :func:`deterministic_ids`).
    n_frames : int
        The number of frames of ``animation``, kept in the result.
    interval : int
        Milliseconds between frames (the player's speed: ``1000 / interval`` frames per second).
    dpi : int
        Resolution of the frames.

    Returns
    -------
    AnimationHTML
        Shown as the player when it is the last expression of a cell.
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "animation.html")
        # matplotlib's stub says int, but a float works: matplotlib's own to_jshtml passes fps=1000 / interval
        writer = HTMLWriter(fps=1000 / interval, embed_frames=True, default_mode="once")  # type: ignore[arg-type]
        animation.save(str(path), writer=writer, dpi=dpi)
        html = path.read_text()
    return AnimationHTML(deterministic_ids(compress_frames(html), name), name, n_frames)


def _runs_in_the_plane(histories: Any) -> list[Run]:
    """``histories`` as runs with 2-D paths; no run, or a path of another dimension, is an error."""
    runs = as_runs(histories, kind="path")
    if not runs:
        raise ValueError("histories is empty: give at least one run to animate")
    for i, run in enumerate(runs):
        assert run.path is not None  # as_runs(kind="path") checked
        if run.path.shape[1] != 2:
            raise ValueError(f"histories[{i}] has dim {run.path.shape[1]}, expected 2")
    return runs


def _draw_map(ax: Axes, objective: Any, window: list[tuple[float, float]], levels: int) -> None:
    """The objective's contour map over ``window``, drawn once for every frame, without anti-aliasing."""
    plot_contour(objective, ax=ax, window=window, levels=levels)
    for contours in ax.collections:  # crisp contour lines compress to half the size of anti-aliased ones
        contours.set_antialiased(False)


def _moving_artists(ax: Axes, runs: list[Run]) -> tuple[list[Line2D], list[Line2D]]:
    """For each run, an empty line (its path so far) and an empty large dot (its current iterate)."""
    colors = plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])
    lines, heads = [], []
    for i, run in enumerate(runs):
        color = colors[i % len(colors)]
        (line,) = ax.plot([], [], color=color, linewidth=1.5, alpha=0.9, label=run.label, gid=GID_TRAJECTORY)
        (head,) = ax.plot([], [], color=color, marker="o", markersize=9, linestyle="none", markeredgecolor="white")
        lines.append(line)
        heads.append(head)
    return lines, heads


def animate_paths(
    objective: Any,
    histories: Any,
    *,
    n_frames: int = 25,
    interval: int = 200,
    name: str = "paths",
    title: str | None = None,
    window: Any = None,
    figsize: tuple[float, float] = (4.5, 3.6),
    dpi: int = 70,
    levels: int = 12,
    legend_loc: LegendLocType = "upper right",
) -> AnimationHTML:
    r"""Animate runs on a 2-D objective's contour map: frame :math:`k` shows each path up to step :math:`s_k`.

    The steps :math:`s_k` are spread evenly from 0 to the longest run's last step (a run that stopped
    earlier stays at its end).  Each run is a coloured line with a large dot at its current iterate,
    on the contour map of :func:`~gdcourse.plots.plot_contour`; the title shows the step.

    Parameters
    ----------
    objective : Objective
        A 2-D objective.
    histories : History, array or sequence of them
        The runs (``History`` objects or raw paths of shape ``(n+1, 2)``).
    n_frames : int, default 25
        Number of frames (at most 60: each one is a PNG stored in the notebook).
    interval : int, default 200
        Milliseconds between frames.
    name : str, default "paths"
        Used for the player's id (see :func:`deterministic_ids`).
    title : str, optional
        Shown before the step counter.
    window : ((float, float), (float, float)), optional
        Plotting window; default: the objective's domain grown to show the runs.
    figsize : (float, float), default (4.5, 3.6)
        Figure size in inches.
    dpi : int, default 70
        Resolution of the frames.
    levels : int, default 12
        Number of contour levels.
    legend_loc : str, default "upper right"
        Where the legend goes (a fixed place: ``"best"`` would move it from frame to frame).

    Returns
    -------
    AnimationHTML
        Shown as the player when it is the last expression of a cell.
    """
    if isinstance(n_frames, bool) or not isinstance(n_frames, int) or not 2 <= n_frames <= 60:
        raise ValueError(f"n_frames must be an integer from 2 to 60 (each frame is stored), got {n_frames!r}")
    if isinstance(interval, bool) or not isinstance(interval, int) or interval <= 0:
        raise ValueError(f"interval must be a positive number of milliseconds, got {interval!r}")
    runs = _runs_in_the_plane(histories)
    fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    ax = fig.subplots()
    _draw_map(ax, objective, window_of(objective, runs, window, 2), levels)
    lines, heads = _moving_artists(ax, runs)
    ax.legend(loc=cast(Any, legend_loc), fontsize=9)  # matplotlib's stubs name the location strings one by one
    ax.set(xticks=[], yticks=[], xlabel="", ylabel="")  # text is most of the drawing time; frames are small
    ax.set_title(f"{title or ''} step 0000", fontsize=11)
    fig.draw_without_rendering()  # lay out once, then keep the layout fixed for every frame
    fig.set_layout_engine("none")
    steps = _frame_steps(max(run.n_steps for run in runs), n_frames)
    prefix = f"{title} — " if title else ""

    def draw(k: int) -> list:
        step = int(steps[k])
        for run, line, head in zip(runs, lines, heads, strict=True):
            assert run.path is not None  # as_runs(kind="path") checked
            shown = run.path[: min(step, run.n_steps) + 1]
            line.set_data(shown[:, 0], shown[:, 1])
            head.set_data(shown[-1:, 0], shown[-1:, 1])
        ax.set_title(f"{prefix}step {step}", fontsize=11)
        return [*lines, *heads]

    anim = FuncAnimation(fig, draw, frames=len(steps), interval=interval, repeat=False)
    return embedded_player(anim, name, n_frames=len(steps), interval=interval, dpi=dpi)
