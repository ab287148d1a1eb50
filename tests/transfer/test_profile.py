"""PROFILE: exact statistics at the source, into stats and elements."""

from __future__ import annotations

import pytest
from support.outbound_data import make_client_folder

from hydra.core.errors import HydraError


@pytest.fixture
def folder(tmp_path):
    return make_client_folder(tmp_path / "data")


def test_profile_counts_rows_exactly_and_fills_stats(ws, folder):
    ws.execute(f"ATTACH '{folder}' AS f")
    result = ws.execute("PROFILE f.*")
    assert result.message == "profiled 2 elements"
    counts = dict((r[0], r[1]) for r in result.rows)
    assert counts == {'f."big.csv"': 200_000, 'f."small.csv"': 3}
    element_rows = ws.execute(
        "SELECT ref, row_count FROM stats WHERE column_name IS NULL ORDER BY ref").rows
    assert element_rows == [('f."big.csv"', 200_000), ('f."small.csv"', 3)]
    assert ws.execute("SELECT row_count, row_count_exact FROM elements WHERE ref = 'f.\"big.csv\"'").rows == [
        (200_000, True)]
    big = {r[0]: r[1:] for r in ws.execute(
        "SELECT column_name, null_count, distinct_count, distinct_approximate, min_value, max_value, sum_value, "
        "mean_value, method FROM stats WHERE ref = 'f.\"big.csv\"' AND column_name IS NOT NULL").rows}
    assert big["id"][:6] == (0, 200_000, False, "0", "199999", str(sum(range(200_000))))
    assert big["id"][6] == pytest.approx(99_999.5)
    assert big["cat"][:5] == (20_000, 7, False, "cat0", "cat6")
    assert big["day"][3:5] == ("2020-01-01", "2021-11-30")
    assert big["name"][5] is None  # no sum for text
    assert big["id"][7].startswith("duckdb")
    small = {r[0]: r[1:] for r in ws.execute(
        "SELECT column_name, null_count, min_value FROM stats WHERE ref = 'f.\"small.csv\"' "
        "AND column_name IS NOT NULL").rows}
    assert small == {"id": (0, "1"), "name": (1, "Ann")}


def test_profile_again_replaces_earlier_stats(ws, folder):
    ws.execute(f"ATTACH '{folder}' AS f")
    ws.execute('PROFILE f."small.csv"')
    (folder / "small.csv").write_text("id,name\n1,Ann\n2,Bo\n3,Cy\n4,Di\n")
    ws.execute('PROFILE f."small.csv"')
    rows = ws.execute("SELECT column_name, row_count, null_count FROM stats ORDER BY column_name NULLS FIRST").rows
    assert rows == [(None, 4, None), ("id", 4, 0), ("name", 4, 0)]


def test_profile_marked_and_approximate_distinct(ws, folder):
    ws.execute(f"ATTACH '{folder}' AS f")
    ws.execute('MARK f."big.csv"')
    result = ws.execute("PROFILE MARKED (DISTINCT approx)")
    assert [r[0] for r in result.rows] == ['f."big.csv"']
    approx = ws.execute("SELECT distinct_count, distinct_approximate FROM stats WHERE column_name = 'name'").rows
    assert approx[0][1] is True and 900 <= approx[0][0] <= 1100


def test_profile_uses_the_heads_own_aggregates(ws, folder, monkeypatch):
    from hydra.core.model import Aggregates
    from hydra.heads.files.head import FilesHead

    def aggregates(self, element, columns):
        return Aggregates(row_count=42, columns={"id": {"null_count": 0, "min_value": "1"}}, method="source engine")

    monkeypatch.setattr(FilesHead, "aggregates", aggregates)
    ws.execute(f"ATTACH '{folder}' AS f")
    ws.execute('PROFILE f."small.csv"')
    assert ws.execute("SELECT row_count, method FROM stats WHERE column_name IS NULL").rows == [(42, "source engine")]


def test_profile_bad_option_is_one_clear_error(ws, folder):
    ws.execute(f"ATTACH '{folder}' AS f")
    with pytest.raises(HydraError, match="unknown option"):
        ws.execute("PROFILE f.* (FAST true)")
