r"""The regularisation explorer: a polynomial fit with sliders for the degree and the penalty strength α.

Built like :mod:`gdcourse.widgets.lr_explorer` (read its module docstring for how to show an explorer
so that strict nbval sees a deterministic output):

* :func:`regularisation_explorer_state` fits a polynomial of degree :math:`d` with an L2, L1 or
  elastic-net penalty of strength :math:`\alpha` and reports the training and validation errors, how
  many coefficients are exactly zero, and the two errors over a grid of :math:`\alpha`;
* :func:`draw_regularisation_explorer` draws the fitted curve over the data, the coefficients, and the
  errors against :math:`\alpha`;
* :func:`regularisation_explorer` is the thin widget; its ``text/plain`` form is a fixed string such
  as ``RegularisationExplorer(degree=12, penalty='l2', α=0.001)``.

The model is the one of :class:`gdcourse.models.LinearRegression` on polynomial features
:math:`x, x^2, \dots, x^d` standardised with the training set's statistics
(:class:`gdcourse.data.Standardizer`):

.. math::
    J(w, b) = \frac{1}{2n}\lVert Zw + b - y\rVert_2^2
              + \alpha\Big(r\lVert w\rVert_1 + \frac{1-r}{2}\lVert w\rVert_2^2\Big),

with :math:`r = 0` for L2, :math:`r = 1` for L1 and :math:`r` = ``l1_ratio`` for the elastic net; the
intercept :math:`b` is not penalised.  The explorer shows the *minimiser* of :math:`J` (what the
penalty does), not an unfinished run of an optimizer: with L2 it solves the linear system
:math:`(Z^\top Z/n + \alpha I)\,w = Z^\top(y - \bar y)/n` exactly; with L1 and elastic net it uses
coordinate descent (scikit-learn's ``enet_path``, the same objective), because on high-degree
polynomial features (condition numbers of :math:`10^9` and more) proximal gradient descent would need
millions of steps.  The features are centred, so :math:`b = \bar y`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any, NamedTuple

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from gdcourse.backend import to_numpy
from gdcourse.data import Standardizer, polynomial_features
from gdcourse.plots import PALETTE
from gdcourse.widgets._explorer import Explorer, check_range, log_slider, new_or_cleared

__all__ = [
    "RegularisationExplorer",
    "RegularisationState",
    "draw_regularisation_explorer",
    "fit_penalised",
    "regularisation_explorer",
    "regularisation_explorer_state",
]

#: The penalties the explorer offers, with their names in the status line.
PENALTY_NAMES = {"l2": "L2", "l1": "L1", "elasticnet": "elastic net"}

#: Coordinate descent settings (scikit-learn's ``enet_path``): tolerance on the duality gap, iteration cap.
CD_TOL, CD_MAX_ITER = 1e-4, 100_000


class RegularisationState(NamedTuple):
    r"""What the regularisation explorer shows.

    Attributes
    ----------
    degree : int
        Degree :math:`d` of the polynomial.
    penalty : str
        ``"l2"``, ``"l1"`` or ``"elasticnet"``.
    alpha : float
        Strength :math:`\alpha`.
    coef : ndarray, shape (degree,)
        Weights :math:`w` of the standardised features :math:`x, \dots, x^d`.
    intercept : float
        :math:`b` (the mean of the training targets).
    train_mse, val_mse : float
        Mean squared errors on the training and validation data.
    n_zero : int
        Number of coefficients that are exactly 0.
    alphas : ndarray
        The grid of :math:`\alpha` (increasing) for the error curves.
    train_path, val_path : ndarray
        Training and validation MSE at each :math:`\alpha` of the grid.
    x_grid, y_grid : ndarray
        The fitted curve, on a grid over the data's range.
    converged : bool
        Whether the solver reached its tolerance at every :math:`\alpha` (always for L2).
    status : str
        One line, e.g. ``"degree 12, L2 α = 0.001: train MSE 0.0301, validation MSE 0.0828, ..."``.
    """

    degree: int
    penalty: str
    alpha: float
    coef: np.ndarray
    intercept: float
    train_mse: float
    val_mse: float
    n_zero: int
    alphas: np.ndarray
    train_path: np.ndarray
    val_path: np.ndarray
    x_grid: np.ndarray
    y_grid: np.ndarray
    converged: bool
    status: str


def _host_1d(name: str, values: Any) -> np.ndarray:
    arr = np.asarray(to_numpy(values), dtype=np.float64)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1 or arr.size < 2:
        raise ValueError(f"{name} must be one feature with at least 2 samples, shape (n,), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinity")
    return arr


def _check_penalty(penalty: Any, l1_ratio: Any) -> float:
    """The L1 share :math:`r` of the penalty (0 for L2, 1 for L1)."""
    if penalty not in PENALTY_NAMES:
        raise ValueError(f"unknown penalty {penalty!r}; expected one of {', '.join(map(repr, PENALTY_NAMES))}")
    if penalty == "l2":
        return 0.0
    if penalty == "l1":
        return 1.0
    r = float(l1_ratio)
    if not 0 < r < 1:
        raise ValueError(f"l1_ratio must be in (0, 1) for the elastic net, got {l1_ratio!r}")
    return r


def fit_penalised(Z: Any, y: Any, alphas: Sequence[float], penalty: str = "l2", *,
                  l1_ratio: float = 0.5) -> tuple[np.ndarray, float, bool]:
    r"""Minimise the penalised least-squares objective for every :math:`\alpha` of a grid.

    .. math::
        J_\alpha(w, b) = \frac{1}{2n}\lVert Zw + b - y\rVert_2^2
                         + \alpha\Big(r\lVert w\rVert_1 + \frac{1-r}{2}\lVert w\rVert_2^2\Big)

    (the objective of :class:`gdcourse.models.LinearRegression` with ``penalty`` and ``alpha``).  The
    columns of ``Z`` must be centred (mean 0), as :class:`~gdcourse.data.Standardizer` makes them; then
    the unpenalised intercept is :math:`b = \bar y` and :math:`w` minimises the same objective for
    :math:`y - \bar y` without intercept.

    * ``"l2"``: :math:`w = (Z^\top Z/n + \alpha I)^{-1} Z^\top (y - \bar y)/n`, one batched linear solve;
    * ``"l1"`` (:math:`r = 1`) and ``"elasticnet"`` (:math:`r` = ``l1_ratio``): coordinate descent with
      warm starts along the grid (``sklearn.linear_model.enet_path``, tolerance :data:`CD_TOL` on the
      duality gap, at most :data:`CD_MAX_ITER` sweeps per :math:`\alpha`).

    Parameters
    ----------
    Z : array, shape (n, p)
        Centred features.
    y : array, shape (n,)
        Targets.
    alphas : sequence of float
        Strengths :math:`\alpha > 0`, in any order.
    penalty : {"l2", "l1", "elasticnet"}
        The penalty.
    l1_ratio : float
        :math:`r` for the elastic net.

    Returns
    -------
    coefs : ndarray, shape (len(alphas), p)
        :math:`w` for each :math:`\alpha`, in the order given.
    intercept : float
        :math:`b = \bar y`.
    converged : bool
        ``False`` when coordinate descent hit its iteration cap at some :math:`\alpha` (the coefficients
        are then approximate); always ``True`` for L2.
    """
    r = _check_penalty(penalty, l1_ratio)
    Z = np.asarray(to_numpy(Z), dtype=np.float64)
    y = _host_1d("y", y)
    a = np.asarray(alphas, dtype=np.float64).reshape(-1)
    if Z.ndim != 2 or Z.shape[0] != y.size:
        raise ValueError(f"Z must have shape (n, p) with n = len(y) = {y.size}, got {Z.shape}")
    if a.size == 0 or not np.all(np.isfinite(a) & (a > 0)):
        raise ValueError(f"alphas must be positive finite numbers, got {alphas!r}")
    n, p = Z.shape
    intercept = float(np.mean(y))
    yc = y - intercept
    if r == 0.0:
        gram = Z.T @ Z / n
        rhs = np.broadcast_to(Z.T @ yc / n, (a.size, p))[..., None]
        coefs = np.linalg.solve(gram[None] + a[:, None, None] * np.eye(p)[None], rhs)[..., 0]
        return coefs, intercept, True
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import enet_path

    order = np.argsort(-a, kind="stable")  # decreasing α: each solution warm-starts the next
    with warnings.catch_warnings():  # reported through the returned flag instead
        warnings.simplefilter("ignore", ConvergenceWarning)
        _, path, _, n_iter = enet_path(
            Z, yc, l1_ratio=r, alphas=a[order], tol=CD_TOL, max_iter=CD_MAX_ITER, return_n_iter=True
        )
    coefs = np.empty((a.size, p))
    coefs[order] = path.T
    converged = bool(np.all(np.asarray(n_iter) < CD_MAX_ITER))
    return coefs, intercept, converged


def regularisation_explorer_state(
    x_train: Any,
    y_train: Any,
    x_val: Any,
    y_val: Any,
    degree: int = 12,
    alpha: float = 1e-3,
    penalty: str = "l2",
    *,
    l1_ratio: float = 0.5,
    alpha_range: tuple[float, float] = (1e-4, 10.0),
    n_alphas: int = 31,
) -> RegularisationState:
    r"""Fit a penalised polynomial of degree ``degree`` and measure it, at ``alpha`` and over a grid of α.

    The features :math:`x, \dots, x^d` (:func:`~gdcourse.data.polynomial_features`) are standardised with
    the training set's mean and standard deviation; :func:`fit_penalised` then minimises
    :math:`\frac{1}{2n}\lVert Zw + b - y\rVert^2 + R_\alpha(w)` at ``alpha`` and at ``n_alphas``
    log-spaced values across ``alpha_range``.  The status line reads, e.g.,
    ``"degree 12, L1 α = 0.01: train MSE 0.041, validation MSE 0.073; 8 of 12 coefficients exactly 0"``,
    followed by the best :math:`\alpha` of the grid for the validation error.

    Parameters
    ----------
    x_train, y_train : array, shape (n,)
        Training inputs (one feature) and targets (any backend; the explorer computes on the host).
    x_val, y_val : array, shape (m,)
        Validation data, only measured.
    degree : int
        :math:`d \ge 1`.
    alpha : float
        :math:`\alpha > 0`.
    penalty : {"l2", "l1", "elasticnet"}
        The penalty.
    l1_ratio : float
        :math:`r \in (0, 1)` of the elastic net.
    alpha_range : (float, float)
        Span of the grid of :math:`\alpha` for the error curves.
    n_alphas : int
        Number of grid points (at least 2).

    Returns
    -------
    RegularisationState
    """
    if isinstance(degree, bool) or not isinstance(degree, int | np.integer) or degree < 1:
        raise ValueError(f"degree must be an integer >= 1, got {degree!r}")
    degree = int(degree)
    alpha = float(alpha)
    if not (math.isfinite(alpha) and alpha > 0):
        raise ValueError(f"alpha must be a positive finite number, got {alpha!r}")
    low, high = (float(v) for v in alpha_range)
    if not (0 < low < high and math.isfinite(high)):
        raise ValueError(f"alpha_range must be (low, high) with 0 < low < high, got {alpha_range!r}")
    if isinstance(n_alphas, bool) or not isinstance(n_alphas, int) or n_alphas < 2:
        raise ValueError(f"n_alphas must be an integer >= 2, got {n_alphas!r}")
    _check_penalty(penalty, l1_ratio)
    x, y = _host_1d("x_train", x_train), _host_1d("y_train", y_train)
    xv, yv = _host_1d("x_val", x_val), _host_1d("y_val", y_val)
    if x.size != y.size or xv.size != yv.size:
        raise ValueError(
            f"x and y must have the same length: x_train {x.size}, y_train {y.size}, x_val {xv.size}, y_val {yv.size}"
        )
    scaler = Standardizer().fit(polynomial_features(x, degree))
    Z, Zv = scaler.transform(polynomial_features(x, degree)), scaler.transform(polynomial_features(xv, degree))
    grid = np.logspace(math.log10(low), math.log10(high), n_alphas)
    coefs, b, converged = fit_penalised(Z, y, np.r_[alpha, grid], penalty, l1_ratio=l1_ratio)
    train_all = np.mean((Z @ coefs.T + b - y[:, None]) ** 2, axis=0)
    val_all = np.mean((Zv @ coefs.T + b - yv[:, None]) ** 2, axis=0)
    coef = coefs[0]
    span = np.r_[x, xv]
    x_grid = np.linspace(span.min(), span.max(), 200)
    y_grid = scaler.transform(polynomial_features(x_grid, degree)) @ coef + b
    n_zero = int(np.sum(coef == 0.0))
    best = grid[int(np.argmin(val_all[1:]))]
    status = (
        f"degree {degree}, {PENALTY_NAMES[penalty]} α = {alpha:.3g}: train MSE {train_all[0]:.3g}, "
        f"validation MSE {val_all[0]:.3g}; {n_zero} of {degree} coefficients exactly 0 "
        f"(lowest validation MSE on the grid: α ≈ {best:.2g})"
    )
    if not converged:
        status += " — coordinate descent stopped at its iteration limit: the fit is approximate"
    return RegularisationState(
        degree, penalty, alpha, coef, b, float(train_all[0]), float(val_all[0]), n_zero,
        grid, train_all[1:], val_all[1:], x_grid, y_grid, converged, status,
    )


def draw_regularisation_explorer(
    state: RegularisationState,
    x_train: Any,
    y_train: Any,
    x_val: Any = None,
    y_val: Any = None,
    fig: Figure | None = None,
    *,
    true_coef: Sequence[float] | None = None,
    title: str | None = None,
) -> Figure:
    r"""Draw the explorer's three panels: the fit, the coefficients, the errors against α.

    Left: training points, validation points (small, grey), the true curve
    :math:`\sum_k c_k x^k` dashed when ``true_coef`` is given (``gid="truth"``) and the fitted curve
    (``gid="model"``), with the vertical range fixed by the data so that a wild fit leaves the frame
    instead of squashing it.  Middle: the weights :math:`w_1..w_d` as bars (``gid="coef"``); exact zeros
    are marked with a circle on the axis (``gid="zeros"``).  Right: training and validation MSE over the
    grid of :math:`\alpha` (``gid="train_path"``, ``"val_path"``, log scale of :math:`\alpha`; the MSE axis
    stops at 4 times the lowest validation error) with a vertical line at the current :math:`\alpha`
    (``gid="alpha"``).

    Parameters
    ----------
    state : RegularisationState
        From :func:`regularisation_explorer_state`.
    x_train, y_train : array
        The training data of the state.
    x_val, y_val : array, optional
        The validation data.
    fig : Figure, optional
        Clear and redraw this figure (the widget reuses one); default: a new
        :class:`~matplotlib.figure.Figure` not managed by ``pyplot``.
    true_coef : sequence of float, optional
        Coefficients :math:`c_0, c_1, \dots` of the polynomial the data came from.
    title : str, optional
        A title over the panels.

    Returns
    -------
    Figure
    """
    fig = new_or_cleared(fig, figsize=(12, 3.8), dpi=80)
    ax_fit, ax_coef, ax_err = fig.subplots(1, 3, width_ratios=(1.3, 1.0, 1.0))
    x, y = _host_1d("x_train", x_train), _host_1d("y_train", y_train)
    shown_y = [y]
    if x_val is not None and y_val is not None:
        xv, yv = _host_1d("x_val", x_val), _host_1d("y_val", y_val)
        ax_fit.scatter(xv, yv, s=8, color="0.7", label="validation", zorder=1)
        shown_y.append(yv)
    ax_fit.scatter(x, y, s=28, color=PALETTE[0], edgecolor="white", linewidth=0.5, label="training", zorder=3)
    if true_coef is not None:
        truth = np.polynomial.polynomial.polyval(state.x_grid, np.asarray(true_coef, dtype=np.float64))
        ax_fit.plot(state.x_grid, truth, color="k", linestyle="--", linewidth=1.2, label="truth", gid="truth")
    ax_fit.plot(state.x_grid, state.y_grid, color=PALETTE[1], linewidth=2, label="model", gid="model", zorder=2)
    all_y = np.concatenate(shown_y)
    pad = 0.25 * (all_y.max() - all_y.min())
    ax_fit.set_ylim(all_y.min() - pad, all_y.max() + pad)
    ax_fit.set(xlabel="$x$", ylabel="$y$", title=f"degree {state.degree}, {PENALTY_NAMES[state.penalty]}")
    ax_fit.legend(loc="best", fontsize="small")

    k = np.arange(1, state.degree + 1)
    ax_coef.bar(k, state.coef, color=PALETTE[2], gid="coef")
    zeros = k[state.coef == 0.0]
    ax_coef.plot(zeros, np.zeros(zeros.size), "o", color=PALETTE[1], markerfacecolor="none", gid="zeros",
                 label=f"exactly 0 ({zeros.size})")
    ax_coef.axhline(0.0, color="k", linewidth=0.8)
    ax_coef.set(xlabel="power $k$ of $x^k$", ylabel="weight $w_k$", title="coefficients")
    ax_coef.set_xticks(k if state.degree <= 8 else k[::2])
    if zeros.size:
        ax_coef.legend(loc="best", fontsize="small")

    ax_err.plot(state.alphas, state.train_path, color=PALETTE[0], label="training", gid="train_path")
    ax_err.plot(state.alphas, state.val_path, color=PALETTE[1], label="validation", gid="val_path")
    ax_err.axvline(state.alpha, color="k", linestyle=":", gid="alpha")
    ax_err.plot([state.alpha, state.alpha], [state.train_mse, state.val_mse], "ko", markersize=4)
    top = max(float(np.max(state.train_path)), min(float(np.max(state.val_path)), 4 * float(np.min(state.val_path))))
    ax_err.set_ylim(0.0, 1.1 * top)  # a validation error that explodes at small α leaves the frame
    ax_err.set(xscale="log", xlabel=r"$\alpha$", ylabel="MSE", title=r"error against $\alpha$")
    ax_err.legend(loc="best", fontsize="small")
    if title:
        fig.suptitle(title)
    return fig


class RegularisationExplorer(Explorer):
    r"""The regularisation explorer widget; build it with :func:`regularisation_explorer`.

    Attributes
    ----------
    degree_slider : ipywidgets.IntSlider
        The degree :math:`d`.
    alpha_slider : ipywidgets.FloatLogSlider
        The strength :math:`\alpha` (log scale).
    penalty_buttons : ipywidgets.ToggleButtons
        L2, L1 or elastic net.
    status : ipywidgets.HTML
        The status line of :func:`regularisation_explorer_state`.
    output : ipywidgets.Output
        Shows the figure as a PNG.
    figure : Figure
        Redrawn in place on every change.
    state : RegularisationState
        The last fit.
    """

    def __init__(
        self, data: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], degree: int, max_degree: int,
        alpha: float, alpha_range: tuple[float, float], penalty: str, l1_ratio: float,
        true_coef: Sequence[float] | None,
    ) -> None:
        self.degree_slider = widgets.IntSlider(
            value=degree, min=1, max=max_degree, description="degree", continuous_update=False
        )
        self.alpha_slider = log_slider(alpha, alpha_range, description="α", step=0.05, readout_format=".2g")
        self.penalty_buttons = widgets.ToggleButtons(
            options=[(label, key) for key, label in PENALTY_NAMES.items()], value=penalty, description="penalty"
        )
        super().__init__(widgets.HBox([self.degree_slider, self.alpha_slider]), self.penalty_buttons)
        self.data, self.alpha_range, self.l1_ratio, self.true_coef = data, alpha_range, l1_ratio, true_coef
        self.start(self.degree_slider, self.alpha_slider, self.penalty_buttons)

    def update(self) -> None:
        """Refit with the controls' values and redraw the figure and the status."""
        self.state = regularisation_explorer_state(
            *self.data, degree=int(self.degree_slider.value), alpha=float(self.alpha_slider.value),
            penalty=str(self.penalty_buttons.value), l1_ratio=self.l1_ratio, alpha_range=self.alpha_range,
        )
        self.show(draw_regularisation_explorer(self.state, *self.data, fig=self.figure, true_coef=self.true_coef))
        self.set_status(self.state.status, warn=not self.state.converged)

    def __repr__(self) -> str:
        return (
            f"RegularisationExplorer(degree={self.degree_slider.value}, penalty={self.penalty_buttons.value!r}, "
            f"α={self.alpha_slider.value:.2g})"
        )


def regularisation_explorer(
    x_train: Any,
    y_train: Any,
    x_val: Any,
    y_val: Any,
    degree: int = 12,
    alpha: float = 1e-3,
    penalty: str = "l2",
    *,
    alpha_range: tuple[float, float] = (1e-4, 10.0),
    max_degree: int = 15,
    l1_ratio: float = 0.5,
    true_coef: Sequence[float] | None = None,
) -> RegularisationExplorer:
    r"""A regularisation explorer: sliders for the degree and :math:`\alpha`, buttons for the penalty.

    Every change refits the penalised polynomial (:func:`regularisation_explorer_state`) and redraws
    the fit, the coefficients and the errors against :math:`\alpha` (:func:`draw_regularisation_explorer`);
    the status line gives the training and validation MSE and the number of exact zeros.  Show it as the
    last expression of a cell.

    Parameters
    ----------
    x_train, y_train, x_val, y_val : array, shape (n,)
        One input feature and targets, for training and for validation.
    degree : int
        Initial degree (``1 <= degree <= max_degree``).
    alpha : float
        Initial :math:`\alpha`, inside ``alpha_range``.
    penalty : {"l2", "l1", "elasticnet"}
        Initial penalty.
    alpha_range : (float, float)
        Range of the log-scale :math:`\alpha` slider and of the error curves.  Coordinate descent (L1,
        elastic net) converges slowly for tiny :math:`\alpha` on high-degree features; below about
        ``1e-4`` the status may say the fit is approximate.
    max_degree : int
        Upper end of the degree slider.
    l1_ratio : float
        :math:`r \in (0, 1)` of the elastic net.
    true_coef : sequence of float, optional
        Coefficients :math:`c_0, c_1, \dots` of the true polynomial, drawn dashed.

    Returns
    -------
    RegularisationExplorer
        A ``VBox``: ``.degree_slider``, ``.alpha_slider``, ``.penalty_buttons``, ``.status``, ``.output``,
        ``.figure``, ``.state``.
    """
    low, high = check_range("alpha", alpha_range, alpha)
    if isinstance(max_degree, bool) or not isinstance(max_degree, int) or max_degree < 1:
        raise ValueError(f"max_degree must be an integer >= 1, got {max_degree!r}")
    if isinstance(degree, bool) or not isinstance(degree, int) or not 1 <= degree <= max_degree:
        raise ValueError(f"degree must be an integer in [1, max_degree={max_degree}], got {degree!r}")
    _check_penalty(penalty, l1_ratio)
    data = (
        _host_1d("x_train", x_train), _host_1d("y_train", y_train), _host_1d("x_val", x_val), _host_1d("y_val", y_val)
    )
    return RegularisationExplorer(data, degree, max_degree, float(alpha), (low, high), penalty, float(l1_ratio),
                                  true_coef)
