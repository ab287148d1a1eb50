"""Bisection names every key range that differs and the true number of rows missing and extra
(issue 11, item 7); a small element is one file whatever WORKERS says (issue 11, item 11)."""

from __future__ import annotations

import json

import duckdb
import psycopg
import pytest


def detail_of(ws, check: str = "checksum") -> str:
    rows = ws.query("SELECT detail FROM reconciliations WHERE check_name = ? AND run_id = "
                    "(SELECT max(run_id) FROM reconciliations)", [check])
    return rows[0][0]


def spans(detail: str) -> str:
    return detail.split("key ranges that differ: ", 1)[1].split(";", 1)[0]


@pytest.fixture
def two_parts(ws, tmp_path):
    """20,000 rows (id 1..20000) extracted as two parts: ids 1..10001 and 10002..20000."""
    data = tmp_path / "data"
    data.mkdir()
    con = duckdb.connect()
    con.execute(f"COPY (SELECT range AS id, 'v' || range AS v FROM range(1, 20001)) TO '{data / 't.csv'}' (HEADER)")
    con.close()
    out = tmp_path / "out"
    ws.execute(f"ATTACH '{data}' AS f")
    result = ws.execute(f"EXTRACT f.\"t.csv\" TO '{out}' (ROWS_PER_FILE 10001, WORKERS 1)")
    assert result.rows[0][1:3] == ("done", 20_000)
    element = out / "f" / "t.csv"
    rows = [f["rows"] for f in json.loads((element / "_manifest.json").read_text())["files"]]
    assert rows == [10_001, 9_999]
    return data, element


def test_a_lost_part_of_9999_rows_is_named_whole(ws, two_parts):
    _, element = two_parts
    (element / "part-00001.parquet").unlink()
    ws.execute("RECONCILE LAST")
    detail = detail_of(ws)
    assert spans(detail) == "id 10002..20000"
    assert "9,999 rows missing at the target" in detail and "only at the target" not in detail
    assert "{'id': 10002, 'v': v10002}" in detail
    assert detail_of(ws, "row_count").startswith("source (")  # the counts, then the same bisection
    assert "9,999 rows missing" in detail_of(ws, "row_count")


def test_a_lost_part_of_10001_rows_is_counted_exactly(ws, two_parts):
    _, element = two_parts
    (element / "part-00000.parquet").unlink()
    ws.execute("RECONCILE LAST")
    detail = detail_of(ws)
    assert spans(detail) == "id 1..10001" and "10,001 rows missing at the target" in detail


def test_10001_rows_only_at_the_target_in_many_ranges(ws, two_parts):
    """The source lost 10,001 rows since the copy, in 21 separate runs of keys (the bisection used
    to follow 8 ranges at most), and one row changed."""
    data, _ = two_parts
    gone = [i for k in range(20) for i in range(1 + 1000 * k, 501 + 1000 * k)] + [19_800]
    assert len(gone) == 10_001
    con = duckdb.connect()
    con.execute(f"COPY (SELECT range AS id, CASE WHEN range = 19999 THEN 'changed' ELSE 'v' || range END AS v "
                f"FROM range(1, 20001) WHERE range NOT IN ({', '.join(map(str, gone))})) TO '{data / 't.csv'}' (HEADER)")
    con.close()
    ws.execute("REFRESH f")
    ws.execute("RECONCILE LAST")
    detail = detail_of(ws, "row_count")  # the copy is as written (checksum passes): the source changed
    runs = [f"id {1 + 1000 * k}..{500 + 1000 * k}" for k in range(20)] + ["id 19800", "id 19999"]
    assert spans(detail) == ", ".join(runs[:20]) + " and 2 more"  # every run counted, 20 listed
    assert "10,001 rows only at the target" in detail and "missing at the target" not in detail
    assert "1 row changed: id in 19999" in detail


def test_postgres_two_parts_one_deleted(ws, pg_database, tmp_path):
    """The issue's shape against the real PostgreSQL: ranges pushed down to the source."""
    with psycopg.connect(pg_database, autocommit=True) as con:
        con.execute("CREATE TABLE t (id int PRIMARY KEY, v text)")
        con.execute("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 20000) g")
    out = tmp_path / "out"
    ws.execute(f"ATTACH '{pg_database}' AS pg")
    ws.execute(f"EXTRACT pg.public.t TO '{out}' (ROWS_PER_FILE 10001, WORKERS 2)")
    (out / "pg" / "public" / "t" / "part-00001.parquet").unlink()
    ws.execute("RECONCILE LAST")
    detail = detail_of(ws)
    assert spans(detail) == "id 10002..20000" and "9,999 rows missing at the target" in detail
    with psycopg.connect(pg_database, autocommit=True) as con:  # and now 10,001 rows more at the source
        con.execute("INSERT INTO t SELECT g, 'w' FROM generate_series(30001, 40001) g")
    # against the snapshot the new rows are drift, not a difference; against the source now they differ
    ws.execute("RECONCILE LAST (AGAINST NOW)")
    detail = detail_of(ws)
    assert spans(detail) == "id 10002..20000, id 30001..40001"
    assert "20,000 rows missing at the target" in detail


def test_a_seven_row_table_is_one_file_whatever_workers_says(ws, pg_database, tmp_path):
    with psycopg.connect(pg_database, autocommit=True) as con:
        con.execute("CREATE TABLE seven (id int PRIMARY KEY, v text)")
        con.execute("INSERT INTO seven SELECT g, 'x' FROM generate_series(1, 7) g")
    out = tmp_path / "out"
    ws.execute(f"ATTACH '{pg_database}' AS pg")
    result = ws.execute(f"EXTRACT pg.public.seven TO '{out}' (WORKERS 4)")
    assert result.rows[0][1:5] == ("done", 7, result.rows[0][3], 1)
    manifest = json.loads((out / "pg" / "public" / "seven" / "_manifest.json").read_text())
    assert len(manifest["files"]) == 1 and manifest["query"]["ranges"] is None


def test_how_many_ranges():
    from hydra.core.model import Element
    from hydra.transfer.extract import RANGE_MIN_BYTES, RANGE_MIN_ROWS, range_count

    def element(rows, size):
        return Element(("s", "t"), "table", row_count=rows, size_bytes=size)

    assert range_count(element(7, 32_768), 4) == 1
    assert range_count(element(None, 32_768), 4) == 1  # never analysed, but small on disk
    assert range_count(element(None, None), 4) == 4  # nothing known: it may be big
    assert range_count(element(2 * RANGE_MIN_ROWS, None), 4) == 2
    assert range_count(element(None, 10 * RANGE_MIN_BYTES), 4) == 4
    assert range_count(element(10 * RANGE_MIN_ROWS, None), 1) == 1
