"""Rendering results: table, csv, tsv, list, json, jsonl, markdown, line.

Every format prints what DuckDB holds. For a result DuckDB made, DuckDB writes each value's text
(``CAST(value AS VARCHAR)``, the form its own shell prints: ``1 year 2 months 3 days``,
``infinity``, ``\\xAA``, TIMESTAMPTZ in the session's time zone) or its JSON (``to_json``) in the
query that feeds the output, streamed in chunks; Python never re-formats those values, so nothing
is lost on the way (a Python ``datetime`` cannot hold ``infinity``, a ``timedelta`` has no months).
Results Hydra builds in Python (EXTRACT's summary…) hold plain numbers and text.

JSON stays JSON: numbers are JSON numbers written with DuckDB's exact digits (DECIMAL keeps its
scale, HUGEINT all its digits); NaN and ±infinity, which JSON has no number for, are the strings
``"nan"``, ``"inf"`` and ``"-inf"`` (DuckDB's text); every other value that is not a number, a
boolean or nested is a string of DuckDB's text; LIST/STRUCT/MAP/UNION/ARRAY values are nested
JSON and a JSON column is embedded as JSON.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import deque
from decimal import Decimal
from itertools import chain
from typing import TextIO

from hydra.core.errors import HydraError

FORMATS = ("table", "csv", "tsv", "list", "json", "jsonl", "markdown", "line")
NULL = "NULL"

# DuckDB type ids (``DuckDBPyType.id``)
EXACT_NUMBER_TYPES = frozenset({"tinyint", "smallint", "integer", "bigint", "hugeint", "utinyint", "usmallint",
                                "uinteger", "ubigint", "uhugeint", "decimal", "bignum", "varint"})
# integers come to Python as ints, whose digits are DuckDB's text: making 2M VARCHARs into Python
# strings instead doubled the CPU time of table mode, which shows only a few of the rows it reads
# (2M BIGINT+VARCHAR rows: 1.0 s as ints, 2.1 s as text)
INTEGER_TYPES = frozenset({"tinyint", "smallint", "integer", "bigint", "hugeint", "utinyint", "usmallint",
                           "uinteger", "ubigint", "uhugeint"})
FLOAT_TYPES = frozenset({"float", "double"})
NESTED_TYPES = frozenset({"list", "struct", "map", "union", "array"})


# -- the text of each value ---------------------------------------------------------------------

def _text_sql(position: int, type_) -> str:
    """SQL for the text of column ``position`` (1-based): DuckDB's own, as its shell prints it
    (a text cell may also be an int: see INTEGER_TYPES)."""
    return f"#{position}" if type_.id == "varchar" or type_.id in INTEGER_TYPES else f"CAST(#{position} AS VARCHAR)"


def _json_sql(position: int, type_) -> str:
    """SQL for the JSON text of column ``position`` (see the module's docstring for the rule)."""
    column = f"#{position}"
    if type_.id in INTEGER_TYPES:
        return column
    if type_.id in EXACT_NUMBER_TYPES or type_.id == "boolean" or str(type_) == "JSON":
        return f"CAST({column} AS VARCHAR)"  # already JSON: exact digits, true/false, the JSON itself
    if type_.id in FLOAT_TYPES:
        return (f"CASE WHEN isfinite({column}) THEN CAST({column} AS VARCHAR) "
                f"ELSE to_json(CAST({column} AS VARCHAR)) END")
    if type_.id in NESTED_TYPES:
        return f"to_json({column})"  # nested NaN/±infinity are fixed by _json_non_finite
    return f"to_json(CAST({column} AS VARCHAR))"


def _holds_floats(type_) -> bool:
    if type_.id in FLOAT_TYPES:
        return True
    children = type_.children if type_.id in NESTED_TYPES else []
    return any(_holds_floats(child) for _, child in children if hasattr(child, "id"))


# ``to_json`` writes a nested NaN or ±infinity as a bare NaN/Infinity, which is not JSON: they
# become DuckDB's text as strings, like a top-level one (a JSON string is matched whole, so
# "NaN" inside one is left alone)
_NON_FINITE = re.compile(r'"(?:[^"\\]|\\.)*"|-?Infinity|NaN')
_NON_FINITE_TEXT = {"NaN": '"nan"', "Infinity": '"inf"', "-Infinity": '"-inf"'}


def _json_non_finite(text: str | None) -> str | None:
    if text is None or ("NaN" not in text and "Infinity" not in text):
        return text
    return _NON_FINITE.sub(lambda m: _NON_FINITE_TEXT.get(m.group(), m.group()), text)


def _duckdb_cells(result, form: str):
    """The result's rows as text (form "text") or JSON text (form "json") made by DuckDB; NULL is None."""
    make = _text_sql if form == "text" else _json_sql
    rows = result.select([make(i, t) for i, t in enumerate(result.types, start=1)])
    fix = [i for i, t in enumerate(result.types) if form == "json" and t.id in NESTED_TYPES and _holds_floats(t)]
    if not fix:
        return rows
    return (tuple(_json_non_finite(v) if i in fix else v for i, v in enumerate(row)) for row in rows)


def to_text(value) -> str:
    """A Python value Hydra made (not DuckDB) as text."""
    if isinstance(value, bytes):
        return "\\x" + value.hex()
    if isinstance(value, float) and value != value:
        return "nan"
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return "inf" if value > 0 else "-inf"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def to_json(value) -> str:
    """A Python value Hydra made (not DuckDB) as JSON text, by the same rule as DuckDB's values."""
    if value is None:
        return "null"
    if isinstance(value, (bool, int)):
        return json.dumps(value)
    if isinstance(value, float):
        return json.dumps(value) if value - value == 0 else json.dumps(to_text(value))
    if isinstance(value, Decimal) and value.is_finite():
        return str(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k), ensure_ascii=False)}: {to_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(to_json(v) for v in value) + "]"
    return json.dumps(to_text(value), ensure_ascii=False)


def _python_cells(result, form: str):
    make = to_text if form == "text" else to_json
    return ([None if v is None else make(v) for v in row] for row in result.rows)


def _is_number(value) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _numeric_columns(result) -> list[bool]:
    """Which columns hold numbers (table mode aligns them right)."""
    if result.types:
        return [t.id in EXACT_NUMBER_TYPES or t.id in FLOAT_TYPES for t in result.types]
    rows = result.rows
    return [any(_is_number(row[i]) for row in rows) and all(row[i] is None or _is_number(row[i]) for row in rows)
            for i in range(len(result.columns))]


def _read_first(rows):
    """``rows`` with the first one already read, so that an error of the query comes before any
    output (a CSV header followed by an error would look like an empty result)."""
    rows = iter(rows)
    first = next(rows, None)
    return rows if first is None else chain((first,), rows)


def unescape_separator(text: str) -> str:
    r"""A separator as typed: ``\t``, ``\n``, ``\r`` and ``\\`` stand for their characters (as in
    the DuckDB and SQLite shells), so that a tab can be written in a script."""
    if not text:
        raise HydraError("the separator cannot be empty")
    escapes = {"t": "\t", "n": "\n", "r": "\r", "\\": "\\"}
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text) and text[i + 1] in escapes:
            out.append(escapes[text[i + 1]])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


# -- writing ------------------------------------------------------------------------------------

def write_result(result, out: TextIO, fmt: str = "table", max_width: int | None = 40,
                 max_rows: int | None = None, screen_width: int | None = None, header: bool = True,
                 separator: str = "|") -> None:
    """Write one statement's result (rows and/or message) in a format.

    Table mode only: ``max_width`` truncates long values, ``max_rows`` shows the first and last
    rows of a taller result, ``screen_width`` hides the middle columns of a result wider than the
    screen; the footer says what was hidden. ``header=False`` leaves out the line naming the
    columns (table, csv, tsv, list); ``separator`` joins the values of list mode.
    """
    if not result.columns:
        return
    form = "json" if fmt in ("json", "jsonl") else "text"
    numeric = _numeric_columns(result) if fmt == "table" else None
    rows = _duckdb_cells(result, form) if result.selectable else _python_cells(result, form)
    WRITERS[fmt](result.columns, _read_first(rows), out, max_width=max_width, max_rows=max_rows,
                 screen_width=screen_width, numeric=numeric, header=header, separator=separator)


def _csv(columns, rows, out, delimiter=",", header=True, **_):
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    if header:
        writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])


def _tsv(columns, rows, out, header=True, **_):
    _csv(columns, rows, out, delimiter="\t", header=header)


def _list(columns, rows, out, header=True, separator="|", **_):
    """DuckDB's and SQLite's list mode: the values as they are, joined by ``separator``, one row a
    line, NULL as nothing; no quoting, so a ref comes out as the SQL text that reads it."""
    if header:
        out.write(separator.join(columns) + "\n")
    for row in rows:
        out.write(separator.join("" if v is None else str(v) for v in row) + "\n")


def _json_object(columns, row) -> str:
    return "{" + ", ".join(f"{name}: {'null' if v is None else v}" for name, v in zip(columns, row)) + "}"


def _json(columns, rows, out, **_):
    """A JSON array, one row object a line (streamed: a huge result costs no memory)."""
    names = [json.dumps(c, ensure_ascii=False) for c in columns]
    out.write("[")
    for i, row in enumerate(rows):
        out.write(",\n" if i else "\n")
        out.write(_json_object(names, row))
    out.write("\n]\n")


def _jsonl(columns, rows, out, **_):
    names = [json.dumps(c, ensure_ascii=False) for c in columns]
    for row in rows:
        out.write(_json_object(names, row))
        out.write("\n")


def _cell(value: str | int | None, max_width: int | None) -> str:
    if value is None:
        return NULL
    text = value if type(value) is str else str(value)
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


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}{'s' * (n != 1)}"


def _table(columns, rows, out, max_width=40, max_rows=None, screen_width=None, numeric=None, header=True, **_):
    """An aligned table. NULL shows as NULL; numbers align right; a value longer than
    ``max_width`` ends in …; a result taller than ``max_rows`` shows its first and last rows
    around a … row; one wider than ``screen_width`` shows its first and last columns around a …
    column. The footer counts rows and says what was not shown."""
    numeric = numeric or [False] * len(columns)
    shown, total_rows, gap_at = _first_and_last(rows, max_rows)
    heads = [_cell(c, max_width) for c in columns]
    cells = [[_cell(v, max_width) for v in row] for row in shown]
    widths = [max([width(h) if header else 1] + [width(r[i]) for r in cells]) for i, h in enumerate(heads)]
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
    if header:
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


WRITERS = {"table": _table, "csv": _csv, "tsv": _tsv, "list": _list, "json": _json, "jsonl": _jsonl,
           "markdown": _markdown, "line": _line}


def render(result, fmt: str = "table", **kwargs) -> str:
    buffer = io.StringIO()
    write_result(result, buffer, fmt, **kwargs)
    return buffer.getvalue()
