"""Grading on a Dask distributed cluster (``scheduler=``): the same results as a local run, nothing lost or doubled.

A ``LocalCluster`` of 2 single-threaded worker processes grades a class with the test registry of
tests/test_grading.py; the CSV must equal, byte for byte, the CSV of a local ``jobs=1`` run with the same
secret.  Then one Dask worker process is SIGKILLed while it grades: Dask reruns its task on the other worker,
and every submission must still be in the journal exactly once and the CSV must be the same again.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time

import pytest
from conftest import require
from test_grading import FAST, REGISTRY, SECRET, _correct_with, write_submissions

from gdcourse.grading import cluster
from gdcourse.grading.runner import GradingError, grade

pytestmark = pytest.mark.slow

SLOW_ADD = "import time\ntime.sleep(1.5)\ndef add(a, b):\n    return a + b\ncheck('99.add', add)"


def _class(folder, n=6, slow=False):
    subs = {}
    for i in range(n):
        if i % 3 == 1:
            subs[f"s{i}"] = _correct_with(add="def add(a, b):\n    return a - b\ncheck('99.add', add)")
        else:
            subs[f"s{i}"] = _correct_with(add=SLOW_ADD) if slow else _correct_with()
    write_submissions(folder, subs)


def _journal_files(path):
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [e["file"] for e in lines if e.get("type") == "result"]


def test_a_local_cluster_grades_like_a_local_run(tmp_path):
    require("distributed")
    _class(tmp_path / "subs")
    options = {"exercises": REGISTRY, "secret": SECRET, "quiet": True, "class_report": False, **FAST}
    local = grade(tmp_path / "subs", tmp_path / "local.csv", **options)
    dask = grade(tmp_path / "subs", tmp_path / "dask.csv", scheduler="local:2", **options)
    assert dask.graded == local.graded == 6
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()
    assert sorted(_journal_files(tmp_path / "dask.csv.journal")) == sorted(f"s{i}.ipynb" for i in range(6))


def test_a_killed_dask_worker_loses_nothing_and_doubles_nothing(tmp_path, monkeypatch):
    distributed = require("distributed")
    _class(tmp_path / "subs", n=8, slow=True)
    options = {"exercises": REGISTRY, "secret": SECRET, "quiet": True, "class_report": False, **FAST}
    grade(tmp_path / "subs", tmp_path / "local.csv", jobs=2, **options)

    # Start the cluster here, so the test knows its worker processes and can kill one mid-run.
    local_cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = distributed.Client(local_cluster)
    monkeypatch.setattr(cluster, "_client", lambda scheduler: (client, local_cluster))
    killed = []

    def kill_one_worker_while_it_grades():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not killed:
            busy = [w for w, tasks in client.processing().items() if tasks]
            if busy:
                pids = client.run(os.getpid, workers=[busy[0]])
                os.kill(next(iter(pids.values())), signal.SIGKILL)
                killed.append(busy[0])
            time.sleep(0.2)

    killer = threading.Thread(target=kill_one_worker_while_it_grades, daemon=True)
    killer.start()
    report = grade(tmp_path / "subs", tmp_path / "dask.csv", scheduler="local:2", **options)
    killer.join()
    assert killed, "no worker was busy to kill"
    assert report.graded == 8
    files = _journal_files(tmp_path / "dask.csv.journal")
    assert sorted(files) == sorted(f"s{i}.ipynb" for i in range(8)), files  # each once
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()


def test_bad_scheduler_values_are_refused_before_grading(tmp_path):
    require("distributed")
    _class(tmp_path / "subs", n=1)
    options = {"exercises": REGISTRY, "secret": SECRET, "quiet": True, **FAST}
    for bad in ("local:zero", "local:0", "local:-1"):
        with pytest.raises(GradingError, match="local:N needs a number of workers"):
            grade(tmp_path / "subs", tmp_path / "a.csv", scheduler=bad, **options)
    assert not (tmp_path / "a.csv.journal").exists()  # refused before anything was started
