"""Completion for the REPL: keywords, Hydra statements, dot commands, sources, element refs,
workspace (virtual) tables and the columns of the relations in the statement being typed.

Everything comes from the workspace catalog (DuckDB tables), never from a source. ``Catalog``
holds what completion needs in memory, indexed for prefix search (sorted lists + ``bisect``), so a
completion over 50,000 elements answers in a few milliseconds; it is reloaded (on a background
thread, through its own DuckDB cursor) after statements that may change the catalog. Columns are
looked up per relation on demand and cached.

The text before the cursor is read with a small lexer (``lex``) that understands what SQL
completion needs — words, quoted identifiers, strings, comments, punctuation — including an
unterminated quote at the cursor (``files."cust``), which a full SQL tokenizer rejects.
"""

from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass, field

from prompt_toolkit.completion import Completer, Completion, PathCompleter
from prompt_toolkit.document import Document

from hydra.core.sqltext import quote_ident

LIMIT = 200  # completions offered at most (a menu of 50,000 helps nobody)

# clauses after which a relation (table, element ref) is expected
RELATION_WORDS = frozenset({"FROM", "JOIN", "TABLE", "INTO", "UPDATE", "DESCRIBE", "SUMMARIZE", "PROFILE",
                            "MARK", "UNMARK", "EXTRACT", "RECONCILE", "ONLY", "USING_TABLE"})
SOURCE_WORDS = frozenset({"REFRESH", "DETACH"})
SELECTION_EXTRAS = {"MARK": ("MARKED",), "UNMARK": ("MARKED",), "PROFILE": ("MARKED",),
                    "EXTRACT": ("MARKED",), "RECONCILE": ("LAST", "MARKED")}
# clause words that end a FROM list (after them, columns are expected)
CLAUSE_WORDS = frozenset({"SELECT", "WHERE", "GROUP", "ORDER", "BY", "HAVING", "ON", "SET", "LIMIT",
                          "QUALIFY", "WINDOW", "RETURNING", "VALUES", "AND", "OR", "NOT", "CASE", "WHEN",
                          "THEN", "ELSE", "USING", "TO", "AS", "DISTINCT", "IN", "IS", "LIKE", "ILIKE",
                          "BETWEEN", "OFFSET"})
STARTERS = ("SELECT", "FROM", "WITH", "INSERT INTO", "UPDATE", "DELETE FROM", "CREATE TABLE", "CREATE VIEW",
            "CREATE OR REPLACE TABLE", "DROP TABLE", "ALTER TABLE", "DESCRIBE", "SUMMARIZE", "SHOW TABLES",
            "EXPLAIN", "COPY", "PRAGMA", "SET", "BEGIN", "COMMIT", "ROLLBACK", "VALUES", "INSTALL", "LOAD")
DOT_ARGUMENTS = {"timer": ("on", "off"), "pager": ("on", "off"), "headers": ("on", "off")}
PATH_DOT_COMMANDS = frozenset({"read", "output", "once"})
REF_DOT_COMMANDS = frozenset({"schema"})


# -- lexing ---------------------------------------------------------------------------------------


@dataclass
class Tok:
    kind: str  # word, quoted, string, space, comment, punct, number
    text: str  # for quoted identifiers and strings: the value, unescaped
    start: int
    end: int  # exclusive
    closed: bool = True  # False: an unterminated quote, string or comment at the end of the text

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "word" else ""


def lex(text: str) -> list[Tok]:
    tokens: list[Tok] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        start = i
        if ch.isspace():
            while i < n and text[i].isspace():
                i += 1
            tokens.append(Tok("space", text[start:i], start, i))
        elif ch == "-" and text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
            tokens.append(Tok("comment", text[start:i], start, i))
        elif ch == "/" and text.startswith("/*", i):
            end = text.find("*/", i + 2)
            closed = end >= 0
            i = end + 2 if closed else n
            tokens.append(Tok("comment", text[start:i], start, i, closed))
        elif ch in "'\"":
            value, i, closed = _quoted(text, i, ch)
            tokens.append(Tok("string" if ch == "'" else "quoted", value, start, i, closed))
        elif ch.isalpha() or ch == "_":
            while i < n and (text[i].isalnum() or text[i] in "_$"):
                i += 1
            tokens.append(Tok("word", text[start:i], start, i))
        elif ch.isdigit():
            while i < n and (text[i].isalnum() or text[i] == "_"):
                i += 1
            tokens.append(Tok("number", text[start:i], start, i))
        else:
            i += 1
            tokens.append(Tok("punct", ch, start, i))
    return tokens


def _quoted(text: str, i: int, quote: str) -> tuple[str, int, bool]:
    """Read a quoted string/identifier from ``text[i]`` (the quote); doubled quotes escape."""
    out = []
    i += 1
    while i < len(text):
        ch = text[i]
        if ch == quote:
            if i + 1 < len(text) and text[i + 1] == quote:
                out.append(quote)
                i += 2
                continue
            return "".join(out), i + 1, True
        out.append(ch)
        i += 1
    return "".join(out), i, False


def is_complete(text: str) -> bool:
    """Whether the text typed so far is ready to run: a dot command (one line), or SQL whose last
    token is a ``;`` outside any string, quoted name or comment."""
    stripped = text.strip()
    if not stripped:
        return True
    if stripped.startswith(".") and "\n" not in stripped:
        return True
    significant = [t for t in lex(text) if t.kind not in ("space", "comment") or not t.closed]
    return bool(significant) and significant[-1].kind == "punct" and significant[-1].text == ";"


def current_statement(tokens: list[Tok]) -> list[Tok]:
    """The tokens of the statement the cursor is in (after the last top-level ``;``)."""
    for i in range(len(tokens) - 1, -1, -1):
        if tokens[i].kind == "punct" and tokens[i].text == ";":
            return tokens[i + 1:]
    return tokens


# -- the catalog, in memory ---------------------------------------------------------------------


class Element:
    __slots__ = ("source", "ref", "parts", "kind", "lower")

    def __init__(self, source: str, ref: str, parts: tuple[str, ...], kind: str):
        self.source, self.ref, self.parts, self.kind = source, ref, parts, kind
        self.lower = tuple(p.lower() for p in parts)


@dataclass
class Catalog:
    """What completion reads, loaded from the workspace in one go."""

    sources: list[str] = field(default_factory=list)
    tables: dict[str, str] = field(default_factory=dict)  # workspace tables and views -> kind
    elements: dict[str, list[Element]] = field(default_factory=dict)  # by source (lower-case)
    # per source: sorted (lower-case first part, index) for prefix search
    first_index: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    # all elements by lower-case last part (name), sorted, for completing a bare name
    name_index: list[tuple[str, str, int]] = field(default_factory=list)
    by_key: dict[tuple[str, ...], Element] = field(default_factory=dict)  # lower-case (source, *parts)
    keywords: list[str] = field(default_factory=list)
    functions: list[str] = field(default_factory=list)
    marked: int = 0
    fingerprint: tuple | None = None

    @classmethod
    def load(cls, con, previous: Catalog | None = None) -> Catalog:
        """Read the catalog. The element indexes (the slow part with 50,000 elements) are reused
        from ``previous`` when ``elements`` has not changed since (same count and scan times)."""
        cat = cls()
        cat.fingerprint = con.execute(
            "SELECT count(*), max(scanned_at), sum(hash(source, ref)) FROM elements").fetchone()
        cat.sources = [name for (name,) in con.execute("SELECT name FROM sources ORDER BY name").fetchall()]
        cat.tables = dict(con.execute(
            "SELECT table_name, 'table' FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name = 'main' AND NOT internal AND table_name NOT LIKE '\\_\\_hydra%' ESCAPE '\\' UNION ALL "
            "SELECT view_name, 'view' FROM duckdb_views() WHERE database_name = current_database() "
            "AND schema_name = 'main' AND NOT internal").fetchall())
        if previous is not None and getattr(previous, "fingerprint", None) == cat.fingerprint:
            cat.elements, cat.first_index = previous.elements, previous.first_index
            cat.name_index, cat.by_key = previous.name_index, previous.by_key
            rows = []
        else:
            rows = con.execute("SELECT source, ref, parts, kind FROM elements ORDER BY source, ref").fetchall()
        for source, ref, parts, kind in rows:
            element = Element(source, ref, tuple(parts), kind)
            key = source.lower()
            cat.elements.setdefault(key, []).append(element)
            cat.by_key[(key, *element.lower)] = element
        for key, elements in (cat.elements.items() if rows else ()):
            cat.first_index[key] = sorted((e.parts[0].lower() if e.parts else "", i) for i, e in enumerate(elements))
            cat.name_index.extend((e.parts[-1].lower() if e.parts else "", key, i) for i, e in enumerate(elements))
        if rows:
            cat.name_index.sort()
        if previous is not None and previous.keywords:
            cat.keywords = previous.keywords
        else:
            cat.keywords = sorted(k.upper() for (k,) in con.execute("SELECT keyword_name FROM duckdb_keywords()").fetchall())
        cat.functions = sorted({f for (f,) in con.execute(
            "SELECT DISTINCT function_name FROM duckdb_functions() WHERE function_type IN "
            "('scalar', 'aggregate', 'macro', 'table', 'table_macro') AND function_name NOT LIKE '\\_\\_%' ESCAPE '\\' "
            "AND function_name NOT LIKE '%\\_%\\_' ESCAPE '\\' OR function_name IN ('count')").fetchall()})
        cat.marked = con.execute("SELECT count(*) FROM marks").fetchone()[0]
        return cat

    def source_named(self, written: str, quoted: bool) -> str | None:
        for name in self.sources:
            if name == written or (not quoted and name.lower() == written.lower()):
                return name
        return None


class CatalogCache:
    """The current ``Catalog``, reloaded in the background when ``invalidate()`` is called.

    It reads through its own cursor (a second DuckDB connection to the same database), under a
    lock, so completion never waits on, or disturbs, the statement running on the session's
    connection. Columns are fetched per relation when first needed.
    """

    def __init__(self, con):
        self._cursor = con.cursor()
        self._lock = threading.Lock()
        self._catalog: Catalog | None = None
        self._columns: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self._loader: threading.Thread | None = None
        self._stale = True
        self.on_reload = None  # called after a background reload (e.g. to redraw the toolbar)

    def get(self) -> Catalog:
        """The catalog; loads it now if none was loaded yet (later reloads do not block)."""
        if self._catalog is None:
            if self._loader is not None and self._loader.is_alive():
                self._loader.join()  # the first load is under way: wait for it rather than load twice
            if self._catalog is None:
                self.reload()
        elif self._stale and (self._loader is None or not self._loader.is_alive()):
            self.reload_in_background()
        return self._catalog or Catalog()

    def peek(self) -> Catalog | None:
        return self._catalog

    def invalidate(self) -> None:
        self._stale = True
        self.reload_in_background()

    def reload_in_background(self) -> None:
        if self._loader is not None and self._loader.is_alive():
            return
        self._loader = threading.Thread(target=self._reload_quietly, name="hydra-catalog", daemon=True)
        self._loader.start()

    def wait(self, timeout: float | None = None) -> None:
        if self._loader is not None:
            self._loader.join(timeout)

    def _reload_quietly(self) -> None:
        try:
            self.reload()
        except Exception:  # noqa: BLE001 - a failed reload keeps the previous catalog
            pass
        if self.on_reload is not None:
            try:
                self.on_reload()
            except Exception:  # noqa: BLE001 - a failing reload hook must not break completion
                pass

    def reload(self) -> None:
        with self._lock:
            self._stale = False
            try:
                catalog = Catalog.load(self._cursor, self._catalog)
            except Exception:
                self._stale = True
                if self._catalog is None:
                    self._catalog = Catalog()
                raise
            self._catalog = catalog
            self._columns.clear()

    def columns(self, kind: str, name: str) -> list[tuple[str, str]]:
        """(name, type) of an element's columns (``kind`` "element", ``name`` its ref) or of a
        workspace table or view."""
        key = (kind, name)
        found = self._columns.get(key)
        if found is not None:
            return found
        with self._lock:
            try:
                if kind == "element":
                    found = self._cursor.execute(
                        "SELECT name, type FROM columns WHERE ref = ? ORDER BY position", [name]).fetchall()
                else:
                    found = self._cursor.execute(
                        "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = current_database() "
                        "AND schema_name = 'main' AND table_name = ? ORDER BY column_index", [name]).fetchall()
            except Exception:  # noqa: BLE001 - completion offers what it can: a failed lookup offers nothing
                found = []
        self._columns[key] = found
        return found

    def close(self) -> None:
        self.wait(2)
        try:
            self._cursor.close()
        except Exception:  # noqa: BLE001 - closing at exit: nothing left to report
            pass


# -- completing ---------------------------------------------------------------------------------


@dataclass
class Fragment:
    """The ref or word being typed at the cursor: complete parts before it, and the partial one."""

    start: int  # offset in the text where the fragment starts
    parts: list[tuple[str, bool]]  # (text, quoted) of the parts before the last dot
    partial: str
    partial_quoted: bool
    partial_start: int  # where the partial part (with its opening quote) starts
    cursor: int

    @property
    def start_offset(self) -> int:
        """``start_position`` for a completion that replaces the whole fragment."""
        return self.start - self.cursor

    @property
    def partial_offset(self) -> int:
        """``start_position`` for a completion that replaces only the part after the last dot."""
        return self.partial_start - self.cursor


class HydraCompleter(Completer):
    def __init__(self, cache: CatalogCache, dot_commands=None, statements=None):
        self.cache = cache
        self._dot_commands = dot_commands
        self._statements = statements
        self._paths = PathCompleter(expanduser=True)

    def warm_up(self) -> None:
        """Load what the first completion would otherwise wait for (the statement registry, the
        dot commands, sqlglot's keyword list behind ``quote_ident``); the shell runs this on a
        background thread at start."""
        self.statements()
        self.dot_commands()
        quote_ident("warm")

    def dot_commands(self) -> list[str]:
        if self._dot_commands is None:
            from hydra.shell.dot_commands import DOT_COMMANDS

            self._dot_commands = sorted(DOT_COMMANDS)
        return self._dot_commands

    def statements(self) -> list[str]:
        if self._statements is None:
            from hydra.statements.registry import registry

            self._statements = sorted(registry())
        return self._statements

    def get_completions(self, document: Document, complete_event):
        yield from self.complete(document.text_before_cursor, document.text_after_cursor)

    # The work, separated from prompt_toolkit's API so tests and the benchmark can call it.
    def complete(self, before: str, after: str = "") -> list[Completion]:
        tokens = lex(before)
        statement = current_statement(tokens)
        significant = [t for t in statement if t.kind not in ("space", "comment")]
        # the rest of the statement after the cursor names relations too (SELECT | FROM t)
        whole = significant + _until_semicolon(lex(after), offset=len(before))
        if significant and significant[0].kind == "punct" and significant[0].text == "." and _dot_at_line_start(before, significant[0]):
            return self._complete_dot(before, significant)
        if statement and statement[-1].kind in ("string", "comment") and (
                not statement[-1].closed or statement[-1].text.startswith("--")):
            return []  # inside a string literal or a comment
        fragment = _fragment(statement, len(before))
        previous = [t for t in significant if t.end <= fragment.start]
        catalog = self.cache.get()
        if not previous:
            return self._complete_words(fragment, self.statements() + list(STARTERS), "statement")
        context = _context(previous)
        if fragment.parts:
            return self._complete_qualified(catalog, fragment, whole)
        if context in SOURCE_WORDS:
            return self._complete_sources(catalog, fragment)
        if previous[-1].upper == "AS":
            if previous[0].upper == "CREATE" and sum(t.upper == "AS" for t in previous) == 1:
                return self._complete_words(fragment, ["SELECT", "FROM", "WITH", "VALUES"], "keyword")
            return []  # naming an alias: nothing to offer
        if context in RELATION_WORDS and previous[-1].kind in ("word", "quoted") \
                and previous[-1].upper not in RELATION_WORDS:
            # after a relation: JOIN, WHERE, an alias… (not another relation)
            return self._complete_words(fragment, catalog.keywords, "keyword", upper=True)
        if context in RELATION_WORDS:
            extras = SELECTION_EXTRAS.get(context, ())
            return (self._complete_words(fragment, list(extras), "selection")
                    + self._complete_relations(catalog, fragment))
        columns = self._columns_in_statement(catalog, whole)
        return (self._complete_columns(fragment, columns)
                + self._complete_words(fragment, catalog.keywords, "keyword", upper=True)
                + self._complete_words(fragment, catalog.functions, "function", min_length=1)
                + self._complete_relations(catalog, fragment, only_sources_and_tables=True))

    # -- dot commands --

    def _complete_dot(self, before: str, significant: list[Tok]) -> list[Completion]:
        line = before[significant[0].start:]
        if " " not in line:
            typed = line[1:]
            return [Completion("." + name, -len(line), display_meta="dot command")
                    for name in self.dot_commands() if name.startswith(typed.lower())]
        command, _, argument = line[1:].partition(" ")
        command = command.lower()
        argument = argument.lstrip()
        if command == "mode":
            from hydra.shell.output import FORMATS

            choices = FORMATS
        elif command in DOT_ARGUMENTS:
            choices = DOT_ARGUMENTS[command]
        elif command in PATH_DOT_COMMANDS:
            return list(self._paths.get_completions(Document(argument), None))
        elif command in REF_DOT_COMMANDS:
            tokens = lex(argument)
            fragment = _fragment(tokens, len(argument))
            catalog = self.cache.get()
            if fragment.parts:
                return self._complete_qualified(catalog, fragment, [])
            return self._complete_relations(catalog, fragment)
        else:
            return []
        return [Completion(c, -len(argument)) for c in choices if c.startswith(argument.lower())]

    # -- words --

    def _complete_words(self, fragment: Fragment, words, meta: str, upper: bool = False,
                        min_length: int = 0) -> list[Completion]:
        typed = fragment.partial
        if fragment.partial_quoted or len(typed) < min_length:
            return []
        low = typed.lower()
        found = []
        for word in words:
            if word.lower().startswith(low):
                text = word
                if typed and typed[0].islower() and not upper:
                    text = word if meta != "statement" else word.lower()
                elif typed and typed[0].islower():
                    text = word.lower()
                found.append(Completion(text, -len(typed), display=word, display_meta=meta))
                if len(found) >= LIMIT:
                    break
        return found

    def _complete_sources(self, catalog: Catalog, fragment: Fragment) -> list[Completion]:
        low = fragment.partial.lower()
        return [Completion(quote_ident(s), fragment.start_offset, display=s, display_meta="source")
                for s in catalog.sources if s.lower().startswith(low)]

    # -- relations --

    def _complete_relations(self, catalog: Catalog, fragment: Fragment,
                            only_sources_and_tables: bool = False) -> list[Completion]:
        low = fragment.partial.lower()
        offset = fragment.start_offset
        found = [Completion(quote_ident(s) + ".", offset, display=s + ".", display_meta="source")
                 for s in catalog.sources if s.lower().startswith(low)]
        found += [Completion(quote_ident(t), offset, display=t, display_meta=kind)
                  for t, kind in sorted(catalog.tables.items()) if t.lower().startswith(low)]
        if only_sources_and_tables or not low:
            return found
        # elements whose name starts with what was typed: the whole ref replaces the word
        index = catalog.name_index
        i = bisect.bisect_left(index, (low,))
        while i < len(index) and index[i][0].startswith(low) and len(found) < LIMIT:
            _, source_key, position = index[i]
            element = catalog.elements[source_key][position]
            found.append(Completion(element.ref, offset, display=element.ref, display_meta=element.kind))
            i += 1
        return found

    def _complete_qualified(self, catalog: Catalog, fragment: Fragment, significant: list[Tok]) -> list[Completion]:
        """``source.part…`` (element refs) or ``alias.`` / ``table.`` (columns)."""
        first, first_quoted = fragment.parts[0]
        source = catalog.source_named(first, first_quoted)
        found: list[Completion] = []
        if source is not None:
            found += self._complete_refs(catalog, source, fragment)
        relations = _relations(catalog, significant) if significant else {}
        if len(fragment.parts) == 1:
            target = relations.get(first.lower())
            if target is None and first.lower() in {t.lower() for t in catalog.tables}:
                target = ("table", next(t for t in catalog.tables if t.lower() == first.lower()))
            if target is not None:
                columns = self.cache.columns(*target)
                found += self._complete_columns(fragment, [(c, t, None) for c, t in columns])
        return found

    def _complete_refs(self, catalog: Catalog, source: str, fragment: Fragment) -> list[Completion]:
        elements = catalog.elements.get(source.lower(), [])
        typed_parts = [p.lower() for p, _ in fragment.parts[1:]]
        depth = len(typed_parts)  # parts of the element already typed in full
        low = fragment.partial.lower()
        offset = fragment.start_offset
        if depth == 0:  # prefix search on the first part, through the sorted index
            index = catalog.first_index.get(source.lower(), [])
            i = bisect.bisect_left(index, (low,))
            candidates = []
            while i < len(index) and index[i][0].startswith(low) and len(candidates) < LIMIT:
                candidates.append(elements[index[i][1]])
                i += 1
        else:
            prefix = tuple(typed_parts)
            candidates = [e for e in elements if len(e.parts) > depth
                          and e.lower[:depth] == prefix and e.lower[depth].startswith(low)]
        if not candidates and low:  # nothing starts with it: offer refs that contain it
            prefix = tuple(typed_parts)
            candidates = [e for e in elements if len(e.parts) > depth and low in e.lower[depth]
                          and e.lower[:depth] == prefix][:LIMIT]
        if fragment.partial_quoted:  # exact case first for a quoted name
            candidates.sort(key=lambda e: not e.parts[depth].startswith(fragment.partial))
        found, groups = [], set()
        for element in candidates:
            if len(element.parts) > depth + 1:  # a deeper ref: offer its next level too (a schema)
                group = ".".join([quote_ident(source)] + [quote_ident(p) for p in element.parts[:depth + 1]])
                if group not in groups:
                    groups.add(group)
                    # two levels or more above the name: a database (srv.<database>.<schema>.<table>)
                    level = "database" if len(element.parts) - depth >= 3 else "schema"
                    found.append(Completion(group + ".", offset, display=group + ".", display_meta=level))
            found.append(Completion(element.ref, offset, display=element.ref, display_meta=element.kind))
            if len(found) >= LIMIT:
                break
        return found

    # -- columns --

    def _columns_in_statement(self, catalog: Catalog, significant: list[Tok]) -> list[tuple[str, str, str | None]]:
        columns, seen = [], set()
        for target in _relations(catalog, significant).values():
            for name, type_ in self.cache.columns(*target):
                if name not in seen:
                    seen.add(name)
                    columns.append((name, type_, target[1]))
        return columns

    def _complete_columns(self, fragment: Fragment, columns) -> list[Completion]:
        low = fragment.partial.lower()
        offset = fragment.partial_offset if fragment.parts else fragment.start_offset
        return [Completion(quote_ident(name), offset, display=name, display_meta=type_)
                for name, type_, _ in columns if name.lower().startswith(low)][:LIMIT]


def _until_semicolon(tokens: list[Tok], offset: int) -> list[Tok]:
    found = []
    for token in tokens:
        if token.kind == "punct" and token.text == ";":
            break
        if token.kind not in ("space", "comment"):
            found.append(Tok(token.kind, token.text, token.start + offset, token.end + offset, token.closed))
    return found


def _dot_at_line_start(before: str, token: Tok) -> bool:
    line_start = before.rfind("\n", 0, token.start) + 1
    return not before[line_start:token.start].strip()


def _fragment(tokens: list[Tok], cursor: int) -> Fragment:
    """The ``a.b."c`` being typed just before the cursor."""
    parts: list[tuple[str, bool]] = []
    partial, quoted, start = "", False, cursor
    i = len(tokens) - 1
    if i >= 0 and tokens[i].end == cursor and tokens[i].kind in ("word", "quoted", "number"):
        partial, quoted, start = tokens[i].text, tokens[i].kind == "quoted", tokens[i].start
        i -= 1
    partial_start = start
    while i >= 1 and tokens[i].kind == "punct" and tokens[i].text == "." and tokens[i].end == start \
            and tokens[i - 1].kind in ("word", "quoted") and tokens[i - 1].end == tokens[i].start:
        parts.insert(0, (tokens[i - 1].text, tokens[i - 1].kind == "quoted"))
        start = tokens[i - 1].start
        i -= 2
    return Fragment(start, parts, partial, quoted, partial_start, cursor)


def _context(previous: list[Tok]) -> str:
    """The clause the cursor is in: the last keyword before it (commas continue a list)."""
    depth = 0
    for token in reversed(previous):
        if token.kind == "punct":
            if token.text == ")":
                depth += 1
            elif token.text == "(":
                if depth == 0:
                    return "("
                depth -= 1
            continue
        if depth or token.kind != "word":
            continue
        word = token.upper
        if word in RELATION_WORDS or word in SOURCE_WORDS or word in CLAUSE_WORDS:
            return word
    return ""


def _relations(catalog: Catalog, significant: list[Tok]) -> dict[str, tuple[str, str]]:
    """Relations named in the statement: alias or name (lower-case) -> ("element", ref) or
    ("table", name). Element refs are found anywhere (``source.part…``); workspace tables after
    FROM/JOIN or in a FROM list."""
    found: dict[str, tuple[str, str]] = {}
    i, n = 0, len(significant)
    in_from = False
    while i < n:
        token = significant[i]
        if token.kind == "word" and token.upper in ("FROM", "JOIN", "UPDATE", "INTO", "TABLE"):
            in_from = True
            i += 1
            continue
        if token.kind == "word" and token.upper in CLAUSE_WORDS:
            in_from = False
        if token.kind in ("word", "quoted"):
            # read a dotted name
            parts = [(token.text, token.kind == "quoted")]
            j = i + 1
            while j + 1 < n and significant[j].kind == "punct" and significant[j].text == "." \
                    and significant[j + 1].kind in ("word", "quoted") \
                    and significant[j - 1].end == significant[j].start == significant[j + 1].start - 1:
                parts.append((significant[j + 1].text, significant[j + 1].kind == "quoted"))
                j += 2
            target, name = None, parts[-1][0]
            if len(parts) > 1:
                source = catalog.source_named(*parts[0])
                if source is not None:
                    element = catalog.by_key.get((source.lower(), *(p.lower() for p, _ in parts[1:])))
                    if element is not None:
                        target = ("element", element.ref)
            elif in_from:
                table = next((t for t in catalog.tables if t.lower() == name.lower()), None)
                if table is not None:
                    target = ("table", table)
            if target is not None:
                found[name.lower()] = target
                k = j
                if k < n and significant[k].kind == "word" and significant[k].upper == "AS":
                    k += 1
                if k < n and significant[k].kind in ("word", "quoted") and significant[k].upper not in CLAUSE_WORDS \
                        and significant[k].upper not in ("JOIN", "LEFT", "RIGHT", "INNER", "OUTER", "FULL", "CROSS",
                                                         "NATURAL", "POSITIONAL", "ASOF", "ANTI", "SEMI", "LATERAL"):
                    found[significant[k].text.lower()] = target
                    j = k + 1
            i = j
            continue
        i += 1
    return found
