"""The instructor's reports after grading: class report (HTML, Markdown), gradebook export, ``--only``.

Unit tests build rows by hand, so every expected number is counted here independently; the end-to-end
test grades a real folder with the test registry of tests/test_grading.py (a missing and an unknown student
on the roster), regrades one changed file with ``only=``, and renders the HTML report in headless Chromium
(``GDCOURSE_SCREENSHOT=1`` also saves ``docs/images/class_report.png``).
"""

from __future__ import annotations

import csv
import os
import re
import tempfile
from pathlib import Path

import pytest
from conftest import skip_outside_ci
from test_grading import FAST, IDS, REGISTRY, SECRET, _correct_with, read_csv, write_submissions

from gdcourse.grading.class_report import N_BINS, render_html, render_markdown, summarize, write_gradebook
from gdcourse.grading.collect import read_roster_ids
from gdcourse.grading.runner import GradingError, grade

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOT = ROOT / "docs" / "images" / "class_report.png"
TITLES = {"99.add": "add(a, b)", "99.scale": "scale(x, k)"}
FORGOT = "You forgot the bias correction."


def _row(student: str, total: float, add: tuple[str, str | None], scale: str = "passed", status: str = "graded"):
    add_status, diagnosis = add
    return {
        "student": student,
        "status": status,
        "total": total,
        "max": 3.0,
        "exercises": {
            "99.add": {"status": add_status, "max_points": 2.0, "diagnosis": diagnosis, "detail": "wrong value"},
            "99.scale": {"status": scale, "max_points": 1.0, "diagnosis": None, "detail": "raised NotImplementedError"},
        },
    }


ROWS = [
    _row("ana", 3.0, ("passed", None)),
    _row("ben", 1.0, ("failed", FORGOT)),
    _row("cai", 1.0, ("failed", FORGOT)),
    _row("dee", 0.0, ("failed", None), scale="failed"),
    _row("eve", 2.0, ("passed", None), scale="missing"),
    {"student": "fay", "status": "absent", "total": 0.0, "max": 3.0, "exercises": {}},
]


def test_summary_counts_pass_rates_diagnoses_and_the_histogram():
    s = summarize(ROWS, TITLES, missing=["fay"], unknown=["zed"])
    add, scale = s.exercises
    assert (add.submissions, add.passed, scale.submissions, scale.passed) == (5, 2, 5, 3)  # fay is absent
    assert add.top == [(FORGOT, 2), ("wrong value", 1)]
    stub, missing = "not answered yet (a stub: raised NotImplementedError)", "not answered (no check cell ran it)"
    assert scale.top == [(stub, 1), (missing, 1)]
    # totals 3, 1, 1, 0, 2 of 3: 100% is in the last bin, 1/3 in the 30-40% bin, 2/3 in 60-70%
    expected = [0] * N_BINS
    expected[0], expected[3], expected[6], expected[9] = 1, 2, 1, 1
    assert s.histogram == expected and s.max_points == 3.0
    assert s.statuses == {"absent": 1, "graded": 5} and s.missing == ["fay"] and s.unknown == ["zed"]


def test_markdown_gives_shares_of_the_submissions():
    text = render_markdown(summarize(ROWS, TITLES, missing=["fay"]))
    assert "| `99.add` add(a, b) | 40% (2/5) | 40% — You forgot the bias correction.<br>20% — wrong value |" in text
    assert "| 90–100% | 1 |" in text and "## On the roster, no submission (1)" in text


def test_html_is_self_contained_and_escapes_everything_it_shows():
    rows = [dict(ROWS[1], student="<script>alert(1)</script>")]
    rows[0]["exercises"] = {"99.add": dict(ROWS[1]["exercises"]["99.add"], diagnosis="Use <b> & not |x|")}
    page = render_html(summarize(rows, {"99.add": "add(a, b) <i>"}, unknown=["<img src=x onerror=alert(1)>"]))
    assert "<script" not in page and "<img" not in page and "<i>" not in page
    assert "Use &lt;b&gt; &amp; not |x|" in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    urls = set(re.findall(r"(?:https?:)?//[^\s\"')]+", page))
    assert urls == {"http://www.w3.org/2000/svg"}, urls  # the SVG namespace only: nothing is fetched


def test_gradebook_rows_come_from_the_roster_and_other_columns_are_kept(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,student,email\nS1,ana,a@x\nS2,ben,b@x\nS6,fay,f@x\n")
    ids = read_roster_ids(roster)
    assert ids == [("ana", "S1"), ("ben", "S2"), ("fay", "S6")]
    book = tmp_path / "gradebook.csv"
    book.write_text("student_id,student,Notebook 00\nS1,ana,4\nS9,old,1\n")
    rows = [*ROWS, dict(ROWS[0], student="zed", total=3.0)]  # zed submitted but is not on the roster
    write_gradebook(book, rows, ids, "Notebook 01")
    with open(book, newline="") as f:
        table = {r["student_id"]: r for r in csv.DictReader(f)}
    assert list(table["S1"]) == ["student_id", "student", "Notebook 00", "Notebook 01"]
    assert table["S1"]["Notebook 00"] == "4" and table["S1"]["Notebook 01"] == "3"
    assert table["S2"]["Notebook 01"] == "1"
    assert table["S6"]["Notebook 01"] == ""  # absent: empty, the LMS keeps what it has
    assert table["S9"] == {"student_id": "S9", "student": "old", "Notebook 00": "1", "Notebook 01": ""}
    assert "zed" not in {r["student"] for r in table.values()}
    write_gradebook(book, [dict(ROWS[1], total=2.5)], ids, "Notebook 01")  # a regrade replaces the column
    with open(book, newline="") as f:
        assert {r["student_id"]: r["Notebook 01"] for r in csv.DictReader(f)}["S2"] == "2.5"


def test_gradebook_refuses_a_file_of_another_format_and_a_clashing_column(tmp_path):
    book = tmp_path / "g.csv"
    book.write_text("name,score\nana,3\n")
    with pytest.raises(ValueError, match="no 'student_id' column"):
        write_gradebook(book, ROWS, [("ana", "S1")], "Notebook 01")
    assert book.read_text() == "name,score\nana,3\n"
    with pytest.raises(ValueError, match="column needs a name"):
        write_gradebook(tmp_path / "new.csv", ROWS, [("ana", "S1")], "student")


def test_a_roster_with_ids_but_no_student_column_is_refused(tmp_path):
    roster = tmp_path / "r.csv"
    roster.write_text("id,name\nS1,ana\n")
    with pytest.raises(ValueError, match="no 'student' column"):
        read_roster_ids(roster)


def _render_in_chromium(page_html: Path) -> dict:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_outside_ci("playwright is not installed: pip install -e '.[test]'")
    if not os.path.exists("/usr/bin/chromium"):
        skip_outside_ci("Debian's chromium is not installed: apt-get install chromium")
    outside: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else
                       (outside.append(r.request.url), r.abort()))  # fmt: skip
            page.goto(page_html.as_uri())
            seen = {
                "title": page.title(),
                "rows": page.locator("tbody tr").count(),
                "bars": page.locator("svg rect").count(),
                "text": page.inner_text("body"),
                "outside": outside,
            }
            if os.environ.get("GDCOURSE_SCREENSHOT"):
                page.screenshot(path=str(SCREENSHOT), full_page=True)
            return seen
        finally:
            browser.close()


@pytest.mark.slow
def test_grade_writes_the_report_and_the_gradebook_and_only_regrades_one_file(tmp_path, monkeypatch):
    subs = tmp_path / "subs"
    write_submissions(
        subs,
        {
            "ana": _correct_with(),
            "ben": _correct_with(add="def add(a, b):\n    return a - b\ncheck('99.add', add)"),
            "zed": _correct_with(scale="def scale(x, k):\n    return x + k\ncheck('99.scale', scale)"),
        },
    )
    roster = tmp_path / "roster.csv"
    roster.write_text("student,student_id\nana,S1\nben,S2\nfay,S6\n")
    out = tmp_path / "grades" / "01.csv"
    book = tmp_path / "grades" / "gradebook.csv"
    options = {"exercises": REGISTRY, "secret": SECRET, "roster": roster, "quiet": True, **FAST}
    report = grade(subs, out, gradebook=book, assignment="Notebook 01", **options)
    assert report.missing == ["fay"] and report.unknown == ["zed"]
    html_path, md_path = report.class_report
    assert html_path == out.with_name("01.report.html") and md_path.exists()
    markdown = md_path.read_text()
    assert "You added k instead of multiplying by it." in markdown  # zed's planted mistake, counted
    with open(book, newline="") as f:
        assert {r["student"]: r["Notebook 01"] for r in csv.DictReader(f)} == {"ana": "4", "ben": "2", "fay": ""}

    seen = _render_in_chromium(html_path)
    assert seen["title"] == "Class report: 01" and seen["rows"] == len(IDS) and seen["bars"] == N_BINS
    assert "fay" in seen["text"] and "zed" in seen["text"] and not seen["outside"]

    # ben fixes add; --only regrades his file alone and takes the others from the journal
    write_submissions(subs, {"ben": _correct_with()})
    again = grade(subs, out, gradebook=book, assignment="Notebook 01", only="ben.ipynb", **options)
    assert (again.graded, again.reused) == (1, 2)
    assert read_csv(out)["ben"]["total"] == "4" and read_csv(out)["ana"]["total"] == "4"
    with open(book, newline="") as f:
        assert {r["student"]: r["Notebook 01"] for r in csv.DictReader(f)}["ben"] == "4"

    write_submissions(subs, {"new": _correct_with()})  # a file the journal has never seen
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))  # where the refused run's sandbox keeps its folders
    with pytest.raises(GradingError, match="no result for new.ipynb"):
        grade(subs, out, only="ben.ipynb", **options)
    assert list(temp.iterdir()) == []  # the refusal stopped the sandbox: nothing left behind
    monkeypatch.undo()
    with pytest.raises(GradingError, match="no such file"):
        grade(subs, out, only="nobody.ipynb", **options)
    with pytest.raises(GradingError, match="--gradebook needs --roster"):
        grade(subs, out, gradebook=book, **{k: v for k, v in options.items() if k != "roster"})
