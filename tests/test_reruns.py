"""pytest-rerunfailures: one entry per test, with its attempts; energy of all, verdict of the last."""

from __future__ import annotations

import pytest

from conftest import load_report

pytest.importorskip("pytest_rerunfailures")

FLAKY = """
import pytest, time

COUNT = {"n": 0}

@pytest.mark.carbon(energy="3 J")
def test_flaky():
    COUNT["n"] += 1
    time.sleep(0.2)
    assert COUNT["n"] >= 3, "fails twice"

def test_steady():
    time.sleep(0.05)
"""


def test_a_test_rerun_twice_is_one_entry_with_three_attempts(pytester, monkeypatch):
    monkeypatch.setenv("COLUMNS", "160")
    pytester.makepyfile(FLAKY)
    result = pytester.runpytest("--reruns", "2", "--carbon", "--carbon-meter", "constant:cpu=10W", "--carbon-json", "r.json", "-p", "no:randomly")
    result.assert_outcomes(passed=2)
    assert result.parseoutcomes()["rerun"] == 2
    report = load_report(pytester.path / "r.json")
    nodeids = [t["nodeid"] for t in report["tests"]]
    assert sorted(nodeids) == sorted(set(nodeids)) and len(nodeids) == 2
    flaky = next(t for t in report["tests"] if t["nodeid"].endswith("test_flaky"))
    assert [a["outcome"] for a in flaky["attempts"]] == ["rerun", "rerun", "passed"]
    assert flaky["outcome"] == "passed"
    assert flaky["energy_j"]["total"] == pytest.approx(sum(a["energy_j"] for a in flaky["attempts"]), rel=1e-9)
    assert flaky["energy_j"]["total"] > 3 * 2.0 * 0.9  # three attempts of 0.2 s at 10 W
    # The budget bounds one run of the test: the last attempt's ~2 J is within 3 J, the sum is not.
    assert flaky["violations"] == [] and flaky["budget_judged"]["energy_j"] < 3.0
    steady = next(t for t in report["tests"] if t["nodeid"].endswith("test_steady"))
    assert "attempts" not in steady
    result.stdout.fnmatch_lines(["*test_flaky *3 attempts*"])
