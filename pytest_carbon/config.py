"""``[tool.pytest-carbon]`` in pyproject.toml + ``--carbon-*`` options -> one frozen Settings.

All validation happens here, where values are parsed: a bad value raises
:class:`ConfigError` naming where it came from (option, or file, table and key), the value,
and the accepted forms. The plugin turns it into a usage error (exit code 4).
"""

from __future__ import annotations

import difflib
import re
import sys
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Mapping, NamedTuple

from . import intensity as intensity_mod
from .budget import BudgetError, BudgetTable, parse_table
from .meters import MeterSpec
from .options import FLAGS
from .units import UnitError, parse_count, parse_duration_s, parse_energy_j, parse_percent, parse_power_w

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

TABLE = "tool.pytest-carbon"


class ConfigError(ValueError):
    pass


class Settings(NamedTuple):
    """The run's configuration, from ``[tool.pytest-carbon]`` and the command line."""

    measure_all: bool = False
    json_path: str | None = None
    meters: tuple[MeterSpec, ...] = (MeterSpec("auto"),)
    interval_s: float = 0.1
    scope: str = "auto"  # auto | process | machine
    country: str | None = None
    region: str | None = None
    cloud: str | None = None
    intensity: float | None = None
    pue: float = 1.0
    top: int = 10
    record: str | None = None
    budgets: BudgetTable = BudgetTable()
    budget_mode: str = "enforce"  # enforce | warn | off
    require_measured: bool = False
    inconclusive: str = "pass"  # pass | fail: a per-item interval straddling its limit
    baseline: str | None = None
    max_regression: float = 0.10
    min_delta: float = 50.0  # J
    github_comment: str | None = None
    month: int | None = None  # resolved: "auto" becomes the run's own month
    whatif: tuple[str, ...] | None = None  # zones for the what-if; None: every country
    html: str | None = None
    source: str = ""  # the pyproject file read, if any
    origins: Mapping[str, str] = MappingProxyType({})  # key -> where its value came from
    place: intensity_mod.Intensity | None = None  # the intensity these settings resolve to
    marker: str = "carbon"  # the name of the plugin's marker, for suites that have their own "carbon"
    history: str | None = None  # a SQLite path or a postgresql:// URL
    threshold: Any = None  # history.stats.Threshold; None: percent:10
    history_last: int = 10
    history_branch: str | None = None

    @property
    def asked(self) -> bool:
        """Whether the user asked this plugin for anything (an option, or [tool.pytest-carbon])."""
        return bool(self.origins) or bool(self.source)


# key -> (command-line option, parser). Every key is settable both ways.
def _bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.lower() in ("true", "1", "yes", "on"):
        return True
    if isinstance(v, str) and v.lower() in ("false", "0", "no", "off"):
        return False
    raise ConfigError("must be true or false")


def _path(v: Any) -> str:
    if not isinstance(v, str) or not v.strip():
        raise ConfigError("must be a file path")
    return v


MAX_CONSTANT_W = 1e6  # per channel; far above any machine, far below where energy overflows
_CHANNEL = re.compile(r"^[a-z][a-z0-9_]*(:\d+)?$")


def parse_meter_spec(v: Any) -> tuple[MeterSpec, ...]:
    forms = (
        "auto, nvml, rapl, estimate, constant:CHANNEL=WATTS[,CHANNEL=WATTS...]"
        " (e.g. constant:cpu=100W,gpu:0=250W), replay:PATH, or several joined with +"
    )
    if not isinstance(v, str) or not v.strip():
        raise ConfigError(f"must be a meter spec: {forms}")
    specs: list[MeterSpec] = []
    for part in v.split("+"):
        part = part.strip()
        kind, _, arg = part.partition(":")
        if kind in ("auto", "nvml", "rapl", "estimate") and not arg:
            specs.append(MeterSpec(kind))
        elif kind == "constant" and arg:
            watts: list[tuple[str, float]] = []
            for item in arg.split(","):
                ch, eq, w = item.strip().partition("=")
                ch = ch.strip().lower()
                if not eq or not _CHANNEL.match(ch):
                    raise ConfigError(f"{item.strip()!r} is not CHANNEL=WATTS (e.g. cpu=100W, gpu:0=250W)")
                try:
                    w_ = parse_power_w(w.strip())
                except UnitError as e:
                    raise ConfigError(f"channel {ch}: {e}") from None
                if w_ > MAX_CONSTANT_W:
                    raise ConfigError(f"channel {ch}: {w.strip()!r} is more than {MAX_CONSTANT_W / 1e6:g} MW, which no test machine draws")
                watts.append((ch, w_))
            specs.append(MeterSpec("constant", watts=tuple(watts)))
        elif kind == "replay" and arg:
            specs.append(MeterSpec("replay", path=arg))
        else:
            raise ConfigError(f"{part!r} is not a meter; accepted: {forms}")
    return tuple(specs)


def _interval(v: Any) -> float:
    try:
        s = parse_duration_s(v)
    except UnitError as e:
        raise ConfigError(f"{e} (seconds, e.g. 0.1 or '100ms')") from None
    if not 0.01 <= s <= 60:
        raise ConfigError("must be between 0.01 and 60 seconds; 0.1 matches the GPU counters' cadence")
    return s


def _iso3(v: Any) -> str:
    if not isinstance(v, str) or not re.fullmatch(r"[A-Za-z]{3}", v.strip()):
        raise ConfigError("must be an ISO 3166 alpha-3 country code, e.g. DEU, USA, FRA")
    return v.strip().upper()


def _text(v: Any) -> str:
    if not isinstance(v, str) or not v.strip():
        raise ConfigError("must be a non-empty string")
    return v.strip()


def _cloud(v: Any) -> str:
    if not isinstance(v, str) or v.count(":") != 1 or not all(p.strip() for p in v.split(":")):
        raise ConfigError("must be PROVIDER:REGION, e.g. gcp:europe-west1")
    return v.strip()


def _number(lo: float, hi: float | None, what: str) -> Callable[[Any], float]:
    def parse(v: Any) -> float:
        try:
            x = float(v) if not isinstance(v, bool) else float("nan")
        except (TypeError, ValueError):
            x = float("nan")
        if not (x >= lo and (hi is None or x <= hi)):
            raise ConfigError(f"must be {what}")
        return x

    return parse


def _intensity(v: Any) -> float:
    if isinstance(v, str):
        v = re.sub(r"\s*g\s*/\s*kwh\s*$", "", v.strip(), flags=re.I)
    return _number(0, 5000, "grams of CO2eq per kWh, a number from 0 to 5000, e.g. 412")(v)


def _mode(v: Any) -> str:
    if isinstance(v, str) and v.strip().lower() in ("enforce", "warn", "off"):
        return v.strip().lower()
    raise ConfigError("must be enforce (budgets fail tests), warn (report only) or off")


def _inconclusive(v: Any) -> str:
    if isinstance(v, str) and v.strip().lower() in ("pass", "fail"):
        return v.strip().lower()
    raise ConfigError("must be pass (an interval straddling a per-item limit is reported only) or fail (it fails the test)")


def _scope(v: Any) -> str:
    if isinstance(v, str) and v.strip().lower() in ("auto", "process", "machine"):
        return v.strip().lower()
    raise ConfigError(
        "must be process (charge the pytest process tree), machine (charge the whole machine)"
        " or auto (process for estimated channels, machine for energy counters)"
    )


def _month(v: Any) -> int:
    from . import whatif

    if isinstance(v, str) and v.strip().lower() == "auto":
        import datetime as dt

        return dt.date.today().month
    try:
        return whatif.check_month(v)
    except whatif.WhatIfError as e:
        raise ConfigError(f"{e}, or auto for this run's month") from None


def _zones(v: Any) -> tuple[str, ...]:
    from . import whatif

    items = v.split(",") if isinstance(v, str) else v
    if not isinstance(items, (list, tuple)) or not items or not all(isinstance(i, str) and i.strip() for i in items):
        raise ConfigError('must be a list of zones, e.g. ["FRA", "POL", "US-CA"] (or FRA,POL,US-CA on the command line)')
    try:
        return tuple(whatif.check_zone(i) for i in items)
    except whatif.WhatIfError as e:
        raise ConfigError(str(e)) from None


def _marker(v: Any) -> str:
    if isinstance(v, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", v.strip()):
        return v.strip()
    raise ConfigError("must be a marker name (letters, digits and _, not starting with a digit), e.g. carbon_budget")


def _top(v: Any) -> int:
    try:
        return parse_count(v, "a whole number of tests")
    except UnitError as e:
        raise ConfigError(f"{e} (0 hides the table)") from None


def _history(v: Any) -> str:
    from .history.store import is_url

    if isinstance(v, str) and v.strip().lower().startswith(("postgres:", "postgresql:")) and not is_url(v.strip()):
        raise ConfigError("a PostgreSQL store is a URL: postgresql://USER@HOST/DATABASE")
    return _path(v)


def _threshold(v: Any) -> Any:
    from .history.stats import ThresholdError, parse_threshold

    try:
        return parse_threshold(v)
    except ThresholdError as e:
        raise ConfigError(str(e)) from None


def _history_last(v: Any) -> int:
    try:
        n = parse_count(v, "a whole number of runs")
    except UnitError as e:
        raise ConfigError(str(e)) from None
    if n < 1:
        raise ConfigError("must be 1 or more runs")
    return n


_PARSERS: dict[str, Callable[[Any], Any]] = {
    "measure_all": _bool,
    "json": _path,
    "meter": parse_meter_spec,
    "interval": _interval,
    "scope": _scope,
    "country": _iso3,
    "region": _text,
    "cloud": _cloud,
    "intensity": _intensity,
    "pue": _number(1.0, 10.0, "a number from 1.0 to 10.0 (1.0 = no overhead)"),
    "top": _top,
    "record": _path,
    "budget_mode": _mode,
    "require_measured": _bool,
    "inconclusive": _inconclusive,
    "baseline": _path,
    "max_regression": parse_percent,
    "min_delta": parse_energy_j,
    "github_comment": _path,
    "month": _month,
    "whatif": _zones,
    "html": _path,
    "marker": _marker,
    "history": _history,
    "threshold": _threshold,
    "history_last": _history_last,
    "history_branch": _text,
}
# key -> (command-line flag, parser)
KEYS: dict[str, tuple[str, Callable[[Any], Any]]] = {key: (FLAGS[key], _PARSERS[key]) for key in FLAGS}
TABLES = {"budgets"}  # sub-tables, pyproject only
PATH_KEYS = {"json", "html", "baseline", "record", "github_comment", "history"}  # from pyproject: relative to the file


def _not_a_path(key: str, value: str) -> bool:
    """``baseline = "history"`` and a PostgreSQL URL are not files."""
    from .history.store import is_url

    return (key == "baseline" and value == "history") or (key == "history" and is_url(value))
_FIELD = {"json": "json_path", "meter": "meters", "interval": "interval_s"}  # key -> Settings field


def read_pyproject(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML ({e}); fix the file or remove [{TABLE}]") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot be read ({e})") from None
    tool = doc.get("tool", {})
    for name in tool if isinstance(tool, dict) else ():
        squashed = name.lower().replace("_", "-").replace(".", "-")
        if name != "pytest-carbon" and (
            squashed in ("pytest-carbon", "carbon", "pytestcarbon", "pytest-carbon-budgets")
            or difflib.get_close_matches(squashed, ["pytest-carbon"], n=1, cutoff=0.85)
        ):
            raise ConfigError(
                f"{path}: [tool.{name}] is not read by pytest-carbon; did you mean [{TABLE}]"
                f" (and [{TABLE}.budgets] for budgets)?"
            )
    table = tool.get("pytest-carbon", {}) if isinstance(tool, dict) else {}
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [{TABLE}] must be a table")
    return table


def load(pyproject: Path | None, cli: dict[str, Any]) -> Settings:
    """Merge pyproject values and command-line values (the command line wins)."""
    table = read_pyproject(pyproject) if pyproject is not None and pyproject.is_file() else {}
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for key, raw in table.items():
        if key == "budgets":
            try:
                values["budgets"] = parse_table(raw, pyproject.name if pyproject else "pyproject.toml")
            except BudgetError as e:
                raise ConfigError(str(e)) from None
            origins[key] = f"{pyproject.name if pyproject else 'pyproject.toml'} [{TABLE}.budgets]"
            continue
        if key not in KEYS:
            near = difflib.get_close_matches(key, [*KEYS, *TABLES], n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise ConfigError(
                f"{pyproject}: [{TABLE}] has unknown key {key!r}{hint}; known keys:"
                f" {', '.join([*KEYS, *sorted(TABLES)])}"
            )
        try:
            values[key] = KEYS[key][1](raw)
        except (ConfigError, UnitError) as e:
            raise ConfigError(f"{pyproject}: [{TABLE}] {key} = {raw!r}: {e}") from None
        if key in PATH_KEYS and pyproject is not None and not _not_a_path(key, values[key]):
            # pytest's rule for ini paths: relative to the file that declares them.
            values[key] = str(pyproject.parent / values[key])
        origins[key] = f"{pyproject.name if pyproject else 'pyproject.toml'} [{TABLE}] {key}"
    for key, raw in cli.items():
        if raw is None or key not in KEYS:
            continue
        opt = KEYS[key][0]
        try:
            values[key] = KEYS[key][1](raw)
        except (ConfigError, UnitError) as e:
            raise ConfigError(f"{opt} {raw}: {e}") from None
        origins[key] = opt
    kwargs = {_FIELD.get(k, k): v for k, v in values.items()}
    settings = Settings(**kwargs, source=str(pyproject) if table else "", origins=origins)
    if settings.baseline == "history" and not settings.history:
        raise ConfigError(
            f"{origins['baseline']} history: judging against the history needs the store:"
            " --carbon-history PATH (or history = \"PATH\" under [tool.pytest-carbon])"
        )
    # Resolve the place now, so an unknown one stops the run before any test.
    try:
        place = intensity_mod.resolve(
            intensity=settings.intensity, cloud=settings.cloud, country=settings.country, region=settings.region,
            month=settings.month,
        )  # fmt: skip
    except intensity_mod.IntensityError as e:
        keys = [k for k in ("cloud", "region", "country", "month") if k in origins]
        where = ", ".join(origins[k] for k in keys) or "location"
        raise ConfigError(f"{where}: {e}") from None
    return settings._replace(place=place)
