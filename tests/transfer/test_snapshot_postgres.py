"""One snapshot per element on the real PostgreSQL while a client keeps writing (issue 13).

A 2M-row table read in 4 key ranges (``WORKERS 4``) while ``support.live_source.Writer`` moves
rows across the range boundaries, deletes, inserts and updates on another connection. With the
shared snapshot the copy is, row for row, what the exported snapshot holds (read again through
the same snapshot before it is released), and RECONCILE passes every copy check while reporting
the drift; without it (``SNAPSHOT off``) the ranges see different moments and the copy breaks the
table's invariants — the failure these tests are built to catch.
"""

from __future__ import annotations

import json

import pytest

from hydra.core.errors import StatementError
from support.live_source import CREATE, Writer, consistent, kill_then_run_again, total

ROWS = 2_000_000


@pytest.fixture
def live(pg_database):
    import psycopg

    with psycopg.connect(pg_database, autocommit=True) as con:
        con.execute(CREATE)
        con.execute(f"INSERT INTO live SELECT g, g % 1000, 'row ' || g FROM generate_series(1, {ROWS}) g")
        con.execute("ANALYZE live")
    return pg_database


@pytest.fixture
def twice_the_ranges(monkeypatch):
    """8 ranges on 4 workers: the last four start seconds after the first four, so that without a
    shared snapshot the writer certainly commits between the ranges' moments (with 4 ranges
    starting within milliseconds, it only very likely does)."""
    from hydra.transfer import extract

    monkeypatch.setattr(extract, "range_count", lambda element, workers: 2 * workers)


def writer_for(url: str) -> Writer:
    import psycopg

    writer = Writer(lambda: psycopg.connect(url), ROWS)
    writer.start()
    assert writer.started_writing.wait(30)
    return writer


def parquet(out) -> str:
    return f"read_parquet('{out}/db/public/live/*.parquet')"


def test_every_range_and_the_figures_read_one_moment_while_a_client_writes(ws, live, tmp_path, monkeypatch,
                                                                          twice_the_ranges):
    import duckdb
    import psycopg

    from hydra.heads.sql import snapshot as sql_snapshot

    seen = tmp_path / "snapshot.csv"
    release = sql_snapshot.release

    def read_the_snapshot_then_release(head, snapshot):
        # the exported snapshot is still valid here: copy what it holds, to compare row for row
        with psycopg.connect(live) as con, open(seen, "wb") as out:
            con.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            con.execute(f"SET TRANSACTION SNAPSHOT '{snapshot.token}'")
            with con.cursor().copy("COPY live TO STDOUT (FORMAT csv)") as copy:
                for chunk in copy:
                    out.write(chunk)
        release(head, snapshot)

    monkeypatch.setattr(sql_snapshot, "release", read_the_snapshot_then_release)
    out = tmp_path / "out"
    ws.execute(f"ATTACH '{live}' AS db")
    writer = writer_for(live)
    try:
        before = writer.committed
        result = ws.execute(f"EXTRACT db.public.live TO '{out}' (WORKERS 4)")
        during = writer.committed - before
        reconciled = ws.execute("RECONCILE LAST")
    finally:
        writer.stop()
    assert result.rows[0][1] == "done", result.rows
    assert during > 10, "the writer must commit while the ranges are read"
    manifest = json.loads((out / "db/public/live/_manifest.json").read_text())
    assert len(manifest["query"]["ranges"]) == 8
    snapshot = manifest["snapshot"]
    assert (snapshot["sharing"], snapshot["isolation"], snapshot["readers"]) == ("shared", "repeatable read, read only", 8)
    assert set(snapshot["identity"]) == {"pg_current_snapshot()", "wal_lsn"} and snapshot["held_seconds"] > 0
    assert manifest["source_figures"]["row_count"] == ROWS

    files = duckdb.connect()
    assert consistent(files, parquet(out), ROWS) == (ROWS, ROWS, total(ROWS))
    at_snapshot = f"read_csv('{seen}', header = false, columns = {{'id': 'BIGINT', 'amount': 'BIGINT', 'note': 'VARCHAR'}})"
    differ = files.execute(f"SELECT count(*) FROM ((SELECT id, amount, note FROM {parquet(out)} EXCEPT ALL "
                           f"SELECT * FROM {at_snapshot}) UNION ALL (SELECT * FROM {at_snapshot} EXCEPT ALL "
                           f"SELECT id, amount, note FROM {parquet(out)}))").fetchone()[0]
    assert differ == 0

    assert reconciled.message.split("; ")[0].endswith("all passed"), ws.execute(
        "SELECT check_name, source_value, target_value FROM reconciliations WHERE status = 'fail'").rows
    drift = dict(ws.execute("SELECT check_name, status FROM reconciliations WHERE check_name LIKE 'drift%'").rows)
    assert drift["drift row_count"] == "steady" and drift["drift max(id)"] == "drift"
    assert "moved since the snapshot" in reconciled.message
    assert "held a snapshot up to" in result.message

    # today's question, for those who ask it: the copy against the source as it is now
    now = ws.execute("RECONCILE LAST (AGAINST NOW)")
    assert "FAILED" in now.message and "drift" not in now.message
    with pytest.raises(StatementError, match="AGAINST takes NOW"):
        ws.execute("RECONCILE LAST (AGAINST THEN)")


def test_without_the_snapshot_the_ranges_see_different_moments(ws, live, tmp_path, twice_the_ranges):
    """The same run with SNAPSHOT off: the copy is no moment of the table (rows read twice or
    missed), and RECONCILE, with no figures of the copy's moment, fails."""
    import duckdb

    out = tmp_path / "out"
    ws.execute(f"ATTACH '{live}' AS db")
    writer = writer_for(live)
    try:
        result = ws.execute(f"EXTRACT db.public.live TO '{out}' (WORKERS 4, SNAPSHOT off)")
        reconciled = ws.execute("RECONCILE LAST")
    finally:
        writer.stop()
    assert result.rows[0][1] == "done"
    manifest = json.loads((out / "db/public/live/_manifest.json").read_text())
    assert manifest["snapshot"]["sharing"] == "none" and manifest["source_figures"] is None
    count, ids, amount = consistent(duckdb.connect(), parquet(out), ROWS)
    assert (count, ids, amount) != (ROWS, ROWS, total(ROWS))
    assert "FAILED" in reconciled.message


def test_killed_mid_extract_under_writes_then_run_again_completes_in_one_new_snapshot(live, tmp_path, hydra_cmd):
    import duckdb

    out = tmp_path / "out"
    rerun = kill_then_run_again(hydra_cmd, tmp_path / "ws.duckdb", out, f"ATTACH '{live}' AS db",
                                "db.public.live", writer_for(live))
    assert "1 done" in rerun and "all passed" in rerun, rerun
    manifest = json.loads((out / "db/public/live/_manifest.json").read_text())
    assert "did not complete" in manifest["snapshot"]["resumed"] and manifest["snapshot"]["readers"] == 4
    assert consistent(duckdb.connect(), parquet(out), ROWS) == (ROWS, ROWS, total(ROWS))
