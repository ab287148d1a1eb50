"""PostgreSQL tables without a usable key, split by block ranges of ``ctid`` (as DuckDB's own
postgres scanner does).

Every row version of a heap table lives in one block, and ``ctid`` = (block, line) says which, so
``ctid >= '(a,0)' AND ctid < '(b,0)'`` over blocks 0..n partitions the rows of one snapshot exactly
— whatever the columns are, with or without a key. Since PostgreSQL 14 the planner reads such a
range with a TID Range Scan: only those blocks, sequentially, so each range reader costs the
server its share of the table and no more (before 14 each reader would scan the whole table and
filter: no split there). The first range is open below and the last open above, so a table that
grew since its size was taken still loses no row: the last reader reads the new blocks.

A range is expressed as Quals on the column ``ctid`` (``LOCATOR``), which no user table can have
(PostgreSQL reserves the name for the system column): the head renders them itself (``render``),
and the manifest records them as ``ctid >= '(1234,0)'``. They exist only at the source: DuckDB
never sees a ``ctid`` column, so the caller does not re-apply them.
"""

from __future__ import annotations

from hydra.core.model import Element
from hydra.heads.base import Qual

LOCATOR = "ctid"
MIN_VERSION = 140000  # TID Range Scan
_RELKINDS = ("r", "m")  # heap tables and materialized views (a view or partitioned parent has no blocks)


def split(head, element: Element, parts: int) -> list[list[Qual]] | None:
    """``parts`` block ranges of similar size, or None (too small, no heap, server before 14)."""
    sql = ("SELECT current_setting('server_version_num')::int, c.relkind, "
           "GREATEST(c.relpages::bigint, pg_relation_size(c.oid) / current_setting('block_size')::int) "
           "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
           "WHERE n.nspname = %(s)s AND c.relname = %(t)s")
    try:
        row = head.fetch_one(sql, {"s": element.parts[0], "t": element.parts[-1]})
    except Exception:  # noqa: BLE001 - without the block count the table is read as one range
        return None
    if row is None:
        return None
    version, relkind, blocks = row
    if version < MIN_VERSION or relkind not in _RELKINDS or not blocks:
        return None
    parts = min(parts, int(blocks))
    if parts < 2:
        return None
    cuts = [(int(blocks) * i) // parts for i in range(1, parts)]
    edges = [None, *cuts, None]
    ranges = []
    for a, b in zip(edges, edges[1:]):
        quals = []
        if a is not None:
            quals.append(Qual(LOCATOR, ">=", (f"({a},0)",)))
        if b is not None:
            quals.append(Qual(LOCATOR, "<", (f"({b},0)",)))
        ranges.append(quals)
    return ranges


def is_locator(qual: Qual) -> bool:
    return qual.op != "or" and qual.column == LOCATOR


def render(qual: Qual) -> str | None:
    """A block bound in PostgreSQL's SQL, or None when the Qual is not one this module made."""
    if qual.op not in (">=", "<") or len(qual.values) != 1 or not isinstance(qual.value, str):
        return None
    block, _, line = qual.value.strip("()").partition(",")
    if not (block.isdigit() and line.isdigit()):
        return None
    return f"ctid {qual.op} '({int(block)},{int(line)})'::tid"
