"""The spine: statements, refs, the workspace catalog, the files head, federation and pushdown."""

from __future__ import annotations

import gzip
import json
import subprocess

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hydra.core.errors import HydraError, ReadOnlyError, StatementError
from hydra.core.model import Column, Element
from hydra.heads.base import Head
from hydra.core.refs import quote_ident
from hydra.core.statement import split_statements
from hydra.catalog.tables import CORE_TABLES, ddl_folder
from hydra.statements.workspace import Workspace


@pytest.fixture
def folder(tmp_path):
    """A client's folder: a sub-folder with a space, ; delimiters, a malformed file, JSON Lines,
    Parquet, gzip and unicode/quote file names."""
    root = tmp_path / "data"
    (root / "sub dir").mkdir(parents=True)
    (root / "customers.csv").write_text("id,name,country\n1,Ann,NO\n2,Bob,SE\n3,Cy,NO\n")
    (root / "sub dir" / "orders.csv").write_text(
        "order_id;customer_id;amount\n10;1;5.5\n11;1;7.25\n12;2;1.0\n13;3;9.0\n")
    (root / "broken.csv").write_bytes(b"id,name\n1,\xff\xfeAnn\n2,Bob\n")
    (root / "ragged.csv").write_text('id,name,amount\n1,Ann,3.5\n2,"Bob,12\n3,Cy,4,extra,more\n')
    (root / "events.jsonl").write_text("".join(json.dumps({"id": i, "kind": "click"}) + "\n" for i in range(5)))
    pq.write_table(pa.table({"sku": ["a", "b"], "price": [1.5, 2.5]}), root / "products.parquet")
    with gzip.open(root / "archive.csv.gz", "wt") as fh:
        fh.write("x,y\n1,2\n3,4\n")
    (root / "Ünïcödé 'q'.csv").write_text("k\n1\n")
    (root / "notes.txt").write_text("not data")
    return root


# -- statements ---------------------------------------------------------------------------------


def test_split_statements_keeps_lines_strings_and_dot_commands():
    script = "SELECT 1;\n.mode csv\nSELECT 'a;b' AS x;  -- c;\n\nMARK f.*\n  WHERE x = 1;\n.timer on\n"
    stmts = split_statements(script)
    assert [s.text for s in stmts] == ["SELECT 1", ".mode csv", "SELECT 'a;b' AS x", "MARK f.*\n  WHERE x = 1",
                                       ".timer on"]
    assert [s.line for s in stmts] == [1, 2, 3, 5, 7]
    assert [s.dot for s in stmts] == [False, True, False, False, True]


def test_unterminated_string_is_one_clear_error():
    with pytest.raises(StatementError, match="cannot read the SQL"):
        split_statements("SELECT 'oops")


@pytest.mark.parametrize("name, quoted", [
    ("orders", "orders"), ("Orders", '"Orders"'), ("select", '"select"'), ("a b.csv", '"a b.csv"'),
    ('Order "Lines"', '"Order ""Lines"""'), ("ünï", '"ünï"'),
])
def test_quote_ident(name, quoted):
    assert quote_ident(name) == quoted


def test_every_virtual_table_column_is_commented(ws):
    from hydra.heads.registry import all_heads

    tables = sorted(p.stem for p in ddl_folder().glob("*.sql"))
    head_tables = {t: cls for cls in all_heads() for t in cls.tables}  # from each head's own package
    assert set(CORE_TABLES) <= set(tables) and {"s3_objects", "rds_instances"} <= set(head_tables)
    ws.create_tables(tables)
    for cls in set(head_tables.values()):  # head tables too (normally created when such a head attaches)
        ws.create_tables(cls.tables, cls)
    created = {t for (t,) in ws.query(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' AND NOT internal")}
    assert created == set(tables) | set(head_tables)  # one file per table, named after it
    missing = ws.query("SELECT table_name, column_name FROM duckdb_columns() WHERE schema_name = 'main' "
                       "AND NOT internal AND (comment IS NULL OR comment = '')")
    assert missing == []


# -- the files head -----------------------------------------------------------------------------


def test_attach_folder_lists_every_data_file(ws, folder):
    result = ws.execute(f"ATTACH '{folder}' AS f")
    assert result.message == "attached f: 8 elements"
    rows = dict(ws.query("SELECT ref, kind FROM elements WHERE source = 'f'"))
    assert rows == {
        'f."customers.csv"': "csv", 'f."sub dir/orders.csv"': "csv", 'f."broken.csv"': "csv",
        'f."ragged.csv"': "csv", 'f."events.jsonl"': "jsonl", 'f."products.parquet"': "parquet",
        'f."archive.csv.gz"': "csv", "f.\"Ünïcödé 'q'.csv\"": "csv",
    }
    errors = dict(ws.query("SELECT name, error FROM elements WHERE error IS NOT NULL"))
    assert set(errors) == {"broken.csv", "ragged.csv"}
    assert "LENIENT" in errors["ragged.csv"]
    exact = dict(ws.query("SELECT name, row_count_exact FROM elements"))
    assert exact["products.parquet"] is True and exact["customers.csv"] is False
    assert ws.query("SELECT row_count FROM elements WHERE name = 'products.parquet'") == [(2,)]
    cols = ws.query("SELECT name, type FROM columns WHERE ref = 'f.\"sub dir/orders.csv\"' ORDER BY position")
    assert cols == [("order_id", "BIGINT"), ("customer_id", "BIGINT"), ("amount", "DOUBLE")]
    assert ws.query("SELECT kind, element_count, status FROM sources") == [("files", 8, "ok")]


def test_refs_read_and_join_across_files(ws, folder):
    ws.execute(f"ATTACH '{folder}' AS f")
    result = ws.execute(
        'SELECT c.name, sum(o.amount) AS total FROM f."customers.csv" c '
        'JOIN f."sub dir/orders.csv" o ON o.customer_id = c.id WHERE c.country = \'NO\' '
        'GROUP BY ALL ORDER BY c.name')
    assert result.columns == ["name", "total"]
    assert result.rows == [("Ann", 12.75), ("Cy", 9.0)]
    assert ws.execute("SELECT count(*) FROM f.\"Ünïcödé 'q'.csv\"").rows == [(1,)]
    assert ws.execute('FROM f."archive.csv.gz" SELECT sum(y)').rows == [(6,)]
    assert ws.execute('SELECT count(*) FROM F."events.jsonl"').rows == [(5,)]  # unquoted: any case
    assert ws.execute('SUMMARIZE f."products.parquet"').rows[0][0] == "sku"
    # a ragged file reads when attached leniently
    ws.execute(f"ATTACH '{folder}' AS loose (LENIENT true)")
    assert ws.execute('SELECT count(*) FROM loose."ragged.csv"').rows == [(3,)]


def test_attach_glob_and_single_file(ws, folder):
    ws.execute(f"ATTACH '{folder}/**/*.csv' AS g")
    names = {r[0] for r in ws.query("SELECT name FROM elements WHERE source = 'g'")}
    assert "sub dir/orders.csv" in names and "events.jsonl" not in names
    ws.execute(f"ATTACH '{folder}/products.parquet' AS p")
    assert ws.query("SELECT ref FROM elements WHERE source = 'p'") == [('p."products.parquet"',)]


def test_ten_thousand_rows_stream_through_a_file(ws, tmp_path):
    (tmp_path / "big.csv").write_text("n\n" + "".join(f"{i}\n" for i in range(10_000)))
    ws.execute(f"ATTACH '{tmp_path}' AS f")
    assert ws.execute('SELECT count(*), sum(n) FROM f."big.csv" WHERE n % 2 = 0').rows == [(5000, 24_995_000)]


# -- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize("statement, message", [
    ("ATTACH '/no/such/folder' AS x", "folder or file not found: /no/such/folder"),
    ("ATTACH 'gopher://host/x' AS x", "unknown URI scheme 'gopher'"),
    ("ATTACH '/tmp' AS x (TYPE nosuchkind)", "unknown source TYPE 'nosuchkind'"),
    ("ATTACH '/tmp' AS x (COLOUR blue)", "unknown option COLOUR"),
    ("ATTACH '/tmp'", "ATTACH: expected AS"),
    ("DETACH nosuch", "no source named 'nosuch'"),
    ("MARK", "MARK: expected a ref"),
])
def test_bad_input_is_one_line_and_changes_nothing(ws, statement, message):
    before = ws.query("SELECT count(*) FROM sources")
    with pytest.raises(HydraError) as caught:
        ws.execute(statement)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    assert ws.query("SELECT count(*) FROM sources") == before


def test_duplicate_source_and_missing_ref_suggestions(ws, folder):
    ws.execute(f"ATTACH '{folder}' AS f")
    with pytest.raises(StatementError, match="already attached"):
        ws.execute(f"ATTACH '{folder}' AS f")
    with pytest.raises(StatementError, match=r'did you mean f."customers.csv"\?'):
        ws.execute('SELECT * FROM f."customer.csv"')
    with pytest.raises(StatementError, match="already names a database, schema or table"):
        ws.execute(f"ATTACH '{folder}' AS elements")


@pytest.mark.parametrize("statement", [
    "INSERT INTO f.\"customers.csv\" VALUES (9, 'Eve', 'DK')",
    "DELETE FROM f.\"customers.csv\" WHERE id = 1",
    "UPDATE f.\"customers.csv\" SET name = 'x'",
    "DROP TABLE f.\"customers.csv\"",
    "COPY f.\"customers.csv\" FROM '/tmp/x.csv'",
    "TRUNCATE f.\"customers.csv\"",
])
def test_writes_to_a_source_are_refused(ws, folder, statement):
    ws.execute(f"ATTACH '{folder}' AS f")
    before = (folder / "customers.csv").read_bytes()
    with pytest.raises(ReadOnlyError, match="never writes to a source"):
        ws.execute(statement)
    assert (folder / "customers.csv").read_bytes() == before


def test_copying_a_ref_into_the_workspace_is_allowed(ws, folder, tmp_path):
    ws.execute(f"ATTACH '{folder}' AS f")
    ws.execute('CREATE TABLE local_customers AS SELECT * FROM f."customers.csv"')
    assert ws.query("SELECT count(*) FROM local_customers") == [(3,)]
    ws.execute(f"COPY f.\"customers.csv\" TO '{tmp_path}/out.csv'")
    assert (tmp_path / "out.csv").read_text().splitlines()[0] == "id,name,country"


# -- marks --------------------------------------------------------------------------------------


def test_mark_globs_where_and_unmark(ws, folder):
    ws.execute(f"ATTACH '{folder}' AS f")
    assert ws.execute("MARK f.*").message.startswith("marked 8 elements")
    ws.execute('UNMARK f."broken.csv", f."ragged.csv"')
    assert ws.query("SELECT count(*) FROM marks") == [(6,)]
    ws.execute('MARK f."customers.csv" WHERE country = \'NO\'')
    assert ws.query("SELECT filter FROM marks WHERE ref = 'f.\"customers.csv\"'") == [("country = 'NO'",)]
    with pytest.raises(StatementError, match="has no column 'colour'"):
        ws.execute("MARK f.\"customers.csv\" WHERE colour = 'red'")
    ws.execute('UNMARK f."sub dir/*"')
    assert ws.query("SELECT count(*) FROM marks") == [(5,)]
    with pytest.raises(StatementError, match="matches no element"):
        ws.execute("MARK f.\"nothing*\"")
    ws.execute("UNMARK MARKED")
    assert ws.query("SELECT count(*) FROM marks") == [(0,)]
    # marking is just data, too
    ws.execute("INSERT INTO marks (source, ref) SELECT source, ref FROM elements WHERE kind = 'parquet'")
    assert [e.parts for _, e in ws.select(None)] == [("products.parquet",)]


def test_detach_and_refresh(ws, folder):
    ws.execute(f"ATTACH '{folder}' AS f")
    ws.execute("MARK f.*")
    (folder / "new.csv").write_text("a\n1\n")
    assert ws.execute("REFRESH f").message == "refreshed f: 9 elements"
    assert ws.execute('SELECT * FROM f."new.csv"').rows == [(1,)]
    ws.execute("DETACH f")
    assert ws.query("SELECT count(*) FROM elements") == [(0,)]
    assert ws.query("SELECT count(*) FROM marks") == [(0,)]


# -- workspace persistence, locking -------------------------------------------------------------


def test_a_second_process_reopens_the_workspace_and_joins(tmp_path, folder, hydra_cmd):
    workspace = tmp_path / "w.duckdb"
    ws = Workspace.open(str(workspace))
    ws.execute(f"ATTACH '{folder}' AS f")
    ws.close()
    out = subprocess.run(
        [*hydra_cmd, str(workspace), "-c",
         'SELECT c.name, o.amount FROM f."customers.csv" c JOIN f."sub dir/orders.csv" o '
         "ON o.customer_id = c.id WHERE o.amount > 5 ORDER BY o.amount"],
        capture_output=True, text=True, check=True)
    assert out.stdout == "name,amount\nAnn,5.5\nAnn,7.25\nCy,9.0\n"


def test_a_locked_workspace_says_so_and_offers_a_snapshot(tmp_path, folder, hydra_cmd):
    workspace = tmp_path / "w.duckdb"
    ws = Workspace.open(str(workspace))
    ws.execute(f"ATTACH '{folder}' AS f")
    ws.con.execute("CHECKPOINT")
    try:
        locked = subprocess.run([*hydra_cmd, str(workspace), "-c", "SELECT 1"], capture_output=True, text=True)
        assert locked.returncode == 1
        assert "is open in another Hydra process" in locked.stderr and "--read-only" in locked.stderr
        assert len(locked.stderr.strip().splitlines()) == 1
        snap = subprocess.run([*hydra_cmd, "--read-only", str(workspace), "-c", "SELECT count(*) AS n FROM elements"],
                              capture_output=True, text=True)
        assert snap.stdout == "n\n8\n", snap.stderr
        assert "read-only snapshot" in snap.stderr
    finally:
        ws.close()


def test_passwords_never_reach_the_workspace(tmp_path):
    workspace = tmp_path / "w.duckdb"
    ws = Workspace.open(str(workspace))
    with pytest.raises(HydraError):
        ws.execute("ATTACH 'gopher://u:hunter2secret@h/db' AS x")
    ws.close()
    assert b"hunter2secret" not in workspace.read_bytes()


# -- pushdown, with a recording head ------------------------------------------------------------


class RecordingHead(Head):
    """A head over an in-memory Arrow table that records what was pushed into it."""

    kind = "recording"
    calls: list = []

    def enumerate(self):
        yield Element(("s", "t"), "table", columns=[Column("id", "BIGINT"), Column("v", "VARCHAR"),
                                                    Column("w", "DOUBLE")])

    def can_filter(self, element, predicate):
        return "LIKE" not in predicate.sql(dialect="duckdb")

    def read(self, element, columns=None, predicates=None, limit=None):
        RecordingHead.calls.append((columns, [p.sql(dialect="duckdb") for p in predicates or []], limit))
        table = pa.table({"id": list(range(100)), "v": [f"v{i}" for i in range(100)], "w": [i / 2 for i in range(100)]})
        con = duckdb.connect()
        con.register("t", table)
        where = " AND ".join(predicates and [p.sql(dialect="duckdb") for p in predicates] or ["TRUE"])
        sql = f"SELECT {', '.join(columns) if columns else '*'} FROM t WHERE {where}"
        return con.sql(sql + (f" LIMIT {limit}" if limit else "")).to_arrow_reader()


@pytest.fixture
def rec(ws, monkeypatch):
    import hydra.heads.registry

    monkeypatch.setattr(hydra.heads.registry, "head_for", lambda uri, kind=None: RecordingHead)
    monkeypatch.setattr(hydra.heads.registry, "head_class", lambda kind: RecordingHead)
    ws.execute("ATTACH 'mem://x' AS r")
    RecordingHead.calls = []
    return ws


@pytest.mark.parametrize("sql, rows, pushed", [
    ("SELECT v FROM r.s.t WHERE id = 3", [("v3",)], (["id", "v"], ["id = 3"], None)),
    ("SELECT id FROM r.s.t LIMIT 2", [(0,), (1,)], (["id"], [], 2)),
    ("SELECT id FROM r.s.t WHERE id > 5 LIMIT 2 OFFSET 1", [(7,), (8,)], (["id"], ["id > 5"], 3)),
    ("SELECT id FROM r.s.t WHERE v LIKE 'v9%' AND id > 95 LIMIT 1", [(96,)], (["id", "v"], ["id > 95"], None)),
    ("SELECT * FROM r.s.t WHERE id = 1", [(1, "v1", 0.5)], (None, ["id = 1"], None)),
    ("SELECT count(*) FROM r.s.t x WHERE x.w >= 49", [(2,)], (["w"], ["w >= 49"], None)),
    ("SELECT id FROM r.s.t ORDER BY id DESC LIMIT 1", [(99,)], (["id"], [], None)),
])
def test_pushdown_narrows_reads_and_results_stay_right(rec, sql, rows, pushed):
    assert rec.execute(sql).rows == rows
    assert RecordingHead.calls == [pushed]


def test_outer_join_filters_on_the_null_side_are_not_pushed(rec, tmp_path):
    (tmp_path / "k.csv").write_text("id\n1\n2\n200\n")
    rec.con.execute(f"CREATE TABLE keys AS FROM read_csv('{tmp_path}/k.csv')")
    result = rec.execute("SELECT k.id, t.v FROM keys k LEFT JOIN r.s.t t ON t.id = k.id WHERE t.v IS NULL")
    assert result.rows == [(200, None)]
    assert RecordingHead.calls[0][1] == []


def test_self_join_reads_twice(rec):
    assert rec.execute("SELECT count(*) FROM r.s.t a JOIN r.s.t b ON a.id = b.id + 1 WHERE a.id < 10").rows == [(9,)]
    assert len(RecordingHead.calls) == 2


def test_attach_or_replace_and_if_not_exists_make_scripts_rerunnable(ws, folder, tmp_path):
    ws.execute(f"ATTACH '{folder}' AS f")
    ws.execute('MARK f."customers.csv"')
    other = tmp_path / "other"
    other.mkdir()
    (other / "customers.csv").write_text("id\n1\n")
    assert ws.execute(f"ATTACH IF NOT EXISTS '{other}' AS f").message == "f is already attached"
    assert ws.query("SELECT element_count FROM sources") == [(8,)]
    assert ws.execute(f"ATTACH OR REPLACE '{other}' AS f").message == "attached f: 1 element"
    assert ws.query("SELECT count(*), min(uri) FROM sources") == [(1, str(other))]
    assert ws.query("SELECT count(*) FROM elements") == [(1,)]
    assert ws.query("SELECT ref FROM marks") == [('f."customers.csv"',)]
    assert ws.execute('SELECT * FROM f."customers.csv"').rows == [(1,)]
    # a failed replace leaves the old source as it was
    with pytest.raises(HydraError):
        ws.execute(f"ATTACH OR REPLACE '{tmp_path}/missing' AS f")
    assert ws.query("SELECT count(*), min(uri) FROM sources") == [(1, str(other))]


def test_duckdb_attach_of_a_database_file_passes_through(ws, tmp_path):
    ws.execute(f"ATTACH '{tmp_path}/wh.duckdb' AS wh")
    ws.execute("CREATE TABLE wh.t AS SELECT 42 AS x")
    assert ws.execute("SELECT x FROM wh.t").rows == [(42,)]
    assert ws.query("SELECT count(*) FROM sources") == [(0,)]


def test_placeholders_are_stored_and_re_read_from_the_environment(tmp_path, folder, hydra_cmd, monkeypatch):
    import os

    monkeypatch.setenv("HYDRA_TEST_DATA", str(folder))
    workspace = tmp_path / "w.duckdb"
    ws = Workspace.open(str(workspace))
    ws.execute("ATTACH '${HYDRA_TEST_DATA}' AS f")
    assert ws.query("SELECT uri FROM sources") == [("${HYDRA_TEST_DATA}",)]
    ws.close()
    env = {**os.environ, "HYDRA_TEST_DATA": str(folder)}
    ok = subprocess.run([*hydra_cmd, str(workspace), "-c", 'SELECT count(*) AS n FROM f."customers.csv"'],
                        capture_output=True, text=True, env=env)
    assert ok.stdout == "n\n3\n", ok.stderr
    del env["HYDRA_TEST_DATA"]
    missing = subprocess.run([*hydra_cmd, str(workspace), "-c", 'SELECT count(*) FROM f."customers.csv"'],
                             capture_output=True, text=True, env=env)
    assert missing.returncode == 1
    assert "environment variable HYDRA_TEST_DATA is not set" in missing.stderr


def test_redact_uri_masks_passwords_but_keeps_placeholders():
    from hydra.core.secrets import redact_uri

    assert redact_uri("postgresql://u:pw@h:5432/db?sslmode=require&password=x") == \
        "postgresql://u:***@h:5432/db?sslmode=require&password=***"
    assert redact_uri("postgresql://u:${PGPASS}@h/db") == "postgresql://u:${PGPASS}@h/db"
    assert redact_uri("mssql+pyodbc://u:p%40ss@dsn?driver=ODBC") == "mssql+pyodbc://u:***@dsn?driver=ODBC"
    assert redact_uri("/data/a b") == "/data/a b"


def test_counting_rows_reads_a_single_column(rec):
    assert rec.execute("SELECT count(*) FROM r.s.t").rows == [(100,)]
    assert RecordingHead.calls == [(["id"], [], None)]


def test_piped_results_stream_and_keep_their_views_until_read(ws, tmp_path):
    from hydra.shell.session import Session
    import io

    (tmp_path / "n.csv").write_text("n\n" + "".join(f"{i}\n" for i in range(50_000)))
    ws.execute(f"ATTACH '{tmp_path}' AS f")
    result = ws.run(split_statements('SELECT n FROM f."n.csv" ORDER BY n')[0], stream=True)
    assert result._rows is None  # nothing fetched yet
    first = next(result.iter_rows())
    assert first == (0,)
    result.close()
    out = io.StringIO()
    Session(ws, "csv", out=out, err=io.StringIO()).run_text('SELECT n FROM f."n.csv" ORDER BY n')
    assert out.getvalue().count("\n") == 50_001


def test_long_listings_show_a_live_count_on_a_terminal_only(monkeypatch):
    import io
    import sys
    import time

    from hydra.catalog.progress import with_progress as _with_progress

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    def slow():
        for i in range(4):
            time.sleep(0.1)
            yield i

    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    assert list(_with_progress(slow(), "listing f", after=0.15)) == [0, 1, 2, 3]
    assert "listing f:" in screen.getvalue() and "elements" in screen.getvalue()
    pipe = io.StringIO()
    monkeypatch.setattr(sys, "stderr", pipe)
    assert list(_with_progress(slow(), "listing f", after=0.0)) == [0, 1, 2, 3]
    assert pipe.getvalue() == ""


def test_join_using_columns_are_read(rec):
    result = rec.execute("SELECT count(*) FROM r.s.t a JOIN r.s.t b USING (id) WHERE a.w > 10")
    assert result.rows == [(79,)]
    assert all("id" in (columns or ["id"]) for columns, _, _ in RecordingHead.calls)


def test_natural_join_reads_every_column(rec):
    assert rec.execute("SELECT count(*) FROM r.s.t a NATURAL JOIN r.s.t b").rows == [(100,)]
    assert RecordingHead.calls == [(None, [], None), (None, [], None)]


def test_columns_regex_and_struct_fields_are_not_narrowed_away(rec):
    assert rec.execute("SELECT COLUMNS('^(v|w)$') FROM r.s.t WHERE id = 2").rows == [("v2", 1.0)]
    assert RecordingHead.calls[-1][0] is None
    assert rec.execute("SELECT max(v) FROM r.s.t t").rows == [("v99",)]
