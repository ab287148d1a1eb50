"""Benchmark: peak memory while EXTRACT moves a table several times larger than 1 GiB through the
Arrow-reader path (the path every non-file head takes: SQL databases, S3 objects, SAP, Notes…).

    python bench/bench_extract_memory.py [--rows 30000000] [--workers 2] [--out /tmp/hydra-bench-mem]

A small head registered for the run ("stream") serves one element whose ``read`` is an Arrow
``RecordBatchReader`` generated on the fly (an id, a 110-character text (hex digests), a double, a timestamp:
about 140 bytes a row, so 30 million rows are ~4 GiB of Arrow data), and whose ``split`` cuts it
into key ranges, like the SQL head does. EXTRACT streams it to Parquet; the script reports the
Arrow bytes that flowed, the Parquet bytes written, the time, and the process's peak RSS (VmHWM).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from importlib.metadata import EntryPoint

from hydra.core.model import Column, Element
from hydra.heads.base import Head

ROW_BYTES = 8 + 4 + 110 + 8 + 8  # Arrow: id, string offset + text, double, timestamp


class StreamHead(Head):
    """A source of generated rows, read only through Arrow record batches."""

    kind = "stream"
    schemes = ("stream",)
    options_allowed = ("ROWS",)

    def open(self) -> None:
        self.rows = int(self.options.get("ROWS", 30_000_000))

    def enumerate(self):
        yield Element(("big",), "table", path="big", row_count=self.rows, row_count_exact=True, key=["id"],
                      columns=[Column("id", "BIGINT"), Column("text", "VARCHAR"), Column("amount", "DOUBLE"),
                               Column("ts", "TIMESTAMP")])

    def can_filter(self, element, predicate) -> bool:
        return {c.name for c in predicate.find_all(__import__("sqlglot").exp.Column)} == {"id"}

    def split(self, element, parts):
        import sqlglot

        bounds = [self.rows * i // parts for i in range(parts + 1)]
        return [[sqlglot.parse_one(f"id >= {a}", read="duckdb"), sqlglot.parse_one(f"id < {b}", read="duckdb")]
                for a, b in zip(bounds, bounds[1:])]

    def read(self, element, columns=None, predicates=None, limit=None):
        import duckdb

        where = " AND ".join(p.sql(dialect="duckdb") for p in predicates or []) or "true"
        con = duckdb.connect()
        con.execute("SET threads = 1")
        sql = (f"SELECT i AS id, md5(i::VARCHAR) || md5((i * 7)::VARCHAR) || md5((i * 13)::VARCHAR) || lpad(i::VARCHAR, 14, '0') AS text, i * 0.5 AS amount, "
               f"TIMESTAMP '2020-01-01' + INTERVAL (i) SECOND AS ts FROM range({self.rows}) t(i) "
               f"WHERE {where.replace('id', 'i')}")
        return con.sql(sql).to_arrow_reader(65_536)


def peak_rss_mib() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def compare_copy(args) -> int:
    """DuckDB COPY over the head's reader vs Hydra's path (DuckDB query → Arrow → pyarrow writer)."""
    import duckdb

    import hydra.heads.registry
    from hydra.statements.workspace import Workspace

    hydra.heads.registry._entry_points()["stream"] = EntryPoint(name="stream", value="__main__:StreamHead", group="hydra.heads")
    head = StreamHead("gen", "stream://generated", {"ROWS": str(args.rows)})
    head.open()
    element = next(head.enumerate())
    os.makedirs(args.out, exist_ok=True)
    con = duckdb.connect()
    con.register("reader", head.read(element))
    started = time.perf_counter()
    con.execute(f"COPY (SELECT * FROM reader) TO '{args.out}/copy.parquet' (FORMAT parquet, COMPRESSION zstd)")
    copy_seconds = time.perf_counter() - started
    con.close()
    ws = Workspace.open(":memory:")
    ws.execute(f"ATTACH 'stream://generated' AS gen (TYPE stream, ROWS {args.rows})")
    started = time.perf_counter()
    ws.execute(f"EXTRACT gen.big TO '{args.out}/hydra' (WORKERS 1)")
    extract_seconds = time.perf_counter() - started
    ws.close()
    print(f"rows {args.rows:,}: DuckDB COPY over the reader {copy_seconds:.1f} s; "
          f"Hydra EXTRACT (WORKERS 1, with checksum and SHA-256) {extract_seconds:.1f} s "
          f"({extract_seconds / copy_seconds:.2f}×)")
    shutil.rmtree(args.out, ignore_errors=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=30_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default="/tmp/hydra-bench-mem")
    parser.add_argument("--compare-copy", action="store_true",
                        help="also time DuckDB's COPY over the registered reader (no checksum, no SHA-256), "
                             "in a fresh process, against EXTRACT WORKERS 1 — the path choice for Arrow heads")
    args = parser.parse_args()
    if args.compare_copy:
        return compare_copy(args)

    import hydra.heads.registry
    from hydra.statements.workspace import Workspace

    hydra.heads.registry._entry_points()["stream"] = EntryPoint(name="stream", value="__main__:StreamHead", group="hydra.heads")
    shutil.rmtree(args.out, ignore_errors=True)
    ws = Workspace.open(":memory:")
    ws.execute(f"ATTACH 'stream://generated' AS gen (TYPE stream, ROWS {args.rows})")
    before = peak_rss_mib()
    started = time.perf_counter()
    result = ws.execute(f"EXTRACT gen.big TO '{args.out}' (WORKERS {args.workers})")
    elapsed = time.perf_counter() - started
    peak = peak_rss_mib()
    ref, status, rows, size, files, *_ = result.rows[0]
    if status != "done":
        print(result.rows[0])
        return 1
    streamed = rows * ROW_BYTES
    print(f"{os.cpu_count()} cores; rows {rows:,}; Arrow data streamed ≈ {streamed / 2**30:.2f} GiB; "
          f"Parquet written {size / 2**30:.2f} GiB in {files} files; {elapsed:.1f} s "
          f"({rows / elapsed:,.0f} rows/s); WORKERS {args.workers}")
    print(f"peak RSS {peak:.0f} MiB (before EXTRACT: {before:.0f} MiB); "
          f"{'under' if peak < 1024 else 'OVER'} 1 GiB")
    ws.close()
    shutil.rmtree(args.out, ignore_errors=True)
    return 0 if peak < 1024 else 1


if __name__ == "__main__":
    sys.exit(main())
