"""Pure: recorded windows + the meters' timeline -> the typed results of a run.

No pytest, no meters, no files. The session hands over what it recorded and what the
sampler read; this module attributes the energy, measures every test and phase window
through :func:`~pytest_carbon.results.measure_window`, judges budgets where the verdict is
made at the end (xdist), and extrapolates projections.
"""

from __future__ import annotations

import heapq
from operator import add, itemgetter, or_, sub
from types import MappingProxyType
from typing import Any, Callable, Mapping, NamedTuple, Sequence

from .attribution import ChannelAttribution, Claim, attribute
from .budget import Budget, BudgetTable, PhaseCheck, Verdict, Violation, for_phase, for_test, judge
from .projection import Projection, project
from . import steps
from .records import NOT_JUDGED, PhaseRecord, Plain, TestRecord, full, keep
from .results import Attempt, BudgetSummary, Judged, PhaseResult, RunResult, TestResult, Totals, Window, measure_window, measure_parts
from .timeline import NO_LOAD, Channel, LoadSeries, WindowEnergy


class Meters(NamedTuple):
    """What the run's meters saw, and what they are worth."""

    channels: Sequence[Channel]
    resolution_s: Mapping[str, float]  # per channel: shorter windows are approximate
    estimated: bool
    g_per_j: float
    load: LoadSeries = NO_LOAD  # the machine's and the process tree's CPU time


class Budgets(NamedTuple):
    """The budgets in force and the verdicts already made (in process, when each call ended)."""

    table: BudgetTable
    mode: str = "enforce"
    require_measured: bool = False
    inconclusive: str = "pass"
    test_budgets: Mapping[str, Budget] = MappingProxyType({})
    verdicts: Mapping[str, Verdict] = MappingProxyType({})
    markers: Mapping[str, Budget | None] = MappingProxyType({})  # xdist: the workers' markers
    judge_here: bool = False  # xdist: judge every test now, on its final attribution
    session_violations: tuple[Violation, ...] = ()


NOT_BUDGETED = Judged(None, ())

ClaimsOf = Callable[[TestRecord], "frozenset[str] | None"]


class _Measurer:
    def __init__(self, meters: Meters, records: Sequence[TestRecord | Plain], claims_of: ClaimsOf | None):
        self.meters = meters
        self.claims_of = claims_of
        # A compact record (a plain test's tuple) is one window; claims are plain tuples too.
        compact = [r for r in records if isinstance(r, tuple)]
        records_ = [r for r in records if not isinstance(r, tuple)]
        spans: list[tuple[int, int, frozenset[str] | None]]
        if claims_of is None:
            spans = [(r[2], r[3], None) for r in compact]
        else:
            spans = [(r[2], r[3], claims_of(full(r))) for r in compact]
        spans += [(a, b, self.claim(r)) for r in records_ for a, b in r.spans()]
        points = [t for r in records_ for p in r.phases for t in (p.t0, p.t1)]
        # Per-item chunks of phases with step() marks, each at least the coarsest resolution.
        self.resolution_ns = steps.coarsest_ns(meters.resolution_s)
        points += [t for r in records_ for p in r.phases if p.marks for t in steps.points(p.t0, marks_in(p), p.warmup, self.resolution_ns)]
        self.per_channel, self.totals = attribute(meters.channels, spans, points)

    def claim(self, r: TestRecord) -> frozenset[str] | None:
        """The channels a test shares in: all (None) unless its xdist worker named its GPUs."""
        return None if self.claims_of is None else self.claims_of(r)

    def window(self, spans: Sequence[tuple[int, int]], claims: frozenset[str] | None) -> Window:
        m = self.meters
        if len(spans) == 1:  # the common case, a test without pauses or a phase: no object per channel
            a, b = spans[0]
            parts = ((name, *ca.between(a, b)) for name, ca in self.per_channel.items() if claims is None or name in claims)
            foreign = m.load.foreign_share(a, b) if m.load.times else None
            return measure_parts(parts, (b - a) / 1e9, m.resolution_s, m.estimated, m.g_per_j, foreign)
        # Channels outside ``claims``: a GPU this test's xdist worker does not use.
        energies = {name: _spans_energy(ca, spans) for name, ca in self.per_channel.items() if claims is None or name in claims}
        duration_s = sum(b - a for a, b in spans) / 1e9
        foreign = m.load.foreign_share(spans[0][0], spans[-1][1]) if m.load.times else None
        return measure_window(energies, duration_s, m.resolution_s, m.estimated, m.g_per_j, foreign)


def marks_in(p: PhaseRecord) -> list[int]:
    """A phase's step marks inside it (a mark from after its end is not its item's)."""
    return [m for m in p.marks if p.t0 < m <= p.t1]


def _per_item(mz: _Measurer, p: PhaseRecord, claims: frozenset[str] | None) -> steps.PerItem | None:
    if not p.marks:
        return None
    energy = lambda a, b: mz.window([(a, b)], claims).energy_j  # noqa: E731
    return steps.per_item(p.t0, marks_in(p), p.warmup, mz.resolution_ns, energy, mz.meters.g_per_j)


def interval_of(per: steps.PerItem | None) -> tuple[float, int, tuple[float, float]] | None:
    """What a per-item budget is judged on: (mean J, items, 95% interval), where there is one."""
    return None if per is None or per.ci95_j is None else (per.mean_j, per.n, per.ci95_j)


def _spans_energy(ca: ChannelAttribution, spans: Sequence[tuple[int, int]]) -> WindowEnergy:
    energy: float | None = 0.0
    covered = 0.0
    gap = 0
    for a, b in spans:
        w = ca.window(a, b)
        gap += w.gap_ns
        covered += w.covered_j
        energy = None if energy is None or w.energy_j is None else energy + w.energy_j
    return WindowEnergy(energy, covered, gap)


def _projections(r: TestRecord, phases: Sequence[PhaseResult], g_per_j: float) -> tuple[Projection, ...]:
    out = []
    for spec in r.projections:
        named = [p for p in phases if p.name == spec.phase and p.items]
        if len(named) == 1 and named[0].per_item is not None:
            # Steps marked: the items after the warm-up, with their 95% interval.
            per = named[0].per_item
            out.append(project(spec, per.mean_j * per.n, per.n, g_per_j, None, per.ci95_j))
            continue
        items = sum(p.items or 0 for p in named)
        energies = [p.window.energy_j for p in named]
        energy = None if not named or None in energies else sum(e or 0.0 for e in energies)
        note = None
        if not named:
            note = f"no phase {spec.phase!r} with items= in this test, so nothing to extrapolate"
        elif energy is None:
            note = "a meter gap makes the phase's energy unknown"
        out.append(project(spec, energy, items, g_per_j, note))
    return tuple(out)


def _phase_violations(verdict: Verdict | None, name: str) -> tuple[Violation, ...]:
    if verdict is None:
        return ()
    subjects = (f"phase {name!r}", f"per item of phase {name!r}")
    return tuple(v for v in verdict.violations if v.subject.startswith(subjects))


def _top_groups(
    mz: _Measurer, groups: list[Sequence[TestRecord | Plain]], top: int, verdicts: Mapping[str, Verdict], budgeted: Mapping[str, Budget]
) -> tuple[list[Sequence[TestRecord | Plain]], int]:
    """(the groups to build in full, how many of the others are approximate): every group
    but the plain tests outside the ``top`` by CO2eq (see ``build_run``).

    A plain test is one compact record (one run, only a window) with no budget or verdict;
    with every channel shared by all tests (no xdist claims), they are scored in bulk: each
    channel's share between the test's ends, summed over channels, unknown (-1) with a gap.
    """
    if mz.claims_of is not None:
        return groups, 0
    at = [i for i, g in enumerate(groups) if len(g) == 1 and type(g[0]) is tuple and g[0][0] not in verdicts and g[0][0] not in budgeted]
    t0s = [groups[i][0][2] for i in at]  # type: ignore[index]
    t1s = [groups[i][0][3] for i in at]  # type: ignore[index]
    total: list[float] = [0.0] * len(at)
    gapped: list[int] = [0] * len(at)
    for ca in mz.per_channel.values():
        index, share, uncovered = ca._index, ca._share, ca._uncovered
        i0s, i1s = list(map(index.__getitem__, t0s)), list(map(index.__getitem__, t1s))
        total = list(map(add, total, map(sub, map(share.__getitem__, i1s), map(share.__getitem__, i0s))))
        gapped = list(map(or_, gapped, map(sub, map(uncovered.__getitem__, i1s), map(uncovered.__getitem__, i0s))))
    g_per_j = mz.meters.g_per_j
    scored = [(i, -1.0 if gap else e * g_per_j) for i, e, gap in zip(at, total, gapped)]
    shown = {i for i, _ in heapq.nlargest(top, scored, key=itemgetter(1))} if top > 0 else set()
    dropped = set(at) - shown
    # Shorter than a channel's resolution: approximate (every channel is each test's here).
    coarsest = max((mz.meters.resolution_s.get(name, 0.0) for name in mz.per_channel), default=0.0)
    approximate = sum(1 for i, a, b in zip(at, t0s, t1s) if (b - a) / 1e9 < coarsest and i in dropped)
    return [g for i, g in enumerate(groups) if i not in dropped], approximate


def _by_nodeid(records: Sequence[TestRecord | Plain]) -> list[Sequence[TestRecord | Plain]]:
    """Records grouped by test, in the order the tests first ran (reruns join their test)."""
    groups: dict[str, Any] = {}  # a record, or a list once a test has a second attempt
    for r in records:
        nodeid = r[0] if type(r) is tuple else r.nodeid  # type: ignore[union-attr]
        g = groups.get(nodeid)
        if g is None:
            groups[nodeid] = r
        elif isinstance(g, list):
            g.append(r)
        else:
            groups[nodeid] = [g, r]
    return [g if isinstance(g, list) else (g,) for g in groups.values()]


def build_run(
    records: Sequence[TestRecord | Plain],
    meters: Meters,
    budgets: Budgets,
    *,
    run: Mapping[str, Any],
    claims_of: ClaimsOf | None = None,
    whatif: Callable[[float], Mapping[str, Any] | None] = lambda energy_j: None,
    top: int | None = None,
) -> RunResult:
    """The run's results. ``whatif`` maps the session's measured energy (J) to its what-if.

    ``top``: for a run whose outputs need no test beyond the terminal summary's, the tests
    that are only a window (one run, no phase, projection, pause, budget or verdict) get a
    full result only if they are among the ``top`` by CO2eq; the others are counted in the
    totals, not built. Every test a summary of all of them would show is kept, with the same
    figures (``results.summary_tests``). None: every test's full result.
    """
    records = [r if type(r) is tuple else keep(r) for r in records]  # type: ignore[arg-type]  # a plain TestRecord: compact
    mz = _Measurer(meters, records, claims_of)
    use_budgets = budgets.mode != "off"
    table = budgets.table
    test_budgets = dict(budgets.test_budgets)
    tests: list[TestResult] = []
    over: list[str] = []  # tests over a budget
    kept = _by_nodeid(records)
    n_tests, approximate = len(kept), 0
    if top is not None and not budgets.judge_here:
        kept, approximate = _top_groups(mz, kept, top, budgets.verdicts, test_budgets)
    groups = [[full(r) for r in g] for g in kept]  # compact records as TestRecords, for the kept only
    for group in groups:
        # A test run more than once (pytest-rerunfailures): one entry whose energy is what all
        # its attempts cost; its phases, outcome and budget verdict are the last attempt's.
        r = group[-1]
        claims = mz.claim(r)
        w_last = mz.window(r.spans(), claims)
        attempts: tuple[Attempt, ...] = ()
        w = w_last
        if len(group) > 1:
            windows = [(a, mz.window(a.spans(), mz.claim(a))) for a in group[:-1]] + [(r, w_last)]
            attempts = tuple(Attempt(a.outcome, aw.duration_s, aw.energy_j) for a, aw in windows)
            w = mz.window([span for a in group for span in a.spans()], claims)
        phase_windows: list[tuple[PhaseRecord, Window]] = []
        per_items: list[steps.PerItem | None] = []
        phase_budgets: list[tuple[Budget | None, Budget | None]] = []
        if r.phases:
            phase_windows = [(p, mz.window([(p.t0, p.t1)], claims)) for p in r.phases]
            per_items = [_per_item(mz, p, claims) for p in r.phases]
            # Each phase's (budget, per-item budget), looked up once for the verdict and the report.
            phase_budgets = [for_phase(table, p.name, p.budget) for p in r.phases] if use_budgets else []
        verdict = budgets.verdicts.get(r.nodeid)
        if budgets.judge_here and use_budgets:
            b = for_test(table, r.nodeid, budgets.markers.get(r.nodeid))
            if b is not None:
                test_budgets[r.nodeid] = b
            checks = [
                PhaseCheck(p.name, pb, ib, pw, p.items, interval_of(per_items[i]) if ib else None)
                for i, ((p, pw), (pb, ib)) in enumerate(zip(phase_windows, phase_budgets))
            ]
            bs = budgets
            verdict = None if r.outcome in NOT_JUDGED else judge(b, w_last, checks, require_measured=bs.require_measured, inconclusive=bs.inconclusive)
        phases: list[PhaseResult] = []
        for i, (p, pw) in enumerate(phase_windows):
            judged = None
            if use_budgets:
                pb, ib = phase_budgets[i]
                judged = Judged(pb, _phase_violations(verdict, p.name), ib)
            phases.append(PhaseResult(p.name, pw, p.items, judged, per_items[i]))
        judged = judged_on = None
        if use_budgets:
            own = () if verdict is None else tuple(v for v in verdict.violations if v.subject == "test")
            budget = test_budgets.get(r.nodeid)
            # One shared verdict for the common test without budget or violation: no object
            # per test for the garbage collector to walk for the rest of the session.
            judged = NOT_BUDGETED if budget is None and not own else Judged(budget, own)
            if verdict is not None:
                judged_on = (verdict.measurement.co2_g, verdict.measurement.energy_j)
        line = None if r.location[1] is None else r.location[1] + 1
        projections = _projections(r, phases, meters.g_per_j) if r.projections else ()
        # nodeid, file, line, outcome, window, phases, projections, info, judged, judged_on, attempts
        t = TestResult(r.nodeid, r.location[0], line, r.outcome, w, tuple(phases), projections, r.info, judged, judged_on, attempts)
        tests.append(t)
        if verdict is not None and t.failing:
            over.append(t.nodeid)
    approximate += sum(1 for t in tests if t.window.approximate_channels)
    totals = Totals(mz.totals, meters.g_per_j, n_tests, meters.estimated, approximate)
    summary = BudgetSummary(
        mode=budgets.mode,
        require_measured=budgets.require_measured,
        declared=tuple(table.keys()),
        session=table.session,
        session_violations=budgets.session_violations,
        tests_with_budget=sum(1 for t in tests if t.nodeid in test_budgets or t.judged_on is not None),
        tests_over_budget=tuple(sorted(over)),
    )
    return RunResult(run, tests, totals, summary, whatif(totals.measured_j))
