"""Exact PROFILE/RECONCILE figures computed by the source in one aggregate query per element.

Per column: null count, distinct count, min and max (returned as text), and for numbers sum and
mean. Strings compare in binary order (``COLLATE "C"``, ``BINARY``, ``_BIN2``) so that min/max
match what DuckDB computes over the extracted files. Aggregates a dialect cannot compute on a
type (json, bytea, arrays…) are skipped, never failed; if the one query still fails, each column
is retried alone and whatever fails is left out.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import TYPE_CHECKING

from hydra.heads.base import Aggregates, Column, Element, HeadError

if TYPE_CHECKING:
    from hydra.heads.sql import SqlHead

_INTS = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT")


def _kind(col: Column) -> str:
    d = col.type.upper()
    src = (col.source_type or "").lower()
    if d in _INTS:
        return "int"
    if d.startswith("DECIMAL") or d in ("FLOAT", "DOUBLE"):
        return "money" if src.startswith("money") else "num"
    if d == "BOOLEAN":
        return "bool"
    if d in ("DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIME"):
        return "time"
    if d == "VARCHAR" and not col.note:
        return "text"
    if d == "UUID":
        return "uuid"
    return "other"  # json, blob, arrays, interval, unknown types: counts only


def column_exprs(head: SqlHead, col: Column) -> dict[str, str]:
    """The aggregate expressions for one column in the head's dialect, by figure name."""
    q = head.quote(col.name)
    fam = head.family
    kind = _kind(col)
    out = {"count": f"COUNT({q})"}
    src = (col.source_type or "").lower()
    if kind == "num" and fam == "postgresql" and col.type.upper() == "DOUBLE" and col.note:
        # numeric without precision is read as DOUBLE: figures on the value as Hydra reads it
        # (the distinct count stays on the exact numbers)
        exact = q
        q = f"CAST({q} AS double precision)"
        out["distinct"] = f"COUNT(DISTINCT {exact})"
    elif kind == "num" and fam == "postgresql" and src.startswith("numeric"):
        # a NaN is read as NULL (DECIMAL has none): count and compare it the same way
        from hydra.heads.sql_postgres import decimal_expr

        q = decimal_expr(q)
        out["count"] = f"COUNT({q})"
    if fam == "mysql" and kind == "time" and col.type.upper() != "TIME":
        # zero and invalid dates are read as NULL: count and compare them the same way
        from hydra.heads.sql_mysql import valid_date_expr

        q = valid_date_expr(q)
        out["count"] = f"COUNT({q})"
    if "distinct" in out:
        pass
    elif kind in ("int", "num", "money", "time", "text", "uuid", "bool"):
        if kind == "bool" and fam == "postgresql":
            out["distinct"] = f"COUNT(DISTINCT {q})"
        elif kind == "text" and fam == "mysql":
            out["distinct"] = f"COUNT(DISTINCT BINARY {q})"
        elif kind == "text" and fam == "mssql":
            out["distinct"] = f"COUNT(DISTINCT {q} COLLATE Latin1_General_BIN2)"
        elif kind == "text" and fam == "postgresql":
            out["distinct"] = f'COUNT(DISTINCT {q} COLLATE "C")'
        else:
            out["distinct"] = f"COUNT(DISTINCT {q})"
    if kind == "time" and fam == "postgresql":
        # as text: the driver's date types hold neither 'infinity', nor years BC, nor '24:00:00'
        out["min"], out["max"] = f"CAST(MIN({q}) AS text)", f"CAST(MAX({q}) AS text)"
    elif kind == "num" and fam == "mysql" and col.type.upper() == "FLOAT":
        # MySQL prints a FLOAT with 6 digits; as DOUBLE it is the exact value
        out["min"], out["max"] = f"MIN(CAST({q} AS DOUBLE))", f"MAX(CAST({q} AS DOUBLE))"
    elif kind in ("int", "num", "time"):
        out["min"], out["max"] = f"MIN({q})", f"MAX({q})"
    elif kind == "money" and fam == "postgresql":
        out["min"], out["max"] = f"MIN({q}::numeric)", f"MAX({q}::numeric)"
    elif kind == "text":
        if fam == "postgresql":
            out["min"], out["max"] = f'MIN({q} COLLATE "C")', f'MAX({q} COLLATE "C")'
        elif fam == "mysql":
            out["min"], out["max"] = f"MIN(BINARY {q})", f"MAX(BINARY {q})"
        elif fam == "mssql":
            out["min"], out["max"] = f"MIN({q} COLLATE Latin1_General_BIN2)", f"MAX({q} COLLATE Latin1_General_BIN2)"
        elif fam == "sqlite":
            out["min"], out["max"] = f"MIN({q})", f"MAX({q})"
    elif kind == "bool" and fam == "postgresql":
        out["min"], out["max"] = f"bool_and({q})", f"bool_or({q})"
    elif kind == "uuid" and fam == "postgresql":
        out["min"], out["max"] = f"MIN({q}::text)", f"MAX({q}::text)"
    if kind in ("int", "num", "money"):
        if fam == "mssql":  # SUM(int) overflows in T-SQL: widen integers first
            out["sum"] = f"SUM(CAST({q} AS DECIMAL(38, 0)))" if kind == "int" else f"SUM({q})"
            out["mean"] = f"AVG(CAST({q} AS FLOAT))"
        elif fam == "postgresql" and kind == "money":
            out["sum"], out["mean"] = f"SUM({q}::numeric)", f"AVG({q}::numeric)"
        elif fam == "postgresql" and col.type.upper() == "FLOAT":
            # SUM(real) is summed in real (7 digits): widen, as DuckDB sums floats in double
            out["sum"], out["mean"] = f"SUM({q}::double precision)", f"AVG({q}::double precision)"
        else:
            out["sum"], out["mean"] = f"SUM({q})", f"AVG({q})"
    return out


def aggregate_sql(head: SqlHead, element: Element, columns: list[Column]) -> tuple[str, list[tuple[str, str]]]:
    """One SELECT computing every figure; returns it and the (column, figure) of each output."""
    exprs = ["COUNT(*)"]
    slots: list[tuple[str, str]] = []
    for col in columns:
        for figure, expr in column_exprs(head, col).items():
            exprs.append(expr)
            slots.append((col.name, figure))
    return f"SELECT {', '.join(exprs)} FROM {head.table_sql(element)}", slots


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _number(value):
    """A sum as the source computed it: NaN stays NaN (PostgreSQL's sum over a NaN is NaN, as
    DuckDB's is), it is not NULL."""
    if value is None or isinstance(value, timedelta):
        return None
    return value


def _postgres_text(value: str) -> str:
    """A PostgreSQL date/time as DuckDB spells it: the era goes after the date ('0044-03-15 (BC)
    10:00:00+00', not '0044-03-15 10:00:00+00 BC'); everything else is spelled alike."""
    if not value.endswith(" BC"):
        return value
    day, space, rest = value[:-3].partition(" ")
    return f"{day} (BC){space}{rest}"


def aggregates(head: SqlHead, element: Element, columns: list[Column]) -> Aggregates:
    ref = ".".join(element.parts)
    known = {c.name: c for c in element.columns or []}
    cols = [known.get(c.name, c) for c in columns]
    sql, slots = aggregate_sql(head, element, cols)
    try:
        with head.engine.connect() as conn:
            row = conn.exec_driver_sql(sql).one()
    except Exception as first:  # noqa: BLE001 - retry column by column, dropping what fails
        row = None
        err = first
    if row is not None:
        total = int(row[0])
        values = dict(zip(slots, row[1:]))
    else:
        values = {}
        total = None
        try:
            with head.engine.connect() as conn:
                total = int(conn.exec_driver_sql(f"SELECT COUNT(*) FROM {head.table_sql(element)}").scalar())
                for col in cols:
                    for figure, expr in column_exprs(head, col).items():
                        try:
                            with conn.begin_nested():  # a failed figure must not end the transaction
                                v = conn.exec_driver_sql(f"SELECT {expr} FROM {head.table_sql(element)}").scalar()
                            values[(col.name, figure)] = v
                        except Exception:  # noqa: BLE001 - this figure is not computable here: left out
                            pass
        except Exception as err2:  # noqa: BLE001
            raise HeadError(f"{head.name}: cannot aggregate {ref}: {head._clean(err2)}") from None
        if total is None:
            raise HeadError(f"{head.name}: cannot aggregate {ref}: {head._clean(err)}")
    out: dict[str, dict] = {}
    for col in cols:
        figures: dict = {}
        for (name, figure), v in values.items():
            if name != col.name:
                continue
            if figure == "count":
                figures["null_count"] = total - int(v)
            elif figure == "distinct":
                figures["distinct_count"] = int(v)
            elif figure in ("min", "max"):
                if isinstance(v, datetime) and v.tzinfo is None and "ZONE" in col.type.upper():
                    v = v.replace(tzinfo=timezone.utc)  # sessions run in UTC
                if isinstance(v, str) and head.family == "postgresql" and _kind(col) == "time":
                    v = _postgres_text(v)
                figures[f"{figure}_value"] = _text(v)
            elif figure == "sum":
                figures["sum_value"] = _number(v)
            elif figure == "mean":
                figures["mean_value"] = float(v) if v is not None else None
        out[col.name] = figures
    return Aggregates(row_count=total, columns=out, method=f"{head.backend} aggregate query")

