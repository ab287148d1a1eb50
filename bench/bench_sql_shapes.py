"""Bulk reads on every table shape: the whole ``hydra -c "EXTRACT …"`` command against the client's
own one-stream limit, PostgreSQL or MariaDB/MySQL, interleaved, with peak RSS.

    python bench/bench_sql_shapes.py --db postgresql [--rows N] [--narrow-rows N] [-n 3] [--shapes a,b]
    python bench/bench_sql_shapes.py --db mysql …      (bench_pg_shapes.py / bench_mysql_shapes.py call this)

Shapes (each a table of ``--rows`` rows, except ``narrow``):

* ``mixed``     the table of bench_pg_extract.py / bench_mysql_extract.py (ids, ints, numeric, double,
                text with NULLs, timestamptz, date, bool, uuid);
* ``numeric``   id + six ``numeric(p,s)`` of random values;
* ``text``      id + md5 hashes, ~300-character text, a text column that is mostly NULL;
* ``wide``      id + 149 columns of mixed types (ints, numeric, double, text, date, timestamp, bool);
* ``narrow``    two integers (id key and a value), ``--narrow-rows`` rows (the issue's 50M);
* ``keyless``   the issue's table (int, numeric, double, md5 text, date, timestamp, bool) without a key;
* ``timestamp`` id + timestamps, timestamptz, dates, times;
* ``json``      id + jsonb/json documents of ~10 keys (MySQL: JSON);
* ``arrays``    id + text[], int[], float8[] and date[] of 0-8 elements with NULLs (MySQL, which has no
                arrays: a SET and JSON arrays).

Each shape is timed as a user types it — ``hydra ws.duckdb -c "EXTRACT src.<t> TO '<dir>' (OVERWRITE
true)"``, a new process, start to exit, after ATTACH in an earlier command — against one client
stream of the same rows to nowhere: ``psql -c "\\copy (SELECT * FROM t) TO '/dev/null'"`` (text COPY,
one stream) or ``mysql --batch -e "SELECT * FROM t" > /dev/null``. Runs alternate (``-n`` each), the
report shows the medians, their ratio, and the peak RSS of the hydra process (``wait4``). Goals
(issue 18): ≤ 0.75× (PostgreSQL), ≤ 0.8× (MySQL), RSS < 600 MB.

Each command's CPU is accounted too: the whole machine's busy time while it ran (``/proc/stat``:
Hydra, its client children and the database server; run it on an otherwise idle machine) and the
command's own (``wait4``, its children included). The machine's CPU-seconds over its cores is the
least wall time that much work can take here, so ``floor`` — that time over the baseline's — is the
best ratio this machine allows the command as it is: a shape whose floor is above the goal cannot
meet it here by overlapping work better, only by doing less of it (or on more cores).

The default size follows the machine: 1M rows (narrow 10M) when the load average is below 2, else
200k (narrow 2M). The database (``hydra_shapes_<db>``) is kept between runs unless ``--drop``;
tables are made again when their row count differs. State the load with every figure you quote.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

PG_URL = "postgresql://postgres@127.0.0.1:5432"
MYSQL_URL = "mysql://root@127.0.0.1:3306"
GOALS = {"postgresql": 0.75, "mysql": 0.8}
RSS_GOAL_MB = 600
SHAPES = ("mixed", "numeric", "text", "wide", "narrow", "keyless", "timestamp", "json", "arrays")


# -- PostgreSQL tables ---------------------------------------------------------------------------

def _pg_wide() -> tuple[str, str]:
    cols, values = ["id bigint PRIMARY KEY"], ["g"]
    kinds = [("int", "((g * {k}) % 100000)::int"), ("numeric(14,3)", "((g * {k}) % 1000003) / 7.0"),
             ("double precision", "g * {k} / 13.0"), ("text", "CASE WHEN g % {k} = 0 THEN NULL ELSE 'v' || (g % 9973) END"),
             ("date", "date '2000-01-01' + ((g * {k}) % 9000)::int"),
             ("timestamp", "timestamp '2020-01-01' + (g * {k}) * interval '1 second'"), ("boolean", "(g + {k}) % 3 = 0")]
    for i in range(149):
        sql_type, expr = kinds[i % len(kinds)]
        cols.append(f"c{i:03d} {sql_type}")
        values.append(expr.format(k=i + 2))
    return ", ".join(cols), ", ".join(values)


def pg_make(shape: str, rows: int) -> str:
    gen = f"FROM generate_series(1::bigint, {rows}::bigint) g"
    if shape == "mixed":
        return ("CREATE TABLE mixed (id bigint PRIMARY KEY, customer_id int, amount numeric(12,2), price double precision, "
                "name text, created_at timestamptz, day date, active boolean, code uuid); "
                "INSERT INTO mixed SELECT g, ((g * 7919) % 100000)::int, ((g * 31) % 1000000) / 100.0, g * 1.5 / 7, "
                "CASE WHEN g % 10 <> 0 THEN 'customer ' || (g % 5000) || CASE WHEN g % 3 = 0 THEN ' with a longer "
                "tail of text' ELSE '' END END, timestamptz '2020-01-01 00:00:00+00' + g * interval '1 second', "
                f"date '2000-01-01' + (g % 9000)::int, g % 2 = 0, md5(g::text)::uuid {gen}")
    if shape == "numeric":
        return ("CREATE TABLE numeric (id bigint PRIMARY KEY, a numeric(12,2), b numeric(18,4), c numeric(10,0), "
                "d numeric(30,10), e numeric(6,3), f numeric(20,2)); "
                "INSERT INTO numeric SELECT g, round((random() * 1e9)::numeric, 2), round((random() * 1e13)::numeric, 4), "
                "round((random() * 1e9)::numeric, 0), round((random() * 1e19)::numeric, 10), round((random() * 999)::numeric, 3), "
                f"round(((random() - 0.5) * 1e17)::numeric, 2) {gen}")
    if shape == "text":
        return ("CREATE TABLE text (id bigint PRIMARY KEY, h1 text, h2 varchar(64), body text, rare text); "
                "INSERT INTO text SELECT g, md5(g::text), md5((g * 7)::text) || md5((g * 3)::text), "
                "repeat(md5((g * 11)::text), 1 + (g % 18)::int), CASE WHEN g % 10 = 0 THEN 'r' || g END "
                f"{gen}")
    if shape == "wide":
        cols, values = _pg_wide()
        return f"CREATE TABLE wide ({cols}); INSERT INTO wide SELECT {values} {gen}"
    if shape == "narrow":
        return f"CREATE TABLE narrow (id bigint PRIMARY KEY, v int); INSERT INTO narrow SELECT g, (g * 7919 % 1000000)::int {gen}"
    if shape == "keyless":
        return ("CREATE TABLE keyless (id bigint, n int, amount numeric(12,2), x double precision, h text, d date, "
                "ts timestamp, ok boolean); "
                "INSERT INTO keyless SELECT g, (g * 7919 % 100000)::int, round((random() * 1e6)::numeric, 2), random(), "
                "md5(g::text), date '2000-01-01' + (g % 9000)::int, timestamp '2020-01-01' + g * interval '1 second', "
                f"g % 2 = 0 {gen}")
    if shape == "timestamp":
        return ("CREATE TABLE timestamp (id bigint PRIMARY KEY, t1 timestamp, t2 timestamptz, t3 timestamp(3), "
                "t4 timestamptz, d1 date, d2 date, tm time); "
                "INSERT INTO timestamp SELECT g, timestamp '2020-01-01' + g * interval '1 second', "
                "timestamptz '1990-01-01 00:00:00+00' + g * interval '17 minutes', "
                "timestamp '2000-01-01' + g * interval '1 millisecond', CASE WHEN g % 5 = 0 THEN NULL ELSE "
                "now() - g * interval '1 hour' END, date '1970-01-01' + (g % 30000)::int, "
                f"date '2020-01-01' + (g % 400)::int, time '00:00:00' + (g % 86400) * interval '1 second' {gen}")
    if shape == "json":
        return ("CREATE TABLE json (id bigint PRIMARY KEY, doc jsonb, raw json); "
                "INSERT INTO json SELECT g, jsonb_build_object('id', g, 'name', 'customer ' || g, 'tags', "
                "jsonb_build_array('a', 'b', g % 7), 'amount', g * 1.25, 'active', g % 2 = 0, 'nested', "
                "jsonb_build_object('x', g % 100, 'y', md5(g::text))), json_build_object('k', g, 'v', md5(g::text)) "
                f"{gen}")
    if shape == "arrays":
        return ("CREATE TABLE arrays (id bigint PRIMARY KEY, tags text[], scores int[], readings float8[], days date[]); "
                "INSERT INTO arrays SELECT g, (ARRAY['red', 'green', 'blue', NULL, 'tag ' || (g % 97)])[1:(g % 6)::int], "
                "ARRAY(SELECT (g * h % 1000)::int FROM generate_series(1, (g % 9)::int) h), "
                "ARRAY[g / 7.0, CASE WHEN g % 4 = 0 THEN NULL ELSE g * 1.5 END], "
                f"ARRAY[date '2020-01-01' + (g % 900)::int] {gen}")
    raise ValueError(shape)


# -- MySQL tables --------------------------------------------------------------------------------

def _my_wide() -> tuple[str, str]:
    cols, values = ["id BIGINT PRIMARY KEY"], ["seq"]
    kinds = [("INT", "(seq * {k}) % 100000"), ("DECIMAL(14,3)", "((seq * {k}) % 1000003) / 7.0"),
             ("DOUBLE", "seq * {k} / 13.0"), ("VARCHAR(40)", "IF(seq % {k} = 0, NULL, CONCAT('v', seq % 9973))"),
             ("DATE", "DATE_ADD('2000-01-01', INTERVAL (seq * {k}) % 9000 DAY)"),
             ("DATETIME", "TIMESTAMPADD(SECOND, seq * {k}, '2020-01-01')"), ("TINYINT(1)", "(seq + {k}) % 3 = 0")]
    for i in range(149):
        sql_type, expr = kinds[i % len(kinds)]
        cols.append(f"c{i:03d} {sql_type}")
        values.append(expr.format(k=i + 2))
    return ", ".join(cols), ", ".join(values)


def my_make(shape: str, rows: int) -> str:
    gen = f"FROM seq_1_to_{rows}"
    if shape == "mixed":
        return ("CREATE TABLE mixed (id BIGINT PRIMARY KEY, customer_id INT, amount DECIMAL(12,2), price DOUBLE, "
                "name VARCHAR(100), created_at DATETIME(6), day DATE, active TINYINT(1), code CHAR(36)); "
                "INSERT INTO mixed SELECT seq, (seq * 7919) % 100000, ((seq * 31) % 1000000) / 100.0, seq * 1.5 / 7, "
                "IF(seq % 10 = 0, NULL, CONCAT('customer ', seq % 5000, IF(seq % 3 = 0, ' with a longer tail of text', ''))), "
                "TIMESTAMPADD(SECOND, seq, '2020-01-01 00:00:00'), DATE_ADD('2000-01-01', INTERVAL seq % 9000 DAY), "
                f"seq % 2, UUID() {gen}")
    if shape == "numeric":
        return ("CREATE TABLE `numeric` (id BIGINT PRIMARY KEY, a DECIMAL(12,2), b DECIMAL(18,4), c DECIMAL(10,0), "
                "d DECIMAL(30,10), e DECIMAL(6,3), f DECIMAL(20,2)); "
                "INSERT INTO `numeric` SELECT seq, RAND() * 1e9, RAND() * 1e13, RAND() * 1e9, RAND() * 1e19, RAND() * 999, "
                f"(RAND() - 0.5) * 1e17 {gen}")
    if shape == "text":
        return ("CREATE TABLE `text` (id BIGINT PRIMARY KEY, h1 CHAR(32), h2 VARCHAR(64), body TEXT, rare TEXT); "
                "INSERT INTO `text` SELECT seq, MD5(seq), CONCAT(MD5(seq * 7), MD5(seq * 3)), "
                f"REPEAT(MD5(seq * 11), 1 + seq % 18), IF(seq % 10 = 0, CONCAT('r', seq), NULL) {gen}")
    if shape == "wide":
        cols, values = _my_wide()
        return f"CREATE TABLE wide ({cols}); INSERT INTO wide SELECT {values} {gen}"
    if shape == "narrow":
        return f"CREATE TABLE narrow (id BIGINT PRIMARY KEY, v INT); INSERT INTO narrow SELECT seq, seq * 7919 % 1000000 {gen}"
    if shape == "keyless":
        return ("CREATE TABLE keyless (id BIGINT, n INT, amount DECIMAL(12,2), x DOUBLE, h CHAR(32), d DATE, "
                "ts DATETIME, ok TINYINT(1)); "
                "INSERT INTO keyless SELECT seq, seq * 7919 % 100000, RAND() * 1e6, RAND(), MD5(seq), "
                f"DATE_ADD('2000-01-01', INTERVAL seq % 9000 DAY), TIMESTAMPADD(SECOND, seq, '2020-01-01'), seq % 2 {gen}")
    if shape == "timestamp":
        return ("CREATE TABLE `timestamp` (id BIGINT PRIMARY KEY, t1 DATETIME, t2 TIMESTAMP NULL, t3 DATETIME(3), "
                "t4 DATETIME(6), d1 DATE, d2 DATE, tm TIME); "
                "INSERT INTO `timestamp` SELECT seq, TIMESTAMPADD(SECOND, seq, '2020-01-01'), "
                "TIMESTAMPADD(MINUTE, seq % 10000000, '1990-01-01'), TIMESTAMPADD(MICROSECOND, seq * 1000, '2000-01-01'), "
                "IF(seq % 5 = 0, NULL, TIMESTAMPADD(MICROSECOND, seq * 7, '2010-01-01')), "
                "DATE_ADD('1970-01-01', INTERVAL seq % 30000 DAY), DATE_ADD('2020-01-01', INTERVAL seq % 400 DAY), "
                f"SEC_TO_TIME(seq % 86400) {gen}")
    if shape == "json":
        return ("CREATE TABLE `json` (id BIGINT PRIMARY KEY, doc JSON, raw JSON); "
                "INSERT INTO `json` SELECT seq, JSON_OBJECT('id', seq, 'name', CONCAT('customer ', seq), 'tags', "
                "JSON_ARRAY('a', 'b', seq % 7), 'amount', seq * 1.25, 'active', seq % 2 = 0, 'nested', "
                f"JSON_OBJECT('x', seq % 100, 'y', MD5(seq))), JSON_OBJECT('k', seq, 'v', MD5(seq)) {gen}")
    if shape == "arrays":
        return ("CREATE TABLE arrays (id BIGINT PRIMARY KEY, tags SET('red','green','blue','amber'), scores JSON, "
                "readings JSON, days JSON); "
                "INSERT INTO arrays SELECT seq, seq % 16, JSON_ARRAY(seq % 1000, seq * 3 % 1000, seq * 7 % 1000), "
                "JSON_ARRAY(seq / 7.0, IF(seq % 4 = 0, NULL, seq * 1.5)), "
                f"JSON_ARRAY(DATE_ADD('2020-01-01', INTERVAL seq % 900 DAY)) {gen}")
    raise ValueError(shape)


# -- set-up and runs -----------------------------------------------------------------------------

class Source:
    def __init__(self, db: str, url: str, name: str):
        self.db, self.url, self.name = db, url.rstrip("/"), name

    @property
    def table_url(self) -> str:
        return f"{self.url}/{self.name}"

    def ensure(self, shape: str, rows: int) -> None:
        if self.db == "postgresql":
            import psycopg

            with psycopg.connect(f"{self.url}/postgres", autocommit=True) as con:
                if not con.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.name,)).fetchone():
                    con.execute(f'CREATE DATABASE "{self.name}"')
            with psycopg.connect(self.table_url, autocommit=True) as con:
                found = con.execute(f"SELECT to_regclass('public.{shape}') IS NOT NULL").fetchone()[0]
                if found and con.execute(f'SELECT count(*) FROM "{shape}"').fetchone()[0] == rows:
                    return
                print(f"  making {shape} ({rows:,} rows)…", flush=True)
                con.execute(f'DROP TABLE IF EXISTS "{shape}"')
                con.execute(pg_make(shape, rows))
                con.execute(f'VACUUM ANALYZE "{shape}"')
            return
        con = self._mysql(None)
        with con.cursor() as cur:
            cur.execute(f"CREATE DATABASE IF NOT EXISTS `{self.name}`")
            cur.execute(f"USE `{self.name}`")
            cur.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = %s AND table_name = %s",
                        (self.name, shape))
            if cur.fetchone()[0]:
                cur.execute(f"SELECT count(*) FROM `{shape}`")
                if cur.fetchone()[0] == rows:
                    return
            print(f"  making {shape} ({rows:,} rows)…", flush=True)
            cur.execute(f"DROP TABLE IF EXISTS `{shape}`")
            for statement in my_make(shape, rows).split("; "):
                cur.execute(statement)
            cur.execute(f"ANALYZE TABLE `{shape}`")
            cur.fetchall()
        con.commit()
        con.close()

    def _mysql(self, database):
        import pymysql
        from sqlalchemy.engine import make_url

        u = make_url(self.url.replace("mysql://", "mysql+pymysql://", 1))
        return pymysql.connect(host=u.host, port=u.port or 3306, user=u.username, password=u.password or "",
                               database=database, autocommit=True)

    def drop(self) -> None:
        if self.db == "postgresql":
            import psycopg

            with psycopg.connect(f"{self.url}/postgres", autocommit=True) as con:
                con.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        else:
            con = self._mysql(None)
            with con.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS `{self.name}`")
            con.close()

    def baseline(self, shape: str) -> list[str]:
        from sqlalchemy.engine import make_url

        if self.db == "postgresql":
            return ["psql", "-X", "-q", "-d", self.table_url, "-c", f"\\copy (SELECT * FROM \"{shape}\") to '/dev/null'"]
        u = make_url(self.url.replace("mysql://", "mysql+pymysql://", 1))
        return ["sh", "-c", f"mysql --batch -h {u.host} -P {u.port or 3306} -u {u.username} {self.name} "
                            f"-e 'SELECT * FROM `{shape}`' > /dev/null"]

    def ref(self, shape: str) -> str:
        schema = "public" if self.db == "postgresql" else self.name
        return f'src.{schema}."{shape}"'


def machine_busy() -> float | None:
    """CPU-seconds the whole machine has been busy since boot (``/proc/stat``; None elsewhere)."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


@dataclass
class Timed:
    seconds: float
    rss_mb: float
    cpu: float  # the command's own CPU-seconds, its waited-for children (psql, mysql) included
    machine_cpu: float | None  # the whole machine's busy CPU-seconds meanwhile (server included)


def timed(cmd: list[str], env: dict) -> Timed:
    busy = machine_busy()
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    after = machine_busy()
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0 or (" 0 failed" not in err and "EXTRACT" in cmd[-1]):
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {err[-800:]}")
    return Timed(elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime,
                 None if busy is None or after is None else after - busy)


def _opt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", choices=("postgresql", "mysql"), default="postgresql")
    p.add_argument("--url", default=None, help=f"server URL without a database (default {PG_URL} / {MYSQL_URL})")
    p.add_argument("--rows", type=int, default=None)
    p.add_argument("--narrow-rows", type=int, default=None)
    p.add_argument("-n", "--runs", type=int, default=3)
    p.add_argument("--shapes", default=",".join(SHAPES))
    p.add_argument("--drop", action="store_true", help="drop the benchmark database afterwards")
    args = p.parse_args(argv)
    quiet = os.getloadavg()[0] < 2
    rows = args.rows or (1_000_000 if quiet else 200_000)
    narrow = args.narrow_rows or rows * 10
    shapes = [s.strip() for s in args.shapes.split(",") if s.strip()]
    unknown = set(shapes) - set(SHAPES)
    if unknown:
        raise SystemExit(f"unknown shapes {sorted(unknown)}; known: {', '.join(SHAPES)}")
    url = args.url or (PG_URL if args.db == "postgresql" else MYSQL_URL)
    source = Source(args.db, url, f"hydra_shapes_{args.db}")
    hydra = os.path.join(os.path.dirname(sys.executable), "hydra")
    if not os.path.exists(hydra):
        hydra = shutil.which("hydra") or "hydra"
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # compiled bytecode, as an installed wheel has
    env["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), "hydra-bench-pycache")
    work = tempfile.mkdtemp(prefix="hydra-bench-shapes-")
    print(f"{args.db}: {rows:,} rows per shape (narrow {narrow:,}), {args.runs} interleaved runs, "
          f"load average {os.getloadavg()[0]:.1f}")
    results = []
    status = 0
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        for shape in shapes:
            source.ensure(shape, narrow if shape == "narrow" else rows)
        ws = os.path.join(work, "ws.duckdb")
        timed([hydra, ws, "-c", f"ATTACH '{source.table_url}' AS src"], env)
        for shape in shapes:
            extract = [hydra, ws, "-c", f"EXTRACT {source.ref(shape)} TO '{work}/out' (OVERWRITE true)"]
            base_cmd = source.baseline(shape)
            load = os.getloadavg()[0]
            hydra_runs, base_runs = [], []
            for _ in range(args.runs):
                base_runs.append(timed(base_cmd, env))
                hydra_runs.append(timed(extract, env))
            h, b = (statistics.median(r.seconds for r in runs) for runs in (hydra_runs, base_runs))
            cpu = statistics.median(r.cpu for r in hydra_runs)
            machine = [r.machine_cpu for r in hydra_runs if r.machine_cpu is not None]
            machine_cpu = statistics.median(machine) if machine else None
            floor = machine_cpu / cores / b if machine_cpu is not None else None
            peak = max(r.rss_mb for r in hydra_runs)
            results.append((shape, h, b, h / b, peak, load, cpu, machine_cpu, floor))
            print(f"  {shape:<10} hydra {h:7.2f} s   one stream {b:7.2f} s   ratio {h / b:5.2f}   "
                  f"peak RSS {peak:5.0f} MB   CPU-s hydra {cpu:.2f}, machine {_opt(machine_cpu)}   "
                  f"floor {_opt(floor)}   (load {load:.1f})", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if args.drop:
            source.drop()
    goal = GOALS[args.db]
    print(f"\n| shape | rows | hydra EXTRACT | one {'COPY stream' if args.db == 'postgresql' else 'mysql --batch'} "
          f"| ratio (goal ≤ {goal}) | CPU-s: hydra / machine | floor on {cores} cores | peak RSS | load |")
    print("|---|---|---|---|---|---|---|---|---|")
    for shape, h, b, ratio, peak, load, cpu, machine_cpu, floor in results:
        n = narrow if shape == "narrow" else rows
        ok = ratio <= goal and peak < RSS_GOAL_MB
        status |= not ok
        print(f"| {shape} | {n:,} | {h:.2f} s | {b:.2f} s | {ratio:.2f}× {'' if ok else '✗'} | {cpu:.2f} / "
              f"{_opt(machine_cpu)} | {_opt(floor)}× | {peak:.0f} MB | {load:.1f} |")
    return int(bool(status))


if __name__ == "__main__":
    sys.exit(main())
