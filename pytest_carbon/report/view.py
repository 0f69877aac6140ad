"""What every renderer shows the same way: the order of tests."""

from __future__ import annotations

from typing import Any


def by_co2(tests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Report entries by CO2eq, highest first; unknown CO2 (a meter gap) last, never as 0."""
    return sorted(tests, key=lambda t: -1.0 if t.get("co2_g") is None else t["co2_g"], reverse=True)
