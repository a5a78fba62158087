"""How the grader and a worker talk: one JSON request in, framed JSON lines out.

The grader writes one JSON document to the worker's stdin and closes it:

``{"nonce", "cells", "exercises", "cell_timeout", "exercise_timeout", "limits", "max_message_bytes", "parent_pid"}``

where ``exercises`` is a list of ``{"id", "kind", "expression", "site", "cases"}`` and
each case is ``{"args", "kwargs"}`` encoded with :mod:`gdcourse.exercises.codec`
(``refs=True``).  The worker answers on a private copy of its original stdout,
one message per line, each line ``NONCE + " " + JSON``.  The nonce is random per
run, so a line printed by the learner's code, even one copied from a real
result, is ignored.  Messages (``"t"`` is the type):

``{"t": "ready"}``
    the worker started (it leaves at once if this cannot be written: the grader is gone);
``{"t": "cell", "index": i, "error": "NameError: ..."}`` or ``{"t": "cell", "index": i, "timeout": true}``
    a code cell raised or ran out of time (execution went on with the next cell);
``{"t": "cells_done"}``
    every cell ran; exercises follow, in the order of the request;
``{"t": "begin", "id": ID}``
    the worker starts on exercise ``ID`` (the grader starts its clock for it);
``{"t": "result", "id": ID, "source": "check" | "expression" | "missing", "timeout": bool, "outcomes": [...]}``
    one outcome per case, ``{"value": encoded}`` or ``{"error": "Type: message"}``;
``{"t": "done"}`` or ``{"t": "fatal", "error": ...}``
    the end.

Nothing in these messages is trusted: the grader decodes values as plain data
and judges them itself.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

__all__ = ["frame", "new_nonce", "parse_line"]


def new_nonce() -> str:
    """A fresh random nonce (32 hex digits) for one worker run."""
    return secrets.token_hex(16)


def frame(nonce: str, message: dict[str, Any]) -> bytes:
    """One protocol line: ``nonce``, a space, the message as compact JSON, a newline.

    Parameters
    ----------
    nonce : str
        The run's nonce (:func:`new_nonce`).
    message : dict
        The message, with its type in ``"t"``; no NaN nor infinity (a ``ValueError`` otherwise).

    Returns
    -------
    bytes
        The line, UTF-8.
    """
    return (nonce + " " + json.dumps(message, allow_nan=False, separators=(",", ":")) + "\n").encode("utf-8")


def parse_line(nonce: str, line: bytes) -> dict[str, Any] | None:
    """The message in ``line``, or ``None`` when it lacks the nonce or is not a JSON object with a type.

    Parameters
    ----------
    nonce : str
        The run's nonce: a line that does not start with it and a space is not a message.
    line : bytes
        One line the worker wrote (or the learner's code printed).

    Returns
    -------
    dict or None
    """
    prefix = nonce.encode("ascii") + b" "
    if not line.startswith(prefix):
        return None
    try:
        message = json.loads(line[len(prefix) :].decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(message, dict) or not isinstance(message.get("t"), str):
        return None
    return message
