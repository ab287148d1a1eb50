"""Rendering results: table, csv, tsv, json, jsonl, markdown, line."""

from __future__ import annotations

import csv
import io
from collections import deque
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TextIO
from uuid import UUID

FORMATS = ("table", "csv", "tsv", "json", "jsonl", "markdown", "line")
NULL = "NULL"


def to_text(value) -> str:
    """A value as text for csv/table output (NULL is handled by the caller)."""
    if isinstance(value, bytes):
        return "\\x" + value.hex()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return repr(value)
    return str(value)


def to_json(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Decimal):  # a number when a float holds it exactly, else exact text
        return float(value) if Decimal(repr(float(value))) == value else str(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    if isinstance(value, (UUID,)):
        return str(value)
    if isinstance(value, bytes):
        return "\\x" + value.hex()
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    return str(value)


def write_result(result, out: TextIO, fmt: str = "table", max_width: int | None = 40,
                 max_rows: int | None = None, screen_width: int | None = None) -> None:
    """Write one statement's result (rows and/or message) in a format.

    Table mode only: ``max_width`` truncates long values, ``max_rows`` shows the first and last
    rows of a taller result, ``screen_width`` hides the middle columns of a result wider than the
    screen; the footer says what was hidden.
    """
    if result.columns:
        # every format but json streams the rows (table mode keeps only those it shows)
        rows = result.rows if fmt == "json" else result.iter_rows()
        WRITERS[fmt](result.columns, rows, out, max_width=max_width, max_rows=max_rows,
                     screen_width=screen_width)


def _csv(columns, rows, out, delimiter=",", **_):
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if v is None else to_text(v) for v in row])


def _tsv(columns, rows, out, **_):
    _csv(columns, rows, out, delimiter="\t")


def _json(columns, rows, out, **_):
    import json

    json.dump([{c: to_json(v) for c, v in zip(columns, row)} for row in rows], out, ensure_ascii=False, indent=1)
    out.write("\n")


def _jsonl(columns, rows, out, **_):
    import json

    for row in rows:
        out.write(json.dumps({c: to_json(v) for c, v in zip(columns, row)}, ensure_ascii=False))
        out.write("\n")


def _cell(value, max_width: int | None) -> str:
    text = NULL if value is None else to_text(value)
    text = text.replace("\n", "\\n").replace("\t", " ").replace("\r", "\\r")
    if max_width and width(text) > max_width:
        text = _clip(text, max_width - 1) + "…"
    return text


def width(text: str) -> int:
    """Columns ``text`` takes on a terminal: wide (CJK) characters take two, combining marks none."""
    if text.isascii():
        return len(text)
    import unicodedata

    total = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        total += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return total


def _clip(text: str, columns: int) -> str:
    if text.isascii():
        return text[:columns]
    out, used = [], 0
    for ch in text:
        w = width(ch)
        if used + w > columns:
            break
        out.append(ch)
        used += w
    return "".join(out)


def _pad(text: str, columns: int, right: bool = False) -> str:
    gap = " " * max(0, columns - width(text))
    return gap + text if right else text + gap


ELLIPSIS = "…"


def _is_number(value) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}{'s' * (n != 1)}"


def _table(columns, rows, out, max_width=40, max_rows=None, screen_width=None, **_):
    """An aligned table. NULL shows as NULL; numbers align right; a value longer than
    ``max_width`` ends in …; a result taller than ``max_rows`` shows its first and last rows
    around a … row; one wider than ``screen_width`` shows its first and last columns around a …
    column. The footer counts rows and says what was not shown."""
    shown, total_rows, gap_at = _first_and_last(rows, max_rows)
    heads = [_cell(c, max_width) for c in columns]
    cells = [[_cell(v, max_width) for v in row] for row in shown]
    numeric = [any(_is_number(row[i]) for row in shown) and all(row[i] is None or _is_number(row[i]) for row in shown)
               for i in range(len(columns))]
    widths = [max([width(h)] + [width(r[i]) for r in cells]) for i, h in enumerate(heads)]
    keep = _columns_that_fit(widths, screen_width)
    hidden_columns = [columns[i] for i in range(len(columns)) if i not in keep]
    order: list[int | None] = sorted(keep)
    if hidden_columns:  # a … column stands where the hidden ones were
        split = next(n for n, i in enumerate(order) if n != i) if order != list(range(len(order))) else len(order)
        order.insert(split, None)

    def line(values, align=True) -> str:
        parts = []
        for i in order:
            if i is None:
                parts.append(values[None] if None in values else ELLIPSIS)
                continue
            text = values[i]
            parts.append(_pad(text, widths[i], right=align and numeric[i]))
        return "| " + " | ".join(parts) + " |\n"

    rule = "+" + "+".join("-" * ((widths[i] if i is not None else 1) + 2) for i in order) + "+\n"
    out.write(rule)
    out.write(line(dict(enumerate(heads)), align=False))
    out.write(rule)
    for n, row in enumerate(cells):
        if n == gap_at:
            out.write(line({i: ELLIPSIS.center(widths[i]) for i in range(len(columns))} | {None: ELLIPSIS}, align=False))
        out.write(line(dict(enumerate(row))))
    if gap_at is not None and gap_at == len(cells):
        out.write(line({i: ELLIPSIS.center(widths[i]) for i in range(len(columns))} | {None: ELLIPSIS}, align=False))
    out.write(rule)
    notes = []
    if len(shown) != total_rows:
        notes.append(f"{len(shown):,} shown; .maxrows N to see more")
    if hidden_columns:
        names = ", ".join(hidden_columns[:5]) + (", …" if len(hidden_columns) > 5 else "")
        notes.append(f"{_count(len(hidden_columns), 'column')} of {len(columns):,} hidden: {names}; .mode line shows all")
    footer = _count(total_rows, "row")
    out.write(f"{footer} ({'; '.join(notes)})\n" if notes else f"{footer}\n")


def _columns_that_fit(widths: list[int], screen_width: int | None) -> set[int]:
    """Indexes of the columns to show: all when they fit; else as many as fit, taken alternately
    from the left and the right (the first column is always shown)."""
    def table_width(indexes, gap):
        return 1 + sum(widths[i] + 3 for i in indexes) + (4 if gap else 0)

    everything = set(range(len(widths)))
    if not screen_width or table_width(everything, False) <= screen_width:
        return everything
    keep: set[int] = {0}
    left, right = 1, len(widths) - 1
    take_left = False  # after the first column, take the last one next
    while left <= right:
        candidate = left if take_left else right
        if table_width(keep | {candidate}, True) > screen_width:
            break
        keep.add(candidate)
        if take_left:
            left += 1
        else:
            right -= 1
        take_left = not take_left
    return keep


def _first_and_last(rows, max_rows: int | None):
    """(the rows to show, how many there were, where the … row goes or None), holding no more
    than ``max_rows`` rows at a time: a huge result in table mode costs time, not memory."""
    if max_rows is None:
        rows = list(rows)
        return rows, len(rows), None
    head = (max_rows + 1) // 2
    first, last, total = [], deque(maxlen=max_rows - head), 0
    for row in rows:
        total += 1
        if len(first) < head:
            first.append(row)
        else:
            last.append(row)
    return first + list(last), total, (head if total > max_rows else None)


def _markdown(columns, rows, out, **_):
    def esc(text):
        return text.replace("|", "\\|")

    out.write("| " + " | ".join(esc(c) for c in columns) + " |\n")
    out.write("|" + "|".join("---" for _ in columns) + "|\n")
    for row in rows:
        out.write("| " + " | ".join(esc(_cell(v, None)) for v in row) + " |\n")


def _line(columns, rows, out, **_):
    label = max((width(c) for c in columns), default=0)
    for i, row in enumerate(rows):
        if i:
            out.write("\n")
        for c, v in zip(columns, row):
            out.write(f"{_pad(c, label, right=True)} = {_cell(v, None)}\n")


WRITERS = {"table": _table, "csv": _csv, "tsv": _tsv, "json": _json, "jsonl": _jsonl,
           "markdown": _markdown, "line": _line}


def render(result, fmt: str = "table", **kwargs) -> str:
    buffer = io.StringIO()
    write_result(result, buffer, fmt, **kwargs)
    return buffer.getvalue()
