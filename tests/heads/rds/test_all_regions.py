"""``ATTACH 'rds://*'`` (issue 22): the RDS instances of every region the account has enabled.

moto's server on 127.0.0.1 (real HTTP) simulates EC2's DescribeRegions and RDS's
DescribeDBInstances in each region, so these tests carry the ``simulated`` marker.
"""

from __future__ import annotations

import uuid

import pytest

from hydra.heads.base import HeadConnectionError, HeadError
from hydra.heads.rds.head import RdsHead
from hydra.statements.workspace import Workspace

pytestmark = pytest.mark.simulated


def _create_instance(region: str, engine: str = "postgres") -> str:
    import boto3

    identifier = f"hydra-{region}-{uuid.uuid4().hex[:8]}"
    boto3.client("rds", region_name=region).create_db_instance(
        DBInstanceIdentifier=identifier, Engine=engine, DBInstanceClass="db.t3.micro",
        MasterUsername="admin_user", MasterUserPassword="not-used-1", AllocatedStorage=20)
    return identifier


@pytest.mark.slow  # moto builds an RDS backend per region asked: 24 of them, ~15 s at load 10
def test_rds_star_lists_instances_in_every_enabled_region(aws_env):
    """Each instance with its region; every region EC2 says is enabled is asked (opt-in regions
    the account has not enabled are not: DescribeRegions AllRegions=false)."""
    import boto3

    east = _create_instance("us-east-1")
    west = _create_instance("eu-west-1", engine="mysql")
    enabled = {r["RegionName"] for r in boto3.client("ec2").describe_regions(AllRegions=False)["Regions"]
               if r.get("OptInStatus") in (None, "opt-in-not-required", "opted-in")}
    assert {"us-east-1", "eu-west-1"} < enabled
    ws = Workspace.open(":memory:")
    try:
        attached = ws.execute("ATTACH 'rds://*' AS aws")
        assert attached.message.endswith(f"note: 2 instances in {len(enabled)} regions"), attached.message
        rows = ws.query("SELECT identifier, region, engine, attach_uri FROM rds_instances WHERE source = 'aws' "
                        "ORDER BY identifier")
        assert rows == sorted([(west, "eu-west-1", "mysql", f"rds://eu-west-1/{west}"),
                               (east, "us-east-1", "postgres", f"rds://us-east-1/{east}")])
        with pytest.raises(HeadError, match="every enabled region"):
            ws.head("aws").read(None)
        # a region's own catalog is unchanged: only its instances
        ws.execute("ATTACH 'rds://eu-west-1' AS west")
        assert ws.query("SELECT identifier FROM rds_instances WHERE source = 'west'") == [(west,)]
    finally:
        ws.close()


def test_rds_star_with_an_instance_is_one_clear_line(aws_env):
    with pytest.raises(HeadConnectionError, match=r"rds://\*/<instance> is not supported"):
        RdsHead("aws", "rds://*/crm-db").open()
