"""Learner answers to notebook 07's experiment exercise, 07.adam_lr (see tests/learner_answers.py)."""

from __future__ import annotations

from learner_answers import right, wrong

E = "07.adam_lr"

wrong(
    E,
    "gradient-sign-flipped",
    "sweeps with the gradient Xᵀ(y − Xθ)/n: every run climbs, the smallest η loses least",
    """
    def adam_lr(X, y, n_steps, target):
        n = X.shape[0]
        best_lr, best_loss = None, float("inf")
        for lr in (10.0 ** np.arange(-4.0, 3.5, 0.5)).tolist():
            opt = optim.adam(lr)
            theta = xp.zeros_like(X[0, :])
            state = opt.init(theta)
            for _ in range(n_steps):
                theta, state = opt.step(theta, X.T @ (y - X @ theta) / n, state)
            loss = 0.5 * float(xp.mean((X @ theta - y) ** 2))
            if loss < best_loss:
                best_lr, best_loss = lr, loss
        return best_lr
""",
    expect=("larger",),
)

wrong(
    E,
    "learning-rates-below-one",
    "sweeps a linear grid up to 1, assuming a learning rate is at most 1",
    """
    def adam_lr(X, y, n_steps, target):
        n = X.shape[0]
        best_lr, best_loss = None, float("inf")
        for lr in np.linspace(1e-3, 1.0, 40).tolist():
            opt = optim.adam(lr)
            theta = xp.zeros_like(X[0, :])
            state = opt.init(theta)
            for _ in range(n_steps):
                theta, state = opt.step(theta, X.T @ (X @ theta - y) / n, state)
            loss = 0.5 * float(xp.mean((X @ theta - y) ** 2))
            if loss < best_loss:
                best_lr, best_loss = lr, loss
        return best_lr
""",
    expect=("larger",),
)

wrong(
    E,
    "tuned-for-gradient-descent",
    "tunes plain gradient descent's η by a sweep and hands it to Adam",
    """
    def adam_lr(X, y, n_steps, target):
        n = X.shape[0]
        best_lr, best_loss = None, float("inf")
        with np.errstate(over="ignore", invalid="ignore"):
            for lr in np.geomspace(1e-6, 1e4, 41).tolist():
                theta = xp.zeros_like(X[0, :])
                for _ in range(n_steps):
                    theta = theta - lr * (X.T @ (X @ theta - y) / n)
                loss = 0.5 * float(xp.mean((X @ theta - y) ** 2))
                if loss < best_loss:
                    best_lr, best_loss = lr, loss
        return best_lr
""",
    expect=("larger",),
)

wrong(
    E,
    "rule-of-thumb",
    "returns 0.1, a rate that worked once, without running the experiment",
    """
    def adam_lr(X, y, n_steps, target):
        return 0.1
""",
    expect=("smaller",),
)

wrong(
    E,
    "returns-the-loss",
    "runs the sweep correctly but returns the lowest loss instead of its learning rate",
    """
    def adam_lr(X, y, n_steps, target):
        n = X.shape[0]
        losses = []
        for lr in (10.0 ** np.arange(-4.0, 3.5, 0.5)).tolist():
            opt = optim.adam(lr)
            theta = xp.zeros_like(X[0, :])
            state = opt.init(theta)
            for _ in range(n_steps):
                theta, state = opt.step(theta, X.T @ (X @ theta - y) / n, state)
            losses.append(0.5 * float(xp.mean((X @ theta - y) ** 2)))
        return min(losses)
""",
    expect=("larger",),
)

right(
    E,
    "gradient-without-the-mean",
    "forgets the 1/n in the gradient: Adam divides by the gradient's RMS, so η is unchanged",
    """
    def adam_lr(X, y, n_steps, target):
        best_lr, best_loss = None, float("inf")
        for lr in (10.0 ** np.arange(-4.0, 3.5, 0.5)).tolist():
            opt = optim.adam(lr)
            theta = xp.zeros_like(X[0, :])
            state = opt.init(theta)
            for _ in range(n_steps):
                theta, state = opt.step(theta, X.T @ (X @ theta - y), state)  # n times the gradient
            loss = 0.5 * float(xp.mean((X @ theta - y) ** 2))
            if loss < best_loss:
                best_lr, best_loss = lr, loss
        return best_lr
""",
)

right(
    E,
    "range-test",
    "reads the learning rate off gdcourse's range test on the LeastSquares objective",
    """
    from gdcourse.lr_range import lr_range_test
    from gdcourse.stochastic import LeastSquares

    def adam_lr(X, y, n_steps, target):
        result = lr_range_test(LeastSquares(X, y), xp.zeros_like(X[0, :]), "adam", lr_min=1e-6, lr_max=1e4,
                               n_steps=100)
        return result.suggested_lr
""",
)

right(
    E,
    "own-adam-first-to-reach",
    "writes Adam by hand and returns the first η of a fine grid that reaches the target",
    """
    def adam_lr(X, y, n_steps, target):
        X, y = gdcourse.to_numpy(X), gdcourse.to_numpy(y)
        for lr in np.geomspace(1e-5, 1e4, 91):
            theta, m, v = np.zeros(X.shape[1]), np.zeros(X.shape[1]), np.zeros(X.shape[1])
            for t in range(1, n_steps + 1):
                g = X.T @ (X @ theta - y) / len(y)
                m = 0.9 * m + 0.1 * g
                v = 0.999 * v + 0.001 * g**2
                theta = theta - lr * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
            if 0.5 * np.mean((X @ theta - y) ** 2) <= target:
                return lr
        return None
""",
)
