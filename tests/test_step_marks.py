"""Per-item statistics through the plugin: ``ph.step()``, ``ph.steps()``, warm-up, intervals."""

from __future__ import annotations

import pytest

from conftest import assert_conserved, load_report

STEPPED = """
import time

def wait_until(deadline):
    while time.monotonic_ns() < deadline:
        pass

def test_stepped(carbon):
    with carbon.phase("train", warmup=5) as ph:
        t = time.monotonic_ns()
        for ms in [100] * 5 + [20] * 50:  # 5 warm-up steps of 100 ms, then 50 of 20 ms
            t += ms * 1_000_000
            wait_until(t)  # deadlines, so that no step's overshoot adds up
            ph.step()
    carbon.project("train", 150_000, "150,000 iterations")

def test_loop(carbon):
    with carbon.phase("sample") as ph:
        for _ in ph.steps(range(4)):
            time.sleep(0.01)

def test_unmarked(carbon):
    with carbon.phase("plain", items=3):
        time.sleep(0.01)
"""


def test_the_median_per_item_excludes_the_warmup_and_its_interval_holds_the_true_value(pytester):
    pytester.makepyfile(STEPPED)
    result = pytester.runpytest("--carbon-meter", "constant:cpu=100W", "--carbon-json", "r.json", "--carbon-intensity", "1000")
    result.assert_outcomes(passed=3)
    report = load_report(pytester.path / "r.json")
    t = {x["nodeid"].split("::")[1]: x for x in report["tests"]}
    (train,) = t["test_stepped"]["phases"]
    p = train["per_item"]
    assert train["items"] == 55  # the steps, warm-up included, when items= is not given
    assert (p["n"], p["warmup"]["n"]) == (50, 5)
    assert p["median_j"] == pytest.approx(2.0, rel=0.10)  # 100 W x 20 ms
    assert p["ci95_j"][0] <= 2.0 <= p["ci95_j"][1] + 1e-3  # + a step's own overhead, ~us
    assert p["warmup"]["mean_j"] == pytest.approx(10.0, rel=0.10)  # the 100 ms steps, apart
    assert p["p10_j"] <= p["median_j"] <= p["p90_j"]
    # The projection extrapolates the items after the warm-up, with their interval
    (proj,) = t["test_stepped"]["projections"]
    assert proj["measured_items"] == 50 and proj["energy_j"] == pytest.approx(300_000.0, rel=0.10)
    lo, hi = proj["energy_j_ci95"]
    assert lo <= proj["energy_j"] <= hi
    (sample,) = t["test_loop"]["phases"]
    assert sample["items"] == 4 and sample["per_item"]["n"] == 4
    (plain,) = t["test_unmarked"]["phases"]
    assert plain["per_item"] is None and plain["energy_j_per_item"] is not None  # one figure, no spread
    # The table shows the interval per item, and the projection's
    result.stdout.fnmatch_lines([
        "*- train x55 (5 warm-up), * mg/item [[]95%: * - * mg[]]*",
        "*150,000 iterations*[[]*-*[]]*",
    ])  # fmt: skip
    assert_conserved(report)


def test_steps_under_xdist_reach_the_controller(pytester):
    pytester.makepyfile(STEPPED)
    result = pytester.runpytest_subprocess("-n", "2", "--carbon", "--carbon-meter", "constant:cpu=100W", "--carbon-json", "r.json")
    result.assert_outcomes(passed=3)
    report = load_report(pytester.path / "r.json")
    (train,) = next(x for x in report["tests"] if x["nodeid"].endswith("test_stepped"))["phases"]
    assert train["per_item"]["n"] == 50 and train["per_item"]["median_j"] == pytest.approx(2.0, rel=0.10)


def test_bad_warmup_is_refused(pytester):
    pytester.makepyfile("def test_w(carbon):\n    with carbon.phase('x', warmup=-1):\n        pass\n")
    result = pytester.runpytest("--carbon-meter", "constant:cpu=1W")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*carbon.phase('x', warmup=...) must be a whole number of items, 0 or more, got -1*"])


UNEVEN = """
import time

def test_uneven(carbon):
    with carbon.phase("train") as ph:
        t = time.monotonic_ns()
        for ms in [10, 30] * 10:  # items of 1 J and 3 J at 100 W: mean 2 J, a wide interval
            t += ms * 1_000_000
            while time.monotonic_ns() < t:
                pass
            ph.step()
"""


@pytest.mark.parametrize(
    ("limit", "extra", "outcome", "line"),
    [
        ("2.1 J", (), "passed", "*::test_uneven: carbon budget of per item of phase 'train' (20 items after the warm-up) inconclusive: the 95% interval * J - * J straddles the limit 2.10 J*"),
        ("2.1 J", ("--carbon-inconclusive", "fail"), "failed", "*not shown to be met: the 95% interval * straddles the limit 2.10 J, and inconclusive = \"fail\"*"),
        ("0.5 J", (), "failed", "carbon budget exceeded in per item of phase 'train' *: * J > 0.500 J (95% interval * J - * J)*"),
        ("10 J", (), "passed", None),
    ],
)
def test_a_per_item_budget_is_judged_on_the_interval(pytester, limit, extra, outcome, line):
    pytester.makepyprojecttoml(f'[tool.pytest-carbon.budgets]\n"phase:train/item" = {{ energy = "{limit}" }}\n')
    pytester.makepyfile(UNEVEN)
    result = pytester.runpytest("--carbon-meter", "constant:cpu=100W", "--carbon-json", "r.json", *extra)
    result.assert_outcomes(**{outcome: 1})
    if line:
        result.stdout.fnmatch_lines([line])
    (t,) = load_report(pytester.path / "r.json")["tests"]
    per = t["phases"][0]["per_item"]
    assert per["ci95_j"][0] < 2.1 < per["ci95_j"][1]  # the uneven items make a wide interval


NEW_FIELDS = {"foreign_cpu_share", "per_item", "approximate_tests", "energy_j_ci95", "co2_g_ci95", "interval", "unit", "noise_j"}


def _without_new_fields(x):
    """A report as written before scope, foreign shares, per-item statistics and intervals."""
    if isinstance(x, dict):
        return {k: _without_new_fields(v) for k, v in x.items() if k not in NEW_FIELDS}
    if isinstance(x, list):
        return [_without_new_fields(v) for v in x]
    return x


def test_reports_written_before_these_fields_still_show_compare_and_merge(pytester):
    import json
    import sys

    pytester.makepyfile(STEPPED)
    pytester.runpytest("--carbon-meter", "constant:cpu=100W", "--carbon-json", "new.json")
    old = _without_new_fields(load_report(pytester.path / "new.json"))
    (pytester.path / "old.json").write_text(json.dumps(old))
    cli = (sys.executable, "-m", "pytest_carbon.cli")
    shown = pytester.run(*cli, "show", "old.json")
    assert shown.ret == 0
    shown.stdout.fnmatch_lines(["Carbon: 3 measured tests by CO2eq*", "*- train x55, * mg/item*", "Total: *"])
    for a, b in (("old.json", "new.json"), ("new.json", "old.json")):
        compared = pytester.run(*cli, "compare", a, b)
        assert compared.ret == 0 and "Traceback" not in compared.stderr.str()
    merged = pytester.run(*cli, "merge", "old.json", "-o", "merged.json")
    assert merged.ret == 0 and "Traceback" not in merged.stderr.str()
