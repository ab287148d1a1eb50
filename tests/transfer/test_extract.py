"""EXTRACT to a local folder: layout, manifests, SHA-256, skip/resume, formats, filters, failures."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import time

import duckdb
import pyarrow.parquet as pq
import pytest
from support.outbound_data import make_client_folder

from hydra.core.errors import HydraError

BIG_SUM = sum(range(200_000))


@pytest.fixture
def folder(tmp_path):
    return make_client_folder(tmp_path / "data")


def sha256(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def parquet_rows(folder) -> int:
    files = [os.path.join(d, f) for d, _, fs in os.walk(folder) for f in fs if f.endswith(".parquet")]
    return sum(pq.ParquetFile(f).metadata.num_rows for f in files)


def test_extract_marked_writes_parquet_parts_and_manifests(ws, folder, tmp_path):
    out = tmp_path / "out"
    ws.execute(f"ATTACH '{folder}' AS f")
    ws.execute("PROFILE f.*")
    ws.execute("MARK f.*")
    result = ws.execute(f"EXTRACT MARKED TO '{out}'")
    assert "2 done" in result.message and "0 failed" in result.message
    assert {r[0]: r[1:5] for r in result.rows}['f."big.csv"'][:2] == ("done", 200_000)
    for name, rows in (("big.csv", 200_000), ("small.csv", 3)):
        element = out / "f" / name
        manifest = json.loads((element / "_manifest.json").read_text())
        assert manifest["rows"] == rows and manifest["format"] == "parquet"
        assert manifest["hydra_version"]
        assert manifest["source_stats"][0]["row_count"] == rows  # the source's profile travels with the data
        assert manifest["checksum"]["value"] and "stream" in manifest["checksum"]["taken"]
        assert manifest["query"]["sent"].startswith("SELECT")
        parts = sorted(p.name for p in element.iterdir() if p.name != "_manifest.json")
        assert parts == ["part-00000.parquet"]
        for f in manifest["files"]:
            assert f["sha256"] == sha256(element / f["path"])
            assert f["bytes"] == os.path.getsize(element / f["path"])
            assert pq.ParquetFile(element / f["path"]).metadata.num_rows == f["rows"]
            assert pq.ParquetFile(element / f["path"]).metadata.row_group(0).column(0).compression == "ZSTD"
    table = pq.read_table(out / "f" / "big.csv" / "part-00000.parquet")
    assert table.num_rows == 200_000 and sum(table.column("id").to_pylist()) == BIG_SUM
    manifest = json.loads((out / "f" / "big.csv" / "_manifest.json").read_text())
    assert {c["name"]: c["type"] for c in manifest["columns"]} == {
        "id": "BIGINT", "name": "VARCHAR", "amount": "DOUBLE", "day": "DATE", "cat": "VARCHAR"}
    runs = list((out / "_hydra_runs").iterdir())
    assert len(runs) == 1 and json.loads(runs[0].read_text())["elements"][0]["status"] == "done"
    assert not (out / ".hydra-staging").exists()
    assert ws.execute("SELECT status, rows, files FROM transfers ORDER BY ref").rows == [
        ("done", 200_000, 1), ("done", 3, 1)]


def test_a_second_extract_skips_complete_elements_and_duplicates_nothing(ws, folder, tmp_path):
    out = tmp_path / "out"
    ws.execute(f"ATTACH '{folder}' AS f")
    ws.execute("MARK f.*")
    ws.execute(f"EXTRACT MARKED TO '{out}'")
    before = {p: sha256(p) for p in out.rglob("*.parquet")}
    result = ws.execute(f"EXTRACT MARKED TO '{out}'")
    assert [r[1] for r in result.rows] == ["skipped", "skipped"]
    assert "2 skipped" in result.message
    assert {p: sha256(p) for p in out.rglob("*.parquet")} == before
    assert parquet_rows(out) == 200_003
    runs = ws.execute("SELECT count(DISTINCT run_id), count(*) FROM transfers").rows
    assert runs == [(2, 4)]  # every element of every run
    result = ws.execute(f"EXTRACT MARKED TO '{out}' (OVERWRITE true)")
    assert [r[1] for r in result.rows] == ["done", "done"]
    assert parquet_rows(out) == 200_003


def test_mark_where_filter_and_columns_are_honoured(ws, folder, tmp_path):
    out = tmp_path / "out"
    ws.execute(f"ATTACH '{folder}' AS f")
    ws.execute("MARK f.\"big.csv\" WHERE id % 4 = 0 AND cat IS NOT NULL")
    ws.execute("UPDATE marks SET columns = ['id', 'cat']")
    ws.execute(f"EXTRACT MARKED TO '{out}'")
    table = pq.read_table(out / "f" / "big.csv" / "part-00000.parquet")
    expected = [i for i in range(200_000) if i % 4 == 0 and i % 10 != 0]
    assert table.column_names == ["id", "cat"]
    assert sorted(table.column("id").to_pylist()) == expected
    manifest = json.loads((out / "f" / "big.csv" / "_manifest.json").read_text())
    assert manifest["query"]["filter"] == "id % 4 = 0 AND cat IS NOT NULL"
    assert "WHERE (id % 4 = 0 AND cat IS NOT NULL)" in manifest["query"]["sent"]
    assert ws.execute("RECONCILE LAST").message.endswith("all passed")


@pytest.mark.parametrize("fmt, compression, suffix", [
    ("csv", None, ".csv"), ("csv", "gzip", ".csv.gz"), ("jsonl", None, ".jsonl"), ("jsonl", "zstd", ".jsonl.zst"),
    ("parquet", "snappy", ".parquet")])
def test_formats_and_compression_round_trip(ws, folder, tmp_path, fmt, compression, suffix):
    out = tmp_path / "out"
    ws.execute(f"ATTACH '{folder}' AS f")
    ws.execute("MARK f.*")
    options = f"FORMAT {fmt}" + (f", COMPRESSION {compression}" if compression else "")
    ws.execute(f"EXTRACT MARKED TO '{out}' ({options})")
    part = out / "f" / "big.csv" / f"part-00000{suffix}"
    assert part.exists()
    con = duckdb.connect()
    reader = "read_parquet" if fmt == "parquet" else "read_csv" if fmt == "csv" else "read_json"
    assert con.execute(f"SELECT count(*), sum(id) FROM {reader}('{part}')").fetchone() == (200_000, BIG_SUM)
    con.close()
    result = ws.execute("RECONCILE LAST")
    assert result.message.endswith("all passed"), result.rows


def test_partition_by_and_rows_per_file(ws, folder, tmp_path):
    out = tmp_path / "out"
    ws.execute(f"ATTACH '{folder}' AS f")
    result = ws.execute(f"EXTRACT f.\"big.csv\" TO '{out}' (PARTITION_BY 'cat', ROWS_PER_FILE 10000, WORKERS 1)")
    assert result.rows[0][1] == "done"
    element = out / "f" / "big.csv"
    folders = sorted(p.name for p in element.iterdir() if p.is_dir())
    assert folders == ["cat=__HIVE_DEFAULT_PARTITION__"] + [f"cat=cat{i}" for i in range(7)]
    manifest = json.loads((element / "_manifest.json").read_text())
    assert all(f["rows"] <= 10_000 for f in manifest["files"])
    assert sum(f["rows"] for f in manifest["files"]) == 200_000
    names = [f["path"].split("/")[-1] for f in manifest["files"]]
    assert len(set(names)) == len(names) and all(n.startswith("part-") for n in names)
    con = duckdb.connect()
    cats = con.execute(f"SELECT DISTINCT cat FROM read_parquet('{element}/cat=cat3/*.parquet')").fetchall()
    con.close()
    assert cats == [("cat3",)]
    assert ws.execute("RECONCILE LAST").message.endswith("all passed")


def test_extract_a_query(ws, folder, tmp_path):
    out = tmp_path / "out"
    ws.execute(f"ATTACH '{folder}' AS f")
    result = ws.execute(
        f"EXTRACT (SELECT cat, count(*) AS n, sum(amount) AS total FROM f.\"big.csv\" GROUP BY cat) "
        f"TO '{out}' (NAME 'by_cat')")
    assert result.rows[0][:3] == ("by_cat", "done", 8)
    manifest = json.loads((out / "query" / "by_cat" / "_manifest.json").read_text())
    assert "GROUP BY cat" in manifest["query"]["user_query"]
    assert pq.read_table(out / "query" / "by_cat" / "part-00000.parquet").num_rows == 8
    unnamed = ws.execute(f"EXTRACT (SELECT 42 AS answer) TO '{out}'")
    assert unnamed.rows[0][0].startswith("q") and (out / "query" / unnamed.rows[0][0] / "_manifest.json").exists()
    assert ws.execute("RECONCILE LAST").message.endswith("all passed")


def test_an_unwritable_element_fails_alone_and_leaves_nothing_visible(ws, folder, tmp_path):
    out = tmp_path / "out"
    (out / "f").mkdir(parents=True)
    (out / "f" / "small.csv").write_text("a file where the element's folder should go")
    ws.execute(f"ATTACH '{folder}' AS f")
    ws.execute("MARK f.*")
    result = ws.execute(f"EXTRACT MARKED TO '{out}'")
    status = {r[0]: r for r in result.rows}
    assert status['f."big.csv"'][1] == "done"
    assert status['f."small.csv"'][1] == "failed"
    error = status['f."small.csv"'][6]
    assert "\n" not in error and "small.csv" in error
    assert "1 failed" in result.message and "FAILED" in result.message
    assert (out / "f" / "small.csv").is_file()  # untouched, and no partial element anywhere
    assert not (out / ".hydra-staging").exists()
    assert ws.execute("SELECT status, error IS NOT NULL FROM transfers ORDER BY ref").rows == [
        ("done", False), ("failed", True)]


def test_unwritable_target_folder_fails_every_element_cleanly(ws, folder, tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    ws.execute(f"ATTACH '{folder}' AS f")
    result = ws.execute(f"EXTRACT f.* TO '{blocker}/out'")
    assert [r[1] for r in result.rows] == ["failed", "failed"]
    assert all("cannot write" in r[6] and "\n" not in r[6] for r in result.rows)


def test_bad_statements_are_one_clear_error(ws, folder, tmp_path):
    ws.execute(f"ATTACH '{folder}' AS f")
    for statement, message in [
        (f"EXTRACT f.* TO '{tmp_path}' (FORMAT xml)", "FORMAT"),
        (f"EXTRACT f.* TO '{tmp_path}' (COMPRESSION snappy, FORMAT csv)", "COMPRESSION"),
        (f"EXTRACT f.* TO '{tmp_path}' (SPEED 3)", "unknown option"),
        ("EXTRACT f.*", "TO"),
        (f"EXTRACT f.* TO '{tmp_path}' (WORKERS 0)", "WORKERS"),
    ]:
        with pytest.raises(HydraError, match=message):
            ws.execute(statement)
    assert ws.execute(f"EXTRACT MARKED TO '{tmp_path}'").message.startswith("nothing to extract")


def test_progress_display_renders_rows_and_bytes():
    import io

    from hydra.transfer.progress import Display
    from hydra.transfer.writers import Progress

    stream = io.StringIO()
    counters = Progress(total_rows=1000)
    with Display(stream=stream, enabled=True, interval=0.05) as display:
        display.add('f."big.csv"', counters)
        counters.add(500, 2048)
        time.sleep(0.15)
        display.done('f."big.csv"', "done")
    text = stream.getvalue()
    assert "500 rows" in text and "rows/s" in text and "KB" in text
    silent = io.StringIO()
    with Display(stream=silent) as display:  # not a terminal: silent
        display.add("x", counters)
    assert silent.getvalue() == ""


def test_kill_mid_transfer_then_rerun_completes_without_duplicates(tmp_path, hydra_cmd):
    data = tmp_path / "data"
    data.mkdir()
    con = duckdb.connect()
    for i in range(8):
        con.execute(f"COPY (SELECT r AS id, r * 3 AS x, md5(r::VARCHAR) AS h FROM range({i} * 1000000, "
                     f"{i} * 1000000 + 400000) t(r)) TO '{data}/part{i}.csv' (HEADER)")
    con.close()
    out = tmp_path / "out"
    workspace = tmp_path / "ws.duckdb"
    script = f"ATTACH '{data}' AS f; MARK f.*; EXTRACT MARKED TO '{out}' (WORKERS 1);"
    proc = subprocess.Popen([*hydra_cmd, str(workspace), "-c", script], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while time.time() < deadline and not list(out.glob("f/*/_manifest.json")):
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    complete = sorted(p.parent.name for p in out.glob("f/*/_manifest.json"))
    assert 1 <= len(complete) < 8, "the kill should land mid-transfer"
    for element in (out / "f").iterdir():  # nothing is visible as complete without its manifest
        manifest = element / "_manifest.json"
        assert manifest.exists(), f"{element.name} is visible without its manifest"
        for f in json.loads(manifest.read_text())["files"]:
            assert sha256(element / f["path"]) == f["sha256"]
    rerun = subprocess.run([*hydra_cmd, str(workspace), "-c", f"EXTRACT MARKED TO '{out}' (WORKERS 1);"],
                           capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert "0 failed" in rerun.stderr
    assert len(list(out.glob("f/*/_manifest.json"))) == 8
    con = duckdb.connect()
    total, distinct = con.execute(f"SELECT count(*), count(DISTINCT id) FROM read_parquet('{out}/f/*/*.parquet')").fetchone()
    con.close()
    assert total == distinct == 8 * 400_000
    assert not list((out / ".hydra-staging").rglob("*.parquet")) if (out / ".hydra-staging").exists() else True
    check = subprocess.run([*hydra_cmd, str(workspace), "-c",
                            "SELECT status, count(*) FROM transfers WHERE run_id = (SELECT max(run_id) FROM transfers) "
                            "GROUP BY status ORDER BY status; RECONCILE LAST;"],
                           capture_output=True, text=True, timeout=120)
    assert f"skipped,{len(complete)}" in check.stdout and f"done,{8 - len(complete)}" in check.stdout
    assert "all passed" in check.stderr


def test_a_changed_request_is_not_skipped_silently(ws, folder, tmp_path):
    out = tmp_path / "out"
    ws.execute(f"ATTACH '{folder}' AS f")
    ws.execute('MARK f."small.csv"')
    ws.execute(f"EXTRACT MARKED TO '{out}'")
    ws.execute('MARK f."small.csv" WHERE id > 1')
    result = ws.execute(f"EXTRACT MARKED TO '{out}'")
    assert result.rows[0][1] == "failed" and "different filter" in result.rows[0][6]
    assert "OVERWRITE" in result.rows[0][6]
    assert pq.read_table(out / "f" / "small.csv" / "part-00000.parquet").num_rows == 3  # untouched
    result = ws.execute(f"EXTRACT MARKED TO '{out}' (OVERWRITE true)")
    assert result.rows[0][1:3] == ("done", 2)
    assert ws.execute(f"EXTRACT MARKED TO '{out}'").rows[0][1] == "skipped"


def test_disk_full_mid_write_fails_the_element_and_cleans_up(ws, folder, tmp_path, monkeypatch):
    import errno

    from hydra.transfer import targets

    real_write = targets.HashingWriter.write

    def write(self, data):
        if self.size > 100_000:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(self, data)

    monkeypatch.setattr(targets.HashingWriter, "write", write)
    out = tmp_path / "out"
    ws.execute(f"ATTACH '{folder}' AS f")
    result = ws.execute(f"EXTRACT f.* TO '{out}' (FORMAT csv)")
    status = {r[0]: r[1:] for r in result.rows}
    assert status['f."small.csv"'][0] == "done"
    assert status['f."big.csv"'][0] == "failed"
    assert status['f."big.csv"'][5] == f"cannot write {out}/f/big.csv: no space left on device (disk full)"
    assert not (out / "f" / "big.csv").exists()
    assert not (out / ".hydra-staging").exists()


def test_ctrl_c_stops_the_run_and_the_same_extract_resumes(tmp_path, hydra_cmd, ctrl_c_once_done):
    data = tmp_path / "data"
    data.mkdir()
    con = duckdb.connect()
    for i in range(6):
        con.execute(f"COPY (SELECT r AS id, md5(r::VARCHAR) AS h FROM range({i} * 1000000, {i} * 1000000 + 400000) "
                    f"t(r)) TO '{data}/part{i}.csv' (HEADER)")
    con.close()
    out, workspace = tmp_path / "out", tmp_path / "ws.duckdb"
    script = f"ATTACH '{data}' AS f; MARK f.*; EXTRACT MARKED TO '{out}' (WORKERS 1);"
    returncode, err = ctrl_c_once_done(workspace, script, lambda: out.glob("f/*/_manifest.json"))
    assert returncode != 0
    assert "Traceback" not in err
    assert not list(out.glob(".hydra-staging/**/*.parquet*"))  # parts, whole or being written
    for element in (out / "f").iterdir():
        assert (element / "_manifest.json").exists()
    rerun = subprocess.run([*hydra_cmd, str(workspace), "-c", f"EXTRACT MARKED TO '{out}' (WORKERS 1);"],
                           capture_output=True, text=True, timeout=120)
    assert "0 failed" in rerun.stderr
    assert parquet_rows(out) == 6 * 400_000


def test_an_empty_element_still_gets_one_part_with_its_columns(ws, tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "empty.csv").write_text("id,name\n")
    out = tmp_path / "out"
    ws.execute(f"ATTACH '{folder}' AS f")
    result = ws.execute(f"EXTRACT f.* TO '{out}'")
    assert result.rows[0][1:5] == ("done", 0, result.rows[0][3], 1)
    part = pq.ParquetFile(out / "f" / "empty.csv" / "part-00000.parquet")
    assert part.metadata.num_rows == 0 and part.schema_arrow.names == ["id", "name"]
    assert ws.execute("RECONCILE LAST").message.endswith("all passed")


def test_an_interrupt_while_an_element_commits_leaves_no_staging(ws, tmp_path, monkeypatch):
    """Ctrl-C can land after an element's last range finished, while it is committed (in a worker
    thread): an element committed by then is complete and recorded as done, every other one is
    recorded as failed, and no staging is left."""
    from hydra.transfer import targets

    folder = make_client_folder(tmp_path / "data", rows=1000)
    out = tmp_path / "out"
    ws.execute(f"ATTACH '{folder}' AS f")
    commit = targets.LocalTarget.commit

    def interrupted(self, rel, staging, manifest):
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C: a KeyboardInterrupt in the main thread
        time.sleep(0.2)  # … which lands while this commit runs
        commit(self, rel, staging, manifest)

    monkeypatch.setattr(targets.LocalTarget, "commit", interrupted)
    with pytest.raises(KeyboardInterrupt):
        ws.execute(f"EXTRACT f.* TO '{out}' (WORKERS 1)")
    assert not list(out.glob(".hydra-staging/**/*.parquet*"))  # parts, whole or being written
    complete = {f'f."{p.parent.name}"' for p in out.glob("f/*/_manifest.json")}
    statuses = dict(ws.query("SELECT ref, status FROM transfers"))
    assert complete and statuses == {ref: "done" if ref in complete else "failed" for ref in statuses}


def test_the_run_manifest_keeps_the_statement_with_its_secrets_masked(ws, tmp_path):
    """The run's record at the target (``_hydra_runs/<run>.json``) holds the statement: a password
    typed into it is masked there, as in the workspace's statement log."""
    out = tmp_path / "out"
    ws.execute(f"EXTRACT (SELECT 'host=db password=hunter2' AS conn) TO '{out}' (NAME 'q')")
    run, = (out / "_hydra_runs").iterdir()
    statement = json.loads(run.read_text())["statement"]
    assert "hunter2" not in statement
    assert statement.startswith("EXTRACT (SELECT 'host=db password=***'")


def test_extract_never_writes_inside_a_source(ws, tmp_path):
    """Hydra never writes to a source: a target inside an attached folder is refused before
    anything is written, and an element whose folder would land inside one (a target that holds
    the source's folder, named as the source) is not extracted, while the others are."""
    from hydra.core.errors import HydraError

    folder = make_client_folder(tmp_path / "f")
    ws.execute(f"ATTACH '{folder}' AS f")
    before = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    for inside in (folder, folder / "out", folder / "sub" / "deeper"):
        with pytest.raises(HydraError, match=f"cannot extract to {inside}: it is inside source f, "):
            ws.execute(f"EXTRACT f.* TO '{inside}'")
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == before
    assert ws.execute("SELECT count(*) FROM transfers").rows == [(0,)]

    other = make_client_folder(tmp_path / "other")
    ws.execute(f"ATTACH '{other}' AS g")
    result = ws.execute(f"EXTRACT f.*, g.* TO '{tmp_path}'")  # f's elements would go to tmp_path/f/…
    statuses = {ref: (status, error) for ref, status, *_, error in
                ws.execute("SELECT ref, status, error FROM transfers ORDER BY ref").rows}
    assert {ref: s for ref, (s, _) in statuses.items()} == {
        'f."big.csv"': "failed", 'f."small.csv"': "failed", 'g."big.csv"': "done", 'g."small.csv"': "done"}, result.rows
    assert "is inside source f, and Hydra never writes to a source" in statuses['f."big.csv"'][1]
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == before
    assert (tmp_path / "g" / "big.csv" / "_manifest.json").is_file()
