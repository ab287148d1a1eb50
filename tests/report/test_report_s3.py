"""REPORT of transfers to S3: the manifests are read from the bucket; a bucket gone is said, not
failed. Against moto's S3 server on 127.0.0.1 (real HTTP): a simulation of S3's API."""

from __future__ import annotations

import json

import boto3
import pytest

pytestmark = pytest.mark.simulated


def test_sha256_from_the_manifests_in_the_bucket_and_a_bucket_gone(ws, aws_env, tmp_path):
    s3 = boto3.client("s3", endpoint_url=aws_env, region_name="us-east-1")
    s3.create_bucket(Bucket="landing")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.csv").write_text("id,v\n" + "".join(f"{i},x{i}\n" for i in range(100)))
    ws.execute(f"ATTACH '{tmp_path / 'data'}' AS f")
    ws.execute("MARK f.*")
    ws.execute("EXTRACT MARKED TO 's3://landing/hydra/'")
    ws.execute("RECONCILE LAST")
    manifest = json.loads(s3.get_object(Bucket="landing", Key="hydra/f/a.csv/_manifest.json")["Body"].read())
    ws.execute(f"REPORT TO '{tmp_path / 'r.md'}'")
    report = (tmp_path / "r.md").read_text()
    assert f"`{manifest['files'][0]['sha256']}`" in report
    assert "`EXTRACT MARKED TO 's3://landing/hydra/'`" in report  # from the run manifest in the bucket

    objects = s3.list_objects_v2(Bucket="landing")["Contents"]
    s3.delete_objects(Bucket="landing", Delete={"Objects": [{"Key": o["Key"]} for o in objects]})
    s3.delete_bucket(Bucket="landing")
    ws.execute(f"REPORT TO '{tmp_path / 'gone.md'}'")
    gone = (tmp_path / "gone.md").read_text()
    assert "The target s3://landing/hydra cannot be read from here" in gone
    assert manifest["files"][0]["sha256"] not in gone and "1 element, " in gone
