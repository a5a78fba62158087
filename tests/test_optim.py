"""Every update rule against torch.optim, step by step, on seeded random problems and hyperparameters.

The problem: for each parameter array (several shapes, a scalar included) an elementwise quadratic
J(θ) = ½ Σ h (θ - c)² plus fixed per-step gradient noise, so the gradient fed to each side is
computed at that side's own current parameters (a closed loop: any difference in an update shows
up in every later step).  With ``maximize=True`` the objective is flipped to a concave one so that
ascent converges too.

The live comparisons need torch (CI installs the CPU build).  Without it they are skipped and the
replays of ``tests/fixtures/torch_optim.npz`` (recorded by ``tests/fixtures/make_torch_fixtures.py``
for the same rules and options) stand in for them; those replays run with or without torch.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import json
import math
import pickle
import warnings

import numpy as np
import pytest
from conftest import optional, torch_fixture_script

from gdcourse import backend as B
from gdcourse import optim, schedules

torch = optional("torch")  # without it (outside CI) the fixture replays below stand in for the live comparisons

F64 = {"rtol": 1e-10, "atol": 1e-12}
F32 = {"rtol": 1e-5, "atol": 1e-6}
STEPS64 = 100
STEPS32 = 25

requires_torch = pytest.mark.skipif(
    torch is None,
    reason="torch is not installed: test_rule_matches_recorded_torch_trajectory replays the torch.optim "
    "trajectories recorded in tests/fixtures/torch_optim.npz for the same rules and options instead",
)

# ----------------------------------------------------------------------------------------------
# Problems, runners
# ----------------------------------------------------------------------------------------------


class Problem:
    def __init__(self, seed: int, steps: int, sign: float = 1.0):
        rng = np.random.default_rng(seed)
        self.shapes = [(int(rng.integers(1, 6)),), tuple(int(n) for n in rng.integers(1, 4, size=2)), ()]
        self.theta0 = [rng.normal(size=s) for s in self.shapes]
        self.h = [rng.uniform(0.1, 2.0, size=s) for s in self.shapes]
        self.c = [rng.normal(size=s) for s in self.shapes]
        self.noise = [[0.1 * rng.normal(size=s) for s in self.shapes] for _ in range(steps)]
        self.sign = sign

    def grads(self, thetas, k):
        return [self.sign * h * (th - c) + n for th, h, c, n in zip(thetas, self.h, self.c, self.noise[k], strict=True)]

    def loss(self, thetas):
        return self.sign * sum(
            float(np.sum(0.5 * h * (th - c) ** 2)) for th, h, c in zip(thetas, self.h, self.c, strict=True)
        )


@contextlib.contextmanager
def torch_default_dtype(dtype: str):
    # torch keeps scalar state (NAdam's mu_product, step counts) in the default dtype
    previous = torch.get_default_dtype()
    torch.set_default_dtype(getattr(torch, dtype))
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


def run_ours(opt, problem, steps, dtype, *, record="params", observe=None):
    """Trajectory of host copies of the parameters (or of the look-ahead points)."""
    params = [B.asarray(t, dtype=dtype) for t in problem.theta0]
    state = opt.init(params)
    trajectory = []
    for k in range(steps):
        point = [B.to_numpy(p) for p in opt.lookahead(params, state)]
        grads = [B.asarray(g.astype(dtype), dtype=dtype) for g in problem.grads(point, k)]
        params, state = opt.step(params, grads, state)
        shown = params if record == "params" else opt.lookahead(params, state)
        trajectory.append([np.array(B.to_numpy(p)) for p in shown])
        if observe is not None:
            observe(problem.loss(trajectory[-1]))
    return trajectory, params, state


def run_torch(cls, kwargs, problem, steps, dtype, *, scheduler=None, plateau=False):
    with torch_default_dtype(dtype):
        ps = [torch.tensor(t, dtype=getattr(torch, dtype), requires_grad=True) for t in problem.theta0]
        opt = cls(ps, **kwargs)
        sched = scheduler(opt) if scheduler is not None else None
        trajectory = []
        for k in range(steps):
            grads = problem.grads([p.detach().numpy() for p in ps], k)
            for p, g in zip(ps, grads, strict=True):
                p.grad = torch.from_numpy(np.asarray(g, dtype=dtype))
            opt.step()
            trajectory.append([p.detach().numpy().copy() for p in ps])
            if sched is not None:
                if plateau:
                    sched.step(problem.loss(trajectory[-1]))
                else:
                    sched.step()
    return trajectory, opt


def assert_same_trajectory(ours, theirs, tol, label=""):
    assert len(ours) == len(theirs)
    for k, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert x.shape == y.shape
            np.testing.assert_allclose(x, y, **tol, err_msg=f"{label}: step {k + 1}, params[{i}]")


# ----------------------------------------------------------------------------------------------
# Every rule and option combination
# ----------------------------------------------------------------------------------------------

TORCH = (
    {}
    if torch is None
    else {
        "gd": torch.optim.SGD,
        "sgd": torch.optim.SGD,
        "heavy_ball": torch.optim.SGD,
        "adagrad": torch.optim.Adagrad,
        "rmsprop": torch.optim.RMSprop,
        "adadelta": torch.optim.Adadelta,
        "adam": torch.optim.Adam,
        "adamw": torch.optim.AdamW,
        "amsgrad": torch.optim.Adam,
        "adamax": torch.optim.Adamax,
        "nadam": torch.optim.NAdam,
    }
)


FIXTURES = torch_fixture_script()
CASES = list(FIXTURES.torch_option_grid())  # one grid for the live tests and the fixtures


def _case_id(case):
    rule, flags = case
    return "-".join([rule] + [f"{k}={v}" for k, v in flags.items() if v not in (False, "none")])


draw = FIXTURES.draw_hyperparameters  # the same random hyperparameters as the recorded fixtures


def f32_tolerance(rule, hp):
    # centered RMSprop takes sqrt(v - ḡ²): when the gradient's mean dominates its spread this
    # difference cancels, and float32 rounding (on either side) is amplified
    return {"rtol": 1e-5, "atol": 1e-5} if rule == "rmsprop" and hp.get("centered") else F32


@requires_torch
@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_rule_matches_torch_step_by_step(case):
    """Each option combination gets its own seed: its own problem and hyperparameters."""
    rule, flags = case
    seed = CASES.index(case)
    ours_hp, torch_hp = draw(rule, flags, np.random.default_rng(1000 + seed))
    sign = -1.0 if flags.get("maximize") else 1.0
    for dtype, steps, tol in (("float64", STEPS64, F64), ("float32", STEPS32, f32_tolerance(rule, ours_hp))):
        problem = Problem(seed, steps, sign)
        with B.using("numpy"):
            ours, _, _ = run_ours(optim.get(rule, **ours_hp), problem, steps, dtype)
        theirs, _ = run_torch(TORCH[rule], torch_hp, problem, steps, dtype)
        assert_same_trajectory(ours, theirs, tol, f"{rule} {ours_hp} {dtype}")


def test_cases_cover_every_rule_and_option():
    assert {rule for rule, _ in CASES} == set(optim.OPTIMIZERS) - {"nesterov"}  # nesterov: see the convention tests
    assert len(CASES) >= 70


FULL_OPTIONS = {
    "gd": {"wd": True, "maximize": True},
    "heavy_ball": {"wd": True, "maximize": False},
    "sgd": {"mom": "nesterov", "wd": True, "maximize": True},
    "adagrad": {"lr_decay": True, "init_acc": True, "wd": True, "maximize": False},
    "rmsprop": {"centered": True, "momentum": True, "wd": True, "maximize": True},
    "adadelta": {"wd": True, "maximize": False},
    "adam": {"amsgrad": True, "wd": "l2", "maximize": False},
    "adamw": {"amsgrad": False, "maximize": True},
    "amsgrad": {"wd": True, "maximize": False},
    "adamax": {"wd": True, "maximize": True},
    "nadam": {"wd": "decoupled", "maximize": False},
}


@requires_torch
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("rule", sorted(FULL_OPTIONS))
def test_rule_matches_torch_on_every_backend(backend, rule, dtype):
    """The same check on array_api_strict's device1, where any hidden NumPy call would fail."""
    flags = FULL_OPTIONS[rule]
    ours_hp, torch_hp = draw(rule, flags, np.random.default_rng(7))
    problem = Problem(3, 30, -1.0 if flags.get("maximize") else 1.0)
    ours, params, state = run_ours(optim.get(rule, **ours_hp), problem, 30, dtype)
    theirs, _ = run_torch(TORCH[rule], torch_hp, problem, 30, dtype)
    tol = F64 if dtype == "float64" else f32_tolerance(rule, ours_hp)
    assert_same_trajectory(ours, theirs, tol, f"{rule} on {backend}")
    xp_expected = B.array_namespace(B.asarray([0.0]))
    for p in params:
        assert B.array_namespace(p) is xp_expected
        assert B.dtype_of(p) == dtype
    for value in state.slots.values():
        for v in value:
            if not isinstance(v, float):
                assert B.dtype_of(v) == dtype
    assert state.t == 30


# ----------------------------------------------------------------------------------------------
# Schedules plugged into optimizers
# ----------------------------------------------------------------------------------------------

SCHEDULED = [
    (
        "adam",
        {"betas": (0.8, 0.99)},
        schedules.step_decay(0.05, step_size=7, gamma=0.5),
        lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=7, gamma=0.5),
    ),
    (
        "sgd",
        {"momentum": 0.9},
        schedules.cosine(0.1, T_max=30, eta_min=0.01),
        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=30, eta_min=0.01),
    ),
    (
        "adagrad",
        {"lr_decay": 0.05},
        schedules.exponential(0.3, gamma=0.97),
        lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.97),
    ),
    (
        "rmsprop",
        {"momentum": 0.5, "centered": True},
        schedules.warmup(schedules.multistep(0.01, [10, 25]), 5),
        lambda o: torch.optim.lr_scheduler.SequentialLR(
            o,
            [
                torch.optim.lr_scheduler.LinearLR(o, total_iters=5),
                torch.optim.lr_scheduler.MultiStepLR(o, milestones=[10, 25]),
            ],
            milestones=[5],
        ),
    ),
    (
        "nadam",
        {"weight_decay": 0.1},
        schedules.polynomial(0.05, total_steps=60, power=2.0),
        lambda o: torch.optim.lr_scheduler.PolynomialLR(o, total_iters=60, power=2.0),
    ),
]


@requires_torch
@pytest.mark.parametrize("rule, hp, schedule, torch_scheduler", SCHEDULED, ids=[s[0] for s in SCHEDULED])
def test_scheduled_lr_matches_torch_scheduler(rule, hp, schedule, torch_scheduler):
    problem = Problem(5, 50)
    with B.using("numpy"):
        ours, _, _ = run_ours(optim.get(rule, lr=schedule, **hp), problem, 50, "float64")
    base_lr = schedule.params["schedule"](0) if schedule.name == "warmup" else schedule(0)  # torch's optimizer lr
    theirs, _ = run_torch(TORCH[rule], {"lr": base_lr, **hp}, problem, 50, "float64", scheduler=torch_scheduler)
    assert_same_trajectory(ours, theirs, F64, rule)


@requires_torch
def test_reduce_on_plateau_in_the_loop_matches_torch():
    problem = Problem(6, 80)
    plateau = schedules.reduce_on_plateau(0.3, patience=3, factor=0.5, threshold=1e-2)
    with B.using("numpy"):
        ours, _, _ = run_ours(optim.sgd(lr=plateau, momentum=0.5), problem, 80, "float64", observe=plateau.observe)
    theirs, opt = run_torch(
        torch.optim.SGD,
        {"lr": 0.3, "momentum": 0.5},
        problem,
        80,
        "float64",
        plateau=True,
        scheduler=lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(o, patience=3, factor=0.5, threshold=1e-2),
    )
    assert_same_trajectory(ours, theirs, F64, "reduce_on_plateau")
    assert plateau.lr < 0.3  # the test exercised at least one reduction
    assert plateau.lr == opt.param_groups[0]["lr"]


def test_schedule_is_evaluated_from_step_zero():
    seen = []

    def schedule(k):
        seen.append(k)
        return 0.1

    opt = optim.gd(lr=schedule)
    params = np.ones(2)
    state = opt.init(params)
    for _ in range(3):
        params, state = opt.step(params, np.ones(2), state)
    assert seen == [0, 1, 2]
    assert opt.lr_at(5) == 0.1


# ----------------------------------------------------------------------------------------------
# The course's conventions, proved equivalent to torch's forms
# ----------------------------------------------------------------------------------------------


@requires_torch
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ewma_momentum_is_torch_momentum_with_lr_scaled_by_one_minus_beta(seed):
    rng = np.random.default_rng(seed)
    lr, beta, wd = float(rng.uniform(0.05, 0.5)), float(rng.uniform(0.5, 0.95)), float(rng.uniform(0, 0.2))
    problem = Problem(seed, STEPS64)
    with B.using("numpy"):
        ours, _, state = run_ours(optim.heavy_ball(lr, beta, ewma=True, weight_decay=wd), problem, STEPS64, "float64")
    theirs, opt = run_torch(
        torch.optim.SGD, {"lr": (1 - beta) * lr, "momentum": beta, "weight_decay": wd}, problem, STEPS64, "float64"
    )
    assert_same_trajectory(ours, theirs, F64, "ewma")
    # and the EWMA buffer is (1 - beta) times torch's sum of gradients
    for v, p in zip(state.v, opt.param_groups[0]["params"], strict=True):
        np.testing.assert_allclose(v, (1 - beta) * opt.state[p]["momentum_buffer"].numpy(), **F64)


def test_ewma_momentum_rescaling_holds_under_a_schedule():
    beta = 0.8
    schedule = schedules.step_decay(0.2, step_size=10, gamma=0.5)
    problem = Problem(4, 40)
    with B.using("numpy"):
        ours, _, _ = run_ours(optim.heavy_ball(schedule, beta, ewma=True), problem, 40, "float64")
        torch_form, _, _ = run_ours(
            optim.sgd(lambda k: (1 - beta) * schedule(k), momentum=beta), problem, 40, "float64"
        )
    assert_same_trajectory(ours, torch_form, F64, "ewma with schedule")


def test_heavy_ball_is_polyaks_two_step_recurrence():
    """θ_{t+1} = θ_t - η ∇J(θ_t) + β (θ_t - θ_{t-1}), with θ_{-1} = θ_0."""
    lr, beta = 0.1, 0.7
    problem = Problem(2, 50)
    with B.using("numpy"):
        ours, _, _ = run_ours(optim.heavy_ball(lr, beta), problem, 50, "float64")
    previous, theta = problem.theta0, problem.theta0
    for k in range(50):
        g = problem.grads(theta, k)
        theta, previous = [t - lr * gi + beta * (t - p) for t, gi, p in zip(theta, g, previous, strict=True)], theta
        for x, y in zip(ours[k], theta, strict=True):
            np.testing.assert_allclose(x, y, **F64)


@requires_torch
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lookahead_nesterov_is_torch_nesterov_after_change_of_variables(seed):
    """Sutskever's form on θ with v; torch's form on φ = θ + βv with buffer b = -v/η."""
    rng = np.random.default_rng(seed)
    lr, beta, wd = float(rng.uniform(0.05, 0.3)), float(rng.uniform(0.5, 0.95)), float(rng.uniform(0, 0.2))
    maximize = bool(seed % 2)
    problem = Problem(seed, STEPS64, -1.0 if maximize else 1.0)
    opt = optim.nesterov(lr, beta, weight_decay=wd, maximize=maximize)
    assert opt.needs_lookahead
    with B.using("numpy"):
        lookahead_points, params, state = run_ours(opt, problem, STEPS64, "float64", record="lookahead")
    torch_hp = {"lr": lr, "momentum": beta, "nesterov": True, "weight_decay": wd, "maximize": maximize}
    theirs, topt = run_torch(torch.optim.SGD, torch_hp, problem, STEPS64, "float64")
    assert_same_trajectory(lookahead_points, theirs, F64, "nesterov look-ahead")
    for v, p in zip(state.v, topt.param_groups[0]["params"], strict=True):
        np.testing.assert_allclose(-v / lr, topt.state[p]["momentum_buffer"].numpy(), **F64)
    # the parameters themselves are the look-ahead points minus βv
    for theta, phi, v in zip(params, lookahead_points[-1], state.v, strict=True):
        np.testing.assert_allclose(theta + beta * v, phi, **F64)


def test_lookahead_is_the_params_for_every_other_rule():
    params = [np.ones(3), np.zeros((2, 2))]
    for name, factory in optim.OPTIMIZERS.items():
        opt = factory(lr=0.1)
        state = opt.init(params)
        if name == "nesterov":
            assert opt.needs_lookahead
            continue
        assert not opt.needs_lookahead
        assert opt.lookahead(params, state) is params


# ----------------------------------------------------------------------------------------------
# Recorded torch trajectories: replayed with or without torch, re-recorded when torch is here
# ----------------------------------------------------------------------------------------------


RECORDED, RECORDED_ARRAYS = FIXTURES.load()


def _schedule_from(spec):
    kwargs = {k: _schedule_from(v) if isinstance(v, dict) else v for k, v in spec["kwargs"].items()}
    return schedules.get(spec["name"], **kwargs)


@pytest.mark.parametrize("case", RECORDED["optim"], ids=lambda c: c["id"])
def test_rule_matches_recorded_torch_trajectory(backend, case):
    """Torch's gradients fed to gdcourse reproduce torch's parameters (or look-ahead points) at every step."""
    shapes = [tuple(s) for s in case["shapes"]]
    bounds = np.cumsum([math.prod(s) for s in shapes])[:-1]

    def split(flat):
        return [B.asarray(x.reshape(s), dtype="float64") for x, s in zip(np.split(flat, bounds), shapes, strict=True)]

    recorded = {
        k: RECORDED_ARRAYS[f"{case['id']}.{k}"]
        for k in ("theta0", "grads", "params", "lrs", "losses")
        if f"{case['id']}.{k}" in RECORDED_ARRAYS
    }
    hp = dict(case["hp"])
    if isinstance(hp["lr"], dict):
        hp["lr"] = _schedule_from(hp["lr"])
    opt = optim.get(case["rule"], **hp)
    assert opt.needs_lookahead == (case["record"] == "lookahead")
    params = split(recorded["theta0"])
    state = opt.init(params)
    assert recorded["params"].shape[0] == case["steps"]
    for k in range(case["steps"]):
        if "lrs" in recorded:
            np.testing.assert_allclose(opt.lr_at(k), recorded["lrs"][k], **F64, err_msg=f"lr at step {k}")
        params, state = opt.step(params, split(recorded["grads"][k]), state)
        shown = params if case["record"] == "params" else opt.lookahead(params, state)
        got = np.concatenate([np.asarray(B.to_numpy(p)).ravel() for p in shown])
        np.testing.assert_allclose(got, recorded["params"][k], **F64, err_msg=f"{case['id']}: step {k + 1}")
        if "losses" in recorded:
            hp["lr"].observe(float(recorded["losses"][k]))
    for p in params:
        assert B.dtype_of(p) == "float64"


def test_recorded_cases_cover_every_rule_and_option():
    cases = RECORDED["optim"]
    assert {c["rule"] for c in cases} == set(optim.OPTIMIZERS)
    for name, factory in optim.OPTIMIZERS.items():
        # every boolean option switched on, every option that is off by default (0) switched on
        options = [
            p.name for p in inspect.signature(factory).parameters.values() if p.default is False or p.default == 0
        ]
        for option in options:
            assert any(c["rule"] == name and c["hp"].get(option) for c in cases), f"{name}: {option}"
    for rule in ("sgd", "adam", "nadam", "rmsprop"):  # and in combination
        assert any(c["rule"] == rule and c["hp"].get("maximize") and c["hp"].get("weight_decay") for c in cases)
    assert any(isinstance(c["hp"]["lr"], dict) and c["hp"]["lr"]["name"] == "reduce_on_plateau" for c in cases)
    assert all(c["steps"] >= 20 and len(c["shapes"]) > 1 for c in cases)
    assert RECORDED["dtype"] == "float64"
    assert all(a.dtype == np.float64 for a in RECORDED_ARRAYS.values())


def test_fixtures_were_recorded_by_the_committed_script():
    """Editing the generator without re-running it leaves fixtures that it no longer makes."""
    assert RECORDED["script_sha256"] == FIXTURES.script_sha256(), (
        "tests/fixtures/make_torch_fixtures.py changed since the fixtures were recorded: "
        "run `python tests/fixtures/make_torch_fixtures.py` (needs torch) and commit its output"
    )


@requires_torch
def test_committed_fixtures_match_a_fresh_torch_recording():
    """The committed fixtures are what the script records now, so they cannot go stale unnoticed."""
    meta, arrays = FIXTURES.record()
    meta = json.loads(FIXTURES.dumps(meta))  # as written: tuples become lists
    assert sorted(arrays) == sorted(RECORDED_ARRAYS)
    if meta["torch_version"] == RECORDED["torch_version"]:
        assert meta == RECORDED
        for name, array in arrays.items():
            assert array.dtype == RECORDED_ARRAYS[name].dtype and array.shape == RECORDED_ARRAYS[name].shape, name
            # Same torch, another CPU: its vector kernels may round last bits differently (seen on an Intel
            # Xeon, fixtures recorded on an AMD EPYC: a few entries in 37 of the arrays, at most 2.2e-16 apart,
            # 1.7e-14 relative). A stale fixture differs everywhere and by far more.
            np.testing.assert_allclose(array, RECORDED_ARRAYS[name], rtol=1e-12, atol=1e-15, err_msg=name)
        return
    warnings.warn(
        f"the fixtures were recorded with torch {RECORDED['torch_version']} and this is torch "
        f"{meta['torch_version']}: comparing at rtol 1e-10 instead of bit for bit",
        UserWarning,
        stacklevel=1,
    )
    assert {**meta, "torch_version": None} == {**RECORDED, "torch_version": None}
    for name, array in arrays.items():
        np.testing.assert_allclose(array, RECORDED_ARRAYS[name], **F64, err_msg=name)


# ----------------------------------------------------------------------------------------------
# Structure, immutability, dtype, backends
# ----------------------------------------------------------------------------------------------

ALL_RULES = [
    optim.gd(0.1, weight_decay=0.1),
    optim.sgd(0.1, momentum=0.9, nesterov=True, weight_decay=0.1),
    optim.sgd(0.1, momentum=0.9, dampening=0.5),
    optim.heavy_ball(0.1, 0.9, ewma=True),
    optim.nesterov(0.1, 0.9, weight_decay=0.1),
    optim.adagrad(0.1, lr_decay=0.01, initial_accumulator_value=0.1, weight_decay=0.1),
    optim.rmsprop(0.01, momentum=0.5, centered=True, weight_decay=0.1),
    optim.adadelta(weight_decay=0.1),
    optim.adam(0.01, amsgrad=True, weight_decay=0.1),
    optim.adamw(0.01, amsgrad=True),
    optim.amsgrad(0.01),
    optim.adamax(0.01, weight_decay=0.1),
    optim.nadam(0.01, weight_decay=0.1, decoupled_weight_decay=True),
    optim.nadam(0.01, weight_decay=0.1),
]


def _host(tree):
    if isinstance(tree, list | tuple):
        return [_host(t) for t in tree]
    if isinstance(tree, dict):
        return {k: _host(v) for k, v in tree.items()}
    return tree if isinstance(tree, float) else np.array(B.to_numpy(tree))


def _assert_tree_equal(a, b):
    if isinstance(a, list):
        for x, y in zip(a, b, strict=True):
            _assert_tree_equal(x, y)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _assert_tree_equal(a[k], b[k])
    else:
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("opt", ALL_RULES, ids=repr)
def test_nothing_passed_in_is_modified(backend, opt):
    params = [B.random_normal((3,), seed=1), B.random_normal((2, 2), seed=2)]
    grads = [B.random_normal((3,), seed=3), B.random_normal((2, 2), seed=4)]
    state = opt.init(params)
    for t in (1, 2):  # from fresh buffers, then from non-zero ones
        before = _host({"params": params, "grads": grads, "slots": state.slots})
        new_params, new_state = opt.step(params, grads, state)
        _assert_tree_equal(_host({"params": params, "grads": grads, "slots": state.slots}), before)
        assert state.t == t - 1 and new_state.t == t
        assert all(new is not old for old, new in zip(params, new_params, strict=True))
        # nor does the result alias the caller's arrays: overwriting them afterwards changes nothing
        after = _host({"params": new_params, "slots": new_state.slots})
        for a in params + grads:
            a[...] = 0.0
        _assert_tree_equal(_host({"params": new_params, "slots": new_state.slots}), after)
        params, state = new_params, new_state
        grads = [B.random_normal((3,), seed=5), B.random_normal((2, 2), seed=6)]


@pytest.mark.parametrize("opt", ALL_RULES, ids=repr)
def test_structure_and_float32_are_preserved(backend, opt):
    single = B.random_normal((4,), seed=0, dtype="float32")
    state = opt.init(single)
    for k in range(3):
        single, state = opt.step(single, B.random_normal((4,), seed=k + 1, dtype="float32"), state)
    assert not isinstance(single, list | tuple)
    assert B.dtype_of(single) == "float32" and tuple(single.shape) == (4,)
    for name, slot in state.slots.items():
        assert not isinstance(slot, list), name
        assert isinstance(slot, float) or B.dtype_of(slot) == "float32"

    as_tuple = (B.random_normal((2, 3), seed=5, dtype="float32"), B.random_normal((), seed=6, dtype="float32"))
    state = opt.init(as_tuple)
    out, state = opt.step(as_tuple, tuple(B.random_normal(p.shape, seed=7, dtype="float32") for p in as_tuple), state)
    assert isinstance(out, tuple) and len(out) == 2
    assert [tuple(p.shape) for p in out] == [(2, 3), ()]
    assert all(B.dtype_of(p) == "float32" for p in out)
    assert all(isinstance(slot, tuple) and len(slot) == 2 for slot in state.slots.values())

    as_list = list(as_tuple)
    out, _ = opt.step(as_list, as_list, opt.init(as_list))
    assert isinstance(out, list)


def test_state_is_a_small_readable_structure():
    opt = optim.adam(0.1, amsgrad=True)
    params = [np.ones(2), np.ones(3)]
    state = opt.init(params)
    assert state.t == 0 and set(state.slots) == {"m", "v", "v_max"}
    assert state.m is state.slots["m"] and len(state.m) == 2
    with pytest.raises(AttributeError, match="slot"):
        _ = state.not_a_slot
    params, state = opt.step(params, [np.ones(2), np.ones(3)], state)
    restored = pickle.loads(pickle.dumps(state))
    assert restored.t == 1
    np.testing.assert_array_equal(restored.m[1], state.m[1])
    assert copy.deepcopy(state).t == 1
    assert "adam(lr=0.1" in repr(opt)


def test_nan_gradients_propagate_instead_of_raising():
    opt = optim.adam(0.1)
    params = np.array([1.0, 2.0])
    params, _ = opt.step(params, np.array([np.nan, 1.0]), opt.init(params))
    assert np.isnan(params[0]) and np.isfinite(params[1])


# ----------------------------------------------------------------------------------------------
# Factory and bad input
# ----------------------------------------------------------------------------------------------


def test_get_makes_the_named_rule():
    opt = optim.get("Adam", lr=0.01, amsgrad=True)
    assert opt.name == "adam" and opt.lr == 0.01 and opt.hyperparams["amsgrad"] is True
    assert optim.get("adamw").hyperparams["weight_decay"] == 1e-2  # torch's default
    assert optim.get("adadelta").lr == 1.0


def test_get_unknown_name_lists_known_names():
    with pytest.raises(ValueError, match="unknown optimizer 'adamm'.*sgd.*adam.*nadam"):
        optim.get("adamm")
    with pytest.raises(ValueError, match="does not take beta1.*betas"):
        optim.get("adam", beta1=0.9)


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: optim.sgd(lr=0), "lr"),
        (lambda: optim.sgd(lr=-0.1), "lr"),
        (lambda: optim.adam(lr=float("nan")), "lr"),
        (lambda: optim.gd(lr=float("inf")), "lr"),
        (lambda: optim.gd(lr="0.1"), "lr"),
        (lambda: optim.gd(lr=True), "lr"),
        (lambda: optim.adam(betas=(1.0, 0.999)), r"betas\[0\]"),
        (lambda: optim.adam(betas=(0.9, 1.0)), r"betas\[1\]"),
        (lambda: optim.nadam(betas=(-0.1, 0.9)), r"betas\[0\]"),
        (lambda: optim.adamax(betas=(0.9,)), "betas"),
        (lambda: optim.adam(eps=-1e-8), "eps"),
        (lambda: optim.rmsprop(eps=-1.0), "eps"),
        (lambda: optim.sgd(momentum=-0.5), "momentum"),
        (lambda: optim.heavy_ball(0.1, momentum=1.0), "momentum"),
        (lambda: optim.sgd(dampening=1.5), "dampening"),
        (lambda: optim.sgd(nesterov=True), "nesterov"),
        (lambda: optim.sgd(momentum=0.9, dampening=0.1, nesterov=True), "nesterov"),
        (lambda: optim.sgd(weight_decay=-1), "weight_decay"),
        (lambda: optim.adamw(weight_decay=-1), "weight_decay"),
        (lambda: optim.adagrad(lr_decay=-1), "lr_decay"),
        (lambda: optim.adagrad(initial_accumulator_value=-1), "initial_accumulator_value"),
        (lambda: optim.rmsprop(alpha=1.0), "alpha"),
        (lambda: optim.adadelta(rho=1.5), "rho"),
        (lambda: optim.nadam(momentum_decay=-1), "momentum_decay"),
        (lambda: optim.adam(amsgrad="yes"), "amsgrad"),
        (lambda: optim.rmsprop(centered=1), "centered"),
        (lambda: optim.gd(0.1, maximize=None), "maximize"),
    ],
)
def test_bad_hyperparameters_are_named(make, name):
    with pytest.raises((ValueError, TypeError), match=name):
        make()


@pytest.mark.parametrize("bad", [0.0, -0.5, float("nan"), float("inf")])
def test_schedule_returning_a_bad_rate_is_named_with_its_step(bad):
    opt = optim.sgd(lr=lambda k: 0.1 if k < 3 else bad)
    params = np.ones(2)
    state = opt.init(params)
    for _ in range(3):
        params, state = opt.step(params, np.ones(2), state)
    with pytest.raises(ValueError, match="lr schedule .* at step 3"):
        opt.step(params, np.ones(2), state)


def test_cosine_schedule_reaching_zero_is_rejected_at_its_end():
    opt = optim.sgd(lr=schedules.cosine(0.1, T_max=4))
    params = np.ones(1)
    state = opt.init(params)
    for _ in range(4):
        params, state = opt.step(params, np.ones(1), state)
    with pytest.raises(ValueError, match="step 4"):
        opt.step(params, np.ones(1), state)


def test_bad_params_grads_and_state_are_named(backend):
    opt = optim.adam(0.1)
    params = [B.random_normal((3,), seed=0), B.random_normal((2, 2), seed=1)]
    state = opt.init(params)
    with pytest.raises(ValueError, match="grads must have the structure of params.*list of 2.*list of 1"):
        opt.step(params, [params[0]], state)
    with pytest.raises(ValueError, match="structure.*one array"):
        opt.step(params, params[0], state)
    with pytest.raises(ValueError, match=r"grads\[1\] has shape \(4,\) but params\[1\] has shape \(2, 2\)"):
        opt.step(params, [params[0], B.random_normal((4,), seed=2)], state)
    with pytest.raises(TypeError, match=r"grads\[0\] has dtype .*float32.* but params\[0\]"):
        opt.step(params, [B.random_normal((3,), seed=0, dtype="float32"), params[1]], state)
    with pytest.raises(TypeError, match=r"params\[1\] must be an array"):
        opt.init([params[0], [1.0, 2.0]])
    with pytest.raises(TypeError, match="params must be an array"):
        opt.init(3.0)
    with pytest.raises(ValueError, match="params is an empty list"):
        opt.init([])
    with pytest.raises(TypeError, match=r"params\[0\] has dtype .*int.*floating"):
        opt.init([B.asarray([1, 2])])
    with pytest.raises(TypeError, match="state must be the OptState"):
        opt.step(params, params, {"t": 0})
    with pytest.raises(ValueError, match="state has slots .* adam needs"):
        opt.step(params, params, optim.sgd(0.1, momentum=0.9).init(params))
    with pytest.raises(ValueError, match="state.slots.*does not match params"):
        opt.step(params, params, opt.init([params[0]]))


def test_grads_from_another_array_library_are_named():
    import array_api_strict

    opt = optim.gd(0.1)
    params = np.ones(2)
    with pytest.raises(TypeError, match="grads.*different array libraries"):
        opt.step(params, array_api_strict.asarray([1.0, 1.0]), opt.init(params))
