"""How the S3 head parses its objects: an element's columns from a sample of its first object, and
the pyarrow options that read every object of the element as exactly those columns.

A sample is one ranged GET (``sample_range``): the last 64 KiB of a Parquet object (its footer;
a longer footer takes a second GET), or the first 64 KiB of a CSV/TSV or JSON object (decompressed
when the object is). ``layout`` turns a sample into a ``Layout``: the pyarrow file format that
reads the objects, and the Arrow schema the reads return — found by parsing the sample with that
very format, so the catalog's ``columns`` and every read agree by construction. ATTACH samples
each element once; a read samples the first object again (data is live) or, for a small object
read whole, takes the same first bytes of the body it fetched.

* CSV/TSV: DuckDB's sniffer, exactly as the files head sniffs a local file
  (``hydra.heads.files.sniff_csv``, on the sample written to a private temporary file), gives
  the dialect, header and column types; pyarrow parses with them (DuckDB's null, boolean and
  date-format conventions included). A file of the same bytes has the same columns under both
  heads.
* JSON Lines: pyarrow's inference on the sample, then pinned (an explicit schema) so that a later
  block cannot change a type; fields the sample did not show are still read (appended).
* JSON arrays (a ``.json`` holding ``[…]``): the records of the sample, as pyarrow builds them.
* Parquet: the footer's schema; a single file's row count is exact.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hydra.heads.base import HeadError
from hydra.heads.files.head import SAMPLE_BYTES, CsvSniff, estimate_rows, sniff_csv

if TYPE_CHECKING:
    import pyarrow as pa

FOOTER_BYTES = 64 << 10  # pyarrow's own first footer read is 64 KiB too
_ISO_DATE = "%Y-%m-%d"
# what DuckDB's CSV reader accepts as booleans (checked against DuckDB by the tests)
TRUE_VALUES = [v for w in ("true", "t", "yes", "y") for v in (w, w.upper(), w.title())] + ["1"]
FALSE_VALUES = [v for w in ("false", "f", "no", "n") for v in (w, w.upper(), w.title())] + ["0"]


@dataclass
class Layout:
    """How every object of one element is read, and what the reads return."""

    fmt: str  # 'csv', 'tsv', 'parquet' or 'json'
    schema: pa.Schema  # the columns a read returns (partition columns not included)
    file_format: Any = None  # the pyarrow.dataset FileFormat of the objects (None for JSON arrays)
    casts: dict[str, Any] = field(default_factory=dict)  # column -> Arrow type it is converted to
    # after parsing (dates written in a non-ISO format: parsed as timestamps)
    json_array: bool = False  # a .json object holding one array of records
    row_count: int | None = None
    row_count_exact: bool = False
    warning: str | None = None  # a reading that may lose data, for ``elements.error``


def sample_range(fmt: str) -> str:
    """The HTTP Range of an object's sample."""
    return f"bytes=-{FOOTER_BYTES}" if fmt == "parquet" else f"bytes=0-{SAMPLE_BYTES - 1}"


def footer_length(tail: bytes) -> int:
    """Bytes at the end of a Parquet object that hold its footer (metadata, length, magic)."""
    if len(tail) < 8 or tail[-4:] != b"PAR1":
        raise HeadError("not a Parquet file (no PAR1 magic at its end)")
    return int.from_bytes(tail[-8:-4], "little") + 8


def layout(fmt: str, compression: str | None, raw: bytes, size: int | None, sniffer: CsvSniffer,
           whole: bool = False) -> Layout:
    """The layout of an element from the sample ``raw`` of its first object (``size`` bytes in all;
    ``whole``: ``raw`` is the entire object, as a small object's read fetches it)."""
    if fmt == "parquet":
        return _parquet_layout(raw)
    sample, complete = text_sample(raw, compression, whole or (size is not None and len(raw) >= size))
    if fmt == "json":
        found = _json_layout(sample, complete)
        if not compression and not found.json_array and size is not None:
            found.row_count = estimate_rows(raw[:SAMPLE_BYTES], size, False)
        return found
    found = _csv_layout(fmt, sample, sniffer)
    if not compression and size is not None:
        found.row_count = estimate_rows(raw[:SAMPLE_BYTES], size, True)
    return found


def text_sample(raw: bytes, compression: str | None, complete: bool) -> tuple[bytes, bool]:
    """The first ``SAMPLE_BYTES`` of an object's text, cut after its last whole line unless it is
    the whole object; and whether it is."""
    if compression:
        raw, complete = _decompress_start(raw, compression, complete)
    if len(raw) > SAMPLE_BYTES:
        raw, complete = raw[:SAMPLE_BYTES], False
    if not complete:
        cut = raw.rfind(b"\n")
        if cut >= 0:
            raw = raw[: cut + 1]
    return raw, complete


def _decompress_start(data: bytes, compression: str, complete: bool) -> tuple[bytes, bool]:
    """Up to SAMPLE_BYTES + 1 bytes decompressed from the start of a (possibly cut) stream."""
    import pyarrow as pa

    out = bytearray()
    stream = pa.CompressedInputStream(pa.BufferReader(data), compression)
    try:
        while len(out) <= SAMPLE_BYTES:
            chunk = stream.read(16 << 10)
            if not chunk:
                return bytes(out), complete
            out += chunk
    except (OSError, pa.ArrowInvalid):  # the cut end of the stream: keep what came before it
        if not out:
            raise
        return bytes(out), False
    return bytes(out), False


def decompress(data: bytes, compression: str | None) -> bytes:
    """A whole compressed object's content."""
    if not compression:
        return data
    import pyarrow as pa

    return pa.input_stream(pa.BufferReader(data), compression=compression).read()


# -- Parquet ----------------------------------------------------------------------------------------


def _parquet_layout(tail: bytes) -> Layout:
    """The layout from an object's end (the caller fetched at least ``footer_length`` bytes)."""
    import pyarrow as pa
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(pa.BufferReader(tail))  # the footer is all it reads
        schema, rows = parquet.schema_arrow, parquet.metadata.num_rows
    except Exception as exc:  # noqa: BLE001 - pyarrow's errors are plain
        raise HeadError(f"not a readable Parquet file: {_first_line(exc)}") from None
    return Layout("parquet", schema, ds.ParquetFileFormat(), row_count=rows, row_count_exact=True)


# -- CSV --------------------------------------------------------------------------------------------

# the Arrow type pyarrow parses each type DuckDB's sniffer gives (its candidates; anything else is
# read as text)
_SNIFFED = {
    "BOOLEAN": "bool_", "BIGINT": "int64", "DOUBLE": "float64", "DATE": "date32", "VARCHAR": "string",
}


def _arrow_of(sniffed_type: str):
    import pyarrow as pa

    t = sniffed_type.upper()
    if t == "TIME":
        return pa.time64("us")
    if t == "TIMESTAMP":
        return pa.timestamp("us")
    if t in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"):
        return pa.timestamp("us", tz="UTC")
    return getattr(pa, _SNIFFED.get(t, "string"))()


def csv_format(sniffed: CsvSniff) -> tuple[Any, dict[str, Any]]:
    """The pyarrow CSV file format that parses as DuckDB would with this sniff, and the columns
    converted after parsing (dates in a non-ISO format)."""
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.dataset as ds

    if sniffed.comment:
        raise HeadError(f"comment lines (starting with {sniffed.comment!r}) are not supported in S3 CSV objects")
    if len(sniffed.delimiter) != 1:
        raise HeadError(f"the delimiter {sniffed.delimiter!r} is longer than one character")
    types: dict[str, Any] = {}
    casts: dict[str, Any] = {}
    parsers: list = []
    for column in sniffed.columns:
        arrow = _arrow_of(column.type)
        if pa.types.is_date32(arrow) and sniffed.date_format not in (None, _ISO_DATE):
            arrow, casts[column.name] = pa.timestamp("s"), arrow
            if sniffed.date_format not in parsers:
                parsers.append(sniffed.date_format)
        elif pa.types.is_timestamp(arrow):
            wanted = sniffed.timestamp_format or pcsv.ISO8601
            if wanted not in parsers:
                parsers.insert(0, wanted)
        types[column.name] = arrow
    quote = sniffed.quote or False
    escape = sniffed.escape if sniffed.escape and sniffed.escape != sniffed.quote else False
    file_format = ds.CsvFileFormat(
        read_options=pcsv.ReadOptions(column_names=[c.name for c in sniffed.columns],
                                      skip_rows=sniffed.skip_rows + bool(sniffed.header),
                                      block_size=8 << 20),
        parse_options=pcsv.ParseOptions(delimiter=sniffed.delimiter, quote_char=quote,
                                        double_quote=bool(quote) and not escape, escape_char=escape,
                                        newlines_in_values=bool(quote)),
        convert_options=pcsv.ConvertOptions(column_types=types, null_values=[""], strings_can_be_null=True,
                                            quoted_strings_can_be_null=True, true_values=TRUE_VALUES,
                                            false_values=FALSE_VALUES, timestamp_parsers=parsers or None),
    )
    return file_format, casts


def _csv_layout(fmt: str, sample: bytes, sniffer: CsvSniffer) -> Layout:
    import pyarrow as pa

    sniffed = sniffer(sample)
    file_format, casts = csv_format(sniffed)
    # every column's type is given to the parser: the schema of a read is known without one
    types = file_format.default_fragment_scan_options.convert_options.column_types
    schema = pa.schema([pa.field(c.name, types[c.name]) for c in sniffed.columns])
    return Layout(fmt, schema, file_format, casts, warning=sniffed.warning)


class CsvSniffer:
    """DuckDB's CSV sniffer for samples held in memory: each is written to a private temporary
    file (DuckDB reads files; nothing else is kept) and sniffed as the files head sniffs. Callable
    from several threads at once, each with its own cursor."""

    def __init__(self):
        self._con = None
        self._folder = None
        self._local = threading.local()
        self._lock = threading.Lock()

    def __call__(self, sample: bytes) -> CsvSniff:
        with self._lock:
            if self._con is None:
                import duckdb

                # one thread per sniff: a sample is small, and ATTACH sniffs many in parallel
                self._con = duckdb.connect(config={"threads": 1})
                self._folder = tempfile.mkdtemp(prefix="hydra-s3-sniff-")  # mode 0700
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._local.cursor = self._con.cursor()
        fd, path = tempfile.mkstemp(suffix=".csv", dir=self._folder)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(sample)
            return sniff_csv(cursor, path, lenient_hint=False)
        except HeadError:
            raise
        except Exception as exc:  # noqa: BLE001 - DuckDB's sniffer errors are plain
            raise HeadError(f"the CSV sniffer could not read it: {_first_line(exc)}") from None
        finally:
            os.unlink(path)

    def close(self) -> None:
        import shutil

        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None
            if self._folder:
                shutil.rmtree(self._folder, ignore_errors=True)
                self._folder = None


# -- JSON -------------------------------------------------------------------------------------------


def _json_layout(sample: bytes, complete: bool) -> Layout:
    import pyarrow as pa
    import pyarrow.dataset as ds
    import pyarrow.json as pjson

    if sample.lstrip()[:1] == b"[":
        records = _array_records(sample, complete)
        return Layout("json", records_table(records).schema, json_array=True)
    inferred = pjson.read_json(pa.BufferReader(sample)).schema
    # fields the sample holds only nulls of are left to inference (pyarrow cannot pin a null type)
    pinned = pa.schema([f for f in inferred if not pa.types.is_null(f.type)])
    file_format = ds.JsonFileFormat(
        parse_options=pjson.ParseOptions(explicit_schema=pinned, unexpected_field_behavior="infer"),
        read_options=pjson.ReadOptions(block_size=8 << 20))
    return Layout("json", read_buffer(file_format, sample, {}).schema, file_format)


def _array_records(sample: bytes, complete: bool) -> list:
    """The records of a JSON array's first bytes (all of them when the sample is complete)."""
    text = sample.decode("utf-8", errors="replace")
    if complete:
        data = json.loads(text)
        return data if isinstance(data, list) else [data]
    decoder, records = json.JSONDecoder(), []
    at = text.index("[") + 1
    while True:
        while at < len(text) and text[at] in " \t\r\n,":
            at += 1
        if at >= len(text) or text[at] == "]":
            return records
        try:
            record, at = decoder.raw_decode(text, at)
        except ValueError:  # the record the sample cuts
            return records
        records.append(record)


def records_table(records: list) -> pa.Table:
    """JSON records (objects; other values as ``value``) as a table, types inferred by pyarrow."""
    import pyarrow as pa

    return pa.Table.from_pylist([r if isinstance(r, dict) else {"value": r} for r in records])


def read_json_array(data: bytes, schema: pa.Schema | None) -> pa.Table:
    """A whole JSON array object, its sampled fields pinned to the sample's types where they convert."""
    text = json.loads(data)
    table = records_table(text if isinstance(text, list) else [text])
    if schema is None:
        return table
    for i, f in enumerate(table.schema):
        wanted = schema.field(f.name).type if f.name in schema.names else None
        if wanted is not None and wanted != f.type:
            try:
                table = table.set_column(i, f.name, table.column(i).cast(wanted))
            except Exception:  # noqa: BLE001 - values the sample's type cannot hold: as inferred
                pass
    return table


# -- reading ----------------------------------------------------------------------------------------


def read_buffer(file_format, data: bytes, casts: dict[str, Any]) -> pa.Table:
    """Bytes parsed as a whole with a layout's file format, conversions applied. (pyarrow's plain
    readers: a dataset fragment over the same buffer parses alike but costs milliseconds more,
    which is most of the cost of a small object.)"""
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.dataset as ds
    import pyarrow.json as pjson
    import pyarrow.parquet as pq

    # one thread: the buffer is small, and many are parsed at once
    buffer = pa.py_buffer(data)
    if isinstance(file_format, ds.ParquetFileFormat):
        return pq.ParquetFile(pa.BufferReader(buffer)).read(use_threads=False)  # (not pq.read_table:
        # a dataset, ~2 ms more)
    options = file_format.default_fragment_scan_options
    read_options = options.read_options
    if isinstance(file_format, ds.JsonFileFormat):
        return pjson.read_json(buffer, read_options=pjson.ReadOptions(use_threads=False,
                                                                      block_size=read_options.block_size),
                               parse_options=options.parse_options)
    read_options = pcsv.ReadOptions(use_threads=False, block_size=read_options.block_size,
                                    skip_rows=read_options.skip_rows, column_names=read_options.column_names)
    table = pcsv.read_csv(buffer, read_options=read_options, parse_options=file_format.parse_options,
                          convert_options=options.convert_options)
    return convert(table, casts)


def convert(table_or_batch, casts: dict[str, Any]):
    """Apply a layout's conversions to a table or record batch."""
    if not casts:
        return table_or_batch
    names = table_or_batch.schema.names
    for name, arrow_type in casts.items():
        if name in names:
            i = names.index(name)
            table_or_batch = table_or_batch.set_column(i, name, table_or_batch.column(i).cast(arrow_type))
    return table_or_batch


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
