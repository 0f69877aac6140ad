"""Grid carbon intensity (g CO2eq per kWh), first that applies:

configured value > cloud provider + region > country + sub-national region > country >
world average (with a warning naming how to set the location).

All tables are codecarbon's package data, read as files without importing codecarbon. No
network, ever: a location is configured, never looked up.
"""

from __future__ import annotations

import csv
import difflib
import functools
import json
from typing import Any, NamedTuple

from .hardware import codecarbon_data_dir


class IntensityError(ValueError):
    """An unknown place; the message lists close matches."""


class Intensity(NamedTuple):
    """A grid's carbon intensity (g CO2eq/kWh) and where the figure comes from."""

    g_per_kwh: float
    source: str  # where the number comes from: table, zone, year
    kind: str  # configured | cloud | region | country | world-default
    country: str | None = None
    region: str | None = None
    year: int | None = None
    warning: str | None = None
    month: int | None = None  # when a month's seasonal factor was applied
    annual_g_per_kwh: float | None = None  # the level before that factor

    def as_dict(self) -> dict[str, Any]:
        return dict(self._asdict())


_CANADA = {
    "AB": "alberta", "BC": "british columbia", "MB": "manitoba", "NB": "new brunswick",
    "NL": "newfoundland and labrador", "NS": "nova scotia", "NT": "northwest territories",
    "NU": "nunavut", "ON": "ontario", "PE": "prince edward island", "QC": "quebec",
    "SK": "saskatchewan", "YT": "yukon",
}  # fmt: skip
_CANADA_SOURCES = {
    "naturalGas": "natural_gas", "coal": "coal", "petroleum": "petroleum", "nuclear": "nuclear",
    "hydro": "hydroelectricity", "wind": "wind", "solar": "solar", "biomass": "biomass",
    "tidal": "hydroelectricity",
}  # fmt: skip
_NORDIC = {"SWE": "SE", "NOR": "NO", "DNK": "DK", "FIN": "FI"}
LBS_PER_MWH_TO_G_PER_KWH = 0.45359237


@functools.lru_cache(maxsize=None)
def _json(rel: str) -> Any:
    with open(codecarbon_data_dir() / rel, encoding="utf-8") as f:
        return json.load(f)


@functools.lru_cache(maxsize=None)
def _cloud_rows() -> list[dict[str, str]]:
    with open(codecarbon_data_dir() / "cloud" / "impact.csv", newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def countries() -> dict[str, dict[str, Any]]:
    data: dict[str, dict[str, Any]] = _json("private_infra/global_energy_mix.json")
    return data


def world_average() -> float:
    return float(_json("private_infra/carbon_intensity_per_source.json")["world_average"])


def _close(word: str, choices: list[str]) -> str:
    hits = difflib.get_close_matches(word, choices, n=5, cutoff=0.5)
    return f"; close matches: {', '.join(hits)}" if hits else ""


def _cloud(spec: str) -> Intensity:
    provider, _, region = spec.partition(":")
    provider, region = provider.strip().lower(), region.strip()
    rows = _cloud_rows()
    providers = sorted({r["provider"] for r in rows})
    if provider not in providers:
        raise IntensityError(
            f"cloud provider {provider!r} is not in codecarbon's cloud table; known: {', '.join(providers)}"
        )
    regions = {r["region"]: r for r in rows if r["provider"] == provider}
    if region not in regions:
        raise IntensityError(
            f"cloud region {provider}:{region} is not in codecarbon's cloud table"
            + _close(region, sorted(regions))
            + "; or set intensity = G_PER_KWH for a region the table lacks"
        )
    r = regions[region]
    return Intensity(
        float(r["impact"]),
        f"codecarbon cloud/impact.csv: {provider}:{region} ({r.get('city') or r.get('country_name')}), {r.get('source', '')}".rstrip(", "),
        "cloud",
        country=r.get("countryIsoCode") or None,
        region=region,
    )


def _region(country: str, region: str) -> Intensity:
    code = region.upper()
    if "-" in code and code.split("-", 1)[0] in {"US", "CA", "CN"}:
        code = code.split("-", 1)[1]
    if country == "USA":
        table = _json("private_infra/2023/usa_emissions.json")
        src = table.get("_source", {})
        for name, row in table.items():
            if name.startswith("_"):
                continue
            if code == str(row.get("regionCode", "")).upper() or region.lower() == name:
                g = float(row["emissions"]) * LBS_PER_MWH_TO_G_PER_KWH
                return Intensity(
                    g, f"codecarbon usa_emissions.json ({src.get('name', 'EPA eGRID')}): {name}",
                    "region", country, row["regionCode"], src.get("year"),
                )  # fmt: skip
        choices = [str(r.get("regionCode")) for k, r in table.items() if not k.startswith("_")]
        raise IntensityError(f"US region {region!r} is not in codecarbon's eGRID table" + _close(code, choices))
    if country == "CAN":
        name = _CANADA.get(code, region.lower())
        mix = _json("private_infra/2023/canada_energy_mix.json").get(name)
        if mix is None:
            raise IntensityError(f"Canadian province {region!r} is unknown" + _close(code, sorted(_CANADA)))
        per = _json("private_infra/carbon_intensity_per_source.json")
        total = sum(v for k, v in mix.items() if k in _CANADA_SOURCES)
        g = sum(v * per[_CANADA_SOURCES[k]] for k, v in mix.items() if k in _CANADA_SOURCES) / total
        return Intensity(g, f"codecarbon canada_energy_mix.json (2023 mix x lifecycle factors): {name}", "region", country, code, 2023)  # fmt: skip
    if country == "CHN":
        data = _json("private_infra/2023/china_provincial_emissions.json")["data"]
        for key, row in data.items():
            if code in (key.upper(), key.upper().split("-", 1)[1]) or region.lower() in row.get("names", []):
                return Intensity(float(row["emission_factor"]), f"codecarbon china_provincial_emissions.json (MEE/NBS): {row.get('description', key)}", "region", country, key, row.get("year"))  # fmt: skip
        raise IntensityError(f"Chinese province {region!r} is unknown" + _close("CN-" + code, sorted(data)))
    if country in _NORDIC:
        data = _json("private_infra/nordic_emissions.json")["data"]
        if code in data:
            row = data[code]
            return Intensity(float(row["emission_factor"]), f"codecarbon nordic_emissions.json: {code} ({row.get('description', '')})", "region", country, code, row.get("year"))  # fmt: skip
        zones = [z for z in data if z.startswith(_NORDIC[country])]
        raise IntensityError(f"bidding zone {region!r} is not a known zone of {country}" + _close(code, zones))
    raise IntensityError(
        f"sub-national regions are known for USA (states), CAN (provinces), CHN (provinces)"
        f" and SWE/NOR/DNK/FIN (bidding zones), not for {country}; drop region, or set intensity"
    )


def _country(country: str) -> Intensity:
    data = countries()
    row = data.get(country)
    if row is None:
        raise IntensityError(
            f"country {country!r} is not in codecarbon's table (ISO 3166 alpha-3, e.g. DEU, USA, FRA)"
            + _close(country, sorted(data))
        )
    return Intensity(
        float(row["carbon_intensity"]),
        f"codecarbon global_energy_mix.json (Our World in Data): {row.get('country_name', country)}, {row.get('year')}",
        "country",
        country,
        None,
        row.get("year"),
    )


def resolve(
    *,
    intensity: float | None = None,
    cloud: str | None = None,
    country: str | None = None,
    region: str | None = None,
    month: int | None = None,
) -> Intensity:
    """The intensity to use, and where it comes from; with ``month``, that month's.

    Raises:
        IntensityError: an unknown cloud region, country or region, with close matches, or a
            month asked for a place without monthly data.
    """
    annual = _resolve(intensity=intensity, cloud=cloud, country=country, region=region)
    if month is None:
        return annual
    from . import whatif

    zone = whatif.zone_of(annual.country, annual.region)
    if zone is None:
        place = annual.country or "the world average"
        raise IntensityError(
            f"no monthly data for {place}, so month {month} cannot be applied; monthly profiles exist for"
            " most countries (ISO3), US states and Indian states: set country (and region), or drop month"
        )
    year, _ = whatif.profile(zone)
    factor = whatif.month_factor(zone, month)
    return annual._replace(
        g_per_kwh=annual.g_per_kwh * factor,
        source=f"{annual.source}; x {factor:.3f} for {whatif.MONTHS[month - 1]} (Ember {year} monthly profile of {zone}: month / annual mean)",
        month=month,
        annual_g_per_kwh=annual.g_per_kwh,
    )


def _resolve(
    *,
    intensity: float | None = None,
    cloud: str | None = None,
    country: str | None = None,
    region: str | None = None,
) -> Intensity:
    if country is not None:
        country = country.upper()
    if intensity is not None:
        return Intensity(intensity, "configured (intensity)", "configured", country, region)
    if cloud:
        return _cloud(cloud)
    if region and not country:
        prefix = region.upper().split("-", 1)[0] if "-" in region else ""
        country = {"US": "USA", "CA": "CAN", "CN": "CHN"}.get(prefix)
        if country is None:
            raise IntensityError(
                f"region {region!r} needs a country too (country = \"USA\"), or write it as US-XX, CA-XX or CN-XX"
            )
    if country and region:
        return _region(country, region)
    if country:
        return _country(country)
    return Intensity(
        world_average(),
        "world average (codecarbon carbon_intensity_per_source.json, IEA 2019)",
        "world-default",
        warning=(
            "no location set, so the world average is used; set country = \"DEU\" (ISO 3166"
            " alpha-3) under [tool.pytest-carbon] in pyproject.toml or pass --carbon-country"
            " DEU, or --carbon-cloud gcp:europe-west3, or --carbon-intensity G_PER_KWH"
        ),
    )
