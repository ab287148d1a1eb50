"""SqlHead against the machine's real MariaDB: awkward identifiers, MySQL types (unsigned, enum, zero
dates), pushdown, split, aggregates, read-only sessions, wrong password."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pymysql
import pytest

from hydra.heads.base import HeadConnectionError
from hydra.heads.sql.head import SqlHead
from support.quals import accepts, quals
from support.sql_estates import MYSQL_SETUP as SETUP


def _connect(url):
    name = url.rsplit("/", 1)[1]
    return pymysql.connect(host="127.0.0.1", port=3306, user="root", database=name, autocommit=True)


def _execute(url, *statements):
    """Run ``statements`` in order on one connection to the test database (its set-up)."""
    con = _connect(url)
    try:
        with con.cursor() as cur:
            for stmt in statements:
                cur.execute(stmt)
    finally:
        con.close()


@pytest.fixture
def my(mysql_database):
    _execute(mysql_database, *SETUP)
    return mysql_database


@pytest.fixture(params=["auto", "cursor"])
def head(my, request):
    h = SqlHead("shop", my, {"BULK": request.param})
    h.open()
    yield h
    h.close()


def elements(head):
    return {e.parts: e for e in head.enumerate()}


def pred(text):
    """The Quals of a condition written in DuckDB's SQL."""
    return quals(text)


def rows(reader):
    return reader.read_all().to_pylist()


def test_enumerate(head, my):
    db = my.rsplit("/", 1)[1]
    els = elements(head)
    assert {p[0] for p in els} == {db}  # the URL's database only
    lines = els[(db, 'Order "Lines"')]
    assert lines.kind == "table" and lines.key == ["id"]
    assert els[(db, "Big Orders")].kind == "view"
    types = {c.name: (c.type, c.source_type, c.note) for c in lines.columns}
    assert types["id"][:2] == ("UINTEGER", "int(10) unsigned")
    assert types["big"][0] == "UBIGINT" and types["tiny"][0] == "TINYINT"
    assert types["flag"][:2] == ("VARCHAR", "enum('a','b c')")
    assert types["day"][0] == "DATE" and "zero dates" in types["day"][2]
    assert types["amount"][0] == "DECIMAL(12,2)" and types["dur"][0] == "INTERVAL"
    assert types["uid"][0] == "UUID" and types["bin"][0] == "BLOB"
    assert [c.name for c in els[(db, "select")].columns] == ["Ünïcödé", "Mixed Case", "from", "a`b"]


def test_read_types_zero_dates_unsigned(head, my):
    db = my.rsplit("/", 1)[1]
    got = sorted(rows(head.read(elements(head)[(db, 'Order "Lines"')])), key=lambda r: r["id"])
    assert len(got) == 4
    r1, r2, r3, r4 = got
    assert r1["big"] == 18446744073709551615 and r1["tiny"] == -128 and r1["amount"] == Decimal("10.50")
    assert r1["created"] == dt.datetime(2024, 1, 2, 3, 4, 5, 123456) and r1["day"] == dt.date(2024, 1, 2)
    assert r1["flag"] == "b c" and r1["bin"] == b"\x00\xff" and r1["doc"] == '{"a": 1}'
    assert r1["ts"] == dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    assert r1["uid"] == uuid.UUID("8c5e2b1a-3f4d-4e6a-9b7c-1d2e3f4a5b6c")
    assert r1["yr"] == 2024 and r1["bits"] == 10
    d = r1["dur"]
    assert (d.months, d.days, d.nanoseconds) == (0, 0, -3723 * 1_000_000_000)  # a duration: '-01:02:03'
    assert r2["created"] is None and r2["day"] is None  # zero dates → NULL
    assert r2["note"] == 'tab\there, "quote", \\ back\nslash' and r2["bin"] == b""
    assert r2["dur"].nanoseconds == (838 * 3600 + 59 * 60 + 59) * 1_000_000_000 and r2["ratio"] is None
    assert all(v is None for k, v in r3.items() if k != "id")
    assert r4["note"] == "NULL" and r4["tiny"] == 0  # the string 'NULL' is not a NULL


def test_awkward_identifiers_pushdown(head, my):
    db = my.rsplit("/", 1)[1]
    sel = elements(head)[(db, "select")]
    assert rows(head.read(sel)) == [{"Ünïcödé": "ä", "Mixed Case": 1, "from": 2, "a`b": 3},
                                    {"Ünïcödé": "B", "Mixed Case": 2, "from": None, "a`b": None},
                                    {"Ünïcödé": None, "Mixed Case": 3, "from": 4, "a`b": 5}]
    p = pred('"Mixed Case" >= 2 AND "a`b" IS NULL')
    assert all(head.can_filter(sel, q) for q in p)
    assert rows(head.read(sel, ["from"], p)) == [{"from": None}]
    # MySQL compares text case-insensitively and pads spaces: string predicates stay in DuckDB
    assert not accepts(head, sel, "\"Ünïcödé\" = 'b'")
    lines = elements(head)[(db, 'Order "Lines"')]
    assert not accepts(head, lines, "day > DATE '2000-01-01'")  # zero dates differ
    assert rows(head.read(lines, ["id"], quals("amount BETWEEN 50 AND 300", "big > 0"), limit=5)) == [{"id": 4}]


def test_split_and_aggregates(head, my):
    db = my.rsplit("/", 1)[1]
    nums = elements(head)[(db, "numbers")]
    ranges = head.split(nums, 3)
    seen = [r["n"] for preds in ranges for r in rows(head.read(nums, ["n"], preds))]
    assert sorted(seen) == list(range(1, 501))
    lines = elements(head)[(db, 'Order "Lines"')]
    agg = head.aggregates(lines, lines.columns)
    assert agg.row_count == 4 and agg.method == "mysql aggregate query"
    a = agg.columns
    assert a["amount"]["sum_value"] == Decimal("360.49") and a["amount"]["null_count"] == 1
    assert a["big"]["max_value"] == "18446744073709551615"
    assert a["note"]["min_value"] == "NULL" and a["note"]["distinct_count"] == 3
    sel = elements(head)[(db, "select")]
    s = head.aggregates(sel, sel.columns).columns
    assert s["Ünïcödé"] == {"null_count": 1, "distinct_count": 2, "min_value": "B", "max_value": "ä"}
    assert s["a`b"]["sum_value"] == 8


def test_sessions_read_only(head, my):
    with head.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT @@session.tx_read_only, @@session.time_zone").one() == (1, "+00:00")
        with pytest.raises(Exception, match="READ ONLY"):
            conn.exec_driver_sql("INSERT INTO numbers VALUES (1000, 'x')")
    con = _connect(my)
    with con.cursor() as cur:
        cur.execute("SELECT count(*) FROM numbers")
        assert cur.fetchone()[0] == 500
    con.close()


def test_wrong_password_one_line(my):
    con = _connect(my)
    user = f"hydra_u_{uuid.uuid4().hex[:6]}"
    with con.cursor() as cur:
        cur.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY 'right-pass-123'")
        cur.execute(f"CREATE USER '{user}'@'localhost' IDENTIFIED BY 'right-pass-123'")
    try:
        db = my.rsplit("/", 1)[1]
        h = SqlHead("shop", f"mysql+pymysql://{user}:wrong-pass-456@127.0.0.1:3306/{db}")
        with pytest.raises(HeadConnectionError) as info:
            h.open()
        msg = str(info.value)
        assert "\n" not in msg and "wrong-pass-456" not in msg and "Access denied" in msg
        ok = SqlHead("shop", f"mysql://{user}:right-pass-123@127.0.0.1:3306/")
        ok.open()
        ok.close()
    finally:
        with con.cursor() as cur:
            cur.execute(f"DROP USER '{user}'@'%'")
            cur.execute(f"DROP USER '{user}'@'localhost'")
        con.close()


def test_geometry_reads_as_wkt(head, my):
    _execute(my,
             "CREATE TABLE places (id INT PRIMARY KEY, p POINT, `where` POLYGON)",
             "INSERT INTO places VALUES (1, POINT(1, 2), NULL), (2, NULL, ST_GeomFromText('POLYGON((0 0,1 0,1 1,0 0))'))")
    db = my.rsplit("/", 1)[1]
    el = elements(head)[(db, "places")]
    assert {c.name: c.note for c in el.columns}["p"] == "point read as WKT text"
    assert rows(head.read(el)) == [{"id": 1, "p": "POINT(1 2)", "where": None},
                                   {"id": 2, "p": None, "where": "POLYGON((0 0,1 0,1 1,0 0))"}]


def test_a_keyless_table_is_read_whole(my):
    """MySQL has no ctid: a table without a key is not split (README: why), and reads whole."""
    db = my.rsplit("/", 1)[1]
    _execute(my,
             "CREATE TABLE heap (v INT, t VARCHAR(20))",
             "INSERT INTO heap SELECT seq % 50, CONCAT('x', seq) FROM seq_1_to_3000")
    h = SqlHead("shop", my)
    h.open()
    try:
        heap = elements(h)[(db, "heap")]
        assert heap.key is None or heap.key == []
        assert h.split(heap, 3) is None
        assert len(rows(h.read(heap, ["v"], []))) == 3000
    finally:
        h.close()


def test_time_text_to_intervals_vectorised():
    """TIME text as the client prints it, nulls, slices and chunks: every value in microseconds."""
    import pyarrow as pa

    from hydra.heads.sql.mysql import _time_to_interval

    text = ["12:34:56", "-838:59:59", "25:00:00.5", None, "-00:00:00.123456", "00:00:01.000001",
            "838:59:59.999999", "0:00:00", "-01:02:03"]
    micros = [45296_000000, -3020399_000000, 90000_500000, None, -123456, 1_000001, 3020399_999999, 0, -3723_000000]
    arr = pa.array(text)
    for got, want in ((arr, micros), (arr.slice(1), micros[1:]),
                      (pa.chunked_array([arr.slice(0, 4), arr.slice(4)]), micros)):
        out = _time_to_interval(got)
        assert out.type == pa.month_day_nano_interval()
        assert [None if v is None else (v.months, v.days, v.nanoseconds) for v in out.to_pylist()] == \
            [None if m is None else (0, 0, m * 1000) for m in want]
    with pytest.raises(ValueError, match="not a MySQL TIME"):
        _time_to_interval(pa.array(["12:34"]))


def test_hex_text_to_binary_vectorised():
    import pyarrow as pa

    from hydra.heads.sql.mysql import _hex_to_binary

    arr = pa.array(["00FF", None, "", "DEADbeef", "0A", "7f"])
    want = [b"\x00\xff", None, b"", b"\xde\xad\xbe\xef", b"\n", b"\x7f"]
    assert _hex_to_binary(arr).to_pylist() == want
    assert _hex_to_binary(arr.slice(1)).to_pylist() == want[1:]
    assert _hex_to_binary(pa.chunked_array([arr.slice(0, 2), arr.slice(2)])).to_pylist() == want
    with pytest.raises(ValueError):
        _hex_to_binary(pa.array(["0G"]))


def test_zero_and_invalid_dates_read_and_counted_as_null(head, my):
    """Dates are read as ``col + INTERVAL 0 DAY``: NULL for zero and invalid dates, else the value
    with the column's own fractional digits; the figures count and compare the same values."""
    _execute(my,
             "SET SESSION sql_mode = 'ALLOW_INVALID_DATES'",
             "CREATE TABLE dates (id INT PRIMARY KEY, d DATE, c DATETIME(3), g TIMESTAMP(6) NULL)",
             "INSERT INTO dates VALUES (1, '2024-02-30', '2024-01-02 03:04:05.120', '1970-01-01 00:00:01'), "
             "(2, '2024-00-15', '0000-00-00 00:00:00', '0000-00-00 00:00:00'), "
             "(3, '0001-01-01', '2024-01-02 03:04:05', '2038-01-19 03:14:07.999999'), (4, NULL, NULL, NULL)")
    db = my.rsplit("/", 1)[1]
    el = elements(head)[(db, "dates")]
    got = {r["id"]: r for r in rows(head.read(el))}
    assert [got[i]["d"] for i in (1, 2, 3, 4)] == [None, None, dt.date(1, 1, 1), None]
    assert [got[i]["c"] for i in (1, 2, 3, 4)] == [dt.datetime(2024, 1, 2, 3, 4, 5, 120000), None,
                                                   dt.datetime(2024, 1, 2, 3, 4, 5), None]
    utc = dt.timezone.utc
    assert [got[i]["g"] for i in (1, 2, 3, 4)] == [dt.datetime(1970, 1, 1, 0, 0, 1, tzinfo=utc), None,
                                                   dt.datetime(2038, 1, 19, 3, 14, 7, 999999, tzinfo=utc), None]
    figures = head.aggregates(el, el.columns).columns
    assert figures["d"]["null_count"] == 3 and figures["d"]["min_value"] == figures["d"]["max_value"]
    assert figures["c"]["null_count"] == 2 and figures["c"]["max_value"].startswith("2024-01-02 03:04:05.12")
    assert figures["g"]["null_count"] == 2 and figures["g"]["min_value"].startswith("1970-01-01 00:00:01")


def test_a_unique_not_null_index_splits_a_table_without_primary_key(my):
    """Without a primary key, a unique index of NOT NULL columns is the key (InnoDB clusters the
    table by it) and splits it; a unique index that allows NULLs is no key: read whole."""
    db = my.rsplit("/", 1)[1]
    _execute(my,
             "CREATE TABLE coded (code INT NOT NULL, v INT, UNIQUE KEY (code))",
             "INSERT INTO coded SELECT seq * 3, seq FROM seq_1_to_900",
             "CREATE TABLE loose (code INT NULL, v INT, UNIQUE KEY (code))",
             "INSERT INTO loose SELECT IF(seq % 9 = 0, NULL, seq), seq FROM seq_1_to_900")
    h = SqlHead("shop", my)
    h.open()
    try:
        els = elements(h)
        coded, loose = els[(db, "coded")], els[(db, "loose")]
        assert coded.key == ["code"] and not loose.key
        ranges = h.split(coded, 3)
        assert len(ranges) == 3
        seen = [r["v"] for preds in ranges for r in rows(h.read(coded, ["v"], preds))]
        assert sorted(seen) == list(range(1, 901))
        assert h.split(loose, 3) is None
    finally:
        h.close()


def test_not_null_columns_of_a_table_counted_without_reading_them(my):
    """The figures count a table's NOT NULL column with COUNT(*) (no column read); a nullable
    column, a view's column and a date (zero dates count as NULL) keep COUNT(col)."""
    from hydra.heads.sql.aggregates import aggregate_sql

    db = my.rsplit("/", 1)[1]
    _execute(my,
             "CREATE TABLE counted (id INT NOT NULL PRIMARY KEY, a INT NOT NULL, b INT, "
             "d DATE NOT NULL DEFAULT '2000-01-01')",
             "INSERT INTO counted VALUES (1, 5, NULL, '2024-01-01'), (2, 6, 7, '2024-01-02')",
             "CREATE VIEW counted_v AS SELECT id, a, b FROM counted")
    h = SqlHead("shop", my)
    h.open()
    try:
        els = elements(h)
        table, view = els[(db, "counted")], els[(db, "counted_v")]
        sql, slots = aggregate_sql(h, table, table.columns, distinct=False)
        exprs = dict(zip(slots, sql.removeprefix("SELECT ").split(" FROM ")[0].split(", ")[1:]))
        assert exprs[("id", "count")] == exprs[("a", "count")] == "COUNT(*)"
        assert exprs[("b", "count")] == "COUNT(`b`)" and exprs[("d", "count")] != "COUNT(*)"
        vsql, _ = aggregate_sql(h, view, view.columns, distinct=False)
        assert "COUNT(`a`)" in vsql
        figures = h.aggregates(table, table.columns).columns
        assert figures["a"]["null_count"] == 0 and figures["a"]["mean_value"] == 5.5
        assert figures["b"]["null_count"] == 1 and figures["b"]["mean_value"] == 7
    finally:
        h.close()
