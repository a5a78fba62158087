"""Automatic differentiation in reverse mode: a scalar engine to learn from, an array engine to train with.

=============================  ================================================================
:class:`Value`                 a scalar with a gradient (micrograd-style), for notebook 04
:func:`draw_graph`             the computational graph of a :class:`Value`, drawn with matplotlib
:class:`Tensor`                an array of any array-API backend with a gradient, for real models
:func:`stack`, :func:`concat`  join tensors (gradients are split back)
=============================  ================================================================
"""

from gdcourse.autodiff.array import Tensor, as_tensor, concat, stack, unbroadcast
from gdcourse.autodiff.scalar import Value, draw_graph, topological_order

__all__ = ["Tensor", "Value", "as_tensor", "concat", "draw_graph", "stack", "topological_order", "unbroadcast"]
