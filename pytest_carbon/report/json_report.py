"""The JSON report: schema ``pytest-carbon/1``, built from results, written atomically.

The report is the single model every output renders from: the terminal table at the end of
a run and ``pytest-carbon show`` read the same dict.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from .. import __version__, hardware
from ..attribution import ChannelTotals
from ..meters.base import ChannelInfo

SCHEMA = "pytest-carbon/1"
CAR_G_PER_KM = 107.5  # EU new-car average 2020, as Carbontracker uses


class ReportError(ValueError):
    """A report file that cannot be used; the message names the file and what is wrong."""


def _git_sha(root: Path) -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def build(
    *,
    settings: Any,
    intensity: Any,
    started: dt.datetime,
    duration_s: float,
    infos: list[ChannelInfo],
    interval_s: float,
    meter_notes: list[str],
    meter_errors: list[dict[str, Any]],
    tests: list[dict[str, Any]],
    totals: dict[str, ChannelTotals],
    g_per_j: float,
    rootdir: Path,
    interrupted: bool,
    budgets: dict[str, Any] | None = None,
) -> dict[str, Any]:
    import pytest

    measured = {ch: t.measured_j for ch, t in totals.items()}
    measured_total = sum(measured.values())
    attributed = sum(t.attributed_j for t in totals.values())
    incomplete = sum(t.incomplete_j for t in totals.values())
    unattributed = sum(t.unattributed_j for t in totals.values())
    co2 = measured_total * g_per_j
    ram = hardware.ram_total_bytes()
    return {
        "schema": SCHEMA,
        "run": {
            "started": started.isoformat(timespec="seconds"),
            "duration_s": duration_s,
            "interrupted": interrupted,
            "host": socket.gethostname(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "pytest": pytest.__version__,
            "plugin": __version__,
            "git_sha": _git_sha(rootdir),
            "argv": sys.argv[1:],
            "hardware": {
                "cpu": hardware.cpu_model(),
                "cpu_threads": hardware.cpu_threads(),
                "ram_gib": None if ram is None else round(ram / 2**30, 1),
                "gpus": [c.hardware for c in infos if c.name.startswith("gpu:")],
            },
            "meters": [c.as_dict() for c in infos],
            "meter_notes": meter_notes,
            "meter_errors": meter_errors,
            "sample_interval_s": interval_s,
            "intensity": {
                "g_per_kwh": intensity.g_per_kwh,
                "source": intensity.source,
                "kind": intensity.kind,
                "country": intensity.country,
                "region": intensity.region,
                "year": intensity.year,
                "warning": intensity.warning,
                "month": intensity.month,
                "annual_g_per_kwh": intensity.annual_g_per_kwh,
            },
            "pue": settings.pue,
        },
        "tests": tests,
        "budgets": budgets,
        "totals": {
            "energy_j": {**measured, "total": measured_total},
            "attributed_j": attributed,
            "incomplete_j": incomplete,
            "unattributed_j": unattributed,
            "gaps_s": {ch: t.gap_ns / 1e9 for ch, t in totals.items() if t.gap_ns},
            "channels": {
                ch: {
                    "measured_j": t.measured_j,
                    "attributed_j": t.attributed_j,
                    "incomplete_j": t.incomplete_j,
                    "unattributed_j": t.unattributed_j,
                }
                for ch, t in totals.items()
            },
            "co2_g": co2,
            "car_km": co2 / CAR_G_PER_KM,
            "tests": len(tests),
            "estimated": any(c.estimated for c in infos),
        },
    }


def write_atomic(path: Path, doc: dict[str, Any]) -> None:
    """Write JSON so that readers see the old file or the new one, never half of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=1, allow_nan=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def load(path: str | Path) -> dict[str, Any]:
    """Read a report; any problem is a :class:`ReportError` naming the file and the fix."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReportError(f"{p}: no such file; write one with pytest --carbon --carbon-json {p}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ReportError(f"{p}: cannot be read ({e})") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise ReportError(f"{p}: not valid JSON ({e.msg} at line {e.lineno}); truncated or not a report?") from None
    if not isinstance(doc, dict) or "schema" not in doc:
        raise ReportError(f"{p}: not a pytest-carbon report (no 'schema' field)")
    if doc["schema"] != SCHEMA:
        raise ReportError(
            f"{p}: schema {doc['schema']!r} is not {SCHEMA!r}; this pytest-carbon ({__version__})"
            " reads only that version"
        )
    for key, typ in (("run", dict), ("tests", list), ("totals", dict)):
        if not isinstance(doc.get(key), typ):
            raise ReportError(f"{p}: field {key!r} is missing or not a {typ.__name__}; the file is damaged")
    return doc
