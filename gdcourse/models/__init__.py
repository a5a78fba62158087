r"""scikit-learn-compatible linear models trained by gradient descent with any :mod:`gdcourse.optim` rule.

=====================  ============================================  ===========================================
estimator              objective :math:`J` minimised                 the same problem in scikit-learn
=====================  ============================================  ===========================================
``LinearRegression``   :math:`\frac{1}{2n}\lVert Xw+b-y\rVert^2 + R`  ``LinearRegression``; ``Lasso(alpha)``,
                                                                     ``ElasticNet(alpha, l1_ratio)``,
                                                                     ``Ridge(alpha=n * alpha)``
``LogisticRegression`` :math:`\frac1n\sum_i \text{log loss}_i + R`   ``LogisticRegression(C=1/(n * alpha))``
``SoftmaxRegression``  :math:`\frac1n\sum_i \text{cross-entropy}_i+R` multinomial
                                                                     ``LogisticRegression(C=1/(n * alpha))``
``LinearSVM``          :math:`\frac1n\sum_i \text{(sq.) hinge}_i + R`  ``LinearSVC(C=1/(n * alpha))`` (which also
                                                                     penalises the intercept)
=====================  ============================================  ===========================================

with :math:`R(w) = \alpha\big(r\lVert w\rVert_1 + \frac{1-r}{2}\lVert w\rVert_2^2\big)`: ``penalty="l1"`` is
:math:`r = 1`, ``"l2"`` is :math:`r = 0`, ``"elasticnet"`` takes ``l1_ratio`` :math:`r`; the intercept
is never penalised.  Every estimator takes ``optimizer`` (a name or an optimizer object), ``lr``
(a number, a schedule or ``"auto"`` = 1/L), ``batch_size``, ``penalty``/``alpha``/``l1_ratio``,
``max_epochs``, ``tol``/``patience``, ``early_stopping``/``validation_fraction`` and ``random_state``,
and records a :class:`FitHistory` in ``history_``.  They work in ``Pipeline`` and ``GridSearchCV``.
"""

from gdcourse.descent import DivergenceError

from ._base import FitHistory, SubgradientSchedule
from .linear import LinearRegression
from .logistic import LogisticRegression
from .softmax import SoftmaxRegression
from .svm import LinearSVM

__all__ = [
    "DivergenceError",
    "FitHistory",
    "SubgradientSchedule",
    "LinearRegression",
    "LinearSVM",
    "LogisticRegression",
    "SoftmaxRegression",
]
