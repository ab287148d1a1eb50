"""PostgreSQL bulk extract: Hydra's SQL head vs one COPY stream (the wire limit) vs ConnectorX.

    python bench/bench_pg_extract.py [--rows 3000000] [--workers 2] [--url postgresql://postgres@127.0.0.1:5432]

Builds (once) a mixed-type table ``t`` of N rows in database ``hydra_bench_<N>``, then in one run:

* baseline: ``psql -c "\\copy t to '/dev/null'"`` (one COPY stream to nowhere);
* hydra: ``SqlHead.split(t, workers)`` key ranges read concurrently with ``SqlHead.read`` and
  written to zstd Parquet with ``pyarrow.parquet.ParquetWriter`` (what the outbound engine does),
  for each bulk transport (``binary`` = binary COPY via psql, the default; ``client`` = CSV COPY via
  psql; ``copy`` = binary COPY via psycopg, the fallback without psql). Timed from ``split()`` to the last file closed — the head
  is opened before, as the EXTRACT statement is timed after ATTACH;
* hydra EXTRACT: the workspace's ``EXTRACT`` statement, when the outbound engine provides it;
* peer: ConnectorX (``partition_on=id``, same number of partitions) to Parquet, if installed.

Each contender runs in its own process so that peak RSS (the process plus its children) is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

MAKE = """
CREATE TABLE t (
  id bigint PRIMARY KEY,
  customer_id integer,
  amount numeric(12,2),
  price double precision,
  name text,
  created_at timestamptz,
  day date,
  active boolean,
  code uuid
);
INSERT INTO t
SELECT g, ((g * 7919) % 100000)::int, ((g * 31) % 1000000) / 100.0, g * 1.5 / 7,
       CASE WHEN g % 10 <> 0 THEN 'customer ' || (g % 5000)
            || CASE WHEN g % 3 = 0 THEN ' with a longer tail of text' ELSE '' END END,
       timestamptz '2020-01-01 00:00:00+00' + g * interval '1 second',
       date '2000-01-01' + (g % 9000)::int, g % 2 = 0, md5(g::text)::uuid
FROM generate_series(1::bigint, {rows}::bigint) g;
VACUUM ANALYZE t;
"""


def rss_mb() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, kids


def ensure_table(base: str, rows: int) -> str:
    import psycopg

    name = f"hydra_bench_{rows}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as con:
        exists = con.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            con.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(f"{base}/{name}", autocommit=True) as con:
        has = con.execute("SELECT to_regclass('public.t') IS NOT NULL").fetchone()[0]
        if has and con.execute("SELECT max(id) FROM t").fetchone()[0] == rows:
            return f"{base}/{name}"
        print(f"building {rows:,} rows in {name}…", file=sys.stderr)
        con.execute("DROP TABLE IF EXISTS t")
        for stmt in MAKE.format(rows=rows).split(";"):
            if stmt.strip():
                con.execute(stmt)
    return f"{base}/{name}"


def write_parquet(reader, path: str, rows_per_group: int = 262_144) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    pending, pending_rows, total = [], 0, 0
    for batch in reader:
        if writer is None:
            writer = pq.ParquetWriter(path, batch.schema, compression="zstd")  # as EXTRACT does
        pending.append(batch)
        pending_rows += batch.num_rows
        total += batch.num_rows
        if pending_rows >= rows_per_group:
            writer.write_table(pa.Table.from_batches(pending))
            pending, pending_rows = [], 0
    if writer is None:
        writer = pq.ParquetWriter(path, reader.schema, compression="zstd")
    if pending:
        writer.write_table(pa.Table.from_batches(pending))
    writer.close()
    return total


def run_hydra(url: str, workers: int, bulk: str, out: str) -> dict:
    from concurrent.futures import ThreadPoolExecutor

    import numpy  # noqa: F401 - imported before the clock starts, as a running shell has them
    import pyarrow.compute  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    from hydra.heads.sql import SqlHead

    # timed like the EXTRACT statement, which runs after ATTACH: from split() to the last file closed
    head = SqlHead("bench", url, {"BULK": bulk})
    head.open()
    element = next(e for e in head.enumerate() if e.parts == ("public", "t"))
    start = time.perf_counter()
    ranges = head.split(element, workers) or [[]]

    def part(i_preds):
        i, preds = i_preds
        return write_parquet(head.read(element, None, preds, None), os.path.join(out, f"part-{i}.parquet"))

    with ThreadPoolExecutor(len(ranges)) as pool:
        rows = sum(pool.map(part, enumerate(ranges)))
    head.close()
    return {"seconds": time.perf_counter() - start, "rows": rows}


def run_extract(url: str, workers: int, out: str) -> dict:
    from hydra.workspace import Workspace

    ws = Workspace.open(":memory:")
    ws.execute(f"ATTACH '{url}' AS b")
    start = time.perf_counter()
    ws.execute("MARK b.public.t")
    ws.execute(f"EXTRACT MARKED TO '{out}' (FORMAT parquet, WORKERS {workers})")
    seconds = time.perf_counter() - start
    import duckdb

    rows = duckdb.connect().execute(f"SELECT count(*) FROM read_parquet('{out}/**/*.parquet')").fetchone()[0]
    ws.close()
    return {"seconds": seconds, "rows": rows}


def run_connectorx(url: str, workers: int, out: str) -> dict:
    import connectorx as cx
    import pyarrow.parquet as pq

    start = time.perf_counter()
    table = cx.read_sql(url, "SELECT * FROM t", return_type="arrow", partition_on="id", partition_num=workers)
    pq.write_table(table, os.path.join(out, "t.parquet"))
    return {"seconds": time.perf_counter() - start, "rows": table.num_rows}


def child(args) -> None:
    out = tempfile.mkdtemp(prefix="hydra_bench_", dir="/tmp")
    try:
        if args.child == "connectorx":
            result = run_connectorx(args.url, args.workers, out)
        elif args.child == "extract":
            result = run_extract(args.url, args.workers, out)
        else:
            result = run_hydra(args.url, args.workers, args.child.split(":")[1], out)
        own, kids = rss_mb()
        me, ch = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        result.update(rss_mb=own, children_rss_mb=kids, cpu=me.ru_utime + me.ru_stime + ch.ru_utime + ch.ru_stime)
    except Exception as err:  # noqa: BLE001 - reported, not fatal for the other contenders
        result = {"error": f"{type(err).__name__}: {err}"}
    finally:
        subprocess.run(["rm", "-rf", out], check=False)
    print(json.dumps(result))


def contender(args, name: str) -> dict:
    cmd = [sys.executable, __file__, "--child", name, "--url", args.url, "--workers", str(args.workers),
           "--rows", str(args.rows)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1]}


def baseline(url: str) -> float:
    start = time.perf_counter()
    subprocess.run(["psql", "-X", "-q", "-d", url.replace("postgresql+psycopg://", "postgresql://"),
                    "-c", "\\copy t to '/dev/null'"], check=True)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=3_000_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--url", default=os.environ.get("HYDRA_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432"))
    ap.add_argument("--repeat", type=int, default=2, help="interleaved runs per contender (best is kept)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args)
        return
    args.url = ensure_table(args.url, args.rows)
    names = ["hydra:binary", "hydra:client", "hydra:copy", "extract", "connectorx"]
    results: dict[str, dict] = {}
    base_times = []
    for _ in range(args.repeat):  # interleave so that background load hits everyone alike
        base_times.append(baseline(args.url))
        for name in names:
            r = contender(args, name)
            if "error" in r or name not in results or r["seconds"] < results[name]["seconds"]:
                results.setdefault(name, r)
                if "error" not in r and ("error" in results[name] or r["seconds"] <= results[name]["seconds"]):
                    results[name] = r
    base = min(base_times)
    print(f"PostgreSQL extract of {args.rows:,} rows (mixed types) to Parquet, {args.workers} workers")
    label = "psql \\copy to /dev/null (1 stream)"
    print(f"  {label:44s} {base:7.2f} s   1.00x")
    labels = {"hydra:binary": "hydra SqlHead split+read, binary COPY (auto)", "hydra:client": "hydra SqlHead split+read, CSV COPY via psql", "hydra:copy": "hydra SqlHead split+read, binary via psycopg",
              "extract": "hydra EXTRACT statement", "connectorx": "ConnectorX (peer)"}
    for name in names:
        r = results[name]
        if "error" in r:
            print(f"  {labels[name]:44s} skipped: {r['error'][:100]}")
            continue
        print(f"  {labels[name]:44s} {r['seconds']:7.2f} s   {r['seconds'] / base:4.2f}x   "
              f"peak RSS {r['rss_mb']:.0f} MB (children {r['children_rss_mb']:.0f} MB)   rows {r['rows']:,}   "
              f"client CPU {r.get('cpu', 0):.1f} s")

    print(f"  load average at the end: {os.getloadavg()[0]:.1f} (2 cores; other work on the machine inflates every figure)")


if __name__ == "__main__":
    main()
