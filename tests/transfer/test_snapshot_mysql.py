"""Consistent snapshots on the real MariaDB while a client keeps writing (issue 13).

MariaDB/MySQL cannot share a snapshot between connections, so by default an element is read by one
reader in ``START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY``, and the figures RECONCILE
compares with are taken at its moment: beside it, on a connection whose snapshot starts with the
reader's while the table is locked for an instant (``LOCK TABLES … READ NOWAIT``), or, when the
table is being written at that instant, by the reader before its rows. ``SNAPSHOT 'per_reader'`` reads the key ranges in
parallel, each in a snapshot of its own: the manifest says the ranges may see different moments,
and under a writer they do — the failure the default is there to prevent.
"""

from __future__ import annotations

import json

import pytest

from support.live_source import CREATE, Writer, consistent, kill_then_run_again, total

ROWS = 2_000_000


@pytest.fixture
def live(mysql_database):
    import pymysql

    con = pymysql.connect(host="127.0.0.1", port=3306, user="root", database=mysql_database.rsplit("/", 1)[1],
                          autocommit=True)
    with con.cursor() as cur:
        cur.execute(CREATE)
        cur.execute(f"INSERT INTO live SELECT seq, seq % 1000, CONCAT('row ', seq) FROM seq_1_to_{ROWS}")
        cur.execute("ANALYZE TABLE live")
    con.close()
    return mysql_database


def writer_for(url: str, pause: float = 0.0) -> Writer:
    import pymysql

    database = url.rsplit("/", 1)[1]
    writer = Writer(lambda: pymysql.connect(host="127.0.0.1", port=3306, user="root", database=database), ROWS,
                    pause=pause)
    writer.start()
    assert writer.started_writing.wait(30)
    return writer


def parquet(out) -> str:
    return f"read_parquet('{out}/db/*/live/*.parquet')"


def manifest_of(out) -> dict:
    return json.loads(next(out.glob("db/*/live/_manifest.json")).read_text())


def extract_while_writing(ws, live: str, out, pause: float = 0.0):
    """EXTRACT (WORKERS 4) and RECONCILE LAST while ``writer_for(live, pause)`` writes: the
    element's manifest and RECONCILE's result."""
    ws.execute(f"ATTACH '{live}' AS db")
    writer = writer_for(live, pause=pause)
    try:
        before = writer.committed
        result = ws.execute(f"EXTRACT db.*.live TO '{out}' (WORKERS 4)")
        during = writer.committed - before
        reconciled = ws.execute("RECONCILE LAST")
    finally:
        writer.stop()
    assert result.rows[0][1] == "done", result.rows[0][-1]
    assert during > 10, "the writer must commit while the element is read"
    return manifest_of(out), reconciled


def test_one_reader_in_one_consistent_snapshot_with_its_figures(ws, live, tmp_path):
    import duckdb

    out = tmp_path / "out"
    manifest, reconciled = extract_while_writing(ws, live, out)
    snapshot = manifest["snapshot"]
    assert (snapshot["sharing"], snapshot["readers"]) == ("shared", 1)
    assert "cannot share a snapshot between connections" in snapshot["note"]
    assert manifest["source_figures"]["row_count"] == ROWS
    # a writer without pause leaves the lock no instant: the reader mostly takes the figures itself
    method = manifest["source_figures"]["method"]
    assert "by the reader in its snapshot" in method or "beside the reader" in method, method
    assert consistent(duckdb.connect(), parquet(out), ROWS) == (ROWS, ROWS, total(ROWS))
    assert reconciled.message.split("; ")[0].endswith("all passed"), ws.execute(
        "SELECT check_name, source_value, target_value FROM reconciliations WHERE status = 'fail'").rows
    assert "moved since the snapshot" in reconciled.message


def test_ranges_in_snapshots_of_their_own_may_see_different_moments(ws, live, tmp_path, monkeypatch):
    import duckdb

    from hydra.transfer import extract

    # 8 ranges on 4 workers: the last four start seconds after the first four, so the writer
    # certainly commits between the ranges' moments
    monkeypatch.setattr(extract, "range_count", lambda element, workers: 2 * workers)
    out = tmp_path / "out"
    ws.execute(f"ATTACH '{live}' AS db")
    writer = writer_for(live)
    try:
        ws.execute(f"EXTRACT db.*.live TO '{out}' (WORKERS 4, SNAPSHOT per_reader)")
    finally:
        writer.stop()
    manifest = manifest_of(out)
    assert (manifest["snapshot"]["sharing"], manifest["snapshot"]["readers"]) == ("per reader", 8)
    assert "may see different moments" in manifest["snapshot"]["note"] and manifest["source_figures"] is None
    assert consistent(duckdb.connect(), parquet(out), ROWS) != (ROWS, ROWS, total(ROWS))


def test_killed_mid_extract_under_writes_then_run_again_completes_in_one_new_snapshot(live, tmp_path, hydra_cmd):
    import duckdb

    out = tmp_path / "out"
    rerun = kill_then_run_again(hydra_cmd, tmp_path / "ws.duckdb", out, f"ATTACH '{live}' AS db", "db.*.live",
                                writer_for(live))
    assert "1 done" in rerun and "all passed" in rerun, rerun
    assert "did not complete" in manifest_of(out)["snapshot"]["resumed"]
    assert consistent(duckdb.connect(), parquet(out), ROWS) == (ROWS, ROWS, total(ROWS))


def test_figures_beside_the_reader_at_its_moment_while_a_writer_keeps_writing(ws, live, tmp_path):
    """A writer that pauses 20 ms between transactions (a busy table, not a saturated one): the
    lock is had at once, the figures are taken beside the reader, and they match its rows."""
    import duckdb

    out = tmp_path / "out"
    manifest, reconciled = extract_while_writing(ws, live, out, pause=0.02)
    assert "beside the reader" in manifest["source_figures"]["method"], manifest["source_figures"]["method"]
    assert manifest["source_figures"]["row_count"] == ROWS
    assert consistent(duckdb.connect(), parquet(out), ROWS) == (ROWS, ROWS, total(ROWS))
    assert reconciled.message.split("; ")[0].endswith("all passed"), ws.execute(
        "SELECT check_name, source_value, target_value FROM reconciliations WHERE status = 'fail'").rows


@pytest.mark.parametrize("locked", [True, False], ids=["locked", "control-without-the-lock"])
def test_a_write_between_the_two_snapshots_waits_for_the_lock(ws, mysql_database, tmp_path, monkeypatch, locked):
    """A row is inserted after the figures' snapshot has started and before the reader's does.
    The table is locked then, so the insert waits (and times out): figures and rows agree. The
    control takes no lock: the insert lands between the two moments and RECONCILE fails on the
    row count, which shows the test can fail."""
    import pymysql

    from hydra.heads.sql import mysql as sql_mysql
    from hydra.heads.sql import snapshot as sql_snapshot

    database = mysql_database.rsplit("/", 1)[1]

    def connect():
        return pymysql.connect(host="127.0.0.1", port=3306, user="root", database=database, autocommit=True)

    with connect() as con, con.cursor() as cur:
        cur.execute("CREATE TABLE t (id INT PRIMARY KEY, v INT)")
        cur.execute("INSERT INTO t SELECT seq, seq FROM seq_1_to_1000")
    inserts: list[str] = []
    real_send = sql_mysql.send

    def send_after_an_insert(proc, statements, last=False):
        if last:  # the reader's snapshot and rows, sent once the figures' snapshot has started
            with connect() as con, con.cursor() as cur:
                cur.execute("SET SESSION lock_wait_timeout = 1")
                try:
                    cur.execute("INSERT INTO t VALUES (5000, 5000)")
                    inserts.append("inserted")
                except pymysql.err.OperationalError as err:
                    inserts.append(f"waited: {err.args[0]}")
        return real_send(proc, statements, last)

    monkeypatch.setattr(sql_mysql, "send", send_after_an_insert)
    if not locked:
        monkeypatch.setattr(sql_snapshot, "LOCK_SQL", "DO 0")
    out = tmp_path / "out"
    ws.execute(f"ATTACH '{mysql_database}' AS db")
    ws.execute(f"EXTRACT db.*.t TO '{out}'")
    reconciled = ws.execute("RECONCILE LAST")
    manifest = json.loads(next(out.glob("db/*/t/_manifest.json")).read_text())
    assert "beside the reader" in manifest["source_figures"]["method"]
    if locked:
        assert inserts == ["waited: 1205"]
        assert reconciled.message.split("; ")[0].endswith("all passed"), reconciled.message
    else:
        assert inserts == ["inserted"]
        failed = ws.execute("SELECT check_name FROM reconciliations WHERE status = 'fail'").rows
        assert ("row_count",) in failed, failed


def test_an_interrupt_while_the_table_is_locked_leaves_it_unlocked(mysql_database):
    """Ctrl-C between LOCK TABLES and the figures' snapshot (in the REPL the process lives on):
    the lock is let go, so a writer does not wait for it."""
    import pymysql

    from hydra.heads.sql import snapshot as sql_snapshot
    from hydra.heads.sql.head import SqlHead

    database = mysql_database.rsplit("/", 1)[1]

    def connect():
        return pymysql.connect(host="127.0.0.1", port=3306, user="root", database=database, autocommit=True)

    with connect() as con, con.cursor() as cur:
        cur.execute("CREATE TABLE t (id INT PRIMARY KEY)")
    head = SqlHead("db", mysql_database)
    head.open()
    real, started = head.raw_connection, []

    class Cursor:
        def __init__(self, cur):
            self.cur = cur

        def execute(self, sql):
            if sql.startswith("START TRANSACTION"):  # the figures' snapshot: the table is locked now
                started.append(sql)
                raise KeyboardInterrupt
            return self.cur.execute(sql)

    class Connection:
        def __init__(self, raw):
            self.raw = raw

        def cursor(self):
            return Cursor(self.raw.cursor())

        def __getattr__(self, name):
            return getattr(self.raw, name)

    head.raw_connection = lambda: Connection(real())
    try:
        beside = sql_snapshot.Beside(head, f"`{database}`.`t`", "key")  # alive, as in a REPL after Ctrl-C
        with pytest.raises(KeyboardInterrupt):
            beside.lock()
        with connect() as con, con.cursor() as cur:
            cur.execute("SET SESSION lock_wait_timeout = 1")
            cur.execute("INSERT INTO t VALUES (1)")  # 1205 after 1 s if the table were still locked
    finally:
        head.close()
    assert started, "the interrupt must come while the table is locked"


def test_the_table_is_locked_while_statements_run_not_while_clients_connect(ws, mysql_database, tmp_path,
                                                                            monkeypatch):
    """Writers wait while the table is locked, so nothing slow happens then: the figures' and the
    locker's connections and the reader's client are all connected before LOCK TABLES, and between
    it and UNLOCK TABLES no connection is opened and no client started (they took 10 ms median,
    39 ms at worst, when the client was started under the lock)."""
    import pymysql.connections

    from hydra.heads.sql import postgres as sql_postgres
    from hydra.heads.sql import snapshot as sql_snapshot

    database = mysql_database.rsplit("/", 1)[1]
    with pymysql.connect(host="127.0.0.1", port=3306, user="root", database=database, autocommit=True) as con:
        with con.cursor() as cur:
            cur.execute("CREATE TABLE t (id INT PRIMARY KEY, v INT)")
            cur.execute("INSERT INTO t SELECT seq, seq FROM seq_1_to_1000")
    events: list[str] = []

    def recording(name, real):
        def wrapper(*args, **kwargs):
            events.append(name)
            return real(*args, **kwargs)
        return wrapper

    real_lock_table, real_unlock = sql_snapshot.Beside._lock_table, sql_snapshot.Beside.unlock

    def lock_table(self, cur):
        real_lock_table(self, cur)
        events.append("locked")

    def unlock(self):
        if self._locker is not None:
            events.append("unlocked")
        real_unlock(self)

    monkeypatch.setattr(sql_snapshot.Beside, "_lock_table", lock_table)
    monkeypatch.setattr(sql_snapshot.Beside, "unlock", unlock)
    monkeypatch.setattr(pymysql.connections.Connection, "connect",
                        recording("connection", pymysql.connections.Connection.connect))
    monkeypatch.setattr(sql_postgres, "start_client", recording("client", sql_postgres.start_client))
    out = tmp_path / "out"
    ws.execute(f"ATTACH '{mysql_database}' AS db")
    result = ws.execute(f"EXTRACT db.*.t TO '{out}'")
    assert result.rows[0][1] == "done", result.rows
    manifest = json.loads(next(out.glob("db/*/t/_manifest.json")).read_text())
    assert "beside the reader" in manifest["source_figures"]["method"]
    locked = events[events.index("locked"):events.index("unlocked") + 1]
    assert locked == ["locked", "unlocked"], events
    assert "client" in events[:events.index("locked")], events
    assert ws.execute("RECONCILE LAST").message.split("; ")[0].endswith("all passed")
