"""Benchmark: listing a bucket into ``s3_objects`` vs the bare ``list_objects_v2`` pages.

    /tmp/venv/bin/python bench/bench_s3_list.py [--objects 100000] [--repeat 3]

Starts moto's S3 server on 127.0.0.1 (real HTTP) in a child process, fills a bucket with N small
objects there (written straight into moto's backend: setup speed is not what is measured), then
times, in one run and against the same server, alternating the two listings:

* ``bare``: boto3 ``list_objects_v2`` pages of 1,000 keys, touching every key (the baseline);
* ``hydra``: ``S3Head.list_objects()`` — the same pages as the Arrow ``s3_objects`` table
  (``hydra.heads.aws.list_objects_table``: presigned page URLs parsed with ElementTree into columns);
* ``hydra-boto``: the same table built from boto3's parsed pages (``fast=False``, the fallback);
* ``plan``: ``S3Head.enumerate()`` on top of a listing (elements from keys, no reads);
* ``attach``: ``ATTACH 's3://bucket' AS lake`` through a workspace, rows inserted into DuckDB.

It prints the best of ``--repeat`` runs and the ratios to bare.

moto's own ListObjectsV2 sorts the whole bucket for every page (quadratic: 100,000 keys take
minutes per listing, all of it server time), so the server child replaces it with a sorted-index
version that returns the same pages; ``--moto-as-is`` keeps moto's.
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


def speed_up_moto_listing() -> None:
    """Serve ListObjectsV2 pages from a sorted key index (same pages, tokens and keys as moto)."""
    import bisect

    from moto.s3 import models

    original = models.S3Backend.list_objects_v2
    index: dict[int, tuple[int, list[str]]] = {}

    def list_objects_v2(self, bucket, prefix, delimiter, continuation_token, start_after, max_keys):
        if delimiter or type(bucket) is not models.FakeBucket:
            return original(self, bucket, prefix, delimiter, continuation_token, start_after, max_keys)
        cached = index.get(id(bucket))
        if cached is None or cached[0] != len(bucket.keys):
            cached = index[id(bucket)] = (len(bucket.keys), sorted(bucket.keys.keys()))
        names, prefix = cached[1], prefix or ""
        at = bisect.bisect_left(names, prefix)
        if continuation_token or start_after:
            limit = self._pagination_tokens.get(continuation_token) if continuation_token else start_after
            at = max(at, bisect.bisect_right(names, limit))
        found = []
        while at < len(names) and len(found) <= max_keys and names[at].startswith(prefix):
            key = bucket.keys[names[at]]
            if not isinstance(key, models.FakeDeleteMarker):
                found.append(key)
            at += 1
        return self._truncate_result(found, max_keys)

    models.S3Backend.list_objects_v2 = list_objects_v2


def serve(port: int, n: int, ready, stop, as_is: bool = False) -> None:
    """Child process: moto's server on 127.0.0.1:port with a filled bucket, until ``stop``."""
    import logging

    if not as_is:
        speed_up_moto_listing()

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
    parser.add_argument("--moto-as-is", action="store_true", help="keep moto's quadratic listing")
    args = parser.parse_args()

    import multiprocessing as mp

    port = free_port()
    os.environ.update(AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}", AWS_ACCESS_KEY_ID="testing",
                      AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
    os.environ.pop("AWS_PROFILE", None)
    ctx = mp.get_context("spawn")
    ready, stop = ctx.Queue(), ctx.Event()
    child = ctx.Process(target=serve, args=(port, args.objects, ready, stop, args.moto_as_is), daemon=True)
    child.start()
    try:
        print(f"setup: {args.objects:,} objects in {ready.get(timeout=600):.1f} s (moto backend, child process)")

        from hydra.heads import aws
        from hydra.heads.s3.head import S3Head
        from hydra.statements.workspace import Workspace

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

        def hydra_boto():
            return aws.list_objects_table(head._client, BUCKET, fast=False).num_rows

        def plan():
            return sum(1 for _ in head.enumerate())

        def attach():
            ws = Workspace.open(":memory:")
            try:
                ws.execute(f"ATTACH 's3://{BUCKET}' AS lake")
                return ws.query("SELECT count(*) FROM s3_objects")[0][0]
            finally:
                ws.close()

        assert aws.list_objects_table(head._client, BUCKET).equals(
            aws.list_objects_table(head._client, BUCKET, fast=False)), "fast and boto3 tables differ"
        runs: dict[str, list[float]] = {"bare": [], "hydra": [], "hydra-boto": []}
        counts = {}
        for _ in range(args.repeat):  # alternate, so that drift hits all alike
            for name, fn in (("bare", bare), ("hydra", hydra_list), ("hydra-boto", hydra_boto)):
                t, counts[name] = best(fn, 1)
                runs[name].append(t)
        t_plan, n_elements = best(plan, 1)
        t_attach, n_rows = best(attach, 1)
        assert set(counts.values()) == {args.objects} and n_rows == args.objects, (counts, n_rows)
        pages = -(-args.objects // 1000)
        b = min(runs["bare"])
        print(f"{args.objects:,} objects, {pages} ListObjectsV2 pages, best of {args.repeat} "
              f"(moto listing {'as is' if args.moto_as_is else 'indexed'})")
        for name, label in (("bare", "bare list_objects_v2 "), ("hydra", "hydra s3_objects    "),
                            ("hydra-boto", "hydra via boto3 parse")):
            t = min(runs[name])
            print(f"{label}: {t:7.2f} s  {args.objects / t:>9,.0f} keys/s  ratio to bare {t / b:5.2f}"
                  f"   (runs: {', '.join(f'{x:.2f}' for x in runs[name])})")
        print(f"enumerate (list+plan): {t_plan:7.2f} s  ({n_elements} elements)")
        print(f"ATTACH via workspace : {t_attach:7.2f} s  ({n_rows:,} rows in s3_objects)")
    finally:
        stop.set()
        child.join(10)


if __name__ == "__main__":
    main()
