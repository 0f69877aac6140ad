"""Quantities: parse what people write ("12 g", "0.2 kWh", "100W", "10%") and format for humans.

Internally everything is SI-ish and named by unit: joules (``energy_j``), grams of CO2eq
(``co2_g``), watts, seconds. Conversion happens only here.
"""

from __future__ import annotations

import math
import re

J_PER_WH = 3600.0
J_PER_KWH = 3.6e6
# Car-km equivalent: EU new-car average 2020, 107.5 g CO2eq/km, as Carbontracker uses.
CAR_G_PER_KM = 107.5

# Unit tables: lower-cased symbol -> factor to the base unit.
ENERGY_UNITS = {"j": 1.0, "kj": 1e3, "mj": 1e6, "wh": J_PER_WH, "kwh": J_PER_KWH, "mwh": 1e3 * J_PER_KWH}
CO2_UNITS = {"mg": 1e-3, "g": 1.0, "kg": 1e3, "t": 1e6}
POWER_UNITS = {"w": 1.0, "kw": 1e3}
DURATION_UNITS = {"ms": 1e-3, "s": 1.0, "min": 60.0, "h": 3600.0}

# "MJ" and "mJ" differ only in case; energy budgets in millijoules make no sense, so the
# forgiving case rule treats both as megajoules, and the accepted forms say so.
_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_QUANTITY = re.compile(rf"^\s*({_NUMBER})\s*([a-zA-Z%]*)\s*$")


class UnitError(ValueError):
    """A quantity that cannot be read; the message names the value and the accepted forms."""


def parse_quantity(
    text: str | int | float,
    units: dict[str, float],
    symbols: list[str],
    *,
    what: str,
    default_unit: str | None = None,
    allow_zero: bool = True,
) -> float:
    """Parse ``text`` into the base unit of ``units``.

    Args:
        text: e.g. ``"12 g"``, ``"0.2kWh"``; a bare number only when ``default_unit`` is set.
        units: lower-cased unit symbol -> factor to the base unit.
        symbols: the symbols as shown to users, for the error message.
        what: what the value is ("a CO2 amount"), for the error message.
        default_unit: unit of a bare number, or None to require a unit.
        allow_zero: whether 0 is acceptable.

    Raises:
        UnitError: with the value, what it should be, and the accepted forms.
    """
    forms = ", ".join(symbols)
    example = f"e.g. '12 {symbols[1] if len(symbols) > 1 else symbols[0]}'"
    if isinstance(text, bool):
        raise UnitError(f"{text!r} is not {what}; use a number with a unit ({forms}), {example}")
    if isinstance(text, (int, float)):
        if default_unit is None:
            raise UnitError(f"{text!r} has no unit; {what} needs one of {forms}, {example}")
        value, unit = float(text), default_unit
    else:
        m = _QUANTITY.match(str(text))
        if not m:
            raise UnitError(f"{text!r} is not {what}; use a number with a unit ({forms}), {example}")
        value = float(m.group(1))
        unit = m.group(2).lower()
        if not unit:
            if default_unit is None:
                raise UnitError(f"{text!r} has no unit; {what} needs one of {forms}, {example}")
            unit = default_unit
    if unit not in units:
        raise UnitError(f"{text!r}: unknown unit {unit!r} for {what}; accepted units: {forms}")
    if not math.isfinite(value):
        raise UnitError(f"{text!r} is not a finite number")
    if value < 0 or (value == 0 and not allow_zero):
        bound = "positive" if not allow_zero else "zero or positive"
        raise UnitError(f"{text!r} must be {bound}")
    result = value * units[unit]
    if not math.isfinite(result):
        raise UnitError(f"{text!r} is too large to be {what}")
    return result


def parse_energy_j(text: str | int | float) -> float:
    return parse_quantity(
        text, ENERGY_UNITS, ["J", "kJ", "MJ", "Wh", "kWh", "MWh"], what="an energy"
    )


def parse_co2_g(text: str | int | float) -> float:
    return parse_quantity(text, CO2_UNITS, ["mg", "g", "kg", "t"], what="a CO2eq mass")


def parse_power_w(text: str | int | float) -> float:
    return parse_quantity(
        text, POWER_UNITS, ["W", "kW"], what="a power", default_unit="w", allow_zero=True
    )


def parse_duration_s(text: str | int | float) -> float:
    return parse_quantity(
        text,
        DURATION_UNITS,
        ["ms", "s", "min", "h"],
        what="a duration",
        default_unit="s",
        allow_zero=False,
    )


def parse_percent(text: str | int | float) -> float:
    """'10%' or 10 -> 0.10."""
    return parse_quantity(text, {"%": 0.01}, ["%"], what="a percentage", default_unit="%")


def g_per_j(g_per_kwh: float, pue: float = 1.0) -> float:
    """Grams of CO2eq per joule measured, at a grid intensity (g/kWh) and a PUE."""
    return pue * g_per_kwh / J_PER_KWH


def parse_count(text: str | int | float, what: str = "a whole number") -> int:
    """A whole number, 0 or more: ``"10"``, ``10`` or ``10.0``; raises UnitError otherwise."""
    try:
        n = int(text) if not isinstance(text, bool) and float(text) == int(float(text)) else -1
    except (TypeError, ValueError, OverflowError):
        n = -1
    if n < 0:
        raise UnitError(f"must be {what}, 0 or more, not {text!r}")
    return n


def significant(x: float, digits: int) -> str:
    """``x`` with ``digits`` significant digits, never in scientific notation."""
    return _sig(x, digits)


def _sig(x: float, digits: int) -> str:
    if x == 0:
        return "0"
    mag = math.floor(math.log10(abs(x)))
    if abs(round(x, digits - 1 - mag)) >= 10 ** (mag + 1):
        mag += 1  # 9.999 rounds up to 10.0: one digit fewer after the point
    decimals = max(0, digits - 1 - mag)
    return f"{x:.{decimals}f}"


def format_energy(j: float | None, digits: int = 3) -> str:
    """Human energy: J (kJ) below 1 Wh, then Wh, then kWh; '?' for unknown, never 0."""
    if j is None:
        return "?"
    if abs(j) < J_PER_WH:
        if abs(j) >= 1000:
            return f"{_sig(j / 1e3, digits)} kJ"
        return f"{_sig(j, digits)} J"
    if abs(j) < J_PER_KWH:
        return f"{_sig(j / J_PER_WH, digits)} Wh"
    return f"{_sig(j / J_PER_KWH, digits)} kWh"


def format_co2(g: float | None, digits: int = 3) -> str:
    if g is None:
        return "?"
    if abs(g) < 1:
        return f"{_sig(g * 1e3, digits)} mg"
    if abs(g) < 1e3:
        return f"{_sig(g, digits)} g"
    if abs(g) < 1e6:
        return f"{_sig(g / 1e3, digits)} kg"
    return f"{_sig(g / 1e6, digits)} t"


def format_distance(km: float | None, digits: int = 3) -> str:
    """A car-distance equivalent: km from 1 km, then m, then mm; '?' for unknown."""
    if km is None:
        return "?"
    if abs(km) >= 1 or km == 0:
        return f"{_sig(km, digits)} km"
    if abs(km) >= 1e-3:
        return f"{_sig(km * 1e3, digits)} m"
    return f"{_sig(km * 1e6, digits)} mm"


def format_duration(s: float | None) -> str:
    if s is None:
        return "?"
    if s < 1:
        return f"{s * 1e3:.0f} ms"
    if s < 120:
        return f"{s:.2f} s"
    if s < 7200:
        return f"{s / 60:.1f} min"
    return f"{s / 3600:.2f} h"
