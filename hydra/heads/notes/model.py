"""The Notes document model, one for every way in: a DXL export, Domino Access Services (DAS) and
the Domino REST API all produce these objects, so the same documents give the same rows whichever
way they were read.

Item types are DXL's own names (``text``, ``textlist``, ``number``, ``numberlist``, ``datetime``,
``datetimelist``, ``richtext``, ``rawitemdata``…); values are Python values: ``str``, ``float``,
``datetime.date`` (date-only), ``datetime.time`` (time-only), ``datetime.datetime`` (aware when the
source gave a zone, naive when it did not). Lists are lists whatever their length.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import IO, Any

#: item flags as DXL writes them (attributes of ``<item>`` set to 'true')
FLAGS = ("summary", "names", "readers", "authors", "protected", "sign", "seal", "placeholder")
#: flags that make an item a list of Notes names whatever its number of values
NAME_FLAGS = frozenset({"names", "readers", "authors"})


@dataclass
class Database:
    """One Notes database (an ``.nsf``): what ``<database>``/``<databaseinfo>`` or ``/api/data``
    and ``/api/v1/scopes`` say about it."""

    title: str | None
    path: str | None  # the file path on the server ('apps/crm.nsf'), as the source gives it
    replica_id: str | None = None
    template: str | None = None  # the design template it inherits from ('' = none)
    document_count: int | None = None  # as the source states it (DXL databaseinfo), None if unsaid
    size_bytes: int | None = None  # disk space as the source states it, None if unsaid
    api_name: str | None = None  # Domino REST API: the scope ('dataSource') serving it


@dataclass
class ViewColumn:
    name: str  # the programmatic name: the item it shows, or '$n' for a computed column
    title: str | None = None
    position: int = 0  # 0-based
    formula: str | None = None  # None when the column simply shows the item ``name``
    sorted: bool = False
    categorized: bool = False


@dataclass
class View:
    name: str
    aliases: list[str] = field(default_factory=list)
    unid: str | None = None
    noteid: str | None = None
    is_folder: bool = False
    selection: str | None = None  # the selection formula, when the source shows it
    columns: list[ViewColumn] = field(default_factory=list)


@dataclass
class FormField:
    name: str
    type: str  # the form's field type: 'text', 'number', 'datetime', 'richtext', 'names', …
    multi: bool = False  # allows multiple values


@dataclass
class Form:
    name: str
    aliases: list[str] = field(default_factory=list)
    unid: str | None = None
    fields: list[FormField] = field(default_factory=list)


@dataclass
class Item:
    """One item of a document. ``values`` is always a list (empty for an empty item)."""

    name: str
    type: str  # the DXL type: 'text', 'textlist', 'number', …, or the unknown element's name
    values: list[Any]
    flags: frozenset[str] = frozenset()
    markup: str | None = None  # rich text: the raw markup (DXL <richtext>, or HTML from REST)
    note: str | None = None  # set when the value was not understood and is kept as raw text

    @property
    def is_list(self) -> bool:
        return self.type.endswith("list") or bool(self.flags & NAME_FLAGS)

    @property
    def value(self) -> Any:
        """The value as a column holds it: a list for list items, else the one value (or None)."""
        if self.is_list:
            return list(self.values)
        return self.values[0] if self.values else None


@dataclass
class Attachment:
    """A file attached to a document (a ``$FILE`` item). The bytes are decoded only on demand,
    from the base64 text the parser kept (``keep_file_data=True``) or through ``fetch`` (REST)."""

    unid: str
    name: str
    size: int | None = None
    created: datetime | None = None
    modified: datetime | None = None
    encoded: str | None = field(default=None, repr=False)  # DXL <filedata>, base64
    fetch: Any = field(default=None, repr=False)  # REST: a callable(fp) that streams the bytes

    def save(self, fp: IO[bytes]) -> tuple[int, str]:
        """Write the bytes to ``fp`` and return (bytes written, SHA-256 hex)."""
        digest = hashlib.sha256()
        written = 0
        for chunk in self._chunks():
            fp.write(chunk)
            digest.update(chunk)
            written += len(chunk)
        return written, digest.hexdigest()

    def read_bytes(self) -> bytes:
        return b"".join(self._chunks())

    def _chunks(self):
        if self.encoded is not None:
            yield from decode_base64_chunks(self.encoded)
        elif self.fetch is not None:
            yield from self.fetch()
        else:
            raise ValueError(f"attachment {self.name!r}: its bytes were not kept (keep_file_data)")


@dataclass
class Document:
    unid: str
    noteid: str | None = None  # hex, as DXL writes it ('8fa'); REST note ids are converted to hex
    form: str | None = None
    created: datetime | None = None
    modified: datetime | None = None
    parent: str | None = None  # a response document's parent UNID ($REF)
    items: dict[str, Item] = field(default_factory=dict)  # by item name, in document order
    attachments: list[Attachment] = field(default_factory=list)


@dataclass
class DxlError:
    """A place where a DXL file is malformed or ends early. Parsing goes on at the next document."""

    line: int
    column: int
    offset: int  # byte offset in the file
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.message}"


# -- values -------------------------------------------------------------------------------------

#: base64 is decoded in slices of this many characters (a multiple of 4): 4 MiB keeps the decoded
#: copy small next to the text it comes from
_B64_SLICE = 4 << 20


def decode_base64_chunks(text: str):
    """Decode base64 ``text`` (with DXL's line breaks) slice by slice, never all at once."""
    carry = ""
    for start in range(0, len(text), _B64_SLICE):
        part = carry + "".join(text[start : start + _B64_SLICE].split())
        usable = len(part) - len(part) % 4
        carry = part[usable:]
        if usable:
            yield binascii.a2b_base64(part[:usable])
    if carry.strip("="):
        yield base64.b64decode(carry + "=" * (-len(carry) % 4))


def iso(value: Any) -> Any:
    """A value as JSON can hold it: dates and times as ISO 8601 text, lists element by element."""
    if isinstance(value, list):
        return [iso(v) for v in value]
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return value
