"""CarbonSession: the one state object. Windows per test and phase, results, reports.

The test's thread does as little as possible: two ``monotonic_ns()`` calls per measured test
and a list append. Everything else happens once, at the end of the session.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest

from . import intensity as intensity_mod
from .attribution import Claim, attribute
from .budget import Budget, BudgetError, Violation, for_phase, for_test, parse_value
from .config import Settings
from .projection import ProjectionSpec, project
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
    budget: Budget | None = None  # set in code: carbon.phase(..., co2=...)


class TestRecord:
    """One measured test: a plain slotted class, created once per test on the hot path."""

    __slots__ = ("nodeid", "location", "t0", "t1", "outcome", "phases", "verdict", "pauses", "projections", "info")

    def __init__(self, nodeid: str, location: tuple[str, int | None, str], t0: int):
        self.nodeid = nodeid
        self.location = location
        self.t0 = t0
        self.t1 = 0
        self.outcome = "passed"
        self.phases: list[PhaseRecord] = []
        self.verdict: Any = None
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


def _plain_pass(report: pytest.TestReport) -> bool:
    """A passed setup, call or teardown: the common report, which changes no outcome."""
    return report.outcome == "passed" and (report.when != "call" or not hasattr(report, "wasxfail"))


def next_outcome(current: str, report: pytest.TestReport) -> str:
    """A test's outcome after one more of its reports (setup, call, teardown)."""
    if report.failed:
        return "error" if report.when != "call" else "failed"
    if report.skipped:
        return ("xfailed" if hasattr(report, "wasxfail") else "skipped") if current == "passed" else current
    if report.when == "call" and report.passed and hasattr(report, "wasxfail"):
        return "xpassed"
    return current


def _positive_items(what: str, items: Any) -> None:
    if items is not None and (isinstance(items, bool) or not isinstance(items, int) or items <= 0):
        raise ValueError(f"{what}, items=...) must be a positive whole number, got {items!r}")


class CarbonFixture:
    """The ``carbon`` fixture: phases inside a test, and the test's energy so far."""

    def __init__(self, session: "CarbonSession", record: TestRecord):
        self._session = session
        self._record = record

    @contextlib.contextmanager
    def phase(
        self, name: str, items: int | None = None, *, co2: str | None = None, energy: str | None = None
    ) -> Iterator[PhaseRecord]:
        """Measure a named part of the test, e.g. ``with carbon.phase("sample", items=16):``.

        Args:
            name: the phase's name (train, sample, ...); shown under the test.
            items: how many things the phase makes or consumes (images, samples), for
                per-item energy and CO2. A positive whole number, or None.
            co2: a CO2 budget for this phase, e.g. ``"1 g"``; beats pyproject's ``phase:NAME``.
            energy: an energy budget for this phase, e.g. ``"10 Wh"``.
        """
        __tracebackhide__ = True  # a bad argument is the caller's line, not the plugin's
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"carbon.phase(name=...) needs a non-empty name, got {name!r}")
        _positive_items(f"carbon.phase({name!r}", items)
        budget = None
        if co2 is not None or energy is not None:
            given = {k: v for k, v in (("co2", co2), ("energy", energy)) if v is not None}
            text = ", ".join(f"{k}={v!r}" for k, v in given.items())
            try:
                budget = parse_value(given, f"carbon.phase({name!r}, {text})", f"carbon.phase({name!r}, {text})", "code")
            except BudgetError as e:
                raise ValueError(str(e)) from None
            self._session.ensure_enforcer()
        rec = PhaseRecord(name, time.monotonic_ns(), items=items, budget=budget)
        try:
            yield rec
        finally:
            rec.t1 = time.monotonic_ns()
            self._record.phases.append(rec)

    def add_phase(self, name: str, start_ns: int, end_ns: int, items: int | None = None) -> None:
        """A phase timed elsewhere: by other processes on this machine, on ``time.monotonic_ns()``.

        For work in subprocesses (torch.distributed workers) whose own loop is the part to
        measure: they report their start and end, the test adds them here. The span must
        lie inside this test, which has begun and not yet ended.
        """
        __tracebackhide__ = True
        now = time.monotonic_ns()
        if not (isinstance(start_ns, int) and isinstance(end_ns, int)) or not self._record.t0 <= start_ns <= end_ns <= now:
            raise ValueError(
                f"carbon.add_phase({name!r}, {start_ns!r}, {end_ns!r}): the span must be time.monotonic_ns()"
                " values inside this test, start before end"
            )
        _positive_items(f"carbon.add_phase({name!r}", items)
        self._record.phases.append(PhaseRecord(name, start_ns, end_ns, items=items))

    def project(self, phase: str, count: int, label: str | None = None) -> None:
        """Extrapolate a phase's measured per-item cost to ``count`` items (a full run).

        E.g. ``carbon.project("train", 150_000, "150k training iterations")`` after a phase
        ``train`` with ``items=`` steps. The report shows the projection as an extrapolation.
        """
        if not isinstance(phase, str) or not phase:
            raise ValueError(f"carbon.project(phase=...) needs a phase name, got {phase!r}")
        if isinstance(count, bool) or not isinstance(count, int) or count <= 0:
            raise ValueError(f"carbon.project({phase!r}, count=...) must be a positive whole number, got {count!r}")
        self._record.projections.append(ProjectionSpec(phase, count, label or f"{count:,} {phase} items"))

    def info(self, **values: Any) -> None:
        """Facts about the run to keep in the report with this test (threads, sizes, seeds).

        Values must be JSON-serialisable: str, int, float, bool, None, lists and dicts of them.
        """
        import json

        for key, value in values.items():
            try:
                json.dumps(value, allow_nan=False)
            except (TypeError, ValueError) as e:
                raise ValueError(f"carbon.info({key}=...): {value!r} cannot go into the JSON report ({e})") from None
        self._record.info.update(values)

    def energy_j(self) -> float | None:
        """This test's energy so far in joules, all channels (None where a gap hides it).

        Takes one reading of every meter on the calling thread (an NVML energy read costs
        ~4 ms), so call it between phases rather than in a tight loop.
        """
        return self._session.energy_so_far(self._record)


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
        self.test_budgets: dict[str, Budget] = {}
        self.session_violations: list[Violation] = []
        self._enforcer: Any = None
        self.worker = hasattr(config, "workerinput")  # an xdist worker: times tests, measures nothing
        # The xdist controller: collects nothing, receives each test's window from a worker.
        self.xdist_controller = not self.worker and getattr(config.option, "dist", "no") != "no"
        self.recording = False  # windows are being recorded (a sampler runs, or this is a worker)
        self._outcomes: dict[str, str] = {}  # xdist controller: outcomes by node id
        self._wire: dict[str, tuple[Any, str | None]] = {}  # xdist controller: marker budget, GPUs
        self.intensity = intensity_mod.resolve(
            intensity=settings.intensity, cloud=settings.cloud, country=settings.country, region=settings.region,
            month=settings.month,
        )  # fmt: skip
        self.baseline: dict[str, Any] | None = None
        self.comparison: Any = None
        if settings.baseline:
            try:
                self.baseline = json_report.load(settings.baseline)
            except json_report.ReportError as e:
                raise pytest.UsageError(f"pytest-carbon: --carbon-baseline: {e}") from None

    # -- sampler ---------------------------------------------------------------------------

    def _start_sampler(self) -> None:
        if self.recording:
            return
        self.recording = True
        if self.worker:
            from .xdist import WorkerRecorder

            self.config.pluginmanager.register(WorkerRecorder(self), "carbon-xdist-worker")
            return
        try:
            meters, notes = open_meters(list(self.settings.meters), self.settings.interval_s)
        except MeterUnavailable as e:
            raise pytest.UsageError(f"pytest-carbon: {e}") from None
        self.meter_notes = notes
        self.sampler = Sampler(meters, self.settings.interval_s)
        self.sampler.start()
        self.install_sigterm()

    def _stop_sampler(self) -> None:
        if self.sampler is not None and self.sampler.running:
            self.sampler.stop()
            for m in self.sampler.meters:
                m.close()

    # -- derived facts for verdicts ----------------------------------------------------------
    @property
    def g_per_j(self) -> float:
        return self.settings.pue * self.intensity.g_per_kwh / 3.6e6

    @property
    def estimated(self) -> bool:
        return self.sampler is not None and any(c.estimated for c in self.sampler.channel_infos)

    def resolution(self) -> dict[str, float]:
        """Per channel, the shortest window measured as such (shorter ones are approximate)."""
        assert self.sampler is not None
        return {
            c.name: (0.0 if c.method == CONSTANT else max(c.cadence_s, self.sampler.interval_s))
            for c in self.sampler.channel_infos
        }

    def ensure_enforcer(self) -> None:
        if self.worker:
            return  # under xdist the controller judges budgets, at the end
        if self._enforcer is None and self.settings.budget_mode != "off":
            from .enforce import BudgetEnforcer

            self._enforcer = BudgetEnforcer(self)
            self.config.pluginmanager.register(self._enforcer, "carbon-budgets")

    # -- hooks -----------------------------------------------------------------------------
    @pytest.hookimpl(trylast=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        # The xdist controller collects nothing, so it cannot know whether a worker will
        # measure a test: it samples from the start.
        if self.settings.measure_all or self.xdist_controller:
            self._start_sampler()  # collection's energy then shows as unattributed

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        from .enforce import parse_marker

        measured: set[str] = set()
        table = self.settings.budgets
        for item in items:
            marker = item.get_closest_marker("carbon")
            from_table = for_test(table, item.nodeid)
            if (
                self.settings.measure_all
                or marker is not None
                or "carbon" in getattr(item, "fixturenames", ())
                or from_table not in (None, table.default)  # a budget names it
            ):
                measured.add(item.nodeid)
                budget = (parse_marker(item) if marker is not None else None) or from_table
                if budget is not None:
                    self.test_budgets[item.nodeid] = budget
        self._measured = measured
        if measured:
            self._start_sampler()
        if self.test_budgets or table.phases or table.items:
            self.ensure_enforcer()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Any:
        result = yield
        # As pytest-cov does for coverage: by pytest_sessionfinish it is too late to fail.
        if self.settings.budget_mode != "off" and self.sampler is not None:
            from .enforce import judge_session

            self.session_violations = judge_session(self)
            failing = [v for v in self.session_violations if v.metric != "undecided"]
            if failing and self.settings.budget_mode == "enforce":
                session.testsfailed += 1
        return result

    # The hot path: logstart/logfinish bracket a test's whole protocol (setup, call,
    # teardown) and cost two plain hook calls, cheaper than a wrapper around the protocol.
    def pytest_runtest_logstart(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        if nodeid in self._measured and self.recording:
            self._current = TestRecord(nodeid, location, time.monotonic_ns())

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        rec = self._current
        if rec is not None:
            rec.t1 = time.monotonic_ns()
            self.records.append(rec)
            self._current = None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.xdist_controller:
            self._controller_report(report)
            return
        if _plain_pass(report):
            return  # the common case, first
        rec = self._current
        if rec is not None and rec.nodeid == report.nodeid:
            rec.outcome = next_outcome(rec.outcome, report)

    def _controller_report(self, report: pytest.TestReport) -> None:
        """xdist controller: outcomes as reports arrive, and each test's record with its teardown."""
        from .xdist import KEY, from_wire

        nid = report.nodeid
        if not _plain_pass(report):
            self._outcomes[nid] = next_outcome(self._outcomes.get(nid, "passed"), report)
        for key, value in report.user_properties:
            if key == KEY and isinstance(value, dict):
                rec, marker, visible = from_wire(value)
                rec.outcome = self._outcomes.pop(nid, "passed")
                self.records.append(rec)
                self._wire[nid] = (marker, visible)

    def fixture(self, request: pytest.FixtureRequest) -> CarbonFixture:
        rec = self._current
        if rec is None or rec.nodeid != request.node.nodeid or not self.recording:
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
        interrupted = exitstatus == pytest.ExitCode.INTERRUPTED
        rec = self._current
        if rec is not None:  # interrupted inside a test: keep what it measured until now
            rec.t1 = time.monotonic_ns()
            rec.outcome = "interrupted"
            self.records.append(rec)
            self._current = None
        self._stop_sampler()
        self.report = self.build_report(interrupted=interrupted)
        try:
            self.config.hook.pytest_carbon_update_json(config=self.config, report=self.report)
        except Exception as e:  # a hook's bug must not lose the measured report
            self.messages.append(f"ERROR: a pytest_carbon_update_json hook failed ({type(e).__name__}: {e}); the report is written without its changes")
            self.report = self.build_report(interrupted=interrupted)
        s = self.settings
        if self.xdist_controller and s.budget_mode != "off":
            self._xdist_verdicts(session)
        if self.baseline is not None:
            from .compare import compare

            try:
                self.comparison = compare(self.baseline, self.report, s.max_regression, s.min_delta)
            except (KeyError, TypeError, AttributeError) as e:
                self.messages.append(f"ERROR: the baseline {s.baseline} is damaged ({type(e).__name__}: {e}); not compared")
            else:
                self.report["comparison"] = self.comparison.as_dict()
                if self.comparison.failed and session.exitstatus == pytest.ExitCode.OK:
                    session.exitstatus = pytest.ExitCode.TESTS_FAILED
        self._github()
        if s.json_path:
            self._write(Path(s.json_path), self.report, "report")
        if s.record:
            self._write(Path(s.record), self.sampler.record(), "timeline")
        if s.html:
            self._write_html(Path(s.html))

    def _xdist_verdicts(self, session: pytest.Session) -> None:
        """Under xdist the verdicts come after the tests: one FAIL line each, and exit code 1."""
        from .report.verdicts import from_dict, headline, violations_of

        assert self.report is not None
        failing = 0
        for t in self.report["tests"]:
            for d in violations_of(t):
                if d["metric"] == "undecided":
                    continue
                failing += 1
                if self.settings.budget_mode == "enforce":  # warn mode lists them with the table
                    self.messages.append(f"FAIL {t['nodeid']}: {headline(from_dict(d))}")
        if failing and self.settings.budget_mode == "enforce" and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def _github(self) -> None:
        """Job summary and PR comment body; annotations go out with the terminal summary."""
        import os

        from .report import github

        assert self.report is not None
        top = self.settings.top or 10
        summary = os.environ.get("GITHUB_STEP_SUMMARY")
        if os.environ.get("GITHUB_ACTIONS") == "true" and summary:
            try:
                with open(summary, "a", encoding="utf-8") as f:
                    f.write(github.summary_markdown(self.report, self.comparison, top))
            except OSError as e:
                self.messages.append(f"ERROR: the job summary could not be written to {summary}: {e}")
        if self.settings.github_comment:
            path = Path(self.settings.github_comment)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(github.comment_markdown(self.report, self.comparison, top), encoding="utf-8")
                self.messages.append(f"carbon PR comment written to {path}")
            except OSError as e:
                self.messages.append(f"ERROR: the PR comment could not be written to {path}: {e}")

    def _write_html(self, path: Path) -> None:
        from .report import html

        assert self.report is not None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(html.render(self.report, top=max(self.settings.top, 10)), encoding="utf-8")
            self.messages.append(f"carbon HTML report written to {path}")
        except OSError as e:
            self.messages.append(f"ERROR: the HTML report could not be written to {path}: {e}")

    def _write(self, path: Path, doc: dict[str, Any], what: str) -> None:
        try:
            json_report.write_atomic(path, doc)
            self.messages.append(f"carbon {what} written to {path}")
        except OSError as e:
            # Never lose what was measured: the table still prints, and the error says why.
            self.messages.append(f"ERROR: carbon {what} could not be written to {path}: {e}")

    def pytest_unconfigure(self) -> None:
        self._stop_sampler()
        self._restore_sigterm()

    def install_sigterm(self) -> None:
        """Turn SIGTERM (a CI timeout, a cancelled job) into pytest's KeyboardInterrupt, so the
        session ends as on Ctrl-C and the report of every test measured so far is written.
        Only where SIGTERM still has its default action, and only in the main thread."""
        import signal
        import threading

        if self.worker or threading.current_thread() is not threading.main_thread():
            return
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            return

        def on_term(signum: int, frame: Any) -> None:
            raise KeyboardInterrupt("SIGTERM")

        signal.signal(signal.SIGTERM, on_term)
        self._sigterm = True

    def _restore_sigterm(self) -> None:
        import signal

        if getattr(self, "_sigterm", False):
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            self._sigterm = False

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.report is None:
            if self.xdist_controller:
                terminalreporter.write_line(
                    "carbon: tests ran in pytest-xdist workers, which pytest-carbon does not"
                    " measure yet; run without -n to measure them",
                    yellow=True,
                )
            return
        import os

        from .report import terminal

        terminal.write_summary(terminalreporter, self.report, top=self.settings.top, messages=self.messages)
        if self.comparison is not None:
            terminal.write_comparison(terminalreporter, self.comparison)
        if os.environ.get("GITHUB_ACTIONS") == "true":
            from .report.github import annotation_lines

            root = Path(str(self.config.rootpath))
            workspace = Path(os.environ.get("GITHUB_WORKSPACE") or os.getcwd())

            def relocate(f: str | None) -> str | None:
                # GitHub places annotations by path from the checkout; node ids are from rootdir.
                return None if not f else os.path.relpath(root / f, workspace)

            for line in annotation_lines(self.report, self.comparison, relocate):
                terminalreporter.write_line(line)

    # -- results ---------------------------------------------------------------------------
    def energy_so_far(self, rec: TestRecord) -> float | None:
        if self.sampler is None:
            return None  # an xdist worker: the controller measures, at the end
        self.sampler.sample_now()
        channels = self.sampler.channels()
        total = 0.0
        for ch in channels:
            seg = ch.segments[-1] if ch.segments else None
            if seg is None or not seg.start <= rec.t0 <= seg.end:
                return None  # a gap since the test started: unknown, not zero
            total += seg.values[-1] - seg.at(rec.t0)
        return total

    def _claims(self, rec: TestRecord) -> frozenset[str] | None:
        """Channels a test shares in: all, unless its xdist worker named its GPUs."""
        wire = self._wire.get(rec.nodeid)
        if wire is None or wire[1] is None or self.sampler is None:
            return None
        from .xdist import gpu_claims

        gpu_map: dict[str, str] = {}
        for m in self.sampler.meters:
            gpu_map.update(getattr(m, "gpu_map", {}))
        gpus = gpu_claims(wire[1], gpu_map)
        if gpus is None:
            return None
        return frozenset(c.name for c in self.sampler.channel_infos if not c.name.startswith("gpu:")) | gpus

    def _judge_final(self, rec: TestRecord, w: dict[str, Any], window: Any, claims: frozenset[str] | None = None) -> Any:
        """xdist: a test's budgets against its final attribution (phases judged likewise)."""
        from .budget import Measurement, Verdict, check, check_phase

        marker = self._wire.get(rec.nodeid, (None, None))[0]
        table = self.settings.budgets
        budget = for_test(table, rec.nodeid, marker)
        req = self.settings.require_measured
        if budget is not None:
            self.test_budgets[rec.nodeid] = budget
        m = Measurement(w["co2_g"], w["energy_j"]["total"], w["estimated"], w["approximate"])
        verdict = Verdict(budget=budget, measurement=m, violations=check("test", budget, m, require_measured=req))
        any_phase_budget = False
        for p in rec.phases:
            pb, ib = for_phase(table, p.name, p.budget)
            if not (pb or ib):
                continue
            any_phase_budget = True
            pw = window(p.t0, p.t1, None, claims)
            pm = Measurement(pw["co2_g"], pw["energy_j"]["total"], pw["estimated"], pw["approximate"])
            whole, each = check_phase(p.name, pb, ib, pm, p.items, require_measured=req)
            verdict.violations += whole + each
        if budget is None and not any_phase_budget:
            return None
        return verdict

    def build_report(self, interrupted: bool = False) -> dict[str, Any]:
        # Tens of thousands of small dicts on top of pytest's large heap would trigger full
        # garbage collections that walk every object of the session; none of them is garbage.
        import gc

        enabled = gc.isenabled()
        gc.disable()
        try:
            return self._build_report(interrupted)
        finally:
            if enabled:
                gc.enable()

    def _build_report(self, interrupted: bool) -> dict[str, Any]:
        assert self.sampler is not None
        sampler = self.sampler
        infos = sampler.channel_infos
        channels = sampler.channels()
        claims = [Claim(a, b, self._claims(r)) for r in self.records for a, b in r.spans()]
        points = [t for r in self.records for p in r.phases for t in (p.t0, p.t1)]
        per_channel, totals = attribute(channels, claims, points)
        resolution = self.resolution()
        factor = self.g_per_j

        cas = list(per_channel.items())
        names = [n for n, _ in cas]
        res = [resolution[n] for n in names]
        max_res = max(res, default=0.0)
        any_estimated = self.estimated

        def window(
            t0: int, t1: int, spans: list[tuple[int, int]] | None = None, claims: frozenset[str] | None = None
        ) -> dict[str, Any]:
            spans = spans or [(t0, t1)]
            energy: dict[str, float | None] = {}
            gaps: dict[str, float] = {}
            total: float | None = 0.0
            for name, ca in cas:
                if claims is not None and name not in claims:
                    continue  # a GPU this test's xdist worker does not use
                e: float | None = 0.0
                gap = 0
                for a, b in spans:
                    w = ca.window(a, b)
                    gap += w.gap_ns
                    e = None if e is None or w.energy_j is None else e + w.energy_j
                energy[name] = e
                if e is None:
                    total = None
                    gaps[name] = gap / 1e9
                elif total is not None:
                    total += e
            dur = ((spans[0][1] - spans[0][0]) if len(spans) == 1 else sum(b - a for a, b in spans)) / 1e9
            approx: list[str] = []
            if dur < max_res:  # the common case for long tests skips this loop
                for n, r in zip(names, res):
                    if dur < r and n in energy:
                        approx.append(n)
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

        table = self.settings.budgets
        use_budgets = self.settings.budget_mode != "off"
        tests = []
        for r in self.records:
            mine = self._claims(r)
            w = window(r.t0, r.t1, r.spans(), mine)
            if self.xdist_controller and use_budgets:
                r.verdict = self._judge_final(r, w, window, mine)
            verdict = r.verdict
            violations = verdict.violations if verdict is not None else []
            phases = []
            for p in r.phases:
                pw = window(p.t0, p.t1, None, mine)
                pw = {"name": p.name, **pw, "items": p.items}
                if p.items:
                    tot = pw["energy_j"]["total"]
                    pw["energy_j_per_item"] = None if tot is None else tot / p.items
                    pw["co2_g_per_item"] = None if pw["co2_g"] is None else pw["co2_g"] / p.items
                if use_budgets:
                    pb, ib = for_phase(table, p.name, p.budget)
                    subjects = (f"phase {p.name!r}", f"per item of phase {p.name!r}")
                    pw["budget"] = pb.as_dict() if pb else None
                    pw["item_budget"] = ib.as_dict() if ib else None
                    pw["violations"] = [v.as_dict() for v in violations if v.subject.startswith(subjects)]
                phases.append(pw)
            projections = []
            for spec in r.projections:
                named = [(p, pw) for p, pw in zip(r.phases, phases) if p.name == spec.phase and p.items]
                items = sum(p.items or 0 for p, _ in named)
                energies = [pw["energy_j"]["total"] for _, pw in named]
                energy = None if not named or None in energies else sum(energies)
                proj = project(spec, energy, items, factor)
                if not named:
                    proj["note"] = f"no phase {spec.phase!r} with items= in this test, so nothing to extrapolate"
                elif energy is None:
                    proj["note"] = "a meter gap makes the phase's energy unknown"
                projections.append(proj)
            entry = {
                "nodeid": r.nodeid,
                "file": r.location[0],
                "line": None if r.location[1] is None else r.location[1] + 1,
                "outcome": r.outcome,
                **w,
                "phases": phases,
                "projections": projections,
                "info": r.info,
            }
            if use_budgets:
                b = self.test_budgets.get(r.nodeid)
                m = verdict.measurement if verdict is not None else None
                entry["budget"] = b.as_dict() if b else None
                entry["budget_judged"] = (
                    None if m is None else {"co2_g": m.co2_g, "energy_j": m.energy_j, "window": "setup+call"}
                )
                entry["violations"] = [v.as_dict() for v in violations if v.subject == "test"]
            tests.append(entry)
        s = self.settings
        budgets = {
            "mode": s.budget_mode,
            "require_measured": s.require_measured,
            "declared": table.keys(),
            "session": table.session.as_dict() if table.session else None,
            "session_violations": [v.as_dict() for v in self.session_violations],
            "tests_with_budget": sum(1 for r in self.records if r.nodeid in self.test_budgets or r.verdict is not None),
            "tests_over_budget": sorted(
                r.nodeid for r in self.records if r.verdict is not None and any(v.metric != "undecided" for v in r.verdict.violations)
            ),
        }
        report = json_report.build(
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
            budgets=budgets,
        )
        report["whatif"] = self._whatif(report)
        return report

    def _whatif(self, report: dict[str, Any]) -> dict[str, Any] | None:
        from . import whatif

        i = self.intensity
        annual = i.annual_g_per_kwh if i.annual_g_per_kwh is not None else i.g_per_kwh
        try:
            return whatif.compute(
                report["totals"]["energy_j"]["total"],
                self.settings.pue,
                annual,
                whatif.zone_of(i.country, i.region),
                list(self.settings.whatif) if self.settings.whatif else None,
            )
        except (OSError, ValueError) as e:  # bundled data unreadable: say so, keep the report
            self.messages.append(f"ERROR: the what-if could not be computed: {e}")
            return None
