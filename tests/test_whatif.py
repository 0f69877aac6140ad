"""Where and when: the bundled Ember data, month scaling, what-if arithmetic, the CLI."""

from __future__ import annotations

import sys

import pytest

from conftest import load_report
from pytest_carbon import intensity, whatif


def test_every_zone_loads_with_a_complete_year():
    countries, states = whatif.zones("countries"), whatif.zones("states")
    assert len(countries) >= 80 and len(states) >= 80
    for z in countries + states:
        year, values = whatif.profile(z)
        assert 2022 <= year <= 2024 and len(values) == 12 and all(v > 0 for v in values)
        assert whatif.level(z).g_per_kwh > 0


def test_germany_2024_lowest_in_april_highest_in_november():
    year, values = whatif.profile("DEU")
    assert year == 2024
    assert whatif.MONTHS[values.index(min(values))] == "Apr"
    assert whatif.MONTHS[values.index(max(values))] == "Nov"
    assert max(values) / min(values) == pytest.approx(1.46, abs=0.005)


def test_month_factor_is_shape_only():
    factors = [whatif.month_factor("DEU", m) for m in range(1, 13)]
    assert sum(factors) / 12 == pytest.approx(1.0)
    assert whatif.month_factor("DEU", 11) == pytest.approx(451.9 / (sum(whatif.profile("DEU")[1]) / 12))


def test_month_scaling_of_the_configured_intensity():
    annual = intensity.resolve(country="DEU")
    nov = intensity.resolve(country="DEU", month=11)
    assert nov.g_per_kwh == pytest.approx(annual.g_per_kwh * whatif.month_factor("DEU", 11))
    assert (nov.month, nov.annual_g_per_kwh) == (11, annual.g_per_kwh)
    assert "x 1.243 for Nov (Ember 2024 monthly profile of DEU: month / annual mean)" in nov.source
    ca = intensity.resolve(country="USA", region="CA", month=1)
    assert "profile of US-CA" in ca.source
    with pytest.raises(intensity.IntensityError, match="no monthly data for the world average"):
        intensity.resolve(month=3)


def test_whatif_arithmetic():
    w = whatif.compute(3.6e6, 1.5, 400.0, "DEU", ["FRA", "POL", "US-CA"])
    assert w["energy_kwh"] == pytest.approx(1.5)
    fra = next(p for p in w["places"] if p["zone"] == "FRA")
    assert fra["co2_g"] == pytest.approx(1.5 * whatif.level("FRA").g_per_kwh)
    assert fra["car_km"] == pytest.approx(fra["co2_g"] / 107.5)
    assert (w["cleanest"]["zone"], w["dirtiest"]["zone"]) == ("FRA", "POL")
    assert w["ratio"] == pytest.approx(whatif.level("POL").g_per_kwh / whatif.level("FRA").g_per_kwh)
    m = w["months"]
    assert (m["best"]["name"], m["worst"]["name"]) == ("Apr", "Nov")
    assert sum(v["g_per_kwh"] for v in m["values"]) / 12 == pytest.approx(400.0)  # scaled to the annual level
    assert m["ratio"] == pytest.approx(1.46, abs=0.005)


def test_small_grids_are_marked_coarse():
    assert whatif.level("LUX").coarse and not whatif.level("DEU").coarse


@pytest.mark.parametrize(
    "value, message",
    [("GER", "zone 'GER' is not in the bundled Ember data*close matches: *GBR*"), ("US-XX", "*not in the bundled Ember data*")],
)
def test_unknown_zones(value, message):
    with pytest.raises(whatif.WhatIfError) as e:
        whatif.check_zone(value)
    import fnmatch

    assert fnmatch.fnmatch(str(e.value), message)


def test_months_by_number_or_name():
    assert whatif.check_month("11") == 11 and whatif.check_month("nov") == 11 and whatif.check_month(3) == 3
    with pytest.raises(whatif.WhatIfError, match="'Noc' is not a month: give 1 to 12 \\(or Jan to Dec\\); close matches: Nov"):
        whatif.check_month("Noc")


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
    result.stdout.fnmatch_lines(["Where: the same energy would emit * in FRA (cleanest of 2, * car-km) and * in POL (dirtiest, * car-km), *x; when: in DEU, * in Apr and * in Nov (1.46x, 2024 profile). Data: Ember*CC BY 4.0."])


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
