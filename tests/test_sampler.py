"""The sampler: readings stamped where they were taken, and the live window it measures."""

from __future__ import annotations

import time

from pytest_carbon.meters.base import ChannelInfo, MeterBase, MeterError
from pytest_carbon.sampler import Sampler

MS = 1_000_000


class SlowMeter(MeterBase):
    """A meter whose read takes 40 ms; it can be made to fail."""

    def __init__(self) -> None:
        super().__init__(name="slow", channels=[ChannelInfo("cpu", "counter", 0.1)])
        self.calls: list[tuple[int, int]] = []
        self.failing = False
        self.joules = 0.0

    def read(self) -> dict[str, float]:
        start = time.monotonic_ns()
        time.sleep(0.04)
        self.calls.append((start, time.monotonic_ns()))
        if self.failing:
            raise MeterError("lost")
        self.joules += 1.0
        return {"cpu": self.joules}


def test_a_reading_is_stamped_at_the_middle_of_the_read():
    m = SlowMeter()
    s = Sampler([m], 10.0)  # no thread readings during the test: only the ones made here
    s.sample_now()
    s.sample_now()
    for t, (start, end) in zip(s.timelines[0].times, m.calls):
        assert start + 15 * MS <= t <= end - 15 * MS  # the middle of a 40 ms read, not its start or end


def test_the_live_window_is_unknown_while_and_after_a_meter_fails():
    m = SlowMeter()
    s = Sampler([m], 10.0)
    s.sample_now()
    t0 = time.monotonic_ns()
    s.sample_now()
    s.sample_now()
    t1 = s.last_read_ns
    assert s.window(t0, t1)["cpu"].energy_j is not None
    m.failing = True
    s.sample_now()
    assert s.window(t0, s.last_read_ns)["cpu"].energy_j is None  # failing now
    m.failing = False
    s.sample_now()
    s.sample_now()
    assert s.window(t0, s.last_read_ns)["cpu"].energy_j is None  # failed since the window began
    assert s.window(t0, t1)["cpu"].energy_j is not None  # before the failure it is still known


def test_estimated_readings_are_stamped_at_the_instant_they_describe():
    from pytest_carbon.meters.estimate import EstimateMeter

    m = EstimateMeter(("ram",), 0.05)
    m.open()
    s = Sampler([m], 10.0)
    for _ in range(6):
        s.sample_now()
        time.sleep(0.02)
    tl = s.timelines[0]
    powers = [(b[0] - a[0]) / ((tb - ta) / 1e9) for (ta, a), (tb, b) in zip(zip(tl.times, tl.rows), zip(tl.times[1:], tl.rows[1:]))]
    assert all(abs(p - m.ram_w) < 1e-6 * m.ram_w for p in powers), (m.ram_w, powers)  # a constant draw reads as constant
