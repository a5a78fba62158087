"""Learning-rate schedules against torch.optim.lr_scheduler, with random parameters, over >= 50 steps.

The live comparisons need torch (CI installs the CPU build).  Without it they are skipped and
test_schedule_matches_recorded_torch_rates replays the rates recorded by
``tests/fixtures/make_torch_fixtures.py`` for the same schedulers; it runs with or without torch.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import optional, torch_fixture_script

from gdcourse import backend as B
from gdcourse import optim, schedules

torch = optional("torch")  # without it (outside CI) the fixture replays below stand in for the live comparisons
L = None if torch is None else torch.optim.lr_scheduler

TOL = {"rtol": 1e-10, "atol": 1e-15}
STEPS = 120

requires_torch = pytest.mark.skipif(
    torch is None,
    reason="torch is not installed: test_schedule_matches_recorded_torch_rates replays the rates of the same "
    "torch schedulers recorded in tests/fixtures/torch_optim.npz instead",
)


def torch_rates(lr0, make_scheduler, steps=STEPS, losses=None):
    """The lr torch uses at each optimizer step, the scheduler stepped once after each."""
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr0)
    scheduler = make_scheduler(opt)
    rates = []
    for k in range(steps):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        if losses is None:
            scheduler.step()
        else:
            scheduler.step(losses[k])
    return np.array(rates)


def ours(schedule, steps=STEPS):
    return np.array([schedule(k) for k in range(steps)])


SEEDS = [0, 1, 2, 3]


def _rng(seed):
    return np.random.default_rng(seed)


@requires_torch
@pytest.mark.parametrize("seed", SEEDS)
def test_step_decay_matches_steplr(seed):
    rng = _rng(seed)
    lr0, size, gamma = float(rng.uniform(0.01, 1)), int(rng.integers(1, 30)), float(rng.uniform(0.1, 1))
    np.testing.assert_allclose(
        ours(schedules.step_decay(lr0, size, gamma)),
        torch_rates(lr0, lambda o: L.StepLR(o, step_size=size, gamma=gamma)),
        **TOL,
    )


@requires_torch
@pytest.mark.parametrize("seed", SEEDS)
def test_multistep_matches_multisteplr(seed):
    rng = _rng(seed)
    lr0, gamma = float(rng.uniform(0.01, 1)), float(rng.uniform(0.1, 1))
    milestones = sorted(int(m) for m in rng.choice(np.arange(1, STEPS), size=4, replace=False))
    np.testing.assert_allclose(
        ours(schedules.multistep(lr0, milestones, gamma)),
        torch_rates(lr0, lambda o: L.MultiStepLR(o, milestones=milestones, gamma=gamma)),
        **TOL,
    )


@requires_torch
@pytest.mark.parametrize("seed", SEEDS)
def test_exponential_matches_exponentiallr(seed):
    rng = _rng(seed)
    lr0, gamma = float(rng.uniform(0.01, 1)), float(rng.uniform(0.9, 1))
    np.testing.assert_allclose(
        ours(schedules.exponential(lr0, gamma)), torch_rates(lr0, lambda o: L.ExponentialLR(o, gamma=gamma)), **TOL
    )


@requires_torch
@pytest.mark.parametrize("seed", SEEDS)
def test_polynomial_matches_polynomiallr(seed):
    rng = _rng(seed)
    lr0, total, power = float(rng.uniform(0.01, 1)), int(rng.integers(20, 100)), float(rng.uniform(0.5, 3))
    np.testing.assert_allclose(
        ours(schedules.polynomial(lr0, total, power)),
        torch_rates(lr0, lambda o: L.PolynomialLR(o, total_iters=total, power=power)),
        rtol=1e-10,
        atol=1e-12 * lr0,
    )


def test_polynomial_with_end_is_its_closed_form():
    s = schedules.polynomial(1.0, total_steps=10, power=2.0, end=0.1)
    assert s(0) == 1.0 and s(10) == pytest.approx(0.1) and s(50) == pytest.approx(0.1)
    assert s(5) == pytest.approx(0.9 * 0.25 + 0.1)


@requires_torch
@pytest.mark.parametrize("seed", SEEDS)
def test_cosine_matches_cosineannealinglr_including_after_t_max(seed):
    rng = _rng(seed)
    lr0, t_max = float(rng.uniform(0.01, 1)), int(rng.integers(10, 40))
    eta_min = 0.0 if seed == 0 else float(rng.uniform(0, 0.5)) * lr0
    np.testing.assert_allclose(
        ours(schedules.cosine(lr0, t_max, eta_min), steps=3 * t_max + 5),
        torch_rates(lr0, lambda o: L.CosineAnnealingLR(o, T_max=t_max, eta_min=eta_min), steps=3 * t_max + 5),
        rtol=1e-10,
        atol=1e-12 * lr0,  # torch's recursive form lands on eta_min up to rounding
    )


def _inner(kind, lr0, rng):
    if kind == "constant":
        return schedules.constant(lr0), lambda o: L.ConstantLR(o, factor=1.0)
    if kind == "cosine":
        t_max = int(rng.integers(20, 60))
        return schedules.cosine(lr0, t_max, 0.01 * lr0), lambda o: L.CosineAnnealingLR(
            o, T_max=t_max, eta_min=0.01 * lr0
        )
    if kind == "step":
        size = int(rng.integers(5, 20))
        return schedules.step_decay(lr0, size, 0.5), lambda o: L.StepLR(o, step_size=size, gamma=0.5)
    gamma = float(rng.uniform(0.95, 1))
    return schedules.exponential(lr0, gamma), lambda o: L.ExponentialLR(o, gamma=gamma)


@requires_torch
@pytest.mark.parametrize("kind", ["constant", "cosine", "step", "exponential"])
@pytest.mark.parametrize("seed", [0, 1])
def test_warmup_matches_linearlr_then_sequentiallr(kind, seed):
    rng = _rng(seed)
    lr0, steps, factor = float(rng.uniform(0.01, 1)), int(rng.integers(2, 20)), float(rng.uniform(0.05, 1))
    inner, make_inner = _inner(kind, lr0, rng)
    expected = torch_rates(
        lr0,
        lambda o: L.SequentialLR(
            o, [L.LinearLR(o, start_factor=factor, total_iters=steps), make_inner(o)], milestones=[steps]
        ),
    )
    np.testing.assert_allclose(ours(schedules.warmup(inner, steps, factor)), expected, **TOL)


def test_warmup_of_a_number_is_a_warmup_to_a_constant():
    s = schedules.warmup(0.3, warmup_steps=3, start_factor=0.1)
    np.testing.assert_allclose(ours(s, 5), [0.03, 0.12, 0.21, 0.3, 0.3])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_inverse_time_is_its_closed_form(seed):
    rng = _rng(seed)
    lr0, decay = float(rng.uniform(0.01, 1)), float(rng.uniform(0, 0.5))
    k = np.arange(STEPS)
    np.testing.assert_allclose(ours(schedules.inverse_time(lr0, decay)), lr0 / (1 + decay * k), **TOL)
    if torch is None:  # test_schedule_matches_recorded_torch_rates covers LambdaLR then
        return
    np.testing.assert_allclose(
        ours(schedules.inverse_time(lr0, decay)),
        torch_rates(lr0, lambda o: L.LambdaLR(o, lambda t: 1 / (1 + decay * t))),
        **TOL,
    )


def test_constant_is_constant():
    assert set(ours(schedules.constant(0.25), 60)) == {0.25}


def _losses(rng, steps=STEPS):
    """Decrease, plateau, decrease again, plateau with noise: exercises patience, threshold and cooldown."""
    trend = np.concatenate(
        [
            np.linspace(5, 2, steps // 4),
            np.full(steps // 4, 2.0),
            np.linspace(2, 1, steps // 4),
            np.full(steps - 3 * (steps // 4), 1.0),
        ]
    )
    return trend + rng.normal(0, 0.01, size=steps)


PLATEAU_OPTIONS = [
    {},
    {"patience": 3, "factor": 0.5},
    {"patience": 2, "factor": 0.3, "cooldown": 4, "threshold": 1e-3},
    {"patience": 1, "threshold": 0.05, "threshold_mode": "abs", "min_lr": 0.02},
    {"patience": 4, "factor": 0.7, "mode": "max"},
    {"patience": 0, "factor": 0.9, "mode": "max", "threshold_mode": "abs", "threshold": 0.01, "cooldown": 2},
]


@requires_torch
@pytest.mark.parametrize(
    "options", PLATEAU_OPTIONS, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()) or "defaults"
)
@pytest.mark.parametrize("seed", [0, 1])
def test_reduce_on_plateau_matches_reducelronplateau(options, seed):
    rng = _rng(seed)
    losses = _losses(rng)
    if options.get("mode") == "max":
        losses = -losses
    lr0 = float(rng.uniform(0.1, 1))
    plateau = schedules.reduce_on_plateau(lr0, **options)
    rates = []
    for k, loss in enumerate(losses):
        rates.append(plateau(k))
        plateau.observe(loss)
    expected = torch_rates(lr0, lambda o: L.ReduceLROnPlateau(o, **options), losses=[float(x) for x in losses])
    np.testing.assert_allclose(rates, expected, **TOL)
    assert len(set(rates)) > 1  # at least one reduction happened


RECORDED, RECORDED_ARRAYS = torch_fixture_script().load()


def _schedule_from(spec):
    kwargs = {k: _schedule_from(v) if isinstance(v, dict) else v for k, v in spec["kwargs"].items()}
    return schedules.get(spec["name"], **kwargs)


def _names(spec):
    inner = [_names(v) for v in spec["kwargs"].values() if isinstance(v, dict)]
    return {spec["name"]}.union(*inner)


@pytest.mark.parametrize("case", RECORDED["schedules"], ids=lambda c: c["id"])
def test_schedule_matches_recorded_torch_rates(case):
    """The rates torch's scheduler gave at each step (recorded with torch), from gdcourse's schedule."""
    spec, steps = case["schedule"], case["steps"]
    expected = RECORDED_ARRAYS[f"{case['id']}.rates"]
    schedule = _schedule_from(spec)
    if spec["name"] == "reduce_on_plateau":
        rates = []
        for k, loss in enumerate(RECORDED_ARRAYS[f"{case['id']}.losses"]):
            rates.append(schedule(k))
            schedule.observe(float(loss))
        assert len(set(rates)) > 1  # at least one reduction happened
    else:
        rates = ours(schedule, steps)
    # torch's recursive cosine and polynomial forms land on 0 (or eta_min) up to rounding
    atol = 1e-12 * spec["kwargs"]["lr0"] if spec["name"] in ("cosine", "polynomial") else TOL["atol"]
    assert len(expected) == steps
    np.testing.assert_allclose(rates, expected, rtol=TOL["rtol"], atol=atol, err_msg=case["torch"])


def test_recorded_schedule_cases_cover_every_schedule():
    cases = RECORDED["schedules"]
    assert set().union(*(_names(c["schedule"]) for c in cases)) == set(schedules.SCHEDULES)
    assert all(c["steps"] >= 50 for c in cases)
    cosine_past_t_max = [c for c in cases if c["schedule"]["name"] == "cosine"]
    assert all(c["steps"] > 2 * c["schedule"]["kwargs"]["T_max"] for c in cosine_past_t_max)
    plateau_options = {
        k for c in cases if c["schedule"]["name"] == "reduce_on_plateau" for k in c["schedule"]["kwargs"]
    }
    assert plateau_options >= {"patience", "factor", "threshold", "threshold_mode", "cooldown", "min_lr", "mode"}


def test_reduce_on_plateau_observes_arrays_on_any_backend(backend):
    plateau = schedules.ReduceOnPlateau(1.0, patience=0)
    assert plateau.observe(B.asarray(2.0)) == 1.0
    assert plateau.observe(B.asarray(3.0)) == pytest.approx(0.1)
    plateau.reset()
    assert plateau.lr == 1.0 and plateau.best == math.inf and plateau.num_bad_steps == 0


def test_reduce_on_plateau_treats_nan_as_no_improvement():
    plateau = schedules.ReduceOnPlateau(1.0, patience=1)
    for loss in [1.0, float("nan"), float("nan")]:
        plateau.observe(loss)
    assert plateau.lr == pytest.approx(0.1)


def test_schedules_plug_into_optimizers_and_keep_float32(backend):
    for schedule in [
        schedules.step_decay(0.1, 2),
        schedules.cosine(0.1, 10, 0.001),
        schedules.warmup(schedules.exponential(0.1, 0.9), 3),
        schedules.ReduceOnPlateau(0.1),
    ]:
        opt = optim.adam(lr=schedule)
        params = B.random_normal((3,), seed=0, dtype="float32")
        state = opt.init(params)
        for k in range(5):
            params, state = opt.step(params, B.random_normal((3,), seed=k, dtype="float32"), state)
        assert B.dtype_of(params) == "float32"


def test_schedule_steps_are_checked():
    s = schedules.exponential(0.1, 0.5)
    assert s(np.int64(2)) == pytest.approx(0.025)
    with pytest.raises(ValueError, match="step must be a non-negative integer"):
        s(-1)
    with pytest.raises(TypeError, match="step must be an integer"):
        s(1.5)
    with pytest.raises(TypeError, match="step must be an integer"):
        schedules.ReduceOnPlateau(0.1)("3")


def test_repr_shows_the_parameters():
    assert repr(schedules.step_decay(0.1, 5, 0.5)) == "step_decay(lr0=0.1, step_size=5, gamma=0.5)"
    assert "warmup(schedule=cosine(lr0=0.1" in repr(schedules.warmup(schedules.cosine(0.1, 10), 5))
    assert "patience=10" in repr(schedules.ReduceOnPlateau(0.1))


def test_get_makes_the_named_schedule_and_lists_known_names():
    assert schedules.get("cosine", 0.1, T_max=10)(10) == 0.0
    with pytest.raises(ValueError, match="unknown schedule 'cosin'.*cosine.*reduce_on_plateau"):
        schedules.get("cosin", 0.1)


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: schedules.constant(0.0), "lr0"),
        (lambda: schedules.constant(float("nan")), "lr0"),
        (lambda: schedules.constant("0.1"), "lr0"),
        (lambda: schedules.step_decay(0.1, 0), "step_size"),
        (lambda: schedules.step_decay(0.1, 2.5), "step_size"),
        (lambda: schedules.step_decay(0.1, 2, gamma=0.0), "gamma"),
        (lambda: schedules.step_decay(0.1, 2, gamma=1.5), "gamma"),
        (lambda: schedules.multistep(0.1, []), "milestones"),
        (lambda: schedules.multistep(0.1, [5, 3]), "milestones"),
        (lambda: schedules.multistep(0.1, [0, 3]), r"milestones\[0\]"),
        (lambda: schedules.exponential(0.1, -0.5), "gamma"),
        (lambda: schedules.inverse_time(0.1, -1), "decay"),
        (lambda: schedules.polynomial(0.1, 0), "total_steps"),
        (lambda: schedules.polynomial(0.1, 10, power=0), "power"),
        (lambda: schedules.polynomial(0.1, 10, end=0.2), "end"),
        (lambda: schedules.cosine(0.1, 0), "T_max"),
        (lambda: schedules.cosine(0.1, 10, eta_min=-1), "eta_min"),
        (lambda: schedules.warmup(schedules.constant(0.1), 0), "warmup_steps"),
        (lambda: schedules.warmup(schedules.constant(0.1), 5, start_factor=0), "start_factor"),
        (lambda: schedules.warmup(-0.1, 5), "lr0"),
        (lambda: schedules.ReduceOnPlateau(0.1, factor=1.0), "factor"),
        (lambda: schedules.ReduceOnPlateau(0.1, mode="minimum"), "mode"),
        (lambda: schedules.ReduceOnPlateau(0.1, threshold_mode="relative"), "threshold_mode"),
        (lambda: schedules.ReduceOnPlateau(0.1, patience=-1), "patience"),
        (lambda: schedules.ReduceOnPlateau(0.1, cooldown=1.5), "cooldown"),
        (lambda: schedules.ReduceOnPlateau(0.1, min_lr=-1), "min_lr"),
        (lambda: schedules.ReduceOnPlateau(0.1).observe("low"), "loss"),
    ],
)
def test_bad_arguments_are_named(make, name):
    with pytest.raises((ValueError, TypeError), match=name):
        make()
