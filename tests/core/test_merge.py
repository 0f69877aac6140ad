"""Merging shard reports: tests tagged, totals summed exactly, runs kept per shard."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from pytest_carbon.merge import merge


def _shard(host: str, started: str, duration: float, tests: list[str], cpu_j: float, gpu_j: float | None,
           *, over: list[str] = (), session_violations: list[dict[str, Any]] = (), estimated: bool = False,
           interrupted: bool = False, mode: str = "enforce", with_budget: int = 0) -> dict[str, Any]:  # fmt: skip
    energy = {"cpu": cpu_j} | ({} if gpu_j is None else {"gpu:0": gpu_j})
    total = sum(energy.values())
    return {
        "schema": "pytest-carbon/1",
        "run": {
            "started": started, "duration_s": duration, "interrupted": interrupted, "host": host,
            "intensity": {"g_per_kwh": 100.0, "source": host}, "pue": 1.1, "hardware": {"cpu": host},
            "plugin": "0.1.0", "git_sha": "abc", "meters": [{"channel": c} for c in energy],
            "meter_errors": [{"meter": "nvml", "t_s": 1.0, "error": "lost"}] if gpu_j else [],
        },  # fmt: skip
        "tests": [{"nodeid": t, "energy_j": {"total": 1.0}} for t in tests],
        "budgets": {"mode": mode, "tests_with_budget": with_budget, "tests_over_budget": list(over),
                    "session_violations": list(session_violations)},  # fmt: skip
        "totals": {
            "energy_j": {**energy, "total": total},
            "attributed_j": total / 2, "incomplete_j": 1.0, "unattributed_j": total / 2 - 1.0, "co2_g": total / 10,
            "channels": {c: {"measured_j": e, "attributed_j": e / 2} for c, e in energy.items()},
            "gaps_s": {"cpu": 1.0}, "tests": len(tests), "estimated": estimated, "car_km": 0.0,
        },  # fmt: skip
    }


def test_merge_two_shards():
    a = _shard("a", "2026-11-29T10:00:05+00:00", 30.0, ["t1", "t2"], 100.0, None, over=["t2"], with_budget=2,
               session_violations=[{"subject": "session"}])  # fmt: skip
    b = _shard("b", "2026-11-29T10:00:01+00:00", 50.0, ["t3"], 10.0, 1000.0, estimated=True, interrupted=True, with_budget=1, over=["t0"])
    before = copy.deepcopy((a, b))
    m = merge([("a.json", a), ("b.json", b)])
    assert (a, b) == before  # the inputs are not changed
    assert m["schema"] == "pytest-carbon/1"
    run = m["run"]
    assert run["merged"] is True
    assert run["started"] == "2026-11-29T10:00:01+00:00" and run["duration_s"] == 50.0 and run["interrupted"] is True
    assert [(r["shard"], r["source"], r["host"]) for r in run["shards"]] == [(0, "a.json", "a"), (1, "b.json", "b")]
    assert run["intensity"] == {"g_per_kwh": 100.0, "source": "a"} and run["pue"] == 1.1
    assert run["meters"] == [{"channel": "cpu", "shard": 0}, {"channel": "cpu", "shard": 1}, {"channel": "gpu:0", "shard": 1}]
    assert run["meter_notes"] == []
    assert run["meter_errors"] == [{"meter": "nvml", "t_s": 1.0, "error": "lost", "shard": 1}]
    assert (run["hardware"], run["plugin"], run["git_sha"]) == ({"cpu": "a"}, "0.1.0", "abc")
    assert [(t["nodeid"], t["shard"]) for t in m["tests"]] == [("t1", 0), ("t2", 0), ("t3", 1)]
    assert m["budgets"] == {
        "mode": "enforce", "tests_with_budget": 3, "tests_over_budget": ["t0", "t2"], "session": None,
        "session_violations": [{"subject": "session", "shard": 0}],
    }  # fmt: skip
    t = m["totals"]
    assert t["energy_j"] == {"cpu": 110.0, "gpu:0": 1000.0, "total": 1110.0}
    assert (t["attributed_j"], t["incomplete_j"], t["unattributed_j"]) == (555.0, 2.0, 553.0)
    assert t["co2_g"] == pytest.approx(111.0) and t["car_km"] == pytest.approx(111.0 / 107.5)
    assert t["channels"] == {"cpu": {"measured_j": 110.0, "attributed_j": 55.0}, "gpu:0": {"measured_j": 1000.0, "attributed_j": 500.0}}
    assert t["tests"] == 3 and t["estimated"] is True and t["gaps_s"] == {"cpu": 2.0}


def test_merge_one_shard_keeps_its_figures_and_nothing_is_refused():
    a = _shard("a", "2026-01-01T00:00:00+00:00", 3.0, [], 5.0, None, mode="warn")
    m = merge([("only", a)])
    assert m["totals"]["energy_j"] == {"cpu": 5.0, "total": 5.0} and m["totals"]["estimated"] is False
    assert m["run"]["interrupted"] is False and m["budgets"]["mode"] == "warn"
    no_budgets = dict(a, budgets=None)
    assert merge([("x", no_budgets)])["budgets"]["mode"] == "off"
    with pytest.raises(ValueError, match="^nothing to merge$"):
        merge([])


def test_merge_copies_and_tolerates_missing_optional_fields():
    a = _shard("a", "2026-01-01T00:00:00+00:00", 3.0, ["t"], 5.0, None)
    for key in ("meters", "meter_errors", "hardware"):
        del a["run"][key]
    del a["totals"]["channels"]
    a["budgets"] = {"mode": "enforce"}
    m = merge([("a", a)])
    assert m["run"]["meters"] == [] and m["run"]["meter_errors"] == [] and m["run"]["hardware"] == {}
    assert m["totals"]["channels"] == {} and m["budgets"]["tests_with_budget"] == 0
    assert m["totals"]["estimated"] is False and m["run"]["interrupted"] is False
    m["run"]["shards"][0]["intensity"]["g_per_kwh"] = 0.0
    m["tests"][0]["energy_j"]["total"] = 0.0
    assert a["run"]["intensity"]["g_per_kwh"] == 100.0 and a["tests"][0]["energy_j"]["total"] == 1.0  # deep copies


def test_the_same_shard_twice_is_refused_and_gaps_are_kept():
    a = _shard("a", "2026-01-01T00:00:00+00:00", 3.0, ["t"], 5.0, None)
    a["run"]["argv"] = ["-n", "2"]
    again = copy.deepcopy(a)
    with pytest.raises(ValueError) as e:
        merge([("a.json", a), ("copy.json", again)])
    assert str(e.value) == (
        "copy.json is the same run as a.json (started 2026-01-01T00:00:00+00:00 on a with the same arguments);"
        " each shard is merged once"
    )
    other = copy.deepcopy(a)
    other["run"]["argv"] = ["-n", "4"]
    other["totals"]["gaps_s"] = {"cpu": 0.5, "gpu:0": 2.0}
    m = merge([("a.json", a), ("other.json", other)])
    assert m["totals"]["gaps_s"] == {"cpu": 1.5, "gpu:0": 2.0}


def test_a_run_id_tells_runs_apart():
    a = _shard("a", "2026-01-01T00:00:00+00:00", 3.0, ["t"], 5.0, None)
    b = copy.deepcopy(a)
    a["run"]["id"], b["run"]["id"] = "1" * 32, "2" * 32
    assert len(merge([("a.json", a), ("b.json", b)])["tests"]) == 2  # same second, host and arguments
    with pytest.raises(ValueError, match=r"^b\.json is the same run as a\.json \(run id 1{32}\); each shard is merged once$"):
        merge([("a.json", a), ("b.json", copy.deepcopy(a))])


def test_a_shard_without_gaps_field_adds_none():
    a = _shard("a", "2026-01-01T00:00:00+00:00", 3.0, ["t"], 5.0, None)
    del a["totals"]["gaps_s"]
    assert merge([("a", a)])["totals"]["gaps_s"] == {}
