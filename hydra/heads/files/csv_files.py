"""The files head's delimited files, read through ``hydra.messycsv``: every line loaded, rejected
with its reason, or counted as skipped.

At ATTACH each (uncompressed) CSV's dialect is detected (encoding, delimiter, quote, escape,
preamble, header rows, footer, null tokens, column types) and shown in ``elements.note`` and
``columns.note``. A file DuckDB's native reader reads exactly as ``CsvReader`` would (clean UTF-8,
no preamble, no footer, plain types; ``messycsv.duckdb_options``) keeps the native scan; any other
is read record by record by ``CsvReader``. Either way ``accounting`` proves, after a whole read,
that ``rows loaded + lines rejected + lines skipped = lines in the file``. A native read that fails
(a malformed row the samples did not show: DuckDB is kept strict) makes ``fall_back`` switch the
file to ``CsvReader`` for the rest of the session; PROFILE and EXTRACT then read it again.

The dialect is not stored: it is detected again from the same file and the same options when a
reopened workspace reads the element (deterministic, ~10 ms a file), and cached per file version.
"""

from __future__ import annotations

import codecs
import json
import os
import threading

from hydra.core.errors import StatementError
from hydra.core.model import Column
from hydra.core.options import Option
from hydra.heads.base import HeadError

# ATTACH/REFRESH options that override what the detector finds, and the detect() argument each sets
OPTIONS = {"DELIMITER": "delimiter", "HEADER": "header", "ENCODING": "encoding", "SKIP": "skip",
           "NULLS": "nulls", "QUOTE": "quote", "ESCAPE": "escape", "FOOTER": "footer"}
PER_FILE = "FILE_OPTIONS"  # stored option: per-file overrides as JSON {"<relative path>": {OPTION: value}}
# Below this size a file is read record by record even when clean: deciding the native route reads
# the samples through CsvReader (~20-60 ms a file, measured on small files, 3x detect's cost), more
# than reading a small file that way costs, and only big files gain from DuckDB's parallel reader.
NATIVE_MIN_BYTES = 1 << 20
REJECTS_KEPT = 100_000  # rejects kept per read (raw text ≤ 1000 characters each): bounds memory; all are counted
# declared for ATTACH (checked by the core, shown in its help); values are read by ``overrides``
ATTACH_OPTIONS = (
    Option("DELIMITER", help="CSV field delimiter: one character, or 'tab' (default: detected)"),
    Option("HEADER", help="CSV header rows: 0, 1, 2, true or false (default: detected)"),
    Option("ENCODING", help="CSV encoding, e.g. 'latin-1', 'utf-16' (default: detected)"),
    Option("SKIP", int, help="CSV lines before the header, skipped (default: detected)"),
    Option("NULLS", help="CSV texts read as NULL, comma-separated, e.g. 'n/a,-' (default: detected)"),
    Option("QUOTE", help="CSV quote character, '' for none (default: detected)"),
    Option("ESCAPE", help="CSV escape character inside quotes, e.g. '\\' (default: doubled quotes)"),
    Option("FOOTER", int, help="CSV lines after the data, skipped (default: detected)"),
    Option(PER_FILE, help="per-file CSV options as JSON; REFRESH f (FILE 'x.csv', DELIMITER '|') writes it"),
)
NAMED_CHARACTERS = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|", "space": " ",
                    "none": "", "": ""}


def overrides(options: dict[str, str]) -> dict:
    """detect() keyword arguments from the CSV options given (unknown names ignored); a bad value
    is one clear line."""
    found = {}
    for name, arg in OPTIONS.items():
        if name not in options or options[name] is None:
            continue
        value = str(options[name])
        if arg in ("delimiter", "quote", "escape"):
            char = NAMED_CHARACTERS.get(value.lower(), value)
            if len(char) > 1 or (arg == "delimiter" and not char):
                raise StatementError(f"{name}: one character expected (or 'tab'), got {value!r}")
            found[arg] = char
        elif arg == "header":
            lowered = value.strip().lower()
            count = {"true": 1, "yes": 1, "on": 1, "false": 0, "no": 0, "off": 0}.get(lowered)
            if count is None:
                count = _count(name, value)
                if count > 2:
                    raise StatementError(f"{name}: 0, 1 or 2 header rows (true/false), got {value!r}")
            found[arg] = count
        elif arg in ("skip", "footer"):
            found[arg] = _count(name, value)
        elif arg == "encoding":
            try:
                codecs.lookup(value)
            except LookupError:
                raise StatementError(f"{name}: unknown encoding {value!r}") from None
            found[arg] = value
        else:  # NULLS: comma-separated tokens read as NULL
            found[arg] = [""] + [t.strip() for t in value.split(",") if t.strip()]
    return found


def _count(name: str, value: str) -> int:
    try:
        count = int(value)
    except ValueError:
        count = -1
    if count < 0:
        raise StatementError(f"{name}: a number of lines expected, got {value!r}")
    return count


def per_file(options: dict[str, str]) -> dict[str, dict[str, str]]:
    """The per-file overrides (``REFRESH f (FILE 'x.csv', …)`` writes them)."""
    raw = options.get(PER_FILE)
    try:
        found = json.loads(raw) if raw else {}
    except json.JSONDecodeError:
        found = None
    if not isinstance(found, dict) or not all(isinstance(v, dict) for v in found.values()):
        raise StatementError(f"{PER_FILE}: a JSON object of file paths to their options expected")
    return found


def merge_refresh(stored: dict[str, str], given: dict[str, str]) -> dict[str, str]:
    """The source's options after ``REFRESH f (…)``: with ``FILE 'path'`` the CSV options apply to
    that file only (kept in FILE_OPTIONS), otherwise to the whole source."""
    given = dict(given)
    merged = dict(stored)
    file = given.pop("FILE", None)
    unknown = sorted(set(given) - set(OPTIONS))
    if file is not None and unknown:
        raise StatementError(f"REFRESH … (FILE …): only the CSV options apply to one file "
                             f"({', '.join(OPTIONS)}); not {unknown[0]}")
    overrides(given)  # checked now: a bad value is said before anything changes
    if file is None:
        merged.update(given)
        return merged
    files = per_file(stored)
    key = file.replace(os.sep, "/").removeprefix("./")
    files[key] = {**files.get(key, {}), **given}
    merged[PER_FILE] = json.dumps(files, sort_keys=True)
    return merged


def note_of(dialect, native: bool) -> str:
    """What the detector chose, in one line (``elements.note``)."""
    def char(c):
        return {"\t": "tab", "": "none"}.get(c, repr(c))

    said = next((n for n in dialect.notes if n.startswith("encoding")), f"encoding {dialect.encoding}")
    parts = [said, f"delimiter {char(dialect.delimiter)}", f"quote {char(dialect.quote)}"]
    if dialect.escape:
        parts.append(f"escape {char(dialect.escape)}")
    parts.append({0: "no header", 1: f"header line {dialect.skip + 1}",
                  2: f"header lines {dialect.skip + 1}-{dialect.skip + 2}"}.get(
        dialect.header, f"{dialect.header} header rows"))
    if dialect.skip:
        parts.append(f"{dialect.skip} preamble line{'s' * (dialect.skip != 1)} skipped")
    if dialect.footer:
        parts.append(f"{dialect.footer} footer line{'s' * (dialect.footer != 1)} skipped")
    tokens = [t for t in dialect.nulls if t]
    if tokens:
        parts.append("nulls " + ",".join(tokens))
    parts.append("read by DuckDB's native reader (clean)" if native
                 else "read record by record (hydra.messycsv): see rejects")
    return "; ".join(parts)


class CsvFiles:
    """Dialects (cached per file version and options), the read route, and the accounting of the
    last whole read of each file."""

    def __init__(self, options: dict[str, str]):
        self.given = overrides(options)
        self.per_file = {path: overrides(o) for path, o in per_file(options).items()}
        self._cache: dict[tuple, tuple] = {}
        self._reports: dict[str, object] = {}  # path -> the CsvReader of its last complete read
        self._demoted: set[str] = set()  # paths DuckDB's native reader failed on: read record by record
        self._lock = threading.Lock()

    def dialect(self, path: str, rel: str):
        """(dialect, DuckDB read_csv options or None) of a file."""
        dialect, native = self._dialect(path, rel)
        return dialect, None if path in self._demoted else native

    def fall_back(self, path: str, rel: str) -> bool:
        """DuckDB's native reader failed on the file (a malformed row its samples did not show): read
        it record by record from now on. False when it was not read natively."""
        if self.dialect(path, rel)[1] is None:
            return False
        with self._lock:
            self._demoted.add(path)
        return True

    def _dialect(self, path: str, rel: str):
        from hydra.messycsv import detect, duckdb_options

        stat = os.stat(path)
        given = {**self.given, **self.per_file.get(rel, {})}
        key = (path, stat.st_size, stat.st_mtime_ns, json.dumps(given, sort_keys=True))
        with self._lock:
            found = self._cache.get(key)
        if found is None:
            dialect = detect(path, **given)
            native = duckdb_options(path, dialect) if dialect.columns and stat.st_size >= NATIVE_MIN_BYTES else None
            found = (dialect, native)
            with self._lock:
                self._cache[key] = found
        return found

    def describe(self, element, rel: str) -> None:
        """Fill a CSV element's columns and note from its dialect."""
        dialect, native = self.dialect(element.path, rel)
        if not dialect.columns:  # nothing to read: said, as a file that cannot be read
            element.error = dialect.notes[-1]
            return
        element.columns = [Column(c.name, c.type, nullable=True, note=_column_note(c)) for c in dialect.columns]
        element.note = note_of(dialect, native is not None)

    def scan_sql(self, path: str, rel: str) -> str | None:
        from hydra.messycsv import read_csv_sql

        _, native = self.dialect(path, rel)
        return read_csv_sql(path, native) if native is not None else None

    def reader(self, path: str, rel: str, columns: list[str] | None, limit: int | None):
        """Arrow reader of the file through CsvReader; a read to the end is kept for ``accounting``."""
        import pyarrow as pa

        from hydra.messycsv import CsvReader

        dialect, _ = self.dialect(path, rel)
        if not dialect.columns:
            raise HeadError(f"{rel}: no columns (an empty file)")
        kept: list = []

        def keep(reject) -> None:
            if len(kept) < REJECTS_KEPT:
                kept.append(reject)

        reader = CsvReader(path, dialect, on_reject=keep)
        reader.rejects = kept
        self._reports.pop(path, None)  # a read begins: an earlier one's report no longer speaks for it
        names = columns or [c.name for c in dialect.columns]
        missing = [n for n in names if n not in reader.schema.names]
        if missing:
            raise HeadError(f"{rel}: no column {missing[0]!r}")
        schema = pa.schema([reader.schema.field(n) for n in names])
        reports = self._reports

        def batches():
            left = limit
            for batch in reader:
                if columns:
                    batch = batch.select(names)
                if left is not None:
                    if left <= 0:
                        return
                    batch = batch.slice(0, left)
                    left -= batch.num_rows
                yield batch
            reports[path] = reader  # read to the end: its accounting is complete and checked

        return pa.RecordBatchReader.from_batches(schema, batches())

    def accounting(self, path: str, rel: str, rows: int) -> dict:
        """Where every line of the file went in the whole read that yielded ``rows`` rows: from the
        CsvReader that read it, or (native scan) from an independent line count, or a CsvReader
        pass when the count alone cannot prove it. Raises HeadError when the rows do not add up."""
        from hydra.messycsv import CsvReader, fast_accounting

        dialect, native = self.dialect(path, rel)
        reader = self._reports.pop(path, None)
        route = "hydra.messycsv"
        if reader is not None and reader.accounting.rows == rows:
            acc, rejects = reader.accounting, reader.rejects
        else:
            acc = fast_accounting(path, dialect, rows) if native is not None and reader is None else None
            rejects = []
            if acc is not None:
                route = "duckdb native, lines counted"
            else:
                kept: list = []
                pass_ = CsvReader(path, dialect, on_reject=lambda r: len(kept) < REJECTS_KEPT and kept.append(r))
                for _ in pass_:
                    pass
                acc, rejects = pass_.accounting, kept
                route = "duckdb native, checked by a hydra.messycsv pass" if native is not None else route
        if acc.rows != rows:
            raise HeadError(f"{rel}: the read yielded {rows:,} rows but the file holds {acc.rows:,} "
                            f"loadable rows ({acc.lines:,} lines, {acc.rejected:,} rejected, "
                            f"{acc.skipped_lines:,} skipped)")
        if not acc.balanced():  # CsvReader raises first; kept as the statement of the rule
            raise HeadError(f"{rel}: lines do not add up")
        return {
            "lines": acc.lines, "loaded": acc.rows, "loaded_lines": acc.row_lines, "rejected": acc.rejected,
            "rejected_records": acc.rejected_records, "skipped": acc.skipped_lines,
            "skipped_by_kind": dict(acc.skipped), "repaired": {k: v for k, v in acc.repaired.items() if v},
            "encoding": dialect.encoding, "delimiter": dialect.delimiter, "header": dialect.header,
            "preamble": dialect.skip, "footer": dialect.footer, "route": route,
            "rejects": [r.to_dict() for r in rejects],
        }


def _column_note(spec) -> str | None:
    note = spec.note
    extra = []
    if spec.thousands:
        extra.append(f"thousands separator {spec.thousands!r}")
    if spec.decimal != ".":
        extra.append(f"decimal mark {spec.decimal!r}")
    if spec.formats and spec.formats != ["%Y-%m-%d"]:
        extra.append("formats " + ", ".join(spec.formats))
    if extra and not (note and all(e in note for e in extra)):
        note = "; ".join([note, *extra] if note else extra)
    return note

