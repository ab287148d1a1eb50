"""Whole servers (issue 22), against the real PostgreSQL and MariaDB: a URL without a database (or
DATABASES) attaches every database the login reaches. Other helpers create databases on the same
servers at the same time, so every assertion is filtered to this module's uuid-suffixed names."""

from __future__ import annotations

import uuid

import psycopg
import pymysql
import pytest
import sqlglot

from hydra.core.errors import HydraError

from support.services import MYSQL_URL, PG_URL

S = uuid.uuid4().hex[:8]
SALES, CRM, WEIRD = f"hs_sales_{S}", f"hs_crm_{S}", f"Weird DB {S}"
LOCKED, CLOSED = f"hs_locked_{S}", f"hs_closed_{S}"
ROLE = f"hs_role_{S}"
OURS = (SALES, CRM, WEIRD, LOCKED, CLOSED)


def _pg(database: str, **kw):
    return psycopg.connect(PG_URL, dbname=database, autocommit=True, **kw)  # a keyword: names with spaces


@pytest.fixture(scope="module")
def server():
    """Five databases: three readable (one with awkward names), one the role may not CONNECT to,
    one that allows no connections at all; a role that holds only what PUBLIC and its grants give."""
    with _pg("postgres") as admin:
        admin.execute(f'CREATE ROLE "{ROLE}" LOGIN')
        for name in OURS:
            admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with _pg(SALES) as con:
            con.execute("CREATE TABLE orders (id int PRIMARY KEY, customer_id int, amount numeric(10,2));"
                        "INSERT INTO orders SELECT g, g % 3 + 1, g * 1.5 FROM generate_series(1, 30) g")
        with _pg(CRM) as con:
            con.execute("CREATE TABLE customers (id int PRIMARY KEY, name text);"
                        "INSERT INTO customers VALUES (1, 'Ada'), (2, 'Bob'), (3, 'Cy')")
        with _pg(WEIRD) as con:
            con.execute('CREATE SCHEMA "Sales Ops"; CREATE TABLE "Sales Ops"."Order Details" '
                        '(id int PRIMARY KEY, "Unit Price" numeric(8,2), "Ünïcödé" text);'
                        """INSERT INTO "Sales Ops"."Order Details" VALUES (1, 9.5, 'é'), (2, 1.25, NULL)""")
        with _pg(LOCKED) as con:
            con.execute("CREATE TABLE secret (id int)")
        for name, schema in ((SALES, "public"), (CRM, "public"), (WEIRD, "Sales Ops")):
            with _pg(name) as con:
                con.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO "{ROLE}";'
                            f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO "{ROLE}"')
        with _pg("postgres") as admin:
            admin.execute(f'REVOKE CONNECT ON DATABASE "{LOCKED}" FROM PUBLIC')
            admin.execute(f'ALTER DATABASE "{CLOSED}" ALLOW_CONNECTIONS false')
        yield PG_URL.replace("postgres@", f"{ROLE}@", 1)  # no database: the whole server
    finally:
        with _pg("postgres") as admin:
            for name in OURS:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'DROP ROLE IF EXISTS "{ROLE}"')


def _ours(ws, sql: str) -> list[tuple]:
    return [r for r in ws.query(sql) if S in str(r[0])]


@pytest.mark.slow  # lists every database on the shared server (other helpers' too): 3-6 s under load
def test_every_table_of_every_readable_database_is_an_element(ws, server):
    """No database in the URL: each readable database's tables are srv.<database>.<schema>.<table>;
    `databases` says why the two others are not read."""
    attached = ws.execute(f"ATTACH '{server}' AS srv")
    assert "not readable" in attached.message and "the databases table says why" in attached.message
    refs = {r[0] for r in _ours(ws, "SELECT ref FROM elements WHERE source = 'srv'")}
    assert refs == {f"srv.{SALES}.public.orders", f"srv.{CRM}.public.customers",
                    f'srv."{WEIRD}"."Sales Ops"."Order Details"'}
    rows = {r[0]: r[1:] for r in _ours(ws, "SELECT database, accessible, reason, table_count, owner, encoding "
                                           "FROM databases WHERE source = 'srv'")}
    assert set(rows) == set(OURS)
    assert rows[LOCKED][:3] == (False, "this login has no CONNECT privilege on it", None)
    assert rows[CLOSED][:3] == (False, "it does not allow connections (pg_database.datallowconn is false)", None)
    for name in (SALES, CRM, WEIRD):
        assert rows[name] == (True, None, 1, "postgres", "UTF8"), name
    sizes = dict(_ours(ws, "SELECT database, size_bytes FROM databases WHERE source = 'srv'"))
    with _pg(SALES) as con:
        assert sizes[SALES] == con.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    assert sizes[LOCKED] is None and sizes[CLOSED] is None  # asked on each database's own connection
    columns = ws.query("SELECT name FROM columns WHERE source = 'srv' AND ref = ? ORDER BY position",
                       [f'srv."{WEIRD}"."Sales Ops"."Order Details"'])
    assert [c[0] for c in columns] == ["id", "Unit Price", "Ünïcödé"]


def test_a_join_across_three_databases_of_the_server(ws, server):
    ws.execute(f"ATTACH '{server}' AS srv (DATABASES 'hs_*_{S},Weird DB {S}')")
    rows = ws.execute(f"""
        SELECT c.name, count(*) AS orders, sum(o.amount) AS amount, max(d."Unit Price") AS price
        FROM srv.hs_sales_{S}.public.orders o
        JOIN srv.hs_crm_{S}.public.customers c ON c.id = o.customer_id
        JOIN srv."Weird DB {S}"."Sales Ops"."Order Details" d ON d.id = 1
        WHERE o.id <= 6 GROUP BY c.name ORDER BY c.name""").rows
    # orders 1..6 go to customers 2, 3, 1, 2, 3, 1 with amounts 1.5 × id
    assert [(r[0], r[1], float(r[2]), float(r[3])) for r in rows] == [
        ("Ada", 2, 13.5, 9.5), ("Bob", 2, 7.5, 9.5), ("Cy", 2, 10.5, 9.5)]


def test_mark_extract_reconcile_across_databases(ws, server, tmp_path):
    ws.execute(f"ATTACH '{server}' AS srv (DATABASES 'hs_*_{S},Weird DB {S}')")
    ws.execute(f'MARK srv.hs_sales_{S}.*, srv.hs_crm_{S}.*, srv."Weird DB {S}".*')
    extract = ws.execute(f"EXTRACT MARKED TO '{tmp_path}' (WORKERS 2)")
    status = {r[0]: r[1] for r in extract.rows}
    assert status == {f"srv.{SALES}.public.orders": "done", f"srv.{CRM}.public.customers": "done",
                      f'srv."{WEIRD}"."Sales Ops"."Order Details"': "done"}, extract.rows
    reconcile = ws.execute("RECONCILE LAST")
    assert {r[0]: r[1] for r in reconcile.rows} == dict.fromkeys(status, "pass"), reconcile.rows
    ws.execute(f'PROFILE srv.hs_sales_{S}.public.orders, srv."Weird DB {S}".*')
    figures = {(ref, c): (rows, total) for ref, c, rows, total in ws.query(
        "SELECT ref, column_name, row_count, sum_value FROM stats WHERE error IS NULL AND column_name IN "
        "('amount', 'Unit Price')")}
    assert figures[(f"srv.{SALES}.public.orders", "amount")] == (30, "697.50")  # 1.5 × (1 + … + 30)
    assert figures[(f'srv."{WEIRD}"."Sales Ops"."Order Details"', "Unit Price")] == (2, "10.75")


def test_each_database_connection_is_read_only_and_opened_when_first_read(ws, server):
    ws.execute(f"ATTACH '{server}' AS srv (DATABASES '{SALES}')")
    head = ws.head("srv")
    assert not head.inner[SALES].is_open  # closed after listing: nothing held until a read
    assert ws.execute(f"SELECT count(*) FROM srv.{SALES}.public.orders").rows[0][0] == 30
    inner = head.inner[SALES]
    assert inner.is_open
    raw = inner.raw_connection()  # the connections a read opens (no SQLAlchemy engine: direct)
    try:
        cur = raw.cursor()
        cur.execute("SELECT current_setting('default_transaction_read_only'), current_database()")
        assert cur.fetchone() == ("on", SALES)
    finally:
        raw.close()
    with inner.engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW default_transaction_read_only").scalar() == "on"
        assert conn.exec_driver_sql("SELECT current_database()").scalar() == SALES
        with pytest.raises(Exception, match="read-only transaction"):  # the server refuses, not only Hydra
            conn.exec_driver_sql("CREATE TABLE hydra_wrote_here (id int)")
    with pytest.raises(HydraError, match="never writes to a source"):
        ws.execute(f"DELETE FROM srv.{SALES}.public.orders")
    with _pg(SALES) as con:
        assert con.execute("SELECT count(*) FROM orders").fetchone()[0] == 30


def test_only_the_databases_used_last_keep_idle_connections(ws, server, monkeypatch):
    """A read in a third database closes the idle connections of the one used longest ago; that
    one reads again on fresh connections."""
    from hydra.heads.sql import server as whole

    monkeypatch.setattr(whole, "POOLED_DATABASES", 2)
    ws.execute(f"ATTACH '{server}' AS srv (DATABASES 'hs_*_{S},Weird DB {S}')")
    head = ws.head("srv")
    sales = f"SELECT count(*) FROM srv.{SALES}.public.orders"
    assert ws.execute(sales).rows[0][0] == 30
    sales_head = head.inner[SALES]
    assert sales_head.idle_connections() >= 1  # pooled after the read
    ws.execute(f"SELECT count(*) FROM srv.{CRM}.public.customers")
    assert head.inner[SALES] is sales_head and sales_head.idle_connections() >= 1  # still among the last two
    ws.execute(f'SELECT count(*) FROM srv."{WEIRD}"."Sales Ops"."Order Details"')
    assert sales_head.idle_connections() == 0 and sales_head.is_open  # let go, still usable
    assert ws.execute(sales).rows[0][0] == 30


def test_databases_that_match_nothing_are_one_clear_line_and_no_secret(ws, server):
    url = server.replace(f"{ROLE}@", f"{ROLE}:s3cr3t-pw@")
    with pytest.raises(HydraError) as err:
        ws.execute(f"ATTACH '{url}' AS srv (DATABASES 'no_such_{S}*')")
    message = str(err.value)
    assert "matches no database" in message and "\n" not in message and "s3cr3t-pw" not in message
    assert not ws.query("SELECT * FROM sources WHERE name = 'srv'")
    ws.execute(f"ATTACH '{url}' AS srv (DATABASES 'hs_*_{S}')")  # the locked one's reason: no password
    assert all("s3cr3t-pw" not in str(r) for r in ws.query("SELECT * FROM databases"))


def test_a_reopened_workspace_reads_an_element_of_the_server(tmp_path, server):
    from hydra.statements.workspace import Workspace

    path = str(tmp_path / "w.duckdb")
    first = Workspace.open(path)
    first.execute(f"ATTACH '{server}' AS srv (DATABASES '{WEIRD}')")
    first.close()
    again = Workspace.open(path)
    try:
        rows = again.execute(f'SELECT "Ünïcödé" FROM srv."{WEIRD}"."Sales Ops"."Order Details" ORDER BY id').rows
        assert [r[0] for r in rows] == ["é", None]
    finally:
        again.close()


# -- MariaDB: every schema but the system ones, my.<schema>.<table> -------------------------------

MY_A, MY_B = f"hs_shop_{S}", f"hs_ledger_{S}"


@pytest.fixture(scope="module")
def mariadb():
    con = pymysql.connect(host="127.0.0.1", port=3306, user="root", autocommit=True)
    try:
        with con.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{MY_A}` CHARACTER SET utf8mb4")
            cur.execute(f"CREATE DATABASE `{MY_B}` CHARACTER SET utf8mb4")
            cur.execute(f"CREATE TABLE `{MY_A}`.`Order Details` (id INT PRIMARY KEY, qty INT)")
            cur.execute(f"INSERT INTO `{MY_A}`.`Order Details` VALUES (1, 3), (2, 4)")
            cur.execute(f"CREATE TABLE `{MY_B}`.entries (id INT PRIMARY KEY, order_id INT, amount DECIMAL(8,2))")
            cur.execute(f"INSERT INTO `{MY_B}`.entries VALUES (1, 1, 10.00), (2, 2, 2.50), (3, 2, 1.00)")
        yield MYSQL_URL
    finally:
        with con.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{MY_A}`")
            cur.execute(f"DROP DATABASE IF EXISTS `{MY_B}`")
        con.close()


def test_mariadb_without_a_database_lists_every_user_schema(ws, mariadb):
    ws.execute(f"ATTACH '{mariadb}' AS my")
    refs = {r[0] for r in _ours(ws, "SELECT ref FROM elements WHERE source = 'my'")}
    assert refs == {f'my.{MY_A}."Order Details"', f"my.{MY_B}.entries"}
    systems = ws.query("SELECT count(*) FROM elements WHERE source = 'my' AND split_part(path, '.', 1) "
                       "IN ('mysql', 'information_schema', 'performance_schema', 'sys')")
    assert systems == [(0,)]
    rows = {r[0]: r[1:] for r in _ours(ws, "SELECT database, accessible, table_count, encoding FROM databases "
                                           "WHERE source = 'my'")}
    assert rows == {MY_A: (True, 1, "utf8mb4"), MY_B: (True, 1, "utf8mb4")}
    names = {r[0] for r in ws.query("SELECT database FROM databases WHERE source = 'my'")}
    assert not names & {"mysql", "information_schema", "performance_schema", "sys"}


def test_mariadb_databases_option_join_and_extract(ws, mariadb, tmp_path):
    ws.execute(f"ATTACH '{mariadb}' AS my (DATABASES 'hs_*_{S}')")
    assert {r[0] for r in ws.query("SELECT database FROM databases WHERE source = 'my'")} == {MY_A, MY_B}
    assert ws.query("SELECT count(*) FROM elements WHERE source = 'my'") == [(2,)]
    rows = ws.execute(f'SELECT d.id, d.qty, sum(e.amount) FROM my.{MY_A}."Order Details" d '
                      f"JOIN my.{MY_B}.entries e ON e.order_id = d.id GROUP BY ALL ORDER BY 1").rows
    assert [(r[0], r[1], float(r[2])) for r in rows] == [(1, 3, 10.0), (2, 4, 3.5)]
    ws.execute("MARK my.*")
    extract = ws.execute(f"EXTRACT MARKED TO '{tmp_path}' (WORKERS 2)")
    assert {r[1] for r in extract.rows} == {"done"} and len(extract.rows) == 2, extract.rows
    reconcile = ws.execute("RECONCILE LAST")
    assert [r[1] for r in reconcile.rows] == ["pass", "pass"], reconcile.rows


# -- SQL Server: compiled T-SQL (no server here) ---------------------------------------------------


def test_mssql_three_part_catalog_queries_parse_as_tsql():
    from hydra.heads.sql import catalog as cat
    from hydra.heads.sql.databases import MSSQL_DATABASES

    for template in (cat.MSSQL_OBJECTS, cat.MSSQL_COLUMNS, cat.MSSQL_KEYS):
        sql = cat.mssql_sql(template, ["dbo"], database="Order Details]", size=cat.MSSQL_SIZE)
        parsed = sqlglot.parse_one(sql, read="tsql")
        tables = list(parsed.find_all(sqlglot.exp.Table))
        assert tables and all(t.catalog == "Order Details]" and t.db == "sys" for t in tables), sql
        local = sqlglot.parse_one(cat.mssql_sql(template, None), read="tsql")
        assert all(not t.catalog for t in local.find_all(sqlglot.exp.Table))
    listed = sqlglot.parse_one(MSSQL_DATABASES.replace(":system", "0"), read="tsql")
    assert {t.name for t in listed.find_all(sqlglot.exp.Table)} == {"databases", "master_files"}


def test_mssql_url_without_database_is_a_whole_server():
    from hydra.heads.registry import head_for
    from hydra.heads.sql.server import SqlServerHead

    cls = head_for("mssql+pyodbc://u@host/?driver=ODBC+Driver+18+for+SQL+Server")
    whole = cls("ms", "mssql+pyodbc://u@host/?driver=ODBC+Driver+18+for+SQL+Server", {})
    one = cls("ms", "mssql+pyodbc://u@host/sales?driver=ODBC+Driver+18+for+SQL+Server", {})
    assert isinstance(whole, SqlServerHead) and not isinstance(one, SqlServerHead)
    picked = cls("ms", "mssql+pyodbc://u@host/sales?driver=x", {"DATABASES": "sales_*"})
    assert isinstance(picked, SqlServerHead) and picked.wanted == ["sales_*"]


def test_completion_offers_databases_then_schemas_then_tables(ws, server):
    from hydra.shell.repl.completion import CatalogCache, HydraCompleter

    ws.execute(f"ATTACH '{server}' AS srv (DATABASES 'Weird DB {S},{SALES}')")
    cache = CatalogCache(ws.con)
    try:
        completer = HydraCompleter(cache)

        def offered(before):
            return [(c.text, c.display_meta_text) for c in completer.complete(before)]

        assert offered("SELECT * FROM srv.hs_sales") == [
            (f"srv.{SALES}.", "database"), (f"srv.{SALES}.public.orders", "table")]
        assert offered('SELECT * FROM srv."Weird')[0] == (f'srv."{WEIRD}".', "database")
        assert offered(f'SELECT * FROM srv."{WEIRD}".') == [
            (f'srv."{WEIRD}"."Sales Ops".', "schema"), (f'srv."{WEIRD}"."Sales Ops"."Order Details"', "table")]
        columns = completer.complete("SELECT d.", f' FROM srv."{WEIRD}"."Sales Ops"."Order Details" d')
        assert {c.text for c in columns} >= {"id", '"Unit Price"', '"Ünïcödé"'}
    finally:
        cache.close()


def test_the_progress_display_counts_the_databases_listed(server, monkeypatch):
    import io
    import sys

    from hydra.catalog.progress import with_progress
    from hydra.heads.registry import head_for

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    head = head_for(server)("srv", server, {"DATABASES": f"hs_*_{S},Weird DB {S}"})
    head.open()
    try:
        elements = list(with_progress(head.enumerate(), "listing srv", after=0.0, detail=head.listing_detail))
    finally:
        head.close()
    assert len(elements) == 3
    assert head.listing_detail() == "5 of 5 databases"  # sales, crm, locked, closed, Weird DB
    assert "listing srv (" in screen.getvalue() and "of 5 databases" in screen.getvalue()
