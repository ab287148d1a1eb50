"""EXTRACT without the DuckDB round trip: a head's Arrow batches straight to the Parquet writer.

The usual path has DuckDB run ``SELECT cols, hash(cols) FROM <head reader>``: DuckDB imports every
batch, then exports it again for the writer. For a plain bulk copy — the head applies every
predicate (key ranges only, never a user's filter) and the Arrow types are ones Parquet stores and
DuckDB reads back as the same values — that second trip is pure cost: on 3M PostgreSQL rows it
was a third of the client's CPU (and DuckDB exports UUIDs as 36-character strings). Here the head's
batches are gathered into row groups, DuckDB computes only the sum of the rows' hashes over each
(the same ``hash(cols)`` the usual path adds, so RECONCILE checks both alike), and the batches go to
the writer as they came.
"""

from __future__ import annotations

from collections.abc import Iterator

from hydra.transfer.common import Scan, checksum_sql


def passes_through(scan: Scan, columns: list[tuple[str, str]]) -> bool:
    """True when the scan's batches can be written as they are (Parquet only: the caller checks)."""
    if scan.reader is None or not scan.exact or not columns:
        return False
    names = [name for name, _ in columns]
    schema = scan.reader.schema
    return schema.names == names and all(stores_faithfully(field.type) for field in schema)


def stores_faithfully(arrow_type) -> bool:
    """Arrow types that pyarrow writes to Parquet and DuckDB reads back as the type it imported."""
    import pyarrow as pa

    t = pa.types
    if isinstance(arrow_type, pa.BaseExtensionType):
        return arrow_type.extension_name in ("arrow.uuid", "arrow.json")
    return (t.is_integer(arrow_type) or t.is_float32(arrow_type) or t.is_float64(arrow_type)
            or t.is_decimal128(arrow_type) or t.is_boolean(arrow_type) or t.is_date32(arrow_type)
            or t.is_timestamp(arrow_type) or (t.is_time64(arrow_type) and arrow_type.unit == "us")
            or t.is_string(arrow_type) or t.is_large_string(arrow_type)
            or t.is_binary(arrow_type) or t.is_large_binary(arrow_type))


def hashed_batches(con, reader, columns: list[tuple[str, str]], rows_per_group: int,
                   bytes_per_group: int = 64 << 20) -> Iterator:
    """(table, sum of its rows' hashes mod 2^64) for row groups of about ``rows_per_group`` rows
    or ``bytes_per_group`` bytes of Arrow data, whichever comes first. A group is held in memory
    until it is written: the bytes bound keeps wide rows from growing it."""
    import pyarrow as pa

    view = f"__hydra_rows_{id(reader):x}"
    sql = f"SELECT {checksum_sql(columns, cast=False)} FROM {view}"
    pending: list = []

    def group():
        table = pa.Table.from_batches(pending, schema=reader.schema)
        pending.clear()
        con.register(view, table)
        try:
            (total,), = con.execute(sql).fetchall()
        finally:
            con.unregister(view)
        return table, int(total)

    rows = size = 0
    for batch in reader:
        pending.append(batch)
        rows += batch.num_rows
        size += batch.nbytes
        if rows >= rows_per_group or size >= bytes_per_group:
            yield group()
            rows = size = 0
    if pending:
        yield group()
