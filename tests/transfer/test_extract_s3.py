"""EXTRACT to S3 and RECONCILE from it, against moto's server on 127.0.0.1 (real HTTP, no patching).

moto is a simulation of S3's API, so these tests carry the ``simulated`` marker.
"""

from __future__ import annotations

import io
import json

import boto3
import duckdb
import pyarrow.parquet as pq
import pytest
from support.outbound_data import make_client_folder

pytestmark = pytest.mark.simulated


@pytest.fixture
def s3(aws_env):
    client = boto3.client("s3", endpoint_url=aws_env, region_name="us-east-1")
    client.create_bucket(Bucket="landing")
    return client


def keys(client, prefix=""):
    found = client.list_objects_v2(Bucket="landing", Prefix=prefix).get("Contents") or []
    return sorted(o["Key"] for o in found)


def test_extract_to_s3_writes_parquet_objects_and_reconciles_clean(ws, s3, tmp_path):
    folder = make_client_folder(tmp_path / "data")
    ws.execute(f"ATTACH '{folder}' AS f")
    ws.execute("MARK f.*")
    result = ws.execute("EXTRACT MARKED TO 's3://landing/hydra/'")
    assert [r[1] for r in result.rows] == ["done", "done"], result.rows
    found = keys(s3, "hydra/f/")
    assert found == ["hydra/f/big.csv/_manifest.json", "hydra/f/big.csv/part-00000.parquet",
                     "hydra/f/small.csv/_manifest.json", "hydra/f/small.csv/part-00000.parquet"]
    assert keys(s3, "hydra/_hydra_runs/")
    body = s3.get_object(Bucket="landing", Key="hydra/f/big.csv/part-00000.parquet")["Body"].read()
    table = pq.read_table(io.BytesIO(body))
    assert table.num_rows == 200_000
    manifest = json.loads(s3.get_object(Bucket="landing", Key="hydra/f/big.csv/_manifest.json")["Body"].read())
    import hashlib

    assert manifest["files"][0]["sha256"] == hashlib.sha256(body).hexdigest()
    assert manifest["target"] == "s3://landing/hydra/f/big.csv"
    reconciled = ws.execute("RECONCILE LAST")
    assert reconciled.message.endswith("all passed"), reconciled.rows
    again = ws.execute("EXTRACT MARKED TO 's3://landing/hydra/'")
    assert [r[1] for r in again.rows] == ["skipped", "skipped"]
    assert len(keys(s3, "hydra/f/")) == 4


def test_s3_tampering_is_detected(ws, s3, tmp_path):
    folder = make_client_folder(tmp_path / "data", rows=5000)
    ws.execute(f"ATTACH '{folder}' AS f")
    ws.execute("EXTRACT f.\"big.csv\" TO 's3://landing/x' (FORMAT csv)")
    key = "x/f/big.csv/part-00000.csv"
    text = s3.get_object(Bucket="landing", Key=key)["Body"].read().decode()
    lines = text.splitlines(keepends=True)
    s3.put_object(Bucket="landing", Key=key, Body="".join(lines[:100] + lines[101:]).encode())
    result = ws.execute("RECONCILE LAST")
    assert "FAILED" in result.message
    detail = result.rows[0][5]
    assert "1 row missing at the target" in detail and "'id': 99" in detail


def test_a_missing_bucket_fails_each_element_with_one_line(ws, s3, tmp_path):
    folder = make_client_folder(tmp_path / "data", rows=10)
    ws.execute(f"ATTACH '{folder}' AS f")
    result = ws.execute("EXTRACT f.* TO 's3://no-such-bucket/hydra/'")
    assert [r[1] for r in result.rows] == ["failed", "failed"]
    assert all(r[6] == "S3 bucket 'no-such-bucket' does not exist" for r in result.rows)
    assert "2 failed" in result.message
    errors = ws.execute("SELECT DISTINCT status, error FROM transfers").rows
    assert errors == [("failed", "S3 bucket 'no-such-bucket' does not exist")]


def test_kill_mid_upload_then_rerun_completes_without_duplicates(s3, tmp_path, hydra_cmd):
    import os
    import signal
    import subprocess
    import time

    data = tmp_path / "data"
    data.mkdir()
    con = duckdb.connect()
    for i in range(6):
        con.execute(f"COPY (SELECT r AS id, md5(r::VARCHAR) AS h FROM range({i} * 1000000, {i} * 1000000 + 300000) "
                    f"t(r)) TO '{data}/part{i}.csv' (HEADER)")
    con.close()
    workspace = tmp_path / "ws.duckdb"
    command = "EXTRACT MARKED TO 's3://landing/k/' (WORKERS 1, ROWS_PER_FILE 100000);"
    proc = subprocess.Popen([*hydra_cmd, str(workspace), "-c", f"ATTACH '{data}' AS f; MARK f.*; {command}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ.copy())
    deadline = time.time() + 60
    while time.time() < deadline and not [k for k in keys(s3, "k/f/") if k.endswith("_manifest.json")]:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    manifests = [k for k in keys(s3, "k/f/") if k.endswith("_manifest.json")]
    assert 1 <= len(manifests) < 6
    rerun = subprocess.run([*hydra_cmd, str(workspace), "-c", command + " RECONCILE LAST;"],
                           capture_output=True, text=True, timeout=180, env=os.environ.copy())
    assert "0 failed" in rerun.stderr and "all passed" in rerun.stderr, rerun.stderr[-2000:]
    total = 0
    for key in keys(s3, "k/f/"):
        if key.endswith(".parquet"):
            total += pq.read_table(io.BytesIO(s3.get_object(Bucket="landing", Key=key)["Body"].read())).num_rows
    assert total == 6 * 300_000  # stale parts of the killed element were replaced, not added to


def test_extract_never_writes_inside_an_attached_bucket_prefix(ws, s3, tmp_path, aws_env):
    """Hydra never writes to a source: a target under an attached bucket's prefix is refused
    before anything is written; beside it, in the same bucket, is fine."""
    from hydra.core.errors import HydraError

    s3.put_object(Bucket="landing", Key="client/orders.csv", Body=b"id,amount\n1,9.5\n2,3.25\n")
    ws.execute(f"ATTACH 's3://landing/client/' AS raw (ENDPOINT '{aws_env}')")
    for inside in ("s3://landing/client", "s3://landing/client/out/"):
        with pytest.raises(HydraError, match="it is inside source raw, and Hydra never writes to a source"):
            ws.execute(f"EXTRACT raw.* TO '{inside}'")
    assert keys(s3) == ["client/orders.csv"]
    result = ws.execute("EXTRACT raw.* TO 's3://landing/clientele/'")  # a prefix that only starts the same
    assert [r[1] for r in result.rows] == ["done"], result.rows
    assert "clientele/raw/orders.csv/_manifest.json" in keys(s3, "clientele/")
