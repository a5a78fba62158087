"""Learner answers to notebook 02's experiment exercise, 02.beat_the_budget (see tests/learner_answers.py)."""

from __future__ import annotations

from learner_answers import right, wrong

E = "02.beat_the_budget"

wrong(
    E,
    "best-raw-learning-rate",
    "tunes η on the raw features only and returns the best one it finds",
    """
    def beat_the_budget(X, y, n_steps, tol):
        X, y = gdcourse.to_numpy(X), gdcourse.to_numpy(y)
        X1 = np.column_stack([X, np.ones(len(y))])
        L = np.linalg.eigvalsh(2 * X1.T @ X1 / len(y)).max()
        best, best_cost = None, np.inf
        for lr in np.linspace(0.1, 1.9, 19) / L:
            theta = np.zeros(X1.shape[1])
            for _ in range(n_steps):
                theta = theta - lr * 2 / len(y) * X1.T @ (X1 @ theta - y)
            cost = np.mean((X1 @ theta - y) ** 2)
            if cost < best_cost:
                best, best_cost = lr, cost
        return False, float(best)
""",
    expect=("standardise",),
)

wrong(
    E,
    "l-computed-once-on-raw",
    "computes L once, on the raw features, and reuses it for the standardised run",
    """
    def beat_the_budget(X, y, n_steps, tol):
        n = X.shape[0]
        X1 = xp.concat([X, xp.ones((n, 1))], axis=1)
        J_star = float(xp.mean((X1 @ xp.linalg.solve(X1.T @ X1, X1.T @ y) - y) ** 2))
        L = 2 * float(xp.max(xp.linalg.eigvalsh(X1.T @ X1 / n)))
        Z = (X - xp.mean(X, axis=0)) / xp.std(X, axis=0)
        for standardize, F in ((False, X), (True, Z)):
            F1 = xp.concat([F, xp.ones((n, 1))], axis=1)
            for lr in (0.5 / L, 1 / L, 1.5 / L):
                theta = xp.zeros(F1.shape[1])
                for _ in range(n_steps):
                    theta = theta - lr * 2 / n * (F1.T @ (F1 @ theta - y))
                if float(xp.mean((F1 @ theta - y) ** 2)) - J_star <= tol:
                    return standardize, lr
        return True, lr
""",
    expect=("small",),
)

wrong(
    E,
    "cost-compared-with-tol",
    "stops when the cost itself is below tol, forgetting J*, and returns None",
    """
    def beat_the_budget(X, y, n_steps, tol):
        n = X.shape[0]
        Z = (X - xp.mean(X, axis=0)) / xp.std(X, axis=0)
        for standardize, F in ((False, X), (True, Z)):
            F1 = xp.concat([F, xp.ones((n, 1))], axis=1)
            lr = 1 / (2 * float(xp.max(xp.linalg.eigvalsh(F1.T @ F1 / n))))
            theta = xp.zeros(F1.shape[1])
            for _ in range(n_steps):
                theta = theta - lr * 2 / n * (F1.T @ (F1 @ theta - y))
            if float(xp.mean((F1 @ theta - y) ** 2)) <= tol:
                return standardize, lr
        return None
""",
    expect=("pair",),
)

wrong(
    E,
    "returns-l-not-lr",
    "standardises and returns the curvature L instead of the learning rate 1/L",
    """
    def beat_the_budget(X, y, n_steps, tol):
        n = X.shape[0]
        Z = (X - xp.mean(X, axis=0)) / xp.std(X, axis=0)
        Z1 = xp.concat([Z, xp.ones((n, 1))], axis=1)
        return True, 2 * float(xp.max(xp.linalg.eigvalsh(Z1.T @ Z1 / n)))
""",
    expect=("stability",),
)

wrong(
    E,
    "string-flag",
    "describes the choice in words instead of a bool",
    """
    def beat_the_budget(X, y, n_steps, tol):
        n = X.shape[0]
        Z = (X - xp.mean(X, axis=0)) / xp.std(X, axis=0)
        Z1 = xp.concat([Z, xp.ones((n, 1))], axis=1)
        return "standardize", 1 / (2 * float(xp.max(xp.linalg.eigvalsh(Z1.T @ Z1 / n))))
""",
    expect=("true or false",),
)

wrong(
    E,
    "habitual-small-rate",
    "standardises, then uses a habitual η = 0.01 instead of one fitted to the bowl",
    """
    def beat_the_budget(X, y, n_steps, tol):
        return True, 0.01
""",
    expect=("small",),
)

right(
    E,
    "sweep-on-host-with-lstsq",
    "sweeps η on host copies for both feature sets, J* from np.linalg.lstsq",
    """
    def beat_the_budget(X, y, n_steps, tol):
        X, y = gdcourse.to_numpy(X), gdcourse.to_numpy(y)
        n = len(y)
        X1 = np.column_stack([X, np.ones(n)])
        J_star = np.mean((X1 @ np.linalg.lstsq(X1, y, rcond=None)[0] - y) ** 2)
        best = None
        for standardize in (False, True):
            F = (X - X.mean(axis=0)) / X.std(axis=0) if standardize else X
            F1 = np.column_stack([F, np.ones(n)])
            L = np.linalg.eigvalsh(2 * F1.T @ F1 / n).max()
            for lr in np.linspace(0.2, 1.8, 17) / L:
                theta = np.zeros(F1.shape[1])
                for _ in range(n_steps):
                    theta -= lr * 2 / n * F1.T @ (F1 @ theta - y)
                gap = np.mean((F1 @ theta - y) ** 2) - J_star
                if best is None or gap < best[0]:
                    best = (gap, standardize, float(lr))
        return best[1], best[2]
""",
)

right(
    E,
    "theory-with-scikit-learn",
    "standardises with scikit-learn's StandardScaler and takes η = 1/L of Z",
    """
    def beat_the_budget(X, y, n_steps, tol):
        from sklearn.preprocessing import StandardScaler

        Z = StandardScaler().fit_transform(gdcourse.to_numpy(X))  # ddof=0, like np.std
        Z1 = np.hstack([Z, np.ones((Z.shape[0], 1))])
        L = np.linalg.eigvalsh(2 * Z1.T @ Z1 / Z.shape[0])[-1]
        return np.bool_(True), np.float32(1 / L)
""",
)
