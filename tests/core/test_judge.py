"""One judge for every verdict: test, phase, per item and session budgets, with written-out cases."""

from __future__ import annotations

import pytest

from pytest_carbon.budget import (
    FORMS, Budget, BudgetError, Finding, Measurement, PhaseCheck, Verdict, Violation, check, check_phase, judge, judge_session, parse_table, for_test,
)  # fmt: skip

B = Budget(1.0, 100.0, "src", "k")


def test_nothing_budgeted_gives_no_verdict():
    m = Measurement(5.0, 500.0)
    assert judge(None, m) is None
    assert judge(None, m, [PhaseCheck("p", None, None, m, 3)]) is None


def test_within_budget_is_a_verdict_without_findings():
    m = Measurement(0.5, 50.0)
    v = judge(B, m)
    assert v == Verdict(B, m, ()) and v.violations == () and not v.failing


def test_test_and_phase_findings_in_order_with_their_measurements():
    m = Measurement(2.0, 50.0, duration_s=3.0)
    pm = Measurement(0.8, 80.0, duration_s=1.0)
    pb = Budget(0.5, None, "phase src", "phase:train")
    ib = Budget(None, 10.0, "item src", "phase:train/item")
    quiet = PhaseCheck("quiet", None, None, Measurement(99.0, 99.0), 1)
    v = judge(B, m, [quiet, PhaseCheck("train", pb, ib, pm, 4)])
    assert v is not None and v.failing
    assert v.findings == (
        Finding(Violation("test", "co2", 2.0, 1.0, B), m),
        Finding(Violation("phase 'train'", "co2", 0.8, 0.5, pb), pm),
        Finding(Violation("per item of phase 'train' (4 items)", "energy", 20.0, 10.0, ib), pm, 4),
    )


def test_a_phase_budget_alone_makes_a_verdict():
    pm = Measurement(0.1, 1.0)
    v = judge(None, Measurement(9.0, 9.0), [PhaseCheck("s", None, Budget(None, 1.0, "i", "k"), pm, 2)])
    assert v is not None and v.findings == () and v.budget is None


def test_require_measured_reaches_phases():
    pm = Measurement(0.1, 1.0, estimated=True)
    v = judge(None, Measurement(0.0, 0.0), [PhaseCheck("s", B, None, pm, None)], require_measured=True)
    assert v is not None and [f.violation.metric for f in v.findings] == ["unmeasured"] and v.failing


def test_undecided_is_not_failing():
    v = judge(B, Measurement(None, None))
    assert v is not None and [f.violation.metric for f in v.findings] == ["undecided"] and not v.failing


def test_check_is_strict_and_per_metric():
    assert check("test", B, Measurement(1.0, 100.0)) == []  # at the limit is within
    assert [v.metric for v in check("test", Budget(1.0, None, "s", "k"), Measurement(2.0, 1e9))] == ["co2"]
    assert [v.metric for v in check("test", Budget(None, 1.0, "s", "k"), Measurement(1e9, 2.0))] == ["energy"]
    assert check("test", Budget(1.0, None, "s", "k"), Measurement(None, 2.0)) == []  # no CO2: not judged on it
    both = check("test", B, Measurement(2.0, 200.0, estimated=True), require_measured=True)
    assert [v.metric for v in both] == ["unmeasured", "co2", "energy"]
    assert both[0] == Violation("test", "unmeasured", None, 0.0, B, "the energy is an estimate (no energy counter) and require_measured = true")
    gap = check("phase 'x'", B, Measurement(None, None))
    assert gap == [Violation("phase 'x'", "undecided", None, 0.0, B, "a meter failed during the window, so its energy is unknown")]


def test_check_phase_divides_by_items():
    m = Measurement(6.0, 600.0, True, True, 2.0)
    whole, each = check_phase("p", None, Budget(1.0, 100.0, "s", "k"), m, 3)
    assert whole == []
    assert [(v.subject, v.metric, v.measured) for v in each] == [("per item of phase 'p' (3 items)", "co2", 2.0), ("per item of phase 'p' (3 items)", "energy", 200.0)]
    assert check_phase("p", None, Budget(1.0, None, "s", "k"), m, None) == ([], [])
    assert check_phase("p", None, None, m, 3) == ([], [])
    unknown = check_phase("p", None, Budget(1.0, None, "s", "k"), Measurement(None, None), 2)[1]
    assert [v.metric for v in unknown] == ["undecided"]
    est = check_phase("p", None, Budget(1.0, None, "s", "k"), Measurement(0.1, 0.1, estimated=True), 2, require_measured=True)[1]
    assert [v.metric for v in est] == ["unmeasured"]


def test_session_budget_and_gaps():
    assert judge_session(None, Measurement(1.0, 1.0), gaps=True) == ()
    assert judge_session(B, Measurement(0.5, 50.0), gaps=False) == ()
    undecided = judge_session(B, Measurement(0.5, 50.0), gaps=True)
    assert undecided == (Violation("session", "undecided", None, 0.0, B, "meters had gaps, so the measured total is a lower bound"),)
    over = judge_session(B, Measurement(2.0, 50.0), gaps=True)
    assert [v.metric for v in over] == ["co2"]  # over a lower bound is over for certain
    est = judge_session(B, Measurement(0.5, 50.0, estimated=True), gaps=False, require_measured=True)
    assert [v.metric for v in est] == ["unmeasured"]


def test_dicts():
    assert B.as_dict() == {"co2_g": 1.0, "energy_j": 100.0, "source": "src", "key": "k"}
    v = Violation("test", "energy", 150.0, 100.0, B, "why")
    assert v.as_dict() == {"subject": "test", "metric": "energy", "measured": 150.0, "limit": 100.0, "source": "src", "key": "k", "reason": "why"}


def test_wildcards_are_not_literal_characters_in_specificity():
    # "a*" has one literal character, "ab" two; "a****" must not outscore "abc" by its length.
    t = parse_table({"abc": "1 g", "a****": "2 g", "a?c": "3 g", "[a]bc": "4 g"}, "p")
    assert for_test(t, "abc").co2_g == 1
    t2 = parse_table({"a****": "2 g", "a[b]c": "4 g"}, "p")
    assert for_test(t2, "abc").co2_g == 4  # "a[b]c": 3 literal characters beat 1


def test_empty_table_and_keys():
    t = parse_table({}, "p")
    assert t.empty and t.keys() == []
    assert not parse_table({"phase:x/item": "1 g"}, "p").empty
    assert parse_table({"session": "1 g"}, "p").keys() == ["session"]


def test_parse_value_forms_and_sources():
    t = parse_table({"a": "2 g", "c": {"co2": "1 kg", "energy": "1 MJ"}, "e": {"energy": "2 Wh"}}, "f.toml")
    assert t.tests == (
        ("a", Budget(2.0, None, 'f.toml [tool.pytest-carbon.budgets] "a"', "a")),
        ("c", Budget(1000.0, 1e6, 'f.toml [tool.pytest-carbon.budgets] "c"', "c")),
        ("e", Budget(None, 7200.0, 'f.toml [tool.pytest-carbon.budgets] "e"', "e")),
    )
    with pytest.raises(BudgetError) as e:
        parse_table({"a": "2"}, "f.toml")
    assert str(e.value) == (
        "f.toml: [tool.pytest-carbon.budgets] 'a' = '2': '2' has no unit; a CO2eq mass needs one of mg, g, kg, t,"
        " e.g. '12 g'; a budget is " + FORMS
    )


def test_table_values_with_one_metric_and_near_miss_keys():
    t = parse_table({"a": {"co2": "1 g"}}, "f")
    assert t.tests[0][1] == Budget(1.0, None, 'f [tool.pytest-carbon.budgets] "a"', "a")
    for key in ("defaults", "sessions", "phase"):
        with pytest.raises(BudgetError, match=rf"'{key}' is not a budget key"):
            parse_table({key: "1 g"}, "f")


def test_specificity_counts_letters_x_too():
    t = parse_table({"*": "1 g", "X*": "2 g"}, "f")
    assert for_test(t, "Xa").co2_g == 2


def test_per_item_measurement_keeps_quality_and_duration():
    m = Measurement(4.0, 40.0, estimated=True, approximate=True, duration_s=2.0)
    ib = Budget(None, 1.0, "s", "k")
    v = judge(None, Measurement(0.0, 0.0), [PhaseCheck("p", None, ib, m, 4)], require_measured=True)
    assert v is not None
    assert [f.violation.metric for f in v.findings] == ["unmeasured", "energy"]
    _, each = check_phase("p", None, Budget(None, 100.0, "s", "k"), m, 4)
    assert each == []


def test_require_measured_reaches_the_test_budget():
    v = judge(B, Measurement(0.5, 50.0, estimated=True), require_measured=True)
    assert v is not None and [f.violation.metric for f in v.findings] == ["unmeasured"]
    assert judge_session(B, Measurement(2.0, 1.0), gaps=False)[0].subject == "session"


def test_session_judgement_accepts_estimates_unless_asked():
    assert judge_session(B, Measurement(0.5, 50.0, estimated=True), gaps=False) == ()


def test_a_per_item_interval_is_over_within_or_inconclusive():
    from pytest_carbon.budget import check_interval, fails

    b = Budget(None, 2.0, "src", "phase:train/item")  # 2 J per item
    m = Measurement(None, 2.5, True)
    over = check_interval("per item", b, m, (2.1, 2.9))
    assert [(v.metric, v.measured, v.limit, v.interval, v.unit) for v in over] == [("energy", 2.5, 2.0, (2.1, 2.9), "energy")]
    assert check_interval("per item", b, Measurement(None, 1.5, True), (1.2, 2.0)) == []  # the upper bound is within
    (straddle,) = check_interval("per item", b, Measurement(None, 1.9, True), (1.5, 2.3))
    assert straddle == Violation("per item", "inconclusive", 1.9, 2.0, b, interval=(1.5, 2.3), unit="energy") and not fails(straddle)
    (edge,) = check_interval("per item", b, Measurement(None, 2.1, True), (2.0, 2.2))  # the lower bound at the limit
    assert edge.metric == "inconclusive"
    (strict,) = check_interval("per item", b, Measurement(None, 1.9, True), (1.5, 2.3), inconclusive="fail")
    assert strict.metric == "unproven" and fails(strict)
    # A CO2 limit: the interval in grams from the measurement's g per J (here 0.5 g/J)
    c = Budget(1.0, None, "src", "k")
    (v,) = check_interval("per item", c, Measurement(1.25, 2.5, True), (2.2, 2.8))
    assert (v.metric, v.measured, v.interval, v.unit) == ("co2", 1.25, (1.1, 1.4), "co2")
    assert v.as_dict()["interval"] == [1.1, 1.4] and v.as_dict()["unit"] == "co2"


def test_a_stepped_phase_is_judged_on_its_interval_and_the_verdict_fails_only_when_over():
    ib = Budget(None, 2.0, "src", "phase:train/item")
    pm = Measurement(None, 30.0, True)  # the whole phase: 30 J over 12 items (2.5 J each, warm-up included)
    straddling = PhaseCheck("train", None, ib, pm, 12, (1.9, 10, (1.5, 2.3)))
    v = judge(None, Measurement(None, 40.0, True), [straddling])
    assert v is not None and [f.violation.metric for f in v.findings] == ["inconclusive"] and not v.failing
    assert v.findings[0].violation.subject == "per item of phase 'train' (10 items after the warm-up)"
    strict = judge(None, Measurement(None, 40.0, True), [straddling], inconclusive="fail")
    assert strict is not None and strict.failing
    over = judge(None, Measurement(None, 40.0, True), [PhaseCheck("train", None, ib, pm, 12, (2.5, 10, (2.2, 2.8)))])
    assert over is not None and over.failing and over.findings[0].violation.interval == (2.2, 2.8)
    # Without an interval: the phase's energy / items, as before (30 / 12 = 2.5 J > 2 J)
    plain = judge(None, Measurement(None, 40.0, True), [PhaseCheck("train", None, ib, pm, 12)])
    assert plain is not None and plain.failing and plain.findings[0].violation.measured == 2.5


def test_a_stepped_phase_with_a_co2_per_item_budget_is_judged_in_grams():
    ib = Budget(1.0, None, "src", "phase:train/item")  # 1 g per item
    pm = Measurement(15.0, 30.0, True)  # the phase: 0.5 g per J
    v = judge(None, Measurement(20.0, 40.0, True), [PhaseCheck("train", None, ib, pm, 12, (2.5, 10, (2.2, 2.8)))])
    assert v is not None
    (f,) = v.findings
    assert (f.violation.metric, f.violation.measured, f.violation.interval) == ("co2", 1.25, (1.1, 1.4))
    within = judge(None, Measurement(20.0, 40.0, True), [PhaseCheck("train", None, ib, pm, 12, (1.5, 10, (1.2, 1.8)))])
    assert within is not None and within.findings == ()  # 0.9 g at most: within


def test_a_window_is_disturbed_when_over_half_the_busy_cpu_time_was_other_processes():
    from pytest_carbon.budget import disturbed

    def m(share):
        return Measurement(1.0, 1.0, foreign_cpu_share=share)

    assert [disturbed(m(x)) for x in (None, 0.0, 0.5, 0.51, 1.0)] == [False, False, False, True, True]
