"""The run's metadata for the report: host, software, hardware, meters, intensity.

Effects at the edge (the host name, ``git rev-parse``, /proc): kept apart from the pure
result model, which takes the document this module makes as plain JSON values.
"""

from __future__ import annotations

import datetime as dt
import platform
import socket
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any, Sequence

from . import __version__, hardware
from .intensity import Intensity
from .meters.base import ChannelInfo


def git_sha(root: Path) -> str | None:
    """The checkout's commit, or None outside git (or without git)."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def run_info(
    *,
    started: dt.datetime,
    duration_s: float,
    interrupted: bool,
    pytest_version: str,
    rootdir: Path,
    infos: Sequence[ChannelInfo],
    interval_s: float,
    meter_notes: Sequence[str],
    meter_errors: Sequence[dict[str, Any]],
    intensity: Intensity,
    pue: float,
) -> dict[str, Any]:
    """The report's ``run`` object."""
    ram = hardware.ram_total_bytes()
    return {
        "id": uuid.uuid4().hex,  # tells two runs apart, e.g. the same shard given twice to merge
        "started": started.isoformat(timespec="seconds"),
        "duration_s": duration_s,
        "interrupted": interrupted,
        "host": socket.gethostname(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "pytest": pytest_version,
        "plugin": __version__,
        "git_sha": git_sha(rootdir),
        "argv": sys.argv[1:],
        "hardware": {
            "cpu": hardware.cpu_model(),
            "cpu_threads": hardware.cpu_threads(),
            "ram_gib": None if ram is None else round(ram / 2**30, 1),
            "gpus": [c.hardware for c in infos if c.name.startswith("gpu:")],
        },
        "meters": [c.as_dict() for c in infos],
        "meter_notes": list(meter_notes),
        "meter_errors": list(meter_errors),
        "sample_interval_s": interval_s,
        "intensity": intensity.as_dict(),
        "pue": pue,
    }
