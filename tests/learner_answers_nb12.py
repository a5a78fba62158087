"""Learner answers to notebook 12's experiment exercise, 12.train_to_target (see tests/learner_answers.py)."""

from __future__ import annotations

from learner_answers import right, wrong

E = "12.train_to_target"
wrong(
    E,
    "digits-recipe",
    "section 2's digits recipe unchanged: η = 1e-3, 20 epochs of 32, too few steps here",
    """
    from gdcourse.data import Standardizer
    from gdcourse.train import fit

    def train_to_target(X_train, y_train, X_val):
        scaler = Standardizer().fit(X_train)
        model = nn.MLP([2, 128, 3], seed=0)
        fit(model, scaler.transform(X_train), y_train, optimizer=optim.adam(lr=1e-3), loss="cross_entropy",
            epochs=20, batch_size=32, seed=0)
        return xp.argmax(model(scaler.transform(X_val)).data, axis=1)
""",
    ("accuracy",),
)
wrong(
    E,
    "sklearn-logistic-regression",
    "scikit-learn's logistic regression: a linear model, straight boundaries",
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    def train_to_target(X_train, y_train, X_val):
        scaler = StandardScaler().fit(to_numpy(X_train))
        model = LogisticRegression().fit(scaler.transform(to_numpy(X_train)), to_numpy(y_train))
        return model.predict(scaler.transform(to_numpy(X_val)))
""",
    ("straight",),
)
wrong(
    E,
    "plain-sgd-small-step",
    "plain SGD with η = 0.01 for 20 epochs: far too few, too small steps",
    """
    from gdcourse.data import Standardizer
    from gdcourse.train import fit

    def train_to_target(X_train, y_train, X_val):
        scaler = Standardizer().fit(X_train)
        model = nn.MLP([2, 32, 3], seed=0)
        fit(model, scaler.transform(X_train), y_train, optimizer=optim.sgd(lr=0.01), loss="cross_entropy",
            epochs=20, batch_size=32, seed=0)
        return xp.argmax(model(scaler.transform(X_val)).data, axis=1)
""",
    ("accuracy",),
)
wrong(
    E,
    "highest-probability",
    "returns the highest softmax probability of each row instead of its class",
    """
    from gdcourse.data import Standardizer
    from gdcourse.train import fit

    def train_to_target(X_train, y_train, X_val):
        scaler = Standardizer().fit(X_train)
        model = nn.MLP([2, 32, 3], seed=0)
        fit(model, scaler.transform(X_train), y_train, optimizer=optim.adam(lr=0.03), loss="cross_entropy",
            epochs=20, batch_size=64, seed=0)
        scores = model(scaler.transform(X_val)).data
        p = xp.exp(scores - xp.max(scores, axis=1, keepdims=True))
        return xp.max(p / xp.sum(p, axis=1, keepdims=True), axis=1)
""",
    ("whole numbers",),
)
wrong(
    E,
    "argmax-over-axis-0",
    "argmax over axis 0: the best input for each class, three numbers",
    """
    from gdcourse.data import Standardizer
    from gdcourse.train import fit

    def train_to_target(X_train, y_train, X_val):
        scaler = Standardizer().fit(X_train)
        model = nn.MLP([2, 32, 3], seed=0)
        fit(model, scaler.transform(X_train), y_train, optimizer=optim.adam(lr=0.03), loss="cross_entropy",
            epochs=20, batch_size=64, seed=0)
        return xp.argmax(model(scaler.transform(X_val)).data, axis=0)
""",
    ("shape",),
)
wrong(
    E,
    "one-hot-predictions",
    "returns one-hot rows (n, 3) instead of class numbers",
    """
    from gdcourse.data import Standardizer
    from gdcourse.train import fit

    def train_to_target(X_train, y_train, X_val):
        scaler = Standardizer().fit(X_train)
        model = nn.MLP([2, 32, 3], seed=0)
        fit(model, scaler.transform(X_train), y_train, optimizer=optim.adam(lr=0.03), loss="cross_entropy",
            epochs=20, batch_size=64, seed=0)
        labels = to_numpy(xp.argmax(model(scaler.transform(X_val)).data, axis=1))
        return np.eye(3, dtype=np.int64)[labels]
""",
    ("argmax",),
)

right(
    E,
    "hand-written-loop",
    "section 2's training step written out, Adam η = 0.01, 40 epochs of 32",
    """
    def train_to_target(X_train, y_train, X_val):
        mean, std = xp.mean(X_train, axis=0), xp.std(X_train, axis=0)
        Z_train, Z_val = (X_train - mean) / std, (X_val - mean) / std
        model = nn.MLP([2, 32, 3], seed=1)
        opt = optim.adam(lr=1e-2)
        state = opt.init(model.parameters())
        order = np.random.default_rng(0)
        for epoch in range(40):
            for idx in np.array_split(order.permutation(Z_train.shape[0]), 8):
                idx = gdcourse.asarray(idx)
                model.zero_grad()
                loss = nn.softmax_cross_entropy(model(xp.take(Z_train, idx, axis=0)), xp.take(y_train, idx, axis=0))
                loss.backward()
                params, state = opt.step(model.parameters(), model.grads(), state)
                model.set_parameters(params)
        return xp.argmax(model(Z_val).data, axis=1)
""",
)
right(
    E,
    "sklearn-mlp",
    "scikit-learn's MLPClassifier on standardised inputs, predictions on the host",
    """
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import StandardScaler

    def train_to_target(X_train, y_train, X_val):
        scaler = StandardScaler().fit(to_numpy(X_train))
        model = MLPClassifier(hidden_layer_sizes=(32,), learning_rate_init=0.01, max_iter=300, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(scaler.transform(to_numpy(X_train)), to_numpy(y_train))
        return model.predict(scaler.transform(to_numpy(X_val)))
""",
)
right(
    E,
    "tuned-on-held-out-points",
    "picks the learning rate on 40 held-out training points, returns a list",
    """
    from gdcourse.data import Standardizer
    from gdcourse.train import fit

    def train(X, y, lr):
        scaler = Standardizer().fit(X)
        model = nn.MLP([2, 32, 3], seed=0)
        fit(model, scaler.transform(X), y, optimizer=optim.adam(lr=lr), loss="cross_entropy", epochs=20,
            batch_size=64, seed=0)
        return lambda inputs: to_numpy(xp.argmax(model(scaler.transform(inputs)).data, axis=1))

    def train_to_target(X_train, y_train, X_val):
        X_fit, y_fit, X_held, y_held = X_train[40:, :], y_train[40:], X_train[:40, :], to_numpy(y_train[:40])
        best = max((1e-3, 1e-2, 3e-2), key=lambda lr: np.mean(train(X_fit, y_fit, lr)(X_held) == y_held))
        return [int(label) for label in train(X_train, y_train, best)(X_val)]
""",
)
right(
    E,
    "float-labels",
    "the reference recipe with the labels as floats",
    """
    from gdcourse.data import Standardizer
    from gdcourse.train import fit

    def train_to_target(X_train, y_train, X_val):
        scaler = Standardizer().fit(X_train)
        model = nn.MLP([2, 64, 3], seed=3)
        fit(model, scaler.transform(X_train), y_train, optimizer=optim.adam(lr=0.02), loss="cross_entropy",
            epochs=25, batch_size=48, seed=3)
        return xp.astype(xp.argmax(model(scaler.transform(X_val)).data, axis=1), xp.float64)
""",
)

del E
