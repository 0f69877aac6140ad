"""The self-contained HTML report: structure, escaping, no network, and a real browser."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest

SUITE = """
import time, pytest

@pytest.mark.parametrize("x", ["<script>alert(1)</script>", "a&b"])
def test_p(carbon, x):
    with carbon.phase("<b>train</b>", items=2):
        time.sleep(0.05)

@pytest.mark.carbon(co2="1 mg")
def test_over():
    time.sleep(0.1)
"""


def make(pytester, *extra: str) -> str:
    pytester.makepyfile(SUITE)
    pytester.runpytest(
        "--carbon", "--carbon-meter", "constant:cpu=3600W", "--carbon-country", "DEU", "--carbon-interval", "0.01",
        "--carbon-json", "r.json", "--carbon-html", "out/r.html", *extra,
    )  # fmt: skip
    return (pytester.path / "out" / "r.html").read_text()


def test_structure(pytester):
    pytester.makepyfile(SUITE)
    pytester.runpytest("--carbon", "--carbon-meter", "constant:cpu=3600W", "--carbon-country", "DEU", "--carbon-json", "base.json")
    page = make(pytester, "--carbon-baseline", "base.json")
    assert page.startswith("<!doctype html>") and page.rstrip().endswith("</html>")
    for heading in ("Top 3 of 3 tests by CO2eq", "Budgets (enforce)", "Compared with the baseline", "Where and when", "Run"):
        assert f"<h2>{heading}</h2>" in page, heading
    assert page.count("<svg") == 3  # tests, places, months
    assert "Intensity source: codecarbon global_energy_mix.json (Our World in Data): Germany, 2023" in page
    assert "Data: Ember monthly and yearly electricity data" in page and "CC BY 4.0" in page
    assert "carbon budget exceeded" in page


def test_user_text_is_escaped(pytester):
    page = make(pytester)
    assert "<script" not in page
    assert "test_p[&lt;script&gt;alert(1)&lt;/script&gt;]" in page
    assert "test_p[a&amp;b]" in page
    assert "&lt;b&gt;train&lt;/b&gt;" in page and "<b>train</b>" not in page


def test_self_contained_no_external_urls(pytester):
    page = make(pytester)
    assert not re.search(r"https?://", page)
    assert not re.search(r"""(src|href)\s*=|url\(|@import|<link|<script|<iframe""", page)


def test_html_cli(pytester):
    make(pytester)
    cli = (sys.executable, "-m", "pytest_carbon.cli", "html")
    result = pytester.run(*cli, "r.json", "-o", "again.html")
    assert result.ret == 0
    assert (pytester.path / "again.html").read_text().startswith("<!doctype html>")
    (pytester.path / "bad.json").write_text('{"schema": "pytest-carbon/1", "run": {}, "tests": [], "totals": {}}')
    result = pytester.run(*cli, "bad.json", "-o", "x.html")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["pytest-carbon: bad.json: a field is missing or has the wrong type*damaged"])


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium here; .ci/run installs Debian's chromium package")
def test_renders_in_headless_chromium(pytester, tmp_path):
    from PIL import Image

    make(pytester)
    shot = tmp_path / "shot.png"
    cmd = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
        "--hide-scrollbars", "--window-size=1200,1600", f"--screenshot={shot}",
        (pytester.path / "out" / "r.html").as_uri(),
    ]  # fmt: skip
    subprocess.run(cmd, capture_output=True, timeout=120, check=True)
    img = Image.open(shot).convert("RGB")
    assert img.size == (1200, 1600)
    colors = img.getcolors(maxcolors=1 << 20) or []
    assert len(colors) > 50  # text, cards and bars, not a blank page
    non_white = sum(n for n, c in colors if sum(c) < 720)
    assert non_white > 0.03 * 1200 * 1600


def test_unknown_co2_is_never_drawn_as_a_zero_bar():
    from pytest_carbon.report.html import _bar_chart

    svg = _bar_chart([("known", 2.0, [("train", 1.0)]), ("gap", None, [("train", None)]), ("phase gap", 3.0, [("train", None)])], "{:.3g} g", {})
    assert svg.count("? unknown: a meter failed during the test") == 1
    rects = re.findall(r"<rect[^>]*><title>([^<]*)</title>", svg)
    # The gap row draws no bar; the row with an unknown phase draws its known total as one bar.
    assert rects == ["train: 1 g", "outside phases: 1 g", "total, a phase unknown: 3 g"]
    assert ">0 g<" not in svg


def test_html_of_a_report_with_a_gap(pytester):
    page = make(pytester)
    import json

    report = json.loads((pytester.path / "r.json").read_text())
    t = report["tests"][0]
    t["co2_g"] = None
    t["energy_j"]["total"] = None
    for p in t["phases"]:
        p["co2_g"] = None
    (pytester.path / "gap.json").write_text(json.dumps(report))
    result = pytester.run(sys.executable, "-m", "pytest_carbon.cli", "html", "gap.json", "-o", "gap.html")
    assert result.ret == 0
    page = (pytester.path / "gap.html").read_text()
    assert "? unknown: a meter failed during the test" in page
