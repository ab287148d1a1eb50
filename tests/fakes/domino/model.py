"""The fixture estate: Notes databases as plain data, from which the DXL writer and the HTTP server
both render. Independent of Hydra's own Notes code, so the tests check that code against it."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any


def tz(hours: int, minutes: int = 0) -> timezone:
    return timezone(timedelta(hours=hours, minutes=minutes if hours >= 0 else -minutes))


def unid_for(*parts: Any) -> str:
    return hashlib.md5("/".join(map(str, parts)).encode()).hexdigest().upper()


@dataclass
class FxRichText:
    """Paragraphs of runs: a str is plain text, ("b", text) a bold run, ("attachment", name) an
    attachment icon, "\\n" inside a str a line break within the paragraph."""

    paragraphs: list[list[Any]]

    def plain(self) -> str:
        lines = []
        for par in self.paragraphs:
            lines.append("".join(r if isinstance(r, str) else (r[1] if r[0] == "b" else "")
                                 for r in par))
        return "\n".join(lines)

    def html(self) -> str:
        from html import escape

        out = []
        for par in self.paragraphs:
            runs = []
            for r in par:
                if isinstance(r, str):
                    runs.append(escape(r).replace("\n", "<br>"))
                elif r[0] == "b":
                    runs.append(f"<b>{escape(r[1])}</b>")
                else:
                    runs.append(f'<img alt="{escape(r[1])}" src="#attachment">')
            out.append(f"<p>{''.join(runs)}</p>")
        return f"<html><body>{''.join(out)}</body></html>"


@dataclass
class FxItem:
    """kind: 'text', 'number', 'datetime' (date, time, naive or aware datetime), 'richtext',
    'raw' (value = (hex type, bytes)), 'unknown' (value = (element name, text)). A list value
    is written as a list type (textlist…), a scalar as the single type."""

    name: str
    kind: str
    value: Any
    flags: frozenset[str] = frozenset({"summary"})


@dataclass
class FxFile:
    name: str
    data: bytes
    created: datetime
    modified: datetime


@dataclass
class FxDocument:
    unid: str
    noteid: int
    form: str
    created: datetime
    modified: datetime
    items: list[FxItem]
    files: list[FxFile] = field(default_factory=list)
    parent: str | None = None

    def item(self, name: str) -> FxItem | None:
        return next((i for i in self.items if i.name == name), None)


@dataclass
class FxColumn:
    name: str  # the item shown, or '$n' with a formula
    title: str
    formula: str | None = None
    sort: str | None = None  # 'ascending' / 'descending'


@dataclass
class FxView:
    name: str
    unid: str
    columns: list[FxColumn]
    forms: list[str] | None = None  # the selection: documents of these forms; None = all
    folder: bool = False

    def selection(self) -> str:
        if not self.forms:
            return "SELECT @All"
        return "SELECT " + " | ".join(f'Form = "{f}"' for f in self.forms)


@dataclass
class FxForm:
    name: str
    unid: str
    fields: list[tuple[str, str, bool]]  # (name, DXL field type, allows multiple values)


@dataclass
class FxDatabase:
    title: str
    path: str  # 'apps/crm.nsf': folder/file as DAS addresses it
    replicaid: str
    template: str
    api_name: str  # its Domino REST API scope
    documents: list[FxDocument] = field(default_factory=list)
    views: list[FxView] = field(default_factory=list)
    forms: list[FxForm] = field(default_factory=list)

    def document(self, unid: str) -> FxDocument | None:
        return next((d for d in self.documents if d.unid == unid), None)

    def view(self, name: str) -> FxView | None:
        return next((v for v in self.views if v.name == name), None)

    def view_documents(self, view: FxView) -> list[FxDocument]:
        return [d for d in self.documents if view.forms is None or d.form in view.forms]


def _bytes(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


def sample_crm() -> FxDatabase:
    """Every DXL item type, three forms with different items, a response document, attachments,
    an item whose type varies between documents, and views."""
    db = FxDatabase("Client CRM", "apps/crm.nsf", "85257BC7005B7B8F", "StdCRM9", "crm")
    created = datetime(2009, 6, 2, 16, 50, 55, 480000, tzinfo=tz(2))
    t0 = datetime(2012, 1, 9, 8, 0, 0, tzinfo=tz(1))
    contract = FxFile("contract.pdf", b"%PDF-1.4\n" + _bytes(1, 5000) + b"\n%%EOF\n",
                      datetime(2011, 2, 3, 4, 5, 6, tzinfo=tz(1)),
                      datetime(2011, 2, 3, 4, 5, 7, tzinfo=tz(1)))
    taken = datetime(2012, 5, 6, 7, 8, 9, tzinfo=tz(0))
    photo = FxFile("photo 1.png", bytes(range(256)) * 40, taken, taken)
    names = frozenset({"summary", "names"})
    readers = frozenset({"summary", "readers"})
    authors = frozenset({"summary", "authors"})

    def contact(i, name, **over):
        items = [
            FxItem("Form", "text", "Contact"),
            FxItem("Name", "text", name),
            FxItem("Tags", "text", ["vip", "emea"] if i % 2 else ["new"]),
            FxItem("Age", "number", 41.0 + i),
            FxItem("Scores", "number", [1.5, 2.0, -3.25]),
            FxItem("Born", "datetime", date(1975, 5, 21 + i)),
            FxItem("LastCall", "datetime", datetime(2009, 6, 2, 16, 50, 55, 480000, tzinfo=tz(2))
                   + timedelta(days=i)),
            FxItem("Meeting", "datetime", datetime(2011, 3, 4, 9, 15, 0)),
            FxItem("Alarm", "datetime", time(16, 50, 55, 480000)),
            FxItem("Calls", "datetime", [datetime(2010, 1, 1, 12, 0, 0, tzinfo=tz(-5)),
                                         datetime(2010, 1, 2, 12, 30, 0, 250000,
                                                  tzinfo=tz(5, 30))]),
            FxItem("Owner", "text", "CN=Ada Lovelace/O=Acme", names),
            FxItem("DocReaders", "text", ["CN=Ada Lovelace/O=Acme", "[Sales]"], readers),
            FxItem("DocAuthors", "text", "CN=Grace Hopper/O=Acme", authors),
            FxItem("Comment", "text", "first line\nsecond line & <more>", frozenset()),
            FxItem("Code", "number", 7.0),
            FxItem("Body", "richtext", FxRichText([
                ["Dear ", ("b", name), ","],
                ["Please find the contract attached.\nRegards"],
                [("attachment", "contract.pdf")],
            ]), frozenset()),
        ]
        for k, v in over.items():
            for n, it in enumerate(items):
                if it.name == k:
                    items[n] = v
        return items

    d1 = FxDocument(unid_for("crm", 1), 0x8FA, "Contact", created, created + timedelta(days=3),
                    contact(0, "Ada Lovelace"), files=[contract])
    d2 = FxDocument(unid_for("crm", 2), 0x8FE, "Contact", created + timedelta(hours=1),
                    created + timedelta(days=4),
                    contact(1, "Grace Hopper", Code=FxItem("Code", "text", "A-17")))
    d2.items.append(FxItem("Mystery", "raw", ("e", b"\x00\x01\x02user data")))
    d2.items.append(FxItem("Future", "unknown", ("hologram", "3d")))
    d3 = FxDocument(unid_for("crm", 3), 0x902, "Company", t0, t0 + timedelta(days=1), [
        FxItem("Form", "text", "Company"),
        FxItem("Name", "text", "Acme Corp"),
        FxItem("Employees", "number", 1200.0),
        FxItem("Founded", "datetime", date(1901, 1, 1)),
        FxItem("Address", "text", "1 Main St\nSpringfield"),
    ], files=[photo])
    d4 = FxDocument(unid_for("crm", 4), 0x906, "Company", t0 + timedelta(hours=2),
                    t0 + timedelta(days=2), [
        FxItem("Form", "text", "Company"),
        FxItem("Name", "text", "Globex"),
        FxItem("Employees", "number", 12.5),
        FxItem("Founded", "datetime", date(1989, 12, 17)),
    ])
    replies = [
        FxDocument(unid_for("crm", 10 + n), 0x910 + 4 * n, "Reply", t0 + timedelta(days=n),
                   t0 + timedelta(days=n, hours=1), [
            FxItem("Form", "text", "Reply"),
            FxItem("Subject", "text", f"Re: contract ({n})"),
            FxItem("Posted", "datetime", t0 + timedelta(days=n, minutes=5)),
        ], parent=d1.unid)
        for n in range(3)
    ]
    db.documents = [d1, d2, d3, d4, *replies]
    db.forms = [
        FxForm("Contact", unid_for("crm", "form", "Contact"), [
            ("Name", "text", False), ("Tags", "text", True), ("Age", "number", False),
            ("Scores", "number", True), ("Born", "datetime", False),
            ("LastCall", "datetime", False), ("Owner", "names", False),
            ("DocReaders", "readers", True), ("DocAuthors", "authors", False),
            ("Body", "richtext", False)]),
        FxForm("Company", unid_for("crm", "form", "Company"), [
            ("Name", "text", False), ("Employees", "number", False),
            ("Founded", "datetime", False), ("Address", "text", False)]),
        FxForm("Reply", unid_for("crm", "form", "Reply"), [
            ("Subject", "text", False), ("Posted", "datetime", False)]),
    ]
    db.views = [
        FxView("Contacts", unid_for("crm", "view", "Contacts"), [
            FxColumn("Name", "Name", sort="ascending"), FxColumn("Age", "Age"),
            FxColumn("$2", "Initial", formula="@Left(Name; 1)")], forms=["Contact"]),
        FxView("($All)", unid_for("crm", "view", "All"), [
            FxColumn("Form", "Form"), FxColumn("$1", "Created", formula="@Created")]),
        FxView("Companies", unid_for("crm", "view", "Companies"), [
            FxColumn("Name", "Company"), FxColumn("Employees", "Staff")], forms=["Company"]),
    ]
    return db


def sample_hr() -> FxDatabase:
    """A small database the test user may not open (403)."""
    db = FxDatabase("HR Records", "apps/hr.nsf", "85257BC7005B7C00", "", "hr")
    t = datetime(2015, 7, 1, 9, 0, 0, tzinfo=tz(0))
    db.documents = [FxDocument(unid_for("hr", 1), 0x8FA, "Employee", t, t, [
        FxItem("Form", "text", "Employee"), FxItem("Salary", "number", 100000.0)])]
    db.views = [FxView("($All)", unid_for("hr", "view", "All"), [FxColumn("Form", "Form")])]
    return db


def many_documents(count: int, path: str = "apps/big.nsf") -> FxDatabase:
    """``count`` small documents, for paging."""
    db = FxDatabase("Big", path, "85257BC7005B7D00", "", "big")
    t = datetime(2020, 1, 1, tzinfo=tz(0))
    db.documents = [
        FxDocument(unid_for(path, n), 0x8FA + 4 * n, "Row", t + timedelta(minutes=n),
                   t + timedelta(minutes=n), [
            FxItem("Form", "text", "Row"), FxItem("N", "number", float(n)),
            FxItem("Label", "text", f"row {n}")])
        for n in range(count)
    ]
    db.views = [FxView("($All)", unid_for(path, "view", "All"),
                       [FxColumn("N", "N"), FxColumn("Label", "Label")])]
    return db


def sample_estate() -> list[FxDatabase]:
    return [sample_crm(), sample_hr(), many_documents(23)]
