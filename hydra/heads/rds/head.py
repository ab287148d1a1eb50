"""RDS head: a region's DB instances as a catalog, and any one instance as a SQL source.

Two shapes of ``ATTACH``::

    ATTACH 'rds://us-east-1' AS aws [(PROFILE 'p', ENDPOINT 'url')];
        -- fills rds_instances (paginated DescribeDBInstances); no elements of its own

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
aggregates) to ``hydra.heads.sql.SqlHead`` by composition. The password or token lives only in the
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
from typing import TYPE_CHECKING, Any, Iterable, Mapping
from urllib.parse import unquote, urlsplit

from hydra.core.model import Element
from hydra.heads.base import Head, HeadConnectionError, HeadError

if TYPE_CHECKING:
    import pyarrow as pa
    from sqlglot import exp

SQL_OPTIONS = ("SCHEMAS", "SYSTEM", "BULK", "BATCH_ROWS", "READABLE_COLUMNS")  # passed through to SqlHead

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


class RdsHead(Head):
    kind = "rds"
    schemes = ("rds",)
    tables = ("rds_instances",)
    options_allowed = ("PROFILE", "ENDPOINT", "USER", "DATABASE", "AUTH", "PASSWORD_ENV", "SECRET",
                       "HOST", "PORT", "SSLMODE", "SSLROOTCERT", "DRIVER", *SQL_OPTIONS)

    def __init__(self, name: str, uri: str, options: Mapping[str, str] | None = None):
        super().__init__(name, uri, options)
        self.options = {k.upper(): v for k, v in self.options.items()}
        self.region, self.identifier = None, None
        self.inner = None  # the SqlHead of an attached instance
        self._session = None
        self._rds = None
        self._rows: list[dict[str, Any]] = []
        self._secrets: list[str] = []

    # -- life cycle -------------------------------------------------------------------------------

    def open(self) -> None:
        from hydra.heads import aws

        self.close()  # REFRESH opens the same head again: no second engine left behind
        region, self.identifier = parse_rds_uri(self.uri)
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
        if self.inner is not None:
            self.inner.close()
            self.inner = None
        self._rds = None

    def _describe(self, identifier: str | None = None) -> list[dict[str, Any]]:
        """DescribeDBInstances, paginated; one clear line for every failure."""
        from botocore.exceptions import ClientError

        from hydra.heads import aws

        kwargs = {"DBInstanceIdentifier": identifier} if identifier else {}
        try:
            paginator = self._rds.get_paginator("describe_db_instances")
            return [db for page in paginator.paginate(**kwargs) for db in page.get("DBInstances", ())]
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("DBInstanceNotFound", "DBInstanceNotFoundFault"):
                raise HeadConnectionError(
                    f"RDS instance '{identifier}' not found in {self.region}") from None
            raise HeadConnectionError(aws.error_line(exc, f"RDS in {self.region}")) from None
        except Exception as exc:  # noqa: BLE001 - no credentials, unreachable endpoint, …
            raise HeadConnectionError(aws.error_line(exc, f"RDS in {self.region}")) from None

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
        inner_options = {k: v for k, v in opts.items() if k in SQL_OPTIONS}
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

        self.inner = inner
        self.dialect = inner.dialect
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

    def _need_inner(self):
        if self.inner is None:
            raise HeadError(f"{self.name} lists the RDS instances of {self.region}; attach one "
                            f"instance to read data: ATTACH 'rds://{self.region}/<identifier>' AS …")
        return self.inner

    def _call(self, method: str, *args, **kwargs):
        inner = self._need_inner()
        try:
            return getattr(inner, method)(*args, **kwargs)
        except HeadError as exc:
            raise type(exc)(self._clean(str(exc))) from None

    # -- catalog ----------------------------------------------------------------------------------

    def enumerate(self) -> Iterable[Element]:
        if self.inner is None:
            return []
        return list(self._call("enumerate"))

    def head_tables(self) -> Mapping[str, Any]:
        tables: dict[str, Any] = {"rds_instances": _instances_table(self._rows)}
        if self.inner is not None:
            tables.update(self._call("head_tables"))
        return tables

    def schema(self, element: Element):
        return self._call("schema", element)

    # -- data -------------------------------------------------------------------------------------

    def scan_sql(self, element: Element) -> str | None:
        return self._call("scan_sql", element)

    def can_filter(self, element: Element, predicate: exp.Expression) -> bool:
        return self._call("can_filter", element, predicate)

    def read(self, element: Element, columns=None, predicates=None, limit=None):
        return self._call("read", element, columns, predicates, limit)

    def split(self, element: Element, parts: int):
        return self._call("split", element, parts)

    def aggregates(self, element: Element, columns):
        return self._call("aggregates", element, columns)

    def __getattr__(self, name: str):
        # Anything else SqlHead offers (engine, select_sql, quote…) is served by the inner head.
        if name.startswith("__") or name in ("inner", "_secrets"):
            raise AttributeError(name)
        inner = self.__dict__.get("inner")
        if inner is None:
            raise AttributeError(name)
        return getattr(inner, name)


def _arn_region(secret_id: str) -> str | None:
    """The region of a secret ARN (arn:aws:secretsmanager:<region>:…), else None."""
    parts = secret_id.split(":")
    if len(parts) > 4 and parts[0] == "arn" and parts[2] == "secretsmanager":
        return parts[3] or None
    return None
