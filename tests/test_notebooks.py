"""The course notebooks follow the rules of DESIGN.md section 5 (strict nbval itself runs them).

These tests read the stored notebooks without a kernel: they catch what nbval cannot, such as a check
cell for an exercise that does not exist, a student notebook that is out of date or leaks a solution,
or outputs that were not produced by a clean top-to-bottom run.
"""

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from gdcourse import exercises
from gdcourse.tools.assign import stale_student_notebooks

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SOURCES = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
STUDENT = NOTEBOOKS / "student"


def _code(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def _checked_ids(nb):
    ids = []
    for cell in _code(nb):
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "check":
                ids.append(node.args[0].value)
    return ids


def test_there_are_notebooks():
    assert [p.name[:2] for p in SOURCES][:2] == ["00", "01"]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_notebook_follows_the_course_rules(path):
    nb = nbformat.read(path, as_version=4)
    code = _code(nb)
    assert "gdcourse.setup_notebook(seed=" in code[0].source, "first code cell must call setup_notebook"
    counts = [c.execution_count for c in code]
    assert counts == list(range(1, len(code) + 1)), "outputs must come from one clean top-to-bottom run"
    for cell in nb.cells:
        assert "slideshow" in cell.metadata, f"cell {cell.get('id')} has no slide metadata"
    for cell in code:
        for out in cell.get("outputs", []):
            assert out.output_type != "error", f"stored traceback in cell {cell.id}"
            assert out.get("name") != "stderr", f"stderr (a warning?) stored in cell {cell.id}: {out.get('text')}"
            text = out.get("text", "") + json.dumps(out.get("data", {}).get("text/plain", ""))
            assert not re.search(r"0x[0-9a-f]{6,}", text), f"memory address in cell {cell.id}"
            assert "NBVAL_IGNORE_OUTPUT" not in cell.source, f"cell {cell.id}: outputs must be deterministic"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_every_exercise_of_the_notebook_is_checked_once(path):
    nb = nbformat.read(path, as_version=4)
    number = path.name[:2]
    checked = _checked_ids(nb)
    registered = sorted(e.id for e in exercises.all_exercises() if e.id.startswith(number + "."))
    assert sorted(set(checked)) == registered
    for cell in _code(nb):
        if "check(" in cell.source:
            assert any("passed" in o.get("text", "") or "correct" in o.get("text", "") or "✘" in o.get("text", "")
                       for o in cell.outputs), f"check cell {cell.id} shows no verdict"


def test_student_notebooks_are_regenerated_and_byte_identical():
    assert stale_student_notebooks(NOTEBOOKS, STUDENT) == []
    assert sorted(p.name for p in STUDENT.glob("*.ipynb")) == [p.name for p in SOURCES]


def _solution_lines(source: str) -> list[str]:
    lines, inside = [], False
    for line in source.splitlines():
        stripped = line.strip()
        if stripped == "# BEGIN SOLUTION":
            inside = True
        elif stripped == "# END SOLUTION":
            inside = False
        elif inside and stripped:
            lines.append(stripped)
        elif stripped.endswith("# SOLUTION"):
            lines.append(stripped.removesuffix("# SOLUTION").strip())
    return lines


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_student_notebook_leaks_no_solution_and_no_output(path):
    source = nbformat.read(path, as_version=4)
    student = nbformat.read(STUDENT / path.name, as_version=4)
    solutions = [line for cell in _code(source) for line in _solution_lines(cell.source)]
    assert solutions, "a notebook with exercises has solution lines"
    student_code = "\n".join(c.source for c in _code(student))
    for line in solutions:
        assert line not in student_code, f"solution line leaked into the student notebook: {line!r}"
    assert "SOLUTION" not in student_code.replace("# YOUR", "")
    for cell in student.cells:
        assert "instructor" not in cell.metadata.get("tags", [])
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    assert _checked_ids(student) == _checked_ids(source), "the student keeps every check cell"


STRICT_BACKEND = "array_api_strict:device1"


@pytest.mark.stored_outputs
@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_notebook_runs_unchanged_on_a_non_host_device(path, tmp_path):
    """The course really swaps backends: strict nbval passes with new arrays on array_api_strict's ``device1``.

    That device is the CPU stand-in for a GPU: any NumPy call on course data (``np.mean(x)``, ``len(x)``,
    ``float(x)`` on a device array) fails there as it would on CuPy, so the stored outputs (made with NumPy)
    must come out unchanged.
    """
    env = {**os.environ, "GDCOURSE_BACKEND": STRICT_BACKEND, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", str(path), "-q", "-p", "no:cacheprovider", "-x"],
        cwd=NOTEBOOKS.parent, env=env, capture_output=True, text=True, timeout=600,
    )
    report = result.stdout[-6000:] + result.stderr[-2000:]
    assert result.returncode == 0, f"{path.name} under {STRICT_BACKEND}:\n{report}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_an_unanswered_student_notebook_runs_top_to_bottom_without_a_traceback(path):
    """A learner who runs the student notebook with every exercise left open sees no traceback anywhere.

    Check cells say "not answered yet"; a cell that uses an unwritten answer is wrapped in
    ``with uses_answer(ID):`` and says in one line what it waits for; nothing cascades into later sections.
    """
    from nbclient import NotebookClient

    nb = nbformat.read(STUDENT / path.name, as_version=4)
    NotebookClient(nb, timeout=300, allow_errors=True, kernel_name="python3",
                   resources={"metadata": {"path": str(STUDENT)}}).execute()  # fmt: skip
    errors = [
        (index, out.ename, cell.source[:80]) for index, cell in enumerate(nb.cells) if cell.cell_type == "code"
        for out in cell.outputs if out.output_type == "error"
    ]  # fmt: skip
    assert not errors, errors
