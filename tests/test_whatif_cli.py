"""Where and when from the outside: --carbon-month and --carbon-whatif runs, and the whatif CLI."""

from __future__ import annotations

import sys

import pytest

from conftest import load_report
from pytest_carbon import whatif


def test_run_with_month_and_whatif_zones(pytester, monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")
    pytester.makepyfile("import time\ndef test_a():\n    time.sleep(0.1)\n")
    result = pytester.runpytest(
        "--carbon", "--carbon-meter", "constant:cpu=3600W", "--carbon-country", "DEU", "--carbon-month", "4",
        "--carbon-whatif", "FRA,POL", "--carbon-json", "r.json",
    )  # fmt: skip
    result.assert_outcomes(passed=1)
    report = load_report(pytester.path / "r.json")
    i = report["run"]["intensity"]
    assert i["month"] == 4 and i["g_per_kwh"] == pytest.approx(i["annual_g_per_kwh"] * whatif.month_factor("DEU", 4))
    w = report["whatif"]
    assert [p["zone"] for p in w["places"]] == ["FRA", "POL"] and w["months"]["zone"] == "DEU"
    assert w["energy_kwh"] == pytest.approx(report["totals"]["energy_j"]["total"] / 3.6e6)
    result.stdout.fnmatch_lines(["Where: the same energy would emit * in FRA (cleanest of 2, * by car) and * in POL (dirtiest, * by car), *x; when: in DEU, * in Apr and * in Nov (1.46x, 2024 profile). Data: Ember*CC BY 4.0."])


@pytest.mark.parametrize(
    "args, message",
    [
        (["--carbon-month", "13"], "--carbon-month 13: '13' is not a month: give 1 to 12 (or Jan to Dec), or auto for this run's month"),
        (["--carbon-whatif", "FRA,GER"], "--carbon-whatif FRA,GER: zone 'GER' is not in the bundled Ember data*"),
        (["--carbon-month", "3"], "*no monthly data for the world average, so month 3 cannot be applied*"),
    ],
)
def test_bad_month_and_zone_options(pytester, args, message):
    pytester.makepyfile("def test_a(): pass\n")
    result = pytester.runpytest("--carbon", *args)
    assert result.ret == 4
    result.stderr.fnmatch_lines([f"ERROR: pytest-carbon: {message}"])


def test_whatif_cli(pytester, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    pytester.makepyfile("import time\ndef test_a():\n    time.sleep(0.1)\n")
    pytester.runpytest("--carbon", "--carbon-meter", "constant:cpu=3600W", "--carbon-country", "DEU", "--carbon-json", "r.json")
    cli = (sys.executable, "-m", "pytest_carbon.cli", "whatif", "r.json")
    result = pytester.run(*cli, "--country", "FRA", "--country", "POL", "--region", "US-CA", "--month", "1", "--month", "7")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*place*level*Jan*Jul*", "FRA *g/kWh*mg*mg*", "POL *", "US-CA *"])
    result = pytester.run(*cli)
    assert result.ret == 0
    result.stdout.fnmatch_lines(["DEU *"])
    for bad, msg in ((["--country", "GER"], "*zone 'GER' is not in the bundled Ember data*close matches*"), (["--month", "Smarch"], "*'Smarch' is not a month*")):
        result = pytester.run(*cli, *bad)
        assert result.ret == 4
        result.stderr.fnmatch_lines([msg])


def test_a_fractional_month_in_pyproject_stops_the_run(pytester):
    pytester.makepyprojecttoml('[tool.pytest-carbon]\ncountry = "DEU"\nmonth = 1.5\n')
    pytester.makepyfile("def test_a(): pass\n")
    result = pytester.runpytest("--carbon")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["ERROR: pytest-carbon: *month = 1.5: 1.5 is not a month: give 1 to 12 (or Jan to Dec)*"])
