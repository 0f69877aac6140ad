"""The PR comment: its order and content, its size limit, the preview command, and the
comment workflow's script under a stand-in ``gh`` that answers from fixtures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pytest_carbon.report.comment import LIMIT, Runner, render
from pytest_carbon.report.github import COMMENT_MARKER

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / ".github" / "scripts" / "carbon-comment.sh"


def _test(nodeid: str, j: float, **extra: object) -> dict:
    return {"nodeid": nodeid, "outcome": "passed", "duration_s": 1.0, "energy_j": {"total": j}, "co2_g": j / 9000, "phases": [], **extra}


def _report(tests: list[dict], gpus: list[str] | None = None, comparison: dict | None = None, **extra: object) -> dict:
    r = {
        "schema": "pytest-carbon/1",
        "run": {"id": "x", "started": "2026-11-29T10:00:00+00:00", "duration_s": 10.0, "plugin": "0", "git_sha": "abc",
                "hardware": {"cpu": "Test CPU", "cpu_threads": 2, "gpus": gpus or []}, "meters": [],
                "intensity": {"g_per_kwh": 400.0, "source": "test"}, "pue": 1.0},
        "tests": tests,
        "totals": {"energy_j": {"total": sum(t["energy_j"]["total"] for t in tests)}, "attributed_j": 0.0, "unattributed_j": 0.0,
                   "co2_g": 0.0, "car_km": 0.0, "tests": len(tests), "estimated": False, "gaps_s": {}},
        **extra,
    }  # fmt: skip
    if comparison is not None:
        r["comparison"] = comparison
    return r


def _change(nodeid: str, base: float, head: float, noise: float | None = None) -> dict:
    return {"nodeid": nodeid, "base_j": base, "head_j": head, "delta_j": head - base, "change": head / base - 1, "base_co2_g": None,
            "head_co2_g": None, "noise_j": noise}  # fmt: skip


def test_the_comment_leads_with_the_decision_then_the_largest_changes_then_collapsed_tables():
    cpu_cmp = {"method": "baseline report", "regressions": [_change("t::slow", 100.0, 180.0, noise=4.0)], "improvements": [],
               "unchanged": 3, "new": [], "removed": [], "warnings": [],
               "largest": [_change("t::slow", 100.0, 180.0, noise=4.0), _change("t::a", 50.0, 52.0), _change("t::b", 10.0, 9.0), _change("t::c", 5.0, 5.1)]}  # fmt: skip
    gpu_cmp = {"method": "baseline report", "regressions": [], "improvements": [_change("g::x", 900.0, 600.0)], "unchanged": 0,
               "new": [], "removed": [], "warnings": [], "largest": [_change("g::x", 900.0, 600.0)]}  # fmt: skip
    runners = [
        Runner("cpu", _report([_test("t::slow", 180.0)], comparison=cpu_cmp)),
        Runner("gpu", _report([_test("g::x", 600.0)], gpus=["NVIDIA H200"], comparison=gpu_cmp)),
    ]
    text = render(runners)
    lines = text.splitlines()
    assert lines[0] == COMMENT_MARKER
    assert lines[1] == "**Carbon: fail**: t::slow regressed +80% on cpu."
    changes = lines[lines.index("**Largest changes in energy**") + 1 : lines.index("**Largest changes in energy**") + 4]
    assert [c.split(" on ")[0] for c in changes] == ["- g::x", "- t::slow", "- t::a"]  # by size: 300 J, 80 J, 2 J
    assert "noise ±4.00 J (95%)" in changes[1]
    assert text.index("Largest changes") < text.index("<details>")
    assert "<summary><b>cpu</b>: Test CPU, no GPU</summary>" in text and "<summary><b>gpu</b>: Test CPU + NVIDIA H200</summary>" in text
    assert text.count("<details>") == text.count("</details>") == 2


def test_a_missing_runner_is_listed_not_skipped_and_no_regression_passes():
    text = render([Runner("cpu", _report([_test("t::a", 1.0)], comparison={"regressions": [], "improvements": [], "largest": []})),
                   Runner("gpu", None, "no report at carbon-artifacts/carbon-report-gpu/carbon-report.json")])  # fmt: skip
    assert text.splitlines()[1].startswith("**Carbon: pass on the runners that reported**: no regression against the baseline on cpu")
    assert "report missing from gpu" in text.splitlines()[1]
    assert "**gpu**: report missing (no report at carbon-artifacts/carbon-report-gpu/carbon-report.json); this runner was not judged." in text


def test_advice_comes_only_from_what_the_reports_hold():
    whatif = {"data": "Ember", "energy_kwh": 0.001, "cleanest": {"zone": "NOR", "co2_g": 0.03}, "dirtiest": {"zone": "XKX", "co2_g": 0.96}, "ratio": 32.0,
              "months": {"zone": "DEU", "best": {"name": "Apr", "co2_g": 0.32}, "worst": {"name": "Nov", "co2_g": 0.47}, "ratio": 1.46}}  # fmt: skip

    def sample(nodeid: str, sampler: str, steps: int, per: float) -> dict:
        info = {"preset": "tiny", "dims": 2, "sampler": sampler, "denoising_steps": steps}
        return _test(nodeid, per * 2, info=info, phases=[{"name": "sample", "energy_j_per_item": per, "energy_j": {"total": per * 2}}])

    sweep = [sample("s::ddpm50", "ddpm", 50, 0.94), sample("s::ddim20", "ddim", 20, 0.35), sample("s::ddim50", "ddim", 50, 0.80)]
    text = render([Runner("gpu", _report(sweep, whatif=whatif))])
    assert "- Place (gpu): this run's 1.00 Wh would emit 30.0 mg in NOR (the cleanest of the places compared) and 960 mg in XKX (the dirtiest), 32x." in text
    assert "- Season (gpu): in DEU, the same energy emits 320 mg in Apr and 470 mg in Nov (1.46x; Ember)." in text
    assert "- Settings (gpu, tiny 2D sample): the cheapest per item is sampler=ddim, denoising\\_steps=20, 0.350 J/item, 63% less than sampler=ddpm, denoising\\_steps=50 (0.940 J/item) among the 3 measured" in text
    plain = render([Runner("cpu", _report([_test("t::a", 1.0)]))])  # nothing to advise from
    assert "**Advice**" not in plain and "no test was compared with a baseline" in plain


def test_a_ten_thousand_test_report_gives_a_comment_under_githubs_limit():
    tests = [_test(f"tests/test_module_{i // 100}.py::test_case_number_{i}[param-{'x' * 40}]", float(i + 1)) for i in range(10_000)]
    regs = [_change(t["nodeid"], t["energy_j"]["total"], t["energy_j"]["total"] * 2) for t in tests]
    cmp = {"method": "baseline report", "regressions": regs, "improvements": [], "unchanged": 0, "new": [], "removed": [], "warnings": [], "largest": regs[-5:]}
    text = render([Runner("cpu", _report(tests, comparison=cmp)), Runner("gpu", _report(tests, comparison=cmp))])
    assert len(text) <= LIMIT
    assert text.splitlines()[1].startswith("**Carbon: fail**: ") and "and 19997 more" in text.splitlines()[1]
    assert "lines not shown" in text and "Cut to fit GitHub's 65,536-character comment limit" in text
    assert text.count("<details>") == text.count("</details>")  # no block left open
    small = render([Runner("cpu", _report(tests[:5]))])
    assert "Cut to fit" not in small


# -- the preview command on real reports --------------------------------------------------------
def test_the_preview_prints_decision_changes_advice_and_tables_for_a_cpu_and_a_gpu_runner(pytester, tmp_path):
    cpu, gpu = tmp_path / "cpu", tmp_path / "gpu"
    pytester.makepyfile(test_suite="import os, time\ndef test_work():\n    time.sleep(float(os.environ.get('W', '0.2')))\ndef test_other():\n    time.sleep(0.1)\n")
    base = ["-p", "no:randomly", "--carbon", "--carbon-meter", "constant:cpu=100W", "--carbon-country", "DEU"]
    assert pytester.runpytest_subprocess(*base, "--carbon-json", str(tmp_path / "base.json")).ret == 0
    os.environ["W"] = "0.5"
    try:
        assert pytester.runpytest_subprocess(*base, "--carbon-json", str(tmp_path / "cpu.json")).ret == 0
    finally:
        del os.environ["W"]
    workloads = ROOT / "workloads"
    sweep = pytester.runpytest_subprocess(
        str(workloads), "-p", "no:randomly", "-m", "sample", "-k", "tiny-2d", "--workload-sampler", "ddpm,ddim", "--workload-sample-steps", "2,4",
        "--carbon-meter", "constant:cpu=100W,gpu:0=250W", "--carbon-country", "DEU", "--carbon-json", str(tmp_path / "gpu.json"),
        "--carbon-budgets", "off",  # the workloads' CPU budgets are not for a 350 W stand-in
    )  # fmt: skip
    assert sweep.ret == 0, sweep.stdout.str()[-2000:]
    out = subprocess.run(
        [sys.executable, "-m", "pytest_carbon.cli", "comment", "--runner", f"cpu={tmp_path / 'cpu.json'}", "--runner", f"gpu={tmp_path / 'gpu.json'}",
         "--baseline", f"cpu={tmp_path / 'base.json'}", "--min-delta", "10J"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    text = out.stdout
    lines = text.splitlines()
    assert lines[0] == COMMENT_MARKER and lines[1].startswith("**Carbon: fail**: test\\_suite.py::test\\_work regressed +")
    assert "**Largest changes in energy**" in text and "- test\\_suite.py::test\\_work on cpu: " in text
    assert "- Place (cpu): " in text and "- Season (gpu): in DEU" in text
    # which of the four measured settings is cheapest is the measurement's (two of them do the
    # same work); the choice itself is tested on written-out figures above
    settings = next(line for line in text.splitlines() if line.startswith("- Settings (gpu, tiny 2D sample): the cheapest per item is sampler="))
    assert "among the 4 measured" in settings and "less than sampler=" in settings
    assert "<summary><b>cpu</b>:" in text and "<summary><b>gpu</b>:" in text and text.count("</details>") == 2
    assert len(text) <= LIMIT
    missing = subprocess.run([sys.executable, "-m", "pytest_carbon.cli", "comment", "--runner", f"cpu={tmp_path / 'cpu.json'}", "--runner", "gpu=nope.json"],
                             capture_output=True, text=True)  # fmt: skip
    assert missing.returncode == 0 and "**gpu**: report missing (no report at nope.json)" in missing.stdout


def test_find_own_takes_only_the_bots_comment_across_pages():
    from pytest_carbon.cli_comment import find_own

    pages = json.dumps([{"id": 1, "user": {"login": "alice"}, "body": COMMENT_MARKER + " hijack"}, {"id": 2, "user": {"login": "bot"}, "body": "hello"}])
    pages += "\n" + json.dumps([{"id": 3, "user": {"login": "bot"}, "body": COMMENT_MARKER + "\nours"}, {"id": 4, "user": {"login": "bot"}, "body": COMMENT_MARKER}])
    assert find_own(pages, "bot") == "3"
    assert find_own(pages, "carol") is None and find_own("", "bot") is None


# -- the comment workflow's script under a stand-in gh --------------------------------------------
GH = textwrap.dedent(
    """\
    #!{python}
    import json, os, sys
    args = sys.argv[1:]
    fx = json.load(open(os.environ["GH_FIXTURES"]))
    with open(os.environ["GH_LOG"], "a") as log:
        log.write(json.dumps(args) + "\\n")
    if args[:1] != ["api"]:
        sys.exit(2)
    method = args[args.index("-X") + 1] if "-X" in args else ("POST" if "-F" in args else "GET")
    path = next(a for a in args[1:] if a.startswith("repos/"))
    body = None
    if "-F" in args:
        field = args[args.index("-F") + 1]
        body = open(field.split("=@", 1)[1]).read()
    parts = path.split("/")
    if parts[3] == "pulls" and method == "GET":
        pr = fx["pulls"].get(parts[4])
        if pr is None:
            print("gh: Not Found (HTTP 404)", file=sys.stderr); sys.exit(1)
        print(pr["head"]["sha"] if "--jq" in args else json.dumps(pr))
    elif parts[3] == "issues" and parts[5] == "comments" and method == "GET":
        comments = fx["comments"].get(parts[4], [])
        print(json.dumps(comments[:1])); print(json.dumps(comments[1:]))  # two pages, as --paginate prints them
    elif method in ("PATCH", "POST"):
        with open(os.environ["GH_WRITES"], "a") as w:
            w.write(json.dumps({"method": method, "path": path, "body": body}) + "\\n")
        print("{}")
    else:
        sys.exit(3)
    """
)


@pytest.fixture
def workflow(tmp_path):
    """Artifacts of a gate run with a CPU and a GPU runner, a stand-in gh, and the script's env."""
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    gh = bin_ / "gh"
    gh.write_text(GH.replace("{python}", sys.executable))
    gh.chmod(0o755)
    carbon = bin_ / "pytest-carbon"
    carbon.write_text(f"#!/bin/sh\nexec {sys.executable} -m pytest_carbon.cli \"$@\"\n")
    carbon.chmod(0o755)
    arts = tmp_path / "carbon-artifacts"
    for art, gpus in (("carbon-report-cpu", []), ("carbon-report-gpu", ["NVIDIA H200"])):
        (arts / art).mkdir(parents=True)
        (arts / art / "carbon-report.json").write_text(json.dumps(_report([_test(f"{art}::t", 5.0)], gpus=gpus)))
        (arts / art / "pr-number.txt").write_text("7\n")
    fixtures = {
        "pulls": {"7": {"number": 7, "head": {"sha": "c0ffee"}}, "8": {"number": 8, "head": {"sha": "other"}}},
        "comments": {"7": [{"id": 101, "user": {"login": "mallory"}, "body": COMMENT_MARKER + " not the bot's"},
                           {"id": 102, "user": {"login": "github-actions[bot]"}, "body": COMMENT_MARKER + "\nold"}],
                     "8": []},
    }  # fmt: skip
    (tmp_path / "fixtures.json").write_text(json.dumps(fixtures))
    env = {**os.environ, "PATH": f"{bin_}{os.pathsep}{os.environ['PATH']}", "GH_FIXTURES": str(tmp_path / "fixtures.json"),
           "GH_LOG": str(tmp_path / "gh.log"), "GH_WRITES": str(tmp_path / "writes.log"), "REPO": "o/r", "HEAD_SHA": "c0ffee",
           "BOT_LOGIN": "github-actions[bot]", "ARTIFACTS": str(arts), "RUNNERS": "carbon-report-cpu=cpu carbon-report-gpu=gpu"}  # fmt: skip
    return tmp_path, env


def _script(cwd: Path, env: dict) -> tuple[subprocess.CompletedProcess, list[dict]]:
    proc = subprocess.run(["bash", str(SCRIPT)], cwd=cwd, env=env, capture_output=True, text=True)
    writes = cwd / "writes.log"
    return proc, [json.loads(line) for line in writes.read_text().splitlines()] if writes.exists() else []


def test_the_bots_own_comment_is_updated_with_both_runners_and_a_users_marked_comment_is_left_alone(workflow):
    cwd, env = workflow
    proc, writes = _script(cwd, env)
    assert proc.returncode == 0, proc.stderr
    assert writes == [{"method": "PATCH", "path": "repos/o/r/issues/comments/102", "body": writes[0]["body"]}]
    body = writes[0]["body"]
    assert body.startswith(COMMENT_MARKER) and "<summary><b>cpu</b>: Test CPU, no GPU</summary>" in body
    assert "<summary><b>gpu</b>: Test CPU + NVIDIA H200</summary>" in body
    assert "comments/101" not in (cwd / "gh.log").read_text()  # mallory's comment is never touched


def test_without_a_bot_comment_a_new_one_is_posted_and_a_missing_runner_is_listed(workflow):
    cwd, env = workflow
    fx = json.loads(Path(env["GH_FIXTURES"]).read_text())
    fx["comments"]["7"] = [fx["comments"]["7"][0]]  # only the user's marked comment
    Path(env["GH_FIXTURES"]).write_text(json.dumps(fx))
    (Path(env["ARTIFACTS"]) / "carbon-report-gpu" / "carbon-report.json").unlink()
    proc, writes = _script(cwd, env)
    assert proc.returncode == 0, proc.stderr
    assert [(w["method"], w["path"]) for w in writes] == [("POST", "repos/o/r/issues/7/comments")]
    assert "**gpu**: report missing" in writes[0]["body"]


@pytest.mark.parametrize(("number", "why"), [("8", "pull request #8's head is other, not the gate run's c0ffee"), ("9", "pull request #9 was not found"),
                                             ("7; rm -rf /", "no pull request number in the artifacts")])  # fmt: skip
def test_a_spoofed_pr_number_is_refused_and_nothing_is_posted(workflow, number, why):
    cwd, env = workflow
    for art in ("carbon-report-cpu", "carbon-report-gpu"):
        (Path(env["ARTIFACTS"]) / art / "pr-number.txt").write_text(number)
    proc, writes = _script(cwd, env)
    assert proc.returncode == 0 and why in proc.stdout, proc.stdout + proc.stderr
    assert writes == []
