"""A measured test's outcome, from its setup, call and teardown reports.

Two ways to the same answer (``records.next_outcome`` over the test's reports in order):

* :class:`FromStats`: pytest's terminal reporter keeps every report in ``stats`` by category
  (``""`` for a passed setup or teardown, ``"passed"`` for a passed call, ``"failed"``,
  ``"error"``, ``"skipped"``, ``"xfailed"``, ``"xpassed"``, a plugin's own such as ``"rerun"``).
  How many reports lie outside ``""`` and ``"passed"`` is counted when a test starts and
  when it ends: a test that added none there passed, and only otherwise are its new reports
  read (from the categories' lengths, taken again only when that count has moved). No hook
  runs per report: a ``pytest_runtest_logreport`` hook is called three times per test.
* :class:`FromHook`: that hook, where pytest's own terminal reporter is absent or replaced
  (``-p no:terminal``, pytest-sugar's reporter): whether another reporter keeps ``stats``
  the same way is not known, so its lists are not relied on.
"""

from __future__ import annotations

from itertools import chain, repeat
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


def others(stats: dict[str, list[Any]]) -> int:
    """How many reports ``stats`` keeps outside the categories of a plain pass.

    The lists only grow, so a test during which this count did not change added no report
    but passed setups, calls and teardowns: it passed. The session computes this inline at
    each measured test's start and end (a function call per edge costs more than the sum).
    """
    return sum(map(len, stats.values())) - len(stats.get("", ())) - len(stats.get("passed", ()))


def lengths(stats: dict[str, list[Any]]) -> list[int]:
    """Each category's length, in the dict's order (categories are only ever added after)."""
    return list(map(len, stats.values()))


def since(stats: dict[str, list[Any]], at: list[int], nodeid: str) -> str:
    """The outcome of ``nodeid`` from the reports added outside the plain categories since
    ``stats`` had the ``lengths`` ``at`` (a category added since counts from 0)."""
    new: list[Any] = []
    for (k, v), n0 in zip(stats.items(), chain(at, repeat(0))):
        if len(v) > n0 and k not in PLAIN:
            new += v[n0:]
    return of_reports(new, nodeid) if new else "passed"


class FromStats:
    """Outcomes from the terminal reporter's ``stats``: the session's inline code, as an object.

    ``start`` returns the test's mark (``others`` at its start) and keeps the categories'
    lengths whenever ``others`` has moved since they were taken: with it unchanged, no list
    outside the plain categories grew, so the lengths taken then still hold for them.
    """

    def __init__(self, stats: dict[str, list[Any]]):
        self.stats = stats
        self.others = -1
        self.at: list[int] = []

    def start(self, nodeid: str) -> int:
        n = others(self.stats)
        if n != self.others:
            self.others, self.at = n, lengths(self.stats)
        return n

    def outcome(self, nodeid: str, mark: int) -> str:
        """The outcome of the test started with ``mark``, from the reports added since."""
        if others(self.stats) == mark:
            return "passed"
        return since(self.stats, self.at, nodeid)


class FromHook:
    """Outcomes from a ``pytest_runtest_logreport`` hook (registered as a plugin)."""

    def __init__(self) -> None:
        self._outcome = "passed"
        self._nodeid = ""

    def start(self, nodeid: str) -> int:
        self._outcome, self._nodeid = "passed", nodeid
        return 0

    def pytest_runtest_logreport(self, report: Any) -> None:
        if plain_pass(report) or report.nodeid != self._nodeid:
            return  # the common case first; then another test's report (a plugin logging for it)
        self._outcome = next_outcome(self._outcome, report)

    def outcome(self, nodeid: str, mark: int) -> str:
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
