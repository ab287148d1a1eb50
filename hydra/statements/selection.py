"""Selections in statements: the refs, globs or ``MARKED`` after a statement's keyword."""

from __future__ import annotations

from hydra.core.errors import StatementError
from hydra.core.refs import parse_selection


def leading_selection(stmt, stop: str):
    """The selection after a statement's keyword, up to the first token of type ``stop``
    (``WHERE``, ``L_PAREN``…): (selections, None for MARKED), and the index in ``stmt.tokens``
    of that token, or None when the statement ends first."""
    tokens = stmt.tokens[1:]
    at = next((i for i, t in enumerate(tokens) if t.token_type.name == stop), None)
    chosen = tokens if at is None else tokens[:at]
    if not chosen:
        raise StatementError(f"{stmt.keyword}: expected a ref, a glob or MARKED")
    return parse_selection(chosen, stmt.text), (None if at is None else at + 1)


def selection_and_where(stmt):
    """Split ``<selection> [WHERE <predicate>]`` into the selection and the predicate text."""
    selections, where = leading_selection(stmt, "WHERE")
    if where is None:
        return selections, None
    predicate = stmt.text[stmt.tokens[where].end + 1:].strip()
    if not predicate:
        raise StatementError(f"{stmt.keyword}: WHERE needs a predicate")
    return selections, predicate
