"""EXTRACT and RECONCILE from the machine's real PostgreSQL through the SQL head: key-range splits
read in parallel, the source's own aggregates, a MARK … WHERE filter pushed to the server."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def crm(pg_database):
    from hydra.heads.registry import kinds

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


def test_postgres_tables_extract_and_reconcile_clean(ws, crm, tmp_path, split_small_elements):
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
    # a plain copy skips DuckDB for the data; a user's filter is applied again by DuckDB
    assert (manifest["query"]["route"], orders["query"]["route"]) == ("direct", "duckdb")
    reconciled = ws.execute("RECONCILE LAST")
    assert reconciled.message.endswith("all passed"), ws.execute(
        "SELECT * FROM reconciliations WHERE status = 'fail'").rows


WIDE = """
CREATE TABLE wide (id bigint PRIMARY KEY, sm smallint, i int, r real, f float8, n numeric(10,3),
                   big numeric(30,4), t text, vc varchar(20), b bytea, ts timestamptz, tsn timestamp,
                   d date, tm time, ok boolean, u uuid, j jsonb, js json, e mood);
INSERT INTO wide
SELECT g, (g % 300)::smallint, CASE WHEN g % 7 = 0 THEN NULL ELSE g * 3 END, g / 3.0, g / 7.0, g / 8.0,
       g * 123456789012.3456, CASE WHEN g % 5 = 0 THEN NULL WHEN g % 5 = 1 THEN '' ELSE 'ü ' || g END,
       'v' || g, decode(md5(g::text), 'hex'), TIMESTAMPTZ '2001-02-03 04:05:06.789+00' + g * interval '1 hour',
       TIMESTAMP '1999-12-31 23:59:59' + g * interval '1 second', DATE '1970-01-01' + g,
       TIME '00:00:01' + g * interval '1 second', CASE WHEN g % 3 = 0 THEN NULL ELSE g % 2 = 0 END,
       md5(g::text)::uuid, jsonb_build_object('g', g, 's', 'x'), json_build_array(g, 'y'),
       (ARRAY['sad', 'ok', 'happy'])[1 + g % 3]::mood
FROM generate_series(1, 30000) g;
CREATE TABLE odd (id int PRIMARY KEY, iv interval, tags text[]);
INSERT INTO odd SELECT g, g * interval '1 minute', ARRAY['a' || g, NULL] FROM generate_series(1, 500) g;
"""


def test_plain_copy_writes_the_sources_batches_and_reconciles(ws, pg_database, tmp_path, split_small_elements):
    """The direct route (no DuckDB round trip) for every type it takes, the DuckDB route for the
    types it does not (interval, arrays): both reconcile, and the files read back as the source."""
    import duckdb
    import psycopg

    with psycopg.connect(pg_database, autocommit=True) as con:
        con.execute("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')")
        con.execute(WIDE)
    out = tmp_path / "out"
    ws.execute(f"ATTACH '{pg_database}' AS db")
    ws.execute("MARK db.*")
    result = ws.execute(f"EXTRACT MARKED TO '{out}' (WORKERS 2)")
    assert {r[0]: r[1:3] for r in result.rows} == {"db.public.wide": ("done", 30_000), "db.public.odd": ("done", 500)}
    wide = json.loads((out / "db" / "public" / "wide" / "_manifest.json").read_text())
    odd = json.loads((out / "db" / "public" / "odd" / "_manifest.json").read_text())
    assert (wide["query"]["route"], odd["query"]["route"]) == ("direct", "duckdb")
    assert len(wide["files"]) == 2  # two key ranges, each written straight from its reader
    reconciled = ws.execute("RECONCILE LAST")
    assert reconciled.message.endswith("all passed"), ws.execute(
        "SELECT * FROM reconciliations WHERE status = 'fail'").rows
    files = duckdb.connect()
    written = files.execute(f"SELECT * EXCLUDE (u), u::VARCHAR FROM read_parquet('{out}/db/public/wide/*.parquet') "
                            "ORDER BY id").fetchall()
    source = ws.execute('SELECT * EXCLUDE (u), u::VARCHAR FROM db.public.wide ORDER BY id').rows
    assert written == source
    types = dict(files.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM "
                               f"read_parquet('{out}/db/public/wide/*.parquet'))").fetchall())
    assert (types["u"], types["ts"], types["n"]) == ("UUID", "TIMESTAMP WITH TIME ZONE", "DECIMAL(10,3)")


def test_ctrl_c_during_a_postgres_extract_stops_the_transfers_and_resumes(pg_database, tmp_path, hydra_cmd,
                                                                          ctrl_c_once_done):
    """Ctrl-C in the middle of the direct route: the run stops, no staged part is left, no COPY
    keeps running on the server, and the same EXTRACT then completes what is missing."""
    import subprocess
    import time

    import duckdb
    import psycopg

    with psycopg.connect(pg_database, autocommit=True) as con:
        for i in range(4):
            con.execute(f"CREATE TABLE t{i} AS SELECT g AS id, md5(g::text) AS h, g * 0.5 AS x "
                        f"FROM generate_series(1, 400000) g")
            con.execute(f"ALTER TABLE t{i} ADD PRIMARY KEY (id)")
    out, workspace = tmp_path / "out", tmp_path / "ws.duckdb"
    script = f"ATTACH '{pg_database}' AS db; MARK db.*; EXTRACT MARKED TO '{out}' (WORKERS 1);"
    returncode, err = ctrl_c_once_done(workspace, script, lambda: out.glob("db/public/*/_manifest.json"))
    assert returncode != 0 and "Traceback" not in err, err
    assert not list(out.glob(".hydra-staging/**/*.parquet*"))  # parts, whole or being written
    with psycopg.connect(pg_database, autocommit=True) as con:
        for _ in range(100):  # the backends of killed clients notice within moments
            copying = con.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                  "AND query LIKE 'COPY%'").fetchone()[0]
            if not copying:
                break
            time.sleep(0.1)
    assert copying == 0
    rerun = subprocess.run([*hydra_cmd, str(workspace), "-c",
                            f"EXTRACT MARKED TO '{out}' (WORKERS 1); RECONCILE LAST;"],
                           capture_output=True, text=True, timeout=120)
    assert "0 failed" in rerun.stderr and "all passed" in rerun.stderr, rerun.stderr
    rows = duckdb.connect().execute(f"SELECT count(*), count(DISTINCT id) "
                                    f"FROM read_parquet('{out}/db/public/*/*.parquet')")
    assert rows.fetchall() == [(1_600_000, 400_000)]


KEYLESS = """
CREATE TABLE keyless (n int, h text, x numeric(12,2), d date);
INSERT INTO keyless SELECT g % 97, md5(g::text), g * 0.25, DATE '2020-01-01' + g % 400
FROM generate_series(1, 60000) g;
INSERT INTO keyless SELECT 5, 'twin', 1.00, DATE '2020-01-01' FROM generate_series(1, 3);  -- equal rows
ANALYZE keyless;
"""


def test_a_keyless_table_reads_in_ctid_block_ranges_and_reconciles(ws, pg_database, tmp_path, split_small_elements):
    """No key: the table is cut into block ranges of ctid, read in parallel in the shared snapshot;
    every row (equal rows too) is read exactly once, and RECONCILE passes."""
    import duckdb
    import psycopg

    with psycopg.connect(pg_database, autocommit=True) as con:
        con.execute(KEYLESS)
    out = tmp_path / "out"
    ws.execute(f"ATTACH '{pg_database}' AS db")
    ws.execute("MARK db.public.keyless")
    result = ws.execute(f"EXTRACT MARKED TO '{out}' (WORKERS 3)")
    assert [r[1:3] for r in result.rows] == [("done", 60_003)]
    manifest = json.loads((out / "db" / "public" / "keyless" / "_manifest.json").read_text())
    ranges = manifest["query"]["ranges"]
    assert len(ranges) == 3 and all("ctid" in r for r in ranges), ranges
    assert len(manifest["files"]) == 3 and manifest["query"]["route"] == "direct"
    assert ws.execute("RECONCILE LAST").message.endswith("all passed")
    files = duckdb.connect()
    written = files.execute(f"SELECT n, h, x, d FROM read_parquet('{out}/db/public/keyless/*.parquet') "
                            "ORDER BY ALL").fetchall()
    assert written == ws.execute("SELECT n, h, x, d FROM db.public.keyless ORDER BY ALL").rows


@pytest.mark.simulated
def test_a_keyless_extract_that_fails_in_one_range_writes_nothing_and_resumes(ws, pg_database, tmp_path,
                                                                              split_small_elements, monkeypatch):
    """Simulates a reader failing mid-table (the head's read of the second block range raises, as
    a dropped connection would); the real PostgreSQL is read otherwise. The element fails whole,
    nothing is committed, and the same EXTRACT then reads it again in block ranges and reconciles."""
    import psycopg

    from hydra.heads.base import HeadError
    from hydra.heads.sql.head import SqlHead

    with psycopg.connect(pg_database, autocommit=True) as con:
        con.execute(KEYLESS)
    out = tmp_path / "out"
    ws.execute(f"ATTACH '{pg_database}' AS db")
    ws.execute("MARK db.public.keyless")
    read = SqlHead.read

    def failing(self, element, columns=None, quals=None, limit=None):
        if any(q.column == "ctid" and q.op == ">=" and q.value != "(0,0)" for q in quals or ()):
            raise HeadError("db.public.keyless: the connection to the server was lost")
        return read(self, element, columns, quals, limit)

    monkeypatch.setattr(SqlHead, "read", failing)
    failed = ws.execute(f"EXTRACT MARKED TO '{out}' (WORKERS 2)")
    assert [r[1] for r in failed.rows] == ["failed"]
    assert not (out / "db" / "public" / "keyless" / "_manifest.json").exists()
    monkeypatch.setattr(SqlHead, "read", read)
    resumed = ws.execute(f"EXTRACT MARKED TO '{out}' (WORKERS 2)")
    assert [r[1:3] for r in resumed.rows] == [("done", 60_003)]
    manifest = json.loads((out / "db" / "public" / "keyless" / "_manifest.json").read_text())
    assert len(manifest["query"]["ranges"]) == 2 and manifest["snapshot"].get("resumed")
    assert ws.execute("RECONCILE LAST").message.endswith("all passed")


def test_manifests_are_strict_json_when_figures_are_not_finite(ws, pg_database, tmp_path):
    """A double precision column holding NaN or ±Infinity has a NaN or infinite sum and mean at the
    source: the manifests spell them as strings, since JSON has no NaN (``json.dump`` wrote a bare
    NaN that jq, JavaScript and other strict parsers refuse), and RECONCILE still compares them."""
    import psycopg

    with psycopg.connect(pg_database, autocommit=True) as con:
        for name, special in [("nan", "NaN"), ("inf", "Infinity"), ("neginf", "-Infinity")]:
            con.execute(f"CREATE TABLE {name} (id int PRIMARY KEY, d float8)")
            con.execute(f"INSERT INTO {name} SELECT i, CASE WHEN i = 7 THEN '{special}'::float8 ELSE i / 4.0 END "
                        f"FROM generate_series(1, 100) i")
    out = tmp_path / "out"
    ws.execute(f"ATTACH '{pg_database}' AS pg")
    assert {r[1] for r in ws.execute(f"EXTRACT pg.public.* TO '{out}'").rows} == {"done"}

    def refuse(constant):
        raise ValueError(f"not JSON: {constant}")

    manifests = sorted(out.rglob("*.json"))
    assert len(manifests) == 4  # three elements and the run
    for path in manifests:
        json.loads(path.read_text(), parse_constant=refuse)
    figures = {name: json.loads((out / "pg" / "public" / name / "_manifest.json").read_text())["source_figures"]
               for name in ("nan", "inf", "neginf")}
    assert [figures[name]["columns"]["d"]["mean_value"] for name in ("nan", "inf", "neginf")] == ["nan", "inf", "-inf"]
    result = ws.execute("RECONCILE LAST")
    assert result.message.endswith("all passed"), ws.execute(
        "SELECT * FROM reconciliations WHERE status = 'fail'").rows
    sums = ws.execute("SELECT ref, source_value FROM reconciliations WHERE check_name = 'sum(d)' ORDER BY ref").rows
    assert [value for _, value in sums] == ["inf", "nan", "-inf"], sums
