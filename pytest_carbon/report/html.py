"""One self-contained HTML file from a report: inline CSS and SVG, no script, no network.

Everything a reader needs works without JavaScript (there is none). Every piece of user
text (node ids, phase names, sources, hosts) goes through ``html.escape``.
"""

from __future__ import annotations

import html
from typing import Any

from ..units import CAR_G_PER_KM, format_co2, format_distance, format_duration, format_energy
from .view import by_co2
from .verdicts import budget_use, findings_of, headline

PALETTE = ["#2f6f4f", "#d08c30", "#4a78b8", "#b8504a", "#7a5fa8", "#3d9aa0", "#8a8a3a", "#a05c8a"]

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#1d2a22;padding:0 1rem}
h1{font-size:1.6rem;margin:0 0 .3rem}h2{font-size:1.2rem;margin:2rem 0 .6rem;border-bottom:1px solid #d6e0d9;padding-bottom:.2rem}
.totals{display:flex;gap:1rem;flex-wrap:wrap;margin:1rem 0}.card{background:#eef5f0;border-radius:8px;padding:.7rem 1rem;min-width:10rem}
.card b{display:block;font-size:1.35rem}.muted{color:#5b6b61}.warn{background:#fff4df;border-left:4px solid #d08c30;padding:.4rem .8rem}
.bad{color:#a3261c;font-weight:600}.good{color:#2f6f4f}table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #e3e9e5;vertical-align:top}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
code{font-size:.92em;word-break:break-all}svg text{font:12px system-ui,sans-serif;fill:#1d2a22}.legend span{display:inline-block;margin-right:1rem}
.legend i{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:-1px;border-radius:2px}
"""


def e(text: Any) -> str:
    return html.escape(str(text), quote=True)


Row = tuple[str, "float | None", list[tuple[str, "float | None"]]]


def _bar_chart(rows: list[Row], unit: str, colors: dict[str, str], width: int = 1000) -> str:
    """Horizontal bars; each row (label, total, stacked parts); parts fill from the left.

    An unknown value (None: a meter failed) draws no bar and says so; it is never a 0 bar.
    """
    if not rows:
        return ""
    label_w, bar_w, row_h = 380, width - 380 - 90, 24
    top = max((v for _, v, _ in rows if v is not None), default=0.0) or 1.0
    out = [f'<svg role="img" width="{width}" height="{row_h * len(rows) + 8}" viewBox="0 0 {width} {row_h * len(rows) + 8}">']
    for i, (label, value, parts) in enumerate(rows):
        y = i * row_h + 4
        short = label if len(label) <= 58 else "…" + label[-57:]
        out.append(f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end"><title>{e(label)}</title>{e(short)}</text>')
        x = float(label_w)
        if value is None:
            out.append(f'<text x="{x:.1f}" y="{y + 15}" class="unknown">? unknown: a meter failed during the test</text>')
            continue
        used = 0.0
        known_parts = [(name, v) for name, v in parts if v is not None]
        if len(known_parts) < len(parts):  # a phase's share is unknown: one bar for the known total
            parts, known_parts = [("total, a phase unknown", value)], [("total, a phase unknown", value)]
        for name, v in known_parts:
            w = bar_w * max(v, 0.0) / top
            out.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row_h - 6}" fill="{colors.get(name, "#9aa8a0")}"><title>{e(name)}: {e(unit.format(v))}</title></rect>')
            x += w
            used += v
        rest = value - used
        if rest > 0:
            w = bar_w * rest / top
            out.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row_h - 6}" fill="#9aa8a0"><title>outside phases: {e(unit.format(rest))}</title></rect>')
            x += w
        out.append(f'<text x="{x + 6:.1f}" y="{y + 15}">{e(unit.format(value))}</text>')
    out.append("</svg>")
    return "".join(out)


def _tests_section(report: dict[str, Any], top: int) -> list[str]:
    tests = by_co2(report["tests"])[:top]
    if not tests:
        return ['<h2>Tests</h2><p class="muted">No test was measured.</p>']
    names = sorted({p["name"] for t in tests for p in t.get("phases", [])})
    colors = {n: PALETTE[i % len(PALETTE)] for i, n in enumerate(names)}
    rows: list[Row] = [
        (t["nodeid"], t.get("co2_g"), [(p["name"], p.get("co2_g")) for p in t.get("phases", [])])
        for t in tests
    ]
    legend = "".join(f'<span><i style="background:{c}"></i>{e(n)}</span>' for n, c in colors.items())
    legend += '<span><i style="background:#9aa8a0"></i>outside phases</span>'
    out = [
        f"<h2>Top {len(tests)} of {len(report['tests'])} tests by CO2eq</h2>",
        _bar_chart(rows, "{:.3g} g", colors),
        f'<p class="legend">{legend}</p>',
        '<table><thead><tr><th>test</th><th class="n">time</th><th class="n">energy</th><th class="n">CO2eq</th><th>budget</th><th>flags</th></tr></thead><tbody>',
    ]
    for t in tests:
        flags = " ".join(f for f, on in (("approximate", t.get("approximate")), ("estimated", t.get("estimated")), ("gap", t.get("gaps_s"))) if on)
        judged = t.get("budget_judged") or {}
        use = budget_use(t.get("budget"), judged.get("co2_g", t.get("co2_g")), judged.get("energy_j", t["energy_j"]["total"]))
        bud = ""
        if use:
            cls = "bad" if use[0] > 1 else "good"
            bud = f'<span class="{cls}">{use[0]:.0%} ({e(use[1])})</span>'
        outcome = "" if t.get("outcome") == "passed" else f' <span class="bad">{e(t.get("outcome"))}</span>'
        out.append(
            f"<tr><td><code>{e(t['nodeid'])}</code>{outcome}</td><td class=n>{e(format_duration(t['duration_s']))}</td>"
            f"<td class=n>{e(format_energy(t['energy_j']['total']))}</td><td class=n>{e(format_co2(t.get('co2_g')))}</td>"
            f"<td>{bud}</td><td class=muted>{e(flags)}</td></tr>"
        )
        for p in t.get("phases", []):
            items = f" ×{p['items']}, {format_co2(p.get('co2_g_per_item'))}/item" if p.get("items") else ""
            out.append(
                f"<tr class=muted><td>&nbsp;&nbsp;– {e(p['name'])}{e(items)}</td><td class=n>{e(format_duration(p['duration_s']))}</td>"
                f"<td class=n>{e(format_energy(p['energy_j']['total']))}</td><td class=n>{e(format_co2(p.get('co2_g')))}</td><td></td><td></td></tr>"
            )
    out.append("</tbody></table>")
    return out


def _budgets_section(report: dict[str, Any]) -> list[str]:
    b = report.get("budgets") or {}
    if b.get("mode") in (None, "off") or not (b.get("tests_with_budget") or b.get("session")):
        return []
    over = b.get("tests_over_budget", [])
    out = [f"<h2>Budgets ({e(b['mode'])})</h2>", f"<p>{len(over)} of {b.get('tests_with_budget', 0)} tests with a budget over it.</p><ul>"]
    for who, v in findings_of(report):
        name = "session" if who == "session" else f"<code>{e(who)}</code>"
        out.append(f'<li>{name}: <span class="bad">{e(headline(v))}</span></li>')
    out.append("</ul>")
    return out


def _comparison_section(report: dict[str, Any]) -> list[str]:
    c = report.get("comparison")
    if not c:
        return []
    out = ["<h2>Compared with the baseline</h2>"]
    out += [f'<p class="warn">{e(w)}</p>' for w in c.get("warnings", [])]
    rows = [("regression", r) for r in c.get("regressions", [])] + [("improvement", r) for r in c.get("improvements", [])]
    if rows:
        out.append('<table><thead><tr><th></th><th>test</th><th class="n">baseline</th><th class="n">this run</th><th class="n">change</th></tr></thead><tbody>')
        for kind, r in rows:
            cls = "bad" if kind == "regression" else "good"
            change = "n/a" if r.get("change") is None else f"{r['change']:+.0%}"
            out.append(
                f'<tr><td class="{cls}">{kind}</td><td><code>{e(r["nodeid"])}</code></td><td class=n>{e(format_energy(r["base_j"]))}</td>'
                f'<td class=n>{e(format_energy(r["head_j"]))}</td><td class="n {cls}">{e(change)}</td></tr>'
            )
        out.append("</tbody></table>")
    out.append(
        f"<p class=muted>{len(c.get('regressions', []))} regressed, {len(c.get('improvements', []))} improved,"
        f" {c.get('unchanged', 0)} unchanged, {len(c.get('new', []))} new, {len(c.get('removed', []))} removed,"
        f" {len(c.get('unknown', []))} not comparable. Thresholds: {c['max_regression']:.0%} and {e(format_energy(c['min_delta_j']))}.</p>"
    )
    return out


def trend_chart(values: list[float | None], shas: list[str | None], head: int, width: int = 520, height: int = 110) -> str:
    """One test's energy over runs as an inline SVG line: commits on the x axis, this run's
    point highlighted; an unknown value is a gap with a mark, never a 0."""
    known = [v for v in values if v is not None]
    if not known:
        return '<p class="muted">no known energy in these runs</p>'
    lo, hi = min(known), max(known)
    lo, hi = (lo * 0.9, hi * 1.1) if hi == lo else (lo, hi)
    left, right, top, bottom = 70, 10, 10, 28
    n = len(values)

    def x(i: int) -> float:
        return left + (width - left - right) * (i / (n - 1) if n > 1 else 0.5)

    def y(v: float) -> float:
        return top + (height - top - bottom) * (1 - (v - lo) / (hi - lo))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}">']
    out.append(f'<text x="{left - 6}" y="{top + 10}" text-anchor="end">{e(format_energy(hi))}</text>')
    out.append(f'<text x="{left - 6}" y="{height - bottom}" text-anchor="end">{e(format_energy(lo))}</text>')
    segment: list[str] = []
    for i, v in enumerate([*values, None]):
        if v is None:
            if len(segment) > 1:
                out.append(f'<polyline fill="none" stroke="#4a78b8" stroke-width="2" points="{" ".join(segment)}"/>')
            segment = []
            if i < n:
                out.append(f'<text x="{x(i):.1f}" y="{height - bottom - 4}" text-anchor="middle" class="muted">?<title>unknown energy</title></text>')
            continue
        segment.append(f"{x(i):.1f},{y(v):.1f}")
    for i, v in enumerate(values):
        if v is None:
            continue
        is_head = i == head
        label = f"{(shas[i] or 'no commit')[:10]}: {format_energy(v)}{' (this run)' if is_head else ''}"
        out.append(
            f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="{5 if is_head else 3}" fill="{"#b8504a" if is_head else "#4a78b8"}"><title>{e(label)}</title></circle>'
        )
    for i in sorted({0, n - 1}):
        out.append(f'<text x="{x(i):.1f}" y="{height - 8}" text-anchor="{"start" if i == 0 and n > 1 else "end"}">{e((shas[i] or "no commit")[:8])}{" (this run)" if i == head else ""}</text>')
    out.append("</svg>")
    return "".join(out)


def _trends_section(report: dict[str, Any], top: int) -> list[str]:
    h = report.get("history")
    if not isinstance(h, dict) or not h.get("tests_j"):
        return []
    shown = [t["nodeid"] for t in by_co2(report["tests"])[:top] if t["nodeid"] in h["tests_j"]]
    branch = h.get("branch") or "runs outside git"
    out = [
        f"<h2>Trends: the last {len(h['shas']) - 1} runs of {e(branch)} on this testbed, then this run</h2>",
        f'<p class="muted">Testbed: {e(h.get("testbed"))}. Energy per run; the red point is this run.</p>',
    ]
    for nodeid in shown:
        out.append(f"<h3><code>{e(nodeid)}</code></h3>{trend_chart(h['tests_j'][nodeid], h['shas'], int(h['head']))}")
    return out


def _whatif_section(report: dict[str, Any]) -> list[str]:
    w = report.get("whatif")
    if not w or not w.get("places"):
        return []
    own = (w.get("months") or {}).get("zone")
    places = w["places"]
    if len(places) > 30:  # the cleanest and dirtiest 15 and the run's own place
        keep = places[:15] + places[-15:] + [p for p in places[15:-15] if p["zone"] == own]
        places = sorted(keep, key=lambda p: p["g_per_kwh"])
    colors = {"here": "#d08c30", "elsewhere": "#4a78b8"}
    rows = [(p["zone"] + (" (coarse)" if p["coarse"] else ""), p["co2_g"], [("here" if p["zone"] == own else "elsewhere", p["co2_g"])]) for p in places]
    out = [
        "<h2>Where and when</h2>",
        f"<p>The same {w['energy_kwh']:.4g} kWh would emit {e(format_co2(w['cleanest']['co2_g']))} in {e(w['cleanest']['zone'])}"
        f" and {e(format_co2(w['dirtiest']['co2_g']))} in {e(w['dirtiest']['zone'])}: {w['ratio']:.3g}x.</p>",
        _bar_chart(rows, "{:.3g} g", colors),
    ]
    m = w.get("months")
    if m:
        rows = [(v["name"], v["co2_g"], [("elsewhere", v["co2_g"])]) for v in m["values"]]
        coarse = " (a small grid: month-to-month figures are coarse)" if m["coarse"] else ""
        out += [
            f"<p>In {e(m['zone'])} by month ({m['year']} profile, scaled to {m['scaled_to_g_per_kwh']:.4g} g/kWh){e(coarse)}:"
            f" best {e(m['best']['name'])}, worst {e(m['worst']['name'])}, {m['ratio']:.3g}x.</p>",
            _bar_chart(rows, "{:.3g} g", colors),
        ]
    out.append(f"<p class=muted>Data: {e(w['data'])}. Car: {CAR_G_PER_KM:g} g CO2eq/km.</p>")
    return out


def render(report: dict[str, Any], top: int = 20) -> str:
    run, totals = report["run"], report["totals"]
    i = run["intensity"]
    est = '<p class="warn">Estimated: at least one channel has no energy counter; its energy is a model (TDP x utilisation).</p>' if totals.get("estimated") else ""
    interrupted = '<p class="warn">Interrupted run: partial results.</p>' if run.get("interrupted") else ""
    warning = f'<p class="warn">{e(i["warning"])}</p>' if i.get("warning") else ""
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">',
        f"<title>pytest-carbon report</title><style>{CSS}</style></head><body>",
        "<h1>pytest-carbon report</h1>",
        f'<p class="muted">{e(run.get("started", ""))}, {e(format_duration(run.get("duration_s")))}, {len(report["tests"])} measured tests</p>',
        '<div class="totals">',
        f'<div class="card">CO2eq<b>{e(format_co2(totals["co2_g"]))}</b></div>',
        f'<div class="card">energy<b>{e(format_energy(totals["energy_j"]["total"]))}</b><span class=muted>{e(format_energy(totals["unattributed_j"]))} outside tests</span></div>',
        f'<div class="card">as driving<b>{e(format_distance(totals["car_km"]))}</b><span class=muted>{CAR_G_PER_KM:g} g/km</span></div>',
        f'<div class="card">intensity<b>{i["g_per_kwh"]:.4g} g/kWh</b><span class=muted>x PUE {run.get("pue", 1):g}</span></div>',
        "</div>",
        f"<p class=muted>Intensity source: {e(i['source'])}</p>",
        est,
        interrupted,
        warning,
        *_tests_section(report, top),
        *_budgets_section(report),
        *_comparison_section(report),
        *_trends_section(report, top),
        *_whatif_section(report),
        "<h2>Run</h2><table><tbody>",
    ]
    meta = [
        ("host", run.get("host")),
        ("platform", run.get("platform")),
        ("python / pytest / plugin", f"{run.get('python')} / {run.get('pytest')} / {run.get('plugin')}"),
        ("git", run.get("git_sha")),
        ("hardware", run.get("hardware")),
    ]
    for k, v in meta:
        if v:
            parts.append(f"<tr><th>{e(k)}</th><td><code>{e(v)}</code></td></tr>")
    for m in run.get("meters", []):
        parts.append(f"<tr><th>meter {e(m['channel'])}</th><td>{e(m['method'])}: {e(m.get('note', ''))}</td></tr>")
    parts.append("</tbody></table></body></html>")
    return "\n".join(p for p in parts if p)
