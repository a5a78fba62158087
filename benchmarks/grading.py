"""Bulk grading throughput: 50 submissions of notebook 00 graded with ``--jobs 2`` (issue 3: under 2 minutes).

Half the submissions are the solved source notebook, half the untouched student notebook, so both the
full-marks and the all-stubs paths run. Each submission runs in its own sandboxed worker, exactly as
``gdcourse grade`` does it. Writes ``results/grading.{json,md}``.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import _common  # noqa: F401 - pins BLAS threads before numpy is imported

from gdcourse.grading import grade

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--submissions", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="6 submissions")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    n = 6 if args.quick else args.submissions
    load_before = _common.load_average()
    with tempfile.TemporaryDirectory() as tmp:
        subs = Path(tmp) / "submissions"
        subs.mkdir()
        for i in range(n):
            source = ROOT / "notebooks" / ("" if i % 2 == 0 else "student") / "00_start_here.ipynb"
            shutil.copy(source, subs / f"student{i:03d}.ipynb")
        started = time.monotonic()
        report = grade(subs, Path(tmp) / "out" / "scores.csv", jobs=args.jobs, notebooks=["00"],
                       secret="benchmark", quiet=True)
        seconds = time.monotonic() - started
    load_after = _common.load_average()
    totals = sorted(e["total"] for e in report.entries)
    payload = {"submissions": n, "jobs": args.jobs, "seconds": round(seconds, 2), "sandbox": report.sandbox,
               "per_submission_s": round(seconds / n * args.jobs, 3), "totals": totals,
               "machine": _common.machine(), "load_before": load_before, "load_after": load_after}
    markdown = (
        "# Bulk grading: notebook 00 submissions\n\n"
        + _common.machine_markdown(payload["machine"], load_before, load_after)
        + f"\n{n} submissions, --jobs {args.jobs}, sandbox {report.sandbox}: **{seconds:.1f} s** "
        f"({payload['per_submission_s']:.2f} s of a worker per submission); "
        f"{totals.count(max(totals))} with full marks, {totals.count(0.0)} with zero.\n"
    )
    out = args.out or (_common.RESULTS / "quick" if args.quick else _common.RESULTS)
    _common.write_results("grading", payload, markdown, out)
    print(markdown)


if __name__ == "__main__":
    main()
