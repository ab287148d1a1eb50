"""Manifests: the chain of custody written next to the data.

``<element>/_manifest.json`` is written last, after every part is in place: what was asked (the
query sent, the mark's filter, the predicates pushed to the source), what was written (rows, bytes,
every file with its SHA-256 and row count), the checksum taken on the stream, the columns and their
types (so the checksum can be recomputed from the files), timing, the Hydra version, and the
source's own stats when the element was profiled. ``_hydra_runs/<run_id>.json`` lists a run.
"""

from __future__ import annotations

import hydra
from hydra.outbound.common import CHECKSUM_ALGORITHM

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
        "columns": [{"name": n, "type": t} for n, t in job.columns],
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
    }


def run_manifest(run_id: str, statement: str, target_uri: str, options, started_at, finished_at,
                 outcomes: list[dict]) -> dict:
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
