"""Learner answers to notebook 08's experiment exercise, 08.choose_alpha (see tests/learner_answers.py)."""

from __future__ import annotations

from learner_answers import right, wrong

E = "08.choose_alpha"

wrong(E, "training-mse-own-grid", "keeps the α with the lowest training MSE, on a grid of its own", """
    def choose_alpha(Z_train, y_train, Z_val, y_val):
        n, d = Z_train.shape
        b = xp.mean(y_train)
        best, best_mse = None, float("inf")
        for alpha in np.logspace(-6, 1, 15).tolist():
            w = xp.linalg.solve(Z_train.T @ Z_train / n + alpha * xp.eye(d), Z_train.T @ (y_train - b) / n)
            train_mse = float(xp.mean((Z_train @ w + b - y_train) ** 2))
            if train_mse < best_mse:
                best, best_mse = alpha, train_mse
        return best
""", expect=("small",))

wrong(E, "fits-on-validation", "fits every α on the validation set and scores it there: in-sample, like training", """
    def choose_alpha(Z_train, y_train, Z_val, y_val):
        m, d = Z_val.shape
        b = xp.mean(y_val)
        best, best_mse = None, float("inf")
        for alpha in np.logspace(-7, 1, 41).tolist():
            w = xp.linalg.solve(Z_val.T @ Z_val / m + alpha * xp.eye(d), Z_val.T @ (y_val - b) / m)
            val_mse = float(xp.mean((Z_val @ w + b - y_val) ** 2))
            if val_mse < best_mse:
                best, best_mse = alpha, val_mse
        return best
""", expect=("small",))

wrong(E, "smallest-generalisation-gap", "keeps the α where training and validation MSE are closest", """
    def choose_alpha(Z_train, y_train, Z_val, y_val):
        n, d = Z_train.shape
        b = xp.mean(y_train)
        best, best_gap = None, float("inf")
        for alpha in np.logspace(-8, 2, 41).tolist():
            w = xp.linalg.solve(Z_train.T @ Z_train / n + alpha * xp.eye(d), Z_train.T @ (y_train - b) / n)
            gap = abs(float(xp.mean((Z_val @ w + b - y_val) ** 2)) - float(xp.mean((Z_train @ w + b - y_train) ** 2)))
            if gap < best_gap:
                best, best_gap = alpha, gap
        return best
""", expect=("large",))

wrong(E, "sklearn-ridge-alpha", "scans scikit-learn's Ridge and returns its alpha, n times the course's α", """
    from sklearn.linear_model import Ridge

    def choose_alpha(Z_train, y_train, Z_val, y_val):
        Zt, yt, Zv, yv = (gdcourse.to_numpy(a) for a in (Z_train, y_train, Z_val, y_val))
        scores = {}
        for alpha in np.logspace(-6, 3, 37):
            model = Ridge(alpha=alpha).fit(Zt, yt)
            scores[float(alpha)] = np.mean((model.predict(Zv) - yv) ** 2)
        return min(scores, key=scores.get)
""", expect=("scikit",))

wrong(E, "linear-grid-to-ten", "scans α on a linear grid from 0 to 10 in steps of 0.1", """
    def choose_alpha(Z_train, y_train, Z_val, y_val):
        n, d = Z_train.shape
        b = xp.mean(y_train)
        best, best_mse = None, float("inf")
        for alpha in np.linspace(0.0, 10.0, 101).tolist():
            A = Z_train.T @ Z_train / n + alpha * xp.eye(d)
            w = xp.linalg.lstsq(A, Z_train.T @ (y_train - b) / n)[0] if alpha == 0 else xp.linalg.solve(
                A, Z_train.T @ (y_train - b) / n)
            val_mse = float(xp.mean((Z_val @ w + b - y_val) ** 2))
            if val_mse < best_mse:
                best, best_mse = alpha, val_mse
        return best
""", expect=("large|small",))

right(E, "one-per-decade", "a coarse scan, one α per decade, with the notebook's normal equations", """
    def choose_alpha(Z_train, y_train, Z_val, y_val):
        n, d = Z_train.shape
        b = xp.mean(y_train)
        val = {}
        for k in range(-8, 3):
            alpha = 10.0 ** k
            w = xp.linalg.solve(Z_train.T @ Z_train / n + alpha * xp.eye(d), Z_train.T @ (y_train - b) / n)
            val[alpha] = float(xp.mean((Z_val @ w + b - y_val) ** 2))
        return min(val, key=val.get)
""")

right(E, "sklearn-ridge-rescaled", "scans scikit-learn's Ridge and converts its alpha to the course's α (÷ n)", """
    from sklearn.linear_model import Ridge

    def choose_alpha(Z_train, y_train, Z_val, y_val):
        Zt, yt, Zv, yv = (gdcourse.to_numpy(a) for a in (Z_train, y_train, Z_val, y_val))
        n = len(yt)
        grid = np.logspace(-6, 3, 37)
        scores = [np.mean((Ridge(alpha=a).fit(Zt, yt).predict(Zv) - yv) ** 2) for a in grid]
        return grid[int(np.argmin(scores))] / n  # sklearn minimises ‖Zw + b − y‖² + α‖w‖²: its α is n × ours
""")

right(E, "golden-section-in-log-alpha", "a golden-section search on log10 α of the validation MSE", """
    def choose_alpha(Z_train, y_train, Z_val, y_val):
        Zt, yt, Zv, yv = (gdcourse.to_numpy(a) for a in (Z_train, y_train, Z_val, y_val))
        n, d = Zt.shape
        b = yt.mean()

        def val_mse(log_alpha):
            w = np.linalg.solve(Zt.T @ Zt / n + 10.0 ** log_alpha * np.eye(d), Zt.T @ (yt - b) / n)
            return np.mean((Zv @ w + b - yv) ** 2)

        grid = np.arange(-8.0, 2.5, 0.5)  # bracket the best point first, then refine it
        k = int(np.argmin([val_mse(g) for g in grid]))
        lo, hi = grid[max(k - 1, 0)], grid[min(k + 1, len(grid) - 1)]
        ratio = (math.sqrt(5) - 1) / 2
        for _ in range(30):
            a, c = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
            if val_mse(a) < val_mse(c):
                hi = c
            else:
                lo = a
        return np.float64(10.0 ** ((lo + hi) / 2))
""")
