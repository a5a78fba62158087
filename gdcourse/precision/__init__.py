r"""Floating-point precision in training: float16, float32, float64, mixed precision and loss scaling.

A floating-point number with a ``p``-bit significand (the implicit leading bit included) and an
exponent range :math:`[e_{\min}, e_{\max}]` has

.. math::
    \varepsilon = 2^{1-p}, \qquad x_{\max} = (2 - 2^{1-p})\, 2^{e_{\max}}, \qquad
    x_{\min}^{\text{normal}} = 2^{e_{\min}}, \qquad x_{\min}^{\text{subnormal}} = 2^{e_{\min} + 1 - p},

and neighbouring numbers near :math:`x` are about :math:`\varepsilon|x|` apart (the *ulp*, unit in the
last place).  For IEEE half precision (float16: :math:`p = 11`, :math:`e_{\max} = 15`,
:math:`e_{\min} = -14`) that is :math:`\varepsilon \approx 9.8\times10^{-4}`, :math:`x_{\max} = 65504`,
:math:`x_{\min}^{\text{normal}} \approx 6.1\times10^{-5}` and
:math:`x_{\min}^{\text{subnormal}} \approx 6.0\times10^{-8}`.
Three things go wrong when training in it:

* **small updates round away** — :math:`\theta - \eta g` rounds back to :math:`\theta` when
  :math:`|\eta g|` is below half the gap between :math:`\theta` and its neighbour (about
  :math:`\mathrm{ulp}(\theta)/2`): :func:`apply_step`, :func:`update_lost`, :func:`ulp`;
* **overflow** — anything above 65504 becomes ``inf`` (and ``inf - inf`` becomes NaN);
* **underflow** — values below :math:`6\times10^{-8}` become 0, and between that and
  :math:`6.1\times10^{-5}` (the *subnormals*) they keep fewer significant bits
  (:func:`rounding_error`, :func:`cast_outcome`).

**Mixed precision** (Micikevicius et al., *Mixed Precision Training*, ICLR 2018) keeps the forward
and backward passes in float16 and fixes the problems with three techniques, all options of
:func:`train_linear` (full-batch gradient descent on a linear regression with several outputs, the
model notebook 11 uses; :func:`regression_data` makes its data, with small targets so that float16
gradients underflow):

1. a float32 **master copy** of the weights receives the updates (so small updates are not lost),
   and a float16 copy of it is made for each forward and backward pass;
2. products are **accumulated in float32** and rounded to float16 once at the end (as tensor cores do);
3. **loss scaling**: the loss is multiplied by :math:`S` before the backward pass, so every gradient is
   :math:`S` times larger and stays clear of the underflow region; the weight gradients are divided by
   :math:`S` in float32 before the update.  With *dynamic* loss scaling (:class:`DynamicLossScaler`,
   :func:`loss_scale_step`) a step whose gradients overflowed is skipped and :math:`S` is halved, and
   :math:`S` is doubled after ``growth_interval`` steps without overflow (the rule of
   ``torch.amp.GradScaler``, checked against it in the tests).

**Backends.** Everything follows the arrays it is given (array API).  float16 is not part of the array
API standard: NumPy and CuPy have it, ``array_api_strict`` does not, so the float16 parts run on NumPy
and CuPy only (asking for float16 elsewhere raises a clear error); float32 and float64 run everywhere.
Overflow while casting is *expected* here (it is what a loss scaler detects), so the functions of this
module silence NumPy's overflow warnings inside themselves.

:func:`training_memory` counts the bytes a training step of an MLP keeps: parameters, gradients,
optimizer state, master weights and the activations stored for the backward pass (the only part that
grows with the batch size).

Modules: :mod:`~gdcourse.precision.formats` (formats, rounding, overflow, underflow),
:mod:`~gdcourse.precision.loss_scaling`, :mod:`~gdcourse.precision.mixed` (the training run) and
:mod:`~gdcourse.precision.memory`; every name imports from ``gdcourse.precision``.
"""

from gdcourse.precision.formats import (
    FORMATS,
    FloatFormat,
    apply_step,
    cast,
    cast_outcome,
    float_format,
    resolve_dtype,
    rounding_error,
    ulp,
    update_lost,
)
from gdcourse.precision.loss_scaling import DynamicLossScaler, loss_scale_step
from gdcourse.precision.memory import MemoryEstimate, training_memory
from gdcourse.precision.mixed import PrecisionRun, linear_loss, regression_data, train_linear

__all__ = [
    "FORMATS",
    "DynamicLossScaler",
    "FloatFormat",
    "MemoryEstimate",
    "PrecisionRun",
    "apply_step",
    "cast",
    "cast_outcome",
    "float_format",
    "loss_scale_step",
    "linear_loss",
    "resolve_dtype",
    "rounding_error",
    "regression_data",
    "train_linear",
    "training_memory",
    "ulp",
    "update_lost",
]
