"""Learner answers to notebook 06's experiment exercise, 06.tune_momentum (see tests/learner_answers.py)."""

from __future__ import annotations

from learner_answers import right, wrong

E = "06.tune_momentum"

wrong(
    E,
    "scan-in-averaging-form",
    "scans in the averaging form v ← βv + (1 − β)∇J and returns that form's best pair",
    """
    def tune_momentum(A, c, theta0, n_steps, target):
        best, best_cost = None, float("inf")
        with np.errstate(over="ignore", invalid="ignore"):
            for beta in (0.5, 0.7, 0.8, 0.9, 0.95):
                for lr in np.geomspace(0.1, 10.0, 16).tolist():
                    theta, v = theta0, 0 * theta0
                    for _ in range(n_steps):
                        v = beta * v + (1 - beta) * (A @ (theta - c))
                        theta = theta - lr * v
                    cost = 0.5 * float((theta - c) @ A @ (theta - c))
                    if cost < best_cost:
                        best, best_cost = (lr, beta), cost
        return best
""",
    expect=("diverge",),
)

wrong(
    E,
    "moves-with-old-velocity",
    "moves θ with the old velocity before adding the new gradient, and tunes that method",
    """
    def tune_momentum(A, c, theta0, n_steps, target):
        best, best_cost = None, float("inf")
        with np.errstate(over="ignore", invalid="ignore"):
            for beta in (0.5, 0.7, 0.8, 0.9, 0.95):
                for lr in np.geomspace(0.1, 10.0, 16).tolist():
                    theta, v = theta0, 0 * theta0
                    for _ in range(n_steps):
                        theta, v = theta - lr * v, beta * v + A @ (theta - c)
                    cost = 0.5 * float((theta - c) @ A @ (theta - c))
                    if cost < best_cost:
                        best, best_cost = (lr, beta), cost
        return best
""",
    expect=("larger",),
)

wrong(
    E,
    "learning-rates-below-one",
    "scans a linear grid of learning rates up to 1, assuming steps must stay below 1",
    """
    def tune_momentum(A, c, theta0, n_steps, target):
        best, best_cost = None, float("inf")
        for beta in (0.5, 0.7, 0.8, 0.9, 0.95):
            for lr in np.linspace(0.01, 1.0, 50).tolist():
                theta, v = theta0, 0 * theta0
                for _ in range(n_steps):
                    v = beta * v + A @ (theta - c)
                    theta = theta - lr * v
                cost = 0.5 * float((theta - c) @ A @ (theta - c))
                if cost < best_cost:
                    best, best_cost = (lr, beta), cost
        return best
""",
    expect=("larger",),
)

wrong(
    E,
    "only-heavy-momentum",
    "keeps β = 0.99 (more momentum, more speed) and tunes only η",
    """
    def tune_momentum(A, c, theta0, n_steps, target):
        best, best_cost = None, float("inf")
        with np.errstate(over="ignore", invalid="ignore"):
            for lr in np.geomspace(0.01, 10.0, 31).tolist():
                theta, v = theta0, 0 * theta0
                for _ in range(n_steps):
                    v = 0.99 * v + A @ (theta - c)
                    theta = theta - lr * v
                cost = 0.5 * float((theta - c) @ A @ (theta - c))
                if cost < best_cost:
                    best, best_cost = (lr, 0.99), cost
        return best
""",
    expect=("rings|less momentum",),
)

wrong(
    E,
    "returns-a-dict",
    "returns the pair as a dict {'lr': ..., 'beta': ...}",
    """
    def tune_momentum(A, c, theta0, n_steps, target):
        L, mu = np.linalg.eigvalsh(gdcourse.to_numpy(A))[[-1, 0]]
        return {"lr": 4 / (L**0.5 + mu**0.5) ** 2, "beta": ((L**0.5 - mu**0.5) / (L**0.5 + mu**0.5)) ** 2}
""",
    expect=("pair",),
)

wrong(
    E,
    "returns-the-best-cost",
    "runs the scan correctly but returns the lowest cost instead of the pair",
    """
    def tune_momentum(A, c, theta0, n_steps, target):
        costs = []
        with np.errstate(over="ignore", invalid="ignore"):
            for beta in (0.5, 0.7, 0.8, 0.9):
                for lr in np.geomspace(0.1, 10.0, 16).tolist():
                    theta, v = theta0, 0 * theta0
                    for _ in range(n_steps):
                        v = beta * v + A @ (theta - c)
                        theta = theta - lr * v
                    costs.append(0.5 * float((theta - c) @ A @ (theta - c)))
        return min(costs)
""",
    expect=("pair",),
)

right(
    E,
    "scan-in-sutskever-form",
    "scans in Sutskever's form v ← βv − η∇J, θ ← θ + v: the same iterates with the same η",
    """
    def tune_momentum(A, c, theta0, n_steps, target):
        best, best_cost = None, float("inf")
        with np.errstate(over="ignore", invalid="ignore"):
            for beta in (0.6, 0.7, 0.8, 0.9):
                for lr in np.geomspace(0.05, 20.0, 40).tolist():
                    theta, v = theta0, 0 * theta0
                    for _ in range(n_steps):
                        v = beta * v - lr * (A @ (theta - c))
                        theta = theta + v
                    cost = 0.5 * float((theta - c) @ A @ (theta - c))
                    if cost < best_cost:
                        best, best_cost = (lr, beta), cost
        return best
""",
)

right(
    E,
    "polyak-from-eigenvalues",
    "computes Polyak's parameters from the extreme eigenvalues instead of experimenting",
    """
    from gdcourse import rates

    def tune_momentum(A, c, theta0, n_steps, target):
        eigenvalues = np.linalg.eigvalsh(gdcourse.to_numpy(A))
        lr, beta, _ = rates.optimal_heavy_ball(eigenvalues.max(), eigenvalues.min())
        return lr, beta
""",
)

right(
    E,
    "optimizer-first-to-reach",
    "uses optim.heavy_ball and returns, as an array, the first pair that reaches the target",
    """
    def tune_momentum(A, c, theta0, n_steps, target):
        with np.errstate(over="ignore", invalid="ignore"):
            for beta in (0.9, 0.8, 0.7, 0.6):
                for lr in np.geomspace(0.2, 8.0, 30).tolist():
                    opt = optim.heavy_ball(lr, momentum=beta)
                    theta, state = theta0, opt.init(theta0)
                    for _ in range(n_steps):
                        theta, state = opt.step(theta, A @ (theta - c), state)
                    if 0.5 * float((theta - c) @ A @ (theta - c)) <= target:
                        return np.array([lr, beta])
        return None
""",
)

E = "06.ringing"

wrong(
    E,
    "larger-lr-text",
    "'a larger learning rate' written out: with complex roots the envelope is √β whatever η is",
    """
    answer = "a larger learning rate"
""",
    expect=("√β|independent of η",),
)
