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

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import sql_extract_harness as harness  # noqa: E402

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


def run_connectorx(url: str, workers: int, out: str) -> dict:
    import connectorx as cx
    import pyarrow.parquet as pq

    start = time.perf_counter()
    table = cx.read_sql(url, "SELECT * FROM t", return_type="arrow", partition_on="id", partition_num=workers)
    pq.write_table(table, os.path.join(out, "t.parquet"))
    return {"seconds": time.perf_counter() - start, "rows": table.num_rows}


def baseline(url: str) -> float:
    start = time.perf_counter()
    subprocess.run(["psql", "-X", "-q", "-d", url.replace("postgresql+psycopg://", "postgresql://"),
                    "-c", "\\copy t to '/dev/null'"], check=True)
    return time.perf_counter() - start


if __name__ == "__main__":
    harness.main(
        __file__, "PostgreSQL extract", rows=3_000_000,
        url=os.environ.get("HYDRA_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432"),
        ensure_table=ensure_table, baseline=("psql \\copy to /dev/null (1 stream)", baseline), peer=run_connectorx,
        contenders={"split:binary": "hydra SqlHead split+read, binary COPY (auto)",
                    "split:client": "hydra SqlHead split+read, CSV COPY via psql",
                    "split:copy": "hydra SqlHead split+read, binary via psycopg",
                    "extract": "hydra EXTRACT statement", "peer": "ConnectorX (peer)"})
