"""Reading a delimited file with a dialect: typed Arrow batches, rejects, and the accounting.

Every physical line ends up in exactly one of: a loaded row (a multi-line quoted record counts all
its lines), a reject (with its reason), or the skipped lines (preamble, header, blank, footer) —
and the reader checks ``row_lines + rejected + skipped == lines`` before it says it is done.

Speed: a block of ~4 MiB without a quote character is split by Arrow (``split_pattern``); one with
quotes is parsed in one call of ``csv.reader`` (C) over its lines. When either yields one record per
line, all of the table's width, the block needs no Python work per row: its text columns go straight
to Arrow compute for the types. Only a block with something odd in it (a quoted newline, a ragged or
blank line) is read record by record (``records.Grouper``), and only the odd rows take the Python
path of ``records.Shaper``. Memory stays bounded: one block of lines plus its batch.
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass, field
from itertools import chain
from typing import Callable, Iterator

import pyarrow as pa

from hydra.messycsv.dialect import Dialect
from hydra.messycsv.lines import BLOCK_BYTES, iter_blocks
from hydra.messycsv.records import (BLANK, MERGED, PADDED, REDELIMITED, REJECTED, ROW, STRAY_QUOTE, TRIMMED,
                                    Grouper, Record, Shaper, csv_params, opens_quote)
from hydra.messycsv.values import ARROW_TYPES, convert

RAW_LIMIT = 1000  # characters of a rejected line kept in its reject


@dataclass
class Reject:
    """A record that was not loaded as it stands: rejected, or loaded after a repair that is said."""

    line: int        # number of its first physical line (1-based)
    offset: int      # byte offset of that line in the file
    lines: int       # physical lines it spans
    raw: str         # its text, truncated at RAW_LIMIT characters (line end removed)
    reason: str
    action: str = REJECTED  # 'rejected' (not loaded) or the repair: padded, merged, redelimited, stray-quote

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Accounting:
    """Where every physical line of the file went."""

    lines: int = 0          # physical lines in the file
    rows: int = 0           # rows loaded
    row_lines: int = 0      # physical lines of the rows loaded (more than rows when a quoted field holds newlines)
    rejected: int = 0       # physical lines of the records rejected
    rejected_records: int = 0
    skipped: dict = field(default_factory=lambda: {"preamble": 0, "header": 0, "blank": 0, "footer": 0})
    repaired: dict = field(default_factory=lambda: {PADDED: 0, MERGED: 0, REDELIMITED: 0, STRAY_QUOTE: 0, TRIMMED: 0})
    fallback_decoded: int = 0  # lines decoded with the dialect's fallback encoding
    bytes: int = 0

    @property
    def skipped_lines(self) -> int:
        return sum(self.skipped.values())

    def balanced(self) -> bool:
        return self.row_lines + self.rejected + self.skipped_lines == self.lines

    def to_dict(self) -> dict:
        return asdict(self) | {"skipped_lines": self.skipped_lines}


class AccountingError(AssertionError):
    """The lines of a file do not add up: a bug in the reader, never a property of the file."""


class CsvReader:
    """Iterate to get ``pa.RecordBatch`` es; rejects go to ``on_reject`` (default: ``self.rejects``);
    ``self.accounting`` is complete (and checked) once the iteration ends."""

    def __init__(self, path: str, dialect: Dialect, *, block_bytes: int = BLOCK_BYTES,
                 raw_limit: int = RAW_LIMIT, on_reject: Callable[[Reject], None] | None = None):
        self.path, self.dialect = path, dialect
        self.block_bytes, self.raw_limit = block_bytes, raw_limit
        self.rejects: list[Reject] = []
        self.on_reject = on_reject or self.rejects.append
        self.accounting = Accounting()
        self.schema = pa.schema([pa.field(c.name, ARROW_TYPES[c.type]) for c in dialect.columns])
        self.shaper = Shaper(dialect)
        self.params = csv_params(dialect.delimiter, dialect.quote, dialect.escape)
        self.nulls = pa.array(sorted(set(dialect.nulls) | {""}), pa.string())
        self._header_left = dialect.header
        self._pending: list[Reject] = []  # reports of the block being read, given out in line order

    def to_arrow_reader(self) -> pa.RecordBatchReader:
        return pa.RecordBatchReader.from_batches(self.schema, iter(self))

    def read_all(self) -> pa.Table:
        return pa.Table.from_batches(list(self), schema=self.schema)

    # -- the pipeline --------------------------------------------------------------------------

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        acc = self.accounting
        grouper = Grouper(self.dialect, self.shaper.sound_group)
        with self._open() as fh:
            blocks = iter_blocks(fh, self.dialect.encoding, self.dialect.bom, self.dialect.fallback_encoding,
                                 self.block_bytes)
            for first, offset, lines, sizes in self._without_footer(blocks):
                lines, sizes, first, offset = self._skip_preamble(lines, sizes, first, offset)
                if lines and (self._header_left or not grouper.idle):
                    # the header, or the end of a quoted record begun in the previous block: line by
                    # line until the grouper is idle, then the rest of the block as usual
                    done, rows, origins = 0, [], []
                    offsets = _offsets(offset, sizes)
                    while done < len(lines) and (self._header_left or not grouper.idle):
                        got, came_from = self._shape(grouper.feed([(first + done, offsets[done], lines[done])]))
                        rows += got
                        origins += came_from
                        done += 1
                    batch = self._batch(_columns(rows, self.dialect.width), origins, 0, 0, [], [])
                    if batch.num_rows:
                        yield batch
                    first, offset = first + done, offset + sum(sizes[:done])
                    lines, sizes = lines[done:], sizes[done:]
                if not lines:
                    continue
                fast = self._fast(lines, first, offset, sizes) if grouper.idle else None
                if fast is not None:
                    columns, origins = fast
                else:
                    records = grouper.feed(zip(range(first, first + len(lines)), _offsets(offset, sizes), lines))
                    rows, origins = self._shape(records)
                    columns = _columns(rows, self.dialect.width)
                batch = self._batch(columns, origins, first, offset, lines, sizes)
                if batch.num_rows:
                    yield batch
            rows, origins = self._shape(grouper.finish())
            batch = self._batch(_columns(rows, self.dialect.width), origins, 0, 0, [], [])
            if batch.num_rows:
                yield batch
            acc.bytes = fh.tell()
        if not acc.balanced():
            raise AccountingError(f"{self.path}: {acc.row_lines} row lines + {acc.rejected} rejected + "
                                  f"{acc.skipped_lines} skipped != {acc.lines} lines")

    def _open(self):
        return open(self.path, "rb")

    def _without_footer(self, blocks):
        """(first line, offset, lines, sizes) spans, the dialect's footer lines held back and counted."""
        footer = self.dialect.footer
        held_lines, held_sizes, held_first, held_offset = [], [], 1, self.dialect.bom
        for block in blocks:
            self.accounting.lines += len(block.lines)
            self.accounting.fallback_decoded += len(block.fallback_lines)
            if not footer:
                yield block.first_line, block.offset, block.lines, block.line_sizes()
                continue
            lines, sizes = held_lines + block.lines, held_sizes + block.line_sizes()
            cut = len(lines) - footer
            if cut > 0:
                yield held_first, held_offset, lines[:cut], sizes[:cut]
                held_first, held_offset = held_first + cut, held_offset + sum(sizes[:cut])
                lines, sizes = lines[cut:], sizes[cut:]
            held_lines, held_sizes = lines, sizes
        self.accounting.skipped["footer"] += len(held_lines)

    def _skip_preamble(self, lines, sizes, first, offset):
        left = self.dialect.skip - (first - 1)
        if left <= 0:
            return lines, sizes, first, offset
        cut = min(left, len(lines))
        self.accounting.skipped["preamble"] += cut
        return lines[cut:], sizes[cut:], first + cut, offset + sum(sizes[:cut])

    def _fast(self, lines, first, offset, sizes):
        """The block's (columns, None) or (rows, origins) when it reads one record per line, else None
        (the block takes the record-by-record path). Without a quote or escape character in the block,
        splitting each line at the delimiter is exact and Arrow does it (``split_pattern``: measured
        ~10x faster than csv + transposing); with them, the csv module parses the block in one call."""
        import pyarrow.compute as pc  # on first use: 0.2 s to import, and a native CSV read needs none

        dialect, k = self.dialect, self.dialect.width
        text = "".join(lines)
        if k and not (dialect.quote and dialect.quote in text or dialect.escape and dialect.escape in text):
            parts = pc.split_pattern(pc.utf8_rtrim(pa.array(lines, pa.string()), characters="\r\n"),
                                     pattern=dialect.delimiter)
            fits = pc.equal(pc.list_value_length(parts), k)
            if pc.all(fits).as_py():
                self.accounting.row_lines += len(lines)
                return [pc.list_element(parts, j) for j in range(k)], None
            odd = pc.indices_nonzero(pc.invert(fits)).to_pylist()
            if len(odd) * 100 <= len(lines):
                return self._few_odd_lines(lines, first, offset, sizes, parts, fits, odd)
        try:
            rows = list(csv.reader(lines, **self.params))
        except csv.Error:
            return None
        if len(rows) != len(lines) or opens_quote(rows[-1]):
            return None
        widths = list(map(len, rows))
        if widths.count(k) == len(rows):
            self.accounting.row_lines += len(rows)
            return _columns(rows, k), None
        # a few odd lines: only they become Records and take the Python path
        offsets = _offsets(offset, sizes)
        odd = {i: Record(first + i, offsets[i], 1, lines[i], rows[i]) for i, w in enumerate(widths) if w != k}
        kept_odd, odd_origins = self._shape(list(odd.values()))
        repaired = dict(zip((rec.line - first for rec in odd_origins), kept_odd))
        kept, origins = [], []
        for i, row in enumerate(rows):
            if i not in odd:
                kept.append(row)
                origins.append(i)
            elif i in repaired:
                kept.append(repaired[i])
                origins.append(odd[i])
        self.accounting.row_lines += len(rows) - len(odd)
        return _columns(kept, k), origins

    def _few_odd_lines(self, lines, first, offset, sizes, parts, fits, odd):
        """A split block with a few lines of the wrong width: those take the Python path, and the
        rows come out in the order of the lines."""
        import pyarrow.compute as pc  # on first use: 0.2 s to import, and a native CSV read needs none

        k, delimiter = self.dialect.width, self.dialect.delimiter
        offsets = _offsets(offset, sizes)
        records = [Record(first + i, offsets[i], 1, lines[i], lines[i].rstrip("\r\n").split(delimiter)) for i in odd]
        kept, came_from = self._shape(records)
        self.accounting.row_lines += len(lines) - len(odd)
        good = pc.filter(parts, fits)
        columns = [pc.list_element(good, j) for j in range(k)]
        odd_set = set(odd)
        origins: list = [i for i in range(len(lines)) if i not in odd_set]
        if not kept:
            return columns, origins
        positions = pa.array(origins + [rec.line - first for rec in came_from], pa.int64())
        order = pc.sort_indices(positions)
        columns = [pc.take(pa.concat_arrays([g, o]), order) for g, o in zip(columns, _columns(kept, k))]
        combined = origins + came_from
        origins = [combined[i] for i in order.to_pylist()]
        return columns, origins

    def _shape(self, records: list[Record]):
        """(rows, origins): the loadable rows of records and the record each comes from; header
        records are consumed first; blank, rejected and repaired records are counted and reported."""
        acc = self.accounting
        rows, origins = [], []
        for rec in records:
            if self._header_left:
                self._header_left -= 1
                acc.skipped["header"] += rec.lines
                continue
            if rec.error:
                fate, fields, reason = REJECTED, None, f"not readable as CSV: {rec.error}"
            else:
                fate, fields, reason = self.shaper.classify(rec.fields, rec.text)
            if fate == BLANK:
                acc.skipped["blank"] += rec.lines
                continue
            if fate == REJECTED:
                if rec.stray_quote:
                    reason += " (with a quote that does not close)"
                self._reject(rec, reason)
                continue
            if rec.stray_quote:
                rec.repair = (STRAY_QUOTE, "a quote that does not close, read as an ordinary character"
                              + (f"; {reason}" if reason else ""))
            elif fate != ROW:
                rec.repair = (fate, reason)
            acc.row_lines += rec.lines
            rows.append(fields)
            origins.append(rec)
        return rows, origins

    def _batch(self, columns, origins, first, offset, lines, sizes) -> pa.RecordBatch:
        """Typed batch of the text columns; a row whose value does not read as its column's type is
        rejected. ``origins``: the record of each row, None when row i is line i of the block."""
        import pyarrow.compute as pc  # on first use: 0.2 s to import, and a native CSV read needs none

        arrays, bad = [], None
        for spec, texts in zip(self.dialect.columns, columns):
            typed, wrong = convert(spec, texts, self.nulls)
            arrays.append(typed)
            if spec.type != "VARCHAR":
                bad = wrong if bad is None else pc.or_(bad, wrong)
        if bad is not None and pc.any(bad).as_py():
            indices = pc.indices_nonzero(bad).to_pylist()
            offsets = _offsets(offset, sizes)
            for i in indices:
                # origins: None (row i is line i), or per row its Record or its line's index in the block
                where = i if origins is None else origins[i]
                if not isinstance(where, Record):
                    where = Record(first + where, offsets[where], 1, lines[where], None)
                rec = where
                self.accounting.row_lines -= rec.lines
                self._reject(rec, self._type_reason([column[i].as_py() for column in columns]))
            keep = pc.invert(bad)
            arrays = [pc.filter(a, keep) for a in arrays]
        else:
            indices = ()
        if origins is not None:  # repairs are said once the row is loaded for good
            dropped = set(indices)
            for i, rec in enumerate(origins):
                if isinstance(rec, Record) and rec.repair and i not in dropped:
                    action, reason = rec.repair
                    self.accounting.repaired[action] += 1
                    if action != TRIMMED:
                        self._pending.append(self._report(rec, reason, action))
        for report in sorted(self._pending, key=lambda r: r.line):
            self.on_reject(report)
        self._pending = []
        batch = pa.RecordBatch.from_arrays(arrays, schema=self.schema)
        self.accounting.rows += batch.num_rows
        return batch

    def _type_reason(self, row) -> str:
        from hydra.messycsv.values import accepts

        nulls = set(self.dialect.nulls)
        for spec, value in zip(self.dialect.columns, row):
            if not accepts(spec, value, nulls):
                return f"column {spec.name!r}: {value!r} is not a {spec.type}"
        return "a value does not read as its column's type"

    def _reject(self, rec: Record, reason: str) -> None:
        self.accounting.rejected += rec.lines
        self.accounting.rejected_records += 1
        self._pending.append(self._report(rec, reason, REJECTED))

    def _report(self, rec: Record, reason: str, action: str) -> Reject:
        raw = rec.text.rstrip("\r\n")
        if len(raw) > self.raw_limit:
            raw = raw[: self.raw_limit] + "…"
        return Reject(rec.line, rec.offset, rec.lines, raw, reason, action)


def _columns(rows: list[list], width: int) -> list[pa.Array]:
    """Rows of ``width`` texts as ``width`` string arrays: one Arrow conversion of all the fields,
    then one column per stride (measured 3x faster than ``zip(*rows)`` and an array per column)."""
    import pyarrow.compute as pc  # on first use: 0.2 s to import, and a native CSV read needs none

    if not rows or not width:
        return [pa.array([], pa.string()) for _ in range(width)]
    flat = pa.array(list(chain.from_iterable(rows)), pa.string())
    grid = pa.FixedSizeListArray.from_arrays(flat, width)
    return [pc.list_element(grid, j) for j in range(width)]


def _offsets(offset: int, sizes: list[int]) -> list[int]:
    out, at = [], offset
    for size in sizes:
        out.append(at)
        at += size
    return out


def read(path: str, dialect: Dialect | None = None, **overrides) -> tuple[pa.Table, list[Reject], Accounting]:
    """Read a whole (small) file: (table, rejects, accounting). Big files: iterate a ``CsvReader``."""
    if dialect is None:
        from hydra.messycsv.detect import detect

        dialect = detect(path, **overrides)
    elif overrides:
        dialect = dialect.override(**overrides)
    reader = CsvReader(path, dialect)
    table = reader.read_all()
    return table, reader.rejects, reader.accounting
