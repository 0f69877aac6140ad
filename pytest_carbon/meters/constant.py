"""Fixed watts per channel: demos, tests, and devices whose draw is known.

``constant:cpu=100W,gpu:0=250W``. Energy is watts x elapsed time, so it is exact at any
instant (linear interpolation loses nothing) and never approximate; it is a declared
assumption, not a measurement, and reports mark it as an estimate.
"""

from __future__ import annotations

import time

from .base import CONSTANT, ChannelInfo, MeterBase


class ConstantMeter(MeterBase):
    def __init__(self, watts: dict[str, float]):
        super().__init__(name="constant", cheap=True)
        self.watts = dict(watts)
        self._t0: int | None = None
        self.channels = [
            ChannelInfo(ch, CONSTANT, 0.0, note=f"{w:g} W declared") for ch, w in self.watts.items()
        ]

    def open(self) -> None:
        self._t0 = time.monotonic_ns()

    def read(self) -> dict[str, float]:
        assert self._t0 is not None, "open() first"
        dt = (time.monotonic_ns() - self._t0) / 1e9
        return {ch: w * dt for ch, w in self.watts.items()}

    def read_at(self, t_ns: int) -> dict[str, float]:
        """The reading at a given monotonic time (the sampler stamps reads itself)."""
        assert self._t0 is not None, "open() first"
        dt = (t_ns - self._t0) / 1e9
        return {ch: w * dt for ch, w in self.watts.items()}
