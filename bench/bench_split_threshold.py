"""When does reading a PostgreSQL table in key ranges pay? (sets ``RANGE_MIN_BYTES``/``_ROWS`` in
``hydra/outbound/extract.py``)

    python bench/bench_split_threshold.py [--rows 10000,100000,300000,1000000] [--workers 4]

For each size, a mixed-type table (bench_pg_extract's) in a throw-away database, extracted to
Parquet by EXTRACT as one range (the baseline) and split into WORKERS key ranges, best of three
each. Prints the ratio split / one range: below 1 the split pays.
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


def timed(url: str, workers: int, split: bool) -> float:
    from hydra.transfer import extract
    from hydra.statements.workspace import Workspace

    saved = extract.RANGE_MIN_BYTES, extract.RANGE_MIN_ROWS
    extract.RANGE_MIN_BYTES = extract.RANGE_MIN_ROWS = 1 if split else 1 << 62
    out = tempfile.mkdtemp(prefix="hydra-bench-split-")
    ws = Workspace.open(":memory:")
    try:
        ws.execute(f"ATTACH '{url}' AS pg (SCHEMAS 'public')")
        started = time.perf_counter()
        result = ws.execute(f"EXTRACT pg.public.t TO '{out}' (WORKERS {workers})")
        seconds = time.perf_counter() - started
        assert result.rows[0][1] == "done", result.rows
        return seconds
    finally:
        ws.close()
        shutil.rmtree(out, ignore_errors=True)
        extract.RANGE_MIN_BYTES, extract.RANGE_MIN_ROWS = saved


def main() -> None:
    import psycopg

    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", default="10000,100000,300000,1000000")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for rows in (int(r) for r in args.rows.split(",")):
        name = f"hydra_bench_split_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(f"{args.url}/postgres", autocommit=True) as con:
            con.execute(f'CREATE DATABASE "{name}"')
        try:
            with psycopg.connect(f"{args.url}/{name}", autocommit=True) as con:
                for sql in MAKE.format(rows=rows).split(";"):
                    if sql.strip():
                        con.execute(sql)
                size = con.execute("SELECT pg_total_relation_size('t')").fetchone()[0]
            url = f"{args.url}/{name}"
            one = min(timed(url, args.workers, False) for _ in range(3))
            split = min(timed(url, args.workers, True) for _ in range(3))
            print(f"{rows:>9,} rows, {size / 2**20:7.1f} MiB: one range {one:6.2f} s, {args.workers} ranges "
                  f"{split:6.2f} s, ratio {split / one:.2f}")
        finally:
            with psycopg.connect(f"{args.url}/postgres", autocommit=True) as con:
                con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
