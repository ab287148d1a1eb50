"""Every output format prints what DuckDB holds (issue 11, item 2).

The reference is DuckDB's own text of each value, ``CAST(v AS VARCHAR)``, asked of the same
connection (so TIMESTAMPTZ follows the session's time zone); JSON output must parse with a strict
parser and carry the same values: numbers with DuckDB's exact digits, NaN/±infinity as DuckDB's
text in strings, nested values as nested JSON."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from decimal import Decimal

import pytest

from hydra.shell.output import FORMATS
from hydra.shell.session import Session

# one DuckDB value per case: the SQL that makes it
VALUES = {
    "interval": "INTERVAL '14 months 3 days'",
    "interval_time": "INTERVAL '1 day 02:03:04.5'",
    "timestamp": "TIMESTAMP '2024-02-29 23:59:59.123456'",
    "timestamp_inf": "'infinity'::TIMESTAMP",
    "timestamp_neg_inf": "'-infinity'::TIMESTAMP",
    "timestamp_max_python": "TIMESTAMP '9999-12-31 23:59:59.999999'",
    "timestamp_ns": "'2024-01-01 00:00:00.123456789'::TIMESTAMP_NS",
    "timestamp_ns_inf": "'infinity'::TIMESTAMP_NS",
    "timestamp_ms": "'2024-01-01 00:00:00.5'::TIMESTAMP_MS",
    "timestamp_s": "'2024-01-01 00:00:01'::TIMESTAMP_S",
    "timestamptz": "TIMESTAMPTZ '2024-07-01 12:00:00+00'",
    "timestamptz_inf": "'infinity'::TIMESTAMPTZ",
    "date": "DATE '2024-02-29'",
    "date_inf": "DATE 'infinity'",
    "date_neg_inf": "DATE '-infinity'",
    "date_bc": "DATE '0044-03-15 (BC)'",
    "time": "TIME '12:34:56.789'",
    "time_tz": "TIMETZ '12:34:56+02:30'",
    "decimal": "1.50::DECIMAL(10,2)",
    "decimal_zero": "0::DECIMAL(6,3)",
    "decimal_negative": "-0.05::DECIMAL(4,2)",
    "decimal_38": "'12345678901234567890123456789.123456789'::DECIMAL(38,9)",
    "hugeint_max": "170141183460469231731687303715884105727::HUGEINT",
    "hugeint_min": "(-170141183460469231731687303715884105727 - 1)::HUGEINT",
    "uhugeint_max": "340282366920938463463374607431768211455::UHUGEINT",
    "ubigint_max": "18446744073709551615::UBIGINT",
    "bigint_min": "(-9223372036854775807 - 1)::BIGINT",
    "tinyint": "-5::TINYINT",
    "double": "0.1::DOUBLE",
    "double_big": "1e300::DOUBLE",
    "double_whole": "2.0::DOUBLE",
    "double_negative_zero": "'-0.0'::DOUBLE",
    "double_nan": "'NaN'::DOUBLE",
    "double_inf": "'inf'::DOUBLE",
    "double_neg_inf": "'-inf'::DOUBLE",
    "float": "0.1::FLOAT",
    "float_nan": "'nan'::FLOAT",
    "boolean": "true",
    "varchar": """'a "quoted", comma'""",
    "varchar_unicode": "'Zürich 東京 😀'",
    "blob": "'\\xAA\\x00abc'::BLOB",
    "uuid": "'12345678-1234-5678-1234-567812345678'::UUID",
    "enum": "'happy'::ENUM('sad', 'happy')",
    "bit": "'10110'::BIT",
    "json": """'{"a": null, "b": [1, 2.50]}'::JSON""",
    "list": "[1, 2, NULL]",
    "list_of_doubles": "[1.5, 'nan'::DOUBLE, 'inf'::DOUBLE, '-inf'::DOUBLE]",
    "list_of_text": """['NaN', 'Infinity', 'say "NaN"']""",
    "struct": "{'a': 1, 'b': 'x y', 'i': INTERVAL 1 MONTH, 't': 'infinity'::TIMESTAMP}",
    "map": "MAP {'k': [1.5], 'n': ['nan'::DOUBLE]}",
    "union": "union_value(num := 2)::UNION(num INTEGER, str VARCHAR)",
    "array": "[[1, 2], [3, 4]]::INTEGER[2][]",
    "nested_decimal": "[1.50::DECIMAL(4,2)]",
}
TIME_ZONE = "Asia/Kathmandu"  # +05:45: a zone no machine default is likely to share


def _refuse(constant):
    raise ValueError(f"not JSON: {constant}")


def _strict_json(text):
    """JSON as a strict parser reads it: NaN/Infinity refused, numbers kept exact."""
    return json.loads(text, parse_constant=_refuse, parse_float=Decimal)


@pytest.fixture(scope="module")
def ws():
    """One workspace for the module (431 cases; each opening its own took a minute)."""
    from hydra.statements.workspace import Workspace

    workspace = Workspace.open(":memory:")
    yield workspace
    workspace.close()


@pytest.fixture
def session(ws):
    session = Session(ws, "csv", out=io.StringIO(), err=io.StringIO())
    session.max_width = None  # table mode shows whole values
    session.run_text(f"SET TimeZone = '{TIME_ZONE}'")
    return session


def show(session, fmt: str, sql: str) -> str:
    session.format = fmt
    session.out = io.StringIO()
    session.run_text(sql)
    return session.out.getvalue()


def duckdb_text(ws, expression: str) -> str:
    (text,) = ws.con.execute(f"SELECT CAST({expression} AS VARCHAR)").fetchone()
    return text


def expected_json(ws, expression: str):
    """The JSON value the rule in README gives for a DuckDB value, from DuckDB's own text."""
    (type_id,) = ws.con.execute(f"SELECT typeof({expression})").fetchone()
    text = duckdb_text(ws, expression)
    if text in ("nan", "inf", "-inf") and type_id in ("DOUBLE", "FLOAT"):
        return text
    if type_id == "BOOLEAN":
        return text == "true"
    if type_id.endswith("]") or type_id.startswith(("STRUCT", "MAP", "UNION")):
        (nested,) = ws.con.execute(f"SELECT to_json({expression})").fetchone()
        return json.loads(nested, parse_float=Decimal,
                          parse_constant={"NaN": "nan", "Infinity": "inf", "-Infinity": "-inf"}.get)
    if type_id == "JSON" or type_id.startswith(("DECIMAL", "HUGEINT", "UHUGEINT", "BIGINT", "UBIGINT", "TINYINT",
                                                 "DOUBLE", "FLOAT")):
        return _strict_json(text)  # the exact number DuckDB prints
    return text


def cell_of(fmt: str, output: str) -> str | None:
    """The one value of a one-row, one-column result ``v`` as ``fmt`` printed it."""
    lines = output.splitlines()
    if fmt in ("csv", "tsv"):
        header, row = list(csv.reader(io.StringIO(output), delimiter="," if fmt == "csv" else "\t"))
        assert header == ["v"]
        return row[0]
    if fmt == "list":
        assert lines[0] == "v" and len(lines) == 2
        return lines[1]
    if fmt == "line":
        assert len(lines) == 1 and lines[0].startswith("v = ")
        return lines[0][len("v = "):]
    if fmt == "markdown":
        assert lines[:2] == ["| v |", "|---|"]
        return lines[2][2:-2]
    if fmt == "table":
        assert lines[-1] == "1 row"
        return lines[3][2:-2].strip()
    raise AssertionError(fmt)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("case", VALUES)
def test_every_format_prints_what_duckdb_holds(session, ws, fmt, case):
    expression = VALUES[case]
    output = show(session, fmt, f"SELECT {expression} AS v")
    if fmt == "json":
        assert _strict_json(output) == [{"v": expected_json(ws, expression)}]
    elif fmt == "jsonl":
        assert [_strict_json(line) for line in output.splitlines()] == [{"v": expected_json(ws, expression)}]
    else:
        assert cell_of(fmt, output) == duckdb_text(ws, expression)


def test_the_reference_is_what_the_issue_names(ws, session):
    """DuckDB's text is the reference: spot checks that it says what the issue expects."""
    assert duckdb_text(ws, VALUES["interval"]) == "1 year 2 months 3 days"
    assert duckdb_text(ws, VALUES["timestamp_inf"]) == "infinity"
    assert duckdb_text(ws, VALUES["date_neg_inf"]) == "-infinity"
    assert duckdb_text(ws, VALUES["timestamptz"]) == "2024-07-01 17:45:00+05:45"  # the session's zone
    assert duckdb_text(ws, VALUES["decimal"]) == "1.50"
    assert duckdb_text(ws, VALUES["blob"]) == "\\xAA\\x00abc"


def test_json_keeps_exact_digits_and_scale(session):
    text = show(session, "jsonl", f"SELECT {VALUES['decimal']} AS d, {VALUES['decimal_38']} AS big, "
                                  f"{VALUES['hugeint_max']} AS h, {VALUES['double_nan']} AS n")
    assert text == ('{"d": 1.50, "big": 12345678901234567890123456789.123456789, '
                    '"h": 170141183460469231731687303715884105727, "n": "nan"}\n')


def test_nulls_in_every_format(session):
    expected = {"csv": "a,b\n1,\n", "tsv": "a\tb\n1\t\n", "list": "a|b\n1|\n", "jsonl": '{"a": 1, "b": null}\n',
                "json": '[\n{"a": 1, "b": null}\n]\n', "markdown": "| a | b |\n|---|---|\n| 1 | NULL |\n",
                "line": "a = 1\nb = NULL\n"}
    for fmt, text in expected.items():
        assert show(session, fmt, "SELECT 1 AS a, NULL::TIMESTAMP AS b") == text, fmt


def test_rows_keep_the_order_of_the_query_and_stream(session):
    text = show(session, "csv", "SELECT i, INTERVAL (i) DAY AS d FROM range(100000) t(i) ORDER BY i DESC")
    lines = text.splitlines()
    assert lines[:3] == ["i,d", "99999,99999 days", "99998,99998 days"] and lines[-1] == "0,00:00:00"
    assert len(lines) == 100_001


def test_an_error_while_reading_comes_before_any_output(session):
    from hydra.core.errors import HydraError

    with pytest.raises(HydraError, match="boom"):
        show(session, "csv", "SELECT CASE WHEN i = 50000 THEN error('boom') ELSE i END AS v FROM range(100000) t(i)")
    assert session.out.getvalue() == ""


def test_describe_pragma_call_and_returning_print_duckdb_text_too(session):
    show(session, "csv", "CREATE OR REPLACE TABLE t (i INTERVAL, d DATE)")
    assert show(session, "csv", "INSERT INTO t VALUES (INTERVAL '14 months', DATE 'infinity') RETURNING *") == \
        "i,d\n1 year 2 months,infinity\n"
    assert show(session, "csv", "CALL range(DATE '2024-01-01', DATE '2024-01-02', INTERVAL 1 DAY)") == \
        "range\n2024-01-01 00:00:00\n"
    assert show(session, "list", "DESCRIBE t").splitlines()[1].startswith("i|INTERVAL|")


def test_the_issue_command_prints_correct_values(hydra_cmd):
    out = subprocess.run([*hydra_cmd, ":memory:", "--format", "csv", "-c",
                          "SELECT INTERVAL '14 months 3 days' i, 'infinity'::TIMESTAMP t, DATE '-infinity' d, "
                          "'NaN'::DOUBLE n"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "i,t,d,n\n1 year 2 months 3 days,infinity,-infinity,nan\n"
    out = subprocess.run([*hydra_cmd, ":memory:", "--format", "json", "-c",
                          "SELECT 'NaN'::DOUBLE n, '-inf'::DOUBLE m, [1.0, 'inf'::DOUBLE] l"],
                         capture_output=True, text=True, timeout=60)
    assert _strict_json(out.stdout) == [{"n": "nan", "m": "-inf", "l": [Decimal("1.0"), "inf"]}]
