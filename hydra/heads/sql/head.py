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
  PROFILE/RECONCILE figures in one query at the source.
* Read-only: PostgreSQL sessions start with ``default_transaction_read_only=on``, MySQL sessions run
  ``SET SESSION TRANSACTION READ ONLY``, MSSQL (pyodbc) connects with ``ApplicationIntent=ReadOnly``,
  SQLite with ``PRAGMA query_only``. Only SELECT and COPY … TO STDOUT are ever sent.

Options: ``SCHEMAS 'a,b'`` limits the scan (for MySQL the URL's database is the default);
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

import re
import shutil
import threading
from typing import TYPE_CHECKING, Any, Iterable

from hydra.core.model import Aggregates, Column, Element
from hydra.core.refs import ref_text
from hydra.heads.base import Head, HeadConnectionError, HeadError, parse_bool

if TYPE_CHECKING:
    import pyarrow as pa
    from sqlglot import exp

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


class SqlHead(Head):
    kind = "sql"
    schemes = ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2", "mssql",
               "mssql+pyodbc", "mssql+pymssql", "mysql", "mysql+pymysql", "mariadb", "mariadb+pymysql",
               "sqlite")
    dialect = None  # set per instance from the URL
    options_allowed = ("SCHEMAS", "SYSTEM", "BULK", "BATCH_ROWS", "READABLE_COLUMNS")

    def __init__(self, name: str, uri: str, options=None):
        super().__init__(name, uri, options)
        self._engine = None
        self._lock = threading.Lock()
        self._described: dict[tuple[str, ...], Element] = {}
        scheme = uri.split(":", 1)[0].lower()
        backend = scheme.split("+", 1)[0]
        backend = {"postgres": "postgresql"}.get(backend, backend)
        self.backend = backend  # 'postgresql', 'mysql', 'mariadb', 'mssql', 'sqlite', …
        self.dialect = _SQLGLOT.get(backend, backend)
        self.family = {"mariadb": "mysql"}.get(backend, backend)
        schemas = self.options.get("SCHEMAS")
        self.schemas = [s.strip() for s in str(schemas).split(",") if s.strip()] if schemas else None
        self.system = parse_bool(self.options.get("SYSTEM"))
        # PostgreSQL: list (and read) only the columns the role may read, in partly readable tables
        self.readable_columns = parse_bool(self.options.get("READABLE_COLUMNS"))
        self._parents: dict[tuple[str, ...], bool] = {}  # PostgreSQL inheritance parents (read with ONLY)
        self.bulk = str(self.options.get("BULK", "auto")).lower()
        if self.bulk not in ("auto", "binary", "copy", "client", "cursor"):
            raise HeadError(f"BULK must be auto, binary, copy, client or cursor, not {self.bulk!r}")
        try:
            self.batch_rows = int(self.options.get("BATCH_ROWS", 65536))
        except ValueError:
            raise HeadError("BATCH_ROWS must be a whole number") from None
        # where the client programs (psql, mysql) get a password from, when not the URL's: a head
        # whose password changes (RDS IAM tokens last 15 minutes) sets a function returning it
        self.client_password = None

    def password(self) -> str | None:
        """The password a new connection of a client program should use, if any."""
        if self.client_password is not None:
            return self.client_password()
        url = self.engine.url
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

    def _url(self):
        from sqlalchemy.engine import make_url

        uri = self.uri
        scheme, _, rest = uri.partition(":")
        low = scheme.lower()
        if low in _DEFAULT_DRIVER:
            backend = {"postgres": "postgresql"}.get(low, low)
            uri = f"{backend}+{_DEFAULT_DRIVER[low][0]}:{rest}"
        try:
            url = make_url(uri)
        except Exception as err:  # noqa: BLE001 - any error of SQLAlchemy's URL parser means: not a database URL
            raise HeadError(f"{self.name}: not a database URL: {self._clean(err)}") from None
        if url.get_backend_name() == "mssql" and url.get_driver_name() == "pyodbc":
            if not any(k.lower() == "applicationintent" for k in url.query):
                url = url.update_query_dict({"ApplicationIntent": "ReadOnly"})
        return url

    @property
    def engine(self):
        if self._engine is None:
            raise HeadError(f"{self.name} is not open")
        return self._engine

    def open(self) -> None:
        from sqlalchemy import create_engine, event

        url = self._url()
        connect_args: dict[str, Any] = {}
        if self.family == "postgresql" and url.get_driver_name() in ("psycopg", "psycopg2"):
            connect_args["options"] = "-c default_transaction_read_only=on -c TimeZone=UTC -c DateStyle=ISO"
            connect_args.setdefault("connect_timeout", 10)
        if self.family == "mysql":
            connect_args.setdefault("connect_timeout", 10)
        try:
            engine = create_engine(url, connect_args=connect_args, pool_pre_ping=False, pool_size=8, max_overflow=16)
        except TypeError:  # sqlite and others have no pool_size
            engine = create_engine(url, connect_args=connect_args)
        except ModuleNotFoundError as err:
            from hydra.core.errors import missing_driver

            raise missing_driver(self.name, err) from None
        except Exception as err:  # noqa: BLE001 - bad URL
            raise HeadConnectionError(f"{self.name}: cannot use {self.redact(self.uri)}: {self._clean(err)}") from None

        family = self.family

        @event.listens_for(engine, "connect")
        def _read_only(dbapi_conn, _record):  # noqa: ANN001
            cur = dbapi_conn.cursor()
            try:
                if family == "mysql":
                    cur.execute("SET SESSION TRANSACTION READ ONLY")
                    cur.execute("SET time_zone = '+00:00'")
                elif family == "sqlite":
                    cur.execute("PRAGMA query_only = ON")
                elif family == "mssql" and hasattr(dbapi_conn, "add_output_converter"):  # pyodbc
                    dbapi_conn.add_output_converter(-155, datetimeoffset_from_odbc)
            finally:
                cur.close()

        try:
            with engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1").all()
        except Exception as err:  # noqa: BLE001 - any driver error is a connection problem here
            engine.dispose()
            raise HeadConnectionError(f"{self.name}: cannot connect to {self.redact(self.uri)}: {self._clean(err)}") from None
        self._engine = engine
        if self.family == "mysql" and self.schemas is None and url.database:
            self.schemas = [url.database]

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

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
            raise HeadError(f"{self.name}: a SQL element is schema.table, not {'.'.join(element.parts)}")
        found = self._catalog(only=tuple(element.parts))
        if not found:
            raise HeadError(f"{self.name}: no table or view {'.'.join(element.parts)}")
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
                with self.engine.connect() as conn:
                    known = bool(conn.exec_driver_sql(sql, {"t": table}).scalar())
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

    def _render(self, element: Element, predicate: exp.Expression) -> str | None:
        """The predicate in the source's dialect, or None when it cannot be rendered exactly."""
        from sqlglot import exp

        allowed = (exp.And, exp.Or, exp.Not, exp.Paren, exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE,
                   exp.In, exp.Between, exp.Is, exp.Like, exp.Column, exp.Identifier, exp.Literal,
                   exp.Null, exp.Boolean, exp.Neg, exp.Cast, exp.DataType, exp.Tuple)
        node_types = {type(n) for n in predicate.walk()}
        if not node_types <= set(allowed):
            return None
        pred = predicate.copy()
        for col in list(pred.find_all(exp.Column)):
            if col.table:
                return None
            column = self._resolve(element, col.name)
            if column is None or not self._filterable(column, col, pred):
                return None
            col.replace(exp.column(exp.to_identifier(column.name, quoted=True)))
        for cast in pred.find_all(exp.Cast):
            if not isinstance(cast.this, exp.Literal) or not cast.this.is_string:
                return None
            if cast.to.this not in (exp.DataType.Type.DATE, exp.DataType.Type.TIMESTAMP):
                return None
            if self.family == "sqlite":
                return None  # SQLite keeps dates as text or numbers; comparisons differ
        for lit in pred.find_all(exp.Literal):
            if lit.is_string:
                if self.family in ("mysql",) and "\\" in lit.this:
                    return None  # backslash escapes in MySQL string literals
                if "\x00" in lit.this:
                    return None
            else:
                try:
                    float(lit.this)
                except ValueError:
                    return None
        for like in pred.find_all(exp.Like):
            if not isinstance(like.this, exp.Column) or not isinstance(like.expression, exp.Literal):
                return None
        try:
            return pred.sql(dialect=self.dialect)
        except Exception:  # noqa: BLE001 - a predicate the dialect cannot render is not pushed down
            return None

    def _filterable(self, column: Column, node, predicate) -> bool:
        """Whether comparisons on this column mean the same at the source as in DuckDB."""
        from sqlglot import exp

        from hydra.heads.sql import types as sql_types

        duck = column.type.upper()
        parent = node.parent
        while isinstance(parent, exp.Paren):
            parent = parent.parent
        null_test = isinstance(parent, exp.Is)
        if column.note == sql_types.NUMERIC_NAN_NOTE:
            return not null_test  # a NaN is NULL here, not at the source; it fails every comparison
        if column.note and not null_test:
            return False  # lossy conversions (numeric→double, money…) compare differently
        if duck.endswith("[]") or duck in ("BLOB", "JSON", "INTERVAL", "TIME", "UUID"):
            return null_test
        if duck == "VARCHAR":
            if null_test:
                return True
            src = re.sub(r"\(.*\)", "", (column.source_type or "").lower()).strip()
            if self.family == "postgresql" and src in ("text", "character varying", "varchar", "name"):
                # equality is binary; ordering depends on the collation. Not for char(n) (pads),
                # citext (case-insensitive) or enums (a label that does not exist is an error)
                if isinstance(parent, exp.Like):
                    return "\\" not in parent.expression.sql()  # PostgreSQL's LIKE escapes with \
                return isinstance(parent, (exp.EQ, exp.NEQ, exp.In))
            if self.family == "sqlite":
                return isinstance(parent, (exp.EQ, exp.NEQ, exp.In))  # its LIKE ignores case
            return False  # MySQL/MSSQL: case-insensitive, pad-space collations by default
        if duck.startswith("TIMESTAMP WITH TIME ZONE"):
            return null_test
        if duck in ("DATE", "TIMESTAMP") and self.family in ("mysql", "sqlite"):
            return False  # zero dates / text dates
        if isinstance(parent, exp.Like):
            return False
        return True

    def can_filter(self, element: Element, predicate: exp.Expression) -> bool:
        try:
            element = self._full(element)
        except HeadError:
            return False
        return self._render(element, predicate) is not None

    def select_sql(self, element: Element, columns: list[str] | None, predicates, limit: int | None,
                   expressions: list[str] | None = None) -> tuple[str, list[Column]]:
        """The SELECT sent to the source, and the columns it returns in order."""
        element = self._full(element)
        cols = self._columns(element, columns)
        select = expressions if expressions is not None else [self.quote(c.name) for c in cols]
        where = []
        for pred in predicates or []:
            text = self._render(element, pred)
            if text is None:
                raise HeadError(f"{self.name}: cannot push down {pred.sql(dialect='duckdb')}")
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
                raise HeadError(f"{self.name}: {'.'.join(element.parts)} has no column {name!r}")
            out.append(col)
        return out

    # -- data -----------------------------------------------------------------------------------

    def read(self, element: Element, columns=None, predicates=None, limit=None) -> pa.RecordBatchReader:
        element = self._full(element)
        if self.family == "postgresql" and self.bulk in ("auto", "binary", "copy", "client"):
            from hydra.heads.sql import postgres as sql_postgres

            if sql_postgres.usable(self):
                if self.bulk in ("auto", "binary", "copy") and self._columns(element, columns):
                    from hydra.heads.sql import pgbinary as sql_pgbinary

                    if self.bulk != "copy" and shutil.which("psql"):
                        return sql_pgbinary.read(self, element, columns, predicates, limit, transport="psql")
                    if self.engine.url.get_driver_name() == "psycopg":
                        return sql_pgbinary.read(self, element, columns, predicates, limit, transport="psycopg")
                return sql_postgres.read(self, element, columns, predicates, limit)
        if self.family == "mysql" and self.bulk in ("auto", "client"):
            from hydra.heads.sql import mysql as sql_mysql

            if sql_mysql.usable(self):
                return sql_mysql.read(self, element, columns, predicates, limit)
        return self._read_cursor(element, columns, predicates, limit)

    def _read_cursor(self, element: Element, columns, predicates, limit) -> pa.RecordBatchReader:
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
        sql, cols = self.select_sql(element, columns, predicates, limit, expressions=exprs)
        schema = pa.schema([pa.field(c.name, arrow_type(c.type) or pa.string()) for c in cols])
        batch_rows = self.batch_rows
        raw = self.engine.raw_connection()
        try:
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
            raise HeadError(f"{ref_text(self.name, element.parts)}: {self._clean(err)}") from None
        ref = ref_text(self.name, element.parts)

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

    def split(self, element: Element, parts: int) -> list[list[exp.Expression]] | None:
        """Key ranges on the first key column (integer or date).

        PostgreSQL: cut at the planner's equal-frequency histogram bounds (``pg_stats``), so that
        skewed keys still give ranges of similar row counts; elsewhere (or without statistics) cut
        min..max evenly. The first and last ranges are open-ended, so stale statistics never lose
        a row."""
        import datetime as dt

        from sqlglot import exp

        element = self._full(element)
        if parts < 2 or not element.key:
            return None
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
            with self.engine.connect() as conn:
                lo, hi = conn.exec_driver_sql(f"SELECT {bounds} FROM {self.table_sql(element)}").one()
        except Exception as err:  # noqa: BLE001 - a driver's error becomes one clear line, without secrets
            raise HeadError(f"{self.name}: cannot split {'.'.join(element.parts)}: {self._clean(err)}") from None
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
        col = exp.column(exp.to_identifier(key.name, quoted=True))

        def lit(v):
            if is_date:
                return exp.cast(exp.Literal.string(dt.date.fromordinal(v).isoformat()), "DATE")
            return exp.Literal.number(v)

        ranges: list[list[exp.Expression]] = []
        edges = [None, *bounds, None]
        for a, b in zip(edges, edges[1:]):
            preds = []
            if a is not None:
                preds.append(exp.GTE(this=col.copy(), expression=lit(a)))
            if b is not None:
                preds.append(exp.LT(this=col.copy(), expression=lit(b)))
            ranges.append(preds)
        # rows whose key is NULL (a unique key may allow one) go with the first range
        ranges[0] = [exp.Or(this=exp.paren(ranges[0][0]), expression=exp.Is(this=col.copy(), expression=exp.Null()))] if ranges[0] else ranges[0]
        return ranges

    def _histogram(self, element: Element, column: str, is_date: bool) -> list[int] | None:
        """The planner's histogram bounds of a PostgreSQL column, as numbers (None if absent)."""
        import datetime as dt

        from sqlalchemy import text

        bounds = "CAST(CAST(histogram_bounds AS text) AS numeric[])"
        if is_date:  # as days since 1970, without the infinities (no Python date holds them)
            bounds = ("ARRAY(SELECT b - DATE '1970-01-01' FROM unnest(CAST(CAST(histogram_bounds AS text) AS date[])) "
                      "AS b WHERE isfinite(b))")
        sql = f"SELECT {bounds} FROM pg_stats WHERE schemaname = :s AND tablename = :t AND attname = :c"
        try:
            with self.engine.connect() as conn:
                row = conn.execute(text(sql), {"s": element.parts[0], "t": element.parts[1], "c": column}).first()
        except Exception:  # noqa: BLE001 - statistics are a nicety
            return None
        if not row or not row[0]:
            return None
        epoch = dt.date(1970, 1, 1).toordinal() if is_date else 0
        return [epoch + int(v) for v in row[0]]

    # -- aggregates -----------------------------------------------------------------------------

    def aggregates(self, element: Element, columns: list[Column]) -> Aggregates | None:
        from hydra.heads.sql.aggregates import aggregates

        return aggregates(self, self._full(element), columns)
