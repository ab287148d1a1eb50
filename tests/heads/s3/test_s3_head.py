"""S3 head against moto's S3 server on 127.0.0.1 (real HTTP through boto3 and pyarrow's S3 client).

moto is a simulation of S3's API, so these tests carry the ``simulated`` marker.
"""

from __future__ import annotations

import gzip
import io
import json
from datetime import date

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from support.s3 import put_all
from support.s3 import s3_client as _s3

from hydra.core.model import Element
from hydra.core.quals import parse, to_arrow, to_sql
from hydra.heads.base import HeadConnectionError, HeadError
from hydra.heads.s3.head import S3Head, classify, dataset_members, plan_elements
from support.quals import accepts, quals

pytestmark = pytest.mark.simulated

BUCKET = "client-landing"
ORDERS_CSV = b"id,customer,amount,ordered_on\n1,acme,10.5,2024-01-02\n2,globex,20.0,2024-02-03\n3,initech,,2024-03-04\n"


def _parquet(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def _sales(v: int) -> pa.Table:
    return pa.table({
        "id": pa.array(range(v * 1000, v * 1000 + 1000), pa.int64()),
        "amount": pa.array([i * 0.5 for i in range(1000)], pa.float64()),
        "category": pa.array(["abc"[i % 3] for i in range(1000)], pa.string()),
        "day": pa.array([date(2024, 1, 1 + i % 28) for i in range(1000)], pa.date32()),
    })


def _put_all(objects: dict[str, bytes]) -> None:
    put_all(BUCKET, objects)


@pytest.fixture
def small_lake(aws_env):
    """A bucket with one file of every readable kind, a hive dataset, a flat dataset and junk."""
    zst = pa.BufferOutputStream()
    with pa.CompressedOutputStream(zst, "zstd") as out:
        out.write(b"k,v\nx,1\ny,2\n")
    _s3().create_bucket(Bucket=BUCKET)
    _put_all({
        "raw/2024/orders.csv": ORDERS_CSV,
        "raw/2024/orders.tsv.gz": gzip.compress(ORDERS_CSV.replace(b",", b"\t")),
        "raw/2024/pairs.csv.zst": zst.getvalue().to_pybytes(),
        "raw/events.jsonl": b'{"id": 1, "kind": "a"}\n{"id": 2, "kind": "b"}\n',
        "raw/people.json": json.dumps([{"name": "ann", "age": 31}, {"name": "bob", "age": 42}]).encode(),
        "sales/v=1/part-0.parquet": _parquet(_sales(1)),
        "sales/v=2/part-0.parquet": _parquet(_sales(2)),
        "sales/v=3/part-0.parquet": _parquet(_sales(3)),
        "sales/_SUCCESS": b"",
        "exports/orders/part-00000.csv": b"id,total\n1,5\n2,6\n",
        "exports/orders/part-00001.csv": b"id,total\n3,7\n",
        "notes/readme.txt": b"hello",
        "bin/blob.bin": b"\x00\x01",
    })
    return aws_env


@pytest.fixture
def big_lake(small_lake):
    """small_lake plus 1,500 small log objects (two ListObjectsV2 pages and more)."""
    _put_all({f"logs/2024/app-{i:05d}.log": b"GET / 200\n" for i in range(1500)})
    return small_lake


def _head(uri: str = f"s3://{BUCKET}", **options) -> S3Head:
    head = S3Head("lake", uri, options)
    head.open()
    return head


def _elements(head: S3Head) -> dict[tuple[str, ...], Element]:
    return {e.parts: e for e in head.enumerate()}


def _where(text: str):
    """The Quals of a condition written in DuckDB's SQL."""
    return quals(text)


def to_arrow_expression(text: str, schema):
    """The Arrow expression of a condition, or None when it has no Quals or Arrow cannot apply them."""
    found = parse(text)
    return None if found is None else to_arrow(found, schema)


# -- pure planning: which keys make which elements ---------------------------------------------------


@pytest.mark.parametrize("key, expected", [
    ("a/b.csv", ("csv", None)),
    ("a/b.CSV.GZ", ("csv", "gzip")),
    ("b.tsv", ("tsv", None)),
    ("x.csv.zst", ("csv", "zstd")),
    ("x.parquet", ("parquet", None)),
    ("x.pq", ("parquet", None)),
    ("x.jsonl.gz", ("json", "gzip")),
    ("x.ndjson", ("json", None)),
    ("x.json", ("json", None)),
    ("x.parquet.gz", None),
    ("x.txt", None),
    ("x.log", None),
    ("_SUCCESS", None),
    (".hidden.csv", None),
    ("folder/", None),
    ("noext", None),
])
def test_classify(key, expected):
    assert classify(key) == expected


def _plan(keys):
    return {p["name"]: (p["kind"], p["format"], p["hive"], len(p["files"]))
            for p in plan_elements((k, 1, None) for k in keys)}


@pytest.mark.parametrize("keys, expected", [
    # hive-style partitions: one dataset named by the folder above the first key=value
    (["sales/v=1/a.parquet", "sales/v=2/a.parquet", "sales/_SUCCESS"],
     {"sales": ("dataset", "parquet", True, 2)}),
    (["t/year=2024/month=01/p.parquet", "t/year=2024/month=02/p.parquet"],
     {"t": ("dataset", "parquet", True, 2)}),
    # a single partition is still a dataset (its partition column matters)
    (["t/k=1/p.csv"], {"t": ("dataset", "csv", True, 1)}),
    # many parts with one naming pattern: one dataset
    (["exp/o/part-00000.csv", "exp/o/part-00001.csv.gz"], {"exp/o": ("dataset", "csv", False, 2)}),
    (["o/part-00000-3f2a5b1c-1111-2222-3333-444455556666-c000.snappy.parquet",
      "o/part-00001-9bc1d2e3-aaaa-bbbb-cccc-ddddeeeeffff-c000.snappy.parquet"],
     {"o": ("dataset", "parquet", False, 2)}),
    # different tables in one folder stay separate files
    (["raw/2024/orders.csv", "raw/2024/customers.csv"],
     {"raw/2024/orders.csv": ("csv", "csv", False, 1), "raw/2024/customers.csv": ("csv", "csv", False, 1)}),
    # files at the attach root are never merged
    (["part-0.csv", "part-1.csv"], {"part-0.csv": ("csv", "csv", False, 1), "part-1.csv": ("csv", "csv", False, 1)}),
    # spark staging folders, logs and text are not elements
    (["o/_temporary/0/part-0.parquet", "l/a.log", "r.txt"], {}),
    # a stray file of another format beside a hive dataset is its own element
    (["s/v=1/a.parquet", "s/v=2/a.parquet", "s/v=3/notes.csv"],
     {"s": ("dataset", "parquet", True, 2), "s/v=3/notes.csv": ("csv", "csv", False, 1)}),
])
def test_plan_elements(keys, expected):
    assert _plan(keys) == expected


def test_dataset_members_prefers_hive_parts():
    rels = [("v=1/a.parquet", 1, None), ("v=2/a.parquet", 1, None), ("README.csv", 1, None),
            ("_SUCCESS", 0, None), ("v=2/x/odd.parquet", 1, None)]
    assert dataset_members(rels) == ("parquet", True, ["v=1/a.parquet", "v=2/a.parquet"])
    assert dataset_members([("p-1.csv", 1, None), ("p-2.csv", 1, None)]) == ("csv", False, ["p-1.csv", "p-2.csv"])
    assert dataset_members([("a.txt", 1, None)]) is None


# -- predicates -> Arrow expressions -----------------------------------------------------------------

SCHEMA = pa.schema([("i", pa.int64()), ("f", pa.float64()), ("s", pa.string()), ("d", pa.date32()),
                    ("t", pa.timestamp("us")), ("b", pa.bool_()), ("tz", pa.timestamp("us", "UTC")),
                    ("Mixed", pa.int32())])


@pytest.mark.parametrize("predicate, accepted", [
    ("i = 2", True), ("2 < i", True), ("i <> 2", True), ("f >= -1.5", True), ("s = 'x'", True),
    ("d >= DATE '2024-01-02'", True), ("d < '2024-01-02'", True),
    ("t < TIMESTAMP '2024-01-02 10:00:00'", True), ("t >= DATE '2024-01-02'", True),
    ("b = true", True), ("i IN (1, 2, -3)", True), ("NOT i IN (1, 2)", True), ("i NOT IN (1)", True),
    ("i IS NULL", True), ("s IS NOT NULL", True), ("i BETWEEN 1 AND 3", True),
    ("i = 1 AND s = 'x'", True), ("(i = 1 OR s = 'y')", True), ("mixed = 3", True),
    # refused: types that need DuckDB's casts, expressions, functions, unknown columns, subqueries
    ("s = 1", False), ("i = 'x'", False), ("d = 5", False), ("tz < TIMESTAMP '2024-01-01'", False),
    ("i + 1 = 2", False), ("lower(s) = 'x'", False), ("s LIKE 'a%'", False), ("nope = 1", False),
    ("i = f", False), ("i IN (SELECT 1)", False), ("i IN (1, NULL)", False), ("i = 1 OR i + 1 = 3", False),
    ("d < '2024-13-45'", False),
])
def test_predicates_accepted(predicate, accepted):
    assert (to_arrow_expression(predicate, SCHEMA) is not None) is accepted


@pytest.mark.parametrize("predicate", [
    "i = 2", "i <> 2", "i > 1", "f <= 1.5", "s = 'b'", "s > 'a'", "d >= DATE '2024-01-02'",
    "t < TIMESTAMP '2024-01-03 00:00:00'", "b = false", "i IN (1, 3)", "NOT i IN (1, 3)",
    "i IS NULL", "s IS NOT NULL", "i BETWEEN 2 AND 3", "i = 1 OR s = 'c'", "(i > 1 AND f < 3) OR b",
])
def test_predicates_match_duckdb_exactly(predicate):
    """An accepted predicate filters Arrow data to exactly the rows DuckDB's WHERE keeps (NULLs too)."""
    import datetime as dt

    import duckdb

    table = pa.table({
        "i": pa.array([1, 2, 3, None], pa.int64()), "f": [0.5, 1.5, 2.5, None],
        "s": ["a", "b", None, "c"],
        "d": pa.array([date(2024, 1, 1), date(2024, 1, 2), None, date(2024, 1, 3)], pa.date32()),
        "t": pa.array([dt.datetime(2024, 1, 1), None, dt.datetime(2024, 1, 3), dt.datetime(2024, 1, 2)],
                      pa.timestamp("us")),
        "b": [True, False, None, False],
    })
    expression = to_arrow_expression(predicate, table.schema)
    if predicate == "(i > 1 AND f < 3) OR b":
        assert expression is None  # bare boolean columns are not comparisons: refused
        return
    got = sorted(map(str, table.filter(expression).column("i").to_pylist()))
    con = duckdb.connect()
    con.register("tbl", table)
    want = sorted(str(r[0]) for r in con.execute(f"SELECT i FROM tbl WHERE {predicate}").fetchall())
    assert got == want


# -- the head against moto ---------------------------------------------------------------------------


def test_listing_and_elements(big_lake):
    head = _head()
    objects = head.head_tables()["s3_objects"]
    assert isinstance(objects, pa.Table)
    assert objects.num_rows >= 1504
    assert objects.column_names == ["bucket", "key", "size", "etag", "last_modified", "storage_class"]
    keys = set(objects.column("key").to_pylist())
    assert "logs/2024/app-01499.log" in keys and "notes/readme.txt" in keys
    assert set(objects.column("bucket").to_pylist()) == {BUCKET}
    assert not any('"' in e for e in objects.column("etag").to_pylist())

    elements = _elements(head)
    assert set(elements) == {
        ("raw/2024/orders.csv",), ("raw/2024/orders.tsv.gz",), ("raw/2024/pairs.csv.zst",),
        ("raw/events.jsonl",), ("raw/people.json",), ("sales",), ("exports/orders",),
    }
    sales = elements[("sales",)]
    assert sales.kind == "dataset" and sales.path == f"s3://{BUCKET}/sales/"
    assert sales.size_bytes > 0 and sales.modified_at is not None
    assert elements[("raw/2024/orders.csv",)].kind == "csv"
    assert elements[("raw/2024/orders.csv",)].path == f"s3://{BUCKET}/raw/2024/orders.csv"
    assert elements[("exports/orders",)].kind == "dataset"


def _requests(caplog) -> list[str]:
    """HTTP requests moto's server received, from its access log: 'GET /bucket?list-type=2…'."""
    out = []
    for record in caplog.records:
        if record.name == "werkzeug" and '"' in record.getMessage():
            out.append(record.getMessage().split('"')[1].rsplit(" ", 1)[0])
    caplog.clear()
    return out


def _listing_requests(requests: list[str]) -> int:
    return sum(1 for r in requests if r.startswith(f"GET /{BUCKET}?") and "list-type=2" in r)


def test_listing_is_paginated_without_per_object_requests(big_lake, caplog):
    """One ListObjectsV2 request per 1,000 keys and nothing else, counted at the server."""
    import logging

    head = _head()
    caplog.set_level(logging.INFO, logger="werkzeug")
    caplog.clear()
    table = head.list_objects()
    requests = _requests(caplog)
    assert table.num_rows >= 1504
    pages = -(-table.num_rows // 1000)
    assert _listing_requests(requests) == pages and len(requests) == pages, requests
    assert all("max-keys=1000" in r for r in requests)
    assert all("X-Amz-Signature=" in r for r in requests), requests  # the fast path: presigned URLs


def test_fast_listing_equals_boto3_listing(big_lake):
    """The presigned-URL/ElementTree pages give exactly the table boto3's parsed pages give."""
    from hydra.heads.aws import list_objects_table

    _put_all({"odd/ key with spaces+plus&amp<lt>é€.csv": b"a\n1\n", "odd/%41%2F.csv": b"a\n2\n"})
    head = _head()
    fast = list_objects_table(head._client, BUCKET)
    slow = list_objects_table(head._client, BUCKET, fast=False)
    assert fast.equals(slow)
    assert "odd/ key with spaces+plus&amp<lt>é€.csv" in fast.column("key").to_pylist()
    assert "odd/%41%2F.csv" in fast.column("key").to_pylist()
    assert list_objects_table(head._client, BUCKET, "odd/").num_rows == 2


def test_listing_error_after_attach_is_one_line(aws_env):
    """A bucket that disappears after ATTACH: the fast path steps aside, boto3's error is reported."""
    s3 = _s3()
    s3.create_bucket(Bucket="short-lived")
    s3.put_object(Bucket="short-lived", Key="a.csv", Body=b"a\n1\n")
    head = _head("s3://short-lived")
    s3.delete_object(Bucket="short-lived", Key="a.csv")
    s3.delete_bucket(Bucket="short-lived")
    with pytest.raises(HeadConnectionError) as err:
        head.list_objects()
    assert str(err.value).startswith("listing s3://short-lived: NoSuchBucket")
    assert "\n" not in str(err.value) and "X-Amz" not in str(err.value)


def test_one_listing_per_scan(small_lake, caplog):
    import logging

    head = _head()
    caplog.set_level(logging.INFO, logger="werkzeug")
    caplog.clear()
    list(head.enumerate())
    head.head_tables()
    assert _listing_requests(_requests(caplog)) == 1
    list(head.enumerate())  # a new scan (REFRESH) lists again
    assert _listing_requests(_requests(caplog)) == 1


def test_prefix_attach(small_lake):
    head = _head(f"s3://{BUCKET}/raw/2024")
    assert set(_elements(head)) == {("orders.csv",), ("orders.tsv.gz",), ("pairs.csv.zst",)}
    keys = head.head_tables()["s3_objects"].column("key").to_pylist()
    assert all(k.startswith("raw/2024/") for k in keys) and len(keys) == 3


def test_hive_dataset_read_with_partition_filter(small_lake):
    head = _head()
    sales = _elements(head)[("sales",)]
    columns = head.schema(sales)
    assert [(c.name, c.type) for c in columns] == [
        ("id", "BIGINT"), ("amount", "DOUBLE"), ("category", "VARCHAR"), ("day", "DATE"), ("v", "INTEGER")]
    predicate = _where("v = 2")
    assert accepts(head, sales, "v = 2")
    table = head.read(sales, ["id", "v"], predicate).read_all()
    assert table.num_rows == 1000
    assert table.column_names == ["id", "v"]
    assert set(table.column("v").to_pylist()) == {2}
    assert head.read(sales).read_all().num_rows == 3000
    counted = head.read(sales, []).read_all()  # count(*): only the partition key, from the paths
    assert counted.column_names == ["v"] and counted.num_rows == 3000
    assert head.read(_elements(head)[("raw/2024/orders.csv",)], []).read_all().column_names == ["id"]


def test_dataset_pushdown_and_limit(small_lake):
    head = _head()
    sales = _elements(head)[("sales",)]
    preds = quals("v IN (1, 3)", "category = 'b'", "day BETWEEN DATE '2024-01-05' AND DATE '2024-01-06'")
    assert all(head.can_filter(sales, p) for p in preds)
    rows = head.read(sales, ["id", "category", "day", "v"], preds).read_all().to_pylist()
    expected = [r for v in (1, 3) for r in _sales(v).to_pylist()
                if r["category"] == "b" and date(2024, 1, 5) <= r["day"] <= date(2024, 1, 6)]
    assert sorted(r["id"] for r in rows) == sorted(r["id"] for r in expected)
    assert head.read(sales, None, _where("v = 1"), limit=7).read_all().num_rows == 7
    assert not accepts(head, sales, "id % 2 = 0")


def test_split_hive_dataset_by_partition(small_lake):
    """split() cuts a hive dataset on its partition key into disjoint, covering ranges."""
    head = _head()
    sales = _elements(head)[("sales",)]
    ranges = head.split(sales, 2)
    assert [[to_sql([p], "duckdb") for p in r] for r in ranges] == [['"v" IN (1, 2)'], ['"v" IN (3)']]
    assert all(head.can_filter(sales, p) for r in ranges for p in r)
    counts = [head.read(sales, ["id", "v"], r).read_all().num_rows for r in ranges]
    assert counts == [2000, 1000]
    assert head.split(sales, 8) == head.split(sales, 3) and len(head.split(sales, 3)) == 3
    assert head.split(_elements(head)[("exports/orders",)], 4) is None  # not hive: no split
    assert head.split(_elements(head)[("raw/2024/orders.csv",)], 4) is None


def test_dataset_sees_new_parts_live(small_lake):
    """Metadata is a snapshot, data is live: a part written after ATTACH is read."""
    head = _head()
    sales = _elements(head)[("sales",)]
    _put_all({"sales/v=4/part-0.parquet": _parquet(_sales(4))})
    assert head.read(sales, ["v"]).read_all().num_rows == 4000


def test_flat_dataset_and_single_files(small_lake):
    head = _head()
    elements = _elements(head)
    assert sorted(head.read(elements[("exports/orders",)]).read_all().column("id").to_pylist()) == [1, 2, 3]

    orders = elements[("raw/2024/orders.csv",)]
    assert [(c.name, c.type) for c in head.schema(orders)] == [
        ("id", "BIGINT"), ("customer", "VARCHAR"), ("amount", "DOUBLE"), ("ordered_on", "DATE")]
    table = head.read(orders).read_all()
    assert table.num_rows == 3 and table.column("customer").to_pylist() == ["acme", "globex", "initech"]
    assert head.read(orders, ["customer"], _where("amount > 15")).read_all().column("customer").to_pylist() == ["globex"]

    tsv = head.read(elements[("raw/2024/orders.tsv.gz",)]).read_all()
    assert tsv.num_rows == 3 and tsv.column_names == ["id", "customer", "amount", "ordered_on"]
    assert head.read(elements[("raw/2024/pairs.csv.zst",)]).read_all().column("k").to_pylist() == ["x", "y"]
    assert head.read(elements[("raw/events.jsonl",)]).read_all().column("kind").to_pylist() == ["a", "b"]
    people = head.read(elements[("raw/people.json",)], None, _where("age > 40")).read_all()
    assert people.column("name").to_pylist() == ["bob"]


def test_anonymous_access(small_lake, monkeypatch):
    """ANONYMOUS true sends unsigned requests (public buckets), for the listing and the reads."""
    for v in (1, 2, 3):  # public objects: moto, like S3, refuses unsigned reads of private ones
        _s3().put_object_acl(Bucket=BUCKET, Key=f"sales/v={v}/part-0.parquet", ACL="public-read")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    head = _head(ANONYMOUS="true")
    assert head.head_tables()["s3_objects"].num_rows == 13
    sales = _elements(head)[("sales",)]
    assert head.read(sales, ["v"], _where("v = 1")).read_all().num_rows == 1000


def test_element_rebuilt_from_catalog_fields_alone(small_lake):
    """A reopened workspace knows only parts/kind/path: reads work from those."""
    head = _head()
    assert head.read(Element(("sales",), "dataset", f"s3://{BUCKET}/sales/"), None, _where("v = 3")).read_all().num_rows == 1000
    assert head.read(Element(("raw/2024/orders.csv",), "csv", f"s3://{BUCKET}/raw/2024/orders.csv")).read_all().num_rows == 3


def test_unreadable_element_is_one_line(small_lake):
    _put_all({"raw/broken.parquet": b"not parquet at all"})
    head = _head()
    broken = _elements(head)[("raw/broken.parquet",)]
    with pytest.raises(HeadError) as err:
        head.read(broken).read_all()
    assert "\n" not in str(err.value) and "raw/broken.parquet" in str(err.value)
    gone = Element(("gone",), "dataset", f"s3://{BUCKET}/gone/")
    with pytest.raises(HeadError, match="no data files"):
        head.read(gone)


@pytest.mark.parametrize("uri, options, message", [
    ("s3://no-such-bucket-here", {}, "S3 bucket 'no-such-bucket-here' does not exist"),
    ("s3://no-such-bucket-here/some/prefix", {}, "S3 bucket 'no-such-bucket-here' does not exist"),
    (f"s3://{BUCKET}", {"REGION": "mars-north-9"}, "unknown AWS region 'mars-north-9'"),
    (f"s3://{BUCKET}", {"REGION": "nowhere"}, "unknown AWS region 'nowhere'"),
    (f"s3://{BUCKET}", {"PROFILE": "no-such-profile"}, "AWS profile not found"),
    # no bucket is the whole account now (test_whole_account.py): its failures are one line too
    ("s3://", {"ENDPOINT": "http://127.0.0.1:9"}, "listing the S3 buckets: cannot reach"),
    ("s3://", {"REGION": "nowhere"}, "unknown AWS region 'nowhere'"),
    (f"s3://{BUCKET}", {"ENDPOINT": "http://127.0.0.1:9"}, "cannot reach"),
])
def test_attach_errors_are_one_line(small_lake, uri, options, message):
    with pytest.raises(HeadConnectionError) as err:
        _head(uri, **options)
    text = str(err.value)
    assert message in text and "\n" not in text and "testing" not in text


def test_error_line_for_denied_and_bad_credentials():
    from botocore.exceptions import ClientError, NoCredentialsError

    from hydra.heads.aws import error_line

    denied = ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"},
                          "ResponseMetadata": {"HTTPStatusCode": 403}}, "ListObjectsV2")
    assert error_line(denied, "S3 bucket 'b'") == "S3 bucket 'b': access denied"
    bad = ClientError({"Error": {"Code": "InvalidAccessKeyId", "Message": "The key AKIA… does not exist"}}, "X")
    assert error_line(bad, "S3") == "S3: AWS refused the credentials (InvalidAccessKeyId)"
    assert "no AWS credentials found" in error_line(NoCredentialsError(), "S3")


def test_endpoint_settings(monkeypatch):
    from hydra.heads.aws import resolve_endpoint, split_s3_uri

    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://general:1")
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    assert resolve_endpoint("s3") == "http://general:1"
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://s3only:2")
    assert resolve_endpoint("s3") == "http://s3only:2"
    assert resolve_endpoint("rds") == "http://general:1"
    assert resolve_endpoint("s3", "http://explicit:3") == "http://explicit:3"
    monkeypatch.setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
    assert resolve_endpoint("s3") is None
    assert split_s3_uri("s3://b/a/b.csv") == ("b", "a/b.csv")
    assert split_s3_uri("S3://b") == ("b", "")


def test_s3_filesystem_helper(small_lake):
    """The helper the S3 target reuses: paths are bucket/key, settings from the environment."""
    from pyarrow import fs as pafs

    from hydra.heads.aws import s3_filesystem

    fs = s3_filesystem()
    info = fs.get_file_info(f"{BUCKET}/raw/2024/orders.csv")
    assert info.type == pafs.FileType.File and info.size == len(ORDERS_CSV)
    with fs.open_output_stream(f"{BUCKET}/out/x.txt") as out:
        out.write(b"written by pyarrow")
    assert _s3().get_object(Bucket=BUCKET, Key="out/x.txt")["Body"].read() == b"written by pyarrow"


# -- end to end through statements ------------------------------------------------------------------


def test_statements_end_to_end(big_lake, ws):
    result = ws.execute(f"ATTACH 's3://{BUCKET}' AS lake")
    assert "lake" in (result.message or "")
    assert ws.execute("SELECT count(*) FROM lake.sales WHERE v = 2").rows == [(1000,)]
    assert ws.execute("SELECT count(*) FROM s3_objects").rows[0][0] >= 1504
    assert ws.execute("SELECT count(*) FROM s3_objects WHERE source = 'lake' AND key LIKE 'logs/%'").rows == [(1500,)]
    rows = ws.execute('SELECT customer FROM lake."raw/2024/orders.csv" ORDER BY id').rows
    assert rows == [("acme",), ("globex",), ("initech",)]
    refs = dict(ws.execute("SELECT ref, kind FROM elements WHERE source = 'lake'").rows)
    assert refs["lake.sales"] == "dataset"
    assert refs['lake."raw/2024/orders.csv"'] == "csv"
    assert 'lake."notes/readme.txt"' not in refs
    joined = ws.execute('SELECT count(*) FROM lake.sales s JOIN lake."exports/orders" o ON s.id = o.id + 1000 '
                        "WHERE s.v = 1").rows
    assert joined == [(3,)]
    assert ws.execute("SELECT kind, uri FROM sources WHERE name = 'lake'").rows == [("s3", f"s3://{BUCKET}")]
    assert ws.execute("SELECT v, count(*) FROM lake.sales GROUP BY v ORDER BY v").rows == [(1, 1000), (2, 1000), (3, 1000)]


def test_extract_s3_dataset_in_parallel(small_lake, ws, tmp_path, split_small_elements):
    """EXTRACT reads a hive dataset in partition ranges (WORKERS 3) and loses nothing."""
    import duckdb

    ws.execute(f"ATTACH 's3://{BUCKET}' AS lake")
    out = tmp_path / "out"
    ws.execute(f"EXTRACT lake.sales TO '{out}' (WORKERS 3)")
    files = [str(p) for p in out.rglob("*.parquet")]
    assert files
    con = duckdb.connect()
    total, distinct, vs = con.execute(
        f"SELECT count(*), count(DISTINCT id), list(DISTINCT v ORDER BY v) FROM read_parquet({files})").fetchone()
    assert (total, distinct, vs) == (3000, 3000, [1, 2, 3])
    assert ws.execute("RECONCILE LAST").rows[0][:2] == ("lake.sales", "pass")


def test_statement_missing_bucket(small_lake, ws):
    from hydra.core.errors import HydraError

    with pytest.raises(HydraError) as err:
        ws.execute("ATTACH 's3://no-such-bucket-here' AS nope")
    assert str(err.value) == "S3 bucket 'no-such-bucket-here' does not exist"
    assert ws.execute("SELECT count(*) FROM sources WHERE name = 'nope'").rows == [(0,)]


def test_reopened_workspace_reads_s3(small_lake, tmp_path):
    from hydra.statements.workspace import Workspace

    path = str(tmp_path / "w.duckdb")
    ws = Workspace.open(path)
    ws.execute(f"ATTACH 's3://{BUCKET}' AS lake (REGION 'us-east-1')")
    ws.close()
    ws = Workspace.open(path)
    try:
        assert ws.execute("SELECT count(*) FROM lake.sales WHERE v = 3").rows == [(1000,)]
        assert ws.execute("SELECT count(*) FROM s3_objects").rows[0][0] >= 13
    finally:
        ws.close()
