"""The grading worker: runs one submission's code and reports the values it computes, nothing else.

Started by the grader as ``python -s -m gdcourse.grading.worker`` (inside
bubblewrap where it works) with a fresh temporary directory as working directory
and HOME.  It reads one request on stdin (see :mod:`gdcourse.grading.protocol`),
then:

1. keeps a private, non-inheritable copy of its stdout for results and points
   file descriptors 0, 1 and 2 at ``/dev/null``, so nothing the learner's code
   prints or writes to the real stdout can look like a result;
2. takes every reference it needs (codec, JSON, ``os.write``...) and decodes the
   inputs *before* any learner code runs, and lowers its resource limits;
3. runs the code cells top to bottom, each under a per-cell timer; a cell that
   raises (``SystemExit`` included) is reported and the next cell runs;
   ``check(ID, expr)`` captures ``expr`` at that point, ``hint``/``solution`` do nothing;
4. for each exercise, takes the captured answer (or evaluates the check's
   expression in the final namespace), applies it to every case like
   :meth:`gdcourse.exercises.core.Exercise.outcomes` does, under a per-exercise
   timer, and writes the encoded outcomes.

This is defence in depth only: the learner's code runs in this process and can
do anything it likes here.  Scores are decided in the grader's own process,
from these values, against the reference.
"""

from __future__ import annotations

import os
import sys

# No module of the working directory (writable by the learner's code) may shadow one imported later.
sys.path[:] = [p for p in sys.path if p not in ("", ".", os.getcwd())]

import ast  # noqa: E402
import builtins  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import signal  # noqa: E402
import types  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import gdcourse.backend  # noqa: E402, F401 - imported before learner code, like numpy
from gdcourse.grading.ipython_syntax import Shell  # noqa: E402
from gdcourse.grading.notebook_code import CAPTURE_NAME, Aliases, NotebookCode, find_aliases, rewrite_cell  # noqa: E402

__all__ = ["main"]

_MAX_ERROR_CHARS = 500
_TIMER_REPEAT = 0.2  # the timer keeps firing after its deadline, in case learner code swallows the first


class _Timeout(BaseException):
    """Raised by the timer inside learner code; a BaseException, so ``except Exception`` does not catch it."""


def _on_timer(signum: int, frame: Any) -> None:
    raise _Timeout


def _load_codec() -> types.ModuleType:
    """A private copy of :mod:`gdcourse.exercises.codec`, loaded without importing :mod:`gdcourse.exercises`.

    The learner's code may import (and patch) the package's own copy; this one stays ours.
    """
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "exercises", "codec.py")
    spec = importlib.util.spec_from_file_location("_gdcourse_grading_codec", path)
    assert spec is not None and spec.loader is not None  # a .py file: the source loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _describe(err: BaseException) -> str:
    try:
        text = f"{type(err).__name__}: {err}"
    except _Timeout:
        raise
    except BaseException:  # noqa: BLE001 - an exception whose str() fails
        text = f"{type(err).__name__}: <message could not be shown>"
    return text if len(text) <= _MAX_ERROR_CHARS else text[: _MAX_ERROR_CHARS - 3] + "..."


def _guarded(fn: Callable[[], Any], seconds: float) -> tuple[str, Any]:
    """Run ``fn`` under a timer: ``("ok", value)``, ``("error", "Type: message")`` or ``("timeout", None)``."""
    setitimer, timer = signal.setitimer, signal.ITIMER_REAL
    try:
        setitimer(timer, seconds if seconds > 0.001 else 0.001, _TIMER_REPEAT)
        try:
            return "ok", fn()
        except _Timeout:
            return "timeout", None
        except BaseException as err:  # noqa: BLE001 - SystemExit and KeyboardInterrupt are the learner's errors too
            return "error", _describe(err)
        finally:
            setitimer(timer, 0, 0)
    except _Timeout:  # fired while unwinding
        setitimer(timer, 0, 0)
        return "timeout", None


class _Channel:
    """Writes framed messages on the private result descriptor."""

    def __init__(self, fd: int, nonce: str, max_bytes: int) -> None:
        self._fd, self._nonce, self._max = fd, nonce, max_bytes
        self._dumps, self._write = json.dumps, os.write

    def send(self, message: dict[str, Any]) -> bool:
        """Write one message; ``False`` (and nothing written) when it is larger than the limit."""
        data = (self._nonce + " " + self._dumps(message, allow_nan=False, separators=(",", ":")) + "\n").encode()
        if len(data) > self._max:
            return False
        view = memoryview(data)
        while view:
            view = view[self._write(self._fd, view) :]
        return True


def _read_request() -> dict[str, Any]:
    chunks = []
    while chunk := os.read(0, 1 << 20):
        chunks.append(chunk)
    return json.loads(b"".join(chunks))


def _take_stdout() -> int:
    """Keep a private copy of stdout for results; point 0, 1 and 2 at /dev/null."""
    private = os.dup(1)  # not inheritable: the learner's subprocesses do not get it
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    return private


def _set_limit(name: str, soft: int, hard: int | None = None) -> None:
    kind = getattr(resource, name, None)
    if kind is None:
        return
    _, current_hard = resource.getrlimit(kind)
    hard = soft if hard is None else hard
    if current_hard != resource.RLIM_INFINITY:
        soft, hard = min(soft, current_hard), min(hard, current_hard)
    resource.setrlimit(kind, (soft, hard))


def _apply_limits(limits: dict[str, int]) -> None:
    """Lower this process's limits (inherited by its children); they cannot be raised again without privilege."""
    os.umask(0o077)
    _set_limit("RLIMIT_CORE", 0)
    _set_limit("RLIMIT_AS", limits["memory_bytes"])
    _set_limit("RLIMIT_FSIZE", limits["file_size_bytes"])
    _set_limit("RLIMIT_NOFILE", limits["open_files"])
    _set_limit("RLIMIT_CPU", limits["cpu_seconds"], limits["cpu_seconds"] + 5)
    if limits.get("processes"):
        _set_limit("RLIMIT_NPROC", limits["processes"])
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead of killing us


def _die_with_parent(parent_pid: int | None) -> None:
    """Get SIGKILL when the parent dies (the grader, or bubblewrap's init); leave if it is already gone."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(1)


_PR_CAPBSET_DROP, _PR_SET_NO_NEW_PRIVS, _LAST_CAPABILITY = 24, 38, 63


def _capability_masks() -> dict[str, int]:
    """The capability sets of this process from ``/proc/self/status`` (``CapEff``, ``CapPrm``, ...)."""
    with open("/proc/self/status") as f:
        return {k: int(v, 16) for k, v in (line.split(":", 1) for line in f) if k.startswith("Cap")}


def drop_privileges(uid: int, home: str) -> None:
    """Become ``uid`` (its group too, no supplementary groups) with no capability left, owning ``home``.

    Run by a worker started as root inside bubblewrap, before it reads any learner
    code: it hands its working folder to ``uid``, empties its capability bounding
    set, forbids gaining privileges through ``execve`` and changes user, which
    clears every capability.  It checks the result and raises ``PermissionError``
    when anything is left, so a worker that could not drop its privileges never
    runs learner code.

    Parameters
    ----------
    uid : int
        The user (and group) to become: ``nobody``, 65534.
    home : str
        The worker's working folder, handed to ``uid`` with everything in it.
    """
    import ctypes

    for folder, dirs, _ in os.walk(home, topdown=False):  # deepest first: a folder given away is not listed again
        for path in [folder, *(os.path.join(folder, d) for d in dirs)]:
            try:
                os.chown(path, uid, uid, follow_symlinks=False)
            except OSError:  # a read-only file bound in (matplotlib's font list) stays root's
                pass
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in range(_LAST_CAPABILITY + 1):
        libc.prctl(_PR_CAPBSET_DROP, capability, 0, 0, 0)  # fails harmlessly past the kernel's last capability
    libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    libc.capset(header, (ctypes.c_uint32 * 6)())  # also empty the inheritable set (bubblewrap filled it)
    left = {name: mask for name, mask in _capability_masks().items() if mask}
    if os.getuid() != uid or os.geteuid() != uid or os.getgid() != uid or os.getgroups() or left:
        raise PermissionError(f"could not drop privileges: uid {os.geteuid()}, capabilities {left}")


def _namespace(captures: dict[tuple[str, str | None], tuple[str, Any]]) -> dict[str, Any]:
    """The notebook's namespace; its capture function fills ``captures[(id, site)]`` and ``captures[(id, None)]``."""

    def capture(exercise_id: Any, site: Any, thunk: Callable[[], Any]) -> None:
        if type(exercise_id) is not str or type(site) is not str:
            return None
        try:
            captured = ("value", thunk())
        except _Timeout:
            raise
        except BaseException as err:  # noqa: BLE001 - like check(): never crash the cell
            captured = ("error", _describe(err))
        captures[(exercise_id, site)] = captures[(exercise_id, None)] = captured
        return None

    module = types.ModuleType("__main__")
    shell = Shell(module.__dict__)  # what get_ipython() returns: runs the calls IPython syntax became
    module.__dict__.update(
        {
            "__builtins__": builtins,
            CAPTURE_NAME: capture,
            "display": lambda *a, **k: None,
            "get_ipython": lambda: shell,
        }
    )
    sys.modules["__main__"] = module
    return module.__dict__


def _run_cell(source: str, index: int, namespace: dict[str, Any], aliases: Aliases) -> None:
    code = compile(
        rewrite_cell(source, aliases, index), f"<cell {index}>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    )
    if code.co_flags & 0x80:  # CO_COROUTINE: the cell uses top-level await
        import asyncio

        asyncio.run(eval(code, namespace))
    else:
        exec(code, namespace)


def _exercise(
    spec: dict[str, Any],
    cases: list[tuple[list, dict]],
    namespace: dict[str, Any],
    captures: dict[tuple[str, str | None], tuple[str, Any]],
    codec: types.ModuleType,
    seconds: float,
) -> dict[str, Any]:
    """Apply the learner's answer to every case; the ``result`` message.

    The answer is the one captured at the graded check (``spec["site"]``; any check
    of the id when the grader named none), else ``spec["expression"]`` evaluated
    in the final namespace.

    For a function exercise, each case's inputs are decoded afresh from ``spec["cases"]``
    before the call and compared with the ones the answer was given after it
    (``codec.same_data``, as :meth:`Exercise.outcomes` compares its copies); the inputs
    that changed go in the outcome as ``"mutated"``: positional ones as ``"arg1"``,
    ``"arg2"``... (the judge names them), keyword ones by their keyword.
    """
    exercise_id, kind, expression = spec["id"], spec["kind"], spec.get("expression")
    encode, decode, same_data, codec_error = codec.encode, codec.decode, codec.same_data, codec.CodecError
    wire = spec.get("cases") or []
    key = (exercise_id, spec.get("site") or None)
    if key in captures:
        source = "check"
    elif expression:
        source = "expression"
    else:
        return {"t": "result", "id": exercise_id, "source": "missing", "timeout": False, "outcomes": []}
    outcomes: list[dict[str, Any]] = []

    def apply() -> None:
        if source == "check":
            state, answer = captures[key]
            failure = answer if state == "error" else None
        else:
            assert expression is not None  # source == "expression": the spec has one
            try:
                answer, failure = eval(expression, namespace), None
            except _Timeout:
                raise
            except BaseException as err:  # noqa: BLE001
                answer, failure = None, _describe(err)
        for index, (args, kwargs) in enumerate(cases):
            if failure is not None:
                outcomes.append({"error": failure})
                continue
            try:
                before = None
                if kind == "function" and index < len(wire):
                    before = (decode(wire[index]["args"], refs=True), decode(wire[index]["kwargs"], refs=True))
                value = answer(*args, **kwargs) if kind == "function" else answer
                if value is Ellipsis:  # the stub's `...`, as the self-check says: not answered yet
                    outcomes.append({"error": "NotAnswered: the answer is still `...`"})
                    continue
                outcome: dict[str, Any] = {"value": encode(value)}
                if before is not None:
                    mutated = [
                        f"arg{i + 1}" for i, a in enumerate(before[0]) if i >= len(args) or not same_data(a, args[i])
                    ]
                    mutated += [k for k, v in before[1].items() if k not in kwargs or not same_data(v, kwargs[k])]
                    if mutated:
                        outcome["mutated"] = mutated
                outcomes.append(outcome)
            except _Timeout:
                raise
            except codec_error as err:
                outcomes.append({"error": f"UnsupportedResult: {err}"})
            except BaseException as err:  # noqa: BLE001 - the learner's error is data here
                outcomes.append({"error": _describe(err)})

    state, _ = _guarded(apply, seconds)
    timed_out = state == "timeout"
    return {
        "t": "result",
        "id": exercise_id,
        "source": source,
        "timeout": timed_out,
        "outcomes": [] if timed_out else outcomes,
    }


def main() -> None:
    """Run one request from stdin; results go to the original stdout; always ends with ``os._exit``."""
    exit_ = os._exit
    request = _read_request()
    _die_with_parent(request.get("parent_pid"))
    if request.get("drop_to"):
        drop_privileges(*request["drop_to"])  # raises (and the worker dies) rather than run code as root
    channel = _Channel(_take_stdout(), request["nonce"], request["max_message_bytes"])
    try:
        channel.send({"t": "ready"})  # fails (EPIPE) when the grader died while we started: then leave at once
        codec = _load_codec()
        decode = codec.decode
        cases = {
            spec["id"]: [(list(decode(c["args"], refs=True)), decode(c["kwargs"], refs=True)) for c in spec["cases"]]
            for spec in request["exercises"]
        }
        signal.signal(signal.SIGALRM, _on_timer)
        _apply_limits(request["limits"])
        captures: dict[tuple[str, str | None], tuple[str, Any]] = {}
        namespace = _namespace(captures)
        aliases = find_aliases(NotebookCode(request["cells"]))
        for index, source in enumerate(request["cells"]):
            run = lambda s=source, i=index: _run_cell(s, i, namespace, aliases)  # noqa: E731
            state, detail = _guarded(run, request["cell_timeout"])
            if state == "error":
                channel.send({"t": "cell", "index": index, "error": detail})
            elif state == "timeout":
                channel.send({"t": "cell", "index": index, "timeout": True})
        channel.send({"t": "cells_done"})
        for spec in request["exercises"]:
            channel.send({"t": "begin", "id": spec["id"]})
            result = _exercise(spec, cases[spec["id"]], namespace, captures, codec, request["exercise_timeout"])
            if not channel.send(result):
                error = "UnsupportedResult: the result is too large to send back"
                result["outcomes"] = [{"error": error} for _ in cases[spec["id"]]]
                channel.send(result)
        channel.send({"t": "done"})
    except BaseException as err:  # noqa: BLE001 - report, then leave
        try:
            channel.send({"t": "fatal", "error": _describe(err)})
        finally:
            exit_(3)
    exit_(0)


if __name__ == "__main__":
    main()
