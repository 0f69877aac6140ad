"""Budgets enforced as test outcomes.

Registered only when some budget exists, so suites without budgets pay nothing. A test's
verdict is decided when its call ends: the sampler is given up to one interval to read past
that instant, the window [start of setup, end of call] is measured, and an over-budget test
that passed is turned into a failure in its own report. A test that failed for its own
reasons keeps its failure; the budget finding is added as a report section. The test's
teardown energy is in the JSON report but not in the verdict, so that the failure can be the
test's own ``FAILED`` line.
"""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import pytest

from .budget import Budget, Measurement, Verdict, Violation, check, check_phase, for_phase
from .report import verdicts

if TYPE_CHECKING:
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


def parse_marker(item: pytest.Item) -> Budget | None:
    """The budget on ``@pytest.mark.carbon(co2=..., energy=...)``, validated."""
    from .budget import BudgetError, parse_value

    marker = item.get_closest_marker("carbon")
    if marker is None or (not marker.args and not marker.kwargs):
        return None
    where = f"{item.nodeid}: @pytest.mark.carbon"
    if marker.args:
        raise pytest.UsageError(
            f"pytest-carbon: {where}({', '.join(map(repr, marker.args))}): budgets are keywords,"
            ' e.g. @pytest.mark.carbon(co2="2 g", energy="10 Wh")'
        )
    unknown = sorted(set(marker.kwargs) - {"co2", "energy"})
    if unknown:
        raise pytest.UsageError(f"pytest-carbon: {where}: unknown keyword {unknown[0]!r}; accepted: co2, energy")
    text = ", ".join(f"{k}={v!r}" for k, v in marker.kwargs.items())
    try:
        return parse_value(dict(marker.kwargs), f"{where}({text})", f"@pytest.mark.carbon({text})", "marker")
    except BudgetError as e:
        raise pytest.UsageError(f"pytest-carbon: {e}") from None


class BudgetEnforcer:
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
        rec = s._current
        if rec is None or rec.nodeid != item.nodeid or s.sampler is None:
            return
        table = s.settings.budgets
        test_budget = s.test_budgets.get(rec.nodeid)
        phase_budgets = [(p, *for_phase(table, p.name, p.budget)) for p in rec.phases]
        if test_budget is None and not any(pb or ib for _, pb, ib in phase_budgets):
            return
        if report.skipped:
            return  # skipped and xfailed tests are not judged
        t1 = time.monotonic_ns()
        s.sampler.wait_past(t1)
        # The wait is the plugin's, not the test's: its energy goes to "outside tests".
        rec.pauses.append((t1, time.monotonic_ns()))
        req = s.settings.require_measured
        entries: list[tuple[Violation, Measurement, float, int | None]] = []
        verdict = Verdict(budget=test_budget)
        m = self.measure(rec.t0, t1)
        verdict.measurement = m
        dur = (t1 - rec.t0) / 1e9
        entries += [(v, m, dur, None) for v in check("test", test_budget, m, require_measured=req)]
        for p, pb, ib in phase_budgets:
            if not (pb or ib):
                continue
            pm = self.measure(p.t0, p.t1)
            pdur = (p.t1 - p.t0) / 1e9
            whole, each = check_phase(p.name, pb, ib, pm, p.items, require_measured=req)
            entries += [(v, pm, pdur, None) for v in whole] + [(v, pm, pdur, p.items) for v in each]
        verdict.violations = [v for v, *_ in entries]
        rec.verdict = verdict
        failing = [e for e in entries if e[0].metric != "undecided"]
        if not entries:
            return
        text = verdicts.failure_text(entries, s.intensity.as_dict(), s.settings.pue)
        if not failing or s.settings.budget_mode != "enforce":
            return  # warn mode and undecided verdicts are listed with the table, from the report
        if report.passed:
            report.outcome = "failed"
            report.longrepr = BudgetFailure(text, rec.location[0], rec.location[1])  # type: ignore[assignment]
        else:
            report.sections.append(("carbon budget", text))

    def measure(self, t0: int, t1: int) -> Measurement:
        s = self.session
        assert s.sampler is not None
        energy = s.sampler.window_energy(t0, t1)
        known = [v for v in energy.values() if v is not None]
        total = sum(known) if len(known) == len(energy) else None
        res = s.resolution()
        dur = (t1 - t0) / 1e9
        return Measurement(
            co2_g=None if total is None else total * s.g_per_j,
            energy_j=total,
            estimated=s.estimated,
            approximate=any(dur < r for r in res.values()),
        )


def judge_session(session: "CarbonSession") -> list[Violation]:
    """The session budget against the energy measured so far (called once the tests ran)."""
    s = session
    budget = s.settings.budgets.session
    if budget is None or s.sampler is None:
        return []
    s.sampler.sample_now()
    energy, gaps = s.sampler.session_energy()
    m = Measurement(energy * s.g_per_j, energy, s.estimated, False)
    found = check("session", budget, m, require_measured=s.settings.require_measured)
    if gaps and not found:
        # Measured energy is a lower bound when a meter had gaps: within budget is not certain.
        found = [Violation("session", "undecided", None, 0.0, budget, "meters had gaps, so the measured total is a lower bound")]
    return found

