"""``pytest-carbon`` console script: ``show REPORT.json``."""

from __future__ import annotations

import argparse
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


def _top(v: str) -> int:
    try:
        n = int(v)
    except ValueError:
        n = -1
    if n < 0:
        raise argparse.ArgumentTypeError(f"{v!r} is not a whole number of tests (0 or more)")
    return n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pytest-carbon", description="Read pytest-carbon reports.")
    sub = parser.add_subparsers(dest="command", required=True)
    show = sub.add_parser("show", help="print a report's summary table")
    show.add_argument("report", help="a JSON report written with --carbon-json")
    show.add_argument("--top", type=_top, default=10, help="tests in the table (default 10)")
    show.set_defaults(func=_show)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
