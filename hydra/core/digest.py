"""Values made comparable across engines, in each engine's own SQL (``RECONCILE … AGAINST …``).

Two copies of a table in two databases hold the same values spelled differently: 10.50 and
10.5000 (decimal scale), 12:00+02 and 10:00 UTC (zone), 'abc  ' and 'abc' (CHAR padding), and
floating-point numbers a rounding apart. Each column of a compared pair gets a ``Norm`` (chosen
from both sides' types and the statement's options, ``hydra.transfer.against``) and each engine
writes the column as the same canonical text:

* ``number`` — integers and decimals as a decimal at one scale (the larger of the two sides');
* ``float`` — ``floor(x / tolerance)`` as a whole number: two values more than the tolerance
  apart always differ there, two within it may too (they are then compared exactly, row by row);
* ``timestamp`` — UTC (a value without a zone is taken as UTC), truncated to the precision, as
  ``YYYY-MM-DD HH:MM:SS.ffffff``; ``date`` as ``YYYY-MM-DD``;
* ``text`` — trimmed of leading and trailing blanks unless ``trim`` is off; ``bool`` as 1/0;
* ``other`` — the engine's own text of the value (not normalised: may differ across engines).

A row's hash is the first 60 bits of the MD5 of its columns' canonical texts (separated by
U+001F, a NULL spelled U+001E), the same number in PostgreSQL, MySQL/MariaDB and DuckDB; the
sum of a range's row hashes does not depend on the order of its rows.
"""

from __future__ import annotations

from dataclasses import dataclass

DIALECTS = ("postgresql", "mysql", "duckdb")
PRECISIONS = {"s": 1_000_000, "ms": 1_000, "us": 1}  # microseconds per unit kept
DEFAULT_FLOAT_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Norm:
    """How one column is normalised before it is compared."""

    kind: str  # number, float, timestamp, date, text, bool, other
    scale: int = 0  # number: digits after the point
    tolerance: float = DEFAULT_FLOAT_TOLERANCE  # float: absolute
    precision: str = "us"  # timestamp: s, ms or us
    zoned: bool = False  # timestamp: the value carries a zone at this side (converted to UTC)
    trim: bool = True  # text
    parse: bool = False  # timestamp: this side holds text (a CSV column), read as a timestamp first

    def describe(self) -> str:
        if self.kind == "number":
            return f"decimal at scale {self.scale}"
        if self.kind == "float":
            return f"floating point, equal within ±{self.tolerance:g}"
        if self.kind == "timestamp":
            unit = {"s": "seconds", "ms": "milliseconds", "us": "microseconds"}[self.precision]
            parsed = "text read as a " if self.parse else ""
            return f"{parsed}timestamp in UTC (no zone = UTC), truncated to {unit}"
        if self.kind == "text":
            return "text, trimmed of leading and trailing blanks" if self.trim else "text, as it is"
        if self.kind == "bool":
            return "boolean as 1/0"
        if self.kind == "date":
            return "date"
        return "the engine's text of the value, not normalised"


def value_sql(dialect: str, column: str, norm: Norm) -> str:
    """The column as a comparable value (decimal, UTC timestamp text, trimmed text…): what the
    figures (min, max, sum) are computed on. ``column``: the quoted column."""
    c = column
    if norm.kind == "number":
        width = 38 if dialect == "duckdb" else 65
        kind = "numeric" if dialect == "postgresql" else "DECIMAL"
        return f"CAST({c} AS {kind}({width}, {norm.scale}))"
    if norm.kind == "float":
        return f"CAST({c} AS {'double precision' if dialect == 'postgresql' else 'DOUBLE'})"
    if norm.kind == "timestamp":
        return _timestamp_text(dialect, c, norm)
    if norm.kind == "date":
        return {"postgresql": f"to_char({c}, 'YYYY-MM-DD')", "mysql": f"DATE_FORMAT({c}, '%Y-%m-%d')",
                "duckdb": f"strftime(CAST({c} AS DATE), '%Y-%m-%d')"}[dialect]
    if norm.kind == "bool":
        return {"postgresql": f"CASE WHEN {c} THEN '1' WHEN NOT {c} THEN '0' END",
                "mysql": f"CASE WHEN {c} <> 0 THEN '1' WHEN {c} = 0 THEN '0' END",
                "duckdb": f"CASE WHEN {c} THEN '1' WHEN NOT {c} THEN '0' END"}[dialect]
    text = _text(dialect, c)
    if norm.kind == "text" and norm.trim:
        return f"TRIM({text})"
    return text


def text_sql(dialect: str, column: str, norm: Norm) -> str:
    """The column's canonical text (NULL stays NULL): what a row's hash is made of."""
    value = value_sql(dialect, column, norm)
    if norm.kind == "float":
        grid = f"FLOOR({value} / {norm.tolerance!r})"
        value = value_sql(dialect, grid, Norm("number"))
    if norm.kind in ("number", "float"):
        return _text(dialect, value)
    return value


def row_hash_sql(dialect: str, texts: list[str]) -> str:
    """A row's 60-bit hash from its columns' canonical texts (``text_sql``), as an integer."""
    sep, null = {"postgresql": ("chr(31)", "chr(30)"), "mysql": ("CHAR(31 USING utf8mb4)", "CHAR(30 USING utf8mb4)"),
                 "duckdb": ("chr(31)", "chr(30)")}[dialect]
    joined = f" || {sep} || ".join(f"COALESCE({t}, {null})" for t in texts) if dialect != "mysql" else \
        "CONCAT(" + f", {sep}, ".join(f"COALESCE({t}, {null})" for t in texts) + ")"
    if dialect == "postgresql":
        return f"(('x' || substr(md5({joined}), 1, 15))::bit(60)::bigint)"
    if dialect == "mysql":
        return f"CAST(CONV(SUBSTRING(MD5({joined}), 1, 15), 16, 10) AS UNSIGNED)"
    return f"(('0x' || substr(md5({joined}), 1, 15))::BIGINT)"


def int_div(dialect: str, a: str, b: str) -> str:
    return {"postgresql": f"(({a}) / ({b}))", "mysql": f"(({a}) DIV ({b}))", "duckdb": f"(({a}) // ({b}))"}[dialect]


def binary_text(dialect: str, text: str) -> str:
    """Text ordered by its bytes (for min and max that agree across engines)."""
    return {"postgresql": f'({text}) COLLATE "C"', "mysql": f"BINARY ({text})", "duckdb": text}[dialect]


def _text(dialect: str, c: str) -> str:
    if dialect == "postgresql":
        return f"CAST({c} AS text)"
    if dialect == "mysql":
        return f"CONVERT({c} USING utf8mb4)"
    return f"CAST({c} AS VARCHAR)"


def _timestamp_text(dialect: str, c: str, norm: Norm) -> str:
    step = PRECISIONS[norm.precision]
    if norm.parse:  # text with or without an offset (without: UTC, the sessions' zone)
        c = {"postgresql": f"CAST({c} AS timestamptz)", "mysql": f"CAST({c} AS DATETIME(6))",
             "duckdb": f"CAST({c} AS TIMESTAMPTZ)"}[dialect]
    if dialect == "postgresql":
        utc = f"({c} AT TIME ZONE 'UTC')" if norm.zoned else c
        micros = f"(CAST(EXTRACT(MICROSECONDS FROM {utc}) AS bigint) % 1000000 / {step} * {step})"
        return f"(to_char({utc}, 'YYYY-MM-DD HH24:MI:SS') || '.' || lpad(CAST({micros} AS text), 6, '0'))"
    if dialect == "mysql":  # the session runs in UTC (TIMESTAMP columns are given in it)
        micros = f"(MICROSECOND({c}) DIV {step} * {step})"
        return f"CONCAT(DATE_FORMAT({c}, '%Y-%m-%d %H:%i:%s'), '.', LPAD({micros}, 6, '0'))"
    utc = f"timezone('UTC', {c})" if norm.zoned else f"CAST({c} AS TIMESTAMP)"
    micros = f"(microsecond({utc}) % 1000000 // {step} * {step})"
    return f"(strftime({utc}, '%Y-%m-%d %H:%M:%S') || '.' || lpad(CAST({micros} AS VARCHAR), 6, '0'))"
