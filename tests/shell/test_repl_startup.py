"""Fast start: a plain query from the command line imports neither sqlglot nor the heavy
libraries, and a :memory: workspace creates its catalog only when a statement could see it.
(The timing itself is measured by bench/bench_startup.py, not here.)"""

from __future__ import annotations

import os
import subprocess
import sys

HEAVY = ("sqlglot", "pyarrow", "pandas", "sqlalchemy", "prompt_toolkit", "pygments", "boto3", "rich")


def run(*args, env_extra=None):
    env = dict(os.environ, PYTHONPROFILEIMPORTTIME="1")
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "hydra", *args], capture_output=True, text=True, env=env)


def imported(stderr: str) -> set[str]:
    names = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


def test_a_plain_query_imports_nothing_heavy():
    out = run(":memory:", "-c", "SELECT 41 + 1 AS answer")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "answer\n42\n"
    modules = imported(out.stderr)
    assert "duckdb" in modules  # the measurement works
    assert not modules & set(HEAVY), modules & set(HEAVY)


def test_a_file_workspace_with_sources_also_starts_light(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.csv").write_text("id\n1\n")
    workspace = str(tmp_path / "w.duckdb")
    assert run(workspace, "-c", f"ATTACH '{data}' AS f").returncode == 0
    out = run(workspace, "-c", "SELECT count(*) AS n FROM range(5)")
    assert out.stdout == "n\n5\n"
    assert not imported(out.stderr) & set(HEAVY)
    # a query that reads a source goes the normal way (sqlglot finds the ref)
    for query in ('SELECT id FROM f."a.csv"', 'WITH c AS (FROM F."a.csv") SELECT id FROM c',
                  'SELECT (SELECT max(id) FROM f."a.csv") AS id'):
        out = run(workspace, "-c", query)
        assert out.stdout == "id\n1\n", (query, out.stderr[-300:])
        assert "sqlglot" in imported(out.stderr)


def test_the_lazy_catalog_is_there_when_a_statement_looks():
    out = run(":memory:", "-c", "SELECT count(*) AS n FROM sources")
    assert out.stdout == "n\n0\n", out.stderr
    out = run(":memory:", "-c", "SELECT comment FROM duckdb_columns() WHERE table_name = 'elements' AND column_name = 'ref'")
    assert out.stdout.startswith("comment\n") and "SQL text that reads the element" in out.stdout
    out = run(":memory:", "-c", "SELECT (SELECT count(*) FROM marks) AS m")
    assert out.stdout == "m\n0\n"
    out = run(":memory:", "-c", "SHOW TABLES")
    assert "elements" in out.stdout and "sources" in out.stdout


def test_errors_from_the_fast_path_still_name_the_line():
    out = run(":memory:", "-c", "\n\nSELECT * FROM nowhere")
    assert out.returncode == 1
    assert "hydra: error: -c:3: Catalog Error: Table with name nowhere does not exist!" in out.stderr
