"""Bulk catalog queries of the SQL head: a few queries per source, never per-table reflection.

Each ``enumerate_<family>(conn, schemas, system, only)`` returns a list of ``Element`` with columns
and keys filled. ``only`` = (schema, table) restricts the same queries to one element (used when an
element must be described again, e.g. after a workspace was reopened).
"""

from __future__ import annotations

from hydra.core.model import Column, Element
from hydra.heads.sql import types as sql_types

PG_SYSTEM = ("pg_catalog", "information_schema")
MYSQL_SYSTEM = ("mysql", "information_schema", "performance_schema", "sys")
MSSQL_SYSTEM = ("sys", "INFORMATION_SCHEMA", "guest", "db_owner", "db_accessadmin", "db_securityadmin",
                "db_ddladmin", "db_backupoperator", "db_datareader", "db_datawriter",
                "db_denydatareader", "db_denydatawriter")

_PG_KINDS = {"r": "table", "p": "table", "v": "view", "m": "materialized view", "f": "foreign table"}

_PG_FILTER = """
  c.relkind IN ('r','p','v','m','f') AND NOT c.relispartition
  AND (CAST(:system AS boolean) OR (n.nspname NOT IN ('pg_catalog', 'information_schema')
       AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'))
  AND (CAST(:schemas AS text[]) IS NULL OR n.nspname = ANY(CAST(:schemas AS text[])))
  AND (CAST(:only_schema AS text) IS NULL OR (n.nspname = :only_schema AND c.relname = :only_table))
"""

PG_RELATIONS = f"""
SELECT c.oid, n.nspname, c.relname, c.relkind,
       CASE WHEN c.reltuples >= 0 AND c.relkind IN ('r','m') THEN CAST(c.reltuples AS bigint) END,
       CASE WHEN c.relkind IN ('r','m') THEN pg_total_relation_size(c.oid) END,
       ARRAY(SELECT cn.nspname || '.' || cc.relname FROM pg_inherits i
             JOIN pg_class cc ON cc.oid = i.inhrelid JOIN pg_namespace cn ON cn.oid = cc.relnamespace
             WHERE i.inhparent = c.oid AND c.relkind <> 'p' ORDER BY 1),
       row_security_active(c.oid)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE {_PG_FILTER}
"""

PG_COLUMNS = f"""
SELECT a.attrelid, a.attname,
       format_type(COALESCE(NULLIF(t.typbasetype, 0), a.atttypid),
                   CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END),
       NOT a.attnotnull, COALESCE(bt.typtype, t.typtype), et.oid IS NOT NULL,
       CASE WHEN et.oid IS NOT NULL THEN format_type(et.oid, a.atttypmod) END,
       COALESCE(et.typtype = 'e', false), has_column_privilege(a.attrelid, a.attnum, 'SELECT')
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_type bt ON bt.oid = NULLIF(t.typbasetype, 0)
LEFT JOIN pg_type et ON et.oid = COALESCE(bt.typelem, t.typelem)
     AND COALESCE(bt.typcategory, t.typcategory) = 'A'
WHERE a.attnum > 0 AND NOT a.attisdropped AND {_PG_FILTER}
ORDER BY a.attrelid, a.attnum
"""

PG_KEYS = f"""
SELECT i.indrelid, i.indisprimary,
       ARRAY(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
             ORDER BY k.ord),
       bool_and(a2.attnotnull)
FROM pg_index i
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a2 ON a2.attrelid = i.indrelid AND a2.attnum = ANY(i.indkey)
WHERE (i.indisprimary OR i.indisunique) AND i.indisvalid AND i.indpred IS NULL AND i.indexprs IS NULL
  AND {_PG_FILTER}
GROUP BY i.indrelid, i.indisprimary, i.indkey, i.indexrelid
ORDER BY i.indrelid, i.indisprimary DESC, array_length(i.indkey, 1), i.indexrelid
"""


def _params(schemas, system, only):
    return {
        "schemas": list(schemas) if schemas else None,
        "system": bool(system),
        "only_schema": only[0] if only else None,
        "only_table": only[1] if only else None,
    }


UNREADABLE_COLUMN_NOTE = "this role may not read this column"


def enumerate_postgres(conn, schemas=None, system=False, only=None, readable_columns=False,
                       parents: dict | None = None) -> list[Element]:
    """``readable_columns``: in a table where the role may read only some columns, list only
    those (the note names the others). ``parents``: filled with parts -> whether the element is
    an inheritance parent (read with ONLY, see ``SqlHead.table_sql``)."""
    from sqlalchemy import text

    params = _params(schemas, system, only)
    elements: dict[int, Element] = {}
    notes: dict[int, list[str]] = {}
    for oid, schema, name, relkind, rows, size, children, rls in conn.execute(text(PG_RELATIONS), params):
        elements[oid] = Element(
            parts=(schema, name), kind=_PG_KINDS.get(relkind, "table"), path=f"{schema}.{name}",
            row_count=rows, size_bytes=size, columns=[],
        )
        notes[oid] = _relation_notes(children, rls)
        if parents is not None:
            parents[(schema, name)] = bool(children)
    hidden: dict[int, list[str]] = {}  # the columns the role may not read, per relation
    for oid, name, ftype, nullable, typtype, is_array, elem, elem_enum, may_read in conn.execute(text(PG_COLUMNS), params):
        el = elements.get(oid)
        if el is None:
            continue
        mapped = sql_types.postgres(ftype, is_enum=typtype == "e", element=elem if is_array else None)
        if is_array and elem_enum:
            mapped = sql_types.Mapped("VARCHAR[]", "multi-dimensional arrays are flattened")
        note = mapped.note
        if not may_read:
            hidden.setdefault(oid, []).append(name)
            if readable_columns:
                continue
            note = "; ".join(n for n in (UNREADABLE_COLUMN_NOTE, note) if n)
        el.columns.append(Column(name, mapped.duck, ftype, nullable, note))
    for oid, names in hidden.items():
        readable = len(elements[oid].columns) - (0 if readable_columns else len(names))
        if not readable:
            notes[oid].append("this role may not read it (no SELECT privilege on the table or any column)")
        elif readable_columns:
            notes[oid].append(f"this role may not read {_listed('column', names)}: left out (READABLE_COLUMNS true)")
        else:
            notes[oid].append(f"this role may not read {_listed('column', names)}, so reading the table fails; "
                              f"ATTACH … (READABLE_COLUMNS true) reads the other columns")
    for oid, primary, cols, notnull in conn.execute(text(PG_KEYS), params):
        el = elements.get(oid)
        if el is None or el.key:
            continue
        if (primary or notnull) and not (readable_columns and set(cols) & set(hidden.get(oid, ()))):
            el.key = list(cols)
    for oid, el in elements.items():
        el.note = "; ".join(notes[oid]) or None
    return list(elements.values())


def _relation_notes(children: list[str], row_security: bool) -> list[str]:
    notes = []
    if children:
        # Reading a parent as PostgreSQL does (its rows and every child's) would extract a child's
        # rows twice when both are marked, and disagree with the parent's own row estimate
        notes.append(f"inheritance parent of {_listed('table', children)}: read with ONLY, its own rows "
                     f"(each child is an element of its own)")
    if row_security:
        notes.append("row-level security applies to this role: reads show only the rows its policies "
                     "allow (row_count is the catalog's estimate of them all)")
    return notes


def _listed(noun: str, names: list[str], most: int = 5) -> str:
    shown = ", ".join(names[:most]) + (f" and {len(names) - most} more" if len(names) > most else "")
    return f"{noun}{'s' * (len(names) != 1)} {shown}"


# -- MySQL / MariaDB --------------------------------------------------------------------------

_MY_FILTER = """
  ({schema_col} IN :schemas OR (:all_schemas AND (:system OR {schema_col} NOT IN
     ('mysql', 'information_schema', 'performance_schema', 'sys'))))
  AND (:only_schema IS NULL OR ({schema_col} = :only_schema AND table_name = :only_table))
"""

MYSQL_TABLES = """
SELECT table_schema, table_name, table_type, table_rows, data_length + index_length
FROM information_schema.tables WHERE """ + _MY_FILTER.format(schema_col="table_schema")

MYSQL_COLUMNS = """
SELECT table_schema, table_name, column_name, column_type, is_nullable
FROM information_schema.columns WHERE """ + _MY_FILTER.format(schema_col="table_schema") + """
ORDER BY table_schema, table_name, ordinal_position"""

MYSQL_KEYS = """
SELECT table_schema, table_name, index_name, column_name, nullable
FROM information_schema.statistics WHERE non_unique = 0 AND """ + _MY_FILTER.format(schema_col="table_schema") + """
ORDER BY table_schema, table_name, index_name = 'PRIMARY' DESC, index_name, seq_in_index"""


def enumerate_mysql(conn, schemas=None, system=False, only=None) -> list[Element]:
    from sqlalchemy import bindparam, text

    params = _params(schemas, system, only)
    params["all_schemas"] = not schemas
    params["schemas"] = list(schemas) if schemas else ["\x00"]

    def q(sql):
        return text(sql).bindparams(bindparam("schemas", expanding=True))

    elements: dict[tuple[str, str], Element] = {}
    for schema, name, ttype, rows, size in conn.execute(q(MYSQL_TABLES), params):
        if ttype == "SEQUENCE":
            continue
        kind = "view" if "VIEW" in (ttype or "") else "table"
        elements[(schema, name)] = Element(
            parts=(schema, name), kind=kind, path=f"{schema}.{name}",
            row_count=None if kind == "view" or rows is None else int(rows),
            size_bytes=None if kind == "view" or size is None else int(size), columns=[],
        )
    for schema, table, name, ctype, nullable in conn.execute(q(MYSQL_COLUMNS), params):
        el = elements.get((schema, table))
        if el is None:
            continue
        if isinstance(ctype, bytes):
            ctype = ctype.decode()
        mapped = sql_types.mysql(ctype)
        el.columns.append(Column(name, mapped.duck, ctype, nullable == "YES", mapped.note))
    keys: dict[tuple[str, str, str], list] = {}
    for schema, table, index, column, nullable in conn.execute(q(MYSQL_KEYS), params):
        keys.setdefault((schema, table, index), []).append((column, nullable))
    for (schema, table, index), cols in keys.items():
        el = elements.get((schema, table))
        if el is None or el.key:
            continue
        if index == "PRIMARY" or all(not n for _, n in cols):
            el.key = [c for c, _ in cols]
    return list(elements.values())


# -- Microsoft SQL Server ---------------------------------------------------------------------

_MS_FILTER = """
  o.is_ms_shipped = 0 AND o.type IN ('U', 'V')
  AND (:all_schemas = 1 OR s.name IN ({schemas}))
  AND (:system = 1 OR s.name NOT IN ('sys', 'INFORMATION_SCHEMA'))
  AND (:only_schema IS NULL OR (s.name = :only_schema AND o.name = :only_table))
"""

# ``{db}`` is empty for the connection's own database, or ``[name].`` for another database of the
# server (a whole-server attach lists every database from one connection with three-part names)
MSSQL_OBJECTS = """
SELECT s.name, o.name, o.type,
       (SELECT SUM(p.rows) FROM {db}sys.partitions p WHERE p.object_id = o.object_id AND p.index_id IN (0, 1)),
       {size}
FROM {db}sys.objects o JOIN {db}sys.schemas s ON s.schema_id = o.schema_id
WHERE """ + _MS_FILTER

MSSQL_SIZE = ("(SELECT SUM(ps.reserved_page_count) * 8192 FROM {db}sys.dm_db_partition_stats ps "
              "WHERE ps.object_id = o.object_id)")

# type names from the database's own sys.types: TYPE_NAME() would look a user type up in the
# connection's database
MSSQL_COLUMNS = """
SELECT s.name, o.name, c.name, st.name, ut.name,
       c.max_length, c.precision, c.scale, c.is_nullable
FROM {db}sys.columns c JOIN {db}sys.objects o ON o.object_id = c.object_id
JOIN {db}sys.schemas s ON s.schema_id = o.schema_id
JOIN {db}sys.types ut ON ut.user_type_id = c.user_type_id
JOIN {db}sys.types st ON st.user_type_id = c.system_type_id
WHERE """ + _MS_FILTER + """
ORDER BY s.name, o.name, c.column_id"""

MSSQL_KEYS = """
SELECT s.name, o.name, i.name, i.is_primary_key, c.name, c.is_nullable
FROM {db}sys.indexes i JOIN {db}sys.objects o ON o.object_id = i.object_id
JOIN {db}sys.schemas s ON s.schema_id = o.schema_id
JOIN {db}sys.index_columns ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id AND ic.is_included_column = 0
JOIN {db}sys.columns c ON c.object_id = ic.object_id AND c.column_id = ic.column_id
WHERE i.is_unique = 1 AND i.has_filter = 0 AND """ + _MS_FILTER + """
ORDER BY s.name, o.name, i.is_primary_key DESC, i.index_id, ic.key_ordinal"""


def mssql_sql(template: str, schemas, database: str | None = None, size: str | None = None) -> str:
    """A catalog query with its schema parameters, in ``database`` (three-part names) if given."""
    from sqlglot import exp

    names = ", ".join(f":s{i}" for i in range(len(schemas or ()))) or "NULL"
    prefix = exp.to_identifier(database, quoted=True).sql(dialect="tsql") + "." if database else ""
    sql = template.replace("{size}", size if size is not None else "NULL").replace("{schemas}", names)
    return sql.replace("{db}", prefix)


def enumerate_mssql(conn, schemas=None, system=False, only=None, database: str | None = None) -> list[Element]:
    """``database``: list that database of the server through three-part names (``[db].sys.…``)."""
    from sqlalchemy import text

    params = {"all_schemas": 0 if schemas else 1, "system": 1 if system else 0,
              "only_schema": only[0] if only else None, "only_table": only[1] if only else None}
    for i, s in enumerate(schemas or ()):
        params[f"s{i}"] = s
    elements: dict[tuple[str, str], Element] = {}
    try:
        rows = conn.execute(text(mssql_sql(MSSQL_OBJECTS, schemas, database, MSSQL_SIZE)), params).all()
    except Exception:  # noqa: BLE001 - no VIEW DATABASE STATE: sizes stay unknown
        conn.rollback()
        rows = conn.execute(text(mssql_sql(MSSQL_OBJECTS, schemas, database)), params).all()
    for schema, name, otype, nrows, size in rows:
        kind = "view" if otype.strip() == "V" else "table"
        elements[(schema, name)] = Element(
            parts=(schema, name), kind=kind, path=f"{schema}.{name}",
            row_count=int(nrows) if nrows is not None and kind == "table" else None,
            size_bytes=int(size) if size is not None else None, columns=[],
        )
    for schema, table, name, systype, usertype, max_length, precision, scale, nullable in conn.execute(
        text(mssql_sql(MSSQL_COLUMNS, schemas, database)), params
    ):
        el = elements.get((schema, table))
        if el is None:
            continue
        mapped = sql_types.mssql(systype, precision, scale)
        source = usertype
        if systype in ("varchar", "nvarchar", "varbinary", "char", "nchar", "binary"):
            n = max_length // 2 if systype.startswith("n") and max_length > 0 else max_length
            source = f"{usertype}({'max' if max_length == -1 else n})"
        elif systype in ("decimal", "numeric"):
            source = f"{usertype}({precision},{scale})"
        el.columns.append(Column(name, mapped.duck, source, bool(nullable), mapped.note))
    keys: dict[tuple[str, str, str], list] = {}
    for schema, table, index, primary, column, nullable in conn.execute(
            text(mssql_sql(MSSQL_KEYS, schemas, database)), params):
        keys.setdefault((schema, table, index), []).append((column, nullable, primary))
    for (schema, table, _), cols in keys.items():
        el = elements.get((schema, table))
        if el is None or el.key:
            continue
        if cols[0][2] or all(not n for _, n, _ in cols):
            el.key = [c for c, _, _ in cols]
    return list(elements.values())


# -- anything else SQLAlchemy can inspect -----------------------------------------------------


def enumerate_generic(engine, conn, schemas=None, system=False, only=None, default_schema="main") -> list[Element]:
    from sqlalchemy import inspect
    from sqlalchemy.engine import ObjectKind

    insp = inspect(conn)
    if schemas:
        names = list(schemas)
    elif only:
        names = [only[0]]
    else:
        names = [None]
    out: list[Element] = []
    for schema in names:
        shown = schema or insp.default_schema_name or default_schema
        kinds = {}
        for t in insp.get_table_names(schema=schema):
            kinds[t] = "table"
        for v in insp.get_view_names(schema=schema):
            kinds[v] = "view"
        if only:
            kinds = {k: v for k, v in kinds.items() if k == only[1]}
        if not kinds:
            continue
        filter_names = list(kinds)
        cols = insp.get_multi_columns(schema=schema, filter_names=filter_names, kind=ObjectKind.ANY)
        pks = insp.get_multi_pk_constraint(schema=schema, filter_names=filter_names, kind=ObjectKind.ANY)
        for name, kind in kinds.items():
            columns = []
            for c in cols.get((schema, name), []):
                mapped = sql_types.from_sqlalchemy(c["type"])
                columns.append(Column(c["name"], mapped.duck, str(c["type"]), c.get("nullable"), mapped.note))
            pk = pks.get((schema, name)) or {}
            out.append(Element(
                parts=(shown, name), kind=kind, path=f"{shown}.{name}", columns=columns,
                key=list(pk.get("constrained_columns") or []) or None,
            ))
    return out
