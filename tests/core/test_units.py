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


# Written out by hand, not taken from the module: 1 Wh = 3,600 J; MJ and mJ both read as megajoules.
@pytest.mark.parametrize(
    "text, joules",
    [("1 J", 1.0), ("1 kJ", 1000.0), ("1 MJ", 1_000_000.0), ("1 mj", 1_000_000.0), ("1 Wh", 3600.0),
     ("1 kWh", 3_600_000.0), ("1 MWh", 3_600_000_000.0), ("+2.5e1 J", 25.0), (".5 kJ", 500.0), ("7.", 7.0)],
)  # fmt: skip
def test_energy_units_written_out(text, joules):
    if text == "7.":
        with pytest.raises(UnitError, match=r"^'7\.' has no unit; an energy needs one of J, kJ, MJ, Wh, kWh, MWh, e\.g\. '12 kJ'$"):
            parse_energy_j(text)
        return
    assert parse_energy_j(text) == joules


@pytest.mark.parametrize("text, grams", [("1 mg", 0.001), ("1 g", 1.0), ("1 kg", 1000.0), ("1 t", 1_000_000.0)])
def test_co2_units_written_out(text, grams):
    assert parse_co2_g(text) == grams


def test_other_quantities_written_out():
    assert parse_power_w("2 kW") == 2000.0 and parse_power_w(0) == 0.0 and parse_power_w("3") == 3.0
    assert parse_duration_s("2 min") == 120.0 and parse_duration_s("1 h") == 3600.0 and parse_duration_s("250 ms") == 0.25
    assert parse_duration_s("3") == 3.0
    assert parse_percent("12.5%") == 0.125 and parse_percent(5) == 0.05 and parse_percent("0") == 0.0


@pytest.mark.parametrize(
    "parse, text, message",
    [
        (parse_duration_s, "0s", r"^'0s' must be positive$"),
        (parse_power_w, "-1 W", r"^'-1 W' must be zero or positive$"),
        (parse_power_w, "1 MW", r"^'1 MW': unknown unit 'mw' for a power; accepted units: W, kW$"),
        (parse_percent, "10 s", r"^'10 s': unknown unit 's' for a percentage; accepted units: %$"),
        (parse_duration_s, "1 d", r"^'1 d': unknown unit 'd' for a duration; accepted units: ms, s, min, h$"),
        (parse_power_w, "x", r"^'x' is not a power; use a number with a unit \(W, kW\), e\.g\. '12 kW'$"),
        (parse_co2_g, 12, r"^12 has no unit; a CO2eq mass needs one of mg, g, kg, t, e\.g\. '12 g'$"),
        (parse_energy_j, "1e999 J", r"^'1e999 J' is not a finite number$"),
        (parse_energy_j, False, r"^False is not an energy; use a number with a unit"),
    ],
)
def test_refusals_written_out(parse, text, message):
    with pytest.raises(UnitError, match=message):
        parse(text)


def test_count():
    from pytest_carbon.units import parse_count

    assert parse_count("10") == 10 and parse_count(0) == 0 and parse_count(3.0) == 3
    for bad in ("-1", "2.5", "4.0", "x", True, None, float("inf")):
        with pytest.raises(UnitError) as e:
            parse_count(bad, "a whole number of tests")
        assert str(e.value) == f"must be a whole number of tests, 0 or more, not {bad!r}"
    with pytest.raises(UnitError, match=r"^must be a whole number, 0 or more, not -2$"):
        parse_count(-2)


def test_grams_per_joule_and_constants():
    from pytest_carbon.units import CAR_G_PER_KM, J_PER_KWH, J_PER_WH, g_per_j

    assert (J_PER_WH, J_PER_KWH, CAR_G_PER_KM) == (3600.0, 3_600_000.0, 107.5)
    assert g_per_j(360.0) == 0.0001 and g_per_j(360.0, 2.0) == 0.0002


@pytest.mark.parametrize(
    "j, text",
    [(0.0, "0 J"), (0.00123456, "0.00123 J"), (1.5, "1.50 J"), (999.4, "999 J"), (1000.0, "1.00 kJ"), (3599.0, "3.60 kJ"),
     (3600.0, "1.00 Wh"), (7200.0, "2.00 Wh"), (3_599_000.0, "1000 Wh"), (3_600_000.0, "1.00 kWh"), (36e9, "10000 kWh"),
     (-7200.0, "-2.00 Wh"), (-5.0, "-5.00 J")],
)  # fmt: skip
def test_format_energy_written_out(j, text):
    assert format_energy(j) == text


@pytest.mark.parametrize(
    "g, text",
    [(0.0, "0 mg"), (0.0004, "0.400 mg"), (0.5, "500 mg"), (1.0, "1.00 g"), (999.0, "999 g"), (1000.0, "1.00 kg"),
     (2.5e6, "2.50 t"), (-2.0, "-2.00 g"), (0.01234, "12.3 mg")],
)  # fmt: skip
def test_format_co2_written_out(g, text):
    assert format_co2(g) == text


@pytest.mark.parametrize(
    "s, text", [(0.0004, "0 ms"), (0.25, "250 ms"), (1.0, "1.00 s"), (119.0, "119.00 s"), (120.0, "2.0 min"), (7199.0, "120.0 min"), (7200.0, "2.00 h")]
)
def test_format_duration_written_out(s, text):
    assert format_duration(s) == text


def test_digits():
    assert format_energy(1234.5678, digits=5) == "1.2346 kJ" and format_co2(12.345678, digits=2) == "12 g"


def test_format_boundaries_written_out():
    assert format_co2(999_999.0) == "1000 kg" and format_co2(1_000_000.0) == "1.00 t" and format_co2(1_234_567.0, digits=4) == "1.235 t"
    assert format_duration(0.9994) == "999 ms" and format_duration(36_000.0) == "10.00 h"


def test_more_format_cases_written_out():
    assert format_co2(1234.5, digits=2) == "1.2 kg" and format_co2(1_500_000.0, digits=2) == "1.5 t"
    assert format_duration(36_000_000.0) == "10000.00 h"
    assert parse_power_w(0) == 0.0 and parse_power_w("0 W") == 0.0


def test_format_distance_written_out():
    from pytest_carbon.units import format_distance

    assert [format_distance(x) for x in (None, 0.0, 2.5, 1234.0, 0.5, 0.001, 0.000184, 1.84e-06)] == [
        "?", "0 km", "2.50 km", "1234 km", "500 m", "1.00 m", "184 mm", "1.84 mm",
    ]  # fmt: skip


def test_terminal_column_units():
    from pytest_carbon.report.terminal import CO2_SCALE, ENERGY_SCALE, column_unit

    assert column_unit([0.5, None, 3.0], ENERGY_SCALE) == ("mWh", 3.6)  # 3 J < 1 Wh
    assert column_unit([7200.0], ENERGY_SCALE) == ("Wh", 3600.0)
    assert column_unit([4e6, 1.0], ENERGY_SCALE) == ("kWh", 3.6e6)
    assert column_unit([None], CO2_SCALE) == ("mg", 1e-3)
    assert column_unit([0.2, 12.0], CO2_SCALE) == ("g", 1.0)


def test_significant_digits_written_out():
    from pytest_carbon.units import significant

    assert [significant(x, 3) for x in (0.0, 1234.5, 0.00012345, 9.999, -0.5)] == ["0", "1234", "0.000123", "10.0", "-0.500"]
    assert significant(0.5, 1) == "0.5"


def test_distance_and_size_boundaries_written_out():
    from pytest_carbon.units import format_distance, parse_energy_j

    assert [format_distance(x) for x in (1.0, 0.999, 0.000999, 1.5)] == ["1.00 km", "999 m", "999 mm", "1.50 km"]
    with pytest.raises(UnitError, match=r"^'1e305 MWh' is too large to be an energy$"):
        parse_energy_j("1e305 MWh")


def test_rounding_up_into_the_next_decade_and_long_forms():
    from pytest_carbon.units import format_distance, significant

    assert significant(99.99, 3) == "100" and significant(0.9999, 2) == "1.0"
    assert format_co2(1.5e6, digits=7) == "1.500000 t" and format_distance(0.0005, digits=7) == "500.0000 mm"
