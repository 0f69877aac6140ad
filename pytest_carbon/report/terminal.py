"""The terminal summary: a rich table rendered from a report dict (a run's, or a saved one)."""

from __future__ import annotations

import io
from typing import Any

from ..budget import DISTURBED_SHARE, PASSING_METRICS
from ..units import CAR_G_PER_KM, J_PER_WH, format_co2, format_distance, format_duration, format_energy
from ..units import significant as _sig
from .view import by_co2, no_commands, per_item_text
from .verdicts import budget_use, from_dict, headline, violations_of


ENERGY_SCALE = (("mWh", J_PER_WH / 1e3), ("Wh", J_PER_WH), ("kWh", J_PER_WH * 1e3))
CO2_SCALE = (("mg", 1e-3), ("g", 1.0), ("kg", 1e3), ("t", 1e6))


def column_unit(values: list[float | None], ladder: tuple[tuple[str, float], ...]) -> tuple[str, float]:
    """One unit for a whole column: the largest in which the column's largest value is 1 or more."""
    top = max((abs(v) for v in values if v is not None), default=0.0)
    chosen = ladder[0]
    for unit in ladder:
        if top >= unit[1]:
            chosen = unit
    return chosen


def _g(x: float | None, scale: float = 1.0) -> str:
    """A table cell: 3 significant digits in the column's unit, never in scientific notation;
    '?' for unknown, never 0."""
    return "?" if x is None else _sig(x / scale, 3)


LEGEND = {
    "~": "~ shorter than the meter's resolution (approximate)",
    "est": "est  estimated, no energy counter",
    "gap": "gap  a meter failed during the window: energy unknown",
    "busy": f"busy  over {DISTURBED_SHARE:.0%} of the machine's busy CPU time in the window was other processes'",
}


def legend(flags: set[str]) -> str:
    """The legend of the flags the table shows, in a fixed order."""
    return "   ".join(text for flag, text in LEGEND.items() if flag in flags)


def _flags(w: dict[str, Any], approximate: bool = True) -> str:
    out = []
    if approximate and w.get("approximate"):
        out.append("~")
    if w.get("estimated"):
        out.append("est")
    if w.get("gaps_s"):
        out.append("gap")
    share = w.get("foreign_cpu_share")
    if isinstance(share, (int, float)) and share > DISTURBED_SHARE:
        out.append("busy")
    return " ".join(out)


def common_prefix(nodeids: list[str]) -> str:
    """The folder or file that every node id starts with (ending at '/' or '::'), or ''."""
    if len(nodeids) < 2:
        return ""
    import os.path

    p = os.path.commonprefix(nodeids)
    cut = max(p.rfind("/") + 1, p.rfind("::") + 2 if "::" in p else 0)
    return p[:cut]


def _use(budget: dict[str, Any] | None, co2_g: float | None, energy_j: float | None) -> Any:
    """Budget use cell: '62% -1.9 g', green under 80%, yellow under 100%, red over."""
    from rich.text import Text

    use = budget_use(budget, co2_g, energy_j)
    if use is None:
        return Text("")
    frac, margin = use
    style = "green" if frac < 0.8 else "yellow" if frac <= 1.0 else "bold red"
    return Text(f"{frac:.0%} {margin}", style=style)


def _whatif_lines(report: dict[str, Any], console: Any) -> None:
    from rich.text import Text

    w = report.get("whatif")
    if not w or not w.get("places"):
        return
    lo, hi = w["cleanest"], w["dirtiest"]
    n = len(w["places"])
    line = (
        f"Where: the same energy would emit {format_co2(lo['co2_g'])} in {lo['zone']} (cleanest of {n},"
        f" {format_distance(lo['car_km'])} by car) and {format_co2(hi['co2_g'])} in {hi['zone']} (dirtiest,"
        f" {format_distance(hi['car_km'])} by car), {w['ratio']:.3g}x"
    )
    m = w.get("months")
    if m:
        b, wo = m["best"], m["worst"]
        coarse = ", a small grid: coarse" if m["coarse"] else ""
        line += (
            f"; when: in {m['zone']}, {format_co2(b['co2_g'])} in {b['name']} and {format_co2(wo['co2_g'])}"
            f" in {wo['name']} ({m['ratio']:.3g}x, {m['year']} profile{coarse})"
        )
    console.print(Text(line + f". Data: {w['data']}.", style="cyan"))


def _budget_lines(report: dict[str, Any], console: Any) -> None:
    from rich.text import Text

    b = report.get("budgets")
    if not b or b.get("mode") == "off":
        return
    mode = b["mode"]
    over = b.get("tests_over_budget", [])
    if b.get("tests_with_budget") or over:
        n = b.get("tests_with_budget", 0)
        style = "red" if over else "green"
        verdict = f"{len(over)} over it" if over else "none over it"
        console.print(Text(f"Budgets ({mode}): {n} test{'s' if n != 1 else ''} with a budget, {verdict}", style=style))
    for t in report["tests"]:
        for d in violations_of(t):
            if d["metric"] in PASSING_METRICS:
                console.print(Text(f"{t['nodeid']}: {headline(from_dict(d))}", style="yellow"))
            elif mode == "warn":
                console.print(Text(f"WARN {t['nodeid']}: {headline(from_dict(d))}", style="yellow"))
    for d in b.get("session_violations", []):
        v = from_dict(d)
        word = "" if v.metric in PASSING_METRICS else ("FAIL " if mode == "enforce" else "WARN ")
        console.print(Text(word + headline(v), style="bold red" if word == "FAIL " else "yellow"))
    if b.get("session") and not b.get("session_violations"):
        tot = report["totals"]
        use = budget_use(b["session"], tot["co2_g"], tot["energy_j"]["total"])
        if use:
            console.print(Text(f"Session budget: {use[0]:.0%} used ({use[1].lstrip('-')} to spare)", style="green"))


def _projections(report: dict[str, Any], console: Any, prefix: str) -> None:
    from rich.table import Table
    from rich.text import Text

    rows = [(t, p) for t in report["tests"] for p in t.get("projections", [])]
    if not rows:
        return
    console.print(Text("Projections: measured cost per item x items in a full run (extrapolated, not measured)"))
    table = Table(show_edge=False, pad_edge=False)
    table.add_column("test", overflow="fold", ratio=1, min_width=12)
    table.add_column("full run", overflow="fold")
    table.add_column("per item", justify="right", no_wrap=True)
    table.add_column("energy", justify="right", no_wrap=True)
    table.add_column("CO2eq", justify="right", no_wrap=True)
    table.add_column("by car", justify="right", no_wrap=True)
    for t, p in rows:
        name = t["nodeid"][len(prefix) :] if prefix and t["nodeid"].startswith(prefix) else t["nodeid"]
        energy, co2 = format_energy(p["energy_j"]), format_co2(p["co2_g"])
        ci, ci_co2 = p.get("energy_j_ci95"), p.get("co2_g_ci95")
        if ci and ci_co2:  # the per-item 95% interval, extrapolated alike
            energy += f" [{format_energy(ci[0])} - {format_energy(ci[1])}]"
            co2 += f" [{format_co2(ci_co2[0])} - {format_co2(ci_co2[1])}]"
        table.add_row(Text(name), Text(p["label"]), format_energy(p["energy_j_per_item"]), energy, co2, format_distance(p["car_km"]))
    console.print(table)


LOG_WIDTH = 400  # columns for a log: wider than any table row in practice
MAX_PHASES = 20  # phases shown under a test, the costliest first when it has more


def render(report: dict[str, Any], console: Any, top: int = 10) -> None:
    """Print the summary of ``report`` on a rich console."""
    from rich.table import Table
    from rich.text import Text

    run, totals = report["run"], report["totals"]
    tests = by_co2(report["tests"])
    shown = tests[:top] if top else []
    # A session's report for its terminal lists only the tests shown (and those with
    # violations or projections); its totals count them all.
    counted = totals.get("tests")
    n_tests = counted if isinstance(counted, int) and counted >= len(tests) else len(tests)
    prefix = ""
    present: set[str] = set()  # the flags the table shows, for its legend
    if shown:
        title = f"Carbon: top {len(shown)} of {n_tests} measured tests by CO2eq"
        if len(shown) == n_tests:
            title = f"Carbon: {n_tests} measured test{'s' if n_tests != 1 else ''} by CO2eq"
        prefix = common_prefix([t["nodeid"] for t in shown])
        if len(prefix) >= 8:
            title += f", in {prefix}"
        else:
            prefix = ""
        console.print(Text(title))  # a line of its own: a table's title wraps at the table's width
        table = Table(expand=False, show_edge=False, pad_edge=False)
        rows = [w for t in shown for w in (t, *t.get("phases", []))]
        e_unit, e_scale = column_unit([w["energy_j"]["total"] for w in rows], ENERGY_SCALE)
        c_unit, c_scale = column_unit([w.get("co2_g") for w in rows], CO2_SCALE)
        n_approx = totals.get("approximate_tests")
        if not isinstance(n_approx, int):  # a report written before totals counted them
            n_approx = sum(1 for t in tests if t.get("approximate"))
        # Most rows short (a unit-test suite): one line says so instead of a flag on each row.
        per_row_approx = 2 * sum(1 for t in shown if t.get("approximate")) <= len(shown)
        table.add_column("test", overflow="fold", ratio=1, min_width=12)
        table.add_column("time", justify="right", no_wrap=True)
        table.add_column(e_unit, justify="right", no_wrap=True)
        table.add_column(f"{c_unit} CO2eq", justify="right", no_wrap=True)
        with_budget = any(t.get("budget") for t in shown) or any(
            p.get("budget") or p.get("item_budget") for t in shown for p in t.get("phases", [])
        )
        if with_budget:
            table.add_column("budget", justify="right", no_wrap=True)
        table.add_column("flags", no_wrap=True)
        for t in shown:
            flags = Text()
            if t.get("outcome") not in (None, "passed"):
                bad = t["outcome"] in ("failed", "error")
                flags.append(t["outcome"] + " ", style="red" if bad else "yellow")
            if t.get("attempts"):
                flags.append(f"{len(t['attempts'])} attempts ", style="yellow")
            flags.append(_flags(t, per_row_approx))
            cells: list[Any] = [Text(t["nodeid"][len(prefix) :]), format_duration(t["duration_s"]), _g(t["energy_j"]["total"], e_scale), _g(t["co2_g"], c_scale)]
            if with_budget:
                judged = t.get("budget_judged") or {}
                cells.append(_use(t.get("budget"), judged.get("co2_g", t["co2_g"]), judged.get("energy_j", t["energy_j"]["total"])))
            table.add_row(*cells, flags)
            phases = t.get("phases", [])
            if len(phases) > MAX_PHASES:  # the costliest ones; the JSON report keeps them all
                phases = by_co2(phases)[:MAX_PHASES]
            for p in phases:
                label = f"  - {p['name']}"
                if p.get("items"):
                    label += f" x{p['items']}" + per_item_text(p)
                cells = [Text(label, style="dim"), format_duration(p["duration_s"]), _g(p["energy_j"]["total"], e_scale), _g(p["co2_g"], c_scale)]
                if with_budget:
                    if p.get("budget") or not p.get("item_budget"):
                        cells.append(_use(p.get("budget"), p["co2_g"], p["energy_j"]["total"]))
                    else:  # the per-item budget, judged per item (after the warm-up, where steps were marked)
                        per = p.get("per_item") or {}
                        if per.get("mean_j") is not None:
                            cell = _use(p["item_budget"], per.get("mean_co2_g"), per["mean_j"])
                        else:
                            cell = _use(p["item_budget"], p.get("co2_g_per_item"), p.get("energy_j_per_item"))
                        cells.append(cell + "/item" if cell.plain else cell)
                table.add_row(*cells, _flags(p, per_row_approx), style="dim")
            hidden = len(t.get("phases", [])) - len(phases)
            if hidden:
                more = [Text(f"  ... and {hidden:,} more phases (all in the JSON report)", style="dim")]
                table.add_row(*more, *([""] * (len(table.columns) - 1)))
        console.print(table)
        present = {f for t in shown for w in (t, *t.get("phases", [])) for f in _flags(w, per_row_approx).split()}
        if not per_row_approx:
            console.print(Text(
                f"~ {n_approx:,} of {n_tests:,} measured tests are shorter than their meters' resolution:"
                " their figures are approximate (not flagged row by row)", style="dim",
            ))  # fmt: skip
    elif not n_tests:
        console.print(Text("Carbon: no test was measured"))
    _projections(report, console, prefix if shown else "")
    e = totals["energy_j"]["total"]
    console.print(Text(
        f"Total: {format_energy(e)} measured over {format_duration(run['duration_s'])}:"
        f" {format_energy(totals['attributed_j'])} in tests,"
        f" {format_energy(totals['unattributed_j'])} outside tests (collection, idle, wider fixtures)"
        + (
            f", {format_energy(totals['incomplete_j'])} in tests with meter gaps"
            if totals.get("incomplete_j")
            else ""
        )
    ))
    est = " (estimated)" if totals.get("estimated") else ""
    console.print(Text(
        f"CO2eq: {format_co2(totals['co2_g'])}{est}, as much as driving {format_distance(totals['car_km'])}"
        f" in an average new EU car ({CAR_G_PER_KM:g} g/km)"
    ))
    i = run["intensity"]
    console.print(Text(f"Intensity: {i['g_per_kwh']:.4g} g/kWh x PUE {run['pue']:g}, {i['source']}"))
    if i.get("warning"):
        console.print(Text(f"Warning: {i['warning']}", style="yellow"))
    for m in run["meters"]:
        hw = f" [{m['hardware']}]" if m.get("hardware") else ""
        console.print(Text(f"Meter {m['channel']}: {m['method']}{hw}, {m['note']}", style="dim"))
    for note in run.get("meter_notes", []):
        console.print(Text(f"  not used: {note}", style="dim"))
    errors = run.get("meter_errors", [])
    if errors:
        first = errors[0]
        console.print(
            Text(
                f"Meter failures: {len(errors)} failed reading(s), first at {first['t_s']:.2f} s"
                f" ({first['meter']}: {first['error']}); energy in those gaps is unknown",
                style="red",
            )
        )
    _whatif_lines(report, console)
    _budget_lines(report, console)
    if present:  # the legend of the flags shown
        console.print(Text(legend(present), style="dim"))


def _console(buf: io.StringIO, width: int, markup: bool) -> Any:
    """A rich console writing into ``buf`` with pytest's width and markup decision."""
    from rich.console import Console

    return Console(
        file=buf,
        width=max(width, 40),
        force_terminal=markup,
        no_color=not markup,
        color_system="standard" if markup else None,
        highlight=False,
        emoji=False,
        soft_wrap=False,
    )


def render_text(report: dict[str, Any], *, width: int, markup: bool, top: int = 10) -> str:
    buf = io.StringIO()
    render(report, _console(buf, width, markup), top=top)
    return buf.getvalue()


def write_summary(terminalreporter: Any, report: dict[str, Any], *, top: int, messages: list[str]) -> None:
    tw = terminalreporter.config.get_terminal_writer()  # width and markup as pytest decided
    terminalreporter.write_sep("=", "carbon")
    # A log (no terminal) does not wrap: lay the table out as wide as its content needs, so
    # that no node id is split across lines.
    width = tw.fullwidth if getattr(terminalreporter, "isatty", tw.hasmarkup) else LOG_WIDTH
    try:
        text = render_text(report, width=width, markup=tw.hasmarkup, top=top)
    except Exception as e:  # a display bug must not hide the run's result or lose the report
        text = f"ERROR: the carbon table could not be drawn ({type(e).__name__}: {e}); the JSON report is unaffected\n"
    terminalreporter.write(no_commands(text))
    for m in messages:
        terminalreporter.write_line(no_commands(m), red=m.startswith(("ERROR", "FAIL")))
