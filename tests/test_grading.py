"""Bulk grading (gdcourse.grading): hostile submissions, isolation, journal and resume, speed.

The exercises here are a small test registry (ids ``99.*``) passed to ``grade``
explicitly, so these tests do not depend on the course's catalog.  Every
submission is a notebook built by the test.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import gdcourse.backend
from gdcourse.exercises import codec
from gdcourse.exercises.core import Case, Exercise, Mistake
from gdcourse.grading import notebook_code as nbc
from gdcourse.grading import report
from gdcourse.grading.assess import make_plan
from gdcourse.grading.journal import Journal
from gdcourse.grading.runner import GradingError, grade
from gdcourse.grading.sandbox import Sandbox, bwrap_works

TESTS = Path(__file__).resolve().parent
SECRET = "test-secret"
FAST = {"timeout": 40.0, "cell_timeout": 4.0, "exercise_timeout": 3.0, "memory_mb": 512}  # generous under load


# --- the test registry ------------------------------------------------------------------------------


def _add(a, b):
    return a + b


def _add_cases(rng):
    return [
        Case((rng.normal(size=3), rng.normal(size=3)), label="two vectors"),
        Case((float(rng.normal()), float(rng.normal())), label="two numbers"),
    ]


def _scale(x, k):
    return k * x


def _scale_cases(rng):
    return [Case((rng.normal(size=4), float(rng.uniform(1.5, 2.5))), label="a vector and a factor")]


ADD = Exercise("99.add", "function", "add(a, b)", _add, make_cases=_add_cases, points=2.0)
SCALE = Exercise(
    "99.scale",
    "function",
    "scale(x, k)",
    _scale,
    make_cases=_scale_cases,
    mistakes=(Mistake("added", "You added k instead of multiplying by it.", lambda x, k: x + k),),
)
ANSWER = Exercise("99.answer", "value", "the answer", lambda: 42.0)
REGISTRY = (ADD, SCALE, ANSWER)
IDS = ["99.add", "99.scale", "99.answer"]


# --- building submissions ---------------------------------------------------------------------------


def notebook(*cells: str) -> str:
    return json.dumps(
        {
            "nbformat": 4,
            "nbformat_minor": 5,
            "metadata": {},
            "cells": [
                {"cell_type": "code", "metadata": {}, "source": c, "outputs": [], "execution_count": None}
                for c in cells
            ]
            + [{"cell_type": "markdown", "metadata": {}, "source": "The end."}],
        }
    )


HEAD = "from gdcourse.exercises import check, hint, solution\nimport numpy as np\n%matplotlib inline"
ADD_OK = "def add(a, b):\n    return a + b\ncheck('99.add', add)"
SCALE_OK = "def scale(x, k):\n    return k * x\ncheck('99.scale', scale)"
ANSWER_OK = "answer = 6 * 7\ncheck('99.answer', answer)\nhint('99.answer')"
DEMO = "def add_wrong(a, b):  # a cell showing a known mistake, checked under the same id\n    return a - b\n"
DEMO += "check('99.add', add_wrong)"
CORRECT = (HEAD, ADD_OK, DEMO, SCALE_OK, ANSWER_OK)


def _correct_with(**replace: str) -> tuple[str, ...]:
    cells = dict(zip(("head", "add", "demo", "scale", "answer"), CORRECT, strict=True))
    cells.update(replace)
    return tuple(cells.values())


def write_submissions(folder: Path, subs: dict[str, tuple[str, ...] | str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, cells in subs.items():
        path = folder / (name if "." in name else f"{name}.ipynb")
        path.write_text(cells if isinstance(cells, str) else notebook(*cells))


def read_csv(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


def processes_with(marker: str) -> list[int]:
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                cmdline = f.read()
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in cmdline and state != b"Z":
            found.append(int(entry.name))
    return found


def wait_until_gone(marker: str, seconds: float = 3.0, then_absent_for: float = 0.0) -> list[int]:
    """Processes with ``marker`` still there after ``seconds``, or appearing in the ``then_absent_for`` after."""
    end = time.monotonic() + seconds
    while (left := processes_with(marker)) and time.monotonic() < end:
        time.sleep(0.05)
    end = time.monotonic() + then_absent_for
    while not left and time.monotonic() < end:
        time.sleep(0.05)
        left = processes_with(marker)
    return left


# --- the hostile batch ------------------------------------------------------------------------------


def hostile_batch(
    tmp_path: Path, marker: str, port: int | None = None
) -> tuple[Path, Path, dict[str, tuple[str, ...] | str], dict]:
    """Submissions, and what each must score: (status, {id: points}).

    With ``port`` (a listening socket on the host), two more check what a sandboxed
    worker cannot reach: the network, and the instructor's folders.
    """
    subs_dir, out_csv = tmp_path / "subs", tmp_path / "out" / "scores.csv"
    journal = str(out_csv) + ".journal"
    child = (
        "import os, subprocess, sys\n"
        f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)', '{marker}-child'])\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        f"        os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(60)', '{marker}-daemon'])\n"
        "    os._exit(0)\n"
        "os.waitpid(pid, 0)"
    )
    forged = json.dumps({"t": "result", "id": "99.answer", "source": "check", "timeout": False,
                         "outcomes": [{"value": 42.0}]})  # fmt: skip
    forge = (
        "import os, sys, json\n"
        f"lines = ['0' * 32 + ' ' + {forged!r}, {forged!r}, 'deadbeef' * 4 + ' {{\"t\": \"done\"}}']\n"
        "payload = ('\\n'.join(lines) + '\\n').encode()\n"
        "print(payload.decode()); sys.stdout.flush(); sys.__stdout__.write(payload.decode())\n"
        "os.write(1, payload); os.write(2, payload)\n"
        "for fd in range(3, 256):\n"
        "    try:\n"
        "        os.write(fd, payload)\n"
        "    except OSError:\n"
        "        pass"
    )
    targets = [
        str(out_csv),
        journal,
        str(subs_dir / "aaa_control.ipynb"),
        str(subs_dir / ".." / f"{marker}-pwned.txt"),
        f"../{marker}-escape.txt",
        f"/tmp/{marker}-tmp.txt",
        str(Path.home() / f"{marker}-home.txt"),
    ]
    forged_entry = {"type": "result", "student": "writes", "file": "writes.ipynb", "status": "ok", "total": 99}
    writes = (
        "import os\n"
        f"for path in {targets!r}:\n"
        "    try:\n"
        "        with open(path, 'a') as f:\n"
        f"            f.write({json.dumps(forged_entry)!r} + '\\n')\n"
        "    except OSError:\n"
        "        pass\n"
        f"os.makedirs('../{marker}-dir', exist_ok=True)"
    )
    subs: dict[str, tuple[str, ...] | str] = {
        "aaa_control": CORRECT,
        "correct": CORRECT,
        "partial": _correct_with(
            scale="def scale(x, k):\n    raise ValueError(f'leak {x!r} {k!r}')\ncheck('99.scale', scale)",
            answer="answer = 41\ncheck('99.answer', answer)",
        ),
        "mistake": _correct_with(scale="def scale(x, k):\n    return x + k\ncheck('99.scale', scale)"),
        "blank": (
            HEAD,
            "def add(a, b):\n    raise NotImplementedError\ncheck('99.add', add)",
            "def scale(x, k):\n    raise NotImplementedError\ncheck('99.scale', scale)",
            "answer = ...\ncheck('99.answer', answer)",
        ),
        "deleted_check": (HEAD, "def add(a, b):\n    return a + b", SCALE_OK, ANSWER_OK),
        "syntax": _correct_with(add="def add(a, b)\n    return a + b\ncheck('99.add', add)"),
        "loop": _correct_with(add="def add(a, b):\n    while True:\n        pass\ncheck('99.add', add)"),
        "cell_loop": (HEAD, ADD_OK, "while True:\n    pass", SCALE_OK, ANSWER_OK),
        "sys_exit": (
            "import sys\nsys.exit(1)",
            HEAD,
            ADD_OK,
            "import sys\ndef scale(x, k):\n    sys.exit(0)\ncheck('99.scale', scale)",
            ANSWER_OK,
        ),
        "os_exit": _correct_with(scale="import os\ndef scale(x, k):\n    os._exit(0)\ncheck('99.scale', scale)"),
        "os_exit_top": ("import os\nos._exit(0)", *CORRECT),
        "memory": _correct_with(
            # each would write gigabytes (and time out) without the memory limit; with it, MemoryError at once
            head=HEAD + "\nhog = b'x' * (6 * 2**30)",
            add="def add(a, b):\n    return len(b'x' * (8 * 2**30)) + a + b\ncheck('99.add', add)",
        ),
        "child": (*CORRECT, child),
        "output": (
            *CORRECT,
            "import os, sys\nchunk = 'x' * 2**20\nfor _ in range(50):\n    sys.stdout.write(chunk)\n"
            "for _ in range(25):\n    os.write(1, chunk.encode()); os.write(2, chunk.encode())",
        ),
        "forge": _correct_with(answer="answer = 41\ncheck('99.answer', answer)") + (forge,),
        "cheat": (
            HEAD,
            "import builtins, numpy\nimport gdcourse.exercises.core as core\n"
            "numpy.allclose = numpy.isclose = numpy.array_equal = lambda *a, **k: True\n"
            "builtins.abs = lambda x: 0\nbuiltins.all = lambda x: True\n"
            "core.compare_values = lambda *a, **k: None\n"
            "core.Exercise.assess = lambda self, cases, got: core.Verdict(self.id, True, self.points, self.points)",
            "def add(a, b):\n    return a * 0\ncheck('99.add', add)",
            "def scale(x, k):\n    return x\ncheck('99.scale', scale)",
            ANSWER_OK,
        ),
        "writes": (*CORRECT, writes),
        "not_json": "this is not JSON {",
        "not_notebook": json.dumps({"hello": "world"}),
        "zzz_control": CORRECT,
    }
    full = {"99.add": 2, "99.scale": 1, "99.answer": 1}
    if port is not None:  # answer is 42 (1 point) only when nothing could be reached
        network = (
            "import socket\nanswer = 42\ntry:\n"
            f"    socket.create_connection(('127.0.0.1', {port}), timeout=1).close()\n    answer = 0\n"
            "except OSError:\n    pass\ncheck('99.answer', answer)"
        )
        secrets_ = [subs_dir / "aaa_control.ipynb", out_csv.parent / "old-notes.txt", TESTS / "test_grading.py"]
        secrets_ += [Path(gdcourse.backend.__file__).resolve().parents[1] / "pyproject.toml"]
        snoop = (
            f"import os\nanswer = 42\nfor path in {[str(p) for p in secrets_]!r}:\n    try:\n"
            "        if os.listdir(path) if os.path.isdir(path) else open(path).read():\n            answer = 0\n"
            "    except OSError:\n        pass\ncheck('99.answer', answer)"
        )
        subs["network"] = _correct_with(answer=network)
        subs["snoop"] = _correct_with(answer=snoop)
    expected = {
        "aaa_control": ("ok", full),
        "correct": ("ok", full),
        "partial": ("ok", {"99.add": 2, "99.scale": 0, "99.answer": 0}),
        "mistake": ("ok", {"99.add": 2, "99.scale": 0, "99.answer": 1}),
        "blank": ("ok", {"99.add": 0, "99.scale": 0, "99.answer": 0}),
        "deleted_check": ("ok", {"99.add": 0, "99.scale": 1, "99.answer": 1}),
        "syntax": ("ok", {"99.add": 0, "99.scale": 1, "99.answer": 1}),
        "loop": ("timeout", {"99.add": 0, "99.scale": 1, "99.answer": 1}),
        "cell_loop": ("timeout", full),
        "sys_exit": ("ok", {"99.add": 2, "99.scale": 0, "99.answer": 1}),
        "os_exit": ("crashed", {"99.add": 2, "99.scale": 0, "99.answer": 1}),
        "os_exit_top": ("crashed", {"99.add": 0, "99.scale": 0, "99.answer": 0}),
        "memory": ("ok", {"99.add": 0, "99.scale": 1, "99.answer": 1}),
        "child": ("ok", full),
        "output": ("ok", full),
        "forge": ("ok", {"99.add": 2, "99.scale": 1, "99.answer": 0}),
        "cheat": ("ok", {"99.add": 0, "99.scale": 0, "99.answer": 1}),
        "writes": ("ok", full),
        "not_json": ("invalid", {"99.add": 0, "99.scale": 0, "99.answer": 0}),
        "not_notebook": ("invalid", {"99.add": 0, "99.scale": 0, "99.answer": 0}),
        "zzz_control": ("ok", full),
    }
    if port is not None:
        expected["network"] = expected["snoop"] = ("ok", full)
    return subs_dir, out_csv, subs, expected


def check_batch(tmp_path: Path, report_, subs_dir: Path, out_csv: Path, subs: dict, expected: dict, marker: str):
    """Every row's status and points, nothing changed or left behind, safe feedback."""
    rows = read_csv(out_csv)
    assert sorted(rows) == sorted(expected), "one row per submission"
    with open(out_csv, newline="") as f:
        assert next(csv.reader(f)) == ["student", "file", "sha256", "status", "isolation", *IDS, "total", "max"]
    problems = []
    for student, (status, points) in expected.items():
        row = rows[student]
        got = {i: float(row[i]) for i in IDS}
        if row["status"] != status or got != {i: float(p) for i, p in points.items()}:
            problems.append(f"{student}: got {row['status']} {got}, expected {status} {points}")
        assert float(row["total"]) == sum(got.values()) and row["max"] == "4"
    assert not problems, "\n".join(problems)
    for name in subs:  # no submission was changed, and the hashes are the files'
        path = next(subs_dir.glob(f"{name}*"))
        assert rows[path.stem]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert rows[path.stem]["file"] == path.name
    # nothing escaped: no file outside the worker's private space, no forged journal entry
    leftovers = [p for p in tmp_path.rglob(f"*{marker}*")] + list(Path("/tmp").glob(f"{marker}*"))
    leftovers += list(Path.home().glob(f"{marker}*"))
    assert not leftovers
    lines = [json.loads(line) for line in Path(str(out_csv) + ".journal").read_text().splitlines()]
    assert lines[0]["type"] == "header" and len(lines) == 1 + len(subs)
    assert sorted(e["student"] for e in lines[1:]) == sorted(expected)
    assert not wait_until_gone(marker), "a process started by a submission survived"
    entries = {e["student"]: e for e in report_.entries}
    assert entries["forge"]["ignored_lines"] >= 1  # the forged lines reached the result channel and were dropped
    assert entries["loop"]["exercises"]["99.add"]["status"] == "timeout"
    assert entries["os_exit"]["exercises"]["99.scale"]["status"] == "crashed"
    assert entries["deleted_check"]["exercises"]["99.add"]["status"] == "missing"
    assert entries["mistake"]["exercises"]["99.scale"]["diagnosis"] == "You added k instead of multiplying by it."
    # feedback: failed case labels and diagnoses, never hidden inputs, expected values or the learner's messages
    feedback = {p.stem: p.read_text() for p in (out_csv.parent / "scores.feedback").glob("*.txt")}
    assert sorted(feedback) == sorted(expected)
    partial = feedback["partial"]
    assert 'failed on case 1 "a vector and a factor": raised ValueError' in partial
    assert "leak" not in partial and "42" not in partial
    assert "You added k instead of multiplying by it." in feedback["mistake"]
    assert 'missing: no check("99.add", ...)' in feedback["deleted_check"]
    assert "SyntaxError, line 1" in feedback["syntax"]
    plan = make_plan(REGISTRY, SECRET)  # the hidden cases of this run, and what the reference makes of them
    secrets_shown = []
    for exercise in REGISTRY:
        cases = plan.cases[exercise.id]
        values = [v for c in cases for a in c.args for v in np.ravel(a)]
        values += [v for o in exercise.outcomes(exercise.planted(exercise.reference), cases) for v in np.ravel(o.value)]
        for v in values:
            secrets_shown += [f"{v:.3f}", f"{v:.2e}"] + ([f"{v:g}"] if abs(v) > 2 else [])
    assert len(secrets_shown) > 20
    for student, text in feedback.items():
        text = text.split("\n", 1)[1]  # the first line holds a prefix of the file's hash
        shown = [s for s in secrets_shown if s in text]
        assert not shown, f"feedback of {student} shows hidden numbers {shown}"


@pytest.fixture
def marker(tmp_path):
    return "gdc" + hashlib.sha256(str(tmp_path).encode()).hexdigest()[:12]


def test_hostile_batch_in_bubblewrap(tmp_path, marker):
    if not bwrap_works():
        if os.environ.get("CI"):  # CI installs Debian's bubblewrap: the sandboxed run must be tested there
            pytest.fail("bubblewrap (bwrap) does not work on this CI machine; .ci/run installs it")
        pytest.skip("bubblewrap does not work here: apt-get install bubblewrap (the fallback is tested below)")
    with socket.create_server(("127.0.0.1", 0)) as server:
        subs_dir, out_csv, subs, expected = hostile_batch(tmp_path, marker, port=server.getsockname()[1])
        write_submissions(subs_dir, subs)
        (out_csv.parent).mkdir(parents=True)
        (out_csv.parent / "old-notes.txt").write_text("instructor's")
        done = grade(subs_dir, out_csv, exercises=REGISTRY, jobs=2, secret=SECRET, sandbox="bwrap", quiet=True, **FAST)
    assert done.sandbox == "bwrap"
    check_batch(tmp_path, done, subs_dir, out_csv, subs, expected, marker)


def test_hostile_batch_without_bubblewrap(tmp_path, marker):
    subs_dir, out_csv, subs, expected = hostile_batch(tmp_path, marker)
    if Sandbox("none", warn=lambda text: None).run_as is None:
        # workers run as this user and can write where it can (documented): not tested here
        del subs["writes"], expected["writes"]
    warnings: list[str] = []
    write_submissions(subs_dir, subs)
    done = grade(
        subs_dir, out_csv, exercises=REGISTRY, jobs=2, secret=SECRET, sandbox="none", warn=warnings.append, **FAST
    )
    assert done.sandbox == "none"
    assert any("WITHOUT the bubblewrap sandbox" in w for w in warnings)
    check_batch(tmp_path, done, subs_dir, out_csv, subs, expected, marker)


# --- journal, interruption and resume ---------------------------------------------------------------


CLI = """
import sys
sys.path.insert(0, {tests!r})
from {module} import {registry} as registry
from gdcourse.exercises import register
for exercise in registry:
    register(exercise, replace=True)
from gdcourse.grading.__main__ import main
sys.exit(main(sys.argv[1:]))
"""


def run_cli(*args: str, tmp: Path | None = None, registry: str = "test_grading.REGISTRY") -> subprocess.Popen:
    """The grading CLI, with a test registry, in a process of its own (its temporary files go in ``tmp``)."""
    module, name = registry.rsplit(".", 1)
    code = CLI.format(tests=str(TESTS), module=module, registry=name)
    env = dict(os.environ)
    if tmp is not None:
        tmp.mkdir(exist_ok=True)
        env["TMPDIR"] = str(tmp)
    return subprocess.Popen(
        [sys.executable, "-c", code, *args], stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
    )


def resume_batch(marker: str) -> dict[str, tuple[str, ...]]:
    slow = (
        "import subprocess, sys, time\n"
        f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)', '{marker}'])\n"
        "time.sleep(0.4)"
    )
    subs = {}
    for i in range(8):
        cells = list(CORRECT if i % 2 == 0 else _correct_with(answer="answer = 41\ncheck('99.answer', answer)"))
        subs[f"student{i:02d}"] = (*cells, slow)
    return subs


def test_killed_grader_resumes_to_the_same_csv(tmp_path, marker):
    subs_dir = tmp_path / "subs"
    write_submissions(subs_dir, resume_batch(marker))
    options = ["--secret", SECRET, "--timeout", "40", "--cell-timeout", "4", "--exercise-timeout", "3", "-q"]
    killed_csv = tmp_path / "killed" / "scores.csv"
    journal = Path(str(killed_csv) + ".journal")
    grader = run_cli(str(subs_dir), "-o", str(killed_csv), *options, tmp=tmp_path / "tmp")
    end = time.monotonic() + 60
    while time.monotonic() < end and grader.poll() is None:
        if journal.exists() and journal.read_text().count("\n") >= 3:  # header and two results
            break
        time.sleep(0.02)
    assert grader.poll() is None, grader.communicate()[1]
    grader.send_signal(signal.SIGKILL)
    grader.wait()
    assert not killed_csv.exists()
    # a worker left running would start its child within a few seconds: watch that long
    assert not wait_until_gone(marker, then_absent_for=4.0), "a worker or its child survived the grader's death"
    before = [json.loads(line) for line in journal.read_text().splitlines()]
    assert 2 <= len(before) - 1 < 8
    with open(journal, "ab") as f:  # a line cut short by the kill must not break the resume
        f.write(b'{"type": "result", "student": "stud')

    resumed = run_cli(str(subs_dir), "-o", str(killed_csv), "--resume", *options[:-1], tmp=tmp_path / "tmp")
    _, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err
    assert f"({len(before) - 1} from the journal)" in err
    after = [json.loads(line) for line in journal.read_text().splitlines()]
    assert after[: len(before)] == before  # nothing rewritten
    assert len(after) == 1 + 8  # and nothing graded twice
    assert len({e["file"] for e in after[1:]}) == 8

    fresh_csv = tmp_path / "fresh" / "scores.csv"
    grade(subs_dir, fresh_csv, exercises=REGISTRY, jobs=2, secret=SECRET, quiet=True, **FAST)
    assert killed_csv.read_bytes() == fresh_csv.read_bytes()
    assert not wait_until_gone(marker)
    resumed_feedback = {p.name: p.read_bytes() for p in (killed_csv.parent / "scores.feedback").iterdir()}
    assert sorted(resumed_feedback) == [f"student{i:02d}.txt" for i in range(8)]
    fresh_feedback = {p.name: p.read_bytes() for p in (fresh_csv.parent / "scores.feedback").iterdir()}
    assert resumed_feedback == fresh_feedback  # in notebook order after the resume too, byte for byte


def test_resume_refuses_other_settings(tmp_path):
    subs_dir, out = tmp_path / "subs", tmp_path / "out" / "scores.csv"
    write_submissions(subs_dir, {"a": CORRECT})
    first = grade(subs_dir, out, exercises=REGISTRY, quiet=True, **FAST)
    assert first.graded == 1
    again = grade(subs_dir, out, exercises=REGISTRY, resume=True, quiet=True, **FAST)  # secret kept in the journal
    assert (again.graded, again.reused) == (0, 1)
    with pytest.raises(GradingError, match="secret"):
        grade(subs_dir, out, exercises=REGISTRY, resume=True, secret="another", quiet=True, **FAST)
    with pytest.raises(GradingError, match="other exercises"):
        grade(subs_dir, out, exercises=REGISTRY[:2], notebooks=["99"], resume=True, quiet=True, **FAST)
    (subs_dir / "a.ipynb").write_text(notebook(*_correct_with(answer="answer = 0\ncheck('99.answer', answer)")))
    changed = grade(subs_dir, out, exercises=REGISTRY, resume=True, quiet=True, **FAST)  # a changed file is regraded
    assert (changed.graded, changed.reused) == (1, 0) and changed.entries[0]["total"] == 3


def test_outputs_inside_the_submissions_folder_are_refused(tmp_path):
    write_submissions(tmp_path / "subs", {"a": CORRECT})
    with pytest.raises(GradingError, match="inside the submissions folder"):
        grade(tmp_path / "subs", tmp_path / "subs" / "scores.csv", exercises=REGISTRY, quiet=True)
    with pytest.raises(GradingError, match="inside the submissions folder"):
        grade(tmp_path / "subs", tmp_path / "s.csv", feedback_dir=tmp_path / "subs" / "fb", exercises=REGISTRY)
    with pytest.raises(GradingError, match="no exercises"):
        grade(tmp_path / "subs", tmp_path / "s.csv", exercises=REGISTRY, notebooks=["42"], quiet=True)


def test_an_exercise_whose_cases_cannot_be_sent_is_refused_before_grading(tmp_path):
    write_submissions(tmp_path / "subs", {"a": CORRECT})
    bad = Exercise("99.add", "function", "add", _add, make_cases=lambda rng: [Case((lambda x: x, 1.0))])
    with pytest.raises(GradingError, match="cannot be sent"):
        grade(tmp_path / "subs", tmp_path / "out.csv", exercises=[bad], quiet=True)
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.slow
def test_fifty_small_submissions_with_two_jobs(tmp_path):
    subs = {}
    for i in range(50):
        variant = i % 3
        cells = CORRECT if variant == 0 else _correct_with(add="def add(a, b):\n    return a - b\ncheck('99.add', add)")
        subs[f"s{i:02d}"] = cells if variant != 2 else (*cells, "x = sum(range(10**5))")
    write_submissions(tmp_path / "subs", subs)
    # correctness only: the time is measured in benchmarks/grading.py, never asserted in a unit test
    done = grade(tmp_path / "subs", tmp_path / "out" / "scores.csv", exercises=REGISTRY, jobs=2, quiet=True)
    assert len(done.entries) == 50 and done.counts == {"ok": 50}
    assert sorted(e["total"] for e in done.entries) == [2.0] * 33 + [4.0] * 17


# --- units ------------------------------------------------------------------------------------------


def test_ipython_syntax_and_find_checks():
    code = nbc.load_notebook(
        notebook(
            "%matplotlib inline\nimport numpy as np\n!pip install x\nnp.mean?\nx = 1  # why?",
            "%%time\nfor i in range(2):\n    %time f(i)\ncheck('01.a', f)",
            "%%bash\necho hi",
            "import gdcourse.exercises as ex\nex.check('01.b', answer=g)\ncheck(exercise_id='01.c', answer=h[0])",
            "def broken(:\n    check('01.d', d)",
            "check('01.a', f2)\nmodel.check('01.e', e)\nsolution('01.a')",
            "from gdcourse.exercises import check as c\nc('01.sq', sq)\nc('01.sq', sq_wrong)",
        ).encode()
    )
    # IPython's transformer: magics, shell escapes and help requests become get_ipython() calls, lines kept
    assert code.cells[0].splitlines() == [
        "get_ipython().run_line_magic('matplotlib', 'inline')",
        "import numpy as np",
        "get_ipython().system('pip install x')",
        "get_ipython().run_line_magic('pinfo', 'np.mean')",
        "x = 1  # why?",
    ]
    # the body of a %%time cell stays Python the grader can read (its check is found); %%bash is left to the shell
    assert code.cells[1].splitlines() == [
        "pass  # %%time",
        "for i in range(2):",
        "    get_ipython().run_line_magic('time', 'f(i)')",
        "check('01.a', f)",
    ]
    assert code.cells[2] == "get_ipython().run_cell_magic('bash', '', 'echo hi\\n')\n"
    assert list(code.syntax_errors) == [4] and code.syntax_errors[4].startswith("line 1:")
    checks = nbc.find_checks(code)
    # the last check of an id is graded, unless an earlier one names the exercise (a wrong answer shown after it)
    assert {k: v.expression for k, v in checks.items()} == {"01.a": "f2", "01.b": "g", "01.c": "h[0]", "01.sq": "sq"}
    assert checks["01.a"].site == "5:1:0" and checks["01.sq"].site == "6:2:0"
    rewritten = nbc.rewrite_cell("check('01.a', f)\nhint('01.a')\nx.check(1)", cell=3)
    import ast

    text = ast.unparse(rewritten)
    capture = re.search(r"__gdcourse_capture__\('01\.a', '3:1:0', lambda ?: f\)", text)  # 3.10 writes "lambda :"
    assert capture and "hint" not in text and "x.check(1)" in text


@pytest.mark.parametrize(
    "data, problem",
    [(b"\xff\xfe", "not a JSON"), (b"[1, 2]", "no list of cells"), (b'{"cells": [], "nbformat": 3}', "format")],
)
def test_invalid_notebooks(data, problem):
    with pytest.raises(nbc.InvalidNotebook, match=problem):
        nbc.load_notebook(data)
    with pytest.raises(nbc.InvalidNotebook, match="larger"):
        nbc.load_notebook(b"{}" + b" " * 100, max_bytes=10)


def test_codec_keeps_zero_d_arrays_and_sends_gdcourse_code_only_by_reference():
    for a in (np.array(2.5), np.arange(6.0).reshape(2, 3).T, np.zeros((0, 3), dtype=np.int32)):
        b = codec.loads(codec.dumps(a))
        assert b.shape == a.shape and b.dtype == a.dtype and np.array_equal(a, b)
    part = functools.partial(gdcourse.backend.to_numpy)
    text = codec.dumps([gdcourse.backend.to_numpy, part], refs=True)
    back = codec.loads(text, refs=True)
    assert back[0] is gdcourse.backend.to_numpy and back[1].func is gdcourse.backend.to_numpy
    with pytest.raises(codec.CodecError):
        codec.loads(text)  # the grader reads workers' output without references
    with pytest.raises(codec.CodecError):
        codec.dumps(_add, refs=True)  # not a gdcourse function
    with pytest.raises(codec.CodecError):
        codec.loads('{"__ref__": "os:system"}', refs=True)


def test_codec_rebuilds_gdcourse_dataclasses():
    from gdcourse.exercises.catalog import nb01

    grad = nb01.QuadraticGradient(np.eye(2) * 3, np.array([1.0, -1.0]))
    back = codec.loads(codec.dumps(grad, refs=True), refs=True)
    assert type(back) is nb01.QuadraticGradient and np.allclose(back(np.zeros(2)), grad(np.zeros(2)))


def test_safe_detail_keeps_only_the_fixed_vocabulary():
    assert report.safe_detail("3 of 4 entries differ (largest absolute error 0.5)") == "wrong value"
    assert report.safe_detail("item 1: value differs (largest absolute error 2)") == "wrong value"
    assert report.safe_detail("expected 'b', got 'a'") == "wrong value"
    assert report.safe_detail("expected 42.0, got 41") == "wrong value"
    # the learner chooses the shape, length and type it returns: none of them is shown
    assert report.safe_detail("shape differs: expected (3,), got (0, 17)") == "shape differs from the expected one"
    assert report.safe_detail("item 2: expected 3 items, got 977") == "wrong number of items"
    assert report.safe_detail("expected a number or array, got Leak_0_1234") == "not a number or array"
    assert report.safe_detail("raised ValueError: leak 0.1234") == "raised ValueError"
    assert report.safe_detail("raised Leak_0_1234: boo") == "raised an exception"
    assert report.safe_detail("raised UnicodeTranslateError: x") == "raised an exception"  # built-in, not listed
    # an answer that changed its inputs: feedback does not say which one (the learner's code chooses it)
    assert report.safe_detail("changed its input `theta` in place") == "changed an input in place"
    assert report.safe_detail("item 1: changed its inputs `theta`, `v` in place") == "changed an input in place"
    assert report.safe_detail("close to the expected value — give at least 3 significant digits (rounded)") == (
        "close to the expected value"
    )
    assert report.safe_detail("a complex number, expected a real one") == "complex numbers, expected real ones"
    assert report.safe_detail("complex numbers (dtype complex64), expected real ones") == (
        "complex numbers, expected real ones"
    )
    assert report.safe_detail("2 of 8 entries are NaN where a number was expected") == "wrong value"
    details = ("a", "shape differs: x", "dtype differs: y", "expected 1 items, got 2", "changed its input `x` in place")
    details += ("close to the expected value, but not within its tolerance", "a complex number, expected a real one")
    shown = {report.safe_detail(d) for d in details}
    assert shown <= set(report.DIFFERENCES)
    assert report.format_points(2.0) == "2" and report.format_points(0.5) == "0.5"


def test_journal_drops_a_cut_line(tmp_path):
    log = Journal(tmp_path / "j")
    log.start({"exercises": {"99.a": 1.0}})
    log.append({"type": "result", "file": "a.ipynb", "sha256": "x"})
    log.close()
    with open(tmp_path / "j", "ab") as f:
        f.write(b'{"type": "resu')
    again = Journal(tmp_path / "j")
    assert again.resume()["exercises"] == {"99.a": 1.0}
    assert again.find("a.ipynb", "x") and not again.find("a.ipynb", "y")
    again.append({"type": "result", "file": "b.ipynb", "sha256": "y"})
    again.close()
    assert [json.loads(line)["type"] for line in (tmp_path / "j").read_text().splitlines()] == ["header"] + [
        "result"
    ] * 2


def test_progress_bar_only_on_a_terminal():
    import io
    from collections import Counter

    from gdcourse.grading.progress import Progress

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    screen, pipe = Terminal(), io.StringIO()
    for stream in (screen, pipe):
        bar = Progress(4, stream=stream, width=8)
        bar.update(1, Counter(ok=1), "a.ipynb")
        bar.update(3, Counter(ok=2, timeout=1), "c.ipynb")
        bar.close()
    assert pipe.getvalue() == ""
    assert screen.getvalue().endswith("\r[######..] 3/4  1 timeout  c.ipynb\x1b[K\n")
    quiet = Terminal()
    Progress(4, stream=quiet, enabled=False).update(1, Counter(ok=1))
    assert quiet.getvalue() == ""


def test_ipython_syntax_runs_in_the_worker(tmp_path):
    """``%time``, ``!cmd``, ``%timeit -o`` and ``%%capture`` mean in the worker what they mean in JupyterLab."""
    cells = _correct_with(
        answer="%time answer = 6 * 7\ncheck('99.answer', answer)",
        demo="files = !ls\nr = %timeit -o sum([1, 2])\nassert isinstance(files, list) and r.best >= 0",
        scale="%%capture out\n" + SCALE_OK + "\nprint('quiet')",
    )
    write_submissions(tmp_path / "subs", {"magic": (*cells, "assert out.stdout == 'quiet\\n'")})
    done = grade(
        tmp_path / "subs", tmp_path / "out" / "scores.csv", exercises=REGISTRY, secret=SECRET, sandbox="none",
        quiet=True, **FAST,
    )  # fmt: skip
    row = read_csv(tmp_path / "out" / "scores.csv")["magic"]
    assert row["status"] == "ok" and {i: float(row[i]) for i in IDS} == {"99.add": 2, "99.scale": 1, "99.answer": 1}
    assert done.entries[0]["cells"] == []  # no cell raised


def test_a_stub_that_returns_ellipsis_is_not_answered_yet_in_graded_feedback(tmp_path):
    """``return ...`` and ``answer = ...`` are the stubs' own form: feedback says what the self-check says."""
    cells = _correct_with(
        scale="def scale(x, k):\n    return ...\ncheck('99.scale', scale)",
        answer="answer = ...\ncheck('99.answer', answer)",
    )
    write_submissions(tmp_path / "subs", {"stub": cells})
    grade(
        tmp_path / "subs", tmp_path / "out" / "scores.csv", exercises=REGISTRY, secret=SECRET, sandbox="none",
        quiet=True, class_report=False, **FAST,
    )  # fmt: skip
    text = (tmp_path / "out" / "scores.feedback" / "stub.txt").read_text()
    assert text.count(report.NOT_ANSWERED) == 2 and "raised an exception" not in text
    assert report.safe_detail("raised NotAnswered: the answer is still `...`") == report.NOT_ANSWERED
