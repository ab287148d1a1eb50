"""One read of EXTRACT's plan, as plain data (``ReadTask``), and running it (``run_task``).

A ``ReadTask`` is everything one reader of an element needs and nothing it would have to borrow
from the coordinator: the source as a ``SourceSpec`` (never a secret), the element, the mark's
filter and columns, the key range (Quals of the head's ``split``), the snapshot to read in, and
where to write (target URI and the element's staging place). It pickles, so an executor may run
it in a thread, a process or on another machine (``hydra.engine``).

``run_task`` opens the source from its spec (or takes the head the process already holds open,
``Context.resource``), reads on a DuckDB cursor of its own, writes its parts — named after
the task, ``part-<task>-<n>``, so the same task run twice writes the same files, and first removes
what an earlier run of it left — and returns a ``TaskResult``: the parts with their SHA-256, rows,
bytes and the checksum of its rows. The coordinator writes the manifest and ``transfers`` from
the results.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from hydra.core.errors import HydraError
from hydra.core.model import Element
from hydra.core.quals import Qual, to_sql
from hydra.core.snapshot import Snapshot, reading
from hydra.engine.base import Context
from hydra.heads.spec import SourceSpec
from hydra.transfer import direct
from hydra.transfer.common import is_nested, is_numeric, q, row_hash_sql, where_sql
from hydra.transfer.writers import HASH, LINE, ElementSink, json_line_value, not_for_parquet

BATCH_BYTES = 64 << 20  # aim for Arrow batches of about this size
CSV_NATIVE = ("BOOLEAN", "VARCHAR")


@dataclass(frozen=True)
class Layout:
    """How the parts are written: the same for every task of a run."""

    format: str = "parquet"
    compression: str = "zstd"
    rows_per_file: int | None = None
    partition_by: str | None = None


@dataclass(frozen=True)
class ReadTask:
    task_id: str  # unique in its run: "<element number>.<range number>"
    source: SourceSpec
    ref: str
    element: Element
    target: str  # the target's URI
    staging: str  # where the element's parts go before its commit (``Target.staging``)
    layout: Layout = field(default_factory=Layout)
    part_task: str = ""  # parts are named part-<part_task>-<n>; "" (part-<n>) for an element read whole
    columns: tuple[str, ...] | None = None  # the mark's columns; None = all
    filter: str | None = None  # the mark's filter (DuckDB SQL), applied again in DuckDB
    range: tuple[Qual, ...] | None = None  # the key range of the head's ``split``; None = all rows
    snapshot: Snapshot | None = None  # the element's snapshot, joined by the reader as it opens
    count: bool = False  # check the rows read against the head's own count (``Head.count``)
    may_fall_back: bool = False  # a failed native scan may be read again the head's other way
    account: bool = False  # account for every line of the element read whole (``Head.accounting``)


@dataclass(frozen=True)
class TaskResult:
    task_id: str
    files: tuple[dict, ...]  # {"path", "rows", "bytes", "sha256", "partition"} per part
    rows: int
    bytes: int
    checksum: int  # sum of the rows' hashes mod 2^64 (``common.CHECKSUM_MOD``)
    schema: Any  # the Arrow schema read (for an element with no rows: its empty part)
    columns: tuple[tuple[str, str], ...]  # (name, DuckDB type) as read
    pushed: tuple[str, ...]  # the Quals the head was handed (DuckDB SQL)
    query: str  # the extraction query (for the manifest)
    route: str  # "duckdb" or "direct" (``hydra.transfer.direct``)
    expected: tuple[int, str] | None = None  # the head's own count, when asked (``ReadTask.count``)
    # where every line of a delimited file went (``Head.accounting``), when asked (``ReadTask.account``):
    # taken where the task ran, by the head that read it (a remote worker's, not the coordinator's)
    accounting: dict | None = None


def run_task(task: ReadTask, context: Context | None = None) -> TaskResult:
    """Read the task's range and write its parts (module level: an executor pickles it by name).

    An element whose native scan failed is read again once the head's other way, when the task
    may and the head has one (``Head.fall_back``)."""
    import duckdb

    from hydra.transfer.targets import TargetError, open_target

    context = context or Context()
    head = context.resource(("head", task.source), task.source.open)
    target = context.resource(("target", task.target), lambda: open_target(task.target))
    try:
        return _read(task, context, head, target)
    except (duckdb.Error, OSError) as err:  # DuckDB's Arrow stream raises its errors as OSError
        if (isinstance(err, TargetError) or not task.may_fall_back or context.stopped()
                or not head.fall_back(task.element)):
            raise
        return _read(task, context, head, target)


class _OneHead:
    """What ``hydra.read.scan`` asks of a workspace, for one head on a connection of its own."""

    def __init__(self, head):
        import itertools

        self._head = head
        self.view_ids = itertools.count(1)
        self.stream_failures: dict[str, str] = {}

    def head(self, name: str):
        return self._head


class _Monitor:
    """The ``Progress`` a part writer updates, passed on to the task's Context."""

    def __init__(self, context: Context):
        self.context = context

    def add(self, rows: int, size: int) -> None:
        self.context.progress(rows, size)


def _read(task: ReadTask, context: Context, head, target) -> TaskResult:
    from hydra.catalog.duckdb_guard import connect
    from hydra.read.scan import columns_only, reader_error, scan_element

    layout = task.layout
    sink = ElementSink(target, task.staging, layout.format, layout.compression, layout.rows_per_file,
                       layout.partition_by, _Monitor(context), task=task.part_task)
    target.clear_parts(task.staging, sink.stem)  # what an earlier run of this task wrote
    # a cursor of one in-memory DuckDB per process: 0.3 ms against 16 ms for a DuckDB of the task's
    # own (bench_fixed_cost.py); its registered views are the cursor's alone
    con = context.resource(("duckdb",), connect).cursor()
    context.opened(con)
    scan = writer = None
    one_head = _OneHead(head)
    try:
        columns = list(task.columns) if task.columns else None
        with reading(task.snapshot):  # the head's reader joins the element's snapshot as it opens
            scan = scan_element(one_head, task.source.name, task.element, con, task.filter,
                                columns=columns, ranges=list(task.range) if task.range else None)
        writer = sink.task()
        seen = columns_only(list(task.range), scan) if task.range else None  # a ctid block range: DuckDB has none
        found = write_scan(con, scan, columns, task.filter, to_sql(seen, "duckdb") if seen else None, layout,
                           writer, context.stopped)
        expected = head.count(task.element) if task.count else None
        result = TaskResult(task.task_id, tuple(sink.files), writer.rows, sum(f["bytes"] for f in sink.files),
                            writer.checksum, found.schema, tuple(found.columns), tuple(scan.pushed), found.query,
                            found.route, expected)
    except BaseException as err:
        if writer is not None:
            writer.abandon()
        failed = reader_error(one_head, scan, err)
        if failed is not None:
            raise failed from None
        raise
    finally:
        if scan is not None:
            scan.close()
        context.closed(con)
        try:
            con.close()
        except Exception:  # noqa: BLE001 - closing after an interrupt may fail; nothing is left to do
            pass
    if task.account:  # the scan is closed: its reader has counted every line (raises when they do not add up)
        result = dataclasses.replace(result, accounting=head.accounting(task.element, result.rows))
    return result


@dataclass
class Written:
    columns: list[tuple[str, str]]
    schema: Any
    query: str
    route: str


def write_scan(con, scan, columns: list[str] | None, filter_: str | None, range_sql: str | None,
               layout: Layout, writer, stopped) -> Written:
    """Run the extraction query over ``scan`` on ``con`` and write its rows through ``writer``
    (closed at the end); ``stopped()`` is asked between batches. Also EXTRACT of a query, which
    reads on the coordinator (its refs resolve in the workspace)."""
    batches = reader = None
    try:
        projection = ", ".join(q(c) for c in columns) if columns else "*"
        inner = f"SELECT {projection} FROM {scan.expr} AS __src{where_sql(filter_, range_sql)}"
        rel = con.sql(inner)
        read = [(n, str(t)) for n, t in zip(rel.columns, rel.types)]
        del rel
        if layout.partition_by and layout.partition_by not in [n for n, _ in read]:
            raise HydraError(f"PARTITION_BY: no column {layout.partition_by!r}")
        if layout.format == "parquet" and direct.passes_through(scan, read):
            query, route = inner, "direct"
            batches = direct.hashed_batches(con, scan.reader, read, batch_rows(read), BATCH_BYTES)
            schema = scan.reader.schema
        else:
            query, route = extraction_query(inner, read, layout), "duckdb"
            reader = con.sql(query).to_arrow_reader(batch_rows(read))
            batches = ((batch, None) for batch in reader)
            schema = reader.schema
        for batch, hash_sum in batches:
            why = stopped()
            if why:
                raise HydraError(why)
            writer.write(batch, hash_sum)
        writer.close()
        return Written(read, schema, query, route)
    finally:
        # a failure's traceback keeps this frame alive: drop the readers now, so that the
        # head's transfer stops (its client process exits) instead of waiting for the GC
        batches = reader = None  # noqa: F841


def extraction_query(inner: str, columns: list[tuple[str, str]], layout: Layout) -> str:
    """The rows as the format writes them, with each row's hash (``writers.HASH``)."""
    fmt = layout.format
    if fmt == "jsonl":
        packed = ", ".join(f"{q(n)} := {json_line_value(n, t)}" for n, t in columns)
        data = [f"to_json(struct_pack({packed})) || chr(10) AS {LINE}"]
        if layout.partition_by:
            data.append(q(layout.partition_by))
    elif fmt == "csv":
        data = [q(n) if (is_numeric(t) or t.upper() in CSV_NATIVE) else f"CAST({q(n)} AS VARCHAR) AS {q(n)}"
                for n, t in columns]
    else:
        data = [f"CAST({q(n)} AS VARCHAR) AS {q(n)}" if not_for_parquet(t) else q(n) for n, t in columns]
    return f"SELECT {', '.join(data)}, {row_hash_sql(columns, cast=False)} AS {HASH} FROM ({inner}) AS __rows"


def batch_rows(columns: list[tuple[str, str]]) -> int:
    width = 0
    for _, type_ in columns:
        t = type_.upper()
        width += 64 if is_nested(t) else 32 if t in ("VARCHAR", "BLOB", "JSON") else 16 if "DECIMAL" in t else 8
    return max(8192, min(1_000_000, BATCH_BYTES // max(width, 1)))
