"""Gradient clipping against torch.nn.utils.clip_grad_norm_, and the clipped optimizer against torch's loop.

torch divides by ``norm + 1e-6`` where gdcourse divides by ``norm`` (the formula of the docstring).  The
tight comparisons therefore give torch the threshold ``c (norm + 1e-6) / norm``, for which torch's
factor equals ``c / norm`` (``torch_clip_`` below); one test also compares with plain torch, to the
relative ``1e-6 / norm`` this difference makes.  The clipped optimizer is compared, step by step, with
torch's ``clip_grad_norm_`` then ``optimizer.step()`` on the same MLP and data, gradients computed by
each library on its own parameters (a closed loop).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import require

from gdcourse import backend as B
from gdcourse import clipping, nn, optim, schedules
from gdcourse.clipping import clip_grad_norm, clipped
from gdcourse.train import CheckpointMismatchError, Trainer

torch = require("torch")

F64 = {"rtol": 1e-12, "atol": 1e-14}
F32 = {"rtol": 2e-6, "atol": 1e-7}
TOL = {"float64": F64, "float32": F32}
SHAPES = [[(5,)], [(3, 4), (4,), ()], [(2, 3, 4), (7,), (1, 1)], [(40, 30), (30,), (10, 40), (10,)]]
FACTORS = [0.05, 0.5, 0.999, 1.001, 2.0, 100.0]  # max_norm / norm: below and above the norm


def torch_clip_(tensors, max_norm):
    """torch.nn.utils.clip_grad_norm_ with the threshold that cancels torch's ``+ 1e-6``; returns its norm."""
    norm = float(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(t.grad) for t in tensors])))
    adjusted = max_norm * (norm + 1e-6) / norm if norm > 0 else max_norm
    return float(torch.nn.utils.clip_grad_norm_(tensors, adjusted))


def random_grads(shapes, seed, dtype, scale=3.0):
    rng = np.random.default_rng(seed)
    return [np.asarray(scale * rng.normal(size=s), dtype=dtype) for s in shapes]


def as_torch(host):
    ts = [torch.zeros(g.shape, dtype=torch.from_numpy(g).dtype, requires_grad=True) for g in host]
    for t, g in zip(ts, host, strict=True):
        t.grad = torch.from_numpy(g.copy())
    return ts


# ----------------------------------------------------------------------------------------------
# clip_grad_norm
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shapes", SHAPES, ids=lambda s: "+".join(map(str, s)))
def test_clip_grad_norm_matches_torch(shapes, dtype):
    worst = 0.0
    for seed, factor in enumerate(FACTORS):
        host = random_grads(shapes, seed, dtype)
        ts = as_torch(host)
        their_norm = float(torch.nn.utils.get_total_norm([t.grad for t in ts]))
        max_norm = factor * their_norm
        ours, norm = clip_grad_norm([B.asarray(g, dtype=dtype) for g in host], max_norm)
        torch_clip_(ts, max_norm)
        assert math.isclose(norm, their_norm, rel_tol=TOL[dtype]["rtol"])
        for a, t in zip(ours, ts, strict=True):
            assert B.dtype_of(a) == dtype and a.shape == tuple(t.shape)
            np.testing.assert_allclose(B.to_numpy(a), t.grad.numpy(), **TOL[dtype])
            worst = max(worst, float(np.max(np.abs(B.to_numpy(a) - t.grad.numpy()), initial=0.0)))
        clipped_norm = clipping.global_norm(ours)
        assert math.isclose(clipped_norm, min(norm, max_norm), rel_tol=10 * TOL[dtype]["rtol"])
    print(f"clip_grad_norm vs torch ({dtype}, {shapes}): max |difference| = {worst:.1e}")


def test_plain_torch_differs_only_by_its_epsilon():
    host = random_grads(SHAPES[1], 0, "float64", scale=0.01)  # a small norm makes torch's 1e-6 visible
    ts = as_torch(host)
    norm = float(torch.nn.utils.get_total_norm([t.grad for t in ts]))
    ours, _ = clip_grad_norm(host, 0.5 * norm)
    torch.nn.utils.clip_grad_norm_(ts, 0.5 * norm)
    for a, t in zip(ours, ts, strict=True):
        # torch's factor c / (norm + 1e-6) is ours times norm / (norm + 1e-6)
        np.testing.assert_allclose(t.grad.numpy(), a * norm / (norm + 1e-6), rtol=1e-12)
        assert not np.allclose(t.grad.numpy(), a, rtol=1e-9, atol=0)


def test_clipping_keeps_the_direction_and_caps_the_norm():
    grads = [np.array([3.0, 0.0]), np.array([[0.0], [4.0]])]
    out, norm = clip_grad_norm(grads, 1.0)
    assert norm == 5.0
    np.testing.assert_allclose(out[0], [0.6, 0.0], rtol=1e-15)
    np.testing.assert_allclose(out[1], [[0.0], [0.8]], rtol=1e-15)
    same, norm = clip_grad_norm(grads, 5.0)  # at the threshold: unchanged
    assert norm == 5.0 and all(np.array_equal(a, b) for a, b in zip(same, grads, strict=True))


def test_nothing_passed_in_is_modified_and_new_arrays_come_back():
    grads = [np.array([30.0, 40.0]), np.array([1.0])]
    copies = [g.copy() for g in grads]
    for max_norm in (1.0, 1e6):
        out, _ = clip_grad_norm(grads, max_norm)
        assert all(a is not g and not np.shares_memory(a, g) for a, g in zip(out, grads, strict=True))
    for g, c in zip(grads, copies, strict=True):
        np.testing.assert_array_equal(g, c)


def test_one_array_tuples_zero_and_float32():
    out, norm = clip_grad_norm(np.array([6.0, 8.0]), 5.0)
    assert isinstance(out, list) and len(out) == 1 and norm == 10.0
    np.testing.assert_allclose(out[0], [3.0, 4.0])
    out, norm = clip_grad_norm((np.zeros(3), np.zeros((2, 2))), 1.0)
    assert norm == 0.0 and all(not np.any(g) for g in out)
    g32 = np.array([3e3, 4e3], dtype=np.float32)
    out, norm = clip_grad_norm([g32], 1.0)
    assert out[0].dtype == np.float32 and norm == pytest.approx(5e3)


def test_clipping_on_another_backend(backend):
    host = random_grads([(3, 4), (4,)], 1, "float64")
    grads = [B.asarray(g) for g in host]
    out, norm = clip_grad_norm(grads, 1.0)
    ref, ref_norm = clip_grad_norm(host, 1.0)
    assert norm == pytest.approx(ref_norm, rel=1e-14)
    for a, r in zip(out, ref, strict=True):
        assert type(a) is type(grads[0])
        np.testing.assert_allclose(B.to_numpy(a), r, rtol=1e-14)
    huge = [B.asarray(np.array([3e25, 4e25]), dtype="float32"), B.asarray(np.array([np.nan]), dtype="float32")]
    assert clipping.global_norm(huge[0]) == pytest.approx(5e25, rel=1e-6)
    assert math.isnan(clip_grad_norm(huge, 1.0)[1])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_non_finite_norm_leaves_the_gradients_and_is_returned(bad):
    grads = [np.array([1.0, bad]), np.array([100.0])]
    out, norm = clip_grad_norm(grads, 1.0)
    assert math.isnan(norm) if np.isnan(bad) else norm == math.inf
    np.testing.assert_array_equal(out[0], grads[0])
    np.testing.assert_array_equal(out[1], grads[1])  # not clipped to 0 or NaN


def test_huge_finite_norms_do_not_overflow_in_the_sum():
    out, norm = clip_grad_norm([np.array([3e200]), np.array([4e200])], 1.0)
    assert norm == pytest.approx(5e200)
    np.testing.assert_allclose(np.concatenate(out), [0.6, 0.8])


@pytest.mark.parametrize(
    ("max_norm", "error"),
    [
        (0, ValueError),
        (-1.0, ValueError),
        (np.nan, ValueError),
        (np.inf, ValueError),
        ("1", TypeError),
        (None, TypeError),
        (True, TypeError),
        ([1.0], TypeError),
    ],
)
def test_bad_max_norm_is_named(max_norm, error):
    with pytest.raises(error, match="max_norm"):
        clip_grad_norm([np.ones(2)], max_norm)
    with pytest.raises(error, match="max_norm"):
        clipped(optim.sgd(lr=0.1), max_norm)


def test_bad_gradients_are_named():
    with pytest.raises(TypeError, match="grads"):
        clip_grad_norm([[1.0, 2.0]], 1.0)
    with pytest.raises(TypeError, match="grads"):
        clip_grad_norm(3.0, 1.0)
    with pytest.raises(ValueError, match="grads"):
        clip_grad_norm([], 1.0)
    with pytest.raises(TypeError, match=r"grads\[1\].*dtype"):
        clip_grad_norm([np.ones(2), np.ones(2, dtype=int)], 1.0)
    with pytest.raises(TypeError, match="grads"):
        clip_grad_norm([np.ones(2), torch.ones(2, dtype=torch.float64)], 1.0)


def test_an_optimizer_without_init_or_step_is_refused():
    class NoStep:
        def init(self, params):
            return None

    for bad in (None, "adam", optim.adam, NoStep()):
        with pytest.raises(TypeError, match="optimizer"):
            clipped(bad, 1.0)


# ----------------------------------------------------------------------------------------------
# The clipped optimizer against torch's loop, on an MLP
# ----------------------------------------------------------------------------------------------


def mlp_problem(dtype, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(32, 4)).astype(dtype)
    y = (3 * np.sin(X[:, :2] * 2) + rng.normal(size=(32, 2))).astype(dtype)
    ours = nn.MLP([4, 16, 2], activation="tanh", seed=seed, dtype=dtype)
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 2))
    theirs = theirs.to(getattr(torch, dtype))
    with torch.no_grad():
        for (_, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
            tp.copy_(torch.from_numpy(np.array(B.to_numpy(p))))
    return X, y, ours, theirs


def run_pair(make_ours, make_theirs, max_norm, dtype, steps=8):
    """Both loops on minibatches of 8; returns the largest parameter difference and the norms seen."""
    X, y, ours, theirs = mlp_problem(dtype)
    opt = clipped(make_ours(), max_norm)
    state = opt.init(ours.parameters())
    topt = make_theirs(theirs.parameters())
    worst, norms = 0.0, []
    for k in range(steps):
        idx = slice(8 * (k % 4), 8 * (k % 4) + 8)
        ours.zero_grad()
        nn.mse_loss(ours(X[idx]), y[idx]).backward()
        grads = ours.grads()
        norms.append(clipping.global_norm(grads))
        params, state = opt.step(ours.parameters(), grads, state)
        ours.set_parameters(params)
        topt.zero_grad()
        torch.nn.functional.mse_loss(theirs(torch.from_numpy(X[idx])), torch.from_numpy(y[idx])).backward()
        torch_clip_(list(theirs.parameters()), max_norm)
        topt.step()
        for (name, p), tp in zip(ours.named_parameters(), theirs.parameters(), strict=True):
            np.testing.assert_allclose(B.to_numpy(p), tp.detach().numpy(), **TOL[dtype], err_msg=f"{name}, step {k}")
            worst = max(worst, float(np.max(np.abs(B.to_numpy(p) - tp.detach().numpy()))))
    return worst, norms


RULES = {
    "sgd": (lambda: optim.sgd(lr=0.05, momentum=0.9), lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9)),
    "adam": (lambda: optim.adam(lr=0.01), lambda ps: torch.optim.Adam(ps, lr=0.01)),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("rule", list(RULES))
@pytest.mark.parametrize("max_norm", [0.5, 3.0, 1e3])
def test_clipped_optimizer_follows_torch(rule, max_norm, dtype):
    worst, norms = run_pair(*RULES[rule], max_norm, dtype)
    if max_norm == 3.0:  # the interesting case: some steps clipped, some not
        assert min(norms) < max_norm < max(norms), norms
    print(f"clipped({rule}), max_norm={max_norm}, {dtype}: max |param difference| over 8 steps = {worst:.1e}")


def test_clipped_keeps_the_wrapped_rules_interface():
    inner = optim.adam(lr=schedules.cosine(0.1, T_max=10), eps=1e-7)
    opt = clipped(inner, 2.0)
    assert opt.name == "clipped(adam)" and opt.lr is inner.lr and opt.lr_at(3) == inner.lr_at(3)
    assert opt.hyperparams == {**inner.hyperparams, "max_norm": 2.0}
    assert repr(opt) == f"clipped({inner!r}, max_norm=2.0)"
    assert not opt.needs_lookahead
    theta = np.array([1.0, 2.0])
    state = opt.init(theta)
    assert opt.lookahead(theta, state) is theta
    nest = clipped(optim.nesterov(lr=0.1, momentum=0.9), 1.0)
    s = nest.init(theta)
    _, s = nest.step(theta, np.array([10.0, 0.0]), s)
    assert nest.needs_lookahead
    np.testing.assert_allclose(nest.lookahead(theta, s), optim.nesterov(lr=0.1, momentum=0.9).lookahead(theta, s))


def test_one_array_tuples_and_in_place_steps_agree():
    opt = clipped(optim.sgd(lr=0.1, momentum=0.5), 1.0)
    grads = (np.array([30.0, 40.0]), np.array([0.0]))
    params = (np.array([1.0, 1.0]), np.array([2.0]))
    new, state = opt.step(params, grads, opt.init(params))
    assert isinstance(new, tuple)
    np.testing.assert_allclose(new[0], [0.94, 0.92])
    in_place = (params[0].copy(), params[1].copy())
    same, state2 = opt.step_in_place(in_place, grads, opt.init(in_place))
    assert same[0] is in_place[0]
    np.testing.assert_array_equal(same[0], new[0])
    assert state2.t == state.t == 1
    one, _ = opt.step(np.array([1.0, 1.0]), np.array([30.0, 40.0]), opt.init(np.ones(2)))
    np.testing.assert_allclose(one, [0.94, 0.92])


def test_plain_sgd_steps_have_length_lr_times_the_clipped_norm():
    """Closed form: for plain SGD, ||θ⁺ - θ|| = η min(||g||, c) at every step."""
    rng = np.random.default_rng(3)
    theta = [rng.normal(size=(4, 3)), rng.normal(size=(3,))]
    opt = clipped(optim.sgd(lr=0.2), 1.5)
    state = opt.init(theta)
    for k in range(6):
        grads = [(10.0 ** (k - 2)) * rng.normal(size=t.shape) for t in theta]
        new, state = opt.step(theta, grads, state)
        step = clipping.global_norm([a - b for a, b in zip(new, theta, strict=True)])
        assert step == pytest.approx(0.2 * min(clipping.global_norm(grads), 1.5), rel=1e-12)
        theta = new


# ----------------------------------------------------------------------------------------------
# In gdcourse.train.Trainer, with checkpoints
# ----------------------------------------------------------------------------------------------


def trainer_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(48, 3))
    y = 5 * X[:, :1] * X[:, 1:2] + X[:, 2:]
    return X, y


def make_trainer(opt, **kwargs):
    return Trainer(nn.MLP([3, 8, 1], activation="tanh", seed=0), opt, "mse", batch_size=16, **kwargs)


def test_trainer_fits_with_a_clipped_optimizer():
    X, y = trainer_data()
    h = make_trainer(clipped(optim.adam(lr=0.02), 1.0)).fit(X, y, epochs=6)
    assert h.train_loss[-1] < h.train_loss[0] and h.stop_reason == "max_epochs"
    # a threshold never reached changes nothing: the same run, bit for bit
    never = make_trainer(clipped(optim.adam(lr=0.02), 1e9))
    plain = make_trainer(optim.adam(lr=0.02))
    never.fit(X, y, epochs=3)
    plain.fit(X, y, epochs=3)
    for a, b in zip(never.model.parameters(), plain.model.parameters(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_trainer_full_batch_sgd_steps_are_capped():
    X, y = trainer_data()
    trainer = Trainer(
        nn.MLP([3, 8, 1], activation="tanh", seed=0), clipped(optim.sgd(lr=0.1), 0.5), "mse", batch_size=len(X)
    )
    for epoch in range(1, 5):
        before = trainer.model.parameters()
        trainer.fit(X, y, epochs=epoch)
        moved = clipping.global_norm([a - b for a, b in zip(trainer.model.parameters(), before, strict=True)])
        assert moved == pytest.approx(0.1 * min(trainer.history.step_grad_norm[-1], 0.5), rel=1e-10)
    assert max(trainer.history.step_grad_norm) > 0.5  # clipping did act


def test_checkpoints_of_a_clipped_run_resume_exactly(tmp_path):
    X, y = trainer_data()
    whole = make_trainer(clipped(optim.adam(lr=0.02), 1.0))
    whole.fit(X, y, epochs=4)
    part = make_trainer(clipped(optim.adam(lr=0.02), 1.0))
    part.fit(X, y, epochs=2, checkpoint=tmp_path / "c.npz")
    assert part.hyperparameters["max_norm"] == 1.0 and part.hyperparameters["optimizer"] == "clipped(adam)"
    resumed = make_trainer(clipped(optim.adam(lr=0.02), 1.0))
    resumed.load_checkpoint(tmp_path / "c.npz")
    resumed.fit(X, y, epochs=4)
    for a, b in zip(resumed.model.parameters(), whole.model.parameters(), strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(CheckpointMismatchError, match="max_norm: checkpoint 1.0, now 2.0"):
        make_trainer(clipped(optim.adam(lr=0.02), 2.0)).load_checkpoint(tmp_path / "c.npz")
    with pytest.raises(CheckpointMismatchError, match="optimizer"):
        make_trainer(optim.adam(lr=0.02)).load_checkpoint(tmp_path / "c.npz")


def test_a_plateau_rate_is_seen_through_the_wrapper():
    X, y = trainer_data()
    plateau = schedules.ReduceOnPlateau(0.05, patience=0)
    trainer = make_trainer(clipped(optim.sgd(lr=plateau), 1.0))
    assert trainer._schedule is plateau
    trainer.fit(X, y, epochs=2)
    assert trainer.history.lr[0] == 0.05


def test_float32_gradients_whose_squares_overflow_are_still_clipped():
    g = np.array([3e25, 4e25], dtype=np.float32)  # finite, but g**2 overflows float32
    out, norm = clip_grad_norm([g, np.ones(2, dtype=np.float32)], 1.0)
    assert norm == pytest.approx(5e25, rel=1e-6)
    assert out[0].dtype == np.float32
    np.testing.assert_allclose(out[0], [0.6, 0.8], rtol=1e-6)
