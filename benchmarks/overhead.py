"""What pytest-carbon adds to a test run: per test, fixed, and in memory.

Runs suites of trivial tests (``def test_i(): pass``) at two sizes, each in a fresh
``python -m pytest`` process, under several configurations, alternating them so that drift in
the machine's speed spreads over all of them, and prints a table:

* wall time per size (median of the repeats),
* added cost per test: the slope between the two sizes minus plain pytest's slope,
  from the medians (wall) or least times (CPU) over the repeats; and paired: per repeat, the
  configuration's CPU slope minus plain pytest's in the same repeat, median over repeats,
* fixed added cost: the intercept minus plain pytest's intercept (start-up, summary),
* peak RSS of the pytest process.

Configurations: plain pytest (plugin disabled), ``--carbon`` with the default meters,
``--carbon`` with a ``constant:`` meter, and what users do today without the plugin: a
codecarbon ``OfflineEmissionsTracker`` started and stopped around each test in a conftest
(run at smaller sizes, since it costs ~0.1 s per test).

    python benchmarks/overhead.py [--sizes 1000 10000] [--repeats 3] [--codecarbon-sizes 100 1000]
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

CODECARBON_CONFTEST = """
import pytest
from codecarbon import OfflineEmissionsTracker

@pytest.fixture(autouse=True)
def _codecarbon():
    tracker = OfflineEmissionsTracker(country_iso_code="DEU", save_to_file=False, log_level="error")
    tracker.start()
    yield
    tracker.stop()
"""

CONFIGS = {
    "plain pytest": ["-p", "no:carbon"],
    "--carbon (auto meters)": ["--carbon"],
    "--carbon constant:cpu=10W": ["--carbon", "--carbon-meter", "constant:cpu=10W"],
    "codecarbon tracker per test": ["-p", "no:carbon"],
}


def make_suite(root: Path, n: int, codecarbon: bool) -> Path:
    d = root / f"suite_{n}_{'cc' if codecarbon else 'plain'}"
    if d.exists():
        return d
    d.mkdir(parents=True)
    per_file = 1000
    for f in range(0, n, per_file):
        body = "".join(f"def test_{i}():\n    pass\n\n" for i in range(f, min(n, f + per_file)))
        (d / f"test_gen_{f // per_file}.py").write_text(body)
    (d / "conftest.py").write_text(CODECARBON_CONFTEST if codecarbon else "")
    (d / "pytest.ini").write_text("[pytest]\n")
    return d


def bytecode_env() -> dict[str, str]:
    """This environment with bytecode caching on, as on a user's machine (pip compiles at install).

    With ``PYTHONDONTWRITEBYTECODE`` set, every run compiles again whatever has no current
    ``.pyc`` (an editable install's changed modules, rich, pytest): tens of ms of start-up
    that a user does not pay, and that drowns what is measured here.
    """
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def start(suite: Path, args: list[str], cpu: int | None = None) -> subprocess.Popen[bytes]:
    """A pytest process in ``suite``, output discarded, bytecode cached; pinned to ``cpu`` if given."""
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", *args]
    pin = None if cpu is None else (lambda: os.sched_setaffinity(0, {cpu}))
    return subprocess.Popen(cmd, cwd=suite, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=bytecode_env(), preexec_fn=pin)


def cpu_seconds(proc: subprocess.Popen[bytes]) -> float:
    """User + system CPU time of a finished ``start()`` process (and of what it waited for)."""
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{proc.args!r} failed with {os.waitstatus_to_exitcode(status)}")
    return usage.ru_utime + usage.ru_stime


def run_once(suite: Path, args: list[str]) -> tuple[float, float, float]:
    """(wall seconds, peak RSS MiB, CPU seconds user+sys) of one pytest process."""
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", *args]
    env = bytecode_env()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=suite, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"{cmd} in {suite} failed ({proc.returncode}):\n{err}")
    return wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs=2, default=[1000, 10000])
    ap.add_argument("--codecarbon-sizes", type=int, nargs=2, default=[100, 1000])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--skip-codecarbon", action="store_true")
    args = ap.parse_args()

    root = Path(tempfile.mkdtemp(prefix="carbon-bench-"))
    results: dict[str, dict[int, list[tuple[float, float, float]]]] = {}
    plan = [(name, args.sizes) for name in CONFIGS if name != "codecarbon tracker per test"]
    if not args.skip_codecarbon:
        plan.append(("codecarbon tracker per test", args.codecarbon_sizes))
        plan.insert(0, ("plain pytest ", args.codecarbon_sizes))  # plain baseline at codecarbon's sizes
    try:
        for name, sizes in plan:  # warm-up: writes bytecode caches, fills the page cache
            run_once(make_suite(root, sizes[0], codecarbon=name.startswith("codecarbon")), CONFIGS[name.strip()])
        for rep in range(args.repeats):
            # The order rotates each repeat: a fixed order put plain pytest first every time,
            # and on this machine whichever ran first was measurably faster.
            k = rep % len(plan)
            for name, sizes in plan[k:] + plan[:k]:
                reps = 1 if name == "codecarbon tracker per test" and rep else args.repeats
                if rep >= reps:
                    continue
                for n in sizes:
                    suite = make_suite(root, n, codecarbon=name.startswith("codecarbon"))
                    r = run_once(suite, CONFIGS[name.strip()])
                    results.setdefault(name, {}).setdefault(n, []).append(r)
                    print(f"  rep {rep + 1} {name.strip():28s} n={n:6d}: {r[0]:7.2f} s  {r[1]:6.0f} MiB  cpu {r[2]:7.2f} s", file=sys.stderr)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    def paired(name: str, base: str) -> float:
        """Added CPU per test, paired: in each repeat the slope of ``name`` minus plain pytest's
        slope in the same repeat (runs alternate, so both saw the machine at the same speed),
        then the median over repeats. Robust to the machine's speed drifting between repeats."""
        by, bb = results[name], results[base]
        (n1, n2) = sorted(by)
        diffs = [
            ((c2 - c1) - (d2 - d1)) / (n2 - n1)
            for (_, _, c1), (_, _, c2), (_, _, d1), (_, _, d2) in zip(by[n1], by[n2], bb[n1], bb[n2])
        ]
        return statistics.median(diffs)

    def fit(name: str, cpu: bool = False) -> tuple[float, float, dict[int, float], float]:
        """Line through the two sizes: median wall time, or (cpu=True) least CPU time."""
        by = results[name]
        (n1, n2) = sorted(by)
        if cpu:
            t1, t2 = min(c for _, _, c in by[n1]), min(c for _, _, c in by[n2])
        else:
            t1, t2 = statistics.median(w for w, _, _ in by[n1]), statistics.median(w for w, _, _ in by[n2])
        slope = (t2 - t1) / (n2 - n1)
        rss = max(m for runs in by.values() for _, m, _ in runs)
        return slope, t1 - slope * n1, {n1: t1, n2: t2}, rss

    print()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    head = (
        f"| configuration | sizes (tests) | wall time (median of {args.repeats}) | added per test (wall) | added fixed (wall)"
        " | CPU time (least) | added per test (CPU) | added fixed (CPU) | added per test (CPU, paired median) | peak RSS |"
    )
    print(head)
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, _ in plan:
        base = "plain pytest " if name == "codecarbon tracker per test" else "plain pytest"
        row = [name.strip()]
        for cpu in (False, True):
            slope, icpt, times, rss = fit(name, cpu)
            bslope, bicpt, _, _ = fit(base, cpu)
            if not cpu:
                row.append(" / ".join(f"{n:,}" for n in times))
            row.append(" / ".join(f"{t:.2f} s" for t in times.values()))
            row.append("-" if name.startswith("plain") else f"{(slope - bslope) * 1e3:+.4f} ms")
            row.append("-" if name.startswith("plain") else f"{(icpt - bicpt) * 1e3:+.0f} ms")
        row.append("-" if name.startswith("plain") else f"{paired(name, base) * 1e3:+.4f} ms")
        row.append(f"{rss:.0f} MiB")
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
