"""Parse a submitted notebook in a separate, resource-limited process.

Reading a notebook means ``json``, IPython's transformer and :mod:`ast` work on
text a student controls.  None of it executes the student's code, but a hostile
file can still make it slow, huge or deep (a 2.5-million-line cell, an
expression nested 100,000 levels deep).  So the grader never parses in its own
process: :func:`parse_submission` runs :func:`main` in a fresh Python
with an address-space and CPU limit and a wall-clock timeout, sends it the
file's bytes on stdin, and reads back the code cells and the ``check`` calls as
JSON.  Whatever happens in there (an exception, a crash, a timeout, memory
exhausted) becomes an :class:`~gdcourse.grading.notebook_code.InvalidNotebook`
with a reason, and the batch goes on.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from typing import Any

from gdcourse.grading import notebook_code as nbc

__all__ = ["parse_submission"]

_PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(nbc.__file__))))
# Starts the parser without running gdcourse/__init__.py (which imports NumPy): half the start-up time,
# paid once per submission. Only gdcourse.grading (light by design) and the standard library are imported.
_BOOTSTRAP = (
    "import sys, types; package = types.ModuleType('gdcourse'); "
    f"package.__path__ = [{os.path.join(_PACKAGE_ROOT, 'gdcourse')!r}]; sys.modules['gdcourse'] = package; "
    "from gdcourse.grading.parse import main; main()"
)


MEMORY_BYTES = 2 * 2**30
"""Address space of the parsing process."""
SECONDS = 60.0
"""Wall-clock time the parsing process may take (its CPU limit is the same)."""


def _limit_self(memory_bytes: int, seconds: float) -> None:
    for kind, value in ((resource.RLIMIT_AS, memory_bytes), (resource.RLIMIT_CPU, int(seconds) + 1)):
        _, hard = resource.getrlimit(kind)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(kind, (value, hard))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _parse(data: bytes, max_bytes: int) -> dict[str, Any]:
    """What the parsing process sends back: the cells, their syntax errors and the checks (or a problem)."""
    try:
        code = nbc.load_notebook(data, max_bytes=max_bytes)
        checks = nbc.find_checks(code)
    except nbc.InvalidNotebook as err:
        return {"problem": str(err)}
    except (RecursionError, MemoryError) as err:
        return {"problem": f"the notebook is too complex to read ({type(err).__name__})"}
    return {
        "cells": code.cells,
        "syntax_errors": {str(i): m for i, m in code.syntax_errors.items()},
        "checks": {i: [c.expression, c.cell, c.site] for i, c in checks.items()},
    }


def parse_submission(data: bytes, *, max_bytes: int) -> tuple[nbc.NotebookCode, dict[str, nbc.Check]]:
    """Parse notebook bytes in a limited subprocess.

    Parameters
    ----------
    data : bytes
        The submitted file's bytes.
    max_bytes : int
        Largest notebook accepted, in bytes.

    Returns
    -------
    code : NotebookCode
    checks : dict
        The graded ``check`` call of each exercise id the notebook checks
        (see :func:`~gdcourse.grading.notebook_code.find_checks`).

    Raises
    ------
    InvalidNotebook
        Not a notebook, too large, too complex, or the parsing process failed.
    """
    command = [sys.executable, "-s", "-c", _BOOTSTRAP, str(max_bytes), str(MEMORY_BYTES), str(SECONDS)]
    try:
        done = subprocess.run(
            command,
            input=data,
            capture_output=True,
            timeout=SECONDS + 5,
            check=False,
            cwd="/",  # never the instructor's folder: a student's file there must not shadow a module
            env={**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": _PACKAGE_ROOT},
        )
    except subprocess.TimeoutExpired:
        raise nbc.InvalidNotebook(f"reading the notebook took more than {SECONDS:g} s") from None
    except OSError as err:
        raise nbc.InvalidNotebook(f"the notebook could not be read ({err.strerror})") from None
    try:
        reply = json.loads(done.stdout) if done.returncode == 0 else None
    except (ValueError, RecursionError):
        reply = None
    if not isinstance(reply, dict):
        raise nbc.InvalidNotebook(f"the notebook could not be read (its reader ended with status {done.returncode})")
    if "problem" in reply:
        raise nbc.InvalidNotebook(reply["problem"])
    code = nbc.NotebookCode(reply["cells"], {int(i): m for i, m in reply["syntax_errors"].items()})
    checks = {i: nbc.Check(i, e, c, s) for i, (e, c, s) in reply["checks"].items()}
    return code, checks


def main() -> None:
    """``python -m gdcourse.grading.parse MAX_BYTES MEMORY_BYTES SECONDS``: notebook bytes in, JSON out.

    :func:`parse_submission` starts it through a bootstrap that skips the package root's imports.
    """
    max_bytes, memory_bytes, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    _limit_self(memory_bytes, seconds)
    data = sys.stdin.buffer.read(max_bytes + 1)
    reply = _parse(data, max_bytes)
    sys.stdout.write(json.dumps(reply, ensure_ascii=True))


if __name__ == "__main__":
    main()
