"""Completion: what is offered for what is typed, read from the workspace catalog only."""

from __future__ import annotations

import pytest
from support.repl import make_folder

from hydra.shell.repl.completion import CatalogCache, HydraCompleter, is_complete, lex
from hydra.statements.workspace import Workspace


@pytest.fixture
def folder(tmp_path):
    return make_folder(tmp_path / "data")


@pytest.fixture
def completer(folder):
    ws = Workspace.open(":memory:")
    ws.execute(f"ATTACH '{folder}' AS files")
    ws.execute("CREATE TABLE notes (note_id INT, body VARCHAR)")
    cache = CatalogCache(ws.con)
    yield HydraCompleter(cache)
    cache.close()
    ws.close()


def texts(completer, before, after=""):
    return [c.text for c in completer.complete(before, after)]


def applied(completer, before, after=""):
    """The text after taking the first completion."""
    first = completer.complete(before, after)[0]
    return before[: len(before) + first.start_position] + first.text


def test_a_quoted_ref_completes_from_a_partial_quoted_name(completer):
    assert applied(completer, 'SELECT customer_name FROM files."cust') == 'SELECT customer_name FROM files."customers.csv"'
    assert texts(completer, "SELECT * FROM files.") == [
        'files."customers.csv"', 'files."orders.csv"', 'files."sub dir/cities.csv"']
    # an unquoted partial matches too, and the ref comes back quoted as it must be
    assert applied(completer, "SELECT * FROM files.ord") == 'SELECT * FROM files."orders.csv"'
    # any case for the source name; the canonical ref replaces what was typed
    assert applied(completer, "SELECT * FROM FILES.cu") == 'SELECT * FROM files."customers.csv"'
    # a space inside a name: quoted
    assert applied(completer, "FROM files.sub") == 'FROM files."sub dir/cities.csv"'
    # nothing starts with it: refs that contain it
    assert texts(completer, "FROM files.citi") == ['files."sub dir/cities.csv"']


def test_relation_context_offers_sources_tables_and_elements_by_name(completer):
    found = completer.complete("SELECT * FROM ")
    offered = {(c.text, c.display_meta_text) for c in found}
    assert ("files.", "source") in offered
    assert ("notes", "table") in offered and ("elements", "table") in offered  # virtual tables too
    assert applied(completer, "SELECT * FROM cust") == 'SELECT * FROM files."customers.csv"'
    assert texts(completer, "SELECT * FROM no") == ["notes"]


def test_columns_of_the_relations_in_the_statement(completer):
    # the relation may come after the cursor
    assert texts(completer, "SELECT cus", ' FROM files."customers.csv"')[:2] == ["customer_id", "customer_name"]
    assert "city" in texts(completer, 'SELECT * FROM files."customers.csv" WHERE ci')
    assert texts(completer, "SELECT n.", " FROM notes n") == ["note_id", "body"]
    assert texts(completer, 'SELECT o.am FROM files."orders.csv" AS o') == []  # naming an alias: nothing
    assert texts(completer, "SELECT o.am", ' FROM files."orders.csv" AS o') == ["amount"]
    # columns of another statement in the buffer are not offered
    assert "amount" not in texts(completer, 'SELECT * FROM files."orders.csv"; SELECT am')


def test_statements_keywords_functions_and_dot_commands(completer):
    assert "MARK" in texts(completer, "MA")
    assert "attach" in texts(completer, "att")  # typed in lower case, offered in lower case
    assert "RECONCILE" in texts(completer, "SELECT 1; REC")  # a new statement after ;
    assert texts(completer, "CREATE TABLE t AS SEL") == ["SELECT"]
    assert "WHERE" in texts(completer, "SELECT * FROM notes WHE")
    assert "string_agg" in texts(completer, "SELECT string_a")
    assert texts(completer, ".mo") == [".mode"]
    assert set(texts(completer, ".mode ")) >= {"table", "csv", "line", "json"}
    assert texts(completer, ".timer o") == ["on", "off"]
    assert texts(completer, ".schema files.ord") == ['files."orders.csv"']
    assert {"MARKED", 'files."orders.csv"'} <= set(texts(completer, "MARK ")) | {'files."orders.csv"'}
    assert "MARKED" in texts(completer, "PROFILE MAR")
    assert texts(completer, "REFRESH f") == ["files"]


def test_nothing_is_offered_inside_a_string_or_comment(completer):
    assert texts(completer, "SELECT 'cust") == []
    assert texts(completer, "SELECT 1 -- files.") == []


def test_completion_never_reaches_a_source(completer, folder):
    """The catalog is read from the workspace: deleting the files changes nothing offered."""
    for path in sorted(folder.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    assert applied(completer, 'SELECT customer_name FROM files."cust') == 'SELECT customer_name FROM files."customers.csv"'
    assert "customer_name" in texts(completer, "SELECT cust", ' FROM files."customers.csv"')


def test_the_catalog_is_reloaded_after_invalidate(completer):
    ws_con = completer.cache._cursor
    assert texts(completer, "SELECT * FROM late") == []
    ws_con.execute("CREATE TABLE later_table (x INT)")
    assert texts(completer, "SELECT * FROM late") == []  # cached
    completer.cache.invalidate()
    completer.cache.wait(5)
    assert texts(completer, "SELECT * FROM late") == ["later_table"]


@pytest.mark.parametrize("text, complete", [
    ("SELECT 1;", True),
    ("SELECT 1", False),
    ("SELECT ';'", False),
    ("SELECT 1; -- done", True),
    ("SELECT 1 /* ; */", False),
    ('SELECT "a;b"', False),
    ("SELECT 'it''s';", True),
    (".mode csv", True),
    ("", True),
    ("SELECT 1\n;", True),
    ("SELECT '1;\n", False),
])
def test_enter_runs_only_a_complete_statement(text, complete):
    assert is_complete(text) is complete


def test_lexer_keeps_an_unterminated_quote_at_the_end():
    tokens = lex('SELECT x FROM f."sub dir/ci')
    last = tokens[-1]
    assert (last.kind, last.text, last.closed) == ("quoted", "sub dir/ci", False)
    assert [t.kind for t in lex("a.'b''c' -- x\n/* y */")] == [
        "word", "punct", "string", "space", "comment", "space", "comment"]
