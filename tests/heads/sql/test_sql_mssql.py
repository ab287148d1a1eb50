"""Microsoft SQL Server support of the SQL head.

There is no SQL Server on this machine. The tests without a marker do NOT touch a server: they
check the SQL the head would send (compiled T-SQL, parsed back by sqlglot's T-SQL dialect), the
URL handling, the type mapping and the conversion of driver values.

The tests marked ``mssql`` run against a live server when ``HYDRA_TEST_MSSQL_URL`` is set, e.g.
``mssql+pyodbc://sa:${PW}@127.0.0.1:1433/master?driver=ODBC+Driver+18+for+SQL+Server&TrustServerCertificate=yes``
(the login needs CREATE DATABASE rights: a scratch database is created and dropped); they are
skipped otherwise.
"""

from __future__ import annotations

import datetime as dt
import os
import struct
import uuid
from decimal import Decimal

import pyarrow as pa
import pytest
import sqlglot

from hydra.heads.sql import catalog as sql_catalog, types as sql_types
from hydra.core.model import Column, Element
from hydra.heads.sql.head import SqlHead, datetimeoffset_from_odbc
from hydra.heads.sql.aggregates import aggregate_sql
from hydra.heads.sql.arrow import column_from_values

URL = "mssql+pyodbc://reader:p%40ss@db.example/Sales?driver=ODBC+Driver+18+for+SQL+Server"

LINES = Element(
    parts=("Sales Ops", 'Order "Lines"]'), kind="table", key=["id"],
    columns=[
        Column("id", "INTEGER", "int", False),
        Column("amount", "DECIMAL(12,2)", "decimal(12,2)", True),
        Column("Ünïcödé name", "VARCHAR", "nvarchar(max)", True),
        Column("select", "TIMESTAMP WITH TIME ZONE", "datetimeoffset", True,
               "datetimeoffset normalised to UTC (the offset is dropped)"),
        Column("flag", "BOOLEAN", "bit", True),
        Column("uid", "UUID", "uniqueidentifier", True),
        Column("day", "DATE", "date", True),
        Column("cash", "DECIMAL(19,4)", "money", True, "money read as DECIMAL(19,4)"),
        Column("raw", "BLOB", "varbinary(max)", True),
    ],
)


def head():
    return SqlHead("erp", URL)  # never opened: nothing here touches a server


def pred(text):
    return sqlglot.parse_one(text, read="duckdb")


def test_url_read_only_intent_and_dialect():
    """Not touching a server: the URL handed to SQLAlchemy asks for a read-only application intent."""
    h = head()
    assert h.dialect == "tsql" and h.family == "mssql"
    url = h._url()
    assert url.query["ApplicationIntent"] == "ReadOnly"
    assert url.password == "p@ss"
    assert "p%40ss" not in h.redact(URL) and "p@ss" not in h.redact(URL)
    assert "ApplicationIntent" not in str(SqlHead("erp", "mssql+pymssql://u@h/db")._url().query)


def test_odbc_connect_passwords_are_redacted():
    """Not touching a server: PWD inside an ODBC connection string never reaches sources or messages."""
    uri = "mssql+pyodbc:///?odbc_connect=DRIVER%3D%7BODBC+Driver+18%7D%3BSERVER%3Dh%3BUID%3Du%3BPWD%3Dsup3rsecret%3B"
    assert "sup3rsecret" not in SqlHead.redact(uri) and "PWD%3D***" in SqlHead.redact(uri)
    assert "sup3rsecret" not in SqlHead("erp", uri)._clean("login failed for PWD=sup3rsecret;")


def test_select_uses_top_and_bracket_quoting():
    """Not touching a server: compiled T-SQL for a projected, filtered, limited read."""
    h = head()
    preds = [pred("amount >= 10.5"), pred("flag = true"), pred("day BETWEEN DATE '2020-01-01' AND DATE '2020-12-31'"),
             pred('"select" IS NOT NULL'), pred("id IN (1, 2, 3) OR NOT id > 100")]
    for p in preds:
        assert h.can_filter(LINES, p), p.sql()
    sql, cols = h.select_sql(LINES, ["id", "Ünïcödé name", "select"], preds, 5)
    assert sql.startswith("SELECT TOP 5 [id], [Ünïcödé name], [select] FROM [Sales Ops].[Order \"Lines\"]]] WHERE ")
    assert "[flag] = 1" in sql and "CAST('2020-01-01' AS DATE)" in sql and "[amount] >= 10.5" in sql
    parsed = sqlglot.parse_one(sql, read="tsql")
    assert parsed.args["limit"] is not None or "TOP" in parsed.sql("tsql")
    assert [c.name for c in parsed.expressions] == ["id", "Ünïcödé name", "select"]
    assert parsed.find(sqlglot.exp.Table).name == 'Order "Lines"]'
    assert [c.name for c in cols] == ["id", "Ünïcödé name", "select"]


def test_predicates_that_would_differ_are_refused():
    """Not touching a server: case-insensitive collations, lossy types and functions stay in DuckDB."""
    h = head()
    for text in ['"Ünïcödé name" = \'x\'', "cash > 1", '"select" > TIMESTAMP \'2020-01-01 00:00:00\'',
                 "uid = 'x'", "upper(\"Ünïcödé name\") = 'X'", "raw IS NULL AND amount / 2 > 1"]:
        assert not h.can_filter(LINES, pred(text)), text
    assert h.can_filter(LINES, pred('"Ünïcödé name" IS NULL'))


def test_catalog_queries_parse_as_tsql():
    """Not touching a server: the three bulk catalog queries are valid T-SQL."""
    for template in (sql_catalog.MSSQL_OBJECTS.replace("{size}", sql_catalog.MSSQL_SIZE),
                     sql_catalog.MSSQL_COLUMNS, sql_catalog.MSSQL_KEYS):
        for schemas in (None, ["dbo", "Sales Ops"]):
            sql = sql_catalog.mssql_sql(template, schemas)
            parsed = sqlglot.parse_one(sql, read="tsql")
            tables = {t.name for t in parsed.find_all(sqlglot.exp.Table)}
            assert {"objects", "schemas"} <= tables
    assert "dm_db_partition_stats" in sql_catalog.MSSQL_SIZE


def test_aggregate_query_is_tsql():
    """Not touching a server: one aggregate query, binary collation for text, overflow-safe sums."""
    sql, slots = aggregate_sql(head(), LINES, LINES.columns)
    parsed = sqlglot.parse_one(sql, read="tsql")
    assert len(parsed.expressions) == 1 + len(slots)
    assert "MIN([Ünïcödé name] COLLATE Latin1_General_BIN2)" in sql
    assert "SUM(CAST([id] AS DECIMAL(38, 0)))" in sql and "AVG(" not in sql  # the mean is sum / count
    assert ("raw", "min") not in slots and ("raw", "count") in slots  # varbinary: counts only
    assert ("flag", "sum") not in slots


@pytest.mark.parametrize("type_name, precision, scale, duck, lossy", [
    ("datetimeoffset", 34, 7, "TIMESTAMP WITH TIME ZONE", True),
    ("uniqueidentifier", 0, 0, "UUID", False),
    ("money", 19, 4, "DECIMAL(19,4)", True),
    ("nvarchar", 0, 0, "VARCHAR", False),
    ("varbinary", 0, 0, "BLOB", False),
    ("bit", 1, 0, "BOOLEAN", False),
    ("decimal", 18, 2, "DECIMAL(18,2)", False),
    ("datetime2", 27, 7, "TIMESTAMP", True),
    ("tinyint", 3, 0, "UTINYINT", False),
    ("geography", 0, 0, "VARCHAR", True),
])
def test_type_mapping(type_name, precision, scale, duck, lossy):
    """Not touching a server: SQL Server types to DuckDB types, with a note when lossy."""
    m = sql_types.mssql(type_name, precision, scale)
    assert m.duck == duck and bool(m.note) == lossy


def test_driver_values_to_arrow():
    """Not touching a server: values as pyodbc/pymssql return them become the mapped Arrow types."""
    raw = struct.pack("<6hI2h", 2024, 5, 6, 7, 8, 9, 123456000, -5, 0)
    dto = datetimeoffset_from_odbc(raw)
    assert dto == dt.datetime(2024, 5, 6, 12, 8, 9, 123456, tzinfo=dt.timezone.utc)
    arr = column_from_values([dto, None], "TIMESTAMP WITH TIME ZONE")
    assert arr.type == pa.timestamp("us", tz="UTC") and arr[0].as_py() == dto
    u = uuid.uuid4()
    arr = column_from_values([str(u).upper(), None, u], "UUID")
    assert arr.type == pa.uuid() and arr.to_pylist() == [u, None, u]
    assert column_from_values([Decimal("1.2345"), None], "DECIMAL(19,4)").to_pylist() == [Decimal("1.2345"), None]
    assert column_from_values([True, False, None], "BOOLEAN").to_pylist() == [True, False, None]
    assert column_from_values([b"\x00\x01", None], "BLOB").to_pylist() == [b"\x00\x01", None]
    assert column_from_values([dt.datetime(2020, 1, 1, 0, 0, 0, 1)], "TIMESTAMP").to_pylist()[0].microsecond == 1


# -- live tests --------------------------------------------------------------------------------

LIVE = os.environ.get("HYDRA_TEST_MSSQL_URL")


@pytest.fixture
def mssql_db():
    if not LIVE:
        pytest.skip("set HYDRA_TEST_MSSQL_URL to run the live SQL Server tests")
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    name = f"hydra_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(LIVE, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f"CREATE DATABASE [{name}]")
    url = make_url(LIVE).set(database=name)
    eng = create_engine(url, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.exec_driver_sql("CREATE SCHEMA [Sales Ops]")
        c.exec_driver_sql("""CREATE TABLE [Sales Ops].[Order "Lines"] (id int PRIMARY KEY, amount decimal(12,2),
            note nvarchar(max), at datetimeoffset, flag bit, uid uniqueidentifier, cash money, raw varbinary(max),
            [select] int)""")
        c.exec_driver_sql("""INSERT INTO [Sales Ops].[Order "Lines"] VALUES
            (1, 10.50, N'Ünïcödé', '2024-05-06 07:08:09.123456 -05:00', 1, '8C5E2B1A-3F4D-4E6A-9B7C-1D2E3F4A5B6C', 12.34, 0x00FF, 7),
            (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)""")
    eng.dispose()
    yield url.render_as_string(hide_password=False)
    with admin.connect() as c:
        c.exec_driver_sql(f"ALTER DATABASE [{name}] SET SINGLE_USER WITH ROLLBACK IMMEDIATE")
        c.exec_driver_sql(f"DROP DATABASE [{name}]")
    admin.dispose()


@pytest.mark.mssql
def test_live_enumerate_read_aggregate(mssql_db):
    h = SqlHead("erp", mssql_db)
    h.open()
    try:
        els = {e.parts: e for e in h.enumerate()}
        el = els[("Sales Ops", 'Order "Lines"')]
        assert el.key == ["id"]
        rows = sorted(h.read(el).read_all().to_pylist(), key=lambda r: r["id"])
        assert rows[0]["at"] == dt.datetime(2024, 5, 6, 12, 8, 9, 123456, tzinfo=dt.timezone.utc)
        assert rows[0]["uid"] == uuid.UUID("8c5e2b1a-3f4d-4e6a-9b7c-1d2e3f4a5b6c") and rows[0]["flag"] is True
        assert rows[0]["note"] == "Ünïcödé" and rows[0]["raw"] == b"\x00\xff" and rows[0]["cash"] == Decimal("12.3400")
        assert h.read(el, ["id"], [pred('"select" = 7')], limit=1).read_all().to_pylist() == [{"id": 1}]
        agg = h.aggregates(el, el.columns)
        assert agg.row_count == 2 and agg.columns["amount"]["sum_value"] == Decimal("10.50")
    finally:
        h.close()
