"""The typed result model: a window's measurement, a phase, a test, the totals.

Frozen values with units in their names (``energy_j``, ``co2_g``, ``duration_s``). The JSON
report (schema ``pytest-carbon/1``) is produced from them here and nowhere else; renderers
read that document, so that a saved report and a live run print the same way.

:func:`measure_window` is the one place a window's per-channel energies become a
measurement (total, gaps, approximate, estimated, CO2): report building, the live
``carbon.energy_j()``, budget verdicts and the xdist controller all call it.
"""

from __future__ import annotations

import heapq
from types import MappingProxyType

from typing import Any, Iterable, Mapping, NamedTuple, Sequence

from .attribution import ChannelTotals
from .budget import Budget, Violation, fails
from .projection import Projection
from .steps import PerItem
from .timeline import WindowEnergy
from .units import CAR_G_PER_KM

SCHEMA = "pytest-carbon/1"


class Window(NamedTuple):
    """One window's measurement: per channel and in total; None where a gap hides it.

    Immutable like the frozen dataclasses here, and a NamedTuple because there is one per test
    and phase: it is made three times faster.
    """

    duration_s: float
    channels_j: Mapping[str, float | None]
    energy_j: float | None  # all channels; None when any channel's energy is unknown
    co2_g: float | None
    approximate_channels: tuple[str, ...]  # channels whose resolution is longer than the window
    estimated: bool  # some channel is a model (TDP x utilisation, constant watts), not a counter
    gaps_s: Mapping[str, float]  # per unknown channel, the time its meter did not cover
    # Share of the machine's busy CPU time in the window spent outside the pytest process
    # tree (a neighbour's load); None where it is unknown.
    foreign_cpu_share: float | None = None

    @property
    def approximate(self) -> bool:
        return bool(self.approximate_channels)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        self.fill_json(out)
        return out

    def fill_json(self, out: dict[str, Any]) -> None:
        """Put this window's fields into ``out`` (a test's or phase's JSON object)."""
        energy = dict(self.channels_j)
        energy["total"] = self.energy_j
        out["duration_s"] = self.duration_s
        out["energy_j"] = energy
        out["co2_g"] = self.co2_g
        out["approximate"] = bool(self.approximate_channels)
        out["approximate_channels"] = list(self.approximate_channels)
        out["estimated"] = self.estimated
        out["gaps_s"] = dict(self.gaps_s)
        out["foreign_cpu_share"] = self.foreign_cpu_share


def measure_window(
    energies: Mapping[str, WindowEnergy],
    duration_s: float,
    resolution_s: Mapping[str, float],
    estimated: bool,
    g_per_j: float,
    foreign_cpu_share: float | None = None,
) -> Window:
    """A window's measurement from its energy on each channel.

    Args:
        energies: channel -> the window's energy on it (None inside: unknown, with its gap).
        duration_s: the window's length (the test's time, less the plugin's own pauses).
        resolution_s: channel -> the shortest window it measures as such; a shorter window
            is approximate on that channel.
        estimated: whether the run's figures are estimates (no energy counter).
        g_per_j: grams CO2eq per joule (intensity x PUE).
        foreign_cpu_share: the window's share of busy CPU time outside the process tree.
    """
    parts = ((name, w.covered_j, w.gap_ns) for name, w in energies.items())
    return measure_parts(parts, duration_s, resolution_s, estimated, g_per_j, foreign_cpu_share)


NO_GAPS: Mapping[str, float] = MappingProxyType({})  # shared by every window without a gap


def measure_parts(
    parts: Iterable[tuple[str, float, int]],
    duration_s: float,
    resolution_s: Mapping[str, float],
    estimated: bool,
    g_per_j: float,
    foreign_cpu_share: float | None = None,
) -> Window:
    """:func:`measure_window` from (channel, covered energy, uncovered ns) per channel: a
    channel's energy is known only where its meter covered the whole window."""
    channels: dict[str, float | None] = {}
    gaps: dict[str, float] = {}
    total: float | None = 0.0
    for name, covered, gap_ns in parts:
        if gap_ns:
            channels[name] = total = None
            gaps[name] = gap_ns / 1e9
        else:
            channels[name] = covered
            if total is not None:
                total += covered
    approx: tuple[str, ...] = ()
    if resolution_s and duration_s < max(resolution_s.values()):  # else no channel is coarser
        approx = tuple(n for n in channels if duration_s < resolution_s.get(n, 0.0))
    # duration_s, channels_j, energy_j, co2_g, approximate_channels, estimated, gaps_s, foreign
    co2 = None if total is None else total * g_per_j
    return Window(duration_s, channels, total, co2, approx, estimated, gaps or NO_GAPS, foreign_cpu_share)


def _per_item(x: float | None, items: int) -> float | None:
    return None if x is None else x / items


class Judged(NamedTuple):
    """A window's budgets and findings; present only where budgets are in use."""

    budget: Budget | None
    violations: tuple[Violation, ...]
    item_budget: Budget | None = None  # phases only


class PhaseResult(NamedTuple):
    """A phase of a test: its window, items, verdict and per-item figures."""

    name: str
    window: Window
    items: int | None
    judged: Judged | None = None
    per_item: PerItem | None = None  # from the test's step() marks; None: one figure, no spread

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        self.window.fill_json(out)
        out["items"] = self.items
        if self.items:
            out["energy_j_per_item"] = _per_item(self.window.energy_j, self.items)
            out["co2_g_per_item"] = _per_item(self.window.co2_g, self.items)
        out["per_item"] = None if self.per_item is None else self.per_item.to_json()
        if self.judged is not None:
            j = self.judged
            out["budget"] = j.budget.as_dict() if j.budget else None
            out["item_budget"] = j.item_budget.as_dict() if j.item_budget else None
            out["violations"] = [v.as_dict() for v in j.violations]
        return out


class Attempt(NamedTuple):
    """One run of a test that ran more than once (pytest-rerunfailures)."""

    outcome: str  # "rerun" for an attempt that failed and was run again
    duration_s: float
    energy_j: float | None

    def to_json(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "duration_s": self.duration_s, "energy_j": self.energy_j}


class TestResult(NamedTuple):
    """One test's results (a NamedTuple, immutable: one is made per test)."""

    nodeid: str
    file: str
    line: int | None  # 1-based
    outcome: str
    window: Window
    phases: tuple[PhaseResult, ...] = ()
    projections: tuple[Projection, ...] = ()
    info: Mapping[str, Any] | None = None
    judged: Judged | None = None
    judged_on: tuple[float | None, float | None] | None = None  # (co2_g, energy_j) of the verdict
    attempts: tuple[Attempt, ...] = ()  # each run of a test that ran more than once, in order

    @property
    def violations(self) -> tuple[Violation, ...]:
        """The test's own violations, then its phases'."""
        own = self.judged.violations if self.judged else ()
        if not self.phases:
            return own
        return own + tuple(v for p in self.phases if p.judged for v in p.judged.violations)

    @property
    def failing(self) -> bool:
        """Over a budget (an undecided verdict on unknown energy is not a failure)."""
        return any(fails(v) for v in self.violations)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"nodeid": self.nodeid, "file": self.file, "line": self.line, "outcome": self.outcome}
        self.window.fill_json(out)
        out["phases"] = [p.to_json() for p in self.phases] if self.phases else []
        out["projections"] = [p.to_json() for p in self.projections] if self.projections else []
        out["info"] = dict(self.info) if self.info else {}
        if self.attempts:
            out["attempts"] = [a.to_json() for a in self.attempts]
        if self.judged is not None:
            j = self.judged
            out["budget"] = j.budget.as_dict() if j.budget else None
            out["budget_judged"] = None if self.judged_on is None else {
                "co2_g": self.judged_on[0], "energy_j": self.judged_on[1], "window": "setup+call"
            }  # fmt: skip
            out["violations"] = [v.as_dict() for v in j.violations]
        return out


setattr(TestResult, "__test__", False)  # not a test class, whatever pytest's collection patterns say


class Totals(NamedTuple):
    """The session's energy by channel, and where it went: tests, incomplete windows, nobody."""

    channels: Mapping[str, ChannelTotals]
    g_per_j: float
    tests: int
    estimated: bool
    approximate_tests: int = 0  # tests shorter than some channel's resolution

    @property
    def measured_j(self) -> float:
        return sum(t.measured_j for t in self.channels.values())

    def to_json(self) -> dict[str, Any]:
        ch = self.channels
        co2 = self.measured_j * self.g_per_j
        return {
            "energy_j": {**{n: t.measured_j for n, t in ch.items()}, "total": self.measured_j},
            "attributed_j": sum(t.attributed_j for t in ch.values()),
            "incomplete_j": sum(t.incomplete_j for t in ch.values()),
            "unattributed_j": sum(t.unattributed_j for t in ch.values()),
            "gaps_s": {n: t.gap_ns / 1e9 for n, t in ch.items() if t.gap_ns},
            "channels": {
                n: {
                    "measured_j": t.measured_j,
                    "attributed_j": t.attributed_j,
                    "incomplete_j": t.incomplete_j,
                    "unattributed_j": t.unattributed_j,
                }
                for n, t in ch.items()
            },
            "co2_g": co2,
            "car_km": co2 / CAR_G_PER_KM,
            "tests": self.tests,
            "approximate_tests": self.approximate_tests,
            "estimated": self.estimated,
        }


class BudgetSummary(NamedTuple):
    """The run's budgets at a glance: mode, what was declared, what went over."""

    mode: str
    require_measured: bool
    declared: tuple[str, ...]
    session: Budget | None
    session_violations: tuple[Violation, ...]
    tests_with_budget: int
    tests_over_budget: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "require_measured": self.require_measured,
            "declared": list(self.declared),
            "session": self.session.as_dict() if self.session else None,
            "session_violations": [v.as_dict() for v in self.session_violations],
            "tests_with_budget": self.tests_with_budget,
            "tests_over_budget": list(self.tests_over_budget),
        }


class RunResult(NamedTuple):
    """A whole run: its metadata (host, meters, intensity: plain JSON values), tests, totals."""

    run: Mapping[str, Any]
    tests: Sequence[TestResult]
    totals: Totals
    budgets: BudgetSummary | None
    whatif: Mapping[str, Any] | None

    def to_json(self, tests: Sequence[TestResult] | None = None) -> dict[str, Any]:
        """The JSON document; with ``tests``, one that lists only those (totals count them all)."""
        return {
            "schema": SCHEMA,
            "run": dict(self.run),
            "tests": [t.to_json() for t in (self.tests if tests is None else tests)],
            "budgets": None if self.budgets is None else self.budgets.to_json(),
            "totals": self.totals.to_json(),
            "whatif": None if self.whatif is None else dict(self.whatif),
        }


def summary_tests(tests: Sequence[TestResult], top: int) -> list[TestResult]:
    """The tests a terminal summary needs, in run order: the ``top`` by CO2eq, and every test
    with a budget violation or a projection. The rest are in the totals and the JSON report.

    The top is chosen as ``report.view.by_co2`` orders a report (unknown CO2 last, ties in
    run order), so a summary of these tests shows what a summary of all of them would.
    """
    def key(i: int) -> float:
        co2 = tests[i].window.co2_g
        return -1.0 if co2 is None else co2

    keep = set(heapq.nlargest(top, range(len(tests)), key=key)) if top > 0 else set()
    return [t for i, t in enumerate(tests) if i in keep or t.projections or t.violations]
