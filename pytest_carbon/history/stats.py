"""Pure statistics over a test's past energies: thresholds, trends and sparklines."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Sequence

BARS = "▁▂▃▄▅▆▇█"
KINDS = ("percent", "zscore", "iqr")


class ThresholdError(ValueError):
    pass


@dataclass(frozen=True)
class Threshold:
    """How far above its history a test's energy may go: ``percent:10`` (above the mean by more
    than 10%), ``zscore:3`` (more than 3 standard deviations above the mean) or ``iqr:1.5``
    (above the third quartile by more than 1.5 interquartile ranges), as Bencher offers."""

    kind: str
    value: float

    def __str__(self) -> str:
        return f"{self.kind}:{self.value:g}"


def parse_threshold(text: str) -> Threshold:
    kind, _, value = str(text).strip().partition(":")
    kind = kind.strip().lower()
    if kind not in KINDS or not value.strip():
        raise ThresholdError(f"{text!r} is not a threshold: percent:10, zscore:3 or iqr:1.5")
    try:
        v = float(value.rstrip("% "))
    except ValueError:
        raise ThresholdError(f"{text!r}: {value!r} is not a number (e.g. percent:10, zscore:3, iqr:1.5)") from None
    if not math.isfinite(v) or v <= 0:
        raise ThresholdError(f"{text!r}: the value must be a positive, finite number")
    return Threshold(kind, v)


def quartiles(values: Sequence[float]) -> tuple[float, float, float]:
    """Q1, median, Q3 by linear interpolation between order statistics (numpy's default)."""
    xs = sorted(values)
    n = len(xs)

    def q(p: float) -> float:
        h = (n - 1) * p
        lo = math.floor(h)
        hi = min(lo + 1, n - 1)
        return xs[lo] + (h - lo) * (xs[hi] - xs[lo])

    return q(0.25), q(0.5), q(0.75)


@dataclass(frozen=True)
class Judgement:
    """A value against its history: the limit it was held to and whether it is above it."""

    n: int
    mean: float
    spread: float  # the standard deviation (percent, zscore) or the IQR (iqr)
    limit: float  # the largest value the threshold accepts
    above: bool
    statistic: str  # what decided, e.g. "z = 4.2 > 3"


def judge(value: float, history: Sequence[float], threshold: Threshold) -> Judgement:
    """``value`` against ``history`` (at least 2 values) under ``threshold``."""
    if len(history) < 2:
        raise ValueError("judging against a history needs at least 2 values")
    mean = statistics.fmean(history)
    sd = statistics.stdev(history)
    if threshold.kind == "percent":
        limit = mean * (1 + threshold.value / 100)
        change = (value / mean - 1) * 100 if mean > 0 else math.inf
        return Judgement(len(history), mean, sd, limit, value > limit, f"{change:+.1f}% vs the mean (limit +{threshold.value:g}%)")
    if threshold.kind == "zscore":
        limit = mean + threshold.value * sd
        if sd > 0:
            z = (value - mean) / sd
            stat = f"z = {z:.2f} (limit {threshold.value:g})"
        else:
            stat = f"no spread in the history; {'above' if value > mean else 'not above'} its value"
        return Judgement(len(history), mean, sd, limit, value > limit, stat)
    q1, _, q3 = quartiles(history)
    iqr = q3 - q1
    limit = q3 + threshold.value * iqr
    return Judgement(
        len(history), mean, iqr, limit, value > limit,
        f"{(value - q3) / iqr:.2f} IQR above Q3 (limit {threshold.value:g})" if iqr > 0 else f"no spread in the history's middle half; {'above' if value > q3 else 'not above'} Q3",
    )  # fmt: skip


def sparkline(values: Sequence[float | None]) -> str:
    """One character per value, scaled between the values' least and greatest; ``·`` unknown."""
    known = [v for v in values if v is not None and math.isfinite(v)]
    if not known:
        return "·" * len(values)
    lo, hi = min(known), max(known)
    out = []
    for v in values:
        if v is None or not math.isfinite(v):
            out.append("·")
        elif hi == lo:
            out.append(BARS[len(BARS) // 2])
        else:
            out.append(BARS[min(len(BARS) - 1, int((v - lo) / (hi - lo) * len(BARS)))])
    return "".join(out)


def trend(values: Sequence[float | None]) -> float | None:
    """The least-squares slope over the runs, relative to the mean (per run); None under 3 known."""
    pts = [(i, v) for i, v in enumerate(values) if v is not None and math.isfinite(v)]
    if len(pts) < 3:
        return None
    mx = statistics.fmean(i for i, _ in pts)
    my = statistics.fmean(v for _, v in pts)
    sxx = sum((i - mx) ** 2 for i, _ in pts)
    if sxx == 0 or my == 0:
        return None
    return sum((i - mx) * (v - my) for i, v in pts) / sxx / my
