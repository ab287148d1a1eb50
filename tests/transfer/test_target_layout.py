"""One folder per element at the target, never shared; RECONCILE checks that a manifest is the
element's own and that every file it lists is there as listed (issue 10, item 1)."""

from __future__ import annotations

import hashlib
import json
import shutil
import urllib.parse
from pathlib import Path

import psycopg
import pytest

from hydra.transfer.common import Item

ISSUE_TABLES = ('CREATE SCHEMA "Weird Schema"; '
                'CREATE TABLE "Weird Schema"."Order Details"(id int PRIMARY KEY, v text); '
                "INSERT INTO \"Weird Schema\".\"Order Details\" SELECT g, 'a' FROM generate_series(1,300) g; "
                'CREATE TABLE "Weird Schema"."Order_Details"(id int PRIMARY KEY, v text); '
                "INSERT INTO \"Weird Schema\".\"Order_Details\" SELECT g, 'b' FROM generate_series(1,5) g;")


def run_sql(url: str, sql: str) -> None:
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(sql)


def manifests(root: Path) -> dict[str, tuple[Path, dict]]:
    return {json.loads(m.read_text())["ref"]: (m.parent, json.loads(m.read_text()))
            for m in root.rglob("_manifest.json")}


def assert_files_as_listed(folder: Path, manifest: dict) -> None:
    listed = {f["path"] for f in manifest["files"]}
    present = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and p.name != "_manifest.json"}
    assert listed == present
    for f in manifest["files"]:
        data = (folder / f["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == f["sha256"] and len(data) == f["bytes"]


@pytest.mark.parametrize("workers", [1, 4])
def test_the_issues_two_tables_get_two_folders_and_reconcile(pg_database, tmp_path, hydra_cmd, workers):
    import subprocess

    run_sql(pg_database, ISSUE_TABLES)
    out = tmp_path / "cout"
    run = subprocess.run([*hydra_cmd, str(tmp_path / "c.duckdb"), "-c", f"ATTACH '{pg_database}' AS pg", "-c",
                          f'EXTRACT pg."Weird Schema"."Order Details", pg."Weird Schema"."Order_Details" '
                          f"TO '{out}' (WORKERS {workers})", "-c", "RECONCILE LAST"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "2 done (305 rows" in run.stderr and "all passed" in run.stderr
    found = manifests(out)
    spaced, underscored = found['pg."Weird Schema"."Order Details"'], found['pg."Weird Schema"."Order_Details"']
    assert spaced[0] == out / "pg" / "Weird%20Schema" / "Order%20Details"
    assert underscored[0] == out / "pg" / "Weird%20Schema" / "Order_Details"
    assert (spaced[1]["rows"], underscored[1]["rows"]) == (300, 5)
    for folder, manifest in found.values():
        assert_files_as_listed(folder, manifest)


def test_names_differing_only_in_case_get_folders_that_differ_case_insensitively(pg_database, tmp_path, ws):
    run_sql(pg_database, 'CREATE TABLE "Orders"(id int PRIMARY KEY); INSERT INTO "Orders" VALUES (1), (2); '
                         "CREATE TABLE orders(id int PRIMARY KEY); INSERT INTO orders VALUES (3); "
                         "CREATE TABLE customers(id int PRIMARY KEY)")
    ws.execute(f"ATTACH '{pg_database}' AS pg (SCHEMAS 'public')")
    out = tmp_path / "out"
    alone = ws.execute(f'EXTRACT pg.public."Orders" TO \'{out}\'')  # the other one not selected
    assert alone.rows[0][1] == "done"
    both = ws.execute(f'EXTRACT pg.public."Orders", pg.public.orders, pg.public.customers TO \'{out}\'')
    assert sorted(r[1] for r in both.rows) == ["done", "done", "skipped"]  # the folder does not depend on the selection
    found = manifests(out)
    folders = {ref: folder.relative_to(out).as_posix() for ref, (folder, _) in found.items()}
    assert len({f.lower() for f in folders.values()}) == 3
    assert folders["pg.public.customers"] == "pg/public/customers"  # no collision, no suffix
    assert folders['pg.public."Orders"'].startswith("pg/public/Orders~")
    assert folders["pg.public.orders"].startswith("pg/public/orders~")
    assert {ref: m["rows"] for ref, (_, m) in found.items()} == {
        'pg.public."Orders"': 2, "pg.public.orders": 1, "pg.public.customers": 0}
    result = ws.execute("RECONCILE LAST")
    assert result.message.endswith("all passed"), result.rows


def test_folder_names_are_reversible_and_never_merge():
    from hydra.transfer.layout import segment, source_folders

    names = ["Order Details", "Order_Details", "Order%20Details", "orders", "Orders", "a/b", "a%2Fb", ".", "..",
             ".hidden", "Müller", "Mu\u0308ller", "x=1", "tab\there", "~", "a~1f2e3d4c", "", "日本"]
    escaped = [segment(n) for n in names]
    assert escaped[:3] == ["Order%20Details", "Order_Details", "Order%2520Details"]
    assert [urllib.parse.unquote(e) for e in escaped if e != "~"] == [n for n in names if n != ""]
    assert len(set(escaped)) == len(names)
    assert all(e.isascii() and not e.startswith(".") and "/" not in e for e in escaped)
    # the only names equal case-insensitively are those that differ only in case: disambiguated
    folders = source_folders("src", [(n,) for n in names], path_parts=False)
    assert len({f.lower() for f in folders.values()}) == len(names)
    assert "~" in folders[("Orders",)] and "~" in folders[("orders",)] and "~" not in folders[("Order Details",)]


def test_an_element_whose_folder_would_hold_another_is_disambiguated():
    """S3 can hold the objects a.csv and a.csv/b.csv: a.csv's folder must not contain b.csv's."""
    from hydra.transfer.layout import source_folders

    folders = source_folders("lake", [("a.csv",), ("a.csv/b.csv",), ("c.csv",)], path_parts=True)
    assert folders[("a.csv/b.csv",)] == "lake/a.csv/b.csv" and folders[("c.csv",)] == "lake/c.csv"
    assert folders[("a.csv",)].startswith("lake/a.csv~")


def test_what_is_left_is_found_when_the_run_is_planned():
    from hydra.transfer.layout import clashes

    items = [Item("query", "Q1", query="SELECT 1", label="Q1"), Item("query", "q1", query="SELECT 2", label="q1"),
             Item("_hydra_runs", "_hydra_runs.x", query=None), Item("f", 'f."x.csv"')]
    problems = clashes(items, ["query/Q1", "query/q1", "_hydra_runs/x", "f/x.csv"])
    assert set(problems) == {0, 1, 2}
    assert "would share the target folder query/Q1" in problems[0] and "case-insensitive" in problems[0]
    assert "reserved for Hydra" in problems[2]
    assert clashes(items[3:], ["f/a"]) == {} and set(clashes(items[:2], ["f/a", "f/a/b"])) == {0, 1}


def test_a_source_named_like_hydras_own_folder_fails_instead_of_mixing_in(ws, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "x.csv").write_text("id\n1\n")
    ws.execute(f"ATTACH '{data}' AS _hydra_runs")
    result = ws.execute(f"EXTRACT _hydra_runs.* TO '{tmp_path / 'out'}'")
    assert result.rows[0][1] == "failed" and "reserved for Hydra's own files" in result.rows[0][6]
    assert not (tmp_path / "out" / "_hydra_runs" / "x.csv").exists()


@pytest.fixture
def two_extracted(ws, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.csv").write_text("id,v\n1,a\n2,a\n3,a\n")
    (data / "b.csv").write_text("id,v\n1,b\n")
    out = tmp_path / "out"
    ws.execute(f"ATTACH '{data}' AS f")
    ws.execute(f"EXTRACT f.* TO '{out}'")
    return out


def test_reconcile_fails_a_manifest_written_for_another_element(ws, two_extracted):
    a, b = two_extracted / "f" / "a.csv", two_extracted / "f" / "b.csv"
    shutil.rmtree(a)
    shutil.copytree(b, a)  # what a shared folder left: b's files and manifest where a's should be
    ws.execute("RECONCILE LAST")
    rows = ws.execute("SELECT ref, check_name, status, detail FROM reconciliations ORDER BY ref, check_name").rows
    failed = [r for r in rows if r[2] == "fail"]
    assert [(r[0], r[1]) for r in failed] == [('f."a.csv"', "manifest")]
    assert 'is for f."b.csv", not f."a.csv"' in failed[0][3]


def test_reconcile_checks_each_listed_file_is_there_with_its_size_and_sha256(ws, two_extracted):
    part = two_extracted / "f" / "a.csv" / "part-00000.parquet"
    part.write_bytes(part.read_bytes() + b"x")
    ws.execute('RECONCILE f."a.csv"')
    detail = ws.execute("SELECT detail FROM reconciliations WHERE check_name = 'files'").rows[0][0]
    assert "SHA-256 differs: part-00000.parquet" in detail and "the manifest says" in detail


def test_extract_never_writes_over_a_folder_holding_another_element(ws, two_extracted):
    """A folder left by another element (an older layout, a case-insensitive disk shared by two
    names) is refused, even with OVERWRITE, and that element's files stay as they are."""
    a, b = two_extracted / "f" / "a.csv", two_extracted / "f" / "b.csv"
    shutil.rmtree(a)
    shutil.copytree(b, a)
    before = {p.name: p.read_bytes() for p in a.iterdir()}
    for options in ("", " (OVERWRITE true)"):
        result = ws.execute(f"EXTRACT f.\"a.csv\" TO '{two_extracted}'{options}")
        assert result.rows[0][1] == "failed", result.rows
        assert 'holds f."b.csv"' in result.rows[0][6] and result.failure
    assert {p.name: p.read_bytes() for p in a.iterdir()} == before
