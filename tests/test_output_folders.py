"""``gdcourse site``, ``slides`` and ``assign`` against folders full of a user's own files: nothing is lost.

The refusals come before any work, so these tests need neither Sphinx nor the npm assets; one slides build
into a folder the command made itself checks that a rebuild still replaces what it built.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from gdcourse.tools.assign import AssignError, assign
from gdcourse.tools.output_folder import MARKER, OutputFolderError, check_output_folder, empty_folder, replace_folder

ROOT = Path(__file__).resolve().parents[1]


def users_folder(path: Path) -> dict[str, bytes]:
    """A folder as a user keeps it: an index.html of their own, a deck, assets, notes."""
    path.mkdir(parents=True, exist_ok=True)
    files = {
        "index.html": b"<h1>my own page</h1>",
        "talk.slides.html": b"my deck",
        "_assets/logo.svg": b"<svg/>",
        "notes.txt": b"do not lose me",
    }
    for name, data in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_bytes(data)
    return files


def unchanged(path: Path, files: dict[str, bytes]) -> bool:
    now = {str(p.relative_to(path)): p.read_bytes() for p in path.rglob("*") if p.is_file()}
    return now == files


def gdcourse(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "gdcourse", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env=env)  # fmt: skip


@pytest.mark.parametrize("command", ["site", "slides"])
def test_a_folder_of_the_users_files_is_refused_and_kept(command, tmp_path):
    files = users_folder(tmp_path / "out")
    done = gdcourse(command, "-o", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "did not make" in done.stderr and "--force" in done.stderr and "Traceback" not in done.stderr
    assert unchanged(tmp_path / "out", files)


@pytest.mark.parametrize("command", ["site", "slides"])
@pytest.mark.parametrize("target", [".", "..", "~"])
def test_the_working_folder_its_parents_and_home_are_refused_even_with_force(command, target, tmp_path):
    work = tmp_path / "work"
    files = users_folder(work)
    done = gdcourse(command, "-o", target, "--force", cwd=work)
    assert done.returncode == 2 and "refusing to replace" in done.stderr, done.stderr
    assert unchanged(work, files)


@pytest.mark.parametrize("command", ["site", "slides"])
def test_a_file_where_a_folder_is_expected_is_refused(command, tmp_path):
    (tmp_path / "deck").write_text("a file of mine")
    done = gdcourse(command, "-o", str(tmp_path / "deck"), cwd=tmp_path)
    assert done.returncode == 2 and "is a file" in done.stderr and "Traceback" not in done.stderr
    assert (tmp_path / "deck").read_text() == "a file of mine"


def test_slides_into_a_name_ending_in_html_is_refused(tmp_path):
    done = gdcourse("slides", "-o", str(tmp_path / "deck.html"), cwd=tmp_path)
    assert done.returncode == 2 and "give a folder" in done.stderr
    assert not (tmp_path / "deck.html").exists()


def test_an_output_holding_the_source_notebooks_is_refused_even_with_force(tmp_path):
    source = tmp_path / "course" / "notebooks"
    source.mkdir(parents=True)
    (source / "00_x.ipynb").write_text("{}")
    with pytest.raises(OutputFolderError, match="holds the input"):
        check_output_folder(tmp_path / "course", "gdcourse slides", force=True, inputs=[source])
    assert (source / "00_x.ipynb").read_text() == "{}"


def test_force_replaces_the_contents_and_a_marked_folder_is_replaced_without_it(tmp_path):
    files = users_folder(tmp_path / "out")
    folder = check_output_folder(tmp_path / "out", "gdcourse slides", force=True)
    empty_folder(folder, "gdcourse slides")
    assert [p.name for p in folder.iterdir()] == [MARKER]
    (folder / "deck.slides.html").write_text("built")
    again = check_output_folder(tmp_path / "out", "gdcourse slides")  # ours now: no --force needed
    empty_folder(again, "gdcourse slides")
    assert [p.name for p in again.iterdir()] == [MARKER]
    built = tmp_path / "built"
    built.mkdir()
    (built / "index.html").write_text("new site")
    replace_folder(again, built, "gdcourse site")
    assert (again / "index.html").read_text() == "new site" and (again / MARKER).is_file()
    assert not built.exists() and not list(tmp_path.glob(".out.old-*"))
    assert not (again / "notes.txt").exists() and files["notes.txt"]  # replaced only because --force said so


def test_a_new_or_empty_folder_is_fine(tmp_path):
    (tmp_path / "empty").mkdir()
    assert check_output_folder(tmp_path / "empty", "gdcourse site") == tmp_path / "empty"
    assert check_output_folder(tmp_path / "new" / "site", "gdcourse site") == tmp_path / "new" / "site"
    assert not (tmp_path / "new").exists()  # checking writes nothing


def test_the_marker_must_be_a_file_the_command_wrote(tmp_path):
    files = users_folder(tmp_path / "out")
    (tmp_path / "out" / MARKER).mkdir()  # a folder of that name is not a marker
    with pytest.raises(OutputFolderError):
        check_output_folder(tmp_path / "out", "gdcourse site")
    assert unchanged(tmp_path / "out", files)


def _notebook(path: Path) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1  # SOLUTION")])
    nbformat.write(nb, path)


@pytest.mark.parametrize("target", ["same", "parent"])
def test_assign_never_writes_over_its_sources_even_with_force(target, tmp_path):
    source = tmp_path / "nb"
    source.mkdir()
    _notebook(source / "01_x.ipynb")
    before = (source / "01_x.ipynb").read_bytes()
    folder = source if target == "same" else tmp_path
    with pytest.raises(AssignError, match="source folder"):
        assign(source, folder, force=True)
    done = gdcourse("assign", "--source", str(source), "--target", str(folder), "--force", cwd=tmp_path)
    assert done.returncode == 2 and "--force does not change this" in done.stderr
    assert (source / "01_x.ipynb").read_bytes() == before
    assert sorted(p.name for p in source.iterdir()) == ["01_x.ipynb"]


def test_assign_default_target_inside_the_source_still_works(tmp_path):
    source = tmp_path / "nb"
    source.mkdir()
    _notebook(source / "01_x.ipynb")
    written = assign(source)
    assert [p.parent.name for p in written] == ["student"]
