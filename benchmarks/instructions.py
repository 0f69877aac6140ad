"""What pytest-carbon adds per test, in instructions: deterministic where CPU time is not.

Runs suites of trivial tests (``def test_i(): pass``) at two sizes under valgrind's
cachegrind (instruction counts only, no cache simulation), in a fresh ``python -m pytest``
process per run, and prints the instructions per test (the slope between the sizes) of each
configuration and what it adds to plain pytest's. On a shared machine, CPU times of
identical runs vary by more than the plugin's cost; instruction counts repeat to a few
parts in a million. They leave out what costs time without instructions (a thread waking,
cold caches), which ``overhead.py`` measures, and under valgrind the sampler's readings come
~30 times as often per test, so the measuring configurations read with ``--carbon-interval 60``.

    python benchmarks/instructions.py [--sizes 500 2500] [--jobs 2]

Needs ``valgrind`` on PATH. About 4 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from overhead import bytecode_env, make_suite  # noqa: E402

CONFIGS = {
    "plain pytest (-p no:carbon)": ["-p", "no:carbon"],
    "installed, not asked": [],
    "--carbon constant:cpu=10W": ["--carbon", "--carbon-meter", "constant:cpu=10W", "--carbon-interval", "60"],
    "--carbon (auto meters)": ["--carbon", "--carbon-interval", "60"],
}


# Bytecode caches on, as on a user's machine, and written before anything is counted: a run
# that rewrites and compiles the test modules costs ~100,000 instructions per test more.
ENV = bytecode_env()


def instructions(suite: Path, args: list[str]) -> int:
    cmd = [
        "valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", *args,
    ]  # fmt: skip
    proc = subprocess.run(cmd, cwd=suite, capture_output=True, text=True, env=ENV)
    m = re.search(r"I\s+refs:\s+([\d,]+)", proc.stderr)
    if proc.returncode != 0 or m is None:
        raise SystemExit(f"{cmd} in {suite} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return int(m.group(1).replace(",", ""))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs=2, default=[500, 2500])
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed: apt-get install valgrind")
    root = Path(tempfile.mkdtemp(prefix="carbon-instr-"))
    try:
        suites = {n: make_suite(root, n, codecarbon=False) for n in args.sizes}
        for suite in suites.values():
            subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--carbon"], cwd=suite, capture_output=True, env=ENV)
        jobs = [(name, n) for name in CONFIGS for n in args.sizes]
        with ThreadPoolExecutor(args.jobs) as pool:
            counts = dict(zip(jobs, pool.map(lambda j: instructions(suites[j[1]], CONFIGS[j[0]]), jobs)))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    n1, n2 = sorted(args.sizes)
    per_test = {name: (counts[(name, n2)] - counts[(name, n1)]) / (n2 - n1) for name in CONFIGS}
    base = per_test["plain pytest (-p no:carbon)"]
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}; sizes {n1:,} / {n2:,} tests")
    print("| configuration | instructions (smaller / larger suite) | per test | added per test |")
    print("|---|---|---|---|")
    for name in CONFIGS:
        added = "-" if name.startswith("plain") else f"{per_test[name] - base:+,.0f} ({(per_test[name] - base) / base:+.1%})"
        print(f"| {name} | {counts[(name, n1)]:,} / {counts[(name, n2)]:,} | {per_test[name]:,.0f} | {added} |")


if __name__ == "__main__":
    main()
