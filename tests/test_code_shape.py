"""The shape of the package's code, as a contract: short functions in the core, documented parameters everywhere.

Two rules (issue #18), checked file by file so a failure names the file and the function:

- **No function over 60 lines of code in the core** (layers 1 to 4 of the package docstring: what a learner
  reads) **nor in the grading runner**.  A line of code is a line of the function that is not blank, not a
  comment and not part of its docstring; nested functions count toward their parent too.  A loop longer than
  that hides the loop its docstring shows: split it into named steps.
- **Every public function or method with two or more parameters has a numpydoc ``Parameters`` section that
  names each of its parameters** (``self``/``cls`` aside; ``*args``/``**kwargs`` are named ``*args`` and
  ``**kwargs``).  Public means: its name and its class's name do not start with an underscore.

The last tests show that both checkers fail on code that breaks them.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from test_architecture import LAYERS, PACKAGE

MAX_LINES = 60
CORE_UNITS = {unit for unit, layer in LAYERS.items() if layer <= 4}
ALSO_SHORT = {"grading/runner.py"}  # the grader's main loop, named by the issue

FILES = sorted(PACKAGE.rglob("*.py"))


def _relative(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


def _unit(path: Path) -> str:
    return path.relative_to(PACKAGE).with_suffix("").parts[0]


CORE_FILES = [p for p in FILES if _unit(p) in CORE_UNITS or _relative(p) in ALSO_SHORT]


def _docstring_lines(node: ast.AST) -> set[int]:
    body = getattr(node, "body", None)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        if isinstance(body[0].value.value, str):
            return set(range(body[0].lineno, body[0].end_lineno + 1))
    return set()


def lines_of_code(source_lines: list[str], node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines of ``node`` that are neither blank, nor a comment, nor in a docstring (its own or a nested one)."""
    docstrings: set[int] = set()
    for inner in ast.walk(node):
        if isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            docstrings |= _docstring_lines(inner)
    count = 0
    for number in range(node.lineno, node.end_lineno + 1):
        text = source_lines[number - 1].strip()
        if text and not text.startswith("#") and number not in docstrings:
            count += 1
    return count


def long_functions(source: str, limit: int = MAX_LINES) -> list[str]:
    """``"name (line N): K lines"`` for every function of ``source`` over ``limit`` lines of code."""
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            count = lines_of_code(lines, node)
            if count > limit:
                found.append(f"{node.name} (line {node.lineno}): {count} lines")
    return found


def _parameter_names(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    args = node.args
    names = [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]
    names = [n for n in names if n not in ("self", "cls")]
    if args.vararg:
        names.append("*" + args.vararg.arg)
    if args.kwarg:
        names.append("**" + args.kwarg.arg)
    return names


def documented_parameters(docstring: str) -> set[str] | None:
    """The names a numpydoc ``Parameters`` section lists (``a, b : int`` gives both), or None without one."""
    match = re.search(r"^(\s*)Parameters\n\1-{10,}\n(.*?)(?=^\1\S[^\n]*\n\1-{3,}\n|\Z)", docstring, flags=re.M | re.S)
    if match is None:
        return None
    indent = match.group(1)
    names: set[str] = set()
    for line in match.group(2).splitlines():
        if line.startswith(indent) and line[len(indent) : len(indent) + 1].strip():  # at the section's indent
            head = line[len(indent) :].split(" : ")[0]
            names |= {name.strip() for name in head.split(",")}
    return names


def undocumented_parameters(source: str) -> list[str]:
    """Every public function/method of ``source`` with 2+ parameters whose docstring does not name them all."""
    problems = []

    def visit(body: list[ast.stmt], owner: str = "") -> None:
        for node in body:
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                visit(node.body, node.name + ".")
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("_"):
                names = _parameter_names(node)
                if len(names) < 2:
                    continue
                documented = documented_parameters(ast.get_docstring(node) or "")
                if documented is None:
                    problems.append(f"{owner}{node.name} (line {node.lineno}): no Parameters section")
                elif missing := [n for n in names if n not in documented and n.lstrip("*") not in documented]:
                    problems.append(f"{owner}{node.name} (line {node.lineno}): Parameters omits {missing}")

    visit(ast.parse(source).body)
    return problems


@pytest.mark.parametrize("path", CORE_FILES, ids=_relative)
def test_no_function_in_the_core_is_over_60_lines_of_code(path):
    assert long_functions(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", FILES, ids=_relative)
def test_every_public_function_documents_its_parameters(path):
    assert undocumented_parameters(path.read_text(encoding="utf-8")) == []


def test_the_core_is_the_first_four_layers_and_is_not_empty():
    assert {"optim", "descent", "nn", "plots", "widgets"} <= CORE_UNITS
    assert not {"grading", "exercises", "tools"} & CORE_UNITS
    assert len(CORE_FILES) > 40


def test_the_length_checker_counts_code_not_docstrings_or_comments():
    body = "\n".join(f"    x{i} = {i}  # a comment" for i in range(60))  # + the def line: 61
    long_one = f'def f():\n    """Doc.\n\n    More doc.\n    """\n    # only a comment\n\n{body}\n'
    assert long_functions(long_one) == ["f (line 1): 61 lines"]
    short_one = long_one.replace("    x59 = 59  # a comment\n", "    # x59 = 59\n")
    assert long_functions(short_one) == []


def test_the_parameters_checker_catches_a_missing_section_and_a_missing_name():
    source = '''
def no_section(a, b):
    """Only a summary."""

def missing_name(a, b, *rest, **options):
    """Summary.

    Parameters
    ----------
    a, b : int
        Two numbers.
    *rest
        More.

    Returns
    -------
    int
    """

class Thing:
    def method(self, x, y):
        """Summary.

        Parameters
        ----------
        x : float
            The first.
        y : float
            The second.
        """

    def _private(self, x, y):
        """Private: not checked."""

def single(a):
    """One parameter: not checked."""
'''
    assert undocumented_parameters(source) == [
        "no_section (line 2): no Parameters section",
        "missing_name (line 5): Parameters omits ['**options']",
    ]
