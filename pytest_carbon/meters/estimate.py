"""CPU and RAM power when no energy counter exists: a model, not a measurement.

CPU: ``P = TDP x max(utilisation, 10%)``, utilisation being the machine-wide busy share of
the CPUs from ``/proc/stat`` over each sampling interval (the linear rule with a 10% floor
that codecarbon uses for its CPU-load mode). TDP comes from codecarbon's CPU table; a model
that is not in it gets 4 W per hardware thread visible here (codecarbon's fallback).
RAM: ``0.375 W per GiB`` of installed memory, constant (3 W per 8 GB, codecarbon's earlier
rule). Every number from this meter is flagged ``estimated`` wherever it appears.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from .. import hardware
from .base import ESTIMATED, ChannelInfo, MeterBase, MeterError

PROC_STAT = Path("/proc/stat")
W_PER_THREAD_FALLBACK = 4.0
RAM_W_PER_GIB = 0.375
IDLE_FLOOR = 0.10


def _cpu_times() -> tuple[float, float]:
    """(busy, total) CPU time since boot, machine-wide, in jiffies or seconds."""
    try:
        fields = PROC_STAT.read_text().split("\n", 1)[0].split()
    except OSError:
        t = os.times()
        busy = t.user + t.system + t.children_user + t.children_system
        return busy, time.monotonic() * hardware.cpu_threads()
    if fields[0] != "cpu":
        raise MeterError(f"unexpected first line in {PROC_STAT}: {fields[:3]}")
    vals = [float(x) for x in fields[1:9]]  # user nice system idle iowait irq softirq steal
    idle = vals[3] + vals[4]
    total = sum(vals)
    return total - idle, total


class EstimateMeter(MeterBase):
    def __init__(self, channels: tuple[str, ...] = ("cpu", "ram"), interval_s: float = 0.1):
        super().__init__(name="estimate")
        self.want = channels
        self.interval_s = interval_s
        self.tdp_w = 0.0
        self.ram_w = 0.0
        self._last_t: int | None = None
        self._last_busy = self._last_total = 0.0
        self._cpu_j = self._ram_j = 0.0
        self.last_utilisation: float | None = None

    def open(self) -> None:
        infos: list[ChannelInfo] = []
        if "cpu" in self.want:
            model = hardware.cpu_model()
            threads = hardware.cpu_threads()
            hit = hardware.lookup_tdp(model)
            if hit:
                self.tdp_w = hit[1]
                how = f"TDP {hit[1]:g} W ('{hit[0]}' in codecarbon's CPU table)"
            else:
                self.tdp_w = W_PER_THREAD_FALLBACK * threads
                how = (
                    f"TDP {self.tdp_w:g} W = {W_PER_THREAD_FALLBACK:g} W x {threads} threads"
                    f" ('{model}' is not in codecarbon's CPU table)"
                )
            infos.append(
                ChannelInfo(
                    "cpu",
                    ESTIMATED,
                    self.interval_s,
                    hardware=model,
                    note=f"{how} x max(utilisation, {IDLE_FLOOR:.0%})",
                )
            )
        if "ram" in self.want:
            total = hardware.ram_total_bytes()
            gib = (total or 0) / 2**30
            self.ram_w = RAM_W_PER_GIB * gib
            infos.append(
                ChannelInfo(
                    "ram",
                    ESTIMATED,
                    self.interval_s,
                    hardware=f"{gib:.1f} GiB",
                    note=f"{RAM_W_PER_GIB} W/GiB x {gib:.1f} GiB = {self.ram_w:.1f} W, constant",
                )
            )
        self.channels = infos
        self._last_busy, self._last_total = _cpu_times()
        self._last_t = time.monotonic_ns()

    def read(self) -> dict[str, float]:
        return self.read_at(time.monotonic_ns())

    def read_at(self, now: int) -> dict[str, float]:
        """The model's cumulative energy up to ``now`` (ns), the instant the reading is stamped.

        The sampler stamps this meter's readings at ``now`` itself (not at the middle of the
        call), so that the energy and its timestamp describe the same instant.
        """
        try:
            busy, total = _cpu_times()
        except (OSError, ValueError, IndexError) as e:
            raise MeterError(f"CPU utilisation could not be read: {e}") from None
        assert self._last_t is not None, "open() first"
        dt = (now - self._last_t) / 1e9
        d_total = total - self._last_total
        util = (busy - self._last_busy) / d_total if d_total > 0 else 0.0
        util = min(max(util, 0.0), 1.0)
        self.last_utilisation = util
        self._cpu_j += self.tdp_w * max(util, IDLE_FLOOR) * dt
        self._ram_j += self.ram_w * dt
        self._last_t, self._last_busy, self._last_total = now, busy, total
        out: dict[str, float] = {}
        if "cpu" in self.want:
            out["cpu"] = self._cpu_j
        if "ram" in self.want:
            out["ram"] = self._ram_j
        return out
