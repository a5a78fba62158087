r"""Figures for the course: one style, trajectories on the objective, loss curves.

Every function takes histories (:class:`~gdcourse.descent.History`) or raw
arrays from any backend (converted with :func:`gdcourse.backend.to_numpy`),
draws into ``ax`` when given (else into a new figure), returns the
:class:`~matplotlib.figure.Figure` so that tests can inspect its artists, and
never calls ``plt.show()``: end a notebook cell with ``plt.show()`` or ``_ = ...``.

The artists have ``gid`` tags so that code can find them again:
``"trajectory"`` (one line per run, data = the run's path), ``"start"``,
``"end"``, ``"minima"``, ``"objective"`` (the 1-D curve), ``"loss"`` (one line
per run, data = its costs), ``"diverged"`` (where a run diverged);
:func:`trajectory_lines` returns the per-run lines.

=============================  ==============================================================
:func:`use_course_style`       the course's matplotlib style (Okabe-Ito palette, projector fonts)
:func:`plot_trace_1d`          1-D objective with the iterates on the curve
:func:`plot_contour`           2-D contour map with trajectories, start, end and minima
:func:`plot_loss`              cost (or gap to the minimum) against the step, log scale
:func:`plot_confusion_matrix`  confusion matrix of a classifier (rows: true class), mistakes highlighted
:func:`plot_filters`           convolution filters (or any small images) side by side
:func:`contour_levels`         the log-spaced levels :func:`plot_contour` uses
:func:`plot_layer_stats`       a statistic per layer of a deep network (e.g. activation std)
:func:`plot_layer_histograms`  per-layer histograms of activations or gradients
:func:`draw_graph`             the computational graph of a scalar :class:`~gdcourse.autodiff.Value`
=============================  ==============================================================
"""

from gdcourse.plots.boundary import plot_decision_boundary
from gdcourse.plots.curves import plot_loss
from gdcourse.plots.graph import draw_graph
from gdcourse.plots.histograms import layer_stds, plot_layer_histograms, plot_layer_stats
from gdcourse.plots.models import confusion_counts, plot_confusion_matrix, plot_filters
from gdcourse.plots.paths import contour_levels, plot_contour, plot_trace_1d, trajectory_lines
from gdcourse.plots.style import COURSE_STYLE, PALETTE, course_style, use_course_style
from gdcourse.plots.surface import plot_lr_sweep, plot_surface

__all__ = [
    "COURSE_STYLE",
    "PALETTE",
    "confusion_counts",
    "contour_levels",
    "draw_graph",
    "course_style",
    "layer_stds",
    "plot_confusion_matrix",
    "plot_contour",
    "plot_decision_boundary",
    "plot_filters",
    "plot_layer_histograms",
    "plot_layer_stats",
    "plot_loss",
    "plot_lr_sweep",
    "plot_surface",
    "plot_trace_1d",
    "trajectory_lines",
    "use_course_style",
]
