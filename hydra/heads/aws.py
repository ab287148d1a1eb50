"""Shared AWS plumbing: one way to build boto3 sessions/clients and a pyarrow S3 filesystem.

Used by the S3 and RDS heads and by the S3 transfer target. Settings come from the standard AWS
places, in this order of precedence:

* an explicit argument (an ``ATTACH`` option such as ``PROFILE``, ``REGION``, ``ENDPOINT``);
* the environment: ``AWS_PROFILE``, ``AWS_REGION`` / ``AWS_DEFAULT_REGION``,
  ``AWS_ENDPOINT_URL_<SERVICE>`` (e.g. ``AWS_ENDPOINT_URL_S3``) then ``AWS_ENDPOINT_URL``
  (both ignored when ``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`` is true);
* the shared config/credentials files (``~/.aws/config``: ``region``, ``endpoint_url``);
* credentials from boto3's normal chain (env keys, profile, SSO, assume-role, instance role…).

Public API::

    split_s3_uri("s3://bucket/some/prefix/")  -> ("bucket", "some/prefix/")
    boto3_session(profile=None, region=None)  -> boto3.Session
    client("s3", profile=…, region=…, endpoint=…, session=…) -> a boto3 client
    resolve_endpoint("s3", endpoint=None, session=None) -> str | None
    bucket_region(bucket, …)                  -> the bucket's region (raises on missing/denied)
    list_buckets(s3_client)                   -> every bucket the credentials see (name, created, region)
    list_objects(s3_client, bucket, prefix="", limit=None) -> Listing (table, truncated)
    list_objects_table(s3_client, bucket, prefix="") -> pyarrow.Table of every object (OBJECT_COLUMNS)
    enabled_regions(session, endpoint=None)   -> the account's enabled regions (ec2 DescribeRegions)
    s3_filesystem(profile=None, region=None, endpoint=None, session=None) -> pyarrow.fs.S3FileSystem
    check_region(region, service)             -> raises HeadConnectionError for an unknown region
    error_line(exc, what)                     -> one clear line for a botocore/boto3 exception

Every failure a user can cause is raised as ``HeadConnectionError`` (a ``HydraError``) with one line
of text and no secrets in it. boto3 and pyarrow are imported inside the functions (start-up time).
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hydra.heads.base import HeadConnectionError

if TYPE_CHECKING:
    import boto3
    import pyarrow as pa
    from pyarrow import fs as pafs

_TRUE = ("1", "true", "yes", "on")
# AWS region names: us-east-1, eu-central-2, us-gov-west-1, cn-north-1, us-isob-east-1, …
_REGION_SHAPE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")


# -- URIs -------------------------------------------------------------------------------------------


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/a/b.csv`` -> ``("bucket", "a/b.csv")``; ``s3://bucket`` -> ``("bucket", "")``.

    The key part is returned as written (a trailing ``/`` is kept). Raises ``HeadConnectionError``
    when the text is not an ``s3://`` URI with a bucket name.
    """
    text = uri.strip()
    if not text.lower().startswith("s3://"):
        raise HeadConnectionError(f"not an S3 URI (expected s3://bucket[/prefix]): {text}")
    rest = text[5:]
    bucket, _, key = rest.partition("/")
    if not bucket:
        raise HeadConnectionError(f"S3 URI has no bucket name: {text}")
    return bucket, key


def s3_uri(bucket: str, key: str = "") -> str:
    return f"s3://{bucket}/{key}" if key else f"s3://{bucket}"


# -- sessions, clients, endpoints -------------------------------------------------------------------


def boto3_session(profile: str | None = None, region: str | None = None) -> boto3.Session:
    """A boto3 session from the standard chain; ``profile`` and ``region`` override the env."""
    try:
        import boto3
        from botocore.exceptions import BotoCoreError
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise HeadConnectionError(
            "AWS support needs boto3: pip install 'hydra-shell[aws]'"
        ) from exc
    try:
        return boto3.Session(profile_name=profile or None, region_name=region or None)
    except BotoCoreError as exc:  # ProfileNotFound and friends
        raise HeadConnectionError(error_line(exc, "AWS session")) from None


def resolve_endpoint(service: str = "s3", endpoint: str | None = None,
                     session: boto3.Session | None = None) -> str | None:
    """The custom endpoint URL for ``service``, or None for AWS's own endpoints.

    Explicit ``endpoint`` > ``AWS_ENDPOINT_URL_<SERVICE>`` > ``AWS_ENDPOINT_URL`` > the profile's
    ``endpoint_url`` in ``~/.aws/config``.
    """
    if endpoint:
        return endpoint
    if os.environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").strip().lower() in _TRUE:
        return None
    env_name = "AWS_ENDPOINT_URL_" + re.sub(r"[^A-Za-z0-9]", "_", service).upper()
    for name in (env_name, "AWS_ENDPOINT_URL"):
        value = os.environ.get(name)
        if value:
            return value
    if session is not None:
        try:
            scoped = session._session.get_scoped_config()  # noqa: SLF001 - botocore has no API
        except Exception:  # noqa: BLE001 - a broken config file is reported by boto3 itself later
            scoped = {}
        if scoped.get("endpoint_url"):
            return scoped["endpoint_url"]
    return None


@functools.cache
def known_regions(service: str) -> frozenset[str]:
    """Regions botocore knows for ``service`` in every partition (aws, aws-cn, aws-us-gov, …)."""
    session = boto3_session()
    regions: set[str] = set()
    for partition in session.get_available_partitions():
        regions.update(session.get_available_regions(service, partition_name=partition))
    return frozenset(regions)


def check_region(region: str | None, service: str = "s3") -> None:
    """Raise ``HeadConnectionError`` with one line when ``region`` is not an AWS region."""
    if not region:
        return
    if region in known_regions(service):
        return
    if not _REGION_SHAPE.match(region):
        raise HeadConnectionError(f"unknown AWS region '{region}'")
    raise HeadConnectionError(
        f"unknown AWS region '{region}' for {service} (not in botocore's region list; "
        "upgrade boto3 if the region is new)"
    )


def client(service: str, profile: str | None = None, region: str | None = None,
           endpoint: str | None = None, session: boto3.Session | None = None,
           anonymous: bool = False, **config: Any):
    """A boto3 client with Hydra's settings (retries in standard mode, modest timeouts)."""
    session = session or boto3_session(profile, region)  # first: a missing boto3 is one line
    from botocore.config import Config

    kwargs: dict[str, Any] = {}
    url = resolve_endpoint(service, endpoint, session)
    if url:
        kwargs["endpoint_url"] = url
    cfg = {"retries": {"mode": "standard", "max_attempts": 5}, "connect_timeout": 10,
           "read_timeout": 60, **config}
    if anonymous:
        from botocore import UNSIGNED

        cfg["signature_version"] = UNSIGNED
    if service == "s3" and url:
        cfg.setdefault("s3", {"addressing_style": "path"})
    if service == "s3" and not anonymous:
        cfg.setdefault("signature_version", "s3v4")  # presigned URLs too (SigV2 is refused by
        # every region opened since 2014, and botocore still presigns with it by default)
    try:
        return session.client(service, region_name=region or session.region_name or None,
                              config=Config(**cfg), **kwargs)
    except Exception as exc:  # noqa: BLE001 - botocore raises many types for bad settings
        raise HeadConnectionError(error_line(exc, f"AWS {service} client")) from None


# -- S3 ---------------------------------------------------------------------------------------------


def bucket_region(bucket: str, s3_client=None, *, profile: str | None = None,
                  region: str | None = None, endpoint: str | None = None) -> str:
    """Check that ``bucket`` exists and is accessible; return its region.

    Uses one ``HeadBucket`` request. A missing bucket, denied access, missing credentials or an
    unreachable endpoint raise ``HeadConnectionError`` with one line.
    """
    from botocore.exceptions import ClientError

    s3 = s3_client or client("s3", profile=profile, region=region, endpoint=endpoint)
    try:
        response = s3.head_bucket(Bucket=bucket)
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        headers = exc.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
        found = headers.get("x-amz-bucket-region")
        if code in ("301", "PermanentRedirect") and found:
            # The bucket lives in another region: ask there (a second HeadBucket).
            return bucket_region(bucket, None, profile=profile, region=found, endpoint=endpoint)
        if code in ("404", "NoSuchBucket", "NotFound"):
            raise HeadConnectionError(f"S3 bucket '{bucket}' does not exist") from None
        if code in ("403", "AccessDenied", "Forbidden"):
            raise HeadConnectionError(
                f"access denied to S3 bucket '{bucket}' (check the credentials, PROFILE or "
                "the bucket policy)"
            ) from None
        if code in ("400", "BadRequest") and found and region and found != region:
            raise HeadConnectionError(
                f"S3 bucket '{bucket}' is in region {found}, not {region}"
            ) from None
        raise HeadConnectionError(error_line(exc, f"S3 bucket '{bucket}'")) from None
    except Exception as exc:  # noqa: BLE001 - connection errors, no credentials, …
        raise HeadConnectionError(error_line(exc, f"S3 bucket '{bucket}'")) from None
    headers = response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    return (response.get("BucketRegion") or headers.get("x-amz-bucket-region")
            or region or s3.meta.region_name or "us-east-1")


def list_buckets(s3_client) -> list[dict[str, Any]]:
    """Every bucket the credentials can see (paginated ``ListBuckets``), as dicts with ``name``,
    ``created`` and ``region`` (None when S3 did not say: older endpoints and S3-compatible
    stores leave ``BucketRegion`` out). Raises ``HeadConnectionError`` with one line."""
    try:
        if s3_client.can_paginate("list_buckets"):
            pages = s3_client.get_paginator("list_buckets").paginate()
        else:  # pragma: no cover - botocore before ListBuckets was paginated (2024)
            pages = [s3_client.list_buckets()]
        return [{"name": b["Name"], "created": b.get("CreationDate"), "region": b.get("BucketRegion")}
                for page in pages for b in page.get("Buckets", ())]
    except Exception as exc:  # noqa: BLE001 - denied, no credentials, unreachable endpoint, …
        raise HeadConnectionError(error_line(exc, "listing the S3 buckets")) from None


def enabled_regions(session: boto3.Session, endpoint: str | None = None) -> list[str]:
    """The regions the account has enabled (``ec2:DescribeRegions``, which leaves out opt-in
    regions not opted into). Raises ``HeadConnectionError`` with one line."""
    region = session.region_name or "us-east-1"
    ec2 = client("ec2", region=region, endpoint=endpoint, session=session)
    try:
        found = ec2.describe_regions(AllRegions=False)
    except Exception as exc:  # noqa: BLE001 - denied, no credentials, unreachable endpoint, …
        raise HeadConnectionError(error_line(exc, "listing the enabled AWS regions")) from None
    return sorted(r["RegionName"] for r in found.get("Regions", ())
                  if r.get("OptInStatus") in (None, "opt-in-not-required", "opted-in"))


def s3_filesystem(profile: str | None = None, region: str | None = None,
                  endpoint: str | None = None, session: boto3.Session | None = None,
                  anonymous: bool = False, **kwargs: Any) -> pafs.S3FileSystem:
    """A ``pyarrow.fs.S3FileSystem`` with the same settings boto3 would use.

    Credentials are taken from boto3's chain (so profiles, SSO and assume-role work exactly as in
    the AWS CLI) and handed to pyarrow as short-lived values; call again to refresh them. Paths on
    the returned filesystem are ``bucket/key`` (no ``s3://``). ``kwargs`` go to S3FileSystem
    (e.g. ``request_timeout``, ``background_writes``).
    """
    from pyarrow import fs as pafs

    session = session or boto3_session(profile, region)
    args: dict[str, Any] = {
        "region": region or session.region_name or "us-east-1",
        "connect_timeout": 10,
        "request_timeout": 60,
    }
    url = resolve_endpoint("s3", endpoint, session)
    if url:
        scheme, sep, hostport = url.partition("://")
        if not sep:
            scheme, hostport = "https", url
        args["endpoint_override"] = hostport.rstrip("/")
        args["scheme"] = scheme.lower()
    if anonymous:
        args["anonymous"] = True
    else:
        credentials = session.get_credentials()
        if credentials is not None:
            frozen = credentials.get_frozen_credentials()
            args["access_key"] = frozen.access_key
            args["secret_key"] = frozen.secret_key
            if frozen.token:
                args["session_token"] = frozen.token
    args.update(kwargs)
    try:
        return pafs.S3FileSystem(**args)
    except Exception as exc:  # noqa: BLE001 - pyarrow's error becomes one clear line
        raise HeadConnectionError(error_line(exc, "S3 filesystem")) from None


# -- listing --------------------------------------------------------------------------------------

OBJECT_COLUMNS = ("bucket", "key", "size", "etag", "last_modified", "storage_class")
_S3_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


@dataclass
class Listing:
    """A listing of a bucket (or a prefix of it): its objects and whether it was cut short."""

    table: pa.Table  # OBJECT_COLUMNS, in key order
    truncated: bool = False  # more objects follow the last one listed (a cap was reached)

    @property
    def last_key(self) -> str | None:
        keys = self.table.column("key")
        return keys[len(keys) - 1].as_py() if len(keys) else None


def list_objects_table(s3_client, bucket: str, prefix: str = "", fast: bool = True):
    """Every object under ``prefix`` as an Arrow table with ``OBJECT_COLUMNS`` (see ``list_objects``)."""
    return list_objects(s3_client, bucket, prefix, fast).table


def list_objects(s3_client, bucket: str, prefix: str = "", fast: bool = True,
                 limit: int | None = None) -> Listing:
    """The objects under ``prefix``, at most ``limit`` of them (None or 0: all).

    Paginated ``ListObjectsV2`` (1,000 keys per call), no per-object requests. With ``fast`` (the
    default) each page is fetched through a URL presigned by the client and parsed with
    ElementTree into columns, which skips botocore's per-object response parsing (most of the
    client-side cost of a listing); any surprise (an HTTP error, a redirect, an odd body) falls
    back to the client's own ``list_objects_v2`` from that page on, so errors surface exactly as
    boto3 reports them. With a ``limit`` the last page asks for no more keys than are left, so
    S3's own ``IsTruncated`` says whether the cap cut the listing.
    """
    import pyarrow as pa

    schema = pa.schema([("bucket", pa.string()), ("key", pa.string()), ("size", pa.int64()),
                        ("etag", pa.string()), ("last_modified", pa.timestamp("us", tz="UTC")),
                        ("storage_class", pa.string())])
    batches = []  # one Arrow batch per page: memory stays columnar for millions of keys
    params: dict[str, Any] = {"Bucket": bucket, "MaxKeys": 1000}
    if prefix:
        params["Prefix"] = prefix
    listed, truncated = 0, False
    while True:
        if limit:
            params["MaxKeys"] = min(1000, limit - listed)
        batch = None
        if fast:
            page = _fast_page(s3_client, params)
            if page is not None:
                try:
                    batch = _page_batch(schema, bucket, page["columns"])
                except Exception:  # noqa: BLE001 - unexpected text: this page through boto3
                    batch = None
            fast = batch is not None
        if batch is None:
            page = _boto_page(s3_client, params)
            batch = _page_batch(schema, bucket, page["columns"])
        batches.append(batch)
        listed += batch.num_rows
        token = page["token"]
        if not token:
            break
        if limit and listed >= limit:
            truncated = True
            break
        params["ContinuationToken"] = token
    return Listing(pa.Table.from_batches(batches, schema=schema), truncated)


def _page_batch(schema, bucket: str, cols: dict[str, list]):
    """One page's columns as a RecordBatch (sizes and dates may be text from the fast path)."""
    import pyarrow as pa

    n = len(cols["key"])
    modified, sizes = cols["last_modified"], cols["size"]
    text = bool(n) and isinstance(modified[0], str)
    return pa.RecordBatch.from_arrays([
        pa.array([bucket] * n, pa.string()),
        pa.array(cols["key"], pa.string()),
        pa.array(sizes, pa.string()).cast(pa.int64()) if text else pa.array(sizes, pa.int64()),
        pa.array(cols["etag"], pa.string()),
        (pa.array(modified, pa.string()).cast(schema.field("last_modified").type) if text
         else pa.array(modified, schema.field("last_modified").type)),
        pa.array(cols["storage_class"], pa.string()),
    ], schema=schema)


def _boto_page(s3_client, params: dict[str, Any]) -> dict[str, Any]:
    page = s3_client.list_objects_v2(**params)
    contents = page.get("Contents", ())
    cols = {
        "key": [o["Key"] for o in contents],
        "size": [o.get("Size") for o in contents],
        "etag": [(o.get("ETag") or "").strip('"') or None for o in contents],
        "last_modified": [o.get("LastModified") for o in contents],
        "storage_class": [o.get("StorageClass") for o in contents],
    }
    token = page.get("NextContinuationToken") if page.get("IsTruncated") else None
    return {"columns": cols, "token": token}


def _fast_page(s3_client, params: dict[str, Any]) -> dict[str, Any] | None:
    """One page through a presigned URL and ElementTree; None when anything is unexpected."""
    try:
        from urllib.parse import unquote_plus
        from xml.etree import ElementTree

        from botocore.awsrequest import AWSRequest

        url = s3_client.generate_presigned_url(
            "list_objects_v2", Params={**params, "EncodingType": "url"}, ExpiresIn=900)
        request = AWSRequest(method="GET", url=url).prepare()
        response = s3_client._endpoint.http_session.send(request)  # noqa: SLF001 - botocore's
        # own HTTP session: same proxies, CA bundle and connection pool as the client
        if response.status_code != 200:
            return None
        root = ElementTree.fromstring(response.content)
    except Exception:  # noqa: BLE001 - the boto3 path reports the real error
        return None
    if root.tag != _S3_NS + "ListBucketResult":
        return None
    keys, sizes, etags, modified, classes = [], [], [], [], []
    truncated, token, encoded = False, None, False
    for child in root:
        tag = child.tag[len(_S3_NS):]
        if tag == "Contents":
            fields = {c.tag[len(_S3_NS):]: c.text for c in child}
            keys.append(fields.get("Key") or "")
            sizes.append(fields.get("Size") or "0")
            etag = fields.get("ETag")
            etags.append(etag.strip('"') if etag else None)
            modified.append(fields.get("LastModified"))
            classes.append(fields.get("StorageClass"))
        elif tag == "IsTruncated":
            truncated = (child.text or "").strip().lower() == "true"
        elif tag == "NextContinuationToken":
            token = child.text
        elif tag == "EncodingType":
            encoded = (child.text or "").strip().lower() == "url"
    if encoded:
        keys = [unquote_plus(k) for k in keys]
    if any(m is None for m in modified) or (truncated and not token):
        return None
    return {"columns": {"key": keys, "size": sizes, "etag": etags, "last_modified": modified,
                        "storage_class": classes},
            "token": token if truncated else None}


# -- errors -----------------------------------------------------------------------------------------


def error_line(exc: BaseException, what: str = "AWS") -> str:
    """One clear line for an AWS error, with no secrets and no traceback."""
    name = type(exc).__name__
    try:
        from botocore import exceptions as bx
    except ImportError:  # pragma: no cover
        bx = None
    if bx is not None:
        if isinstance(exc, bx.NoCredentialsError):
            return (f"{what}: no AWS credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID, "
                    "or use PROFILE)")
        if isinstance(exc, bx.ProfileNotFound):
            return f"{what}: AWS profile not found: {exc.kwargs.get('profile', '')}"
        if isinstance(exc, (bx.EndpointConnectionError, bx.ConnectTimeoutError)):
            return f"{what}: cannot reach {exc.kwargs.get('endpoint_url', 'the AWS endpoint')}"
        if isinstance(exc, bx.ClientError):
            err = exc.response.get("Error", {})
            code = err.get("Code") or "error"
            message = err.get("Message") or ""
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in ("InvalidClientTokenId", "UnrecognizedClientException",
                        "SignatureDoesNotMatch", "InvalidAccessKeyId", "ExpiredToken",
                        "ExpiredTokenException"):
                return f"{what}: AWS refused the credentials ({code})"
            if code in ("AccessDenied", "AccessDeniedException", "403"):
                return f"{what}: access denied"
            text = f"{code}: {message}" if message else f"{code}" + (
                f" (HTTP {status})" if status and str(status) != code else "")
            return f"{what}: {_one_line(text)}"
        if isinstance(exc, bx.BotoCoreError):
            return f"{what}: {_one_line(str(exc))}"
    return f"{what}: {_one_line(str(exc)) or name}"


def _one_line(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= 300 else text[:297] + "..."
