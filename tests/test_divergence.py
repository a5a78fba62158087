"""gdcourse.divergence: one verdict, in the same words, from every training loop and from diagnose.

The cases a tester found worded wrongly: NaN in the data blamed on the learning rate, eps=0 and float16
0/0 blamed on the learning rate, a NaN gradient with a constant cost reported as "grew to 1", the trainer
and diagnose contradicting each other on [1.0, 0.9, 1.5, nan], RMSprop η=100 and Adam η=10 ending far
above their start without a word; and minimize accepting lr=True and lr="0.1".
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from array_api_compat import device

from gdcourse import backend as B
from gdcourse import divergence, nn, optim
from gdcourse.descent import DivergenceError, minimize, newton
from gdcourse.divergence import Divergence, UnstableRunWarning, check_data, check_end, classify
from gdcourse.lr_range import lr_range_test
from gdcourse.models import LinearRegression, LogisticRegression
from gdcourse.monitoring import diagnose
from gdcourse.precision import train_linear
from gdcourse.stochastic import LeastSquares, sgd_run
from gdcourse.train import Trainer, fit

NAN, INF = float("nan"), float("inf")


class Bowl:
    """J(θ) = ½ θᵀ diag(4, 1) θ, on θ's backend and device."""

    def _diag(self, theta):
        return B.array_namespace(theta).asarray([4.0, 1.0], dtype=theta.dtype, device=device(theta))

    def value(self, theta):
        return 0.5 * B.array_namespace(theta).sum(self._diag(theta) * theta * theta)

    def grad(self, theta):
        return self._diag(theta) * theta


class Scripted:
    """An objective whose cost follows a script (and whose gradient is 0): any loss history on demand."""

    def __init__(self, script):
        self.script, self.calls = list(script), 0

    def value(self, theta):
        self.calls += 1
        return self.script[min(self.calls - 1, len(self.script) - 1)]

    def grad(self, theta):
        return theta * 0.0


def _scripted_loss(script):
    """A loss for the Trainer whose values follow ``script`` (gradients 0, so the model never changes)."""
    calls = []

    def loss(out, target):
        calls.append(1)
        return (out * 0.0).mean() + script[len(calls) - 1]

    return loss


def _data(n=8, d=2, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.normal(size=(n, 1))


# --- check_data: NaN/inf in the data is the data's fault, named before any step ----------------------


def test_check_data_names_the_argument_the_count_and_the_first_position(backend):
    X = np.ones((10, 3))
    X[7, 2] = X[8, 0] = X[9, 1] = np.nan
    with pytest.raises(ValueError, match=r"^X holds 3 NaN values \(first at row 7, column 2\): clean or impute the "
                                         r"data before training$"):
        check_data("X", B.asarray(X))
    y = np.zeros(5)
    y[3], y[4] = np.inf, np.nan
    with pytest.raises(ValueError, match=r"^y holds 1 NaN value and 1 infinite value \(first at index 3\): clean"):
        check_data("y", B.asarray(y))
    with pytest.raises(ValueError, match=r"first at index \(0, 1, 0\)"):
        check_data("images", np.array([[[0.0], [np.inf]]]))
    with pytest.raises(ValueError, match=r"theta0 holds 1 NaN value \(first at index 0\): start from finite"):
        check_data("theta0", np.array([np.nan]), fix="start from finite parameters")
    with pytest.raises(ValueError, match=r"X holds 1 NaN value \(first at row 1, column 0\)"):
        check_data("X", [[1.0, 2.0], [float("nan"), 0.0]])  # lists through NumPy
    for fine in (B.asarray(np.ones((3, 2))), np.arange(4), np.array(["a", "b"]), None, [[1, 2], [3]]):
        check_data("X", fine)  # finite, integer, text, absent, ragged: nothing to say here


def test_nan_in_the_data_is_named_by_every_loop_before_training():
    X, y = _data()
    X[3, 1] = np.nan
    message = r"^X holds 1 NaN value \(first at row 3, column 1\): clean or impute the data before training$"
    with pytest.raises(ValueError, match=message):  # was: "the learning rate is too large"
        fit(nn.Linear(2, 1, seed=0), X, y, optimizer=optim.sgd(lr=0.1), epochs=2, batch_size=4)
    Xc, yc = _data()
    yc[5, 0] = np.inf
    trainer = Trainer(nn.Linear(2, 1, seed=0), optim.sgd(lr=0.1), batch_size=4)
    with pytest.raises(ValueError, match=r"^y holds 1 infinite value \(first at row 5, column 0\)"):
        trainer.fit(Xc, yc, epochs=1)
    with pytest.raises(ValueError, match=r"^X_val holds 1 NaN value"):
        trainer.fit(*_data(), epochs=1, validation=(X, _data()[1]))
    assert trainer.step == 0  # nothing ran
    with pytest.raises(ValueError, match=message):
        LinearRegression().fit(X, y[:, 0])
    with pytest.raises(ValueError, match=message):
        LogisticRegression().fit(X, (y[:, 0] > 0).astype(int))
    Xs, ys = _data(40)
    problem = LeastSquares(B.asarray(Xs), B.asarray(ys[:, 0]))
    Xs[3, 1] = np.nan
    with pytest.raises(ValueError, match=message):
        sgd_run(problem, np.zeros(2), Xs, ys[:, 0], batch_size=8, lr=0.1)
    with pytest.raises(ValueError, match=message):
        train_linear(X, y, dtype="float64", steps=2)


def test_nan_in_theta0_is_named_by_the_loops_that_start_from_it():
    start = np.array([1.0, np.nan])
    message = r"^theta0 holds 1 NaN value \(first at index 1\): start from finite parameters$"
    with pytest.raises(ValueError, match=message):
        minimize(Bowl(), start, lr=0.1)
    with pytest.raises(ValueError, match=message):
        lr_range_test(Bowl(), start)


# --- the decision ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("losses", "params_finite", "cause", "evidence"),
    [
        ([1.0, 0.9, 1.5, NAN], True, "learning_rate", "the cost grew from 0.9 to 1.5 and then became nan"),
        ([1.0, 3.0, 50.0, INF], True, "learning_rate", "the cost grew from 1 to 50 and then became inf"),
        ([2.5, 22.5, 2.6e6], True, "learning_rate", "the cost grew from 2.5 to 2.6e+06, past the bound"),
        ([1.0, 0.6, 0.4, NAN], True, "numerical", "the cost became nan without growing first (it went from 1 to 0.4 "
                                                  "over 3 steps)"),
        ([1.0, 1.0, 1.0, NAN], True, "numerical", "without growing first"),  # flat counts as not growing
        ([1.0, 1.0], False, "numerical", "the parameters stopped being finite while the cost was still finite (1)"),
        ([1.0, 2.0, 8.0], False, "learning_rate", "the cost grew from 1 to 8 and then the parameters stopped"),
        ([NAN], True, "numerical", "the cost is nan at the first step, before any update"),
        ([1.0, INF], True, "learning_rate", "the cost went from 1 to inf in one step, too fast to see it grow"),
    ],
)
def test_the_rules(losses, params_finite, cause, evidence):
    verdict = classify(losses, params_finite)
    assert isinstance(verdict, Divergence) and verdict.cause == cause and verdict.cause in divergence.CAUSES
    assert evidence in verdict.evidence and verdict.step == len(losses) - 1
    assert verdict.message.startswith(f"diverged at step {len(losses) - 1}")
    if cause == "learning_rate":
        assert "smaller learning rate" in verdict.message and "η < 2/L" in verdict.message
        assert "η < 2(1+β)/L with momentum β" in verdict.message  # heavy ball's limit (notebook 06)
    else:
        assert "numerical problem, not" in verdict.message and "smaller learning rate" not in verdict.message


def test_sound_runs_and_the_bound():
    assert classify([1.0, 0.5, 0.25]) is None
    assert classify([0.1, 0.9e6]) is None  # the bound is 1e6 * max(1, |J0|)
    assert classify([0.1, 1.1e6]).cause == "learning_rate"
    assert classify([1.0, 50.0], factor=10.0).cause == "learning_rate"
    assert classify([1.0, 1e300], factor=math.inf) is None  # only finiteness
    with pytest.raises(ValueError, match="divergence_factor must be greater than 1"):
        divergence.check_options(1.0, "raise")
    with pytest.raises(TypeError, match="divergence_factor must be a number"):
        divergence.check_options("1e6", "raise")
    with pytest.raises(ValueError, match="on_divergence must be 'raise' or 'stop'"):
        divergence.check_options(1e6, "ignore")


def test_eps_too_small_for_the_dtype_is_a_numerical_problem():
    verdict = classify([1.0, NAN], eps=0.0)
    assert verdict.cause == "numerical" and "eps=0 is too small for float64" in verdict.message
    verdict = classify([1.0, 0.9, NAN], eps=1e-8, dtype="float16")
    assert verdict.cause == "numerical" and "smallest normal number is 6.1e-05" in verdict.message
    assert classify([1.0, NAN], eps=1e-8, dtype="float32").cause == "learning_rate"  # 1e-8 is fine in float32
    assert classify([1.0, 5.0, NAN], eps=0.0).cause == "learning_rate"  # it grew first: eps is not the story
    assert divergence.smallest_normal("float16") == pytest.approx(6.1035e-05, rel=1e-4)
    assert divergence.optimizer_eps(optim.adam(eps=0.0)) == 0.0 and divergence.optimizer_eps(optim.gd(0.1)) is None


def test_adam_with_eps_0_on_a_zero_column_is_numerical_not_the_learning_rate():
    X, y = _data(30, 3)
    X[:, 1] = 0.0  # an all-zero feature: its gradient is exactly 0, and Adam's step is 0/(0 + eps)
    model = LinearRegression(optimizer="adam", optimizer_kwargs={"eps": 0})
    with pytest.raises(DivergenceError) as err:
        model.fit(X, y[:, 0])
    message = str(err.value)
    assert err.value.verdict.cause == "numerical"
    assert message.startswith("LinearRegression diverged at epoch 1: ")
    assert "eps=0 is too small for float64" in message and "divides 0 by 0" in message
    assert "smaller lr" not in message and "smaller learning rate" not in message
    # the same 0/0 in the plain loop: the parameter of the zero gradient turns NaN while the cost stays finite
    with pytest.raises(DivergenceError, match="eps=0 is too small") as err:
        minimize(lambda t: t[0] ** 2, np.array([1.0, 1.0]), grad=lambda t: np.array([2 * t[0], 0.0]),
                 optimizer=optim.adam(lr=0.1, eps=0.0))
    assert err.value.verdict.cause == "numerical" and "while the cost was still finite" in str(err.value)


def test_float16_underflow_with_the_default_eps_is_numerical():
    """A gradient entry of 1e-9 is 0 in float16, and eps=1e-8 is 0 there too: Adam's step is 0/0."""

    def value(t):
        t = t.astype(np.float64)
        return float(0.5 * t[0] ** 2 + 1e-9 * t[1])

    def grad(t):
        return np.array([t[0], 1e-9]).astype(t.dtype)

    with pytest.raises(DivergenceError, match="eps=1e-08 is too small for float16") as err:
        minimize(value, np.array([1.0, 1.0], dtype=np.float16), grad=grad, optimizer=optim.adam(lr=0.01))
    assert err.value.verdict.cause == "numerical"
    assert minimize(value, np.array([1.0, 1.0], dtype=np.float32), grad=grad, optimizer=optim.adam(lr=0.01),
                    max_iter=50).stop_reason == "max_iter"


def test_nan_gradient_with_a_constant_cost_is_numerical_not_grew_to_1():
    hist = minimize(lambda t: 1.0, np.array([0.5, 0.5]), grad=lambda t: np.full(2, np.nan), lr=0.1,
                    on_divergence="stop")
    assert hist.stop_reason == "diverged" and "grew" not in hist.message
    assert hist.message.startswith("diverged at step 1: the parameters stopped being finite while the cost was "
                                   "still finite (1)")
    assert "numerical problem, not the learning rate" in hist.message
    with pytest.raises(DivergenceError) as err:
        minimize(lambda t: 1.0, np.array([0.5, 0.5]), grad=lambda t: np.full(2, np.nan), lr=0.1)
    assert err.value.verdict.cause == "numerical" and str(err.value) == hist.message


def test_growth_blames_the_learning_rate_and_names_the_step(backend):
    with pytest.raises(DivergenceError) as err:
        minimize(Bowl(), B.asarray([1.0, 1.0]), lr=1.0)
    # J_k = 2 * 9**k first exceeds 1e6 * J0 = 2.5e6 at k = 7
    assert err.value.verdict.cause == "learning_rate" and err.value.verdict.step == 7
    assert str(err.value).startswith("diverged at step 7 with η=1: the cost grew from 2.5 to 9.57e+06, past the bound")
    assert "try a smaller learning rate" in str(err.value)
    problem = LeastSquares(B.asarray(_data(64)[0]), B.asarray(_data(64)[1][:, 0]))
    with pytest.raises(DivergenceError, match=r"^diverged at update \d+ \(epoch \d+, B=16\) with η=") as err:
        sgd_run(problem, B.asarray(np.zeros(2)), problem.X, problem.y, batch_size=16, lr=3.0 / problem.L)
    assert err.value.verdict.cause == "learning_rate"


def test_newton_blames_its_full_step():
    class Hyperbola:  # J = sqrt(1 + θ²): Newton's step maps θ to −θ³, so it diverges from |θ0| > 1
        def value(self, t):
            return float(np.sum(np.sqrt(1 + t**2)))

        def grad(self, t):
            return t / np.sqrt(1 + t**2)

        def hessian(self, t):
            return np.diag((1 + t**2) ** -1.5)

    with np.errstate(over="ignore", invalid="ignore"):  # θ² overflows in the test's own functions
        hist = newton(Hyperbola(), np.array([2.0]), max_iter=20, on_divergence="stop")
    assert hist.stop_reason == "diverged" and hist.n_iter == 6  # 2 → −8 → 512 → ... → inf
    assert hist.message.startswith("diverged at Newton step 6 with η=1: the cost grew from 2.24 to 1.41e+73 and then "
                                   "became inf")
    assert "damp it (θ − η H⁻¹∇J with η < 1, or a line search)" in hist.message


# --- the same history, the same words ---------------------------------------------------------------


def test_one_history_one_verdict_in_every_loop_and_in_diagnose():
    script = [1.0, 0.9, 1.5, NAN]
    decided = classify(script)
    assert decided.cause == "learning_rate"

    with pytest.raises(DivergenceError) as from_minimize:
        minimize(Scripted(script), np.zeros(2), lr=0.1)
    X, y = _data()
    with pytest.raises(DivergenceError) as from_trainer:
        fit(nn.Linear(2, 1, seed=0), X, y, optimizer=optim.sgd(lr=0.1), loss=_scripted_loss(script), epochs=2,
            batch_size=2)
    from_diagnose = diagnose({"step_loss": script, "train_loss": [1.0]})
    from_history = diagnose(from_trainer.value.history)

    for verdict in (from_minimize.value.verdict, from_trainer.value.verdict, from_diagnose.divergence,
                    from_history.divergence):
        assert verdict.cause == decided.cause and verdict.detail == decided.detail
    assert from_diagnose.kind == from_history.kind == "divergence"
    assert from_diagnose.cause == decided.reason and from_diagnose.fix == decided.advice
    assert str(from_minimize.value) == f"diverged at step 3 with η=0.1: {decided.detail}"
    assert str(from_trainer.value) == (
        f"diverged at epoch 1, step 4 of the epoch (update 4 of the run) with η=0.1: {decided.detail}"
    )


def test_a_falling_loss_that_breaks_is_numerical_everywhere():
    script = [1.0, 0.6, 0.4, NAN]
    X, y = _data()
    h = fit(nn.Linear(2, 1, seed=0), X, y, optimizer=optim.sgd(lr=0.1), loss=_scripted_loss(script), epochs=2,
            batch_size=2, on_divergence="stop")
    assert h.stop_reason == "diverged" and "numerical problem" in h.message
    d = diagnose(h)
    assert d.kind == "nan" and d.divergence.detail == classify(script).detail
    assert h.message.endswith(d.divergence.detail)


# --- a run that ends far above its start: a warning of its own ---------------------------------------


def _abs_value(t):
    return float(np.sum(np.abs(t)))


@pytest.mark.parametrize("opt", [optim.rmsprop(lr=100.0), optim.adam(lr=10.0)], ids=["rmsprop-100", "adam-10"])
def test_an_adaptive_rule_with_a_huge_lr_ends_far_above_its_start_with_a_warning(opt):
    """J = |θ₁| + |θ₂| from J0 = 0.002: every step moves by about η, so the cost ends over 1000 times its start."""
    with pytest.warns(UnstableRunWarning) as record:
        hist = minimize(_abs_value, np.array([0.001, 0.001]), grad=np.sign, optimizer=opt, max_iter=100)
    assert hist.stop_reason == "max_iter" and hist.final_loss > 1000 * hist.losses[0]  # under the 1e6 bound
    message = str(record[0].message)
    assert message.startswith("unstable run, ended at step 100 with η=") and "times its start (0.002)" in message
    assert "smaller learning rate" in message
    assert not issubclass(UnstableRunWarning, RuntimeWarning)  # pytest turns gdcourse RuntimeWarnings into errors


def test_the_warning_in_the_estimators_and_silence_for_sound_runs():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 3))
    y = (X @ np.array([1.5, 1.0, -0.5]) + rng.normal(size=300) > 0).astype(int)
    with pytest.warns(UnstableRunWarning, match=r"^unstable run, ended at epoch 100 with η=100: .*For an estimator"):
        LogisticRegression(optimizer="rmsprop", lr=100.0, max_epochs=100).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnstableRunWarning)
        minimize(Bowl(), np.array([1.0, 1.0]), lr=0.1, max_iter=50)
        LogisticRegression(max_epochs=20, tol=None).fit(X, y)
    assert check_end(1.0, 9.9, step=5) is None and check_end(1.0, 10.1, step=5).cause == "grew"
    assert check_end(-1.0, 7.9, step=5) is None and check_end(-1.0, 8.1, step=5).cause == "grew"  # J0 + 9|J0|
    assert check_end(0.0, 1.0, step=5).evidence == "the cost is 1 at the end, above its start (0)"


# --- minimize checks its arguments like gdcourse.optim ------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"lr": True}, TypeError, r"lr must be a positive number or a schedule \(callable step -> lr\), got bool"),
        ({"lr": "0.1"}, TypeError, r"lr must be a positive number or a schedule .*got str"),
        ({"lr": 0.1, "tol_grad": "1e-3"}, TypeError, r"tol_grad must be a number >= 0 or None, got str"),
        ({"lr": 0.1, "tol_loss": -1.0}, ValueError, r"tol_loss must be a finite number >= 0 or None"),
        ({"lr": 0.1, "max_iter": 2.5}, ValueError, r"max_iter must be a non-negative integer"),
        ({"lr": 0.1, "divergence_factor": "big"}, TypeError, r"divergence_factor must be a number"),
    ],
)
def test_minimize_refuses_what_optim_refuses(kwargs, error, match):
    with pytest.raises(error, match=match):
        minimize(Bowl(), np.array([1.0, 1.0]), **kwargs)


@pytest.mark.parametrize("lr", [True, "0.1"])
def test_the_lr_check_is_shared_with_optim(lr):
    messages = []
    for make in (lambda: optim.gd(lr), lambda: optim.gd(lr), lambda: minimize(Bowl(), np.ones(2), lr=lr)):
        with pytest.raises(TypeError) as err:
            make()
        messages.append(str(err.value))
    assert len(set(messages)) == 1


def test_a_gradient_of_the_wrong_shape_is_refused_at_the_first_step():
    with pytest.raises(ValueError, match=r"^grad returned shape \(1,\) for theta of shape \(2,\)$"):
        minimize(lambda t: float(np.sum((t - [1.0, -1.0]) ** 2)), np.zeros(2), grad=lambda t: np.ones(1), lr=0.1)
    with pytest.raises(TypeError, match=r"grad returned a list, expected an array of theta's shape \(2,\)"):
        minimize(lambda t: 0.0, np.zeros(2), grad=lambda t: [0.0, 0.0], lr=0.1)
    Xs, ys = _data(20)
    problem = LeastSquares(Xs, ys[:, 0])
    with pytest.raises(ValueError, match=r"grad returned shape \(3,\) for theta of shape \(2,\)"):
        sgd_run(problem, np.zeros(2), Xs, ys[:, 0], batch_size=5, lr=0.1, grad_batch=lambda t, xb, yb: np.ones(3))


def test_minibatch_noise_is_not_taken_for_growth():
    """Per-step minibatch losses jump ±50% around a falling trend; a NaN after them is numerical, not the lr.

    Growth is judged on means over windows of 16+ costs (found by a learner exercise's recorded runs, where
    a single noisy loss 25% above the best one made every NaN "the learning rate").
    """
    trapped = 0
    for seed in range(20):
        rng = np.random.default_rng(seed)
        noisy = 0.3 * np.exp(-np.arange(60) / 40) * np.clip(1 + 0.5 * rng.standard_normal(60), 0.2, None)
        trapped += noisy[-1] - min(noisy[:-1]) > 0.25 * min(noisy[:-1])  # single costs would say "grew"
        verdict = divergence.classify([*noisy, math.nan])
        assert verdict.cause == "numerical", (seed, verdict.message)
    assert trapped >= 10
    exploding = [0.3 * 1.3**k for k in range(30)] + [math.nan]
    verdict = divergence.classify(exploding)
    assert verdict.cause == "learning_rate" and "(means over 3 steps)" in verdict.message
    assert divergence.grew([1.0, 0.9, 1.5]) == (0.9, 1.5, 1)  # short histories: single costs, as before
