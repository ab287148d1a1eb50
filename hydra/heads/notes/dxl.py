"""Streaming DXL parser: a Notes database export read element by element, in bounded memory.

``parse(path)`` yields, in file order, the ``Database`` (from ``<database>``; ``<databaseinfo>``
later fills its counts in place), then every ``Form``, ``View`` and ``Document``, and a ``DxlError``
where the file is malformed or ends early. lxml's pull parser builds one top-level element at a
time; each is cleared, and its earlier siblings deleted, once it has been turned into objects, so
memory holds one document (with its attachments' base64 text when ``keep_file_data``), never the
export.

Malformed DXL: libxml2's ``recover`` mode was rejected because it silently re-nests elements after
a bad tag (a document's items can land in the next document). Instead the parse is strict; at an
error the position is reported, and parsing resumes at the next ``<document`` start tag after it,
inside a synthetic ``<database>`` root with the original namespaces. Documents before the error
are kept, and so are the ones after it; a truncated file simply ends with its error.
"""

from __future__ import annotations

import base64
import binascii
import io
import struct
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from pathlib import Path

from lxml import etree

from hydra.heads.notes.model import (
    FLAGS,
    Attachment,
    Database,
    Document,
    DxlError,
    Form,
    FormField,
    Item,
    View,
    ViewColumn,
)

DXL_NS = "http://www.lotus.com/dxl"

#: the top-level elements turned into objects; '{*}' matches the DXL namespace or none
_TOP = ("{*}database", "{*}databaseinfo", "{*}document", "{*}view", "{*}folder", "{*}form",
        "{*}subform")

#: rich text elements whose text is not the document's text (images, formatting, hotspot code)
_NOT_TEXT = frozenset({
    "pardef", "font", "attachmentref", "picture", "objectref", "notesbitmap", "gif", "jpeg", "png",
    "bmp", "cgm", "imagemap", "code", "formula", "lotusscript", "javascript", "compositedata",
    "embeddedcontrol", "horizrule", "region", "run_properties", "caption",
})

#: bytes fed to the parser at a time: the events of one slice are queued before they are read
FEED_BYTES = 1 << 18
#: rawitemdata type of a note reference list ($REF): TYPE_NOTEREF_LIST in nsfdata.h
_NOTEREF_LIST = 4

Event = Database | Form | View | Document | DxlError


def parse(path: str | Path, *, keep_file_data: bool = False) -> Iterator[Event]:
    """Every database, design note, document and error of a DXL file, as a stream.

    The parse runs in a thread of its own, handing out events (plain Python objects, no lxml
    element) through a small queue: a reader's generator is resumed by whichever thread asks for
    the next batch (DuckDB's scan of a RecordBatchReader resumes it from its worker threads too),
    and an lxml parser and its tree must stay in the thread that made them (a 2 GB EXTRACT died
    with "free(): invalid pointer" when they did not)."""
    return _in_own_thread(_parse, str(path), keep_file_data)


#: events handed over at a time, and batches waiting: a few hundred documents at most in memory
HANDOVER_EVENTS, HANDOVER_BATCHES = 64, 2


def _in_own_thread(produce, *args) -> Iterator:
    """``produce(*args)``'s items, produced in one thread and yielded in the caller's. Stops the
    producer when the consumer stops early; re-raises the producer's error."""
    import queue
    import threading

    handover: queue.Queue = queue.Queue(HANDOVER_BATCHES)
    stop = threading.Event()
    done = object()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                handover.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        batch: list = []
        try:
            for item in produce(*args):
                batch.append(item)
                if len(batch) >= HANDOVER_EVENTS or getattr(item, "attachments", None):
                    if not put(batch):
                        return
                    batch = []
            put(batch) and put(done)
        except BaseException as err:  # noqa: BLE001 - handed to the consumer, which raises it
            put(batch) and put(err)

    worker = threading.Thread(target=run, name="hydra-dxl-parse", daemon=True)
    worker.start()
    try:
        while True:
            item = handover.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield from item
    finally:
        stop.set()
        worker.join()


def _parse(path: str, keep_file_data: bool) -> Iterator[Event]:
    lines = _Lines(path)
    resume_at, prefix = 0, b""
    nsmap: dict | None = None
    seen: set[int] = set()
    while True:
        state = _State(keep_file_data, yield_database=resume_at == 0)
        source = path if resume_at == 0 else _Resumed(path, prefix, resume_at)
        try:
            for event in state.run(source):
                yield event
            return
        except etree.XMLSyntaxError as err:
            if isinstance(source, _Resumed):
                source.close()
            nsmap = state.nsmap or nsmap
            error = _locate(err, lines, resume_at, prefix)
            if error.offset not in seen:
                seen.add(error.offset)
                yield error
            resume_at = _next_document(path, max(error.offset, resume_at + 1))
            if resume_at is None:
                return
            prefix = _root_tag(nsmap)


def database_info(path: str | Path) -> Database | None:
    """The database's header (``<database>``, ``<databaseinfo>``) without reading its notes."""
    database = None
    try:
        for event, elem in _pull(str(path)):
            name = _local(elem.tag)
            if event == "start" and name == "database" and database is None:
                database = _database(elem)
            elif event == "end" and name == "databaseinfo" and database is not None:
                _database_info(elem, database)
            elif event == "end" and name != "database":
                break
    except etree.XMLSyntaxError:
        pass  # the header was read as far as it goes; parse() reports the error with its place
    return database


# -- the parse loop -----------------------------------------------------------------------------


def _pull(source) -> Iterator[tuple[str, object]]:
    """The (event, element) pairs of the top-level elements of ``source`` (a path or a binary
    file object). The file is fed to a pull parser in slices, and the events parsed before an
    error are handed out before the error is raised: ``iterparse`` (lxml 6) drops the events of
    the read in which the error came, which for a small export is every document before it."""
    parser = etree.XMLPullParser(events=("start", "end"), tag=_TOP, huge_tree=True,
                                 resolve_entities=False)
    fp = open(source, "rb") if isinstance(source, str) else source  # noqa: SIM115 - closed below
    try:
        while True:
            chunk = fp.read(FEED_BYTES)
            failure = None
            try:
                if chunk:
                    parser.feed(chunk)
                else:
                    parser.close()
            except etree.XMLSyntaxError as err:
                failure = err
            events = parser.read_events()
            if failure is not None and not chunk:
                # a file that ends early: closing the parser ends the elements left open, the
                # truncated document among them; those are not the file's
                events = ()
            yield from events
            if failure is not None:
                raise failure
            if not chunk:
                return
    finally:
        fp.close()



class _State:
    def __init__(self, keep_file_data: bool, yield_database: bool):
        self.keep_file_data = keep_file_data
        self.yield_database = yield_database
        self.nsmap: dict | None = None
        self.database: Database | None = None
        self.root = None  # the <database> element, once its start tag is parsed

    def run(self, source) -> Iterator[Event]:
        return self._events(_pull(source))

    def _events(self, parsed) -> Iterator[Event]:
        for event, elem in parsed:
            name = _local(elem.tag)
            if event == "start":
                if self.root is None and name == "database":
                    self.root, self.nsmap = elem, dict(elem.nsmap)
                    if self.yield_database:
                        self.database = _database(elem)
                        yield self.database
                continue
            parent = elem.getparent()
            if name == "document":
                yield _document(elem, self.keep_file_data)
            elif parent is self.root and parent is not None:
                if name in ("view", "folder"):
                    yield _view(elem, is_folder=name == "folder")
                elif name in ("form", "subform"):
                    yield _form(elem)
                elif name == "databaseinfo" and self.database is not None:
                    _database_info(elem, self.database)
                else:
                    continue
            else:
                continue
            # Bounded memory: drop what this element held, and every earlier sibling (including
            # top-level notes this parser does not read: agents, ACL, images…).
            elem.clear(keep_tail=False)
            if parent is not None:
                while elem.getprevious() is not None:
                    del parent[0]


def _locate(err: etree.XMLSyntaxError, lines: _Lines, resume_at: int, prefix: bytes) -> DxlError:
    """Where in the file an error of the (possibly resumed) stream is."""
    message = (err.msg or str(err)).split(", line ")[0]
    lineno, column = err.position if err.position and err.position[0] > 0 else (1, 1)
    if resume_at:
        base_line, base_col = lines.locate(resume_at)
        if lineno == 1:
            column = base_col + max(column - 1 - len(prefix), 0)
        lineno = base_line + lineno - 1
    offset = lines.offset_of(lineno, column)
    return DxlError(lineno, column, offset, message)


class _Lines:
    """Converts between (line, column) and byte offsets, scanning the file forward only: errors
    come in file order, so the whole file is scanned at most once however many errors it has."""

    def __init__(self, path: str):
        self.path = path
        self.offset, self.line = 0, 1  # a line start

    def _advance_to_line(self, fp, line: int) -> None:
        pos = self.offset
        fp.seek(pos)
        while self.line < line:
            chunk = fp.read(1 << 20)
            if not chunk:
                return
            cut = 0
            while self.line < line:
                nl = chunk.find(b"\n", cut)
                if nl < 0:
                    break
                cut = nl + 1
                self.line += 1
                self.offset = pos + cut
            pos += len(chunk)

    def offset_of(self, line: int, column: int) -> int:
        """The byte offset of 1-based ``line`` and ``column`` (libxml2 counts characters)."""
        with open(self.path, "rb") as fp:
            if line < self.line:
                self.offset, self.line = 0, 1
            self._advance_to_line(fp, line)
            fp.seek(self.offset)
            head = fp.read(max(column - 1, 0) * 4)
        chars = head.decode("utf-8", "surrogateescape")[: max(column - 1, 0)]
        return self.offset + len(chars.encode("utf-8", "surrogateescape"))

    def locate(self, offset: int) -> tuple[int, int]:
        """The 1-based (line, column) of a byte offset."""
        with open(self.path, "rb") as fp:
            if offset < self.offset:
                self.offset, self.line = 0, 1
            fp.seek(self.offset)
            data = fp.read(offset - self.offset)
        newlines = data.count(b"\n")
        if newlines:
            start = data.rfind(b"\n") + 1
            self.line += newlines
            self.offset += start
            data = data[start:]
        return self.line, len(data.decode("utf-8", "surrogateescape")) + 1


def _next_document(path: str, start: int) -> int | None:
    """The byte offset of the first ``<document`` start tag at or after ``start``."""
    needle = b"<document"
    ends = (b" ", b">", b"/", b"\t", b"\n", b"\r")
    with open(path, "rb") as fp:
        fp.seek(start)
        base, data = start, b""
        while True:
            chunk = fp.read(1 << 20)
            data += chunk
            at = data.find(needle)
            while at >= 0:
                after = data[at + len(needle): at + len(needle) + 1]
                if after in ends:
                    return base + at
                if not after:
                    break  # the tag name may go on in the next chunk
                at = data.find(needle, at + 1)
            if not chunk:
                return None
            keep = min(len(data), len(needle))
            base += len(data) - keep
            data = data[len(data) - keep:]


def _root_tag(nsmap: dict | None) -> bytes:
    nsmap = nsmap or {None: DXL_NS}
    decls = " ".join(f'xmlns="{uri}"' if prefix is None else f'xmlns:{prefix}="{uri}"'
                     for prefix, uri in nsmap.items())
    return f"<database {decls}>".encode()


class _Resumed(io.RawIOBase):
    """The file from ``offset`` on, behind a synthetic root start tag."""

    def __init__(self, path: str, prefix: bytes, offset: int):
        self._prefix = prefix
        self._fp = open(path, "rb")  # noqa: SIM115 - closed at EOF, by close(), or by IOBase.__del__
        self._fp.seek(offset)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._prefix:
            out, self._prefix = self._prefix, b""
            return out
        data = self._fp.read(size)
        if not data:
            self._fp.close()
        return data

    def close(self) -> None:
        self._fp.close()
        super().close()


# -- elements to objects ------------------------------------------------------------------------


_LOCAL_NAMES: dict[str, str] = {}


def _local(tag) -> str:
    """'{http://www.lotus.com/dxl}item' → 'item' (cached: a file has a few dozen distinct tags)."""
    try:
        return _LOCAL_NAMES[tag]
    except KeyError:
        name = tag.rpartition("}")[2] if isinstance(tag, str) else ""
        if isinstance(tag, str):
            _LOCAL_NAMES[tag] = name
        return name


_FLAG_NAMES = frozenset(FLAGS)
_FLAG_SETS: dict[tuple, frozenset[str]] = {}


def _flags(attrib) -> frozenset[str]:
    """The item flags set to 'true', as one shared frozenset per combination."""
    key = tuple(k for k, v in attrib.items() if v == "true" and k in _FLAG_NAMES)
    flags = _FLAG_SETS.get(key)
    if flags is None:
        flags = _FLAG_SETS[key] = frozenset(key)
    return flags


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text not in (None, "") else None
    except ValueError:
        return None


def _database(elem) -> Database:
    return Database(
        title=elem.get("title"),
        path=elem.get("path"),
        replica_id=elem.get("replicaid"),
        template=elem.get("fromtemplate") or "",
    )


def _database_info(elem, database: Database) -> None:
    database.document_count = _int(elem.get("numberofdocuments"))
    database.size_bytes = _int(elem.get("diskspace"))


def _noteinfo(elem) -> tuple[str | None, str | None, datetime | None, datetime | None]:
    for child in elem:
        if _local(child.tag) == "noteinfo":
            return (child.get("unid"), child.get("noteid"), _noteinfo_time(child, "created"),
                    _noteinfo_time(child, "modified"))
    return None, None, None, None


def _noteinfo_time(noteinfo, name: str):
    for child in noteinfo:
        if _local(child.tag) == name:
            for dt in child:
                if _local(dt.tag) == "datetime" and dt.text:
                    return parse_datetime(dt.text)
    return None


def _code_formula(elem, event: str) -> str | None:
    for code in elem:
        if _local(code.tag) == "code" and code.get("event") == event:
            for f in code:
                if _local(f.tag) == "formula":
                    return (f.text or "").strip()
    return None


def _aliases(elem) -> list[str]:
    return [a for a in (elem.get("alias") or "").split("|") if a]


def _view(elem, is_folder: bool) -> View:
    unid, noteid, _, _ = _noteinfo(elem)
    view = View(name=elem.get("name") or "", aliases=_aliases(elem), unid=unid, noteid=noteid,
                is_folder=is_folder, selection=_code_formula(elem, "selection"))
    for child in elem:
        if _local(child.tag) != "column":
            continue
        title = None
        for h in child:
            if _local(h.tag) == "columnheader":
                title = h.get("title")
        view.columns.append(ViewColumn(
            name=child.get("itemname") or f"${len(view.columns)}",
            title=title,
            position=len(view.columns),
            formula=_code_formula(child, "value"),
            sorted=child.get("sort") in ("ascending", "descending"),
            categorized=child.get("categorized") == "true",
        ))
    return view


def _form(elem) -> Form:
    unid, _, _, _ = _noteinfo(elem)
    form = Form(name=elem.get("name") or "", aliases=_aliases(elem), unid=unid)
    seen = set()
    for field in elem.iter("{*}field"):
        name = field.get("name")
        if name and name not in seen:
            seen.add(name)
            form.fields.append(FormField(name, field.get("type") or "text",
                                         field.get("allowmultivalues") == "true"))
    return form


def _document(elem, keep_file_data: bool) -> Document:
    unid, noteid, created, modified = _noteinfo(elem)
    doc = Document(unid=unid or "", noteid=noteid, form=elem.get("form"), created=created,
                   modified=modified)
    for child in elem:
        if _local(child.tag) != "item":
            continue
        name = child.get("name") or ""
        flags = _flags(child.attrib)
        value = next((v for v in child if isinstance(v.tag, str)), None)
        kind = _local(value.tag) if value is not None else "text"
        if kind == "object":
            attachment = _attachment(value, doc.unid, keep_file_data)
            if attachment is not None:
                doc.attachments.append(attachment)
                continue
        if name.upper() == "$REF":
            doc.parent = _parent_unid(value)
            if doc.parent is not None:
                continue
        if name not in doc.items:  # Notes reads the first of duplicate items, so do we
            doc.items[name] = _item(name, kind, value, flags)
    if doc.form is None and "Form" in doc.items and doc.items["Form"].values:
        doc.form = str(doc.items["Form"].values[0])
    return doc


def _item(name: str, kind: str, value, flags: frozenset[str]) -> Item:
    if value is None:
        return Item(name, "text", [], flags)
    try:
        if kind == "text":
            return Item(name, kind, [_text(value)], flags)
        if kind == "textlist":
            return Item(name, kind, [_text(v) for v in value if _local(v.tag) == "text"], flags)
        if kind == "number":
            return Item(name, kind, _numbers([value]), flags)
        if kind == "numberlist":
            return Item(name, kind, _numbers(v for v in value if _local(v.tag) == "number"), flags)
        if kind == "datetime":
            return Item(name, kind, [parse_datetime(value.text or "")], flags)
        if kind == "datetimelist":
            return Item(name, kind, [_datetime_entry(v) for v in value if isinstance(v.tag, str)],
                        flags)
        if kind == "richtext":
            return Item(name, kind, [rich_text_plain(value)], flags,
                        markup=etree.tostring(value, encoding="unicode", with_tail=False))
        if kind == "formula":
            return Item(name, kind, [(value.text or "").strip()], flags)
        if kind in ("rawitemdata", "itemdata"):
            return Item(name, kind, ["".join((value.text or "").split())], flags,
                        note=f"raw item data of Notes type {value.get('type')} kept as base64 text")
    except ValueError as err:
        return Item(name, kind, [_raw(value)], flags,
                    note=f"{kind} value not understood ({err}); kept as raw text")
    return Item(name, kind, [_raw(value)], flags,
                note=f"unknown DXL item type <{kind}> kept as raw text")


def _raw(value) -> str:
    return etree.tostring(value, encoding="unicode", with_tail=False)


def _text(elem) -> str:
    """A <text>: DXL writes a line break inside a text value as <break/>."""
    if len(elem) == 0:
        return elem.text or ""
    parts = [elem.text or ""]
    for child in elem:
        parts.append("\n" if _local(child.tag) == "break" else (child.text or ""))
        parts.append(child.tail or "")
    return "".join(parts)


def _numbers(elems) -> list[float]:
    return [float(e.text) for e in elems if e.text and e.text.strip()]


def _datetime_entry(elem):
    if _local(elem.tag) == "datetimepair":
        ends = [parse_datetime(d.text or "").isoformat() for d in elem]
        return "/".join(ends)  # a range, as an ISO 8601 interval
    return parse_datetime(elem.text or "")


def _attachment(obj, unid: str, keep_file_data: bool) -> Attachment | None:
    for f in obj:
        if _local(f.tag) != "file":
            continue
        attachment = Attachment(unid=unid, name=f.get("name") or "", size=_int(f.get("size")))
        for part in f:
            tag = _local(part.tag)
            if tag in ("created", "modified"):
                for dt in part:
                    if _local(dt.tag) == "datetime" and dt.text:
                        setattr(attachment, tag, parse_datetime(dt.text))
            elif tag == "filedata" and keep_file_data:
                attachment.encoded = part.text or ""
        return attachment
    return None


def _parent_unid(value) -> str | None:
    """$REF: a note reference list (LIST header, then 16-byte UNIVERSALNOTEIDs, little-endian),
    or, from some exporters, the parent UNID as text."""
    if value is None:
        return None
    tag = _local(value.tag)
    if tag == "text" and len((value.text or "").strip()) == 32:
        return value.text.strip().upper()
    if tag in ("rawitemdata", "itemdata") and int(value.get("type") or "0", 16) == _NOTEREF_LIST:
        try:
            raw = base64.b64decode("".join((value.text or "").split()))
            (count,) = struct.unpack_from("<H", raw)
            if count >= 1 and len(raw) >= 18:
                file_part, note_part = struct.unpack_from("<QQ", raw, 2)
                return f"{file_part:016X}{note_part:016X}"
        except (binascii.Error, struct.error):
            return None
    return None


def rich_text_plain(richtext) -> str:
    """The text of a <richtext>: one line per paragraph, <break/> as a line break, <tab/> as a
    tab; images, attachment icons, hotspot code and formatting contribute nothing."""
    paragraphs = []
    for par in richtext.iter("{*}par"):
        out: list[str] = []
        _collect(par, out)
        paragraphs.append("".join(out))
    return "\n".join(paragraphs)


def _collect(elem, out: list[str]) -> None:
    if elem.text:
        out.append(elem.text)
    for child in elem:
        tag = _local(child.tag)
        if tag == "break":
            out.append("\n")
        elif tag == "tab":
            out.append("\t")
        elif tag and tag not in _NOT_TEXT and tag != "par":
            _collect(child, out)
        if child.tail:
            out.append(child.tail)


# -- DXL date/time values -----------------------------------------------------------------------


def parse_datetime(text: str) -> date | time | datetime:
    """A DXL <datetime>: '20090602T165055,48+02' (aware), '20090602T165055,48' (no zone: naive),
    '19750521' (a date), 'T165055,48' (a time). Zones may carry minutes ('+0530')."""
    text = text.strip()
    if not text:
        raise ValueError("empty datetime")
    if text[0] == "T":
        return _clock(text[1:])[0]
    day, _, clock_part = text.partition("T")
    if len(day) != 8 or not day.isdigit():
        raise ValueError(f"bad DXL date {text!r}")
    year, month, mday = int(day[:4]), int(day[4:6]), int(day[6:8])
    if not clock_part:
        return date(year, month, mday)
    clock, zone = _clock(clock_part)
    return datetime(year, month, mday, clock.hour, clock.minute, clock.second, clock.microsecond,
                    zone)


def _clock(text: str) -> tuple[time, timezone | None]:
    zone = None
    for sign in ("+", "-", "Z"):
        at = text.find(sign)
        if at > 0:
            zone = _zone(text[at:])
            text = text[:at]
            break
    whole, _, hundredths = text.partition(",")
    if len(whole) != 6 or not whole.isdigit() or (hundredths and not hundredths.isdigit()):
        raise ValueError(f"bad DXL time {text!r}")
    micro = int((hundredths + "000000")[:6]) if hundredths else 0
    return time(int(whole[:2]), int(whole[2:4]), int(whole[4:6]), micro), zone


@lru_cache(maxsize=256)
def _zone(text: str) -> timezone:
    if text == "Z":
        return timezone.utc
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    if not digits.isdigit() or len(digits) not in (2, 4):
        raise ValueError(f"bad DXL time zone {text!r}")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    return timezone(sign * timedelta(hours=hours, minutes=minutes))
