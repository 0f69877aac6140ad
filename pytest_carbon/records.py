"""What the test's thread records: a window per test and per phase, and a few facts.

Plain data, no pytest: two ``time.monotonic_ns()`` stamps per window and a list append are
all a measured test costs while it runs. Everything else is computed once, at the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .budget import Budget
from .projection import ProjectionSpec


@dataclass
class PhaseRecord:
    name: str
    t0: int
    t1: int = 0
    items: int | None = None
    budget: Budget | None = None  # set in code: carbon.phase(..., co2=...)


class TestRecord:
    """One measured test: a plain slotted class, created once per test on the hot path."""

    __slots__ = ("nodeid", "location", "t0", "t1", "outcome", "phases", "pauses", "projections", "info")
    __test__ = False  # not a test class, whatever pytest's collection patterns say

    def __init__(self, nodeid: str, location: tuple[str, int | None, str], t0: int):
        self.nodeid = nodeid
        self.location = location
        self.t0 = t0
        self.t1 = 0
        self.outcome = "passed"
        self.phases: list[PhaseRecord] = []
        self.pauses: list[tuple[int, int]] = []  # the plugin's own waits, not the test's
        self.projections: list[ProjectionSpec] = []
        self.info: dict[str, Any] = {}

    def spans(self) -> list[tuple[int, int]]:
        """The test's window less the plugin's pauses (a budget verdict's wait)."""
        if not self.pauses:
            return [(self.t0, self.t1)]
        out, start = [], self.t0
        for a, b in self.pauses:
            out.append((start, a))
            start = b
        out.append((start, self.t1))
        return [(a, b) for a, b in out if b > a]


def plain_pass(report: Any) -> bool:
    """A passed setup, call or teardown: the common report, which changes no outcome."""
    return bool(report.outcome == "passed" and (report.when != "call" or not hasattr(report, "wasxfail")))


def next_outcome(current: str, report: Any) -> str:
    """A test's outcome after one more of its reports (a pytest ``TestReport``: setup, call, teardown)."""
    if report.outcome == "rerun":  # pytest-rerunfailures: this attempt failed and runs again
        return "rerun"
    if report.failed:
        return "error" if report.when != "call" else "failed"
    if report.skipped:
        return ("xfailed" if hasattr(report, "wasxfail") else "skipped") if current == "passed" else current
    if report.when == "call" and report.passed and hasattr(report, "wasxfail"):
        return "xpassed"
    return current


# Outcomes whose test did not run to a result: budgets do not judge them.
NOT_JUDGED = frozenset({"skipped", "xfailed"})
