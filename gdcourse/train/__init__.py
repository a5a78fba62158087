r"""Training :mod:`gdcourse.nn` models: the loop, its history, and checkpoints.

* :mod:`gdcourse.train.loop` — :class:`Trainer`, :func:`fit` and :func:`evaluate`: minibatches,
  validation, early stopping, monitoring, divergence;
* :mod:`gdcourse.train.history` — :class:`TrainHistory`, what a run records;
* :mod:`gdcourse.train.checkpoint` — the checkpoint file format: :func:`save_checkpoint`,
  :func:`load_checkpoint`, :class:`Checkpoint` and its errors.

Everything is importable from ``gdcourse.train`` as before.
The loop, with an example, is in :mod:`gdcourse.train.loop`.
"""

from gdcourse.train.checkpoint import (
    Checkpoint,
    CheckpointError,
    CheckpointMismatchError,
    CheckpointWarning,
    load_checkpoint,
    save_checkpoint,
)
from gdcourse.train.history import TrainHistory
from gdcourse.train.loop import DivergenceError, Trainer, evaluate, fit

__all__ = [
    "Checkpoint",
    "CheckpointError",
    "CheckpointMismatchError",
    "CheckpointWarning",
    "DivergenceError",
    "TrainHistory",
    "Trainer",
    "evaluate",
    "fit",
    "load_checkpoint",
    "save_checkpoint",
]
