"""gdcourse assign: student notebooks from small source notebooks built here (never from notebooks/)."""

from __future__ import annotations

import argparse
import ast
import json

import nbformat
import pytest

from gdcourse.tools.assign import (
    MANIFEST,
    AssignError,
    OverwriteRefusedError,
    add_arguments,
    assign,
    make_student_notebook,
    notebook_bytes,
    run,
    stale_student_notebooks,
)

SECRETS = ("SECRET_CODE", "SECRET_VALUE", "SECRET_PROSE", "SECRET_INSTRUCTOR", "0.5  #")


def source_notebook(extra: str = "") -> nbformat.NotebookNode:
    v4 = nbformat.v4
    nb = v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python", "version": "3.11.7", "pygments_lexer": "ipython3"},
        "widgets": {"application/vnd.jupyter.widget-state+json": {"state": {}}},
    }
    setup = v4.new_code_cell("import numpy as np" + extra, execution_count=7)
    setup.outputs = [v4.new_output("stream", name="stdout", text="noise\n")]
    setup.metadata = {"tags": [], "ExecuteTime": {"end_time": "2024-06-01T10:00:00"}, "scrolled": True}
    solution_cell = v4.new_code_cell(
        "def gd_step(theta, grad, lr):\n"
        '    """One step."""\n'
        "    # BEGIN SOLUTION\n"
        "    step = lr * grad  # SECRET_CODE\n"
        "    return theta - step\n"
        "    # END SOLUTION\n"
        "\n"
        "\n"
        "### BEGIN SOLUTION\n"
        "top_level = 'SECRET_CODE'\n"
        "### END SOLUTION\n"
        "lr = 0.5  # SOLUTION\n"
        "η: float = 0.25 * 2  # SOLUTION\n"
        "def pick():\n"
        "    return 'SECRET_VALUE'  # SOLUTION\n"
        "'SECRET_VALUE'  # SOLUTION\n"
        "check('01.gd_step', gd_step)",
        execution_count=8,
    )
    solution_cell.outputs = [v4.new_output("execute_result", data={"text/plain": "1"}, execution_count=8)]
    solution_cell.metadata = {"slideshow": {"slide_type": "fragment"}, "tags": ["exercise"]}
    return v4.new_notebook(
        metadata=nb.metadata,
        cells=[
            v4.new_markdown_cell("# Title\n\nSome prose.", metadata={"slideshow": {"slide_type": "slide"}}),
            setup,
            solution_cell,
            v4.new_markdown_cell(
                "Why?\n\n<!-- BEGIN SOLUTION -->\nBecause SECRET_PROSE.\n<!-- END SOLUTION -->\n\nThe end."
            ),
            v4.new_markdown_cell("<!-- BEGIN SOLUTION -->SECRET_PROSE only<!-- END SOLUTION -->"),
            v4.new_code_cell("print('SECRET_INSTRUCTOR')", metadata={"tags": ["instructor"]}),
            v4.new_markdown_cell("SECRET_INSTRUCTOR notes", metadata={"tags": ["slow", "instructor"]}),
            v4.new_raw_cell("raw text"),
        ],
    )


def write_source(folder, name="01_demo.ipynb", nb=None):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    nbformat.write(nb if nb is not None else source_notebook(), path)
    return path


@pytest.fixture
def student():
    return make_student_notebook(source_notebook())


def test_solutions_and_instructor_cells_are_gone(student):
    text = notebook_bytes(student).decode()
    for secret in SECRETS:
        assert secret not in text
    assert "SOLUTION" not in text
    assert [c.cell_type for c in student.cells] == ["markdown", "code", "code", "markdown", "raw"]
    assert student.cells[3].source == "Why?\n\n\nThe end."


def test_prompts_keep_indentation_and_left_hand_sides(student):
    assert student.cells[2].source == (
        "def gd_step(theta, grad, lr):\n"
        '    """One step."""\n'
        "    # YOUR CODE HERE\n"
        "    raise NotImplementedError()\n"
        "\n"
        "\n"
        "# YOUR CODE HERE\n"
        "raise NotImplementedError()\n"
        "lr = ...  # YOUR ANSWER\n"
        "η: float = ...  # YOUR ANSWER\n"
        "def pick():\n"
        "    return ...  # YOUR ANSWER\n"
        "...  # YOUR ANSWER\n"
        "check('01.gd_step', gd_step)"
    )
    ast.parse(student.cells[2].source)  # still valid Python


def test_outputs_counts_and_volatile_metadata_are_cleared(student):
    for cell in student.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    assert student.cells[1].metadata == {}  # ExecuteTime, scrolled and empty tags dropped
    assert student.cells[2].metadata == {"slideshow": {"slide_type": "fragment"}, "tags": ["exercise"]}
    assert student.cells[0].metadata == {"slideshow": {"slide_type": "slide"}}
    assert student.metadata == {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python", "pygments_lexer": "ipython3"},
    }
    nbformat.validate(student)


def test_source_notebook_is_not_modified():
    nb = source_notebook()
    before = nbformat.writes(nb)
    make_student_notebook(nb)
    assert nbformat.writes(nb) == before


def test_output_is_byte_deterministic(tmp_path):
    source = write_source(tmp_path / "a")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / source.name).write_bytes(source.read_bytes())
    first = assign(tmp_path / "a")
    second = assign(tmp_path / "b", tmp_path / "elsewhere")
    data = first[0].read_bytes()
    assert data == second[0].read_bytes()
    assert data.endswith(b"}\n") and b"\r\n" not in data
    assert json.loads(data)["cells"][0]["id"]  # stable ids present
    assert assign(tmp_path / "a") == []  # nothing to do the second time
    assert first[0].read_bytes() == data


def test_cell_ids_are_deterministic_for_old_notebooks():
    old = {
        "nbformat": 4,
        "nbformat_minor": 4,
        "metadata": {},
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": "same"},
            {"cell_type": "markdown", "metadata": {}, "source": "same"},
        ],
    }
    a, b = (notebook_bytes(make_student_notebook(old)) for _ in range(2))
    assert a == b
    ids = [c["id"] for c in json.loads(a)["cells"]]
    assert len(set(ids)) == 2


def test_manifest_records_what_was_written(tmp_path):
    write_source(tmp_path)
    (written,) = assign(tmp_path)
    manifest = json.loads((tmp_path / "student" / MANIFEST).read_text())
    import hashlib

    assert manifest["files"] == {"01_demo.ipynb": hashlib.sha256(written.read_bytes()).hexdigest()}


def test_regenerates_an_untouched_student_file_after_the_source_changes(tmp_path):
    write_source(tmp_path)
    (path,) = assign(tmp_path)
    write_source(tmp_path, nb=source_notebook(extra="\nimport math"))
    assert assign(tmp_path) == [path]
    assert "import math" in path.read_text()


def test_refuses_to_overwrite_a_changed_student_file(tmp_path):
    write_source(tmp_path)
    (path,) = assign(tmp_path)
    path.write_text(path.read_text().replace("# YOUR CODE HERE", "return theta - lr * grad"))
    edited = path.read_bytes()
    write_source(tmp_path, nb=source_notebook(extra="\nimport math"))
    with pytest.raises(OverwriteRefusedError, match="01_demo.ipynb") as info:
        assign(tmp_path)
    assert info.value.paths == [path]
    assert path.read_bytes() == edited  # untouched
    assert assign(tmp_path, force=True) == [path]
    assert "import math" in path.read_text()
    assert assign(tmp_path) == []  # and the manifest now trusts it again


def test_refuses_a_student_file_it_did_not_write(tmp_path):
    write_source(tmp_path)
    (tmp_path / "student").mkdir()
    (tmp_path / "student" / "01_demo.ipynb").write_text("{}")
    with pytest.raises(OverwriteRefusedError):
        assign(tmp_path)


def test_refusal_writes_nothing_at_all(tmp_path):
    write_source(tmp_path, "01_a.ipynb")
    write_source(tmp_path, "02_b.ipynb")
    a, b = assign(tmp_path)
    a.write_text(a.read_text() + " ")
    write_source(tmp_path, "02_b.ipynb", nb=source_notebook(extra="\nimport math"))
    before = b.read_bytes()
    with pytest.raises(OverwriteRefusedError, match="01_a.ipynb"):
        assign(tmp_path)
    assert b.read_bytes() == before


def _cli(*argv):
    parser = argparse.ArgumentParser(prog="gdcourse assign")
    add_arguments(parser)
    return run(parser.parse_args(list(argv)))


def test_cli_writes_refuses_and_forces(tmp_path, capsys):
    write_source(tmp_path / "nb")
    assert _cli("--source", str(tmp_path / "nb")) == 0
    assert "wrote" in capsys.readouterr().out
    student = tmp_path / "nb" / "student" / "01_demo.ipynb"
    student.write_text(student.read_text() + "\n")
    write_source(tmp_path / "nb", nb=source_notebook(extra="\nimport math"))
    assert _cli("--source", str(tmp_path / "nb")) == 1
    err = capsys.readouterr().err
    assert "refusing to overwrite" in err and "01_demo.ipynb" in err and "--force" in err
    assert _cli("--source", str(tmp_path / "nb"), "--force") == 0


def test_check_detects_stale_missing_and_orphaned_notebooks(tmp_path, capsys):
    source = tmp_path / "nb"
    write_source(source)
    assert _cli("--source", str(source), "--check") == 1
    assert "01_demo.ipynb is missing" in capsys.readouterr().err
    assign(source)
    assert _cli("--source", str(source), "--check") == 0
    assert stale_student_notebooks(source) == []
    write_source(source, nb=source_notebook(extra="\nimport math"))
    student = source / "student" / "01_demo.ipynb"
    before = student.read_bytes()
    assert _cli("--source", str(source), "--check") == 1
    assert "01_demo.ipynb is out of date" in capsys.readouterr().err
    assert student.read_bytes() == before  # --check writes nothing
    (source / "student" / "99_gone.ipynb").write_text("{}")
    assert any("99_gone.ipynb has no source notebook" in p for p in stale_student_notebooks(source))


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("# BEGIN SOLUTION\nx = 1\n", "never closed"),
        ("x = 1\n# END SOLUTION\n", "END SOLUTION without BEGIN"),
        ("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION\n", "inside the block"),
        ("f(1,  # SOLUTION\n  2)", "whole statement"),
        ("lr = 0.5  # SOLUTION: 2/L\n", "must end its line"),
    ],
)
def test_malformed_code_markers_are_errors(source, message):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    with pytest.raises(AssignError, match=message):
        make_student_notebook(nb)


def test_malformed_markdown_marker_is_an_error_and_cli_exit_2(tmp_path, capsys):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("<!-- BEGIN SOLUTION -->\nleft open")])
    with pytest.raises(AssignError, match="unmatched"):
        make_student_notebook(nb)
    write_source(tmp_path, nb=nb)
    assert _cli("--source", str(tmp_path)) == 2
    assert "01_demo.ipynb" in capsys.readouterr().err
    assert not (tmp_path / "student").exists()
