"""The Notes protocol layer: the streaming DXL parser, documents to per-form tables, and the DAS and
Domino REST API clients. DXL tests read real files the tests write; REST tests talk HTTP to the
local Domino simulation (fakes/domino/server.py) and are marked ``simulated``."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap
from datetime import date, datetime, time, timedelta, timezone

import pyarrow as pa
import pytest
from fakes.domino import dxl as dxl_writer
from fakes.domino import specs
from fakes.domino.model import (
    FxDocument,
    FxFile,
    FxItem,
    many_documents,
    sample_crm,
    sample_estate,
    tz,
    unid_for,
)
from fakes.domino.server import DominoServer

from hydra.heads.base import HeadConnectionError, HeadError
from hydra.heads.notes import dxl, forms, model, rest
from hydra.heads.notes.model import Database, Document, DxlError, Form, View


def events(path, **kw):
    return list(dxl.parse(path, **kw))


def documents(path, **kw):
    return [e for e in dxl.parse(path, **kw) if isinstance(e, Document)]


@pytest.fixture
def crm_dxl(tmp_path):
    return dxl_writer.write_database(sample_crm(), tmp_path / "crm.dxl")


# -- DXL values ------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, value", [
    ("20090602T165055,48+02", datetime(2009, 6, 2, 16, 50, 55, 480000, tzinfo=tz(2))),
    ("20100101T120000,00-05", datetime(2010, 1, 1, 12, tzinfo=tz(-5))),
    ("20100102T123000,25+0530", datetime(2010, 1, 2, 12, 30, 0, 250000, tzinfo=tz(5, 30))),
    ("20100102T123000,25Z", datetime(2010, 1, 2, 12, 30, 0, 250000, tzinfo=timezone.utc)),
    ("20110304T091500,00", datetime(2011, 3, 4, 9, 15)),
    ("20110304T091500", datetime(2011, 3, 4, 9, 15)),
    ("19750521", date(1975, 5, 21)),
    ("T165055,48", time(16, 50, 55, 480000)),
])
def test_dxl_datetime_formats(text, value):
    parsed = dxl.parse_datetime(text)
    assert parsed == value and type(parsed) is type(value)
    assert getattr(parsed, "tzinfo", None) == getattr(value, "tzinfo", None)


@pytest.mark.parametrize("bad", ["", "2009", "20090602T16", "20090602T165055,48+2", "T99"])
def test_bad_dxl_datetimes_are_refused(bad):
    with pytest.raises(ValueError):
        dxl.parse_datetime(bad)


def test_every_item_type_is_read_with_its_type(crm_dxl):
    """text, textlist, number, numberlist, datetime (zone, no zone, date-only, time-only),
    datetimelist, rich text (plain text and raw markup), names/readers/authors and summary flags,
    raw item data and an unknown element (kept as raw text with a note), $REF, $FILE."""
    crm = sample_crm()
    docs = {d.unid: d for d in documents(crm_dxl, keep_file_data=True)}
    ada = docs[crm.documents[0].unid]
    item = ada.items
    assert ada.form == "Contact" and ada.noteid == "8fa"
    assert ada.created == datetime(2009, 6, 2, 16, 50, 55, 480000, tzinfo=tz(2))
    assert (item["Name"].type, item["Name"].values) == ("text", ["Ada Lovelace"])
    assert (item["Tags"].type, item["Tags"].values) == ("textlist", ["new"])
    assert (item["Age"].type, item["Age"].values) == ("number", [41.0])
    assert (item["Scores"].type, item["Scores"].values) == ("numberlist", [1.5, 2.0, -3.25])
    assert item["Born"].values == [date(1975, 5, 21)]
    assert item["LastCall"].values[0].utcoffset() == timedelta(hours=2)
    assert item["Meeting"].values == [datetime(2011, 3, 4, 9, 15)]  # no zone: naive
    assert item["Alarm"].values == [time(16, 50, 55, 480000)]
    assert item["Calls"].type == "datetimelist"
    assert [v.utcoffset() for v in item["Calls"].values] == [timedelta(hours=-5),
                                                           timedelta(hours=5, minutes=30)]
    assert item["Comment"].values == ["first line\nsecond line & <more>"]
    assert "summary" not in item["Comment"].flags and "summary" in item["Name"].flags
    assert item["Owner"].flags == {"summary", "names"} and item["Owner"].is_list
    assert item["DocReaders"].flags == {"summary", "readers"}
    assert item["DocAuthors"].flags == {"summary", "authors"} and item["DocAuthors"].value == [
        "CN=Grace Hopper/O=Acme"]
    body = item["Body"]
    assert body.type == "richtext"
    assert body.values == [crm.documents[0].item("Body").value.plain()]
    assert body.values[0].startswith("Dear Ada Lovelace,\nPlease find")
    assert "contract.pdf" not in body.values[0]  # an attachment icon is not text
    assert body.markup.startswith("<richtext") and "<attachmentref" in body.markup

    grace = docs[crm.documents[1].unid].items
    assert grace["Mystery"].type == "rawitemdata" and "kept as base64 text" in grace["Mystery"].note
    assert grace["Future"].values == ['<hologram xmlns="http://www.lotus.com/dxl">3d</hologram>']
    assert "unknown DXL item type <hologram>" in grace["Future"].note

    replies = [d for d in docs.values() if d.form == "Reply"]
    assert len(replies) == 3 and {r.parent for r in replies} == {crm.documents[0].unid}
    assert "$REF" not in replies[0].items and "$FILE" not in ada.items

    [contract] = ada.attachments
    assert (contract.name, contract.size) == ("contract.pdf", 5016)
    assert contract.created == datetime(2011, 2, 3, 4, 5, 6, tzinfo=tz(1))
    assert contract.read_bytes() == crm.documents[0].files[0].data


def test_database_design_notes_and_info(crm_dxl):
    """<database> attributes, <databaseinfo> counts, views with columns and selection, forms with
    their fields."""
    evs = events(crm_dxl)
    database = evs[0]
    assert isinstance(database, Database)
    assert (database.title, database.path, database.replica_id, database.template) == (
        "Client CRM", "apps/crm.nsf", "85257BC7005B7B8F", "StdCRM9")
    assert database.document_count == 7 and database.size_bytes > 0
    assert dxl.database_info(crm_dxl) == database

    views = {v.name: v for v in evs if isinstance(v, View)}
    contacts = views["Contacts"]
    assert contacts.selection == 'SELECT Form = "Contact"'
    assert [(c.name, c.title, c.formula, c.sorted) for c in contacts.columns] == [
        ("Name", "Name", None, True), ("Age", "Age", None, False),
        ("$2", "Initial", "@Left(Name; 1)", False)]
    form = next(f for f in evs if isinstance(f, Form) and f.name == "Contact")
    fields = {f.name: (f.type, f.multi) for f in form.fields}
    assert fields["DocReaders"] == ("readers", True) and fields["Age"] == ("number", False)


# -- malformed DXL ---------------------------------------------------------------------------------


def test_malformed_dxl_reports_where_and_keeps_the_other_documents(tmp_path):
    """A broken document is reported with its line, column and byte offset; the documents before
    it and after it are read."""
    crm = sample_crm()
    path = tmp_path / "bad.dxl"
    line, offset = dxl_writer.write_malformed(crm, path, document=1)
    evs = events(path)
    [error] = [e for e in evs if isinstance(e, DxlError)]
    assert error.line == line and offset <= error.offset <= offset + len("</txt>")
    assert "mismatch" in error.message and "\n" not in str(error)
    got = [d.unid for d in evs if isinstance(d, Document)]
    assert got == [d.unid for n, d in enumerate(crm.documents) if n != 1]
    # the error comes in file order: after the first document, before the third
    kinds = [type(e).__name__ for e in evs if not isinstance(e, (Form, View))]
    assert kinds[:4] == ["Database", "Document", "DxlError", "Document"]
    # the header before the error is read too (iterparse lost it in a small file)
    header = dxl.database_info(path)
    assert (header.title, header.document_count) == ("Client CRM", 7) and header == evs[0]


def test_truncated_dxl_keeps_what_came_before(tmp_path):
    crm = sample_crm()
    path = tmp_path / "cut.dxl"
    complete = dxl_writer.write_truncated(crm, path, document=2)
    evs = events(path)
    assert [d.unid for d in evs if isinstance(d, Document)] == [
        d.unid for d in crm.documents[:complete]]
    [error] = [e for e in evs if isinstance(e, DxlError)]
    assert error.offset == path.stat().st_size and "end of data" in error.message
    assert error.line == path.read_bytes().count(b"\n") + 1


def test_error_positions_count_characters_and_bytes_right(tmp_path):
    """libxml2 counts columns in characters; offsets are bytes. Text with multi-byte characters
    before the error on the same line, and a second error after a resumed parse."""
    path = tmp_path / "multi.dxl"
    path.write_bytes(textwrap.dedent("""\
        <?xml version='1.0' encoding='utf-8'?>
        <database xmlns='http://www.lotus.com/dxl' title='t'>
        <document form='A'><noteinfo unid='A1'/><item name='x'><text>ok</text></item></document>
        <document form='B'><noteinfo unid='B1'/><item name='x'><text>ééé€</txt></item></document>
        <document form='C'><noteinfo unid='C1'/><item name='x'><text>ok</text></item></document>
        <document form='D'><noteinfo unid='D1'/><item name='y'><text>ü</text><bad</item></document>
        <document form='E'><noteinfo unid='E1'/><item name='x'><text>ok</text></item></document>
        </database>
        """).encode())
    data = path.read_bytes()
    evs = events(path)
    assert [d.unid for d in evs if isinstance(d, Document)] == ["A1", "C1", "E1"]
    first, second = [e for e in evs if isinstance(e, DxlError)]
    bad_end = data.index(b"</txt>")
    assert first.line == 4 and bad_end <= first.offset <= bad_end + 6
    line_start = data.rindex(b"\n", 0, first.offset) + 1
    assert first.column == len(data[line_start:first.offset].decode()) + 1
    bad_tag = data.index(b"<bad")
    assert second.line == 6 and bad_tag <= second.offset <= bad_tag + 10


def test_attachment_bytes_stream_to_a_file_in_slices(tmp_path, crm_dxl, monkeypatch):
    """Decoded slice by slice (slices far smaller than the base64 lines here), written to a file,
    with the SHA-256 of what was written; not kept unless asked."""
    monkeypatch.setattr(model, "_B64_SLICE", 8)
    crm = sample_crm()
    originals = {f.name: f.data for d in crm.documents for f in d.files}
    for doc in documents(crm_dxl, keep_file_data=True):
        for attachment in doc.attachments:
            target = tmp_path / attachment.name
            with open(target, "wb") as fp:
                size, sha = attachment.save(fp)
            assert target.read_bytes() == originals[attachment.name]
            assert (size, sha) == (len(originals[attachment.name]),
                                   hashlib.sha256(originals[attachment.name]).hexdigest())
    lean = next(d for d in documents(crm_dxl) if d.attachments)
    with pytest.raises(ValueError, match="not kept"):
        lean.attachments[0].read_bytes()


@pytest.mark.slow
def test_parsing_memory_does_not_grow_with_the_file(tmp_path):
    """A 60 MB export parsed in a fresh process: its peak RSS grows by far less than the file
    (lxml would hold the whole tree, several times the file, if elements were not cleared)."""
    path = tmp_path / "large.dxl"
    written = dxl_writer.write_large(path, 60 << 20)
    script = textwrap.dedent(f"""
        import resource, json
        from hydra.heads.notes import dxl, forms
        from hydra.heads.notes.model import Document
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        docs = 0
        for e in dxl.parse({str(path)!r}):
            docs += isinstance(e, Document)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({{"documents": docs, "grew_kb": after - before}}))
    """)
    out = json.loads(subprocess.run([sys.executable, "-c", script], capture_output=True,
                                    text=True, check=True).stdout)
    assert out["documents"] == written["documents"]
    assert out["grew_kb"] * 1024 < written["bytes"] / 4


# -- documents to tables ---------------------------------------------------------------------------


def test_one_table_per_form_typed_from_the_items(crm_dxl):
    crm = sample_crm()
    schemas = forms.learn_schemas(documents(crm_dxl))
    assert set(schemas) == {"Contact", "Company", "Reply"}
    contact = {c.name: c for c in schemas["Contact"].columns}
    assert {n: c.type for n, c in contact.items()} == {
        "@unid": "VARCHAR", "@noteid": "VARCHAR", "@created": "TIMESTAMPTZ",
        "@modified": "TIMESTAMPTZ", "@parent": "VARCHAR", "Form": "VARCHAR", "Name": "VARCHAR",
        "Tags": "VARCHAR[]", "Age": "DOUBLE", "Scores": "DOUBLE[]", "Born": "DATE",
        "LastCall": "TIMESTAMPTZ", "Meeting": "TIMESTAMP", "Alarm": "TIME",
        "Calls": "TIMESTAMPTZ[]", "Owner": "VARCHAR[]", "DocReaders": "VARCHAR[]",
        "DocAuthors": "VARCHAR[]", "Comment": "VARCHAR", "Code": "VARCHAR", "Body": "VARCHAR",
        "Body$markup": "VARCHAR", "Mystery": "VARCHAR", "Future": "VARCHAR"}
    assert "varies between documents (number, text)" in contact["Code"].note
    assert "raw markup in Body$markup" in contact["Body"].note
    assert "kept as base64 text" in contact["Mystery"].note
    assert "unknown DXL item type" in contact["Future"].note

    table = forms.form_reader(documents(crm_dxl), schemas["Contact"]).read_all()
    rows = {r["@unid"]: r for r in table.to_pylist()}
    ada, grace = rows[crm.documents[0].unid], rows[crm.documents[1].unid]
    assert ada["Code"] == "7" and grace["Code"] == "A-17"
    assert ada["Owner"] == ["CN=Ada Lovelace/O=Acme"] and ada["Tags"] == ["new"]
    assert ada["LastCall"] == datetime(2009, 6, 2, 14, 50, 55, 480000, tzinfo=timezone.utc)
    assert ada["Alarm"] == time(16, 50, 55, 480000) and ada["Born"] == date(1975, 5, 21)
    assert ada["Body$markup"].startswith("<richtext") and ada["Mystery"] is None
    assert table.schema.field("Calls").type == pa.list_(pa.timestamp("us", tz="UTC"))

    replies = forms.form_reader(documents(crm_dxl), schemas["Reply"]).read_all().to_pylist()
    assert {r["@parent"] for r in replies} == {crm.documents[0].unid}
    company = forms.form_reader(documents(crm_dxl), schemas["Company"]).read_all()
    assert company.column_names[5:] == ["Form", "Name", "Employees", "Founded", "Address"]


def _doc(unid, **items):
    doc = Document(unid=unid, form="F")
    for name, (typ, values) in items.items():
        doc.items[name] = model.Item(name, typ, values)
    return doc


def test_types_that_vary_between_documents():
    """Scalars and lists make a list column; datetimes of different precision, or numbers and
    text, make a text column; item names are case-insensitive; batches have batch_rows rows."""
    docs = [
        _doc("1", When=("datetime", [date(2020, 1, 2)]), N=("number", [1.0]), T=("text", ["a"]),
             subject=("text", ["lower"])),
        _doc("2", When=("datetime", [datetime(2020, 1, 2, 3, 4, tzinfo=timezone.utc)]),
             N=("text", ["x"]), T=("textlist", ["b", "c"]), SUBJECT=("text", ["upper"])),
        _doc("3", When=("datetime", [date(2021, 5, 6)])),
    ]
    [schema] = forms.learn_schemas(docs).values()
    cols = {c.name: c for c in schema.columns}
    assert (cols["When"].type, cols["N"].type, cols["T"].type) == ("VARCHAR", "VARCHAR",
                                                                  "VARCHAR[]")
    assert "precision varies" in cols["When"].note and "(date, timestamptz)" in cols["When"].note
    assert "SUBJECT" not in cols and cols["subject"].type == "VARCHAR"
    batches = list(forms.form_batches(docs, schema, batch_rows=2))
    assert [b.num_rows for b in batches] == [2, 1]
    rows = pa.Table.from_batches(batches).to_pylist()
    assert [r["When"] for r in rows] == ["2020-01-02", "2020-01-02T03:04:00+00:00", "2021-05-06"]
    assert [r["N"] for r in rows] == ["1", "x", None]
    assert [r["T"] for r in rows] == [["a"], ["b", "c"], None]
    assert [r["subject"] for r in rows] == ["lower", "upper", None]


def test_rows_of_the_head_tables(crm_dxl):
    crm = sample_crm()
    evs = events(crm_dxl)
    db = evs[0]
    assert forms.database_row("crm", db) == {
        "database": "crm", "title": "Client CRM", "path": "apps/crm.nsf",
        "replica_id": "85257BC7005B7B8F", "template": "StdCRM9", "document_count": 7,
        "size_bytes": db.size_bytes}
    contacts = next(e for e in evs if isinstance(e, View) and e.name == "Contacts")
    row = forms.view_row("crm", contacts)
    assert row["view"] == "Contacts" and json.loads(row["columns"])[2] == {
        "name": "$2", "title": "Initial", "position": 2, "formula": "@Left(Name; 1)"}
    docs = [e for e in evs if isinstance(e, Document)]
    schema = forms.learn_schemas(docs)["Contact"]
    design = next(e for e in evs if isinstance(e, Form) and e.name == "Contact")
    form = forms.form_row("crm", schema, design)
    assert form["documents"] == 2 and {"name": "Code", "type": "VARCHAR", "note":
                                       schema.columns[19].note} in json.loads(form["fields"])
    assert {"name": "DocReaders", "type": "readers", "multi": True} in json.loads(
        form["design_fields"])
    doc = forms.doc_row("crm", docs[0])
    summary = json.loads(doc["summary"])
    assert doc["unid"] == crm.documents[0].unid and doc["form"] == "Contact"
    assert "Body" in doc["items"] and "Body" not in summary and "Comment" not in summary
    assert summary["LastCall"] == "2009-06-02T16:50:55.480000+02:00"
    assert summary["Owner"] == ["CN=Ada Lovelace/O=Acme"]
    [att] = docs[0].attachments
    assert forms.attachment_row("crm", att) == {
        "database": "crm", "unid": docs[0].unid, "file_name": "contract.pdf", "size": 5016,
        "created": datetime(2011, 2, 3, 4, 5, 6, tzinfo=tz(1)),
        "modified": datetime(2011, 2, 3, 4, 5, 7, tzinfo=tz(1))}


# -- paging (pure) ---------------------------------------------------------------------------------


def _fetcher(total, cap, *, with_total):
    asked = []

    def fetch(start, count):
        asked.append((start, count))
        got = list(range(total))[start:start + min(count, cap)]
        return got, (total if with_total else None)

    return fetch, asked


@pytest.mark.parametrize("total, cap, page, with_total, requests", [
    (23, 5, 10, True, [(0, 10), (5, 10), (10, 10), (15, 10), (20, 10)]),
    (23, 100, 10, True, [(0, 10), (10, 10), (20, 10)]),
    (23, 5, 10, False, [(0, 10), (5, 5), (10, 5), (15, 5), (20, 5)]),
    (20, 5, 10, False, [(0, 10), (5, 5), (10, 5), (15, 5), (20, 5)]),
    (20, 100, 10, False, [(0, 10), (10, 10), (20, 10)]),
    (7, 100, 10, False, [(0, 10), (7, 7)]),
    (0, 5, 10, False, [(0, 10)]),
])
def test_paging_stops_at_the_total_or_a_short_page(total, cap, page, with_total, requests):
    fetch, asked = _fetcher(total, cap, with_total=with_total)
    assert list(rest.pages(fetch, page)) == list(range(total))
    assert asked == requests


# -- REST, against the local Domino simulation -----------------------------------------------------


@pytest.fixture
def server():
    """The Domino simulation; what the head's clients exchanged with it is checked against the
    DAS and REST API specs afterwards (fakes/domino/specs.py), so the head is tested against
    answers the specs allow, to requests the specs allow."""
    with DominoServer(sample_estate(), page_cap=5) as s:
        yield s
    specs.check_exchanges(s.responses)


@pytest.mark.simulated
def test_das_pages_a_view_under_a_server_cap(server):
    """Simulates DAS (server cap 5 entries, client asks for 10): every entry once, in order,
    stopping at the Content-Range total."""
    das = rest.DasClient(f"domino+{server.url}", "alice", "wonderland", page_size=10)
    entries = list(das.view_entries("apps/big.nsf", "($All)"))
    big = many_documents(23)
    assert [e["@unid"] for e in entries] == [d.unid for d in big.documents]
    assert entries[0]["N"] == 0.0 and entries[0]["@noteid"] == "8fa"
    asked = [(r["query"]["start"], r["query"]["count"]) for r in server.requests
             if "collections/name" in r["path"]]
    assert asked == [("0", "10"), ("5", "10"), ("10", "10"), ("15", "10"), ("20", "10")]


@pytest.mark.simulated
def test_rest_api_pages_a_list_without_a_total(server):
    """Simulates the Domino REST API (no total; cap 5, client asks for 7): every entry, and the
    cap is learnt from the first short page."""
    client = rest.DominoRestClient(server.url, "alice", "wonderland", page_size=7)
    entries = list(client.view_entries("big", "($All)"))
    assert [e["@position"] for e in entries] == [str(n) for n in range(1, 24)]
    asked = [(r["query"]["start"], r["query"]["count"]) for r in server.requests
             if r["path"].startswith("/api/v1/lists/")]
    assert asked == [("0", "7"), ("5", "5"), ("10", "5"), ("15", "5"), ("20", "5")]


@pytest.mark.simulated
def test_concurrency_is_limited(tmp_path):
    """Simulates DAS with slow answers: documents are fetched ``concurrency`` at a time, never
    more, and come back in order."""
    with DominoServer([many_documents(12)], delay=0.05) as slow:
        das = rest.DasClient(slow.url, "alice", "wonderland", concurrency=3)
        got = [d.unid for d in das.documents("apps/big.nsf")]
        assert got == [d.unid for d in many_documents(12).documents]
        assert slow.max_in_flight == 3


@pytest.mark.simulated
def test_errors_are_one_line_and_hold_no_secret(server):
    """Simulates both APIs: a wrong password (401), a database the user may not open (403), a
    server that is not there; each error one line, naming the user, never the password."""
    cases = [
        (HeadConnectionError, "HTTP 401",
         lambda: rest.DasClient(server.url, "alice", "s3cr3t-pw").databases()),
        (HeadConnectionError, "HTTP 401",
         lambda: rest.DominoRestClient(server.url, "alice", "s3cr3t-pw").databases()),
        (HeadError, "apps/hr.nsf: user 'alice' may not open it (HTTP 403)",
         lambda: rest.DasClient(server.url, "alice", "wonderland").views("apps/hr.nsf")),
        (HeadError, "of hr: user 'alice' may not open it (HTTP 403)",
         lambda: list(rest.DominoRestClient(server.url, "alice", "wonderland")
                      .view_entries("hr", "($All)"))),
        (HeadConnectionError, "cannot reach http://127.0.0.1:9",
         lambda: rest.DasClient("domino+http://u:s3cr3t-pw@127.0.0.1:9", "u", "s3cr3t-pw"
                                ).databases()),
    ]
    for cls, text, call in cases:
        with pytest.raises(cls) as err:
            call()
        message = str(err.value)
        assert text in message and "\n" not in message
        assert "s3cr3t-pw" not in message and "wonderland" not in message


@pytest.mark.simulated
def test_an_expired_token_is_renewed_once(server):
    """Simulates the REST API expiring the bearer token between two reads."""
    client = rest.DominoRestClient(server.url, "alice", "wonderland")
    assert len(client.views("crm")) == 3
    server.expire_tokens()
    assert len(client.views("crm")) == 3
    assert [r["path"] for r in server.requests if r["method"] == "POST"] == ["/api/v1/auth"] * 2


def _tables(docs):
    docs = list(docs)
    schemas = forms.learn_schemas(docs)
    return {form: forms.form_reader(docs, schema).read_all() for form, schema in schemas.items()}


def _comparable(table, drop):
    keep = [c for c in table.column_names if c not in drop and not c.endswith("$markup")]
    return table.select(keep).sort_by("@unid")


@pytest.mark.simulated
def test_the_same_documents_give_the_same_rows_from_dxl_and_rest(server, crm_dxl):
    """Simulates DAS and the Domino REST API serving the very fixtures the DXL was written from.
    Every form gives the same rows and column types, except what an interface cannot carry:
    rich text markup (DXL vs HTML), an item type REST cannot express (Future), and, over DAS
    only, the names flag of single-valued names/authors items (Owner, DocAuthors)."""
    from_dxl = _tables(documents(crm_dxl))
    das = rest.DasClient(server.url, "alice", "wonderland")
    from_das = _tables(das.documents("apps/crm.nsf"))
    api = rest.DominoRestClient(server.url, "alice", "wonderland")
    from_api = _tables(api.documents("crm"))
    assert set(from_dxl) == set(from_das) == set(from_api) == {"Contact", "Company", "Reply"}

    for form, table in from_dxl.items():
        expected = _comparable(table, {"Future"})
        assert _comparable(from_api[form], set()).equals(expected), form
        names_flagged = {"Owner", "DocAuthors"} if form == "Contact" else set()
        das_table = _comparable(from_das[form], names_flagged)
        assert das_table.equals(_comparable(table, {"Future"} | names_flagged)), form
    assert set(from_dxl["Contact"].column_names) - set(from_api["Contact"].column_names) == {
        "Future"}
    assert from_das["Contact"]["Owner"].to_pylist() == [
        "CN=Ada Lovelace/O=Acme", "CN=Ada Lovelace/O=Acme"]

    # view entries from both APIs, as tables of the view's columns
    das_view = next(v for v in das.views("apps/crm.nsf") if v.name == "Contacts")
    api_view = next(v for v in api.views("crm") if v.name == "Contacts")
    das_rows = pa.Table.from_batches(list(forms.view_batches(
        das.view_entries("apps/crm.nsf", "Contacts"), das_view))).to_pylist()
    api_rows = pa.Table.from_batches(list(forms.view_batches(
        api.view_entries("crm", "Contacts"), api_view))).to_pylist()
    assert das_rows == api_rows
    assert [(r["Name"], r["Age"], r["Initial"]) for r in das_rows] == [
        (["Ada Lovelace"], ["41"], ["A"]), (["Grace Hopper"], ["42"], ["G"])]


@pytest.mark.simulated
def test_rest_reads_only_and_attachments_arrive_whole(server):
    """Simulates the REST API: the attachment bytes equal the originals, and everything the
    clients sent was a GET, bar the login POST."""
    crm = sample_crm()
    api = rest.DominoRestClient(server.url, "alice", "wonderland")
    for doc in crm.documents:
        got = {a.name: a.read_bytes() for a in api.attachments("crm", doc.unid)}
        assert got == {f.name: f.data for f in doc.files}
    das = rest.DasClient(server.url, "alice", "wonderland")
    list(das.documents("apps/crm.nsf"))
    das.views("apps/crm.nsf")
    list(api.documents("crm"))
    methods = {(r["method"], r["path"] if r["method"] != "GET" else "") for r in server.requests}
    assert methods == {("GET", ""), ("POST", "/api/v1/auth")}


def test_http_url_drops_credentials_and_the_domino_prefix():
    assert rest.http_url("domino+https://u:pw@mail.client.com:8880/") == \
        "https://mail.client.com:8880"
    assert rest.http_url("http://127.0.0.1:80") == "http://127.0.0.1:80"


def test_iso_values_over_http():
    assert rest.parse_iso("2009-06-02T14:50:55.48Z") == datetime(
        2009, 6, 2, 14, 50, 55, 480000, tzinfo=timezone.utc)
    assert rest.parse_iso("1975-05-21") == date(1975, 5, 21)
    assert rest.parse_iso("16:50:55.48") == time(16, 50, 55, 480000)
    assert rest.parse_iso("2011-03-04T09:15:00") == datetime(2011, 3, 4, 9, 15)
    html = "<html><body><p>a<br>b</p><p><img alt='x'></p></body></html>"
    assert rest.html_plain(html) == "a\nb\n"


def test_fixture_unids_are_stable():
    assert unid_for("crm", 1) == sample_crm().documents[0].unid
    assert FxDocument(unid_for("x"), 1, "F", datetime.now(timezone.utc),
                      datetime.now(timezone.utc), [FxItem("A", "text", "a")]).item("A").value == "a"


def test_views_of_a_dxl_export_are_computed_where_the_formulas_allow(crm_dxl):
    """DXL holds no view index: entries are computed for SELECT @All and Form = "…" selections;
    columns that show an item get its value, computed columns are NULL; other selections refuse."""
    evs = events(crm_dxl)
    docs = [e for e in evs if isinstance(e, Document)]
    views = {v.name: v for v in evs if isinstance(v, View)}
    rows = pa.Table.from_batches(list(forms.view_batches(
        forms.dxl_view_entries(views["Contacts"], docs), views["Contacts"]))).to_pylist()
    assert [(r["@position"], r["Name"], r["Age"], r["Initial"]) for r in rows] == [
        ("1", ["Ada Lovelace"], ["41"], None), ("2", ["Grace Hopper"], ["42"], None)]
    assert len(list(forms.dxl_view_entries(views["($All)"], docs))) == 7
    assert [e["Name"] for e in forms.dxl_view_entries(views["Companies"], docs)] == [
        "Acme Corp", "Globex"]
    assert forms.selection_forms('SELECT (Form = "Customer")') == {"Customer"}
    assert forms.selection_forms(None) is None
    with pytest.raises(ValueError, match="not evaluable"):
        forms.selection_forms('SELECT Form = "A" & Status = "Open"')


def test_an_attachment_beyond_libxml2s_text_limit(tmp_path):
    """libxml2 refuses text nodes over 10 MB unless told otherwise (huge_tree): a 12 MB file."""
    crm = sample_crm()
    data = bytes(range(256)) * (48 << 10)
    doc = crm.documents[3]
    doc.files.append(FxFile("big.bin", data, doc.created, doc.modified))
    path = dxl_writer.write_database(crm, tmp_path / "huge.dxl")
    [got] = [a for d in documents(path, keep_file_data=True) for a in d.attachments
             if a.name == "big.bin"]
    assert got.size == len(data) == 12 << 20 and got.read_bytes() == data


def test_all_forms_in_one_pass_equal_one_pass_per_form(crm_dxl):
    docs = documents(crm_dxl)
    schemas = forms.learn_schemas(docs)
    together: dict[str, list] = {}
    for form, batch in forms.all_form_batches(docs, schemas, batch_rows=2):
        assert batch.num_rows <= 2
        together.setdefault(form, []).append(batch)
    for form, schema in schemas.items():
        alone = forms.form_reader(docs, schema).read_all()
        assert pa.Table.from_batches(together[form]).equals(alone), form


@pytest.mark.parametrize("feed", [97, 4096])
def test_slices_fed_to_the_parser_do_not_change_what_is_read(tmp_path, monkeypatch, feed):
    """The parser is fed the file in slices (``FEED_BYTES``): whatever the slice, a whole, a
    malformed and a truncated export give the documents and errors they give read at once."""
    crm = sample_crm()
    whole = dxl_writer.write_database(crm, tmp_path / "whole.dxl")
    dxl_writer.write_malformed(crm, tmp_path / "bad.dxl", document=1)
    dxl_writer.write_truncated(crm, tmp_path / "cut.dxl", document=2)

    def seen(path):
        return [(type(e).__name__, getattr(e, "unid", None) or str(e)) for e in events(path)
                if isinstance(e, Document | DxlError)]

    expected = {p: seen(tmp_path / p) for p in ("whole.dxl", "bad.dxl", "cut.dxl")}
    monkeypatch.setattr(dxl, "FEED_BYTES", feed)
    for name, got in expected.items():
        assert seen(tmp_path / name) == got, name
    assert [u for k, u in expected["whole.dxl"]] == [d.unid for d in crm.documents]
    assert [k for k, _ in expected["cut.dxl"]] == ["Document", "Document", "DxlError"]
    assert whole.exists()


def test_the_parse_stays_in_one_thread_whoever_reads_it(crm_dxl, monkeypatch, tmp_path):
    """DuckDB resumes a reader's generator from its own threads: the lxml work of one parse must
    stay in one thread (lxml parsers and trees are not to move between threads). Read here from
    two threads in turn; stopped early, the parse's thread ends; its errors reach the reader."""
    import threading

    expected = events(crm_dxl)
    workers = set()
    real = dxl._document

    def recording(elem, keep):
        workers.add(threading.get_ident())
        return real(elem, keep)

    monkeypatch.setattr(dxl, "_document", recording)
    monkeypatch.setattr(dxl, "HANDOVER_EVENTS", 2)
    stream = dxl.parse(crm_dxl)
    got = []

    def take(n):
        for _ in range(n):
            got.append(next(stream))

    for _ in range(3):
        reader = threading.Thread(target=take, args=(2,))
        reader.start()
        reader.join()
    got.extend(stream)
    assert got == expected and len(workers) == 1
    assert threading.get_ident() not in workers

    early = dxl.parse(crm_dxl)
    next(early)
    early.close()
    assert not [t for t in threading.enumerate() if t.name == "hydra-dxl-parse"]
    with pytest.raises(FileNotFoundError):
        next(dxl.parse(tmp_path / "missing.dxl"))
