r"""The noise of a minibatch gradient: measured (:func:`gradient_noise`) and predicted (:func:`predicted_variance`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
from array_api_compat import device

from gdcourse.backend import array_namespace, rng
from gdcourse.data import minibatch_indices

Array = Any
Seed = int | np.random.Generator | None
Schedule = Callable[[int], float]


# ----------------------------------------------------------------------------------------------
# The noise of a minibatch gradient
# ----------------------------------------------------------------------------------------------


def _grads_matrix(per_example_grads: Array) -> tuple[Any, Array]:
    try:
        xp = array_namespace(per_example_grads)
    except TypeError:
        raise TypeError(
            f"per_example_grads must be an array (n_samples, dim), got {type(per_example_grads).__name__}"
        ) from None
    G = per_example_grads
    if G.ndim == 1:
        G = G[:, None]
    if G.ndim != 2 or G.shape[0] < 2:
        raise ValueError(
            "per_example_grads must have shape (n_samples, dim) with n_samples >= 2, "
            f"got {tuple(per_example_grads.shape)}"
        )
    if not xp.isdtype(G.dtype, "real floating"):
        G = xp.astype(G, xp.float64)
    return xp, G


def gradient_variance(per_example_grads: Array) -> float:
    r"""The spread of the examples' gradients, :math:`\sigma^2 = \frac1n\sum_i \lVert\nabla f_i - \nabla J\rVert^2`.

    The total variance (trace of the covariance) of the gradient of one example drawn uniformly,
    with :math:`\nabla J = \frac1n\sum_i\nabla f_i`; divisor :math:`n` (the population, not a sample).

    Parameters
    ----------
    per_example_grads : array, shape (n_samples, dim)
        Row :math:`i` is :math:`\nabla f_i(\theta)` (e.g. :meth:`LeastSquares.per_example_grads`).
    """
    xp, G = _grads_matrix(per_example_grads)
    centred = G - xp.mean(G, axis=0)
    return float(xp.mean(xp.sum(centred**2, axis=1)))


def predicted_variance(
    sigma2: float, n_samples: int, batch_size: int | Sequence[int] | np.ndarray, *, replace: bool = False
) -> Any:
    r"""The variance of a minibatch gradient, :math:`\mathbb E\lVert g_{\mathcal B} - \nabla J\rVert^2`.

    .. math:: \frac{\sigma^2}{B} \quad\text{(B examples drawn with replacement)}, \qquad
              \frac{\sigma^2}{B}\cdot\frac{n-B}{n-1} \quad\text{(without replacement)}.

    Without replacement (a batch of distinct examples, as each batch of a shuffled epoch is), the
    terms of the mean are slightly negatively correlated; the finite-population correction
    :math:`(n-B)/(n-1)` is exact (e.g. Cochran, *Sampling Techniques*, 1977, Thm. 2.2) and goes from 1
    at :math:`B = 1` to 0 at :math:`B = n`.

    Parameters
    ----------
    sigma2 : float
        :math:`\sigma^2 \ge 0` (:func:`gradient_variance`); a negative value is refused.
    n_samples : int
        :math:`n \ge 1` (with :math:`n = 1` the one batch without replacement is the whole set: variance 0).
    batch_size : int or sequence of int
        :math:`B` (``1 <= B``, and ``B <= n`` without replacement).
    replace : bool, default False
        Whether the :math:`B` examples are drawn with replacement.

    Returns
    -------
    float or numpy.ndarray
        One value per batch size.
    """
    if isinstance(sigma2, bool) or not isinstance(sigma2, int | float | np.number) or not sigma2 >= 0:
        raise ValueError(f"sigma2 must be a variance, a number >= 0, got {sigma2!r}")
    if isinstance(n_samples, bool) or not isinstance(n_samples, int | np.integer) or n_samples < 1:
        raise ValueError(f"n_samples must be an integer >= 1, got {n_samples!r}")
    B = np.asarray(batch_size)
    if B.dtype.kind not in "iu" or np.any(B < 1) or (not replace and np.any(B > n_samples)):
        limit = "" if replace else f" and at most n_samples={n_samples}"
        raise ValueError(f"batch_size must be integers >= 1{limit}, got {batch_size!r}")
    if replace or n_samples == 1:  # n = 1: the only batch is the whole data set (B = 1 = n), variance 0 below
        out = sigma2 / B if replace else 0.0 * B
    else:
        out = sigma2 / B * (n_samples - B) / (n_samples - 1)
    return float(out) if B.ndim == 0 else out.astype(np.float64)


class GradientNoise(NamedTuple):
    r"""Measured and predicted variance of the minibatch gradient for several batch sizes.

    ``measured[k]`` is the mean of :math:`\lVert g_{\mathcal B} - \nabla J\rVert^2` over ``n_draws``
    minibatches of size ``batch_sizes[k]``; ``predicted[k]`` is :func:`predicted_variance`.
    """

    batch_sizes: np.ndarray
    measured: np.ndarray
    predicted: np.ndarray
    sigma2: float
    n_samples: int
    n_draws: int
    replace: bool


def gradient_noise(
    per_example_grads: Array,
    batch_sizes: int | Sequence[int],
    *,
    n_draws: int = 10_000,
    replace: bool = False,
    seed: Seed = 0,
) -> GradientNoise:
    r"""Measure the variance of the minibatch gradient over many seeded minibatches, beside its prediction.

    For each :math:`B`, ``n_draws`` minibatches are drawn and :math:`\lVert g_{\mathcal B} - \nabla J\rVert^2`
    is averaged, with :math:`g_{\mathcal B} = \frac1B\sum_{i\in\mathcal B}\nabla f_i`:

    * ``replace=False`` (default): the batches of :class:`gdcourse.data.Minibatches` with
      ``drop_last=True``, epoch after epoch -- exactly how :func:`sgd_run` draws them; the prediction is
      :math:`\frac{\sigma^2}{B}\frac{n-B}{n-1}`;
    * ``replace=True``: :math:`B` indices drawn independently and uniformly; the prediction is
      :math:`\sigma^2/B`.

    Parameters
    ----------
    per_example_grads : array, shape (n_samples, dim)
        :math:`\nabla f_i(\theta)` at one :math:`\theta`, any backend.
    batch_sizes : int or sequence of int
        The :math:`B` to measure (at most ``n_samples`` without replacement).
    n_draws : int, default 10000
        Minibatches per batch size (at least; whole epochs without replacement, one draw for :math:`B = n`).
    replace : bool, default False
        Draw with replacement instead of epochs of a permutation.
    seed : int, numpy Generator or None, default 0
        Seed of the draws.

    Returns
    -------
    GradientNoise
    """
    xp, G = _grads_matrix(per_example_grads)
    n = int(G.shape[0])
    sizes = np.atleast_1d(np.asarray(batch_sizes))
    if isinstance(n_draws, bool) or not isinstance(n_draws, int | np.integer) or n_draws < 1:
        raise ValueError(f"n_draws must be a positive integer, got {n_draws!r}")
    sigma2 = gradient_variance(G)
    predicted = np.atleast_1d(predicted_variance(sigma2, n, sizes, replace=replace))
    mean = xp.mean(G, axis=0)
    gen = rng(seed)
    measured = []
    for B in sizes.tolist():
        total, count = 0.0, 0
        if replace:
            idx = gen.integers(0, n, size=(n_draws, B))
            rows = xp.take(G, xp.asarray(idx.reshape(-1), device=device(G)), axis=0)
            means = xp.mean(xp.reshape(rows, (n_draws, B, -1)), axis=1)
            total, count = float(xp.sum((means - mean) ** 2)), n_draws
        else:
            while count < n_draws:  # epoch after epoch, as Minibatches(G, B, drop_last=True, seed=gen) draws them
                idx = np.concatenate(minibatch_indices(n, B, drop_last=True, seed=gen))
                k = idx.size // B
                rows = xp.take(G, xp.asarray(idx, device=device(G)), axis=0)
                means = xp.mean(xp.reshape(rows, (k, B, -1)), axis=1)
                total += float(xp.sum((means - mean) ** 2))
                count += k
                if B >= n:  # the full batch is the same every epoch: one draw says everything
                    break
        measured.append(total / count)
    return GradientNoise(
        sizes.astype(np.int64), np.asarray(measured), predicted, sigma2, n, int(n_draws), bool(replace)
    )
