"""Column types: deciding them from sample values, checking one value, converting a batch.

A column is typed only when every non-NULL value of the sample reads one way; otherwise it stays
text and its note says why (the first value that does not fit, or the ambiguity: ``'1,500'`` could be
1500 or 1.5, ``'04/11/2020'`` could be 4 November or 11 April). Numbers may carry thousands
separators and a decimal comma; dates may come in several formats in one column, as long as the
day/month order is the same for all of them.

The same rules exist twice, on purpose: ``accepts()`` checks one value in Python (used on the few
rows the reader has to repair), ``convert()`` converts a whole batch with Arrow compute (regular
expressions in RE2, ``strptime``), which keeps big files fast.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa

from hydra.messycsv.dialect import BIGINT, BOOLEAN, DATE, DOUBLE, TIMESTAMP, VARCHAR, ColumnSpec

# Tokens that mean NULL wherever they appear; the weak ones only when they sit in an otherwise typed
# column ("-" or "NA" can be real text: a country code, a dash in a free-text field).
STRONG_NULLS = ("NULL", "null", "Null", "N/A", "n/a", "#N/A", "\\N", "(null)", "NaN")
WEAK_NULLS = ("-", "--", "?", "NA", "na", "none", "None", "NONE", "nan", "nil", ".")
TRUE, FALSE = ("true", "t", "yes", "y"), ("false", "f", "no", "n")

INT_RE = r"^[+-]?\d+$"
FLOAT_RE = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
TIMESTAMP_RE = r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?$"
_INT, _FLOAT, _TIMESTAMP = re.compile(INT_RE), re.compile(FLOAT_RE), re.compile(TIMESTAMP_RE)
_NUMBERISH = re.compile("^[+-]?[0-9.,' \u00a0\u202f]+([eE][+-]?[0-9]+)?$")

# (thousands separator, decimal mark) conventions, simplest first
NUMBER_STYLES = ((None, "."), (",", "."), (".", ","), (None, ","), (" ", ","), (" ", "."), ("'", "."),
                 ("\u00a0", ","), ("\u202f", ","))

# Date formats with the shape a value must have (strptime alone accepts "2021-1-5" for %Y-%m-%d,
# which is fine, but also partial matches we do not want). "dmy"/"mdy" mark the formats whose
# day/month order is a choice; a column uses one order only.
DATE_FORMATS = (
    ("%Y-%m-%d", r"\d{4}-\d{1,2}-\d{1,2}", None),
    ("%Y/%m/%d", r"\d{4}/\d{1,2}/\d{1,2}", None),
    ("%Y.%m.%d", r"\d{4}\.\d{1,2}\.\d{1,2}", None),
    ("%d.%m.%Y", r"\d{1,2}\.\d{1,2}\.\d{4}", None),  # German/Swiss: always day first
    ("%d %b %Y", r"\d{1,2} [A-Za-z]{3} \d{4}", None),
    ("%d-%b-%Y", r"\d{1,2}-[A-Za-z]{3}-\d{4}", None),
    ("%d %B %Y", r"\d{1,2} [A-Za-z]{4,9} \d{4}", None),
    ("%b %d, %Y", r"[A-Za-z]{3} \d{1,2}, \d{4}", None),
    ("%B %d, %Y", r"[A-Za-z]{4,9} \d{1,2}, \d{4}", None),
    ("%d/%m/%Y", r"\d{1,2}/\d{1,2}/\d{4}", "dmy"),
    ("%m/%d/%Y", r"\d{1,2}/\d{1,2}/\d{4}", "mdy"),
    ("%d-%m-%Y", r"\d{1,2}-\d{1,2}-\d{4}", "dmy"),
    ("%m-%d-%Y", r"\d{1,2}-\d{1,2}-\d{4}", "mdy"),
    ("%d/%m/%y", r"\d{1,2}/\d{1,2}/\d{2}", "dmy"),
    ("%m/%d/%y", r"\d{1,2}/\d{1,2}/\d{2}", "mdy"),
    ("%Y%m%d", r"(19|20)\d{2}[01]\d[0-3]\d", None),  # only next to other formats: alone it is an integer
)
_DATE_SHAPES = {fmt: re.compile(shape + "$") for fmt, shape, _ in DATE_FORMATS}
_DATE_ORDER = {fmt: order for fmt, _, order in DATE_FORMATS}
_SHAPE_TEXT = {fmt: shape for fmt, shape, _ in DATE_FORMATS}


@dataclass
class Typing:
    """What the sample says about one column."""

    spec: ColumnSpec
    null_tokens: set[str]  # tokens that had to be NULL for the column to be typed


def null_tokens(values_by_column: list[list[str]]) -> list[str]:
    """The null tokens a sample uses: strong ones anywhere, weak ones where they sit in a column
    whose other values are all numbers or dates."""
    found = {""}
    for values in values_by_column:
        present = {v.strip() for v in values} & (set(STRONG_NULLS) | set(WEAK_NULLS))
        found |= present & set(STRONG_NULLS)
        weak = present - set(STRONG_NULLS)
        if weak:
            rest = [v for v in values if v.strip() and v.strip() not in present]
            if rest and infer(rest, set()).type != VARCHAR:
                found |= weak
    return sorted(found)


def infer(values: list[str], nulls: set[str], name: str = "", prefer: str | None = None) -> ColumnSpec:
    """The type of a column from its sample values (raw texts)."""
    # distinct values only, in order of appearance: the type does not depend on repetitions
    texts = list(dict.fromkeys(t for v in values if v is not None and (t := v.strip()) and t not in nulls))
    if not texts:
        return ColumnSpec(name, VARCHAR, note="no values in the sample" if values else None)
    lowered = {t.lower() for t in texts}
    if lowered <= set(TRUE[:2] + FALSE[:2]) and lowered & {"true", "false"}:
        return ColumnSpec(name, BOOLEAN)
    number = _infer_number(texts, prefer)
    if isinstance(number, ColumnSpec):
        number.name = name
        return number
    date = _infer_dates(texts)
    if isinstance(date, ColumnSpec):
        date.name = name
        return date
    if all(_TIMESTAMP.match(t) for t in texts):
        return ColumnSpec(name, TIMESTAMP)
    reason = date if _looks_dated(texts) else number if _looks_numeric(texts) else None
    return ColumnSpec(name, VARCHAR, note=reason)


def _looks_numeric(texts: list[str]) -> bool:
    return sum(any(ch.isdigit() for ch in t) and not any(ch.isalpha() for ch in t) for t in texts) > len(texts) / 2


def _looks_dated(texts: list[str]) -> bool:
    return sum(any(shape.match(t) for shape in _DATE_SHAPES.values()) for t in texts) > len(texts) / 2


def _infer_number(texts: list[str], prefer: str | None = None) -> ColumnSpec | str:
    """A BIGINT/DOUBLE spec when every text is a number in one style, else why not (a note).
    ``prefer``: the decimal mark of the file's other numbers, which settles an ambiguous column."""
    # plain integers read the same in every style: only the other texts need trying each style
    plain, others = [], []
    for t in texts:
        (plain if _INT.match(t) else others).append(t)
    readings = {}
    if not others:
        readings[(None, ".")] = []
    elif all(_NUMBERISH.match(t) for t in others):  # cheap: no letters, no other signs
        for thousands, decimal in NUMBER_STYLES:
            pattern = _pattern(thousands, decimal)
            if all(pattern.match(t) for t in others):
                readings[(thousands, decimal)] = [parse_number(t, thousands, decimal) for t in others]
    if not readings:
        bad = next((t for t in others if all(parse_number(t, th, d) is None for th, d in NUMBER_STYLES)), None)
        if bad is None:
            return "numbers written with different decimal marks"
        return f"not a number: {bad!r}"
    distinct = {tuple(v) for v in readings.values()}
    if len(distinct) > 1 and prefer:
        preferred = {style: v for style, v in readings.items() if style[1] == prefer}
        if len({tuple(v) for v in preferred.values()}) == 1:
            readings, distinct = preferred, {tuple(v) for v in preferred.values()}
    if len(distinct) > 1:
        first = next(iter(readings.values()))
        second = next(v for v in readings.values() if v != first)
        i = next(i for i, (a, b) in enumerate(zip(first, second)) if a != b)
        return f"ambiguous number format: {others[i]!r} reads as {_plain(first[i])} or {_plain(second[i])}"
    (thousands, decimal), parsed = next(iter(readings.items()))
    parsed = parsed + [int(t) for t in plain]
    if any(_leading_zero(t) for t in texts):
        return "leading zeros (an identifier, not a number)"
    if all(isinstance(p, int) for p in parsed):
        if any(abs(p) >= 2**63 for p in parsed):
            return "integers too large for BIGINT"
        return ColumnSpec("", BIGINT, thousands=thousands)
    return ColumnSpec("", DOUBLE, thousands=thousands, decimal=decimal,
                      note=None if (thousands, decimal) == (None, ".") else
                      f"numbers written with {_describe(thousands, decimal)}")


def _describe(thousands, decimal) -> str:
    mark = "decimal comma" if decimal == "," else "decimal point"
    return f"thousands separator {thousands!r} and {mark}" if thousands else mark


def _plain(value) -> str:
    return format(value, "f").rstrip("0").rstrip(".") if isinstance(value, float) else str(value)


def _leading_zero(text: str) -> bool:
    digits = text.lstrip("+-")
    return len(digits) > 1 and digits[0] == "0" and digits[1].isdigit()


def number_pattern(thousands: str | None, decimal: str, integer: bool = False) -> str:
    """The regular expression (Python re and RE2 alike) of a number in one style."""
    if thousands is None and decimal == ".":
        return INT_RE if integer else FLOAT_RE
    digits = rf"(\d{{1,3}}({re.escape(thousands)}\d{{3}})+|\d+)" if thousands else r"\d+"
    if integer:
        return rf"^[+-]?{digits}$"
    dec = re.escape(decimal)
    return rf"^[+-]?({digits}({dec}\d*)?|{dec}\d+)$"


def parse_number(text: str, thousands: str | None, decimal: str):
    """int or float from a text in one style, None when the text is not a number in that style."""
    if not _pattern(thousands, decimal).match(text):
        return None
    body = text.replace(thousands, "") if thousands else text
    body = body.replace(decimal, ".") if decimal != "." else body
    return int(body) if _INT.match(body) else float(body)


_PATTERNS: dict = {}


def _pattern(thousands, decimal) -> re.Pattern:
    key = (thousands, decimal)
    if key not in _PATTERNS:
        _PATTERNS[key] = re.compile(number_pattern(thousands, decimal))
    return _PATTERNS[key]


def _infer_dates(texts: list[str]) -> ColumnSpec | str:
    """A DATE spec with the formats the texts use, else why not."""
    matches = []
    for t in texts:
        fits = [fmt for fmt, shape in _DATE_SHAPES.items() if shape.match(t) and _strptime(t, fmt)]
        if not fits:
            return f"not a date: {t!r}"
        matches.append(fits)
    orders = {_DATE_ORDER[f] for fits in matches for f in fits} - {None}
    for order in ("dmy", "mdy"):
        # an order is impossible when a value only reads in the other one
        if any(all(_DATE_ORDER[f] not in (None, order) for f in fits) for fits in matches):
            orders.discard(order)
    if not orders and any(all(_DATE_ORDER[f] for f in fits) for fits in matches):
        return "dates with both day-first and month-first values"
    if len(orders) > 1:
        example = next(t for t, fits in zip(texts, matches) if {_DATE_ORDER[f] for f in fits} >= {"dmy", "mdy"})
        return f"ambiguous date: {example!r} could be day-first or month-first"
    allowed = [fmt for fmt, _, order in DATE_FORMATS if order is None or order in orders]
    used = [fmt for fmt in allowed if any(fmt in fits for fits in matches)]
    if used == ["%Y%m%d"]:
        return "8-digit numbers (dates only next to other date formats)"
    # each value reads with the first format of `used` it matches: that format must be one of its fits
    return ColumnSpec("", DATE, formats=used,
                      note=None if used == ["%Y-%m-%d"] else f"dates in {len(used)} format(s): {', '.join(used)}")


def _strptime(text: str, fmt: str) -> bool:
    try:
        datetime.strptime(text, fmt)
        return True
    except ValueError:
        return False


def accepts(spec: ColumnSpec, text: str | None, nulls: set[str]) -> bool:
    """Whether one field reads as the column's type (NULLs always do)."""
    if text is None or spec.type == VARCHAR:
        return True
    value = text.strip()
    if value in nulls:
        return True
    if spec.type == BIGINT:
        return isinstance(parse_number(value, spec.thousands, "."), int)
    if spec.type == DOUBLE:
        return parse_number(value, spec.thousands, spec.decimal) is not None
    if spec.type == BOOLEAN:
        return value.lower() in TRUE + FALSE
    if spec.type == DATE:
        return any(_DATE_SHAPES.get(f, re.compile(".*")).match(value) and _strptime(value, f) for f in spec.formats)
    if spec.type == TIMESTAMP:
        return bool(_TIMESTAMP.match(value))
    return True


ARROW_TYPES = {BIGINT: pa.int64(), DOUBLE: pa.float64(), BOOLEAN: pa.bool_(), DATE: pa.date32(),
               TIMESTAMP: pa.timestamp("us"), VARCHAR: pa.string()}


def convert(spec: ColumnSpec, texts: pa.Array, nulls: pa.Array) -> tuple[pa.Array, pa.Array]:
    """(typed array, mask of the values that do not read as the column's type) for one column."""
    import pyarrow.compute as pc  # on first use: 0.2 s to import, and a native CSV read needs none

    trimmed = pc.utf8_trim_whitespace(texts)
    is_null = pc.or_(pc.is_null(texts), pc.fill_null(pc.is_in(trimmed, value_set=nulls), True))
    if spec.type == VARCHAR:
        never = pc.and_kleene(pc.is_null(texts), pa.scalar(False))  # text always reads
        return pc.if_else(is_null, pa.scalar(None, pa.string()), texts), never
    present = pc.invert(is_null)
    typed, ok = _convert_present(spec, trimmed, present)
    return typed, pc.and_(present, pc.invert(pc.fill_null(ok, False)))


def _convert_present(spec: ColumnSpec, trimmed: pa.Array, present: pa.Array) -> tuple[pa.Array, pa.Array]:
    """(typed array, whether each value reads) for the non-NULL values of a typed column."""
    import pyarrow.compute as pc  # on first use: 0.2 s to import, and a native CSV read needs none

    if spec.type in (BIGINT, DOUBLE):
        ok = pc.match_substring_regex(trimmed, number_pattern(spec.thousands, spec.decimal, spec.type == BIGINT))
        body = pc.replace_substring(trimmed, spec.thousands, "") if spec.thousands else trimmed
        if spec.decimal != ".":
            body = pc.replace_substring(body, spec.decimal, ".")
        good = pc.fill_null(pc.and_(present, ok), False)
        return pc.cast(pc.if_else(good, body, pa.scalar(None, pa.string())), ARROW_TYPES[spec.type]), ok
    if spec.type == BOOLEAN:
        lowered = pc.utf8_lower(trimmed)
        ok = pc.is_in(lowered, value_set=pa.array(TRUE + FALSE))
        value = pc.is_in(lowered, value_set=pa.array(TRUE))
        return pc.if_else(pc.fill_null(pc.and_(present, ok), False), value, pa.scalar(None, pa.bool_())), ok
    if spec.type == DATE:
        parsed = None
        for fmt in spec.formats:
            shaped = pc.match_substring_regex(trimmed, "^" + _SHAPE_TEXT.get(fmt, ".*") + "$")
            one = pc.strptime(pc.if_else(shaped, trimmed, pa.scalar(None, pa.string())), format=fmt, unit="s",
                              error_is_null=True)
            parsed = one if parsed is None else pc.coalesce(parsed, one)
        if parsed is None:
            parsed = pa.nulls(len(trimmed), pa.timestamp("s"))
        return pc.cast(pc.if_else(present, parsed, pa.scalar(None, pa.timestamp("s"))), pa.date32()), \
            pc.is_valid(parsed)
    if spec.type == TIMESTAMP:
        ok = pc.match_substring_regex(trimmed, TIMESTAMP_RE)
        good = pc.fill_null(pc.and_(present, ok), False)
        return pc.cast(pc.if_else(good, trimmed, pa.scalar(None, pa.string())), pa.timestamp("us")), ok
    raise ValueError(f"unknown type {spec.type}")
