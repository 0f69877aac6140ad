"""The composite action's own shell step, run as GitHub runs it, on a suite of this test's own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")

ACTION = Path(__file__).resolve().parent.parent / ".github" / "actions" / "carbon-gate" / "action.yml"

SUITE = """
import os, time
def test_steady():
    time.sleep(0.2)
def test_worker():
    time.sleep(float(os.environ.get("WORK_S", "0.2")))
"""


def _step(step_id: str) -> dict:
    steps = yaml.safe_load(ACTION.read_text())["runs"]["steps"]
    return next(s for s in steps if s.get("id") == step_id)


def _run_step(cwd: Path, **env: str) -> tuple[int, dict[str, str], str]:
    step = _step("run")
    out = cwd / "github-output.txt"
    out.write_text("")
    base = {k: "" for k in step["env"]}  # every input the step reads, as GitHub sets it
    full = {**os.environ, **base, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "GITHUB_OUTPUT": str(out), **env}
    for var in ("GITHUB_STEP_SUMMARY", "GITHUB_HEAD_REF", "GITHUB_BASE_REF"):
        full.pop(var, None)
    proc = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=cwd, env=full, capture_output=True, text=True)
    outputs = dict(line.split("=", 1) for line in out.read_text().splitlines() if "=" in line)
    return proc.returncode, outputs, proc.stdout + proc.stderr


def test_the_gate_step_keeps_a_history_and_judges_against_it(pytester):
    pytester.makepyfile(test_suite=SUITE)
    env = {
        "PYTEST_ARGS": "test_suite.py -p no:randomly -p no:cacheprovider --carbon --carbon-meter constant:cpu=100W",
        "MAX_REGRESSION": "10%", "MIN_DELTA": "10J", "HISTORY": "true", "THRESHOLD": "zscore:3",
        "DEFAULT_BRANCH": "main", "GITHUB_REF_NAME": "main",
    }  # fmt: skip
    for _ in range(3):  # three runs of the default branch fill the history
        code, outputs, log = _run_step(pytester.path, **env)
        assert code == 0 and outputs["verdict"] == "pass", log[-3000:]
    assert (pytester.path / "carbon-history" / "history.db").is_file()
    assert (pytester.path / "carbon-out" / "exit-code.txt").read_text().strip() == "0"
    # a pull request's branch that doubles one test's work: judged against main's three runs
    code, outputs, log = _run_step(pytester.path, **{**env, "GITHUB_REF_NAME": "feature", "WORK_S": "0.4"})
    assert outputs["verdict"] == "fail" and (pytester.path / "carbon-out" / "exit-code.txt").read_text().strip() == "1", log[-3000:]
    assert "Baseline: history: the last 10 runs of main on this testbed, zscore:3" in log
    comment = (pytester.path / "carbon-out" / "comment.md").read_text()
    assert "test\\_worker" in comment and "zscore:3" in comment


def test_without_history_the_gate_step_compares_with_the_baseline_report(pytester):
    pytester.makepyfile(test_suite=SUITE)
    env = {"PYTEST_ARGS": "test_suite.py -p no:randomly --carbon --carbon-meter constant:cpu=100W", "MAX_REGRESSION": "10%",
           "MIN_DELTA": "10J", "HISTORY": "false", "THRESHOLD": "percent:10", "DEFAULT_BRANCH": "main"}  # fmt: skip
    code, outputs, log = _run_step(pytester.path, **env)
    assert code == 0 and outputs["verdict"] == "pass", log[-3000:]
    (pytester.path / "carbon-baseline").mkdir()
    (pytester.path / "carbon-out" / "carbon-report.json").rename(pytester.path / "carbon-baseline" / "carbon-report.json")
    code, outputs, log = _run_step(pytester.path, **{**env, "WORK_S": "0.4"})
    assert outputs["verdict"] == "fail" and "REGRESSION test_suite.py::test_worker" in log, log[-3000:]
    assert not (pytester.path / "carbon-history" / "history.db").exists()
