"""Bulk grading throughput: 200 submissions of notebook 00 graded with ``--jobs 2``, sandboxed.

Half the submissions are the solved source notebook, half the untouched student notebook, so both the
full-marks and the all-stubs paths run. Each submission is read and parsed in its own limited process and
runs in its own sandboxed worker, exactly as ``gdcourse grade`` does it. The figure is the *worker time per
submission*: wall time x jobs / submissions.

``--cluster N`` also grades the same submissions on a Dask ``LocalCluster`` of ``N`` single-threaded worker
processes (``gdcourse grade --scheduler local:N``), right after the local run, and reports both throughputs
(issue #20: ``--jobs 2`` vs the cluster on this machine). Writes ``results/grading_cluster.{json,md}``.

``--baseline DIR`` also runs this benchmark from another checkout of the project (for example
``git worktree add /tmp/base <commit>``) right before, on the same machine and the same submissions, and
reports both: absolute seconds move with the machine and its load, the ratio of two runs side by side does
much less. Writes ``results/grading.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common  # noqa: F401 - pins BLAS threads before numpy is imported

from gdcourse.grading import grade

ROOT = Path(__file__).resolve().parents[1]


def run_baseline(checkout: Path, n: int, jobs: int) -> dict:
    """This benchmark as another checkout has it, in a process that imports that checkout's gdcourse."""
    with tempfile.TemporaryDirectory() as out:
        env = {**os.environ, "PYTHONPATH": str(checkout)}
        command = [sys.executable, str(checkout / "benchmarks" / "grading.py"), "--submissions", str(n)]
        subprocess.run([*command, "--jobs", str(jobs), "--out", out], check=True, env=env, capture_output=True)
        payload = json.loads((Path(out) / "grading.json").read_text())
    revision = subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=False).stdout.strip()  # fmt: skip
    return {"revision": revision or str(checkout), **{k: payload[k] for k in ("seconds", "per_submission_s")}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="6 submissions")
    parser.add_argument("--baseline", type=Path, help="another checkout to measure side by side")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--cluster", type=int, default=0, help="also grade on a Dask LocalCluster of N workers")
    args = parser.parse_args()
    n = 6 if args.quick else args.submissions
    load_before = _common.load_average()
    baseline = run_baseline(args.baseline.resolve(), n, args.jobs) if args.baseline else None
    with tempfile.TemporaryDirectory() as tmp:
        subs = Path(tmp) / "submissions"
        subs.mkdir()
        for i in range(n):
            source = ROOT / "notebooks" / ("" if i % 2 == 0 else "student") / "00_start_here.ipynb"
            shutil.copy(source, subs / f"student{i:03d}.ipynb")
        started = time.monotonic()
        report = grade(subs, Path(tmp) / "out" / "scores.csv", jobs=args.jobs, notebooks=["00"],
                       secret="benchmark", quiet=True)  # fmt: skip
        seconds = time.monotonic() - started
        if args.cluster:
            cluster_run = time.monotonic()
            on_cluster = grade(subs, Path(tmp) / "out" / "cluster.csv", scheduler=f"local:{args.cluster}",
                               notebooks=["00"], secret="benchmark", quiet=True)  # fmt: skip
            cluster_seconds = time.monotonic() - cluster_run
            same = (Path(tmp) / "out" / "cluster.csv").read_bytes() == (Path(tmp) / "out" / "scores.csv").read_bytes()
    load_after = _common.load_average()
    totals = sorted(e["total"] for e in report.entries)
    per_submission = seconds / n * args.jobs
    payload = {"submissions": n, "jobs": args.jobs, "seconds": round(seconds, 2), "sandbox": report.sandbox,
               "isolation": report.isolation, "per_submission_s": round(per_submission, 3), "totals": totals,
               "baseline": baseline, "machine": _common.machine(), "load_before": load_before,
               "load_after": load_after}  # fmt: skip
    markdown = (
        "# Bulk grading: notebook 00 submissions\n\n"
        + _common.machine_markdown(payload["machine"], load_before, load_after)
        + f"\n{n} submissions, --jobs {args.jobs}, isolation {report.isolation}: **{seconds:.1f} s** "
        f"({per_submission:.2f} s of a worker per submission); "
        f"{totals.count(max(totals))} with full marks, {totals.count(0.0)} with zero.\n"
    )
    if baseline:
        ratio = per_submission / baseline["per_submission_s"]
        markdown += (
            f"\nSide by side, same machine, same submissions: {baseline['revision']} took {baseline['seconds']:.1f} s "
            f"({baseline['per_submission_s']:.2f} s per submission); this checkout takes **{ratio:.2f}x** that.\n"
        )
    out = args.out or (_common.RESULTS / "quick" if args.quick else _common.RESULTS)
    if args.cluster:
        cluster_payload = {
            "submissions": n, "local_jobs": args.jobs, "local_seconds": round(seconds, 2),
            "cluster_workers": args.cluster, "cluster_seconds": round(cluster_seconds, 2),
            "local_per_minute": round(60 * n / seconds, 1), "cluster_per_minute": round(60 * n / cluster_seconds, 1),
            "same_csv": same, "isolation": on_cluster.isolation, "machine": payload["machine"],
            "load_before": load_before, "load_after": _common.load_average(),
        }  # fmt: skip
        cluster_md = (
            "# Bulk grading on a Dask LocalCluster vs --jobs\n\n"
            + _common.machine_markdown(payload["machine"], load_before, cluster_payload["load_after"])
            + f"\n{n} submissions of notebook 00 (half solved, half stubs), isolation {on_cluster.isolation}, "
            "run one after the other on the same machine:\n\n"
            "| how | seconds | submissions per minute |\n|---|---:|---:|\n"
            f"| `--jobs {args.jobs}` (threads, one worker process each) | {seconds:.1f} | "
            f"{cluster_payload['local_per_minute']} |\n"
            f"| `--scheduler local:{args.cluster}` (Dask LocalCluster) | {cluster_seconds:.1f} | "
            f"{cluster_payload['cluster_per_minute']} |\n\n"
            f"Same CSV byte for byte: {'yes' if same else 'NO'}.\n"
        )
        _common.write_results("grading_cluster", cluster_payload, cluster_md, out)
        print(cluster_md)
    _common.write_results("grading", payload, markdown, out)
    print(markdown)


if __name__ == "__main__":
    main()
