"""Shared fakes at the hardware seams: a pynvml module and a powercap sysfs tree."""

from __future__ import annotations

import json
import os
import sys
import time
import types
from pathlib import Path
from typing import Any

import pytest


class NVMLError(Exception):
    pass


class NVMLError_NotSupported(NVMLError):
    pass


class NVMLError_NotFound(NVMLError):
    pass


class FakeNvml(types.ModuleType):
    """A pynvml stand-in: each GPU draws constant watts; reads can be made to fail.

    ``energy`` is exact: watts x time since init, in mJ, like nvmlDeviceGetTotalEnergyConsumption.
    """

    NVMLError = NVMLError

    def __init__(self, watts: list[float], *, counter: list[bool] | None = None, init_error: str | None = None):
        super().__init__("pynvml")
        self.watts = watts
        self.counter = counter or [True] * len(watts)
        self.init_error = init_error
        self.failing = False
        self.t0 = 0
        self.reads = 0
        self.uuids = [f"GPU-{i:08x}-aaaa-bbbb" for i in range(len(watts))]
        self.shutdown_called = False
        # Per-process SM utilisation samples: None = not supported by this "driver";
        # else a function (handle, since_us) -> [(pid, smUtil)], stamped now.
        self.process_util: Any = None

    def nvmlInit(self) -> None:
        if self.init_error:
            raise NVMLError(self.init_error)
        self.t0 = time.monotonic_ns()

    def nvmlShutdown(self) -> None:
        self.shutdown_called = True

    def nvmlDeviceGetCount(self) -> int:
        return len(self.watts)

    def nvmlDeviceGetHandleByIndex(self, i: int) -> int:
        return i

    def nvmlDeviceGetName(self, h: int) -> str:
        return "Fake H100"

    def nvmlDeviceGetUUID(self, h: int) -> str:
        return self.uuids[h]

    def nvmlDeviceGetTotalEnergyConsumption(self, h: int) -> int:
        if not self.counter[h]:
            raise NVMLError_NotSupported("Not Supported")
        if self.failing:
            raise NVMLError("GPU is lost")
        self.reads += 1
        return int(self.watts[h] * (time.monotonic_ns() - self.t0) / 1e6)

    def nvmlDeviceGetProcessUtilization(self, h: int, since_us: int) -> list[Any]:
        if self.process_util is None:
            raise NVMLError_NotSupported("Not Supported")
        now_us = time.monotonic_ns() // 1000
        rows = self.process_util(h, since_us)
        if not rows:
            raise NVMLError_NotFound("Not Found")
        return [types.SimpleNamespace(pid=pid, smUtil=sm, memUtil=0, timeStamp=now_us) for pid, sm in rows]

    def nvmlDeviceGetPowerUsage(self, h: int) -> int:
        if self.failing:
            raise NVMLError("GPU is lost")
        return int(self.watts[h] * 1000)


@pytest.fixture
def fake_nvml(monkeypatch: pytest.MonkeyPatch):
    """Install a fake pynvml; call it with the watts per GPU."""

    def install(watts: list[float], **kw: Any) -> FakeNvml:
        fake = FakeNvml(watts, **kw)
        monkeypatch.setitem(sys.modules, "pynvml", fake)
        return fake

    return install


@pytest.fixture
def no_nvml(monkeypatch: pytest.MonkeyPatch) -> None:
    """No NVIDIA driver, whatever the machine has."""
    monkeypatch.setitem(sys.modules, "pynvml", FakeNvml([], init_error="NVML Shared Library Not Found"))


@pytest.fixture
def powercap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A fake /sys/class/powercap with one package and its dram domain."""
    import importlib

    # The module in sys.modules, which the plugin imports when it opens the meter (pytester
    # drops modules first imported inside a run, so a package attribute may be a stale copy).
    rapl = importlib.import_module("pytest_carbon.meters.rapl")

    root = tmp_path / "powercap"
    pkg = root / "intel-rapl:0"
    dram = pkg / "intel-rapl:0:0"
    for d, name in ((pkg, "package-0"), (dram, "dram")):
        d.mkdir(parents=True)
        (d / "name").write_text(name + "\n")
        (d / "max_energy_range_uj").write_text("262143328850\n")
        (d / "energy_uj").write_text("0\n")
    monkeypatch.setattr(rapl, "POWERCAP_ROOT", root)
    return root


def load_report(path: Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


def assert_conserved(report: dict[str, Any]) -> None:
    """tests + incomplete + unattributed == measured, per channel and in total."""
    t = report["totals"]
    for ch, c in t["channels"].items():
        lhs = c["attributed_j"] + c["incomplete_j"] + c["unattributed_j"]
        assert lhs == pytest.approx(c["measured_j"], rel=1e-9, abs=1e-12), ch
    assert t["attributed_j"] + t["incomplete_j"] + t["unattributed_j"] == pytest.approx(
        t["energy_j"]["total"], rel=1e-9, abs=1e-12
    )
    complete = [x for x in report["tests"] if x["energy_j"]["total"] is not None]
    assert sum(x["energy_j"]["total"] for x in complete) == pytest.approx(t["attributed_j"], rel=1e-9, abs=1e-12)


@pytest.fixture(autouse=True)
def _conservation_on_every_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Energy conservation, checked on every report that a test's pytester runs build.

    Each run, in process or in a subprocess, loads ``carbon_watch`` (this folder) through
    PYTEST_ADDOPTS; it hands every report the run builds over through the update hook.
    """
    if "pytester" not in request.fixturenames:
        yield
        return
    pytester: pytest.Pytester = request.getfixturevalue("pytester")
    sink = tmp_path_factory.mktemp("watch") / "reports.jsonl"
    monkeypatch.setenv("CARBON_WATCH_FILE", str(sink))
    here = str(Path(__file__).parent)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH")) if p))
    monkeypatch.setenv("PYTEST_ADDOPTS", " ".join(p for p in (os.environ.get("PYTEST_ADDOPTS"), "-p carbon_watch") if p))
    yield
    reports = [json.loads(line) for line in sink.read_text().splitlines()] if sink.exists() else []
    for report in reports:
        assert_conserved(report)
    request.node.user_properties.append(("conservation_checked", len(reports)))
