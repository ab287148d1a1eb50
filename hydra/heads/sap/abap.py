"""Predicates rendered as RFC_READ_TABLE's OPTIONS: ABAP's dynamic WHERE, in lines of at most 72
characters, operands separated by blanks, literals in single quotes with quotes doubled, and no
token ever split across two lines (reference/sap/RFC_READ_TABLE.md).

``translate`` takes predicates as ``hydra.core.quals.Qual`` or ``(column, op, values)``
tuples, op one of ``= != <> < <= > >= IN, NOT IN, BETWEEN, LIKE, NOT LIKE, IS NULL, IS NOT
NULL`` (any case). Given the columns' dictionary types it also says which predicates the system then
applies *exactly* as Hydra would on the converted values, and which only as a superset (which is
still safe to push, because DuckDB applies the whole WHERE again):
- CHAR: ABAP ignores trailing blanks, so a literal with one (or longer than the field) is left to
  DuckDB; NUMC: only a literal of exactly the field's digits compares as text does;
- DATS: ``00000000`` is NULL to Hydra but the smallest date to ABAP, so ``< <= != NOT IN`` return
  a superset, while ``IS NULL`` becomes ``( F = '00000000' OR F IS NULL )``, exactly;
- RAW: only a value of the field's length (ABAP pads a shorter one with zero bytes).
Anything not expressible (a literal longer than a line, a NULL operand, a string type) is rejected
and stays with DuckDB.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Mapping, Protocol, Sequence

LINE_WIDTH = 72
_OPERATORS = {"=": "=", "==": "=", "!=": "<>", "<>": "<>", "<": "<", "<=": "<=", ">": ">",
              ">=": ">="}
_SUPERSET_ON_DATS = {"<", "<=", "!=", "<>", "NOT IN"}  # they keep the 00000000 rows


class Unexpressible(ValueError):
    """The predicate cannot be written as an OPTIONS condition."""


class ColumnType(Protocol):
    """What the translator needs of a column: its ABAP internal type and dictionary length."""

    inttype: str
    length: int


Predicate = tuple[str, str, Sequence[Any]]  # or a hydra.core.quals.Qual


def parts(predicate) -> tuple[str, str, Sequence[Any]]:
    """(column, op, values) of a Qual or a tuple."""
    if isinstance(predicate, tuple):
        return predicate
    return predicate.column, predicate.op, predicate.values


@dataclass
class Translation:
    words: list[str] = field(default_factory=list)
    exact: list[Predicate] = field(default_factory=list)  # applied exactly by the system
    superset: list[Predicate] = field(default_factory=list)  # pushed, but DuckDB must re-check
    rejected: list[Predicate] = field(default_factory=list)  # not pushed

    @property
    def lines(self) -> list[str]:
        return wrap(self.words)


def translate(predicates: Sequence[Predicate],
              types: Mapping[str, ColumnType] | None = None) -> Translation:
    """The conjunction of every expressible predicate as OPTIONS words (see ``lines``).
    Without ``types`` nothing is known to be exact: every pushed predicate is a superset."""
    out = Translation()
    for predicate in predicates:
        column, op, values = parts(predicate)
        op = op.upper()
        ctype = (types or {}).get(column)
        try:
            words = condition(column, op, values, ctype)
            wrap(words)  # every word must fit on a line
        except Unexpressible:
            out.rejected.append(predicate)
            continue
        if out.words:
            out.words.append("AND")
        out.words.extend(words)
        if ctype is not None and _exact(op, ctype):
            out.exact.append(predicate)
        else:
            out.superset.append(predicate)
    return out


def condition(column: str, op: str, values: Sequence[Any],
              ctype: ColumnType | None = None) -> list[str]:
    """The words of one predicate; raises Unexpressible."""
    op = op.upper()
    if ctype is not None:
        _check_type(op, values, ctype)
    if op in ("IS NULL", "IS NOT NULL"):
        if ctype is not None and ctype.inttype == "D":  # Hydra's NULL date is ABAP's initial one
            if op == "IS NULL":
                return ["(", column, "=", "'00000000'", "OR", column, "IS", "NULL", ")"]
            return [column, "<>", "'00000000'"]
        return [column, *op.split()]
    if op in _OPERATORS:
        (value,) = _arity(values, 1)
        return [column, _OPERATORS[op], literal(value)]
    if op in ("IN", "NOT IN"):
        if not values:
            raise Unexpressible("IN needs values")
        words = [column, *op.split(), "("]
        for i, value in enumerate(values):
            words.extend([",", literal(value)] if i else [literal(value)])
        return [*words, ")"]
    if op == "BETWEEN":
        low, high = _arity(values, 2)
        return [column, "BETWEEN", literal(low), "AND", literal(high)]
    if op in ("LIKE", "NOT LIKE"):
        (pattern,) = _arity(values, 1)
        if not isinstance(pattern, str):
            raise Unexpressible("LIKE needs a text pattern")
        return [column, *op.split(), literal(pattern)]
    raise Unexpressible(f"no ABAP operator for {op}")


def _arity(values: Sequence[Any], n: int) -> Sequence[Any]:
    if len(values) != n:
        raise Unexpressible(f"expected {n} value(s)")
    return values


def _check_type(op: str, values: Sequence[Any], ctype: ColumnType) -> None:
    """Reject what the system would not compare the way Hydra compares converted values."""
    kind = ctype.inttype
    if kind in ("g", "y"):
        raise Unexpressible("string types cannot be selected on")
    if op in ("IS NULL", "IS NOT NULL"):
        if kind != "D":  # other types never arrive as NULL: DuckDB answers alone
            raise Unexpressible("only DATS has NULLs")
        return
    if op in ("LIKE", "NOT LIKE") and kind not in ("C", "N"):
        raise Unexpressible("LIKE needs a character column")
    for value in values:
        if value is None:
            raise Unexpressible("NULL operand")
        if kind == "C" and op not in ("LIKE", "NOT LIKE") and (
                not isinstance(value, str) or value != value.rstrip(" ")
                or len(value) > ctype.length):
            raise Unexpressible("CHAR literal that ABAP would pad or cut")
        if kind == "N" and op not in ("LIKE", "NOT LIKE") and (
                not isinstance(value, str) or not value.isdigit() or len(value) != ctype.length):
            raise Unexpressible("NUMC literal that ABAP would convert")
        if kind == "D" and not (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
            raise Unexpressible("DATS needs a date")
        if kind == "T" and not isinstance(value, dt.time):
            raise Unexpressible("TIMS needs a time")
        if kind in ("P", "I", "b", "s", "8", "F") and (
                isinstance(value, bool) or not isinstance(value, (int, float, Decimal))):
            raise Unexpressible("a number column needs a number")
        if kind == "X" and not (isinstance(value, (bytes, bytearray))
                                and len(value) == ctype.length):
            raise Unexpressible("RAW needs bytes of the field's length")


def _exact(op: str, ctype: ColumnType) -> bool:
    return not (ctype.inttype == "D" and op in _SUPERSET_ON_DATS)


def literal(value: Any) -> str:
    """An ABAP literal word: the value's text in quotes, quotes doubled (ABAP converts a quoted
    literal to the column's type, numbers included)."""
    if value is None or isinstance(value, bool):
        raise Unexpressible(f"no ABAP literal for {value!r}")
    if isinstance(value, str):
        text = value
    elif isinstance(value, int):
        text = str(value)
    elif isinstance(value, (Decimal, float)):
        number = Decimal(repr(value)) if isinstance(value, float) else value
        if not number.is_finite():
            raise Unexpressible(f"no ABAP literal for {value!r}")
        text = format(number, "f")
    elif isinstance(value, dt.datetime):
        raise Unexpressible("ABAP has no timestamp literal for a DATS or TIMS field")
    elif isinstance(value, dt.date):
        text = value.strftime("%Y%m%d")
    elif isinstance(value, dt.time):
        if value.microsecond:
            raise Unexpressible("TIMS holds whole seconds")
        text = value.strftime("%H%M%S")
    elif isinstance(value, (bytes, bytearray)):
        text = bytes(value).hex().upper()
    else:
        raise Unexpressible(f"no ABAP literal for {type(value).__name__}")
    word = "'" + text.replace("'", "''") + "'"
    if len(word) > LINE_WIDTH:
        raise Unexpressible("literal longer than an OPTIONS line")
    return word


def wrap(words: Sequence[str]) -> list[str]:
    """Words packed into lines of at most 72 characters; a word is never split."""
    lines: list[str] = []
    current = ""
    for word in words:
        if len(word) > LINE_WIDTH:
            raise Unexpressible(f"{word[:20]}… is longer than an OPTIONS line")
        if not current:
            current = word
        elif len(current) + 1 + len(word) <= LINE_WIDTH:
            current += " " + word
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines


def key_range(names: Sequence[str], low: Sequence[str] | None,
              high: Sequence[str] | None) -> list[str]:
    """Words selecting keys ``low <= (names) < high`` in the key's order (either bound may be
    None). Values are literal texts. The fields both bounds share become equalities, and the
    first differing field gets plain bounds too, so the database can use the primary index."""
    if low is None and high is None:
        return []
    prefix = 0
    if low is not None and high is not None:
        while prefix < len(names) - 1 and low[prefix] == high[prefix]:
            prefix += 1
    parts: list[list[str]] = [[names[i], "=", literal(low[i])] for i in range(prefix)]
    rest = names[prefix:]
    if low is not None:
        if len(rest) > 1:
            parts.append([rest[0], ">=", literal(low[prefix])])
        parts.append(_lexicographic(rest, low[prefix:], ">", ">="))
    if high is not None:
        if len(rest) > 1:
            parts.append([rest[0], "<=", literal(high[prefix])])
        parts.append(_lexicographic(rest, high[prefix:], "<", "<"))
    return conjunction(parts)


def _lexicographic(names: Sequence[str], values: Sequence[str], strict: str,
                   last: str) -> list[str]:
    """(names) compared with (values): ``( A > 'a' OR ( A = 'a' AND ( … ) ) )``."""
    if len(names) == 1:
        return [names[0], last, literal(values[0])]
    inner = _lexicographic(names[1:], values[1:], strict, last)
    head, value = names[0], literal(values[0])
    return ["(", head, strict, value, "OR", "(", head, "=", value, "AND", *inner, ")", ")"]


def conjunction(parts: Sequence[Sequence[str]]) -> list[str]:
    """``a AND b AND …``, each part in parentheses when it holds an OR."""
    words: list[str] = []
    for part in parts:
        if not part:
            continue
        if words:
            words.append("AND")
        needs_parens = "OR" in part and not (part[0] == "(" and _closes_at_end(part))
        words.extend(["(", *part, ")"] if needs_parens else part)
    return words


def _closes_at_end(words: Sequence[str]) -> bool:
    depth = 0
    for i, word in enumerate(words):
        depth += {"(": 1, ")": -1}.get(word, 0)
        if depth == 0 and i < len(words) - 1:
            return False
    return True
