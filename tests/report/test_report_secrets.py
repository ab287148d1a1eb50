"""No secret ever appears in a report: passwords planted in source URIs (typed and through
``${ENV}``), in a URI's query, in ATTACH options, in a refused statement and in the environment,
then every form of each is looked for in both reports and in the workspace. Against the real
PostgreSQL (trust authentication: it accepts any password, so the attaches succeed)."""

from __future__ import annotations

import html
import os
import uuid
from urllib.parse import quote

import duckdb
import psycopg
import pytest

pytestmark = pytest.mark.slow


def typed(password: str) -> str:
    """The password as the README says to type it in a URL (``%25`` for ``%``, ``%24{`` for ``${``)."""
    return password.replace("%", "%25").replace("${", "%24{")


def forms(password: str) -> set[str]:
    """Every form in which a leaked password could show: as is, percent-encoded, as typed."""
    return {password, quote(password, safe=""), typed(password)}


def planted(label: str) -> str:
    return f"Pl4nted#{label}!/x@{uuid.uuid4().hex[:8]}"


@pytest.fixture
def engagement(pg_database, tmp_path, hydra_in):
    with psycopg.connect(pg_database, autocommit=True) as con:
        con.execute("CREATE TABLE orders (id int PRIMARY KEY, amount numeric(10,2))")
        con.execute("INSERT INTO orders SELECT g, g * 1.5 FROM generate_series(1, 50) g")
    secrets = {name: planted(name) for name in ("typed", "env", "option", "created", "environment")}
    secrets["query"] = f"Pl4ntedQuery{uuid.uuid4().hex[:10]}"  # a query value: typed percent-encoded
    host, database = pg_database.split("@", 1)[1].split("/", 1)
    env = {**os.environ, "HYDRA_REPORT_PW": secrets["env"], "PGPASSWORD": secrets["environment"],
           "AWS_SECRET_ACCESS_KEY": secrets["environment"]}
    statements = [
        f"ATTACH 'postgresql://postgres:{typed(secrets['typed'])}@{host}/{database}' AS crm",
        f"ATTACH 'postgresql://postgres@{host}/{database}?password={secrets['query']}' AS crm2",
        f"ATTACH 'postgresql://postgres:${{HYDRA_REPORT_PW}}@{host}/{database}' AS crm3",
        "PROFILE crm.public.orders", "MARK crm.public.orders", "EXTRACT MARKED TO 'out'", "RECONCILE LAST",
    ]
    hydra_in(tmp_path, *statements, workspace="w.duckdb", env=env)
    refused = [f"ATTACH '{tmp_path}' AS f (PASSWORD '{secrets['option']}')",
               f"CREATE SECRET s (TYPE s3, KEY_ID 'AKIAEXAMPLE', SECRET '{secrets['created']}')"]
    for statement in refused:  # each stops its script with one line: run them one by one
        assert hydra_in(tmp_path, statement, workspace="w.duckdb", env=env, check=False).returncode == 1
    hydra_in(tmp_path, "REPORT TO 'out/report.html'", "REPORT TO 'out/report.md'", workspace="w.duckdb", env=env)
    return tmp_path, secrets


def test_no_secret_reaches_either_report(engagement):
    folder, secrets = engagement
    for name in ("report.html", "report.md"):
        raw = (folder / "out" / name).read_text(encoding="utf-8")
        text = html.unescape(raw)  # the page escapes quotes: look for what a reader sees, and what is stored
        for label, secret in secrets.items():
            for form in forms(secret) | {quote(secret, safe="").replace("%", "%25")}:
                assert form not in text and form not in raw, f"{label} password in {name}"
        # what the report shows instead: masks, and the placeholder that reads the environment
        assert "postgres:***@" in text and "${HYDRA_REPORT_PW}" in text and "password=***" in text
        assert "PASSWORD '***'" in text and "SECRET '***'" in text  # the refused statements, masked
        assert "crm.public.orders" in text


def test_nor_the_statement_log(engagement):
    folder, secrets = engagement
    with duckdb.connect(str(folder / "w.duckdb"), read_only=True) as con:
        logged = "\n".join(f"{s} {e}" for s, e in con.execute("SELECT statement, error FROM history").fetchall())
    assert logged.count("ATTACH '") == 4 and "CREATE SECRET" in logged
    for secret in secrets.values():
        assert not any(form in logged for form in forms(secret))
