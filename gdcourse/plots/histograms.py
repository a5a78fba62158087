r"""What a deep network does to its signals: per-layer histograms and per-layer statistics.

A network of depth :math:`D` turns an input :math:`h_0 = x` into activations
:math:`h_l = \phi(W_l h_{l-1} + b_l)`, :math:`l = 1, \dots, D`, and backpropagation turns the
gradient of the cost into :math:`\partial J/\partial h_l` and :math:`\partial J/\partial W_l`.
Whether those signals keep their scale from layer to layer is what initialisation is about
(notebook 09).  Two figures show it:

=====================================  ===========================================================
:func:`plot_layer_stats`               one number per layer (e.g. the standard deviation of
                                       :math:`h_l`) against the layer index, log scale, one line
                                       per network
:func:`plot_layer_histograms`          the distribution of the values of each layer, one curve
                                       per layer, coloured from the first layer (dark) to the last
                                       (light)
:func:`layer_stds`                     the standard deviation of each layer's values, as an array
=====================================  ===========================================================

Values come as a sequence with one array per layer, from any backend (or
:class:`~gdcourse.autodiff.Tensor`\ s); they are copied to the host with
:func:`gdcourse.backend.to_numpy`.  Both plotting functions draw into ``ax`` when given, return the
:class:`~matplotlib.figure.Figure` and never call ``plt.show()``.  Their lines carry ``gid`` tags:
``"layer_stat"`` (one line per network, data = its statistic per layer) and ``"layer_histogram"``
(one line per layer, data = bin centres and densities).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from gdcourse.autodiff import Tensor
from gdcourse.backend import to_numpy
from gdcourse.plots._runs import figure_and_axes

__all__ = ["GID_LAYER_HISTOGRAM", "GID_LAYER_STAT", "layer_stds", "plot_layer_histograms", "plot_layer_stats"]

#: ``gid`` of the lines of :func:`plot_layer_stats` (one per network).
GID_LAYER_STAT = "layer_stat"
#: ``gid`` of the lines of :func:`plot_layer_histograms` (one per layer).
GID_LAYER_HISTOGRAM = "layer_histogram"

_KINDS = ("activations", "gradients")


def _array(x: Any, what: str) -> np.ndarray:
    """``x`` (any backend, a Tensor, a number or a list) as a float64 NumPy array of its own shape."""
    if isinstance(x, Tensor):
        x = x.data
    try:
        return np.asarray(to_numpy(x), dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{what} must hold real numbers, got {type(x).__name__}") from err


def _host(x: Any, what: str) -> np.ndarray:
    """``x`` (an array of any backend, or a Tensor) as a flat float64 NumPy array."""
    return _array(x, what).reshape(-1)


def _layers(values_per_layer: Any, what: str) -> list[np.ndarray]:
    if getattr(values_per_layer, "ndim", 0) >= 2 and not isinstance(values_per_layer, Tensor):
        values_per_layer = list(values_per_layer)  # an array (n_layers, ...): one row per layer
    if isinstance(values_per_layer, str | bytes) or not isinstance(values_per_layer, Sequence):
        raise TypeError(f"{what} must be a sequence with one array per layer, got {type(values_per_layer).__name__}")
    if len(values_per_layer) == 0:
        raise ValueError(f"{what} is empty: expected one array per layer")
    return [_host(v, f"{what}[{i}]") for i, v in enumerate(values_per_layer)]


def layer_stds(values_per_layer: Sequence[Any]) -> np.ndarray:
    r"""The standard deviation of each layer's values.

    .. math:: s_l = \sqrt{\frac1{n_l} \sum_{k=1}^{n_l} \bigl(v_{l,k} - \bar v_l\bigr)^2}

    over all :math:`n_l` entries of layer :math:`l` (every sample and every unit together).

    Parameters
    ----------
    values_per_layer : sequence of arrays
        One array per layer, any shape, any backend.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_layers,)``; NaN for a layer with non-finite values or no values.
    """
    out = []
    for v in _layers(values_per_layer, "values_per_layer"):
        out.append(float(np.std(v)) if v.size and np.all(np.isfinite(v)) else math.nan)
    return np.asarray(out, dtype=np.float64)


def _curves(stds_per_layer: Any, labels: Sequence[str] | None) -> list[tuple[str, np.ndarray]]:
    """Normalise the accepted inputs to ``[(label, values per layer), ...]``."""
    if isinstance(stds_per_layer, Mapping):
        if labels is not None:
            raise ValueError("labels are taken from the keys of a mapping; do not pass labels as well")
        items = [(str(k), _array(v, f"stds_per_layer[{k!r}]")) for k, v in stds_per_layer.items()]
        labels, rows = [k for k, _ in items], [v for _, v in items]
    elif isinstance(stds_per_layer, Sequence) and not isinstance(stds_per_layer, str | bytes):
        arrays = [_array(v, f"stds_per_layer[{i}]") for i, v in enumerate(stds_per_layer)]
        if all(a.ndim == 0 for a in arrays):  # a list of numbers: one network
            rows = [np.asarray(arrays, dtype=np.float64)]
        else:
            rows = arrays
    else:
        arr = _array(stds_per_layer, "stds_per_layer")
        rows = [arr] if arr.ndim == 1 else list(arr) if arr.ndim == 2 else [arr]
    if not rows or any(r.ndim != 1 or r.size == 0 for r in rows):
        shapes = [r.shape for r in rows]
        raise ValueError(
            f"stds_per_layer must be one 1-D array (one value per layer) or several of them, got shapes {shapes}"
        )
    if labels is None:
        labels = [""] if len(rows) == 1 else [f"network {i + 1}" for i in range(len(rows))]
    labels = list(labels)
    if len(labels) != len(rows):
        raise ValueError(f"got {len(labels)} labels for {len(rows)} networks")
    return list(zip(labels, rows, strict=True))


def plot_layer_stats(
    stds_per_layer: Any,
    ax: Axes | None = None,
    *,
    labels: Sequence[str] | None = None,
    ylabel: str = "standard deviation",
    log: bool = True,
    reference: float | None = None,
    title: str | None = None,
) -> Figure:
    r"""Plot one statistic per layer (typically the standard deviation of :math:`h_l`) against :math:`l`.

    With variance-preserving initialisation the line is flat; a line falling (rising) by a constant
    factor per layer is a signal that vanishes (explodes) geometrically, a straight line on the
    default log scale.  Layers are numbered from 1.

    Parameters
    ----------
    stds_per_layer : array, sequence of arrays, or mapping
        One network: a 1-D array ``(n_layers,)``.  Several: a 2-D array ``(n_networks, n_layers)``,
        a sequence of 1-D arrays (lengths may differ), or a mapping ``label -> 1-D array``.
    ax : Axes, optional
        Draw into this axes; by default a new figure.
    labels : sequence of str, optional
        One legend label per network (not with a mapping, whose keys are the labels).
    ylabel : str
        Label of the vertical axis.
    log : bool
        Logarithmic vertical axis (default).  Values :math:`\le 0` and non-finite values cannot be
        shown on it and leave a gap.
    reference : float, optional
        Draw a dotted horizontal line at this value (e.g. 1, the scale of the input).
    title : str, optional
        Title of the axes.

    Returns
    -------
    Figure
        The figure (not shown: end the cell with ``plt.show()``).
    """
    curves = _curves(stds_per_layer, labels)
    fig, ax = figure_and_axes(ax)
    colors = plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])
    for i, (label, y) in enumerate(curves):
        y = np.where(np.isfinite(y) & ((y > 0) if log else True), y, np.nan)
        x = np.arange(1, y.size + 1)
        ax.plot(x, y, marker="o", color=colors[i % len(colors)], label=label or None, gid=GID_LAYER_STAT)
    if log:
        ax.set_yscale("log")
    if reference is not None:
        ax.axhline(reference, color="0.3", linestyle=":", linewidth=1.2, zorder=1)
    n_max = max(y.size for _, y in curves)
    ax.set_xticks(np.arange(1, n_max + 1) if n_max <= 12 else np.linspace(1, n_max, 6).round().astype(int))
    _label_axes(ax, "layer $l$", ylabel, title, legend=any(label for label, _ in curves))
    return fig


def _default_layers(n: int) -> list[int]:
    """Up to five layers, evenly spread, always the first and the last (0-based)."""
    if n <= 5:
        return list(range(n))
    return sorted({int(round(v)) for v in np.linspace(0, n - 1, 5)})


def _label_axes(ax: Axes, xlabel: str, ylabel: str, title: str | None, *, legend: bool) -> None:
    """Name both axes, add the title (if any) and the legend (if asked)."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if legend:
        ax.legend(loc="best")


def _checked_layers(layers: Sequence[int], n: int) -> list[int]:
    """``layers``, numbered from 1 to ``n``, as 0-based indices; another number is an error."""
    chosen = []
    for k in layers:
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= n:
            raise ValueError(f"layers are numbered 1 to {n}, got {k!r}")
        chosen.append(int(k) - 1)
    return chosen


class _LayerValues(NamedTuple):
    """What one curve of :func:`plot_layer_histograms` bins."""

    layer: int  #: the layer, 0-based
    values: np.ndarray  #: the finite values to bin: :math:`v`, or :math:`\log_{10}|v|` on the magnitude axis
    zeros: float  #: the share of exact zeros left out of ``values`` (0 when they were binned)


def _values_to_bin(layer: int, values: np.ndarray, log_axis: bool) -> _LayerValues:
    r"""A layer's finite values, or their :math:`\log_{10}|v|`, without the exact zeros when they are not binned.

    Zeros are left out on the magnitude axis (they have no logarithm) and, on the value axis, when they are
    more than 5% of the finite values (a spike that would flatten every other bar).
    """
    v = values[np.isfinite(values)]
    zeros = float(np.mean(v == 0)) if v.size else 0.0
    if log_axis:
        v = np.log10(np.abs(v[v != 0]))
    elif zeros > 0.05:
        v = v[v != 0]
    if not log_axis and zeros <= 0.05 or log_axis and zeros == 0:
        zeros = 0.0
    return _LayerValues(layer, v, zeros)


def _bin_range(shown: Sequence[_LayerValues], value_range: tuple[float, float] | None) -> tuple[float, float]:
    """``value_range`` checked, or by default the range of every value shown (widened when it is one point)."""
    if value_range is None:
        nonempty = [layer.values for layer in shown if layer.values.size]
        low = min((float(v.min()) for v in nonempty), default=-1.0)
        high = max((float(v.max()) for v in nonempty), default=1.0)
        if not high > low:
            low, high = low - 0.5, high + 0.5
        value_range = (low, high)
    low, high = (float(b) for b in value_range)
    if not (math.isfinite(low) and math.isfinite(high) and high > low):
        raise ValueError(f"value_range must be (low, high) with low < high, got {value_range!r}")
    return low, high


def _draw_histograms(ax: Axes, shown: Sequence[_LayerValues], edges: np.ndarray) -> None:
    """One density curve per layer on the common bins ``edges``, coloured dark (first) to light (last)."""
    centres = (edges[:-1] + edges[1:]) / 2
    cmap = plt.get_cmap("viridis")
    for j, (i, v, zeros) in enumerate(shown):
        density = np.histogram(v, bins=edges, density=True)[0] if v.size else np.zeros(centres.size)
        label = f"layer {i + 1}" + (f" ({zeros:.0%} zeros)" if zeros > 0 else "")
        color = cmap(0.85 * j / max(len(shown) - 1, 1))
        ax.plot(centres, density, drawstyle="steps-mid", color=color, label=label, gid=GID_LAYER_HISTOGRAM)


def plot_layer_histograms(
    values_per_layer: Sequence[Any],
    ax: Axes | None = None,
    kind: str = "activations",
    *,
    magnitude: bool | None = None,
    layers: Sequence[int] | None = None,
    bins: int = 60,
    value_range: tuple[float, float] | None = None,
    title: str | None = None,
) -> Figure:
    r"""The distribution of each layer's values, one curve per layer, dark (first) to light (last).

    Two horizontal axes:

    * the values :math:`v` themselves (``magnitude=False``, the default for activations): a density
      histogram on common bins over ``value_range`` (default: the range of all layers shown).  It
      shows the *shape* of a distribution, e.g. tanh units piling up at :math:`\pm 1` (saturation);
    * their order of magnitude :math:`\log_{10}|v|` (``magnitude=True``, the default for gradients).
      Layers whose scales differ by many powers of ten share this axis: a signal that shrinks by a
      factor 10 per layer shifts its curve one unit to the left per layer.

    Exact zeros are not binned when they are more than 5% of a layer's values (ReLU sets about half
    of its outputs to 0, a spike that would flatten every other bar; on the magnitude axis zeros
    have no place at all); their share is given in the legend.

    Parameters
    ----------
    values_per_layer : sequence of arrays
        One array per layer (any shape, any backend, or Tensors), e.g. the activations
        :math:`h_1, \dots, h_D` or the gradients :math:`\partial J/\partial h_l`.
    ax : Axes, optional
        Draw into this axes; by default a new figure.
    kind : {"activations", "gradients"}
        What the values are: sets the default of ``magnitude`` and the axis label.
    magnitude : bool, optional
        Bin :math:`\log_{10}|v|` instead of :math:`v` (default: ``kind == "gradients"``).
    layers : sequence of int, optional
        Which layers to show, numbered from 1; default up to five evenly spaced ones, including the
        first and the last.
    bins : int
        Number of bins.
    value_range : (float, float), optional
        Range of the bins (of :math:`v`, or of :math:`\log_{10}|v|`).
    title : str, optional
        Title of the axes.

    Returns
    -------
    Figure
        The figure (not shown: end the cell with ``plt.show()``).
    """
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {', '.join(_KINDS)}, got {kind!r}")
    if isinstance(bins, bool) or not isinstance(bins, int | np.integer) or bins < 1:
        raise ValueError(f"bins must be a positive integer, got {bins!r}")
    log_axis = (kind == "gradients") if magnitude is None else bool(magnitude)
    data = _layers(values_per_layer, "values_per_layer")
    chosen = _default_layers(len(data)) if layers is None else _checked_layers(layers, len(data))
    shown = [_values_to_bin(i, data[i], log_axis) for i in chosen]
    low, high = _bin_range(shown, value_range)
    fig, ax = figure_and_axes(ax)
    _draw_histograms(ax, shown, np.linspace(low, high, bins + 1))
    what = "gradient" if kind == "gradients" else "activation"
    _label_axes(ax, rf"$\log_{{10}}$|{what}|" if log_axis else f"{what} value", "density", title, legend=True)
    return fig
