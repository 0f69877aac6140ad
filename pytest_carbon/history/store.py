"""The history store: every run's tests and phases, in SQLite or PostgreSQL.

``open_store(target)``: a file path is a SQLite database (the standard library's ``sqlite3``,
in WAL mode, so that readers never block a writer and concurrent writers wait their turn); a
``postgresql://`` URL is a PostgreSQL database through psycopg (``pytest-carbon[postgres]``),
for runners that share one store. Both hold the same schema.

The schema is versioned (table ``carbon_schema``): :data:`MIGRATIONS` lists the statements
that take a store from each version to the next, applied in order, each version in its own
transaction, under a lock, so that two first writers do not both create the tables. A store
written by a newer plugin (a version above the last one known here) is refused, not guessed.

Each run is one transaction: a run killed half-way through writing leaves the store as it was
before it, and a report imported twice (same ``run.id``) is written once.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

# Each entry takes the store from version i to i + 1. Placeholders: {id} the run's key,
# {float} a double. Never edit a released entry: add the next one.
MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE carbon_runs (
            id {id},
            run_uid TEXT NOT NULL UNIQUE,
            started TEXT NOT NULL,
            git_sha TEXT,
            branch TEXT,
            host TEXT,
            testbed TEXT NOT NULL,
            hardware TEXT,
            meters TEXT,
            estimated INTEGER NOT NULL,
            intensity_g_per_kwh {float},
            intensity_source TEXT,
            pue {float},
            interrupted INTEGER NOT NULL,
            plugin TEXT,
            energy_j {float},
            co2_g {float}
        )""",
        """CREATE TABLE carbon_tests (
            run_id BIGINT NOT NULL REFERENCES carbon_runs(id) ON DELETE CASCADE,
            nodeid TEXT NOT NULL,
            outcome TEXT,
            duration_s {float},
            energy_j {float},
            co2_g {float},
            channels TEXT,
            PRIMARY KEY (run_id, nodeid)
        )""",
        """CREATE TABLE carbon_phases (
            run_id BIGINT NOT NULL REFERENCES carbon_runs(id) ON DELETE CASCADE,
            nodeid TEXT NOT NULL,
            seq INTEGER NOT NULL,
            name TEXT NOT NULL,
            items INTEGER,
            duration_s {float},
            energy_j {float},
            co2_g {float},
            channels TEXT,
            per_item TEXT,
            PRIMARY KEY (run_id, nodeid, seq)
        )""",
        "CREATE INDEX carbon_tests_nodeid ON carbon_tests (nodeid)",
        "CREATE INDEX carbon_runs_testbed ON carbon_runs (testbed, branch, started)",
    ],
]
VERSION = len(MIGRATIONS)


class StoreError(Exception):
    """A store that cannot be opened, read or written; the message says which and why."""


@dataclass(frozen=True)
class RunRow:
    id: int
    run_uid: str
    started: str
    git_sha: str | None
    branch: str | None
    host: str | None
    testbed: str
    estimated: bool
    interrupted: bool
    energy_j: float | None


@dataclass(frozen=True)
class Point:
    """One test in one run."""

    run: RunRow
    outcome: str | None
    energy_j: float | None
    co2_g: float | None
    duration_s: float | None


def testbed_key(run: dict[str, Any]) -> str:
    """A run's hardware class and how it was measured: energies from different CPUs, GPUs or
    meter methods are not comparable, so the history keeps them apart by this key."""
    hw = run.get("hardware") or {}
    gpus = hw.get("gpus") or []
    meters = ",".join(f"{m.get('channel')}={m.get('method')}" for m in run.get("meters") or [])
    return f"{hw.get('cpu') or '?'} x{hw.get('cpu_threads') or '?'} | {' + '.join(map(str, gpus)) or 'no GPU'} | {meters or 'no meter'}"


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None


def _js(v: Any) -> str | None:
    return None if v is None else json.dumps(v, sort_keys=True)


class Store:
    """An open store (use :func:`open_store`); a context manager that closes it."""

    def __init__(self, conn: Any, dialect: str, where: str):
        self.conn, self.dialect, self.where = conn, dialect, where

    # -- plumbing ----------------------------------------------------------------------------
    def _sql(self, text: str) -> str:
        return text.replace("?", "%s") if self.dialect == "postgresql" else text

    def _errors(self) -> tuple[type[BaseException], ...]:
        if self.dialect == "postgresql":
            import psycopg

            return (psycopg.Error,)
        import sqlite3

        return (sqlite3.Error,)

    def _begin(self) -> None:
        # SQLite: take the write lock at once, so a second writer waits (busy timeout) instead
        # of failing at its first write. PostgreSQL: a transaction is open from the first query.
        if self.dialect == "sqlite":
            self.conn.execute("BEGIN IMMEDIATE")

    def _commit(self) -> None:
        self.conn.commit() if self.dialect == "postgresql" else self.conn.execute("COMMIT")

    def _rollback(self) -> None:
        try:
            self.conn.rollback() if self.dialect == "postgresql" else self.conn.execute("ROLLBACK")
        except Exception:  # the connection may be gone: the transaction is then gone with it
            pass

    def _query(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            cur = self.conn.execute(self._sql(sql), tuple(args))
            rows = list(cur.fetchall())
            if self.dialect == "postgresql":
                self.conn.rollback()  # end the read's implicit transaction
            return rows
        except self._errors() as e:
            raise StoreError(f"{self.where}: cannot be read ({type(e).__name__}: {e})") from None

    def close(self) -> None:
        try:
            self.conn.close()
        except Exception:
            pass

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema ------------------------------------------------------------------------------
    def version(self) -> int:
        rows = self._query("SELECT version FROM carbon_schema") if self._has_schema_table() else []
        return int(rows[0][0]) if rows else 0

    def _has_schema_table(self) -> bool:
        if self.dialect == "sqlite":
            sql = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'carbon_schema'"
        else:
            sql = "SELECT 1 FROM information_schema.tables WHERE table_name = 'carbon_schema' AND table_schema = current_schema()"
        return bool(self._query(sql))

    def migrate(self) -> int:
        """Bring the schema to :data:`VERSION`; returns the version found before."""
        errors = self._errors()
        ddl = {"id": "INTEGER PRIMARY KEY AUTOINCREMENT", "float": "REAL"}
        if self.dialect == "postgresql":
            ddl = {"id": "BIGSERIAL PRIMARY KEY", "float": "DOUBLE PRECISION"}
        try:
            self._begin()
            if self.dialect == "postgresql":  # one migrator at a time, across processes
                self.conn.execute("SELECT pg_advisory_xact_lock(7217041)")
            self.conn.execute("CREATE TABLE IF NOT EXISTS carbon_schema (version INTEGER NOT NULL)")
            rows = list(self.conn.execute("SELECT version FROM carbon_schema").fetchall())
            found = int(rows[0][0]) if rows else 0
            if found > VERSION:
                raise StoreError(
                    f"{self.where}: written by a newer pytest-carbon (schema version {found}; this one knows"
                    f" up to {VERSION}); upgrade pytest-carbon to read or write it"
                )
            for statements in MIGRATIONS[found:]:
                for text in statements:
                    self.conn.execute(text.format(**ddl))
            if not rows:
                self.conn.execute(self._sql("INSERT INTO carbon_schema (version) VALUES (?)"), (VERSION,))
            elif found < VERSION:
                self.conn.execute(self._sql("UPDATE carbon_schema SET version = ?"), (VERSION,))
            self._commit()
            return found
        except StoreError:
            self._rollback()
            raise
        except errors as e:
            self._rollback()
            raise StoreError(f"{self.where}: cannot set up its tables ({type(e).__name__}: {e})") from None

    # -- writing -----------------------------------------------------------------------------
    def add_run(self, report: dict[str, Any], branch: str | None = None) -> bool:
        """Append a report's run, tests and phases in one transaction; False if the store has
        it already (the same ``run.id``). ``branch`` overrides the report's own."""
        run = report.get("run") or {}
        uid = run.get("id")
        if not isinstance(uid, str) or not uid:
            raise StoreError("the report has no run.id; it cannot be told apart from another run")
        totals = report.get("totals") or {}
        meters = run.get("meters") or []
        intensity = run.get("intensity") or {}
        errors = self._errors()
        try:
            self._begin()
            if self.conn.execute(self._sql("SELECT 1 FROM carbon_runs WHERE run_uid = ?"), (uid,)).fetchall():
                self._rollback()
                return False
            cur = self.conn.execute(
                self._sql(
                    "INSERT INTO carbon_runs (run_uid, started, git_sha, branch, host, testbed, hardware, meters, estimated,"
                    " intensity_g_per_kwh, intensity_source, pue, interrupted, plugin, energy_j, co2_g)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id"
                ),
                (
                    uid, str(run.get("started") or ""), run.get("git_sha"), branch or run.get("git_branch"), run.get("host"),
                    testbed_key(run), _js(run.get("hardware")), _js(meters), int(any(m.get("estimated") for m in meters)),
                    _num(intensity.get("g_per_kwh")), intensity.get("source"), _num(run.get("pue")), int(bool(run.get("interrupted"))),
                    run.get("plugin"), _num(totals.get("energy_j")), _num(totals.get("co2_g")),
                ),
            )  # fmt: skip
            run_id = cur.fetchone()[0]
            self._add_tests(run_id, report.get("tests") or [])
            self._commit()
            return True
        except errors as e:
            self._rollback()
            raise StoreError(f"{self.where}: the run could not be written ({type(e).__name__}: {e}); the store is as it was") from None

    def _add_tests(self, run_id: int, tests: Iterable[dict[str, Any]]) -> None:
        test_rows, phase_rows = [], []
        for t in tests:
            energy = t.get("energy_j") or {}
            test_rows.append((run_id, t["nodeid"], t.get("outcome"), _num(t.get("duration_s")), _num(energy.get("total")), _num(t.get("co2_g")), _js(energy)))
            for seq, p in enumerate(t.get("phases") or []):
                pe = p.get("energy_j") or {}
                phase_rows.append((
                    run_id, t["nodeid"], seq, p.get("name"), p.get("items"), _num(p.get("duration_s")), _num(pe.get("total")),
                    _num(p.get("co2_g")), _js(pe), _js(p.get("per_item")),
                ))  # fmt: skip
        cur = self.conn.cursor()
        if test_rows:
            cur.executemany(self._sql("INSERT INTO carbon_tests VALUES (?, ?, ?, ?, ?, ?, ?)"), test_rows)
        if phase_rows:
            cur.executemany(self._sql("INSERT INTO carbon_phases VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"), phase_rows)

    # -- reading -----------------------------------------------------------------------------
    def runs(self, testbed: str | None = None, branch: str | None = None, unbranched: bool = False) -> list[RunRow]:
        """Runs in the order they started (then written), oldest first; of one testbed, of
        one branch, or (``unbranched``) only those made outside git or on a detached head."""
        sql, args = "SELECT id, run_uid, started, git_sha, branch, host, testbed, estimated, interrupted, energy_j FROM carbon_runs", []
        where = []
        if testbed is not None:
            where.append("testbed = ?")
            args.append(testbed)
        if branch is not None:
            where.append("branch = ?")
            args.append(branch)
        elif unbranched:
            where.append("branch IS NULL")
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self._query(sql + " ORDER BY started, id", args)
        return [RunRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], bool(r[7]), bool(r[8]), r[9]) for r in rows]

    def series(self, runs: Sequence[RunRow], nodeid: str | None = None) -> dict[str, list[Point]]:
        """Each test's points over ``runs`` (in their order); one test with ``nodeid``."""
        if not runs:
            return {}
        by_id = {r.id: r for r in runs}
        order = {r.id: i for i, r in enumerate(runs)}
        out: dict[str, list[Point]] = {}
        ids = list(by_id)
        for k in range(0, len(ids), 500):  # bounded parameter lists
            chunk = ids[k : k + 500]
            sql = f"SELECT run_id, nodeid, outcome, energy_j, co2_g, duration_s FROM carbon_tests WHERE run_id IN ({', '.join('?' * len(chunk))})"
            args: list[Any] = list(chunk)
            if nodeid is not None:
                sql += " AND nodeid = ?"
                args.append(nodeid)
            for run_id, nid, outcome, energy, co2, dur in self._query(sql, args):
                out.setdefault(nid, []).append(Point(by_id[run_id], outcome, energy, co2, dur))
        for points in out.values():
            points.sort(key=lambda p: order[p.run.id])
        return out

    def phases(self, run_id: int, nodeid: str) -> list[tuple[str, int | None, float | None]]:
        rows = self._query("SELECT name, items, energy_j FROM carbon_phases WHERE run_id = ? AND nodeid = ? ORDER BY seq", (run_id, nodeid))
        return [(r[0], r[1], r[2]) for r in rows]


def _wal(conn: Any, tries: int = 50) -> Any:
    """Switch to WAL mode. Switching takes an exclusive lock: while another process that
    opens the same new file at the same moment holds a lock, SQLite leaves the mode as it was
    and says so, so it is asked again for a while (a new store's first writers race here)."""
    import time

    mode = None
    for _ in range(tries):
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()
        if mode and str(mode[0]).lower() == "wal":
            break
        time.sleep(0.1)
    return mode


def is_url(target: str) -> bool:
    return bool(re.match(r"^postgres(ql)?://", target))


def open_store(target: str, create: bool = True) -> Store:
    """Open (and, with ``create``, set up or migrate) the store at a path or a PostgreSQL URL."""
    if is_url(target):
        shown = re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", target)  # never print a password
        try:
            import psycopg
        except ImportError:
            raise StoreError(
                f"{shown}: a PostgreSQL store needs the psycopg driver: pip install 'pytest-carbon[postgres]'"
            ) from None
        try:
            pg: Any = psycopg.connect(target, connect_timeout=10)
        except psycopg.Error as e:
            raise StoreError(f"{shown}: cannot connect ({str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__})") from None
        store = Store(pg, "postgresql", shown)
    else:
        import sqlite3

        path = Path(target)
        if not create and not path.is_file():
            raise StoreError(f"{target}: no such history file")
        if path.parent and not path.parent.is_dir():
            raise StoreError(f"{target}: the folder {path.parent} does not exist")
        try:
            # Autocommit mode: transactions are the store's own (BEGIN IMMEDIATE ... COMMIT).
            conn = sqlite3.connect(str(path), timeout=60.0, isolation_level=None)
            conn.execute("PRAGMA busy_timeout = 60000")
            conn.execute("PRAGMA foreign_keys = ON")
            mode = _wal(conn)
        except sqlite3.Error as e:
            raise StoreError(f"{target}: cannot be opened as a SQLite history ({type(e).__name__}: {e})") from None
        store = Store(conn, "sqlite", target)
        if mode and str(mode[0]).lower() != "wal":
            store.close()
            raise StoreError(f"{target}: SQLite would not use WAL mode here (got {mode[0]!r}); put the history on a local disk")
    if create:
        try:
            store.migrate()
        except StoreError:
            store.close()
            raise
    else:
        try:
            v = store.version()
        except StoreError:
            store.close()
            raise
        if v == 0:
            store.close()
            raise StoreError(f"{target}: not a pytest-carbon history (no carbon_schema table)")
        if v > VERSION:
            store.close()
            raise StoreError(f"{target}: written by a newer pytest-carbon (schema version {v}); upgrade pytest-carbon to read it")
    return store
