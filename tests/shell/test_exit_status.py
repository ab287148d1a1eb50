"""A script whose EXTRACT or RECONCILE finishes with failed elements or checks exits 1, after
running everything, with the failures summed up on stderr; the interactive shell goes on as
before (issue 10, item 4). PROFILE names what it could not read but does not fail a script:
profiling everything meets elements that cannot be read (the demo's messy file)."""

from __future__ import annotations

import subprocess

import pytest
from support.repl import Typist, new_session, ran


@pytest.fixture
def data(tmp_path):
    """One good file and one the sniffer cannot read as a table (listed with an error)."""
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "good.csv").write_text("id,v\n1,a\n2,b\n")
    (folder / "ragged.csv").write_text("id,a,b\n1,x\n2,x,y,z\n3\n4,x,y\n5,x,y,z,w\n")
    return folder


def hydra(hydra_cmd, tmp_path, *args, stdin=None):
    return subprocess.run([*hydra_cmd, str(tmp_path / "w.duckdb"), *args], input=stdin, capture_output=True,
                          text=True, timeout=120, cwd=tmp_path)


def test_extract_with_a_failed_element_exits_1_after_the_rest(hydra_cmd, tmp_path, data):
    run = hydra(hydra_cmd, tmp_path, "-c", f"ATTACH '{data}' AS f", "-c", "EXTRACT f.* TO 'out'",
                "-c", "SELECT 'after' AS next")
    assert run.returncode == 1, run.stderr
    assert "\"f.\"\"good.csv\"\"\",done,2" in run.stdout  # the other element was extracted
    assert (tmp_path / "out" / "f" / "good.csv" / "_manifest.json").exists()
    assert "after" in run.stdout  # the script went on
    summary = run.stderr.split("hydra: 1 statement finished with failures:")[1]
    assert "-c:1: EXTRACT" in summary and "1 of 2 elements failed" in summary


def test_reconcile_with_failed_checks_exits_1(hydra_cmd, tmp_path, data):
    (data / "ragged.csv").unlink()
    first = hydra(hydra_cmd, tmp_path, "-c", f"ATTACH '{data}' AS f", "-c", "EXTRACT f.* TO 'out'",
                  "-c", "RECONCILE LAST")
    assert first.returncode == 0, first.stderr
    assert "all passed" in first.stderr and "finished with failures" not in first.stderr
    (data / "good.csv").write_text("id,v\n1,a\n2,b\n3,c\n")  # the source moved on: the checks fail
    run = hydra(hydra_cmd, tmp_path, "-c", "REFRESH f", "-c", "RECONCILE LAST")
    assert run.returncode == 1
    assert "-c:1: RECONCILE" in run.stderr and "checks failed in 1 of 1 element" in run.stderr


def test_scripts_from_files_and_stdin_exit_1_too(hydra_cmd, tmp_path, data):
    script = tmp_path / "go.sql"
    script.write_text(f"ATTACH '{data}' AS f;\n\nPROFILE f.*;\nEXTRACT f.* TO 'out';\n")
    run = hydra(hydra_cmd, tmp_path, "-f", str(script))
    assert run.returncode == 1
    assert f"{script}:4: EXTRACT" in run.stderr and "PROFILE" not in run.stderr.split("finished with failures")[1]
    piped = hydra(hydra_cmd, tmp_path, stdin="EXTRACT f.* TO 'out2';\nSELECT 1;\n")
    assert piped.returncode == 1 and "<stdin>:1: EXTRACT" in piped.stderr


def test_a_statement_that_fails_still_stops_the_script(hydra_cmd, tmp_path):
    run = hydra(hydra_cmd, tmp_path, "-c", "SELECT * FROM nowhere", "-c", "SELECT 'after'")
    assert run.returncode == 1 and "after" not in run.stdout
    assert "finished with failures" not in run.stderr


def test_the_interactive_shell_reports_and_goes_on(tmp_path, data):
    from hydra.statements.workspace import Workspace

    ws = Workspace.open(":memory:")
    try:
        typist = Typist(new_session(ws), tmp_path)
        code = typist.run([
            (f"ATTACH '{data}' AS f;\r", ran("attached f")),
            (f"EXTRACT f.* TO '{tmp_path / 'out'}';\r", ran("FAILED")),
            ("SELECT 'still here' AS s;\r", ran("still here")),
        ])
        assert typist.failures == []
        assert code == 0
        assert "1 element FAILED" in typist.err
    finally:
        ws.close()
