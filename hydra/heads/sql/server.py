"""Whole SQL servers: every database a login reaches, attached as one source (issue 22).

``ATTACH 'postgresql://user@host:5432' AS srv`` (no database in the URL), or any SQL URL with
``DATABASES '*'`` or ``DATABASES 'sales_*,crm'`` (names and globs):

* PostgreSQL: every database of ``pg_database`` but the templates. A database the login may not
  connect to (no ``CONNECT`` privilege, ``datallowconn`` false, or the connection fails) is listed in
  ``databases`` with the reason, and has no elements. A PostgreSQL connection reaches one database
  only, so each database is a plain ``SqlHead`` of its own (``SqlServerHead.inner``), enumerated on
  its own connection, ``ENUMERATE_WORKERS`` at a time; elements are ``srv.<database>.<schema>.<table>``.
  After the enumeration each database's connections are closed (a server of 200 databases would
  otherwise hold 200 idle pools); a read, PROFILE, EXTRACT or RECONCILE of an element opens its
  database's head again, lazily, and that head pools its connections, sets the read-only switch
  on each and takes its snapshots (issue 13) as any one-database source does.
* SQL Server: every database of ``sys.databases`` that is online and that the login may use
  (``HAS_DBACCESS``), each database's catalog read from the one server connection with three-part
  names (``[db].sys.objects``…); reads go through a head per database as for PostgreSQL.
* MySQL/MariaDB need no head per database: a MySQL "database" is a schema, one connection reads them
  all, and a URL without a database lists every non-system schema as ``my.<schema>.<table>``, as it
  always did. ``MySqlServerHead`` adds ``DATABASES`` (the schemas it picks) and the ``databases`` table.

``SqlServerHead`` is the class registered as the ``sql`` head: for a URL of one database it makes
a plain ``SqlHead`` (``__new__``), so a one-database source is exactly what it always was (and has
no ``databases`` table; a head built on a ``SqlHead``, as RDS is, gets none either).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import replace
from typing import TYPE_CHECKING, Iterable, Mapping

from hydra.heads.base import Element, HeadConnectionError, HeadError
from hydra.heads.sql.databases import (
    ENUMERATE_WORKERS, MSSQL_DATABASES, NO_CONNECT, NO_CONNECTIONS, NO_DBACCESS, PG_DATABASES, PG_MAINTENANCE,
    PG_SIZE, POOLED_DATABASES,
    databases_table, mysql_databases, mysql_selected, none_matched, patterns, selected, whole_server,
)
from hydra.heads.sql.head import SqlHead

if TYPE_CHECKING:
    import pyarrow as pa


def _size(head: SqlHead) -> int | None:
    """A PostgreSQL database's size, asked on its own connection (a nicety: None if refused)."""
    try:
        with head.engine.connect() as conn:
            return conn.exec_driver_sql(PG_SIZE).scalar()
    except Exception:  # noqa: BLE001 - the size is a nicety; the listing stands without it
        return None


# -- PostgreSQL and SQL Server: a head per database ------------------------------------------------


class SqlServerHead(SqlHead):
    """A whole PostgreSQL or SQL Server server: ``self`` holds the server connection (the URL's
    database, else a maintenance database) that lists the databases; ``inner`` holds one
    ``SqlHead`` per database, which lists (PostgreSQL) and reads that database's elements."""

    tables = ("databases",)

    def __new__(cls, name: str, uri: str, options=None):
        """A URL of one database makes a plain ``SqlHead``, a whole MySQL server a
        ``MySqlServerHead`` (Python then skips this class's ``__init__``: the object returned is
        not one of this class, and was built whole here)."""
        if cls is SqlServerHead:
            shape = whole_server(uri, options)
            if shape is None:
                return SqlHead(name, uri, options)
            if shape == "schemas":
                return MySqlServerHead(name, uri, options)
        return super().__new__(cls)

    def __init__(self, name: str, uri: str, options=None):
        super().__init__(name, uri, options)
        self.wanted = patterns(self.option("DATABASES"))
        self.inner: dict[str, SqlHead] = {}
        self._rows: list[dict] = []  # the ``databases`` table
        self._inner_lock = threading.Lock()
        self._holders: dict[int, SqlHead] = {}  # snapshot (by id) -> the database head holding it
        self._recent: dict[str, SqlHead] = {}  # the database heads used last, oldest first
        self.attach_note: str | None = None
        self._listed = (0, 0)  # databases listed so far, of how many (the progress display shows it)

    # -- connection -------------------------------------------------------------------------------

    def _database_uri(self, database: str) -> str:
        return self._url().set(database=database).render_as_string(hide_password=False)

    def open(self) -> None:
        """Connect to the server: to the URL's database if it names one, else (PostgreSQL) to
        ``postgres`` or ``template1``; (SQL Server) to the login's default database."""
        url = self._url()
        if self.family != "postgresql" or url.database:
            super().open()
            return
        given, failure = self.uri, None
        for database in PG_MAINTENANCE:
            self.uri = self._database_uri(database)
            try:
                super().open()
                return
            except HeadConnectionError as err:
                failure = err
            finally:
                self.uri = given
        assert failure is not None
        raise failure

    def close(self) -> None:
        with self._inner_lock:
            inner = list(self.inner.values())
        for head in inner:
            head.close()
        super().close()

    def _new_inner(self, database: str) -> SqlHead:
        options = {k: v for k, v in self.options.items() if k != "DATABASES"}
        head = SqlHead(self.name, self._database_uri(database), options)
        head.prefix = (database,)
        head.client_password = self.client_password
        return head

    def database_head(self, database: str) -> SqlHead:
        """The open head of one database (created and opened on first use). It pools its
        connections while it is among the ``POOLED_DATABASES`` used last; an older one's idle
        connections are closed (its engine stays usable and connects again when next used)."""
        with self._inner_lock:
            head = self.inner.get(database)
            if head is None:
                head = self.inner[database] = self._new_inner(database)
            if not head.is_open:
                head.open()
            self._recent.pop(database, None)
            self._recent[database] = head
            stale = []
            while len(self._recent) > POOLED_DATABASES:
                stale.append(self._recent.pop(next(iter(self._recent))))
        for old in stale:
            # closes the pool's idle connections only: one checked out (a read under way, a held
            # snapshot) is closed when given back
            old.release_idle()
        return head

    # -- catalog ----------------------------------------------------------------------------------

    def _list_databases(self) -> list[dict]:
        from sqlalchemy import text

        try:
            with self.engine.connect() as conn:
                if self.family == "postgresql":
                    rows = [{"database": name, "owner": owner, "encoding": encoding, "collation_name": collate,
                             "reason": None if allow and may else (NO_CONNECT if not may else NO_CONNECTIONS)}
                            for name, owner, encoding, collate, allow, may in conn.execute(text(PG_DATABASES))]
                else:
                    rows = [{"database": name, "owner": owner, "collation_name": collation, "size_bytes": size,
                             "reason": (None if state == "ONLINE" and access else
                                        f"it is {state.lower()}" if state != "ONLINE" else NO_DBACCESS)}
                            for name, owner, collation, size, state, access in
                            conn.execute(text(MSSQL_DATABASES), {"system": 1 if self.system else 0})]
        except Exception as err:  # noqa: BLE001 - a driver's error becomes one clear line, without secrets
            raise HeadError(f"{self.name}: cannot list the databases: {self._clean(err)}") from None
        picked = set(selected([r["database"] for r in rows], self.wanted))
        if not picked:
            raise none_matched(self, [r["database"] for r in rows])
        return [r for r in rows if r["database"] in picked]

    def enumerate(self) -> Iterable[Element]:
        """Every element of every readable database, yielded as each database is listed (the
        progress display counts them as they come)."""
        self.attach_note = None
        self._rows = self._list_databases()
        self._listed = (0, len(self._rows))
        readable = [r for r in self._rows if r["reason"] is None]
        if self.family == "postgresql":
            found = self._enumerate_postgres(readable)
        else:
            found = self._enumerate_mssql(readable)
        for row, elements in found:
            row["accessible"] = row["reason"] is None
            row["table_count"] = len(elements) if row["accessible"] else None
            self._listed = (self._listed[0] + 1, self._listed[1])
            yield from (self._outer(row["database"], el) for el in elements)
        for row in self._rows:
            row.setdefault("accessible", False)
        refused = [r["database"] for r in self._rows if not r["accessible"]]
        if refused:
            self.attach_note = (f"{len(self._rows) - len(refused)} of {len(self._rows)} databases listed; "
                                f"not readable: {', '.join(refused[:5])}{' …' if len(refused) > 5 else ''} "
                                f"(the databases table says why)")

    def listing_detail(self) -> str | None:
        """How far a listing has gone, for the progress display of a long ATTACH or REFRESH."""
        done, total = self._listed
        return f"{done:,} of {total:,} databases" if total else None

    def _enumerate_postgres(self, rows: list[dict]):
        """Each database on its own connection, ENUMERATE_WORKERS at a time, in the order they end."""

        def one(row: dict) -> tuple[dict, list[Element]]:
            head = self._new_inner(row["database"])
            try:
                head.open()
                elements = list(head.enumerate())
                row["size_bytes"] = _size(head)
                return row, elements
            except HeadError as err:
                row["reason"] = str(err).removeprefix(f"{self.name}: ")
                return row, []
            finally:
                head.close()  # reopened lazily by a read; its descriptions stay
                self._keep(row["database"], head)

        for row in self._rows:
            if row["reason"] is not None:
                yield row, []
        if not rows:
            return
        with ThreadPoolExecutor(max_workers=min(ENUMERATE_WORKERS, len(rows)),
                                thread_name_prefix=f"hydra-list-{self.name}") as pool:
            futures = [pool.submit(one, row) for row in rows]
            for future in as_completed(futures):
                yield future.result()

    def _enumerate_mssql(self, rows: list[dict]):
        """Every database's catalog from the server connection, with three-part names."""
        from hydra.heads.sql import catalog as cat

        for row in self._rows:
            if row["reason"] is not None:
                yield row, []
        for row in rows:
            database = row["database"]
            try:
                with self.engine.connect() as conn:
                    elements = cat.enumerate_mssql(conn, self.schemas, self.system, database=database)
            except Exception as err:  # noqa: BLE001 - one database's failure is its row's reason
                row["reason"] = self._clean(err)
                yield row, []
                continue
            head = self._new_inner(database)  # not opened: a read opens it
            with head._lock:
                head._described.update({el.parts: el for el in elements})
            self._keep(database, head)
            yield row, elements

    def _keep(self, database: str, head: SqlHead) -> None:
        """The freshly listed head of a database replaces the one of an earlier listing (REFRESH)."""
        with self._inner_lock:
            old, self.inner[database] = self.inner.get(database), head
        if old is not None and old is not head:
            old.close()

    @staticmethod
    def _outer(database: str, element: Element) -> Element:
        return replace(element, parts=(database, *element.parts), path=f"{database}.{element.path}")

    def head_tables(self) -> Mapping[str, pa.Table]:
        return {"databases": databases_table(self._rows)}

    # -- per element: the database's head --------------------------------------------------------

    def _at(self, element: Element) -> tuple[SqlHead, Element]:
        """The head of the element's database, and the element as that head names it."""
        if len(element.parts) != 3:
            raise HeadError(f"{self.name}: an element of a whole server is database.schema.table, "
                            f"not {'.'.join(element.parts)}")
        head = self.database_head(element.parts[0])
        inner = replace(element, parts=tuple(element.parts[1:]), path=".".join(element.parts[1:]))
        return head, inner

    def _full(self, element: Element) -> Element:
        head, inner = self._at(element)
        return self._outer(element.parts[0], head._full(inner))

    def schema(self, element: Element):
        head, inner = self._at(element)
        return head.schema(inner)

    def can_filter(self, element: Element, qual) -> bool:
        try:
            head, inner = self._at(element)
        except HeadError:
            return False
        return head.can_filter(inner, qual)

    def table_sql(self, element: Element) -> str:
        head, inner = self._at(element)
        return head.table_sql(inner)

    def select_sql(self, element: Element, columns, quals, limit, expressions=None):
        head, inner = self._at(element)
        return head.select_sql(inner, columns, quals, limit, expressions)

    def read(self, element: Element, columns=None, quals=None, limit=None):
        head, inner = self._at(element)
        return head.read(inner, columns, quals, limit)

    def split(self, element: Element, parts: int):
        head, inner = self._at(element)
        return head.split(inner, parts)

    def aggregates(self, element: Element, columns, snapshot=None):
        head, inner = self._at(element)
        return head.aggregates(inner, columns, snapshot)

    def snapshot(self, element: Element, readers: int = 1, per_reader: bool = False, figures: bool = True):
        head, inner = self._at(element)
        taken = head.snapshot(inner, readers, per_reader, figures)
        with self._inner_lock:
            self._holders[id(taken)] = head
        return taken

    def _holder(self, snapshot, forget: bool = False) -> SqlHead | None:
        with self._inner_lock:
            return self._holders.pop(id(snapshot), None) if forget else self._holders.get(id(snapshot))

    def release(self, snapshot) -> None:
        head = self._holder(snapshot, forget=True)
        if head is not None:
            head.release(snapshot)

    def snapshot_identity(self, snapshot) -> dict:
        head = self._holder(snapshot)
        return head.snapshot_identity(snapshot) if head is not None else {}

    def snapshot_held(self, snapshot) -> float | None:
        head = self._holder(snapshot)
        return head.snapshot_held(snapshot) if head is not None else None


class MySqlServerHead(SqlHead):
    """Every schema of a MySQL/MariaDB server on one connection (``SqlHead`` does the work):
    ``DATABASES`` picks the schemas, and ``databases`` lists them."""

    tables = ("databases",)

    def open(self) -> None:
        super().open()
        if self.option("DATABASES"):
            self.schemas = mysql_selected(self)

    def head_tables(self) -> Mapping[str, pa.Table]:
        return {"databases": mysql_databases(self)}
