"""Meter selection: ``auto``, ``nvml``, ``rapl``, ``estimate``, ``constant:...``, ``replay:PATH``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .base import ChannelInfo, Meter, MeterError, MeterUnavailable

__all__ = ["REGISTRY", "ChannelInfo", "Meter", "MeterError", "MeterUnavailable", "MeterSpec", "open_meters"]


@dataclass(frozen=True)
class MeterSpec:
    kind: str  # auto | nvml | rapl | estimate | constant | replay
    watts: tuple[tuple[str, float], ...] = ()
    path: str = ""

    def __str__(self) -> str:
        if self.kind == "constant":
            return "constant:" + ",".join(f"{c}={w:g}W" for c, w in self.watts)
        if self.kind == "replay":
            return f"replay:{self.path}"
        return self.kind


AUTO = MeterSpec("auto")


def _nvml(spec: MeterSpec, interval_s: float) -> Meter:
    from .nvml import NvmlMeter

    return NvmlMeter()


def _rapl(spec: MeterSpec, interval_s: float) -> Meter:
    from .rapl import RaplMeter

    return RaplMeter()


def _estimate(spec: MeterSpec, interval_s: float, channels: tuple[str, ...] = ("cpu", "ram")) -> Meter:
    from .estimate import EstimateMeter

    return EstimateMeter(channels, interval_s)


def _constant(spec: MeterSpec, interval_s: float) -> Meter:
    from .constant import ConstantMeter

    return ConstantMeter(dict(spec.watts))


def _replay(spec: MeterSpec, interval_s: float) -> Meter:
    from .replay import ReplayMeter

    return ReplayMeter(spec.path)


# The registry: a meter kind -> a factory from its spec and the sampling interval. Each
# factory imports its meter's module, so a run imports only the meters it uses.
REGISTRY: dict[str, Callable[[MeterSpec, float], Meter]] = {
    "nvml": _nvml, "rapl": _rapl, "estimate": _estimate, "constant": _constant, "replay": _replay,
}  # fmt: skip


def _auto(interval_s: float, named: list[Meter]) -> tuple[list[Meter], list[str]]:
    """Best meters this machine has for the channels ``named`` meters leave uncovered,
    quietly skipping what it lacks; notes say what was skipped."""
    meters: list[Meter] = []
    notes: list[str] = []
    taken = {m.name for m in named}
    from . import nvml

    if "nvml" not in taken and nvml.driver_absent():
        taken.add("nvml")
        notes.append(f"nvml: no NVIDIA driver (none of {', '.join(nvml.DRIVER_PATHS)})")
    for m in (_nvml(AUTO, interval_s), _rapl(AUTO, interval_s)):
        if m.name in taken:
            continue
        try:
            m.open()
            meters.append(m)
        except MeterUnavailable as e:
            notes.append(f"{m.name}: {e.cause}")
    have = {c.name for m in [*named, *meters] for c in m.channels}
    want = tuple(ch for ch in ("cpu", "ram") if ch not in have and not (ch == "ram" and "dram" in have))
    if want:
        est = _estimate(AUTO, interval_s, want)
        est.open()
        meters.append(est)
    return meters, notes


def open_meters(specs: list[MeterSpec], interval_s: float) -> tuple[list[Meter], list[str]]:
    """Open the meters named by ``specs``.

    Raises:
        MeterUnavailable: a meter named explicitly cannot work here, or two meters claim the
            same channel; the message names the cause and the fix.
    """
    meters: list[Meter] = []
    notes: list[str] = []
    try:
        # Named meters first, so that auto fills in only what they leave uncovered.
        for spec in sorted(specs, key=lambda s: s.kind == "auto"):
            if spec.kind == "auto":
                got, why = _auto(interval_s, meters)
                meters.extend(got)
                notes.extend(why)
                continue
            m = REGISTRY[spec.kind](spec, interval_s)  # config validated the kinds
            try:
                m.open()
            except MeterUnavailable as e:
                raise MeterUnavailable(f"--carbon-meter {spec}: {e}") from None
            meters.append(m)
        seen: dict[str, str] = {}
        names: dict[str, int] = {}
        for m in meters:
            n = names.get(m.name, 0)
            names[m.name] = n + 1
            if n:
                m.name = f"{m.name}#{n + 1}"
            for c in m.channels:
                if c.name in seen:
                    raise MeterUnavailable(
                        f"channel {c.name!r} is measured by both {seen[c.name]} and {m.name};"
                        " each channel needs exactly one meter: drop one from --carbon-meter"
                    )
                seen[c.name] = m.name
    except BaseException:
        for m in meters:
            m.close()
        raise
    return meters, notes
