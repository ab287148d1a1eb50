"""What the SQL extract benchmarks share: contenders run in child processes, interleaved runs,
best-of-N, and one report of ratios against the baseline with each contender's peak RSS and CPU.

A benchmark script defines its table, its baseline (the client's own limit) and its peer, then
calls ``main(...)``; the script re-runs itself with ``--child NAME`` for each contender, so peak
RSS (the process plus its children) is that contender's own.
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
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))


def rss_mb() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, kids


def write_parquet(reader, path: str, rows_per_group: int = 262_144) -> int:
    """Write a RecordBatchReader to zstd Parquet (as EXTRACT does) in row groups; its row count."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    pending, pending_rows, total = [], 0, 0
    for batch in reader:
        if writer is None:
            writer = pq.ParquetWriter(path, batch.schema, compression="zstd")
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


def run_split_read(url: str, workers: int, bulk: str, out: str) -> dict:
    """The SQL head alone: ``split`` key ranges read concurrently with ``read`` into Parquet.
    Timed like the EXTRACT statement, which runs after ATTACH: from split() to the last file."""
    import numpy  # noqa: F401 - imported before the clock starts, as a running shell has them
    import pyarrow.compute  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    from hydra.heads.sql.head import SqlHead

    head = SqlHead("bench", url, {"BULK": bulk})
    head.open()
    element = next(e for e in head.enumerate() if e.parts[-1] == "t")
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
    """The workspace's MARK + EXTRACT statements, timed after ATTACH."""
    import duckdb

    from hydra.statements.workspace import Workspace

    ws = Workspace.open(":memory:")
    ws.execute(f"ATTACH '{url}' AS b")
    ref = ws.execute("SELECT ref FROM elements WHERE source = 'b' AND ref LIKE '%.t'").rows[0][0]
    start = time.perf_counter()
    ws.execute(f"MARK {ref}")
    ws.execute(f"EXTRACT MARKED TO '{out}' (FORMAT parquet, WORKERS {workers})")
    seconds = time.perf_counter() - start
    rows = duckdb.connect().execute(f"SELECT count(*) FROM read_parquet('{out}/**/*.parquet')").fetchall()[0][0]
    ws.close()
    return {"seconds": seconds, "rows": rows}


def _child(args, peer: Callable[[str, int, str], dict]) -> None:
    out = tempfile.mkdtemp(prefix="hydra_bench_", dir="/tmp")
    try:
        if args.child == "peer":
            result = peer(args.url, args.workers, out)
        elif args.child == "extract":
            result = run_extract(args.url, args.workers, out)
        else:
            result = run_split_read(args.url, args.workers, args.child.split(":")[1], out)
        own, kids = rss_mb()
        me, ch = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        result.update(rss_mb=own, children_rss_mb=kids, cpu=me.ru_utime + me.ru_stime + ch.ru_utime + ch.ru_stime)
    except Exception as err:  # noqa: BLE001 - reported, not fatal for the other contenders
        result = {"error": f"{type(err).__name__}: {err}"}
    finally:
        subprocess.run(["rm", "-rf", out], check=False)
    print(json.dumps(result))


def _contender(script: str, args, name: str) -> dict:
    cmd = [sys.executable, script, "--child", name, "--url", args.url, "--workers", str(args.workers),
           "--rows", str(args.rows)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1]}


def main(script: str, title: str, *, rows: int, url: str, ensure_table: Callable[[str, int], str],
         baseline: tuple[str, Callable[[str], float]], peer: Callable[[str, int, str], dict],
         contenders: dict[str, str], repeat: int = 2) -> None:
    """Parse the command line, then run as a child (one contender) or as the benchmark.

    ``contenders`` maps names to labels: ``split:<BULK>`` (the head alone with that bulk mode),
    ``extract`` (the statement) and ``peer``."""
    ap = argparse.ArgumentParser(description=title)
    ap.add_argument("--rows", type=int, default=rows)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--url", default=url)
    ap.add_argument("--repeat", type=int, default=repeat, help="interleaved runs per contender (best is kept)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args, peer)
        return
    args.url = ensure_table(args.url, args.rows)
    base_label, base_run = baseline
    results: dict[str, dict] = {}
    base_times = []
    for _ in range(args.repeat):  # interleaved, so that background load hits everyone alike
        base_times.append(base_run(args.url))
        for name in contenders:
            r = _contender(script, args, name)
            best = results.get(name)
            if best is None or ("error" in best and "error" not in r) or (
                    "error" not in r and r["seconds"] < best["seconds"]):
                results[name] = r
    base = min(base_times)
    width = max(len(base_label), *(len(label) for label in contenders.values()))
    print(f"{title}: {args.rows:,} rows (mixed types) to Parquet, {args.workers} workers, best of {args.repeat}")
    print(f"  {base_label:{width}s} {base:7.2f} s   1.00x")
    for name, label in contenders.items():
        r = results[name]
        if "error" in r:
            print(f"  {label:{width}s} skipped: {r['error'][:100]}")
            continue
        print(f"  {label:{width}s} {r['seconds']:7.2f} s   {r['seconds'] / base:4.2f}x   "
              f"peak RSS {r['rss_mb']:.0f} MB (children {r['children_rss_mb']:.0f} MB)   rows {r['rows']:,}   "
              f"client CPU {r.get('cpu', 0):.1f} s")
    print(f"  load average at the end: {os.getloadavg()[0]:.1f} (other work on the machine inflates every figure)")
