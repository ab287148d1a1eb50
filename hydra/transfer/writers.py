"""Part writers: Arrow record batches in, ``part-NNNNN.<ext>`` files out (Parquet, CSV, JSON Lines).

Batches arrive from DuckDB with two extra columns Hydra adds to the extraction query:
``__hydra_hash`` (the row's 64-bit hash, summed into the element's checksum on the way) and, for
JSON Lines, ``__hydra_line`` (the row as one JSON line, formatted by DuckDB; see
``json_line_value``) — or straight from a head's reader with the sum of their hashes beside them
(``direct``). Every part is written through a ``HashingWriter``, so its SHA-256 and size are known
when it closes without reading it again. A task (one reader of an element, ``hydra.transfer.task``)
has its own ``ElementSink``, which names its parts ``part-<task>-<n>`` (``part-<n>`` when the
element is read by one task): the names depend on nothing but the task, so the same task run
twice, anywhere, writes the same files.
"""

from __future__ import annotations

import threading
import urllib.parse

from hydra.core.errors import HydraError
from hydra.transfer.common import CHECKSUM_MOD, is_float, q

HASH = "__hydra_hash"
LINE = "__hydra_line"
FORMATS = ("parquet", "csv", "jsonl")
COMPRESSIONS = {
    "parquet": ("zstd", "snappy", "gzip", "lz4", "brotli", "none"),
    "csv": ("none", "gzip", "zstd"),
    "jsonl": ("none", "gzip", "zstd"),
}
DEFAULT_COMPRESSION = {"parquet": "zstd", "csv": "none", "jsonl": "none"}
TEXT_SUFFIX = {"none": "", "gzip": ".gz", "zstd": ".zst"}


DICTIONARY_PAGE_BYTES = 64 * 1024


def dictionary_columns(schema) -> list[str] | bool:
    """The columns worth dictionary encoding in Parquet: text and binary ones, where a column of few
    distinct values (codes, categories) shrinks most. Numbers, dates, timestamps and booleans are
    written plain (zstd still compresses their repeats): building a dictionary per column chunk
    only to give it up cost the most on wide tables — 200k rows of 150 mixed columns
    (bench_sql_shapes.py's wide table), dictionaries everywhere 1.25 CPU-s and 78.9 MB, on the
    text columns only 0.87 CPU-s and 67.7 MB; 1M CSV-like rows 0.37 → 0.36 CPU-s, 25.7 → 25.1 MB."""
    import pyarrow as pa

    t = pa.types
    names = [f.name for f in schema if t.is_string(f.type) or t.is_large_string(f.type) or t.is_binary(f.type)
             or t.is_large_binary(f.type) or (isinstance(f.type, pa.BaseExtensionType)
                                              and t.is_string(f.type.storage_type))]
    return names or False


def extension(fmt: str, compression: str) -> str:
    if fmt == "parquet":
        return ".parquet"
    return f".{fmt}{TEXT_SUFFIX[compression]}"


class Progress:
    """Counters a progress display reads (plain ints: updated under the GIL)."""

    def __init__(self, total_rows: int | None = None):
        self.rows = 0
        self.bytes = 0
        self.total_rows = total_rows
        self.snapshot_held = None  # seconds the source has held the element's snapshot, if it holds one

    def add(self, rows: int, size: int) -> None:
        self.rows += rows
        self.bytes += size


class ElementSink:
    """The parts of one element: numbering, and the list of closed files with their SHA-256."""

    def __init__(self, target, staging: str, fmt: str, compression: str, rows_per_file: int | None,
                 partition_by: str | None, progress: Progress | None = None, task: str = ""):
        self.target, self.staging = target, staging
        self.stem = f"part-{task}-" if task else "part-"  # every part's name starts so
        self.fmt, self.compression = fmt, compression
        self.rows_per_file = rows_per_file or None
        self.partition_by = partition_by
        self.progress = progress or Progress()
        self.files: list[dict] = []
        self._next = 0
        self._lock = threading.Lock()

    def part_name(self, folder: str) -> str:
        with self._lock:
            index = self._next
            self._next += 1
        name = f"{self.stem}{index:05d}{extension(self.fmt, self.compression)}"
        return f"{folder}/{name}" if folder else name

    def closed(self, info: dict) -> None:
        with self._lock:
            self.files.append(info)

    def task(self) -> TaskWriter:
        return TaskWriter(self)

    def empty_part(self, schema) -> None:
        """One part with no rows (but the columns), for an element with no rows."""
        schema = schema.remove(schema.get_field_index(HASH)) if HASH in schema.names else schema
        if LINE in schema.names:
            schema = schema.remove(schema.get_field_index(LINE))
        _Part(self, "", schema, None).close()


class _Part:
    def __init__(self, sink: ElementSink, folder: str, schema, partition: str | None):
        import pyarrow as pa

        self.sink = sink
        self.name = sink.part_name(folder)
        self.partition = partition
        self.rows = 0
        self.out = sink.target.open_part(sink.staging, self.name)
        self._written = 0
        if sink.fmt == "parquet":
            import pyarrow.parquet as pq

            codec = "none" if sink.compression == "none" else sink.compression
            # A small dictionary page makes high-cardinality columns (ids, hashes, timestamps) give
            # up dictionary encoding early instead of building a 1 MiB dictionary per column chunk
            # first: measured on 10M CSV rows, 9.5 -> 8.1 CPU-s and a smaller file.
            self.writer = pq.ParquetWriter(self.out, schema, compression=codec,
                                           use_dictionary=dictionary_columns(schema),
                                           dictionary_pagesize_limit=DICTIONARY_PAGE_BYTES)
            self.stream = None
        else:
            stream = pa.PythonFile(self.out, mode="w")
            if sink.compression != "none":
                stream = pa.CompressedOutputStream(stream, sink.compression)
            self.stream = stream
            if sink.fmt == "csv":
                import pyarrow.csv as pacsv

                self.writer = pacsv.CSVWriter(stream, schema)
            else:
                self.writer = None

    def write(self, batch, lines) -> None:
        if self.sink.fmt == "jsonl":
            self.stream.write("".join(lines.to_pylist()).encode("utf-8"))
        else:
            self.writer.write(batch)  # a record batch or a table
        self.rows += batch.num_rows if batch is not None else len(lines)
        size = self.out.size
        self.sink.progress.add(batch.num_rows if batch is not None else len(lines), size - self._written)
        self._written = size

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        if self.stream is not None:
            self.stream.close()
        self.out.close()
        self.sink.progress.add(0, self.out.size - self._written)
        self.sink.closed({"path": self.name, "rows": self.rows, "bytes": self.out.size,
                          "sha256": self.out.sha.hexdigest(), "partition": self.partition})


class TaskWriter:
    """Writes the batches of one reader of an element; sums the checksum as they pass."""

    def __init__(self, sink: ElementSink):
        self.sink = sink
        self.rows = 0
        self.checksum = 0
        self._parts: dict[str | None, _Part] = {}
        self._schema = None

    def write(self, batch, hash_sum: int | None = None) -> None:
        """Write a batch (or table) of rows: either with its ``__hydra_hash`` column, or without
        it and with the sum of its rows' hashes given."""
        import pyarrow.compute as pc

        if batch.num_rows == 0:
            return
        if hash_sum is None:
            hash_sum = pc.sum(batch.column(HASH)).as_py() or 0
        self.checksum = (self.checksum + hash_sum) % CHECKSUM_MOD
        self.rows += batch.num_rows
        data = batch.drop_columns([c for c in (HASH, LINE) if c in batch.schema.names])
        if self._schema is None:
            self._schema = data.schema
        lines = batch.column(LINE) if LINE in batch.schema.names else None
        column = self.sink.partition_by
        if not column:
            self._write_rows(None, "", data, lines)
            return
        values = data.column(column)
        for value in pc.unique(values).to_pylist():
            mask = pc.is_null(values) if value is None else pc.fill_null(pc.equal(values, value), False)
            folder = partition_folder(column, value)
            self._write_rows(folder, folder, data.filter(mask), None if lines is None else lines.filter(mask))

    def _write_rows(self, key, folder, data, lines) -> None:
        start = 0
        while start < data.num_rows:
            part = self._parts.get(key)
            if part is None:
                part = self._parts[key] = _Part(self.sink, folder, self._write_schema(), key)
            room = data.num_rows - start
            if self.sink.rows_per_file:
                room = min(room, self.sink.rows_per_file - part.rows)
            chunk = data.slice(start, room)
            part.write(chunk if self.sink.fmt != "jsonl" else chunk,
                       None if lines is None else lines.slice(start, room))
            start += room
            if self.sink.rows_per_file and part.rows >= self.sink.rows_per_file:
                part.close()
                del self._parts[key]

    def _write_schema(self):
        return self._schema

    def close(self) -> None:
        errors = []
        for part in list(self._parts.values()):
            try:
                part.close()
            except Exception as err:  # noqa: BLE001 - close every part, report the first failure
                errors.append(err)
        self._parts.clear()
        if errors:
            raise errors[0]

    def abandon(self) -> None:
        """Close open parts after a failure, without recording them."""
        for part in list(self._parts.values()):
            try:  # first: closing the writer may close its file, which must not keep the part
                part.out.discard()
            except Exception:  # noqa: BLE001 - the parts are deleted with the staging folder
                pass
            for closable in (part.writer, part.stream):
                try:
                    if closable is not None:
                        closable.close()
                except Exception:  # noqa: BLE001 - as above
                    pass
        self._parts.clear()


def json_line_value(name: str, type_: str) -> str:
    """The SQL for a column's value inside a JSON line (``to_json(struct_pack(…))``).

    JSON has neither NaN nor infinities: a floating-point one is written as the string "NaN",
    "Infinity" or "-Infinity" (DuckDB reads those back as the number). A JSON value is written as a
    string holding its exact text: nested, DuckDB would rewrite it ('2.50' as 2.5, whitespace
    dropped) and a JSON null would come back as SQL NULL."""
    column = q(name)
    if is_float(type_):
        special = (f"CASE WHEN isnan({column}) THEN 'NaN' WHEN {column} > 0 THEN 'Infinity' "
                   f"ELSE '-Infinity' END")
        return f"CASE WHEN {column} IS NULL OR isfinite({column}) THEN to_json({column}) ELSE to_json({special}) END"
    as_text = {"JSON": "VARCHAR", "JSON[]": "VARCHAR[]"}.get(type_.upper().strip())
    return f"CAST({column} AS {as_text})" if as_text else column


def json_line_read_type(type_: str) -> str:
    """The type to read a column of a JSON line as, before the cast to its own type: JSON values
    are strings of their text (``json_line_value``), BLOBs DuckDB's escaped text."""
    t = type_.upper().strip()
    return {"JSON": "VARCHAR", "JSON[]": "VARCHAR[]", "BLOB": "VARCHAR"}.get(t, type_)


def partition_folder(column: str, value) -> str:
    from hydra.transfer.common import safe_segment

    text = "__HIVE_DEFAULT_PARTITION__" if value is None else urllib.parse.quote(str(value), safe="")
    return f"{safe_segment(column)}={text}"


def check_format(fmt: str, compression: str | None) -> tuple[str, str]:
    fmt = (fmt or "parquet").lower()
    if fmt in ("json", "ndjson"):
        fmt = "jsonl"
    if fmt not in FORMATS:
        raise HydraError(f"EXTRACT: FORMAT is one of {', '.join(FORMATS)}, not {fmt!r}")
    compression = (compression or DEFAULT_COMPRESSION[fmt]).lower()
    if compression in ("uncompressed", "off", "false"):
        compression = "none"
    if compression == "zst":
        compression = "zstd"
    if compression not in COMPRESSIONS[fmt]:
        raise HydraError(f"EXTRACT: COMPRESSION for {fmt} is one of {', '.join(COMPRESSIONS[fmt])}")
    return fmt, compression


def not_for_parquet(type_: str) -> bool:
    """Types pyarrow cannot write to Parquet: written as DuckDB's text, read back with a cast."""
    t = type_.upper()
    return (t in ("INTERVAL", "BIT", "BIGNUM", "VARINT") or t.startswith("UNION")
            or t in ("TIME WITH TIME ZONE", "TIMETZ"))
