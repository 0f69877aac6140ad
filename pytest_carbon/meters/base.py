"""The Meter protocol: every energy source reports cumulative joules per channel.

A meter never prints. ``read()`` returns cumulative energy (J) per channel since an arbitrary
origin, or raises :class:`MeterError` when this reading failed (the sampler records a gap).
``open()`` failing raises :class:`MeterUnavailable` with the cause and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

# How a channel's numbers are made, best first. Shown in reports as the meter's quality.
COUNTER = "counter"  # a hardware energy counter (NVML total energy, RAPL)
POWER_INTEGRATED = "power-integrated"  # power readings integrated over time
ESTIMATED = "estimated"  # a model (TDP x utilisation), no measurement of energy at all
CONSTANT = "constant"  # fixed watts declared by the user
REPLAYED = "replayed"  # a recorded timeline played back

ESTIMATE_METHODS = {ESTIMATED, CONSTANT}


class MeterError(Exception):
    """A reading failed; the sampler leaves a gap, never a zero."""


class MeterUnavailable(Exception):
    """The meter cannot work on this machine; the message names the cause and the fix.

    ``cause`` is the short reason alone, for ``auto`` to note what it skipped.
    """

    def __init__(self, message: str, cause: str | None = None):
        super().__init__(message)
        self.cause = cause or message


@dataclass
class ChannelInfo:
    """One channel of a meter (gpu:0, cpu, ram...) and how its figures are made."""

    name: str  # gpu:0, cpu, dram, ram
    method: str  # one of the constants above
    cadence_s: float  # how often the source updates; windows shorter than this are approximate
    hardware: str = ""  # e.g. "NVIDIA H100 80GB HBM3"
    note: str = ""  # how the number is made, for the report

    @property
    def estimated(self) -> bool:
        return self.method in ESTIMATE_METHODS

    def as_dict(self) -> dict[str, Any]:
        return {
            "channel": self.name,
            "method": self.method,
            "cadence_s": self.cadence_s,
            "estimated": self.estimated,
            "hardware": self.hardware,
            "note": self.note,
        }


class Meter(Protocol):
    name: str
    channels: list[ChannelInfo]

    def open(self) -> None: ...

    def read(self) -> dict[str, float]: ...

    def close(self) -> None: ...


@dataclass
class MeterBase:
    """Shared plumbing; subclasses fill ``channels`` in ``open``."""

    name: str = "meter"
    channels: list[ChannelInfo] = field(default_factory=list)
    # A read costs microseconds on the calling thread (a clock, a few small files): the
    # test's thread may read it at test boundaries (see Sampler.edge). Not so for NVML.
    cheap: bool = False

    def open(self) -> None:  # pragma: no cover - overridden
        pass

    def read(self) -> dict[str, float]:  # pragma: no cover - overridden
        raise NotImplementedError

    def close(self) -> None:
        pass
