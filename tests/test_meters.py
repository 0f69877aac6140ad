"""Meters through the plugin, with fakes at the hardware seams (pynvml, powercap sysfs)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from conftest import assert_conserved, load_report

FAST = ("--carbon-interval", "0.01", "--carbon-json", "r.json")

TIMED = """
import time
def test_a():
    time.sleep(0.2)
def test_b():
    time.sleep(0.1)
"""


def by_name(report):
    return {t["nodeid"].split("::")[1]: t for t in report["tests"]}


def test_nvml_counter_energy_matches_watts_times_time(pytester, fake_nvml, monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    fake_nvml([300.0, 100.0])
    pytester.makepyfile(TIMED)
    result = pytester.runpytest(*FAST, "--carbon", "--carbon-meter", "nvml")
    result.assert_outcomes(passed=2)
    report = load_report(pytester.path / "r.json")
    meters = {m["channel"]: m for m in report["run"]["meters"]}
    assert set(meters) == {"gpu:0", "gpu:1"}
    assert meters["gpu:0"]["method"] == "counter" and meters["gpu:0"]["hardware"] == "Fake H100"
    assert meters["gpu:0"]["estimated"] is False
    for t in report["tests"]:
        # The fake counter ticks in whole mJ at every read: well within 1% over >= 0.1 s.
        assert t["energy_j"]["gpu:0"] == pytest.approx(300 * t["duration_s"], rel=0.01)
        assert t["energy_j"]["gpu:1"] == pytest.approx(100 * t["duration_s"], rel=0.01)
        assert t["estimated"] is False and t["approximate"] is False
    assert report["run"]["hardware"]["gpus"] == ["Fake H100", "Fake H100"]
    assert_conserved(report)


def test_nvml_without_counter_integrates_power_and_says_so(pytester, fake_nvml):
    fake_nvml([200.0], counter=[False])
    pytester.makepyfile(TIMED)
    result = pytester.runpytest(*FAST, "--carbon", "--carbon-meter", "nvml")
    result.assert_outcomes(passed=2)
    report = load_report(pytester.path / "r.json")
    (m,) = report["run"]["meters"]
    assert m["method"] == "power-integrated" and m["cadence_s"] == 1.0
    assert "power readings (1 s averages) integrated" in m["note"]
    a = by_name(report)["test_a"]
    assert a["energy_j"]["gpu:0"] == pytest.approx(200 * a["duration_s"], rel=0.02)
    assert a["approximate"] is True  # 0.2 s < the 1 s averaging window
    result.stdout.fnmatch_lines(["Meter gpu:0: power-integrated*"])


@pytest.mark.parametrize(
    "visible, channels",
    [("1", ["gpu:0"]), ("2,0", ["gpu:0", "gpu:1"]), ("GPU-00000002", ["gpu:0"]), ("0,7,1", ["gpu:0"])],
)
def test_nvml_honours_cuda_visible_devices(pytester, fake_nvml, monkeypatch, visible, channels):
    fake_nvml([100.0, 200.0, 400.0])
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
    pytester.makepyfile("import time\ndef test_a():\n    time.sleep(0.1)\n")
    pytester.runpytest(*FAST, "--carbon", "--carbon-meter", "nvml")
    report = load_report(pytester.path / "r.json")
    assert [m["channel"] for m in report["run"]["meters"]] == channels
    first = int(visible.split(",")[0].replace("GPU-0000000", ""))
    t = report["tests"][0]
    assert t["energy_j"]["gpu:0"] == pytest.approx([100, 200, 400][first] * t["duration_s"], rel=0.02)
    assert report["run"]["meters"][0]["note"].startswith(f"NVML index {first}")


def test_nvml_named_explicitly_without_driver_stops_with_cause_and_fix(pytester, no_nvml):
    pytester.makepyfile("def test_a(): pass\n")
    result = pytester.runpytest("--carbon", "--carbon-meter", "nvml")
    assert result.ret == 4
    result.stderr.fnmatch_lines(
        ["ERROR: pytest-carbon: --carbon-meter nvml: NVML could not start (NVML Shared Library Not Found): no NVIDIA driver on this machine? Use --carbon-meter auto*"]
    )


def test_nvml_no_visible_gpu_stops(pytester, fake_nvml, monkeypatch):
    fake_nvml([100.0])
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    pytester.makepyfile("def test_a(): pass\n")
    result = pytester.runpytest("--carbon", "--carbon-meter", "nvml")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*no NVIDIA GPU is visible to this process (1 on the machine, CUDA_VISIBLE_DEVICES='')*"])


def test_auto_uses_nvml_when_present_and_estimates_the_cpu(pytester, fake_nvml, monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    fake_nvml([300.0])
    pytester.makepyfile(TIMED)
    pytester.runpytest(*FAST, "--carbon")
    report = load_report(pytester.path / "r.json")
    methods = {m["channel"]: m["method"] for m in report["run"]["meters"]}
    assert methods["gpu:0"] == "counter" and methods["cpu"] == "estimated" and methods["ram"] == "estimated"


def test_meter_failing_mid_run_leaves_a_reported_gap_not_zero(pytester, fake_nvml, monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setenv("COLUMNS", "160")
    fake = fake_nvml([300.0])
    pytester.makeconftest(
        """
        import sys, pytest
        import time

        @pytest.fixture
        def gpu_lost():
            # The gap runs from the last good reading to the next good one: keep it inside
            # this test by waiting a few sampling intervals on both sides.
            fake = sys.modules["pynvml"]
            time.sleep(0.05)
            fake.failing = True
            yield
            fake.failing = False
            time.sleep(0.05)
        """
    )
    pytester.makepyfile(
        """
        import time
        def test_before(): time.sleep(0.1)
        def test_during(gpu_lost): time.sleep(0.2)
        def test_after(): time.sleep(0.1)
        """
    )
    result = pytester.runpytest(*FAST, "--carbon", "--carbon-meter", "nvml")
    result.assert_outcomes(passed=3)
    report = load_report(pytester.path / "r.json")
    t = by_name(report)
    during = t["test_during"]
    assert during["energy_j"]["gpu:0"] is None and during["energy_j"]["total"] is None
    assert during["co2_g"] is None
    assert during["gaps_s"]["gpu:0"] > 0.1
    for name in ("test_before", "test_after"):
        assert t[name]["energy_j"]["gpu:0"] == pytest.approx(300 * t[name]["duration_s"], rel=0.02)
    assert report["totals"]["gaps_s"]["gpu:0"] > 0.1
    errors = report["run"]["meter_errors"]
    assert errors and errors[0]["error"] == "NVML read failed: GPU is lost"
    assert_conserved(report)
    result.stdout.fnmatch_lines(["*test_during *[?] *[?] * gap*", "Meter failures: * failed reading(s)*GPU is lost*energy in those gaps is unknown*"])
    assert fake.reads > 0


def test_rapl_counters_with_wrap(pytester, powercap):
    pkg = powercap / "intel-rapl:0"
    (pkg / "max_energy_range_uj").write_text("1000000000\n")  # 1 kJ range
    (pkg / "energy_uj").write_text("999000000\n")  # 1 J before the wrap
    pytester.makeconftest(
        f"""
        import os, pathlib, time
        PKG = pathlib.Path({str(pkg)!r})

        def bump(path, delta, wrap=None):
            # Replace the file atomically, as sysfs reads are: never a half-written value.
            value = int(path.read_text()) + delta
            tmp = path.with_suffix(".tmp")
            tmp.write_text(str(value % wrap if wrap else value))
            os.replace(tmp, path)

        def pytest_runtest_call(item):
            # During each test: the package counter moves by 5 J, wrapping once.
            time.sleep(0.05)
            bump(PKG / "energy_uj", 5_000_000, wrap=1_000_000_000)
            bump(PKG / "intel-rapl:0:0" / "energy_uj", 2_000_000)
            time.sleep(0.05)
        """
    )
    pytester.makepyfile("def test_a(): pass\ndef test_b(): pass\n")
    result = pytester.runpytest(*FAST, "--carbon", "--carbon-meter", "rapl")
    result.assert_outcomes(passed=2)
    report = load_report(pytester.path / "r.json")
    meters = {m["channel"]: m["method"] for m in report["run"]["meters"]}
    assert meters == {"cpu": "counter", "dram": "counter"}
    assert report["totals"]["energy_j"]["cpu"] == pytest.approx(10.0)
    assert report["totals"]["energy_j"]["dram"] == pytest.approx(4.0)
    for t in report["tests"]:
        assert t["energy_j"]["cpu"] == pytest.approx(5.0, rel=0.05)
        assert t["estimated"] is False
    assert_conserved(report)


def test_rapl_named_explicitly_but_unreadable(pytester, powercap):
    (powercap / "intel-rapl:0" / "energy_uj").chmod(0)
    pytester.makepyfile("def test_a(): pass\n")
    import os

    if os.geteuid() == 0:  # root reads anything: simulate the permission error at the seam
        (powercap / "intel-rapl:0" / "energy_uj").unlink()
        (powercap / "intel-rapl:0" / "energy_uj").mkdir()
        message = "*--carbon-meter rapl: RAPL counters under * could not be read*"
    else:
        message = "*RAPL counters are not readable*sudo chmod a+r*"
    result = pytester.runpytest("--carbon", "--carbon-meter", "rapl")
    assert result.ret == 4
    result.stderr.fnmatch_lines([message])


def test_rapl_missing(pytester, powercap):
    import shutil

    shutil.rmtree(powercap)
    pytester.makepyfile("def test_a(): pass\n")
    result = pytester.runpytest("--carbon", "--carbon-meter", "rapl")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*--carbon-meter rapl: no RAPL energy counters under *use --carbon-meter estimate*"])


def test_record_then_replay_reproduces_the_profile(pytester, fake_nvml, monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    fake_nvml([250.0])
    pytester.makepyfile(TIMED)
    pytester.makepyfile(test_zz_tail="import time\ndef test_tail():\n    time.sleep(0.5)\n")
    pytester.runpytest(*FAST, "--carbon", "--carbon-meter", "nvml", "--carbon-record", "gpu.timeline.json")
    timeline = json.loads((pytester.path / "gpu.timeline.json").read_text())
    assert timeline["schema"] == "pytest-carbon-timeline/1"
    assert timeline["meters"][0]["channels"][0]["method"] == "counter"
    # Replay on a machine without a GPU: the same channel and method, the same power.
    monkeypatch.setitem(sys.modules, "pynvml", None)
    # Replay the first file alone: the recording (with its 0.5 s tail) outlasts this run.
    result = pytester.runpytest(
        *FAST, "--carbon", "--carbon-meter", "replay:gpu.timeline.json", "test_record_then_replay_reproduces_the_profile.py"
    )
    result.assert_outcomes(passed=2)
    report = load_report(pytester.path / "r.json")
    (m,) = report["run"]["meters"]
    assert (m["channel"], m["method"]) == ("gpu:0", "counter")
    assert m["note"].startswith("replayed from gpu.timeline.json")
    for t in report["tests"]:
        assert t["energy_j"]["gpu:0"] == pytest.approx(250 * t["duration_s"], rel=0.03)


def test_replay_past_the_end_of_the_recording_is_a_gap(pytester, tmp_path):
    rec = {
        "schema": "pytest-carbon-timeline/1",
        "interval_s": 0.1,
        "meters": [{"name": "nvml", "channels": [{"channel": "gpu:0", "method": "counter", "cadence_s": 0.1}]}],
        "samples": {"nvml": [[0.0, [0.0]], [0.05, [5.0]], [0.1, [10.0]]]},
    }
    (pytester.path / "short.json").write_text(json.dumps(rec))
    pytester.makepyfile("import time\ndef test_long():\n    time.sleep(0.3)\n")
    pytester.runpytest(*FAST, "--carbon", "--carbon-meter", "replay:short.json")
    report = load_report(pytester.path / "r.json")
    assert report["tests"][0]["energy_j"]["gpu:0"] is None
    assert report["totals"]["energy_j"]["gpu:0"] <= 10.0 + 1e-9


@pytest.mark.parametrize(
    "content, message",
    [
        ("{", "*replay: short.json is not a readable timeline*"),
        ('{"schema": "other"}', "*replay: short.json has schema 'other', expected 'pytest-carbon-timeline/1'*"),
        ('{"schema": "pytest-carbon-timeline/1", "meters": [{"name": "x"}]}', "*replay: short.json is malformed (KeyError*"),
    ],
)
def test_replay_bad_files(pytester, content, message):
    (pytester.path / "short.json").write_text(content)
    pytester.makepyfile("def test_a(): pass\n")
    result = pytester.runpytest("--carbon", "--carbon-meter", "replay:short.json")
    assert result.ret == 4
    result.stderr.fnmatch_lines([message])


def test_no_network_connection_during_a_full_run(pytester):
    """An audit hook watches every socket connect and name lookup through a whole run."""
    pytester.makepyfile(TIMED + "\ndef test_phase(carbon):\n    with carbon.phase('x', items=2):\n        pass\n")
    code = textwrap.dedent(
        """
        import sys
        seen = []
        WATCH = {"socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr",
                 "socket.sendto", "socket.sendmsg", "urllib.Request", "http.client.connect"}
        def hook(event, args):
            if event in WATCH:
                seen.append((event, repr(args)[:200]))
        sys.addaudithook(hook)
        import pytest
        rc = pytest.main(["--carbon", "--carbon-json", "r.json", "--carbon-country", "DEU", "-p", "no:cacheprovider"])
        print("NETWORK EVENTS:", seen)
        sys.exit(rc)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=pytester.path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "NETWORK EVENTS: []" in out.stdout
    assert "= carbon =" in out.stdout
    assert load_report(pytester.path / "r.json")["run"]["intensity"]["country"] == "DEU"


def test_auto_next_to_a_named_meter_fills_only_the_rest(pytester, fake_nvml, monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    fake_nvml([300.0])
    pytester.makepyfile("def test_a(): pass\n")
    result = pytester.runpytest(*FAST, "--carbon", "--carbon-meter", "nvml+auto")
    result.assert_outcomes(passed=1)
    channels = [m["channel"] for m in load_report(pytester.path / "r.json")["run"]["meters"]]
    assert channels == ["gpu:0", "cpu", "ram"]
    result = pytester.runpytest(*FAST, "--carbon", "--carbon-meter", "constant:cpu=5W+auto")
    methods = {m["channel"]: m["method"] for m in load_report(pytester.path / "r.json")["run"]["meters"]}
    assert methods == {"cpu": "constant", "gpu:0": "counter", "ram": "estimated"}


def test_energy_so_far_is_unknown_while_and_after_a_meter_fails(pytester, fake_nvml, monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    fake_nvml([300.0])
    pytester.makepyfile(
        """
        import sys, time
        def test_x(carbon):
            time.sleep(0.1)
            first = carbon.energy_j()
            sys.modules["pynvml"].failing = True
            time.sleep(0.05)
            during = carbon.energy_j()
            sys.modules["pynvml"].failing = False
            time.sleep(0.05)
            after = carbon.energy_j()
            print("ENERGY", first is not None and first > 0, during, after)
        """
    )
    result = pytester.runpytest(*FAST, "--carbon-meter", "nvml", "-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*ENERGY True None None"])


def test_auto_does_not_load_pynvml_where_no_driver_shows(monkeypatch, tmp_path):
    import importlib

    from pytest_carbon.meters import MeterSpec, open_meters

    nvml = importlib.import_module("pytest_carbon.meters.nvml")  # the copy in sys.modules

    monkeypatch.delitem(sys.modules, "pynvml", raising=False)
    monkeypatch.setattr(nvml, "DRIVER_PATHS", (str(tmp_path / "nvidiactl"),))
    meters, notes = open_meters([MeterSpec("auto")], 0.1)
    try:
        assert "pynvml" not in sys.modules
        assert notes[0] == f"nvml: no NVIDIA driver (none of {tmp_path / 'nvidiactl'})"
        assert [m.name for m in meters][-1] == "estimate"
    finally:
        for m in meters:
            m.close()
    (tmp_path / "nvidiactl").write_text("")
    assert not nvml.driver_absent()
