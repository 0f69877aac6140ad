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

from bisect import bisect_left
from collections import Counter
from itertools import accumulate, compress, repeat
from operator import add, ge, itemgetter, mul, not_, sub, truediv
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


class ChannelTotals(NamedTuple):
    """One channel's energy: measured, given to tests, incomplete, unattributed (J)."""

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

    def __init__(self, claims: Sequence[Claim | tuple[int, int, frozenset[str] | None]], extra_points: Iterable[int], channels: Sequence[Channel]):
        # In bulk (C-level maps, a sort of mostly sorted runs, dict.fromkeys to drop repeats):
        # ten thousand tests make twenty thousand breakpoints, a Python loop over them each.
        t0s = list(map(itemgetter(0), claims))
        t1s = list(map(itemgetter(1), claims))
        points = [*t0s, *t1s, *extra_points]
        for ch in channels:
            for seg in ch.segments:
                points += (seg.times[0], seg.times[-1])
        points.sort()
        self.breakpoints = bps = list(dict.fromkeys(points))
        if any(map(ge, t0s, t1s)):  # an empty window claims nothing
            t0s, t1s = [a for a, b in zip(t0s, t1s) if b > a], [b for a, b in zip(t0s, t1s) if b > a]
        # Claims open in [bps[i], bps[i + 1]], for each i: those started minus those ended by bps[i].
        up, down, head = Counter(t0s), Counter(t1s), bps[:-1]
        self.open: list[int] = list(accumulate(map(sub, map(up.get, head, repeat(0)), map(down.get, head, repeat(0)))))
        self.index = dict(zip(bps, range(len(bps))))


class ChannelAttribution:
    """Prefix sums of one channel's energy shares, for O(1) window queries at breakpoints."""

    def __init__(self, channel: Channel, claims: Sequence[Claim] = (), extra_points: Iterable[int] = (), grid: Grid | None = None):
        """``claims`` and ``extra_points`` make the channel's own grid; or ``grid``, shared."""
        if grid is None:
            mine = [c for c in claims if c[2] is None or channel.name in c[2]]
            grid = Grid(mine, extra_points, [channel])
        bps = self.breakpoints = grid.breakpoints
        opens, index = grid.open, grid.index
        share = [0.0] * (len(bps) - 1) if bps else []  # per elementary interval: energy / claims open
        uncovered = list(map(sub, bps[1:], bps[:-1]))  # per interval: ns no segment covers
        self.measured_j = 0.0
        self.unattributed_j = 0.0
        self.gap_ns = 0
        for seg in channel.segments:
            # The breakpoints include each segment's ends: its intervals are [i0, i1).
            times, values = seg.times, seg.values
            i0, i1 = index[times[0]], index[times[-1]]
            if i1 == i0:
                continue
            # Cumulative energy at each breakpoint: a reading's own value at its instant, and
            # between two readings v0 + (v1 - v0) * (b - t0) / (t1 - t0), a reading interval's
            # breakpoints at a time through C-level maps (hundreds per interval in a long run).
            e_at = [values[0]]
            pos = i0 + 1
            for k in range(1, len(times)):
                t0, t1, v0, v1 = times[k - 1], times[k], values[k - 1], values[k]
                hi = bisect_left(bps, t1, pos, i1 + 1)
                if hi > pos:
                    e_at += map(add, repeat(v0), map(truediv, map(mul, repeat(v1 - v0), map(sub, bps[pos:hi], repeat(t0))), repeat(t1 - t0)))
                if hi <= i1 and bps[hi] == t1:
                    e_at.append(v1)
                    hi += 1
                pos = hi
            e = list(map(sub, e_at[1:], e_at[:-1]))
            o = opens[i0:i1]
            self.measured_j += sum(e)
            self.unattributed_j += sum(compress(e, map(not_, o)))  # no claim open: nobody's
            if max(o) <= 1:  # tests one after another: e where one is open, else 0 (e * 0)
                share[i0:i1] = map(mul, e, o)
            else:  # e / open where claims are open, else 0 (e * False / 1)
                share[i0:i1] = map(truediv, map(mul, e, map(bool, o)), map(max, o, repeat(1)))
            uncovered[i0:i1] = repeat(0, i1 - i0)
        if channel.segments:  # gaps: uncovered time between the first reading and the last
            first, final = index[channel.segments[0].times[0]], index[channel.segments[-1].times[-1]]
            self.gap_ns = sum(uncovered[first:final])
        self._share = [0.0, *accumulate(share)]  # prefix: sum of energy/open over intervals before point i
        self._uncovered = [0, *accumulate(uncovered)]  # prefix: ns not covered by any segment
        self._index = index

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
    claims: Sequence[Claim | tuple[int, int, frozenset[str] | None]],
    extra_points: Iterable[int] = (),
) -> tuple[dict[str, ChannelAttribution], dict[str, ChannelTotals]]:
    """Attribute every channel's energy to the claims; return query objects and totals.

    ``extra_points`` are the ends of sub-windows (phases) to be queried later.
    Totals obey ``measured = attributed + incomplete + unattributed`` per channel.
    """
    extra = list(extra_points)
    # Channels claimed by the same claims share one grid: each channel's set of claims is
    # named by the distinct channel sets of the claims that include it.
    kinds = set(map(itemgetter(2), claims))  # a claim is a Claim or a plain (t0, t1, channels)
    groups: dict[frozenset[frozenset[str] | None], list[Channel]] = {}
    for ch in channels:
        groups.setdefault(frozenset(k for k in kinds if k is None or ch.name in k), []).append(ch)
    result: dict[str, ChannelAttribution] = {}
    totals: dict[str, ChannelTotals] = {}
    for key, members in groups.items():
        mine = claims if len(key) == len(kinds) else [c for c in claims if c[2] in key]
        grid = Grid(mine, extra, members)
        index = grid.index
        i0s = list(map(index.__getitem__, map(itemgetter(0), mine)))
        i1s = list(map(index.__getitem__, map(itemgetter(1), mine)))
        for ch in members:
            ca = ChannelAttribution(ch, grid=grid)
            share, uncovered = ca._share, ca._uncovered
            covered = list(map(sub, map(share.__getitem__, i1s), map(share.__getitem__, i0s)))
            gapped = list(map(sub, map(uncovered.__getitem__, i1s), map(uncovered.__getitem__, i0s)))
            attributed = sum(compress(covered, map(not_, gapped)))
            incomplete = sum(compress(covered, gapped))  # a window with a gap: its energy is unknown, not partial
            result[ch.name] = ca
            totals[ch.name] = ChannelTotals(
                measured_j=ca.measured_j,
                attributed_j=attributed,
                incomplete_j=incomplete,
                unattributed_j=ca.unattributed_j,
                gap_ns=ca.gap_ns,
            )
    return result, {ch.name: totals[ch.name] for ch in channels}
