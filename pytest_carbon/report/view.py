"""What every renderer shows the same way: the order of tests, and text safe for CI logs."""

from __future__ import annotations

from typing import Any


def by_co2(tests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Report entries by CO2eq, highest first; unknown CO2 (a meter gap) last, never as 0."""
    return sorted(tests, key=lambda t: -1.0 if t.get("co2_g") is None else t["co2_g"], reverse=True)


def no_commands(text: str) -> str:
    """Text for a CI log in which no line is a workflow command the plugin did not mean.

    A GitHub runner reads a line that starts with ``::`` as a command (``::error``,
    ``::add-mask``). Test ids and phase names are user text and may hold a newline followed by
    ``::``; such a line's leading ``::`` becomes ``: :``. The plugin's own annotations are
    written apart from this text.
    """
    lines = text.split("\n")
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        if stripped.startswith("::"):
            lines[i] = line[: len(line) - len(stripped)] + ": :" + stripped[2:]
    return "\n".join(lines)
