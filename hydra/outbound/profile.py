"""PROFILE: exact statistics about elements, computed at the source, into ``stats``.

A head that can aggregate at its source (``head.aggregates``: a SQL head pushes one aggregate
query to its engine) is asked first; otherwise DuckDB aggregates the element's scan in one pass
(for native scans such as ``read_csv`` that is DuckDB's own parallel reader).
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor

from hydra.errors import HydraError, one_line
from hydra.outbound.common import Item, items_for, open_scan
from hydra.outbound.figures import run_aggregates
from hydra.statements import Cursor, Result, statement

EXACT_DISTINCT_UP_TO = 1_000_000  # estimated rows; above this, distinct counts are approximate


def describe(con, expr: str) -> list[tuple[str, str]]:
    """(name, DuckDB type) of a table expression, without reading it."""
    rel = con.sql(f"SELECT * FROM {expr} AS __src")
    return [(name, str(type_)) for name, type_ in zip(rel.columns, rel.types)]


def parse_selection_options(stmt):
    """``<selection> [(OPTION value, …)]`` → (selections, options)."""
    from hydra.commands import leading_selection

    selections, options_at = leading_selection(stmt, "L_PAREN")
    options = {}
    if options_at is not None:
        cur = Cursor(stmt)
        cur.i = options_at
        options = cur.options()
        cur.done()
    return selections, options


@statement(
    "PROFILE",
    syntax="PROFILE <ref | glob | MARKED>[, …] [(DISTINCT exact|approx, WORKERS n)]",
    help="Compute exact row counts and per-column statistics at the source into stats",
)
def profile(ws, stmt) -> Result:
    selections, options = parse_selection_options(stmt)
    distinct_option = (options.pop("DISTINCT", "") or "").lower() or None
    workers = options.pop("WORKERS", None)
    if options:
        raise HydraError(f"PROFILE: unknown option {sorted(options)[0]}; accepted: DISTINCT, WORKERS")
    if distinct_option not in (None, "exact", "approx"):
        raise HydraError("PROFILE: DISTINCT is exact or approx")
    try:
        workers = max(1, int(workers)) if workers is not None else max(1, min(4, os.cpu_count() or 2))
    except ValueError:
        raise HydraError("PROFILE: WORKERS must be a whole number") from None
    items = items_for(ws, selections, marked_filters=False)
    prepared, rows, failed = [], {}, 0
    for item in items:  # heads and schemas in this thread: they may touch the workspace
        try:
            ws.head(item.source)
            ws.columns_of(item.source, item.element)
            prepared.append(item)
        except Exception as err:  # noqa: BLE001 - one element's failure is reported, others go on
            failed += 1
            error = str(err) if isinstance(err, HydraError) else one_line(err)
            store_failure(ws, item, error)
            rows[item.ref] = (item.ref, None, None, "failed", 0.0, error)

    cursors = {id(item): ws.con.cursor() for item in prepared}  # made here: one per element

    def run(item):
        started = time.perf_counter()
        try:
            return item, profile_item(ws, item, distinct_option, cursors[id(item)]), None, time.perf_counter() - started
        except HydraError as err:
            return item, None, str(err), time.perf_counter() - started
        except Exception as err:  # noqa: BLE001
            return item, None, one_line(err), time.perf_counter() - started

    # elements in parallel, each on its own cursor; the results are stored by this thread
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hydra-profile") as pool:
        for item, found, error, seconds in pool.map(run, prepared):
            if error is not None:
                failed += 1
                store_failure(ws, item, error)
                rows[item.ref] = (item.ref, None, None, "failed", round(seconds, 3), error)
                continue
            figures, method, approximate = found
            store(ws, item, figures, method, approximate)
            rows[item.ref] = (item.ref, figures["row_count"], len(figures["columns"]), method, round(seconds, 3),
                              None)
    for cursor in cursors.values():
        try:
            cursor.close()
        except Exception:  # noqa: BLE001 - already closed
            pass
    message = f"profiled {len(items) - failed} element{'s' * (len(items) - failed != 1)}"
    if failed:  # named, but not a script's failure: profiling everything meets what cannot be read
        message += f"; {failed} FAILED: see the error column or stats.error"
    return Result(columns=["ref", "row_count", "columns", "method", "seconds", "error"],
                  rows=[rows[item.ref] for item in items], message=message)


def profile_item(ws, item: Item, distinct_option: str | None, con=None):
    """(figures, method, distinct_approximate) for one element."""
    head = ws.head(item.source)
    columns = ws.columns_of(item.source, item.element)
    aggregates = None
    try:
        aggregates = head.aggregates(item.element, columns)
    except NotImplementedError:
        aggregates = None
    if aggregates is not None:
        if con is not None:
            con.close()
        figures = {"row_count": aggregates.row_count, "columns": aggregates.columns}
        return figures, aggregates.method, aggregates.distinct_approximate
    estimate = item.element.row_count
    distinct = distinct_option or ("exact" if estimate is not None and estimate <= EXACT_DISTINCT_UP_TO else "approx")
    con = con or ws.con.cursor()
    scan = open_scan(ws, item, con)
    try:
        described = describe(con, scan.expr)
        figures = run_aggregates(con, scan.expr, described, distinct=distinct)
    finally:
        scan.close()
        con.close()
    if not head.reads_every_row(item.element):  # a reader that may skip rows: count them another way
        counted = head.count(item.element)
        if counted is not None and counted[0] != figures["row_count"]:
            raise HydraError(f"{item.ref}: reading it yields {figures['row_count']:,} rows but it holds "
                             f"{counted[0]:,} (counted by {counted[1]}): the reader skipped rows it could "
                             f"not parse or decode")
    method = "duckdb aggregate over " + ("the native scan" if scan.native else f"the {head.kind} head's stream")
    return figures, method, distinct == "approx"


def store(ws, item: Item, figures: dict, method: str, approximate: bool) -> None:
    from hydra.workspace import now

    computed = now()
    rows = [(item.source, item.ref, None, figures["row_count"], None, None, None, None, None, None, None,
             method, computed)]
    for name, f in figures["columns"].items():
        rows.append((item.source, item.ref, name, figures["row_count"], f.get("null_count"),
                     f.get("distinct_count"), approximate if f.get("distinct_count") is not None else None,
                     _text(f.get("min_value")), _text(f.get("max_value")), _text(f.get("sum_value")),
                     f.get("mean_value"), method, computed))
    con = ws.con
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM stats WHERE source = ? AND ref = ?", [item.source, item.ref])
        con.executemany(
            "INSERT INTO stats (source, ref, column_name, row_count, null_count, distinct_count, "
            "distinct_approximate, min_value, max_value, sum_value, mean_value, method, computed_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        con.execute("UPDATE elements SET row_count = ?, row_count_exact = true WHERE source = ? AND ref = ?",
                    [figures["row_count"], item.source, item.ref])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    item.element.row_count = figures["row_count"]
    item.element.row_count_exact = True


def store_failure(ws, item: Item, error: str) -> None:
    """Replace the element's stats with one element-level row saying why PROFILE failed: figures
    from an earlier PROFILE would read as if they were still true."""
    from hydra.workspace import now

    con = ws.con
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM stats WHERE source = ? AND ref = ?", [item.source, item.ref])
        con.execute("INSERT INTO stats (source, ref, method, computed_at, error) VALUES (?, ?, 'failed', ?, ?)",
                    [item.source, item.ref, now(), error])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def _text(value):
    return None if value is None else str(value)


def stats_of(ws, source: str, ref: str) -> list[dict] | None:
    """The stored stats of an element, as dicts (for manifests), or None when never profiled."""
    cursor = ws.con.execute("SELECT * FROM stats WHERE source = ? AND ref = ? ORDER BY column_name NULLS FIRST",
                            [source, ref])
    names = [d[0] for d in cursor.description]
    rows = cursor.fetchall()
    if not rows:
        return None
    return [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in zip(names, row)} for row in rows]
