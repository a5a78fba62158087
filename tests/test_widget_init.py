"""The initialisation explorer: its experiment (checked against hand-written backprop and theory), figure and widget."""

from __future__ import annotations

import base64
import math
import re

import matplotlib

matplotlib.use("Agg")  # only inside this test process; notebooks keep the inline backend

import ipywidgets
import numpy as np
import pytest
from matplotlib.figure import Figure

from gdcourse import init, nn
from gdcourse.backend import to_numpy
from gdcourse.plots.histograms import GID_LAYER_HISTOGRAM, GID_LAYER_STAT
from gdcourse.widgets import (
    InitExplorer,
    InitState,
    LayerSignals,
    deep_network,
    draw_init_explorer,
    init_explorer,
    init_explorer_state,
    layer_signals,
    scaled_init,
)
from gdcourse.widgets.init_explorer import _verdict


def stat_lines(ax):
    return [ln for ln in ax.get_lines() if ln.get_gid() == GID_LAYER_STAT]


# ----------------------------------------------------------------------------- initialisers


@pytest.mark.parametrize(
    ("scheme", "expected_std"),
    [
        ("plain", lambda s, n_in, n_out: s),
        ("lecun", lambda s, n_in, n_out: s / math.sqrt(n_in)),
        ("xavier", lambda s, n_in, n_out: s * math.sqrt(2 / (n_in + n_out))),
        ("he", lambda s, n_in, n_out: s * math.sqrt(2 / n_in)),
    ],
)
def test_scaled_init_draws_the_schemes_std(scheme, expected_std):
    shape = (300, 500)  # (n_out, n_in)
    w = to_numpy(scaled_init(scheme, 0.7)(shape, seed=3, dtype="float64"))
    assert w.shape == shape
    assert np.std(w) == pytest.approx(expected_std(0.7, 500, 300), rel=0.01)
    assert abs(np.mean(w)) < 0.01 * np.std(w)


def test_scaled_init_is_the_library_initialiser_times_the_scale():
    shape = (40, 60)
    np.testing.assert_allclose(
        to_numpy(scaled_init("he", 2.5)(shape, seed=0)), 2.5 * to_numpy(init.kaiming_normal(shape, seed=0)), rtol=1e-15
    )
    np.testing.assert_allclose(
        to_numpy(scaled_init("xavier", 2.5)(shape, seed=0)), 2.5 * to_numpy(init.xavier_normal(shape, seed=0)),
        rtol=1e-14,
    )
    np.testing.assert_allclose(
        to_numpy(scaled_init("lecun", 2.5)(shape, seed=0)), 2.5 * to_numpy(init.lecun_normal(shape, seed=0)), rtol=1e-15
    )
    assert to_numpy(scaled_init("plain", 1.0)((2, 2), seed=0, dtype="float32")).dtype == np.float32


@pytest.mark.parametrize(
    ("scheme", "scale"), [("nope", 1.0), ("he", 0.0), ("he", -1.0), ("he", math.inf), ("he", True)]
)
def test_scaled_init_rejects_bad_arguments(scheme, scale):
    with pytest.raises(ValueError, match="scheme|scale"):
        scaled_init(scheme, scale)


def test_deep_network_has_depth_hidden_layers_and_zero_biases():
    model = deep_network(depth=4, width=8, activation="relu", scheme="he", scale=1.0, seed=0)
    linears = [m for m in (model[i] for i in range(len(model))) if isinstance(m, nn.Linear)]
    assert len(linears) == 5 and len(model) == 9
    assert [lin.weight.shape for lin in linears] == [(8, 8)] * 4 + [(1, 8)]
    assert all(np.all(to_numpy(lin.bias.data) == 0) for lin in linears)
    with pytest.raises(ValueError, match="activation"):
        deep_network(activation="sigmoid")
    with pytest.raises(ValueError, match="depth"):
        deep_network(depth=0)


# ----------------------------------------------------------------------------- layer_signals


def manual_signals(model, x, y):
    """Forward and backward by hand in NumPy: h_l = φ(z_l), z_l = h_{l-1} W_lᵀ + b_l; J = mean((f − y)²)."""
    linears = [m for m in (model[i] for i in range(len(model))) if isinstance(m, nn.Linear)]
    kinds = [type(model[i]).__name__ for i in range(1, len(model), 2)]
    W = [to_numpy(lin.weight.data) for lin in linears]
    b = [to_numpy(lin.bias.data) for lin in linears]
    hs, zs = [x], []
    for i in range(len(W) - 1):
        z = hs[-1] @ W[i].T + b[i]
        zs.append(z)
        hs.append(np.tanh(z) if kinds[i] == "Tanh" else np.maximum(z, 0))
    f = hs[-1] @ W[-1].T + b[-1]
    loss = np.mean((f - y) ** 2)
    g_h = (2 * (f - y) / f.size) @ W[-1]  # ∂J/∂h_L
    grads_h, grads_w = [None] * (len(W) - 1), [None] * (len(W) - 1)
    for i in reversed(range(len(W) - 1)):
        grads_h[i] = g_h
        local = 1 - np.tanh(zs[i]) ** 2 if kinds[i] == "Tanh" else (zs[i] > 0).astype(float)
        g_z = g_h * local
        grads_w[i] = g_z.T @ hs[i]
        g_h = g_z @ W[i]
    return hs[1:], grads_h, grads_w, loss


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_layer_signals_match_hand_written_backprop(activation):
    rng = np.random.default_rng(5)
    model = deep_network(depth=3, width=6, activation=activation, scheme="xavier", scale=1.3, seed=1)
    x, y = rng.standard_normal((7, 6)), rng.standard_normal((7, 1))
    signals = layer_signals(model, x, y)
    assert isinstance(signals, LayerSignals)
    hs, grads_h, grads_w, loss = manual_signals(model, x, y)
    assert signals.loss == pytest.approx(loss, rel=1e-12)
    for got, want in zip(signals.activations, hs, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    for got, want in zip(signals.activation_grads, grads_h, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-15)
    for got, want in zip(signals.weight_grads, grads_w, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-15)
    again = layer_signals(model, x, y)  # gradients are cleared first, not accumulated
    np.testing.assert_allclose(again.weight_grads[0], signals.weight_grads[0], rtol=1e-14)


# ----------------------------------------------------------------------------- the state


def test_he_keeps_relu_signals_flat_and_xavier_keeps_tanh_signals_healthy():
    he = init_explorer_state(1.0, "relu", "he")
    assert isinstance(he, InitState) and he.activation_std.shape == (10,) and he.gradient_std.shape == (10,)
    assert np.all((he.activation_std > 0.6) & (he.activation_std < 1.2))
    assert 0.5 < he.gradient_std[0] / he.gradient_std[-1] < 2
    assert he.weight_std == pytest.approx(math.sqrt(2 / 100))
    assert he.status.endswith("healthy: activations and gradients keep their scale through the layers")
    xavier = init_explorer_state(1.0, "tanh", "xavier")
    assert xavier.status.endswith("keep their scale through the layers")


@pytest.mark.parametrize(("activation", "factor"), [("tanh", 1.0), ("relu", math.sqrt(0.5))])
def test_small_weights_shrink_the_signal_by_sigma_sqrt_n_per_layer(activation, factor):
    # small σ: tanh is linear near 0 (×σ√n per layer), ReLU keeps half the second moment (×σ√(n/2))
    state = init_explorer_state(0.01, activation, "plain")
    per_layer = (state.activation_std[-1] / state.activation_std[0]) ** (1 / 9)
    assert per_layer == pytest.approx(0.01 * math.sqrt(100) * factor, rel=0.1)
    back = (state.gradient_std[0] / state.gradient_std[-1]) ** (1 / 9)
    assert back == pytest.approx(0.01 * math.sqrt(100) * factor, rel=0.1)
    assert "the signal vanishes" in state.status and "gradients vanish on the way back" in state.status


def test_large_weights_explode_relu_and_saturate_tanh():
    relu = init_explorer_state(1.0, "relu", "plain")
    assert relu.activation_std[-1] > 1e6 and "the signal explodes" in relu.status
    tanh = init_explorer_state(1.0, "tanh", "plain")
    last = tanh.signals.activations[-1]
    assert np.mean(np.abs(last) > 0.99) > 0.5
    assert "tanh units are saturated" in tanh.status and "gradients explode on the way back" in tanh.status


def test_status_names_the_setting():
    state = init_explorer_state(0.5, "relu", "xavier", depth=4, width=20, n_samples=32, seed=2)
    assert state.status.startswith("relu, Xavier × 0.5 (σ = 0.112): std of h: ")
    assert "at layer 4" in state.status and len(state.signals.activations) == 4


def test_state_is_seeded():
    a, b = init_explorer_state(0.3, "tanh", "lecun", seed=7), init_explorer_state(0.3, "tanh", "lecun", seed=7)
    assert a.status == b.status
    np.testing.assert_array_equal(a.gradient_std, b.gradient_std)
    assert init_explorer_state(0.3, "tanh", "lecun", seed=8).status != a.status


def test_state_is_the_same_on_every_backend(backend):
    state = init_explorer_state(1.0, "relu", "he", depth=4, width=16, n_samples=20)
    from gdcourse import backend as B

    with B.using("numpy"):
        reference = init_explorer_state(1.0, "relu", "he", depth=4, width=16, n_samples=20)
    assert state.status == reference.status
    np.testing.assert_allclose(state.activation_std, reference.activation_std, rtol=1e-12)
    np.testing.assert_allclose(state.weight_gradient_std, reference.weight_gradient_std, rtol=1e-10)


def test_verdict_reports_overflow():
    assert _verdict(np.array([1.0, np.inf]), np.array([1.0, 1.0]), 0.0).startswith("overflow")
    assert _verdict(np.array([1.0, 1.0]), np.array([np.nan, 1.0]), 0.0).startswith("overflow")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"activation": "sigmoid"}, "activation"), ({"scheme": "kaiming"}, "scheme"), ({"scale": 0}, "scale"),
     ({"n_samples": 1}, "n_samples")],
)
def test_state_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        init_explorer_state(**kwargs)


# ----------------------------------------------------------------------------- the figure


def test_draw_shows_both_stds_per_layer_and_the_histograms():
    state = init_explorer_state(1.0, "tanh", "xavier")
    fig = draw_init_explorer(state)
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    ax_act, ax_grad, ax_hist = fig.axes
    np.testing.assert_array_equal(stat_lines(ax_act)[0].get_ydata(), state.activation_std)
    np.testing.assert_array_equal(stat_lines(ax_grad)[0].get_ydata(), state.gradient_std)
    assert ax_act.get_yscale() == ax_grad.get_yscale() == "log"
    hist = [ln for ln in ax_hist.get_lines() if ln.get_gid() == GID_LAYER_HISTOGRAM]
    assert len(hist) == 5 and ax_hist.get_xlabel() == "activation value"
    assert ax_act.get_ylim() == pytest.approx((1e-6, 1e2))  # a fixed frame while the slider moves
    again = draw_init_explorer(state, fig=fig, title="status")
    assert again is fig and len(fig.axes) == 3 and fig.get_suptitle() == "status"


def test_draw_switches_to_magnitudes_when_scales_are_far_apart():
    fig = draw_init_explorer(init_explorer_state(0.01, "relu", "plain"))
    assert "log" in fig.axes[2].get_xlabel()
    low, _ = fig.axes[0].get_ylim()
    assert low < init_explorer_state(0.01, "relu", "plain").activation_std.min()  # the frame grows to show it


def test_each_panel_frames_its_own_values():
    state = init_explorer_state(1.0, "relu", "plain")  # activations up to ~1e8, gradients up to ~1e14
    fig = draw_init_explorer(state)
    top_act, top_grad = fig.axes[0].get_ylim()[1], fig.axes[1].get_ylim()[1]
    assert state.activation_std.max() < top_act <= 2 * state.activation_std.max()
    assert state.gradient_std.max() < top_grad <= 2 * state.gradient_std.max()


# ----------------------------------------------------------------------------- the widget


def test_explorer_is_a_vbox_with_a_stable_repr():
    explorer = init_explorer(1.0, "tanh", "xavier")
    assert isinstance(explorer, InitExplorer) and isinstance(explorer, ipywidgets.VBox)
    text = explorer._repr_mimebundle_()["text/plain"]
    assert text == repr(explorer) == "InitExplorer(tanh, xavier × 1, depth=10, width=100)"
    assert not re.search(r"0x[0-9a-f]+|[0-9a-f]{32}", text)
    assert isinstance(explorer.scale_slider, ipywidgets.FloatLogSlider)
    assert 10**explorer.scale_slider.min == pytest.approx(1e-3) and 10**explorer.scale_slider.max == pytest.approx(10)
    assert [v for _, v in explorer.scheme_dropdown.options] == ["plain", "lecun", "xavier", "he"]
    (out,) = explorer.output.outputs
    assert base64.b64decode(out["data"]["image/png"]).startswith(b"\x89PNG")
    assert "healthy" in explorer.status.value and "#D55E00" not in explorer.status.value


def test_changing_the_controls_reruns_and_redraws():
    explorer = init_explorer(1.0, "relu", "he")
    before_png = explorer.output.outputs[0]["data"]["image/png"]
    explorer.scheme_dropdown.value = "plain"  # N(0, 1): a ReLU net explodes
    assert "explodes" in explorer.status.value and "#D55E00" in explorer.status.value
    assert explorer.output.outputs[0]["data"]["image/png"] != before_png
    np.testing.assert_array_equal(stat_lines(explorer.figure.axes[0])[0].get_ydata(), explorer.state.activation_std)
    explorer.scale_slider.value = 0.01
    assert "vanishes" in explorer.status.value
    explorer.activation_dropdown.value = "tanh"
    assert explorer.status.value.startswith("<b") and "tanh, N(0, s²) × 0.01" in explorer.status.value
    assert repr(explorer) == "InitExplorer(tanh, plain × 0.01, depth=10, width=100)"


def test_errors_in_a_callback_show_in_the_status():
    explorer = init_explorer(depth=3, width=10, n_samples=8)
    explorer.n_samples = 1  # broken on purpose: the next update raises inside the callback
    explorer.scale_slider.value = 0.5
    assert "error: n_samples" in explorer.status.value


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"scale": 50.0}, "outside scale_range"), ({"scale_range": (1.0, 0.1)}, "scale_range"),
     ({"activation": "elu"}, "activation"), ({"scheme": "orthogonal"}, "scheme")],
)
def test_explorer_rejects_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        init_explorer(**kwargs)
