"""What pytest-carbon adds per test, timed side by side: plain pytest and a measuring run at once.

On a shared machine the speed drifts between runs by more than the plugin's cost, so
``overhead.py``'s runs, one after another, do not settle a figure of 0.02 ms per test. Here
each repeat starts plain pytest (``-p no:carbon``) and the measuring configuration at the same
instant, each pinned to its own CPU, so that both see the same drift, and swaps the CPUs at the
next repeat so that a faster core favours neither. Per repeat, the difference in CPU time
(user + system, from ``os.wait4``) between the pair at the larger size minus the difference at
the smaller size, over the difference in sizes, is what the plugin adds per test; the table
gives the median and the spread over repeats.

    python benchmarks/side_by_side.py [--sizes 1000 10000] [--repeats 10] [--meter auto|constant]

Needs two CPUs. About 3 minutes at the defaults.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from overhead import bytecode_env, cpu_seconds, make_suite, start  # noqa: E402

PLAIN = ["-p", "no:carbon"]
MEASURING = {
    "auto": ["--carbon"],
    "idle": [],
    "constant": ["--carbon", "--carbon-meter", "constant:cpu=10W"],
}


def pair(suite: Path, measuring: list[str], cpus: tuple[int, int]) -> tuple[float, float]:
    """(CPU seconds of the measuring run minus plain pytest's, run at the same time; plain's)."""
    plain = start(suite, PLAIN, cpus[0])
    carbon = start(suite, measuring, cpus[1])
    c, p = cpu_seconds(carbon), cpu_seconds(plain)
    return c - p, p


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs=2, default=[1000, 10000])
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--meter", choices=sorted(MEASURING), nargs="+", default=["constant", "auto"])
    ap.add_argument("--extra", default="", help="more options for the measuring run, e.g. '--carbon-interval 60'")
    args = ap.parse_args()
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        raise SystemExit("needs two CPUs to run the pair at the same time")
    a, b = cpus[0], cpus[1]
    small, large = sorted(args.sizes)
    root = Path(tempfile.mkdtemp(prefix="carbon-sbs-"))
    try:
        suites = {n: make_suite(root, n, codecarbon=False) for n in (small, large)}
        for suite in suites.values():  # bytecode caches written before anything is timed
            subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--carbon"], cwd=suite, capture_output=True, env=bytecode_env())
        rows = []
        for meter in args.meter:
            per_test: list[float] = []
            fixed: list[float] = []
            relative: list[float] = []
            t0 = time.monotonic()
            for r in range(args.repeats):
                order = (a, b) if r % 2 == 0 else (b, a)
                d_small, p_small = pair(suites[small], MEASURING[meter] + args.extra.split(), order)
                d_large, p_large = pair(suites[large], MEASURING[meter] + args.extra.split(), order)
                slope = (d_large - d_small) / (large - small)
                per_test.append(slope * 1e3)
                relative.append(slope / ((p_large - p_small) / (large - small)))  # of plain pytest's own per test
                fixed.append((d_small - slope * small) * 1e3)
            q = statistics.quantiles(per_test, n=4) if len(per_test) >= 2 else [per_test[0]] * 3
            rows.append((meter, statistics.median(per_test), q[0], q[2], min(per_test), max(per_test), statistics.median(fixed),
                         statistics.median(relative), time.monotonic() - t0))  # fmt: skip
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
          f"sizes {small:,} / {large:,} trivial tests, {args.repeats} repeats, pairs run at once on CPUs {a} and {b}, swapped each repeat")  # fmt: skip
    print("| --carbon meter | added per test (CPU, median) | interquartile range | min - max | of plain pytest's per test (median) | added fixed (CPU, median) | took |")
    print("|---|---|---|---|---|---|---|")
    for meter, med, q1, q3, lo, hi, fx, rel, took in rows:
        print(f"| {meter} | {med:+.4f} ms | {q1:+.4f} to {q3:+.4f} ms | {lo:+.4f} to {hi:+.4f} ms | {rel:+.1%} | {fx:+.0f} ms | {took:.0f} s |")


if __name__ == "__main__":
    main()
