"""A wide generated table for size tests: 200 fields, about 3,000 characters a row, a composite
key (MANDT, DOCNR, ITEM), every DDIC type RFC_READ_TABLE can return, negative amounts, initial
dates, quotes and non-ASCII letters in the text — computed by SQL from the row number, so 1M rows
exist in a second (see ``declare_wide_table``)."""

from __future__ import annotations

from .ddic import Field
from .system import SapSystem

#: One cycle of non-key fields (type, length, decimals); repeated up to the field count.
CYCLE = [("CHAR", 30, 0), ("NUMC", 12, 0), ("DATS", 8, 0), ("TIMS", 6, 0), ("CURR", 15, 2),
         ("CHAR", 40, 0), ("QUAN", 13, 3), ("INT4", 10, 0), ("CHAR", 30, 0), ("FLTP", 16, 0),
         ("RAW", 8, 0), ("CUKY", 5, 0), ("INT8", 19, 0), ("CHAR", 15, 0), ("DEC", 9, 0),
         ("INT2", 5, 0), ("UNIT", 3, 0), ("INT1", 3, 0), ("LANG", 1, 0), ("CHAR", 30, 0)]
KEY = [Field("MANDT", "CLNT", key=True, text="Client"),
       Field("DOCNR", "CHAR", 10, key=True, text="Document"),
       Field("ITEM", "NUMC", 6, key=True, text="Item")]


def wide_fields(count: int = 200) -> list[Field]:
    fields = list(KEY)
    for j in range(count - len(KEY)):
        datatype, leng, decimals = CYCLE[j % len(CYCLE)]
        fields.append(Field(f"F{j:03d}", datatype, leng, decimals, text=f"Field {j}"))
    return fields


def _value_sql(field: Field, j: int) -> str:
    """A cheap, deterministic expression of the row number ``i`` and the per-row hex text ``b``
    (64 characters) for non-key field number ``j``."""
    p = 7919 + 104729 * j  # a different multiplier a field
    kind, n = field.kind, field.leng
    if kind == "char":
        text = f"substr(b, {j % 24 + 1}, {n})"
        if j % 3 == 0:  # quotes, non-ASCII letters and initial values appear in the text
            text = (f"CASE WHEN i % 11 = 0 THEN '' WHEN i % 7 = 0 THEN substr('O''Ä ' || {text},"
                    f" 1, {n}) ELSE {text} END")
        return text
    if kind == "numc":
        return f"lpad(((i * {p}) % {10 ** n})::VARCHAR, {n}, '0')"
    if kind == "dats":
        return (f"CASE WHEN i % 13 = {j % 13} THEN '00000000' ELSE ((2000 + (i + {j}) % 30)"
                f" * 10000 + (1 + (i * 3 + {j}) % 12) * 100 + 1 + (i * 7 + {j}) % 28)::VARCHAR"
                " END")
    if kind == "tims":
        return (f"lpad((((i + {j}) % 24) * 10000 + ((i * 7 + {j}) % 60) * 100"
                f" + (i * 13 + {j}) % 60)::VARCHAR, 6, '0')")
    if kind == "packed":  # an exact decimal: an integer times 10^-decimals, half negative
        half = 10 ** min(n, 18) // 2
        scale = f" * 0.{'0' * (field.decimals - 1)}1" if field.decimals else ""
        return f"(((i * {p}) % {2 * half}) - {half}){scale}"
    if kind == "int":
        bound = {"INT1": 256, "INT2": 32768, "INT4": 2 ** 31, "INT8": 2 ** 62}[field.datatype]
        if field.datatype == "INT1":
            return f"(i * {p}) % 256"
        return f"((i * {p}) % {2 * bound - 1}) - {bound - 1}"
    if kind == "float":
        return f"((i * {p}) % 2000003 - 1000000) / 7.0"
    if kind == "raw":
        return f"from_hex(substr(b, {j % 32 + 1}, {2 * n}))"
    raise ValueError(field.datatype)


def wide_select_sql(fields: list[Field], source: str) -> str:
    """The SELECT that computes the table's rows from ``source`` (a table or subquery with the
    row number ``i`` and the key columns MANDT, DOCNR, ITEM)."""
    values = ["MANDT", "DOCNR", "ITEM"] + [_value_sql(f, j)
                                           for j, f in enumerate(fields[len(KEY):])]
    return (f"SELECT {', '.join(values)} FROM (SELECT *, m || reverse(m) AS b"
            f" FROM (SELECT *, md5(i::VARCHAR) AS m FROM {source}))")


def keys_sql(rows: int) -> str:
    """Row numbers and keys, in key order: ten items a document."""
    return ("SELECT i, '100' AS MANDT, lpad((i // 10)::VARCHAR, 10, '0') AS DOCNR,"
            f" lpad((i % 10 * 10 + 10)::VARCHAR, 6, '0') AS ITEM FROM range({rows}) t(i)")


def declare_wide_table(system: SapSystem, name: str = "ZWIDE", rows: int = 1_000_000,
                       fields: int = 200, stored: bool = False) -> list[Field]:
    """Declare the wide table with ``rows`` rows and return its fields.

    By default only the keys are stored (a DuckDB table in key order, so a key range reads only
    its row groups) and the other fields are computed from the row number by a view: 1M rows
    exist in about a second and a page costs what its rows cost. ``stored=True`` materializes
    every value instead (measured: 52 s and 2.8 GiB in memory for 1M rows on a loaded machine)."""
    declared = wide_fields(fields)
    if stored:
        system.table(name, declared, text="Wide generated table")
        system.insert_sql(name, wide_select_sql(declared, f"({keys_sql(rows)})"))
    else:
        keys = f"{name}__KEYS"
        system.sql(f'CREATE TABLE "{keys}" AS {keys_sql(rows)}')
        system.table(name, declared, text="Wide generated table",
                     sql=wide_select_sql(declared, f'"{keys}"'))
    return declared
