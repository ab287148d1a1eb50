"""What REPORT covers and how it says it: its options, failures first, a target gone, the tables
other statements may add, and its refusals (one line, nothing written)."""

from __future__ import annotations

import io
import os
import shutil
import socket
from getpass import getuser

import pytest
from report.markdown_render import render_markdown

from hydra.core.errors import HydraError
from hydra.shell.session import Session, StatementFailed
from hydra.statements.workspace import Workspace


def write_csv(folder, name: str, rows: int, start: int = 1) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["id,name,amount"] + [f"{i},name {i},{i * 1.5}" for i in range(start, start + rows)]
    (folder / name).write_text("\n".join(lines) + "\n")


class Engagement:
    """Two files sources, each extracted by its own EXTRACT run; only the second is reconciled."""

    def __init__(self, tmp_path):
        self.folder = tmp_path
        write_csv(tmp_path / "a", "alpha.csv", 30)
        write_csv(tmp_path / "a", "beta.csv", 12)
        write_csv(tmp_path / "b", "gamma.csv", 20)
        self.ws = Workspace.open(str(tmp_path / "w.duckdb"))
        self.session = Session(self.ws, "csv", out=io.StringIO(), err=io.StringIO())
        self.run(f"ATTACH '{tmp_path / 'a'}' AS a", f"ATTACH '{tmp_path / 'b'}' AS b", "PROFILE a.*, b.*",
                 "MARK a.*", f"EXTRACT MARKED TO '{tmp_path / 'out1'}'", "UNMARK MARKED", "MARK b.*",
                 f"EXTRACT MARKED TO '{tmp_path / 'out2'}'", "RECONCILE LAST")
        self.first_run, self.second_run = [r for (r,) in self.ws.query(
            "SELECT run_id FROM transfers GROUP BY run_id ORDER BY min(started_at)")]

    def run(self, *statements: str) -> str:
        self.session.err = io.StringIO()
        for statement in statements:
            self.session.run_text(statement, origin="test")
        return self.session.err.getvalue()

    def report(self, options: str = "", name: str = "r.md") -> str:
        said = self.run(f"REPORT TO '{self.folder / name}'{(' (' + options + ')') if options else ''}")
        assert said.startswith(f"report written to {self.folder / name} (")
        return (self.folder / name).read_text(encoding="utf-8")


@pytest.fixture
def engagement(tmp_path):
    e = Engagement(tmp_path)
    yield e
    e.session.close()
    e.ws.close()


def headline(markdown: str) -> str:
    return next(line for line in markdown.splitlines() if line.startswith("## "))


def section(markdown: str, title: str) -> str:
    start = markdown.index(f"\n## {title}\n")
    end = markdown.find("\n## ", start + 1)
    return markdown[start:end if end > 0 else None]


def test_by_default_each_elements_latest_transfer_and_check(engagement):
    report = engagement.report()
    checks = engagement.ws.query("SELECT count(*) FROM reconciliations")[0][0]
    assert headline(report) == f"## ⚠️ 1 element, {checks} checks, all passed"  # gamma; alpha, beta unchecked
    extracted = section(report, "What was extracted")
    assert all(name in extracted for name in ("alpha.csv", "beta.csv", "gamma.csv"))
    assert "2 extracted elements not reconciled since copied" in report


def test_run_last_and_a_run_id_choose_the_transfers(engagement):
    last = section(engagement.report("RUN 'last'"), "What was extracted")
    assert "gamma.csv" in last and "alpha.csv" not in last
    first = engagement.report(f"RUN '{engagement.first_run}'")
    assert "alpha.csv" in section(first, "What was extracted") and "gamma.csv" not in section(first, "What was extracted")
    assert headline(first) == "## ⚠️ 2 elements extracted, not reconciled yet"
    assert f"Transfers of EXTRACT run {engagement.first_run}" in first


def test_sources_leave_out_the_others_and_their_statements(engagement):
    report = engagement.report("SOURCES 'B'")  # names as the workspace has them, in any case
    checks = engagement.ws.query("SELECT count(*) FROM reconciliations")[0][0]
    assert "alpha" not in report and "gamma.csv" in report
    assert headline(report) == f"## ✅ 1 element, {checks} checks, all passed"
    statements = section(report, "The run's facts")
    assert "MARK b.\\*" in statements or "`MARK b.*`" in statements
    assert "a.*" not in statements and "ATTACH" in statements  # b's ATTACH only
    assert "statements about other sources left out" in statements


def test_who_ran_it_unless_anonymous(engagement):
    someone = f"{getuser()}@{socket.gethostname()}"
    assert someone in engagement.report()
    anonymous = engagement.report("ANONYMOUS true, TITLE 'For the client'")
    assert someone not in anonymous and "Run by" not in anonymous and "| By |" not in anonymous
    assert anonymous.startswith("# For the client\n")


def test_failures_come_first_with_the_differing_keys(engagement):
    import duckdb

    part = next((engagement.folder / "out2").rglob("*.parquet"))
    with duckdb.connect() as con:  # the copy loses the row with id 7
        con.execute(f"COPY (SELECT * FROM read_parquet('{part}') WHERE id <> 7) TO '{part}.new' (FORMAT parquet)")
    os.replace(f"{part}.new", part)
    engagement.run("RECONCILE LAST")
    report = engagement.report()
    failed, checks = engagement.ws.query(
        "SELECT count(*) FILTER (WHERE status = 'fail'), count(*) FROM reconciliations WHERE run_id = "
        "(SELECT max(run_id) FROM reconciliations)")[0]
    assert failed and headline(report) == f"## ❌ {failed} checks of {checks} failed, in 1 of 1 element"
    headings = [line for line in report.splitlines() if line.startswith("## ")]
    assert headings[1] == "## Reconciliation"  # the failures first
    failures = section(report, "Reconciliation")
    row_count = next(line for line in failures.splitlines() if "`row_count`" in line)
    assert "| `20` | `19` |" in row_count and "id 7" in row_count  # the figures, and the key that differs


def test_a_target_gone_is_said_not_failed(engagement):
    shutil.rmtree(engagement.folder / "out1")
    report = engagement.report(name="r.html")
    assert f"The target {engagement.folder / 'out1'} cannot be read from here (the folder is not there any more)" in report
    assert "alpha.csv" in report  # its transfers are still reported, from the workspace


def test_tables_other_statements_add_are_shown_when_present(engagement):
    con = engagement.ws.con
    con.execute("INSERT INTO rejects (source, ref, line, lines, byte_offset, raw, reason, action, read_at) VALUES "
                "('a', 'a.\"alpha.csv\"', 7, 1, 60, '7,\"unclosed', 'unterminated quote', 'rejected', now())")
    # RECONCILE … AGAINST …'s rows: an earlier run of the pair is history, its latest run is shown
    con.execute("INSERT INTO differences (run_id, left_ref, right_ref, key_column, key_value, kind, found_at) VALUES "
                "('R1', 'b.\"gamma.csv\"', 'wh.gamma', 'id', '2', 'changed', now()), "
                "('R2', 'b.\"gamma.csv\"', 'wh.gamma', 'id', '3', 'missing_right', now())")
    con.execute("CREATE TABLE databases (source VARCHAR, database VARCHAR, accessible BOOLEAN, reason VARCHAR)")
    con.execute("INSERT INTO databases VALUES ('b', 'sales', false, 'permission denied for database sales')")
    con.execute("ALTER TABLE reconciliations ADD COLUMN kind VARCHAR")
    con.execute("INSERT INTO reconciliations SELECT run_id, source, ref, 'drift:row_count', '20', '26', 'moved', "
                "'6 rows inserted since the snapshot', checked_at, 'drift' FROM reconciliations LIMIT 1")
    checks = engagement.ws.query("SELECT count(*) FROM reconciliations WHERE kind IS NULL")[0][0]
    report = engagement.report()
    assert headline(report) == f"## ⚠️ 1 element, {checks} checks, all passed"  # drift is not a failed copy
    assert "unterminated quote" in section(report, "Rejected lines")
    assert "missing on the right" in section(report, "Rows that differ")
    assert "id = 3" in section(report, "Rows that differ") and "id = 2" not in section(report, "Rows that differ")
    assert "permission denied for database sales" in section(report, "Databases")
    assert "6 rows inserted since the snapshot" in section(report, "Drift on live sources")
    assert "unterminated quote" not in engagement.report("SOURCES 'b'")  # a's rejects
    assert "missing on the right" not in engagement.report("SOURCES 'a'")  # b's pair


@pytest.mark.parametrize("instead", [None, "CREATE TABLE history (day DATE, what VARCHAR)"])
def test_a_workspace_without_a_statement_log(engagement, instead):
    engagement.ws.con.execute("DROP TABLE history")  # as a workspace written before it existed
    if instead:  # or a table of the user's own by that name
        engagement.ws.con.execute(instead)
    report = engagement.report()
    assert "This workspace keeps no statement log" in report
    assert f"`EXTRACT MARKED TO '{engagement.folder / 'out2'}'`" in report  # from the run manifest


def test_nothing_extracted_yet(tmp_path):
    write_csv(tmp_path / "a", "alpha.csv", 3)
    ws = Workspace.open(":memory:")
    ws.execute(f"ATTACH '{tmp_path / 'a'}' AS a")
    ws.execute(f"REPORT TO '{tmp_path / 'r.md'}'")
    report = (tmp_path / "r.md").read_text()
    ws.close()
    assert headline(report) == "## ℹ️ 1 element in 1 source, nothing extracted yet"
    assert "<table>" in render_markdown(report)


@pytest.mark.parametrize("options, error", [
    ("SOURCES 'zzz'", "REPORT: no source named 'zzz' (sources: a, b)"),
    ("RUN 'nope'", "REPORT: no EXTRACT run 'nope'"),
    ("COLOUR 'red'", "REPORT: unknown option COLOUR"),
])
def test_bad_options_say_so_and_write_nothing(engagement, options, error):
    target = engagement.folder / "r.html"
    target.write_text("the previous report")
    with pytest.raises(StatementFailed) as failed:
        engagement.run(f"REPORT TO '{target}' ({options})")
    assert str(failed.value.error).startswith(error)
    assert target.read_text() == "the previous report"
    assert not [p for p in engagement.folder.iterdir() if p.name.startswith(".hydra-report-")]


@pytest.mark.parametrize("path, error", [
    ("r.txt", "REPORT: write to a .html or .md file, not 'r.txt'"),
    ("s3://bucket/r.html", "REPORT: write the report to a local file (.html or .md)"),
    ("a/r.md", "REPORT to "),  # inside a files source: Hydra never writes to a source
])
def test_refused_targets(engagement, path, error):
    target = path if "://" in path else str(engagement.folder / path)
    with pytest.raises(StatementFailed) as failed:
        engagement.run(f"REPORT TO '{target}'")
    assert str(failed.value.error).startswith(error)
    assert isinstance(failed.value.error, HydraError)
    assert not (engagement.folder / "a" / "r.md").exists()
