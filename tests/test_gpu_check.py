"""benchmarks/gpu_check.py, the one command for a GPU machine, does what it says without a GPU to run it on.

Its steps are replaced by tiny commands here (a real run needs CUDA); what is tested is the logic a GPU
machine relies on: it refuses clearly without a GPU, runs every step even after a failure, keeps each
step's log, and summarises exits and the optimizer ratios.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def gpu_check(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import gpu_check as module

    monkeypatch.setattr(module, "OUT", tmp_path)
    return module


def test_the_real_steps_name_existing_scripts(gpu_check):
    names = [name for name, _, _ in gpu_check.steps()]
    assert names == ["unit", "course", "optimizer"]
    for _, cmd, _env in gpu_check.steps():
        scripts = [a for a in cmd if a.endswith(".py")]
        assert all((ROOT / s).is_file() for s in scripts), cmd
    unit_env = gpu_check.steps()[0][2]
    assert unit_env["GDCOURSE_TEST_BACKENDS"] == "numpy,cupy"
    assert gpu_check.steps()[1][1][-3:-1] == ["cupy", "--out"]


def test_without_a_gpu_it_stops_with_the_reason(gpu_check, monkeypatch, capsys):
    monkeypatch.setattr(gpu_check, "probe", lambda: (None, "CuPy is not installed"))
    assert gpu_check.main([]) == gpu_check.NO_GPU
    assert "no GPU to check here. CuPy is not installed" in capsys.readouterr().err


def test_every_step_runs_and_the_summary_reports_exits_and_ratios(gpu_check, monkeypatch, tmp_path):
    monkeypatch.setattr(gpu_check, "probe", lambda: ("Fake GPU", "1 GPU(s)"))
    steps = [
        ("unit", [sys.executable, "-c", "print('3 passed'); raise SystemExit(3)"], {}),
        ("optimizer", [sys.executable, "-c", "import os; print(os.environ['GDCOURSE_CHECK_ENV'])"],
         {"GDCOURSE_CHECK_ENV": "written"}),
    ]
    monkeypatch.setattr(gpu_check, "steps", lambda: steps)
    ratios = [{"rule": "adam", "size": 10_000_000, "speedup_over_cpu": 61.25, "ratio_to_torch_cuda_fused": 1.31}]
    (tmp_path / "optimizer_step.json").write_text(json.dumps({"gpu": {"ratios": ratios}}))
    assert gpu_check.main([]) == 1  # the first step failed, the second still ran
    report = (tmp_path / "gpu_check.md").read_text()
    assert "# GPU check on Fake GPU" in report
    assert "| unit | 3 |" in report and "`3 passed`" in report
    assert "| optimizer | 0 |" in report and "`written`" in report
    assert "| adam | 10,000,000 | 61.2× | 1.31× |" in report
    assert (tmp_path / "unit.log").read_text() == "3 passed\n"
