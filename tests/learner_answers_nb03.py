"""Learner answers to notebook 03's experiment exercise, 03.log_loss_lr (see tests/learner_answers.py)."""

from __future__ import annotations

from learner_answers import right, wrong

E = "03.log_loss_lr"

wrong(
    E,
    "largest-that-does-not-diverge",
    "keeps the largest learning rate whose final loss is below log 2",
    """
    def log_loss_lr(X, y, n_steps, target):
        n = X.shape[0]
        keep = None
        for lr in np.geomspace(0.01, 1000.0, 61).tolist():
            w = xp.zeros(X.shape[1])
            for _ in range(n_steps):
                w = w - lr * X.T @ (losses.sigmoid(X @ w) - y) / n
            if float(losses.log_loss(X @ w, y)) < math.log(2):
                keep = lr
        return keep
""",
    expect=("smaller",),
)

wrong(
    E,
    "linear-grid-below-one",
    "scans a linear grid up to 1, assuming a learning rate must stay below 1",
    """
    def log_loss_lr(X, y, n_steps, target):
        n = X.shape[0]
        best, best_loss = None, math.inf
        for lr in np.linspace(0.01, 1.0, 100).tolist():
            w = xp.zeros(X.shape[1])
            for _ in range(n_steps):
                w = w - lr * X.T @ (losses.sigmoid(X @ w) - y) / n
            loss = float(losses.log_loss(X @ w, y))
            if loss < best_loss:
                best, best_loss = lr, loss
        return best
""",
    expect=("larger",),
)

wrong(
    E,
    "sum-not-mean-gradient",
    "tunes with the summed gradient (no 1/n), so the η it finds is n times too small",
    """
    def log_loss_lr(X, y, n_steps, target):
        for lr in np.geomspace(1e-4, 10.0, 101).tolist():
            w = xp.zeros(X.shape[1])
            for _ in range(n_steps):
                w = w - lr * X.T @ (losses.sigmoid(X @ w) - y)
            if float(losses.log_loss(X @ w, y)) <= target:
                return lr
        return None
""",
    expect=("larger",),
)

wrong(
    E,
    "returns-the-loss",
    "runs a good sweep but returns the best loss instead of the learning rate",
    """
    def log_loss_lr(X, y, n_steps, target):
        n = X.shape[0]
        safe = 4 / float(xp.max(xp.linalg.eigvalsh(X.T @ X / n)))
        finals = []
        for lr in (safe * np.geomspace(1, 64, 13)).tolist():
            w = xp.zeros(X.shape[1])
            for _ in range(n_steps):
                w = w - lr * X.T @ (losses.sigmoid(X @ w) - y) / n
            finals.append(float(losses.log_loss(X @ w, y)))
        return min(finals)
""",
    expect=("larger",),
)

wrong(
    E,
    "squared-error-gradient",
    "tunes η with the gradient of the squared error of σ (section 2)",
    """
    def log_loss_lr(X, y, n_steps, target):
        n = X.shape[0]
        best, best_loss = None, math.inf
        for lr in np.geomspace(0.01, 1000.0, 121).tolist():
            w = xp.zeros(X.shape[1])
            for _ in range(n_steps):
                p = losses.sigmoid(X @ w)
                w = w - lr * X.T @ (2 * (p - y) * p * (1 - p)) / n
            loss = float(losses.log_loss(X @ w, y))
            if loss < best_loss:
                best, best_loss = lr, loss
        return best
""",
    expect=("smaller",),
)

wrong(
    E,
    "labels-plus-minus-one",
    "uses labels −1/+1 in the gradient, as for the SVM, while the loss wants 0/1",
    """
    def log_loss_lr(X, y, n_steps, target):
        n = X.shape[0]
        best, best_loss = None, math.inf
        for lr in np.geomspace(0.01, 1000.0, 121).tolist():
            w = xp.zeros(X.shape[1])
            for _ in range(n_steps):
                w = w - lr * X.T @ (losses.sigmoid(X @ w) - (2 * y - 1)) / n
            loss = float(losses.log_loss(X @ w, y))
            if loss < best_loss:
                best, best_loss = lr, loss
        return best
""",
)

right(
    E,
    "first-to-reach-target",
    "returns the first learning rate of a log grid whose run reaches the target",
    """
    def log_loss_lr(X, y, n_steps, target):
        n = X.shape[0]
        for lr in np.geomspace(0.1, 100.0, 121).tolist():
            w = xp.zeros(X.shape[1])
            for _ in range(n_steps):
                w = w - lr * X.T @ (losses.sigmoid(X @ w) - y) / n
            if float(losses.log_loss(X @ w, y)) <= target:
                return lr
        return None
""",
)

right(
    E,
    "vectorised-host-sweep",
    "runs every learning rate at once on host copies, the loss by np.logaddexp",
    """
    def log_loss_lr(X, y, n_steps, target):
        X, y = gdcourse.to_numpy(X), gdcourse.to_numpy(y)
        lrs = np.geomspace(0.5, 200.0, 60)
        W = np.zeros((X.shape[1], lrs.size))
        for _ in range(n_steps):
            P = 1 / (1 + np.exp(-np.clip(X @ W, -500, 500)))
            W = W - lrs * (X.T @ (P - y[:, None])) / len(y)
        Z = X @ W
        final = np.mean(np.logaddexp(0, Z) - y[:, None] * Z, axis=0)
        return lrs[np.argmin(final)]
""",
)
