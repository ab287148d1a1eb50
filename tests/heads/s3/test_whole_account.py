"""A whole S3 account attached from bare ``s3://`` (issue 22): every bucket the credentials see,
each bucket's elements as ``aws.<bucket>."<key>"``, the per-bucket MAX_OBJECTS cap, and a bucket
whose listing is denied.

moto's S3 server on 127.0.0.1 (real HTTP through boto3 and pyarrow) simulates S3, and with its
authorization switched on, IAM policies; so these tests carry the ``simulated`` marker.
"""

from __future__ import annotations

import io
import json
import urllib.request
import uuid

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from support.s3 import make_bucket

from hydra.core.refs import ref_text
from hydra.statements.workspace import Workspace

pytestmark = pytest.mark.simulated

ORDERS_CSV = b"id,customer,amount\n1,acme,10.5\n2,globex,20.0\n3,initech,7.25\n"


def _parquet(v: int) -> bytes:
    out = io.BytesIO()
    pq.write_table(pa.table({"id": list(range(v * 10, v * 10 + 10)), "amount": [v * 1.5] * 10}), out)
    return out.getvalue()


def _bucket(label: str) -> str:
    return f"hydra-{label}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def account(aws_env):
    """Two buckets: one with a CSV file and a text file, one with a hive dataset and JSON Lines."""
    a, b = _bucket("a"), _bucket("b")
    make_bucket(a, {"raw/orders.csv": ORDERS_CSV, "notes/readme.txt": b"hello"})
    make_bucket(b, {"sales/v=1/part-0.parquet": _parquet(1), "sales/v=2/part-0.parquet": _parquet(2),
                    "events.jsonl": b'{"id": 1, "kind": "x"}\n{"id": 2, "kind": "y"}\n'})
    return a, b


@pytest.mark.slow  # 7-12 s at a load average of 8-17 on 2 cores (attach, queries, EXTRACT, RECONCILE)
def test_bare_s3_lists_every_bucket_and_reads_their_elements(account, tmp_path):
    a, b = account
    orders, sales = ref_text("aws", (a, "raw/orders.csv")), ref_text("aws", (b, "sales"))
    path = str(tmp_path / "w.duckdb")
    ws = Workspace.open(path)
    try:
        attached = ws.execute("ATTACH 's3://' AS aws")
        assert "note: 2 buckets" in attached.message, attached.message
        refs = {r for (r,) in ws.query("SELECT ref FROM elements WHERE source = 'aws'")}
        assert refs == {orders, sales, ref_text("aws", (b, "events.jsonl"))}
        assert orders == f'aws."{a}"."raw/orders.csv"'  # a bucket is one level of the ref
        buckets = ws.query("SELECT bucket, region, created IS NOT NULL, listable, error, objects_listed, "
                           "truncated, cut_after FROM s3_buckets WHERE source = 'aws' ORDER BY bucket")
        assert buckets == [(a, "us-east-1", True, True, None, 2, False, None),
                           (b, "us-east-1", True, True, None, 3, False, None)]
        assert ws.query("SELECT bucket, count(*) FROM s3_objects WHERE source = 'aws' GROUP BY ALL "
                        "ORDER BY ALL") == [(a, 2), (b, 3)]
        assert ws.execute(f"SELECT sum(amount) FROM {orders} WHERE id > 1").rows == [(27.25,)]
        assert ws.execute(f"SELECT v, sum(amount) FROM {sales} GROUP BY v ORDER BY v").rows == \
            [(1, 15.0), (2, 30.0)]
        # the cross-bucket join works like any other
        assert ws.execute(f"SELECT count(*) FROM {orders} o JOIN {ref_text('aws', (b, 'events.jsonl'))} e "
                          "USING (id)").rows == [(2,)]

        ws.execute(f"MARK {orders}, {sales}")
        out = tmp_path / "out"
        extracted = ws.execute(f"EXTRACT MARKED TO '{out}'").rows
        assert sorted((r[0], r[1]) for r in extracted) == sorted([(orders, "done"), (sales, "done")])
        manifest = json.loads((out / "aws" / a / "raw" / "orders.csv" / "_manifest.json").read_text())
        assert manifest["rows"] == 3, manifest
        reconciled = ws.execute("RECONCILE LAST")
        assert reconciled.message.endswith("all passed"), reconciled.rows
        profiled = {r[0]: r for r in ws.execute(f"PROFILE {sales}").rows}
        assert profiled[sales][1] == 20, profiled
    finally:
        ws.close()

    ws = Workspace.open(path)  # reopened: nothing listed again, the bucket's head opens on a read
    try:
        assert ws.execute(f"SELECT count(*) FROM {orders}").rows == [(3,)]
    finally:
        ws.close()


def test_max_objects_caps_each_bucket_and_says_where(aws_env):
    full, cut = _bucket("full"), _bucket("cut")
    make_bucket(full, {f"f{i}.csv": b"a\n1\n" for i in range(3)})  # exactly the cap: not cut
    make_bucket(cut, {**{f"logs/part-{i:05d}.csv": b"a\n1\n" for i in range(4)}, "z.csv": b"a\n2\n"})
    ws = Workspace.open(":memory:")
    try:
        attached = ws.execute("ATTACH 's3://' AS aws (MAX_OBJECTS 3)")
        assert f"1 listed only up to MAX_OBJECTS 3 ({cut};" in attached.message, attached.message
        assert ws.query("SELECT bucket, objects_listed, truncated, cut_after FROM s3_buckets ORDER BY bucket") \
            == sorted([(full, 3, False, None), (cut, 3, True, "logs/part-00002.csv")])
        elements = dict(ws.query("SELECT ref, note FROM elements WHERE source = 'aws'"))
        logs = ref_text("aws", (cut, "logs"))
        assert ref_text("aws", (cut, "z.csv")) not in elements  # past the cut
        assert "stopped at MAX_OBJECTS 3 inside this dataset" in elements[logs]
        assert sum(1 for ref in elements if ref.startswith(f'aws."{full}"')) == 3
        # a read lists the dataset afresh: all four parts, past the cut
        assert ws.execute(f"SELECT count(*) FROM {logs}").rows == [(4,)]
    finally:
        ws.close()


@pytest.fixture
def one_bucket_denied(aws_env, monkeypatch):
    """Two buckets, and the credentials of an IAM user that may do anything in S3 but list the
    second one, with moto's authorization switched on (and back off afterwards)."""
    import boto3

    allowed, denied = _bucket("open"), _bucket("denied")
    make_bucket(allowed, {"raw/orders.csv": ORDERS_CSV})
    make_bucket(denied, {"secret.csv": b"a\n1\n"})
    iam = boto3.client("iam")
    user = f"hydra-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=user)
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{denied}"}]}
    iam.put_user_policy(UserName=user, PolicyName="all-but-one", PolicyDocument=json.dumps(policy))
    keys = iam.create_access_key(UserName=user)["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", keys["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", keys["SecretAccessKey"])
    _moto_auth(aws_env, "0")
    try:
        yield allowed, denied
    finally:
        _moto_auth(aws_env, "inf")


def _moto_auth(endpoint: str, after: str) -> None:
    """Enforce IAM in moto's server after ``after`` more requests ('inf': never)."""
    urllib.request.urlopen(urllib.request.Request(  # text/plain: a form body would not reach moto
        f"{endpoint}/moto-api/reset-auth", data=after.encode(), method="POST",
        headers={"Content-Type": "text/plain"}))


def test_a_bucket_that_cannot_be_listed_is_listed_with_its_reason(one_bucket_denied):
    allowed, denied = one_bucket_denied
    ws = Workspace.open(":memory:")
    try:
        attached = ws.execute("ATTACH 's3://' AS aws")
        assert "1 could not be listed" in attached.message, attached.message
        assert ws.query("SELECT ref FROM elements") == [(ref_text("aws", (allowed, "raw/orders.csv")),)]
        rows = {r[0]: r[1:] for r in ws.query("SELECT bucket, listable, error, objects_listed FROM s3_buckets")}
        assert rows[allowed] == (True, None, 1)
        assert rows[denied][0] is False and rows[denied][2] is None
        assert "access denied" in rows[denied][1], rows[denied]
        assert ws.execute(f"SELECT count(*) FROM {ref_text('aws', (allowed, 'raw/orders.csv'))}").rows == [(3,)]
    finally:
        ws.close()
