"""Tableau's published content through the REST API, as a head of its own: the inner head of
``TableauHead`` that lists and reads extract tables and views' summary data, and fills the
virtual tables from the walk (``rest.TableauRest``).

Extract tables: ATTACH downloads each package with an extract once, to read its tables' columns
and exact row counts from Hyper; every read downloads it again. A download is streamed to a
file in the workspace's folder (its size shown first at a terminal), the .hyper copied out of the
zip, and all of it removed when the read ends (or at ``close()`` for a read dropped half-way).
One Hyper process serves every read of the head. PROFILE/RECONCILE figures are Hyper's own, on a
fresh download. A legacy .tde is listed with the reason it cannot be read in ``elements.error``.

Reads sign in to the element's site and keep that one session (a personal access token holds one
session at a time: a read on another site signs out and in there); it is signed out at ``close``.
"""

from __future__ import annotations

import sys
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from hydra.core.errors import one_line
from hydra.core.quals import to_sql
from hydra.heads.base import Aggregates, Column, Element, Head, HeadError, Qual

from . import content
from .content import EXTRACT_KIND, VIEW_DATA_KIND, ContentRef
from .errors import TableauConnectionError, TableauError
from .rows import TABLES, Row

if TYPE_CHECKING:
    import pyarrow as pa

    from .rest import RestSpec, SiteSession

KINDS = (("datasource", "tableau_datasources"), ("workbook", "tableau_workbooks"))


class RestHead(Head):
    """The REST side of a tableau source (not an entry point: ``TableauHead`` holds it)."""

    kind = "tableau"
    tables = tuple(TABLES)
    path_parts = True

    def __init__(self, name: str, spec: RestSpec, extracts: bool = True,
                 work_folder: str | None = None):
        super().__init__(name, spec.server)
        self.spec, self.extracts, self.work_folder = spec, extracts, work_folder
        self.rest = None
        self._inventory: dict[str, list[Row]] | None = None
        self._live: SiteSession | None = None  # the one signed-in session reads use
        self._lock = threading.Lock()
        self._hyper = None  # a running Hyper process (context manager), shared by reads
        self._process = None  # … and the process itself
        self._hyper_lock = threading.Lock()
        self._open_files: set[Any] = set()  # reads' files not closed yet

    # -- life cycle -----------------------------------------------------------------------------

    def open(self) -> None:
        from .rest import TableauRest

        self.rest = TableauRest(self.spec, self.name)

    def close(self) -> None:
        with self._lock:
            if self._live is not None:
                self._live.sign_out()
                self._live = None
        for opened in list(self._open_files):
            opened.close()
        self._open_files.clear()
        with self._hyper_lock:
            if self._hyper is not None:
                self._hyper.__exit__(None, None, None)
                self._hyper = self._process = None

    def _error(self, err: HeadError) -> HeadError:
        """The same error, its one line starting with the source's name."""
        prefix = f"{self.name}: "
        text = str(err)
        return type(err)(text if text.startswith(prefix) else prefix + text)

    # -- catalog --------------------------------------------------------------------------------

    def enumerate(self) -> Iterable[Element]:
        """The walk: every site's rows for the virtual tables, and its content elements."""
        elements: list[Element] = []
        names = content.UniqueNames()

        def each(session, part):
            elements.extend(self._content_elements(session, part, names))

        try:
            self._inventory = self.rest.inventory(each)
        except HeadError as err:
            raise self._error(err) from None
        except Exception as err:  # noqa: BLE001 - a TSC error outside a call(): one line
            from .rest import _tsc_reason

            raise self._error(TableauError(
                f"Tableau REST at {self.spec.server}: {_tsc_reason(err)}")) from None
        return elements

    def head_tables(self) -> Mapping[str, list[Row]]:
        return dict(self._inventory or {})

    def _content_elements(self, session: SiteSession, part: dict[str, list[Row]],
                          names: content.UniqueNames) -> list[Element]:
        """The site's extract tables (each package downloaded once) and views' summary data."""
        site = session.site
        label = content.site_label(site)
        unique = {r[f"{kind}_id"]: names((label, kind), r[f"{kind}_name"], r[f"{kind}_id"])
                  for kind, table in KINDS for r in part[table]}
        out: list[Element] = []
        if self.extracts:
            for kind, table in KINDS:
                for r in part[table]:
                    if r["has_extract"]:
                        parts = (f"{label}/{kind}s/{unique[r[f'{kind}_id']]}",)
                        out.extend(self._package_elements(session, kind, r, parts))
        for r in part["tableau_views"]:
            workbook = unique.get(r["workbook_id"]) or r["workbook_name"] or r["workbook_id"]
            ref = ContentRef(site, "view", r["view_id"])
            out.append(Element((f"{label}/views/{workbook}", r["view_name"]), VIEW_DATA_KIND,
                               ref.path, modified_at=r["updated_at"]))
        return out

    def _package_elements(self, session: SiteSession, kind: str, r: Row,
                          parts: tuple[str, ...]) -> list[Element]:
        from .extracts import HyperExtract, LegacyExtractError

        luid = r[f"{kind}_id"]
        try:
            package = self._download(session, kind, luid)
        except TableauConnectionError:
            raise
        except TableauError as err:  # e.g. no permission to download: listed, not fatal
            ref = ContentRef(session.site, kind, luid)
            return [Element((*parts, "content"), EXTRACT_KIND, ref.path, error=str(err))]
        out = []
        with package:
            size = package.path.stat().st_size
            members = package.members
            for member in members:
                ref = ContentRef(session.site, kind, luid, member)
                stem = Path(member).name
                if member.lower().endswith(".tde"):
                    try:
                        package.hyper(member)
                    except LegacyExtractError as err:
                        out.append(Element((*parts, stem), EXTRACT_KIND, ref.path,
                                           size_bytes=size, error=str(err)))
                    continue
                try:
                    with HyperExtract(package.hyper(member), package.folder,
                                      self._hyper_process()) as hyper:
                        tables = hyper.tables()
                except TableauError as err:
                    out.append(Element((*parts, stem), EXTRACT_KIND, ref.path, size_bytes=size,
                                       error=str(err)))
                    continue
                for t in tables:
                    last = f"{t.schema}.{t.name}"
                    if len(members) > 1:  # tables of two extracts may share a name
                        last = f"{stem}:{last}"
                    out.append(Element(
                        (*parts, last), EXTRACT_KIND,
                        ContentRef(session.site, kind, luid, member, t.schema, t.name).path,
                        row_count=t.row_count, row_count_exact=True, size_bytes=size,
                        modified_at=r["updated_at"],
                        columns=[Column(c.name, c.type, c.hyper_type, c.nullable, c.note)
                                 for c in t.columns]))
        return out

    def schema(self, element: Element) -> list[Column]:
        if element.kind == VIEW_DATA_KIND:
            table = self._view_table(element, None)
            return [Column(f.name, content.arrow_to_duckdb(f.type), "csv", True)
                    for f in table.schema]
        with self._extract(element) as (_, table):
            return [Column(c.name, c.type, c.hyper_type, c.nullable, c.note)
                    for c in table.columns]

    # -- content: downloads, Hyper ----------------------------------------------------------

    def _folder(self) -> Path:
        return Path(self.work_folder or tempfile.gettempdir())

    def _say(self, line: str) -> None:
        """Progress for a person at a terminal (scripts and pipes get none), on stderr."""
        if sys.stderr.isatty():
            print(line, file=sys.stderr, flush=True)

    def _download(self, session: SiteSession, kind: str, luid: str):
        from .extracts import open_download

        def on_size(size: int | None, file_name: str) -> None:
            self._say(f"{self.name}: downloading {file_name} ({_size(size)})")

        return open_download(session, kind, luid, self._folder(), on_size)

    def _hyper_process(self):
        from .extracts import hyper_process

        with self._hyper_lock:
            if self._hyper is None:
                started = hyper_process()
                self._process = started.__enter__()
                self._hyper = started
            return self._process

    def _session(self, site: str) -> SiteSession:
        """The signed-in session of ``site`` (caller holds ``_lock``): one at a time, since a
        personal access token holds one session; a read on another site signs in there."""
        from .rest import SiteSession

        if self._live is not None and self._live.site == site:
            return self._live
        if self._live is not None:
            self._live.sign_out()
            self._live = None
        self._live = SiteSession(self.spec, site, self.name).sign_in()
        return self._live

    def _extract(self, element: Element):
        """A context: the element's package downloaded, its .hyper open; (extract, table)."""
        from contextlib import contextmanager

        from .extracts import HyperExtract

        ref = self._content_ref(element)

        @contextmanager
        def opened():
            package = self._fetch(ref)
            hyper = None
            try:
                try:
                    hyper = HyperExtract(package.hyper(ref.member), package.folder,
                                         self._hyper_process())
                    table = hyper.table(ref.schema, ref.table)
                except HeadError as err:
                    raise self._error(err) from None
                yield hyper, table
            finally:
                if hyper is not None:
                    hyper.close()
                package.close()

        return opened()

    def _fetch(self, ref: ContentRef):
        try:
            with self._lock:
                return self._download(self._session(ref.site), ref.kind, ref.luid)
        except HeadError as err:
            raise self._error(err) from None

    def _content_ref(self, element: Element) -> ContentRef:
        if element.error:
            raise HeadError(f"{self.name}: {element.error}")
        try:
            return ContentRef.parse(element.path or "")
        except ValueError as err:
            raise HeadError(f"{self.name}: {err}") from None

    def _view_table(self, element: Element, columns: list[Column] | None):
        ref = self._content_ref(element)
        try:
            with self._lock:
                data = self._session(ref.site).view_data(ref.luid)
        except HeadError as err:
            raise self._error(err) from None
        try:
            return content.read_csv(data, columns)
        except Exception as err:  # noqa: BLE001 - pyarrow's CSV errors, one line
            raise HeadError(f"{self.name}: the summary data of view {element.name} cannot be "
                            f"read as its columns: {one_line(err)}") from None

    # -- data -----------------------------------------------------------------------------------

    def can_filter(self, element: Element, qual: Qual) -> bool:
        """Extract tables filter in Hyper, for the comparisons Hyper makes as DuckDB does."""
        if element.kind != EXTRACT_KIND or not element.columns:
            return False
        by_name = {c.name: c for c in element.columns}
        return all(hyper_filters(by_name.get(q.column), q) for q in qual.leaves())

    def read(self, element: Element, columns=None, quals=None, limit=None
             ) -> pa.RecordBatchReader:
        if element.kind == VIEW_DATA_KIND:
            table = self._view_table(element, element.columns)
            if columns is not None:
                table = table.select(columns)
            if limit is not None:
                table = table.slice(0, limit)
            return table.to_reader()
        return self._read_extract(element, columns, quals, limit)

    def _read_extract(self, element: Element, columns, quals, limit) -> pa.RecordBatchReader:
        """Download, open, and stream the table; the files go when the stream ends, or at
        ``close()`` for a stream dropped half-read."""
        import pyarrow as pa

        opened = self._extract(element)
        hyper, table = opened.__enter__()
        closer = _Closer(opened)
        self._open_files.add(closer)
        try:
            where = to_sql(quals, "postgres") if quals else None  # Hyper speaks PostgreSQL's SQL
            reader = hyper.read(table, columns, where=where, limit=limit)
        except HeadError as err:
            closer.close()
            raise self._error(err) from None

        def batches():
            try:
                yield from reader
            finally:
                closer.close()
                self._open_files.discard(closer)

        return pa.RecordBatchReader.from_batches(reader.schema, batches())

    def aggregates(self, element: Element, columns: list[Column]) -> Aggregates | None:
        if element.kind != EXTRACT_KIND:
            return None
        with self._extract(element) as (hyper, table):
            try:
                figures = hyper.figures(table, [c.name for c in columns])
            except HeadError as err:
                raise self._error(err) from None
        return Aggregates(figures.row_count, figures.columns,
                          "hyper aggregate query on the downloaded extract",
                          figures.distinct_approximate)

    def count(self, element: Element) -> tuple[int, str] | None:
        if element.kind != EXTRACT_KIND:
            return None
        with self._extract(element) as (_, table):
            return table.row_count, "hyper count(*) on the downloaded extract"


_NUMBERS = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UINTEGER", "FLOAT", "DOUBLE")


def hyper_filters(column: Column | None, qual: Qual) -> bool:
    """Whether Hyper applies ``qual`` on ``column`` exactly as DuckDB would: NULL tests on any
    column; numbers, dates and timestamps compared with values of their kind; text and booleans
    for equality only (the order of text depends on a collation; ``like`` is left to DuckDB)."""
    import datetime as dt
    from decimal import Decimal

    if column is None:
        return False
    if qual.op in ("is null", "is not null"):
        return True
    if column.note or qual.op in ("like", "not like"):
        return False  # geography, JSON…: read converted, compared as read
    duck, values = column.type, qual.values
    if duck in _NUMBERS or duck.startswith("DECIMAL("):
        exact = (int, Decimal) if duck not in ("FLOAT", "DOUBLE") else (int, Decimal, float)
        return all(isinstance(v, exact) and not isinstance(v, bool) for v in values)
    if duck == "DATE":
        return all(type(v) is dt.date for v in values)
    if duck == "TIMESTAMP":
        return all(isinstance(v, dt.datetime) and v.tzinfo is None for v in values)
    if qual.op not in ("=", "<>", "in", "not in"):
        return False
    if duck == "VARCHAR":
        return all(isinstance(v, str) for v in values)
    return duck == "BOOLEAN" and all(isinstance(v, bool) for v in values)


class _Closer:
    """A read's open files, closable once (the stream's end or the head's ``close()``)."""

    def __init__(self, context):
        self._context, self._done = context, False

    def close(self) -> None:
        if not self._done:
            self._done = True
            try:
                self._context.__exit__(None, None, None)
            except Exception:  # noqa: BLE001 - closing must not hide a more useful error
                pass


def _size(size: int | None) -> str:
    if size is None:
        return "size not given"
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:,} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return ""
