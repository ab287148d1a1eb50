"""EXTRACT: move marked elements (or a query) to a folder or S3, with a manifest per element.

One path for every head: DuckDB runs the extraction query over the element's scan — the head's
native scan (``read_csv(…)``: DuckDB's parallel reader) or its Arrow reader registered as a view,
with the mark's filter as the WHERE (its conjuncts also pushed to the head where it accepts them)
— adding each row's 64-bit hash as an extra column. The result streams as Arrow record batches
(bounded memory) to pyarrow's Parquet/CSV writers (JSON Lines: lines formatted by DuckDB), which
write through a SHA-256-computing stream into staging parts; the checksum is summed on the way.
DuckDB's reader threads and the writer overlap, which is why this is as fast as DuckDB's own COPY.
A plain copy from an Arrow-reader head skips the DuckDB round trip for the data (``direct``).

Elements run in parallel (``WORKERS``); an element whose head can ``split`` it into key ranges is
read by several workers at once, each into its own parts. Parts first, manifest last: an element
without its manifest is not complete, is never skipped, and is redone from scratch on re-run.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from hydra.core.errors import HydraError, StatementError, one_line
from hydra.core.quals import to_sql
from hydra.core.statement import Result
from hydra.read.scan import columns_only
from hydra.heads.base import parse_bool
from hydra.transfer import direct, small
from hydra.transfer.common import (CHECKSUM_MOD, QUERY_SOURCE, Item, checksum_sql, is_nested, is_numeric, items_for,
                                   open_scan, q, query_label, row_hash_sql, where_sql)
from hydra.transfer.layout import plan_folders
from hydra.transfer.progress import Display
from hydra.transfer.targets import TargetError, error_line, open_target
from hydra.transfer.writers import HASH, LINE, ElementSink, Progress, check_format, json_line_value, not_for_parquet

OPTIONS = ("FORMAT", "COMPRESSION", "ROWS_PER_FILE", "PARTITION_BY", "WORKERS", "OVERWRITE", "NAME", "SNAPSHOT")
# SNAPSHOT: 'shared' (every range of an element and its figures in one snapshot; where the source
# cannot share one between connections, the element is read on one), 'per_reader' (each range in
# a snapshot of its own: parallel, but ranges may see different moments), 'off' (each range at
# its own moment: how Hydra read before issue 13, kept to measure what the snapshot buys)
SNAPSHOT_MODES = {"shared": "shared", "true": "shared", "on": "shared", "per_reader": "per_reader",
                  "off": "off", "false": "off", "none": "off"}
BATCH_BYTES = 64 << 20  # aim for Arrow batches of about this size
RECORD_BATCH = 500  # ended elements per update of transfers …
RECORD_SECONDS = 2.0  # … or this often, whichever comes first
CSV_NATIVE = ("BOOLEAN", "VARCHAR")


# Reading an element in key ranges costs a connection, a query, a snapshot and a part file per
# range, and pays only when each range has enough to read. bench/bench_split_threshold.py, PostgreSQL
# on the 2-core development machine (load 1-6), 4 ranges against one: 10k rows (1.4 MiB) 4.6x
# slower, 100k (13 MiB) 2.1x, 300k (40 MiB) 1.4x, 1M (133 MiB) 0.89x. So a range gets at least
# 32 MiB or 250,000 rows by the catalog's estimates.
RANGE_MIN_BYTES = 32 << 20
RANGE_MIN_ROWS = 250_000


def range_count(element, workers: int) -> int:
    """How many key ranges to read an element in: up to WORKERS, each of at least RANGE_MIN_BYTES
    or RANGE_MIN_ROWS by the catalog's estimates (a 7-row table is one range, one file). Without
    any estimate (a table never analysed and of unknown size), WORKERS ranges, as it may be big."""
    if workers < 2:
        return 1
    if element.size_bytes is None and element.row_count is None:
        return workers
    enough = max((element.size_bytes or 0) // RANGE_MIN_BYTES, (element.row_count or 0) // RANGE_MIN_ROWS)
    return max(1, min(workers, enough))


@dataclass
class Options:
    format: str = "parquet"
    compression: str = "zstd"
    rows_per_file: int | None = None
    partition_by: str | None = None
    workers: int = 2
    overwrite: bool = False
    name: str | None = None
    snapshot: str = "shared"


def parse_options(raw: dict[str, str]) -> Options:
    unknown = sorted(set(raw) - set(OPTIONS))
    if unknown:
        raise StatementError(f"EXTRACT: unknown option {unknown[0]}; accepted: {', '.join(OPTIONS)}")
    fmt, compression = check_format(raw.get("FORMAT", "parquet"), raw.get("COMPRESSION"))
    options = Options(format=fmt, compression=compression)
    for key, attr in (("ROWS_PER_FILE", "rows_per_file"), ("WORKERS", "workers")):
        if key in raw:
            try:
                value = int(raw[key])
            except ValueError:
                raise StatementError(f"EXTRACT: {key} must be a whole number, not {raw[key]!r}") from None
            if value < 1:
                raise StatementError(f"EXTRACT: {key} must be at least 1")
            setattr(options, attr, value)
    if "WORKERS" not in raw:
        options.workers = max(1, min(4, os.cpu_count() or 2))
    options.partition_by = raw.get("PARTITION_BY") or None
    options.overwrite = parse_bool(raw.get("OVERWRITE"))
    options.name = raw.get("NAME") or None
    mode = str(raw.get("SNAPSHOT", "shared")).strip().lower()
    if mode not in SNAPSHOT_MODES:
        raise StatementError(f"EXTRACT: SNAPSHOT must be shared, per_reader or off, not {raw['SNAPSHOT']!r}")
    options.snapshot = SNAPSHOT_MODES[mode]
    return options


@dataclass
class Job:
    """One element of a run."""

    item: Item
    run_id: str
    rel: str
    element_uri: str
    options: Options
    source_stats: list | None = None
    status: str = "pending"
    ended: bool = False  # its outcome is final (recorded in transfers)
    error: str | None = None
    staging: str | None = None
    sink: ElementSink | None = None
    cursors: list = field(default_factory=list)
    live: list = field(default_factory=list)  # cursors of running tasks (to interrupt)
    pre_scan: object = None
    ranges: list | None = None  # a split range (Quals) per task; [None] = one task
    range_sql: list | None = None
    columns: list = field(default_factory=list)
    queries: list = field(default_factory=list)  # the extraction query of each range
    pushed: list = field(default_factory=list)
    counter: object = None  # the head whose independent count checks the rows read
    expected: tuple | None = None  # (rows, how counted) from counter.count
    accounts: object = None  # the head that accounts for every line of a whole read (Head.accounting)
    lines: dict | None = None  # that accounting (the manifest's "lines")
    rejects: list | None = None  # its rejects, stored by the main thread once the element is committed
    route: str = "duckdb"  # how rows reach the writer: through a DuckDB query, or 'direct' (transfer.direct)
    checksum: int = 0
    checksums: list = field(default_factory=list)  # one per range, appended by the workers
    schemas: list = field(default_factory=list)  # the Arrow schema each range read
    pending: int = 0
    committed: bool = False  # its manifest is written: complete at the target
    lock: threading.Lock = field(default_factory=threading.Lock)  # guards staging (see _begin)
    started_at: object = None
    finished_at: object = None
    started: float = 0.0
    rows: int = 0
    bytes: int = 0
    files: int = 0
    seconds: float = 0.0
    progress: Progress = field(default_factory=Progress)
    snapshot: object = None  # the hydra.core.snapshot.Snapshot every range reads in
    snapshot_head: object = None  # the head holding it, released when the element ends
    snapshot_held: float | None = None  # seconds the source held it, when released
    figure_columns: list | None = None  # the catalog columns whose figures are taken in the snapshot
    figures: dict | None = None  # the source's figures taken in the snapshot (for RECONCILE)
    figures_head: object = None  # the head that computes them
    figures_error: str | None = None  # why they could not be taken
    previous_attempt: str | None = None  # run id of an earlier attempt that did not complete


def extract(ws, text: str, selections, query: str | None, target_uri: str, options: Options) -> Result:
    """EXTRACT of a selection (None: the marked elements) or of a query, as the statement ``text`` says."""
    if query is not None:
        label = options.name or query_label(query)
        items = [Item(QUERY_SOURCE, label, query=query, label=label)]
    else:
        items = items_for(ws, selections)
        if not items:
            return Result(message="nothing to extract: no element is marked" if selections is None
                          else "nothing to extract")
    target = open_target(target_uri)
    return Run(ws, text, target, items, options).run()


class Run:
    def __init__(self, ws, statement_text: str, target, items: list[Item], options: Options):
        from hydra.core.clock import now

        self.ws, self.statement_text, self.target, self.options = ws, statement_text, target, options
        self.started_at = now()
        self.run_id = self.started_at.strftime("%Y%m%dT%H%M%S%f")[:-3] + "-" + uuid.uuid4().hex[:6]
        self.cancelled = False
        self._ended: list[tuple] = []  # transfers rows not yet updated (see _record_end)
        self._recorded_at = time.monotonic()
        self.jobs = self._jobs(items)

    def _jobs(self, items: list[Item]) -> list[Job]:
        from hydra.transfer.profile import stats_of_many

        stats = stats_of_many(self.ws, [(i.source, i.ref) for i in items if not i.is_query])
        jobs = []
        folders, self.clashes = plan_folders(self.ws, items)
        for item, rel in zip(items, folders):
            job = Job(item, self.run_id, rel, self.target.element_uri(rel), self.options)
            if not item.is_query:
                job.source_stats = stats.get((item.source, item.ref))
                job.progress.total_rows = item.element.row_count
            jobs.append(job)
        return jobs

    # -- the run --------------------------------------------------------------------------------

    def run(self) -> Result:
        self.ws.live_runs.add(self.run_id)
        try:
            return self._run()
        finally:
            self.ws.live_runs.discard(self.run_id)

    def _run(self) -> Result:
        from hydra.core.clock import now

        self.ws.close_dead_runs()
        try:
            self.target.check()
            target_error = None
        except HydraError as err:
            target_error = str(err)
        self._record_start(self.jobs)
        for i, job in enumerate(self.jobs):
            element = job.item.element
            if target_error:
                self._fail(job, target_error)
            elif i in self.clashes:
                self._fail(job, self.clashes[i])
            elif element is not None and element.error:
                # listed, but the way it was attached cannot read it as it is (elements.error)
                self._fail(job, f"not extracted: {element.error}")
        self._check_targets([j for j in self.jobs if j.status == "pending"])
        todo = [j for j in self.jobs if j.status == "pending"]
        batched = [j for j in todo if self._small(j)]
        queue = [j for j in todo if not self._small(j)]
        small_threads = small.threads(self.ws, [j.item for j in batched], self.options.workers)
        with Display() as display, \
                ThreadPoolExecutor(max_workers=self.options.workers, thread_name_prefix="hydra-extract") as pool, \
                ThreadPoolExecutor(max_workers=small_threads, thread_name_prefix="hydra-small") as reads:
            running: dict = {}
            try:
                self._small_loop(reads, display, batched, running, queue)
                self._loop(pool, display, queue, running)
            except BaseException:
                # Ctrl-C (a KeyboardInterrupt, or DuckDB's "interrupted" error when it landed in a
                # bookkeeping query) or any failure of the loop itself. Ctrl-C arrives as both, one
                # after the other, so the second may land inside the clean-up: it is simply redone.
                while True:
                    try:
                        self._cancel(running)
                        break
                    except BaseException:  # noqa: BLE001
                        continue
                raise
        self._flush_ended()
        finished_at = now()
        self._write_run_manifest(finished_at)
        return self._result((finished_at - self.started_at).total_seconds())

    def _check_targets(self, jobs: list[Job]) -> None:
        """Read each element's manifest at the target (a request each on S3: in parallel): a folder
        that holds another element fails the job (never overwritten, even with OVERWRITE); a
        complete element is skipped unless OVERWRITE."""
        def manifest_of(job: Job):
            try:
                return self.target.read_manifest(job.rel), None
            except Exception as err:  # noqa: BLE001
                return None, error_line(err, job.element_uri)

        with ThreadPoolExecutor(max_workers=max(self.options.workers, 8)) as pool:
            for job, (manifest, error) in zip(jobs, pool.map(manifest_of, jobs)):
                owner = manifest is not None and _owner(manifest)
                if error is not None:
                    self._fail(job, error)
                elif owner and owner != (job.item.source, job.item.ref):
                    self._fail(job, f"the target folder {job.element_uri} holds {owner[1]} (its _manifest.json "
                                    f"says so); Hydra never overwrites another element: extract to another target")
                elif manifest is not None and not self.options.overwrite:
                    self._skip(job, manifest)

    def _cancel(self, running: dict) -> None:
        """Stop the readers and fail every element that has not ended, removing its staging
        before any bookkeeping; complete elements stay as they are, so the same EXTRACT resumes
        later. Ctrl-C reaches here twice (DuckDB's interrupted query, then the KeyboardInterrupt
        itself), and the workspace connection may be interrupted too: no step may stop the rest
        of the clean-up."""
        from hydra.core.clock import now

        def attempt(step) -> None:
            try:
                step()
            except BaseException:  # noqa: BLE001 - see the docstring
                pass

        self.cancelled = True
        for job in {id(j): j for j in running.values()}.values():
            for cursor in job.live:
                attempt(cursor.interrupt)
            if job.snapshot_head is not None:  # stops the figures' query, if it runs
                attempt(lambda: job.snapshot_head.release(job.snapshot))  # noqa: B023 - runs now
        while any(not f.done() for f in running):
            attempt(lambda: wait(list(running)))
        for job in self.jobs:
            if job.ended:
                continue
            if job.committed:  # complete at the target before the interruption
                job.status, job.error = "done", None
                attempt(lambda: self._cleanup_cursors(job))  # noqa: B023
                attempt(lambda: self._record_end(job))  # noqa: B023
                continue
            job.error = "interrupted" if job.status != "pending" else "interrupted before it started"
            job.status = "failed"
            job.rows = job.bytes = job.files = 0
            if job.staging is not None:
                attempt(lambda: self.target.abort(job.rel, job.staging))  # noqa: B023 - runs now
            attempt(lambda: self._cleanup_cursors(job))  # noqa: B023
            attempt(lambda: self._record_end(job))  # noqa: B023
        attempt(self._flush_ended)
        attempt(lambda: self._write_run_manifest(now()))

    def _loop(self, pool, display, queue: list, running: dict) -> None:
        # prepare lazily so that only a few elements hold open readers at a time; the target's
        # I/O (staging, manifest, commit) runs in the pool too, so that this thread, which does
        # the workspace's bookkeeping, never waits on a disk or S3 for one element at a time
        commits: set = set()
        while queue or running:
            while queue and len(running) < self.options.workers * 2:
                job = queue.pop(0)
                if not self._prepare(job):
                    continue
                display.add(job.item.ref, job.progress)
                for predicate in job.ranges:
                    cursor = job.cursors.pop(0)
                    job.live.append(cursor)
                    running[pool.submit(self._task, job, cursor, predicate)] = job
                if job.figure_columns is not None and job.snapshot.token:  # the figures, in the snapshot, meanwhile
                    running[pool.submit(self._take_figures, job)] = job
            if not running:
                continue
            finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for future in finished:
                job = running.pop(future)
                error = future.exception()
                if future in commits:
                    commits.discard(future)
                    if error is not None:
                        job.status, job.error = "failed", error_line(error, job.element_uri)
                    self._finish(job)
                    display.done(job.item.ref, job.status)
                    continue
                job.pending -= 1
                if error is not None and job.status != "failed":
                    job.status = "failed"
                    job.error = _task_error(error, job)
                if job.pending == 0:
                    if job.status == "failed":
                        self._finish(job)
                        display.done(job.item.ref, job.status)
                    else:
                        commit = pool.submit(self._commit, job)
                        commits.add(commit)
                        running[commit] = job

    # -- many small elements (transfer.small) ---------------------------------------------------
    # Read whole, many at a time, each batch's checksums computed by one DuckDB query (GROUP BY
    # element), each element written and committed by the pool of reads: per element, this costs
    # its read, its Parquet file and its manifest, and no DuckDB query of its own.

    def _small(self, job: Job) -> bool:
        return self.options.format == "parquet" and not job.item.filter and small.is_small(self.ws, job.item)

    def _small_loop(self, reads, display, jobs: list[Job], running: dict, queue: list[Job]) -> None:
        from datetime import timedelta

        from hydra.core.clock import now

        con = self.ws.con.cursor()
        try:
            for batch in small.fetched(self.ws, jobs, reads, columns=lambda item: item.columns):
                ready = []
                for one in batch:
                    job = one.thing
                    if one.too_big or (one.table is not None and not _writes_as_read(job, one.table)):
                        queue.append(job)  # grown since it was listed, or of types the Parquet
                        continue  # file would change: the usual path
                    job.status, job.started = "running", one.started
                    job.started_at = now() - timedelta(seconds=time.perf_counter() - one.started)
                    display.add(job.item.ref, job.progress)
                    if one.error is not None:
                        job.error = one.error
                        self._finish(job)
                        display.done(job.item.ref, job.status)
                    else:
                        ready.append(one)
                for group in small.same_columns(ready):
                    try:
                        columns, checksums = _small_checksums(con, [one.table for one in group])
                    except Exception as err:  # noqa: BLE001 - the group's elements fail, others go on
                        for one in group:
                            one.thing.error = _task_error(err, one.thing)
                            self._finish(one.thing)
                            display.done(one.thing.item.ref, one.thing.status)
                        continue
                    for i, one in enumerate(group):
                        future = reads.submit(self._write_small, one.thing, one.table, checksums.get(i, 0), columns)
                        running[future] = one.thing
                self._collect(running, display, keep=small.BATCH_ELEMENTS)
            self._collect(running, display, keep=0)
        finally:
            con.close()

    def _write_small(self, job: Job, table, checksum: int, columns: list[tuple[str, str]]) -> None:
        """Write a small element read whole, and commit it (a thread of the reads' pool)."""
        if self.cancelled:
            raise HydraError("interrupted")
        names = [name for name, _ in columns]
        if self.options.partition_by and self.options.partition_by not in names:
            raise HydraError(f"PARTITION_BY: no column {self.options.partition_by!r}")
        job.columns, job.pushed, job.route = columns, [], "direct"
        projection = ", ".join(q(c) for c in job.item.columns) if job.item.columns else "*"
        job.queries.append(f"SELECT {projection} FROM {job.item.ref} AS __src")
        self._begin(job)
        writer = job.sink.task()
        try:
            writer.write(table, checksum)
            writer.close()
        except BaseException:
            writer.abandon()
            raise
        job.schemas.append(table.schema)
        job.checksums.append(writer.checksum)
        self._commit(job)

    def _collect(self, running: dict, display, keep: int) -> None:
        """Finish the small elements whose write has ended; wait while more than ``keep`` are
        being written (their tables are in memory)."""
        while True:
            for future in [f for f in running if f.done()]:
                job = running.pop(future)
                error = future.exception()
                if error is not None:
                    job.status, job.error = "failed", _task_error(error, job)
                self._finish(job)
                display.done(job.item.ref, job.status)
            if len(running) <= keep:
                return
            wait(list(running), return_when=FIRST_COMPLETED)

    def _prepare(self, job: Job) -> bool:
        """Cursors and ranges for a job (main thread: it touches the workspace)."""
        from hydra.core.clock import now

        job.started_at, job.started = now(), time.perf_counter()
        job.status = "running"
        try:
            job.ranges = [None]
            item = job.item
            if not item.is_query:
                head = self.ws.head(item.source)  # opened here, in the main thread
                parts = range_count(item.element, self.options.workers)
                if head.scan_sql(item.element) is None and parts > 1:
                    split = head.split(item.element, parts)
                    if split:
                        job.ranges = [list(quals) or None for quals in split]
                        job.range_sql = [to_sql(quals, "duckdb") or None for quals in split]
                if not item.filter and len(job.ranges) == 1 and not head.reads_every_row(item.element):
                    job.counter = head  # the rows read are checked against head.count (_task)
                self._take_snapshot(job, head)
                if not item.filter and len(job.ranges) == 1:
                    job.accounts = head  # lines loaded + rejected + skipped = lines (_commit)
            job.cursors = [self.ws.con.cursor() for _ in job.ranges]
            if item.is_query:
                job.pre_scan = open_scan(self.ws, item, job.cursors[0])
            job.pending = len(job.ranges) + (job.figure_columns is not None and bool(job.snapshot.token))
            return True
        except Exception as err:  # noqa: BLE001 - the element fails, the others go on
            self._cleanup_cursors(job)
            self._fail(job, _task_error(err, job))
            return False

    def _take_snapshot(self, job: Job, head) -> None:
        """The element's snapshot, which every range (and its figures) will read in (main thread).

        Taken anew for each attempt at an element: a resumed element is read whole again in a
        new snapshot, never partly in an old one (its manifest names the attempt it replaces)."""
        from hydra.core.snapshot import SHARED, no_snapshot

        item = job.item
        take = getattr(head, "snapshot", None)
        if self.options.snapshot == "off":
            job.snapshot = no_snapshot(item.source, "SNAPSHOT off: each range read at its own moment")
            return
        if take is None:
            job.snapshot = no_snapshot(item.source, f"the {head.kind} head has no snapshot")
            return
        job.previous_attempt = self._previous_attempt(job)
        figures = not item.filter and not item.columns  # else RECONCILE computes them through DuckDB
        try:
            job.snapshot = take(item.element, readers=len(job.ranges),
                                per_reader=self.options.snapshot == "per_reader", figures=figures)
        except HydraError as err:  # a standby that cannot export one, say: one statement is one moment
            job.snapshot = no_snapshot(item.source, f"no snapshot could be taken ({err}): the element is read "
                                                    f"by one reader, whose one statement sees one moment")
            job.ranges, job.range_sql = [None], None
            return
        job.snapshot_head = head  # let go of when the element ends (_cleanup_cursors)
        snapshot = job.snapshot
        job.progress.snapshot_held = lambda: head.snapshot_held(snapshot)
        if job.snapshot.sharing == SHARED and not job.snapshot.token and len(job.ranges) > 1:
            job.ranges, job.range_sql = [None], None  # cannot be shared: one reader, one snapshot
        if job.snapshot.sharing == SHARED and figures:
            job.figure_columns = self.ws.columns_of(item.source, item.element)
            job.figures_head = head

    def _previous_attempt(self, job: Job) -> str | None:
        """The run of the latest earlier attempt at this element and target, if it did not complete."""
        row = self.ws.con.execute(
            "SELECT run_id, status FROM transfers WHERE source = ? AND ref = ? AND target_uri = ? AND run_id <> ? "
            "ORDER BY started_at DESC LIMIT 1", [job.item.source, job.item.ref, job.element_uri, self.run_id]).fetchall()
        return row[0][0] if row and row[0][1] not in ("done", "skipped") else None

    def _take_figures(self, job: Job) -> None:
        """The source's figures for RECONCILE, computed by the source in the element's snapshot,
        while the ranges are read (a worker thread)."""
        import dataclasses

        head = job.figures_head
        try:
            found = head.aggregates(job.item.element, job.figure_columns, job.snapshot)
        except HydraError as err:  # the copy stands; RECONCILE computes them from the source now
            job.figures_error = str(err)
            return
        job.figures = {"row_count": found.row_count, "columns": found.columns, "method": found.method}
        identity = head.snapshot_identity(job.snapshot)
        if identity:  # the moment as the reader found it (MySQL)
            job.snapshot = dataclasses.replace(job.snapshot, identity=tuple(identity.items()))

    def _begin(self, job: Job) -> None:
        """The element's staging, made by the first of its tasks to start (a worker thread)."""
        with job.lock:
            if job.staging is None:
                staging = self.target.begin(job.rel)
                job.sink = ElementSink(self.target, staging, self.options.format, self.options.compression,
                                       self.options.rows_per_file, self.options.partition_by, job.progress)
                job.staging = staging

    def _task(self, job: Job, con, range_quals: list | None) -> None:
        """Read one range of an element and write its parts (a worker thread); an element whose
        native scan failed is read again once, the head's other way, when it has one."""
        import duckdb

        try:
            try:
                self._read_range(job, con, range_quals)
            except (duckdb.Error, OSError) as err:  # DuckDB's Arrow stream raises its errors as OSError
                if isinstance(err, TargetError) or not self._falls_back(job):
                    raise
                self._read_range(job, con, range_quals)
        finally:
            try:
                con.close()
            except Exception:  # noqa: BLE001
                pass

    def _falls_back(self, job: Job) -> bool:
        """After a failed native scan of a whole element: whether its head reads it another way
        (``Head.fall_back``); then what the failed read staged is dropped."""
        item = job.item
        if item.is_query or self.cancelled or job.ranges != [None] or job.status == "failed":
            return False
        if not self.ws.head(item.source).fall_back(item.element):
            return False
        with job.lock:
            if job.staging is not None:
                self.target.abort(job.rel, job.staging)
            job.staging = job.sink = None
        job.columns, job.pushed, job.queries, job.schemas, job.route = [], [], [], [], "duckdb"
        return True

    def _read_range(self, job: Job, con, range_quals: list | None) -> None:
        item = job.item
        scan = writer = batches = reader = None
        try:
            self._begin(job)
            from hydra.core.snapshot import reading

            with reading(job.snapshot):  # the head's reader joins the element's snapshot as it opens
                scan = job.pre_scan if item.is_query else open_scan(
                    self.ws, item, con, columns=item.columns, ranges=range_quals)
            seen = columns_only(range_quals, scan)  # not a ctid block range: DuckDB has none
            range_predicate = to_sql(seen, "duckdb") if seen else None
            projection = ", ".join(q(c) for c in item.columns) if item.columns else "*"
            inner = f"SELECT {projection} FROM {scan.expr} AS __src{where_sql(item.filter, range_predicate)}"
            rel = con.sql(inner)
            columns = [(n, str(t)) for n, t in zip(rel.columns, rel.types)]
            del rel
            if self.options.partition_by and self.options.partition_by not in [n for n, _ in columns]:
                raise HydraError(f"PARTITION_BY: no column {self.options.partition_by!r}")
            if not job.columns:
                job.columns, job.pushed = columns, scan.pushed
            writer = job.sink.task()
            if self.options.format == "parquet" and direct.passes_through(scan, columns):
                job.queries.append(inner)
                job.route = "direct"
                batches = direct.hashed_batches(con, scan.reader, columns, _batch_rows(columns), BATCH_BYTES)
                schema = scan.reader.schema
            else:
                sql = self._query(inner, columns)
                job.queries.append(sql)
                reader = con.sql(sql).to_arrow_reader(_batch_rows(columns))
                batches = ((batch, None) for batch in reader)
                schema = reader.schema
            for batch, hash_sum in batches:
                if job.status == "failed" or self.cancelled:
                    raise HydraError(job.error or ("interrupted" if self.cancelled else
                                                   "another part of this element failed"))
                writer.write(batch, hash_sum)
            job.schemas.append(schema)
            writer.close()
            if job.counter is not None:
                job.expected = job.counter.count(item.element)
            job.checksums.append(writer.checksum)  # summed by the main thread when the element ends
        except BaseException:
            if writer is not None:
                writer.abandon()
            raise
        finally:
            # a failure's traceback keeps this frame alive: drop the readers now, so that the
            # head's transfer stops (its client process exits) instead of waiting for the GC
            batches = reader = None  # noqa: F841
            if scan is not None:
                scan.close()

    def _query(self, inner: str, columns: list[tuple[str, str]]) -> str:
        fmt = self.options.format
        if fmt == "jsonl":
            packed = ", ".join(f"{q(n)} := {json_line_value(n, t)}" for n, t in columns)
            data = [f"to_json(struct_pack({packed})) || chr(10) AS {LINE}"]
            if self.options.partition_by:
                data.append(q(self.options.partition_by))
        elif fmt == "csv":
            data = [q(n) if (is_numeric(t) or t.upper() in CSV_NATIVE) else f"CAST({q(n)} AS VARCHAR) AS {q(n)}"
                    for n, t in columns]
        else:
            data = [f"CAST({q(n)} AS VARCHAR) AS {q(n)}" if not_for_parquet(t) else q(n) for n, t in columns]
        return f"SELECT {', '.join(data)}, {row_hash_sql(columns, cast=False)} AS {HASH} FROM ({inner}) AS __rows"

    def _commit(self, job: Job) -> None:
        """Write the manifest of an element whose every range is written, and commit it (a
        worker thread; a failure fails the element)."""
        from hydra.core.clock import now
        from hydra.transfer.manifest import element_manifest

        job.finished_at = now()
        job.seconds = time.perf_counter() - job.started
        job.checksum = sum(job.checksums) % CHECKSUM_MOD
        if job.figure_columns is not None and job.figures is None:
            self._take_figures(job)  # found by the element's one reader, in its snapshot (MySQL)
        read = sum(f["rows"] for f in job.sink.files)
        if job.expected is not None and job.expected[0] != read:
            raise HydraError(f"{job.item.ref}: reading it yields {read:,} rows but it holds "
                             f"{job.expected[0]:,} (counted by {job.expected[1]}): the reader "
                             f"skipped rows it could not parse or decode; nothing was written")
        if job.accounts is not None:
            lines = job.accounts.accounting(job.item.element, read)  # raises when the lines do not add up
            if lines is not None:
                job.rejects = lines.pop("rejects")
                job.lines = lines
        if not job.sink.files and job.schemas:
            job.sink.empty_part(job.schemas[0])  # an empty element still has a file with its schema
        if not job.item.is_query:
            self._write_files(job)
        manifest = element_manifest(job, job.finished_at, job.seconds)
        self.target.commit(job.rel, job.staging, manifest)
        job.rows, job.bytes, job.files = manifest["rows"], manifest["bytes"], len(manifest["files"])
        job.committed = True

    def _write_files(self, job: Job) -> None:
        """The files that belong with the element's rows (``Head.files``), written as they are
        beside its parts, each listed in the manifest with its SHA-256 (and no rows)."""
        from hydra.heads.base import FILES_FOLDER

        for name, save in self.ws.head(job.item.source).files(job.item.element) or ():
            if self.cancelled or job.status == "failed":
                raise HydraError(job.error or "interrupted")
            path = f"{FILES_FOLDER}/{name}"
            out = self.target.open_part(job.staging, path)
            try:
                save(out)
            finally:
                out.close()
            job.sink.closed({"path": path, "rows": 0, "bytes": out.size, "sha256": out.sha.hexdigest(),
                             "partition": None})

    def _finish(self, job: Job) -> None:
        """Record the outcome of an element whose tasks (and commit) have ended (main thread)."""
        from hydra.core.clock import now

        if job.finished_at is None:
            job.finished_at = now()
            job.seconds = time.perf_counter() - job.started
        if job.committed:
            job.status = "done"
            if job.rejects is not None:
                self.ws.store_rejects(job.item.source, job.item.ref, job.rejects, job.run_id)
        else:
            job.status = "failed"
            if job.staging is not None:
                self.target.abort(job.rel, job.staging)
            job.rows = job.bytes = job.files = 0
        self._cleanup_cursors(job)
        self._record_end(job, job.finished_at)

    @staticmethod
    def _cleanup_cursors(job: Job) -> None:
        if job.snapshot_head is not None:  # every reader has ended: the source may let go of it
            head, job.snapshot_head = job.snapshot_head, None
            held = head.snapshot_held(job.snapshot)
            job.snapshot_held = job.snapshot_held if held is None else held
            head.release(job.snapshot)
        if job.pre_scan is not None:
            job.pre_scan.close()
        for cursor in job.cursors:
            try:
                cursor.close()
            except Exception:  # noqa: BLE001
                pass
        job.cursors = []

    # -- bookkeeping (main thread) --------------------------------------------------------------

    def _skip(self, job: Job, manifest: dict) -> None:
        changed = self._changed(job, manifest)
        if changed:
            self._fail(job, f"already complete at the target with a different {changed}; "
                            f"add (OVERWRITE true) to replace it")
            return
        job.status = "skipped"
        job.checksum = int((manifest.get("checksum") or {}).get("value") or 0)
        job.rows = manifest.get("rows") or 0
        job.bytes = manifest.get("bytes") or 0
        job.files = len(manifest.get("files") or [])
        self._record_end(job)

    def _changed(self, job: Job, manifest: dict) -> str | None:
        """What differs between this request and the complete element at the target, if anything."""
        query = manifest.get("query") or {}
        wanted = {"format": self.options.format, "compression": self.options.compression,
                  "partition_by": self.options.partition_by, "rows_per_file": self.options.rows_per_file}
        for key, value in wanted.items():
            if key in manifest and manifest[key] != value:
                return f"{key.upper()} ({manifest[key]}, now {value})"
        if job.item.is_query and query.get("user_query") != job.item.query:
            return "query (the NAME is the same)"
        if query.get("filter") != job.item.filter:
            return f"filter ({query.get('filter')!r}, now {job.item.filter!r})"
        if query.get("mark_columns") != job.item.columns:
            return "column list"
        return None

    def _fail(self, job: Job, error: str) -> None:
        job.status, job.error = "failed", error
        self._record_end(job)

    # transfers rows are written in bulk (one statement for the run's start, one per batch of
    # ended elements): a statement per element cost more than extracting a small S3 object

    def _record_start(self, jobs: list[Job]) -> None:
        from hydra.core.clock import now

        started = now()
        self._write_transfers("INSERT INTO transfers BY NAME SELECT * FROM {view}", {
            "run_id": [self.run_id] * len(jobs), "source": [j.item.source for j in jobs],
            "ref": [j.item.ref for j in jobs], "target_uri": [j.element_uri for j in jobs],
            "status": ["running"] * len(jobs), "started_at": [started] * len(jobs),
            "target_root": [self.target.uri] * len(jobs), "format": [self.options.format] * len(jobs)})

    def _record_end(self, job: Job, finished_at=None) -> None:
        """Note an element's outcome; ``transfers`` is updated every ``RECORD_BATCH`` elements or
        ``RECORD_SECONDS``, and when the run ends (or is interrupted)."""
        from hydra.core.clock import now

        job.ended = True
        self._ended.append((job.item.source, job.item.ref, job.status, job.rows, job.bytes, job.files,
                            finished_at or now(), job.error,
                            str(job.checksum) if job.status in ("done", "skipped") else None))
        if len(self._ended) >= RECORD_BATCH or time.monotonic() - self._recorded_at > RECORD_SECONDS:
            self._flush_ended()

    def _flush_ended(self) -> None:
        ended, self._ended = self._ended, []
        self._recorded_at = time.monotonic()
        if not ended:
            return
        names = ("source", "ref", "status", "rows", "bytes", "files", "finished_at", "error", "checksum")
        columns = {name: [row[i] for row in ended] for i, name in enumerate(names)}
        columns["run_id"] = [self.run_id] * len(ended)
        try:
            self._write_transfers(
                "UPDATE transfers SET status = e.status, rows = e.rows, bytes = e.bytes, files = e.files, "
                "finished_at = e.finished_at, error = e.error, checksum = e.checksum FROM {view} e "
                "WHERE transfers.run_id = e.run_id AND transfers.source = e.source AND transfers.ref = e.ref",
                columns)
        except BaseException:
            self._ended = ended + self._ended  # an interrupted update is redone (see _cancel)
            raise

    def _write_transfers(self, sql: str, columns: dict[str, list]) -> None:
        import pyarrow as pa

        types = {"rows": pa.int64(), "bytes": pa.int64(), "files": pa.int32(), "error": pa.string(),
                 "checksum": pa.string(), "started_at": pa.timestamp("us", tz="UTC"),
                 "finished_at": pa.timestamp("us", tz="UTC")}
        table = pa.table({k: pa.array(v, types.get(k, pa.string())) for k, v in columns.items()})
        view = f"__hydra_transfers_{id(table):x}"
        self.ws.con.register(view, table)
        try:
            self.ws.con.execute(sql.format(view=view))
        finally:
            self.ws.con.unregister(view)

    def _write_run_manifest(self, finished_at) -> None:
        from hydra.transfer.manifest import run_manifest

        outcomes = [{"source": j.item.source, "ref": j.item.ref, "target": j.element_uri, "status": j.status,
                     "rows": j.rows, "bytes": j.bytes, "files": j.files, "seconds": round(j.seconds, 3),
                     "error": j.error} for j in self.jobs]
        try:
            self.target.write_run_manifest(self.run_id, run_manifest(
                self.run_id, self.statement_text, self.target.uri, self.options, self.started_at,
                finished_at, outcomes))
        except Exception:  # noqa: BLE001 - an unwritable target is already reported per element
            pass

    def _result(self, seconds: float) -> Result:
        rows = [(j.item.ref, j.status, j.rows, j.bytes, j.files, round(j.seconds, 3), j.error) for j in self.jobs]
        counts = {s: sum(j.status == s for j in self.jobs) for s in ("done", "skipped", "failed")}
        total_rows = sum(j.rows for j in self.jobs if j.status == "done")
        total_bytes = sum(j.bytes for j in self.jobs if j.status == "done")
        from hydra.transfer.progress import human_bytes

        message = (f"EXTRACT {self.run_id} to {self.target.uri}: {counts['done']} done "
                   f"({total_rows:,} rows, {human_bytes(total_bytes)}), {counts['skipped']} skipped "
                   f"(already complete), {counts['failed']} failed, in {seconds:.1f} s")
        held = [j.snapshot_held for j in self.jobs if j.snapshot_held is not None]
        if held:
            message += f"; the source held a snapshot up to {max(held):.1f} s"
        failure = None
        if counts["failed"]:
            message += f"\n{counts['failed']} element{'s' * (counts['failed'] != 1)} FAILED: see the error column or transfers.error"
            failure = (f"EXTRACT {self.run_id}: {counts['failed']} of {len(self.jobs)} element"
                       f"{'s' * (len(self.jobs) != 1)} failed (SELECT ref, error FROM transfers "
                       f"WHERE run_id = '{self.run_id}' AND status = 'failed')")
        return Result(columns=["ref", "status", "rows", "bytes", "files", "seconds", "error"], rows=rows,
                      message=message, failure=failure)


def _owner(manifest: dict) -> tuple[str, str] | None:
    """The (source, ref) a manifest was written for."""
    if "source" in manifest and "ref" in manifest:
        return manifest["source"], manifest["ref"]
    return None


def _task_error(err: BaseException, job: Job) -> str:
    if isinstance(err, (TargetError, OSError)):
        return error_line(err, job.element_uri)
    if isinstance(err, HydraError):
        return str(err)
    return one_line(err)


def _writes_as_read(job: Job, table) -> bool:
    """Whether a small element's table goes to Parquet as it is: the columns asked for, of types
    Parquet keeps (``direct``)."""
    if job.item.columns and table.column_names != list(job.item.columns):
        return False
    return bool(table.num_columns) and all(direct.stores_faithfully(f.type) for f in table.schema)


def _small_checksums(con, tables: list) -> tuple[list[tuple[str, str]], dict[int, int]]:
    """The DuckDB columns of tables of the same columns, and each table's checksum (by its
    position; an empty table has none: 0), in one query."""
    from hydra.transfer.profile import describe

    combined = small.stacked(tables)
    view = f"__hydra_small_{id(combined):x}"
    con.register(view, combined)
    try:
        columns = [c for c in describe(con, view) if c[0] != small.GROUP_COLUMN]
        group = q(small.GROUP_COLUMN)
        rows = con.execute(f"SELECT {group}, {checksum_sql(columns, cast=False)} FROM {view} "
                           f"GROUP BY {group}").fetchall()
    finally:
        con.unregister(view)
    return columns, {number: int(value) for number, value in rows}


def _batch_rows(columns: list[tuple[str, str]]) -> int:
    width = 0
    for _, type_ in columns:
        t = type_.upper()
        width += 64 if is_nested(t) else 32 if t in ("VARCHAR", "BLOB", "JSON") else 16 if "DECIMAL" in t else 8
    return max(8192, min(1_000_000, BATCH_BYTES // max(width, 1)))
