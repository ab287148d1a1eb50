"""REPORT's HTML page after the demo, opened in a real headless Chromium (issue 21).

The page must load nothing (no request but the page itself, and a Content-Security-Policy that
forbids any), log no error, state the workspace's own counts in its headline, draw its charts as
SVG of the size matplotlib gave them, sort its tables with its script, read without it, and print
on A4.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from report.chromium_page import chromium, open_page
from report.markdown_render import render_markdown

from hydra.report import fmt

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def report(demo, hydra_in) -> Path:
    if chromium() is None:
        pytest.fail("chromium is not installed: apt-get install -y chromium (.ci/run installs it)")
    result = hydra_in(demo, "REPORT TO 'out/report.html'")
    assert result.stderr.startswith("report written to out/report.html (")
    return demo / "out" / "report.html"


def workspace_counts(folder: Path) -> tuple[int, int, int]:
    """(elements, checks, failed checks) of the latest RECONCILE, read from the workspace itself."""
    with duckdb.connect(str(folder / "demo.duckdb"), read_only=True) as con:
        return con.execute(
            "SELECT count(DISTINCT (source, ref)), count(*), count(*) FILTER (WHERE status <> 'pass') "
            "FROM reconciliations WHERE run_id = (SELECT run_id FROM reconciliations ORDER BY checked_at DESC "
            "LIMIT 1)").fetchone()


def test_demo_report_loads_nothing_logs_no_error_and_states_the_workspace_counts(report, demo, tmp_path):
    elements, checks, failed = workspace_counts(demo)
    assert (elements, failed) == (8, 0) and checks > 100  # the demo reconciles 8 elements, all pass
    with open_page(report) as page:
        shot = page.screenshot(tmp_path / "report-first-screen.png")
        page.screenshot(tmp_path / "report-full.png", full_page=True)
        headline = page.evaluate("document.getElementById('headline-text').textContent")
        policy = page.evaluate(
            "document.querySelector('meta[http-equiv=\"Content-Security-Policy\"]').content")
        page.settle(1.0)
        assert page.requests == [page.url]
        assert page.errors == []
    assert headline == f"{elements} elements, {checks} checks, all passed"
    assert "default-src 'none'" in policy
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def test_charts_render_as_svg_of_the_size_drawn(report, demo):
    with duckdb.connect(str(demo / "demo.duckdb"), read_only=True) as con:
        (largest,) = con.execute("SELECT ref FROM elements ORDER BY size_bytes DESC LIMIT 1").fetchone()
        (most_rows,) = con.execute("SELECT ref FROM elements ORDER BY row_count DESC NULLS LAST LIMIT 1").fetchone()
    with open_page(report) as page:
        charts = page.evaluate("""Array.from(document.querySelectorAll('figure.chart')).map(figure => {
            const svg = figure.querySelector('svg'), box = svg.getBoundingClientRect();
            return {id: figure.id, width: box.width, height: box.height, points: [+figure.dataset.width,
                    +figure.dataset.height], shapes: svg.querySelectorAll('path').length, text: svg.textContent};
        })""")
        assert page.errors == []
    by_id = {c["id"]: c for c in charts}
    assert set(by_id) == {"chart-largest-by-size", "chart-largest-by-rows", "chart-kinds-per-source"}
    for chart in charts:
        width, height = (p * 96 / 72 for p in chart["points"])  # SVG points as CSS pixels
        assert chart["width"] == pytest.approx(width, abs=1) and chart["height"] == pytest.approx(height, abs=1)
        assert chart["shapes"] >= 4  # bars and axis, drawn
    assert fmt.shorten(largest, 38) in by_id["chart-largest-by-size"]["text"]
    assert fmt.shorten(most_rows, 38) in by_id["chart-largest-by-rows"]["text"]


def test_a_click_sorts_a_table_by_its_figures(report):
    with open_page(report) as page:
        read = """(() => { const table = [...document.querySelectorAll('table')].find(t =>
            t.closest('.table-block').querySelector('h3')?.textContent === 'Every element');
            return [...table.tBodies[0].rows].map(r => r.cells[3].dataset.sort); })()"""
        first = page.evaluate(read)
        page.evaluate("""[...document.querySelectorAll('h3')].find(h => h.textContent === 'Every element')
            .closest('.table-block').querySelectorAll('th button')[3].click()""")
        ascending = page.evaluate(read)
        page.evaluate("""[...document.querySelectorAll('h3')].find(h => h.textContent === 'Every element')
            .closest('.table-block').querySelectorAll('th button')[3].click()""")
        descending = page.evaluate(read)
        assert page.errors == []
    sizes = [int(s) for s in first]
    assert [int(s) for s in ascending] == sorted(sizes) != sizes
    assert [int(s) for s in descending] == sorted(sizes, reverse=True)


def test_the_page_reads_the_same_without_its_script(report, demo):
    elements, checks, _ = workspace_counts(demo)
    with open_page(report, scripts=False) as page:
        headline = page.evaluate("document.getElementById('headline-text').textContent")
        buttons = page.evaluate("document.querySelectorAll('th button').length")
        cells = page.evaluate("document.querySelectorAll('tbody td').length")
        assert page.errors == [] and page.requests == [page.url]
    assert headline == f"{elements} elements, {checks} checks, all passed"
    assert buttons == 0 and cells > 100


def test_it_prints_on_a4_as_wide_as_the_paper(report, tmp_path):
    with open_page(report, width=718) as page:  # A4 less the page's margins, in CSS pixels
        pdf = page.pdf(tmp_path / "report.pdf").read_bytes()
        page.call("Emulation.setEmulatedMedia", media="print")
        page.evaluate("dispatchEvent(new Event('beforeprint'))")
        too_wide = page.evaluate("""[...document.querySelectorAll('main *')]
            .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
            .map(e => e.tagName + '.' + e.className)""")
        folded = page.evaluate("document.querySelectorAll('details:not([open])').length")
        navigation = page.evaluate("getComputedStyle(document.querySelector('nav')).display")
    assert pdf.startswith(b"%PDF") and b"/MediaBox [0 0 594.95996 841.91998]" in pdf
    assert too_wide == [] and folded == 0 and navigation == "none"


def test_hostile_names_stay_text(tmp_path, hydra_in):
    """A file named like markup is shown as its name: nothing runs, nothing is fetched."""
    folder = tmp_path / "data"
    folder.mkdir()
    hostile = '<img src=x onerror=alert(1)><script>alert(2)<\\script>.csv'
    (folder / hostile).write_text("id,name\n1,a\n2,b\n")
    (folder / "ok.csv").write_text("id,name\n1,<b>bold</b>\n")
    hydra_in(tmp_path, "ATTACH 'data' AS f", "PROFILE f.*", "MARK f.*", "EXTRACT MARKED TO 'out'", "RECONCILE LAST",
             "REPORT TO 'out/r.html'", "REPORT TO 'out/r.md'", workspace="w.duckdb")
    with open_page(tmp_path / "out" / "r.html") as page:
        shown = page.evaluate("document.body.innerText")
        images = page.evaluate("document.images.length")
        page.settle(1.0)
        assert page.errors == [] and page.requests == [page.url]
    assert images == 0 and hostile in shown
    rendered = render_markdown((tmp_path / "out" / "r.md").read_text())
    assert "<img" not in rendered and "<script" not in rendered and "<b>" not in rendered
    assert "&lt;img src=x onerror=alert(1)&gt;" in rendered
