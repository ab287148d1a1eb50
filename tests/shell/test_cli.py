"""The command line, run as a user would: a real `python -m hydra` subprocess."""

from __future__ import annotations

import json
import subprocess

import pytest


def hydra(hydra_cmd, *args, stdin: str | None = None):
    return subprocess.run([*hydra_cmd, *args], input=stdin, capture_output=True, text=True, timeout=120)


@pytest.fixture
def data(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.csv").write_text("id,v\n1,x\n2,y\n")
    return folder


def test_script_stops_at_first_error_with_one_line_and_no_traceback(hydra_cmd, tmp_path, data):
    script = tmp_path / "job.sql"
    script.write_text(f"ATTACH '{data}' AS f;\n\nSELECT * FROM f.\"b.csv\";\nSELECT 'never' AS x;\n")
    out = hydra(hydra_cmd, ":memory:", "-f", str(script))
    assert out.returncode == 1
    assert out.stdout == ""
    errors = [line for line in out.stderr.splitlines() if line.startswith("hydra:")]
    assert errors == [f'hydra: error: {script}:3: no element f."b.csv" in source f; did you mean f."a.csv"? '
                      '(in: SELECT * FROM f."b.csv")']
    assert "Traceback" not in out.stderr


def test_debug_shows_the_traceback(hydra_cmd):
    out = hydra(hydra_cmd, ":memory:", "--debug", "-c", "SELECT * FROM nowhere")
    assert out.returncode == 1 and "Traceback" in out.stderr


def test_stdin_script_prints_csv_when_piped(hydra_cmd, data):
    out = hydra(hydra_cmd, ":memory:", stdin=f"ATTACH '{data}' AS f;\nSELECT v, id FROM f.\"a.csv\" ORDER BY id;\n")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "v,id\nx,1\ny,2\n"
    assert "attached f: 1 element" in out.stderr


def test_c_and_f_run_in_the_order_given(hydra_cmd, tmp_path):
    script = tmp_path / "s.sql"
    script.write_text("INSERT INTO t VALUES (2);")
    out = hydra(hydra_cmd, ":memory:", "-c", "CREATE TABLE t (x INT); INSERT INTO t VALUES (1)", "-f", str(script),
                "-c", "SELECT list(x ORDER BY x) AS xs FROM t", "--format", "json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [{"xs": [1, 2]}]


@pytest.mark.parametrize("fmt, expected", [
    ("csv", "a,b\n1,\n"),
    ("tsv", "a\tb\n1\t\n"),
    ("jsonl", '{"a": 1, "b": null}\n'),
    ("markdown", "| a | b |\n|---|---|\n| 1 | NULL |\n"),
    ("table", "+---+------+\n| a | b    |\n+---+------+\n| 1 | NULL |\n+---+------+\n1 row\n"),
])
def test_formats(hydra_cmd, fmt, expected):
    out = hydra(hydra_cmd, ":memory:", "--format", fmt, "-c", "SELECT 1 AS a, NULL AS b")
    assert out.stdout == expected


def test_workspace_persists_between_runs(hydra_cmd, tmp_path, data):
    workspace = str(tmp_path / "w.duckdb")
    assert hydra(hydra_cmd, workspace, "-c", f"ATTACH '{data}' AS f").returncode == 0
    out = hydra(hydra_cmd, workspace, "-c", "SELECT name, kind, element_count FROM sources")
    assert out.stdout == "name,kind,element_count\nf,files,1\n"


def test_missing_script_file_and_bad_workspace(hydra_cmd, tmp_path):
    out = hydra(hydra_cmd, ":memory:", "-f", str(tmp_path / "nope.sql"))
    assert out.returncode == 1 and out.stderr.strip() == f"hydra: error: cannot read {tmp_path}/nope.sql: No such file or directory"
    out = hydra(hydra_cmd, str(tmp_path), "-c", "SELECT 1")
    assert out.returncode == 1 and "must be a file, not a folder" in out.stderr


def test_help_names_the_statements(hydra_cmd):
    out = hydra(hydra_cmd, "--help")
    assert out.returncode == 0
    for word in ("ATTACH", "MARK", "EXTRACT", "RECONCILE", "REPORT TO", "--format", "--read-only"):
        assert word in out.stdout


def test_dot_commands_work_in_scripts(hydra_cmd, tmp_path, data):
    target = tmp_path / "once.csv"
    script = f"ATTACH '{data}' AS f;\n.mode jsonl\nSELECT id FROM f.\"a.csv\" ORDER BY id;\n.once {target}\nSELECT 7 AS seven;\n"
    out = hydra(hydra_cmd, ":memory:", stdin=script)
    assert out.returncode == 0, out.stderr
    assert out.stdout == '{"id": 1}\n{"id": 2}\n'
    assert target.read_text() == '{"seven": 7}\n'


def test_a_failing_attach_never_echoes_its_password(hydra_cmd, tmp_path):
    out = hydra(hydra_cmd, str(tmp_path / "w.duckdb"), "-c",
                "ATTACH 'postgresql://nobody:pw-s3cret-42@127.0.0.1:5999/x' AS crm")
    assert out.returncode == 1
    assert "pw-s3cret-42" not in out.stderr + out.stdout
    assert "postgresql://nobody:***@127.0.0.1:5999/x" in out.stderr
    assert b"pw-s3cret-42" not in (tmp_path / "w.duckdb").read_bytes()


def test_help_names_the_output_options(hydra_cmd):
    out = hydra(hydra_cmd, "--help")
    for word in ("--no-header", "--separator", "list,json"):
        assert word in out.stdout


@pytest.fixture
def awkward(tmp_path):
    """A workspace with a source whose refs need quoting: a space, a slash, double quotes."""
    folder = tmp_path / "in"
    (folder / "sub dir").mkdir(parents=True)
    (folder / "sub dir" / "cities.csv").write_text("city,n\nOslo,1\nBergen,2\n")
    (folder / 'say "hi".csv').write_text("a\n1\n")
    return folder


def test_list_mode_without_header_gives_refs_as_sql_text_to_a_while_read_loop(hydra_cmd, tmp_path, awkward):
    import shlex

    workspace = str(tmp_path / "w.duckdb")
    assert hydra(hydra_cmd, workspace, "-c", f"ATTACH '{awkward}' AS f").returncode == 0
    out = hydra(hydra_cmd, workspace, "--format", "list", "--no-header", "-c", "SELECT ref FROM elements ORDER BY ref")
    assert out.returncode == 0, out.stderr
    assert out.stdout == 'f."say ""hi"".csv"\nf."sub dir/cities.csv"\n'  # no CSV quoting, no header
    # as the issue uses it: each line is SQL that reads the element
    hydra_line = f"{shlex.join(hydra_cmd)} {shlex.quote(workspace)} --read-only --format list --no-header"
    loop = (f'{hydra_line} -c "SELECT ref FROM elements ORDER BY ref" | '
            f'while read -r r; do {hydra_line} -c "SELECT \'$r\' AS r, count(*) FROM $r"; done')
    out = subprocess.run(["bash", "-c", loop], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout == 'f."say ""hi"".csv"|1\nf."sub dir/cities.csv"|2\n'


def test_list_mode_separator_and_headers(hydra_cmd):
    query = """SELECT 1 AS a, 'x,"y"|z' AS b, NULL AS c"""
    assert hydra(hydra_cmd, ":memory:", "--format", "list", "-c", query).stdout == 'a|b|c\n1|x,"y"|z|\n'
    assert hydra(hydra_cmd, ":memory:", "--format", "list", "--separator", ";", "-c", query).stdout == \
        'a;b;c\n1;x,"y"|z;\n'
    assert hydra(hydra_cmd, ":memory:", "--format", "list", "--separator", "\\t", "--no-header", "-c", query).stdout == \
        '1\tx,"y"|z\t\n'
    # headers off applies to csv, tsv and table too
    assert hydra(hydra_cmd, ":memory:", "--no-header", "-c", query).stdout == '1,"x,""y""|z",\n'
    assert hydra(hydra_cmd, ":memory:", "--format", "tsv", "--no-header", "-c", query).stdout == '1\t"x,""y""|z"\t\n'
    assert hydra(hydra_cmd, ":memory:", "--format", "table", "--no-header", "-c", "SELECT 1 AS a").stdout == \
        "+---+\n| 1 |\n+---+\n1 row\n"
    # the same from dot commands, in a script
    script = f".mode list\n.separator ' - '\n{query};\n.headers off\n{query};\n.mode csv\n{query};\n.headers on\nSELECT 2 AS n;\n"
    out = hydra(hydra_cmd, ":memory:", stdin=script)
    assert out.returncode == 0, out.stderr
    assert out.stdout == 'a - b - c\n1 - x,"y"|z - \n1 - x,"y"|z - \n1,"x,""y""|z",\nn\n2\n'


def test_bad_separator_and_headers_values(hydra_cmd):
    out = hydra(hydra_cmd, ":memory:", "--separator", "", "-c", "SELECT 1")
    assert out.returncode == 1 and out.stderr == "hydra: error: the separator cannot be empty\n"
    out = hydra(hydra_cmd, ":memory:", "-c", ".headers maybe")
    assert out.returncode == 1 and "usage: .headers on|off" in out.stderr


def test_help_and_readme_list_every_dot_command(ws):
    """Every registered dot command and alias is in .help and in README's dot-command table."""
    import io
    import re
    from pathlib import Path

    from hydra.shell.dot_commands import DOT_COMMANDS
    from hydra.shell.session import Session

    out = io.StringIO()
    Session(ws, out=out, err=io.StringIO()).run_text(".help")
    listed = out.getvalue().split("Dot commands:", 1)[1].split("In the shell:", 1)[0]
    registered = set(DOT_COMMANDS)
    assert set(re.findall(r"(?<![\w.])\.([a-z]+)", listed)) == registered
    assert {"tables", "elements", "quit", "exit", "q", "headers", "separator"} <= registered
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme.split("Dot commands (in the shell and in scripts", 1)[1].split("\n## ", 1)[0]
    assert set(re.findall(r"`\.([a-z]+)[^`]*`", section)) == registered


def test_sqlalchemy_pool_logs_are_not_printed_by_the_command_line():
    """After Ctrl-C, SQLAlchemy's pool logs "Exception during reset or similar" with a traceback
    when it discards a connection interrupted mid-command; the command line prints none of it
    (the user was told "interrupted"), and other loggers still print."""
    import sys

    emit = ("import logging; "
            "logging.getLogger('sqlalchemy.pool.impl.QueuePool').error('Exception during reset or similar', "
            "exc_info=ValueError('another command is already in progress')); "
            "logging.getLogger('elsewhere').error('still said')")
    quiet = "from hydra.shell import cli; cli._quiet_sqlalchemy_logs(); "
    for prefix, shown in (("", True), (quiet, False)):
        done = subprocess.run([sys.executable, "-c", prefix + emit], capture_output=True, text=True, timeout=60)
        assert ("Exception during reset" in done.stderr) is shown, done.stderr
        assert "still said" in done.stderr
