"""A Dask LocalCluster of worker processes for the tests of ENGINE 'dask', and what the tests run
on it. Its functions run on the workers: they are imported there by name (the workers are spawned
with this process's sys.path, which holds tests/)."""

from __future__ import annotations

import os
import signal
import time
from contextlib import contextmanager

WORKERS = 2
# imported by each worker as it starts (a replacement for a killed one too): a worker's first task
# otherwise pays for importing DuckDB, pyarrow and the SQL head, ~10 s at load 15
PRELOAD = ("hydra.transfer.task", "hydra.heads.sql.head", "hydra.transfer.targets")


@contextmanager
def local_cluster(env: dict[str, str], workers: int = WORKERS, preload=PRELOAD):
    """A LocalCluster of ``workers`` processes (one thread each) on 127.0.0.1 whose workers see
    ``env`` on top of this process's environment (as a real cluster's workers have their own);
    yields (the cluster, a client of it)."""
    import logging

    import dask
    from distributed import Client, LocalCluster

    # short intervals so that a killed worker is noticed, and replaced by its nanny, quickly
    settings = {"distributed.comm.timeouts.connect": "10s", "distributed.scheduler.worker-ttl": "20s",
                "distributed.nanny.environ": {}}
    with dask.config.set(settings):
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=":0", silence_logs=logging.CRITICAL, env=env,
                               preload=list(preload))
        client = Client(cluster, set_as_default=False)
        try:
            client.wait_for_workers(workers, timeout=60)
            yield cluster, client
        finally:
            client.close()
            cluster.close()


def worker_pids(client) -> dict[str, int]:
    return client.run(os.getpid)


def kill_worker_running(client, prefix: str = "hydra-", timeout: float = 60, after: float = 0.0) -> int:
    """SIGKILL the worker process that runs a task whose key starts with ``prefix``, ``after``
    seconds after one starts there; returns the process id killed. Its nanny starts a new worker
    in its place."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for address, keys in client.processing().items():
            running = [k for k in keys if str(k).startswith(prefix)]
            if running:
                pid = worker_pids(client)[address]
                time.sleep(after)
                os.kill(pid, signal.SIGKILL)
                return pid
        time.sleep(0.02)
    raise AssertionError(f"no task {prefix}* ran within {timeout} s")


# -- tasks the executor's own tests run on the workers ------------------------------------------


def task(source: str = "", **fields):
    """A task for the functions below: plain data, with a ``source.name`` as a ReadTask has."""
    from types import SimpleNamespace

    return SimpleNamespace(source=SimpleNamespace(name=source), **fields)


def timed_sleep(task, context):
    """Sleep ``task.seconds``; return (pid, start, end) by the wall clock."""
    started = time.time()
    time.sleep(task.seconds)
    return os.getpid(), started, time.time()


def env_value(task, context):
    """The worker's value of the environment variable ``task.name``."""
    return os.environ.get(task.name)


def summary(task, context):
    """A small result with rows and bytes, as a TaskResult has."""
    from types import SimpleNamespace

    return SimpleNamespace(rows=task.rows, bytes=task.size)


def fails(task, context):
    """Raise, every time: a task that keeps failing."""
    raise ValueError(f"cannot read {task.name}")


def count_attempts(task, context):
    """Append a line to the file ``task.path`` per attempt, then fail until the third."""
    with open(task.path, "a") as fh:
        fh.write("x\n")
    with open(task.path) as fh:
        attempts = len(fh.readlines())
    if attempts < 3:
        raise OSError("connection reset by peer")
    return attempts


def wait_for_stop(task, context):
    """Run until the context says stop (at most ``task.seconds``); return how long it ran."""
    started = time.monotonic()
    while time.monotonic() - started < task.seconds:
        why = context.stopped()
        if why:
            from hydra.core.errors import HydraError

            raise HydraError(why)
        time.sleep(0.05)
    return time.monotonic() - started


class Held:
    """Something a task opens through its Context (as a head): writes "closed" to ``path`` on close."""

    def __init__(self, path: str):
        self.path = path

    def close(self) -> None:
        with open(self.path, "a") as fh:
            fh.write("closed\n")


def holds(task, context):
    """Open (or reuse) the run's ``Held`` in this worker process; return (the process, its id)."""
    return os.getpid(), id(context.resource(("held", task.path), lambda: Held(task.path)))
