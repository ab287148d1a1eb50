"""ENGINE 'dask': EXTRACT's tasks run on a Dask distributed cluster.

The plan is the same as with the local executor (elements × key ranges, one picklable task each);
only where a task runs changes. What that asks of this module, and how it answers:

* **Workers need no workspace.** A task is pickled to a worker with the function that runs it
  (imported there by name: the worker needs ``hydra-shell`` installed, with the extras of the heads
  it reads). The task carries the source's non-secret spec; the worker opens its own connection,
  expanding ``${ENV}`` placeholders from its own environment. A task's result is a small summary.
* **A worker that dies** (killed, out of memory, its machine gone): the scheduler hands its tasks to
  another worker (Dask's ``distributed.scheduler.allowed-failures``), including tasks that had
  finished there and whose result was lost with it; part names are deterministic, so running a task
  twice writes the same parts again. **A task that raises** is retried ``RETRIES`` times (a source
  that dropped a connection), then its future carries the error: its element fails, others go on.
* **The per-source cap.** At most ``cap`` tasks of one source are on the cluster at once: the others
  wait here, at the coordinator, and are submitted as earlier ones end. Held back here rather than
  by a ``distributed.Semaphore`` taken on the worker: a semaphore's lease outlives a killed worker
  until the scheduler's lease timeout (30 s by default), during which the retried task would wait
  for its own dead lease; and a task waiting for a lease would hold a worker thread idle. The cap
  holds per EXTRACT run: two runs against one cluster are two runs against the source.
* **Ctrl-C.** Dask cannot stop a task that runs. ``cancel`` drops the tasks held back and sets a
  cluster-wide ``distributed.Event``, which each task checks before it starts and between its
  batches (its Context's ``stopped``); ``close`` waits (up to ``STOP_SECONDS``) for the running
  tasks to end, so that the coordinator removes the staging only once nothing writes into it any
  more, then cancels what is left; a cluster started here is closed, which ends its worker
  processes whatever they do.

It implements ``hydra.engine.base.Executor``: outcomes come back through ``completed`` as tasks
end; the coordinator's own work (``run_here``: commits, figures) runs in a thread pool of this
process. Progress comes from task completions: a task's rows and bytes are passed to the Context
the coordinator submitted it with when its result arrives (workers do not report mid-task).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Hashable

from hydra.core.errors import HydraError, one_line
from hydra.engine.base import Completions, Context, Outcome

RETRIES = 2  # a task that raises runs up to three times before its element fails
CONNECT_SECONDS = 10  # to reach a scheduler given by SCHEDULER
STOP_SECONDS = 30  # after cancel, how long running tasks get to notice the stop and end
STOP_CHECK_SECONDS = 1.0  # a task asks the scheduler whether to stop at most this often
INSTALL_HINT = "pip install 'hydra-shell[distributed]'"


def _distributed():
    try:
        import distributed
    except ImportError:
        raise HydraError(f"ENGINE 'dask' needs Dask distributed, which is not installed: {INSTALL_HINT} "
                         f"(on this machine and on the cluster's workers)") from None
    return distributed


def source_of(task: Any) -> str:
    """What the per-source cap counts a task under: its source's name (a ReadTask's ``source``)."""
    return str(getattr(getattr(task, "source", None), "name", "") or "")


class DaskExecutor:
    """Tasks on a Dask cluster: the one at ``scheduler`` (``tcp://host:8786``), or, without one, a
    ``LocalCluster`` of ``workers`` processes on this machine, started here and closed with it.
    At most ``cap`` tasks of one source (default ``workers``) are on the cluster at once."""

    name = "dask"

    def __init__(self, workers: int = 2, scheduler: str | None = None, cap: int | None = None):
        distributed = _distributed()
        self.workers = max(1, workers)
        self.cap = max(1, cap or self.workers)
        self.cluster = None
        if scheduler is None:
            # processes, one thread each: a task holds the GIL while it converts and writes batches
            self.cluster = distributed.LocalCluster(
                n_workers=self.workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                dashboard_address=":0", silence_logs=logging.ERROR)
            address = self.cluster.scheduler_address
        else:
            address = scheduler
        try:
            self.client = distributed.Client(address, timeout=f"{CONNECT_SECONDS}s", set_as_default=False)
        except (OSError, TimeoutError, ValueError) as err:
            self._close_cluster()
            raise HydraError(f"ENGINE 'dask': cannot reach the scheduler {address}: {one_line(err)}") from None
        self.address = address
        services = (self.client.scheduler_info() or {}).get("services") or {}
        self.dashboard = self.client.dashboard_link if "dashboard" in services else None
        self._stop = distributed.Event(f"hydra-stop-{uuid.uuid4().hex}", client=self.client)
        self._outcomes = Completions()
        self._here = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="hydra-coordinator")
        self._lock = threading.Lock()
        self._waiting: dict[str, deque] = {}  # per source: (key, fn, task, context) held back by the cap
        self._running: dict[str, int] = {}  # per source: tasks on the cluster
        self._remote: dict = {}  # distributed future → (key, context), while on the cluster
        self.cancelled = False
        self._closed = False
        self.submitted = 0  # tasks sent to the cluster (Dask's own retries are not counted)

    # -- the Executor protocol -------------------------------------------------------------------

    def submit(self, key: Hashable, fn: Callable[[Any, Context], Any], task: Any,
               context: Context | None = None) -> None:
        """Run ``fn(task, worker's context)`` on a worker; its outcome comes back under ``key``.
        ``context`` (the coordinator's) hears the task's rows and bytes when it completes."""
        self._outcomes.started()
        source = source_of(task)
        with self._lock:
            if self.cancelled:
                self._outcomes.finished(Outcome(key, error=HydraError("interrupted before it started")))
                return
            self._waiting.setdefault(source, deque()).append((key, fn, task, context))
            self._pump(source)

    def run_here(self, key: Hashable, fn: Callable[..., Any], *args: Any) -> None:
        self._outcomes.started()
        future = self._here.submit(fn, *args)

        def landed(done) -> None:
            if done.cancelled():
                self._outcomes.finished(Outcome(key, error=HydraError("interrupted before it started")))
            elif done.exception() is not None:
                self._outcomes.finished(Outcome(key, error=done.exception()))
            else:
                self._outcomes.finished(Outcome(key, result=done.result()))

        future.add_done_callback(landed)

    def completed(self, timeout: float | None = None) -> list[Outcome]:
        return self._outcomes.completed(timeout)

    def pending(self) -> int:
        return self._outcomes.pending()

    def cancel(self) -> None:
        """Drop the tasks held back, and tell those on the cluster to stop (they check between
        batches); ``close`` waits for them."""
        with self._lock:
            self.cancelled = True
            dropped = [entry[0] for waiting in self._waiting.values() for entry in waiting]
            self._waiting.clear()
            remote = bool(self._remote)
        for key in dropped:
            self._outcomes.finished(Outcome(key, error=HydraError("interrupted before it started")))
        if remote:
            try:
                self._stop.set()
            except Exception:  # noqa: BLE001 - the scheduler is gone: nothing runs there any more
                pass

    def close(self) -> None:
        """Wait for the tasks on the cluster (after ``cancel``: ``STOP_SECONDS`` at most, then
        cancel them), then let go of the cluster (and end one started here). Once: interrupted
        while it waits (a second Ctrl-C), it lets go at once and a retry has nothing left to do."""
        if self._closed:
            return
        self._closed = True
        try:
            deadline = time.monotonic() + STOP_SECONDS
            while True:
                with self._lock:
                    remote = [r for r in self._remote if not r.done()]
                    waiting = any(self._waiting.values())
                if not remote and not waiting:
                    break
                if self.cancelled and time.monotonic() > deadline:
                    self.client.cancel(remote, force=True)
                    break
                time.sleep(0.05)
            self._here.shutdown(wait=True)
            if self.cluster is None:  # a cluster that goes on: its workers let go of the sources
                try:
                    self.client.run(release_run, self._stop.name)
                except Exception:  # noqa: BLE001 - a worker gone meanwhile held nothing that still lives
                    pass
        finally:
            try:
                self.client.close()
            finally:
                self._close_cluster()

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, kind, *_) -> None:
        if kind is not None:
            self.cancel()
        self.close()

    # -- the cluster ---------------------------------------------------------------------------------

    def _pump(self, source: str) -> None:
        """Send a source's waiting tasks while it is under its cap (under the lock)."""
        waiting = self._waiting.get(source)
        while waiting and self._running.get(source, 0) < self.cap and not self.cancelled:
            key, fn, task, context = waiting.popleft()
            label = getattr(task, "task_id", None) or key
            remote = self.client.submit(run_on_worker, fn, task, self._stop.name, pure=False, retries=RETRIES,
                                        key=f"hydra-{label}-{uuid.uuid4().hex[:8]}")
            self._running[source] = self._running.get(source, 0) + 1
            self._remote[remote] = (key, context)
            self.submitted += 1
            remote.add_done_callback(lambda done, s=source: self._landed(s, done))

    def _landed(self, source: str, remote) -> None:
        """A task's outcome on the cluster (a thread of the client's): hand it on, send the next."""
        with self._lock:
            key, context = self._remote.pop(remote)
            self._running[source] -= 1
            self._pump(source)
        try:
            if remote.status == "finished":
                result = remote.result()
                outcome = Outcome(key, result=result)
                if context is not None:  # the progress: rows and bytes as each task completes
                    context.progress(getattr(result, "rows", 0) or 0, getattr(result, "bytes", 0) or 0)
            elif remote.status == "error":
                outcome = Outcome(key, error=remote.exception())
            else:  # cancelled, or lost with the client's connection
                outcome = Outcome(key, error=HydraError(f"interrupted (the task was {remote.status} on the cluster)"))
        except BaseException as err:  # noqa: BLE001 - fetching the outcome failed: that is the outcome
            outcome = Outcome(key, error=err)
        self._outcomes.finished(outcome)

    def _close_cluster(self) -> None:
        if self.cluster is not None:
            cluster, self.cluster = self.cluster, None
            cluster.close()

    # -- what the shell shows ------------------------------------------------------------------------

    def describe(self) -> str:
        """One line for the shell: where the tasks run, and the dashboard when there is one."""
        threads = sum((self.client.nthreads() or {}).values())
        where = (f"a LocalCluster of {threads} worker processes" if self.cluster is not None
                 else f"the Dask cluster at {self.address} ({threads} worker threads)")
        return f"EXTRACT on {where}" + (f"; dashboard: {self.dashboard}" if self.dashboard else "")

    def worker_pids(self) -> dict[str, int]:
        """Each worker's process id, by its address."""
        import os

        return self.client.run(os.getpid)


# -- on the worker -----------------------------------------------------------------------------------


# per run (named by its stop Event), what its tasks opened in this worker process (heads, targets):
# kept for the run's next tasks here, closed when the run ends (``release_run``), so that a worker
# of a long-lived cluster does not hold connections to a client's database after the run
_RUN_RESOURCES: dict[str, dict] = {}
_RUN_LOCK = threading.Lock()


class WorkerContext(Context):
    """A task's Context on a worker: ``stopped`` when the coordinator cancelled the run (its Event),
    asked of the scheduler at most every ``STOP_CHECK_SECONDS``: a task checks between batches,
    which may be many a second. ``resource`` keeps what the run's tasks open in this process
    until the run ends."""

    def __init__(self, stop_name: str):
        super().__init__()
        from distributed import Event

        self._run = stop_name
        self._event = Event(stop_name)
        self._checked = 0.0
        self._stopped = False

    def resource(self, key, make):
        with _RUN_LOCK:
            held = _RUN_RESOURCES.setdefault(self._run, {})
            if key not in held:
                held[key] = make()
            return held[key]

    def stopped(self) -> str | None:
        now = time.monotonic()
        if not self._stopped and now - self._checked >= STOP_CHECK_SECONDS:
            self._checked = now
            self._stopped = self._event.is_set()
        return "interrupted" if self._stopped else None


def release_run(stop_name: str) -> int:
    """Close what a run's tasks opened in this worker process; how many (run on every worker)."""
    with _RUN_LOCK:
        held = _RUN_RESOURCES.pop(stop_name, {})
    for resource in held.values():
        close = getattr(resource, "close", None)
        if close is not None:
            try:
                close()
            except Exception:  # noqa: BLE001 - a connection already gone: nothing left to release
                pass
    return len(held)


def run_on_worker(fn, task, stop_name: str):
    """A task on a worker: not at all once the run is stopping; else ``fn(task, its context)``."""
    context = WorkerContext(stop_name)
    if context.stopped():
        raise HydraError("interrupted")
    return fn(task, context)
