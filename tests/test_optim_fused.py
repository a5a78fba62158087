"""The fast path of gdcourse.optim_fused equals the readable rules of gdcourse.optim, step by step.

On NumPy the fused kernels perform the same floating-point operations in the same order as the
readable rule, so trajectories are compared bit for bit (which implies the float32 rtol 1e-6 asked
of the fast path).  Chunking is exercised with a small CHUNK, so arrays of a few hundred elements
cross several chunk boundaries; one test uses the real CHUNK.  On array_api_strict the fast path
does not apply and results are identical to the readable rule, and the GPU kernel's body (what
``cupy.fuse`` compiles) is run there on device arrays and matches the rule within float32 rtol 1e-6; on
CuPy (GDCOURSE_TEST_BACKENDS) the fused GPU kernel is compared with a tolerance (the GPU compiler may
contract a*b+c into an FMA).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from gdcourse import backend as B
from gdcourse import optim, optim_fused, schedules

SMALL_CHUNK = 64
# sizes around the chunk: several chunks and a ragged tail, exactly one chunk, less than one, 0-d
SHAPES = [(2 * SMALL_CHUNK + 5,), (3, SMALL_CHUNK // 2 + 3), (SMALL_CHUNK,), (7,), ()]
STEPS = 12


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(optim_fused, "CHUNK", SMALL_CHUNK)


def _cases():
    cases = []
    for wd, ams, maximize, decoupled in itertools.product((0.0, 0.1), (False, True), (False, True), (False, True)):
        kw = {"weight_decay": wd, "amsgrad": ams, "maximize": maximize, "decoupled_weight_decay": decoupled}
        cases.append(("adam", {"lr": 0.05, "betas": (0.8, 0.95), **kw}))
    for mom, damp, nest, wd, maximize in itertools.product(
        (0.0, 0.9), (0.0, 0.3), (False, True), (0.0, 0.05), (False, True)
    ):
        if nest and (mom == 0 or damp != 0):
            continue
        kw = {"momentum": mom, "dampening": damp, "nesterov": nest, "weight_decay": wd, "maximize": maximize}
        cases.append(("sgd", {"lr": 0.05, **kw}))
    for centered, mom, wd, maximize in itertools.product((False, True), (0.0, 0.5), (0.0, 0.1), (False, True)):
        kw = {"centered": centered, "momentum": mom, "weight_decay": wd, "maximize": maximize}
        cases.append(("rmsprop", {"lr": 0.01, "alpha": 0.9, **kw}))
    # schedules: a lambda and a gdcourse schedule, evaluated at state.t
    cases.append(("adam", {"lr": lambda step: 0.05 / (1 + step)}))
    cases.append(("sgd", {"lr": schedules.cosine(0.1, T_max=STEPS), "momentum": 0.9, "nesterov": True}))
    cases.append(("rmsprop", {"lr": schedules.step_decay(0.02, step_size=3, gamma=0.5), "centered": True}))
    return cases


CASES = _cases()


def _case_id(case):
    name, kw = case
    flags = [f"{k}={v}" for k, v in kw.items() if k not in ("lr", "betas", "alpha") and v not in (0.0, False)]
    lr = kw["lr"]
    return "-".join([name, *flags, *([] if isinstance(lr, float) else ["schedule"])])


class Problem:
    """Elementwise quadratic with fixed per-step noise; the gradient is taken at each side's own params."""

    def __init__(self, shapes, dtype, seed=0, steps=STEPS):
        rng = np.random.default_rng(seed)
        self.dtype = dtype
        self.theta0 = [rng.normal(size=s).astype(dtype) for s in shapes]
        self.h = [rng.uniform(0.1, 2.0, size=s).astype(dtype) for s in shapes]
        self.c = [rng.normal(size=s).astype(dtype) for s in shapes]
        self.noise = [[(0.1 * rng.normal(size=s)).astype(dtype) for s in shapes] for _ in range(steps)]

    def params(self):
        return [np.array(t, dtype=self.dtype) for t in self.theta0]  # 0-d stays a 0-d ndarray

    def grads(self, thetas, k):
        return [
            np.asarray(h * (np.asarray(th) - c) + n, dtype=self.dtype)
            for th, h, c, n in zip(thetas, self.h, self.c, self.noise[k], strict=True)
        ]


def run(opt, problem, steps=STEPS, move=np.asarray):
    """Host copies of params and slots after every step."""
    params = [move(p) for p in problem.params()]
    state = opt.init(params)
    trajectory = []
    for k in range(steps):
        host = [B.to_numpy(p) for p in params]
        grads = [move(g) for g in problem.grads(host, k)]
        params, state = opt.step(params, grads, state)
        slots = {name: [np.array(B.to_numpy(a)) for a in value] for name, value in state.slots.items()}
        trajectory.append(([np.array(B.to_numpy(p)) for p in params], slots))
    return trajectory, params, state


def assert_equal_trajectories(a, b, label=""):
    for k, ((pa, sa), (pb, sb)) in enumerate(zip(a, b, strict=True)):
        for i, (x, y) in enumerate(zip(pa, pb, strict=True)):
            assert x.dtype == y.dtype and x.shape == y.shape, f"{label}: step {k + 1}, params[{i}]"
            np.testing.assert_array_equal(x, y, err_msg=f"{label}: step {k + 1}, params[{i}]")
        assert sa.keys() == sb.keys()
        for name in sa:
            for i, (x, y) in enumerate(zip(sa[name], sb[name], strict=True)):
                np.testing.assert_array_equal(x, y, err_msg=f"{label}: step {k + 1}, slot {name}[{i}]")


# ----------------------------------------------------------------------------------------------
# NumPy: the fused path equals the readable rule bit for bit, for every option
# ----------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("small_chunks")
@pytest.mark.parametrize("case", CASES, ids=_case_id)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fused_equals_reference(case, dtype):
    name, kw = case
    problem = Problem(SHAPES, dtype, seed=len(CASES))
    fast = optim.get(name, fused=True, **kw)
    assert all(fast._fused.applies(p, p, fast.init(p).slots) for p in problem.params()), "fast path not taken"
    reference, _, _ = run(optim.get(name, fused=False, **kw), problem)
    fused, params, _ = run(fast, problem)
    assert_equal_trajectories(fused, reference, _case_id(case))
    assert all(type(p) is np.ndarray and p.dtype == dtype for p in params)
    assert params[-1].shape == ()  # a 0-d parameter stays a 0-d array


@pytest.mark.usefixtures("small_chunks")
@pytest.mark.parametrize("case", CASES[::3], ids=_case_id)
def test_gpu_kernel_body_equals_reference_on_numpy(case):
    """The elementwise function that cupy.fuse compiles, run eagerly by NumPy, is the same rule."""
    name, kw = case
    problem = Problem(SHAPES[:2], "float64", seed=3)
    reference, _, _ = run(optim.get(name, fused=False, **kw), problem)
    opt = optim.get(name, fused=True, **kw)
    rule, body = opt._fused, opt._fused.body(np)
    params = problem.params()
    state = opt.init(params)
    for k in range(STEPS):
        grads = problem.grads(params, k)
        t, lr = state.t + 1, opt.lr_at(state.t)
        new_params, new_slots = [], {n: [] for n in rule.slots}
        for i, (theta, g) in enumerate(zip(params, grads, strict=True)):
            c = tuple(theta.dtype.type(x) for x in rule.constants(t, lr))
            out = body(theta, g, *(state.slots[n][i] for n in rule.slots), *c)
            new_params.append(out[0])
            for n, a in zip(rule.slots, out[1:], strict=True):
                new_slots[n].append(a)
        params, state = new_params, optim.OptState(t, new_slots)
        for x, y in zip(params, reference[k][0], strict=True):
            np.testing.assert_array_equal(x, y, err_msg=f"step {k + 1}")


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_gpu_kernel_body_matches_reference_on_every_backend(backend, case):
    """The kernel body cupy.fuse compiles, run on the backend's own arrays (array_api_strict:device1 here:
    no hidden NumPy), stays within float32 rtol 1e-6 of the readable rule over 12 steps."""
    name, kw = case
    problem = Problem(SHAPES[:4], "float32", seed=11)
    reference, _, _ = run(optim.get(name, fused=False, **kw), problem, move=B.asarray)
    opt = optim.get(name, fused=True, **kw)
    rule = opt._fused
    params = [B.asarray(p) for p in problem.params()]
    body = rule.body(B.array_namespace(params[0]))
    state = opt.init(params)
    for k in range(STEPS):
        grads = [B.asarray(g) for g in problem.grads([B.to_numpy(p) for p in params], k)]
        t, lr = state.t + 1, opt.lr_at(state.t)
        c = rule.constants(t, lr)  # Python floats: the arrays keep float32, as in the readable rule
        outs = [body(theta, g, *(state.slots[n][i] for n in rule.slots), *c) for i, (theta, g) in
                enumerate(zip(params, grads, strict=True))]
        params = [out[0] for out in outs]
        state = optim.OptState(t, {n: [out[1 + j] for out in outs] for j, n in enumerate(rule.slots)})
        for i, (x, y) in enumerate(zip(params, reference[k][0], strict=True)):
            assert B.dtype_of(x) == "float32"
            np.testing.assert_allclose(B.to_numpy(x), y, rtol=1e-6, atol=1e-7, err_msg=f"step {k + 1}, params[{i}]")
        for n in rule.slots:
            for i, (x, y) in enumerate(zip(state.slots[n], reference[k][1][n], strict=True)):
                np.testing.assert_allclose(B.to_numpy(x), y, rtol=1e-6, atol=1e-7, err_msg=f"step {k + 1}, {n}[{i}]")


def test_aliases_and_real_chunk_size(monkeypatch):
    """adamw/amsgrad go through adam; with fused=None the fast path is chosen by size (threshold lowered)."""
    monkeypatch.setattr(optim_fused, "FUSED_MIN_SIZE", 1000)
    n = 2 * optim_fused.CHUNK + 3
    problem = Problem([(n,), (10,)], "float32", steps=4)
    for make in (lambda: optim.adamw(lr=0.01), lambda: optim.amsgrad(lr=0.01), lambda: optim.adam(lr=0.01)):
        opt = make()
        big, small = problem.params()
        s = opt.init([big, small]).slots
        assert opt._fused.applies(big, big, {k: v[0] for k, v in s.items()})
        assert not opt._fused.applies(small, small, {k: v[1] for k, v in s.items()})  # below the threshold
        reference = optim.adam(lr=0.01, **opt.hyperparams, fused=False)
        assert_equal_trajectories(run(opt, problem, 4)[0], run(reference, problem, 4)[0], repr(opt))


# ----------------------------------------------------------------------------------------------
# Other backends
# ----------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("small_chunks")
@pytest.mark.parametrize("name, kw", [("adam", {"amsgrad": True}), ("sgd", {"momentum": 0.9}), ("rmsprop", {})])
def test_every_backend(backend, name, kw):
    """array_api_strict falls back to the readable rule; CuPy runs the GPU kernel; NumPy the chunks."""
    problem = Problem(SHAPES[:3], "float32", seed=5)

    def move(x):
        return B.asarray(x)

    fused, params, state = run(optim.get(name, lr=0.01, fused=True, **kw), problem, move=move)
    reference, _, _ = run(optim.get(name, lr=0.01, fused=False, **kw), problem, move=move)
    assert type(params[0]) is type(move(problem.params()[0]))
    if backend.name == "cupy":
        for (pa, _), (pb, _) in zip(fused, reference, strict=True):
            for x, y in zip(pa, pb, strict=True):
                np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-7)
    else:
        assert_equal_trajectories(fused, reference, backend.name)
    host_reference, _, _ = run(optim.get(name, lr=0.01, fused=False, **kw), problem)
    if backend.name != "cupy":
        assert_equal_trajectories(fused, host_reference, f"{backend.name} vs numpy")
    if backend.name == "array_api_strict":
        opt = optim.get(name, lr=0.01, fused=True, **kw)
        p = move(problem.params()[0])
        assert not opt._fused.applies(p, p, {k: v for k, v in opt.init(p).slots.items()})


# ----------------------------------------------------------------------------------------------
# step modifies nothing the caller holds; step_in_place writes into the caller's arrays
# ----------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("small_chunks")
@pytest.mark.parametrize(
    "name, kw",
    [("adam", {"amsgrad": True}), ("sgd", {"momentum": 0.9}), ("rmsprop", {"centered": True, "momentum": 0.5})],
)
def test_no_mutation_of_params_grads_states_or_history(name, kw):
    opt = optim.get(name, lr=0.05, fused=True, **kw)
    problem = Problem(SHAPES, "float32")
    params = problem.params()
    state = opt.init(params)
    kept = []  # every iterate, its grads, its state, and a view, as a history would hold them
    for k in range(STEPS):
        grads = problem.grads(params, k)
        snapshot = (
            [p.copy() for p in params],
            [g.copy() for g in grads],
            {n: [a.copy() for a in v] for n, v in state.slots.items()},
        )
        kept.append((params, grads, state, params[0][1:], snapshot))
        params, state = opt.step(params, grads, state)
    for params_k, grads_k, state_k, view_k, (p_copy, g_copy, s_copy) in kept:
        for a, b in zip(params_k + grads_k, p_copy + g_copy, strict=True):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(view_k, p_copy[0][1:])
        for n in s_copy:
            for a, b in zip(state_k.slots[n], s_copy[n], strict=True):
                np.testing.assert_array_equal(a, b)


@pytest.mark.usefixtures("small_chunks")
def test_old_state_stays_valid_for_branching():
    opt = optim.adam(lr=0.05, fused=True)
    problem = Problem(SHAPES, "float64")
    params = problem.params()
    state = opt.init(params)
    grads = problem.grads(params, 0)
    p1, s1 = opt.step(params, grads, state)
    branches = [opt.step(p1, problem.grads(p1, 1), s1) for _ in range(3)]  # the same step three times
    p, s = branches[0]
    for k in range(2, STEPS):  # go on from the first branch; the others must not change
        p, s = opt.step(p, problem.grads(p, k), s)
    for p, s in branches[1:]:
        for a, b in zip(p, branches[0][0], strict=True):
            np.testing.assert_array_equal(a, b)
        for n in s.slots:
            for a, b in zip(s.slots[n], branches[0][1].slots[n], strict=True):
                np.testing.assert_array_equal(a, b)


def run_in_place(opt, problem, steps=STEPS, move=np.asarray):
    """As :func:`run`, with ``step_in_place``; also checks every step writes into the same arrays."""
    params = [move(p) for p in problem.params()]
    state = opt.init(params)
    arrays = [id(a) for a in params] + [id(a) for v in state.slots.values() for a in v]
    trajectory = []
    for k in range(steps):
        host = [B.to_numpy(p) for p in params]
        grads = [move(g) for g in problem.grads(host, k)]
        params, state = opt.step_in_place(params, grads, state)
        assert [id(a) for a in params] + [id(a) for v in state.slots.values() for a in v] == arrays
        slots = {name: [np.array(B.to_numpy(a)) for a in value] for name, value in state.slots.items()}
        trajectory.append(([np.array(B.to_numpy(p)) for p in params], slots))
    return trajectory


@pytest.mark.usefixtures("small_chunks")
@pytest.mark.parametrize("case", CASES, ids=_case_id)
@pytest.mark.parametrize("fused", [True, False], ids=["fused", "readable"])
def test_step_in_place_equals_step_and_keeps_its_arrays(case, fused):
    name, kw = case
    problem = Problem(SHAPES, "float32", seed=3)
    reference, _, _ = run(optim.get(name, fused=False, **kw), problem)
    assert_equal_trajectories(run_in_place(optim.get(name, fused=fused, **kw), problem), reference, _case_id(case))


@pytest.mark.parametrize("name, kw", [("adam", {"amsgrad": True}), ("sgd", {"momentum": 0.9}), ("nesterov", {})])
def test_step_in_place_on_every_backend(backend, name, kw):
    problem = Problem(SHAPES[:2], "float64")
    reference, _, _ = run(optim.get(name, lr=0.05, **kw), problem, move=B.asarray)
    in_place = run_in_place(optim.get(name, lr=0.05, **kw), problem, move=B.asarray)
    if backend.name == "cupy":  # the GPU kernel may contract a*b + c into one FMA
        for (pa, _), (pb, _) in zip(in_place, reference, strict=True):
            for x, y in zip(pa, pb, strict=True):
                np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-14)
    else:
        assert_equal_trajectories(in_place, reference, f"{backend.name} {name}")


def test_a_single_array_and_tuples_keep_their_structure_in_place():
    opt = optim.sgd(lr=0.1, momentum=0.9, fused=True)
    one = np.ones(5)
    new, state = opt.step_in_place(one, np.ones(5), opt.init(one))
    assert new is one and np.all(one == 0.9)
    pair = (np.ones(3), np.ones(2))
    new, state = opt.step_in_place(pair, (np.ones(3), np.ones(2)), opt.init(pair))
    assert type(new) is tuple and all(a is b for a, b in zip(new, pair, strict=True))


def test_step_allocates_fresh_arrays_and_never_reuses_one_the_caller_holds():
    """The functional step has no hidden reuse: every iterate a loop keeps stays as it was."""
    opt = optim.adam(lr=0.01, fused=True)
    params = np.ones(1000, dtype=np.float32)
    state = opt.init(params)
    kept = []
    for _ in range(6):
        params, state = opt.step(params, np.full_like(params, 0.5), state)
        kept.append((params, params.copy()))
    assert len({id(p) for p, _ in kept}) == 6
    for p, copy in kept:
        np.testing.assert_array_equal(p, copy)


# ----------------------------------------------------------------------------------------------
# Structure and selection
# ----------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("small_chunks")
def test_structure_is_kept():
    problem = Problem(SHAPES[:2], "float32")
    opt = optim.sgd(lr=0.1, momentum=0.9, fused=True)
    for kind in (list, tuple):
        params = kind(problem.params())
        new, state = opt.step(params, kind(problem.grads(params, 0)), opt.init(params))
        assert type(new) is kind and type(state.b) is kind
    one = problem.params()[0]
    new, state = opt.step(one, np.ones_like(one), opt.init(one))
    assert type(new) is np.ndarray and new.shape == one.shape and type(state.b) is np.ndarray


def test_selection():
    big = np.zeros(optim_fused.FUSED_MIN_SIZE, dtype=np.float32)
    small = np.zeros(10, dtype=np.float32)
    auto, forced = optim.adam(), optim.adam(fused=True)
    s_big, s_small = auto.init(big).slots, auto.init(small).slots
    assert auto._fused.applies(big, big, s_big) and not auto._fused.applies(small, small, s_small)
    assert forced._fused.applies(small, small, s_small)
    assert optim.adam(fused=False)._fused is None and optim.sgd(fused=False)._fused is None
    # non-contiguous arrays and NumPy scalars take the readable rule (with the same results)
    t = np.zeros((4, 3), dtype=np.float32).T
    assert not forced._fused.applies(t, t, forced.init(t).slots)
    scalar = np.float32(1.0)
    assert not forced._fused.applies(scalar, scalar, forced.init(scalar).slots)
    new, _ = forced.step(t, np.ones_like(t), forced.init(t))
    ref, _ = optim.adam(fused=False).step(t, np.ones_like(t), forced.init(t))
    np.testing.assert_array_equal(new, ref)
    assert optim.get("rmsprop", fused=True)._fused is not None


@pytest.mark.parametrize("bad", ["yes", 1, 0.0])
def test_bad_fused_value(bad):
    for make in (optim.adam, optim.sgd, optim.rmsprop):
        with pytest.raises(TypeError, match="fused must be None"):
            make(fused=bad)


def test_nan_propagates_as_in_the_reference():
    params = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    grads = np.array([np.nan, 1.0, np.inf], dtype=np.float32)
    for fused in (True, False):
        opt = optim.sgd(lr=0.1, momentum=0.9, fused=fused)
        new, _ = opt.step(params, grads, opt.init(params))
        assert np.isnan(new[0]) and new[1] == np.float32(2.0) - np.float32(0.1) and np.isneginf(new[2])
