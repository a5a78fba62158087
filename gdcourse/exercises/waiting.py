"""Cells that use a learner's answer wait politely until it is written.

A notebook cell after an exercise often uses the learner's answer (a finite-difference
check of their gradient, a demo on real data).  In the student version the answer is
still the stub, and running all cells would end in a ``NotImplementedError`` traceback
there.  Wrapping such a cell's code in ``with uses_answer("02.mse_grad"):`` keeps the
notebook readable top to bottom: while the answer is a stub, the cell prints one line
saying what it waits for; once the answer is written the body runs as usual, and any
other error is a real one and shows its traceback.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = ["uses_answer"]


@contextlib.contextmanager
def uses_answer(exercise_id: str) -> Iterator[None]:
    """Run the body; if an unwritten answer to ``exercise_id`` stops it, say so in one line instead of a traceback.

    "Unwritten" means the stub's ``raise NotImplementedError()`` (or an answer still ``...``
    being used as a number, which raises a ``TypeError`` naming ``ellipsis``).

    Examples
    --------
    >>> def mse_grad(X, y, w, b):
    ...     raise NotImplementedError()
    >>> with uses_answer("02.mse_grad"):
    ...     mse_grad(None, None, None, None)
    (this cell uses your answer to 02.mse_grad, which is not written yet: run it again once it is)
    """
    try:
        yield
    except NotImplementedError:
        _say(exercise_id)
    except TypeError as err:
        if "ellipsis" not in str(err):
            raise
        _say(exercise_id)


def _say(exercise_id: str) -> None:
    print(f"(this cell uses your answer to {exercise_id}, which is not written yet: run it again once it is)")
