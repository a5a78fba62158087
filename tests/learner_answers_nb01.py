"""Learner answers to notebook 01's experiment exercise, 01.lr_for_budget (see tests/learner_answers.py)."""

from __future__ import annotations

from learner_answers import right, wrong

E = "01.lr_for_budget"

wrong(
    E,
    "linear-grid-below-one",
    "scans a linear grid up to 1, assuming steps must stay below 1",
    """
    def lr_for_budget(A, theta0, n_steps, target):
        best, best_cost = None, float("inf")
        for lr in np.linspace(0.01, 1.0, 100).tolist():
            theta = theta0
            for _ in range(n_steps):
                theta = theta - lr * (A @ theta)
            cost = 0.5 * float(theta @ A @ theta)
            if cost < best_cost:
                best, best_cost = lr, cost
        return best
""",
    expect=("larger",),
)

wrong(
    E,
    "largest-that-does-not-diverge",
    "keeps the largest learning rate whose run does not blow up",
    """
    def lr_for_budget(A, theta0, n_steps, target):
        start = 0.5 * float(theta0 @ A @ theta0)
        best = None
        for lr in np.geomspace(1e-3, 10.0, 400).tolist():
            theta = theta0
            for _ in range(n_steps):
                theta = theta - lr * (A @ theta)
            if 0.5 * float(theta @ A @ theta) < start:
                best = lr
        return best
""",
    expect=("smaller",),
)

wrong(
    E,
    "returns-the-cost",
    "runs the scan correctly but returns the best cost instead of the learning rate",
    """
    def lr_for_budget(A, theta0, n_steps, target):
        costs = {}
        for lr in np.geomspace(1e-3, 10.0, 121).tolist():
            theta = theta0
            for _ in range(n_steps):
                theta = theta - lr * (A @ theta)
            costs[lr] = 0.5 * float(theta @ A @ theta)
        return min(costs.values())
""",
    expect=("larger",),
)

wrong(
    E,
    "stale-gradient",
    "evaluates the gradient at theta0 in every step, so each run moves along one line",
    """
    def lr_for_budget(A, theta0, n_steps, target):
        grad = A @ theta0
        best, best_cost = None, float("inf")
        for lr in np.geomspace(1e-3, 10.0, 121).tolist():
            theta = theta0
            for _ in range(n_steps):
                theta = theta - lr * grad
            cost = 0.5 * float(theta @ A @ theta)
            if cost < best_cost:
                best, best_cost = lr, cost
        return best
""",
    expect=("larger",),
)

wrong(
    E,
    "one-step-scan",
    "judges every learning rate by the cost after a single step instead of the whole budget",
    """
    def lr_for_budget(A, theta0, n_steps, target):
        best, best_cost = None, float("inf")
        for lr in np.geomspace(1e-3, 10.0, 121).tolist():
            theta = theta0 - lr * (A @ theta0)
            cost = 0.5 * float(theta @ A @ theta)
            if cost < best_cost:
                best, best_cost = lr, cost
        return best
""",
    expect=("larger",),
)

right(
    E,
    "first-to-reach-target",
    "returns the first learning rate of a fine log grid whose run reaches the target",
    """
    def lr_for_budget(A, theta0, n_steps, target):
        for lr in np.geomspace(1e-3, 10.0, 400).tolist():
            theta = theta0
            for _ in range(n_steps):
                theta = theta - lr * (A @ theta)
            if 0.5 * float(theta @ A @ theta) <= target:
                return lr
        return None
""",
)

right(
    E,
    "theory",
    "computes the fastest fixed step 2/(L + mu) from the eigenvalues instead of experimenting",
    """
    def lr_for_budget(A, theta0, n_steps, target):
        eigenvalues = np.linalg.eigvalsh(gdcourse.to_numpy(A))
        return 2.0 / (eigenvalues.min() + eigenvalues.max())
""",
)

right(
    E,
    "numpy-scalar-from-argmin",
    "sweeps on host copies and returns a NumPy float from argmin",
    """
    def lr_for_budget(A, theta0, n_steps, target):
        A, theta0 = gdcourse.to_numpy(A), gdcourse.to_numpy(theta0)
        grid = np.geomspace(1e-2, 10.0, 200)
        finals = []
        for lr in grid:
            theta = theta0.copy()
            for _ in range(n_steps):
                theta = theta - lr * (A @ theta)
            finals.append(0.5 * theta @ A @ theta)
        return grid[int(np.nanargmin(finals))]
""",
)
