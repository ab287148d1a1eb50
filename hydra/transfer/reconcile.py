"""RECONCILE: prove that what is at the target is what the source holds.

Per element, as it stands at the target now:

* ``manifest`` — the element's ``_manifest.json`` is there (without it the element is incomplete);
* ``files`` — every file the manifest lists is there with the same SHA-256, and no other;
* ``row_count`` and, per column, ``null_count(c)``, ``min(c)``, ``max(c)``, ``sum(c)`` — computed by
  the source itself (``head.aggregates``: the source engine, or one DuckDB pass over the source
  scan with the mark's filter; never the transfer path) against the same figures computed by
  DuckDB over the target files (read back as the column types recorded in the manifest);
* ``checksum`` — the order-independent checksum taken on the stream during EXTRACT against the
  same checksum recomputed by DuckDB from the target files.

When a row_count or checksum check fails and the element has an integer key, Hydra bisects: it
compares counts and checksums per key range at both ends, narrows the ranges that differ, and
names the rows (missing at the target, extra, or changed) in ``detail``.

A live source moves on while and after it is copied. When EXTRACT took the source's figures in the
element's snapshot (``source_figures`` in the manifest), RECONCILE answers two questions apart:
*did the copy match the source at the moment it was taken* — the checks above, against those
figures, which must pass on a busy table — and *how far has the source moved since* — the same
figures computed now, against the snapshot's, as ``drift …`` rows whose status is ``drift`` or
``steady``, never ``fail``. ``RECONCILE … (AGAINST NOW)`` compares the copy with the source as it
is now instead, as Hydra did before snapshots.
"""

from __future__ import annotations

import time
import uuid

from hydra.core.errors import HydraError, StatementError, one_line
from hydra.core.refs import ref_text
from hydra.core.statement import Result
from hydra.heads.base import FILES_FOLDER
from hydra.transfer.bisect import bisect
from hydra.transfer.common import QUERY_SOURCE, Item, is_float, items_for, open_scan, q, sql_string, where_sql
from hydra.transfer.figures import judge, run_aggregates
from hydra.transfer.targets import open_target
from hydra.transfer.writers import json_line_read_type


def reconcile(ws, selections, last: bool = False, against_now: bool = False) -> Result:
    """RECONCILE of the last run, or of a selection's latest transfers (None: the marked elements);
    ``against_now``: the copy against the source as it is now, not the figures of its snapshot."""
    entries = last_run(ws) if last else latest_transfers(ws, items_for(ws, selections))
    from hydra.core.clock import now

    run_id = "R" + now().strftime("%Y%m%dT%H%M%S%f")[:-3] + "-" + uuid.uuid4().hex[:6]
    summary, total, failed, moved = [], 0, 0, 0
    for entry in entries:
        started = time.perf_counter()
        checks = reconcile_entry(ws, entry, against_now)
        checked_at = now()
        ws.con.executemany(
            "INSERT INTO reconciliations (run_id, source, ref, check_name, source_value, target_value, "
            "status, detail, checked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(run_id, entry["source"], entry["ref"], c["check"], _text(c.get("source")), _text(c.get("target")),
              c["status"], c.get("detail"), checked_at) for c in checks])
        bad = [c for c in checks if c["status"] == "fail"]
        drifted = sum(c["status"] == "drift" for c in checks)
        moved += drifted > 0
        total += len(checks)
        failed += len(bad)
        named = [c for c in bad if c["check"] in ("row_count", "checksum") and c.get("detail")]
        first = (named or bad or [None])[0]
        summary.append((entry["ref"], "fail" if bad else "pass", len(checks), len(bad),
                        None if first is None else first["check"],
                        None if first is None else (first.get("detail") or
                                                    f"source {first.get('source')} / target {first.get('target')}"),
                        round(time.perf_counter() - started, 3), drifted))
    elements_failed = sum(1 for s in summary if s[1] == "fail")
    message = f"RECONCILE {run_id}: {len(entries)} element{'s' * (len(entries) != 1)}, {total} checks, "
    message += (f"{failed} FAILED in {elements_failed} element{'s' * (elements_failed != 1)} "
                f"(SELECT * FROM reconciliations WHERE run_id = '{run_id}' AND status = 'fail')"
                if failed else "all passed")
    if moved:
        message += (f"; the source has moved since the snapshot in {moved} element{'s' * (moved != 1)} "
                    f"(SELECT * FROM reconciliations WHERE run_id = '{run_id}' AND status = 'drift')")
    failure = (f"RECONCILE {run_id}: {failed} of {total} checks failed in {elements_failed} of {len(entries)} "
               f"element{'s' * (len(entries) != 1)}" if failed else None)
    return Result(columns=["ref", "status", "checks", "failed", "first_failure", "detail", "seconds", "drift"],
                  rows=summary, message=message, failure=failure)


# -- what to reconcile --------------------------------------------------------------------------


def last_run(ws) -> list[dict]:
    row = ws.con.execute("SELECT run_id FROM transfers GROUP BY run_id ORDER BY max(started_at) DESC, run_id DESC "
                         "LIMIT 1").fetchone()
    if row is None:
        raise StatementError("RECONCILE LAST: no EXTRACT has run in this workspace")
    return _entries(ws.con.execute(
        "SELECT source, ref, target_uri, status, error FROM transfers WHERE run_id = ? ORDER BY source, ref",
        [row[0]]))


def latest_transfers(ws, items: list[Item]) -> list[dict]:
    entries = []
    for item in items:
        found = _entries(ws.con.execute(
            "SELECT source, ref, target_uri, status, error FROM transfers WHERE source = ? AND ref = ? "
            "AND status IN ('done', 'skipped') ORDER BY finished_at DESC LIMIT 1", [item.source, item.ref]))
        entries.append(found[0] if found else {"source": item.source, "ref": item.ref, "target": None,
                                               "status": "never", "error": "never extracted"})
    return entries


def _entries(cursor) -> list[dict]:
    return [{"source": s, "ref": r, "target": t, "status": st, "error": e} for s, r, t, st, e in cursor.fetchall()]


# -- one element --------------------------------------------------------------------------------


def reconcile_entry(ws, entry: dict, against_now: bool = False) -> list[dict]:
    if entry["status"] not in ("done", "skipped"):
        why = entry["error"] or f"the transfer's status is {entry['status']}"
        return [{"check": "transfer", "source": None, "target": entry["status"], "status": "fail", "detail": why}]
    try:
        target = open_target(entry["target"])
        manifest = target.read_manifest("")
    except Exception as err:  # noqa: BLE001
        return [{"check": "manifest", "status": "fail", "detail": f"cannot read the target: {one_line(err)}"}]
    if manifest is None:
        return [{"check": "manifest", "status": "fail", "target": "missing",
                 "detail": f"no _manifest.json at {entry['target']}: the element is incomplete"}]
    owner = (manifest.get("source"), manifest.get("ref"))
    if owner != (entry["source"], entry["ref"]):
        return [{"check": "manifest", "status": "fail", "source": entry["ref"], "target": owner[1],
                 "detail": f"the _manifest.json at {entry['target']} is for {owner[1]}, not {entry['ref']}: "
                           f"this element's files are not there"}]
    checks = [{"check": "manifest", "status": "pass", "source": manifest.get("run_id"), "target": "present"}]
    try:
        checks.append(files_check(target, manifest))
        item = item_of(ws, manifest)
        columns = [(c["name"], c["type"]) for c in manifest["columns"]]
        with TargetSide(target, manifest, columns) as target_side:
            target_figures = run_aggregates(target_side.con, target_side.expr(), columns, cast=True, checksum=True)
            source_side = SourceSide(ws, item, columns)
            then = None if against_now else manifest.get("source_figures")
            then = then if then and "row_count" in then else None  # not taken: against the source now
            if then is not None:  # the copy against the source at the moment it was read …
                source_figures, method = then, then["method"]
                checks += compare(columns, then, target_figures, manifest, method, lossy_reads(ws, item))
                now, now_method = source_side.figures()  # … and how far the source moved since
                checks += drift(columns, then, now, now_method, manifest.get("snapshot") or {})
            else:
                source_figures, method = source_side.figures()
                checks += compare(columns, source_figures, target_figures, manifest, method, lossy_reads(ws, item))
            if manifest.get("lines"):
                checks.append(lines_check(manifest, source_figures.get("lines")))
            bad = [c for c in checks if c["status"] == "fail" and c["check"] in ("row_count", "checksum")]
            moved = any(c["status"] == "drift" for c in checks)
            # bisecting compares the source's reader with the target: pointless when that reader
            # is the one found short, or when the source has moved since the copy was taken
            if bad and not moved and source_figures.get("read_rows", source_figures["row_count"]) == source_figures["row_count"]:
                detail = bisect(source_side, target_side, item, columns)
                for c in bad:
                    c["detail"] = f"{c['detail']}; {detail}" if c.get("detail") else detail
    except HydraError as err:
        checks.append({"check": "error", "status": "fail", "detail": str(err)})
    except Exception as err:  # noqa: BLE001 - one element's problem is reported, the others go on
        checks.append({"check": "error", "status": "fail", "detail": one_line(err)})
    return checks


def item_of(ws, manifest: dict) -> Item:
    query = (manifest.get("query") or {})
    if manifest.get("source") == QUERY_SOURCE and query.get("user_query"):
        label = manifest["ref"]
        return Item(QUERY_SOURCE, label, query=query["user_query"], label=label, key=manifest.get("key"),
                    key_note=manifest.get("key_note"))
    source, ref = manifest["source"], manifest["ref"]
    if source not in ws.source_names():
        raise HydraError(f"source {source} is not attached: ATTACH it to reconcile {ref}")
    element = next((e for p, e in ws.elements(source).items() if ref_text(source, p) == ref), None)
    if element is None:
        raise HydraError(f"{ref} no longer exists at the source")
    return Item(source, ref, element, query.get("filter"), query.get("mark_columns"), key=manifest.get("key"),
                key_note=manifest.get("key_note"))


def lossy_reads(ws, item: Item) -> dict[str, str]:
    """Columns read as floating point from a type that is not (a numeric, a DECIMAL(65,30)): their
    figures are compared as the floating-point values they became, and the detail says so."""
    if item.is_query:
        return {}
    out = {}
    for c in ws.columns_of(item.source, item.element):
        source_type = (c.source_type or "").lower()
        if is_float(c.type) and c.note and not any(word in source_type for word in ("float", "double", "real")):
            out[c.name] = f"{c.source_type} read as {c.type.upper()}"
    return out


def lines_check(manifest: dict, now: dict | None) -> dict:
    """A delimited file read record by record: the lines its copy accounts for (loaded + rejected +
    skipped) against the lines in the file, when copied and now (``now``: the source read again)."""
    lines = manifest["lines"]
    accounted = lines["loaded_lines"] + lines["rejected"] + lines["skipped"]
    problems = []
    if accounted != lines["lines"]:
        problems.append(f"{accounted:,} lines accounted for of {lines['lines']:,}")
    if lines["loaded"] != manifest["rows"]:
        problems.append(f"{lines['loaded']:,} rows loaded but {manifest['rows']:,} copied")
    if now is not None and now["lines"] != lines["lines"]:
        problems.append(f"the file has {now['lines']:,} lines now, {lines['lines']:,} when copied")
    detail = (f"{lines['loaded_lines']:,} loaded + {lines['rejected']:,} rejected + {lines['skipped']:,} "
              f"skipped of {lines['lines']:,}")
    return {"check": "lines", "source": (now or lines)["lines"], "target": accounted,
            "status": "fail" if problems else "pass", "detail": "; ".join([*problems, detail])}


def files_check(target, manifest: dict) -> dict:
    listed = {f["path"]: f for f in manifest.get("files") or []}
    present = set(target.data_files(""))
    missing = sorted(set(listed) - present)
    extra = sorted(present - set(listed))
    changed = []
    for path in sorted(set(listed) & present):
        size = target.size("", path)
        if size != listed[path]["bytes"]:  # no need to hash it
            changed.append(f"{path} ({size:,} bytes, the manifest says {listed[path]['bytes']:,})")
        elif target.sha256("", path) != listed[path]["sha256"]:
            changed.append(path)
    problems = []
    if missing:
        problems.append("missing: " + ", ".join(missing[:5]))
    if changed:
        problems.append("SHA-256 differs: " + ", ".join(changed[:5]))
    if extra:
        problems.append("not in the manifest: " + ", ".join(extra[:5]))
    return {"check": "files", "source": f"{len(listed)} files", "target": f"{len(present)} files",
            "status": "fail" if problems else "pass", "detail": "; ".join(problems) or None}


def compare(columns, source: dict, target: dict, manifest: dict, method: str,
            read_as: dict[str, str] | None = None) -> list[dict]:
    """The checks of one element. ``read_as``: per column, the lossy read behind a floating-point
    column (e.g. "numeric(1000,500) read as DOUBLE"), said in the detail of its checks."""
    detail = None
    if source["row_count"] != target["row_count"]:
        detail = f"source ({method}) has {source['row_count']} rows, target has {target['row_count']}"
        if source.get("read_rows", source["row_count"]) != source["row_count"]:
            detail += (f"; reading the source yields {source['read_rows']} rows: the reader skipped rows "
                       f"it could not parse or decode")
    checks = [{"check": "row_count", "source": source["row_count"], "target": target["row_count"],
               "detail": detail}]
    stream = (manifest.get("checksum") or {}).get("value")
    checks.append({"check": "checksum", "source": stream, "target": target.get("checksum"),
                   "detail": None})
    duckdb_method = method.startswith("duckdb")
    for name, type_ in columns:
        s, t = source["columns"].get(name) or {}, target["columns"].get(name) or {}
        for figure, label in (("null_count", "null_count"), ("min_value", "min"), ("max_value", "max"),
                              ("sum_value", "sum")):
            if figure not in t or figure not in s:
                continue
            if figure in ("min_value", "max_value") and not duckdb_method and "CHAR" in type_.upper():
                continue  # another engine's collation orders text differently
            checks.append({"check": f"{label}({name})", "source": s[figure], "target": t[figure], "type": type_,
                           "figure": figure, "column": name})
    for c in checks:
        if c["check"] == "row_count":
            c["status"] = "pass" if c["source"] == c["target"] else "fail"
        elif c["check"] == "checksum":
            c["status"] = "pass" if str(c["source"]) == str(c["target"]) else "fail"
        else:
            name = c["column"]
            at_target = target["columns"].get(name) or {}
            nulls = at_target.get("null_count")
            verdict = judge(c["figure"], c["type"], c["source"], c["target"],
                            values=None if nulls is None else target["row_count"] - nulls,
                            abs_sum=at_target.get("abs_sum"), read_as=(read_as or {}).get(name))
            c["status"] = "pass" if verdict.ok else "fail"
            c["detail"] = verdict.how
    return checks


def drift(columns, then: dict, now: dict, method: str, snapshot: dict) -> list[dict]:
    """How far the source has moved since the snapshot: each figure taken in the snapshot against
    the same figure now, as ``drift …`` checks whose status is ``drift`` (moved) or ``steady``."""
    when = snapshot.get("taken_at") or "the extract"
    rows = [("drift row_count", then["row_count"], now["row_count"], None, None)]
    for name, type_ in columns:
        a, b = then["columns"].get(name) or {}, now["columns"].get(name) or {}
        for figure, label in (("null_count", "null_count"), ("min_value", "min"), ("max_value", "max"),
                              ("sum_value", "sum")):
            if figure in a and figure in b:
                rows.append((f"drift {label}({name})", a[figure], b[figure], figure, type_))
    checks = []
    for check, old, new, figure, type_ in rows:
        same = old == new if figure is None else judge(figure, type_, old, new).ok
        if not same and figure == "sum_value" and is_float(type_) and None not in (old, new):
            # the source may add floating-point numbers in another order each time (a parallel
            # plan): a difference in the last digits is not the source moving
            same = abs(float(old) - float(new)) <= 1e-9 * max(abs(float(old)), abs(float(new)))
        checks.append({"check": check, "source": old, "target": new, "status": "steady" if same else "drift",
                       "detail": f"the source at the snapshot of {when} (source_value) against the source "
                                 f"now (target_value, {method})"})
    return checks


# -- the two ends -------------------------------------------------------------------------------


class SourceSide:
    """The element at its source, with the filter and columns it was extracted with."""

    def __init__(self, ws, item: Item, columns):
        self.ws, self.item, self.columns = ws, item, columns

    def figures(self):
        item = self.item
        if not item.is_query and not item.filter and not item.columns:
            head = self.ws.head(item.source)
            found = head.aggregates(item.element, self.ws.columns_of(item.source, item.element))
            if found is not None:
                return {"row_count": found.row_count, "columns": found.columns}, found.method
        figures = self.run(lambda con, rel: run_aggregates(con, rel, self.columns))
        method = "duckdb pass over the source scan"
        if not item.is_query and not item.filter and not item.columns:
            figures["lines"] = self.ws.head(item.source).accounting(item.element, figures["row_count"])
        counted = None if item.is_query or item.filter else self.ws.head(item.source).count(item.element)
        if counted is not None:
            # the row count from outside the reader the copy used: a reader that skipped rows
            # would otherwise agree with its own copy
            figures["read_rows"], figures["row_count"] = figures["row_count"], counted[0]
            method += f"; rows counted by {counted[1]}"
        return figures, method

    def run(self, fn, extra: str | None = None):
        """``fn(con, relation_sql)`` over the source rows (optionally within ``extra``)."""
        con = self.ws.con.cursor()
        scan = open_scan(self.ws, self.item, con, [extra] if extra else None)
        try:
            projection = ", ".join(q(n) for n, _ in self.columns)
            rel = f"(SELECT {projection} FROM {scan.expr} AS __src{where_sql(self.item.filter, extra)})"
            return fn(con, rel)
        finally:
            scan.close()
            con.close()

    def query(self, select: str, extra: str | None = None, tail: str = ""):
        return self.run(lambda con, rel: con.execute(f"SELECT {select} FROM {rel} AS __rows {tail}").fetchall(), extra)

    def arrow(self, select: str, extra: str | None = None):
        return self.run(lambda con, rel: con.sql(f"SELECT {select} FROM {rel} AS __rows").to_arrow_table(), extra)


class TargetSide:
    """The element's files at the target, read by DuckDB as the recorded column types."""

    def __init__(self, target, manifest: dict, columns):
        self.target, self.manifest, self.columns = target, manifest, columns
        self.con = None
        self._back = None
        self._from = None

    def __enter__(self):
        import duckdb

        self.con = duckdb.connect()
        files = [f for f in self.target.data_files("") if not f.startswith(FILES_FOLDER + "/")]  # not rows
        fmt = self.manifest.get("format", "parquet")
        if not files:
            empty = ", ".join(f"NULL::{t} AS {q(n)}" for n, t in self.columns)
            self._from = f"(SELECT {empty} LIMIT 0)"
            return self
        self._back = self.target.read_back("", files, fmt)
        if self._back.dataset is not None:
            self.con.register("__hydra_target", self._back.dataset)
            self._from = "__hydra_target"
        else:
            self._from = self._reader(fmt, self._back.paths)
        return self

    def _reader(self, fmt: str, paths: list[str]) -> str:
        listed = "[" + ", ".join(sql_string(p) for p in paths) + "]"
        if fmt == "parquet":
            return f"read_parquet({listed}, hive_partitioning = false)"
        if fmt == "csv":
            return (f"read_csv({listed}, header = true, all_varchar = true, allow_quoted_nulls = false, "
                    f"hive_partitioning = false)")
        # BLOB and JSON travel in JSON lines as text: read as text, then cast (relation())
        types = "{" + ", ".join(f"{sql_string(n)}: {sql_string(json_line_read_type(t))}" for n, t in self.columns) + "}"
        return f"read_json({listed}, format = 'newline_delimited', columns = {types}, hive_partitioning = false)"

    def expr(self) -> str:
        return self._from

    def relation(self) -> str:
        casts = ", ".join(f"CAST({q(n)} AS {t}) AS {q(n)}" for n, t in self.columns)
        return f"(SELECT {casts} FROM {self._from} AS __src)"

    def query(self, select: str, extra: str | None = None, tail: str = ""):
        return self.con.execute(f"SELECT {select} FROM {self.relation()} AS __rows{where_sql(extra)} {tail}").fetchall()

    def arrow(self, select: str, extra: str | None = None):
        return self.con.sql(f"SELECT {select} FROM {self.relation()} AS __rows{where_sql(extra)}").to_arrow_table()

    def __exit__(self, *exc):
        if self.con is not None:
            self.con.close()
        if self._back is not None:
            self._back.close()
        return False


def _text(value):
    return None if value is None else str(value)
