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
  differ (``EXTRACT … (SNAPSHOT 'per_reader')``); the manifest says which.
* Other dialects: no snapshot (``no_snapshot``), said in the manifest.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from hydra.core.snapshot import PER_READER, SHARED, Snapshot, current, no_snapshot
from hydra.heads.base import HeadError

if TYPE_CHECKING:
    from hydra.heads.base import Element
    from hydra.heads.sql import SqlHead

PG_METHOD = "pg_export_snapshot() held by the coordinator; every reader SET TRANSACTION SNAPSHOT"
PG_ISOLATION = "repeatable read, read only"
MYSQL_METHOD = "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY on each connection"
MYSQL_ISOLATION = "repeatable read, read only, consistent snapshot"


class Holds:
    """The open transactions that keep a head's exported snapshots valid, by token."""

    def __init__(self):
        self._lock = threading.Lock()
        self._held: dict[str, tuple[object, float]] = {}

    def add(self, token: str, raw) -> None:
        with self._lock:
            self._held[token] = (raw, time.monotonic())

    def release(self, token: str) -> None:
        with self._lock:
            raw, _ = self._held.pop(token, (None, 0.0))
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


def take(head: SqlHead, element: Element, readers: int, per_reader: bool) -> Snapshot:
    """A snapshot for ``readers`` readers of ``element`` (held until ``release``)."""
    if head.family == "postgresql" and head.engine.url.get_driver_name() in ("psycopg", "psycopg2"):
        return _take_postgres(head)
    if head.family == "mysql":
        sharing = PER_READER if per_reader and readers > 1 else SHARED
        note = ("each range reads in a consistent snapshot of its own: ranges may see different moments "
                "(SNAPSHOT 'per_reader')" if sharing == PER_READER else
                "MySQL/MariaDB cannot share a snapshot between connections: the element is read on one "
                "connection, and the figures are taken in that reader's snapshot")
        return Snapshot(head.name, MYSQL_METHOD, MYSQL_ISOLATION, sharing, taken_at=_now(), note=note)
    return no_snapshot(head.name, f"the {head.backend} head has no shared snapshot")


def _take_postgres(head: SqlHead) -> Snapshot:
    raw = head.engine.raw_connection()
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


def release(head: SqlHead, snapshot: Snapshot) -> None:
    if snapshot.token:
        _holds(head).release(snapshot.token)


def held_seconds(head: SqlHead, snapshot: Snapshot) -> float | None:
    return _holds(head).held_seconds(snapshot.token) if snapshot.token else None


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
