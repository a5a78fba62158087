"""The gdcourse command, setup_notebook, and the README's course command."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

import gdcourse
from gdcourse import doctor
from gdcourse.tools import cli

ROOT = Path(__file__).resolve().parents[1]


def test_doctor_reports_and_exits_zero_here(capsys):
    assert cli.main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"\[ok  \] python +Python 3\.\d+", out)
    assert "numpy" in out and "backend" in out and "gpu" in out
    assert out.strip().splitlines()[-1] == "gdcourse doctor: 0 problem(s), 0 warning(s)"


def test_doctor_names_the_fix_for_a_problem(monkeypatch, capsys):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setattr(doctor, "_version", lambda name: None if name == "nbval" else "1.0")
    assert cli.main(["doctor", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "nbval is not installed" in out and 'pip install -e ".[test]"' in out
    assert "MPLBACKEND=Agg" in out and "unset MPLBACKEND" in out
    assert "[ok  ]" not in out  # --quiet prints problems only


def test_doctor_fails_when_a_required_package_is_missing(monkeypatch, capsys):
    monkeypatch.setattr(doctor, "_version", lambda name: None if name == "numpy" else "1.0")
    assert cli.main(["doctor"]) == 1
    assert "numpy is not installed" in capsys.readouterr().out


def test_doctor_runs_as_a_command():
    done = subprocess.run([sys.executable, "-m", "gdcourse", "doctor"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "gdcourse doctor:" in done.stdout


def test_cli_without_command_prints_help(capsys):
    assert cli.main([]) == 2
    assert "doctor" in capsys.readouterr().out


def test_setup_notebook_seeds_and_rounds():
    rng = gdcourse.setup_notebook(seed=3)
    a = rng.normal(size=3), np.random.normal(size=3)  # noqa: NPY002 - the legacy generator is seeded too
    rng = gdcourse.setup_notebook(seed=3)
    b = rng.normal(size=3), np.random.normal(size=3)  # noqa: NPY002
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert np.get_printoptions()["precision"] == 4
    with pytest.raises(ValueError, match="seed"):
        gdcourse.setup_notebook(seed=-1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_readme_course_command_serves_notebook_00(tmp_path):
    """Run the README's course command (`make lab`) and ask the server for notebook 00."""
    readme = (ROOT / "README.md").read_text()
    assert "make lab" in readme
    port, token = _free_port(), "gdcourse-test-token"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "IPYTHON", "MPL"))}
    for var in ("HOME", "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR", "MPLCONFIGDIR"):
        env[var] = str(tmp_path / var.lower())
    args = (
        f"--no-browser --allow-root --ServerApp.ip=127.0.0.1 --ServerApp.port={port} "
        f"--IdentityProvider.token={token}"
    )
    server = subprocess.Popen(
        # -o: take the installed environment as up to date (the test must never reinstall the package)
        ["make", "--no-print-directory", "-o", f"{Path(sys.prefix)}/.gdcourse-installed", "lab",
         f"LAB_ARGS={args}", f"VENV={Path(sys.prefix)}"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert server.poll() is None, "the course command exited before serving"
            assert time.monotonic() < deadline, "JupyterLab did not answer within 90 s"
            time.sleep(0.5)
        url = f"{base}/api/contents/00_start_here.ipynb?token={token}"  # the server is rooted at notebooks/
        with urllib.request.urlopen(url, timeout=10) as r:
            model = json.load(r)
        assert model["type"] == "notebook" and model["name"] == "00_start_here.ipynb"
        assert model["content"]["cells"], "notebook 00 is empty"
        with urllib.request.urlopen(f"{base}/lab/tree/00_start_here.ipynb?token={token}", timeout=10) as r:
            assert r.status == 200 and b"JupyterLab" in r.read()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


def test_setup_notebook_limits_blas_threads():
    from threadpoolctl import threadpool_info, threadpool_limits

    with threadpool_limits(2, user_api="blas"):  # restored afterwards
        gdcourse.setup_notebook(seed=0)
        assert {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"} == {1}
    with pytest.raises(ValueError, match="blas_threads"):
        gdcourse.setup_notebook(seed=0, blas_threads=0)
