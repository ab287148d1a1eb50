"""Detecting a delimited file's dialect and structure from samples of it.

Samples: the first 256 KiB (dialect, preamble, header, types), 64 KiB from the middle (types) and the
last 64 KiB (footer). Steps, each overridable by a user (``detect(path, delimiter=';', header=2)``):

1. encoding (``encoding.detect_encoding``);
2. delimiter, quote and escape: every candidate parses the sample and is scored like CleverCSV's
   "data consistency" — the share of records that have the table's width, times the share of cells
   that look clean (no quote character left at an edge), times (width-1)/width so that of two
   consistent readings the wider one wins (a ``;`` file whose numbers have decimal commas);
   an Excel ``sep=;`` first line decides the delimiter outright;
3. the table's start: the first record of the table's width followed by mostly such records — what
   is above is preamble (titles, export banners, blank lines);
4. the header: a row whose values do not read as the types of the columns below it; a second such row
   right after makes a header on two lines (names joined by a space);
5. the footer: trailing records that are blank, empty, much narrower than the table or a "Total" row;
6. column types (``values.infer``) and null tokens (``values.null_tokens``) from the data rows.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
from collections import Counter

from hydra.core.errors import HydraError
from hydra.messycsv.dialect import DOUBLE, VARCHAR, ColumnSpec, Dialect
from hydra.messycsv.encoding import detect_encoding
from hydra.messycsv.lines import iter_blocks
from hydra.messycsv.records import Grouper, csv_params, rows_inside
from hydra.messycsv.values import accepts, infer, null_tokens

SAMPLE_BYTES = 256 << 10
PART_BYTES = 64 << 10
DELIMITERS = (",", ";", "\t", "|", ":")
QUOTES = ('"', "'", "")
TOTAL = re.compile(r"^(grand\s+)?(totals?|sum|summe|gesamt|subtotal|count|end of (report|file|data))\b[:.]?",
                   re.IGNORECASE)
SEP_HINT = re.compile(r"^\s*sep=(.)\s*$")


def detect(path: str, *, encoding: str | None = None, delimiter: str | None = None, quote: str | None = None,
           escape: str | None = None, skip: int | None = None, header: int | None = None,
           footer: int | None = None, nulls: list[str] | None = None) -> Dialect:
    """The dialect of the delimited file at ``path``; any argument given is taken as is (an override)."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            head = fh.read(SAMPLE_BYTES)
            middle = tail = b""
            if size > SAMPLE_BYTES + PART_BYTES:
                fh.seek(size // 2)
                middle = fh.read(PART_BYTES)
            if size > SAMPLE_BYTES:
                fh.seek(max(size - PART_BYTES, SAMPLE_BYTES))
                tail = fh.read()
    except OSError as err:
        raise HydraError(f"cannot read {path}: {err.strerror or err}") from err
    whole = size <= SAMPLE_BYTES
    dialect = Dialect()
    notes = dialect.notes

    # 1. encoding
    if encoding:
        dialect.encoding, dialect.bom = _named_encoding(encoding, head)
        dialect.fallback_encoding = "cp1252" if dialect.encoding == "utf-8" else None
        notes.append(f"encoding {dialect.encoding} (given)")
    else:
        dialect.encoding, dialect.bom, dialect.fallback_encoding, note = detect_encoding(head, whole)
        notes.append(f"encoding {note or dialect.encoding}")
    lines = _lines(head[dialect.bom:], dialect, complete=whole)
    if not lines:
        dialect.columns = []
        notes.append("empty file")
        return dialect

    # 2. delimiter, quote, escape
    hint = SEP_HINT.match(lines[0].rstrip("\r\n"))
    if hint and delimiter is None:
        delimiter = hint.group(1)
        notes.append(f"delimiter {delimiter!r} from the Excel 'sep=' line")
    sample_text = "".join(lines)
    best = _choose_dialect(lines[1:] if hint else lines, sample_text, delimiter, quote, escape)
    if best is None:
        raise HydraError(f"{path}: no delimiter found")
    dialect.delimiter, dialect.quote, dialect.escape, width = best
    records = _grouped(lines, dialect, width)
    if not records:
        dialect.header, dialect.columns = 0, []
        notes.append("no data: blank lines only")
        return dialect

    # 3. where the table starts
    start = _table_start(records, width, 1 if hint else 0)
    if skip is not None:
        dialect.skip = skip
        start = next((i for i, r in enumerate(records) if r[0] >= skip), len(records))
    else:
        dialect.skip = records[start][0] if start < len(records) else 0
        if dialect.skip:
            notes.append(f"skip {dialect.skip} line(s) before the table: {lines[0].strip()[:60]!r}…")

    # 5. footer (before the header and types, so that totals do not vote on the types)
    tail_lines = lines if whole else _lines(_from_line_start(tail), dialect, complete=True)
    tail_records = _grouped(tail_lines, dialect, width)
    if footer is None:
        footer_lines, footer_records = _footer(tail_records, width, len(tail_lines))
        if whole:  # never into the table's first rows
            footer_lines = min(footer_lines, max(len(lines) - dialect.skip - 2, 0))
        dialect.footer = footer_lines
        if footer_lines:
            notes.append(f"footer of {footer_lines} line(s): {tail_lines[-footer_lines].strip()[:60]!r}…")
    else:
        dialect.footer, footer_records = footer, 0
    body = records[start:]
    if whole and footer_records:
        body = body[: max(len(body) - footer_records, 0)]
    extra = _grouped(_lines(_from_line_start(middle), dialect, complete=False), dialect, width) if middle else []
    if not whole:
        extra += tail_records[: len(tail_records) - footer_records]

    # 4 + 6. header, null tokens, types: first from the rows that cannot be a header, then again from
    # every row below the header found
    rows = [f for _, _, f in body]
    more = [f for _, _, f in extra]
    dialect.nulls, specs = _types(rows[2 if len(rows) > 3 else 1:] + more, width, nulls)
    if header is not None:
        dialect.header = header
    else:
        dialect.header = _header_rows(rows, specs, set(dialect.nulls) | {""})
        notes.append({0: "no header row", 1: f"header on line {dialect.skip + 1}",
                      2: f"header on lines {dialect.skip + 1}-{dialect.skip + 2}"}[dialect.header])
    dialect.nulls, specs = _types(rows[dialect.header:] + more, width, nulls)
    names = _names(rows[: dialect.header], width)
    for spec, name in zip(specs, names):
        spec.name = name
    dialect.columns = specs
    return dialect


def _named_encoding(name: str, head: bytes) -> tuple[str, int]:
    try:
        canonical = codecs.lookup(name).name
    except LookupError as err:
        raise HydraError(f"unknown encoding {name!r}") from err
    if canonical in ("utf-8", "utf-8-sig"):
        return "utf-8", 3 if head.startswith(codecs.BOM_UTF8) else 0
    if canonical == "utf-16":
        if head.startswith(codecs.BOM_UTF16_BE):
            return "utf-16-be", 2
        return "utf-16-le", 2 if head.startswith(codecs.BOM_UTF16_LE) else 0
    if canonical in ("utf-16-le", "utf-16-be"):
        mark = codecs.BOM_UTF16_LE if canonical == "utf-16-le" else codecs.BOM_UTF16_BE
        return canonical, 2 if head.startswith(mark) else 0
    return {"iso8859-1": "latin-1"}.get(canonical, canonical), 0


def _lines(data: bytes, dialect: Dialect, complete: bool) -> list[str]:
    """Decoded physical lines of a sample; an incomplete last line is dropped unless at the file's end."""
    if not complete:
        cut = max(data.rfind(b"\n"), data.rfind(b"\r"))
        data = data[: cut + 1] if cut >= 0 else b""
    if dialect.encoding.startswith("utf-16") and len(data) % 2:
        data = data[:-1]
    lines: list[str] = []
    for block in iter_blocks(io.BytesIO(data), dialect.encoding, 0, dialect.fallback_encoding):
        lines.extend(block.lines)
    return lines


def _from_line_start(data: bytes) -> bytes:
    """A chunk taken from the middle of a file, from its first full line."""
    cut = data.find(b"\n")
    return data[cut + 1:] if cut >= 0 else b""


def _records(lines: list[str], params: dict) -> list[tuple[int, int, list[str]]]:
    """(first line index, line count, fields) of the records of sample lines (blank ones left out)."""
    out = []
    reader = csv.reader(lines, **params)
    before = 0
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error:
            fields = None
        count = reader.line_num - before
        if fields and not (len(fields) == 1 and not fields[0].strip()):
            out.append((before, count, fields))
        before = reader.line_num
    return out


def _grouped(lines: list[str], dialect: Dialect, width: int) -> list[tuple[int, int, list[str]]]:
    """Like ``_records`` with the chosen dialect, but a stray quote does not swallow the lines after it
    (the reader's ``Grouper``, a multi-line record accepted when it has the table's width)."""
    grouper = Grouper(dialect, lambda fields, text: len(fields) == width
                      and not rows_inside(fields, dialect.delimiter, width))
    records = grouper.feed((i, 0, line) for i, line in enumerate(lines)) + grouper.finish()
    return [(r.line, r.lines, r.fields) for r in records
            if r.fields and not (len(r.fields) == 1 and not r.fields[0].strip())]


def _choose_dialect(lines, text, delimiter, quote, escape):
    """(delimiter, quote, escape, width) that reads the sample most consistently."""
    lines = lines[:2000]
    delimiters = [delimiter] if delimiter is not None else [d for d in DELIMITERS if d in text]
    quotes = [quote] if quote is not None else [q for q in QUOTES if not q or q in text]
    best, best_score = None, -1.0
    for d in delimiters or [","]:
        for q in quotes:
            escapes = [escape] if escape is not None else [""] + (["\\"] if q and "\\" + q in text else [])
            for e in escapes:
                # a first reading gives the width, with which a stray quote cannot swallow the lines
                # after it (see Grouper); the second reading is the one scored
                single = Counter(len(f) for _, n, f in _records(lines, csv_params(d, q, e)) if f and n == 1)
                guess = max(single, key=single.get) if single else 1
                records = _grouped(lines, Dialect(delimiter=d, quote=q, escape=e), guess)
                score, width = _consistency(records, q)
                if score > best_score + 1e-9:
                    best, best_score = (d, q, e, width), score
    return best


def _consistency(records, quote) -> tuple[float, int]:
    if not records:
        return 0.0, 1
    widths = Counter(len(f) for _, _, f in records if f is not None)
    if not widths:
        return 0.0, 1
    first_seen = {}
    for _, _, f in records:
        if f is not None:
            first_seen.setdefault(len(f), len(first_seen))
    # the most frequent width; on a tie, the one seen first (a header comes first)
    width, count = max(widths.items(), key=lambda wc: (wc[1] * (wc[0] > 1), -first_seen[wc[0]]))
    pattern = count / len(records)
    cells = [c for _, _, f in records if f is not None and len(f) == width for c in f]
    # a quote left alone at a cell's edge, or a backslash before a quote, says the quote/escape is wrong
    stray = sum(1 for c in cells if _unclean(c, quote))
    clean = 1 - stray / len(cells) if cells else 0
    return pattern * clean * (width - 1) / width, width


def _unclean(cell: str, quote: str) -> bool:
    for q in "\"'":
        if (cell[:1] == q or cell[-1:] == q) and cell.count(q) % 2:
            return True
    return "\\" + (quote or '"') in cell


def _table_start(records, width, minimum_line) -> int:
    """Index of the first record of the table: the first of the table's width (titles, banners and
    export notes above a table have fewer fields than it)."""
    for i, (line, _, fields) in enumerate(records):
        if line >= minimum_line and len(fields) == width:
            return i
    return 0


def _footer(records, width, total_lines) -> tuple[int, int]:
    """(physical lines, records) at the end that are not data: from the first footer record to the
    end of the sample, blank lines included."""
    count = 0
    for _, _, fields in reversed(records):
        nonempty = [f for f in fields if f.strip()]
        if nonempty and not (len(fields) * 2 <= width and width > 1) and not TOTAL.match(nonempty[0].strip()):
            break
        count += 1
    if not count or count == len(records):  # everything looks like a footer: nothing is
        return 0, 0
    return total_lines - records[-count][0], count


def _types(rows, width, nulls) -> tuple[list[str], list[ColumnSpec]]:
    """(null tokens, column specs) from data rows (those of the table's width). A column whose
    numbers are ambiguous alone ('1,000': 1000 or 1.0) takes the decimal mark of the file's other
    numbers when they agree on one."""
    rows = [r[:width] for r in rows if len(r) == width or len(r) > width and not any(f.strip() for f in r[width:])]
    by_column = [[r[i] for r in rows] for i in range(width)]
    tokens = nulls if nulls is not None else null_tokens(by_column)
    nullset = set(tokens) | {""}
    specs = [infer(values, nullset) for values in by_column]
    marks = {spec.decimal for spec in specs if spec.type == DOUBLE}
    if len(marks) == 1:
        mark = marks.pop()
        specs = [infer(values, nullset, prefer=mark) if spec.note and spec.note.startswith("ambiguous number")
                 else spec for spec, values in zip(specs, by_column)]
    return tokens, specs


def _header_rows(rows, specs, nulls) -> int:
    """0, 1 or 2 header rows at the top of ``rows``."""
    if not rows:
        return 0
    typed = [i for i, s in enumerate(specs) if s.type != VARCHAR]

    def header_like(row, strict: bool) -> bool:
        if len(row) < len(specs) and strict:
            return False
        values = [v.strip() for v in row]
        if any(v in nulls - {""} for v in values):
            return False
        if typed:
            offending = [i for i in typed if i < len(values) and values[i]]
            if strict and not offending:
                return False
            return all(not accepts(specs[i], values[i], nulls) for i in offending) and any(values)
        # every column is text: a header has a name in every column, each different, none a value below
        if not all(values) or len(set(values)) < len(values):
            return False
        below = rows[1:200]
        return not any(values[i] in {r[i].strip() for r in below if i < len(r)} for i in range(len(values)))

    if not header_like(rows[0], strict=not typed):
        return 0
    if typed and len(rows) > 2:
        second = [v.strip() for v in rows[1]]
        typed_values = [second[i] for i in typed if i < len(second) and second[i]]
        # a second header line: its typed cells are names, or it is mostly empty (a name's second part)
        if header_like(rows[1], strict=True) or not typed_values and 0 < sum(map(bool, second)) * 2 < len(specs):
            return 2
    return 1


def _names(header_rows: list[list[str]], width: int) -> list[str]:
    if not header_rows:
        return [f"column{i}" for i in range(width)]
    names = []
    for i in range(width):
        parts = [row[i].strip() for row in header_rows if i < len(row) and row[i].strip()]
        names.append(" ".join(parts) or f"column{i}")
    seen: Counter = Counter()
    unique = []
    for name in names:
        seen[name] += 1
        unique.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return unique
