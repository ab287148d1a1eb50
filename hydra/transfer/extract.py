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

This module is the coordinator. Each element's part of the plan — its ranges, its snapshot, its
read tasks — comes from ``plan``; the tasks are plain data run by ``task.run_task`` through an
Executor (``hydra.engine``: the local thread pool); the coordinator alone keeps the workspace's
books (``ledger``: the ``transfers`` rows), writes the manifests from the tasks' results, and
shows progress and the summary (``render``). Many small elements take a shorter road (``small``).
"""

from __future__ import annotations

import sys
import time
import uuid
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from hydra.core.errors import HydraError, one_line
from hydra.core.quals import to_sql
from hydra.core.statement import Result
from hydra.engine.base import Context
from hydra.engine.choose import open_executor
from hydra.heads.spec import SourceSpec
from hydra.read.scan import reader_error
from hydra.transfer import direct, small
from hydra.transfer.common import CHECKSUM_MOD, QUERY_SOURCE, Item, checksum_sql, items_for, open_scan, q, query_label
from hydra.transfer.layout import plan_folders
from hydra.transfer.ledger import Ledger
from hydra.transfer.plan import (OPTIONS, RANGE_MIN_BYTES, RANGE_MIN_ROWS, SNAPSHOT_MODES, Options,  # noqa: F401
                                 element_tasks, parse_options, range_count)
from hydra.transfer.render import Display, summary
from hydra.transfer.targets import TargetError, error_line, open_target
from hydra.transfer.task import TaskResult, run_task, write_scan
from hydra.transfer.writers import ElementSink, Progress

# Ctrl-C arrives as two exceptions (DuckDB's "interrupted" error, then the KeyboardInterrupt), so
# the second may land inside the clean-up, which is then redone — a few times at most: a clean-up
# that keeps failing must not keep the shell from returning
CLEANUP_ATTEMPTS = 5


@dataclass
class Job:
    """One element of a run."""

    item: Item
    number: int  # its position in the run (the first part of its tasks' ids)
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
    spec: SourceSpec | None = None  # the source, as its tasks carry it
    live: list = field(default_factory=list)  # a query's cursor, read on the coordinator (to interrupt)
    pre_scan: object = None
    ranges: list | None = None  # a split range (Quals) per task; [None] = one task
    range_sql: list | None = None
    columns: list = field(default_factory=list)
    queries: list = field(default_factory=list)  # the extraction query of each range
    pushed: list = field(default_factory=list)
    counter: object = None  # the head whose independent count checks the rows read
    expected: tuple | None = None  # (rows, how counted) from counter.count
    account: bool = False  # account for every line of a whole read (the task asks Head.accounting)
    accounting: dict | None = None  # what the task found (TaskResult.accounting)
    lines: dict | None = None  # that accounting (the manifest's "lines")
    rejects: list | None = None  # its rejects, stored by the main thread once the element is committed
    route: str = "duckdb"  # how rows reach the writer: through a DuckDB query, or 'direct' (transfer.direct)
    checksum: int = 0
    checksums: list = field(default_factory=list)  # one per range, appended by the workers
    schemas: list = field(default_factory=list)  # the Arrow schema each range read
    pending: int = 0
    committed: bool = False  # its manifest is written: complete at the target
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

    def took(self, result: TaskResult) -> None:
        """What one read task wrote (main thread)."""
        self.sink.files.extend(result.files)
        self.checksums.append(result.checksum)
        self.schemas.append(result.schema)
        self.queries.append(result.query)
        if not self.columns:
            self.columns, self.pushed = list(result.columns), list(result.pushed)
        if result.route == "direct":
            self.route = "direct"
        if result.expected is not None:
            self.expected = result.expected
        if result.accounting is not None:
            self.accounting = result.accounting


class _JobContext(Context):
    """A read task of the element run in this process: it reads with the head the workspace
    holds open (which holds the element's snapshot), writes to the run's target, stops when the
    run is cancelled or another range of its element failed, and updates the element's progress."""

    def __init__(self, run: Run, job: Job):
        super().__init__()
        self.run, self.job = run, job

    def resource(self, key, make):
        if key == ("head", self.job.spec):
            return self.run.ws.head(self.job.item.source)
        if key == ("target", self.run.target.uri):
            return self.run.target
        return super().resource(key, make)

    def stopped(self) -> str | None:
        if self.job.status == "failed" or self.run.cancelled:
            return self.job.error or ("interrupted" if self.run.cancelled else "another part of this element failed")
        return None

    def progress(self, rows: int, size: int) -> None:
        self.job.progress.add(rows, size)


def cleaned_up(step, attempts: int | None = None) -> bool:
    """Run the clean-up ``step`` until it completes, at most ``attempts`` times (a second Ctrl-C
    may interrupt it); whether it completed."""
    for _ in range(attempts or CLEANUP_ATTEMPTS):
        try:
            step()
            return True
        except BaseException:  # noqa: BLE001 - interrupted again: redo it, a bounded number of times
            continue
    return False


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
    owner = ws.sources_holding([target.uri]).get(target.uri)
    if owner is not None:
        raise HydraError(f"cannot extract to {target.uri}: it is inside source {owner}, and Hydra never "
                         f"writes to a source; extract to a folder outside it")
    return Run(ws, text, target, items, options).run()


class Run:
    def __init__(self, ws, statement_text: str, target, items: list[Item], options: Options):
        from hydra.core.clock import now

        self.ws, self.statement_text, self.target, self.options = ws, statement_text, target, options
        self.started_at = now()
        self.run_id = self.started_at.strftime("%Y%m%dT%H%M%S%f")[:-3] + "-" + uuid.uuid4().hex[:6]
        self.cancelled = False
        self.ledger = Ledger(ws.con, self.run_id)
        self.jobs = self._jobs(items)

    def _jobs(self, items: list[Item]) -> list[Job]:
        from hydra.transfer.profile import stats_of_many

        stats = stats_of_many(self.ws, [(i.source, i.ref) for i in items if not i.is_query])
        jobs = []
        folders, self.clashes = plan_folders(self.ws, items)
        for item, rel in zip(items, folders):
            job = Job(item, len(jobs), self.run_id, rel, self.target.element_uri(rel), self.options)
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
        self.ledger.started([(j.item.source, j.item.ref, j.element_uri) for j in self.jobs], self.target.uri,
                            self.options.format)
        held = self.ws.sources_holding([j.element_uri for j in self.jobs])
        for i, job in enumerate(self.jobs):
            element = job.item.element
            if target_error:
                self._fail(job, target_error)
            elif i in self.clashes:
                self._fail(job, self.clashes[i])
            elif job.element_uri in held:  # a source's folder inside the target's
                self._fail(job, f"not extracted: its folder {job.element_uri} is inside source "
                                f"{held[job.element_uri]}, and Hydra never writes to a source; extract to another target")
            elif element is not None and element.error:
                # listed, but the way it was attached cannot read it as it is (elements.error)
                self._fail(job, f"not extracted: {element.error}")
        self._check_targets([j for j in self.jobs if j.status == "pending"])
        todo = [j for j in self.jobs if j.status == "pending"]
        batched = [j for j in todo if self._small(j)]
        queue = [j for j in todo if not self._small(j)]
        small_threads = small.threads(self.ws, [j.item for j in batched], self.options.workers)
        engine = self._open_engine(todo)
        batched, queue = [j for j in batched if j.status == "pending"], [j for j in queue if j.status == "pending"]
        with Display() as display, engine, \
                ThreadPoolExecutor(max_workers=small_threads, thread_name_prefix="hydra-small") as reads:
            running: dict = {}
            try:
                self._small_loop(reads, display, batched, running, queue)
                self._loop(engine, display, queue)
            except BaseException:
                # Ctrl-C (a KeyboardInterrupt, or DuckDB's "interrupted" error when it landed in a
                # bookkeeping query) or any failure of the loop itself
                cleaned_up(lambda: self._cancel(engine, running))
                raise
        self._flush_ended()
        finished_at = now()
        self._write_run_manifest(finished_at)
        result = summary(self.run_id, self.target.uri, self.jobs, (finished_at - self.started_at).total_seconds())
        if self.where:
            result.message = f"{result.message}\n{self.where}"
        return result

    def _open_engine(self, todo: list[Job]):
        """The executor ENGINE names; where it runs is printed (a cluster's dashboard is where to
        watch the run). One that cannot start (an unreachable scheduler) fails each element to do
        with its one line; the run then has nothing left to run."""
        from hydra.engine.local import LocalExecutor

        self.where = None
        try:
            engine = open_executor(self.options.engine, self.options.workers)
        except HydraError as err:
            for job in todo:
                self._fail(job, str(err))
            return LocalExecutor(1)
        describe = getattr(engine, "describe", None)
        self.where = describe() if describe else None
        if self.where:
            print(self.where, file=sys.stderr, flush=True)
        return engine

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

    def _cancel(self, engine, running: dict) -> None:
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
        attempt(engine.cancel)  # drops the tasks not started, interrupts the running ones
        for job in self.jobs:
            if job.ended:
                continue
            for cursor in job.live:  # a query's reader, on the coordinator
                attempt(cursor.interrupt)
            if job.snapshot_head is not None:  # stops the figures' query, if it runs
                attempt(lambda: job.snapshot_head.release(job.snapshot))  # noqa: B023 - runs now
        while any(not f.done() for f in running):
            attempt(lambda: wait(list(running)))
        cleaned_up(engine.close)  # waits for what still runs: nothing writes at the target after this
        attempt(lambda: self._drain(engine))
        for job in self.jobs:
            if job.ended:
                continue
            if job.committed:  # complete at the target before the interruption
                job.status, job.error = "done", None
                attempt(lambda: self._cleanup(job))  # noqa: B023
                attempt(lambda: self._record_end(job))  # noqa: B023
                continue
            job.error = "interrupted" if job.status != "pending" else "interrupted before it started"
            job.status = "failed"
            job.rows = job.bytes = job.files = 0
            if job.staging is not None:
                attempt(lambda: self.target.abort(job.rel, job.staging))  # noqa: B023 - runs now
            attempt(lambda: self._cleanup(job))  # noqa: B023
            attempt(lambda: self._record_end(job))  # noqa: B023
        attempt(self._flush_ended)
        attempt(lambda: self._write_run_manifest(now()))

    def _drain(self, engine) -> None:
        """The outcomes of an interrupted run: only where an element was staged still matters
        (so that its staging is removed)."""
        while True:
            outcomes = engine.completed(timeout=0)
            if not outcomes:
                return
            for outcome in outcomes:
                if outcome.key[0] == "staged" and outcome.error is None:
                    self.jobs[outcome.key[1]].staging = outcome.result

    def _loop(self, engine, display, queue: list) -> None:
        """Plan each element as it is reached (its ranges, its snapshot, its staging), hand its
        read tasks to the executor, and keep the books as their outcomes arrive. Elements are
        prepared lazily so that only a few hold open readers and snapshots at a time; the
        target's I/O (staging, manifest, commit) runs beside the tasks (``run_here``), so that
        this thread, which keeps the workspace's books, never waits on a disk or S3 itself."""
        while queue or engine.pending():
            while queue and engine.pending() < self.options.workers * 2:
                job = queue.pop(0)
                if not self._prepare(job):
                    continue
                display.add(job.item.ref, job.progress)
                engine.run_here(("staged", job.number), self.target.staging, job.rel)
                if job.figure_columns is not None and job.snapshot.token:  # the figures, in the snapshot, meanwhile
                    engine.run_here(("figures", job.number), self._take_figures, job)
            if not engine.pending():
                continue
            for outcome in engine.completed():
                what, number = outcome.key[0], outcome.key[1]
                job = self.jobs[number]
                if what == "staged":
                    self._staged(engine, display, job, outcome)
                elif what == "committed":
                    if outcome.error is not None:
                        job.status, job.error = "failed", error_line(outcome.error, job.element_uri)
                    self._finish(job)
                    display.done(job.item.ref, job.status)
                else:
                    self._read(engine, display, job, outcome)

    def _staged(self, engine, display, job: Job, outcome) -> None:
        """The element's staging is ready: its read tasks go to the executor."""
        if outcome.error is not None:
            job.status, job.error = "failed", _task_error(outcome.error, job)
            job.pending -= len(job.ranges)  # never submitted
            self._read_ended(engine, display, job)
            return
        job.staging = outcome.result
        job.sink = ElementSink(self.target, job.staging, self.options.format, self.options.compression,
                               self.options.rows_per_file, self.options.partition_by, job.progress)
        if job.item.is_query:  # its refs resolve in the workspace: read here, on the coordinator
            engine.run_here(("read", job.number, "0"), self._read_query, job)
            return
        for task in element_tasks(job.number, job.spec, job.item, job.ranges, self.target.uri, job.staging,
                                  self.options, job.snapshot, count=job.counter is not None, account=job.account):
            engine.submit(("read", job.number, task.task_id), run_task, task, _JobContext(self, job))

    def _read(self, engine, display, job: Job, outcome) -> None:
        """A read task (or the figures beside them) has ended."""
        job.pending -= 1
        if outcome.error is not None and job.status != "failed":
            job.status = "failed"
            job.error = _task_error(outcome.error, job)
        elif isinstance(outcome.result, TaskResult):
            job.took(outcome.result)
        self._read_ended(engine, display, job)

    def _read_ended(self, engine, display, job: Job) -> None:
        if job.pending > 0:
            return
        if job.status == "failed":
            self._finish(job)
            display.done(job.item.ref, job.status)
        else:
            engine.run_here(("committed", job.number), self._commit, job)

    # -- many small elements (transfer.small) ---------------------------------------------------
    # Read whole, many at a time, each batch's checksums computed by one DuckDB query (GROUP BY
    # element), each element written and committed by the pool of reads: per element, this costs
    # its read, its Parquet file and its manifest, and no DuckDB query of its own.

    def _small(self, job: Job) -> bool:
        # on a remote engine every element is read by the tasks, where the engine runs them
        return (self.options.format == "parquet" and not job.item.filter and not self.options.engine.remote
                and small.is_small(self.ws, job.item))

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
        job.staging = self.target.staging(job.rel)
        job.sink = ElementSink(self.target, job.staging, self.options.format, self.options.compression,
                               self.options.rows_per_file, self.options.partition_by, job.progress)
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
        """The element's part of the plan: its key ranges and its snapshot (main thread: it
        touches the workspace)."""
        from hydra.core.clock import now

        job.started_at, job.started = now(), time.perf_counter()
        job.status = "running"
        try:
            job.ranges = [None]
            item = job.item
            if item.is_query:
                cursor = self.ws.con.cursor()
                job.live.append(cursor)
                job.pre_scan = open_scan(self.ws, item, cursor)
            else:
                head = self.ws.head(item.source)  # opened here, in the main thread
                job.spec = SourceSpec.from_row(self.ws.source_row(item.source))
                parts = range_count(item.element, self.options.workers)
                if head.scan_sql(item.element) is None and parts > 1:
                    split = head.split(item.element, parts)
                    if split:
                        job.ranges = [list(quals) or None for quals in split]
                        job.range_sql = [to_sql(quals, "duckdb") or None for quals in split]
                if not item.filter and len(job.ranges) == 1 and not head.reads_every_row(item.element):
                    job.counter = head  # the rows read are checked against head.count (the task)
                self._take_snapshot(job, head)
                if not item.filter and len(job.ranges) == 1:
                    job.account = True  # lines loaded + rejected + skipped = lines (the task)
            job.pending = len(job.ranges) + (job.figure_columns is not None and bool(job.snapshot.token))
            return True
        except Exception as err:  # noqa: BLE001 - the element fails, the others go on
            self._cleanup(job)
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
        job.snapshot_head = head  # let go of when the element ends (_cleanup)
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

    def _read_query(self, job: Job) -> TaskResult:
        """EXTRACT (query): read on the coordinator, on the cursor its scan was opened on."""
        con, scan = job.live[0], job.pre_scan
        sink = ElementSink(self.target, job.staging, self.options.format, self.options.compression,
                           self.options.rows_per_file, self.options.partition_by, job.progress)
        writer = sink.task()
        try:
            found = write_scan(con, scan, None, None, None, self.options.layout, writer,
                               lambda: _JobContext(self, job).stopped())
        except BaseException as err:
            writer.abandon()
            failed = reader_error(self.ws, scan, err)
            if failed is not None:
                raise failed from None
            raise
        return TaskResult("0", tuple(sink.files), writer.rows, sum(f["bytes"] for f in sink.files),
                          writer.checksum, found.schema, tuple(found.columns), tuple(scan.pushed), found.query,
                          found.route)

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
        if job.accounting is not None:  # checked by the task, where the file was read
            lines = dict(job.accounting)
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
        self._cleanup(job)
        self._record_end(job, job.finished_at)

    @staticmethod
    def _cleanup(job: Job) -> None:
        if job.snapshot_head is not None:  # every reader has ended: the source may let go of it
            head, job.snapshot_head = job.snapshot_head, None
            held = head.snapshot_held(job.snapshot)
            job.snapshot_held = job.snapshot_held if held is None else held
            head.release(job.snapshot)
        if job.pre_scan is not None:
            job.pre_scan.close()
        for cursor in job.live:
            try:
                cursor.close()
            except Exception:  # noqa: BLE001
                pass
        job.live = []

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

    def _record_end(self, job: Job, finished_at=None) -> None:
        """Note an element's outcome in ``transfers`` (in batches: ``ledger.Ledger``)."""
        from hydra.core.clock import now

        job.ended = True
        self.ledger.ended(job.item.source, job.item.ref, job.status, job.rows, job.bytes, job.files,
                          finished_at or now(), job.error,
                          str(job.checksum) if job.status in ("done", "skipped") else None)

    def _flush_ended(self) -> None:
        self.ledger.flush()

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
