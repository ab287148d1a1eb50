"""Element refs: the SQL text that names an element (``crm.public.orders``, ``f."a b.csv"``), and
selections over them (``f.*``, ``crm.sales.ord*``, ``MARKED``).

A ref is a list of identifiers; the first names the source. Unquoted identifiers match without
regard to case, as in SQL; quoted ones match exactly.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from hydra.core.errors import StatementError
from hydra.core.sqltext import quote_ident


def ref_text(source: str, parts: tuple[str, ...] | list[str]) -> str:
    """The canonical ref of an element: ``source.part1.part2`` with quoting where needed."""
    return ".".join(quote_ident(p) for p in (source, *parts))


@dataclass(frozen=True)
class Name:
    """One identifier (or glob) of a written ref."""

    text: str
    quoted: bool

    def matches(self, actual: str) -> bool:
        if any(ch in self.text for ch in "*?["):
            if self.quoted:
                return fnmatch.fnmatchcase(actual, self.text)
            return fnmatch.fnmatchcase(actual.lower(), self.text.lower())
        return actual == self.text if self.quoted else actual.lower() == self.text.lower()

    @property
    def is_star(self) -> bool:
        return self.text == "*" and not self.quoted


def names_match(written: list[Name], source: str, parts: tuple[str, ...]) -> bool:
    """Whether a written ref or glob selects the element ``source.parts``.

    A trailing unquoted ``*`` also matches deeper levels: ``crm.*`` selects ``crm.public.orders``.
    """
    actual = (source, *parts)
    if written and written[-1].is_star and len(written) <= len(actual):
        return all(n.matches(a) for n, a in zip(written[:-1], actual))
    return len(written) == len(actual) and all(n.matches(a) for n, a in zip(written, actual))


def parse_selection(tokens, text: str) -> list[list[Name]] | None:
    """Turn the tokens of a selection into comma-separated name lists; None means ``MARKED``.

    Tokens are sqlglot tokens (``start``/``end`` are offsets into ``text``); adjacent tokens with
    no space between them form one name, so ``ord*`` and ``f.*`` read naturally.
    """
    from sqlglot.tokens import TokenType

    if len(tokens) == 1 and tokens[0].text.upper() == "MARKED":
        return None
    selections: list[list[Name]] = []
    current: list[Name] = []
    piece: list = []

    def close_piece():
        if not piece:
            raise StatementError(f"expected a ref or glob in {text.strip()!r}")
        quoted = any(t.token_type == TokenType.IDENTIFIER for t in piece)
        joined = "".join(t.text for t in piece)
        current.append(Name(joined, quoted))
        piece.clear()

    previous_end = None
    for token in tokens:
        if token.token_type == TokenType.COMMA:
            close_piece()
            selections.append(current)
            current = []
        elif token.token_type == TokenType.DOT:
            close_piece()
        else:
            if piece and previous_end is not None and token.start != previous_end + 1:
                raise StatementError(f"unexpected {token.text!r} in selection {text.strip()!r}")
            piece.append(token)
        previous_end = token.end
    close_piece()
    selections.append(current)
    return selections


def written_names(parts) -> list[Name]:
    """Names of a sqlglot ``Table``'s identifiers (catalog, db, table…)."""
    return [Name(p.name, bool(p.args.get("quoted"))) for p in parts]
