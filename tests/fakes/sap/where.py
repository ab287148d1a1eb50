"""ABAP's dynamic WHERE, as RFC_READ_TABLE receives it in OPTIONS, parsed into a DuckDB predicate.

The grammar is the one reference/sap/RFC_READ_TABLE.md lists: comparisons with ``EQ NE LT LE GT
GE = <> < > <= >=``, ``[NOT] LIKE`` (with ``ESCAPE``), ``[NOT] IN ( … )``, ``[NOT] BETWEEN … AND
…``, ``IS [NOT] NULL`` (Open SQL's null test), ``AND OR NOT`` and parentheses; a column on the
left; on the right a literal in single quotes (``''`` is a quote), an integer, or a column.
Operands and operators are separated by blanks; an OPTIONS line holds at most 72 characters and a
token (a literal above all) never continues on the next line. Anything else raises
``OptionNotValid``, which RFC_READ_TABLE turns into its OPTION_NOT_VALID exception — also
``IS INITIAL``, which newer ABAP releases know but the reference does not list.

A literal is converted to the type of the column it is compared with, as ABAP converts it:
CHAR ignores trailing blanks, NUMC is padded with leading zeros, numbers are parsed, RAW is hex.

Stricter than a real system in one place, on purpose: a line longer than 72 characters is an
error here, where a real client silently cuts it to 72 (which may still parse, as a different
condition). A head that sends a long line is wrong either way; here it shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from .ddic import Field, quote

LINE_WIDTH = 72
_COMPARISONS = {"EQ": "=", "=": "=", "NE": "<>", "<>": "<>", "LT": "<", "<": "<",
                "LE": "<=", "<=": "<=", "GT": ">", ">": ">", "GE": ">=", ">=": ">="}
_KEYWORDS = {"AND", "OR", "NOT", "LIKE", "IN", "BETWEEN", "IS", "NULL", "ESCAPE"}


class OptionNotValid(ValueError):
    """The OPTIONS lines are not a valid dynamic WHERE for this table."""


@dataclass(frozen=True)
class Token:
    kind: str  # "lit" (quoted literal), "word", "punct" ( ( ) , )
    text: str


def tokenize(lines: list[str]) -> list[Token]:
    tokens: list[Token] = []
    for number, line in enumerate(lines, 1):
        if len(line) > LINE_WIDTH:
            raise OptionNotValid(f"OPTIONS line {number} is longer than {LINE_WIDTH} characters")
        tokens.extend(_tokenize_line(line, number))
    return tokens


def _tokenize_line(line: str, number: int) -> list[Token]:
    out: list[Token] = []
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if c == " ":
            i += 1
        elif c == "'":
            if i and line[i - 1] not in " (,":
                raise OptionNotValid(f"line {number}: a literal must follow a blank")
            j, text = i + 1, []
            while True:
                if j >= n:
                    raise OptionNotValid(f"line {number}: literal not closed on its line")
                if line[j] == "'":
                    if j + 1 < n and line[j + 1] == "'":
                        text.append("'")
                        j += 2
                        continue
                    break
                text.append(line[j])
                j += 1
            if j + 1 < n and line[j + 1] not in " ),":
                raise OptionNotValid(f"line {number}: a literal must be followed by a blank")
            out.append(Token("lit", "".join(text)))
            i = j + 1
        elif c in "(),":
            out.append(Token("punct", c))
            i += 1
        else:
            j = i
            while j < n and line[j] not in " (),'":
                j += 1
            out.append(Token("word", line[i:j].upper()))
            i = j
    return out


def to_sql(lines: list[str], fields: dict[str, Field]) -> str | None:
    """The DuckDB predicate for OPTIONS lines over a table with ``fields``; None when empty."""
    tokens = tokenize(lines)
    if not tokens:
        return None
    parser = _Parser(tokens, fields)
    sql = parser.expr()
    if parser.pos != len(tokens):
        raise OptionNotValid(f"unexpected {tokens[parser.pos].text!r}")
    return sql


class _Parser:
    def __init__(self, tokens: list[Token], fields: dict[str, Field]):
        self.tokens, self.fields, self.pos = tokens, fields, 0

    # -- token helpers -------------------------------------------------------------------------
    def peek(self, offset: int = 0) -> Token | None:
        i = self.pos + offset
        return self.tokens[i] if i < len(self.tokens) else None

    def is_word(self, *words: str, offset: int = 0) -> bool:
        tok = self.peek(offset)
        return tok is not None and tok.kind == "word" and tok.text in words

    def is_punct(self, char: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.kind == "punct" and tok.text == char

    def take(self) -> Token:
        tok = self.peek()
        if tok is None:
            raise OptionNotValid("condition ends too early")
        self.pos += 1
        return tok

    def expect_word(self, word: str) -> None:
        if not self.is_word(word):
            raise OptionNotValid(f"expected {word}")
        self.pos += 1

    def expect_punct(self, char: str) -> None:
        if not self.is_punct(char):
            raise OptionNotValid(f"expected {char!r}")
        self.pos += 1

    # -- grammar -------------------------------------------------------------------------------
    def expr(self) -> str:
        parts = [self.term()]
        while self.is_word("OR"):
            self.pos += 1
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"

    def term(self) -> str:
        parts = [self.factor()]
        while self.is_word("AND"):
            self.pos += 1
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"

    def factor(self) -> str:
        if self.is_word("NOT"):
            self.pos += 1
            return f"(NOT {self.factor()})"
        if self.is_punct("("):
            self.pos += 1
            inner = self.expr()
            self.expect_punct(")")
            return f"({inner})"
        return self.predicate()

    def predicate(self) -> str:
        field = self.column(self.take())
        col = quote(field.name)
        if self.is_word("IS"):
            self.pos += 1
            negated = self.is_word("NOT")
            if negated:
                self.pos += 1
            self.expect_word("NULL")
            return f"({col} IS {'NOT ' if negated else ''}NULL)"
        negated = self.is_word("NOT")
        if negated:
            self.pos += 1
        if self.is_word("LIKE"):
            self.pos += 1
            return self.like(field, negated)
        if self.is_word("IN"):
            self.pos += 1
            return self.in_list(field, negated)
        if self.is_word("BETWEEN"):
            self.pos += 1
            low = self.operand(field)
            self.expect_word("AND")
            high = self.operand(field)
            return f"({col} {'NOT ' if negated else ''}BETWEEN {low} AND {high})"
        if negated:
            raise OptionNotValid("NOT must precede LIKE, IN or BETWEEN here")
        tok = self.take()
        if tok.kind != "word" or tok.text not in _COMPARISONS:
            raise OptionNotValid(f"{tok.text!r} is not an operator")
        return f"({col} {_COMPARISONS[tok.text]} {self.operand(field)})"

    def like(self, field: Field, negated: bool) -> str:
        if field.kind not in ("char", "numc", "dats", "tims"):
            raise OptionNotValid(f"LIKE needs a character-like column, not {field.name}")
        pattern = self.take()
        if pattern.kind != "lit":
            raise OptionNotValid("LIKE needs a literal pattern")
        sql = f"({quote(field.name)} {'NOT ' if negated else ''}LIKE {_string(pattern.text)}"
        if self.is_word("ESCAPE"):
            self.pos += 1
            escape = self.take()
            if escape.kind != "lit" or len(escape.text) != 1:
                raise OptionNotValid("ESCAPE needs a one-character literal")
            sql += f" ESCAPE {_string(escape.text)}"
        return sql + ")"

    def in_list(self, field: Field, negated: bool) -> str:
        self.expect_punct("(")
        values = [self.operand(field)]
        while self.is_punct(","):
            self.pos += 1
            values.append(self.operand(field))
        self.expect_punct(")")
        return f"({quote(field.name)} {'NOT ' if negated else ''}IN ({', '.join(values)}))"

    def column(self, tok: Token) -> Field:
        if tok.kind != "word" or tok.text in _KEYWORDS or tok.text not in self.fields:
            raise OptionNotValid(f"{tok.text!r} is not a column of the table")
        field = self.fields[tok.text]
        if field.kind == "string":
            raise OptionNotValid(f"{field.name} is a string column")
        return field

    def operand(self, field: Field) -> str:
        tok = self.take()
        if tok.kind == "lit":
            return literal(field, tok.text)
        if tok.kind == "word" and _is_integer(tok.text):
            return literal(field, tok.text)
        if tok.kind == "word" and tok.text in self.fields and tok.text not in _KEYWORDS:
            return quote(self.column(tok).name)
        raise OptionNotValid(f"{tok.text!r} is not an operand")


def _is_integer(text: str) -> bool:
    body = text[1:] if text[:1] in "+-" else text
    return body.isdigit()


def _string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def literal(field: Field, text: str) -> str:
    """The SQL literal for ``text`` converted to the type of ``field`` (ABAP's conversion)."""
    kind = field.kind
    if kind == "char":
        return _string(text.rstrip(" "))
    if kind == "numc":
        digits = text.strip()
        if not digits.isdigit() or len(digits.lstrip("0")) > field.leng:
            raise OptionNotValid(f"{text!r} is not a value of NUMC {field.name}")
        return _string(digits[-field.leng:].rjust(field.leng, "0"))
    if kind in ("dats", "tims"):
        return _string(text)
    if kind in ("packed", "int", "float"):
        body = text.strip()
        if body.endswith("-"):  # ABAP accepts the commercial trailing minus in a literal
            body = "-" + body[:-1]
        try:
            number = Decimal(body)
        except InvalidOperation:
            raise OptionNotValid(f"{text!r} is not a number for {field.name}") from None
        if not number.is_finite():
            raise OptionNotValid(f"{text!r} is not a number for {field.name}")
        return format(number, "f")  # DuckDB compares a decimal literal exactly with any number
    if kind == "raw":
        try:
            bytes.fromhex(text)
        except ValueError:
            raise OptionNotValid(f"{text!r} is not hex for RAW {field.name}") from None
        return f"from_hex({_string(text)})"
    raise OptionNotValid(f"{field.name} cannot be compared")
