"""pytest hooks only: options, settings, the marker and the fixture.

All state lives in one :class:`~pytest_carbon.session.CarbonSession`, registered with the
plugin manager and reachable through ``config.stash``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .config import KEYS, ConfigError, load

SESSION = pytest.StashKey["Any"]()

_HELP = {
    "measure_all": "measure every test (without it, only tests marked carbon or using the carbon fixture)",
    "json": "write the JSON report (schema pytest-carbon/1) to PATH",
    "meter": "meters: auto (default), nvml, rapl, estimate, constant:CHANNEL=WATTS[,...], replay:PATH; join with +",
    "interval": "seconds between meter readings (default 0.1)",
    "country": "ISO 3166 alpha-3 country of the machine, for grid intensity (e.g. DEU)",
    "region": "sub-national region: US state (CA), Canadian province (QC), Chinese province (CN-BJ), Nordic zone (SE3)",
    "cloud": "cloud PROVIDER:REGION from codecarbon's table, e.g. gcp:europe-west1",
    "intensity": "grid intensity in g CO2eq/kWh, overriding the location tables",
    "pue": "data-centre power usage effectiveness, multiplies energy (default 1.0)",
    "top": "tests shown in the summary table (default 10; 0 hides it)",
    "record": "write the meters' timeline to PATH, replayable with --carbon-meter replay:PATH",
    "budget_mode": "enforce (default: over-budget tests fail), warn (report only) or off",
    "require_measured": "fail budgets judged on estimates (no energy counter) or unknown energy",
    "baseline": "compare with this earlier report (e.g. main's); regressions fail the run",
    "max_regression": "relative energy growth that counts as a regression (default 10%%)",
    "min_delta": "absolute energy growth below which nothing regresses (default 50 J)",
    "github_comment": "write a PR comment body (markdown, with a hidden marker) to PATH",
    "month": "apply month 1-12 (or auto: this run's) of the place's seasonal profile (Ember data)",
    "whatif": "zones for the what-if, e.g. FRA,POL,US-CA (default: every country in the data)",
    "html": "write a self-contained HTML report (charts, no network) to PATH",
    "marker": "the name of pytest-carbon's marker (default carbon), for suites with a carbon marker of their own",
}
_METAVAR = {
    "json": "PATH", "meter": "SPEC", "interval": "SECONDS", "country": "ISO3", "region": "CODE",
    "cloud": "PROVIDER:REGION", "intensity": "G_PER_KWH", "pue": "X", "top": "N", "record": "PATH",
    "budget_mode": "enforce|warn|off",
    "baseline": "PATH", "max_regression": "PERCENT", "min_delta": "ENERGY", "github_comment": "PATH",
    "month": "1-12|auto", "whatif": "ZONES", "html": "PATH", "marker": "NAME",
}  # fmt: skip


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from . import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("carbon", "energy and CO2eq (pytest-carbon); each also a key of [tool.pytest-carbon]")
    for key, (opt, _) in KEYS.items():
        dest = f"carbon_{key}"
        if key in ("measure_all", "require_measured"):
            group.addoption(opt, action="store_const", const=True, default=None, dest=dest, help=_HELP[key])
        else:
            group.addoption(opt, default=None, dest=dest, metavar=_METAVAR[key], help=_HELP[key])


def _pyproject(config: pytest.Config) -> Path | None:
    ini = config.inipath
    if ini is not None and ini.name == "pyproject.toml":
        return Path(ini)
    candidate = Path(config.rootpath) / "pyproject.toml"
    return candidate if candidate.is_file() else None


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    cli = {key: config.getoption(f"carbon_{key}") for key in KEYS}
    try:
        settings = load(_pyproject(config), cli)
    except ConfigError as e:
        raise pytest.UsageError(f"pytest-carbon: {e}") from None
    config.addinivalue_line(
        "markers",
        f"{settings.marker}(co2=..., energy=...): pytest-carbon measures this test's energy and CO2eq"
        " even without --carbon, with an optional budget",
    )
    from .session import CarbonSession

    session = CarbonSession(config, settings)
    config.stash[SESSION] = session
    config.pluginmanager.register(session, "carbon-session")


@pytest.fixture
def carbon(request: pytest.FixtureRequest) -> Any:
    """Phases inside a test and its energy so far: ``with carbon.phase("train"): ...``."""
    from .fixture import request_fixture

    return request_fixture(request.config.stash[SESSION], request)
