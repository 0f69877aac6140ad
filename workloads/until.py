"""How many steps a benchmark runs: the preset's count, or until the per-step figure is steady.

A phase's per-step statistics (``ph.step()``) come with a 95% interval. On a GPU the
benchmarks run until that interval is narrow enough (the issue's aim: within +/-5% of the
mean), with the preset's count as the least and a count and a time as the most. The rule
looks at each step's wall time (known at once, on this thread), not at its energy: the
meters' readings are the plugin's, attributed at the end of the run. So it stops when the
times are steady; the report's interval of the energy per step is what was measured, and
is what the results state, whether it reached +/-5% or not.
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass, field

from pytest_carbon.steps import t95


def half_width(times: list[float]) -> float | None:
    """The 95% interval's half-width over the mean, of the mean of ``times``; None under 2."""
    if len(times) < 2:
        return None
    mean = statistics.fmean(times)
    if mean <= 0:
        return None
    return t95(len(times) - 1) * statistics.stdev(times) / math.sqrt(len(times)) / mean


@dataclass
class Until:
    """A step-count rule for the training loops (``ldm.train_*``): called with each step's
    index before it runs, it says whether to run it.

    ``least`` steps always run. With ``target`` (relative half-width, e.g. 0.05), more run
    while the interval of the post-warm-up step times is wider, or while those steps span
    less than ``span`` seconds (the plugin's per-step energies come from chunks of steps at
    least a reading interval long: ten intervals give ten chunks), up to ``most`` steps or
    ``seconds`` since the first step; without ``target``, exactly ``least``."""

    least: int
    warmup: int = 0
    target: float | None = None
    most: int = 0
    seconds: float = math.inf
    span: float = 0.0
    clock: object = time.perf_counter
    times: list[float] = field(default_factory=list)
    why: str = ""
    ran: int = 0  # steps run, once the rule has said stop
    _start: float | None = None
    _last: float | None = None

    def __call__(self, i: int) -> bool:
        now = self.clock()  # type: ignore[operator]
        if self._start is None:
            self._start = now
        elif i > self.warmup:
            self.times.append(now - self._last)  # type: ignore[operator]
        self._last = now
        self.ran = i
        if i < self.least:
            return True
        if self.target is None:
            self.why = f"the preset's {self.least} steps"
            return False
        hw = half_width(self.times)
        if hw is not None and hw <= self.target and sum(self.times) >= self.span:
            self.why = f"step times steady: 95% interval +/-{hw:.1%} after {i} steps, {sum(self.times):.3g} s of them measured (aim +/-{self.target:.0%} over {self.span:g} s or more)"
            return False
        if i >= max(self.most, self.least):
            self.why = f"stopped at the most steps, {i}; step times' 95% interval " + _pct(hw)
            return False
        if now - self._start >= self.seconds:
            self.why = f"stopped at the time cap, {self.seconds:g} s, after {i} steps; step times' 95% interval " + _pct(hw)
            return False
        return True


def _pct(hw: float | None) -> str:
    return "unknown (under 2 steps after the warm-up)" if hw is None else f"+/-{hw:.1%}"
