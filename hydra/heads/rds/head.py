"""RDS head: a region's DB instances as a catalog, and any one instance as a SQL source.

Two shapes of ``ATTACH``::

    ATTACH 'rds://us-east-1' AS aws [(PROFILE 'p', ENDPOINT 'url')];
        -- fills rds_instances (paginated DescribeDBInstances); no elements of its own
    ATTACH 'rds://*' AS aws;
        -- the same for every region the account has enabled (ec2 DescribeRegions), each
        -- instance with its region, REGION_THREADS regions at a time

    ATTACH 'rds://us-east-1/<instance-identifier>' AS crm (
        USER 'ro_user', DATABASE 'crm',
        AUTH 'iam'                      -- an IAM auth token from boto3 (generate_db_auth_token)
        | PASSWORD_ENV 'CRM_PASSWORD'   -- the password from an environment variable
        | SECRET 'arn-or-name'          -- Secrets Manager JSON {"username", "password"}
        [, HOST 'h', PORT 'n', SSLMODE 'require', SSLROOTCERT 'global-bundle.pem',
           DRIVER 'postgresql+psycopg',
           SCHEMAS …, SYSTEM …, BULK …, BATCH_ROWS …, READABLE_COLUMNS …]);

The instance form looks the instance up (engine, endpoint, port, default database), obtains the
password, builds a SQLAlchemy URL and hands everything else (enumerate, read, pushdown, split,
aggregates) to ``hydra.heads.sql.SqlHead``: an RDS head is a ``CompositeHead`` whose one inner head
is the SQL head. The password or token lives only in the
inner head's in-memory URL: the workspace stores ``rds://region/identifier`` and the options, none of
which is a secret. IAM tokens last 15 minutes, so a fresh token is generated for every new
connection, and for every bulk read through ``psql`` or ``mysql``. ``HOST``/``PORT`` connect
somewhere other than the instance's endpoint (an SSH tunnel, ``aws ssm start-session`` port
forwarding, or a local test server) while the IAM token is still signed for the instance's real
endpoint.

``AUTH`` defaults to ``secret`` when ``SECRET`` is given, ``password`` when ``PASSWORD_ENV`` is,
and otherwise ``none`` (the driver's own means: ``.pgpass``, ``PGPASSWORD``…). ``AUTH 'secret'``
without ``SECRET`` uses the instance's RDS-managed master user secret.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Mapping
from urllib.parse import unquote, urlsplit

from hydra.core.model import Element
from hydra.heads.base import Head, HeadConnectionError, HeadError, Option
from hydra.heads.composite import CompositeHead

if TYPE_CHECKING:
    import pyarrow as pa

# RDS engine (prefix) -> SQLAlchemy driver name; the first matching prefix wins
DRIVERS = (
    ("aurora-postgresql", "postgresql+psycopg"),
    ("postgres", "postgresql+psycopg"),
    ("aurora-mysql", "mysql+pymysql"),
    ("aurora", "mysql+pymysql"),  # Aurora MySQL 1.x reports engine 'aurora'
    ("mysql", "mysql+pymysql"),
    ("mariadb", "mariadb+pymysql"),
    ("sqlserver-", "mssql+pymssql"),
    ("custom-sqlserver-", "mssql+pymssql"),
    ("oracle-", "oracle+oracledb"),
    ("custom-oracle-", "oracle+oracledb"),
)


def driver_for(engine: str) -> str | None:
    """The SQLAlchemy driver for an RDS engine name, or None when Hydra has no mapping."""
    engine = engine.lower()
    for prefix, driver in DRIVERS:
        if engine == prefix or (prefix.endswith("-") and engine.startswith(prefix)):
            return driver
    return None


# regions asked at once by rds://* (one DescribeDBInstances each, mostly waiting on the network)
REGION_THREADS = 8
# the region part of a URI that means every enabled region
ALL_REGIONS = "*"

# database to connect to when neither DATABASE nor the instance's DBName says
DEFAULT_DATABASE = {"postgresql": "postgres"}


def parse_rds_uri(uri: str) -> tuple[str | None, str | None]:
    """``rds://us-east-1/mydb`` -> ``("us-east-1", "mydb")``; ``rds://us-east-1`` -> (region, None)."""
    parts = urlsplit(uri.strip())
    if parts.scheme.lower() != "rds":
        raise HeadConnectionError(f"not an RDS URI (expected rds://region[/instance]): {uri}")
    region = unquote(parts.netloc) or None
    path = [p for p in parts.path.split("/") if p]
    if len(path) > 1:
        raise HeadConnectionError(
            f"RDS URI has too many parts (expected rds://region[/instance]): {uri}")
    return region, (unquote(path[0]) if path else None)


def instance_row(db: Mapping[str, Any], region: str | None) -> dict[str, Any]:
    """One ``rds_instances`` row from a DescribeDBInstances item."""
    endpoint = db.get("Endpoint") or {}
    subnet = db.get("DBSubnetGroup") or {}
    secret = db.get("MasterUserSecret") or {}
    ident = db.get("DBInstanceIdentifier")
    return {
        "region": region,
        "identifier": ident,
        "engine": db.get("Engine"),
        "engine_version": db.get("EngineVersion"),
        "status": db.get("DBInstanceStatus"),
        "instance_class": db.get("DBInstanceClass"),
        "endpoint_address": endpoint.get("Address"),
        "port": endpoint.get("Port") or db.get("DbInstancePort") or None,
        "db_name": db.get("DBName"),
        "master_username": db.get("MasterUsername"),
        "allocated_storage_gb": db.get("AllocatedStorage"),
        "storage_type": db.get("StorageType"),
        "storage_encrypted": db.get("StorageEncrypted"),
        "iam_auth_enabled": db.get("IAMDatabaseAuthenticationEnabled"),
        "multi_az": db.get("MultiAZ"),
        "publicly_accessible": db.get("PubliclyAccessible"),
        "deletion_protection": db.get("DeletionProtection"),
        "availability_zone": db.get("AvailabilityZone"),
        "vpc_id": subnet.get("VpcId"),
        "cluster_identifier": db.get("DBClusterIdentifier"),
        "master_user_secret_arn": secret.get("SecretArn"),
        "created_at": db.get("InstanceCreateTime"),
        "arn": db.get("DBInstanceArn"),
        "attach_uri": f"rds://{region}/{ident}" if region and ident else None,
    }


def _instances_table(rows: list[dict[str, Any]]) -> pa.Table:
    import pyarrow as pa

    types = {
        "region": pa.string(), "identifier": pa.string(), "engine": pa.string(),
        "engine_version": pa.string(), "status": pa.string(), "instance_class": pa.string(),
        "endpoint_address": pa.string(), "port": pa.int32(), "db_name": pa.string(),
        "master_username": pa.string(), "allocated_storage_gb": pa.int32(),
        "storage_type": pa.string(), "storage_encrypted": pa.bool_(),
        "iam_auth_enabled": pa.bool_(), "multi_az": pa.bool_(), "publicly_accessible": pa.bool_(),
        "deletion_protection": pa.bool_(), "availability_zone": pa.string(), "vpc_id": pa.string(),
        "cluster_identifier": pa.string(), "master_user_secret_arn": pa.string(),
        "created_at": pa.timestamp("us", tz="UTC"), "arn": pa.string(), "attach_uri": pa.string(),
    }
    return pa.table({name: pa.array([r.get(name) for r in rows], t) for name, t in types.items()})


def _sql_options() -> tuple[Option, ...]:
    from hydra.heads.sql.head import SqlHead

    return SqlHead.attach_options


class RdsHead(CompositeHead):
    kind = "rds"
    schemes = ("rds",)
    tables = ("rds_instances",)
    attach_options = (
        Option("PROFILE", str, help="the AWS profile to take credentials from"),
        Option("ENDPOINT", str, help="an RDS API endpoint URL (a VPC endpoint, a test server)"),
        Option("USER", str, help="the database user (default: the instance's master user)"),
        Option("DATABASE", str, help="the database to read (default: the instance's)"),
        Option("AUTH", str, choices=("iam", "password", "secret", "none"),
               help="how to log in: an IAM token, PASSWORD_ENV, a Secrets Manager SECRET, or the driver's own means"),
        Option("PASSWORD_ENV", str, help="the environment variable holding the password"),
        Option("SECRET", str, help="the Secrets Manager secret (ARN or name) holding RDS-style JSON"),
        Option("HOST", str, help="connect here instead of the instance's endpoint (a tunnel, port forwarding)"),
        Option("PORT", int, help="the port to connect to with HOST"),
        Option("SSLMODE", str, help="PostgreSQL's sslmode (default require with AUTH 'iam')"),
        Option("SSLROOTCERT", str, help="the CA bundle (the RDS global bundle) to check the server with"),
        Option("DRIVER", str, help="the SQLAlchemy dialect+driver, for an engine Hydra does not map"),
        *_sql_options(),  # passed through to the SQL head
    )

    def __init__(self, name: str, uri: str, options: Mapping[str, str] | None = None):
        super().__init__(name, uri, options)
        self.region, self.identifier = None, None
        self._session = None
        self._rds = None
        self._rows: list[dict[str, Any]] = []
        self._secrets: list[str] = []
        self.attach_note: str | None = None  # one line the workspace shows after ATTACH

    # -- life cycle -------------------------------------------------------------------------------

    def open(self) -> None:
        from hydra.heads import aws

        self.close()  # REFRESH opens the same head again: no second engine left behind
        region, self.identifier = parse_rds_uri(self.uri)
        if region == ALL_REGIONS:
            self._open_all_regions()
            return
        aws.check_region(region, "rds")
        self._session = aws.boto3_session(self.options.get("PROFILE"), region)
        self.region = region or self._session.region_name
        if not self.region:
            raise HeadConnectionError(
                "no AWS region: write it in the URI (rds://us-east-1) or set AWS_REGION")
        self._rds = aws.client("rds", region=self.region, endpoint=self.options.get("ENDPOINT"),
                               session=self._session)
        if self.identifier is None:
            self._rows = [instance_row(db, self.region) for db in self._describe()]
            return
        found = self._describe(self.identifier)
        if not found:
            raise HeadConnectionError(f"RDS instance '{self.identifier}' not found in {self.region}")
        db = found[0]
        self._rows = [instance_row(db, self.region)]
        self._open_instance(db)

    def close(self) -> None:
        super().close()
        self._rds = None

    def _open_all_regions(self) -> None:
        """``rds://*``: the instances of every enabled region, REGION_THREADS regions at a time.
        A region that cannot be asked is named in ``attach_note``; when none can, its error is
        raised (no credentials, an unreachable endpoint…)."""
        from concurrent.futures import ThreadPoolExecutor

        from hydra.heads import aws

        if self.identifier is not None:
            raise HeadConnectionError(
                "rds://*/<instance> is not supported: attach rds://* and take the instance's "
                "attach_uri from rds_instances")
        self.region = ALL_REGIONS
        self._session = aws.boto3_session(self.options.get("PROFILE"))
        try:
            regions, fallback = aws.enabled_regions(self._session), None
        except HeadConnectionError as exc:  # no ec2:DescribeRegions: every region botocore knows
            partition = self._session.get_partition_for_region(self._session.region_name or "us-east-1")
            regions = sorted(self._session.get_available_regions("rds", partition_name=partition))
            fallback = f"{exc}; asked every {partition} region botocore knows instead"

        def one(region: str) -> tuple[str, list[dict[str, Any]] | None, str | None]:
            try:
                rds = aws.client("rds", region=region, endpoint=self.options.get("ENDPOINT"),
                                 session=self._session)
                return region, [instance_row(db, region) for db in self._describe(rds=rds, region=region)], None
            except HeadError as exc:
                return region, None, str(exc)

        with ThreadPoolExecutor(REGION_THREADS, thread_name_prefix="hydra-rds-region") as pool:
            found = list(pool.map(one, regions))
        failed = [(region, error) for region, rows, error in found if rows is None]
        if found and len(failed) == len(found):
            raise HeadConnectionError(failed[0][1])
        self._rows = [row for _region, rows, _error in found for row in rows or ()]
        listed = f"{len(self._rows)} instance{'s' if len(self._rows) != 1 else ''} in {len(regions)} regions"
        if failed:
            shown = "; ".join(error for _region, error in failed[:3])
            more = f" and {len(failed) - 3} more" if len(failed) > 3 else ""
            listed += f"; {len(failed)} region{'s' if len(failed) != 1 else ''} could not be asked: {shown}{more}"
        self.attach_note = f"{listed}; {fallback}" if fallback else listed

    @property
    def sql(self):
        """The SQL head of the attached instance (None for a region's catalog)."""
        return self.inner[0] if self.inner else None

    def _describe(self, identifier: str | None = None, rds=None, region: str | None = None) -> list[dict[str, Any]]:
        """DescribeDBInstances (of the attached region, or of ``region`` through ``rds``),
        paginated; one clear line for every failure."""
        from botocore.exceptions import ClientError

        from hydra.heads import aws

        rds, region = (rds, region) if rds is not None else (self._rds, self.region)
        kwargs = {"DBInstanceIdentifier": identifier} if identifier else {}
        try:
            paginator = rds.get_paginator("describe_db_instances")
            return [db for page in paginator.paginate(**kwargs) for db in page.get("DBInstances", ())]
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("DBInstanceNotFound", "DBInstanceNotFoundFault"):
                raise HeadConnectionError(
                    f"RDS instance '{identifier}' not found in {region}") from None
            raise HeadConnectionError(aws.error_line(exc, f"RDS in {region}")) from None
        except Exception as exc:  # noqa: BLE001 - no credentials, unreachable endpoint, …
            raise HeadConnectionError(aws.error_line(exc, f"RDS in {region}")) from None

    # -- the instance as a SQL source ------------------------------------------------------------

    def _open_instance(self, db: Mapping[str, Any]) -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import URL

        from hydra.heads.sql.head import SqlHead

        opts = self.options
        engine_name = (db.get("Engine") or "").lower()
        driver = opts.get("DRIVER") or driver_for(engine_name)
        if not driver:
            raise HeadConnectionError(
                f"RDS instance '{self.identifier}' runs {engine_name or 'an unknown engine'}, which "
                "Hydra cannot map to a SQLAlchemy driver; give one with DRIVER 'dialect+driver'")
        family = driver.split("+", 1)[0]
        endpoint = db.get("Endpoint") or {}
        real_host = endpoint.get("Address")
        real_port = endpoint.get("Port") or db.get("DbInstancePort")
        host = opts.get("HOST") or real_host
        try:
            port = int(opts.get("PORT") or real_port or 0) or None
        except ValueError:
            raise HeadConnectionError(f"PORT must be a number, not {opts.get('PORT')!r}") from None
        if not host:
            raise HeadConnectionError(
                f"RDS instance '{self.identifier}' has no endpoint yet "
                f"(status {db.get('DBInstanceStatus')}); give HOST to connect elsewhere")

        auth = (opts.get("AUTH") or ("secret" if opts.get("SECRET") else
                                     "password" if opts.get("PASSWORD_ENV") else "none")).lower()
        user = opts.get("USER")
        password = None
        token_args = None
        if auth == "iam":
            if not user:
                raise HeadConnectionError("AUTH 'iam' needs USER (the database user granted rds_iam)")
            token_args = {"DBHostname": real_host or host, "Port": int(real_port or port or 0),
                          "DBUsername": user, "Region": self.region}
            password = self._token(token_args)
        elif auth == "password":
            variable = opts.get("PASSWORD_ENV")
            if not variable:
                raise HeadConnectionError("AUTH 'password' needs PASSWORD_ENV 'VARIABLE_NAME'")
            if variable not in os.environ:
                raise HeadConnectionError(f"environment variable {variable} is not set "
                                          "(named by PASSWORD_ENV)")
            password = os.environ[variable]
        elif auth == "secret":
            secret_id = opts.get("SECRET") or (db.get("MasterUserSecret") or {}).get("SecretArn")
            if not secret_id:
                raise HeadConnectionError(
                    f"AUTH 'secret' needs SECRET 'arn-or-name' (instance '{self.identifier}' has "
                    "no RDS-managed master user secret)")
            secret_user, password = self._secret(secret_id)
            user = user or secret_user
        elif auth != "none":
            raise HeadConnectionError(f"AUTH must be iam, password, secret or none, not {auth!r}")
        user = user or db.get("MasterUsername")
        if password:
            self._secrets.append(password)

        database = opts.get("DATABASE") or db.get("DBName") or DEFAULT_DATABASE.get(family)
        query: dict[str, str] = {}
        root_cert = opts.get("SSLROOTCERT")
        if family == "postgresql":
            sslmode = opts.get("SSLMODE") or ("require" if auth == "iam" else None)
            if sslmode:
                query["sslmode"] = sslmode
            if root_cert:
                query["sslrootcert"] = root_cert
        elif family in ("mysql", "mariadb"):
            if auth == "iam" and not root_cert and (opts.get("SSLMODE") or "").lower() != "disable":
                raise HeadConnectionError(
                    "AUTH 'iam' on MySQL/MariaDB needs TLS: give SSLROOTCERT '/path/global-bundle.pem' "
                    "(the RDS CA bundle)")
            if root_cert:
                query["ssl_ca"] = root_cert
        url = URL.create(driver, username=user, password=password, host=host, port=port,
                         database=database, query=query)
        inner_options = {k: v for k, v in opts.items() if k in {o.name for o in _sql_options()}}
        inner = SqlHead(self.name, url.render_as_string(hide_password=False), inner_options)
        try:
            inner.open()
        except HeadError as exc:
            raise type(exc)(self._clean(str(exc))) from None
        except Exception as exc:  # noqa: BLE001 - a driver's error becomes one clear line, without secrets
            raise HeadConnectionError(self._clean(f"{self.name}: {exc}")) from None
        if token_args is not None:
            # IAM tokens expire after 15 minutes: every new pooled connection gets a fresh one
            @event.listens_for(inner.engine, "do_connect")
            def _fresh_token(dialect, conn_rec, cargs, cparams):  # noqa: ANN001, ARG001
                cparams["password"] = fresh_token()

            def fresh_token() -> str:
                token = self._token(token_args)
                self._secrets.append(token)
                del self._secrets[:-8]
                return token

            inner.client_password = fresh_token  # psql / mysql bulk reads: one token per read

        self.inner = [inner]
        self.dialect = inner.dialect  # the instance's SQL dialect, as SqlHead.dialect
        self.tables = tuple(dict.fromkeys((*type(self).tables, *inner.tables)))

    def _token(self, args: Mapping[str, Any]) -> str:
        from hydra.heads import aws

        try:
            return self._rds.generate_db_auth_token(**args)
        except Exception as exc:  # noqa: BLE001 - boto3's error becomes one clear line
            raise HeadConnectionError(aws.error_line(exc, "RDS IAM auth token")) from None

    def _secret(self, secret_id: str) -> tuple[str | None, str]:
        """``(username, password)`` from a Secrets Manager secret holding RDS-style JSON."""
        import json

        from botocore.exceptions import ClientError

        from hydra.heads import aws

        sm = aws.client("secretsmanager", region=_arn_region(secret_id) or self.region,
                        endpoint=None, session=self._session)
        try:
            value = sm.get_secret_value(SecretId=secret_id)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "ResourceNotFoundException":
                raise HeadConnectionError(f"secret '{secret_id}' not found in Secrets Manager") from None
            if code in ("AccessDeniedException", "AccessDenied"):
                raise HeadConnectionError(f"access denied to secret '{secret_id}'") from None
            raise HeadConnectionError(aws.error_line(exc, f"secret '{secret_id}'")) from None
        except Exception as exc:  # noqa: BLE001 - boto3's error becomes one clear line
            raise HeadConnectionError(aws.error_line(exc, f"secret '{secret_id}'")) from None
        text = value.get("SecretString")
        try:
            data = json.loads(text) if text else None
        except ValueError:
            data = None
        if not isinstance(data, dict) or not data.get("password"):
            raise HeadConnectionError(
                f"secret '{secret_id}' is not JSON with a \"password\" key (RDS secret format)")
        return data.get("username"), str(data["password"])

    def _clean(self, text: str) -> str:
        from hydra.core.errors import one_line
        from hydra.core.secrets import mask_secrets

        return mask_secrets(one_line(Exception(text)), self._secrets)

    # -- the composite's hooks --------------------------------------------------------------------

    def clean(self, message: str) -> str:
        return self._clean(message)

    def owner(self, element: Element) -> Head:
        if not self.inner:
            where = "every enabled region" if self.region == ALL_REGIONS else self.region
            raise HeadError(f"{self.name} lists the RDS instances of {where}; attach one instance to "
                            "read data: ATTACH '<its attach_uri in rds_instances>' AS …")
        return self.inner[0]

    def own_tables(self) -> Mapping[str, Any]:
        return {"rds_instances": _instances_table(self._rows)}

    @property
    def engine(self):
        """The SQLAlchemy engine of the instance's SQL head."""
        if self.sql is None:
            raise HeadError(f"{self.name} is not an attached instance")
        return self.sql.engine

    # -- live-source snapshots (issue 13): the instance's SQL head takes and holds them -------------

    def aggregates(self, element: Element, columns, snapshot=None):
        return self.on(element, "aggregates", columns, snapshot)

    def snapshot(self, element: Element, readers: int = 1, per_reader: bool = False, figures: bool = True):
        return self.on(element, "snapshot", readers, per_reader, figures)

    def release(self, snapshot) -> None:
        return self.call(self.sql, "release", snapshot)

    def snapshot_identity(self, snapshot) -> dict:
        return self.call(self.sql, "snapshot_identity", snapshot)

    def snapshot_held(self, snapshot):
        return self.call(self.sql, "snapshot_held", snapshot)


def _arn_region(secret_id: str) -> str | None:
    """The region of a secret ARN (arn:aws:secretsmanager:<region>:…), else None."""
    parts = secret_id.split(":")
    if len(parts) > 4 and parts[0] == "arn" and parts[2] == "secretsmanager":
        return parts[3] or None
    return None
