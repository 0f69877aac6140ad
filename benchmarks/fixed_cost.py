"""What an installed pytest-carbon costs a pytest run: idle, and measuring one test.

Each configuration runs a one-test suite in a fresh ``python -m pytest`` process; a round runs
each configuration once, in an order rotated from round to round, and what a configuration adds
is the median over rounds of its run minus plain pytest's in the same round, so that drift in
the machine's speed between rounds cancels. The cost is CPU time (user + system of the child
process, from ``os.wait4``), which a busy or noisy machine disturbs far less than wall time.
Bytecode is cached, as after ``pip install``.
Plain pytest is the plugin disabled with ``-p no:carbon``; the others:

* installed, not asked: a suite that neither passes a ``--carbon`` option nor has a
  ``[tool.pytest-carbon]`` table (the plugin must stay out of the way: target 5 ms or less);
* ``--carbon`` with a ``constant:`` meter, and with the default meters (the fixed cost of an
  active run: target 100 ms or less).

    python benchmarks/fixed_cost.py [--runs 11]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from overhead import bytecode_env  # noqa: E402

CONFIGS = {
    "plain pytest (-p no:carbon)": ["-p", "no:carbon"],
    "installed, not asked": [],
    "--carbon constant:cpu=10W": ["--carbon", "--carbon-meter", "constant:cpu=10W"],
    "--carbon (auto meters)": ["--carbon"],
}


def cpu_ms(args: list[str], cwd: Path) -> float:
    """User + system CPU time of one pytest process, in ms."""
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=bytecode_env())
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}")
    return (usage.ru_utime + usage.ru_stime) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=11)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "test_one.py").write_text("def test_one():\n    pass\n")
        (root / "pyproject.toml").write_text("[tool.pytest.ini_options]\naddopts = ''\n")
        for a in CONFIGS.values():  # warm the file cache and write the .pyc files (bytecode_env)
            cpu_ms(a, root)
        samples: dict[str, list[float]] = {k: [] for k in CONFIGS}
        names = list(CONFIGS)
        for r in range(args.runs):
            for name in names[r % len(names):] + names[: r % len(names)]:  # order rotated: none always first
                samples[name].append(cpu_ms(CONFIGS[name], root))
    plain = samples[names[0]]
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
          f"{args.runs} rounds of the four runs (order rotated), CPU time (user + system) of a one-test pytest run,"
          " bytecode cached; added: the median over rounds of the run minus plain pytest's in the same round")  # fmt: skip
    print("| configuration | median CPU | min CPU | added (median of rounds) | added, interquartile range |")
    print("|---|--:|--:|--:|--:|")
    for name, xs in samples.items():
        med = statistics.median(xs)
        if name == names[0]:
            print(f"| {name} | {med:.1f} ms | {min(xs):.1f} ms | | |")
            continue
        diffs = [x - p for x, p in zip(xs, plain)]
        q = statistics.quantiles(diffs, n=4) if len(diffs) >= 2 else [diffs[0]] * 3
        print(f"| {name} | {med:.1f} ms | {min(xs):.1f} ms | {statistics.median(diffs):+.1f} ms | {q[0]:+.1f} to {q[2]:+.1f} ms |")

if __name__ == "__main__":
    main()
