r"""What every explorer widget shares: the status line, the figure as a PNG, callbacks that never raise.

An explorer is a :class:`Explorer` (an :class:`ipywidgets.VBox`): rows of controls on top, then
``status`` (an :class:`~ipywidgets.HTML` line) and ``output`` (an :class:`~ipywidgets.Output` that shows
the figure).  A subclass builds its controls, calls ``super().__init__(*rows)``, stores its data, and
calls :meth:`Explorer.start` with the controls that rerun it; its :meth:`~Explorer.update` computes the
state, draws, and ends with :meth:`~Explorer.show` and :meth:`~Explorer.set_status`.  An exception in a
control's callback (there is no caller to raise to) is shown in the status line, in red.

The figure is put into ``output`` by setting the output widget's state from the kernel
(:func:`figure_output`), so the cell's only output is the widget itself: see
:mod:`gdcourse.widgets.lr_explorer` for why that keeps strict nbval deterministic.
"""

from __future__ import annotations

import base64
import contextlib
import html
import io
import math
import warnings
from collections.abc import Callable
from typing import Any, ClassVar

import ipywidgets as widgets
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from gdcourse.divergence import UnstableRunWarning

__all__ = ["WARN_COLOR", "Explorer", "check_range", "figure_output", "log_slider", "new_or_cleared"]

#: The colour of a warning or an error in the status line (Okabe-Ito vermilion).
WARN_COLOR = "#D55E00"


def figure_output(fig: Figure) -> dict:
    """The figure as one ``display_data`` output (PNG + ``text/plain``), to set on an ``Output`` widget.

    Setting ``output.outputs = (figure_output(fig),)`` replaces what the output
    widget shows from the kernel side, without sending a display message, so no
    copy of the figure appears as a cell output (see :mod:`gdcourse.widgets.lr_explorer`).
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    width, height = (int(round(v)) for v in fig.get_size_inches() * fig.dpi)
    return {
        "output_type": "display_data",
        "data": {
            "image/png": base64.b64encode(buffer.getvalue()).decode("ascii"),
            "text/plain": f"<Figure size {width}x{height} with {len(fig.axes)} Axes>",
        },
        "metadata": {},
    }


def new_or_cleared(fig: Figure | None, **kwargs: Any) -> Figure:
    """``fig`` cleared for a redraw, or a new :class:`~matplotlib.figure.Figure` with ``**kwargs``.

    A new figure has ``layout="constrained"`` unless ``kwargs`` say otherwise, and is not managed by
    ``pyplot``, so the inline backend never shows it by itself.

    Parameters
    ----------
    fig : Figure or None
        The explorer's last figure, cleared and reused; ``None`` for the first drawing.
    **kwargs
        Arguments of :class:`~matplotlib.figure.Figure` for a new figure (e.g. ``figsize``, ``dpi``);
        ignored when ``fig`` is given.

    Returns
    -------
    Figure
        ``fig`` itself, empty, or the new figure.
    """
    if fig is None:
        return Figure(**{"layout": "constrained", **kwargs})
    fig.clear()
    return fig


def check_range(name: str, bounds: tuple[float, float], value: float | None = None) -> tuple[float, float]:
    """``bounds`` of a log-scale slider as floats ``(low, high)``, checked ``0 < low < high < inf``.

    Parameters
    ----------
    name : str
        The slider's parameter, e.g. ``"lr"``: the messages name ``lr_range`` and ``lr``.
    bounds : (float, float)
        The range.
    value : float, optional
        The slider's initial value, checked to lie inside the range.

    Returns
    -------
    (float, float)

    Raises
    ------
    ValueError
        ``"lr_range must be (low, high) with 0 < low < high, got ..."`` or ``"lr=... is outside lr_range=..."``.
    """
    low, high = (float(v) for v in bounds)
    if not (0 < low < high and math.isfinite(high)):
        raise ValueError(f"{name}_range must be (low, high) with 0 < low < high, got {bounds!r}")
    if value is not None and not low <= value <= high:
        raise ValueError(f"{name}={value!r} is outside {name}_range={bounds!r}")
    return low, high


def log_slider(
    value: float,
    bounds: tuple[float, float],
    *,
    description: str = "η",
    step: float = 0.01,
    readout_format: str = ".3g",
) -> widgets.FloatLogSlider:
    """A base-10 log slider from ``bounds[0]`` to ``bounds[1]`` that reruns only when released.

    Parameters
    ----------
    value : float
        Initial value.
    bounds : (float, float)
        ``(low, high)``, ``0 < low < high`` (see :func:`check_range`).
    description : str
        The label, by default the learning rate ``"η"``.
    step : float
        Step of the exponent.
    readout_format : str
        Format of the number shown beside the slider.

    Returns
    -------
    ipywidgets.FloatLogSlider
    """
    return widgets.FloatLogSlider(
        value=value,
        base=10,
        min=math.log10(bounds[0]),
        max=math.log10(bounds[1]),
        step=step,
        description=description,
        readout_format=readout_format,
        continuous_update=False,
    )


class Explorer(widgets.VBox):
    """Base class of the explorer widgets: rows of controls, a status line, the figure.

    Parameters
    ----------
    *rows : ipywidgets.Widget
        What stands above the status line (e.g. one ``HBox`` of sliders).

    Attributes
    ----------
    status : ipywidgets.HTML
        One bold line: the state's status, in red for a warning or an error.
    output : ipywidgets.Output
        Shows the figure as a PNG.
    figure : Figure or None
        The last figure drawn (a subclass redraws it in place).
    state : Any
        The last state (``None`` before the first :meth:`update`).
    savefig_dpi : str, float or None
        Resolution of the PNG: ``"figure"`` (the default) saves at the figure's own (low) dpi, since the PNG
        is stored with the notebook; ``None`` uses ``rcParams["savefig.dpi"]``.
    """

    savefig_dpi: ClassVar[str | float | None] = "figure"

    def __init__(self, *rows: widgets.Widget) -> None:
        self.status = widgets.HTML()
        self.output = widgets.Output()
        super().__init__(children=[*rows, self.status, self.output])
        self.figure: Figure | None = None
        self.state: Any = None

    def start(self, *controls: widgets.Widget) -> None:
        """Draw once (:meth:`update`), then rerun :meth:`_on_change` whenever one of ``controls`` changes value."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UnstableRunWarning)
            self.update()
        for control in controls:
            control.observe(self._on_change, names="value")

    def update(self) -> None:
        """Recompute the state from the controls and redraw; every explorer defines it."""
        raise NotImplementedError

    def show(self, figure: Figure) -> None:
        """Keep ``figure`` as :attr:`figure` and show it in :attr:`output` as a PNG (no cell output)."""
        self.figure = figure
        dpi = self.savefig_dpi
        with contextlib.nullcontext() if dpi is None else plt.rc_context({"savefig.dpi": dpi}):
            self.output.outputs = (figure_output(figure),)

    def set_status(self, text: str, warn: bool = False) -> None:
        """Show ``text`` (escaped) in bold in the status line, in :data:`WARN_COLOR` when ``warn``.

        Parameters
        ----------
        text : str
            The line, shown as plain text (``<`` and ``&`` are escaped, not read as HTML).
        warn : bool, default False
            Show it in :data:`WARN_COLOR`, for a warning or an error.
        """
        style = f' style="color:{WARN_COLOR}"' if warn else ""
        self.status.value = f"<b{style}>{html.escape(text)}</b>"

    def guarded(self, action: Callable[[], object]) -> None:
        """Run ``action``; an exception is shown in the status line instead (a callback has no caller to raise to).

        An :class:`~gdcourse.divergence.UnstableRunWarning` is silenced: an explorer shows the run in its
        figure and says in its status line that it diverges.
        """
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UnstableRunWarning)
                action()
        except Exception as err:  # noqa: BLE001 - a widget callback has no caller to raise to: show it
            self.set_status(f"error: {err}", warn=True)

    def _on_change(self, change: dict) -> None:
        self.guarded(self.update)
