"""The files head — the model head. Read this one first when you write a new head.

``ATTACH 'data/' AS f`` makes every CSV/TSV/delimited, Parquet, JSON and JSON Lines file under the
folder (recursively, plain or .gz/.zst) an element whose ref is ``f."<path relative to the folder>"``.
A glob (``'exports/**/*.csv'``) or a single file works too.

Listing is cheap: ``hydra.messycsv`` detects each CSV's dialect and structure from samples
(``csv_files``), Parquet row counts come from the footer (exact), and nothing is read in full. A file
that cannot be parsed is still listed, with its error. Reads are DuckDB-native
(``read_csv``/``read_parquet``/``read_json``), so DuckDB does its own pushdown and parallel parsing,
except for a CSV DuckDB would not read exactly: that one is read record by record, every line loaded,
rejected (the ``rejects`` table) or counted as skipped, and ``accounting`` proves it after a whole read.
A compressed CSV keeps DuckDB's sniffer and reader, and ``count`` counts its rows with pyarrow's
parser, so that a reader that skips rows is caught.
"""

from __future__ import annotations

import glob
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable

from hydra.core.errors import HydraError, one_line
from hydra.core.model import Column, Element
from hydra.core.sqltext import q, sql_string
from hydra.heads.base import Head, HeadError, Option, Qual
from hydra.heads.files import csv_files

# extension -> element kind; compressed variants add .gz / .zst / .zstd
FORMATS = {
    ".csv": "csv", ".tsv": "csv", ".tab": "csv", ".psv": "csv", ".dsv": "csv",
    ".parquet": "parquet", ".pq": "parquet",
    ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl",
}
COMPRESSIONS = {".gz": "gzip", ".gzip": "gzip", ".zst": "zstd", ".zstd": "zstd"}
GLOB_CHARS = "*?["
SAMPLE_BYTES = 64 * 1024  # read to estimate CSV/JSONL row counts from the average line length


def file_format(path: str) -> tuple[str, str | None] | None:
    """(kind, compression) of a file from its name, or None when it is not a data file."""
    stem, ext = os.path.splitext(path.lower())
    compression = COMPRESSIONS.get(ext)
    if compression:
        stem, ext = os.path.splitext(stem)
    kind = FORMATS.get(ext)
    return (kind, compression) if kind else None


class FilesHead(Head):
    kind = "files"
    schemes = ("file",)
    attach_options = (
        Option("LENIENT", bool, help="read CSV rows that do not fit the sniffed layout as far as they "
                                     "can be, instead of failing (RECONCILE then counts what was skipped)"),
        Option("WORKERS", int, help="files sniffed at once while listing (default: twice the cores, at most 8)"),
        *csv_files.ATTACH_OPTIONS,
    )
    path_parts = True

    @classmethod
    def claims_path(cls, uri: str) -> bool:
        # every scheme-less path but a file of a format it cannot read (so that a missing folder
        # gets this head's clear "not found" rather than "no head can attach")
        return not os.path.isfile(uri) or file_format(uri) is not None

    def __init__(self, name, uri, options=None):
        super().__init__(name, uri.removeprefix("file://"), options)
        self.lenient = self.option("LENIENT", False)
        self.csv = csv_files.CsvFiles(self.options)  # checks the CSV options: a bad one fails ATTACH
        self._con = None
        self._opened = False
        self._con_lock = threading.Lock()

    @classmethod
    def refresh_options(cls, stored: dict[str, str], given: dict[str, str]) -> dict[str, str]:
        return csv_files.merge_refresh(stored, given)

    # -- life cycle -----------------------------------------------------------------------------

    def open(self) -> None:
        path = os.path.expanduser(self.uri)
        if any(ch in path for ch in GLOB_CHARS):
            self.root, self.pattern = _glob_root(path), os.path.abspath(path)
            if not os.path.isdir(self.root):
                raise HeadError(f"folder not found: {self.root}")
        elif os.path.isdir(path):
            self.root, self.pattern = os.path.abspath(path), None
        elif os.path.isfile(path):
            self.root, self.pattern = os.path.dirname(os.path.abspath(path)), os.path.abspath(path)
        else:
            raise HeadError(f"folder or file not found: {path}")
        self._opened = True

    @classmethod
    def holds(cls, uri: str, target: str) -> bool:
        """A target inside the attached folder, or inside a pattern's folder (``**`` reaches
        every folder below it); an attached single file holds no folder."""
        if "://" in target:
            return False
        path = os.path.expanduser(uri.removeprefix("file://"))
        if any(ch in path for ch in GLOB_CHARS):
            folder = _glob_root(path)
        elif os.path.isfile(path):
            return False
        else:
            folder = os.path.abspath(path)
        folder, target = os.path.realpath(folder), os.path.realpath(target)
        return target == folder or target.startswith(folder.rstrip(os.sep) + os.sep)

    def _private(self):
        """A private DuckDB (sniffing never touches the workspace), made on first use: a DuckDB
        instance costs 20-26 ms of CPU to make, and an EXTRACT of a CSV reads through a DuckDB
        of its own (``transfer.task``) without ever sniffing here."""
        with self._con_lock:
            if self._con is None:
                if not self._opened:
                    raise HydraError(f"source {self.name} is not open")
                import duckdb

                self._con = duckdb.connect()
            return self._con

    def close(self) -> None:
        self._opened = False
        if self._con is not None:
            self._con.close()
            self._con = None

    # -- catalog --------------------------------------------------------------------------------

    def _paths(self) -> list[str]:
        if self.pattern:
            return sorted(p for p in glob.glob(self.pattern, recursive=True) if os.path.isfile(p))
        found = []
        for folder, dirs, files in os.walk(self.root):
            dirs.sort()
            found.extend(os.path.join(folder, f) for f in sorted(files))
        return found

    def enumerate(self) -> Iterable[Element]:
        paths = [(p, fmt) for p in self._paths() if (fmt := file_format(p))]
        # DuckDB releases the GIL while sniffing, so a few threads with their own cursors overlap
        # the file I/O and parsing of many small files.
        workers = self.option("WORKERS") or min(8, (os.cpu_count() or 2) * 2)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            cursors = {}

            def describe(item):
                import threading

                cur = cursors.setdefault(threading.get_ident(), self._private().cursor())
                return self._describe(cur, *item)

            yield from pool.map(describe, paths)

    def _describe(self, cur, path: str, fmt: tuple[str, str | None]) -> Element:
        kind, compression = fmt
        stat = os.stat(path)
        element = Element(
            parts=(os.path.relpath(path, self.root).replace(os.sep, "/"),),
            kind=kind,
            path=path,
            size_bytes=stat.st_size,
            modified_at=datetime.fromtimestamp(stat.st_mtime, tz=timezone.utc),
        )
        try:
            if kind == "parquet":
                element.row_count = cur.execute(
                    "SELECT sum(num_rows) FROM parquet_file_metadata(?)", [path]
                ).fetchone()[0]
                element.row_count_exact = True
                element.columns = self._columns(cur, element)
            elif kind == "csv" and not compression:
                self.csv.describe(element, element.parts[0])
                element.row_count = _estimate_rows(path, stat.st_size, True)
            elif kind == "csv":
                sniffed = sniff_csv(cur, path, self._csv_options())
                element.columns = sniffed.columns
                element.error = sniffed.warning
            else:
                element.columns = self._columns(cur, element)
                if kind == "jsonl" and not compression:
                    element.row_count = _estimate_rows(path, stat.st_size, False)
        except Exception as err:  # noqa: BLE001 - any parse failure is reported on the element
            element.error = one_line(err)
        return element

    def _columns(self, cur, element: Element) -> list[Column]:
        rows = cur.execute(f"DESCRIBE SELECT * FROM {self.scan_sql(element)}").fetchall()
        return [Column(name, type_, nullable=(null != "NO")) for name, type_, null, *_ in rows]

    def schema(self, element: Element) -> list[Column]:
        if self._messy(element):
            self.csv.describe(element, element.parts[0])
            return element.columns
        return self._columns(self._private().cursor(), element)

    # -- data -----------------------------------------------------------------------------------

    def _csv_options(self) -> str:
        return ", strict_mode=false, null_padding=true, ignore_errors=true" if self.lenient else ""

    def scan_sql(self, element: Element) -> str:
        path = sql_string(element.path)
        if element.kind == "parquet":
            return f"read_parquet({path})"
        if self._messy(element):
            return self.csv.scan_sql(element.path, element.parts[0])
        if element.kind == "csv":
            return f"read_csv({path}{self._csv_options()})"
        if element.kind == "jsonl":
            return f"read_json({path}, format='newline_delimited')"
        return f"read_json({path})"

    @staticmethod
    def _messy(element: Element) -> bool:
        """Read through hydra.messycsv: an uncompressed CSV."""
        return element.kind == "csv" and file_format(element.path)[1] is None

    def reads_every_row(self, element: Element) -> bool:
        # DuckDB's strict CSV reader fails on a row it cannot read; ignore_errors (LENIENT) drops it;
        # hydra.messycsv loads or rejects every line, and ``accounting`` proves it
        return not (self.lenient and element.kind == "csv") or self._messy(element)

    def accounting(self, element: Element, rows: int) -> dict | None:
        if not self._messy(element):
            return None
        return self.csv.accounting(element.path, element.parts[0], rows)

    def fall_back(self, element: Element) -> bool:
        return self._messy(element) and self.csv.fall_back(element.path, element.parts[0])

    def count(self, element: Element) -> tuple[int, str] | None:
        """Rows counted without DuckDB's readers: the Parquet footers (written by the producer),
        pyarrow's CSV parser with the dialect DuckDB's sniffer found (values not decoded, rows
        with a wrong number of fields counted too), the non-blank lines of JSON Lines."""
        if element.kind == "parquet":
            import pyarrow.parquet as pq

            return pq.ParquetFile(element.path).metadata.num_rows, "the Parquet footer, read by pyarrow"
        if element.kind == "csv" and not self._messy(element):  # messy ones: see ``accounting``
            return self._count_csv(element)
        if element.kind == "jsonl":
            return _count_lines(element.path), "non-blank lines"
        return None

    def _count_csv(self, element: Element) -> tuple[int, str] | None:
        import duckdb
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.csv as pacsv

        cur = self._private().cursor()
        try:
            delimiter, quote, escape, comment, skip, header, columns = cur.execute(
                "SELECT Delimiter, Quote, Escape, Comment, SkipRows, HasHeader, len(Columns) "
                f"FROM sniff_csv(?{self._csv_options()})", [element.path]).fetchone()
        except duckdb.Error:
            return None  # no dialect: the file cannot be read either (elements.error says why)
        finally:
            cur.close()
        none = "(empty)"
        quote, escape, comment = (None if v == none else v for v in (quote, escape, comment))
        if len(delimiter) != 1 or len(quote or "") > 1 or len(escape or "") > 1 or len(comment or "") > 1:
            return None  # a dialect pyarrow cannot parse: no independent count
        odd = {"rows": 0}

        def invalid(row) -> str:  # a row with another number of fields than the first: count it
            if not (comment and (row.text or "").startswith(comment)):
                odd["rows"] += 1
            return "skip"

        parse = pacsv.ParseOptions(
            delimiter=delimiter, quote_char=quote or False, double_quote=escape in (None, quote),
            escape_char=escape if escape not in (None, quote) else False, newlines_in_values=quote is not None,
            # DuckDB reads an empty line as a row of NULL only in a file of one column
            ignore_empty_lines=columns > 1, invalid_row_handler=invalid)
        convert = pacsv.ConvertOptions(include_columns=["f0"], column_types={"f0": pa.binary()}, check_utf8=False)
        rows = comments = 0
        with pa.input_stream(element.path, compression=file_format(element.path)[1]) as stream:
            read = pacsv.ReadOptions(skip_rows=skip, autogenerate_column_names=True)
            reader = pacsv.open_csv(stream, read_options=read, parse_options=parse, convert_options=convert)
            for batch in reader:
                rows += batch.num_rows
                if comment:
                    comments += pc.sum(pc.starts_with(batch.column(0).cast(pa.string(), safe=False),
                                                      comment)).as_py() or 0
        rows = rows + odd["rows"] - comments - (1 if header and rows + odd["rows"] else 0)
        return rows, "pyarrow's CSV parser in the sniffed dialect, values not decoded"

    def can_filter(self, element: Element, qual: Qual) -> bool:
        # read() hands the Quals to DuckDB itself, which applies any of them exactly; a CSV read
        # record by record (hydra.messycsv) filters nothing, and DuckDB applies them after
        return not self._messy(element)

    def read(self, element, columns=None, quals=None, limit=None):
        """Arrow stream of the element, for callers that want batches rather than a DuckDB scan."""
        from hydra.core.quals import to_sql

        if not self._opened:
            raise HydraError(f"source {self.name} is not open")
        if self._messy(element):
            return self.csv.reader(element.path, element.parts[0], columns, limit)
        select = ", ".join(q(c) for c in columns) if columns else "*"
        sql = f"SELECT {select} FROM {self.scan_sql(element)}"
        if quals:
            sql += f" WHERE {to_sql(quals, 'duckdb')}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return self._private().cursor().sql(sql).to_arrow_reader()


def _count_lines(path: str) -> int:
    """Non-blank lines of a (possibly compressed) text file, read in blocks."""
    import pyarrow as pa

    count, tail = 0, b""
    with pa.input_stream(path, compression=file_format(path)[1]) as stream:
        while True:
            block = stream.read(1 << 20)
            if not block:
                break
            lines = (tail + block).split(b"\n")
            tail = lines.pop()
            count += sum(1 for line in lines if line.strip())
    return count + (1 if tail.strip() else 0)


@dataclass
class CsvSniff:
    """What DuckDB's CSV sniffer found in a file: its dialect, header and columns (DuckDB types).

    The S3 head sniffs a sample of an object with this same function, and parses the object with
    exactly this dialect and these types (``hydra.heads.s3_formats``).
    """

    columns: list[Column]
    delimiter: str
    quote: str | None  # None: the sniffer saw no quoting
    escape: str | None
    comment: str | None
    skip_rows: int  # lines before the header (or before the data when there is no header)
    header: bool
    date_format: str | None  # strptime formats the sniffer chose for DATE and TIMESTAMP columns
    timestamp_format: str | None
    warning: str | None  # a reading that silently loses data (see _sniff_warning)


def sniff_csv(cur, path: str, options: str = "", lenient_hint: bool = True) -> CsvSniff:
    """DuckDB's ``sniff_csv`` of one local file (``options``: extra read_csv arguments, SQL text;
    ``lenient_hint``: the warning suggests the files head's LENIENT option)."""
    row = cur.execute(
        "SELECT Delimiter, Quote, Escape, Comment, SkipRows, HasHeader, Columns, DateFormat, TimestampFormat "
        f"FROM sniff_csv(?{options})", [path]).fetchall()[0]
    delimiter, quote, escape, comment, skipped, header, columns, date_format, timestamp_format = row

    def given(text):  # the sniffer writes '(empty)' for a character it did not find
        return None if text in (None, "", "(empty)") else text

    found = [Column(c["name"], c["type"]) for c in columns]
    return CsvSniff(found, delimiter, given(quote), given(escape), given(comment), skipped, header,
                    given(date_format), given(timestamp_format), _sniff_warning(found, skipped, lenient_hint))


def _sniff_warning(columns: list[Column], skipped: int, lenient_hint: bool = True) -> str | None:
    """Say when DuckDB's sniffer read a file in a way that silently loses data: rows that disagree
    on their fields make it fall back to one text column, or skip the lines before the last
    consistent block. (A title line above the header is skipped the same way: worth a look too.)"""
    if len(columns) == 1 and any(d in columns[0].name for d in ",;\t|"):
        return ("rows have different numbers of fields (no consistent delimiter)"
                + ("; attach with (LENIENT true) to read it anyway" if lenient_hint else ""))
    if skipped:
        return (f"the CSV sniffer skipped the first {skipped} line{'s' * (skipped != 1)} as not part of "
                "the table (ragged rows or a preamble)"
                + ("; attach with (LENIENT true) to read every row" if lenient_hint else ""))
    return None


def _estimate_rows(path: str, size: int, header: bool) -> int | None:
    with open(path, "rb") as fh:
        return estimate_rows(fh.read(SAMPLE_BYTES), size, header)


def estimate_rows(sample: bytes, size: int, header: bool) -> int:
    """Rows estimated from the average line length of a file's first ``SAMPLE_BYTES`` (exact for
    small files without embedded newlines). ``row_count_exact`` stays False until PROFILE counts them."""
    lines = sample.count(b"\n") + (0 if sample.endswith(b"\n") or not sample else 1)
    if not lines:
        return 0
    if len(sample) < SAMPLE_BYTES:
        return max(lines - header, 0)
    return max(round(size / (len(sample) / lines)) - header, 0)


def _glob_root(pattern: str) -> str:
    """The folder a glob pattern starts from: the path up to its first wildcard's folder."""
    root = pattern[: min(pattern.find(ch) for ch in GLOB_CHARS if ch in pattern)]
    return os.path.abspath(os.path.dirname(root) if not root.endswith(os.sep) else root)
