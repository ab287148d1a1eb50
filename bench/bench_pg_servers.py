"""Whole PostgreSQL servers: ATTACH of a server of 200 databases × 20 tables, against ``psql -l``
plus one catalog query per database.

    python bench/bench_pg_servers.py [--databases 200] [--tables 20] [--workers 1,4,8,16]
                                     [--url postgresql://postgres@127.0.0.1:5432]

Builds a template database with ``--tables`` tables (4–12 columns each, a primary key on each, a
view for every fifth), copies it ``--databases`` times (``CREATE DATABASE … TEMPLATE``, the quick
way), measures in one run, and drops every database it made (uuid-suffixed names, so that it never
touches anyone else's):

* baseline: ``psql -l``, then for each database ``psql -d <db> -Atc "<one catalog query>"`` (the
  columns of every user table, from ``information_schema.columns``), one after the other — what a
  consultant with a shell would type;
* hydra: ``ATTACH '<url without database>' AS srv (DATABASES '<this run's prefix>*')`` in a fresh
  in-memory workspace (relations, columns, keys, row estimates and sizes of every database, each on
  its own connection, ``ENUMERATE_WORKERS`` at a time), for each worker count in ``--workers``
  (best of 2 each).

Prints each ratio to the baseline and the load average (the machine is shared: rerun before quoting).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

TYPES = ["integer", "bigint", "text", "numeric(12,2)", "timestamptz", "date", "boolean", "uuid", "jsonb",
         "double precision", "varchar(40)", "text[]"]

CATALOG_QUERY = ("SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns "
                 "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')")


def build(con, base: str, prefix: str, databases: int, tables: int) -> list[str]:
    import psycopg

    template = f"{prefix}template"
    con.execute(f'CREATE DATABASE "{template}"')
    ddl = []
    for i in range(tables):
        cols = ", ".join(f'"col {j}" {TYPES[(i + j) % len(TYPES)]}' for j in range(1, 4 + i % 9))
        ddl.append(f'CREATE TABLE "table {i}" (id bigint PRIMARY KEY, {cols});')
        if i % 5 == 0:
            ddl.append(f'CREATE VIEW "view {i}" AS SELECT * FROM "table {i}";')
    with psycopg.connect(base, dbname=template, autocommit=True) as tcon:
        tcon.execute("".join(ddl))
        tcon.execute("ANALYZE")
    names = []
    started = time.perf_counter()
    for i in range(databases):
        name = f"{prefix}{i:03d}"
        con.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        names.append(name)
    print(f"built {databases} databases × {tables} tables in {time.perf_counter() - started:.1f} s",
          file=sys.stderr)
    return [template, *names]


def baseline(host_args: list[str], names: list[str]) -> tuple[float, int]:
    env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
    started = time.perf_counter()
    listed = subprocess.run(["psql", *host_args, "-l", "-At"], capture_output=True, text=True, check=True, env=env)
    rows = 0
    for name in names:
        out = subprocess.run(["psql", *host_args, "-d", name, "-Atc", CATALOG_QUERY],
                             capture_output=True, text=True, check=True, env=env)
        rows += out.stdout.count("\n")
    assert all(n in listed.stdout for n in names)
    return time.perf_counter() - started, rows


def hydra(url: str, prefix: str, workers: int) -> tuple[float, int, int]:
    from hydra.heads.sql import server
    from hydra.statements.workspace import Workspace

    server.ENUMERATE_WORKERS = workers
    ws = Workspace.open(":memory:")
    try:
        started = time.perf_counter()
        ws.execute(f"ATTACH '{url}' AS srv (DATABASES '{prefix}[0-9]*')")
        took = time.perf_counter() - started
        (elements,) = ws.query("SELECT count(*) FROM elements WHERE source = 'srv'")[0]
        (columns,) = ws.query("SELECT count(*) FROM columns WHERE source = 'srv'")[0]
        return took, elements, columns
    finally:
        ws.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--databases", type=int, default=200)
    ap.add_argument("--tables", type=int, default=20)
    ap.add_argument("--workers", default="1,4,8,16")
    ap.add_argument("--url", default=os.environ.get("HYDRA_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432"))
    args = ap.parse_args()

    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(args.url)
    host_args = ["-h", url.host or "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username or "postgres"]
    prefix = f"hydra_bench_srv_{uuid.uuid4().hex[:8]}_"
    admin = psycopg.connect(args.url, dbname="postgres", autocommit=True)
    made: list[str] = []
    try:
        made = build(admin, args.url, prefix, args.databases, args.tables)
        names = made[1:]
        hydra(args.url, prefix, 8)  # warm: imports, the server's caches
        base, rows = min((baseline(host_args, names) for _ in range(2)), key=lambda r: r[0])
        load = os.getloadavg()
        print(f"whole PostgreSQL server: {args.databases} databases × {args.tables} tables "
              f"(load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}, {os.cpu_count()} CPUs)")
        print(f"  {'psql -l + one catalog query per database':46s} {base:7.2f} s   1.00x   ({rows:,} column rows)")
        for workers in (int(w) for w in args.workers.split(",")):
            took, elements, columns = min((hydra(args.url, prefix, workers) for _ in range(2)), key=lambda r: r[0])
            print(f"  {f'hydra ATTACH, {workers} at a time':46s} {took:7.2f} s   {took / base:4.2f}x   "
                  f"({elements:,} elements, {columns:,} columns)")
    finally:
        for name in reversed(made):
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


if __name__ == "__main__":
    main()
