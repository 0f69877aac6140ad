"""What the test's thread records: a window per test and per phase, and a few facts.

Plain data, no pytest: two ``time.monotonic_ns()`` stamps per window and a list append are
all a measured test costs while it runs. Everything else is computed once, at the end.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Iterable, Iterator, TypeVar

from .budget import Budget
from .projection import ProjectionSpec


@dataclass
class PhaseRecord:
    """A phase's window, and where each of its items ended if the test said (``step()``)."""

    name: str
    t0: int
    t1: int = 0
    items: int | None = None
    budget: Budget | None = None  # set in code: carbon.phase(..., co2=...)
    warmup: int = 0  # the first items, left out of the per-item statistics
    marks: list[int] = field(default_factory=list)  # time.monotonic_ns() at each item's end

    def step(self) -> None:
        """Mark the end of one item (a training step, a generated image)."""
        self.marks.append(time.monotonic_ns())

    def steps(self, iterable: Iterable[T]) -> Iterator[T]:
        """Yield each item of ``iterable``, marking its end when the loop asks for the next."""
        for x in iterable:
            yield x
            self.marks.append(time.monotonic_ns())


T = TypeVar("T")

_NONE: Any = ()  # an empty sequence shared by every record until it gets its own list
_NO_INFO: Any = MappingProxyType({})  # likewise, a read-only empty mapping


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
        # Empty and shared until the test adds to them: one object per test on the hot path,
        # not five, so that pytest's garbage collections do not grow with the suite.
        self.phases: list[PhaseRecord] = _NONE
        self.pauses: list[tuple[int, int]] = _NONE  # the plugin's own waits, not the test's
        self.projections: list[ProjectionSpec] = _NONE
        self.info: dict[str, Any] = _NO_INFO

    def add_phase(self, phase: PhaseRecord) -> None:
        if self.phases is _NONE:
            self.phases = []
        self.phases.append(phase)

    def add_pause(self, t0: int, t1: int) -> None:
        if self.pauses is _NONE:
            self.pauses = []
        self.pauses.append((t0, t1))

    def add_projection(self, spec: ProjectionSpec) -> None:
        if self.projections is _NONE:
            self.projections = []
        self.projections.append(spec)

    def add_info(self, values: dict[str, Any]) -> None:
        if self.info is _NO_INFO:
            self.info = {}
        self.info.update(values)

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


# A finished test with nothing but its window and outcome, kept as a tuple of atomic values:
# the garbage collector stops tracking such tuples, so ten thousand of them cost no time in
# the collections that pytest's large heap already makes slow.
Plain = tuple[str, tuple[str, "int | None", str], int, int, str]


def keep(rec: TestRecord) -> "TestRecord | Plain":
    """What the session keeps of a finished test: the record itself, or its compact form."""
    if rec.phases or rec.pauses or rec.projections or rec.info:
        return rec
    return (rec.nodeid, rec.location, rec.t0, rec.t1, rec.outcome)


def full(k: "TestRecord | Plain") -> TestRecord:
    """A kept record as a TestRecord (a compact one made anew)."""
    if type(k) is not tuple:
        return k  # type: ignore[return-value]
    r = TestRecord(k[0], k[1], k[2])
    r.t1, r.outcome = k[3], k[4]
    return r


def plain_pass(report: Any) -> bool:
    """A passed setup, call or teardown: the common report, which changes no outcome.

    pytest's skipping plugin sets ``wasxfail`` on the report object itself; looking in its
    ``__dict__`` spares the exception a failed ``hasattr`` raises inside, once per test.
    """
    return bool(report.outcome == "passed" and (report.when != "call" or "wasxfail" not in getattr(report, "__dict__", ("wasxfail",))))


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
