"""``gdcourse bench``: run the side-by-side benchmarks of a source checkout (``benchmarks/run_all.py``).

The benchmarks are scripts in the repository's ``benchmarks/`` folder, not part of the installed
package: this command finds that folder next to the package (an editable install or a clone) and
runs ``benchmarks/run_all.py`` with the current Python.  Results are written to
``benchmarks/results/`` (JSON and markdown) and summarised on the terminal.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

__all__ = ["add_arguments", "find_benchmarks", "run"]


def find_benchmarks() -> Path | None:
    """The ``benchmarks/run_all.py`` of the source checkout this package was imported from, if any."""
    script = Path(__file__).resolve().parents[2] / "benchmarks" / "run_all.py"  # gdcourse/tools/bench.py
    return script if script.is_file() else None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``gdcourse bench``."""
    parser.add_argument("names", nargs="*", metavar="NAME", help="benchmarks to run (default: all; see --list)")
    parser.add_argument("--quick", action="store_true", help="smoke-test sizes: seconds instead of minutes")
    parser.add_argument("--gpu", action="store_true", help="also measure with CuPy and torch CUDA if a GPU is usable")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")


def run(args: argparse.Namespace) -> int:
    """Run ``benchmarks/run_all.py`` with the chosen options; returns its exit status."""
    script = find_benchmarks()
    if script is None:
        print(
            "gdcourse bench needs a source checkout: the benchmarks/ folder is not installed with the package.\n"
            "Clone the course repository, install it with `pip install -e .` from the clone, and run\n"
            "`gdcourse bench` (or `python benchmarks/run_all.py`) there.",
            file=sys.stderr,
        )
        return 2
    cmd = [sys.executable, str(script), *args.names]
    cmd += [flag for flag, on in (("--quick", args.quick), ("--gpu", args.gpu), ("--list", args.list)) if on]
    return subprocess.call(cmd, cwd=script.parents[1])
