r"""The feature-scaling explorer: how a feature's scale and offset stretch the MSE bowl and slow gradient descent.

Built like :mod:`gdcourse.widgets.lr_explorer` (read its module docstring for how to show an explorer
so that strict nbval sees a deterministic output):

* :class:`~gdcourse.functions.LinearMSE` (re-exported here) is the cost of the line
  :math:`\hat y = w x + b` as a 2-D objective of :math:`\theta = (w, b)`, with its exact minimum,
  Hessian and condition number;
* :func:`scaling_explorer_state` makes one data set whose feature is :math:`x = o + s\,u` (``offset``
  :math:`o`, ``scale`` :math:`s`, a fixed standard-normal :math:`u`) and runs gradient descent with
  :math:`\eta = 1/L` on the raw feature and on the standardised one, counting the steps each needs;
* :func:`draw_scaling_explorer` draws both paths on their contour maps and both cost curves;
* :func:`scaling_explorer` is the thin widget (sliders for :math:`s` and :math:`o`); its ``text/plain``
  form is a fixed string such as ``ScalingExplorer(scale=2, offset=5, max_steps=5000)``.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import LogLocator, NullLocator

from gdcourse import backend
from gdcourse.descent import History, minimize
from gdcourse.functions import LinearMSE
from gdcourse.plots import plot_contour
from gdcourse.widgets._explorer import Explorer, check_range, log_slider, new_or_cleared

__all__ = [
    "LinearMSE",
    "ScalingExplorer",
    "ScalingState",
    "draw_scaling_explorer",
    "scaling_data",
    "scaling_explorer",
    "scaling_explorer_state",
]


class ScalingState(NamedTuple):
    r"""What the scaling explorer shows.

    ``surfaces`` and ``histories`` are (raw feature, standardised feature); ``kappas`` their condition
    numbers :math:`\kappa = L/\mu`; ``steps`` the number of updates each run took; ``converged`` whether
    each reached the tolerance within the budget.
    """

    surfaces: tuple[LinearMSE, LinearMSE]
    histories: tuple[History, History]
    kappas: tuple[float, float]
    steps: tuple[int, int]
    converged: tuple[bool, bool]
    status: str


def scaling_data(
    scale: float = 1.0, offset: float = 0.0, *, n_samples: int = 50, noise: float = 0.5, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    r"""One feature on a chosen scale and the same targets whatever the scale.

    .. math:: u_i \sim \mathcal N(0, 1),\quad x_i = o + s\,u_i,\qquad y_i = 1 + 2u_i + \sigma\varepsilon_i

    So :math:`y` is the same for every :math:`(s, o)`; only the units of :math:`x` change (the best line
    is :math:`w^* \approx 2/s`, :math:`b^* \approx 1 - 2o/s`), and the standardised feature
    :math:`(x - \bar x)/\mathrm{sd}(x)` is the same for every :math:`(s, o)`.

    Parameters
    ----------
    scale : float
        :math:`s > 0`.
    offset : float
        :math:`o`.
    n_samples : int
        :math:`n`.
    noise : float
        :math:`\sigma \ge 0`.
    seed : int
        Seed of the host generator (the same :math:`u, \varepsilon` for every :math:`(s, o)`).

    Returns
    -------
    x, y : ndarray, shape (n_samples,)
        Host arrays.
    """
    scale, offset = float(scale), float(offset)
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a finite number > 0, got {scale!r}")
    if not math.isfinite(offset):
        raise ValueError(f"offset must be a finite number, got {offset!r}")
    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 3:
        raise ValueError(f"n_samples must be an integer >= 3, got {n_samples!r}")
    if not (math.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    g = backend.rng(seed)
    u, eps = g.standard_normal(n_samples), g.standard_normal(n_samples)
    return offset + scale * u, 1.0 + 2.0 * u + noise * eps


def _descend(surface: LinearMSE, tol: float, max_steps: int, label: str) -> History:
    """GD with η = 1/L from (0, 0) until ‖∇J‖ ≤ tol·‖∇J(θ₀)‖ or ``max_steps`` updates."""
    theta0 = backend.asarray(np.zeros(2), dtype="float64")
    g0 = float(np.linalg.norm(backend.to_numpy(surface.grad(theta0))))
    return minimize(surface, theta0, lr=1.0 / surface.L, max_iter=max_steps, tol_grad=tol * g0,
                    on_divergence="stop", label=label)


def scaling_explorer_state(
    scale: float = 1.0,
    offset: float = 0.0,
    *,
    n_samples: int = 50,
    noise: float = 0.5,
    seed: int = 0,
    tol: float = 1e-6,
    max_steps: int = 5000,
) -> ScalingState:
    r"""Fit the line by gradient descent on the raw feature and on the standardised one; count the steps.

    The data come from :func:`scaling_data`.  Each run is
    :math:`\theta_{t+1} = \theta_t - \frac1L\nabla J(\theta_t)` from :math:`\theta_0 = (0, 0)`
    (:math:`\eta = 1/L`, the step the estimators of :mod:`gdcourse.models` take by default), stopped when
    :math:`\lVert\nabla J(\theta_t)\rVert \le \text{tol}\,\lVert\nabla J(\theta_0)\rVert` or after
    ``max_steps`` updates.  Along an eigenvector of the Hessian with curvature :math:`\lambda` one step
    multiplies the error by :math:`1 - \lambda/L`, so the flattest direction shrinks by
    :math:`1 - 1/\kappa` per step and the number of steps grows in proportion to
    :math:`\kappa = L/\mu`.  The standardised feature has :math:`\bar z = 0`, :math:`\overline{z^2} = 1`,
    hence :math:`H = 2I`, :math:`\kappa = 1`, and one step of :math:`\eta = 1/L` lands on the minimum.

    Parameters
    ----------
    scale, offset : float
        The feature is :math:`x = o + s\,u`.
    n_samples, noise, seed
        As in :func:`scaling_data`.
    tol : float
        Relative gradient tolerance, in (0, 1).
    max_steps : int
        Budget of updates for each run.

    Returns
    -------
    ScalingState
    """
    if not (isinstance(tol, int | float) and 0 < tol < 1):
        raise ValueError(f"tol must be a number in (0, 1), got {tol!r}")
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1:
        raise ValueError(f"max_steps must be a positive integer, got {max_steps!r}")
    x, y = scaling_data(scale, offset, n_samples=n_samples, noise=noise, seed=seed)
    z = (x - np.mean(x)) / np.std(x)
    surfaces = (LinearMSE(x, y), LinearMSE(z, y))
    histories = (
        _descend(surfaces[0], tol, max_steps, "raw x"),
        _descend(surfaces[1], tol, max_steps, "standardised z"),
    )
    kappas = (surfaces[0].kappa, surfaces[1].kappa)
    steps = (histories[0].n_iter, histories[1].n_iter)
    converged = (histories[0].converged, histories[1].converged)

    def describe(history: History) -> str:
        if history.converged:
            return f"converged in {history.n_iter} step{'s' if history.n_iter != 1 else ''}"
        shrink = history.grad_norms[0] / history.grad_norms[-1]
        return f"not converged after {history.n_iter} steps (‖∇J‖ fell only {shrink:.3g}×)"

    status = (
        f"x = {offset:.3g} + {scale:.3g}·u: κ = {kappas[0]:.3g}, GD (η = 1/L) {describe(histories[0])}"
        f" — standardised: κ = {kappas[1]:.3g}, {describe(histories[1])}"
    )
    return ScalingState(surfaces, histories, kappas, steps, converged, status)


def _free_corner(surface: LinearMSE) -> str:
    r"""The corner of the contour window farthest from the valley floor and from the start (for the legend).

    A corner :math:`c \in \{\pm1\}^2` (in window units) scores :math:`|c \cdot v_L| - \tfrac12\, c \cdot s`: far from
    the line through the minimum along the flat eigenvector (:math:`v_L` is the steep one, across the
    valley) and on the side away from the unit direction :math:`s` from the minimum to the start.
    """
    v_steep = surface.eigenvectors[:, 0]
    to_start = np.asarray(surface.start) - surface.global_minimum
    norm = float(np.linalg.norm(to_start))
    s = to_start / norm if norm > 0 else np.zeros(2)
    names = {(1, 1): "upper right", (-1, 1): "upper left", (-1, -1): "lower left", (1, -1): "lower right"}
    scores = {name: abs(np.dot(c, v_steep)) - 0.5 * np.dot(c, s) for c, name in names.items()}
    return max(scores, key=scores.__getitem__)


def draw_scaling_explorer(state: ScalingState, fig: Figure | None = None, *, title: str | None = None) -> Figure:
    r"""Draw the two runs: raw feature (left) and standardised feature (middle) on their MSE contours, costs (right).

    Both contour maps are square windows centred on the minimum that hold the start :math:`(0, 0)`
    (:attr:`LinearMSE.domain`), drawn with equal axes, so a stretched bowl looks stretched; the legend
    sits in the corner away from the start.  Right: :math:`J(\theta_t) - J^*` for both runs on a log
    scale (``gid="gap"``), held at a floor of :math:`10^{-16}` times the larger starting gap (a dotted
    line, ``gid="floor"``) so that a gap that reached exactly 0 stays visible.

    Parameters
    ----------
    state : ScalingState
        From :func:`scaling_explorer_state`.
    fig : Figure, optional
        Clear and redraw this figure (the widget reuses one); default: a new
        :class:`~matplotlib.figure.Figure` not managed by ``pyplot``.
    title : str, optional
        A title over the panels.

    Returns
    -------
    Figure
    """
    fig = new_or_cleared(fig, figsize=(14, 4.6), dpi=80)
    axes = fig.subplots(1, 3)
    names = ("raw feature x", "standardised feature z")
    for ax, surface, history, name, kappa in zip(axes[:2], state.surfaces, state.histories, names, state.kappas,
                                                 strict=True):
        plot_contour(surface, [history], ax=ax, window=surface.domain, levels=15)
        ax.legend(loc=_free_corner(surface), fontsize=10)
        ax.set(xlabel="slope $w$", ylabel="intercept $b$", title=f"{name}: κ = {kappa:.3g}")
    ax = axes[2]
    cycle = plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])  # the colours plot_contour uses
    floor = 1e-16 * max(float(h.losses[0] - s.f_min) for s, h in zip(state.surfaces, state.histories, strict=True))
    for i, (surface, history) in enumerate(zip(state.surfaces, state.histories, strict=True)):
        gap = np.maximum(history.losses - surface.f_min, floor)  # a gap of exactly 0 sits on the floor
        short = history.n_iter <= 30
        steps = "step" if history.n_iter == 1 else "steps"
        ax.plot(np.arange(gap.size), gap, color=cycle[i % len(cycle)], marker="o" if short else None,
                label=f"{history.label}: {history.n_iter} {steps}", gid="gap")
    ax.axhline(floor, color="0.6", linestyle=":", linewidth=1, gid="floor")
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(numticks=6))  # few labels: a legible axis, and a faster redraw
    ax.yaxis.set_minor_locator(NullLocator())
    ax.set(xlabel="step $t$", ylabel=r"$J(\theta_t) - J^*$", title="cost gap (dotted: rounding)")
    ax.legend(loc="upper right")
    if title:
        fig.suptitle(title)
    return fig


class ScalingExplorer(Explorer):
    r"""The feature-scaling explorer widget; build it with :func:`scaling_explorer`.

    Attributes
    ----------
    scale_slider : ipywidgets.FloatLogSlider
        The feature's scale :math:`s`.
    offset_slider : ipywidgets.FloatSlider
        The feature's offset :math:`o`.
    status : ipywidgets.HTML
        The status line of :func:`scaling_explorer_state`.
    output : ipywidgets.Output
        Shows the figure as a PNG.
    figure : Figure
        Redrawn in place on every change.
    state : ScalingState
        The last runs.
    """

    def __init__(
        self, scale: float, offset: float, scale_range: tuple[float, float], offset_range: tuple[float, float],
        max_steps: int, options: dict,
    ) -> None:
        self.scale_slider = log_slider(scale, scale_range, description="scale s")
        self.offset_slider = widgets.FloatSlider(
            value=offset, min=offset_range[0], max=offset_range[1], step=0.1, description="offset o",
            readout_format=".3g", continuous_update=False,
        )
        super().__init__(widgets.HBox([self.scale_slider, self.offset_slider]))
        self.max_steps, self.options = max_steps, options
        self.start(self.scale_slider, self.offset_slider)

    def update(self) -> None:
        """Rerun with the sliders' values and redraw the figure and the status."""
        self.state = scaling_explorer_state(
            float(self.scale_slider.value), float(self.offset_slider.value), max_steps=self.max_steps,
            **self.options,
        )
        self.show(draw_scaling_explorer(self.state, fig=self.figure))
        self.set_status(self.state.status, warn=not self.state.converged[0])

    def __repr__(self) -> str:
        return (
            f"ScalingExplorer(scale={self.scale_slider.value:.3g}, offset={self.offset_slider.value:.3g}, "
            f"max_steps={self.max_steps})"
        )


def scaling_explorer(
    scale: float = 1.0,
    offset: float = 0.0,
    *,
    scale_range: tuple[float, float] = (0.1, 30.0),
    offset_range: tuple[float, float] = (-10.0, 10.0),
    max_steps: int = 5000,
    n_samples: int = 50,
    noise: float = 0.5,
    seed: int = 0,
    tol: float = 1e-6,
) -> ScalingExplorer:
    r"""A feature-scaling explorer: sliders for the scale and offset of :math:`x`; GD on raw vs standardised.

    Moving a slider rebuilds the feature :math:`x = o + s\,u` (:func:`scaling_data`), reruns gradient
    descent with :math:`\eta = 1/L` on the raw and on the standardised feature
    (:func:`scaling_explorer_state`) and redraws both MSE bowls with their paths and the two cost curves
    (:func:`draw_scaling_explorer`).  The status line gives each condition number and the steps taken.
    Show it as the last expression of a cell.

    Parameters
    ----------
    scale, offset : float
        Initial :math:`s` and :math:`o`.
    scale_range : (float, float)
        Range of the log-scale :math:`s` slider, ``0 < low < high``.
    offset_range : (float, float)
        Range of the :math:`o` slider.
    max_steps : int
        Budget of updates for each run.
    n_samples, noise, seed, tol
        As in :func:`scaling_explorer_state`.

    Returns
    -------
    ScalingExplorer
        A ``VBox``: ``.scale_slider``, ``.offset_slider``, ``.status``, ``.output``, ``.figure``, ``.state``.
    """
    s_low, s_high = check_range("scale", scale_range, scale)
    o_low, o_high = (float(v) for v in offset_range)
    if not (math.isfinite(o_low) and math.isfinite(o_high) and o_low < o_high):
        raise ValueError(f"offset_range must be (low, high) with low < high, got {offset_range!r}")
    if not o_low <= offset <= o_high:
        raise ValueError(f"offset={offset!r} is outside offset_range={offset_range!r}")
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1:
        raise ValueError(f"max_steps must be a positive integer, got {max_steps!r}")
    options: dict[str, Any] = {"n_samples": n_samples, "noise": noise, "seed": seed, "tol": tol}
    scaling_explorer_state(scale, offset, max_steps=1, **options)  # validates the options before building
    return ScalingExplorer(float(scale), float(offset), (s_low, s_high), (o_low, o_high), max_steps, options)
