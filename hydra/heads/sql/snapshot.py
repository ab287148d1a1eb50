"""Snapshots of a SQL source: one moment shared by every reader of an element (``hydra.core.snapshot``).

* PostgreSQL: the coordinator opens a ``REPEATABLE READ, READ ONLY`` transaction, exports its
  snapshot (``pg_export_snapshot()``) and holds the transaction open until the element ends (an
  exported snapshot can be joined only while its transaction lives). Every range reader and the
  figures start their own read-only repeatable-read transaction with ``SET TRANSACTION SNAPSHOT``
  before their first query: the psql child process runs the two statements in its session before
  its ``COPY``, a driver connection before its COPY or cursor. The manifest records
  ``pg_current_snapshot()`` (``txid_current_snapshot()`` before PostgreSQL 13) and the WAL LSN.
* MySQL/MariaDB: ``START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY`` on each connection. A
  MySQL snapshot cannot be shared between connections (MariaDB and MySQL have no export), so an
  element is read on one connection, unless the user accepts ranges read at moments that may
  differ (``EXTRACT … (SNAPSHOT 'per_reader')``); the manifest says which. Its figures are taken
  at the reader's moment: beside it where the table can be locked for an instant (``Beside``),
  else by the reader before its rows.
* SQL Server: ``SNAPSHOT`` isolation on each connection where the database allows it, one reader
  per element as for MySQL; else read committed, and the manifest says so.
* Other dialects: no snapshot (``no_snapshot``), said in the manifest.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from hydra.core.snapshot import PER_READER, SHARED, Snapshot, current, no_snapshot
from hydra.heads.base import HeadError

if TYPE_CHECKING:
    from hydra.heads.base import Element
    from hydra.heads.sql.head import SqlHead

PG_METHOD = "pg_export_snapshot() held by the coordinator; every reader SET TRANSACTION SNAPSHOT"
PG_ISOLATION = "repeatable read, read only"
MYSQL_METHOD = "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY on each connection"
MYSQL_ISOLATION = "repeatable read, read only, consistent snapshot"
MSSQL_METHOD = "SET TRANSACTION ISOLATION LEVEL SNAPSHOT on each connection"


class Holds:
    """The open transactions that keep a head's exported snapshots valid, by token."""

    def __init__(self):
        self._lock = threading.Lock()
        self._held: dict[str, tuple[object, float]] = {}
        # MySQL: what the one reader of a snapshot found in it (identity, figures), by snapshot key
        self.found: dict[str, tuple[dict, object]] = {}
        self.busy: dict[str, set] = {}  # driver connections computing figures in a snapshot
        self.beside: dict[str, Beside] = {}  # MySQL: figures taken beside the reader, by snapshot key

    @contextlib.contextmanager
    def working(self, token: str | None, dbapi_connection):
        """Note a connection at work in a snapshot, so that ``release`` can cancel it."""
        if token is None:
            yield
            return
        with self._lock:
            self.busy.setdefault(token, set()).add(dbapi_connection)
        try:
            yield
        finally:
            with self._lock:
                self.busy.get(token, set()).discard(dbapi_connection)

    def add(self, token: str, raw) -> None:
        with self._lock:
            self._held[token] = (raw, time.monotonic())

    def release(self, token: str) -> None:
        with self._lock:
            raw, _ = self._held.pop(token, (None, 0.0))
            busy = self.busy.pop(token, set())
        for connection in busy:  # an interrupted EXTRACT: the figures' query stops too
            try:
                (getattr(connection, "cancel_safe", None) or connection.cancel)()
            except Exception:  # noqa: BLE001
                pass
        if raw is not None:
            try:
                raw.rollback()
                raw.close()
            except Exception:  # noqa: BLE001 - a dead connection ends its transaction anyway
                raw.invalidate()

    def held_seconds(self, token: str) -> float | None:
        with self._lock:
            found = self._held.get(token)
        return None if found is None else time.monotonic() - found[1]


def take(head: SqlHead, element: Element, readers: int, per_reader: bool, figures: bool = True) -> Snapshot:
    """A snapshot for ``readers`` readers of ``element`` (held until ``release``); ``figures``:
    the element's figures will be asked for in it."""
    if head.family == "postgresql" and head.url.get_driver_name() in ("psycopg", "psycopg2"):
        return _take_postgres(head)
    if head.family == "mysql":
        if per_reader and readers > 1:
            return Snapshot(head.name, MYSQL_METHOD, MYSQL_ISOLATION, PER_READER, taken_at=_now(),
                            note="each range reads in a consistent snapshot of its own: ranges may see "
                                 "different moments (SNAPSHOT 'per_reader'), and the figures another")
        note = "MySQL/MariaDB cannot share a snapshot between connections: the element is read on one connection"
        names, identity_sql = _mysql_identity_sql(head)
        extra = (("identity_names", names), ("identity_sql", identity_sql))
        if figures:  # the one reader takes them in its snapshot, before its rows (prelude)
            note += (", and the figures at that reader's moment: on MariaDB beside it, on a connection whose snapshot "
                     "starts with the reader's while the table is locked for a few milliseconds (LOCK TABLES … READ "
                     "NOWAIT); else (the table being written at that instant, no LOCK TABLES privilege, MySQL) by "
                     "the reader itself, in its snapshot, before it reads the rows")
            extra += (("findings", uuid.uuid4().hex),)
        return Snapshot(head.name, MYSQL_METHOD, MYSQL_ISOLATION, SHARED, taken_at=_now(), note=note, extra=extra)
    if head.family == "mssql":
        return _take_mssql(head, readers, per_reader)
    return no_snapshot(head.name, f"the {head.backend} head has no shared snapshot")


def _take_mssql(head: SqlHead, readers: int, per_reader: bool) -> Snapshot:
    """SQL Server: ``SNAPSHOT`` isolation where the database allows it (``ALLOW_SNAPSHOT_ISOLATION
    ON``), on each connection; a snapshot cannot be shared between connections either."""
    try:
        with head.engine.connect() as conn:
            allowed = conn.exec_driver_sql("SELECT snapshot_isolation_state FROM sys.databases "
                                           "WHERE name = DB_NAME()").scalar() == 1
    except Exception:  # noqa: BLE001 - cannot tell: read as before, and say so
        allowed = False
    if not allowed:
        return no_snapshot(head.name, "the database does not allow SNAPSHOT isolation "
                                      "(ALLOW_SNAPSHOT_ISOLATION OFF): read committed, each range at its own moment")
    sharing = PER_READER if per_reader and readers > 1 else SHARED
    return Snapshot(head.name, MSSQL_METHOD, "snapshot", sharing, taken_at=_now(),
                    note="SQL Server cannot share a snapshot between connections: " +
                         ("each range reads in a snapshot of its own (SNAPSHOT 'per_reader')" if sharing == PER_READER
                          else "the element is read on one connection; its figures in a snapshot of their own"))


def _take_postgres(head: SqlHead) -> Snapshot:
    raw = head.raw_connection()
    try:
        cur = raw.driver_connection.cursor()
        cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cur.execute("SELECT current_setting('server_version_num')::int")
        version = cur.fetchone()[0]
        moment = "pg_current_snapshot()" if version >= 130000 else "txid_current_snapshot()"
        cur.execute(f"SELECT pg_export_snapshot(), {moment}::text, now()")
        token, xids, at = cur.fetchone()
        identity = [(moment, xids)]
        try:  # the WAL position, where the role may ask (a standby replays, it does not write)
            cur.execute("SAVEPOINT hydra_lsn")
            cur.execute("SELECT (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() "
                        "ELSE pg_current_wal_lsn() END)::text")
            identity.append(("wal_lsn", cur.fetchone()[0]))
            cur.execute("RELEASE SAVEPOINT hydra_lsn")
        except Exception:  # noqa: BLE001 - not permitted: the snapshot is recorded without it
            cur.execute("ROLLBACK TO SAVEPOINT hydra_lsn")
        cur.close()
    except Exception as err:  # noqa: BLE001
        raw.invalidate()
        raise HeadError(f"{head.name}: cannot take a snapshot: {head._clean(err)}") from None
    if not token or any(c not in "0123456789ABCDEFabcdef-" for c in token):
        raw.invalidate()
        raise HeadError(f"{head.name}: the server exported an unexpected snapshot id")
    _holds(head).add(token, raw)
    return Snapshot(head.name, PG_METHOD, PG_ISOLATION, SHARED, token=token, identity=tuple(identity),
                    taken_at=at.astimezone(timezone.utc).isoformat())


def _mysql_identity_sql(head: SqlHead) -> tuple[str, str]:
    """A SELECT of the snapshot's position in the server's history, readable inside the reader's
    transaction: MariaDB's binlog position of the consistent snapshot (``binlog_snapshot_file``,
    ``_position``: exact, when the binary log is on) and its GTID position; MySQL's executed GTID
    set (the server's, as the snapshot starts). Each value as hex (one line whatever it holds).
    Asked once per head: the server does not change between elements."""
    cached = getattr(head, "_snapshot_identity_sql", None)
    if cached is not None:
        return cached
    try:
        version = str((head.fetch_one("SELECT VERSION()") or [""])[0] or "")
    except Exception:  # noqa: BLE001
        version = ""
    if "mariadb" in version.lower():
        status = ("(SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS "
                  "WHERE VARIABLE_NAME = 'BINLOG_SNAPSHOT_{}')")
        names = {"binlog_snapshot_file": status.format("FILE"), "binlog_snapshot_position": status.format("POSITION"),
                 "gtid_current_pos": "@@GLOBAL.gtid_current_pos"}
    else:
        names = {"gtid_executed": "@@GLOBAL.gtid_executed"}
    head._snapshot_identity_sql = (",".join(names),
                                   "SELECT " + ", ".join(f"IFNULL(HEX({expr}), '-')" for expr in names.values()))
    return head._snapshot_identity_sql


def release(head: SqlHead, snapshot: Snapshot) -> None:
    if snapshot.token:
        _holds(head).release(snapshot.token)
    key = dict(snapshot.extra).get("findings")
    if key:
        holds = _holds(head)
        with holds._lock:
            beside = holds.beside.pop(key, None)
        if beside is not None:  # an interrupted EXTRACT: its figures' query stops too
            beside.cancel()
        holds.found.pop(key, None)


def held_seconds(head: SqlHead, snapshot: Snapshot) -> float | None:
    return _holds(head).held_seconds(snapshot.token) if snapshot.token else None


def working(head: SqlHead, dbapi_connection):
    """Context: ``dbapi_connection`` works in the current snapshot until the block ends."""
    snapshot = current()
    token = snapshot.token if snapshot is not None and snapshot.source == head.name else None
    return _holds(head).working(token, dbapi_connection)


def _holds(head: SqlHead) -> Holds:
    with head._lock:
        if getattr(head, "_snapshot_holds", None) is None:
            head._snapshot_holds = Holds()
        return head._snapshot_holds


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


# -- joining: what a reader runs before its first query --------------------------------------


def joining(head: SqlHead, explicit_begin: bool) -> list[str]:
    """The statements a new reader of this head runs first, to read in the current snapshot
    (``hydra.core.snapshot.reading``); [] outside one. ``explicit_begin``: the reader is a client
    program in autocommit (psql), which must open the transaction itself; a driver connection
    opens it implicitly at its first statement."""
    snapshot = current()
    if snapshot is None or snapshot.source != head.name or snapshot.method == "none":
        return []
    if head.family == "postgresql" and snapshot.token:
        begin = ("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" if explicit_begin
                 else "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        return [begin, f"SET TRANSACTION SNAPSHOT '{snapshot.token}'"]
    if head.family == "mysql":
        return ["START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"]
    if head.family == "mssql":
        return ["SET TRANSACTION ISOLATION LEVEL SNAPSHOT"]
    return []


def join(head: SqlHead, dbapi_connection) -> None:
    """Run ``joining`` on a driver connection about to read."""
    statements = joining(head, explicit_begin=False)
    if not statements:
        return
    cur = dbapi_connection.cursor()
    try:
        for sql in statements:
            cur.execute(sql)
    finally:
        cur.close()


# -- MySQL: the one reader of a snapshot reports what it found in it ------------------------------

# LOCK TABLES … READ NOWAIT is tried this many times, this far apart, before the reader takes the
# figures itself: a table written without pause is never locked, and never waited for
LOCK_TRIES = 25
LOCK_PAUSE = 0.02
LOCK_SQL = "LOCK TABLES {table} READ NOWAIT"


@dataclass
class Prelude:
    """What the one reader of a MySQL snapshot runs first (``mysql.read``): the identity SELECT and
    the figures' SELECT (each value as hex, one line each), and where what they print goes.
    ``beside``: the figures may instead be taken beside the reader, at its moment (``Beside``)."""

    identity_sql: str
    figures_sql: str
    keep_identity: Callable[[bytes], None]
    keep_figures: Callable[[list], None]
    beside: Beside

    @property
    def statements(self) -> list[str]:
        return [self.identity_sql, self.figures_sql]

    def keep(self, lines: list[bytes]) -> None:
        self.keep_identity(lines[0])
        self.keep_figures(lines[1].decode("ascii").rstrip("\n").split("\t"))


class Beside:
    """MariaDB: an element's figures taken on a connection of their own, at the moment its one reader reads.

    A MySQL snapshot cannot be shared between connections, but two can start at one moment: while
    a third connection holds ``LOCK TABLES <t> READ`` no transaction can change the table, so the
    figures' connection and then the reader start their consistent snapshots under the lock, and
    both see the same rows. The lock is released as soon as the reader's snapshot has started
    (a few milliseconds: the three connections, the reader's client included, are opened before
    it is taken, ``mysql.start_connected``); the figures' scan then runs on the server beside the
    reader's instead of before it — on 1M mixed rows the reader took 6.0 s with its figures first
    and 3.7 s without.

    ``NOWAIT`` (MariaDB's): the lock never queues behind a writer, which would hold up every writer
    queued behind it. A table in the middle of a write is tried again (``LOCK_TRIES``); then, as when
    the lock is refused (no LOCK TABLES privilege, MySQL's syntax), the reader takes the figures
    itself before its rows."""

    def __init__(self, head: SqlHead, table_sql: str, prelude_key: str):
        self.head, self.table, self.key = head, table_sql, prelude_key
        self._locker = self._figures = None
        self._thread: threading.Thread | None = None

    def lock(self) -> bool:
        """Lock the table and start the figures' snapshot; False (nothing held) when it cannot.
        Both connections are had first: the table stays locked for no connection's opening."""
        try:
            self._figures = self.head.raw_connection()
            self._locker = self.head.raw_connection()
            self._lock_table(self._locker.cursor())
            self._figures.cursor().execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
            return True
        except BaseException as err:  # an interrupt too: never leave the table locked
            self.unlock()
            self._close_figures()
            if not isinstance(err, Exception):
                raise
            return False  # the reader takes the figures itself

    def _lock_table(self, cur) -> None:
        for attempt in range(LOCK_TRIES):
            try:
                cur.execute(LOCK_SQL.format(table=self.table))
                return
            except Exception as err:  # noqa: BLE001 - 1205: being written now; else refused
                if getattr(err, "args", (None,))[0] != 1205 or attempt == LOCK_TRIES - 1:
                    raise
                time.sleep(LOCK_PAUSE)

    def unlock(self) -> None:
        locker, self._locker = self._locker, None
        if locker is None:
            return
        try:
            locker.cursor().execute("UNLOCK TABLES")
            locker.close()
        except BaseException as err:  # a closed connection holds no lock
            locker.invalidate()
            if not isinstance(err, Exception):
                raise

    def start(self, prelude: Prelude) -> None:
        """Run the figures' query on its connection, beside the reader (a thread; ``found`` waits)."""
        def run():
            try:
                cur = self._figures.cursor()
                cur.execute(prelude.figures_sql)
                prelude.keep_figures(list(cur.fetchone()))
            except Exception:  # noqa: BLE001 - nothing found: the figures are computed again, and say so
                pass
            finally:
                self._close_figures()

        self._thread = threading.Thread(target=run, name="hydra-figures", daemon=True)
        self._thread.start()
        with _holds(self.head)._lock:
            _holds(self.head).beside[self.key] = self

    def wait(self) -> None:
        if self._thread is not None:
            self._thread.join()

    def cancel(self) -> None:
        """Stop the figures' query (an interrupted EXTRACT): ``KILL QUERY`` from another connection."""
        figures = self._figures
        if figures is None or self._thread is None or not self._thread.is_alive():
            return
        try:
            with self.head.pooled() as raw:
                raw.cursor().execute(f"KILL QUERY {int(figures.driver_connection.thread_id())}")
        except Exception:  # noqa: BLE001 - the query may have ended meanwhile
            pass

    def discard(self) -> None:
        """The reader failed before the figures started: their connection goes back."""
        if self._thread is None:
            self._close_figures()

    def _close_figures(self) -> None:
        figures, self._figures = self._figures, None
        if figures is not None:
            try:
                figures.close()  # rolled back into the pool
            except Exception:  # noqa: BLE001
                figures.invalidate()


def prelude(head: SqlHead, element: Element, figure_exprs, from_row) -> Prelude | None:
    """For the one reader of a MySQL snapshot that takes the figures (``mysql.read``): what it runs
    in its snapshot before its rows, and the functions that keep what they print, for ``found``;
    None outside such a snapshot. (``figure_exprs`` and ``from_row`` are ``aggregates``', passed
    in: that module reads in snapshots through this one.)"""
    snapshot = current()
    extra = dict(snapshot.extra) if snapshot is not None and snapshot.source == head.name else {}
    if "findings" not in extra:
        return None
    cols = list(element.columns or [])
    exprs, slots = figure_exprs(head, cols, distinct=False, element=element)
    table = head.table_sql(element)
    figures = "SELECT " + ", ".join(f"IFNULL(HEX(CAST({e} AS CHAR)), '-')" for e in exprs) + f" FROM {table}"
    key = extra["findings"]
    identity: dict = {}

    def unhex(values: list) -> list:
        values = [v.decode("ascii") if isinstance(v, bytes) else v for v in values]
        return [None if v == "-" else bytes.fromhex(v).decode("utf-8", "replace") for v in values]

    def keep_identity(line: bytes) -> None:
        values = unhex(line.decode("ascii").rstrip("\n").split("\t"))
        identity.update({n: v for n, v in zip(extra["identity_names"].split(","), values) if v})

    def keep_figures(values: list) -> None:
        found = from_row(head, cols, slots, unhex(values))
        found.method = f"{head.backend} aggregate query, by the reader in its snapshot"
        if beside._thread is not None:
            found.method = (f"{head.backend} aggregate query, beside the reader, in a snapshot started with "
                            f"the reader's while the table was locked (LOCK TABLES … READ NOWAIT)")
        _holds(head).found[key] = (identity, found)

    beside = Beside(head, table, key)
    return Prelude(extra["identity_sql"], figures, keep_identity, keep_figures, beside)


def found(head: SqlHead, snapshot: Snapshot) -> tuple[dict, object] | None:
    """(identity, figures) the reader of a MySQL snapshot found (or its figures' connection beside
    it, waited for), if it has run."""
    key = dict(snapshot.extra).get("findings")
    if not key:
        return None
    holds = _holds(head)
    with holds._lock:
        beside = holds.beside.get(key)
    if beside is not None:
        beside.wait()
    return holds.found.get(key)
