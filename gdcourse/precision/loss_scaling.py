r"""Dynamic loss scaling, the rule of ``torch.amp.GradScaler``.

A step whose gradients overflowed is skipped and :math:`S` is halved; :math:`S` is doubled after
``growth_interval`` steps without overflow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

Array = Any

# ----------------------------------------------------------------------------------------------
# Loss scaling
# ----------------------------------------------------------------------------------------------


def loss_scale_step(
    scale: float,
    good_steps: int,
    finite: bool,
    growth_interval: int = 2000,
    growth_factor: float = 2.0,
    backoff_factor: float = 0.5,
) -> tuple[float, int, bool]:
    r"""One update of a dynamic loss scale after a backward pass.

    .. math::
        \text{gradients not finite:}\quad & S \leftarrow \beta_{\text{back}} S,\ n \leftarrow 0,
        \ \text{skip the step} \\
        \text{finite and } n + 1 = N:\quad & S \leftarrow \gamma S,\ n \leftarrow 0,\ \text{apply the step} \\
        \text{finite otherwise:}\quad & n \leftarrow n + 1,\ \text{apply the step}

    with :math:`n` the count of good steps since the last change of :math:`S`, :math:`N` the
    ``growth_interval``, :math:`\gamma` the ``growth_factor`` and :math:`\beta_{\text{back}}` the
    ``backoff_factor`` (a grown scale that is no longer a finite float is not taken).  This is the rule of
    Micikevicius et al. (2018) as implemented by ``torch.amp.GradScaler`` (defaults as there).  Nothing is
    checked here (one call per step); :class:`DynamicLossScaler` checks its settings once.

    Parameters
    ----------
    scale : float
        The current loss scale :math:`S`.
    good_steps : int
        :math:`n`, the steps without overflow since :math:`S` last changed.
    finite : bool
        Whether every gradient of this backward pass is finite (no overflow).
    growth_interval : int, default 2000
        :math:`N`, the good steps after which :math:`S` grows.
    growth_factor : float, default 2.0
        :math:`\gamma > 1`, the factor :math:`S` grows by.
    backoff_factor : float, default 0.5
        :math:`\beta_{\text{back}} \in (0, 1)`, the factor :math:`S` shrinks by after an overflow.

    Returns
    -------
    scale : float
        The scale for the next step.
    good_steps : int
        The new count :math:`n`.
    apply_step : bool
        Whether this step's (unscaled) gradients may be used; ``False`` when they overflowed.
    """
    if not finite:
        return scale * backoff_factor, 0, False
    good_steps += 1
    if good_steps >= growth_interval:
        grown = scale * growth_factor
        return (grown if math.isfinite(grown) else scale), 0, True
    return scale, good_steps, True


@dataclass
class DynamicLossScaler:
    """Dynamic loss scaling: the state of :func:`loss_scale_step` (``torch.amp.GradScaler``'s defaults).

    Attributes
    ----------
    scale : float
        The current loss scale :math:`S` (starts at ``init_scale``).
    good_steps : int
        Steps without overflow since :math:`S` last changed.
    """

    init_scale: float = 2.0**16
    growth_factor: float = 2.0
    backoff_factor: float = 0.5
    growth_interval: int = 2000
    scale: float = field(init=False)
    good_steps: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        if not (self.init_scale > 0 and math.isfinite(self.init_scale)):
            raise ValueError(f"init_scale must be a positive finite number, got {self.init_scale!r}")
        if not self.growth_factor > 1:
            raise ValueError(f"growth_factor must be greater than 1, got {self.growth_factor!r}")
        if not 0 < self.backoff_factor < 1:
            raise ValueError(f"backoff_factor must be in (0, 1), got {self.backoff_factor!r}")
        interval = self.growth_interval
        if isinstance(interval, bool) or not isinstance(interval, int) or interval < 1:
            raise ValueError(f"growth_interval must be a positive integer, got {self.growth_interval!r}")
        self.scale = float(self.init_scale)

    def update(self, finite: bool) -> bool:
        """Record whether this step's gradients were finite; return whether to apply the step."""
        self.scale, self.good_steps, apply = loss_scale_step(
            self.scale, self.good_steps, bool(finite), self.growth_interval, self.growth_factor, self.backoff_factor
        )
        return apply
