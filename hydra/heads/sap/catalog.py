"""What an SAP system holds, read the way an RFC user can: the table list from DD02L/DD02T
(through the read function), a table's fields from DDIF_FIELDINFO_GET (or DD03L when that
function is not allowed), row counts from EM_GET_NUMBER_OF_ENTRIES (or none, and a note saying
why), and which read function the system offers."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Iterable, Sequence

import pyarrow as pa

from . import abap
from .rfc import Connection, SapError, call_error_line, error_kind

#: Dictionary types RFC_READ_TABLE cannot return (reference/sap/RFC_READ_TABLE.md).
UNSUPPORTED_TYPES = {"STRG", "SSTR", "RSTR"}
#: DATA row width of the read functions (reference/sap); an unknown one is assumed to have 512.
ROW_WIDTHS = {"RFC_READ_TABLE": 512, "/SAPDS/RFC_READ_TABLE2": 2048,
              "/BODS/RFC_READ_TABLE": 512, "BBP_RFC_READ_TABLE": 512}
READABLE_CLASSES = ("TRANSP", "CLUSTER", "POOL", "VIEW")
#: ISO language (pyrfc's ``lang``) to the one-letter SAP language of DD02T/DD03L.
SAP_LANGUAGES = {"EN": "E", "DE": "D", "FR": "F", "ES": "S", "IT": "I", "JA": "J", "PT": "P",
                 "NL": "N", "ZH": "1", "RU": "R", "PL": "L", "SV": "V", "DA": "K", "FI": "U"}


@dataclass(frozen=True)
class SapField:
    table: str
    name: str
    position: int
    key: bool
    datatype: str  # DDIC type: CHAR, NUMC, DATS, CURR …
    inttype: str  # ABAP internal type: C, N, D, T, P, I, F, X, b, s, 8, g, y
    length: int  # DDIC length (digits for packed numbers)
    decimals: int
    text: str = ""

    @property
    def supported(self) -> bool:
        return self.datatype not in UNSUPPORTED_TYPES and self.inttype not in ("g", "y")


@dataclass(frozen=True)
class SapTable:
    name: str
    tabclass: str  # TRANSP, CLUSTER, POOL, VIEW …
    text: str
    delivery_class: str  # DD02L-CONTFLAG
    client_dependent: bool


def sap_language(lang: str) -> str:
    lang = (lang or "EN").upper()
    return SAP_LANGUAGES.get(lang, lang[:1])


# -- tables ----------------------------------------------------------------------------------------
def list_tables(conn: Connection, function: str = "RFC_READ_TABLE",
                patterns: Sequence[str] = (), lang: str = "EN",
                classes: Sequence[str] = READABLE_CLASSES) -> list[SapTable]:
    """Active tables of the given classes whose names match ``patterns`` (globs like ``MARA*``;
    none: every table), with their description in ``lang``."""
    from .reader import read_table  # the catalog reads DD02L like any table

    name_words = _name_condition(patterns)
    dd02l = read_table(conn, "DD02L", _catalog_fields("DD02L"), function=function,
                       columns=["TABNAME", "TABCLASS", "CLIDEP", "CONTFLAG"],
                       where=abap.conjunction([["AS4LOCAL", "=", "'A'"],
                                               abap.condition("TABCLASS", "IN", list(classes)),
                                               name_words]))
    language = ["DDLANGUAGE", "=", abap.literal(sap_language(lang))]
    dd02t = read_table(conn, "DD02T", _catalog_fields("DD02T"), function=function,
                       columns=["TABNAME", "DDTEXT"],
                       where=abap.conjunction([["AS4LOCAL", "=", "'A'"], language, name_words]))
    texts = dict(_rows(dd02t, "TABNAME", "DDTEXT"))
    tables = [SapTable(name, tabclass, texts.get(name, ""), contflag, clidep == "X")
              for name, tabclass, clidep, contflag
              in _rows(dd02l, "TABNAME", "TABCLASS", "CLIDEP", "CONTFLAG")
              if not patterns or any(fnmatch.fnmatchcase(name, p) for p in patterns)]
    return sorted(tables, key=lambda t: t.name)


def _name_condition(patterns: Sequence[str]) -> list[str]:
    """TABNAME = 'VBAK' OR TABNAME LIKE 'MARA%' … — ABAP's LIKE has ``_`` as a wildcard too,
    so the system may return a few more names; they are filtered again by the glob."""
    if not patterns:
        return []
    words: list[str] = []
    for pattern in patterns:
        if words:
            words.append("OR")
        if any(c in pattern for c in "*?"):
            words += abap.condition("TABNAME", "LIKE",
                                    [pattern.replace("*", "%").replace("?", "_")])
        else:
            words += abap.condition("TABNAME", "=", [pattern])
    return ["(", *words, ")"] if len(patterns) > 1 else words


def _rows(batches: Iterable[pa.RecordBatch], *names: str):
    for batch in batches:
        yield from zip(*(batch.column(n).to_pylist() for n in names), strict=True)


# -- fields ----------------------------------------------------------------------------------------
def table_fields(conn: Connection, table: str, function: str = "RFC_READ_TABLE",
                 lang: str = "EN") -> tuple[list[SapField], str | None]:
    """The table's fields in dictionary order, and a note when they came from DD03L (no field
    descriptions) because DDIF_FIELDINFO_GET is not allowed."""
    try:
        result = conn.call("DDIF_FIELDINFO_GET", TABNAME=table, LANGU=sap_language(lang))
    except Exception as err:  # noqa: BLE001 - classified below
        key = getattr(err, "key", "")
        if error_kind(err) is None:
            raise
        if key == "NOT_FOUND":
            raise SapError(f"SAP table {table} does not exist") from err
        if error_kind(err) in ("ABAPRuntimeError", "ABAPApplicationError"):
            note = ("fields from DD03L: " + call_error_line(err, "DDIF_FIELDINFO_GET", None, {})
                    + "; no field descriptions")
            return _fields_from_dd03l(conn, table, function), note
        raise SapError(call_error_line(err, "DDIF_FIELDINFO_GET", table, {})) from err
    fields = [SapField(table, row["FIELDNAME"], int(row["POSITION"]), row["KEYFLAG"] == "X",
                       row["DATATYPE"], row["INTTYPE"], int(row["LENG"]), int(row["DECIMALS"]),
                       row.get("FIELDTEXT", "") or row.get("SCRTEXT_L", ""))
              for row in result["DFIES_TAB"]]
    return sorted(fields, key=lambda f: f.position), None


def _fields_from_dd03l(conn: Connection, table: str, function: str) -> list[SapField]:
    from .reader import read_table

    columns = ["FIELDNAME", "POSITION", "KEYFLAG", "DATATYPE", "INTTYPE", "LENG", "DECIMALS"]
    where = abap.conjunction([abap.condition("TABNAME", "=", [table]),
                              ["AS4LOCAL", "=", "'A'"]])
    rows = sorted(_rows(read_table(conn, "DD03L", _catalog_fields("DD03L"), function=function,
                                   columns=columns, where=where), *columns),
                  key=lambda r: r[1])
    # .INCLUDE and .APPEND rows name structures, not fields: RFC_READ_TABLE does not know them
    real = [r for r in rows if not r[0].startswith(".")]
    if not real:
        raise SapError(f"SAP table {table} does not exist")
    return [SapField(table, name, position, keyflag == "X", datatype, inttype, int(leng),
                     int(decimals))
            for position, (name, _, keyflag, datatype, inttype, leng, decimals)
            in enumerate(real, 1)]


def _catalog_fields(table: str) -> list[SapField]:
    """The dictionary's own tables, as every release has them: known without asking, so they can
    be read when DDIF_FIELDINFO_GET is not allowed. (name, length, key, ABAP type)"""
    specs = {
        "DD02L": [("TABNAME", 30, True, "C"), ("AS4LOCAL", 1, True, "C"),
                  ("AS4VERS", 4, True, "N"), ("TABCLASS", 8, False, "C"),
                  ("CLIDEP", 1, False, "C"), ("CONTFLAG", 1, False, "C")],
        "DD02T": [("TABNAME", 30, True, "C"), ("DDLANGUAGE", 1, True, "C"),
                  ("AS4LOCAL", 1, True, "C"), ("AS4VERS", 4, True, "N"),
                  ("DDTEXT", 60, False, "C")],
        "DD03L": [("TABNAME", 30, True, "C"), ("FIELDNAME", 30, True, "C"),
                  ("AS4LOCAL", 1, True, "C"), ("AS4VERS", 4, True, "N"),
                  ("POSITION", 4, True, "N"), ("KEYFLAG", 1, False, "C"),
                  ("INTTYPE", 1, False, "C"), ("DATATYPE", 4, False, "C"),
                  ("LENG", 6, False, "N"), ("DECIMALS", 6, False, "N")],
    }[table]
    return [SapField(table, name, position, key, "NUMC" if inttype == "N" else "CHAR", inttype,
                     length, 0)
            for position, (name, length, key, inttype) in enumerate(specs, 1)]


# -- row counts and functions ----------------------------------------------------------------
def row_counts(conn: Connection, tables: Sequence[str]) -> tuple[dict[str, int] | None, str | None]:
    """Row counts by table from EM_GET_NUMBER_OF_ENTRIES; when the user may not call it (or
    the system lacks it), None and a note that says why."""
    if not tables:
        return {}, None
    try:
        result = conn.call("EM_GET_NUMBER_OF_ENTRIES",
                           IT_TABLES=[{"TABNAME": name} for name in tables])
    except Exception as err:  # noqa: BLE001 - counts are optional: say why they are missing
        if error_kind(err) in (None, "CommunicationError", "LogonError"):
            raise
        return None, ("row counts unavailable: "
                      + call_error_line(err, "EM_GET_NUMBER_OF_ENTRIES", None, {}))
    return {row["TABNAME"]: int(row["TABROWS"]) for row in result["IT_TABLES"]}, None


def function_exists(conn: Connection, name: str) -> bool:
    """Whether the system has the function module (RFC_GET_FUNCTION_INTERFACE)."""
    try:
        conn.call("RFC_GET_FUNCTION_INTERFACE", FUNCNAME=name)
    except Exception as err:  # noqa: BLE001 - FU_NOT_FOUND is the answer "no"
        if getattr(err, "key", "") == "FU_NOT_FOUND":
            return False
        if error_kind(err) is None:
            raise
        raise SapError(call_error_line(err, "RFC_GET_FUNCTION_INTERFACE", None, {})) from err
    return True


def read_function(conn: Connection, preferred: str | None = None) -> tuple[str, int]:
    """The read function to use and its row width: ``preferred`` when the system has it (an
    error when it does not), else RFC_READ_TABLE."""
    if preferred and preferred != "RFC_READ_TABLE":
        if not function_exists(conn, preferred):
            raise SapError(f"the SAP system has no function {preferred}")
        return preferred, ROW_WIDTHS.get(preferred, 512)
    return "RFC_READ_TABLE", ROW_WIDTHS["RFC_READ_TABLE"]
