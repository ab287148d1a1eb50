"""The databases of a whole SQL server: which ones ``DATABASES`` picks, how each server lists them,
and the ``databases`` table (``tables/databases.sql``). ``server`` attaches them; MySQL/MariaDB
need no more than this module (a MySQL "database" is a schema, one connection reads them all).
"""

from __future__ import annotations

import fnmatch
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from hydra.heads.base import HeadError
from hydra.heads.sql.catalog import MYSQL_SYSTEM

if TYPE_CHECKING:
    import pyarrow as pa

# Databases enumerated at once. Each listing is a new connection (a backend to start) and three
# catalog queries on a cold cache: waiting more than computing, so they overlap well. Measured with
# bench/bench_pg_servers.py (200 databases × 20 tables, 2 cores at load 10-17, three runs), against
# psql -l plus one catalog query per database: 1 at a time 0.76-0.81×, 4: 0.30×, 8: 0.21-0.24×,
# 16: 0.14-0.28×, 32: 0.23×. Past 8 the gain is within the noise, and each worker holds a connection.
ENUMERATE_WORKERS = 8

# Databases whose heads keep their idle connections pooled. Each database is a pool of its own
# (up to 8 idle connections after a parallel read): a whole-server EXTRACT touching 200 databases
# would otherwise keep hundreds of idle connections, past a default max_connections of 100.
POOLED_DATABASES = 8

# the database a PostgreSQL login connects to, to list the others, when the URL names none
PG_MAINTENANCE = ("postgres", "template1")

# no size here: pg_database_size() of a database dropped since the query began fails the whole
# query (other sessions create and drop databases all the time); each database's own connection
# asks for its size (PG_SIZE) instead
PG_SIZE = "SELECT pg_catalog.pg_database_size(current_database())"

PG_DATABASES = """
SELECT d.datname, pg_catalog.pg_get_userbyid(d.datdba), pg_catalog.pg_encoding_to_char(d.encoding),
       d.datcollate, d.datallowconn, has_database_privilege(d.oid, 'CONNECT')
FROM pg_catalog.pg_database d
WHERE NOT d.datistemplate
ORDER BY d.datname
"""

MSSQL_DATABASES = """
SELECT d.name, SUSER_SNAME(d.owner_sid), d.collation_name,
       (SELECT SUM(CAST(f.size AS BIGINT)) * 8192 FROM sys.master_files f WHERE f.database_id = d.database_id),
       d.state_desc, HAS_DBACCESS(d.name)
FROM sys.databases d
WHERE (:system = 1 OR d.name NOT IN ('master', 'tempdb', 'model', 'msdb'))
ORDER BY d.name
"""

MYSQL_DATABASES = """
SELECT s.schema_name, s.default_character_set_name, s.default_collation_name,
       SUM(t.data_length + t.index_length), COUNT(t.table_name)
FROM information_schema.schemata s
LEFT JOIN information_schema.tables t ON t.table_schema = s.schema_name AND t.table_type <> 'SEQUENCE'
GROUP BY s.schema_name, s.default_character_set_name, s.default_collation_name
ORDER BY s.schema_name
"""

NO_CONNECT = "this login has no CONNECT privilege on it"
NO_CONNECTIONS = "it does not allow connections (pg_database.datallowconn is false)"
NO_DBACCESS = "this login may not use it (HAS_DBACCESS is 0)"


def _backend(uri: str) -> str:
    backend = uri.split(":", 1)[0].lower().split("+", 1)[0]
    return {"postgres": "postgresql", "mariadb": "mysql"}.get(backend, backend)


def whole_server(uri: str, options: Mapping[str, Any] | None) -> str | None:
    """What ATTACH asks for: ``"databases"``, a whole PostgreSQL or SQL Server server (a head per
    database); ``"schemas"``, every schema of a MySQL/MariaDB server (one connection reads them
    all); None, one database. A whole server is asked by ``DATABASES`` or a URL without a database."""
    backend = _backend(uri)
    shape = {"postgresql": "databases", "mssql": "databases", "mysql": "schemas"}.get(backend)
    if shape is None:
        return None
    if any(str(k).upper() == "DATABASES" and v for k, v in (options or {}).items()):
        return shape
    # read as SQLAlchemy reads it, without importing it (``direct``: start-up time)
    from hydra.heads.sql.direct import parse_url

    try:
        url = parse_url(uri)
    except Exception:  # noqa: BLE001 - a bad URL is reported by open(), as for any SQL source
        return None
    if any(k.lower() == "odbc_connect" for k in url.query):
        return None  # the database is inside the ODBC connection string
    return None if url.database else shape


def patterns(value: str | None) -> list[str] | None:
    """``DATABASES`` as a list of names and globs; None = every database."""
    names = [p.strip() for p in str(value or "*").split(",") if p.strip()]
    return None if not names or "*" in names else names


def selected(names: Iterable[str], wanted: list[str] | None) -> list[str]:
    """The names that ``wanted`` (names and globs, matched exactly as databases are named) picks."""
    if wanted is None:
        return list(names)
    return [n for n in names if any(fnmatch.fnmatchcase(n, w) for w in wanted)]


def none_matched(head, found: list[str]) -> HeadError:
    shown = ", ".join(found[:10]) + (f" and {len(found) - 10} more" if len(found) > 10 else "")
    return HeadError(f"{head.name}: DATABASES {head.option('DATABASES')!r} matches no database on the server "
                     f"(it has: {shown or 'none'})")


def databases_table(rows: list[dict]) -> pa.Table:
    import pyarrow as pa

    types = {"database": pa.string(), "size_bytes": pa.int64(), "owner": pa.string(), "encoding": pa.string(),
             "collation_name": pa.string(), "table_count": pa.int64(), "accessible": pa.bool_(), "reason": pa.string()}
    return pa.table({name: pa.array([r.get(name) for r in rows], t) for name, t in types.items()})


# -- MySQL / MariaDB: one connection reads every schema --------------------------------------------


def _mysql_schemas(head) -> list[tuple]:
    with head.engine.connect() as conn:
        rows = conn.exec_driver_sql(MYSQL_DATABASES).all()
    return [r for r in rows if head.system or r[0].lower() not in MYSQL_SYSTEM]


def mysql_selected(head) -> list[str]:
    """The schemas ``DATABASES`` picks (and ``SCHEMAS`` too, when both are given)."""
    try:
        found = [r[0] for r in _mysql_schemas(head)]
    except Exception as err:  # noqa: BLE001 - a driver's error becomes one clear line, without secrets
        raise HeadError(f"{head.name}: cannot list the databases: {head._clean(err)}") from None
    picked = selected(found, patterns(head.option("DATABASES")))
    if head.schemas is not None:
        picked = [n for n in picked if n in head.schemas]
    if not picked:
        raise none_matched(head, found)
    return picked


def mysql_databases(head) -> pa.Table:
    """The ``databases`` rows of a MySQL/MariaDB source: its listed schemas. MySQL shows a login only
    the schemas it holds some privilege on, so every row is accessible."""
    try:
        rows = _mysql_schemas(head)
    except Exception as err:  # noqa: BLE001 - a driver's error becomes one clear line, without secrets
        raise HeadError(f"{head.name}: cannot list the databases: {head._clean(err)}") from None
    return databases_table([
        {"database": name, "encoding": charset, "collation_name": collation,
         "size_bytes": int(size) if size is not None else None, "table_count": int(count), "accessible": True}
        for name, charset, collation, size, count in rows
        if head.schemas is None or name in head.schemas])
