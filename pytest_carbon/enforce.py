"""Budgets enforced as test outcomes.

Registered only when some budget exists, so suites without budgets pay nothing. A test's
verdict is decided when its call ends: the sampler thread is given 1.5 sampling intervals to
read past that instant (after that, the reading is taken on the test's thread), the window
[start of setup, end of call] is measured, and an over-budget test that passed is turned
into a failure in its own report. A test that failed for its own
reasons keeps its failure; the budget finding is added as a report section. The test's
teardown energy is in the JSON report but not in the verdict, so that the failure can be the
test's own ``FAILED`` line.
"""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import pytest

from . import steps
from .assemble import interval_of, marks_in
from .budget import Budget, PhaseCheck, fails, for_phase, judge
from .records import PhaseRecord
from .selection import rename_hint
from .report import verdicts

if TYPE_CHECKING:
    from .compare import Comparison
    from .results import RunResult
    from .session import CarbonSession


class BudgetFailure:
    """A report ``longrepr`` that pytest prints as the failure and shows in the short summary."""

    def __init__(self, text: str, path: str, lineno: int | None):
        self.text = text
        self.reprcrash = SimpleNamespace(message=text.splitlines()[0], path=path, lineno=lineno)

    def toterminal(self, tw: Any) -> None:
        for line in self.text.splitlines():
            tw.line(line, red=not line.startswith("  "))

    def __str__(self) -> str:
        return self.text


def parse_marker(item: pytest.Item, name: str = "carbon") -> Budget | None:
    """The budget on ``@pytest.mark.carbon(co2=..., energy=...)`` (or the renamed marker), validated."""
    from .budget import BudgetError, parse_value

    marker = item.get_closest_marker(name)
    if marker is None or (not marker.args and not marker.kwargs):
        return None
    where = f"{item.nodeid}: @pytest.mark.{name}"
    if marker.args:
        raise pytest.UsageError(
            f"pytest-carbon: {where}({', '.join(map(repr, marker.args))}): budgets are keywords,"
            f' e.g. @pytest.mark.{name}(co2="2 g", energy="10 Wh"); {rename_hint(name)}'
        )
    unknown = sorted(set(marker.kwargs) - {"co2", "energy"})
    if unknown:
        raise pytest.UsageError(
            f"pytest-carbon: {where}: unknown keyword {unknown[0]!r}; accepted: co2, energy; {rename_hint(name)}"
        )
    text = ", ".join(f"{k}={v!r}" for k, v in marker.kwargs.items())
    try:
        return parse_value(dict(marker.kwargs), f"{where}({text})", f"@pytest.mark.{name}({text})", "marker")
    except BudgetError as e:
        raise pytest.UsageError(f"pytest-carbon: {e}") from None


def _per_item_live(s: "CarbonSession", p: PhaseRecord) -> tuple[float, int, tuple[float, float]] | None:
    """A stepped phase's per-item mean and interval from the readings so far."""
    if not p.marks or s.sampler is None:
        return None
    res_ns = steps.coarsest_ns(s.sampler.resolution())
    per = steps.per_item(p.t0, marks_in(p), p.warmup, res_ns, lambda a, b: s.measure_live(a, b).energy_j, s.g_per_j)
    return interval_of(per)


class BudgetEnforcer:
    """Registered only when some budget exists: judges each test when its call ends."""

    def __init__(self, session: "CarbonSession"):
        self.session = session

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        report = yield
        if call.when == "call":
            self.judge(item, report)
        return report

    def judge(self, item: pytest.Item, report: pytest.TestReport) -> None:
        s = self.session
        rec = s.current(item.nodeid)
        if rec is None or report.skipped:
            return  # not measured, or skipped or xfailed: such tests are not judged
        table = s.settings.budgets
        budget = s.test_budgets.get(rec.nodeid)
        phases = [(p, *for_phase(table, p.name, p.budget)) for p in rec.phases]
        phases = [(p, pb, ib) for p, pb, ib in phases if pb or ib]
        if budget is None and not phases:
            return  # nothing to judge: no wait for the sampler
        t1 = time.monotonic_ns()
        s.wait_for_sampler(rec, t1)
        checks = [PhaseCheck(p.name, pb, ib, s.measure_live(p.t0, p.t1), p.items, _per_item_live(s, p) if ib else None) for p, pb, ib in phases]
        st = s.settings
        verdict = judge(budget, s.measure_live(rec.t0, t1), checks, require_measured=st.require_measured, inconclusive=st.inconclusive)
        if verdict is None:
            return
        s.verdicts[rec.nodeid] = verdict
        if not verdict.failing or s.settings.budget_mode != "enforce":
            return  # warn mode and undecided verdicts are listed with the table, from the report
        text = verdicts.failure_text(verdict.findings, s.intensity.as_dict(), s.settings.pue)
        if report.passed:
            report.outcome = "failed"
            report.longrepr = BudgetFailure(text, rec.location[0], rec.location[1])  # type: ignore[assignment]
        else:
            report.sections.append(("carbon budget", text))


def run_failures(result: RunResult, budget_mode: str, xdist_controller: bool, comparison: Comparison | None) -> tuple[int, list[str]]:
    """How many failures the plugin adds to pytest's count, and the lines that say why.

    In process, an over-budget test already failed in its own report. Under xdist the
    verdicts come after the tests: one ``FAIL`` line each. A session budget and a baseline
    regression fail the run as a whole.
    """
    enforce = budget_mode == "enforce"
    failures, lines = 0, []
    if enforce and xdist_controller:
        for t in result.tests:
            failing = [v for v in t.violations if fails(v)]
            failures += bool(failing)
            lines += [f"FAIL {t.nodeid}: {verdicts.headline(v)}" for v in failing]
    budgets = result.budgets
    if enforce and budgets is not None and any(fails(v) for v in budgets.session_violations):
        failures += 1
    if comparison is not None and comparison.failed:
        failures += 1
    return failures, lines
