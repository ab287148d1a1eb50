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

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import sql_extract_harness as harness  # noqa: E402

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


def run_connectorx(url: str, workers: int, out: str) -> dict:
    import connectorx as cx
    import pyarrow.parquet as pq

    start = time.perf_counter()
    cx_url = url.replace("mysql+pymysql://", "mysql://").replace("mariadb://", "mysql://")
    table = cx.read_sql(cx_url, "SELECT * FROM t", return_type="arrow", partition_on="id", partition_num=workers)
    pq.write_table(table, os.path.join(out, "t.parquet"), compression="zstd")
    return {"seconds": time.perf_counter() - start, "rows": table.num_rows}


def baseline(url: str) -> float:
    u = parse(url)
    argv = ["mysql", "--batch", "-h", u.host, "-P", str(u.port or 3306), "-u", u.username, "-D", u.database,
            "-e", "SELECT * FROM t"]
    env = dict(os.environ, MYSQL_PWD=u.password or "")
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


if __name__ == "__main__":
    harness.main(
        __file__, "MariaDB extract", rows=1_000_000, repeat=1,
        url=os.environ.get("HYDRA_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306"),
        ensure_table=ensure_table, baseline=('mysql --batch -e "SELECT * FROM t" > /dev/null', baseline),
        peer=run_connectorx,
        contenders={"split:auto": "hydra SqlHead split+read, mysql client pipe",
                    "split:cursor": "hydra SqlHead split+read, PyMySQL SSCursor",
                    "extract": "hydra EXTRACT statement", "peer": "ConnectorX (peer)"})
