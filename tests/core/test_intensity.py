"""Grid intensity from codecarbon's bundled tables: values written out from the tables
(read by hand), sources, kinds and every refusal's message."""

from __future__ import annotations

import pytest

from pytest_carbon import intensity
from pytest_carbon.intensity import Intensity, IntensityError, resolve

LBS = 0.45359237  # g/kWh per lbs/MWh


def test_configured_intensity_wins_over_everything():
    i = resolve(intensity=412.0, cloud="gcp:europe-west1", country="deu", region="X")
    assert i == Intensity(412.0, "configured (intensity)", "configured", "DEU", "X")


def test_country_from_global_energy_mix():
    i = resolve(country="deu")
    assert i == Intensity(380.95, "codecarbon global_energy_mix.json (Our World in Data): Germany, 2023", "country", "DEU", None, 2023)
    assert i.warning is None and i.month is None and i.annual_g_per_kwh is None


def test_unknown_country_names_close_matches():
    with pytest.raises(IntensityError) as e:
        resolve(country="GER")
    assert str(e.value).startswith(
        "country 'GER' is not in codecarbon's table (ISO 3166 alpha-3, e.g. DEU, USA, FRA); close matches: "
    )
    assert "GEO" in str(e.value) or "GRC" in str(e.value)
    with pytest.raises(IntensityError, match=r"^country 'QQQQQQ' is not in codecarbon's table \(ISO 3166 alpha-3, e\.g\. DEU, USA, FRA\)$"):
        resolve(country="QQQQQQ")


def test_world_default_warns_and_says_how_to_set_the_place():
    i = resolve()
    assert (i.g_per_kwh, i.kind, i.country, i.region) == (475.0, "world-default", None, None)
    assert i.source == "world average (codecarbon carbon_intensity_per_source.json, IEA 2019)"
    assert i.warning == (
        'no location set, so the world average is used; set country = "DEU" (ISO 3166'
        " alpha-3) under [tool.pytest-carbon] in pyproject.toml or pass --carbon-country"
        " DEU, or --carbon-cloud gcp:europe-west3, or --carbon-intensity G_PER_KWH"
    )


def test_cloud_region():
    i = resolve(cloud=" GCP : europe-west1 ")
    assert i == Intensity(
        122.0,
        "codecarbon cloud/impact.csv: gcp:europe-west1 (St. Ghislain), https://cloud.google.com/sustainability/region-carbon#data",
        "cloud",
        "BEL",
        "europe-west1",
    )


def test_cloud_refusals():
    with pytest.raises(IntensityError) as e:
        resolve(cloud="ibm:x")
    assert str(e.value) == "cloud provider 'ibm' is not in codecarbon's cloud table; known: gcp"
    with pytest.raises(IntensityError) as e:
        resolve(cloud="gcp:europe-west99")
    msg = str(e.value)
    assert msg.startswith("cloud region gcp:europe-west99 is not in codecarbon's cloud table; close matches: europe-west")
    assert msg.endswith("; or set intensity = G_PER_KWH for a region the table lacks")


@pytest.mark.parametrize("region", ["CA", "ca", "US-CA", "california"])
def test_us_states_by_code_or_name(region):
    i = resolve(country="USA", region=region)
    assert i.g_per_kwh == pytest.approx(394.769 * LBS)
    assert i.source == "codecarbon usa_emissions.json (EPA eGRID2023, annual CO2 equivalent total output emission rate): california"
    assert (i.kind, i.country, i.region, i.year) == ("region", "USA", "CA", 2023)


def test_a_us_prefix_alone_means_the_usa():
    assert resolve(region="US-TX").g_per_kwh == pytest.approx(771.179 * LBS)


def test_unknown_us_state():
    with pytest.raises(IntensityError, match=r"^US region 'XX' is not in codecarbon's eGRID table"):
        resolve(country="USA", region="XX")


def test_canadian_province_from_its_mix():
    # Alberta's 2023 mix (percent) x lifecycle factors (g/kWh), over the listed sources only.
    mix = {"naturalGas": (73.5, 743), "petroleum": (0.02, 816), "biomass": (2.0, 230), "coal": (8.0, 995),
           "solar": (3.2, 48), "wind": (11.3, 26), "hydro": (1.8, 26), "nuclear": (0.0, 29), "tidal": (0.0, 26)}  # fmt: skip
    expected = sum(p * g for p, g in mix.values()) / sum(p for p, _ in mix.values())
    for region in ("AB", "CA-AB", "alberta"):
        i = resolve(country="CAN", region=region)
        assert i.g_per_kwh == pytest.approx(expected)
        assert i.source == "codecarbon canada_energy_mix.json (2023 mix x lifecycle factors): alberta"
        assert (i.kind, i.country, i.year) == ("region", "CAN", 2023)
    assert resolve(region="CA-QC").country == "CAN"


def test_unknown_province():
    with pytest.raises(IntensityError, match=r"^Canadian province 'XY' is unknown"):
        resolve(country="CAN", region="XY")


def test_chinese_province_and_the_cn_prefix():
    i = resolve(region="CN-BJ")  # the prefix alone names China, not Canada
    assert i == Intensity(555.4, "codecarbon china_provincial_emissions.json (MEE/NBS): Beijing", "region", "CHN", "CN-BJ", 2023)
    assert resolve(country="CHN", region="shanghai").g_per_kwh == 573.7
    assert resolve(country="CHN", region="SH").g_per_kwh == 573.7
    with pytest.raises(IntensityError, match=r"^Chinese province 'ZZ' is unknown"):
        resolve(country="CHN", region="ZZ")


def test_nordic_bidding_zones():
    i = resolve(country="swe", region="se3")
    assert i == Intensity(
        27.0, "codecarbon nordic_emissions.json: SE3 (Sweden Bidding Zone 3 (South-central Sweden, includes Stockholm))",
        "region", "SWE", "SE3", 2025,
    )  # fmt: skip
    with pytest.raises(IntensityError) as e:
        resolve(country="NOR", region="NO9")
    assert str(e.value).startswith("bidding zone 'NO9' is not a known zone of NOR; close matches: NO")


def test_regions_elsewhere_and_regions_without_a_country():
    with pytest.raises(IntensityError) as e:
        resolve(country="DEU", region="BY")
    assert str(e.value) == (
        "sub-national regions are known for USA (states), CAN (provinces), CHN (provinces)"
        " and SWE/NOR/DNK/FIN (bidding zones), not for DEU; drop region, or set intensity"
    )
    with pytest.raises(IntensityError) as e:
        resolve(region="BY")
    assert str(e.value) == 'region \'BY\' needs a country too (country = "USA"), or write it as US-XX, CA-XX or CN-XX'
    with pytest.raises(IntensityError, match="needs a country too"):
        resolve(region="DE-BY")


def test_month_applies_the_seasonal_factor_of_the_place():
    annual = resolve(country="DEU")
    nov = resolve(country="DEU", month=11)
    # DEU 2024 monthly values (Ember, g/kWh), written out: November over the year's mean.
    values = [381.6, 357, 377.5, 309.8, 319.9, 331, 327.4, 351.3, 344.1, 412, 451.9, 398.9]
    factor = values[10] / (sum(values) / 12)
    assert nov.g_per_kwh == pytest.approx(380.95 * factor)
    assert nov.source == annual.source + f"; x {factor:.3f} for Nov (Ember 2024 monthly profile of DEU: month / annual mean)"
    assert (nov.month, nov.annual_g_per_kwh, nov.kind, nov.country) == (11, 380.95, "country", "DEU")
    with pytest.raises(IntensityError) as e:
        resolve(month=3)
    assert str(e.value) == (
        "no monthly data for the world average, so month 3 cannot be applied; monthly profiles exist for"
        " most countries (ISO3), US states and Indian states: set country (and region), or drop month"
    )


def test_as_dict_names_every_field():
    assert Intensity(1.0, "s", "k", "C", "R", 2020, "w", 3, 2.0).as_dict() == {
        "g_per_kwh": 1.0, "source": "s", "kind": "k", "country": "C", "region": "R", "year": 2020,
        "warning": "w", "month": 3, "annual_g_per_kwh": 2.0,
    }  # fmt: skip


def test_close_matches():
    assert intensity._close("DUE", ["DEU", "FRA"]) == "; close matches: DEU"
    assert intensity._close("zzz", ["DEU", "FRA"]) == ""


def test_cloud_spec_splits_at_the_first_colon_and_provinces_keep_their_code():
    with pytest.raises(IntensityError, match=r"^cloud region gcp:x:y is not in codecarbon's cloud table"):
        resolve(cloud="gcp:x:y")
    assert resolve(country="CAN", region="CA-AB").region == "AB"
    assert resolve(country="CHN", region="CN-BJ").region == "CN-BJ"


def test_close_matches_in_region_errors_are_the_tables_own_codes():
    with pytest.raises(IntensityError) as e:
        resolve(country="USA", region="CX")
    assert str(e.value) == "US region 'CX' is not in codecarbon's eGRID table; close matches: TX, SC, NC, DC, CT"
    with pytest.raises(IntensityError) as e:
        resolve(country="CHN", region="BX")
    assert str(e.value) == "Chinese province 'BX' is unknown; close matches: CN-XJ, CN-SX, CN-NX, CN-JX, CN-HB"
    with pytest.raises(IntensityError, match="needs a country too"):
        resolve(region="CA")  # a bare code names no country, even one that is a prefix


def test_at_most_five_close_matches_at_half_similarity():
    assert intensity._close("DE", ["DEU", "DEN", "DEX", "DEY", "DEZ", "DEW", "DEV"]) == "; close matches: DEZ, DEY, DEX, DEW, DEV"
    assert intensity._close("FRAN", ["FRA", "IRN", "FIN", "XYZ"]) == "; close matches: FRA, IRN, FIN"
