"""Start grading workers in isolation, read what they say, and kill everything they started.

Each worker is a fresh ``python -s -m gdcourse.grading.worker`` process:

- in its own session and process group (``start_new_session``), killed as a
  group at the end, followed by a sweep of ``/proc`` for any process still
  carrying the run's token in its environment or the worker's session id;
- with a minimal environment (no variable of the grader's leaks in), its own
  temporary working directory and HOME;
- with resource limits the worker sets on itself before any learner code runs
  (address space, file size, open files, CPU time as a backstop, no core dumps,
  process count where the kernel enforces it);
- inside bubblewrap when it works (:func:`bwrap_works`), built from an
  allowlist: the system's ``/usr`` (and its ``/bin``, ``/lib`` links), the
  dynamic loader's cache, the Python installation, its site-packages and the
  :mod:`gdcourse` package, all read-only; a fresh ``/proc`` of its own PID
  namespace in which the worker is PID 1; a minimal read-only ``/dev`` with a
  small private ``/dev/shm``; a private ``/tmp`` of bounded size; no network; no
  other folder of the machine at all (the submissions, the outputs and the
  instructor's files are not hidden under something: they are simply not
  there, and no path of theirs appears anywhere in the sandbox).  When the
  grader is root, bubblewrap keeps only the capabilities the worker needs to
  hand its folder to user ``nobody`` and become that user
  (:func:`gdcourse.grading.worker.drop_privileges`), which it does before
  reading any learner code: the learner's code runs with no capability at all,
  as ``nobody``, so it can neither remount nor unmount anything nor read files
  only root may read.

Without bubblewrap the same process limits apply but the worker can read and
write whatever the worker's user can; when the grader runs as root it then runs
workers as ``nobody`` if that user can start Python, and otherwise as root,
which :attr:`Sandbox.isolation` (and so every CSV row) says loudly.
"""

from __future__ import annotations

import contextlib
import functools
import os
import selectors
import shutil
import signal
import site
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

import gdcourse

__all__ = ["Limits", "Sandbox", "SandboxStopped", "SandboxUnavailable", "WorkerProcess", "bwrap_works"]

_PROBE = ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", "--unshare-all"]
_SANDBOX_HOME = "/tmp/work"
_FONT_CACHE = ".cache/matplotlib"  # matplotlib's cache folder under HOME
_DEFAULT_HIDDEN = ("/home", "/root", "/run", "/mnt", "/media", "/srv")
_NOBODY = 65534
_SYSTEM_TREES = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")  # read-only, or links into /usr
_SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime")
_ROOT_CAPABILITIES = ("CAP_SETUID", "CAP_SETGID", "CAP_CHOWN", "CAP_SETPCAP")  # only to become nobody
_SHM_MB = 16
_STDERR_TAIL = 4096


class SandboxUnavailable(RuntimeError):
    """Bubblewrap was required but does not work here."""


class SandboxStopped(RuntimeError):
    """:meth:`Sandbox.stop` was called: no new worker starts."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of one worker.

    Attributes
    ----------
    memory_mb : int
        Address space (``RLIMIT_AS``) of the worker and of each process it starts.
    file_size_mb : int
        Largest file it may write (``RLIMIT_FSIZE``); a larger write fails with ``EFBIG``.
    open_files : int
        Open file descriptors (``RLIMIT_NOFILE``).
    disk_mb : int
        Size of the private ``/tmp`` (its working directory) under bubblewrap.
    processes : int
        Processes and threads it may add (``RLIMIT_NPROC``, counted per user: enforced for
        workers run as an unprivileged user, not for root inside bubblewrap).
    """

    memory_mb: int = 2048
    file_size_mb: int = 64
    open_files: int = 256
    disk_mb: int = 256
    processes: int = 64


def worker_environment(home: str, token: str) -> dict[str, str]:
    """The whole environment of a worker: nothing is inherited from the grader.

    Parameters
    ----------
    home : str
        The worker's ``HOME`` and ``TMPDIR`` (its private working folder).
    token : str
        This worker's random token (``GDCOURSE_GRADING_RUN``), by which its stragglers are found and killed.

    Returns
    -------
    dict of str to str
    """
    python_bin = os.path.dirname(sys.executable)
    return {
        "PATH": f"{python_bin}:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "HOME": home,
        "TMPDIR": home,
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPATH": str(Path(gdcourse.__file__).resolve().parent.parent),
        "MPLBACKEND": "Agg",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "GDCOURSE_BACKEND": "numpy",
        "GDCOURSE_GRADING": "1",
        "GDCOURSE_GRADING_RUN": token,
    }


@functools.lru_cache(maxsize=4)
def bwrap_works(executable: str = "bwrap") -> bool:
    """Whether bubblewrap can create a sandbox here (probed once per executable)."""
    path = shutil.which(executable)
    if path is None:
        return False
    try:
        done = subprocess.run(
            [path, *_PROBE, "--die-with-parent", "true"], capture_output=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def _resolved(paths: Iterable[str | os.PathLike]) -> set[Path]:
    out = set()
    for p in paths:
        if not p:
            continue
        path = Path(p).absolute()
        out.add(path)
        with contextlib.suppress(OSError):
            out.add(path.resolve())
    return out


def _needed_paths() -> set[Path]:
    """What the worker must see: the Python installation, site-packages and the gdcourse package."""
    paths: list[str | Path] = [
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        sys.base_exec_prefix,
        os.path.dirname(sys.executable),
    ]
    paths.append(os.path.realpath(sys.executable))
    paths.append(Path(gdcourse.__file__).resolve().parent)
    with contextlib.suppress(AttributeError):
        paths.extend(site.getsitepackages())
    return {p for p in _resolved(paths) if p.exists()}


def _checkout() -> list[Path]:
    """The source checkout :mod:`gdcourse` is imported from, if any (instructor notebooks live there)."""
    root = Path(gdcourse.__file__).resolve().parent.parent
    return [root] if (root / "pyproject.toml").exists() or (root / ".git").exists() else []


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _count_threads(uid: int) -> int:
    """Processes and threads of ``uid`` now (what ``RLIMIT_NPROC`` counts)."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/status", "rb") as f:
                status = f.read().decode("ascii", "replace")
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        try:
            if int(fields["Uid"].split()[0]) == uid:
                total += int(fields.get("Threads", "1"))
        except (KeyError, ValueError, IndexError):
            continue
    return total


class Sandbox:
    """Starts workers, in bubblewrap (``mode="bwrap"``) or not (``mode="none"``).

    Parameters
    ----------
    mode : {"auto", "bwrap", "none"}
        ``"auto"`` uses bubblewrap when :func:`bwrap_works` and falls back with a
        warning otherwise; ``"bwrap"`` raises :class:`SandboxUnavailable` when it
        does not work; ``"none"`` never uses it.
    hide : sequence of path
        Folders the worker must not see (submissions, outputs, instructor files);
        added to ``/home``, ``/root``, ``/run``, ``/mnt``, ``/media``, ``/srv``
        and the grader's HOME.
    limits : Limits
    warn : callable, optional
        Receives warnings (default: print to stderr).
    """

    def __init__(
        self,
        mode: str = "auto",
        hide: Sequence[str | os.PathLike] = (),
        limits: Limits | None = None,
        warn=None,
    ) -> None:
        if mode not in ("auto", "bwrap", "none"):
            raise ValueError(f"sandbox mode must be 'auto', 'bwrap' or 'none', got {mode!r}")
        self.limits = limits or Limits()
        self._warn = warn or (lambda text: print(f"warning: {text}", file=sys.stderr))
        self._hidden = _resolved([*_DEFAULT_HIDDEN, os.path.expanduser("~"), *_checkout(), *hide])
        self.run_as: int | None = None
        self.mode = "none"
        self._live: set[WorkerProcess] = set()
        self._lock = threading.Lock()
        self._stopped = False
        # As root, bubblewrap keeps a few capabilities so the worker can become nobody (and then has none).
        self._drop_to = _NOBODY if os.geteuid() == 0 else None
        problem: str | None = "the sandbox was turned off (sandbox='none')"
        if mode != "none":
            problem = None if bwrap_works() else "bubblewrap (bwrap) is not installed or cannot create a sandbox here"
            if problem is None:
                probe = "from gdcourse.grading.worker import drop_privileges as d; d({!r}, {!r})"
                problem = self._probe(self._bwrap_command(["-c", probe.format(self._drop_to, _SANDBOX_HOME)]))
            if problem is None:
                self.mode = "bwrap"
                self.run_as = self._drop_to
            elif mode == "bwrap":
                raise SandboxUnavailable(problem)
        if self.mode == "none":
            self._drop_to = None
            self._warn(
                f"{problem}: grading WITHOUT the bubblewrap sandbox. Time, memory and file-size limits and "
                "process-group cleanup still apply, but submissions can read and write whatever the worker's "
                "user can, and use the network. Install Debian's 'bubblewrap' package."
            )
        self._font_cache = self._prepare_font_cache()
        if self.mode == "none" and os.geteuid() == 0:
            command = [sys.executable, "-s", "-c", "import gdcourse.grading.worker"]
            if self._probe(command, user=_NOBODY) is None:
                self.run_as = _NOBODY
            else:
                self._warn(
                    "running as root without bubblewrap, and user 'nobody' cannot start Python here: workers run "
                    "AS ROOT and can read and change anything on this machine (the journal and its secret, other "
                    "submissions, the grader's command line). Every CSV row says so in its 'isolation' column."
                )

    @property
    def hidden_paths(self) -> list[str]:
        """The folders this sandbox hides (its defaults, the grader's home and checkout, and ``hide``)."""
        return sorted(str(p) for p in self._hidden)

    @property
    def isolation(self) -> str:
        """How workers are isolated, as the CSV's ``isolation`` column and the run summary say it.

        ``"sandboxed"`` (bubblewrap; as root, the learner's code runs as ``nobody`` with no
        capabilities), ``"unsandboxed, as nobody"``, or ``"NOT ISOLATED, as <user>"``.
        """
        if self.mode == "bwrap":
            return "sandboxed"
        if self.run_as is not None:
            return "unsandboxed, as nobody"
        return "NOT ISOLATED, as root" if os.geteuid() == 0 else f"NOT ISOLATED, as uid {os.geteuid()}"

    def _prepare_font_cache(self) -> list[Path]:
        """Build matplotlib's font list once, so workers (each with a fresh HOME) do not rebuild it (~1 s each)."""
        self._cache_dir = tempfile.TemporaryDirectory(prefix="gdcourse-fonts-")
        home = self._cache_dir.name
        try:
            subprocess.run(
                [sys.executable, "-s", "-c", "import matplotlib.font_manager"],
                capture_output=True,
                timeout=120,
                check=False,
                cwd=home,
                env=worker_environment(home, "fonts"),
            )
        except (OSError, subprocess.SubprocessError):
            return []
        return sorted((Path(home) / _FONT_CACHE).glob("fontlist-*.json"))

    def _probe(self, command: list[str], user: int | None = None) -> str | None:
        extra: dict[str, Any] = {} if user is None else {"user": user, "group": user, "extra_groups": []}
        try:
            with tempfile.TemporaryDirectory(prefix="gdcourse-probe-") as home:
                if user is not None:
                    os.chown(home, user, user)
                done = subprocess.run(
                    command,
                    capture_output=True,
                    timeout=60,
                    check=False,
                    cwd=home,
                    env=worker_environment(home if self.mode == "none" else _SANDBOX_HOME, "probe"),
                    **extra,
                )
        except (OSError, subprocess.SubprocessError) as err:
            return f"cannot start a worker ({err})"
        if done.returncode != 0:
            tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
            return f"a sandboxed worker does not start ({tail[0]})"
        return None

    def _bwrap_command(self, python_args: list[str], token: str = "probe") -> list[str]:
        """The bubblewrap command line: an allowlist of read-only mounts, nothing else of the machine."""
        args = [shutil.which("bwrap") or "bwrap"]
        args += ["--dev", "/dev", "--perms", "01777", "--size", str(_SHM_MB * 2**20), "--tmpfs", "/dev/shm"]
        args += ["--remount-ro", "/dev", "--proc", "/proc"]
        args += ["--perms", "01777", "--size", str(self.limits.disk_mb * 2**20), "--tmpfs", "/tmp"]
        made: set[Path] = {Path("/"), Path("/tmp")}  # before the binds: a Python installed under /tmp stays visible

        def parents(path: Path) -> None:  # bwrap would make missing parents 0700: make them 0755 ourselves
            for parent in reversed(path.parents):
                if parent not in made:
                    args.extend(["--perms", "0755", "--dir", str(parent)])
                    made.add(parent)

        mounted: list[Path] = []
        for name in _SYSTEM_TREES:
            path = Path(name)
            if path.is_symlink():
                args.extend(["--symlink", os.readlink(path), name])
            elif path.is_dir():
                args.extend(["--ro-bind", name, name])
                mounted.append(path)
        for name in _SYSTEM_FILES:
            if os.path.exists(name):
                parents(Path(name))
                args.extend(["--ro-bind", name, name])
        for path in sorted(_needed_paths(), key=lambda p: (len(p.parts), str(p))):
            if any(_inside(path, m) for m in mounted):
                continue
            parents(path)
            args.extend(["--ro-bind", str(path), str(path)])
            mounted.append(path)
            made.add(path)
        # a folder to hide that lies inside a needed mount (rare: outputs inside the Python installation)
        for path in sorted(p for p in self._hidden if p.is_dir() and any(_inside(p, m) and p != m for m in mounted)):
            args.extend(["--perms", "0755", "--tmpfs", str(path), "--remount-ro", str(path)])
        args += ["--perms", "0700", "--dir", _SANDBOX_HOME, "--chdir", _SANDBOX_HOME]
        for path in getattr(self, "_font_cache", []):
            args += ["--ro-bind", str(path), f"{_SANDBOX_HOME}/{_FONT_CACHE}/{path.name}"]
        args += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
        if self._drop_to is not None:  # root: no user namespace; keep only what becoming nobody takes
            args += ["--cap-drop", "ALL"]
            for cap in _ROOT_CAPABILITIES:
                args += ["--cap-add", cap]
        else:
            args += ["--unshare-user", "--cap-drop", "ALL"]
        args += ["--as-pid-1", "--die-with-parent", "--new-session", "--clearenv"]
        for key, value in worker_environment(_SANDBOX_HOME, token).items():
            args += ["--setenv", key, value]
        return [*args, "--", sys.executable, "-s", *python_args]

    def start(self, request: bytes, *, max_output: int) -> WorkerProcess:
        """Start a worker, feed it ``request`` on stdin, and return the running :class:`WorkerProcess`.

        Parameters
        ----------
        request : bytes
            The JSON request (:mod:`gdcourse.grading.protocol`), written to the worker's stdin, which is then closed.
        max_output : int
            Most bytes the worker may write to its stdout; beyond that :meth:`WorkerProcess.read`
            ends with ``"overflow"``.

        Raises
        ------
        SandboxStopped
            After :meth:`stop`.
        """
        token = os.urandom(12).hex()
        workdir = None
        extra: dict = {}
        if self.mode == "bwrap":
            command = self._bwrap_command(["-m", "gdcourse.grading.worker"], token)
            cwd, env = "/", {"PATH": "/usr/bin:/bin"}
        else:
            workdir = tempfile.mkdtemp(prefix="gdcourse-grade-")
            os.chmod(workdir, 0o711)
            home = os.path.join(workdir, "work")
            os.mkdir(home, 0o700)
            if self._font_cache:
                os.makedirs(os.path.join(home, _FONT_CACHE))
                for path in self._font_cache:
                    shutil.copy(path, os.path.join(home, _FONT_CACHE, path.name))
            if self.run_as is not None:
                for root, dirs, files in os.walk(home):
                    for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
                        os.chown(name, self.run_as, self.run_as)
                extra = {"user": self.run_as, "group": self.run_as, "extra_groups": []}
            command = [sys.executable, "-s", "-m", "gdcourse.grading.worker"]
            cwd, env = home, worker_environment(home, token)
        with self._lock:
            if self._stopped:
                raise SandboxStopped("grading was stopped")
            popen = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=cwd,
                env=env,
                start_new_session=True,
                close_fds=True,
                **extra,
            )
            worker = WorkerProcess(popen, token, workdir, request, max_output, self._live.discard)
            self._live.add(worker)
        return worker

    def stop(self) -> None:
        """Kill every running worker of this sandbox; refuse to start new ones; remove its font cache."""
        with self._lock:
            self._stopped = True
            running = list(self._live)
        for worker in running:
            worker.kill()
        self._cache_dir.cleanup()

    def limits_for_request(self, timeout: float) -> dict[str, int]:
        """The ``limits`` field of a worker request for a submission with wall-clock ``timeout``."""
        uid = self.run_as if self.run_as is not None else os.geteuid()
        return {
            "memory_bytes": self.limits.memory_mb * 2**20,
            "file_size_bytes": self.limits.file_size_mb * 2**20,
            "open_files": self.limits.open_files,
            "cpu_seconds": int(timeout) + 10,
            "processes": _count_threads(uid) + self.limits.processes,
        }

    @property
    def drop_to(self) -> list | None:
        """``[uid, home]`` the worker must become and own before any learner code runs (bubblewrap as root)."""
        return [self._drop_to, _SANDBOX_HOME] if self.mode == "bwrap" and self._drop_to is not None else None

    @property
    def parent_pid(self) -> int | None:
        """The pid a worker should die with (bubblewrap does this itself)."""
        return os.getpid() if self.mode == "none" else None


class WorkerProcess:
    """A running worker: read its framed output with :meth:`read`, end it with :meth:`kill`."""

    def __init__(
        self,
        popen: subprocess.Popen,
        token: str,
        workdir: str | None,
        request: bytes,
        max_output: int,
        on_exit=None,
    ) -> None:
        self.popen, self.token, self._workdir, self._max = popen, token, workdir, max_output
        self._on_exit = on_exit
        self._kill_lock = threading.Lock()
        self._buffer = b""
        self._received = 0
        self._stderr = b""
        assert popen.stdout is not None and popen.stderr is not None  # Sandbox.start opens all three pipes
        self._open: set[IO[bytes]] = {popen.stdout, popen.stderr}
        self._killed = False
        threading.Thread(target=self._feed, args=(request,), daemon=True).start()

    def _feed(self, request: bytes) -> None:
        stdin = self.popen.stdin
        assert stdin is not None  # a pipe (Sandbox.start)
        try:
            stdin.write(request)
            stdin.close()
        except (OSError, ValueError):
            pass

    @property
    def stderr_tail(self) -> str:
        """The end of what the worker wrote on its stderr (before it silenced it)."""
        return self._stderr.decode("utf-8", "replace")

    def read(self, deadline: float) -> tuple[list[bytes], str | None]:
        """Wait until complete lines arrive, the output ends, or ``deadline`` (``time.monotonic``) passes.

        Returns
        -------
        lines : list of bytes
            Complete lines received (without their newline).
        end : {None, "eof", "timeout", "overflow"}
            ``None`` while the worker may say more.
        """
        with selectors.DefaultSelector() as selector:
            for stream in self._open:
                selector.register(stream, selectors.EVENT_READ)
            while True:
                if b"\n" in self._buffer:
                    *lines, self._buffer = self._buffer.split(b"\n")
                    return lines, None
                if self.popen.stdout not in self._open:
                    return [], "eof"
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return [], "timeout"
                for key, _ in selector.select(remaining):
                    stream = cast(IO[bytes], key.fileobj)  # one of self._open, registered above
                    chunk = os.read(stream.fileno(), 1 << 16)
                    if not chunk:
                        selector.unregister(stream)
                        self._open.discard(stream)
                    elif stream is self.popen.stderr:
                        self._stderr = (self._stderr + chunk)[-_STDERR_TAIL:]
                    else:
                        self._received += len(chunk)
                        if self._received > self._max:
                            return [], "overflow"
                        self._buffer += chunk

    def kill(self) -> int | None:
        """Kill the worker's process group and every straggler; return its exit status."""
        with self._kill_lock:
            if self._killed:
                return self.popen.returncode
            self._killed = True
            for child in _children(self.popen.pid):  # bubblewrap's init: killing it ends its PID namespace
                with contextlib.suppress(OSError):
                    os.kill(child, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
            _kill_stragglers(self.token, self.popen.pid)
            for stream in (self.popen.stdin, self.popen.stdout, self.popen.stderr):
                assert stream is not None  # all three are pipes (Sandbox.start)
                with contextlib.suppress(OSError, ValueError):
                    stream.close()
            if self._workdir is not None:
                shutil.rmtree(self._workdir, ignore_errors=True)
            if self._on_exit is not None:
                self._on_exit(self)
        return self.popen.returncode


def _stat_fields(pid: str) -> list[bytes]:
    """Fields of ``/proc/PID/stat`` after the command name: state, ppid, pgrp, session, ..."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        stat = f.read()
    return stat[stat.rfind(b")") + 2 :].split()


def _children(parent: int) -> list[int]:
    """Pids whose parent is ``parent``."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                if int(_stat_fields(entry.name)[1]) == parent:
                    found.append(int(entry.name))
    return found


def _kill_stragglers(token: str, session: int) -> None:
    """SIGKILL every process whose environment carries ``token`` or whose session is ``session``."""
    marker = f"GDCOURSE_GRADING_RUN={token}".encode()
    for _ in range(3):  # again, in case one forked while we looked
        found = False
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                fields = _stat_fields(entry.name)
                match = int(fields[3]) == session
                if not match:
                    with open(f"/proc/{entry.name}/environ", "rb") as f:
                        match = marker in f.read().split(b"\0")
            except (OSError, ValueError, IndexError):
                continue
            if match and fields[0] != b"Z":
                found = True
                with contextlib.suppress(OSError):
                    os.kill(int(entry.name), signal.SIGKILL)
        if not found:
            return
        time.sleep(0.05)
