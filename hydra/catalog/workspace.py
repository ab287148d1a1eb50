"""The workspace: one DuckDB database holding Hydra's catalog, plus the heads of attached sources.

Everything Hydra knows lives in the workspace's virtual tables (``virtual_tables/*.sql``), so it can
be queried with plain SQL and a session can be resumed tomorrow. Heads are created lazily: a
reopened workspace knows its sources from ``sources`` and re-opens a head (re-reading secrets from
the environment) only when one of its elements is read.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import threading
from datetime import datetime
from typing import Iterable

import duckdb

from hydra.catalog.duckdb_guard import connect
from hydra.catalog.progress import with_progress
from hydra.catalog.selection import Selection, suggest
from hydra.catalog.tables import ADDED_COLUMNS, CORE_TABLES, MEMORY, ddl_folder
from hydra.core import secrets
from hydra.core.clock import now
from hydra.core.errors import HydraError, StatementError, WorkspaceLockedError, missing_driver, one_line
from hydra.core.model import Element
from hydra.core.options import OptionError
from hydra.core.options import check as check_options
from hydra.core.refs import ref_text
from hydra.heads.base import Head, HeadError


class Workspace(Selection):
    """An open workspace. Use ``Workspace.open(path)``; ``hydra.statements.workspace.Workspace``
    adds running statements on it."""

    #: EXTRACT runs in progress in this process (run ids), whichever Workspace object runs them
    live_runs: set[str] = set()

    def __init__(self, con: duckdb.DuckDBPyConnection, path: str, read_only: bool = False,
                 snapshot_of: str | None = None):
        self.con = con
        self.path = path
        self.read_only = read_only
        self.snapshot_of = snapshot_of  # the locked original, when this is a read-only snapshot
        self._heads: dict[str, Head] = {}
        self._elements: dict[str, dict[tuple[str, ...], Element]] = {}
        self.view_ids = itertools.count(1)  # fresh names for the Arrow views registered on a connection
        self._lock = threading.RLock()
        self.stream_failures: dict[str, str] = {}  # view -> why its reader failed (``hydra.read.scan``)

    # -- opening --------------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str = MEMORY, read_only: bool = False) -> Workspace:
        """Open or create a workspace file (``:memory:`` for a throw-away one).

        A file held by another Hydra process cannot be opened for writing (DuckDB's lock): say so;
        ``read_only=True`` then opens a snapshot copy of it, as of its last checkpoint.
        """
        if path != MEMORY:
            path = os.path.abspath(os.path.expanduser(path))
            if read_only and not os.path.exists(path):
                raise HydraError(f"workspace not found: {path}")
            if os.path.isdir(path):
                raise HydraError(f"workspace must be a file, not a folder: {path}")
        try:
            con = connect(path, read_only=read_only)
        except duckdb.IOException as err:
            if "lock" not in str(err).lower():
                raise HydraError(f"cannot open workspace {path}: {one_line(err)}") from err
            holder = _lock_holder(str(err))
            if not read_only:
                raise WorkspaceLockedError(
                    f"workspace {path} is open in another Hydra process{holder}; close it, or "
                    f"open a read-only snapshot with: hydra --read-only {path}") from None
            return cls._open_snapshot(path)
        except duckdb.Error as err:
            raise HydraError(f"cannot open workspace {path}: {one_line(err)}") from err
        workspace = cls(con, path, read_only)
        if not read_only:
            workspace.create_tables(CORE_TABLES)
            workspace._add_columns()
            workspace.close_dead_runs()
        return workspace

    @classmethod
    def _open_snapshot(cls, path: str) -> Workspace:
        folder = tempfile.mkdtemp(prefix="hydra-snapshot-")
        copy = os.path.join(folder, os.path.basename(path))
        shutil.copyfile(path, copy)
        con = connect(copy, read_only=True)
        return cls(con, copy, read_only=True, snapshot_of=path)

    def create_tables(self, tables: Iterable[str], head: type[Head] | None = None) -> None:
        """Create missing virtual tables from their DDL files (one file per table): the core
        tables from ``virtual_tables/``, a head's tables from its own package."""
        existing = {name for (name,) in self.con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name = 'main'").fetchall()}
        missing = [t for t in tables if t not in existing]
        if missing:
            folder = ddl_folder()
            script = "\n".join(head.table_ddl(t) if head else (folder / f"{t}.sql").read_text(encoding="utf-8")
                                for t in missing)
            self.con.execute(script)

    def _add_columns(self) -> None:
        """Columns added to a core table since a workspace file may have been created."""
        for table, column, type_ in ADDED_COLUMNS:
            self.con.execute(f'ALTER TABLE "{table}" ADD COLUMN IF NOT EXISTS "{column}" {type_}')

    def close_dead_runs(self) -> int:
        """Mark transfers still ``running`` from a run that is not alive as ``interrupted``; how many.

        DuckDB's file lock lets one process write a workspace, and only ``Workspace.open`` for
        writing (or an EXTRACT) calls this, so a ``running`` row that is not one of this process's
        ``live_runs`` belongs to a process that ended without finishing (kill -9, power loss, a
        crash). Read-only workspaces and snapshots are left as they are."""
        if self.read_only:
            return 0
        live = sorted(self.live_runs)
        alive = f" AND run_id NOT IN ({', '.join('?' * len(live))})" if live else ""
        (count,) = self.con.execute(
            "UPDATE transfers SET status = 'interrupted', error = 'interrupted: the Hydra process running it "
            f"ended before this element finished' WHERE status = 'running'{alive}", live).fetchone()
        return count

    def close(self) -> None:
        for head in self._heads.values():
            try:
                head.close()
            except Exception:  # noqa: BLE001 - closing must not raise over a more useful error
                pass
        self._heads.clear()
        self.con.close()
        if self.snapshot_of:
            shutil.rmtree(os.path.dirname(self.path), ignore_errors=True)

    def query(self, sql: str, params=None) -> list[tuple]:
        """Rows of a plain query on the workspace database (no Hydra statements, no refs)."""
        return self.con.execute(sql, params).fetchall()

    # -- sources --------------------------------------------------------------------------------

    def source_names(self) -> list[str]:
        return [name for (name,) in self.con.execute("SELECT name FROM sources ORDER BY name").fetchall()]

    def source_row(self, name: str) -> dict:
        cur = self.con.execute("SELECT * FROM sources WHERE lower(name) = lower(?)", [name])
        rows = cur.fetchall()  # fetch all: an unfinished result would block Arrow registrations
        row = rows[0] if rows else None
        if row is None:
            raise StatementError(f"no source named {name!r}{suggest(name, self.source_names())}")
        return dict(zip([d[0] for d in cur.description], row))

    def sources_holding(self, targets: list[str]) -> dict[str, str]:
        """Of ``targets`` (where EXTRACT would write), those inside an attached source, with the
        source's name."""
        from hydra.heads.registry import head_class, uri_scheme

        def scheme(uri: str) -> str:
            return uri_scheme(uri) or "file"  # a local path is a file:// URI

        found = {}
        schemes = {scheme(target) for target in targets}
        for name, kind, uri in self.query("SELECT name, kind, uri FROM sources ORDER BY name"):
            if scheme(uri) not in schemes:  # reached another way (a server): not asked, nor its head imported
                continue
            try:
                head = head_class(kind)
            except HydraError:  # a head not installed here cannot say
                continue
            found.update({target: name for target in targets if target not in found and head.holds(uri, target)})
        return found

    def has_source(self, name: str) -> bool:
        return bool(self.query("SELECT 1 FROM sources WHERE lower(name) = lower(?)", [name]))

    def attach(self, uri: str, name: str, options: dict[str, str], replace: bool = False) -> tuple[int, str | None]:
        """Attach a source and enumerate it into the catalog. All or nothing: on any error the
        workspace is left as it was. ``replace`` swaps out a source of the same name (its marks
        stay). Returns (element count, a note for the user)."""
        from hydra.heads.registry import head_for

        replacing = replace and self.has_source(name)
        if replacing:
            name = self.source_row(name)["name"]
        else:
            self._check_new_name(name)
        kind = options.pop("TYPE", None)
        cls = head_for(uri, kind)
        expanded = {k: secrets.expand(v) for k, v in options.items()}
        try:
            check_options(expanded, cls.attach_options, cls.kind)
        except OptionError as err:
            raise StatementError(secrets.mask_secrets(str(err), cls.secret_values(expanded))) from None
        head = cls(name, secrets.expand(uri), expanded)
        head.work_folder = self.work_folder  # where a head may put a temporary download
        stored_uri = cls.redact(uri)
        secret = {o.name for o in cls.attach_options if o.secret}
        stored_options = {k: secrets.redact_uri(v) for k, v in options.items() if k not in secret}
        stored_options["TYPE"] = cls.kind
        old_head = self._heads.pop(name, None) if replacing else None
        self._scan_into_catalog(head, new=(stored_uri, stored_options), replace=replacing)
        if old_head is not None:
            old_head.close()
        self._heads[name] = head
        note = getattr(head, "attach_note", None)  # a head's one line about what it listed
        if secrets.MASK in stored_uri and secrets.MASK not in uri:
            note = "; ".join(filter(None, (note, (
                "the password is not stored: write it as ${ENV_VAR} so that a reopened "
                "workspace can reconnect"))))
        count = self.query("SELECT element_count FROM sources WHERE name = ?", [name])[0][0]
        return count, note

    def _check_new_name(self, name: str) -> None:
        if self.has_source(name):
            raise StatementError(f"a source named {name!r} is already attached; DETACH {name} first, "
                                 f"or REFRESH {name} to rescan it")
        taken = {n.lower() for (n,) in self.con.execute(
            "SELECT database_name FROM duckdb_databases() UNION ALL "
            "SELECT schema_name FROM duckdb_schemas() UNION ALL "
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'").fetchall()}
        if name.lower() in taken:
            raise StatementError(f"{name!r} already names a database, schema or table; choose another name")

    def _scan_into_catalog(self, head: Head, new: tuple[str, dict] | None = None, replace: bool = False) -> None:
        """Open the head, enumerate it and replace its catalog rows, in one transaction."""
        name = head.name
        try:
            head.open()
            elements = list(with_progress(head.enumerate(), f"listing {name}",
                                          detail=getattr(head, "listing_detail", None)))
            tables = {t: rows for t, rows in head.head_tables().items()}
        except HydraError:
            head.close()
            raise
        except ModuleNotFoundError as err:
            head.close()
            raise missing_driver(name, err) from err
        except Exception as err:  # noqa: BLE001 - driver errors become one clear line
            head.close()
            raise HeadError(f"{name}: {masked(one_line(err), head)}") from err
        if head.tables:
            self.create_tables(head.tables, type(head))
        scanned = now()
        with self._lock:
            self.con.execute("BEGIN TRANSACTION")
            try:
                if replace:
                    self._delete_catalog(name, self._head_tables_of(name))
                    self.con.execute("DELETE FROM sources WHERE name = ?", [name])
                if new:
                    uri, options = new
                    self.con.execute(
                        "INSERT INTO sources VALUES (?, ?, ?, MAP(?::VARCHAR[], ?::VARCHAR[]), ?, NULL, 0, 'ok', NULL)",
                        [name, head.kind, uri, list(options), list(options.values()), scanned])
                self._delete_catalog(name, head.tables)
                self._insert_elements(name, elements, scanned)
                for table, rows in tables.items():
                    self._insert_rows(table, name, rows)
                self.con.execute(
                    "UPDATE sources SET scanned_at = ?, element_count = ?, status = 'ok', error = NULL "
                    "WHERE name = ?", [scanned, len(elements), name])
                self.con.execute("COMMIT")
            except Exception:
                self.con.execute("ROLLBACK")
                head.close()
                raise
        self._elements[name] = {e.parts: e for e in elements}

    def _delete_catalog(self, name: str, head_tables: Iterable[str] = ()) -> None:
        for table in ("elements", "columns", *head_tables):
            self.con.execute(f'DELETE FROM "{table}" WHERE source = ?', [name])

    def _insert_elements(self, source: str, elements: list[Element], scanned: datetime) -> None:
        element_rows, column_rows = [], []
        for e in elements:
            ref = ref_text(source, e.parts)
            element_rows.append({
                "source": source, "ref": ref, "kind": e.kind, "path": e.path, "name": e.name,
                "parts": list(e.parts), "row_count": e.row_count, "row_count_exact": e.row_count_exact,
                "size_bytes": e.size_bytes, "column_count": len(e.columns) if e.columns is not None else None,
                "key_columns": e.key, "modified_at": e.modified_at, "scanned_at": scanned, "error": e.error,
                "note": e.note,
            })
            for position, c in enumerate(e.columns or (), start=1):
                column_rows.append({"source": source, "ref": ref, "position": position, "name": c.name,
                                    "type": c.type, "source_type": c.source_type,
                                    "nullable": c.nullable, "note": c.note})
        self._insert_rows("elements", source, element_rows)
        self._insert_rows("columns", source, column_rows)

    def _insert_rows(self, table: str, source: str, rows) -> None:
        """Bulk insert (a pyarrow Table, a RecordBatchReader or a list of dicts) by column name;
        fills ``source``, but for a reader: a head's rows streamed in bounded memory carry it."""
        import pyarrow as pa

        if isinstance(rows, pa.RecordBatchReader):
            pass
        elif not isinstance(rows, pa.Table):
            rows = list(rows)
            if not rows:
                return
            for row in rows:
                row.setdefault("source", source)
            rows = pa.Table.from_pylist(rows)
        elif "source" not in rows.column_names:
            rows = rows.append_column("source", pa.array([source] * rows.num_rows, pa.string()))
        if isinstance(rows, pa.Table) and rows.num_rows == 0:
            return
        view = f"__hydra_insert_{next(self.view_ids)}"
        self.con.register(view, rows)
        try:
            self.con.execute(f'INSERT INTO "{table}" BY NAME SELECT * FROM {view}')
        finally:
            self.con.unregister(view)

    def _head_tables_of(self, name: str) -> list[str]:
        """The head tables that hold rows of a source (those of its kind that exist)."""
        from hydra.heads.registry import head_class

        try:
            tables = head_class(self.source_row(name)["kind"]).tables
        except HydraError:
            tables = ()
        return [t for t in tables if self._table_exists(t)]

    def detach(self, name: str) -> None:
        name = self.source_row(name)["name"]
        head_tables = self._head_tables_of(name)
        head = self._heads.pop(name, None)
        if head:
            head.close()
        self._elements.pop(name, None)
        with self._lock:
            self.con.execute("BEGIN TRANSACTION")
            try:
                self._delete_catalog(name, head_tables)
                self.con.execute("DELETE FROM marks WHERE source = ?", [name])
                self.con.execute("DELETE FROM sources WHERE name = ?", [name])
                self.con.execute("COMMIT")
            except Exception:
                self.con.execute("ROLLBACK")
                raise

    def refresh(self, name: str, options: dict[str, str] | None = None) -> int:
        """Enumerate a source again; ``options`` (``REFRESH name (…)``) change its stored options
        first, as its head merges them (``Head.refresh_options``)."""
        row = self.source_row(name)
        if options:
            self._change_options(row, options)
        head = self.head(row["name"])
        self._scan_into_catalog(head)
        return self.query("SELECT element_count FROM sources WHERE name = ?", [row["name"]])[0][0]

    def _change_options(self, row: dict, given: dict[str, str]) -> None:
        from hydra.heads.registry import head_class

        cls = head_class(row["kind"])
        stored = dict(row["options"] or {})
        merged = cls.refresh_options(stored, given)
        try:
            check_options({k: v for k, v in merged.items() if k != "TYPE"}, cls.attach_options, cls.kind)
        except OptionError as err:
            raise StatementError(str(err)) from None
        merged = {k: secrets.redact_uri(v) for k, v in merged.items()}
        options = {k: secrets.expand(v) for k, v in merged.items() if k != "TYPE"}
        cls(row["name"], secrets.expand(row["uri"]), options)  # checks the values before anything changes
        self.con.execute("UPDATE sources SET options = MAP(?::VARCHAR[], ?::VARCHAR[]) WHERE name = ?",
                         [list(merged), list(merged.values()), row["name"]])
        old = self._heads.pop(row["name"], None)
        if old is not None:
            old.close()

    def store_rejects(self, source: str, ref: str, rejects: list[dict], run_id: str | None) -> None:
        """The rejects of a whole read of an element: they replace those of its previous read."""
        read_at = now()
        with self._lock:
            self.con.execute("DELETE FROM rejects WHERE source = ? AND ref = ?", [source, ref])
            self._insert_rows("rejects", source, [
                {"ref": ref, "line": r["line"], "lines": r["lines"], "byte_offset": r["offset"], "raw": r["raw"],
                 "reason": r["reason"], "action": r["action"], "run_id": run_id, "read_at": read_at}
                for r in rejects])

    def _table_exists(self, table: str) -> bool:
        return bool(self.query(
            "SELECT 1 FROM duckdb_tables() WHERE table_name = ? AND schema_name = 'main'", [table]))

    @property
    def work_folder(self) -> str:
        """The workspace file's folder (the system's temporary folder for ``:memory:``)."""
        return os.path.dirname(self.path) if self.path != MEMORY else tempfile.gettempdir()

    def head(self, name: str) -> Head:
        """The open head of a source, re-opening it (secrets from the environment) if needed."""
        with self._lock:
            head = self._heads.get(name)
            if head is not None:
                return head
            from hydra.heads.spec import SourceSpec

            row = self.source_row(name)
            head = SourceSpec.from_row(row).open(self.work_folder)
            self._heads[row["name"]] = head
            return head


def _lock_holder(message: str) -> str:
    """' (PID n)' from DuckDB's lock error, when it says which process holds the lock."""
    marker = "(PID "
    if marker in message:
        pid = message.split(marker, 1)[1].split(")", 1)[0]
        return f" (pid {pid})"
    return ""


def masked(message: str, head: Head) -> str:
    """A driver's message without the head's secrets (its URL's password, in every form)."""
    from hydra.heads.spec import masked as spec_masked

    return spec_masked(message, head)
