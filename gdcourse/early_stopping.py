r"""Early stopping: watch a validation loss, stop when it has not improved for a while, keep the best parameters.

Training longer fits the training set better and, past some point, the validation set worse: the
number of steps acts like a regularisation strength.  :class:`EarlyStopping` records the validation
loss after each epoch and says when to stop; the parameters of the best epoch are kept, so the model
used afterwards is the one that generalised best, not the last one.
"""

from __future__ import annotations

import math
from typing import Any

from gdcourse import _checks
from gdcourse.backend import array_namespace, to_numpy

__all__ = ["EarlyStopping"]

Array = Any


class EarlyStopping:
    r"""Stop training when a monitored loss has not improved for ``patience`` epochs.

    Feed it the validation loss (and the parameters) after each epoch with :meth:`update`; it
    returns ``True`` when training should stop.  A loss :math:`\ell` *improves* when
    :math:`\ell < \ell^* - \delta` (``min_delta`` :math:`\delta`, the best loss so far :math:`\ell^*`); a NaN
    never improves.  After ``patience`` consecutive updates without improvement it says stop.

    Parameters
    ----------
    patience : int, default 5
        Updates without improvement tolerated (``>= 1``).
    min_delta : float, default 0.0
        Least decrease that counts as an improvement (``>= 0``).
    restore_best : bool, default True
        Whether :meth:`restore` returns the parameters of the best update rather than the current ones.

    Attributes
    ----------
    best_loss : float
        :math:`\ell^*` (``inf`` before the first update).
    best_params : array, list of arrays or None
        Copy of the parameters passed with the best loss.
    best_epoch : int
        Index (0-based) of the update with the best loss; -1 before the first.
    wait : int
        Consecutive updates without improvement.
    n_updates : int
        Number of :meth:`update` calls.
    stopped : bool
        Whether :meth:`update` has said stop.

    Examples
    --------
    >>> stopper = EarlyStopping(patience=2)
    >>> [stopper.update(loss) for loss in [3.0, 2.0, 2.5, 2.1, 1.0]]
    [False, False, False, True, False]
    >>> stopper.best_epoch, stopper.best_loss
    (4, 1.0)
    """

    def __init__(self, patience: int = 5, min_delta: float = 0.0, restore_best: bool = True) -> None:
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 1:
            raise ValueError(f"patience must be an integer >= 1, got {patience!r}")
        if not isinstance(restore_best, bool):
            raise TypeError(f"restore_best must be True or False, got {restore_best!r}")
        self.patience = patience
        self.min_delta = _checks.nonneg("min_delta", min_delta)
        self.restore_best = restore_best
        self.reset()

    def __repr__(self) -> str:
        return (
            f"EarlyStopping(patience={self.patience}, min_delta={self.min_delta:g}, "
            f"restore_best={self.restore_best}; best_loss={self.best_loss:.4g} at update {self.best_epoch})"
        )

    def reset(self) -> None:
        """Forget every update."""
        self.best_loss = math.inf
        self.best_params: Any = None
        self.best_epoch = -1
        self.wait = 0
        self.n_updates = 0
        self.stopped = False

    def update(self, loss: Any, params: Any = None) -> bool:
        r"""Record this epoch's loss (a number or 0-d array) and parameters; return ``True`` to stop.

        ``params`` (an array or a list/tuple of arrays) is copied when it is the best so far, so later
        in-place changes by the caller cannot alter :attr:`best_params`.

        Parameters
        ----------
        loss : float or 0-d array
            :math:`\ell`, this epoch's validation loss, of any backend; it improves when
            :math:`\ell < \ell^* - \delta`, and NaN never does.  What ``float`` cannot read raises :class:`TypeError`.
        params : array, list or tuple of arrays, optional
            The parameters that gave ``loss``, kept (copied) when it is the best so far; ``None`` keeps nothing.

        Returns
        -------
        bool
            ``True`` once ``patience`` updates in a row have not improved, and after that until one does.
        """
        try:
            value = float(to_numpy(loss))
        except (TypeError, ValueError):
            raise TypeError(f"loss must be a number or a 0-d array, got {type(loss).__name__}") from None
        self.n_updates += 1
        if value < self.best_loss - self.min_delta:  # False for NaN
            self.best_loss = value
            self.best_epoch = self.n_updates - 1
            self.best_params = _copy(params)
            self.wait = 0
        else:
            self.wait += 1
        self.stopped = self.wait >= self.patience
        return self.stopped

    def restore(self, params: Any) -> Any:
        """The parameters to keep: :attr:`best_params` if ``restore_best`` and an update had them, else ``params``."""
        if self.restore_best and self.best_params is not None:
            return self.best_params
        return params


def _copy(params: Any) -> Any:
    if params is None:
        return None
    if isinstance(params, list | tuple):
        return type(params)(_copy(p) for p in params)
    xp = array_namespace(params)
    return xp.asarray(params, copy=True)
