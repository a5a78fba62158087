"""The ``gdcourse`` command: ``doctor``, ``assign``, ``grade``, ``slides``, ``site``, ``bench``.

Each subcommand lives in its own module exposing ``add_arguments(parser)`` and
``run(args) -> int``; the module is imported only when its subcommand runs.
"""

from __future__ import annotations

import argparse
import importlib
import sys

__all__ = ["main"]

SUBCOMMANDS = {
    "doctor": ("gdcourse.doctor", "check this machine can run the course and say how to fix what is missing"),
    "assign": ("gdcourse.tools.assign", "generate student notebooks (solutions stripped) from the source notebooks"),
    "grade": ("gdcourse.grading", "grade a folder of submitted notebooks in isolated workers into a CSV"),
    "slides": ("gdcourse.tools.slides", "build reveal.js slide decks of the notebooks (offline) into build/slides"),
    "site": ("gdcourse.tools.site", "build the course website (Sphinx, offline) into build/site"),
    "bench": ("gdcourse.tools.bench", "run the side-by-side benchmarks of a source checkout (benchmarks/run_all.py)"),
}


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen subcommand; returns the exit status."""
    parser = argparse.ArgumentParser(prog="gdcourse", description="A course on gradient descent.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in SUBCOMMANDS.items():
        sub = commands.add_parser(name, help=help_text, description=help_text)
        if name in (argv or sys.argv[1:])[:1]:  # import only the module that will run
            importlib.import_module(module).add_arguments(sub)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    return int(importlib.import_module(SUBCOMMANDS[args.command][0]).run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
