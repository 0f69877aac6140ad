"""Pure attribution: cumulative-energy timelines + time windows -> energy per window.

No pytest, no meters, no files. Inputs are plain data:

* a :class:`~pytest_carbon.timeline.Channel` per energy channel (``gpu:0``, ``cpu``, ...): its
  readings as segments with gaps between them (see :mod:`pytest_carbon.timeline`).
* *claims*: the test windows ``[t0, t1]`` that share machine-wide channels. Energy of every
  interval is split equally among the claims open in it, so concurrent tests (xdist workers,
  threads) never count the same joule twice.
* *windows* to evaluate: each test, and each phase inside a test (a phase takes its test's share).

The bookkeeping keeps, per channel: ``measured = attributed + incomplete + unattributed``
(``incomplete`` is the measured part of windows that also overlap a gap, whose own energy is
therefore reported as unknown rather than as a partial number).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, NamedTuple, Sequence

from .timeline import Channel, WindowEnergy

__all__ = ["ChannelAttribution", "ChannelTotals", "Claim", "Grid", "attribute"]


class Claim(NamedTuple):
    """A test window that takes a share of the channels it claims (None: all channels).

    A NamedTuple: one is made per test window when the report is built.
    """

    t0: int
    t1: int
    channels: frozenset[str] | None = None


@dataclass(frozen=True)
class ChannelTotals:
    measured_j: float
    attributed_j: float
    incomplete_j: float
    unattributed_j: float
    gap_ns: int


class Grid:
    """The breakpoints that channels shared by the same claims have in common.

    Every claim's ends, the extra points (phase and chunk ends) and every segment end of each
    of the channels; and how many claims are open in each elementary interval between two
    breakpoints. Built once for all the channels a run's tests share (once per set of claims
    under xdist, where a test may claim only some GPUs), so that a channel more costs its
    own readings' walk, not another sort of every test's window.
    """

    def __init__(self, claims: Sequence[Claim], extra_points: Iterable[int], channels: Sequence[Channel]):
        points: set[int] = set(extra_points)
        for c in claims:
            points.add(c.t0)
            points.add(c.t1)
        for ch in channels:
            for seg in ch.segments:
                points.add(seg.start)
                points.add(seg.end)
        self.breakpoints = bps = sorted(points)
        delta: dict[int, int] = {}
        for c in claims:
            if c.t1 > c.t0:
                delta[c.t0] = delta.get(c.t0, 0) + 1
                delta[c.t1] = delta.get(c.t1, 0) - 1
        # Claims open in [bps[i], bps[i + 1]], for each i.
        self.open: list[int] = []
        n = 0
        for t in bps[:-1]:
            n += delta.get(t, 0)
            self.open.append(n)
        self.index = {t: i for i, t in enumerate(bps)}


class ChannelAttribution:
    """Prefix sums of one channel's energy shares, for O(1) window queries at breakpoints."""

    def __init__(self, channel: Channel, claims: Sequence[Claim] = (), extra_points: Iterable[int] = (), grid: Grid | None = None):
        """``claims`` and ``extra_points`` make the channel's own grid; or ``grid``, shared."""
        if grid is None:
            mine = [c for c in claims if c.channels is None or channel.name in c.channels]
            grid = Grid(mine, extra_points, [channel])
        bps = self.breakpoints = grid.breakpoints
        opens = grid.open
        n = len(bps)
        share = [0.0] * n  # prefix: sum of energy/open over intervals before point i
        uncovered = [0] * n  # prefix: ns not covered by any segment
        self.measured_j = 0.0
        self.unattributed_j = 0.0
        self.gap_ns = 0
        segs = channel.segments
        nsegs = len(segs)
        first, final = (segs[0].start, segs[-1].end) if segs else (0, -1)
        k = 0  # the segment that may cover the current interval; breakpoints only grow
        times: list[int] = []
        values: list[float] = []
        j = 0  # times[j] <= the current point < times[j + 1]
        prev_v = 0.0  # the value at the last interval's end: the next one's start
        starts = [seg.start for seg in segs]
        ends = [seg.end for seg in segs]
        for i in range(n - 1):
            a, b = bps[i], bps[i + 1]
            while k < nsegs and ends[k] <= a:
                k += 1
            if k >= nsegs or starts[k] > a or ends[k] < b:
                share[i + 1] = share[i]
                uncovered[i + 1] = uncovered[i] + (b - a)
                if first <= a and b <= final:
                    self.gap_ns += b - a
                continue
            seg = segs[k]
            if seg.times is not times:
                # A new segment: the breakpoints include its start, so this interval begins
                # at its first reading; walk its readings from there.
                times, values, j = seg.times, seg.values, 0
                va = values[0]
            else:
                va = prev_v  # the previous interval's end, in the same segment
            while j + 1 < len(times) - 1 and times[j + 1] < b:
                j += 1
            # times[j] < b <= times[j + 1]: interpolate (exact at a reading)
            t0, t1 = times[j], times[j + 1]
            vb = values[j + 1] if b == t1 else values[j] + (values[j + 1] - values[j]) * (b - t0) / (t1 - t0)
            prev_v = vb
            e = vb - va
            self.measured_j += e
            uncovered[i + 1] = uncovered[i]
            open_now = opens[i]
            if open_now > 0:
                share[i + 1] = share[i] + e / open_now
            else:
                share[i + 1] = share[i]
                self.unattributed_j += e
        self._share = share
        self._uncovered = uncovered
        self._index = grid.index

    def window(self, t0: int, t1: int) -> WindowEnergy:
        """Energy share of a window whose ends are breakpoints (a claim or an extra point)."""
        covered, gap = self.between(t0, t1)
        return WindowEnergy(None if gap else covered, covered, gap)

    def between(self, t0: int, t1: int) -> tuple[float, int]:
        """(covered energy share, uncovered ns) of a window whose ends are breakpoints: the
        parts of :meth:`window`, as a plain tuple for the one made per test and channel."""
        i, j = self._index[t0], self._index[t1]  # a KeyError: not a breakpoint, a caller's bug
        return self._share[j] - self._share[i], self._uncovered[j] - self._uncovered[i]


def attribute(
    channels: Sequence[Channel],
    claims: Sequence[Claim],
    extra_points: Iterable[int] = (),
) -> tuple[dict[str, ChannelAttribution], dict[str, ChannelTotals]]:
    """Attribute every channel's energy to the claims; return query objects and totals.

    ``extra_points`` are the ends of sub-windows (phases) to be queried later.
    Totals obey ``measured = attributed + incomplete + unattributed`` per channel.
    """
    extra = list(extra_points)
    # Channels claimed by the same claims share one grid: each channel's set of claims is
    # named by the distinct channel sets of the claims that include it.
    kinds = {c.channels for c in claims}
    groups: dict[frozenset[frozenset[str] | None], list[Channel]] = {}
    for ch in channels:
        groups.setdefault(frozenset(k for k in kinds if k is None or ch.name in k), []).append(ch)
    result: dict[str, ChannelAttribution] = {}
    totals: dict[str, ChannelTotals] = {}
    for key, members in groups.items():
        mine = [c for c in claims if c.channels in key]
        grid = Grid(mine, extra, members)
        index = grid.index
        ends = [(index[c.t0], index[c.t1]) for c in mine]
        for ch in members:
            ca = ChannelAttribution(ch, grid=grid)
            share, uncovered = ca._share, ca._uncovered
            attributed = incomplete = 0.0
            for i, j in ends:
                covered = share[j] - share[i]
                if uncovered[j] - uncovered[i]:
                    incomplete += covered  # a window with a gap: its energy is unknown, not partial
                else:
                    attributed += covered
            result[ch.name] = ca
            totals[ch.name] = ChannelTotals(
                measured_j=ca.measured_j,
                attributed_j=attributed,
                incomplete_j=incomplete,
                unattributed_j=ca.unattributed_j,
                gap_ns=ca.gap_ns,
            )
    return result, {ch.name: totals[ch.name] for ch in channels}
