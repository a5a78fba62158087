r"""Weight initialisers: zeros, constants, normal, uniform, Xavier/Glorot, He/Kaiming, LeCun.

Every initialiser draws on the host from a seeded :class:`numpy.random.Generator` (in float64, then
cast to ``dtype``) and moves the result to the active backend with :func:`gdcourse.backend.asarray`,
so the same seed gives the same weights on NumPy, CuPy or ``array_api_strict``.  Each one is called
the same way::

    w = gdcourse.init.xavier_uniform((out_features, in_features), seed=0, dtype="float32")

``seed`` is an integer or a :class:`numpy.random.Generator`; passing one generator to several
calls draws them one after another from the same stream (that is how a model seeds all its layers).
``seed=None`` draws fresh entropy: pass a seed wherever results must be reproducible.

Weight layout (as in PyTorch) and fans (as ``torch.nn.init._calculate_fan_in_and_fan_out``):

=======================  ============================  ==================  ===================
layer                    weight shape                  fan_in              fan_out
=======================  ============================  ==================  ===================
Linear                   ``(out, in)``                 ``in``              ``out``
Conv2d                   ``(out, in, kh, kw)``         ``in * kh * kw``    ``out * kh * kw``
RNN / LSTM cell          ``(gates * hidden, in)``      ``in``              ``gates * hidden``
=======================  ============================  ==================  ===================

The schemes keep the variance of activations (fan_in) or of gradients (fan_out) from layer to
layer.  With gain :math:`a` (see :func:`gain`):

=====================  ====================================================  ===========================
scheme                 distribution                                          variance
=====================  ====================================================  ===========================
Xavier/Glorot uniform  :math:`U(-b, b)`, :math:`b = a\sqrt{6/(n_{in}+n_{out})}`  :math:`2a^2/(n_{in}+n_{out})`
Xavier/Glorot normal   :math:`N(0, \sigma^2)`, :math:`\sigma = a\sqrt{2/(n_{in}+n_{out})}`  same
He/Kaiming uniform     :math:`U(-b, b)`, :math:`b = a\sqrt{3/n}`                :math:`a^2/n`
He/Kaiming normal      :math:`N(0, \sigma^2)`, :math:`\sigma = a/\sqrt{n}`       :math:`a^2/n`
LeCun uniform          :math:`U(-b, b)`, :math:`b = \sqrt{3/n_{in}}`           :math:`1/n_{in}`
LeCun normal           :math:`N(0, 1/n_{in})`                                  :math:`1/n_{in}`
=====================  ====================================================  ===========================

where :math:`n` is fan_in or fan_out (``mode``) and He's default gain is :math:`\sqrt 2` (ReLU).
``"torch"`` is PyTorch's default for ``nn.Linear`` and ``nn.Conv2d``: :math:`U(\pm 1/\sqrt{n_{in}})`
(Kaiming uniform with ``a = sqrt(5)``) for the weight and the bias alike.

References
----------
Glorot, X., & Bengio, Y. (2010). Understanding the difficulty of training deep feedforward neural networks. AISTATS.
He, K., Zhang, X., Ren, S., & Sun, J. (2015). Delving deep into rectifiers. ICCV.
LeCun, Y., Bottou, L., Orr, G. B., & Müller, K.-R. (1998). Efficient BackProp. In Neural Networks: Tricks of the Trade.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from gdcourse.backend import asarray, rng

__all__ = [
    "INITIALIZERS",
    "constant",
    "fan_in_and_fan_out",
    "gain",
    "get",
    "he_normal",
    "he_uniform",
    "kaiming_normal",
    "kaiming_uniform",
    "lecun_normal",
    "lecun_uniform",
    "normal",
    "ones",
    "torch_default",
    "uniform",
    "xavier_normal",
    "xavier_uniform",
    "zeros",
]

Array = Any
Shape = int | Sequence[int]
Seed = int | np.random.Generator | None
Initializer = Callable[..., Array]


# ----------------------------------------------------------------------------- helpers


def _shape(shape: Shape) -> tuple[int, ...]:
    dims = (shape,) if isinstance(shape, int | np.integer) else tuple(shape)
    if not all(isinstance(d, int | np.integer) and not isinstance(d, bool) and d >= 0 for d in dims):
        raise ValueError(f"shape must be a non-negative integer or a tuple of them, got {shape!r}")
    return tuple(int(d) for d in dims)


def _dtype(dtype: Any) -> str:
    name = str(np.dtype(dtype)) if isinstance(dtype, type | np.dtype) else dtype
    if name not in ("float32", "float64"):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    return name


def _move(host: np.ndarray, dtype: Any) -> Array:
    name = _dtype(dtype)
    return asarray(host.astype(name), dtype=name)


def fan_in_and_fan_out(shape: Shape) -> tuple[int, int]:
    r"""Fans of a weight of ``shape``, as ``torch.nn.init._calculate_fan_in_and_fan_out``.

    .. math:: n_{in} = \text{shape}[1] \cdot r, \qquad n_{out} = \text{shape}[0] \cdot r,
              \qquad r = \prod \text{shape}[2:]

    Parameters
    ----------
    shape : tuple of int
        At least 2-D: ``(out, in)`` for a linear layer, ``(out, in, kh, kw)`` for a convolution.

    Returns
    -------
    (int, int)
        ``(fan_in, fan_out)``.
    """
    dims = _shape(shape)
    if len(dims) < 2:
        raise ValueError(f"fan_in and fan_out need a weight with at least 2 dimensions (out, in, ...), got {dims}")
    receptive = math.prod(dims[2:])
    return dims[1] * receptive, dims[0] * receptive


def _fan(shape: Shape, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = fan_in_and_fan_out(shape)
    return fan_in if mode == "fan_in" else fan_out


def gain(nonlinearity: str, param: float | None = None) -> float:
    r"""Recommended gain :math:`a` for an activation, as ``torch.nn.init.calculate_gain``.

    ==============================  ==========================================
    nonlinearity                    gain
    ==============================  ==========================================
    ``linear``, ``conv*``, sigmoid  :math:`1`
    ``tanh``                        :math:`5/3`
    ``relu``                        :math:`\sqrt 2`
    ``leaky_relu``                  :math:`\sqrt{2/(1+s^2)}`, slope ``s = param`` (default 0.01)
    ``selu``                        :math:`3/4`
    ==============================  ==========================================

    A layer followed by this activation keeps the variance of its signal when its weights are
    scaled by the gain (ReLU zeroes half of its input, hence the factor 2 in the variance).

    Parameters
    ----------
    nonlinearity : str
        The activation after the layer, a name of the table (any case); another name raises :class:`ValueError`
        listing the known ones.
    param : float, optional
        The negative slope :math:`s` of ``"leaky_relu"`` (0.01 when omitted); the other activations ignore it.
        Anything but a number raises :class:`ValueError`.
    """
    name = nonlinearity.lower() if isinstance(nonlinearity, str) else nonlinearity
    linear = (
        "linear",
        "identity",
        "conv1d",
        "conv2d",
        "conv3d",
        "conv_transpose1d",
        "conv_transpose2d",
        "conv_transpose3d",
        "sigmoid",
    )
    if name in linear:
        return 1.0
    if name == "tanh":
        return 5.0 / 3
    if name == "relu":
        return math.sqrt(2.0)
    if name == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, int | float):
            raise ValueError(f"param (negative slope of leaky_relu) must be a number, got {param!r}")
        return math.sqrt(2.0 / (1 + slope**2))
    if name == "selu":
        return 3.0 / 4
    raise ValueError(
        f"unknown nonlinearity {nonlinearity!r}; expected one of linear, conv2d, sigmoid, tanh, relu, leaky_relu, selu"
    )


# ----------------------------------------------------------------------------- plain distributions


def zeros(shape: Shape, *, seed: Seed = None, dtype: Any = "float64") -> Array:
    """All zeros (``seed`` is accepted and ignored, so every initialiser is called alike).

    Parameters
    ----------
    shape : int or tuple of int
        The shape of the array, e.g. ``(out, in)``; a negative or non-integer size raises :class:`ValueError`.
    seed : int, numpy Generator or None
        Ignored: nothing random is drawn.
    dtype : {"float64", "float32"}
        The array's dtype (a name, a NumPy type or dtype); any other raises :class:`ValueError`.
    """
    return _move(np.zeros(_shape(shape)), dtype)


def ones(shape: Shape, *, seed: Seed = None, dtype: Any = "float64") -> Array:
    """All ones.

    Parameters
    ----------
    shape : int or tuple of int
        Sizes of the array's axes (a bias: ``(out,)``).
    seed : int, numpy Generator or None
        Accepted for a common signature, not used.
    dtype : {"float64", "float32"}
        Dtype of the result, float64 unless asked otherwise.
    """
    return _move(np.ones(_shape(shape)), dtype)


def constant(shape: Shape, value: float, *, seed: Seed = None, dtype: Any = "float64") -> Array:
    """Every entry equal to ``value``.

    Parameters
    ----------
    shape : int or tuple of int
        The array's shape.
    value : float
        The number in every entry (converted with ``float``).
    seed : int, numpy Generator or None
        Not used (the result is not random).
    dtype : {"float64", "float32"}
        ``value`` is rounded to this dtype.
    """
    return _move(np.full(_shape(shape), float(value)), dtype)


def normal(shape: Shape, mean: float = 0.0, std: float = 1.0, *, seed: Seed = None, dtype: Any = "float64") -> Array:
    r""":math:`N(\text{mean}, \text{std}^2)` (``torch.nn.init.normal_``).

    Parameters
    ----------
    shape : int or tuple of int
        The shape of the drawn array.
    mean : float
        The centre :math:`\mu` of the distribution.
    std : float
        Its standard deviation :math:`\sigma \ge 0`; a negative one raises :class:`ValueError`.
    seed : int, numpy Generator or None
        Seed of the host generator: an integer gives the same weights on every backend.
    dtype : {"float64", "float32"}
        The samples are drawn in float64, then rounded to this dtype.
    """
    if not std >= 0:
        raise ValueError(f"std must be >= 0, got {std!r}")
    return _move(rng(seed).normal(mean, std, size=_shape(shape)), dtype)


def uniform(shape: Shape, a: float = 0.0, b: float = 1.0, *, seed: Seed = None, dtype: Any = "float64") -> Array:
    r""":math:`U(a, b)` (``torch.nn.init.uniform_``).

    Parameters
    ----------
    shape : int or tuple of int
        The number of samples along each axis.
    a, b : float
        The bounds of the interval, :math:`a \le b` (else :class:`ValueError`).
    seed : int, numpy Generator or None
        An integer, or a generator that advances (``None``: fresh entropy).
    dtype : {"float64", "float32"}
        The result's dtype.
    """
    if not b >= a:
        raise ValueError(f"uniform needs a <= b, got a={a!r}, b={b!r}")
    return _move(rng(seed).uniform(a, b, size=_shape(shape)), dtype)


# ----------------------------------------------------------------------------- variance-preserving schemes


def xavier_uniform(shape: Shape, gain: float = 1.0, *, seed: Seed = None, dtype: Any = "float64") -> Array:
    r"""Glorot uniform :math:`U(-b, b)`, :math:`b = a\sqrt{6/(n_{in}+n_{out})}`, variance :math:`2a^2/(n_{in}+n_{out})`.

    ``gain`` is :math:`a` (see :func:`gain`), as in ``torch.nn.init.xavier_uniform_``.

    Parameters
    ----------
    shape : tuple of int
        The weight's shape, at least 2-D (``(out, in)``, ``(out, in, kh, kw)``): it gives
        :math:`n_{in}` and :math:`n_{out}` (:func:`fan_in_and_fan_out`).
    gain : float
        :math:`a`, 1 by default; ``gain("tanh")`` before a tanh.
    seed : int, numpy Generator or None
        Seed of the draw; pass a model's generator to draw its layers one after another.
    dtype : {"float64", "float32"}
        Dtype of the weight.
    """
    fan_in, fan_out = fan_in_and_fan_out(shape)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform(shape, -bound, bound, seed=seed, dtype=dtype)


def xavier_normal(shape: Shape, gain: float = 1.0, *, seed: Seed = None, dtype: Any = "float64") -> Array:
    r"""Glorot normal: :math:`N(0, \sigma^2)`, :math:`\sigma = a\sqrt{2/(n_{in}+n_{out})}`.

    Parameters
    ----------
    shape : tuple of int
        A weight shape of two or more axes, from which the fans :math:`n_{in}, n_{out}` are read.
    gain : float
        The factor :math:`a` of :math:`\sigma` (see :func:`gain`).
    seed : int, numpy Generator or None
        Seed of the normal draw.
    dtype : {"float64", "float32"}
        Dtype the float64 samples are rounded to.
    """
    fan_in, fan_out = fan_in_and_fan_out(shape)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return normal(shape, 0.0, std, seed=seed, dtype=dtype)


def kaiming_uniform(
    shape: Shape,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    *,
    seed: Seed = None,
    dtype: Any = "float64",
) -> Array:
    r"""He uniform: :math:`U(-b, b)`, :math:`b = \text{gain}\sqrt{3/n}` with :math:`n` = ``mode``'s fan.

    Arguments as ``torch.nn.init.kaiming_uniform_``: the gain is ``gain(nonlinearity, a)``, which
    for the defaults (leaky ReLU with slope ``a = 0``, i.e. ReLU) is :math:`\sqrt 2`, so the
    variance is :math:`2/n`.

    Parameters
    ----------
    shape : tuple of int
        The weight's shape, two axes or more.
    a : float
        The negative slope of the leaky ReLU that follows (0: a plain ReLU); ignored by other nonlinearities.
    mode : {"fan_in", "fan_out"}
        :math:`n`: ``"fan_in"`` keeps the variance of the activations in the forward pass, ``"fan_out"`` that
        of the gradients in the backward pass; another value raises :class:`ValueError`.
    nonlinearity : str
        The activation after the layer, a name :func:`gain` knows.
    seed : int, numpy Generator or None
        Seed of the uniform draw.
    dtype : {"float64", "float32"}
        Dtype of the returned weight.
    """
    bound = gain(nonlinearity, a) * math.sqrt(3.0 / _fan(shape, mode))
    return uniform(shape, -bound, bound, seed=seed, dtype=dtype)


def kaiming_normal(
    shape: Shape,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    *,
    seed: Seed = None,
    dtype: Any = "float64",
) -> Array:
    r"""He normal: :math:`N(0, \sigma^2)`, :math:`\sigma = \text{gain}/\sqrt{n}` (``torch.nn.init.kaiming_normal_``).

    Parameters
    ----------
    shape, a, mode, nonlinearity, seed, dtype
        As in :func:`kaiming_uniform` (``seed`` seeds the normal draw).
    """
    std = gain(nonlinearity, a) / math.sqrt(_fan(shape, mode))
    return normal(shape, 0.0, std, seed=seed, dtype=dtype)


he_uniform = kaiming_uniform
he_normal = kaiming_normal


def lecun_uniform(shape: Shape, *, seed: Seed = None, dtype: Any = "float64") -> Array:
    r"""LeCun uniform: :math:`U(-b, b)`, :math:`b = \sqrt{3/n_{in}}`, variance :math:`1/n_{in}`.

    Parameters
    ----------
    shape : tuple of int
        ``(out, in)`` or ``(out, in, kh, kw)``: :math:`n_{in}` is ``in`` (times ``kh * kw``).
    seed : int, numpy Generator or None
        Seeds the draw (``None``: not reproducible).
    dtype : {"float64", "float32"}
        The weight's floating dtype.
    """
    bound = math.sqrt(3.0 / fan_in_and_fan_out(shape)[0])
    return uniform(shape, -bound, bound, seed=seed, dtype=dtype)


def lecun_normal(shape: Shape, *, seed: Seed = None, dtype: Any = "float64") -> Array:
    r"""LeCun normal: :math:`N(0, 1/n_{in})`.

    Parameters
    ----------
    shape : tuple of int
        The weight's shape; a 1-D shape has no fan-in and raises :class:`ValueError`.
    seed : int, numpy Generator or None
        Integer seed or generator for the normal samples.
    dtype : {"float64", "float32"}
        Float64 or float32.
    """
    std = 1.0 / math.sqrt(fan_in_and_fan_out(shape)[0])
    return normal(shape, 0.0, std, seed=seed, dtype=dtype)


def torch_default(shape: Shape, fan_in: int | None = None, *, seed: Seed = None, dtype: Any = "float64") -> Array:
    r"""PyTorch's default for ``nn.Linear``/``nn.Conv2d`` weights and biases: :math:`U(\pm 1/\sqrt{n_{in}})`.

    ``fan_in`` defaults to the fan-in of ``shape``; pass the weight's fan-in to draw a 1-D bias.

    Parameters
    ----------
    shape : int or tuple of int
        A weight's shape, or a bias's ``(out,)`` together with ``fan_in``.
    fan_in : int, optional
        :math:`n_{in}`; by default read from ``shape``, which must then be at least 2-D.  With 0 the bound is 0.
    seed : int, numpy Generator or None
        Seed of the uniform draw (a model passes one generator to the weight, then the bias).
    dtype : {"float64", "float32"}
        Dtype of the result.
    """
    n = fan_in_and_fan_out(shape)[0] if fan_in is None else fan_in
    bound = 1.0 / math.sqrt(n) if n > 0 else 0.0
    return uniform(shape, -bound, bound, seed=seed, dtype=dtype)


INITIALIZERS: dict[str, Initializer] = {
    "zeros": zeros,
    "ones": ones,
    "normal": normal,
    "uniform": uniform,
    "xavier_uniform": xavier_uniform,
    "xavier_normal": xavier_normal,
    "glorot_uniform": xavier_uniform,
    "glorot_normal": xavier_normal,
    "kaiming_uniform": kaiming_uniform,
    "kaiming_normal": kaiming_normal,
    "he_uniform": kaiming_uniform,
    "he_normal": kaiming_normal,
    "lecun_uniform": lecun_uniform,
    "lecun_normal": lecun_normal,
    "torch": torch_default,
}


def get(init: str | Initializer) -> Initializer:
    """The initialiser called ``init`` (a key of :data:`INITIALIZERS`), or ``init`` itself if callable.

    A callable must accept ``(shape, *, seed=..., dtype=...)``; use :func:`functools.partial` to fix
    other arguments, e.g. ``partial(gdcourse.init.normal, std=0.01)``.
    """
    if callable(init):
        return init
    if isinstance(init, str) and init in INITIALIZERS:
        return INITIALIZERS[init]
    raise ValueError(f"unknown initialiser {init!r}; expected a callable or one of {', '.join(INITIALIZERS)}")
