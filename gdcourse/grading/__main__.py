"""``python -m gdcourse.grading SUBMISSIONS/ -o scores.csv``: the same as ``gdcourse grade``."""

from __future__ import annotations

import argparse
import sys

from gdcourse.grading import add_arguments, run


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and grade."""
    parser = argparse.ArgumentParser(prog="gdcourse grade", description="Grade a folder of submitted notebooks.")
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
