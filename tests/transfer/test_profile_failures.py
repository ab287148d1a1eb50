"""PROFILE reports an element it could not read as failed, with the reason, instead of
"profiled" with NULL figures (issue 10, item 6) — against the real PostgreSQL."""

from __future__ import annotations

import uuid

import psycopg
import pytest

SETUP = """
CREATE VIEW v_div AS SELECT g AS id, 1 / (g - g) AS x FROM generate_series(1, 3) g;
CREATE VIEW v_cast AS SELECT g AS id, (CASE WHEN g = 2 THEN 'abc' ELSE g::text END)::int AS y
    FROM generate_series(1, 3) g;
CREATE TABLE salaries (id int PRIMARY KEY, name text, salary int);
INSERT INTO salaries VALUES (1, 'a', 10), (2, 'b', 20);
CREATE TABLE fine (id int PRIMARY KEY, v text);
INSERT INTO fine VALUES (1, 'x');
"""


@pytest.fixture
def restricted(pg_database):
    """The database as a role that may read every column but salaries.salary."""
    role = f"hydra_ro_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_database, autocommit=True) as con:
        con.execute(SETUP)
        con.execute(f"CREATE ROLE {role} LOGIN")
        con.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        con.execute(f"GRANT SELECT ON v_div, v_cast, fine TO {role}")
        con.execute(f"GRANT SELECT (id, name) ON salaries TO {role}")
    yield pg_database.replace("postgresql://postgres@", f"postgresql://{role}@")
    with psycopg.connect(pg_database, autocommit=True) as con:
        con.execute(f"DROP OWNED BY {role}")
        con.execute(f"DROP ROLE {role}")


def test_profile_names_what_it_could_not_read(ws, restricted):
    ws.execute(f"ATTACH '{restricted}' AS pg (SCHEMAS 'public')")
    result = ws.execute("PROFILE pg.public.*")
    outcome = {r[0]: (r[3], r[5]) for r in result.rows}
    assert outcome["pg.public.fine"][0] == "postgresql aggregate query"
    assert outcome["pg.public.v_div"] == ("failed", "pg: cannot aggregate public.v_div: column x: division by zero")
    assert outcome["pg.public.v_cast"][0] == "failed"
    assert "column y: invalid input syntax for type integer" in outcome["pg.public.v_cast"][1]
    assert outcome["pg.public.salaries"] == (
        "failed", "pg: cannot aggregate public.salaries: column salary: permission denied for table salaries")
    assert result.message == "profiled 1 element; 3 FAILED: see the error column or stats.error"
    stats = {r[0]: r[1:] for r in ws.query(
        "SELECT ref, row_count, method, error FROM stats WHERE column_name IS NULL")}
    assert stats["pg.public.salaries"] == (None, "failed", outcome["pg.public.salaries"][1])
    assert stats["pg.public.fine"][:3] == (1, "postgresql aggregate query", None)
    assert ws.query("SELECT count(*) FROM stats WHERE ref <> 'pg.public.fine' AND column_name IS NOT NULL") == [(0,)]


def test_a_failure_replaces_earlier_figures(ws, pg_database):
    with psycopg.connect(pg_database, autocommit=True) as con:
        con.execute("CREATE TABLE t (id int PRIMARY KEY, d int); INSERT INTO t VALUES (1, 1), (2, 2)")
        con.execute("CREATE VIEW v AS SELECT id, 10 / d AS q FROM t")
    ws.execute(f"ATTACH '{pg_database}' AS pg (SCHEMAS 'public')")
    assert ws.execute("PROFILE pg.public.v").rows[0][1] == 2
    with psycopg.connect(pg_database, autocommit=True) as con:
        con.execute("UPDATE t SET d = 0 WHERE id = 2")
    result = ws.execute("PROFILE pg.public.v")
    assert result.rows[0][3] == "failed" and "column q: division by zero" in result.rows[0][5]
    assert ws.query("SELECT column_name, row_count, error IS NOT NULL FROM stats WHERE ref = 'pg.public.v'") == [
        (None, None, True)]
