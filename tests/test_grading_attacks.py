"""A class of submissions written by people trying to cheat, break or read the grader, graded as root.

One folder holds every attack reported against ``gdcourse grade`` (sandbox
escape, links and odd entries, colliding names, formula injection, files that
crash or exhaust a parser, feedback used as a side channel) between honest
submissions.  The test grades it in one run inside bubblewrap, checks every row
of the CSV against what it must be, checks that nothing outside the workers
changed, then kills a second grader with SIGKILL halfway and checks that
``--resume`` writes the same CSV and feedback, byte for byte.

The test registry is the one of ``test_grading`` plus ``99.escape``, a value
exercise whose expected answer is the string ``"held"``: the escape submission
answers with the list of everything that worked instead, so a failure shows
what got through (in the journal's ``raw`` detail).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import signal
import time
import unicodedata
from pathlib import Path

from conftest import skip_outside_ci
from test_grading import (
    ANSWER_OK,
    CORRECT,
    HEAD,
    REGISTRY,
    SCALE_OK,
    SECRET,
    _correct_with,
    notebook,
    run_cli,
)

import gdcourse
from gdcourse.exercises.core import Exercise
from gdcourse.grading import report
from gdcourse.grading.runner import grade
from gdcourse.grading.sandbox import bwrap_works

ESCAPE = Exercise("99.escape", "value", "what the sandbox let through", lambda: "held")
ATTACK_REGISTRY = (*REGISTRY, ESCAPE)
REGISTRY_NAME = "test_grading_attacks.ATTACK_REGISTRY"
IDS = ["99.add", "99.scale", "99.answer", "99.escape"]
LIMITS = {"timeout": 60.0, "cell_timeout": 8.0, "exercise_timeout": 6.0, "memory_mb": 768}
FULL = {"99.add": 2, "99.scale": 1, "99.answer": 1, "99.escape": 0}
NOTHING = dict.fromkeys(IDS, 0)
NFC_NAME = unicodedata.normalize("NFC", "josé.ipynb")
NFD_NAME = unicodedata.normalize("NFD", "josé.ipynb")


def escape_cell(victim: Path, outputs: Path, last_year: Path) -> str:
    """Everything a root-started worker could try; the answer lists what worked ("held" when nothing did)."""
    catalog = Path(gdcourse.__file__).resolve().parent / "exercises" / "catalog"
    return f"""
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
got = []
secret_paths = [{str(victim.parent)!r}, {str(outputs)!r}, {str(last_year)!r}]
def note(what):
    got.append(what)
def readable(path):
    try:
        with open(path, 'rb') as f:
            return f.read(1 << 20)
    except OSError:
        return None
with open('/proc/self/status') as f:
    status = dict(line.split(':', 1) for line in f)
if os.getuid() == 0 or os.geteuid() == 0:
    note('runs as root')
for key in ('CapEff', 'CapPrm', 'CapBnd', 'CapAmb', 'CapInh'):
    if int(status[key], 16):
        note('capabilities ' + key)
for path in ['/proc/1/cmdline', '/proc/self/mountinfo', '/proc/self/environ', '/proc/1/environ']:
    data = readable(path) or b''
    for secret in secret_paths:
        if secret.encode() in data:
            note('path of ' + secret + ' in ' + path)
mounts = [line.split()[4] for line in open('/proc/self/mountinfo')]
for mount in sorted(mounts, key=len, reverse=True):
    if libc.umount2(mount.encode(), 2) == 0:
        note('unmounted ' + mount)
if libc.mount(b'none', b'/', None, 32 | 4096, None) == 0:
    note('remounted /')
for path in {[str(victim), str(catalog / "planted.py"), "/dev/planted", str(victim.parent / "new.ipynb")]!r}:
    try:
        with open(path, 'a') as f:
            f.write('# planted')
        note('wrote ' + path)
    except OSError:
        pass
for path in ['/etc/shadow', {str(victim)!r}, {str(last_year / "alice.ipynb")!r}]:
    if readable(path) is not None:
        note('read ' + path)
for folder in secret_paths + ['/root', '/home', '/work', '/srv', '/mnt']:
    try:
        names = os.listdir(folder)
        if [n for n in names if n not in ('.venv', '.pyenv', 'gdcourse', 'main')]:
            note('listed ' + folder)
    except OSError:
        pass
try:
    with open('/dev/shm/fill', 'wb') as f:
        for _ in range(64):
            f.write(b'x' * 2**20)
    note('wrote 64 MB to /dev/shm')
except OSError:
    pass
try:
    os.setuid(0)
    note('setuid 0')
except OSError:
    pass
import matplotlib  # not an attack: the worker, now nobody, must use the font cache the grader built (~1 s each)
if not matplotlib.get_cachedir().startswith(os.environ['HOME']) or not os.listdir(matplotlib.get_cachedir()):
    note('matplotlib cache not usable: ' + matplotlib.get_cachedir())
answer = 'held' if not got else '; '.join(got)
check('99.escape', answer)
"""


def attack_class(root: Path) -> tuple[Path, dict[str, tuple[str, str, dict]]]:
    """Write the class; return its folder and, per file name, (CSV student, status, points)."""
    subs, outputs, last_year = root / "class" / "07", root / "grades", root / "class" / "06"
    subs.mkdir(parents=True)
    last_year.mkdir(parents=True)
    (last_year / "alice.ipynb").write_text(notebook(*CORRECT))
    expected: dict[str, tuple[str, str, dict]] = {}

    def add(name: str, cells: tuple[str, ...] | str | bytes, student: str, status: str, points: dict) -> None:
        data = cells if isinstance(cells, bytes) else (cells if isinstance(cells, str) else notebook(*cells)).encode()
        (subs / name).write_bytes(data)
        expected[name] = (student, status, points)

    add("aaa_control.ipynb", CORRECT, "aaa_control", "ok", FULL)
    add("alice.ipynb", CORRECT, "alice", "ok", FULL)
    add("zzz_control.ipynb", CORRECT, "zzz_control", "ok", FULL)
    add("escape.ipynb", (*CORRECT, escape_cell(subs / "alice.ipynb", outputs, last_year)), "escape", "ok",
        {**FULL, "99.escape": 1})  # fmt: skip
    blank = (HEAD, "def add(a, b):\n    raise NotImplementedError\ncheck('99.add', add)")
    add("blank.ipynb", blank, "blank", "ok", NOTHING)
    # links and odd entries: never followed, never read, each an invalid row
    for name, target in [
        ("mallory.ipynb", "alice.ipynb"),
        ("eve.ipynb", "/etc/shadow"),
        ("zero.ipynb", "/dev/zero"),
        ("mem.ipynb", "/proc/self/mem"),
        ("loop.ipynb", "loop.ipynb"),
        ("dangling.ipynb", "nowhere.ipynb"),
        ("oldclass.ipynb", str(last_year / "alice.ipynb")),
    ]:
        os.symlink(target, subs / name)
        expected[name] = (name[: -len(".ipynb")], "invalid", NOTHING)
    (subs / "folder.ipynb").mkdir()
    expected["folder.ipynb"] = ("folder", "invalid", NOTHING)
    os.mkfifo(subs / "fifo.ipynb")
    expected["fifo.ipynb"] = ("fifo", "invalid", NOTHING)
    # names: normalisation, collisions, formulas, control characters, bytes that are not UTF-8
    add(NFC_NAME, CORRECT, "josé.ipynb (1)" if NFC_NAME.encode() < NFD_NAME.encode() else "josé.ipynb (2)",
        "duplicate", FULL)  # fmt: skip
    add(NFD_NAME, blank, "josé.ipynb (2)" if NFC_NAME.encode() < NFD_NAME.encode() else "josé.ipynb (1)",
        "duplicate", NOTHING)  # fmt: skip
    add("bob.ipynb", CORRECT, "bob.ipynb", "ok", FULL)
    add("bob.json", blank, "bob.json", "ok", NOTHING)
    add("bob.ipynb.ipynb", _correct_with(answer="answer = 41\ncheck('99.answer', answer)"), "bob.ipynb.ipynb", "ok",
        {**FULL, "99.answer": 0})  # fmt: skip
    for name in ("=HYPERLINK(1).ipynb", "+cmd.ipynb", "-2+3.ipynb", "@SUM(1).ipynb"):
        add(name, CORRECT, name[: -len(".ipynb")], "ok", FULL)
    add("red\x1b[31m.ipynb", CORRECT, "red\x1b[31m", "ok", FULL)
    raw_name = os.fsdecode(b"caf\xe9.ipynb")  # Latin-1 bytes: not UTF-8
    add(raw_name, CORRECT, raw_name[: -len(".ipynb")], "ok", FULL)
    # files made to crash, stall or exhaust the grader
    deep = "check('99.add', " + " + ".join(["add"] + ["0"] * 1500) + ")"  # parses, but ast.unparse overflows
    add("deep.ipynb", (HEAD, "def add(a, b):\n    return a + b", deep, SCALE_OK, ANSWER_OK), "deep", "ok",
        {**FULL, "99.add": 0})  # fmt: skip
    add("nested_json.ipynb", "[" * 200_000 + "]" * 200_000, "nested_json", "invalid", NOTHING)
    add("huge_cell.ipynb", (HEAD, "x = 1\n" * 2_500_000, *CORRECT[1:]), "huge_cell", "invalid", NOTHING)
    add("too_big.ipynb", b"{" + b" " * (21 * 2**20) + b"}", "too_big", "invalid", NOTHING)
    add("not_json.ipynb", "this is not JSON {", "not_json", "invalid", NOTHING)
    add("binary.ipynb", bytes(range(256)) * 64, "binary", "invalid", NOTHING)
    # feedback as a side channel: which exception each of 183 cells raises, returned shapes, exit codes, names
    names = sorted(report.SHOWN_EXCEPTIONS - {"SyntaxError", "MemoryError", "RecursionError", "LinAlgError"})
    names += ["UnicodeTranslateError", "BufferError", "EOFError"]
    raising = tuple(f"raise {names[i % len(names)]}('bit {i}')" for i in range(183))
    add("exceptions.ipynb", (*CORRECT, *raising), "exceptions", "ok", FULL)
    shapes = "import numpy as np\ndef add(a, b):\n    return np.zeros((0, int(abs(np.sum(a)) * 1000) + 1))\n"
    add("shapes.ipynb", _correct_with(add=shapes + "check('99.add', add)"), "shapes", "ok", {**FULL, "99.add": 0})
    exits = "import os\ndef scale(x, k):\n    os._exit(int(k * 10) % 256)\ncheck('99.scale', scale)"
    add("exit_code.ipynb", _correct_with(scale=exits), "exit_code", "crashed", {**FULL, "99.scale": 0})
    named = (
        "import numpy as np\ndef add(a, b):\n    raise type(f'Leak_{int(abs(np.sum(a)) * 1e6)}', (Exception,), {})()\n"
        "check('99.add', add)"
    )
    add("class_name.ipynb", _correct_with(add=named), "class_name", "ok", {**FULL, "99.add": 0})
    return subs, expected


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def snapshot(folder: Path) -> dict[str, tuple[str, bytes | str]]:
    """What each entry of the submissions folder is, without following anything."""
    out = {}
    for entry in os.scandir(folder):
        if entry.is_symlink():
            out[entry.name] = ("link", os.readlink(entry.path))
        elif entry.is_file(follow_symlinks=False):
            out[entry.name] = ("file", hashlib.sha256(Path(entry.path).read_bytes()).hexdigest())
        else:
            out[entry.name] = ("other", "")
    return out


def test_a_class_of_attacks_grades_to_the_expected_csv_and_resumes_byte_identically(tmp_path):
    if not bwrap_works():
        skip_outside_ci("bubblewrap (bwrap) does not work here: apt-get install bubblewrap")
    subs, expected = attack_class(tmp_path)
    assert len(expected) == 35  # docs/grading.md quotes this count
    before = snapshot(subs)
    out = tmp_path / "grades" / "07.csv"
    (tmp_path / "grades").mkdir()
    (tmp_path / "grades" / "06.csv").write_text("last assignment's grades\n")
    started = time.monotonic()
    done = grade(subs, out, exercises=ATTACK_REGISTRY, jobs=2, secret=SECRET, sandbox="bwrap", quiet=True, **LIMITS)
    seconds = time.monotonic() - started
    assert done.isolation == "sandboxed"

    rows = {row["student"]: row for row in read_rows(out)}
    assert len(rows) == len(read_rows(out)) == len(expected), "one row per entry, no two rows alike"
    by_file = {e["file"]: e for e in done.entries}
    problems = []
    for name, (student, status, points) in expected.items():
        entry = by_file[name]
        row = rows[report.cell_text(student)]
        got = {i: float(row[i]) for i in IDS}
        if row["status"] != status or got != {i: float(p) for i, p in points.items()}:
            raw = {i: r["raw"] for i, r in entry["exercises"].items() if r["raw"]}
            problems.append(f"{name!r}: {row['status']} {got}, expected {status} {points}; {raw} {entry.get('note')}")
        assert row["file"] == report.cell_text(name)
        assert row["isolation"] == ("sandboxed" if status not in ("invalid",) else "")
    assert not problems, "\n".join(problems)

    # what each attack must have achieved: nothing
    assert snapshot(subs) == before, "a submission changed the submissions folder"
    catalog = Path(gdcourse.__file__).resolve().parent / "exercises" / "catalog"
    assert not (catalog / "planted.py").exists()
    text = out.read_text(encoding="utf-8")
    shadow = Path("/etc/shadow").read_text(errors="replace") if Path("/etc/shadow").exists() else ""
    assert not [field for line in shadow.splitlines() for field in line.split(":") if len(field) > 8 and field in text]
    for row in read_rows(out):  # no cell a spreadsheet would run
        assert not row["student"].startswith(("=", "+", "-", "@")) and not row["file"].startswith(("=", "+", "-", "@"))
        assert all(c.isprintable() for c in row["student"] + row["file"])
    assert rows["'=HYPERLINK(1)"]["status"] == "ok" and rows["bob.ipynb"]["sha256"] != rows["bob.json"]["sha256"]
    assert rows["mallory"]["sha256"] == "" and rows["eve"]["sha256"] == ""
    nfd_row = next(r for r in read_rows(out) if r["file"] != NFC_NAME and r["student"].startswith("josé"))
    assert "\\u0301" in nfd_row["file"], "the two spellings of josé must look different"
    assert (tmp_path / "grades" / "06.csv").read_text() == "last assignment's grades\n"
    outputs = sorted(p.name for p in (tmp_path / "grades").iterdir())
    assert outputs == ["06.csv", "07.csv", "07.csv.journal", "07.feedback", "07.report.html", "07.report.md"]
    class_report = (tmp_path / "grades" / "07.report.html").read_text()  # the instructor's page of a hostile class
    assert "<script" not in class_report.lower() and "Leak_" not in class_report and "onerror" not in class_report

    # feedback carries no channel: the fixed vocabulary, at most three failing cells, no exit status
    feedback = folder_bytes(tmp_path / "grades" / "07.feedback")
    assert len(feedback) == len(expected)
    for name, data in feedback.items():
        for line in data.decode().splitlines():
            if line.startswith("  failed on case"):
                assert line.rsplit(": ", 1)[1] in report.DIFFERENCES or line.rsplit(": ", 1)[1].startswith("raised ")
            if "raised " in line:
                assert line.rsplit("raised ", 1)[1] in {*report.SHOWN_EXCEPTIONS, "an exception"}, (name, line)
    exceptions = feedback["exceptions.txt"].decode()
    assert exceptions.count("  code cell ") == report.MAX_CELLS_LISTED and "  and more" in exceptions
    assert "got (0," not in feedback["shapes.txt"].decode()
    assert "shape differs from the expected one" in feedback["shapes.txt"].decode()
    assert "raised an exception" in feedback["class_name.txt"].decode()
    assert "Leak_" not in b"".join(feedback.values()).decode()
    assert "exit status" not in feedback["exit_code.txt"].decode()

    # a second grader killed halfway, then resumed: the same CSV and feedback, byte for byte
    killed = tmp_path / "again" / "07.csv"
    options = ["--secret", SECRET, "--sandbox", "bwrap", "--jobs", "2", "--memory-mb", "768"]
    options += ["--timeout", "60", "--cell-timeout", "8", "--exercise-timeout", "6"]
    scratch = tmp_path / "tmp"  # the killed grader's temporary files (its font cache) stay in the test's folder
    grader = run_cli(str(subs), "-o", str(killed), "-q", *options, registry=REGISTRY_NAME, tmp=scratch)
    journal = Path(str(killed) + ".journal")
    end = time.monotonic() + seconds + 60
    while time.monotonic() < end and grader.poll() is None:
        if journal.exists() and journal.read_text().count("\n") >= 1 + len(expected) // 3:
            break
        time.sleep(0.05)
    assert grader.poll() is None, grader.communicate()[1]
    grader.send_signal(signal.SIGKILL)
    grader.wait()
    assert not killed.exists()
    resumed = run_cli(str(subs), "-o", str(killed), "--resume", *options, registry=REGISTRY_NAME, tmp=scratch)
    _, err = resumed.communicate(timeout=seconds * 3 + 120)
    assert resumed.returncode == 0, err
    assert "from the journal" in err
    assert killed.read_bytes() == out.read_bytes()
    assert folder_bytes(tmp_path / "again" / "07.feedback") == feedback
    lines = [json.loads(line) for line in journal.read_text().splitlines()]
    assert len(lines) == 1 + len(expected) and len({e["file"] for e in lines[1:]}) == len(expected)
