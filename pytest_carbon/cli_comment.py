"""``pytest-carbon comment``: the exact PR comment the workflow posts, from reports on disk.

    pytest-carbon comment HEAD.json [--baseline BASE.json]
    pytest-carbon comment --runner cpu=cpu/carbon-report.json --runner gpu=gpu/carbon-report.json

A runner whose report is absent or damaged is listed as missing, with the reason; the
comment is still printed. ``--find-own LOGIN`` is for the workflow: it reads the pull
request's comments (``gh api --paginate`` output) on standard input and prints the id of the
first one that ``LOGIN`` wrote and that starts with the comment's marker.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .cli import _fail
from .report.comment import Runner, render
from .report.github import COMMENT_MARKER


def add_parser(sub: Any) -> None:
    c = sub.add_parser("comment", help="print the PR comment the workflow would post for these reports")
    c.add_argument("head", nargs="?", help="a report (as runner 'this run'); or name runners with --runner")
    c.add_argument("--runner", action="append", default=[], metavar="NAME=REPORT", help="a runner's report (repeatable)")
    c.add_argument("--baseline", action="append", default=[], metavar="[NAME=]BASE", help="compare HEAD (or runner NAME) with this report")
    c.add_argument("--top", type=int, default=10, help="tests in each runner's table (default 10)")
    c.add_argument("--max-regression", default="10%", help="with --baseline: relative growth allowed (default 10%%)")
    c.add_argument("--min-delta", default="50J", help="with --baseline: absolute growth below which nothing regresses (default 50J)")
    c.add_argument("--find-own", metavar="LOGIN", help="print the id of LOGIN's comment with the marker, from comments JSON on stdin")
    c.set_defaults(func=run)


def _pairs(items: list[str], what: str) -> list[tuple[str, str]] | str:
    out = []
    for item in items:
        name, eq, path = item.partition("=")
        if not eq or not name.strip() or not path.strip():
            return f"{what} {item!r}: expected NAME=PATH"
        out.append((name.strip(), path.strip()))
    return out


def _load(path: str) -> tuple[dict[str, Any] | None, str]:
    from pathlib import Path

    from .report import json_report

    if not Path(path).is_file():
        return None, f"no report at {path}"
    try:
        return json_report.load(path), ""
    except json_report.ReportError as e:
        return None, str(e)


def find_own(text: str, login: str) -> str | None:
    """The id of the first comment by ``login`` whose body starts with the marker, from one or
    more concatenated JSON arrays (``gh api --paginate`` prints a page after another)."""
    dec, i, found = json.JSONDecoder(), 0, None
    while i < len(text):
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            break
        page, i = dec.raw_decode(text, i)
        for c in page if isinstance(page, list) else []:
            user = (c.get("user") or {}).get("login") if isinstance(c, dict) else None
            body = c.get("body") if isinstance(c, dict) else None
            if found is None and user == login and isinstance(body, str) and body.startswith(COMMENT_MARKER):
                found = str(c.get("id"))
    return found


def run(args: argparse.Namespace) -> int:
    if args.find_own is not None:
        try:
            found = find_own(sys.stdin.read(), args.find_own)
        except (ValueError, AttributeError) as e:
            return _fail(f"the comments on standard input are not JSON ({e})")
        if found:
            print(found)
        return 0
    runners_arg = _pairs(args.runner, "--runner")
    if isinstance(runners_arg, str):
        return _fail(runners_arg)
    named = dict(runners_arg)
    if args.head:
        named = {"this run": args.head, **named}
    if not named:
        return _fail("name a report: pytest-carbon comment HEAD.json, or --runner NAME=REPORT")
    bases: dict[str, str] = {}
    for item in args.baseline:
        name, eq, path = item.partition("=")
        if eq and name in named:
            bases[name] = path
        elif not eq and args.head:
            bases["this run"] = item
        else:
            return _fail(f"--baseline {item}: give NAME=BASE for a runner named with --runner, or BASE for HEAD")
    from .units import UnitError, parse_energy_j, parse_percent

    try:
        max_regression, min_delta = parse_percent(args.max_regression), parse_energy_j(args.min_delta)
    except UnitError as e:
        return _fail(f"--max-regression {args.max_regression} / --min-delta {args.min_delta}: {e}")
    runners = []
    for name, path in named.items():
        report, why = _load(path)
        if report is not None and name in bases:
            base, bwhy = _load(bases[name])
            if base is None:
                return _fail(f"--baseline {bases[name]}: {bwhy}")
            from .compare import compare

            try:
                report = {**report, "comparison": compare(base, report, max_regression, min_delta).as_dict()}
            except (KeyError, TypeError, AttributeError) as e:
                return _fail(f"{bases[name]} or {path}: a field is missing or has the wrong type ({e})")
        runners.append(Runner(name, report, why))
    try:
        text = render(runners, top=max(0, args.top))
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        return _fail(f"a report is damaged: a field is missing or has the wrong type ({type(e).__name__}: {e})")
    sys.stdout.write(text)
    return 0
