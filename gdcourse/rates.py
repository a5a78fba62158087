r"""Linear convergence rates on quadratics: what theory predicts and how to measure it.

On :math:`J(\theta) = \tfrac12(\theta-\theta^*)^\top A(\theta-\theta^*)` every first-order method with
fixed hyperparameters is a *linear* iteration on the error :math:`e_t = \theta_t - \theta^*`.  Along an
eigenvector of :math:`A` with curvature :math:`\lambda` it reduces to a scalar recursion, and the error
shrinks asymptotically by the **rate** :math:`\rho` per step, :math:`\lVert e_t\rVert \approx C\rho^t`:

* gradient descent: :math:`e_{t+1} = (1-\eta\lambda)\,e_t`;
* heavy ball (Polyak): :math:`e_{t+1} = (1+\beta-\eta\lambda)\,e_t - \beta\, e_{t-1}`, characteristic
  polynomial :math:`z^2 - (1+\beta-\eta\lambda)z + \beta`;
* Nesterov: :math:`e_{t+1} = (1-\eta\lambda)\left[(1+\beta)e_t - \beta e_{t-1}\right]`, characteristic
  polynomial :math:`z^2 - (1+\beta)(1-\eta\lambda)z + \beta(1-\eta\lambda)`.

The rate is the largest root modulus over the eigenvalues :math:`\mu = \lambda_{\min} \le \lambda \le
\lambda_{\max} = L` (the spectral radius of the iteration).  With the best parameters
(:func:`optimal_gd`, :func:`optimal_heavy_ball`), and :math:`\kappa = L/\mu`,

.. math::
    \rho_{\mathrm{GD}} = \frac{\kappa-1}{\kappa+1}, \qquad
    \rho_{\mathrm{HB}} = \frac{\sqrt\kappa-1}{\sqrt\kappa+1}

(Polyak 1964; Polyak, *Introduction to Optimization*, 1987, §3.2): per factor :math:`e` of error,
gradient descent needs :math:`1/(1-\rho) \approx \kappa/2` steps, heavy ball only :math:`\approx\sqrt\kappa/2`.

:func:`linear_rate` measures :math:`\rho` from a run.  Everything here works on host NumPy data (rates
are analysis, like plotting): paths come from :class:`~gdcourse.descent.History` (already on the host).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from gdcourse import _checks
from gdcourse.backend import to_numpy

__all__ = [
    "gd_rate",
    "heavy_ball_rate",
    "linear_rate",
    "nesterov_params",
    "nesterov_rate",
    "optimal_gd",
    "optimal_heavy_ball",
]


def _eigenvalues(eigenvalues: Any) -> np.ndarray:
    lam = np.asarray(to_numpy(eigenvalues), dtype=np.float64).reshape(-1)
    if lam.size == 0 or not np.all(np.isfinite(lam)) or np.any(lam <= 0):
        raise ValueError(f"eigenvalues must be a non-empty sequence of positive finite numbers, got {eigenvalues!r}")
    return lam


def _momentum_args(eigenvalues: Any, lr: float, momentum: float) -> tuple[np.ndarray, float, float]:
    r"""The checked arguments of the momentum rates: the eigenvalues, :math:`\eta > 0` and :math:`\beta \in [0, 1)`."""
    lam = _eigenvalues(eigenvalues)
    lr = _checks.positive("lr", lr)
    beta = float(momentum)
    if not (math.isfinite(beta) and 0.0 <= beta < 1.0):
        raise ValueError(f"momentum must be in [0, 1), got {beta!r}")
    return lam, lr, beta


def _largest_root(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Largest modulus of the roots of :math:`z^2 - a z + b`, elementwise."""
    disc = np.sqrt(a.astype(np.complex128) ** 2 - 4 * b)
    return np.maximum(np.abs((a + disc) / 2), np.abs((a - disc) / 2))


def gd_rate(eigenvalues: Sequence[float] | Any, lr: float) -> float:
    r"""Asymptotic rate of gradient descent on a quadratic: :math:`\rho = \max_\lambda |1 - \eta\lambda|`.

    Parameters
    ----------
    eigenvalues : sequence of float
        The curvatures :math:`\lambda` of the quadratic (the eigenvalues of its Hessian; the
        extremes :math:`L, \mu` suffice).
    lr : float
        :math:`\eta > 0`.

    Returns
    -------
    float
        :math:`\rho`; the run converges from every start exactly when :math:`\rho < 1`, i.e.
        :math:`\eta < 2/L`.
    """
    lam = _eigenvalues(eigenvalues)
    lr = _checks.positive("lr", lr)
    return float(np.max(np.abs(1 - lr * lam)))


def heavy_ball_rate(eigenvalues: Sequence[float] | Any, lr: float, momentum: float) -> float:
    r"""Asymptotic rate of heavy-ball momentum on a quadratic.

    .. math:: \rho = \max_\lambda \max\{|z| : z^2 - (1+\beta-\eta\lambda)z + \beta = 0\}

    (the spectral radius of :math:`\theta_{t+1} = \theta_t - \eta\nabla J(\theta_t) + \beta(\theta_t -
    \theta_{t-1})`).  When the roots are complex, :math:`|z| = \sqrt\beta`: too much momentum
    cannot be faster than :math:`\sqrt\beta` per step, it rings.

    Parameters
    ----------
    eigenvalues : sequence of float
        The curvatures :math:`\lambda` of the quadratic.
    lr : float
        :math:`\eta > 0` in torch's convention (``gdcourse.optim.heavy_ball(lr, momentum)``).
    momentum : float
        :math:`\beta \in [0, 1)`.

    Returns
    -------
    float
    """
    lam, lr, beta = _momentum_args(eigenvalues, lr, momentum)
    return float(np.max(_largest_root(1 + beta - lr * lam, np.full_like(lam, beta))))


def nesterov_rate(eigenvalues: Sequence[float] | Any, lr: float, momentum: float) -> float:
    r"""Asymptotic rate of Nesterov's accelerated gradient (constant :math:`\eta, \beta`) on a quadratic.

    .. math:: \rho = \max_\lambda \max\{|z| : z^2 - (1+\beta)(1-\eta\lambda)z + \beta(1-\eta\lambda) = 0\}

    The same for the look-ahead form (``gdcourse.optim.nesterov``) and torch's
    ``sgd(nesterov=True)``: they produce the same points, shifted by one look-ahead.

    Parameters
    ----------
    eigenvalues, lr, momentum
        As in :func:`heavy_ball_rate`: the curvatures :math:`\lambda`, :math:`\eta > 0` and
        :math:`\beta \in [0, 1)`, the same for both of Nesterov's forms.

    Returns
    -------
    float
    """
    lam, lr, beta = _momentum_args(eigenvalues, lr, momentum)
    q = 1 - lr * lam
    return float(np.max(_largest_root((1 + beta) * q, beta * q)))


def _L_mu(L: float, mu: float) -> tuple[float, float]:
    L, mu = float(L), float(mu)
    if not (math.isfinite(L) and math.isfinite(mu) and 0 < mu <= L):
        raise ValueError(f"need 0 < mu <= L (finite), got L={L!r}, mu={mu!r}")
    return L, mu


def optimal_gd(L: float, mu: float) -> tuple[float, float]:
    r"""The best fixed learning rate of gradient descent and its rate.

    .. math:: \eta^\star = \frac{2}{L+\mu}, \qquad \rho^\star = \frac{\kappa-1}{\kappa+1}

    Parameters
    ----------
    L, mu : float
        Largest and smallest curvature, :math:`0 < \mu \le L`.

    Returns
    -------
    (lr, rate) : (float, float)
    """
    L, mu = _L_mu(L, mu)
    kappa = L / mu
    return 2 / (L + mu), (kappa - 1) / (kappa + 1)


def optimal_heavy_ball(L: float, mu: float) -> tuple[float, float, float]:
    r"""Polyak's optimal heavy-ball parameters and rate on a quadratic.

    .. math::
        \eta^\star = \frac{4}{(\sqrt L+\sqrt\mu)^2}, \qquad
        \beta^\star = \left(\frac{\sqrt\kappa-1}{\sqrt\kappa+1}\right)^2, \qquad
        \rho^\star = \sqrt{\beta^\star} = \frac{\sqrt\kappa-1}{\sqrt\kappa+1}

    (torch's convention for :math:`\eta`; for the EWMA convention use :math:`\eta^\star/(1-\beta^\star)`).
    At these values both extreme curvatures have a double root :math:`\pm\sqrt{\beta^\star}`, so the
    error behaves like :math:`(a + bt)\rho^t`: the rate is reached asymptotically, after a
    polynomial prefactor.

    Parameters
    ----------
    L, mu : float
        Largest and smallest eigenvalue of the quadratic's Hessian, :math:`0 < \mu \le L`.

    Returns
    -------
    (lr, momentum, rate) : (float, float, float)

    References
    ----------
    Polyak, B. T. (1964). Some methods of speeding up the convergence of iteration methods.
    USSR Comput. Math. Math. Phys., 4(5), 1-17.
    """
    L, mu = _L_mu(L, mu)
    root = math.sqrt(L / mu)
    rate = (root - 1) / (root + 1)
    return 4 / (math.sqrt(L) + math.sqrt(mu)) ** 2, rate**2, rate


def nesterov_params(L: float, mu: float) -> tuple[float, float]:
    r"""The textbook parameters of Nesterov's method for an :math:`L`-smooth, :math:`\mu`-strongly convex cost.

    .. math:: \eta = \frac1L, \qquad \beta = \frac{\sqrt\kappa-1}{\sqrt\kappa+1}

    with the guarantee :math:`J(\theta_t) - J^* \le C\,(1 - 1/\sqrt\kappa)^t` for *every* such cost
    (Nesterov, *Introductory Lectures on Convex Optimization*, 2004, §2.2).  On a quadratic the
    asymptotic rate of the iterates is exactly :math:`1 - 1/\sqrt\kappa`: at :math:`\lambda = \mu` the
    roots are complex with modulus :math:`\sqrt{\beta(1-1/\kappa)} = 1 - 1/\sqrt\kappa`
    (see :func:`nesterov_rate`).

    Parameters
    ----------
    L, mu : float
        The cost's smoothness and strong-convexity constants, :math:`0 < \mu \le L`.

    Returns
    -------
    (lr, momentum) : (float, float)
    """
    L, mu = _L_mu(L, mu)
    root = math.sqrt(L / mu)
    return 1 / L, (root - 1) / (root + 1)


def linear_rate(run: Any, theta_star: Any, *, burn_in: int = 0, window: int | None = None, floor: float = 0.0) -> float:
    r"""Measured linear rate: the geometric mean contraction of :math:`\lVert\theta_t - \theta^*\rVert`.

    .. math::
        \hat\rho = \left(\frac{\lVert\theta_{s+w} - \theta^*\rVert}{\lVert\theta_s - \theta^*\rVert}\right)^{1/w}
        = \Big(\prod_{t=s}^{s+w-1} \frac{\lVert e_{t+1}\rVert}{\lVert e_t\rVert}\Big)^{1/w}

    with :math:`s` = ``burn_in`` and :math:`w` = ``window``.  A burn-in skips the transient (the
    faster-decaying components, and for momentum methods the polynomial prefactor); a long window
    averages out oscillations: an error :math:`(a+bt)\rho^t` gives
    :math:`\hat\rho = \rho\,\left(\frac{a + b(s+w)}{a+bs}\right)^{1/w} \to \rho`.

    Parameters
    ----------
    run : History or array, shape (n+1, dim)
        A run (its ``path``) or the iterates themselves (any backend).
    theta_star : array, shape (dim,)
        The minimiser.
    burn_in : int, default 0
        First iterate of the window.
    window : int, optional
        Number of steps in the window (default: to the end of the run).
    floor : float, default 0
        End the window early, before the first iterate whose error is at most ``floor`` (where
        rounding, not the method, sets the error; e.g. ``1e-12`` times the start error when
        :math:`\theta^* \ne 0`).

    Returns
    -------
    float
        :math:`\hat\rho` (0 if the error reached exactly 0).

    Raises
    ------
    ValueError
        If the window is empty (also when the error reaches ``floor`` in its first step) or starts at
        an error that is zero or not finite.
    """
    path = np.asarray(to_numpy(getattr(run, "path", run)), dtype=np.float64)
    if path.ndim == 1:
        path = path[:, None]
    star = np.asarray(to_numpy(theta_star), dtype=np.float64).reshape(-1)
    if path.ndim != 2 or path.shape[1] != star.size:
        raise ValueError(f"run has iterates of shape {path.shape[1:]}, theta_star has shape {star.shape}")
    errors = np.linalg.norm(path - star, axis=1)
    n = len(errors) - 1
    if isinstance(burn_in, bool) or not isinstance(burn_in, int | np.integer) or not 0 <= burn_in < n:
        raise ValueError(f"burn_in must be an integer in [0, {n}) for a run of {n} steps, got {burn_in!r}")
    end = n if window is None else burn_in + int(window)
    if not burn_in < end <= n:
        raise ValueError(f"window must be in [1, {n - burn_in}] after burn_in={burn_in}, got {window!r}")
    start = errors[burn_in]
    if not (math.isfinite(start) and start > 0):
        raise ValueError(f"the error at step {burn_in} is {start!r}; the window must start at a positive finite error")
    if floor > 0:
        low = np.flatnonzero(errors[burn_in + 1 : end + 1] <= floor)
        if low.size:
            end = burn_in + int(low[0])
            if end == burn_in:
                raise ValueError(f"the error fell to floor={floor:g} in step {burn_in + 1}: no rate to measure")
    last = errors[end]
    if last == 0:
        return 0.0
    return float(math.exp((math.log(last) - math.log(start)) / (end - burn_in)))
