"""A hostile estate on the real PostgreSQL and MariaDB (issue 11): many types, special and extreme
values, awkward names. Every value Hydra reads equals what psql or the mysql client prints (or, for
arrays, what the driver returns), spelled as DuckDB spells it; a lossy read is said in columns.note;
and EXTRACT then RECONCILE LAST passes every check in every format, with no false failure."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import xml.etree.ElementTree as ElementTree
from decimal import Decimal

import duckdb
import numpy as np
import psycopg
import pymysql
import pytest

FORMATS = ["parquet", "csv", "jsonl"]

# -- PostgreSQL ------------------------------------------------------------------------------------

PG_TYPES = """
CREATE TYPE mood AS ENUM ('sad', 'ok', 'très ''bien''');
CREATE DOMAIN positive_int AS integer CHECK (VALUE > 0);
CREATE DOMAIN short_text AS varchar(10);
"""
# (column, type, six SQL literals: one per row); row 5 and 6 are mostly NULL
PG_COLUMNS = [
    ("ts", "timestamptz", ["'2024-02-29 12:34:56.123456+00'", "'infinity'", "'-infinity'", "'0001-01-01 00:00:00+00'",
                           "'0044-03-15 10:00:00+00 BC'", "NULL"]),
    ("tsn", "timestamp", ["'2024-02-29 12:34:56.123456'", "'-infinity'", "'infinity'", "'9999-12-31 23:59:59.999999'",
                          "'4713-11-24 00:00:00 BC'", "NULL"]),
    ("d", "date", ["'2024-02-29'", "'infinity'", "'-infinity'", "'0001-01-01'", "'4713-11-24 BC'", "'9999-12-31'"]),
    ("t", "time", ["'12:34:56.789'", "'00:00:00'", "'24:00:00'", "'00:00:00.000001'", "NULL", "NULL"]),
    ("ttz", "timetz", ["'12:34:56.789+05:30'", "'00:00:00-12'", "'24:00:00+00'", "'23:59:59.999999-15:59'", "NULL", "NULL"]),
    ("iv", "interval", ["'1 year 2 mons 3 days 04:05:06.5'", "'-1 day -00:00:00.000001'", "'178000000 years'",
                        "'00:00:00.000001'", "'-14 mons'", "NULL"]),
    ("cash", "money", ["12.34", "-92233720368547758.08", "92233720368547758.07", "0", "NULL", "NULL"]),
    ("b", "bit(4)", ["B'1010'", "B'0000'", "B'1111'", "NULL", "NULL", "NULL"]),
    ("vb", "varbit(8)", ["B'101'", "B''", "B'11111111'", "NULL", "NULL", "NULL"]),
    ("raw", "bytea", [r"'\x00ff10'", r"'\x'", r"'\x5c00'", "NULL", "NULL", "NULL"]),
    ("ints", "int[]", ["'{1,2,NULL}'", "'{}'", "'{-2147483648,2147483647}'", "NULL", "NULL", "NULL"]),
    ("texts", "text[]", ["'{a,\"b c\",NULL}'", "'{}'", "'{\"NULL\",\"\",\",\"}'", "NULL", "NULL", "NULL"]),
    ("u", "uuid", ["'8c5e2b1a-3f4d-4e6a-9b7c-1d2e3f4a5b6c'", "'00000000-0000-0000-0000-000000000000'",
                   "'ffffffff-ffff-ffff-ffff-ffffffffffff'", "NULL", "NULL", "NULL"]),
    ("j", "json", ["'{\"a\": [1, 2.50, null]}'", "'null'", "'[]'", "' {\"dup\": 1, \"dup\": 2} '", "NULL", "NULL"]),
    ("jb", "jsonb", ["'{\"b\": {\"c\": true}}'", "'null'", "'\"text\"'", "'{}'", "NULL", "NULL"]),
    ("e", "mood", ["'très ''bien'''", "'sad'", "'ok'", "NULL", "NULL", "NULL"]),
    ("pos", "positive_int", ["7", "1", "2147483647", "NULL", "NULL", "NULL"]),
    ("st", "short_text", ["'short'", "''", "'x'", "NULL", "NULL", "NULL"]),
    ("x", "xml", ["'<a x=\"1\">t</a>'", "'<x/>'", "NULL", "NULL", "NULL", "NULL"]),
    ("tv", "tsvector", ["'fat:2 cat:1'", "''", "'a:1A b:2B'", "NULL", "NULL", "NULL"]),
    ("pt", "point", ["'(1.5,-2)'", "'(0,0)'", "'(-1e300,1e300)'", "NULL", "NULL", "NULL"]),
    ("wide", "numeric(1000,500)", ["1/3::numeric(1000,500)", "'NaN'", "-1e300", "1e300", "NULL", "0.1"]),
    ("n", "numeric", ["1.0/7", "'NaN'", "'Infinity'", "'-Infinity'", "123456789012345678901234567890.5", "NULL"]),
    ("n10", "numeric(10,2)", ["12345678.91", "'NaN'", "0", "-0.01", "NULL", "NULL"]),
    ("n30", "numeric(30,10)", ["12345678901234567890.0123456789", "-99999999999999999999.9999999999", "0",
                               "0.0000000001", "NULL", "NULL"]),
    ("f8", "float8", ["0.1", "'NaN'", "'Infinity'", "'-Infinity'", "1e-300", "-0.0"]),
    ("f4", "real", ["0.1", "'NaN'", "'Infinity'", "'-Infinity'", "1.17549435e-38", "3.4028235e38"]),
    ("i2", "smallint", ["-32768", "32767", "0", "NULL", "NULL", "NULL"]),
    ("i8", "bigint", ["-9223372036854775808", "9223372036854775807", "0", "NULL", "NULL", "NULL"]),
    ("ok", "boolean", ["true", "false", "NULL", "NULL", "NULL", "NULL"]),
    ("ip", "inet", ["'192.168.0.1'", "'::1'", "'10.1.2.3/8'", "'2001:db8::1/64'", "NULL", "NULL"]),
    ("net", "cidr", ["'192.168.0.0/24'", "'::/0'", "'10.0.0.0/8'", "'2001:db8::/32'", "NULL", "NULL"]),
    ("mac", "macaddr", ["'08:00:2b:01:02:03'", "'00:00:00:00:00:00'", "'ff:ff:ff:ff:ff:ff'", "NULL", "NULL", "NULL"]),
    ("Mixed Case", "text", ["'plain'", "''", "E'tab\\there\\nnewline \"quote\" \\\\backslash'",
                            "'😀 e' || chr(769) || ' שלום ‍ ' || chr(8232)", "'NULL'", "NULL"]),
    ("select", "char(5)", ["'ab'", "''", "'a  '", "NULL", "NULL", "NULL"]),
    ("vc", "varchar(20)", ["'v'", "''", "'NULL'", "NULL", "NULL", "NULL"]),
]
PG_TABLE = 'hostile "estate"'
PG_REF = 'pg.public."hostile ""estate"""'


def _pg_quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _pg_setup(url: str) -> None:
    columns = ", ".join(f"{_pg_quote(n)} {t}" for n, t, _ in PG_COLUMNS)
    rows = ", ".join(f"({i + 1}, " + ", ".join(values[i] for _, _, values in PG_COLUMNS) + ")" for i in range(6))
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(PG_TYPES)
        con.execute(f"CREATE TABLE {_pg_quote(PG_TABLE)} (id int PRIMARY KEY, {columns})")
        con.execute(f"INSERT INTO {_pg_quote(PG_TABLE)} VALUES {rows}")


def _psql(url: str, sql: str) -> list[list[str | None]]:
    """Rows as psql prints them (ISO dates, UTC), NULL as None."""
    env = dict(os.environ, PGTZ="UTC", PGDATESTYLE="ISO")
    out = subprocess.run(["psql", "-X", "-A", "-t", "-F", "\x01", "-R", "\x02", "-P", "null=\x03", "-d", url,
                          "-c", sql], capture_output=True, text=True, env=env, check=True).stdout
    return [[None if v == "\x03" else v for v in record.split("\x01")] for record in out.rstrip("\n").split("\x02")]


def _same_interval(a: str, b: str) -> bool:
    return duckdb.connect().execute("SELECT CAST($1 AS INTERVAL) = CAST($2 AS INTERVAL)", [a, b]).fetchone()[0]


def _pg_bc(text: str) -> str:
    """psql's '0044-03-15 10:00:00+00 BC' as DuckDB spells it: '0044-03-15 (BC) 10:00:00+00'."""
    if not text.endswith(" BC"):
        return text
    day, space, rest = text[:-3].partition(" ")
    return f"{day} (BC){space}{rest}"


def _float(text: str) -> float:
    return float(text.replace("Infinity", "inf"))


def _same_float(printed: str, read: str, width=np.float64) -> bool:
    a, b = width(_float(printed)), width(_float(read))
    return bool(a == b or (np.isnan(a) and np.isnan(b)))


def pg_matches(pg_type: str, printed: str | None, read) -> bool:
    """Whether the value Hydra read (as DuckDB text) is the value psql printed."""
    if printed is None:
        return read is None
    if pg_type in ("numeric(10,2)", "numeric(30,10)"):  # DECIMAL: a NaN is NULL (noted)
        return read is None if printed == "NaN" else Decimal(printed) == Decimal(read)
    if read is None:
        return False
    if pg_type in ("float8", "numeric", "numeric(1000,500)"):  # DOUBLE (numeric: noted lossy)
        return _same_float(printed, read)
    if pg_type == "real":
        return _same_float(printed, read, np.float32)
    if pg_type == "money":  # the currency symbol and separators dropped (noted)
        return Decimal(printed.replace("$", "").replace(",", "")) == Decimal(read)
    if pg_type == "boolean":
        return {"t": "true", "f": "false"}[printed] == read
    if pg_type == "interval":
        return _same_interval(printed, read)
    if pg_type == "bytea":
        return bytes.fromhex(printed[2:]) == read
    if pg_type in ("timestamptz", "timestamp", "date"):
        return _pg_bc(printed) == read
    return printed == read


@pytest.fixture
def pg_estate(pg_database):
    _pg_setup(pg_database)
    return pg_database


def _hydra_values(ws, ref: str, columns: list[tuple[str, str]]) -> list[tuple]:
    """Each column as DuckDB text, except BLOBs as bytes and lists as lists."""
    types = dict(ws.con.execute("SELECT name, type FROM columns WHERE ref = $1", [ref]).fetchall())
    exprs = []
    for name, _ in columns:
        quoted = _pg_quote(name)
        exprs.append(quoted if types[name] == "BLOB" or types[name].endswith("[]") else f"CAST({quoted} AS VARCHAR)")
    return ws.execute(f"SELECT {', '.join(exprs)} FROM {ref} ORDER BY id").rows


@pytest.mark.parametrize("bulk", ["binary", "copy", "client", "cursor"])
def test_postgres_values_read_as_psql_prints_them(ws, pg_estate, bulk):
    ws.execute(f"ATTACH '{pg_estate}' AS pg (BULK '{bulk}')")
    columns = [(n, t) for n, t, _ in PG_COLUMNS]
    read = _hydra_values(ws, PG_REF, columns)
    printed = _psql(pg_estate, "SELECT " + ", ".join(_pg_quote(n) for n, _ in columns) +
                    f" FROM {_pg_quote(PG_TABLE)} ORDER BY id")
    with psycopg.connect(pg_estate) as con:  # arrays: as the driver returns them
        arrays = con.execute(f"SELECT ints, texts FROM {_pg_quote(PG_TABLE)} ORDER BY id").fetchall()
    wrong = []
    for row, (got, shown, lists) in enumerate(zip(read, printed, arrays), start=1):
        for i, (name, pg_type) in enumerate(columns):
            ok = got[i] == lists[["ints", "texts"].index(name)] if name in ("ints", "texts") else \
                pg_matches(pg_type, shown[i], got[i])
            if not ok:
                wrong.append((row, name, shown[i], got[i]))
    assert wrong == []


def test_postgres_lossy_reads_are_noted(ws, pg_estate):
    ws.execute(f"ATTACH '{pg_estate}' AS pg")
    notes = dict(ws.con.execute("SELECT name, note FROM columns WHERE ref = $1", [PG_REF]).fetchall())
    lossy = {"cash": "currency symbol", "wide": "DOUBLE", "n": "DOUBLE", "n10": "NaN read as NULL",
             "n30": "NaN read as NULL", "ttz": "text", "b": "text", "vb": "text", "tv": "text", "pt": "text",
             "ip": "text", "net": "text", "mac": "text", "x": None}
    for name, word in lossy.items():
        assert (word in notes[name]) if word else notes[name] is None, (name, notes[name])
    exact = ("ts", "tsn", "d", "t", "iv", "raw", "u", "j", "jb", "e", "pos", "st", "f8", "f4", "i2", "i8", "ok",
             "Mixed Case", "select", "vc")
    assert {n: notes[n] for n in exact} == dict.fromkeys(exact)


@pytest.mark.parametrize("fmt", FORMATS)
def test_postgres_estate_extracts_and_reconciles_with_no_false_failure(ws, pg_estate, tmp_path, fmt):
    ws.execute(f"ATTACH '{pg_estate}' AS pg")
    result = ws.execute(f"EXTRACT {PG_REF} TO '{tmp_path}' (FORMAT {fmt}, WORKERS 2)")
    assert result.rows[0][1:3] == ("done", 6)
    reconciled = ws.execute("RECONCILE LAST")
    failed = ws.execute("SELECT check_name, source_value, target_value, detail FROM reconciliations "
                        "WHERE status <> 'pass'").rows
    assert reconciled.message.endswith("all passed"), failed
    names = {r[0] for r in ws.execute("SELECT check_name FROM reconciliations").rows}
    assert {"checksum", "min(ts)", "max(d)", "max(t)", "sum(wide)", "max(n10)", "sum(f4)", "min(i8)"} <= names


# -- MariaDB ---------------------------------------------------------------------------------------

MY_COLUMNS = [
    ("d65", "DECIMAL(65,30)", ["12345678901234567890123456789012345.123456789012345678901234567890",
                               "-0.000000000000000000000000000001", "1.5", "NULL"]),
    ("d10", "DECIMAL(10,2)", ["12345678.91", "-99999999.99", "0", "NULL"]),
    ("bits", "BIT(12)", ["b'101010101010'", "b'0'", "b'111111111111'", "NULL"]),
    ("yr", "YEAR", ["2024", "1901", "2155", "0"]),
    ("t", "TIME", ["'12:34:56'", "'-838:59:59'", "'838:59:59'", "'00:00:00'"]),
    ("t6", "TIME(6)", ["'12:34:56.789'", "'-00:00:00.000001'", "'25:00:00.5'", "NULL"]),
    ("dt", "DATETIME(6)", ["'2024-02-29 12:34:56.123456'", "'1000-01-01 00:00:00.000001'", "'0000-00-00 00:00:00'",
                           "'2024-02-31 00:00:00'"]),
    ("ts", "TIMESTAMP(6) NULL", ["'2024-02-29 12:34:56.123456'", "'1970-01-01 00:00:01'", "'2038-01-19 03:14:07.999999'",
                                 "'0000-00-00 00:00:00'"]),
    ("dd", "DATE", ["'2024-02-29'", "'1000-01-01'", "'0000-00-00'", "'2024-02-30'"]),
    ("e", "ENUM('a','b c','ü')", ["'ü'", "'a'", "'b c'", "NULL"]),
    ("s", "SET('x','y','z')", ["'x,z'", "''", "'x,y,z'", "NULL"]),
    ("j", "JSON", ["'{\"a\": [1, 2.50, null]}'", "'null'", "'\"text\"'", "'[]'"]),
    ("bl", "BLOB", ["x'00ff10'", "x''", "x'5c'", "NULL"]),
    ("ub", "BIGINT UNSIGNED", ["18446744073709551615", "0", "1", "NULL"]),
    ("sb", "BIGINT", ["-9223372036854775808", "9223372036854775807", "-1", "NULL"]),
    ("f", "FLOAT", ["16777217", "-3.4e38", "1.17549e-38", "1.2345678"]),
    ("dbl", "DOUBLE", ["0.1", "1e308", "-2.2250738585072014e-308", "NULL"]),
    ("select", "TEXT", ["'plain'", "''", "'tab\\there\\nnewline \"quote\" \\\\backslash ''s'", "'😀 é שלום'"]),
    ("Mixed Case", "VARCHAR(20)", ["'v'", "''", "'NULL'", "NULL"]),
    ("ch", "CHAR(5)", ["'ab'", "''", "'a'", "NULL"]),
    ("u", "UUID", ["'8c5e2b1a-3f4d-4e6a-9b7c-1d2e3f4a5b6c'", "'00000000-0000-0000-0000-000000000000'", "NULL", "NULL"]),
]
MY_TABLE = "hostile estate"


def _my_connect(url: str):
    return pymysql.connect(host="127.0.0.1", port=3306, user="root", database=url.rsplit("/", 1)[1],
                           autocommit=True, charset="utf8mb4")


def _my_quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


@pytest.fixture
def my_estate(mysql_database):
    columns = ", ".join(f"{_my_quote(n)} {t}" for n, t, _ in MY_COLUMNS)
    rows = ", ".join(f"({i + 1}, " + ", ".join(values[i] for _, _, values in MY_COLUMNS) + ")" for i in range(4))
    con = _my_connect(mysql_database)
    with con.cursor() as cur:
        cur.execute("SET SESSION sql_mode = 'ALLOW_INVALID_DATES'")  # zero dates and 2024-02-30 allowed
        cur.execute(f"CREATE TABLE {_my_quote(MY_TABLE)} (id INT PRIMARY KEY, {columns}) DEFAULT CHARSET=utf8mb4")
        cur.execute(f"INSERT INTO {_my_quote(MY_TABLE)} VALUES {rows}")
    con.close()
    return mysql_database


def _mysql_printed(url: str) -> list[list[str | None]]:
    """Rows as the mysql client prints them (XML: NULL apart from the text 'NULL'), in UTC; BIT as a
    number, BLOB as hex and FLOAT as the DOUBLE holding it (its own text has 6 digits)."""
    exprs = []
    for name, mysql_type, _ in MY_COLUMNS:
        q = _my_quote(name)
        exprs.append({"BIT": f"{q} + 0", "BLOB": f"HEX({q})", "FLOAT": f"CAST({q} AS DOUBLE)"}.get(
            mysql_type.split("(")[0], q))
    sql = f"SELECT {', '.join(exprs)} FROM {_my_quote(MY_TABLE)} ORDER BY id"
    client = "mariadb" if subprocess.run(["which", "mariadb"], capture_output=True).returncode == 0 else "mysql"
    out = subprocess.run([client, "-h", "127.0.0.1", "-P", "3306", "-u", "root", "--protocol=TCP", "--xml",
                          "--default-character-set=utf8mb4", "--init-command=SET time_zone = '+00:00'",
                          "-D", url.rsplit("/", 1)[1], "-e", sql], capture_output=True, check=True).stdout
    nil = "{http://www.w3.org/2001/XMLSchema-instance}nil"
    return [[None if field.get(nil) == "true" else (field.text or "") for field in row]
            for row in ElementTree.fromstring(out)]


def _real_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text[:10])
        return True
    except ValueError:
        return False


def _micros(time_text: str) -> int:
    sign = -1 if time_text.startswith("-") else 1
    h, m, s = time_text.lstrip("-").split(":")
    return sign * round((int(h) * 3600 + int(m) * 60 + float(s)) * 1_000_000)


def my_matches(mysql_type: str, printed: str | None, read) -> bool:
    """Whether the value Hydra read (DuckDB text; BLOB bytes; INTERVAL a timedelta) is what the
    mysql client printed."""
    base = mysql_type.split("(")[0].split(" ")[0]
    if base in ("DATE", "DATETIME", "TIMESTAMP") and printed is not None and not _real_date(printed):
        return read is None  # zero and invalid dates are NULL (noted)
    if printed is None or read is None:
        return printed is None and read is None
    if base == "DECIMAL" and "65" in mysql_type:  # read as DOUBLE (noted)
        return float(printed) == float(read)
    if base == "DECIMAL":
        return Decimal(printed) == Decimal(read)
    if base in ("BIT", "YEAR", "BIGINT"):
        return int(printed) == int(read)
    if base == "FLOAT":
        return np.float32(float(printed)) == np.float32(float(read))
    if base == "DOUBLE":
        return float(printed) == float(read)
    if base == "BLOB":
        return bytes.fromhex(printed) == read
    if base == "TIME":
        return _micros(printed) == _micros(read)  # DuckDB prints the INTERVAL as MySQL does
    if base in ("DATETIME", "TIMESTAMP"):  # DuckDB leaves out a zero fraction; TIMESTAMP is UTC
        kind, zone = ("TIMESTAMPTZ", "+00") if base == "TIMESTAMP" else ("TIMESTAMP", "")
        return duckdb.connect().execute(f"SELECT CAST($1 AS {kind}) = CAST($2 AS {kind})",
                                        [printed + zone, read]).fetchone()[0]
    return printed == read


@pytest.mark.parametrize("bulk", ["client", "cursor"])
def test_mariadb_values_read_as_the_client_prints_them(ws, my_estate, bulk):
    ws.execute(f"ATTACH '{my_estate}' AS my (BULK '{bulk}')")
    ref = f'my.{my_estate.rsplit("/", 1)[1]}."{MY_TABLE}"'
    types = dict(ws.con.execute("SELECT name, type FROM columns WHERE ref = $1", [ref]).fetchall())
    exprs = [f'"{n}"' if types[n] == "BLOB" else f'CAST("{n}" AS VARCHAR)' for n, _, _ in MY_COLUMNS]
    read = ws.execute(f"SELECT {', '.join(exprs)} FROM {ref} ORDER BY id").rows
    printed = _mysql_printed(my_estate)
    wrong = [(row, name, shown[i], got[i]) for row, (got, shown) in enumerate(zip(read, printed), start=1)
             for i, (name, mysql_type, _) in enumerate(MY_COLUMNS) if not my_matches(mysql_type, shown[i], got[i])]
    assert wrong == []
    assert read[1][MY_COLUMNS.index(next(c for c in MY_COLUMNS if c[0] == "t"))] == "-838:59:59"
    notes = dict(ws.con.execute("SELECT name, note FROM columns WHERE ref = $1", [ref]).fetchall())
    assert "DOUBLE" in notes["d65"] and "zero dates" in notes["dt"] and "zero dates" in notes["dd"]
    assert "duration" in notes["t"] or "INTERVAL" in notes["t"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_mariadb_estate_extracts_and_reconciles_with_no_false_failure(ws, my_estate, tmp_path, fmt):
    ws.execute(f"ATTACH '{my_estate}' AS my")
    ref = f'my.{my_estate.rsplit("/", 1)[1]}."{MY_TABLE}"'
    result = ws.execute(f"EXTRACT {ref} TO '{tmp_path}' (FORMAT {fmt}, WORKERS 2)")
    assert result.rows[0][1:3] == ("done", 4)
    reconciled = ws.execute("RECONCILE LAST")
    failed = ws.execute("SELECT check_name, source_value, target_value, detail FROM reconciliations "
                        "WHERE status <> 'pass'").rows
    assert reconciled.message.endswith("all passed"), failed
    names = {r[0] for r in ws.execute("SELECT check_name FROM reconciliations").rows}
    assert {"checksum", "max(d65)", "sum(d65)", "min(f)", "max(dd)", "min(ub)", "max(yr)"} <= names
