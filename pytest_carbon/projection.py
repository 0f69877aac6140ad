"""Pure projections: a phase's measured per-item cost, extrapolated to a full run.

"150,000 training iterations" or "10,000 generated images" are rarely run in CI; their
cost is the measured per-item energy times the count. That is an extrapolation: it assumes
every further item costs what the measured ones did (no warm-up, caching or thermal change).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .units import CAR_G_PER_KM


class ProjectionSpec(NamedTuple):
    """What ``carbon.project()`` asked for: a phase's per-item cost times a count."""

    phase: str  # the phase whose per-item cost is extrapolated
    full_items: int  # items in the full run (the report's "count")
    label: str  # e.g. "10,000 images"


class Projection(NamedTuple):
    """A full run's energy (J), CO2 (g) and car-km from ``measured_items`` measured items."""

    spec: ProjectionSpec
    measured_items: int
    energy_j_per_item: float | None
    energy_j: float | None
    co2_g: float | None
    note: str | None = None  # why there is no figure, where there is none
    # 95% interval of the full run's energy (J), from the per-item interval of step() marks
    ci95_j: tuple[float, float] | None = None
    ci95_co2_g: tuple[float, float] | None = None

    def to_json(self) -> dict[str, Any]:
        items = self.measured_items
        out = {
            "phase": self.spec.phase,
            "label": self.spec.label,
            "count": self.spec.full_items,
            "measured_items": items,
            "factor": self.spec.full_items / items if items > 0 else None,
            "energy_j_per_item": self.energy_j_per_item,
            "energy_j": self.energy_j,
            "co2_g": self.co2_g,
            "car_km": None if self.co2_g is None else self.co2_g / CAR_G_PER_KM,
            "extrapolated": True,
            "energy_j_ci95": None if self.ci95_j is None else list(self.ci95_j),
            "co2_g_ci95": None if self.ci95_co2_g is None else list(self.ci95_co2_g),
        }
        if self.note is not None:
            out["note"] = self.note
        return out


def project(
    spec: ProjectionSpec,
    energy_j: float | None,
    items: int,
    g_per_j: float,
    note: str | None = None,
    ci95_per_item_j: tuple[float, float] | None = None,
) -> Projection:
    """Extrapolate ``energy_j`` measured over ``items`` items to ``spec.full_items`` items, and the
    per-item 95% interval (where the phase's steps give one) to the same count."""
    per = None if energy_j is None or items <= 0 else energy_j / items
    total = None if per is None else per * spec.full_items
    ci = None if ci95_per_item_j is None or total is None else (ci95_per_item_j[0] * spec.full_items, ci95_per_item_j[1] * spec.full_items)
    ci_co2 = None if ci is None else (ci[0] * g_per_j, ci[1] * g_per_j)
    return Projection(spec, items, per, total, None if total is None else total * g_per_j, note, ci, ci_co2)
