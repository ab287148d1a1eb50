"""A statement and its result: splitting a script into statements, and what running one returns.

Statements are recognised with sqlglot's tokenizer (``tokenize``); a script is split on top-level
``;`` and dot-command lines (``split_statements``). ``Result`` is what every statement gives back,
whether Hydra or DuckDB ran it.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain

from hydra.core.errors import StatementError

# first words of statements whose result is data; DuckDB answers others with a status row
QUERIES = frozenset({"SELECT", "FROM", "WITH", "VALUES", "TABLE", "DESCRIBE", "SHOW", "SUMMARIZE",
                     "PRAGMA", "CALL", "EXPLAIN", "PIVOT", "UNPIVOT", "("})
FETCH_ROWS = 10_000


class Result:
    """What a statement returns: rows with column names, and/or a message for the user.

    A result made ``from_sql`` holds a DuckDB relation, bound but (for a query) not run yet, and
    is read once: ``rows`` fetches every row as Python values; ``iter_rows`` streams them in
    chunks (so piping a huge query keeps memory flat); ``select`` streams rows of SQL expressions
    over the result's columns, computed by DuckDB in the same run — the shell's output asks DuckDB
    for each value's text that way. Reading then runs ``on_close`` (e.g. unregistering the Arrow
    views the query read).
    """

    def __init__(self, columns=None, rows=None, message=None, types=None, failure=None):
        self.columns: list[str] = list(columns or [])
        self.message: str | None = message
        # the statement ran to its end but part of its work failed (elements, checks): one line;
        # a script then exits 1 when it ends
        self.failure: str | None = failure
        self.types: list = list(types or [])  # DuckDB's column types (DuckDBPyType) when DuckDB made the rows
        self._rows: list[tuple] | None = list(rows or [])
        self._con = self._relation = self._params = self._on_close = self._on_error = None

    @classmethod
    def from_sql(cls, con, text: str, keyword: str, on_close=None, params=None, on_error=None) -> Result:
        """The result of one statement ``text`` starting with ``keyword``: a query is bound, not
        run (reading the result runs it); any other statement runs now. DDL, DML and COPY report
        a status, not data: that becomes a message, so piped output stays data only.
        ``on_error(duckdb_error)`` gives the error to raise when running or reading fails
        (default: DuckDB's first line), e.g. the head's own line when its reader failed."""
        import duckdb

        from hydra.core.errors import HydraError, one_line

        try:
            # ``con.execute`` first runs to its end what an earlier ``execute`` left unread;
            # ``con.sql`` refuses to start instead, so finish it the same way
            con.complete()
            relation = con.sql(text, params=params)
            columns = list(relation.columns) if relation is not None else []
            if not columns or (columns in (["Count"], ["Success"]) and keyword not in QUERIES):
                rows = relation.fetchall() if columns else []
                if on_close:
                    on_close()
                if columns == ["Count"] and rows:
                    return cls(message=f"{keyword.lower()}: {rows[0][0]} row{'s' * (rows[0][0] != 1)}")
                return cls()
        except BaseException as err:
            # the error first: ``on_error`` may look at what ``on_close`` releases
            failure = (on_error(err) if on_error else HydraError(one_line(err))) \
                if isinstance(err, duckdb.Error) else None
            if on_close:
                on_close()
            if failure is not None:
                raise failure from None
            raise
        result = cls(columns=columns, types=relation.types)
        result._rows, result._on_close, result._on_error = None, on_close, on_error
        result._con, result._relation, result._params = con, relation, params
        return result

    @property
    def rows(self) -> list[tuple]:
        if self._rows is None:
            self._rows = list(self.iter_rows())
        return self._rows

    def iter_rows(self):
        if self._relation is None:
            return iter(self._rows or ())
        return chain.from_iterable(self._chunks(self._relation))

    @property
    def selectable(self) -> bool:
        """Whether DuckDB still holds the rows (``select`` can read them)."""
        return self._relation is not None

    def select(self, expressions: list[str]):
        """Stream rows of SQL ``expressions`` over the result's columns (``#1`` is the first),
        computed by DuckDB. Reads the result: ``rows`` is empty after."""
        return chain.from_iterable(self._chunks(self._relation.project(", ".join(expressions))))

    def _chunks(self, relation):
        import duckdb

        from hydra.core.errors import HydraError, one_line

        con, self._rows, finished = self._con, [], False
        try:
            # the relation's SQL run by ``execute``, whose result is fetched in chunks (a
            # relation itself fetches all its rows, or Arrow batches, which import pyarrow)
            cursor = con.execute(relation.sql_query(), self._params)
            while chunk := cursor.fetchmany(FETCH_ROWS):
                yield chunk
            finished = True
        except duckdb.Error as err:
            raise (self._on_error(err) if self._on_error else HydraError(one_line(err))) from None
        finally:
            if not finished:  # left early (`hydra … | head`): stop the query rather than run it out
                try:
                    con.abort()
                except duckdb.Error:
                    pass
            self.close()

    def close(self) -> None:
        """Release what an unread result holds (safe to call twice)."""
        on_close, self._on_close = self._on_close, None
        self._con = self._relation = self._params = None
        if on_close is not None:
            on_close()

    def __eq__(self, other):  # for tests: results are equal when they show the same thing
        return isinstance(other, Result) and (self.columns, self.rows, self.message) == (other.columns, other.rows, other.message)

    def __repr__(self):
        return f"Result(columns={self.columns!r}, message={self.message!r})"


@dataclass
class Statement:
    """One statement of a script: its text, its tokens, and where it started (1-based line)."""

    text: str
    tokens: list
    line: int = 1
    dot: bool = False  # a dot command (``.mode csv``): one line, not SQL

    @property
    def keyword(self) -> str:
        return self.tokens[0].text.upper() if self.tokens else ""



# -- splitting ----------------------------------------------------------------------------------


def tokenize(text: str) -> list:
    from sqlglot.dialects.duckdb import DuckDB
    from sqlglot.errors import TokenError

    try:
        return DuckDB().tokenize(text)
    except TokenError as err:
        raise StatementError(f"cannot read the SQL: {str(err).splitlines()[0]}") from None


def split_statements(text: str) -> list[Statement]:
    """Split a script into statements on top-level ``;``. A line starting with ``.`` where a
    statement would start is a dot command and ends at the end of its line."""
    statements: list[Statement] = []
    lines_before = 0  # lines of the script before ``text``
    while text.strip():
        dot = _leading_dot_line(text)
        if dot is not None:
            line_no, line, rest = dot
            statements.append(Statement(line, [], lines_before + line_no + 1, dot=True))
            lines_before += text[: len(text) - len(rest)].count("\n")
            text = rest
            continue
        chunk = _until_dot_line(text)
        current: list = []
        for token in tokenize(chunk):
            if token.token_type.name == "SEMICOLON":
                if current:
                    statements.append(_make(chunk, current, lines_before))
                current = []
            else:
                current.append(token)
        if current:
            statements.append(_make(chunk, current, lines_before))
        lines_before += chunk.count("\n")
        text = text[len(chunk):]
    return statements


def _make(text: str, tokens: list, base_line: int) -> Statement:
    start, end = tokens[0].start, tokens[-1].end + 1
    # tokens are re-based to the statement's own text, so handlers can slice it directly
    for token in tokens:
        token.start -= start
        token.end -= start
    return Statement(text[start:end], tokens, base_line + tokens[0].line)


def _leading_dot_line(text: str):
    """If ``text`` starts (after blank lines and comments) with a dot command, return
    (its 0-based line number, the line, the text after it); else None."""
    position, line_no = 0, 0
    while position < len(text):
        end = text.find("\n", position)
        end = len(text) if end < 0 else end
        stripped = text[position:end].strip()
        if not stripped or stripped.startswith("--"):
            position, line_no = end + 1, line_no + 1
            continue
        if stripped.startswith(".") and len(stripped) > 1 and stripped[1].isalpha():
            return line_no, stripped, text[end + 1:]
        return None
    return None


def _until_dot_line(text: str) -> str:
    """The text up to the first line that starts with a dot command after a completed statement.

    Only a line following a ``;`` (or the start) can be a dot command, so tokenizing the SQL
    before it is enough to know; a leading ``.`` inside a statement (``.5``) stays SQL.
    """
    offset = 0
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if offset and stripped.startswith(".") and len(stripped) > 1 and stripped[1].isalpha():
            before = text[:offset].rstrip()
            if before.endswith(";") or _only_comments(before):
                return text[:offset]
        offset += len(line)
    return text


def _only_comments(text: str) -> bool:
    return all(not line.strip() or line.strip().startswith("--") for line in text.splitlines())
