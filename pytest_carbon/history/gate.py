"""A run judged against its history: each test against its last N runs on the same testbed and
the baseline's branch, with the threshold the user chose, on top of the absolute floor.

A test with fewer than :data:`MIN_HISTORY` comparable runs (energy known, not cut short by
an interrupted run) is compared by the single-baseline rule (``compare``) with its latest
comparable run, and the comparison says so. Energy (J) is compared, never CO2.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Sequence

from ..compare import INTERRUPTED, Change, Comparison, compare
from .stats import Threshold, judge
from .store import Point, RunRow, Store, testbed_key

MIN_HISTORY = 3


def comparable(points: Sequence[Point]) -> list[Point]:
    return [p for p in points if p.energy_j is not None and p.outcome != INTERRUPTED and not p.run.interrupted]


@dataclass(frozen=True)
class Window:
    """The history a run is judged and drawn against, read once per run."""

    testbed: str
    runs: list[RunRow]  # the newest runs of the branch on the head's testbed, oldest first
    series: dict[str, list[Point]]  # each test's points over those runs


def load_window(store: Store, head: dict[str, Any], branch: str | None, last: int = 10) -> Window:
    """The runs of ``branch`` on ``head``'s testbed (the head's own run left out, should it be
    stored already; ``branch`` None: the runs made outside git or on a detached head), the
    newest only: a test's last ``last`` comparable points are among them unless it was absent
    or unknown in most of them, and a long history is not read whole for each run."""
    run = head.get("run") or {}
    testbed = testbed_key(run)
    runs = [r for r in store.runs(testbed=testbed, branch=branch, unbranched=branch is None) if r.run_uid != run.get("id")]
    runs = runs[-max(5 * last, 50) :]
    return Window(testbed, runs, store.series(runs))


def against_history(
    store: Store,
    head: dict[str, Any],
    branch: str | None,
    threshold: Threshold,
    last: int = 10,
    min_delta_j: float = 50.0,
    max_regression: float = 0.10,
    window: Window | None = None,
) -> Comparison:
    """``head`` (a report) judged test by test against its history (:func:`load_window`,
    read here unless given)."""
    w = window or load_window(store, head, branch, last)
    testbed, runs, series = w.testbed, w.runs, w.series
    c = Comparison(max_regression, min_delta_j)
    where = branch or "no branch (outside git)"
    c.method = f"history: the last {last} runs of {where} on this testbed, {threshold}"
    fallback = 0
    for t in head.get("tests") or []:
        nodeid = t["nodeid"]
        head_j = (t.get("energy_j") or {}).get("total")
        points = comparable(series.get(nodeid, []))[-last:]
        ch = Change(nodeid, points[-1].energy_j if points else None, head_j, points[-1].co2_g if points else None, t.get("co2_g"), t.get("file"), t.get("line"))
        if not points:
            c.new.append(dataclasses.replace(ch, decided_by="no earlier run of this test on this testbed and branch"))
            continue
        if head_j is None or t.get("outcome") == INTERRUPTED:
            c.unknown.append(ch)
            continue
        if len(points) < MIN_HISTORY:
            fallback += 1
            single = compare(_as_report(points[-1], nodeid), {"tests": [t]}, max_regression, min_delta_j)
            kind = next(k for k in ("regressions", "improvements", "unchanged", "unknown") if getattr(single, k))
            why = f"{len(points)} earlier run(s), fewer than {MIN_HISTORY}: the single-baseline rule against the latest ({_sha(points[-1].run)})"
            getattr(c, kind).append(dataclasses.replace(getattr(single, kind)[0], decided_by=why))
            continue
        values = [p.energy_j for p in points]
        j = judge(head_j, values, threshold)  # type: ignore[arg-type]
        delta = head_j - j.mean
        hist = {"n": j.n, "mean_j": j.mean, "spread_j": j.spread, "limit_j": j.limit, "values_j": values, "shas": [p.run.git_sha for p in points]}
        co2s = [p.co2_g for p in points if p.co2_g is not None]
        base_co2 = sum(co2s) / len(co2s) if len(co2s) == len(points) else None  # the mean's, as base_j
        ch = dataclasses.replace(ch, base_j=j.mean, base_co2_g=base_co2, decided_by=f"{threshold}: {j.statistic}", history=hist)
        if j.above and delta > min_delta_j:
            c.regressions.append(ch)
        elif j.above:
            c.unchanged.append(dataclasses.replace(ch, decided_by=f"{ch.decided_by}, but {delta:.3g} J is under the floor of {min_delta_j:g} J"))
        elif head_j < j.mean - max(min_delta_j, j.limit - j.mean):
            c.improvements.append(ch)
        else:
            c.unchanged.append(ch)
    c.settle()
    if not runs:
        c.warnings.append(f"the history has no earlier run of {where} on this testbed ({testbed}); nothing was compared")
    if fallback:
        c.warnings.append(
            f"{fallback} test(s) had fewer than {MIN_HISTORY} earlier runs on this testbed and branch: judged by the"
            " single-baseline rule against their latest run"
        )
    return c


def _sha(run: RunRow) -> str:
    return (run.git_sha or "no sha")[:10] + f", {run.started}"


def _as_report(p: Point, nodeid: str) -> dict[str, Any]:
    """A one-test report of a stored point, for the single-baseline rule."""
    return {"tests": [{"nodeid": nodeid, "energy_j": {"total": p.energy_j}, "co2_g": p.co2_g, "outcome": p.outcome}]}


def trends(store: Store, head: dict[str, Any], branch: str | None, last: int = 10, window: Window | None = None) -> dict[str, Any]:
    """Each of ``head``'s tests over the last ``last`` runs of its history (:func:`load_window`,
    read here unless given), then the head itself (marked ``head``): the report's ``history``,
    for charts and sparklines."""
    w = window or load_window(store, head, branch, last)
    run = head.get("run") or {}
    testbed, runs, series = w.testbed, w.runs[-last:], w.series
    tests: dict[str, Any] = {}
    for t in head.get("tests") or []:
        by_run = {p.run.id: p for p in series.get(t["nodeid"], [])}
        points = [by_run.get(r.id) for r in runs]
        tests[t["nodeid"]] = [None if p is None else p.energy_j for p in points] + [(t.get("energy_j") or {}).get("total")]
    return {
        "testbed": testbed,
        "branch": branch,
        "shas": [r.git_sha for r in runs] + [run.get("git_sha")],
        "started": [r.started for r in runs] + [run.get("started")],
        "head": len(runs),  # the index of this run in each list
        "tests_j": tests,
    }
