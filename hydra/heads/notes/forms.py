"""Documents to tables: one Arrow table per form, views as tables of their columns, and the rows of
the head's own tables (notes_databases, notes_views, notes_forms, notes_docs, notes_attachments).

Memory stays bounded with two passes over the documents: ``SchemaLearner`` sees every document
once and keeps only, per form and item, the set of types seen; ``form_batches`` then streams one
form's documents into record batches of ``batch_rows`` rows. A DXL file is simply parsed twice
(``bench/bench_notes_dxl.py`` measures both passes).

Typing rules, per item across a form's documents (the column's ``note`` says which applied):

* text/textlist → VARCHAR, number/numberlist → DOUBLE; datetime values by their precision:
  a date-only value → DATE, a time-only value → TIME, a value with a zone → TIMESTAMPTZ, one
  without → TIMESTAMP; rich text → VARCHAR (plain text) plus ``<item>$markup`` (the raw markup).
* A column is a list (``[]``) when any document holds a list (textlist, numberlist…) or the item
  is a names/readers/authors item; single values are then one-element lists.
* When the type varies between documents (number in one, text in another; date-only in one,
  with a time in another) the column is VARCHAR, every value as text (datetimes in ISO 8601).
* An item the parser did not understand (raw item data, an unknown DXL element) is VARCHAR
  holding the raw text, and says so.
* Item names are case-insensitive in Notes, so 'Subject' and 'SUBJECT' are one column (the first
  spelling seen names it). ``$FILE`` items are attachments and ``$REF`` is the ``@parent`` column.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

import pyarrow as pa

from hydra.heads.notes.model import Attachment, Database, Document, Form, Item, View, iso

#: columns every form table starts with; item names cannot start with '@', so they never clash
META_COLUMNS = (
    ("@unid", "VARCHAR", "the document's universal id (UNID)"),
    ("@noteid", "VARCHAR", "the document's note id in this database (hex)"),
    ("@created", "TIMESTAMPTZ", "when the document was created"),
    ("@modified", "TIMESTAMPTZ", "when the document was last modified"),
    ("@parent", "VARCHAR", "a response document's parent UNID ($REF); NULL for a main document"),
)
MARKUP_SUFFIX = "$markup"
#: the source type of a rich text item's markup column
MARKUP_SOURCE_TYPE = "richtext (raw markup)"
#: items that are not columns: attachments have their own table, $REF is @parent
NOT_COLUMNS = frozenset({"$file", "$ref"})

_ARROW = {
    "text": pa.string(), "number": pa.float64(), "date": pa.date32(), "time": pa.time64("us"),
    "timestamp": pa.timestamp("us"), "timestamptz": pa.timestamp("us", tz="UTC"),
    "richtext": pa.string(), "raw": pa.string(),
}
_DUCKDB = {
    "text": "VARCHAR", "number": "DOUBLE", "date": "DATE", "time": "TIME",
    "timestamp": "TIMESTAMP", "timestamptz": "TIMESTAMPTZ", "richtext": "VARCHAR", "raw": "VARCHAR",
}
_DATETIME_KINDS = frozenset({"date", "time", "timestamp", "timestamptz"})
#: rows per record batch. Measured on bench_notes_dxl.py's Order form (rich text, ~1 kB a row):
#: peak RSS 183 MiB at 8192 rows, 136 MiB at 2048, 132 MiB at 1024, of which ~60 MiB is pyarrow's
#: allocator on first use; the rows are Python objects until converted, so smaller is leaner
BATCH_ROWS = 2048


@dataclass
class ColumnSpec:
    name: str
    type: str  # DuckDB type, e.g. 'VARCHAR[]', 'TIMESTAMPTZ'
    note: str | None = None
    item: str | None = None  # the item it comes from (None for meta columns)
    role: str = "value"  # 'meta', 'value' or 'markup'
    kind: str = "text"
    is_list: bool = False
    source_type: str | None = None  # the DXL item types seen ('text, textlist'), as columns shows

    @property
    def arrow_type(self) -> pa.DataType:
        if self.role == "meta":
            return _ARROW["timestamptz"] if self.type == "TIMESTAMPTZ" else pa.string()
        base = _ARROW["text" if self.role == "markup" else self.kind]
        return pa.list_(base) if self.is_list else base


@dataclass
class FormSchema:
    form: str
    columns: list[ColumnSpec]
    documents: int = 0

    @property
    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.arrow_type) for c in self.columns])


def form_of(doc: Document) -> str:
    """The form a document is grouped under: its form, or '(no form)'."""
    return doc.form or "(no form)"


# -- pass 1: learn each form's columns ------------------------------------------------------------


@dataclass
class _Seen:
    name: str  # first spelling
    kinds: set[str] = field(default_factory=set)
    dxl_types: set[str] = field(default_factory=set)
    is_list: bool = False
    note: str | None = None


class SchemaLearner:
    """Sees documents one at a time and remembers, per form and item, only what types it saw."""

    def __init__(self) -> None:
        self._forms: dict[str, dict[str, _Seen]] = {}
        self._counts: dict[str, int] = {}

    def add(self, doc: Document) -> None:
        form = form_of(doc)
        items = self._forms.setdefault(form, {})
        self._counts[form] = self._counts.get(form, 0) + 1
        for item in doc.items.values():
            key = item.name.lower()
            if key in NOT_COLUMNS:
                continue
            seen = items.get(key)
            if seen is None:
                seen = items[key] = _Seen(item.name)
            seen.dxl_types.add(item.type)
            seen.is_list |= item.is_list
            seen.kinds |= {value_kind(item, v) for v in item.values}
            if item.note and not seen.note:
                seen.note = item.note

    def schemas(self) -> dict[str, FormSchema]:
        return {form: FormSchema(form, _columns(items.values()), self._counts[form])
                for form, items in self._forms.items()}


def learn_schemas(documents: Iterable[Document]) -> dict[str, FormSchema]:
    learner = SchemaLearner()
    for doc in documents:
        learner.add(doc)
    return learner.schemas()


def value_kind(item: Item, value: Any) -> str:
    if item.note:
        return "raw"
    if item.type == "richtext":
        return "richtext"
    if isinstance(value, bool):
        return "text"
    if isinstance(value, float | int):
        return "number"
    if isinstance(value, datetime):
        return "timestamptz" if value.tzinfo is not None else "timestamp"
    if isinstance(value, date):
        return "date"
    if isinstance(value, time):
        return "time"
    return "text"


def _columns(seen_items: Iterable[_Seen]) -> list[ColumnSpec]:
    columns = [ColumnSpec(name, typ, note, role="meta") for name, typ, note in META_COLUMNS]
    for seen in seen_items:
        kind, note = _resolve(seen)
        suffix = "[]" if seen.is_list else ""
        columns.append(ColumnSpec(seen.name, _DUCKDB[kind] + suffix, note, seen.name, "value", kind,
                                  seen.is_list, ", ".join(sorted(seen.dxl_types))))
        if kind == "richtext":
            columns.append(ColumnSpec(seen.name + MARKUP_SUFFIX, "VARCHAR" + suffix,
                                      f"the raw markup of rich text item {seen.name}", seen.name,
                                      "markup", "richtext", seen.is_list, MARKUP_SOURCE_TYPE))
    return columns


_KINDS = {typ: kind for kind, typ in _DUCKDB.items() if kind not in ("richtext", "raw")}


def schema_from_columns(form: str, columns: Iterable[Any]) -> FormSchema:
    """A form's schema rebuilt from its catalog columns (``Column``: name, type, source_type,
    note), for a workspace reopened without the first pass: every rule of the read is in them."""
    meta = {name for name, _, _ in META_COLUMNS}
    specs = []
    for c in columns:
        if c.name in meta:
            specs.append(ColumnSpec(c.name, c.type, c.note, role="meta"))
            continue
        is_list = c.type.endswith("[]")
        markup = c.source_type == MARKUP_SOURCE_TYPE and c.name.endswith(MARKUP_SUFFIX)
        item = c.name[: -len(MARKUP_SUFFIX)] if markup else c.name
        kind = _KINDS.get(c.type.removesuffix("[]"), "text")
        specs.append(ColumnSpec(c.name, c.type, c.note, item, "markup" if markup else "value", kind,
                                is_list, c.source_type))
    return FormSchema(form, specs)


def _resolve(seen: _Seen) -> tuple[str, str | None]:
    """The column kind for what was seen of one item, and the note that explains it."""
    types = ", ".join(sorted(seen.dxl_types))
    kinds = seen.kinds or {"text"}
    if "raw" in kinds:
        return "raw", seen.note
    if len(kinds) == 1:
        kind = next(iter(kinds))
        note = {"richtext": f"rich text as plain text; raw markup in {seen.name}{MARKUP_SUFFIX}",
                "timestamptz": ("date/times with a zone, read as the instants they name; the "
                                "UTC offset they were written with is not kept")}.get(kind)
        return kind, note
    if kinds == {"richtext", "text"}:
        return "richtext", f"rich text in some documents, text in others ({types})"
    if kinds <= _DATETIME_KINDS:
        return "text", (f"date/time precision varies between documents "
                        f"({', '.join(sorted(kinds))}): ISO 8601 text")
    return "text", f"item type varies between documents ({types}): read as text"


# -- pass 2: stream rows ---------------------------------------------------------------------------


class _Batcher:
    """Rows of one form, turned into a record batch every ``batch_rows`` documents."""

    def __init__(self, schema: FormSchema, batch_rows: int):
        self.schema, self.batch_rows = schema, batch_rows
        self.arrow_schema = schema.arrow_schema
        self._new()

    def _new(self) -> None:
        self.rows: list[list[Any]] = [[] for _ in self.schema.columns]
        self.count = 0

    def add(self, doc: Document) -> pa.RecordBatch | None:
        items = {name.lower(): item for name, item in doc.items.items()}
        for values, spec in zip(self.rows, self.schema.columns, strict=True):
            values.append(_cell(doc, items, spec))
        self.count += 1
        return self.flush() if self.count == self.batch_rows else None

    def flush(self) -> pa.RecordBatch | None:
        if not self.count:
            return None
        batch = _batch(self.rows, self.arrow_schema)
        self._new()
        return batch


def form_batches(documents: Iterable[Document], schema: FormSchema,
                 batch_rows: int = BATCH_ROWS) -> Iterator[pa.RecordBatch]:
    """The documents of ``schema.form`` (others are skipped) as record batches."""
    batcher = _Batcher(schema, batch_rows)
    for doc in documents:
        if form_of(doc) == schema.form and (batch := batcher.add(doc)) is not None:
            yield batch
    if (batch := batcher.flush()) is not None:
        yield batch


def all_form_batches(documents: Iterable[Document], schemas: dict[str, FormSchema],
                     batch_rows: int = BATCH_ROWS) -> Iterator[tuple[str, pa.RecordBatch]]:
    """Every form's batches in ONE pass over the documents, as (form, batch): for extracting a
    whole database without parsing it once per form. Holds one partial batch per form. A
    document of a form pass 1 did not see (the file changed in between) is skipped."""
    batchers = {form: _Batcher(schema, batch_rows) for form, schema in schemas.items()}
    for doc in documents:
        form = form_of(doc)
        batcher = batchers.get(form)
        if batcher is not None and (batch := batcher.add(doc)) is not None:
            yield form, batch
    for form, batcher in batchers.items():
        if (batch := batcher.flush()) is not None:
            yield form, batch


def form_reader(documents: Iterable[Document], schema: FormSchema,
                batch_rows: int = BATCH_ROWS) -> pa.RecordBatchReader:
    return pa.RecordBatchReader.from_batches(schema.arrow_schema,
                                             form_batches(documents, schema, batch_rows))


def _batch(rows: list[list[Any]], schema: pa.Schema) -> pa.RecordBatch:
    arrays = [pa.array(v, type=f.type) for v, f in zip(rows, schema, strict=True)]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _cell(doc: Document, items: dict[str, Item], spec: ColumnSpec) -> Any:
    if spec.role == "meta":
        return {"@unid": doc.unid, "@noteid": doc.noteid, "@created": doc.created,
                "@modified": doc.modified, "@parent": doc.parent}[spec.name]
    item = items.get(spec.item.lower())
    if item is None:
        return None
    if spec.role == "markup":
        return [item.markup] if spec.is_list else item.markup
    values = [_convert(item, v, spec.kind) for v in item.values]
    if spec.is_list:
        return values
    return values[0] if values else None


def _convert(item: Item, value: Any, kind: str) -> Any:
    if kind in ("text", "raw", "richtext"):
        return as_text(value)
    if kind == "number":
        return float(value) if isinstance(value, float | int) else None
    return value


def as_text(value: Any) -> str | None:
    """A value as text: numbers as Notes shows them (7, not 7.0), datetimes in ISO 8601."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


# -- views -----------------------------------------------------------------------------------------

#: view entry columns before the view's own
VIEW_META = (
    ("@unid", "VARCHAR", "the UNID of the document the entry shows"),
    ("@noteid", "VARCHAR", "the note id of that document (hex)"),
    ("@position", "VARCHAR", "the entry's position in the view ('1', '2.1' for a response)"),
)


def view_columns(view: View) -> list[ColumnSpec]:
    """A view as a table: its entry metadata, then one VARCHAR column per view column (named by
    its title, or by its programmatic name when untitled or the title repeats). View values are
    what the view displays, so they are read as text (a multi-value entry as a list of text)."""
    columns = [ColumnSpec(name, typ, note, role="meta") for name, typ, note in VIEW_META]
    taken = {c.name.lower() for c in columns}
    for col in view.columns:
        name = col.title or col.name
        if name.lower() in taken:
            name = col.name if col.name.lower() not in taken else f"{name}_{col.position}"
        taken.add(name.lower())
        shows = f"formula {col.formula}" if col.formula else f"item {col.name}"
        columns.append(ColumnSpec(name, "VARCHAR[]", f"view column {col.name}: {shows}", col.name,
                                  "value", "text", True))
    return columns


def view_batches(entries: Iterable[dict[str, Any]], view: View,
                 batch_rows: int = BATCH_ROWS) -> Iterator[pa.RecordBatch]:
    """View entries (dicts keyed by '@unid', '@noteid', '@position' and column names) as batches."""
    specs = view_columns(view)
    schema = pa.schema([pa.field(c.name, c.arrow_type) for c in specs])
    rows: list[list[Any]] = [[] for _ in specs]
    count = 0
    for entry in entries:
        for values, spec in zip(rows, specs, strict=True):
            value = entry.get(spec.name if spec.role == "meta" else spec.item)
            if spec.role == "meta":
                values.append(None if value is None else str(value))
            else:
                listed = value if isinstance(value, list) else ([] if value is None else [value])
                values.append([as_text(v) for v in listed] if value is not None else None)
        count += 1
        if count == batch_rows:
            yield _batch(rows, schema)
            rows, count = [[] for _ in specs], 0
    if count:
        yield _batch(rows, schema)


def selection_forms(selection: str | None) -> frozenset[str] | None:
    """The forms a view's selection formula picks, None for every document. A DXL export holds no
    view index, so its views are computed here, and only for the selections views mostly have:
    ``SELECT @All`` and ``SELECT Form = "A" | Form = "B"`` (parentheses allowed). Anything else
    raises ValueError: the view is listed, but not read."""
    text = (selection or "SELECT @All").strip().rstrip(";")
    if text[:6].upper() != "SELECT":
        raise ValueError(f"view selection is not a SELECT formula: {text}")
    body = text[6:].replace("(", " ").replace(")", " ").strip()
    if body.lower() == "@all":
        return None
    picked = set()
    for term in body.split("|"):
        left, equals, right = term.partition("=")
        right = right.strip()
        if (not equals or left.strip().lower() != "form" or len(right) < 2
                or right[0] != '"' or right[-1] != '"' or '"' in right[1:-1]):
            raise ValueError(f"view selection formula not evaluable from a DXL export: {text}")
        picked.add(right[1:-1])
    return frozenset(picked)


def dxl_view_entries(view: View, documents: Iterable[Document]) -> Iterator[dict[str, Any]]:
    """A view's entries computed from exported documents (see ``selection_forms``), in export
    order rather than the view's sort order. A column showing an item (no formula, or a formula
    that is just an item name) gets that item's value; a computed column is NULL."""
    picked = selection_forms(view.selection)
    shows = {c.name: _bare_item(c.formula) if c.formula else c.name for c in view.columns}
    position = 0
    for doc in documents:
        form = doc.items.get("Form")
        form_name = form.values[0] if form is not None and form.values else doc.form
        if picked is not None and form_name not in picked:
            continue
        position += 1
        items = {name.lower(): item for name, item in doc.items.items()}
        entry: dict[str, Any] = {"@unid": doc.unid, "@noteid": doc.noteid,
                                 "@position": str(position)}
        for column, item_name in shows.items():
            item = items.get(item_name.lower()) if item_name else None
            entry[column] = item.value if item is not None else None
        yield entry


def _bare_item(formula: str) -> str | None:
    """The item a formula names when it is nothing but an item name, else None."""
    name = formula.strip()
    return name if name and all(c.isalnum() or c in "_$" for c in name) else None


# -- the head's own tables -------------------------------------------------------------------------


def database_row(database: str, db: Database) -> dict[str, Any]:
    return {"database": database, "title": db.title, "path": db.path, "replica_id": db.replica_id,
            "template": db.template, "document_count": db.document_count,
            "size_bytes": db.size_bytes}


def view_row(database: str, view: View) -> dict[str, Any]:
    return {
        "database": database, "view": view.name, "aliases": view.aliases, "unid": view.unid,
        "is_folder": view.is_folder, "selection": view.selection,
        "columns": json.dumps([{"name": c.name, "title": c.title, "position": c.position,
                                "formula": c.formula} for c in view.columns]),
    }


def form_row(database: str, schema: FormSchema, design: Form | None = None) -> dict[str, Any]:
    """A form as seen in its documents (``fields``: every item with its column type and note) and,
    when the design note was exported, as designed (``design_fields``)."""
    fields = [{"name": c.name, "type": c.type, "note": c.note}
              for c in schema.columns if c.role == "value"]
    designed = None
    if design is not None:
        designed = json.dumps([{"name": f.name, "type": f.type, "multi": f.multi}
                               for f in design.fields])
    return {"database": database, "form": schema.form, "documents": schema.documents,
            "fields": json.dumps(fields), "design_fields": designed}


def doc_row(database: str, doc: Document) -> dict[str, Any]:
    """A document for notes_docs: identity, dates, item names, and its summary items as JSON
    (the items Notes keeps in view indexes; rich text never is)."""
    summary = {name: iso(item.value) for name, item in doc.items.items()
               if "summary" in item.flags and item.type != "richtext"}
    return {"database": database, "unid": doc.unid, "noteid": doc.noteid, "form": doc.form,
            "created": doc.created, "modified": doc.modified, "parent": doc.parent,
            "items": list(doc.items), "summary": json.dumps(summary, ensure_ascii=False)}


def attachment_row(database: str, attachment: Attachment) -> dict[str, Any]:
    return {"database": database, "unid": attachment.unid, "file_name": attachment.name,
            "size": attachment.size, "created": attachment.created,
            "modified": attachment.modified}
