"""``pytest-carbon`` console script: ``show REPORT.json``."""

from __future__ import annotations

import argparse
from typing import Any
import sys

from .report import json_report


def _show(args: argparse.Namespace) -> int:
    from rich.console import Console

    from .report.terminal import render

    try:
        report = json_report.load(args.report)
    except json_report.ReportError as e:
        print(f"pytest-carbon: {e}", file=sys.stderr)
        return 4
    try:
        render(report, Console(highlight=False, emoji=False), top=args.top)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        print(f"pytest-carbon: {args.report}: a field is missing or has the wrong type ({type(e).__name__}: {e}); the file is damaged", file=sys.stderr)
        return 4
    return 0


def _fail(msg: str) -> int:
    print(f"pytest-carbon: {msg}", file=sys.stderr)
    return 4


def _thresholds(args: argparse.Namespace) -> tuple[float, float] | str:
    from .units import UnitError, parse_energy_j, parse_percent

    try:
        pct = parse_percent(args.max_regression)
    except UnitError as e:
        return f"--max-regression {args.max_regression}: {e} (e.g. 10%)"
    try:
        floor = parse_energy_j(args.min_delta)
    except UnitError as e:
        return f"--min-delta {args.min_delta}: {e} (e.g. 50J)"
    return pct, floor


def _compare(args: argparse.Namespace) -> int:
    from .compare import compare
    from .report.github import comparison_markdown

    th = _thresholds(args)
    if isinstance(th, str):
        return _fail(th)
    try:
        base, head = json_report.load(args.base), json_report.load(args.head)
        c = compare(base, head, *th)
    except json_report.ReportError as e:
        return _fail(str(e))
    except (KeyError, TypeError, AttributeError) as e:
        return _fail(f"a report is damaged: field {e} is missing or has the wrong type")
    if args.markdown:
        print("\n".join(comparison_markdown(c)))
    else:
        from rich.console import Console

        from .report.comparison import render_comparison

        render_comparison(c, Console(highlight=False, emoji=False))
    return 1 if c.failed else 0


def _merge(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .merge import merge

    try:
        shards = [(str(p), json_report.load(p)) for p in args.reports]
        merged = merge(shards)
    except (json_report.ReportError, ValueError) as e:
        return _fail(str(e))
    except (KeyError, TypeError, AttributeError) as e:
        return _fail(f"a report is damaged: field {e} is missing or has the wrong type")
    try:
        json_report.write_atomic(Path(args.output), merged)
    except OSError as e:
        return _fail(f"{args.output}: cannot be written ({e})")
    t = merged["totals"]
    print(f"merged {len(shards)} reports, {t['tests']} tests, {t['energy_j']['total']:.6g} J, {t['co2_g']:.6g} g CO2eq -> {args.output}")
    return 0


def _whatif(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from . import whatif
    from .units import J_PER_KWH, format_co2

    try:
        report = json_report.load(args.report)
        energy = float(report["totals"]["energy_j"]["total"])
        pue = float(report["run"].get("pue", 1.0))
        zones = [whatif.check_zone(z) for z in [*(args.country or []), *(args.region or [])]]
        months = [whatif.check_month(m) for m in (args.month or [])]
    except json_report.ReportError as e:
        return _fail(str(e))
    except whatif.WhatIfError as e:
        return _fail(str(e))
    except (KeyError, TypeError, ValueError) as e:
        return _fail(f"{args.report}: a field is missing or has the wrong type ({e}); the file is damaged")
    if not zones:
        i = report["run"].get("intensity", {})
        own = whatif.zone_of(i.get("country"), i.get("region"))
        if own is None:
            return _fail("name places with --country ISO3 or --region US-CA (the report's run has no place of its own)")
        zones = [own]
    kwh = energy / J_PER_KWH * pue
    table = Table(
        title=f"The run's {kwh:.4g} kWh (PUE {pue:g} included) elsewhere and at other times",
        title_justify="left",
        show_edge=False,
        pad_edge=False,
    )
    table.add_column("place")
    table.add_column("level", justify="right")
    for m in months or [0]:
        table.add_column("year" if m == 0 else whatif.MONTHS[m - 1], justify="right")
    for lv, co2 in whatif.grid(energy, pue, zones, months or [0]):
        cells: list[Any] = [Text(lv.zone + (" (coarse)" if lv.coarse else "")), f"{lv.g_per_kwh:.4g} g/kWh"]
        table.add_row(*cells, *map(format_co2, co2))
    console = Console(highlight=False, emoji=False)
    console.print(table)
    console.print(Text(f"Levels: Ember yearly (countries) or monthly mean (states); months: Ember's seasonal profile. {whatif.VINTAGE}."))
    return 0


def _html(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .report import html

    try:
        text = html.render(json_report.load(args.report), top=args.top)
    except json_report.ReportError as e:
        return _fail(str(e))
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        return _fail(f"{args.report}: a field is missing or has the wrong type ({type(e).__name__}: {e}); the file is damaged")
    try:
        Path(args.output).write_text(text, encoding="utf-8")
    except OSError as e:
        return _fail(f"{args.output}: cannot be written ({e})")
    print(f"HTML report written to {args.output}")
    return 0


def _top(v: str) -> int:
    from .units import UnitError, parse_count

    try:
        return parse_count(v, "a whole number of tests")
    except UnitError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pytest-carbon", description="Read pytest-carbon reports.")
    sub = parser.add_subparsers(dest="command", required=True)
    show = sub.add_parser("show", help="print a report's summary table")
    show.add_argument("report", help="a JSON report written with --carbon-json")
    show.add_argument("--top", type=_top, default=10, help="tests in the table (default 10)")
    show.set_defaults(func=_show)
    cmp = sub.add_parser("compare", help="compare a report with a baseline; exit 1 on a regression")
    cmp.add_argument("base", help="the baseline report (e.g. main's)")
    cmp.add_argument("head", help="the report to judge")
    cmp.add_argument("--markdown", action="store_true", help="print markdown (for a job summary or PR comment)")
    cmp.add_argument("--max-regression", default="10%", help="relative growth allowed (default 10%%)")
    cmp.add_argument("--min-delta", default="50J", help="absolute growth below which nothing regresses (default 50J)")
    cmp.set_defaults(func=_compare)
    mrg = sub.add_parser("merge", help="join shard reports into one")
    mrg.add_argument("reports", nargs="+", help="reports to join")
    mrg.add_argument("-o", "--output", required=True, help="the merged report to write")
    mrg.set_defaults(func=_merge)
    wi = sub.add_parser("whatif", help="a saved run's CO2 in other places and months")
    wi.add_argument("report", help="a JSON report")
    wi.add_argument("--country", action="append", metavar="ISO3", help="a country (repeatable)")
    wi.add_argument("--region", action="append", metavar="CODE", help="a US or Indian state, e.g. US-CA, IN-KA (repeatable)")
    wi.add_argument("--month", action="append", metavar="N", help="a month, 1-12 or Jan-Dec (repeatable)")
    wi.set_defaults(func=_whatif)
    ht = sub.add_parser("html", help="a self-contained HTML report from a saved report")
    ht.add_argument("report", help="a JSON report")
    ht.add_argument("-o", "--output", required=True, help="the HTML file to write")
    ht.add_argument("--top", type=_top, default=20, help="tests in the chart (default 20)")
    ht.set_defaults(func=_html)
    from .cli_comment import add_parser as add_comment
    from .cli_history import add_parsers

    add_parsers(sub)
    add_comment(sub)
    # history's positionals may come after its options (history import --store S A.json B.json)
    args, extra = parser.parse_known_args(argv)
    if extra and getattr(args, "command", None) == "history" and not any(a.startswith("-") for a in extra):
        args.args += extra
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
