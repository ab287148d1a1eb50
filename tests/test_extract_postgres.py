"""EXTRACT and RECONCILE from the machine's real PostgreSQL through the SQL head: key-range splits
read in parallel, the source's own aggregates, a MARK … WHERE filter pushed to the server."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def crm(pg_database):
    from hydra.heads import kinds

    if "sql" not in kinds():
        pytest.skip("the SQL head is not registered (hydra.heads entry point 'sql')")
    import psycopg

    with psycopg.connect(pg_database, autocommit=True) as con:
        con.execute("CREATE TABLE customers (id serial PRIMARY KEY, name text, balance numeric(12,2), "
                    "created date, active boolean)")
        con.execute("INSERT INTO customers (name, balance, created, active) SELECT 'c' || i, i * 1.5, "
                    "DATE '2020-01-01' + i % 300, i % 3 = 0 FROM generate_series(1, 100000) i")
        con.execute("CREATE TABLE orders (order_id bigint PRIMARY KEY, customer_id int, amount double precision, "
                    "note text, ts timestamptz)")
        con.execute("INSERT INTO orders SELECT i, i % 1000, i * 0.1, CASE WHEN i % 5 = 0 THEN NULL ELSE 'n' || i END, "
                    "TIMESTAMPTZ '2024-01-01 00:00:00+00' + i * interval '1 minute' FROM generate_series(1, 20000) i")
    return pg_database


def test_postgres_tables_extract_and_reconcile_clean(ws, crm, tmp_path):
    out = tmp_path / "out"
    ws.execute(f"ATTACH '{crm}' AS crm")
    profiled = ws.execute("PROFILE crm.*")
    assert {r[0]: r[1] for r in profiled.rows} == {"crm.public.customers": 100_000, "crm.public.orders": 20_000}
    ws.execute("MARK crm.*")
    ws.execute("MARK crm.public.orders WHERE amount > 100")
    result = ws.execute(f"EXTRACT MARKED TO '{out}' (WORKERS 2)")
    assert {r[0]: r[1:3] for r in result.rows} == {"crm.public.customers": ("done", 100_000),
                                                   "crm.public.orders": ("done", 19_000)}
    manifest = json.loads((out / "crm" / "public" / "customers" / "_manifest.json").read_text())
    assert len(manifest["query"]["ranges"]) == 2 and len(manifest["files"]) == 2  # read in parallel
    assert manifest["source_stats"][0]["method"] != "duckdb"
    orders = json.loads((out / "crm" / "public" / "orders" / "_manifest.json").read_text())
    assert any("amount > 100" in p for p in orders["query"]["pushed_to_source"])
    reconciled = ws.execute("RECONCILE LAST")
    assert reconciled.message.endswith("all passed"), ws.execute(
        "SELECT * FROM reconciliations WHERE status = 'fail'").rows
