"""Learner answers to notebook 09's experiment exercise, 09.stable_std (see tests/learner_answers.py)."""

from __future__ import annotations

from learner_answers import right, wrong

E = "09.stable_std"

wrong(E, "he-for-relu-xavier-for-tanh", "He's σ for ReLU and Xavier's for tanh, each scheme for its activation", """
    def stable_std(width, depth, activation):
        return math.sqrt(2 / width) if activation == "relu" else math.sqrt(2 / (width + width))
""", expect=("vanish",))

wrong(E, "forward-ratio-only", "bisects σ until the activations keep their std, without looking at the gradients", """
    from gdcourse import widgets

    def stable_std(width, depth, activation):
        def forward(sigma):
            a = widgets.init_explorer_state(sigma, activation, "plain", depth=depth, width=width,
                                            n_samples=64, seed=0).activation_std
            return a[-1] / a[0]

        low, high = 1 / math.sqrt(width), 2 / math.sqrt(width)
        for _ in range(5):
            mid = math.sqrt(low * high)
            if forward(mid) < 1:
                low = mid
            else:
                high = mid
        return math.sqrt(low * high)
""", expect=("gradient", "explode"))

wrong(E, "returns-the-gain", "finds He's σ but returns the gain √2 in front of 1/√n", """
    def stable_std(width, depth, activation):
        sigma = math.sqrt(2 / width)
        return sigma * math.sqrt(width)
""", expect=("explode|large",))

wrong(E, "small-weights-myth", "σ = 0.01, 'as small as possible' to prevent explosions (the myth of §4)", """
    def stable_std(width, depth, activation):
        return 0.01
""", expect=("vanish|small",))

wrong(E, "returns-the-variance", "runs the experiment but returns σ², the variance", """
    from gdcourse import widgets

    def stable_std(width, depth, activation):
        best, best_score = None, float("inf")
        for g in np.linspace(1.0, 2.0, 11):
            sigma = float(g) / math.sqrt(width)
            state = widgets.init_explorer_state(sigma, activation, "plain", depth=depth, width=width,
                                                n_samples=64, seed=0)
            a, grads = state.activation_std, state.gradient_std
            score = max(abs(math.log(a[-1] / a[0])), abs(math.log(grads[0] / grads[-1])))
            if score < best_score:
                best, best_score = sigma, score
        return best ** 2
""", expect=("vanish|small",))

right(E, "grid-scan-of-the-worse-ratio", "scans the gain on a grid, keeping the σ whose worse ratio is nearest 1", """
    from gdcourse import widgets

    def stable_std(width, depth, activation):
        best, best_score = None, float("inf")
        for g in np.linspace(1.0, 2.0, 11):
            sigma = float(g) / math.sqrt(width)
            score = 0.0
            for seed in (0, 1):
                state = widgets.init_explorer_state(sigma, activation, "plain", depth=depth, width=width,
                                                    n_samples=64, seed=seed)
                a, grads = state.activation_std, state.gradient_std
                score += max(abs(math.log(a[-1] / a[0])), abs(math.log(grads[0] / grads[-1])))
            if score < best_score:
                best, best_score = sigma, score
        return best
""")

right(E, "own-forward-and-backward-pass", "its own NumPy passes over three networks, bisecting a NumPy scalar", """
    def stable_std(width, depth, activation):
        rng = np.random.default_rng(1)
        nets = [([rng.standard_normal((width, width)) for _ in range(depth)], rng.standard_normal((32, width)))
                for _ in range(3)]
        phi = np.tanh if activation == "tanh" else (lambda z: np.maximum(z, 0))

        def log_ratios(sigma):
            total = 0.0
            for weights, x in nets:
                h, hs = x, []
                for W in weights:
                    h = phi(h @ (sigma * W).T)
                    hs.append(h)
                g = rng.standard_normal(h.shape)  # any gradient at the top: only its change counts
                top = g.std()
                for l in range(depth - 1, 0, -1):
                    slope = 1 - hs[l] ** 2 if activation == "tanh" else (hs[l] > 0)
                    g = (g * slope) @ (sigma * weights[l])
                total += np.log(hs[-1].std() / hs[0].std()) + np.log(g.std() / top)
            return total

        low, high = np.log(1 / np.sqrt(width)), np.log(2 / np.sqrt(width))
        for _ in range(8):
            mid = (low + high) / 2
            low, high = (mid, high) if log_ratios(np.exp(mid)) < 0 else (low, mid)
        return np.exp((low + high) / 2)
""")

right(E, "he-for-relu-measured-gain-for-tanh", "He's σ for ReLU; for tanh the gain 1.25 read off a measurement", """
    def stable_std(width, depth, activation):
        gain = math.sqrt(2) if activation == "relu" else 1.25  # tanh: between Xavier's 1 and PyTorch's 5/3
        return gain / math.sqrt(width)
""")
