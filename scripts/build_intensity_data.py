"""Derive pytest-carbon's bundled grid-intensity tables from Ember's data (CC BY 4.0).

Input: the folder with ``monthly_intensity.csv`` and ``ember_yearly_country.csv`` (see its
SOURCES.md). Output, in ``pytest_carbon/data/``:

* ``ember_monthly.csv``: zone, year, then g CO2eq/kWh for each month Jan-Dec (empty where the
  input has no value) for countries, Ember aggregates, US states and Indian states, 2022-2024,
  as in the input: a row per zone and year, so a run reads 560 rows, not 6,600;
* ``ember_yearly.csv``: country, year, g CO2eq/kWh from Ember's yearly table, 2022-2024.

    python scripts/build_intensity_data.py ../shared/data/intensity
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
OUT = Path(__file__).resolve().parent.parent / "pytest_carbon" / "data"


def main(src: Path) -> None:
    rows = []
    with open(src / "monthly_intensity.csv", newline="") as f:
        for r in csv.DictReader(f):
            rows.append((r["zone"], int(r["year"]), int(r["month"]), float(r["gco2_per_kwh"])))
    wide: dict[tuple[str, int], list[str]] = {}
    for z, y, m, g in rows:
        wide.setdefault((z, y), [""] * 12)[m - 1] = f"{g:g}"
    with open(OUT / "ember_monthly.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["zone", "year", *MONTHS])
        w.writerows([z, y, *values] for (z, y), values in sorted(wide.items()))
    yearly = []
    with open(src / "ember_yearly_country.csv", newline="") as f:
        for r in csv.DictReader(f):
            if r["country_code"] and r["emissions_intensity_gco2_per_kwh"] and 2022 <= int(r["year"]) <= 2024:
                yearly.append((r["country_code"], int(r["year"]), float(r["emissions_intensity_gco2_per_kwh"])))
    yearly.sort()
    with open(OUT / "ember_yearly.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["country", "year", "gco2_per_kwh"])
        w.writerows((c, y, f"{g:g}") for c, y, g in yearly)
    print(f"{len(rows)} monthly values in {len(wide)} rows, {len(yearly)} yearly rows -> {OUT}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/intensity"))
