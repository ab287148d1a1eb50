"""PostgreSQL (psycopg) and MySQL/MariaDB (PyMySQL) without SQLAlchemy: the URL, and a small pool
of plain connections.

The fixed cost of a command (issue 18): importing SQLAlchemy and creating an engine cost about
0.25 s of an EXTRACT (``python -X importtime``: ``sqlalchemy`` 117 ms and its PostgreSQL dialect
22 ms; ``create_engine`` 0.12 s in cProfile), more than the whole of ``hydra -c "SELECT 1"``; a
MySQL head's opening was 0.36 s of a 1M-row MariaDB EXTRACT (py-spy). An EXTRACT needs no more of
SQLAlchemy than a connection: the rows come through ``psql`` (``pgbinary``) or the ``mysql`` client
(``mysql``), the split, the snapshot and the figures through the driver's own cursors. So a
``postgresql+psycopg`` or ``mysql+pymysql`` head connects through this module (``SqlHead.open``),
and creates its SQLAlchemy engine only when something needs one (the enumeration, the cursor
transport, RECONCILE AGAINST's session): ``SqlHead.engine``.

The connections are what the engine's would be: ``parse_url`` reads a URL exactly as SQLAlchemy's
``make_url`` does (the same grammar), ``connect_kwargs`` gives the driver what SQLAlchemy's dialect
gives it (``create_connect_args``, then the head's ``connect_args`` over it), the head's session
set-up runs on each new one as on the engine's (``SqlHead.set_up_session``), and a connection goes
back to the pool rolled back, as SQLAlchemy's pool resets it.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import parse_qsl, unquote

# SQLAlchemy's URL grammar (sqlalchemy.engine.url._parse_url, 2.x), so that a URL means the same
# here as for the engine this head may create later. A URL, not SQL: no SQL is read here.
_URL = re.compile(
    r"""
        (?P<name>[\w\+]+)://
        (?:
            (?P<username>[^:/]*)
            (?::(?P<password>[^@]*))?
        @)?
        (?:
            (?:
                \[(?P<ipv6host>[^/\?]+)\] |
                (?P<ipv4host>[^/:\?]+)
            )?
            (?::(?P<port>[^/\?]*))?
        )?
        (?:/(?P<database>[^\?]*))?
        (?:\?(?P<query>.*))?
    """,
    re.X,
)

# idle connections kept, as the engine's pool_size (SqlHead.open)
POOL_SIZE = 8


@dataclass(frozen=True)
class Url:
    """The parts of a database URL, named as SQLAlchemy's ``URL`` names them."""

    drivername: str
    username: str | None = None
    password: str | None = None
    host: str | None = None
    port: int | None = None
    database: str | None = None
    query: dict = field(default_factory=dict)  # values: str, or a list of str for a repeated key

    def get_backend_name(self) -> str:
        return self.drivername.split("+", 1)[0]

    def get_driver_name(self) -> str | None:
        return self.drivername.split("+", 1)[1] if "+" in self.drivername else None


def parse_url(text: str) -> Url:
    """``text`` read as ``sqlalchemy.engine.make_url`` reads it; ValueError when it is no URL."""
    m = _URL.match(text)
    if m is None:
        raise ValueError("Could not parse SQLAlchemy URL from given URL string")
    parts = m.groupdict()
    query: dict = {}
    if parts["query"] is not None:
        for key, value in parse_qsl(parts["query"]):
            if key in query:
                query[key] = [*(query[key] if isinstance(query[key], list) else [query[key]]), value]
            else:
                query[key] = value
    username, password, database = (unquote(parts[k]) if parts[k] is not None else None
                                    for k in ("username", "password", "database"))
    return Url(parts["name"], username, password, parts["ipv4host"] or parts["ipv6host"],
               int(parts["port"]) if parts["port"] else None, database, query)


def direct(url: Url) -> bool:
    """Whether this module connects the way the engine would: PostgreSQL through psycopg (one
    host: SQLAlchemy's multi-host ``?host=…`` forms stay with SQLAlchemy), MySQL/MariaDB through
    PyMySQL (with no query options but ``charset``: ssl and the rest stay with SQLAlchemy)."""
    if not all(isinstance(v, str) for v in url.query.values()):
        return False
    backend, driver = url.get_backend_name(), url.get_driver_name()
    if backend == "postgresql" and driver == "psycopg":
        return not any(k in url.query for k in ("host", "port"))
    return backend in ("mysql", "mariadb") and driver == "pymysql" and set(url.query) <= {"charset"}


def driver(url: Url) -> str:
    """The module ``Pool`` connects with."""
    return url.get_driver_name() or ""


def connect_kwargs(url: Url, connect_args: dict[str, Any]) -> dict[str, Any]:
    """The driver's ``connect`` arguments, as SQLAlchemy's dialect builds them
    (``URL.translate_connect_args``: the parts that are set; the query; MySQL's FOUND_ROWS client
    flag; then ``connect_args``)."""
    mysql = url.get_backend_name() in ("mysql", "mariadb")
    kwargs: dict[str, Any] = {}
    for name, value in (("host", url.host), ("database" if mysql else "dbname", url.database),
                        ("user", url.username), ("password", url.password), ("port", url.port)):
        if value:
            kwargs[name] = str(value) if name == "password" else value
    kwargs.update(url.query)
    if mysql:
        from pymysql.constants import CLIENT

        kwargs["client_flag"] = int(kwargs.get("client_flag", 0)) | CLIENT.FOUND_ROWS
    kwargs.update(connect_args)
    return kwargs


class Pooled:
    """A connection taken from a ``Pool``: what the code reading through it uses of SQLAlchemy's
    pooled connection (``driver_connection``, ``cursor``, ``rollback``; ``close`` gives it back,
    ``invalidate`` closes it for good)."""

    def __init__(self, pool: Pool, connection):
        self._pool = pool
        self.driver_connection = connection

    def cursor(self, *args, **kwargs):
        return self.driver_connection.cursor(*args, **kwargs)

    def rollback(self) -> None:
        self.driver_connection.rollback()

    def close(self) -> None:
        connection, self.driver_connection = self.driver_connection, None
        if connection is not None:
            self._pool.put(connection)

    def invalidate(self) -> None:
        connection, self.driver_connection = self.driver_connection, None
        if connection is not None:
            try:
                connection.close()
            except Exception:  # noqa: BLE001 - a dead connection is gone anyway
                pass


class Pool:
    """Plain driver connections to one database, up to ``POOL_SIZE`` kept idle. ``driver``:
    'psycopg' or 'pymysql'; ``set_up``: run on each new connection (the head's session set-up)."""

    def __init__(self, kwargs: dict[str, Any], password: Callable[[], str | None] | None = None,
                 driver: str = "psycopg", set_up: Callable[[Any], None] | None = None):
        self._kwargs = kwargs
        self.driver, self.set_up = driver, set_up
        # a head whose password changes (RDS IAM tokens) gives each new connection a fresh one,
        # as its engine's ``do_connect`` hook would
        self.password = password
        self._idle: list = []
        self._lock = threading.Lock()
        self._closed = False

    def connect(self) -> Pooled:
        with self._lock:
            connection = self._idle.pop() if self._idle else None
        if connection is None:
            kwargs = dict(self._kwargs)
            fresh = self.password() if self.password is not None else None
            if fresh is not None:
                kwargs["password"] = fresh
            if self.driver == "pymysql":
                import pymysql

                connection = pymysql.connect(**kwargs)
            else:
                import psycopg

                connection = psycopg.connect(**kwargs)
            if self.set_up is not None:
                try:
                    self.set_up(connection)
                except BaseException:
                    _close(connection)
                    raise
        return Pooled(self, connection)

    def put(self, connection) -> None:
        """Back to the pool, rolled back (SQLAlchemy's reset on return); closed when it cannot be."""
        try:
            # psycopg says ``closed``/``broken``; PyMySQL says ``open``
            if getattr(connection, "closed", False) or getattr(connection, "broken", False) \
                    or not getattr(connection, "open", True):
                raise ConnectionError
            connection.rollback()
        except Exception:  # noqa: BLE001 - a broken connection is dropped
            _close(connection)
            return
        with self._lock:
            if not self._closed and len(self._idle) < POOL_SIZE:
                self._idle.append(connection)
                return
        _close(connection)

    def idle(self) -> int:
        with self._lock:
            return len(self._idle)

    def release_idle(self) -> None:
        """Close the idle connections; the pool stays usable (as ``Engine.dispose``)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            _close(connection)

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self.release_idle()


def _close(connection) -> None:
    try:
        connection.close()
    except Exception:  # noqa: BLE001
        pass
