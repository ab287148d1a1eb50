"""The REPORT statement's grammar; ``hydra.report.render`` does the work."""

from __future__ import annotations

from hydra.core.errors import StatementError
from hydra.core.statement import Result
from hydra.statements.registry import statement
from hydra.statements.tokens import Cursor

SYNTAX = "REPORT TO '<file.html | file.md>' [(TITLE '…', SOURCES 'a,b', RUN 'all'|'last'|'<run id>', ANONYMOUS true)]"


@statement("REPORT", syntax=SYNTAX,
           help="Write the engagement's report: the estate, what was profiled, marked, extracted and reconciled")
def report(ws, stmt) -> Result:
    from hydra.catalog.duckdb_guard import check_not_into_source
    from hydra.heads.base import parse_bool
    from hydra.report import format_of, render
    from hydra.report.data import Options

    cur = Cursor(stmt)
    cur.expect("TO")
    path = cur.string("the report's file")
    given = cur.options()
    cur.done()
    unknown = sorted(set(given) - {"TITLE", "SOURCES", "RUN", "ANONYMOUS"})
    if unknown:
        raise StatementError(f"REPORT: unknown option {unknown[0]}; syntax: {SYNTAX}")
    if "://" in path:
        raise StatementError("REPORT: write the report to a local file (.html or .md)")
    format_of(path)
    check_not_into_source(ws, path, "REPORT")
    sources = [s.strip() for s in given["SOURCES"].split(",") if s.strip()] if "SOURCES" in given else None
    if sources == []:
        raise StatementError("REPORT: SOURCES needs source names, e.g. SOURCES 'crm,lake'")
    run = given.get("RUN", "all")
    options = Options(title=given.get("TITLE") or None, sources=sources,
                      run=run.lower() if run.lower() in ("all", "last") else run,
                      anonymous=parse_bool(given.get("ANONYMOUS")))
    workspace = getattr(ws, "snapshot_of", None) or ws.path
    written = render(ws.con, path, options, None if workspace == ":memory:" else workspace)
    from hydra.report.fmt import size

    return Result(message=f"report written to {written.path} ({size(written.bytes)}): {written.headline}")
