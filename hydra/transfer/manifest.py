"""Manifests: the chain of custody written next to the data.

``<element>/_manifest.json`` is written last, after every part is in place: what was asked (the
query sent, the mark's filter, the predicates pushed to the source), what was written (rows, bytes,
every file with its SHA-256 and row count), the checksum taken on the stream, the columns and their
types (so the checksum can be recomputed from the files), timing, the Hydra version, and the
source's own stats when the element was profiled. ``_hydra_runs/<run_id>.json`` lists a run.
"""

from __future__ import annotations

import hydra
from hydra.transfer.common import CHECKSUM_ALGORITHM

MANIFEST_VERSION = 1
CHECKSUM_TAKEN = {
    "duckdb": ("on the stream during the write: DuckDB computes each row's hash in the same query "
               "that feeds the writer, and Hydra sums it batch by batch as the batches are written "
               "(one pass over the source)"),
    "direct": ("on the stream during the write: the source's batches go straight to the writer, and "
               "DuckDB sums the rows' hashes of each row group just before it is written "
               "(one pass over the source)"),
}


def element_manifest(job, finished_at, seconds: float) -> dict:
    item = job.item
    files = sorted(job.sink.files, key=lambda f: f["path"])
    return {
        "manifest_version": MANIFEST_VERSION,
        "hydra_version": hydra.__version__,
        "run_id": job.run_id,
        "source": item.source,
        "ref": item.ref,
        "kind": "query" if item.is_query else item.element.kind,
        "element_path": None if item.is_query else item.element.path,
        "element_note": None if item.is_query else item.element.note,
        "target": job.element_uri,
        "format": job.options.format,
        "compression": job.options.compression,
        "partition_by": job.options.partition_by,
        "rows_per_file": job.options.rows_per_file,
        "query": {
            "sent": job.queries[0] if len(job.queries) == 1 else job.queries,
            "user_query": item.query,
            "filter": item.filter,
            "mark_columns": item.columns,
            "pushed_to_source": job.pushed,
            "ranges": job.range_sql,
            "route": job.route,
        },
        "columns": column_entries(job),
        "key": item.key,
        "key_note": item.key_note,
        "rows": sum(f["rows"] for f in files),
        "bytes": sum(f["bytes"] for f in files),
        "files": files,
        "checksum": {"value": str(job.checksum), "algorithm": CHECKSUM_ALGORITHM,
                     "taken": CHECKSUM_TAKEN[job.route]},
        "started_at": job.started_at.isoformat(),
        "finished_at": finished_at.isoformat(),
        "seconds": round(seconds, 3),
        "source_stats": job.source_stats,
        "snapshot": snapshot_entry(job),
        "source_figures": job.figures or ({"error": job.figures_error} if job.figures_error else None),
        # a delimited file read record by record: loaded + rejected + skipped = lines (RECONCILE checks)
        "lines": job.lines,
    }


def snapshot_entry(job) -> dict | None:
    """The moment the element was read at: the source's identity for it, the isolation, how long
    the source held it, and whether it replaces an earlier attempt (read whole again)."""
    from hydra.core.snapshot import no_snapshot

    snapshot = job.snapshot
    if snapshot is None:  # read whole by a head without snapshots, or a query across sources
        snapshot = no_snapshot(job.item.source, "a query: each source it reads is read at its own moment"
                               if job.item.is_query else "the head has no snapshot")
    entry = snapshot.as_manifest()
    head = job.snapshot_head
    held = head.snapshot_held(snapshot) if head is not None else None
    if held is not None:
        entry["held_seconds"] = round(held, 3)
    entry["readers"] = len(job.ranges or [None])
    if job.previous_attempt:
        entry["resumed"] = (f"an earlier attempt (run {job.previous_attempt}) did not complete: its parts were "
                            f"discarded and every range was read again in this new snapshot")
    return entry


# what a target format cannot hold as DuckDB does, by format and DuckDB type
INFINITE_IN_PARQUET = ("Parquet has no infinite dates or timestamps: 'infinity' and '-infinity' are stored "
                       "as DuckDB stores them, the largest integer of the column and its negation, which "
                       "DuckDB reads back as infinite and other readers as a date past the year 294247 (or "
                       "an error)")
JSON_IN_JSONL = ("each value is a JSON string holding the JSON text exactly as the source has it: a JSON "
                 "null is \"null\", SQL NULL is null")
NONFINITE_IN_JSONL = 'JSON has no NaN or infinities: written as the strings "NaN", "Infinity" and "-Infinity"'
TEXT_IN_PARQUET = "Parquet cannot store this type: written as DuckDB's text, read back with a cast"


def format_note(fmt: str, type_: str) -> str | None:
    """What the target format does to a column of this DuckDB type, when it cannot hold it as is."""
    from hydra.transfer.common import is_float
    from hydra.transfer.writers import not_for_parquet

    t = type_.upper().strip()
    if fmt == "parquet" and (t == "DATE" or t.startswith("TIMESTAMP")):
        return INFINITE_IN_PARQUET
    if fmt == "parquet" and not_for_parquet(t):
        return TEXT_IN_PARQUET
    if fmt == "jsonl" and t in ("JSON", "JSON[]"):
        return JSON_IN_JSONL
    if fmt == "jsonl" and is_float(t):
        return NONFINITE_IN_JSONL
    return None


def column_entries(job) -> list[dict]:
    """The columns with their types and, where a value may not be what the source holds, a note:
    the source's conversion (``columns.note``) and what the format does to the type."""
    element = job.item.element
    source_notes = {c.name: c.note for c in (element.columns or [])} if element is not None else {}
    out = []
    for name, type_ in job.columns:
        entry = {"name": name, "type": type_}
        notes = [n for n in (source_notes.get(name), format_note(job.options.format, type_)) if n]
        if notes:
            entry["note"] = "; ".join(notes)
        out.append(entry)
    return out


def run_manifest(run_id: str, statement: str, target_uri: str, options, started_at, finished_at,
                 outcomes: list[dict]) -> dict:
    """The run's record at the target. The statement is kept with its secrets masked (a password
    typed into it never lands on disk); one that cannot be tokenized keeps only its first word."""
    from hydra.core.secrets import mask_sql

    statement = mask_sql(statement) or (statement.split(None, 1) or ["EXTRACT"])[0] + " …"
    return {
        "manifest_version": MANIFEST_VERSION,
        "hydra_version": hydra.__version__,
        "run_id": run_id,
        "statement": statement,
        "target": target_uri,
        "options": vars(options),
        "started_at": started_at.isoformat(),
        "finished_at": finished_at.isoformat(),
        "elements": outcomes,
    }
