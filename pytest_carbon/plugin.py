"""pytest hooks only: options, settings, the marker and the fixture.

All state lives in one :class:`~pytest_carbon.session.CarbonSession`, registered with the
plugin manager and reachable through ``config.stash``.

A run that does not ask the plugin for anything (no ``--carbon*`` option, no
``[tool.pytest-carbon]``) gets a dormant stand-in instead: it imports nothing heavy and only
looks, after collection, for tests marked with the plugin's marker or using its fixture. It
wakes the real session only if there are some.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import pytest

from .options import FLAGS, HELP, METAVAR, SWITCHES

SESSION = pytest.StashKey["Any"]()
MARKER_HELP = "(co2=..., energy=...): pytest-carbon measures this test's energy and CO2eq, with an optional budget"


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from . import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("carbon", "energy and CO2eq (pytest-carbon); each also a key of [tool.pytest-carbon]")
    for key, opt in FLAGS.items():
        dest = f"carbon_{key}"
        if key in SWITCHES:
            group.addoption(opt, action="store_const", const=True, default=None, dest=dest, help=HELP[key])
        else:
            group.addoption(opt, default=None, dest=dest, metavar=METAVAR[key], help=HELP[key])


def _pyproject(config: pytest.Config) -> Path | None:
    ini = config.inipath
    if ini is not None and ini.name == "pyproject.toml":
        return Path(ini)
    candidate = Path(config.rootpath) / "pyproject.toml"
    return candidate if candidate.is_file() else None


def _asked(config: pytest.Config, cli: dict[str, Any]) -> bool:
    """Whether this run asks the plugin for anything: an option, a pyproject table, or xdist.

    The xdist controller collects nothing, so it cannot tell whether a worker will measure a
    test; it always starts the real session.
    """
    if any(v is not None for v in cli.values()):
        return True
    if not hasattr(config, "workerinput") and getattr(config.option, "dist", "no") != "no":
        return True
    path = _pyproject(config)
    try:
        # Any mention: the full configuration then reads it, and also catches misspelt tables.
        return path is not None and b"carbon" in path.read_bytes().lower()
    except OSError:
        return True  # let the full configuration say what is wrong with the file


def _start(config: pytest.Config, cli: dict[str, Any]) -> Any:
    """Load the settings and register the real session; a bad setting stops the run (exit 4)."""
    from .config import ConfigError, load
    from .session import CarbonSession

    try:
        settings = load(_pyproject(config), cli)
    except ConfigError as e:
        raise pytest.UsageError(f"pytest-carbon: {e}") from None
    config.addinivalue_line("markers", settings.marker + MARKER_HELP)
    session = CarbonSession(config, settings)
    config.stash[SESSION] = session
    config.pluginmanager.register(session, "carbon-session")
    return session


class Dormant:
    """The plugin in a run that has not asked for it: wakes only for its marker or fixture."""

    def __init__(self, config: pytest.Config, cli: dict[str, Any]):
        self.config = config
        self.cli = cli
        self.foreign: list[str] = []

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        from .selection import own_marker, uses_our_fixture

        wanted = False
        parents: dict[Any, Any] = {}
        for item in items:
            marker, theirs = own_marker(item, "carbon", False, parents)
            if theirs:
                self.foreign.append(item.nodeid)
            elif marker is not None or uses_our_fixture(item):
                wanted = True
        if wanted:
            self.config.pluginmanager.unregister(self)
            _start(self.config, self.cli).pytest_collection_modifyitems(items)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.foreign:
            from .selection import foreign_marker_note

            terminalreporter.write_line(foreign_marker_note("carbon", self.foreign))


PATH_FLAGS = ("--carbon-json", "--carbon-html", "--carbon-baseline", "--carbon-record", "--carbon-github-comment", "--carbon-history")
CONFIG_FILES = ("pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg")


def misread_paths(args: Sequence[str], invocation_dir: Path, rootpath: Path) -> list[str]:
    """Path options whose value pytest took for a test path when it chose its rootdir.

    pytest chooses the rootdir and config file before it loads plugins, so ``--carbon-history
    /tmp/h.db`` (value as a separate word, file already there) counts ``/tmp/h.db`` as a test
    path: the rootdir moves up to a common ancestor, every node id changes (a history no longer
    matches), and the suite's own config file may be skipped. Only a file outside the
    invocation directory, with the rootdir moved above it past a config file, is reported.
    """
    found = []
    for flag, value in zip(args, args[1:]):
        if flag not in PATH_FLAGS or value.startswith("-"):
            continue
        path = (invocation_dir / value).resolve()
        if not path.exists() or path.is_relative_to(invocation_dir.resolve()):
            continue
        here, root = invocation_dir.resolve(), rootpath.resolve()
        if here == root or not here.is_relative_to(root):
            continue
        between = [d for d in [here, *here.parents] if d != root and d.is_relative_to(root)]
        if any((d / name).is_file() for d in between for name in CONFIG_FILES):
            found.append(
                f"pytest-carbon: pytest took the value of {flag} {value} for a test path when it chose its rootdir"
                f" (now {root}), so node ids and the config file are not this suite's own; write {flag}={value}"
            )
    return found


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    cli = {key: config.getoption(f"carbon_{key}") for key in FLAGS}
    for message in misread_paths(config.invocation_params.args, config.invocation_params.dir, config.rootpath):
        config.issue_config_time_warning(pytest.PytestConfigWarning(message), stacklevel=2)
    if _asked(config, cli):
        _start(config, cli)
    else:
        config.addinivalue_line("markers", "carbon" + MARKER_HELP)
        config.pluginmanager.register(Dormant(config, cli), "carbon-dormant")


@pytest.fixture
def carbon(request: pytest.FixtureRequest) -> Any:
    """Phases inside a test and its energy so far: ``with carbon.phase("train"): ...``."""
    from .fixture import request_fixture

    session = request.config.stash.get(SESSION, None)
    if session is None:  # requested with getfixturevalue, so collection did not see it
        raise pytest.UsageError(
            f"{request.node.nodeid}: the carbon fixture was requested dynamically, so the"
            " test was not measured; request it as an argument or mark the test with"
            " @pytest.mark.carbon"
        )
    return request_fixture(session, request)
