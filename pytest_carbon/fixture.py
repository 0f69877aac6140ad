"""The ``carbon`` fixture: phases inside a test, projections, facts, and the energy so far.

What it records goes on the test's :class:`~pytest_carbon.records.TestRecord`; nothing is
measured on the test's thread except where ``energy_j()`` asks for it.
"""

from __future__ import annotations

import contextlib
import json
import time
from typing import TYPE_CHECKING, Any, Iterator

import pytest

from .budget import BudgetError, parse_value
from .projection import ProjectionSpec
from .records import PhaseRecord, TestRecord

if TYPE_CHECKING:
    from .session import CarbonSession


MAX_COUNT = 10**15  # items or a projection's count: beyond it, per-item arithmetic loses meaning


def _positive_items(what: str, items: Any) -> None:
    if items is not None and (isinstance(items, bool) or not isinstance(items, int) or not 0 < items <= MAX_COUNT):
        raise ValueError(f"{what}, items=...) must be a positive whole number up to 10**15, got {items!r}")


class CarbonFixture:
    """The ``carbon`` fixture: phases inside a test, and the test's energy so far."""

    def __init__(self, session: "CarbonSession", record: TestRecord):
        self._session = session
        self._record = record

    @contextlib.contextmanager
    def phase(
        self,
        name: str,
        items: int | None = None,
        *,
        warmup: int = 0,
        co2: str | None = None,
        energy: str | None = None,
    ) -> Iterator[PhaseRecord]:
        """Measure a named part of the test, e.g. ``with carbon.phase("sample", items=16) as ph:``.

        Call ``ph.step()`` after each item (or loop ``for x in ph.steps(iterable)``) for
        per-item statistics: median, 10th and 90th percentiles and a 95% interval of the
        energy per item, from chunks of items each at least as long as the meters' resolution.

        Args:
            name: the phase's name (train, sample, ...); shown under the test.
            items: how many things the phase makes or consumes (images, samples), for
                per-item energy and CO2. A positive whole number, or None (with steps: their count).
            warmup: the first items (steps) to leave out of the per-item statistics; they are
                reported on their own.
            co2: a CO2 budget for this phase, e.g. ``"1 g"``; beats pyproject's ``phase:NAME``.
            energy: an energy budget for this phase, e.g. ``"10 Wh"``.
        """
        __tracebackhide__ = True  # a bad argument is the caller's line, not the plugin's
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"carbon.phase(name=...) needs a non-empty name, got {name!r}")
        self._check_running(f"carbon.phase({name!r})", "begin")
        _positive_items(f"carbon.phase({name!r}", items)
        if isinstance(warmup, bool) or not isinstance(warmup, int) or not 0 <= warmup <= MAX_COUNT:
            raise ValueError(f"carbon.phase({name!r}, warmup=...) must be a whole number of items, 0 or more, got {warmup!r}")
        budget = None
        if co2 is not None or energy is not None:
            given = {k: v for k, v in (("co2", co2), ("energy", energy)) if v is not None}
            text = ", ".join(f"{k}={v!r}" for k, v in given.items())
            try:
                budget = parse_value(given, f"carbon.phase({name!r}, {text})", f"carbon.phase({name!r}, {text})", "code")
            except BudgetError as e:
                raise ValueError(str(e)) from None
            self._session.ensure_enforcer()
        rec = PhaseRecord(name, time.monotonic_ns(), items=items, budget=budget, warmup=warmup)
        try:
            yield rec
        finally:
            rec.t1 = time.monotonic_ns()
            # A phase still open when its test ended (a thread that outlived it) would take the
            # next tests' energy: it is refused, not recorded.
            self._check_running(f"carbon.phase({name!r})", "end")
            if rec.marks and rec.items is None:
                rec.items = len(rec.marks)
            self._record.add_phase(rec)

    def _check_running(self, what: str, verb: str) -> None:
        if self._record.t1:
            raise RuntimeError(
                f"{what} cannot {verb} after its test {self._record.nodeid} has ended (a thread that"
                " outlived the test?); a phase must begin and end inside its test, and this one is not recorded"
            )

    def add_phase(self, name: str, start_ns: int, end_ns: int, items: int | None = None) -> None:
        """A phase timed elsewhere: by other processes on this machine, on ``time.monotonic_ns()``.

        For work in subprocesses (torch.distributed workers) whose own loop is the part to
        measure: they report their start and end, the test adds them here. The span must
        lie inside this test, which has begun and not yet ended.
        """
        __tracebackhide__ = True
        self._check_running(f"carbon.add_phase({name!r})", "add a phase")
        now = time.monotonic_ns()
        if not (isinstance(start_ns, int) and isinstance(end_ns, int)) or not self._record.t0 <= start_ns <= end_ns <= now:
            raise ValueError(
                f"carbon.add_phase({name!r}, {start_ns!r}, {end_ns!r}): the span must be time.monotonic_ns()"
                " values inside this test, start before end"
            )
        _positive_items(f"carbon.add_phase({name!r}", items)
        self._record.add_phase(PhaseRecord(name, start_ns, end_ns, items=items))

    def project(self, phase: str, count: int, label: str | None = None) -> None:
        """Extrapolate a phase's measured per-item cost to ``count`` items (a full run).

        E.g. ``carbon.project("train", 150_000, "150k training iterations")`` after a phase
        ``train`` with ``items=`` steps. The report shows the projection as an extrapolation.
        """
        if not isinstance(phase, str) or not phase:
            raise ValueError(f"carbon.project(phase=...) needs a phase name, got {phase!r}")
        if isinstance(count, bool) or not isinstance(count, int) or not 0 < count <= MAX_COUNT:
            shown = f"a {len(str(count))}-digit number" if isinstance(count, int) and count > 10**20 else repr(count)
            raise ValueError(f"carbon.project({phase!r}, count=...) must be a positive whole number up to 10**15, got {shown}")
        self._record.add_projection(ProjectionSpec(phase, count, label or f"{count:,} {phase} items"))

    def info(self, **values: Any) -> None:
        """Facts about the run to keep in the report with this test (threads, sizes, seeds).

        Values must be JSON-serialisable: str, int, float, bool, None, lists and dicts of them.
        """
        for key, value in values.items():
            try:
                json.dumps(value, allow_nan=False)
            except (TypeError, ValueError) as e:
                raise ValueError(f"carbon.info({key}=...): {value!r} cannot go into the JSON report ({e})") from None
        self._record.add_info(values)

    def energy_j(self) -> float | None:
        """This test's energy so far in joules, all channels (None where a gap hides it).

        Takes one reading of every meter on the calling thread (an NVML energy read costs
        ~4 ms), so call it between phases rather than in a tight loop.
        """
        return self._session.energy_so_far(self._record)


def request_fixture(session: "CarbonSession", request: pytest.FixtureRequest) -> CarbonFixture:
    """The fixture for the test being run; only a test measured from its start has one."""
    rec = session.current(request.node.nodeid)
    if rec is None:
        raise pytest.UsageError(
            f"{request.node.nodeid}: the carbon fixture was requested dynamically, so the"
            " test was not measured; request it as an argument or mark the test with"
            " @pytest.mark.carbon"
        )
    sampler = session.sampler
    if sampler is not None:  # phases and steps need readings inside the test: every interval
        sampler.densify(True)
        request.addfinalizer(lambda: sampler.densify(False))
    return CarbonFixture(session, rec)
