"""What both shapes of the S3 head share: one bucket (``S3Head``) and the whole account
(``S3AccountHead``): their options, their tables and the ``s3_buckets`` rows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hydra.heads.base import Option

if TYPE_CHECKING:
    import pyarrow as pa

# Requests in flight at once when ATTACH samples many elements, and when PROFILE or EXTRACT read
# many small ones (also the client's connection pool). Against moto, 16 did as well as 32.
SAMPLE_THREADS = 16
# MAX_OBJECTS when the whole account is attached (s3://): at most 100 ListObjectsV2 requests per
# bucket, so that one bucket of millions of log objects does not hold up the others; the user
# raises it (or gives 0) for a bucket that matters, or attaches that bucket on its own
ACCOUNT_MAX_OBJECTS = 100_000

TABLES = ("s3_objects", "s3_buckets")
ATTACH_OPTIONS = (
    Option("PROFILE", str, help="the AWS profile to take credentials from"),
    Option("REGION", str, help="the bucket's region (asked of S3 when not given); with s3:// "
                               "the region the bucket list is asked of"),
    Option("ENDPOINT", str, help="an S3-compatible endpoint URL (MinIO, a VPC endpoint…)"),
    Option("ANONYMOUS", bool, help="read a public bucket without credentials"),
    Option("MAX_OBJECTS", int, help="list at most n objects per bucket, 0 for all (default: all "
                                    f"for one bucket, {ACCOUNT_MAX_OBJECTS:,} per bucket with s3://); "
                                    "s3_buckets says where a listing was cut"),
)


def is_account_uri(uri: str) -> bool:
    """True for ``s3://`` (or ``s3:///``) with no bucket: the whole account."""
    text = uri.strip()
    return text.lower().startswith("s3://") and not text[5:].strip("/")


_BUCKET_TYPES: dict[str, str] = {
    "bucket": "string", "prefix": "string", "region": "string", "created": "timestamp",
    "listable": "bool", "error": "string", "objects_listed": "int64", "truncated": "bool",
    "cut_after": "string",
}


def buckets_table(rows: list[dict[str, Any]]) -> pa.Table:
    """``s3_buckets`` rows (see ``tables/s3_buckets.sql``) as an Arrow table."""
    import pyarrow as pa

    types = {"string": pa.string(), "timestamp": pa.timestamp("us", tz="UTC"), "bool": pa.bool_(),
             "int64": pa.int64()}
    return pa.table({name: pa.array([r.get(name) for r in rows], types[t]) for name, t in _BUCKET_TYPES.items()})
