"""RECONCILE: source figures against the target files, the stream checksum, and bisection."""

from __future__ import annotations

import json

import duckdb
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from support.outbound_data import make_client_folder

from hydra.core.errors import HydraError


@pytest.fixture
def extracted(ws, tmp_path):
    folder = make_client_folder(tmp_path / "data")
    out = tmp_path / "out"
    ws.execute(f"ATTACH '{folder}' AS f")
    ws.execute("MARK f.*")
    ws.execute(f"EXTRACT MARKED TO '{out}'")
    return out


def checks(ws, run_id=None):
    return ws.execute("SELECT ref, check_name, source_value, target_value, status, detail FROM reconciliations "
                      "WHERE run_id = (SELECT max(run_id) FROM reconciliations) ORDER BY ref, check_name").rows


def test_reconcile_last_passes_every_check(ws, extracted):
    result = ws.execute("RECONCILE LAST")
    assert result.message.endswith("all passed")
    assert [(r[0], r[1], r[3]) for r in result.rows] == [('f."big.csv"', "pass", 0), ('f."small.csv"', "pass", 0)]
    rows = checks(ws)
    names = {r[1] for r in rows if r[0] == 'f."big.csv"'}
    assert {"manifest", "files", "row_count", "checksum", "null_count(cat)", "min(day)", "max(name)",
            "sum(amount)"} <= names
    assert all(r[4] == "pass" for r in rows)
    assert ('f."big.csv"', "row_count", "200000", "200000", "pass", None) in rows
    assert len(ws.execute("SELECT DISTINCT run_id FROM reconciliations").rows) == 1


def test_last_includes_skipped_elements_as_they_stand(ws, extracted):
    ws.execute(f"EXTRACT MARKED TO '{extracted}'")  # everything skipped
    result = ws.execute("RECONCILE LAST")
    assert len(result.rows) == 2 and result.message.endswith("all passed")


def test_a_row_removed_at_the_target_is_found_and_named(ws, extracted):
    part = extracted / "f" / "big.csv" / "part-00000.parquet"
    table = pq.read_table(part)
    pq.write_table(table.filter(pc.not_equal(table.column("id"), 123_457)), part)
    result = ws.execute("RECONCILE LAST")
    assert "FAILED" in result.message and "1 element" in result.message
    big = next(r for r in result.rows if r[0] == 'f."big.csv"')
    assert big[1] == "fail"
    failing = {r[1]: r for r in checks(ws) if r[4] == "fail"}
    assert set(failing) >= {"row_count", "checksum", "files", "sum(id)"}
    assert failing["row_count"][2:4] == ("200000", "199999")
    detail = failing["checksum"][5]
    assert "key id" in detail and "a column named id" in detail
    assert "1 row missing at the target" in detail and "'id': 123457" in detail
    assert "key ranges that differ: id 123457;" in detail  # cut to the one key that differs
    assert "SHA-256 differs: part-00000.parquet" in failing["files"][5]
    small = next(r for r in result.rows if r[0] == 'f."small.csv"')
    assert small[1] == "pass"


def test_a_changed_value_is_named_as_a_changed_row(ws, extracted):
    part = extracted / "f" / "small.csv" / "part-00000.parquet"
    con = duckdb.connect()
    con.execute(f"COPY (SELECT id, CASE WHEN id = 2 THEN 'Eve' ELSE name END AS name FROM read_parquet('{part}')) "
                f"TO '{part}.new' (FORMAT parquet)")
    con.close()
    part.unlink()
    (extracted / "f" / "small.csv" / "part-00000.parquet.new").rename(part)
    ws.execute('RECONCILE f."small.csv"')
    failing = {r[1]: r for r in checks(ws) if r[4] == "fail"}
    assert "checksum" in failing and "null_count(name)" in failing
    assert "1 row changed: id in 2" in failing["checksum"][5]


def test_missing_manifest_and_never_extracted(ws, extracted, tmp_path):
    (extracted / "f" / "small.csv" / "_manifest.json").unlink()
    ws.execute("RECONCILE MARKED")
    rows = checks(ws)
    assert ('f."small.csv"', "manifest") in [(r[0], r[1]) for r in rows if r[4] == "fail"]
    (tmp_path / "data" / "new.csv").write_text("id\n1\n")
    ws.execute("REFRESH f")
    ws.execute('RECONCILE f."new.csv"')
    assert checks(ws)[0][1:] == ("transfer", None, "never", "fail", "never extracted")


def test_reconcile_needs_an_extract_first(ws):
    with pytest.raises(HydraError, match="no EXTRACT"):
        ws.execute("RECONCILE LAST")


def test_manifest_checksum_is_recomputable_from_the_files(ws, extracted):
    manifest = json.loads((extracted / "f" / "big.csv" / "_manifest.json").read_text())
    columns = [(c["name"], c["type"]) for c in manifest["columns"]]
    hashed = ", ".join(f'CAST("{n}" AS {t})' for n, t in columns)
    con = duckdb.connect()
    value = con.execute(f"SELECT (sum(hash({hashed})) % 18446744073709551616)::VARCHAR "
                        f"FROM read_parquet('{extracted}/f/big.csv/*.parquet')").fetchone()[0]
    con.close()
    assert value == manifest["checksum"]["value"]


def test_bisect_on_a_date_key_and_without_any_key(ws, tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    con = duckdb.connect()
    con.execute(f"COPY (SELECT DATE '2020-01-01' + i::INTEGER AS day, 'v' || i AS v FROM range(5000) t(i)) "
                f"TO '{folder}/daily.csv' (HEADER)")
    con.close()
    out = tmp_path / "out"
    ws.execute(f"ATTACH '{folder}' AS f")
    ws.execute(f"EXTRACT f.\"daily.csv\" TO '{out}'")
    element = out / "f" / "daily.csv"
    manifest = json.loads((element / "_manifest.json").read_text())
    assert manifest["key"] is None  # no integer column, no id: no key
    part = element / "part-00000.parquet"
    table = pq.read_table(part)
    pq.write_table(table.filter(pc.not_equal(table.column("v"), "v1234")), part)
    ws.execute("RECONCILE LAST")
    detail = {r[1]: r[5] for r in checks(ws)}["checksum"]
    assert "no key to bisect on" in detail and "compared row by row" in detail
    assert "1 row missing at the target" in detail and "v1234" in detail
    manifest["key"], manifest["key_note"] = ["day"], "declared for the test"
    (element / "_manifest.json").write_text(json.dumps(manifest))
    ws.execute("RECONCILE LAST")
    detail = {r[1]: r[5] for r in checks(ws)}["checksum"]
    assert detail.startswith("key day (declared for the test): key ranges that differ: day ")
    assert "2023-05-19" in detail and "1 row missing at the target" in detail  # 2020-01-01 + 1234 days


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_every_duckdb_type_round_trips_and_reconciles(ws, tmp_path, fmt):
    folder = tmp_path / "data"
    folder.mkdir()
    con = duckdb.connect()
    con.execute(f"""COPY (SELECT i AS id, [i, i + 1] AS l, {{'a': i, 'b': 'x' || i}} AS s,
        TIMESTAMPTZ '2024-01-01 00:00:00+00' + INTERVAL (i) HOUR AS tz, uuid() AS u,
        ('\\xAA' || i::VARCHAR)::BLOB AS bl, i::HUGEINT * 1000000000000 AS hi, TIME '12:00:00' + INTERVAL (i) MINUTE AS t,
        i::DOUBLE / 3 AS d, i % 2 = 0 AS b, (i * 1.1)::DECIMAL(30,5) AS dec,
        CASE WHEN i % 3 = 0 THEN NULL ELSE 'v' END AS v, INTERVAL (i) DAY AS iv, MAP {{'k': i}} AS m
        FROM range(1000) t(i)) TO '{folder}/types.parquet'""")
    con.close()
    out = tmp_path / "out"
    ws.execute(f"ATTACH '{folder}' AS w")
    assert ws.execute(f"EXTRACT w.* TO '{out}' (FORMAT {fmt})").rows[0][1] == "done"
    result = ws.execute("RECONCILE LAST")
    assert result.message.endswith("all passed"), checks(ws)
    if fmt == "parquet":  # a column named b must not confuse the bisection's grouping
        part = out / "w" / "types.parquet" / "part-00000.parquet"
        table = pq.read_table(part)
        pq.write_table(table.filter(pc.not_equal(table.column("id"), 500)), part)
        ws.execute("RECONCILE LAST")
        detail = {r[1]: r[5] for r in checks(ws)}["checksum"]
        assert "1 row missing at the target: {'id': 500" in detail
