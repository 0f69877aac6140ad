"""The PR comment: one sticky comment for every runner, leading with the decision.

Order: the decision in one line (pass or fail, and why); the three largest changes in energy
across the runners, with the two runs' combined noise where the reports measured it; advice
drawn only from what the reports hold (the same energy in the cleanest and dirtiest place
and in the best and worst month of the runner's place; the cheapest setting per item where
a phase was measured under several settings, as in a sampler or steps sweep); then each
runner's full summary in a collapsed ``<details>`` block naming the runner and its hardware.
A runner whose report is missing is listed as missing. The whole stays under GitHub's
65,536-character limit for any suite: the collapsed blocks are cut first, with a count.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any, Sequence

from ..compare import Comparison
from ..units import format_co2, format_energy
from .github import COMMENT_MARKER, md, summary_markdown

LIMIT = 65_536  # GitHub's largest comment body, in characters
_MARGIN = 512  # kept free for the closing lines


@dataclass(frozen=True)
class Runner:
    name: str
    report: dict[str, Any] | None  # None: the runner's report is missing
    why_missing: str = ""


def _hardware(report: dict[str, Any]) -> str:
    hw = (report.get("run") or {}).get("hardware") or {}
    gpus = hw.get("gpus") or []
    return f"{hw.get('cpu') or 'unknown CPU'}{' + ' + ', '.join(map(str, gpus)) if gpus else ', no GPU'}"


def _failures(name: str, report: dict[str, Any]) -> list[str]:
    """Why this runner's report fails the gate: regressions and enforced budgets."""
    why = []
    c = report.get("comparison") or {}
    for r in c.get("regressions") or []:
        change = r.get("change")
        why.append(f"{md(r['nodeid'])} regressed{'' if change is None else f' {change:+.0%}'} on {md(name)}")
    b = report.get("budgets") or {}
    if b.get("mode") == "enforce":
        for nodeid in b.get("tests_over_budget") or []:
            why.append(f"{md(nodeid)} is over its budget on {md(name)}")
        if b.get("session_violations"):
            why.append(f"the session is over its budget on {md(name)}")
    failed = [t["nodeid"] for t in report.get("tests") or [] if t.get("outcome") in ("failed", "error")]
    if failed:
        why.append(f"{len(failed)} measured test(s) failed on {md(name)}")
    return why


def decision(runners: Sequence[Runner]) -> str:
    why: list[str] = []
    for r in runners:
        if r.report is not None:
            why += _failures(r.name, r.report)
    missing = [r.name for r in runners if r.report is None]
    if why:
        shown = "; ".join(why[:3]) + (f"; and {len(why) - 3} more" if len(why) > 3 else "")
        return f"**Carbon: fail**: {shown}."
    compared = [r.name for r in runners if r.report is not None and r.report.get("comparison")]
    basis = f"no regression against the baseline on {', '.join(map(md, compared))}" if compared else "no baseline to compare with"
    tail = f"; report missing from {', '.join(map(md, missing))}, so it was not judged" if missing else ""
    verdict = "**Carbon: pass**" if not missing else "**Carbon: pass on the runners that reported**"
    return f"{verdict}: {basis}, no enforced budget over{tail}."


def largest_changes(runners: Sequence[Runner], n: int = 3) -> list[str]:
    rows = []
    for r in runners:
        c = (r.report or {}).get("comparison") or {}
        for ch in c.get("largest") or [*(c.get("regressions") or []), *(c.get("improvements") or [])]:
            if ch.get("delta_j") is not None:
                rows.append((abs(ch["delta_j"]), r.name, ch))
    rows.sort(key=lambda x: -x[0])
    out = []
    for _, name, ch in rows[:n]:
        noise = "" if ch.get("noise_j") is None else f", noise ±{format_energy(ch['noise_j'])} (95%)"
        how = f", {md(ch['decided_by'])}" if ch.get("decided_by") else ""
        change = "" if ch.get("change") is None else f" ({ch['change']:+.0%})"
        out.append(f"- {md(ch['nodeid'])} on {md(name)}: {format_energy(ch['base_j'])} → {format_energy(ch['head_j'])}{change}{noise}{how}")
    return out


def _place_advice(name: str, report: dict[str, Any]) -> list[str]:
    w = report.get("whatif") or {}
    out = []
    energy_kwh = w.get("energy_kwh")
    c, d = w.get("cleanest"), w.get("dirtiest")
    if c and d and c.get("co2_g") is not None and d.get("co2_g") is not None and energy_kwh:
        out.append(
            f"- Place ({md(name)}): this run's {format_energy(energy_kwh * 3.6e6)} would emit {format_co2(c['co2_g'])} in"
            f" {md(c['zone'])} (the cleanest of the places compared) and {format_co2(d['co2_g'])} in {md(d['zone'])} (the"
            f" dirtiest), {w.get('ratio', 0):.3g}x."
        )
    m = w.get("months") or {}
    best, worst = m.get("best"), m.get("worst")
    if best and worst and best.get("co2_g") is not None and worst.get("co2_g") is not None:
        out.append(
            f"- Season ({md(name)}): in {md(str(m.get('zone')))}, the same energy emits {format_co2(best['co2_g'])} in"
            f" {md(best['name'])} and {format_co2(worst['co2_g'])} in {md(worst['name'])} ({m.get('ratio', 0):.3g}x; {md(w.get('data', ''))})."
        )
    return out


def _sweep_advice(name: str, report: dict[str, Any]) -> list[str]:
    """Where one phase was measured under several settings (a test's ``info`` with a sampler
    or step count, as the workloads' sweeps record), the cheapest per item and its saving."""
    groups: dict[tuple[Any, ...], list[tuple[str, float, str]]] = {}
    for t in report.get("tests") or []:
        info = t.get("info") or {}
        setting = [f"{k}={info[k]}" for k in ("sampler", "denoising_steps", "batch", "precision") if k in info]
        if "sampler" not in info and "denoising_steps" not in info:
            continue
        for p in t.get("phases") or []:
            per = p.get("energy_j_per_item")
            if per is None:
                continue
            key = (info.get("preset"), info.get("dims"), p.get("name"))
            groups.setdefault(key, []).append((", ".join(setting), float(per), t["nodeid"]))
    out = []
    for (preset, dims, phase), rows in sorted(groups.items(), key=lambda kv: str(kv[0])):
        settings = {s for s, _, _ in rows}
        if len(settings) < 2:
            continue
        rows.sort(key=lambda r: r[1])
        (cheap, cheap_j, _), (dear, dear_j, _) = rows[0], rows[-1]
        what = " ".join(str(x) for x in (preset, f"{dims}D" if dims else None, phase) if x)
        out.append(
            f"- Settings ({md(name)}, {md(what)}): the cheapest per item is {md(cheap)}, {format_energy(cheap_j)}/item,"
            f" {1 - cheap_j / dear_j:.0%} less than {md(dear)} ({format_energy(dear_j)}/item) among the {len(settings)} measured;"
            " the reports do not measure output quality, so whether it is good enough is for the reader."
        )
    return out


def advice(runners: Sequence[Runner]) -> list[str]:
    out: list[str] = []
    for r in runners:
        if r.report is not None:
            out += _place_advice(r.name, r.report) + _sweep_advice(r.name, r.report)
    return out


def _details(r: Runner, top: int) -> list[str]:
    assert r.report is not None
    # HTML, where markdown escapes would show: escaped for HTML, and @ kept from notifying
    name, hw = (html.escape(x).replace("@", "@&#8203;") for x in (r.name, _hardware(r.report)))
    head = f"<details><summary><b>{name}</b>: {hw}</summary>"
    cmp = r.report.get("comparison")
    body = summary_markdown(r.report, Comparison.from_dict(cmp) if cmp else None, top).splitlines()
    return [head, "", *body, "", "</details>", ""]


def render(runners: Sequence[Runner], top: int = 10, limit: int = LIMIT) -> str:
    """The comment body, marker first, at most ``limit`` characters."""
    lines = [COMMENT_MARKER, decision(runners), ""]
    changes = largest_changes(runners)
    lines += ["**Largest changes in energy**", *(changes or ["- no test was compared with a baseline"]), ""]
    adv = advice(runners)
    if adv:
        lines += ["**Advice** (from what these reports measured)", *adv, ""]
    for r in runners:
        if r.report is None:
            lines += [f"**{md(r.name)}**: report missing{f' ({md(r.why_missing)})' if r.why_missing else ''}; this runner was not judged.", ""]
    head = "\n".join(lines) + "\n"
    if len(head) > limit // 2:  # pathological node ids: the decision stays, the rest is cut
        head = head[: limit // 2] + "\n… (cut: GitHub's comment limit)\n"
    budget = limit - len(head) - _MARGIN
    out: list[str] = []
    cut, full = 0, False
    for block in (_details(r, top) for r in runners if r.report is not None):
        if full:
            cut += len(block)
            continue
        for i, line in enumerate(block):
            if len(line) + 1 > budget:
                rest = block[i:]
                cut += len(rest)
                if i > 0 and "</details>" in rest:  # close the block that is open
                    out += [f"… {len(rest)} more lines not shown", "</details>", ""]
                full = True
                break
            out.append(line)
            budget -= len(line) + 1
    text = head + "\n".join(out)
    if cut:
        text += f"\n<sub>Cut to fit GitHub's {limit:,}-character comment limit: {cut} lines left out; the reports have everything.</sub>\n"
    return text
