"""Numbers that are never lost or invented: non-finite and overflowing input, where it enters."""

from __future__ import annotations

import json

import pytest

from conftest import load_report


@pytest.mark.parametrize(
    "args, pyproject, message",
    [
        ([], '[tool.pytest-carbon.budgets]\ndefault = { energy = "1e308 MWh" }\n', "*default*energy: '1e308 MWh' is too large to be an energy*"),
        ([], '[tool.pytest-carbon.budgets]\ndefault = "1e306 t"\n', "*'1e306 t' is too large to be a CO2eq mass*"),
        (["--carbon-min-delta", "1e308MWh"], "", "*--carbon-min-delta 1e308MWh: '1e308MWh' is too large to be an energy*"),
        (["--carbon-meter", "constant:cpu=1e308W"], "", "*channel cpu: '1e308W' is more than 1 MW, which no test machine draws*"),
        (["--carbon-meter", "constant:cpu=inf W"], "", "*channel cpu: 'inf W' is not a power*"),
    ],
)
def test_non_finite_configuration_stops_the_run(pytester, args, pyproject, message):
    if pyproject:
        pytester.makepyprojecttoml(pyproject)
    pytester.makepyfile("def test_a(): pass\n")
    result = pytester.runpytest("--carbon", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: pytest-carbon: {message}"])
    assert "Traceback" not in result.stderr.str()


def test_a_replay_with_nan_and_infinity_reads_them_as_gaps(pytester):
    rec = {
        "schema": "pytest-carbon-timeline/1",
        "interval_s": 0.1,
        "meters": [{"name": "nvml", "channels": [{"channel": "gpu:0", "method": "counter", "cadence_s": 0.1}]}],
        "samples": {"nvml": [[i * 0.05, [float("inf") if i == 4 else float("nan") if i == 5 else i * 5.0]] for i in range(60)]},
    }
    (pytester.path / "t.json").write_text(json.dumps(rec))  # json writes Infinity and NaN
    pytester.makepyfile("import time\ndef test_a():\n    time.sleep(0.5)\n")
    result = pytester.runpytest("--carbon", "--carbon-meter", "replay:t.json", "--carbon-json", "r.json")
    assert result.ret == 0
    report = load_report(pytester.path / "r.json")
    # The recording has no number from 0.15 s to 0.3 s; the sampler's readings around it bound the gap.
    assert 0.1 <= report["totals"]["gaps_s"]["gpu:0"] <= 0.35
    assert report["totals"]["energy_j"]["gpu:0"] < 1e6


def test_a_projection_to_an_absurd_count_fails_its_test_and_keeps_the_report(pytester):
    pytester.makepyfile(
        """
        def test_huge(carbon):
            with carbon.phase("train", items=2):
                pass
            carbon.project("train", 10**400)

        def test_ok(carbon):
            with carbon.phase("train", items=2):
                pass
            carbon.project("train", 100)
        """
    )
    result = pytester.runpytest("--carbon", "--carbon-meter", "constant:cpu=10W", "--carbon-json", "r.json")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*ValueError: carbon.project('train', count=...) must be a positive whole number up to 10**15, got a 401-digit number*",
         "*Carbon: 2 measured tests*"]
    )  # fmt: skip
    report = load_report(pytester.path / "r.json")
    assert [len(t["projections"]) for t in report["tests"]] == [0, 1]


def test_a_report_that_cannot_be_built_keeps_pytests_summary(pytester):
    pytester.makeconftest(
        """
        import pytest_carbon.session as s

        def boom(*args, **kwargs):
            raise RuntimeError("injected")

        s.build_run = boom
        """
    )
    pytester.makepyfile("def test_a(): pass\n")
    # In a subprocess: the conftest breaks the plugin's module for the whole process.
    result = pytester.runpytest_subprocess("--carbon", "--carbon-meter", "constant:cpu=10W", "--carbon-json", "r.json")
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        ["ERROR: pytest-carbon could not build its report (RuntimeError: injected); the tests' outcomes stand*", "*1 passed*"]
    )
    assert not (pytester.path / "r.json").exists()
