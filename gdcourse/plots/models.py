r"""Figures of trained models: a confusion matrix, and a grid of convolution filters (or any small images).

Both take arrays of any backend (converted with :func:`gdcourse.backend.to_numpy`), draw into ``ax``
(or ``axes``) when given, else into a new figure, return the :class:`~matplotlib.figure.Figure` and
never call ``plt.show()``.  Artists carry ``gid`` tags: ``"confusion"`` (the image of the off-diagonal
entries; every entry is also written in its cell as text) and ``"filter"`` (one image per filter, its
array = the filter's weights).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from gdcourse.backend import to_numpy
from gdcourse.plots._runs import figure_and_axes

__all__ = ["GID_CONFUSION", "GID_FILTER", "confusion_counts", "plot_confusion_matrix", "plot_filters"]

GID_CONFUSION = "confusion"
GID_FILTER = "filter"


def _labels(values: Any, name: str) -> np.ndarray:
    a = np.asarray(to_numpy(values))
    if a.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of class labels, got shape {a.shape}")
    if a.size and not np.issubdtype(a.dtype, np.integer):
        if not (np.issubdtype(a.dtype, np.floating) and np.all(a == np.round(a))):
            raise TypeError(f"{name} must hold integer class labels, got dtype {a.dtype}")
        a = a.astype(np.int64)
    return a.astype(np.int64, copy=False)


def confusion_counts(y_true: Any, y_pred: Any, n_classes: int | None = None) -> np.ndarray:
    r"""The ``(k, k)`` matrix :math:`C_{ij} = \#\{m : y^{true}_m = i,\ y^{pred}_m = j\}` (rows: true class).

    Parameters
    ----------
    y_true, y_pred : array of int, shape (n,)
        Class labels in ``[0, k)``, of any backend.
    n_classes : int, optional
        :math:`k`; by default the largest label seen plus one.

    Returns
    -------
    numpy.ndarray of int64, shape (k, k)
    """
    t, p = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if t.shape != p.shape:
        raise ValueError(f"y_true has {t.size} labels but y_pred has {p.size}; they must match")
    if t.size and min(t.min(), p.min()) < 0:
        raise ValueError("class labels must be non-negative integers")
    seen = int(max(t.max(), p.max())) + 1 if t.size else 0
    k = seen if n_classes is None else int(n_classes)
    if k < seen:
        raise ValueError(f"n_classes={k} but the labels go up to {seen - 1}")
    counts = np.zeros((k, k), dtype=np.int64)
    np.add.at(counts, (t, p), 1)
    return counts


def plot_confusion_matrix(
    y_true: Any = None,
    y_pred: Any = None,
    *,
    counts: Any = None,
    class_names: Sequence[str] | None = None,
    normalize: bool = False,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    r"""Draw a confusion matrix: rows are the true classes, columns the predicted ones.

    Each cell shows its count (or, with ``normalize=True``, the fraction of its row: the recall of
    that class on the diagonal).  The colour scale ignores the diagonal, so the few mistakes stand out
    instead of being washed out by the many correct predictions; the diagonal is drawn in grey.

    Parameters
    ----------
    y_true, y_pred : array of int, shape (n,), optional
        Labels; give these or ``counts``.
    counts : array, shape (k, k), optional
        A confusion matrix already computed (e.g. by :func:`confusion_counts`).
    class_names : sequence of str, optional
        Tick labels; default ``0 … k-1``.
    normalize : bool
        Show fractions of each row instead of counts.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when omitted.
    title : str, optional
        Axes title (default: "confusion matrix").

    Returns
    -------
    matplotlib.figure.Figure
    """
    if counts is None:
        if y_true is None or y_pred is None:
            raise ValueError("give y_true and y_pred, or counts")
        C = confusion_counts(y_true, y_pred)
    else:
        if y_true is not None or y_pred is not None:
            raise ValueError("give either y_true and y_pred, or counts, not both")
        C = np.asarray(to_numpy(counts))
        if C.ndim != 2 or C.shape[0] != C.shape[1]:
            raise ValueError(f"counts must be a square (k, k) matrix, got shape {C.shape}")
    k = C.shape[0]
    names = [str(i) for i in range(k)] if class_names is None else [str(n) for n in class_names]
    if len(names) != k:
        raise ValueError(f"class_names has {len(names)} names for {k} classes")
    shown = C.astype(np.float64)
    if normalize:
        totals = shown.sum(axis=1, keepdims=True)
        shown = np.divide(shown, totals, out=np.zeros_like(shown), where=totals > 0)
    fig, ax = figure_and_axes(ax, figsize=(1.0 + 0.5 * k, 0.8 + 0.5 * k))
    off = shown.copy()
    np.fill_diagonal(off, np.nan)
    top = np.nanmax(off) if k > 1 and np.any(np.isfinite(off)) else 0.0
    image = ax.imshow(off, cmap="Oranges", vmin=0.0, vmax=top if top > 0 else 1.0)
    image.set_gid(GID_CONFUSION)
    ax.imshow(np.where(np.eye(k, dtype=bool), 1.0, np.nan), cmap="Greys", vmin=0.0, vmax=4.0)
    fmt = "{:.2f}" if normalize else "{:.0f}"
    for i in range(k):
        for j in range(k):
            if shown[i, j] or i == j:
                strong = i != j and top > 0 and shown[i, j] > 0.6 * top
                colour = "white" if strong else "black"
                ax.text(j, i, fmt.format(shown[i, j]), ha="center", va="center", fontsize="small", color=colour)
    ax.set_xticks(range(k), names)
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.grid(False)
    ax.set_title("confusion matrix" if title is None else title)
    return fig


def plot_filters(
    weights: Any,
    *,
    axes: Sequence[Axes] | None = None,
    ncols: int | None = None,
    titles: Sequence[str] | None = None,
    suptitle: str | None = None,
    symmetric: bool = True,
) -> Figure:
    r"""Show convolution filters (or any stack of small images) side by side.

    Parameters
    ----------
    weights : array, shape (n, kh, kw) or (n, c, kh, kw)
        The filters, e.g. ``Conv2d.weight`` of shape ``(C_out, C_in, kh, kw)``; with several input
        channels each filter is shown as the mean over them.
    axes : sequence of Axes, optional
        One axes per filter (at least ``n``); a new figure otherwise.
    ncols : int, optional
        Columns of the new figure's grid (default: all in one row up to 8, then rows of 8).
    titles : sequence of str, optional
        One title per filter (default ``"filter 0"``, ...).
    suptitle : str, optional
        Title above the whole grid.
    symmetric : bool
        One colour scale centred on 0 for all filters (blue negative, red positive), so weights are
        comparable across filters; else each image is scaled on its own (grey scale).

    Returns
    -------
    matplotlib.figure.Figure
    """
    w = np.asarray(to_numpy(weights), dtype=np.float64)
    if w.ndim == 4:
        w = w.mean(axis=1)
    if w.ndim != 3 or w.shape[0] < 1:
        raise ValueError(f"weights must have shape (n, kh, kw) or (n, c, kh, kw), got {np.shape(to_numpy(weights))}")
    n = w.shape[0]
    if titles is not None and len(titles) != n:
        raise ValueError(f"titles has {len(titles)} entries for {n} filters")
    if axes is None:
        cols = min(n, 8) if ncols is None else int(ncols)
        if cols < 1:
            raise ValueError(f"ncols must be a positive integer, got {ncols!r}")
        rows = math.ceil(n / cols)
        fig, grid = plt.subplots(rows, cols, figsize=(1.4 * cols, 1.5 * rows + (0.4 if suptitle else 0)), squeeze=False)
        axes_list = list(grid.ravel())
        for extra in axes_list[n:]:
            extra.set_visible(False)
    else:
        axes_list = list(axes)
        if len(axes_list) < n:
            raise ValueError(f"axes has {len(axes_list)} axes for {n} filters")
        fig = axes_list[0].figure
    bound = float(np.max(np.abs(w))) if symmetric else None
    for i in range(n):
        ax = axes_list[i]
        if symmetric:
            image = ax.imshow(w[i], cmap="RdBu_r", vmin=-bound if bound else -1, vmax=bound if bound else 1)
        else:
            image = ax.imshow(w[i], cmap="gray")
        image.set_gid(GID_FILTER)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        ax.set_title(f"filter {i}" if titles is None else titles[i], fontsize="small")
    if suptitle:
        fig.suptitle(suptitle)
    return fig
