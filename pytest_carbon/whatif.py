"""Where and when: the same measured energy in other places and months.

Bundled Ember data (CC BY 4.0, see ``data/ATTRIBUTION.md``): monthly grid intensity for
countries, US states and Indian states, 2022-2024, and Ember's yearly country figures. The
monthly series gives the seasonal *shape* (a month's value over its year's mean); levels come
from the yearly figures for countries and from the year's monthly mean for states, which have
no yearly table. Arithmetic on energy only: no meter, no network.
"""

from __future__ import annotations

import csv
import difflib
import functools
from pathlib import Path
from typing import Any, NamedTuple

from .units import CAR_G_PER_KM, J_PER_KWH

DATA = Path(__file__).resolve().parent / "data"
VINTAGE = "Ember monthly and yearly electricity data, 2022-2024 (snapshot 2025-06), CC BY 4.0"
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
# Grids with under about 2 TWh of monthly demand in 2024: Ember's rounding makes their
# month-to-month ratios unreliable (see ATTRIBUTION.md).
COARSE = set(
    "ARM BIH BOL CRI CYP EST GEO HRV KEN KGZ LKA LTU LUX LVA MDA MKD MLT MNE MNG PRI SLV SVN TJK TUN URY XKX".split()
)


class WhatIfError(ValueError):
    """An unknown zone or month; the message lists close matches."""


@functools.lru_cache(maxsize=None)
def _cells() -> dict[str, dict[int, list[str]]]:
    """Zone -> year -> its 12 monthly cells as the file has them ("" where Ember has no value).

    A run needs numbers for a few zones (its own, a list of places) and only the shape of the
    rest (which years are complete), so the text is turned into numbers where it is used.
    """
    out: dict[str, dict[int, list[str]]] = {}
    # Plain splitting (the file is ours: no quoting) reads it in a third of csv's time.
    lines = (DATA / "ember_monthly.csv").read_text().split("\n")
    for line in lines[1:]:  # zone, year, jan, ..., dec
        if line:
            zone, year, *cells = line.split(",")
            out.setdefault(zone, {})[int(year)] = cells
    return out


@functools.lru_cache(maxsize=None)
def yearly() -> dict[str, dict[int, float]]:
    out: dict[str, dict[int, float]] = {}
    with open(DATA / "ember_yearly.csv", newline="") as f:
        rows = csv.reader(f)
        next(rows)  # country, year, gco2_per_kwh
        for country, year, g in rows:
            out.setdefault(country, {})[int(year)] = float(g)
    return out


def zones(kind: str = "all") -> list[str]:
    """Zones with a complete year: ``countries`` (ISO3), ``states`` (US-XX, IN-XX) or ``all``."""
    out = []
    for z in _cells():
        if z.startswith("AGG-") or profile_year(z) is None:
            continue
        is_state = "-" in z
        if kind == "all" or (kind == "states") == is_state:
            out.append(z)
    return sorted(out)


def profile_year(zone: str) -> int | None:
    years = _cells().get(zone, {})
    full = [y for y, cells in years.items() if all(cells)]
    return max(full) if full else None


def check_zone(zone: str) -> str:
    """The zone as the data spells it (ISO3 upper case, US-CA), or WhatIfError with close matches."""
    z = zone.strip().upper()
    if z in _cells() and profile_year(z) is not None:
        return z
    known = zones("all")
    near = difflib.get_close_matches(z, known, n=5, cutoff=0.5)
    hint = f"; close matches: {', '.join(near)}" if near else ""
    if z in _cells():
        raise WhatIfError(f"zone {z!r} has no complete year of monthly data in the bundled Ember tables{hint}")
    raise WhatIfError(
        f"zone {zone!r} is not in the bundled Ember data (ISO 3166 alpha-3 countries such as DEU,"
        f" US states as US-CA, Indian states as IN-KA){hint}"
    )


def check_month(month: Any) -> int:
    """A month 1-12 from a whole number, its digits, or its name; 1.5 is not a month."""
    if isinstance(month, float) and month.is_integer():
        month = int(month)
    try:
        m = int(month) if isinstance(month, (int, str)) and not isinstance(month, bool) else 0
    except ValueError:
        m = 0
    if not 1 <= m <= 12:
        names = {n.lower(): i + 1 for i, n in enumerate(MONTHS)}
        key = str(month).strip().lower()[:3]
        if key in names:
            return names[key]
        near = difflib.get_close_matches(str(month).title(), MONTHS, n=3, cutoff=0.5)
        hint = f"; close matches: {', '.join(near)}" if near else ""
        raise WhatIfError(f"{month!r} is not a month: give 1 to 12 (or Jan to Dec){hint}")
    return m


def profile(zone: str) -> tuple[int, list[float]]:
    """(year, the 12 monthly values) of the zone's latest complete year."""
    z = check_zone(zone)
    year = profile_year(z)
    assert year is not None
    return year, [float(g) for g in _cells()[z][year]]


def month_factor(zone: str, month: int) -> float:
    """The month's intensity over its year's mean: the seasonal shape, independent of level."""
    _, values = profile(zone)
    return values[month - 1] / (sum(values) / 12)


class Level(NamedTuple):
    """A zone's annual intensity, the year and table it comes from."""

    zone: str
    g_per_kwh: float
    year: int
    source: str
    coarse: bool


def level(zone: str) -> Level:
    """A zone's annual intensity: Ember's yearly figure for countries, the monthly mean for states."""
    z = check_zone(zone)
    year, values = profile(z)
    yr = yearly().get(z, {})
    if yr:
        y = max(yr)
        return Level(z, yr[y], y, f"Ember yearly {y}", z in COARSE)
    return Level(z, sum(values) / 12, year, f"Ember monthly mean {year}", z in COARSE)


def zone_of(country: str | None, region: str | None) -> str | None:
    """The Ember zone of a configured place, or None where the data has none."""
    if region and country in ("USA", "IND"):
        code = region.upper()
        code = code if "-" in code else f"{'US' if country == 'USA' else 'IN'}-{code}"
        if code in _cells():
            return code
    if country and country in _cells() and profile_year(country) is not None:
        return country
    return None


def grid(energy_j: float, pue: float, zones: list[str], months: list[int]) -> list[tuple[Level, list[float]]]:
    """g CO2eq of ``energy_j`` (times ``pue``) at each zone's level, in each month (0: the year)."""
    kwh = energy_j / J_PER_KWH * pue
    out = []
    for z in zones:
        lv = level(z)
        out.append((lv, [kwh * lv.g_per_kwh * (month_factor(z, m) if m else 1.0) for m in months]))
    return out


def compute(energy_j: float, pue: float, annual_g_per_kwh: float, zone: str | None, places: list[str] | None = None) -> dict[str, Any]:
    """The what-if section of a report: places, and the run's own place month by month."""
    kwh = energy_j / J_PER_KWH * pue
    chosen = places or zones("countries")
    rows: list[dict[str, Any]] = []
    for z in chosen:
        lv = level(z)
        co2 = kwh * lv.g_per_kwh
        rows.append({"zone": lv.zone, "g_per_kwh": lv.g_per_kwh, "year": lv.year, "source": lv.source, "coarse": lv.coarse, "co2_g": co2, "car_km": co2 / CAR_G_PER_KM})
    rows.sort(key=lambda r: r["g_per_kwh"])
    out: dict[str, Any] = {
        "data": VINTAGE,
        "energy_kwh": kwh,
        "places": rows,
        "cleanest": rows[0] if rows else None,
        "dirtiest": rows[-1] if rows else None,
        "ratio": rows[-1]["g_per_kwh"] / rows[0]["g_per_kwh"] if rows and rows[0]["g_per_kwh"] > 0 else None,
        "months": None,
    }
    if zone is not None:
        year, values = profile(zone)
        mean = sum(values) / 12
        months: list[dict[str, Any]] = [
            {"month": m + 1, "name": MONTHS[m], "g_per_kwh": annual_g_per_kwh * v / mean, "co2_g": kwh * annual_g_per_kwh * v / mean}
            for m, v in enumerate(values)
        ]
        best = min(months, key=lambda r: r["g_per_kwh"])
        worst = max(months, key=lambda r: r["g_per_kwh"])
        out["months"] = {
            "zone": zone,
            "year": year,
            "coarse": zone in COARSE,
            "scaled_to_g_per_kwh": annual_g_per_kwh,
            "values": months,
            "best": best,
            "worst": worst,
            "ratio": worst["g_per_kwh"] / best["g_per_kwh"] if best["g_per_kwh"] > 0 else None,
        }
    return out
