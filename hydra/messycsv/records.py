"""From physical lines to records, and what to do with a record whose shape is wrong.

Parsing is Python's ``csv`` module (C). A record is one line unless a quoted field holds a newline;
``Grouper`` gathers the lines of such a record, and when the quote never closes properly (the
record it makes has the wrong shape, or runs past ``MAX_RECORD_LINES``/``MAX_RECORD_CHARS``, or the
data ends) it decides the quote was a stray one: the first line is read with quotes as ordinary
characters and the lines after it go back to be read on their own. A stray quote therefore never
swallows its neighbours, and every physical line ends in exactly one record.

``classify`` decides a record's fate: a row, a blank line, a row repaired in a way that is said
(padded with NULLs, an unquoted delimiter merged back into a text column, a row written with
another delimiter), or a reject with its reason.
"""

from __future__ import annotations

import csv
from collections import deque
from dataclasses import dataclass

from hydra.messycsv.dialect import VARCHAR, ColumnSpec, Dialect
from hydra.messycsv.values import accepts

MAX_RECORD_LINES = 5000
MAX_RECORD_CHARS = 4 << 20
OTHER_DELIMITERS = (",", ";", "\t", "|")

# what happens to a record
ROW, BLANK, REJECTED = "row", "blank", "rejected"
PADDED, MERGED, REDELIMITED, STRAY_QUOTE, TRIMMED = "padded", "merged", "redelimited", "stray-quote", "trimmed"


def csv_params(delimiter: str, quote: str, escape: str, literal_quotes: bool = False) -> dict:
    """Keyword arguments of ``csv.reader`` for a dialect."""
    if not quote or literal_quotes:
        return dict(delimiter=delimiter, quoting=csv.QUOTE_NONE, escapechar=escape or None, strict=False)
    return dict(delimiter=delimiter, quotechar=quote, quoting=csv.QUOTE_MINIMAL, doublequote=not escape,
                escapechar=escape or None, strict=False)


def parse_one(text: str, params: dict) -> tuple[list[str] | None, str | None]:
    """(fields, None) of one record's text, or (None, the parser's complaint)."""
    try:
        return next(csv.reader((text,), **params), []), None
    except csv.Error as err:
        return None, str(err)


def opens_quote(fields: list[str] | None) -> bool:
    """Whether the text parsed ended inside a quoted field (its line end became part of a field)."""
    return bool(fields) and fields[-1][-1:] in ("\n", "\r")


def rows_inside(fields: list, delimiter: str, width: int) -> bool:
    """Whether a line inside a multi-line field has a row's worth of delimiters: the sign of a stray
    quote that ran on to a later quote, swallowing the rows between."""
    if width <= 2:
        return False
    for value in fields:
        if value and ("\n" in value or "\r" in value):
            inner = value.replace("\r\n", "\n").replace("\r", "\n").split("\n")
            if any(part.count(delimiter) >= width - 1 for part in inner):
                return True
    return False


@dataclass
class Record:
    line: int          # number of its first physical line
    offset: int        # byte offset of its first line
    lines: int         # physical lines it spans
    text: str          # its text as in the file (line ends included)
    fields: list[str] | None
    error: str | None = None  # the csv module's complaint, when it could not parse the text
    stray_quote: bool = False  # read with quotes as ordinary characters
    repair: tuple[str, str] | None = None  # (action, reason) when loaded after a repair


class Grouper:
    """Lines in, records out (see the module's docstring). Feed it lines as (number, offset, text)."""

    def __init__(self, dialect: Dialect, accept_group):
        self.params = csv_params(dialect.delimiter, dialect.quote, dialect.escape)
        self.literal = csv_params(dialect.delimiter, dialect.quote, dialect.escape, literal_quotes=True)
        self.quote, self.escape = dialect.quote, dialect.escape
        self.accept_group = accept_group  # (fields, text) -> bool: is this multi-line record sound?
        self.todo: deque = deque()
        self.group: list = []
        self.group_chars = 0
        self.inside = False

    @property
    def idle(self) -> bool:
        return not self.group and not self.todo

    def feed(self, lines) -> list[Record]:
        self.todo.extend(lines)
        return self._run(final=False)

    def finish(self) -> list[Record]:
        return self._run(final=True)

    def _run(self, final: bool) -> list[Record]:
        out: list[Record] = []
        while self.todo or (final and self.group):
            if not self.todo:
                self._abandon(out)
                continue
            number, offset, text = item = self.todo.popleft()
            if not self.group:
                special = self.quote and self.quote in text or self.escape and self.escape in text
                fields, error = parse_one(text, self.params)
                if special and error is None and opens_quote(fields) and text[-1:] in "\r\n":
                    self.group, self.group_chars, self.inside = [item], len(text), True
                    continue
                out.append(Record(number, offset, 1, text, fields, error))
                continue
            self.group.append(item)
            self.group_chars += len(text)
            if self.escape:  # backslash escapes: parity of quotes says nothing, parse again
                self.inside = True
            elif (text.count(self.quote)) % 2:
                self.inside = not self.inside
            if not self.inside or self.escape:
                whole = "".join(t for _, _, t in self.group)
                fields, error = parse_one(whole, self.params)
                if error is None and not opens_quote(fields):
                    first_number, first_offset, _ = self.group[0]
                    if self.accept_group(fields, whole):
                        out.append(Record(first_number, first_offset, len(self.group), whole, fields))
                        self.group = []
                    else:
                        self._abandon(out)
                    continue
                if error is not None:
                    self._abandon(out)
                    continue
                self.inside = True
            if len(self.group) > MAX_RECORD_LINES or self.group_chars > MAX_RECORD_CHARS:
                self._abandon(out)
        return out

    def _abandon(self, out: list[Record]) -> None:
        """The quote that opened the group was a stray one: its line alone, quotes read literally."""
        (number, offset, text), rest = self.group[0], self.group[1:]
        self.group, self.inside = [], False
        fields, error = parse_one(text.rstrip("\r\n"), self.literal)
        out.append(Record(number, offset, 1, text, fields, error, stray_quote=True))
        self.todo.extendleft(reversed(rest))


class Shaper:
    """What to do with a record whose number of fields is not the table's (``classify``)."""

    def __init__(self, dialect: Dialect):
        self.dialect = dialect
        self.width = dialect.width
        self.columns: list[ColumnSpec] = dialect.columns
        self.nulls = set(dialect.nulls)
        self.typed = any(c.type != VARCHAR for c in self.columns)
        self.others = [
            (d, csv_params(d, dialect.quote, dialect.escape)) for d in OTHER_DELIMITERS if d != dialect.delimiter
        ]

    def sound_group(self, fields: list[str], text: str) -> bool:
        """Whether a multi-line record is one: its shape and types hold, and no line inside a field
        looks like a row of its own (a stray quote that ran into a later quote)."""
        fate, repaired, _ = self.classify(fields, text)
        if fate in (REJECTED, BLANK) or not self.sound(repaired):
            return False
        return not rows_inside(repaired, self.dialect.delimiter, self.width)

    def sound(self, fields: list) -> bool:
        return all(accepts(spec, value, self.nulls) for spec, value in zip(self.columns, fields))

    def classify(self, fields: list[str] | None, text: str) -> tuple[str, list | None, str | None]:
        """(fate, fields to load, reason) of one record."""
        k = self.width
        if fields is None:
            return REJECTED, None, "not readable as CSV"
        width = len(fields)
        if width == 0 or width == 1 and not fields[0].strip() and k != 1:
            return BLANK, None, None
        if width == k:
            return ROW, fields, None
        for delimiter, params in self.others:
            if delimiter in text:
                other, error = parse_one(text.rstrip("\r\n"), params)
                if error is None and len(other) == k and self.sound(other):
                    return (REDELIMITED, other,
                            f"fields separated by {delimiter!r} instead of {self.dialect.delimiter!r}")
        if width > k:
            if not any(f.strip() for f in fields[k:]):
                return TRIMMED, fields[:k], None
            merged = self._merge(fields)
            if merged:
                return merged
            return REJECTED, None, f"{width} fields, expected {k}"
        if width * 2 > k and self.sound(fields):
            missing = k - width
            return PADDED, fields + [None] * missing, f"{width} fields, expected {k}: the last {missing} read as NULL"
        return REJECTED, None, f"{width} field{'s' * (width != 1)}, expected {k}"

    def _merge(self, fields: list[str]):
        """Undo an unquoted delimiter inside a text value: join the extra fields back into the text
        column (the rightmost one) for which the typed columns all read. Only when the table has a
        typed column to tell a shifted row from a sound one."""
        if not self.typed:
            return None
        extra = len(fields) - self.width
        delimiter = self.dialect.delimiter
        fits = []
        for j in reversed(range(self.width)):
            if self.columns[j].type != VARCHAR:
                continue
            candidate = fields[:j] + [delimiter.join(fields[j:j + extra + 1])] + fields[j + extra + 1:]
            if self.sound(candidate):
                fits.append((j, candidate))
        if not fits:
            return None
        j, candidate = fits[0]
        also = f" (it could also be in {len(fits) - 1} other text column(s))" if len(fits) > 1 else ""
        return MERGED, candidate, (f"{len(fields)} fields, expected {self.width}: an unquoted {delimiter!r} "
                                   f"taken as part of {self.columns[j].name!r}{also}")
