"""The SQL head: any database SQLAlchemy can reach (PostgreSQL, MSSQL, MySQL/MariaDB, SQLite, …).

``ATTACH 'postgresql://user@host/db' AS crm (SCHEMAS 'public,sales', SYSTEM false)``

* Enumeration runs a few bulk catalog queries per dialect (``catalog``), never per-table
  reflection; other dialects go through SQLAlchemy's multi-table inspector.
* Reads push projection, filters (transpiled by sqlglot to the dialect) and limits down. PostgreSQL
  streams ``COPY (SELECT …) TO STDOUT (FORMAT binary)`` through ``psql`` and decodes it into Arrow
  with numpy (``pgbinary``), or CSV COPY into Arrow's CSV reader (``postgres``);
  MySQL/MariaDB streams the ``mysql`` client's batch output into Arrow's CSV reader
  (``mysql``); everything else (and any of these without the client program) uses a streaming
  cursor fetched in large batches and turned into Arrow column-wise.
* ``split`` cuts an element into key ranges for parallel reads; ``aggregates`` computes exact
  PROFILE/RECONCILE figures in one query at the source; ``snapshot`` gives the one moment every
  range reader and the figures of an element read in (``snapshot``).
* Read-only: PostgreSQL sessions start with ``default_transaction_read_only=on``, MySQL sessions run
  ``SET SESSION TRANSACTION READ ONLY``, MSSQL (pyodbc) connects with ``ApplicationIntent=ReadOnly``,
  SQLite with ``PRAGMA query_only``. Only SELECT and COPY … TO STDOUT are ever sent.

Whole servers (``server``): a PostgreSQL or SQL Server URL that names no database, or any SQL URL
with ``DATABASES '*'`` / ``DATABASES 'sales_*,crm'``, attaches every database the login reaches as
one source (elements ``srv.<database>.<schema>.<table>``; MySQL/MariaDB: every non-system schema,
``my.<schema>.<table>`` as always); the ``databases`` table lists them, and why one is not readable.

Options: ``DATABASES`` (above); ``SCHEMAS 'a,b'`` limits the scan (for MySQL the URL's database is the default);
``SYSTEM true`` includes system schemas; ``READABLE_COLUMNS true`` (PostgreSQL) lists and reads
only the columns the role may read in a table where it may not read them all (``elements.note``
names the others; without it such a table is listed whole, and reading it fails);
``BULK 'auto'|'binary'|'client'|'copy'|'cursor'`` picks the bulk transport (``binary`` =
PostgreSQL binary COPY via psql; ``copy`` = binary COPY via psycopg; ``client`` = CSV from psql /
mysql; ``cursor`` = DB-API streaming cursor; ``auto`` = the measured
fastest one available: binary via psql, else via psycopg, for PostgreSQL; client for MySQL); ``BATCH_ROWS n`` sets the cursor
batch size.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import threading
from typing import TYPE_CHECKING, Any, Iterable

from hydra.core.model import Aggregates, Column, Element
from hydra.core.refs import ref_text
from hydra.heads.base import Head, HeadConnectionError, HeadError, Option, Qual
from hydra.heads.sql import blocks as sql_blocks

if TYPE_CHECKING:
    import pyarrow as pa

# sqlglot dialect per SQLAlchemy dialect name
_SQLGLOT = {"postgresql": "postgres", "mssql": "tsql", "mysql": "mysql", "mariadb": "mysql",
            "sqlite": "sqlite", "oracle": "oracle", "hana": "hana", "snowflake": "snowflake",
            "bigquery": "bigquery", "redshift": "redshift", "trino": "trino", "duckdb": "duckdb",
            "clickhouse": "clickhouse", "teradata": "teradata", "databricks": "databricks"}

# the driver we install for a bare scheme (SQLAlchemy's own defaults are drivers we do not ship)
_DEFAULT_DRIVER = {"postgresql": ("psycopg", "psycopg"), "postgres": ("psycopg", "psycopg"),
                   "mysql": ("pymysql", "pymysql"), "mariadb": ("pymysql", "pymysql")}


def _one_line(text: str) -> str:
    lines = [ln.strip() for ln in str(text).strip().splitlines() if ln.strip()]
    line = " ".join(lines)
    line = re.sub(r"\(Background on this error at: [^)]*\)", "", line)
    line = re.sub(r"^\([\w.]+\)\s*", "", line)  # SQLAlchemy's "(psycopg.OperationalError) " prefix
    line = re.sub(r"\[SQL: .*$", "", line)
    return re.sub(r"\s+", " ", line).strip()


def datetimeoffset_from_odbc(raw: bytes):
    """pyodbc has no converter for SQL Server's datetimeoffset (ODBC type -155): decode its struct."""
    import struct
    from datetime import datetime, timedelta, timezone

    if raw is None:
        return None
    y, mo, d, h, mi, s, ns, oh, om = struct.unpack("<6hI2h", raw)
    tz = timezone(timedelta(hours=oh, minutes=om))
    return datetime(y, mo, d, h, mi, s, ns // 1000, tzinfo=tz)


BULK_MODES = ("auto", "binary", "copy", "client", "cursor")
NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
           "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "REAL")


class SqlHead(Head):
    kind = "sql"
    schemes = ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2", "mssql",
               "mssql+pyodbc", "mssql+pymssql", "mysql", "mysql+pymysql", "mariadb", "mariadb+pymysql",
               "sqlite")
    attach_options = (
        Option("DATABASES", str,
               help="the databases of a whole server to list: '*', or names and globs, comma-separated "
                    "('sales_*,crm'); a URL without a database means '*'"),
        Option("SCHEMAS", str, help="the schemas to list, comma-separated (MySQL: the URL's database)"),
        Option("SYSTEM", bool, help="list the system schemas too"),
        Option("BULK", str, choices=BULK_MODES,
               help="the bulk transport: binary = PostgreSQL binary COPY via psql, copy = via psycopg, "
                    "client = CSV from psql/mysql, cursor = DB-API cursor, auto = the fastest available"),
        Option("BATCH_ROWS", int, help="rows per fetch of the cursor transport (default 65536)"),
        Option("READABLE_COLUMNS", bool,
               help="PostgreSQL: list and read only the columns the role may read, in a partly readable table"),
    )

    def __init__(self, name: str, uri: str, options=None):
        super().__init__(name, uri, options)
        # the parts in front of an element's own in its ref: a database's inner head of a whole
        # server (``server``) names its elements srv.<database>.<schema>.<table> in messages
        self.prefix: tuple[str, ...] = ()
        self._engine = None
        # a postgresql+psycopg head connects through ``direct`` (no SQLAlchemy: start-up time)
        # and creates its engine only when something needs one (``engine``)
        self._pool = None
        self._light_url = self._opened_uri = None
        self._engine_lock = threading.Lock()
        self._lock = threading.Lock()
        self._described: dict[tuple[str, ...], Element] = {}
        scheme = uri.split(":", 1)[0].lower()
        backend = scheme.split("+", 1)[0]
        backend = {"postgres": "postgresql"}.get(backend, backend)
        self.backend = backend  # 'postgresql', 'mysql', 'mariadb', 'mssql', 'sqlite', …
        self.dialect = _SQLGLOT.get(backend, backend)  # the sqlglot dialect Quals are rendered in
        self.family = {"mariadb": "mysql"}.get(backend, backend)
        schemas = self.option("SCHEMAS")
        self.schemas = [s.strip() for s in str(schemas).split(",") if s.strip()] if schemas else None
        self.system = self.option("SYSTEM", False)
        # PostgreSQL: list (and read) only the columns the role may read, in partly readable tables
        self.readable_columns = self.option("READABLE_COLUMNS", False)
        self._parents: dict[tuple[str, ...], bool] = {}  # PostgreSQL inheritance parents (read with ONLY)
        self.bulk = self.option("BULK", "auto").lower()
        self.batch_rows = self.option("BATCH_ROWS", 65536)
        # where the client programs (psql, mysql) get a password from, when not the URL's: a head
        # whose password changes (RDS IAM tokens last 15 minutes) sets a function returning it
        self.client_password = None

    def ref(self, parts) -> str:
        """The element's ref as the user writes it (messages name elements by it)."""
        return ref_text(self.name, (*self.prefix, *parts))

    def dotted(self, parts) -> str:
        return ".".join((*self.prefix, *parts))

    def password(self) -> str | None:
        """The password a new connection of a client program should use, if any."""
        if self.client_password is not None:
            return self.client_password()
        url = self.url
        return url.password or url.query.get("password") or None

    # -- choosing a head ------------------------------------------------------------------------

    @classmethod
    def claims_scheme(cls, scheme: str) -> bool:
        """True for the listed schemes and any other scheme whose SQLAlchemy dialect loads."""
        scheme = scheme.lower()
        if scheme in cls.schemes:
            return True
        try:
            from sqlalchemy.dialects import registry

            registry.load(scheme.replace("+", "."))
            return True
        except Exception:  # noqa: BLE001 - not a SQLAlchemy dialect
            return False

    _ODBC_SECRET = re.compile(r"(?i)((?:pwd|password)\s*(?:=|%3D))([^;&]*)")

    @staticmethod
    def redact(uri: str) -> str:
        """The base redaction, plus PWD=… inside an ODBC connection string (``odbc_connect=…``)."""
        from hydra.core.secrets import MASK, redact_uri

        return SqlHead._ODBC_SECRET.sub(lambda m: m.group(1) + (MASK if m.group(2) else ""), redact_uri(uri))

    # -- connection -----------------------------------------------------------------------------

    def _secrets(self) -> list[str]:
        """The password and secret parameters of the URL, in every form a message could show."""
        from urllib.parse import unquote

        from hydra.core.secrets import uri_secrets

        out = uri_secrets(self.uri)
        for m in self._ODBC_SECRET.finditer(unquote(self.uri)):
            out.append(m.group(2))
        return out

    def _clean(self, err: BaseException | str) -> str:
        from hydra.core.secrets import mask_secrets

        return mask_secrets(_one_line(str(err)), self._secrets())

    def _driver_uri(self) -> str:
        """The URI with the driver we install named, for a bare scheme."""
        uri = self.uri
        scheme, _, rest = uri.partition(":")
        low = scheme.lower()
        if low in _DEFAULT_DRIVER:
            backend = {"postgres": "postgresql"}.get(low, low)
            uri = f"{backend}+{_DEFAULT_DRIVER[low][0]}:{rest}"
        return uri

    def _url(self, uri: str | None = None):
        from sqlalchemy.engine import make_url

        try:
            url = make_url(uri or self._driver_uri())
        except Exception as err:  # noqa: BLE001 - any error of SQLAlchemy's URL parser means: not a database URL
            raise HeadError(f"{self.name}: not a database URL: {self._clean(err)}") from None
        if url.get_backend_name() == "mssql" and url.get_driver_name() == "pyodbc":
            if not any(k.lower() == "applicationintent" for k in url.query):
                url = url.update_query_dict({"ApplicationIntent": "ReadOnly"})
        return url

    @property
    def engine(self):
        """The SQLAlchemy engine; a head opened through ``direct`` creates it now, once."""
        if self._engine is None:
            with self._engine_lock:
                if self._engine is None and self._pool is not None:
                    # the URI it was opened with (a whole server's head opens a database's
                    # URI, then puts its own back: ``SqlServerHead.open``)
                    self._engine = self._create_engine(self._url(self._opened_uri))
        if self._engine is None:
            raise HeadError(f"{self.name} is not open")
        return self._engine

    @property
    def url(self):
        """The URL connections are made with (SQLAlchemy's ``URL``, or ``direct.Url``: the same parts)."""
        if self._engine is None and self._light_url is not None:
            return self._light_url
        return self.engine.url

    def raw_connection(self):
        """A DB-API connection of the head's pool (``driver_connection``, ``cursor``; ``close``
        gives it back, rolled back), without creating an engine when the head has none yet."""
        if self._engine is None and self._pool is not None:
            return self._pool.connect()
        return self.engine.raw_connection()

    def fetch_one(self, sql: str, params: dict | None = None):
        """The first row of ``sql`` (None when it has none), on a connection of the head's pool:
        EXTRACT's split asks this, and a head opened through ``direct`` makes no engine for it
        (importing SQLAlchemy and creating the engine cost 0.25 s of every PostgreSQL EXTRACT of a
        table big enough to split). ``params``: pyformat (``%(name)s``), psycopg's and PyMySQL's."""
        with self.pooled() as raw:
            cur = raw.cursor()
            try:
                if params:
                    cur.execute(sql, params)
                else:
                    cur.execute(sql)
                return cur.fetchone()
            finally:
                cur.close()

    @contextlib.contextmanager
    def pooled(self):
        """``raw_connection()`` for a block, given back as a SQLAlchemy ``Connection`` would give
        it back: rolled back into the pool, or invalidated when the block was interrupted
        (KeyboardInterrupt: a command may still be running on it) or the connection broke."""
        raw = self.raw_connection()
        try:
            yield raw
        except Exception:
            driver = raw.driver_connection
            if getattr(driver, "broken", False) or getattr(driver, "closed", False):
                raw.invalidate()
            else:
                raw.close()
            raise
        except BaseException:
            raw.invalidate()
            raise
        raw.close()

    def _connect_args(self, url) -> dict[str, Any]:
        connect_args: dict[str, Any] = {}
        if self.family == "postgresql" and url.get_driver_name() in ("psycopg", "psycopg2"):
            connect_args["options"] = "-c default_transaction_read_only=on -c TimeZone=UTC -c DateStyle=ISO"
            connect_args.setdefault("connect_timeout", 10)
        if self.family == "mysql":
            connect_args.setdefault("connect_timeout", 10)
        return connect_args

    def open(self) -> None:
        if self._open_direct():
            return
        url = self._url()
        engine = self._create_engine(url)
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1").all()
        except Exception as err:  # noqa: BLE001 - any driver error is a connection problem here
            engine.dispose()
            raise HeadConnectionError(f"{self.name}: cannot connect to {self.redact(self.uri)}: {self._clean(err)}") from None
        self._engine = engine
        if self.family == "mysql" and self.schemas is None and url.database:
            self.schemas = [url.database]

    def _open_direct(self) -> bool:
        """Open a postgresql+psycopg head through ``direct`` (the same connections, no
        SQLAlchemy); False for any other URL."""
        from hydra.heads.sql import direct

        try:
            url = direct.parse_url(self._driver_uri())
        except ValueError:
            return False  # SQLAlchemy's parser says why (``_url``)
        if not direct.direct(url):
            return False
        try:
            import importlib

            importlib.import_module(direct.driver(url))  # as create_engine would, before connecting
        except ModuleNotFoundError as err:
            from hydra.core.errors import missing_driver

            raise missing_driver(self.name, err) from None
        pool = direct.Pool(direct.connect_kwargs(url, self._connect_args(url)), password=self._fresh_password,
                           driver=direct.driver(url),
                           set_up=lambda connection: self.set_up_session(connection, direct=True))
        try:
            raw = pool.connect()
            try:
                cur = raw.cursor()
                cur.execute("SELECT 1")
                cur.fetchall()
                cur.close()
            finally:
                raw.close()
        except Exception as err:  # noqa: BLE001 - any driver error is a connection problem here
            pool.close()
            raise HeadConnectionError(f"{self.name}: cannot connect to {self.redact(self.uri)}: {self._clean(err)}") from None
        self._light_url, self._pool, self._opened_uri = url, pool, self._driver_uri()
        if self.family == "mysql" and self.schemas is None and url.database:
            self.schemas = [url.database]
        return True

    def _fresh_password(self) -> str | None:
        """The password of a new connection when it changes (``client_password``), else None."""
        return self.client_password() if self.client_password is not None else None

    def _create_engine(self, url):
        from sqlalchemy import create_engine, event

        connect_args = self._connect_args(url)
        try:
            engine = create_engine(url, connect_args=connect_args, pool_pre_ping=False, pool_size=8, max_overflow=16)
        except TypeError:  # sqlite and others have no pool_size
            engine = create_engine(url, connect_args=connect_args)
        except ModuleNotFoundError as err:
            from hydra.core.errors import missing_driver

            raise missing_driver(self.name, err) from None
        except Exception as err:  # noqa: BLE001 - bad URL
            raise HeadConnectionError(f"{self.name}: cannot use {self.redact(self.uri)}: {self._clean(err)}") from None

        @event.listens_for(engine, "connect")
        def _read_only(dbapi_conn, _record):  # noqa: ANN001
            self.set_up_session(dbapi_conn)

        return engine

    def set_up_session(self, dbapi_conn, direct: bool = False) -> None:
        """What every new connection runs first, the engine's and (``direct``) the pool's of
        ``hydra.heads.sql.direct`` alike: a read-only session (PostgreSQL's is set by its connect
        options), in UTC for MySQL."""
        cur = dbapi_conn.cursor()
        try:
            if self.family == "mysql":
                if direct:
                    # what SQLAlchemy's MySQL dialect runs on connect (``on_connect``), which an
                    # engine's connections get from it
                    cur.execute(f"SET NAMES {dbapi_conn.character_set_name()}")
                cur.execute("SET SESSION TRANSACTION READ ONLY")
                cur.execute("SET time_zone = '+00:00'")
            elif self.family == "sqlite":
                cur.execute("PRAGMA query_only = ON")
            elif self.family == "mssql" and hasattr(dbapi_conn, "add_output_converter"):  # pyodbc
                dbapi_conn.add_output_converter(-155, datetimeoffset_from_odbc)
        finally:
            cur.close()

    @property
    def is_open(self) -> bool:
        return self._engine is not None or self._pool is not None

    def release_idle(self) -> None:
        """Close the idle pooled connections only; the head stays open and connects again when
        next used (one checked out — a read under way, a held snapshot — closes when given back)."""
        if self._engine is not None:
            self._engine.dispose()  # the engine makes a new pool
        if self._pool is not None:
            self._pool.release_idle()

    def idle_connections(self) -> int:
        """Connections pooled idle (for tests and the whole-server head's bookkeeping)."""
        engine_idle = self._engine.pool.checkedin() if self._engine is not None else 0
        return engine_idle + (self._pool.idle() if self._pool is not None else 0)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    # -- catalog --------------------------------------------------------------------------------

    def _catalog(self, only=None) -> list[Element]:
        from hydra.heads.sql import catalog as cat

        try:
            with self.engine.connect() as conn:
                if self.family == "postgresql":
                    parents: dict = {}
                    found = cat.enumerate_postgres(conn, self.schemas, self.system, only, self.readable_columns, parents)
                    with self._lock:
                        self._parents.update(parents)
                    return found
                if self.family == "mysql":
                    return cat.enumerate_mysql(conn, self.schemas, self.system, only)
                if self.family == "mssql":
                    return cat.enumerate_mssql(conn, self.schemas, self.system, only)
                return cat.enumerate_generic(self.engine, conn, self.schemas, self.system, only)
        except HeadError:
            raise
        except Exception as err:  # noqa: BLE001 - a driver's error becomes one clear line, without secrets
            raise HeadError(f"{self.name}: cannot read the catalog: {self._clean(err)}") from None

    def enumerate(self) -> Iterable[Element]:
        elements = self._catalog()
        with self._lock:
            for el in elements:
                self._described[el.parts] = el
        return elements

    def _full(self, element: Element) -> Element:
        """The element with columns and head-private details (described again if needed)."""
        if element.columns:
            return element
        with self._lock:
            known = self._described.get(tuple(element.parts))
        if known is not None:
            return known
        if len(element.parts) != 2:
            raise HeadError(f"{self.name}: a SQL element is schema.table, not {self.dotted(element.parts)}")
        found = self._catalog(only=tuple(element.parts))
        if not found:
            raise HeadError(f"{self.name}: no table or view {self.dotted(element.parts)}")
        with self._lock:
            self._described[found[0].parts] = found[0]
        return found[0]

    def schema(self, element: Element) -> list[Column]:
        return list(self._full(element).columns or [])

    # -- SQL text -------------------------------------------------------------------------------

    def quote(self, name: str) -> str:
        from sqlglot import exp

        return exp.to_identifier(name, quoted=True).sql(dialect=self.dialect)

    def table_sql(self, element: Element) -> str:
        """The table in FROM: ``ONLY "s"."t"`` for a PostgreSQL inheritance parent.

        PostgreSQL reads a parent with every child's rows. Hydra reads it with ONLY, its own rows:
        each child is an element of its own, so marking a parent and its children extracts every
        row once, and the element's figures match the catalog's (reltuples counts the parent's own
        rows). ``elements.note`` says so. A partitioned table is not a parent here: it has no rows
        of its own, and reads through every partition as usual."""
        from sqlglot import exp

        schema, table = element.parts[0], element.parts[-1]
        sql = exp.table_(table, db=schema, quoted=True).sql(dialect=self.dialect)
        if self.family == "postgresql" and element.kind in ("table", "foreign table") and self._is_parent(element, sql):
            return f"ONLY {sql}"
        return sql

    def _is_parent(self, element: Element, table: str) -> bool:
        """Whether a PostgreSQL table has inheritance children: known since enumeration, else asked."""
        parts = tuple(element.parts)
        with self._lock:
            known = self._parents.get(parts)
        if known is None:
            sql = ("SELECT EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhparent "
                   "WHERE i.inhparent = to_regclass(%(t)s) AND c.relkind <> 'p')")
            try:
                known = bool(self.fetch_one(sql, {"t": table})[0])
            except Exception as err:  # noqa: BLE001 - a driver's error becomes one clear line, without secrets
                raise HeadError(f"{self.name}: cannot read the catalog: {self._clean(err)}") from None
            with self._lock:
                self._parents[parts] = known
        return known

    # -- predicates -----------------------------------------------------------------------------

    def _resolve(self, element: Element, name: str) -> Column | None:
        cols = element.columns or []
        for c in cols:
            if c.name == name:
                return c
        matches = [c for c in cols if c.name.lower() == name.lower()]
        return matches[0] if len(matches) == 1 else None

    def _render(self, element: Element, qual: Qual) -> str | None:
        """The Qual in the source's dialect, or None when it cannot be rendered exactly."""
        from dataclasses import replace

        from hydra.core.quals import to_sqlglot

        if self.family == "postgresql" and sql_blocks.is_locator(qual) and self._resolve(element, qual.column) is None:
            return sql_blocks.render(qual)  # a block range of split(): ctid, PostgreSQL's own
        leaves = []
        for leaf in qual.leaves():
            column = self._resolve(element, leaf.column)
            if column is None or not self._filterable(column, leaf):
                return None
            leaves.append(replace(leaf, column=column.name))
        for value in (v for leaf in leaves for v in leaf.values):
            if isinstance(value, str):
                if self.family == "mysql" and "\\" in value:
                    return None  # backslash escapes in MySQL string literals
                if "\x00" in value:
                    return None
            elif isinstance(value, float) and value != value:
                return None  # NaN
        exact = Qual.either(*leaves) if qual.op == "or" else leaves[0]
        try:
            return to_sqlglot(exact).sql(dialect=self.dialect)
        except Exception:  # noqa: BLE001 - a Qual the dialect cannot render is not pushed down
            return None

    def _filterable(self, column: Column, qual: Qual) -> bool:
        """Whether this comparison on this column means the same at the source as in DuckDB."""
        import datetime as dt

        from hydra.heads.sql import types as sql_types

        duck = column.type.upper()
        null_test = qual.op in ("is null", "is not null")
        if column.note == sql_types.NUMERIC_NAN_NOTE:
            # a NaN is NULL here, not at the source, where it fails every comparison
            return not null_test and self._comparable(duck, qual)
        if null_test:
            return True
        if column.note:
            return False  # lossy conversions (numeric→double, money…) compare differently
        if not self._comparable(duck, qual):
            return False  # DuckDB would cast one side: the source might cast otherwise
        if any(isinstance(v, dt.date) for v in qual.values) and self.family == "sqlite":
            return False  # SQLite keeps dates as text or numbers; comparisons differ
        if duck.endswith("[]") or duck in ("BLOB", "JSON", "INTERVAL", "TIME", "UUID"):
            return False
        like = qual.op in ("like", "not like")
        if duck == "VARCHAR":
            src = re.sub(r"\(.*\)", "", (column.source_type or "").lower()).strip()
            if self.family == "postgresql" and src in ("text", "character varying", "varchar", "name"):
                # equality is binary; ordering depends on the collation. Not for char(n) (pads),
                # citext (case-insensitive) or enums (a label that does not exist is an error)
                if like:
                    return "\\" not in qual.value  # PostgreSQL's LIKE escapes with \
                return qual.op in ("=", "<>", "in", "not in")
            if self.family == "sqlite":
                return qual.op in ("=", "<>", "in", "not in")  # its LIKE ignores case
            return False  # MySQL/MSSQL: case-insensitive, pad-space collations by default
        if duck.startswith("TIMESTAMP WITH TIME ZONE"):
            return False
        if duck in ("DATE", "TIMESTAMP") and self.family in ("mysql", "sqlite"):
            return False  # zero dates / text dates
        return not like

    @staticmethod
    def _comparable(duck: str, qual: Qual) -> bool:
        """Whether the Qual's values are of the column's kind (text with text, numbers with
        numbers…), so neither DuckDB nor the source casts."""
        import datetime as dt
        from decimal import Decimal

        for value in qual.values:
            if isinstance(value, bool):
                ok = duck == "BOOLEAN"
            elif isinstance(value, (int, float, Decimal)):
                ok = duck in NUMERIC or (duck.startswith("DECIMAL") and not duck.endswith("]"))
            elif isinstance(value, (dt.date, dt.datetime)):
                ok = duck in ("DATE", "TIMESTAMP")
            elif isinstance(value, str):
                ok = duck in ("VARCHAR", "DATE", "TIMESTAMP") or duck.endswith("[]") or \
                    duck in ("BLOB", "JSON", "INTERVAL", "TIME", "UUID")
            else:
                ok = False
            if not ok:
                return False
        return True

    def can_filter(self, element: Element, qual: Qual) -> bool:
        try:
            element = self._full(element)
        except HeadError:
            return False
        return self._render(element, qual) is not None

    def select_sql(self, element: Element, columns: list[str] | None, quals: list[Qual] | None, limit: int | None,
                   expressions: list[str] | None = None) -> tuple[str, list[Column]]:
        """The SELECT sent to the source, and the columns it returns in order."""
        element = self._full(element)
        cols = self._columns(element, columns)
        select = expressions if expressions is not None else [self.quote(c.name) for c in cols]
        where = []
        for qual in quals or []:
            text = self._render(element, qual)
            if text is None:
                from hydra.core.quals import to_sql

                raise HeadError(f"{self.name}: cannot push down {to_sql([qual], 'duckdb')}")
            where.append(f"({text})")
        sql = f"SELECT {', '.join(select) if select else '1 AS one'} FROM {self.table_sql(element)}"
        if where:
            sql += " WHERE " + " AND ".join(where)
        if limit is not None:
            if self.family == "mssql":
                sql = sql.replace("SELECT ", f"SELECT TOP {int(limit)} ", 1)
            else:
                sql += f" LIMIT {int(limit)}"
        return sql, cols

    def _columns(self, element: Element, columns: list[str] | None) -> list[Column]:
        if columns is None:
            return list(element.columns or [])
        out = []
        for name in columns:
            col = self._resolve(element, name)
            if col is None:
                raise HeadError(f"{self.name}: {self.dotted(element.parts)} has no column {name!r}")
            out.append(col)
        return out

    # -- data -----------------------------------------------------------------------------------

    def read(self, element: Element, columns=None, quals=None, limit=None) -> pa.RecordBatchReader:
        element = self._full(element)
        if self.family == "postgresql" and self.bulk in ("auto", "binary", "copy", "client"):
            from hydra.heads.sql import postgres as sql_postgres

            if sql_postgres.usable(self):
                if self.bulk in ("auto", "binary", "copy") and self._columns(element, columns):
                    from hydra.heads.sql import pgbinary as sql_pgbinary

                    if self.bulk != "copy" and shutil.which("psql"):
                        return sql_pgbinary.read(self, element, columns, quals, limit, transport="psql")
                    if self.url.get_driver_name() == "psycopg":
                        return sql_pgbinary.read(self, element, columns, quals, limit, transport="psycopg")
                return sql_postgres.read(self, element, columns, quals, limit)
        if self.family == "mysql" and self.bulk in ("auto", "client"):
            from hydra.heads.sql import mysql as sql_mysql

            if sql_mysql.usable(self):
                from hydra.heads.sql import snapshot
                from hydra.heads.sql.aggregates import figure_exprs, from_row

                # the one reader of an element's snapshot takes its figures there, first
                prelude = snapshot.prelude(self, element, figure_exprs, from_row)
                return sql_mysql.read(self, element, columns, quals, limit, prelude=prelude)
        return self._read_cursor(element, columns, quals, limit)

    def _read_cursor(self, element: Element, columns, quals, limit) -> pa.RecordBatchReader:
        """Generic path: a streaming cursor, ``fetchmany`` in big batches, Arrow column-wise."""
        import pyarrow as pa

        from hydra.heads.sql.arrow import column_from_values
        from hydra.heads.sql.types import arrow_type

        element = self._full(element)
        cols = self._columns(element, columns)
        exprs, posts = None, {}
        if self.family == "postgresql":  # the same server-side casts as the COPY path
            from hydra.heads.sql.postgres import cursor_plan

            exprs, posts = cursor_plan(self, element, cols)
        elif self.family == "mysql":
            from hydra.heads.sql.mysql import cursor_exprs

            exprs = cursor_exprs(self, cols)
        sql, cols = self.select_sql(element, columns, quals, limit, expressions=exprs)
        schema = pa.schema([pa.field(c.name, arrow_type(c.type) or pa.string()) for c in cols])
        batch_rows = self.batch_rows
        raw = self.engine.raw_connection()
        try:
            from hydra.heads.sql.snapshot import join

            join(self, raw.driver_connection)  # within the element's snapshot, if it has one
            if self.family == "mysql" and "pymysql" in type(raw.driver_connection).__module__:
                import pymysql.cursors

                cur = raw.driver_connection.cursor(pymysql.cursors.SSCursor)
            elif self.family == "postgresql" and "psycopg" in type(raw.driver_connection).__module__:
                cur = raw.driver_connection.cursor(name=f"hydra_{id(self)}_{threading.get_ident()}")
            else:
                cur = raw.cursor()
                if hasattr(cur, "arraysize"):
                    cur.arraysize = batch_rows
            cur.execute(sql)
        except Exception as err:  # noqa: BLE001 - a driver's error becomes one clear line, without secrets
            raw.close()
            raise HeadError(f"{self.ref(element.parts)}: {self._clean(err)}") from None
        ref = self.ref(element.parts)

        def batches():
            try:
                while True:
                    try:
                        rows = cur.fetchmany(batch_rows)
                    except Exception as err:  # noqa: BLE001 - a driver's error becomes one clear line, without secrets
                        raise HeadError(f"{ref}: {self._clean(err)}") from None
                    if not rows:
                        break
                    if not cols:  # no column asked (a count): batches of rows without columns
                        yield pa.RecordBatch.from_struct_array(pa.array([{}] * len(rows), pa.struct([])))
                        continue
                    values = list(zip(*rows))
                    arrays = []
                    for c, field, vals in zip(cols, schema, values):
                        post = posts.get(c.name)
                        arr = post(list(vals), field) if post else column_from_values(list(vals), c.type)
                        if arr.type != field.type:
                            try:
                                arr = arr.cast(field.type)
                            except Exception as err:  # noqa: BLE001 - a value the column's type cannot hold: named with its column
                                raise HeadError(f"{ref}: column {c.name!r} ({c.source_type}) cannot be read as {c.type}: {_one_line(str(err))}") from None
                        arrays.append(arr)
                    yield pa.record_batch(arrays, schema=schema)
            finally:
                try:
                    cur.close()
                except Exception:  # noqa: BLE001 - closing after the read: nothing left to report
                    pass
                try:
                    raw.rollback()
                except Exception:  # noqa: BLE001 - closing after the read: nothing left to report
                    pass
                raw.close()

        return pa.RecordBatchReader.from_batches(schema, batches())

    def split(self, element: Element, parts: int) -> list[list[Qual]] | None:
        """Key ranges on the first key column (integer or date); on PostgreSQL, a table without
        such a key is cut into block ranges of ``ctid`` instead (``blocks``).

        MySQL/MariaDB: the key is the primary key or, without one, a unique index of NOT NULL
        columns (which InnoDB then clusters the table by: ranges on it read as on a primary key).
        Tables with neither are not split: InnoDB orders them by a hidden row id that SQL cannot
        name (no ``ctid``), and ranges on any other column cost the server more than the one
        stream they replace — measured on 1M rows of bench_sql_shapes' keyless table with a
        non-unique index on an integer column, two halves read 3.8 CPU-s of mariadbd (the
        optimizer scans the whole table for each) and 8.6 CPU-s when forced through the index
        (a clustered lookup per row), against 1.3 CPU-s for one scan. Besides, a MySQL snapshot
        cannot be shared between connections, so by default (SNAPSHOT shared) an element is read
        by one reader whatever its key: only SNAPSHOT 'per_reader' or 'off' read ranges in
        parallel."""
        element = self._full(element)
        if parts < 2:
            return None
        ranges = self._key_split(element, parts) if element.key else None
        if ranges is None and self.family == "postgresql" and element.kind in ("table", "materialized view"):
            return sql_blocks.split(self, element, parts)
        return ranges

    def _key_split(self, element: Element, parts: int) -> list[list[Qual]] | None:
        """Key ranges on the first key column (integer or date).

        PostgreSQL: cut at the planner's equal-frequency histogram bounds (``pg_stats``), so that
        skewed keys still give ranges of similar row counts; elsewhere (or without statistics) cut
        min..max evenly. The first and last ranges are open-ended, so stale statistics never lose
        a row."""
        import datetime as dt

        key = self._resolve(element, element.key[0])
        if key is None:
            return None
        duck = key.type.upper()
        integer = duck in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT")
        is_date = duck == "DATE" and self.family not in ("mysql", "sqlite")
        if not (integer or is_date):
            return None
        q = self.quote(key.name)
        bounds = f"MIN({q}), MAX({q})"
        if is_date and self.family == "postgresql":
            # 'infinity' and years BC are no Python dates: finite bounds as days since 1970, clamped
            # below to what Python holds (the first and last ranges are open-ended anyway)
            days = f"{q} - DATE '1970-01-01'"
            bounds = f"MIN({days}) FILTER (WHERE isfinite({q})), MAX({days}) FILTER (WHERE isfinite({q}))"
        try:
            lo, hi = self.fetch_one(f"SELECT {bounds} FROM {self.table_sql(element)}")
        except Exception as err:  # noqa: BLE001 - a driver's error becomes one clear line, without secrets
            raise HeadError(f"{self.name}: cannot split {self.dotted(element.parts)}: {self._clean(err)}") from None
        if lo is None:
            return None
        if is_date and isinstance(lo, int):
            epoch = dt.date(1970, 1, 1).toordinal()
            lo_n, hi_n = max(epoch + lo, 1), max(epoch + hi, 1)
        elif is_date:
            lo_n, hi_n = lo.toordinal(), hi.toordinal()
        else:
            lo_n, hi_n = int(lo), int(hi)
        span = hi_n - lo_n + 1
        parts = max(1, min(parts, span))
        if parts < 2:
            return None
        bounds = [lo_n + (span * i) // parts for i in range(1, parts)]
        if self.family == "postgresql":
            histogram = self._histogram(element, key.name, is_date)
            if histogram and len(histogram) > parts:
                cuts = sorted({histogram[(len(histogram) * i) // parts] for i in range(1, parts)})
                cuts = [c for c in cuts if lo_n < c <= hi_n]
                if cuts:
                    bounds = cuts
        def value(v):
            return dt.date.fromordinal(v) if is_date else v

        ranges: list[list[Qual]] = []
        edges = [None, *bounds, None]
        for a, b in zip(edges, edges[1:]):
            quals = []
            if a is not None:
                quals.append(Qual(key.name, ">=", (value(a),)))
            if b is not None:
                quals.append(Qual(key.name, "<", (value(b),)))
            ranges.append(quals)
        # rows whose key is NULL (a unique key may allow one) go with the first range
        ranges[0] = [Qual.either(ranges[0][0], Qual(key.name, "is null"))]
        return ranges

    def _histogram(self, element: Element, column: str, is_date: bool) -> list[int] | None:
        """The planner's histogram bounds of a PostgreSQL column, as numbers (None if absent)."""
        import datetime as dt

        bounds = "CAST(CAST(histogram_bounds AS text) AS numeric[])"
        if is_date:  # as days since 1970, without the infinities (no Python date holds them)
            bounds = ("ARRAY(SELECT b - DATE '1970-01-01' FROM unnest(CAST(CAST(histogram_bounds AS text) AS date[])) "
                      "AS b WHERE isfinite(b))")
        sql = f"SELECT {bounds} FROM pg_stats WHERE schemaname = %(s)s AND tablename = %(t)s AND attname = %(c)s"
        try:
            row = self.fetch_one(sql, {"s": element.parts[0], "t": element.parts[1], "c": column})
        except Exception:  # noqa: BLE001 - statistics are a nicety
            return None
        if not row or not row[0]:
            return None
        epoch = dt.date(1970, 1, 1).toordinal() if is_date else 0
        return [epoch + int(v) for v in row[0]]

    # -- aggregates -----------------------------------------------------------------------------

    def aggregates(self, element: Element, columns: list[Column], snapshot=None) -> Aggregates | None:
        """The figures; in ``snapshot`` (taken by ``self.snapshot``) when given, without the
        distinct counts (RECONCILE does not compare them, and they cost the most)."""
        from hydra.core.snapshot import current, reading
        from hydra.heads.sql.aggregates import aggregates

        from hydra.heads.sql import snapshot as sql_snapshot

        snapshot = snapshot or current()
        reported = sql_snapshot.found(self, snapshot) if snapshot is not None else None
        if reported is not None:  # taken by the element's one reader, in its snapshot (MySQL)
            return reported[1]
        with reading(snapshot):
            found = aggregates(self, self._full(element), columns, distinct=snapshot is None)
        if snapshot is not None and snapshot.token:
            found.method += ", in the element's snapshot"
        elif snapshot is not None and snapshot.method != "none":
            found.method += ", in a consistent snapshot of its own (not the readers')"
        return found

    def sql_session(self, element: Element):
        """A read-only session in one snapshot (PostgreSQL, MySQL/MariaDB), for RECONCILE … AGAINST."""
        from hydra.heads.sql.session import BEGIN, HeadSqlSession

        if self.family not in BEGIN:
            return None
        return HeadSqlSession(self, self._full(element))

    # -- snapshots (hydra.heads.sql.snapshot) ---------------------------------------------------

    def snapshot(self, element: Element, readers: int = 1, per_reader: bool = False, figures: bool = True):
        """A consistent read point for the ``readers`` readers of ``element`` and, with
        ``figures``, its figures; held until ``release``: a ``hydra.core.snapshot.Snapshot``."""
        from hydra.heads.sql import snapshot as sql_snapshot

        if self.family == "postgresql":
            # whether the table is an inheritance parent (``table_sql``), asked now on the pooled
            # connection the snapshot then takes: every reader would otherwise open a connection
            # of its own to ask, on the way to its first row
            try:
                self.table_sql(self._full(element))
            except HeadError:
                pass  # the readers ask again, and say why
        return sql_snapshot.take(self, element, readers, per_reader, figures)

    def release(self, snapshot) -> None:
        from hydra.heads.sql import snapshot as sql_snapshot

        sql_snapshot.release(self, snapshot)

    def snapshot_identity(self, snapshot) -> dict:
        """The moment as the element's reader found it (MySQL: binlog position, GTIDs), if any."""
        from hydra.heads.sql import snapshot as sql_snapshot

        reported = sql_snapshot.found(self, snapshot)
        return reported[0] if reported else {}

    def snapshot_held(self, snapshot) -> float | None:
        """Seconds the source has held the snapshot open (None: not held by a transaction)."""
        from hydra.heads.sql import snapshot as sql_snapshot

        return sql_snapshot.held_seconds(self, snapshot)
