r"""The initialisation explorer: weight scale, activation and scheme → signals through a deep network.

Built like :mod:`gdcourse.widgets.lr_explorer` (read its module docstring for how to show an explorer
so that strict nbval sees a deterministic output):

* :func:`layer_signals` runs one forward and one backward pass of a :class:`~gdcourse.nn.MLP` and
  keeps what every hidden layer saw: the activations :math:`h_l`, the backpropagated gradients
  :math:`\partial J/\partial h_l` and the weight gradients :math:`\partial J/\partial W_l`;
* :func:`init_explorer_state` builds a deep network (10 hidden layers by default) with the chosen
  initialisation, measures the standard deviation of :math:`h_l` and of
  :math:`\partial J/\partial h_l` layer by layer, and judges them in a one-line status;
* :func:`draw_init_explorer` draws both standard deviations per layer and the histograms of the
  activations;
* :func:`init_explorer` is the thin widget: a log slider for the weight scale and drop-downs for the
  activation and the scheme.  Its ``text/plain`` form is a fixed string such as
  ``InitExplorer(tanh, xavier × 1, depth=10, width=100)``.

The weights of layer :math:`l` are drawn from :math:`N(0, \sigma_l^2)` with

================  =============================================  =================================
scheme            :math:`\sigma_l`                               reference
================  =============================================  =================================
``"plain"``       :math:`s`                                      a fixed scale, whatever the width
``"lecun"``       :math:`s / \sqrt{n_{in}}`                      LeCun et al. (1998)
``"xavier"``      :math:`s \sqrt{2 / (n_{in} + n_{out})}`        Glorot & Bengio (2010)
``"he"``          :math:`s \sqrt{2 / n_{in}}`                    He et al. (2015)
================  =============================================  =================================

where :math:`s` is the ``scale`` (the slider), so ``scale=1`` is each scheme as published and
``"plain"`` draws every weight with standard deviation :math:`s`.  Biases start at 0.  The inputs
are standardised, :math:`x \sim N(0, I)`, and the cost is the mean squared error
:math:`J = \frac1n \sum_i (f(x_i) - y_i)^2` against random targets :math:`y_i \sim N(0, 1)`: at
initialisation only the scale of the error matters for how gradients flow.

References
----------
LeCun, Y., Bottou, L., Orr, G. B., & Müller, K.-R. (1998). Efficient BackProp. In Neural Networks: Tricks of the Trade.
Glorot, X., & Bengio, Y. (2010). Understanding the difficulty of training deep feedforward neural networks. AISTATS.
He, K., Zhang, X., Ren, S., & Sun, J. (2015). Delving deep into rectifiers. ICCV.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from gdcourse import init as _init
from gdcourse import nn
from gdcourse.autodiff import Tensor
from gdcourse.backend import asarray, to_numpy
from gdcourse.plots.histograms import layer_stds, plot_layer_histograms, plot_layer_stats
from gdcourse.widgets._explorer import Explorer, check_range, log_slider, new_or_cleared

__all__ = [
    "SCHEMES",
    "InitExplorer",
    "InitState",
    "LayerSignals",
    "deep_network",
    "draw_init_explorer",
    "init_explorer",
    "init_explorer_state",
    "layer_signals",
    "scaled_init",
]

Array = Any

#: The schemes of the explorer and how they are shown.
SCHEMES: dict[str, str] = {
    "plain": "N(0, s²)",
    "lecun": "LeCun",
    "xavier": "Xavier",
    "he": "He",
}

ACTIVATIONS = ("tanh", "relu")


# ----------------------------------------------------------------------------- the experiment


def scaled_init(scheme: str, scale: float = 1.0) -> Callable[..., Array]:
    r"""An initialiser for :class:`~gdcourse.nn.Linear`: the scheme's normal distribution, times ``scale``.

    ============  ====================================================================
    ``scheme``    weights of a layer with ``shape = (n_out, n_in)``
    ============  ====================================================================
    ``"plain"``   :math:`N(0, s^2)` (:func:`gdcourse.init.normal` with ``std = s``)
    ``"lecun"``   :math:`s \cdot N(0, 1/n_{in})` (:func:`gdcourse.init.lecun_normal`)
    ``"xavier"``  :math:`N(0, s^2 \cdot 2/(n_{in}+n_{out}))` (:func:`gdcourse.init.xavier_normal`, gain ``s``)
    ``"he"``      :math:`s \cdot N(0, 2/n_{in})` (:func:`gdcourse.init.kaiming_normal`, ReLU gain)
    ============  ====================================================================

    Parameters
    ----------
    scheme : {"plain", "lecun", "xavier", "he"}
        The distribution.
    scale : float
        The factor :math:`s > 0`.

    Returns
    -------
    callable
        ``init(shape, *, seed, dtype) -> array``, as :func:`gdcourse.init.get` expects.
    """
    if scheme not in SCHEMES:
        raise ValueError(f"unknown scheme {scheme!r}; expected one of {', '.join(SCHEMES)}")
    if isinstance(scale, bool) or not isinstance(scale, int | float) or not (scale > 0 and math.isfinite(scale)):
        raise ValueError(f"scale must be a positive number, got {scale!r}")
    s = float(scale)

    def initialiser(shape: Any, *, seed: Any = None, dtype: Any = "float64") -> Array:
        if scheme == "plain":
            return _init.normal(shape, 0.0, s, seed=seed, dtype=dtype)
        if scheme == "xavier":
            return _init.xavier_normal(shape, gain=s, seed=seed, dtype=dtype)
        if scheme == "he":
            return s * _init.kaiming_normal(shape, nonlinearity="relu", seed=seed, dtype=dtype)
        return s * _init.lecun_normal(shape, seed=seed, dtype=dtype)

    initialiser.__name__ = f"{scheme}_x{s:g}"
    return initialiser


def deep_network(
    depth: int = 10,
    width: int = 100,
    activation: str = "tanh",
    scheme: str = "plain",
    scale: float = 1.0,
    *,
    n_out: int = 1,
    seed: int | np.random.Generator | None = 0,
) -> nn.MLP:
    r"""A square MLP: :math:`D` = ``depth`` hidden layers of ``width`` units, then a linear output layer.

    .. math:: h_0 = x, \qquad h_l = \phi(W_l h_{l-1} + b_l)\ (l = 1, \dots, D), \qquad f(x) = W_{D+1} h_D + b_{D+1}

    with every :math:`W_l` drawn by :func:`scaled_init` and :math:`b_l = 0`; the input has ``width``
    features too, so every hidden layer has :math:`n_{in} = n_{out} = ` ``width``.

    Parameters
    ----------
    depth : int, default 10
        The number :math:`D \ge 1` of hidden layers; anything else is rejected (``ValueError``).
    width : int, default 100
        Units per hidden layer and input features, at least 1 (``ValueError`` otherwise).
    activation : {"tanh", "relu"}
        The nonlinearity :math:`\phi` of the hidden layers (``ValueError`` for another name).
    scheme : {"plain", "lecun", "xavier", "he"}
        How the weights are drawn (see :func:`scaled_init`, which rejects another name).
    scale : float, default 1.0
        The factor :math:`s > 0` of :func:`scaled_init`.
    n_out : int, default 1
        Outputs of the last (linear) layer.
    seed : int, Generator or None, default 0
        Seed of the weights: the same seed gives the same network.

    Returns
    -------
    gdcourse.nn.MLP
        Layer sizes ``[width] * (depth + 1) + [n_out]``.
    """
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth must be a positive integer, got {depth!r}")
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise ValueError(f"width must be a positive integer, got {width!r}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {activation!r}")
    return nn.MLP([width] * (depth + 1) + [n_out], activation, scaled_init(scheme, scale), seed=seed)


class LayerSignals(NamedTuple):
    r"""What every hidden layer of a network saw in one forward and one backward pass (host arrays).

    ``activations[l-1]`` is :math:`h_l` (shape ``(n, width)``), ``activation_grads[l-1]`` is
    :math:`\partial J/\partial h_l` (same shape) and ``weight_grads[l-1]`` is
    :math:`\partial J/\partial W_l` (shape of :math:`W_l`), for the hidden layers
    :math:`l = 1, \dots, D`; ``loss`` is :math:`J`.
    """

    activations: tuple[np.ndarray, ...]
    activation_grads: tuple[np.ndarray, ...]
    weight_grads: tuple[np.ndarray, ...]
    loss: float


def layer_signals(model: nn.Sequential, x: Any, y: Any) -> LayerSignals:
    r"""Forward ``x`` through ``model`` layer by layer, backpropagate :math:`J` = MSE against ``y``.

    A *hidden layer* is a :class:`~gdcourse.nn.Linear` followed by an activation module; its
    :math:`h_l` is the activation's output and its :math:`W_l` the Linear's weight.  The last Linear
    (the output layer, not followed by an activation) is not reported.

    Parameters
    ----------
    model : Sequential
        E.g. a :class:`~gdcourse.nn.MLP` (its gradients are cleared first and filled by this call).
    x, y : array
        Inputs ``(n, n_in)`` and targets ``(n, n_out)``, any backend.

    Returns
    -------
    LayerSignals
    """
    modules = [model[i] for i in range(len(model))]
    model.zero_grad()
    h = Tensor(x) if not isinstance(x, Tensor) else x
    hidden: list[tuple[nn.Linear, Tensor]] = []
    last_linear: nn.Linear | None = None
    for module in modules:
        h = module(h)
        if isinstance(module, nn.Linear):
            last_linear = module
        elif last_linear is not None:
            hidden.append((last_linear, h))
            last_linear = None
    loss = nn.mse_loss(h, y)
    loss.backward()

    def host(a: Array | None, like: Tensor) -> np.ndarray:
        return np.zeros(like.shape) if a is None else np.asarray(to_numpy(a), dtype=np.float64)

    return LayerSignals(
        activations=tuple(host(t.data, t) for _, t in hidden),
        activation_grads=tuple(host(t.grad, t) for _, t in hidden),
        weight_grads=tuple(host(lin.weight.grad, lin.weight) for lin, _ in hidden),
        loss=float(to_numpy(loss.data)),
    )


class InitState(NamedTuple):
    r"""What the explorer shows: the signals, their standard deviations per layer, a one-line verdict.

    ``activation_std[l-1]``, ``gradient_std[l-1]`` and ``weight_gradient_std[l-1]`` are the standard
    deviations of :math:`h_l`, :math:`\partial J/\partial h_l` and :math:`\partial J/\partial W_l`;
    ``weight_std`` is the :math:`\sigma` the scheme gives a hidden layer's weights.
    """

    signals: LayerSignals
    activation_std: np.ndarray
    gradient_std: np.ndarray
    weight_gradient_std: np.ndarray
    weight_std: float
    status: str


def _check_scheme_args(scale: Any, activation: Any, scheme: Any) -> None:
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {activation!r}")
    if scheme not in SCHEMES:
        raise ValueError(f"unknown scheme {scheme!r}; expected one of {', '.join(SCHEMES)}")
    if isinstance(scale, bool) or not isinstance(scale, int | float) or not (scale > 0 and math.isfinite(scale)):
        raise ValueError(f"scale must be a positive number, got {scale!r}")


def _verdict(act: np.ndarray, grad: np.ndarray, saturated: float) -> str:
    """Name what happens to the signals, from the stds per layer and the share of saturated tanh units."""
    if not (np.all(np.isfinite(act)) and np.all(np.isfinite(grad))):
        return "overflow: the numbers left the floating-point range"
    depth = act.size
    per_layer = (act[-1] / act[0]) ** (1 / max(depth - 1, 1)) if act[0] > 0 else 0.0
    back = (grad[0] / grad[-1]) ** (1 / max(depth - 1, 1)) if grad[-1] > 0 else 0.0
    problems = []
    if per_layer < 0.8:
        problems.append(f"the signal vanishes (×{per_layer:.2g} per layer)")
    elif per_layer > 1.25:
        problems.append(f"the signal explodes (×{per_layer:.2g} per layer)")
    if saturated > 0.25:
        problems.append(f"{saturated:.0%} of the last layer's tanh units are saturated")
    if back < 0.8:
        problems.append(f"gradients vanish on the way back (×{back:.2g} per layer)")
    elif back > 1.25:
        problems.append(f"gradients explode on the way back (×{back:.2g} per layer)")
    if not problems:
        return "healthy: activations and gradients keep their scale through the layers"
    return "; ".join(problems)


def init_explorer_state(
    scale: float = 1.0,
    activation: str = "tanh",
    scheme: str = "plain",
    *,
    depth: int = 10,
    width: int = 100,
    n_samples: int = 256,
    seed: int = 0,
) -> InitState:
    r"""Initialise a deep network, run one forward and backward pass, and judge what the signals did.

    The network is :func:`deep_network` (``depth`` hidden layers of ``width`` units); the data are
    ``n_samples`` inputs :math:`x \sim N(0, I)` and targets :math:`y \sim N(0, 1)`, drawn with
    ``seed`` from a stream independent of the weights'.  The state holds the standard deviation of
    :math:`h_l` and of :math:`\partial J/\partial h_l` for every hidden layer (:func:`layer_stds`;
    also of :math:`\partial J/\partial W_l`), and a status that starts with the setting and ends with
    a verdict:

    * the signal *vanishes* (*explodes*) when the activation std shrinks (grows) by more than a
      factor 0.8 (1.25) per layer on average, :math:`(s_D/s_1)^{1/(D-1)}`;
    * tanh units are *saturated* when more than 25% of the last layer's :math:`|h_D|` exceed 0.99;
    * gradients *vanish (explode) on the way back* when the std of :math:`\partial J/\partial h_l`
      falls (grows) by more than those factors per layer from layer :math:`D` back to layer 1;
    * otherwise the network is *healthy*.

    Parameters
    ----------
    scale : float
        The factor :math:`s` of :func:`scaled_init`.
    activation : {"tanh", "relu"}
        The activation :math:`\phi` of every hidden layer.
    scheme : {"plain", "lecun", "xavier", "he"}
        The distribution of the weights (:func:`scaled_init`).
    depth, width, n_samples : int
        Size of the network and of the batch.
    seed : int
        Seed of the weights and of the data.

    Returns
    -------
    InitState
    """
    _check_scheme_args(scale, activation, scheme)
    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 2:
        raise ValueError(f"n_samples must be an integer >= 2, got {n_samples!r}")
    data_seed, weight_seed = np.random.SeedSequence(seed).spawn(2)
    model = deep_network(depth, width, activation, scheme, scale, seed=np.random.default_rng(weight_seed))
    gen = np.random.default_rng(data_seed)
    x = asarray(gen.standard_normal((n_samples, width)))
    y = asarray(gen.standard_normal((n_samples, 1)))
    signals = layer_signals(model, x, y)
    act = layer_stds(signals.activations)
    grad = layer_stds(signals.activation_grads)
    weight_grad = layer_stds(signals.weight_grads)
    sigma = {
        "plain": scale,
        "lecun": scale / math.sqrt(width),
        "xavier": scale * math.sqrt(2 / (2 * width)),
        "he": scale * math.sqrt(2 / width),
    }[scheme]
    last = signals.activations[-1]
    saturated = float(np.mean(np.abs(last) > 0.99)) if activation == "tanh" and np.all(np.isfinite(last)) else 0.0
    status = (
        f"{activation}, {SCHEMES[scheme]} × {scale:.3g} (σ = {sigma:.3g}): "
        f"std of h: {act[0]:.3g} at layer 1 → {act[-1]:.3g} at layer {depth}; "
        f"std of ∂J/∂h: {grad[-1]:.3g} at layer {depth} → {grad[0]:.3g} at layer 1 — " + _verdict(act, grad, saturated)
    )
    return InitState(signals, act, grad, weight_grad, sigma, status)


# ----------------------------------------------------------------------------- the figure


def draw_init_explorer(state: InitState, fig: Figure | None = None, *, title: str | None = None) -> Figure:
    r"""Draw one state: std of :math:`h_l` and of :math:`\partial J/\partial h_l` per layer, histograms of :math:`h_l`.

    The histograms bin the values of :math:`h_l` when the layers' standard deviations lie within a
    factor 100 of each other, else their order of magnitude :math:`\log_{10}|h_l|`
    (:func:`~gdcourse.plots.plot_layer_histograms`).

    Parameters
    ----------
    state : InitState
        From :func:`init_explorer_state`.
    fig : Figure, optional
        Clear this figure and draw into it (the widget redraws the same figure); by default a new
        :class:`~matplotlib.figure.Figure` that ``pyplot`` does not manage.
    title : str, optional
        A title over the three panels.

    Returns
    -------
    Figure
    """
    fig = new_or_cleared(fig, figsize=(13, 4.2), dpi=80)
    ax_act, ax_grad, ax_hist = fig.subplots(1, 3)
    plot_layer_stats(
        state.activation_std, ax=ax_act, ylabel=r"std of $h_l$", reference=1.0, title="activations (forward)"
    )
    plot_layer_stats(
        state.gradient_std, ax=ax_grad, ylabel=r"std of $\partial J/\partial h_l$", title="gradients (backward)"
    )
    # keep the frame still while the slider moves, unless the values leave it
    frames = ((ax_act, state.activation_std, (1e-6, 1e2)), (ax_grad, state.gradient_std, (1e-8, 1e2)))
    for ax, values, (low, high) in frames:
        values = values[np.isfinite(values) & (values > 0)]
        if values.size:
            low, high = min(low, float(values.min()) / 2), max(high, float(values.max()) * 2)
        ax.set_ylim(low, high)
    if all(np.all(np.isfinite(a)) for a in state.signals.activations):
        stds = state.activation_std[state.activation_std > 0]
        spread = stds.size == 0 or float(stds.max() / stds.min()) > 100  # scales too far apart for one linear axis
        plot_layer_histograms(
            state.signals.activations, ax=ax_hist, kind="activations", magnitude=spread, title="distribution of $h_l$"
        )
    else:
        ax_hist.text(0.5, 0.5, "overflow: no histogram", ha="center", va="center", transform=ax_hist.transAxes)
        ax_hist.set_axis_off()
    if title:
        fig.suptitle(title)
    return fig


# ----------------------------------------------------------------------------- the widget


class InitExplorer(Explorer):
    r"""The initialisation explorer widget; build it with :func:`init_explorer`.

    Attributes
    ----------
    scale_slider : ipywidgets.FloatLogSlider
        The factor :math:`s` (log scale).
    activation_dropdown, scheme_dropdown : ipywidgets.Dropdown
        The activation (tanh, ReLU) and the scheme (:data:`SCHEMES`).
    status : ipywidgets.HTML
        The one-line verdict of :func:`init_explorer_state`.
    output : ipywidgets.Output
        Shows the figure as a PNG.
    figure : Figure
        The figure, redrawn in place on every change.
    state : InitState
        The last state.
    """

    savefig_dpi = None  # the PNG at rcParams' savefig.dpi, as it has always been stored

    def __init__(
        self,
        scale: float,
        activation: str,
        scheme: str,
        scale_range: tuple[float, float],
        depth: int,
        width: int,
        n_samples: int,
        seed: int,
    ) -> None:
        self.scale_slider = log_slider(scale, scale_range, description="scale s", step=0.05)
        self.activation_dropdown = widgets.Dropdown(
            options=[("tanh", "tanh"), ("ReLU", "relu")], value=activation, description="activation"
        )
        self.scheme_dropdown = widgets.Dropdown(
            options=[(label, key) for key, label in SCHEMES.items()], value=scheme, description="scheme"
        )
        controls = (self.scale_slider, self.activation_dropdown, self.scheme_dropdown)
        super().__init__(widgets.HBox(list(controls)))
        self.depth, self.width, self.n_samples, self.seed = depth, width, n_samples, seed
        self.start(*controls)

    def update(self) -> None:
        """Rerun with the controls' values and redraw the figure and the status."""
        self.state = init_explorer_state(
            float(self.scale_slider.value),
            self.activation_dropdown.value,
            self.scheme_dropdown.value,
            depth=self.depth,
            width=self.width,
            n_samples=self.n_samples,
            seed=self.seed,
        )
        self.show(draw_init_explorer(self.state, fig=self.figure))
        self.set_status(self.state.status, warn=not self.state.status.endswith("keep their scale through the layers"))

    def __repr__(self) -> str:
        return (
            f"InitExplorer({self.activation_dropdown.value}, {self.scheme_dropdown.value} × "
            f"{self.scale_slider.value:.3g}, depth={self.depth}, width={self.width})"
        )


def init_explorer(
    scale: float = 1.0,
    activation: str = "tanh",
    scheme: str = "plain",
    *,
    scale_range: tuple[float, float] = (1e-3, 10.0),
    depth: int = 10,
    width: int = 100,
    n_samples: int = 256,
    seed: int = 0,
) -> InitExplorer:
    r"""An initialisation explorer: weight scale, activation and scheme → signals through a deep network.

    Changing a control reruns :func:`init_explorer_state` (one forward and one backward pass of a
    ``depth``-layer network) and redraws :func:`draw_init_explorer`: the standard deviation of the
    activations :math:`h_l` and of the weight gradients :math:`\partial J/\partial W_l` per layer, and
    the histograms of :math:`h_l`, with a status line that says whether signals vanish, explode or
    saturate.  Show it as the last expression of a cell (see :mod:`gdcourse.widgets.lr_explorer`).

    Parameters
    ----------
    scale : float
        Initial factor :math:`s` (``"plain"``: the weight std itself).
    activation : {"tanh", "relu"}
        Initial activation.
    scheme : {"plain", "lecun", "xavier", "he"}
        Initial scheme.
    scale_range : (float, float)
        Range of the log slider.
    depth, width, n_samples, seed
        As in :func:`init_explorer_state`.

    Returns
    -------
    InitExplorer
        A ``VBox``: ``.scale_slider``, ``.activation_dropdown``, ``.scheme_dropdown``, ``.status``,
        ``.output``, ``.figure``, ``.state``.
    """
    _check_scheme_args(scale, activation, scheme)
    low, high = check_range("scale", scale_range, scale)
    return InitExplorer(float(scale), activation, scheme, (low, high), depth, width, n_samples, seed)
