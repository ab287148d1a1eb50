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
* **Ctrl-C.** Dask cannot stop a task that runs. ``shutdown(cancel=True)`` sets a cluster-wide
  ``distributed.Event``, which each task checks before it starts and (through ``stop``) between its
  batches, and waits (up to ``STOP_SECONDS``) for the running tasks to end, so that the coordinator
  removes the staging only once nothing writes into it any more; a cluster started here is then
  closed, which ends its worker processes whatever they do.

Futures handed back are ``concurrent.futures.Future``: the coordinator waits on them as it waits on
a local thread pool's.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from concurrent.futures import Future

from hydra.core.errors import HydraError, one_line

RETRIES = 2  # a task that raises runs up to three times before its element fails
CONNECT_SECONDS = 10  # to reach a scheduler given by SCHEDULER
STOP_SECONDS = 30  # on Ctrl-C, how long running tasks get to notice the stop and end
STOP_CHECK_SECONDS = 1.0  # a task asks the scheduler whether to stop at most this often
INSTALL_HINT = "pip install 'hydra-shell[distributed]'"


def _distributed():
    try:
        import distributed
    except ImportError:
        raise HydraError(f"ENGINE 'dask' needs Dask distributed, which is not installed: {INSTALL_HINT} "
                         f"(on this machine and on the cluster's workers)") from None
    return distributed


class DaskExecutor:
    """Tasks on a Dask cluster: the one at ``scheduler`` (``tcp://host:8786``), or, without one, a
    ``LocalCluster`` of ``workers`` processes on this machine, started here and closed with it."""

    name = "dask"

    def __init__(self, scheduler: str | None = None, workers: int = 2, cap: int | None = None):
        distributed = _distributed()
        self.cap = max(1, cap or workers)
        self.cluster = None
        if scheduler is None:
            # processes, one thread each: a task holds the GIL while it converts and writes batches
            self.cluster = distributed.LocalCluster(
                n_workers=max(1, workers), threads_per_worker=1, processes=True, host="127.0.0.1",
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
        self._lock = threading.Lock()
        self._waiting: dict[str, deque] = {}  # per source: (fn, task, key, future) held back by the cap
        self._running: dict[str, int] = {}  # per source: tasks on the cluster
        self._remote: dict = {}  # distributed future → our future, while on the cluster
        self._stopping = False
        self.submitted = 0  # tasks sent to the cluster (a retry on the cluster is not counted)

    # -- submitting ------------------------------------------------------------------------------

    def submit(self, fn, task, *, source: str = "", key: str | None = None) -> Future:
        """Run ``fn(task, stop)`` on a worker (``stop()`` says whether to give up); the future gets
        its result, or its error once the retries are spent. ``source`` is what the cap counts."""
        future: Future = Future()
        with self._lock:
            if self._stopping:
                future.set_exception(HydraError("interrupted"))
                return future
            self._waiting.setdefault(source, deque()).append((fn, task, key, future))
            self._pump(source)
        return future

    def _pump(self, source: str) -> None:
        """Send a source's waiting tasks while it is under its cap (under the lock)."""
        waiting = self._waiting.get(source)
        while waiting and self._running.get(source, 0) < self.cap and not self._stopping:
            fn, task, key, future = waiting.popleft()
            if not future.set_running_or_notify_cancel():
                continue
            remote = self.client.submit(run_on_worker, fn, task, self._stop.name, pure=False, retries=RETRIES,
                                        key=f"hydra-{key or 'task'}-{uuid.uuid4().hex[:8]}")
            self._running[source] = self._running.get(source, 0) + 1
            self._remote[remote] = future
            self.submitted += 1
            remote.add_done_callback(lambda done, s=source: self._landed(s, done))

    def _landed(self, source: str, remote) -> None:
        """A task's outcome on the cluster (a thread of the client's): hand it on, send the next."""
        with self._lock:
            future = self._remote.pop(remote, None)
            self._running[source] -= 1
            self._pump(source)
        if future is None or future.done():
            return
        try:
            if remote.status == "finished":
                future.set_result(remote.result())
            elif remote.status == "error":
                future.set_exception(remote.exception())
            else:  # cancelled, or lost with the client's connection
                future.set_exception(HydraError(f"interrupted (the task was {remote.status} on the cluster)"))
        except BaseException as err:  # noqa: BLE001 - fetching the outcome failed: that is the outcome
            if not future.done():
                future.set_exception(err)

    # -- stopping --------------------------------------------------------------------------------

    def shutdown(self, cancel: bool = False) -> None:
        """End the executor. With ``cancel`` (Ctrl-C, or the run failed): waiting tasks are dropped,
        the running ones told to stop and waited for (``STOP_SECONDS`` at most), the rest cancelled."""
        if cancel:
            self._cancel()
        try:
            self.client.close()
        finally:
            self._close_cluster()

    def _cancel(self) -> None:
        with self._lock:
            self._stopping = True
            dropped = [entry[3] for waiting in self._waiting.values() for entry in waiting]
            self._waiting.clear()
            remote = list(self._remote)
        for future in dropped:
            _settle(future, HydraError("interrupted before it started"))
        if not remote:
            return
        try:
            self._stop.set()
        except Exception:  # noqa: BLE001 - the scheduler is gone: nothing runs there any more
            return
        deadline = time.monotonic() + STOP_SECONDS
        while time.monotonic() < deadline and any(not r.done() for r in remote):
            time.sleep(0.05)
        self.client.cancel([r for r in remote if not r.done()], force=True)

    def _close_cluster(self) -> None:
        if self.cluster is not None:
            cluster, self.cluster = self.cluster, None
            cluster.close()

    def __enter__(self):
        return self

    def __exit__(self, kind, *_):
        self.shutdown(cancel=kind is not None)
        return False

    # -- what the shell shows ----------------------------------------------------------------------

    def describe(self) -> str:
        """One line for the shell: where the tasks run, and the dashboard when there is one."""
        where = (f"a LocalCluster of {len(self.worker_pids())} worker processes" if self.cluster is not None
                 else f"the Dask cluster at {self.address}")
        line = f"EXTRACT on {where}"
        return line + (f"; dashboard: {self.dashboard}" if self.dashboard else "")

    def worker_pids(self) -> dict[str, int]:
        """Each worker's process id, by its address."""
        import os

        return self.client.run(os.getpid)


# -- on the worker ---------------------------------------------------------------------------------


class _StopCheck:
    """Whether the coordinator asked the tasks to stop (the run's Event), asked of the scheduler at
    most every ``STOP_CHECK_SECONDS``: a task checks between batches, which may be many a second."""

    def __init__(self, name: str):
        from distributed import Event

        self.event = Event(name)
        self.checked = 0.0
        self.stopped = False

    def __call__(self) -> bool:
        now = time.monotonic()
        if not self.stopped and now - self.checked >= STOP_CHECK_SECONDS:
            self.checked = now
            self.stopped = self.event.is_set()
        return self.stopped


def run_on_worker(fn, task, stop_name: str):
    """A task on a worker: not at all once the run is stopping; else ``fn(task, stop)``."""
    stop = _StopCheck(stop_name)
    if stop():
        raise HydraError("interrupted")
    return fn(task, stop)


def _settle(future: Future, error: BaseException) -> None:
    try:
        if not future.done():
            future.set_exception(error)
    except Exception:  # noqa: BLE001 - settled meanwhile by its callback: nothing to do
        pass
