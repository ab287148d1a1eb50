"""EXTRACT's rows in ``transfers``: one per element, inserted as ``running`` when the run starts and
updated with its outcome as it ends.

The rows are written in bulk (one statement for the run's start, one per batch of ended
elements): a statement per element cost more than extracting a small S3 object. Only the
coordinator writes them, from what the tasks returned.
"""

from __future__ import annotations

import time

RECORD_BATCH = 500  # ended elements per update of transfers …
RECORD_SECONDS = 2.0  # … or this often, whichever comes first
ENDED = ("source", "ref", "status", "rows", "bytes", "files", "finished_at", "error", "checksum")


class Ledger:
    def __init__(self, con, run_id: str):
        self.con, self.run_id = con, run_id
        self._ended: list[tuple] = []  # rows not yet updated
        self._recorded_at = time.monotonic()

    def started(self, elements: list[tuple[str, str, str]], target_root: str, fmt: str) -> None:
        """A ``running`` row per (source, ref, target URI)."""
        from hydra.core.clock import now

        started, n = now(), len(elements)
        self._write("INSERT INTO transfers BY NAME SELECT * FROM {view}", {
            "run_id": [self.run_id] * n, "source": [e[0] for e in elements], "ref": [e[1] for e in elements],
            "target_uri": [e[2] for e in elements], "status": ["running"] * n, "started_at": [started] * n,
            "target_root": [target_root] * n, "format": [fmt] * n})

    def ended(self, *row) -> None:
        """An element's outcome (the values of ``ENDED``); written every ``RECORD_BATCH`` elements
        or ``RECORD_SECONDS``, and by ``flush`` when the run ends (or is interrupted)."""
        self._ended.append(row)
        if len(self._ended) >= RECORD_BATCH or time.monotonic() - self._recorded_at > RECORD_SECONDS:
            self.flush()

    def flush(self) -> None:
        ended, self._ended = self._ended, []
        self._recorded_at = time.monotonic()
        if not ended:
            return
        columns = {name: [row[i] for row in ended] for i, name in enumerate(ENDED)}
        columns["run_id"] = [self.run_id] * len(ended)
        try:
            self._write(
                "UPDATE transfers SET status = e.status, rows = e.rows, bytes = e.bytes, files = e.files, "
                "finished_at = e.finished_at, error = e.error, checksum = e.checksum FROM {view} e "
                "WHERE transfers.run_id = e.run_id AND transfers.source = e.source AND transfers.ref = e.ref",
                columns)
        except BaseException:
            self._ended = ended + self._ended  # an interrupted update is redone (extract's clean-up)
            raise

    def _write(self, sql: str, columns: dict[str, list]) -> None:
        """Run ``sql`` over the rows of ``columns``, given as one list parameter per column.

        Lists, not an Arrow table: a run's bookkeeping then never imports pyarrow, whose import
        (~0.1 s) instead runs in the read tasks, while the server already computes the element's
        figures. 5,000 rows of ``started`` cost ~25 ms either way."""
        names = list(columns)
        rows = ", ".join(f'unnest(?::{_TYPES.get(name, "VARCHAR")}[]) AS "{name}"' for name in names)
        self.con.execute(sql.format(view=f"(SELECT {rows})"), [columns[name] for name in names])


_TYPES = {"rows": "BIGINT", "bytes": "BIGINT", "files": "INTEGER", "started_at": "TIMESTAMPTZ",
          "finished_at": "TIMESTAMPTZ"}  # every other column is VARCHAR
