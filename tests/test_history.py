"""The history store, its statistics, the gate against it, and the history command.

Store tests run on SQLite, and on PostgreSQL when ``CARBON_TEST_POSTGRES`` names a server
(``.ci/run`` starts one: ``.ci/postgres.sh``); without it those cases are skipped, saying so.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from pytest_carbon.history.store import VERSION, StoreError, open_store
from pytest_carbon.history.store import testbed_key as bed_key

PG = os.environ.get("CARBON_TEST_POSTGRES")


# -- the store ----------------------------------------------------------------------------------
def _report(energies: dict[str, float | None], sha: str = "a" * 40, branch: str | None = "main", cpu: str = "Test CPU", **run: object) -> dict:
    tests = [
        {"nodeid": n, "outcome": "passed", "duration_s": 1.0, "energy_j": {"cpu": e, "total": e}, "co2_g": None if e is None else e / 9000,
         "phases": [{"name": "train", "items": 4, "duration_s": 0.5, "energy_j": {"total": e}, "co2_g": None, "per_item": {"n": 4}}]}
        for n, e in energies.items()
    ]  # fmt: skip
    return {
        "schema": "pytest-carbon/1",
        "run": {"id": uuid.uuid4().hex, "started": run.pop("started", "2026-11-29T10:00:00+00:00"), "interrupted": False, "host": "h",
                "git_sha": sha, "git_branch": branch, "hardware": {"cpu": cpu, "cpu_threads": 2, "gpus": []},
                "meters": [{"channel": "cpu", "method": "constant", "estimated": True}], "intensity": {"g_per_kwh": 400.0, "source": "test"},
                "pue": 1.0, "plugin": "0", **run},
        "tests": tests,
        "totals": {"energy_j": {"total": sum(e or 0 for e in energies.values())}, "co2_g": 0.0},
    }  # fmt: skip


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request, tmp_path):
    if request.param == "sqlite":
        return str(tmp_path / "h.db")
    return _pg_schema()


@pytest.fixture
def pg_target():
    return _pg_schema()


def _pg_schema() -> str:
    if not PG:
        pytest.skip("CARBON_TEST_POSTGRES is not set (.ci/postgres.sh starts a PostgreSQL server and prints its URL)")
    # a schema of its own per test, so that tests do not see each other's runs
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG, autocommit=True) as c:
        c.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in PG else "?"
    return f"{PG}{sep}options=-csearch_path%3D{schema}"


def test_runs_go_in_and_come_out_in_order_and_a_report_imported_twice_is_stored_once(target):
    with open_store(target) as s:
        assert s.version() == VERSION
        r1 = _report({"t::a": 1.0, "t::b": 2.0}, sha="1" * 40, started="2026-11-29T10:00:00+00:00")
        r2 = _report({"t::a": 1.5, "t::b": None}, sha="2" * 40, started="2026-11-29T11:00:00+00:00")
        assert s.add_run(r1) and s.add_run(r2) and not s.add_run(r1)
        runs = s.runs()
        assert [r.git_sha[0] for r in runs] == ["1", "2"] and runs[0].branch == "main" and runs[0].testbed == bed_key(r1["run"])
        series = s.series(runs)
        assert [p.energy_j for p in series["t::a"]] == [1.0, 1.5]
        assert [p.energy_j for p in series["t::b"]] == [2.0, None]  # unknown stays unknown, never 0
        assert s.phases(runs[0].id, "t::a") == [("train", 4, 1.0)]
        assert s.runs(branch="other") == [] and len(s.runs(testbed=bed_key(r1["run"]))) == 2


def test_a_store_from_a_newer_plugin_is_refused_and_an_empty_file_is_set_up(tmp_path):
    import sqlite3

    path = tmp_path / "new.db"
    c = sqlite3.connect(path)
    c.execute("CREATE TABLE carbon_schema (version INTEGER NOT NULL)")
    c.execute("INSERT INTO carbon_schema VALUES (?)", (VERSION + 1,))
    c.commit()
    c.close()
    with pytest.raises(StoreError, match="newer pytest-carbon"):
        open_store(str(path))
    with pytest.raises(StoreError, match="newer pytest-carbon"):
        open_store(str(path), create=False)
    empty = tmp_path / "empty.db"
    empty.touch()
    with pytest.raises(StoreError, match="not a pytest-carbon history"):
        open_store(str(empty), create=False)
    with open_store(str(empty)) as s:  # migrated from nothing to the current version
        assert s.version() == VERSION
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="junk.db"):
        open_store(str(junk))


def test_migrations_run_once_in_order_from_the_version_found(tmp_path, monkeypatch):
    from pytest_carbon.history import store as store_mod

    path = str(tmp_path / "m.db")
    with open_store(path) as s:
        s.add_run(_report({"t::a": 1.0}))
    # a second version that adds a column: applied to the old store, its run kept
    v2 = [*store_mod.MIGRATIONS, ["ALTER TABLE carbon_runs ADD COLUMN note TEXT"]]
    monkeypatch.setattr(store_mod, "MIGRATIONS", v2)
    monkeypatch.setattr(store_mod, "VERSION", 2)
    with open_store(path) as s:
        assert s.version() == 2 and len(s.runs()) == 1
        assert s.conn.execute("SELECT note FROM carbon_runs").fetchall() == [(None,)]
    with open_store(path) as s:  # nothing applied twice (ALTER TABLE would fail)
        assert s.version() == 2


WRITER = textwrap.dedent(
    """
    import sys, uuid, json
    from pytest_carbon.history.store import open_store
    target, n, tag = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with open_store(target) as s:
        for i in range(n):
            tests = [{"nodeid": f"t::{k}", "outcome": "passed", "energy_j": {"total": float(k)}, "phases": []} for k in range(200)]
            s.add_run({"run": {"id": uuid.uuid4().hex, "started": f"2026-11-29T10:00:{i:02d}", "git_branch": tag,
                               "hardware": {"cpu": "c"}, "meters": []}, "tests": tests, "totals": {}})
    print("done")
    """
)


def test_concurrent_writers_lose_no_run_and_corrupt_nothing(target):
    with open_store(target):
        pass  # set up once; the writers then race on the runs, not on creating the tables
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, target, "5", f"w{k}"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for k in range(4)]
    outs = [p.communicate(timeout=120)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs) and all(o.strip() == "done" for o in outs), outs
    with open_store(target, create=False) as s:
        runs = s.runs()
        assert len(runs) == 20 and {r.branch for r in runs} == {"w0", "w1", "w2", "w3"}
        series = s.series(runs)
        assert len(series) == 200 and all(len(points) == 20 for points in series.values())


def test_concurrent_first_writers_set_up_the_schema_once(target):
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, target, "2", f"w{k}"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for k in range(3)]
    outs = [p.communicate(timeout=120)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    with open_store(target, create=False) as s:
        assert s.version() == VERSION and len(s.runs()) == 6


KILLED = textwrap.dedent(
    """
    import sys, uuid
    from pytest_carbon.history.store import open_store
    target = sys.argv[1]
    def run(n, i):
        tests = [{"nodeid": f"t::{k}", "outcome": "passed", "energy_j": {"total": 1.0},
                  "phases": [{"name": f"p{j}", "energy_j": {"total": 0.1}} for j in range(5)]} for k in range(n)]
        return {"run": {"id": uuid.uuid4().hex, "started": f"2026-11-29T10:00:0{i}", "hardware": {"cpu": "c"}, "meters": []},
                "tests": tests, "totals": {}}
    with open_store(target) as s:
        for i in range(3):
            s.add_run(run(10, i))
        big = run(400_000, 5)
        print("writing", flush=True)
        s.add_run(big)
    print("finished", flush=True)
    """
)


def test_a_run_killed_while_writing_leaves_the_store_readable_with_every_completed_run(target):
    p = subprocess.Popen([sys.executable, "-c", KILLED, target], stdout=subprocess.PIPE, text=True)
    assert p.stdout is not None
    assert p.stdout.readline().strip() == "writing"
    time.sleep(1.0)  # well inside the 2.4 million rows of the last run
    p.send_signal(signal.SIGKILL)
    rest = p.communicate(timeout=30)[0]
    assert p.returncode == -signal.SIGKILL and "finished" not in rest, "the write ended before the kill: make it larger"
    with open_store(target, create=False) as s:
        runs = s.runs()
        assert len(runs) == 3  # the three completed runs, and nothing of the fourth
        assert all(len(points) == 3 for points in s.series(runs).values()) and len(s.series(runs)) == 10
        if s.dialect == "sqlite":
            assert s.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with open_store(target) as s:  # and writable again
        assert s.add_run(_report({"t::0": 1.0}))


def test_store_errors_name_the_store_and_the_cause(tmp_path, monkeypatch):
    with pytest.raises(StoreError, match="does not exist"):
        open_store(str(tmp_path / "no" / "such" / "h.db"))
    with pytest.raises(StoreError, match="no such history file"):
        open_store(str(tmp_path / "absent.db"), create=False)
    with pytest.raises(StoreError, match=r"cannot connect .*\*\*\*@|cannot connect"):
        open_store("postgresql://user:secret@127.0.0.1:1/x")
    try:
        open_store("postgresql://user:secret@127.0.0.1:1/x")
    except StoreError as e:
        assert "secret" not in str(e)
    monkeypatch.setitem(sys.modules, "psycopg", None)  # the driver not installed
    with pytest.raises(StoreError, match=r"pip install 'pytest-carbon\[postgres\]'"):
        open_store("postgresql://u@127.0.0.1/x")


# -- under pytest: five commits, then a sixth run judged against them ---------------------------
SUITE = """
import os, time
def test_steady():
    time.sleep(0.3)
def test_worker():
    time.sleep(float(os.environ.get("WORK_S", "0.3")))
"""


def _git(path: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=path, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"})  # fmt: skip


@pytest.fixture
def five_commits(pytester, monkeypatch):
    """A git repository of a two-test suite with five runs of main in its history store."""
    for var in ("GITHUB_HEAD_REF", "GITHUB_REF_NAME", "GITHUB_BASE_REF", "GITHUB_STEP_SUMMARY"):
        monkeypatch.delenv(var, raising=False)
    pytester.makepyfile(test_suite=SUITE)
    _git(pytester.path, "init", "-q", "-b", "main")
    # A constant meter: a test's energy is 100 W x its time, 30 J for 0.3 s of sleep.
    args = ["-p", "no:randomly", "-p", "no:cacheprovider", "--carbon", "--carbon-meter", "constant:cpu=100W", "--carbon-history", "h.db"]
    for i in range(5):
        (pytester.path / "notes.txt").write_text(f"commit {i}\n")
        _git(pytester.path, "add", "-A")
        _git(pytester.path, "commit", "-q", "-m", f"commit {i}")
        result = pytester.runpytest_subprocess(*args)
        assert result.ret == 0
        result.stdout.fnmatch_lines(["carbon history: this run appended to h.db"])
    return args


def test_five_runs_fill_the_store_and_history_shows_five_points_per_test_in_commit_order(pytester, five_commits):
    with open_store(str(pytester.path / "h.db"), create=False) as s:
        runs = s.runs()
        assert len(runs) == 5 and {r.branch for r in runs} == {"main"}
        shas = subprocess.run(["git", "log", "--reverse", "--format=%H"], cwd=pytester.path, capture_output=True, text=True).stdout.split()
        assert [r.git_sha for r in runs] == shas  # in commit order
    out = subprocess.run([sys.executable, "-m", "pytest_carbon.cli", "history", "h.db", "--json"], cwd=pytester.path, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert {t["nodeid"] for t in doc["tests"]} == {"test_suite.py::test_steady", "test_suite.py::test_worker"}
    for t in doc["tests"]:
        assert len(t["energy_j"]) == 5 and t["shas"] == shas and all(25 < e < 45 for e in t["energy_j"])  # ~30 J each
        assert len(t["sparkline"]) == 5
    table = subprocess.run([sys.executable, "-m", "pytest_carbon.cli", "history", "h.db", "--since", shas[2][:8]], cwd=pytester.path, capture_output=True, text=True)
    assert table.returncode == 0 and "test_suite.py::test_worker" in table.stdout and f"since {shas[2][:8]}" in table.stdout
    one = subprocess.run([sys.executable, "-m", "pytest_carbon.cli", "history", "h.db", "--test", "test_suite.py::test_worker"], cwd=pytester.path, capture_output=True, text=True)
    assert one.returncode == 0 and sum(line.count(" passed ") for line in one.stdout.splitlines()) == 5


@pytest.mark.parametrize("threshold", ["percent:10", "zscore:3", "iqr:1.5"])
def test_a_sixth_run_that_doubles_a_tests_work_fails_against_the_history_and_an_unchanged_one_passes(pytester, five_commits, threshold, monkeypatch):
    gate = [*five_commits, "--carbon-baseline", "history", "--carbon-threshold", threshold, "--carbon-min-delta", "10J", "--carbon-json", "r.json"]
    same = pytester.runpytest_subprocess(*gate)
    assert same.ret == 0, same.stdout.str()[-3000:]
    same.stdout.fnmatch_lines([f"Baseline: history: the last 10 runs of main on this testbed, {threshold}"])
    assert json.loads((pytester.path / "r.json").read_text())["comparison"]["regressions"] == []
    monkeypatch.setenv("WORK_S", "0.6")  # twice the work: 60 J instead of 30 J
    doubled = pytester.runpytest_subprocess(*gate)
    assert doubled.ret == 1, doubled.stdout.str()[-3000:]
    doubled.stdout.fnmatch_lines([f"REGRESSION test_suite.py::test_worker: energy * against * earlier runs (mean *); decided by {threshold}: *"])
    (reg,) = json.loads((pytester.path / "r.json").read_text())["comparison"]["regressions"]
    assert reg["nodeid"] == "test_suite.py::test_worker" and reg["decided_by"].startswith(threshold)
    assert reg["history"]["n"] >= 5 and 25 < reg["history"]["mean_j"] < 45 and reg["head_j"] > 50


def test_with_fewer_than_three_earlier_runs_the_single_baseline_rule_decides_and_says_so(pytester, monkeypatch):
    for var in ("GITHUB_HEAD_REF", "GITHUB_REF_NAME", "GITHUB_BASE_REF"):
        monkeypatch.delenv(var, raising=False)
    pytester.makepyfile(test_suite=SUITE)
    args = ["-p", "no:randomly", "--carbon", "--carbon-meter", "constant:cpu=100W", "--carbon-history", "h.db", "--carbon-baseline", "history", "--carbon-min-delta", "10J"]
    first = pytester.runpytest_subprocess(*args)
    assert first.ret == 0
    first.stdout.fnmatch_lines(["*the history has no earlier run of no branch (outside git) on this testbed*"])
    monkeypatch.setenv("WORK_S", "0.6")
    second = pytester.runpytest_subprocess(*args, "--carbon-json", "r.json")
    assert second.ret == 1
    second.stdout.fnmatch_lines(["*2 test(s) had fewer than 3 earlier runs*single-baseline rule*"])
    (reg,) = json.loads((pytester.path / "r.json").read_text())["comparison"]["regressions"]
    assert reg["decided_by"].startswith("1 earlier run(s), fewer than 3: the single-baseline rule")


def test_a_store_that_cannot_be_written_loses_nothing_else(pytester):
    pytester.makepyfile(test_one="def test_one():\n    pass\n")
    result = pytester.runpytest_subprocess("--carbon", "--carbon-history", "no/such/folder/h.db", "--carbon-json", "r.json")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["ERROR: carbon history: no/such/folder/h.db: the folder no/such/folder does not exist; this run is not in the history*", "*1 passed*"])
    assert json.loads((pytester.path / "r.json").read_text())["tests"][0]["nodeid"] == "test_one.py::test_one"
    refused = pytester.runpytest_subprocess("--carbon", "--carbon-history", "postgresql://u:pw@127.0.0.1:1/x", "--carbon-json", "r2.json")
    assert refused.ret == 0 and "pw@" not in refused.stdout.str()
    refused.stdout.fnmatch_lines(["ERROR: carbon history: postgresql://u:***@127.0.0.1:1/x: cannot connect*"])
    assert (pytester.path / "r2.json").is_file()


def test_history_options_are_checked_before_any_test(pytester):
    pytester.makepyfile(test_one="def test_one():\n    pass\n")
    for args, message in (
        (("--carbon-baseline", "history"), "*--carbon-baseline history: judging against the history needs the store: --carbon-history PATH*"),
        (("--carbon-history", "h.db", "--carbon-threshold", "z:3"), "*--carbon-threshold z:3: 'z:3' is not a threshold: percent:10, zscore:3 or iqr:1.5*"),
        (("--carbon-history", "h.db", "--carbon-history-last", "0"), "*--carbon-history-last 0: *"),
        (("--carbon-history", "postgres:/x"), "*a PostgreSQL store is a URL: postgresql://USER@HOST/DATABASE*"),
    ):
        result = pytester.runpytest_subprocess("--carbon", *args)
        assert result.ret == pytest.ExitCode.USAGE_ERROR, args
        result.stderr.fnmatch_lines([message])


def test_history_in_pyproject_resolves_next_to_the_file_and_baseline_history_is_not_a_path(pytester):
    sub = pytester.mkdir("sub")
    (sub / "pyproject.toml").write_text('[tool.pytest-carbon]\nmeasure_all = true\nhistory = "store/h.db"\nbaseline = "history"\nmeter = "constant:cpu=10W"\n')
    (sub / "store").mkdir()
    (sub / "test_one.py").write_text("def test_one():\n    pass\n")
    result = pytester.runpytest_subprocess(str(sub), "-c", str(sub / "pyproject.toml"))
    assert result.ret == 0, result.stdout.str()
    assert (sub / "store" / "h.db").is_file()


def test_the_history_command_reports_bad_input_without_a_traceback(pytester, tmp_path):
    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pytest_carbon.cli", "history", *args], cwd=tmp_path, capture_output=True, text=True)

    for args, message in (
        ((), "name the store"),
        (("absent.db",), "absent.db: no such history file"),
        (("import", "--store", "h.db"), "name the reports to import"),
        (("import", "--store", "h.db", "missing.json"), "missing.json"),
        (("a.db", "b.db"), "one store, not 2"),
    ):
        out = cli(*args)
        assert out.returncode == 4 and message in out.stderr and "Traceback" not in out.stderr, (args, out.stderr)
    (tmp_path / "r.json").write_text(json.dumps(_report({"t::a": 1.0})))
    ok = cli("import", "--store", "h.db", "r.json", "r.json")
    assert ok.returncode == 0 and "imported 1 run(s) into h.db; 1 already there" in ok.stdout
    assert cli("h.db", "--test", "t::nope").returncode == 4
    assert cli("h.db", "--testbed", "GPU-that-is-not-here").returncode == 4


def test_the_report_html_and_comment_show_each_tests_trend_with_this_run_last(pytester, five_commits, monkeypatch):
    monkeypatch.setenv("WORK_S", "0.6")
    gate = [*five_commits, "--carbon-baseline", "history", "--carbon-min-delta", "10J", "--carbon-json", "r.json",
            "--carbon-html", "r.html", "--carbon-github-comment", "c.md"]  # fmt: skip
    assert pytester.runpytest_subprocess(*gate).ret == 1
    report = json.loads((pytester.path / "r.json").read_text())
    h = report["history"]
    shas = subprocess.run(["git", "log", "--reverse", "--format=%H"], cwd=pytester.path, capture_output=True, text=True).stdout.split()
    assert h["branch"] == "main" and h["head"] == 5 and h["shas"] == [*shas, shas[-1]]  # five runs, then this one
    worker = h["tests_j"]["test_suite.py::test_worker"]
    assert len(worker) == 6 and all(25 < v < 45 for v in worker[:5]) and worker[5] > 50
    page = (pytester.path / "r.html").read_text()
    assert "Trends: the last 5 runs of main on this testbed, then this run" in page
    chart = page[page.index("test_suite.py::test_worker</code></h3>") :]
    chart = chart[: chart.index("</svg>")]
    assert chart.count("<circle") == 6 and chart.count('fill="#b8504a"') == 1 and "(this run)</title>" in chart
    comment = (pytester.path / "c.md").read_text()
    row = next(line for line in comment.splitlines() if "test\\_worker" in line and "🔺" in line)
    assert row.count("`") == 2 and row.split("`")[1][-1] == "█" and len(row.split("`")[1]) == 6  # the spike is this run


def test_a_trend_chart_never_draws_an_unknown_energy_as_zero():
    from pytest_carbon.report.html import trend_chart

    svg = trend_chart([1.0, None, 3.0], ["a" * 40, "b" * 40, "c" * 40], head=2)
    assert svg.count("<circle") == 2 and "unknown energy" in svg and "<polyline" not in svg  # no line across the gap
    assert trend_chart([None, None], [None, None], head=1).startswith('<p class="muted">no known energy')


def test_a_postgresql_server_that_goes_away_mid_write_gives_a_clear_error_and_keeps_earlier_runs(pg_target):
    import threading

    import psycopg

    target = pg_target
    victim = f"{target}&application_name=carbon-victim"
    with open_store(target) as s:
        s.add_run(_report({"t::a": 1.0}))
    big = _report({f"t::{k}": 1.0 for k in range(150_000)})
    errors: list[BaseException] = []
    store = open_store(victim)

    def write() -> None:
        try:
            store.add_run(big)
        except BaseException as e:  # noqa: BLE001 - handed to the test's thread
            errors.append(e)

    th = threading.Thread(target=write)
    th.start()
    time.sleep(1.0)
    with psycopg.connect(PG, autocommit=True) as admin:
        killed = admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'carbon-victim'").fetchall()
    th.join(timeout=120)
    store.close()
    assert killed and killed[0][0] is True
    assert len(errors) == 1 and isinstance(errors[0], StoreError), errors
    assert "the run could not be written" in str(errors[0]) and "the store is as it was" in str(errors[0])
    with open_store(target, create=False) as s:
        assert len(s.runs()) == 1  # the earlier run, and nothing of the interrupted one


def test_a_path_option_that_pytest_takes_for_a_test_path_is_named_with_the_fix(pytester, tmp_path_factory):
    # pytest picks the rootdir before plugins load: an existing file given as "--opt VALUE"
    # outside the suite counts as a test path, and the suite's config file is then skipped.
    suite = pytester.mkdir("suite")
    (suite / "pyproject.toml").write_text("[tool.pytest.ini_options]\nmarkers = ['mine']\n")
    (suite / "test_one.py").write_text("import pytest\n@pytest.mark.mine\ndef test_one():\n    pass\n")
    store = tmp_path_factory.mktemp("elsewhere") / "h.db"
    store.touch()
    os.chdir(suite)
    spaced = pytester.runpytest_subprocess("--carbon", "--carbon-history", str(store), "-p", "no:randomly")
    spaced.stdout.fnmatch_lines([f"*pytest-carbon: pytest took the value of --carbon-history {store} for a test path*write --carbon-history={store}"])
    joined = pytester.runpytest_subprocess("--carbon", f"--carbon-history={store}", "-p", "no:randomly", "--strict-markers", "--carbon-json", "r.json")
    assert joined.ret == 0 and "pytest took the value" not in joined.stdout.str()
    assert json.loads((suite / "r.json").read_text())["tests"][0]["nodeid"] == "test_one.py::test_one"  # the suite's own rootdir


def test_misread_paths_only_when_the_rootdir_moved_past_a_config_file(tmp_path):
    from pytest_carbon.plugin import misread_paths

    suite = tmp_path / "a" / "suite"
    suite.mkdir(parents=True)
    (tmp_path / "h.db").touch()
    (suite / "in.db").touch()
    args = ["--carbon-history", str(tmp_path / "h.db")]
    assert misread_paths(args, suite, tmp_path) == []  # no config file was skipped
    (suite / "pyproject.toml").write_text("")
    assert len(misread_paths(args, suite, tmp_path)) == 1
    assert misread_paths([f"--carbon-history={tmp_path / 'h.db'}"], suite, tmp_path) == []  # one word: not a test path
    assert misread_paths(["--carbon-history", "in.db"], suite, suite) == []  # inside: the rootdir does not move
    assert misread_paths(["--carbon-history", str(tmp_path / "absent.db")], suite, tmp_path) == []  # not there yet


def test_the_gate_judges_against_the_last_n_runs_of_the_branch_on_the_testbed(tmp_path):
    from pytest_carbon.history.gate import against_history
    from pytest_carbon.history.stats import Threshold

    with open_store(str(tmp_path / "h.db")) as s:
        for i in range(60):  # old runs at 500 J, the last ten at 100-109 J
            s.add_run(_report({"t::a": 500.0 if i < 50 else 100.0 + (i - 50)}, sha=f"{i:040d}", started=f"2026-11-{1 + i // 24:02d}T{i % 24:02d}:00:00+00:00"))
        s.add_run(_report({"t::a": 1.0}, branch="feature", started="2026-11-30T00:00:00+00:00"))  # another branch: not the baseline
        s.add_run(_report({"t::a": 1.0}, cpu="Other CPU", started="2026-11-30T00:00:00+00:00"))  # another testbed
        head = _report({"t::a": 130.0}, started="2026-11-30T01:00:00+00:00")
        c = against_history(s, head, "main", Threshold("percent", 10), last=10, min_delta_j=5.0)
    (reg,) = c.regressions
    assert reg.history["n"] == 10 and reg.history["values_j"] == [100.0 + k for k in range(10)]
    assert reg.base_j == pytest.approx(104.5) and reg.decided_by == "percent:10: +24.4% vs the mean (limit +10%)"
    assert reg.history["shas"] == [f"{i:040d}" for i in range(50, 60)]
    assert c.method == "history: the last 10 runs of main on this testbed, percent:10"


def test_a_hook_that_reshapes_the_report_costs_the_history_not_the_run(pytester):
    pytester.makeconftest("def pytest_carbon_update_json(config, report):\n    for t in report['tests']:\n        del t['nodeid']\n")
    pytester.makepyfile(test_one="def test_one():\n    pass\n")
    result = pytester.runpytest_subprocess("--carbon", "--carbon-history", "h.db", "--carbon-baseline", "history", "--carbon-json", "r.json")
    assert result.ret == 0, result.stdout.str()[-2000:]
    result.stdout.fnmatch_lines(["ERROR: carbon history: the report lacks a field*this run is not in the history", "*1 passed*"])
    assert (pytester.path / "r.json").is_file()
