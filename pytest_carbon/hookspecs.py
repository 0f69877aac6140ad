"""Hooks other plugins and conftests may implement."""

from __future__ import annotations

from typing import Any

import pytest


def pytest_carbon_update_json(config: pytest.Config, report: dict[str, Any]) -> None:
    """Amend the report before it is written (JSON, HTML, GitHub outputs): add fields, e.g.
    the CI job's id, or a team's own per-test tags. Keep the schema's fields as they are.

    Called once per session, in the process that writes the report (the xdist controller).
    """
