"""Interrupted runs still leave a valid report of every test measured so far."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from conftest import load_report

SUITE = """
import pathlib, time
def test_quick():
    time.sleep(0.1)
def test_hangs():
    pathlib.Path("started").write_text("x")
    time.sleep(60)
def test_never():
    pass
"""


@pytest.mark.parametrize("sig, name", [(signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "SIGINT")])
def test_signal_mid_run_writes_an_interrupted_report(pytester, sig, name):
    pytester.makepyfile(SUITE)
    cmd = [sys.executable, "-m", "pytest", "--carbon", "--carbon-meter", "constant:cpu=10W", "--carbon-json", "r.json", "-p", "no:randomly"]
    # A shell runs background jobs with SIGINT ignored, and Python then installs no
    # KeyboardInterrupt handler: the child starts with the signal's default, as from a terminal.
    restore = lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)  # noqa: E731
    proc = subprocess.Popen(cmd, cwd=pytester.path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, preexec_fn=restore)
    deadline = time.monotonic() + 60
    while not (pytester.path / "started").exists():
        assert proc.poll() is None and time.monotonic() < deadline, "the suite did not reach test_hangs"
        time.sleep(0.05)
    time.sleep(0.2)
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, out
    report = load_report(pytester.path / "r.json")
    assert report["run"]["interrupted"] is True
    by = {t["nodeid"].split("::")[1]: t for t in report["tests"]}
    assert set(by) == {"test_quick", "test_hangs"}
    assert by["test_quick"]["outcome"] == "passed" and by["test_quick"]["energy_j"]["total"] > 0
    assert by["test_hangs"]["outcome"] == "interrupted" and by["test_hangs"]["duration_s"] >= 0.2
    assert "carbon report written to r.json" in out


def test_crashed_xdist_worker_keeps_the_other_tests(pytester):
    pytest.importorskip("xdist")
    pytester.makepyfile(
        """
        import os, time
        def test_a():
            time.sleep(0.1)
        def test_crash():
            os._exit(3)
        def test_b():
            time.sleep(0.1)
        """
    )
    result = pytester.runpytest_subprocess("-n", "2", "--carbon", "--carbon-meter", "constant:cpu=10W", "--carbon-json", "r.json")
    assert result.ret == 1
    report = load_report(pytester.path / "r.json")
    names = {t["nodeid"].split("::")[1] for t in report["tests"]}
    assert {"test_a", "test_b"} <= names and "test_crash" not in names


def test_compare_treats_tests_missing_from_an_interrupted_run_as_missing():
    from pytest_carbon.compare import compare

    base = {"run": {}, "tests": [{"nodeid": "a", "energy_j": {"total": 100.0}}, {"nodeid": "b", "energy_j": {"total": 100.0}}]}
    head = {"run": {"interrupted": True}, "tests": [{"nodeid": "a", "energy_j": {"total": 100.0}}]}
    c = compare(base, head)
    assert [x.nodeid for x in c.removed] == ["b"] and not c.failed
    assert any("interrupted" in w for w in c.warnings)
