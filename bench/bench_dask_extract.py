"""EXTRACT on Dask (issue 19): the local engine against 2 Dask worker processes, same plan.

    python bench/bench_dask_extract.py [--rows 2000000] [--workers 2] [--rounds 3] [--tasks 200]

A mixed-type PostgreSQL table (bench_pg_extract's) in a throw-away database is extracted to local
Parquet in WORKERS key ranges, round by round, interleaved, best of ``--rounds``:

* ``local``: the default engine (threads of this process);
* ``dask``: ``ENGINE 'dask'`` against a LocalCluster of WORKERS processes started once, before the
  rounds (its start-up is reported apart: a user pays it once per EXTRACT without SCHEDULER).

Then the per-task overhead: ``--tasks`` tasks that do nothing, through the DaskExecutor (pickled,
scheduled, run on a worker, answered), against the same through a thread pool, in ms per task.

On the 2-core development machine this measures what Dask costs, not what it brings: the 2 workers
share the 2 cores with the coordinator and PostgreSQL, where on a cluster each worker brings its
own cores and network card. Prints the ratios and the load average (the machine is shared).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_pg_extract import MAKE  # noqa: E402


def nothing(task, context=None):
    return task


def timed_extract(url: str, workers: int, engine: str) -> float:
    from hydra.statements.workspace import Workspace

    out = tempfile.mkdtemp(prefix="hydra-bench-dask-")
    ws = Workspace.open(":memory:")
    try:
        ws.execute(f"ATTACH '{url}' AS pg (SCHEMAS 'public')")
        started = time.perf_counter()
        result = ws.execute(f"EXTRACT pg.public.t TO '{out}' (WORKERS {workers}{engine})")
        seconds = time.perf_counter() - started
        assert [r[1] for r in result.rows] == ["done"], result.rows
        return seconds
    finally:
        ws.close()
        shutil.rmtree(out, ignore_errors=True)


def per_task_ms(executor, tasks: int) -> tuple[float, float]:
    """ms per no-op task, end to end (submitted, run, its outcome back): through the Dask executor
    (pickled, scheduled, run on a worker process), and through the local executor's threads."""
    from hydra.engine.local import LocalExecutor

    def drain(ex, count: int) -> None:
        seen = 0
        while seen < count:
            seen += len(ex.completed(timeout=60))

    def through(ex) -> float:
        for i in range(10):  # warm: imports on the workers, connections
            ex.submit(("warm", i), nothing, i)
        drain(ex, 10)
        started = time.perf_counter()
        for i in range(tasks):
            ex.submit(i, nothing, i)
        drain(ex, tasks)
        return (time.perf_counter() - started) * 1000 / tasks

    dask_ms = through(executor)
    with LocalExecutor(executor.workers) as local:
        local_ms = through(local)
    return dask_ms, local_ms


def main() -> None:
    import psycopg

    from hydra.engine.dask import DaskExecutor

    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    name = f"hydra_bench_dask_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{args.url}/postgres", autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    started = time.perf_counter()
    executor = DaskExecutor(workers=args.workers, cap=args.tasks)
    print(f"LocalCluster of {args.workers} processes started in {time.perf_counter() - started:.1f} s")
    try:
        with psycopg.connect(f"{args.url}/{name}", autocommit=True) as con:
            for sql in MAKE.format(rows=args.rows).split(";"):
                if sql.strip():
                    con.execute(sql)
        url = f"{args.url}/{name}"
        engine = f", ENGINE 'dask', SCHEDULER '{executor.address}'"
        best = {"local": float("inf"), "dask": float("inf")}
        for round_ in range(args.rounds):
            for label, option in (("local", ""), ("dask", engine)):
                seconds = timed_extract(url, args.workers, option)
                best[label] = min(best[label], seconds)
                print(f"round {round_ + 1} {label}: {seconds:.2f} s (load {os.getloadavg()[0]:.1f})")
        print(f"EXTRACT {args.rows:,} rows, {args.workers} ranges: local {best['local']:.2f} s, "
              f"dask {best['dask']:.2f} s: dask/local {best['dask'] / best['local']:.2f}x")
        dask_ms, local_ms = per_task_ms(executor, args.tasks)
        print(f"per task (no-op, {args.tasks} tasks, end to end): dask {dask_ms:.2f} ms, "
              f"local threads {local_ms:.3f} ms: {dask_ms - local_ms:.2f} ms of overhead per task")
        print(f"load average at end: {os.getloadavg()[0]:.1f}")
    finally:
        executor.close()
        with psycopg.connect(f"{args.url}/postgres", autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":  # the LocalCluster's worker processes are spawned: they import this module
    main()
