"""Benchmark: ``ATTACH 's3://'`` (the whole account) with buckets listed in parallel vs one by one.

    .venv/bin/python bench/bench_s3_account.py [--buckets 12] [--objects 2000] [--repeat 2]

Starts moto's S3 server on 127.0.0.1 (real HTTP) in a child process, with B buckets of N objects
each (1% CSV files, the rest log objects; written straight into moto's backend), then times, in
one run against the same server, alternating:

* ``bare``: boto3 ``list_objects_v2`` of every bucket, one bucket after the other (the baseline:
  what listing the account costs with no catalog at all);
* ``serial``: ``ATTACH 's3://' AS aws`` with ``BUCKET_THREADS = 1``;
* ``parallel``: the same with ``BUCKET_THREADS`` as shipped.

It prints the best of ``--repeat`` runs and the ratios to bare. The load average is printed too:
on a shared machine, only ratios within one run mean anything.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_s3_list import free_port, speed_up_moto_listing  # noqa: E402 - after the path


def serve(port: int, buckets: int, n: int, ready, stop) -> None:
    """Child process: moto's server with ``buckets`` buckets of ``n`` objects, until ``stop``."""
    import logging

    speed_up_moto_listing()
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    import boto3
    from moto.s3.models import s3_backends

    s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    backend = s3_backends["123456789012"]["aws"]
    for b in range(buckets):
        name = f"bench-account-{b:02d}"
        s3.create_bucket(Bucket=name)
        for i in range(n):
            key = f"raw/table_{i}.csv" if i % 100 == 0 else f"logs/{i // 100:04d}/app-{i:07d}.log"
            backend.put_object(name, key, b"a,b\n1,2\n" if key.endswith(".csv") else b"x" * 64)
    ready.put(True)
    stop.wait()
    server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buckets", type=int, default=12)
    parser.add_argument("--objects", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    import multiprocessing as mp

    port = free_port()
    os.environ.update(AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}", AWS_ACCESS_KEY_ID="testing",
                      AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
    os.environ.pop("AWS_PROFILE", None)
    ctx = mp.get_context("spawn")
    ready, stop = ctx.Queue(), ctx.Event()
    child = ctx.Process(target=serve, args=(port, args.buckets, args.objects, ready, stop), daemon=True)
    child.start()
    try:
        ready.get(timeout=900)
        from hydra.heads import aws
        from hydra.heads.s3 import account
        from hydra.statements.workspace import Workspace

        client = aws.client("s3")
        shipped = account.BUCKET_THREADS

        def bare() -> int:
            count = 0
            for bucket in (b["Name"] for b in client.list_buckets()["Buckets"]):
                kwargs = {"Bucket": bucket, "MaxKeys": 1000}
                while True:
                    page = client.list_objects_v2(**kwargs)
                    count += len(page.get("Contents", ()))
                    if not page.get("IsTruncated"):
                        break
                    kwargs["ContinuationToken"] = page["NextContinuationToken"]
            return count

        def attach(threads: int):
            def run() -> int:
                account.BUCKET_THREADS = threads
                ws = Workspace.open(":memory:")
                try:
                    ws.execute("ATTACH 's3://' AS aws")
                    return ws.query("SELECT count(*) FROM s3_objects")[0][0]
                finally:
                    ws.close()
            return run

        runs: dict[str, list[float]] = {"bare": [], "serial": [], "parallel": []}
        for _ in range(args.repeat):  # alternate, so that drift hits all alike
            for name, fn in (("bare", bare), ("serial", attach(1)), ("parallel", attach(shipped))):
                start = time.perf_counter()
                count = fn()
                runs[name].append(time.perf_counter() - start)
                assert count == args.buckets * args.objects, (name, count)
        base = min(runs["bare"])
        print(f"{args.buckets} buckets x {args.objects:,} objects ({args.objects // 100} CSV elements each), "
              f"best of {args.repeat}, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        for name, label in (("bare", "bare list_objects_v2, serial"), ("serial", "ATTACH s3://, 1 bucket at a time"),
                            ("parallel", f"ATTACH s3://, {shipped} buckets at a time")):
            t = min(runs[name])
            print(f"{label:<34}: {t:7.2f} s  ratio to bare {t / base:5.2f}   "
                  f"(runs: {', '.join(f'{x:.2f}' for x in runs[name])})")
    finally:
        stop.set()
        child.join(timeout=30)


if __name__ == "__main__":
    main()
