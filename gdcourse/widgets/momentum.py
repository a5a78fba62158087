r"""The momentum explorer: sliders for η and β on an ill-conditioned quadratic, GD beside heavy ball and Nesterov.

Built like :mod:`gdcourse.widgets.lr_explorer` (read its module docstring for how to show an explorer
so that strict nbval sees a deterministic output):

* :func:`momentum_explorer_state` runs gradient descent, heavy ball and Nesterov with the same
  :math:`\eta` (and :math:`\beta` for the two momentum methods), measures each linear rate and puts it
  beside the theoretical one (:mod:`gdcourse.rates`) in a one-line status;
* :func:`draw_momentum_explorer` draws the three paths on the contour map and the distance to the
  minimum against the step (log scale, with the theoretical slopes dashed);
* :func:`momentum_explorer` is the thin widget; its ``text/plain`` form is a fixed string such as
  ``MomentumExplorer(quadratic κ=50, η=0.5, β=0.8, n_steps=80)``.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from gdcourse import backend, optim, rates
from gdcourse.descent import History, minimize
from gdcourse.plots import plot_contour
from gdcourse.plots._runs import as_runs, window_of
from gdcourse.widgets._explorer import Explorer, check_range, log_slider, new_or_cleared

__all__ = [
    "MomentumExplorer",
    "MomentumState",
    "draw_momentum_explorer",
    "momentum_explorer",
    "momentum_explorer_state",
]

METHODS = ("GD", "heavy ball", "Nesterov")


class MomentumState(NamedTuple):
    """What the momentum explorer shows: three runs, their measured and theoretical rates, a status line.

    ``measured[i]`` is NaN for a run that diverged (or reached the rounding floor too early to measure);
    ``theory[i]`` is NaN when the objective has no known eigenvalues.
    """

    histories: tuple[History, History, History]
    measured: tuple[float, float, float]
    theory: tuple[float, float, float]
    status: str


def _start(objective: Any, theta0: Any) -> Any:
    if theta0 is None:
        start = getattr(objective, "start", None)
        if start is None:
            raise ValueError(f"{type(objective).__name__} has no .start; pass theta0=...")
        theta0 = start
    if isinstance(theta0, list | tuple | np.ndarray):
        return backend.asarray(np.asarray(theta0, dtype=np.float64).reshape(-1), dtype="float64")
    return theta0


def _theory(objective: Any, lr: float, momentum: float) -> tuple[float, float, float]:
    eigs = getattr(objective, "eigenvalues", None)
    if eigs is None:
        return (math.nan,) * 3
    return (
        rates.gd_rate(eigs, lr),
        rates.heavy_ball_rate(eigs, lr, momentum),
        rates.nesterov_rate(eigs, lr, momentum),
    )


def _measured(history: History, minimum: Any) -> float:
    """Geometric-mean contraction of ‖θ_t − θ*‖ over the second half of the run (NaN if not measurable)."""
    if minimum is None or history.stop_reason == "diverged" or history.n_iter < 2:
        return math.nan
    star = np.asarray(minimum, dtype=np.float64)
    errors = np.linalg.norm(history.path - star, axis=1)
    floor = 1e-12 * max(1.0, float(np.linalg.norm(star)), float(errors[0]))
    burn_in = history.n_iter // 2
    if not errors[burn_in] > floor:  # already at the rounding floor: measure from the start instead
        burn_in = 0
    try:
        return rates.linear_rate(history, star, burn_in=burn_in, floor=floor)
    except ValueError:  # the error was at (or fell in one step to) the floor: nothing left to measure
        return math.nan


def _describe(name: str, history: History, measured: float, theory: float) -> str:
    theory_text = "" if math.isnan(theory) else f" ({theory:.3g})"
    if history.stop_reason == "diverged":
        return f"{name}: diverged at step {history.n_iter}{theory_text}"
    if math.isnan(measured):
        return f"{name}: converged to rounding{theory_text}"
    return f"{name}: {measured:.3g}{theory_text}"


def momentum_explorer_state(
    objective: Any, theta0: Any = None, lr: float = 0.5, momentum: float = 0.8, n_steps: int = 80
) -> MomentumState:
    r"""Run GD, heavy ball and Nesterov with the same :math:`\eta` (and :math:`\beta`) and compare their rates.

    The runs (:func:`gdcourse.descent.minimize`, ``on_divergence="stop"``) are

    * GD: :math:`\theta \leftarrow \theta - \eta\nabla J(\theta)`;
    * heavy ball (``optim.heavy_ball``): :math:`v \leftarrow \beta v + \nabla J(\theta)`,
      :math:`\theta \leftarrow \theta - \eta v`;
    * Nesterov (``optim.nesterov``): :math:`v \leftarrow \beta v - \eta\nabla J(\theta + \beta v)`,
      :math:`\theta \leftarrow \theta + v`.

    The measured rate is the geometric mean of :math:`\lVert\theta_{t+1}-\theta^*\rVert /
    \lVert\theta_t-\theta^*\rVert` over the second half of the run (:func:`gdcourse.rates.linear_rate`);
    the theoretical one is the spectral radius of the iteration on the objective's eigenvalues
    (:func:`~gdcourse.rates.gd_rate`, :func:`~gdcourse.rates.heavy_ball_rate`,
    :func:`~gdcourse.rates.nesterov_rate`).  The status reads, e.g.,
    ``"rate per step, measured (theory): GD 0.96 (0.96) · heavy ball 0.8 (0.8) · Nesterov 0.85 (0.85)"``.

    Parameters
    ----------
    objective : Objective
        A 2-D objective; a :class:`~gdcourse.functions.Quadratic` gives the theoretical rates.
    theta0 : array, optional
        Start (default ``objective.start``).
    lr : float
        :math:`\eta > 0` (torch's convention for heavy ball).
    momentum : float
        :math:`\beta \in [0, 1)`.
    n_steps : int
        Budget of updates for each run.

    Returns
    -------
    MomentumState
    """
    if isinstance(n_steps, bool) or not isinstance(n_steps, int) or n_steps < 2:
        raise ValueError(f"n_steps must be an integer >= 2, got {n_steps!r}")
    start = _start(objective, theta0)
    optimizers = (optim.gd(lr), optim.heavy_ball(lr, momentum), optim.nesterov(lr, momentum))
    histories = tuple(
        minimize(objective, start, optimizer=opt, max_iter=n_steps, on_divergence="stop", label=name)
        for name, opt in zip(METHODS, optimizers, strict=True)
    )
    minimum = getattr(objective, "global_minimum", None)
    measured = tuple(_measured(h, minimum) for h in histories)
    theory = _theory(objective, lr, momentum)
    parts = [_describe(name, h, m, t) for name, h, m, t in zip(METHODS, histories, measured, theory, strict=True)]
    head = "rate per step, measured (theory)" if not math.isnan(theory[0]) else "rate per step, measured"
    status = f"η = {lr:.3g}, β = {momentum:.3g} — {head}: " + " · ".join(parts)
    L, mu = getattr(objective, "L", None), getattr(objective, "mu", None)
    if L is not None and mu is not None:
        best_lr, best_beta, best_rate = rates.optimal_heavy_ball(L, mu)
        status += f" — best heavy ball: η = {best_lr:.3g}, β = {best_beta:.3g} → {best_rate:.3g}"
    return MomentumState(histories, measured, theory, status)  # type: ignore[arg-type]


def draw_momentum_explorer(
    objective: Any, state: MomentumState, fig: Figure | None = None, *, title: str | None = None
) -> Figure:
    r"""Draw the three runs: paths on the contour map (left), distance to the minimum (right).

    Right: :math:`\lVert\theta_t - \theta^*\rVert` against :math:`t` on a log scale, one line per method
    (``gid="error"``), with the theoretical slope :math:`C\rho^t` dashed through each run's last point
    (``gid="theory"``) when the rate is known and below 1.

    Parameters
    ----------
    objective : Objective
        The 2-D objective of the runs.
    state : MomentumState
        From :func:`momentum_explorer_state`.
    fig : Figure, optional
        Clear and redraw this figure (the widget reuses one); default: a new
        :class:`~matplotlib.figure.Figure` not managed by ``pyplot``.
    title : str, optional
        A title over both panels.

    Returns
    -------
    Figure
    """
    fig = new_or_cleared(fig, figsize=(10, 3.9), dpi=80)
    ax_path, ax_err = fig.subplots(1, 2)
    first = state.histories[0]
    window = window_of(objective, as_runs(np.asarray(first.path)[:1], kind="path"), None, 2)
    plot_contour(objective, list(state.histories), ax=ax_path, window=window, levels=12)
    minimum = getattr(objective, "global_minimum", None)
    if minimum is not None:
        star = np.asarray(minimum, dtype=np.float64)
        cycle = plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])  # the colours plot_contour uses
        for i, (history, rho) in enumerate(zip(state.histories, state.theory, strict=True)):
            color = cycle[i % len(cycle)]
            errors = np.linalg.norm(history.path - star, axis=1)
            steps = np.arange(len(errors))
            shown = np.where(errors > 0, errors, np.nan)
            ax_err.plot(steps, shown, color=color, label=history.label, gid="error")
            finite = np.flatnonzero(np.isfinite(shown))
            if math.isfinite(rho) and 0 < rho < 1 and finite.size and history.stop_reason != "diverged":
                k = finite[-1]
                ax_err.plot(steps, shown[k] * rho ** (steps - k), color=color, linestyle="--", linewidth=1.2,
                            alpha=0.8, gid="theory")
        ax_err.set_yscale("log")
        top = max(float(np.linalg.norm(np.asarray(first.path[0]) - star)), 1e-300)
        ax_err.set_ylim(bottom=max(1e-16 * top, ax_err.get_ylim()[0]), top=5 * top)  # diverging runs leave the top
        ax_err.set_xlabel("step $t$")
        ax_err.set_ylabel(r"$\|\theta_t - \theta^*\|$")
        ax_err.legend(loc="lower left", title="dashed: theory")
    if title:
        fig.suptitle(title)
    return fig


class MomentumExplorer(Explorer):
    r"""The momentum explorer widget; build it with :func:`momentum_explorer`.

    Attributes
    ----------
    lr_slider : ipywidgets.FloatLogSlider
        The learning rate :math:`\eta`.
    momentum_slider : ipywidgets.FloatSlider
        The momentum :math:`\beta`.
    steps_slider : ipywidgets.IntSlider
        The number of steps.
    status : ipywidgets.HTML
        The status line of :func:`momentum_explorer_state`.
    output : ipywidgets.Output
        Shows the figure as a PNG.
    figure : Figure
        Redrawn in place on every change.
    state : MomentumState
        The last runs.
    """

    def __init__(
        self, objective: Any, theta0: Any, lr: float, lr_range: tuple[float, float], momentum: float,
        n_steps: int, max_steps: int,
    ) -> None:
        self.lr_slider = log_slider(lr, lr_range)
        self.momentum_slider = widgets.FloatSlider(
            value=momentum, min=0.0, max=0.99, step=0.01, description="β", readout_format=".2f",
            continuous_update=False,
        )
        self.steps_slider = widgets.IntSlider(
            value=n_steps, min=2, max=max_steps, description="steps", continuous_update=False
        )
        super().__init__(widgets.HBox([self.lr_slider, self.momentum_slider, self.steps_slider]))
        self.objective, self.theta0 = objective, _start(objective, theta0)
        self.start(self.lr_slider, self.momentum_slider, self.steps_slider)

    def update(self) -> None:
        """Rerun with the sliders' values and redraw the figure and the status."""
        self.state = momentum_explorer_state(
            self.objective, self.theta0, lr=float(self.lr_slider.value),
            momentum=float(self.momentum_slider.value), n_steps=int(self.steps_slider.value),
        )
        self.show(draw_momentum_explorer(self.objective, self.state, fig=self.figure))
        self.set_status(self.state.status, warn=any(h.stop_reason == "diverged" for h in self.state.histories))

    def __repr__(self) -> str:
        name = getattr(self.objective, "name", type(self.objective).__name__)
        kappa = getattr(self.objective, "kappa", None)
        what = f"{name} κ={kappa:.3g}" if kappa is not None else name
        return (
            f"MomentumExplorer({what}, η={self.lr_slider.value:.3g}, β={self.momentum_slider.value:.2f}, "
            f"n_steps={self.steps_slider.value})"
        )


def momentum_explorer(
    objective: Any,
    theta0: Any = None,
    lr: float = 0.5,
    momentum: float = 0.8,
    lr_range: tuple[float, float] | None = None,
    n_steps: int = 80,
    *,
    max_steps: int | None = None,
) -> MomentumExplorer:
    r"""A momentum explorer: sliders for :math:`\eta`, :math:`\beta` and the steps; GD, heavy ball and Nesterov.

    Moving a slider reruns the three methods (:func:`momentum_explorer_state`) and redraws their
    paths on the contour map and their distance to the minimum (:func:`draw_momentum_explorer`); the
    status line puts each measured rate beside the theoretical one and names Polyak's optimal
    heavy-ball parameters.  Show it as the last expression of a cell.

    Parameters
    ----------
    objective : Objective
        A 2-D objective, ideally an ill-conditioned :class:`~gdcourse.functions.Quadratic`.
    theta0 : array, optional
        Start (default ``objective.start``).
    lr : float
        Initial :math:`\eta`.
    momentum : float
        Initial :math:`\beta` (the slider spans [0, 0.99]).
    lr_range : (float, float), optional
        Range of the log-scale :math:`\eta` slider; default ``(0.01/L, 4/L)`` when the objective knows
        :math:`L` (so GD's limit :math:`2/L` and heavy ball's :math:`2(1+\beta)/L` are inside), else
        ``(1e-3, 10)``.
    n_steps : int
        Initial number of steps (at least 2).
    max_steps : int, optional
        Upper end of the steps slider (default ``max(300, n_steps)``).

    Returns
    -------
    MomentumExplorer
    """
    L = getattr(objective, "L", None)
    if lr_range is None:
        lr_range = (0.01 / L, 4.0 / L) if L else (1e-3, 10.0)
    low, high = check_range("lr", lr_range, lr)
    if not 0 <= momentum <= 0.99:
        raise ValueError(f"momentum must be in [0, 0.99] (the slider's range), got {momentum!r}")
    if isinstance(n_steps, bool) or not isinstance(n_steps, int) or n_steps < 2:
        raise ValueError(f"n_steps must be an integer >= 2, got {n_steps!r}")
    max_steps = max(300, n_steps) if max_steps is None else int(max_steps)
    if max_steps < n_steps:
        raise ValueError(f"max_steps={max_steps!r} must be at least n_steps={n_steps!r}")
    return MomentumExplorer(objective, theta0, float(lr), (low, high), float(momentum), n_steps, max_steps)
