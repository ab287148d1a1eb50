"""The SQL head end to end through the workspace, against the real PostgreSQL and MariaDB: ATTACH,
elements/columns in the catalog, SELECT with pushdown on awkward refs, writes refused, bad URLs."""

from __future__ import annotations

from decimal import Decimal

import psycopg
import pymysql
import pytest

from hydra.core.errors import HydraError

from support.sql_estates import MYSQL_SETUP, Q_LINES, SCHEMA_SQL

REF = 'crm."Sales Ops"."Order ""Lines"""'


@pytest.fixture
def pg(pg_database):
    with psycopg.connect(pg_database, autocommit=True) as con:
        con.execute(SCHEMA_SQL)
    return pg_database


def test_attach_lists_elements_and_columns(ws, pg):
    ws.execute(f"ATTACH '{pg}' AS crm")
    got = set(ws.query("SELECT ref, kind FROM elements WHERE source = 'crm'"))
    assert (REF, "table") in got
    assert ('crm."Sales Ops"."select"', "table") in got
    assert ('crm."Sales Ops"."Big Orders"', "view") in got
    assert ('crm."Sales Ops".moods', "materialized view") in got or ('crm."Sales Ops"."moods"', "materialized view") in got
    kinds = dict(ws.query("SELECT kind, source_kind FROM (SELECT kind AS source_kind, name AS kind FROM sources) "
                          "WHERE kind = 'crm'"))
    assert kinds == {"crm": "sql"}


def test_select_through_hydra_equals_postgres(ws, pg):
    ws.execute(f"ATTACH '{pg}' AS crm")
    result = ws.execute(f"SELECT sum(amount), count(*), min(note) FROM {REF} WHERE amount > 20 AND mood <> 'sad'")
    with psycopg.connect(pg) as con:
        theirs = con.execute(f"SELECT sum(amount), count(*), min(note COLLATE \"C\") FROM {Q_LINES} "
                             "WHERE amount > 20 AND mood <> 'sad'").fetchone()
    assert tuple(result.rows[0]) == theirs == (Decimal("1099.99"), 2, "")
    rows = ws.execute('SELECT "Ünïcödé", "from" FROM crm."Sales Ops"."select" WHERE "Mixed Case" >= 2 ORDER BY 2').rows
    assert [tuple(r) for r in rows] == [("b", None), (None, 4)] or [tuple(r) for r in rows] == [(None, 4), ("b", None)]


def test_typed_columns_read_without_error(ws, pg):
    ws.execute(f"ATTACH '{pg}' AS crm")
    rows = ws.execute(f"SELECT id, uid, doc, tags, blob, wait, created_at, cash, big FROM {REF} ORDER BY id").rows
    assert len(rows) == 5
    assert str(rows[0][1]) == "8c5e2b1a-3f4d-4e6a-9b7c-1d2e3f4a5b6c"
    assert list(rows[0][3]) == ["x", "y z", None]
    types = dict(ws.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {REF})").rows)
    assert types["uid"] == "UUID" and types["created_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["wait"] == "INTERVAL" and types["amount"] == "DECIMAL(12,2)" and types["tags"] == "VARCHAR[]"


@pytest.mark.parametrize("statement", [
    "INSERT INTO {ref} (id) VALUES (99)",
    "DELETE FROM {ref} WHERE id = 1",
    "UPDATE {ref} SET note = 'x'",
])
def test_writes_to_a_ref_are_refused_and_source_unchanged(ws, pg, statement):
    ws.execute(f"ATTACH '{pg}' AS crm")
    with pytest.raises(HydraError) as info:
        ws.execute(statement.format(ref=REF))
    assert "never writes" in str(info.value) or "read-only" in str(info.value).lower()
    with psycopg.connect(pg) as con:
        assert con.execute(f"SELECT count(*), sum(id), count(note) FROM {Q_LINES}").fetchone() == (5, 15, 4)
        assert con.execute(f"SELECT note FROM {Q_LINES} WHERE id = 1").fetchone() == ("plain",)


def test_bad_urls_one_line_and_workspace_unchanged(ws, pg):
    before = ws.query("SELECT count(*) FROM sources")[0][0]
    for url in ["postgresql://postgres:hunter22@127.0.0.1:1/x", pg + "_nope"]:
        with pytest.raises(HydraError) as info:
            ws.execute(f"ATTACH '{url}' AS bad")
        assert "\n" not in str(info.value) and "hunter22" not in str(info.value)
    assert ws.query("SELECT count(*) FROM sources")[0][0] == before
    assert ws.query("SELECT count(*) FROM elements WHERE source = 'bad'")[0][0] == 0


def test_mariadb_through_the_workspace(ws, mysql_database):
    con = pymysql.connect(host="127.0.0.1", port=3306, user="root", database=mysql_database.rsplit("/", 1)[1],
                          autocommit=True)
    with con.cursor() as cur:
        for stmt in MYSQL_SETUP:
            cur.execute(stmt)
    db = mysql_database.rsplit("/", 1)[1]
    ws.execute(f"ATTACH '{mysql_database}' AS shop")
    rows = ws.execute(f'SELECT "Ünïcödé", "a`b" FROM shop.{db}."select" WHERE "Mixed Case" > 1 AND "Ünïcödé" = \'B\'').rows
    assert [tuple(r) for r in rows] == [("B", None)]
    total = ws.execute(f'SELECT sum(amount), count(day) FROM shop.{db}."Order ""Lines"""').rows[0]
    assert tuple(total) == (Decimal("360.49"), 2)  # the zero date reads as NULL
    with pytest.raises(HydraError):
        ws.execute(f"DELETE FROM shop.{db}.numbers")
    with con.cursor() as cur:
        cur.execute("SELECT count(*) FROM numbers")
        assert cur.fetchone()[0] == 500
    con.close()


def test_mark_extract_reconcile_pass(ws, pg, tmp_path):
    """The issue's acceptance path: MARK crm.*, EXTRACT MARKED, RECONCILE LAST all pass, every type included."""
    ws.execute(f"ATTACH '{pg}' AS crm")
    ws.execute("MARK crm.*")
    extract = ws.execute(f"EXTRACT MARKED TO '{tmp_path}' (WORKERS 2)")
    status = {r[0]: r[1] for r in extract.rows}
    assert status[REF] == "done" and set(status.values()) == {"done"}, extract.rows
    reconcile = ws.execute("RECONCILE LAST")
    assert {r[0]: r[1] for r in reconcile.rows}[REF] == "pass"
    assert all(r[1] == "pass" for r in reconcile.rows), reconcile.rows
    assert "all passed" in reconcile.message


def test_mariadb_mark_extract_reconcile_pass(ws, mysql_database, tmp_path):
    """Zero dates, unsigned integers, TIMESTAMP in UTC: the source's figures match the files'."""
    db = mysql_database.rsplit("/", 1)[1]
    con = pymysql.connect(host="127.0.0.1", port=3306, user="root", database=db, autocommit=True)
    with con.cursor() as cur:
        for stmt in MYSQL_SETUP:
            cur.execute(stmt)
    con.close()
    ws.execute(f"ATTACH '{mysql_database}' AS shop")
    ws.execute("MARK shop.*")
    extract = ws.execute(f"EXTRACT MARKED TO '{tmp_path}' (WORKERS 2)")
    assert {r[1] for r in extract.rows} == {"done"}, extract.rows
    reconcile = ws.execute("RECONCILE LAST")
    assert all(r[1] == "pass" for r in reconcile.rows), reconcile.rows
