"""The plugin from the outside, the way a user runs pytest."""

from __future__ import annotations

import sys

import pytest

from conftest import assert_conserved, load_report

FAST = ("--carbon-interval", "0.01")

SUITE = """
import time, pytest

def test_plain():
    pass

@pytest.mark.carbon
def test_marked():
    time.sleep(0.05)

def test_phases(carbon):
    with carbon.phase("train"):
        time.sleep(0.05)
    with carbon.phase("sample", items=4):
        time.sleep(0.04)
    assert carbon.energy_j() > 0
"""


def run(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, dict]:
    result = pytester.runpytest(*FAST, "--carbon-json", "r.json", *args)
    path = pytester.path / "r.json"
    return result, (load_report(path) if path.exists() else {})


def test_without_carbon_only_marked_and_fixture_tests_are_measured(pytester, no_nvml):
    pytester.makepyfile(SUITE)
    result, report = run(pytester)
    result.assert_outcomes(passed=3)
    ids = {t["nodeid"].split("::")[1] for t in report["tests"]}
    assert ids == {"test_marked", "test_phases"}
    assert_conserved(report)


def test_with_carbon_every_test_is_measured(pytester, no_nvml):
    pytester.makepyfile(SUITE)
    result, report = run(pytester, "--carbon")
    result.assert_outcomes(passed=3)
    assert len(report["tests"]) == 3
    assert report["schema"] == "pytest-carbon/1"
    result.stdout.fnmatch_lines(["*= carbon =*", "Carbon: 3 measured tests by CO2eq*", "Total: * measured over *"])


def test_nothing_is_sampled_when_no_test_is_measured(pytester, fake_nvml):
    fake = fake_nvml([300.0])
    pytester.makepyfile("def test_a():\n    pass\n")
    result, report = run(pytester)
    result.assert_outcomes(passed=1)
    assert report == {}
    assert fake.reads == 0
    assert "= carbon =" not in result.stdout.str()


def test_disabled_with_no_carbon(pytester):
    pytester.makepyfile("def test_a():\n    pass\n")
    result = pytester.runpytest("-p", "no:carbon", "--carbon")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*unrecognized arguments: --carbon*"])


def test_constant_meter_energy_is_watts_times_time(pytester):
    pytester.makepyfile(SUITE)
    result, report = run(pytester, "--carbon", "--carbon-meter", "constant:cpu=100W,gpu:0=250W")
    result.assert_outcomes(passed=3)
    for t in report["tests"]:
        assert t["energy_j"]["cpu"] == pytest.approx(100 * t["duration_s"], rel=1e-6)
        assert t["energy_j"]["gpu:0"] == pytest.approx(250 * t["duration_s"], rel=1e-6)
        assert t["energy_j"]["total"] == pytest.approx(350 * t["duration_s"], rel=1e-6)
        assert t["approximate"] is False  # exact at any instant
        assert t["estimated"] is True  # an assumption, not a measurement
    totals = report["totals"]
    assert totals["energy_j"]["total"] == pytest.approx(350 * report["run"]["duration_s"], rel=1e-3)
    assert_conserved(report)


def test_phases_items_and_per_item_values(pytester):
    pytester.makepyfile(SUITE)
    result, report = run(pytester, "--carbon-meter", "constant:cpu=36W", "--carbon-intensity", "500")
    result.assert_outcomes(passed=3)
    test = next(t for t in report["tests"] if t["nodeid"].endswith("test_phases"))
    train, sample = test["phases"]
    assert (train["name"], train["items"], sample["name"], sample["items"]) == ("train", None, "sample", 4)
    assert sample["energy_j"]["total"] == pytest.approx(36 * sample["duration_s"], rel=1e-6)
    assert sample["energy_j_per_item"] == pytest.approx(sample["energy_j"]["total"] / 4)
    # 500 g/kWh: g = J / 3.6e6 * 500
    assert sample["co2_g"] == pytest.approx(sample["energy_j"]["total"] / 3.6e6 * 500)
    assert sample["co2_g_per_item"] == pytest.approx(sample["co2_g"] / 4)
    assert train["duration_s"] + sample["duration_s"] <= test["duration_s"]
    result.stdout.fnmatch_lines(["*test_phases*", "*- train*", "*- sample x4, *g/item*"])


def test_bad_phase_arguments_fail_the_test_with_a_message(pytester):
    pytester.makepyfile(
        """
        def test_p(carbon):
            with carbon.phase("sample", items=0):
                pass
        """
    )
    result = pytester.runpytest(*FAST, "--carbon-meter", "constant:cpu=1W")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*carbon.phase('sample', items=...) must be a positive whole number up to 10**15, got 0*"])


OUTCOMES_SUITE = """
import warnings, pytest

def test_ok(): pass
def test_bad(): assert False
@pytest.mark.skip(reason="no")
def test_skip(): pass
def test_skip_inside(): pytest.skip("later")
@pytest.mark.xfail
def test_xf(): assert False
@pytest.mark.xfail
def test_xpass(): pass
@pytest.mark.xfail(strict=True)
def test_xpass_strict(): pass
@pytest.fixture
def broken():
    raise RuntimeError
def test_err(broken): pass
@pytest.fixture
def broken_teardown():
    yield
    raise RuntimeError
def test_fails_then_teardown_errs(broken_teardown): assert False
def test_passes_then_teardown_errs(broken_teardown): pass
@pytest.mark.filterwarnings("default")
def test_warns():
    warnings.warn("a warning recorded during the test")
def test_after(): pass
"""

EXPECTED_OUTCOMES = {
    "test_ok": "passed", "test_bad": "failed", "test_skip": "skipped", "test_skip_inside": "skipped",
    "test_xf": "xfailed", "test_xpass": "xpassed", "test_xpass_strict": "failed", "test_err": "error",
    "test_fails_then_teardown_errs": "error", "test_passes_then_teardown_errs": "error",
    "test_warns": "passed", "test_after": "passed",
}  # fmt: skip


@pytest.mark.parametrize("terminal", ["pytest's reporter", "no terminal reporter"])
def test_outcomes_are_recorded(pytester, monkeypatch, terminal):
    # With pytest's terminal reporter the outcomes come from its kept reports; without one,
    # from a report hook: the same outcomes either way.
    monkeypatch.setenv("COLUMNS", "120")
    pytester.makepyfile(OUTCOMES_SUITE)
    extra = ["-p", "no:terminal"] if terminal == "no terminal reporter" else []
    result, report = run(pytester, "--carbon", "--carbon-meter", "constant:cpu=1W", "-p", "no:randomly", *extra)
    outcomes = {t["nodeid"].split("::")[1]: t["outcome"] for t in report["tests"]}
    assert outcomes == EXPECTED_OUTCOMES
    if not extra:
        result.stdout.fnmatch_lines(["*test_bad *failed est*"])


def test_outcomes_from_the_kept_reports_match_a_report_hook():
    """The two ways of ``outcomes`` over the same reports, unit-sized: reports in any category order."""
    from types import SimpleNamespace as R

    from pytest_carbon.outcomes import FromHook, FromStats

    def rep(nodeid, when, outcome, **kw):
        return R(nodeid=nodeid, when=when, outcome=outcome, failed=outcome == "failed", skipped=outcome == "skipped", passed=outcome == "passed", **kw)

    cases = {
        "passed": [rep("t", "setup", "passed"), rep("t", "call", "passed"), rep("t", "teardown", "passed")],
        "failed": [rep("t", "setup", "passed"), rep("t", "call", "failed"), rep("t", "teardown", "passed")],
        "error": [rep("t", "setup", "passed"), rep("t", "call", "failed"), rep("t", "teardown", "failed")],
        "skipped": [rep("t", "setup", "skipped"), rep("t", "teardown", "passed")],
        "xfailed": [rep("t", "setup", "passed"), rep("t", "call", "skipped", wasxfail=""), rep("t", "teardown", "passed")],
        "xpassed": [rep("t", "setup", "passed"), rep("t", "call", "passed", wasxfail=""), rep("t", "teardown", "passed")],
        "rerun": [rep("t", "setup", "passed"), rep("t", "call", "rerun"), rep("t", "teardown", "passed")],
    }
    category = {"passed": "passed", "failed": "failed", "skipped": "skipped", "rerun": "rerun"}
    for expected, reports in cases.items():
        stats: dict = {"": [], "passed": [rep("other", "call", "passed")], "failed": [rep("other", "call", "failed")]}
        via_stats, via_hook = FromStats(stats), FromHook()
        mark = via_stats.start("t")
        via_hook.start("t")
        for r in reversed(reports):  # categories lose the order: teardown's may come first
            key = ("xpassed" if r.outcome == "passed" else "xfailed") if hasattr(r, "wasxfail") else ("" if r.when != "call" and r.outcome == "passed" else category[r.outcome])
            stats.setdefault(key, []).append(r)
        for r in reports:
            via_hook.pytest_runtest_logreport(r)
        via_hook.pytest_runtest_logreport(rep("other", "call", "failed"))  # another test's report: not this one's
        stats.setdefault("warnings", []).append(R(nodeid="t", message="w"))  # no `when`: not a test phase
        assert via_stats.outcome("t", mark) == via_hook.outcome("t", 0) == expected, expected


def test_outcomes_from_stats_across_tests_keep_their_lengths_only_while_no_other_category_grows():
    """A report outside the plain categories between tests (a warning recorded after a test's
    end) moves the count: the next test takes new lengths, so an old report is not its own."""
    from types import SimpleNamespace as R

    from pytest_carbon.outcomes import FromStats

    def rep(nodeid, when, outcome):
        return R(nodeid=nodeid, when=when, outcome=outcome, failed=outcome == "failed", skipped=outcome == "skipped", passed=outcome == "passed")

    stats: dict = {}
    w = FromStats(stats)
    seen = []
    for nodeid, call in (("a", "failed"), ("b", "passed"), ("a", "skipped"), ("c", "failed"), ("d", "passed")):
        mark = w.start(nodeid)
        stats.setdefault("", []).append(rep(nodeid, "setup", "passed"))
        stats.setdefault(call, []).append(rep(nodeid, "call", call))
        stats.setdefault("", []).append(rep(nodeid, "teardown", "passed"))
        seen.append(w.outcome(nodeid, mark))
        stats.setdefault("warnings", []).append(R(nodeid=nodeid, message="after the test"))
    assert seen == ["failed", "passed", "skipped", "failed", "passed"]  # "a" again: its earlier failure is not this run's


def test_approximate_flag_for_windows_shorter_than_the_meter_resolution(pytester, no_nvml, monkeypatch):
    monkeypatch.setenv("COLUMNS", "160")
    pytester.makepyfile(
        """
        import time
        def test_short(): pass
        def test_long(): time.sleep(0.25)
        """
    )
    result, report = run(pytester, "--carbon", "--carbon-meter", "estimate", "--carbon-interval", "0.1")
    by = {t["nodeid"].split("::")[1]: t for t in report["tests"]}
    assert by["test_short"]["approximate"] is True
    assert by["test_short"]["approximate_channels"] == ["cpu", "ram"]
    assert by["test_long"]["approximate"] is False
    assert by["test_long"]["estimated"] is True
    assert by["test_short"]["energy_j"]["total"] > 0  # small, flagged, never zero
    result.stdout.fnmatch_lines(["*test_short *ms*~ est*", "~ shorter than the meter's resolution*"])


def test_estimate_meter_is_marked_as_such(pytester, no_nvml):
    pytester.makepyfile("def test_a():\n    sum(i * i for i in range(200000))\n")
    result, report = run(pytester, "--carbon")
    meters = {m["channel"]: m for m in report["run"]["meters"]}
    assert set(meters) == {"cpu", "ram"}
    assert all(m["method"] == "estimated" and m["estimated"] for m in meters.values())
    assert "TDP" in meters["cpu"]["note"] and "W/GiB" in meters["ram"]["note"]
    assert report["totals"]["estimated"] is True
    assert [n.split(":")[0] for n in report["run"]["meter_notes"]] == ["nvml", "rapl"]
    result.stdout.fnmatch_lines(["CO2eq: * (estimated)*", "Meter cpu: estimated*"])


def test_summary_in_a_log_is_as_wide_as_its_content_and_never_splits_a_node_id(pytester, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "50")  # a CI log: not a terminal, whatever COLUMNS says
    pytester.makepyfile(SUITE)
    long = "test_" + "x" * 90
    pytester.makepyfile(**{long: "def test_a_long_name_that_would_wrap_at_fifty_columns():\n    pass\n"})
    result = pytester.runpytest(*FAST, "-q", "--carbon", "--carbon-meter", "constant:cpu=10W")
    out = result.stdout.str()
    assert "\x1b[" not in out
    table = out[out.index("Carbon:") :]
    assert any(f"{long}.py::test_a_long_name_that_would_wrap_at_fifty_columns" in line for line in table.splitlines())
    assert "- train" in table and "- sample" in table
    assert "e-0" not in table and "e+0" not in table  # one unit per column, no scientific notation


def test_top_limits_the_table(pytester):
    pytester.makepyfile("import pytest\n@pytest.mark.parametrize('i', range(5))\ndef test_a(i): pass\n")
    result = pytester.runpytest(*FAST, "--carbon", "--carbon-meter", "constant:cpu=1W", "--carbon-top", "2")
    result.stdout.fnmatch_lines(["Carbon: top 2 of 5 measured tests by CO2eq*"])
    result = pytester.runpytest(*FAST, "--carbon", "--carbon-meter", "constant:cpu=1W", "--carbon-top", "0")
    assert "by CO2eq" not in result.stdout.str()
    result.stdout.fnmatch_lines(["Total: *"])


def test_pyproject_settings_and_command_line_wins(pytester):
    pytester.makepyprojecttoml(
        """
        [tool.pytest-carbon]
        measure_all = true
        meter = "constant:cpu=10W"
        intensity = 100
        pue = 1.5
        json = "from-pyproject.json"
        """
    )
    pytester.makepyfile("def test_a(): pass\n")
    result = pytester.runpytest(*FAST)
    result.assert_outcomes(passed=1)
    report = load_report(pytester.path / "from-pyproject.json")
    assert report["run"]["intensity"]["g_per_kwh"] == 100
    assert report["run"]["pue"] == 1.5
    assert [m["channel"] for m in report["run"]["meters"]] == ["cpu"]
    t = report["tests"][0]
    assert t["co2_g"] == pytest.approx(t["energy_j"]["total"] / 3.6e6 * 1.5 * 100)
    result = pytester.runpytest(*FAST, "--carbon-pue", "1.1", "--carbon-json", "cli.json")
    assert load_report(pytester.path / "cli.json")["run"]["pue"] == 1.1


@pytest.mark.parametrize(
    "args, intensity, kind",
    [
        (["--carbon-intensity", "123", "--carbon-cloud", "gcp:europe-west1", "--carbon-country", "POL"], 123, "configured"),
        (["--carbon-cloud", "gcp:europe-west1", "--carbon-country", "POL"], 122, "cloud"),
        (["--carbon-country", "USA", "--carbon-region", "CA"], 713.976 * 0 + 179.06, "region"),
        (["--carbon-country", "DEU"], 380.95, "country"),
        ([], 475, "world-default"),
    ],
)
def test_intensity_precedence(pytester, args, intensity, kind):
    pytester.makepyfile("def test_a(): pass\n")
    result, report = run(pytester, "--carbon", "--carbon-meter", "constant:cpu=1W", *args)
    i = report["run"]["intensity"]
    assert (round(i["g_per_kwh"], 2), i["kind"]) == (pytest.approx(intensity, abs=0.01), kind)
    assert i["source"]
    if kind == "world-default":
        assert "set country" in i["warning"]
        result.stdout.fnmatch_lines(["Warning: no location set, so the world average is used; set country*"])
    else:
        assert i["warning"] is None
        assert "Warning: no location set" not in result.stdout.str()


BAD_OPTIONS = [
    (["--carbon-pue", "0.5"], "--carbon-pue 0.5: must be a number from 1.0 to 10.0*"),
    (["--carbon-pue", "abc"], "--carbon-pue abc: must be a number from 1.0 to 10.0*"),
    (["--carbon-interval", "0"], "--carbon-interval 0: '0' must be positive*"),
    (["--carbon-interval", "5 parsecs"], "--carbon-interval 5 parsecs: *unknown unit 'parsecs'*"),
    (["--carbon-interval", "0.001"], "--carbon-interval 0.001: must be between 0.01 and 60 seconds*"),
    (["--carbon-meter", "gpu"], "--carbon-meter gpu: 'gpu' is not a meter; accepted: auto, nvml, rapl, estimate, constant:*"),
    (["--carbon-meter", "constant:cpu"], "--carbon-meter constant:cpu: 'cpu' is not CHANNEL=WATTS*"),
    (["--carbon-meter", "constant:cpu=ten"], "--carbon-meter constant:cpu=ten: channel cpu: 'ten' is not a power*"),
    (["--carbon-meter", "constant:cpu=5 V"], "*unknown unit 'v' for a power; accepted units: W, kW*"),
    (["--carbon-country", "Germany"], "--carbon-country Germany: must be an ISO 3166 alpha-3 country code, e.g. DEU*"),
    (["--carbon-country", "GER"], "--carbon-country: country 'GER' is not in codecarbon's table*close matches*"),
    (["--carbon-cloud", "aws"], "--carbon-cloud aws: must be PROVIDER:REGION*"),
    (["--carbon-cloud", "gcp:europe-west99"], "--carbon-cloud: cloud region gcp:europe-west99 *close matches: europe-west9*"),
    (["--carbon-cloud", "ibm:x"], "--carbon-cloud: cloud provider 'ibm' is not in codecarbon's cloud table; known: gcp*"),
    (["--carbon-country", "USA", "--carbon-region", "ZZ"], "*US region 'ZZ' is not in codecarbon's eGRID table*"),
    (["--carbon-country", "DEU", "--carbon-region", "BY"], "*sub-national regions are known for USA*not for DEU*"),
    (["--carbon-region", "CA"], "*region 'CA' needs a country too*"),
    (["--carbon-intensity", "-3"], "--carbon-intensity -3: must be grams of CO2eq per kWh*"),
    (["--carbon-top", "-1"], "--carbon-top -1: must be a whole number of tests*"),
    (["--carbon-top", "2.5"], "--carbon-top 2.5: must be a whole number of tests*"),
    (["--carbon-meter", "replay:nope.json"], "*replay: no timeline at nope.json; record one with --carbon-record PATH*"),
    (["--carbon-meter", "constant:cpu=1W+constant:cpu=2W"], "*channel 'cpu' is measured by both constant and constant#2*"),
]


@pytest.mark.parametrize("args, message", BAD_OPTIONS, ids=[" ".join(a) for a, _ in BAD_OPTIONS])
def test_bad_options_stop_the_run_with_exit_code_4(pytester, args, message):
    pytester.makepyfile("def test_a(): pass\n")
    result = pytester.runpytest("--carbon", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: pytest-carbon: {message}"])
    assert "Traceback" not in result.stderr.str() + result.stdout.str()
    assert "passed" not in result.stdout.str()  # stopped before any test


BAD_PYPROJECT = [
    ('pue = "high"', "*pyproject.toml: [[]tool.pytest-carbon[]] pue = 'high': must be a number from 1.0 to 10.0*"),
    ('contry = "DEU"', "*[[]tool.pytest-carbon[]] has unknown key 'contry' (did you mean 'country'?); known keys: measure_all, json*"),
    ("measure_all = 3", "*measure_all = 3: must be true or false*"),
    ('meter = "constant:cpu=-5W"', "*meter = 'constant:cpu=-5W': channel cpu: '-5W' must be zero or positive*"),
    ("interval = [1]", "*interval = [[]1[]]: [[]1[]] is not a duration*"),
]


@pytest.mark.parametrize("line, message", BAD_PYPROJECT)
def test_bad_pyproject_values_name_file_table_and_key(pytester, line, message):
    pytester.makepyprojecttoml(f"[tool.pytest-carbon]\n{line}\n")
    pytester.makepyfile("def test_a(): pass\n")
    result = pytester.runpytest()
    assert result.ret == 4
    result.stderr.fnmatch_lines([f"ERROR: pytest-carbon: {message}"])
    assert "Traceback" not in result.stderr.str()


def test_invalid_toml_is_a_usage_error(pytester):
    (pytester.path / "pyproject.toml").write_text("[tool.pytest-carbon\npue = 1\n")
    (pytester.path / "pytest.ini").write_text("[pytest]\n")
    pytester.makepyfile("def test_a(): pass\n")
    result = pytester.runpytest("--rootdir", str(pytester.path))
    assert result.ret == 4
    # pytest may read the file first; either way the run stops naming the file and the spot.
    result.stderr.fnmatch_lines(["ERROR: *pyproject.toml*Expected ']' at the end of a table declaration*"])


def test_help_lists_every_option(pytester):
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(
        [
            "*energy and CO2eq (pytest-carbon)*",
            "*--carbon *measure every test*",
            "*--carbon-json=PATH*",
            "*--carbon-meter=SPEC*",
            "*--carbon-interval=SECONDS*",
            "*--carbon-scope=process|machine|auto*",
            "*--carbon-country=ISO3*",
            "*--carbon-region=CODE*",
            "*--carbon-cloud=PROVIDER:REGION*",
            "*--carbon-intensity=G_PER_KWH*",
            "*--carbon-pue=X*",
            "*--carbon-top=N*",
            "*--carbon-record=PATH*",
            "*--carbon-budgets=enforce|warn|off*",
            "*--carbon-require-measured*",
            "*--carbon-inconclusive=pass|fail*",
            "*95% interval straddles the limit*",
            "*--carbon-baseline=PATH*",
            "*--carbon-max-regression=PERCENT*",
            "*default 10%)*",
            "*--carbon-min-delta=ENERGY*",
            "*--carbon-github-comment=PATH*",
        ]
    )


def test_report_write_failure_keeps_the_table(pytester):
    pytester.makepyfile("def test_a(): pass\n")
    (pytester.path / "blocker").write_text("a file, not a folder")
    result = pytester.runpytest(*FAST, "--carbon", "--carbon-meter", "constant:cpu=1W", "--carbon-json", "blocker/r.json")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["Carbon: 1 measured test by CO2eq*", "ERROR: carbon report could not be written to blocker/r.json*"])


def test_json_report_fields(pytester):
    pytester.makepyfile(SUITE)
    _, report = run(pytester, "--carbon", "--carbon-meter", "constant:cpu=10W", "--carbon-country", "FRA")
    run_ = report["run"]
    for key in ("started", "duration_s", "host", "python", "pytest", "plugin", "git_sha", "hardware", "meters", "intensity", "pue", "interrupted"):
        assert key in run_, key
    assert set(run_["intensity"]) >= {"g_per_kwh", "source", "country", "region"}
    assert run_["intensity"]["country"] == "FRA"
    test = report["tests"][0]
    for key in ("nodeid", "outcome", "duration_s", "energy_j", "co2_g", "approximate", "estimated", "phases"):
        assert key in test, key
    for key in ("energy_j", "attributed_j", "unattributed_j", "co2_g", "car_km"):
        assert key in report["totals"], key
    assert report["totals"]["car_km"] == pytest.approx(report["totals"]["co2_g"] / 107.5)
    # Written atomically: no temporary file left beside it.
    assert [p.name for p in pytester.path.iterdir() if p.name.startswith(".r.json")] == []


def test_show_prints_the_table_from_a_file(pytester):
    pytester.makepyfile(SUITE)
    run(pytester, "--carbon", "--carbon-meter", "constant:cpu=10W")
    result = pytester.run(sys.executable, "-m", "pytest_carbon.cli", "show", "r.json", "--top", "1")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["Carbon: top 1 of 3 measured tests by CO2eq*", "Total: *", "Intensity: *"])


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "*missing.json: no such file; write one with pytest --carbon --carbon-json*"),
        ('{"schema": "pytest-carbon/1", "run": {', "*not valid JSON*truncated or not a report?*"),
        ('{"schema": "pytest-carbon/9"}', "*schema 'pytest-carbon/9' is not 'pytest-carbon/1'*"),
        ("[1, 2]", "*not a pytest-carbon report (no 'schema' field)*"),
        ('{"schema": "pytest-carbon/1", "run": {}, "tests": [], "totals": {}}', "*a field is missing or has the wrong type*damaged*"),
        (
            '{"schema": "pytest-carbon/1", "run": {}, "tests": [{"nodeid": "a", "energy_j": {"total": NaN}}], "totals": {}}',
            "*missing.json: field tests[[]0].energy_j.total is NaN, which no measurement can be; the file is damaged",
        ),
        ('{"schema": "pytest-carbon/1", "run": {"duration_s": -Infinity}, "tests": [], "totals": {}}', "*field run.duration_s is -Infinity*"),
        ('{"schema": "pytest-carbon/1", "run": {}, "tests": [1], "totals": {}}', "*missing.json: tests[[]0] is not a test entry*damaged"),
    ],
)
def test_show_rejects_bad_files_without_traceback(pytester, content, message):
    path = pytester.path / "missing.json"
    if content is not None:
        path.write_text(content)
    result = pytester.run(sys.executable, "-m", "pytest_carbon.cli", "show", str(path))
    assert result.ret == 4
    result.stderr.fnmatch_lines([message])
    assert "Traceback" not in result.stderr.str()


def test_projections_extrapolate_per_item_cost(pytester, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    pytester.makepyfile(
        """
        import time
        def test_ldm(carbon):
            with carbon.phase("train", items=4):
                time.sleep(0.2)
            with carbon.phase("sample", items=2):
                time.sleep(0.1)
            carbon.project("train", 150_000, "150k training iterations")
            carbon.project("sample", 10_000, "10k images")
            carbon.project("missing", 5)
        """
    )
    result, report = run(pytester, "--carbon-meter", "constant:cpu=3600W", "--carbon-intensity", "1000")
    result.assert_outcomes(passed=1)
    train, sample, missing = report["tests"][0]["projections"]
    phase = report["tests"][0]["phases"][0]
    assert train["energy_j_per_item"] == pytest.approx(phase["energy_j"]["total"] / 4)
    assert train["energy_j"] == pytest.approx(phase["energy_j"]["total"] / 4 * 150_000)
    assert train["co2_g"] == pytest.approx(train["energy_j"] / 3.6e6 * 1000)
    assert train["car_km"] == pytest.approx(train["co2_g"] / 107.5)
    assert (train["factor"], sample["factor"], train["extrapolated"]) == (37_500, 5_000, True)
    assert missing["energy_j"] is None and "no phase 'missing'" in missing["note"]
    result.stdout.fnmatch_lines(
        ["Projections: measured cost per item x items in a full run (extrapolated, not measured)*", "*150k training iterations*kWh*", "*10k images*"]
    )


def test_bad_projection_arguments(pytester):
    pytester.makepyfile("def test_x(carbon):\n    carbon.project('train', 0)\n")
    result = pytester.runpytest("--carbon-meter", "constant:cpu=1W")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*carbon.project('train', count=...) must be a positive whole number up to 10**15, got 0*"])


def test_info_goes_into_the_report(pytester):
    pytester.makepyfile(
        """
        import pytest
        def test_x(carbon):
            carbon.info(threads=2, preset="tiny", shape=[32, 32])
        def test_bad(carbon):
            carbon.info(model=object())
        """
    )
    result, report = run(pytester, "--carbon-meter", "constant:cpu=1W")
    result.assert_outcomes(passed=1, failed=1)
    by = {t["nodeid"].split("::")[1]: t for t in report["tests"]}
    assert by["test_x"]["info"] == {"threads": 2, "preset": "tiny", "shape": [32, 32]}
    result.stdout.fnmatch_lines(["*carbon.info(model=...): <object object at *> cannot go into the JSON report*"])


def test_add_phase_timed_in_another_process(pytester):
    pytester.makepyfile(
        """
        import subprocess, sys, time
        CODE = "import time; a = time.monotonic_ns(); time.sleep(0.2); print(a, time.monotonic_ns())"
        def test_x(carbon):
            out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True)
            start, end = map(int, out.stdout.split())
            carbon.add_phase("child", start, end, items=2)
        def test_outside(carbon):
            carbon.add_phase("bad", 1, 2)
        """
    )
    result, report = run(pytester, "--carbon-meter", "constant:cpu=100W")
    result.assert_outcomes(passed=1, failed=1)
    (child,) = next(t for t in report["tests"] if t["nodeid"].endswith("test_x"))["phases"]
    assert child["duration_s"] == pytest.approx(0.2, abs=0.05)
    assert child["energy_j"]["cpu"] == pytest.approx(100 * child["duration_s"], rel=1e-6)
    result.stdout.fnmatch_lines(["*carbon.add_phase('bad', 1, 2): the span must be time.monotonic_ns() values inside this test*"])


def test_node_ids_with_brackets_are_shown_verbatim(pytester, monkeypatch):
    """Parametrize ids look like rich markup ([red], [tiny-2d]); they must print as written."""
    monkeypatch.setenv("COLUMNS", "200")
    pytester.makepyfile(
        """
        import pytest
        @pytest.mark.parametrize("x", ["red", "tiny-2d", "/bold"])
        def test_p(carbon, x):
            with carbon.phase("[b]phase[/b]"):
                pass
            carbon.project("[b]phase[/b]", 10, "[i]label[/i]")
        """
    )
    result, _ = run(pytester, "--carbon-meter", "constant:cpu=1W")
    out = result.stdout.str()
    for text in ("test_p[red]", "test_p[tiny-2d]", "test_p[/bold]", "- [b]phase[/b]", "[i]label[/i]"):
        assert text in out, text


def test_update_json_hook_amends_the_report(pytester):
    pytester.makeconftest(
        """
        def pytest_carbon_update_json(config, report):
            report["ci"] = {"job": "gate-42"}
            for t in report["tests"]:
                t["team"] = "ldm"
        """
    )
    pytester.makepyfile("def test_a(): pass\n")
    _, report = run(pytester, "--carbon", "--carbon-meter", "constant:cpu=1W")
    assert report["ci"] == {"job": "gate-42"} and report["tests"][0]["team"] == "ldm"


def test_a_failing_update_hook_does_not_lose_the_report(pytester):
    pytester.makeconftest("def pytest_carbon_update_json(config, report):\n    raise RuntimeError('oops')\n")
    pytester.makepyfile("def test_a(): pass\n")
    result, report = run(pytester, "--carbon", "--carbon-meter", "constant:cpu=1W")
    assert report["tests"][0]["nodeid"].endswith("test_a")
    result.stdout.fnmatch_lines(["ERROR: a pytest_carbon_update_json hook failed (RuntimeError: oops); the report is written without its changes"])


def test_a_phase_outliving_its_test_is_refused_not_given_the_next_tests_energy(pytester):
    pytester.makepyfile(
        """
        import threading, time

        def test_leaves_a_thread(carbon):
            def work():
                with carbon.phase("late"):
                    time.sleep(0.3)
            threading.Thread(target=work).start()

        def test_next():
            time.sleep(0.6)
        """
    )
    result = pytester.runpytest("--carbon", "--carbon-meter", "constant:cpu=100W", "--carbon-json", "r.json", "-W", "default")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        ["*RuntimeError: carbon.phase('late') cannot end after its test *test_leaves_a_thread has ended (a thread that"
         " outlived the test?); a phase must begin and end inside its test, and this one is not recorded*"]
    )  # fmt: skip
    report = load_report(pytester.path / "r.json")
    assert [t["phases"] for t in report["tests"]] == [[], []]


def test_pyproject_paths_are_relative_to_the_pyproject(pytester, monkeypatch):
    pytester.makepyprojecttoml(
        '[tool.pytest-carbon]\nmeter = "constant:cpu=10W"\njson = "out/r.json"\nhtml = "out/r.html"\n'
        'record = "out/t.json"\ngithub_comment = "out/c.md"\n'
    )
    pytester.makepyfile("def test_a(): pass\n")
    sub = pytester.mkdir("sub")
    monkeypatch.chdir(sub)
    result = pytester.runpytest("--carbon", "--rootdir", str(pytester.path), str(pytester.path))
    assert result.ret == 0
    for name in ("r.json", "r.html", "t.json", "c.md"):
        assert (pytester.path / "out" / name).is_file(), name
        assert not (sub / "out" / name).exists()
    result = pytester.runpytest("--carbon", "--carbon-json", "cli.json", "--rootdir", str(pytester.path), str(pytester.path))
    assert (sub / "cli.json").is_file()  # a command-line path is relative to where pytest runs


def test_a_test_with_many_phases_shows_the_costliest_twenty(pytester, monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")
    pytester.makepyfile(
        """
        import time
        def test_many(carbon):
            for i in range(10_000):
                with carbon.phase(f"p{i}"):
                    if i == 9_999:
                        time.sleep(0.05)
        """
    )
    result = pytester.runpytest("--carbon", "--carbon-meter", "constant:cpu=10W", "--carbon-json", "r.json")
    assert result.ret == 0
    out = result.stdout.str()
    assert out.count("  - p") == 20 and "  - p9999 " in out
    result.stdout.fnmatch_lines(["*... and 9,980 more phases (all in the JSON report)*"])
    assert len(load_report(pytester.path / "r.json")["tests"][0]["phases"]) == 10_000
    assert len(result.outlines) < 120


def test_a_unit_test_suite_gets_one_approximate_line_not_a_flag_per_row(pytester):
    pytester.makepyfile("import pytest\n@pytest.mark.parametrize('i', range(12))\ndef test_quick(i): pass\n")
    result = pytester.runpytest("--carbon", "--carbon-meter", "estimate", "--carbon-top", "5")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["~ 12 of 12 measured tests are shorter than their meters' resolution: their figures are approximate*"])
    rows = [line for line in result.outlines if line.startswith("test_quick[")]
    assert len(rows) == 5 and not any("~" in r for r in rows)
