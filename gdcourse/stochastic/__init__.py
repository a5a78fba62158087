r"""Stochastic and minibatch gradient descent on a finite sum, and the noise of minibatch gradients.

Most costs in machine learning are **finite sums**, one term per training example:

.. math:: J(\theta) = \frac1n \sum_{i=1}^n f_i(\theta), \qquad
          \nabla J(\theta) = \frac1n \sum_{i=1}^n \nabla f_i(\theta).

A minibatch :math:`\mathcal B` of :math:`B` examples gives the estimate
:math:`g_{\mathcal B} = \frac1B \sum_{i\in\mathcal B} \nabla f_i(\theta)`; one **update** is
:math:`\theta \leftarrow \theta - \eta\, g_{\mathcal B}` and one **epoch** is :math:`\lceil n/B\rceil`
updates, one pass over the data.  :math:`B = n` is batch (full) gradient descent, :math:`B = 1`
stochastic (online) descent, anything between minibatch descent (Bottou, Curtis & Nocedal, 2018,
"Optimization methods for large-scale machine learning", SIAM Review 60(2)).

This module holds

* :class:`LeastSquares` -- the finite sum :math:`f_i(\theta) = \tfrac12(x_i^\top\theta - y_i)^2`
  (linear regression), with its exact minimum, curvatures :math:`L, \mu` and per-example gradients;
* :func:`sgd_run` -- the minibatch loop (batches from :class:`gdcourse.data.Minibatches`), recording the
  cost against updates, epochs and examples processed in a :class:`StochasticHistory`;
* :func:`gradient_noise`, :func:`gradient_variance`, :func:`predicted_variance` -- the variance of
  :math:`g_{\mathcal B}` measured over many seeded minibatches and its prediction,

  .. math:: \mathbb E\,\lVert g_{\mathcal B} - \nabla J\rVert^2 = \frac{\sigma^2}{B}
            \quad\text{(with replacement)}, \qquad
            \frac{\sigma^2}{B}\,\frac{n - B}{n - 1} \quad\text{(without replacement)},

  where :math:`\sigma^2 = \frac1n\sum_i \lVert\nabla f_i - \nabla J\rVert^2`.  The minibatches of an
  epoch are drawn *without* replacement (pieces of a permutation), so the finite-population correction
  :math:`(n-B)/(n-1)` applies to them: it is 1 for :math:`B = 1` and 0 for :math:`B = n`, where the
  "estimate" is the exact gradient.

Modules: :mod:`~gdcourse.stochastic.least_squares`, :mod:`~gdcourse.stochastic.loop` and
:mod:`~gdcourse.stochastic.noise`; every name imports from ``gdcourse.stochastic``.
"""

from gdcourse.stochastic.least_squares import LeastSquares
from gdcourse.stochastic.loop import StochasticHistory, sgd_run
from gdcourse.stochastic.noise import GradientNoise, gradient_noise, gradient_variance, predicted_variance

__all__ = [
    "GradientNoise",
    "LeastSquares",
    "StochasticHistory",
    "gradient_noise",
    "gradient_variance",
    "predicted_variance",
    "sgd_run",
]
