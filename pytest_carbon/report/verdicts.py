"""Words for budget verdicts: the failure text a reviewer reads, built from pure violations."""

from __future__ import annotations

from typing import Any, Sequence

from ..budget import Budget, Finding, Measured, Violation, disturbed
from ..units import format_co2, format_duration, format_energy


def _amount(metric: str, x: float) -> str:
    return f"{format_co2(x)} CO2eq" if metric == "co2" else format_energy(x)


def headline(v: Violation) -> str:
    """One line: what went over, by how much, and where the budget was declared."""
    where = f"({v.budget.source})"
    if v.metric == "undecided":
        return f"carbon budget of {v.subject} not judged: {v.reason} {where}"
    if v.metric in ("inconclusive", "unproven") and v.interval is not None:
        lo, hi = (_amount(v.unit, x) for x in v.interval)
        tail = "" if v.metric == "inconclusive" else ', and inconclusive = "fail"'
        return (
            f"carbon budget of {v.subject} {'inconclusive' if v.metric == 'inconclusive' else 'not shown to be met'}:"
            f" the 95% interval {lo} - {hi} straddles the limit {_amount(v.unit, v.limit)}{tail} {where}"
        )
    if v.metric == "unmeasured":
        return f"carbon budget of {v.subject} cannot be met: {v.reason} {where}"
    scope = "" if v.subject == "test" else f" in {v.subject}"
    assert v.measured is not None
    over = f"carbon budget exceeded{scope}: {_amount(v.metric, v.measured)} > {_amount(v.metric, v.limit)}"
    if v.interval is not None:
        over += f" (95% interval {_amount(v.metric, v.interval[0])} - {_amount(v.metric, v.interval[1])})"
    return f"{over} {where}"


def detail(m: Measured, intensity: dict[str, Any], pue: float, items: int | None = None) -> str:
    """The context line: energy, duration, the intensity used, and the measurement's quality."""
    energy = format_energy(m.energy_j)
    per = f" for {items} items" if items else ""
    quality = []
    if m.estimated:
        quality.append("estimated: no energy counter")
    if m.approximate:
        quality.append("approximate: shorter than the meter's resolution")
    if disturbed(m):
        quality.append(f"disturbed: {m.foreign_cpu_share:.0%} of the busy CPU time in the window was other processes'")
    q = f"; {', '.join(quality)}" if quality else ""
    return (
        f"  energy {energy}{per} over {format_duration(m.duration_s)}, at {intensity['g_per_kwh']:.4g} g/kWh"
        f" x PUE {pue:g} ({intensity['source']}){q}"
    )


def failure_text(findings: Sequence[Finding], intensity: dict[str, Any], pue: float) -> str:
    """A test's failure text: each finding's headline, with its measurement's context."""
    lines = []
    for f in findings:
        lines.append(headline(f.violation))
        if f.violation.metric not in ("unmeasured", "undecided", "inconclusive"):
            lines.append(detail(f.measurement, intensity, pue, f.items))
    return "\n".join(lines)


def budget_use(budget: dict[str, Any] | None, co2_g: float | None, energy_j: float | None) -> tuple[float, str] | None:
    """(fraction of the budget used, margin text) on the tighter metric, or None."""
    if not budget:
        return None
    best: tuple[float, str] | None = None
    if budget.get("co2_g") and co2_g is not None:
        frac = co2_g / budget["co2_g"]
        d = co2_g - budget["co2_g"]
        best = (frac, f"{'+' if d > 0 else '-'}{format_co2(abs(d))}")
    if budget.get("energy_j") and energy_j is not None:
        frac = energy_j / budget["energy_j"]
        d = energy_j - budget["energy_j"]
        if best is None or frac > best[0]:
            best = (frac, f"{'+' if d > 0 else '-'}{format_energy(abs(d))}")
    return best


def violations_of(test: dict[str, Any]) -> list[dict[str, Any]]:
    """A report entry's violations: the test's own, then its phases'."""
    own: list[dict[str, Any]] = test.get("violations", [])
    return own + [v for p in test.get("phases", []) for v in p.get("violations", [])]


def findings_of(report: dict[str, Any]) -> list[tuple[str, Violation]]:
    """Every violation in a saved report: (node id or "session", violation), tests first."""
    out = [(t["nodeid"], from_dict(d)) for t in report["tests"] for d in violations_of(t)]
    return out + [("session", from_dict(d)) for d in (report.get("budgets") or {}).get("session_violations", [])]


def from_dict(d: dict[str, Any]) -> Violation:
    """A violation as stored in the JSON report, for rendering saved reports."""
    interval = d.get("interval")
    return Violation(
        d["subject"], d["metric"], d.get("measured"), d.get("limit", 0.0),
        Budget(None, None, d.get("source", ""), d.get("key", "")), d.get("reason", ""),
        (interval[0], interval[1]) if isinstance(interval, list) and len(interval) == 2 else None, d.get("unit", ""),
    )  # fmt: skip
