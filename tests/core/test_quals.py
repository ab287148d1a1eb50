"""Quals: made from the user's WHERE conjuncts, rendered per sqlglot dialect and as Arrow expressions."""

from __future__ import annotations

import datetime as dt
import pickle
from decimal import Decimal

import duckdb
import pyarrow as pa
import pytest
import sqlglot

from hydra.core.quals import Qual, parse, to_arrow, to_sql


@pytest.mark.parametrize("text, quals", [
    ("a = 1", [Qual("a", "=", (1,))]),
    ("1 < a", [Qual("a", ">", (1,))]),
    ("a <> -2.5", [Qual("a", "<>", (Decimal("-2.5"),))]),
    ("a >= 1e3", [Qual("a", ">=", (1000.0,))]),
    ("NOT (a = 'x')", [Qual("a", "<>", ("x",))]),
    ("a IN (1, 2)", [Qual("a", "in", (1, 2))]),
    ("a NOT IN ('p', 'q')", [Qual("a", "not in", ("p", "q"))]),
    ("a IS NULL", [Qual("a", "is null")]),
    ("a IS NOT NULL", [Qual("a", "is not null")]),
    ("a LIKE 'x%'", [Qual("a", "like", ("x%",))]),
    ("a NOT LIKE 'x%'", [Qual("a", "not like", ("x%",))]),
    ("d >= DATE '2024-01-02'", [Qual("d", ">=", (dt.date(2024, 1, 2),))]),
    ("t < TIMESTAMP '2024-01-02 03:04:05'", [Qual("t", "<", (dt.datetime(2024, 1, 2, 3, 4, 5),))]),
    ("b = true", [Qual("b", "=", (True,))]),
    ("a BETWEEN 1 AND 3", [Qual("a", ">=", (1,)), Qual("a", "<=", (3,))]),
    ("(a = 1 AND b = 'y')", [Qual("a", "=", (1,)), Qual("b", "=", ("y",))]),
    ("a = 1 OR b IS NULL", [Qual.either(Qual("a", "=", (1,)), Qual("b", "is null"))]),
    ('"Mixed Case" = 1', [Qual("Mixed Case", "=", (1,))]),
])
def test_from_sql(text, quals):
    assert parse(text) == quals


@pytest.mark.parametrize("text", [
    "a = b", "a + 1 = 2", "lower(a) = 'x'", "a = NULL", "a IN (1, NULL)", "a IN (SELECT 1)", "t.a = 1",
    "(a = 1 AND b = 2) OR c = 3", "NOT (a = 1 OR b = 2)", "a", "a LIKE b", "a LIKE 'x!%' ESCAPE '!'",
    "d = DATE 'nonsense'", "a NOT BETWEEN 1 AND 2", "a ILIKE 'x'", "a IS NOT DISTINCT FROM 1",
])
def test_what_is_no_qual(text):
    assert parse(text) is None


def test_quals_are_plain_picklable_data():
    qual = Qual.either(Qual("d", "<", (dt.date(2024, 1, 1),)), Qual("d", "is null"))
    assert pickle.loads(pickle.dumps(qual)) == qual and hash(qual) == hash(pickle.loads(pickle.dumps(qual)))
    column, op, values = Qual("a", "in", (1, 2))  # the plain triple, as translators take it
    assert (column, op, values) == ("a", "in", (1, 2))
    with pytest.raises(ValueError, match="unknown Qual operator"):
        Qual("a", "~", ("x",))


# -- to SQL -----------------------------------------------------------------------------------------

Q = [Qual("Order id", ">=", (10,)), Qual("na'me", "in", ("O'Brien", "x")), Qual("note", "is null"),
     Qual("day", "<", (dt.date(2024, 1, 31),)), Qual("ok", "=", (True,))]


@pytest.mark.parametrize("dialect, expected", [
    ("postgres", """("Order id" >= 10) AND ("na'me" IN ('O''Brien', 'x')) AND ("note" IS NULL) AND """
                 """("day" < CAST('2024-01-31' AS DATE)) AND ("ok" = TRUE)"""),
    ("mysql", """(`Order id` >= 10) AND (`na'me` IN ('O''Brien', 'x')) AND (`note` IS NULL) AND """
              """(`day` < CAST('2024-01-31' AS DATE)) AND (`ok` = TRUE)"""),
    ("tsql", """([Order id] >= 10) AND ([na'me] IN ('O''Brien', 'x')) AND ([note] IS NULL) AND """
             """([day] < CAST('2024-01-31' AS DATE)) AND ([ok] = 1)"""),
])
def test_to_sql_quotes_per_dialect(dialect, expected):
    assert to_sql(Q, dialect) == expected
    sqlglot.parse_one(f"SELECT 1 FROM t WHERE {expected}", read=dialect)  # and it parses back


def test_to_sql_quotes_identifiers_with_their_own_quote_character():
    assert to_sql([Qual('a"b', "=", (1,))], "postgres") == '"a""b" = 1'
    assert to_sql([Qual("a`b", "=", (1,))], "mysql") == "`a``b` = 1"
    assert to_sql([Qual("a]b", "=", (1,))], "tsql") == "[a]]b] = 1"


def test_to_sql_null_tests_negations_and_disjunctions():
    assert to_sql([Qual("a", "is not null")], "postgres") == 'NOT "a" IS NULL'
    assert to_sql([Qual("a", "not in", (1, 2))], "postgres") == 'NOT "a" IN (1, 2)'
    assert to_sql([Qual.either(Qual("k", "<", (5,)), Qual("k", "is null"))], "duckdb") == '("k" < 5) OR ("k" IS NULL)'
    assert to_sql([Qual("a", ">", (-1,)), Qual("t", "=", (dt.datetime(2024, 1, 2, 3, 4),))], "duckdb") == \
        """("a" > -1) AND ("t" = CAST('2024-01-02 03:04:00' AS TIMESTAMP))"""
    assert to_sql([], "duckdb") == ""


CONDITIONS = ["i = 2", "i <> 2", "i > 1", "f <= 1.5", "s = 'b'", "s <> 'b'", "s IN ('a', 'c')",
              "s NOT IN ('a')", "i IS NULL", "s IS NOT NULL", "i BETWEEN 2 AND 3", "i = 1 OR s IS NULL",
              "d >= DATE '2024-01-02'", "t < TIMESTAMP '2024-01-03 00:00:00'", "b = false",
              "NOT (i >= 2)", "s LIKE 'b%'"]


def _table() -> pa.Table:
    return pa.table({
        "i": pa.array([1, 2, 3, None], pa.int64()), "f": [0.5, 1.5, 2.5, None],
        "s": ["a", "b", None, "c"],
        "d": pa.array([dt.date(2024, 1, 1), dt.date(2024, 1, 2), None, dt.date(2024, 1, 3)], pa.date32()),
        "t": pa.array([dt.datetime(2024, 1, 1), None, dt.datetime(2024, 1, 3), dt.datetime(2024, 1, 2)],
                      pa.timestamp("us")),
        "b": [True, False, None, False],
    })


@pytest.mark.parametrize("condition", CONDITIONS)
def test_to_sql_keeps_the_rows_duckdb_keeps(condition):
    con = duckdb.connect()
    con.register("tbl", _table())
    want = con.execute(f"SELECT i FROM tbl WHERE {condition} ORDER BY ALL").fetchall()
    got = con.execute(f"SELECT i FROM tbl WHERE {to_sql(parse(condition), 'duckdb')} ORDER BY ALL").fetchall()
    assert got == want


# -- to Arrow ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("condition", [c for c in CONDITIONS if "LIKE" not in c])
def test_to_arrow_keeps_the_rows_duckdb_keeps(condition):
    table = _table()
    expression = to_arrow(parse(condition), table.schema)
    assert expression is not None
    con = duckdb.connect()
    con.register("tbl", table)
    want = sorted(map(str, (r[0] for r in con.execute(f"SELECT i FROM tbl WHERE {condition}").fetchall())))
    assert sorted(map(str, table.filter(expression).column("i").to_pylist())) == want


@pytest.mark.parametrize("qual", [
    Qual("s", "=", (1,)),  # DuckDB would cast: refused
    Qual("i", "=", ("x",)),
    Qual("s", "like", ("a%",)),  # Arrow's LIKE escapes with a backslash, DuckDB's does not
    Qual("nope", "=", (1,)),
    Qual("d", "<", ("2024-13-45",)),
    Qual.either(Qual("i", "=", (1,)), Qual("s", "=", (2,))),
])
def test_to_arrow_refuses_what_it_cannot_apply_exactly(qual):
    assert to_arrow([qual], _table().schema) is None


def test_to_arrow_matches_column_names_like_duckdb():
    schema = pa.schema([("Mixed", pa.int32())])
    table = pa.table({"Mixed": pa.array([1, 3], pa.int32())})
    assert table.filter(to_arrow([Qual("mixed", "=", (3,))], schema)).num_rows == 1
