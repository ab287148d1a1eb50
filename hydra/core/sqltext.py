"""SQL text Hydra writes itself: identifiers and string literals, quoted for DuckDB.

``quote_ident`` quotes only where it must (the refs users read); ``q`` always quotes (column names
come from anywhere, and generated SQL need not be pretty).
"""

from __future__ import annotations

from functools import cache


@cache
def _keywords() -> frozenset[str]:
    from sqlglot.dialects.duckdb import DuckDB

    return frozenset(k.upper() for k in DuckDB.Tokenizer.KEYWORDS)


def quote_ident(name: str) -> str:
    """An identifier as DuckDB SQL, quoted only when it must be (case, spaces, keywords…)."""
    plain = name.isidentifier() and name.isascii() and name == name.lower()
    if plain and name.upper() not in _keywords():
        return name
    return '"' + name.replace('"', '""') + '"'


def q(name: str) -> str:
    """An identifier, always quoted."""
    return '"' + name.replace('"', '""') + '"'


def sql_string(text: str) -> str:
    """A string literal."""
    return "'" + str(text).replace("'", "''") + "'"
