"""Who keeps the CPUs busy: the pytest process tree, and the machine as a whole.

The tree is the pytest process and every live descendant (xdist workers, torch.distributed
workers, subprocesses), found through ``/proc/PID/task/TID/children``. Its CPU time is the
sum over the tree of each process's own time and that of its reaped children (``utime +
stime + cutime + cstime`` in ``/proc/PID/stat``), so a child that exits and is reaped moves
its time into its parent's count instead of out of the tree. The pytest process's own time
comes from ``time.process_time()`` (nanoseconds, every thread), not from clock ticks.

The machine's busy CPU time is ``/proc/stat``'s first line less idle and iowait. Both are
cumulative seconds: the share of the machine's busy time in an interval that was the tree's
is the split RAPL energy gets in process scope (the method Scaphandre and Kepler use), and
its complement is the window's ``foreign_cpu_share`` (:class:`~pytest_carbon.timeline.LoadSeries`).

Limits: a descendant that daemonizes (is re-parented outside the tree) leaves it with its
time; without ``/proc`` (not Linux) the tree is the process and its reaped children
(``os.times()``), and the machine's busy time is unknown.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import NamedTuple

# The seam for tests: point it at a fake procfs.
PROC = Path("/proc")


class Load(NamedTuple):
    """Cumulative CPU seconds at one instant."""

    t_ns: int
    machine_busy_s: float | None  # None: unknown here (no /proc/stat)
    tree_cpu_s: float
    tree_rss_bytes: int | None  # resident memory of the tree now; None: unknown


def _ticks() -> float:
    try:
        return float(os.sysconf("SC_CLK_TCK"))
    except (AttributeError, ValueError, OSError):
        return 100.0


TICKS = _ticks()
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def cpu_ticks(stat: Path) -> tuple[float, float]:
    """(busy, total) clock ticks of all CPUs since boot, from the first line of ``/proc/stat``.

    Raises:
        OSError: the file cannot be read.
        ValueError: its first line is not the ``cpu`` total.
    """
    fields = stat.read_text().split("\n", 1)[0].split()
    if not fields or fields[0] != "cpu":
        raise ValueError(f"unexpected first line in {stat}: {fields[:3]}")
    vals = [float(x) for x in fields[1:9]]  # user nice system idle iowait irq softirq steal
    total = sum(vals)
    return total - vals[3] - vals[4], total


def machine_busy_s(proc: Path) -> float | None:
    try:
        return cpu_ticks(proc / "stat")[0] / TICKS
    except (OSError, ValueError):
        return None


def _stat(proc: Path, pid: int) -> tuple[float, int] | None:
    """(CPU seconds of the process and its reaped children, resident bytes), or None if gone."""
    try:
        text = (proc / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    rest = text[text.rfind(")") + 2 :].split()
    # rest[0] is field 3 (state): utime, stime, cutime, cstime are fields 14-17, rss is 24.
    try:
        cpu = (int(rest[11]) + int(rest[12]) + int(rest[13]) + int(rest[14])) / TICKS
        return cpu, int(rest[21]) * PAGE
    except (IndexError, ValueError):
        return None


def _children(proc: Path, pid: int) -> list[int]:
    out: list[int] = []
    try:
        tids = os.listdir(proc / str(pid) / "task")
    except OSError:
        return out
    for tid in tids:
        try:
            out.extend(int(c) for c in (proc / str(pid) / "task" / tid / "children").read_text().split())
        except (OSError, ValueError):
            continue
    return out


class LoadProbe:
    """Reads the tree's and the machine's CPU time; shared by the meters that need it.

    Every read made outside the interpreter's lock lets the test's thread be interrupted, so
    a reading costs as few file reads as it can: ``/proc/stat``, and the stat file of each
    descendant already known. The tree itself (``children`` of every thread) and the
    process's own resident memory are read every ``refresh`` readings (1 s at the default
    interval): a new descendant's CPU time enters at its discovery, up to that late, and a
    descendant that exits and is reaped meanwhile moves its time into its parent's count.
    """

    def __init__(self, root_pid: int | None = None, refresh: int = 10):
        self.root = os.getpid() if root_pid is None else root_pid
        self.refresh = refresh
        self.proc = PROC
        self.has_proc = (PROC / str(self.root) / "stat").exists()
        self._last: Load | None = None
        self._lock = threading.Lock()
        self._reads = 0
        self._known: list[int] = []  # descendants found at the last refresh
        self._own_rss: int | None = None

    def read(self, now: int | None = None, since: int | None = None) -> Load:
        """A reading at ``now``; or the last one, if it was taken at or after ``since`` (so
        that the sampler and a process-scope meter reading in one tick walk ``/proc`` once)."""
        with self._lock:
            last = self._last
            if since is not None and last is not None and last.t_ns >= since:
                return last
            load = self._read(time.monotonic_ns() if now is None else now)
            self._last = load
            return load

    def pids(self) -> set[int]:
        """The tree's processes as of the last walk (the root and its known descendants)."""
        with self._lock:
            return {self.root, *self._known}

    def _discover(self) -> None:
        proc = self.proc
        seen = {self.root}
        found: list[int] = []
        todo = _children(proc, self.root)
        while todo:
            pid = todo.pop()
            if pid in seen:
                continue
            seen.add(pid)
            found.append(pid)
            todo.extend(_children(proc, pid))
        self._known = found

    def _read(self, now: int) -> Load:
        if not self.has_proc:
            t = os.times()
            return Load(now, None, time.process_time() + t.children_user + t.children_system, None)
        proc = self.proc
        refresh = self._reads % self.refresh == 0
        self._reads += 1
        if self.root == os.getpid():  # our own time in ns from the clock, not in ticks
            t = os.times()
            cpu = time.process_time() + t.children_user + t.children_system
            if refresh:
                own = _stat(proc, self.root)
                self._own_rss = None if own is None else own[1]
        else:
            own = _stat(proc, self.root)
            cpu, self._own_rss = own if own is not None else (0.0, None)
        if refresh:
            self._discover()
        rss = self._own_rss
        alive = []
        for pid in self._known:
            st = _stat(proc, pid)
            if st is None:  # exited and reaped: its time is now its parent's
                continue
            alive.append(pid)
            cpu += st[0]
            if rss is not None:
                rss += st[1]
        self._known = alive
        return Load(now, machine_busy_s(proc), cpu, rss)
