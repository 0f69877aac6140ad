"""Does a neighbour's load change what a test is charged? Quiet runs against busy ones.

Runs a suite of tests that each do the same fixed CPU work (a pure-Python loop) under the
default meters, in a fresh pytest process per run: quiet, then with N CPU-burning processes
(``python -c "while True: pass"``) running beside it, alternating, for each scope. Prints per
scope the ratio busy / quiet of each test's total energy (median of the runs' per-test
figures), the tests' foreign CPU share, and the wall time.

    python benchmarks/busy.py [--burners 2] [--repeats 3] [--work 15000000] [--scopes process machine]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SUITE = """
import pytest

WORK = {work}

@pytest.mark.parametrize("i", range({tests}))
def test_fixed_work(i):
    x = 0
    for k in range(WORK):
        x += k
"""


def burners(n: int) -> list[subprocess.Popen[bytes]]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        p.kill()
    for p in procs:
        p.wait()


def run(suite: Path, scope: str, out: Path) -> dict[str, object]:
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", "--carbon",
           "--carbon-scope", scope, "--carbon-json", str(out), "--carbon-intensity", "400"]  # fmt: skip
    subprocess.run(cmd, cwd=suite, check=True, stdout=subprocess.DEVNULL)
    report = json.loads(out.read_text())
    return report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--burners", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--tests", type=int, default=4)
    ap.add_argument("--work", type=int, default=15_000_000, help="loop iterations per test")
    ap.add_argument("--scopes", nargs="+", default=["process", "machine"])
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="carbon-busy-"))
    suite = root / "suite"
    suite.mkdir()
    (suite / "test_work.py").write_text(SUITE.format(work=args.work, tests=args.tests))
    (suite / "pytest.ini").write_text("[pytest]\n")
    per: dict[tuple[str, bool], list[dict[str, object]]] = {}
    try:
        for rep in range(args.repeats):
            for scope in args.scopes:
                for busy in (False, True):
                    procs = burners(args.burners) if busy else []
                    try:
                        time.sleep(0.5 if busy else 0.0)  # let the burners get going
                        report = run(suite, scope, root / "r.json")
                    finally:
                        stop(procs)
                    per.setdefault((scope, busy), []).append(report)
                    tests = report["tests"]  # type: ignore[index]
                    e = statistics.median(t["energy_j"]["total"] for t in tests)  # type: ignore[index,union-attr]
                    print(f"  rep {rep + 1} {scope:8s} {'busy ' if busy else 'quiet'}: median test {e:.2f} J", file=sys.stderr)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    def figures(scope: str, busy: bool) -> tuple[list[float], list[float], list[float]]:
        energy, foreign, wall = [], [], []
        for report in per[(scope, busy)]:
            for t in report["tests"]:  # type: ignore[index,union-attr]
                energy.append(t["energy_j"]["total"])
                wall.append(t["duration_s"])
                if t.get("foreign_cpu_share") is not None:
                    foreign.append(t["foreign_cpu_share"])
        return energy, foreign, wall

    print()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()};"
          f" {args.tests} tests x {args.work:,} loop iterations, {args.repeats} runs each, {args.burners} burners")  # fmt: skip
    print("| scope | quiet: energy per test (median) | busy: energy per test (median) | busy / quiet (median) | busy / quiet per test (min-max) | foreign CPU share quiet / busy | wall per test quiet / busy |")
    print("|---|---|---|---|---|---|---|")
    for scope in args.scopes:
        eq, fq, wq = figures(scope, False)
        eb, fb, wb = figures(scope, True)
        mq = statistics.median(eq)
        ratios = [b / mq for b in eb]
        fqs = f"{statistics.median(fq):.0%}" if fq else "n/a"
        fbs = f"{statistics.median(fb):.0%}" if fb else "n/a"
        print(
            f"| {scope} | {mq:.2f} J | {statistics.median(eb):.2f} J | {statistics.median(eb) / mq:.2f}x"
            f" | {min(ratios):.2f}-{max(ratios):.2f}x | {fqs} / {fbs} | {statistics.median(wq):.2f} s / {statistics.median(wb):.2f} s |"
        )


if __name__ == "__main__":
    main()
