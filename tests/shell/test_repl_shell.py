"""The interactive shell, driven key by key through prompt_toolkit's pipe input."""

from __future__ import annotations

import os
import time

import pytest
from support.repl import Typist, catalog_has, interrupted_while_running, make_folder, menu, new_session, ran, shows

from hydra.statements.workspace import Workspace


@pytest.fixture
def folder(tmp_path):
    return make_folder(tmp_path / "data")


@pytest.fixture
def ws():
    workspace = Workspace.open(":memory:")
    yield workspace
    workspace.close()


def test_tab_completes_a_quoted_ref_and_the_query_runs(ws, folder, tmp_path):
    typist = Typist(new_session(ws), tmp_path)
    code = typist.run([
        (f"ATTACH '{folder}' AS files;\r", catalog_has("files")),
        ('SELECT customer_name FROM files."cust', menu('files."cust')),
        ("\t", shows('files."customers.csv"')),
        (" ORDER BY 1;\r", ran("| customer_name |")),
    ])
    assert typist.failures == []
    assert code == 0
    assert "| Ann           |" in typist.out and "| Bob           |" in typist.out
    assert "2 rows" in typist.out


def test_statements_span_lines_until_the_semicolon(ws, tmp_path):
    typist = Typist(new_session(ws), tmp_path)
    typist.run([
        ("SELECT 1 AS one,\r", shows("one,\n")),  # Enter without ; continues the statement
        ("  'a;b' AS s\r", shows("AS s\n")),      # a ; inside a string does not end it
        ("-- a comment; still not the end\r", shows("the end\n")),
        (";\r", ran("| one | s   |")),
    ])
    assert typist.failures == []
    assert "|   1 | a;b |" in typist.out
    assert typist.out.count("1 row") == 1  # it ran once, as one statement


def test_dot_commands_end_at_the_line_end(ws, tmp_path):
    typist = Typist(new_session(ws), tmp_path)
    typist.run([
        (".mode csv\r", lambda t: t.prompt_ready() and t.session.format == "csv"),
        ("SELECT 42 AS answer;\r", ran("answer\n42\n")),
        (".mode line\r", lambda t: t.prompt_ready() and t.session.format == "line"),
        ("SELECT 1 AS a, NULL AS bb;\r", ran(" a = 1\n")),
    ])
    assert typist.failures == []
    assert " a = 1\nbb = NULL\n" in typist.out


def test_an_error_prints_one_line_and_the_session_goes_on(ws, tmp_path):
    typist = Typist(new_session(ws), tmp_path)
    code = typist.run([
        ("SELECT * FROM no_such_table;\r", ran("no_such_table")),
        ("SELEC 1;\r", ran("syntax error")),
        (".nope\r", ran("unknown command .nope")),
        ("SELECT 7 AS seven;\r", ran("| seven |")),
    ])
    assert typist.failures == []
    assert code == 0
    errors = typist.err.strip().splitlines()
    assert len(errors) == 3, errors
    assert all(line.startswith("Error: ") for line in errors)
    assert "Table with name no_such_table does not exist" in errors[0]


def test_quit_and_ctrl_d_end_the_shell(ws, tmp_path):
    typist = Typist(new_session(ws), tmp_path)
    assert typist.run([(".quit\r", None)]) == 0
    assert typist.failures == []


def test_ctrl_c_at_the_prompt_clears_the_line(ws, tmp_path):
    typist = Typist(new_session(ws), tmp_path)
    typist.run([
        ("SELECT 'never run'", shows("never run")),
        ("\x03", lambda t: t.prompt_ready()),
        ("SELECT 'ran' AS x;\r", ran("| ran |")),
    ])
    assert typist.failures == []
    assert "never run" not in typist.out


def test_ctrl_c_cancels_a_running_query_and_keeps_the_workspace(ws, tmp_path):
    """SIGINT while DuckDB runs a long query: the query stops at once (``con.interrupt()``), the
    shell says so, and the workspace still works (including a table created before)."""
    session = new_session(ws)
    typist = Typist(session, tmp_path)
    started = time.monotonic()
    code = typist.run([
        ("CREATE TABLE kept AS SELECT 1 AS x;\r", lambda t: t.prompt_ready() and "kept" in str(ws.query("SHOW TABLES"))),
        ("SELECT sum(hash(i)) AS long FROM range(100000000000) t(i);\r", interrupted_while_running),
        ("SELECT count(*) AS n FROM kept;\r", ran("| n |")),
    ])
    assert typist.failures == []
    assert code == 0
    assert "Error: interrupted" in typist.err
    assert "|  1 |" in typist.out or "| 1 |" in typist.out
    assert len(typist._sigint_sent) == 1, "the first Ctrl-C while the query ran should have stopped it"
    assert time.monotonic() - started < 20  # the query would run for many minutes


def test_ctrl_c_rolls_back_an_open_transaction(ws, tmp_path):
    session = new_session(ws)
    typist = Typist(session, tmp_path)
    typist.run([
        ("BEGIN; CREATE TABLE half AS SELECT 1 AS x;\r", lambda t: t.prompt_ready()),
        ("SELECT sum(hash(i)) FROM range(100000000000) t(i);\r", interrupted_while_running),
        ("SELECT count(*) AS n FROM duckdb_tables() WHERE table_name = 'half';\r", ran("| n |")),
    ])
    assert typist.failures == []
    assert "rolled back" in typist.err
    assert "| 0 |" in typist.out


def test_tall_results_go_to_the_pager_and_pager_off_prints(ws, tmp_path, monkeypatch):
    session = new_session(ws)
    typist = Typist(session, tmp_path)
    paged = []
    monkeypatch.setattr("hydra.shell.repl.loop._isatty", lambda stream: True)  # as if on a terminal
    monkeypatch.setattr("hydra.shell.session._isatty", lambda stream: True)
    monkeypatch.setattr("shutil.get_terminal_size", lambda *a, **k: os.terminal_size((100, 20)))

    class FakePager:  # stands in for subprocess.Popen(pager)
        def __init__(self, command, **kwargs):
            self.command = command

        def communicate(self, text):
            paged.append((self.command, text))

        def wait(self):
            return 0

    monkeypatch.setattr("hydra.shell.repl.loop.subprocess.Popen", FakePager)
    monkeypatch.setenv("PAGER", "my-pager --flag")
    typist.run([
        ("SELECT * FROM range(50);\r", lambda t: t.prompt_ready() and paged),
        ("SELECT * FROM range(3);\r", ran("3 rows")),  # fits the screen: printed
        (".pager off\r", lambda t: t.prompt_ready() and t.session.pager_command == "off"),
        ("SELECT * FROM range(60);\r", ran("60 rows")),
    ])
    assert typist.failures == []
    assert len(paged) == 1
    command, text = paged[0]
    assert command == "my-pager --flag"
    assert "50 rows" in text and "50 rows" not in typist.out


def test_toolbar_shows_workspace_sources_marks_and_time(ws, folder, tmp_path):
    typist = Typist(new_session(ws), tmp_path)
    seen = {}

    def toolbar_after_mark(t):
        text = "".join(part[1] for part in t.shell.toolbar())
        seen["toolbar"] = text
        return t.prompt_ready() and "marked: 1" in text

    typist.run([
        (f"ATTACH '{folder}' AS files;\r", ran("attached files")),
        ('MARK files."orders.csv";\r', toolbar_after_mark),
    ])
    assert typist.failures == []
    toolbar = seen["toolbar"]
    assert ":memory:" in toolbar and "sources: files" in toolbar and "marked: 1" in toolbar
    assert "last: " in toolbar and "last: -" not in toolbar


def test_completion_is_refreshed_after_the_catalog_changes(ws, folder, tmp_path):
    typist = Typist(new_session(ws), tmp_path)
    typist.run([
        ("CREATE TABLE late_table (late_column INT);\r",
         lambda t: t.prompt_ready() and "late_table" in t.shell.cache.peek().tables),  # reloaded in the background
        ("SELECT * FROM late_t", menu("late_t")),
        ("\t", shows("late_table")),
        (" WHERE late_c", menu("late_c")),
        ("\t", shows("late_column")),
        (";\r", ran("0 rows")),
    ])
    assert typist.failures == []


def test_pager_setting_is_valid_in_scripts_too():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "hydra", ":memory:", "-c", ".pager off", "-c", ".pager less -S",
                          "-c", "SELECT 1 AS one"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "one\n1\n"
    bad = subprocess.run([sys.executable, "-m", "hydra", ":memory:", "-c", ".pager"], capture_output=True, text=True)
    assert bad.returncode == 1 and "usage: .pager on|off|COMMAND" in bad.stderr
