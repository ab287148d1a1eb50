"""PostgreSQL enumeration: SqlHead.enumerate() on a 5,000-table database vs one information_schema.columns query.

    python bench/bench_pg_enumerate.py [--tables 5000] [--url postgresql://postgres@127.0.0.1:5432]

Builds (once) database ``hydra_bench_enum_<N>`` with N tables of 4–12 columns (a primary key on
each, a view for every tenth table, a materialized view for every fiftieth) spread over 10 schemas,
then measures in one run:

* baseline: ``SELECT * FROM information_schema.columns`` (one query, fetched) through psycopg;
* hydra: ``SqlHead.enumerate()`` — relations, columns, keys, row counts and sizes (best of 3, with
  a fresh head each time, connection included);
* peer: SQLAlchemy's reflection (``MetaData.reflect``) of one schema, extrapolated ×10.

Target: hydra within 3× the baseline.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

TYPES = ["integer", "bigint", "text", "numeric(12,2)", "timestamptz", "date", "boolean", "uuid", "jsonb",
         "double precision", "varchar(40)", "text[]"]


def ensure_database(base: str, tables: int) -> str:
    import psycopg

    name = f"hydra_bench_enum_{tables}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as con:
        if con.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return f"{base}/{name}"
        con.execute(f'CREATE DATABASE "{name}"')
    print(f"building {tables:,} tables in {name}…", file=sys.stderr)
    with psycopg.connect(f"{base}/{name}", autocommit=True) as con:
        ddl = []
        for s in range(10):
            ddl.append(f'CREATE SCHEMA "schema {s}";')
        for i in range(tables):
            schema = f'"schema {i % 10}"'
            ncols = 4 + i % 9
            cols = ", ".join(f'"col {j}" {TYPES[(i + j) % len(TYPES)]}' for j in range(1, ncols))
            ddl.append(f'CREATE TABLE {schema}."table {i}" (id bigint PRIMARY KEY, {cols});')
            if i % 10 == 0:
                ddl.append(f'CREATE VIEW {schema}."view {i}" AS SELECT * FROM {schema}."table {i}";')
            if i % 50 == 0:
                ddl.append(f'CREATE MATERIALIZED VIEW {schema}."mv {i}" AS SELECT id FROM {schema}."table {i}";')
            if len(ddl) > 500:
                con.execute("".join(ddl))
                ddl = []
        if ddl:
            con.execute("".join(ddl))
        con.execute("ANALYZE")
    return f"{base}/{name}"


def best(fn, repeat=3):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tables", type=int, default=5000)
    ap.add_argument("--url", default=os.environ.get("HYDRA_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432"))
    args = ap.parse_args()
    url = ensure_database(args.url, args.tables)

    import psycopg

    from hydra.heads.sql.head import SqlHead

    def baseline():
        with psycopg.connect(url) as con:
            return len(con.execute("SELECT * FROM information_schema.columns").fetchall())

    def hydra():
        head = SqlHead("bench", url)
        head.open()
        els = list(head.enumerate())
        head.close()
        return els

    def peer():
        from sqlalchemy import MetaData, create_engine

        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        meta = MetaData()
        meta.reflect(engine, schema="schema 0", views=True)
        engine.dispose()
        return len(meta.tables)

    hydra()  # warm imports
    b, ncols = best(baseline)
    h, els = best(hydra)
    p, nrefl = best(peer, 1)
    ncolumns = sum(len(e.columns or []) for e in els)
    kinds = {}
    for e in els:
        kinds[e.kind] = kinds.get(e.kind, 0) + 1
    print(f"PostgreSQL enumeration, {args.tables:,} tables: {kinds}, {ncolumns:,} columns")
    print(f"  {'information_schema.columns (1 query)':44s} {b:7.3f} s   1.00x   ({ncols:,} rows)")
    print(f"  {'hydra SqlHead.enumerate()':44s} {h:7.3f} s   {h / b:4.2f}x   (target ≤ 3x)")
    print(f"  {'SQLAlchemy reflect, 1 schema ×10 (peer)':44s} {p * 10:7.3f} s   {p * 10 / b:4.2f}x   ({nrefl} in 1 schema)")
    print(f"  peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
