"""MySQL/MariaDB bulk path: the ``mysql`` client's batch output decoded by Arrow's CSV reader.

PyMySQL parses every row in Python (5–9× slower than the wire). The ``mysql``/``mariadb`` command-line
client decodes the protocol in C; Hydra runs it with ``--batch --raw`` and a SELECT that makes its
tab-separated output unambiguous:

* text-like columns go through ``QUOTE()``: a NULL is the bare word ``NULL`` while the string
  'NULL' arrives quoted, and tabs/newlines inside values are inside quotes;
* binary columns as ``HEX()``, BIT as a number, FLOAT as the DOUBLE holding it (its text has 6
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
        url = head.engine.url
    except Exception:  # noqa: BLE001 - an unusable URL: the generic path says why
        return False
    return set(url.query) <= _SIMPLE_QUERY and url.get_driver_name() in ("pymysql", "mysqldb")


@dataclass
class _Plan:
    column: Column
    expr: str
    csv_type: object
    post: str | None  # 'uuid', 'json', 'hex', 'time', 'cast'


def _plan(head: SqlHead, cols: list[Column]) -> list[_Plan]:
    import pyarrow as pa

    from hydra.heads.sql.types import arrow_type

    out = []
    for c in cols:
        q = head.quote(c.name)
        duck = c.type.upper()
        base = (c.source_type or "").lower().split("(")[0].split(" ")[0]
        if duck == "VARCHAR" and base in _GEOMETRY:
            out.append(_Plan(c, f"QUOTE(ST_AsText({q}))", pa.string(), None))
        elif duck == "VARCHAR" and c.note:  # another type read as text: its text form
            out.append(_Plan(c, f"QUOTE(CAST({q} AS CHAR))", pa.string(), None))
        elif duck in ("VARCHAR", "JSON"):
            out.append(_Plan(c, f"QUOTE({q})", pa.string(), "json" if duck == "JSON" else None))
        elif duck == "UUID":
            out.append(_Plan(c, q, pa.string(), "uuid"))
        elif duck == "BLOB":
            out.append(_Plan(c, f"HEX({q})", pa.string(), "hex"))
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


def valid_date_expr(q: str) -> str:
    """A DATE/DATETIME/TIMESTAMP, NULL where it is not a real date: zero dates ('0000-00-00',
    '2024-00-15') and, under ALLOW_INVALID_DATES, days a month does not have ('2024-02-30').
    Date arithmetic returns NULL for exactly those."""
    return f"IF({q} + INTERVAL 0 DAY IS NULL, NULL, {q})"


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


def _time_to_interval(arr):
    import pyarrow as pa

    values = []
    for v in arr.to_pylist():
        if v is None:
            values.append(None)
            continue
        sign = -1 if v.startswith("-") else 1
        h, m, s = v.lstrip("-").split(":")
        sec, _, frac = s.partition(".")
        micros = ((int(h) * 60 + int(m)) * 60 + int(sec)) * 1_000_000 + int((frac + "000000")[:6])
        # a TIME is a duration (up to ±838 hours), not days and a time of day: all microseconds, so
        # that DuckDB prints it as MySQL does ('-838:59:59', '25:00:00.5')
        values.append(pa.MonthDayNano([0, 0, sign * micros * 1000]))
    return pa.array(values, pa.month_day_nano_interval())


def _post(plan: _Plan, arr, field):
    import pyarrow as pa

    from hydra.heads.sql import arrow as sql_arrow

    if plan.post is None:
        return arr
    if plan.post == "uuid":
        return sql_arrow.uuid_from_text(arr)
    if plan.post == "json":
        return pa.ExtensionArray.from_storage(pa.json_(), arr)
    if plan.post == "hex":
        return pa.array([None if v is None else bytes.fromhex(v) for v in arr.to_pylist()], pa.binary())
    if plan.post == "time":
        return _time_to_interval(arr)
    if plan.post == "cast":
        return arr.cast(field.type)
    return arr


def command(head: SqlHead, sql: str):
    url = head.engine.url
    argv = [client_binary(), "--batch", "--raw", "--skip-column-names", "--default-character-set=utf8mb4",
            "--connect-timeout=10", "--quick", "--no-auto-rehash"]
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
    from hydra.heads.sql.snapshot import joining

    joins = "".join(f"{statement}; " for statement in joining(head, explicit_begin=True))
    argv += ["-e", f"SET SESSION TRANSACTION READ ONLY; SET time_zone = '+00:00'; {joins}{sql}"]
    return argv, env


def read(head: SqlHead, element: Element, columns=None, quals=None, limit=None,
         prelude=None) -> pa.RecordBatchReader:
    """``prelude``: (statements, keep) from ``snapshot.prelude``: the one reader of an element's
    snapshot runs the statements first, and hands the two lines they print to ``keep``."""
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
    from hydra.heads.sql.postgres import start_client

    argv, env = command(head, "; ".join([*prelude[0], sql]) if prelude else sql)
    proc = start_client(argv, env)
    stream = io.BufferedReader(proc.stdout, buffer_size=BLOCK_SIZE)

    def failure(err=None) -> str:
        from hydra.heads.sql.postgres import _cleanup

        text = _cleanup(proc, None, None, failed=True)
        return head._clean(text or (str(err) if err else f"{argv[0]} exited with {proc.returncode}"))

    try:
        if prelude:
            lines = [stream.readline(), stream.readline()]
            if not all(line.endswith(b"\n") for line in lines):
                raise HeadError(f"{ref}: {failure()}")
            prelude[1](lines)
        reader = pcsv.open_csv(stream, read_options=read_options,
                               parse_options=parse_options, convert_options=convert_options)
    except pa.ArrowInvalid as err:
        if "Empty CSV file" not in str(err):
            raise HeadError(f"{ref}: {failure(err)}") from None
        reader = None
    except HeadError:
        raise
    except Exception as err:  # noqa: BLE001 - a driver's error becomes one clear line, without secrets
        raise HeadError(f"{ref}: {failure(err)}") from None

    from hydra.heads.sql.postgres import _cleanup, stream_batches

    return stream_batches(
        head, ref, reader, schema,
        convert=lambda batch: pa.record_batch(
            [_post(p, batch.column(i), schema.field(i)) for i, p in enumerate(plans)], schema=schema),
        release=lambda failed: _cleanup(proc, None, None, failed=failed),
        exit_code=lambda: proc.returncode, client="mysql client")
