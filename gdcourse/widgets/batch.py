r"""The batch-size explorer: sliders for the batch size B and the learning rate η, minibatch SGD beside full-batch GD.

Built like :mod:`gdcourse.widgets.lr_explorer` (read its module docstring for how to show an explorer
so that strict nbval sees a deterministic output):

* :func:`batch_explorer_state` runs minibatch SGD (:func:`gdcourse.stochastic.sgd_run`) with batch size
  :math:`B` and learning rate :math:`\eta` for some epochs on a :class:`~gdcourse.stochastic.LeastSquares`
  problem, and full-batch gradient descent with the same :math:`\eta` for the same epochs, and sums them
  up in a one-line status: updates per epoch, the final gap :math:`J - J^*` of both, the small-η
  prediction of the noise floor :math:`\eta\sigma_*^2/(4B)`, and :math:`\eta` against :math:`2/L`;
* :func:`draw_batch_explorer` draws both paths on the contour map and both gaps against epochs;
* :func:`batch_explorer` is the thin widget; its ``text/plain`` form is a fixed string such as
  ``BatchExplorer(n=1000, B=32, η=0.1, epochs=10)``.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from array_api_compat import device
from matplotlib.figure import Figure

from gdcourse.backend import array_namespace
from gdcourse.plots import plot_contour
from gdcourse.stochastic import LeastSquares, StochasticHistory, gradient_variance, sgd_run
from gdcourse.widgets._explorer import Explorer, check_range, log_slider, new_or_cleared

__all__ = ["BatchExplorer", "BatchState", "batch_explorer", "batch_explorer_state", "draw_batch_explorer"]

#: records per epoch kept for drawing (a run with B = 1 updates n times per epoch)
RECORDS_PER_EPOCH = 50


class BatchState(NamedTuple):
    r"""What the batch-size explorer shows: the minibatch run, the full-batch run with the same η, a status line.

    ``noise_floor`` is the small-η prediction :math:`\eta\sigma_*^2/(4B)` of the gap at which the minibatch
    run hovers (0 for the full batch).
    """

    run: StochasticHistory
    full: StochasticHistory
    noise_floor: float
    status: str


def _check_problem(problem: Any) -> LeastSquares:
    if not isinstance(problem, LeastSquares):
        raise TypeError(f"problem must be a gdcourse.stochastic.LeastSquares, got {type(problem).__name__}")
    if problem.dim != 2:
        raise ValueError(f"the batch-size explorer draws 2-parameter problems, got dim={problem.dim}")
    return problem


def _start(problem: LeastSquares, theta0: Any) -> Any:
    """``theta0`` (default ``problem.start``) as float64 on the library and device of the problem's data."""
    if theta0 is None:
        theta0 = problem.start
    if isinstance(theta0, list | tuple | np.ndarray):
        host = np.asarray(theta0, dtype=np.float64).reshape(-1)
        return array_namespace(problem.X).asarray(host, device=device(problem.X))
    return theta0


def _gap_text(history: StochasticHistory, f_min: float) -> str:
    if history.stop_reason == "diverged":
        return f"diverged at update {history.n_iter}"
    return f"J − J* = {history.final_loss - f_min:.2g}"


def batch_explorer_state(
    problem: LeastSquares, batch_size: int, lr: float, epochs: int = 10, *, theta0: Any = None, seed: int = 0
) -> BatchState:
    r"""Run minibatch SGD with batch size :math:`B` and full-batch GD, both with :math:`\eta`, for ``epochs`` epochs.

    Both runs are :func:`~gdcourse.stochastic.sgd_run` (``on_divergence="stop"``), the minibatch one with
    batch order ``seed``, recording about ``RECORDS_PER_EPOCH`` points per epoch.  The status reads, e.g.,
    ``"B = 32: 32 updates per epoch, 320 in 10 epochs → J − J* = 0.0012 (noise floor ≈ 0.00091) ·
    full batch: 10 updates → J − J* = 0.68 · η = 0.1 < 2/L = 0.765"``.  The noise floor is the
    stationary gap of constant-η SGD on a quadratic to first order in :math:`\eta` (sampling with
    replacement): :math:`\mathbb E[J - J^*] \approx \eta\,\sigma_*^2/(4B)`, with :math:`\sigma_*^2` the spread
    of the examples' gradients at the minimum (:func:`~gdcourse.stochastic.gradient_variance`).

    Parameters
    ----------
    problem : LeastSquares
        A 2-parameter least-squares problem.
    batch_size : int
        :math:`B`, from 1 to ``problem.n_samples``.
    lr : float
        :math:`\eta > 0`.
    epochs : int, default 10
        Passes over the data for both runs.
    theta0 : array, optional
        Start (default ``problem.start``, zeros).
    seed : int, default 0
        Seed of the batch order.

    Returns
    -------
    BatchState
    """
    problem = _check_problem(problem)
    n = problem.n_samples
    if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer) or not 1 <= batch_size <= n:
        raise ValueError(f"batch_size must be an integer from 1 to n_samples={n}, got {batch_size!r}")
    if isinstance(epochs, bool) or not isinstance(epochs, int | np.integer) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    start = _start(problem, theta0)
    B = int(batch_size)
    every = max(1, math.ceil(math.ceil(n / B) / RECORDS_PER_EPOCH))
    X, y = problem.X, problem.y
    run = sgd_run(problem, start, X, y, batch_size=B, lr=lr, epochs=int(epochs), seed=seed, record_every=every,
                  on_divergence="stop", label=f"B = {B}")
    full = sgd_run(problem, start, X, y, batch_size=n, lr=lr, epochs=int(epochs), on_divergence="stop",
                   label=f"full batch (B = {n})")
    sigma2 = gradient_variance(problem.per_example_grads(_start(problem, problem.global_minimum)))
    floor = lr * sigma2 / (4 * B) if B < n else 0.0
    f_min = problem.f_min
    per_epoch = math.ceil(n / B)
    updates = "update" if per_epoch == 1 else "updates"
    left = f"B = {B}: {per_epoch} {updates} per epoch, {per_epoch * int(epochs)} in {int(epochs)} epochs → "
    left += _gap_text(run, f_min)
    if B < n and run.stop_reason != "diverged":
        left += f" (noise floor ≈ {floor:.2g})"
    right = f"full batch: {full.n_iter} updates → {_gap_text(full, f_min)}"
    relation = ">" if lr > 2.0 / problem.L else "<" if lr < 2.0 / problem.L else "="
    status = f"{left} · {right} · η = {lr:.3g} {relation} 2/L = {2.0 / problem.L:.3g}"
    return BatchState(run, full, floor, status)


def draw_batch_explorer(
    problem: LeastSquares, state: BatchState, fig: Figure | None = None, *, title: str | None = None
) -> Figure:
    r"""Draw the two runs: paths on the contour map of :math:`J` (left), :math:`J - J^*` against epochs (right).

    Right panel: log scale, one line per run (``gid="gap"``; the full batch has one point per epoch, the
    minibatch run about ``RECORDS_PER_EPOCH``), and the noise floor as a dashed horizontal line
    (``gid="floor"``) when :math:`B < n`.  The contour window is fixed by the problem's domain and the
    start, so it stays still while the sliders move.

    Parameters
    ----------
    problem : LeastSquares
        The problem of the runs.
    state : BatchState
        From :func:`batch_explorer_state`.
    fig : Figure, optional
        Clear and redraw this figure (the widget reuses one); default: a new
        :class:`~matplotlib.figure.Figure` not managed by ``pyplot``.
    title : str, optional
        A title over both panels.

    Returns
    -------
    Figure
    """
    problem = _check_problem(problem)
    fig = new_or_cleared(fig, figsize=(10, 3.9), dpi=80)
    ax_path, ax_gap = fig.subplots(1, 2)
    start = np.asarray(state.full.path[0], dtype=np.float64)
    window = []
    for d, (lo, hi) in enumerate(problem.domain):
        pad = 0.05 * (hi - lo)
        window.append((min(lo, start[d] - pad), max(hi, start[d] + pad)))
    plot_contour(problem, [state.full, state.run], ax=ax_path, window=window, levels=12)
    cycle = plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0", "C1"])
    gaps = []
    for i, history in enumerate((state.full, state.run)):
        gap = np.asarray(history.losses, dtype=np.float64) - problem.f_min
        shown = np.where(np.isfinite(gap) & (gap > 0), gap, np.nan)
        gaps.append(shown)
        ax_gap.plot(history.epochs, shown, color=cycle[i % len(cycle)], label=history.label, gid="gap")
    top = float(np.nanmax(gaps[0][:1])) if np.isfinite(gaps[0][0]) else 1.0
    if state.noise_floor > 0:
        ax_gap.axhline(state.noise_floor, color=cycle[1 % len(cycle)], linestyle="--", linewidth=1.2,
                       label=r"noise floor $\approx \eta\sigma_*^2/(4B)$", gid="floor")
    ax_gap.set_yscale("log")
    ax_gap.set_ylim(1e-6 * top, 1e3 * top)  # fixed: a diverging run leaves through the top
    ax_gap.set_xlabel("epoch")
    ax_gap.set_ylabel(r"$J(\theta) - J^*$")
    ax_gap.legend(loc="lower left")
    if title:
        fig.suptitle(title)
    return fig


class BatchExplorer(Explorer):
    r"""The batch-size explorer widget; build it with :func:`batch_explorer`.

    Attributes
    ----------
    batch_slider : ipywidgets.SelectionSlider
        The batch size :math:`B` (powers of two and :math:`n`).
    lr_slider : ipywidgets.FloatLogSlider
        The learning rate :math:`\eta`.
    epochs_slider : ipywidgets.IntSlider
        The number of epochs.
    status : ipywidgets.HTML
        The status line of :func:`batch_explorer_state`.
    output : ipywidgets.Output
        Shows the figure as a PNG.
    figure : Figure
        Redrawn in place on every change.
    state : BatchState
        The last runs.
    """

    def __init__(
        self, problem: LeastSquares, theta0: Any, batch_size: int, lr: float, lr_range: tuple[float, float],
        epochs: int, max_epochs: int, seed: int,
    ) -> None:
        n = problem.n_samples
        sizes = sorted({2**k for k in range(int(math.log2(n)) + 1) if 2**k < n} | {int(batch_size), n})
        self.batch_slider = widgets.SelectionSlider(
            options=sizes, value=int(batch_size), description="B", continuous_update=False
        )
        self.lr_slider = log_slider(lr, lr_range)
        self.epochs_slider = widgets.IntSlider(
            value=epochs, min=1, max=max_epochs, description="epochs", continuous_update=False
        )
        super().__init__(widgets.HBox([self.batch_slider, self.lr_slider, self.epochs_slider]))
        self.problem, self.theta0, self.seed = problem, _start(problem, theta0), seed
        self.start(self.batch_slider, self.lr_slider, self.epochs_slider)

    def update(self) -> None:
        """Rerun with the sliders' values and redraw the figure and the status."""
        self.state = batch_explorer_state(
            self.problem, int(self.batch_slider.value), float(self.lr_slider.value), int(self.epochs_slider.value),
            theta0=self.theta0, seed=self.seed,
        )
        self.show(draw_batch_explorer(self.problem, self.state, fig=self.figure))
        bad = "diverged" in self.state.status or float(self.lr_slider.value) > 2.0 / self.problem.L
        self.set_status(self.state.status, warn=bad)

    def __repr__(self) -> str:
        return (
            f"BatchExplorer(n={self.problem.n_samples}, B={self.batch_slider.value}, "
            f"η={self.lr_slider.value:.3g}, epochs={self.epochs_slider.value})"
        )


def batch_explorer(
    problem: LeastSquares,
    batch_size: int = 32,
    lr: float = 0.1,
    epochs: int = 10,
    *,
    theta0: Any = None,
    lr_range: tuple[float, float] | None = None,
    max_epochs: int = 50,
    seed: int = 0,
) -> BatchExplorer:
    r"""A batch-size explorer: sliders for :math:`B`, :math:`\eta` and the epochs; minibatch SGD beside full-batch GD.

    Moving a slider reruns both (:func:`batch_explorer_state`) and redraws their paths and gaps
    (:func:`draw_batch_explorer`).  Things to try: :math:`B = 1` against :math:`B = n` at the same
    :math:`\eta` (many cheap noisy steps against few exact ones); the noise floor falling as :math:`B`
    grows or :math:`\eta` shrinks; :math:`\eta` just above :math:`2/L`, where every batch size fails.
    Show it as the last expression of a cell.

    Parameters
    ----------
    problem : LeastSquares
        A 2-parameter least-squares problem.
    batch_size : int
        Initial :math:`B` (the slider offers powers of two below :math:`n`, :math:`n` itself, and this value).
    lr : float
        Initial :math:`\eta`.
    epochs : int
        Initial number of epochs.
    theta0 : array, optional
        Start (default ``problem.start``).
    lr_range : (float, float), optional
        Range of the log-scale :math:`\eta` slider; default ``(0.01/L, 3/L)`` (so :math:`2/L` is inside).
    max_epochs : int
        Upper end of the epochs slider.
    seed : int
        Seed of the batch order.

    Returns
    -------
    BatchExplorer
    """
    problem = _check_problem(problem)
    if lr_range is None:
        lr_range = (0.01 / problem.L, 3.0 / problem.L)
    low, high = check_range("lr", lr_range, lr)
    n = problem.n_samples
    if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer) or not 1 <= batch_size <= n:
        raise ValueError(f"batch_size must be an integer from 1 to n_samples={n}, got {batch_size!r}")
    if isinstance(epochs, bool) or not isinstance(epochs, int | np.integer) or not 1 <= epochs <= max_epochs:
        raise ValueError(f"epochs must be an integer from 1 to max_epochs={max_epochs}, got {epochs!r}")
    return BatchExplorer(problem, theta0, int(batch_size), float(lr), (low, high), int(epochs), int(max_epochs),
                         int(seed))
