"""Benchmark: listing a bucket into ``s3_objects`` vs the bare ``list_objects_v2`` pages.

    /tmp/venv/bin/python bench/bench_s3_list.py [--objects 100000] [--repeat 3]

Starts moto's S3 server on 127.0.0.1 (real HTTP) in a child process, fills a bucket with N small
objects there (written straight into moto's backend: setup speed is not what is measured), then
times, in one run and against the same server, alternating the two listings:

* ``bare``: boto3 ``list_objects_v2`` pages of 1,000 keys, touching every key (the floor);
* ``hydra``: ``S3Head.head_tables()`` — the same pages turned into the Arrow ``s3_objects`` table;
* ``plan``: ``S3Head.enumerate()`` on top of a listing (elements from keys, no reads);
* ``attach``: ``ATTACH 's3://bucket' AS lake`` through a workspace, rows inserted into DuckDB.

It prints the best of ``--repeat`` runs and the ratio hydra / bare.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BUCKET = "bench-bucket"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fill(n: int) -> None:
    """N objects: 1% CSV files in many folders, a hive dataset, the rest log objects."""
    from moto.s3.models import s3_backends

    backend = s3_backends["123456789012"]["aws"]
    for i in range(n):
        if i % 100 == 0:
            key = f"raw/{i // 1000:03d}/table_{i}.csv"
        elif i % 100 == 1:
            key = f"sales/v={i % 7}/part-{i:06d}.parquet"
        else:
            key = f"logs/{i // 10000:02d}/{i // 100:04d}/app-{i:07d}.log"
        backend.put_object(BUCKET, key, b"x" * 64)


def best(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def serve(port: int, n: int, ready, stop) -> None:
    """Child process: moto's server on 127.0.0.1:port with a filled bucket, until ``stop``."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    import boto3

    boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                 aws_access_key_id="testing", aws_secret_access_key="testing").create_bucket(Bucket=BUCKET)
    start = time.perf_counter()
    fill(n)
    ready.put(time.perf_counter() - start)
    stop.wait()
    server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import multiprocessing as mp

    port = free_port()
    os.environ.update(AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}", AWS_ACCESS_KEY_ID="testing",
                      AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
    os.environ.pop("AWS_PROFILE", None)
    ctx = mp.get_context("spawn")
    ready, stop = ctx.Queue(), ctx.Event()
    child = ctx.Process(target=serve, args=(port, args.objects, ready, stop), daemon=True)
    child.start()
    try:
        print(f"setup: {args.objects:,} objects in {ready.get(timeout=600):.1f} s (moto backend, child process)")

        from hydra import aws
        from hydra.heads.s3 import S3Head
        from hydra.workspace import Workspace

        client = aws.client("s3")  # the same client settings Hydra uses

        def bare():
            count, kwargs = 0, {"Bucket": BUCKET, "MaxKeys": 1000}
            while True:
                page = client.list_objects_v2(**kwargs)
                for obj in page.get("Contents", ()):
                    count += 1 if obj["Key"] else 0
                if not page.get("IsTruncated"):
                    return count
                kwargs["ContinuationToken"] = page["NextContinuationToken"]

        head = S3Head("lake", f"s3://{BUCKET}")
        head.open()

        def hydra_list():
            return head.list_objects().num_rows

        def plan():
            return sum(1 for _ in head.enumerate())

        def attach():
            ws = Workspace.open(":memory:")
            try:
                ws.execute(f"ATTACH 's3://{BUCKET}' AS lake")
                return ws.query("SELECT count(*) FROM s3_objects")[0][0]
            finally:
                ws.close()

        bare()  # warm both paths (connection pool, botocore models)
        hydra_list()
        t_bare, t_hydra = [], []
        for _ in range(args.repeat):  # alternate, so that drift hits both alike
            t, n_bare = best(bare, 1)
            t_bare.append(t)
            t, n_hydra = best(hydra_list, 1)
            t_hydra.append(t)
        t_plan, n_elements = best(plan, 1)
        t_attach, n_rows = best(attach, 1)
        assert n_bare == n_hydra == n_rows == args.objects, (n_bare, n_hydra, n_rows)
        pages = -(-args.objects // 1000)
        b, h = min(t_bare), min(t_hydra)
        print(f"bare list_objects_v2 : {b:7.2f} s  best of {args.repeat} ({pages} pages, {n_bare / b:,.0f} keys/s)")
        print(f"hydra s3_objects     : {h:7.2f} s  best of {args.repeat} ({n_hydra / h:,.0f} keys/s)")
        print(f"ratio hydra / bare   : {h / b:7.3f}  (all runs: bare {', '.join(f'{t:.2f}' for t in t_bare)}; "
              f"hydra {', '.join(f'{t:.2f}' for t in t_hydra)})")
        print(f"enumerate (list+plan): {t_plan:7.2f} s  ({n_elements} elements)")
        print(f"ATTACH via workspace : {t_attach:7.2f} s  ({n_rows:,} rows in s3_objects)")
    finally:
        stop.set()
        child.join(10)


if __name__ == "__main__":
    main()
