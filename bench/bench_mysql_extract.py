"""MariaDB/MySQL bulk extract: Hydra's SQL head vs the ``mysql`` client (its own limit) vs ConnectorX.

    python bench/bench_mysql_extract.py [--rows 1000000] [--workers 2] [--url mysql://root@127.0.0.1:3306]

Builds (once) a mixed-type table ``t`` of N rows in database ``hydra_bench_<N>``, then in one run:

* baseline: ``mysql --batch -e "SELECT * FROM t" > /dev/null``;
* hydra: ``SqlHead.split`` ranges read concurrently (``BULK auto`` = the mysql client pipe, and
  ``BULK cursor`` = PyMySQL's streaming cursor) and written to Parquet with ``ParquetWriter``;
* hydra EXTRACT: the workspace's ``EXTRACT`` statement;
* peer: ConnectorX (``partition_on=id``) to Parquet.

Each contender runs in its own process; peak RSS is reported per contender.
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
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

from bench_pg_extract import rss_mb, write_parquet  # noqa: E402

MAKE = """
CREATE TABLE t (id BIGINT PRIMARY KEY, customer_id INT, amount DECIMAL(12,2), price DOUBLE, name VARCHAR(100),
                created_at DATETIME(6), day DATE, active TINYINT(1), code CHAR(36), qty INT UNSIGNED);
SET SESSION max_recursive_iterations = 1000000000;
INSERT INTO t WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {rows})
SELECT n, (n * 7919) % 100000, ((n * 31) % 1000000) / 100.0, n * 1.5 / 7,
       IF(n % 10 = 0, NULL, CONCAT('customer ', n % 5000, IF(n % 3 = 0, ' with a longer tail of text', ''))),
       TIMESTAMPADD(SECOND, n, '2020-01-01 00:00:00'), DATE_ADD('2000-01-01', INTERVAL n % 9000 DAY), n % 2,
       UUID(), n % 1000
FROM g;
ANALYZE TABLE t;
"""


def parse(url: str):
    from sqlalchemy.engine import make_url

    return make_url(url if "+" in url.split(":")[0] else url.replace("mysql://", "mysql+pymysql://", 1))


def ensure_table(base: str, rows: int) -> str:
    import pymysql

    u = parse(base)
    name = f"hydra_bench_{rows}"
    con = pymysql.connect(host=u.host, port=u.port or 3306, user=u.username, password=u.password or "",
                          autocommit=True)
    with con.cursor() as cur:
        cur.execute(f"CREATE DATABASE IF NOT EXISTS `{name}`")
        cur.execute(f"USE `{name}`")
        cur.execute("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = %s AND table_name = 't'", (name,))
        if cur.fetchone()[0]:
            cur.execute("SELECT MAX(id) FROM t")
            if cur.fetchone()[0] == rows:
                return f"{base}/{name}"
            cur.execute("DROP TABLE t")
        print(f"building {rows:,} rows in {name}…", file=sys.stderr)
        for stmt in MAKE.format(rows=rows).split(";"):
            if stmt.strip():
                cur.execute(stmt)
    con.close()
    return f"{base}/{name}"


def run_hydra(url: str, workers: int, bulk: str, out: str) -> dict:
    from concurrent.futures import ThreadPoolExecutor

    import numpy  # noqa: F401 - imported before the clock starts, as a running shell has them
    import pyarrow.compute  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    from hydra.heads.sql import SqlHead

    # timed like the EXTRACT statement, which runs after ATTACH: from split() to the last file closed
    head = SqlHead("bench", url, {"BULK": bulk})
    head.open()
    element = next(e for e in head.enumerate() if e.parts[1] == "t")
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
    import duckdb

    from hydra.workspace import Workspace

    ws = Workspace.open(":memory:")
    ws.execute(f"ATTACH '{url}' AS b")
    db = url.rsplit("/", 1)[1]
    start = time.perf_counter()
    ws.execute(f"MARK b.{db}.t")
    ws.execute(f"EXTRACT MARKED TO '{out}' (FORMAT parquet, WORKERS {workers})")
    seconds = time.perf_counter() - start
    rows = duckdb.connect().execute(f"SELECT count(*) FROM read_parquet('{out}/**/*.parquet')").fetchone()[0]
    ws.close()
    return {"seconds": seconds, "rows": rows}


def run_connectorx(url: str, workers: int, out: str) -> dict:
    import connectorx as cx
    import pyarrow.parquet as pq

    start = time.perf_counter()
    cx_url = url.replace("mysql+pymysql://", "mysql://").replace("mariadb://", "mysql://")
    table = cx.read_sql(cx_url, "SELECT * FROM t", return_type="arrow", partition_on="id", partition_num=workers)
    pq.write_table(table, os.path.join(out, "t.parquet"), compression="zstd")
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
    except Exception as err:  # noqa: BLE001
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
    u = parse(url)
    argv = ["mysql", "--batch", "-h", u.host, "-P", str(u.port or 3306), "-u", u.username, "-D", u.database,
            "-e", "SELECT * FROM t"]
    env = dict(os.environ, MYSQL_PWD=u.password or "")
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--url", default=os.environ.get("HYDRA_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306"))
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args)
        return
    args.url = ensure_table(args.url, args.rows)
    names = ["hydra:auto", "hydra:cursor", "extract", "connectorx"]
    results: dict[str, dict] = {}
    base_times = []
    for _ in range(args.repeat):
        base_times.append(baseline(args.url))
        for name in names:
            r = contender(args, name)
            best = results.get(name)
            if best is None or ("error" in best and "error" not in r) or (
                    "error" not in r and r["seconds"] < best["seconds"]):
                results[name] = r
    base = min(base_times)
    print(f"MariaDB extract of {args.rows:,} rows (mixed types) to Parquet, {args.workers} workers")
    label = 'mysql --batch -e "SELECT * FROM t" > /dev/null'
    print(f"  {label:48s} {base:7.2f} s   1.00x")
    labels = {"hydra:auto": "hydra SqlHead split+read, mysql client pipe",
              "hydra:cursor": "hydra SqlHead split+read, PyMySQL SSCursor",
              "extract": "hydra EXTRACT statement", "connectorx": "ConnectorX (peer)"}
    for name in names:
        r = results[name]
        if "error" in r:
            print(f"  {labels[name]:48s} skipped: {r['error'][:100]}")
            continue
        print(f"  {labels[name]:48s} {r['seconds']:7.2f} s   {r['seconds'] / base:4.2f}x   "
              f"peak RSS {r['rss_mb']:.0f} MB (children {r['children_rss_mb']:.0f} MB)   rows {r['rows']:,}   "
              f"client CPU {r.get('cpu', 0):.1f} s")

    print(f"  load average at the end: {os.getloadavg()[0]:.1f} (2 cores; other work on the machine inflates every figure)")


if __name__ == "__main__":
    main()
