"""RDS head against moto's RDS and Secrets Manager server on 127.0.0.1 (real HTTP), with the moto
instance's endpoint mapped to the machine's real PostgreSQL through the ``HOST`` option.

moto simulates the AWS control plane (DescribeDBInstances, GetSecretValue), so these tests carry
the ``simulated`` marker; the database reads go to the real PostgreSQL server.
"""

from __future__ import annotations

import json

import pytest

from hydra.heads.base import HeadConnectionError, HeadError
from hydra.heads.rds.head import RdsHead, instance_row, parse_rds_uri

pytestmark = pytest.mark.simulated

REGION = "us-east-1"


def _rds():
    import boto3

    return boto3.client("rds", region_name=REGION)


def _create_instance(identifier: str = "crm-db", engine: str = "postgres", **extra) -> dict:
    args = dict(DBInstanceIdentifier=identifier, Engine=engine, DBInstanceClass="db.t3.micro",
                MasterUsername="postgres", MasterUserPassword="not-used-1", Port=5432,
                AllocatedStorage=20, StorageEncrypted=True, EnableIAMDatabaseAuthentication=True,
                DBName="postgres")
    args.update(extra)
    return _rds().create_db_instance(**args)["DBInstance"]


@pytest.fixture
def crm(aws_env, pg_database):
    """A moto RDS instance 'crm-db' plus a real PostgreSQL database with a table and a read-only
    login role; yields the database name. The role's name is in ``crm.user`` (unique per test)."""
    import uuid

    import psycopg

    _create_instance()
    name = pg_database.rsplit("/", 1)[1]
    role = f"hydra_ro_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_database, autocommit=True) as con:
        con.execute("CREATE TABLE public.orders (id integer PRIMARY KEY, customer text, amount numeric(10,2))")
        con.execute("INSERT INTO public.orders SELECT g, 'c' || (g % 7), g * 1.5 FROM generate_series(1, 500) g")
        con.execute(f"CREATE ROLE {role} LOGIN")
        con.execute(f'GRANT CONNECT ON DATABASE "{name}" TO {role}')
        con.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        con.execute(f"GRANT SELECT ON public.orders TO {role}")
    yield _Db(name, role)
    with psycopg.connect(pg_database.rsplit("/", 1)[0] + "/postgres", autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        con.execute(f"DROP ROLE IF EXISTS {role}")


class _Db(str):
    """The database name (a str), with the login role of the test in ``.user``."""

    def __new__(cls, name: str, user: str):
        obj = super().__new__(cls, name)
        obj.user = user
        return obj


def test_parse_rds_uri():
    assert parse_rds_uri("rds://us-east-1") == ("us-east-1", None)
    assert parse_rds_uri("rds://eu-west-3/crm-db") == ("eu-west-3", "crm-db")
    assert parse_rds_uri("rds:///crm-db") == (None, "crm-db")
    with pytest.raises(HeadConnectionError, match="too many parts"):
        parse_rds_uri("rds://us-east-1/a/b")


def test_instance_row_from_describe_item():
    row = instance_row({"DBInstanceIdentifier": "x", "Engine": "mysql",
                        "Endpoint": {"Address": "x.abc.eu-west-1.rds.amazonaws.com", "Port": 3306},
                        "MasterUserSecret": {"SecretArn": "arn:aws:secretsmanager:eu-west-1:1:secret:x"}},
                       "eu-west-1")
    assert row["endpoint_address"] == "x.abc.eu-west-1.rds.amazonaws.com" and row["port"] == 3306
    assert row["attach_uri"] == "rds://eu-west-1/x"
    assert row["master_user_secret_arn"].startswith("arn:aws:secretsmanager")


def test_rds_instances_listed(aws_env):
    _create_instance("crm-db")
    _create_instance("erp-db", engine="mysql", Port=3306, DBName="erp")
    head = RdsHead("aws", f"rds://{REGION}")
    head.open()
    assert list(head.enumerate()) == []
    table = head.head_tables()["rds_instances"]
    rows = {r["identifier"]: r for r in table.to_pylist()}
    assert set(rows) == {"crm-db", "erp-db"}
    crm = rows["crm-db"]
    assert crm["engine"] == "postgres" and crm["port"] == 5432 and crm["status"] == "available"
    assert crm["storage_encrypted"] is True and crm["iam_auth_enabled"] is True
    assert crm["endpoint_address"].startswith("crm-db.") and crm["region"] == REGION
    assert crm["master_username"] == "postgres" and crm["allocated_storage_gb"] == 20
    assert crm["arn"].startswith("arn:aws:rds:") and crm["created_at"] is not None
    assert crm["attach_uri"] == f"rds://{REGION}/crm-db"
    assert rows["erp-db"]["engine"] == "mysql" and rows["erp-db"]["db_name"] == "erp"
    with pytest.raises(HeadError, match="attach one instance"):
        head.read(None)


def test_many_instances_paginate(aws_env):
    for i in range(55):  # moto pages DescribeDBInstances at 50
        _create_instance(f"db-{i:02d}")
    head = RdsHead("aws", f"rds://{REGION}")
    head.open()
    assert head.head_tables()["rds_instances"].num_rows == 55


@pytest.mark.parametrize("uri, options, message", [
    ("rds://mars-north-9", {}, "unknown AWS region 'mars-north-9'"),
    ("rds://nowhere", {}, "unknown AWS region 'nowhere'"),
    (f"rds://{REGION}/no-such-db", {}, f"RDS instance 'no-such-db' not found in {REGION}"),
    (f"rds://{REGION}", {"PROFILE": "no-such-profile"}, "AWS profile not found"),
    (f"rds://{REGION}", {"ENDPOINT": "http://127.0.0.1:9"}, "cannot reach"),
    (f"rds://{REGION}/crm-db", {"HOST": "127.0.0.1", "PASSWORD_ENV": "HYDRA_NO_SUCH_VAR"},
     "environment variable HYDRA_NO_SUCH_VAR is not set"),
    (f"rds://{REGION}/crm-db", {"HOST": "127.0.0.1", "SECRET": "no/such/secret"},
     "secret 'no/such/secret' not found"),
    (f"rds://{REGION}/crm-db", {"HOST": "127.0.0.1", "AUTH": "iam"}, "AUTH 'iam' needs USER"),
    (f"rds://{REGION}/crm-db", {"HOST": "127.0.0.1", "AUTH": "kerberos"}, "AUTH must be"),
])
def test_errors_are_one_line(aws_env, uri, options, message):
    _create_instance()
    with pytest.raises(HeadConnectionError) as err:
        RdsHead("x", uri, options).open()
    assert message in str(err.value) and "\n" not in str(err.value)


def test_wrong_password_is_masked(aws_env, monkeypatch):
    """A refused connection says so in one line, without the password."""
    _create_instance()
    monkeypatch.setenv("CRM_PW", "s3cr3t-Passw0rd")
    head = RdsHead("crm", f"rds://{REGION}/crm-db",
                   {"HOST": "127.0.0.1", "PORT": "9", "PASSWORD_ENV": "CRM_PW", "USER": "postgres"})
    with pytest.raises(HeadConnectionError) as err:
        head.open()
    assert "s3cr3t-Passw0rd" not in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("auth", ["password", "iam", "secret", "managed-secret"])
def test_instance_attached_as_sql_source(crm, monkeypatch, auth):
    """Attach the moto instance as a SQL source (endpoint mapped to the local PostgreSQL) and read."""
    import boto3

    options = {"HOST": "127.0.0.1", "DATABASE": crm}
    if auth == "password":
        monkeypatch.setenv("CRM_PW", "trust-auth-ignores-it")
        options.update(USER=crm.user, PASSWORD_ENV="CRM_PW")
    elif auth == "iam":
        options.update(USER=crm.user, AUTH="iam", SSLMODE="disable")
    elif auth == "secret":
        boto3.client("secretsmanager").create_secret(
            Name="crm/ro", SecretString=json.dumps({"username": crm.user, "password": "pw-from-sm"}))
        options.update(SECRET="crm/ro")
    else:  # the instance's RDS-managed master secret, found through DescribeDBInstances
        arn = boto3.client("secretsmanager").create_secret(
            Name="rds!db-crm", SecretString=json.dumps({"username": "postgres", "password": "x1"}))["ARN"]
        _rds().modify_db_instance(DBInstanceIdentifier="crm-db", ManageMasterUserPassword=True)
        described = _rds().describe_db_instances(DBInstanceIdentifier="crm-db")["DBInstances"][0]
        if not (described.get("MasterUserSecret") or {}).get("SecretArn"):
            pytest.skip("this moto version does not model RDS-managed master user secrets")
        arn = described["MasterUserSecret"]["SecretArn"]
        boto3.client("secretsmanager").put_secret_value(
            SecretId=arn, SecretString=json.dumps({"username": "postgres", "password": "x1"}))
        options.update(AUTH="secret")
    head = RdsHead("crm", f"rds://{REGION}/crm-db", options)
    head.open()
    try:
        elements = {e.parts: e for e in head.enumerate()}
        orders = elements[("public", "orders")]
        assert head.dialect == "postgres"
        table = head.read(orders).read_all()
        assert table.num_rows == 500
        assert head.head_tables()["rds_instances"].column("identifier").to_pylist() == ["crm-db"]
    finally:
        head.close()
        head.close()  # safe twice


def test_iam_token_is_fresh_per_connection_and_never_stored(crm):
    head = RdsHead("crm", f"rds://{REGION}/crm-db",
                   {"HOST": "127.0.0.1", "DATABASE": crm, "USER": crm.user, "AUTH": "iam", "SSLMODE": "disable"})
    head.open()
    try:
        seen = []
        from sqlalchemy import event

        @event.listens_for(head.engine, "do_connect")
        def spy(dialect, conn_rec, cargs, cparams):  # runs after Hydra's listener
            seen.append(cparams["password"])

        head.engine.dispose()
        with head.engine.connect():
            pass
        assert seen and "X-Amz-Signature" in seen[0] and "crm-db." in seen[0]  # signed for the real endpoint
        assert head.redact(head.uri) == f"rds://{REGION}/crm-db"
        assert "X-Amz" not in head.uri and all("X-Amz" not in str(v) for v in head.options.values())
    finally:
        head.close()



def test_iam_token_is_fresh_for_every_bulk_read_by_a_client_program(crm):
    """psql gets its password per read, so a transfer that outlives one token (15 minutes)
    starts its next read with a new one instead of the token ATTACH was made with."""
    from hydra.heads.sql.postgres import _client_command

    head = RdsHead("crm", f"rds://{REGION}/crm-db",
                   {"HOST": "127.0.0.1", "DATABASE": crm, "USER": crm.user, "AUTH": "iam", "SSLMODE": "disable"})
    head.open()
    try:
        first = _client_command(head.inner, "SELECT 1")[1]["PGPASSWORD"]
        assert "X-Amz-Signature" in first
        tokens = iter(["token-2", "token-3"])
        head._token = lambda args: next(tokens)
        assert [_client_command(head.inner, "SELECT 1")[1]["PGPASSWORD"] for _ in range(2)] == ["token-2", "token-3"]
        assert "token-3" not in head.uri and "token-3" not in str(head.inner.engine.url)
    finally:
        head.close()

def test_mariadb_instance_attached(aws_env, mysql_database):
    """A MariaDB-engine instance maps to the mysql+pymysql driver; endpoint mapped to the local MariaDB."""
    import pymysql

    name = mysql_database.rsplit("/", 1)[1]
    con = pymysql.connect(host="127.0.0.1", port=3306, user="root", database=name, autocommit=True)
    with con.cursor() as cur:
        cur.execute("CREATE TABLE items (id INT PRIMARY KEY, label VARCHAR(20))")
        cur.execute("INSERT INTO items VALUES (1, 'one'), (2, 'two'), (3, 'three')")
    con.close()
    _create_instance("erp-db", engine="mariadb", EngineVersion="10.11.6", Port=3306,
                     MasterUsername="root", DBName=name)
    head = RdsHead("erp", f"rds://{REGION}/erp-db", {"HOST": "127.0.0.1"})
    head.open()
    try:
        assert head.dialect == "mysql"
        items = {e.parts: e for e in head.enumerate()}[(name, "items")]
        assert sorted(head.read(items).read_all().column("label").to_pylist()) == ["one", "three", "two"]
    finally:
        head.close()
    with pytest.raises(HeadConnectionError, match="needs TLS: give SSLROOTCERT"):
        RdsHead("erp", f"rds://{REGION}/erp-db", {"HOST": "127.0.0.1", "AUTH": "iam", "USER": "u"}).open()


def test_unknown_engine_needs_driver(aws_env):
    _create_instance("odd-db", engine="neptune", Port=8182)
    with pytest.raises(HeadConnectionError, match="give one with DRIVER"):
        RdsHead("x", f"rds://{REGION}/odd-db", {"HOST": "127.0.0.1"}).open()


# -- end to end through statements ------------------------------------------------------------------


def test_statements_end_to_end(crm, ws, monkeypatch):
    monkeypatch.setenv("CRM_PW", "trust-auth-ignores-it")
    ws.execute(f"ATTACH 'rds://{REGION}' AS aws")
    rows = ws.execute("SELECT identifier, engine, port, endpoint_address LIKE 'crm-db.%' FROM rds_instances").rows
    assert rows == [("crm-db", "postgres", 5432, True)]
    assert ws.execute("SELECT count(*) FROM elements WHERE source = 'aws'").rows == [(0,)]

    ws.execute(f"ATTACH 'rds://{REGION}/crm-db' AS crm (HOST '127.0.0.1', DATABASE '{crm}', "
               f"USER '{crm.user}', PASSWORD_ENV 'CRM_PW')")
    assert ws.execute("SELECT count(*), sum(amount) FROM crm.public.orders WHERE id <= 10").rows[0][0] == 10
    assert ws.execute("SELECT count(*) FROM crm.public.orders").rows == [(500,)]
    assert ws.execute("SELECT kind, uri FROM sources WHERE name = 'crm'").rows == [("rds", f"rds://{REGION}/crm-db")]
    options = ws.execute("SELECT options::VARCHAR FROM sources WHERE name = 'crm'").rows[0][0]
    assert "trust-auth-ignores-it" not in options and "CRM_PW" in options
    assert ws.execute("SELECT count(*) FROM rds_instances WHERE source = 'crm'").rows == [(1,)]
    ws.execute("REFRESH crm")
    assert ws.execute("SELECT count(*) FROM crm.public.orders WHERE amount > 600").rows == [(100,)]
    ws.execute("DETACH crm")
    assert ws.execute("SELECT count(*) FROM rds_instances WHERE source = 'crm'").rows == [(0,)]

    ws.execute(f"ATTACH 'rds://{REGION}/crm-db' AS crm_iam (HOST '127.0.0.1', DATABASE '{crm}', "
               f"USER '{crm.user}', AUTH 'iam', SSLMODE 'disable')")
    assert ws.execute("SELECT count(*) FROM crm_iam.public.orders WHERE customer = 'c3'").rows == [(72,)]
    everything = " ".join(str(r) for r in ws.execute("SELECT * FROM sources").rows)
    assert "X-Amz" not in everything


def test_statement_unknown_region(aws_env, ws):
    from hydra.core.errors import HydraError

    with pytest.raises(HydraError) as err:
        ws.execute("ATTACH 'rds://mars-north-9' AS aws")
    assert str(err.value).startswith("unknown AWS region 'mars-north-9'")
