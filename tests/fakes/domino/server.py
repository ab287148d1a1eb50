"""A Domino server on 127.0.0.1 that serves fixture databases through both of Domino's REST
interfaces, following their published specs (``/work/shared/reference/domino/``):

* Domino Access Services' data API (``das-data-api-9.0.1.yaml``, Swagger 2.0), Basic auth:
  ``GET /api/data``, ``/{folder}/{database}/api/data/collections``,
  ``…/collections/name/{viewName}`` and its ``/design``, ``…/documents``,
  ``…/documents/unid/{docUnid}``. View entries page with ``start``+``count`` or ``ps``+``page``,
  answer ``Content-Range: items a-b/total``, and never return more than ``page_cap`` entries
  whatever was asked (as a server's "view entries limit" does).
* The Domino REST API (``domino-rest-api-openapi.basis.json``, OpenAPI 3.0.2) under ``/api/v1``:
  ``POST /auth`` (a bearer token), ``GET /scopes``, ``/scope``, ``/lists``, ``/lists/{name}``
  (``start``/``count``, capped the same way, no total), ``/document/{unid}``,
  ``/attachmentnames/{unid}``, ``/attachments/{unid}/{attachmentName}``.

401 for a wrong password or a bad or expired token; 403 for a database in ``forbidden``. Every
request is logged in ``requests`` (method, path, query, status) so tests can check the client only
reads. Where the specs leave a value's rendering open, the choices are the ones noted inline.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time as _time
from datetime import date, datetime, time, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote, urlsplit

from fakes.domino.model import FxDatabase, FxDocument, FxItem, FxRichText, FxView

#: formulas of the fixture views, evaluated the way Domino would
FORMULAS = {
    "@Left(Name; 1)": lambda doc: (doc.item("Name").value[:1] if doc.item("Name") else ""),
    "@Created": lambda doc: doc.created,
}


class DominoServer:
    def __init__(self, databases: list[FxDatabase], *, users: dict[str, str] | None = None,
                 forbidden: set[str] | None = None, page_cap: int = 5, token_seconds: int = 3600,
                 delay: float = 0.0):
        self.databases = {db.path: db for db in databases}
        self.users = users if users is not None else {"alice": "wonderland"}
        self.forbidden = set(forbidden if forbidden is not None else {"apps/hr.nsf"})
        self.page_cap = page_cap
        self.token_seconds = token_seconds
        self.delay = delay  # seconds each request takes, to observe a client's concurrency
        self.in_flight = 0
        self.max_in_flight = 0
        self.tokens: dict[str, tuple[str, float]] = {}  # bearer -> (user, expiry)
        self.requests: list[dict] = []
        self.responses: list[dict] = []  # everything answered, for the spec tests
        self.lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None

    # -- life cycle -----------------------------------------------------------------------------

    def start(self) -> DominoServer:
        server = self

        class Handler(_Handler):
            domino = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> DominoServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens = {t: (u, 0.0) for t, (u, _) in self.tokens.items()}

    def log(self, entry: dict) -> None:
        with self.lock:
            self.requests.append(entry)

    def by_scope(self, name: str) -> FxDatabase | None:
        return next((db for db in self.databases.values() if db.api_name == name), None)


class _Reply(Exception):
    def __init__(self, status: int, body=None, headers: dict | None = None,
                 raw: bytes | None = None, content_type: str = "application/json"):
        super().__init__(status)
        self.status, self.body, self.headers, self.raw = status, body, headers or {}, raw
        self.content_type = content_type


class _Handler(BaseHTTPRequestHandler):
    domino: DominoServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet: the test log is self.domino.requests
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        with self.domino.lock:
            self.domino.in_flight += 1
            self.domino.max_in_flight = max(self.domino.max_in_flight, self.domino.in_flight)
        try:  # counted while the request is "worked on", before its answer can reach the client
            if self.domino.delay:
                _time.sleep(self.domino.delay)
        finally:
            with self.domino.lock:
                self.domino.in_flight -= 1
        self._answer(method)

    def _answer(self, method: str) -> None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            if url.path.startswith("/api/v1/"):
                reply = self._rest(method, url.path[len("/api/v1"):], query, body)
            elif url.path == "/api/data" or "/api/data/" in url.path:
                reply = self._das(method, url.path, query)
            else:
                raise _Reply(404, {"code": 404, "text": "Not Found"})
        except _Reply as r:
            reply = r
        self.domino.log({"method": method, "path": url.path, "query": query,
                         "status": reply.status})
        data = reply.raw if reply.raw is not None else json.dumps(reply.body).encode()
        with self.domino.lock:
            self.domino.responses.append({
                "method": method, "path": url.path, "query": query, "status": reply.status,
                "headers": dict(reply.headers), "content_type": reply.content_type,
                "body": data, "request_body": body})
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(data)))
        for k, v in reply.headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    # -- Domino Access Services -------------------------------------------------------------------

    def _das_user(self) -> str:
        auth = self.headers.get("Authorization") or ""
        if auth.startswith("Basic "):
            try:
                user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            except ValueError:
                user, password = "", None
            if self.domino.users.get(user) == password:
                return user
        raise _Reply(401, {"code": 401, "text": "Unauthorized"},
                     {"WWW-Authenticate": 'Basic realm="Domino"'})

    def _das(self, method: str, path: str, query: dict) -> _Reply:
        self._das_user()
        if method != "GET":
            raise _Reply(405, {"code": 405, "text": "Method Not Allowed"})
        base = self._base()
        if path == "/api/data":
            return _Reply(200, [{
                "@title": db.title, "@filepath": db.path, "@replicaid": db.replicaid,
                "@template": db.template, "@href": f"{base}/{db.path}/api/data/collections",
            } for db in self.domino.databases.values()])
        db_path, _, rest = path.partition("/api/data/")
        db = self.domino.databases.get(unquote(db_path.strip("/")))
        if db is None:
            raise _Reply(404, {"code": 404, "text": "Database not found"})
        if db.path in self.domino.forbidden:
            raise _Reply(403, {"code": 403,
                               "text": "You are not authorized to access this database"})
        parts = [unquote(p) for p in rest.split("/")]
        href = f"{base}/{db.path}/api/data"
        if parts == ["collections"]:
            return _Reply(200, [{
                "@title": v.name, "@folder": v.folder, "@private": False,
                "@modified": _das_time(datetime(2008, 1, 1, 12, tzinfo=timezone.utc)),
                "@unid": v.unid, "@href": f"{href}/collections/unid/{v.unid}",
            } for v in db.views])
        if len(parts) in (3, 4) and parts[:2] == ["collections", "name"]:
            view = db.view(parts[2])
            if view is None:
                raise _Reply(404, {"code": 404, "text": "View not found"})
            if len(parts) == 4 and parts[3] == "design":
                return _Reply(200, [{
                    "@columnnumber": n + 1, "@name": c.name, "@title": c.title, "@width": 10,
                    "@alignment": 0, "@hidden": False, "@response": False, "@twistie": False,
                    "@field": c.formula is None, "@category": False,
                } for n, c in enumerate(view.columns)])
            if len(parts) == 3:
                return self._das_entries(db, view, query, href)
        if parts == ["documents"]:
            since = query.get("since")
            docs = [d for d in db.documents if not since or _das_time(d.modified) > since]
            return _Reply(200, [{"@modified": _das_time(d.modified), "@unid": d.unid,
                                 "@href": f"{href}/documents/unid/{d.unid}"} for d in docs])
        if len(parts) == 3 and parts[:2] == ["documents", "unid"]:
            doc = db.document(parts[2])
            if doc is None:
                raise _Reply(404, {"code": 404, "text": "Document not found"})
            strong = query.get("strongtype") == "true"
            out = {"@href": f"{href}/documents/unid/{doc.unid}", "@unid": doc.unid,
                   "@noteid": f"{doc.noteid:X}", "@created": _das_time(doc.created),
                   "@modified": _das_time(doc.modified), "@form": doc.form}
            if doc.parent:
                out["@parentid"] = doc.parent  # DAS names a response's parent so
            if query.get("hidden") == "true":  # '$' items, as the spec's hidden parameter says
                out["$UpdatedBy"] = "CN=Ada Lovelace/O=Acme"
            for item in doc.items:
                rendered = _das_value(item, strong)
                if rendered is not _SKIP:
                    out[item.name] = rendered
            return _Reply(200, out, {"Last-Modified": _rfc1123(doc.modified)})
        raise _Reply(404, {"code": 404, "text": "Not Found"})

    def _das_entries(self, db: FxDatabase, view: FxView, query: dict, href: str) -> _Reply:
        docs = db.view_documents(view)
        if "ps" in query:
            count = int(query["ps"])
            start = int(query.get("page") or 0) * count
        else:
            start, count = int(query.get("start") or 0), int(query.get("count") or 10)
        count = min(count, self.domino.page_cap)  # the server's cap wins over what was asked
        page = docs[start:start + count]
        entries = []
        for n, doc in enumerate(page, start + 1):
            entry = {
                "@href": f"{href}/collections/name/{quote(view.name)}/unid/{doc.unid}",
                "@link": {"rel": "document", "href": f"{href}/documents/unid/{doc.unid}"},
                "@entryid": f"{n}-{doc.unid}", "@unid": doc.unid, "@noteid": f"{doc.noteid:X}",
                "@position": str(n), "@read": True, "@siblings": len(docs),
                "@descendants": 0, "@children": 0, "@indent": 0, "@form": doc.form,
                "@category": False, "@response": doc.parent is not None,
            }
            for col in view.columns:
                entry[col.name] = _json(_column_value(doc, col), _das_time)
            entries.append(entry)
        headers = {}
        if query.get("entrycount") != "false" and page:
            headers["Content-Range"] = f"items {start}-{start + len(page) - 1}/{len(docs)}"
        return _Reply(200, entries, headers)

    def _base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    # -- Domino REST API --------------------------------------------------------------------------

    def _rest(self, method: str, path: str, query: dict, body: bytes) -> _Reply:
        if path == "/auth" and method == "POST":
            return self._rest_auth(body)
        user = self._rest_user()
        if method != "GET":
            raise _Reply(405, {"status": 405, "message": "Method not allowed"})
        if path == "/scopes":
            return _Reply(200, [{"apiName": db.api_name, "nsfPath": db.path,
                                 "schemaName": db.api_name, "description": db.title,
                                 "isActive": True} for db in self.domino.databases.values()])
        db = self.domino.by_scope(query.get("dataSource") or "")
        if db is None:
            raise _Reply(404, {"status": 404, "message": "No scope with that name"})
        if db.path in self.domino.forbidden:
            raise _Reply(403, {"status": 403,
                               "message": f"{user} may not access {db.api_name}"})
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if parts == ["scope"]:
            return _Reply(200, _keep_database(db))
        if parts == ["lists"]:
            with_columns = query.get("columns") == "true"
            out = []
            for v in db.views:
                item = {"title": v.name, "isFolder": v.folder, "unid": v.unid, "aliases": []}
                if with_columns:
                    item["columns"] = [{"name": c.name, "title": c.title, "position": n,
                                        "sorted": c.sort is not None}
                                       for n, c in enumerate(v.columns)]
                out.append(item)
            return _Reply(200, out)
        if len(parts) == 2 and parts[0] == "lists":
            view = db.view(parts[1])
            if view is None:
                message = f"The list {parts[1]} is not configured for this database"
                raise _Reply(404, {"status": 404, "message": message})
            docs = db.view_documents(view)
            start = int(query.get("start") or 0)
            count = int(query.get("count") or 1000)
            if count < 0:
                count = len(docs)
            count = min(count, self.domino.page_cap)
            entries = []
            for n, doc in enumerate(docs[start:start + count], start + 1):
                entry = {"@unid": doc.unid, "@noteid": doc.noteid, "@index": str(n)}
                for col in sorted(view.columns, key=lambda c: c.name):  # alphabetical, per spec
                    entry[col.name] = _json(_column_value(doc, col), _rest_time)
                entries.append(entry)
            return _Reply(200, entries)
        if len(parts) == 2 and parts[0] == "document":
            doc = self._rest_document(db, parts[1])
            return _Reply(200, _rest_document(doc, query.get("richTextAs") or "html"))
        if len(parts) == 2 and parts[0] == "attachmentnames":
            doc = self._rest_document(db, parts[1])
            return _Reply(200, {"Files": [f.name for f in doc.files]})
        if len(parts) == 3 and parts[0] == "attachments":
            doc = self._rest_document(db, parts[1])
            f = next((f for f in doc.files if f.name == parts[2]), None)
            if f is None:
                raise _Reply(400, {"status": 400, "message": "No such attachment"})
            return _Reply(200, raw=f.data, content_type="application/octet-stream")
        raise _Reply(404, {"status": 404, "message": "Not found"})

    @staticmethod
    def _rest_document(db: FxDatabase, unid: str) -> FxDocument:
        doc = db.document(unid)
        if doc is None:
            raise _Reply(400, {"status": 400, "message": f"Document {unid} not found"})
        return doc

    def _rest_auth(self, body: bytes) -> _Reply:
        try:
            creds = json.loads(body or b"{}")
        except ValueError:
            creds = {}
        user, password = creds.get("username"), creds.get("password")
        if user is None or self.domino.users.get(user) != password:
            raise _Reply(401, {"status": 401, "message": "Invalid credentials or account locked"})
        token = secrets.token_hex(16)
        with self.domino.lock:
            self.domino.tokens[token] = (user, _time.time() + self.domino.token_seconds)
        return _Reply(200, {"bearer": token,
                            "claims": {"iss": "FakeDomino", "sub": f"CN={user}/O=Acme",
                                       "scopes": "MAIL $DATA"},
                            "leeway": 5, "expSeconds": self.domino.token_seconds,
                            "issueDate": datetime.now(timezone.utc).isoformat(timespec="seconds")})

    def _rest_user(self) -> str:
        auth = self.headers.get("Authorization") or ""
        token = auth[7:] if auth.startswith("Bearer ") else ""
        with self.domino.lock:
            user, expiry = self.domino.tokens.get(token, (None, 0.0))
        if user is None or expiry < _time.time():
            raise _Reply(401, {"status": 401, "message": "Invalid or expired JWT token"})
        return user


# -- rendering ----------------------------------------------------------------------------------

_SKIP = object()


def _das_time(value):
    """DAS renders instants in UTC ('…Z'); a value without zone has none; a date or a time alone
    in ISO 8601 (the spec leaves these open; these are the fake's choices)."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    return value.isoformat()


def _rest_time(value):
    """The Domino REST API keeps a value's own offset (its examples: '…+08:00')."""
    return value.isoformat()


def _rfc1123(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%a, %d %b %Y %H:%M:%S GMT")


def _json(value, render_time):
    if isinstance(value, list):
        return [_json(v, render_time) for v in value]
    if isinstance(value, datetime | date | time):
        return render_time(value)
    if isinstance(value, FxRichText):
        return value.plain()
    return value


def _column_value(doc: FxDocument, col):
    if col.formula:
        return FORMULAS[col.formula](doc)
    item = doc.item(col.name)
    return item.value if item else ""


def _das_value(item: FxItem, strong: bool):
    """An item as DAS renders it. With ``strongtype=true`` date/times are objects with ``type``
    and ``data``; rich text is always a multipart object (text/plain and text/html parts).
    Raw items are base64 text; an item type DAS cannot express is left out."""
    if item.kind == "richtext":
        return {"type": "multipart", "content": [
            {"contentType": "text/plain; charset=UTF-8", "data": item.value.plain()},
            {"contentType": "text/html; charset=UTF-8", "data": item.value.html()},
        ]}
    if item.kind == "datetime":
        if not strong:
            return _json(item.value, _das_time)
        if isinstance(item.value, list):
            return [{"type": "datetime", "data": _das_time(v)} for v in item.value]
        return {"type": "datetime", "data": _das_time(item.value)}
    if item.kind == "raw":
        return base64.b64encode(item.value[1]).decode()
    if item.kind == "unknown":
        return _SKIP
    return item.value


def _rest_document(doc: FxDocument, rich_text_as: str) -> dict:
    out = {"@meta": {
        "noteid": doc.noteid, "unid": doc.unid, "created": _rest_time(doc.created),
        "lastmodified": _rest_time(doc.modified), "lastaccessed": _rest_time(doc.modified),
        "size": 1024, "unread": False, "Form": doc.form,
    }, "Form": doc.form}
    if doc.parent:
        out["$REF"] = doc.parent
    for item in doc.items:
        if item.kind == "richtext":
            content = item.value.plain() if rich_text_as == "plain" else item.value.html()
            out[item.name] = {"type": "text/plain" if rich_text_as == "plain" else "text/html",
                              "encoding": "BASE64",
                              "content": base64.b64encode(content.encode()).decode()}
        elif item.kind == "raw":
            out[item.name] = base64.b64encode(item.value[1]).decode()
        elif item.kind != "unknown":
            out[item.name] = _json(item.value, _rest_time)
    return out


_FORMATS = {date: "date", datetime: "date-time", time: "date-time", float: "double", str: "string"}


def _field(item: FxItem) -> dict:
    """A KeepField for an item: JSON-schema type and format, names/readers/authors formats, and
    multivalue for lists. A time alone has no format of its own in the spec: 'date-time'."""
    sample = item.value[0] if isinstance(item.value, list) and item.value else item.value
    if item.kind == "richtext":
        fmt, typ = "richtext", "object"
    else:
        flag = next((k for k in ("readers", "authors", "names") if k in item.flags), None)
        fmt = flag or _FORMATS.get(type(sample), "string")
        typ = "number" if isinstance(sample, float) else "string"
    if not isinstance(item.value, list):
        return {"name": item.name, "type": typ, "format": fmt, "multivalue": False}
    return {"name": item.name, "type": "array", "format": fmt, "multivalue": True,
            "items": {"type": typ, "format": fmt}}


def _keep_database(db: FxDatabase) -> dict:
    """GET /scope: the admin's configuration of the scope, forms with the fields it exposes."""
    formula = {"formulaType": "domino", "formula": "@True"}
    forms = {}
    for doc in db.documents:
        fields = forms.setdefault(doc.form, {})
        for item in doc.items:
            if item.kind != "unknown" and (item.name not in fields or isinstance(item.value, list)):
                fields[item.name] = _field(item)
    return {
        "apiName": db.api_name, "schemaName": db.api_name, "nsfPath": db.path,
        "description": db.title, "formulaEngine": "domino", "isActive": True,
        "forms": [{"formName": name, "alias": [], "formModes": [{
            "modeName": "default", "fields": list(fields.values()),
            "readAccessFormula": formula, "writeAccessFormula": formula,
            "deleteAccessFormula": {"formulaType": "domino", "formula": "@False"},
        }]} for name, fields in forms.items()],
        "views": [{"name": v.name, "alias": [], "unid": v.unid, "selectionFormula": v.selection(),
                   "columns": [{"title": c.title, "formula": c.formula or "", "name": c.name}
                               for c in v.columns]} for v in db.views],
    }
