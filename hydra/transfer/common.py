"""What PROFILE, EXTRACT and RECONCILE share: the items they work on and how to read one.

An ``Item`` is one thing to move or check: a source element (with its mark's filter and columns)
or a query (``EXTRACT (SELECT …)``). ``open_scan`` turns an item into a DuckDB table expression
on a given connection: the head's native scan when it has one (``read_csv('…')``), else the head's
Arrow reader registered as a view (with the filter's conjuncts pushed down where the head accepts
them), else the rewritten query. A filter is always re-applied in DuckDB; only key-range
predicates a head accepted are exact (``Scan.exact``), which lets EXTRACT skip DuckDB for the data.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from hydra.core.model import Element
from hydra.core.refs import ref_text
from hydra.core.sqltext import q, sql_string  # noqa: F401 - the transfer modules quote through common
from hydra.read.rewrite import scan_query
from hydra.read.scan import Scan, scan_element

NESTED = ("STRUCT", "MAP", "UNION")
NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
           "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "REAL", "INT", "INT2", "INT4", "INT8")
INTEGER = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
           "UBIGINT", "UHUGEINT", "INT", "INT2", "INT4", "INT8")
QUERY_SOURCE = "query"


def is_nested(type_: str) -> bool:
    t = type_.upper().strip()
    return t.endswith("]") or t.startswith(NESTED)


def is_numeric(type_: str) -> bool:
    t = type_.upper().strip()
    return not is_nested(t) and (t in NUMERIC or t.startswith("DECIMAL") or t.startswith("NUMERIC"))


def is_float(type_: str) -> bool:
    return type_.upper().strip() in ("FLOAT", "DOUBLE", "REAL")


def is_integer(type_: str) -> bool:
    return type_.upper().strip() in INTEGER


@dataclass
class Item:
    """One element (or query) to profile, extract or reconcile."""

    source: str
    ref: str
    element: Element | None = None
    filter: str | None = None  # MARK … WHERE predicate (DuckDB SQL)
    columns: list[str] | None = None  # marks.columns; None = all
    query: str | None = None  # EXTRACT (query): the user's SQL
    label: str | None = None  # the query's name in the target layout
    key: list[str] | None = None
    key_note: str | None = None  # how the key was chosen

    @property
    def is_query(self) -> bool:
        return self.query is not None


def safe_segment(text: str) -> str:
    """A column name in a partition folder name (``col=value``)."""
    cleaned = re.sub(r"[^A-Za-z0-9._=-]", "_", text).strip()
    if cleaned in ("", ".", ".."):
        cleaned = "_" + cleaned.replace(".", "_")
    return cleaned


def query_label(query: str) -> str:
    return "q" + hashlib.sha256(query.strip().encode()).hexdigest()[:12]


def items_for(ws, selections, marked_filters: bool = True) -> list[Item]:
    """Items of a selection (None = MARKED), with each marked element's filter and columns."""
    marks = {}
    for source, ref, filter_, columns in ws.con.execute(
            "SELECT source, ref, filter, columns FROM marks").fetchall():
        marks[(source, ref)] = (filter_, columns)
    items = []
    for source, element in ws.select(selections):
        ref = ref_text(source, element.parts)
        filter_, columns = marks.get((source, ref), (None, None)) if marked_filters else (None, None)
        item = Item(source, ref, element, filter_ or None, list(columns) if columns else None)
        choose_key(ws, item)
        items.append(item)
    return items


def choose_key(ws, item: Item) -> None:
    """The key used to bisect: the element's key, else a column named id, else the first integer
    column (CSV files have no declared key)."""
    if item.element is None:
        return
    columns = item.element.columns or []
    if item.element.key:
        item.key, item.key_note = list(item.element.key), "the element's key"
        return
    for c in columns:
        if c.name.lower() == "id":
            item.key, item.key_note = [c.name], "a column named id"
            return
    for c in columns:
        if is_integer(c.type):
            item.key, item.key_note = [c.name], "the first integer column"
            return


def open_scan(ws, item: Item, con, extra: list[str] | None = None, columns: list[str] | None = None,
              ranges: list | None = None) -> Scan:
    """A scan of the item on ``con`` (``hydra.read.scan``). ``extra`` predicates (SQL text, e.g.
    bisect's key ranges), ``ranges`` (Quals, a range of the head's ``split``) and the item's filter
    are offered to Arrow-reader heads; callers re-apply all of them in DuckDB."""
    if item.is_query:
        return scan_query(ws, item.query, con)
    return scan_element(ws, item.source, item.element, con, item.filter, extra, columns, ranges)


def where_sql(*predicates: str | None) -> str:
    found = [f"({p})" for p in predicates if p]
    return (" WHERE " + " AND ".join(found)) if found else ""


def row_hash_sql(columns: list[tuple[str, str]], cast: bool = True) -> str:
    """DuckDB's 64-bit hash of a row, over every column read as its recorded type.

    Casting to the recorded type makes the hash the same whatever the file format gives back
    (CSV text, JSON, Parquet), so the checksum can be recomputed from the target files.
    """
    if not columns:
        return "0::UBIGINT"
    parts = [f"CAST({q(n)} AS {t})" if cast else q(n) for n, t in columns]
    return f"hash({', '.join(parts)})"


CHECKSUM_MOD = 1 << 64
CHECKSUM_ALGORITHM = ("sum over rows of DuckDB hash(col1, col2, …) (columns cast to the types "
                      "recorded in the manifest), modulo 2^64; order-independent")


def checksum_sql(columns: list[tuple[str, str]], cast: bool = True) -> str:
    """The checksum of a relation's rows (as text): the sum of ``row_hash_sql`` modulo 2^64."""
    return f"(coalesce(sum({row_hash_sql(columns, cast)}), 0) % {CHECKSUM_MOD})::VARCHAR"
