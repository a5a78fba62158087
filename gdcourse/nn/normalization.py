r"""Normalisation layers: BatchNorm1d (statistics over the batch) and LayerNorm (over the features).

Both standardise their input and then apply a learned affine map, feature by feature:

.. math::
    \hat x = \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}}, \qquad y = \gamma \odot \hat x + \beta

and differ in what :math:`\mu` and :math:`\sigma^2` (the *biased* variance, the mean of
:math:`(x-\mu)^2`) are averaged over.  :class:`BatchNorm1d` averages each feature over the
examples of the batch, so in training one example's output depends on the others, and at test time
it uses running averages of the batch statistics instead; :class:`LayerNorm` averages each example
over its own features and behaves the same in training and evaluation.

The forward pass is written with the :class:`~gdcourse.autodiff.Tensor` operations (mean,
subtraction, power, product), so backpropagation through :math:`\mu` and :math:`\sigma^2` needs no
rule of its own.  Parameters, layouts and defaults are torch's (``weight`` :math:`\gamma` starts at
ones, ``bias`` :math:`\beta` at zeros); ``tests/test_normalization.py`` compares outputs, gradients
and running statistics with ``torch.nn.BatchNorm1d`` and ``torch.nn.LayerNorm``.
"""

from __future__ import annotations

import math
from typing import Any

from array_api_compat import device as _device
from array_api_compat import to_device as _to_device

from gdcourse import _checks
from gdcourse import init as _init
from gdcourse.autodiff.array import Tensor, as_tensor
from gdcourse.backend import array_namespace, to_numpy
from gdcourse.nn.module import Module, _param

__all__ = ["BatchNorm1d", "LayerNorm"]

Array = Any


class BatchNorm1d(Module):
    r"""Batch normalisation of ``(N, C)`` or ``(N, C, L)`` inputs (``torch.nn.BatchNorm1d``).

    In **training mode** each feature :math:`c` is standardised with the statistics of the batch,
    over the :math:`n` values it takes (:math:`n = N`, or :math:`N L` for a 3-D input):

    .. math::
        \mu_c = \frac1n \sum_i x_{ic}, \qquad \sigma_c^2 = \frac1n \sum_i (x_{ic} - \mu_c)^2, \qquad
        y_{ic} = \gamma_c\, \frac{x_{ic} - \mu_c}{\sqrt{\sigma_c^2 + \epsilon}} + \beta_c

    and the gradient flows through :math:`\mu_c` and :math:`\sigma_c^2` too.  Each training forward
    pass also updates the running estimates, with the *unbiased* variance as torch does,

    .. math::
        \hat\mu_c \leftarrow (1-m)\,\hat\mu_c + m\,\mu_c, \qquad
        \hat\sigma_c^2 \leftarrow (1-m)\,\hat\sigma_c^2 + m\,\frac{n}{n-1}\,\sigma_c^2

    (:math:`m` = ``momentum``; they start at 0 and 1).  In **evaluation mode**
    (:meth:`~gdcourse.nn.Module.eval`) the layer is the fixed affine map
    :math:`y_{ic} = \gamma_c (x_{ic} - \hat\mu_c)/\sqrt{\hat\sigma_c^2 + \epsilon} + \beta_c`, so an
    example's output no longer depends on the rest of its batch.  Training needs :math:`n \ge 2`
    values per feature (a last minibatch of one example is refused, as in torch).

    The running statistics ``running_mean`` and ``running_var`` are *buffers*
    (:meth:`~gdcourse.nn.Module.register_buffer`), not parameters: no gradient, not in
    :meth:`~gdcourse.nn.Module.parameters`, so no optimizer touches them; but they are in
    :meth:`~gdcourse.nn.Module.state_dict` (``"weight", "bias", "running_mean", "running_var"``, torch's
    order) and in the checkpoints of :mod:`gdcourse.train`, so a trained model loaded from either
    evaluates as it did.  Torch's third buffer, ``num_batches_tracked``, is left out: torch reads it
    only for ``momentum=None`` (a cumulative average), which is not offered here, so it would be a
    counter that changes no output (a checkpoint already records the steps done).  Otherwise the
    names and their order are torch's: a torch ``state_dict`` without that key loads here, and ours
    into torch with ``strict=False``.

    Parameters
    ----------
    num_features : int
        :math:`C`, the size of axis 1 of the input.
    eps : float, default 1e-5
        :math:`\epsilon > 0`, added to the variance.
    momentum : float, default 0.1
        :math:`m \in [0, 1]`, the weight of the newest batch in the running estimates (torch's
        ``momentum=None``, a cumulative average, is not offered).
    dtype : str, default "float64"
        ``"float64"`` or ``"float32"``: of the parameters, the running statistics and the inputs.

    Attributes
    ----------
    weight, bias : Tensor
        :math:`\gamma` (ones) and :math:`\beta` (zeros), shape ``(C,)``.
    running_mean, running_var : array
        :math:`\hat\mu` and :math:`\hat\sigma^2`, shape ``(C,)``: buffers, replaced (not modified in
        place) by each training forward pass.

    References
    ----------
    Ioffe, S., & Szegedy, C. (2015). Batch normalization: Accelerating deep network training by reducing
    internal covariate shift. ICML.
    """

    running_mean: Array  # buffers (register_buffer), declared for the type checker
    running_var: Array

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1, *, dtype: str = "float64") -> None:
        super().__init__()
        self.num_features = _checks.positive_int("num_features", num_features)
        self.eps = _checks.positive("eps", eps)
        if momentum is None:
            raise TypeError(
                "momentum must be a number in [0, 1]; torch's momentum=None (a cumulative average) is not offered"
            )
        self.momentum = _checks.finite("momentum", momentum)
        if not 0 <= self.momentum <= 1:
            raise ValueError(f"momentum must be in [0, 1], got {momentum}")
        self.weight = _param(_init.ones((num_features,), dtype=dtype))
        self.bias = _param(_init.zeros((num_features,), dtype=dtype))
        self.register_buffer("running_mean", _init.zeros((num_features,), dtype=dtype))
        self.register_buffer("running_var", _init.ones((num_features,), dtype=dtype))

    def forward(self, x: Any) -> Tensor:
        """Normalise with the batch's statistics (training mode, updating the running ones) or the running ones."""
        x = as_tensor(x)
        if x.ndim not in (2, 3) or x.shape[1] != self.num_features:
            c = self.num_features
            raise ValueError(f"BatchNorm1d({c}) expects input of shape (N, {c}) or (N, {c}, L), got shape {x.shape}")
        _check_dtype(x, self.weight, "BatchNorm1d")
        axes = (0,) if x.ndim == 2 else (0, 2)
        shape = (1, self.num_features) + (1,) * (x.ndim - 2)
        if self.training:
            n = math.prod(x.shape[a] for a in axes)
            if n < 2:
                raise ValueError(
                    f"BatchNorm1d needs more than 1 value per feature in training mode, got input of shape {x.shape} "
                    "(a last minibatch of one example? choose a batch size that does not leave one, or call eval())"
                )
            mean = x.mean(axis=axes, keepdims=True)
            centred = x - mean
            var = (centred * centred).mean(axis=axes, keepdims=True)  # biased: divided by n
            self._update_running(mean.data, var.data, n)
            x_hat = centred * (var + self.eps) ** -0.5
        else:
            xp = x.xp
            mean_c, var_c = (xp.reshape(_follow(b, x.data), shape) for b in (self.running_mean, self.running_var))
            x_hat = (x - mean_c) * (1 / xp.sqrt(var_c + self.eps))
        return x_hat * self.weight.reshape(*shape) + self.bias.reshape(*shape)

    def _update_running(self, mean: Array, var: Array, n: int) -> None:
        """The running estimates' update (no gradient), in their own dtype, on the input's device."""
        m = self.momentum
        running_mean, running_var = (_follow(b, mean, keep_dtype=True) for b in (self.running_mean, self.running_var))
        xp = array_namespace(mean)
        batch_mean = xp.astype(xp.reshape(mean, (-1,)), running_mean.dtype)
        batch_var = xp.astype(xp.reshape(var, (-1,)) * (n / (n - 1)), running_var.dtype)  # unbiased
        self.running_mean = (1 - m) * running_mean + m * batch_mean
        self.running_var = (1 - m) * running_var + m * batch_var

    def extra_repr(self) -> str:
        """Size, eps and momentum."""
        return f"num_features={self.num_features}, eps={self.eps}, momentum={self.momentum}"


class LayerNorm(Module):
    r"""Layer normalisation over the last axis (``torch.nn.LayerNorm(num_features)``).

    Each example (each position of the leading axes) is standardised over its own :math:`C` features:

    .. math::
        \mu = \frac1C \sum_c x_c, \qquad \sigma^2 = \frac1C \sum_c (x_c - \mu)^2, \qquad
        y_c = \gamma_c\, \frac{x_c - \mu}{\sqrt{\sigma^2 + \epsilon}} + \beta_c

    No statistic is shared between examples and none is kept: training and evaluation modes
    compute the same thing, and a batch of one example works.

    Parameters
    ----------
    num_features : int
        :math:`C`, the size of the last axis of the input.
    eps : float, default 1e-5
        :math:`\epsilon > 0`, added to the variance.
    dtype : str, default "float64"
        ``"float64"`` or ``"float32"``.

    Attributes
    ----------
    weight, bias : Tensor
        :math:`\gamma` (ones) and :math:`\beta` (zeros), shape ``(C,)``.

    References
    ----------
    Ba, J. L., Kiros, J. R., & Hinton, G. E. (2016). Layer normalization. arXiv:1607.06450.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, *, dtype: str = "float64") -> None:
        super().__init__()
        self.num_features = _checks.positive_int("num_features", num_features)
        self.eps = _checks.positive("eps", eps)
        self.weight = _param(_init.ones((num_features,), dtype=dtype))
        self.bias = _param(_init.zeros((num_features,), dtype=dtype))

    def forward(self, x: Any) -> Tensor:
        """Normalise every example over its last axis, then scale and shift."""
        x = as_tensor(x)
        if x.ndim == 0 or x.shape[-1] != self.num_features:
            raise ValueError(
                f"LayerNorm({self.num_features}) expects input of shape (..., {self.num_features}), got shape {x.shape}"
            )
        _check_dtype(x, self.weight, "LayerNorm")
        mean = x.mean(axis=-1, keepdims=True)
        centred = x - mean
        var = (centred * centred).mean(axis=-1, keepdims=True)
        return centred * (var + self.eps) ** -0.5 * self.weight + self.bias

    def extra_repr(self) -> str:
        """Size and eps."""
        return f"num_features={self.num_features}, eps={self.eps}"


def _check_dtype(x: Tensor, weight: Tensor, layer: str) -> None:
    if x.dtype != weight.dtype:
        raise TypeError(f"{layer} has {weight.dtype} parameters but the input has dtype {x.dtype}; cast one of them")


def _follow(buffer: Array, like: Array, *, keep_dtype: bool = False) -> Array:
    """``buffer`` on the library and device of ``like`` (and in its dtype unless ``keep_dtype``)."""
    if type(buffer) is not type(like):
        buffer = array_namespace(like).asarray(to_numpy(buffer), device=_device(like))
    elif _device(buffer) != _device(like):
        buffer = _to_device(buffer, _device(like))
    if keep_dtype or buffer.dtype == like.dtype:
        return buffer
    return array_namespace(like).astype(buffer, like.dtype)
