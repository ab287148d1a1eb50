"""Figures about a table expression, computed by DuckDB in one aggregate query.

PROFILE stores them in ``stats``; RECONCILE computes them at the source and at the target and
compares (``judge``). Per column: null count, distinct count (exact or approximate), min and max as
text, sum/mean for numbers, and for floating-point numbers the sum of absolute values (which bounds
the rounding of their sum).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from hydra.transfer.common import checksum_sql, is_float, is_nested, is_numeric, q

FLOAT_UNIT = 2.0 ** -53  # DOUBLE's unit roundoff: the relative error of one rounding


def aggregate_sql(expr: str, columns: list[tuple[str, str]], where: str = "", distinct: str | None = None,
                  checksum: bool = False, cast: bool = False, minmax: bool = True,
                  group_by: str | None = None) -> tuple[str, list[tuple]]:
    """The query, and (column, figure) for each output position after the row count.

    ``distinct``: None (none), 'exact' or 'approx'. ``cast``: read each column as its recorded
    type (target files). ``checksum``: also the order-independent checksum. ``group_by``: a
    column (SQL) whose groups get their figures each, selected first.
    """
    def col(name, type_):
        return f"CAST({q(name)} AS {type_})" if cast else q(name)

    selects = ["count(*)"]
    layout: list[tuple] = []
    for name, type_ in columns:
        c = col(name, type_)
        selects.append(f"count(*) - count({c})")
        layout.append((name, "null_count"))
        if distinct == "exact":
            selects.append(f"count(DISTINCT {c})")
            layout.append((name, "distinct_count"))
        elif distinct == "approx":
            selects.append(f"approx_count_distinct({c})")
            layout.append((name, "distinct_count"))
        if minmax and not is_nested(type_):
            selects += [f"min({c})::VARCHAR", f"max({c})::VARCHAR"]
            layout += [(name, "min_value"), (name, "max_value")]
        if is_numeric(type_):
            selects += [f"sum({c})::VARCHAR", f"avg({c})::DOUBLE"]
            layout += [(name, "sum_value"), (name, "mean_value")]
            if is_float(type_):  # bounds the rounding error of a floating-point sum (judge)
                selects.append(f"sum(abs({c}))::DOUBLE")
                layout.append((name, "abs_sum"))
    if checksum:
        selects.append(checksum_sql(columns))
        layout.append((None, "checksum"))
    if group_by:
        return (f"SELECT {group_by}, {', '.join(selects)} FROM {expr} AS __src{where} GROUP BY {group_by}",
                layout)
    return f"SELECT {', '.join(selects)} FROM {expr} AS __src{where}", layout


def run_aggregates(con, expr: str, columns: list[tuple[str, str]], where: str = "", **options) -> dict:
    """{'row_count': n, 'checksum': …, 'columns': {name: {figure: value}}}"""
    sql, layout = aggregate_sql(expr, columns, where, **options)
    row, = con.execute(sql).fetchall()  # all: the cursor is reused for the next element
    return _figures(row, layout, columns)


def run_aggregates_by(con, expr: str, columns: list[tuple[str, str]], group_by: str, **options) -> dict:
    """``run_aggregates`` for each group of ``group_by`` (SQL) in one query: {group: figures}.
    Groups without rows are missing."""
    sql, layout = aggregate_sql(expr, columns, group_by=group_by, **options)
    return {row[0]: _figures(row[1:], layout, columns) for row in con.execute(sql).fetchall()}


def _figures(row, layout: list[tuple], columns: list[tuple[str, str]]) -> dict:
    found: dict = {"row_count": row[0], "columns": {name: {} for name, _ in columns}}
    for (name, figure), value in zip(layout, row[1:]):
        if name is None:
            found[figure] = value
        else:
            found["columns"][name][figure] = value
    return found


@dataclass
class Verdict:
    """Whether two figures agree, and how, when not digit for digit (for ``reconciliations.detail``)."""

    ok: bool
    how: str | None = None


def judge(figure: str, type_: str, source_value, target_value, *, values: int | None = None,
          abs_sum: float | None = None, read_as: str | None = None) -> Verdict:
    """Compare one figure of a column of DuckDB type ``type_`` computed at the source and at the
    target.

    Exact, whatever the spelling: numbers as decimals (1.50 = 1.5, NaN = NaN), other values as
    the same value of ``type_`` (12:34:56.789000 = 12:34:56.789). Floating-point figures as the
    type can hold them: min and max are rounded to it (a MySQL FLOAT printed in 17 digits, a
    DECIMAL(65,30) read as DOUBLE), and a sum within the bound on the rounding of ``values``
    additions in any order, ``2·n·2⁻⁵³·Σ|x|`` (``abs_sum`` = Σ|x| at the target): each end rounds
    every value to DOUBLE at most once and adds in its own order. ``read_as``: the lossy read
    behind the column (e.g. "numeric(1000,500) read as DOUBLE"), said in the verdict."""
    verdict = _judge(figure, type_, source_value, target_value, values, abs_sum)
    if read_as and figure != "null_count":
        verdict.how = f"{read_as}: {verdict.how or ('equal' if verdict.ok else 'differ')}"
    return verdict


def _judge(figure, type_, source_value, target_value, values, abs_sum) -> Verdict:
    if source_value is None or target_value is None:
        return Verdict(source_value is None and target_value is None)
    a, b = str(source_value), str(target_value)
    if not is_numeric(type_):
        return Verdict(a == b or _same_value(type_, a, b))
    try:
        x, y = Decimal(a), Decimal(b)
    except InvalidOperation:
        return Verdict(a == b)
    if not (x.is_finite() and y.is_finite()):
        return Verdict((x.is_nan() and y.is_nan()) or x == y)
    if is_float(type_) and figure == "sum_value" and values is not None and abs_sum is not None:
        bound = 2 * values * FLOAT_UNIT * abs_sum
        why = (f"2·n·2⁻⁵³·Σ|x| (n = {values}, Σ|x| = {abs_sum:.6g}): each value rounded to DOUBLE, "
               f"n additions in any order")
        difference = abs(float(x - y))
        if difference <= bound:
            return Verdict(True, f"equal within ±{bound:.3g} = {why}")
        return Verdict(False, f"differ by {difference:.3g}, more than ±{bound:.3g} = {why}")
    if x == y:
        return Verdict(True)
    if is_float(type_) and figure in ("min_value", "max_value"):
        return Verdict(_rounded(x, type_) == _rounded(y, type_),
                       f"the source's value rounded to {type_.upper()}, the type it is read as")
    return Verdict(False)


def _rounded(value: Decimal, type_: str) -> float:
    """A number rounded to FLOAT or DOUBLE (correctly rounded: via its decimal text)."""
    import numpy as np

    return float(np.float32(str(value))) if type_.upper() in ("FLOAT", "REAL") else float(str(value))


_duckdb = None
_duckdb_lock = threading.Lock()


def _same_value(type_: str, a: str, b: str) -> bool:
    """Whether two texts spell the same value of a DuckDB type (dates, times, timestamps,
    intervals, uuids, booleans…), as DuckDB reads them. Text types compare exactly."""
    global _duckdb
    if type_.upper() in ("VARCHAR", "JSON", "BLOB") or is_nested(type_):
        return False
    import duckdb

    with _duckdb_lock:
        if _duckdb is None:
            _duckdb = duckdb.connect()
        try:
            (same,), = _duckdb.execute(f"SELECT TRY_CAST($1 AS {type_}) = TRY_CAST($2 AS {type_})", [a, b]).fetchall()
        except duckdb.Error:
            return False
    return bool(same)
