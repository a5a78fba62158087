r"""A finite sum with everything known: least squares, :math:`f_i(\theta) = \tfrac12(x_i^\top\theta - y_i)^2`.

:class:`LeastSquares` has its exact minimum, curvatures :math:`L, \mu` and per-example gradients.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from array_api_compat import device

from gdcourse import divergence
from gdcourse.backend import array_namespace, to_numpy
from gdcourse.functions import Objective

Array = Any
Seed = int | np.random.Generator | None
Schedule = Callable[[int], float]


# ----------------------------------------------------------------------------------------------
# A finite sum with everything known: least squares
# ----------------------------------------------------------------------------------------------


class LeastSquares(Objective):
    r"""The least-squares cost of a linear model, a finite sum of one term per example.

    .. math:: J(\theta) = \frac1n \sum_{i=1}^n \tfrac12 (x_i^\top\theta - y_i)^2, \qquad
              \nabla f_i(\theta) = (x_i^\top\theta - y_i)\, x_i, \qquad
              \nabla^2 J = H = \tfrac1n X^\top X .

    Everything about it is known exactly: the minimiser :math:`\theta^*` (least squares, on the host),
    :math:`J^* = J(\theta^*)`, the curvatures :math:`L = \lambda_{\max}(H)` and :math:`\mu = \lambda_{\min}(H)`
    (full-batch gradient descent converges for :math:`\eta < 2/L`), and the identity
    :math:`J(\theta) = J^* + \tfrac12(\theta-\theta^*)^\top H(\theta-\theta^*)`, which :meth:`value` uses:
    it costs :math:`O(d^2)` per point whatever :math:`n` (so a contour grid is cheap) and gives the gap
    :math:`J - J^*` without cancellation.  :meth:`batch_value` computes the data form on any batch.

    Parameters
    ----------
    X : array, shape (n_samples, n_params)
        Design matrix (add a column of ones for an intercept); any backend, floating dtype.
    y : array, shape (n_samples,)
        Targets.
    domain : sequence of (float, float), optional
        Plotting window, one pair per parameter; default :math:`\theta^*_j \pm 3`.

    Attributes
    ----------
    X, y : arrays
        The data, as given.
    n_samples, dim : int
    H : numpy.ndarray
        :math:`\tfrac1n X^\top X` (host, float64).
    eigenvalues : numpy.ndarray
        Eigenvalues of :math:`H`, decreasing.
    L, mu, kappa : float
    global_minimum : numpy.ndarray
        :math:`\theta^*`.
    f_min : float
        :math:`J^*`.
    start : numpy.ndarray
        Zeros (the usual starting point).
    """

    name = "least_squares"

    def __init__(self, X: Array, y: Array, *, domain: Sequence[tuple[float, float]] | None = None) -> None:
        try:
            xp = array_namespace(X, y)
        except TypeError:
            raise TypeError(
                f"X and y must be arrays of one library (use gdcourse.asarray), got {type(X).__name__} and "
                f"{type(y).__name__}"
            ) from None
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (n_samples, n_params), got shape {tuple(X.shape)}")
        if y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise ValueError(f"y must have shape ({X.shape[0]},) to match X, got shape {tuple(y.shape)}")
        if not (xp.isdtype(X.dtype, "real floating") and xp.isdtype(y.dtype, "real floating")):
            raise TypeError(f"X and y must have a real floating dtype, got {X.dtype} and {y.dtype}")
        divergence.check_data("X", X, fix="clean or impute the data before building the objective")
        divergence.check_data("y", y, fix="clean or impute the data before building the objective")
        self.X, self.y = X, y
        self.n_samples, self.dim = int(X.shape[0]), int(X.shape[1])
        Xh = np.asarray(to_numpy(X), dtype=np.float64)
        yh = np.asarray(to_numpy(y), dtype=np.float64)
        H = Xh.T @ Xh / self.n_samples
        self.H = (H + H.T) / 2.0
        eigs = np.linalg.eigvalsh(self.H)[::-1]
        if not eigs[-1] > 1e-12 * max(eigs[0], 1e-300):
            raise ValueError("X has linearly dependent columns: the least-squares minimum is not unique")
        self.eigenvalues = eigs
        self.L, self.mu = float(eigs[0]), float(eigs[-1])
        self.kappa = self.L / self.mu
        theta_star = np.linalg.lstsq(Xh, yh, rcond=None)[0]
        self._J_star = float(np.mean(0.5 * (Xh @ theta_star - yh) ** 2))
        self._center = theta_star
        window = [(c - 3.0, c + 3.0) for c in theta_star] if domain is None else domain
        self._set_points(minima=[theta_star], domain=window, start=np.zeros(self.dim))

    def __repr__(self) -> str:
        return f"LeastSquares(n_samples={self.n_samples}, dim={self.dim}, L={self.L:.4g}, mu={self.mu:.4g})"

    def _host_const(self, value: np.ndarray, theta: Array) -> Array:
        return array_namespace(theta).asarray(value, dtype=theta.dtype, device=device(theta))

    def _offset(self, xp: Any, theta: Array) -> Array:
        c = self._host_const(self._center, theta)
        return theta - xp.reshape(c, (self.dim,) + (1,) * (theta.ndim - 1))

    def _value(self, xp: Any, theta: Array) -> Array:
        d = self._offset(xp, theta)
        Hd = xp.tensordot(self._host_const(self.H, theta), d, axes=1)
        return self._J_star + 0.5 * xp.sum(d * Hd, axis=0)

    def _grad(self, xp: Any, theta: Array) -> Array:
        if theta.ndim == 1:
            return self.batch_grad(theta, self.X, self.y)
        return xp.tensordot(self._host_const(self.H, theta), self._offset(xp, theta), axes=1)  # = H (θ − θ*)

    def _hessian(self, xp: Any, theta: Array) -> Array:
        H = self._host_const(self.H, theta)
        grid = tuple(theta.shape[1:])
        if not grid:
            return H
        return xp.broadcast_to(xp.reshape(H, (self.dim, self.dim) + (1,) * len(grid)), (self.dim, self.dim, *grid))

    @staticmethod
    def batch_value(theta: Array, Xb: Array, yb: Array) -> Array:
        r"""The cost of a batch, the mean of :math:`\tfrac12(x_i^\top\theta-y_i)^2` over its examples.

        .. math:: J_{\mathcal B}(\theta) = \frac1{|\mathcal B|}\sum_{i\in\mathcal B}\tfrac12(x_i^\top\theta-y_i)^2

        ``theta`` of shape ``(dim,)``, or ``(dim, k)`` for ``k`` parameter vectors at once (result ``(k,)``).

        Parameters
        ----------
        theta : array, shape (dim,) or (dim, k)
            One parameter vector, or ``k`` of them as columns.
        Xb : array, shape (B, dim)
            The batch's rows of the design matrix (the whole ``X`` for the full cost).
        yb : array, shape (B,)
            The batch's targets.

        Returns
        -------
        array, shape () or (k,)
            :math:`J_{\mathcal B}` at each parameter vector.
        """
        xp = array_namespace(theta, Xb)
        r = Xb @ theta - (yb if theta.ndim == 1 else yb[:, None])
        return xp.mean(0.5 * r**2, axis=0)

    @staticmethod
    def batch_grad(theta: Array, Xb: Array, yb: Array) -> Array:
        r"""The gradient of the batch cost.

        .. math:: g_{\mathcal B} = \frac1{|\mathcal B|} X_{\mathcal B}^\top (X_{\mathcal B}\theta - y_{\mathcal B})

        ``theta`` of shape ``(dim,)``, or ``(dim, k)`` for ``k`` parameter vectors at once (result ``(dim, k)``).
        With the whole data set it is :math:`\nabla J(\theta)`.

        Parameters
        ----------
        theta, Xb, yb
            As for :meth:`batch_value`.

        Returns
        -------
        array, shape (dim,) or (dim, k)
            :math:`g_{\mathcal B}` at each parameter vector.
        """
        r = Xb @ theta - (yb if theta.ndim == 1 else yb[:, None])
        return Xb.T @ r / Xb.shape[0]

    def per_example_grads(self, theta: Array) -> Array:
        r"""Every example's gradient :math:`\nabla f_i(\theta) = (x_i^\top\theta - y_i)\,x_i`, one row each.

        ``theta`` of shape ``(dim,)``, on the data's backend; the result has shape ``(n_samples, dim)``.
        """
        _, theta = self._check(theta)
        if theta.ndim != 1:
            raise ValueError(f"theta must have shape ({self.dim},), got {tuple(theta.shape)}")
        r = self.X @ theta - self.y
        return r[:, None] * self.X
