"""The sap head (hydra/heads/sap/head.py) through Hydra's statements: ATTACH, the sap_tables and
sap_fields tables, SELECT with pushdown, EXTRACT, RECONCILE, PROFILE and every bad input.

Simulated: the SAP system and its RFC interface (tests/fakes/sap: RFC_READ_TABLE, the ABAP
Dictionary, EM_GET_NUMBER_OF_ENTRIES, logon and authorizations, following
reference/sap/RFC_READ_TABLE.md; tests/fakes/test_sap_simulator.py checks that it does, rows in
shuffled order included). The pyrfc client is the simulator's, in-process (``install``) or in a
``hydra`` subprocess (fakes/sap/pythonpath); the missing-SDK test uses the real pyrfcx.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from fakes.sap import install
from fakes.sap.demo import demo_system
from fakes.sap.wide import declare_wide_table
from hydra.core.errors import HydraError

pytestmark = pytest.mark.simulated
HERE = Path(__file__).resolve().parent
URI = "sap://RFC_USER@sap-app.client.com/00?client=100"
PASSWORD_ENV = "HYDRA_TEST_SAP_PW"


@pytest.fixture
def system(monkeypatch):
    system = demo_system(read_functions={"RFC_READ_TABLE": 512, "/SAPDS/RFC_READ_TABLE2": 2048})
    install(monkeypatch, system)
    monkeypatch.setenv(PASSWORD_ENV, "secret")
    return system


def attach(ws, options: str = "", uri: str = URI, name: str = "erp"):
    extra = f", {options}" if options else ""
    return ws.execute(f"ATTACH '{uri}' AS {name} (PASSWORD_ENV '{PASSWORD_ENV}'{extra})")


def rows(ws, sql: str) -> list[tuple]:
    return [tuple(r) for r in ws.execute(sql).rows]


def data_calls(system, since: int) -> list[dict]:
    """The RFC_READ_TABLE calls that read rows (not the NO_DATA field lists) since ``since``."""
    return [c.params for c in system.calls[since:]
            if c.function.endswith("READ_TABLE") and c.params.get("NO_DATA") != "X"
            and c.params.get("QUERY_TABLE") not in ("DD02L", "DD02T", "DD03L")]


def options_text(params: dict) -> str:
    return " ".join(line["TEXT"] for line in params.get("OPTIONS", []))


# -- ATTACH and the catalog ------------------------------------------------------------------------
def test_attach_lists_the_chosen_tables_with_their_fields_and_counts(ws, system):
    result = attach(ws, "LANG 'EN', TABLES 'KNA1,ZT*,ZSTR*'")
    assert result.message == "attached erp: 3 elements"  # ZSTRUCT is a structure: no element
    assert rows(ws, "SELECT name, kind, row_count, row_count_exact, key_columns FROM elements"
                    " ORDER BY name") == [
        ("KNA1", "table", 100, True, ["MANDT", "KUNNR"]),
        ("ZSTRING", "table", 1, True, ["MANDT", "ID"]),
        ("ZTYPES", "table", 4, True, ["MANDT", "ID"]),  # the logon client's rows only
    ]
    assert rows(ws, "SELECT name, type, source_type FROM columns WHERE ref = 'erp.\"ZTYPES\"'"
                    " ORDER BY position") == [
        ("MANDT", "VARCHAR", "CLNT(3)"), ("ID", "VARCHAR", "NUMC(4)"),
        ("NAME", "VARCHAR", "CHAR(20)"), ("NUMC8", "VARCHAR", "NUMC(8)"),
        ("DATE", "DATE", "DATS(8)"), ("TIME", "TIME", "TIMS(6)"),
        ("AMOUNT", "DECIMAL(11,2)", "CURR(11,2)"), ("QTY", "DECIMAL(13,3)", "QUAN(13,3)"),
        ("DEC0", "DECIMAL(5,0)", "DEC(5,0)"), ("I1", "UTINYINT", "INT1(3)"),
        ("I2", "SMALLINT", "INT2(5)"), ("I4", "INTEGER", "INT4(10)"), ("I8", "BIGINT", "INT8(19)"),
        ("FLOAT", "DOUBLE", "FLTP(16)"), ("RAW", "BLOB", "RAW(4)"), ("LANGU", "VARCHAR", "LANG(1)"),
        ("WAERS", "VARCHAR", "CUKY(5)"), ("MEINS", "VARCHAR", "UNIT(3)")]
    assert rows(ws, "SELECT table_name, table_class, description, delivery_class,"
                    " client_dependent, row_count, row_count_note FROM sap_tables"
                    " ORDER BY table_name") == [
        ("KNA1", "TRANSP", "General Data in Customer Master", "A", True, 100, None),
        ("ZSTRING", "TRANSP", "With strings", "A", True, 1, None),
        ("ZTYPES", "TRANSP", "Every DDIC type", "A", True, 4, None)]
    assert rows(ws, "SELECT field_name, position, is_key, data_type, abap_type, length, decimals,"
                    " description, read_as, note FROM sap_fields WHERE table_name = 'ZSTRING'"
                    " ORDER BY position") == [
        ("MANDT", 1, True, "CLNT", "C", 3, 0, None, "VARCHAR", None),
        ("ID", 2, True, "NUMC", "N", 4, 0, None, "VARCHAR", None),
        ("NOTE", 3, False, "STRG", "g", 0, 0, None, "VARCHAR",
         "STRG: RFC_READ_TABLE cannot return string types; always NULL"),
        ("BLOB", 4, False, "RSTR", "y", 0, 0, None, "BLOB",
         "RSTR: RFC_READ_TABLE cannot return string types; always NULL"),
        ("TITLE", 5, False, "CHAR", "C", 10, 0, None, "VARCHAR", None)]
    assert rows(ws, "SELECT description FROM sap_fields WHERE field_name = 'KUNNR'") == [
        ("Customer",)]
    assert rows(ws, "SELECT * FROM erp.ZSTRING") == [("100", "0001", None, None, "first")]


def test_every_table_class_is_listed_and_readable_where_the_function_allows(ws, system):
    attach(ws)
    kinds = dict(rows(ws, "SELECT name, kind FROM elements"))
    assert kinds["ZPOOL"] == "pool table" and kinds["ZCLUSTER"] == "cluster table"
    assert "DD03L" in kinds and "ZSTRUCT" not in kinds
    assert rows(ws, "SELECT * FROM erp.ZPOOL") == [("P1", "pooled")]
    # the cluster table's inactive version (an extra field, in SE11) is not the table
    assert rows(ws, "SELECT field_name FROM sap_fields WHERE table_name = 'ZCLUSTER'") == [
        ("K",), ("V",)]


def test_attach_through_the_message_server(ws, system):
    uri = "sap://RFC_USER@sap-ms.client.com?group=PUBLIC&sysid=HYD&client=100"
    assert attach(ws, "TABLES 'KNA1'", uri=uri).message == "attached erp: 1 element"
    assert rows(ws, "SELECT count(*) FROM erp.KNA1") == [(100,)]


def test_a_user_without_ddif_or_row_counts_gets_dd03l_fields_and_a_note(ws, system, monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, "limited")
    attach(ws, "TABLES 'KNA1'", uri=URI.replace("RFC_USER", "LIMITED"))
    ((count, note),) = rows(ws, "SELECT row_count, row_count_note FROM sap_tables")
    assert count is None and note == ("row counts unavailable: no RFC authorization (S_RFC) for"
                                      " EM_GET_NUMBER_OF_ENTRIES")
    assert "fields from DD03L" in rows(ws, "SELECT note FROM elements")[0][0]
    assert rows(ws, "SELECT count(*), count(DISTINCT LAND1) FROM erp.KNA1") == [(100, 3)]


def test_the_password_is_never_stored(tmp_path, system, monkeypatch):
    """A literal password in the URI is masked in the workspace file; PASSWORD_ENV stores the
    variable's name, so a reopened workspace reconnects."""
    from hydra.statements.workspace import Workspace

    system.add_user("CONSULT", "Pw-9f3kQ#x")
    monkeypatch.setenv("HYDRA_TEST_SAP_PW2", "Pw-9f3kQ#x")
    path = tmp_path / "ws.hydra"
    ws = Workspace.open(str(path))
    literal = "sap://CONSULT:Pw-9f3kQ#x@sap-app.client.com/00?client=100"  # typed as it is
    assert "not stored" in ws.execute(f"ATTACH '{literal}' AS lit (TABLES 'KNA1')").message
    ws.execute(f"ATTACH '{URI.replace('RFC_USER', 'CONSULT')}' AS env"
               " (PASSWORD_ENV 'HYDRA_TEST_SAP_PW2', TABLES 'KNA1')")
    assert rows(ws, "SELECT name, uri FROM sources ORDER BY name") == [
        ("env", URI.replace("RFC_USER", "CONSULT")),
        ("lit", "sap://CONSULT:***@sap-app.client.com/00?client=100")]
    ws.close()
    assert b"9f3kQ" not in path.read_bytes()
    ws = Workspace.open(str(path))
    try:
        assert rows(ws, "SELECT count(*) FROM env.KNA1") == [(100,)]
    finally:
        ws.close()


# -- reads -----------------------------------------------------------------------------------------
def test_every_type_is_read_as_its_duckdb_type(ws, system):
    attach(ws, "TABLES 'ZTYPES'")
    got = ws.execute("SELECT * FROM erp.ZTYPES WHERE ID IN ('0001', '0002') ORDER BY ID").rows
    assert [tuple(r) for r in got] == [
        ("100", "0001", "Acme", "00000042", dt.date(2024, 1, 5), dt.time(23, 59, 59),
         Decimal("-123.45"), Decimal("1.500"), Decimal("-7"), 255, -32768, -5, 9007199254740993,
         -1234.5, b"\x01\xab\x00\xff", "E", "EUR", "KG"),
        ("100", "0002", "Bob's Bäckerei", "00000000", None, dt.time(0, 0), Decimal("0.00"),
         Decimal("-0.001"), Decimal("99999"), 0, 32767, 2147483647, -9223372036854775807, 0.1,
         b"\x00\x00\x00\x00", "D", "USD", "ST")]


def test_the_where_goes_into_options_where_abap_applies_it_exactly(ws, system):
    attach(ws, "TABLES 'KNA1'")
    since = len(system.calls)
    got = rows(ws, "SELECT KUNNR FROM erp.KNA1 WHERE LAND1 = 'DE' AND ERDAT >= DATE '2020-03-01'"
                   " AND KUNNR IN ('0000000060', '0000000063', '0000000099')"
                   " AND NAME1 LIKE 'Customer 6%' ORDER BY KUNNR")
    assert got == [("0000000060",), ("0000000063",)]
    (call,) = data_calls(system, since)
    assert options_text(call) == ("LAND1 = 'DE' AND ERDAT >= '20200301' AND KUNNR IN"
                                  " ( '0000000060' , '0000000063' , '0000000099' ) AND NAME1"
                                  " LIKE 'Customer 6%'")
    assert all(len(line["TEXT"]) <= 72 for line in call["OPTIONS"])
    assert [f["FIELDNAME"] for f in call["FIELDS"]] == ["MANDT", "KUNNR", "NAME1", "LAND1",
                                                        "ERDAT"]


@pytest.mark.parametrize("where, expected", [
    ("DATE < DATE '2030-01-01'", [("0001",)]),  # ABAP: 00000000 is a date; DuckDB: NULL
    ("NAME = 'Acme '", []),  # ABAP ignores the trailing blank
    ("NUMC8 = '42'", []),  # ABAP compares NUMC with '00000042'
    ("NAME = lower(NAME)", [("0003",)]),  # no literal
])
def test_what_abap_would_answer_differently_stays_with_duckdb(ws, system, where, expected):
    attach(ws, "TABLES 'ZTYPES'")
    since = len(system.calls)
    assert rows(ws, f"SELECT ID FROM erp.ZTYPES WHERE {where} ORDER BY ID") == expected
    assert [options_text(c) for c in data_calls(system, since)] == [""]


def test_quotes_are_doubled_and_long_conditions_wrap(ws, system):
    attach(ws, "TABLES 'ZTYPES'")
    since = len(system.calls)
    names = ", ".join("'" + n.replace("'", "''") + "'"
                      for n in ["O'Neil & Co", "Acme", "x" * 20, "y" * 20, "z" * 20])
    assert rows(ws, f"SELECT ID FROM erp.ZTYPES WHERE NAME IN ({names}) ORDER BY ID") == [
        ("0001",), ("0004",)]
    (call,) = data_calls(system, since)
    lines = [line["TEXT"] for line in call["OPTIONS"]]
    assert len(lines) == 2 and all(len(line) <= 72 for line in lines)
    assert "'O''Neil & Co'" in lines[0]


def test_a_limit_stops_the_read(ws, system):
    attach(ws, "TABLES 'KNA1'")
    assert len(rows(ws, "SELECT * FROM erp.KNA1 WHERE LAND1 = 'US' LIMIT 5")) == 5


def test_no_columns_count_rows_and_string_fields_alone_are_nulls(ws, system):
    attach(ws, "TABLES 'KNA1,ZSTRING'")
    head, elements = ws.head("erp"), ws.elements("erp")
    assert head.read(elements[("KNA1",)], []).read_all().num_rows == 100
    assert head.read(elements[("ZSTRING",)], ["NOTE"]).read_all().to_pylist() == [{"NOTE": None}]


def test_a_wide_table_is_read_in_field_groups_stitched_by_key(ws, system):
    fields = declare_wide_table(system, "ZWIDE", rows=500)
    attach(ws, "TABLES 'ZWIDE'")
    since = len(system.calls)
    got = ws.execute("SELECT * FROM erp.ZWIDE WHERE DOCNR >= '0000000010'").rows
    calls = data_calls(system, since)
    assert len({tuple(f["FIELDNAME"] for f in c["FIELDS"]) for c in calls}) >= 6  # groups
    assert len(got) == 400 and len(got[0]) == len(fields) == 200
    # a value per field and key, compared with the simulator's own table
    expected = {tuple(r[:3]): r for r in system.sql(
        "SELECT * FROM ZWIDE WHERE DOCNR >= '0000000010'").fetchall()}
    for row in got:
        source = expected[tuple(row[:3])]
        assert row[3] == source[3].rstrip() and row[4] == source[4]  # CHAR, NUMC
        assert row[7] == source[7]  # CURR(15,2)


def test_the_wider_read_function_when_asked(ws, system):
    declare_wide_table(system, "ZWIDE", rows=50)
    attach(ws, "TABLES 'ZWIDE', READ_FUNCTION '/SAPDS/RFC_READ_TABLE2'")
    since = len(system.calls)
    assert rows(ws, "SELECT count(F005) FROM erp.ZWIDE") == [(50,)]
    assert {c.function for c in system.calls[since:]} == {"/SAPDS/RFC_READ_TABLE2"}


# -- bad input -------------------------------------------------------------------------------------
@pytest.mark.parametrize("uri, options, env, message", [
    (URI, "TABLES 'KNA1,NOPE'", "secret",
     "erp: SAP table NOPE (named in TABLES) does not exist or is no table, view, cluster or"
     " pool table"),
    (URI, "", "wrong-s3cret", "erp: SAP logon failed for RFC_USER@sap-app.client.com client 100:"
     " Name or password is incorrect (repeat logon)"),
    (URI, "", None, f"erp: environment variable {PASSWORD_ENV} is not set (named by"
     " PASSWORD_ENV)"),
    (URI, "READ_FUNCTION '/BODS/RFC_READ_TABLE'", "secret",
     "erp: the SAP system has no function /BODS/RFC_READ_TABLE"),
    (URI, "READ_FUNCTION 'RFC READ'", "secret",
     "erp: READ_FUNCTION must name a function module, not 'RFC READ'"),
    (URI, "LANG 'ENGLISH'", "secret", "erp: LANG must be a language code such as 'EN' or 'DE',"
     " not 'ENGLISH'"),
    (URI, "WORKERS '4'", "secret", "unknown option WORKERS for a sap source; accepted: CLIENT,"
     " LANG, PASSWORD_ENV, READ_FUNCTION, TABLES"),
    (URI.replace("/00", "/0"), "", "secret", "erp: the SAP system number must be two digits"
     " after the host, not '0'; write sap://USER@app-server/00?client=100 or"
     " sap://USER@message-server?group=GROUP&sysid=SID&client=100"),
    (URI.replace("?client=100", ""), "", "secret", "erp: the SAP client must be three digits"
     " (?client=100 or CLIENT '100'), not ''"),
    (URI + "&pool=2", "", "secret", "erp: unknown SAP URI parameter 'pool'; known: client, lang,"
     " group, sysid, msserv, saprouter"),
    (URI.replace("RFC_USER@", ""), "", "secret", "erp: the SAP URI needs the RFC user before the"
     " host; write sap://USER@app-server/00?client=100 or"
     " sap://USER@message-server?group=GROUP&sysid=SID&client=100"),
])
def test_bad_input_is_one_line_without_the_password_and_attaches_nothing(
        ws, system, monkeypatch, uri, options, env, message):
    if env is None:
        monkeypatch.delenv(PASSWORD_ENV)
    else:
        monkeypatch.setenv(PASSWORD_ENV, env)
    with pytest.raises(HydraError) as caught:
        attach(ws, options, uri=uri)
    assert str(caught.value) == message
    assert "s3cret" not in str(caught.value)
    assert rows(ws, "SELECT count(*) FROM sources") == [(0,)]
    assert rows(ws, "SELECT count(*) FROM elements") == [(0,)]


def test_reading_what_the_user_may_not_read_is_one_line(ws, system, monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, "limited")  # LIMITED has no S_TABU_NAM for ZSECRET
    attach(ws, "TABLES 'KNA1,ZSECRET'", uri=URI.replace("RFC_USER", "LIMITED"))
    with pytest.raises(HydraError) as caught:
        ws.execute("SELECT * FROM erp.ZSECRET")
    assert str(caught.value) == ("erp: not authorized to read SAP table ZSECRET (needs S_TABU_DIS"
                                 " or S_TABU_NAM)")


def test_an_unknown_field_is_one_line(ws, system):
    attach(ws, "TABLES 'KNA1'")
    head, element = ws.head("erp"), ws.elements("erp")[("KNA1",)]
    with pytest.raises(HydraError) as caught:
        head.read(element, ["KUNNR", "NOPE"])
    assert str(caught.value) == ("erp: SAP table KNA1 has no field NOPE (REFRESH the source if"
                                 " the table changed)")
    # a field that left the table since ATTACH: the function's FIELD_NOT_VALID, in one line
    head.table_fields(element).append(head.table_fields(element)[-1].__class__(
        "KNA1", "GONE", 9, False, "CHAR", "C", 4, 0))
    with pytest.raises(HydraError) as caught:
        head.read(element, ["KUNNR", "GONE"])
    assert str(caught.value) == "erp: SAP table KNA1 has no field among MANDT, KUNNR, GONE"


def test_without_the_sdk_attach_says_what_is_missing_in_one_line(tmp_path, hydra_cmd):
    """Not simulated: the real pyrfc (pyrfcx) without the SAP NW RFC SDK, in a subprocess."""
    pytest.importorskip("pyrfcx")
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("SAPNWRFC_HOME", "HYDRA_SAP_SIM")}
    env["HYDRA_TEST_SAP_PW"] = "s3cret"
    done = subprocess.run([*hydra_cmd, str(tmp_path / "ws.hydra"), "-c",
                           f"ATTACH '{URI}' AS erp (PASSWORD_ENV '{PASSWORD_ENV}')"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode != 0
    (line,) = done.stderr.strip().splitlines()
    assert ("erp: the SAP NW RFC SDK is not installed: download it from the SAP Support Portal"
            " (support.sap.com, needs an S-user) and set SAPNWRFC_HOME to its directory") in line
    assert "s3cret" not in done.stderr


# -- EXTRACT, RECONCILE, PROFILE -------------------------------------------------------------------
def test_split_ranges_cover_the_table_once(ws, system):
    declare_wide_table(system, "ZWIDE", rows=2000, fields=10)
    attach(ws, "TABLES 'ZWIDE'")
    head, element = ws.head("erp"), ws.elements("erp")[("ZWIDE",)]
    ranges = head.split(element, 4)
    # on DOCNR, the first key field after the client, at quantiles of its values (200 of them)
    assert [[tuple(q) for q in r] for r in ranges] == [
        [("DOCNR", "<", ("0000000050",))],
        [("DOCNR", ">=", ("0000000050",)), ("DOCNR", "<", ("0000000100",))],
        [("DOCNR", ">=", ("0000000100",)), ("DOCNR", "<", ("0000000150",))],
        [("DOCNR", ">=", ("0000000150",))]]
    seen = []
    for predicates in ranges:
        batches = head.read(element, ["DOCNR", "ITEM"], predicates)
        seen += [(r["DOCNR"], r["ITEM"]) for r in batches.read_all().to_pylist()]
    assert len(seen) == len(set(seen)) == 2000


def test_extract_and_reconcile_in_parallel_ranges(ws, system, tmp_path):
    declare_wide_table(system, "ZWIDE", rows=3000, fields=40)
    attach(ws, "TABLES 'ZWIDE'")
    out = tmp_path / "out"
    result = ws.execute(f"EXTRACT erp.ZWIDE TO '{out}' (WORKERS 3)")
    assert "1 done (3,000 rows" in result.message
    reconciled = ws.execute("RECONCILE LAST")
    assert reconciled.message.endswith("all passed")
    assert rows(ws, "SELECT source_value, target_value FROM reconciliations"
                    " WHERE check_name = 'row_count'") == [("3000", "3000")]
    extracted = pq.read_table(sorted(out.rglob("*.parquet"))).to_pylist()
    assert sorted((r["DOCNR"], r["ITEM"]) for r in extracted) == sorted(
        system.sql("SELECT DOCNR, ITEM FROM ZWIDE").fetchall())


def test_reconcile_counts_rows_without_the_reader(ws, system, tmp_path, monkeypatch):
    """The source's row count comes from EM_GET_NUMBER_OF_ENTRIES: a reader that loses a row
    agrees with its own copy, and is caught."""
    from hydra.heads.sap import reader

    attach(ws, "TABLES 'KNA1'")
    out = tmp_path / "out"
    read_table = reader.read_table

    def losing(*args, **kwargs):
        for batch in read_table(*args, **kwargs):
            yield batch.slice(1)

    monkeypatch.setattr(reader, "read_table", losing)
    ws.execute(f"EXTRACT erp.KNA1 TO '{out}'")
    result = ws.execute("RECONCILE LAST")
    assert "FAILED" in result.message
    assert rows(ws, "SELECT source_value, target_value, status FROM reconciliations"
                    " WHERE check_name = 'row_count'") == [("100", "99", "fail")]


def test_profile_reads_the_table(ws, system):
    attach(ws, "TABLES 'KNA1'")
    result = ws.execute("PROFILE erp.KNA1")
    assert result.rows[0][1] == 100 and "sap head" in result.rows[0][3]


def test_extract_and_reconcile_through_the_hydra_command(tmp_path):
    """The whole path in a ``hydra`` subprocess (entry point, ATTACH, parallel EXTRACT,
    RECONCILE) on a smaller wide table; every value compared with the simulator's source."""
    result = _extract_check(tmp_path, rows=4000)
    assert result["extract"]["exit"] == 0, result["extract"]["output"]
    assert result["reconciled"], result["reconcile"]["output"]
    assert result["files"] >= 1 and result["target_rows"] == result["source_rows"] == 4000
    assert result["mismatched_columns"] == []


@pytest.mark.slow
def test_a_wide_million_row_table_extracts_and_reconciles_in_bounded_memory(tmp_path):
    """200 fields, 3,014 characters a row, composite key, 1M rows (3 GB of row text): EXTRACT and
    RECONCILE pass, every value equals the simulator's source, and the hydra process's peak
    memory stays far below the table's size."""
    result = _extract_check(tmp_path, rows=1_000_000)
    print(result)
    assert result["extract"]["exit"] == 0, result["extract"]["output"]
    assert result["reconciled"], result["reconcile"]["output"]
    assert result["target_rows"] == result["source_rows"] == 1_000_000
    assert result["mismatched_columns"] == []
    assert max(result["extract"]["peak_rss_mib"], result["reconcile"]["peak_rss_mib"]) < 1024


def _extract_check(folder: Path, rows: int) -> dict:
    done = subprocess.run([sys.executable, str(HERE / "extract_check.py"), "--rows", str(rows),
                           "--folder", str(folder)],
                          capture_output=True, text=True, check=True, timeout=3600)
    return json.loads(done.stdout.strip().splitlines()[-1])
