"""The files head reads CSVs through hydra.messycsv (issue 17): detection at ATTACH shown in the
catalog, options that override it, DuckDB's native reader kept for clean files, every line loaded,
rejected (the rejects table) or skipped, and PROFILE, EXTRACT's manifest and RECONCILE saying so.
All against real files written here, the demo's messy supplier file and the polluted corpus."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from hydra.core.errors import HydraError
from hydra.heads.files.head import FilesHead
from hydra.statements.workspace import Workspace
from support import csv_corpus

SAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "samples", "data")
SUPPLIERS = 'shop."legacy/suppliers_messy.csv"'
# a sound file with one line that cannot be a row: rejected with its reason
ONE_BAD_LINE = b"id,amount,day\n1,10.5,2021-01-01\njust some words\n2,11,2021-01-02\n3,12,2021-01-03\n"


def stats_lines(ws, ref: str):
    return ws.query("SELECT row_count, lines, lines_loaded, lines_rejected, lines_skipped FROM stats "
                    "WHERE ref = ? AND column_name IS NULL", [ref])[0]


def test_the_demos_messy_file_reads_with_its_columns_and_every_supplier(ws):
    ws.execute(f"ATTACH '{SAMPLES}' AS shop")
    error, note = ws.query("SELECT error, note FROM elements WHERE ref = ?", [SUPPLIERS])[0]
    assert error is None
    assert "header line 2" in note and "1 preamble line skipped" in note and "2 footer lines skipped" in note
    assert "byte-order mark" in note and "record by record" in note
    names = [n for (n,) in ws.query("SELECT name FROM columns WHERE ref = ? ORDER BY position", [SUPPLIERS])]
    assert names == ["supplier_id", "supplier_name", "contact", "country", "phone", "onboarded", "rating",
                     "annual_spend", "notes"]
    notes = dict(ws.query("SELECT name, note FROM columns WHERE ref = ?", [SUPPLIERS]))
    assert "ambiguous date" in notes["onboarded"]  # kept as text, and why
    rows = ws.execute(f"SELECT supplier_id, supplier_name, annual_spend FROM {SUPPLIERS} ORDER BY 1").rows
    assert [r[0] for r in rows] == [f"S-{i:03d}" for i in range(1, 12)]
    assert rows[0][2] == "12,400.00"  # a quoted thousands separator is not a delimiter
    assert rows[3][1] == "Müller Präzision AG"  # its Latin-1 line decoded
    assert rows[7][1] == "Granite Freight S.L."  # the row written with ';' is not one shifted column


def test_a_clean_csv_keeps_duckdbs_native_reader_and_its_lines_are_counted(ws, tmp_path):
    (tmp_path / "clean.csv").write_text("id,amount,day\n" + "".join(
        f"{i},{i * 1.5},2021-01-{i % 28 + 1:02d}\n" for i in range(100_000)))  # > NATIVE_MIN_BYTES
    ws.execute(f"ATTACH '{tmp_path}' AS f")
    element = next(iter(ws.elements("f").values()))
    assert "auto_detect=false" in ws.head("f").scan_sql(element)
    assert "native reader" in element.note
    result = ws.execute('PROFILE f."clean.csv"')
    assert "lines counted" in result.rows[0][3]
    assert stats_lines(ws, 'f."clean.csv"') == (100_000, 100_001, 100_000, 0, 1)


def test_a_small_clean_csv_is_read_record_by_record(ws, tmp_path):
    (tmp_path / "small.csv").write_text("id,amount\n1,2.5\n2,3\n")
    ws.execute(f"ATTACH '{tmp_path}' AS f")
    assert ws.head("f").scan_sql(next(iter(ws.elements("f").values()))) is None
    ws.execute("PROFILE f.*")
    assert stats_lines(ws, 'f."small.csv"') == (2, 3, 2, 0, 1)


def hidden_bad_row(folder) -> None:
    """A clean-looking 1.5 MB file with one malformed row past the detector's samples."""
    lines = [f"{i},{i * 2},name {i}\n" for i in range(60_000)]
    lines[20_000] = "20000,40000,name,with,extra,fields\n"
    (folder / "big.csv").write_text("id,double,name\n" + "".join(lines))


def test_a_malformed_row_the_samples_missed_fails_a_query_loudly_and_profile_reads_it_again(ws, tmp_path):
    """Past the detector's samples DuckDB's native reader is strict: a bad row is an error, never a
    silently dropped row; PROFILE then reads the file record by record, and so does what follows."""
    hidden_bad_row(tmp_path)
    ws.execute(f"ATTACH '{tmp_path}' AS f")
    assert "native reader" in ws.query("SELECT note FROM elements")[0][0]
    with pytest.raises(HydraError) as err:
        ws.execute('SELECT count(*) FROM f."big.csv"')
    assert "\n" not in str(err.value)
    assert "the files head's stream" in ws.execute('PROFILE f."big.csv"').rows[0][3]
    assert stats_lines(ws, 'f."big.csv"') == (60_000, 60_001, 60_000, 0, 1)
    # the extra fields kept in the one text column that can hold them, and said
    assert ws.query("SELECT line, action FROM rejects") == [(20_002, "merged")]
    assert ws.execute('SELECT count(*) FROM f."big.csv"').rows == [(60_000,)]


def test_extract_reads_again_record_by_record_when_the_native_read_fails(ws, tmp_path):
    (tmp_path / "in").mkdir()
    hidden_bad_row(tmp_path / "in")
    ws.execute(f"ATTACH '{tmp_path / 'in'}' AS f")
    result = ws.execute(f"EXTRACT f.* TO '{tmp_path / 'out'}' (ROWS_PER_FILE 10000)")
    assert result.rows[0][1:3] == ("done", 60_000), result.rows
    manifest = json.loads(next((tmp_path / "out").rglob("_manifest.json")).read_text())
    assert (manifest["lines"]["repaired"], manifest["lines"]["route"]) == ({"merged": 1}, "hydra.messycsv")
    assert ws.query("SELECT line FROM rejects") == [(20_002,)]
    assert ws.execute("RECONCILE LAST").message.endswith("all passed")


def test_profile_accounts_for_every_line_and_fills_the_rejects_table(ws, tmp_path):
    (tmp_path / "one_bad.csv").write_bytes(ONE_BAD_LINE)
    ws.execute(f"ATTACH '{tmp_path}' AS f")
    assert "record by record" in ws.query("SELECT note FROM elements")[0][0]
    ws.execute("PROFILE f.*")
    assert stats_lines(ws, 'f."one_bad.csv"') == (3, 5, 3, 1, 1)
    assert ws.query("SELECT source, ref, line, lines, byte_offset, raw, reason, action, run_id FROM rejects") == [
        ("f", 'f."one_bad.csv"', 3, 1, 32, "just some words", "1 field, expected 3", "rejected", None)]
    ws.execute("PROFILE f.*")  # a new read replaces the rejects of the previous one
    assert ws.query("SELECT count(*) FROM rejects") == [(1,)]


def test_extract_records_the_lines_in_its_manifest_and_reconcile_checks_them(ws, tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "one_bad.csv").write_bytes(ONE_BAD_LINE)
    ws.execute(f"ATTACH '{tmp_path / 'in'}' AS f")
    ws.execute(f"EXTRACT f.* TO '{tmp_path / 'out'}'")
    manifest_path = next((tmp_path / "out").rglob("_manifest.json"))
    manifest = json.loads(manifest_path.read_text())
    lines = manifest["lines"]
    assert (lines["lines"], lines["loaded"], lines["rejected"], lines["skipped"]) == (5, 3, 1, 1)
    assert lines["loaded_lines"] + lines["rejected"] + lines["skipped"] == lines["lines"]
    run_id = manifest["run_id"]
    assert ws.query("SELECT line, run_id FROM rejects") == [(3, run_id)]
    result = ws.execute("RECONCILE LAST")
    assert not result.failure
    check = ws.query("SELECT status, source_value, target_value FROM reconciliations WHERE check_name = 'lines'")
    assert check == [("pass", "5", "5")]
    # a copy whose accounting does not add up fails
    lines["skipped"] = 0
    manifest_path.write_text(json.dumps(manifest))
    result = ws.execute("RECONCILE LAST")
    assert result.failure
    status, detail = ws.query("SELECT status, detail FROM reconciliations WHERE check_name = 'lines' "
                              "ORDER BY checked_at DESC LIMIT 1")[0]
    assert status == "fail" and "4 lines accounted for of 5" in detail


def test_attach_options_override_what_is_detected(ws, tmp_path):
    data = ("Export 2024\n"                   # a preamble line
            "id;amount;city\n"               # a header on two lines
            "key;EUR;name\n"
            "1;n/a;M\xfcnchen\n"
            "2;-;K\xf6ln\n"
            "3;7;Z\xfcrich\n").encode("latin-1")
    (tmp_path / "x.csv").write_bytes(data)
    ws.execute(f"ATTACH '{tmp_path}' AS f (DELIMITER ';', HEADER 2, ENCODING 'latin-1', SKIP 1, "
               "NULLS 'n/a,-')")
    columns = ws.query("SELECT name, type FROM columns ORDER BY position")
    assert columns == [("id key", "BIGINT"), ("amount EUR", "BIGINT"), ("city name", "VARCHAR")]
    assert ws.execute('SELECT * FROM f."x.csv" ORDER BY 1').rows == [
        (1, None, "München"), (2, None, "Köln"), (3, 7, "Zürich")]
    note = ws.query("SELECT note FROM elements")[0][0]
    assert "encoding latin-1 (given)" in note and "header lines 2-3" in note and "nulls n/a,-" in note


def test_quote_escape_footer_and_a_named_delimiter_are_options_too(ws, tmp_path):
    (tmp_path / "e.csv").write_text("id|txt\n1|'a\\'b'\n2|'c|d'\n3|plain\nEND OF FILE\n")
    ws.execute(f"ATTACH '{tmp_path}' AS f (QUOTE \'\'\'\', ESCAPE '\\', FOOTER 1, DELIMITER 'pipe')")
    assert ws.execute('SELECT * FROM f."e.csv" ORDER BY id').rows == [(1, "a'b"), (2, "c|d"), (3, "plain")]
    ws.execute("PROFILE f.*")
    assert stats_lines(ws, 'f."e.csv"') == (3, 5, 3, 0, 2)


@pytest.mark.parametrize("option, message", [
    ("HEADER 'many'", "HEADER: a number of lines expected"), ("DELIMITER '::'", "DELIMITER: one character"),
    ("ENCODING 'klingon'", "ENCODING: unknown encoding"), ("SKIP '-1'", "SKIP: a number of lines"),
    ("FILE_OPTIONS '[1'", "FILE_OPTIONS: a JSON object")])
def test_a_bad_option_is_one_line_and_attaches_nothing(ws, tmp_path, option, message):
    (tmp_path / "x.csv").write_text("a,b\n1,2\n")
    with pytest.raises(HydraError) as err:
        ws.execute(f"ATTACH '{tmp_path}' AS f ({option})")
    assert message in str(err.value) and "\n" not in str(err.value)
    assert not ws.query("SELECT * FROM sources")


def test_refresh_overrides_one_file_and_a_reopened_workspace_keeps_it(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.csv").write_text("x|y,z\n1|a,b\n4|c,d\n")
    (tmp_path / "data" / "b.csv").write_text("x|y,z\n1|a,b\n4|c,d\n")
    path = str(tmp_path / "w.duckdb")
    ws = Workspace.open(path)
    try:
        ws.execute(f"ATTACH '{tmp_path / 'data'}' AS f")
        widths = dict(ws.query("SELECT name, column_count FROM elements"))
        assert widths == {"a.csv": 2, "b.csv": 2}  # ',' found
        with pytest.raises(HydraError, match="only the CSV options"):
            ws.execute("REFRESH f (FILE 'b.csv', WORKERS 2)")
        ws.execute("REFRESH f (FILE 'b.csv', DELIMITER '|')")
        assert dict(ws.query("SELECT name, column_count FROM elements")) == {"a.csv": 2, "b.csv": 2}
        assert ws.query("SELECT name FROM columns WHERE ref = 'f.\"b.csv\"' ORDER BY position") == [("x",), ("y,z",)]
    finally:
        ws.close()
    ws = Workspace.open(path)
    try:
        assert ws.execute('SELECT * FROM f."b.csv" ORDER BY x').rows == [(1, "a,b"), (4, "c,d")]
        assert ws.execute('SELECT * FROM f."a.csv" ORDER BY 1').rows == [("1|a", "b"), ("4|c", "d")]
    finally:
        ws.close()


def test_every_line_of_every_corpus_file_is_accounted_for_through_the_files_head(ws, tmp_path):
    """The polluted corpus attached as a folder and profiled: for each file, loaded + rejected +
    skipped = its lines (counted here, independently), and the rows are those the reader yields."""
    corpus = csv_corpus.build()
    csv_corpus.write(tmp_path, corpus)
    ws.execute(f"ATTACH '{tmp_path}' AS c")
    result = ws.execute("PROFILE c.*")
    assert not [r for r in result.rows if r[3] == "failed"]
    for corpus_file in corpus:
        data = corpus_file.data[2:] if corpus_file.encoding.startswith("utf-16") else corpus_file.data
        rows, lines, loaded, rejected, skipped = stats_lines(ws, f'c."{corpus_file.name}"')
        assert lines == csv_corpus.physical_lines(data, corpus_file.encoding), corpus_file.name
        assert loaded + rejected + skipped == lines, corpus_file.name
        assert rows == len(csv_corpus.read_hydra(str(tmp_path / corpus_file.name))[1]), corpus_file.name


def test_a_compressed_csv_keeps_duckdbs_sniffer(ws, tmp_path):
    shutil.copy(os.path.join(SAMPLES, "archive", "orders_2022.csv.gz"), tmp_path)
    ws.execute(f"ATTACH '{tmp_path}' AS f")
    element = next(iter(ws.elements("f").values()))
    head = ws.head("f")
    assert isinstance(head, FilesHead) and head.accounting(element, 600) is None
    assert ws.execute('SELECT count(*) FROM f."orders_2022.csv.gz"').rows == [(600,)]


def test_an_empty_csv_is_listed_with_why_it_cannot_be_read(ws, tmp_path):
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "blank.csv").write_bytes(b"\r\n\n")
    ws.execute(f"ATTACH '{tmp_path}' AS f")
    assert dict(ws.query("SELECT name, error FROM elements")) == {
        "empty.csv": "empty file", "blank.csv": "no data: blank lines only"}
    with pytest.raises(HydraError, match='f."empty.csv" cannot be read: empty file'):
        ws.execute('SELECT * FROM f."empty.csv"')
