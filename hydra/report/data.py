"""Everything a report reads: the workspace's tables (plain SQL on its DuckDB connection), and the
manifests the transfers point to, when the target can still be read.

The report never reaches a source. Tables that a workspace may not have (``history`` in an older
file, ``rejects``, ``differences``, ``databases`` as they come) are looked up before they are read,
so a section shows what is there and says nothing of what is not.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cached_property

from hydra.core.errors import HydraError, StatementError, one_line

MANIFEST = "_manifest.json"
RUNS_FOLDER = "_hydra_runs"


@dataclass
class Options:
    title: str | None = None
    sources: list[str] | None = None  # None: every source
    run: str = "all"  # all (each element's latest transfer), last (the latest EXTRACT), or a run id
    anonymous: bool = False  # leave out who ran it (user, host)


class Data:
    """The workspace as one report sees it: the chosen sources and runs."""

    def __init__(self, con, options: Options, workspace_path: str | None = None):
        self.con = con
        self.options = options
        self.workspace_path = workspace_path
        self.tables = {name for (name,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name = 'main'").fetchall()}
        self.manifests = ManifestReader()
        self.sources = self._chosen_sources(options.sources)
        self._check_run(options.run)

    # -- plain reads ------------------------------------------------------------------------------

    def has(self, table: str) -> bool:
        return table in self.tables

    def columns_of(self, table: str) -> list[str]:
        return [name for (name,) in self.con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() "
            "AND schema_name = 'main' AND table_name = ? ORDER BY column_index", [table]).fetchall()]

    def rows(self, sql: str, params=None) -> list[dict]:
        cursor = self.con.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]

    def value(self, sql: str, params=None):
        row = self.con.execute(sql, params).fetchone()
        return row[0] if row else None

    def in_scope(self, column: str = "source") -> str:
        """A predicate keeping the chosen sources' rows (``?`` takes ``self.scope_params``)."""
        return "true" if self.sources is None else f"list_contains(?::VARCHAR[], {column})"

    def scope_params(self, times: int = 1) -> list:
        return [] if self.sources is None else [self.sources] * times

    def _chosen_sources(self, wanted: list[str] | None) -> list[str] | None:
        if wanted is None:
            return None
        known = {name.lower(): name for (name,) in self.con.execute("SELECT name FROM sources").fetchall()}
        # a source detached since keeps its transfers and checks: those still count as known
        for table in ("transfers", "reconciliations"):
            known.update({name.lower(): name for (name,) in self.con.execute(
                f"SELECT DISTINCT source FROM {table}").fetchall() if name.lower() not in known})
        missing = [name for name in wanted if name.lower() not in known]
        if missing:
            listed = ", ".join(sorted(known.values())) or "none"
            raise StatementError(f"REPORT: no source named {missing[0]!r} (sources: {listed})")
        return [known[name.lower()] for name in wanted]

    # -- what was taken and checked -----------------------------------------------------------------

    def transfers_sql(self) -> tuple[str, list]:
        """The transfers the report covers, one row per element, with their parameters."""
        run = self.options.run
        where = self.in_scope()
        if run == "all":  # each element's latest transfer, whichever run it was
            return (f"SELECT * FROM transfers WHERE {where} QUALIFY row_number() OVER "
                    "(PARTITION BY source, ref ORDER BY started_at DESC NULLS LAST, run_id DESC) = 1",
                    self.scope_params())
        if run == "last":
            return (f"SELECT * FROM transfers WHERE {where} AND run_id = (SELECT run_id FROM transfers "
                    f"WHERE {where} GROUP BY run_id ORDER BY max(started_at) DESC NULLS LAST, run_id DESC "
                    "LIMIT 1)", self.scope_params(2))
        return f"SELECT * FROM transfers WHERE {where} AND run_id = ?", [*self.scope_params(), run]

    def _check_run(self, run: str) -> None:
        if run in ("all", "last") or self.value("SELECT count(*) FROM transfers WHERE run_id = ?", [run]):
            return
        latest = [r for (r,) in self.con.execute(
            "SELECT run_id FROM transfers GROUP BY run_id ORDER BY max(started_at) DESC LIMIT 3").fetchall()]
        hint = f" (latest: {', '.join(latest)})" if latest else " (no EXTRACT has run)"
        raise StatementError(f"REPORT: no EXTRACT run {run!r}{hint}; RUN takes 'all', 'last' or a run id of "
                             "transfers")

    @cached_property
    def transfers(self) -> list[dict]:
        sql, params = self.transfers_sql()
        return self.rows(f"SELECT * FROM ({sql}) ORDER BY source, ref", params)

    def drift_predicate(self) -> str:
        """Which ``reconciliations`` rows measure drift (a live source moving on since its copy)
        rather than the copy itself: a ``kind`` column when the table has one, else the name."""
        if "kind" in self.columns_of("reconciliations"):
            return "coalesce(r.kind = 'drift', false)"
        return "starts_with(r.check_name, 'drift')"

    @cached_property
    def checks(self) -> list[dict]:
        """Each covered element's latest RECONCILE: every check, with ``drift`` telling drift
        rows from copy checks. A check made before the element's latest copy does not count
        (it checked another copy), except for a transfer skipped because it was complete."""
        sql, params = self.transfers_sql()
        join = "LEFT JOIN" if self.options.run == "all" else "JOIN"
        return self.rows(
            f"WITH t AS ({sql}), latest AS ("
            f"  SELECT r.source, r.ref, r.run_id, max(r.checked_at) AS last_checked FROM reconciliations r"
            f"  {join} t ON t.source = r.source AND t.ref = r.ref"
            f"  WHERE {self.in_scope('r.source')} AND (t.ref IS NULL OR t.status = 'skipped'"
            "    OR t.started_at IS NULL OR r.checked_at >= t.started_at)"
            "  GROUP BY r.source, r.ref, r.run_id"
            "  QUALIFY row_number() OVER (PARTITION BY r.source, r.ref ORDER BY last_checked DESC, r.run_id DESC) = 1) "
            f"SELECT r.*, {self.drift_predicate()} AS drift FROM reconciliations r "
            "JOIN latest l ON l.source = r.source AND l.ref = r.ref AND l.run_id = r.run_id "
            "ORDER BY r.source, r.ref, r.rowid",
            [*params, *self.scope_params()])

    @cached_property
    def copy_checks(self) -> list[dict]:
        return [c for c in self.checks if not c["drift"]]

    @cached_property
    def drift_checks(self) -> list[dict]:
        return [c for c in self.checks if c["drift"]]

    # -- manifests --------------------------------------------------------------------------------

    @cached_property
    def element_manifests(self) -> dict[tuple[str, str], dict]:
        """The ``_manifest.json`` of each covered element written whole (done or skipped)."""
        found = {}
        for t in self.transfers:
            if t["status"] in ("done", "skipped") and t["target_uri"]:
                manifest = self.manifests.element(t.get("target_root") or t["target_uri"], t["target_uri"])
                if manifest is not None and manifest.get("ref") == t["ref"]:
                    found[(t["source"], t["ref"])] = manifest
        return found

    @cached_property
    def run_manifests(self) -> dict[str, dict]:
        found = {}
        for run_id, root in sorted({(t["run_id"], t.get("target_root")) for t in self.transfers if t.get("target_root")}):
            manifest = self.manifests.run(root, run_id)
            if manifest is not None:
                found[run_id] = manifest
        return found


class ManifestReader:
    """Reads manifests from a target (a folder or s3://…) that may be gone: a target that cannot
    be read is tried once, and ``unreadable`` says why, one line per target."""

    def __init__(self):
        self.unreadable: dict[str, str] = {}
        self._targets: dict[str, object] = {}

    def element(self, root: str, element_uri: str) -> dict | None:
        return self._read(root, _relative(root, element_uri), MANIFEST)

    def run(self, root: str, run_id: str) -> dict | None:
        return self._read(root, RUNS_FOLDER, f"{run_id}.json")

    def _read(self, root: str, folder: str, name: str) -> dict | None:
        if root in self.unreadable:
            return None
        try:
            if root.lower().startswith("s3://"):
                return self._read_s3(root, folder, name)
            base = root.removeprefix("file://")
            if not os.path.isdir(base):
                self.unreadable[root] = "the folder is not there any more"
                return None
            with open(os.path.join(base, folder, name), encoding="utf-8") as fh:
                return json.load(fh)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, HydraError) as err:  # a target gone, denied, or a manifest cut short
            self.unreadable[root] = one_line(err)
            return None

    def _read_s3(self, root: str, folder: str, name: str) -> dict | None:
        from pyarrow import fs as pafs

        from hydra.transfer.targets import open_target

        target = self._targets.get(root)
        if target is None:
            target = self._targets[root] = open_target(root)
        path = "/".join(p for p in (target.bucket, target.prefix, folder, name) if p)
        if target.fs.get_file_info(path).type != pafs.FileType.File:
            return None
        with target.fs.open_input_stream(path) as fh:
            return json.loads(fh.read().decode("utf-8"))


def _relative(root: str, uri: str) -> str:
    root = root.rstrip("/")
    return uri[len(root):].strip("/") if uri.startswith(root) else uri
