"""CPU and RAM power when no energy counter exists: a model, not a measurement.

CPU: ``P = TDP x max(utilisation, 10%)`` over each sampling interval (the linear rule with a
10% floor that codecarbon uses for its CPU-load mode). TDP comes from codecarbon's CPU table;
a model that is not in it gets 4 W per hardware thread visible here (codecarbon's fallback).
RAM: ``0.375 W per GiB`` (3 W per 8 GB, codecarbon's earlier rule).

What utilisation and memory are depends on the scope:

* ``process`` (the default for this meter): the pytest process tree's CPU time over the
  interval, divided by the interval times the machine's CPUs, and the tree's resident
  memory. A neighbour's load on the machine changes neither. CPU time that enters the tree
  after it was spent (a child reaped or found since the last reading) counts in full in the
  interval it is seen, which may then exceed 100%: not capped, so not lost.
* ``machine``: the machine's busy share of the CPUs from ``/proc/stat``, and the installed
  memory.

Every number from this meter is flagged ``estimated`` wherever it appears.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from .. import hardware
from .base import ESTIMATED, ChannelInfo, MeterBase, MeterError
from .load import LoadProbe, ProcFile, cpu_ticks

PROC_STAT = Path("/proc/stat")
W_PER_THREAD_FALLBACK = 4.0
RAM_W_PER_GIB = 0.375
IDLE_FLOOR = 0.10


def _cpu_times(stat: ProcFile) -> tuple[float, float]:
    """(busy, total) CPU time since boot, machine-wide, in jiffies or seconds."""
    try:
        return cpu_ticks(stat.read(), stat.path)
    except ValueError as e:
        raise MeterError(str(e)) from None
    except OSError:
        t = os.times()
        busy = t.user + t.system + t.children_user + t.children_system
        return busy, time.monotonic() * hardware.cpu_threads()


class EstimateMeter(MeterBase):
    def __init__(
        self,
        channels: tuple[str, ...] = ("cpu", "ram"),
        interval_s: float = 0.1,
        scope: str = "machine",
        probe: LoadProbe | None = None,
    ):
        super().__init__(name="estimate", cheap=True)
        self.want = channels
        self.interval_s = interval_s
        self.scope = scope
        self.probe = probe if probe is not None or scope != "process" else LoadProbe()
        self.cpus = os.cpu_count() or 1
        self._last_tree_s = 0.0
        self._last_rss: int | None = None
        self._ram_machine = True  # RAM from installed memory (machine scope, or no tree figure)
        self.tdp_w = 0.0
        self.ram_w = 0.0
        self._last_t: int | None = None
        self._last_busy = self._last_total = 0.0
        self._cpu_j = self._ram_j = 0.0
        self.last_utilisation: float | None = None
        self._stat = ProcFile(PROC_STAT)  # machine scope: /proc/stat, kept open

    def open(self) -> None:
        infos: list[ChannelInfo] = []
        if "cpu" in self.want:
            model = hardware.cpu_model()
            threads = hardware.cpu_threads()
            hit = hardware.lookup_tdp(model)
            # Utilisation is relative to the CPUs the TDP is for: the package's, or those seen here.
            self.cpus = (os.cpu_count() or threads) if hit else threads
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
                    note=f"{how} x max(utilisation, {IDLE_FLOOR:.0%}), {self._cpu_scope()}",
                )
            )
        first = self.probe.read() if self.probe is not None else None  # the first reading, and what it can tell
        if "ram" in self.want:
            self._ram_machine = first is None or first.tree_rss_bytes is None
            if not self._ram_machine:
                infos.append(
                    ChannelInfo(
                        "ram",
                        ESTIMATED,
                        self.interval_s,
                        hardware="resident memory of the pytest process tree",
                        note=f"{RAM_W_PER_GIB} W/GiB x the process tree's resident memory (process scope)",
                    )
                )
            else:
                total = hardware.ram_total_bytes()
                gib = (total or 0) / 2**30
                self.ram_w = RAM_W_PER_GIB * gib
                infos.append(
                    ChannelInfo(
                        "ram",
                        ESTIMATED,
                        self.interval_s,
                        hardware=f"{gib:.1f} GiB",
                        note=f"{RAM_W_PER_GIB} W/GiB x {gib:.1f} GiB = {self.ram_w:.1f} W, constant (machine scope"
                        + (": the process tree's resident memory is unknown here)" if self.probe else ")"),
                    )
                )
        self.channels = infos
        if first is not None:
            self._last_t, self._last_tree_s, self._last_rss = first.t_ns, first.tree_cpu_s, first.tree_rss_bytes
        else:
            self._last_t = time.monotonic_ns()
            self._last_busy, self._last_total = _cpu_times(self._stat)

    def _cpu_scope(self) -> str:
        if self.scope == "process":
            return f"utilisation = the pytest process tree's CPU time / (elapsed x {self.cpus} CPUs) (process scope)"
        return "utilisation = the machine's busy CPU share from /proc/stat (machine scope)"

    def close(self) -> None:
        self._stat.close()

    def read(self) -> dict[str, float]:
        return self.read_at(time.monotonic_ns())

    def read_at(self, now: int) -> dict[str, float]:
        """The model's cumulative energy up to ``now`` (ns), the instant the reading is stamped.

        The sampler stamps this meter's readings at ``now`` itself (not at the middle of the
        call), so that the energy and its timestamp describe the same instant.
        """
        assert self._last_t is not None, "open() first"
        dt = (now - self._last_t) / 1e9
        if self.probe is not None:
            try:
                load = self.probe.read(now)
            except (OSError, ValueError, IndexError) as e:
                raise MeterError(f"the process tree's CPU time could not be read: {e}") from None
            util = (load.tree_cpu_s - self._last_tree_s) / (dt * self.cpus) if dt > 0 else 0.0
            rss = load.tree_rss_bytes
            if self._ram_machine:
                self._ram_j += self.ram_w * dt
            elif rss is None or self._last_rss is None:
                raise MeterError("the process tree's resident memory could not be read")
            else:
                self._ram_j += RAM_W_PER_GIB * (rss + self._last_rss) / 2 / 2**30 * dt
            self._last_tree_s, self._last_rss = load.tree_cpu_s, rss
        else:
            try:
                busy, total = _cpu_times(self._stat)
            except (OSError, ValueError, IndexError) as e:
                raise MeterError(f"CPU utilisation could not be read: {e}") from None
            d_total = total - self._last_total
            util = (busy - self._last_busy) / d_total if d_total > 0 else 0.0
            self._last_busy, self._last_total = busy, total
            self._ram_j += self.ram_w * dt
        # Machine scope: a share, at most 1. Process scope: CPU time can enter the tree after it
        # was spent (a child reaped, or found, since the last reading) and is charged in full
        # when seen, not capped at 100% of this interval, which would lose it.
        util = max(util, 0.0) if self.probe is not None else min(max(util, 0.0), 1.0)
        self.last_utilisation = util
        self._cpu_j += self.tdp_w * max(util, IDLE_FLOOR) * dt
        self._last_t = now
        out: dict[str, float] = {}
        if "cpu" in self.want:
            out["cpu"] = self._cpu_j
        if "ram" in self.want:
            out["ram"] = self._ram_j
        return out
