"""Pure projections: a phase's measured per-item cost, extrapolated to a full run.

"150,000 training iterations" or "10,000 generated images" are rarely run in CI; their
cost is the measured per-item energy times the count. That is an extrapolation: it assumes
every further item costs what the measured ones did (no warm-up, caching or thermal change).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .report.json_report import CAR_G_PER_KM


@dataclass(frozen=True)
class ProjectionSpec:
    phase: str  # the phase whose per-item cost is extrapolated
    count: int  # items in the full run
    label: str  # e.g. "10,000 images"


def project(spec: ProjectionSpec, energy_j: float | None, items: int, g_per_j: float) -> dict[str, Any]:
    """The full run's energy, CO2 and car-km from ``items`` measured items using ``energy_j``."""
    per = None if energy_j is None or items <= 0 else energy_j / items
    total = None if per is None else per * spec.count
    co2 = None if total is None else total * g_per_j
    return {
        "phase": spec.phase,
        "label": spec.label,
        "count": spec.count,
        "measured_items": items,
        "factor": spec.count / items if items > 0 else None,
        "energy_j_per_item": per,
        "energy_j": total,
        "co2_g": co2,
        "car_km": None if co2 is None else co2 / CAR_G_PER_KM,
        "extrapolated": True,
    }
