"""Passwords: how Hydra reads them out of a URL, and that they never leak — not into an error, the
``(in: …)`` echo, ``sources``, the workspace file or the history — and are never sent anywhere but
to the server, as the password. Against the real PostgreSQL and MariaDB."""

from __future__ import annotations

import io
import os
import string
import subprocess
import uuid
from urllib.parse import quote

import psycopg
import pymysql
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from psycopg import sql

from hydra.core.errors import HydraError
from hydra.shell.repl.history import MaskedFileHistory
from hydra.core.secrets import expand, mask_sql, redact_uri
from hydra.shell.session import Session
from hydra.statements.workspace import Workspace

# every printable ASCII character, and some that are not ASCII
ALPHABET = [chr(c) for c in range(0x20, 0x7F)] + ["é", "ß", "€", "日", "🔑", "\u00a0"]
NASTY = ["Kx9#mP!2v/Q", "Kx9@mP!2vQ", "a?b[c]d:e/f#g@h%41", "it's \"q\" \\ $HOME ${X} ;--", "pässwörd€ 日本 🔑"]


def typed(password: str) -> str:
    """The password as the README says to type it in a URL: every character as it is, except a
    ``%`` (``%25``: ``%XX`` is a percent-escape) and ``${`` (``%24{``: a placeholder)."""
    return password.replace("%", "%25").replace("${", "%24{")


def sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def forms(password: str) -> set[str]:
    """Every form in which a leaked password could show: as is, percent-encoded, as typed."""
    return {password, quote(password, safe=""), typed(password)}


# -- how a URL is read -------------------------------------------------------------------------


@pytest.mark.parametrize("uri, user, password, query", [
    # a password may hold any character: it runs from the user's ':' to the last '@'
    ("postgresql://consultant:Kx9#mP!2v/Q@127.0.0.1:5432/eng_acme", "consultant", "Kx9#mP!2v/Q", None),
    ("postgresql://u:Kx9@mP!2vQ@127.0.0.1:1/db", "u", "Kx9@mP!2vQ", None),
    ("postgresql://u:a?b[c]d:e@h/db?sslmode=require", "u", "a?b[c]d:e", "sslmode=require"),
    ("mysql://u:p%40ss@h/db", "u", "p%40ss", None),
    # a user name ends at the first ':' or '@'; an '@' after it with no password is the host's
    ("postgresql://u@h/db?application_name=a@b", "u", None, "application_name=a@b"),
    ("postgresql://:pw@h/db", "", "pw", None),
    # no credentials: host:port, paths, buckets
    ("postgresql://h:5432/db", None, None, None),
    ("s3://bucket/a:b@c/x.csv", None, None, None),
    ("sqlite:////data/x@y.db", None, None, None),
])
def test_how_a_url_is_read(uri, user, password, query):
    from hydra.core.secrets import parse_url

    url = parse_url(uri)
    assert (url.part(url.user), url.part(url.password), url.part(url.query)) == (user, password, query)


@pytest.mark.parametrize("uri, canon", [
    ("postgresql://consultant:Kx9#mP!2v/Q@127.0.0.1:5432/eng", "postgresql://consultant:Kx9%23mP%212v%2FQ@127.0.0.1:5432/eng"),
    ("postgresql://u:p%40ss@h/db", "postgresql://u:p%40ss@h/db"),  # already encoded: kept
    ("postgresql://u:50%@h/db", "postgresql://u:50%25@h/db"),  # a '%' that escapes nothing is itself
    ("postgresql://us%40er@h/db", "postgresql://us%40er@h/db"),
    ("/data/a b.csv", "/data/a b.csv"),
])
def test_a_head_gets_the_credentials_percent_encoded(uri, canon):
    from hydra.core.secrets import canonical

    assert canonical(uri) == canon


def test_env_values_are_percent_encoded_in_userinfo_and_query_values(monkeypatch):
    monkeypatch.setenv("CPW", "Kx9@mP!2v/Q#&=%41")
    monkeypatch.setenv("HOST", "db.local:5433")
    monkeypatch.setenv("DIR", "/data/a b")
    encoded = quote("Kx9@mP!2v/Q#&=%41", safe="")
    assert expand("postgresql://u:${CPW}@${HOST}/db?password=${CPW}&x=1") == \
        f"postgresql://u:{encoded}@db.local:5433/db?password={encoded}&x=1"
    assert expand("${DIR}/x.csv") == "/data/a b/x.csv"  # not a URL: as it is


def test_typed_passwords_are_masked_in_sources_and_history():
    for password in NASTY:
        uri = f"postgresql://u:{typed(password)}@h:5432/db"
        assert redact_uri(uri) == "postgresql://u:***@h:5432/db"
        masked = mask_sql(f"ATTACH {sql_string(uri)} AS x")
        assert masked == "ATTACH 'postgresql://u:***@h:5432/db' AS x"
    assert redact_uri("postgresql://u:${CPW}@h/db") == "postgresql://u:${CPW}@h/db"  # kept: re-read later


# -- the property: any password, against the real PostgreSQL -----------------------------------


@pytest.fixture(scope="module")
def pg_db():
    """One PostgreSQL database for every example of the property test (dropped afterwards)."""
    from support.services import PG_URL

    name = f"hydra_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{PG_URL}/postgres", autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    yield f"{PG_URL}/{name}", name
    with psycopg.connect(f"{PG_URL}/postgres", autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@settings(max_examples=12, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(left=st.text(ALPHABET, max_size=12), right=st.text(ALPHABET, max_size=12))
@example(left="Kx9#mP!2v/Q", right="")
@example(left="Kx9@mP!2vQ", right="")
@example(left=string.punctuation + " ", right="é€日🔑")
def test_any_password_reaches_the_server_only_as_the_password(pg_db, tmp_path_factory, left, right):
    """A login role gets a password drawn from every printable ASCII character and some others
    (with a unique marker inside, so that a leak is never a coincidence). Typed in the URL and
    given as ${ENV}, it connects as that role to 127.0.0.1:5432 with exactly that password (so no
    part of it was taken for a host or a database); against a refused port the error names
    127.0.0.1 port 1. It is in no error, echo, ``sources`` row, workspace file byte or history line."""
    url, dbname = pg_db
    marker = uuid.uuid4().hex[:8]
    password = f"{left}Q{marker}{right}"
    role = f"hydra_pw_{marker}_{uuid.uuid4().hex[:6]}"
    variable = f"HYDRA_TEST_PW_{marker}"
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(role), sql.Literal(password)))
    folder = tmp_path_factory.mktemp("pw")
    os.environ[variable] = password
    ws = Workspace.open(str(folder / "w.duckdb"))
    try:
        out, err = io.StringIO(), io.StringIO()
        session = Session(ws, "csv", out, err)
        history = MaskedFileHistory(str(folder / "w.duckdb.history"))
        shown = []  # everything a user could see
        for n, secret in enumerate([typed(password), f"${{{variable}}}"]):
            for port in (5432, 1):
                uri = f"postgresql://{role}:{secret}@127.0.0.1:{port}/{dbname}"
                statement = f"ATTACH {sql_string(uri)} AS s{n}_{port}"
                history.store_string(statement)
                if port == 1:
                    with pytest.raises(HydraError) as caught:
                        session.run_text(statement)
                    message = str(caught.value)
                    assert '"127.0.0.1", port 1 failed: Connection refused' in message, message
                    assert message.count("\n") == 0
                    shown.append(message)
                    continue
                session.run_text(statement)
                head = ws.head(f"s{n}_{port}")
                raw = head.engine.raw_connection()
                try:
                    info = raw.driver_connection.info
                    assert (info.user, info.host, info.port, info.dbname) == (role, "127.0.0.1", 5432, dbname)
                    assert info.password == password
                    assert raw.driver_connection.execute("SELECT current_user").fetchone() == (role,)
                finally:
                    raw.close()
                assert head.password() == password  # what psql and mysql get, through their environment
        stored = ws.query("SELECT name, uri, options::VARCHAR FROM sources ORDER BY name")
        assert [row[1] for row in stored] == [f"postgresql://{role}:***@127.0.0.1:5432/{dbname}",
                                              f"postgresql://{role}:${{{variable}}}@127.0.0.1:5432/{dbname}"]
        shown += [str(stored), out.getvalue(), err.getvalue()]
    finally:
        ws.close()
        os.environ.pop(variable, None)
        with psycopg.connect(url, autocommit=True) as con:
            con.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
    files = b"".join(path.read_bytes() for path in folder.iterdir())
    assert b"ATTACH '" in files  # the history was written
    for leaked in forms(password):
        assert all(leaked not in text for text in shown)
        assert leaked.encode() not in files


# -- the issue's own cases, through the command line -------------------------------------------


@pytest.mark.parametrize("password", ["Kx9#mP!2v/Q", "Kx9@mP!2vQ", "Kx9?mP[2v]Q"])
def test_an_env_password_is_never_shown_nor_resolved(hydra_cmd, tmp_path, password):
    result = subprocess.run(
        [*hydra_cmd, ":memory:", "-c", "ATTACH 'postgresql://consultant:${CPW}@127.0.0.1:1/eng_acme' AS x"],
        capture_output=True, text=True, env={**os.environ, "CPW": password}, timeout=60)
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert "resolve" not in result.stderr and '"127.0.0.1", port 1 failed: Connection refused' in result.stderr
    assert "postgresql://consultant:***@127.0.0.1:1/eng_acme" in result.stderr
    assert not any(leaked in result.stderr for leaked in forms(password) | {"mP!2v", "2vQ"})


def test_a_typed_password_is_stored_nowhere(hydra_cmd, tmp_path, pg_database):
    password = "Kx9#mP!2v/Q"
    role = f"hc_{uuid.uuid4().hex[:8]}"  # short: the (in: …) echo shows 70 characters
    with psycopg.connect(pg_database, autocommit=True) as con:
        con.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(role), sql.Literal(password)))
    try:
        hostdb = pg_database.split("@", 1)[1]
        workspace = tmp_path / "w.duckdb"
        result = subprocess.run(
            [*hydra_cmd, str(workspace), "-c", f"ATTACH 'postgresql://{role}:{password}@{hostdb}' AS crm",
             "-c", "SELECT uri FROM sources",
             "-c", f"ATTACH 'postgresql://{role}:{password}@127.0.0.1:1/x' AS bad"],
            capture_output=True, text=True, timeout=60)
        assert result.returncode == 1, result.stderr
        assert result.stdout == f"uri\npostgresql://{role}:***@{hostdb}\n"
        assert f"(in: ATTACH 'postgresql://{role}:***@127.0.0.1:1/x' AS bad)" in result.stderr
        assert password not in result.stdout + result.stderr and quote(password, safe="") not in result.stderr
        assert not any(password.encode() in p.read_bytes() for p in tmp_path.iterdir())
    finally:
        with psycopg.connect(pg_database, autocommit=True) as con:
            con.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_a_failed_attach_in_the_shell_leaves_no_password_in_the_history(tmp_path):
    from support.repl import Typist, new_session, ran

    ws = Workspace.open(":memory:")
    try:
        typist = Typist(new_session(ws), tmp_path)
        typist.run([("ATTACH 'postgresql://u:Kx9#mP!2v/Q@127.0.0.1:1/db' AS pg;\r", ran("Error: "))])
        assert typist.failures == []
        stored = open(typist.history_file, "rb").read()
        assert b"ATTACH 'postgresql://u:***@127.0.0.1:1/db' AS pg;" in stored
        assert b"mP!2v" not in stored and "mP!2v" not in typist.err
    finally:
        ws.close()


# -- MariaDB checks the password for real -------------------------------------------------------


@pytest.mark.parametrize("password", [p for p in NASTY if p.isascii()])
def test_nasty_passwords_log_in_to_mariadb(mysql_database, tmp_path, password, monkeypatch):
    """MariaDB refuses a wrong password, so a login proves the password arrived whole; reads go
    through the cursor and through the ``mysql`` client (MYSQL_PWD). (ASCII only: PyMySQL sends a
    password as Latin-1, so a non-ASCII one cannot log in through it whatever Hydra does.)"""
    dbname = mysql_database.rsplit("/", 1)[1]
    user = f"hydra_pw_{uuid.uuid4().hex[:8]}"
    admin = pymysql.connect(host="127.0.0.1", port=3306, user="root", autocommit=True)
    with admin.cursor() as cur:
        cur.execute(f"CREATE TABLE `{dbname}`.t (id INT PRIMARY KEY, v VARCHAR(10))")
        cur.execute(f"INSERT INTO `{dbname}`.t VALUES (1, 'a'), (2, 'b')")
        cur.execute(f"CREATE USER '{user}'@'%%' IDENTIFIED BY %s", [password])
        cur.execute(f"GRANT SELECT ON `{dbname}`.* TO '{user}'@'%'")
    monkeypatch.setenv("HYDRA_MY_PW", password)
    ws = Workspace.open(str(tmp_path / "w.duckdb"))
    try:
        shown = []
        for n, secret in enumerate([typed(password), "${HYDRA_MY_PW}"]):
            for bulk in ("cursor", "client"):
                ws.execute(f"ATTACH {sql_string(f'mysql://{user}:{secret}@127.0.0.1:3306/{dbname}')} "
                           f"AS m{n}{bulk} (BULK {bulk})")
                assert ws.execute(f"SELECT id, v FROM m{n}{bulk}.{dbname}.t ORDER BY id").rows == [(1, "a"), (2, "b")]
            wrong = f"mysql://{user}:{secret}x@127.0.0.1:3306/{dbname}"  # refused by the server
            with pytest.raises(HydraError) as caught:
                ws.execute(f"ATTACH {sql_string(wrong)} AS bad{n}")
            assert "Access denied" in str(caught.value)
            shown += [str(caught.value), str(ws.query("SELECT uri, options::VARCHAR FROM sources"))]
    finally:
        ws.close()
        with admin.cursor() as cur:
            cur.execute(f"DROP USER '{user}'@'%'")
        admin.close()
    files = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    for leaked in forms(password):
        assert all(leaked not in text for text in shown) and leaked.encode() not in files
