"""Process scope for machine-wide counters: each interval's energy times the tree's share.

A RAPL package counter sees the whole machine. In process scope each interval's energy is
multiplied by the share of the machine's busy CPU time that the pytest process tree used in
it (the split Scaphandre and Kepler make); energy in intervals when nothing was busy is
charged to nobody. A GPU's energy is split by the tree's share of its SM utilisation, from
NVML's per-process samples, where the driver gives them. The channel's note says so in
every report.
"""

from __future__ import annotations

from typing import Any, Callable

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


class _Split:
    """A meter wrapped to charge each interval's energy by a share: the channels of ``inner``,
    with a note on how they are split, and the shared cumulative bookkeeping."""

    def __init__(self, inner: Any, probe: LoadProbe):
        self.inner = inner
        self.probe = probe
        self.name = inner.name
        self.cheap = bool(getattr(inner, "cheap", False))
        self.channels: list[ChannelInfo] = []
        self._last: dict[str, float] = {}
        self._acc: dict[str, float] = {}

    @staticmethod
    def _noted(c: ChannelInfo, note: str) -> ChannelInfo:
        return ChannelInfo(c.name, c.method, c.cadence_s, c.hardware, f"{c.note}; {note}" if c.note else note)

    def _begin(self, channels: list[ChannelInfo]) -> None:
        """The channels as split, and the first reading the shares start from."""
        self.channels = channels
        self._last = dict(self.inner.read())
        self._acc = {c.name: 0.0 for c in channels}

    def _accumulate(self, cur: dict[str, float], share: Callable[[str], float]) -> dict[str, float]:
        """Add each channel's energy since the last reading times its share; the totals so far.

        Every share is found before any total moves: a share that cannot be read (a
        MeterError) leaves this reading a gap, not half-counted and then counted again."""
        shares = {name: share(name) for name in cur}
        for name, v in cur.items():
            self._acc[name] = self._acc.get(name, 0.0) + (v - self._last.get(name, v)) * shares[name]
        self._last = dict(cur)
        return dict(self._acc)

    def close(self) -> None:
        self.inner.close()


class ProcessShare(_Split):
    """Wraps a counter meter: the same channels, charged by the tree's CPU share."""

    def __init__(self, inner: Meter, probe: LoadProbe):
        super().__init__(inner, probe)
        self._load: Load | None = None

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
        self._begin([self._noted(c, SPLIT_NOTE) for c in self.inner.channels])
        self._load = load

    def read(self) -> dict[str, float]:
        cur = self.inner.read()
        load = self.probe.read()
        assert self._load is not None, "open() first"
        share = tree_share(self._load, load)
        self._load = load
        return self._accumulate(cur, lambda name: share)


GPU_SPLIT_NOTE = "process scope: each interval's energy x the pytest process tree's share of the GPU's SM utilisation (NVML per-process samples)"
GPU_MACHINE_NOTE = "machine scope: this driver gives no per-process GPU utilisation"


def _not_found(e: Exception) -> bool:
    """NVML's 'no samples since then' error: the query works, nothing ran."""
    return type(e).__name__.endswith("NotFound")


class GpuShare(_Split):
    """Wraps the NVML meter in process scope: each GPU's energy times the tree's share of
    that GPU's SM utilisation in the interval, from ``nvmlDeviceGetProcessUtilization``.
    A GPU whose driver gives no per-process samples stays machine-wide, and says so."""

    def __init__(self, inner: Any, probe: LoadProbe):
        super().__init__(inner, probe)
        self._split: dict[str, Any] = {}  # channel -> NVML handle, where per-process samples exist
        self._seen: dict[str, int] = {}  # channel -> the last sample's timestamp (us)

    @property
    def gpu_map(self) -> dict[str, str]:
        return dict(getattr(self.inner, "gpu_map", {}))

    def open(self) -> None:
        self.inner.open()
        nv = self.inner._nv
        infos = {c.name: c for c in self.inner.channels}
        channels = []
        for ch, handle, _ in self.inner._devices:
            c = infos[ch]
            try:
                nv.nvmlDeviceGetProcessUtilization(handle, 0)
                ok = True
            except Exception as e:  # NVMLError_NotSupported and kin: no split for this GPU
                ok = _not_found(e)
            if ok:
                self._split[ch] = handle
                self._seen[ch] = 0
            channels.append(self._noted(c, GPU_SPLIT_NOTE if ok else GPU_MACHINE_NOTE))
        self._begin(channels)

    def _share(self, ch: str, handle: Any, pids: set[int]) -> float:
        nv = self.inner._nv
        try:
            samples = nv.nvmlDeviceGetProcessUtilization(handle, self._seen[ch])
        except Exception as e:
            if _not_found(e):
                return 0.0  # nothing ran on the GPU: its energy is nobody's
            raise MeterError(f"NVML per-process utilisation failed: {e}") from None
        total = ours = 0
        for s in samples:
            total += s.smUtil
            if s.pid in pids:
                ours += s.smUtil
            self._seen[ch] = max(self._seen[ch], int(s.timeStamp))
        return ours / total if total > 0 else 0.0

    def read(self) -> dict[str, float]:
        cur = self.inner.read()
        pids = self.probe.pids()

        def share(name: str) -> float:
            handle = self._split.get(name)
            return 1.0 if handle is None else self._share(name, handle, pids)

        return self._accumulate(cur, share)
