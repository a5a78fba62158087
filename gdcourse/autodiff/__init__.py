"""Automatic differentiation in reverse mode: a scalar engine to learn from, an array engine to train with.

=============================  ================================================================
:class:`Value`                 a scalar with a gradient (micrograd-style), for notebook 04
:class:`Tensor`                an array of any array-API backend with a gradient, for real models
:func:`stack`, :func:`concat`  join tensors (gradients are split back)
=============================  ================================================================

The graph of a :class:`Value` is drawn by :func:`gdcourse.plots.draw_graph` (plots are a later layer).
"""

from gdcourse.autodiff.array import Tensor, as_tensor, concat, stack, unbroadcast
from gdcourse.autodiff.scalar import Value, topological_order

__all__ = ["Tensor", "Value", "as_tensor", "concat", "stack", "topological_order", "unbroadcast"]
