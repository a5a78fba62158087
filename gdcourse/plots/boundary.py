r"""Decision regions of a classifier on two features: regions, boundary, margin and support vectors.

A linear classifier scores a point :math:`x` with :math:`z(x) = w^\top x + b` and predicts the positive
class where :math:`z > 0`; its **decision boundary** is the line :math:`z(x) = 0`.  A linear SVM also
has a **margin**, the band :math:`|z(x)| \le 1` between the lines :math:`z(x) = \pm 1`, of width
:math:`2 / \lVert w\rVert`; the training points on or inside it (:math:`y_i z(x_i) \le 1` with
:math:`y_i \in \{-1, +1\}`) are its **support vectors**.  With :math:`K > 2` classes and one score per
class, :math:`x` goes to :math:`\arg\max_k z_k(x)` and the boundaries are where the two largest scores tie.

:func:`plot_decision_boundary` draws all of this for a fitted estimator (anything with
``decision_function`` or ``predict``) or a plain score function, on a grid over the data.  Its
artists carry ``gid`` tags so that tests and later code can find them:

==================== ==========================================================================
``"regions"``        the filled regions, coloured by predicted class (a ``ContourSet``)
``"points"``         one scatter per class of the data, coloured by *true* class
``"boundary"``       the decision boundary :math:`z = 0` (binary: one ``ContourSet``;
                     multi-class: the borders of the regions of classes ``0..K-2``,
                     one ``ContourSet`` each, which together draw every border)
``"margin"``         the lines :math:`z = \pm 1` (``margin=True``)
``"support_vectors"`` rings around the points with :math:`y_i z_i \le 1` (``margin=True``)
==================== ==========================================================================
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from array_api_compat import device
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from gdcourse.backend import array_namespace, to_numpy
from gdcourse.plots._runs import figure_and_axes
from gdcourse.plots.style import PALETTE

__all__ = ["SUPPORT_TOL", "plot_decision_boundary"]

#: A training point counts as a support vector when :math:`y_i z_i \le 1 + \text{SUPPORT\_TOL}`: an
#: iterative solver leaves points that belong *on* the margin a rounding hair outside it.
SUPPORT_TOL = 1e-3

GID_REGIONS = "regions"
GID_POINTS = "points"
GID_BOUNDARY = "boundary"
GID_MARGIN = "margin"
GID_SUPPORT = "support_vectors"

REGION_ALPHA = 0.18


def _colour(k: int) -> str:
    return PALETTE[k % len(PALETTE)]


def _host_features(X: Any) -> tuple[Any, np.ndarray]:
    """``X``'s array namespace (``None`` for lists) and ``X`` on the host as float64, checked ``(n, 2)``."""
    try:
        xp = array_namespace(X)
    except TypeError:
        xp = None
    host = np.asarray(to_numpy(X) if xp is not None else X, dtype=np.float64)
    if host.ndim != 2 or host.shape[1] != 2 or host.shape[0] == 0:
        raise ValueError(
            f"X must have shape (n_samples, 2): the plot shows two features, got shape {host.shape} "
            "(select two columns, e.g. X[:, [0, 1]])"
        )
    if not np.all(np.isfinite(host)):
        raise ValueError("X contains NaN or infinity")
    return xp, host


def _grid_axes(host: np.ndarray, grid: int) -> tuple[np.ndarray, np.ndarray]:
    """Grid coordinates covering the data with a border of 8% of its extent on every side."""
    lo, hi = host.min(axis=0), host.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    lo, hi = lo - 0.08 * span, hi + 0.08 * span
    return np.linspace(lo[0], hi[0], grid), np.linspace(lo[1], hi[1], grid)


def _like_X(points: np.ndarray, X: Any, xp: Any) -> Any:
    """Grid points in the library, device and floating dtype of ``X`` (NumPy when ``X`` was a list)."""
    if xp is None:
        return points
    dtype = X.dtype if xp.isdtype(X.dtype, "real floating") else xp.float64
    return xp.asarray(points, dtype=dtype, device=device(X))


def _scorer(model: Any) -> tuple[Callable[[Any], Any], str]:
    """The function to evaluate on the grid and what it returns: ``"scores"`` or ``"labels"``."""
    if hasattr(model, "decision_function"):
        return model.decision_function, "scores"
    if hasattr(model, "predict"):
        return model.predict, "labels"
    if callable(model):
        return model, "scores"
    raise TypeError(
        "model_or_function must be a fitted classifier (with decision_function or predict) or a function "
        f"points -> scores, got {type(model).__name__}"
    )


def _indices_of(labels: np.ndarray, classes: np.ndarray, what: str) -> np.ndarray:
    """Positions of ``labels`` in the sorted ``classes``; an unknown label is an error."""
    idx = np.searchsorted(classes, labels)
    idx = np.clip(idx, 0, len(classes) - 1)
    bad = classes[idx] != labels
    if np.any(bad):
        unknown = np.unique(labels[bad]).tolist()
        raise ValueError(f"{what} holds labels {unknown} that are not among the classes {classes.tolist()}")
    return idx


def _labels_of(y: Any, n_samples: int) -> np.ndarray:
    """``y`` on the host as a flat array, checked to hold one label per sample."""
    labels = np.asarray(to_numpy(y) if not isinstance(y, list | tuple) else y).reshape(-1)
    if labels.shape[0] != n_samples:
        raise ValueError(f"X has {n_samples} samples but y has {labels.shape[0]}; they must have the same length")
    return labels


@dataclass(frozen=True)
class _Decision:
    """The classifier's decision on the grid: the mesh, the predicted region and the scores behind it."""

    xx: np.ndarray  #: mesh coordinates, shape (grid, grid)
    yy: np.ndarray
    region: np.ndarray  #: index of the predicted class at each mesh point, shape (grid, grid)
    scores: np.ndarray | None  #: (m,) one score or (m, K) scores per point; None when predict gave labels
    n_classes: int  #: colours needed: the classes, or more if the regions hold more

    @property
    def binary(self) -> bool:
        """One score :math:`z` per point: class 1 where :math:`z > 0`."""
        return self.scores is not None and self.scores.ndim == 1

    @property
    def z(self) -> np.ndarray:
        """The one score :math:`z` on the mesh, shape (grid, grid) (binary only)."""
        return self.scores.reshape(self.xx.shape)  # type: ignore[union-attr]


def _evaluate_on(evaluate: Callable[[Any], Any], points: np.ndarray, X: Any, xp: Any) -> np.ndarray:
    """The classifier's output at ``points`` (evaluated in ``X``'s library), on the host, one row per point."""
    out = np.asarray(to_numpy(evaluate(_like_X(points, X, xp))))
    if out.shape[0] != points.shape[0]:
        raise ValueError(f"the classifier returned {out.shape[0]} results for {points.shape[0]} grid points")
    if out.ndim == 2 and out.shape[1] == 1:
        out = out[:, 0]
    return out


def _decide_on_grid(
    evaluate: Callable[[Any], Any], kind: str, classes: np.ndarray, mesh: Sequence[np.ndarray], X: Any, xp: Any
) -> _Decision:
    """Evaluate the classifier on the mesh and decide each point's class: scores > 0, argmax, or the labels."""
    xx, yy = mesh
    out = _evaluate_on(evaluate, np.column_stack([xx.ravel(), yy.ravel()]), X, xp)
    scores: np.ndarray | None = None
    if kind == "labels":
        region = _indices_of(out, classes, "predict(...)").reshape(xx.shape)
    else:
        scores = np.asarray(out, dtype=np.float64)
        if not np.all(np.isfinite(scores)):
            raise ValueError("the scores on the grid contain NaN or infinity")
        if scores.ndim == 1:
            region = (scores > 0).astype(np.int64).reshape(xx.shape)
        else:
            region = np.argmax(scores, axis=1).reshape(xx.shape)
    decision = _Decision(xx, yy, region, scores, max(len(classes), int(region.max()) + 1))
    if decision.binary and len(classes) != 2:
        raise ValueError(f"one score per point means two classes, but y has {len(classes)}: {classes.tolist()}")
    if scores is not None and scores.ndim == 2 and scores.shape[1] != len(classes):
        raise ValueError(f"the classifier returned {scores.shape[1]} scores per point for {len(classes)} classes")
    return decision


def _draw_regions(ax: Axes, decision: _Decision, colours: list[str]) -> None:
    """Fill the predicted regions, lightly: binary by the sign of :math:`z`, else by the region index."""
    xx, yy = decision.xx, decision.yy
    if decision.binary:
        z = decision.z
        filled = ax.contourf(
            xx,
            yy,
            z,
            levels=[min(z.min(), 0.0) - 1.0, 0.0, max(z.max(), 0.0) + 1.0],
            colors=colours[:2],
            alpha=REGION_ALPHA,
        )
    else:
        filled = ax.contourf(
            xx, yy, decision.region, levels=np.arange(decision.n_classes + 1) - 0.5, colors=colours, alpha=REGION_ALPHA
        )
    filled.set_gid(GID_REGIONS)


def _draw_points(
    ax: Axes, host: np.ndarray, true_idx: np.ndarray, classes: np.ndarray, colours: list[str]
) -> list[Any]:
    """One scatter per class present in the data, coloured by the true class; their legend handles."""
    handles: list[Any] = []
    for k, name in enumerate(classes):
        mask = true_idx == k
        if not np.any(mask):
            continue
        handles.append(
            ax.scatter(
                host[mask, 0],
                host[mask, 1],
                s=28,
                color=colours[k],
                edgecolors="white",
                linewidths=0.6,
                label=f"class {name}",
                gid=GID_POINTS,
                zorder=3,
            )
        )
    return handles


def _draw_boundaries(ax: Axes, decision: _Decision) -> Line2D:
    """Draw the boundary :math:`z = 0`, or the borders between the regions; the legend handle for them."""
    xx, yy = decision.xx, decision.yy
    if decision.binary:
        ax.contour(xx, yy, decision.z, levels=[0.0], colors="black", linewidths=2.0).set_gid(GID_BOUNDARY)
    elif decision.scores is not None:
        S = decision.scores.reshape(*xx.shape, -1)
        for k in range(S.shape[-1] - 1):  # the last region's border is shared with the others: drawn already
            others = np.max(np.delete(S, k, axis=-1), axis=-1)
            ax.contour(xx, yy, S[..., k] - others, levels=[0.0], colors="black", linewidths=2.0).set_gid(GID_BOUNDARY)
    else:
        for k in range(decision.n_classes - 1):
            inside = (decision.region == k).astype(np.float64)
            if 0 < inside.sum() < inside.size:
                ax.contour(xx, yy, inside, levels=[0.5], colors="black", linewidths=2.0).set_gid(GID_BOUNDARY)
    boundary_label = "boundary $z = 0$" if decision.binary else "boundaries"
    return Line2D([], [], color="black", linewidth=2.0, label=boundary_label)


def _draw_margin(
    ax: Axes, decision: _Decision, host: np.ndarray, true_idx: np.ndarray, own: np.ndarray
) -> list[Line2D]:
    r"""Draw the margin lines :math:`z = \pm 1` and ring the support vectors; their two legend handles.

    ``own`` holds the scores :math:`z(x_i)` of the data points: :math:`x_i` is a support vector when
    :math:`y_i z(x_i) \le 1` (up to :data:`SUPPORT_TOL`), with :math:`y_i = +1` for the second class.
    """
    ax.contour(
        decision.xx, decision.yy, decision.z, levels=[-1.0, 1.0], colors="black", linewidths=1.4, linestyles="--"
    ).set_gid(GID_MARGIN)
    sign = np.where(true_idx == 1, 1.0, -1.0)
    support = sign * own <= 1.0 + SUPPORT_TOL
    ax.scatter(
        host[support, 0],
        host[support, 1],
        s=130,
        facecolors="none",
        edgecolors="black",
        linewidths=1.4,
        gid=GID_SUPPORT,
        zorder=4,
    )
    return [
        Line2D([], [], color="black", linewidth=1.4, linestyle="--", label="margin $z = \\pm 1$"),
        Line2D(
            [],
            [],
            marker="o",
            markersize=11,
            markerfacecolor="none",
            markeredgecolor="black",
            linestyle="none",
            label=f"support vectors ({int(support.sum())})",
        ),
    ]


def _finish_axes(ax: Axes, gx: np.ndarray, gy: np.ndarray, handles: list[Any]) -> None:
    """Window on the grid, default axis labels :math:`x_1, x_2` (kept if set), and the legend."""
    ax.set_xlim(gx[0], gx[-1])
    ax.set_ylim(gy[0], gy[-1])
    if not ax.get_xlabel():
        ax.set_xlabel("$x_1$")
    if not ax.get_ylabel():
        ax.set_ylabel("$x_2$")
    ax.legend(handles=handles, loc="best", fontsize="small")


def plot_decision_boundary(
    model_or_function: Any,
    X: Any,
    y: Any,
    ax: Axes | None = None,
    *,
    margin: bool = False,
    grid: int = 200,
) -> Figure:
    r"""Draw a classifier's decision regions and boundary over 2-D data, optionally with the SVM margin.

    On a ``grid`` x ``grid`` mesh covering the data (plus a border), the classifier's scores decide
    each point's class:

    * binary, one score :math:`z(x)` (``decision_function`` of a binary estimator, or a function
      returning shape ``(m,)``): class 1 where :math:`z > 0`; the boundary is the contour
      :math:`z = 0`, and ``margin=True`` adds the contours :math:`z = \pm 1` (dashed) and rings the
      support vectors, the training points with :math:`y_i z(x_i) \le 1` for :math:`y_i = \pm 1`
      (up to :data:`SUPPORT_TOL`);
    * :math:`K` scores :math:`z_k(x)` (shape ``(m, K)``): class :math:`\arg\max_k z_k`; the border of
      region :math:`k` is the contour :math:`z_k - \max_{j \ne k} z_j = 0`;
    * an estimator with ``predict`` only: the predicted labels fill the regions and the region
      borders are drawn (no margin).

    The data points are coloured by their *true* class, the regions (lightly) by the predicted one,
    so a point on a region of another colour is misclassified.

    Parameters
    ----------
    model_or_function : estimator or callable
        A fitted classifier with ``decision_function`` (preferred) or ``predict``, e.g.
        :class:`gdcourse.models.LogisticRegression` or any scikit-learn classifier; its ``classes_``
        names the classes.  Or a function ``points -> scores`` taking an ``(m, 2)`` array in the library
        of ``X``, e.g. ``lambda P: P @ w + b``; its classes are the sorted unique values of ``y``, the
        second one on the positive side.
    X : array, shape (n_samples, 2)
        The data, from any backend (read with :func:`gdcourse.backend.to_numpy`).  The grid is made in
        ``X``'s library and device, so a model trained on GPU data is evaluated there.
    y : array, shape (n_samples,)
        True labels of ``X`` (any backend): class labels of the model (e.g. 0/1 or strings), or
        -1/+1 with a plain function.
    ax : Axes, optional
        Draw here; by default a new figure.
    margin : bool, default False
        Also draw the margin lines :math:`z = \pm 1` and the support vectors (binary scores only).
    grid : int, default 200
        Grid points along each axis (at least 2).

    Returns
    -------
    Figure
        The figure holding ``ax``; artists are tagged as listed in :mod:`gdcourse.plots.boundary`.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0], [3.0, 1.0]])
    >>> y = np.array([-1, -1, 1, 1])
    >>> fig = plot_decision_boundary(lambda P: P[:, 0] - 1.5, X, y, margin=True)
    >>> [c.get_gid() for c in fig.axes[0].collections if c.get_gid() != "points"]
    ['regions', 'boundary', 'margin', 'support_vectors']
    """
    if isinstance(grid, bool) or not isinstance(grid, int | np.integer) or grid < 2:
        raise ValueError(f"grid must be an integer >= 2 (points per axis), got {grid!r}")
    xp, host = _host_features(X)
    labels = _labels_of(y, host.shape[0])
    evaluate, kind = _scorer(model_or_function)
    classes = getattr(model_or_function, "classes_", None)
    classes = np.unique(labels) if classes is None else np.asarray(to_numpy(classes))
    true_idx = _indices_of(labels, classes, "y")

    gx, gy = _grid_axes(host, int(grid))
    decision = _decide_on_grid(evaluate, kind, classes, np.meshgrid(gx, gy), X, xp)
    if margin and not decision.binary:
        raise ValueError(
            "margin=True needs one score per point (a binary classifier with decision_function): the margin "
            "lines are z = ±1"
        )

    fig, ax = figure_and_axes(ax)
    colours = [_colour(k) for k in range(decision.n_classes)]
    _draw_regions(ax, decision, colours)
    handles = _draw_points(ax, host, true_idx, classes, colours)
    handles.append(_draw_boundaries(ax, decision))
    if margin:
        # the scores z(x_i) of the data points, in X's library as the grid was
        own = np.asarray(to_numpy(evaluate(X if xp is not None else host)), dtype=np.float64).reshape(-1)
        handles += _draw_margin(ax, decision, host, true_idx, own)
    _finish_axes(ax, gx, gy, handles)
    return fig
