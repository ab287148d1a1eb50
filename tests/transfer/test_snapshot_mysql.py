"""Consistent snapshots on the real MariaDB while a client keeps writing (issue 13).

MariaDB/MySQL cannot share a snapshot between connections, so by default an element is read by one
reader in ``START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY``, which first takes the figures
RECONCILE compares with, in the same snapshot. ``SNAPSHOT 'per_reader'`` reads the key ranges in
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


def writer_for(url: str) -> Writer:
    import pymysql

    database = url.rsplit("/", 1)[1]
    writer = Writer(lambda: pymysql.connect(host="127.0.0.1", port=3306, user="root", database=database), ROWS)
    writer.start()
    assert writer.started_writing.wait(30)
    return writer


def parquet(out) -> str:
    return f"read_parquet('{out}/db/*/live/*.parquet')"


def manifest_of(out) -> dict:
    return json.loads(next(out.glob("db/*/live/_manifest.json")).read_text())


def test_one_reader_in_one_consistent_snapshot_with_its_figures(ws, live, tmp_path):
    import duckdb

    out = tmp_path / "out"
    ws.execute(f"ATTACH '{live}' AS db")
    writer = writer_for(live)
    try:
        before = writer.committed
        result = ws.execute(f"EXTRACT db.*.live TO '{out}' (WORKERS 4)")
        during = writer.committed - before
        reconciled = ws.execute("RECONCILE LAST")
    finally:
        writer.stop()
    assert result.rows[0][1] == "done", result.rows[0][-1]
    assert during > 10, "the writer must commit while the element is read"
    manifest = manifest_of(out)
    snapshot = manifest["snapshot"]
    assert (snapshot["sharing"], snapshot["readers"]) == ("shared", 1)
    assert "cannot share a snapshot between connections" in snapshot["note"]
    assert manifest["source_figures"]["row_count"] == ROWS
    assert "by the reader in its snapshot" in manifest["source_figures"]["method"]
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
