"""End to end on the real course: assign -> a student fills in (or not) -> grade -> CSV.

The source notebook holds the reference solutions, so submitting it must earn full marks; the
untouched student notebook (stubs that raise NotImplementedError, answers left as ``...``) must earn
zero, with every exercise graded and the batch completing.
"""

import csv
import shutil
from pathlib import Path

import pytest

from gdcourse import exercises
from gdcourse.grading import grade

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


@pytest.mark.slow
@pytest.mark.parametrize("number", ["00", "01"])
def test_grading_the_course_notebooks(tmp_path, number):
    source = next(NOTEBOOKS.glob(f"{number}_*.ipynb"))
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    shutil.copy(source, submissions / "solved.ipynb")
    shutil.copy(NOTEBOOKS / "student" / source.name, submissions / "untouched.ipynb")
    out = tmp_path / "grades" / "scores.csv"
    grade(submissions, out, jobs=2, notebooks=[number], secret="course-test", quiet=True)
    rows = {row["student"]: row for row in csv.DictReader(out.open())}
    ids = sorted(e.id for e in exercises.all_exercises() if e.id.startswith(number + "."))
    maximum = sum(exercises.get(i).points for i in ids)
    assert set(rows) == {"solved", "untouched"}
    assert all(i in rows["solved"] for i in ids), "every exercise of the notebook has a column"
    assert rows["solved"]["status"] == "ok" and float(rows["solved"]["total"]) == maximum
    assert float(rows["untouched"]["total"]) == 0.0 and float(rows["untouched"]["max"]) == maximum
