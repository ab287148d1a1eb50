"""PostgreSQL CSV bulk path: ``COPY (SELECT …) TO STDOUT (FORMAT csv)`` decoded by Arrow's CSV reader.

(The default is the binary COPY of ``pgbinary``, through psql or — ``BULK 'copy'`` or without
psql — through psycopg; this CSV path serves ``BULK 'client'``.)

The SELECT casts awkward types on the server into values Arrow parses natively (dates and
timestamps as integers since 1970, so that 'infinity' and years BC survive; money as numeric) and
the reader gets explicit column types from the catalog, so nothing is
inferred and no Python runs per value except for rare types (arrays, intervals, bytea).

Two transports carry the CSV bytes:

* psycopg 3's ``Copy.read()`` on a pooled connection (always available; ``BULK 'client'`` without
  psql);
* ``client``: a ``psql -c "COPY … TO STDOUT"`` child process whose stdout is read by Arrow in large
  blocks, so libpq's per-row work happens in C in another process instead of a Python loop. The
  password goes to the child through ``PGPASSWORD`` (never the command line); ``.pgpass`` and every
  libpq variable keep working.

The binary path is measured fastest (see bench/bench_pg_extract.py).
"""

from __future__ import annotations

import functools
import io
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hydra.core.model import Column, Element
from hydra.heads.base import HeadError

if TYPE_CHECKING:
    import pyarrow as pa

    from hydra.heads.sql.head import SqlHead

BLOCK_SIZE = 1 << 22  # bytes of CSV per Arrow block (~30k rows of a mixed table)
PIPE_BYTES = 1 << 20  # the client pipe's size (Linux's default ceiling for unprivileged processes)


def usable(head: SqlHead) -> bool:
    try:
        driver = head.url.get_driver_name()
    except Exception:  # noqa: BLE001 - an unusable URL: the generic path says why
        return False
    return driver == "psycopg" or (head.bulk == "client" and shutil.which("psql") is not None)


# DuckDB's infinite dates and timestamps: the largest integer of the width and its negation
INFINITE_DAYS = 2**31 - 1
INFINITE_MICROS = 2**63 - 1


def epoch_expr(q: str, duck: str) -> str:
    """A date, timestamp or time as the integer DuckDB stores: days or microseconds since 1970,
    microseconds since midnight; 'infinity' and '-infinity' as DuckDB's infinite values.

    Not text: Arrow's parsers and Python's datetime refuse 'infinity', years BC and '24:00:00',
    all of which PostgreSQL holds. ``extract(epoch …)`` is an exact numeric from PostgreSQL 14 on
    (a double before, exact to the microsecond within about ±285 years of 1970)."""
    if duck == "TIME":
        return f"CAST(extract(epoch FROM {q}) * 1000000 AS bigint)"
    if duck == "DATE":
        finite, top = f"{q} - DATE '1970-01-01'", INFINITE_DAYS
    else:
        finite, top = f"CAST(extract(epoch FROM {q}) * 1000000 AS bigint)", INFINITE_MICROS
    return f"CASE WHEN {q} = 'infinity' THEN {top} WHEN {q} = '-infinity' THEN {-top} ELSE {finite} END"


def text_expr(q: str, source_type: str) -> str:
    """A column of a type Hydra reads as text, as psql prints it (the type's output function).

    ``inet::text`` is the one cast that differs from the output: it always adds the netmask
    (``192.168.0.1/32``); ``abbrev(inet)`` is the output form (``192.168.0.1``, ``10.0.0.0/8``)."""
    if source_type.lower().startswith("inet"):
        return f"abbrev({q})"
    return f"{q}::text"


def decimal_expr(q: str) -> str:
    """A numeric read as DECIMAL: DECIMAL has no NaN, which PostgreSQL allows in numeric(p,s)."""
    return f"NULLIF({q}, 'NaN')"


def array_expr(q: str, source_type: str) -> str:
    """An array as a JSON array of its elements' text (``arrow.list_from_json`` converts them).

    ``::text[]`` spells each element as PostgreSQL prints it, which Arrow parses, where
    ``array_to_json``'s own spellings are not (a float's NaN as a JSON string, a timestamp with a
    'T', composite values as JSON objects). Money is cast to numeric first (no '$'). inet and
    char(n) keep ``array_to_json``, which prints them as their own output does: their casts to
    text add the netmask ('10.0.0.1/32') and drop char(n)'s padding."""
    element = source_type.removesuffix("[]").strip()
    if element.startswith("money"):
        return f"array_to_json({q}::numeric[]::text[])::text"
    if element in ("inet", "character", "bpchar") or element.startswith("character("):
        return f"array_to_json({q})::text"
    return f"array_to_json({q}::text[])::text"


@dataclass
class _Plan:
    column: Column
    expr: str  # the SELECT expression
    csv_type: object  # Arrow type the CSV reader parses into
    post: str | None  # after parsing: 'cast', 'uuid', 'json', 'bytea', 'interval', 'list'


def _plan(head: SqlHead, element: Element, cols: list[Column]) -> list[_Plan]:
    import pyarrow as pa

    from hydra.heads.sql.types import arrow_type

    out = []
    for c in cols:
        q = head.quote(c.name)
        duck = c.type.upper()
        src = (c.source_type or "").lower()
        if src.endswith("]") or duck.endswith("[]"):
            out.append(_Plan(c, array_expr(q, src), pa.string(), "list"))
        elif duck in ("DATE", "TIME", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE"):
            out.append(_Plan(c, epoch_expr(q, duck), pa.int32() if duck == "DATE" else pa.int64(), "cast"))
        elif src.startswith("money"):
            out.append(_Plan(c, f"{q}::numeric", arrow_type(duck), None))
        elif duck.startswith("DECIMAL") and src.startswith("numeric"):
            out.append(_Plan(c, decimal_expr(q), arrow_type(duck), None))
        elif duck == "DOUBLE" and src.startswith("numeric"):
            out.append(_Plan(c, f"{q}::text", pa.string(), "cast"))  # 'NaN', 'Infinity', 500 digits
        elif duck == "INTERVAL":
            expr = (f"CASE WHEN {q} IS NOT NULL THEN concat_ws(' ', "
                    f"(extract(year from {q}) * 12 + extract(month from {q}))::bigint, "
                    f"extract(day from {q})::bigint, "
                    f"(extract(hour from {q}) * 3600000000 + extract(minute from {q}) * 60000000 "
                    f"+ extract(microseconds from {q}))::bigint) END")
            out.append(_Plan(c, expr, pa.string(), "interval"))
        elif duck == "UUID":
            out.append(_Plan(c, q, pa.string(), "uuid"))
        elif duck == "JSON":
            out.append(_Plan(c, f"{q}::text", pa.string(), "json"))
        elif duck == "BLOB":
            out.append(_Plan(c, q, pa.string(), "bytea"))
        elif duck == "VARCHAR" and c.note:
            out.append(_Plan(c, text_expr(q, src), pa.string(), None))
        else:
            typ = arrow_type(duck)
            out.append(_Plan(c, q, typ if typ is not None else pa.string(), None))
    return out


def _schema(plans: list[_Plan]):
    import pyarrow as pa

    from hydra.heads.sql.types import arrow_type

    return pa.schema([pa.field(p.column.name, arrow_type(p.column.type) or pa.string()) for p in plans])


def _post(plan: _Plan, arr, field):
    import pyarrow as pa

    from hydra.heads.sql import arrow as sql_arrow

    if plan.post is None:
        return arr
    if plan.post == "cast":
        return arr.cast(field.type)
    if plan.post == "uuid":
        return sql_arrow.uuid_from_text(arr)
    if plan.post == "json":
        return pa.ExtensionArray.from_storage(pa.json_(), arr)
    if plan.post == "bytea":
        return sql_arrow.bytea_from_hex(arr)
    if plan.post == "interval":
        return sql_arrow.interval_from_parts(arr)
    if plan.post == "list":
        return sql_arrow.list_from_json(arr, field.type)
    return arr


class _CopyStream:
    """A read-only file object over psycopg's COPY chunks (one chunk per row from libpq)."""

    def __init__(self, copy):
        self._read = copy.read
        self._buf = bytearray()
        self._eof = False
        self.closed = False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, b) -> int:
        """Fill ``b`` straight from the COPY chunks (one memcpy per row, no intermediate buffer)."""
        view = memoryview(b).cast("B")
        n, filled = len(view), 0
        if self._buf:
            filled = min(n, len(self._buf))
            view[:filled] = self._buf[:filled]
            del self._buf[:filled]
        read = self._read
        while filled < n and not self._eof:
            chunk = read()
            if not chunk:
                self._eof = True
                break
            end = filled + len(chunk)
            if end <= n:
                view[filled:end] = chunk
                filled = end
            else:
                take = n - filled
                view[filled:] = chunk[:take]
                self._buf += chunk[take:]
                filled = n
        return filled

    def read(self, n: int = -1) -> bytes:
        buf, read = self._buf, self._read
        while not self._eof and (n < 0 or len(buf) < n):
            chunk = read()
            if not chunk:
                self._eof = True
                break
            buf += chunk
        if n < 0 or n >= len(buf):
            out = bytes(buf)
            buf.clear()
        else:
            out = bytes(buf[:n])
            del buf[:n]
        return out

    def close(self) -> None:
        self.closed = True


def start_client(argv: list[str], env: dict, stdin: bool = False) -> subprocess.Popen:
    """A client program (``psql``, ``mysql``) whose stdout is a pipe Hydra reads in bulk;
    ``stdin``: a pipe Hydra writes its statements into, too.

    On Linux the client's stdout buffer (4 KiB into a pipe) is raised to 1 MiB with coreutils'
    ``stdbuf`` (which then execs the client: same process), and the pipe is widened to match.
    The client then writes and Hydra reads in 1 MiB system calls instead of 4 KiB ones: for
    3M PostgreSQL rows, 374 reads instead of 77,000 and about 0.25 CPU-seconds less."""
    if sys.platform.startswith("linux") and shutil.which("stdbuf"):
        argv = ["stdbuf", f"--output={PIPE_BYTES}", *argv]
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE if stdin else None, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, bufsize=0)
    try:
        import fcntl

        fcntl.fcntl(proc.stdout.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):  # not Linux, or above the system's limit
        pass
    return proc


# Debian and Ubuntu install ``psql`` as ``pg_wrapper``, a Perl script that picks a client version
# and a cluster, then runs the real psql: 80-110 ms of wall time per run (``psql --version``, 3
# runs, load 5) against 10-30 ms for the binary, on the critical path of every PostgreSQL read.
PG_BINROOT = "/usr/lib/postgresql"


@functools.cache
def _newest_psql() -> str | None:
    """The psql binary ``pg_wrapper`` runs for psql — always the newest installed client — when
    ``psql`` is that wrapper and no ``PGCLUSTER`` asks for another; else None."""
    found = shutil.which("psql")
    if found is None or os.path.basename(os.path.realpath(found)) != "pg_wrapper" or "PGCLUSTER" in os.environ:
        return None
    try:
        names = os.listdir(PG_BINROOT)
    except OSError:
        return None
    versions = []
    for name in names:
        parts = name.split(".")
        program = os.path.join(PG_BINROOT, name, "bin", "psql")
        if all(p.isdigit() for p in parts) and os.access(program, os.X_OK):
            versions.append((tuple(int(p) for p in parts), program))
    return max(versions)[1] if versions else None


def _psql(params: dict[str, str], env: dict[str, str]) -> str:
    """The program to run as psql. The wrapper's own choices (a cluster's socket folder, port and
    database from ``~/.postgresqlrc``, ``user_clusters`` or the local cluster on 5432) only fill
    what a connection leaves out, so it is skipped only for a connection naming its host, port
    and database; ``PGSYSCONFDIR`` is then set as the wrapper sets it."""
    program = _newest_psql() if all(params.get(k) for k in ("host", "port", "dbname")) else None
    if program is None:
        return "psql"
    env.setdefault("PGSYSCONFDIR", "/etc/postgresql-common")
    return program


def _client_command(head: SqlHead, sql: str):
    """argv and environment for ``psql`` reading the same database as the head's connections."""
    url = head.url
    params = {k: v for k, v in url.query.items() if isinstance(v, str)}
    params.pop("password", None)
    password = head.password()
    for key, value in (("host", url.host), ("port", url.port), ("user", url.username), ("dbname", url.database)):
        if value is not None:
            params[key] = str(value)
    params.pop("options", None)
    from psycopg.conninfo import make_conninfo

    conninfo = make_conninfo(**params)
    env = dict(os.environ)
    if password:
        env["PGPASSWORD"] = str(password)
    env["PGOPTIONS"] = (env.get("PGOPTIONS", "") + " -c default_transaction_read_only=on -c TimeZone=UTC"
                        " -c DateStyle=ISO -c extra_float_digits=1").strip()
    env["PGCLIENTENCODING"] = "UTF8"
    env.setdefault("PGCONNECT_TIMEOUT", "10")
    from hydra.heads.sql.snapshot import joining

    # in an element's snapshot, the same psql session joins it before the COPY (-q: no command tags)
    joins = [arg for statement in joining(head, explicit_begin=True) for arg in ("-c", statement)]
    argv = [_psql(params, env), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", conninfo or "", *joins, "-c", sql]
    return argv, env


def cursor_plan(head: SqlHead, element: Element, cols: list[Column]):
    """SELECT expressions for a DB-API cursor read (the same as the COPY path's), and per column
    a converter of the values the driver returns, where they need one."""
    import pyarrow as pa

    plans = _plan(head, element, cols)
    exprs, posts = [], {}
    for p in plans:
        exprs.append(p.expr)
        if p.post in ("list", "interval", "cast"):
            # text, or integers (epoch_expr): Arrow infers which from the values
            posts[p.column.name] = lambda values, field, p=p: _post(
                p, pa.array(values, p.csv_type if p.post == "cast" else pa.string()), field)
    return exprs, posts


def copy_sql(head: SqlHead, element: Element, columns, quals, limit) -> tuple[str, list[_Plan]]:
    element = head._full(element)
    cols = head._columns(element, columns)
    plans = _plan(head, element, cols)
    select, _ = head.select_sql(element, columns, quals, limit, expressions=[p.expr for p in plans])
    return f"COPY ({select}) TO STDOUT WITH (FORMAT csv)", plans


def read(head: SqlHead, element: Element, columns=None, quals=None, limit=None) -> pa.RecordBatchReader:
    """The CSV COPY read (``SqlHead.read`` prefers the binary one of ``pgbinary`` where it can)."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    sql, plans = copy_sql(head, element, columns, quals, limit)
    schema = _schema(plans)
    ref = head.ref(element.parts)  # errors name the element by its ref
    if not plans:  # no columns asked: count rows through the generic path
        return head._read_cursor(element, columns, quals, limit)
    names = [f"c{i}" for i in range(len(plans))]
    # one thread per stream: parallelism comes from split() ranges, and Arrow's threaded CSV
    # conversion costs twice the CPU for little gain on a busy 2-core machine
    read_options = pcsv.ReadOptions(column_names=names, block_size=BLOCK_SIZE, use_threads=False)
    parse_options = pcsv.ParseOptions(newlines_in_values=True, double_quote=True, ignore_empty_lines=False)
    convert_options = pcsv.ConvertOptions(
        column_types={n: p.csv_type for n, p in zip(names, plans)}, null_values=[""],
        strings_can_be_null=True, quoted_strings_can_be_null=False, true_values=["t"], false_values=["f"],
    )

    transport = head.bulk
    if transport in ("auto", "binary"):
        transport = "client" if shutil.which("psql") else "copy"
    if transport == "client" and not shutil.which("psql"):
        transport = "copy"
    proc = raw = cm = None
    try:
        if transport == "client":
            argv, env = _client_command(head, sql)
            proc = start_client(argv, env)
            # a pipe returns 64 KiB per read; Arrow makes one batch per read, so fill whole blocks
            source = io.BufferedReader(proc.stdout, buffer_size=BLOCK_SIZE)
        else:
            from hydra.heads.sql.snapshot import join

            raw = head.raw_connection()
            conn = raw.driver_connection
            join(head, conn)
            cm = conn.cursor().copy(sql)
            source = _CopyStream(cm.__enter__())
        try:
            reader = pcsv.open_csv(source, read_options=read_options, parse_options=parse_options,
                                   convert_options=convert_options)
        except pa.ArrowInvalid as err:
            if "Empty CSV file" in str(err):
                reader = None
            else:
                raise
    except Exception as err:  # noqa: BLE001 - COPY could not start: one line, the transport released
        message = _failure(head, proc, err)
        _cleanup(proc, raw, cm, failed=True)
        raise HeadError(f"{ref}: {message}") from None

    return stream_batches(
        head, ref, reader, schema,
        convert=lambda batch: pa.record_batch(
            [_post(p, batch.column(i), schema.field(i)) for i, p in enumerate(plans)], schema=schema),
        release=lambda failed: _cleanup(proc, raw, cm, failed=failed),
        exit_code=lambda: proc.returncode if proc is not None else None, client="psql")


def stream_batches(head: SqlHead, ref: str, reader, schema, convert, release, exit_code, client: str):
    """The record batches of a CSV ``reader`` over a client transport (``psql``, ``mysql``, a
    COPY stream), each passed through ``convert``. ``release(failed)`` frees the transport once,
    at the end, and returns the client's error text; a client that exits non-zero fails the
    stream, so a truncated transfer is never mistaken for a complete one."""
    import pyarrow as pa

    holder = [reader]  # dropped as soon as the stream ends: Arrow's readahead thread must not
    del reader         # outlive the stream (it aborts the interpreter at exit if it does)

    def batches():
        failed = True
        try:
            if holder[0] is not None:
                for batch in holder[0]:
                    yield convert(batch)
            failed = False
        except HeadError:
            raise
        except Exception as err:  # noqa: BLE001 - a failure mid-stream: one line, in the client's own words
            stderr = release(True)
            raise HeadError(f"{ref}: {head._clean(stderr or str(err))}") from None
        finally:
            holder.clear()
            stderr = release(failed)
        if exit_code() not in (None, 0):
            raise HeadError(f"{ref}: {head._clean(stderr or f'{client} failed')}")

    return pa.RecordBatchReader.from_batches(schema, batches())


def _failure(head: SqlHead, proc, err) -> str:
    text = _cleanup(proc, None, None, failed=True) if proc is not None else ""
    return head._clean(text or str(err))


def _cleanup(proc, raw, cm, failed: bool) -> str:
    """Release the transport (idempotent); returns psql's error text, if any."""
    text = ""
    if proc is not None:
        if failed and proc.poll() is None:
            proc.kill()
        if proc.stdin is not None and not proc.stdin.closed:
            try:
                proc.stdin.close()  # a client waiting for statements exits
            except OSError:  # it has exited: the pipe is broken
                pass
        try:
            proc.wait(timeout=30)
        except Exception:  # noqa: BLE001 - the client would not exit: kill it
            proc.kill()
        if proc.stderr is not None and not proc.stderr.closed:
            try:
                text = proc.stderr.read().decode("utf-8", "replace")
            except Exception:  # noqa: BLE001 - the client's error text is best effort
                text = ""
            proc._hydra_stderr = text
        text = getattr(proc, "_hydra_stderr", text)
        for f in (proc.stdout, proc.stderr):
            if f is not None:
                f.close()
        text = " ".join(ln.replace("psql:", "").replace("ERROR:", "").strip() for ln in text.splitlines() if ln.strip())
    if cm is not None and not getattr(cm, "_hydra_done", False):
        cm._hydra_done = True
        conn = raw.driver_connection
        try:
            if failed:
                conn.cancel_safe()
            cm.__exit__(None, None, None)
        except Exception:  # noqa: BLE001 - a failed release: the connection is invalidated below
            failed = True
    if raw is not None and not getattr(raw, "_hydra_done", False):
        raw._hydra_done = True
        if failed:
            raw.invalidate()
        else:
            try:
                raw.rollback()
                raw.close()
            except Exception:  # noqa: BLE001 - a connection that cannot roll back is dropped
                raw.invalidate()
    return text
