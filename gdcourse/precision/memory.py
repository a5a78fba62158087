r"""The memory a training step of an MLP keeps (:func:`training_memory`).

Parameters, gradients, optimizer state, master weights and the activations stored for the backward pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gdcourse.precision.formats import float_format

Array = Any

# ----------------------------------------------------------------------------------------------
# Memory
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemoryEstimate:
    r"""Bytes one training step of an MLP keeps in memory (see :func:`training_memory`).

    Attributes
    ----------
    parameters, gradients, optimizer_state, master_weights : int
        Independent of the batch size.
    activations : int
        :math:`B \times` (numbers kept per example) :math:`\times` bytes per number.
    per_example : int
        Activation bytes per example.
    """

    parameters: int
    gradients: int
    optimizer_state: int
    master_weights: int
    activations: int
    per_example: int

    @property
    def total(self) -> int:
        """All of it, in bytes."""
        return self.parameters + self.gradients + self.optimizer_state + self.master_weights + self.activations


def training_memory(
    sizes: Sequence[int],
    batch_size: int,
    *,
    dtype: str = "float32",
    optimizer_slots: int = 2,
    master_dtype: str | None = None,
) -> MemoryEstimate:
    r"""Memory of one training step of an MLP with layer widths ``sizes`` (inputs first).

    With :math:`P = \sum_l (n_{l-1} + 1)\, n_l` parameters, :math:`b` bytes per number and batch size :math:`B`:

    .. math::
        \text{parameters} = \text{gradients} = P b, \quad \text{optimizer state} = s P b_m, \quad
        \text{activations} = B\,\Big(n_0 + 2\sum_{\text{hidden } l} n_l + n_L\Big)\, b

    The activations are what the backward pass needs, as :mod:`gdcourse.nn` keeps them: the inputs, each
    hidden layer's pre-activation and activation, and the outputs.  :math:`s` is the number of state arrays
    per parameter (0 for GD, 1 for momentum or RMSprop, 2 for Adam), kept in the master dtype :math:`m`
    (:math:`b_m` bytes; master weights add :math:`P b_m` when :math:`m` differs from ``dtype``).

    Parameters
    ----------
    sizes : sequence of int
        The layer widths :math:`n_0, \dots, n_L`, inputs first: at least two, each at least 1 (else
        :class:`ValueError`).
    batch_size : int
        :math:`B \ge 1` (a bool or a non-integer raises :class:`ValueError`).
    dtype : str, default "float32"
        The format of the parameters, gradients and activations: ``"float16"``, ``"bfloat16"``, ``"float32"``
        or ``"float64"``.
    optimizer_slots : int, default 2
        :math:`s`, state arrays per parameter (Adam's default).
    master_dtype : str, optional
        :math:`m`, the format of the master weights and optimizer state; ``None`` (or ``dtype``) keeps
        everything in ``dtype`` and adds no master weights.

    Returns
    -------
    MemoryEstimate
    """
    sizes = [int(s) for s in sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"sizes must list at least two positive layer widths, got {sizes!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    b = float_format(dtype).bytes()
    bm = float_format(master_dtype or dtype).bytes()
    n_params = sum((a + 1) * c for a, c in zip(sizes[:-1], sizes[1:], strict=True))
    per_example = (sizes[0] + 2 * sum(sizes[1:-1]) + sizes[-1]) * b
    return MemoryEstimate(
        parameters=n_params * b,
        gradients=n_params * b,
        optimizer_state=int(optimizer_slots) * n_params * bm,
        master_weights=n_params * bm if master_dtype and master_dtype != dtype else 0,
        activations=batch_size * per_example,
        per_example=per_example,
    )
