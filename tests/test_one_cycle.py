"""schedules.one_cycle against torch.optim.lr_scheduler.OneCycleLR at every step, its closed form, and its checks.

torch's scheduler is ``OneCycleLR(anneal_strategy="cos", three_phase=False, cycle_momentum=False)``, stepped
once after every optimizer step; the rate of update ``t`` is the optimizer's lr before its ``t``-th step,
which is what gdcourse's optimizers read from ``schedule(t)``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import require

from gdcourse import nn, optim, schedules
from gdcourse.schedules import one_cycle
from gdcourse.train import Trainer

torch = require("torch")

TOL = {"rtol": 1e-13, "atol": 0.0}

# (max_lr, total_steps, pct_start, div_factor, final_div_factor): the defaults, random ones, and the edges
# (a rise shorter than one step, no rise, no fall, a single step, fractional ends of the rise)
SETTINGS = [
    (0.1, 100, 0.3, 25.0, 1e4),
    (1.0, 37, 0.25, 10.0, 100.0),
    (0.5, 10, 0.5, 5.0, 1e3),
    (3.0, 250, 0.123, 2.0, 7.5),
    (2.0, 7, 0.1, 25.0, 1e4),  # pT = 0.7 < 1: the fall starts before step 0
    (0.2, 64, 0.0, 25.0, 1e4),
    (0.3, 50, 1.0, 25.0, 1e4),  # only the rise
    (0.05, 1, 0.3, 25.0, 1e4),
    (0.7, 2, 0.75, 3.0, 10.0),
]


def random_settings(seed):
    rng = np.random.default_rng(seed)
    return (
        float(rng.uniform(1e-3, 2)),
        int(rng.integers(2, 300)),
        float(rng.uniform(0.05, 0.95)),
        float(rng.uniform(1.5, 50)),
        float(10 ** rng.uniform(0, 5)),
    )


def torch_rates(max_lr, total_steps, pct_start, div_factor, final_div_factor):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=max_lr)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        opt,
        max_lr=max_lr,
        total_steps=total_steps,
        pct_start=pct_start,
        anneal_strategy="cos",
        div_factor=div_factor,
        final_div_factor=final_div_factor,
        three_phase=False,
        cycle_momentum=False,
    )
    rates = []
    for t in range(total_steps):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        if t < total_steps - 1:  # the rate after the last update is never used (with pct_start=1 it is 0/0)
            scheduler.step()
    return np.array(rates)


@pytest.mark.parametrize(
    "settings", SETTINGS + [random_settings(seed) for seed in range(8)], ids=lambda s: "-".join(f"{v:g}" for v in s)
)
def test_one_cycle_matches_torch_at_every_step(settings):
    schedule = one_cycle(*settings)
    ours = np.array([schedule(t) for t in range(settings[1])])
    theirs = torch_rates(*settings)
    np.testing.assert_allclose(ours, theirs, **TOL)
    rel = np.max(np.abs(ours - theirs) / theirs)
    print(f"one_cycle{settings} vs OneCycleLR: max relative difference {rel:.1e} over {settings[1]} steps")


def test_the_closed_form_ends_and_peak():
    max_lr, d, d_f = 0.4, 20.0, 1e3
    s = one_cycle(max_lr, 100, pct_start=0.3, div_factor=d, final_div_factor=d_f)
    assert s(0) == pytest.approx(max_lr / d, rel=1e-15)
    assert s(29) == pytest.approx(max_lr, rel=1e-15)  # W = 0.3 * 100 - 1
    assert s(99) == pytest.approx(max_lr / d / d_f, rel=1e-12)
    rates = [s(t) for t in range(100)]
    assert max(rates) == rates[29]
    assert all(a < b for a, b in zip(rates[:29], rates[1:30], strict=True))  # rises to the peak
    assert all(a > b for a, b in zip(rates[29:-1], rates[30:], strict=True))  # then falls
    # halfway through the fall, the cosine is at its mean
    s2 = one_cycle(1.0, 101, pct_start=1 / 101 * 21, div_factor=4.0, final_div_factor=2.0)  # W = 20, fall 80
    assert s2(60) == pytest.approx((1.0 + 0.125) / 2, rel=1e-12)
    assert s2(10) == pytest.approx((0.25 + 1.0) / 2, rel=1e-12)


def test_sgd_with_one_cycle_follows_torch():
    settings = (0.5, 30, 0.3, 25.0, 1e4)
    target = np.array([1.0, -2.0, 3.0])
    opt = optim.sgd(lr=one_cycle(*settings), momentum=0.9)
    theta = np.zeros(3)
    state = opt.init(theta)
    p = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    topt = torch.optim.SGD([p], lr=0.5, momentum=0.9)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        topt, max_lr=0.5, total_steps=30, pct_start=0.3, cycle_momentum=False, three_phase=False
    )
    for t in range(30):
        theta, state = opt.step(theta, theta - target, state)
        p.grad = (p - torch.from_numpy(target)).detach()
        topt.step()
        sched.step()
        np.testing.assert_allclose(theta, p.detach().numpy(), rtol=1e-12, atol=1e-14, err_msg=f"step {t}")


def test_it_is_a_registered_schedule():
    assert "one_cycle" in schedules.__all__ and schedules.SCHEDULES["one_cycle"] is one_cycle
    s = schedules.get("one_cycle", 0.1, total_steps=10)
    assert isinstance(s, schedules.Schedule) and s(0) == pytest.approx(0.004)
    assert repr(s) == "one_cycle(max_lr=0.1, total_steps=10, pct_start=0.3, div_factor=25.0, final_div_factor=10000.0)"


def test_steps_past_the_cycle_are_refused():
    s = one_cycle(0.1, 10)
    with pytest.raises(ValueError, match=r"total_steps=10.*got step 10"):
        s(10)
    with pytest.raises(ValueError, match="step"):
        s(-1)
    with pytest.raises(TypeError, match="step"):
        s(1.5)
    opt = optim.sgd(lr=s)
    theta, state = np.zeros(1), opt.init(np.zeros(1))
    for _ in range(10):
        theta, state = opt.step(theta, np.ones(1), state)
    with pytest.raises(ValueError, match="total_steps=10"):
        opt.step(theta, np.ones(1), state)


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"max_lr": 0}, ValueError, "max_lr"),
        ({"max_lr": -0.1}, ValueError, "max_lr"),
        ({"max_lr": math.nan}, ValueError, "max_lr"),
        ({"max_lr": "0.1"}, TypeError, "max_lr"),
        ({"total_steps": 0}, ValueError, "total_steps"),
        ({"total_steps": 10.0}, TypeError, "total_steps"),
        ({"total_steps": True}, TypeError, "total_steps"),
        ({"pct_start": -0.1}, ValueError, "pct_start"),
        ({"pct_start": 1.5}, ValueError, "pct_start"),
        ({"pct_start": math.nan}, ValueError, "pct_start"),
        ({"pct_start": None}, TypeError, "pct_start"),
        ({"pct_start": 0.1}, ValueError, "pct_start"),  # 0.1 * 10 = 1: the rise would end at step 0
        ({"div_factor": 0}, ValueError, "div_factor"),
        ({"div_factor": math.inf}, ValueError, "div_factor"),
        ({"final_div_factor": -1.0}, ValueError, "final_div_factor"),
        ({"final_div_factor": "1e4"}, TypeError, "final_div_factor"),
    ],
)
def test_bad_arguments_are_named(kwargs, error, name):
    args = {"max_lr": 0.1, "total_steps": 10, **kwargs}
    with pytest.raises(error, match=name):
        one_cycle(**args)


def test_torch_fails_where_pct_start_times_total_steps_is_one():
    """The refused case is refused because torch's formula is 0/0 there, not by choice."""
    with pytest.raises(ZeroDivisionError):
        torch_rates(0.1, 10, 0.1, 25.0, 1e4)


def test_a_trainer_runs_the_whole_cycle():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3))
    y = X @ np.array([[1.0], [-2.0], [0.5]])
    epochs, batch = 5, 16
    total = epochs * (len(X) // batch)
    schedule = one_cycle(0.05, total)
    trainer = Trainer(nn.MLP([3, 8, 1], activation="tanh", seed=0), optim.adam(lr=schedule), "mse", batch_size=batch)
    h = trainer.fit(X, y, epochs=epochs)
    assert trainer.step == total and h.train_loss[-1] < h.train_loss[0]
    assert h.lr[-1] == schedule(total - 1)
    assert trainer.hyperparameters["lr"] == repr(schedule)
