"""The ABAP Dictionary types the simulator knows, how each is stored in DuckDB, and how
RFC_READ_TABLE writes each into a DATA row (the facts are in reference/sap/RFC_READ_TABLE.md).

A value travels the way RFC_READ_TABLE moves it into its work area: at the field's output width,
in the internal format (no conversion exit, no user formatting):
- character-like (CHAR, CLNT, LANG, CUKY, UNIT): left-aligned, blank-padded;
- NUMC: digits right-aligned with leading zeros;
- DATS ``YYYYMMDD`` (initial ``00000000``), TIMS ``HHMMSS`` (initial ``000000``);
- packed (DEC, CURR, QUAN) and integers: right-aligned in commercial notation — the sign in the
  last position, ``-`` or a blank (``123.45-``); a value wider than the field is cut on the left
  with ``*`` in the first position (ABAP's p → c overflow rule);
- FLTP: ABAP's float form ``-1.2345000000000000E+03`` (17 significant digits), right-aligned;
- RAW: upper-case hex, two characters a byte.
A database NULL arrives as the type's initial value: the ABAP work area cannot hold a NULL.
STRG, SSTR and RSTR have no fixed width; RFC_READ_TABLE cannot move them (see functions.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class DdicType:
    name: str
    inttype: str  # the ABAP internal type RFC_READ_TABLE reports in FIELDS-TYPE
    kind: str  # char, numc, dats, tims, packed, int, float, raw, string
    leng: int | None = None  # the dictionary length when the type fixes it


TYPES: dict[str, DdicType] = {t.name: t for t in (
    DdicType("CHAR", "C", "char"),
    DdicType("CLNT", "C", "char", 3),
    DdicType("LANG", "C", "char", 1),
    DdicType("CUKY", "C", "char", 5),
    DdicType("UNIT", "C", "char"),
    DdicType("NUMC", "N", "numc"),
    DdicType("ACCP", "N", "numc", 6),
    DdicType("DATS", "D", "dats", 8),
    DdicType("TIMS", "T", "tims", 6),
    DdicType("DEC", "P", "packed"),
    DdicType("CURR", "P", "packed"),
    DdicType("QUAN", "P", "packed"),
    DdicType("INT1", "b", "int", 3),
    DdicType("INT2", "s", "int", 5),
    DdicType("INT4", "I", "int", 10),
    DdicType("INT8", "8", "int", 19),
    DdicType("FLTP", "F", "float", 16),
    DdicType("RAW", "X", "raw"),
    DdicType("STRG", "g", "string", 0),
    DdicType("SSTR", "g", "string"),
    DdicType("RSTR", "y", "string", 0),
)}

_INT_STORAGE = {"INT1": "UTINYINT", "INT2": "SMALLINT", "INT4": "INTEGER", "INT8": "BIGINT"}
FLOAT_WIDTH = 24  # '-1.2345678901234567E+308' is 24 characters: no float ever overflows


def _pad_right(text: str, width: int, fill: str = " ") -> str:
    # concatenating a cut of a constant is 5x faster than DuckDB's rpad (measured, 2M rows)
    return f"({text} || substr('{fill * width}', 1, {width} - length({text})))"


def _pad_left(text: str, width: int, fill: str = " ") -> str:
    return f"(substr('{fill * width}', 1, {width} - length({text})) || {text})"


def quote(name: str) -> str:
    """A DuckDB identifier for an SAP name (``/BIC/AZ01``, ``MANDT``)."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class Field:
    """One field of a simulated table, declared as in SE11.

    ``width`` overrides the output width RFC_READ_TABLE uses, to simulate a field whose values
    are wider than the width the function reserves (the ``*`` overflow users complain about)."""

    name: str
    datatype: str
    leng: int = 0
    decimals: int = 0
    key: bool = False
    text: str = ""
    width: int | None = None

    def __post_init__(self):
        if self.datatype not in TYPES:
            raise ValueError(f"unknown DDIC type {self.datatype!r} for {self.name}")
        fixed = TYPES[self.datatype].leng
        if fixed is not None and not self.leng:
            object.__setattr__(self, "leng", fixed)
        if self.leng <= 0 and self.kind != "string":
            raise ValueError(f"{self.name}: {self.datatype} needs a length")
        if self.kind == "packed" and not (0 < self.leng <= 31 and 0 <= self.decimals < self.leng):
            raise ValueError(f"{self.name}: packed length 1..31, decimals below the length")

    @property
    def kind(self) -> str:
        return TYPES[self.datatype].kind

    @property
    def inttype(self) -> str:
        return TYPES[self.datatype].inttype

    @property
    def out_width(self) -> int:
        """The width RFC_READ_TABLE gives the field in a DATA row (FIELDS-LENGTH)."""
        if self.width is not None:
            return self.width
        kind = self.kind
        if kind == "packed":
            return self.leng + (1 if self.decimals else 0) + 1  # decimal point, sign
        if kind == "int":
            return self.leng + 1  # digits and the sign position
        if kind == "float":
            return FLOAT_WIDTH
        if kind == "raw":
            return 2 * self.leng
        if kind == "string":
            return 0
        return self.leng

    @property
    def intlen(self) -> int:
        """DD03L-INTLEN: bytes in a Unicode system."""
        kind = self.kind
        if kind in ("char", "numc", "dats", "tims"):
            return 2 * self.leng
        if kind == "packed":
            return self.leng // 2 + 1
        if kind == "int":
            return {"INT1": 1, "INT2": 2, "INT4": 4, "INT8": 8}[self.datatype]
        if kind == "float":
            return 8
        if kind == "raw":
            return self.leng
        return 8  # a string reference

    @property
    def storage(self) -> str:
        """The DuckDB column type holding the field's values."""
        kind = self.kind
        if kind == "packed":
            return f"DECIMAL({self.leng},{self.decimals})"
        if kind == "int":
            return _INT_STORAGE[self.datatype]
        if kind == "float":
            return "DOUBLE"
        if kind == "raw" or self.datatype == "RSTR":
            return "BLOB"
        return "VARCHAR"

    def format_sql(self) -> str:
        """DuckDB SQL that renders the field exactly as RFC_READ_TABLE puts it in a DATA row."""
        col, w, kind = quote(self.name), self.out_width, self.kind
        if kind == "char":
            return _pad_right(f"coalesce({col}, '')", w)
        if kind == "numc":
            return _pad_left(f"coalesce({col}, '')", w, "0")
        if kind == "dats":
            return _pad_right(f"coalesce(nullif({col}, ''), '00000000')", w)
        if kind == "tims":
            return _pad_right(f"coalesce(nullif({col}, ''), '000000')", w)
        if kind in ("packed", "int"):
            value = f"coalesce({col}, 0)" + ("::HUGEINT" if kind == "int" else "")
            text = (f"(abs({value})::VARCHAR"
                    f" || CASE WHEN {col} < 0 THEN '-' ELSE ' ' END)")
            if self._widest_text <= w:  # cannot overflow: no test needed
                return _pad_left(text, w)
            return (f"CASE WHEN length({text}) > {w} THEN '*' || right({text}, {w - 1})"
                    f" ELSE {_pad_left(text, w)} END")
        if kind == "float":
            return _pad_left(f"printf('%.16E', coalesce({col}, 0)::DOUBLE)", w)
        if kind == "raw":
            return _pad_right(f"coalesce(hex({col}), '')", w, "0")
        raise ValueError(f"{self.name}: {self.datatype} cannot be formatted")

    @property
    def _widest_text(self) -> int:
        """The most characters a packed or integer value's text can take, sign included."""
        if self.kind == "packed":
            return self.leng + (1 if self.decimals else 0) + 1
        return {"INT1": 3, "INT2": 5, "INT4": 10, "INT8": 19}[self.datatype] + 1

    def python_value(self, value):
        """A Python value normalised to how the database holds it (CHAR without trailing
        blanks, DATS/TIMS as text, packed as Decimal, RAW as bytes)."""
        if value is None:
            return None
        kind = self.kind
        if kind in ("char", "numc") and len(str(value).rstrip(" ")) > self.leng:
            raise ValueError(f"{self.name}: {value!r} is longer than {self.datatype} {self.leng}")
        if kind == "char":
            return str(value).rstrip(" ")
        if kind == "numc":
            return str(value)
        if kind == "dats":
            return value.strftime("%Y%m%d") if isinstance(value, dt.date) else str(value)
        if kind == "tims":
            return value.strftime("%H%M%S") if isinstance(value, dt.time) else str(value)
        if kind == "packed":
            return Decimal(str(value))
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
        if kind == "raw":
            return bytes(value)
        return value
