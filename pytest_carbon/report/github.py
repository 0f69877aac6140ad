"""GitHub outputs: a markdown job summary, ``::error`` annotations and a PR comment body.

All user text (node ids, phase names, sources) is escaped for the syntax it lands in:
markdown for summaries and comments, workflow-command encoding for annotations.
"""

from __future__ import annotations

import re
from typing import Any

from ..budget import PASSING_METRICS
from ..compare import Change, Comparison
from ..units import format_co2, format_distance, format_energy
from .view import by_co2
from .verdicts import findings_of, from_dict, headline, violations_of

COMMENT_MARKER = "<!-- pytest-carbon:comment -->"

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~])")


def md(text: str) -> str:
    """Escape text for a markdown table cell or paragraph: no markup, links, HTML, breaks or
    @mentions (a zero-width space after the @ keeps GitHub from notifying anyone)."""
    escaped = _MD_SPECIAL.sub(r"\\\1", str(text)).replace("\r", " ").replace("\n", " ")
    return escaped.replace("@", "@&#8203;")


def _data(text: str) -> str:
    return str(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(level: str, message: str, *, file: str | None = None, line: int | None = None, title: str | None = None) -> str:
    """A workflow command such as ``::error file=a.py,line=3,title=T::message``, escaped."""
    props = []
    if file:
        props.append(f"file={_prop(file)}")
    if line:
        props.append(f"line={int(line)}")
    if title:
        props.append(f"title={_prop(title)}")
    return f"::{level}{' ' + ','.join(props) if props else ''}::{_data(message)}"


def annotation_lines(report: dict[str, Any], comparison: Comparison | None, relocate: Any = None) -> list[str]:
    """Annotations for violated budgets and regressions; ``relocate`` maps a report's file path
    (relative to pytest's rootdir) to one relative to the repository checkout."""
    out = []
    relocate = relocate or (lambda f: f)
    b = report.get("budgets") or {}
    level = "warning" if b.get("mode") == "warn" else "error"  # warn mode fails nothing
    for t in report["tests"]:
        for d in violations_of(t):
            if d["metric"] in PASSING_METRICS:
                continue
            out.append(
                annotation(level, headline(from_dict(d)), file=relocate(t.get("file")), line=t.get("line"), title=f"carbon budget: {t['nodeid']}")
            )
    for d in b.get("session_violations", []):
        if d["metric"] not in PASSING_METRICS:
            out.append(annotation(level, headline(from_dict(d)), title="carbon budget: session"))
    if comparison is not None:
        for ch in comparison.regressions:
            out.append(
                annotation("error", regression_text(ch), file=relocate(ch.file), line=ch.line, title=f"carbon regression: {ch.nodeid}")
            )
        for w in comparison.warnings:
            out.append(annotation("warning", w, title="carbon comparison"))
    return out


def regression_text(ch: Change) -> str:
    noise = "" if ch.noise_j is None else f", noise ±{format_energy(ch.noise_j)}"
    return (
        f"energy {format_energy(ch.base_j)} -> {format_energy(ch.head_j)}"
        f" ({'+' if (ch.ratio or 0) >= 0 else ''}{(ch.ratio or 0):.0%}, {format_energy(ch.delta_j)} more{noise})"
    )


def _pct(r: float | None) -> str:
    return "n/a" if r is None else f"{r:+.0%}"


def trend_of(ch: Change, trends: dict[str, Any] | None) -> str:
    """A change's test over the history's runs and this one, as text GitHub renders: a sparkline."""
    from ..history.stats import sparkline

    values = (trends or {}).get("tests_j", {}).get(ch.nodeid) if isinstance(trends, dict) else None
    if values is None and ch.history is not None:
        values = [*ch.history.get("values_j", []), ch.head_j]
    return f"`{sparkline(values)}`" if values and len(values) > 1 else ""


def comparison_markdown(c: Comparison, trends: dict[str, Any] | None = None) -> list[str]:
    """The comparison in markdown; ``trends``: the report's ``history``, for each changed test's sparkline."""
    lines = ["### Compared with the baseline", ""]
    verdict = "**regressions found**" if c.failed else "no regression"
    if c.method.startswith("history"):
        lines.append(
            f"{verdict}: judged against the history ({md(c.method[len('history: '):])}): a test regresses when its energy is"
            f" above the limit its history and the threshold set, and more than {format_energy(c.min_delta_j)} above its"
            " history's mean (baseline = that mean). Energy is compared, not CO2, since runners' grids differ."
        )
    else:
        lines.append(
            f"{verdict}: a test regresses when its energy grows by more than {c.max_regression:.0%}"
            f" and by more than {format_energy(c.min_delta_j)} (and, where both runs measured their noise from"
            " marked steps, by more than their combined 95% noise). Energy is compared, not CO2, since runners' grids differ."
        )
    lines.append("")
    for w in c.warnings:
        lines.append(f"> **Warning:** {md(w)}")
    if c.warnings:
        lines.append("")
    rows = [("regression", ch) for ch in c.regressions] + [("improvement", ch) for ch in c.improvements]
    if rows:
        sparks = [trend_of(ch, trends) for _, ch in rows]
        trend_col = any(sparks)
        lines += [
            "| | test | baseline | this run | change | noise (95%) | CO2eq |" + (" trend (last runs, then this) | decided by |" if trend_col else ""),
            "|---|---|--:|--:|--:|--:|--:|" + ("---|---|" if trend_col else ""),
        ]
        for (kind, ch), spark in zip(rows, sparks):
            mark = "🔺" if kind == "regression" else "🔻"
            lines.append(
                f"| {mark} | {md(ch.nodeid)} | {format_energy(ch.base_j)} | {format_energy(ch.head_j)} | {_pct(ch.ratio)}"
                f" | {'' if ch.noise_j is None else '±' + format_energy(ch.noise_j)} | {format_co2(ch.base_co2_g)} → {format_co2(ch.head_co2_g)} |"
                + (f" {spark} | {md(ch.decided_by or '')} |" if trend_col else "")
            )
        lines.append("")
    counts = (
        f"{len(c.regressions)} regressed, {len(c.improvements)} improved, {len(c.unchanged)} unchanged,"
        f" {len(c.new)} new, {len(c.removed)} removed, {len(c.unknown)} not comparable (energy unknown)"
    )
    lines.append(counts)
    for title, items in (("New", c.new), ("Removed", c.removed), ("Not comparable", c.unknown)):
        if items:
            names = ", ".join(md(ch.nodeid) for ch in items[:20])
            more = f" and {len(items) - 20} more" if len(items) > 20 else ""
            lines.append(f"<details><summary>{title} ({len(items)})</summary>\n\n{names}{more}\n\n</details>")
    return lines


def summary_markdown(report: dict[str, Any], comparison: Comparison | None = None, top: int = 10) -> str:
    """The job summary: totals, top tests, budget verdicts, baseline comparison."""
    run, totals = report["run"], report["totals"]
    est = " (estimated: no energy counter)" if totals.get("estimated") else ""
    lines = [
        "## Carbon",
        "",
        f"**{format_co2(totals['co2_g'])} CO2eq**{est} from **{format_energy(totals['energy_j']['total'])}**"
        f" over {len(report['tests'])} measured tests ({format_energy(totals['unattributed_j'])} outside tests),"
        f" as much as driving {format_distance(totals['car_km'])}.",
        "",
        f"Intensity {run['intensity']['g_per_kwh']:.4g} g/kWh x PUE {run['pue']:g}: {md(run['intensity']['source'])}."
        + (" Interrupted run: partial results." if run.get("interrupted") else ""),
        "",
    ]
    tests = by_co2(report["tests"])[:top]
    if tests:
        lines += ["| test | time | energy | CO2eq | budget |", "|---|--:|--:|--:|---|"]
        for t in tests:
            bud = ""
            found = violations_of(t)
            if any(d["metric"] not in PASSING_METRICS for d in found):
                bud = "❌ over"
            elif t.get("budget"):
                bud = "✅ within"
            lines.append(
                f"| {md(t['nodeid'])} | {t['duration_s']:.2f} s | {format_energy(t['energy_j']['total'])}"
                f" | {format_co2(t['co2_g'])} | {bud} |"
            )
        lines.append("")
        stepped = [(t, p) for t in tests for p in t.get("phases", []) if isinstance(p.get("per_item"), dict)]
        if stepped:
            lines.append("**Per item** (marked steps after the warm-up: mean and 95% interval):")
            for t, p in stepped:
                per = p["per_item"]
                ci = per.get("ci95_j")
                spread = f" [{format_energy(ci[0])} - {format_energy(ci[1])}]" if ci else " (one chunk: no interval)"
                lines.append(f"- {md(t['nodeid'])} {md(p['name'])}: {format_energy(per['mean_j'])}/item{spread}, {per['n']} items")
            lines.append("")
    b = report.get("budgets") or {}
    over = b.get("tests_over_budget", [])
    if b.get("mode") not in (None, "off") and (b.get("tests_with_budget") or b.get("session")):
        lines.append(f"**Budgets ({b['mode']}):** {len(over)} of {b.get('tests_with_budget', 0)} tests with a budget over it.")
        lines += [f"- {md(who)}: {md(headline(v))}" for who, v in findings_of(report)]
        lines.append("")
    if comparison is not None:
        lines += comparison_markdown(comparison, report.get("history"))
        lines.append("")
    sha = run.get("git_sha")
    lines.append(f"<sub>pytest-carbon {md(run.get('plugin', ''))}{', commit ' + md(sha[:12]) if sha else ''}</sub>")
    return "\n".join(lines) + "\n"


def comment_markdown(report: dict[str, Any], comparison: Comparison | None = None, top: int = 10) -> str:
    """The PR comment body; the hidden marker lets a workflow find and update its own comment."""
    return COMMENT_MARKER + "\n" + summary_markdown(report, comparison, top)
