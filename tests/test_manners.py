"""A good neighbour: a suite with its own carbon marker or fixture runs as it did without the plugin."""

from __future__ import annotations

import gc

import pytest

from conftest import load_report

FOREIGN = """
import pytest

@pytest.fixture
def carbon():
    return "C"  # a chemistry suite's own fixture

@pytest.mark.carbon("organic")
def test_benzene(carbon):
    assert carbon == "C"

@pytest.mark.carbon(kind="inorganic")
def test_diamond():
    pass
"""
INI = '[tool.pytest.ini_options]\nmarkers = ["carbon: chemistry tests"]\n'


def test_a_foreign_marker_and_fixture_change_nothing(pytester):
    pytester.makepyprojecttoml(INI)
    pytester.makepyfile(FOREIGN)
    result = pytester.runpytest("--strict-markers")
    result.assert_outcomes(passed=2)
    assert result.ret == 0
    assert "Carbon:" not in result.stdout.str() and "Total:" not in result.stdout.str()
    assert (
        "pytest-carbon: the @pytest.mark.carbon of 2 test(s), e.g. test_a_foreign_marker_and_fixture_change_nothing.py::test_benzene,"
        " has arguments that are not pytest-carbon's (co2=, energy=), so they are not measured; if @pytest.mark.carbon is"
        ' this suite\'s own marker, give pytest-carbon\'s another name (marker = "carbon_budget" under [tool.pytest-carbon],'
        " or --carbon-marker carbon_budget), or turn the plugin off with -p no:carbon"
    ) in result.stdout.str()
    assert pytester.runpytest("-p", "no:carbon").ret == 0


def test_a_foreign_marker_is_an_error_once_the_plugin_is_asked_to_measure(pytester):
    pytester.makepyprojecttoml(INI)
    pytester.makepyfile(FOREIGN)
    result = pytester.runpytest("--carbon")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: pytest-carbon: *test_benzene: @pytest.mark.carbon('organic'): budgets are keywords, e.g.*;"
         " if @pytest.mark.carbon is this suite's own marker, give pytest-carbon's another name*"]
    )  # fmt: skip


def test_a_renamed_marker_measures_and_leaves_the_suites_own_alone(pytester):
    pytester.makepyprojecttoml(INI + '[tool.pytest-carbon]\nmarker = "carbon_budget"\nmeter = "constant:cpu=10W"\njson = "r.json"\n')
    pytester.makepyfile(
        FOREIGN
        + """
@pytest.mark.carbon_budget(energy="1 kJ")
def test_measured():
    pass
"""
    )
    result = pytester.runpytest("--strict-markers")
    result.assert_outcomes(passed=3)
    report = load_report(pytester.path / "r.json")
    assert [t["nodeid"].split("::")[1] for t in report["tests"]] == ["test_measured"]
    assert report["tests"][0]["budget"]["energy_j"] == 1000.0
    bad = pytester.runpytest("--carbon-marker", "9x")
    assert bad.ret == 4
    bad.stderr.fnmatch_lines(["ERROR: pytest-carbon: --carbon-marker 9x: must be a marker name*"])


def test_collect_only_measures_and_prints_nothing(pytester):
    pytester.makepyfile("def test_a(carbon): pass\ndef test_b(): pass\n")
    result = pytester.runpytest("--carbon", "--collect-only", "-q")
    assert result.ret == 0
    out = result.stdout.str()
    assert "Carbon:" not in out and "Total:" not in out and "Intensity:" not in out and "= carbon =" not in out


def test_xdist_run_that_measures_nothing_prints_nothing(pytester):
    pytester.makepyfile("def test_a(): pass\ndef test_b(): pass\n")
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:randomly")
    result.assert_outcomes(passed=2)
    out = result.stdout.str()
    assert "Carbon" not in out and "Intensity" not in out and "Warning: no location" not in out


def test_other_plugins_still_see_every_referrer_after_the_report(pytester):
    # hypothesis's register_random asks gc.get_referrers() during pytest's terminal summary;
    # a heap hidden from the collector (gc.freeze) made it warn, and -W error suites fail.
    pytester.makeconftest(
        """
        import gc

        class Holder:
            pass

        HELD = Holder()

        def pytest_terminal_summary(terminalreporter):
            assert any(r is globals() for r in gc.get_referrers(HELD)), "referrers hidden"
            terminalreporter.write_line("REFERRERS SEEN")
        """
    )
    pytester.makepyfile("def test_a(): pass\n")
    result = pytester.runpytest("--carbon", "--carbon-meter", "constant:cpu=1W")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["REFERRERS SEEN"])


def test_the_collector_is_off_from_the_end_of_the_tests_to_pytest_s_final_collection(pytester):
    # The plugin's end-of-run objects are not garbage; with the collector on they tipped
    # pytest's heap into an extra full collection (70 ms at 10,000 tests) before pytest's
    # own final one. Off for its work and the summaries after it; given back as it was.
    pytester.makeconftest(
        """
        import gc, pytest

        def pytest_carbon_update_json(config, report):
            report["gc_during"] = gc.isenabled()

        def pytest_terminal_summary(terminalreporter):
            terminalreporter.write_line(f"GC IN SUMMARY {gc.isenabled()}")

        @pytest.hookimpl(trylast=True)
        def pytest_unconfigure(config):
            print("GC AFTER", gc.isenabled())
        """
    )
    pytester.makepyfile("def test_a(): pass\n")
    args = ("--carbon", "--carbon-meter", "constant:cpu=1W", "--carbon-json", "r.json", "-s")
    result = pytester.runpytest(*args)
    assert result.ret == 0 and load_report(pytester.path / "r.json")["gc_during"] is False
    result.stdout.fnmatch_lines(["GC IN SUMMARY False", "GC AFTER True*"])
    # A suite that turned the collector off keeps it off (in this process: turned on again after).
    pytester.makeconftest("import gc\ngc.disable()\n" + pytester.path.joinpath("conftest.py").read_text())
    try:
        result = pytester.runpytest(*args)
    finally:
        gc.enable()
    result.stdout.fnmatch_lines(["GC AFTER False*"])


def test_what_the_end_of_the_run_made_waits_for_pytest_s_full_collection_not_a_young_sweep(pytester):
    # With the collector given back as it was left, the first allocation swept everything made
    # while it was off (5-10 ms at one test) just before pytest's full collection swept it again.
    pytester.makeconftest(
        """
        import gc, weakref, pytest

        SEEN = []

        class Cycle:
            pass

        def pytest_terminal_summary(terminalreporter):
            gc.callbacks.append(lambda phase, info: phase == "start" and SEEN.append(info["generation"]))
            c = Cycle()
            c.me = c
            terminalreporter.config.cycle = weakref.ref(c)

        @pytest.hookimpl(trylast=True)
        def pytest_unconfigure(config):
            seen = list(SEEN)
            print("SWEEPS SINCE THE SUMMARY", seen, gc.isenabled())
            gc.collect()
            print("CYCLE COLLECTED", config.cycle() is None)
        """
    )
    pytester.makepyfile("def test_a(): pass\n")
    result = pytester.runpytest("--carbon", "--carbon-meter", "constant:cpu=1W", "-s")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["SWEEPS SINCE THE SUMMARY [] True", "CYCLE COLLECTED True"])


def test_a_suite_s_frozen_objects_stay_frozen(pytester):
    pytester.makeconftest(
        """
        import gc, pytest

        gc.freeze()
        FROZEN = gc.get_freeze_count()

        @pytest.hookimpl(trylast=True)
        def pytest_unconfigure(config):
            print("FROZEN KEPT", FROZEN > 0 and gc.get_freeze_count() > FROZEN // 2)  # some died meanwhile
            gc.unfreeze()
        """
    )
    pytester.makepyfile("def test_a(): pass\n")
    result = pytester.runpytest("--carbon", "--carbon-meter", "constant:cpu=1W", "-s")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["FROZEN KEPT True"])


THIRTY = """
import pytest

@pytest.mark.parametrize("i", range(30))
def test_n(i):
    sum(range(1000 * i))
"""

COUNT_LEFT = """
import gc

def pytest_terminal_summary(terminalreporter):
    results = sum(1 for o in gc.get_objects() if type(o).__name__ == "TestResult")
    entries = sum(1 for o in gc.get_objects() if isinstance(o, dict) and "nodeid" in o and "energy_j" in o)
    terminalreporter.write_line(f"LEFT: {results} results, {entries} entries")
"""


def _table(lines: list[str]) -> list[str]:
    start = next(i for i, line in enumerate(lines) if line.startswith("Carbon: "))
    end = next(i for i, line in enumerate(lines) if line.startswith("Total: "))
    return lines[start:end]


def test_a_run_without_outputs_counts_every_test_and_keeps_only_the_shown_ones(pytester):
    # No output asked for: only the entries the table shows are made, and the run's results
    # are let go before the summary, so later garbage collections do not walk them.
    pytester.makeconftest(COUNT_LEFT)
    pytester.makepyfile(THIRTY)
    result = pytester.runpytest_subprocess("--carbon", "--carbon-top", "3", "-p", "no:carbon_watch")
    assert result.ret == 0
    result.stdout.fnmatch_lines([
        "Carbon: top 3 of 30 measured tests by CO2eq*",
        "~ 30 of 30 measured tests are shorter than their meters' resolution*",
        "LEFT: 0 results, 3 entries",
    ])  # fmt: skip


def test_the_table_of_a_run_with_outputs_is_the_table_of_its_full_report(pytester):
    from pytest_carbon.report.terminal import LOG_WIDTH, render_text

    pytester.makeconftest(COUNT_LEFT)
    pytester.makepyfile(THIRTY)
    result = pytester.runpytest_subprocess("--carbon", "--carbon-top", "3", "--carbon-json", "r.json")
    assert result.ret == 0
    report = load_report(pytester.path / "r.json")
    assert len(report["tests"]) == 30 and report["totals"]["approximate_tests"] == 30
    full = render_text(report, width=LOG_WIDTH, markup=False, top=3).splitlines()
    assert _table(result.stdout.lines) == _table(full)  # drawn from the kept entries and totals
    result.stdout.fnmatch_lines(["LEFT: 0 results, 3 entries"])


def test_plain_tests_are_read_at_their_edges_and_a_test_measuring_phases_every_interval(pytester):
    # A sampler thread that wakes ten times a second costs pytest's thread ~1.6% of its CPU
    # time: with cheap meters and plain tests it reads at the tests' edges and wakes rarely.
    import json

    pytester.makepyfile(
        """
        import time

        def test_plain():
            time.sleep(1.0)

        def test_phases(carbon):
            with carbon.phase("work"):
                time.sleep(1.0)
        """
    )
    result = pytester.runpytest("--carbon", "--carbon-meter", "constant:cpu=10W", "--carbon-interval", "0.05", "--carbon-record", "t.json", "--carbon-json", "r.json", "-p", "no:randomly")
    result.assert_outcomes(passed=2)
    times = [t for t, _ in json.loads((pytester.path / "t.json").read_text())["samples"]["constant"]]
    report = load_report(pytester.path / "r.json")
    plain, phases = (next(t for t in report["tests"] if t["nodeid"].endswith(n)) for n in ("test_plain", "test_phases"))
    # 10 W for 1 s; the test with phases also pays its fixture's first import, so its phase is compared
    assert plain["energy_j"]["total"] == pytest.approx(10.0, rel=0.1)
    assert phases["phases"][0]["energy_j"]["total"] == pytest.approx(10.0, rel=0.1)
    gaps = sorted(b - a for a, b in zip(times, times[1:]))
    dense = sum(1 for g in gaps if g < 0.1)  # readings every 0.05 s: the test with phases
    sparse = sum(1 for g in gaps if 0.2 <= g <= 0.45)  # every 5 intervals (0.25 s): the plain test
    assert dense >= 10, gaps
    assert sparse >= 2, gaps
    # Dense through the whole run would be a reading per 0.05 s of both tests.
    every_interval = (plain["duration_s"] + phases["duration_s"]) / 0.05
    assert len(times) < phases["duration_s"] / 0.05 + plain["duration_s"] / 0.25 + 8 < every_interval, (len(times), every_interval)
