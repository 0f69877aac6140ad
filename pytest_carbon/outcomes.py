"""A measured test's outcome, from its setup, call and teardown reports.

Two ways to the same answer (``records.next_outcome`` over the test's reports in order):

* :class:`FromStats`: pytest's terminal reporter keeps every report in ``stats`` by category
  (``""`` for a passed setup or teardown, ``"passed"`` for a passed call, ``"failed"``,
  ``"error"``, ``"skipped"``, ``"xfailed"``, ``"xpassed"``, a plugin's own such as ``"rerun"``).
  The categories' lengths are noted when a test starts; when it ends, a test that added
  reports to no other category than ``""`` and ``"passed"`` passed, and only otherwise are
  its new reports read. No hook runs per report: a ``pytest_runtest_logreport`` hook is
  called three times per test, ~4 us of the ~20 us the plugin added per trivial test.
* :class:`FromHook`: that hook, where pytest's own terminal reporter is absent or replaced
  (``-p no:terminal``, pytest-sugar's reporter): whether another reporter keeps ``stats``
  the same way is not known, so its lists are not relied on.
"""

from __future__ import annotations

from typing import Any

import pytest

from .records import next_outcome, plain_pass

ORDER = {"setup": 0, "call": 1, "teardown": 2}
PLAIN = ("", "passed")  # categories of a passed setup or teardown, and of a passed call


def of_reports(reports: list[Any], nodeid: str) -> str:
    """The outcome of a test from its reports, in any order (other tests' and warnings left out)."""
    mine = [r for r in reports if getattr(r, "nodeid", None) == nodeid and getattr(r, "when", None) in ORDER]
    mine.sort(key=lambda r: ORDER[r.when])
    outcome = "passed"
    for r in mine:
        outcome = next_outcome(outcome, r)
    return outcome


class FromStats:
    """Outcomes from the terminal reporter's ``stats``, read at each test's start and end."""

    def __init__(self, stats: dict[str, list[Any]]):
        self.stats = stats
        self._at: dict[str, int] = {}
        self._nodeid = ""

    def start(self, nodeid: str) -> None:
        self._at = {k: len(v) for k, v in self.stats.items()}
        self._nodeid = nodeid

    def outcome(self) -> str:
        """The outcome of the test started last, from the reports added since."""
        at = self._at
        new: list[Any] = []
        for k, v in self.stats.items():
            n0 = at.get(k, 0)
            if len(v) > n0 and k not in PLAIN:
                new += v[n0:]
        return of_reports(new, self._nodeid) if new else "passed"


class FromHook:
    """Outcomes from a ``pytest_runtest_logreport`` hook (registered as a plugin)."""

    def __init__(self) -> None:
        self._outcome = "passed"
        self._nodeid = ""

    def start(self, nodeid: str) -> None:
        self._outcome, self._nodeid = "passed", nodeid

    def pytest_runtest_logreport(self, report: Any) -> None:
        if plain_pass(report) or report.nodeid != self._nodeid:
            return  # the common case first; then another test's report (a plugin logging for it)
        self._outcome = next_outcome(self._outcome, report)

    def outcome(self) -> str:
        return self._outcome


def watch(config: Any) -> FromStats | FromHook:
    """The cheaper way where pytest's own terminal reporter keeps the reports, else the hook."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    stats = getattr(reporter, "stats", None)
    if type(reporter) is pytest.TerminalReporter and isinstance(stats, dict):
        return FromStats(stats)
    hook = FromHook()
    config.pluginmanager.register(hook, "carbon-outcomes")
    return hook
