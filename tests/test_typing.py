"""The package type-checks with mypy (the configuration is in pyproject.toml's [tool.mypy])."""

import subprocess
import sys
from pathlib import Path

from conftest import require

ROOT = Path(__file__).resolve().parents[1]


def test_mypy_is_clean():
    require("mypy")  # part of the test extra: pip install -e '.[test]'
    # This interpreter's mypy, so it sees the packages installed next to gdcourse. About 20 s on a cold cache.
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "gdcourse"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
