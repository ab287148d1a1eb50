"""The catalog statements: ATTACH, DETACH, REFRESH, MARK, UNMARK."""

from __future__ import annotations

from hydra.core.clock import now
from hydra.core.errors import StatementError
from hydra.core.refs import ref_text
from hydra.core.statement import Result
from hydra.statements.registry import statement
from hydra.statements.selection import selection_and_where
from hydra.statements.tokens import Cursor


@statement(
    "ATTACH",
    syntax="ATTACH [OR REPLACE | IF NOT EXISTS] '<uri or path>' AS name [(TYPE kind, OPTION value, …)]",
    help="Attach a source (folder, database URL, s3://…) and list its elements",
)
def attach(ws, stmt) -> Result:
    cur = Cursor(stmt)
    replace = cur.accept("OR")
    if replace:
        cur.expect("REPLACE")
    if_missing = cur.accept("IF")
    if if_missing:
        cur.expect("NOT")
        cur.expect("EXISTS")
    uri = cur.string("a URI or path")
    cur.expect("AS")
    name = cur.name("a source name")
    options = cur.options()
    cur.done()
    if if_missing and ws.has_source(name):
        return Result(message=f"{name} is already attached")
    count, note = ws.attach(uri, name, options, replace=replace)
    message = f"attached {name}: {count} element{'s' * (count != 1)}"
    return Result(message=f"{message}\nnote: {note}" if note else message)


@statement("DETACH", syntax="DETACH name", help="Forget a source, its elements and its marks")
def detach(ws, stmt) -> Result:
    cur = Cursor(stmt)
    name = cur.name("a source name")
    cur.done()
    ws.detach(name)
    return Result(message=f"detached {name}")


@statement("REFRESH", syntax="REFRESH name", help="Enumerate a source again (its elements are a snapshot)")
def refresh(ws, stmt) -> Result:
    cur = Cursor(stmt)
    name = cur.name("a source name")
    cur.done()
    count = ws.refresh(name)
    return Result(message=f"refreshed {name}: {count} element{'s' * (count != 1)}")


@statement(
    "MARK",
    syntax="MARK <ref | glob | MARKED>[, …] [WHERE <predicate on the element's rows>]",
    help="Mark elements for EXTRACT, optionally only the rows matching WHERE",
)
def mark(ws, stmt) -> Result:
    selections, predicate = selection_and_where(stmt)
    chosen = ws.select(selections)
    if predicate is not None:
        _check_predicate(ws, chosen, predicate)
    marked_at = now()
    rows = [(source, ref_text(source, e.parts), predicate, marked_at) for source, e in chosen]
    ws.con.executemany(
        "INSERT INTO marks (source, ref, filter, marked_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (source, ref) DO UPDATE SET filter = excluded.filter, marked_at = excluded.marked_at",
        rows)
    total = ws.query("SELECT count(*) FROM marks")[0][0]
    return Result(message=f"marked {len(rows)} element{'s' * (len(rows) != 1)} ({total} marked in all)")


def _check_predicate(ws, chosen, predicate: str) -> None:
    """A MARK predicate must be valid SQL over each element's columns (checked, not run)."""
    import sqlglot
    from sqlglot import exp

    try:
        parsed = sqlglot.parse_one(predicate, read="duckdb")
    except sqlglot.errors.ParseError as err:
        raise StatementError(f"MARK: cannot read the WHERE predicate: {str(err).splitlines()[0]}") from None
    used = {c.name.lower() for c in parsed.find_all(exp.Column)}
    for source, element in chosen:
        known = {c.name.lower() for c in element.columns or ()}
        missing = sorted(used - known) if element.columns is not None else []
        if missing:
            raise StatementError(f"MARK: {ref_text(source, element.parts)} has no column {missing[0]!r}")


@statement("UNMARK", syntax="UNMARK <ref | glob | MARKED>[, …]", help="Remove marks")
def unmark(ws, stmt) -> Result:
    selections, predicate = selection_and_where(stmt)
    if predicate is not None:
        raise StatementError("UNMARK takes no WHERE")
    if selections is None:
        count = ws.query("SELECT count(*) FROM marks")[0][0]
        ws.con.execute("DELETE FROM marks")
    else:
        refs = [(source, ref_text(source, e.parts)) for source, e in ws.select(selections)]
        marked = set(ws.con.execute("SELECT source, ref FROM marks").fetchall())
        gone = [r for r in refs if r in marked]
        ws.con.executemany("DELETE FROM marks WHERE source = ? AND ref = ?", gone)
        count = len(gone)
    return Result(message=f"unmarked {count} element{'s' * (count != 1)}")
