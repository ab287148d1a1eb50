"""The PostgreSQL binary COPY decoder against the real server: rows split across tiny blocks, NULLs
among fixed-width columns, and user data that imitates the row marker must all decode exactly."""

from __future__ import annotations

import hashlib
import struct

import psycopg
import pytest

from hydra.heads.sql import pgbinary as sql_pgbinary
from hydra.heads.sql.head import SqlHead
from support.quals import quals

SETUP = """
CREATE TABLE mixed (id bigint PRIMARY KEY, i int, t text, b bytea, ts timestamptz, d date, f float8,
                    ok boolean, u uuid, n numeric(10,3), j jsonb, iv interval, sm smallint, r real);
INSERT INTO mixed
SELECT g, CASE WHEN g % 7 = 0 THEN NULL ELSE g * 3 END,
       CASE WHEN g % 5 = 0 THEN NULL WHEN g % 5 = 1 THEN '' ELSE repeat('x', g % 40) || g END,
       CASE WHEN g % 6 = 0 THEN NULL ELSE decode(md5(g::text), 'hex') END,
       CASE WHEN g % 4 = 0 THEN NULL ELSE timestamptz '2001-02-03 04:05:06.789+00' + g * interval '1 hour' END,
       CASE WHEN g % 9 = 0 THEN NULL ELSE date '1970-01-01' + g END,
       CASE WHEN g % 8 = 0 THEN NULL ELSE g / 7.0 END,
       CASE WHEN g % 3 = 0 THEN NULL ELSE g % 2 = 0 END,
       CASE WHEN g % 11 = 0 THEN NULL ELSE md5(g::text)::uuid END,
       CASE WHEN g % 10 = 0 THEN NULL ELSE g / 8.0 END,
       CASE WHEN g % 12 = 0 THEN NULL ELSE jsonb_build_object('g', g) END,
       CASE WHEN g % 13 = 0 THEN NULL ELSE make_interval(0, g % 14, 0, g % 30, 0, 0, g / 1000.0) END,
       (g % 30000)::smallint, g / 3.0
FROM generate_series(1, 1500) g;
"""


@pytest.fixture
def pg(pg_database):
    with psycopg.connect(pg_database, autocommit=True) as con:
        con.execute(SETUP)
    return pg_database


def read_sorted(url, bulk, table, **kw):
    h = SqlHead("x", url, {"BULK": bulk})
    h.open()
    try:
        el = next(e for e in h.enumerate() if e.parts == ("public", table))
        return sorted(h.read(el, **kw).read_all().to_pylist(), key=lambda r: r["id"])
    finally:
        h.close()


@pytest.mark.parametrize("bulk", ["binary", "copy"])  # through psql, through psycopg
@pytest.mark.parametrize("block", [64, 1000, 1 << 22])
def test_binary_equals_cursor_across_block_sizes(pg, monkeypatch, block, bulk):
    expected = read_sorted(pg, "cursor", "mixed")
    monkeypatch.setattr(sql_pgbinary, "BLOCK", block)
    got = read_sorted(pg, bulk, "mixed")
    assert len(got) == 1500
    assert got == expected


@pytest.mark.parametrize("bulk", ["binary", "copy"])
def test_user_data_imitating_the_row_marker(pg, monkeypatch, bulk):
    """A bytea holding exactly the bytes that start a row must not be taken for a row."""
    ncols = 1 + 3  # the marker column, then id, payload, tail
    fake = struct.pack(">hi", ncols, 8) + sql_pgbinary.MAGIC
    with psycopg.connect(pg, autocommit=True) as con:
        con.execute("CREATE TABLE tricky (id int PRIMARY KEY, payload bytea, tail text)")
        rows = [(i, fake * (i % 3) + fake[: i % 14], f"row {i}") for i in range(200)]
        with con.cursor() as cur:
            cur.executemany("INSERT INTO tricky VALUES (%s, %s, %s)", rows)
    for block in (128, 4096, 1 << 22):
        monkeypatch.setattr(sql_pgbinary, "BLOCK", block)
        got = read_sorted(pg, bulk, "tricky")
        assert [(r["id"], r["payload"], r["tail"]) for r in got] == rows


def test_projection_filter_limit_in_binary(pg):
    preds = quals("i IS NULL OR id < 10")
    got = read_sorted(pg, "binary", "mixed", columns=["id", "u"], quals=preds)
    assert [r["id"] for r in got] == [i for i in range(1, 1501) if i < 10 or i % 7 == 0]
    assert set(got[0]) == {"id", "u"}
    h = SqlHead("x", pg, {"BULK": "binary"})
    h.open()
    try:
        el = next(e for e in h.enumerate() if e.parts == ("public", "mixed"))
        assert h.read(el, ["t"], None, 7).read_all().num_rows == 7
        assert h.read(el, ["id"], quals("id > 5000")).read_all().num_rows == 0
    finally:
        h.close()


def test_infinite_dates_read_as_duckdb_infinities(pg):
    """PostgreSQL marks infinity with INT_MAX/INT_MIN since 2000; DuckDB with ±INT_MAX, unshifted."""
    import duckdb

    with psycopg.connect(pg, autocommit=True) as con:
        con.execute("CREATE TABLE inf (id int PRIMARY KEY, d date, ts timestamptz); "
                    "INSERT INTO inf VALUES (1, 'infinity', '-infinity'), (2, '-infinity', 'infinity'), "
                    "(3, '2020-01-02', '2020-01-02 03:04:05+00')")
    h = SqlHead("x", pg, {"BULK": "binary"})
    h.open()
    try:
        el = next(e for e in h.enumerate() if e.parts == ("public", "inf"))
        rows = h.read(el).read_all().sort_by("id")
    finally:
        h.close()
    assert rows.column("d").cast("int32").to_pylist() == [2**31 - 1, -(2**31 - 1), 18263]
    assert rows.column("ts").cast("int64").to_pylist() == [-(2**63 - 1), 2**63 - 1, 1577934245000000]
    assert duckdb.connect().execute("SELECT d::VARCHAR, ts::VARCHAR FROM rows ORDER BY id").fetchall() == [
        ("infinity", "-infinity"), ("-infinity", "infinity"), ("2020-01-02", "2020-01-02 03:04:05+00")]


def test_binary_numeric_edge_values(pg):
    values = ["0", "0.001", "-0.001", "999999.999", "-999999.999", "1", "10000", "123.4", "0.5", "-10000.5"]
    with psycopg.connect(pg, autocommit=True) as con:
        con.execute("CREATE TABLE nums (id int PRIMARY KEY, n numeric(9,3), m numeric(18,0), w numeric(30,4))")
        with con.cursor() as cur:
            cur.executemany("INSERT INTO nums VALUES (%s, %s::numeric, %s::numeric, %s::numeric)",
                            [(i, v, "-999999999999999999" if i == 0 else str(i * 123456789), "12345678901234567890.1234")
                             for i, v in enumerate(values)])
            cur.execute("INSERT INTO nums VALUES (99, NULL, 999999999999999999, NULL)")
    assert read_sorted(pg, "binary", "nums") == read_sorted(pg, "cursor", "nums")
    got = read_sorted(pg, "binary", "nums")
    assert [str(r["n"]) for r in got[:-1]] == ["0.000", "0.001", "-0.001", "999999.999", "-999999.999", "1.000",
                                               "10000.000", "123.400", "0.500", "-10000.500"]
    assert got[0]["m"] == -999999999999999999 and got[-1]["m"] == 999999999999999999 and got[-1]["n"] is None


def pg_numeric(value) -> bytes:
    """A Decimal (or 'NaN') in PostgreSQL's binary numeric form: base-10000 groups without leading
    or trailing zero groups, the weight of the first group, the sign, the display scale."""
    from decimal import Decimal

    if value == "NaN":
        return struct.pack(">hhHh", 0, 0, 0xC000, 0)
    value = Decimal(value)
    sign = 0x4000 if value < 0 else 0
    whole, _, frac = format(value.copy_abs(), "f").partition(".")
    dscale = len(frac)
    whole = whole.lstrip("0")
    whole = "0" * (-len(whole) % 4) + whole
    frac += "0" * (-len(frac) % 4)
    groups = [int(whole[i:i + 4]) for i in range(0, len(whole), 4)] + [int(frac[i:i + 4]) for i in range(0, len(frac), 4)]
    weight = len(whole) // 4 - 1
    while groups and groups[0] == 0:
        groups.pop(0)
        weight -= 1
    while groups and groups[-1] == 0:
        groups.pop()
    if not groups:
        weight, sign = 0, 0
    return struct.pack(f">hhHh{len(groups)}h", len(groups), weight, sign, dscale, *groups)


@pytest.mark.parametrize("precision,scale", [(1, 0), (4, 4), (5, 1), (6, 3), (9, 3), (10, 0), (12, 2), (14, 3),
                                             (15, 7), (17, 13), (18, 0), (18, 4), (18, 9), (18, 18)])
def test_numeric_decoder_every_precision_and_scale(precision, scale):
    """The aligned-groups numeric decoder against Decimal: random values of every magnitude, the
    largest and smallest of the type, zeros, negatives, NULLs and NaN (read as NULL)."""
    import random
    from decimal import Decimal

    import numpy as np
    import pyarrow as pa

    rng = random.Random(precision * 100 + scale)
    top = 10**precision - 1
    values = [0, top, -top, 1, -1, 10**scale if scale < precision else 1]
    for _ in range(400):
        digits = rng.randint(1, precision)
        values.append(rng.choice((1, -1)) * rng.randint(0, 10**digits - 1))
    values = [Decimal(v).scaleb(-scale) for v in values] + [None, "NaN"] * 5
    rng.shuffle(values)
    chunks, starts, lengths = [], [], []
    pos = 0
    for v in values:
        data = b"" if v is None else pg_numeric(v)
        pos += 7  # something between the fields, as a row's other columns are
        chunks.append(b"\x07" * 7 + data)
        starts.append(pos)
        lengths.append(-1 if v is None else len(data))
        pos += len(data)
    block = b"".join(chunks) + bytes(32)
    typ = pa.decimal128(precision, scale)
    start, length = np.array(starts, dtype=np.int64), np.array(lengths, dtype=np.int64)
    got = sql_pgbinary._numeric(pa.py_buffer(block), start, length, length < 0, typ).to_pylist()
    assert got == [None if v is None or v == "NaN" else v for v in values]


@pytest.mark.parametrize("bulk", ["binary", "copy"])
def test_values_many_times_the_block_read_whole(pg, monkeypatch, bulk):
    """Rows of 3-12 MB between small ones (the block is 1 MiB here): the rest of a row larger
    than the block is read at once, sized from its fields' lengths, and every byte comes back."""
    monkeypatch.setattr(sql_pgbinary, "BLOCK", 1 << 20)
    with psycopg.connect(pg, autocommit=True) as con:
        con.execute("CREATE TABLE huge (id int PRIMARY KEY, b bytea, t text)")
        con.execute("INSERT INTO huge SELECT g, CASE WHEN g % 2 = 0 THEN decode(repeat(md5(g::text), g * 25000), 'hex') "
                    "END, CASE WHEN g % 3 = 0 THEN repeat('é' || g, g * 100000) ELSE 'small' END "
                    "FROM generate_series(1, 12) g")
        held = con.execute("SELECT id, md5(b), length(b), md5(t) FROM huge ORDER BY id").fetchall()
    got = read_sorted(pg, bulk, "huge")

    def md5(v):
        return None if v is None else hashlib.md5(v if isinstance(v, bytes) else v.encode()).hexdigest()

    assert [(r["id"], md5(r["b"]), None if r["b"] is None else len(r["b"]), md5(r["t"])) for r in got] == held
    assert max(len(r["b"] or b"") for r in got) == 12 * 25000 * 16
