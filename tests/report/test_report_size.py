"""A big engagement's report stays small enough to mail and open: 5,000 elements, 50 transfers,
under 5 MB, and whole in the browser. Its time is measured by bench/bench_report.py, not here."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from report.chromium_page import open_page

from hydra.statements.workspace import Workspace

pytestmark = pytest.mark.slow
BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_report.py"


def test_5000_elements_50_transfers_under_5_mb(tmp_path):
    spec = importlib.util.spec_from_file_location("bench_report", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    path = bench.build_workspace(str(tmp_path), elements=5000, transfers=50)
    ws = Workspace.open(path, read_only=True)
    try:
        assert ws.query("SELECT count(*) FROM elements")[0][0] == 5000
        assert ws.query("SELECT count(*) FROM transfers WHERE status = 'done'")[0][0] == 50
        (checks,) = ws.query("SELECT count(*) FROM reconciliations WHERE status = 'pass'")[0]
        ws.execute(f"REPORT TO '{tmp_path / 'big.html'}'")
        ws.execute(f"REPORT TO '{tmp_path / 'big.md'}'")
    finally:
        ws.close()
    assert (tmp_path / "big.html").stat().st_size < 5_000_000
    assert (tmp_path / "big.md").stat().st_size < 5_000_000
    with open_page(tmp_path / "big.html") as page:
        headline = page.evaluate("document.getElementById('headline-text').textContent")
        rows = page.evaluate("document.querySelectorAll('tbody tr').length")
        assert page.errors == [] and page.requests == [page.url]
    assert headline == f"50 elements, {checks:,} checks, all passed"
    assert rows > 5000 + 50  # every element, every transfer
