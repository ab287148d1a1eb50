"""The transfer statements' grammar: PROFILE, EXTRACT and RECONCILE; ``hydra.transfer`` does the work."""

from __future__ import annotations

from hydra.core.errors import StatementError
from hydra.core.refs import parse_selection
from hydra.core.statement import Result
from hydra.statements.registry import statement
from hydra.statements.selection import leading_selection
from hydra.statements.tokens import Cursor

EXTRACT_SYNTAX = ("EXTRACT <MARKED | ref | glob[, …] | (query)> TO '<folder | s3://bucket/prefix>' "
                  "[(FORMAT parquet|csv|jsonl, COMPRESSION zstd|snappy|gzip|none, ROWS_PER_FILE n, "
                  "PARTITION_BY 'column', WORKERS n, OVERWRITE true, NAME 'label', SNAPSHOT shared|per_reader|off, "
                  "ENGINE local|dask, SCHEDULER 'tcp://host:8786', PER_SOURCE n)]")
RECONCILE_SYNTAX = ("RECONCILE <LAST | MARKED | ref | glob[, …]> [(AGAINST NOW)] | "
                    "RECONCILE <MARKED | ref | glob[, …]> AGAINST <ref | glob[, …]> [(KEY 'column', "
                    "COLUMNS 'a,b', MAP 'left=right, …', TOLERANCE 'column=0.005, …', WHERE 'predicate', "
                    "PRECISION s|ms|us, TRIM true|false, PARQUET 'differences.parquet')]")


def parse_selection_options(stmt):
    """``<selection> [(OPTION value, …)]`` → (selections, options)."""
    selections, options_at = leading_selection(stmt, "L_PAREN")
    options = {}
    if options_at is not None:
        cur = Cursor(stmt)
        cur.i = options_at
        options = cur.options()
        cur.done()
    return selections, options


@statement(
    "PROFILE",
    syntax="PROFILE <ref | glob | MARKED>[, …] [(DISTINCT exact|approx, WORKERS n)]",
    help="Compute exact row counts and per-column statistics at the source into stats",
)
def profile(ws, stmt) -> Result:
    from hydra.transfer.profile import profile as run

    selections, options = parse_selection_options(stmt)
    return run(ws, selections, options)


def parse_extract(stmt):
    """(selections or None, query or None, target, options)."""
    tokens = stmt.tokens
    if len(tokens) < 2:
        raise StatementError(f"EXTRACT: expected what to extract; syntax: {EXTRACT_SYNTAX}")
    query = None
    if tokens[1].token_type.name == "L_PAREN":
        depth, end = 0, None
        for i in range(1, len(tokens)):
            kind = tokens[i].token_type.name
            depth += kind == "L_PAREN"
            depth -= kind == "R_PAREN"
            if depth == 0:
                end = i
                break
        if end is None:
            raise StatementError("EXTRACT: the query's parenthesis is not closed")
        query = stmt.text[tokens[1].end + 1: tokens[end].start].strip()
        if not query:
            raise StatementError("EXTRACT: the query is empty")
        to_at = end + 1
        selections = None
    else:
        to_at = next((i for i, t in enumerate(tokens) if i and t.text.upper() == "TO"
                      and t.token_type.name not in ("IDENTIFIER", "STRING")), None)
        if to_at is None:
            raise StatementError(f"EXTRACT: expected TO '<folder or s3://…>'; syntax: {EXTRACT_SYNTAX}")
        if to_at == 1:
            raise StatementError(f"EXTRACT: expected MARKED, a ref or a glob; syntax: {EXTRACT_SYNTAX}")
        selections = parse_selection(tokens[1:to_at], stmt.text)
    cur = Cursor(stmt)
    cur.i = to_at
    cur.expect("TO")
    target = cur.string("the target folder or s3:// prefix")
    from hydra.transfer.extract import parse_options

    options = parse_options(cur.options())
    cur.done()
    return selections, query, target, options


@statement("EXTRACT", syntax=EXTRACT_SYNTAX,
           help="Copy marked elements, a selection or a query to a folder or S3, with manifests")
def extract(ws, stmt) -> Result:
    from hydra.transfer.extract import extract as run

    selections, query, target_uri, options = parse_extract(stmt)
    return run(ws, stmt.text, selections, query, target_uri, options)


def against_at(tokens) -> int | None:
    """Where a bare AGAINST stands before the options (``RECONCILE a AGAINST b``); None when the
    statement has none (``AGAINST NOW`` inside the parenthesis is the extract's option)."""
    for i, t in enumerate(tokens):
        if i and t.token_type.name == "L_PAREN":
            return None
        if i and t.text.upper() == "AGAINST" and t.token_type.name not in ("IDENTIFIER", "STRING"):
            return i
    return None


def parse_reconcile_against(stmt, at: int):
    """``RECONCILE <left> AGAINST <right> [(options)]`` → (left selections, right selections, options)."""
    tokens = stmt.tokens
    if at == 1:
        raise StatementError(f"RECONCILE: expected MARKED, a ref or a glob before AGAINST; syntax: {RECONCILE_SYNTAX}")
    open_at = next((i for i in range(at, len(tokens)) if tokens[i].token_type.name == "L_PAREN"), len(tokens))
    right = tokens[at + 1:open_at]
    if not right:
        raise StatementError(f"RECONCILE: expected a ref or a glob after AGAINST; syntax: {RECONCILE_SYNTAX}")
    if len(right) == 1 and right[0].text.upper() in ("NOW", "SNAPSHOT"):
        raise StatementError(f"RECONCILE: AGAINST {right[0].text} is an option of RECONCILE of an extract: write "
                             f"RECONCILE <selection> (AGAINST {right[0].text.upper()}); to compare with an element "
                             f"named {right[0].text}, quote it")
    left_selection = parse_selection(tokens[1:at], stmt.text)
    right_selection = parse_selection(right, stmt.text)
    if right_selection is None:
        raise StatementError("RECONCILE … AGAINST MARKED: the marked elements go on the left")
    cur = Cursor(stmt)
    cur.i = open_at
    options = cur.options()
    cur.done()
    return left_selection, right_selection, options


def parse_reconcile_options(stmt) -> tuple[list, bool]:
    """The selection's tokens, and whether to compare against the source now (``AGAINST NOW``)."""
    tokens = stmt.tokens
    open_at = next((i for i, t in enumerate(tokens) if i and t.token_type.name == "L_PAREN"), len(tokens))
    cur = Cursor(stmt)
    cur.i = open_at
    options = cur.options()
    cur.done()
    unknown = sorted(set(options) - {"AGAINST"})
    if unknown:
        raise StatementError(f"RECONCILE: unknown option {unknown[0]}; accepted: AGAINST NOW")
    against = options.get("AGAINST", "SNAPSHOT").upper()
    if against not in ("NOW", "SNAPSHOT"):
        raise StatementError(f"RECONCILE: AGAINST takes NOW (the source as it is now) or SNAPSHOT (the "
                             f"figures taken when the element was read, the default), not {options['AGAINST']}")
    return tokens[1:open_at], against == "NOW"


@statement(
    "RECONCILE",
    syntax=RECONCILE_SYNTAX,
    help="Compare extracted elements at the target with the source: counts, aggregates, checksums; "
         "against the figures taken in the extract's snapshot, with the source's drift since. "
         "With AGAINST <ref>: compare any two elements, each side's figures and row hashes computed by "
         "its own engine, down to the rows that differ (into differences)",
)
def reconcile(ws, stmt) -> Result:
    from hydra.transfer.reconcile import reconcile as run

    at = against_at(stmt.tokens)
    if at is not None:
        from hydra.transfer.against import reconcile_against

        return reconcile_against(ws, *parse_reconcile_against(stmt, at))
    tokens, against_now = parse_reconcile_options(stmt)
    if not tokens:
        raise StatementError("RECONCILE: expected LAST, MARKED, a ref or a glob")
    if len(tokens) == 1 and tokens[0].text.upper() == "LAST":
        return run(ws, None, last=True, against_now=against_now)
    return run(ws, parse_selection(tokens, stmt.text), against_now=against_now)
