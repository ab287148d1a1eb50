"""Many small elements: read them whole, many at a time, and give DuckDB one query per batch.

Profiling or extracting 5,000 small objects used to cost far more than reading them: per element,
a DuckDB view registered and queried (~2-7 ms), a transaction, requests made one after another.
A small element (``SMALL_ELEMENT_BYTES`` at its source, of a head that declares ``small_reads``)
is instead read whole, ``small_reads`` at a time, in batches (``batches``) fetched one ahead of
their processing (``fetched``); the elements of a batch that share their columns are stacked into
one Arrow table with an element number (``stacked``), so that one DuckDB query with
``GROUP BY`` element computes what a query per element would.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

from hydra.core.errors import HydraError, one_line
from hydra.read.scan import reader as element_reader

if TYPE_CHECKING:
    import pyarrow as pa

    from hydra.transfer.common import Item

SMALL_ELEMENT_BYTES = 4 << 20
BATCH_ELEMENTS = 256  # elements in a batch, and at most …
BATCH_BYTES = 64 << 20  # … this many bytes at their source (what a batch holds in memory, twice)
# an element that has grown since it was listed, to more than this in memory, is left to the
# usual path (which streams it)
WHOLE_BYTES = 64 << 20
GROUP_COLUMN = "__hydra_element"


def is_small(ws, item: Item) -> bool:
    """Whether an element is read whole with others: small, of a head that declares
    ``small_reads``, and read as an Arrow stream (not a DuckDB-native scan)."""
    if item.is_query or item.element is None:
        return False
    head = ws.head(item.source)
    size = item.element.size_bytes
    return (head.small_reads > 0 and size is not None and size <= SMALL_ELEMENT_BYTES
            and head.scan_sql(item.element) is None)


def threads(ws, items: list[Item], workers: int) -> int:
    """Threads to read small elements with: what their heads allow, and never fewer than WORKERS."""
    return max([workers, *(ws.head(source).small_reads for source in {i.source for i in items})])


def batches(items: list) -> list[list]:
    """Items (or things with an ``item``) in batches of at most BATCH_ELEMENTS and BATCH_BYTES."""
    found, batch, size = [], [], 0
    for thing in items:
        item = getattr(thing, "item", thing)
        if batch and (len(batch) >= BATCH_ELEMENTS or size + item.element.size_bytes > BATCH_BYTES):
            found.append(batch)
            batch, size = [], 0
        batch.append(thing)
        size += item.element.size_bytes
    if batch:
        found.append(batch)
    return found


@dataclass
class Fetched:
    """One small element read whole, or its error."""

    thing: object  # the Item (or the job holding it) as given
    table: pa.Table | None  # None: an error, or too big to hold (``too_big``)
    error: str | None
    started: float  # time.perf_counter() when its read began
    seconds: float
    too_big: bool = False


def fetched(ws, things: list, pool, columns=None) -> Iterator[list[Fetched]]:
    """Each batch of ``things`` (items, or jobs with an ``item``) read whole by ``pool``, the next
    batch being read while the caller works on this one. ``columns(item)``: the columns to read."""
    def fetch(thing) -> Fetched:
        item = getattr(thing, "item", thing)
        started = time.perf_counter()
        try:
            wanted = columns(item) if columns else None
            table = _whole(element_reader(ws, item.source, item.element, wanted))
            return Fetched(thing, table, None, started, time.perf_counter() - started, too_big=table is None)
        except HydraError as err:
            return Fetched(thing, None, str(err), started, time.perf_counter() - started)
        except Exception as err:  # noqa: BLE001 - one element's failure is reported, others go on
            return Fetched(thing, None, one_line(err), started, time.perf_counter() - started)

    found = batches(things)
    if not found:
        return
    pending = pool.map(fetch, found[0])
    for following in [*found[1:], None]:
        batch = list(pending)
        pending = pool.map(fetch, following) if following else None
        yield batch


def _whole(reader) -> pa.Table | None:
    """All of a reader's rows, or None (the reader abandoned) past WHOLE_BYTES."""
    import pyarrow as pa

    batches, size = [], 0
    for batch in reader:
        size += batch.nbytes
        if size > WHOLE_BYTES:
            return None
        batches.append(batch)
    return pa.Table.from_batches(batches, schema=reader.schema)


def same_columns(batch: list[Fetched], extra=None) -> list[list[Fetched]]:
    """The read elements of a batch grouped by their exact Arrow columns (and ``extra(item)``)."""
    groups: dict = {}
    for one in batch:
        if one.table is None:
            continue
        item = getattr(one.thing, "item", one.thing)
        key = (tuple((f.name, f.type, f.nullable) for f in one.table.schema), extra(item) if extra else None)
        groups.setdefault(key, []).append(one)
    return list(groups.values())


def stacked(tables: list[pa.Table]) -> pa.Table:
    """Tables of the same columns, one under the other, with GROUP_COLUMN numbering them."""
    import numpy as np
    import pyarrow as pa

    plain = [table.replace_schema_metadata(None) for table in tables]
    number = np.repeat(np.arange(len(plain), dtype=np.int32), [t.num_rows for t in plain])
    return pa.concat_tables(plain).append_column(GROUP_COLUMN, pa.array(number))
