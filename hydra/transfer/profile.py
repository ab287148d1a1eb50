"""PROFILE: exact statistics about elements, computed at the source, into ``stats``.

A head that can aggregate at its source (``head.aggregates``: a SQL head pushes one aggregate
query to its engine) is asked first; otherwise DuckDB aggregates the element's scan in one pass
(for native scans such as ``read_csv`` that is DuckDB's own parallel reader).
"""

from __future__ import annotations

import functools
import itertools
import os
import queue
import time
from concurrent.futures import ThreadPoolExecutor

from hydra.core.errors import HydraError, one_line
from hydra.core.statement import Result
from hydra.transfer import small
from hydra.transfer.common import Item, items_for, open_scan, q
from hydra.transfer.figures import run_aggregates, run_aggregates_by

EXACT_DISTINCT_UP_TO = 1_000_000  # estimated rows; above this, distinct counts are approximate
# figures are stored every STORE_BATCH elements or STORE_SECONDS, whichever comes first (one
# transaction each: per element, storing cost ~15 ms, more than profiling a small S3 object)
STORE_BATCH = 500
STORE_SECONDS = 2.0


def describe(con, expr: str) -> list[tuple[str, str]]:
    """(name, DuckDB type) of a table expression, without reading it."""
    rel = con.sql(f"SELECT * FROM {expr} AS __src")
    return [(name, str(type_)) for name, type_ in zip(rel.columns, rel.types)]


def profile(ws, selections, options: dict[str, str]) -> Result:
    """PROFILE of a selection (None: the marked elements) with its options."""
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

    batched = [item for item in prepared if small.is_small(ws, item)]
    each = [item for item in prepared if not small.is_small(ws, item)]
    # one cursor per worker, made here (the workspace connection is this thread's); elements run in
    # parallel, and their figures are stored by this thread in batches: one transaction per
    # element cost more than profiling a small element does
    cursors: queue.SimpleQueue = queue.SimpleQueue()
    made = [ws.con.cursor() for _ in range(min(workers, len(each)) + bool(batched))]
    for cursor in made[bool(batched):]:
        cursors.put(cursor)

    def run(item):
        started = time.perf_counter()
        con = cursors.get()
        try:
            return item, profile_item(ws, item, distinct_option, con), None, time.perf_counter() - started
        except HydraError as err:
            return item, None, str(err), time.perf_counter() - started
        except Exception as err:  # noqa: BLE001 - one element's failure is reported, the others go on
            return item, None, one_line(err), time.perf_counter() - started
        finally:
            cursors.put(con)

    done: list = []
    stored_at = time.monotonic()
    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hydra-profile") as pool, \
                ThreadPoolExecutor(max_workers=small.threads(ws, batched, workers),
                                   thread_name_prefix="hydra-small") as reads:
            profiled = itertools.chain(
                pool.map(run, each), profile_small(ws, batched, distinct_option, made[0] if batched else None, reads))
            for item, found, error, seconds in profiled:
                if error is not None:
                    failed += 1
                    store_failure(ws, item, error)
                    rows[item.ref] = (item.ref, None, None, "failed", round(seconds, 3), error)
                    continue
                figures, method, approximate = found
                done.append((item, figures, method, approximate))
                rows[item.ref] = (item.ref, figures["row_count"], len(figures["columns"]), method,
                                  round(seconds, 3), None)
                if len(done) >= STORE_BATCH or time.monotonic() - stored_at > STORE_SECONDS:
                    store(ws, done)
                    done, stored_at = [], time.monotonic()
    finally:
        if done:  # what was profiled before an interruption is kept
            store(ws, done)
        for cursor in made:
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
    aggregates = head.aggregates(item.element, columns)
    if aggregates is not None:
        figures = {"row_count": aggregates.row_count, "columns": aggregates.columns}
        return figures, aggregates.method, aggregates.distinct_approximate
    estimate = item.element.row_count
    distinct = distinct_option or ("exact" if estimate is not None and estimate <= EXACT_DISTINCT_UP_TO else "approx")
    import duckdb

    own = con is None
    con = ws.con.cursor() if own else con
    try:
        for attempt in (1, 2):
            scan = open_scan(ws, item, con)
            try:
                described = describe(con, scan.expr)
                figures = run_aggregates(con, scan.expr, described, distinct=distinct)
                break
            except duckdb.Error:
                # a native scan that failed, read again the head's other way when it has one
                if attempt == 2 or not scan.native or not head.fall_back(item.element):
                    raise
            finally:
                scan.close()
    finally:
        if own:
            con.close()
    if not head.reads_every_row(item.element):  # a reader that may skip rows: count them another way
        counted = head.count(item.element)
        if counted is not None and counted[0] != figures["row_count"]:
            raise HydraError(f"{item.ref}: reading it yields {figures['row_count']:,} rows but it holds "
                             f"{counted[0]:,} (counted by {counted[1]}): the reader skipped rows it could "
                             f"not parse or decode")
    method = "duckdb aggregate over " + ("the native scan" if scan.native else f"the {head.kind} head's stream")
    if item.filter is None:
        lines = head.accounting(item.element, figures["row_count"])  # raises when the lines do not add up
        if lines is not None:
            figures["lines"] = lines
            method += (f"; {lines['lines']:,} lines: {lines['loaded_lines']:,} loaded, {lines['rejected']:,} "
                       f"rejected, {lines['skipped']:,} skipped ({lines['route']})")
    return figures, method, distinct == "approx"


def profile_small(ws, items: list[Item], distinct_option: str | None, con, pool):
    """Figures of many small elements (``transfer.small``), as ``profile_item`` computes them,
    with one DuckDB query per batch of elements of the same columns: for an element of a few
    rows, an aggregate query of its own costs more than reading it (~7 ms, mostly the exact
    distinct counts). Yields ``(item, (figures, method, approximate) or None, error, seconds)``."""
    def distinct_of(item: Item) -> str:
        estimate = item.element.row_count
        return distinct_option or ("exact" if estimate is not None and estimate <= EXACT_DISTINCT_UP_TO
                                   else "approx")

    for batch in small.fetched(ws, items, pool):
        for one in batch:
            if one.error is not None:
                yield one.thing, None, one.error, one.seconds
            elif one.too_big:  # grown since it was listed: profiled on its own
                started = time.perf_counter()
                try:
                    yield one.thing, profile_item(ws, one.thing, distinct_option, con), None, \
                        time.perf_counter() - started
                except Exception as err:  # noqa: BLE001 - one element's failure is reported, the others go on
                    yield one.thing, None, str(err) if isinstance(err, HydraError) else one_line(err), \
                        time.perf_counter() - started
        for group in small.same_columns(batch, distinct_of):
            yield from _profile_group(ws, con, group, distinct_of(group[0].thing))


def _profile_group(ws, con, group: list, distinct: str):
    """One aggregate query over small elements of the same columns (see ``profile_small``)."""
    started = time.perf_counter()
    combined = small.stacked([one.table for one in group])
    view = f"__hydra_profile_{id(combined):x}"
    try:
        con.register(view, combined)
        try:
            described = [c for c in describe(con, view) if c[0] != small.GROUP_COLUMN]
            found = run_aggregates_by(con, view, described, q(small.GROUP_COLUMN), distinct=distinct)
        finally:
            con.unregister(view)
        for i, one in enumerate(group):
            if i not in found:  # no rows: the figures of an empty table, as its own query gives them
                con.register(view, one.table)
                try:
                    found[i] = run_aggregates(con, view, described, distinct=distinct)
                finally:
                    con.unregister(view)
    except Exception as err:  # noqa: BLE001 - every element of the group fails alike
        error = str(err) if isinstance(err, HydraError) else one_line(err)
        for one in group:
            yield one.thing, None, error, one.seconds
        return
    share = (time.perf_counter() - started) / len(group)
    for i, one in enumerate(group):
        method = f"duckdb aggregate over the {ws.head(one.thing.source).kind} head's stream"
        yield one.thing, (found[i], method, distinct == "approx"), None, one.seconds + share


def store(ws, profiled: list[tuple[Item, dict, str, bool]]) -> None:
    """Store the figures of profiled elements ``(item, figures, method, distinct_approximate)`` in
    ``stats`` and their exact row counts in ``elements``: one transaction, rows inserted as Arrow."""
    import pyarrow as pa

    from hydra.core.clock import now

    computed = now()
    rows = []
    for item, figures, method, approximate in profiled:
        lines = figures.get("lines") or {}
        rows.append((item.source, item.ref, None, figures["row_count"], None, None, None, None, None, None,
                     None, method, computed, lines.get("lines"), lines.get("loaded_lines"), lines.get("rejected"),
                     lines.get("skipped")))
        for name, f in figures["columns"].items():
            rows.append((item.source, item.ref, name, figures["row_count"], f.get("null_count"),
                         f.get("distinct_count"), approximate if f.get("distinct_count") is not None else None,
                         _text(f.get("min_value")), _text(f.get("max_value")), _text(f.get("sum_value")),
                         f.get("mean_value"), method, computed, None, None, None, None))
    table = pa.Table.from_pylist([dict(zip(STATS_COLUMNS, r)) for r in rows], schema=_stats_schema())
    view = f"__hydra_stats_{id(table):x}"
    con = ws.con
    con.register(view, table)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"DELETE FROM stats WHERE (source, ref) IN (SELECT DISTINCT source, ref FROM {view})")
        con.execute(f"INSERT INTO stats BY NAME SELECT * FROM {view}")
        con.execute(f"UPDATE elements SET row_count = v.row_count, row_count_exact = true FROM {view} v "
                    "WHERE v.column_name IS NULL AND elements.source = v.source AND elements.ref = v.ref")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister(view)
    for item, figures, _method, _approximate in profiled:
        item.element.row_count = figures["row_count"]
        item.element.row_count_exact = True
        if figures.get("lines"):
            ws.store_rejects(item.source, item.ref, figures["lines"]["rejects"], None)


STATS_COLUMNS = ("source", "ref", "column_name", "row_count", "null_count", "distinct_count",
                 "distinct_approximate", "min_value", "max_value", "sum_value", "mean_value", "method",
                 "computed_at", "lines", "lines_loaded", "lines_rejected", "lines_skipped")


@functools.cache
def _stats_schema():
    import pyarrow as pa

    return pa.schema([("source", pa.string()), ("ref", pa.string()), ("column_name", pa.string()),
                      ("row_count", pa.int64()), ("null_count", pa.int64()), ("distinct_count", pa.int64()),
                      ("distinct_approximate", pa.bool_()), ("min_value", pa.string()),
                      ("max_value", pa.string()), ("sum_value", pa.string()), ("mean_value", pa.float64()),
                      ("method", pa.string()), ("computed_at", pa.timestamp("us", tz="UTC")),
                      ("lines", pa.int64()), ("lines_loaded", pa.int64()), ("lines_rejected", pa.int64()),
                      ("lines_skipped", pa.int64())])


def store_failure(ws, item: Item, error: str) -> None:
    """Replace the element's stats with one element-level row saying why PROFILE failed: figures
    from an earlier PROFILE would read as if they were still true."""
    from hydra.core.clock import now

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


def stats_of_many(ws, keys: list[tuple[str, str]]) -> dict[tuple[str, str], list[dict]]:
    """The stored stats of many elements (``(source, ref)``), one query: {key: stats_of's list}."""
    if not keys:
        return {}
    # the keys travel as two list parameters: no Arrow table, so an EXTRACT of files never
    # imports pyarrow (~70 ms of a command's start-up, bench_fixed_cost.py)
    cursor = ws.con.execute(
        "SELECT s.* FROM stats s SEMI JOIN (SELECT unnest(?::VARCHAR[]) AS source, unnest(?::VARCHAR[]) AS ref) w "
        "ON s.source = w.source AND s.ref = w.ref ORDER BY s.source, s.ref, s.column_name NULLS FIRST",
        [[k[0] for k in keys], [k[1] for k in keys]])
    names = [d[0] for d in cursor.description]
    rows = cursor.fetchall()
    found: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        record = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in zip(names, row)}
        found.setdefault((record["source"], record["ref"]), []).append(record)
    return found


def stats_of(ws, source: str, ref: str) -> list[dict] | None:
    """The stored stats of an element, as dicts (for manifests), or None when never profiled."""
    return stats_of_many(ws, [(source, ref)]).get((source, ref))
