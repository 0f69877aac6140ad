"""Baseline comparison: both thresholds, unknown and missing tests, warnings; hand-written cases."""

from __future__ import annotations

import math

from typing import Any

import pytest

from pytest_carbon.compare import Change, compare


def _report(tests: dict[str, float | None], *, cpu: str = "EPYC", gpus: tuple[str, ...] = (), method: str = "estimated",
            interrupted: bool = False) -> dict[str, Any]:  # fmt: skip
    return {
        "run": {"meters": [{"channel": "cpu", "method": method}], "hardware": {"cpu": cpu, "gpus": list(gpus)}, "interrupted": interrupted},
        "tests": [
            {"nodeid": n, "energy_j": {"total": e}, "co2_g": None if e is None else e / 1000, "file": "t.py", "line": 3}
            for n, e in tests.items()
        ],
    }


def test_regression_needs_both_thresholds():
    base = _report({"a": 1000.0, "b": 1000.0, "c": 100.0, "d": 1000.0})
    head = _report({"a": 1200.0, "b": 1040.0, "c": 140.0, "d": 1101.0})
    c = compare(base, head, max_regression=0.10, min_delta_j=50.0)
    # a: +200 J, +20%: both over. b: +40 J under the floor. c: +40% but +40 J. d: +101 J, +10.1%.
    assert [x.nodeid for x in c.regressions] == ["a", "d"]
    assert sorted(x.nodeid for x in c.unchanged) == ["b", "c"]
    assert c.failed
    assert (c.base_total_j, c.head_total_j) == (3100.0, 3481.0)


def test_exactly_at_a_threshold_is_not_a_regression():
    c = compare(_report({"a": 1000.0}), _report({"a": 1100.0}), 0.10, 100.0)
    assert c.regressions == [] and not c.failed


def test_growth_from_zero_regresses_on_the_floor_alone():
    c = compare(_report({"a": 0.0}), _report({"a": 60.0}), 0.10, 50.0)
    assert [x.nodeid for x in c.regressions] == ["a"]
    assert c.regressions[0].ratio is None and c.regressions[0].delta_j == 60.0


def test_improvement_needs_both_thresholds():
    base = _report({"a": 1000.0, "b": 1000.0, "c": 100.0})
    head = _report({"a": 800.0, "b": 960.0, "c": 40.0})
    c = compare(base, head, 0.10, 50.0)
    # a: -200 J, -20%. b: -40 J. c: -60%, but -60 J over the floor: improved too.
    assert [x.nodeid for x in c.improvements] == ["a", "c"]
    assert [x.nodeid for x in c.unchanged] == ["b"]
    c2 = compare(_report({"a": 1000.0}), _report({"a": 940.0}), 0.10, 50.0)  # -60 J but only -6%
    assert c2.improvements == [] and [x.nodeid for x in c2.unchanged] == ["a"]


def test_order_largest_change_first():
    base = _report({"a": 1000.0, "b": 1000.0, "c": 1000.0, "d": 1000.0})
    head = _report({"a": 1200.0, "b": 1500.0, "c": 700.0, "d": 400.0})
    c = compare(base, head, 0.10, 50.0)
    assert [x.nodeid for x in c.regressions] == ["b", "a"]
    assert [x.nodeid for x in c.improvements] == ["d", "c"]


def test_unknown_new_and_removed_are_never_compared_as_zero():
    base = _report({"gap": 100.0, "gone": 5.0, "was_gap": None})
    head = _report({"gap": None, "new": 9.0, "was_gap": 100.0})
    c = compare(base, head, 0.10, 50.0)
    assert [x.nodeid for x in c.unknown] == ["gap", "was_gap"]
    assert [x.nodeid for x in c.new] == ["new"] and [x.nodeid for x in c.removed] == ["gone"]
    assert c.removed[0] == Change("gone", 5.0, None, 0.005, None, "t.py", 3)
    assert c.new[0].base_j is None and c.new[0].head_j == 9.0
    assert not c.failed and (c.base_total_j, c.head_total_j) == (0.0, 0.0)


def test_change_arithmetic_and_dict():
    ch = Change("x", 200.0, 250.0, 0.2, 0.25, "f.py", 1)
    assert ch.delta_j == 50.0 and ch.ratio == pytest.approx(0.25)
    assert ch.as_dict() == {"nodeid": "x", "base_j": 200.0, "head_j": 250.0, "delta_j": 50.0, "change": 0.25,
                            "base_co2_g": 0.2, "head_co2_g": 0.25, "noise_j": None}  # fmt: skip
    assert Change("x", None, 1.0, None, None).delta_j is None
    assert Change("x", 1.0, None, None, None).ratio is None
    assert Change("x", 0.0, 1.0, None, None).ratio is None


def test_comparison_dict():
    c = compare(_report({"a": 1000.0, "b": 1.0, "gone": 1.0, "u": 1.0}), _report({"a": 2000.0, "b": 1.0, "n": 2.0, "u": None}), 0.1, 50.0)
    d = c.as_dict()
    assert d == {
        "method": "baseline report", "max_regression": 0.1, "min_delta_j": 50.0,
        "regressions": [{"nodeid": "a", "base_j": 1000.0, "head_j": 2000.0, "delta_j": 1000.0, "change": 1.0, "base_co2_g": 1.0, "head_co2_g": 2.0, "noise_j": None}],
        "improvements": [], "unchanged": 1,
        "unknown": [{"nodeid": "u", "base_j": 1.0, "head_j": None, "delta_j": None, "change": None, "base_co2_g": 0.001, "head_co2_g": None, "noise_j": None}],
        "new": ["n"], "removed": ["gone"], "warnings": [], "base_total_j": 1001.0, "head_total_j": 2001.0,
        # by size of the change, whatever the verdict: a (+1000 J), then b (0 J)
        "largest": [
            {"nodeid": "a", "base_j": 1000.0, "head_j": 2000.0, "delta_j": 1000.0, "change": 1.0, "base_co2_g": 1.0, "head_co2_g": 2.0, "noise_j": None},
            {"nodeid": "b", "base_j": 1.0, "head_j": 1.0, "delta_j": 0.0, "change": 0.0, "base_co2_g": 0.001, "head_co2_g": 0.001, "noise_j": None},
        ],
    }  # fmt: skip


def test_warnings_for_other_meters_hardware_and_interrupted_runs():
    base = _report({"a": 1.0}, method="counter")
    head = _report({"a": 1.0}, cpu="Xeon", gpus=("H100",), interrupted=True)
    c = compare(base, head, 0.1, 50.0)
    assert c.warnings == [
        "the runs' meters differ (cpu: counter -> estimated); the comparison is weak",
        "the runs' hardware differs (CPU 'EPYC' -> 'Xeon', GPUs [] -> ['H100']); the comparison is weak",
        "a run was interrupted: tests it did not reach are listed as missing, not compared",
    ]
    gpu_only = compare(_report({"a": 1.0}, gpus=("A",)), _report({"a": 1.0}, gpus=("B",)), 0.1, 50.0)
    assert gpu_only.warnings == ["the runs' hardware differs (CPU 'EPYC' -> 'EPYC', GPUs ['A'] -> ['B']); the comparison is weak"]
    base_only = compare(_report({"a": 1.0}, interrupted=True), _report({"a": 1.0}), 0.1, 50.0)
    assert base_only.warnings == ["a run was interrupted: tests it did not reach are listed as missing, not compared"]
    absent = compare({"tests": []}, {"run": {"meters": [{"channel": "gpu:0", "method": "counter"}]}, "tests": []}, 0.1, 50.0)
    assert absent.warnings == ["the runs' meters differ (gpu:0: absent -> counter); the comparison is weak"]
    assert compare(_report({}), _report({}), 0.1, 50.0).warnings == []


def test_defaults_are_ten_percent_and_fifty_joules():
    c = compare(_report({"a": 1000.0, "b": 1000.0}), _report({"a": 1101.0, "b": 1099.0}))
    assert (c.max_regression, c.min_delta_j) == (0.10, 50.0)
    assert [x.nodeid for x in c.regressions] == ["a"]


def test_boundaries_files_and_missing_fields():
    # +125 J over a 50 J floor but exactly +12.5%: not a regression; -12.5% exactly: not an improvement.
    c = compare(_report({"a": 1000.0, "b": 1000.0}), _report({"a": 1125.0, "b": 875.0}), 0.125, 50.0)
    assert c.regressions == [] and c.improvements == [] and len(c.unchanged) == 2
    # -50 J exactly at the floor with -50%: not an improvement.
    c2 = compare(_report({"a": 100.0}), _report({"a": 50.0}), 0.10, 50.0)
    assert c2.improvements == []
    reg = compare(_report({"a": 1.0}), _report({"a": 900.0}), 0.1, 50.0).regressions[0]
    assert (reg.file, reg.line) == ("t.py", 3)
    # A base run at 0 J that stays there is unchanged and counts 0 in the totals.
    z = compare(_report({"a": 0.0, "b": 10.0}), _report({"a": 0.0, "b": 10.0}), 0.1, 50.0)
    assert (z.base_total_j, z.head_total_j) == (10.0, 10.0)
    assert compare({}, _report({"a": 1.0})).new[0].nodeid == "a"
    assert compare(_report({"a": 1.0}), {}).removed[0].nodeid == "a"


def test_meter_warning_lists_only_channels_that_differ():
    base = {"run": {"meters": [{"channel": "cpu", "method": "estimated"}, {"channel": "gpu:0", "method": "counter"},
                               {"channel": "ram", "method": "estimated"}]}, "tests": []}  # fmt: skip
    head = {"run": {"meters": [{"channel": "cpu", "method": "estimated"}, {"channel": "dram", "method": "counter"}]}, "tests": []}
    assert compare(base, head).warnings == [
        "the runs' meters differ (dram: absent -> counter, gpu:0: counter -> absent, ram: estimated -> absent); the comparison is weak"
    ]


def test_a_test_cut_short_by_an_interrupted_run_is_not_comparable():
    base = _report({"a": 10.0, "b": 1000.0})
    base["tests"][0]["outcome"] = "interrupted"
    head = _report({"a": 5000.0, "b": 1000.0})
    c = compare(base, head, 0.1, 50.0)
    assert [x.nodeid for x in c.unknown] == ["a"] and c.regressions == [] and not c.failed
    head["tests"][1]["outcome"] = "interrupted"
    assert [x.nodeid for x in compare(_report({"a": 10.0, "b": 1000.0}), head).unknown] == ["b"]


def _stepped(energy: float, ci: tuple[float, float] | None, n: int = 100) -> dict[str, Any]:
    per = None if ci is None else {"n": n, "ci95_j": list(ci)}
    return {"nodeid": "t", "energy_j": {"total": energy}, "co2_g": energy / 1000, "phases": [{"name": "train", "per_item": per}]}


def test_noise_from_stepped_phases_adds_in_quadrature():
    from pytest_carbon.compare import noise_j

    assert noise_j(_stepped(1.0, (1.0, 1.2))) == pytest.approx(0.1 * 100)  # half-width x items
    two = {"phases": [{"per_item": {"n": 10, "ci95_j": [0.0, 6.0]}}, {"per_item": {"n": 4, "ci95_j": [1.0, 3.0]}}, {"per_item": None}]}
    assert noise_j(two) == pytest.approx(math.hypot(30.0, 4.0))  # 3 x 10 and 1 x 4
    assert noise_j({"phases": [{"per_item": None}]}) is None and noise_j({}) is None
    later = {"phases": [None, {"per_item": None}, {"per_item": {"n": 2, "ci95_j": [0.0, 2.0]}}]}  # not only the first phase
    assert noise_j(later) == pytest.approx(2.0)
    odd = {"phases": [{"per_item": {"n": "2", "ci95_j": [0.0, 2.0]}}, {"per_item": {"n": 2, "ci95_j": [1.0]}}]}
    assert noise_j(odd) is None  # damaged entries are no noise figure


def test_a_change_within_both_runs_combined_noise_is_not_a_regression():
    def run(energy: float, ci: tuple[float, float] | None) -> dict[str, Any]:
        return {"run": {}, "tests": [_stepped(energy, ci)]}

    # +300 J (+30%) passes both thresholds; the runs' noise: 100 x 2.0 and 100 x 3.0 -> 360.6 J
    c = compare(run(1000.0, (8.0, 12.0)), run(1300.0, (10.0, 16.0)), 0.1, 50.0)
    assert c.regressions == [] and len(c.unchanged) == 1
    assert c.unchanged[0].noise_j == pytest.approx(math.hypot(200.0, 300.0))
    # Outside the noise: a regression, with the noise it was judged against
    c = compare(run(1000.0, (9.9, 10.1)), run(1300.0, (12.9, 13.1)), 0.1, 50.0)
    assert [ch.nodeid for ch in c.regressions] == ["t"] and c.regressions[0].noise_j == pytest.approx(math.hypot(10.0, 10.0))
    # Only one side has an interval: thresholds alone, as before
    c = compare(run(1000.0, None), run(1300.0, (8.0, 18.0)), 0.1, 50.0)
    assert [ch.nodeid for ch in c.regressions] == ["t"] and c.regressions[0].noise_j is None
    # A change exactly as large as the noise is inside it: 3 x 1 J and 4 x 1 J make 5 J
    edge = compare(
        {"run": {}, "tests": [{**_stepped(10.0, None), "phases": [{"per_item": {"n": 3, "ci95_j": [0.0, 2.0]}}]}]},
        {"run": {}, "tests": [{**_stepped(15.0, None), "phases": [{"per_item": {"n": 4, "ci95_j": [0.0, 2.0]}}]}]},
        0.1, 1.0,
    )
    assert edge.regressions == [] and edge.unchanged[0].noise_j == pytest.approx(5.0)
    # Improvements inside the noise are not improvements either
    c = compare(run(1300.0, (10.0, 16.0)), run(1000.0, (8.0, 12.0)), 0.1, 50.0)
    assert c.improvements == []


def test_largest_changes_are_the_five_biggest_by_size_whatever_their_sign_or_verdict():
    base = _report({k: 100.0 for k in "abcdefg"})
    head = _report({"a": 101.0, "b": 40.0, "c": 170.0, "d": 100.0, "e": 130.0, "f": 95.0, "g": 100.5})
    d = compare(base, head, 0.10, 50.0).as_dict()
    assert [(x["nodeid"], x["delta_j"]) for x in d["largest"]] == [("c", 70.0), ("b", -60.0), ("e", 30.0), ("f", -5.0), ("a", 1.0)]


def test_a_changes_history_fields_appear_only_when_set():
    from pytest_carbon.compare import Change

    plain = Change("t", 1.0, 2.0, None, None).as_dict()
    assert "decided_by" not in plain and "history" not in plain
    judged = Change("t", 1.0, 2.0, None, None, decided_by="zscore:3: z = 4.00 (limit 3)", history={"n": 5}).as_dict()
    assert judged["decided_by"] == "zscore:3: z = 4.00 (limit 3)" and judged["history"] == {"n": 5}


def test_a_comparison_comes_back_from_its_dict_for_renderers_that_have_only_the_report():
    from pytest_carbon.compare import Comparison

    base = _report({"up": 1000.0, "down": 1000.0, "same": 1000.0, "gone": 5.0, "lost": 10.0}, cpu="A")
    head = _report({"up": 1300.0, "down": 600.0, "same": 1001.0, "fresh": 7.0, "lost": None}, cpu="B")
    c = compare(base, head, max_regression=0.2, min_delta_j=10.0)
    d = c.as_dict()
    back = Comparison.from_dict(d)
    again = back.as_dict()
    # Every field as it was; "largest" alone differs: the unchanged tests come back nameless.
    assert {k: v for k, v in again.items() if k != "largest"} == {k: v for k, v in d.items() if k != "largest"}
    assert [x.nodeid for x in back.regressions] == ["up"] and back.regressions[0].ratio == pytest.approx(0.3)
    assert [x.nodeid for x in back.new] == ["fresh"] and [x.nodeid for x in back.removed] == ["gone"]
    assert len(back.unchanged) == 1 and back.failed and back.warnings and back.max_regression == 0.2
    # A partial dict (as a hand-written fixture has): the defaults, nothing invented.
    bare = Comparison.from_dict({"regressions": []})
    assert (bare.max_regression, bare.min_delta_j, bare.unchanged, bare.method) == (0.10, 50.0, [], "baseline report")
