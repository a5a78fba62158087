r"""The precision explorer: one training run in float16, float32 or float64, with or without the mixed-precision tricks.

Built like :mod:`gdcourse.widgets.lr_explorer` (read its module docstring for how to show an explorer
so that strict nbval sees a deterministic output):

* :func:`precision_explorer_state` runs :func:`gdcourse.precision.train_linear` on the small-target
  regression of :func:`gdcourse.precision.regression_data` with the chosen precision, master weights and
  loss scale (static :math:`S = 2^k`, or dynamic starting from :math:`2^k`), and compares its final loss
  with the float32 run's;
* :func:`draw_precision_explorer` draws the two loss curves, and the fraction of :math:`S\,\partial J/\partial\hat y`
  that rounds to 0 with the loss scale :math:`\log_2 S` beside it;
* :func:`precision_explorer` is the thin widget; its ``text/plain`` form is a fixed string such as
  ``PrecisionExplorer(float16, master=float32, loss scale 2^16)``.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from gdcourse.precision import DynamicLossScaler, PrecisionRun, regression_data, train_linear
from gdcourse.widgets._explorer import Explorer, new_or_cleared

__all__ = [
    "PrecisionExplorer",
    "PrecisionState",
    "draw_precision_explorer",
    "precision_explorer",
    "precision_explorer_state",
]

DTYPES = ("float16", "float32", "float64")


class PrecisionState(NamedTuple):
    """What the precision explorer shows: the run, the float32 reference run and a one-line verdict."""

    run: PrecisionRun
    reference: PrecisionRun
    status: str


def _loss_scale(log2_scale: int, dynamic: bool, growth_interval: int) -> float | DynamicLossScaler | None:
    if dynamic:
        return DynamicLossScaler(init_scale=2.0**log2_scale, growth_interval=growth_interval)
    return 2.0**log2_scale if log2_scale > 0 else None


def precision_explorer_state(
    X: Any,
    Y: Any,
    *,
    dtype: str = "float16",
    master: bool = False,
    log2_scale: int = 0,
    dynamic: bool = False,
    lr: float = 0.3,
    steps: int = 100,
    growth_interval: int = 20,
    reference: PrecisionRun | None = None,
) -> PrecisionState:
    r"""Run gradient descent on ``(X, Y)`` in ``dtype`` with the chosen tricks and judge it against float32.

    Parameters
    ----------
    X, Y : arrays
        The regression data (e.g. :func:`gdcourse.precision.regression_data`).
    dtype : {"float16", "float32", "float64"}
        Precision of the data, outputs and gradients.
    master : bool
        Keep a float32 master copy of the weights (only meaningful for float16).
    log2_scale : int
        :math:`k` in the loss scale :math:`S = 2^k`; 0 and not ``dynamic`` means no loss scaling.
    dynamic : bool
        Dynamic loss scaling starting from :math:`2^k` (:class:`~gdcourse.precision.DynamicLossScaler`
        with ``growth_interval``).
    lr, steps : float, int
        Learning rate and number of steps of both runs.
    growth_interval : int
        Good steps before a dynamic scale doubles.
    reference : PrecisionRun, optional
        The float32 run to compare with (computed when omitted).

    Returns
    -------
    PrecisionState
        ``(run, reference, status)``; the status gives the final loss relative to float32, the share of
        :math:`\partial J/\partial\hat y` lost to underflow at the end, the skipped steps, and a verdict.
    """
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    if isinstance(log2_scale, bool) or not isinstance(log2_scale, int) or not 0 <= log2_scale <= 60:
        raise ValueError(f"log2_scale must be an integer between 0 and 60, got {log2_scale!r}")
    if reference is None:
        reference = train_linear(X, Y, dtype="float32", lr=lr, steps=steps)
    master_dtype = "float32" if master and dtype == "float16" else None
    run = train_linear(
        X, Y, dtype=dtype, master_dtype=master_dtype, loss_scale=_loss_scale(log2_scale, dynamic, growth_interval),
        lr=lr, steps=steps,
    )
    if run.stop_reason != "steps":
        status = f"{run.label}: {run.stop_reason}; the run is lost (use a smaller or a dynamic scale)"
    else:
        ratio = run.final_loss / reference.final_loss
        verdict = "matches float32" if abs(ratio - 1) < 0.01 else ("fails" if ratio > 2 else "close to float32")
        status = (
            f"{run.label}: final loss {ratio:.4g} × float32 ({verdict}); "
            f"∂J/∂ŷ rounded to 0 at the end: {run.underflow[-1]:.0%}; steps skipped: {int(run.skipped.sum())}"
        )
    return PrecisionState(run, reference, status)


def draw_precision_explorer(state: PrecisionState, fig: Figure | None = None, *, title: str | None = None) -> Figure:
    r"""Draw the explorer's figure: the two loss curves (left), underflow and loss scale (right).

    Left: the training loss of the run and of the float32 reference against the step (log scale).
    Right: the fraction of the entries of :math:`S\,\partial J/\partial\hat y` that round to 0 (left axis)
    and :math:`\log_2 S` (right axis, dashed), with skipped steps marked.

    Parameters
    ----------
    state : PrecisionState
        From :func:`precision_explorer_state`.
    fig : Figure, optional
        Clear this figure and draw into it; by default a new figure that ``pyplot`` does not manage.
    title : str, optional
        A title over both panels.

    Returns
    -------
    Figure
    """
    fig = new_or_cleared(fig, figsize=(12, 4.2), dpi=80)
    ax_loss, ax_under = fig.subplots(1, 2)
    run, ref = state.run, state.reference
    ax_loss.semilogy(ref.loss, color="#0072B2", lw=3, alpha=0.5, label="float32", gid="reference")
    finite = np.isfinite(run.loss)
    steps = np.arange(run.n_steps)
    ax_loss.semilogy(steps[finite], run.loss[finite], color="#D55E00", label="this run", gid="run")
    ax_loss.set(xlabel="step", ylabel="training loss J", title="loss")
    ax_loss.legend(loc="upper right")
    ax_under.plot(steps, run.underflow, color="#D55E00", label="∂J/∂ŷ rounded to 0", gid="underflow")
    ax_under.set(xlabel="step", ylabel="fraction rounded to 0", ylim=(-0.05, 1.05), title="underflow and loss scale")
    ax_scale = ax_under.twinx()
    ax_scale.step(steps, np.log2(run.scale), where="post", color="#009E73", ls="--", gid="scale")
    if run.skipped.any():
        ax_scale.plot(steps[run.skipped], np.log2(run.scale[run.skipped]), "x", color="#CC79A7", ms=9, mew=2,
                      gid="skipped")
    k = np.log2(run.scale)
    ax_scale.set_ylim(float(k.min()) - 1, float(k.max()) + 1)
    ax_scale.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax_scale.spines["right"].set_visible(True)
    ax_scale.set_ylabel("log₂ S (dashed)")
    ax_scale.grid(False)
    if title:
        fig.suptitle(title)
    return fig


class PrecisionExplorer(Explorer):
    r"""The precision explorer widget; build it with :func:`precision_explorer`.

    Attributes
    ----------
    dtype_select : ipywidgets.Dropdown
        float16, float32 or float64.
    master_box : ipywidgets.Checkbox
        Float32 master weights.
    scale_slider : ipywidgets.IntSlider
        :math:`k` in :math:`S = 2^k` (0: no loss scaling unless dynamic).
    dynamic_box : ipywidgets.Checkbox
        Dynamic loss scaling from :math:`2^k`.
    status : ipywidgets.HTML
        The status line of :func:`precision_explorer_state`.
    output : ipywidgets.Output
        Shows the figure as a PNG.
    figure : Figure
        Redrawn in place on every change.
    state : PrecisionState
        The last run.
    """

    def __init__(
        self, X: Any, Y: Any, dtype: str, master: bool, log2_scale: int, dynamic: bool, options: dict
    ) -> None:
        self.dtype_select = widgets.Dropdown(options=list(DTYPES), value=dtype, description="dtype")
        self.master_box = widgets.Checkbox(value=master, description="float32 master weights")
        self.scale_slider = widgets.IntSlider(
            value=log2_scale, min=0, max=40, description="log₂ S", continuous_update=False
        )
        self.dynamic_box = widgets.Checkbox(value=dynamic, description="dynamic scale")
        controls = (self.dtype_select, self.master_box, self.scale_slider, self.dynamic_box)
        super().__init__(widgets.HBox(list(controls)))
        self.X, self.Y, self.options = X, Y, options
        self.reference = train_linear(X, Y, dtype="float32", lr=options["lr"], steps=options["steps"])
        self.start(*controls)

    def update(self) -> None:
        """Rerun with the controls' values and redraw the figure and the status."""
        self.state = precision_explorer_state(
            self.X, self.Y, dtype=self.dtype_select.value, master=bool(self.master_box.value),
            log2_scale=int(self.scale_slider.value), dynamic=bool(self.dynamic_box.value),
            reference=self.reference, **self.options,
        )
        self.show(draw_precision_explorer(self.state, fig=self.figure))
        self.set_status(self.state.status, warn="fails" in self.state.status or "lost" in self.state.status)

    def __repr__(self) -> str:
        master = ", master=float32" if self.master_box.value and self.dtype_select.value == "float16" else ""
        k = int(self.scale_slider.value)
        if self.dynamic_box.value:
            scale = f", dynamic loss scale from 2^{k}"
        else:
            scale = f", loss scale 2^{k}" if k else ""
        return f"PrecisionExplorer({self.dtype_select.value}{master}{scale})"


def precision_explorer(
    X: Any = None,
    Y: Any = None,
    *,
    dtype: str = "float16",
    master: bool = False,
    log2_scale: int = 0,
    dynamic: bool = False,
    lr: float = 0.3,
    steps: int = 100,
    growth_interval: int = 20,
) -> PrecisionExplorer:
    r"""A precision explorer: choose the dtype, master weights and the loss scale; watch the run succeed or fail.

    Changing a control reruns :func:`gdcourse.precision.train_linear` (:func:`precision_explorer_state`)
    and redraws the loss against the float32 run's, the share of :math:`\partial J/\partial\hat y` lost to
    underflow and the loss scale (:func:`draw_precision_explorer`).  Show it as the last expression of a
    cell.

    Parameters
    ----------
    X, Y : arrays, optional
        The data; default :func:`gdcourse.precision.regression_data` (seed 0), whose small targets make
        float16 fail without loss scaling.
    dtype, master, log2_scale, dynamic
        Initial settings (see :func:`precision_explorer_state`).
    lr, steps, growth_interval
        As in :func:`precision_explorer_state`.

    Returns
    -------
    PrecisionExplorer
        A ``VBox``: ``.dtype_select``, ``.master_box``, ``.scale_slider``, ``.dynamic_box``, ``.status``,
        ``.output``, ``.figure``, ``.state``.
    """
    if (X is None) != (Y is None):
        raise ValueError("give both X and Y, or neither (for the default problem)")
    if X is None:
        X, Y = regression_data(seed=0)
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    if isinstance(log2_scale, bool) or not isinstance(log2_scale, int) or not 0 <= log2_scale <= 40:
        raise ValueError(f"log2_scale must be an integer between 0 and 40, got {log2_scale!r}")
    if not (isinstance(lr, int | float) and lr > 0 and math.isfinite(lr)):
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    if isinstance(growth_interval, bool) or not isinstance(growth_interval, int) or growth_interval < 1:
        raise ValueError(f"growth_interval must be a positive integer, got {growth_interval!r}")
    options = {"lr": float(lr), "steps": steps, "growth_interval": growth_interval}
    return PrecisionExplorer(X, Y, dtype, bool(master), log2_scale, bool(dynamic), options)
