"""pytest-xdist glue: workers time their tests, the controller measures the machine.

Workers record each test's window (and phases) on ``time.monotonic_ns()``, a clock all
processes of a Linux machine share, and send it with the test's teardown report (in
``user_properties``, which xdist carries to the controller). Sending per test rather than at
the end means a crashed worker loses only the test it was running. The controller runs the
one sampler and attributes each interval's energy among the tests open in it, so tests on
different workers never count the same joule twice. A worker whose ``CUDA_VISIBLE_DEVICES``
names GPUs claims only those GPUs' channels.

Budgets under xdist are judged by the controller at the end of the session, with the final
attribution: an over-budget test is listed with ``FAIL`` and fails the run (exit code 1),
but its own pytest report, already printed by then, stays as the worker made it.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any, Callable, Sequence

import pytest

from .budget import Budget
from .meters.base import Meter
from .projection import ProjectionSpec

from .records import PhaseRecord, TestRecord, next_outcome, plain_pass

if TYPE_CHECKING:
    from .session import CarbonSession

KEY = "pytest-carbon"


def _budget(d: dict[str, Any] | None) -> Budget | None:
    return None if d is None else Budget(d["co2_g"], d["energy_j"], d["source"], d["key"])


def to_wire(rec: TestRecord, marker: Budget | None) -> dict[str, Any]:
    return {
        "nodeid": rec.nodeid,
        "location": list(rec.location),
        "t0": rec.t0,
        "t1": rec.t1,
        "phases": [
            {"name": p.name, "t0": p.t0, "t1": p.t1, "items": p.items, "budget": p.budget.as_dict() if p.budget else None,
             "warmup": p.warmup, "marks": p.marks}  # fmt: skip
            for p in rec.phases
        ],
        "pauses": [list(p) for p in rec.pauses],
        "projections": [[s.phase, s.full_items, s.label] for s in rec.projections],
        "info": dict(rec.info),
        "marker_budget": marker.as_dict() if marker else None,
        "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "worker": os.environ.get("PYTEST_XDIST_WORKER"),
    }


def from_wire(d: dict[str, Any]) -> tuple[TestRecord, Budget | None, str | None]:
    loc = d["location"]
    rec = TestRecord(d["nodeid"], (loc[0], loc[1], loc[2]), int(d["t0"]))
    rec.t1 = int(d["t1"])
    rec.phases = [
        PhaseRecord(p["name"], int(p["t0"]), int(p["t1"]), p["items"], _budget(p["budget"]), int(p.get("warmup", 0)), [int(m) for m in p.get("marks", ())])
        for p in d["phases"]
    ]
    rec.pauses = [(int(a), int(b)) for a, b in d["pauses"]]
    rec.projections = [ProjectionSpec(a, int(b), c) for a, b, c in d["projections"]]
    rec.info = dict(d["info"], xdist_worker=d.get("worker"))
    return rec, _budget(d["marker_budget"]), d.get("cuda_visible_devices")


class ControllerReports:
    """The controller's hook: each test's outcome as its reports arrive, its record with its teardown."""

    def __init__(self, session: "CarbonSession"):
        self.session = session
        self._outcomes: dict[str, str] = {}  # by node id, until the record arrives

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        s, nid = self.session, report.nodeid
        if not plain_pass(report):
            self._outcomes[nid] = next_outcome(self._outcomes.get(nid, "passed"), report)
        for key, value in report.user_properties:
            if key == KEY and isinstance(value, dict):
                rec, marker, visible = from_wire(value)
                rec.outcome = self._outcomes.pop(nid, "passed")
                s.records.append(rec)
                s._markers[nid] = marker
                s._visible[nid] = visible


class WorkerRecorder:
    """Registered in xdist workers: closes each test's window and sends it to the controller."""

    def __init__(self, session: "CarbonSession"):
        self.session = session

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        report = yield
        rec = self.session.current(item.nodeid)
        if call.when == "teardown" and rec is not None:
            rec.t1 = time.monotonic_ns()  # the end of teardown: the window's end in a worker
            from .enforce import parse_marker

            name = self.session.settings.marker
            marker = parse_marker(item, name) if item.get_closest_marker(name) else None
            report.user_properties.append((KEY, to_wire(rec, marker)))
        return report


def gpu_claims(visible: str | None, gpu_channels: dict[str, str]) -> frozenset[str] | None:
    """GPU channels a worker claims, from its CUDA_VISIBLE_DEVICES; None: all of them.

    ``gpu_channels`` maps the controller's NVML indices and UUIDs (as strings) to channels.
    A worker naming something the controller cannot map claims all GPUs (shared equally).
    """
    if visible is None:
        return None
    out = set()
    for tok in visible.split(","):
        tok = tok.strip()
        if not tok:
            break
        ch = gpu_channels.get(tok) or next((c for k, c in gpu_channels.items() if k.startswith("GPU-") and k.startswith(tok if tok.startswith("GPU-") else "GPU-" + tok)), None)
        if ch is None:
            return None
        out.add(ch)
    return frozenset(out)


def channel_claims(visible: str, meters: Sequence[Meter]) -> frozenset[str] | None:
    """The channels a worker with this CUDA_VISIBLE_DEVICES shares in: every non-GPU channel
    and its own GPUs; None (all channels) where its GPUs cannot be mapped."""
    gpu_map: dict[str, str] = {}
    for m in meters:
        gpu_map.update(getattr(m, "gpu_map", {}))
    gpus = gpu_claims(visible, gpu_map)
    if gpus is None:
        return None
    return frozenset(c.name for m in meters for c in m.channels if not c.name.startswith("gpu:")) | gpus


def claims_of(visible: dict[str, str | None], meters: Sequence[Meter]) -> Callable[[TestRecord], frozenset[str] | None]:
    """Channels each test shares in: all (None), unless its xdist worker named its GPUs."""

    def claims(rec: TestRecord) -> frozenset[str] | None:
        v = visible.get(rec.nodeid)
        return None if v is None else channel_claims(v, meters)

    return claims
