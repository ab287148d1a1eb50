"""Where the CPU of a PostgreSQL EXTRACT goes, stage by stage, against one text COPY stream.

    python bench/bench_pg_stages.py postgresql://postgres@127.0.0.1:5432/db table [-n 3]

Every stage of what ``EXTRACT`` does with one table (issue 18), timed alone in CPU-seconds:

* ``copy text``: ``psql \\copy (SELECT * FROM t) to '/dev/null'`` — the baseline's client and server CPU;
* ``copy binary``: the binary COPY Hydra sends (marker column first), through psql to nowhere;
* ``decode``: the same stream decoded into Arrow (``SqlHead.read``; the Python process only, its
  psql and server being the binary COPY's);
* ``hash``: DuckDB's ``sum(hash(cols))`` over each row group (``direct.hashed_batches``);
* ``write``: the Parquet writer with EXTRACT's settings (zstd, dictionaries for text), SHA-256;
* ``figures``: the source's figures query (``SqlHead.aggregates``), the server's CPU.

Start-up (imports, catalog) is not a stage here: ``bench_fixed_cost.py`` measures it.

Server CPU is the statement's own backend's (``/proc/<pid>/stat``, so the server must run on this
machine, else "n/a"), each statement run again alone through psycopg with parallel workers off;
other sessions do not count, so a busy machine skews it less than wall times. The last lines add the
stages up: the CPU the whole command needs besides start-up, and the wall time that CPU takes at
best on this machine's cores, against the text COPY's wall time. The best of ``-n`` runs is shown.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time


def backend_cpu(con) -> float | None:
    """CPU-seconds so far of the server process behind ``con`` (a server on this machine)."""
    pid = con.execute("SELECT pg_backend_pid()").fetchone()[0]
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_stage(url: str, sql: str) -> float | None:
    """The server CPU of one statement, measured on its own backend (parallel workers off, so that
    the backend does all of it); a COPY's rows are read and dropped by psycopg."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as con:
        con.execute("SET max_parallel_workers_per_gather = 0")
        before = backend_cpu(con)
        if sql.startswith("COPY"):
            with con.cursor().copy(sql) as copy:
                for _ in copy:
                    pass
        else:
            con.execute(sql).fetchall()
        after = backend_cpu(con)
    return None if before is None or after is None else after - before


def self_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


class Stage:
    """The wall time and client CPU (this process, and its children unless ``children=False``)."""

    def __init__(self, children: bool = True):
        self.children = children

    def __enter__(self):
        self.c0, self.k0, self.t0 = self_cpu(), children_cpu(), time.perf_counter()
        self.server = None
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.t0
        self.client = self_cpu() - self.c0 + (children_cpu() - self.k0 if self.children else 0)


def _optimistic(head, element, cols) -> str:
    """The figures' statement as ``aggregates`` first runs it (numerics without NULLIF)."""
    from hydra.heads.sql.aggregates import aggregate_sql

    return aggregate_sql(head, element, cols, distinct=False, nan_free=True)[0]


class Reader:
    """Decoded batches, read again as a head's reader."""

    def __init__(self, batches):
        self.batches = batches
        self.schema = batches[0].schema

    def __iter__(self):
        return iter(self.batches)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("url")
    p.add_argument("table", help="schema.table or table (public)")
    p.add_argument("-n", "--runs", type=int, default=3)
    args = p.parse_args(argv)
    import duckdb
    import pyarrow.parquet as pq

    from hydra.heads.sql import pgbinary
    from hydra.heads.sql.aggregates import aggregates as figures
    from hydra.heads.sql.head import SqlHead
    from hydra.heads.sql.postgres import _client_command
    from hydra.transfer.direct import hashed_batches
    from hydra.transfer.writers import DICTIONARY_PAGE_BYTES, dictionary_columns

    schema, _, name = args.table.rpartition(".")
    parts = (schema or "public", name)
    head = SqlHead("src", args.url)
    head.open()
    element = head._full(next(e for e in head.enumerate() if e.parts == parts))
    cols = head._columns(element, None)
    plans = pgbinary.plan(head, cols)
    decoder = pgbinary.Decoder(plans, None)
    select, _ = head.select_sql(element, None, None, None, expressions=[f"{pgbinary.MAGIC_SQL} AS hydra_row"]
                                + [plans[i].expr for i in decoder.order])
    binary_argv, env = _client_command(head, f"COPY ({select}) TO STDOUT WITH (FORMAT binary)")
    text_argv, _ = _client_command(head, "SELECT 1")
    text_argv = text_argv[:-2] + ["-c", f"\\copy (SELECT * FROM {head.table_sql(element)}) to '/dev/null'"]
    binary_sql = f"COPY ({select}) TO STDOUT WITH (FORMAT binary)"
    text_sql = f"COPY (SELECT * FROM {head.table_sql(element)}) TO STDOUT"
    best: dict[str, Stage] = {}

    def keep(label, stage):
        if label not in best or stage.client + (stage.server or 0) < best[label].client + (best[label].server or 0):
            best[label] = stage

    out = os.path.join(tempfile.mkdtemp(prefix="hydra-stages-"), "x.parquet")
    for _ in range(args.runs):
        with Stage() as s:
            subprocess.run(text_argv, env=env, stdout=subprocess.DEVNULL, check=True)
        s.server = server_stage(args.url, text_sql)
        keep("copy text (baseline)", s)
        with Stage() as s:
            subprocess.run(binary_argv, env=env, stdout=subprocess.DEVNULL, check=True)
        s.server = server_stage(args.url, binary_sql)
        keep("copy binary, psql", s)
        with Stage(children=False) as s:  # psql's part is the binary COPY's, above
            batches = list(head.read(element))
        keep("decode (Python)", s)
        con = duckdb.connect()
        columns = [(c.name, c.type) for c in cols]

        reader = Reader(batches)
        with Stage() as s:
            groups = [table for table, _ in hashed_batches(con, reader, columns, 1 << 20)]
        keep("hash (DuckDB)", s)
        with Stage() as s:
            import hashlib

            writer = pq.ParquetWriter(out, reader.schema, compression="zstd",
                                      use_dictionary=dictionary_columns(reader.schema),
                                      dictionary_pagesize_limit=DICTIONARY_PAGE_BYTES)
            for table in groups:
                writer.write_table(table)
            writer.close()
            with open(out, "rb") as f:
                hashlib.sha256(f.read()).hexdigest()
        keep("write (Parquet zstd, SHA-256)", s)
        del batches, groups, reader
        with Stage() as s:  # as in EXTRACT's snapshot: no distinct counts
            figures(head, element, cols, distinct=False)
        s.server = server_stage(args.url, _optimistic(head, element, cols))
        keep("figures query", s)
    head.close()

    def fmt(v):
        return "n/a" if v is None else f"{v:5.2f}"

    print(f"{args.table}: best of {args.runs}, CPU-seconds (load average {os.getloadavg()[0]:.1f})")
    print(f"{'stage':32s} {'wall':>6s} {'client':>7s} {'server':>7s}")
    for label, s in best.items():
        print(f"{label:32s} {s.wall:6.2f} {s.client:7.2f} {fmt(s.server):>7s}")
    cores = os.cpu_count() or 1
    # the binary COPY's server CPU is the decode's too: counted once
    need = sum(s.client + (s.server or 0) for label, s in best.items() if not label.startswith("copy text"))
    base = best["copy text (baseline)"]
    # one COPY stream is a pipeline of two processes (server, psql): at best as long as the busier
    floor = max(base.client, base.server or 0)
    print(f"EXTRACT's stages together: {need:.2f} CPU-s besides start-up, at best {need / cores:.2f} s on "
          f"{cores} cores; the text COPY needs {base.client + (base.server or 0):.2f} CPU-s, at best "
          f"{floor:.2f} s (its busier process), measured {base.wall:.2f} s. Best ratio on this machine "
          f"{need / cores / floor:.2f}x (goal 0.75x), before start-up.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
