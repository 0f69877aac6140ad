"""CarbonSession: the one state object. It orchestrates, and computes nothing itself.

pytest's hooks go to records (:mod:`records`), the sampler, budget verdicts (:mod:`enforce`),
the results (:mod:`assemble`) and the outputs (:mod:`outputs`). The test's own thread does as
little as possible: two ``monotonic_ns()`` calls per measured test and a list append (and, now
and then, a reading at a test's edge: ``Sampler.edge``).

The run fails through one path: the ``pytest_runtestloop`` wrapper (as pytest-cov does; by
``pytest_sessionfinish`` it is too late), which builds the results once the tests have run.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from . import intensity as intensity_mod
from . import outcomes, outputs
from .assemble import Budgets, Meters, build_run
from .budget import Budget, Measurement, Verdict, for_test, judge_session
from .config import Settings
from .meters import LoadProbe, MeterUnavailable, open_meters
from .records import Plain, TestRecord, keep
from .report import json_report
from .results import RunResult, TestResult, Window, measure_window, summary_tests
from .sampler import Sampler
from .signals import CollectorOff, term_as_interrupt
from .units import g_per_j

if TYPE_CHECKING:
    from .compare import Comparison


class CarbonSession:
    def __init__(self, config: pytest.Config, settings: Settings):
        self.config = config
        self.settings = settings
        self.sampler: Sampler | None = None
        self.meter_notes: list[str] = []
        self.records: list[TestRecord | Plain] = []  # finished tests (see records.keep)
        self._current: TestRecord | None = None  # made when asked for (fixture, xdist), else None
        self._open: tuple[str, tuple[str, int | None, str], int, int] | None = None  # the running test
        self._measured: set[str] | None = set()  # the node ids measured; None: every test
        self.started_wall = dt.datetime.now(dt.timezone.utc)
        self.result: RunResult | None = None  # from finish() until the outputs are written
        self.failures = 0  # what the plugin adds to pytest's count of failures (run_failures)
        self.report: dict[str, Any] | None = None  # the result's JSON document, as amended by hooks
        self.comparison: Comparison | None = None
        self.messages: list[str] = []  # for the terminal summary (report write errors etc.)
        self.test_budgets: dict[str, Budget] = {}
        self.verdicts: dict[str, Verdict] = {}  # made in process, when each call ended
        self._enforcer: Any = None
        self._sigterm: Any = None
        self._collector = CollectorOff()
        self._finished = False  # the results were built (or building them failed): once per run
        self.worker = hasattr(config, "workerinput")  # an xdist worker: times tests, measures nothing
        # The xdist controller: collects nothing, receives each test's window from a worker.
        self.xdist_controller = not self.worker and getattr(config.option, "dist", "no") != "no"
        self.recording = False  # windows are being recorded (a sampler runs, or this is a worker)
        self._watch: Any = None  # outcomes.FromStats or FromHook, from the session's start
        self._stats: dict[str, list[Any]] | None = None  # FromStats's, read inline on the hot path
        self._markers: dict[str, Budget | None] = {}  # xdist controller: marker budgets by node id
        self._visible: dict[str, str | None] = {}  # xdist controller: each test's CUDA_VISIBLE_DEVICES
        self.intensity = settings.place or intensity_mod.resolve(
            intensity=settings.intensity, cloud=settings.cloud, country=settings.country, region=settings.region,
            month=settings.month,
        )  # fmt: skip  # resolved once by config.load; Settings made by hand resolve here
        self.g_per_j = g_per_j(self.intensity.g_per_kwh, settings.pue)
        self.baseline: dict[str, Any] | None = None
        if settings.baseline and settings.baseline != "history":
            try:
                self.baseline = json_report.load(settings.baseline)
            except json_report.ReportError as e:
                raise pytest.UsageError(f"pytest-carbon: --carbon-baseline: {e}") from None

    # -- sampler ---------------------------------------------------------------------------
    def _start_sampler(self) -> None:
        if self.recording:
            return
        self.recording = True
        if self.xdist_controller:  # outcomes and records arrive with the workers' reports
            from .xdist import ControllerReports

            self.config.pluginmanager.register(ControllerReports(self), "carbon-xdist-controller")
        else:
            self._watch = outcomes.watch(self.config)  # each test's outcome from its reports
            self._stats = getattr(self._watch, "stats", None)
        if self.worker:
            from .xdist import WorkerRecorder

            self.config.pluginmanager.register(WorkerRecorder(self), "carbon-xdist-worker")
            return
        s, probe = self.settings, LoadProbe()  # the process tree's and the machine's CPU time
        try:
            meters, self.meter_notes = open_meters(list(s.meters), s.interval_s, s.scope, probe)
        except MeterUnavailable as e:
            raise pytest.UsageError(f"pytest-carbon: {e}") from None
        self.sampler = Sampler(meters, s.interval_s, probe)
        # Sparse unless an xdist controller, which sees no test's edges: its workers run them.
        self.sampler.sparse = self.sampler.cheap and not self.xdist_controller
        self.sampler.start()
        self._sigterm = term_as_interrupt()

    def _stop_sampler(self) -> None:
        if self.sampler is not None and self.sampler.running:
            self.sampler.stop()

    # -- live measurements (budget verdicts, carbon.energy_j) -------------------------------
    def current(self, nodeid: str) -> TestRecord | None:
        """The record of the test being run, if it is ``nodeid`` and measured."""
        rec = self._current
        if rec is None and self._open is not None and self._open[0] == nodeid:
            rec = self._current = TestRecord(*self._open[:3])
        return rec if rec is not None and rec.nodeid == nodeid else None

    def measure_live(self, t0: int, t1: int) -> Window:
        """One window from the readings so far, as if no other window overlapped it."""
        sampler = self.sampler
        assert sampler is not None
        foreign = sampler.foreign_share(t0, t1)
        return measure_window(sampler.window(t0, t1), (t1 - t0) / 1e9, sampler.resolution(), sampler.estimated, self.g_per_j, foreign)

    def wait_for_sampler(self, rec: TestRecord, t1: int) -> None:
        """Wait until the meters have read past ``t1``; the wait is the plugin's, not the test's."""
        assert self.sampler is not None
        self.sampler.wait_past(t1)
        rec.add_pause(t1, time.monotonic_ns())  # its energy goes to "outside tests"

    def energy_so_far(self, rec: TestRecord) -> float | None:
        if self.sampler is None:
            return None  # an xdist worker: the controller measures, at the end
        self.sampler.sample_now()
        return self.measure_live(rec.t0, self.sampler.last_read_ns).energy_j

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
        if (self.settings.measure_all or self.xdist_controller) and not self.config.option.collectonly:
            self._start_sampler()  # collection's energy then shows as unattributed

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        from .enforce import parse_marker
        from .selection import foreign_marker_note, own_marker, uses_our_fixture

        measured: set[str] = set()
        s = self.settings
        table, name, everything, asked = s.budgets, s.marker, s.measure_all, s.asked
        default, patterns = table.default, bool(table.tests)
        plain = everything and not patterns and default is None  # a test without a marker: measured, no budget
        foreign: list[str] = []
        parents: dict[Any, Any] = {}
        for item in items:
            marker, theirs = own_marker(item, name, asked, parents)
            if theirs:
                foreign.append(item.nodeid)
            if plain and marker is None:
                continue  # nothing to note of it (and item.nodeid is not free)
            nodeid = item.nodeid
            from_table = for_test(table, nodeid) if patterns else default
            if everything or marker is not None or uses_our_fixture(item) or from_table not in (None, default):  # a budget names it
                measured.add(nodeid)
                budget = (parse_marker(item, name) if marker is not None else None) or from_table
                if budget is not None:
                    self.test_budgets[nodeid] = budget
        if foreign:
            self.messages.append(foreign_marker_note(name, foreign))
        # Every test (a run that measures all, in process): no set of node ids to look in.
        self._measured = None if everything and not self.xdist_controller else measured
        if (measured or everything) and items and not self.config.option.collectonly:
            self._start_sampler()
        if self.test_budgets or table.phases or table.items:
            self.ensure_enforcer()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Any:
        result = yield
        # The one place the plugin fails the run, once every test has run.
        if self.sampler is not None:
            self.finish(interrupted=False)
            session.testsfailed += self.failures
        return result

    # The hot path: logstart/logfinish bracket a test's protocol (setup, call, teardown). They call
    # nothing of the plugin's in the common case: between two tests pytest pushes this code out of
    # the CPU's caches, each call costing several times its in-loop cost (FromStats, edge inline).
    def pytest_runtest_logstart(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        m = self._measured
        if (m is None or nodeid in m) and self.recording:
            st = self._stats
            if st is None:
                mark = self._watch.start(nodeid)
            else:  # FromStats.start
                mark = sum(map(len, st.values())) - len(st.get("", ())) - len(st.get("passed", ()))
                w = self._watch
                if mark != w.others:
                    w.others, w.at = mark, list(map(len, st.values()))
            now = time.monotonic_ns()
            s = self.sampler
            if s is not None and now >= s.edge_due_ns:
                now = s.edge(now)
            # A plain test is a tuple until it ends; its record is made if something asks (the fixture).
            self._open = (nodeid, location, now, mark)

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        o = self._open
        if o is not None:
            t1 = time.monotonic_ns()
            st = self._stats
            if st is not None and sum(map(len, st.values())) - len(st.get("", ())) - len(st.get("passed", ())) == o[3]:
                outcome = "passed"  # no report outside a plain pass's categories since it started
            else:
                outcome = self._watch.outcome(o[0], o[3])
            rec = self._current
            if rec is None:
                self.records.append((o[0], o[1], o[2], t1, outcome))
            else:
                rec.t1, rec.outcome = t1, outcome
                self.records.append(keep(rec))
                self._current = None
            self._open = None
            s = self.sampler
            if s is not None and t1 >= s.edge_due_ns:
                s.edge(t1)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        # Reached without the runtestloop wrapper's results when the run was interrupted (or
        # collection failed): report what was measured, fail nothing more.
        if self.sampler is not None and not self._finished:
            self.finish(interrupted=exitstatus == pytest.ExitCode.INTERRUPTED)

    def pytest_unconfigure(self) -> None:
        self._collector.resume()
        self._stop_sampler()
        if self._sigterm is not None:
            self._sigterm()
            self._sigterm = None

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.report is None or not self.records:  # nothing measured: no table, only what went wrong
            for line in self.messages:
                terminalreporter.write_line(line, red=line.startswith("ERROR"))
            return
        from .report import terminal

        try:
            terminal.write_summary(terminalreporter, self.report, top=self.settings.top, messages=self.messages)
            if self.comparison is not None:
                from .report.comparison import write_comparison

                write_comparison(terminalreporter, self.comparison)
        except Exception as e:  # a renderer's bug must not take pytest's own summary with it
            terminalreporter.write_line(
                f"ERROR: pytest-carbon could not print its summary ({type(e).__name__}: {e}); the JSON report"
                " and other outputs are written as configured",
                red=True,
            )
        for line in outputs.annotation_commands(self.report, self.comparison, Path(str(self.config.rootpath))):
            terminalreporter.write_line(line)

    # -- the end of the run ----------------------------------------------------------------
    def finish(self, interrupted: bool) -> None:
        """Stop measuring, build the results and write every output (once)."""
        assert self.sampler is not None
        rec = self._current or (TestRecord(*self._open[:3]) if self._open is not None else None)
        if rec is not None:  # interrupted inside a test: keep what it measured until now
            rec.t1 = time.monotonic_ns()
            rec.outcome = "interrupted"
            self.records.append(rec)
            self._current = self._open = None
        self._stop_sampler()
        self._finished = True
        self._collector.pause()  # until pytest_unconfigure: see CollectorOff
        self._finish(interrupted)

    def _finish(self, interrupted: bool) -> None:
        assert self.sampler is not None
        hooked = bool(self.config.pluginmanager.hook.pytest_carbon_update_json.get_hookimpls())
        every = outputs.need_every_test(self.settings, self.baseline is not None, hooked)
        try:
            self.result = self._build(interrupted, None if every else self.settings.top or 0)
            # The terminal shows a few tests: the other entries are made only for an output.
            self.report = self.result.to_json(None if every else self._summary_tests())
        except Exception as e:  # never lose pytest's own outcomes and summary to a report bug
            self.messages.append(
                f"ERROR: pytest-carbon could not build its report ({type(e).__name__}: {e}); the tests'"
                " outcomes stand, and nothing of this run's energy is reported"
            )
            self.result = self.report = None
            return
        if hooked:
            try:
                self.config.hook.pytest_carbon_update_json(config=self.config, report=self.report)
            except Exception as e:  # a hook's bug must not lose the measured report
                self.messages.append(
                    f"ERROR: a pytest_carbon_update_json hook failed ({type(e).__name__}: {e});"
                    " the report is written without its changes"
                )
                self.report = self.result.to_json()
        self._compare()
        self.messages += outputs.write_all(self.settings, self.report, self.comparison, self.sampler.record)
        if not interrupted:
            from .enforce import run_failures

            self.failures, lines = run_failures(self.result, self.settings.budget_mode, self.xdist_controller, self.comparison)
            self.messages += lines
        if every:  # now keep only the entries the terminal shows: ten thousand kept to the
            # end of the session would be walked by every later full garbage collection
            self.report = outputs.only_tests(self.report, {t.nodeid for t in self._summary_tests()})
        self.result = None  # likewise

    def _summary_tests(self) -> list[TestResult]:
        assert self.result is not None
        return summary_tests(self.result.tests, self.settings.top or 0)

    def _build(self, interrupted: bool, top: int | None = None) -> RunResult:
        from .runinfo import run_info

        assert self.sampler is not None
        sampler, s = self.sampler, self.settings
        channels = sampler.channels()
        estimated = sampler.estimated
        run_duration_s = ((sampler.stopped_ns or 0) - (sampler.started_ns or 0)) / 1e9
        session_violations: tuple[Any, ...] = ()
        if s.budget_mode != "off" and s.budgets.session is not None:
            energy = sum(c.measured_j() for c in channels)
            m = Measurement(energy * self.g_per_j, energy, estimated, False, run_duration_s)
            gaps = any(c.gaps() for c in channels)
            session_violations = judge_session(s.budgets.session, m, gaps=gaps, require_measured=s.require_measured)
        run = run_info(
            started=self.started_wall,
            duration_s=run_duration_s,
            interrupted=interrupted,
            pytest_version=pytest.__version__,
            rootdir=Path(str(self.config.rootpath)),
            infos=sampler.channel_infos,
            interval_s=sampler.interval_s,
            meter_notes=self.meter_notes,
            meter_errors=sampler.errors(),
            intensity=self.intensity,
            pue=s.pue,
        )
        budgets = Budgets(
            table=s.budgets, mode=s.budget_mode, require_measured=s.require_measured, inconclusive=s.inconclusive,
            test_budgets=self.test_budgets, verdicts=self.verdicts, markers=self._markers,
            judge_here=self.xdist_controller, session_violations=session_violations,
        )
        meters = Meters(channels, sampler.resolution(), estimated, self.g_per_j, sampler.load_series())
        claims = None
        if self._visible:  # xdist workers' GPUs
            from .xdist import claims_of

            claims = claims_of(self._visible, sampler.meters)
        return build_run(self.records, meters, budgets, run=run, claims_of=claims, whatif=self._whatif, top=top)

    def _whatif(self, energy_j: float) -> dict[str, Any] | None:
        from . import whatif

        i = self.intensity
        annual = i.annual_g_per_kwh if i.annual_g_per_kwh is not None else i.g_per_kwh
        try:
            zone = whatif.zone_of(i.country, i.region)
            return whatif.compute(energy_j, self.settings.pue, annual, zone, list(self.settings.whatif or []) or None)
        except Exception as e:  # bundled data unreadable, or a bug: say so, keep the rest of the report
            self.messages.append(f"ERROR: the what-if could not be computed ({type(e).__name__}: {e}); the report has no whatif")
            return None

    def _compare(self) -> None:
        s = self.settings
        if s.history and self.report is not None:  # judged against the history, then appended to it
            self.comparison, lines = outputs.history(s, self.report, Path(str(self.config.rootpath)))
            self.messages += lines
        if self.comparison is not None and self.report is not None:
            self.report["comparison"] = self.comparison.as_dict()
        if self.baseline is None or self.report is None:
            return
        from .compare import compare

        try:
            self.comparison = compare(self.baseline, self.report, s.max_regression, s.min_delta)
        except (KeyError, TypeError, AttributeError) as e:
            self.messages.append(f"ERROR: the baseline {s.baseline} is damaged ({type(e).__name__}: {e}); not compared")
        else:
            self.report["comparison"] = self.comparison.as_dict()
