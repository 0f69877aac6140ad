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


def _git(root: Path, *args: str) -> str | None:
    """``git ARGS`` in ``root``: its output, or None where it fails (or git is missing)."""
    try:
        out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def platform_name() -> str:
    """``platform.platform()``'s string ("Linux-6.1.0-x86_64-with-glibc2.36") without the
    ``uname -p`` process it starts on Linux only to learn that the processor is the machine.
    The glibc version is the running one (``platform.platform()`` reads the newest that the
    Python binary asks for: the same for a Python built on the machine, older for one built
    elsewhere). Elsewhere, or without glibc, ``platform.platform()`` itself."""
    import os

    libc = os.confstr("CS_GNU_LIBC_VERSION") if "CS_GNU_LIBC_VERSION" in getattr(os, "confstr_names", {}) else None
    u = os.uname() if hasattr(os, "uname") else None
    if u is None or u.sysname != "Linux" or not libc or not libc.startswith("glibc "):
        return platform.platform()
    return f"Linux-{u.release}-{u.machine}-with-glibc{libc.split()[1]}".replace(" ", "_")


def read_head(root: Path) -> tuple[str | None, str | None] | None:
    """(commit, branch or None when detached) read from the repository's files, without
    starting git (two processes a run); (None, None) outside any repository; None where the
    files cannot settle it: ``GIT_DIR`` and the like set, a reference neither loose nor
    packed (reftable, a branch without commits)."""
    import os

    if any(v in os.environ for v in ("GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR", "GIT_CEILING_DIRECTORIES")):
        return None
    try:
        root = root.resolve()
        for d in (root, *root.parents):
            dot = d / ".git"
            if dot.is_dir():
                gitdir = dot
                break
            if dot.is_file():  # a worktree or submodule: "gitdir: <path>"
                text = dot.read_text().strip()
                if not text.startswith("gitdir: "):
                    return None
                gitdir = (d / text[len("gitdir: ") :]).resolve()
                break
        else:
            return None, None  # no repository here or above: git would find none either
        common = gitdir
        if (gitdir / "commondir").is_file():  # a worktree's refs live in the main repository
            common = (gitdir / (gitdir / "commondir").read_text().strip()).resolve()
        head = (gitdir / "HEAD").read_text().strip()
        if not head.startswith("ref: "):
            return (head, None) if _is_sha(head) else None
        ref = head[len("ref: ") :]
        branch = ref[len("refs/heads/") :] if ref.startswith("refs/heads/") else None
        for base in (gitdir, common):
            loose = base / ref
            if loose.is_file():
                sha = loose.read_text().strip()
                return (sha, branch) if _is_sha(sha) else None
        packed = common / "packed-refs"
        if packed.is_file():
            for line in packed.read_text().splitlines():
                sha, _, name = line.partition(" ")
                if name == ref and _is_sha(sha):
                    return sha, branch
        return None  # a branch without commits, or refs git keeps elsewhere: ask git
    except (OSError, UnicodeDecodeError):
        return None


def _is_sha(text: str) -> bool:
    return len(text) in (40, 64) and all(c in "0123456789abcdef" for c in text)


def git_sha(root: Path) -> str | None:
    """The checkout's commit, or None outside git (or without git)."""
    head = read_head(root)
    return head[0] if head is not None else _git(root, "rev-parse", "HEAD")


def git_branch(root: Path) -> str | None:
    """The branch this run is of: GitHub Actions' (the pull request's head, else the ref),
    else the checkout's; None when detached or outside git."""
    import os

    for var in ("GITHUB_HEAD_REF", "GITHUB_REF_NAME"):
        if os.environ.get(var):
            return os.environ[var]
    head = read_head(root)
    if head is not None:
        return head[1]
    name = _git(root, "rev-parse", "--abbrev-ref", "HEAD")
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
        "platform": platform_name(),
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
