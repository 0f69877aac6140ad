"""``pytest-carbon history``: the store's tests over runs, and ``history import`` to backfill it."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Sequence

from .cli import _fail
from .history.stats import sparkline, trend
from .history.store import Point, RunRow, Store, StoreError, open_store


def add_parsers(sub: Any) -> None:
    h = sub.add_parser(
        "history",
        help="tests over the stored runs (sparkline, trend, change); 'history import' backfills from reports",
        description="pytest-carbon history [STORE] [options], or pytest-carbon history import [--store STORE] REPORT.json...",
    )
    h.add_argument("args", nargs="*", metavar="STORE | import REPORT...", help="the store (a SQLite file or a postgresql:// URL); default: history under [tool.pytest-carbon]")
    h.add_argument("--store", help="the store, for import (default: history under [tool.pytest-carbon])")
    h.add_argument("--branch", help="runs of this branch only (default: every branch); for import: the reports' branch")
    h.add_argument("--testbed", help="runs on the testbed containing this text (default: the newest run's testbed)")
    h.add_argument("--test", metavar="NODEID", help="one test's runs, one row each")
    h.add_argument("--last", type=int, default=10, help="runs per test in the sparkline (default 10)")
    h.add_argument("--since", metavar="SHA|DATE", help="the change since the first run at this commit (or on this date, YYYY-MM-DD)")
    h.add_argument("--json", action="store_true", help="print JSON for machines instead of a table")
    h.set_defaults(func=run)


def _default_store() -> str | None:
    from .config import ConfigError, read_pyproject

    path = Path("pyproject.toml")
    if not path.is_file():
        return None
    try:
        value = read_pyproject(path).get("history")
    except ConfigError:
        return None
    return value if isinstance(value, str) else None


def run(args: argparse.Namespace) -> int:
    if args.last < 1:
        return _fail("--last must be 1 or more")
    if args.args[:1] == ["import"]:
        return _import(args.store or _default_store(), args.args[1:], args.branch)
    if len(args.args) > 1:
        return _fail(f"one store, not {len(args.args)}: pytest-carbon history STORE (or history import REPORT...)")
    target = args.args[0] if args.args else args.store or _default_store()
    if not target:
        return _fail("name the store: pytest-carbon history PATH (or history = \"PATH\" under [tool.pytest-carbon])")
    try:
        with open_store(target, create=False) as store:
            return _show(store, args)
    except StoreError as e:
        return _fail(str(e))


def _import(target: str | None, reports: Sequence[str], branch: str | None) -> int:
    from .report import json_report

    if not target:
        return _fail("name the store: pytest-carbon history import --store PATH REPORT... (or history under [tool.pytest-carbon])")
    if not reports:
        return _fail("name the reports to import: pytest-carbon history import --store PATH REPORT.json...")
    loaded = []
    for r in reports:  # every report checked before any is written
        try:
            loaded.append((r, json_report.load(r)))
        except json_report.ReportError as e:
            return _fail(str(e))
    added = 0
    try:
        with open_store(target) as store:
            for name, report in loaded:
                try:
                    added += store.add_run(report, branch=branch)
                except (KeyError, TypeError, AttributeError) as e:
                    return _fail(f"{name}: a field is missing or has the wrong type ({type(e).__name__}: {e}); {added} report(s) imported before it")
    except StoreError as e:
        return _fail(f"{e} ({added} report(s) imported before it)")
    print(f"imported {added} run(s) into {target}; {len(loaded) - added} already there")
    return 0


def _pick_testbed(runs: list[RunRow], wanted: str | None) -> tuple[list[RunRow], str, list[str]]:
    """The runs of one testbed: containing ``wanted``, else the newest run's; (runs, it, others)."""
    beds = list(dict.fromkeys(r.testbed for r in reversed(runs)))
    if wanted is not None:
        chosen = [b for b in beds if wanted in b]
        if not chosen:
            raise StoreError(f"no testbed contains {wanted!r}; the store has: {'; '.join(beds)}")
        bed = chosen[0]
    else:
        bed = beds[0]
    return [r for r in runs if r.testbed == bed], bed, [b for b in beds if b != bed]


def _since(runs: list[RunRow], since: str) -> RunRow:
    for r in runs:
        if (r.git_sha or "").startswith(since) or r.started[:10] >= since and since[:4].isdigit() and "-" in since:
            return r
    raise StoreError(f"--since {since}: no run at that commit or on or after that date")


def _energy(j: float | None) -> str:
    from .units import format_energy

    return "n/a" if j is None else str(format_energy(j))


def _show(store: Store, args: argparse.Namespace) -> int:
    runs = store.runs(branch=args.branch)
    if not runs:
        return _fail(f"{store.where}: no run stored{f' on branch {args.branch}' if args.branch else ''}")
    runs, bed, others = _pick_testbed(runs, args.testbed)
    since = _since(runs, args.since) if args.since else None
    series = store.series(runs, args.test)
    if args.test is not None and args.test not in series:
        return _fail(f"{args.test}: no such test in the runs of this testbed")
    doc = _document(runs, series, bed, others, args.last, since)
    if args.json:
        json.dump(doc, sys.stdout, indent=2)
        print()
        return 0
    _print(doc, args.test is not None)
    return 0


def _document(runs: list[RunRow], series: dict[str, list[Point]], bed: str, others: list[str], last: int, since: RunRow | None) -> dict[str, Any]:
    tests = []
    for nodeid, points in sorted(series.items()):
        recent = points[-last:]
        values = [p.energy_j for p in recent]
        base = None
        if since is not None:
            base = next((p.energy_j for p in points if p.run.id >= since.id and p.energy_j is not None), None)
        latest = points[-1].energy_j
        tests.append({
            "nodeid": nodeid,
            "runs": len(points),
            "energy_j": values,
            "shas": [p.run.git_sha for p in recent],
            "sparkline": sparkline(values),
            "latest_j": latest,
            "trend_per_run": trend(values),
            "since_j": base,
            "change_since": None if not base or latest is None else latest / base - 1,
            "rows": [
                {"started": p.run.started, "git_sha": p.run.git_sha, "branch": p.run.branch, "outcome": p.outcome,
                 "energy_j": p.energy_j, "co2_g": p.co2_g, "duration_s": p.duration_s}
                for p in points
            ],
        })  # fmt: skip
    return {"testbed": bed, "other_testbeds": others, "runs": len(runs), "since": None if since is None else since.git_sha or since.started, "tests": tests}


def _print(doc: dict[str, Any], one: bool) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from .report.terminal import LOG_WIDTH

    # A log does not wrap: as wide as the content needs, so that no node id is split.
    console = Console(highlight=False, emoji=False, width=None if sys.stdout.isatty() else LOG_WIDTH)
    console.print(Text(f"{doc['runs']} runs on testbed {doc['testbed']}"))
    if doc["other_testbeds"]:
        console.print(Text(f"other testbeds, not comparable, left out (--testbed TEXT picks one): {'; '.join(doc['other_testbeds'])}", style="yellow"))
    if one:
        t = doc["tests"][0]
        table = Table(title=t["nodeid"], title_justify="left", show_edge=False, pad_edge=False)
        for col in ("started", "commit", "branch", "outcome", "energy", "CO2eq", "time"):
            table.add_column(col, justify="right" if col in ("energy", "CO2eq", "time") else "left", no_wrap=True)
        for r in t["rows"]:
            table.add_row(
                r["started"], (r["git_sha"] or "")[:10], r["branch"] or "", r["outcome"] or "", _energy(r["energy_j"]),
                "n/a" if r["co2_g"] is None else f"{r['co2_g']:.3g} g", "" if r["duration_s"] is None else f"{r['duration_s']:.3g} s",
            )  # fmt: skip
        console.print(table)
        return
    table = Table(show_edge=False, pad_edge=False)
    table.add_column("test", overflow="fold", ratio=1, min_width=12)
    table.add_column("runs", justify="right", no_wrap=True)
    table.add_column("energy, last runs", no_wrap=True)
    table.add_column("latest", justify="right", no_wrap=True)
    table.add_column("trend", justify="right", no_wrap=True)
    if doc["since"] is not None:
        table.add_column(f"since {str(doc['since'])[:10]}", justify="right", no_wrap=True)
    for t in doc["tests"]:
        cells = [Text(t["nodeid"]), str(t["runs"]), t["sparkline"], _energy(t["latest_j"]),
                 "n/a" if t["trend_per_run"] is None else f"{t['trend_per_run']:+.1%}/run"]  # fmt: skip
        if doc["since"] is not None:
            cells.append("n/a" if t["change_since"] is None else f"{t['change_since']:+.0%}")
        table.add_row(*cells)
    console.print(table)
    console.print(Text("trend: least-squares slope over the runs shown, relative to their mean; energy in J, never CO2 (grids differ)"))
