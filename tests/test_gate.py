"""The CI gate: baseline comparison, merge, GitHub summary, annotations and PR comment."""

from __future__ import annotations

import json
import sys

import pytest

from conftest import load_report
from pytest_carbon.compare import compare
from pytest_carbon.report.github import COMMENT_MARKER, annotation, md

GATE = ["--carbon-meter", "constant:cpu=3600W", "--carbon-intensity", "1000", "--carbon-interval", "0.01"]

SUITE = """
import os, time
SCALE = float(os.environ.get("SCALE", "1"))
def test_grows():
    time.sleep(0.1 * SCALE)
def test_steady():
    time.sleep(0.1)
def test_shrinks():
    time.sleep(0.2 / SCALE)
"""


def fake_report(tests: dict[str, float | None], **run) -> dict:
    return {
        "schema": "pytest-carbon/1",
        "run": {"meters": [{"channel": "cpu", "method": "counter"}], "hardware": {"cpu": "X", "gpus": []}, **run},
        "tests": [{"nodeid": k, "energy_j": {"total": v}, "co2_g": None if v is None else v / 1000, "file": "t.py", "line": 3} for k, v in tests.items()],
        "totals": {},
    }


def test_compare_needs_both_thresholds():
    base = fake_report({"a": 1000.0, "b": 1000.0, "c": 100.0, "d": 1000.0, "gone": 5.0, "gap": 10.0})
    head = fake_report({"a": 1200.0, "b": 1040.0, "c": 140.0, "d": 700.0, "new": 3.0, "gap": None})
    c = compare(base, head, max_regression=0.10, min_delta_j=50.0)
    assert [x.nodeid for x in c.regressions] == ["a"]  # b: +4% only; c: +40% but only +40 J
    assert [x.nodeid for x in c.improvements] == ["d"]
    assert sorted(x.nodeid for x in c.unchanged) == ["b", "c"]
    assert [x.nodeid for x in c.new] == ["new"] and [x.nodeid for x in c.removed] == ["gone"]
    assert [x.nodeid for x in c.unknown] == ["gap"]  # unknown is not compared as zero
    assert c.failed and c.warnings == []


def test_compare_warns_when_meters_or_hardware_differ():
    base = fake_report({"a": 1.0})
    head = fake_report({"a": 1.0}, meters=[{"channel": "cpu", "method": "estimated"}], hardware={"cpu": "Y", "gpus": ["H100"]})
    w = compare(base, head).warnings
    assert "the runs' meters differ (cpu: counter -> estimated); the comparison is weak" in w
    assert any("the runs' hardware differs (CPU 'X' -> 'Y', GPUs [] -> ['H100'])" in x for x in w)


def test_markdown_and_annotation_escaping():
    assert md("t.py::test[a|b]*_x_<script>") == r"t.py::test\[a\|b\]\*\_x\_\<script\>"
    assert md("line\nbreak") == "line break"
    assert annotation("error", "50% more\nnow", file="a,b.py", line=3, title="x: y") == "::error file=a%2Cb.py,line=3,title=x%3A y::50%25 more%0Anow"


def run_twice(pytester, monkeypatch, scale, *extra):
    pytester.makepyfile(SUITE)
    pytester.runpytest("--carbon", *GATE, "--carbon-json", "base.json")
    monkeypatch.setenv("SCALE", str(scale))
    return pytester.runpytest("--carbon", *GATE, "--carbon-json", "head.json", *extra)


def test_baseline_regression_fails_the_run(pytester, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    result = run_twice(pytester, monkeypatch, 3, "--carbon-baseline", "base.json", "--carbon-min-delta", "50J", "--carbon-max-regression", "20%")
    result.assert_outcomes(passed=3)
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "Compared with the baseline (energy)*",
            "*regression*::test_grows*+[12]??%*",
            "*improvement*::test_shrinks*",
            "REGRESSION *::test_grows: energy * -> * (more than 20% and 50.0 J)",
            "Baseline: 1 regressed, 1 improved, 1 unchanged, 0 new, 0 removed, 0 not comparable (energy unknown)",
        ]
    )
    report = load_report(pytester.path / "head.json")
    assert [r["nodeid"].split("::")[1] for r in report["comparison"]["regressions"]] == ["test_grows"]


def test_regression_annotation_on_github(pytester, monkeypatch):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(pytester.path / "summary.md"))
    result = run_twice(pytester, monkeypatch, 3, "--carbon-baseline", "base.json", "--carbon-max-regression", "20%")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        ["::error file=test_regression_annotation_on_github.py,line=3,title=carbon regression%3A *test_grows::energy * -> * (+*%25, * more)"]
    )
    assert "### Compared with the baseline" in (pytester.path / "summary.md").read_text()


def test_baseline_without_regression_passes(pytester, monkeypatch):
    result = run_twice(pytester, monkeypatch, 1, "--carbon-baseline", "base.json")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["Baseline: 0 regressed*"])


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "*--carbon-baseline: missing.json: no such file*"),
        ('{"schema": "pytest-carbon/1", "run": {"', "*--carbon-baseline: missing.json: not valid JSON*"),
        ('{"schema": "other/2"}', "*--carbon-baseline: missing.json: schema 'other/2' is not 'pytest-carbon/1'*"),
        ("", "*--carbon-baseline: missing.json: not valid JSON*"),
    ],
)
def test_bad_baseline_exits_4(pytester, content, message):
    if content is not None:
        (pytester.path / "missing.json").write_text(content)
    pytester.makepyfile("def test_a(): pass\n")
    result = pytester.runpytest("--carbon", "--carbon-baseline", "missing.json")
    assert result.ret == 4
    result.stderr.fnmatch_lines([f"ERROR: pytest-carbon: {message}"])
    assert "Traceback" not in result.stderr.str()


def test_compare_cli(pytester, monkeypatch):
    run_twice(pytester, monkeypatch, 3)
    cli = (sys.executable, "-m", "pytest_carbon.cli")
    result = pytester.run(*cli, "compare", "base.json", "head.json", "--max-regression", "20%", "--min-delta", "50J")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["REGRESSION *test_grows*"])
    result = pytester.run(*cli, "compare", "base.json", "head.json", "--markdown")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["### Compared with the baseline", "**regressions found**: *", "| 🔺 | *test\\_grows* |*"])
    result = pytester.run(*cli, "compare", "base.json", "base.json")
    assert result.ret == 0
    result = pytester.run(*cli, "compare", "base.json", "head.json", "--max-regression", "lots")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["pytest-carbon: --max-regression lots: *is not a percentage* (e.g. 10%)"])
    (pytester.path / "bad.json").write_text("{")
    result = pytester.run(*cli, "compare", "bad.json", "head.json")
    assert result.ret == 4 and "Traceback" not in result.stderr.str()


def test_merge_joins_shards_and_totals_add_up(pytester, monkeypatch):
    pytester.makepyfile(SUITE)
    pytester.runpytest("--carbon", *GATE, "--carbon-json", "a.json", "-k", "grows")
    pytester.runpytest("--carbon", *GATE, "--carbon-json", "b.json", "-k", "not grows", "--carbon-intensity", "500")
    result = pytester.run(sys.executable, "-m", "pytest_carbon.cli", "merge", "a.json", "b.json", "-o", "all.json")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["merged 2 reports, 3 tests, * J, * g CO2eq -> all.json"])
    a, b, m = (load_report(pytester.path / f) for f in ("a.json", "b.json", "all.json"))
    assert len(m["tests"]) == 3 and {t["shard"] for t in m["tests"]} == {0, 1}
    for key in ("attributed_j", "unattributed_j", "co2_g"):
        assert m["totals"][key] == a["totals"][key] + b["totals"][key]
    assert m["totals"]["energy_j"]["total"] == pytest.approx(a["totals"]["energy_j"]["total"] + b["totals"]["energy_j"]["total"], rel=1e-12)
    assert [s["intensity"]["g_per_kwh"] for s in m["run"]["shards"]] == [1000, 500]
    result = pytester.run(sys.executable, "-m", "pytest_carbon.cli", "show", "all.json")
    assert result.ret == 0
    result = pytester.run(sys.executable, "-m", "pytest_carbon.cli", "merge", "a.json", "nope.json", "-o", "x.json")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["pytest-carbon: nope.json: no such file*"])


def test_github_summary_annotations_and_comment(pytester, monkeypatch):
    summary = pytester.path / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    pytester.makepyprojecttoml('[tool.pytest-carbon.budgets]\n"*::test_grows[[]*" = "10 mg"\n')
    pytester.makepyfile(
        """
        import time, pytest
        @pytest.mark.parametrize("x", ["a|b", "c,d"])
        def test_grows(x):
            time.sleep(0.1)
        """
    )
    result = pytester.runpytest("--carbon", *GATE, "--carbon-github-comment", "comment.md")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        ["::error file=test_github_summary_annotations_and_comment.py,line=2,title=carbon budget%3A *test_grows[[]a|b]::carbon budget exceeded: * > 10.0 mg CO2eq*"]
    )
    assert "title=carbon budget%3A test_github_summary_annotations_and_comment.py%3A%3Atest_grows[c%2Cd]" in result.stdout.str()
    text = summary.read_text()
    assert text.startswith("## Carbon")
    assert r"test\_grows\[a\|b\]" in text and "❌ over" in text
    assert "**Budgets (enforce):** 2 of 2 tests with a budget over it." in text
    comment = (pytester.path / "comment.md").read_text()
    assert comment.startswith(COMMENT_MARKER + "\n## Carbon")


def test_no_github_output_outside_actions(pytester, monkeypatch):
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(pytester.path / "summary.md"))
    pytester.makepyfile("import pytest\n@pytest.mark.carbon(co2='0 g')\ndef test_a(): pass\n")
    result = pytester.runpytest(*GATE)
    assert "::error" not in result.stdout.str()
    assert not (pytester.path / "summary.md").exists()


def test_annotation_paths_are_relative_to_the_checkout(pytester, monkeypatch):
    """A suite with its own rootdir (like workloads/) still annotates the right file."""
    sub = pytester.mkdir("suite")
    (sub / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
    (sub / "test_s.py").write_text("import pytest\n\n@pytest.mark.carbon(co2='0 g')\ndef test_x():\n    pass\n")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_WORKSPACE", str(pytester.path))
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    result = pytester.runpytest("suite", *GATE)
    result.stdout.fnmatch_lines(["::error file=suite/test_s.py,line=3,title=carbon budget%3A test_s.py%3A%3Atest_x::*"])


def test_compare_names_the_file_whose_tests_are_malformed(pytester):
    good = {"schema": "pytest-carbon/1", "run": {}, "tests": [{"nodeid": "a", "energy_j": {"total": 1.0}}], "totals": {}}
    bad = dict(good, tests=[{"nodeid": "a", "energy_j": 5}])
    (pytester.path / "base.json").write_text(json.dumps(good))
    (pytester.path / "head.json").write_text(json.dumps(bad))
    result = pytester.run(sys.executable, "-m", "pytest_carbon.cli", "compare", "base.json", "head.json")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["pytest-carbon: head.json: tests[[]0] is not a test entry*damaged"])
    assert "Traceback" not in result.stderr.str()


def test_mentions_are_escaped_in_markdown():
    assert md("@octocat and @org/team") == "@&#8203;octocat and @&#8203;org/team"


def test_no_printed_line_is_a_workflow_command_the_plugin_did_not_mean(pytester, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    pytester.makepyfile(
        """
        def test_x(carbon):
            with carbon.phase("a\\n::error title=pwned::gotcha", items=1):
                pass
            with carbon.phase("::add-mask::secret"):
                pass
        """
    )
    result = pytester.runpytest("--carbon", "--carbon-meter", "constant:cpu=10W", "--carbon-top", "5")
    assert result.ret == 0
    assert not [line for line in result.outlines if line.lstrip().startswith("::")]
    assert any(": :error title=pwned::gotcha" in line for line in result.outlines)


def test_warn_mode_annotations_are_warnings(pytester, monkeypatch):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    pytester.makepyfile("import time, pytest\n@pytest.mark.carbon(energy='1 J')\ndef test_big():\n    time.sleep(0.3)\n")
    result = pytester.runpytest("--carbon-meter", "constant:cpu=100W", "--carbon-budgets", "warn")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["::warning file=*,line=2,title=carbon budget%3A *test_big::carbon budget exceeded*"])
    assert not [line for line in result.outlines if line.startswith("::error")]


def test_a_comparison_prints_the_noise_it_used():
    import io

    from rich.console import Console

    from pytest_carbon.report.github import comparison_markdown, regression_text
    from pytest_carbon.report.comparison import render_comparison

    def run(energy: float, ci: list[float]) -> dict:
        phase = {"name": "train", "per_item": {"n": 100, "ci95_j": ci}}
        return {"run": {}, "tests": [{"nodeid": "t.py::test_train", "energy_j": {"total": energy}, "co2_g": 1.0, "phases": [phase]}]}

    c = compare(run(1000.0, [9.9, 10.1]), run(1300.0, [12.9, 13.1]), 0.1, 50.0)  # noise: hypot(10, 10) J
    buf = io.StringIO()
    render_comparison(c, Console(file=buf, width=200, no_color=True))
    text = buf.getvalue()
    assert "noise (95%)" in text and "±14.1 J" in text
    assert "outside the runs' combined noise of 14.1 J" in text
    assert "±14.1 J" in "\n".join(comparison_markdown(c)) and "noise ±14.1 J" in regression_text(c.regressions[0])


def test_the_pr_comment_shows_per_item_intervals():
    from pytest_carbon.report.github import comment_markdown

    per = {"n": 50, "mean_j": 2.0, "ci95_j": [1.9, 2.1], "warmup": {"n": 5}}
    t = {"nodeid": "t.py::test_train", "duration_s": 1.5, "energy_j": {"total": 150.0}, "co2_g": 0.01,
         "phases": [{"name": "train", "per_item": per}, {"name": "plain", "per_item": None}]}  # fmt: skip
    report = {"run": {"intensity": {"g_per_kwh": 400, "source": "x"}, "pue": 1.0}, "totals": {
        "co2_g": 0.01, "energy_j": {"total": 150.0}, "unattributed_j": 0.0, "car_km": 0.0}, "tests": [t]}  # fmt: skip
    text = comment_markdown(report)
    assert "- t.py::test\\_train train: 2.00 J/item [1.90 J - 2.10 J], 50 items" in text
    assert "plain:" not in text
