"""What EXTRACT shows: the live display (``progress.Display``) while it runs, and its result —
one row per element and a one-paragraph summary — when it ends."""

from __future__ import annotations

from hydra.core.statement import Result
from hydra.transfer.progress import Display, human_bytes

__all__ = ["Display", "summary"]


def summary(run_id: str, target_uri: str, jobs: list, seconds: float) -> Result:
    """The statement's result: a row per element (ref, status, rows, bytes, files, seconds,
    error), what was done, skipped and failed, and where to look for the failures."""
    rows = [(j.item.ref, j.status, j.rows, j.bytes, j.files, round(j.seconds, 3), j.error) for j in jobs]
    counts = {s: sum(j.status == s for j in jobs) for s in ("done", "skipped", "failed")}
    total_rows = sum(j.rows for j in jobs if j.status == "done")
    total_bytes = sum(j.bytes for j in jobs if j.status == "done")
    message = (f"EXTRACT {run_id} to {target_uri}: {counts['done']} done "
               f"({total_rows:,} rows, {human_bytes(total_bytes)}), {counts['skipped']} skipped "
               f"(already complete), {counts['failed']} failed, in {seconds:.1f} s")
    held = [j.snapshot_held for j in jobs if j.snapshot_held is not None]
    if held:
        message += f"; the source held a snapshot up to {max(held):.1f} s"
    failure = None
    if counts["failed"]:
        message += f"\n{counts['failed']} element{'s' * (counts['failed'] != 1)} FAILED: see the error column or transfers.error"
        failure = (f"EXTRACT {run_id}: {counts['failed']} of {len(jobs)} element"
                   f"{'s' * (len(jobs) != 1)} failed (SELECT ref, error FROM transfers "
                   f"WHERE run_id = '{run_id}' AND status = 'failed')")
    return Result(columns=["ref", "status", "rows", "bytes", "files", "seconds", "error"], rows=rows,
                  message=message, failure=failure)
