"""History: one file per workspace, secrets masked before anything is written, Ctrl-R search."""

from __future__ import annotations

import os

import pytest
from support.repl import Typist, new_session, ran, shows

from hydra.shell.repl.history import history_path
from hydra.core.secrets import mask_sql
from hydra.statements.workspace import Workspace


@pytest.mark.parametrize("typed, stored", [
    ("ATTACH 'postgresql://u:s3cret@host/db' AS x;", "ATTACH 'postgresql://u:***@host/db' AS x;"),
    ("attach 'mysql+pymysql://root:s3cret@127.0.0.1:3306/shop' as shop (TYPE sql);",
     "attach 'mysql+pymysql://root:***@127.0.0.1:3306/shop' as shop (TYPE sql);"),
    # placeholders are not secrets and stay, so the history can be re-run
    ("ATTACH 'postgresql://u:${PGPASSWORD}@host/db' AS x;", "ATTACH 'postgresql://u:${PGPASSWORD}@host/db' AS x;"),
    ("ATTACH 'mssql://sa@h/db?password=s3cret&driver=x' AS m;", "ATTACH 'mssql://sa@h/db?password=***&driver=x' AS m;"),
    ("ATTACH 's3://bucket/' AS lake (TYPE s3, SECRET 's3cret', PROFILE 'client');",
     "ATTACH 's3://bucket/' AS lake (TYPE s3, SECRET '***', PROFILE 'client');"),
    ("CREATE SECRET (TYPE s3, KEY_ID 'AKIA1', SECRET 's3cret');", "CREATE SECRET (TYPE s3, KEY_ID 'AKIA1', SECRET '***');"),
    ("SELECT * FROM postgres_scan('host=h password=s3cret dbname=x', 'public', 't');",
     "SELECT * FROM postgres_scan('host=h password=*** dbname=x', 'public', 't');"),
    # a quote inside the password, and statements around it
    ("SELECT 1; ATTACH 'postgresql://u:s3''cret@h/db' AS y; SELECT 'it''s';",
     "SELECT 1; ATTACH 'postgresql://u:***@h/db' AS y; SELECT 'it''s';"),
    ("SELECT 'nothing secret', \"postgresql://a:b@c\" FROM t;", "SELECT 'nothing secret', \"postgresql://a:b@c\" FROM t;"),
])
def test_secrets_are_masked(typed, stored):
    assert mask_sql(typed) == stored


def test_text_that_cannot_be_tokenized_is_not_stored():
    assert mask_sql("ATTACH 'postgresql://u:s3cret@h/db AS x;") is None


def test_history_file_sits_next_to_the_workspace(tmp_path, monkeypatch):
    monkeypatch.delenv("HYDRA_HISTORY", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    ws = Workspace.open(str(tmp_path / "client.duckdb"))
    try:
        assert history_path(ws) == str(tmp_path / "client.duckdb.history")
    finally:
        ws.close()
    memory = Workspace.open(":memory:")
    try:
        assert history_path(memory) == str(tmp_path / ".hydra_history")
        monkeypatch.setenv("HYDRA_HISTORY", str(tmp_path / "elsewhere"))
        assert history_path(memory) == str(tmp_path / "elsewhere")
    finally:
        memory.close()


def test_the_shell_writes_masked_history_and_ctrl_r_finds_it(tmp_path):
    ws = Workspace.open(":memory:")
    try:
        typist = Typist(new_session(ws), tmp_path)
        typist.run([
            ("SELECT 'first' AS word;\r", ran("| first |")),
            ("ATTACH 'postgresql://u:s3cret@127.0.0.1:1/db' AS pg;\r", ran("Error: ")),
            ("SELECT 'second' AS word;\r", ran("| second |")),
            ("\x12", lambda t: t.shell.prompt.app.layout.current_control.buffer.name == "SEARCH_BUFFER"),
            ("fir", lambda t: t.shell.prompt.search_buffer.text == "fir"),  # Ctrl-R, then type
            ("\r", shows("SELECT 'first' AS word;")),  # Enter takes the match into the line
            ("\r", lambda t: t.prompt_ready() and t.out.count("| first |") == 2),  # and Enter runs it
        ])
        assert typist.failures == []
        with open(typist.history_file, "rb") as fh:
            stored = fh.read()
        assert b"s3cret" not in stored
        assert b"ATTACH 'postgresql://u:***@127.0.0.1:1/db' AS pg;" in stored
        assert b"SELECT 'second' AS word;" in stored
        assert oct(os.stat(typist.history_file).st_mode & 0o777) == "0o600"
        # the failed ATTACH left nothing behind in the workspace either
        assert ws.query("SELECT count(*) FROM sources")[0][0] == 0
        assert "s3cret" not in typist.err
    finally:
        ws.close()


def test_history_is_read_back_in_the_next_session(tmp_path):
    ws = Workspace.open(":memory:")
    try:
        Typist(new_session(ws), tmp_path).run([("SELECT 'remembered' AS r;\r", ran("remembered"))])
        typist = Typist(new_session(ws), tmp_path)
        typist.run([("\x1b[A", shows("remembered")), ("\r", ran("| remembered |"))])  # ↑ recalls it
        assert typist.failures == []
    finally:
        ws.close()


def test_an_unwritable_history_file_does_not_end_the_session(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    ws = Workspace.open(":memory:")
    try:
        typist = Typist(new_session(ws), tmp_path)
        typist.shell.prompt.history.filename = str(folder / "sub" / "history")
        os.chmod(folder, 0o500)
        if os.access(folder, os.W_OK):  # root ignores permissions: use a path under a file instead
            typist.shell.prompt.history.filename = str(tmp_path / "history_is_a_file" / "x")
            (tmp_path / "history_is_a_file").write_text("")
        typist.run([("SELECT 1 AS a;\r", ran("| a |")), ("SELECT 2 AS b;\r", ran("| b |"))])
        assert typist.failures == []
        assert "history not saved to" in typist.err
        assert typist.err.count("history not saved") == 1
    finally:
        os.chmod(folder, 0o700)
        ws.close()
