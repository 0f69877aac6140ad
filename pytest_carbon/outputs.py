"""Writing the run's outputs: JSON report, timeline, HTML, GitHub job summary and PR comment.

Each writer returns the line to show in the terminal summary: where the file went, or an
``ERROR`` line naming the file and the cause. A failed write never loses the measurement:
the table still prints and the other outputs are still written.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from .config import Settings
from .report import json_report

if TYPE_CHECKING:
    from .compare import Comparison


def write_json(path: Path, doc: dict[str, Any], what: str) -> str:
    try:
        json_report.write_atomic(path, doc)
    except OSError as e:
        return f"ERROR: carbon {what} could not be written to {path}: {e}"
    except ValueError as e:  # a NaN or infinity that got past the checks where values enter
        return f"ERROR: carbon {what} could not be written to {path}: it holds a value that is not a finite number ({e})"
    return f"carbon {what} written to {path}"


def _write_text(path: Path, render: Callable[[], str], what: str) -> str:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(), encoding="utf-8")
    except OSError as e:
        return f"ERROR: the {what} could not be written to {path}: {e}"
    return f"carbon {what} written to {path}"


def write_html(path: Path, report: dict[str, Any], top: int) -> str:
    from .report import html

    return _write_text(path, lambda: html.render(report, top=max(top, 10)), "HTML report")


def write_comment(path: Path, report: dict[str, Any], comparison: Comparison | None, top: int) -> str:
    from .report import github

    return _write_text(path, lambda: github.comment_markdown(report, comparison, top), "PR comment")


def _job_summary_path() -> str | None:
    """``$GITHUB_STEP_SUMMARY`` inside GitHub Actions, else None."""
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    return summary if os.environ.get("GITHUB_ACTIONS") == "true" and summary else None


def write_job_summary(report: dict[str, Any], comparison: Comparison | None, top: int) -> str | None:
    """Append to ``$GITHUB_STEP_SUMMARY`` inside GitHub Actions; None elsewhere or on success."""
    summary = _job_summary_path()
    if summary is None:
        return None
    from .report import github

    try:
        with open(summary, "a", encoding="utf-8") as f:
            f.write(github.summary_markdown(report, comparison, top))
    except OSError as e:
        return f"ERROR: the job summary could not be written to {summary}: {e}"
    return None


def annotation_commands(report: dict[str, Any], comparison: Comparison | None, rootdir: Path) -> list[str]:
    """GitHub workflow commands for violations and regressions, inside GitHub Actions only."""
    if os.environ.get("GITHUB_ACTIONS") != "true":
        return []
    from .report.github import annotation_lines

    workspace = Path(os.environ.get("GITHUB_WORKSPACE") or os.getcwd())

    def relocate(f: str | None) -> str | None:
        # GitHub places annotations by path from the checkout; node ids are from rootdir.
        return None if not f else os.path.relpath(rootdir / f, workspace)

    return annotation_lines(report, comparison, relocate)


def need_every_test(settings: Settings, comparing: bool, hooked: bool) -> bool:
    """Whether some output needs every test's entry, not only those the terminal shows.

    ``comparing``: a baseline is compared; ``hooked``: a ``pytest_carbon_update_json`` hook
    is implemented. The timeline (``record``) is not made from the report.
    """
    s = settings
    return bool(comparing or hooked or _job_summary_path() or s.json_path or s.html or s.github_comment or s.history)


def only_tests(report: dict[str, Any], nodeids: set[str]) -> dict[str, Any]:
    """A shallow copy of ``report`` listing only the tests with these node ids."""
    tests = report.get("tests")
    if not isinstance(tests, list):  # a hook replaced it: leave it as it is
        return report
    return {**report, "tests": [t for t in tests if isinstance(t, dict) and t.get("nodeid") in nodeids]}


def write_all(
    settings: Settings, report: dict[str, Any], comparison: Comparison | None, timeline: Callable[[], dict[str, Any]]
) -> list[str]:
    """Every output the settings ask for; the lines to show (where each went, or why not)."""
    s, top = settings, settings.top or 10
    written = [write_job_summary(report, comparison, top)]
    if s.github_comment:
        written.append(write_comment(Path(s.github_comment), report, comparison, top))
    if s.json_path:
        written.append(write_json(Path(s.json_path), report, "report"))
    if s.record:
        written.append(write_json(Path(s.record), timeline(), "timeline"))
    if s.html:
        written.append(write_html(Path(s.html), report, s.top))
    return [m for m in written if m]


def _why(e: Exception) -> str:
    from .history.store import StoreError

    return str(e) if isinstance(e, StoreError) else f"the report lacks a field or has one of the wrong type ({type(e).__name__}: {e})"


def history(settings: Settings, report: dict[str, Any], rootdir: Path) -> tuple[Comparison | None, list[str]]:
    """Judge the run against the history (``--carbon-baseline history``) and append it to the
    store (``--carbon-history``); (the comparison or None, the lines to show). A store that
    cannot be opened, read or written gives an ``ERROR`` line: the report and the tests'
    outcomes stand."""
    from .history.gate import against_history, load_window, trends
    from .history.stats import Threshold
    from .history.store import StoreError, open_store
    from .runinfo import default_branch

    s = settings
    assert s.history is not None
    shown = s.history
    try:
        store = open_store(s.history)
    except StoreError as e:
        return None, [f"ERROR: carbon history: {e}; this run is not in the history, nor judged against it"]
    comparison, lines = None, []
    own = (report.get("run") or {}).get("git_branch")
    branch = s.history_branch or (default_branch(rootdir) if own else None)
    with store:
        shown = store.where
        # A report a pytest_carbon_update_json hook reshaped can lack fields: any failure here
        # is an ERROR line, never a lost run (the report and the outcomes are written anyway).
        try:  # the baseline branch's newest runs, read once for the trends and the judgement
            window = load_window(store, report, branch, s.history_last)
            # each test over those runs, then this one: charts, sparklines
            report["history"] = trends(store, report, branch, s.history_last, window)
            if s.baseline == "history":
                threshold = s.threshold or Threshold("percent", 10.0)
                comparison = against_history(store, report, branch, threshold, s.history_last, s.min_delta, s.max_regression, window)
        except (StoreError, KeyError, TypeError, AttributeError, ValueError) as e:
            lines.append(f"ERROR: carbon history: {_why(e)}; the report has no trends and is not judged against the history")
        try:
            added = store.add_run(report)
        except (StoreError, KeyError, TypeError, AttributeError, ValueError) as e:
            lines.append(f"ERROR: carbon history: {_why(e)}; this run is not in the history")
        else:
            lines.append(f"carbon history: this run {'appended to' if added else 'was already in'} {shown}")
    return comparison, lines
