"""Source type → (DuckDB type, note) for the SQL head, per dialect.

Pure string work, no imports of drivers: used by enumeration (to fill ``columns``) and by the
readers (to build the Arrow schema, see ``arrow_type``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# a numeric whose precision the catalog does not give is read as DOUBLE (DuckDB's own postgres
# scanner does the same); the note says so
UNCONSTRAINED_NUMERIC_NOTE = "numeric without precision read as DOUBLE (may round beyond 15 digits)"
# PostgreSQL allows NaN in numeric(p,s); DuckDB's DECIMAL has none. Comparisons other than IS NULL
# still give the source's answer (a NaN fails every one DuckDB re-applies to the NULL it became).
NUMERIC_NAN_NOTE = "NaN read as NULL (DECIMAL has no NaN)"
INVALID_DATES_NOTE = "zero dates and invalid ones ('0000-00-00', '2024-02-30') read as NULL"


@dataclass(frozen=True)
class Mapped:
    duck: str  # DuckDB type name
    note: str | None = None


def _decimal(precision: int | None, scale: int | None, source: str) -> Mapped:
    if precision is None:
        return Mapped("DOUBLE", UNCONSTRAINED_NUMERIC_NOTE)
    scale = scale or 0
    if precision > 38:
        return Mapped("DOUBLE", f"{source} wider than DECIMAL(38) read as DOUBLE (may round)")
    return Mapped(f"DECIMAL({precision},{scale})")


_PG_SIMPLE = {
    "smallint": "SMALLINT", "int2": "SMALLINT", "integer": "INTEGER", "int4": "INTEGER",
    "bigint": "BIGINT", "int8": "BIGINT", "real": "FLOAT", "float4": "FLOAT",
    "double precision": "DOUBLE", "float8": "DOUBLE", "boolean": "BOOLEAN", "bool": "BOOLEAN",
    "text": "VARCHAR", "character varying": "VARCHAR", "varchar": "VARCHAR", "character": "VARCHAR",
    "bpchar": "VARCHAR", "name": "VARCHAR", '"char"': "VARCHAR", "citext": "VARCHAR",
    "date": "DATE", "timestamp without time zone": "TIMESTAMP", "timestamp": "TIMESTAMP",
    "timestamp with time zone": "TIMESTAMP WITH TIME ZONE", "timestamptz": "TIMESTAMP WITH TIME ZONE",
    "time without time zone": "TIME", "time": "TIME", "interval": "INTERVAL", "uuid": "UUID",
    "json": "JSON", "jsonb": "JSON", "bytea": "BLOB", "oid": "BIGINT", "xml": "VARCHAR",
}


def postgres(source_type: str, *, is_enum: bool = False, element: str | None = None) -> Mapped:
    """Map ``format_type()`` output. ``element`` is the element type of an array (else None)."""
    if element is not None:
        inner = postgres(element)
        if inner.duck in ("INTERVAL", "TIMESTAMP WITH TIME ZONE", "TIME"):
            return Mapped("VARCHAR[]", f"{source_type} read as a list of text")
        note = "multi-dimensional arrays are flattened" + (f"; {inner.note}" if inner.note else "")
        return Mapped(f"{inner.duck}[]", note)
    if is_enum:
        return Mapped("VARCHAR")
    base = re.sub(r"\(.*?\)", "", source_type).strip()
    base = re.sub(r"\s+", " ", base)
    if base == "numeric":
        m = re.match(r"numeric\((\d+)(?:,(\d+))?\)", source_type.replace(" ", ""))
        mapped = _decimal(int(m.group(1)), int(m.group(2) or 0), source_type) if m else _decimal(None, None, source_type)
        return mapped if mapped.note else Mapped(mapped.duck, NUMERIC_NAN_NOTE)
    if base == "money":
        return Mapped("DECIMAL(19,2)", "money read as DECIMAL(19,2) (the currency symbol is dropped)")
    if base in ("time with time zone", "timetz"):
        return Mapped("VARCHAR", "time with time zone read as text")
    if base in _PG_SIMPLE:
        return Mapped(_PG_SIMPLE[base])
    if base.startswith("bit"):
        return Mapped("VARCHAR", f"{source_type} read as text of 0s and 1s")
    return Mapped("VARCHAR", f"{source_type} read as text")


_MYSQL_INTS = {"tinyint": "TINYINT", "smallint": "SMALLINT", "mediumint": "INTEGER", "int": "INTEGER",
               "integer": "INTEGER", "bigint": "BIGINT"}
_MYSQL_UINTS = {"tinyint": "UTINYINT", "smallint": "USMALLINT", "mediumint": "UINTEGER",
                "int": "UINTEGER", "integer": "UINTEGER", "bigint": "UBIGINT"}


def mysql(column_type: str) -> Mapped:
    """Map MySQL/MariaDB ``information_schema.columns.column_type`` (e.g. 'int(10) unsigned')."""
    ct = column_type.lower().strip()
    base = re.match(r"[a-z]+", ct)
    base = base.group(0) if base else ct
    unsigned = "unsigned" in ct
    if base in _MYSQL_INTS:
        return Mapped((_MYSQL_UINTS if unsigned else _MYSQL_INTS)[base])
    if base in ("decimal", "numeric", "dec", "fixed"):
        m = re.match(r"[a-z]+\((\d+)(?:,(\d+))?\)", ct.replace(" ", ""))
        if m:
            return _decimal(int(m.group(1)), int(m.group(2) or 0), column_type)
        return Mapped("DECIMAL(10,0)")
    if base == "float":
        return Mapped("FLOAT")
    if base in ("double", "real"):
        return Mapped("DOUBLE")
    if base in ("char", "varchar", "tinytext", "text", "mediumtext", "longtext", "json"):
        return Mapped("VARCHAR")
    if base in ("enum", "set"):
        return Mapped("VARCHAR")
    if base in ("binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"):
        return Mapped("BLOB")
    if base == "date":
        return Mapped("DATE", INVALID_DATES_NOTE)
    if base == "datetime":
        return Mapped("TIMESTAMP", INVALID_DATES_NOTE)
    if base == "timestamp":
        return Mapped("TIMESTAMP WITH TIME ZONE", INVALID_DATES_NOTE)
    if base == "time":
        return Mapped("INTERVAL", "time read as INTERVAL (MySQL time is a duration up to 838 hours)")
    if base == "year":
        return Mapped("SMALLINT")
    if base == "bit":
        return Mapped("UBIGINT", f"{column_type} read as an unsigned integer")
    if base == "uuid":  # MariaDB 10.7+
        return Mapped("UUID")
    if base in ("geometry", "point", "linestring", "polygon", "multipoint", "multilinestring",
                "multipolygon", "geometrycollection"):
        return Mapped("VARCHAR", f"{column_type} read as WKT text")
    return Mapped("VARCHAR", f"{column_type} read as text")


_MSSQL = {
    "bigint": "BIGINT", "int": "INTEGER", "smallint": "SMALLINT", "tinyint": "UTINYINT",
    "bit": "BOOLEAN", "float": "DOUBLE", "real": "FLOAT", "date": "DATE",
    "datetime": "TIMESTAMP", "datetime2": "TIMESTAMP", "smalldatetime": "TIMESTAMP",
    "datetimeoffset": "TIMESTAMP WITH TIME ZONE", "time": "TIME",
    "char": "VARCHAR", "varchar": "VARCHAR", "nchar": "VARCHAR", "nvarchar": "VARCHAR",
    "text": "VARCHAR", "ntext": "VARCHAR", "sysname": "VARCHAR", "xml": "VARCHAR",
    "uniqueidentifier": "UUID", "binary": "BLOB", "varbinary": "BLOB", "image": "BLOB",
    "timestamp": "BLOB", "rowversion": "BLOB",
}


def mssql(type_name: str, precision: int | None = None, scale: int | None = None) -> Mapped:
    """Map ``sys.types.name`` (with precision/scale for decimals)."""
    base = type_name.lower()
    if base in ("decimal", "numeric"):
        return _decimal(precision, scale, type_name)
    if base == "money":
        return Mapped("DECIMAL(19,4)", "money read as DECIMAL(19,4)")
    if base == "smallmoney":
        return Mapped("DECIMAL(10,4)", "smallmoney read as DECIMAL(10,4)")
    if base == "datetimeoffset":
        return Mapped("TIMESTAMP WITH TIME ZONE", "datetimeoffset normalised to UTC (the offset is dropped)")
    if base in ("datetime2", "time") and (scale or 0) > 6:
        return Mapped(_MSSQL[base], f"{type_name}({scale}) truncated to microseconds")
    if base in _MSSQL:
        return Mapped(_MSSQL[base])
    return Mapped("VARCHAR", f"{type_name} read as text")


def from_sqlalchemy(satype) -> Mapped:
    """Map a SQLAlchemy type instance (generic dialects: sqlite, HANA, …)."""
    from sqlalchemy import types as t

    name = type(satype).__name__.upper()
    try:
        if isinstance(satype, t.Boolean):
            return Mapped("BOOLEAN")
        if isinstance(satype, t.BigInteger):
            return Mapped("BIGINT")
        if isinstance(satype, t.SmallInteger):
            return Mapped("SMALLINT")
        if isinstance(satype, t.Integer):
            return Mapped("BIGINT")
        if isinstance(satype, t.Float):
            return Mapped("DOUBLE")
        if isinstance(satype, t.Numeric):
            return _decimal(satype.precision, satype.scale, str(satype))
        if isinstance(satype, t.DateTime):
            return Mapped("TIMESTAMP WITH TIME ZONE" if getattr(satype, "timezone", False) else "TIMESTAMP")
        if isinstance(satype, t.Date):
            return Mapped("DATE")
        if isinstance(satype, t.Time):
            return Mapped("TIME")
        if isinstance(satype, t.Interval):
            return Mapped("INTERVAL")
        if isinstance(satype, (t.LargeBinary, t._Binary)):  # noqa: SLF001 - SQLAlchemy names no public base
            return Mapped("BLOB")
        if isinstance(satype, (t.String, t.Enum)):
            return Mapped("VARCHAR")
        if isinstance(satype, t.JSON):
            return Mapped("JSON")
    except Exception:  # noqa: BLE001 - odd third-party types: fall through to text
        pass
    if name == "NULLTYPE":
        return Mapped("VARCHAR", "type unknown, read as text")
    return Mapped("VARCHAR", f"{satype} read as text")


def arrow_type(duck: str):
    """The Arrow type a reader produces for a DuckDB type name (None: let Arrow infer)."""
    import pyarrow as pa

    d = duck.upper()
    if d.endswith("[]"):
        inner = arrow_type(d[:-2])
        return pa.list_(inner if inner is not None else pa.string())
    simple = {
        "BOOLEAN": pa.bool_(), "TINYINT": pa.int8(), "SMALLINT": pa.int16(), "INTEGER": pa.int32(),
        "BIGINT": pa.int64(), "UTINYINT": pa.uint8(), "USMALLINT": pa.uint16(),
        "UINTEGER": pa.uint32(), "UBIGINT": pa.uint64(), "FLOAT": pa.float32(), "DOUBLE": pa.float64(),
        "VARCHAR": pa.string(), "JSON": pa.json_(), "UUID": pa.uuid(), "BLOB": pa.binary(),
        "DATE": pa.date32(), "TIMESTAMP": pa.timestamp("us"),
        "TIMESTAMP WITH TIME ZONE": pa.timestamp("us", tz="UTC"), "TIME": pa.time64("us"),
        "INTERVAL": pa.month_day_nano_interval(),
    }
    if d in simple:
        return simple[d]
    m = re.match(r"DECIMAL\((\d+),(\d+)\)", d.replace(" ", ""))
    if m:
        return pa.decimal128(int(m.group(1)), int(m.group(2)))
    return None
