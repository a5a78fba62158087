"""IPython syntax in graded notebooks (gdcourse.grading.ipython_syntax): cells mean what they mean in JupyterLab.

Each test runs cells the way the grading worker does: :func:`to_python`, then
``exec`` in a namespace whose ``get_ipython()`` returns a :class:`Shell`.
"""

from __future__ import annotations

import os
import time

import pytest

from gdcourse.grading import notebook_code as nbc
from gdcourse.grading.ipython_syntax import CapturedIO, Shell, SList, TimeitResult, UsageError, to_python


@pytest.fixture
def run(tmp_path, monkeypatch):
    """Run cells in one fresh notebook namespace, in a private working directory (like the worker's)."""
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__main__"}
    shell = Shell(namespace)
    namespace["get_ipython"] = lambda: shell

    def run_cell(source: str) -> dict:
        exec(compile(to_python(source), "<cell>", "exec"), namespace)
        return namespace

    return run_cell


FIT = "calls = []\ndef fit(X):\n    calls.append(X)\n    return 2 * X\nX = 21"


def test_time_line_magic_runs_the_statement_and_returns_the_value(run):
    ns = run(FIT)
    run("%time w = fit(X)")
    assert ns["w"] == 42
    run("v = %time fit(2)")
    assert ns["v"] == 4
    run("%time a = 1; b = a + 1")
    assert (ns["a"], ns["b"]) == (1, 2)
    run("def g(a):\n    y = %time a * 3\n    return y")  # the caller's locals are seen, as in IPython
    assert ns["g"](5) == 15 and "y" not in ns
    with pytest.raises(ZeroDivisionError):
        run("%time z = 1 / 0")


def test_shell_escape_returns_the_output_lines(run, tmp_path):
    (tmp_path / "known.txt").write_text("x")
    ns = run("files = !ls")
    assert isinstance(ns["files"], SList) and ns["files"] == ["known.txt"]
    ns = run("lines = !printf 'a\\nb\\n'")
    assert ns["lines"] == ["a", "b"] and ns["lines"].s == "a b" and ns["lines"].n == "a\nb"
    assert ns["lines"].l is ns["lines"]
    run("!echo hello > made.txt")
    assert (tmp_path / "made.txt").read_text() == "hello\n" and ns["_exit_code"] == 0
    run("!exit 3")
    assert ns["_exit_code"] == 3


def test_shell_commands_expand_python_values(run, monkeypatch):
    monkeypatch.setenv("GDCOURSE_SHELL_VAR", "from-env")
    ns = run("name = 'world'\nx = !echo $name {1+1} '$name' $$GDCOURSE_SHELL_VAR")  # $$: the shell's variable
    assert ns["x"] == ["world 2 $name from-env"]
    ns = run("y = !echo {undefined_name}")  # IPython runs a command it cannot expand as written
    assert ns["y"] == ["{undefined_name}"]
    ns = run("def f(v):\n    out = !echo $v\n    return out\nr = f('local')")
    assert ns["r"] == ["local"]


def test_timeit_runs_once_defines_nothing_and_returns_a_result(run):
    ns = run(FIT)
    run("r = %timeit -o fit(1)")
    assert ns["calls"] == [1]
    result = ns["r"]
    assert isinstance(result, TimeitResult) and isinstance(result.best, float) and result.best >= 0
    assert (result.loops, result.repeat, result.all_runs) == (1, 1, [result.best])
    assert result.average == result.best and result.stdev == 0.0
    run("%timeit -n 1000 -r 7 fit(2)")
    assert ns["calls"] == [1, 2]  # once, whatever -n and -r say
    run("q = %timeit -q fit(3)\n%timeit -v saved fit(4)")
    assert ns["q"] is None and isinstance(ns["saved"], TimeitResult)
    run("%timeit inside = fit(5)")  # IPython times the code inside a function: no name is defined
    run("%%timeit k = 2\nalso_inside = fit(k)")
    assert "inside" not in ns and "also_inside" not in ns and ns["calls"][-2:] == [5, 2]


def test_capture_binds_what_the_cell_printed(run):
    ns = run("%%capture out\nprint('hello')\nimport sys\nprint('oops', file=sys.stderr)\nvalue = 3")
    assert isinstance(ns["out"], CapturedIO) and ns["out"].stdout == "hello\n" and ns["out"].stderr == "oops\n"
    assert ns["value"] == 3 and ns["out"].outputs == [] and ns["out"].show() is None
    ns = run("%%capture failing\nprint('before')\n1 / 0\nafter = 1")  # JupyterLab swallows the error
    assert ns["failing"].stdout.startswith("before\nZeroDivisionError") and "after" not in ns
    ns = run("%%capture\ns = '''two\nlines'''\nprint(s)")  # cannot be indented: run by the shell instead
    assert ns["s"] == "two\nlines"
    ns = run("%%capture silenced\nprint(1);")  # a final ';' deletes the name, as in IPython
    assert "silenced" not in ns


def test_cell_time_and_prun_run_their_body(run):
    ns = run(FIT)
    run("%%time\nfor i in range(2):\n    %time last = fit(i)\ndone = True")
    assert (ns["last"], ns["done"]) == (2, True)
    run("%%prun -s cumulative\nprofiled = fit(4)")
    run("%prun line = fit(5)")
    assert (ns["profiled"], ns["line"]) == (8, 10)


def test_writefile(run, tmp_path):
    run("%%writefile data.txt\nhello\n")
    run("%%writefile -a data.txt\nagain\n")
    run("name = 'other'")
    run("%%writefile {name}.py\nx = 1\n")  # the line is expanded, as in IPython
    assert (tmp_path / "data.txt").read_text() == "hello\nagain\n" and (tmp_path / "other.py").read_text() == "x = 1\n"


def test_non_python_cell_magics_do_nothing(run, tmp_path):
    for magic in ("bash", "sh", "script sh", "html", "javascript", "markdown", "latex", "svg", "python3"):
        run(f"%%{magic}\ntouch made-by-{magic.split()[0]}\n")
    assert list(tmp_path.iterdir()) == []


def test_configuring_magics_and_help_do_nothing(run):
    ns = run(
        "%matplotlib inline\n%config InlineBackend.figure_format = 'retina'\n%load_ext autoreload\n"
        "%autoreload 2\nimport numpy as np\nnp.mean?\nnp.mean??\n%pip install foo\n%conda install bar\nx = 1  # why?"
    )
    assert ns["x"] == 1
    ns = run("import os\nos.mkdir('sub')\n%cd sub\nhere = %pwd")
    assert os.path.basename(ns["here"]) == "sub"
    ns = run("%env GDCOURSE_TEST_VAR=yes\nvalue = %env GDCOURSE_TEST_VAR")
    assert ns["value"] == "yes" and os.environ.pop("GDCOURSE_TEST_VAR") == "yes"


def test_unknown_magics_raise_usage_error(run):
    with pytest.raises(UsageError, match=r"Line magic function `%nosuchmagic` not found\."):
        run("%nosuchmagic")
    with pytest.raises(UsageError, match="cell magic `%%capture` exists"):
        run("%capture")
    with pytest.raises(UsageError, match=r"Cell magic `%%nosuchmagic` not found\."):
        run("%%nosuchmagic\nx = 1")
    with pytest.raises(UsageError):
        run("%pylab inline")


def test_checks_inside_python_cell_magics_are_found():
    code = nbc.load_notebook(
        b'{"nbformat": 4, "cells": ['
        b'{"cell_type": "code", "source": "%%time\\nw = fit(X)\\ncheck(\'01.w\', w)"},'
        b'{"cell_type": "code", "source": "%%capture out\\nv = fit(X)\\ncheck(\'01.v\', v)"}]}'
    )
    assert not code.syntax_errors
    checks = nbc.find_checks(code)
    assert {k: (c.expression, c.site) for k, c in checks.items()} == {"01.w": ("w", "0:3:0"), "01.v": ("v", "1:3:4")}


def test_python_is_left_unchanged():
    for source in ("x = 1\n", "\n\ndef f():\n    return 1  # really?\n", 's = """\n%time x\n!ls\n"""', ""):
        assert to_python(source) == source


@pytest.mark.parametrize(
    "junk",
    [
        "(" * 5000,
        "[" * 100_000,
        "'unterminated",
        '"""never closed\n%time x',
        "a\0b",
        "%time x\0y",
        "%%capture\n\0",
        "%%time\n" * 3000,
        "%time (" * 3000,
        "x = !" + "{" * 10_000,
        "%%writefile \udcff\n",
        ("%time y = 2\n" + "x = 1\n" * 7) * 400,
    ],
)
def test_untrusted_text_never_raises(junk):
    start = time.perf_counter()
    assert isinstance(to_python(junk), str)
    assert time.perf_counter() - start < 10  # generous: the transformer is bounded by the cell's size
