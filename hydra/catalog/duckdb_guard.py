"""The workspace's DuckDB: connected with extensions and secrets off, and guarded.

Hydra reaches a source only through its heads, which read and never write. DuckDB can reach
databases and remote files on its own — through extensions (``ATTACH … (TYPE postgres)``,
``sqlite_scan()``, httpfs…), through its secrets, and through the settings that turn those on —
and would then read and write behind Hydra's back. So:

* ``connect`` opens the workspace with extension auto-install and auto-load off, community
  extensions off, persistent secrets off, and its configuration locked: only the settings in
  ``SETTINGS`` can change afterwards (DuckDB's ``allowed_configs``), so nothing turns the others
  back on — not ``SET``, ``RESET``, ``PRAGMA``, nor Hydra itself;
* ``check`` refuses, with one line, each statement that would reach outside before DuckDB sees
  it: ``INSTALL``, ``LOAD``, ``UPDATE EXTENSIONS``, ``CREATE SECRET``, extension repositories,
  ``SET``/``RESET``/``PRAGMA`` of any other setting, ``IMPORT DATABASE`` (it runs the folder's
  scripts inside DuckDB), the scanner extensions' functions (``postgres_scan``, ``mysql_query``,
  ``sqlite_attach``…), ``COPY FROM DATABASE``/``EXPORT DATABASE`` naming a source, ``COPY … TO``
  and ``EXPORT DATABASE`` into a files source's folder, and DuckDB's own ``ATTACH`` of anything
  but a DuckDB database file.

DuckDB's ``ATTACH`` of a DuckDB file: a file that does not exist yet is created (it can only be
yours); an existing one is attached ``READ_ONLY`` unless the statement says ``READ_WRITE`` (or
``READ_ONLY false``). Hydra cannot tell a client's DuckDB database from a workspace of your own,
so it treats an existing file as a source until you say it is yours.

Statements are recognised with sqlglot's tokenizer, like every Hydra statement.
"""

from __future__ import annotations

import os

from hydra.core.errors import ReadOnlyError, StatementError

# Settings a user may change in the workspace (everything else is locked at connect). Chosen as
# those that only tune how DuckDB computes and shows results; none loads code, reaches a network
# or a source, or changes where secrets and extensions live.
SETTINGS = (
    "threads", "worker_threads", "memory_limit", "max_memory", "operator_memory_limit",
    "TimeZone", "Calendar", "temp_directory", "max_temp_directory_size", "preserve_insertion_order",
    "default_order", "default_null_order", "null_order", "default_collation",
    "enable_progress_bar", "enable_progress_bar_print", "progress_bar_time", "enable_profiling",
    "profiling_output", "profile_output", "profiling_coverage", "explain_output", "errors_as_json",
    "integer_division", "ieee_floating_point_ops", "max_expression_depth", "pivot_limit",
    "pivot_filter_threshold", "ordered_aggregate_threshold", "late_materialization_max_rows",
    "max_execution_time", "checkpoint_threshold", "wal_autocheckpoint",
    "immediate_transaction_mode", "partitioned_write_flush_threshold",
    "partitioned_write_max_open_files", "enable_optimizer", "disabled_optimizers",
    "order_by_non_integer_literal", "binary_as_string", "search_path", "schema",
    "streaming_buffer_size", "max_streaming_buffer_size",
)
_SETTINGS = frozenset(s.lower() for s in SETTINGS)

CONFIG = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "allow_unsigned_extensions": False,
    "allow_persistent_secrets": False,  # a secret never lands on disk
    "lock_configuration": True,
}

# Table functions of DuckDB's extensions that reach a database or a lake on their own (from
# DuckDB's extension_entries.hpp, plus the community ODBC scanner). Those extensions cannot load
# in the workspace anyway; naming them gets one clear line instead of DuckDB's advice to install.
SCANNER_FUNCTIONS = frozenset({
    "postgres_scan", "postgres_scan_pushdown", "postgres_query", "postgres_execute",
    "postgres_attach", "pg_clear_cache",
    "mysql_scan", "mysql_query", "mysql_execute", "mysql_clear_cache",
    "sqlite_scan", "sqlite_attach", "sqlite_query",
    "odbc_scan", "odbc_query", "odbc_exec", "odbc_attach",
    "iceberg_scan", "iceberg_metadata", "iceberg_snapshots", "delta_scan",
    "load_aws_credentials", "st_read",
})

# storage TYPEs of DuckDB's own ATTACH (its extensions'); another TYPE is Hydra's, a head's kind
DUCKDB_TYPES = frozenset({"duckdb", "postgres", "postgresql", "postgres_scanner", "mysql", "mysql_scanner",
                          "sqlite", "sqlite3", "sqlite_scanner", "ducklake", "motherduck", "md", "iceberg",
                          "delta", "unity_catalog", "uc_catalog", "glue", "odbc", "mssql", "bigquery",
                          "snowflake", "quack", "lance", "vortex"})
# what to write instead, per storage TYPE of DuckDB's ATTACH
_INSTEAD = {"postgres": "postgresql://user@host/db", "postgresql": "postgresql://user@host/db",
            "mysql": "mysql://user@host/db", "sqlite": "sqlite:///path/to/file.db",
            "sqlite3": "sqlite:///path/to/file.db"}
_STRINGS = ("STRING", "RAW_STRING", "NATIONAL_STRING")
_DUCKDB_MAGIC = b"DUCK"  # bytes 8..12 of every DuckDB database file


def connect(path: str = ":memory:", read_only: bool = False):
    """A DuckDB connection configured as this module describes."""
    import duckdb

    config = dict(CONFIG, allowed_configs=list(SETTINGS))
    try:
        return duckdb.connect(path, read_only=read_only, config=config)
    except duckdb.InvalidInputException as err:
        if "allowed_configs" not in str(err):
            raise
    # an older or newer DuckDB that lacks one of SETTINGS: allow those it has
    known = {name.lower() for (name,) in duckdb.connect().execute("SELECT name FROM duckdb_settings()").fetchall()}
    config["allowed_configs"] = [s for s in SETTINGS if s.lower() in known]
    return duckdb.connect(path, read_only=read_only, config=config)


def mentions_scanner(text: str) -> bool:
    """Cheap test on raw text, before any parsing: might ``text`` call a scanner function?
    (A yes only sends the text the careful way, through ``check``.)"""
    lowered = text.lower()
    return any(name in lowered for name in SCANNER_FUNCTIONS)


# -- recognising DuckDB's own statements ---------------------------------------------------------


def is_duckdb_statement(ws, stmt) -> bool:
    """Whether an ATTACH or DETACH is DuckDB's own rather than Hydra's.

    DuckDB's ``ATTACH``: written with ``DATABASE``, or naming ``:memory:``, a ``.duckdb``/``.ddb``
    file, an existing DuckDB database file, or one of DuckDB's storage ``TYPE``s (``duckdb``,
    ``postgres``, ``sqlite``…: ``DUCKDB_TYPES``). DuckDB's ``DETACH``: written with ``DATABASE``, or naming a
    database that is not a Hydra source."""
    words = [t.text.upper() for t in stmt.tokens[1:4] if t.token_type.name not in _STRINGS]
    if stmt.keyword == "DETACH":
        if "DATABASE" in words:
            return True
        names = [t.text for t in stmt.tokens[1:] if t.text.upper() not in ("IF", "EXISTS")]
        return len(names) == 1 and not ws.has_source(names[0]) and names[0].lower() in _duckdb_databases(ws)
    if stmt.keyword != "ATTACH":
        return False
    if "DATABASE" in words:
        return True
    kind = _option(stmt.tokens, "TYPE")
    if kind is not None:
        return kind.lower() in DUCKDB_TYPES
    target = _target(stmt.tokens)
    if target is None or "://" in target:
        return False  # a URL is Hydra's, even one whose database is called x.duckdb
    return _is_memory(target) or target.lower().endswith((".duckdb", ".ddb")) or _is_duckdb_file(target)


def _duckdb_databases(ws) -> set[str]:
    return {name.lower() for (name,) in ws.con.execute("SELECT database_name FROM duckdb_databases()").fetchall()}


# -- the guard ---------------------------------------------------------------------------------


def check(ws, stmt):
    """The statement to give DuckDB (``stmt``, or DuckDB's ATTACH with READ_ONLY added), or a
    one-line ``StatementError``/``ReadOnlyError`` saying why it would reach outside Hydra."""
    tokens = _unfolded(stmt.tokens)
    while tokens and tokens[0].text.upper() in ("EXPLAIN", "ANALYZE", "ANALYSE"):
        tokens = tokens[1:]  # EXPLAIN ANALYZE runs the statement
    if not tokens:
        return stmt
    words = [t.text.upper() if t.token_type.name not in _STRINGS else "" for t in tokens]
    first = words[0]
    _check_functions(tokens)
    verb = next((v for v in (["FORCE", "INSTALL"], ["INSTALL"], ["LOAD"]) if words[:len(v)] == v), None)
    if verb is None and words[:2] == ["UPDATE", "EXTENSIONS"] and (len(words) == 2 or words[2] == "("):
        verb = ["UPDATE", "EXTENSIONS"]
    if verb is not None:
        raise StatementError(
            f"{' '.join(verb)}: Hydra does not install or load DuckDB extensions; a source attaches "
            "through Hydra (ATTACH '<uri>' AS name), which keeps it read-only")
    if first in ("CREATE", "DROP"):
        rest = [w for w in words[1:5] if w not in ("OR", "REPLACE", "PERSISTENT", "TEMPORARY", "TEMP", "IF", "NOT", "EXISTS")]
        if first == "CREATE" and rest[:1] == ["SECRET"]:
            raise StatementError(
                "CREATE SECRET: DuckDB's secrets let its extensions reach sources behind Hydra's "
                "back; give credentials to ATTACH instead, as ${ENV_VAR}")
        if rest[:2] == ["EXTENSION", "REPOSITORY"]:
            raise StatementError(f"{first} EXTENSION REPOSITORY: Hydra does not load DuckDB extensions")
    if first in ("SET", "RESET", "PRAGMA"):
        _check_setting(tokens, words)
    if first == "IMPORT" and words[1:2] == ["DATABASE"]:
        raise StatementError(
            "IMPORT DATABASE runs the folder's SQL scripts inside DuckDB, past Hydra's checks; "
            "read the exported files with read_csv or read_parquet instead")
    if first == "EXPORT" and words[1:2] == ["DATABASE"]:
        _check_database_names(ws, tokens[2:3] if tokens[2:3] and tokens[2].token_type.name not in _STRINGS else [])
        check_not_into_source(ws, _target(tokens), "EXPORT DATABASE")
    if first == "COPY":
        if words[1:3] == ["FROM", "DATABASE"]:
            _check_database_names(ws, [t for t in tokens[3:] if t.text.upper() != "TO"][:2])
        else:
            check_not_into_source(ws, _copy_target(tokens), "COPY")
    if first == "ATTACH":
        if stmt.keyword != "ATTACH":
            raise StatementError(f"{stmt.keyword} ATTACH: run the ATTACH itself")
        return _duckdb_attach(ws, stmt)
    return stmt


def _unfolded(tokens) -> list:
    """sqlglot reads some statements (CALL, EXPLAIN, RESET…) as a command word and one string
    holding the rest: tokenize that rest too, so the guard sees every word."""
    from hydra.core.statement import tokenize

    out = []
    for i, token in enumerate(tokens):
        if token.token_type.name == "STRING" and i and tokens[i - 1].token_type.name == "COMMAND":
            out.extend(_unfolded(tokenize(token.text)))
        else:
            out.append(token)
    return out


def _check_functions(tokens) -> None:
    for i, token in enumerate(tokens[:-1]):
        name = token.text.lower()
        if name in SCANNER_FUNCTIONS and token.token_type.name not in _STRINGS and tokens[i + 1].token_type.name == "L_PAREN":
            raise StatementError(
                f"{name}() belongs to a DuckDB extension that would reach a source behind Hydra's "
                "back; attach the source (ATTACH '<uri>' AS name) and read its elements by their refs")


def _check_setting(tokens, words) -> None:
    """SET [GLOBAL|SESSION|LOCAL] name …, RESET [scope] name, PRAGMA name = …: only ``SETTINGS``."""
    names = [t for t, w in zip(tokens[1:], words[1:]) if w not in ("GLOBAL", "SESSION", "LOCAL")]
    if not names or names[0].text.upper() == "VARIABLE":
        return
    if words[0] == "PRAGMA" and not (len(names) > 1 and names[1].token_type.name in ("EQ", "EQUAL")):
        return  # a pragma call (PRAGMA table_info('t')): not a setting; the lock guards the rest
    name = names[0].text
    if name.lower() not in _SETTINGS:
        raise StatementError(
            f"{words[0]} {name}: Hydra keeps this DuckDB setting fixed, so that extensions and secrets "
            "stay off (SELECT current_setting('allowed_configs') lists the settings you can change)")


def _check_database_names(ws, tokens) -> None:
    for token in tokens:
        if ws.has_source(token.text):
            raise StatementError(f"{token.text} is a Hydra source, not a DuckDB database: read its "
                                f"elements by their refs ({token.text}.…)")


def _copy_target(tokens) -> str | None:
    """The file of ``COPY <table | (query)> TO 'file'``: the string after the top-level TO."""
    depth = 0
    for i, token in enumerate(tokens):
        kind = token.token_type.name
        depth += (kind == "L_PAREN") - (kind == "R_PAREN")
        if depth == 0 and token.text.upper() == "TO" and kind not in _STRINGS:
            following = tokens[i + 1] if i + 1 < len(tokens) else None
            return following.text if following is not None and following.token_type.name in _STRINGS else None
    return None


def check_not_into_source(ws, target: str | None, what: str) -> None:
    """Refuse writing a file or folder inside an attached files source."""
    if not target or "://" in target:
        return
    path = os.path.realpath(os.path.expanduser(target))  # through symbolic links too
    for name, root in _files_roots(ws):
        if path == root or path.startswith(root.rstrip(os.sep) + os.sep):
            raise ReadOnlyError(f"{what} to {target!r} would write into source {name} ({root}): "
                                "Hydra never writes to a source")


def _files_roots(ws) -> list[tuple[str, str]]:
    """(source, the folder or file it lists) for every attached files source."""
    from hydra.core import secrets
    from hydra.heads.files.head import GLOB_CHARS

    roots = []
    for name, uri in ws.con.execute("SELECT name, uri FROM sources WHERE kind = 'files'").fetchall():
        try:
            path = os.path.expanduser(secrets.expand(uri).removeprefix("file://"))
        except Exception:  # noqa: BLE001 - a variable gone from the environment: judge the rest
            continue
        cut = min((path.find(ch) for ch in GLOB_CHARS if ch in path), default=-1)
        if cut >= 0:
            path = os.path.dirname(path[:cut]) if not path[:cut].endswith(os.sep) else path[:cut]
        roots.append((name, os.path.realpath(path)))
    return roots


# -- DuckDB's ATTACH ---------------------------------------------------------------------------


def _duckdb_attach(ws, stmt):
    tokens = stmt.tokens
    target = _target(tokens)
    kind = _option(tokens, "TYPE")
    if kind is not None and kind.lower() != "duckdb":
        instead = _INSTEAD.get(kind.lower())
        hint = (f"attach it as a Hydra source instead: ATTACH '{instead}' AS name" if instead else
                "Hydra does not load DuckDB extensions; attach sources with Hydra's ATTACH '<uri>' AS name")
        raise StatementError(f"ATTACH … (TYPE {kind}): DuckDB's {kind} extension would reach that "
                             f"database behind Hydra's back (and could write to it); {hint}")
    if target is None:
        raise StatementError("ATTACH: expected a quoted path")
    if _is_memory(target):
        return stmt
    alias = _alias(tokens)
    if alias is not None and ws.has_source(alias):
        raise StatementError(f"ATTACH: {alias} already names a Hydra source; choose another name")
    if _has_prefix(target):
        raise StatementError(
            f"ATTACH '{target}': DuckDB would open it through an extension; only local DuckDB "
            "database files attach with DuckDB's ATTACH (attach other sources as ATTACH '<uri>' AS name)")
    path = os.path.expanduser(target)
    if not os.path.exists(path):
        return stmt  # a new, empty DuckDB database: yours
    if not _is_duckdb_file(path):
        raise StatementError(
            f"{target} is not a DuckDB database file: attach data files, folders and databases as "
            f"Hydra sources (ATTACH '{target}' AS name)")
    if _option(tokens, "READ_ONLY", flag=True) is not None or _option(tokens, "READ_WRITE", flag=True) is not None:
        return stmt  # the user chose
    return _with_read_only(stmt)


def _target(tokens) -> str | None:
    """The first string of a statement (ATTACH's path, IMPORT/EXPORT DATABASE's folder)."""
    return next((t.text for t in tokens if t.token_type.name in _STRINGS), None)


def _alias(tokens) -> str | None:
    for i, token in enumerate(tokens[:-1]):
        if token.token_type.name == "ALIAS":
            return tokens[i + 1].text
    return None


def _options_start(tokens) -> int | None:
    """Index of the ``(`` that opens ATTACH's options (after the path and alias)."""
    seen_string = False
    for i, token in enumerate(tokens):
        if token.token_type.name in _STRINGS:
            seen_string = True
        elif seen_string and token.token_type.name == "L_PAREN":
            return i
    return None


def _option(tokens, name: str, flag: bool = False) -> str | None:
    """The value of option ``name`` in ATTACH's ``(…)``; '' for a flag written without one."""
    start = _options_start(tokens)
    if start is None:
        return None
    for i in range(start + 1, len(tokens)):
        if tokens[i].text.upper() == name and tokens[i].token_type.name not in _STRINGS:
            following = tokens[i + 1] if i + 1 < len(tokens) else None
            if following is None or following.token_type.name in ("COMMA", "R_PAREN"):
                return "" if flag else None
            return following.text
    return None


def _with_read_only(stmt):
    from hydra.core.statement import Statement, tokenize

    start = _options_start(stmt.tokens)
    if start is None:
        text = stmt.text.rstrip() + " (READ_ONLY)"
    else:
        at = stmt.tokens[start].end + 1
        text = stmt.text[:at] + "READ_ONLY, " + stmt.text[at:]
    return Statement(text, tokenize(text), stmt.line)


def _is_memory(target: str) -> bool:
    return target == ":memory:" or target.startswith(":memory:")


def _has_prefix(target: str) -> bool:
    """``scheme://…`` or DuckDB's ``type:path`` (``sqlite:x.db``, ``md:``); not ``C:\\…``."""
    head, colon, _ = target.partition(":")
    return bool(colon) and ("://" in target or (len(head) > 1 and head.replace("_", "").isalnum()))


def _is_duckdb_file(path: str) -> bool:
    try:
        with open(os.path.expanduser(path), "rb") as fh:
            return fh.read(12)[8:12] == _DUCKDB_MAGIC
    except OSError:
        return False
