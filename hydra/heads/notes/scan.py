"""What ATTACH learns of a Notes estate: one pass over each database's design notes and documents
gives its elements (forms, views, attachments) and the rows of the head's own tables.

Memory: per database, only the forms' column types (``forms.SchemaLearner``) and the design notes
are kept; the rows of ``notes_docs`` and ``notes_attachments`` (one per document or file, a
million for a large export) go to temporary Arrow files (``RowSpill``) that stream into the
workspace.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from hydra.heads.base import Column, Element, HeadConnectionError, HeadError
from hydra.heads.notes import forms
from hydra.heads.notes.elements import ATTACHMENTS, FORMS, VIEWS, attachment_columns
from hydra.heads.notes.model import Document, DxlError, Form, View

_TS = pa.timestamp("us", tz="UTC")
DOCS_SCHEMA = pa.schema([
    ("source", pa.string()), ("database", pa.string()), ("unid", pa.string()),
    ("noteid", pa.string()), ("form", pa.string()), ("created", _TS), ("modified", _TS),
    ("parent", pa.string()), ("items", pa.list_(pa.string())), ("summary", pa.string()),
])
ATTACHMENTS_SCHEMA = pa.schema([
    ("source", pa.string()), ("database", pa.string()), ("unid", pa.string()),
    ("form", pa.string()), ("file_name", pa.string()), ("size", pa.int64()), ("created", _TS),
    ("modified", _TS),
])
#: rows per spilled batch: a notes_docs row is ~0.5-2 kB, so a batch stays a few MiB
SPILL_ROWS = 4096


class RowSpill:
    """Rows written to a temporary Arrow IPC file as they come, read back once as a stream (the
    file is deleted as soon as it is opened for reading)."""

    def __init__(self, schema: pa.Schema):
        self.schema = schema
        handle, self.path = tempfile.mkstemp(prefix="hydra-notes-", suffix=".arrow")
        os.close(handle)
        self._sink = pa.OSFile(self.path, "wb")
        self._writer = pa.ipc.new_stream(self._sink, schema)
        self._rows: list[dict] = []
        self.count = 0

    def add(self, row: dict) -> None:
        self._rows.append(row)
        self.count += 1
        if len(self._rows) >= SPILL_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self._rows:
            self._writer.write_batch(pa.RecordBatch.from_pylist(self._rows, schema=self.schema))
            self._rows = []

    def reader(self) -> pa.RecordBatchReader:
        self._flush()
        self._writer.close()
        self._sink.close()
        source = pa.OSFile(self.path, "rb")
        os.remove(self.path)  # the open file stays readable; nothing is left behind
        return pa.ipc.open_stream(source)

    def discard(self) -> None:
        """Drop the rows (a scan that failed or was not read)."""
        try:
            self._writer.close()
            self._sink.close()
        finally:
            if os.path.exists(self.path):
                os.remove(self.path)


@dataclass
class Found:
    """What one database's scan found."""

    place: Any  # estate.Place
    schemas: dict[tuple[str, str], forms.FormSchema] = field(default_factory=dict)
    views: dict[tuple[str, str], View] = field(default_factory=dict)
    unids: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    attachments: int = 0
    attachment_bytes: int = 0
    errors: list[str] = field(default_factory=list)  # malformed DXL, with its place
    error: str | None = None  # the database could not be read (403…)

    @property
    def note(self) -> str | None:
        if not self.errors:
            return None
        more = f" (and {len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
        return (f"read as far as the DXL allows; the documents at the errors are not read: "
                f"malformed DXL at {self.errors[0]}{more}")

    def elements(self, has_attachments: bool) -> list[Element]:
        name, address = self.place.name, self.place.address
        if self.error is not None:
            # a database this user may not open is still listed (the head contract: an element
            # that cannot be described is listed with its error), as the database itself
            return [Element(parts=(name,), kind="notes database", path=address, error=self.error)]
        counts = {form: s.documents for (_, form), s in self.schemas.items()}
        out = []
        for (_, form), schema in sorted(self.schemas.items()):
            out.append(Element(
                parts=(name, FORMS, form), kind="notes form", path=f"{address}#form={form}",
                row_count=schema.documents, row_count_exact=True, note=self.note,
                columns=[Column(c.name, c.type, c.source_type, True, c.note)
                         for c in schema.columns]))
        for (_, view_name), view in sorted(self.views.items()):
            element = Element(parts=(name, VIEWS, view_name), kind="notes view",
                              path=f"{address}#view={view_name}", note=self.note,
                              columns=[Column(c.name, c.type, None, True, c.note)
                                       for c in forms.view_columns(view)])
            if self.place.address.lower().endswith((".dxl", ".xml")):
                try:  # a DXL view is computed from its selection formula, where it can be
                    picked = forms.selection_forms(view.selection)
                    element.row_count = sum(n for f, n in counts.items()
                                            if picked is None or f in picked)
                except ValueError as err:
                    element.error, element.columns = str(err), None
            out.append(element)
        if has_attachments:
            out.append(Element(parts=(name, ATTACHMENTS), kind="notes attachments",
                               path=f"{address}#attachments", row_count=self.attachments,
                               row_count_exact=True, size_bytes=self.attachment_bytes,
                               note=self.note, columns=attachment_columns()))
        return out


class Scan:
    """ATTACH's pass over an estate, database by database, and the head tables' rows."""

    def __init__(self, source: str, track_unids: bool):
        self.source = source
        self.track_unids = track_unids  # HTTP: remember each form's documents, to read just them
        self.databases: list[dict] = []
        self.views: list[dict] = []
        self.forms: list[dict] = []
        self.docs = RowSpill(DOCS_SCHEMA)
        self.files = RowSpill(ATTACHMENTS_SCHEMA)

    def database(self, estate, place) -> Found:
        found = Found(place)
        learner = forms.SchemaLearner()
        designs: dict[str, Form] = {}
        documents = 0
        try:
            for event in estate.scan(place):
                if isinstance(event, Document):
                    documents += 1
                    self._document(place, event, learner, found)
                elif isinstance(event, View):
                    found.views[(place.name, event.name)] = event
                elif isinstance(event, Form):
                    designs.setdefault(event.name, event)
                elif isinstance(event, DxlError):
                    found.errors.append(str(event))
        except HeadConnectionError:
            raise
        except HeadError as err:  # a database this user may not open: listed with the error
            found.error = str(err)
        found.schemas = {(place.name, f): s for f, s in learner.schemas().items()}
        row = forms.database_row(place.name, place.database)
        row.update(source=self.source, via=estate.via, address=place.address,
                   documents_read=documents, error=found.error or found.note)
        self.databases.append(row)
        for view in found.views.values():
            self.views.append({**forms.view_row(place.name, view), "source": self.source})
        for (_, form), schema in found.schemas.items():
            self.forms.append({**forms.form_row(place.name, schema, designs.get(form)),
                               "source": self.source})
        return found

    def _document(self, place, doc: Document, learner, found: Found) -> None:
        learner.add(doc)
        row = forms.doc_row(place.name, doc)
        row["source"] = self.source
        self.docs.add(row)
        if self.track_unids:
            found.unids.setdefault((place.name, forms.form_of(doc)), []).append(doc.unid)
        for a in doc.attachments:
            found.attachments += 1
            found.attachment_bytes += a.size or 0
            self.files.add({"source": self.source, "database": place.name, "unid": a.unid,
                            "form": doc.form, "file_name": a.name, "size": a.size,
                            "created": a.created, "modified": a.modified})

    def discard(self) -> None:
        self.docs.discard()
        self.files.discard()

    def tables(self) -> dict[str, Any]:
        return {"notes_databases": self.databases, "notes_views": self.views,
                "notes_forms": self.forms, "notes_docs": self.docs.reader(),
                "notes_attachments": self.files.reader()}
