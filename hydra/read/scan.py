"""Reading an element: the one path every read takes, for a query and for a transfer alike.

A head either names a DuckDB-native scan (``read_csv('…')``) or streams Arrow record batches,
which are registered on a connection as a view under a fresh name. Either way the caller gets a
DuckDB table expression. A query's refs are rewritten into such expressions (``rewrite``); a
transfer asks for one element at a time (``scan_element``), with a filter whose conjuncts are
offered to the head as Quals (``offer``). A filter is always re-applied in DuckDB; only the key
ranges of a head's own ``split`` are exact (``Scan.exact``), which lets EXTRACT skip DuckDB for the
data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from hydra.catalog.workspace import masked
from hydra.core.errors import HydraError, StatementError, one_line
from hydra.core.model import Element
from hydra.core.refs import ref_text
from hydra.heads.base import HeadError


@dataclass
class Scan:
    """A table expression on a connection, and what to release afterwards."""

    expr: str
    con: object
    views: list[str] = field(default_factory=list)
    pushed: list[str] = field(default_factory=list)  # the Quals handed to the head (as DuckDB SQL)
    native: bool = False
    reader: object = None  # the head's Arrow reader behind the view, for an Arrow-reader head
    exact: bool = False  # the head applies every predicate asked for: DuckDB need not filter again

    def close(self) -> None:
        for view in self.views:
            try:
                self.con.unregister(view)
            except Exception:  # noqa: BLE001 - the connection may already be closed
                pass
        self.views = []
        self.reader = None  # the last reference: the head's transfer stops (psql exits) now


def table_expr(ws, source: str, element: Element, columns=None, quals=None, limit=None,
               con: duckdb.DuckDBPyConnection | None = None) -> tuple[str, str | None]:
    """A DuckDB table expression that reads one element, and the name of the Arrow view it
    registered on ``con`` (to ``unregister`` after the statement), or None for native scans."""
    native = ws.head(source).scan_sql(element)
    if native is not None:
        check_readable(source, element)
        return native, None
    view = register(ws, reader(ws, source, element, columns, quals, limit), con)
    return view, view


def register(ws, batches_reader, con: duckdb.DuckDBPyConnection | None = None) -> str:
    """Register an Arrow reader as a view on ``con`` under a fresh name; the name.

    DuckDB reports a reader that fails mid-stream as a multi-line "Invalid Input Error:
    reading the stream … Python exception: Traceback", so the view remembers the head's own
    error for ``stream_failure`` to give back instead."""
    import pyarrow as pa

    view = f"__hydra_scan_{next(ws.view_ids)}"
    failures = ws.stream_failures

    def batches():
        try:
            yield from batches_reader
        except Exception as err:
            failures[view] = str(err) if isinstance(err, HydraError) else one_line(err)
            raise

    (con or ws.con).register(view, pa.RecordBatchReader.from_batches(batches_reader.schema, batches()))
    return view


def stream_failure(ws, views) -> HydraError | None:
    """The error the reader behind one of ``views`` failed with while DuckDB read it, if any."""
    found = [ws.stream_failures.pop(view) for view in views if view in ws.stream_failures]
    return HeadError(found[0]) if found else None


def reader_error(ws, scan: Scan | None, err: BaseException) -> HydraError | None:
    """The head's own error when ``err`` is DuckDB's wrapping of a reader of ``scan`` that failed
    while DuckDB read it ("Invalid Input Error: reading the stream … Python exception:
    Traceback"); None for any other error."""
    if scan is None or not isinstance(err, Exception) or isinstance(err, HydraError):
        return None
    return stream_failure(ws, scan.views)


def reader(ws, source: str, element: Element, columns=None, quals=None, limit=None):
    """The head's Arrow record batch reader over one element (for heads without a native scan)."""
    check_readable(source, element)
    head = ws.head(source)
    try:
        return head.read(element, columns, quals or [], limit)
    except HydraError:
        raise
    except Exception as err:  # noqa: BLE001 - a driver's error becomes one clear line, without secrets
        raise HeadError(f"{ref_text(source, element.parts)}: {masked(one_line(err), head)}") from err


def check_readable(source: str, element: Element) -> None:
    if element.error and element.columns is None:
        raise HeadError(f"{ref_text(source, element.parts)} cannot be read: {element.error}")


def scan_element(ws, source: str, element: Element, con, filter_: str | None = None,
                 extra: list[str] | None = None, columns: list[str] | None = None,
                 ranges: list | None = None) -> Scan:
    """A scan of one element on ``con``. ``extra`` predicates (SQL text, e.g. bisect's key
    ranges), ``ranges`` (Quals: a range of the head's own ``split``) and ``filter_`` (a mark's
    predicate) are offered to an Arrow-reader head; callers re-apply all of them."""
    from hydra.core.quals import to_sql

    head = ws.head(source)
    native = head.scan_sql(element)
    if native is not None:
        return Scan(native, con, native=True)
    conjuncts = parse_conjuncts(filter_)
    for text in extra or ():
        conjuncts.extend(parse_conjuncts(text))
    quals, whole = [], 0
    for conjunct in conjuncts:
        try:
            accepted, all_of_it = offer(head, element, conjunct)
        except Exception:  # noqa: BLE001 - a head that cannot judge a predicate does not get it
            continue
        quals += accepted
        whole += all_of_it
    quals += ranges or []  # a split range is the head's own: it takes it whole
    arrow = reader(ws, source, element, columns, quals, None)
    view = register(ws, arrow, con)
    # only key ranges count as exact: a user's filter may compare differently at the source
    # (collations, case-insensitive equality), so DuckDB applies it again
    exact = not filter_ and whole == len(conjuncts)
    pushed = [to_sql([q], "duckdb", quoted=False) for q in quals]
    return Scan(view, con, [view], pushed, reader=arrow, exact=exact)


def columns_only(quals: list | None, scan: Scan) -> list | None:
    """The Quals of a split range that DuckDB can apply again: those on the scan's columns. A
    head may split on what only the source can see (PostgreSQL's ``ctid`` block ranges); the head
    applies those itself (a range is the head's own, taken whole), DuckDB cannot."""
    if not quals:
        return quals
    names = {name.lower() for name in scan.con.sql(f"SELECT * FROM {scan.expr}").columns}
    return [q for q in quals if all(leaf.column.lower() in names for leaf in q.leaves())] or None


def offer(head, element: Element, conjunct) -> tuple[list, bool]:
    """The Quals of one conjunct (a sqlglot tree, columns unqualified) that ``head`` accepts, and
    whether it accepts them all (the conjunct is then applied at the source)."""
    from hydra.core.quals import from_sql

    quals = from_sql(conjunct) if conjunct is not None else None
    if not quals:
        return [], False
    quals = [named(q, element) for q in quals]
    accepted = [q for q in quals if head.can_filter(element, q)]
    return accepted, len(accepted) == len(quals)


def named(qual, element: Element):
    """The Qual with its column spelled as the element spells it (DuckDB resolves identifiers
    case-insensitively), so a head compares names exactly."""
    from dataclasses import replace

    if qual.op == "or":
        return replace(qual, values=tuple(named(q, element) for q in qual.values))
    matches = [c.name for c in element.columns or () if c.name.lower() == qual.column.lower()]
    exact = [m for m in matches if m == qual.column]
    return replace(qual, column=(exact or matches)[0]) if len(matches) == 1 or exact else qual


def parse_conjuncts(predicate: str | None):
    """A predicate as a list of sqlglot conjuncts (DuckDB dialect)."""
    if not predicate:
        return []
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(predicate, read="duckdb")
    except sqlglot.errors.ParseError as err:
        raise StatementError(f"cannot read the filter {predicate!r}: {str(err).splitlines()[0]}") from None
    return list(tree.flatten()) if isinstance(tree, exp.And) else [tree]
