"""A small simulated system with a table of every type, for the simulator's and the SAP layer's
tests: ``demo_system()``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from .ddic import Field
from .system import SapSystem

TYPES_FIELDS = [
    Field("MANDT", "CLNT", key=True, text="Client"),
    Field("ID", "NUMC", 4, key=True, text="Identifier"),
    Field("NAME", "CHAR", 20, text="Name"),
    Field("NUMC8", "NUMC", 8, text="Number text"),
    Field("DATE", "DATS", text="Date"),
    Field("TIME", "TIMS", text="Time"),
    Field("AMOUNT", "CURR", 11, 2, text="Amount"),
    Field("QTY", "QUAN", 13, 3, text="Quantity"),
    Field("DEC0", "DEC", 5, 0, text="Whole decimal"),
    Field("I1", "INT1", text="Tiny"),
    Field("I2", "INT2", text="Small"),
    Field("I4", "INT4", text="Integer"),
    Field("I8", "INT8", text="Big"),
    Field("FLOAT", "FLTP", text="Float"),
    Field("RAW", "RAW", 4, text="Bytes"),
    Field("LANGU", "LANG", text="Language"),
    Field("WAERS", "CUKY", text="Currency"),
    Field("MEINS", "UNIT", 3, text="Unit"),
]

TYPES_ROWS = [
    ("100", "0001", "Acme", "00000042", dt.date(2024, 1, 5), dt.time(23, 59, 59),
     Decimal("-123.45"), Decimal("1.500"), Decimal("-7"), 255, -32768, -5, 9007199254740993,
     -1234.5, b"\x01\xab\x00\xff", "E", "EUR", "KG"),
    ("100", "0002", "Bob's Bäckerei", "00000000", "00000000", "000000", Decimal("0"),
     Decimal("-0.001"), Decimal("99999"), 0, 32767, 2147483647, -9223372036854775807, 0.1,
     b"\x00\x00\x00\x00", "D", "USD", "ST"),
    ("100", "0003", "", None, None, None, None, None, None, None, None, None, None, None, None,
     None, None, None),
    ("100", "0004", "O'Neil & Co", "12345678", "99991231", "120000", Decimal("999999999.99"),
     Decimal("-9999999999.999"), Decimal("0"), 1, -1, -2147483647, 0, 6.02214076e23,
     b"\xde\xad\xbe\xef", "E", "EUR", "M"),
    ("200", "0001", "Other client", "00000001", "20240101", "000001", Decimal("1"), Decimal("1"),
     Decimal("1"), 1, 1, 1, 1, 1.0, b"\x01\x02\x03\x04", "E", "EUR", "KG"),
]


def demo_system(**identity) -> SapSystem:
    """Users: RFC_USER/secret may do everything; LIMITED/limited may not read ZSECRET nor call
    EM_GET_NUMBER_OF_ENTRIES or DDIF_FIELDINFO_GET.
    Tables: ZTYPES (every type, client-dependent), KNA1 (customers), ZNOKEY (no key), ZSTRUCT (a
    structure), ZSTRING (with a STRG field), ZOVERFLOW (an amount whose output width is too
    narrow for its values), ZSECRET, a pool and a cluster table."""
    system = SapSystem(**identity)
    system.add_user("RFC_USER", "secret")
    system.add_user("LIMITED", "limited", denied_tables=["ZSECRET*"],
                    denied_functions=["EM_GET_NUMBER_OF_ENTRIES", "DDIF_FIELDINFO_GET"])
    system.table("ZTYPES", TYPES_FIELDS, text="Every DDIC type")
    system.insert("ZTYPES", TYPES_ROWS)
    system.table("KNA1", [Field("MANDT", "CLNT", key=True, text="Client"),
                          Field("KUNNR", "CHAR", 10, key=True, text="Customer"),
                          Field("NAME1", "CHAR", 35, text="Name"),
                          Field("LAND1", "CHAR", 3, text="Country"),
                          Field("ERDAT", "DATS", text="Created on")],
                 text="General Data in Customer Master")
    system.insert("KNA1", [("100", f"{i:010d}", f"Customer {i}", ["DE", "FR", "US"][i % 3],
                            dt.date(2020, 1, 1) + dt.timedelta(days=i)) for i in range(1, 101)])
    system.table("ZNOKEY", [Field("LINE", "CHAR", 10), Field("N", "INT4")], text="No key")
    system.insert("ZNOKEY", [(f"line {i}", i) for i in range(25)])
    system.table("ZSTRUCT", [Field("A", "CHAR", 5), Field("B", "INT4")],
                 tabclass="INTTAB", text="A structure")
    system.table("ZSTRING", [Field("MANDT", "CLNT", key=True), Field("ID", "NUMC", 4, key=True),
                             Field("NOTE", "STRG"), Field("BLOB", "RSTR"),
                             Field("TITLE", "CHAR", 10)], text="With strings")
    system.insert("ZSTRING", [("100", "0001", "a long note", b"\x00", "first")])
    system.table("ZOVERFLOW", [Field("MANDT", "CLNT", key=True), Field("ID", "NUMC", 4, key=True),
                               Field("AMOUNT", "CURR", 15, 2, width=8)],
                 text="Amounts wider than their output")
    system.insert("ZOVERFLOW", [("100", "0001", Decimal("12.5")),
                                ("100", "0002", Decimal("-123456.78"))])
    system.table("ZSECRET", [Field("MANDT", "CLNT", key=True), Field("K", "CHAR", 4, key=True)],
                 text="Secret")
    system.table("ZPOOL", [Field("K", "CHAR", 4, key=True), Field("V", "CHAR", 10)],
                 tabclass="POOL", text="A pool table")
    system.table("ZCLUSTER", [Field("K", "CHAR", 4, key=True), Field("V", "CHAR", 10)],
                 tabclass="CLUSTER", text="A cluster table", inactive=True)
    system.insert("ZPOOL", [("P1", "pooled")])
    return system
