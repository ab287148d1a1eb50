"""Figures about a table expression, computed by DuckDB in one aggregate query.

PROFILE stores them in ``stats``; RECONCILE computes them at the source and at the target and
compares. Per column: null count, distinct count (exact or approximate), min and max as text, and
sum/mean for numbers.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from hydra.outbound.common import checksum_sql, is_float, is_nested, is_numeric, q

FLOAT_TOLERANCE = 1e-9  # relative, for sums of floating-point columns (order changes the last bits)


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


def same(figure: str, type_: str, source_value, target_value) -> bool:
    """Whether two figures agree: exact, except sums of floats (relative tolerance) and values
    formatted differently by different engines (1.50 vs 1.5)."""
    if source_value is None or target_value is None:
        return source_value is None and target_value is None
    a, b = str(source_value), str(target_value)
    if a == b:
        return True
    try:
        x, y = Decimal(a), Decimal(b)
    except InvalidOperation:
        return _same_time(a, b)
    if x == y:
        return True
    if figure in ("sum_value", "mean_value") and (is_float(type_) or figure == "mean_value"):
        scale = max(abs(x), abs(y), Decimal(1))
        return abs(x - y) <= scale * Decimal(FLOAT_TOLERANCE)
    return False


def _same_time(a: str, b: str) -> bool:
    from datetime import datetime

    def parse(text):
        text = text.strip().replace("T", " ")
        if text.endswith("+00") or text.endswith("-00"):
            text += ":00"
        return datetime.fromisoformat(text)

    try:
        return parse(a) == parse(b)
    except ValueError:
        return False
