"""A plugin named on every pytester run of this suite: appends each report the session
builds to the file named by ``CARBON_WATCH_FILE``, for the conservation check in conftest.

Named in PYTEST_ADDOPTS, so that it loads in runs in process and in a subprocess alike.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest


@pytest.hookimpl(optionalhook=True)  # also in runs with -p no:carbon
def pytest_carbon_update_json(config: pytest.Config, report: dict[str, Any]) -> None:
    path = os.environ.get("CARBON_WATCH_FILE")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(report) + "\n")
