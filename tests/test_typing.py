"""The package type-checks with mypy (the configuration is in pyproject.toml's [tool.mypy])."""

import subprocess
import sys
from pathlib import Path

from conftest import require

ROOT = Path(__file__).resolve().parents[1]


def test_mypy_is_clean():
    require("mypy")  # part of the test extra: pip install -e '.[test]'
    # This interpreter's mypy, so it sees the packages installed next to gdcourse. About 20 s on a cold cache.
    # Checked as this interpreter's Python: the packages installed for it may not support older ones (NumPy 2.5's
    # stubs use Python 3.12 syntax and confuse mypy told to check as 3.10); `make test-pythons` runs this test on
    # the oldest supported Python too, where pyproject's python_version applies.
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--python-version", version, "gdcourse"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
