"""The three ways into a Notes estate behind one interface, so the head does not care which it has:
DXL exports on disk, Domino Access Services, and the Domino REST API.

Each estate lists its databases (``Place``: the name a ref uses and the address the source uses),
and for one database gives a ``scan`` (every design note and document once, in one stream: what
ATTACH learns the catalog from), its ``documents``, a view's design and entries, and its
attachments with their bytes. Only the DXL parser and the HTTP clients know their source.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from hydra.heads.base import HeadError
from hydra.heads.notes.model import Attachment, Database, Document, View

#: the extensions a DXL export is found by in a folder
DXL_SUFFIXES = (".dxl", ".xml")


@dataclass(frozen=True)
class Place:
    """One database: ``name`` is its part in refs, ``address`` what the source calls it (the DXL
    file, the ``.nsf`` path for DAS, the scope for the REST API)."""

    name: str
    address: str
    database: Database


class DxlEstate:
    """A DXL export file, or a folder of them (each file one database)."""

    via = "dxl"

    def __init__(self, path: str):
        self.path = os.path.abspath(os.path.expanduser(path))

    def check(self) -> None:
        if not os.path.exists(self.path):
            raise HeadError(f"DXL file or folder not found: {self.path}")

    def _files(self) -> list[str]:
        if os.path.isfile(self.path):
            return [self.path]
        found = []
        for folder, dirs, files in os.walk(self.path):
            dirs.sort()
            found.extend(os.path.join(folder, f) for f in sorted(files)
                         if f.lower().endswith(DXL_SUFFIXES))
        return found

    def places(self) -> list[Place]:
        from hydra.heads.notes import dxl

        root = self.path if os.path.isdir(self.path) else os.path.dirname(self.path)
        places = []
        for file in self._files():
            name = os.path.splitext(os.path.relpath(file, root))[0].replace(os.sep, "/")
            database = dxl.database_info(file) or Database(title=None, path=None)
            places.append(Place(name, file, database))
        return places

    def scan(self, place: Place) -> Iterator:
        from hydra.heads.notes import dxl

        return dxl.parse(place.address)

    def documents(self, place: Place, unids: Iterable[str] | None = None) -> Iterator[Document]:
        from hydra.heads.notes import dxl

        return (e for e in dxl.parse(place.address) if isinstance(e, Document))

    def view(self, place: Place, name: str) -> View:
        """The view's design note. Domino writes design notes before documents, so this stops
        early."""
        from hydra.heads.notes import dxl

        for event in dxl.parse(place.address):
            if isinstance(event, View) and event.name == name:
                return event
        raise HeadError(f"view {name!r} is no longer in {place.address}")

    def view_entries(self, place: Place, view: View) -> Iterator[dict]:
        from hydra.heads.notes import forms

        return forms.dxl_view_entries(view, self.documents(place))

    def attachments(self, place: Place, with_data: bool) -> Iterator[tuple[Attachment, str | None]]:
        """Every attachment with its document's form; ``with_data``: with its bytes (kept as
        base64 text for one document at a time)."""
        from hydra.heads.notes import dxl

        for event in dxl.parse(place.address, keep_file_data=with_data):
            if isinstance(event, Document):
                for attachment in event.attachments:
                    yield attachment, event.form


class _HttpEstate:
    """What DAS and the REST API have in common: a client (``rest.DasClient`` or
    ``rest.DominoRestClient``) that lists databases, views, and documents."""

    via = ""

    def __init__(self, client):
        self.client = client

    def _address(self, database: Database) -> str:
        raise NotImplementedError

    def places(self) -> list[Place]:
        places = []
        for database in self.client.databases():
            address = self._address(database)
            if address:
                places.append(Place(self._name(address), address, database))
        return places

    @staticmethod
    def _name(address: str) -> str:
        return address.replace("\\", "/").removesuffix(".nsf").removesuffix(".NSF")

    def scan(self, place: Place) -> Iterator:
        """The views, then every document (``concurrency`` requests at a time). An error (403,
        404) ends the scan: the database is listed with it."""
        yield from self.client.views(place.address)
        yield from self._documents(place, None, with_attachments=True)

    def documents(self, place: Place, unids: Iterable[str] | None = None) -> Iterator[Document]:
        return self._documents(place, unids, with_attachments=False)

    def _documents(self, place, unids, with_attachments: bool) -> Iterator[Document]:
        raise NotImplementedError

    def view(self, place: Place, name: str) -> View:
        for view in self.client.views(place.address):
            if view.name == name:
                return view
        raise HeadError(f"view {name!r} is no longer in {place.address}")

    def view_entries(self, place: Place, view: View) -> Iterator[dict]:
        return self.client.view_entries(place.address, view.name)

    def attachments(self, place: Place, with_data: bool) -> Iterator[tuple[Attachment, str | None]]:
        """Every attachment with its document's form (the bytes stream from the server when
        they are written)."""
        for doc in self._documents(place, None, with_attachments=True):
            for attachment in doc.attachments:
                yield attachment, doc.form


class DasEstate(_HttpEstate):
    """Domino Access Services. DAS gives attachments only inside documents' rich text, which this
    head does not read: ``attachments`` elements come from DXL and the REST API."""

    via = "das"

    def _address(self, database: Database) -> str:
        return database.path or ""

    def _documents(self, place, unids, with_attachments: bool) -> Iterator[Document]:
        return self.client.documents(place.address, unids)


class RestEstate(_HttpEstate):
    """The Domino REST API: each scope is a database."""

    via = "rest"

    def _address(self, database: Database) -> str:
        return database.api_name or ""

    @staticmethod
    def _name(address: str) -> str:
        return address

    def _documents(self, place, unids, with_attachments: bool) -> Iterator[Document]:
        from hydra.heads.notes.rest import bounded_map

        client = self.client
        if unids is None:
            unids = (e["@unid"] for e in client.view_entries(place.address, "($All)")
                     if e.get("@unid"))

        def fetch(unid: str) -> Document:
            doc = client.document(place.address, unid)
            if with_attachments:
                doc.attachments = client.attachments(place.address, unid)
            return doc

        return bounded_map(fetch, unids, client.concurrency)
