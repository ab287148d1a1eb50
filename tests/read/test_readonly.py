"""Read-only: DuckDB's own ways to reach a source (its extensions, secrets, ATTACH, COPY/EXPORT/
IMPORT DATABASE…) are refused with one line, the workspace connection cannot load or install an
extension, and writes to a source's refs are refused even where sqlglot cannot parse them."""

from __future__ import annotations

import sqlite3

import duckdb
import psycopg
import pytest

from hydra.core.errors import HydraError, ReadOnlyError
from hydra.statements.workspace import Workspace

EXTENSION_SETTINGS = ("autoinstall_known_extensions", "autoload_known_extensions", "allow_community_extensions",
                      "allow_unsigned_extensions", "allow_persistent_secrets")


@pytest.fixture
def folder(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "t.csv").write_text("id,v\n1,a\n")
    return data


@pytest.fixture
def sources(ws, folder, pg_database):
    """A workspace with a files source ``f`` and a PostgreSQL source ``crm`` (sales.customers)."""
    with psycopg.connect(pg_database, autocommit=True) as con:
        con.execute("CREATE SCHEMA sales; CREATE TABLE sales.customers (id int PRIMARY KEY, name text);"
                    "INSERT INTO sales.customers VALUES (1, 'Ann')")
    ws.execute(f"ATTACH '{folder}' AS f")
    ws.execute(f"ATTACH '{pg_database}' AS crm")
    return ws


def refused(ws, statement: str) -> str:
    """The one line a refused statement gives; the workspace's DuckDB loaded nothing new."""
    before = ws.query("SELECT extension_name FROM duckdb_extensions() WHERE loaded ORDER BY 1")
    with pytest.raises(HydraError) as caught:
        ws.execute(statement)
    message = str(caught.value)
    assert "\n" not in message and "download" not in message.lower()
    assert ws.query("SELECT extension_name FROM duckdb_extensions() WHERE loaded ORDER BY 1") == before
    return message


# -- the connection ----------------------------------------------------------------------------


def test_the_workspace_connection_loads_and_installs_nothing_on_its_own(tmp_path):
    for ws in (Workspace.open(":memory:"), Workspace.open(str(tmp_path / "w.duckdb"))):
        try:
            for setting in EXTENSION_SETTINGS:
                assert ws.query(f"SELECT current_setting('{setting}')") == [(False,)], setting
            # locked in DuckDB itself, not only by Hydra's checks: not even Hydra can turn them on
            for sql in ("SET autoload_known_extensions = true", "RESET autoinstall_known_extensions",
                        "PRAGMA allow_community_extensions = true", "SET lock_configuration = false",
                        "SET GLOBAL extension_directory = '/tmp'"):
                with pytest.raises(duckdb.Error, match="locked|Cannot change"):
                    ws.con.execute(sql)
        finally:
            ws.close()


def test_the_command_lines_throwaway_workspace_is_locked_too(hydra_cmd):
    import subprocess

    out = subprocess.run([*hydra_cmd, ":memory:", "-c", "SELECT current_setting('autoload_known_extensions')::VARCHAR AS a, "
                          "current_setting('lock_configuration')::VARCHAR AS l"], capture_output=True, text=True, timeout=60)
    assert out.stdout == "a,l\nfalse,true\n", out.stderr


@pytest.mark.parametrize("statement", [
    "SET autoload_known_extensions = true",
    "SET GLOBAL autoinstall_known_extensions TO true",
    "SET SESSION allow_community_extensions = true",
    "RESET autoload_known_extensions",
    "RESET GLOBAL autoinstall_known_extensions",
    "PRAGMA autoload_known_extensions = true",
    "SET extension_directory = '/tmp/ext'",
    "SET custom_extension_repository = 'http://example.com'",
    "SET allow_persistent_secrets = true",
    "SET secret_directory = '/tmp'",
    "SET lock_configuration = false",
])
def test_extension_and_secret_settings_cannot_be_turned_back_on(ws, statement):
    assert "Hydra keeps this DuckDB setting fixed" in refused(ws, statement)
    for setting in EXTENSION_SETTINGS:
        assert ws.query(f"SELECT current_setting('{setting}')") == [(False,)]


def test_harmless_settings_still_change(ws):
    for statement in ("SET threads = 2", "SET TimeZone = 'Europe/Oslo'", "SET memory_limit = '1GB'",
                      "PRAGMA threads = 3", "SET VARIABLE x = 41", "SET preserve_insertion_order = false",
                      "PRAGMA enable_profiling", "PRAGMA disable_profiling", "RESET threads"):
        ws.execute(statement)
    assert ws.execute("SELECT current_setting('TimeZone'), getvariable('x') + 1").rows == [("Europe/Oslo", 42)]
    assert ws.execute("PRAGMA table_info('sources')").rows


# -- DuckDB's ways to reach a source -------------------------------------------------------------


@pytest.mark.parametrize("statement, reason", [
    ("ATTACH DATABASE 'host=127.0.0.1 dbname=postgres user=postgres' AS x (TYPE postgres)", "DuckDB's postgres extension"),
    ("ATTACH 'host=127.0.0.1 dbname=postgres user=postgres' AS x (TYPE postgres, READ_ONLY)", "ATTACH 'postgresql://"),
    ("ATTACH 'mysql:host=127.0.0.1 user=root' AS x (TYPE mysql)", "ATTACH 'mysql://"),
    ("ATTACH DATABASE IF NOT EXISTS 'x.sqlite' AS x (TYPE sqlite)", "ATTACH 'sqlite:///"),
    ("ATTACH 'x.db' AS x (TYPE ducklake)", "DuckDB's ducklake extension"),
    ("ATTACH DATABASE 'sqlite:x.sqlite'", "only local DuckDB database files"),
    ("ATTACH DATABASE 'postgres:dbname=postgres' AS x", "only local DuckDB database files"),
    ("ATTACH DATABASE 'https://example.com/x.duckdb' AS x (READ_ONLY)", "only local DuckDB database files"),
    ("ATTACH 'https://example.com/x.duckdb' AS x", "unknown URI scheme 'https'"),  # Hydra's ATTACH
    ("ATTACH DATABASE 'md:'", "only local DuckDB database files"),
    ("ATTACH 'md:my_db' AS x (TYPE motherduck)", "DuckDB's motherduck extension"),
    ("INSTALL postgres", "does not install or load DuckDB extensions"),
    ("INSTALL httpfs FROM community", "does not install or load DuckDB extensions"),
    ("FORCE INSTALL postgres_scanner", "does not install or load DuckDB extensions"),
    ("LOAD postgres", "does not install or load DuckDB extensions"),
    ("LOAD '/tmp/postgres_scanner.duckdb_extension'", "does not install or load DuckDB extensions"),
    ("UPDATE EXTENSIONS", "does not install or load DuckDB extensions"),
    ("UPDATE EXTENSIONS (postgres_scanner)", "does not install or load DuckDB extensions"),
    ("EXPLAIN ANALYZE INSTALL postgres", "does not install or load DuckDB extensions"),
    ("CREATE SECRET (TYPE postgres, HOST '127.0.0.1', PASSWORD 'pw')", "CREATE SECRET"),
    ("CREATE OR REPLACE PERSISTENT SECRET s (TYPE s3, KEY_ID 'a', SECRET 'b')", "CREATE SECRET"),
    ("CREATE TEMPORARY SECRET IF NOT EXISTS s (TYPE mysql)", "CREATE SECRET"),
    ("CREATE EXTENSION REPOSITORY example.com", "EXTENSION REPOSITORY"),
    ("SELECT * FROM postgres_scan('host=127.0.0.1 user=postgres dbname=postgres', 'public', 't')", "postgres_scan()"),
    ("FROM postgres_query('x', 'SELECT 1')", "postgres_query()"),
    ("SELECT * FROM mysql_query('m', 'SELECT 1')", "mysql_query()"),
    ("SELECT * FROM sqlite_scan('x.sqlite', 't')", "sqlite_scan()"),
    ("CALL postgres_attach('host=127.0.0.1 user=postgres dbname=postgres')", "postgres_attach()"),
    ("CALL sqlite_attach('x.sqlite')", "sqlite_attach()"),
    ("CREATE VIEW v AS SELECT * FROM \"postgres_scan\"('h', 'public', 't')", "postgres_scan()"),
    ("CREATE MACRO m() AS TABLE FROM mysql_query('m', 'SELECT 1')", "mysql_query()"),
    ("IMPORT DATABASE '/tmp'", "IMPORT DATABASE runs the folder's SQL scripts"),
    ("EXPLAIN ANALYZE ATTACH 'x.db' AS x (TYPE sqlite)", "EXPLAIN ATTACH: run the ATTACH itself"),
])
def test_duckdbs_own_ways_out_are_refused_with_one_line(ws, statement, reason):
    assert reason in refused(ws, statement)


def test_writing_into_a_source_through_duckdb_is_refused(sources, folder, tmp_path):
    for statement in ("COPY FROM DATABASE crm TO memory", "COPY FROM DATABASE memory TO crm",
                      "EXPORT DATABASE crm TO '/tmp/x'"):
        assert "crm is a Hydra source, not a DuckDB database" in refused(sources, statement)
    for statement in (f"COPY (SELECT 1 AS id) TO '{folder}/new.csv'", f"COPY (SELECT 1) TO '{folder}'",
                      f"EXPORT DATABASE '{folder}/export'", f"COPY sources TO '{folder}/sub/x.parquet' (FORMAT parquet)"):
        assert "would write into source f" in refused(sources, statement)
    assert sorted(p.name for p in folder.iterdir()) == ["t.csv"]
    # elsewhere, COPY and EXPORT work as DuckDB's
    sources.execute(f"COPY (SELECT 1 AS id) TO '{tmp_path}/out.csv'")
    sources.execute(f"EXPORT DATABASE '{tmp_path}/export'")
    assert (tmp_path / "out.csv").read_text() == "id\n1\n" and (tmp_path / "export" / "schema.sql").exists()


def test_an_sqlite_or_other_file_cannot_be_attached_through_duckdb(ws, tmp_path):
    """DuckDB would recognise an SQLite file by its header and open it with its sqlite extension."""
    lite = tmp_path / "client.sqlite"
    with sqlite3.connect(lite) as con:
        con.execute("CREATE TABLE t (x)")
    assert "is not a DuckDB database file" in refused(ws, f"ATTACH DATABASE '{lite}' AS c")
    (tmp_path / "notes.ddb").write_text("not a database")
    assert "is not a DuckDB database file" in refused(ws, f"ATTACH '{tmp_path}/notes.ddb' AS c")


# -- DuckDB's ATTACH of DuckDB files: the rule ------------------------------------------------------


def test_duckdbs_attach_of_duckdb_files_follows_the_rule(ws, tmp_path):
    """New file: created, yours. Existing file: READ_ONLY unless you write READ_WRITE. ``:memory:``
    and DETACH work as in DuckDB; a DuckDB file is recognised by its header whatever its name."""
    ws.execute(f"ATTACH '{tmp_path}/mine.duckdb' AS mine")  # a new file
    ws.execute("CREATE TABLE mine.t AS SELECT 1 AS x")
    ws.execute("DETACH mine")
    (tmp_path / "mine.duckdb").rename(tmp_path / "client.db")
    ws.execute(f"ATTACH '{tmp_path}/client.db' AS client")  # an existing one: read-only
    assert ws.execute("SELECT x FROM client.t").rows == [(1,)]
    with pytest.raises(HydraError, match="read-only"):
        ws.execute("INSERT INTO client.t VALUES (2)")
    ws.execute("DETACH DATABASE client")
    ws.execute(f"ATTACH DATABASE '{tmp_path}/client.db' AS client (READ_WRITE)")  # "it is mine"
    ws.execute("INSERT INTO client.t VALUES (2)")
    ws.execute("DETACH client")
    ws.execute(f"ATTACH '{tmp_path}/client.db' AS again (READ_ONLY false)")
    assert ws.execute("SELECT count(*) FROM again.t").rows == [(2,)]
    ws.execute("ATTACH ':memory:' AS scratch")
    ws.execute("CREATE TABLE scratch.t AS SELECT 1 AS x")


def test_duckdbs_attach_cannot_take_a_sources_name(sources, tmp_path):
    assert "already names a Hydra source" in refused(sources, f"ATTACH '{tmp_path}/x.duckdb' AS crm")


def test_hydras_own_attach_still_works(ws, folder, pg_database):
    ws.execute(f"ATTACH '{folder}' AS f")
    ws.execute(f"ATTACH '{pg_database}' AS crm (TYPE sql)")
    ws.execute(f"ATTACH OR REPLACE '{folder}' AS f (TYPE files)")
    assert ws.query("SELECT name, kind FROM sources ORDER BY name") == [("crm", "sql"), ("f", "files")]
    assert ws.execute('SELECT v FROM f."t.csv"').rows == [("a",)]
    ws.execute("DETACH f")


# -- writes to a source's refs (issue 11, case 9) ----------------------------------------------------


@pytest.mark.parametrize("statement, expected", [
    ("CREATE INDEX i ON crm.sales.customers (id)", "crm.sales.customers belongs to source crm"),
    ("CREATE UNIQUE INDEX IF NOT EXISTS i ON crm.sales.customers (name)", "crm.sales.customers belongs to source crm"),
    ("COMMENT ON TABLE crm.sales.customers IS 'x'", "crm.sales.customers belongs to source crm"),
    ("CREATE TABLE crm.sales.newt (id int)", "cannot write crm.sales.newt: source crm is read-only"),
    ("CREATE TABLE crm.sales.newt AS SELECT 1 AS x", "cannot write crm.sales.newt: source crm is read-only"),
    ("CREATE VIEW crm.sales.v AS SELECT 1 AS x", "cannot write crm.sales.v: source crm is read-only"),
    ("CREATE MACRO crm.sales.m() AS 1", "cannot write crm.sales.m: source crm is read-only"),
    ("CREATE SCHEMA crm.newschema", "cannot write crm.newschema: source crm is read-only"),
    ("DROP SCHEMA crm.sales", "source crm is read-only"),
    ("CREATE TYPE crm.sales.mood AS ENUM ('a')", "CREATE: crm is a source, and Hydra never writes to a source"),
])
def test_writes_to_a_source_are_refused_as_writes(sources, statement, expected):
    message = refused(sources, statement)
    assert expected in message and "never writes to a source" in message
    if "newt" in statement:
        assert "CREATE TABLE t AS FROM" not in message  # no copy suggested of a table that does not exist
    assert sources.execute("SELECT count(*) FROM crm.sales.customers").rows == [(1,)]
    with psycopg.connect(sources.source_row("crm")["uri"]) as con:
        assert con.execute("SELECT count(*) FROM pg_indexes WHERE schemaname = 'sales'").fetchone() == (1,)
        assert con.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'sales'").fetchone() == (1,)


def test_write_refusals_are_read_only_errors(sources):
    with pytest.raises(ReadOnlyError):
        sources.execute("CREATE INDEX i ON crm.sales.customers (id)")
