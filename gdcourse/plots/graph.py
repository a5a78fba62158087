"""The computational graph of a scalar :class:`~gdcourse.autodiff.Value`, drawn with matplotlib."""

from __future__ import annotations

from typing import Any

from gdcourse.autodiff.scalar import Value, topological_order

__all__ = ["draw_graph"]


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
    depth: dict[int, int] = {}
    for v in order:
        depth[id(v)] = 1 + max((depth[id(p)] for p in v.parents), default=-1)
    columns: dict[int, list[Value]] = {}
    for v in order:
        columns.setdefault(depth[id(v)], []).append(v)
    # y position: spread each column evenly, ordering a column by the mean height of the parents
    y: dict[int, float] = {}
    for d in sorted(columns):
        col = columns[d]
        if d > 0:
            col.sort(key=lambda v: sum(y[id(p)] for p in v.parents) / len(v.parents))
        for i, v in enumerate(col):
            y[id(v)] = (len(col) - 1) / 2 - i
    x = {id(v): 2.0 * depth[id(v)] for v in order}

    if ax is None:
        width = 2.2 * (max(columns) + 1) + 1
        height = 1.1 * max(len(c) for c in columns.values()) + 0.8
        fig, ax = plt.subplots(figsize=(min(width, 16), min(height, 12)))
    else:
        fig = ax.figure
    arrow = {"arrowstyle": "-|>", "color": "0.45", "lw": 1.0, "shrinkA": 22, "shrinkB": 22}
    for v in order:
        text = f"{v.label}\n" if v.label else ""
        text += f"data {v.data:.{precision}g}\ngrad {v.grad:.{precision}g}"
        ax.text(
            x[id(v)],
            y[id(v)],
            text,
            ha="center",
            va="center",
            fontsize=8,
            gid="value",
            bbox={"boxstyle": "round,pad=0.35", "fc": "#e8f0fb", "ec": "#0072B2"},
            zorder=3,
        )
        if v.op:
            ox, oy = x[id(v)] - 1.0, y[id(v)]
            ax.text(
                ox,
                oy,
                v.op,
                ha="center",
                va="center",
                fontsize=9,
                gid="op",
                bbox={"boxstyle": "circle,pad=0.3", "fc": "#fdf1e0", "ec": "#E69F00"},
                zorder=3,
            )
            ax.annotate("", xy=(x[id(v)], oy), xytext=(ox, oy), arrowprops=arrow, zorder=1)
            for p in v.parents:
                # an edge that skips columns bends, so it passes beside the boxes in between
                bend = 0.0 if depth[id(v)] - depth[id(p)] == 1 else (-0.3 if y[id(p)] >= oy else 0.3)
                style = {**arrow, "connectionstyle": f"arc3,rad={bend}"}
                ax.annotate("", xy=(ox, oy), xytext=(x[id(p)], y[id(p)]), arrowprops=style, zorder=1)
    xs, ys = list(x.values()), list(y.values())
    ax.set_xlim(min(xs) - 1.0, max(xs) + 1.0)
    ax.set_ylim(min(ys) - 0.8, max(ys) + 0.8)
    ax.set_axis_off()
    return fig
