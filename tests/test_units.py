import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_carbon.units import (
    CO2_UNITS,
    ENERGY_UNITS,
    UnitError,
    format_co2,
    format_duration,
    format_energy,
    parse_co2_g,
    parse_duration_s,
    parse_energy_j,
    parse_percent,
    parse_power_w,
)


@pytest.mark.parametrize(
    "text, joules",
    [("12 J", 12), ("1kJ", 1e3), ("0.2 kWh", 0.2 * 3.6e6), ("3 Wh", 10800), ("1 MWh", 3.6e9), ("12 wh", 43200), (" 5  KJ ", 5e3)],
)
def test_energy(text, joules):
    assert parse_energy_j(text) == pytest.approx(joules)


@pytest.mark.parametrize("text, grams", [("12 g", 12), ("12g", 12), ("12 G", 12), ("500 mg", 0.5), ("1.5 kg", 1500), ("2 t", 2e6), ("1e3 g", 1000)])
def test_co2(text, grams):
    assert parse_co2_g(text) == pytest.approx(grams)


def test_bare_numbers_take_the_default_unit_only_where_one_exists():
    assert parse_power_w("250") == 250
    assert parse_power_w("0.3 kW") == 300
    assert parse_duration_s("100ms") == pytest.approx(0.1)
    assert parse_duration_s(2) == 2
    assert parse_percent("10%") == pytest.approx(0.1)
    with pytest.raises(UnitError, match=r"'12' has no unit; a CO2eq mass needs one of mg, g, kg, t"):
        parse_co2_g("12")


@pytest.mark.parametrize(
    "bad, message",
    [
        ("12 lbs", r"'12 lbs': unknown unit 'lbs' for a CO2eq mass; accepted units: mg, g, kg, t"),
        ("-1 g", r"'-1 g' must be zero or positive"),
        ("nan g", r"is not a CO2eq mass"),
        ("inf g", r"is not a CO2eq mass"),
        ("twelve g", r"'twelve g' is not a CO2eq mass; use a number with a unit \(mg, g, kg, t\)"),
        ("", r"is not a CO2eq mass"),
        (True, r"True is not a CO2eq mass"),
    ],
)
def test_bad_co2(bad, message):
    with pytest.raises(UnitError, match=message):
        parse_co2_g(bad)


def test_bad_energy_names_the_energy_units():
    with pytest.raises(UnitError, match=r"accepted units: J, kJ, MJ, Wh, kWh, MWh"):
        parse_energy_j("3 cal")


def test_duration_must_be_positive():
    with pytest.raises(UnitError, match="must be positive"):
        parse_duration_s("0s")


@given(st.floats(min_value=0, max_value=1e15, allow_nan=False), st.sampled_from(sorted(ENERGY_UNITS)))
def test_energy_round_trip(x, unit):
    text = f"{x!r} {unit}"
    assert parse_energy_j(text) == pytest.approx(x * ENERGY_UNITS[unit], rel=1e-12)


@given(st.floats(min_value=0, max_value=1e12, allow_nan=False), st.sampled_from(sorted(CO2_UNITS)))
def test_co2_round_trip_any_case_and_spacing(x, unit):
    for text in (f"{x!r}{unit}", f"{x!r} {unit.upper()}", f"  {x!r}   {unit}  "):
        assert parse_co2_g(text) == pytest.approx(x * CO2_UNITS[unit], rel=1e-12)


@given(st.floats(min_value=1e-6, max_value=1e12, allow_nan=False))
def test_formatted_energy_parses_back_within_rounding(j):
    text = format_energy(j, digits=6)
    assert parse_energy_j(text) == pytest.approx(j, rel=1e-5)


@given(st.floats(min_value=1e-6, max_value=1e12, allow_nan=False))
def test_formatted_co2_parses_back_within_rounding(g):
    assert parse_co2_g(format_co2(g, digits=6)) == pytest.approx(g, rel=1e-5)


def test_unknown_is_never_shown_as_zero():
    assert format_energy(None) == "?"
    assert format_co2(None) == "?"
    assert format_duration(None) == "?"
    assert format_energy(0.0) == "0 J"
    assert not math.isnan(parse_energy_j("0 J"))
