"""Rendering results: table, csv, tsv, json, jsonl, markdown, line."""

from __future__ import annotations

import csv
import io
import json
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


def write_result(result, out: TextIO, fmt: str = "table", max_width: int = 40,
                 max_rows: int | None = None) -> None:
    """Write one statement's result (rows and/or message) in a format."""
    if result.columns:
        WRITERS[fmt](result.columns, result.rows, out, max_width=max_width, max_rows=max_rows)


def _csv(columns, rows, out, delimiter=",", **_):
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if v is None else to_text(v) for v in row])


def _tsv(columns, rows, out, **_):
    _csv(columns, rows, out, delimiter="\t")


def _json(columns, rows, out, **_):
    json.dump([{c: to_json(v) for c, v in zip(columns, row)} for row in rows], out, ensure_ascii=False, indent=1)
    out.write("\n")


def _jsonl(columns, rows, out, **_):
    for row in rows:
        out.write(json.dumps({c: to_json(v) for c, v in zip(columns, row)}, ensure_ascii=False))
        out.write("\n")


def _cell(value, max_width: int | None) -> str:
    text = NULL if value is None else to_text(value)
    text = text.replace("\n", "\\n").replace("\t", " ")
    if max_width and len(text) > max_width:
        text = text[: max_width - 1] + "…"
    return text


def _table(columns, rows, out, max_width=40, max_rows=None, **_):
    shown = rows if max_rows is None or len(rows) <= max_rows else rows[:max_rows]
    cells = [[_cell(v, max_width) for v in row] for row in shown]
    heads = [_cell(c, max_width) for c in columns]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(heads)]
    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    out.write(line + "\n")
    out.write("| " + " | ".join(h.ljust(w) for h, w in zip(heads, widths)) + " |\n")
    out.write(line + "\n")
    for row in cells:
        out.write("| " + " | ".join(v.ljust(w) for v, w in zip(row, widths)) + " |\n")
    out.write(line + "\n")
    hidden = len(rows) - len(shown)
    count = f"{len(rows)} row{'s' * (len(rows) != 1)}"
    out.write(f"{count} ({hidden} not shown; .maxrows to see more)\n" if hidden else f"{count}\n")


def _markdown(columns, rows, out, **_):
    def esc(text):
        return text.replace("|", "\\|")

    out.write("| " + " | ".join(esc(c) for c in columns) + " |\n")
    out.write("|" + "|".join("---" for _ in columns) + "|\n")
    for row in rows:
        out.write("| " + " | ".join(esc(_cell(v, None)) for v in row) + " |\n")


def _line(columns, rows, out, **_):
    width = max((len(c) for c in columns), default=0)
    for i, row in enumerate(rows):
        if i:
            out.write("\n")
        for c, v in zip(columns, row):
            out.write(f"{c.rjust(width)} = {_cell(v, None)}\n")


WRITERS = {"table": _table, "csv": _csv, "tsv": _tsv, "json": _json, "jsonl": _jsonl,
           "markdown": _markdown, "line": _line}


def render(result, fmt: str = "table", **kwargs) -> str:
    buffer = io.StringIO()
    write_result(result, buffer, fmt, **kwargs)
    return buffer.getvalue()
