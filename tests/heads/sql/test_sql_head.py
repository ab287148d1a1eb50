"""SqlHead against the machine's real PostgreSQL: awkward identifiers, every mapped type, pushdown,
split, aggregates, read-only sessions and connection errors."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import psycopg
import pyarrow as pa
import pytest

from hydra.core.model import Element
from hydra.heads.base import HeadConnectionError, HeadError
from hydra.heads.sql.head import SqlHead
from support.sql_estates import ORDER_LINES, Q_LINES, SCHEMA_SQL
from support.quals import accepts, quals

U1 = uuid.UUID("8c5e2b1a-3f4d-4e6a-9b7c-1d2e3f4a5b6c")



@pytest.fixture
def pg(pg_database):
    with psycopg.connect(pg_database, autocommit=True) as con:
        con.execute(SCHEMA_SQL)
    return pg_database


@pytest.fixture
def head(pg):
    h = SqlHead("crm", pg)
    h.open()
    yield h
    h.close()


def elements(head) -> dict:
    return {e.parts: e for e in head.enumerate()}


def pred(text: str):
    """The Quals of a condition written in DuckDB's SQL."""
    return quals(text)


def rows(reader: pa.RecordBatchReader) -> list[dict]:
    return reader.read_all().to_pylist()


def test_enumerate_kinds_columns_keys(head):
    els = elements(head)
    assert els[ORDER_LINES].kind == "table"
    assert els[("Sales Ops", "select")].kind == "table"
    assert els[("Sales Ops", "Big Orders")].kind == "view"
    assert els[("Sales Ops", "moods")].kind == "materialized view"
    assert ("pg_catalog", "pg_class") not in els and not any(p[0] == "information_schema" for p in els)
    lines = els[ORDER_LINES]
    assert lines.key == ["id"]
    assert lines.row_count == 5 and lines.size_bytes > 0
    assert els[("Sales Ops", "moods")].size_bytes > 0
    types = {c.name: (c.type, c.source_type, c.note) for c in lines.columns}
    assert [c.name for c in lines.columns][:3] == ["id", "amount", "ratio"]
    assert types["amount"][:2] == ("DECIMAL(12,2)", "numeric(12,2)")
    assert types["created_at"][0] == "TIMESTAMP WITH TIME ZONE"
    assert types["uid"][0] == "UUID" and types["doc"][0] == "JSON"
    assert types["tags"][:2] == ("VARCHAR[]", "text[]")
    assert types["blob"][0] == "BLOB" and types["wait"][0] == "INTERVAL"
    assert types["mood"][:2] == ("VARCHAR", '"Sales Ops".mood')
    assert types["big"][0] == "DOUBLE" and "DOUBLE" in types["big"][2]
    assert types["cash"][0] == "DECIMAL(19,2)" and "money" in types["cash"][2]
    assert els[("public", "numbers")].key == ["n"]
    sel = els[("Sales Ops", "select")]
    assert [c.name for c in sel.columns] == ["Ünïcödé", "Mixed Case", "from"]
    assert sel.key is None


def test_schemas_option_limits_the_scan(pg):
    h = SqlHead("crm", pg, {"SCHEMAS": "public"})
    h.open()
    try:
        assert {e.parts[0] for e in h.enumerate()} == {"public"}
    finally:
        h.close()
    h = SqlHead("crm", pg, {"SYSTEM": "true"})
    h.open()
    try:
        assert ("pg_catalog", "pg_class") in {e.parts for e in h.enumerate()}
    finally:
        h.close()


EXPECTED_ROW1 = {
    "id": 1, "amount": Decimal("10.50"), "ratio": 0.25, "note": "plain",
    "created_at": dt.datetime(2024, 1, 2, 1, 4, 5, 123456, tzinfo=dt.timezone.utc),
    "day": dt.date(2024, 1, 2), "doc": '{"a": 1, "b": [true, null]}', "tags": ["x", "y z", None],
    "blob": b"\x00\xff\x10", "mood": "happy", "ok": True, "big": 12345678901234567890.123,
    "cash": Decimal("12.34"),
}


@pytest.mark.parametrize("bulk", ["auto", "binary", "copy", "client", "cursor"])
def test_read_every_type(pg, bulk):
    h = SqlHead("crm", pg, {"BULK": bulk})
    h.open()
    try:
        el = elements(h)[ORDER_LINES]
        reader = h.read(el)
        table = reader.read_all()
        assert table.schema.field("uid").type == pa.uuid()
        assert table.schema.field("created_at").type == pa.timestamp("us", tz="UTC")
        got = sorted(table.to_pylist(), key=lambda r: r["id"])
        assert len(got) == 5
        r1 = got[0]
        for key, value in EXPECTED_ROW1.items():
            assert r1[key] == value, key
        assert r1["uid"] == U1
        wait = r1["wait"]
        assert (wait.months, wait.days, wait.nanoseconds) == (14, 3, (4 * 3600 + 5 * 60 + 6.5) * 1e9)
        r2 = got[1]
        assert r2["note"] == 'comma, "quote"\nnewline' and r2["ratio"] == -1.5e300
        assert r2["uid"] is None and r2["tags"] == [] and r2["blob"] == b"" and r2["cash"] == Decimal("-5.00")
        assert (r2["wait"].months, r2["wait"].days, r2["wait"].nanoseconds) == (0, -1, 0)
        assert all(v is None for k, v in got[2].items() if k != "id")
        r4 = got[3]
        assert r4["note"] == "" and r4["tags"] == ["a,b", 'c"d'] and r4["doc"] == '"text"'
        assert r4["wait"].nanoseconds == 1000
        assert got[4]["note"] == "Ünïcödé ✓" and got[4]["tags"] == ["NULL"] and got[4]["blob"] == b"\\"
        assert got[4]["doc"] == "null" and got[4]["ok"] is None
    finally:
        h.close()


def test_read_awkward_identifiers_and_views(head):
    els = elements(head)
    got = rows(head.read(els[("Sales Ops", "select")]))
    assert got == [{"Ünïcödé": "ä", "Mixed Case": 1, "from": 2}, {"Ünïcödé": "b", "Mixed Case": 2, "from": None},
                   {"Ünïcödé": None, "Mixed Case": 3, "from": 4}]
    big = rows(head.read(els[("Sales Ops", "Big Orders")]))
    assert sorted(r["id"] for r in big) == [2, 5]
    moods = {r["mood"]: r["n"] for r in rows(head.read(els[("Sales Ops", "moods")]))}
    assert moods == {"happy": 1, "sad": 1, None: 1, "ok": 2}


def test_pushdown_projection_filter_limit(head):
    el = elements(head)[ORDER_LINES]
    preds = quals("amount >= 50", "note IS NOT NULL", "id IN (1, 2, 4, 5)", "NOT (ok = false) OR ok IS NULL")
    for p in preds:
        assert head.can_filter(el, p), p
    got = rows(head.read(el, ["id", "note"], preds))
    assert got == [{"id": 4, "note": ""}, {"id": 5, "note": "Ünïcödé ✓"}]
    assert len(rows(head.read(el, ["id"], pred("id BETWEEN 2 AND 5"), limit=2))) == 2
    got = rows(head.read(el, ["id"], quals("note LIKE 'comma%'", "day < DATE '2000-01-01'")))
    assert got == [{"id": 2}]
    got = rows(head.read(el, ["id"], pred("note = 'plain' OR note IN ('', 'x')")))
    assert sorted(r["id"] for r in got) == [1, 4]


def test_can_filter_refuses_what_it_cannot_render_exactly(head):
    el = elements(head)[ORDER_LINES]
    sel = elements(head)[("Sales Ops", "select")]
    for text in ["lower(note) = 'x'", "note < 'b'", "created_at > TIMESTAMP '2020-01-01 00:00:00'",
                 "big > 1", "cash > 1", "tags IS NULL AND doc = '{}'", "amount + 1 > 2", "uid = 'x'",
                 "t.id = 1", "nosuchcolumn = 1", "id = (SELECT 1)", "mood = 'nosuchlabel'",
                 "note LIKE 'a\\_b'"]:
        assert not accepts(head, el, text), text
    assert accepts(head, el, "created_at IS NULL")
    assert accepts(head, el, "day >= DATE '2024-01-01'")
    assert accepts(head, sel, '"Ünïcödé" = \'ä\' AND "Mixed Case" > 0 AND "from" IS NULL')
    got = rows(head.read(sel, None, pred('"Ünïcödé" = \'b\' AND "from" IS NULL')))
    assert got == [{"Ünïcödé": "b", "Mixed Case": 2, "from": None}]
    # case-insensitive column resolution, as DuckDB resolves identifiers
    assert rows(head.read(sel, ['"mixed case"'.strip('"')], pred("\"MIXED CASE\" = 3"))) == [{"Mixed Case": 3}]


def test_filtered_aggregate_equals_postgres(pg, head):
    import duckdb

    el = elements(head)[ORDER_LINES]
    assert accepts(head, el, "amount > 20") and not accepts(head, el, "mood <> 'sad'")
    reader = head.read(el, ["amount", "mood"], pred("amount > 20"))  # what the federation pushes
    con = duckdb.connect()
    con.register("r", reader)
    ours = con.execute("SELECT sum(amount), count(*) FROM r WHERE amount > 20 AND mood <> 'sad'").fetchone()
    with psycopg.connect(pg) as pc:
        theirs = pc.execute(f"SELECT sum(amount), count(*) FROM {Q_LINES} WHERE amount > 20 AND mood <> 'sad'").fetchone()
    assert ours == theirs == (Decimal("1099.99"), 2)


def test_split_covers_every_row_once(head):
    el = elements(head)[("public", "numbers")]
    ranges = head.split(el, 4)
    assert len(ranges) == 4
    seen = []
    for preds in ranges:
        assert all(head.can_filter(el, p) for p in preds)
        seen += [r["n"] for r in rows(head.read(el, ["n"], preds))]
    assert sorted(seen) == list(range(1, 1001))
    small = elements(head)[ORDER_LINES]
    assert head.split(small, 1) is None
    assert head.split(elements(head)[("Sales Ops", "select")], 3) is None  # no key


def test_split_on_a_date_key(pg):
    with psycopg.connect(pg, autocommit=True) as con:
        con.execute("CREATE TABLE days (d date PRIMARY KEY, v int); "
                    "INSERT INTO days SELECT date '2020-01-01' + g, g FROM generate_series(0, 365) g")
    h = SqlHead("crm", pg)
    h.open()
    try:
        el = elements(h)[("public", "days")]
        ranges = h.split(el, 3)
        assert len(ranges) == 3
        got = [r["v"] for preds in ranges for r in rows(h.read(el, ["v"], preds))]
        assert sorted(got) == list(range(366))
    finally:
        h.close()


def test_aggregates_match_postgres(pg, head):
    el = elements(head)[ORDER_LINES]
    agg = head.aggregates(el, el.columns)
    assert agg.row_count == 5 and agg.method == "postgresql aggregate query"
    a = agg.columns
    assert a["amount"] == {"null_count": 1, "distinct_count": 4, "min_value": "10.50", "max_value": "1000.00",
                           "sum_value": Decimal("1360.49"), "mean_value": pytest.approx(340.1225)}
    assert a["note"]["min_value"] == "" and a["note"]["max_value"] == "Ünïcödé ✓"  # binary order
    assert a["note"]["null_count"] == 1 and a["note"]["distinct_count"] == 4
    assert a["doc"] == {"null_count": 1}  # json: null counts only
    assert a["blob"]["null_count"] == 1 and "min_value" not in a["blob"]
    assert a["tags"]["null_count"] == 1
    assert a["ok"]["min_value"] == "false" and a["ok"]["max_value"] == "true"
    assert a["day"]["min_value"] == "1999-12-31" and a["day"]["max_value"] == "2030-06-30"
    assert a["cash"]["sum_value"] == Decimal("1000007.34")
    assert a["uid"]["distinct_count"] == 3
    with psycopg.connect(pg) as pc:
        n, s, mn = pc.execute(f"SELECT count(ratio), sum(ratio), min(created_at) FROM {Q_LINES}").fetchone()
    assert a["ratio"]["null_count"] == 5 - n and a["ratio"]["sum_value"] == s
    assert a["created_at"]["min_value"].startswith("1999-12-31 23:59:59")
    sel = elements(head)[("Sales Ops", "select")]
    agg = head.aggregates(sel, sel.columns)
    assert agg.columns["Ünïcödé"] == {"null_count": 1, "distinct_count": 2, "min_value": "b", "max_value": "ä"}
    assert agg.columns["from"]["sum_value"] == 6


def test_sessions_are_read_only_and_utc(head):
    state = rows(head.read(elements(head)[("public", "session_state")]))
    assert state == [{"read_only": "on", "tz": "UTC"}]
    cursor = SqlHead("crm", head.uri, {"BULK": "cursor"})
    cursor.open()
    try:
        assert rows(cursor.read(elements(cursor)[("public", "session_state")]))[0]["read_only"] == "on"
        with cursor.engine.connect() as conn, pytest.raises(Exception, match="read-only"):
            conn.exec_driver_sql("CREATE TABLE nope (x int)")
    finally:
        cursor.close()


def test_element_rebuilt_from_catalog_fields_only(head):
    """A reopened workspace gives the head only parts/kind (and perhaps columns): it describes again."""
    got = rows(head.read(Element(parts=("Sales Ops", "select"), kind="table"), ["from"]))
    assert got == [{"from": 2}, {"from": None}, {"from": 4}]
    with pytest.raises(HeadError, match="no table or view"):
        head.read(Element(parts=("Sales Ops", "nope"), kind="table"))


def test_read_errors_are_one_line(head):
    el = elements(head)[ORDER_LINES]
    with pytest.raises(HeadError, match="no column"):
        head.read(el, ["nope"])


@pytest.mark.parametrize("url_tail, words", [
    ("postgresql://postgres:s3cretpw@127.0.0.1:1/x", "cannot connect"),
    ("postgresql://postgres:s3cretpw@127.0.0.1:5432/no_such_db_hydra", "no_such_db_hydra"),
    ("postgresql://postgres:s3cretpw@no-such-host.invalid:5432/x", "cannot connect"),
])
def test_connection_errors_are_one_clear_line(url_tail, words):
    h = SqlHead("crm", url_tail)
    with pytest.raises(HeadConnectionError) as info:
        h.open()
    message = str(info.value)
    assert "\n" not in message and "s3cretpw" not in message and words in message
    assert message.startswith("crm: cannot connect to postgresql://postgres:***@")


def test_init_does_no_io_and_checks_options():
    SqlHead("x", "postgresql://nobody@256.256.256.256/db")  # would fail if it connected
    with pytest.raises(HeadError, match="BULK"):
        SqlHead("x", "postgresql://h/db", {"BULK": "fast"})
    assert SqlHead.claims_scheme("postgresql+psycopg") and SqlHead.claims_scheme("sqlite")
    assert not SqlHead.claims_scheme("s3")


def test_sqlite_generic_path(tmp_path):
    import sqlite3

    path = tmp_path / "x.db"
    con = sqlite3.connect(path)
    con.execute('CREATE TABLE "my table" (id INTEGER PRIMARY KEY, "na me" TEXT, v REAL, d DATE)')
    con.executemany('INSERT INTO "my table" VALUES (?, ?, ?, ?)', [(1, "a", 1.5, "2020-01-01"), (2, None, None, None)])
    con.execute('CREATE VIEW v AS SELECT id FROM "my table"')
    con.commit()
    con.close()
    h = SqlHead("lite", f"sqlite:///{path}")
    h.open()
    try:
        els = elements(h)
        assert els[("main", "my table")].kind == "table" and els[("main", "v")].kind == "view"
        el = els[("main", "my table")]
        assert el.key == ["id"]
        assert rows(h.read(el, None, pred('"na me" = \'a\''))) == [
            {"id": 1, "na me": "a", "v": 1.5, "d": dt.date(2020, 1, 1)}]
        assert h.aggregates(el, el.columns).columns["v"]["sum_value"] == 1.5
        with h.engine.connect() as conn, pytest.raises(Exception, match="readonly|read-only|query_only|attempt to write"):
            conn.exec_driver_sql('DELETE FROM "my table"')
    finally:
        h.close()


def test_aggregates_fail_naming_the_figure_the_source_cannot_compute(head):
    """A figure that cannot be computed fails the element, naming the column, never left out
    silently (issue 10, item 6); the mean is the sum over the count (AVG(float8) overflows)."""
    from hydra.core.model import Column
    from hydra.heads.base import HeadError

    el = elements(head)[("public", "numbers")]
    with pytest.raises(HeadError, match='cannot aggregate public.numbers: column ghost: column "ghost" does not exist'):
        head.aggregates(el, [*el.columns, Column("ghost", "INTEGER", "integer")])
    agg = head.aggregates(el, el.columns)
    assert agg.row_count == 1000 and agg.columns["n"]["mean_value"] == 500.5


def test_split_follows_the_histogram_of_a_skewed_key(pg):
    """Keys 1..900 dense and 901 far-flung keys up to 10^12: min/max cuts would put almost every row
    in the first range; histogram cuts keep the ranges comparable, and still cover every row."""
    with psycopg.connect(pg, autocommit=True) as con:
        con.execute("CREATE TABLE skew (k bigint PRIMARY KEY); "
                    "INSERT INTO skew SELECT g FROM generate_series(1, 900) g; "
                    "INSERT INTO skew SELECT g::bigint * 1000000000 FROM generate_series(1, 900) g; ANALYZE skew")
    h = SqlHead("crm", pg)
    h.open()
    try:
        el = elements(h)[("public", "skew")]
        ranges = h.split(el, 3)
        counts = [len(rows(h.read(el, ["k"], preds))) for preds in ranges]
        assert sum(counts) == 1800 and max(counts) < 1000
    finally:
        h.close()


@pytest.mark.parametrize("bulk", ["binary", "client", "copy", "cursor"])
def test_read_refused_by_the_server_is_one_line(pg, bulk):
    """A login without SELECT rights: every transport reports the server's refusal in one line."""
    import uuid as _uuid

    role = f"hydra_noread_{bulk}_{_uuid.uuid4().hex[:8]}"  # roles are cluster-wide: unique per run
    with psycopg.connect(pg, autocommit=True) as con:
        con.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'pw-{bulk}-123'")
        con.execute(f'GRANT USAGE ON SCHEMA "Sales Ops" TO {role}')
    try:
        url = pg.replace("postgresql://postgres@", f"postgresql://{role}:pw-{bulk}-123@")
        h = SqlHead("crm", url, {"BULK": bulk})
        h.open()
        el = elements(h)[ORDER_LINES]
        with pytest.raises(HeadError) as info:
            rows(h.read(el))
        message = str(info.value)
        assert "permission denied" in message and "\n" not in message and f"pw-{bulk}-123" not in message
        h.close()
    finally:
        with psycopg.connect(pg, autocommit=True) as con:
            con.execute(f'REVOKE ALL ON SCHEMA "Sales Ops" FROM {role}')
            con.execute(f"DROP ROLE {role}")


@pytest.mark.parametrize("bulk", ["auto", "cursor"])
def test_reading_no_columns_still_counts_rows(pg, bulk):
    h = SqlHead("crm", pg, {"BULK": bulk})
    h.open()
    try:
        el = elements(h)[("public", "numbers")]
        table = h.read(el, [], pred("n <= 300")).read_all()
        assert table.num_rows == 300 and table.num_columns == 0
    finally:
        h.close()


@pytest.mark.parametrize("bulk", ["binary", "client", "copy", "cursor"])
def test_a_keyless_table_splits_into_ctid_block_ranges(pg, bulk):
    """Without a key (or with a key that is neither integer nor date) a PostgreSQL table is cut
    into block ranges of ctid: every row, equal rows too, falls in exactly one range, whatever the
    transport; a view (no blocks) is not split."""
    with psycopg.connect(pg, autocommit=True) as con:
        con.execute("CREATE TABLE heap (v int, t text); "
                    "INSERT INTO heap SELECT g % 50, repeat('x', 100) FROM generate_series(1, 5000) g; "
                    "CREATE TABLE texty (k text PRIMARY KEY, v int); "
                    "INSERT INTO texty SELECT md5(g::text), g FROM generate_series(1, 3000) g; "
                    "CREATE VIEW heap_view AS SELECT * FROM heap")
    h = SqlHead("crm", pg, {"BULK": bulk})
    h.open()
    try:
        found = elements(h)
        heap, texty = found[("public", "heap")], found[("public", "texty")]
        ranges = h.split(heap, 3)
        assert len(ranges) == 3 and {q.column for quals in ranges for q in quals} == {"ctid"}
        assert ranges[0][0].op == "<" and ranges[-1][-1].op == ">="  # open at both ends
        counts = [len(rows(h.read(heap, ["v"], quals))) for quals in ranges]
        assert sum(counts) == 5000 and min(counts) > 1000, counts
        got = sorted(r["v"] for quals in h.split(texty, 2) for r in rows(h.read(texty, ["v"], quals)))
        assert got == list(range(1, 3001))
        assert h.split(found[("public", "heap_view")], 3) is None
    finally:
        h.close()


@pytest.mark.parametrize("nan", [False, True])
def test_numeric_figures_without_nullif_unless_a_nan(pg, monkeypatch, nan):
    """Numerics are aggregated without NULLIF(n, 'NaN') (a fifth of the query's CPU); a NaN makes
    MAX(n) NaN, and then the exact query gives the figures. Either way they equal the exact
    query's (a NaN read as NULL)."""
    from hydra.heads.sql import aggregates as sql_aggregates

    with psycopg.connect(pg, autocommit=True) as con:
        con.execute("CREATE TABLE nums (id int PRIMARY KEY, a numeric(10,2), b numeric(30,5), c numeric); "
                    "INSERT INTO nums VALUES (1, 1.25, 100000000000000000000.5, 3), (2, -7.5, NULL, 0.1), "
                    "(3, NULL, -2.25, NULL)" + (", (4, 'NaN', 1, 'NaN'), (5, 2, 'NaN', 2)" if nan else ""))
    h = SqlHead("crm", pg)
    h.open()
    try:
        el = elements(h)[("public", "nums")]
        seen = []
        real = h.raw_connection

        class Spied:  # a pooled connection whose cursors note every statement they run
            def __init__(self, wrapped):
                self.wrapped = wrapped

            def __getattr__(self, name):
                return getattr(self.wrapped, name)

            def cursor(self):
                cursor = Spied(self.wrapped.cursor())
                cursor.execute = lambda sql, *a: (seen.append(sql), cursor.wrapped.execute(sql, *a))[1]
                return cursor

        monkeypatch.setattr(h, "raw_connection", lambda: Spied(real()))
        got = h.aggregates(el, el.columns).columns
        cols = sql_aggregates.known_columns(el, el.columns)
        exact_sql, slots = sql_aggregates.aggregate_sql(h, el, cols)
        with psycopg.connect(pg) as con:
            exact = sql_aggregates.from_row(h, cols, slots, con.execute(exact_sql).fetchone()).columns
    finally:
        h.close()
    assert repr(got) == repr(exact)  # (a NaN sum is not equal to itself)
    assert sum("NULLIF" in sql for sql in seen) == (1 if nan else 0)
    assert got["a"]["null_count"] == (2 if nan else 1) and got["a"]["max_value"] == ("2.00" if nan else "1.25")
    assert got["b"]["sum_value"] == Decimal("100000000000000000000.5") - Decimal("2.25") + (1 if nan else 0)
