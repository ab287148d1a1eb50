"""MySQL/MariaDB bulk path: the ``mysql`` client's batch output decoded by Arrow's CSV reader.

PyMySQL parses every row in Python (5–9× slower than the wire). The ``mysql``/``mariadb`` command-line
client decodes the protocol in C; Hydra runs it with ``--batch --raw`` and a SELECT that makes its
tab-separated output unambiguous:

* text-like columns go through ``QUOTE()``: a NULL is the bare word ``NULL`` while the string
  'NULL' arrives quoted, and tabs/newlines inside values are inside quotes;
* binary columns as ``HEX()`` (both return NULL for a result longer than max_allowed_packet: such a
  value comes as a marker and fails the read, ``_check_markers``), BIT as a number, FLOAT as the DOUBLE holding it (its text has 6
  digits), zero and invalid dates as NULL (``valid_date_expr``);
* the session is ``READ ONLY`` with ``time_zone = '+00:00'``, like the driver's sessions.

The password reaches the child through ``MYSQL_PWD`` (never the command line). URLs with options
this path cannot pass on (ssl, unix sockets…) use the driver's streaming cursor instead. Caveat:
``QUOTE()`` escapes NUL and Ctrl-Z as ``\\0``/``\\Z``, which come back as ``0``/``Z``.
"""

from __future__ import annotations

import io
import os
import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hydra.core.model import Column, Element
from hydra.heads.base import HeadError

if TYPE_CHECKING:
    import pyarrow as pa

    from hydra.heads.sql.head import SqlHead

BLOCK_SIZE = 1 << 22
_GEOMETRY = ("geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon",
             "geometrycollection")
_SIMPLE_QUERY = {"charset"}


def client_binary() -> str | None:
    return shutil.which("mariadb") or shutil.which("mysql")


def usable(head: SqlHead) -> bool:
    if head.bulk == "cursor" or client_binary() is None:
        return False
    try:
        url = head.url
    except Exception:  # noqa: BLE001 - an unusable URL: the generic path says why
        return False
    return set(url.query) <= _SIMPLE_QUERY and url.get_driver_name() in ("pymysql", "mysqldb")


@dataclass
class _Plan:
    column: Column
    expr: str
    csv_type: object
    post: str | None  # 'uuid', 'json', 'hex', 'time', 'cast'
    marker: str | None = None  # what the expression sends for a value too long for it (``_check_markers``)


def _plan(head: SqlHead, cols: list[Column]) -> list[_Plan]:
    import pyarrow as pa

    from hydra.heads.sql.types import arrow_type

    out = []
    for c in cols:
        q = head.quote(c.name)
        duck = c.type.upper()
        base = (c.source_type or "").lower().split("(")[0].split(" ")[0]
        if duck == "VARCHAR" and base in _GEOMETRY:
            out.append(_Plan(c, _quoted(f"ST_AsText({q})"), pa.string(), None, TOO_LONG_TEXT))
        elif duck == "VARCHAR" and c.note:  # another type read as text: its text form
            out.append(_Plan(c, _quoted(f"CAST({q} AS CHAR)"), pa.string(), None, TOO_LONG_TEXT))
        elif duck in ("VARCHAR", "JSON"):
            out.append(_Plan(c, _quoted(q), pa.string(), "json" if duck == "JSON" else None, TOO_LONG_TEXT))
        elif duck == "UUID":
            out.append(_Plan(c, q, pa.string(), "uuid"))
        elif duck == "BLOB":
            out.append(_Plan(c, f"COALESCE(HEX({q}), IF({q} IS NULL, NULL, '{TOO_LONG_HEX}'))", pa.string(), "hex",
                             TOO_LONG_HEX))
        elif base == "bit":
            out.append(_Plan(c, f"{q} + 0", arrow_type(duck), None))
        elif duck == "FLOAT":
            out.append(_Plan(c, float_expr(q), pa.float64(), "cast"))
        elif duck == "DATE":
            out.append(_Plan(c, valid_date_expr(q), pa.date32(), None))
        elif duck.startswith("TIMESTAMP"):
            out.append(_Plan(c, valid_date_expr(q), pa.timestamp("us"), "cast" if "ZONE" in duck else None))
        elif duck == "INTERVAL":
            out.append(_Plan(c, q, pa.string(), "time"))
        else:
            typ = arrow_type(duck)
            out.append(_Plan(c, q, typ if typ is not None else pa.string(), None))
    return out


# QUOTE() and HEX() return NULL, not an error, for a result longer than max_allowed_packet (a
# 10 MB BLOB's HEX() under the default 16 MB): read as it comes, that value would be NULL in the
# copy. Such a value is sent as a marker no real value can be instead — for text a bare NUL byte
# (QUOTE() escapes a NUL as \0), for HEX() a character that is no hex digit — and the read fails
# on it, naming the column (``_check_markers``).
TOO_LONG_TEXT = "\x00"
TOO_LONG_HEX = "!"


def _quoted(expr: str) -> str:
    return f"COALESCE(QUOTE({expr}), CHAR(0))"  # QUOTE(NULL) is the word NULL: only too long is NULL


def _check_markers(plan: _Plan, arr) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_string(arr.type) and pc.any(pc.equal(arr, plan.marker)).as_py():
        raise HeadError(f"column {plan.column.name!r} holds a value longer than the server's max_allowed_packet lets "
                        f"QUOTE()/HEX() return, which the mysql client would read as NULL: read this source with "
                        f"(BULK 'cursor')")


def valid_date_expr(q: str) -> str:
    """A DATE/DATETIME/TIMESTAMP, NULL where it is not a real date: zero dates ('0000-00-00',
    '2024-00-15') and, under ALLOW_INVALID_DATES, days a month does not have ('2024-02-30').
    Date arithmetic returns NULL for exactly those, and the value itself for every other date,
    printed as the column prints (its fractional digits; a TIMESTAMP in the session's time zone).
    The sum itself, not ``IF(sum IS NULL, NULL, col)``: the IF doubled the server's cost of a date
    column (1M rows: 0.52 CPU-s over the scan for COUNT/MIN/MAX of it, 0.23 without the IF)."""
    return f"({q} + INTERVAL 0 DAY)"


def float_expr(q: str) -> str:
    """A FLOAT as its exact value: MySQL's text protocol prints a FLOAT with 6 significant
    digits (16777216 comes out as 16777200); the DOUBLE holding it prints every digit."""
    return f"CAST({q} AS DOUBLE)"


def cursor_exprs(head: SqlHead, cols: list[Column]) -> list[str]:
    """SELECT expressions for the DB-API cursor path: geometries as WKT, floats and dates as the
    bulk path reads them, the rest as they are."""
    out = []
    for c in cols:
        base = (c.source_type or "").lower().split("(")[0].split(" ")[0]
        duck = c.type.upper()
        q = head.quote(c.name)
        if base in _GEOMETRY:
            out.append(f"ST_AsText({q})")
        elif duck == "FLOAT":
            out.append(float_expr(q))
        elif duck == "DATE" or duck.startswith("TIMESTAMP"):
            out.append(valid_date_expr(q))
        else:
            out.append(q)
    return out


_TIME_TEXT = r"^(?P<h>[0-9]+):(?P<m>[0-9]+):(?P<s>[0-9]+)(?:\.(?P<f>[0-9]*))?$"


def _time_to_interval(arr):
    """MySQL TIME text ('12:34:56', '-838:59:59', '25:00:00.5') as Arrow intervals, vectorised.

    A TIME is a duration (up to ±838 hours), not days and a time of day: all microseconds, so
    that DuckDB prints it as MySQL does ('-838:59:59', '25:00:00.5'). Parsed with Arrow compute
    and numpy, not value by value: the Python loop this replaces took 0.7 of the 1.1 CPU-seconds
    py-spy sampled in hydra for 1M rows of bench_sql_shapes' timestamp table (one TIME column)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    n = len(arr)
    negative = pc.starts_with(arr, "-").fill_null(False).to_numpy(zero_copy_only=False)
    parts = pc.extract_regex(pc.fill_null(pc.utf8_ltrim(arr, characters="-"), "0:0:0"), _TIME_TEXT)
    if parts.null_count:  # not a TIME's text: say which value
        bad = arr.filter(pc.and_(pc.is_null(parts), pc.is_valid(arr)))[0].as_py()
        raise ValueError(f"not a MySQL TIME: {bad!r}")

    def ints(name):
        return pc.cast(pc.struct_field(parts, name), pa.int64()).to_numpy(zero_copy_only=False)

    # the fraction padded to microseconds: '5' → 500000, '' (none) → 0
    frac = pc.utf8_slice_codeunits(pc.utf8_rpad(pc.struct_field(parts, "f"), 6, "0"), 0, 6)
    micros = ((ints("h") * 60 + ints("m")) * 60 + ints("s")) * 1_000_000 + pc.cast(frac, pa.int64()).to_numpy()
    values = np.zeros(n, dtype=[("months", "<i4"), ("days", "<i4"), ("nanos", "<i8")])
    values["nanos"] = np.where(negative, -micros, micros) * 1000
    validity = pc.is_valid(arr).buffers()[1] if arr.null_count else None
    return pa.Array.from_buffers(pa.month_day_nano_interval(), n, [validity, pa.py_buffer(values.tobytes())],
                                 null_count=arr.null_count)


def _hex_to_binary(arr):
    """``HEX()`` text as bytes, vectorised with numpy (``bytes.fromhex`` value by value cost
    about 0.3 µs a value in Python)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.type != pa.string():
        arr = arr.cast(pa.string())
    n = len(arr)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset: arr.offset + n + 1]
    data = arr.buffers()[2]
    text = np.frombuffer(data, dtype=np.uint8)[offsets[0]: offsets[-1]] if data is not None else np.zeros(0, np.uint8)
    if len(text) % 2 or ((np.diff(offsets) % 2) != 0).any():
        raise ValueError("HEX() text of odd length")
    # a hex digit's value: '0'-'9' → 0-9, 'A'-'F'/'a'-'f' → 10-15
    nib = (text & 0x0F) + 9 * (text >> 6)
    if len(text) and not np.isin(text, np.frombuffer(b"0123456789ABCDEFabcdef", np.uint8)).all():
        raise ValueError("not HEX() text")
    out = (nib[0::2] << 4) | nib[1::2]
    validity = pc.is_valid(arr).buffers()[1] if arr.null_count else None
    return pa.Array.from_buffers(pa.binary(), n, [validity, pa.py_buffer(((offsets - offsets[0]) // 2).astype(np.int32)),
                                                 pa.py_buffer(out.astype(np.uint8).tobytes())],
                                 null_count=arr.null_count)


def _post(plan: _Plan, arr, field):
    import pyarrow as pa

    from hydra.heads.sql import arrow as sql_arrow

    if plan.marker is not None:
        _check_markers(plan, arr)
    if plan.post is None:
        return arr
    if plan.post == "uuid":
        return sql_arrow.uuid_from_text(arr)
    if plan.post == "json":
        return pa.ExtensionArray.from_storage(pa.json_(), arr)
    if plan.post == "hex":
        return _hex_to_binary(arr)
    if plan.post == "time":
        return _time_to_interval(arr)
    if plan.post == "cast":
        return arr.cast(field.type)
    return arr


SESSION_SQL = "SET SESSION TRANSACTION READ ONLY; SET time_zone = '+00:00'"
READY = "hydra-ready"  # what a client started by ``start_connected`` prints once it is connected


def command(head: SqlHead, sql: str | None, unbuffered: bool = False):
    """The client's argv and environment to run ``sql`` (None: the client reads its statements
    from stdin, ``start_connected``); ``unbuffered``: its output is flushed after each statement
    (the first lines are awaited while the rest runs)."""
    url = head.url
    argv = [client_binary(), "--batch", "--raw", "--skip-column-names", "--default-character-set=utf8mb4",
            "--connect-timeout=10", "--quick", "--no-auto-rehash"] + (["--unbuffered"] if unbuffered else [])
    if url.host:
        argv += ["-h", url.host, "--protocol=TCP"]
    if url.port:
        argv += ["-P", str(url.port)]
    if url.username:
        argv += ["-u", url.username]
    if url.database:
        argv += ["-D", url.database]
    env = dict(os.environ)
    password = head.password()
    if password:
        env["MYSQL_PWD"] = str(password)
    else:
        env.pop("MYSQL_PWD", None)
    if sql is not None:
        argv += ["-e", f"{SESSION_SQL}; {joined(head, sql)}"]
    return argv, env


def joined(head: SqlHead, sql: str) -> str:
    """``sql`` after the statements that join the current snapshot, if any."""
    from hydra.heads.sql.snapshot import joining

    return "".join(f"{statement}; " for statement in joining(head, explicit_begin=True)) + sql


def start_connected(head: SqlHead):
    """A client started, connected and its session set up, that waits on stdin for the statements
    ``send`` gives it: (the process, its buffered stdout, whether it connected).

    The reader whose figures are taken beside it is started so before the table is locked
    (``snapshot.Beside``): the lock is then held while the client runs two statements (1.1 ms
    median, 2.7 ms at worst, in 30 EXTRACTs of a 100k-row table on a quiet machine), not while it
    starts and connects (10 ms median, 39 ms at worst, before; more on a loaded machine)."""
    from hydra.heads.sql.postgres import start_client

    argv, env = command(head, None, unbuffered=True)
    proc = start_client(argv, env, stdin=True)
    stream = io.BufferedReader(proc.stdout, buffer_size=BLOCK_SIZE)
    send(proc, f"{SESSION_SQL}; SELECT '{READY}'")
    return proc, stream, stream.readline() == f"{READY}\n".encode()  # else the client says why (stderr)


def send(proc, statements: str, last: bool = False) -> None:
    """Give a client started by ``start_connected`` its next statements; ``last``: then no more
    (its stdin is closed, so it exits after them)."""
    try:
        proc.stdin.write(f"{statements};\n".encode())
        proc.stdin.flush()
        if last:
            proc.stdin.close()
    except BrokenPipeError:  # the client has exited (it could not connect): its stderr says why
        pass


def read(head: SqlHead, element: Element, columns=None, quals=None, limit=None,
         prelude=None) -> pa.RecordBatchReader:
    """``prelude``: ``snapshot.prelude``'s, for the one reader of an element's snapshot: the
    identity and figures are taken in that snapshot, the figures beside the reader when the table
    can be locked for an instant, else by the reader before its rows."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    from hydra.heads.sql.types import arrow_type

    cols = head._columns(element, columns)
    if not cols:
        return head._read_cursor(element, columns, quals, limit)
    plans = _plan(head, cols)
    sql, _ = head.select_sql(element, columns, quals, limit, expressions=[p.expr for p in plans])
    schema = pa.schema([pa.field(p.column.name, arrow_type(p.column.type) or pa.string()) for p in plans])
    names = [f"c{i}" for i in range(len(plans))]
    ref = head.ref(element.parts)  # errors name the element by its ref
    read_options = pcsv.ReadOptions(column_names=names, block_size=BLOCK_SIZE, use_threads=False)
    parse_options = pcsv.ParseOptions(delimiter="\t", quote_char="'", escape_char="\\", double_quote=False,
                                      newlines_in_values=True, ignore_empty_lines=False)
    convert_options = pcsv.ConvertOptions(
        column_types={n: p.csv_type for n, p in zip(names, plans)}, null_values=["NULL"],
        strings_can_be_null=True, quoted_strings_can_be_null=False,
    )
    from hydra.heads.sql.postgres import _cleanup, start_client

    beside, lines, proc = False, [], None
    try:
        if prelude is None:
            argv, env = command(head, sql)
            proc = start_client(argv, env)
            stream = io.BufferedReader(proc.stdout, buffer_size=BLOCK_SIZE)
        else:
            proc, stream, ready = start_connected(head)
            beside = ready and prelude.beside.lock()
            if beside:
                # the figures are taken beside this reader: its snapshot starts while the table is
                # locked, which it stays until the identity line shows that snapshot started
                try:
                    send(proc, joined(head, f"{prelude.identity_sql}; {sql}"), last=True)
                    lines = [stream.readline()]
                finally:
                    prelude.beside.unlock()
            elif ready:
                send(proc, joined(head, "; ".join([*prelude.statements, sql])), last=True)
                lines = [stream.readline(), stream.readline()]
            else:
                lines = [b""]  # the client could not connect: its error is reported below
    except BaseException:
        if beside:
            prelude.beside.discard()
        if proc is not None:
            _cleanup(proc, None, None, failed=True)
        raise

    def failure(err=None) -> str:
        text = _cleanup(proc, None, None, failed=True)
        return head._clean(text or (str(err) if err else f"{client_binary()} exited with {proc.returncode}"))

    try:
        if not all(line.endswith(b"\n") for line in lines):
            raise HeadError(f"{ref}: {failure()}")
        if beside:
            prelude.keep_identity(lines[0])
            prelude.beside.start(prelude)
        elif prelude:
            prelude.keep(lines)
        reader = pcsv.open_csv(stream, read_options=read_options,
                               parse_options=parse_options, convert_options=convert_options)
    except pa.ArrowInvalid as err:
        if "Empty CSV file" not in str(err):
            raise HeadError(f"{ref}: {failure(err)}") from None
        reader = None
    except HeadError:
        if beside:
            prelude.beside.discard()
        raise
    except Exception as err:  # noqa: BLE001 - a driver's error becomes one clear line, without secrets
        if beside:
            prelude.beside.discard()
        raise HeadError(f"{ref}: {failure(err)}") from None

    from hydra.heads.sql.postgres import stream_batches

    return stream_batches(
        head, ref, reader, schema,
        convert=lambda batch: pa.record_batch(
            [_post(p, batch.column(i), schema.field(i)) for i, p in enumerate(plans)], schema=schema),
        release=lambda failed: _cleanup(proc, None, None, failed=failed),
        exit_code=lambda: proc.returncode, client="mysql client")
