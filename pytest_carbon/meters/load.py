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


class ProcFile:
    """A ``/proc`` file kept open and read from its start with one ``pread``.

    Every call the sampler makes outside the interpreter's lock lets the test's thread take
    the lock, and the sampler must then wait for it to be handed back: ``read_text`` makes
    four such calls (open, stat, read, close), a ``pread`` on a descriptor kept open one.
    After :meth:`close`, each read opens and closes the file again (nothing is left open).
    """

    def __init__(self, path: Path, size: int = 4096):
        self.path = path
        self.size = size
        self._fd: int | None = None
        self._closed = False

    def read(self) -> str:
        """The file's first ``size`` bytes now. Raises OSError."""
        if self._closed:
            return self.path.read_bytes()[: self.size].decode("ascii", "replace")
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        try:
            return os.pread(self._fd, self.size, 0).decode("ascii", "replace")
        except OSError:
            self._release()  # the next read opens it again
            raise

    def close(self) -> None:
        self._closed = True
        self._release()

    def _release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass


def cpu_ticks(text: str, where: Path) -> tuple[float, float]:
    """(busy, total) clock ticks of all CPUs since boot, from the first line of ``/proc/stat``.

    Raises:
        ValueError: the first line of ``text`` (read from ``where``) is not the ``cpu`` total.
    """
    fields = text.split("\n", 1)[0].split()
    if not fields or fields[0] != "cpu":
        raise ValueError(f"unexpected first line in {where}: {fields[:3]}")
    vals = [float(x) for x in fields[1:9]]  # user nice system idle iowait irq softirq steal
    total = sum(vals)
    return total - vals[3] - vals[4], total


def _parse_stat(text: str) -> tuple[float, int] | None:
    """(CPU seconds of the process and its reaped children, resident bytes) from ``/proc/PID/stat``."""
    # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    rest = text[text.rfind(")") + 2 :].split()
    # rest[0] is field 3 (state): utime, stime, cutime, cstime are fields 14-17, rss is 24.
    try:
        cpu = (int(rest[11]) + int(rest[12]) + int(rest[13]) + int(rest[14])) / TICKS
        return cpu, int(rest[21]) * PAGE
    except (IndexError, ValueError):
        return None


def _stat(proc: Path, pid: int) -> tuple[float, int] | None:
    """A descendant's figures (see ``_parse_stat``), or None if it is gone."""
    try:
        return _parse_stat((proc / str(pid) / "stat").read_text())
    except OSError:
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
    interval), and at a reading ``walk_s`` or more after the last walk (sparse sampling reads
    less often): a new descendant's CPU time enters at its discovery, up to that late, and a
    descendant that exits and is reaped meanwhile moves its time into its parent's count.
    """

    def __init__(self, root_pid: int | None = None, refresh: int = 10, walk_s: float = 1.0):
        self.root = os.getpid() if root_pid is None else root_pid
        self.refresh = refresh
        self.walk_ns = int(walk_s * 1e9)
        self._walked_ns = 0  # the first reading walks anyway (its count is 0)
        self.proc = PROC
        self.has_proc = (PROC / str(self.root) / "stat").exists()
        self._last: Load | None = None
        self._lock = threading.Lock()
        self._reads = 0
        self._known: list[int] = []  # descendants found at the last refresh
        self._own_rss: int | None = None
        self._files: dict[Path, ProcFile] = {}  # /proc/stat and our own stat, kept open

    def _file(self, path: Path) -> ProcFile:
        f = self._files.get(path)
        if f is None:
            f = self._files[path] = ProcFile(path)
        return f

    def close(self) -> None:
        """Close the files kept open (reads still work after, opening them each time)."""
        with self._lock:
            for f in self._files.values():
                f.close()

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
        refresh = self._reads % self.refresh == 0 or now - self._walked_ns >= self.walk_ns
        self._reads += 1
        if refresh:
            self._walked_ns = now
        if self.root == os.getpid():  # our own time in ns from the clock, not in ticks
            t = os.times()
            cpu = time.process_time() + t.children_user + t.children_system
            if refresh:
                own = self._own_stat(proc)
                self._own_rss = None if own is None else own[1]
        else:
            own = self._own_stat(proc)
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
        try:
            busy: float | None = cpu_ticks(self._file(proc / "stat").read(), proc / "stat")[0] / TICKS
        except (OSError, ValueError):
            busy = None
        return Load(now, busy, cpu, rss)

    def _own_stat(self, proc: Path) -> tuple[float, int] | None:
        try:
            return _parse_stat(self._file(proc / str(self.root) / "stat").read())
        except OSError:
            return None
