"""A tester's silent wrong results and misleading errors, each now a clear error (or warning) up front."""

import importlib
import warnings

import numpy as np
import pytest

import gdcourse
from gdcourse import backend as B
from gdcourse import data, doctor, optim, rates
from gdcourse.descent import conjugate_gradient
from gdcourse.tuning import LogUniform, Uniform, bayesian_search, grid_search, random_search
from gdcourse.tuning._checks import AllTrialsFailedWarning


@pytest.fixture
def fresh_backend(monkeypatch):
    """Forget the active backend (it is read again from GDCOURSE_BACKEND), and restore it afterwards."""
    monkeypatch.setattr(B, "_current", None)
    return monkeypatch


# 1. only supported backends -------------------------------------------------------------------


def test_torch_is_refused_as_a_backend_with_the_reason():
    before = B.current()
    with pytest.raises(ValueError, match="torch is not a supported array backend.*cross-check") as err:
        gdcourse.use("torch")
    assert "numpy, cupy, array_api_strict" in str(err.value)
    assert B.current() is before


@pytest.mark.parametrize("bad", ["os", "sys", "math", "torch:cpu"])
def test_a_module_that_is_no_array_library_is_refused_listing_the_supported_ones(bad):
    with pytest.raises(ValueError, match="supported backends: numpy, cupy, array_api_strict"):
        gdcourse.use(bad)


def test_the_environment_variable_is_checked_at_first_use(fresh_backend):
    fresh_backend.setenv("GDCOURSE_BACKEND", "torch")
    with pytest.raises(ValueError, match="GDCOURSE_BACKEND='torch'.*not a supported array backend"):
        B.current()


def test_supported_backends_still_load():
    assert B.check_spec(" array_api_strict:device1 ") == ("array_api_strict", "device1")
    with B.using("array_api_strict"):
        assert B.current().name == "array_api_strict"


# 2. doctor imports what it checks ------------------------------------------------------------


def _problems(findings):
    return [f for f in findings if f.level == "error"]


def test_doctor_reports_a_module_whose_import_fails(monkeypatch):
    real = importlib.import_module

    def fake(name, *args, **kwargs):
        if name == "ipywidgets":
            raise ImportError("No module named 'ipywidgets'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(importlib, "import_module", fake)
    problems = _problems(doctor.diagnose())
    assert [f.text for f in problems if "ipywidgets" in f.text], problems
    assert "does not import (ImportError" in problems[0].text


def test_doctor_reports_a_module_blocked_in_sys_modules(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "nbformat", None)
    assert any("nbformat" in f.text and "does not import" in f.text for f in _problems(doctor.diagnose()))


def test_doctor_refuses_an_unsupported_backend_in_the_environment(monkeypatch):
    monkeypatch.setenv("GDCOURSE_BACKEND", "torch")  # even when the process already has a backend
    found = [f for f in _problems(doctor.diagnose()) if f.topic == "backend"]
    assert found and "not a supported array backend" in found[0].text


# 3. conjugate gradient needs a symmetric positive definite A --------------------------------------


def test_cg_refuses_a_non_symmetric_matrix():
    a = np.array([[4.0, 1.0], [0.0, 3.0]])
    with pytest.raises(ValueError, match=r"A must be symmetric positive definite; A differs from A.T by 1"):
        conjugate_gradient(a, np.array([1.0, 2.0]))


def test_cg_accepts_round_off_asymmetry_and_refuses_an_indefinite_matrix():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(10, 4))
    a = x.T @ x + np.eye(4)
    a = a + 1e-15 * np.triu(np.ones((4, 4)), 1)  # round-off sized asymmetry
    history = conjugate_gradient(a, np.ones(4))
    np.testing.assert_allclose(a @ history.theta, np.ones(4), rtol=1e-8)
    with pytest.raises(ValueError, match="A must be symmetric positive definite; at conjugate gradient step 1"):
        conjugate_gradient(np.diag([-1.0, -2.0]), np.ones(2))


# 4. eps of the adaptive rules --------------------------------------------------------------------


@pytest.mark.parametrize("eps", [0.0, -1e-6])
def test_adadelta_refuses_an_eps_that_never_moves(eps):
    with pytest.raises(ValueError, match="eps must be a positive finite number for adadelta.*never moves"):
        optim.adadelta(eps=eps)


def test_eps_zero_stays_legal_for_adam_rmsprop_adagrad():
    for make in (optim.adam, optim.rmsprop, optim.adagrad):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            make(eps=0.0).init(np.ones(2))


def test_adam_warns_when_eps_underflows_in_float16():
    theta = np.array([1.0, 1.0], dtype=np.float16)
    with pytest.warns(optim.EpsUnderflowWarning, match="eps=1e-08 is below the smallest normal number of float16"):
        optim.adam(lr=0.01).init(theta)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        optim.adam(lr=0.01, eps=1e-4).init(theta)  # an eps float16 can hold
        optim.adam(lr=0.01).init(theta.astype(np.float32))


# 5. data loaders refuse a dtype that cannot hold the data --------------------------------------


@pytest.mark.parametrize("dtype", ["int8", "int64", "bool", "uint16"])
def test_loaders_refuse_non_floating_dtypes(dtype):
    with pytest.raises(ValueError, match="dtype must be a floating dtype"):
        data.load_breast_cancer(dtype=dtype)
    with pytest.raises(ValueError, match="dtype must be a floating dtype"):
        data.make_linear(10, dtype=dtype)


def test_loaders_refuse_a_float_dtype_too_small_for_the_values():
    with pytest.raises(ValueError, match="dtype='float16' cannot hold the values of X"):
        data.make_linear(20, offsets=1e6, dtype="float16")
    X, _ = data.load_breast_cancer(dtype="float16")  # largest value 4254 fits float16
    assert np.all(np.isfinite(B.to_numpy(X)))


# 7. tuning: space names against the objective, and searches where every trial failed ---------------


SPACE = {"lr": LogUniform(1e-3, 1.0), "momentum": Uniform(0.0, 0.9)}


@pytest.mark.parametrize("search", [grid_search, random_search, bayesian_search])
def test_a_space_with_names_the_objective_does_not_take_is_refused_before_any_trial(search):
    calls = []

    def objective(learning_rate, momentum):
        calls.append(1)
        return learning_rate + momentum

    with pytest.raises(ValueError, match=r"\['lr'\], which the objective does not take.*\['learning_rate'\]"):
        search(objective, SPACE, 4, seed=0)
    assert not calls


def test_objectives_with_kwargs_or_defaults_are_accepted():
    assert random_search(lambda **p: p["lr"], SPACE, 2, seed=0).best is not None
    assert random_search(lambda lr, momentum, extra=1.0: lr, SPACE, 2, seed=0).best is not None


def test_a_search_where_every_trial_failed_warns_with_the_first_failure():
    def broken(lr, momentum):
        raise RuntimeError("no GPU")

    with pytest.warns(AllTrialsFailedWarning, match=r"every one of the 3 trials.*RuntimeError: no GPU"):
        result = random_search(broken, SPACE, 3, seed=0)
    assert result.best is None


# 8. rates check lr with the shared check ---------------------------------------------------------


@pytest.mark.parametrize("lr", ["0.1", True, None])
def test_rates_refuse_a_learning_rate_that_is_not_a_number(lr):
    with pytest.raises(TypeError, match="lr must be a number"):
        rates.gd_rate([1.0, 2.0], lr)


def test_predicted_variance_refuses_a_negative_variance_and_handles_one_sample():
    from gdcourse.stochastic import predicted_variance

    with pytest.raises(ValueError, match="sigma2 must be a variance"):
        predicted_variance(-1.0, 10, 2)
    with pytest.raises(ValueError, match="n_samples"):
        predicted_variance(1.0, 0, 1)
    assert predicted_variance(2.0, 1, 1) == 0.0  # was 0/0 = nan
    assert predicted_variance(2.0, 1, 1, replace=True) == 2.0
    assert predicted_variance(2.0, 10, 10) == 0.0 and predicted_variance(2.0, 10, 1) == 2.0
