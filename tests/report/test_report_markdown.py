"""REPORT's Markdown version: the demo writes it (samples/demo.sql ends with REPORT TO 'out/report.md')."""

from __future__ import annotations

import json
import subprocess
import sys

import duckdb
import pytest
from report.markdown_render import render_markdown

SECTIONS = ["The estate", "What was profiled", "What was marked, and why", "What was extracted",
            "Reconciliation", "The run's facts"]


@pytest.fixture(scope="module")
def markdown(demo) -> str:
    return (demo / "out" / "report.md").read_text(encoding="utf-8")


def test_the_demo_writes_its_report_and_says_so(demo):
    said = (demo / "demo.stderr").read_text().strip().splitlines()
    assert said[-1].startswith("report written to out/report.md (")
    assert said[-1].endswith("): 7 elements, 211 checks, all passed")


def test_headline_first_with_the_workspace_counts(demo, markdown):
    with duckdb.connect(str(demo / "demo.duckdb"), read_only=True) as con:
        elements, checks = con.execute(
            "SELECT count(DISTINCT ref), count(*) FROM reconciliations WHERE run_id = "
            "(SELECT run_id FROM reconciliations ORDER BY checked_at DESC LIMIT 1)").fetchone()
    lines = markdown.splitlines()
    assert lines[0] == "# Data engagement report"
    assert lines[4] == f"## ✅ {elements} elements, {checks} checks, all passed"


def test_every_section_with_its_tables(markdown):
    headings = [line[3:] for line in markdown.splitlines() if line.startswith("## ")]
    assert headings[1:] == SECTIONS
    html = render_markdown(markdown)
    assert html.count("<table>") >= 10
    assert "<td><code>order_date &gt;= DATE '2024-01-01'</code></td>" in html  # the mark's filter, as written
    assert "<code>EXTRACT MARKED TO 'out' (OVERWRITE true)</code>" in html  # the statements run


def test_every_file_with_the_sha256_its_manifest_records(demo, markdown):
    manifests = list((demo / "out" / "shop").rglob("_manifest.json"))
    assert len(manifests) == 7
    for path in manifests:
        for file in json.loads(path.read_text())["files"]:
            assert f"`{file['sha256']}`" in markdown


@pytest.mark.simulated
def test_markdown_needs_no_extra_and_html_says_which_to_install(demo, tmp_path):
    """Simulates a base install (``pip install -e .``): matplotlib and Jinja2 cannot be imported."""
    blocked = ("import sys; sys.modules['matplotlib'] = None; sys.modules['jinja2'] = None; "
               "from hydra.shell.cli import main; sys.exit(main(sys.argv[1:]))")
    workspace = str(demo / "demo.duckdb")
    written = subprocess.run([sys.executable, "-c", blocked, "--read-only", workspace, "-c",
                              f"REPORT TO '{tmp_path / 'r.md'}'"], capture_output=True, text=True, timeout=120)
    assert written.returncode == 0, written.stderr
    assert (tmp_path / "r.md").read_text().startswith("# Data engagement report")
    refused = subprocess.run([sys.executable, "-c", blocked, "--read-only", workspace, "-c",
                              f"REPORT TO '{tmp_path / 'r.html'}'"], capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1 and not (tmp_path / "r.html").exists()
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "REPORT: an HTML report needs matplotlib and Jinja2" in lines[0]
    assert "pip install 'hydra-shell[report]'" in lines[0]
