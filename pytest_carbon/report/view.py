"""What every renderer shows the same way: the order of tests, and text safe for CI logs."""

from __future__ import annotations

from typing import Any

from ..units import format_co2, format_energy


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


def per_item_text(p: dict[str, Any]) -> str:
    """A phase's per-item figure for its label: the whole phase / items, or, where the test
    marked its steps, the mean after the warm-up with its 95% interval."""
    per = p.get("per_item")
    if not isinstance(per, dict) or per.get("mean_j") is None:
        return f", {format_co2(p.get('co2_g_per_item'))}/item"
    warm = f" ({per['warmup']['n']} warm-up)" if (per.get("warmup") or {}).get("n") else ""
    co2 = per.get("mean_co2_g")
    if co2 is None:
        return f"{warm}, {format_energy(per['mean_j'])}/item"
    text = f"{warm}, {format_co2(co2)}/item"
    ci = per.get("ci95_co2_g")
    if ci:
        text += f" [95%: {format_co2(ci[0])} - {format_co2(ci[1])}]"
    return text
