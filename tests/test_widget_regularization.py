"""The regularisation explorer: its fits against scikit-learn, its figure and its widget, without a browser."""

from __future__ import annotations

import base64
import re

import matplotlib

matplotlib.use("Agg")  # only inside this test process; notebooks keep the inline backend

import ipywidgets
import numpy as np
import pytest
from matplotlib.figure import Figure
from sklearn.linear_model import ElasticNet, Lasso, Ridge

from gdcourse import backend as B
from gdcourse.data import Standardizer, make_polynomial, polynomial_features
from gdcourse.models import LinearRegression
from gdcourse.widgets import (
    RegularisationExplorer,
    RegularisationState,
    draw_regularisation_explorer,
    regularisation_explorer,
    regularisation_explorer_state,
)
from gdcourse.widgets.regularization import fit_penalised

TRUE_COEF = (0.5, -1.0, -1.0, 2.0)
X, Y = make_polynomial(20, noise=0.2, seed=1)
XV, YV = make_polynomial(200, noise=0.2, seed=2)
DATA = (X, Y, XV, YV)


def features(degree):
    scaler = Standardizer().fit(polynomial_features(X, degree))
    return scaler.transform(polynomial_features(X, degree)), scaler.transform(polynomial_features(XV, degree))


def with_gid(ax, gid):
    return [a for a in ax.get_children() if a.get_gid() == gid]


# ----------------------------------------------------------------------------- the fits


@pytest.mark.parametrize("alpha", [1e-3, 0.05, 1.0])
def test_l2_is_ridge_with_n_alpha(alpha):
    Z, _ = features(8)
    coefs, b, converged = fit_penalised(Z, Y, [alpha], "l2")
    ridge = Ridge(alpha=len(Y) * alpha).fit(Z, Y)  # Ridge minimises ‖Zw + b − y‖² + α_R‖w‖²
    np.testing.assert_allclose(coefs[0], ridge.coef_, rtol=1e-8, atol=1e-10)
    assert b == pytest.approx(ridge.intercept_) and converged


@pytest.mark.parametrize(("penalty", "model"), [("l1", Lasso), ("elasticnet", ElasticNet)])
@pytest.mark.parametrize("alpha", [3e-3, 0.05])
def test_l1_and_elastic_net_are_sklearns_objective(penalty, model, alpha):
    Z, _ = features(6)
    coefs, b, converged = fit_penalised(Z, Y, [alpha], penalty, l1_ratio=0.5)
    kwargs = {"l1_ratio": 0.5} if penalty == "elasticnet" else {}
    reference = model(alpha=alpha, tol=1e-12, max_iter=1_000_000, **kwargs).fit(Z, Y)
    np.testing.assert_allclose(coefs[0], reference.coef_, atol=2e-3)
    np.testing.assert_array_equal(coefs[0] == 0, reference.coef_ == 0)
    assert b == pytest.approx(reference.intercept_) and converged


def test_l2_matches_the_gradient_descent_estimator():
    """The explorer's closed form is the minimiser of LinearRegression(penalty='l2')'s objective."""
    Z, _ = features(5)
    coefs, b, _ = fit_penalised(Z, Y, [0.1], "l2")
    model = LinearRegression(penalty="l2", alpha=0.1, tol=1e-10, max_epochs=20_000).fit(Z, Y)
    np.testing.assert_allclose(model.coef_, coefs[0], rtol=1e-6, atol=1e-8)
    assert model.intercept_ == pytest.approx(b)


def test_grid_order_is_kept_and_warm_starts_do_not_change_the_answer():
    Z, _ = features(6)
    alphas = [0.1, 1e-3, 0.01]
    coefs, _, _ = fit_penalised(Z, Y, alphas, "l1")
    for a, c in zip(alphas, coefs, strict=True):
        alone, _, _ = fit_penalised(Z, Y, [a], "l1")
        np.testing.assert_allclose(c, alone[0], atol=2e-3)


def test_fit_penalised_rejects_bad_input():
    Z, _ = features(3)
    with pytest.raises(ValueError, match="unknown penalty"):
        fit_penalised(Z, Y, [0.1], "l3")
    with pytest.raises(ValueError, match="alphas must be positive"):
        fit_penalised(Z, Y, [0.0], "l2")
    with pytest.raises(ValueError, match="l1_ratio"):
        fit_penalised(Z, Y, [0.1], "elasticnet", l1_ratio=1.5)
    with pytest.raises(ValueError, match="shape"):
        fit_penalised(Z[:5], Y, [0.1], "l2")


# ----------------------------------------------------------------------------- the state function


def test_state_measures_what_it_fits():
    state = regularisation_explorer_state(*DATA, degree=9, alpha=0.01, penalty="l2")
    assert isinstance(state, RegularisationState)
    Z, Zv = features(9)
    np.testing.assert_allclose(state.train_mse, np.mean((Z @ state.coef + state.intercept - Y) ** 2))
    np.testing.assert_allclose(state.val_mse, np.mean((Zv @ state.coef + state.intercept - YV) ** 2))
    assert state.intercept == pytest.approx(np.mean(Y))
    assert state.coef.shape == (9,) and state.alphas.shape == state.val_path.shape == (31,)
    assert np.all(np.diff(state.alphas) > 0)
    assert state.status.startswith(
        f"degree 9, L2 α = 0.01: train MSE {state.train_mse:.3g}, validation MSE {state.val_mse:.3g}; 0 of 9 "
        "coefficients exactly 0"
    )
    # the model curve is the model's prediction
    k = np.argmin(np.abs(state.x_grid - X[0]))
    assert state.x_grid[0] <= X.min() and state.x_grid[-1] >= X.max()
    assert np.isfinite(state.y_grid[k])


def test_l2_shrinks_and_training_error_grows_with_alpha():
    states = [regularisation_explorer_state(*DATA, degree=10, alpha=a) for a in (1e-4, 1e-2, 1.0)]
    norms = [np.linalg.norm(s.coef) for s in states]
    assert norms[0] > norms[1] > norms[2]
    assert states[0].train_mse < states[1].train_mse < states[2].train_mse
    assert all(s.n_zero == 0 for s in states)  # L2 shrinks, never to exactly 0
    assert np.all(np.diff(states[0].train_path) > 0)  # training error grows along the whole grid


def test_l1_sets_coefficients_exactly_to_zero_and_more_with_larger_alpha():
    zeros = [regularisation_explorer_state(*DATA, degree=12, alpha=a, penalty="l1").n_zero for a in (1e-3, 0.1, 5.0)]
    assert 0 < zeros[0] <= zeros[1] < zeros[2] == 12
    state = regularisation_explorer_state(*DATA, degree=12, alpha=0.01, penalty="l1")
    assert f"{state.n_zero} of 12 coefficients exactly 0" in state.status
    assert state.converged and "approximate" not in state.status


def test_overfitting_shows_in_the_validation_curve():
    """Degree 12 with almost no penalty fits the training set better and the validation set worse."""
    weak = regularisation_explorer_state(*DATA, degree=12, alpha=1e-4)
    best_alpha = weak.alphas[np.argmin(weak.val_path)]
    tuned = regularisation_explorer_state(*DATA, degree=12, alpha=float(best_alpha))
    assert weak.train_mse < tuned.train_mse and weak.val_mse > 1.5 * tuned.val_mse
    assert f"α ≈ {best_alpha:.2g}" in weak.status


def test_state_accepts_any_backend(backend, to_backend):
    reference = regularisation_explorer_state(*DATA, degree=4, alpha=0.01)
    state = regularisation_explorer_state(*(to_backend(a) for a in DATA), degree=4, alpha=0.01)
    np.testing.assert_allclose(state.coef, reference.coef, rtol=1e-10)
    assert state.status == reference.status


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"degree": 0}, "degree"),
        ({"alpha": -1.0}, "alpha must be"),
        ({"penalty": "l0"}, "unknown penalty"),
        ({"alpha_range": (1.0, 0.1)}, "alpha_range"),
        ({"n_alphas": 1}, "n_alphas"),
    ],
)
def test_state_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        regularisation_explorer_state(*DATA, **kwargs)


def test_state_rejects_mismatched_or_bad_data():
    with pytest.raises(ValueError, match="same length"):
        regularisation_explorer_state(X, Y[:-1], XV, YV)
    with pytest.raises(ValueError, match="NaN"):
        regularisation_explorer_state(X, np.where(np.arange(20) == 3, np.nan, Y), XV, YV)


# ----------------------------------------------------------------------------- the figure


def test_draw_shows_fit_coefficients_and_error_curves():
    state = regularisation_explorer_state(*DATA, degree=12, alpha=0.01, penalty="l1")
    fig = draw_regularisation_explorer(state, *DATA, true_coef=TRUE_COEF)
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    ax_fit, ax_coef, ax_err = fig.axes
    (model,) = with_gid(ax_fit, "model")
    np.testing.assert_array_equal(model.get_ydata(), state.y_grid)
    (truth,) = with_gid(ax_fit, "truth")
    np.testing.assert_allclose(truth.get_ydata(), np.polynomial.polynomial.polyval(state.x_grid, TRUE_COEF))
    low, high = ax_fit.get_ylim()
    assert low < min(Y.min(), YV.min()) and high > max(Y.max(), YV.max())
    bars = [p for p in ax_coef.patches if p.get_gid() == "coef"] or ax_coef.containers[0].patches
    np.testing.assert_allclose([b.get_height() for b in bars], state.coef)
    (zeros,) = with_gid(ax_coef, "zeros")
    assert len(zeros.get_xdata()) == state.n_zero > 0
    (val,) = with_gid(ax_err, "val_path")
    np.testing.assert_array_equal(val.get_ydata(), state.val_path)
    (marker,) = with_gid(ax_err, "alpha")
    assert marker.get_xdata()[0] == pytest.approx(0.01)
    assert ax_err.get_xscale() == "log"
    # redrawing into the same figure replaces, not adds
    again = draw_regularisation_explorer(state, *DATA, fig=fig, title="status")
    assert again is fig and len(fig.axes) == 3 and fig.get_suptitle() == "status"
    assert not with_gid(fig.axes[0], "truth")


# ----------------------------------------------------------------------------- the widget


def test_explorer_is_a_vbox_with_a_stable_repr():
    explorer = regularisation_explorer(*DATA, degree=12, alpha=1e-3, true_coef=TRUE_COEF)
    assert isinstance(explorer, RegularisationExplorer) and isinstance(explorer, ipywidgets.VBox)
    text = explorer._repr_mimebundle_()["text/plain"]
    assert text == repr(explorer) == "RegularisationExplorer(degree=12, penalty='l2', α=0.001)"
    assert not re.search(r"0x[0-9a-f]+|[0-9a-f]{32}", text)
    assert isinstance(explorer.alpha_slider, ipywidgets.FloatLogSlider)
    assert explorer.alpha_slider.min == pytest.approx(-4) and explorer.alpha_slider.max == pytest.approx(1)
    assert explorer.degree_slider.max == 15
    (out,) = explorer.output.outputs
    assert out["output_type"] == "display_data"
    assert base64.b64decode(out["data"]["image/png"]).startswith(b"\x89PNG")
    assert "train MSE" in explorer.status.value


def test_changing_the_controls_refits_and_redraws():
    explorer = regularisation_explorer(*DATA, degree=12, alpha=1e-3)
    before_png = explorer.output.outputs[0]["data"]["image/png"]
    explorer.penalty_buttons.value = "l1"
    assert explorer.state.penalty == "l1" and explorer.state.n_zero > 0
    assert explorer.output.outputs[0]["data"]["image/png"] != before_png
    explorer.alpha_slider.value = 0.1
    assert explorer.state.alpha == pytest.approx(0.1)
    explorer.degree_slider.value = 3
    assert explorer.state.coef.shape == (3,)
    assert "degree 3, L1" in explorer.status.value
    assert repr(explorer) == "RegularisationExplorer(degree=3, penalty='l1', α=0.1)"


def test_a_failing_refit_shows_an_error_instead_of_raising():
    explorer = regularisation_explorer(*DATA, degree=4, alpha=0.01, l1_ratio=1.0)
    explorer.penalty_buttons.value = "elasticnet"  # l1_ratio = 1 is not an elastic net
    assert "error" in explorer.status.value and "l1_ratio" in explorer.status.value


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"alpha": 100.0}, "outside alpha_range"),
        ({"degree": 20}, "degree must be"),
        ({"max_degree": 0}, "max_degree"),
        ({"penalty": "ridge"}, "unknown penalty"),
    ],
)
def test_factory_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        regularisation_explorer(*DATA, **kwargs)


def test_the_data_generators_are_seeded():
    again = make_polynomial(20, noise=0.2, seed=1)
    np.testing.assert_array_equal(B.to_numpy(again[0]), X)
