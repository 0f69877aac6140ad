"""The sampler: a background thread reading every meter at an interval into a timeline.

The test's own thread never reads a meter in the common path: it records two timestamps
per window. Each reading is stamped with the midpoint of the read call (an NVML energy read
takes ~4 ms). A failed read is stored as ``None`` per channel: a gap, never a zero.
"""

from __future__ import annotations

import bisect
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from .timeline import TIMELINE_SCHEMA, Channel, LoadSeries, WindowEnergy, build_segments, segments_window
from .meters.base import CONSTANT, ChannelInfo, Meter, MeterError
from .meters.load import Load, LoadProbe

# With meters cheap to read and nobody asking for readings inside tests, the thread reads only
# when none was taken for this many intervals (the test's thread reads at test boundaries).
SPARSE = 5
NEVER = 1 << 62  # a monotonic_ns() instant no run reaches: no reading due at test edges


@dataclass
class MeterTimeline:
    """A meter's readings over the run: times, rows of channel values, errors."""

    meter: Meter
    times: list[int] = field(default_factory=list)
    rows: list[tuple[float | None, ...]] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)


class Sampler:
    def __init__(self, meters: list[Meter], interval_s: float, probe: LoadProbe | None = None):
        self.meters = meters
        self.probe = probe  # the process tree's and the machine's CPU time, read at each tick
        # The load series, grown in place at each tick (never copied for a window's share).
        self._load_t: list[int] = []
        self._load_busy: list[float] = []
        self._load_tree: list[float] = []
        self._load = LoadSeries(self._load_t, self._load_busy, self._load_tree)
        self.interval_s = interval_s
        self.timelines = [MeterTimeline(m) for m in meters]
        self._lock = threading.Lock()
        self._read = threading.Condition(self._lock)
        self.last_read_ns = 0
        self._wake = threading.Event()  # set to stop the thread, or to wake it for denser readings
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.interval_ns = int(interval_s * 1e9)
        # Every meter is cheap to read: the test's thread may read at boundaries, and live
        # verdicts read at once rather than wait for the thread.
        self.cheap = all(getattr(m, "cheap", False) for m in meters)
        self._sparse = False  # see edge(); set by the session, which calls edge() at test ends
        self._dense = False  # a test asked for readings inside it (the carbon fixture)
        # When a test's edge next reads (sparse, not dense): checked inline on the test's thread.
        self.edge_due_ns = NEVER
        self.started_ns: int | None = None
        self.stopped_ns: int | None = None

    @property
    def channel_infos(self) -> list[ChannelInfo]:
        return [c for m in self.meters for c in m.channels]

    @property
    def estimated(self) -> bool:
        """Whether any channel is a model (TDP x utilisation, declared watts), not a counter."""
        return any(c.estimated for c in self.channel_infos)

    def resolution(self) -> dict[str, float]:
        """Per channel, the shortest window measured as such (shorter ones are approximate):
        the meter's update cadence or the sampling interval, whichever is longer; 0 for
        declared constant watts, which are exact at any instant."""
        return {c.name: (0.0 if c.method == CONSTANT else max(c.cadence_s, self.interval_s)) for c in self.channel_infos}

    def _read_all(self) -> None:
        with self._lock:
            tick = time.monotonic_ns()
            for tl in self.timelines:
                m = tl.meter
                a = time.monotonic_ns()
                read_at = getattr(m, "read_at", None)
                try:
                    vals = read_at(a) if read_at is not None else m.read()
                    t = a if read_at is not None else (a + time.monotonic_ns()) // 2
                    row = tuple(vals.get(c.name) for c in m.channels)
                except MeterError as e:
                    t = a
                    row = tuple(None for _ in m.channels)
                    tl.errors.append((t, str(e)))
                except Exception as e:  # a meter bug must not kill the run or its results
                    t = a
                    row = tuple(None for _ in m.channels)
                    tl.errors.append((t, f"{type(e).__name__}: {e}"))
                tl.times.append(t)
                tl.rows.append(row)
            self.last_read_ns = min((tl.times[-1] for tl in self.timelines), default=0)
            self._due()
            self._read.notify_all()
            # After the meters, so that the first and last readings bound the run as before;
            # a process-scope meter that just read the probe leaves this a reuse.
            if self.probe is not None:
                try:
                    self._add_load(self.probe.read(since=tick))
                except Exception:  # noqa: BLE001 - a window's foreign share is then unknown, no more
                    pass

    def _add_load(self, load: Load) -> None:
        times = self._load_t
        if load.machine_busy_s is not None and (not times or load.t_ns > times[-1]):
            times.append(load.t_ns)
            self._load_busy.append(load.machine_busy_s)
            self._load_tree.append(load.tree_cpu_s)

    @property
    def sparse(self) -> bool:
        return self._sparse

    @sparse.setter
    def sparse(self, on: bool) -> None:
        self._sparse = on
        self._due()

    @property
    def dense(self) -> bool:
        return self._dense

    @dense.setter
    def dense(self, on: bool) -> None:
        self._dense = on
        self._due()

    def _due(self) -> None:
        self.edge_due_ns = self.last_read_ns + self.interval_ns if self._sparse and not self._dense else NEVER

    def edge(self, now: int) -> int:
        """A test's start or end, at ``now`` on the test's thread; returns the instant after.

        In sparse mode the thread wakes only when nobody read for ``SPARSE`` intervals: each
        wake takes the interpreter's lock from the test's thread (a thread waking ten times a
        second cost pytest 1.6% of its CPU time here). The test's thread reads instead, here,
        when the last reading is an interval old: a test's window then starts and ends at
        readings, and a test that runs long gets the thread's readings inside it. The session
        checks ``now >= edge_due_ns`` itself before calling this, sparing a call per edge.
        """
        if now >= self.edge_due_ns:
            self._read_all()
            return time.monotonic_ns()
        return now

    def densify(self, on: bool) -> None:
        """Readings every interval (a test measuring phases or steps), or back to sparse."""
        self.dense = on
        if on:
            self._wake.set()  # wake the thread: its next reading is due within an interval
            self._wake.clear()

    def wait_past(self, t_ns: int) -> None:
        """Block until every meter has a reading after ``t_ns``.

        Cheap meters are read at once on this thread. Otherwise waits at most about one
        sampling interval for the thread; if it has not read by then (a slow meter), reads
        on this thread rather than wait longer.
        """
        if self.cheap:
            self._read_all()
            return
        with self._read:
            if self._read.wait_for(lambda: self.last_read_ns > t_ns, timeout=self.interval_s * 1.5):
                return
        self._read_all()

    def window(self, t0: int, t1: int) -> dict[str, WindowEnergy]:
        """Energy per channel between two instants, from the readings so far.

        For one window that no other window overlaps: the live ``carbon.energy_j()`` and
        budget verdicts. The same segments and interpolation attribution uses; a failed
        read, a counter reset or a window past the last reading leaves the energy unknown.
        """
        out: dict[str, WindowEnergy] = {}
        with self._lock:
            for tl in self.timelines:
                times = tl.times
                i0 = max(0, bisect.bisect_right(times, t0) - 1)
                i1 = bisect.bisect_left(times, t1) + 1
                for k, info in enumerate(tl.meter.channels):
                    segs = build_segments((t, row[k]) for t, row in zip(times[i0:i1], tl.rows[i0:i1]))
                    out[info.name] = segments_window(segs, t0, t1)
        return out

    def load_series(self) -> LoadSeries:
        """The readings so far; the series itself, so read it once the sampler has stopped."""
        return self._load

    def foreign_share(self, t0: int, t1: int) -> float | None:
        """A window's foreign CPU share from the readings so far (see LoadSeries)."""
        with self._lock:
            return self._load.foreign_share(t0, t1)

    def session_energy(self) -> tuple[float, bool]:
        """(joules measured so far over all channels, whether any channel has a gap)."""
        channels = self.channels()
        return sum(c.measured_j() for c in channels), any(c.gaps() for c in channels)

    def _run(self) -> None:
        while not self._stopping:
            leash = self.interval_ns * (SPARSE if self.sparse and not self.dense else 1)
            due = leash - (time.monotonic_ns() - self.last_read_ns)
            if due > 0:
                self._wake.wait(due / 1e9)  # set to stop, or to wake for a denser cadence
            elif not self._stopping:
                self._read_all()

    def start(self) -> None:
        self.started_ns = time.monotonic_ns()
        self._read_all()
        self._thread = threading.Thread(target=self._run, name="pytest-carbon-sampler", daemon=True)
        self._thread.start()

    def sample_now(self) -> None:
        """A synchronous reading, for callers that need an up-to-date value (the fixture)."""
        self._read_all()

    def stop(self) -> None:
        """The last reading; then the meters and the files the probe keeps open are closed."""
        if self._thread is None:
            return
        self._stopping = True
        self._wake.set()
        self._thread.join()
        self._thread = None
        self._read_all()
        self.stopped_ns = max((tl.times[-1] for tl in self.timelines), default=time.monotonic_ns())
        for m in self.meters:
            m.close()
        if self.probe is not None:
            self.probe.close()

    @property
    def running(self) -> bool:
        return self._thread is not None

    def channels(self) -> list[Channel]:
        """The timeline as attribution's input: segments per channel."""
        with self._lock:
            out: list[Channel] = []
            for tl in self.timelines:
                for k, info in enumerate(tl.meter.channels):
                    samples = [(t, row[k]) for t, row in zip(tl.times, tl.rows)]
                    out.append(Channel(info.name, build_segments(samples)))
            return out

    def errors(self) -> list[dict[str, Any]]:
        t0 = self.started_ns or 0
        return [
            {"meter": tl.meter.name, "t_s": (t - t0) / 1e9, "error": msg}
            for tl in self.timelines
            for t, msg in tl.errors
        ]

    def record(self) -> dict[str, Any]:
        """The timeline as a replayable document (``--carbon-record``)."""
        t0 = self.started_ns or 0
        with self._lock:
            return {
                "schema": TIMELINE_SCHEMA,
                "interval_s": self.interval_s,
                "meters": [
                    {"name": tl.meter.name, "channels": [c.as_dict() for c in tl.meter.channels]}
                    for tl in self.timelines
                ],
                "samples": {
                    tl.meter.name: [
                        [(t - t0) / 1e9, None if all(v is None for v in row) else list(row)]
                        for t, row in zip(tl.times, tl.rows)
                    ]
                    for tl in self.timelines
                },
                "errors": self.errors(),
            }
