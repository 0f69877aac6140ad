"""The lowest layer: meter readings as a timeline of cumulative joules per channel.

A *segment* is a run of successful, monotone cumulative readings ``(t_ns, joules)``. A failed
read or a counter that went backwards ends a segment; the time between two segments is a
*gap* whose energy nobody knows. Energy at a time inside a segment is linear interpolation
between the neighbouring readings. Timestamps are ``time.monotonic_ns()``.

A *load series* holds the machine's and the pytest process tree's cumulative CPU time, from
which each window's ``foreign_cpu_share`` comes.

Also the recorded-timeline schema (``--carbon-record``), which the sampler writes and the
replay meter reads.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Iterable, NamedTuple, Sequence

TIMELINE_SCHEMA = "pytest-carbon-timeline/1"


@dataclass
class Segment:
    """A run of successful readings: timestamps (ns, increasing) and cumulative joules."""

    times: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)

    @property
    def start(self) -> int:
        return self.times[0]

    @property
    def end(self) -> int:
        return self.times[-1]

    def at(self, t: int) -> float:
        """Interpolated cumulative energy (J) at ``t``; ``t`` must lie within the segment."""
        times = self.times
        i = bisect.bisect_left(times, t)
        if i < len(times) and times[i] == t:
            return self.values[i]
        if i == 0 or i == len(times):
            raise ValueError(f"time {t} outside segment [{times[0]}, {times[-1]}]")
        t0, t1 = times[i - 1], times[i]
        v0, v1 = self.values[i - 1], self.values[i]
        return v0 + (v1 - v0) * (t - t0) / (t1 - t0)


@dataclass
class Channel:
    """A channel's readings: segments of a cumulative series, gaps between them."""

    name: str
    segments: list[Segment] = field(default_factory=list)

    def measured_j(self) -> float:
        return sum(s.values[-1] - s.values[0] for s in self.segments if len(s.times) > 1)

    def gaps(self) -> list[tuple[int, int]]:
        """Spans between segments (ns), where energy is unknown."""
        segs = [s for s in self.segments if s.times]
        return [(a.end, b.start) for a, b in zip(segs, segs[1:])]


def build_segments(samples: Iterable[tuple[int, float | None]]) -> list[Segment]:
    """Turn ``(t_ns, cumulative_j or None-for-failed-read)`` into segments.

    A failed read or a reading below the previous one (a counter reset) closes the segment.
    Segments with a single reading cover no time and carry no energy; they are dropped.
    """
    segments: list[Segment] = []
    cur = Segment()
    for t, v in samples:
        if v is None:
            if len(cur.times) > 1:
                segments.append(cur)
            cur = Segment()
            continue
        if cur.times and (v < cur.values[-1] or t <= cur.times[-1]):
            if t <= cur.times[-1] and v >= cur.values[-1]:
                continue  # duplicate timestamp: keep the first reading
            if len(cur.times) > 1:
                segments.append(cur)
            cur = Segment()
        cur.times.append(t)
        cur.values.append(v)
    if len(cur.times) > 1:
        segments.append(cur)
    return segments


class WindowEnergy(NamedTuple):
    """Energy of one window on one channel: joules, or None where a gap makes it unknown."""

    energy_j: float | None
    covered_j: float  # the measured part, also when the window is incomplete
    gap_ns: int


def segments_window(segments: Iterable[Segment], t0: int, t1: int) -> WindowEnergy:
    """Energy of the window ``[t0, t1]`` on one channel's segments, claimed by nobody else.

    Known only where the segments cover the whole window; otherwise ``energy_j`` is None,
    ``covered_j`` the energy of the covered parts and ``gap_ns`` the uncovered time (a failed
    read, a counter reset, or a window that reaches past the last reading).
    """
    covered_j = 0.0
    covered_ns = 0
    for s in segments:
        a, b = max(s.start, t0), min(s.end, t1)
        if b > a:
            covered_j += s.at(b) - s.at(a)
            covered_ns += b - a
    gap = max(0, t1 - t0 - covered_ns)
    return WindowEnergy(None if gap else covered_j, covered_j, gap)


class LoadSeries(NamedTuple):
    """Cumulative CPU seconds sampled over the run: the machine's busy time and the tree's.

    Readings where the machine's figure is unknown are left out.
    """

    times: Sequence[int]
    machine_busy_s: Sequence[float]
    tree_cpu_s: Sequence[float]

    def foreign_share(self, t0: int, t1: int) -> float | None:
        """Share of the machine's busy CPU time in [t0, t1] spent outside the process tree.

        Interpolated between readings; None outside the readings or when nothing was busy.
        Computed once per test and phase window: both ends' interpolation is written out here.
        """
        times = self.times
        if not times or t0 < times[0] or t1 > times[-1]:
            return None
        busy, tree = self.machine_busy_s, self.tree_cpu_s
        i = bisect.bisect_left(times, t0)
        if times[i] == t0:
            b0, c0 = busy[i], tree[i]
        else:
            f = (t0 - times[i - 1]) / (times[i] - times[i - 1])
            b0, c0 = busy[i - 1] + (busy[i] - busy[i - 1]) * f, tree[i - 1] + (tree[i] - tree[i - 1]) * f
        j = bisect.bisect_left(times, t1, i)
        if times[j] == t1:
            b1, c1 = busy[j], tree[j]
        else:
            f = (t1 - times[j - 1]) / (times[j] - times[j - 1])
            b1, c1 = busy[j - 1] + (busy[j] - busy[j - 1]) * f, tree[j - 1] + (tree[j] - tree[j - 1]) * f
        if b1 - b0 <= 0:
            return None
        return min(max(1.0 - (c1 - c0) / (b1 - b0), 0.0), 1.0)


NO_LOAD = LoadSeries((), (), ())
