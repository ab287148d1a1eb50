"""The ``history`` table: the statements REPORT lists among the run's facts (issue 21)."""

from __future__ import annotations

import getpass
import io
import socket
import subprocess

import pytest

import hydra
from hydra.shell.session import Session, StatementFailed
from hydra.statements.workspace import Workspace


def logged(ws) -> list[tuple]:
    return ws.query("SELECT origin, line, statement, status, error FROM history ORDER BY started_at")


@pytest.fixture
def session(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.csv").write_text("id,v\n1,x\n2,y\n")
    ws = Workspace.open(str(tmp_path / "w.duckdb"))
    s = Session(ws, "csv", out=io.StringIO(), err=io.StringIO())
    yield s
    s.close()
    ws.close()


def test_statements_are_kept_with_where_they_came_from_and_how_they_ended(session, tmp_path):
    session.run_text(f"ATTACH '{tmp_path / 'data'}' AS f;\nSELECT * FROM f.\"a.csv\";\n"
                     "CREATE TABLE notes (t VARCHAR);\n  MARK f.*;", origin="engagement.sql")
    with pytest.raises(StatementFailed):
        session.run_text("DETACH nowhere", origin="-c")
    assert logged(session.ws) == [
        ("engagement.sql", 1, f"ATTACH '{tmp_path / 'data'}' AS f", "ok", None),
        ("engagement.sql", 3, "CREATE TABLE notes (t VARCHAR)", "ok", None),
        ("engagement.sql", 4, "MARK f.*", "ok", None),
        ("-c", 1, "DETACH nowhere", "failed", "no source named 'nowhere'"),
    ]
    user, host, version, seconds = session.ws.query(
        "SELECT user_name, host, hydra_version, seconds FROM history LIMIT 1")[0]
    assert (user, host, version) == (getpass.getuser(), socket.gethostname(), hydra.__version__) and seconds >= 0


def test_queries_and_dot_commands_are_not_kept(session):
    session.run_text("SELECT 42;\n.mode csv\nDESCRIBE SELECT 1;\nWITH t AS (SELECT 1) SELECT * FROM t;", origin="-c")
    assert logged(session.ws) == []


def test_a_statement_with_failed_checks_is_partial(session, tmp_path):
    session.run_text(f"ATTACH '{tmp_path / 'data'}' AS f; MARK f.*; EXTRACT MARKED TO '{tmp_path / 'out'}'",
                     origin="-c")
    (next((tmp_path / "out").rglob("*.parquet"))).write_bytes(b"not parquet any more")
    session.run_text("RECONCILE LAST", origin="-c")
    status, error = session.ws.query("SELECT status, error FROM history WHERE statement = 'RECONCILE LAST'")[0]
    assert status == "partial" and error.startswith("RECONCILE R") and "checks failed" in error


def test_a_read_only_workspace_keeps_none(tmp_path, hydra_cmd):
    Workspace.open(str(tmp_path / "w.duckdb")).close()
    run = subprocess.run([*hydra_cmd, "--read-only", str(tmp_path / "w.duckdb"), "-c", "CREATE TEMP TABLE t (a INT)",
                          "-c", "SELECT count(*) FROM history"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == ["count_star()", "0"]
