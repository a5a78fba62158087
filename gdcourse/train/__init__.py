r"""Training :mod:`gdcourse.nn` models: the loop, its history, and checkpoints.

* :mod:`gdcourse.train.loop` — :class:`Trainer`, :func:`fit` and :func:`evaluate`: minibatches,
  validation, early stopping, monitoring, divergence;
* :mod:`gdcourse.train.history` — :class:`TrainHistory`, what a run records;
* :mod:`gdcourse.train.checkpoint` — the checkpoint file format: :func:`save_checkpoint`,
  :func:`load_checkpoint`, :class:`Checkpoint` and its errors.

Everything is importable from ``gdcourse.train`` as before.
>>> import numpy as np
>>> from gdcourse import nn, optim
>>> from gdcourse.train import fit
>>> X = np.random.default_rng(0).normal(size=(64, 2))
>>> y = X[:, :1] * X[:, 1:]
>>> model = nn.MLP([2, 8, 1], activation="tanh", seed=0)
>>> history = fit(model, X, y, optimizer=optim.adam(lr=0.01), loss="mse", epochs=3, batch_size=16)
>>> len(history.train_loss), history.stop_reason
(3, 'max_epochs')
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
