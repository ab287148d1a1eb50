"""A session: a workspace plus the shell's settings (output format, output file, timer, …).

The command line, scripts, stdin and the REPL all run text through ``Session.run_text``, so every
statement and dot command behaves the same in every mode.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime, timezone
from typing import Callable, TextIO

from hydra.catalog import statement_log
from hydra.core.errors import HydraError
from hydra.core.statement import Statement, split_statements
from hydra.shell.dot_commands import DOT_COMMANDS, Quit
from hydra.shell.output import write_result


class StatementFailed(HydraError):
    """A statement of a script failed; carries where, for the one-line error message."""

    def __init__(self, error: Exception, statement: Statement, origin: str):
        self.error, self.statement, self.origin = error, statement, origin
        from hydra.core.secrets import mask_sql

        # the statement is quoted back with passwords masked (an ATTACH may carry one)
        text = statement.text if statement.dot else mask_sql(statement.text)
        text = (text if text is not None else statement.text.split(None, 1)[0] + " …").strip()
        first = text.splitlines()[0] if text else ""
        if len(first) > 70:
            first = first[:69] + "…"
        super().__init__(f"{origin}:{statement.line}: {error} (in: {first})")


_PLAIN_FIRST_WORDS = frozenset({"SELECT", "WITH", "FROM", "VALUES", "(SELECT", "(FROM"})


def _first_part(qualified: str) -> str:
    """The first identifier of a qualified table name as DuckDB prints it (``f."a.csv"``)."""
    if qualified.startswith('"'):
        i, out = 1, []
        while i < len(qualified):
            if qualified[i] == '"':
                if qualified[i + 1:i + 2] == '"':
                    out.append('"')
                    i += 2
                    continue
                break
            out.append(qualified[i])
            i += 1
        return "".join(out)
    return qualified.split(".", 1)[0]


def _has_table_function(con, query: str) -> bool:
    """Whether DuckDB's parse tree of ``query`` calls a table function (``duckdb_tables()``…)."""
    (tree,) = con.execute("SELECT json_serialize_sql(?::VARCHAR)", [query]).fetchone()
    return '"TABLE_FUNCTION"' in tree or '"error":true' in tree.replace(" ", "")


def _without_trailing_semicolon(query: str) -> str:
    """``query`` without the ``;`` and comments that end it (DuckDB's tokenizer finds them): the
    output wraps a query in a subquery, where they would not parse."""
    import duckdb

    encoded = query.encode()  # the tokenizer counts bytes
    end = len(encoded)
    for position, kind in reversed(duckdb.tokenize(query)):
        if kind != duckdb.token_type.comment and encoded[position:position + 1] != b";":
            break
        end = position
    return encoded[:end].decode().rstrip()


def _run_plain(con, query: str):
    """Run a query that names no source (see ``Session._plain_query``) like ``hydra.read.rewrite.run_sql``."""
    from hydra.core.statement import Result

    return Result.from_sql(con, query, "SELECT")


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Session:
    def __init__(self, ws, fmt: str = "table", out: TextIO | None = None, err: TextIO | None = None):
        self.ws = ws
        self.format = fmt
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.timer = False
        self.max_rows: int | None = None
        self.max_width = 40
        self.header = True  # .headers on|off, --no-header: the line naming the columns (table, csv, tsv, list)
        self.separator = "|"  # .separator, --separator: between the values of list mode
        self.once: TextIO | None = None  # .once: the next result only
        self.output_file: TextIO | None = None  # .output: until reset
        self.last_elapsed: float | None = None
        # the REPL sets these: a pager for results taller than the screen, a hook after each statement
        self.pager: Callable[[str], None] | None = None
        self.pager_command: str | None = None  # .pager: None or "on" ($PAGER or less), "off", or a command
        self.after_statement: Callable[[Statement], None] | None = None
        # False while a fresh ``:memory:`` workspace has not created its catalog tables yet (start-up
        # time: see ``cli.main``); they are created before the first statement that could see them
        self.catalog_ready = True
        # statements that finished with failed elements or checks ("origin:line: what failed"):
        # a script exits 1 at its end when there is any
        self.failures: list[str] = []

    def ensure_catalog(self) -> None:
        if not self.catalog_ready:
            self.catalog_ready = True
            from hydra.catalog.tables import CORE_TABLES

            self.ws.create_tables(CORE_TABLES)

    # -- running --------------------------------------------------------------------------------

    def run_text(self, text: str, origin: str = "<input>") -> None:
        """Run every statement of ``text``; the first failure raises ``StatementFailed``."""
        query = self._plain_query(text)
        if query is not None:
            self.run_statement(query, origin, whole_text=text)
            return
        for stmt in split_statements(text):
            self.run_statement(stmt, origin)

    def run_statement(self, stmt: Statement, origin: str = "<input>", whole_text: str | None = None) -> None:
        started = time.perf_counter()
        started_at = datetime.now(timezone.utc)
        outcome = ("interrupted", None)  # until it ends otherwise (Ctrl-C, an unexpected error)
        try:
            if stmt.dot:
                self.ensure_catalog()
                self.run_dot(stmt.text)
                return
            if whole_text is not None:  # a plain query found by ``_plain_query``: DuckDB runs it as is
                result = _run_plain(self.ws.con, stmt.text)
            else:
                self.ensure_catalog()
                result = self.ws.run(stmt, stream=True)
            try:
                self.show(result)  # streams the rows: errors met while reading them count too
            finally:
                result.close()
            if result.failure:
                self.failures.append(f"{origin}:{stmt.line}: {result.failure}")
            outcome = ("partial", result.failure) if result.failure else ("ok", None)
        except (Quit, StatementFailed):
            raise
        except KeyboardInterrupt:
            raise
        except HydraError as err:
            outcome = ("failed", str(err))
            if whole_text is not None:  # re-split with sqlglot only now, for the line number
                stmt = (split_statements(whole_text) or [stmt])[0]
            raise StatementFailed(err, stmt, origin) from err
        except Exception as err:
            outcome = ("failed", f"internal error: {type(err).__name__}")  # its text may hold anything
            raise
        finally:
            self.last_elapsed = time.perf_counter() - started
            if whole_text is None:  # a plain query (``_plain_query``) is never logged
                statement_log.record(self.ws, stmt, origin, started_at, self.last_elapsed, *outcome)
            if self.after_statement is not None:
                self.after_statement(stmt)
        if self.timer:
            self.err.write(f"Run Time: {self.last_elapsed:.3f} s\n")

    def _plain_query(self, text: str) -> Statement | None:
        """``text`` as one plain DuckDB query that can run exactly as written, or None.

        Start-up time: ``hydra -c "SELECT …"`` should not pay for importing sqlglot (about half
        of DuckDB's own import time). DuckDB's own parser decides: exactly one statement, of type
        SELECT, starting with a word no Hydra statement uses, whose tables (DuckDB's
        ``get_table_names``) name no attached source, and — while the catalog tables are not
        created yet — that reads no table and no table function at all. Anything else, including
        text DuckDB cannot parse, takes the normal path (sqlglot, the rewrite of element refs).
        """
        words = text.split(None, 1)
        if not words or words[0].upper().rstrip(";") not in _PLAIN_FIRST_WORDS:
            return None
        from hydra.catalog.duckdb_guard import mentions_scanner

        if mentions_scanner(text):
            return None  # the normal path refuses scanner functions with one clear line
        import duckdb

        con = self.ws.con
        try:
            parsed = con.extract_statements(text)
        except duckdb.Error:  # DuckDB cannot parse it: the normal path says why
            return None
        if len(parsed) != 1 or parsed[0].type.name != "SELECT":
            return None
        query = parsed[0].query
        try:
            if not self.catalog_ready:
                if con.get_table_names(query) or _has_table_function(con, query):
                    return None
            else:
                sources = {name.lower() for name in self.ws.source_names()}
                if sources and any(_first_part(name).lower() in sources
                                   for name in con.get_table_names(query, qualified=True)):
                    return None
        except duckdb.InterruptException:  # Ctrl-C, not "cannot tell": the query must not run on.
            raise  # (RuntimeError("Query interrupted"), when DuckDB ran our handler itself, is no duckdb.Error)
        except duckdb.Error:  # whatever DuckDB cannot tell, the normal path decides
            return None
        return Statement(_without_trailing_semicolon(query), [], line=1)

    def run_dot(self, line: str) -> None:
        import shlex

        try:
            words = shlex.split(line)
        except ValueError as err:
            raise HydraError(f"cannot read {line!r}: {err}") from None
        command = DOT_COMMANDS.get(words[0][1:].lower())
        if command is None:
            raise HydraError(f"unknown command {words[0]}; .help lists them")
        command.run(self, words[1:])

    # -- output ---------------------------------------------------------------------------------

    def target(self) -> TextIO:
        return self.once or self.output_file or self.out

    def show(self, result) -> None:
        out = self.target()
        if result.columns:
            table = self.format == "table"
            options = dict(max_width=self.max_width if table else None, max_rows=self.max_rows if table else None,
                           header=self.header, separator=self.separator)
            on_screen = out is self.out and _isatty(out)
            if on_screen and table:  # hide columns that do not fit the terminal, and say so
                import shutil

                options["screen_width"] = shutil.get_terminal_size().columns
            if on_screen and self.pager is not None:  # the REPL pages results taller than the screen
                import io

                buffer = io.StringIO()
                write_result(result, buffer, self.format, **options)
                self.pager(buffer.getvalue())
            else:
                write_result(result, out, self.format, **options)
            out.flush()  # before the message on stderr, so that the two interleave in order
            if self.once is not None:
                self.once.close()
                self.once = None
        if result.message:
            self.err.write(result.message + "\n")

    def close(self) -> None:
        for stream in (self.once, self.output_file):
            if stream is not None:
                stream.close()
        self.once = self.output_file = None
