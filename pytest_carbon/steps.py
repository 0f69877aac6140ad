"""Pure per-item statistics of a phase whose test marked each item's end (``ph.step()``).

A phase ``[t0, t1]`` with step marks ``m1 < m2 < ... < mn`` has items ``[t0, m1]``,
``[m1, m2]``, ... The first ``warmup`` items are left out of the statistics and reported on
their own. The rest are grouped into *chunks* of ``k`` consecutive items, ``k`` the smallest
size for which every chunk lasts at least the meters' resolution (a remainder joins the last
chunk), so that each chunk's energy is a real measurement, not an interpolation inside one
meter reading. Each chunk gives one per-item value: its energy / its items.

Reported: the number of items and chunks, the median, 10th and 90th percentiles of the chunk
values, the mean per item (post-warm-up energy / post-warm-up items) and a 95% confidence
interval of that mean (Student's t over the chunk values; none with fewer than 2 chunks).

No pytest, no meters: windows' energies come from a function the caller passes.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping, NamedTuple, Sequence

# Two-sided 95% quantiles of Student's t, by degrees of freedom (1-30, then 40, 60, 120).
_T95 = {
    1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228,
    11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120, 17: 2.110, 18: 2.101, 19: 2.093,
    20: 2.086, 21: 2.080, 22: 2.074, 23: 2.069, 24: 2.064, 25: 2.060, 26: 2.056, 27: 2.052, 28: 2.048,
    29: 2.045, 30: 2.042, 40: 2.021, 60: 2.000, 120: 1.980,
}  # fmt: skip


def t95(df: int) -> float:
    """The 97.5th percentile of Student's t with ``df`` degrees of freedom (table, rounded up)."""
    if df < 1:
        raise ValueError("a t quantile needs 1 or more degrees of freedom")
    if df in _T95:
        return _T95[df]
    for d in (40, 60, 120):  # between table rows: the next smaller df's quantile (wider, safe)
        if df < d:
            return _T95[max(k for k in _T95 if k < d)]
    return 1.960


def coarsest_ns(resolution_s: Mapping[str, float]) -> int:
    """The longest of the channels' resolutions (s), in ns: every chunk must last at least it."""
    return int(max(resolution_s.values(), default=0.0) * 1e9)


def quantile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolated quantile (the same rule as ``statistics.quantiles(method="inclusive")``)."""
    n = len(sorted_values)
    if n == 1:
        return sorted_values[0]
    pos = q * (n - 1)
    i = int(math.floor(pos))
    if i >= n - 1:
        return sorted_values[-1]
    return sorted_values[i] + (sorted_values[i + 1] - sorted_values[i]) * (pos - i)


def chunk_bounds(t0: int, marks: Sequence[int], warmup: int, resolution_ns: int) -> tuple[list[int], int]:
    """The chunk boundaries after the warm-up (ns) and the items per chunk.

    ``([], 0)`` when no item follows the warm-up. When even all post-warm-up items together
    last less than the resolution, one chunk of them all (its caller flags it approximate).
    """
    if warmup >= len(marks):
        return [], 0
    first = t0 if warmup == 0 else marks[warmup - 1]
    post = marks[warmup:]  # where each item after the warm-up ends
    n = len(post)
    for k in range(1, n + 1):
        full = n // k  # chunks of k items; a remainder joins the last one
        if full == 1:
            break  # one chunk of them all
        bounds = [first, *(post[(i + 1) * k - 1] for i in range(full - 1)), post[-1]]
        if all(b - a >= resolution_ns for a, b in zip(bounds, bounds[1:])):
            return bounds, k
    return [first, post[-1]], n


class PerItem(NamedTuple):
    """Per-item statistics of one phase (energy in J; CO2 = energy x g per J)."""

    n: int  # items after the warm-up
    chunks: int
    items_per_chunk: int
    median_j: float
    p10_j: float
    p90_j: float
    mean_j: float
    ci95_j: tuple[float, float] | None  # None with fewer than 2 chunks
    approximate: bool  # a chunk shorter than the resolution (too few items to make longer ones)
    warmup_n: int
    warmup_energy_j: float | None
    unknown_chunks: int  # chunks a meter gap left unknown, not counted
    g_per_j: float  # grams CO2eq per joule, for the CO2 figures

    def to_json(self) -> dict[str, Any]:
        g_per_j = self.g_per_j

        def co2(x: float | None) -> float | None:
            return None if x is None else x * g_per_j

        return {
            "n": self.n,
            "chunks": self.chunks,
            "items_per_chunk": self.items_per_chunk,
            "median_j": self.median_j,
            "p10_j": self.p10_j,
            "p90_j": self.p90_j,
            "mean_j": self.mean_j,
            "ci95_j": None if self.ci95_j is None else list(self.ci95_j),
            "median_co2_g": co2(self.median_j),
            "mean_co2_g": co2(self.mean_j),
            "ci95_co2_g": None if self.ci95_j is None else [self.ci95_j[0] * g_per_j, self.ci95_j[1] * g_per_j],
            "approximate": self.approximate,
            "unknown_chunks": self.unknown_chunks,
            "warmup": {
                "n": self.warmup_n,
                "energy_j": self.warmup_energy_j,
                "mean_j": None if not self.warmup_n or self.warmup_energy_j is None else self.warmup_energy_j / self.warmup_n,
            },
        }


def per_item(
    t0: int,
    marks: Sequence[int],
    warmup: int,
    resolution_ns: int,
    energy: Callable[[int, int], float | None],
    g_per_j: float,
) -> PerItem | None:
    """Statistics of the items after the warm-up; None when no item follows it or no chunk
    energy is known. ``energy(a, b)`` is a window's energy in J (None: unknown)."""
    bounds, k = chunk_bounds(t0, marks, warmup, resolution_ns)
    if not bounds:
        return None
    n = len(marks) - warmup
    chunks = len(bounds) - 1
    values: list[float] = []
    sizes: list[int] = []
    unknown = 0
    approximate = False
    for i in range(chunks):
        a, b = bounds[i], bounds[i + 1]
        items = k if i < chunks - 1 else n - k * (chunks - 1)
        approximate = approximate or b - a < resolution_ns
        e = energy(a, b)
        if e is None:
            unknown += 1
            continue
        values.append(e / items)
        sizes.append(items)
    if not values:
        return None
    import statistics  # here, not at import: a few ms of every run's fixed cost, for phases with steps only

    ordered = sorted(values)
    mean = sum(v * s for v, s in zip(values, sizes)) / sum(sizes)
    ci = None
    if len(values) >= 2:
        half = t95(len(values) - 1) * statistics.stdev(values) / math.sqrt(len(values))
        ci = (mean - half, mean + half)
    warm = energy(t0, marks[warmup - 1]) if warmup else 0.0
    return PerItem(
        n=n,
        chunks=len(values),
        items_per_chunk=k,
        median_j=statistics.median(values),
        p10_j=quantile(ordered, 0.10),
        p90_j=quantile(ordered, 0.90),
        mean_j=mean,
        ci95_j=ci,
        approximate=approximate,
        warmup_n=warmup,
        warmup_energy_j=warm,
        unknown_chunks=unknown,
        g_per_j=g_per_j,
    )


def points(t0: int, marks: Sequence[int], warmup: int, resolution_ns: int) -> list[int]:
    """The instants between which :func:`per_item` asks for energy (for attribution)."""
    return chunk_bounds(t0, marks, warmup, resolution_ns)[0]
