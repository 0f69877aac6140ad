"""Process scope for machine-wide counters: each interval's energy times the tree's share.

A RAPL package counter sees the whole machine. In process scope each interval's energy is
multiplied by the share of the machine's busy CPU time that the pytest process tree used in
it (the split Scaphandre and Kepler make); energy in intervals when nothing was busy is
charged to nobody. The channel's note says so in every report.
"""

from __future__ import annotations

from .base import ChannelInfo, Meter, MeterError, MeterUnavailable
from .load import Load, LoadProbe

SPLIT_NOTE = "process scope: each interval's energy x the pytest process tree's share of the machine's busy CPU time"


def tree_share(a: Load, b: Load) -> float:
    """The tree's share of the machine's busy CPU time between two readings (0 when idle)."""
    if a.machine_busy_s is None or b.machine_busy_s is None:
        raise MeterError("the machine's busy CPU time could not be read")
    busy = b.machine_busy_s - a.machine_busy_s
    if busy <= 0:
        return 0.0
    return min(max((b.tree_cpu_s - a.tree_cpu_s) / busy, 0.0), 1.0)


class ProcessShare:
    """Wraps a counter meter: the same channels, charged by the tree's CPU share."""

    def __init__(self, inner: Meter, probe: LoadProbe):
        self.inner = inner
        self.probe = probe
        self.name = inner.name
        self.channels: list[ChannelInfo] = []
        self._last: dict[str, float] = {}
        self._load: Load | None = None
        self._acc: dict[str, float] = {}

    def open(self) -> None:
        self.inner.open()
        load = self.probe.read()
        if load.machine_busy_s is None:
            self.inner.close()
            raise MeterUnavailable(
                "process scope splits this counter by CPU time, but the machine's busy CPU time"
                " (/proc/stat) cannot be read here; use --carbon-scope machine",
                cause="no /proc/stat for the process-scope split",
            )
        self.channels = [
            ChannelInfo(c.name, c.method, c.cadence_s, c.hardware, f"{c.note}; {SPLIT_NOTE}" if c.note else SPLIT_NOTE)
            for c in self.inner.channels
        ]
        self._last = dict(self.inner.read())
        self._load = load
        self._acc = {c.name: 0.0 for c in self.channels}

    def read(self) -> dict[str, float]:
        cur = self.inner.read()
        load = self.probe.read()
        assert self._load is not None, "open() first"
        share = tree_share(self._load, load)
        for name, v in cur.items():
            self._acc[name] = self._acc.get(name, 0.0) + (v - self._last.get(name, v)) * share
        self._last = dict(cur)
        self._load = load
        return dict(self._acc)

    def close(self) -> None:
        self.inner.close()
