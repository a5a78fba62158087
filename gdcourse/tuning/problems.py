r"""Tuning problems with a known answer, for comparing search methods.

:class:`LrMomentumSurface`
    A synthetic validation-loss surface over four hyperparameters with a known
    minimum, where two matter (the learning rate and the momentum, mostly through
    the effective step :math:`\eta/(1-\beta)`) and two barely do -- the situation
    in which Bergstra & Bengio (2012) showed random search beats grid search.
:class:`LogisticValidation`
    A real one: the validation log loss of logistic regression on the Wisconsin
    breast-cancer data (bundled with scikit-learn) after a fixed number of
    full-batch steps of :func:`gdcourse.optim.sgd` with a learning rate, a
    momentum and an L2 weight decay.  :meth:`LogisticValidation.many` trains
    many settings at once (vectorised), to map the surface densely and estimate
    its optimum.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gdcourse.tuning.space import Integer, LogUniform, Space, Uniform

__all__ = ["LogisticValidation", "LrMomentumSurface"]


class LrMomentumSurface:
    r"""A synthetic validation loss of four hyperparameters with a known minimum.

    .. math::
        f = f_0 + a\,(s - s^*)^2 + b\,(\beta - \beta^*)^2
            + c\,(\log_{10}\lambda - w^*)^2 + c\,(\log_2 B - r^*)^2,
        \qquad s = \log_{10}\frac{\eta}{1-\beta},

    with :math:`a = 0.5` per decade², :math:`b = 2`, and :math:`c = 0.002`: the
    learning rate :math:`\eta` and momentum :math:`\beta` matter, the weight decay
    :math:`\lambda` and the batch size :math:`B` hardly (at most about 0.05 over
    their whole ranges).  The minimum :math:`f_0 = 0.2` is at
    :math:`\beta = \beta^*`, :math:`\eta = 10^{s^*}(1-\beta^*)`,
    :math:`\lambda = 10^{w^*}`, :math:`B = 2^{r^*}`.

    Parameters
    ----------
    seed : int, optional
        ``None``: the standard instance (:math:`s^* = -1`, :math:`\beta^* = 0.8`,
        :math:`w^* = -4`, :math:`r^* = 6`).  An integer: an instance with the
        minimum drawn at random (:math:`s^* \in [-2.5, 0]`, :math:`\beta^* \in [0.5, 0.95]`,
        :math:`w^* \in [-5, -2]`, :math:`r^* \in [5, 7]`).

    Attributes
    ----------
    space : Space
        ``lr`` log-uniform in :math:`[10^{-4}, 1]`, ``momentum`` uniform in
        :math:`[0, 0.99]`, ``weight_decay`` log-uniform in :math:`[10^{-6}, 10^{-1}]`,
        ``batch_size`` log-uniform integer in :math:`[16, 256]`.
    minimum : float
        :math:`f_0`, the smallest value (over real-valued batch sizes; an integer
        batch size adds at most :math:`c\,(\log_2 1.5)^2 < 0.001`).
    argmin : dict
        Where it is attained.
    """

    a, b, c, f0 = 0.5, 2.0, 0.002, 0.2

    def __init__(self, seed: int | None = None) -> None:
        if seed is None:
            s, beta, w, r = -1.0, 0.8, -4.0, 6.0
        else:
            rng = np.random.default_rng(seed)
            s, beta, w, r = (float(v) for v in rng.uniform([-2.5, 0.5, -5.0, 5.0], [0.0, 0.95, -2.0, 7.0]))
        self.s_star, self.beta_star, self.w_star, self.r_star = s, beta, w, r
        self.seed = seed
        self.space = Space(
            {
                "lr": LogUniform(1e-4, 1.0),
                "momentum": Uniform(0.0, 0.99),
                "weight_decay": LogUniform(1e-6, 1e-1),
                "batch_size": Integer(16, 256, log=True),
            }
        )
        self.minimum = self.f0
        self.argmin = {
            "lr": 10**s * (1 - beta),
            "momentum": beta,
            "weight_decay": 10**w,
            "batch_size": 2**r,
        }

    def __repr__(self) -> str:
        return f"LrMomentumSurface(seed={self.seed!r})"

    def __call__(self, lr: Any, momentum: Any, weight_decay: Any = 1e-4, batch_size: Any = 64) -> Any:
        """The loss at the given hyperparameters (NumPy arrays broadcast, for maps of the surface)."""
        s = np.log10(lr) - np.log10(1.0 - np.asarray(momentum, dtype=np.float64))
        value = (
            self.f0
            + self.a * (s - self.s_star) ** 2
            + self.b * (np.asarray(momentum) - self.beta_star) ** 2
            + self.c * (np.log10(weight_decay) - self.w_star) ** 2
            + self.c * (np.log2(batch_size) - self.r_star) ** 2
        )
        return float(value) if np.ndim(value) == 0 else value


def _sigmoid_log_loss(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mean log loss of logits ``z`` (columns: settings) against labels ``y`` in {0, 1}, computed stably."""
    # log(1 + e^z) - y z, with log(1 + e^z) = max(z, 0) + log1p(e^-|z|)
    return np.mean(np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z))) - y[:, None] * z, axis=0)


class LogisticValidation:
    r"""Validation log loss of logistic regression trained by heavy-ball gradient descent.

    The Wisconsin breast-cancer data (569 tumours, 30 features; scikit-learn's
    bundled copy) are split at random into training and validation parts
    (``val_fraction``), standardised with the training statistics, and a bias
    column is added.  From :math:`\theta = 0`, ``n_steps`` full-batch steps of
    :func:`gdcourse.optim.sgd` (``lr`` :math:`\eta`, ``momentum`` :math:`\beta`,
    ``weight_decay`` :math:`\lambda`, torch's convention) minimise the training
    log loss; the result is the mean log loss on the validation part.  A run whose
    parameters blow up returns ``nan`` (a failed trial).

    Parameters
    ----------
    n_steps : int
        Gradient-descent steps per trial.
    val_fraction : float
        Share of the data held out for validation.
    seed : int
        Seed of the split.

    Attributes
    ----------
    space : Space
        ``lr`` log-uniform in :math:`[10^{-3}, 10]`, ``momentum`` uniform in
        :math:`[0, 0.99]`, ``weight_decay`` log-uniform in :math:`[10^{-4}, 1]`.
    """

    def __init__(self, n_steps: int = 30, val_fraction: float = 0.4, seed: int = 0) -> None:
        from sklearn.datasets import load_breast_cancer

        data = load_breast_cancer()
        x, y = np.asarray(data.data, dtype=np.float64), np.asarray(data.target, dtype=np.float64)
        order = np.random.default_rng(seed).permutation(len(y))
        n_val = int(round(val_fraction * len(y)))
        val, train = order[:n_val], order[n_val:]
        mean, std = x[train].mean(axis=0), x[train].std(axis=0)

        def design(rows: np.ndarray) -> np.ndarray:
            return np.hstack([(x[rows] - mean) / std, np.ones((len(rows), 1))])

        self.x_train, self.y_train = design(train), y[train]
        self.x_val, self.y_val = design(val), y[val]
        self.n_steps, self.seed = int(n_steps), seed
        self.space = Space(
            {"lr": LogUniform(1e-3, 10.0), "momentum": Uniform(0.0, 0.99), "weight_decay": LogUniform(1e-4, 1.0)}
        )

    def __repr__(self) -> str:
        return f"LogisticValidation(n_steps={self.n_steps}, seed={self.seed})"

    def gradient(self, theta: np.ndarray) -> np.ndarray:
        r"""Gradient of the mean training log loss, :math:`\frac1n X^\top(\sigma(X\theta) - y)`."""
        p = 1.0 / (1.0 + np.exp(-np.clip(self.x_train @ theta, -500, 500)))
        return self.x_train.T @ (p - self.y_train) / len(self.y_train)

    def train(self, lr: float, momentum: float = 0.0, weight_decay: float = 0.0) -> np.ndarray:
        r"""The parameters after ``n_steps`` steps of :func:`gdcourse.optim.sgd` from zero.

        Parameters
        ----------
        lr : float
            The learning rate :math:`\eta`.
        momentum : float, default 0
            Heavy-ball momentum :math:`\beta`.
        weight_decay : float, default 0
            L2 weight decay :math:`\lambda`, added to the gradient as :math:`\lambda\theta` (torch's convention).

        Returns
        -------
        numpy.ndarray, shape (31,)
            :math:`\theta`: 30 weights and the bias (not finite when training blew up).
        """
        from gdcourse.optim import sgd

        opt = sgd(lr=lr, momentum=momentum, weight_decay=weight_decay)
        theta = np.zeros(self.x_train.shape[1])
        state = opt.init(theta)
        for _ in range(self.n_steps):
            theta, state = opt.step(theta, self.gradient(theta), state)
        return theta

    def __call__(self, lr: float, momentum: float = 0.0, weight_decay: float = 0.0) -> float:
        """Validation log loss after training with these hyperparameters (``nan`` if training blew up)."""
        with np.errstate(over="ignore", invalid="ignore"):  # a diverging run is reported as nan, below
            theta = self.train(lr, momentum, weight_decay)
            if not np.all(np.isfinite(theta)) or np.max(np.abs(theta)) > 1e6:
                return math.nan
            return float(_sigmoid_log_loss((self.x_val @ theta)[:, None], self.y_val)[0])

    def many(self, lr: Any, momentum: Any, weight_decay: Any) -> np.ndarray:
        r""":meth:`__call__` for many settings at once (arrays of one shape), trained side by side.

        The same heavy-ball recursion as :func:`gdcourse.optim.sgd`, on a matrix
        :math:`\Theta` with one column per setting: :math:`b_1 = g_1`,
        :math:`b_t = \beta b_{t-1} + g_t`, :math:`\Theta \leftarrow \Theta - \eta b`,
        with :math:`g = \nabla J + \lambda\Theta`.

        Parameters
        ----------
        lr, momentum, weight_decay : array-like
            :math:`\eta`, :math:`\beta` and :math:`\lambda` of every setting, broadcast to one shape.

        Returns
        -------
        numpy.ndarray
            The validation log loss of each setting, in that shape (``nan`` where training blew up).
        """
        lr, beta, wd = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (lr, momentum, weight_decay)))
        shape = lr.shape
        lr, beta, wd = lr.reshape(-1), beta.reshape(-1), wd.reshape(-1)
        theta = np.zeros((self.x_train.shape[1], lr.size))
        buf = np.zeros_like(theta)
        n = len(self.y_train)
        with np.errstate(over="ignore", invalid="ignore"):
            for t in range(self.n_steps):
                p = 1.0 / (1.0 + np.exp(-np.clip(self.x_train @ theta, -500, 500)))
                g = self.x_train.T @ (p - self.y_train[:, None]) / n + wd * theta
                buf = g if t == 0 else beta * buf + g
                theta = theta - lr * buf
            loss = _sigmoid_log_loss(self.x_val @ theta, self.y_val)
            bad = ~np.all(np.isfinite(theta), axis=0) | (np.max(np.abs(theta), axis=0) > 1e6)
        return np.where(bad, np.nan, loss).reshape(shape)

    def estimate_minimum(self, n_grid: int = 24, n_polish: int = 3) -> tuple[float, dict[str, float]]:
        """The smallest validation loss: a dense log grid (:meth:`many`), then Nelder–Mead from the best points.

        Returns ``(value, params)``.  The grid has ``n_grid`` levels per hyperparameter.

        Parameters
        ----------
        n_grid : int, default 24
            Levels per hyperparameter, evenly spaced in each dimension's encoding (:math:`24^3` settings).
        n_polish : int, default 3
            How many of the best grid points start a Nelder–Mead search.

        Returns
        -------
        value : float
            The smallest validation loss found.
        params : dict
            Where: ``{"lr": ..., "momentum": ..., "weight_decay": ...}``.
        """
        from scipy.optimize import minimize

        u = np.linspace(0.0, 1.0, n_grid)
        mesh = np.meshgrid(*(self.space[name].decode(u) for name in self.space), indexing="ij")
        values = self.many(*mesh)
        flat = np.nan_to_num(values.reshape(-1), nan=np.inf)
        starts = np.argsort(flat)[:n_polish]
        names = list(self.space)

        def loss(v: np.ndarray) -> float:
            params = self.space.decode(np.clip(v, 0, 1))[0]
            value = float(self.many(*(params[k] for k in names)))
            return value if math.isfinite(value) else 1e3

        best_value, best_params = math.inf, {}
        for index in starts:
            params = {k: float(mesh[j].reshape(-1)[index]) for j, k in enumerate(names)}
            res = minimize(
                loss,
                self.space.encode([params])[0],
                method="Nelder-Mead",
                options={"xatol": 1e-4, "fatol": 1e-7, "maxiter": 400},
            )
            params = self.space.decode(np.clip(res.x, 0, 1))[0]
            value = float(self.many(*(params[k] for k in names)))
            if value < best_value:
                best_value, best_params = value, params
        return best_value, best_params
