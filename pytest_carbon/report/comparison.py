"""The baseline comparison in the terminal: a table of what changed and a line per regression."""

from __future__ import annotations

import io
from typing import Any

from ..units import format_energy
from .terminal import LOG_WIDTH, _console
from .view import no_commands


def render_comparison(c: Any, console: Any) -> None:
    """The baseline comparison as a table, with warnings and counts."""
    from rich.table import Table
    from rich.text import Text

    for w in c.warnings:
        console.print(Text(f"Warning: {w}", style="yellow"))
    against_history = getattr(c, "method", "").startswith("history")
    if against_history:
        console.print(Text(f"Baseline: {c.method}"))
    rows = [("regression", ch) for ch in c.regressions] + [("improvement", ch) for ch in c.improvements]
    if rows:
        title = "Compared with the history (energy; baseline = the history's mean)" if against_history else "Compared with the baseline (energy)"
        table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
        table.add_column("", no_wrap=True)
        table.add_column("test", overflow="fold", ratio=1, min_width=12)
        table.add_column("baseline", justify="right", no_wrap=True)
        table.add_column("this run", justify="right", no_wrap=True)
        table.add_column("change", justify="right", no_wrap=True)
        table.add_column("noise (95%)", justify="right", no_wrap=True)
        for kind, ch in rows:
            style = "red" if kind == "regression" else "green"
            table.add_row(
                Text(kind, style=style),
                Text(ch.nodeid),
                format_energy(ch.base_j),
                format_energy(ch.head_j),
                Text("n/a" if ch.ratio is None else f"{ch.ratio:+.0%}", style=style),
                "" if ch.noise_j is None else f"±{format_energy(ch.noise_j)}",
            )
        console.print(table)
    for ch in c.regressions:
        if getattr(ch, "history", None):
            h = ch.history
            console.print(
                Text(
                    f"REGRESSION {ch.nodeid}: energy {format_energy(ch.head_j)} against {h['n']} earlier runs (mean"
                    f" {format_energy(h['mean_j'])}, spread {format_energy(h['spread_j'])}, limit {format_energy(h['limit_j'])});"
                    f" decided by {ch.decided_by}; more than the floor of {format_energy(c.min_delta_j)} above the mean",
                    style="bold red",
                )
            )
            continue
        if getattr(ch, "decided_by", None):
            console.print(Text(f"REGRESSION {ch.nodeid}: {ch.decided_by}", style="bold red"))
        console.print(
            Text(
                f"REGRESSION {ch.nodeid}: energy {format_energy(ch.base_j)} -> {format_energy(ch.head_j)}"
                f" (more than {c.max_regression:.0%} and {format_energy(c.min_delta_j)}"
                + (f", and outside the runs' combined noise of {format_energy(ch.noise_j)})" if ch.noise_j is not None else ")"),
                style="bold red",
            )
        )
    console.print(
        Text(
            f"Baseline: {len(c.regressions)} regressed, {len(c.improvements)} improved, {len(c.unchanged)} unchanged,"
            f" {len(c.new)} new, {len(c.removed)} removed, {len(c.unknown)} not comparable (energy unknown)"
        )
    )


def write_comparison(terminalreporter: Any, comparison: Any) -> None:
    tw = terminalreporter.config.get_terminal_writer()
    buf = io.StringIO()
    width = tw.fullwidth if getattr(terminalreporter, "isatty", tw.hasmarkup) else LOG_WIDTH  # a log does not wrap
    render_comparison(comparison, _console(buf, width, tw.hasmarkup))
    terminalreporter.write(no_commands(buf.getvalue()))
