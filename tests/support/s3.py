"""Putting test data into moto's S3 server (the ``aws_env`` fixture points boto3 at it)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor


def s3_client():
    """A boto3 S3 client for the moto server, with a pool for 16 uploads at once."""
    import boto3
    from botocore.config import Config

    return boto3.client("s3", config=Config(max_pool_connections=16))


def make_bucket(bucket: str, objects: dict[str, bytes] | None = None) -> None:
    """Create ``bucket`` and put ``objects`` into it."""
    s3_client().create_bucket(Bucket=bucket)
    put_all(bucket, objects or {})


def put_all(bucket: str, objects: dict[str, bytes]) -> None:
    """Put ``objects`` (key: bytes) into ``bucket``, 16 at a time."""
    s3 = s3_client()
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda kv: s3.put_object(Bucket=bucket, Key=kv[0], Body=kv[1]), objects.items()))
