"""Both autodiff engines against torch.autograd and central differences.

Scalar engine (:class:`gdcourse.autodiff.Value`): seeded random expressions using every operation,
evaluated in lockstep with float64 torch scalars; a value used twice; a tiny MLP; no overflow at ±1000.

Array engine (:class:`gdcourse.autodiff.Tensor`): every operation's forward result and backward rule
(under a random upstream gradient) against torch in float64 (tight) and float32, with broadcasting
cases, on every backend of the ``backend`` fixture (NumPy and array_api_strict's device1).
"""

from __future__ import annotations

import math
import zlib

import matplotlib

matplotlib.use("Agg")  # only inside this test process

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from conftest import require  # noqa: E402

from gdcourse import backend as B  # noqa: E402
from gdcourse.autodiff import Tensor, Value, concat, stack, topological_order  # noqa: E402
from gdcourse.gradcheck import check_grad  # noqa: E402
from gdcourse.plots import draw_graph  # noqa: E402

torch = require("torch")

F64 = {"rtol": 1e-10, "atol": 1e-12}
F32 = {"rtol": 2e-5, "atol": 2e-6}


# ============================================================================ scalar engine


SCALAR_OPS = ["+", "-", "*", "/", "pow", "neg", "exp", "log", "tanh", "relu", "sigmoid", "radd", "rsub", "rmul", "rdiv"]


def _apply(op: str, a, b, c: float, p: float, direct: bool):
    """The same operation on Values or on torch scalars.

    ``direct``: apply exp/log/pow (and divide by ``b``) to ``a`` itself (decided from the data, so the
    operand can be reused elsewhere); otherwise to an expression of ``a`` that keeps the argument in the
    function's domain.
    """
    lib = torch if isinstance(a, torch.Tensor) else None
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return a / b if direct else a / (b * b + 0.5)
    if op == "pow":
        return a**p if direct else (a * a + 0.5) ** p
    if op == "neg":
        return -a
    if op == "exp":
        arg = a if direct else (a.tanh() if lib is None else torch.tanh(a))
        return arg.exp() if lib is None else torch.exp(arg)
    if op == "log":
        arg = a if direct else a * a + 0.1
        return arg.log() if lib is None else torch.log(arg)
    if op == "tanh":
        return a.tanh() if lib is None else torch.tanh(a)
    if op == "relu":
        return a.relu() if lib is None else torch.relu(a)
    if op == "sigmoid":
        return a.sigmoid() if lib is None else torch.sigmoid(a)
    if op == "radd":
        return c + a
    if op == "rsub":
        return c - a
    if op == "rmul":
        return c * a
    if op == "rdiv":
        return c / (a * a + 1.0)
    raise AssertionError(op)


@pytest.mark.parametrize("seed", range(12))
def test_scalar_random_expressions_match_torch(seed):
    r = np.random.default_rng(seed)
    leaves = r.uniform(-2, 2, size=4)
    values = [Value(float(v)) for v in leaves]
    tensors = [torch.tensor(float(v), dtype=torch.float64, requires_grad=True) for v in leaves]
    nodes_v, nodes_t = list(values), list(tensors)
    ops = list(SCALAR_OPS) + list(r.choice(SCALAR_OPS, size=10))  # every op at least once
    r.shuffle(ops)
    for op in ops:
        i, j = (int(k) for k in r.integers(len(nodes_v), size=2))  # i == j happens: a value used twice
        c = float(r.uniform(-3, 3))
        p = float(r.choice([2, 3, -1, 0.5, 1.5]))
        a = nodes_v[i].data
        b = nodes_v[j].data
        direct = {
            "pow": 0.2 < a < 3 or p in (2, 3) and abs(a) < 3,
            "exp": abs(a) < 3,
            "log": a > 0.2,
            "/": abs(b) > 0.3,
        }
        direct = direct.get(op, False)
        nodes_v.append(_apply(op, nodes_v[i], nodes_v[j], c, p, direct))
        nodes_t.append(_apply(op, nodes_t[i], nodes_t[j], c, p, direct))
    out_v = sum(nodes_v[4:], Value(0.0))
    out_t = sum(nodes_t[4:])
    out_v.backward()
    out_t.backward()
    assert math.isfinite(out_v.data)
    assert out_v.data == pytest.approx(out_t.item(), rel=1e-12, abs=1e-14)
    assert any(v.grad != 0 for v in values)
    for v, t in zip(values, tensors, strict=True):
        expected = 0.0 if t.grad is None else t.grad.item()  # None: the leaf was never used
        assert v.grad == pytest.approx(expected, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize(
    "build",
    [
        lambda x: x * x,  # used twice in one op
        lambda x: x * x + x,  # used three times
        lambda x: (x + 1) * (x - 1) / x,
        lambda x: x.exp() * x.tanh() - x**3,
        lambda x: x**3 + x,  # every rule must add (+=) into x.grad, whichever runs last
        lambda x: x + x**3,
        lambda x: x.exp() + x,
        lambda x: x / x.exp(),
    ],
)
def test_scalar_value_used_twice_accumulates(build):
    x = Value(0.7)
    out = build(x)
    out.backward()
    t = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    out_t = build(_TorchScalar(t)).t
    out_t.backward()
    assert x.grad == pytest.approx(t.grad.item(), rel=1e-12)


class _TorchScalar:
    """A torch scalar with the Value method names (exp, tanh), to reuse the same lambda."""

    def __init__(self, t):
        self.t = t

    def _w(self, o):
        return o.t if isinstance(o, _TorchScalar) else o

    def __add__(self, o):
        return _TorchScalar(self.t + self._w(o))

    def __sub__(self, o):
        return _TorchScalar(self.t - self._w(o))

    def __mul__(self, o):
        return _TorchScalar(self.t * self._w(o))

    def __truediv__(self, o):
        return _TorchScalar(self.t / self._w(o))

    def __pow__(self, p):
        return _TorchScalar(self.t**p)

    def exp(self):
        return _TorchScalar(torch.exp(self.t))

    def tanh(self):
        return _TorchScalar(torch.tanh(self.t))


def test_scalar_backward_twice_accumulates_only_in_inputs():
    x = Value(2.0)
    y = x * x  # dy/dx = 4
    z = y * 3.0
    z.backward()
    z.backward()
    assert x.grad == 24.0  # accumulated like torch with retain_graph
    assert y.grad == 3.0  # intermediate recomputed, not doubled


def test_scalar_extremes_do_not_overflow():
    for x0 in (1000.0, -1000.0):
        for name in ("tanh", "sigmoid", "exp"):
            v = Value(x0)
            out = getattr(v, name)()
            out.backward()
            t = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
            out_t = getattr(torch, name)(t)
            out_t.backward()
            assert out.data == out_t.item(), (name, x0)
            assert v.grad == t.grad.item(), (name, x0)
    assert Value(1000.0).tanh().data == 1.0
    assert Value(1000.0).exp().data == math.inf
    assert Value(-1000.0).exp().data == 0.0
    lg = Value(1000.0)
    out = lg.log()
    out.backward()
    assert out.data == pytest.approx(math.log(1000.0)) and lg.grad == pytest.approx(1e-3)
    with pytest.raises(ValueError, match="log is defined for positive"):
        Value(-1000.0).log()
    with pytest.raises(ZeroDivisionError):
        Value(1.0) / Value(0.0)
    with pytest.raises(TypeError, match="exponent must be a number"):
        Value(2.0) ** Value(2.0)
    with pytest.raises(TypeError, match="cannot combine"):
        Value(1.0) + "a"


def test_scalar_tiny_mlp_matches_torch():
    """A 3-4-1 tanh MLP of Values: loss and every weight gradient as torch, and a few GD steps."""
    r = np.random.default_rng(5)
    w1, b1 = r.normal(size=(4, 3)), r.normal(size=4)
    w2, b2 = r.normal(size=(1, 4)), r.normal(size=1)
    X, y = r.normal(size=(5, 3)), r.normal(size=5)

    W1 = [[Value(float(w)) for w in row] for row in w1]
    B1 = [Value(float(b)) for b in b1]
    W2 = [[Value(float(w)) for w in row] for row in w2]
    B2 = [Value(float(b)) for b in b2]
    params = [v for row in W1 for v in row] + B1 + [v for row in W2 for v in row] + B2

    def forward():
        loss = Value(0.0)
        for xi, yi in zip(X, y, strict=True):
            h = [
                sum((w * float(x) for w, x in zip(row, xi, strict=True)), b).tanh()
                for row, b in zip(W1, B1, strict=True)
            ]
            out = sum((w * hj for w, hj in zip(W2[0], h, strict=True)), B2[0])
            loss = loss + (out - float(yi)) ** 2
        return loss / len(X)

    tp = [torch.tensor(a, requires_grad=True) for a in (w1, b1, w2, b2)]

    def forward_t():
        out = torch.tanh(torch.from_numpy(X) @ tp[0].T + tp[1]) @ tp[2].T + tp[3]
        return ((out[:, 0] - torch.from_numpy(y)) ** 2).mean()

    for _ in range(3):  # three steps of gradient descent, lr 0.1
        for p in params:
            p.grad = 0.0
        loss = forward()
        loss.backward()
        loss_t = forward_t()
        loss_t.backward()
        assert loss.data == pytest.approx(loss_t.item(), rel=1e-12)
        grads_t = np.concatenate([t.grad.numpy().ravel() for t in tp])
        np.testing.assert_allclose([p.grad for p in params], grads_t, rtol=1e-10, atol=1e-13)
        with torch.no_grad():
            for t in tp:
                t -= 0.1 * t.grad
                t.grad = None
        for p in params:
            p.data -= 0.1 * p.grad


def test_topological_order_and_deep_graph():
    x = Value(1.0)
    y = x
    for _ in range(5000):  # deeper than Python's recursion limit
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad == 1.0
    order = topological_order(y)
    assert order[-1] is y and order[0] is x


def test_draw_graph_shows_every_value_and_op():
    a, b = Value(2.0, "a"), Value(-3.0, "b")
    c = a * b
    c.label = "c"
    d = (c + a).tanh()
    d.backward()
    fig = draw_graph(d)
    ax = fig.axes[0]
    values = [t for t in ax.texts if t.get_gid() == "value"]
    ops = [t for t in ax.texts if t.get_gid() == "op"]
    assert len(values) == 5 and len(ops) == 3  # a, b, c, c + a, tanh
    assert any("grad" in t.get_text() and t.get_text().startswith("a\n") for t in values)
    assert sorted(t.get_text() for t in ops) == ["*", "+", "tanh"]
    plt.close(fig)


# ============================================================================ array engine


def _rand(r, shape, positive=False):
    x = r.normal(size=shape)
    return np.abs(x) + 0.5 if positive else x


# name: (input shapes, positive inputs?, engine function, torch function)
UNARY_AND_BINARY = {
    "add": ([(3, 4), (4,)], False, lambda a, b: a + b, lambda a, b: a + b),
    "add_broadcast_both": ([(2, 1, 4), (3, 1)], False, lambda a, b: a + b, lambda a, b: a + b),
    "sub": ([(3, 4), (3, 1)], False, lambda a, b: a - b, lambda a, b: a - b),
    "mul": ([(2, 3, 4), (1, 4)], False, lambda a, b: a * b, lambda a, b: a * b),
    "div": ([(3, 4), (4,)], True, lambda a, b: a / b, lambda a, b: a / b),
    "pow2": ([(3, 4)], False, lambda a: a**2, lambda a: a**2),
    "pow_half": ([(3, 4)], True, lambda a: a**0.5, lambda a: a**0.5),
    "pow_neg": ([(3, 4)], True, lambda a: a**-1.5, lambda a: a**-1.5),
    "neg": ([(3, 4)], False, lambda a: -a, lambda a: -a),
    "scalar_ops": (
        [(3, 4)],
        True,
        lambda a: 2.0 - a * 3.0 + 1.5 / a - a / 4.0,
        lambda a: 2.0 - a * 3.0 + 1.5 / a - a / 4.0,
    ),
    "matmul": ([(3, 4), (4, 5)], False, lambda a, b: a @ b, lambda a, b: a @ b),
    "matmul_batched": ([(2, 3, 4), (4, 5)], False, lambda a, b: a @ b, lambda a, b: a @ b),
    "matmul_batched_both": ([(2, 3, 4), (2, 4, 5)], False, lambda a, b: a @ b, lambda a, b: a @ b),
    "matmul_vec_right": ([(3, 4), (4,)], False, lambda a, b: a @ b, lambda a, b: a @ b),
    "matmul_vec_left": ([(4,), (4, 5)], False, lambda a, b: a @ b, lambda a, b: a @ b),
    "exp": ([(3, 4)], False, lambda a: a.exp(), torch.exp),
    "log": ([(3, 4)], True, lambda a: a.log(), torch.log),
    "tanh": ([(3, 4)], False, lambda a: a.tanh(), torch.tanh),
    "relu": ([(3, 4)], False, lambda a: a.relu(), torch.relu),
    "sigmoid": ([(3, 4)], False, lambda a: (a * 30.0).sigmoid(), lambda a: torch.sigmoid(a * 30.0)),
    "abs": ([(3, 4)], False, lambda a: a.abs(), torch.abs),
    "maximum": ([(3, 4), (4,)], False, lambda a, b: a.maximum(b), torch.maximum),
    "maximum_scalar": ([(3, 4)], False, lambda a: a.maximum(0.1), lambda a: torch.clamp(a, min=0.1)),
    "sum_all": ([(3, 4)], False, lambda a: a.sum(), lambda a: a.sum()),
    "sum_axis": ([(2, 3, 4)], False, lambda a: a.sum(axis=1), lambda a: a.sum(dim=1)),
    "sum_axes_keepdims": (
        [(2, 3, 4)],
        False,
        lambda a: a.sum(axis=(0, 2), keepdims=True),
        lambda a: a.sum(dim=(0, 2), keepdim=True),
    ),
    "mean_all": ([(3, 4)], False, lambda a: a.mean(), lambda a: a.mean()),
    "mean_axis": ([(2, 3, 4)], False, lambda a: a.mean(axis=-1, keepdims=True), lambda a: a.mean(dim=-1, keepdim=True)),
    "max_axis": ([(3, 5)], False, lambda a: a.max(axis=1), lambda a: a.max(dim=1).values),
    "max_all": ([(3, 5)], False, lambda a: a.max(), lambda a: a.max()),
    "reshape": ([(3, 4)], False, lambda a: a.reshape(2, 6) * 1.0, lambda a: a.reshape(2, 6) * 1.0),
    "transpose": ([(2, 3, 4)], False, lambda a: a.transpose((2, 0, 1)), lambda a: a.permute(2, 0, 1)),
    "T": ([(3, 4)], False, lambda a: a.T, lambda a: a.T),
    "getitem": ([(5, 6)], False, lambda a: a[1:4, ::2], lambda a: a[1:4, ::2]),
    "getitem_int": ([(5, 6)], False, lambda a: a[2], lambda a: a[2]),
    "softmax": ([(3, 5)], False, lambda a: a.softmax(axis=1), lambda a: torch.softmax(a, dim=1)),
    "log_softmax": ([(3, 5)], False, lambda a: (a * 50.0).log_softmax(0), lambda a: torch.log_softmax(a * 50.0, 0)),
    "stack": ([(3, 4), (3, 4)], False, lambda a, b: stack([a, b], axis=1), lambda a, b: torch.stack([a, b], dim=1)),
    "concat": ([(2, 4), (3, 4)], False, lambda a, b: concat([a, b], axis=0), lambda a, b: torch.cat([a, b], dim=0)),
    "composite": (
        [(3, 4), (4,)],
        True,
        lambda a, b: ((a * b).log() - b.exp() / a).tanh().sum(axis=0),
        lambda a, b: torch.tanh(torch.log(a * b) - torch.exp(b) / a).sum(dim=0),
    ),
}


def _run_both(name, dtype, r):
    shapes, positive, f_ours, f_torch = UNARY_AND_BINARY[name]
    host = [_rand(r, s, positive).astype(dtype) for s in shapes]
    ours = [Tensor(B.asarray(h), requires_grad=True) for h in host]
    theirs = [torch.tensor(h, requires_grad=True) for h in host]
    y, yt = f_ours(*ours), f_torch(*theirs)
    g = r.normal(size=tuple(yt.shape)).astype(dtype)
    y.backward(B.asarray(g))
    yt.backward(torch.from_numpy(g))
    return y, yt, ours, theirs


@pytest.mark.parametrize("name", sorted(UNARY_AND_BINARY))
def test_array_op_matches_torch_float64(name, backend):
    y, yt, ours, theirs = _run_both(name, np.float64, np.random.default_rng(zlib.crc32(name.encode())))
    assert B.dtype_of(y.data) == "float64"
    np.testing.assert_allclose(B.to_numpy(y.data), yt.detach().numpy(), **F64)
    for a, t in zip(ours, theirs, strict=True):
        assert a.grad.shape == a.data.shape
        np.testing.assert_allclose(B.to_numpy(a.grad), t.grad.numpy(), **F64)


@pytest.mark.parametrize(
    "name", ["add_broadcast_both", "matmul_batched", "sigmoid", "log_softmax", "composite", "max_axis"]
)
def test_array_op_matches_torch_float32(name):
    y, yt, ours, theirs = _run_both(name, np.float32, np.random.default_rng(7))
    assert y.data.dtype == np.float32
    np.testing.assert_allclose(y.data, yt.detach().numpy(), **F32)
    for a, t in zip(ours, theirs, strict=True):
        assert a.grad.dtype == np.float32
        np.testing.assert_allclose(a.grad, t.grad.numpy(), **F32)


def test_take_and_take_along_axis_with_repeats(backend, xp):
    r = np.random.default_rng(3)
    x_host = r.normal(size=(4, 5))
    idx = np.array([0, 3, 3, 1])  # repeated index: gradients add up
    rows = np.array([[1], [4], [4], [0]])
    x = Tensor(B.asarray(x_host), requires_grad=True)
    y = x.take(B.asarray(idx), axis=1) * 2.0 + x.take_along_axis(B.asarray(rows), axis=1)
    g = r.normal(size=(4, 4))
    y.backward(B.asarray(g))
    xt = torch.tensor(x_host, requires_grad=True)
    yt = xt[:, torch.from_numpy(idx)] * 2.0 + torch.take_along_dim(xt, torch.from_numpy(rows), dim=1)
    yt.backward(torch.from_numpy(g))
    np.testing.assert_allclose(B.to_numpy(y.data), yt.detach().numpy(), **F64)
    np.testing.assert_allclose(B.to_numpy(x.grad), xt.grad.numpy(), **F64)


@pytest.mark.parametrize(("kernel", "stride", "padding"), [(3, 1, 0), (3, 2, 1), ((2, 3), (2, 1), (1, 0))])
def test_unfold2d_matches_torch_unfold(kernel, stride, padding, backend):
    r = np.random.default_rng(11)
    x_host = r.normal(size=(2, 3, 7, 6))
    x = Tensor(B.asarray(x_host), requires_grad=True)
    y = x.unfold2d(kernel, stride, padding)
    xt = torch.tensor(x_host, requires_grad=True)
    yt = torch.nn.functional.unfold(xt, kernel, padding=padding, stride=stride)
    g = r.normal(size=tuple(yt.shape))
    y.backward(B.asarray(g))
    yt.backward(torch.from_numpy(g))
    np.testing.assert_allclose(B.to_numpy(y.data), yt.detach().numpy(), **F64)
    np.testing.assert_allclose(B.to_numpy(x.grad), xt.grad.numpy(), **F64)


def test_maximum_ties_split_the_gradient_like_torch():
    a = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    b = Tensor(np.array([1.0, 5.0, 0.0]), requires_grad=True)
    a.maximum(b).sum().backward()
    at, bt = torch.tensor([1.0, 2.0, 3.0], requires_grad=True), torch.tensor([1.0, 5.0, 0.0], requires_grad=True)
    torch.maximum(at, bt).sum().backward()
    np.testing.assert_array_equal(a.grad, at.grad.numpy())
    np.testing.assert_array_equal(b.grad, bt.grad.numpy())


def test_array_engine_gradients_by_finite_differences(backend):
    """A composite function's backpropagated gradient against central differences, on each backend."""
    r = np.random.default_rng(4)
    W = B.asarray(r.normal(size=(3, 4)))
    b = B.asarray(r.normal(size=(4,)))

    def f_tensor(x):
        return ((Tensor(x) @ W + b).tanh() * Tensor(x).sum(axis=1, keepdims=True)).log_softmax(1).max(axis=1).mean()

    def grad_f(x):
        xt = Tensor(x, requires_grad=True)
        ((xt @ W + b).tanh() * xt.sum(axis=1, keepdims=True)).log_softmax(1).max(axis=1).mean().backward()
        return xt.grad

    report = check_grad(lambda x: f_tensor(x).data, grad_f, B.asarray(r.normal(size=(5, 3))), tol=1e-6)
    assert report.passed, report


def test_broadcast_gradient_sums_over_broadcast_axes():
    a = Tensor(np.ones((2, 1, 3)), requires_grad=True)
    b = Tensor(np.ones((4, 1)), requires_grad=True)
    (a * b).sum().backward()
    np.testing.assert_array_equal(a.grad, np.full((2, 1, 3), 4.0))  # each a entry used 4 times
    np.testing.assert_array_equal(b.grad, np.full((4, 1), 6.0))  # each b entry used 2*3 times


def test_backward_rules_and_errors():
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    loss = (w * w).sum()
    loss.backward()
    loss.backward()  # leaves accumulate, as in torch
    np.testing.assert_array_equal(w.grad, [4.0, 8.0])
    x = Tensor(np.ones(3))  # no requires_grad: nothing recorded
    y = (x * 2.0).exp()
    assert not y.requires_grad and y._parents == ()
    with pytest.raises(RuntimeError, match="requires_grad"):
        y.sum().backward()
    with pytest.raises(ValueError, match="one-element"):
        (w * 2.0).backward()
    with pytest.raises(TypeError, match="take"):
        w[np.array([0, 1])]
    with pytest.raises(TypeError, match="floating"):
        Tensor(np.array([1, 2]), requires_grad=True)
    with pytest.raises(TypeError, match="cannot combine"):
        w + "a"


def test_tensor_follows_the_data_on_strict_device():
    with B.using("array_api_strict:device1"):
        a = Tensor(B.asarray([[1.0, -2.0], [3.0, 4.0]]), requires_grad=True)
        y = (a @ a.T).relu().sigmoid().sum()
        y.backward()
        assert type(a.grad).__module__.startswith("array_api_strict")
        assert str(a.grad.device) == str(a.data.device)
        assert isinstance(y.item(), float)
        assert "Tensor(" in repr(y)
