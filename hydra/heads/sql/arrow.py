"""Column conversions to Arrow shared by the SQL head's readers (bulk CSV and DB-API rows).

Everything here is column-wise: Python loops per value only for rare types (arrays, intervals,
bytea from CSV); uuids are decoded from text with numpy in one pass per batch.
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
    """JSON array text (array_to_json) to an Arrow list; nested arrays are flattened."""

    def flat(x):
        if isinstance(x, list):
            out = []
            for item in x:
                out.extend(flat(item) if isinstance(item, list) else [item])
            return out
        return x

    return pa.array([None if v is None else flat(json.loads(v)) for v in arr.to_pylist()], typ)


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
