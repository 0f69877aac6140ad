"""The plugin's options: command-line flags, help and metavars, and nothing else.

Kept apart from :mod:`config` (which parses the values) so that loading the plugin into a
pytest run that does not use it imports almost nothing.
"""

from __future__ import annotations

# key of [tool.pytest-carbon] -> its command-line flag
FLAGS = {
    "measure_all": "--carbon",
    "json": "--carbon-json",
    "meter": "--carbon-meter",
    "interval": "--carbon-interval",
    "scope": "--carbon-scope",
    "country": "--carbon-country",
    "region": "--carbon-region",
    "cloud": "--carbon-cloud",
    "intensity": "--carbon-intensity",
    "pue": "--carbon-pue",
    "top": "--carbon-top",
    "record": "--carbon-record",
    "budget_mode": "--carbon-budgets",
    "require_measured": "--carbon-require-measured",
    "inconclusive": "--carbon-inconclusive",
    "baseline": "--carbon-baseline",
    "max_regression": "--carbon-max-regression",
    "min_delta": "--carbon-min-delta",
    "github_comment": "--carbon-github-comment",
    "month": "--carbon-month",
    "whatif": "--carbon-whatif",
    "html": "--carbon-html",
    "marker": "--carbon-marker",
    "history": "--carbon-history",
    "threshold": "--carbon-threshold",
    "history_last": "--carbon-history-last",
    "history_branch": "--carbon-history-branch",
}
SWITCHES = {"measure_all", "require_measured"}  # flags without a value

HELP = {
    "measure_all": "measure every test (without it, only tests marked carbon or using the carbon fixture)",
    "json": "write the JSON report (schema pytest-carbon/1) to PATH",
    "meter": "meters: auto (default), nvml, rapl, estimate, constant:CHANNEL=WATTS[,...], replay:PATH; join with +",
    "interval": "seconds between meter readings (default 0.1)",
    "scope": "what a test is charged: process (the pytest process tree: its CPU time, memory and GPU share), machine (the whole machine) or auto"
    " (default: process for estimated channels, machine for energy counters)",
    "country": "ISO 3166 alpha-3 country of the machine, for grid intensity (e.g. DEU)",
    "region": "sub-national region: US state (CA), Canadian province (QC), Chinese province (CN-BJ), Nordic zone (SE3)",
    "cloud": "cloud PROVIDER:REGION from codecarbon's table, e.g. gcp:europe-west1",
    "intensity": "grid intensity in g CO2eq/kWh, overriding the location tables",
    "pue": "data-centre power usage effectiveness, multiplies energy (default 1.0)",
    "top": "tests shown in the summary table (default 10; 0 hides it)",
    "record": "write the meters' timeline to PATH, replayable with --carbon-meter replay:PATH",
    "budget_mode": "enforce (default: over-budget tests fail), warn (report only) or off",
    "require_measured": "fail budgets judged on estimates (no energy counter) or unknown energy",
    "inconclusive": "pass (default: reported only) or fail: a per-item budget whose 95%% interval straddles the limit",
    "baseline": "compare with this earlier report (e.g. main's), or with the history (history, with --carbon-history); regressions fail the run",
    "max_regression": "relative energy growth that counts as a regression (default 10%%)",
    "min_delta": "absolute energy growth below which nothing regresses (default 50 J)",
    "github_comment": "write a PR comment body (markdown, with a hidden marker) to PATH",
    "month": "apply month 1-12 (or auto: this run's) of the place's seasonal profile (Ember data)",
    "whatif": "zones for the what-if, e.g. FRA,POL,US-CA (default: every country in the data)",
    "html": "write a self-contained HTML report (charts, no network) to PATH",
    "marker": "the name of pytest-carbon's marker (default carbon), for suites with a carbon marker of their own",
    "history": "append this run to a history store: a SQLite file, or a postgresql:// URL (pytest-carbon[postgres])",
    "threshold": "with --carbon-baseline history: percent:10 (default), zscore:3 or iqr:1.5 over each test's history",
    "history_last": "with --carbon-baseline history: the runs of each test to judge against (default 10)",
    "history_branch": "with --carbon-baseline history: the branch whose runs are the baseline (default: the repository's default branch)",
}
METAVAR = {
    "json": "PATH", "meter": "SPEC", "interval": "SECONDS", "scope": "process|machine|auto", "country": "ISO3", "region": "CODE",
    "cloud": "PROVIDER:REGION", "intensity": "G_PER_KWH", "pue": "X", "top": "N", "record": "PATH",
    "budget_mode": "enforce|warn|off", "inconclusive": "pass|fail",
    "baseline": "PATH", "max_regression": "PERCENT", "min_delta": "ENERGY", "github_comment": "PATH",
    "month": "1-12|auto", "whatif": "ZONES", "html": "PATH", "marker": "NAME",
    "history": "PATH|URL", "threshold": "KIND:VALUE", "history_last": "N", "history_branch": "BRANCH",
}  # fmt: skip
