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

With ``--at-once``, each configuration's run starts at the same instant as a plain run of its
own, each pinned to its own CPU (swapped each round), so that both see the same drift.

    python benchmarks/fixed_cost.py [--runs 11] [--at-once]
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
from overhead import cpu_seconds, start  # noqa: E402

CONFIGS = {
    "plain pytest (-p no:carbon)": ["-p", "no:carbon"],
    "installed, not asked": [],
    "--carbon constant:cpu=10W": ["--carbon", "--carbon-meter", "constant:cpu=10W"],
    "--carbon (auto meters)": ["--carbon"],
}


def cpu_ms(proc: subprocess.Popen[bytes]) -> float:
    return cpu_seconds(proc) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=11)
    ap.add_argument("--at-once", action="store_true", help="run plain pytest and each configuration at the same instant, on two CPUs")
    args = ap.parse_args()
    cpus = sorted(os.sched_getaffinity(0))[:2]
    if args.at_once and len(cpus) < 2:
        raise SystemExit("--at-once needs two CPUs")
    names = list(CONFIGS)
    samples: dict[str, list[float]] = {k: [] for k in CONFIGS}
    diffs: dict[str, list[float]] = {k: [] for k in names[1:]}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "test_one.py").write_text("def test_one():\n    pass\n")
        (root / "pyproject.toml").write_text("[tool.pytest.ini_options]\naddopts = ''\n")
        for warm in CONFIGS.values():  # warm the file cache and write the .pyc files (bytecode_env)
            cpu_ms(start(root, warm))
        for r in range(args.runs):
            if args.at_once:  # each configuration beside its own plain run, the CPUs swapped each round
                a, b = cpus if r % 2 == 0 else cpus[::-1]
                for name in names[1:]:
                    plain, other = start(root, CONFIGS[names[0]], a), start(root, CONFIGS[name], b)
                    x, p = cpu_ms(other), cpu_ms(plain)
                    samples[name].append(x)
                    samples[names[0]].append(p)
                    diffs[name].append(x - p)
                continue
            order = names[r % len(names) :] + names[: r % len(names)]  # rotated: none always first
            got = {name: cpu_ms(start(root, CONFIGS[name])) for name in order}
            for name in names:
                samples[name].append(got[name])
            for name in names[1:]:
                diffs[name].append(got[name] - got[names[0]])
    how = ("each configuration started at the same instant as a plain run of its own, on CPUs "
           f"{cpus[0]} and {cpus[1]} (swapped each round)") if args.at_once else "the four runs one after another, order rotated"  # fmt: skip
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
          f"{args.runs} rounds: {how}; CPU time (user + system) of a one-test pytest run, bytecode cached;"
          " added: the median over rounds of the run minus plain pytest's in the same round")  # fmt: skip
    print("| configuration | median CPU | min CPU | added (median of rounds) | added, interquartile range |")
    print("|---|--:|--:|--:|--:|")
    for name, xs in samples.items():
        med = statistics.median(xs)
        if name == names[0]:
            print(f"| {name} | {med:.1f} ms | {min(xs):.1f} ms | | |")
            continue
        d = diffs[name]
        q = statistics.quantiles(d, n=4) if len(d) >= 2 else [d[0]] * 3
        print(f"| {name} | {med:.1f} ms | {min(xs):.1f} ms | {statistics.median(d):+.1f} ms | {q[0]:+.1f} to {q[2]:+.1f} ms |")

if __name__ == "__main__":
    main()
