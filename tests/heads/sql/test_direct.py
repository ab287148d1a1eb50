"""A postgresql+psycopg or mysql+pymysql head connects without SQLAlchemy (``direct``), exactly as its engine would."""

from __future__ import annotations

import subprocess
import sys

import psycopg
import pytest

from hydra.heads.sql import direct
from hydra.heads.sql.head import SqlHead

URLS = [
    "postgresql+psycopg://u:p%40ss%2Fw0rd@db.example:6543/sales?sslmode=require&application_name=x",
    "postgresql+psycopg://u:pa/ss:w?rd@host/db",  # what SQLAlchemy's grammar allows unescaped
    "postgresql+psycopg://u@[::1]:5432/db",
    "postgresql+psycopg://host",
    "postgresql+psycopg:///db?host=/var/run/postgresql",
    "postgresql+psycopg://u@h/db?a=1&a=2",
    "mysql+pymysql://root@127.0.0.1:3306/",
    "mysql+pymysql://u:p%40ss@db.example:3307/sales?charset=utf8mb4",
    "mariadb+pymysql://u@h/db",
    "mssql+pyodbc://u:p@dsn?odbc_connect=DRIVER%3D%7BX%7D",
]


@pytest.mark.parametrize("text", URLS)
def test_urls_read_as_sqlalchemy_reads_them(text):
    from sqlalchemy.engine import make_url

    mine, theirs = direct.parse_url(text), make_url(text)
    assert (mine.drivername, mine.username, mine.password, mine.host, mine.port, mine.database) == \
        (theirs.drivername, theirs.username, theirs.password, theirs.host, theirs.port, theirs.database)
    assert mine.query == {k: list(v) if isinstance(v, tuple) else v for k, v in theirs.query.items()}
    assert mine.get_backend_name() == theirs.get_backend_name()


def test_the_connect_arguments_are_the_engines():
    from sqlalchemy import create_engine

    text = "postgresql+psycopg://u:secret@h:6543/db?sslmode=require&connect_timeout=99"
    head = SqlHead("x", text)
    url = direct.parse_url(text)
    engine = create_engine(text)
    _, theirs = engine.dialect.create_connect_args(engine.url)
    theirs.pop("context", None)
    theirs.update(head._connect_args(url))  # create_engine(connect_args=…) goes over the URL's
    assert direct.connect_kwargs(url, head._connect_args(url)) == theirs
    assert direct.direct(url)
    assert not direct.direct(direct.parse_url("postgresql+psycopg:///db?host=/tmp"))  # multi-host forms: SQLAlchemy
    assert not direct.direct(direct.parse_url("postgresql+psycopg2://h/db"))


@pytest.mark.parametrize("text", ["mysql+pymysql://u:secret@h:3307/db?charset=utf8mb4", "mariadb+pymysql://u@h/db",
                                  "mysql+pymysql://h"])
def test_mysql_connect_arguments_are_the_engines(text):
    from sqlalchemy import create_engine

    head = SqlHead("x", text)
    url = direct.parse_url(text)
    engine = create_engine(text)
    _, theirs = engine.dialect.create_connect_args(engine.url)
    theirs.update(head._connect_args(url))
    assert direct.connect_kwargs(url, head._connect_args(url)) == theirs
    assert direct.direct(url) and direct.driver(url) == "pymysql"
    assert not direct.direct(direct.parse_url("mysql+pymysql://h/db?ssl_ca=/x.pem"))  # ssl: SQLAlchemy's
    assert not direct.direct(direct.parse_url("mysql+mysqldb://h/db"))


def read_alone(url: str, parts: tuple[str, str], types: tuple[str, str], session_sql: str) -> list[str]:
    """In a process of its own (this one has SQLAlchemy loaded), a head opens, takes a snapshot,
    reads the 1-row table ``parts`` (columns id and v, of source ``types``) and takes its figures,
    then asks ``session_sql`` of a pooled connection: what it printed — the rows, the row count,
    the figures' method, the snapshot token, the session's answer, the head's schemas, and whether
    SQLAlchemy was imported."""
    script = f"""
import sys
from hydra.core.model import Column, Element
from hydra.core.snapshot import reading
from hydra.heads.sql.head import SqlHead
head = SqlHead("x", {url!r})
head.open()
element = Element(parts={parts!r}, kind="table", columns=[Column("id", "INTEGER", {types[0]!r}),
                                                          Column("v", "VARCHAR", {types[1]!r})])
snapshot = head.snapshot(element)
with reading(snapshot):
    rows = head.read(element).read_all().to_pylist()
figures = head.aggregates(element, element.columns, snapshot)
head.release(snapshot)
raw = head.raw_connection()
cur = raw.cursor()
cur.execute({session_sql!r})
session = cur.fetchone()
raw.close()
head.close()
print(rows, figures.row_count, figures.method, bool(snapshot.token), session, head.schemas, "sqlalchemy" in sys.modules,
      sep="|")
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.rstrip("\n").split("|")


def test_a_mysql_head_reads_snapshots_and_figures_without_sqlalchemy(mysql_database):
    """On the real MariaDB: the session is read-only and in UTC, as the engine's, and the figures
    are taken beside the reader."""
    import pymysql

    database = mysql_database.rsplit("/", 1)[1]
    with pymysql.connect(host="127.0.0.1", port=3306, user="root", database=database, autocommit=True) as con:
        con.cursor().execute("CREATE TABLE one (id INT PRIMARY KEY, v VARCHAR(10))")
        con.cursor().execute("INSERT INTO one VALUES (1, 'a')")
    rows, count, method, _, session, schemas, sqlalchemy = read_alone(
        mysql_database, (database, "one"), ("int", "varchar(10)"), "SELECT @@session.tx_read_only, @@session.time_zone")
    assert (rows, count, session, schemas, sqlalchemy) == \
        ("[{'id': 1, 'v': 'a'}]", "1", "(1, '+00:00')", f"[{database!r}]", "False")
    assert "beside the reader" in method


def test_a_head_reads_snapshots_and_figures_without_sqlalchemy(pg_database):
    with psycopg.connect(pg_database, autocommit=True) as con:
        con.execute("CREATE TABLE one (id int PRIMARY KEY, v text); INSERT INTO one VALUES (1, 'a')")
    rows, count, method, token, session, _, sqlalchemy = read_alone(
        pg_database, ("public", "one"), ("integer", "text"), "SHOW default_transaction_read_only")
    assert (rows, count, token, session, sqlalchemy) == ("[{'id': 1, 'v': 'a'}]", "1", "True", "('on',)", "False")
    assert "in the element's snapshot" in method


def test_the_engine_is_made_when_something_needs_it_with_the_opened_url(pg_database):
    head = SqlHead("x", pg_database)
    head.open()
    try:
        assert head._engine is None and head.is_open
        assert [e.parts for e in head.enumerate()] == []  # the catalog goes through SQLAlchemy
        assert head._engine is not None
        with head.engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW default_transaction_read_only").scalar() == "on"
    finally:
        head.close()
    assert not head.is_open


def test_a_bad_password_is_one_line_without_it(pg_database):
    from hydra.heads.base import HeadConnectionError

    rest = pg_database.split("@", 1)[1]
    url = f"postgresql://nobody_here_{id(rest):x}:s3cr3t-pw@{rest}"  # no such role: the server refuses
    head = SqlHead("x", url)
    with pytest.raises(HeadConnectionError) as err:
        head.open()
    assert "s3cr3t-pw" not in str(err.value) and "cannot connect" in str(err.value)
    assert "\n" not in str(err.value)


def test_psql_runs_the_newest_client_past_debians_wrapper(tmp_path, monkeypatch):
    """pg_wrapper (a Perl script, 80-110 ms a run) is skipped when the connection names its host,
    port and database; its choice of client, the newest installed, is kept."""
    from hydra.heads.sql import postgres

    root = tmp_path / "lib"
    for version in ("9.6", "15", "16", "latest"):
        (root / version / "bin").mkdir(parents=True)
        program = root / version / "bin" / "psql"
        program.write_text("#!/bin/sh\n")
        program.chmod(0o755)
    wrapper = tmp_path / "pg_wrapper"
    wrapper.write_text("#!/usr/bin/perl\n")
    (tmp_path / "psql").symlink_to(wrapper)
    monkeypatch.setattr(postgres, "PG_BINROOT", str(root))
    monkeypatch.setattr(postgres.shutil, "which", lambda name: str(tmp_path / name))
    monkeypatch.delenv("PGCLUSTER", raising=False)
    assert postgres._newest_psql.__wrapped__() == str(root / "16" / "bin" / "psql")
    monkeypatch.setenv("PGCLUSTER", "15/main")
    assert postgres._newest_psql.__wrapped__() is None  # the wrapper's choice, as asked

    monkeypatch.setattr(postgres, "_newest_psql", lambda: "/x/psql")
    env: dict = {}
    assert postgres._psql({"host": "h", "port": "5432", "dbname": "d"}, env) == "/x/psql"
    assert env == {"PGSYSCONFDIR": "/etc/postgresql-common"}
    env = {}
    assert postgres._psql({"host": "h", "dbname": "d"}, env) == "psql" and env == {}  # the wrapper picks a port
