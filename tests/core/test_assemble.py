"""Recorded windows + a timeline -> results: hand-made timelines with round numbers.

One channel draws 10 W from 0 s to 10 s (readings every second), so a window of d seconds
that nobody shares has 10 x d joules.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_carbon.assemble import Budgets, Meters, build_run
from pytest_carbon.budget import Budget, Verdict, parse_table
from pytest_carbon.projection import ProjectionSpec
from pytest_carbon.records import PhaseRecord, TestRecord, keep, next_outcome, plain_pass
from pytest_carbon.results import summary_tests
from pytest_carbon.timeline import Channel, build_segments

S = 1_000_000_000


def _channel(name: str = "cpu", watts: float = 10.0, gap: tuple[int, int] | None = None) -> Channel:
    samples: list[tuple[int, float | None]] = [(i * S, watts * i) for i in range(11)]
    if gap:
        samples = [(t, None if gap[0] <= t // S < gap[1] else v) for t, v in samples]
    return Channel(name, build_segments(samples))


def _rec(nodeid: str, t0: float, t1: float, outcome: str = "passed") -> TestRecord:
    r = TestRecord(nodeid, ("t.py", 4, nodeid), int(t0 * S))
    r.t1 = int(t1 * S)
    r.outcome = outcome
    return r


METERS = Meters([_channel()], {"cpu": 0.5}, True, 0.5)
TABLE = parse_table({"default": {"energy": "25 J"}, "phase:train": {"energy": "8 J"}, "phase:train/item": {"energy": "3 J"}}, "p")


def test_tests_phases_and_totals():
    a = _rec("t.py::a", 1.0, 4.0)
    a.phases = [PhaseRecord("train", int(1.5 * S), int(2.5 * S), items=4)]
    a.projections = [ProjectionSpec("train", 100, "100 steps"), ProjectionSpec("nope", 5, "5")]
    a.info = {"threads": 2}
    b = _rec("t.py::b", 5.0, 5.2)
    run = build_run([a, b], METERS, Budgets(parse_table({}, "p"), mode="off"), run={"host": "h"}, whatif=lambda e: {"energy": e})
    ta, tb = run.tests
    assert (ta.nodeid, ta.file, ta.line, ta.outcome) == ("t.py::a", "t.py", 5, "passed")  # 1-based line
    assert ta.window.energy_j == pytest.approx(30.0) and ta.window.co2_g == pytest.approx(15.0)
    assert ta.window.duration_s == 3.0 and ta.window.estimated and not ta.window.approximate
    assert tb.window.energy_j == pytest.approx(2.0) and tb.window.approximate_channels == ("cpu",)  # 0.2 s < 0.5 s
    p = ta.phases[0]
    assert (p.name, p.items, p.window.energy_j) == ("train", 4, pytest.approx(10.0)) and p.judged is None
    proj, missing = ta.projections
    assert proj.energy_j == pytest.approx(250.0) and proj.measured_items == 4 and proj.note is None
    assert missing.energy_j is None and missing.note == "no phase 'nope' with items= in this test, so nothing to extrapolate"
    assert ta.info == {"threads": 2} and ta.judged is None
    assert run.totals.measured_j == pytest.approx(100.0) and run.totals.tests == 2
    assert run.totals.approximate_tests == 1  # b
    ch = run.totals.channels["cpu"]
    assert (ch.attributed_j, ch.incomplete_j, ch.unattributed_j) == (pytest.approx(32.0), 0.0, pytest.approx(68.0))
    assert run.whatif == {"energy": pytest.approx(100.0)} and run.run == {"host": "h"}
    assert run.budgets is not None and run.budgets.mode == "off" and run.budgets.tests_with_budget == 0


def test_pauses_are_the_plugins_not_the_tests():
    a = _rec("t.py::a", 1.0, 5.0)
    a.pauses = [(int(2 * S), int(3 * S))]
    t = build_run([a], METERS, Budgets(parse_table({}, "p"), mode="off"), run={}).tests[0]
    assert t.window.energy_j == pytest.approx(30.0) and t.window.duration_s == 3.0


def test_concurrent_tests_share_and_claims_limit_channels():
    gpu = _channel("gpu:0", 100.0)
    meters = Meters([_channel(), gpu], {}, False, 1.0)
    a, b = _rec("a", 0.0, 2.0), _rec("b", 0.0, 2.0)
    run = build_run([a, b], meters, Budgets(parse_table({}, "p"), mode="off"), run={},
                    claims_of=lambda r: frozenset({"cpu"}) if r.nodeid == "a" else None)  # fmt: skip
    ta, tb = run.tests
    assert ta.window.channels_j == {"cpu": pytest.approx(10.0)}  # half the CPU, none of the GPU
    assert tb.window.channels_j == {"cpu": pytest.approx(10.0), "gpu:0": pytest.approx(200.0)}


def test_a_gap_makes_energy_unknown_and_projections_say_why():
    meters = Meters([_channel(gap=(3, 5))], {}, False, 1.0)
    a = _rec("a", 2.5, 6.0)
    a.phases = [PhaseRecord("s", int(2.5 * S), int(6 * S), items=2)]
    a.projections = [ProjectionSpec("s", 10, "10")]
    t = build_run([a], meters, Budgets(parse_table({}, "p"), mode="off"), run={}).tests[0]
    assert t.window.energy_j is None and t.window.gaps_s == {"cpu": pytest.approx(2.5)}  # readings at 3 s and 4 s failed
    assert t.projections[0].note == "a meter gap makes the phase's energy unknown"


def test_xdist_verdicts_are_judged_here_and_skipped_tests_are_not():
    over = _rec("t.py::over", 0.0, 3.0)  # 30 J > 25 J default
    over.phases = [PhaseRecord("train", 0, int(1 * S), items=2)]  # 10 J > 8 J; 5 J per item > 3 J
    skipped = _rec("t.py::skipped", 3.0, 6.0, "skipped")
    xfailed = _rec("t.py::xfailed", 6.0, 9.0, "xfailed")
    marked = _rec("t.py::marked", 9.0, 10.0)
    budgets = Budgets(TABLE, judge_here=True, markers={"t.py::marked": Budget(None, 20.0, "marker", "marker")})
    run = build_run([over, skipped, xfailed, marked], METERS, budgets, run={})
    t_over, t_skip, t_xfail, t_marked = run.tests
    assert [v.metric for v in t_over.judged.violations] == ["energy"]
    assert [v.subject for v in t_over.phases[0].judged.violations] == ["phase 'train'", "per item of phase 'train' (2 items)"]
    assert t_over.judged_on == (pytest.approx(15.0), pytest.approx(30.0)) and t_over.failing
    assert t_skip.judged_on is None and t_skip.violations == () and t_xfail.judged_on is None
    assert t_marked.judged.budget.source == "marker" and t_marked.violations == ()  # 10 J within 20 J
    assert t_marked.judged_on == (pytest.approx(5.0), pytest.approx(10.0))
    assert run.budgets.tests_over_budget == ("t.py::over",)
    assert run.budgets.tests_with_budget == 4  # all four have the default or a marker budget
    assert run.budgets.declared == ("default", "phase:train", "phase:train/item")


def test_in_process_verdicts_are_reported_as_made():
    a = _rec("t.py::a", 0.0, 1.0)
    verdict = Verdict(TABLE.default, SimpleNamespace(co2_g=1.0, energy_j=2.0), ())
    run = build_run([a], METERS, Budgets(TABLE, test_budgets={"t.py::a": TABLE.default}, verdicts={"t.py::a": verdict}), run={})
    t = run.tests[0]
    assert t.judged_on == (1.0, 2.0) and t.judged.budget is TABLE.default and not t.failing
    assert run.budgets.tests_with_budget == 1 and run.budgets.tests_over_budget == ()


def test_record_spans_and_outcomes():
    r = _rec("x", 0.0, 10.0)
    assert r.spans() == [(0, 10 * S)]
    r.pauses = [(2 * S, 3 * S), (5 * S, 5 * S), (9 * S, 10 * S)]
    assert r.spans() == [(0, 2 * S), (3 * S, 5 * S), (5 * S, 9 * S)]

    def rep(outcome: str, when: str, xfail: bool = False) -> SimpleNamespace:
        ns = SimpleNamespace(outcome=outcome, when=when, failed=outcome == "failed", skipped=outcome == "skipped", passed=outcome == "passed")
        if xfail:
            ns.wasxfail = "reason"
        return ns

    assert plain_pass(rep("passed", "setup")) and plain_pass(rep("passed", "call")) and plain_pass(rep("passed", "teardown", True))
    assert not plain_pass(rep("passed", "call", True)) and not plain_pass(rep("failed", "call"))

    class Slotted:  # a report type without a __dict__: whether it was an xfail cannot be seen cheaply
        __slots__ = ("outcome", "when", "wasxfail")

    slotted = Slotted()
    slotted.outcome, slotted.when = "passed", "call"
    assert not plain_pass(slotted)  # not the common case: next_outcome looks at it properly
    slotted.when = "setup"
    assert plain_pass(slotted)
    assert next_outcome("passed", rep("failed", "call")) == "failed"
    assert next_outcome("passed", rep("failed", "setup")) == "error"
    assert next_outcome("failed", rep("failed", "teardown")) == "error"
    assert next_outcome("passed", rep("skipped", "setup")) == "skipped"
    assert next_outcome("passed", rep("skipped", "call", True)) == "xfailed"
    assert next_outcome("failed", rep("skipped", "call")) == "failed"
    assert next_outcome("passed", rep("passed", "call", True)) == "xpassed"
    assert next_outcome("failed", rep("passed", "teardown")) == "failed"


def test_fresh_record_and_plain_outcomes():
    r = TestRecord("x", ("t.py", None, "x"), 7)
    assert (r.t0, r.t1, r.outcome, list(r.phases), list(r.pauses), list(r.projections), dict(r.info)) == (7, 0, "passed", [], [], [], {})
    r.add_pause(1, 2)
    r.add_info({"k": 1})
    assert (r.pauses, r.info) == ([(1, 2)], {"k": 1})
    assert TestRecord("y", ("t.py", None, "y"), 8).pauses == ()  # the first record's list is its own

    def rep(outcome: str, when: str, xfail: bool = False) -> SimpleNamespace:
        ns = SimpleNamespace(outcome=outcome, when=when, failed=False, skipped=False, passed=outcome == "passed")
        if xfail:
            ns.wasxfail = ""
        return ns

    assert next_outcome("passed", rep("passed", "call")) == "passed"
    assert next_outcome("passed", rep("passed", "teardown", True)) == "passed"
    line_none = build_run([_rec("a", 0.0, 1.0)], METERS, Budgets(parse_table({}, "p"), mode="off"), run={})
    assert line_none.tests[0].line == 5
    r2 = _rec("b", 0.0, 1.0)
    r2.location = ("t.py", None, "b")
    assert build_run([r2], METERS, Budgets(parse_table({}, "p"), mode="off"), run={}).tests[0].line is None


def test_spans_energy_adds_spans_and_their_gaps():
    from pytest_carbon.assemble import _spans_energy
    from pytest_carbon.attribution import Claim, attribute

    ch = _channel(gap=(3, 5))
    spans = [(0, 1 * S), (int(2.5 * S), 6 * S), (7 * S, 8 * S)]
    per, _ = attribute([ch], [Claim(a, b) for a, b in spans])
    e = _spans_energy(per["cpu"], spans)
    assert e.energy_j is None and e.gap_ns == int(2.5 * S)
    assert e.covered_j == pytest.approx(10.0 + 10.0 + 10.0)  # 0-1 s, 5-6 s and 7-8 s: the covered parts
    known = _spans_energy(per["cpu"], [(0, 1 * S), (7 * S, 8 * S)])
    assert (known.energy_j, known.covered_j, known.gap_ns) == (pytest.approx(20.0), pytest.approx(20.0), 0)


def test_projection_of_a_phase_that_drew_nothing():
    a = _rec("a", 1.0, 2.0)
    a.phases = [PhaseRecord("s", 1 * S, 1 * S, items=1)]
    a.projections = [ProjectionSpec("s", 10, "10")]
    t = build_run([a], METERS, Budgets(parse_table({}, "p"), mode="off"), run={}).tests[0]
    assert t.projections[0].energy_j == 0.0


def test_xdist_verdicts_use_patterns_code_budgets_claims_and_require_measured():
    table = parse_table({"session": "1 kg", "t.py::pat*": {"energy": "1 J"}, "phase:p/item": {"energy": "100 J"}}, "p")
    a = _rec("t.py::pattern", 0.0, 2.0)
    code = Budget(None, 1.0, "code", "code")
    a.phases = [PhaseRecord("p", 0, 1 * S, items=2, budget=code)]
    gpu = _channel("gpu:0", 100.0)
    meters = Meters([_channel(), gpu], {}, True, 0.5)
    budgets = Budgets(table, require_measured=True, judge_here=True, session_violations=("sv",))  # type: ignore[arg-type]
    run = build_run([a], meters, budgets, run={}, claims_of=lambda r: frozenset({"cpu"}))
    t = run.tests[0]
    assert t.window.channels_j == {"cpu": pytest.approx(20.0)}
    assert t.phases[0].window.channels_j == {"cpu": pytest.approx(10.0)}  # the phase takes its test's claims
    assert [v.metric for v in t.judged.violations] == ["unmeasured", "energy"]
    assert t.judged.budget.key == "t.py::pat*"
    ph = t.phases[0].judged
    assert ph.budget is code and ph.item_budget.key == "phase:p/item"
    assert [v.subject for v in ph.violations] == ["phase 'p'", "phase 'p'", "per item of phase 'p' (2 items)"]
    assert (run.totals.g_per_j, run.totals.estimated) == (0.5, True)
    s = run.budgets
    assert (s.require_measured, s.session, s.session_violations) == (True, table.session, ("sv",))


def test_plain_records_are_kept_compact_and_expand_back():
    from pytest_carbon.records import full, keep

    plain = _rec("a", 1.0, 2.0, "failed")
    kept = keep(plain)
    assert kept == ("a", ("t.py", 4, "a"), 1 * S, 2 * S, "failed")
    for add in (lambda r: r.add_phase(PhaseRecord("p", 0, 1)), lambda r: r.add_pause(1, 2),
                lambda r: r.add_projection(ProjectionSpec("p", 1, "1")), lambda r: r.add_info({"k": 1})):  # fmt: skip
        r = _rec("b", 0.0, 1.0)
        add(r)
        assert keep(r) is r
    r = _rec("c", 0.0, 1.0)
    r.add_phase(PhaseRecord("p", 0, 1))
    r.add_phase(PhaseRecord("q", 0, 1))
    r.add_projection(ProjectionSpec("p", 1, "1"))
    r.add_projection(ProjectionSpec("q", 2, "2"))
    assert [p.name for p in r.phases] == ["p", "q"] and [p.full_items for p in r.projections] == [1, 2]
    back = [full(k) for k in (kept, r)]
    assert back[1] is r
    b = back[0]
    assert (b.nodeid, b.location, b.t0, b.t1, b.outcome, b.phases, b.pauses) == ("a", ("t.py", 4, "a"), 1 * S, 2 * S, "failed", (), ())


def test_reruns_are_one_result_with_attempts():
    first, second, last = _rec("t.py::f", 0.0, 1.0, "rerun"), _rec("t.py::f", 1.0, 3.0, "rerun"), _rec("t.py::f", 3.0, 4.0)
    last.phases = [PhaseRecord("p", 3 * S, int(3.5 * S))]
    other = _rec("t.py::g", 5.0, 6.0)
    table = parse_table({"default": {"energy": "15 J"}}, "p")
    run = build_run([first, second, last, other], METERS, Budgets(table, judge_here=True), run={})
    f, g = run.tests
    assert [t.nodeid for t in run.tests] == ["t.py::f", "t.py::g"]
    assert [(a.outcome, a.duration_s, a.energy_j) for a in f.attempts] == [
        ("rerun", 1.0, pytest.approx(10.0)), ("rerun", 2.0, pytest.approx(20.0)), ("passed", 1.0, pytest.approx(10.0))
    ]  # fmt: skip
    assert f.window.energy_j == pytest.approx(40.0) and f.window.duration_s == 4.0 and f.outcome == "passed"
    assert [p.name for p in f.phases] == ["p"]
    assert f.judged_on == (pytest.approx(5.0), pytest.approx(10.0)) and f.violations == ()  # the last attempt: 10 J < 15 J
    assert g.attempts == () and "attempts" not in g.to_json()
    d = f.to_json()
    assert d["attempts"] == [
        {"outcome": "rerun", "duration_s": 1.0, "energy_j": pytest.approx(10.0)},
        {"outcome": "rerun", "duration_s": 2.0, "energy_j": pytest.approx(20.0)},
        {"outcome": "passed", "duration_s": 1.0, "energy_j": pytest.approx(10.0)},
    ]
    assert run.budgets.tests_with_budget == 2 and run.totals.tests == 2
    assert next_outcome("passed", SimpleNamespace(outcome="rerun", when="call", failed=False, skipped=False, passed=False)) == "rerun"


def test_one_rerun_is_two_attempts_on_the_tests_own_channels():
    gpu = _channel("gpu:0", 100.0)
    meters = Meters([_channel(), gpu], {}, False, 1.0)
    first, last = _rec("t.py::f", 0.0, 1.0, "rerun"), _rec("t.py::f", 1.0, 2.0)
    run = build_run([first, last], meters, Budgets(parse_table({}, "p"), mode="off"), run={}, claims_of=lambda r: frozenset({"cpu"}))
    (f,) = run.tests
    assert [(a.outcome, a.energy_j) for a in f.attempts] == [("rerun", pytest.approx(10.0)), ("passed", pytest.approx(10.0))]
    assert f.window.channels_j == {"cpu": pytest.approx(20.0)}  # no GPU: the test's worker does not use it


def _stepped_channel(energies: list[float]) -> Channel:
    """Readings every second; the i-th second draws energies[i] J (10 W after them)."""
    total, samples = 0.0, [(0, 0.0)]
    for i in range(11):
        total += energies[i] if i < len(energies) else 10.0
        samples.append(((i + 1) * S, total))
    return Channel("cpu", build_segments(samples))


def test_a_stepped_phase_reports_its_items_after_the_warmup_and_projects_them():
    from pytest_carbon.assemble import interval_of, marks_in

    a = _rec("t.py::a", 0.0, 10.0)
    train = PhaseRecord("train", 0, 6 * S, items=6, warmup=1, marks=[k * S for k in range(1, 7)] + [7 * S])
    a.phases = [train]
    a.projections = [ProjectionSpec("train", 100, "100 steps"), ProjectionSpec("nope", 5, "5")]
    assert marks_in(train) == [k * S for k in range(1, 7)]  # the mark after the phase is not its own
    run = build_run([a], METERS, Budgets(parse_table({}, "p"), mode="off"), run={})
    per = run.tests[0].phases[0].per_item
    assert per is not None
    assert (per.n, per.chunks, per.items_per_chunk, per.warmup_n) == (5, 5, 1, 1)  # 1 s items, 0.5 s resolution
    assert per.median_j == pytest.approx(10.0) and per.mean_j == pytest.approx(10.0)
    assert per.warmup_energy_j == pytest.approx(10.0) and per.ci95_j == (pytest.approx(10.0), pytest.approx(10.0))
    assert per.to_json()["median_co2_g"] == pytest.approx(5.0)  # 0.5 g per J
    proj, missing = run.tests[0].projections  # the second is made too
    assert missing.note == "no phase 'nope' with items= in this test, so nothing to extrapolate"
    assert proj.measured_items == 5 and proj.energy_j == pytest.approx(1000.0)  # 10 J x 100
    assert proj.ci95_j == (pytest.approx(1000.0), pytest.approx(1000.0)) and proj.ci95_co2_g == (pytest.approx(500.0), pytest.approx(500.0))
    assert interval_of(per) == (pytest.approx(10.0), 5, (pytest.approx(10.0), pytest.approx(10.0)))
    assert interval_of(None) is None
    plain = build_run([_rec("t.py::b", 0.0, 1.0)], METERS, Budgets(parse_table({}, "p"), mode="off"), run={})
    assert plain.tests[0].phases == ()
    # Items of 0.25 s with the channel's 0.5 s resolution: two items per chunk
    b = _rec("t.py::c", 0.0, 2.0)
    b.phases = [PhaseRecord("fast", 0, 2 * S, marks=[k * S // 4 for k in range(1, 9)])]
    fast = build_run([b], METERS, Budgets(parse_table({}, "p"), mode="off"), run={}).tests[0].phases[0].per_item
    assert fast is not None and (fast.items_per_chunk, fast.chunks, fast.n) == (2, 4, 8)


def _uneven(limit: str, **kw: object):
    meters = Meters([_stepped_channel([10.0, 20.0, 10.0, 20.0])], {"cpu": 0.5}, True, 0.5)
    a = _rec("t.py::a", 0.0, 4.0)
    a.phases = [PhaseRecord("train", 0, 4 * S, items=4, marks=[S, 2 * S, 3 * S, 4 * S])]
    table = parse_table({"phase:train/item": {"energy": limit}}, "p")
    return build_run([a], meters, Budgets(table, judge_here=True, **kw), run={})  # type: ignore[arg-type]


def test_a_stepped_phases_interval_and_its_per_item_verdict_under_xdist():
    run = _uneven("12 J")
    per = run.tests[0].phases[0].per_item
    assert per is not None and per.mean_j == pytest.approx(15.0) and per.median_j == pytest.approx(15.0)
    half = 3.182 * 5.773502691896258 / 2  # t(3) x stdev(10, 20, 10, 20) / sqrt(4)
    assert per.ci95_j == (pytest.approx(15.0 - half), pytest.approx(15.0 + half))
    assert (per.p10_j, per.p90_j) == (pytest.approx(10.0), pytest.approx(20.0))
    (v,) = run.tests[0].phases[0].judged.violations
    assert v.metric == "inconclusive" and v.interval == (pytest.approx(15.0 - half), pytest.approx(15.0 + half))
    assert not run.tests[0].failing and run.budgets.tests_over_budget == ()
    strict = _uneven("12 J", inconclusive="fail")
    assert strict.tests[0].phases[0].judged.violations[0].metric == "unproven" and strict.budgets.tests_over_budget == ("t.py::a",)
    assert _uneven("30 J").tests[0].phases[0].judged.violations == ()  # the upper bound is within
    over = _uneven("5 J").tests[0].phases[0].judged.violations
    assert [v.metric for v in over] == ["energy"]  # the lower bound (5.8 J) is over


def test_each_window_records_its_foreign_cpu_share_from_the_load_series():
    from pytest_carbon.timeline import LoadSeries

    load = LoadSeries([0, 10 * S], [0.0, 10.0], [0.0, 2.5])  # the tree: a quarter of the busy time
    meters = Meters([_channel()], {"cpu": 0.5}, True, 0.5, load)
    a = _rec("t.py::a", 1.0, 3.0)
    a.phases = [PhaseRecord("p", S, 2 * S)]
    t = build_run([a], meters, Budgets(parse_table({}, "p"), mode="off"), run={}).tests[0]
    assert t.window.foreign_cpu_share == pytest.approx(0.75) and t.phases[0].window.foreign_cpu_share == pytest.approx(0.75)
    outside = build_run([_rec("t.py::b", 9.0, 11.0)], meters, Budgets(parse_table({}, "p"), mode="off"), run={}).tests[0]
    assert outside.window.foreign_cpu_share is None  # past the last reading
    assert build_run([_rec("t.py::c", 1.0, 2.0)], METERS, Budgets(parse_table({}, "p"), mode="off"), run={}).tests[0].window.foreign_cpu_share is None


def test_a_phase_record_marks_each_step_and_each_item_of_a_loop():
    p = PhaseRecord("train", 5)
    p.step()
    p.step()
    assert len(p.marks) == 2 and 5 < p.marks[0] <= p.marks[1]
    q = PhaseRecord("sample", 0)
    seen = []
    for x in q.steps("abc"):
        seen.append(x)
        assert len(q.marks) == len(seen) - 1  # an item is marked when the loop asks for the next
    assert seen == ["a", "b", "c"] and len(q.marks) == 3 and q.marks == sorted(q.marks)


def test_step_marks_at_the_phase_start_are_not_items_and_per_item_energy_keeps_to_the_claimed_channels():
    from pytest_carbon.assemble import marks_in

    assert marks_in(PhaseRecord("p", 5, 9, marks=[5, 6, 9, 10])) == [6, 9]
    meters = Meters([_channel("cpu", 10.0), _channel("gpu:0", 30.0)], {"cpu": 0.5, "gpu:0": 0.5}, True, 0.5)
    a = _rec("t.py::a", 0.0, 2.0)
    a.phases = [PhaseRecord("train", 0, 2 * S, marks=[S, 2 * S])]
    run = build_run([a], meters, Budgets(parse_table({}, "p"), mode="off"), run={}, claims_of=lambda r: frozenset({"cpu"}))
    per = run.tests[0].phases[0].per_item
    assert per is not None and per.mean_j == pytest.approx(10.0)  # the worker's cpu only, not the other GPU's 30 W


@given(
    st.lists(st.tuples(st.integers(0, 95), st.integers(0, 30), st.sampled_from(["plain", "phase", "rerun", "budget", "pause", "projection"])), min_size=1, max_size=25),
    st.integers(0, 6),
    st.booleans(),
    st.booleans(),
    st.booleans(),
)
def test_a_run_without_per_test_outputs_builds_what_its_summary_shows_and_counts_the_rest(specs, top, gap, xdist, compact):
    """build_run(top=N) against build_run(): the same summary tests, figures and totals."""
    meters = Meters([_channel(gap=(4, 6) if gap else None), _channel("ram", 2.0)], {"cpu": 0.5, "ram": 0.5}, True, 0.5)
    records: list[TestRecord] = []
    budgets_of: dict[str, Budget] = {}
    for k, (start, length, kind) in enumerate(specs):
        t0, t1 = start / 10, (start + length) / 10  # windows of 0 to 3 s inside the 10 s of readings
        r = _rec(f"t.py::t{k}", t0, t1, "failed" if k % 7 == 3 else "passed")
        if kind == "phase":
            r.phases = [PhaseRecord("p", r.t0, r.t1)]
        elif kind == "rerun":
            records.append(_rec(r.nodeid, t0, t1, "rerun"))
        elif kind == "budget":
            budgets_of[r.nodeid] = TABLE.default  # type: ignore[assignment]
        elif kind == "pause" and r.t1 > r.t0:
            r.add_pause(r.t0, (r.t0 + r.t1) // 2)  # a verdict's wait: not the test's energy
        elif kind == "projection":
            r.projections = [ProjectionSpec("p", 10, "10")]
        records.append(r)
    budgets = Budgets(TABLE, test_budgets=budgets_of)
    # Under xdist a test may claim only some channels: every third here leaves out the RAM.
    # In process every test shares every channel (no claims), and the light ranking is in bulk.
    claims = (lambda r: frozenset({"cpu"}) if int(r.nodeid.split("::t")[1]) % 3 == 0 else None) if xdist else None  # noqa: E731
    full = build_run(records, meters, budgets, run={}, claims_of=claims)
    # The session's kept records: a plain test as its compact tuple, as on the hot path.
    light = build_run([keep(r) for r in records] if compact else records, meters, budgets, run={}, claims_of=claims, top=top)
    assert light.totals == full.totals  # every test counted, approximate ones too
    assert light.budgets == full.budgets
    want = summary_tests(full.tests, top)
    assert summary_tests(light.tests, top) == want  # the same tests, with the same figures
    assert light.to_json(summary_tests(light.tests, top)) == full.to_json(want)
    assert len(light.tests) <= len(full.tests)
    if compact:  # every test built from compact records: the same report as from TestRecords
        assert build_run([keep(r) for r in records], meters, budgets, run={}, claims_of=claims).to_json() == full.to_json()


def test_a_run_without_per_test_outputs_builds_only_the_top_plain_tests():
    phased = _rec("t.py::phased", 0.0, 0.05)
    phased.phases = [PhaseRecord("p", 0, S // 100)]
    records = [phased] + [_rec(f"t.py::t{k}", k * 0.4, k * 0.4 + 0.1 * (k % 4 + 1)) for k in range(20)]
    off = Budgets(parse_table({}, "p"), mode="off")
    light = build_run(records, METERS, off, run={}, top=3)
    full = build_run(records, METERS, off, run={})
    # A test with a phase is always built; of the others, the three longest windows (0.4 s:
    # k = 3, 7, 11, 15, 19 tie; the first three in run order).
    assert [t.nodeid for t in light.tests] == ["t.py::phased", "t.py::t3", "t.py::t7", "t.py::t11"]
    assert light.totals.tests == 21 and light.totals == full.totals


def test_the_light_measure_ranks_unknown_energy_last_and_flags_as_the_full_one():
    # cpu read every second with readings from 4 s to 6 s lost; resolution 0.5 s.
    meters = Meters([_channel(gap=(4, 6)), _channel("ram", 2.0)], {"cpu": 0.5, "ram": 0.25}, True, 0.5)
    records = [
        _rec("t.py::in_gap", 4.0, 6.0),  # the longest, but unknown: last
        _rec("t.py::exact", 1.0, 1.5),  # exactly the resolution: not approximate on cpu
        _rec("t.py::short", 2.0, 2.3),  # approximate
        _rec("t.py::long", 7.0, 8.0),
        _rec("t.py::tiny", 8.5, 8.6),  # below all known ones, above none of them: still above the unknown
    ]
    off = Budgets(parse_table({}, "p"), mode="off")
    full = build_run(records, meters, off, run={})
    for top in (1, 2, 3, 4):
        light = build_run(records, meters, off, run={}, top=top)
        assert summary_tests(light.tests, top) == summary_tests(full.tests, top)
        assert light.totals == full.totals
    assert [t.nodeid for t in build_run(records, meters, off, run={}, top=2).tests] == ["t.py::exact", "t.py::long"]
    assert full.totals.approximate_tests == 2  # the short and the tiny ones


def test_a_window_with_pauses_has_its_spans_energy_and_the_whole_window_s_foreign_share():
    from pytest_carbon.timeline import LoadSeries

    # The machine busy all along; the tree idle until 4 s, then half of the busy time.
    load = LoadSeries([0, 4 * S, 10 * S], [0.0, 4.0, 10.0], [0.0, 0.0, 3.0])
    meters = Meters([_channel()], {"cpu": 2.5}, True, 0.5, load)
    r = _rec("t.py::paused", 2.0, 6.0)
    r.add_pause(3 * S, 4 * S)  # verdicts' waits: the plugin's time, not the test's
    r.add_pause(5 * S, int(5.5 * S))
    t = build_run([r], meters, Budgets(parse_table({}, "p"), mode="off"), run={}).tests[0]
    w = t.window
    assert w.duration_s == 2.5 and w.energy_j == pytest.approx(25.0) and w.co2_g == pytest.approx(12.5)
    # From the test's start to its end, pauses included: busy 2 -> 6 s (4 s), tree 0 -> 1 s
    assert w.foreign_cpu_share == pytest.approx(0.75)
    assert w.approximate_channels == () and w.estimated is True  # 2.5 s: not shorter than the 2.5 s resolution
    r2 = _rec("t.py::paused2", 2.0, 6.0)
    r2.add_pause(3 * S, 5 * S)
    w2 = build_run([r2], meters, Budgets(parse_table({}, "p"), mode="off"), run={}).tests[0].window
    assert w2.duration_s == 2.0 and w2.approximate_channels == ("cpu",)  # 2 s of spans: shorter than 2.5
