r"""The decision-boundary explorer: a step slider moves logistic regression's boundary through its training.

Built like :mod:`gdcourse.widgets.lr_explorer` (read its module docstring for how to show an
explorer so that strict nbval sees a deterministic output):

* :func:`boundary_explorer_state` runs gradient descent on the mean log loss of a two-feature
  logistic regression *once* and keeps the whole parameter path :math:`\theta_t = (w_{1}, w_{2}, b)_t`,
  the loss and the training accuracy at every step, with a one-line status for the run;
  :func:`boundary_step_status` describes one step of it;
* :func:`draw_boundary_explorer` draws step :math:`t`: the data with the regions and the boundary
  :math:`w_t^\top x + b_t = 0` (:func:`gdcourse.plots.plot_decision_boundary`) and faint earlier
  boundaries (left), and the loss curve with the current step marked (right);
* :func:`boundary_explorer` is the thin widget.  Moving the **step** slider only selects a stored
  step and redraws (no training); moving the **learning-rate** slider retrains.  Its ``text/plain``
  form is a fixed string such as ``BoundaryExplorer(logistic regression, n=200, η=1, step=50/200)``.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import ipywidgets as widgets
import numpy as np
from array_api_compat import device
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from gdcourse.backend import array_namespace, to_numpy
from gdcourse.descent import minimize
from gdcourse.losses import log_loss, log_loss_grad
from gdcourse.plots import PALETTE, plot_decision_boundary
from gdcourse.widgets._explorer import Explorer, check_range, log_slider, new_or_cleared

__all__ = [
    "BoundaryExplorer",
    "BoundaryState",
    "boundary_explorer",
    "boundary_explorer_state",
    "draw_boundary_explorer",
    "boundary_step_status",
]

GID_TRAIL = "trail"
GID_CURRENT = "current"


class BoundaryState(NamedTuple):
    r"""One training run of the boundary explorer, every step kept (host NumPy arrays).

    Attributes
    ----------
    path : ndarray, shape (n + 1, 3)
        :math:`\theta_t = (w_1, w_2, b)` after :math:`t = 0, \dots, n` updates.
    losses : ndarray, shape (n + 1,)
        Mean log loss :math:`J(\theta_t)` on the training data.
    accuracy : ndarray, shape (n + 1,)
        Fraction of training points on the correct side of the boundary at step :math:`t`.
    lr : float
        The learning rate :math:`\eta` of the run.
    status : str
        One line about the whole run (or where it diverged).
    """

    path: np.ndarray
    losses: np.ndarray
    accuracy: np.ndarray
    lr: float
    status: str

    @property
    def n_steps(self) -> int:
        """Number of updates stored (fewer than asked when the run diverged)."""
        return len(self.losses) - 1


def _data(X: Any, y: Any) -> tuple[Any, Any, Any, np.ndarray]:
    """``X`` with a column of ones, labels as 0.0/1.0 in ``X``'s library, and the host labels 0/1."""
    try:
        xp = array_namespace(X)
    except TypeError:
        raise TypeError(f"X must be an array (NumPy, CuPy, ...), got {type(X).__name__}") from None
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (n_samples, 2): the explorer draws two features, got {tuple(X.shape)}")
    if not xp.isdtype(X.dtype, "real floating"):
        X = xp.astype(X, xp.float64)
    labels = np.asarray(to_numpy(y)).reshape(-1)
    if labels.shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} samples but y has {labels.shape[0]}")
    classes = np.unique(labels)
    if len(classes) != 2:
        raise ValueError(f"y must hold exactly two classes (logistic regression is binary), got {classes.tolist()}")
    host01 = (labels == classes[1]).astype(np.float64)
    ones = xp.ones((X.shape[0], 1), dtype=X.dtype, device=device(X))
    Xt = xp.concat([X, ones], axis=1)
    return xp, Xt, xp.asarray(host01, dtype=X.dtype, device=device(X)), host01


def boundary_explorer_state(X: Any, y: Any, lr: float = 1.0, n_steps: int = 200, theta0: Any = None) -> BoundaryState:
    r"""Train a two-feature logistic regression by gradient descent and keep every step.

    .. math::
        J(\theta) = \frac1n \sum_i \big[\log(1 + e^{z_i}) - y_i z_i\big],\quad
        z_i = w^\top x_i + b, \qquad
        \theta_{t+1} = \theta_t - \eta\, \tfrac1n \tilde X^\top\big(\sigma(\tilde X\theta_t) - y\big)

    with :math:`\theta = (w_1, w_2, b)` and :math:`\tilde X = [X, 1]` (:func:`gdcourse.losses.log_loss`,
    :func:`~gdcourse.losses.log_loss_grad`; the loop is :func:`gdcourse.descent.minimize` with
    ``on_divergence="stop"``).  The run stays in ``X``'s library; the path comes back to the host.

    Parameters
    ----------
    X : array, shape (n_samples, 2)
        Two features (any backend).
    y : array, shape (n_samples,)
        Two classes; the larger label is the positive one (:math:`y = 1`).
    lr : float
        :math:`\eta > 0`.
    n_steps : int
        Number of updates (>= 1).
    theta0 : array-like of 3 numbers, optional
        Start :math:`(w_1, w_2, b)`; default 0 (no boundary yet: every point scores :math:`z = 0`).

    Returns
    -------
    BoundaryState
    """
    if isinstance(lr, bool) or not isinstance(lr, int | float) or not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a positive finite number, got {lr!r}")
    if isinstance(n_steps, bool) or not isinstance(n_steps, int | np.integer) or n_steps < 1:
        raise ValueError(f"n_steps must be a positive integer, got {n_steps!r}")
    xp, Xt, y01, host01 = _data(X, y)
    start = np.zeros(3) if theta0 is None else np.asarray(to_numpy(theta0), dtype=np.float64).reshape(-1)
    if start.shape != (3,) or not np.all(np.isfinite(start)):
        raise ValueError(f"theta0 must be 3 finite numbers (w1, w2, b), got {theta0!r}")
    theta = xp.asarray(start, dtype=Xt.dtype, device=device(Xt))

    def cost(t: Any) -> Any:
        return log_loss(Xt @ t, y01)

    def grad(t: Any) -> Any:
        return Xt.T @ log_loss_grad(Xt @ t, y01)

    history = minimize(cost, theta, lr=float(lr), grad=grad, max_iter=int(n_steps), on_divergence="stop")
    path = history.path
    Xh = np.asarray(to_numpy(Xt), dtype=np.float64)
    predicted = (Xh @ path.T) > 0  # (n_samples, n_steps + 1)
    accuracy = np.mean(predicted == (host01[:, None] == 1.0), axis=0)
    n = history.n_iter
    if history.stop_reason == "diverged":
        status = f"η = {lr:.3g}: diverged at step {n}; try a smaller learning rate"
    else:
        status = (
            f"η = {lr:.3g}, {n} steps: log loss {history.losses[0]:.3g} → {history.losses[-1]:.3g}, "
            f"training accuracy {accuracy[0]:.0%} → {accuracy[-1]:.0%}"
        )
    return BoundaryState(path, history.losses, accuracy, float(lr), status)


def boundary_step_status(state: BoundaryState, step: int) -> str:
    """One line about step ``step`` of the run: parameters, loss and training accuracy (clamped to the run).

    Parameters
    ----------
    state : BoundaryState
        The run, from :func:`boundary_explorer_state`.
    step : int
        The step :math:`t` to describe; a step before 0 or after the run's last one is clamped to
        0 or :attr:`BoundaryState.n_steps`.

    Returns
    -------
    str
        E.g. ``"step 10: w = (0.5, -0.2), b = 0.1; log loss 0.42, accuracy 90%"``.
    """
    t = min(max(int(step), 0), state.n_steps)
    w1, w2, b = state.path[t]
    if w1 == 0 and w2 == 0:
        where = "w = 0: every point scores z = b, no boundary yet"
    else:
        where = f"w = ({w1:.3g}, {w2:.3g}), b = {b:.3g}"
    return f"step {t}: {where}; log loss {state.losses[t]:.3g}, accuracy {state.accuracy[t]:.0%}"


def _line(ax: Axes, theta: np.ndarray, **kwargs: Any) -> None:
    """Draw the line w1 x1 + w2 x2 + b = 0 across the axes' current window (nothing when w = 0)."""
    w1, w2, b = (float(v) for v in theta)
    (x_lo, x_hi), (y_lo, y_hi) = ax.get_xlim(), ax.get_ylim()
    if abs(w2) >= abs(w1) and w2 != 0:
        xs = np.array([x_lo, x_hi])
        ys = -(w1 * xs + b) / w2
    elif w1 != 0:
        ys = np.array([y_lo, y_hi])
        xs = -(w2 * ys + b) / w1
    else:
        return
    ax.plot(xs, ys, **kwargs)
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(y_lo, y_hi)


def draw_boundary_explorer(
    X: Any,
    y: Any,
    state: BoundaryState,
    step: int,
    fig: Figure | None = None,
    *,
    trail: int = 4,
    grid: int = 150,
    title: str | None = None,
) -> Figure:
    r"""Draw step ``step`` of a run: regions and boundary over the data (left), the loss curve (right).

    Left: :func:`~gdcourse.plots.plot_decision_boundary` for :math:`z = w_t^\top x + b_t`, plus the
    boundaries of ``trail`` earlier steps, evenly spaced between 0 and :math:`t`, as faint dashed lines
    (``gid="trail"``).  Right: :math:`J(\theta_t)` against :math:`t`, the current step
    marked with a dot (``gid="current"``).  The data window does not depend on the step.

    Parameters
    ----------
    X, y : arrays
        The training data of ``state``.
    state : BoundaryState
        From :func:`boundary_explorer_state`.
    step : int
        The step to show (clamped to ``0..state.n_steps``).
    fig : Figure, optional
        Clear and redraw this figure (the widget reuses one); default a new
        :class:`~matplotlib.figure.Figure` not managed by ``pyplot``.
    trail : int
        How many earlier boundaries to show faintly.
    grid : int
        Grid points per axis of the regions.
    title : str, optional
        A title over both panels.

    Returns
    -------
    Figure
    """
    fig = new_or_cleared(fig, figsize=(11, 4.4), dpi=80)
    t = min(max(int(step), 0), state.n_steps)
    ax_data, ax_loss = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.15, 1]})
    w1, w2, b = state.path[t]
    _, Xt, _, _ = _data(X, y)
    xp = array_namespace(Xt)
    theta = xp.asarray(state.path[t], dtype=Xt.dtype, device=device(Xt))

    def scores(points: Any) -> Any:
        return points @ theta[:2] + theta[2]

    plot_decision_boundary(scores, X, y, ax=ax_data, grid=grid)
    if trail > 0 and t > 0:
        for k in np.unique(np.linspace(0, t, trail + 1).astype(int)[:-1]):
            _line(ax_data, state.path[k], color="0.45", linewidth=1.1, linestyle="--", gid=GID_TRAIL, zorder=2)
    ax_data.set_title(f"step {t}" + (" (dashed: earlier steps)" if trail > 0 and t > 0 else ""))

    steps = np.arange(state.n_steps + 1)
    ax_loss.plot(steps, state.losses, color=PALETTE[0], gid="loss")
    ax_loss.plot([t], [state.losses[t]], "o", color=PALETTE[1], markersize=9, gid=GID_CURRENT)
    ax_loss.set_xlabel("step $t$")
    ax_loss.set_ylabel(r"log loss $J(\theta_t)$")
    ax_loss.set_title(f"J = {state.losses[t]:.3g}, accuracy {state.accuracy[t]:.0%}")
    if title:
        fig.suptitle(title)
    return fig


class BoundaryExplorer(Explorer):
    r"""The decision-boundary explorer widget; build it with :func:`boundary_explorer`.

    Attributes
    ----------
    step_slider : ipywidgets.IntSlider
        The step :math:`t` shown; moving it does not retrain.
    lr_slider : ipywidgets.FloatLogSlider
        The learning rate :math:`\eta`; moving it retrains.
    status : ipywidgets.HTML
        :func:`boundary_step_status` of the step shown and the run's status.
    output : ipywidgets.Output
        Shows the figure as a PNG.
    figure : Figure
        Redrawn in place on every change.
    state : BoundaryState
        The stored run.
    """

    def __init__(
        self,
        X: Any,
        y: Any,
        lr: float,
        lr_range: tuple[float, float],
        n_steps: int,
        step: int,
        theta0: Any,
        grid: int,
    ) -> None:
        self.step_slider = widgets.IntSlider(
            value=step, min=0, max=n_steps, description="step", continuous_update=False
        )
        self.lr_slider = log_slider(lr, lr_range)
        super().__init__(widgets.HBox([self.step_slider, self.lr_slider]))
        self.X, self.y, self.theta0, self.n_steps, self.grid = X, y, theta0, n_steps, grid
        self.train()
        self.step_slider.observe(self._on_step, names="value")
        self.lr_slider.observe(self._on_lr, names="value")

    def update(self) -> None:
        """Retrain and redraw (what moving the learning-rate slider does)."""
        self.train()

    def train(self) -> None:
        """Rerun gradient descent with the slider's learning rate, then redraw."""
        self.state = boundary_explorer_state(
            self.X, self.y, lr=float(self.lr_slider.value), n_steps=self.n_steps, theta0=self.theta0
        )
        self.redraw()

    def redraw(self) -> None:
        """Draw the stored run at the step slider's value (no training)."""
        assert self.state is not None
        step = int(self.step_slider.value)
        self.show(draw_boundary_explorer(self.X, self.y, self.state, step, fig=self.figure, grid=self.grid))
        text = f"{boundary_step_status(self.state, step)} — {self.state.status}"
        self.set_status(text, warn="diverged" in self.state.status)

    def _on_step(self, change: dict) -> None:
        self.guarded(self.redraw)

    def _on_lr(self, change: dict) -> None:
        self.guarded(self.train)

    def __repr__(self) -> str:
        return (
            f"BoundaryExplorer(logistic regression, n={len(np.asarray(to_numpy(self.y)).reshape(-1))}, "
            f"η={self.lr_slider.value:.3g}, step={self.step_slider.value}/{self.n_steps})"
        )


def boundary_explorer(
    X: Any,
    y: Any,
    lr: float = 1.0,
    n_steps: int = 200,
    *,
    step: int | None = None,
    lr_range: tuple[float, float] = (0.01, 100.0),
    theta0: Any = None,
    grid: int = 150,
) -> BoundaryExplorer:
    r"""A decision-boundary explorer: a step slider through logistic regression's training, and :math:`\eta`.

    Trains once (:func:`boundary_explorer_state`) and shows the boundary at the chosen step beside the
    loss curve (:func:`draw_boundary_explorer`); the status line gives :math:`w_t`, :math:`b_t`, the loss
    and the training accuracy.  Show it as the last expression of a cell.

    Parameters
    ----------
    X : array, shape (n_samples, 2)
        Two features.
    y : array, shape (n_samples,)
        Two classes.
    lr : float
        Initial learning rate :math:`\eta`.
    n_steps : int
        Updates per run (the step slider's range).
    step : int, optional
        Initial step shown (default ``n_steps // 10``, early in training, where the boundary still moves).
    lr_range : (float, float)
        Range of the log-scale :math:`\eta` slider.
    theta0 : array-like of 3 numbers, optional
        Start :math:`(w_1, w_2, b)` (default 0).
    grid : int
        Grid points per axis of the regions.

    Returns
    -------
    BoundaryExplorer
    """
    low, high = check_range("lr", lr_range, lr)
    if isinstance(n_steps, bool) or not isinstance(n_steps, int) or n_steps < 1:
        raise ValueError(f"n_steps must be a positive integer, got {n_steps!r}")
    step = n_steps // 10 if step is None else step
    if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step <= n_steps:
        raise ValueError(f"step must be an integer in 0..n_steps={n_steps}, got {step!r}")
    return BoundaryExplorer(X, y, float(lr), (low, high), n_steps, step, theta0, int(grid))
