"""gdcourse.tuning: search spaces, the three search methods, failures, executors, and the acceptance race.

The race at the end is the fast version of ``benchmarks/tuning.py`` (budget 30 instead of 40):
over 10 seeds, Bayesian search reaches a given gap to the optimum in fewer trials than random
search, and random search in fewer than grid search, on a synthetic surface with a known
minimum and on a real model's validation loss.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from conftest import require
from scipy.stats import norm

from gdcourse.tuning import (
    Categorical,
    Integer,
    LogisticValidation,
    LogUniform,
    LrMomentumSurface,
    SerialExecutor,
    Space,
    Uniform,
    bayesian_search,
    expected_improvement,
    grid_search,
    propose,
    race,
    random_search,
    search,
)
from gdcourse.tuning.bayes import fit_gp

METHODS = {"grid": grid_search, "random": random_search, "bayes": bayesian_search}
SMALL_BO = {"n_initial": 4, "n_candidates": 200}


def _key(result):
    return [(t.index, t.params, None if math.isnan(t.value) else t.value, t.status, t.error) for t in result.trials]


def _options(method):
    return SMALL_BO if method == "bayes" else {}


# --- spaces ---------------------------------------------------------------------------------------


def test_log_uniform_puts_equal_mass_in_every_decade():
    dim = LogUniform(1e-4, 1.0)
    x = np.array(dim.sample(np.random.default_rng(0), 20_000))
    assert x.min() >= 1e-4 and x.max() <= 1.0
    per_decade = np.histogram(np.log10(x), bins=[-4, -3, -2, -1, 0])[0] / len(x)
    np.testing.assert_allclose(per_decade, 0.25, atol=0.015)
    assert dim.levels(5) == pytest.approx([1e-4, 1e-3, 1e-2, 1e-1, 1.0])
    assert dim.levels(5)[0] == 1e-4 and dim.levels(5)[-1] == 1.0  # the ends exactly


def test_integer_and_categorical_dimensions():
    rng = np.random.default_rng(1)
    ints = Integer(1, 4)
    draws = ints.sample(rng, 4000)
    assert set(draws) == {1, 2, 3, 4} and all(isinstance(v, int) for v in draws)
    np.testing.assert_allclose(np.bincount(draws)[1:] / 4000, 0.25, atol=0.03)
    logints = Integer(16, 256, log=True)
    draws = np.array(logints.sample(rng, 4000))
    assert draws.min() >= 16 and draws.max() <= 256
    assert 0.4 < np.mean(draws <= 64) < 0.6  # log2: 16..64 is half of 16..256
    cat = Categorical(["sgd", "adam", 3])
    assert set(cat.sample(rng, 200)) == {"sgd", "adam", 3}
    assert cat.levels(2) == ["sgd", 3] and cat.levels(9) == ["sgd", "adam", 3]
    np.testing.assert_array_equal(cat.encode(["adam", 3]), [[0, 1, 0], [0, 0, 1]])


def test_encode_decode_and_snap_agree():
    space = Space(
        {
            "lr": LogUniform(1e-3, 10.0),
            "momentum": Uniform(0.0, 0.99),
            "batch": Integer(16, 256, log=True),
            "layers": Integer(1, 5),
            "opt": Categorical(["sgd", "adam"]),
        }
    )
    assert space.width == 6
    trials = space.sample(np.random.default_rng(2), 50)
    u = space.encode(trials)
    assert u.shape == (50, 6) and u.min() >= 0 and u.max() <= 1
    back = space.decode(u)
    for a, b in zip(trials, back, strict=True):
        assert a["batch"] == b["batch"] and a["layers"] == b["layers"] and a["opt"] == b["opt"]
        assert a["lr"] == pytest.approx(b["lr"]) and a["momentum"] == pytest.approx(b["momentum"])
    noise = np.random.default_rng(3).uniform(-0.2, 1.2, size=(300, 6))
    np.testing.assert_allclose(space.snap(noise), space.encode(space.decode(noise)))


def test_first_trials_of_a_longer_sample_are_the_shorter_sample():
    space = LrMomentumSurface().space
    long = space.sample(np.random.default_rng(5), 20)
    assert long[:7] == space.sample(np.random.default_rng(5), 7)


@pytest.mark.parametrize("budget", [1, 7, 16, 40, 100])
def test_grid_is_as_large_as_the_budget_allows(budget):
    space = LrMomentumSurface().space
    shape = space.grid_shape(budget)
    points = space.grid(budget)
    assert len(points) == math.prod(shape.values()) <= budget
    assert list(shape.values()) == sorted(shape.values(), reverse=True)  # earlier dimensions first
    assert all(math.prod(v + (n == m) for n, v in shape.items()) > budget for m in shape)  # none can grow
    assert len({tuple(p.values()) for p in points}) == len(points)


def test_grid_respects_small_categoricals():
    space = Space({"opt": Categorical(["sgd", "adam"]), "lr": LogUniform(1e-3, 1.0)})
    assert space.grid_shape(10) == {"opt": 2, "lr": 5}


def test_bad_spaces_are_refused_with_clear_errors():
    with pytest.raises(ValueError, match="low > 0"):
        LogUniform(0.0, 1.0)
    with pytest.raises(ValueError, match="low < high"):
        Uniform(1.0, 1.0)
    with pytest.raises(TypeError, match="int"):
        Integer(1.5, 3)
    with pytest.raises(ValueError, match="repeated"):
        Categorical(["a", "a"])
    with pytest.raises(TypeError, match="LogUniform"):
        Space({"lr": (1e-3, 1.0)})
    with pytest.raises(ValueError, match="identifier"):
        Space({"learning rate": Uniform(0, 1)})


def test_bad_search_arguments_are_refused():
    surface = LrMomentumSurface()
    with pytest.raises(ValueError, match="budget"):
        random_search(surface, surface.space, 0)
    with pytest.raises(ValueError, match="seed"):
        random_search(surface, surface.space, 5, seed=-1)
    with pytest.raises(TypeError, match="callable"):
        random_search(None, surface.space, 5)
    with pytest.raises(TypeError, match="executor"):
        random_search(surface, surface.space, 5, executor="dask")
    with pytest.raises(ValueError, match="unknown search method"):
        search(surface, surface.space, 5, method="hyperband")


# --- determinism ----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_same_seed_same_trials(method):
    surface = LrMomentumSurface(seed=4)
    first = METHODS[method](surface, surface.space, 12, seed=7, **_options(method))
    again = METHODS[method](surface, surface.space, 12, seed=7, **_options(method))
    assert _key(first) == _key(again)
    other = METHODS[method](surface, surface.space, 12, seed=8, **_options(method))
    if method == "grid":  # same points, another order
        assert sorted(map(str, first.params_list())) == sorted(map(str, other.params_list()))
    assert first.params_list() != other.params_list()


def test_grid_without_shuffle_is_nested_loop_order():
    space = Space({"a": Uniform(0, 1), "b": Categorical(["x", "y"])})
    result = grid_search(lambda a, b: a, space, 4, shuffle=False)
    expected = [{"a": 0.0, "b": "x"}, {"a": 0.0, "b": "y"}, {"a": 1.0, "b": "x"}, {"a": 1.0, "b": "y"}]
    assert result.params_list() == expected


def test_bayesian_search_starts_with_the_random_searchs_first_trials():
    surface = LrMomentumSurface()
    bayes = bayesian_search(surface, surface.space, 8, seed=3, **SMALL_BO)
    rand = random_search(surface, surface.space, 8, seed=3)
    assert bayes.params_list()[:4] == rand.params_list()[:4]
    assert bayes.params_list()[4:] != rand.params_list()[4:]


def test_propose_replays_the_choice_of_a_finished_search():
    """propose() is a pure function of (trials, seed): a notebook can redraw any step exactly."""
    surface = LrMomentumSurface()
    result = bayesian_search(surface, surface.space, 9, seed=11, **SMALL_BO)
    for n in (4, 6, 8):
        proposal = propose(surface.space, result.trials[:n], 11, n_initial=4, n_candidates=200)
        assert proposal.params == [result.trials[n].params]
        assert proposal.gp is not None and proposal.ei.shape == (len(proposal.candidates),)
        chosen = surface.space.encode([result.trials[n].params])
        distance = np.linalg.norm(proposal.candidates - chosen, axis=1)
        assert np.argmax(proposal.ei) == np.argmin(distance) and distance.min() < 1e-9


# --- failures -------------------------------------------------------------------------------------


def _fragile(lr, momentum, weight_decay=1e-4, batch_size=64):
    """The surface, except that training 'diverges' (NaN) or crashes in parts of the space."""
    if lr / (1 - momentum) > 0.5:
        return float("nan")
    if batch_size > 200:
        raise MemoryError("batch does not fit")
    if momentum > 0.95:
        return "diverged"
    return LrMomentumSurface()(lr, momentum, weight_decay, batch_size)


@pytest.mark.parametrize("method", METHODS)
def test_failed_trials_are_recorded_and_the_search_goes_on(method):
    space = LrMomentumSurface().space
    result = METHODS[method](_fragile, space, 30, seed=1, **_options(method))
    assert len(result) == (24 if method == "grid" else 30)
    failed = [t for t in result.trials if not t.ok]
    assert failed and any(t.ok for t in result.trials)
    for t in failed:
        assert t.status == "failed" and math.isnan(t.value)
        assert t.error == "returned nan" or t.error.startswith(("MemoryError: batch", "returned str"))
    for t in result.trials:
        assert t.ok == (t.error is None)
    assert result.best.ok and result.best.value == np.nanmin(result.values)
    curve = result.best_so_far
    first_ok = next(t.index for t in result.trials if t.ok)
    assert np.all(np.isnan(curve[:first_ok])) and np.all(np.diff(curve[first_ok:]) <= 0)


def test_bayesian_search_fits_only_successful_trials_and_steers_away_from_failures():
    space = LrMomentumSurface().space
    result = bayesian_search(_fragile, space, 30, seed=2, **SMALL_BO)
    proposal = propose(space, result.trials, 2, n_initial=4, n_candidates=200)
    n_ok = sum(t.ok for t in result.trials)
    assert proposal.gp.X_train_.shape == (n_ok, space.width)
    np.testing.assert_allclose(proposal.gp.X_train_, space.encode([t.params for t in result.trials if t.ok]))
    # the rule of away_from_failures: never propose a setting whose nearest earlier trial failed
    x = space.encode(result.params_list())
    for n in range(4, 30):
        nearest = int(np.argmin(np.sum((x[:n] - x[n]) ** 2, axis=1)))
        assert result.trials[nearest].ok, n


def test_bayesian_search_survives_an_objective_that_always_fails():
    def broken(lr, momentum):
        raise RuntimeError("no GPU")

    space = {"lr": LogUniform(1e-3, 1.0), "momentum": Uniform(0, 0.9)}
    result = bayesian_search(broken, space, 8, seed=0, n_initial=3)
    assert len(result) == 8 and result.best is None
    assert all(t.error == "RuntimeError: no GPU" for t in result.trials)
    assert np.all(np.isnan(result.best_so_far)) and result.trials_to_reach(1.0) is None


def test_an_objective_may_return_a_scalar_array_of_any_backend(xp):
    def loss(lr, momentum):
        return xp.sum(xp.asarray([lr, momentum], dtype=xp.float64) ** 2)

    result = random_search(loss, {"lr": LogUniform(1e-3, 1.0), "momentum": Uniform(0, 0.9)}, 5, seed=0)
    assert all(t.ok for t in result.trials)
    np.testing.assert_allclose(result.values, [t.params["lr"] ** 2 + t.params["momentum"] ** 2 for t in result.trials])
    bad = random_search(lambda lr: xp.asarray([lr, lr]), {"lr": LogUniform(1e-3, 1.0)}, 2, seed=0)
    assert all(t.error == "returned an array of shape (2,), not one number" for t in bad.trials)


# --- executors ------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_a_thread_pool_gives_the_same_trials_as_the_serial_run(method):
    space = LrMomentumSurface().space
    serial = METHODS[method](_fragile, space, 14, seed=5, **_options(method))
    with ThreadPoolExecutor(max_workers=3) as pool:
        parallel = METHODS[method](_fragile, space, 14, seed=5, executor=pool, **_options(method))
    assert _key(parallel) == _key(serial)
    assert _key(METHODS[method](_fragile, space, 14, seed=5, executor=SerialExecutor(), **_options(method))) == _key(
        serial
    )


def test_batched_bayesian_search_is_deterministic_and_proposes_distinct_points():
    surface = LrMomentumSurface()
    space = surface.space
    serial = bayesian_search(surface, space, 13, seed=6, batch_size=3, **SMALL_BO)
    with ThreadPoolExecutor(max_workers=3) as pool:
        parallel = bayesian_search(surface, space, 13, seed=6, executor=pool, batch_size=3, **SMALL_BO)
    assert _key(parallel) == _key(serial) and len(serial) == 13
    batch = serial.params_list()[4:7]
    assert len({tuple(p.values()) for p in batch}) == 3


def test_dask_local_cluster_gives_the_same_trials_as_the_serial_run():
    distributed = require("distributed")
    surface = LrMomentumSurface(seed=2)
    serial = {m: METHODS[m](_fragile, surface.space, 10, seed=3, **_options(m)) for m in METHODS}
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        executor = client.get_executor()
        for method in METHODS:
            on_dask = METHODS[method](_fragile, surface.space, 10, seed=3, executor=executor, **_options(method))
            assert _key(on_dask) == _key(serial[method]), method


# --- expected improvement and the surrogate -------------------------------------------------------


def test_expected_improvement_matches_its_definition():
    rng = np.random.default_rng(0)
    best = 1.0
    for mu, sigma, xi in [(1.2, 0.5, 0.0), (0.7, 0.1, 0.0), (1.0, 2.0, 0.1), (3.0, 0.3, 0.0)]:
        samples = rng.normal(mu, sigma, size=400_000)
        monte_carlo = np.mean(np.maximum(best - xi - samples, 0.0))
        assert expected_improvement(mu, sigma, best, xi) == pytest.approx(monte_carlo, rel=0.02, abs=1e-4)
    z = (best - 0.8) / 0.3
    assert expected_improvement(0.8, 0.3, best) == pytest.approx((best - 0.8) * norm.cdf(z) + 0.3 * norm.pdf(z))
    np.testing.assert_allclose(expected_improvement([0.5, 1.5], [0.0, 0.0], best), [0.5, 0.0])
    ei = expected_improvement(np.full(5, 1.0), np.linspace(0.1, 1.0, 5), best)
    assert np.all(np.diff(ei) > 0)  # at equal mean, more uncertainty is worth more


def test_the_gp_interpolates_a_smooth_function_and_is_uncertain_away_from_the_data():
    x = np.linspace(0, 1, 8)[:, None]
    y = np.sin(6 * x[:, 0])
    gp = fit_gp(x, y, seed=0)
    mu, sigma = gp.predict(x, return_std=True)
    np.testing.assert_allclose(mu, y, atol=1e-3)
    _, far = gp.predict(np.array([[0.5 / 7], [1.6]]), return_std=True)
    assert sigma.max() < far[0] < far[1]


# --- problems with a known optimum ----------------------------------------------------------------


@pytest.mark.parametrize("seed", [None, 0, 3])
def test_surface_minimum_is_where_it_says(seed):
    surface = LrMomentumSurface(seed=seed)
    assert surface(**surface.argmin) == pytest.approx(surface.minimum)
    for p in surface.space.sample(np.random.default_rng(1), 500):
        assert surface(**p) >= surface.minimum
    lr = np.geomspace(1e-4, 1, 50)[:, None]
    assert surface(lr, np.linspace(0, 0.99, 40)[None, :]).shape == (50, 40)


def test_logistic_objective_trains_with_gdcourse_optim_and_matches_the_vectorised_version():
    problem = LogisticValidation()
    settings = problem.space.sample(np.random.default_rng(0), 6) + [{"lr": 10.0, "momentum": 0.99, "weight_decay": 1.0}]
    one_by_one = np.array([problem(**p) for p in settings])
    together = problem.many(*(np.array([p[k] for p in settings]) for k in ("lr", "momentum", "weight_decay")))
    np.testing.assert_allclose(together, one_by_one, rtol=1e-10)
    assert math.isnan(one_by_one[-1])  # diverged: a failed trial
    assert np.all((one_by_one[:-1] > 0) & (one_by_one[:-1] < 1))


# --- acceptance: Bayesian < random < grid in trials to reach a gap, 10 seeds ----------------------


def _check_order(result, target, label):
    summary = result.summary(target)
    line = ", ".join(f"{m} {s['mean_trials']:.1f} ({s['reached']}/10)" for m, s in summary.items())
    print(f"\n{label}: mean trials to reach the target over 10 seeds: {line}")
    assert summary["bayes"]["mean_trials"] < summary["random"]["mean_trials"] < summary["grid"]["mean_trials"], line


def test_race_on_a_surface_with_a_known_minimum():
    result = race(LrMomentumSurface, 30, range(10), per_seed=True)
    for gap in (0.02, 0.05):
        _check_order(result, LrMomentumSurface.f0 + gap, f"LrMomentumSurface, gap {gap}")


def test_race_on_a_real_models_validation_loss():
    problem = LogisticValidation()
    result = race(problem, 30, range(10))
    estimate, _ = problem.estimate_minimum(n_grid=12)
    best_found = min(float(np.nanmin(r.values)) for runs in result.results.values() for r in runs)
    assert best_found >= estimate - 1e-6  # the estimate is the optimum as far as anyone found
    for gap in (0.01, 0.02):
        _check_order(result, estimate + gap, f"logistic regression validation loss, gap {gap}")
