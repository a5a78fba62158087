r"""Interactive explorers for the notebooks (ipywidgets), each a thin shell around a plain function.

Every explorer is split in three parts so that its logic is tested without a browser:

* a *state* function of the parameters (e.g. :func:`lr_explorer_state`) that runs
  the experiment and returns the result and a one-line status;
* a *draw* function (e.g. :func:`draw_lr_explorer`) that draws that result into a
  :class:`~matplotlib.figure.Figure`;
* the widget (e.g. :func:`lr_explorer`), which only wires sliders to those two; the
  wiring all explorers share (status line, figure output, callbacks that show their
  errors) is :class:`gdcourse.widgets._explorer.Explorer`.

Showing an explorer in a notebook
---------------------------------
Make the explorer the **last expression of the cell** (or pass it to
``display``), and nothing else in that cell::

    explorer = lr_explorer(Quadratic(kappa=10), lr=0.5)
    explorer

The figure is drawn with :class:`matplotlib.figure.Figure` (not ``pyplot``), so
the inline backend never shows a second copy below the widget, and it is put
into the explorer's :class:`~ipywidgets.Output` as a PNG by setting the output
widget's state from the kernel, not by ``with output: display(...)``.  So the
cell's only output is the widget itself, whose ``text/plain`` form is a fixed
string such as ``LRExplorer(quadratic, η=0.5, n_steps=50)``: strict nbval sees
the same output on every run (it skips the widget-view JSON and the image).
Changing a slider from code (``explorer.lr_slider.value = 2.1``) redraws without
producing any cell output.  Do not end the cell with ``_ = explorer`` (that
shows nothing) or with a ``print`` of the history (its numbers are the state
function's job: print them rounded in a separate cell).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from gdcourse import backend
from gdcourse.descent import History, minimize
from gdcourse.plots import plot_contour, plot_loss, plot_trace_1d
from gdcourse.plots._runs import as_runs, f_min_of, window_of
from gdcourse.widgets._explorer import Explorer, check_range, figure_output, log_slider, new_or_cleared

__all__ = ["ExplorerState", "LRExplorer", "draw_lr_explorer", "figure_output", "lr_explorer", "lr_explorer_state"]


class ExplorerState(NamedTuple):
    """What the learning-rate explorer shows: the run and a one-line verdict on it."""

    history: History
    status: str


def _curvature_L(objective: Any) -> float | None:
    """The smoothness constant L when the objective knows it exactly (quadratics), else ``None``."""
    value: Any = getattr(objective, "L", None)
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) and value > 0 else None


def _start(objective: Any, theta0: Any) -> Any:
    if theta0 is None:
        start = getattr(objective, "start", None)
        if start is None:
            raise ValueError(f"{type(objective).__name__} has no .start; pass theta0=...")
        return backend.asarray(np.asarray(start, dtype=np.float64), dtype="float64")
    if isinstance(theta0, list | tuple | int | float):
        return backend.asarray(np.asarray(theta0, dtype=np.float64).reshape(-1), dtype="float64")
    return theta0


def _kind_of_point(objective: Any, theta: Any) -> str:
    """Name a stationary point by the signs of the Hessian's eigenvalues (second-order test)."""
    hessian = getattr(objective, "hessian", None)
    if hessian is None:
        return "a stationary point"
    eigs = np.linalg.eigvalsh(np.asarray(backend.to_numpy(hessian(theta)), dtype=np.float64))
    if np.all(eigs > 0):
        return "a local minimum"
    if np.all(eigs < 0):
        return "a local maximum"
    return "a saddle point" if np.any(eigs > 0) and np.any(eigs < 0) else "a stationary point"


def lr_explorer_state(
    objective: Any, theta0: Any = None, lr: float = 0.1, n_steps: int = 50, *, tol_grad: float = 1e-6
) -> ExplorerState:
    r"""Run ``n_steps`` of gradient descent with learning rate ``lr`` and judge the run.

    The run is :math:`\theta_{t+1} = \theta_t - \eta \nabla J(\theta_t)` from
    ``theta0`` (:func:`gdcourse.descent.minimize` with ``max_iter=n_steps``,
    ``tol_grad=tol_grad``, ``on_divergence="stop"``).  The status begins with one of

    * ``"converged"`` -- the gradient norm fell to ``tol_grad``;
    * ``"still moving"`` -- the budget ran out while the cost was still falling
      (typically a learning rate that is too small);
    * ``"diverging"`` -- the budget ran out with the cost *higher* than at the start;
    * ``"diverged at step k"`` -- the descent loop stopped the run (cost no
      longer finite or :math:`10^6` times its start).

    For an objective that knows its smoothness constant :math:`L` (a
    :class:`~gdcourse.functions.Quadratic`), the status also gives the threshold
    :math:`2/L`: gradient descent on a quadratic converges for
    :math:`0 < \eta < 2/L` and diverges for :math:`\eta > 2/L`.

    Parameters
    ----------
    objective : Objective
        Any objective with ``value`` and ``grad``.
    theta0 : array, optional
        Starting point (any backend); default ``objective.start`` on the active backend.
    lr : float
        The learning rate :math:`\eta` (> 0).
    n_steps : int
        Budget of updates.
    tol_grad : float
        Gradient norm at which the run counts as converged.

    Returns
    -------
    ExplorerState
        ``(history, status)``.
    """
    history = minimize(
        objective, _start(objective, theta0), lr=lr, max_iter=n_steps, tol_grad=tol_grad,
        on_divergence="stop", label=f"GD η={lr:.3g}",
    )
    n = history.n_iter
    L = _curvature_L(objective)
    if L is None:
        threshold = f"η = {lr:.3g}"
    else:
        relation = ">" if lr > 2.0 / L else "<" if lr < 2.0 / L else "="
        threshold = f"η = {lr:.3g} {relation} 2/L = {2.0 / L:.3g}"
    f_min = f_min_of(objective)
    cost = f"J − J* = {history.final_loss - f_min:.3g}" if f_min is not None else f"J = {history.final_loss:.4g}"
    if history.converged and f_min is not None and history.final_loss - f_min > 1e-6 * max(1.0, abs(f_min)):
        cost += f" — {_kind_of_point(objective, history.theta)}, not the global minimum"
    if history.stop_reason == "diverged":
        status = f"diverged at step {n}: the cost blew up ({threshold}); try a smaller learning rate"
    elif history.converged:
        status = f"converged in {n} steps: ‖∇J‖ = {history.grad_norms[-1]:.2g} ≤ {tol_grad:g}, {cost} ({threshold})"
    elif history.losses[-1] > history.losses[0]:
        status = (
            f"diverging: the cost grew from {history.losses[0]:.3g} to {history.losses[-1]:.3g} "
            f"in {n} steps ({threshold})"
        )
    else:
        status = f"still moving after {n} steps: ‖∇J‖ = {history.grad_norms[-1]:.2g}, {cost} ({threshold})"
    return ExplorerState(history, status)


def draw_lr_explorer(
    objective: Any, history: History, fig: Figure | None = None, *, title: str | None = None
) -> Figure:
    r"""Draw one run of the learning-rate explorer: the path (left) and the cost (right).

    Left: the iterates on the objective (:func:`~gdcourse.plots.plot_trace_1d`
    for a 1-D objective, :func:`~gdcourse.plots.plot_contour` for a 2-D one).
    Right: the cost against the step (:func:`~gdcourse.plots.plot_loss`), as
    the gap :math:`J(\theta_t) - J^*` on a log scale when :math:`J^*` is known,
    else :math:`J(\theta_t)` on a linear scale.

    Parameters
    ----------
    objective : Objective
        The objective of the run (``dim`` 1 or 2).
    history : History
        The run, e.g. ``lr_explorer_state(...).history``.
    fig : Figure, optional
        Clear this figure and draw into it (the widget redraws the same figure);
        by default a new :class:`~matplotlib.figure.Figure` that ``pyplot`` does
        not manage (so the inline backend does not show it by itself).
    title : str, optional
        A title over both panels, e.g. the status line.

    Returns
    -------
    Figure
    """
    fig = new_or_cleared(fig, figsize=(12, 4.8))
    dim = getattr(objective, "dim", int(np.asarray(history.path).shape[1]))
    ax_path, ax_loss = fig.subplots(1, 2)
    # A fixed window (the domain, grown to show the start) keeps the frame still while the slider moves.
    window = window_of(objective, as_runs(np.asarray(history.path)[:1], kind="path"), None, dim)
    if dim == 1:
        plot_trace_1d(objective, [history], ax=ax_path, window=window[0])
    elif dim == 2:
        plot_contour(objective, [history], ax=ax_path, window=window)
    else:
        raise ValueError(f"the learning-rate explorer draws 1-D and 2-D objectives, got dim={dim}")
    f_min = f_min_of(objective)
    plot_loss([history], ax=ax_loss, f_min=f_min, log=f_min is not None)
    if title:
        fig.suptitle(title)
    return fig


class LRExplorer(Explorer):
    r"""The learning-rate explorer widget; build it with :func:`lr_explorer`.

    Attributes
    ----------
    lr_slider : ipywidgets.FloatLogSlider
        The learning rate :math:`\eta` (log scale).
    steps_slider : ipywidgets.IntSlider
        The number of steps.
    status : ipywidgets.HTML
        The one-line verdict of :func:`lr_explorer_state`.
    output : ipywidgets.Output
        Shows the figure as a PNG.
    figure : Figure
        The figure, redrawn in place on every change.
    state : ExplorerState
        The last run and its status.
    """

    savefig_dpi = None  # the figure has rcParams' dpi: save it at rcParams' savefig.dpi

    def __init__(
        self, objective: Any, theta0: Any, lr: float, lr_range: tuple[float, float], n_steps: int, max_steps: int,
        tol_grad: float,
    ) -> None:
        self.lr_slider = log_slider(lr, lr_range)
        self.steps_slider = widgets.IntSlider(
            value=n_steps, min=1, max=max_steps, description="steps", continuous_update=False
        )
        super().__init__(widgets.HBox([self.lr_slider, self.steps_slider]))
        self.objective, self.theta0, self.tol_grad = objective, _start(objective, theta0), tol_grad
        self.start(self.lr_slider, self.steps_slider)

    def update(self) -> None:
        """Rerun with the sliders' values and redraw the figure and the status."""
        self.state = lr_explorer_state(
            self.objective, self.theta0, lr=float(self.lr_slider.value), n_steps=int(self.steps_slider.value),
            tol_grad=self.tol_grad,
        )
        self.show(draw_lr_explorer(self.objective, self.state.history, fig=self.figure))
        self.set_status(self.state.status, warn=self.state.status.startswith("diverg"))

    def __repr__(self) -> str:
        name = getattr(self.objective, "name", type(self.objective).__name__)
        return f"LRExplorer({name}, η={self.lr_slider.value:.3g}, n_steps={self.steps_slider.value})"


def lr_explorer(
    objective: Any,
    theta0: Any = None,
    lr: float = 0.1,
    lr_range: tuple[float, float] | None = None,
    n_steps: int = 50,
    *,
    max_steps: int | None = None,
    tol_grad: float = 1e-6,
) -> LRExplorer:
    r"""A learning-rate explorer: sliders for :math:`\eta` and the number of steps, the path and the cost.

    Moving a slider reruns :math:`\theta_{t+1} = \theta_t - \eta\nabla J(\theta_t)`
    (:func:`lr_explorer_state`) and redraws the figure (:func:`draw_lr_explorer`):
    the path on the objective (1-D curve or 2-D contour map, by
    ``objective.dim``) beside the cost curve, with a status line saying whether
    the run converged, is still moving or diverged (and at which step), with
    :math:`2/L` for a quadratic.  Show it as the last expression of a cell
    (see the module docstring for why that is deterministic under nbval).

    Parameters
    ----------
    objective : Objective
        A 1-D or 2-D objective.
    theta0 : array, optional
        Start (default ``objective.start``).
    lr : float
        Initial learning rate.
    lr_range : (float, float), optional
        Range of the log-scale slider; default ``(1e-3, 10)``, divided by
        :math:`L` when the objective knows its :math:`L`, so :math:`2/L` sits inside it.
    n_steps : int
        Initial number of steps.
    max_steps : int, optional
        Upper end of the steps slider (default ``max(500, n_steps)``).
    tol_grad : float
        Gradient norm at which a run counts as converged.

    Returns
    -------
    LRExplorer
        A ``VBox``: ``.lr_slider``, ``.steps_slider``, ``.status``, ``.output``,
        ``.figure``, ``.state``.
    """
    L = _curvature_L(objective)
    if lr_range is None:
        lr_range = (1e-3 / L, 10.0 / L) if L is not None else (1e-3, 10.0)
    low, high = check_range("lr", lr_range, lr)
    if isinstance(n_steps, bool) or not isinstance(n_steps, int) or n_steps < 1:
        raise ValueError(f"n_steps must be a positive integer, got {n_steps!r}")
    max_steps = max(500, n_steps) if max_steps is None else int(max_steps)
    if max_steps < n_steps:
        raise ValueError(f"max_steps={max_steps!r} must be at least n_steps={n_steps!r}")
    return LRExplorer(objective, theta0, float(lr), (low, high), n_steps, max_steps, tol_grad)
