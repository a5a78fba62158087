"""Learner answers to notebook 10's experiment exercise, 10.tune_budget (see tests/learner_answers.py)."""

from __future__ import annotations

from learner_answers import right, wrong

E = "10.tune_budget"

wrong(E, "uniform-draws-own-loop", "random search in its own loop, drawing the learning rate uniformly", """
    def tune_budget(objective, bounds, budget):
        rng = np.random.default_rng(1)
        best, best_value = None, float("inf")
        for _ in range(budget):
            lr = rng.uniform(*bounds["lr"])
            wd = rng.uniform(*bounds["weight_decay"])
            value = objective(lr=lr, weight_decay=wd)
            if value < best_value:
                best, best_value = (lr, wd), value
        return best
""", expect=("log scale",))

wrong(E, "swapped-pair", "a log-scale random search that returns (weight_decay, lr), the wrong order", """
    def tune_budget(objective, bounds, budget):
        rng = np.random.default_rng(3)
        lrs = np.exp(rng.uniform(*np.log(bounds["lr"]), size=budget))
        wds = np.exp(rng.uniform(*np.log(bounds["weight_decay"]), size=budget))
        values = [objective(lr=a, weight_decay=b) for a, b in zip(lrs, wds)]
        i = int(np.argmin(values))
        return wds[i], lrs[i]
""", expect=("outside|lower|higher",))

wrong(E, "returns-grid-exponents", "a log grid over the exponents that returns the exponents, not the values", """
    def tune_budget(objective, bounds, budget):
        k = int(math.sqrt(budget))
        best, best_value = None, float("inf")
        for e_lr in np.linspace(*np.log10(bounds["lr"]), k):
            for e_wd in np.linspace(*np.log10(bounds["weight_decay"]), k):
                value = objective(lr=10 ** e_lr, weight_decay=10 ** e_wd)
                if value < best_value:
                    best, best_value = (e_lr, e_wd), value
        return best
""", expect=("logarithm",))

wrong(E, "default-learning-rate", "keeps the usual default lr = 0.01 and spends the budget on the weight decay", """
    def tune_budget(objective, bounds, budget):
        wds = np.geomspace(*bounds["weight_decay"], budget)
        values = [objective(lr=0.01, weight_decay=w) for w in wds]
        return 0.01, float(wds[int(np.argmin(values))])
""", expect=("lower",))

wrong(E, "returns-the-best-loss", "runs the search but returns the best validation loss, not the setting", """
    from gdcourse import tuning
    from gdcourse.tuning import LogUniform

    def tune_budget(objective, bounds, budget):
        space = {"lr": LogUniform(*bounds["lr"]), "weight_decay": LogUniform(*bounds["weight_decay"])}
        return tuning.random_search(objective, space, budget, seed=0).best.value
""", expect=("pair",))

wrong(E, "three-learning-rates", "a log grid of 3 learning rates × 10 weight decays: the budget on the wrong axis", """
    def tune_budget(objective, bounds, budget):
        grid = [(lr, wd) for lr in np.geomspace(*bounds["lr"], 3) for wd in np.geomspace(*bounds["weight_decay"], 10)]
        return min(grid, key=lambda p: objective(lr=p[0], weight_decay=p[1]))
""", expect=("lower|higher",))

right(E, "log-grid", "a log-spaced grid of about √budget levels per hyperparameter", """
    def tune_budget(objective, bounds, budget):
        k = math.isqrt(budget)
        grid = [(float(lr), float(wd)) for lr in np.geomspace(*bounds["lr"], k)
                for wd in np.geomspace(*bounds["weight_decay"], budget // k)]
        return min(grid, key=lambda p: objective(lr=p[0], weight_decay=p[1]))
""")

right(E, "vectorised-log-draws", "draws all exponents at once and evaluates the objective on arrays", """
    def tune_budget(objective, bounds, budget):
        rng = np.random.default_rng(7)
        lr = 10.0 ** rng.uniform(*np.log10(bounds["lr"]), size=budget)
        wd = 10.0 ** rng.uniform(*np.log10(bounds["weight_decay"]), size=budget)
        i = int(np.argmin(objective(lr=lr, weight_decay=wd)))
        return [lr[i], wd[i]]
""")

right(E, "best-params-dict", "the notebook's random search, returning best.params as it comes", """
    from gdcourse import tuning
    from gdcourse.tuning import LogUniform

    def tune_budget(objective, bounds, budget):
        space = {"lr": LogUniform(*bounds["lr"]), "weight_decay": LogUniform(*bounds["weight_decay"])}
        return tuning.random_search(objective, space, budget, seed=42).best.params
""")

right(E, "bayesian-search", "Bayesian optimisation with the same budget", """
    from gdcourse import tuning
    from gdcourse.tuning import LogUniform

    def tune_budget(objective, bounds, budget):
        space = {"lr": LogUniform(*bounds["lr"]), "weight_decay": LogUniform(*bounds["weight_decay"])}
        best = tuning.bayesian_search(objective, space, budget, seed=0).best.params
        return best["lr"], best["weight_decay"]
""")
