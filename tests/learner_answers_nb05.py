"""Learner answers to notebook 05's experiment exercise, 05.signal_batch (see tests/learner_answers.py)."""

from __future__ import annotations

from learner_answers import right, wrong

E = "05.signal_batch"

wrong(
    E,
    "uncentred-noise",
    "measures E‖g_B‖², forgetting to subtract ∇J: never below the signal, so the last size",
    """
    def signal_batch(X, y, theta, batch_sizes):
        G = gdcourse.to_numpy((X @ theta - y)[:, None] * X)
        signal = float(np.sum(G.mean(axis=0) ** 2))
        rng = np.random.default_rng(0)
        for B in batch_sizes:
            means = [G[rng.permutation(len(G))[:B]].mean(axis=0) for _ in range(300)]
            noise = np.mean([np.sum(g ** 2) for g in means])
            if noise < signal:
                return B
        return batch_sizes[-1]
""",
    expect=("smallest",),
)

wrong(
    E,
    "std-against-signal",
    "compares the standard deviation √E‖g_B − ∇J‖² with the squared norm ‖∇J‖²",
    """
    from gdcourse.stochastic import gradient_noise

    def signal_batch(X, y, theta, batch_sizes):
        G = (X @ theta - y)[:, None] * X
        signal = float(xp.sum(xp.mean(G, axis=0) ** 2))
        for B in batch_sizes:
            if math.sqrt(gradient_noise(G, B, n_draws=1000, seed=0).measured[0]) < signal:
                return B
        return batch_sizes[-1]
""",
    expect=("smallest",),
)

wrong(
    E,
    "gradient-at-zero",
    "computes the examples' gradients −yᵢxᵢ at θ = 0 instead of at theta",
    """
    from gdcourse.stochastic import gradient_noise

    def signal_batch(X, y, theta, batch_sizes):
        G = -y[:, None] * X  # (xᵢ·0 − yᵢ) xᵢ: the gradients at the origin, not at theta
        signal = float(xp.sum(xp.mean(G, axis=0) ** 2))
        for B in batch_sizes:
            if gradient_noise(G, B, n_draws=1000, seed=0).measured[0] < signal:
                return B
        return batch_sizes[-1]
""",
    expect=("larger",),
)

wrong(
    E,
    "returns-the-index",
    "finds the right place with argmax but returns its index, not the batch size",
    """
    from gdcourse.stochastic import gradient_noise

    def signal_batch(X, y, theta, batch_sizes):
        G = (X @ theta - y)[:, None] * X
        signal = float(xp.sum(xp.mean(G, axis=0) ** 2))
        noise = gradient_noise(G, list(batch_sizes), n_draws=1000, seed=0).measured
        return int(np.argmax(noise < signal))
""",
    expect=("larger|not one of",),
)

wrong(
    E,
    "sum-for-sigma2",
    "uses the formula with σ² summed over the examples instead of averaged (n times too large)",
    """
    def signal_batch(X, y, theta, batch_sizes):
        G = gdcourse.to_numpy((X @ theta - y)[:, None] * X)
        grad = G.mean(axis=0)
        sigma2 = np.sum((G - grad) ** 2)  # should be a mean over the examples
        n = len(G)
        for B in batch_sizes:
            if sigma2 / B * (n - B) / (n - 1) < grad @ grad:
                return B
        return batch_sizes[-1]
""",
    expect=("smallest",),
)

right(
    E,
    "exact-formula",
    "computes σ²/B · (n − B)/(n − 1) with predicted_variance instead of measuring",
    """
    from gdcourse.stochastic import gradient_variance, predicted_variance

    def signal_batch(X, y, theta, batch_sizes):
        G = (X @ theta - y)[:, None] * X
        signal = float(xp.sum(xp.mean(G, axis=0) ** 2))
        noise = predicted_variance(gradient_variance(G), G.shape[0], list(batch_sizes))
        return batch_sizes[int(np.argmax(noise < signal))]
""",
)

right(
    E,
    "own-epochs-flipped-residual",
    "measures by hand over shuffled epochs on the host, with the residual y − Xθ",
    """
    def signal_batch(X, y, theta, batch_sizes):
        Xh, yh, th = (gdcourse.to_numpy(a) for a in (X, y, theta))
        G = (yh - Xh @ th)[:, None] * Xh  # every gradient flipped: neither noise nor signal changes
        grad = G.mean(axis=0)
        rng = np.random.default_rng(42)
        for B in batch_sizes:
            deviations = []
            while len(deviations) < 2000:
                perm = rng.permutation(len(G))
                for k in range(len(G) // B):
                    deviations.append(np.sum((G[perm[k * B:(k + 1) * B]].mean(axis=0) - grad) ** 2))
            if np.mean(deviations) < grad @ grad:
                return np.int64(B)
        return None
""",
)
