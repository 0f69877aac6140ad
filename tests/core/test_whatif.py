"""Where and when: the bundled Ember data and the what-if arithmetic.

Expected values are Ember's figures written out (from pytest_carbon/data/*.csv by hand) or
read back from the CSV files with the csv module, never taken from the module under test.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from pytest_carbon import intensity, whatif

DATA = Path(whatif.__file__).parent / "data"
DEU_2024 = [381.6, 357, 377.5, 309.8, 319.9, 331, 327.4, 351.3, 344.1, 412, 451.9, 398.9]
US_CA_2024 = [269.2, 210.6, 158.7, 145.2, 126.9, 155.9, 220.4, 206.8, 210.5, 228, 223.2, 237.6]
YEARLY_2024 = {"DEU": 344.14, "FRA": 44.18, "POL": 614.98, "LUX": 134.62}


def _csv_zones() -> tuple[set[str], set[str]]:
    counts: dict[tuple[str, str], int] = {}
    with open(DATA / "ember_monthly.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["zone", "year", "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    for zone, year, *values in rows[1:]:
        counts[(zone, year)] = sum(1 for v in values if v)
    complete = {z for (z, _), n in counts.items() if n == 12 and not z.startswith("AGG-")}
    return {z for z in complete if "-" not in z}, {z for z in complete if "-" in z}


def test_zones_are_those_with_a_complete_year():
    countries, states = _csv_zones()
    assert whatif.zones("countries") == sorted(countries) and len(countries) == 87  # UKR has no full year
    assert whatif.zones("states") == sorted(states) and len(states) == 88
    assert whatif.zones() == whatif.zones("all") == sorted(countries | states)
    assert "UKR" not in whatif.zones() and not any(z.startswith("AGG-") for z in whatif.zones())


def test_profiles_use_the_latest_complete_year():
    assert whatif.profile("DEU") == (2024, DEU_2024)
    assert whatif.profile("us-ca") == (2024, US_CA_2024)
    assert whatif.profile_year("KGZ") == 2023  # 2024 has 6 months only
    assert whatif.profile_year("UKR") is None and whatif.profile_year("ZZZ") is None


def test_germany_2024_lowest_in_april_highest_in_november():
    year, values = whatif.profile("DEU")
    assert whatif.MONTHS[values.index(min(values))] == "Apr"
    assert whatif.MONTHS[values.index(max(values))] == "Nov"
    assert max(values) / min(values) == pytest.approx(451.9 / 309.8)
    assert whatif.MONTHS == ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def test_month_factor_is_shape_only():
    mean = sum(DEU_2024) / 12
    assert whatif.month_factor("DEU", 11) == pytest.approx(451.9 / mean)
    assert whatif.month_factor("DEU", 1) == pytest.approx(381.6 / mean)
    assert whatif.month_factor("DEU", 12) == pytest.approx(398.9 / mean)


def test_levels_latest_yearly_figure_for_countries_monthly_mean_for_states():
    assert whatif.level("deu") == whatif.Level("DEU", 344.14, 2024, "Ember yearly 2024", False)  # 2024, not 2022's 420.11
    assert whatif.level("US-CA") == whatif.Level("US-CA", pytest.approx(sum(US_CA_2024) / 12), 2024, "Ember monthly mean 2024", False)
    assert whatif.level("LUX").coarse and not whatif.level("DEU").coarse


def test_month_scaling_of_the_configured_intensity():
    nov = intensity.resolve(country="DEU", month=11)
    assert nov.g_per_kwh == pytest.approx(380.95 * 451.9 / (sum(DEU_2024) / 12))
    ca = intensity.resolve(country="USA", region="CA", month=1)
    assert "(Ember 2024 monthly profile of US-CA: month / annual mean)" in ca.source


def test_whatif_arithmetic():
    w = whatif.compute(3.6e6, 1.5, 400.0, "DEU", ["FRA", "POL", "US-CA"])
    assert w["data"] == whatif.VINTAGE and w["energy_kwh"] == 1.5
    assert [p["zone"] for p in w["places"]] == ["FRA", "US-CA", "POL"]  # cleanest first
    fra = w["places"][0]
    assert fra == {"zone": "FRA", "g_per_kwh": 44.18, "year": 2024, "source": "Ember yearly 2024", "coarse": False,
                   "co2_g": pytest.approx(1.5 * 44.18), "car_km": pytest.approx(1.5 * 44.18 / 107.5)}  # fmt: skip
    assert (w["cleanest"]["zone"], w["dirtiest"]["zone"]) == ("FRA", "POL")
    assert w["ratio"] == pytest.approx(614.98 / 44.18)
    m = w["months"]
    assert (m["zone"], m["year"], m["coarse"], m["scaled_to_g_per_kwh"]) == ("DEU", 2024, False, 400.0)
    mean = sum(DEU_2024) / 12
    assert [v["name"] for v in m["values"]] == whatif.MONTHS and [v["month"] for v in m["values"]] == list(range(1, 13))
    assert m["values"][10]["g_per_kwh"] == pytest.approx(400.0 * 451.9 / mean)
    assert m["values"][10]["co2_g"] == pytest.approx(1.5 * 400.0 * 451.9 / mean)
    assert (m["best"]["name"], m["worst"]["name"]) == ("Apr", "Nov")
    assert m["ratio"] == pytest.approx(451.9 / 309.8)


def test_whatif_without_a_zone_and_over_every_country():
    w = whatif.compute(7.2e6, 1.0, 100.0, None)
    assert w["months"] is None and w["energy_kwh"] == 2.0
    assert len(w["places"]) == 87
    g = [p["g_per_kwh"] for p in w["places"]]
    assert g == sorted(g) and w["cleanest"] is w["places"][0] and w["dirtiest"] is w["places"][-1]
    assert whatif.compute(1.0, 1.0, 1.0, None, ["FRA"])["ratio"] == 1.0


def test_grid_of_places_and_months():
    rows = whatif.grid(3.6e6, 2.0, ["FRA", "DEU"], [0, 11])
    assert [lv.zone for lv, _ in rows] == ["FRA", "DEU"]
    (_, fra), (_, deu) = rows
    assert fra[0] == pytest.approx(2.0 * 44.18)
    assert deu == [pytest.approx(2.0 * 344.14), pytest.approx(2.0 * 344.14 * 451.9 / (sum(DEU_2024) / 12))]


def test_zone_of_a_configured_place():
    assert whatif.zone_of("USA", "CA") == "US-CA" and whatif.zone_of("USA", "us-ca") == "US-CA"
    assert whatif.zone_of("IND", "KA") == "IN-KA"
    assert whatif.zone_of("USA", "XX") == "USA"  # an unknown state falls back to the country
    assert whatif.zone_of("DEU", "BY") == "DEU" and whatif.zone_of("DEU", None) == "DEU"
    assert whatif.zone_of("UKR", None) is None and whatif.zone_of(None, "CA") is None and whatif.zone_of(None, None) is None


def test_unknown_zones():
    with pytest.raises(whatif.WhatIfError) as e:
        whatif.check_zone("GER")
    assert str(e.value).startswith(
        "zone 'GER' is not in the bundled Ember data (ISO 3166 alpha-3 countries such as DEU,"
        " US states as US-CA, Indian states as IN-KA); close matches: "
    )
    with pytest.raises(whatif.WhatIfError) as e:
        whatif.check_zone("QQQQQ")
    assert str(e.value).endswith("Indian states as IN-KA)")
    with pytest.raises(whatif.WhatIfError) as e:
        whatif.check_zone("ukr")
    assert str(e.value).startswith("zone 'UKR' has no complete year of monthly data in the bundled Ember tables")
    assert whatif.check_zone(" us-ca ") == "US-CA"


def test_months_by_number_or_name():
    assert [whatif.check_month(x) for x in ("11", "nov", "November ", 3, "12", "1")] == [11, 11, 11, 3, 12, 1]
    with pytest.raises(whatif.WhatIfError, match=r"^'Noc' is not a month: give 1 to 12 \(or Jan to Dec\); close matches: Nov$"):
        whatif.check_month("Noc")
    for bad in (0, 13, True, None, "x"):
        with pytest.raises(whatif.WhatIfError, match=rf"^{bad!r} is not a month: give 1 to 12 \(or Jan to Dec\)"):
            whatif.check_month(bad)


def test_close_matches_are_at_most_five_zones_and_three_months():
    with pytest.raises(whatif.WhatIfError) as e:
        whatif.check_zone("US-C")
    assert str(e.value).endswith("; close matches: US-SC, US-NC, US-DC, US-CT, US-CO")
    with pytest.raises(whatif.WhatIfError, match=r"^'J' is not a month: give 1 to 12 \(or Jan to Dec\); close matches: Jun, Jul, Jan$"):
        whatif.check_month("J")
    with pytest.raises(whatif.WhatIfError, match=r"^'xyz' is not a month: give 1 to 12 \(or Jan to Dec\)$"):
        whatif.check_month("xyz")


def test_a_state_code_means_a_state_only_in_the_usa_and_india():
    assert whatif.zone_of("DEU", "KA") == "DEU" and whatif.zone_of("DEU", "CA") == "DEU"


def test_fractional_months_are_refused():
    for bad in (1.5, "1.5", 12.9, float("nan")):
        with pytest.raises(whatif.WhatIfError, match=r"is not a month: give 1 to 12"):
            whatif.check_month(bad)
    assert whatif.check_month(3.0) == 3
