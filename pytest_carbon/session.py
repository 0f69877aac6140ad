"""CarbonSession: the one state object. Windows per test and phase, results, reports.

The test's thread does as little as possible: two ``monotonic_ns()`` calls per measured test
and a list append. Everything else happens once, at the end of the session.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pytest

from . import intensity as intensity_mod
from .attribution import Claim, attribute
from .config import Settings
from .meters import MeterUnavailable, open_meters
from .meters.base import CONSTANT
from .report import json_report
from .sampler import Sampler



@dataclass
class PhaseRecord:
    name: str
    t0: int
    t1: int = 0
    items: int | None = None


class TestRecord:
    """One measured test: a plain slotted class, created once per test on the hot path."""

    __slots__ = ("nodeid", "location", "t0", "t1", "outcome", "phases")

    def __init__(self, nodeid: str, location: tuple[str, int | None, str], t0: int):
        self.nodeid = nodeid
        self.location = location
        self.t0 = t0
        self.t1 = 0
        self.outcome = "passed"
        self.phases: list[PhaseRecord] = []


class CarbonFixture:
    """The ``carbon`` fixture: phases inside a test, and the test's energy so far."""

    def __init__(self, session: "CarbonSession", record: TestRecord):
        self._session = session
        self._record = record

    @contextlib.contextmanager
    def phase(self, name: str, items: int | None = None) -> Iterator[PhaseRecord]:
        """Measure a named part of the test, e.g. ``with carbon.phase("sample", items=16):``.

        Args:
            name: the phase's name (train, sample, ...); shown under the test.
            items: how many things the phase makes or consumes (images, samples), for
                per-item energy and CO2. A positive whole number, or None.
        """
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"carbon.phase(name=...) needs a non-empty name, got {name!r}")
        if items is not None and (isinstance(items, bool) or not isinstance(items, int) or items <= 0):
            raise ValueError(f"carbon.phase({name!r}, items=...) must be a positive whole number, got {items!r}")
        rec = PhaseRecord(name, time.monotonic_ns(), items=items)
        try:
            yield rec
        finally:
            rec.t1 = time.monotonic_ns()
            self._record.phases.append(rec)

    def energy_j(self) -> float | None:
        """This test's energy so far in joules, all channels (None where a gap hides it).

        Takes one reading of every meter on the calling thread (an NVML energy read costs
        ~4 ms), so call it between phases rather than in a tight loop.
        """
        return self._session.energy_so_far(self._record)


class InertFixture:
    """The fixture where this process measures nothing (xdist workers): phases still run."""

    @contextlib.contextmanager
    def phase(self, name: str, items: int | None = None) -> Iterator[None]:
        yield None

    def energy_j(self) -> float | None:
        return None


class CarbonSession:
    def __init__(self, config: pytest.Config, settings: Settings):
        self.config = config
        self.settings = settings
        self.sampler: Sampler | None = None
        self.meter_notes: list[str] = []
        self.records: list[TestRecord] = []
        self._current: TestRecord | None = None
        self._measured: set[str] = set()
        self.started_wall = dt.datetime.now(dt.timezone.utc)
        self.report: dict[str, Any] | None = None
        self.messages: list[str] = []  # for the terminal summary (report write errors etc.)
        self.intensity = intensity_mod.resolve(
            intensity=settings.intensity, cloud=settings.cloud, country=settings.country, region=settings.region
        )

    # -- sampler ---------------------------------------------------------------------------
    @property
    def xdist_controller(self) -> bool:
        return getattr(self.config.option, "dist", "no") != "no"

    def _start_sampler(self) -> None:
        if self.sampler is not None or self.xdist_controller:
            return
        try:
            meters, notes = open_meters(list(self.settings.meters), self.settings.interval_s)
        except MeterUnavailable as e:
            raise pytest.UsageError(f"pytest-carbon: {e}") from None
        self.meter_notes = notes
        self.sampler = Sampler(meters, self.settings.interval_s)
        self.sampler.start()

    def _stop_sampler(self) -> None:
        if self.sampler is not None and self.sampler.running:
            self.sampler.stop()
            for m in self.sampler.meters:
                m.close()

    # -- hooks -----------------------------------------------------------------------------
    @pytest.hookimpl(trylast=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if self.settings.measure_all:
            self._start_sampler()  # collection's energy then shows as unattributed

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        measured: set[str] = set()
        for item in items:
            if (
                self.settings.measure_all
                or item.get_closest_marker("carbon") is not None
                or "carbon" in getattr(item, "fixturenames", ())
            ):
                measured.add(item.nodeid)
        self._measured = measured
        if measured:
            self._start_sampler()

    # The hot path: logstart/logfinish bracket a test's whole protocol (setup, call,
    # teardown) and cost two plain hook calls, cheaper than a wrapper around the protocol.
    def pytest_runtest_logstart(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        if nodeid in self._measured and self.sampler is not None:
            self._current = TestRecord(nodeid, location, time.monotonic_ns())

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        rec = self._current
        if rec is not None:
            rec.t1 = time.monotonic_ns()
            self.records.append(rec)
            self._current = None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.outcome == "passed" and (report.when != "call" or not hasattr(report, "wasxfail")):
            return  # the common case, first
        rec = self._current
        if rec is None or rec.nodeid != report.nodeid:
            return
        if report.failed:
            rec.outcome = "error" if report.when != "call" else "failed"
        elif report.skipped and rec.outcome == "passed":
            rec.outcome = "xfailed" if hasattr(report, "wasxfail") else "skipped"
        elif report.when == "call" and report.passed:
            rec.outcome = "xpassed"

    def fixture(self, request: pytest.FixtureRequest) -> CarbonFixture:
        rec = self._current
        if rec is None or rec.nodeid != request.node.nodeid or self.sampler is None:
            raise pytest.UsageError(
                f"{request.node.nodeid}: the carbon fixture was requested dynamically, so the"
                " test was not measured; request it as an argument or mark the test with"
                " @pytest.mark.carbon"
            )
        return CarbonFixture(self, rec)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.sampler is None:
            return
        self._stop_sampler()
        interrupted = exitstatus == pytest.ExitCode.INTERRUPTED
        self.report = self.build_report(interrupted=interrupted)
        s = self.settings
        if s.json_path:
            self._write(Path(s.json_path), self.report, "report")
        if s.record:
            self._write(Path(s.record), self.sampler.record(), "timeline")

    def _write(self, path: Path, doc: dict[str, Any], what: str) -> None:
        try:
            json_report.write_atomic(path, doc)
            self.messages.append(f"carbon {what} written to {path}")
        except OSError as e:
            # Never lose what was measured: the table still prints, and the error says why.
            self.messages.append(f"ERROR: carbon {what} could not be written to {path}: {e}")

    def pytest_unconfigure(self) -> None:
        self._stop_sampler()

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.report is None:
            if self.xdist_controller:
                terminalreporter.write_line(
                    "carbon: tests ran in pytest-xdist workers, which pytest-carbon does not"
                    " measure yet; run without -n to measure them",
                    yellow=True,
                )
            return
        from .report import terminal

        terminal.write_summary(terminalreporter, self.report, top=self.settings.top, messages=self.messages)

    # -- results ---------------------------------------------------------------------------
    def energy_so_far(self, rec: TestRecord) -> float | None:
        assert self.sampler is not None
        self.sampler.sample_now()
        channels = self.sampler.channels()
        total = 0.0
        for ch in channels:
            seg = ch.segments[-1] if ch.segments else None
            if seg is None or not seg.start <= rec.t0 <= seg.end:
                return None  # a gap since the test started: unknown, not zero
            total += seg.values[-1] - seg.at(rec.t0)
        return total

    def build_report(self, interrupted: bool = False) -> dict[str, Any]:
        assert self.sampler is not None
        sampler = self.sampler
        infos = sampler.channel_infos
        channels = sampler.channels()
        claims = [Claim(r.t0, r.t1) for r in self.records]
        points = [t for r in self.records for p in r.phases for t in (p.t0, p.t1)]
        per_channel, totals = attribute(channels, claims, points)
        resolution = {
            c.name: (0.0 if c.method == CONSTANT else max(c.cadence_s, sampler.interval_s)) for c in infos
        }
        estimated_channels = {c.name for c in infos if c.estimated}
        factor = self.settings.pue * self.intensity.g_per_kwh / 3.6e6  # g per J

        cas = list(per_channel.items())
        names = [n for n, _ in cas]
        res = [resolution[n] for n in names]
        any_estimated = bool(estimated_channels & set(names))

        def window(t0: int, t1: int) -> dict[str, Any]:
            energy: dict[str, float | None] = {}
            gaps: dict[str, float] = {}
            total: float | None = 0.0
            for name, ca in cas:
                w = ca.window(t0, t1)
                energy[name] = w.energy_j
                if w.energy_j is None:
                    total = None
                    gaps[name] = w.gap_ns / 1e9
                elif total is not None:
                    total += w.energy_j
            dur = (t1 - t0) / 1e9
            approx = [n for n, r in zip(names, res) if dur < r]
            energy["total"] = total
            return {
                "duration_s": dur,
                "energy_j": energy,
                "co2_g": None if total is None else total * factor,
                "approximate": bool(approx),
                "approximate_channels": approx,
                "estimated": any_estimated,
                "gaps_s": gaps,
            }

        tests = []
        for r in self.records:
            w = window(r.t0, r.t1)
            phases = []
            for p in r.phases:
                pw = window(p.t0, p.t1)
                pw = {"name": p.name, **pw, "items": p.items}
                if p.items:
                    tot = pw["energy_j"]["total"]
                    pw["energy_j_per_item"] = None if tot is None else tot / p.items
                    pw["co2_g_per_item"] = None if pw["co2_g"] is None else pw["co2_g"] / p.items
                phases.append(pw)
            tests.append(
                {
                    "nodeid": r.nodeid,
                    "file": r.location[0],
                    "line": None if r.location[1] is None else r.location[1] + 1,
                    "outcome": r.outcome,
                    **w,
                    "phases": phases,
                }
            )
        return json_report.build(
            settings=self.settings,
            intensity=self.intensity,
            started=self.started_wall,
            duration_s=((sampler.stopped_ns or 0) - (sampler.started_ns or 0)) / 1e9,
            infos=infos,
            interval_s=sampler.interval_s,
            meter_notes=self.meter_notes,
            meter_errors=sampler.errors(),
            tests=tests,
            totals=totals,
            g_per_j=factor,
            rootdir=Path(str(self.config.rootpath)),
            interrupted=interrupted,
        )
