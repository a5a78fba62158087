"""IPython syntax in graded notebooks: the cell as plain Python, and the ``get_ipython()`` the worker provides.

The grading worker is a plain Python process, not an IPython kernel.  So that a
cell means there what it means in JupyterLab:

- :func:`to_python` rewrites a cell with IPython's own transformer
  (``%time w = fit(X)`` becomes ``get_ipython().run_line_magic('time', 'w = fit(X)')``,
  ``files = !ls`` becomes ``files = get_ipython().getoutput('ls')``, ``np.mean?``
  a ``pinfo`` magic...).  It only parses; the grader runs it on untrusted text.
- :class:`Shell` is what ``get_ipython()`` returns in the worker: it runs those
  calls against the notebook's namespace.

Cell magics whose body is Python that IPython runs in the notebook's namespace
(``%%time``, ``%%prun`` and ``%%capture``) are written out by :func:`to_python`
as the body itself (``%%capture`` as a ``with`` block around it), so the grader
sees the ``check`` calls inside them, and names and results are those of
JupyterLab.  Every other cell magic becomes ``get_ipython().run_cell_magic(...)``
as in IPython, and :class:`Shell` decides what it does at run time.

What the shell does (results and defined names are JupyterLab's; it prints
nothing, nobody would see it):

- ``%time`` runs the statement in the namespace and returns the value of a
  final expression; exceptions propagate.  ``%timeit`` and ``%%timeit`` run the
  code *once* (grading time matters), inside a function as IPython does, so
  they define no name; ``-o`` returns a :class:`TimeitResult` and ``-v NAME``
  stores it.  ``%prun`` runs the statement.
- ``%%capture [NAME]`` binds ``NAME`` to a :class:`CapturedIO` holding what the
  body printed; an exception in the body is swallowed, as in JupyterLab.
- ``%%writefile [-a] NAME`` (and ``%%file``) writes the body to ``NAME``, relative
  to the working directory (the worker's private temporary folder).
- Magics that only configure or display (``%matplotlib``, ``%config``,
  ``%load_ext``, ``%xmode``, ``%who``, help requests ``x?``...) do nothing, and
  so do ``%pip``, ``%conda``, ``%mamba``, ``%micromamba`` and ``%uv``:
  nothing can be installed while grading.  ``%env``, ``%set_env``, ``%cd``,
  ``%pwd``, ``%sx``/``%system`` and the shell aliases ``%ls``, ``%cat``,
  ``%cp``, ``%mkdir``, ``%mv``, ``%rm``, ``%rmdir`` behave as in IPython.
- ``!cmd`` runs ``cmd`` with ``/bin/sh`` (output discarded, exit status in
  ``_exit_code``); ``x = !cmd`` returns its output lines (stderr included) as
  an :class:`SList`.  Before that, ``{expr}`` is replaced by the value of
  ``expr`` and ``$name`` (``$name.attr``) by that of ``name`` (``$$`` is a
  literal ``$``; a ``$`` inside single quotes is left alone), as IPython's
  ``var_expand`` does; when an expression fails, the command runs unexpanded.
- Cell magics that run another language or only display (``%%bash``, ``%%sh``,
  ``%%script``, ``%%python3``, ``%%!``, ``%%html``, ``%%javascript``,
  ``%%markdown``, ``%%latex``, ``%%svg``...) do nothing and return ``None``: the
  grader runs no shell script from a cell magic, and what such a cell computes
  is not Python state a check could see.
- Any other magic raises :class:`UsageError`, as an unknown magic does in
  IPython (``%pylab``, ``%run``, ``%reset``, ``%%debug``... included).
"""

from __future__ import annotations

import ast
import io
import math
import os
import re
import shlex
import string
import subprocess
import sys
import time
import tokenize
import traceback
from contextlib import ExitStack, redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

__all__ = ["CapturedIO", "LSString", "SList", "Shell", "TimeitResult", "UsageError", "to_python"]

MAX_TRANSFORM_CHARS = 200_000
"""A cell with IPython syntax larger than this is left as it is (and then fails to parse)."""
_TRANSFORM_BUDGET = 1_000_000  # characters times transformer passes: IPython re-tokenizes the cell on each pass
_MAX_NESTING = 8  # cell magics inside cell magics written out as Python; deeper ones stay run_cell_magic calls
_INLINE_CELL_MAGICS = ("time", "prun", "capture")
_CANDIDATE = re.compile(r"^[ \t]*[%!?/;,]|\?[ \t]*$|=[ \t]*[%!]", re.MULTILINE)
_MULTILINE_TOKENS_OK = (tokenize.NEWLINE, tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER)

_manager: Any = None


class UsageError(Exception):
    """A magic that does not exist (or is misused), like IPython's ``UsageError``."""


def _transformer() -> Any:
    global _manager
    if _manager is None:
        from IPython.core.inputtransformer2 import TransformerManager

        _manager = TransformerManager()
    return _manager


def _is_python(source: str) -> bool:
    """Whether ``source`` already parses: IPython's transformer leaves such a cell as it is."""
    try:
        ast.parse(source)
    except Exception:  # noqa: BLE001 - SyntaxError, ValueError (NUL bytes), RecursionError, MemoryError
        return False
    return True


def _affordable(source: str) -> bool:
    if len(source) > MAX_TRANSFORM_CHARS:
        return False
    passes = 2 + sum(1 for _ in _CANDIDATE.finditer(source))
    return len(source) * passes <= _TRANSFORM_BUDGET


def to_python(source: str) -> str:
    """One cell as plain Python, as IPython would run it.

    Parameters
    ----------
    source : str
        The cell's text, possibly with magics, shell escapes and help requests.

    Returns
    -------
    str
        Python source calling ``get_ipython()`` where the cell uses IPython
        syntax.  A cell that is already Python is returned unchanged; so is one
        the transformer fails on, or one too large to transform cheaply, so that
        parsing it later reports the ``SyntaxError``.
    """
    return _to_python(source, 0)


def _to_python(source: str, depth: int) -> str:
    if _is_python(source) or not _affordable(source):
        return source
    try:
        python = _transformer().transform_cell(source)
    except Exception:  # noqa: BLE001 - untrusted text: whatever fails, ast.parse reports it later
        return source
    if depth < _MAX_NESTING:
        try:
            inline = _inline_cell_magic(source, python, depth)
        except Exception:  # noqa: BLE001 - keep IPython's form
            inline = None
        if inline is not None:
            return inline
    return python


def _cell_magic_call(python: str) -> tuple[str, str, str] | None:
    """``(name, line, body)`` when ``python`` is exactly ``get_ipython().run_cell_magic(name, line, body)``."""
    if not python.startswith("get_ipython().run_cell_magic("):
        return None
    tree = ast.parse(python)
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Expr):
        return None
    call = tree.body[0].value
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and len(call.args) == 3):
        return None
    if call.func.attr != "run_cell_magic" or call.keywords:
        return None
    name, line, body = (a.value if isinstance(a, ast.Constant) else None for a in call.args)
    if not (isinstance(name, str) and isinstance(line, str) and isinstance(body, str)):
        return None
    return name, line, body


def _indentable(code: str) -> bool:
    """Whether indenting every line of ``code`` keeps its meaning (no string or token spans lines)."""
    if "\r" in code or "\x0c" in code:  # a form feed resets the indentation Python counts
        return False
    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            if token.start[0] != token.end[0] and token.type not in _MULTILINE_TOKENS_OK:
                return False
    except (tokenize.TokenError, SyntaxError):
        return False
    return True


def _inline_cell_magic(source: str, python: str, depth: int) -> str | None:
    """The body of a ``%%time``, ``%%prun`` or ``%%capture`` cell written out as Python, lines kept in place."""
    found = _cell_magic_call(python)
    if found is None or found[0] not in _INLINE_CELL_MAGICS:
        return None
    name, line, body = found
    if name == "time" and line.strip():  # options, or a statement IPython refuses: leave it to the shell
        return None
    lead = 0
    for text in source.splitlines():  # IPython drops the leading blank lines before the magic
        if text and not text.isspace():
            break
        lead += 1
    code = _to_python(body, depth + 1)
    if name != "capture":
        return "\n" * lead + f"pass  # %%{name}\n" + code
    if not _indentable(code):
        return None
    indented = "\n".join("    " + text if text.strip() else text for text in code.rstrip("\n").split("\n"))
    header = f"with get_ipython().capture_cell({line!r}, {_ends_with_semicolon(body)!r}):"
    return "\n" * lead + header + "\n" + indented + "\n    pass\n"


def _ends_with_semicolon(cell: str) -> bool:
    """Whether the last token of ``cell`` is ``;`` (IPython then silences the cell, and ``%%capture`` binds nothing)."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(cell).readline))
    except (tokenize.TokenError, SyntaxError):
        return False
    skip = (tokenize.ENDMARKER, tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.DEDENT, tokenize.INDENT)
    for token in reversed(tokens):
        if token.type not in skip:
            return token.type == tokenize.OP and token.string == ";"
    return False


# --- the values magics return -----------------------------------------------------------------------


class SList(list):
    """The output lines of ``x = !cmd``, with IPython's shortcuts ``s``, ``n`` and ``l``."""

    @property
    def s(self) -> str:
        """The lines joined by spaces."""
        return " ".join(self)

    @property
    def n(self) -> str:
        """The lines joined by newlines."""
        return "\n".join(self)

    @property
    def l(self) -> list[str]:  # noqa: E743 - IPython's name
        """The lines as a list (the object itself)."""
        return self

    def get_list(self) -> list[str]:
        """The lines as a list (the object itself)."""
        return self


class LSString(str):
    """The output of ``getoutput(cmd, split=False)``: a string with IPython's shortcuts ``l``, ``n`` and ``s``."""

    @property
    def l(self) -> list[str]:  # noqa: E743 - IPython's name
        """The lines."""
        return self.split("\n")

    @property
    def n(self) -> str:
        """The text itself."""
        return str(self)

    @property
    def s(self) -> str:
        """The lines joined by spaces."""
        return " ".join(self.split("\n"))


@dataclass
class TimeitResult:
    """What ``%timeit -o`` returns; the grader runs the code once, so there is one run of one loop.

    Attributes
    ----------
    loops : int
        Loops per run.
    repeat : int
        Number of runs.
    best, worst : float
        Fastest and slowest time per loop, in seconds.
    all_runs : list of float
        Total time of each run, in seconds.
    compile_time : float
        Seconds spent compiling the code.
    precision : int
        Digits shown (the ``-p`` option).
    """

    loops: int
    repeat: int
    best: float
    worst: float
    all_runs: list[float]
    compile_time: float = 0.0
    precision: int = 3

    @property
    def timings(self) -> list[float]:
        """Time per loop of each run, in seconds."""
        return [run / self.loops for run in self.all_runs]

    @property
    def average(self) -> float:
        """Mean time per loop, in seconds."""
        return math.fsum(self.timings) / len(self.timings)

    @property
    def stdev(self) -> float:
        """Standard deviation of the time per loop, in seconds."""
        mean = self.average
        return math.sqrt(math.fsum((t - mean) ** 2 for t in self.timings) / len(self.timings))


@dataclass
class CapturedIO:
    """What ``%%capture NAME`` binds ``NAME`` to: the text the cell printed."""

    _stdout: io.StringIO | None = field(default_factory=io.StringIO, repr=False)
    _stderr: io.StringIO | None = field(default_factory=io.StringIO, repr=False)
    outputs: list[Any] = field(default_factory=list)

    @property
    def stdout(self) -> str:
        """What the cell printed to standard output (empty with ``--no-stdout``)."""
        return self._stdout.getvalue() if self._stdout is not None else ""

    @property
    def stderr(self) -> str:
        """What the cell printed to standard error (empty with ``--no-stderr``)."""
        return self._stderr.getvalue() if self._stderr is not None else ""

    def show(self) -> None:
        """Show the captured output: nothing to show while grading."""
        return None

    __call__ = show


class _CellCapture:
    """The ``with`` block :func:`to_python` writes for ``%%capture``: captures output, swallows exceptions."""

    def __init__(self, namespace: dict[str, Any], line: str, silenced: bool) -> None:
        words = line.split()
        self._namespace, self._silenced = namespace, silenced
        self._name = next((w for w in words if not w.startswith("-")), None)
        self._captured = CapturedIO(
            None if "--no-stdout" in words else io.StringIO(), None if "--no-stderr" in words else io.StringIO()
        )
        self._stack = ExitStack()

    def __enter__(self) -> CapturedIO:
        if self._captured._stdout is not None:
            self._stack.enter_context(redirect_stdout(self._captured._stdout))
        if self._captured._stderr is not None:
            self._stack.enter_context(redirect_stderr(self._captured._stderr))
        return self._captured

    def __exit__(self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None) -> bool:
        self._stack.close()
        swallowed = err is not None and isinstance(err, (Exception, SystemExit))
        if swallowed and self._captured._stdout is not None:  # IPython shows the traceback in the captured output
            self._captured._stdout.write("".join(traceback.format_exception_only(kind, err)))
        if self._silenced:
            if self._name is not None:  # the namespace has only str keys: popping None did nothing
                self._namespace.pop(self._name, None)
        elif self._name:
            self._namespace[self._name] = self._captured
        return swallowed


# --- variable expansion in shell commands -----------------------------------------------------------


class _DollarFormatter(string.Formatter):
    """IPython's ``DollarFormatter``: ``{expr}`` is evaluated, ``$name`` looked up, ``$$`` is ``$``."""

    _dollar = re.compile(r"(.*?)\$(\$?[\w\.]+)(?=([^']*'[^']*')*[^']*$)")

    def parse(self, format_string: str) -> Any:
        for literal, field_name, spec, conversion in super().parse(format_string):
            done, text = 0, ""
            for match in self._dollar.finditer(literal):
                before, name = match.group(1, 2)
                if name.startswith("$"):
                    text += before + name
                else:
                    yield text + before, name, "", None
                    text = ""
                done = match.end()
            yield text + literal[done:], field_name, spec, conversion

    def vformat(self, format_string: str, args: Any, kwargs: Any) -> str:
        out = []
        for literal, field_name, spec, conversion in self.parse(format_string):
            if literal:
                out.append(literal)
            if field_name is not None:
                expression = f"{field_name}:{spec}" if spec else field_name
                value = self.convert_field(eval(expression, dict(kwargs)), conversion)
                out.append(self.format_field(value, ""))
        return "".join(out)


_FORMATTER = _DollarFormatter()


# --- the shell --------------------------------------------------------------------------------------

_QUIET_LINE_MAGICS = frozenset(
    {
        # display and session settings, help and introspection: nothing a check can see
        "aimport", "autoawait", "autocall", "automagic", "autoreload", "colors", "config", "hist", "history",
        "load_ext", "lsmagic", "magic", "matplotlib", "page", "pdb", "pdef", "pdoc", "pfile", "pinfo", "pinfo2",
        "pprint", "precision", "psearch", "psource", "quickref", "reload_ext", "unload_ext", "who", "whos", "xmode",
        # installing packages is not possible while grading
        "conda", "mamba", "micromamba", "pip", "uv",
    }
)  # fmt: skip
_SHELL_ALIASES = frozenset({"cat", "cp", "ls", "mkdir", "mv", "rm", "rmdir"})
_QUIET_CELL_MAGICS = frozenset(
    {
        "!", "bash", "perl", "pypy", "python", "python2", "python3", "ruby", "script", "sh", "sx", "system",
        "HTML", "SVG", "html", "javascript", "js", "latex", "markdown", "svg",
    }
)  # fmt: skip
_LINE_ONLY = frozenset({"cd", "env", "pwd", "set_env", "pylab", *_QUIET_LINE_MAGICS, *_SHELL_ALIASES})
_CELL_ONLY = frozenset({"capture", "writefile", "file", *_QUIET_CELL_MAGICS})
_TIMEIT_OPTIONS = "n:r:tcp:qov:"
_PRUN_OPTIONS = "D:l:rs:T:q"


def _options(line: str, spec: str) -> tuple[dict[str, str], str]:
    """Leading getopt-style options of ``line`` (``-n5 -r 3 -qo``) and the rest, unchanged.

    Parsing stops at the first word that is not an option ``spec`` knows (a
    statement may start with ``-``).
    """
    opts: dict[str, str] = {}
    rest = line.lstrip()
    while rest.startswith("-") and not rest.startswith("--"):
        word = re.match(r"-(\S*)\s*", rest)
        assert word is not None  # rest starts with "-"
        after = rest[word.end() :]
        letters, found, i = word.group(1), {}, 0
        while i < len(letters):
            letter = letters[i]
            if letter not in spec or letter == ":":
                return opts, rest
            if spec[spec.index(letter) + 1 : spec.index(letter) + 2] == ":":
                value = letters[i + 1 :]
                if not value:
                    value_word = re.match(r"(\S+)\s*", after)
                    if value_word is None:
                        return opts, rest
                    value, after = value_word.group(1), after[value_word.end() :]
                found[letter] = value
                break
            found[letter] = ""
            i += 1
        if not letters:
            return opts, rest
        opts.update(found)
        rest = after
    return opts, rest


class Shell:
    """What ``get_ipython()`` returns in the grading worker.

    Parameters
    ----------
    namespace : dict
        The notebook's global namespace, where magics run code and bind names.
    """

    def __init__(self, namespace: dict[str, Any]) -> None:
        self.namespace = namespace
        self._directories: list[str] = []

    @property
    def user_ns(self) -> dict[str, Any]:
        """The notebook's namespace, as IPython names it."""
        return self.namespace

    # - running code ---------------------------------------------------------------------------------

    def _run(self, source: str, local_ns: Any = None, filename: str = "<magic>") -> Any:
        """Run ``source`` (IPython syntax allowed) in the namespace; the value of a final expression, else ``None``."""
        tree = ast.parse(to_python(source), filename)
        last = None
        if tree.body and isinstance(final := tree.body[-1], ast.Expr):
            tree.body.pop()
            last = ast.Expression(final.value)
        if tree.body:
            exec(compile(tree, filename, "exec"), self.namespace, local_ns)
        if last is not None:
            return eval(compile(last, filename, "eval"), self.namespace, local_ns)
        return None

    def _expand(self, text: str, frame: Any) -> str:
        """``text`` with ``{expr}`` and ``$name`` replaced, looked up in the namespace and the caller's locals."""
        names = dict(self.namespace)
        if frame is not None and frame.f_locals is not self.namespace:
            names.update(frame.f_locals)
        try:
            return _FORMATTER.vformat(text, [], names)
        except Exception:  # noqa: BLE001 - like IPython: a command that cannot be expanded runs as written
            return text

    # - line magics ----------------------------------------------------------------------------------

    def run_line_magic(self, magic_name: str, line: str, _stack_depth: int = 1) -> Any:
        """Run ``%magic_name line``, as ``get_ipython().run_line_magic`` does.

        Parameters
        ----------
        magic_name : str
            The magic without its ``%`` (``"time"``, ``"timeit"``, ``"cd"``...).
        line : str
            The rest of the line, ``{name}`` and ``$name`` expanded from the caller's variables.
        _stack_depth : int
            How many frames up the caller is, whose local variables the magic sees (1: the caller
            of this method), as in IPython.

        Returns
        -------
        object
            What the magic returns (``None`` for most).

        Raises
        ------
        UsageError
            For a magic the grader does not provide.
        """
        frame = sys._getframe(_stack_depth)
        local_ns = frame.f_locals
        if magic_name == "time":
            return self._time(line, None, local_ns)
        if magic_name == "timeit":
            return self._timeit(line, None, local_ns)
        if magic_name == "prun":
            _, statement = _options(line, _PRUN_OPTIONS)
            self._run(statement, self.namespace, "<magic-prun>")
            return None
        if magic_name not in _LINE_ONLY:
            extra = f" (But cell magic `%%{magic_name}` exists, did you mean that instead?)"
            extra = extra if magic_name in _CELL_ONLY else ""
            raise UsageError(f"Line magic function `%{magic_name}` not found{extra}.")
        if magic_name == "pylab":
            raise UsageError("`%pylab` is not supported when grading: import numpy and matplotlib explicitly.")
        if magic_name in _QUIET_LINE_MAGICS:
            return None
        line = self._expand(line, frame)
        if magic_name in _SHELL_ALIASES:
            return self.system(f"{magic_name} {line}")
        if magic_name == "pwd":
            return os.getcwd()
        if magic_name == "cd":
            return self._cd(line)
        if magic_name == "env":
            return self._env(line)
        return self._set_env(line)

    def _time(self, line: str, cell: str | None, local_ns: Any) -> Any:
        no_raise = False
        text = line.strip()
        if text.startswith("--no-raise-error"):
            no_raise, text = True, text[len("--no-raise-error") :].strip()
        if cell is not None:
            if text:
                raise UsageError("Can't use statement directly after '%%time'!")
            text = cell
        try:
            return self._run(text, local_ns, "<timed exec>")
        except Exception:
            if no_raise:
                return None
            raise

    def _timeit(self, line: str, cell: str | None, local_ns: Any) -> TimeitResult | None:
        opts, statement = _options(line, _TIMEIT_OPTIONS)
        if not statement.strip() and cell is None:
            return None
        setup, stmt = ("pass", statement) if cell is None else (statement, cell)
        start = time.perf_counter()
        setup_body = ast.parse(to_python(setup) or "pass", "<magic-timeit-setup>").body or [ast.Pass()]
        stmt_body = ast.parse(to_python(stmt), "<magic-timeit-stmt>").body or [ast.Pass()]
        template = ast.parse("def inner(_timer):\n    _t0 = _timer()\n    return _timer() - _t0\n")
        inner = template.body[0]
        assert isinstance(inner, ast.FunctionDef)  # the template is one def
        inner.body = [*setup_body, inner.body[0], *stmt_body, inner.body[1]]
        code = compile(ast.fix_missing_locations(template), "<magic-timeit>", "exec")
        compile_time = time.perf_counter() - start
        glob = self.namespace
        scope: dict[str, Any] = {}
        shadowed = {}
        if cell is None and local_ns is not None and local_ns is not glob:  # as IPython: the caller's locals
            shadowed = {k: glob[k] for k in local_ns if k in glob}
            glob.update(local_ns)
        try:
            exec(code, glob, scope)
            elapsed = scope["inner"](time.perf_counter)
        finally:
            glob.update(shadowed)
        elapsed = float(elapsed) if isinstance(elapsed, float) else 0.0
        precision = int(opts["p"]) if opts.get("p", "").isdigit() else 3
        result = TimeitResult(1, 1, elapsed, elapsed, [elapsed], compile_time, precision)
        if opts.get("v"):
            self.namespace[opts["v"]] = result
        return result if "o" in opts else None

    def _cd(self, line: str) -> None:
        try:
            words = shlex.split(line)
        except ValueError as err:
            raise UsageError(f"%cd: {err}") from None
        words = [w for w in words if w not in ("-q", "-b")]
        target = " ".join(words)
        if target == "-":
            if len(self._directories) < 2:
                raise UsageError("%cd -: No previous directory to change to.")
            target = self._directories[-2]
        try:
            before = os.getcwd()
        except OSError:
            before = None
        try:
            os.chdir(os.path.expanduser(target) if target else os.path.expanduser("~"))
        except OSError:  # IPython prints the error and goes on
            return None
        if not self._directories and before is not None:
            self._directories.append(before)
        self._directories.append(os.getcwd())
        return None

    def _env(self, line: str) -> Any:
        if not line.strip():  # IPython hides likely secrets in the listing
            secret = ("key", "token", "secret")
            return {k: "<hidden>" if any(s in k.lower() for s in secret) else v for k, v in os.environ.items()}
        bits = line.split("=" if "=" in line else " ")
        if len(bits) == 1:
            key = line.strip()
            if key not in os.environ:
                raise UsageError(f"Environment does not have key: {key}")
            return os.environ[key]
        return self._set_env(line)

    def _set_env(self, line: str) -> None:
        bits = line.split("=" if "=" in line else " ", 1)
        if not line.strip() or len(bits) < 2:
            raise UsageError("usage is 'set_env var=val'")
        name, value = bits[0].strip(), bits[1].strip()
        if re.match(r".*\s.*", name):
            raise UsageError(f"refusing to set env var with whitespace: '{value}'")
        os.environ[name] = value
        return None

    # - cell magics ----------------------------------------------------------------------------------

    def run_cell_magic(self, magic_name: str, line: str, cell: str) -> Any:
        """Run a ``%%magic_name line`` cell whose body is ``cell``, as ``get_ipython().run_cell_magic`` does.

        Parameters
        ----------
        magic_name : str
            The magic without its ``%%`` (``"time"``, ``"capture"``, ``"writefile"``...).
        line : str
            The arguments on the magic's own line.
        cell : str
            The body of the cell, below the magic's line.

        Returns
        -------
        object
            The cell magic's value: ``%%time``'s and ``%%timeit``'s, else ``None``.

        Raises
        ------
        UsageError
            For a cell magic the grader does not provide.
        """
        if magic_name in _QUIET_CELL_MAGICS:
            return None
        if magic_name == "time":
            return self._time(line, cell, self.namespace)
        if magic_name == "timeit":
            return self._timeit(line, cell, self.namespace)
        if magic_name == "prun":
            self._run(cell, self.namespace, "<magic-prun>")
            return None
        if magic_name == "capture":
            with _CellCapture(self.namespace, self._expand(line, sys._getframe(1)), _ends_with_semicolon(cell)):
                self._run(cell, self.namespace, "<magic-capture>")
            return None
        if magic_name in ("writefile", "file"):
            return self._writefile(self._expand(line, sys._getframe(1)), cell)
        extra = f" (But line magic `%{magic_name}` exists, did you mean that instead?)"
        extra = extra if magic_name in _LINE_ONLY else ""
        raise UsageError(f"Cell magic `%%{magic_name}` not found{extra}.")

    def capture_cell(self, line: str, silenced: bool = False) -> _CellCapture:
        """The context manager of a ``%%capture`` cell (not IPython's API: :func:`to_python` writes calls to it).

        Parameters
        ----------
        line : str
            The magic's arguments: ``[--no-stdout] [--no-stderr] [--no-display] [NAME]``.
        silenced : bool
            Whether the cell ends with ``;``: then ``NAME`` is deleted rather than bound, as in IPython.
        """
        return _CellCapture(self.namespace, self._expand(line, sys._getframe(1)), silenced)

    def _writefile(self, line: str, cell: str) -> None:
        try:
            words = shlex.split(line)
        except ValueError as err:
            raise UsageError(f"%%writefile: {err}") from None
        append = any(w in ("-a", "--append") for w in words)
        names = [w for w in words if w not in ("-a", "--append")]
        if len(names) != 1:
            raise UsageError("usage: %%writefile [-a] filename")
        with open(os.path.expanduser(names[0]), "a" if append else "w", encoding="utf-8") as f:
            f.write(cell)
        return None

    # - shell commands -------------------------------------------------------------------------------

    def system(self, cmd: str) -> None:
        """Run ``!cmd``: its output is discarded, its exit status stored in ``_exit_code``."""
        cmd = self._expand(cmd, sys._getframe(1))
        if cmd.rstrip().endswith("&"):
            raise OSError("Background processes not supported.")
        null = subprocess.DEVNULL
        done = subprocess.run(cmd, shell=True, stdin=null, stdout=null, stderr=null, timeout=None)
        self.namespace["_exit_code"] = done.returncode
        return None

    def getoutput(self, cmd: str, split: bool = True, depth: int = 0) -> SList | LSString:
        """Run ``x = !cmd``: the output (stderr included) as an :class:`SList` of lines, or a string.

        Parameters
        ----------
        cmd : str
            The shell command, ``{name}`` and ``$name`` expanded from the caller's variables.
        split : bool
            Return the lines as an :class:`SList` (default), else the whole output as an
            :class:`LSString` without its last newline.
        depth : int
            How many frames above the caller the variables are taken from (0: the caller).

        Raises
        ------
        OSError
            For a command run in the background (ending with ``&``).
        """
        cmd = self._expand(cmd, sys._getframe(depth + 1))
        if cmd.rstrip().endswith("&"):
            raise OSError("Background processes not supported.")
        done = subprocess.run(
            cmd, shell=True, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=None
        )
        out = done.stdout.decode(errors="replace")
        return SList(out.splitlines()) if split else LSString(out[:-1] if out.endswith("\n") else out)
