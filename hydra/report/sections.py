"""The report's sections: each is one function ``(data) -> Section | None`` (None: nothing to show).

To add a section, write its function and list it in ``SECTIONS``, in the place it should appear.
Sections over tables a workspace may not have (``rejects``, ``differences``, ``databases``) check
``data.has(table)`` first.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict

from hydra.report import fmt
from hydra.report.data import Data
from hydra.report.model import (FAIL, INFO, OK, WARN, Approx, Chart, Column, Facts, Headline, Section, Step,
                                Table, Text)

# an inventory this long is folded on the page (it is still all there, and sortable)
FOLD_ROWS = 25
# the longest lists of findings and generic tables (the rest is counted, and one query away)
TOP = 15
GENERIC_LIMIT = 500
CHART_BARS = 12
FORMAT_NAMES = {"parquet": "Parquet", "csv": "CSV", "jsonl": "JSON Lines"}


def _rows_figure(row_count, exact):
    if row_count is None:
        return None
    return row_count if exact else Approx(row_count)


# -- the first screen -----------------------------------------------------------------------------

ATTENTION_LINES = 8  # per kind of trouble on the first screen; the sections below list them all


def headline(data: Data) -> Headline:
    """The first screen: what the checks say, the engagement in five numbers, what needs a look."""
    where, params = data.in_scope(), data.scope_params()
    elements = data.value(f"SELECT count(*) FROM elements WHERE {where}", params)
    sources = len(data.sources) if data.sources is not None else data.value("SELECT count(*) FROM sources")
    copied = [t for t in data.transfers if t["status"] in ("done", "skipped")]
    not_copied = [t for t in data.transfers if t["status"] not in ("done", "skipped")]
    checks = data.copy_checks
    by_element = _checks_by_element(checks)
    failed = {key: f for key, (_, f) in by_element.items() if f}
    failed_checks = sum(len(f) for f in failed.values())
    unchecked = [t for t in copied if (t["source"], t["ref"]) not in by_element]

    if checks:
        if failed:
            text = (f"{fmt.plural(failed_checks, 'check')} of {len(checks):,} failed, in {len(failed):,} of "
                    f"{fmt.plural(len(by_element), 'element')}")
            detail, tone = "The copies below do not match their sources; the failed checks name what differs.", FAIL
        else:
            text = f"{fmt.plural(len(by_element), 'element')}, {fmt.plural(len(checks), 'check')}, all passed"
            detail = ("Every copy matches its source: row counts, per-column figures (NULLs, smallest, largest, "
                      "sum), the files' SHA-256 and a checksum of every row agree.")
            tone = WARN if not_copied or unchecked else OK
    elif data.transfers:
        text = f"{fmt.plural(len(copied), 'element')} extracted, not reconciled yet"
        detail, tone = "RECONCILE LAST compares the copies with their sources.", FAIL if not_copied else WARN
    else:
        text = f"{fmt.plural(elements, 'element')} in {fmt.plural(sources, 'source')}, nothing extracted yet"
        detail, tone = "MARK what to take, then EXTRACT it and RECONCILE the copy.", INFO

    unreadable = data.value(f"SELECT count(*) FROM elements WHERE {where} AND error IS NOT NULL", params)
    profiled = data.rows(f"SELECT count(*) FILTER (WHERE error IS NULL) AS ok, count(error) AS failed FROM stats "
                         f"WHERE {where} AND column_name IS NULL", params)[0]
    marks = data.rows(f"SELECT count(*) AS marked, count(filter) AS filtered FROM marks WHERE {where}", params)[0]
    size = data.value(f"SELECT sum(size_bytes) FROM elements WHERE {where}", params) or 0
    steps = [
        Step("Found", elements, f"{_what(data)} in {fmt.plural(sources, 'source')}, {fmt.size(size)}",
             WARN if unreadable else INFO),
        Step("Profiled", profiled["ok"], "exact row counts and column figures", WARN if profiled["failed"] else INFO),
        Step("Marked", marks["marked"], "to take, " + (f"{marks['filtered']:,} with a row filter"
                                                       if marks["filtered"] else "every row")),
        Step("Extracted", len(copied), f"copied: {fmt.count(sum(t['rows'] or 0 for t in copied))} rows, "
             f"{fmt.size(sum(t['bytes'] or 0 for t in copied))}", FAIL if not_copied else INFO),
        Step("Reconciled", len(by_element) - len(failed), f"of {fmt.plural(len(by_element), 'element')} passed "
             "every check", FAIL if failed else (OK if by_element else INFO)),
    ]
    return Headline(text, detail, tone, steps, _attention(data, failed, not_copied, unchecked))


TABLE_KINDS = "('table', 'view', 'materialized view')"  # SQL: the kinds a database's catalog lists


def _what(data: Data) -> str:
    """What the elements are, in a client's words: tables, files, or both."""
    tables, others = data.con.execute(
        f"SELECT count(*) FILTER (WHERE kind IN {TABLE_KINDS}), count(*) FILTER (WHERE kind NOT IN {TABLE_KINDS}) "
        f"FROM elements WHERE {data.in_scope()}", data.scope_params()).fetchone()
    return {(True, False): "tables and views", (False, True): "files and datasets"}.get(
        (tables > 0, others > 0), "tables, views and files")


def _attention(data: Data, failed: dict, not_copied: list[dict], unchecked: list[dict]) -> list[Text]:
    """What needs a look, failures first; each kind capped (the sections below have the rest)."""
    where, params = data.in_scope(), data.scope_params()
    lines: list[Text] = []

    def add(items, line, tone, more):
        items = list(items)
        lines.extend(Text(line(item), tone) for item in items[:ATTENTION_LINES])
        if len(items) > ATTENTION_LINES:
            lines.append(Text(f"… and {more(len(items) - ATTENTION_LINES)}", tone))

    add(failed.items(), lambda kv: f"{kv[0][1]}: {fmt.plural(len(kv[1]), 'check')} failed — "
        f"{_check_line(min(kv[1], key=_telling))}", FAIL, lambda n: f"{fmt.plural(n, 'more element')} failed")
    add(not_copied, lambda t: f"{t['ref']}: extract {t['status']}" + (f" — {t['error']}" if t["error"] else ""),
        FAIL, lambda n: f"{fmt.plural(n, 'more element')} not copied")
    add(data.rows(f"SELECT name, error FROM sources WHERE {data.in_scope('name')} AND status <> 'ok' ORDER BY name",
                  params), lambda s: f"Source {s['name']}: its last listing failed — {s['error']}", FAIL,
        lambda n: f"{fmt.plural(n, 'more source')}")
    if unchecked:
        names = ", ".join(t["ref"] for t in unchecked[:3]) + (" …" if len(unchecked) > 3 else "")
        lines.append(Text(f"{fmt.plural(len(unchecked), 'extracted element')} not reconciled since copied: {names}",
                          WARN))
    add(data.manifests.unreadable.items(), lambda kv: f"The target {kv[0]} cannot be read from here ({kv[1]}): "
        "its manifests are not shown", WARN, lambda n: f"{fmt.plural(n, 'more target')}")
    add(data.rows(f"SELECT ref, error FROM elements WHERE {where} AND error IS NOT NULL ORDER BY source, ref", params),
        lambda e: f"{e['ref']} could not be read, so it was listed but not taken: {e['error']}", WARN,
        lambda n: f"{fmt.plural(n, 'more element')} that could not be read")
    add(data.rows(f"SELECT s.ref, s.error FROM stats s JOIN elements e USING (source, ref) "
                  f"WHERE {data.in_scope('s.source')} AND s.column_name IS NULL AND s.error IS NOT NULL "
                  "AND e.error IS NULL ORDER BY s.source, s.ref", params),
        lambda p: f"{p['ref']} could not be profiled: {p['error']}", WARN,
        lambda n: f"{fmt.plural(n, 'more element')} that could not be profiled")
    return lines


def _checks_by_element(checks: list[dict]) -> dict[tuple[str, str], tuple[list, list]]:
    grouped: dict[tuple[str, str], tuple[list, list]] = {}
    for c in checks:
        every, failed = grouped.setdefault((c["source"], c["ref"]), ([], []))
        every.append(c)
        if c["status"] != "pass":
            failed.append(c)
    return grouped


def _telling(check: dict) -> int:
    """The failed check that says most about an element: rows lost or changed come first."""
    return {"row_count": 0, "checksum": 1}.get(check["check_name"], 2)


def _check_line(check: dict) -> str:
    line = f"{check['check_name']}: {fmt.text(check['source_value'])} at the source, {fmt.text(check['target_value'])} at the target"
    if check.get("detail"):
        line += f" ({fmt.clip(check['detail'], 160)})"
    return line


# -- the estate -----------------------------------------------------------------------------------


def estate(data: Data) -> Section:
    from hydra.core.secrets import redact_uri

    sources = data.rows(
        "SELECT s.name, s.kind, s.uri, s.status, s.error, s.scanned_at, count(e.ref) AS elements, "
        "sum(e.row_count) AS row_count, coalesce(bool_and(e.row_count_exact) FILTER (WHERE e.row_count IS NOT NULL), "
        "true) AS exact, sum(e.size_bytes) AS size_bytes, count(e.error) AS unreadable "
        f"FROM sources s LEFT JOIN elements e ON e.source = s.name WHERE {data.in_scope('s.name')} "
        "GROUP BY ALL ORDER BY s.name", data.scope_params())
    total_elements = sum(s["elements"] for s in sources)
    total_rows = sum(s["row_count"] or 0 for s in sources)
    total_bytes = sum(s["size_bytes"] or 0 for s in sources)
    estimated = not all(s["exact"] for s in sources)
    lead = (f"{fmt.plural(len(sources), 'source')} {'holds' if len(sources) == 1 else 'hold'} "
            f"{fmt.plural(total_elements, 'element')}: {'about ' if estimated else ''}{fmt.count(total_rows)} rows, "
            f"{fmt.size(total_bytes)}.")
    blocks: list = [Table(
        [Column("Source", "code"), Column("Kind"), Column("Location", "path"), Column("Elements", "count"),
         Column("Rows", "count"), Column("Size", "bytes"), Column("Listed", "time"), Column("Status", "status")],
        [(s["name"], s["kind"], redact_uri(s["uri"]), s["elements"], _rows_figure(s["row_count"], s["exact"]),
          s["size_bytes"], s["scanned_at"], s["status"] if not s["error"] else f"{s['status']}: {s['error']}")
         for s in sources], empty="No source is attached.")]

    where, params = data.in_scope(), data.scope_params()
    by_size = data.rows(f"SELECT ref, size_bytes FROM elements WHERE {where} AND size_bytes > 0 "
                        f"ORDER BY size_bytes DESC, ref LIMIT {CHART_BARS}", params)
    by_rows = data.rows(f"SELECT ref, row_count FROM elements WHERE {where} AND row_count > 0 "
                        f"ORDER BY row_count DESC, ref LIMIT {CHART_BARS}", params)
    if by_size:
        blocks.append(Chart("largest-by-size", "Largest elements by size", [r["ref"] for r in by_size],
                            [r["size_bytes"] for r in by_size], unit="bytes"))
    if by_rows:
        blocks.append(Chart("largest-by-rows", "Largest elements by rows", [r["ref"] for r in by_rows],
                            [r["row_count"] for r in by_rows]))
    kinds = _kinds_chart(data)
    if kinds is not None:
        blocks.append(kinds)

    elements = data.rows(
        "SELECT ref, kind, row_count, row_count_exact, size_bytes, column_count, modified_at, error, note "
        f"FROM elements WHERE {where} ORDER BY source, ref", params)
    blocks.append(Table(
        [Column("Element", "code"), Column("Kind"), Column("Rows", "count"), Column("Size", "bytes"),
         Column("Columns", "count"), Column("Modified", "time"), Column("Remarks")],
        [(e["ref"], e["kind"], _rows_figure(e["row_count"], e["row_count_exact"]), e["size_bytes"],
          e["column_count"], e["modified_at"],
          f"could not be read: {e['error']}" if e["error"] else e["note"]) for e in elements],
        caption="Every element",
        collapsed=f"All {fmt.plural(len(elements), 'element')}" if len(elements) > FOLD_ROWS else None,
        note="≈ marks a row count estimated from the catalog or a sample; PROFILE counts exactly." if any(
            e["row_count"] is not None and not e["row_count_exact"] for e in elements) else None,
        empty="No element was found."))
    return Section("estate", "The estate", lead, blocks)


def _kinds_chart(data: Data) -> Chart | None:
    """Kinds of elements: a bar per kind for one source, a stacked bar per source for several."""
    kinds = data.rows(f"SELECT source, kind, count(*) AS n FROM elements WHERE {data.in_scope()} GROUP BY ALL "
                      "ORDER BY n DESC, kind", data.scope_params())
    if not kinds:
        return None
    per_source = Counter()
    for k in kinds:
        per_source[k["source"]] += k["n"]
    if len(per_source) == 1:
        return Chart("kinds-per-source", f"Element kinds in {kinds[0]['source']}", [k["kind"] for k in kinds],
                     [k["n"] for k in kinds])
    chosen = [name for name, _ in sorted(per_source.items(), key=lambda kv: (-kv[1], kv[0]))[:CHART_BARS]]
    totals = Counter()
    for k in kinds:
        if k["source"] in chosen:
            totals[k["kind"]] += k["n"]
    series = {kind: [0.0] * len(chosen) for kind, _ in totals.most_common()}
    for k in kinds:
        if k["source"] in chosen:
            series[k["kind"]][chosen.index(k["source"])] = k["n"]
    title = "Element kinds per source" + (f" (the {CHART_BARS} largest)" if len(per_source) > CHART_BARS else "")
    return Chart("kinds-per-source", title, chosen, series=series)


# -- profiling ------------------------------------------------------------------------------------


def profiled(data: Data) -> Section | None:
    where, params = data.in_scope("e.source"), data.scope_params()
    elements = data.rows(
        "SELECT e.source, e.ref, e.row_count, e.method, e.computed_at, e.error, count(c.column_name) AS columns "
        "FROM stats e LEFT JOIN stats c ON c.source = e.source AND c.ref = e.ref AND c.column_name IS NOT NULL "
        f"WHERE e.column_name IS NULL AND {where} GROUP BY ALL ORDER BY e.source, e.ref", params)
    if not elements:
        return None
    ok = [e for e in elements if not e["error"]]
    lead = (f"{fmt.plural(len(ok), 'element')} profiled at the source: exact row counts and, per column, NULLs, "
            "distinct values, smallest, largest and sum — the figures each copy is checked against.")
    blocks: list = [Table(
        [Column("Element", "code"), Column("Rows", "count"), Column("Columns", "count"), Column("Computed by"),
         Column("When", "time"), Column("Remarks")],
        [(e["ref"], e["row_count"], e["columns"] or None, e["method"], e["computed_at"],
          f"failed: {e['error']}" if e["error"] else None) for e in elements],
        caption="Row counts",
        collapsed=f"Row counts of {fmt.plural(len(elements), 'element')}" if len(elements) > FOLD_ROWS else None)]

    columns = ("FROM stats c JOIN stats e ON e.source = c.source AND e.ref = c.ref AND e.column_name IS NULL "
               f"WHERE c.column_name IS NOT NULL AND {data.in_scope('c.source')} AND e.row_count > 0")
    nulls = data.rows(
        "SELECT c.ref, c.column_name, c.null_count, e.row_count, 100.0 * c.null_count / e.row_count AS share "
        f"{columns} AND c.null_count > 0 ORDER BY share DESC, c.null_count DESC, c.ref, c.column_name "
        f"LIMIT {TOP + 1}", params)
    single = data.rows(
        f"SELECT c.ref, c.column_name, c.min_value, c.null_count, e.row_count {columns} AND c.distinct_count = 1 "
        f"ORDER BY c.ref, c.column_name LIMIT {TOP + 1}", params)
    blocks.append(Table(
        [Column("Element", "code"), Column("Column", "code"), Column("NULLs", "count"), Column("of rows", "count"),
         Column("Share", "percent")],
        [(n["ref"], n["column_name"], n["null_count"], n["row_count"], n["share"]) for n in nulls[:TOP]],
        caption="Columns with the most NULLs", empty="No column holds a NULL.",
        note=f"The first {TOP}; stats holds every column." if len(nulls) > TOP else None))
    blocks.append(Table(
        [Column("Element", "code"), Column("Column", "code"), Column("Its only value", "path"),
         Column("NULLs", "count")],
        [(s["ref"], s["column_name"], s["min_value"], s["null_count"]) for s in single[:TOP]],
        caption="Columns holding a single value", empty="No column holds a single value.",
        note=f"The first {TOP}; stats holds every column." if len(single) > TOP else None))
    return Section("profiled", "What was profiled", lead, blocks)


# -- marks and transfers --------------------------------------------------------------------------


def marked(data: Data) -> Section | None:
    marks = data.rows(f"SELECT ref, filter, columns, marked_at, note FROM marks WHERE {data.in_scope()} "
                      "ORDER BY source, ref", data.scope_params())
    if not marks:
        return None
    filtered = sum(1 for m in marks if m["filter"])
    lead = f"{fmt.plural(len(marks), 'element')} marked for extraction" + (
        f"; {filtered:,} {'takes' if filtered == 1 else 'take'} only the rows matching a filter." if filtered else ", every row.")
    return Section("marked", "What was marked, and why", lead, [Table(
        [Column("Element", "code"), Column("Rows taken", "path"), Column("Columns"), Column("Marked", "time"),
         Column("Note")],
        [(m["ref"], m["filter"] or "all rows", ", ".join(m["columns"]) if m["columns"] else "all", m["marked_at"],
          m["note"]) for m in marks],
        collapsed=f"All {fmt.plural(len(marks), 'marked element')}" if len(marks) > FOLD_ROWS else None)])


def extracted(data: Data) -> Section | None:
    transfers = data.transfers
    if not transfers:
        return None
    copied = [t for t in transfers if t["status"] in ("done", "skipped")]
    targets = sorted({t["target_root"] or t["target_uri"] for t in transfers})
    formats = sorted({FORMAT_NAMES.get(t["format"], t["format"]) for t in copied if t["format"]})
    files = sum(t["files"] or 0 for t in copied)
    where_to = targets[0] if len(targets) == 1 else f"{len(targets)} targets"
    lead = (f"{fmt.plural(len(copied), 'element')} copied to {where_to}"
            + (f" as {' and '.join(formats)}" if formats else "")
            + f": {fmt.count(sum(t['rows'] or 0 for t in copied))} rows, "
              f"{fmt.size(sum(t['bytes'] or 0 for t in copied))} in {fmt.plural(files, 'file')}.")
    failed = len(transfers) - len(copied)
    if failed:
        lead += f" {fmt.plural(failed, 'element')} did not copy."
    errors = any(t["error"] for t in transfers)
    several_runs = len({t["run_id"] for t in transfers}) > 1  # else the run is named once, below
    blocks: list = [Table(
        [Column("Element", "code"), Column("Status", "status"), Column("Rows", "count"), Column("Size", "bytes"),
         Column("Files", "count"), Column("Time", "seconds"), Column("Written to", "path")]
        + ([Column("Run", "code")] if several_runs else []) + ([Column("Error")] if errors else []),
        [(t["ref"], t["status"], t["rows"], t["bytes"], t["files"], _seconds(t), _under(t))
         + ((t["run_id"],) if several_runs else ()) + ((t["error"],) if errors else ()) for t in transfers],
        collapsed=f"All {fmt.plural(len(transfers), 'transferred element')}" if len(transfers) > FOLD_ROWS else None)]

    manifests = data.element_manifests
    file_rows = [(ref, f.get("path"), f.get("rows"), f.get("bytes"), f.get("sha256"))
                 for (_, ref), manifest in sorted(manifests.items()) for f in manifest.get("files") or []]
    if file_rows:
        blocks.append(Table(
            [Column("Element", "code"), Column("File", "path"), Column("Rows", "count"), Column("Size", "bytes"),
             Column("SHA-256", "code")],
            file_rows, caption="Files written, with the SHA-256 their manifests record",
            collapsed=f"The {fmt.plural(len(file_rows), 'file')} and their SHA-256"))
    missing = [t["ref"] for t in copied if (t["source"], t["ref"]) not in manifests]
    for root, why in data.manifests.unreadable.items():
        blocks.append(Text(f"The target {root} cannot be read from here ({why}): the SHA-256 of its files are in "
                           "the manifests written there, and are not shown.", WARN))
    if missing and not data.manifests.unreadable:
        blocks.append(Text(f"No manifest found for {fmt.plural(len(missing), 'element')} "
                           f"({', '.join(missing[:3])}{' …' if len(missing) > 3 else ''}): the target has changed "
                           "since the copy.", WARN))

    runs = defaultdict(list)
    for t in transfers:
        runs[t["run_id"]].append(t)
    blocks.append(Table(
        [Column("Run", "code"), Column("Started", "time"), Column("Elements", "count"), Column("Target", "path"),
         Column("Statement", "path")],
        [(run_id, min((t["started_at"] for t in ts if t["started_at"]), default=None), len(ts),
          ts[0]["target_root"] or ts[0]["target_uri"], _masked(data.run_manifests.get(run_id, {}).get("statement")))
         for run_id, ts in sorted(runs.items())],
        caption="EXTRACT runs"))
    return Section("extracted", "What was extracted", lead, blocks, FAIL if failed else INFO)


def _seconds(t: dict):
    if t["started_at"] is None or t["finished_at"] is None:
        return None
    return (t["finished_at"] - t["started_at"]).total_seconds()


def _under(t: dict) -> str:
    """The element's folder under its run's target (the target is said once, above)."""
    root, uri = t["target_root"], t["target_uri"]
    if root and uri.startswith(root.rstrip("/")):
        return uri[len(root.rstrip("/")):].lstrip("/") or "."
    return uri


def _masked(statement: str | None) -> str | None:
    from hydra.core.secrets import mask_sql

    if not statement:
        return None
    return mask_sql(statement) or statement.split(None, 1)[0] + " …"


# -- reconciliation -------------------------------------------------------------------------------


def reconciled(data: Data) -> Section | None:
    checks = data.copy_checks
    copied = [t for t in data.transfers if t["status"] in ("done", "skipped")]
    if not checks and not copied:
        return None
    by_element = _checks_by_element(checks)
    failed = {key: f for key, (_, f) in by_element.items() if f}
    failed_checks = [c for f in failed.values() for c in f]
    if not checks:
        lead = "Nothing was reconciled yet: RECONCILE LAST compares the copies with their sources."
    elif failed:
        lead = (f"{fmt.plural(len(failed_checks), 'check')} of {len(checks):,} failed, in {len(failed):,} of "
                f"{fmt.plural(len(by_element), 'element')}; the failures come first.")
    else:
        lead = f"All {fmt.plural(len(checks), 'check')} on {fmt.plural(len(by_element), 'element')} passed."
    blocks: list = [Text(
        "For each element, Hydra compared the source with the copy: that the manifest is the element's own and "
        "every file it lists is there with its SHA-256; the row count; per column the NULLs, smallest and largest "
        "value and sum, computed by the source's own engine; and a checksum of every row, taken as the rows were "
        "copied.")]
    if failed_checks:
        blocks.append(Table(
            [Column("Element", "code"), Column("Check", "code"), Column("At the source", "path"),
             Column("At the target", "path"), Column("What differs")],
            [(c["ref"], c["check_name"], c["source_value"], c["target_value"], c["detail"]) for c in failed_checks],
            caption="Failed checks"))
    order = sorted(by_element.items(), key=lambda kv: (not kv[1][1], kv[0]))
    blocks.append(Table(
        [Column("Element", "code"), Column("Result", "status"), Column("Checks", "count"), Column("Failed", "count"),
         Column("Checked", "time")],
        [(ref, "fail" if f else "pass", len(every), len(f), max(c["checked_at"] for c in every))
         for (_, ref), (every, f) in order],
        caption="Per element",
        collapsed=f"All {fmt.plural(len(order), 'reconciled element')}" if len(order) > FOLD_ROWS else None))
    unchecked = [t["ref"] for t in copied if (t["source"], t["ref"]) not in by_element]
    if unchecked and checks:
        blocks.append(Text(f"Not reconciled since copied: {', '.join(unchecked[:10])}"
                           f"{' …' if len(unchecked) > 10 else ''}", WARN))
    return Section("reconciled", "Reconciliation", lead, blocks, FAIL if failed else (OK if checks else WARN))


def drift(data: Data) -> Section | None:
    """How far live sources have moved since their copy (drift rows of ``reconciliations``)."""
    rows = data.drift_checks
    if not rows:
        return None
    moved = [r for r in rows if r["status"] not in ("pass", "same", "none")]
    lead = (f"{fmt.plural(len(moved), 'figure')} of live sources moved since the copy was taken; this is the "
            "source moving on, not a fault of the copy." if moved else "No live source moved since its copy.")
    return Section("drift", "Drift on live sources", lead, [Table(
        [Column("Element", "code"), Column("Figure", "code"), Column("At the copy", "path"), Column("Now", "path"),
         Column("Status", "status"), Column("Detail")],
        [(r["ref"], r["check_name"], r["source_value"], r["target_value"], r["status"], r["detail"]) for r in rows])])


# -- tables other issues add: shown when the workspace has them -----------------------------------


def _capped(columns: list[Column], rows: list, total: int, noun: str, rest: str) -> Table:
    """The first ``GENERIC_LIMIT`` of ``total`` rows of a workspace table (folded when long);
    ``rest`` says where the rest, or the columns left out, are."""
    cut = f"The first {GENERIC_LIMIT:,} of {total:,} {noun}. " if total > GENERIC_LIMIT else ""
    return Table(columns, rows, note=(cut + rest) or None,
                 collapsed=f"All {total:,} {noun}" if min(total, GENERIC_LIMIT) > FOLD_ROWS else None)


def _generic(data: Data, table: str, order: list[str]) -> tuple[Table, int] | None:
    """A table of the workspace as it is (first ``GENERIC_LIMIT`` rows), in the chosen sources."""
    if not data.has(table):
        return None
    columns = data.columns_of(table)
    where = data.in_scope() if "source" in columns else "true"
    params = data.scope_params() if "source" in columns else []
    total = data.value(f'SELECT count(*) FROM "{table}" WHERE {where}', params)
    if not total:
        return None
    sort = ", ".join(f'"{c}"' for c in order if c in columns) or "ALL"
    rows = data.con.execute(f'SELECT * FROM "{table}" WHERE {where} ORDER BY {sort} LIMIT {GENERIC_LIMIT}',
                            params).fetchall()
    kinds = [("code" if name in ("ref", "source") else "path" if name in ("key", "raw", "line_text") else "text")
             for name in columns]
    return _capped([Column(name.replace("_", " ").capitalize(), kind) for name, kind in zip(columns, kinds)], rows,
                   total, "rows", f"SELECT * FROM {table} has them all." if total > GENERIC_LIMIT else ""), total


# the differences columns the report shows (RECONCILE … AGAINST …); the rows' values stay in the table
DIFFERENCE_COLUMNS = {"run_id", "left_ref", "right_ref", "key_column", "key_value", "kind", "changed_columns"}
DIFFERENCE_KINDS = {"missing_left": "missing on the left", "missing_right": "missing on the right",
                    "changed": "changed"}


def differences(data: Data) -> Section | None:
    """Rows that differ between two elements (RECONCILE … AGAINST …), from each pair's latest run."""
    if not data.has("differences"):
        return None
    if not DIFFERENCE_COLUMNS <= set(data.columns_of("differences")):  # a table of the user's own
        found = _generic(data, "differences", ["source", "ref"])
        if found is None:
            return None
        table, total = found
        return Section("differences", "Rows that differ", f"{fmt.plural(total, 'row')} differ between the "
                       "elements compared.", [table], FAIL)
    # a pair is in scope when either side's element is; a pair's earlier runs are history
    chosen = f"(SELECT ref FROM elements WHERE {data.in_scope()})"
    latest = (f"FROM differences d WHERE (left_ref IN {chosen} OR right_ref IN {chosen}) AND run_id = "
              f"(SELECT max(run_id) FROM differences e WHERE e.left_ref = d.left_ref AND e.right_ref = d.right_ref)")
    params = data.scope_params(2)
    total = data.value(f"SELECT count(*) {latest}", params)
    if not total:
        return None
    rows = data.con.execute(f"SELECT left_ref, right_ref, key_column || ' = ' || key_value, kind, "
                            f"array_to_string(changed_columns, ', ') {latest} ORDER BY left_ref, right_ref, kind, "
                            f"key_value LIMIT {GENERIC_LIMIT}", params).fetchall()
    rows = [(left, right, key, DIFFERENCE_KINDS.get(kind, kind), changed) for left, right, key, kind, changed in rows]
    table = _capped([Column("Left", "code"), Column("Right", "code"), Column("Key", "path"), Column("Difference"),
                     Column("Columns that changed", "path")], rows, total, "rows",
                    "SELECT * FROM differences has each row's values on both sides.")
    pairs = data.value(f"SELECT count(DISTINCT (left_ref, right_ref)) {latest}", params)
    return Section("differences", "Rows that differ", f"{fmt.plural(total, 'row')} differ between "
                   f"{fmt.plural(pairs, 'pair')} of elements compared (RECONCILE … AGAINST …).", [table], FAIL)


# the rejects columns the report shows: the record, where it is and why; the run and offsets stay in the table
REJECT_COLUMNS = {"ref", "line", "raw", "reason", "action"}


def rejects(data: Data) -> Section | None:
    """Records of delimited files not loaded as they stand, each with its reason."""
    if not data.has("rejects"):
        return None
    if not REJECT_COLUMNS <= set(data.columns_of("rejects")):  # a table of the user's own, or an older one
        found = _generic(data, "rejects", ["source", "ref", "line", "line_number"])
        if found is None:
            return None
        table, total = found
        return Section("rejects", "Rejected lines", f"{fmt.plural(total, 'line')} of files did not become rows; "
                       "each is kept with its reason.", [table], WARN)
    total = data.value(f"SELECT count(*) FROM rejects WHERE {data.in_scope()}", data.scope_params())
    if not total:
        return None
    rejected = data.value(f"SELECT count(*) FROM rejects WHERE {data.in_scope()} AND action = 'rejected'",
                          data.scope_params())
    # five columns, so the table fits A4 paper as well as a screen (ten did not: the print test measures it)
    rows = data.con.execute(f"SELECT ref, line, action, reason, raw FROM rejects WHERE {data.in_scope()} "
                            f"ORDER BY source, ref, line LIMIT {GENERIC_LIMIT}", data.scope_params()).fetchall()
    table = _capped([Column("Element", "code"), Column("Line", "count"), Column("Action"), Column("Reason"),
                     Column("Record", "path")], rows, total, "records",
                    "SELECT * FROM rejects has each record's byte offset, span and run.")
    return Section("rejects", "Rejected lines", f"{fmt.plural(total, 'record')} of files were not loaded as they "
                   f"stand: {rejected:,} rejected, {total - rejected:,} loaded after a repair; each is kept with "
                   "its reason.", [table], WARN)


def databases(data: Data) -> Section | None:
    """The databases of whole servers attached as one source."""
    found = _generic(data, "databases", ["source", "database"])
    if found is None:
        return None
    table, total = found
    return Section("databases", "Databases", f"{fmt.plural(total, 'database')} on the attached servers.", [table])


# -- the run's facts ------------------------------------------------------------------------------


def run_facts(data: Data) -> Section:
    import hydra

    anonymous = data.options.anonymous
    facts: list[tuple[str, object]] = [("Hydra", hydra.__version__)]
    if data.workspace_path:  # anonymous: its folder may name the person (/home/alice/…)
        facts.append(("Workspace", os.path.basename(data.workspace_path) if anonymous else data.workspace_path))
    facts.append(("Sources covered", ", ".join(data.sources) if data.sources is not None else "all"))
    facts.append(("Runs covered", {"all": "each element's latest EXTRACT", "last": "the latest EXTRACT"}.get(
        data.options.run, data.options.run)))
    # a table of the user's own that happens to be called history is not the log
    if not (data.has("history") and {"started_at", "statement", "status"} <= set(data.columns_of("history"))):
        return Section("run", "The run's facts", None, [Facts(facts + _writer(anonymous)), Text(
            "This workspace keeps no statement log (it was written by an older Hydra): the EXTRACT runs above "
            "show the statements their manifests recorded.", WARN)])
    shown, left_out = _statements_in_scope(data, data.rows("SELECT * FROM history ORDER BY started_at"))
    by = [f"{s['user_name'] or '?'}@{s['host'] or '?'}" for s in shown]
    if shown:
        facts += [("First statement", shown[0]["started_at"]), ("Last statement", shown[-1]["started_at"])]
        if not anonymous:
            facts.append(("Run by", ", ".join(sorted(set(by)))))
    statements = Table(
        [Column("When", "time"), Column("Where", "path"), Column("Statement", "path"), Column("Result", "status"),
         Column("Time", "seconds")] + ([] if anonymous else [Column("By")]),
        [(s["started_at"], f"{s['origin']}:{s['line']}" if s["line"] else s["origin"], s["statement"],
          s["status"] if not s["error"] else f"{s['status']}: {s['error']}", s["seconds"])
         + (() if anonymous else (who,)) for s, who in zip(shown, by)],
        caption="Statements run (queries are not kept; passwords are masked)",
        collapsed=f"All {fmt.plural(len(shown), 'statement')}" if len(shown) > FOLD_ROWS else None,
        note=f"{fmt.plural(left_out, 'statement')} about other sources left out." if left_out else None,
        empty="No statement was recorded.")
    return Section("run", "The run's facts", None, [Facts(facts + _writer(anonymous)), statements])


def _writer(anonymous: bool) -> list[tuple[str, str]]:
    if anonymous:
        return []
    from hydra.catalog.statement_log import who

    user, host = who()
    return [("Report written by", f"{user or '?'}@{host or '?'}")]


def _statements_in_scope(data: Data, statements: list[dict]) -> tuple[list[dict], int]:
    """With SOURCES, only the statements that name no other source (by the tokens of their text)."""
    if data.sources is None:
        return statements, 0
    from hydra.core.errors import HydraError
    from hydra.core.statement import tokenize

    chosen = {name.lower() for name in data.sources}
    known = {name.lower() for (name,) in data.con.execute("SELECT name FROM sources").fetchall()}
    words_of = []
    for s in statements:
        try:
            tokens = tokenize(s["statement"])
        except HydraError:
            tokens = []
        words_of.append([t.text.lower() for t in tokens if t.token_type.name in ("VAR", "IDENTIFIER")])
        # a source detached since is still a source: ATTACH … AS <name>
        if tokens and tokens[0].text.upper() == "ATTACH":
            after_as = [tokens[i + 1] for i, t in enumerate(tokens[:-1]) if t.text.upper() == "AS"]
            known.update(t.text.lower() for t in after_as[:1])
    shown = [s for s, words in zip(statements, words_of) if not (set(words) & known) - chosen]
    return shown, len(statements) - len(shown)


SECTIONS = [estate, profiled, marked, extracted, reconciled, drift, differences, rejects, databases, run_facts]
