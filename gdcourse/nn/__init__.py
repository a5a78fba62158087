r"""Neural-network layers on the array engine: Linear, activations, losses, Conv2d, pooling, RNN, LSTM, dropout, norms.

Every layer is a :class:`Module`: calling it on a :class:`~gdcourse.autodiff.Tensor` (or a plain
array) records the forward computation, so ``loss.backward()`` fills the gradient of each parameter.
Weights have PyTorch's layout (``Linear.weight`` is ``(out, in)``, ``Conv2d.weight`` is
``(out, in, kh, kw)``, the LSTM's gates are stacked in the order i, f, g, o) and PyTorch's names, so
weights can be copied one-for-one into ``torch.nn`` modules, which is how the tests verify them.

**Parameters are a list of arrays**, so any :mod:`gdcourse.optim` optimizer trains a model.  One
training step reads like this::

    model = nn.MLP([64, 128, 10], activation="relu", seed=0, dtype="float32")
    opt = optim.adam(lr=1e-3)
    state = opt.init(model.parameters())
    for xb, yb in batches:
        model.zero_grad()                                   # gradients accumulate: clear them first
        loss = nn.softmax_cross_entropy(model(xb), yb)      # forward: records the graph
        loss.backward()                                     # backward: fills every parameter's grad
        params, state = opt.step(model.parameters(), model.grads(), state)
        model.set_parameters(params)                        # load the new arrays into the model

:meth:`Module.parameters` and :meth:`Module.grads` return the arrays in the same fixed order
(:meth:`Module.named_parameters` gives their names); :meth:`Module.set_parameters` puts new arrays
in (it rebinds them; no array is modified in place).

Weights are initialised on the host from a seeded generator through :mod:`gdcourse.init`
(``init="torch"`` by default: PyTorch's own default distribution; any name of
:data:`gdcourse.init.INITIALIZERS` or a callable), so the same ``seed`` gives the same model on
every backend.  A model passes one generator to its layers in order, so ``MLP(..., seed=0)`` is
reproducible as a whole.  The dtype is a parameter (``"float64"`` by default); inputs must match it.

Layers vectorise over the batch (the first axis); only recurrent layers loop, over time steps.

========================================  ========================================================================
:class:`Module`, :class:`Sequential`      parameters as a list of arrays; containers (``nn.module``)
:class:`Linear`, :class:`MLP`             affine layer (one fused :func:`linear` op), perceptron (``nn.layers``)
:class:`ReLU`, :class:`Tanh`, ...         activations, :class:`Softmax`, :class:`Flatten`, :class:`Dropout`
:func:`softmax_cross_entropy`             stable cross-entropy from logits; :func:`mse_loss` (``nn.loss``)
:class:`Conv2d`, pooling                  im2col convolution, :class:`MaxPool2d`, :class:`AvgPool2d` (``nn.conv``)
:class:`RNN`, :class:`LSTM`               cells unrolled over time (``nn.recurrent``)
:class:`BatchNorm1d`, :class:`LayerNorm`  batch and layer normalisation (``nn.normalization``)
========================================  ========================================================================
"""

from gdcourse.nn.conv import AvgPool2d, Conv2d, MaxPool2d
from gdcourse.nn.layers import (
    ACTIVATIONS,
    MLP,
    Dropout,
    Flatten,
    Identity,
    Linear,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
    linear,
)
from gdcourse.nn.loss import mse_loss, softmax_cross_entropy
from gdcourse.nn.module import Module, Sequential
from gdcourse.nn.normalization import BatchNorm1d, LayerNorm
from gdcourse.nn.recurrent import LSTM, RNN, LSTMCell, RNNCell

__all__ = [
    "ACTIVATIONS",
    "LSTM",
    "MLP",
    "RNN",
    "AvgPool2d",
    "BatchNorm1d",
    "Conv2d",
    "Dropout",
    "Flatten",
    "Identity",
    "LSTMCell",
    "LayerNorm",
    "Linear",
    "MaxPool2d",
    "Module",
    "RNNCell",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "linear",
    "mse_loss",
    "softmax_cross_entropy",
]
