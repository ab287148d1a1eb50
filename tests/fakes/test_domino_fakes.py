"""The Domino simulation follows the published references: every response of the local server
validates against the DAS (Swagger 2.0) and Domino REST API (OpenAPI 3.0.2) specs, and the DXL the
fixtures write has the shape the DXL reference describes. See fakes/domino/specs.py for how each
spec is checked and where the checks knowingly depart from its letter."""

from __future__ import annotations

import base64
import json
import re
import tracemalloc
import urllib.error
import urllib.request
from datetime import datetime, timezone

import jsonschema
import pytest
from lxml import etree
from openapi_core.exceptions import OpenAPIError

from fakes.domino import dxl as dxl_writer
from fakes.domino import specs
from fakes.domino.model import many_documents, sample_crm, sample_estate
from fakes.domino.server import DominoServer

DXL = "{http://www.lotus.com/dxl}"
pytestmark = pytest.mark.simulated


def call(server, path, *, user=("alice", "wonderland"), bearer=None, method="GET", body=None):
    request = urllib.request.Request(server.url + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None)
    if bearer:
        request.add_header("Authorization", f"Bearer {bearer}")
    elif user:
        request.add_header("Authorization",
                           "Basic " + base64.b64encode(":".join(user).encode()).decode())
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


@pytest.fixture
def server():
    with DominoServer(sample_estate(), page_cap=5) as s:
        yield s


def test_das_responses_follow_the_spec(server):
    """Simulates Domino Access Services: every exchange validates against das-data-api-9.0.1.yaml;
    paging by start/count and by ps/page agree, the cap wins over a larger count, Content-Range
    states the range and the total, and authentication errors are 401/403."""
    status, _, body = call(server, "/api/data")
    assert status == 200 and {d["@filepath"] for d in json.loads(body)} == {
        "apps/crm.nsf", "apps/hr.nsf", "apps/big.nsf"}
    assert call(server, "/apps/crm.nsf/api/data/collections")[0] == 200
    assert call(server, "/apps/crm.nsf/api/data/collections/name/Contacts/design")[0] == 200

    # big.nsf has 23 documents; the server never returns more than 5 entries at once
    status, headers, body = call(server, "/apps/big.nsf/api/data/collections/name/(%24All)"
                                         "?start=0&count=10")
    assert status == 200 and len(json.loads(body)) == 5
    assert headers["Content-Range"] == "items 0-4/23"
    by_start = json.loads(call(server, "/apps/big.nsf/api/data/collections/name/(%24All)"
                                       "?start=20&count=5")[2])
    by_page = json.loads(call(server, "/apps/big.nsf/api/data/collections/name/(%24All)"
                                      "?ps=5&page=4")[2])
    assert [e["@unid"] for e in by_start] == [e["@unid"] for e in by_page] and len(by_page) == 3
    assert call(server, "/apps/big.nsf/api/data/collections/name/(%24All)?start=23&count=5"
                )[2] == b"[]"
    assert "Content-Range" not in call(
        server, "/apps/big.nsf/api/data/collections/name/(%24All)?entrycount=false")[1]

    status, _, body = call(server, "/apps/crm.nsf/api/data/documents")
    unids = [d["@unid"] for d in json.loads(body)]
    for unid in unids:
        assert call(server, f"/apps/crm.nsf/api/data/documents/unid/{unid}"
                            "?strongtype=true&hidden=true")[0] == 200
    assert call(server, f"/apps/crm.nsf/api/data/documents/unid/{unids[0]}")[0] == 200

    assert call(server, "/api/data", user=("alice", "wrong"))[0] == 401
    assert call(server, "/apps/hr.nsf/api/data/collections")[0] == 403
    assert call(server, "/apps/crm.nsf/api/data/collections/name/Nope")[0] == 404

    assert len(server.responses) > 15
    for exchange in server.responses:
        specs.check_das(exchange)


def test_rest_api_responses_follow_the_spec(server):
    """Simulates the Domino REST API: every exchange validates against
    domino-rest-api-openapi.basis.json (request and response); lists page with start/count under
    the server's cap; a bad password, a bad or expired token give 401, a forbidden scope 403."""
    status, _, body = call(server, "/api/v1/auth", method="POST", user=None,
                           body={"username": "alice", "password": "wonderland"})
    token = json.loads(body)["bearer"]
    assert status == 200 and token
    assert call(server, "/api/v1/auth", method="POST", user=None,
                body={"username": "alice", "password": "nope"})[0] == 401

    scopes = json.loads(call(server, "/api/v1/scopes", bearer=token)[2])
    assert {s["apiName"] for s in scopes} == {"crm", "hr", "big"}
    assert call(server, "/api/v1/scope?dataSource=crm", bearer=token)[0] == 200
    assert call(server, "/api/v1/lists?dataSource=crm", bearer=token)[0] == 200
    lists = json.loads(call(server, "/api/v1/lists?dataSource=crm&columns=true", bearer=token)[2])
    assert [c["name"] for c in lists[0]["columns"]] == ["Name", "Age", "$2"]

    page = json.loads(call(server, "/api/v1/lists/(%24All)?dataSource=big&start=20&count=100",
                           bearer=token)[2])
    assert [e["@index"] for e in page] == ["21", "22", "23"]
    assert len(json.loads(call(server, "/api/v1/lists/(%24All)?dataSource=big", bearer=token)[2])
               ) == 5  # the default count is 1000; the cap wins

    crm = sample_crm()
    with_file = next(d for d in crm.documents if d.files)
    for doc in crm.documents:
        assert call(server, f"/api/v1/document/{doc.unid}?dataSource=crm", bearer=token)[0] == 200
    names = json.loads(call(server, f"/api/v1/attachmentnames/{with_file.unid}?dataSource=crm",
                            bearer=token)[2])
    assert names == {"Files": [f.name for f in with_file.files]}
    status, _, data = call(server, f"/api/v1/attachments/{with_file.unid}/"
                                   f"{with_file.files[0].name}?dataSource=crm", bearer=token)
    assert data == with_file.files[0].data

    assert call(server, "/api/v1/lists?dataSource=crm", bearer="forged")[0] == 401
    assert call(server, "/api/v1/lists?dataSource=hr", bearer=token)[0] == 403
    server.expire_tokens()
    assert call(server, "/api/v1/scopes", bearer=token)[0] == 401

    for exchange in server.responses:
        specs.check_rest(exchange)


def test_spec_checks_reject_what_the_specs_forbid(server):
    """The checks above can fail: responses the specs do not allow are rejected."""
    status, _, body = call(server, "/api/v1/auth", method="POST", user=None,
                           body={"username": "alice", "password": "wonderland"})
    call(server, "/api/v1/lists?dataSource=crm", bearer=json.loads(body)["bearer"])
    call(server, "/apps/big.nsf/api/data/collections/name/(%24All)?count=3")
    rest = next(e for e in server.responses if e["path"] == "/api/v1/lists")
    das = next(e for e in server.responses if "collections/name" in e["path"])

    bad = json.loads(rest["body"])
    bad[0]["alias"] = []  # the spec's ListDesignItem says 'aliases' and allows nothing else
    with pytest.raises(OpenAPIError, match="alias"):
        specs.check_rest({**rest, "body": json.dumps(bad).encode()})
    with pytest.raises(OpenAPIError):
        specs.check_rest({**rest, "status": 418})

    entries = json.loads(das["body"])
    entries[0]["@siblings"] = "many"  # an integer in the spec
    with pytest.raises(jsonschema.ValidationError):
        specs.check_das({**das, "body": json.dumps(entries).encode()})
    with pytest.raises(AssertionError, match="Content-Range"):
        specs.check_das({**das, "headers": {"Content-Range": "0-2 of 23"}})
    with pytest.raises(AssertionError, match="not in the spec"):
        specs.check_das({**das, "query": {"limit": "3"}})
    with pytest.raises(AssertionError, match="no operation"):
        specs.check_das({**das, "method": "PATCH"})


# -- DXL fixtures ----------------------------------------------------------------------------------

_DXL_DATETIME = re.compile(r"^(\d{8}(T\d{6},\d{2}([+-]\d{2}(\d{2})?)?)?|T\d{6},\d{2})$")
_VALUE_TYPES = {"text", "textlist", "number", "numberlist", "datetime", "datetimelist",
                "richtext", "object", "rawitemdata", "itemdata"}


def test_dxl_fixtures_follow_the_dxl_reference(tmp_path):
    """The fixture DXL has the shape the reference describes: the DXL namespace, <database
    title= replicaid= path=>, documents with <noteinfo noteid= unid= sequence=> and
    <created>/<modified> datetimes, items whose value is one of DXL's value elements, DXL datetime
    formats, $FILE attachments as object/file/filedata in base64, rich text with pardef/par/run
    and attachmentref, views with columns and forms with fields."""
    crm = sample_crm()
    path = dxl_writer.write_database(crm, tmp_path / "crm.dxl")
    root = etree.parse(str(path)).getroot()
    assert root.tag == f"{DXL}database"
    assert {k: root.get(k) for k in ("title", "replicaid", "path")} == {
        "title": crm.title, "replicaid": crm.replicaid, "path": crm.path}

    documents = root.findall(f"{DXL}document")
    assert len(documents) == len(crm.documents)
    seen_types, seen_flags = set(), set()
    for elem, doc in zip(documents, crm.documents, strict=True):
        info = elem.find(f"{DXL}noteinfo")
        assert info.get("unid") == doc.unid and int(info.get("noteid"), 16) == doc.noteid
        assert info.get("sequence")
        for when in ("created", "modified"):
            assert _DXL_DATETIME.match(info.find(f"{DXL}{when}/{DXL}datetime").text)
        for item in elem.findall(f"{DXL}item"):
            value = item[0]
            seen_types.add(value.tag.removeprefix(DXL))
            seen_flags |= {f for f in ("summary", "names", "readers", "authors", "sign", "seal")
                           if item.get(f) == "true"}
            for dt in item.iter(f"{DXL}datetime"):
                assert _DXL_DATETIME.match(dt.text), dt.text
    assert _VALUE_TYPES - {"itemdata"} <= seen_types  # plus the deliberately unknown element
    assert seen_types - _VALUE_TYPES == {"hologram"}
    assert seen_flags == {"summary", "names", "readers", "authors", "sign", "seal"}

    all_datetimes = {dt.text for dt in root.iter(f"{DXL}datetime")}
    assert "20090602T165055,48+02" in all_datetimes  # the reference's own example
    assert "19750521" in all_datetimes and "T165055,48" in all_datetimes
    assert "20110304T091500,00" in all_datetimes  # no zone
    assert "20100102T123000,25+0530" in all_datetimes

    files = root.findall(f".//{DXL}item[@name='$FILE']/{DXL}object/{DXL}file")
    originals = {f.name: f.data for d in crm.documents for f in d.files}
    assert {f.get("name") for f in files} == set(originals)
    for f in files:
        assert int(f.get("size")) == len(originals[f.get("name")])
        assert f.find(f"{DXL}created/{DXL}datetime") is not None
        assert f.find(f"{DXL}modified/{DXL}datetime") is not None
        assert base64.b64decode(f.find(f"{DXL}filedata").text) == originals[f.get("name")]

    rich = root.find(f".//{DXL}item[@name='Body']/{DXL}richtext")
    assert rich.find(f"{DXL}pardef") is not None and rich.find(f"{DXL}par/{DXL}run") is not None
    assert rich.find(f".//{DXL}attachmentref").get("name") == "contract.pdf"
    ref = root.find(f".//{DXL}item[@name='$REF']/{DXL}rawitemdata")
    assert ref.get("type") == "4"

    view = root.find(f"{DXL}view[@name='Contacts']")
    assert [c.get("itemname") for c in view.findall(f"{DXL}column")] == ["Name", "Age", "$2"]
    form = root.find(f"{DXL}form[@name='Contact']")
    assert "DocReaders" in {f.get("name") for f in form.iter(f"{DXL}field")}


def test_broken_dxl_fixtures_are_not_well_formed(tmp_path):
    """The malformed and truncated fixtures really are broken, where they say they are."""
    line, offset = dxl_writer.write_malformed(sample_crm(), tmp_path / "bad.dxl")
    with pytest.raises(etree.XMLSyntaxError) as err:
        etree.parse(str(tmp_path / "bad.dxl"))
    assert err.value.position[0] == line
    dxl_writer.write_truncated(sample_crm(), tmp_path / "cut.dxl")
    with pytest.raises(etree.XMLSyntaxError, match="end of data"):
        etree.parse(str(tmp_path / "cut.dxl"))


def test_large_dxl_is_streamed_to_disk(tmp_path):
    """write_large writes a well-formed export of the size asked while holding one document at a
    time (its Python allocations stay far below the file size)."""
    tracemalloc.start()
    written = dxl_writer.write_large(tmp_path / "large.dxl", 8 << 20, attachment_every=10,
                                     attachment_size=32 << 10)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert written["bytes"] >= 8 << 20 and peak < 2 << 20
    count = sum(1 for _ in etree.iterparse(str(tmp_path / "large.dxl"), tag=f"{DXL}document"))
    assert count == written["documents"] and written["attachments"] == count // 10


def test_view_fixtures_and_time_rendering():
    """The fake's own renderings used above: DAS instants in UTC with 'Z'."""
    from fakes.domino.server import _das_time

    noon = datetime(2009, 6, 2, 16, 50, 55, tzinfo=timezone.utc)
    assert _das_time(noon) == "2009-06-02T16:50:55Z"
    assert many_documents(3).documents[2].item("N").value == 2.0
