"""Scope: what a test is charged on a machine it shares (process tree or whole machine)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from conftest import assert_conserved, load_report
from pytest_carbon.meters.load import PAGE, TICKS, Load, LoadProbe, ProcFile


def _stat(pid: int, name: str, utime: int, stime: int, cutime: int, cstime: int, rss: int) -> str:
    # Fields 1-2, then 3.. (state first): utime is field 14, rss field 24.
    rest = ["S"] + ["0"] * 10 + [str(utime), str(stime), str(cutime), str(cstime)] + ["0"] * 6 + [str(rss)] + ["0"] * 20
    return f"{pid} ({name}) " + " ".join(rest) + "\n"


def fake_proc(root: Path, procs: dict[int, tuple[str, tuple[int, int, int, int, int], dict[int, list[int]]]]) -> Path:
    """procs: pid -> (name, (utime, stime, cutime, cstime, rss pages), {tid: children})."""
    (root / "stat").parent.mkdir(parents=True, exist_ok=True)
    (root / "stat").write_text("cpu  300 0 200 4000 500 0 0 0 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n")
    for pid, (name, nums, tasks) in procs.items():
        d = root / str(pid)
        d.mkdir()
        (d / "stat").write_text(_stat(pid, name, *nums))
        for tid, children in tasks.items():
            (d / "task" / str(tid)).mkdir(parents=True)
            (d / "task" / str(tid) / "children").write_text(" ".join(map(str, children)) + (" " if children else ""))
    return root


def test_the_tree_is_the_process_and_its_live_descendants_found_through_every_thread(tmp_path):
    proc = fake_proc(tmp_path / "proc", {
        1000: ("py (test) run", (100, 50, 30, 20, 1000), {1000: [1001], 1003: [1002, 1005]}),  # a thread's child too
        1001: ("worker", (10, 5, 0, 0, 200), {1001: [1004]}),
        1004: ("grandchild", (7, 3, 1, 1, 50), {1004: []}),
        1005: ("thread's child", (2, 2, 0, 0, 10), {1005: []}),
        # 1002 is listed but already gone: skipped, its time is its parent's cutime by now
    })  # fmt: skip
    probe = LoadProbe(root_pid=1000)
    probe.proc = proc
    probe.has_proc = True
    load = probe.read(now=5)
    cpu_ticks = (100 + 50 + 30 + 20) + (10 + 5) + (7 + 3 + 1 + 1) + (2 + 2)
    assert load.tree_cpu_s == pytest.approx(cpu_ticks / TICKS)
    assert load.tree_rss_bytes == (1000 + 200 + 50 + 10) * PAGE
    assert load.machine_busy_s == pytest.approx((300 + 200) / TICKS)  # user + system; idle and iowait out
    assert load.t_ns == 5
    assert probe.read(now=9, since=5) is load  # read in this tick already: one walk serves the sampler and a meter
    assert probe.read(now=9, since=6) is not load


def test_our_own_process_with_a_child_burning_cpu_in_the_real_proc():
    import subprocess
    import time

    probe = LoadProbe(refresh=3, walk_s=60)  # the tree is walked at reads 1, 4, 7...
    before = probe.read()
    child = subprocess.Popen([sys.executable, "-c", "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass\ntime.sleep(5)"])
    try:
        time.sleep(1.0)
        unseen = probe.read()  # read 2: the child is not known yet, nor are its 0.3 s
        probe.read()
        during = probe.read()  # read 4: the walk finds it
    finally:
        child.kill()
        child.wait()
    # The live child's 0.3 s (and its start-up) count while it runs; our own sleeping does not.
    assert unseen.tree_cpu_s - before.tree_cpu_s < 0.25
    assert during.tree_cpu_s - before.tree_cpu_s >= 0.25
    if Path("/proc/stat").exists():
        assert during.machine_busy_s is not None and during.machine_busy_s > before.machine_busy_s  # type: ignore[operator]


class FakeProbe:
    def __init__(self, loads: list[Load]):
        self.loads = loads

    def read(self, now: int | None = None) -> Load:
        return self.loads.pop(0)


def test_estimate_in_process_scope_charges_the_trees_cpu_time_and_memory():
    from pytest_carbon.meters.estimate import EstimateMeter

    S = 1_000_000_000
    gib = 2**30
    probe = FakeProbe([
        Load(0, 10.0, 5.0, gib),  # open(): the first reading, which also tells the tree's memory is known
        Load(S, 14.0, 7.0, gib),  # +2 CPU s in 1 s on 4 CPUs: 50%, whatever the machine did
        Load(2 * S, 20.0, 7.1, 3 * gib),  # +0.1 CPU s: 2.5%, under the 10% floor; RSS 1 -> 3 GiB
        Load(3 * S, 30.0, 13.1, 3 * gib),  # +6 CPU s in 1 s on 4 CPUs: a child reaped, its time seen at once
    ])  # fmt: skip
    m = EstimateMeter(("cpu", "ram"), 0.1, scope="process", probe=probe)  # type: ignore[arg-type]
    m.open()
    m.tdp_w, m.cpus = 100.0, 4
    assert "process scope" in m.channels[0].note and "process scope" in m.channels[1].note
    first = m.read_at(S)
    assert first["cpu"] == pytest.approx(50.0) and first["ram"] == pytest.approx(0.375)
    second = m.read_at(2 * S)
    assert second["cpu"] == pytest.approx(50.0 + 10.0)  # the floor: 10% of 100 W for 1 s
    assert second["ram"] == pytest.approx(0.375 + 0.375 * 2)  # mean of 1 and 3 GiB over 1 s
    third = m.read_at(3 * S)
    assert third["cpu"] == pytest.approx(60.0 + 150.0)  # 6 CPU s of 4 CPUs at 100 W: 150 J, not capped at 100 J


def test_a_counter_in_process_scope_is_split_by_the_trees_share_of_busy_cpu_time():
    from pytest_carbon.meters.base import COUNTER, ChannelInfo
    from pytest_carbon.meters.share import ProcessShare

    class Counter:
        name = "rapl"

        def __init__(self) -> None:
            self.channels = [ChannelInfo("cpu", COUNTER, 0.001, "", "package")]
            self.values = [0.0, 100.0, 300.0, 300.0, 400.0]

        def open(self) -> None:
            pass

        def read(self) -> dict[str, float]:
            return {"cpu": self.values.pop(0)}

        def close(self) -> None:
            pass

    probe = FakeProbe([
        Load(0, 0.0, 0.0, None),
        Load(1, 2.0, 0.5, None),  # 100 J, a quarter of the busy time ours: 25 J
        Load(2, 4.0, 2.5, None),  # 200 J, all of it ours: 200 J
        Load(3, 4.0, 2.5, None),  # nothing drawn
        Load(4, 4.0, 2.5, None),  # 100 J while nothing was busy: nobody's
    ])  # fmt: skip
    m = ProcessShare(Counter(), probe)  # type: ignore[arg-type]
    m.open()
    assert m.channels[0].method == COUNTER and "share of the machine's busy CPU time" in m.channels[0].note
    assert [m.read()["cpu"] for _ in range(4)] == [25.0, 225.0, 225.0, 225.0]


def test_scope_from_the_command_line_and_pyproject(pytester):
    pytester.makepyfile("def test_a(): pass\n")
    bad = pytester.runpytest("--carbon", "--carbon-scope", "sideways")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stderr.fnmatch_lines(["*--carbon-scope*must be process (charge the pytest process tree), machine *or auto*"])
    pytester.makepyprojecttoml('[tool.pytest-carbon]\nscope = "machine"\n')
    result = pytester.runpytest("--carbon", "--carbon-meter", "estimate", "--carbon-json", "r.json")
    assert result.ret == 0
    notes = {m["channel"]: m["note"] for m in load_report(pytester.path / "r.json")["run"]["meters"]}
    assert "(machine scope)" in notes["cpu"] and "machine scope" in notes["ram"]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="the process tree is read from /proc")
def test_process_scope_charges_a_tests_subprocess_and_records_the_foreign_share(pytester):
    pytester.makepyfile(
        f"""
        import subprocess, time

        def test_child_burns():
            subprocess.run([{sys.executable!r}, "-c", "import time\\nt = time.process_time()\\nwhile time.process_time() - t < 0.6: pass"], check=True)

        def test_sleeps():
            time.sleep(0.6)
        """
    )
    result = pytester.runpytest("--carbon", "--carbon-meter", "estimate", "--carbon-json", "r.json", "--carbon-interval", "0.05")
    assert result.ret == 0
    report = load_report(pytester.path / "r.json")
    t = {x["nodeid"].split("::")[1]: x for x in report["tests"]}
    # The child's CPU time is the test's: well above the idle floor the sleeping test pays.
    assert t["test_child_burns"]["energy_j"]["cpu"] > 2 * t["test_sleeps"]["energy_j"]["cpu"]
    for x in t.values():
        share = x["foreign_cpu_share"]
        assert share is None or 0.0 <= share <= 1.0
    notes = {m["channel"]: m["note"] for m in report["run"]["meters"]}
    assert "process tree's CPU time" in notes["cpu"] and "resident memory" in notes["ram"]
    assert_conserved(report)


def test_a_verdict_on_a_window_a_neighbour_kept_busy_says_it_was_disturbed(pytester, tmp_path, monkeypatch):
    import importlib

    load = importlib.import_module("pytest_carbon.meters.load")  # the module the run will use
    me = os.getpid()
    proc = fake_proc(tmp_path / "proc", {me: ("pytest", (0, 0, 0, 0, 100), {me: []})})
    monkeypatch.setattr(load, "PROC", proc)
    pytester.makeconftest(
        f"""
        import pathlib, time

        STAT = pathlib.Path({str(proc / "stat")!r})

        def pytest_runtest_call(item):
            # A neighbour keeps the machine busy: 20 s of busy CPU time while the test runs.
            time.sleep(0.15)
            user = int(STAT.read_text().split()[1]) + 2000
            STAT.write_text(f"cpu  {{user}} 0 200 4000 500 0 0 0 0 0\\n")
            time.sleep(0.15)
        """
    )
    pytester.makepyprojecttoml('[tool.pytest-carbon.budgets]\ndefault = "1 mg"\n')
    pytester.makepyfile("def test_a(): pass\n")
    result = pytester.runpytest("--carbon", "--carbon-meter", "constant:cpu=100W", "--carbon-intensity", "1000",
                                "--carbon-interval", "0.02", "--carbon-json", "r.json")  # fmt: skip
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "carbon budget exceeded: * > 1.00 mg CO2eq*",
        "  energy * estimated: no energy counter, disturbed: *% of the busy CPU time in the window was other processes'",
        "*│ failed est busy*",
    ])  # fmt: skip
    (t,) = load_report(pytester.path / "r.json")["tests"]
    assert t["foreign_cpu_share"] > 0.9


def test_gpu_energy_in_process_scope_follows_the_trees_share_of_sm_utilisation(pytester, fake_nvml, monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    fake = fake_nvml([300.0, 100.0])
    me = os.getpid()
    # GPU 0: this process 25 of 100 SM-%, another process the rest; GPU 1: no per-process samples
    fake.process_util = lambda h, since: [(me, 25), (me + 10_000_000, 75)] if h == 0 else None
    original = fake.nvmlDeviceGetProcessUtilization

    def util(h, since):
        if h == 1:
            raise type("NVMLError_NotSupported", (Exception,), {})("Not Supported")
        return original(h, since)

    fake.nvmlDeviceGetProcessUtilization = util
    pytester.makepyfile("import time\ndef test_a():\n    time.sleep(0.3)\n")
    result = pytester.runpytest("--carbon", "--carbon-meter", "nvml", "--carbon-scope", "process", "--carbon-interval", "0.02",
                                "--carbon-json", "r.json")  # fmt: skip
    assert result.ret == 0
    report = load_report(pytester.path / "r.json")
    notes = {m["channel"]: m["note"] for m in report["run"]["meters"]}
    assert "share of the GPU's SM utilisation" in notes["gpu:0"] and "machine scope" in notes["gpu:1"]
    (t,) = report["tests"]
    assert t["energy_j"]["gpu:0"] == pytest.approx(0.25 * 300 * t["duration_s"], rel=0.05)
    assert t["energy_j"]["gpu:1"] == pytest.approx(100 * t["duration_s"], rel=0.05)
    assert_conserved(report)


def test_a_wrong_inconclusive_or_scope_in_pyproject_stops_the_run_with_the_accepted_values(pytester):
    pytester.makepyfile("def test_a(): pass\n")
    pytester.makepyprojecttoml('[tool.pytest-carbon]\ninconclusive = "maybe"\n')
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*inconclusive*must be pass (an interval straddling a per-item limit is reported only) or fail*"])
    pytester.makepyprojecttoml('[tool.pytest-carbon]\nscope = 3\n')
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR and "Traceback" not in result.stderr.str()
    result.stderr.fnmatch_lines(["*scope*must be process*"])


def test_a_failed_share_leaves_a_gap_and_counts_no_energy_twice():
    from types import SimpleNamespace

    from pytest_carbon.meters.base import COUNTER, ChannelInfo
    from pytest_carbon.meters.share import GpuShare

    class Nv:
        fail = False

        def nvmlDeviceGetProcessUtilization(self, h, since):
            if self.fail and h == 1:
                raise RuntimeError("GPU is lost")
            return [SimpleNamespace(pid=os.getpid(), smUtil=50, timeStamp=since + 1), SimpleNamespace(pid=-1, smUtil=50, timeStamp=since + 1)]

    class Nvml:
        name = "nvml"

        def __init__(self) -> None:
            self._nv = Nv()
            self._devices = [("gpu:0", 0, True), ("gpu:1", 1, True)]
            self.channels = [ChannelInfo(c, COUNTER, 0.1, "", "") for c in ("gpu:0", "gpu:1")]
            self.values = iter([0.0, 100.0, 200.0, 300.0])

        def open(self) -> None:
            pass

        def read(self) -> dict[str, float]:
            v = next(self.values)
            return {"gpu:0": v, "gpu:1": v}

        def close(self) -> None:
            pass

    inner = Nvml()
    m = GpuShare(inner, LoadProbe())
    m.open()
    assert m.read() == {"gpu:0": 50.0, "gpu:1": 50.0}  # half of 100 J each
    inner._nv.fail = True
    with pytest.raises(Exception, match="GPU is lost"):
        m.read()  # gpu:1's share fails: this reading is a gap for both
    inner._nv.fail = False
    assert m.read() == {"gpu:0": 150.0, "gpu:1": 150.0}  # the 200 J since the last good reading, once


def _open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs /proc")
def test_the_probe_keeps_its_proc_files_open_reads_them_fresh_and_closes_them(tmp_path):
    stat = tmp_path / "stat"
    stat.write_text("cpu  100 0 50 900 10 0 0 0 0 0\ncpu0 ...\n")
    f = ProcFile(stat)
    before = _open_fds()
    assert f.read().startswith("cpu  100 ")
    opened = _open_fds() - before
    assert len(opened) == 1  # one descriptor, kept between reads
    with open(stat, "r+") as w:  # rewritten in place, as the kernel's files change
        w.write("cpu  400 0 50 900 10 0 0 0 0 0\n")
    assert f.read().startswith("cpu  400 ")
    assert _open_fds() - before == opened  # no second descriptor
    f.close()
    assert _open_fds() - before == set()
    assert f.read().startswith("cpu  400 ")  # still readable after close, leaving nothing open
    assert _open_fds() - before == set()

    probe = LoadProbe()
    probe.read()
    probe.read()
    kept = _open_fds() - before
    assert 1 <= len(kept) <= 2  # /proc/stat and our own stat, whatever the number of reads
    probe.close()
    assert _open_fds() - before == set()
    assert probe.read().machine_busy_s is not None
    assert _open_fds() - before == set()


def test_a_proc_file_that_fails_to_read_raises_and_is_opened_again_next_time(tmp_path):
    f = ProcFile(tmp_path / "gone")
    with pytest.raises(OSError):
        f.read()
    (tmp_path / "gone").write_text("cpu  1 2 3 4 5 6 7 8\n")
    assert f.read().startswith("cpu  1 2")
    f.close()


def test_a_sparse_probe_walks_the_tree_once_the_last_walk_is_walk_s_old():
    import subprocess
    import time

    probe = LoadProbe(refresh=1000, walk_s=0.5)  # read rarely, as a sparse sampler does
    before = probe.read()
    child = subprocess.Popen([sys.executable, "-c", "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass\ntime.sleep(5)"])
    try:
        time.sleep(1.0)
        during = probe.read()  # a second since the last walk: walked again, the child found
    finally:
        child.kill()
        child.wait()
    assert during.tree_cpu_s - before.tree_cpu_s >= 0.25
