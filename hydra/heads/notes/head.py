"""The notes head: a Notes estate (DXL exports, Domino Access Services or the Domino REST API) as
elements and virtual tables.

    ATTACH 'exports/notes' AS notes (TYPE notes)                  -- a folder (or one file) of DXL
    ATTACH 'domino+https://mail.client.com' AS dom (USER 'u', PASSWORD_ENV 'DOMINO_PW')   -- DAS
    ATTACH 'domino+https://mail.client.com:8880' AS dom (API 'rest', USER 'u', PASSWORD_ENV 'PW')

Elements, per database (``<db>`` is the DXL file's name, the ``.nsf`` path or the REST scope):

* ``<db>.forms.<form>``: the documents of one form, a column per item seen (typed by ``forms``);
* ``<db>.views.<view>``: a view as a table of its columns;
* ``<db>.attachments``: the attached files, one row each; EXTRACT also writes the files
  themselves beside the rows (``files``), each with its SHA-256 in the manifest.

ATTACH reads every document once (``scan``): that is how the forms' columns are learnt, and it
fills ``notes_docs``. Its rows go to a temporary Arrow file as they come (``RowSpill``) and stream
into the workspace, so a 2 GB export attaches in bounded memory. Reads stream too: a DXL file is
parsed again, a server is paged. Nothing is ever written to the source: DXL files are only read,
and the HTTP clients send GETs (and the REST API's login).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from hydra.heads.base import FILES_FOLDER, Column, Element, Head, HeadConnectionError, HeadError, Option
from hydra.heads.notes.elements import ATTACHMENT_COLUMNS, ATTACHMENTS, FORMS, VIEWS

if TYPE_CHECKING:
    import pyarrow as pa

    from hydra.heads.notes.estate import Place

APIS = ("das", "rest")
WritesFile = Callable[[IO[bytes]], Any]  # writes one file's bytes to a binary file object


class NotesHead(Head):
    kind = "notes"
    schemes = ("domino+https", "domino+http")
    #: the columns the head puts before a document's items (forms.META_COLUMNS) or a view entry's
    #: values (forms.VIEW_META), and the Form item, which Notes reserves (every row of a form's
    #: table holds the form's own name)
    system_columns = frozenset({"@unid", "@noteid", "@created", "@modified", "@parent", "@position",
                                "form"})
    tables = ("notes_databases", "notes_views", "notes_forms", "notes_docs", "notes_attachments")
    attach_options = (
        Option("API", str, choices=APIS,
               help="das (Domino Access Services, the default) or rest (the Domino REST API)"),
        Option("USER", str, help="the Domino user name"),
        Option("PASSWORD_ENV", str, help="the environment variable holding the password"),
        Option("CONCURRENCY", int, minimum=1, help="documents fetched at once (default 2)"),
        Option("PAGE_SIZE", int, minimum=1,
               help="view entries asked per request (DAS 100, REST 1000)"),
    )

    @classmethod
    def claims_path(cls, uri: str) -> bool:
        return os.path.isfile(uri) and uri.lower().endswith(".dxl")  # a .xml needs TYPE notes

    def __init__(self, name, uri, options=None):
        super().__init__(name, uri, options)
        # the core checked the options' values against their declarations; option() reads them
        self.api = self.option("API", "das").lower()
        self.concurrency = self.option("CONCURRENCY")
        self.page_size = self.option("PAGE_SIZE")
        self.http = uri.lower().startswith("domino+")
        self._estate = None
        self._places: dict[str, Place] = {}
        self._schemas: dict[tuple[str, str], Any] = {}  # (db, form) -> forms.FormSchema
        self._views: dict[tuple[str, str], Any] = {}  # (db, view) -> model.View
        self._unids: dict[tuple[str, str], list[str]] = {}  # HTTP: (db, form) -> its documents
        self._rows: dict[str, Any] = {}

    # -- life cycle -----------------------------------------------------------------------------

    def open(self) -> None:
        from hydra.heads.notes import estate

        if not self.http:
            self._estate = estate.DxlEstate(self.uri)
            self._estate.check()
            return
        from hydra.heads.notes import rest

        user, password = self._credentials()
        sizes = {"page_size": self.page_size} if self.page_size else {}
        if self.concurrency:
            sizes["concurrency"] = self.concurrency
        if self.api == "rest":
            if user is None or password is None:
                raise HeadConnectionError("the Domino REST API needs USER and PASSWORD_ENV (or "
                                          "user:${PASSWORD} in the URL)")
            client = rest.DominoRestClient(self.uri, user, password, **sizes)
            client.login()  # a wrong password is said here, in one line
            self._estate = estate.RestEstate(client)
        else:
            client = rest.DasClient(self.uri, user, password, **sizes)
            self._estate = estate.DasEstate(client)
            self._places = {p.name: p for p in self._estate.places()}  # checks the password

    def _credentials(self) -> tuple[str | None, str | None]:
        parts = urlsplit(self.uri.removeprefix("domino+"))
        user = self.options.get("USER") or (unquote(parts.username) if parts.username else None)
        password = unquote(parts.password) if parts.password is not None else None
        variable = self.options.get("PASSWORD_ENV")
        if variable:
            password = os.environ.get(variable)
            if password is None:
                raise HeadConnectionError(f"PASSWORD_ENV names {variable}, which is not set")
        return user, password

    def close(self) -> None:
        self._rows = {}  # spilled rows not read: their files are already gone (RowSpill.reader)

    # -- catalog --------------------------------------------------------------------------------

    def _place(self, name: str) -> Place:
        if name not in self._places:
            self._places = {p.name: p for p in self._estate.places()}
        place = self._places.get(name)
        if place is None:
            raise HeadError(f"database {name!r} is no longer in {self._where()}")
        return place

    def _where(self) -> str:
        return self._estate.path if not self.http else self.redact(self.uri)

    def enumerate(self) -> Iterable[Element]:
        from hydra.heads.notes.scan import Scan

        self.close()
        scan = Scan(self.name, track_unids=self.http)
        try:
            self._places = {p.name: p for p in self._estate.places()}
            for place in self._places.values():
                found = scan.database(self._estate, place)
                self._schemas.update(found.schemas)
                self._views.update(found.views)
                self._unids.update(found.unids)
                yield from found.elements(has_attachments=self._estate.via != "das")
        except BaseException:
            scan.discard()
            raise
        self._rows = scan.tables()

    def head_tables(self):
        rows, self._rows = self._rows, {}
        return rows

    def schema(self, element: Element) -> list[Column]:
        raise HeadError(f"{element.path}: its columns are learnt at ATTACH; REFRESH {self.name}")

    # -- data -----------------------------------------------------------------------------------

    def read(self, element: Element, columns=None, quals=None,
             limit=None) -> pa.RecordBatchReader:
        import pyarrow as pa

        from hydra.heads.notes import forms

        place = self._place(element.parts[0])
        what = element.parts[1] if len(element.parts) > 1 else ""
        if what == FORMS and len(element.parts) == 3:
            form = element.parts[2]
            schema = self._schemas.get((place.name, form)) or forms.schema_from_columns(
                form, element.columns or [])
            unids = self._unids.get((place.name, form))
            documents = self._estate.documents(place, unids)
            reader = forms.form_reader(documents, schema)
        elif what == VIEWS and len(element.parts) == 3:
            view = self._views.get((place.name, element.parts[2])) or self._estate.view(
                place, element.parts[2])
            specs = forms.view_columns(view)
            schema = pa.schema([pa.field(c.name, c.arrow_type) for c in specs])
            try:
                entries = self._estate.view_entries(place, view)
            except ValueError as err:  # a DXL view whose selection cannot be evaluated
                raise HeadError(f"{element.path}: {err}") from None
            reader = pa.RecordBatchReader.from_batches(schema, forms.view_batches(entries, view))
        elif what == ATTACHMENTS:
            schema = attachment_schema()
            reader = pa.RecordBatchReader.from_batches(schema, self._attachment_batches(place))
        else:
            raise HeadError(f"{element.path}: not an element of a notes source")
        return _limited(reader, limit)

    def _attachment_batches(self, place: Place) -> Iterator[pa.RecordBatch]:
        import pyarrow as pa

        schema = attachment_schema()
        rows = []
        for attachment, form in self._estate.attachments(place, with_data=False):
            rows.append(attachment_row(attachment, form))
            if len(rows) == 4096:
                yield pa.RecordBatch.from_pylist(rows, schema=schema)
                rows = []
        if rows:
            yield pa.RecordBatch.from_pylist(rows, schema=schema)

    def files(self, element: Element) -> Iterator[tuple[str, WritesFile]] | None:
        """An attachments element's files, each as (its path under the element's folder, a
        function that writes its bytes), one document's files in memory at a time."""
        if len(element.parts) != 2 or element.parts[1] != ATTACHMENTS:
            return None
        place = self._place(element.parts[0])
        return ((file_name(a), a.save) for a, _ in self._estate.attachments(place, with_data=True))


# -- the attachments element -----------------------------------------------------------------------


def attachment_schema() -> pa.Schema:
    import pyarrow as pa

    types = {"VARCHAR": pa.string(), "BIGINT": pa.int64(),
             "TIMESTAMPTZ": pa.timestamp("us", tz="UTC")}
    return pa.schema([pa.field(n, types[t]) for n, t, _ in ATTACHMENT_COLUMNS])


def file_name(attachment) -> str:
    """``<unid>/<name>``: a file name is unique within its document, not its database."""
    return f"{attachment.unid}/{safe_file_name(attachment.name)}"


def safe_file_name(name: str) -> str:
    """A file name that stays one name in a folder: separators and control characters become
    '_'; '', '.' and '..' are prefixed."""
    cleaned = "".join("_" if ch in "/\\" or ord(ch) < 32 else ch for ch in name).strip()
    return cleaned if cleaned not in ("", ".", "..") else "_" + cleaned


def attachment_row(attachment, form: str | None) -> dict[str, Any]:
    return {"@unid": attachment.unid, "form": form, "file_name": attachment.name,
            "size": attachment.size, "created": attachment.created,
            "modified": attachment.modified,
            "path": f"{FILES_FOLDER}/{file_name(attachment)}"}


# -- helpers ---------------------------------------------------------------------------------------


def _limited(reader: pa.RecordBatchReader, limit: int | None) -> pa.RecordBatchReader:
    """Stop reading the source once ``limit`` rows have come."""
    import pyarrow as pa

    if limit is None:
        return reader

    def batches():
        left = limit
        for batch in reader:
            if left <= 0:
                return
            yield batch.slice(0, left)
            left -= batch.num_rows

    return pa.RecordBatchReader.from_batches(reader.schema, batches())
