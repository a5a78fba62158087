"""Property-based tests (hypothesis) of the core: optimizer invariants and autodiff against finite differences.

The example-based tests compare each rule with ``torch.optim`` at chosen settings and each operation's gradient
at chosen inputs.  These draw the settings, shapes and values instead, and check what must hold for every draw:

Optimizers (every rule of ``gdcourse.optim.OPTIMIZERS`` with its defaults and a drawn learning rate):

- an elementwise rule treats a list of arrays as one long vector: stepping ``[a, b]`` gives the same numbers as
  stepping ``concatenate([a, b])`` (catches state shared or mixed up between parameters);
- a zero gradient from a fresh state leaves the parameters where they are;
- ``maximize=True`` with gradient ``g`` is ``maximize=False`` with ``-g``;
- ``step`` never modifies its inputs, and ``step_in_place`` gives the same numbers as ``step``;
- closed forms: plain gradient descent is :math:`\\theta - \\eta g`; Adam's first step is
  :math:`\\theta - \\eta\\, g / (|g| + \\epsilon)` (the bias corrections cancel :math:`1-\\beta_1` and
  :math:`1-\\beta_2` exactly).

Autodiff: a drawn composition of elementwise functions, a broadcast binary operation and a reduction of a
drawn-shape tensor; its reverse-mode gradient must match central finite differences (float64, computed here
with NumPy on the same function, not by gdcourse.gradcheck).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gdcourse import optim
from gdcourse.autodiff import Tensor

RULES = sorted(optim.OPTIMIZERS)
LEARNING_RATES = st.floats(1e-4, 1.0)
SHAPES = hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=4)
ENTRIES = st.floats(-3.0, 3.0, allow_nan=False, width=64)


def _vectors(n: int) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.float64, (n,), elements=ENTRIES)


def _two_steps(opt, params, grads):
    state = opt.init(params)
    params, state = opt.step(params, grads, state)
    params, state = opt.step(params, [g * 0.5 for g in grads] if isinstance(grads, list) else grads * 0.5, state)
    return params


@pytest.mark.parametrize("rule", RULES)
@settings(max_examples=15, deadline=None)
@given(lr=LEARNING_RATES, n=st.integers(1, 5), m=st.integers(1, 5), data=st.data())
def test_a_list_of_arrays_steps_like_one_long_vector(rule, lr, n, m, data):
    opt = optim.get(rule, lr=lr)
    a, b, ga, gb = (data.draw(_vectors(k)) for k in (n, m, n, m))
    as_list = _two_steps(opt, [a, b], [ga, gb])
    as_one = _two_steps(opt, np.concatenate([a, b]), np.concatenate([ga, gb]))
    np.testing.assert_allclose(np.concatenate(as_list), as_one, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("rule", RULES)
@settings(max_examples=15, deadline=None)
@given(lr=LEARNING_RATES, theta=hnp.arrays(np.float64, SHAPES, elements=ENTRIES))
def test_a_zero_gradient_from_a_fresh_state_does_not_move_the_parameters(rule, lr, theta):
    opt = optim.get(rule, lr=lr, weight_decay=0.0)  # adamw's default decay (0.01) shrinks θ even then
    moved, _ = opt.step(theta, np.zeros_like(theta), opt.init(theta))
    np.testing.assert_array_equal(moved, theta)


@pytest.mark.parametrize("rule", RULES)
@settings(max_examples=15, deadline=None)
@given(lr=LEARNING_RATES, n=st.integers(1, 6), data=st.data())
def test_maximize_with_g_is_minimize_with_minus_g(rule, lr, n, data):
    theta, g = data.draw(_vectors(n)), data.draw(_vectors(n))
    up = optim.get(rule, lr=lr, maximize=True)
    down = optim.get(rule, lr=lr)
    np.testing.assert_allclose(_two_steps(up, theta, g), _two_steps(down, theta, -g), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("rule", RULES)
@settings(max_examples=15, deadline=None)
@given(lr=LEARNING_RATES, n=st.integers(1, 6), data=st.data())
def test_step_leaves_its_inputs_alone_and_step_in_place_agrees(rule, lr, n, data):
    opt = optim.get(rule, lr=lr)
    theta, g = data.draw(_vectors(n)), data.draw(_vectors(n))
    theta_before, g_before = theta.copy(), g.copy()
    state = opt.init(theta)
    expected, _ = opt.step(theta, g, state)
    np.testing.assert_array_equal(theta, theta_before)
    np.testing.assert_array_equal(g, g_before)
    in_place, _ = opt.step_in_place(theta.copy(), g, opt.init(theta))
    np.testing.assert_array_equal(in_place, expected)


@settings(max_examples=60, deadline=None)
@given(lr=LEARNING_RATES, n=st.integers(1, 6), data=st.data())
def test_gradient_descent_is_theta_minus_eta_g(lr, n, data):
    theta, g = data.draw(_vectors(n)), data.draw(_vectors(n))
    opt = optim.gd(lr=lr)
    stepped, _ = opt.step(theta, g, opt.init(theta))
    np.testing.assert_allclose(stepped, theta - lr * g, rtol=1e-15, atol=1e-15)


@settings(max_examples=60, deadline=None)
@given(
    lr=LEARNING_RATES,
    beta1=st.floats(0.0, 0.999),
    beta2=st.floats(0.0, 0.9999),
    eps=st.floats(1e-10, 1e-3),
    n=st.integers(1, 6),
    data=st.data(),
)
def test_adams_first_step_is_eta_g_over_abs_g_plus_eps(lr, beta1, beta2, eps, n, data):
    theta, g = data.draw(_vectors(n)), data.draw(_vectors(n))
    opt = optim.adam(lr=lr, betas=(beta1, beta2), eps=eps)
    stepped, _ = opt.step(theta, g, opt.init(theta))
    np.testing.assert_allclose(stepped, theta - lr * g / (np.abs(g) + eps), rtol=1e-12, atol=1e-15)


# ----------------------------------------------------------------------------------------------
# Autodiff against central finite differences
# ----------------------------------------------------------------------------------------------

# (name, on a Tensor, on a NumPy array): smooth on the drawn range [-2, 2]
ELEMENTWISE = [
    ("tanh", lambda t: t.tanh(), np.tanh),
    ("sigmoid", lambda t: t.sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    ("exp", lambda t: t.exp(), np.exp),
    ("square", lambda t: t * t, np.square),
    ("log(1+x²)", lambda t: (t * t + 1.0).log(), lambda x: np.log(x * x + 1.0)),
    ("scale", lambda t: t * 0.7 - 0.2, lambda x: x * 0.7 - 0.2),
]
BINARY = [
    ("add", lambda s, t: s + t, np.add),
    ("mul", lambda s, t: s * t, np.multiply),
    ("sub", lambda s, t: s - t, np.subtract),
    ("div", lambda s, t: s / (t * t + 1.0), lambda x, y: x / (y * y + 1.0)),
]
REDUCTIONS = [
    ("sum", lambda t: t.sum(), np.sum),
    ("mean", lambda t: t.mean(), np.mean),
]


@st.composite
def broadcast_pair(draw):
    """Two shapes that broadcast together: the second drops leading axes or has sides of 1."""
    shape = draw(SHAPES)
    other = [1 if draw(st.booleans()) else side for side in shape]
    other = other[draw(st.integers(0, len(other) - 1)) :]
    return shape, tuple(other)


def _function(unary, binary, reduce, weights):
    """The same function on Tensors and on NumPy arrays: reduce(w * binary(unary(x), y))."""
    (_, f_t, f_np), (_, b_t, b_np), (_, r_t, r_np) = unary, binary, reduce

    def on_tensors(x, y):
        return r_t(b_t(f_t(x), y) * Tensor(weights))

    def on_arrays(x, y):
        return float(r_np(b_np(f_np(x), y) * weights))

    return on_tensors, on_arrays


def _central_differences(f, x, y, which, h=1e-6):
    target = (x if which == 0 else y).copy()
    grad = np.zeros_like(target)
    for index in np.ndindex(target.shape):
        plus, minus = target.copy(), target.copy()
        plus[index] += h
        minus[index] -= h
        args_plus = (plus, y) if which == 0 else (x, plus)
        args_minus = (minus, y) if which == 0 else (x, minus)
        grad[index] = (f(*args_plus) - f(*args_minus)) / (2 * h)
    return grad


@settings(max_examples=80, deadline=None)
@given(
    unary=st.sampled_from(ELEMENTWISE),
    binary=st.sampled_from(BINARY),
    reduce=st.sampled_from(REDUCTIONS),
    shapes=broadcast_pair(),
    data=st.data(),
)
def test_reverse_mode_matches_central_differences(unary, binary, reduce, shapes, data):
    x_shape, y_shape = shapes
    values = st.floats(-2.0, 2.0, allow_nan=False, width=64)
    x = data.draw(hnp.arrays(np.float64, x_shape, elements=values))
    y = data.draw(hnp.arrays(np.float64, y_shape, elements=values))
    weights = data.draw(hnp.arrays(np.float64, x_shape, elements=st.floats(-1.5, 1.5, width=64)))
    on_tensors, on_arrays = _function(unary, binary, reduce, weights)
    tx, ty = Tensor(x, requires_grad=True), Tensor(y, requires_grad=True)
    loss = on_tensors(tx, ty)
    assert loss.item() == pytest.approx(on_arrays(x, y), rel=1e-12, abs=1e-12)
    loss.backward()
    assert tx.grad.shape == x.shape and ty.grad.shape == y.shape  # the broadcast was undone
    for which, grad in ((0, tx.grad), (1, ty.grad)):
        np.testing.assert_allclose(grad, _central_differences(on_arrays, x, y, which), rtol=1e-5, atol=1e-6)


@settings(max_examples=60, deadline=None)
@given(shape=SHAPES, data=st.data())
def test_the_gradient_of_max_flows_to_the_largest_entry(shape, data):
    x = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-2.0, 2.0, width=64), unique=True))
    assume(x.size == 1 or np.sort(x.ravel())[-1] - np.sort(x.ravel())[-2] > 1e-3)  # no tie within h
    tx = Tensor(x, requires_grad=True)
    (tx.max() * 3.0).backward()
    expected = _central_differences(lambda a, _: float(np.max(a) * 3.0), x, np.zeros(1), 0)
    np.testing.assert_allclose(tx.grad, expected, rtol=1e-5, atol=1e-6)
