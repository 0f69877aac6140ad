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


def git_branch(root: Path) -> str | None:
    """The branch this run is of: GitHub Actions' (the pull request's head, else the ref),
    else the checkout's; None when detached or outside git."""
    import os

    for var in ("GITHUB_HEAD_REF", "GITHUB_REF_NAME"):
        if os.environ.get(var):
            return os.environ[var]
    try:
        out = subprocess.run(["git", "rev-parse", "--abbrev-ref", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    name = out.stdout.strip() if out.returncode == 0 else ""
    return name if name and name != "HEAD" else None


def default_branch(root: Path) -> str:
    """The repository's default branch: the pull request's base on GitHub Actions, else
    origin's HEAD, else main."""
    import os

    if os.environ.get("GITHUB_BASE_REF"):
        return os.environ["GITHUB_BASE_REF"]
    try:
        out = subprocess.run(["git", "symbolic-ref", "--short", "refs/remotes/origin/HEAD"], cwd=root, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return "main"
    name = out.stdout.strip() if out.returncode == 0 else ""
    return name.split("/", 1)[1] if "/" in name else "main"


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
        "git_branch": git_branch(rootdir),
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
