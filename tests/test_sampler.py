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


class CheapMeter(MeterBase):
    """Declared watts read as a clock: cheap to read on any thread."""

    def __init__(self) -> None:
        super().__init__(name="cheap", channels=[ChannelInfo("cpu", "constant", 0.0)], cheap=True)
        self.reads: list[int] = []

    def read(self) -> dict[str, float]:
        self.reads.append(time.monotonic_ns())
        return {"cpu": 10.0 * time.monotonic_ns() / 1e9}


def test_a_sparse_sampler_reads_at_test_edges_only_when_the_last_reading_is_an_interval_old():
    m = CheapMeter()
    s = Sampler([m], 0.05)
    s.sparse = s.cheap
    assert s.cheap
    s.sample_now()
    now = time.monotonic_ns()
    assert s.edge(now) == now and len(m.reads) == 1  # read just now: no reading, the instant as given
    time.sleep(0.06)
    now = time.monotonic_ns()
    after = s.edge(now)
    assert len(m.reads) == 2 and now <= m.reads[-1] <= after  # an interval old: read here, the window starts after it
    s.dense = True  # a test that measures phases: the thread reads every interval, not the edges
    time.sleep(0.06)
    now = time.monotonic_ns()
    assert s.edge(now) == now and len(m.reads) == 2


def test_the_thread_reads_every_interval_when_dense_and_rarely_when_sparse():
    def reads_in(sparse: bool, dense: bool) -> int:
        m = CheapMeter()
        s = Sampler([m], 0.02)
        s.sparse = sparse
        s.start()
        if dense:
            s.densify(True)
        time.sleep(0.5)
        n = len(m.reads)
        s.stop()
        return n

    sparse, dense, plain = reads_in(True, False), reads_in(True, True), reads_in(False, False)
    # 0.5 s: dense and plain read about 25 times, sparse about 5 (every 5 intervals) plus the first
    assert sparse <= 8 and dense >= 2 * sparse and plain >= 2 * sparse


def test_densify_wakes_a_sparse_thread_at_once():
    m = CheapMeter()
    s = Sampler([m], 0.2)
    s.sparse = True
    s.start()
    time.sleep(0.05)  # the thread now sleeps until 1 s after the first reading
    s.densify(True)
    time.sleep(0.35)
    n = len(m.reads)
    s.stop()
    assert n >= 2  # the thread read within an interval of being woken, not after its 1 s leash
