"""``gdcourse grade`` refuses bad options and unwritable outputs before grading, reads a roster, names students.

Uses the small test registry of ``test_grading`` (ids ``99.*``).
"""

from __future__ import annotations

import csv
import os
import subprocess
from pathlib import Path

import pytest
from test_grading import CORRECT, FAST, REGISTRY, SECRET, run_cli, write_submissions

from gdcourse.grading import collect, summary
from gdcourse.grading.runner import GradingError, grade


def cli(*args: str) -> subprocess.CompletedProcess:
    grader = run_cli(*args)
    out, err = grader.communicate(timeout=120)
    return subprocess.CompletedProcess(grader.args, grader.returncode, out, err)


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--timeout", "-1"),
        ("--timeout", "0"),
        ("--cell-timeout", "nan"),
        ("--exercise-timeout", "0"),
        ("--exercise-timeout", "inf"),
        ("--jobs", "0"),
        ("--jobs", "-5"),
        ("--memory-mb", "0"),
        ("--memory-mb", "12"),
        ("--open-files", "two"),
        ("--disk-mb", "-1"),
    ],
)
def test_bad_numbers_are_refused_before_anything_runs(tmp_path, option, value):
    write_submissions(tmp_path / "subs", {"alice": CORRECT})
    done = cli(str(tmp_path / "subs"), "-o", str(tmp_path / "out.csv"), option, value)
    assert done.returncode == 2
    assert f"{option}: expected" in done.stderr and repr(value) in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out.csv.journal").exists()


@pytest.mark.parametrize(
    ("name", "value"),
    [("timeout", -1.0), ("cell_timeout", float("nan")), ("jobs", 0), ("memory_mb", 0), ("exercise_timeout", 0)],
)
def test_the_python_api_refuses_them_too(tmp_path, name, value):
    write_submissions(tmp_path / "subs", {"alice": CORRECT})
    with pytest.raises(GradingError, match=name.replace("_", "-")):
        grade(tmp_path / "subs", tmp_path / "out.csv", exercises=REGISTRY, quiet=True, **{**FAST, name: value})
    assert not (tmp_path / "out.csv.journal").exists()


def test_an_output_that_is_a_folder_is_refused_before_grading(tmp_path):
    write_submissions(tmp_path / "subs", {"alice": CORRECT})
    (tmp_path / "grades").mkdir()
    done = cli(str(tmp_path / "subs"), "-o", str(tmp_path / "grades"))
    assert done.returncode == 2 and "is a folder" in done.stderr and "Traceback" not in done.stderr
    assert os.listdir(tmp_path / "grades") == []
    (tmp_path / "fb").write_text("mine")
    with pytest.raises(GradingError, match="feedback folder .* is a file"):
        grade(tmp_path / "subs", tmp_path / "out.csv", exercises=REGISTRY, feedback_dir=tmp_path / "fb", **FAST)
    assert (tmp_path / "fb").read_text() == "mine"


def test_an_output_folder_that_cannot_be_made_is_refused_before_grading(tmp_path):
    write_submissions(tmp_path / "subs", {"alice": CORRECT})
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(GradingError, match="cannot create the folder"):
        grade(tmp_path / "subs", tmp_path / "notes.txt" / "out.csv", exercises=REGISTRY, **FAST)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_a_write_that_fails_at_the_end_says_how_to_resume(tmp_path):
    write_submissions(tmp_path / "subs", {"alice": CORRECT})
    out = tmp_path / "grades" / "01.csv"
    feedback = tmp_path / "grades" / "01.feedback"
    feedback.mkdir(parents=True)
    (feedback / "alice.txt").mkdir()  # where the feedback file must go: the late write fails
    with pytest.raises(GradingError, match=r"journal .*01\.csv\.journal.*--resume"):
        grade(tmp_path / "subs", out, exercises=REGISTRY, secret=SECRET, quiet=True, **FAST)
    (feedback / "alice.txt").rmdir()
    again = grade(tmp_path / "subs", out, exercises=REGISTRY, secret=SECRET, resume=True, quiet=True, **FAST)
    assert again.reused == 1 and again.graded == 0 and (feedback / "alice.txt").is_file()


def test_two_assignments_next_to_each_other_keep_their_own_feedback(tmp_path):
    write_submissions(tmp_path / "subs01", {"alice": CORRECT})
    write_submissions(tmp_path / "subs07", {"alice": CORRECT[:1]})
    for number in ("01", "07"):
        out = tmp_path / "grades" / f"{number}.csv"
        grade(tmp_path / f"subs{number}", out, exercises=REGISTRY, notebooks=["99"], quiet=True, **FAST)
    first = (tmp_path / "grades" / "01.feedback" / "alice.txt").read_text()
    second = (tmp_path / "grades" / "07.feedback" / "alice.txt").read_text()
    assert "Score: 4 / 4" in first and "Score: 0 / 4" in second


def test_a_roster_lists_missing_and_unknown_students(tmp_path):
    write_submissions(tmp_path / "subs", {"alice": CORRECT, "mallory": CORRECT, "carol": CORRECT[:1]})
    roster = tmp_path / "roster.csv"
    roster.write_text("student,email\nalice,a@example.org\nBob,b@example.org\ncarol,c@example.org\n")
    out = tmp_path / "grades" / "scores.csv"
    done = grade(tmp_path / "subs", out, exercises=REGISTRY, roster=roster, secret=SECRET, quiet=True, **FAST)
    assert done.missing == ["Bob"] and done.unknown == ["mallory"]
    with open(out, newline="") as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    assert rows["Bob"]["status"] == "absent" and rows["Bob"]["total"] == "0" and rows["Bob"]["file"] == ""
    assert rows["alice"]["total"] == "4" and rows["mallory"]["status"] == "ok"
    assert not (out.parent / "scores.feedback" / "Bob.txt").exists()
    text = summary(done)
    assert "1 on the roster without a submission: Bob" in text and "1 submitted but not on the roster: mallory" in text
    roster.write_text("\n\n")
    with pytest.raises(GradingError, match="lists no student"):
        grade(tmp_path / "subs", out, exercises=REGISTRY, roster=roster, quiet=True, **FAST)


def test_roster_reads_a_first_column_without_header(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("alice\ncaf\u0065\u0301\n")
    assert collect.read_roster(path) == ["alice", "caf\u00e9"]


def test_cell_text_neutralises_formulas_and_shows_invisible_differences():
    assert collect.cell_text("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert collect.cell_text("@SUM(A1)") == "'@SUM(A1)" and collect.cell_text("-2+3") == "'-2+3"
    assert collect.cell_text("red\x1b[31m") == "red\\x1b[31m"
    assert collect.cell_text("caf\u0065\u0301") == "cafe\\u0301" and collect.cell_text("caf\u00e9") == "caf\u00e9"
    assert collect.cell_text(os.fsdecode(b"caf\xe9")) == "caf\\udce9"
    assert collect.cell_text("right\u202eleft") == "right\\u202eleft"
    assert collect.feedback_file_name("a" * 300).endswith(".txt")
    assert len(collect.feedback_file_name("a" * 300).encode()) < 255


def test_without_bubblewrap_as_root_every_row_says_it_was_not_isolated(tmp_path):
    write_submissions(tmp_path / "subs", {"alice": CORRECT, "bad": "not json"})
    warnings: list[str] = []
    done = grade(tmp_path / "subs", tmp_path / "o.csv", exercises=REGISTRY, sandbox="none", warn=warnings.append,
                 quiet=True, **FAST)  # fmt: skip
    with open(tmp_path / "o.csv", newline="") as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    assert rows["alice"]["isolation"] == done.isolation != "sandboxed"
    assert rows["bad"]["isolation"] == ""  # never ran
    assert "WARNING: workers were " + done.isolation in summary(done)
    if os.geteuid() == 0 and done.isolation.startswith("NOT ISOLATED"):
        assert any("AS ROOT" in w for w in warnings)


def test_listing_never_follows_links(tmp_path):
    (tmp_path / "alice.ipynb").write_text("{}")
    os.symlink("alice.ipynb", tmp_path / "mallory.ipynb")
    os.symlink(Path("/etc/hostname"), tmp_path / "eve.ipynb")
    subs = {s.file: s for s in collect.list_submissions(tmp_path)}
    assert collect.read_submission(subs["mallory.ipynb"], 2**20) is None
    assert "symbolic link" in subs["mallory.ipynb"].problem and subs["mallory.ipynb"].sha256 == ""
    assert collect.read_submission(subs["alice.ipynb"], 2**20) == b"{}"
    os.replace(tmp_path / "mallory.ipynb", tmp_path / "alice.ipynb")  # swapped for a link after the listing
    assert collect.read_submission(subs["alice.ipynb"], 2**20) is None
    assert "symbolic link" in subs["alice.ipynb"].problem
