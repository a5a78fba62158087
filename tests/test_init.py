"""Initialisers: fans and gains as torch.nn.init, empirical moments of large draws vs the formulas, seeding."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import require

from gdcourse import backend as B
from gdcourse import init

torch = require("torch")


@pytest.mark.parametrize("shape", [(3, 5), (7, 2), (4, 3, 2, 5), (6, 1, 3, 3), (2, 3, 4)])
def test_fans_match_torch(shape):
    assert init.fan_in_and_fan_out(shape) == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


def test_fans_need_two_dimensions():
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init.fan_in_and_fan_out((5,))


@pytest.mark.parametrize(
    ("name", "param"),
    [
        ("linear", None),
        ("conv2d", None),
        ("sigmoid", None),
        ("tanh", None),
        ("relu", None),
        ("leaky_relu", None),
        ("leaky_relu", 0.2),
        ("selu", None),
    ],
)
def test_gain_matches_torch(name, param):
    assert init.gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param), rel=1e-15)


def test_gain_rejects_unknown_names():
    with pytest.raises(ValueError, match="unknown nonlinearity 'swish'"):
        init.gain("swish")


SHAPE = (300, 200, 2)  # fan_in 400, fan_out 600; 120 000 draws
FAN_IN, FAN_OUT = 400, 600


def _moments_case():
    xu = math.sqrt(6 / (FAN_IN + FAN_OUT))
    return [
        # name, function, expected std, bound of |w| (uniform) or None
        ("xavier_uniform", lambda **k: init.xavier_uniform(SHAPE, **k), math.sqrt(2 / (FAN_IN + FAN_OUT)), xu),
        (
            "xavier_uniform_gain",
            lambda **k: init.xavier_uniform(SHAPE, gain=5 / 3, **k),
            5 / 3 * math.sqrt(2 / (FAN_IN + FAN_OUT)),
            5 / 3 * xu,
        ),
        ("xavier_normal", lambda **k: init.xavier_normal(SHAPE, **k), math.sqrt(2 / (FAN_IN + FAN_OUT)), None),
        ("he_uniform", lambda **k: init.he_uniform(SHAPE, **k), math.sqrt(2 / FAN_IN), math.sqrt(6 / FAN_IN)),
        ("he_normal", lambda **k: init.he_normal(SHAPE, **k), math.sqrt(2 / FAN_IN), None),
        (
            "he_normal_fan_out",
            lambda **k: init.kaiming_normal(SHAPE, mode="fan_out", **k),
            math.sqrt(2 / FAN_OUT),
            None,
        ),
        (
            "kaiming_uniform_tanh",
            lambda **k: init.kaiming_uniform(SHAPE, nonlinearity="tanh", **k),
            5 / 3 / math.sqrt(FAN_IN),
            5 / 3 * math.sqrt(3 / FAN_IN),
        ),
        ("lecun_normal", lambda **k: init.lecun_normal(SHAPE, **k), math.sqrt(1 / FAN_IN), None),
        ("lecun_uniform", lambda **k: init.lecun_uniform(SHAPE, **k), math.sqrt(1 / FAN_IN), math.sqrt(3 / FAN_IN)),
        ("torch", lambda **k: init.torch_default(SHAPE, **k), 1 / math.sqrt(3 * FAN_IN), 1 / math.sqrt(FAN_IN)),
        ("normal", lambda **k: init.normal(SHAPE, 0.0, 0.01, **k), 0.01, None),
    ]


@pytest.mark.parametrize(("name", "draw", "std", "bound"), _moments_case(), ids=[c[0] for c in _moments_case()])
def test_empirical_moments_match_the_formulas(name, draw, std, bound):
    w = B.to_numpy(draw(seed=0))
    assert w.shape == SHAPE
    n = w.size
    assert abs(w.mean()) < 5 * std / math.sqrt(n)  # the mean is 0 within 5 standard errors
    assert w.std() == pytest.approx(std, rel=0.01)  # std of the sample std ≈ std/sqrt(2n) ≈ 0.2 %
    if bound is not None:
        assert np.max(np.abs(w)) <= bound
        assert np.max(np.abs(w)) > 0.999 * bound  # and the bound is reached: it is the right one


def test_uniform_and_constants():
    w = B.to_numpy(init.uniform((1000,), -2.0, 3.0, seed=1))
    assert w.min() >= -2 and w.max() < 3 and w.mean() == pytest.approx(0.5, abs=0.1)
    assert np.all(B.to_numpy(init.zeros((2, 3))) == 0)
    assert np.all(B.to_numpy(init.ones((2, 3))) == 1)
    assert np.all(B.to_numpy(init.constant((2, 3), 0.25)) == 0.25)
    assert B.to_numpy(init.torch_default((4,), fan_in=100, seed=0)).max() <= 0.1


@pytest.mark.parametrize("name", sorted(init.INITIALIZERS))
def test_same_seed_same_weights_on_every_backend(name, backend):
    f = init.get(name)
    with B.using("numpy"):
        host64 = f((6, 4, 3, 3), seed=7)
        host32 = f((6, 4, 3, 3), seed=7, dtype="float32")
    w64 = f((6, 4, 3, 3), seed=7)
    w32 = f((6, 4, 3, 3), seed=7, dtype="float32")
    assert B.dtype_of(w64) == "float64" and B.dtype_of(w32) == "float32"
    if backend.device is not None:
        assert w64.device == backend.device
    np.testing.assert_array_equal(B.to_numpy(w64), host64)
    np.testing.assert_array_equal(B.to_numpy(w32), host32)
    np.testing.assert_array_equal(host32, host64.astype(np.float32))  # drawn in float64, then cast


def test_a_generator_draws_in_sequence():
    g = np.random.default_rng(3)
    a, b = init.normal((5,), seed=g), init.normal((5,), seed=g)
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(np.concatenate([a, b]), np.random.default_rng(3).normal(size=10))


def test_bad_arguments_get_clear_errors():
    with pytest.raises(ValueError, match="dtype must be 'float32' or 'float64'"):
        init.normal((2,), dtype="int32")
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out'"):
        init.kaiming_normal((3, 3), mode="fan_avg")
    with pytest.raises(ValueError, match="unknown initialiser 'glorot'"):
        init.get("glorot")
    with pytest.raises(ValueError, match="shape must be"):
        init.zeros((2, -1))
    with pytest.raises(ValueError, match="std must be >= 0"):
        init.normal((2,), std=-1.0)
