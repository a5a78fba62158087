"""Every layer of gdcourse.nn against the same torch.nn module with the weights copied over.

Forward outputs and the gradients of input and parameters are compared in float64 (tight) and
float32, Linear/MLP/Conv2d also on array_api_strict's device1 (the ``backend`` fixture); every layer
is also gradient-checked by central differences; an MLP trained with gdcourse.optim.adam follows
the trajectory of the identical torch model trained with torch.optim.Adam.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import require

from gdcourse import backend as B
from gdcourse import nn, optim
from gdcourse.autodiff import Tensor
from gdcourse.gradcheck import check_module

torch = require("torch")
F = torch.nn.functional

F64 = {"rtol": 1e-10, "atol": 1e-12}
F32 = {"rtol": 1e-4, "atol": 1e-5}
TOL = {"float64": F64, "float32": F32}


def _copy_weights(ours: nn.Module, theirs, rename=lambda n: n) -> None:
    """Copy every parameter of ``ours`` into the torch module (names as in torch, or renamed)."""
    tp = dict(theirs.named_parameters())
    assert {rename(n) for n, _ in ours.named_parameters()} == set(tp)
    with torch.no_grad():
        for name, p in ours.named_parameters():
            tp[rename(name)].copy_(torch.from_numpy(B.to_numpy(p).copy()))


def _compare(ours, theirs, x_host, dtype, *, loss=None, rename=lambda n: n, out=lambda y: y):
    """Forward ``x`` through both, backpropagate ``loss`` (default: a random projection), compare everything."""
    tol = TOL[dtype]
    x = Tensor(B.asarray(x_host, dtype=dtype), requires_grad=True)
    xt = torch.tensor(x_host.astype(dtype), requires_grad=True)
    y, yt = out(ours(x)), out(theirs(xt))
    np.testing.assert_allclose(B.to_numpy(y.data), yt.detach().numpy(), **tol)
    if loss is None:
        proj = np.random.default_rng(99).normal(size=tuple(yt.shape)).astype(dtype)
        (y * B.asarray(proj)).sum().backward()
        (yt * torch.from_numpy(proj)).sum().backward()
    else:
        loss[0](y).backward()
        loss[1](yt).backward()
    np.testing.assert_allclose(B.to_numpy(x.grad), xt.grad.numpy(), **tol)
    tgrads = dict(theirs.named_parameters())
    for (name, _), g in zip(ours.named_parameters(), ours.grads(), strict=True):
        assert B.dtype_of(g) == dtype
        np.testing.assert_allclose(B.to_numpy(g), tgrads[rename(name)].grad.numpy(), err_msg=name, **tol)


def _torch(module, dtype):
    return module.to(torch.float64 if dtype == "float64" else torch.float32)


# ============================================================================ dense layers


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_linear_matches_torch(backend, dtype):
    ours = nn.Linear(5, 3, seed=0, dtype=dtype)
    theirs = _torch(torch.nn.Linear(5, 3), dtype)
    _copy_weights(ours, theirs)
    _compare(ours, theirs, np.random.default_rng(1).normal(size=(4, 5)), dtype)


def test_linear_on_3d_input_and_without_bias():
    ours = nn.Linear(4, 2, bias=False, seed=1)
    theirs = _torch(torch.nn.Linear(4, 2, bias=False), "float64")
    _copy_weights(ours, theirs)
    _compare(ours, theirs, np.random.default_rng(2).normal(size=(3, 5, 4)), "float64")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_mlp_matches_torch_sequential(backend, dtype, activation):
    act = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid}[activation]
    ours = nn.MLP([6, 8, 7, 3], activation, seed=3, dtype=dtype)
    theirs = _torch(
        torch.nn.Sequential(torch.nn.Linear(6, 8), act(), torch.nn.Linear(8, 7), act(), torch.nn.Linear(7, 3)), dtype
    )
    _copy_weights(ours, theirs)
    labels = np.array([0, 2, 1, 2, 0])
    loss = (
        lambda y: nn.softmax_cross_entropy(y, B.asarray(labels)),
        lambda y: F.cross_entropy(y, torch.from_numpy(labels)),
    )
    _compare(ours, theirs, np.random.default_rng(4).normal(size=(5, 6)), dtype, loss=loss)


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (nn.ReLU(), torch.nn.ReLU()),
        (nn.Tanh(), torch.nn.Tanh()),
        (nn.Sigmoid(), torch.nn.Sigmoid()),
        (nn.Softmax(axis=1), torch.nn.Softmax(dim=1)),
        (nn.Flatten(), torch.nn.Flatten()),
        (nn.Identity(), torch.nn.Identity()),
    ],
    ids=lambda m: type(m).__name__,
)
def test_activations_match_torch(ours, theirs):
    _compare(ours, theirs, np.random.default_rng(5).normal(size=(3, 4, 2)) * 3, "float64")


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("scale", [1.0, 1000.0])  # 1000: logits far beyond exp's range
def test_softmax_cross_entropy_matches_torch(backend, reduction, scale):
    r = np.random.default_rng(6)
    z_host, labels = r.normal(size=(7, 4)) * scale, r.integers(0, 4, size=7)
    z = Tensor(B.asarray(z_host), requires_grad=True)
    zt = torch.tensor(z_host, requires_grad=True)
    loss = nn.softmax_cross_entropy(z, B.asarray(labels), reduction=reduction)
    loss_t = F.cross_entropy(zt, torch.from_numpy(labels), reduction=reduction)
    assert B.is_finite(loss.data)
    np.testing.assert_allclose(B.to_numpy(loss.data), loss_t.detach().numpy(), **F64)
    g = r.normal(size=tuple(loss_t.shape))
    loss.backward(B.asarray(g))
    loss_t.backward(torch.from_numpy(g))
    np.testing.assert_allclose(B.to_numpy(z.grad), zt.grad.numpy(), **F64)


def test_softmax_cross_entropy_rejects_bad_labels():
    z = Tensor(np.zeros((3, 4)), requires_grad=True)
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        nn.softmax_cross_entropy(z, np.array([0, 4, 1]))
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        nn.softmax_cross_entropy(z, np.array([0, 1]))
    with pytest.raises(TypeError, match="integer"):
        nn.softmax_cross_entropy(z, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match="reduction"):
        nn.softmax_cross_entropy(z, np.array([0, 1, 2]), reduction="avg")


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_mse_loss_matches_torch(reduction):
    r = np.random.default_rng(8)
    p_host, t_host = r.normal(size=(5, 2)), r.normal(size=(5, 2))
    p = Tensor(p_host, requires_grad=True)
    pt = torch.tensor(p_host, requires_grad=True)
    loss, loss_t = nn.mse_loss(p, t_host, reduction), F.mse_loss(pt, torch.from_numpy(t_host), reduction=reduction)
    loss.backward()
    loss_t.backward()
    assert loss.item() == pytest.approx(loss_t.item(), rel=1e-12)
    np.testing.assert_allclose(p.grad, pt.grad.numpy(), **F64)
    with pytest.raises(ValueError, match="same shape|must match"):
        nn.mse_loss(p, t_host[:, :1])


# ============================================================================ convolution and pooling


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("kernel", "stride", "padding"), [(3, 1, 0), (3, 2, 1), ((2, 3), (1, 2), (0, 1))])
def test_conv2d_matches_torch(backend, dtype, kernel, stride, padding):
    ours = nn.Conv2d(3, 4, kernel, stride, padding, seed=0, dtype=dtype)
    theirs = _torch(torch.nn.Conv2d(3, 4, kernel, stride, padding), dtype)
    _copy_weights(ours, theirs)
    _compare(ours, theirs, np.random.default_rng(9).normal(size=(2, 3, 7, 6)), dtype)


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (nn.MaxPool2d(2), torch.nn.MaxPool2d(2)),
        (nn.MaxPool2d(3, 2, 1), torch.nn.MaxPool2d(3, 2, 1)),
        (nn.AvgPool2d(2), torch.nn.AvgPool2d(2)),
        (nn.AvgPool2d(3, 2, 1), torch.nn.AvgPool2d(3, 2, 1)),
        (nn.MaxPool2d((2, 3), (1, 2)), torch.nn.MaxPool2d((2, 3), (1, 2))),
    ],
    ids=lambda m: repr(m),
)
def test_pooling_matches_torch(backend, ours, theirs):
    _compare(ours, theirs, np.random.default_rng(10).normal(size=(2, 3, 7, 6)), "float64")


def test_small_cnn_matches_torch(backend):
    ours = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, seed=0), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64, 10, seed=1)
    )
    theirs = _torch(
        torch.nn.Sequential(
            torch.nn.Conv2d(1, 4, 3, padding=1),
            torch.nn.ReLU(),
            torch.nn.MaxPool2d(2),
            torch.nn.Flatten(),
            torch.nn.Linear(64, 10),
        ),
        "float64",
    )
    _copy_weights(ours, theirs)
    labels = np.arange(6) % 10
    loss = (
        lambda y: nn.softmax_cross_entropy(y, B.asarray(labels)),
        lambda y: F.cross_entropy(y, torch.from_numpy(labels)),
    )
    _compare(ours, theirs, np.random.default_rng(11).normal(size=(6, 1, 8, 8)), "float64", loss=loss)


# ============================================================================ recurrent layers


def _param_grads_equal(ours, theirs, tol, rename=lambda n: n):
    tgrads = dict(theirs.named_parameters())
    for (name, _), g in zip(ours.named_parameters(), ours.grads(), strict=True):
        np.testing.assert_allclose(B.to_numpy(g), tgrads[rename(name)].grad.numpy(), err_msg=name, **tol)


def _leaves(r, dtype, *shapes):
    hosts = [r.normal(size=s).astype(dtype) for s in shapes]
    return (
        hosts,
        [Tensor(B.asarray(h), requires_grad=True) for h in hosts],
        [torch.tensor(h, requires_grad=True) for h in hosts],
    )


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_cell_and_rnn_match_torch(dtype, nonlinearity):
    tol, r = TOL[dtype], np.random.default_rng(12)
    cell = nn.RNNCell(3, 5, nonlinearity=nonlinearity, seed=0, dtype=dtype)
    tcell = _torch(torch.nn.RNNCell(3, 5, nonlinearity=nonlinearity), dtype)
    _copy_weights(cell, tcell)
    _, (x, h0), (xt, h0t) = _leaves(r, dtype, (4, 3), (4, 5))
    h, ht = cell(x, h0), tcell(xt, h0t)
    np.testing.assert_allclose(h.data, ht.detach().numpy(), **tol)
    (h * h).sum().backward()
    (ht * ht).sum().backward()
    for a, t in ((x, xt), (h0, h0t)):
        np.testing.assert_allclose(a.grad, t.grad.numpy(), **tol)
    _param_grads_equal(cell, tcell, tol)

    rnn = nn.RNN(3, 5, nonlinearity=nonlinearity, seed=1, dtype=dtype)
    trnn = _torch(torch.nn.RNN(3, 5, nonlinearity=nonlinearity, batch_first=True), dtype)
    rename = lambda n: n.replace("cell.", "") + "_l0"  # noqa: E731
    _copy_weights(rnn, trnn, rename)
    _, (x, h0), (xt, h0t) = _leaves(r, dtype, (4, 6, 3), (4, 5))
    (out, h_last), (out_t, h_last_t) = rnn(x, h0), trnn(xt, h0t[None])
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), **tol)
    np.testing.assert_allclose(h_last.data, h_last_t[0].detach().numpy(), **tol)
    proj = r.normal(size=(4, 6, 5)).astype(dtype)
    ((out * proj).sum() + (h_last**2).sum()).backward()
    ((out_t * torch.from_numpy(proj)).sum() + (h_last_t**2).sum()).backward()
    for a, t in ((x, xt), (h0, h0t)):
        np.testing.assert_allclose(a.grad, t.grad.numpy(), **tol)
    _param_grads_equal(rnn, trnn, tol, rename)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_lstm_cell_and_lstm_match_torch(dtype):
    tol, r = TOL[dtype], np.random.default_rng(14)
    cell = nn.LSTMCell(3, 4, seed=0, dtype=dtype)
    tcell = _torch(torch.nn.LSTMCell(3, 4), dtype)
    _copy_weights(cell, tcell)
    _, (x, h0, c0), (xt, h0t, c0t) = _leaves(r, dtype, (2, 3), (2, 4), (2, 4))
    (h, c), (ht, ct) = cell(x, (h0, c0)), tcell(xt, (h0t, c0t))
    np.testing.assert_allclose(h.data, ht.detach().numpy(), **tol)
    np.testing.assert_allclose(c.data, ct.detach().numpy(), **tol)
    (h.sum() * 2.0 + (c * c).sum()).backward()
    (ht.sum() * 2.0 + (ct * ct).sum()).backward()
    for a, t in ((x, xt), (h0, h0t), (c0, c0t)):
        np.testing.assert_allclose(a.grad, t.grad.numpy(), **tol)
    _param_grads_equal(cell, tcell, tol)

    lstm = nn.LSTM(3, 4, seed=1, dtype=dtype)
    tlstm = _torch(torch.nn.LSTM(3, 4, batch_first=True), dtype)
    rename = lambda n: n.replace("cell.", "") + "_l0"  # noqa: E731
    _copy_weights(lstm, tlstm, rename)
    _, (x,), (xt,) = _leaves(r, dtype, (2, 5, 3))
    (out, (h_last, c_last)), (out_t, (h_last_t, c_last_t)) = lstm(x), tlstm(xt)
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), **tol)
    np.testing.assert_allclose(c_last.data, c_last_t[0].detach().numpy(), **tol)
    proj = r.normal(size=(2, 5, 4)).astype(dtype)
    ((out * proj).sum() + c_last.sum() + (h_last**2).sum()).backward()
    ((out_t * torch.from_numpy(proj)).sum() + c_last_t.sum() + (h_last_t**2).sum()).backward()
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), **tol)
    _param_grads_equal(lstm, tlstm, tol, rename)


def test_lstm_gate_order_is_i_f_g_o():
    """Only the forget gate's bias set high and c0 = 1: c' = f·c0 + i·g ≈ 1 + i·g."""
    cell = nn.LSTMCell(1, 1, init="zeros")
    big = np.zeros(4)
    big[1] = 50.0  # forget gate fully open
    cell.set_parameters([cell.weight_ih.data, cell.weight_hh.data, B.asarray(big), cell.bias_hh.data])
    h, c = cell(np.zeros((1, 1)), (np.zeros((1, 1)), np.ones((1, 1))))
    assert float(c.item()) == pytest.approx(1.0)  # i = 0.5, g = tanh(0) = 0
    assert float(h.item()) == pytest.approx(0.5 * np.tanh(1.0))  # o = 0.5


# ============================================================================ dropout


def test_dropout_eval_is_identity_and_train_uses_the_documented_mask(backend):
    p, seed = 0.3, 42
    x_host = np.random.default_rng(15).normal(size=(50, 40))
    drop = nn.Dropout(p, seed=seed)
    drop.eval()
    x = Tensor(B.asarray(x_host), requires_grad=True)
    np.testing.assert_array_equal(B.to_numpy(drop(x).data), x_host)
    drop.train()
    y = drop(x)
    g = np.random.default_rng(16).normal(size=x_host.shape)
    y.backward(B.asarray(g))
    keep = np.random.default_rng(seed).random(x_host.shape) >= p  # the mask the docstring describes
    mask = torch.from_numpy(keep.astype(np.float64))
    xt = torch.tensor(x_host, requires_grad=True)
    yt = xt * mask / (1 - p)
    yt.backward(torch.from_numpy(g))
    np.testing.assert_allclose(B.to_numpy(y.data), yt.detach().numpy(), **F64)
    np.testing.assert_allclose(B.to_numpy(x.grad), xt.grad.numpy(), **F64)
    assert abs(keep.mean() - (1 - p)) < 0.03
    second = B.to_numpy(drop(x).data)  # a fresh mask on the next call
    assert not np.array_equal(second, B.to_numpy(y.data))
    with pytest.raises(ValueError, match="probability"):
        nn.Dropout(1.5)


def test_train_and_eval_modes_propagate():
    model = nn.Sequential(nn.Linear(3, 3, seed=0), nn.Dropout(0.5, seed=0), nn.Sequential(nn.Dropout(0.1)))
    model.eval()
    assert not model[1].training and not model[2][0].training
    x = np.ones((2, 3))
    np.testing.assert_array_equal(model(x).data, model[0](x).data)
    assert model.train() is model and model[2][0].training


# ============================================================================ gradient checks


@pytest.mark.parametrize(
    "make",
    [
        lambda: (nn.Linear(4, 3, seed=0), (5, 4)),
        lambda: (nn.MLP([4, 6, 3], "tanh", seed=0), (5, 4)),
        lambda: (nn.Conv2d(2, 3, 3, stride=2, padding=1, seed=0), (2, 2, 5, 5)),
        lambda: (nn.Sequential(nn.Conv2d(1, 2, 2, seed=0), nn.AvgPool2d(2), nn.Flatten(), nn.Sigmoid()), (2, 1, 5, 5)),
        lambda: (nn.MaxPool2d(2), (2, 2, 4, 4)),
        lambda: (nn.RNNCell(3, 4, seed=0), (2, 3)),
        lambda: (nn.LSTMCell(3, 2, seed=0), (2, 3)),
        lambda: (nn.Softmax(axis=1), (3, 4)),
        lambda: (nn.Dropout(0.5, seed=0).eval(), (3, 4)),
    ],
    ids=["linear", "mlp", "conv", "cnn", "maxpool", "rnncell", "lstmcell", "softmax", "dropout_eval"],
)
def test_every_layer_passes_gradcheck(make, backend):
    module, shape = make()
    x = B.asarray(np.random.default_rng(17).normal(size=shape))
    proj_shape = None

    def loss(out):
        nonlocal proj_shape
        out = out[0] * 1.5 + out[1] if isinstance(out, tuple) else out
        proj = np.cos(np.arange(np.prod(out.shape))).reshape(out.shape)  # fixed, unequal weights
        return (out * B.asarray(proj)).sum()

    report = check_module(module, x, loss, tol=1e-6)
    assert report.passed, report


def test_rnn_and_lstm_pass_gradcheck_through_time():
    x = np.random.default_rng(18).normal(size=(2, 4, 3))
    for module in (nn.RNN(3, 3, seed=0), nn.LSTM(3, 3, seed=0)):
        report = check_module(module, x, lambda out: (out[0] ** 2).sum() + out[0][:, -1, :].sum(), tol=1e-6)
        assert report.passed, report


# ============================================================================ module API


def test_parameters_names_order_and_set_parameters():
    model = nn.MLP([3, 4, 2], seed=0)
    names = [n for n, _ in model.named_parameters()]
    assert names == ["0.weight", "0.bias", "2.weight", "2.bias"]
    shapes = [tuple(p.shape) for p in model.parameters()]
    assert shapes == [(4, 3), (4,), (2, 4), (2,)]
    assert model.num_parameters() == 4 * 3 + 4 + 2 * 4 + 2
    new = [p * 0.0 + 1.0 for p in model.parameters()]
    old = model.parameters()
    model.set_parameters(new)
    assert all(a is b for a, b in zip(model.parameters(), new, strict=True))
    assert not np.array_equal(old[0], new[0])  # the old arrays were not modified in place
    with pytest.raises(ValueError, match="4 arrays"):
        model.set_parameters(new[:3])
    with pytest.raises(ValueError, match="'0.weight' has shape"):
        model.set_parameters([new[0].T, *new[1:]])
    state = model.state_dict()
    other = nn.MLP([3, 4, 2], seed=1)
    other.load_state_dict(state)
    np.testing.assert_array_equal(other(np.ones((1, 3))).data, model(np.ones((1, 3))).data)
    with pytest.raises(KeyError, match="missing"):
        other.load_state_dict({"0.weight": new[0]})


def test_grads_follow_parameters_and_zero_grad():
    model = nn.MLP([3, 4, 2], seed=0)
    assert all(not np.any(g) for g in model.grads())  # zeros before any backward
    loss = nn.mse_loss(model(np.ones((2, 3))), np.zeros((2, 2)))
    loss.backward()
    grads = model.grads()
    assert [g.shape for g in grads] == [p.shape for p in model.parameters()]
    assert all(np.any(g) for g in grads)
    model.zero_grad()
    assert all(not np.any(g) for g in model.grads())


def test_same_seed_same_model_on_every_backend(backend):
    with B.using("numpy"):
        host = nn.MLP([5, 4, 3], "tanh", seed=123).parameters()
    model = nn.MLP([5, 4, 3], "tanh", seed=123)
    for a, b in zip(model.parameters(), host, strict=True):
        np.testing.assert_array_equal(B.to_numpy(a), b)
    assert not np.array_equal(host[0][:, :4], B.to_numpy(nn.MLP([5, 4, 3], seed=124).parameters()[0])[:, :4])


def test_init_schemes_in_layers():
    lin = nn.Linear(200, 100, init="he_normal", seed=0)
    assert np.std(lin.weight.data) == pytest.approx(np.sqrt(2 / 200), rel=0.05)
    assert not np.any(lin.bias.data)
    torch_default = nn.Linear(50, 10, seed=0)  # U(±1/sqrt(in)) for weight and bias
    assert np.max(np.abs(torch_default.weight.data)) <= 1 / np.sqrt(50)
    assert np.any(torch_default.bias.data)
    conv = nn.Conv2d(3, 8, 3, init="xavier_uniform", seed=0)
    assert np.max(np.abs(conv.weight.data)) <= np.sqrt(6 / (27 + 72))


def test_bad_inputs_get_clear_errors():
    with pytest.raises(ValueError, match=r"Linear\(3, 2\) got input of shape \(2, 4\)"):
        nn.Linear(3, 2, seed=0)(np.ones((2, 4)))
    with pytest.raises(TypeError, match="float32 weights"):
        nn.Linear(3, 2, seed=0, dtype="float32")(np.ones((2, 3)))
    with pytest.raises(ValueError, match="input channels"):
        nn.Conv2d(3, 2, 3, seed=0)(np.ones((1, 2, 5, 5)))
    with pytest.raises(ValueError, match=r"\(N, T, 3\)"):
        nn.LSTM(3, 2, seed=0)(np.ones((2, 3)))
    with pytest.raises(ValueError, match="unknown activation"):
        nn.MLP([2, 2, 2], "swish")
    with pytest.raises(ValueError, match="unknown initialiser"):
        nn.Linear(2, 2, init="glorious")
    with pytest.raises(ValueError, match="in_features"):
        nn.Linear(0, 2)


# ============================================================================ training end to end


def _problem(n=64, seed=0):
    r = np.random.default_rng(seed)
    X = r.normal(size=(n, 4))
    y = (X[:, 0] * X[:, 1] + np.sin(2 * X[:, 2]) > 0).astype(np.int64) + (X[:, 3] > 1)
    return X, y


def test_mlp_with_gdcourse_adam_follows_torch_adam():
    """Same model, same data, Adam on both sides: the loss trajectories agree to ~1e-10 in float64."""
    X, y = _problem()
    model = nn.MLP([4, 16, 3], "tanh", seed=0)
    tmodel = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3)).double()
    _copy_weights(model, tmodel)
    opt = optim.adam(lr=0.01)
    state = opt.init(model.parameters())
    topt = torch.optim.Adam(tmodel.parameters(), lr=0.01)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    ours, theirs = [], []
    for _ in range(25):
        model.zero_grad()
        loss = nn.softmax_cross_entropy(model(X), y)
        loss.backward()
        params, state = opt.step(model.parameters(), model.grads(), state)
        model.set_parameters(params)
        ours.append(loss.item())
        topt.zero_grad()
        loss_t = F.cross_entropy(tmodel(Xt), yt)
        loss_t.backward()
        topt.step()
        theirs.append(loss_t.item())
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=0)
    for p, (_, tp) in zip(model.parameters(), tmodel.named_parameters(), strict=True):
        np.testing.assert_allclose(p, tp.detach().numpy(), rtol=1e-9, atol=1e-12)


def test_mlp_trains_to_low_loss_with_minibatches(backend):
    X, y = _problem(n=128, seed=1)
    model = nn.MLP([4, 32, 3], "relu", seed=0, dtype="float32")
    opt = optim.adam(lr=0.02)
    state = opt.init(model.parameters())
    Xd, yd = B.asarray(X, dtype="float32"), B.asarray(y)
    order = np.random.default_rng(0)
    first = None
    for _ in range(75):  # 75 epochs of 4 minibatches of 32: 300 Adam steps
        perm = order.permutation(len(X))
        for k in range(0, len(X), 32):
            idx = B.asarray(perm[k : k + 32])
            xb, yb = B.current().xp.take(Xd, idx, axis=0), B.current().xp.take(yd, idx, axis=0)
            model.zero_grad()
            loss = nn.softmax_cross_entropy(model(xb), yb)
            loss.backward()
            params, state = opt.step(model.parameters(), model.grads(), state)
            model.set_parameters(params)
            first = loss.item() if first is None else first
    logits = model(Xd)
    final = nn.softmax_cross_entropy(logits, yd).item()
    accuracy = np.mean(np.argmax(B.to_numpy(logits.data), axis=1) == y)
    assert first > 0.9 and final < 0.15 and accuracy > 0.97, (first, final, accuracy)
