"""Column conversions to Arrow shared by the SQL head's readers (bulk CSV and DB-API rows).

Everything here is column-wise: Python loops per value only for rare types (intervals, bytea
from CSV, bytea and multi-dimensional arrays); uuids are decoded from text with numpy in one pass per batch.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hydra.heads.sql.types import arrow_type

_HEX = np.full(256, 0, dtype=np.uint8)
for _i, _c in enumerate(b"0123456789abcdef"):
    _HEX[_c] = _i
for _i, _c in enumerate(b"ABCDEF"):
    _HEX[_c] = 10 + _i
# positions of the 32 hex digits in the 36-character text form 8-4-4-4-12
_UUID_POS = np.array([i for i in range(36) if i not in (8, 13, 18, 23)], dtype=np.int64)


def uuid_from_text(arr: pa.Array) -> pa.Array:
    """Text uuids ('xxxxxxxx-xxxx-…', 36 chars) to Arrow's uuid extension type, vectorised."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.type not in (pa.string(), pa.large_string()):
        arr = arr.cast(pa.string())
    n = len(arr)
    valid = arr.is_valid().to_numpy(zero_copy_only=False)
    lengths = pc.utf8_length(arr).fill_null(36).to_numpy(zero_copy_only=False)
    if (lengths != 36).any():  # braces, no dashes…: rare, do it the slow way
        import uuid

        return pa.array([None if v is None else uuid.UUID(v).bytes for v in arr.to_pylist()], pa.uuid())
    width = np.int64 if arr.type == pa.large_string() else np.int32
    offsets = np.frombuffer(arr.buffers()[1], dtype=width)[arr.offset: arr.offset + n + 1]
    data_buf = arr.buffers()[2]
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0, np.uint8)
    out = np.zeros((n, 16), dtype=np.uint8)
    n_valid = int(valid.sum())
    if n_valid:
        # nulls are empty strings, so the valid values are contiguous 36-byte records
        text = data[int(offsets[0]): int(offsets[-1])].reshape(n_valid, 36)
        nib = (text & 0x0F) + 9 * (text >> 6)  # hex digit value for 0-9, a-f and A-F
        packed = np.empty((n_valid, 16), dtype=np.uint8)
        k = 0
        for a, b in ((0, 8), (9, 13), (14, 18), (19, 23), (24, 36)):
            width = (b - a) // 2
            packed[:, k:k + width] = (nib[:, a:b:2] << 4) | nib[:, a + 1:b:2]
            k += width
        if n_valid == n:
            out = packed
        else:
            out[valid] = packed
    validity = pa.array(valid, pa.bool_()).buffers()[1] if arr.null_count else None
    storage = pa.FixedSizeBinaryArray.from_buffers(pa.binary(16), n, [validity, pa.py_buffer(out)])
    return pa.ExtensionArray.from_storage(pa.uuid(), storage)


def interval_from_parts(arr: pa.Array) -> pa.Array:
    """'months days microseconds' text (built by the PostgreSQL query) to month_day_nano."""
    values = []
    for v in arr.to_pylist():
        if v is None:
            values.append(None)
        else:
            m, d, us = v.split(" ")
            values.append(pa.MonthDayNano([int(m), int(d), int(us) * 1000]))
    return pa.array(values, pa.month_day_nano_interval())


def bytea_from_hex(arr: pa.Array) -> pa.Array:
    r"""PostgreSQL's hex output ('\x0a0b…') to binary."""
    return pa.array([None if v is None else bytes.fromhex(v[2:]) for v in arr.to_pylist()], pa.binary())


def list_from_json(arr: pa.Array, typ: pa.DataType) -> pa.Array:
    """PostgreSQL arrays sent as JSON arrays of their elements' text (``array_expr``) to an Arrow
    list of ``typ``'s values; nested (multi-dimensional) arrays are flattened.

    Arrow's JSON reader parses every row at once into lists of text, and each element is then
    converted from PostgreSQL's text form, column-wise. A ``json.loads`` per row, as before,
    cost ~7 µs a row (50,000 rows of two array columns: 0.7 s) and failed on NaN in a float
    array, 'infinity' in a date array, timestamps, uuids, json and numerics."""
    texts = _json_lists(arr)
    values = _values_from_text(texts.flatten(), typ.value_type)
    offsets = pc.subtract(texts.offsets, texts.offsets[0])
    return pa.ListArray.from_arrays(offsets, values, type=typ, mask=texts.is_null())


def _json_lists(arr: pa.Array) -> pa.ListArray:
    """JSON arrays of strings (or NULL) to list<string>; nested arrays flattened, in Python."""
    import pyarrow.json as pj

    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    big = pa.large_string()
    lines = pc.binary_join_element_wise(pa.scalar('{"v":', big), pc.fill_null(arr.cast(big), pa.scalar("null", big)),
                                        pa.scalar("}\n", big), pa.scalar("", big))
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)[lines.offset:lines.offset + len(lines) + 1]
    body = lines.buffers()[2][offsets[0]:offsets[-1]] if len(lines) else pa.py_buffer(b"")
    schema = pa.schema([("v", pa.list_(pa.string()))])
    try:
        table = pj.read_json(pa.BufferReader(body),
                             read_options=pj.ReadOptions(use_threads=False, block_size=max(len(body), 1 << 16) + 1),
                             parse_options=pj.ParseOptions(explicit_schema=schema))
    except pa.ArrowInvalid:  # a multi-dimensional array: not a list of strings
        return pa.array([None if v is None else _flat(json.loads(v)) for v in arr.to_pylist()], pa.list_(pa.string()))
    if table.num_rows != len(arr):
        raise ValueError(f"array text read as {table.num_rows} rows, expected {len(arr)}")
    return table.column("v").combine_chunks() if table.num_rows else pa.array([], pa.list_(pa.string()))


def _flat(x: list) -> list:
    out = []
    for item in x:
        out.extend(_flat(item) if isinstance(item, list) else [item])
    return out


# DuckDB's infinite dates and timestamps (what the scalar readers produce for 'infinity')
_INFINITE = ("infinity", "-infinity")


def _values_from_text(texts: pa.Array, typ: pa.DataType) -> pa.Array:
    """Array elements in PostgreSQL's text form (``col::text[]``) as ``typ``."""
    t = pa.types
    if t.is_string(typ):
        return texts
    if isinstance(typ, pa.BaseExtensionType):
        if typ.extension_name == "arrow.uuid":
            return uuid_from_text(texts)
        return pa.ExtensionArray.from_storage(typ, texts.cast(typ.storage_type))  # json
    if t.is_binary(typ):  # bytea's hex form '\x0a0b'
        return bytea_from_hex(texts)
    if t.is_decimal(typ):  # NaN read as NULL, as in a numeric(p,s) column
        return pc.if_else(pc.equal(texts, "NaN"), pa.scalar(None, pa.string()), texts).cast(typ)
    if t.is_date32(typ) or t.is_timestamp(typ):
        return _temporal_from_text(texts, typ)
    return texts.cast(typ)  # integers, floats ('NaN', 'Infinity'), booleans ('true', 'false')


def _temporal_from_text(texts: pa.Array, typ: pa.DataType) -> pa.Array:
    width = np.int32 if pa.types.is_date32(typ) else np.int64
    top = np.iinfo(width).max
    sign = pc.fill_null(pc.index_in(texts, pa.array(_INFINITE)), -1).to_numpy(zero_copy_only=False)
    finite = pc.if_else(pc.greater_equal(sign, 0), pa.scalar(None, pa.string()), texts)
    try:
        parsed = finite.cast(typ)
    except pa.ArrowInvalid as err:  # years BC ('0044-03-15 BC'): no Arrow parser takes them
        raise ValueError(f"an array element Hydra cannot read as {typ}: {str(err).splitlines()[0]}") from None
    values = pc.fill_null(parsed.cast(pa.int32() if width is np.int32 else pa.int64()), 0).to_numpy()
    values = np.where(sign == 0, top, np.where(sign == 1, -top, values)).astype(width)
    return pa.Array.from_buffers(typ, len(texts), [texts.is_valid().buffers()[1] if texts.null_count else None,
                                                   pa.py_buffer(values)])


# -- DB-API rows to Arrow ---------------------------------------------------------------------


def _to_micro_interval(v):
    """A driver's timedelta (MySQL's TIME: a duration up to ±838 hours) as microseconds alone, the
    way the bulk path reads it: DuckDB then prints it as MySQL does ('-838:59:59')."""
    if isinstance(v, timedelta):
        return pa.MonthDayNano([0, 0, ((v.days * 86_400 + v.seconds) * 1_000_000 + v.microseconds) * 1000])
    return v


def _iso(kind, value):
    """An ISO date/datetime from text (SQLite), or None for anything else (zero dates…)."""
    if not isinstance(value, str):
        return None
    try:
        return kind.fromisoformat(value)
    except ValueError:
        return None


def _clean(values: list, duck: str) -> list:
    """Coerce driver values that Arrow would refuse (zero dates, bit strings…) column-wise."""
    d = duck.upper()
    if d == "DATE":
        return [v.date() if isinstance(v, datetime) else v if v is None or isinstance(v, date)
                else _iso(date, v) for v in values]
    if d.startswith("TIMESTAMP"):
        tz = "TIME ZONE" in d
        out = []
        for v in values:
            if isinstance(v, datetime):
                if tz:
                    v = v.replace(tzinfo=timezone.utc) if v.tzinfo is None else v.astimezone(timezone.utc)
                out.append(v)
            elif isinstance(v, str) and _iso(datetime, v) is not None:  # SQLite keeps text
                out.append(_iso(datetime, v).replace(tzinfo=timezone.utc) if tz else _iso(datetime, v))
            else:
                out.append(None)  # zero dates and other invalid values
        return out
    if d == "INTERVAL":
        return [_to_micro_interval(v) for v in values]
    if d == "TIME":
        return [v if v is None or isinstance(v, time) else None for v in values]
    if d == "UBIGINT":
        return [int.from_bytes(v, "big") if isinstance(v, (bytes, bytearray)) else v for v in values]
    if d == "BOOLEAN":
        return [v if v is None or isinstance(v, bool) else bool(int.from_bytes(v, "big")) if isinstance(v, (bytes, bytearray)) else bool(v) for v in values]
    if d == "BLOB":
        return [v.encode() if isinstance(v, str) else v for v in values]
    if d == "UUID":
        return [None if v is None else (v.bytes if hasattr(v, "bytes") else __import__("uuid").UUID(str(v)).bytes) for v in values]
    if d in ("VARCHAR", "JSON"):
        return [v if v is None or isinstance(v, str) else (v.decode("utf-8", "replace") if isinstance(v, (bytes, bytearray)) else (json.dumps(v) if isinstance(v, (dict, list)) else str(v))) for v in values]
    if d.startswith("DECIMAL"):
        return [v if v is None or isinstance(v, Decimal) else Decimal(str(v)) for v in values]
    return values


def column_from_values(values: list, duck: str) -> pa.Array:
    """A list of driver values for one column to an Arrow array of the mapped type."""
    typ = arrow_type(duck)
    if typ is None:
        return pa.array([None if v is None else str(v) for v in values], pa.string())
    try:
        if isinstance(typ, pa.ExtensionType):
            if typ == pa.uuid():
                return pa.ExtensionArray.from_storage(typ, pa.array(_clean(values, duck), pa.binary(16)))
            return pa.ExtensionArray.from_storage(typ, pa.array(_clean(values, duck), pa.string()))
        if duck.upper() == "INTERVAL":  # Arrow would split a timedelta into days and a time of day
            return pa.array(_clean(values, duck), typ)
        try:
            return pa.array(values, typ)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
            return pa.array(_clean(values, duck), typ)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        return pa.array([None if v is None else str(v) for v in values], pa.string())
