"""Pure comparison of a report against a baseline report (e.g. main's).

Energy (J) is compared, not CO2: two runners' grids may differ, and the same work should not
look like a regression because it ran elsewhere. A test regresses when its energy grows by
more than *both* the relative threshold and the absolute floor, and, where both runs measured
the test's noise (the 95% intervals of its stepped phases), by more than the two runs'
combined noise. A test missing from one
side is new or removed, and a test whose energy is unknown on either side (a meter gap) or
that an interrupted run cut short is listed as not comparable, never compared as zero or as
its partial energy.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

INTERRUPTED = "interrupted"  # the outcome of a test that the run's end cut short


@dataclass(frozen=True)
class Change:
    nodeid: str
    base_j: float | None
    head_j: float | None
    base_co2_g: float | None
    head_co2_g: float | None
    file: str | None = None
    line: int | None = None
    noise_j: float | None = None  # the two runs' combined 95% noise, where both have one
    decided_by: str | None = None  # against a history: the statistic that decided, or why another rule did
    history: dict[str, Any] | None = None  # against a history: n, mean, spread, limit, values

    @property
    def delta_j(self) -> float | None:
        if self.base_j is None or self.head_j is None:
            return None
        return self.head_j - self.base_j

    @property
    def ratio(self) -> float | None:
        if self.base_j is None or self.head_j is None or self.base_j <= 0:
            return None
        return self.head_j / self.base_j - 1.0

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Change:
        """A change again from its ``as_dict`` (the derived delta and ratio recomputed)."""
        return cls(
            d["nodeid"], d.get("base_j"), d.get("head_j"), d.get("base_co2_g"), d.get("head_co2_g"),
            noise_j=d.get("noise_j"), decided_by=d.get("decided_by"), history=d.get("history"),
        )  # fmt: skip

    def as_dict(self) -> dict[str, Any]:
        return {
            "nodeid": self.nodeid,
            "base_j": self.base_j,
            "head_j": self.head_j,
            "delta_j": self.delta_j,
            "change": self.ratio,
            "base_co2_g": self.base_co2_g,
            "head_co2_g": self.head_co2_g,
            "noise_j": self.noise_j,
            **({"decided_by": self.decided_by} if self.decided_by is not None else {}),
            **({"history": self.history} if self.history is not None else {}),
        }


@dataclass
class Comparison:
    max_regression: float
    min_delta_j: float
    regressions: list[Change] = field(default_factory=list)
    improvements: list[Change] = field(default_factory=list)
    unchanged: list[Change] = field(default_factory=list)
    unknown: list[Change] = field(default_factory=list)
    new: list[Change] = field(default_factory=list)
    removed: list[Change] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    base_total_j: float = 0.0
    head_total_j: float = 0.0
    method: str = "baseline report"  # or the history's window and threshold

    @property
    def failed(self) -> bool:
        return bool(self.regressions)

    def settle(self) -> None:
        """Once every test is placed: regressions largest first, improvements largest first,
        and the totals of the tests compared on both sides."""
        self.regressions.sort(key=lambda x: -(x.delta_j or 0.0))
        self.improvements.sort(key=lambda x: x.delta_j or 0.0)
        compared = [*self.regressions, *self.improvements, *self.unchanged]
        self.base_total_j = sum(ch.base_j or 0.0 for ch in compared)
        self.head_total_j = sum(ch.head_j or 0.0 for ch in compared)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Comparison:
        """The comparison again from a report's ``comparison`` (``as_dict``), for renderers that
        have only the report: the unchanged tests come back as a count (nameless entries),
        new and removed tests by node id."""
        def changes(key: str) -> list[Change]:
            return [Change.from_dict(c) for c in d.get(key) or []]

        def named(key: str) -> list[Change]:
            return [Change(n, None, None, None, None) for n in d.get(key) or []]

        return cls(
            d.get("max_regression", 0.10), d.get("min_delta_j", 50.0),
            regressions=changes("regressions"), improvements=changes("improvements"),
            unchanged=[Change("", None, None, None, None)] * int(d.get("unchanged") or 0), unknown=changes("unknown"),
            new=named("new"), removed=named("removed"), warnings=list(d.get("warnings") or []),
            base_total_j=d.get("base_total_j", 0.0), head_total_j=d.get("head_total_j", 0.0), method=d.get("method", "baseline report"),
        )  # fmt: skip

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "max_regression": self.max_regression,
            "min_delta_j": self.min_delta_j,
            "regressions": [c.as_dict() for c in self.regressions],
            "improvements": [c.as_dict() for c in self.improvements],
            "unchanged": len(self.unchanged),
            "unknown": [c.as_dict() for c in self.unknown],
            "new": [c.nodeid for c in self.new],
            "removed": [c.nodeid for c in self.removed],
            "warnings": self.warnings,
            "base_total_j": self.base_total_j,
            "head_total_j": self.head_total_j,
            # the five largest changes in energy, whatever their verdict (a PR comment leads with them)
            "largest": [
                c.as_dict()
                for c in sorted([*self.regressions, *self.improvements, *self.unchanged], key=lambda c: -abs(c.delta_j or 0.0))[:5]
            ],
        }


def _methods(report: dict[str, Any]) -> dict[str, str]:
    return {m["channel"]: m["method"] for m in report.get("run", {}).get("meters", [])}


def _hardware(report: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    hw = report.get("run", {}).get("hardware", {})
    return str(hw.get("cpu")), tuple(hw.get("gpus") or ())


def noise_j(test: dict[str, Any]) -> float | None:
    """A test's 95% noise in J: from its stepped phases' per-item intervals, each half-width
    times the phase's items after the warm-up, added in quadrature; None without any."""
    parts = []
    for p in test.get("phases") or []:
        per = p.get("per_item") if isinstance(p, dict) else None
        if not isinstance(per, dict):
            continue
        ci, n = per.get("ci95_j"), per.get("n")
        if isinstance(ci, list) and len(ci) == 2 and isinstance(n, int):
            parts.append((ci[1] - ci[0]) / 2 * n)
    return math.sqrt(sum(x * x for x in parts)) if parts else None


def compare(base: dict[str, Any], head: dict[str, Any], max_regression: float = 0.10, min_delta_j: float = 50.0) -> Comparison:
    """Compare ``head`` with ``base`` test by test (both reports as loaded dicts)."""
    c = Comparison(max_regression, min_delta_j)
    btests = {t["nodeid"]: t for t in base.get("tests", [])}
    htests = {t["nodeid"]: t for t in head.get("tests", [])}
    for nodeid, h in htests.items():
        b = btests.get(nodeid)
        ch = Change(
            nodeid,
            None if b is None else b["energy_j"].get("total"),
            h["energy_j"].get("total"),
            None if b is None else b.get("co2_g"),
            h.get("co2_g"),
            h.get("file"),
            h.get("line"),
        )
        nb, nh = (None, None) if b is None else (noise_j(b), noise_j(h))
        if nb is not None and nh is not None:
            ch = dataclasses.replace(ch, noise_j=math.sqrt(nb * nb + nh * nh))
        noisy = ch.noise_j is not None and ch.delta_j is not None and abs(ch.delta_j) <= ch.noise_j
        if b is None:
            c.new.append(ch)
        elif ch.delta_j is None or INTERRUPTED in (b.get("outcome"), h.get("outcome")):
            c.unknown.append(ch)  # unknown energy, or the partial energy of a test cut short
        elif ch.delta_j > min_delta_j and (ch.base_j == 0 or (ch.ratio or 0.0) > max_regression) and not noisy:
            c.regressions.append(ch)
        elif ch.delta_j < -min_delta_j and (ch.ratio or 0.0) < -max_regression and not noisy:
            c.improvements.append(ch)
        else:
            c.unchanged.append(ch)
    for nodeid, b in btests.items():
        if nodeid not in htests:
            c.removed.append(Change(nodeid, b["energy_j"].get("total"), None, b.get("co2_g"), None, b.get("file"), b.get("line")))
    c.settle()

    bm, hm = _methods(base), _methods(head)
    if bm != hm:
        diff = ", ".join(
            f"{ch}: {bm.get(ch, 'absent')} -> {hm.get(ch, 'absent')}" for ch in sorted(set(bm) | set(hm)) if bm.get(ch) != hm.get(ch)
        )
        c.warnings.append(f"the runs' meters differ ({diff}); the comparison is weak")
    if _hardware(base) != _hardware(head):
        (bc, bg), (hc, hg) = _hardware(base), _hardware(head)
        c.warnings.append(
            f"the runs' hardware differs (CPU {bc!r} -> {hc!r}, GPUs {list(bg)} -> {list(hg)}); the comparison is weak"
        )
    if base.get("run", {}).get("interrupted") or head.get("run", {}).get("interrupted"):
        c.warnings.append("a run was interrupted: tests it did not reach are listed as missing, not compared")
    return c
