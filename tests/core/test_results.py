"""The result model: measure_window and the JSON each result makes, with values written out."""

from __future__ import annotations

import pytest

from pytest_carbon.attribution import ChannelTotals
from pytest_carbon.budget import Budget, Violation
from pytest_carbon.projection import Projection, ProjectionSpec, project
from pytest_carbon.results import (
    SCHEMA, BudgetSummary, Judged, PhaseResult, RunResult, TestResult, Totals, Window, measure_window, summary_tests,
)  # fmt: skip
from pytest_carbon.timeline import WindowEnergy

G = 0.5  # g per J: exact in binary, so results compare exactly


def test_measure_window_sums_channels_and_converts():
    w = measure_window({"cpu": WindowEnergy(3.0, 3.0, 0), "ram": WindowEnergy(1.5, 1.5, 0)}, 2.0, {"cpu": 0.1, "ram": 0.1}, True, G)
    assert w == Window(2.0, {"cpu": 3.0, "ram": 1.5}, 4.5, 2.25, (), True, {})
    assert w.approximate is False
    assert measure_window({}, 1.0, {}, False, G, 0.3).foreign_cpu_share == 0.3


def test_an_unknown_channel_makes_the_total_unknown_and_reports_its_gap():
    w = measure_window({"cpu": WindowEnergy(3.0, 3.0, 0), "gpu:0": WindowEnergy(None, 7.0, 250_000_000)}, 1.0, {}, False, G)
    assert (w.energy_j, w.co2_g) == (None, None)
    assert w.channels_j == {"cpu": 3.0, "gpu:0": None}
    assert w.gaps_s == {"gpu:0": 0.25}
    w2 = measure_window({"gpu:0": WindowEnergy(None, 0.0, 1), "cpu": WindowEnergy(3.0, 3.0, 0)}, 1.0, {}, False, G)
    assert w2.energy_j is None  # an unknown channel first still leaves the total unknown


def test_approximate_where_the_window_is_shorter_than_a_channels_resolution():
    e = {"cpu": WindowEnergy(1.0, 1.0, 0), "gpu:0": WindowEnergy(2.0, 2.0, 0), "x": WindowEnergy(0.0, 0.0, 0)}
    w = measure_window(e, 0.5, {"cpu": 0.1, "gpu:0": 1.0}, False, G)
    assert w.approximate_channels == ("gpu:0",) and w.approximate
    assert measure_window(e, 1.0, {"gpu:0": 1.0}, False, G).approximate_channels == ()  # equal is not shorter
    assert measure_window(e, 0.5, {"cpu": 0.5, "gpu:0": 1.0}, False, G).approximate_channels == ("gpu:0",)  # beside a coarser one too
    assert measure_window({}, 0.0, {}, False, G) == Window(0.0, {}, 0.0, 0.0, (), False, {})


def test_window_json():
    w = Window(1.5, {"cpu": 2.0}, 2.0, 0.002, ("cpu",), True, {"ram": 0.5})
    assert w.to_json() == {
        "duration_s": 1.5, "energy_j": {"cpu": 2.0, "total": 2.0}, "co2_g": 0.002, "approximate": True,
        "approximate_channels": ["cpu"], "estimated": True, "gaps_s": {"ram": 0.5}, "foreign_cpu_share": None,
    }  # fmt: skip
    assert Window(1.0, {}, 0.0, 0.0, (), True, {}, 0.625).to_json()["foreign_cpu_share"] == 0.625


B = Budget(1.0, 2.0, "pyproject", "k")
OVER = Violation("test", "co2", 3.0, 1.0, B)
UNDECIDED = Violation("phase 'p'", "undecided", None, 0.0, B, "gap")


def test_phase_json_with_items_and_budgets():
    w = Window(1.0, {"cpu": 8.0}, 8.0, 0.008, (), False, {})
    p = PhaseResult("sample", w, 4, Judged(B, (OVER,), Budget(None, 1.0, "code", "")))
    d = p.to_json()
    assert d["name"] == "sample" and d["items"] == 4 and d["energy_j"] == {"cpu": 8.0, "total": 8.0}
    assert (d["energy_j_per_item"], d["co2_g_per_item"]) == (2.0, 0.002)
    assert d["budget"] == {"co2_g": 1.0, "energy_j": 2.0, "source": "pyproject", "key": "k"}
    assert d["item_budget"] == {"co2_g": None, "energy_j": 1.0, "source": "code", "key": ""}
    assert d["violations"] == [{"subject": "test", "metric": "co2", "measured": 3.0, "limit": 1.0, "source": "pyproject", "key": "k", "reason": ""}]
    bare = PhaseResult("x", Window(1.0, {"cpu": None}, None, None, (), False, {"cpu": 1.0}), None).to_json()
    assert "energy_j_per_item" not in bare and "budget" not in bare and bare["items"] is None
    unknown = PhaseResult("x", Window(1.0, {"cpu": None}, None, None, (), False, {}), 2).to_json()
    assert (unknown["energy_j_per_item"], unknown["co2_g_per_item"]) == (None, None)
    assert PhaseResult("x", w, None, Judged(None, ())).to_json()["item_budget"] is None
    from pytest_carbon.steps import per_item as stats

    per = stats(0, [10**9, 2 * 10**9], 0, 0, lambda a, b: 4.0, 0.5)
    assert PhaseResult("x", w, 2, None, per).to_json()["per_item"] == per.to_json() and d["per_item"] is None


def test_test_json_and_failing():
    w = Window(2.0, {"cpu": 4.0}, 4.0, 0.004, (), False, {})
    phase = PhaseResult("p", w, None, Judged(None, (UNDECIDED,)))
    t = TestResult("t.py::a", "t.py", 3, "passed", w, (phase,), (), {"k": 1}, Judged(B, (OVER,)), (0.004, 4.0))
    d = t.to_json()
    assert [d[k] for k in ("nodeid", "file", "line", "outcome", "duration_s", "co2_g")] == ["t.py::a", "t.py", 3, "passed", 2.0, 0.004]
    assert d["info"] == {"k": 1} and d["projections"] == [] and len(d["phases"]) == 1
    assert d["budget"]["co2_g"] == 1.0
    assert d["budget_judged"] == {"co2_g": 0.004, "energy_j": 4.0, "window": "setup+call"}
    assert d["violations"] == [OVER.as_dict()]
    assert t.violations == (OVER, UNDECIDED) and t.failing
    only_undecided = TestResult("x", "t.py", None, "passed", w, (phase,), judged=Judged(None, ()))
    assert only_undecided.failing is False and only_undecided.to_json()["budget_judged"] is None
    plain = TestResult("x", "t.py", None, "passed", w).to_json()
    assert "budget" not in plain and "violations" not in plain and plain["info"] == {}
    assert TestResult("x", "t.py", None, "passed", w).failing is False


def test_totals_json_is_conserved_per_channel():
    ch = {"cpu": ChannelTotals(10.0, 6.0, 1.0, 3.0, 0), "gpu:0": ChannelTotals(100.0, 90.0, 0.0, 10.0, 2_000_000_000)}
    d = Totals(ch, 0.5, 7, True).to_json()
    assert d["energy_j"] == {"cpu": 10.0, "gpu:0": 100.0, "total": 110.0}
    assert (d["attributed_j"], d["incomplete_j"], d["unattributed_j"]) == (96.0, 1.0, 13.0)
    assert d["gaps_s"] == {"gpu:0": 2.0}
    assert d["channels"]["cpu"] == {"measured_j": 10.0, "attributed_j": 6.0, "incomplete_j": 1.0, "unattributed_j": 3.0}
    assert d["co2_g"] == 55.0 and d["car_km"] == pytest.approx(55.0 / 107.5)
    assert (d["tests"], d["estimated"], d["approximate_tests"]) == (7, True, 0)
    assert Totals(ch, 0.5, 7, True, 3).to_json()["approximate_tests"] == 3
    assert Totals(ch, 0.5, 7, True).measured_j == 110.0


def test_run_json():
    s = BudgetSummary("warn", True, ("session", "default"), B, (OVER,), 2, ("a",))
    assert s.to_json() == {
        "mode": "warn", "require_measured": True, "declared": ["session", "default"], "session": B.as_dict(),
        "session_violations": [OVER.as_dict()], "tests_with_budget": 2, "tests_over_budget": ["a"],
    }  # fmt: skip
    assert BudgetSummary("off", False, (), None, (), 0, ()).to_json()["session"] is None
    r = RunResult({"host": "h"}, [], Totals({}, 1.0, 0, False), s, {"ratio": 2.0})
    d = r.to_json()
    assert list(d) == ["schema", "run", "tests", "budgets", "totals", "whatif"]
    assert (d["schema"], d["run"], d["tests"], d["whatif"]) == (SCHEMA, {"host": "h"}, [], {"ratio": 2.0})
    assert SCHEMA == "pytest-carbon/1"
    assert RunResult({}, [], Totals({}, 1.0, 0, False), None, None).to_json()["budgets"] is None


def test_projection():
    spec = ProjectionSpec("train", 150_000, "150k")
    p = project(spec, 20.0, 4, 0.002)
    assert p == Projection(spec, 4, 5.0, 750_000.0, 1500.0)
    d = p.to_json()
    assert d == {
        "phase": "train", "label": "150k", "count": 150_000, "measured_items": 4, "factor": 37_500.0,
        "energy_j_per_item": 5.0, "energy_j": 750_000.0, "co2_g": 1500.0, "car_km": 1500.0 / 107.5, "extrapolated": True,
        "energy_j_ci95": None, "co2_g_ci95": None,
    }  # fmt: skip
    ranged = project(spec, 20.0, 4, 0.002, None, (4.5, 5.5))  # a per-item interval, to the full count
    assert ranged.ci95_j == (675_000.0, 825_000.0) and ranged.ci95_co2_g == (1350.0, 1650.0)
    assert ranged.to_json()["energy_j_ci95"] == [675_000.0, 825_000.0] and ranged.to_json()["co2_g_ci95"] == [1350.0, 1650.0]
    none = project(spec, None, 4, 1.0, "why").to_json()
    assert (none["energy_j"], none["co2_g"], none["car_km"], none["note"]) == (None, None, None, "why")
    zero = project(spec, 20.0, 0, 1.0).to_json()
    assert (zero["factor"], zero["energy_j_per_item"], zero["energy_j"]) == (None, None, None)


def test_run_json_carries_budgets_and_one_item_projects():
    s = BudgetSummary("enforce", False, (), None, (), 0, ())
    assert RunResult({}, [], Totals({}, 1.0, 0, False), s, None).to_json()["budgets"] == s.to_json()
    one = project(ProjectionSpec("p", 10, "10"), 3.0, 1, 1.0).to_json()
    assert (one["factor"], one["energy_j_per_item"], one["energy_j"]) == (10.0, 3.0, 30.0)


def test_test_json_lists_its_projections_and_phases():
    w = Window(1.0, {"cpu": 1.0}, 1.0, 0.5, (), False, {})
    spec = ProjectionSpec("p", 10, "10")
    t = TestResult("x", "t.py", 1, "passed", w, (PhaseResult("p", w, 2),), (project(spec, 1.0, 2, 0.5),))
    d = t.to_json()
    assert [p["name"] for p in d["phases"]] == ["p"] and [p["label"] for p in d["projections"]] == ["10"]


def _t(nodeid: str, co2: float | None, **kw: object) -> TestResult:
    w = Window(1.0, {"cpu": None if co2 is None else co2 * 2}, None if co2 is None else co2 * 2, co2, (), False, {})
    return TestResult(nodeid, "t.py", 1, "passed", w, **kw)  # type: ignore[arg-type]


def test_summary_tests_are_the_top_by_co2_and_every_test_with_a_finding_or_projection_in_run_order():
    proj = project(ProjectionSpec("p", 10, "10"), 1.0, 1, 1.0)
    tests = [
        _t("a", 1.0),
        _t("gap", None),  # unknown: last, never taken for 0
        _t("b", 5.0),
        _t("c", 3.0),
        _t("d", 5.0),  # ties with b: b first, as by_co2 orders them (run order)
        _t("low-but-over", 0.1, judged=Judged(B, (OVER,))),
        _t("low-with-projection", 0.2, projections=(proj,)),
        _t("low-undecided-phase", 0.3, phases=(PhaseResult("p", Window(1.0, {}, 0.0, 0.0, (), False, {}), None, Judged(None, (UNDECIDED,))),)),
    ]
    names = lambda ts: [t.nodeid for t in ts]  # noqa: E731
    assert names(summary_tests(tests, 2)) == ["b", "d", "low-but-over", "low-with-projection", "low-undecided-phase"]
    assert names(summary_tests(tests, 3)) == ["b", "c", "d", "low-but-over", "low-with-projection", "low-undecided-phase"]
    assert names(summary_tests(tests, 0)) == ["low-but-over", "low-with-projection", "low-undecided-phase"]
    assert names(summary_tests(tests, 1)) == ["b", "low-but-over", "low-with-projection", "low-undecided-phase"]
    assert names(summary_tests(tests, 8)) == names(tests)  # the gap is in the top 8 of 8
    assert names(summary_tests(tests, 7)) == [n for n in names(tests) if n != "gap"]


def test_run_json_lists_only_the_tests_asked_for_and_the_totals_count_all():
    tests = [_t("a", 1.0), _t("b", 2.0)]
    r = RunResult({}, tests, Totals({}, 1.0, 2, False, 1), None, None)
    assert [t["nodeid"] for t in r.to_json()["tests"]] == ["a", "b"]
    d = r.to_json(tests[1:])
    assert [t["nodeid"] for t in d["tests"]] == ["b"] and (d["totals"]["tests"], d["totals"]["approximate_tests"]) == (2, 1)
