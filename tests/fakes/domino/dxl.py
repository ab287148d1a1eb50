"""Writes fixture databases as DXL, the way Domino's ``Export to DXL`` does (namespace
``http://www.lotus.com/dxl``, ``<database>`` holding ``<databaseinfo>``, design notes and
``<document>``s). Everything is written incrementally with ``lxml.etree.xmlfile``, one note at a
time, so ``write_large`` can produce gigabytes without holding a document set in memory.

Notes are built without a namespace and serialised inside the root's default namespace, which is
exactly how Domino writes them (no ``xmlns`` repeated on every note)."""

from __future__ import annotations

import base64
import random
import struct
from datetime import date, datetime, time, timedelta
from pathlib import Path

from lxml import etree

from fakes.domino.model import (
    FxDatabase,
    FxDocument,
    FxFile,
    FxForm,
    FxItem,
    FxRichText,
    FxView,
    tz,
    unid_for,
)

DXL_NS = "http://www.lotus.com/dxl"
DOCTYPE = "<!DOCTYPE database SYSTEM 'xmlschemas/domino_9_0_1.dtd'>"


# -- values -------------------------------------------------------------------------------------


def dxl_datetime(value: date | time | datetime) -> str:
    """'20090602T165055,48+02' (zone in hours, or hours and minutes), '20090602T165055,48' for a
    value without zone, '19750521' for a date, 'T165055,48' for a time."""
    if isinstance(value, datetime):
        text = value.strftime("%Y%m%d") + dxl_datetime(value.timetz())
        return text
    if isinstance(value, date):
        return value.strftime("%Y%m%d")
    text = f"T{value.hour:02d}{value.minute:02d}{value.second:02d},{value.microsecond // 10000:02d}"
    offset = value.utcoffset()
    if offset is not None:
        minutes = int(offset.total_seconds()) // 60
        sign = "-" if minutes < 0 else "+"
        hours, mins = divmod(abs(minutes), 60)
        text += f"{sign}{hours:02d}" + (f"{mins:02d}" if mins else "")
    return text


def _append_text(elem, text: str) -> None:
    if len(elem):
        elem[-1].tail = (elem[-1].tail or "") + text
    else:
        elem.text = (elem.text or "") + text


def _text_element(tag: str, value: str):
    """A <text>: line breaks inside a value are <break/> elements in DXL."""
    elem = etree.Element(tag)
    for n, line in enumerate(value.split("\n")):
        if n:
            etree.SubElement(elem, "break")
        _append_text(elem, line)
    return elem


def _datetime_element(value):
    elem = etree.Element("datetime")
    elem.text = dxl_datetime(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        elem.set("dst", "false")
    return elem


def _richtext(rt: FxRichText):
    elem = etree.Element("richtext")
    etree.SubElement(elem, "pardef", id="1")
    for paragraph in rt.paragraphs:
        par = etree.SubElement(elem, "par", attrib={"def": "1"})
        for run in paragraph:
            if isinstance(run, str):
                for n, line in enumerate(run.split("\n")):
                    if n:
                        etree.SubElement(par, "break")
                    _append_text(par, line)
            elif run[0] == "b":
                r = etree.SubElement(par, "run")
                etree.SubElement(r, "font", style="bold")
                _append_text(r, run[1])
            else:  # an attachment icon: a picture with its caption, none of it text
                ref = etree.SubElement(par, "attachmentref", name=run[1], displayname=run[1])
                pic = etree.SubElement(ref, "picture", height="34px", width="61px")
                icon = base64.b64encode(b"\x00icon\xff").decode()
                etree.SubElement(pic, "notesbitmap").text = icon
                etree.SubElement(pic, "caption").text = run[1]
    return elem


def item_element(item: FxItem):
    elem = etree.Element("item", name=item.name)
    for flag in sorted(item.flags):
        elem.set(flag, "true")
    value = item.value
    many = isinstance(value, list)
    if item.kind == "text":
        if many:
            lst = etree.SubElement(elem, "textlist")
            for v in value:
                lst.append(_text_element("text", v))
        else:
            elem.append(_text_element("text", value))
    elif item.kind == "number":
        if many:
            lst = etree.SubElement(elem, "numberlist")
            for v in value:
                etree.SubElement(lst, "number").text = repr(v)
        else:
            etree.SubElement(elem, "number").text = repr(value)
    elif item.kind == "datetime":
        if many:
            lst = etree.SubElement(elem, "datetimelist")
            for v in value:
                lst.append(_datetime_element(v))
        else:
            elem.append(_datetime_element(value))
    elif item.kind == "richtext":
        elem.append(_richtext(value))
    elif item.kind == "raw":
        type_hex, data = value
        etree.SubElement(elem, "rawitemdata", type=type_hex).text = base64.b64encode(data).decode()
    elif item.kind == "unknown":
        tag, text = value
        etree.SubElement(elem, tag).text = text
    else:
        raise ValueError(f"fixture item kind {item.kind!r}")
    return elem


def file_item(f: FxFile):
    elem = etree.Element("item", name="$FILE", summary="true", sign="true", seal="true")
    obj = etree.SubElement(elem, "object")
    fe = etree.SubElement(obj, "file", hosttype="msdos", compression="none", flags="storedindoc",
                          encoding="none", name=f.name, size=str(len(f.data)))
    etree.SubElement(fe, "created").append(_datetime_element(f.created))
    etree.SubElement(fe, "modified").append(_datetime_element(f.modified))
    # base64 with line breaks, as Domino writes it
    etree.SubElement(fe, "filedata").text = "\n" + base64.encodebytes(f.data).decode()
    return elem


def ref_item(parent_unid: str):
    """$REF: a note reference list (a LIST of one UNIVERSALNOTEID), as raw item data."""
    raw = struct.pack("<H", 1) + struct.pack("<QQ", int(parent_unid[:16], 16),
                                             int(parent_unid[16:], 16))
    elem = etree.Element("item", name="$REF", summary="true")
    etree.SubElement(elem, "rawitemdata", type="4").text = base64.b64encode(raw).decode()
    return elem


def _noteinfo(parent, noteid: int, unid: str, created: datetime, modified: datetime):
    info = etree.SubElement(parent, "noteinfo", noteid=f"{noteid:x}", unid=unid, sequence="1")
    etree.SubElement(info, "created").append(_datetime_element(created))
    etree.SubElement(info, "modified").append(_datetime_element(modified))
    etree.SubElement(info, "revised").append(_datetime_element(modified))
    etree.SubElement(info, "lastaccessed").append(_datetime_element(modified))
    etree.SubElement(info, "addedtofile").append(_datetime_element(created))
    return info


def document_element(doc: FxDocument):
    elem = etree.Element("document", form=doc.form)
    _noteinfo(elem, doc.noteid, doc.unid, doc.created, doc.modified)
    updated = etree.SubElement(elem, "updatedby")
    etree.SubElement(updated, "name").text = "CN=Ada Lovelace/O=Acme"
    for item in doc.items:
        elem.append(item_element(item))
    if doc.parent:
        elem.append(ref_item(doc.parent))
    for f in doc.files:
        elem.append(file_item(f))
    return elem


_DESIGN_TIME = datetime(2008, 1, 1, 12, 0, 0, tzinfo=tz(0))


def view_element(view: FxView, noteid: int):
    elem = etree.Element("folder" if view.folder else "view", name=view.name)
    _noteinfo(elem, noteid, view.unid, _DESIGN_TIME, _DESIGN_TIME)
    code = etree.SubElement(elem, "code", event="selection")
    etree.SubElement(code, "formula").text = view.selection()
    for col in view.columns:
        c = etree.SubElement(elem, "column", itemname=col.name, width="10", resizable="true")
        if col.sort:
            c.set("sort", col.sort)
        header = etree.SubElement(c, "columnheader", title=col.title)
        etree.SubElement(header, "font", size="9pt", style="bold")
        if col.formula:
            code = etree.SubElement(c, "code", event="value")
            etree.SubElement(code, "formula").text = col.formula
    return elem


def form_element(form: FxForm, noteid: int):
    elem = etree.Element("form", name=form.name)
    _noteinfo(elem, noteid, form.unid, _DESIGN_TIME, _DESIGN_TIME)
    body = etree.SubElement(etree.SubElement(elem, "body"), "richtext")
    etree.SubElement(body, "pardef", id="1")
    for name, kind, multi in form.fields:
        par = etree.SubElement(body, "par", attrib={"def": "1"})
        par.text = f"{name}: "
        field = etree.SubElement(par, "field", type=kind, kind="editable", name=name)
        if multi:
            field.set("allowmultivalues", "true")
    return elem


# -- files --------------------------------------------------------------------------------------


def _root_attrib(db: FxDatabase) -> dict:
    return {"version": "9.0", "maintenanceversion": "1.0", "replicaid": db.replicaid,
            "path": db.path, "title": db.title, "fromtemplate": db.template}


def write_database(db: FxDatabase, path: str | Path) -> Path:
    """The database as one DXL export file."""
    path = Path(path)
    size = sum(len(f.data) for d in db.documents for f in d.files) + 1024 * len(db.documents)
    with open(path, "wb") as fp, etree.xmlfile(fp, encoding="utf-8") as xf:
        xf.write_declaration()
        xf.write_doctype(DOCTYPE)
        with xf.element(f"{{{DXL_NS}}}database", nsmap={None: DXL_NS}, attrib=_root_attrib(db)):
            xf.write("\n")
            info = etree.Element("databaseinfo", dbid=db.replicaid, odsversion="51",
                                 diskspace=str(size), percentused="91.5",
                                 numberofdocuments=str(len(db.documents)))
            etree.SubElement(info, "datamodified").append(_datetime_element(_DESIGN_TIME))
            xf.write(info, "\n")
            noteid = 0x100
            for form in db.forms:
                noteid += 4
                xf.write(form_element(form, noteid), "\n")
            for view in db.views:
                noteid += 4
                xf.write(view_element(view, noteid), "\n")
            for doc in db.documents:
                xf.write(document_element(doc), "\n")
    return path


def write_malformed(db: FxDatabase, path: str | Path, document: int = 1) -> tuple[int, int]:
    """The database as DXL with document number ``document`` (0-based) broken: the end tag of its
    first text value is misspelt (``</txt>``), as a hand-edited export might be. Returns the line
    and the byte offset of the broken end tag."""
    path = write_database(db, path)
    data = path.read_bytes()
    at = -1
    for _ in range(document + 1):
        at = data.index(b"<document ", at + 1)
    end_at = data.index(b"</text>", at)
    path.write_bytes(data[:end_at] + b"</txt>" + data[end_at + len(b"</text>"):])
    return data.count(b"\n", 0, end_at) + 1, end_at


def write_truncated(db: FxDatabase, path: str | Path, document: int = 2) -> int:
    """The database as DXL cut off in the middle of document number ``document`` (0-based), as a
    copy that ran out of disk would be. Returns the number of complete documents before the cut."""
    path = write_database(db, path)
    data = path.read_bytes()
    at = -1
    for _ in range(document + 1):
        at = data.index(b"<document ", at + 1)
    cut = data.index(b"<item ", at) + 40
    path.write_bytes(data[:cut])
    return document


# -- a large export, streamed -------------------------------------------------------------------

_WORDS = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho "
          "sigma tau upsilon phi chi psi omega contract invoice meeting client renewal").split()


def write_large(path: str | Path, size_bytes: int, *, seed: int = 0, attachment_every: int = 40,
                attachment_size: int = 64 * 1024) -> dict:
    """A DXL export of at least ``size_bytes`` bytes, written document by document (memory stays
    that of one document). Returns what was written: documents, attachments, bytes, forms."""
    rng = random.Random(seed)
    path = Path(path)
    t0 = datetime(2015, 1, 1, tzinfo=tz(1))
    written = {"documents": 0, "attachments": 0, "attachment_bytes": 0, "bytes": 0,
               "forms": {"Order": 0, "Customer": 0}}
    db = FxDatabase("Large export", "archive/large.nsf", "85257BC7005B7E00", "", "large")
    with open(path, "wb") as fp, etree.xmlfile(fp, encoding="utf-8", buffered=False) as xf:
        xf.write_declaration()
        xf.write_doctype(DOCTYPE)
        with xf.element(f"{{{DXL_NS}}}database", nsmap={None: DXL_NS}, attrib=_root_attrib(db)):
            xf.write("\n")
            n = 0
            while fp.tell() < size_bytes:
                doc = _large_document(rng, n, t0)
                if attachment_every and n % attachment_every == attachment_every - 1:
                    data = rng.randbytes(attachment_size)
                    doc.files.append(FxFile(f"scan-{n}.bin", data, doc.created, doc.modified))
                    written["attachments"] += 1
                    written["attachment_bytes"] += len(data)
                xf.write(document_element(doc), "\n")
                written["forms"][doc.form] += 1
                n += 1
            written["documents"] = n
    written["bytes"] = path.stat().st_size
    return written


def _large_document(rng: random.Random, n: int, t0: datetime) -> FxDocument:
    created = t0 + timedelta(minutes=n)
    words = " ".join(rng.choices(_WORDS, k=rng.randint(20, 120)))
    if n % 3:
        items = [
            FxItem("Form", "text", "Order"),
            FxItem("OrderNo", "number", float(n)),
            FxItem("Customer", "text", f"Customer {rng.randint(1, 5000)}"),
            FxItem("Amount", "number", round(rng.uniform(1, 10000), 2)),
            FxItem("Lines", "number", [float(rng.randint(1, 9)) for _ in range(rng.randint(1, 6))]),
            FxItem("Ordered", "datetime", created),
            FxItem("Due", "datetime", (created + timedelta(days=30)).date()),
            FxItem("Tags", "text", rng.sample(_WORDS, rng.randint(1, 4))),
            FxItem("Body", "richtext", FxRichText([[words[:200]], [("b", "Total"), words[200:]]]),
                   frozenset()),
        ]
        form = "Order"
    else:
        items = [
            FxItem("Form", "text", "Customer"),
            FxItem("Name", "text", f"Customer {n}"),
            FxItem("Owner", "text", "CN=Ada Lovelace/O=Acme", frozenset({"summary", "names"})),
            FxItem("Since", "datetime", created),
            FxItem("Notes", "text", words),
        ]
        form = "Customer"
    return FxDocument(unid_for("large", n), 0x8FA + 4 * n, form, created, created, items)
