"""The plugin's own per-test cost, measured in-process without pytest's noise around it.

Replays N tests through a CarbonSession's hot-path hooks (logstart, logfinish; the three
reports of each test are appended to a ``stats`` dict as pytest's terminal reporter does, and
the outcome read from there, as in a run), then builds the end-of-session results and their
JSON document as a run that asks for no output does (full results only for the tests the
table shows; the rest counted), and again as an output such as ``--carbon-json`` asks (every
test's result and entry), with a constant meter and with the estimate meter, and prints
microseconds per test for each part. This isolates what the
plugin adds from pytest's own ~0.5 ms per test and from run-to-run noise of whole runs.

    python benchmarks/hot_path.py [--tests 10000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from types import SimpleNamespace

from pytest_carbon.config import Settings
from pytest_carbon.outcomes import FromStats
from pytest_carbon.meters import MeterSpec
from pytest_carbon.results import summary_tests
from pytest_carbon.session import CarbonSession


class Report(SimpleNamespace):
    pass


def one_run(n: int, meter: MeterSpec) -> tuple[float, float, float, float]:
    plugins = SimpleNamespace(get_plugin=lambda name: None, register=lambda plugin, name: None)
    config = SimpleNamespace(option=SimpleNamespace(dist="no"), rootpath=".", pluginmanager=plugins)
    s = CarbonSession(config, Settings(measure_all=True, meters=(meter,), interval_s=0.1, country="DEU"))  # type: ignore[arg-type]
    s.test_budgets = {}
    s._measured = {f"t.py::test_{i}" for i in range(n)}
    s._start_sampler()
    stats: dict[str, list[Report]] = {}
    s._watch = FromStats(stats)  # pytest's terminal reporter keeps the reports in a run
    s._stats = stats  # read inline by the hooks, as in a run
    reports = [
        [Report(nodeid=f"t.py::test_{i}", when=w, outcome="passed", passed=True, failed=False, skipped=False) for w in ("setup", "call", "teardown")]
        for i in range(n)
    ]
    t0 = time.perf_counter()
    for i in range(n):
        nid = f"t.py::test_{i}"
        s.pytest_runtest_logstart(nid, ("t.py", i, f"test_{i}"))
        for r in reports[i]:
            stats.setdefault("passed" if r.when == "call" else "", []).append(r)  # the reporter's work
        s.pytest_runtest_logfinish(nid)
    t1 = time.perf_counter()
    s._stop_sampler()
    gc.disable()  # as the session builds its results: with the collector off
    t2 = time.perf_counter()
    result = s._build(False, 10)  # the results a run without outputs builds: the table's ten
    t3 = time.perf_counter()
    result.to_json(summary_tests(result.tests, 10))  # and its report
    t4 = time.perf_counter()
    s._build(False).to_json()  # every test's result and entry: when an output (--carbon-json...) asks
    t5 = time.perf_counter()
    gc.enable()
    if s._sigterm is not None:
        s._sigterm()
    return tuple(x / n * 1e6 for x in (t1 - t0, t3 - t2, t4 - t3, t5 - t4))  # type: ignore[return-value]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tests", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    print("| meter | hooks per test (on the test's thread) | results per test (at the end), no output asked | its report | total per test | every test's result and JSON entry, when an output asks |")
    print("|---|---|---|---|---|---|")
    for label, spec in (("constant:cpu=10W", MeterSpec("constant", watts=(("cpu", 10.0),))), ("estimate (cpu, ram)", MeterSpec("estimate"))):
        runs = [one_run(args.tests, spec) for _ in range(args.repeats)]
        hot, build, slim, full = (statistics.median(r[i] for r in runs) for i in range(4))
        print(f"| {label} | {hot:.2f} us | {build:.2f} us | {slim:.2f} us | {hot + build + slim:.2f} us | +{full:.2f} us |")
    print(f"\n{args.tests:,} tests, median of {args.repeats} runs.")


if __name__ == "__main__":
    main()
