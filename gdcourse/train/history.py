"""What a training run records: :class:`TrainHistory`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["TrainHistory"]


@dataclass
class TrainHistory:
    r"""What happened during training, one entry per epoch (and per step where noted).

    Attributes
    ----------
    epoch : list of int
        Epoch numbers, counted from 1.
    train_loss : list of float
        Mean minibatch loss over the epoch, :math:`\frac1N\sum_B |B|\,J_B` (measured during training,
        so in training mode: with dropout active and with the parameters changing along the epoch).
    train_accuracy : list of float
        Fraction of correctly classified training examples during the epoch (classification only).
    val_loss, val_accuracy : list of float
        Loss and accuracy on the validation set after the epoch, in evaluation mode (empty without one).
    lr : list of float
        Learning rate of the last update of the epoch (NaN when the optimizer has no ``lr_at``).
    grad_norm : list of float
        Mean over the epoch's steps of the global gradient norm :math:`\lVert g\rVert_2`.
    layer_grad_norm : dict of str to list of float
        Per parameter array: mean over the epoch's steps of :math:`\lVert g_l\rVert_2`.
    update_ratio : dict of str to list of float
        Per parameter array: :math:`\rho_l = \overline{\lVert\Delta\theta_l\rVert_2}/\overline{\lVert\theta_l\rVert_2}`
        over the epoch's steps (NaN for an array that stayed exactly 0).
    step_loss, step_grad_norm : list of float
        Minibatch loss :math:`J_B` and global gradient norm at every step.
    stop_reason : str
        ``""`` before training, then ``"max_epochs"``, ``"early_stopping"`` or ``"diverged"``.
    message : str
        A sentence explaining why training stopped.
    best_epoch : int or None
        With early stopping: the epoch whose parameters were kept (counted from 1).
    """

    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    layer_grad_norm: dict[str, list[float]] = field(default_factory=dict)
    update_ratio: dict[str, list[float]] = field(default_factory=dict)
    step_loss: list[float] = field(default_factory=list)
    step_grad_norm: list[float] = field(default_factory=list)
    stop_reason: str = ""
    message: str = ""
    best_epoch: int | None = None

    @property
    def n_epochs(self) -> int:
        """Number of epochs recorded."""
        return len(self.epoch)

    @property
    def n_steps(self) -> int:
        """Number of optimizer steps recorded."""
        return len(self.step_loss)

    def as_dict(self) -> dict[str, Any]:
        """A plain dictionary of the fields (lists and numbers, JSON-ready)."""
        return asdict(self)

    def __repr__(self) -> str:
        def last(values: list[float]) -> str:
            return f"{values[-1]:.4g}" if values else "-"

        val = f", val_loss={last(self.val_loss)}" if self.val_loss else ""
        acc = f", val_accuracy={last(self.val_accuracy)}" if self.val_accuracy else ""
        return (
            f"TrainHistory(epochs={self.n_epochs}, steps={self.n_steps}, train_loss={last(self.train_loss)}"
            f"{val}{acc}, stop_reason={self.stop_reason!r})"
        )
