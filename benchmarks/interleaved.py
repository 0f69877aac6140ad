"""What a measured test costs against an unmeasured one in the same run, test by test.

Whole runs drift with the machine's speed by more than the plugin's cost; within one run they
do not. Here every other trivial test carries the plugin's marker (``@pytest.mark.carbon``,
so the plugin wakes for those only) and the rest an unrelated marker, and a small probe
plugin stamps ``time.perf_counter_ns()`` at each test's ``pytest_runtest_logfinish`` (last of
all hook implementations). The time from one test's end to the next's is that test's whole
protocol; the table gives, per run, the median and the trimmed mean (the slowest 1% left out:
garbage collections, the sampler's readings) of measured minus unmeasured tests. This is the
plugin's hot path as pytest runs it, caches cold between tests; it leaves out what every test
pays alike (the hooks' dispatch), collection and the end of the run (``hot_path.py``,
``side_by_side.py``).

    python benchmarks/interleaved.py [--tests 20000] [--runs 3]
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
from pathlib import Path

PROBE = '''
import json, os, statistics, time
import pytest

ENDS, MEASURED = [], []


def pytest_runtest_logstart(nodeid):
    MEASURED.append(int(nodeid.rsplit("_", 1)[1]) % 2 == 0)


@pytest.hookimpl(trylast=True)
def pytest_runtest_logfinish(nodeid):
    ENDS.append(time.perf_counter_ns())


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    took = [b - a for a, b in zip(ENDS, ENDS[1:])]
    on = sorted(t for t, m in zip(took, MEASURED[1:]) if m)
    off = sorted(t for t, m in zip(took, MEASURED[1:]) if not m)
    trim = lambda v: v[: int(len(v) * 0.99)]  # noqa: E731
    out = {
        "median_on": statistics.median(on), "median_off": statistics.median(off),
        "tmean_on": statistics.fmean(trim(on)), "tmean_off": statistics.fmean(trim(off)),
    }
    with open(os.environ["INTERLEAVED_OUT"], "w") as f:
        json.dump(out, f)
'''


def make_suite(root: Path, n: int) -> Path:
    d = root / f"interleaved_{n}"
    d.mkdir(parents=True)
    for f in range(0, n, 1000):
        body = "import pytest\n\n" + "".join(
            f"@pytest.mark.{'carbon' if i % 2 == 0 else 'other'}\ndef test_{i}():\n    pass\n\n" for i in range(f, min(n, f + 1000))
        )
        (d / f"test_gen_{f // 1000}.py").write_text(body)
    (d / "pytest.ini").write_text("[pytest]\nmarkers =\n    other: unrelated\n")
    (d / "interleaved_probe.py").write_text(PROBE)
    return d


def one_run(suite: Path, out: Path) -> dict[str, float]:
    env = dict(os.environ, INTERLEAVED_OUT=str(out), PYTHONPATH=str(suite))
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", "-p", "interleaved_probe"]
    proc = subprocess.run(cmd, cwd=suite, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"pytest failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return json.loads(out.read_text())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tests", type=int, default=20_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="carbon-interleaved-"))
    try:
        suite = make_suite(root, args.tests)
        print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; {args.tests:,} trivial tests, every other one measured")
        print("| run | unmeasured test (median) | measured minus unmeasured (median) | the same (trimmed mean) |")
        print("|---|---|---|---|")
        for k in range(args.runs):
            r = one_run(suite, root / "out.json")
            print(
                f"| {k + 1} | {r['median_off'] / 1e3:.1f} us | {(r['median_on'] - r['median_off']) / 1e3:+.2f} us"
                f" | {(r['tmean_on'] - r['tmean_off']) / 1e3:+.2f} us |"
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
