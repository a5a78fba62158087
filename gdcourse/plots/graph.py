"""The computational graph of a scalar :class:`~gdcourse.autodiff.Value`, drawn with matplotlib."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gdcourse.autodiff.scalar import Value, topological_order

__all__ = ["draw_graph"]

_VALUE_BOX = {"boxstyle": "round,pad=0.35", "fc": "#e8f0fb", "ec": "#0072B2"}
_OP_CIRCLE = {"boxstyle": "circle,pad=0.3", "fc": "#fdf1e0", "ec": "#E69F00"}
_ARROW = {"arrowstyle": "-|>", "color": "0.45", "lw": 1.0, "shrinkA": 22, "shrinkB": 22}


@dataclass(frozen=True)
class _Layout:
    """Where each value of the graph goes, by ``id``: its depth (column) and its position."""

    depth: dict[int, int]  #: the longest path from an input: 0 for the inputs
    columns: dict[int, list[Value]]  #: the values of each depth, top to bottom
    x: dict[int, float]
    y: dict[int, float]

    def figsize(self) -> tuple[float, float]:
        """A figure size in inches that fits the columns, at most 16 x 12."""
        width = 2.2 * (max(self.columns) + 1) + 1
        height = 1.1 * max(len(c) for c in self.columns.values()) + 0.8
        return min(width, 16), min(height, 12)


def _layout(order: list[Value]) -> _Layout:
    """Columns by depth, left to right; each column spread evenly, ordered by the mean height of the parents."""
    depth: dict[int, int] = {}
    for v in order:
        depth[id(v)] = 1 + max((depth[id(p)] for p in v.parents), default=-1)
    columns: dict[int, list[Value]] = {}
    for v in order:
        columns.setdefault(depth[id(v)], []).append(v)
    y: dict[int, float] = {}
    for d in sorted(columns):
        col = columns[d]
        if d > 0:
            col.sort(key=lambda v: sum(y[id(p)] for p in v.parents) / len(v.parents))
        for i, v in enumerate(col):
            y[id(v)] = (len(col) - 1) / 2 - i
    x = {id(v): 2.0 * depth[id(v)] for v in order}
    return _Layout(depth, columns, x, y)


def _boxed_text(ax: Any, x: float, y: float, text: str, *, fontsize: int, gid: str, box: dict) -> None:
    """``text`` centred at ``(x, y)`` in a box of style ``box``, above the arrows."""
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, gid=gid, bbox=box, zorder=3)


def _draw_operation(ax: Any, v: Value, layout: _Layout) -> None:
    """``v.op`` in a circle left of ``v``, an arrow to ``v``, and an arrow from each parent to the circle."""
    ox, oy = layout.x[id(v)] - 1.0, layout.y[id(v)]
    _boxed_text(ax, ox, oy, v.op, fontsize=9, gid="op", box=_OP_CIRCLE)
    ax.annotate("", xy=(layout.x[id(v)], oy), xytext=(ox, oy), arrowprops=dict(_ARROW), zorder=1)
    for p in v.parents:
        # an edge that skips columns bends, so it passes beside the boxes in between
        skips = layout.depth[id(v)] - layout.depth[id(p)] != 1
        bend = 0.0 if not skips else (-0.3 if layout.y[id(p)] >= oy else 0.3)
        style = {**_ARROW, "connectionstyle": f"arc3,rad={bend}"}
        ax.annotate("", xy=(ox, oy), xytext=(layout.x[id(p)], layout.y[id(p)]), arrowprops=style, zorder=1)


def draw_graph(root: Value, ax: Any = None, *, precision: int = 4) -> Any:
    """Draw the computational graph of ``root`` with matplotlib: values as boxes, operations as circles.

    Each box shows a value's label (if any), ``data`` and ``grad``; each operation sits in a circle
    between its inputs and its result.  Values are laid out left to right by depth (the longest
    path from an input), so inputs are on the left and ``root`` on the right.

    Parameters
    ----------
    root : Value
        The output whose graph is drawn (call ``root.backward()`` first to show gradients).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure sized to the graph when omitted.
    precision : int
        Significant digits of the numbers shown.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.  Value boxes have ``gid="value"`` and operation circles ``gid="op"``.
    """
    import matplotlib.pyplot as plt

    order = topological_order(root)
    layout = _layout(order)
    if ax is None:
        fig, ax = plt.subplots(figsize=layout.figsize())
    else:
        fig = ax.figure
    for v in order:
        text = f"{v.label}\n" if v.label else ""
        text += f"data {v.data:.{precision}g}\ngrad {v.grad:.{precision}g}"
        _boxed_text(ax, layout.x[id(v)], layout.y[id(v)], text, fontsize=8, gid="value", box=_VALUE_BOX)
        if v.op:
            _draw_operation(ax, v, layout)
    xs, ys = list(layout.x.values()), list(layout.y.values())
    ax.set_xlim(min(xs) - 1.0, max(xs) + 1.0)
    ax.set_ylim(min(ys) - 0.8, max(ys) + 0.8)
    ax.set_axis_off()
    return fig
