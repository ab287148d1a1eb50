"""The tableau head: a Tableau Server through its REST API, its repository database, or both.

    ATTACH 'tableau+https://tableau.client.com' AS tab
        (SITE 'finance' | '*', TOKEN_NAME 'hydra', TOKEN_ENV 'TAB_PAT'
         | USER 'admin', PASSWORD_ENV 'TAB_PW',
         [REPOSITORY 'postgresql://readonly:${TAB_REPO_PW}@tableau.client.com:8060/workgroup',]
         [EXTRACTS false,] [VERIFY false])
    ATTACH 'tableau+postgresql://readonly:${TAB_REPO_PW}@tableau.client.com:8060/workgroup' AS tab

Elements:

* the repository's tables and views (``tab.public.workbooks``), read through the SQL head, which
  this head holds (composition: ``self.repository``) and delegates to for those elements only.
  Relations the repository user may not read are listed with the reason in ``elements.error``,
  and ATTACH says in one line how many there are;
* every table of every ``.hyper`` extract of a published datasource or a workbook
  (``tab."finance/datasources/Ledger"."Extract.Ledger"``): ATTACH downloads each package once
  to read its tables' columns and row counts (``EXTRACTS false`` skips that), a read downloads
  it again; each download is streamed to a file in the workspace's folder (its size is shown
  first) and removed when done. Hyper computes PROFILE/RECONCILE figures itself. A legacy
  ``.tde`` is listed with the reason it cannot be read in ``elements.error``;
* every view's summary data as CSV (``tab."default/views/Regional Sales".Overview``).

Virtual tables (``tableau_*``): from REST, the repository, or both (``merge``).
Read-only: only GETs after a sign-in, a sign-out at close; repository sessions are read-only.
"""

from __future__ import annotations

import sys
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from hydra.heads.base import Aggregates, Column, Element, Head, HeadError, parse_bool

from . import content
from .content import CONTENT_KINDS, EXTRACT_KIND, VIEW_DATA_KIND, ContentRef
from .errors import TableauConnectionError, TableauError
from .rows import TABLES, Row

if TYPE_CHECKING:
    import pyarrow as pa

    from .rest import SiteSession

REPOSITORY_PORT, REPOSITORY_DATABASE = 8060, "workgroup"
REST_OPTIONS = ("SITE", "TOKEN_NAME", "TOKEN_ENV", "USER", "PASSWORD_ENV", "VERIFY", "TIMEOUT",
                "EXTRACTS")
SQL_OPTIONS = ("BULK", "BATCH_ROWS")  # passed through to the repository's SQL head
KINDS = (("datasource", "tableau_datasources"), ("workbook", "tableau_workbooks"))


class TableauHead(Head):
    kind = "tableau"
    schemes = ("tableau+https", "tableau+http", "tableau+postgresql", "tableau+postgres")
    tables = tuple(TABLES)
    options_allowed = (*REST_OPTIONS, "REPOSITORY", *SQL_OPTIONS)
    #: content refs are "<site>/datasources/<name>": EXTRACT makes folders of them (the
    #: repository's schema.table parts have no '/', so they are laid out as by the SQL head)
    path_parts = True
    #: where downloads go: the workspace's folder (set by the workspace), else the system's temp
    work_folder: str | None = None

    def __init__(self, name: str, uri: str, options: Mapping[str, str] | None = None):
        super().__init__(name, uri, options)
        self.options = {k.upper(): v for k, v in self.options.items()}
        scheme, _, rest = uri.partition("://")
        backend = scheme.lower().split("+", 1)[1] if "+" in scheme else ""
        self.rest_spec = None
        repository = self.options.get("REPOSITORY")
        if backend in ("https", "http"):
            self.rest_spec = self._rest_spec(f"{backend}://{rest}")
        elif backend in ("postgresql", "postgres"):
            given = sorted(set(self.options) & set(REST_OPTIONS + ("REPOSITORY",)))
            if given:
                raise HeadError(f"{name}: {given[0]} belongs to the REST form: ATTACH "
                                "'tableau+https://server' … (REPOSITORY 'postgresql://…')")
            repository = f"postgresql://{rest}"
        else:
            raise HeadError(f"{name}: a Tableau URI is tableau+https://server or "
                            "tableau+postgresql://user@server:8060/workgroup")
        try:
            self.repository_url = _repository_url(repository) if repository else None
        except HeadError as err:
            raise HeadError(f"{name}: {err}") from None
        self.extracts = parse_bool(self.options.get("EXTRACTS"), default=True)
        self.repository = None  # the SQL head over the repository (composition), once open
        self.rest = None
        self.attach_note: str | None = None  # one line the workspace shows after ATTACH
        self._repository_mode: str | None = None
        self._unreadable: dict[tuple[str, ...], str] = {}
        self._inventory: dict[str, list[Row]] | None = None
        self._live: SiteSession | None = None  # the one signed-in session reads use
        self._lock = threading.Lock()
        self._hyper = None  # a running Hyper process (context manager), shared by reads
        self._process = None  # … and the process itself
        self._hyper_lock = threading.Lock()
        self._open_files: set[Any] = set()  # packages and extracts a read has not closed yet

    def _rest_spec(self, server: str):
        from .rest import RestSpec

        opts = self.options
        if not (opts.get("TOKEN_NAME") or opts.get("USER")):
            raise HeadError(f"{self.name}: Tableau REST needs TOKEN_NAME with TOKEN_ENV (a "
                            "personal access token), or USER with PASSWORD_ENV")
        try:
            timeout = float(opts.get("TIMEOUT", 60))
        except ValueError:
            raise HeadError(f"{self.name}: TIMEOUT must be a number of seconds") from None
        return RestSpec(server.rstrip("/"), opts.get("SITE", ""), opts.get("TOKEN_NAME"),
                        opts.get("TOKEN_ENV"), opts.get("USER"), opts.get("PASSWORD_ENV"),
                        parse_bool(opts.get("VERIFY"), default=True), timeout)

    @staticmethod
    def redact(uri: str) -> str:
        from hydra.secrets import redact_uri

        return redact_uri(uri)

    # -- life cycle -----------------------------------------------------------------------------

    def open(self) -> None:
        from .rest import TableauRest

        self.close()  # REFRESH opens the same head again
        if self.repository_url:
            self._open_repository()
        if self.rest_spec is not None:
            self.rest = TableauRest(self.rest_spec, self.name)

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
                self._hyper = None
        if self.repository is not None:
            self.repository.close()
            self.repository = None

    def _open_repository(self) -> None:
        from sqlalchemy.engine import make_url

        from hydra.heads.sql import SqlHead

        from .repository import access_mode, connect_error, relation_access

        url = make_url(self.repository_url)
        inner = SqlHead(self.name, self.repository_url,
                        {k: v for k, v in self.options.items() if k in SQL_OPTIONS})
        try:
            inner.open()
        except HeadError as err:
            raise self._error(connect_error(err, url.host, url.port, url.username)) from None
        try:
            with inner.engine.connect() as conn:
                relations = relation_access(conn)
        except Exception as err:  # noqa: BLE001 - a driver error, made one line
            inner.close()
            raise self._error(TableauError(f"cannot list the repository's relations: "
                                           f"{self._clean(err)}")) from None
        self._repository_mode = access_mode(relations)
        if self._repository_mode is None:
            inner.close()
            raise self._error(TableauConnectionError(
                f"repository user '{url.username}' can read neither the repository's tables nor "
                "its _* views: the admin enables access for 'readonly' (or 'tableau')"))
        self._unreadable = {(r.schema, r.name): r.reason for r in relations if not r.readable}
        if self._unreadable:
            self.attach_note = (
                f"repository user '{url.username}' cannot read {len(self._unreadable)} of "
                f"{len(relations)} tables and views (it reads only the _* views; 'readonly' "
                "reads them all): they are listed with the reason in elements.error")
        self.repository = inner

    # -- errors -------------------------------------------------------------------------------

    def _clean(self, err: BaseException | str) -> str:
        from hydra.errors import one_line
        from hydra.secrets import mask_secrets, uri_secrets

        text = one_line(err) if isinstance(err, BaseException) else str(err)
        return mask_secrets(text, uri_secrets(self.uri) + uri_secrets(self.repository_url or ""))

    def _error(self, err: HeadError) -> HeadError:
        """The same error, its one line masked and starting with the source's name."""
        text = self._clean(str(err))
        prefix = f"{self.name}: "
        return type(err)(text if text.startswith(prefix) else prefix + text)

    # -- catalog --------------------------------------------------------------------------------

    def enumerate(self) -> Iterable[Element]:
        elements: list[Element] = []
        repository_rows = None
        if self.repository is not None:
            from .repository import inventory

            for el in self.repository.enumerate():
                reason = self._unreadable.get(tuple(el.parts))
                if reason:
                    el.error, el.note = reason, None
                elements.append(el)
            try:
                with self.repository.engine.connect() as conn:
                    repository_rows = inventory(conn, self.name, self._repository_mode)
            except Exception as err:  # noqa: BLE001
                raise self._error(TableauError(f"cannot read the repository's inventory: "
                                               f"{self._clean(err)}")) from None
        rest_rows = None
        if self.rest is not None:
            names = content.UniqueNames()

            def each(session, part):
                elements.extend(self._content_elements(session, part, names))

            try:
                rest_rows = self.rest.inventory(each)
            except HeadError as err:
                raise self._error(err) from None
            except Exception as err:  # noqa: BLE001 - a TSC error outside a call(): one line
                from .rest import _tsc_reason

                raise self._error(TableauError(
                    f"Tableau REST at {self.rest_spec.server}: {_tsc_reason(err)}")) from None
        from .merge import merge

        self._inventory = merge(rest_rows, repository_rows)
        return elements

    def head_tables(self) -> Mapping[str, Iterable[Mapping[str, Any]]]:
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
        if element.kind == EXTRACT_KIND:
            with self._extract(element) as (hyper, table):
                return [Column(c.name, c.type, c.hyper_type, c.nullable, c.note)
                        for c in table.columns]
        return self._repository().schema(element)

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

        if self.rest is None:
            raise HeadError(f"{self.name}: Tableau content is read through REST: ATTACH "
                            "'tableau+https://server' (…, REPOSITORY '…') to read it")
        if self._live is not None and self._live.site == site:
            return self._live
        if self._live is not None:
            self._live.sign_out()
            self._live = None
        self._live = SiteSession(self.rest_spec, site, self.name).sign_in()
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
                            f"read as its columns: {self._clean(err)}") from None

    # -- data -----------------------------------------------------------------------------------

    def _repository(self):
        if self.repository is None:
            raise HeadError(f"{self.name}: the repository is not attached: give REPOSITORY "
                            "'postgresql://readonly:${PW}@server:8060/workgroup'")
        return self.repository

    def scan_sql(self, element: Element) -> str | None:
        return None if element.kind in CONTENT_KINDS else self._repository().scan_sql(element)

    def can_filter(self, element: Element, predicate) -> bool:
        if element.kind in CONTENT_KINDS:
            return False
        return self._repository().can_filter(element, predicate)

    def split(self, element: Element, parts: int):
        if element.kind in CONTENT_KINDS:
            return None
        return self._repository().split(element, parts)

    def read(self, element: Element, columns=None, predicates=None, limit=None
             ) -> pa.RecordBatchReader:
        if element.kind == VIEW_DATA_KIND:
            table = self._view_table(element, element.columns)
            if columns is not None:
                table = table.select(columns)
            if limit is not None:
                table = table.slice(0, limit)
            return table.to_reader()
        if element.kind == EXTRACT_KIND:
            return self._read_extract(element, columns, limit)
        if element.error:
            raise HeadError(f"{self.name}: {element.error}")
        return self._repository().read(element, columns, predicates, limit)

    def _read_extract(self, element: Element, columns, limit) -> pa.RecordBatchReader:
        """Download, open, and stream the table; the files go when the stream ends, or at
        ``close()`` for a stream dropped half-read."""
        import pyarrow as pa

        opened = self._extract(element)
        hyper, table = opened.__enter__()
        closer = _Closer(opened)
        self._open_files.add(closer)
        try:
            reader = hyper.read(table, columns, limit=limit)
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
        if element.kind == VIEW_DATA_KIND:
            return None
        if element.kind != EXTRACT_KIND:
            return self._repository().aggregates(element, columns)
        with self._extract(element) as (hyper, table):
            try:
                figures = hyper.figures(table, [c.name for c in columns])
            except HeadError as err:
                raise self._error(err) from None
        return Aggregates(figures.row_count, figures.columns,
                          "hyper aggregate query on the downloaded extract",
                          figures.distinct_approximate)

    def count(self, element: Element) -> tuple[int, str] | None:
        if element.kind == VIEW_DATA_KIND:
            return None
        if element.kind != EXTRACT_KIND:
            return self._repository().count(element)
        with self._extract(element) as (hyper, table):
            return table.row_count, "hyper count(*) on the downloaded extract"


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


def _repository_url(url: str) -> str:
    """The repository's SQLAlchemy URL: ``tableau+`` dropped, Tableau's port and database
    filled in when not written."""
    from sqlalchemy.engine import make_url

    from hydra.secrets import MASK

    if url.lower().startswith("tableau+"):
        url = url[len("tableau+"):]
    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001
        raise HeadError("REPOSITORY must be a URL: postgresql://readonly:${PW}@server:8060/"
                        "workgroup") from None
    if parsed.password == MASK:
        raise HeadError("the repository's password was not stored: DETACH and ATTACH again "
                        "with it written as ${ENV_VAR} in REPOSITORY")
    if parsed.get_backend_name() not in ("postgresql", "postgres"):
        raise HeadError("the Tableau repository is PostgreSQL: REPOSITORY 'postgresql://…'")
    parsed = parsed.set(port=parsed.port or REPOSITORY_PORT,
                        database=parsed.database or REPOSITORY_DATABASE)
    return parsed.render_as_string(hide_password=False)


def _size(size: int | None) -> str:
    if size is None:
        return "size not given"
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:,} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return ""
