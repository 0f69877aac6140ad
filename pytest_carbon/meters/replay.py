"""A recorded timeline (``--carbon-record``) played back in real time.

Reproduces a run's energy profile on another machine, e.g. a GPU run on a laptop, and lets
tests drive attribution with real GPU data. Channels keep the recorded method and cadence.
Where the recording has no reading (a gap, or past its end) the channel reads as failed:
the replay never invents energy.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

from ..timeline import TIMELINE_SCHEMA, Segment, build_segments
from .base import ChannelInfo, MeterBase, MeterUnavailable


def load_timeline(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise MeterUnavailable(f"replay: no timeline at {path}; record one with --carbon-record PATH") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise MeterUnavailable(f"replay: {path} is not a readable timeline ({e})") from None
    if not isinstance(data, dict) or data.get("schema") != TIMELINE_SCHEMA:
        got = data.get("schema") if isinstance(data, dict) else type(data).__name__
        raise MeterUnavailable(
            f"replay: {path} has schema {got!r}, expected {TIMELINE_SCHEMA!r}"
            " (a file written by --carbon-record)"
        )
    return data


def _joules(row: Any, k: int) -> float | None:
    """A recorded reading; a failed read, NaN or an infinity is a gap, never a number."""
    if row is None or row[k] is None:
        return None
    v = float(row[k])
    return v if math.isfinite(v) else None


class ReplayMeter(MeterBase):
    def __init__(self, path: str | Path):
        super().__init__(name="replay")  # read by the thread at every interval, as the recorded meter was
        self.path = Path(path)
        self._segments: dict[str, list[Segment]] = {}
        self._origin_ns = 0
        self._t_open: int | None = None
        self.end_s = 0.0

    def open(self) -> None:
        data = load_timeline(self.path)
        try:
            infos: list[ChannelInfo] = []
            for m in data["meters"]:
                names = [c["channel"] for c in m["channels"]]
                rows = data["samples"][m["name"]]
                for k, c in enumerate(m["channels"]):
                    samples = [(int(round(r[0] * 1e9)), _joules(r[1], k)) for r in rows]
                    self._segments[names[k]] = build_segments(samples)
                    infos.append(
                        ChannelInfo(
                            c["channel"],
                            c["method"],
                            float(c["cadence_s"]),
                            hardware=c.get("hardware", ""),
                            note=f"replayed from {self.path.name}: {c.get('note', '')}".rstrip(": "),
                        )
                    )
                if rows:
                    self.end_s = max(self.end_s, float(rows[-1][0]))
        except (KeyError, IndexError, TypeError, ValueError) as e:
            raise MeterUnavailable(f"replay: {self.path} is malformed ({type(e).__name__}: {e})") from None
        if not infos:
            raise MeterUnavailable(f"replay: {self.path} records no channels")
        self.channels = infos
        self._t_open = time.monotonic_ns()

    def read_at(self, t_ns: int) -> dict[str, float]:
        assert self._t_open is not None, "open() first"
        t = t_ns - self._t_open
        out: dict[str, float] = {}
        for ch, segs in self._segments.items():
            for s in segs:
                if s.start <= t <= s.end:
                    out[ch] = s.at(t)
                    break
        return out  # channels without a reading here are gaps

    def read(self) -> dict[str, float]:
        return self.read_at(time.monotonic_ns())
