"""``SqlHead.sql_session``: one read-only connection in one consistent snapshot, for
``RECONCILE … AGAINST …``, which runs its figures and per-key-range digests in it.

PostgreSQL: a ``REPEATABLE READ, READ ONLY`` transaction (every statement sees the moment of the
first). MySQL/MariaDB: ``START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY`` (InnoDB); the
session runs in UTC (set when the connection opens), so TIMESTAMP columns are given in UTC.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hydra.heads.base import HeadError, SqlSession

if TYPE_CHECKING:
    from hydra.core.model import Element
    from hydra.heads.sql.head import SqlHead

BEGIN = {
    "postgresql": ("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY",
                   "repeatable read, read only transaction"),
    "mysql": ("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY",
              "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"),
}


class HeadSqlSession(SqlSession):
    def __init__(self, head: SqlHead, element: Element):
        self.head = head
        self.dialect = head.family
        self.table = head.table_sql(element)
        begin, self.snapshot = BEGIN[head.family]
        try:
            self._conn = head.engine.connect()
            self._conn.exec_driver_sql(begin)
        except Exception as err:  # noqa: BLE001 - any driver error, cleaned of secrets
            raise HeadError(f"{head.name}: cannot open a snapshot: {head._clean(err)}") from None  # noqa: SLF001

    def quote(self, name: str) -> str:
        return self.head.quote(name)

    def rows(self, sql: str) -> list[tuple]:
        try:
            return [tuple(r) for r in self._conn.exec_driver_sql(sql.replace("%", "%%")).all()]
        except Exception as err:  # noqa: BLE001 - any driver error, cleaned of secrets
            raise HeadError(f"{self.head.name}: {self.head._clean(err)}") from None  # noqa: SLF001

    def close(self) -> None:
        try:
            self._conn.rollback()
        finally:
            self._conn.close()
