"""The report's platform string: platform.platform()'s, without the process it starts."""

from __future__ import annotations

import os
import platform
import subprocess

import pytest

from pytest_carbon import runinfo


def test_the_same_string_as_platform_platform_without_starting_a_process(monkeypatch):
    expected = platform.platform()  # the reference, computed the standard library's way
    if platform.system() != "Linux" or platform.processor() not in ("", platform.machine()):
        pytest.skip("platform.platform() names a processor here that differs from the machine")

    def no_process(*a, **k):
        raise AssertionError(f"a process was started: {a}")

    # Forget what the standard library cached, so that a `uname -p` would run again here.
    monkeypatch.setattr(platform, "_uname_cache", None)
    monkeypatch.setattr(platform, "_platform_cache", {})
    monkeypatch.setattr(subprocess, "check_output", no_process)
    monkeypatch.setattr(subprocess, "Popen", no_process)
    assert runinfo.platform_name() == expected


def test_elsewhere_platform_platform_itself(monkeypatch):
    monkeypatch.setattr(os, "uname", lambda: os.uname_result(("Darwin", "h", "23.0", "v", "arm64")))
    monkeypatch.setattr(platform, "platform", lambda: "macOS-14-arm64")
    assert runinfo.platform_name() == "macOS-14-arm64"
