"""EXTRACT's plan: its options, how many key ranges an element is read in, and the read tasks of
an element (``hydra.transfer.task.ReadTask``: one per range, plain data an executor may run
anywhere).

The plan is made element by element as the run reaches it (``extract.Run``), not all up front:
a split asks the source for key ranges and a snapshot is held by the source until the element
ends, so both are taken just before the element is read. For the same element, options and
ranges, the tasks are always the same (same ids, same part names).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from hydra.core.errors import StatementError
from hydra.engine import choose
from hydra.heads.base import parse_bool
from hydra.heads.spec import SourceSpec
from hydra.transfer.task import Layout, ReadTask
from hydra.transfer.writers import check_format

OPTIONS = ("FORMAT", "COMPRESSION", "ROWS_PER_FILE", "PARTITION_BY", "WORKERS", "OVERWRITE", "NAME", "SNAPSHOT",
           *choose.OPTIONS)  # ENGINE, SCHEDULER, PER_SOURCE: where the tasks run (hydra.engine.choose)
# SNAPSHOT: 'shared' (every range of an element and its figures in one snapshot; where the source
# cannot share one between connections, the element is read on one), 'per_reader' (each range in
# a snapshot of its own: parallel, but ranges may see different moments), 'off' (each range at
# its own moment: how Hydra read before issue 13, kept to measure what the snapshot buys)
SNAPSHOT_MODES = {"shared": "shared", "true": "shared", "on": "shared", "per_reader": "per_reader",
                  "off": "off", "false": "off", "none": "off"}

# Reading an element in key ranges costs a connection, a query, a snapshot and a part file per
# range, and pays only when each range has enough to read. bench/bench_split_threshold.py, PostgreSQL
# on the 2-core development machine (load 1-6), 4 ranges against one: 10k rows (1.4 MiB) 4.6x
# slower, 100k (13 MiB) 2.1x, 300k (40 MiB) 1.4x, 1M (133 MiB) 0.89x. So a range gets at least
# 32 MiB or 250,000 rows by the catalog's estimates.
RANGE_MIN_BYTES = 32 << 20
RANGE_MIN_ROWS = 250_000


def range_count(element, workers: int) -> int:
    """How many key ranges to read an element in: up to WORKERS, each of at least RANGE_MIN_BYTES
    or RANGE_MIN_ROWS by the catalog's estimates (a 7-row table is one range, one file). Without
    any estimate (a table never analysed and of unknown size), WORKERS ranges, as it may be big."""
    if workers < 2:
        return 1
    if element.size_bytes is None and element.row_count is None:
        return workers
    enough = max((element.size_bytes or 0) // RANGE_MIN_BYTES, (element.row_count or 0) // RANGE_MIN_ROWS)
    return max(1, min(workers, enough))


@dataclass
class Options:
    format: str = "parquet"
    compression: str = "zstd"
    rows_per_file: int | None = None
    partition_by: str | None = None
    workers: int = 2
    overwrite: bool = False
    name: str | None = None
    snapshot: str = "shared"
    engine: choose.EngineChoice = choose.EngineChoice()

    @property
    def layout(self) -> Layout:
        return Layout(self.format, self.compression, self.rows_per_file, self.partition_by)


def parse_options(raw: dict[str, str]) -> Options:
    unknown = sorted(set(raw) - set(OPTIONS))
    if unknown:
        raise StatementError(f"EXTRACT: unknown option {unknown[0]}; accepted: {', '.join(OPTIONS)}")
    fmt, compression = check_format(raw.get("FORMAT", "parquet"), raw.get("COMPRESSION"))
    options = Options(format=fmt, compression=compression)
    for key, attr in (("ROWS_PER_FILE", "rows_per_file"), ("WORKERS", "workers")):
        if key in raw:
            try:
                value = int(raw[key])
            except ValueError:
                raise StatementError(f"EXTRACT: {key} must be a whole number, not {raw[key]!r}") from None
            if value < 1:
                raise StatementError(f"EXTRACT: {key} must be at least 1")
            setattr(options, attr, value)
    if "WORKERS" not in raw:
        options.workers = max(1, min(4, os.cpu_count() or 2))
    options.partition_by = raw.get("PARTITION_BY") or None
    options.overwrite = parse_bool(raw.get("OVERWRITE"))
    options.name = raw.get("NAME") or None
    mode = str(raw.get("SNAPSHOT", "shared")).strip().lower()
    if mode not in SNAPSHOT_MODES:
        raise StatementError(f"EXTRACT: SNAPSHOT must be shared, per_reader or off, not {raw['SNAPSHOT']!r}")
    options.snapshot = SNAPSHOT_MODES[mode]
    options.engine = choose.parse(raw)
    return options


def element_tasks(number: int, source: SourceSpec, item, ranges: list, target_uri: str, staging: str,
                  options: Options, snapshot=None, count: bool = False, account: bool = False) -> list[ReadTask]:
    """The read tasks of the element numbered ``number`` in its run: one per key range (``ranges``:
    Quals per range, ``[None]`` for the element read whole). Parts are named after the range
    (``part-<range>-<n>``) when there are several, ``part-<n>`` when one task reads it all."""
    several = len(ranges) > 1
    return [ReadTask(
        task_id=f"{number}.{i}", source=source, ref=item.ref, element=item.element, target=target_uri,
        staging=staging, layout=options.layout, part_task=f"{i:03d}" if several else "",
        columns=tuple(item.columns) if item.columns else None, filter=item.filter,
        range=tuple(quals) if quals else None, snapshot=snapshot, count=count and not several,
        may_fall_back=not several, account=account and not several) for i, quals in enumerate(ranges)]
