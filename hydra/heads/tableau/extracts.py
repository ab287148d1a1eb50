"""Tableau extracts: the .hyper files inside a downloaded .twbx/.tdsx, read with the Hyper API.

A package is a zip; Hyper opens files, not zip members, so the .hyper is copied out (streamed)
next to the download, in the folder the caller gives (the workspace's), and both are removed on
``close()``. Legacy ``.tde`` extracts are listed, and reading one is a clear error.

Reading a table streams bounded Arrow record batches: Hyper itself writes the table (or the
selected columns, filter and limit) as an Arrow IPC stream file with ``COPY … TO … WITH (FORMAT
arrowstream)``, and pyarrow reads it back one batch at a time from disk; the file is removed
when the reader is done. bench/bench_tableau_hyper.py (7 columns; 2 CPUs at load 11):

    rows   this reader          pantab, whole table    pantab stream (65536)   Hyper API rows
    1M     0.66 s, +18 MB       1.22 s, +103 MB        1.13 s, +116 MB         10.9 s
    4M     2.22 s, +20 MB       5.75 s, +379 MB        5.18 s, +337 MB

so it is the fastest and the only one whose memory does not grow with the table. Hyper does
not write into a FIFO (tried: the COPY never opened it), so the Arrow copy costs disk in the
work folder (about the table's size in Arrow), never memory.

Figures for PROFILE/RECONCILE (row count, per-column nulls, distinct count, min, max, sum, mean)
are computed by Hyper with one SQL aggregate query, independently of any transfer.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from .errors import TableauError

EXTRACTS_DIR = "Data/Extracts/"
COPY_CHUNK = 1 << 20


class LegacyExtractError(TableauError):
    """A .tde (Tableau Data Extract, before 10.5): Hyper cannot read it."""


@dataclass(frozen=True)
class ExtractColumn:
    name: str
    hyper_type: str  # as Hyper names it: 'NUMERIC(18, 2)', 'TIMESTAMP_TZ', …
    type: str  # the DuckDB type Hydra reads it as
    nullable: bool
    note: str | None = None  # a lossy or changed reading, e.g. geography as WKT text


@dataclass(frozen=True)
class ExtractTable:
    schema: str
    name: str
    columns: list[ExtractColumn]
    row_count: int

    @property
    def sql_name(self) -> str:
        return f"{_q(self.schema)}.{_q(self.name)}"


@dataclass
class ExtractFigures:
    """Same fields as the head contract's figures (``hydra.heads.base.Aggregates``)."""

    row_count: int
    columns: dict[str, dict[str, Any]]
    method: str = "hyper aggregate query"
    distinct_approximate: bool = False


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def duckdb_type(sql_type) -> tuple[str, str | None]:
    """A Hyper ``SqlType`` as (DuckDB type, note)."""
    tag = sql_type.tag.name
    if tag == "NUMERIC":
        return f"DECIMAL({sql_type.precision},{sql_type.scale})", None
    if tag == "TABGEOGRAPHY":
        return "VARCHAR", "geography read as WKT text"
    if tag == "OID":
        return "UINTEGER", None
    simple = {"BOOL": "BOOLEAN", "BIG_INT": "BIGINT", "SMALL_INT": "SMALLINT", "INT": "INTEGER",
              "FLOAT": "FLOAT", "DOUBLE": "DOUBLE", "BYTES": "BLOB", "TEXT": "VARCHAR",
              "VARCHAR": "VARCHAR", "CHAR": "VARCHAR", "JSON": "VARCHAR", "DATE": "DATE",
              "INTERVAL": "INTERVAL", "TIME": "TIME", "TIMESTAMP": "TIMESTAMP",
              "TIMESTAMP_TZ": "TIMESTAMP WITH TIME ZONE"}  # DuckDB's own name for it
    if tag in simple:
        return simple[tag], "JSON read as text" if tag == "JSON" else None
    return "VARCHAR", f"Hyper type {sql_type} read as text"


def arrow_type(duck: str):
    """The Arrow type a column of DuckDB type ``duck`` is handed over as."""
    import pyarrow as pa

    if duck.startswith("DECIMAL("):
        precision, scale = (int(x) for x in duck[8:-1].split(","))
        return pa.decimal128(precision, scale)
    return {"BOOLEAN": pa.bool_(), "BIGINT": pa.int64(), "SMALLINT": pa.int16(),
            "INTEGER": pa.int32(), "UINTEGER": pa.uint32(), "FLOAT": pa.float32(),
            "DOUBLE": pa.float64(), "BLOB": pa.binary(), "VARCHAR": pa.string(),
            "DATE": pa.date32(), "INTERVAL": pa.month_day_nano_interval(),
            "TIME": pa.time64("us"), "TIMESTAMP": pa.timestamp("us"),
            "TIMESTAMP WITH TIME ZONE": pa.timestamp("us", tz="UTC")}[duck]


@contextmanager
def hyper_process() -> Iterator[Any]:
    """A local Hyper server: no telemetry, no log file (it would land in the current folder)."""
    from tableauhyperapi import HyperProcess, Telemetry

    with HyperProcess(Telemetry.DO_NOT_SEND_USAGE_DATA_TO_TABLEAU,
                      parameters={"log_config": ""}) as process:
        yield process


@dataclass
class Package:
    """A .twbx/.tdsx (or a bare .hyper) in a work folder, and the files made from it.

    ``owned`` files (the download itself, the copied-out .hyper) are removed by ``close()``.
    """

    path: Path
    folder: Path
    owned: list[Path] = field(default_factory=list)

    @classmethod
    def downloaded(cls, path: Path, folder: Path) -> "Package":
        return cls(Path(path), Path(folder), [Path(path)])

    def __enter__(self) -> "Package":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def members(self) -> list[str]:
        """The extracts the package holds (``Data/Extracts/…``), .hyper and .tde alike."""
        if not zipfile.is_zipfile(self.path):
            return [self.path.name] if self.path.suffix in (".hyper", ".tde") else []
        with zipfile.ZipFile(self.path) as z:
            return [n for n in z.namelist() if n.startswith(EXTRACTS_DIR)
                    and n.lower().endswith((".hyper", ".tde"))]

    def hyper(self, member: str | None = None) -> Path:
        """The .hyper file of ``member`` (the only extract when not given), copied out of the
        zip into the folder. A .tde raises ``LegacyExtractError``."""
        members = self.members
        if member is None:
            if not members:
                raise TableauError(f"{self.path.name} holds no extract")
            member = next((m for m in members if m.lower().endswith(".hyper")), members[0])
        if member.lower().endswith(".tde"):
            raise LegacyExtractError(
                f"{Path(member).name} is a legacy .tde extract, which Hyper cannot read; "
                "upgrade it to .hyper in Tableau (open and republish, or refresh on a 10.5+ "
                "server)")
        if not zipfile.is_zipfile(self.path):
            return self.path
        fd, out = tempfile.mkstemp(prefix="hydra-tableau-", suffix=".hyper", dir=self.folder)
        self.owned.append(Path(out))
        with zipfile.ZipFile(self.path) as z, z.open(member) as src, os.fdopen(fd, "wb") as dst:
            shutil.copyfileobj(src, dst, COPY_CHUNK)
        return Path(out)

    def close(self) -> None:
        while self.owned:
            Path(self.owned.pop()).unlink(missing_ok=True)


class HyperExtract:
    """An opened .hyper file: its tables, bounded Arrow reads, and figures computed by Hyper.

    ``process`` is a running ``hyper_process()`` to share between extracts (starting one takes
    a fraction of a second); without it the extract starts and stops its own.
    """

    def __init__(self, path: Path, workdir: Path, process=None):
        from tableauhyperapi import Connection, CreateMode

        self.path, self.workdir = Path(path), Path(workdir)
        self._own_process = None
        if process is None:
            self._own_process = hyper_process()
            process = self._own_process.__enter__()
        try:
            self.connection = Connection(process.endpoint, str(self.path), CreateMode.NONE)
        except Exception as err:  # noqa: BLE001 - Hyper's errors carry context on later lines
            self._stop_process()
            raise TableauError(f"Hyper cannot open {self.path.name}: "
                               f"{_first_line(err)}") from err
        self._temp: set[Path] = set()

    def __enter__(self) -> "HyperExtract":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for path in list(self._temp):
            path.unlink(missing_ok=True)
        self._temp.clear()
        if getattr(self, "connection", None) is not None:
            self.connection.close()
            self.connection = None
        self._stop_process()

    def _stop_process(self) -> None:
        if self._own_process is not None:
            self._own_process.__exit__(None, None, None)
            self._own_process = None

    # --- schema -------------------------------------------------------------------------------

    def tables(self) -> list[ExtractTable]:
        """Every table of every schema, with its columns and exact row count."""
        from tableauhyperapi import Nullability

        catalog = self.connection.catalog
        out = []
        for schema in catalog.get_schema_names():
            for name in catalog.get_table_names(schema):
                definition = catalog.get_table_definition(name)
                columns = []
                for col in definition.columns:
                    duck, note = duckdb_type(col.type)
                    columns.append(ExtractColumn(col.name.unescaped, str(col.type), duck,
                                                 col.nullability != Nullability.NOT_NULLABLE,
                                                 note))
                table = ExtractTable(schema.name.unescaped, name.name.unescaped, columns, 0)
                count = self.connection.execute_scalar_query(
                    f"SELECT count(*) FROM {table.sql_name}")
                out.append(ExtractTable(table.schema, table.name, columns, int(count)))
        return out

    def table(self, schema: str, name: str) -> ExtractTable:
        for t in self.tables():
            if (t.schema, t.name) == (schema, name):
                return t
        raise TableauError(f"{self.path.name} has no table {schema}.{name}")

    # --- data ---------------------------------------------------------------------------------

    def read(self, table: ExtractTable, columns: list[str] | None = None,
             where: str | None = None, limit: int | None = None):
        """A ``pyarrow.RecordBatchReader`` over the table: Hyper writes an Arrow stream file in
        the work folder, read back batch by batch and removed once read (or at ``close()``).
        ``where`` is a Hyper (PostgreSQL-like) SQL condition the caller rendered."""
        import pyarrow as pa
        from tableauhyperapi import escape_string_literal

        by_name = {c.name: c for c in table.columns}
        chosen = [by_name[c] for c in columns] if columns else table.columns
        select = ", ".join(f"CAST({_q(c.name)} AS TEXT) AS {_q(c.name)}"
                           if c.hyper_type.upper().endswith("GEOGRAPHY") else _q(c.name)
                           for c in chosen)
        sql = f"SELECT {select} FROM {table.sql_name}"
        if where:
            sql += f" WHERE {where}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        schema = pa.schema([pa.field(c.name, arrow_type(c.type), c.nullable) for c in chosen])
        fd, name = tempfile.mkstemp(prefix="hydra-hyper-", suffix=".arrows", dir=self.workdir)
        os.close(fd)
        path = Path(name)
        self._temp.add(path)
        try:
            self.connection.execute_command(
                f"COPY ({sql}) TO {escape_string_literal(str(path))} WITH (FORMAT arrowstream)")
        except Exception as err:  # noqa: BLE001 - Hyper's errors carry context on later lines
            self._discard(path)
            raise TableauError(f"Hyper cannot read {table.schema}.{table.name} of "
                               f"{self.path.name}: {_first_line(err)}") from err
        return pa.RecordBatchReader.from_batches(schema, self._batches(path, schema))

    def _batches(self, path: Path, schema):
        import pyarrow as pa
        import pyarrow.ipc as ipc

        try:
            with pa.OSFile(str(path), "rb") as source:
                for batch in ipc.open_stream(source):
                    # Hyper hands dates as date64 and zones as 'Utc': cast to Hydra's types
                    yield pa.RecordBatch.from_arrays(
                        [col.cast(f.type) for col, f in zip(batch.columns, schema, strict=True)],
                        schema=schema)
        finally:
            self._discard(path)

    def _discard(self, path: Path) -> None:
        path.unlink(missing_ok=True)
        self._temp.discard(path)

    # --- figures ------------------------------------------------------------------------------

    def figures(self, table: ExtractTable, columns: list[str] | None = None) -> ExtractFigures:
        """Row count and per-column figures, computed by Hyper in one aggregate query."""
        chosen = [c for c in table.columns if columns is None or c.name in columns]
        exprs, slots = ["count(*)"], []
        for col in chosen:
            for figure, expr in _figure_exprs(col).items():
                exprs.append(expr)
                slots.append((col, figure))
        try:
            values = self.connection.execute_list_query(
                f"SELECT {', '.join(exprs)} FROM {table.sql_name}")[0]
        except Exception as err:  # noqa: BLE001 - Hyper's errors carry context on later lines
            raise TableauError(f"Hyper cannot compute figures of {table.schema}.{table.name}: "
                               f"{_first_line(err)}") from err
        total = int(values[0])
        out: dict[str, dict[str, Any]] = {c.name: {} for c in chosen}
        for (col, figure), value in zip(slots, values[1:], strict=True):
            figures = out[col.name]
            value = _python(value, col.type == "TIMESTAMP WITH TIME ZONE")
            if isinstance(value, Decimal) and col.type.startswith("DECIMAL("):
                # the Hyper API drops trailing zeros (410.00 -> 410): give the column's scale
                # back, as DuckDB prints it
                scale = int(col.type[:-1].split(",")[1])
                value = value.quantize(Decimal(1).scaleb(-scale))
            if figure == "count":
                figures["null_count"] = total - int(value)
            elif figure == "distinct":
                figures["distinct_count"] = int(value)
            elif figure in ("min", "max"):
                figures[f"{figure}_value"] = _text(value)
            elif figure == "sum":  # integers were summed as NUMERIC(38,0): give them back as int
                integral = isinstance(value, Decimal) and col.type in _NUMBERS[:4]
                figures["sum_value"] = int(value) if integral else value
            elif figure == "mean":
                figures["mean_value"] = float(value) if value is not None else None
        return ExtractFigures(total, out)


_NUMBERS = ("BIGINT", "SMALLINT", "INTEGER", "UINTEGER", "FLOAT", "DOUBLE")


def _figure_exprs(col: ExtractColumn) -> dict[str, str]:
    q = _q(col.name)
    out = {"count": f"count({q})"}
    if col.note:  # geography, JSON and unknown types: counts only
        return out
    numeric = col.type in _NUMBERS or col.type.startswith("DECIMAL")
    ordered = numeric or col.type in ("VARCHAR", "DATE", "TIME", "TIMESTAMP",
                                      "TIMESTAMP WITH TIME ZONE")
    if ordered or col.type == "BOOLEAN":
        out["distinct"] = f"count(DISTINCT {q})"
    if ordered:
        out["min"], out["max"] = f"min({q})", f"max({q})"
    elif col.type == "BOOLEAN":  # as Hydra's PostgreSQL figures: false < true
        out["min"], out["max"] = f"bool_and({q})", f"bool_or({q})"
    if numeric:
        # integers summed in NUMERIC so that no sum overflows, floats in double
        wide = f"CAST({q} AS NUMERIC(38,0))" if col.type in _NUMBERS[:4] else q
        out["sum"], out["mean"] = f"sum({wide})", f"avg(CAST({q} AS DOUBLE PRECISION))"
    return out


def _python(value, with_zone: bool):
    """Hyper API values as Python's: Timestamp/Date/Time have their own classes."""
    if hasattr(value, "to_datetime"):
        value = value.to_datetime()
        if with_zone and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value
    if hasattr(value, "to_date"):
        return value.to_date()
    if hasattr(value, "to_time"):
        return value.to_time()
    return value


def _text(value) -> str | None:
    """min/max as text, as Hydra's SQL figures give them."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


def open_download(session, kind: str, luid: str, folder: Path, on_size=None) -> Package:
    """Download a workbook's or datasource's content (streamed, size told first through
    ``on_size(bytes, file name)``) into ``folder``, as a ``Package`` that removes it on close.
    ``session`` is a signed-in ``rest.SiteSession``."""
    path = session.download(kind, luid, Path(folder), on_size)
    return Package.downloaded(path, Path(folder))
