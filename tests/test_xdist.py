"""pytest-xdist: workers time tests, the controller measures; nothing is counted twice."""

from __future__ import annotations

import pytest

from conftest import assert_conserved, load_report

pytest.importorskip("xdist")

SUITE = """
import time, pytest

@pytest.mark.parametrize("i", range(6))
def test_work(carbon, i):
    with carbon.phase("step", items=2):
        time.sleep(0.2)
    carbon.project("step", 1000)
"""


def test_xdist_total_is_watts_times_session_time_not_workers_times_that(pytester, monkeypatch):
    monkeypatch.setenv("COLUMNS", "160")
    pytester.makepyfile(SUITE)
    result = pytester.runpytest_subprocess("-n", "2", "--carbon", "--carbon-meter", "constant:cpu=100W", "--carbon-interval", "0.01", "--carbon-json", "r.json")
    result.assert_outcomes(passed=6)
    assert result.stdout.str().count("= carbon =") == 1
    report = load_report(pytester.path / "r.json")
    tests = report["tests"]
    assert len(tests) == 6 and {t["info"]["xdist_worker"] for t in tests} == {"gw0", "gw1"}
    total = report["totals"]["energy_j"]["total"]
    assert total == pytest.approx(100 * report["run"]["duration_s"], rel=0.01)
    assert_conserved(report)
    in_tests = sum(t["energy_j"]["total"] for t in tests)
    assert in_tests <= total  # never more than the machine drew
    # Where two tests ran at once they shared the watts, so some got well under 100 W x time.
    assert any(t["energy_j"]["total"] < 0.8 * 100 * t["duration_s"] for t in tests)
    for t in tests:
        assert t["phases"][0]["items"] == 2 and t["projections"][0]["count"] == 1000


def test_xdist_budgets_fail_the_run_with_a_line_per_test(pytester, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    pytester.makepyprojecttoml('[tool.pytest-carbon.budgets]\n"*test_work[[]3]" = "1 mg"\n"phase:step/item" = "1 g"\n')
    pytester.makepyfile(SUITE)
    result = pytester.runpytest_subprocess("-n", "2", "--carbon-meter", "constant:cpu=100W", "--carbon-intensity", "1000", "--carbon-json", "r.json")
    result.assert_outcomes(passed=6)
    assert result.ret == 1
    result.stdout.fnmatch_lines(["FAIL *::test_work[[]3]: carbon budget exceeded: * > 1.00 mg CO2eq (pyproject.toml*)"])
    report = load_report(pytester.path / "r.json")
    assert report["budgets"]["tests_over_budget"] == [t["nodeid"] for t in report["tests"] if t["nodeid"].endswith("[3]")]
    result = pytester.runpytest_subprocess("-n", "2", "--carbon-meter", "constant:cpu=100W", "--carbon-intensity", "1000", "--carbon-budgets", "warn")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["WARN *::test_work[[]3]: carbon budget exceeded*"])


GPU_CONFTEST = '''
import os, sys, time, types

WORKER = os.environ.get("PYTEST_XDIST_WORKER")
if WORKER:  # each worker uses one GPU, as a conftest on a multi-GPU runner would arrange
    os.environ["CUDA_VISIBLE_DEVICES"] = {"gw0": "0", "gw1": "1"}[WORKER]


class Fake(types.ModuleType):
    WATTS = [300.0, 100.0]
    def nvmlInit(self): self.t0 = time.monotonic_ns()
    def nvmlShutdown(self): pass
    def nvmlDeviceGetCount(self): return 2
    def nvmlDeviceGetHandleByIndex(self, i): return i
    def nvmlDeviceGetName(self, h): return "Fake H100"
    def nvmlDeviceGetUUID(self, h): return f"GPU-{h:08x}"
    def nvmlDeviceGetTotalEnergyConsumption(self, h): return int(self.WATTS[h] * (time.monotonic_ns() - self.t0) / 1e6)


def pytest_configure(config):
    if not hasattr(config, "workerinput"):
        sys.modules["pynvml"] = Fake("pynvml")
'''


def test_xdist_workers_claim_only_their_gpus(pytester, monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    # When this suite itself runs under xdist, the inner controller would inherit the outer
    # worker's name and its conftest would hide a GPU from the controller's meter.
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    pytester.makeconftest(GPU_CONFTEST)
    pytester.makepyfile(SUITE)
    result = pytester.runpytest_subprocess("-n", "2", "--carbon", "--carbon-meter", "nvml", "--carbon-interval", "0.01", "--carbon-json", "r.json")
    result.assert_outcomes(passed=6)
    report = load_report(pytester.path / "r.json")
    for t in report["tests"]:
        mine = "gpu:0" if t["info"]["xdist_worker"] == "gw0" else "gpu:1"
        assert list(t["energy_j"]) == [mine, "total"]
        watts = 300 if mine == "gpu:0" else 100
        assert t["energy_j"][mine] == pytest.approx(watts * t["duration_s"], rel=0.03)  # no sharing across GPUs
    assert_conserved(report)
