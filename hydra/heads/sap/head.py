"""The ``sap`` head: an SAP system's tables read over RFC with an ordinary RFC user.

    ATTACH 'sap://RFC_USER@sap-app.client.com/00?client=100' AS erp
        (PASSWORD_ENV 'SAP_PW', LANG 'EN', TABLES 'VBAK,VBAP,KNA1,MARA*')

Elements are the tables DD02L lists as transparent, cluster, pool tables and views (``TABLES``
globs choose them; every one when absent), with their fields from DDIF_FIELDINFO_GET (or DD03L)
and row counts from EM_GET_NUMBER_OF_ENTRIES. Reads go through RFC_READ_TABLE, or the variant
``READ_FUNCTION`` names (``/SAPDS/RFC_READ_TABLE2`` has 2,048-character rows): the WHERE goes
into OPTIONS where ABAP applies it exactly, the columns into FIELDS in groups under the row width
stitched by key, pages by key ranges (``reader``). The head only ever reads: RFC_READ_TABLE and
the dictionary functions cannot write.

Every RFC call of one read runs on a connection of its own, so that a parallel EXTRACT's ranges
(one thread each) never share one: an RFC connection serves one call at a time.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Iterable, Iterator, Mapping

from hydra.heads.base import Column, Element, Head, HeadConnectionError, HeadError, Option, Qual

if TYPE_CHECKING:
    import pyarrow as pa

    from .catalog import SapField, SapTable

KINDS = {"TRANSP": "table", "CLUSTER": "cluster table", "POOL": "pool table", "VIEW": "view"}
_DUCKDB_INTS = {"b": "UTINYINT", "s": "SMALLINT", "I": "INTEGER", "8": "BIGINT"}


def duckdb_type(field: SapField) -> str:
    """The DuckDB type a field is read as (``convert.arrow_type``'s, by name)."""
    t = field.inttype
    if t == "D":
        return "DATE"
    if t == "T":
        return "TIME"
    if t == "P":
        return f"DECIMAL({max(field.length, field.decimals, 1)},{field.decimals})"
    if t in _DUCKDB_INTS:
        return _DUCKDB_INTS[t]
    if t == "F":
        return "DOUBLE"
    if t in ("X", "y"):
        return "BLOB"
    return "VARCHAR"


def source_type(field: SapField) -> str:
    if field.inttype == "P" or field.decimals:
        return f"{field.datatype}({field.length},{field.decimals})"
    return f"{field.datatype}({field.length})" if field.length else field.datatype


def column_note(field: SapField, function: str) -> str | None:
    if not field.supported:
        return f"{field.datatype}: {function} cannot return string types; always NULL"
    if field.inttype == "D":
        return "DATS 00000000 (no date) read as NULL"
    return None


class SapHead(Head):
    kind = "sap"
    schemes = ("sap",)
    tables = ("sap_tables", "sap_fields")
    attach_options = (
        Option("PASSWORD_ENV", help="the environment variable holding the RFC user's password"),
        Option("CLIENT", help="the SAP client, three digits (or ?client= in the URI)"),
        Option("LANG", help="logon and description language, ISO (EN, DE…); default EN"),
        Option("TABLES", help="the tables to list: names and */? globs, comma-separated"),
        Option("READ_FUNCTION", help="a wider RFC_READ_TABLE, e.g. /SAPDS/RFC_READ_TABLE2"),
    )

    def __init__(self, name: str, uri: str, options: Mapping[str, str] | None = None):
        super().__init__(name, uri, options)
        self.options = {k.upper(): v for k, v in self.options.items()}
        self._params: dict[str, str] | None = None
        self._conn = None
        self._lock = threading.RLock()  # the catalog connection serves one call at a time
        self.function, self.row_width = "RFC_READ_TABLE", 512
        self._fields: dict[str, list[SapField]] = {}
        self._listing: list[tuple[SapTable, list[SapField] | None, int | None, str | None]] = []
        self._count_note: str | None = None

    # -- life cycle -----------------------------------------------------------------------------
    def open(self) -> None:
        from . import catalog, logon, rfc

        try:
            self._params = logon.logon_params(self.uri, self.options)
            function = (self.options.get("READ_FUNCTION") or "").strip().upper() or None
            if function is not None and not (len(function) <= 30 and function.replace(
                    "/", "").replace("_", "").isalnum()):
                raise rfc.SapError(f"READ_FUNCTION must name a function module, not {function!r}")
            self._conn = rfc.connect(self._params)
            self.function, self.row_width = catalog.read_function(self._conn, function)
        except rfc.SapError as err:
            self.close()
            raise HeadConnectionError(f"{self.name}: {err}") from None

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - a connection that is gone is closed
                pass

    def _connection(self):
        if self._conn is None:
            self.open()
        return self._conn

    def _sap(self, what, *args, **kwargs):
        """``what(connection, …)`` on the catalog connection, errors as one HeadError line."""
        from .rfc import SapError

        with self._lock:
            try:
                return what(self._connection(), *args, **kwargs)
            except SapError as err:
                raise HeadError(f"{self.name}: {err}") from None

    # -- catalog --------------------------------------------------------------------------------
    def patterns(self) -> list[str]:
        raw = self.options.get("TABLES") or ""
        return [p.strip().upper() for p in raw.split(",") if p.strip()]

    def enumerate(self) -> Iterable[Element]:
        from . import catalog

        patterns = self.patterns()
        lang = self._params["lang"] if self._params else "EN"
        found = self._sap(catalog.list_tables, self.function, patterns, lang)
        names = {t.name for t in found}
        missing = [p for p in patterns if not any(c in p for c in "*?") and p not in names]
        if missing:
            raise HeadError(f"{self.name}: SAP table {missing[0]} (named in TABLES) does not"
                            " exist or is no table, view, cluster or pool table")
        counts, self._count_note = self._sap(catalog.row_counts,
                                             [t.name for t in found if t.tabclass != "VIEW"])
        self._listing = []
        for table in found:
            try:
                fields, note = self._sap(catalog.table_fields, table.name, self.function, lang)
            except HeadError as err:  # listed, with the reason it cannot be read
                note = str(err).removeprefix(f"{self.name}: ")
                self._listing.append((table, None, None, note))
                yield Element((table.name,), KINDS.get(table.tabclass, "table"), path=table.name,
                              error=note)
                continue
            self._fields[table.name] = fields
            rows = (counts or {}).get(table.name)
            self._listing.append((table, fields, rows, note))
            yield self._element(table, fields, rows, note)

    def _element(self, table: SapTable, fields: list[SapField], rows: int | None,
                 fields_note: str | None) -> Element:
        keys = [f.name for f in fields if f.key]
        notes = [n for n in (fields_note, None if rows is not None else self._count_note) if n]
        if not keys:
            notes.append("no key: read with ROWSKIPS, which may page unstably while the table"
                         " changes")
        unsupported = [f.name for f in fields if not f.supported]
        if unsupported:
            notes.append(f"{', '.join(unsupported)}: string types {self.function} cannot return"
                         " (always NULL)")
        width = sum(f.length for f in fields if f.supported)
        return Element((table.name,), KINDS.get(table.tabclass, "table"), path=table.name,
                       row_count=rows, row_count_exact=rows is not None,
                       size_bytes=rows * width if rows is not None else None,
                       columns=[Column(f.name, duckdb_type(f), source_type(f), None,
                                       column_note(f, self.function)) for f in fields],
                       key=keys or None, note="; ".join(notes) or None)

    def head_tables(self) -> Mapping[str, pa.Table]:
        tables, fields = [], []
        for table, table_fields, rows, note in self._listing:
            tables.append({"table_name": table.name, "table_class": table.tabclass,
                           "description": table.text, "delivery_class": table.delivery_class,
                           "client_dependent": table.client_dependent, "row_count": rows,
                           "row_count_note": None if rows is not None else (
                               self._count_note or note or "not counted: views are not")})
            for f in table_fields or ():
                fields.append({"table_name": table.name, "field_name": f.name,
                               "position": f.position, "is_key": f.key,
                               "data_type": f.datatype, "abap_type": f.inttype,
                               "length": f.length, "decimals": f.decimals,
                               "description": f.text or None, "read_as": duckdb_type(f),
                               "note": column_note(f, self.function)})
        import pyarrow as pa

        return {"sap_tables": pa.Table.from_pylist(tables, schema=_tables_schema()),
                "sap_fields": pa.Table.from_pylist(fields, schema=_fields_schema())}

    def table_fields(self, element: Element) -> list[SapField]:
        """The element's fields from the dictionary (asked once per table and head)."""
        from . import catalog

        table = element.path or element.name
        with self._lock:
            if table not in self._fields:
                lang = self._params["lang"] if self._params else "EN"
                self._fields[table] = self._sap(catalog.table_fields, table, self.function,
                                                lang)[0]
            return self._fields[table]

    def schema(self, element: Element) -> list[Column]:
        return [Column(f.name, duckdb_type(f), source_type(f), None,
                       column_note(f, self.function)) for f in self.table_fields(element)]

    # -- pushdown -------------------------------------------------------------------------------
    def _translate(self, element: Element, quals: list[Qual]):
        """The OPTIONS words of the Quals ABAP can say, and each Qual as the translator takes it
        (None for one it cannot: an ``or``, an unknown column)."""
        from . import abap

        by_name = {f.name.upper(): f for f in self.table_fields(element)}
        triples = []
        for qual in quals:
            field = by_name.get(qual.column.upper()) if qual.column else None
            triples.append(None if field is None else (field.name, qual.op, qual.values))
        usable = [t for t in triples if t is not None]
        return abap.translate(usable, {t[0]: by_name[t[0].upper()] for t in usable}), triples

    def can_filter(self, element: Element, qual: Qual) -> bool:
        """True for a Qual ABAP applies exactly as DuckDB would on the converted values
        (``abap``'s docstring says which); the rest stays with DuckDB."""
        translation, triples = self._translate(element, [qual])
        return triples[0] is not None and len(translation.exact) == 1

    # -- reading --------------------------------------------------------------------------------
    def read(self, element: Element, columns: list[str] | None = None,
             quals: list[Qual] | None = None, limit: int | None = None) -> pa.RecordBatchReader:
        import pyarrow as pa

        from . import reader, rfc

        fields = self.table_fields(element)
        by_name = {f.name.upper(): f for f in fields}
        wanted = [f.name for f in fields] if columns is None else columns
        unknown = [c for c in wanted if c.upper() not in by_name]
        if unknown:
            raise HeadError(f"{self.name}: SAP table {element.name} has no field {unknown[0]}"
                            " (REFRESH the source if the table changed)")
        chosen = [by_name[c.upper()] for c in wanted]
        readable = [f.name for f in chosen if f.supported]
        carrier = readable or [next((f.name for f in fields if f.key or f.supported), "")]
        translation, triples = self._translate(element, quals or [])
        exact = all(t is not None for t in triples) and len(translation.exact) == len(triples)
        limit = limit if exact else None
        schema = pa.schema([pa.field(f.name, _arrow_type(f)) for f in chosen])
        conn = self._read_connection()
        try:
            plan = reader.plan_read(conn, element.name, fields, columns=carrier,
                                    function=self.function, row_width=self.row_width)
        except rfc.SapError as err:
            conn.close()
            raise HeadError(f"{self.name}: {err}") from None
        expected = element.row_count if not quals else None
        batches = reader.read_table(conn, element.name, fields, where=translation.words,
                                    expected_rows=expected, plan=plan)
        return pa.RecordBatchReader.from_batches(
            schema, self._stream(conn, batches, chosen, schema, limit))

    def _read_connection(self):
        from . import rfc

        if self._params is None:
            self.open()
        try:
            return rfc.connect(self._params)
        except rfc.SapError as err:
            raise HeadConnectionError(f"{self.name}: {err}") from None

    def _stream(self, conn, batches, chosen: list[SapField], schema: pa.Schema,
                limit: int | None) -> Iterator[pa.RecordBatch]:
        import pyarrow as pa

        from .rfc import SapError

        left = limit
        try:
            for batch in batches:
                if left is not None:
                    if left <= 0:
                        return
                    batch, left = batch.slice(0, left), left - min(left, batch.num_rows)
                if not chosen:  # no column asked for: the rows only count
                    yield batch.select([])
                    continue
                arrays = [batch.column(f.name) if f.supported
                          else pa.nulls(batch.num_rows, _arrow_type(f)) for f in chosen]
                yield pa.RecordBatch.from_arrays(arrays, schema=schema)
        except SapError as err:
            raise HeadError(f"{self.name}: {err}") from None
        finally:
            batches.close()
            conn.close()

    def split(self, element: Element, parts: int) -> list[list[Qual]] | None:
        """Ranges on the first key field after the client, cut at quantiles of a sample of its
        values: ``F < c1``, ``c1 <= F < c2`` … ``F >= cn`` (each read pages by key range)."""
        from . import reader

        if parts < 2 or not element.key:
            return None
        fields = self.table_fields(element)

        def cuts(conn):
            plan = reader.plan_read(conn, element.name, fields, columns=[],
                                    function=self.function, row_width=self.row_width)
            key = reader.split_field(plan)
            return key, (reader.field_cuts(conn, plan, key, parts) if key else [])

        key, points = self._sap(cuts)
        if key is None or not points:
            return None
        values = [int(p) if key.inttype in ("b", "s", "I", "8") else p for p in points]
        bounds = [None, *values, None]
        return [([Qual(key.name, ">=", (low,))] if low is not None else [])
                + ([Qual(key.name, "<", (high,))] if high is not None else [])
                for low, high in zip(bounds, bounds[1:], strict=False)]

    def count(self, element: Element) -> tuple[int, str] | None:
        """The row count EM_GET_NUMBER_OF_ENTRIES gives (the database's count, independent of
        RFC_READ_TABLE), or None when the user may not call it."""
        from . import catalog

        if element.kind == "view":
            return None
        counts, _ = self._sap(catalog.row_counts, [element.name])
        if not counts or element.name not in counts:
            return None
        return counts[element.name], "EM_GET_NUMBER_OF_ENTRIES"


def _arrow_type(field: SapField):
    import pyarrow as pa

    from .convert import arrow_type

    if field.supported:
        return arrow_type(field)
    return pa.binary() if field.inttype == "y" else pa.string()


def _tables_schema():  # noqa: N802 - a constant, built on first use (pyarrow loads late)
    import pyarrow as pa

    return pa.schema([("table_name", pa.string()), ("table_class", pa.string()),
                      ("description", pa.string()), ("delivery_class", pa.string()),
                      ("client_dependent", pa.bool_()), ("row_count", pa.int64()),
                      ("row_count_note", pa.string())])


def _fields_schema():  # noqa: N802 - as above
    import pyarrow as pa

    return pa.schema([("table_name", pa.string()), ("field_name", pa.string()),
                      ("position", pa.int32()), ("is_key", pa.bool_()),
                      ("data_type", pa.string()), ("abap_type", pa.string()),
                      ("length", pa.int32()), ("decimals", pa.int32()),
                      ("description", pa.string()), ("read_as", pa.string()),
                      ("note", pa.string())])
