"""Meter selection: ``auto``, ``nvml``, ``rapl``, ``estimate``, ``constant:...``, ``replay:PATH``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, NamedTuple

from .base import ChannelInfo, Meter, MeterError, MeterUnavailable
from .load import LoadProbe

__all__ = ["REGISTRY", "SCOPES", "ChannelInfo", "Context", "LoadProbe", "Meter", "MeterError", "MeterUnavailable", "MeterSpec", "open_meters"]


class MeterSpec(NamedTuple):
    """A meter as configured: its kind and, for constant and replay, its parameters."""

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

SCOPES = ("auto", "process", "machine")

@dataclass
class Context:
    """What every meter factory is given besides its spec."""

    interval_s: float = 0.1
    scope: str = "auto"  # auto: process for estimated channels, machine for counters
    probe: LoadProbe | None = field(default=None)

    def the_probe(self) -> LoadProbe:
        if self.probe is None:
            self.probe = LoadProbe()
        return self.probe


def _nvml(spec: MeterSpec, ctx: Context) -> Meter:
    from .nvml import NvmlMeter

    if ctx.scope == "process":
        from .share import GpuShare

        return GpuShare(NvmlMeter(), ctx.the_probe())
    return NvmlMeter()


def _rapl(spec: MeterSpec, ctx: Context) -> Meter:
    from .rapl import RaplMeter

    if ctx.scope == "process":
        from .share import ProcessShare

        return ProcessShare(RaplMeter(), ctx.the_probe())
    return RaplMeter()


def _estimate(spec: MeterSpec, ctx: Context, channels: tuple[str, ...] = ("cpu", "ram")) -> Meter:
    from .estimate import EstimateMeter

    if ctx.scope == "machine":
        return EstimateMeter(channels, ctx.interval_s)
    return EstimateMeter(channels, ctx.interval_s, scope="process", probe=ctx.the_probe())


def _constant(spec: MeterSpec, ctx: Context) -> Meter:
    from .constant import ConstantMeter

    return ConstantMeter(dict(spec.watts))


def _replay(spec: MeterSpec, ctx: Context) -> Meter:
    from .replay import ReplayMeter

    return ReplayMeter(spec.path)


# The registry: a meter kind -> a factory from its spec and the context. Each
# factory imports its meter's module, so a run imports only the meters it uses.
REGISTRY: dict[str, Callable[[MeterSpec, Context], Meter]] = {
    "nvml": _nvml, "rapl": _rapl, "estimate": _estimate, "constant": _constant, "replay": _replay,
}  # fmt: skip


def _auto(ctx: Context, named: list[Meter]) -> tuple[list[Meter], list[str]]:
    """Best meters this machine has for the channels ``named`` meters leave uncovered,
    quietly skipping what it lacks; notes say what was skipped."""
    meters: list[Meter] = []
    notes: list[str] = []
    taken = {m.name for m in named}
    from . import nvml

    if "nvml" not in taken and nvml.driver_absent():
        taken.add("nvml")
        notes.append(f"nvml: no NVIDIA driver (none of {', '.join(nvml.DRIVER_PATHS)})")
    for m in (_nvml(AUTO, ctx), _rapl(AUTO, ctx)):
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
        est = _estimate(AUTO, ctx, want)
        est.open()
        meters.append(est)
    return meters, notes


def open_meters(specs: list[MeterSpec], interval_s: float, scope: str = "auto", probe: LoadProbe | None = None) -> tuple[list[Meter], list[str]]:
    """Open the meters named by ``specs``, in ``scope`` (see :data:`SCOPES`).

    ``probe`` reads the process tree's and the machine's CPU time for process-scope meters
    (one is made when needed and none is given).

    Raises:
        MeterUnavailable: a meter named explicitly cannot work here, or two meters claim the
            same channel; the message names the cause and the fix.
    """
    meters: list[Meter] = []
    notes: list[str] = []
    ctx = Context(interval_s, scope, probe)
    try:
        # Named meters first, so that auto fills in only what they leave uncovered.
        for spec in sorted(specs, key=lambda s: s.kind == "auto"):
            if spec.kind == "auto":
                got, why = _auto(ctx, meters)
                meters.extend(got)
                notes.extend(why)
                continue
            m = REGISTRY[spec.kind](spec, ctx)  # config validated the kinds
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
