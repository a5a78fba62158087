"""Read a submitted notebook as data: its code cells, its ``check`` calls, and the rewrite the worker runs.

Everything here only *parses* (``json``, IPython's transformer and :mod:`ast`); nothing executes the
learner's code, so the grader can call it on untrusted files in its own process.

- :func:`load_notebook` turns bytes into a :class:`NotebookCode` (or raises
  :class:`InvalidNotebook`): the code cells as plain Python, IPython syntax
  (magics, ``!cmd``, ``x?``) rewritten by IPython's own transformer into calls
  to ``get_ipython()``, which the worker provides
  (see :mod:`gdcourse.grading.ipython_syntax`).
- :func:`find_checks` finds the ``check("ID", expr)`` calls: which exercises a
  submission attempts and the source of the expression naming each answer.
- :func:`rewrite_cell` is used by the worker: ``check("ID", expr)`` becomes a
  capture of ``expr`` at that point of the notebook, ``hint(...)`` and
  ``solution(...)`` become ``None``.

A call counts as a check when it is ``check(...)`` (or a name the notebook
imported ``check`` as), or ``X.check(...)`` where ``X`` is a name or attribute
chain ending in ``exercises`` (``gdcourse.exercises.check``) or a name the
notebook imported :mod:`gdcourse.exercises` as; the same holds for ``hint`` and
``solution``.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field

from gdcourse.grading import ipython_syntax

__all__ = [
    "CAPTURE_NAME",
    "Aliases",
    "Check",
    "InvalidNotebook",
    "NotebookCode",
    "find_aliases",
    "find_checks",
    "load_notebook",
    "notebook_prefix",
    "rewrite_cell",
]

CAPTURE_NAME = "__gdcourse_capture__"
"""Name of the function the worker puts in the notebook namespace to capture checked answers."""

_NOTEBOOK_API = ("check", "hint", "solution")
_PREFIX = re.compile(r"^(\d\d)\.")


class InvalidNotebook(ValueError):
    """The file is not a notebook the grader can read (not JSON, not nbformat 4, too large...)."""


@dataclass(frozen=True)
class NotebookCode:
    """The code of a notebook, ready to run.

    Attributes
    ----------
    cells : list of str
        Source of every code cell, in order, as plain Python
        (:func:`gdcourse.grading.ipython_syntax.to_python`).
    syntax_errors : dict
        Code cell index -> ``"line N: message"`` for cells that do not parse.
    """

    cells: list[str]
    syntax_errors: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Check:
    """One ``check("ID", expr)`` call found in a notebook.

    ``site`` (``"cell:line:column"``) identifies the call, the same in the grader
    and in the worker, which captures the answer there.
    """

    exercise_id: str
    expression: str | None
    cell: int
    site: str = ""


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    if isinstance(source, list) and all(isinstance(s, str) for s in source):
        return "".join(source)
    if isinstance(source, str):
        return source
    raise InvalidNotebook("a cell's source is neither text nor a list of lines")


MAX_CELL_CHARS = 1_000_000
"""Longest code cell a notebook may hold (a real one is a few thousand characters)."""
MAX_CODE_CHARS = 4_000_000
"""Longest total of its code cells."""


def load_notebook(data: bytes, *, max_bytes: int = 20 * 2**20) -> NotebookCode:
    """Parse notebook bytes into its code cells.

    Parameters
    ----------
    data : bytes
        The file's bytes, as submitted.
    max_bytes : int
        Largest file accepted, in bytes (20 MiB by default).

    Returns
    -------
    NotebookCode
        Its code cells as plain Python, and the cells that do not parse.

    Raises
    ------
    InvalidNotebook
        When ``data`` is larger than ``max_bytes``, not UTF-8 JSON, not an
        nbformat-4 notebook (a dict with a list of cells), or holds a code cell
        longer than :data:`MAX_CELL_CHARS` or more code than :data:`MAX_CODE_CHARS`
        (checked before any cell is transformed or parsed).
    """
    if len(data) > max_bytes:
        raise InvalidNotebook(f"file is larger than {max_bytes // 2**20} MB")
    try:
        nb = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise InvalidNotebook(f"not a JSON file ({type(err).__name__})") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise InvalidNotebook("not a Jupyter notebook (no list of cells)")
    if nb.get("nbformat", 4) != 4:
        raise InvalidNotebook(f"notebook format {nb.get('nbformat')!r} is not supported (nbformat 4 is)")
    if not all(isinstance(cell, dict) for cell in nb["cells"]):
        raise InvalidNotebook("a cell is not a JSON object")
    sources = [_source(cell) for cell in nb["cells"] if cell.get("cell_type") == "code"]
    if any(len(source) > MAX_CELL_CHARS for source in sources):
        raise InvalidNotebook(f"a code cell is longer than {MAX_CELL_CHARS:,} characters")
    if sum(len(source) for source in sources) > MAX_CODE_CHARS:
        raise InvalidNotebook(f"its code cells hold more than {MAX_CODE_CHARS:,} characters")
    cells: list[str] = []
    errors: dict[int, str] = {}
    for source in sources:
        code = ipython_syntax.to_python(source)
        try:
            ast.parse(code)
        except SyntaxError as err:
            errors[len(cells)] = f"line {err.lineno}: {err.msg}"
        except (ValueError, RecursionError, MemoryError) as err:
            errors[len(cells)] = f"cannot be parsed ({type(err).__name__})"
        cells.append(code)
    return NotebookCode(cells, errors)


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


@dataclass(frozen=True)
class Aliases:
    """Names under which a notebook imports the notebook API.

    ``functions`` maps a local name to ``"check"``, ``"hint"`` or ``"solution"``
    (``from gdcourse.exercises import check as c``); ``modules`` holds names bound
    to :mod:`gdcourse.exercises` (``import gdcourse.exercises as ex``).
    """

    functions: dict[str, str] = field(default_factory=lambda: {name: name for name in _NOTEBOOK_API})
    modules: frozenset[str] = frozenset()


def _parsed_cells(code: NotebookCode) -> list[tuple[int, ast.Module]]:
    out = []
    for index, source in enumerate(code.cells):
        if index in code.syntax_errors:
            continue
        try:
            out.append((index, ast.parse(source)))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
    return out


def find_aliases(code: NotebookCode) -> Aliases:
    """The names the notebook imports the API under, besides ``check``/``hint``/``solution`` themselves."""
    functions = {name: name for name in _NOTEBOOK_API}
    modules: set[str] = set()
    for _, tree in _parsed_cells(code):
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "gdcourse.exercises":
                functions.update({a.asname or a.name: a.name for a in node.names if a.name in _NOTEBOOK_API})
            elif isinstance(node, ast.ImportFrom) and node.module == "gdcourse":
                modules.update(a.asname or a.name for a in node.names if a.name == "exercises")
            elif isinstance(node, ast.Import):
                modules.update(a.asname for a in node.names if a.name == "gdcourse.exercises" and a.asname)
    return Aliases(functions, frozenset(modules))


def _api_name(call: ast.Call, aliases: Aliases) -> str | None:
    """``"check"``, ``"hint"`` or ``"solution"`` when ``call`` calls the notebook API, else ``None``."""
    func = call.func
    if isinstance(func, ast.Name):
        return aliases.functions.get(func.id)
    if isinstance(func, ast.Attribute) and func.attr in _NOTEBOOK_API:
        base = _dotted(func.value)
        if base is not None and (base in aliases.modules or base.split(".")[-1] == "exercises"):
            return func.attr
    return None


def _check_arguments(call: ast.Call) -> tuple[ast.expr, ast.expr] | None:
    args: list[ast.expr | None] = list(call.args)
    keywords = {k.arg: k.value for k in call.keywords if k.arg is not None}
    if any(isinstance(a, ast.Starred) for a in args) or any(k.arg is None for k in call.keywords):
        return None
    if len(args) < 2:
        args += [keywords.get(name) for name in ("exercise_id", "answer")[len(args) :]]
    if len(args) != 2 or args[0] is None or args[1] is None:
        return None
    return args[0], args[1]


def _site(cell: int, node: ast.expr) -> str:
    return f"{cell}:{node.lineno}:{node.col_offset}"


def _unparse(node: ast.expr) -> str | None:
    """The source of ``node``, or ``None`` when it is nested too deeply to write back."""
    try:
        return ast.unparse(node)
    except (RecursionError, MemoryError):
        return None


def find_checks(code: NotebookCode) -> dict[str, Check]:
    """The graded ``check`` call of each exercise id (literal ids only).

    When a notebook checks an id more than once (a cell demonstrating a wrong
    answer, a check run again after a fix), the graded one is the last call whose
    answer is the exercise's short name (``check("01.gd_step", gd_step)``), or the
    last call when none is.
    """
    aliases = find_aliases(code)
    calls: dict[str, list[Check]] = {}
    for index, tree in _parsed_cells(code):
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or _api_name(node, aliases) != "check":
                continue
            arguments = _check_arguments(node)
            if arguments is None:
                continue
            ident, answer = arguments
            if isinstance(ident, ast.Constant) and isinstance(ident.value, str):
                check = Check(ident.value, _unparse(answer), index, _site(index, node))
                calls.setdefault(ident.value, []).append(check)
    found = {}
    for exercise_id, checks in calls.items():
        checks.sort(key=lambda c: tuple(int(n) for n in c.site.split(":")))
        short = exercise_id.split(".", 1)[-1]
        named = [c for c in checks if c.expression == short]
        found[exercise_id] = (named or checks)[-1]
    return found


def notebook_prefix(exercise_id: str) -> str | None:
    """``"01"`` for ``"01.gd_step"``; ``None`` for an id without a notebook number."""
    match = _PREFIX.match(exercise_id)
    return match.group(1) if match else None


class _Rewriter(ast.NodeTransformer):
    def __init__(self, aliases: Aliases, cell: int) -> None:
        self.aliases, self.cell = aliases, cell

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        name = _api_name(node, self.aliases)
        if name is None:
            return node
        arguments = _check_arguments(node) if name == "check" else None
        if arguments is None:
            return ast.copy_location(ast.Constant(value=None), node)
        ident, answer = arguments
        thunk = ast.Lambda(
            args=ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[]), body=answer
        )
        site = ast.Constant(value=_site(self.cell, node))
        call = ast.Call(func=ast.Name(id=CAPTURE_NAME, ctx=ast.Load()), args=[ident, site, thunk], keywords=[])
        return ast.copy_location(call, node)


def rewrite_cell(source: str, aliases: Aliases | None = None, cell: int = 0) -> ast.Module:
    """Parse one cell and rewrite its notebook-API calls for grading.

    ``check(ID, expr)`` in code cell ``cell`` becomes
    ``__gdcourse_capture__(ID, "cell:line:column", lambda: expr)`` (the answer is
    captured where the learner checked it, so a name reused later in the
    notebook does not change it); ``hint(...)`` and ``solution(...)`` become
    ``None``.  ``aliases`` (from :func:`find_aliases`) names other names of the API.

    Parameters
    ----------
    source : str
        The cell's code, as plain Python.
    aliases : Aliases, optional
        The names the notebook imports the API under (default: ``check``, ``hint`` and
        ``solution`` under their own names).
    cell : int
        The index of the code cell, for the site ``"cell:line:column"`` of each check.

    Returns
    -------
    ast.Module
        The rewritten cell, ready to compile.

    Raises
    ------
    SyntaxError
        When the cell does not parse.
    """
    tree = _Rewriter(aliases or Aliases(), cell).visit(ast.parse(source))
    return ast.fix_missing_locations(tree)
