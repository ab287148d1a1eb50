"""What does the shared snapshot cost on a quiet PostgreSQL table? (issue 13)

    python bench/bench_snapshot.py [--rows 2000000] [--workers 4] [--rounds 3] [--tables 1]

A mixed-type table (bench_pg_extract's) in a throw-away database, nobody writing to it, extracted
to Parquet in WORKERS key ranges three ways, interleaved round by round, best of ``--rounds``:

* ``off``: ``SNAPSHOT off``, each range at its own moment (how Hydra read before the snapshot);
* ``snapshot``: the ranges join one exported snapshot, the figures not taken (the snapshot alone);
* ``shared``: the default, the snapshot and the source's figures taken in it during the run (an
  aggregate query RECONCILE used to run later).

With ``--tables N`` (N > 1), N tables of ``--rows`` rows each, all extracted by one EXTRACT: the
snapshot's cost per element (a pooled connection, the export, the figures' query) where elements
are many and small.

Prints each ratio to ``off``, and the load average (the machine is shared).
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


def timed(url: str, workers: int, mode: str, tables: int = 1) -> float:
    from hydra.transfer import extract
    from hydra.statements.workspace import Workspace

    take = extract.Run._take_snapshot

    def without_figures(self, job, head):
        take(self, job, head)
        job.figure_columns = None

    if mode == "snapshot":
        extract.Run._take_snapshot = without_figures
    out = tempfile.mkdtemp(prefix="hydra-bench-snapshot-")
    ws = Workspace.open(":memory:")
    try:
        ws.execute(f"ATTACH '{url}' AS pg (SCHEMAS 'public')")
        option = "off" if mode == "off" else "shared"
        started = time.perf_counter()
        what = "pg.public.t" if tables == 1 else "pg.public.*"
        result = ws.execute(f"EXTRACT {what} TO '{out}' (WORKERS {workers}, SNAPSHOT {option})")
        seconds = time.perf_counter() - started
        assert len(result.rows) == tables and all(r[1] == "done" for r in result.rows), result.rows
        return seconds
    finally:
        extract.Run._take_snapshot = take
        ws.close()
        shutil.rmtree(out, ignore_errors=True)


def main() -> None:
    import psycopg

    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tables", type=int, default=1)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    name = f"hydra_bench_snapshot_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{args.url}/postgres", autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    try:
        with psycopg.connect(f"{args.url}/{name}", autocommit=True) as con:
            for sql in MAKE.format(rows=args.rows).split(";"):
                if sql.strip():
                    con.execute(sql)
            for i in range(1, args.tables):
                con.execute(f"CREATE TABLE t{i} AS TABLE t")
            con.execute("ANALYZE")
        url = f"{args.url}/{name}"
        times: dict[str, list[float]] = {"off": [], "snapshot": [], "shared": []}
        for _ in range(args.rounds):
            for mode in times:
                times[mode].append(timed(url, args.workers, mode, args.tables))
        best = {mode: min(values) for mode, values in times.items()}
        for mode, values in times.items():
            print(f"{mode:>8}: best {best[mode]:6.2f} s of {', '.join(f'{v:.2f}' for v in values)}; "
                  f"ratio to off {best[mode] / best['off']:.2f}")
    finally:
        with psycopg.connect(f"{args.url}/postgres", autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
