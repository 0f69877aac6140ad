"""Facts about this machine, read without third-party imports: CPU model, threads, RAM.

Also the CPU TDP lookup in codecarbon's bundled table (``data/hardware/cpu_power.csv``),
read from its package data without importing codecarbon (whose import pulls pandas).
"""

from __future__ import annotations

import csv
import functools
import importlib.util
import os
import platform
import re
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")
MEMINFO = Path("/proc/meminfo")


@functools.lru_cache(maxsize=None)
def codecarbon_data_dir() -> Path:
    """codecarbon's package data folder, found without importing codecarbon."""
    spec = importlib.util.find_spec("codecarbon")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "codecarbon is not installed; pytest-carbon reads its bundled hardware and"
            " carbon-intensity tables: pip install codecarbon"
        )
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def cpu_model() -> str:
    try:
        for line in CPUINFO.read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def cpu_threads() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def ram_total_bytes() -> int | None:
    try:
        for line in MEMINFO.read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


_NOISE = re.compile(
    r"\(r\)|\(tm\)|\bcpu\b|\bprocessor\b|@.*$|\d+-core|with radeon.*$|\bgraphics\b", re.I
)


def _tokens(name: str) -> list[str]:
    return _NOISE.sub(" ", name).lower().split()


@functools.lru_cache(maxsize=None)
def _tdp_table() -> list[tuple[str, float]]:
    rows: list[tuple[str, float]] = []
    with open(codecarbon_data_dir() / "hardware" / "cpu_power.csv", newline="") as f:
        for row in csv.DictReader(f):
            try:
                rows.append((row["Name"], float(row["TDP"])))
            except (KeyError, ValueError):
                continue
    return rows


def lookup_tdp(model: str) -> tuple[str, float] | None:
    """(table name, TDP in W) for a CPU model string, or None when no entry matches.

    An entry matches when its words all appear in the model's (noise words such as "(R)",
    "CPU" and the clock dropped) and one of them carries a model number: "AMD EPYC" alone
    is a family, not a part, and matches nothing. The longest matching entry wins.
    """
    want = _tokens(model)
    numbered = [t for t in want if any(c.isdigit() for c in t)]
    if not numbered:
        return None  # every entry names a part number; a family name cannot match one
    want_set = set(want)
    best: tuple[str, float] | None = None
    for name, tdp in _tdp_table():
        low = name.lower()
        if not any(t in low for t in numbered):
            continue
        toks = _tokens(name)
        if toks == want:
            return name, tdp
        if set(toks) <= want_set and (best is None or len(name) > len(best[0])):
            best = (name, tdp)
    return best
