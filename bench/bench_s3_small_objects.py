"""Benchmark: PROFILE and EXTRACT of many small S3 objects against fetching their bytes with boto3.

    .venv/bin/python bench/bench_s3_small_objects.py [--objects 5000] [--shapes csv-parts,…]
                                                     [--threads 16] [--repeat 3]

Starts moto's S3 server on 127.0.0.1 (real HTTP) in a child process and fills a bucket (straight
into moto's backend: setup speed is not what is measured) with one prefix per shape, each holding
``--objects`` small objects (20 rows of 4 columns, ~0.6 KB as CSV, ~1.5 KB as Parquet):

* ``csv-parts``     ``csv-parts/data/part-00000.csv`` …      one element of kind ``dataset``
* ``parquet-parts`` ``parquet-parts/data/part-00000.parquet`` …  one element of kind ``dataset``
* ``csv-files``     ``csv-files/t00000/data.csv`` …     one element per object
* ``parquet-files`` ``parquet-files/t00000/data.parquet`` … one element per object

For each shape, ``--repeat`` times, in one run against the same server:

* ``boto3``: the baseline — list the prefix, then GET every object and read its body, in a thread
  pool of ``--threads`` (the same number of HTTP connections);
* ``ATTACH``: ``ATTACH 's3://bucket/<shape>' AS lake`` (listing, elements and their columns);
* ``PROFILE``: ``PROFILE lake.*`` (exact row counts and per-column figures);
* ``EXTRACT``: ``EXTRACT lake.* TO '<temporary folder>'`` (Parquet, with manifests),

the baseline running before and after each statement; each statement's ratio is its time over
the mean of the two fetches around it, and the medians are printed. moto is slow per request (one
Python process serving every request), and the baseline pays that too: that is why the figure is
a ratio; on a busy machine the interleaving keeps a burst of load from landing on one side only.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

BUCKET = "bench-small"
SHAPES = ("csv-parts", "parquet-parts", "csv-files", "parquet-files")
ROWS = 20


def key_of(shape: str, i: int) -> str:
    fmt = shape.split("-")[0]
    if shape.endswith("-parts"):
        return f"{shape}/data/part-{i:05d}.{fmt}"
    return f"{shape}/t{i:05d}/data.{fmt}"


def body_of(shape: str, i: int) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    base = i * ROWS
    table = pa.table({
        "id": pa.array(range(base, base + ROWS), pa.int64()),
        "name": [f"name {base + r}" for r in range(ROWS)],
        "amount": [round((base + r) * 0.37 % 1000, 2) for r in range(ROWS)],
        "day": pa.array([f"2024-01-{1 + r % 28:02d}" for r in range(ROWS)]).cast(pa.date32()),
    })
    if shape.startswith("parquet"):
        out = io.BytesIO()
        pq.write_table(table, out)
        return out.getvalue()
    lines = ["id,name,amount,day"] + [
        f"{a},{b},{c},{d}" for a, b, c, d in zip(*(table.column(n).to_pylist() for n in table.column_names))]
    return ("\n".join(lines) + "\n").encode()


def fill(shapes: list[str], n: int) -> None:
    from moto.s3.models import s3_backends

    backend = s3_backends["123456789012"]["aws"]
    for shape in shapes:
        for i in range(n):
            backend.put_object(BUCKET, key_of(shape, i), body_of(shape, i))


def serve(port: int, shapes: list[str], n: int, ready, stop) -> None:
    """Child process: moto's server on 127.0.0.1:port with a filled bucket, until ``stop``."""
    import logging

    from bench_s3_list import speed_up_moto_listing

    speed_up_moto_listing()  # moto's listing is quadratic; the pages are the same
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    import boto3

    boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                 aws_access_key_id="testing", aws_secret_access_key="testing").create_bucket(Bucket=BUCKET)
    started = time.perf_counter()
    fill(shapes, n)
    ready.put(time.perf_counter() - started)
    stop.wait()
    server.stop()


def fetch_all(prefix: str, threads: int) -> tuple[int, int]:
    """The baseline: list the prefix, GET every object in a thread pool; (objects, bytes)."""
    from concurrent.futures import ThreadPoolExecutor

    import boto3
    from botocore.config import Config

    s3 = boto3.client("s3", config=Config(max_pool_connections=threads))
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix + "/"):
        keys.extend(o["Key"] for o in page.get("Contents", ()))

    def get(key: str) -> int:
        return len(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())

    with ThreadPoolExecutor(threads) as pool:
        return len(keys), sum(pool.map(get, keys))


def timed(fn):
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def run_shape(shape: str, n: int, threads: int, repeat: int, out_root: str) -> dict:
    """Times of one shape, ``repeat`` times over: ATTACH, PROFILE and EXTRACT, each compared with
    the mean of the baseline fetches just before and just after it (the machine may be busy)."""
    from hydra.statements.workspace import Workspace

    out = os.path.join(out_root, shape)

    def attach(ws):
        ws.execute(f"ATTACH 's3://{BUCKET}/{shape}' AS lake")

    def profile(ws):
        result = ws.execute("PROFILE lake.*")
        failed = [r for r in result.rows if r[3] == "failed"]
        assert not failed and sum(r[1] or 0 for r in result.rows) == n * ROWS, (shape, failed[:3])

    def extract(ws):
        result = ws.execute(f"EXTRACT lake.* TO '{out}'")
        assert all(r[1] == "done" for r in result.rows), (shape, result.rows[:3])
        assert sum(r[2] for r in result.rows) == n * ROWS, shape

    def baseline() -> float:
        seconds, (count, _size) = timed(lambda: fetch_all(shape, threads))
        assert count == n, (shape, count)
        return seconds

    times: dict[str, list[float]] = {"boto3": [], "ATTACH": [], "PROFILE": [], "EXTRACT": []}
    ratios: dict[str, list[float]] = {"ATTACH": [], "PROFILE": [], "EXTRACT": []}
    for _ in range(repeat):
        ws = Workspace.open(":memory:")
        try:
            before = baseline()
            for name, statement in (("ATTACH", attach), ("PROFILE", profile), ("EXTRACT", extract)):
                seconds, _ = timed(lambda: statement(ws))  # noqa: B023 - runs now
                after = baseline()
                times[name].append(seconds)
                times["boto3"].append(after)
                ratios[name].append(seconds / ((before + after) / 2))
                before = after
            elements = ws.query("SELECT count(*), count(column_count) FROM elements")[0]
        finally:
            ws.close()
            shutil.rmtree(out, ignore_errors=True)
    print(f"{shape:14} {n:,} objects, {elements[0]:,} element(s), {elements[1]:,} with columns; ratios: "
          + "; ".join(f"{k} {', '.join(f'{r:.2f}' for r in v)}" for k, v in ratios.items()), flush=True)
    return {"times": times, "ratios": ratios}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=5000)
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--threads", type=int, default=16, help="the baseline's GET threads")
    parser.add_argument("--repeat", type=int, default=3, help="runs per shape; medians are shown")
    args = parser.parse_args()
    shapes = [s.strip() for s in args.shapes.split(",") if s.strip()]
    unknown = set(shapes) - set(SHAPES)
    if unknown:
        parser.error(f"unknown shape {sorted(unknown)[0]}; shapes: {', '.join(SHAPES)}")

    import multiprocessing as mp

    from bench_s3_list import free_port

    port = free_port()
    os.environ.update(AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}", AWS_ACCESS_KEY_ID="testing",
                      AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
    os.environ.pop("AWS_PROFILE", None)
    ctx = mp.get_context("spawn")
    ready, stop = ctx.Queue(), ctx.Event()
    child = ctx.Process(target=serve, args=(port, shapes, args.objects, ready, stop), daemon=True)
    child.start()
    out_root = tempfile.mkdtemp(prefix="hydra-bench-s3-")
    try:
        setup = ready.get(timeout=1800)
        print(f"setup: {len(shapes)} × {args.objects:,} objects in {setup:.1f} s (moto backend, child process); "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        results = {shape: run_shape(shape, args.objects, args.threads, args.repeat, out_root) for shape in shapes}
        print()
        print(f"{'shape':14} {'boto3 GETs':>10} {'ATTACH':>15} {'PROFILE':>15} {'EXTRACT':>15}"
              f"   (median seconds, and median ratio to the boto3 fetches around each statement; "
              f"{args.repeat} run{'s' * (args.repeat != 1)})")
        for shape, found in results.items():
            median = {k: (statistics.median(found["times"][k]), statistics.median(found["ratios"][k]))
                      for k in ("ATTACH", "PROFILE", "EXTRACT")}
            cells = "".join(f" {seconds:7.2f} {ratio:5.2f}×" for seconds, ratio in median.values())
            print(f"{shape:14} {statistics.median(found['times']['boto3']):10.2f}{cells}")
        print(f"load average after: {os.getloadavg()[0]:.1f}")
    finally:
        stop.set()
        child.join(10)
        shutil.rmtree(out_root, ignore_errors=True)


if __name__ == "__main__":
    main()
