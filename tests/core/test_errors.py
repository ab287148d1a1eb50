"""Errors a user meets are one clear line: a missing driver names the extra that installs it, and a
source that refuses a read mid-stream says so in its own words, not in DuckDB's traceback."""

from __future__ import annotations

import subprocess
import sys
import uuid

import psycopg
import pytest

from hydra.core.errors import HydraError

# run hydra with a driver made impossible to import, as if it were not installed
WITHOUT = "import sys; sys.modules[{module!r}] = None; from hydra.shell.cli import main; sys.exit(main(sys.argv[1:]))"


@pytest.mark.parametrize("module, uri, extra", [
    ("psycopg", "postgresql://postgres@127.0.0.1:5432/postgres", "postgres"),
    ("psycopg", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres", "postgres"),
    ("pymysql", "mysql://root@127.0.0.1:3306/mysql", "mysql"),
    ("pymysql", "mariadb+pymysql://root@127.0.0.1:3306/mysql", "mysql"),
    ("pyodbc", "mssql+pyodbc://u@dsn", "mssql"),
    ("boto3", "s3://bucket", "aws"),
])
def test_a_missing_driver_names_its_extra(module, uri, extra):
    result = subprocess.run([sys.executable, "-c", WITHOUT.format(module=module), ":memory:", "-c",
                             f"ATTACH '{uri}' AS x"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
    assert f"pip install 'hydra-shell[{extra}]'" in result.stderr and "Traceback" not in result.stderr


@pytest.fixture
def locked_out(pg_database):
    """A database with a table the login role may read and one it may not; yields the role's URL."""
    role = f"hydra_noread_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_database, autocommit=True) as con:
        con.execute("CREATE SCHEMA sales; CREATE SCHEMA secure;"
                    "CREATE TABLE sales.customers (id int PRIMARY KEY); INSERT INTO sales.customers VALUES (1);"
                    "CREATE TABLE secure.salaries (id int PRIMARY KEY, amount numeric);"
                    "INSERT INTO secure.salaries VALUES (1, 10)")
        con.execute(f"CREATE ROLE {role} LOGIN")
        con.execute(f"GRANT USAGE ON SCHEMA sales, secure TO {role}")
        con.execute(f"GRANT SELECT ON sales.customers TO {role}")
    yield pg_database.replace("postgresql://postgres@", f"postgresql://{role}@")
    with psycopg.connect(pg_database, autocommit=True) as con:
        con.execute(f"DROP OWNED BY {role}")
        con.execute(f"DROP ROLE {role}")


@pytest.mark.parametrize("bulk", ["auto", "binary", "copy", "client", "cursor"])
def test_a_read_the_source_refuses_is_the_sources_own_line(ws, locked_out, bulk):
    """DuckDB reports a failed Arrow stream as 'Invalid Input Error: reading the stream … Python
    exception: Traceback'; Hydra shows the head's line instead, on every transport."""
    ws.execute(f"ATTACH '{locked_out}' AS crm (BULK {bulk})")
    for query in ("SELECT * FROM crm.secure.salaries", "FROM crm.secure.salaries LIMIT 1",
                  "SELECT c.id FROM crm.sales.customers c JOIN crm.secure.salaries s USING (id)"):
        with pytest.raises(HydraError) as caught:
            ws.execute(query)
        assert str(caught.value) == "crm.secure.salaries: permission denied for table salaries"
    assert ws.execute("SELECT id FROM crm.sales.customers").rows == [(1,)]  # the session goes on


def test_the_command_line_prints_the_sources_line(hydra_cmd, tmp_path, locked_out):
    result = subprocess.run([*hydra_cmd, str(tmp_path / "w.duckdb"), "-c", f"ATTACH '{locked_out}' AS crm",
                             "-c", "SELECT * FROM crm.secure.salaries"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == ("hydra: error: -c:1: crm.secure.salaries: permission denied for "
                                              "table salaries (in: SELECT * FROM crm.secure.salaries)")
