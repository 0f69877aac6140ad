"""Which tests are the plugin's to measure: its marker (by its arguments) and its fixture.

Small and free of heavy imports: the dormant plugin calls it in every pytest run that has
the plugin installed but does not ask it for anything.
"""

from __future__ import annotations

from typing import Any

import pytest


def is_ours(marker: pytest.Mark) -> bool:
    """Whether a marker's arguments are pytest-carbon's: none, or the keywords co2 and energy."""
    return not marker.args and set(marker.kwargs) <= {"co2", "energy"}


def closest_marker(item: pytest.Item, name: str, parents: dict[Any, pytest.Mark | None]) -> pytest.Mark | None:
    """``item.get_closest_marker(name)``, asking each parent (module, class) once per collection.

    ``parents`` caches what each parent node answered; pass the same dict for every item.
    """
    for mark in item.own_markers:
        if mark.name == name:
            return mark
    parent = item.parent
    if parent is None:
        return None
    try:
        return parents[parent]
    except KeyError:
        found = parents[parent] = parent.get_closest_marker(name)
        return found


def own_marker(item: pytest.Item, name: str, asked: bool, parents: dict[Any, pytest.Mark | None]) -> tuple[pytest.Mark | None, bool]:
    """(the plugin's marker on a test or None, whether the test carries the suite's own instead).

    Unasked, a marker whose arguments are not the plugin's is the suite's own: left alone and
    reported. Asked to measure, it is returned, for ``parse_marker`` to say what is wrong.
    ``parents``: see :func:`closest_marker`.
    """
    marker = closest_marker(item, name, parents)
    if marker is not None and not asked and not is_ours(marker):
        return None, True
    return marker, False


def rename_hint(name: str) -> str:
    return (
        f"if @pytest.mark.{name} is this suite's own marker, give pytest-carbon's another name"
        ' (marker = "carbon_budget" under [tool.pytest-carbon], or --carbon-marker carbon_budget),'
        " or turn the plugin off with -p no:carbon"
    )


def foreign_marker_note(name: str, nodeids: list[str]) -> str:
    """The summary line for tests whose ``name`` marker is the suite's own, not the plugin's."""
    return (
        f"pytest-carbon: the @pytest.mark.{name} of {len(nodeids)} test(s), e.g. {nodeids[0]}, has arguments"
        f" that are not pytest-carbon's (co2=, energy=), so they are not measured; {rename_hint(name)}"
    )


def uses_our_fixture(item: pytest.Item) -> bool:
    """Whether a test requests the plugin's ``carbon`` fixture (a suite's own ``carbon`` does not count)."""
    if "carbon" not in getattr(item, "fixturenames", ()):
        return False
    from . import plugin

    info: Any = getattr(item, "_fixtureinfo", None)  # pytest's own record of the fixtures that resolve
    defs = info.name2fixturedefs.get("carbon") if info is not None else None
    if not defs:
        return True  # cannot tell: measure, as a test that asks for the fixture expects
    ours = getattr(plugin.carbon, "__wrapped__", plugin.carbon)
    return getattr(defs[-1].func, "__wrapped__", defs[-1].func) is ours
