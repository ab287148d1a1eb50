"""The SAP simulator (tests/fakes/sap) honours reference/sap/RFC_READ_TABLE.md, fact by fact, and
answers in pyrfc's shapes. Every test here runs against that simulation of an SAP system's RFC
interface."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fakes.sap import Field, SapSystem, install
from fakes.sap import pyrfc_api
from fakes.sap.demo import demo_system
from fakes.sap.wide import declare_wide_table

pytestmark = pytest.mark.simulated

TESTS = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def system():
    return demo_system(read_functions={"RFC_READ_TABLE": 512, "/SAPDS/RFC_READ_TABLE2": 2048})


@pytest.fixture
def conn(system):
    with system.connect(**system.logon_params()) as connection:
        yield connection


def read(conn, table, *, fields=(), options=(), function="RFC_READ_TABLE", **params):
    return conn.call(function, QUERY_TABLE=table, FIELDS=[{"FIELDNAME": f} for f in fields],
                     OPTIONS=[{"TEXT": line} for line in options], **params)


def rows(conn, table, **kwargs) -> list[str]:
    return sorted(row["WA"] for row in read(conn, table, **kwargs)["DATA"])


def error_key(call) -> str:
    with pytest.raises(pyrfc_api.ABAPApplicationError) as caught:
        call()
    return caught.value.key


# -- logon and the client API ----------------------------------------------------------------------
def test_logon_by_application_server_and_by_message_server(system):
    """pyrfc's two ways to log on (ashost/sysnr, mshost/msserv/sysid/group) both reach it."""
    direct = system.connect(**system.logon_params())
    balanced = system.connect(mshost=system.identity.mshost, msserv=system.identity.msserv,
                              sysid=system.identity.sysid, group=system.identity.group,
                              client="100", user="rfc_user", passwd="secret", lang="EN")
    for connection in (direct, balanced):
        assert connection.alive and connection.call("RFC_PING") == {}
        connection.close()
        assert not connection.alive


@pytest.mark.parametrize("change, error, key", [
    ({"passwd": "wrong"}, "LogonError", "RFC_LOGON_FAILURE"),
    ({"user": "NOBODY"}, "LogonError", "RFC_LOGON_FAILURE"),
    ({"client": "999"}, "LogonError", "RFC_LOGON_FAILURE"),
    ({"ashost": "elsewhere.example"}, "CommunicationError", "RFC_COMMUNICATION_FAILURE"),
    ({"sysnr": "01"}, "CommunicationError", "RFC_COMMUNICATION_FAILURE"),
])
def test_logon_failures_raise_pyrfc_errors(system, change, error, key):
    with pytest.raises(getattr(pyrfc_api, error)) as caught:
        system.connect(**system.logon_params(**change))
    assert caught.value.key == key and isinstance(caught.value, pyrfc_api.RFCError)


def test_parameters_must_be_strings_and_present(system):
    with pytest.raises(pyrfc_api.RFCError, match="missing"):
        pyrfc_api.Connection(system=system)
    with pytest.raises(pyrfc_api.RFCError, match="not string"):
        system.connect(**system.logon_params(sysnr=0))


def test_a_closed_connection_rejects_calls(system):
    connection = system.connect(**system.logon_params())
    connection.close()
    connection.close()  # twice is fine
    with pytest.raises(pyrfc_api.RFCError, match="closed"):
        connection.call("RFC_PING")


def test_unknown_function_and_unknown_parameter(conn):
    assert error_key(lambda: conn.call("Z_NO_SUCH_FUNCTION")) == "FU_NOT_FOUND"
    with pytest.raises(pyrfc_api.ExternalRuntimeError) as caught:
        conn.call("RFC_READ_TABLE", QUERY_TABLE="KNA1", NOT_A_PARAMETER="X")
    assert caught.value.key == "RFC_INVALID_PARAMETER"


def test_exception_classes_are_pyrfcs():
    """Same class names, bases and attributes as pyrfc (pyrfcx's pyrfc 3.4 surface)."""
    real = pytest.importorskip("pyrfc")
    if real.__name__ != "pyrfc" or not hasattr(real, "ABAPApplicationError"):
        pytest.skip("no real pyrfc installed")
    for name in pyrfc_api.EXPORTS:
        ours, theirs = getattr(pyrfc_api, name), getattr(real, name)
        assert [c.__name__ for c in ours.__mro__] == [c.__name__ for c in theirs.__mro__], name
    args = ("message", 5, "KEY", "C", "E", "001", "v1", "v2", "v3", "v4")
    ours, theirs = pyrfc_api.ABAPApplicationError(*args), real.ABAPApplicationError(*args)
    assert vars(ours) == vars(theirs)
    assert str(ours) == str(theirs)
    assert vars(pyrfc_api.LogonError("m")) == vars(real.LogonError("m"))


# -- RFC_READ_TABLE: FIELDS and DATA ---------------------------------------------------------------
def test_no_data_returns_the_field_list_only(conn):
    answer = read(conn, "KNA1", NO_DATA="X")
    assert answer["DATA"] == []
    assert answer["FIELDS"] == [
        {"FIELDNAME": "MANDT", "OFFSET": "000000", "LENGTH": "000003", "TYPE": "C",
         "FIELDTEXT": "Client"},
        {"FIELDNAME": "KUNNR", "OFFSET": "000003", "LENGTH": "000010", "TYPE": "C",
         "FIELDTEXT": "Customer"},
        {"FIELDNAME": "NAME1", "OFFSET": "000013", "LENGTH": "000035", "TYPE": "C",
         "FIELDTEXT": "Name"},
        {"FIELDNAME": "LAND1", "OFFSET": "000048", "LENGTH": "000003", "TYPE": "C",
         "FIELDTEXT": "Country"},
        {"FIELDNAME": "ERDAT", "OFFSET": "000051", "LENGTH": "000008", "TYPE": "D",
         "FIELDTEXT": "Created on"},
    ]


def test_fields_in_the_requested_order_with_delimiter_offsets(conn):
    answer = read(conn, "KNA1", fields=["ERDAT", "KUNNR"], DELIMITER=";",
                  options=["KUNNR = '0000000007'"])
    assert [(f["FIELDNAME"], f["OFFSET"], f["LENGTH"]) for f in answer["FIELDS"]] == [
        ("ERDAT", "000000", "000008"), ("KUNNR", "000009", "000010")]
    assert answer["DATA"] == [{"WA": "20200108;0000000007"}]


# the ZTYPES rows of fakes/sap/demo.py as RFC_READ_TABLE writes them
TYPES_ROWS = [
    "1000001Acme                0000004220240105235959      123.45-         1.500     7-255 "
    "32768-         5-   9007199254740993  -1.2345000000000000E+0301AB00FFEEUR  KG",
    "1000002Bob's Bäckerei      0000000000000000000000        0.00          0.001-99999   0 "
    "32767 2147483647 9223372036854775807-  1.0000000000000001E-0100000000DUSD  ST",
    "1000003                    0000000000000000000000        0.00          0.000     0   0 "
    "    0          0                   0   0.0000000000000000E+0000000000",
    "1000004O'Neil & Co         1234567899991231120000999999999.99 9999999999.999-    0   1 "
    "    1-2147483647-                  0   6.0221407599999999E+23DEADBEEFEEUR  M",
]


def test_rows_hold_every_type_in_its_internal_format(conn):
    """Fixed widths; NUMC with leading zeros; DATS YYYYMMDD and 00000000; TIMS HHMMSS; packed
    and integer numbers right-aligned with the sign last (123.45-); FLTP in ABAP's float form;
    RAW as hex; a NULL as the initial value; trailing blanks stripped, so trailing empty fields
    vanish (row 0003); only the logon client's rows (no 200)."""
    assert rows(conn, "ZTYPES") == TYPES_ROWS


def test_delimiter_separates_fields(conn):
    assert rows(conn, "ZTYPES", DELIMITER="|", options=["ID = '0003'"]) == [
        "100|0003|                    |00000000|00000000|000000|        0.00 |         0.000 |"
        "    0 |  0 |    0 |         0 |                  0 |  0.0000000000000000E+00|00000000"
        "| |     |"]


def test_rstrip_off_keeps_the_trailing_blanks(system):
    with system.connect(config={"rstrip": False}, **system.logon_params()) as connection:
        (row,) = rows(connection, "KNA1", fields=["KUNNR", "NAME1"],
                      options=["KUNNR = '0000000001'"])
    assert row == "0000000001" + "Customer 1".ljust(35)


def test_overflowing_number_shows_a_star_first(conn):
    """A value wider than the field's output width is cut on the left behind a '*'."""
    assert rows(conn, "ZOVERFLOW", fields=["ID", "AMOUNT"]) == ["0001  12.50", "0002*456.78-"]


def test_string_types_are_listed_but_cannot_be_read(conn):
    answer = read(conn, "ZSTRING", NO_DATA="X")
    assert [(f["FIELDNAME"], f["TYPE"], f["LENGTH"]) for f in answer["FIELDS"]][2:4] == [
        ("NOTE", "g", "000000"), ("BLOB", "y", "000000")]
    with pytest.raises(pyrfc_api.ABAPRuntimeError):
        read(conn, "ZSTRING")
    with pytest.raises(pyrfc_api.ABAPRuntimeError):
        read(conn, "ZSTRING", fields=["ID", "NOTE"])
    assert rows(conn, "ZSTRING", fields=["ID", "TITLE"]) == ["0001first"]


# -- exceptions -----------------------------------------------------------------------------------
@pytest.mark.parametrize("call, key", [
    (lambda c: read(c, "ZNOSUCHTABLE"), "TABLE_NOT_AVAILABLE"),
    (lambda c: read(c, "kna1"), "TABLE_NOT_AVAILABLE"),
    (lambda c: read(c, "ZSTRUCT"), "TABLE_WITHOUT_DATA"),
    (lambda c: read(c, "KNA1", fields=["KUNNR", "NOPE"]), "FIELD_NOT_VALID"),
    (lambda c: read(c, "KNA1", fields=["KUNNR", "NOPE"], NO_DATA="X"), "FIELD_NOT_VALID"),
])
def test_function_exceptions(conn, call, key):
    assert error_key(lambda: call(conn)) == key


def test_not_authorized_for_a_table(system):
    with system.connect(**system.logon_params(user="LIMITED", passwd="limited")) as limited:
        assert error_key(lambda: read(limited, "ZSECRET")) == "NOT_AUTHORIZED"
        assert read(limited, "KNA1", ROWCOUNT=1)["DATA"]


def test_data_buffer_exceeded_is_about_row_width():
    """512 characters fit; 513 do not, whatever the row count (the table is empty); delimiters
    count; NO_DATA='X' does not check; the wider variant takes 2048."""
    system = demo_system(read_functions={"RFC_READ_TABLE": 512, "/SAPDS/RFC_READ_TABLE2": 2048})
    conn = system.connect(**system.logon_params())
    system.table("ZWIDE512", [Field("A", "CHAR", 256, key=True), Field("B", "CHAR", 256),
                              Field("C", "CHAR", 1)])
    assert read(conn, "ZWIDE512", fields=["A", "B"])["DATA"] == []
    assert error_key(lambda: read(conn, "ZWIDE512")) == "DATA_BUFFER_EXCEEDED"
    assert error_key(lambda: read(conn, "ZWIDE512", fields=["A", "B"], DELIMITER=",")
                     ) == "DATA_BUFFER_EXCEEDED"
    assert len(read(conn, "ZWIDE512", NO_DATA="X")["FIELDS"]) == 3
    assert read(conn, "ZWIDE512", function="/SAPDS/RFC_READ_TABLE2", DELIMITER="|")["DATA"] == []


# -- OPTIONS --------------------------------------------------------------------------------------
def kunnr_of(conn, *options) -> list[int]:
    return [int(r) for r in rows(conn, "KNA1", fields=["KUNNR"], options=list(options))]


@pytest.mark.parametrize("where, expected", [
    ("KUNNR EQ '0000000005'", [5]),
    ("KUNNR = '0000000005'", [5]),
    ("KUNNR LT '0000000003'", [1, 2]),
    ("KUNNR < '0000000003'", [1, 2]),
    ("KUNNR LE '0000000002'", [1, 2]),
    ("KUNNR <= '0000000002'", [1, 2]),
    ("KUNNR GT '0000000098'", [99, 100]),
    ("KUNNR > '0000000098'", [99, 100]),
    ("KUNNR GE '0000000099'", [99, 100]),
    ("KUNNR >= '0000000099'", [99, 100]),
    ("KUNNR BETWEEN '0000000010' AND '0000000012'", [10, 11, 12]),
    ("KUNNR NOT BETWEEN '0000000002' AND '0000000100'", [1]),
    ("KUNNR IN ( '0000000001' , '0000000003' )", [1, 3]),
    ("KUNNR IN ('0000000001','0000000003')", [1, 3]),
    ("KUNNR NOT IN ( '0000000001' ) AND KUNNR < '0000000004'", [2, 3]),
    ("NAME1 LIKE 'Customer 1_'", list(range(10, 20))),
    ("NAME1 NOT LIKE 'Customer %0' AND KUNNR < '0000000012'", [1, 2, 3, 4, 5, 6, 7, 8, 9, 11]),
    ("KUNNR < '0000000003' OR KUNNR > '0000000099'", [1, 2, 100]),
    ("LAND1 = 'DE' AND KUNNR < '0000000010'", [3, 6, 9]),
    ("LAND1 = 'DE' AND NOT KUNNR > '0000000006'", [3, 6]),
    ("( KUNNR = '0000000001' OR KUNNR = '0000000002' ) AND LAND1 = 'FR'", [1]),
    ("KUNNR = '0000000001' OR KUNNR = '0000000002' AND LAND1 = 'FR'", [1]),  # AND binds first
    ("kunnr eq '0000000004'", [4]),  # names and keywords in any case
    ("ERDAT >= '20200401' AND ERDAT < '20200403'", [91, 92]),
    ("NAME1 IS NULL", []),
    ("KUNNR IS NOT NULL AND KUNNR <= '0000000002'", [1, 2]),
    ("NAME1 = 'Customer 7   '", [7]),  # CHAR comparison ignores trailing blanks
])
def test_where_operators(conn, where, expected):
    assert kunnr_of(conn, where) == expected


def test_typed_literals(conn):
    """Literals are converted to the column's type: NUMC padded, numbers parsed (also with a
    trailing minus), RAW from hex."""
    ids = lambda *o: [r[:4] for r in rows(conn, "ZTYPES", fields=["ID"], options=list(o))]  # noqa
    assert ids("NUMC8 = '42'") == ["0001"]
    assert ids("AMOUNT < '-100'") == ["0001"]
    assert ids("AMOUNT = '123.45-'") == ["0001"]
    assert ids("I4 < -4") == ["0001", "0004"]
    assert ids("RAW = 'DEADBEEF'") == ["0004"]
    assert ids("FLOAT > '1E20'") == ["0004"]
    assert ids("DATE = '00000000'") == ["0002"]


def test_quotes_are_doubled_in_literals(conn):
    names = lambda *o: [r[4:] for r in rows(conn, "ZTYPES", fields=["ID", "NAME"], options=list(o))]  # noqa
    assert names("NAME = 'O''Neil & Co'") == ["O'Neil & Co"]
    assert names("NAME LIKE '%''%'") == ["Bob's Bäckerei", "O'Neil & Co"]


def test_lines_are_concatenated_at_token_boundaries(conn):
    assert kunnr_of(conn, "KUNNR >= '0000000010'", "AND", "KUNNR <=", "'0000000011'") == [10, 11]
    line = "KUNNR IN ( " + " , ".join(f"'{i:010d}'" for i in (1, 2, 3, 4)) + " )"
    assert len(line) <= 72 and kunnr_of(conn, line) == [1, 2, 3, 4]


LINE_73 = "KUNNR IN ( '0000000001' , '0000000002' , '0000000003' , '0000000004'" + " " * 4 + ")"


@pytest.mark.parametrize("options", [
    [LINE_73],
    ["NAME1 = 'Customer", " 1'"],  # a literal split across lines
    ["KUNNR = '0000000001"],  # literal not closed
    ["NOSUCHFIELD = 'A'"],
    ["KUNNR='0000000001'"],  # operands must be separated by blanks
    ["KUNNR == '0000000001'"],
    ["KUNNR = "],
    ["KUNNR = '0000000001' AND"],
    ["( KUNNR = '0000000001'"],
    ["KUNNR = '0000000001' )"],
    ["KUNNR BETWEEN '1'"],
    ["KUNNR IN ( )"],
    ["ERDAT IS INITIAL"],
    ["NOT"],
    ["KUNNR = 'A' 'B'"],
    ["KUNNR = 'A'B"],
    ["I4 = 'twelve'"],
])
def test_malformed_options_are_option_not_valid(conn, options):
    table = "ZTYPES" if options[0].startswith("I4") else "KNA1"
    assert error_key(lambda: read(conn, table, options=options)) == "OPTION_NOT_VALID"


def test_a_72_character_line_is_valid(conn):
    line = LINE_73.replace("   )", "  )")
    assert len(LINE_73) == 73 and len(line) == 72 and kunnr_of(conn, line) == [1, 2, 3, 4]


def test_options_are_checked_only_when_data_is_read(conn):
    assert read(conn, "KNA1", options=["NONSENSE"], NO_DATA="X")["FIELDS"]


# -- order and paging ------------------------------------------------------------------------------
def test_rows_come_in_no_key_order_and_field_groups_disagree(conn):
    """No ORDER BY: the rows are not in key order, a repeated call gives the same order, and two
    field lists give different orders, so stitching groups by position would pair wrong rows."""
    keys = [r["WA"] for r in read(conn, "KNA1", fields=["KUNNR"])["DATA"]]
    assert keys != sorted(keys) and sorted(keys) == [f"{i:010d}" for i in range(1, 101)]
    assert keys == [r["WA"] for r in read(conn, "KNA1", fields=["KUNNR"])["DATA"]]
    pairs = [r["WA"][:10] for r in read(conn, "KNA1", fields=["KUNNR", "NAME1"])["DATA"]]
    assert pairs != keys


def test_rowskips_and_rowcount_page_an_unchanged_table(conn):
    pages = [read(conn, "KNA1", fields=["KUNNR"], ROWSKIPS=skip, ROWCOUNT=30)["DATA"]
             for skip in (0, 30, 60, 90)]
    assert [len(p) for p in pages] == [30, 30, 30, 10]
    assert sorted(r["WA"] for p in pages for r in p) == [f"{i:010d}" for i in range(1, 101)]
    assert len(read(conn, "KNA1", ROWCOUNT=0)["DATA"]) == 100


def test_rowskips_pages_unstably_while_the_table_changes():
    """Rows inserted between two pages shift the unordered stream: rows are read twice or
    missed."""
    system = demo_system()
    conn = system.connect(**system.logon_params())
    seen = [r["WA"] for r in read(conn, "KNA1", fields=["KUNNR"], ROWCOUNT=50)["DATA"]]
    system.insert("KNA1", [("100", f"{i:010d}", "new", "DE", None) for i in range(101, 141)])
    for skip in (50, 100):
        seen += [r["WA"] for r in read(conn, "KNA1", fields=["KUNNR"], ROWSKIPS=skip,
                                        ROWCOUNT=50)["DATA"]]
    assert len(seen) == 140 and len(set(seen)) < 140


def test_client_dependent_tables_show_the_logon_client(system):
    assert [r[:4] for r in rows(system.connect(**system.logon_params()), "ZTYPES")] == ["1000"] * 4
    other = system.connect(**system.logon_params(client="100"))
    assert len(read(other, "ZTYPES", fields=["ID"])["DATA"]) == 4


# -- wider variants and functions ------------------------------------------------------------------
def test_wider_variants_exist_only_where_configured(conn, system):
    wide = read(conn, "ZTYPES", function="/SAPDS/RFC_READ_TABLE2")
    assert sorted(r["WA"] for r in wide["DATA"]) == TYPES_ROWS
    assert error_key(lambda: read(conn, "KNA1", function="BBP_RFC_READ_TABLE")) == "FU_NOT_FOUND"
    assert error_key(lambda: conn.call("RFC_GET_FUNCTION_INTERFACE",
                                       FUNCNAME="/BODS/RFC_READ_TABLE")) == "FU_NOT_FOUND"
    interface = conn.call("RFC_GET_FUNCTION_INTERFACE", FUNCNAME="/SAPDS/RFC_READ_TABLE2")
    data = next(p for p in interface["PARAMS"] if p["PARAMETER"] == "DATA")
    assert data["PARAMCLASS"] == "T" and data["TABNAME"] == "TAB2048"
    assert conn.get_function_description("rfc_read_table").name == "RFC_READ_TABLE"


def test_no_s_rfc_authorization_is_a_runtime_error(system):
    with system.connect(**system.logon_params(user="LIMITED", passwd="limited")) as limited:
        with pytest.raises(pyrfc_api.ABAPRuntimeError) as caught:
            limited.call("EM_GET_NUMBER_OF_ENTRIES", IT_TABLES=[{"TABNAME": "KNA1"}])
    assert caught.value.key == "RFC_NO_AUTHORITY"


# -- the dictionary --------------------------------------------------------------------------------
def test_dd02l_and_dd02t_are_read_through_rfc_read_table(conn):
    tables = rows(conn, "DD02L", fields=["TABNAME", "AS4LOCAL", "TABCLASS", "CLIDEP", "CONTFLAG"],
                  DELIMITER="|", options=["TABNAME LIKE 'Z%'"])
    assert tables == ["ZCLUSTER                      |A|CLUSTER | |A",
                      "ZCLUSTER                      |N|CLUSTER | |A",
                      "ZNOKEY                        |A|TRANSP  | |A",
                      "ZOVERFLOW                     |A|TRANSP  |X|A",
                      "ZPOOL                         |A|POOL    | |A",
                      "ZSECRET                       |A|TRANSP  |X|A",
                      "ZSTRING                       |A|TRANSP  |X|A",
                      "ZSTRUCT                       |A|INTTAB  | |A",
                      "ZTYPES                        |A|TRANSP  |X|A"]
    assert rows(conn, "DD02T", fields=["DDTEXT"],
                options=["TABNAME = 'KNA1' AND DDLANGUAGE = 'E' AND AS4LOCAL = 'A'"]
                ) == ["General Data in Customer Master"]


def test_dd03l_lists_fields_and_include_rows(conn):
    fields = rows(conn, "DD03L", fields=["POSITION", "FIELDNAME", "KEYFLAG", "DATATYPE", "LENG",
                                         "DECIMALS", "INTTYPE"], DELIMITER="|",
                  options=["TABNAME = 'KNA1' AND AS4LOCAL = 'A'"])
    assert fields == ["0001|MANDT                         |X|CLNT|000003|000000|C",
                      "0002|KUNNR                         |X|CHAR|000010|000000|C",
                      "0003|.INCLUDE                      | |    |000000|000000|",
                      "0004|NAME1                         | |CHAR|000035|000000|C",
                      "0005|LAND1                         | |CHAR|000003|000000|C",
                      "0006|ERDAT                         | |DATS|000008|000000|D"]


def test_ddif_fieldinfo_get(conn):
    answer = conn.call("DDIF_FIELDINFO_GET", TABNAME="ZTYPES", LANGU="E")
    amount = next(f for f in answer["DFIES_TAB"] if f["FIELDNAME"] == "AMOUNT")
    assert {k: amount[k] for k in ("POSITION", "KEYFLAG", "DATATYPE", "LENG", "OUTPUTLEN",
                                    "DECIMALS", "INTTYPE", "FIELDTEXT")} == {
        "POSITION": "0007", "KEYFLAG": "", "DATATYPE": "CURR", "LENG": "000011",
        "OUTPUTLEN": "000013", "DECIMALS": "000002", "INTTYPE": "P", "FIELDTEXT": "Amount"}
    assert [f["FIELDNAME"] for f in answer["DFIES_TAB"]][:3] == ["MANDT", "ID", "NAME"]
    assert error_key(lambda: conn.call("DDIF_FIELDINFO_GET", TABNAME="ZNOSUCH")) == "NOT_FOUND"


def test_em_get_number_of_entries(conn):
    answer = conn.call("EM_GET_NUMBER_OF_ENTRIES",
                       IT_TABLES=[{"TABNAME": "KNA1"}, {"TABNAME": "ZTYPES"},
                                  {"TABNAME": "ZNOKEY"}])
    assert answer == {"IT_TABLES": [{"TABNAME": "KNA1", "TABROWS": 100},
                                    {"TABNAME": "ZTYPES", "TABROWS": 4},
                                    {"TABNAME": "ZNOKEY", "TABROWS": 25}]}


# -- plugging it in --------------------------------------------------------------------------------
def test_install_makes_import_pyrfc_give_the_simulator(monkeypatch, system):
    install(monkeypatch, system)
    import pyrfc

    with pyrfc.Connection(**system.logon_params()) as connection:
        assert len(read(connection, "KNA1", ROWCOUNT=3)["DATA"]) == 3
    with pytest.raises(pyrfc.LogonError):
        pyrfc.Connection(**system.logon_params(passwd="x"))


def test_a_subprocess_reaches_a_saved_system(tmp_path):
    path = tmp_path / "sap.duckdb"
    saved = SapSystem(path, sysid="QAS", clients=("300",))
    saved.add_user("REMOTE", "pw")
    saved.table("ZT", [Field("K", "NUMC", 3, key=True), Field("V", "CHAR", 5)])
    saved.insert("ZT", [("001", "one"), ("002", "two")])
    saved.close()
    script = (
        "import pyrfc\n"
        "c = pyrfc.Connection(ashost='sap-app.client.com', sysnr='00', client='300',"
        " user='REMOTE', passwd='pw')\n"
        "print(sorted(r['WA'] for r in c.call('RFC_READ_TABLE', QUERY_TABLE='ZT')['DATA']))\n"
        "try:\n    pyrfc.Connection(ashost='sap-app.client.com', sysnr='00', client='300',"
        " user='REMOTE', passwd='no')\n"
        "except pyrfc.LogonError as e:\n    print(e.key)\n")
    env = {**os.environ, "HYDRA_SAP_SIM": str(path),
           "PYTHONPATH": str(TESTS / "fakes" / "sap" / "pythonpath")}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                         check=True, timeout=60).stdout
    assert out.splitlines() == ["['001one', '002two']", "RFC_LOGON_FAILURE"]


def test_the_wide_table_has_200_fields_of_3000_characters_and_a_million_rows():
    system = SapSystem()
    system.add_user("RFC_USER", "secret")
    conn = system.connect(**system.logon_params())
    declare_wide_table(system, "ZWIDETEST", rows=1_000_000)
    fields = read(conn, "ZWIDETEST", NO_DATA="X")["FIELDS"]
    assert len(fields) == 200
    assert sum(int(f["LENGTH"]) for f in fields) == 3014
    assert conn.call("EM_GET_NUMBER_OF_ENTRIES", IT_TABLES=[{"TABNAME": "ZWIDETEST"}]
                     )["IT_TABLES"][0]["TABROWS"] == 1_000_000
    assert [f["FIELDNAME"] for f in fields if f["FIELDNAME"] in ("MANDT", "DOCNR", "ITEM")] == [
        "MANDT", "DOCNR", "ITEM"]
    (row,) = read(conn, "ZWIDETEST", fields=["DOCNR", "ITEM", "F000"],
                  options=["DOCNR = '0000012345' AND ITEM = '000030'"])["DATA"]
    assert row["WA"].startswith("0000012345000030")
