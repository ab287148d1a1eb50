"""Clients for Domino's two REST interfaces, producing the document model of ``model`` so that the
same documents read over HTTP and from a DXL export give the same rows.

* ``DasClient``: Domino Access Services' data API (``/api/data``…), Basic authentication.
* ``DominoRestClient``: the Domino REST API (``/api/v1``…), a bearer token from ``POST /auth``
  (renewed once when it expires mid-read).

Both only read (GET; the REST API's login is the one POST). The standard library's urllib is
enough here: no connection pooling is needed at the polite concurrency these servers should see.

Paging (view entries): ``start``/``count``; the next ``start`` is what was received, not what was
asked, so a server that caps pages below ``count`` loses nothing. Reading stops at the total from
``Content-Range`` (DAS) or, without a total, on an empty page or on a page shorter than the
server's cap, which is learnt from the first short page (one extra request at the end at most).

Types over HTTP: DAS is asked for ``strongtype=true`` (date/times come as ``{type, data}``
objects) and rich text comes as a multipart object (text/plain and text/html parts). The REST API
types a document's fields in its scope's schema (``GET /scope``: formats date, date-time, names,
readers, authors, richtext; multivalue); without access to it, values are typed by their JSON
shape and date/times stay text. Neither interface shows item flags, so every item but rich text is
taken as a summary item; DAS cannot tell a names/readers/authors item with one value from text.
"""

from __future__ import annotations

import base64
import json
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlencode, urlsplit, urlunsplit
from urllib.request import Request, urlopen

from hydra.heads.base import HeadConnectionError, HeadError
from hydra.heads.notes.model import (
    NAME_FLAGS,
    Attachment,
    Database,
    Document,
    Item,
    View,
    ViewColumn,
)

#: DAS answers 10 entries unless asked; 100 keeps requests few without large responses
DAS_PAGE = 100
#: the REST API's own default page
REST_PAGE = 1000
#: documents fetched at once: polite to a production mail server, and already hides latency
CONCURRENCY = 2
_SUMMARY = frozenset({"summary"})
#: items that DXL writes as parts of <noteinfo>'s siblings (<updatedby>, <revisions>), not as
#: items: left out here too, so that HTTP and DXL give the same columns
_NOT_ITEMS = frozenset({"$updatedby", "$revisions"})


class Unauthorized(HeadConnectionError):
    """The server refused the credentials or the token (HTTP 401)."""


def http_url(uri: str) -> str:
    """'domino+https://host:8880/x' → 'https://host:8880/x', credentials removed."""
    parts = urlsplit(uri.removeprefix("domino+"))
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme or "https", netloc, parts.path.rstrip("/"), "", ""))


class _Http:
    """GETs (and the one login POST) with one-line errors that never carry a secret."""

    def __init__(self, url: str, user: str | None, timeout: float):
        self.url = http_url(url)
        self.user = user
        self.timeout = timeout

    def request(self, path: str, query: dict | None, headers: dict, what: str, *,
                method: str = "GET", body: bytes | None = None):
        target = self.url + path + ("?" + urlencode(query) if query else "")
        request = Request(target, data=body, method=method, headers=headers)
        try:
            return urlopen(request, timeout=self.timeout)  # noqa: S310 - http(s) only, see http_url
        except HTTPError as err:
            raise self._error(err.code, what) from None
        except (URLError, OSError) as err:
            reason = getattr(err, "reason", err)
            raise HeadConnectionError(f"cannot reach {self.url}: {reason}") from err

    def json(self, path: str, query: dict | None, headers: dict, what: str, **kw):
        with self.request(path, query, headers, what, **kw) as response:
            try:
                return json.loads(response.read()), response.headers
            except ValueError as err:
                raise HeadError(f"{what}: the server's answer is not JSON") from err

    def _error(self, status: int, what: str) -> HeadError:
        who = f"user {self.user!r}" if self.user else "anonymous access"
        if status == 401:
            return Unauthorized(f"{self.url}: the server refused the credentials of {who} "
                                "(HTTP 401)")
        if status == 403:
            return HeadError(f"{what}: {who} may not open it (HTTP 403)")
        if status == 404:
            return HeadError(f"{what}: not found on {self.url} (HTTP 404)")
        return HeadError(f"{what}: HTTP {status} from {self.url}")


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# -- paging and concurrency ------------------------------------------------------------------------


def pages(fetch: Callable[[int, int], tuple[list, int | None]], page_size: int) -> Iterator[Any]:
    """Entries of a paged collection; ``fetch(start, count)`` returns (entries, total or None)."""
    start, count, capped = 0, page_size, False
    while True:
        entries, total = fetch(start, count)
        if not entries:
            return
        yield from entries
        start += len(entries)
        if total is not None:
            if start >= total:
                return
        elif len(entries) < count:
            if capped:
                return  # short even under the server's cap: that was the last page
            capped, count = True, len(entries)  # the end, or the server's cap: ask once more


def bounded_map(fn: Callable[[Any], Any], items: Iterable[Any], workers: int) -> Iterator[Any]:
    """``map(fn, items)`` in order, with at most ``workers`` calls in flight and a bounded queue."""
    if workers <= 1:
        yield from map(fn, items)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque = deque()
        try:
            for item in items:
                pending.append(pool.submit(fn, item))
                if len(pending) >= 2 * workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


# -- values from JSON -----------------------------------------------------------------------------


def parse_iso(text: str) -> date | time | datetime:
    """ISO 8601 as these servers write it: a date, a time ('16:50:55.48' or 'T16:50:55'), or a
    datetime with 'Z', an offset, or no zone (naive)."""
    text = text.strip()
    if "T" in text[1:]:
        return datetime.fromisoformat(text)
    if ":" in text:
        return time.fromisoformat(text.removeprefix("T"))
    return date.fromisoformat(text)


def html_plain(markup: str) -> str:
    """The text of an HTML rendering of rich text: one line per paragraph, <br> as a line break;
    images (attachment icons) contribute nothing."""
    import lxml.html

    root = lxml.html.fromstring(markup or "<p></p>")
    for br in root.iter("br"):
        br.tail = "\n" + (br.tail or "")
    blocks = [e for e in root.iter("p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6")
              if not any(a.tag in ("p", "li") for a in e.iterancestors())]
    if not blocks:
        return root.text_content()
    return "\n".join(b.text_content() for b in blocks)


def _json_item(name: str, value: Any, field: dict | None = None) -> Item:
    """An item from its JSON value, typed by the field's schema when there is one."""
    fmt = (field or {}).get("format") or ((field or {}).get("items") or {}).get("format")
    flags = frozenset({fmt}) & NAME_FLAGS | _SUMMARY
    many = isinstance(value, list) or bool((field or {}).get("multivalue"))
    values = value if isinstance(value, list) else ([] if value is None else [value])
    if isinstance(value, dict):
        return _json_object(name, value)
    if values and all(isinstance(v, dict) and v.get("type") == "datetime" for v in values):
        data = [d for v in values for d in (v["data"] if isinstance(v["data"], list)
                                              else [v["data"]])]
        return _datetimes(name, data, many or len(data) > 1, flags)
    if fmt in ("date", "date-time") and all(isinstance(v, str) for v in values):
        return _datetimes(name, values, many, flags)
    if values and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return Item(name, "numberlist" if many else "number", [float(v) for v in values], flags)
    texts = [v if isinstance(v, str) else json.dumps(v) for v in values]
    return Item(name, "textlist" if many else "text", texts, flags)


def _datetimes(name: str, texts: list[str], many: bool, flags: frozenset[str]) -> Item:
    try:
        values = [parse_iso(t) for t in texts]
    except ValueError:
        return Item(name, "textlist" if many else "text", texts, flags,
                    note="date/time value not understood; kept as text")
    return Item(name, "datetimelist" if many else "datetime", values, flags)


def _json_object(name: str, value: dict) -> Item:
    kind = value.get("type")
    if kind == "datetime":
        data = value.get("data")
        return _datetimes(name, data if isinstance(data, list) else [data],
                          isinstance(data, list), _SUMMARY)
    if kind == "multipart":  # DAS rich text
        parts = {str(p.get("contentType", "")).split(";")[0]: p.get("data")
                 for p in value.get("content", [])}
        html = parts.get("text/html")
        plain = parts.get("text/plain")
        return Item(name, "richtext", [plain if plain is not None else html_plain(html or "")],
                    markup=html)
    if isinstance(kind, str) and kind.startswith("text/"):  # REST API rich text
        content = value.get("content") or ""
        if str(value.get("encoding", "")).upper() == "BASE64":
            content = base64.b64decode(content).decode("utf-8", "replace")
        plain = content if kind == "text/plain" else html_plain(content)
        return Item(name, "richtext", [plain], markup=content)
    return Item(name, "json", [json.dumps(value)], _SUMMARY,
                note="JSON object value not understood; kept as raw text")


def _hex_noteid(noteid: Any) -> str | None:
    if noteid is None or noteid == "":
        return None
    return format(noteid, "x") if isinstance(noteid, int) else str(noteid).lower()


def _when(text: Any) -> datetime | None:
    if not text:
        return None
    value = parse_iso(str(text))
    return value if isinstance(value, datetime) else None


# -- Domino Access Services ------------------------------------------------------------------------


class DasClient:
    """Domino Access Services' data API. ``db`` arguments are database file paths as ``/api/data``
    lists them ('apps/crm.nsf')."""

    def __init__(self, url: str, user: str | None = None, password: str | None = None, *,
                 page_size: int = DAS_PAGE, concurrency: int = CONCURRENCY, timeout: float = 60):
        self._http = _Http(url, user, timeout)
        self._headers = {"Accept": "application/json"}
        if user is not None:
            self._headers["Authorization"] = _basic(user, password or "")
        self.page_size = page_size
        self.concurrency = concurrency

    def _get(self, path: str, query: dict | None, what: str):
        return self._http.json(path, query, self._headers, what)

    @staticmethod
    def _db(db: str) -> str:
        return "/" + quote(db.replace("\\", "/").strip("/"))

    def databases(self) -> list[Database]:
        body, _ = self._get("/api/data", None, "database list")
        return [Database(title=d.get("@title"), path=d.get("@filepath"),
                         replica_id=d.get("@replicaid"), template=d.get("@template"))
                for d in body]

    def views(self, db: str) -> list[View]:
        body, _ = self._get(f"{self._db(db)}/api/data/collections", None, f"database {db}")
        views = []
        for v in body:
            view = View(name=v.get("@title") or "", unid=v.get("@unid"),
                        is_folder=bool(v.get("@folder")))
            design, _ = self._get(f"{self._db(db)}/api/data/collections/name/"
                                  f"{quote(view.name, safe='')}/design", None,
                                  f"view {view.name} of {db}")
            # DAS shows no column formulas; a computed column's name is '$n'
            view.columns = [ViewColumn(name=c.get("@name") or f"${n}", title=c.get("@title"),
                                       position=n, categorized=bool(c.get("@category")))
                            for n, c in enumerate(design)]
            views.append(view)
        return views

    def view_entries(self, db: str, view: str) -> Iterator[dict]:
        """The view's entries, paged: dicts with '@unid', '@noteid', '@position' and the values
        keyed by column name."""
        path = f"{self._db(db)}/api/data/collections/name/{quote(view, safe='')}"

        def fetch(start: int, count: int):
            body, headers = self._get(path, {"start": start, "count": count},
                                      f"view {view} of {db}")
            return body, _content_range_total(headers.get("Content-Range"))

        for entry in pages(fetch, self.page_size):
            out = {k: v for k, v in entry.items() if not k.startswith("@")}
            out.update({"@unid": entry.get("@unid"), "@noteid": _hex_noteid(entry.get("@noteid")),
                        "@position": entry.get("@position")})
            yield out

    def document_unids(self, db: str) -> list[str]:
        """Every document's UNID. The spec gives this list no paging: one response, ~100 bytes a
        document."""
        body, _ = self._get(f"{self._db(db)}/api/data/documents", None, f"database {db}")
        return [d["@unid"] for d in body if d.get("@unid")]

    def document(self, db: str, unid: str) -> Document:
        body, _ = self._get(f"{self._db(db)}/api/data/documents/unid/{unid}",
                            {"strongtype": "true", "hidden": "true"}, f"document {unid} of {db}")
        doc = Document(unid=body.get("@unid") or unid, noteid=_hex_noteid(body.get("@noteid")),
                       form=body.get("@form"), created=_when(body.get("@created")),
                       modified=_when(body.get("@modified")), parent=body.get("@parentid"))
        for name, value in body.items():
            if not name.startswith("@") and name.lower() not in _NOT_ITEMS:
                doc.items[name] = _json_item(name, value)
        return doc

    def documents(self, db: str, unids: Iterable[str] | None = None) -> Iterator[Document]:
        """Documents in order, ``concurrency`` requests at a time."""
        unids = self.document_unids(db) if unids is None else unids
        return bounded_map(lambda u: self.document(db, u), unids, self.concurrency)


def _content_range_total(value: str | None) -> int | None:
    """'items 0-9/29' → 29."""
    if not value or "/" not in value:
        return None
    total = value.rsplit("/", 1)[1].strip()
    return int(total) if total.isdigit() else None


# -- Domino REST API -------------------------------------------------------------------------------


class DominoRestClient:
    """The Domino REST API. ``scope`` arguments are the API names of databases ('dataSource')."""

    def __init__(self, url: str, user: str, password: str, *, page_size: int = REST_PAGE,
                 concurrency: int = CONCURRENCY, timeout: float = 60):
        self._http = _Http(url, user, timeout)
        self._credentials = json.dumps({"username": user, "password": password}).encode()
        self._token: str | None = None
        self._lock = threading.Lock()
        self._schemas: dict[str, dict[str, dict[str, dict]]] = {}
        self.page_size = page_size
        self.concurrency = concurrency

    def login(self) -> None:
        body, _ = self._http.json("/api/v1/auth", None, {"Content-Type": "application/json"},
                                  "login", method="POST", body=self._credentials)
        if not body.get("bearer"):
            raise HeadConnectionError(f"{self._http.url}: the login answer holds no token")
        self._token = body["bearer"]

    def _get(self, path: str, query: dict | None, what: str, *, raw: bool = False):
        for attempt in (1, 2):
            with self._lock:
                if self._token is None:
                    self.login()
                token = self._token
            headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
            try:
                if raw:
                    return self._http.request("/api/v1" + path, query, headers, what)
                return self._http.json("/api/v1" + path, query, headers, what)
            except Unauthorized:
                if attempt == 2:
                    raise
                with self._lock:  # the token expired: log in again, once
                    if self._token == token:
                        self._token = None
        raise AssertionError("unreachable")

    def databases(self) -> list[Database]:
        body, _ = self._get("/scopes", None, "scope list")
        return [Database(title=s.get("description") or s.get("apiName"), path=s.get("nsfPath"),
                         api_name=s.get("apiName")) for s in body if s.get("isActive", True)]

    def schema(self, scope: str) -> dict[str, dict[str, dict]]:
        """Per form, its fields' definitions (KeepField) as the scope's admin configured them;
        empty when this user may not read the configuration."""
        if scope not in self._schemas:
            try:
                body, _ = self._get("/scope", {"dataSource": scope}, f"scope {scope}")
            except HeadError:
                body = {}
            forms = {}
            for form in body.get("forms") or []:
                fields = {}
                for mode in form.get("formModes") or []:
                    for f in mode.get("fields") or []:
                        if isinstance(f, dict) and f.get("name"):
                            fields.setdefault(f["name"].lower(), f)
                forms[form.get("formName")] = fields
            self._schemas[scope] = forms
        return self._schemas[scope]

    def views(self, scope: str) -> list[View]:
        body, _ = self._get("/lists", {"dataSource": scope, "columns": "true"}, f"scope {scope}")
        return [View(name=v.get("title") or "", aliases=list(v.get("aliases") or []),
                     unid=v.get("unid"), is_folder=bool(v.get("isFolder")),
                     columns=[ViewColumn(name=c.get("name") or f"${n}", title=c.get("title"),
                                         position=c.get("position", n),
                                         sorted=bool(c.get("sorted")),
                                         categorized=bool(c.get("categorized")))
                              for n, c in enumerate(v.get("columns") or [])])
                for v in body]

    def view_entries(self, scope: str, view: str) -> Iterator[dict]:
        path = f"/lists/{quote(view, safe='')}"

        def fetch(start: int, count: int):
            body, _ = self._get(path, {"dataSource": scope, "start": start, "count": count},
                                f"list {view} of {scope}")
            return body, None  # the spec gives no total: stop on a short or empty page

        for entry in pages(fetch, self.page_size):
            out = {k: v for k, v in entry.items() if not k.startswith("@")}
            out.update({"@unid": entry.get("@unid"), "@noteid": _hex_noteid(entry.get("@noteid")),
                        "@position": entry.get("@index")})
            yield out

    def document(self, scope: str, unid: str) -> Document:
        body, _ = self._get(f"/document/{unid}", {"dataSource": scope},
                            f"document {unid} of {scope}")
        meta = body.get("@meta") or {}
        form = body.get("Form") or meta.get("Form")
        doc = Document(unid=meta.get("unid") or unid, noteid=_hex_noteid(meta.get("noteid")),
                       form=form, created=_when(meta.get("created")),
                       modified=_when(meta.get("lastmodified")))
        fields = self.schema(scope).get(form, {})
        for name, value in body.items():
            if name.startswith("@") or name.lower() in _NOT_ITEMS:
                continue
            if name.upper() == "$REF":
                doc.parent = value[0] if isinstance(value, list) and value else value
                continue
            doc.items[name] = _json_item(name, value, fields.get(name.lower()))
        return doc

    def documents(self, scope: str, unids: Iterable[str] | None = None,
                  view: str = "($All)") -> Iterator[Document]:
        """Documents in order, ``concurrency`` requests at a time; without ``unids``, those of
        ``view`` (the API has no document list of its own that a GET reads)."""
        if unids is None:
            unids = (e["@unid"] for e in self.view_entries(scope, view) if e.get("@unid"))
        return bounded_map(lambda u: self.document(scope, u), unids, self.concurrency)

    def attachments(self, scope: str, unid: str) -> list[Attachment]:
        """The document's attached files; their bytes stream from the server on demand."""
        body, _ = self._get(f"/attachmentnames/{unid}", {"dataSource": scope},
                            f"attachments of document {unid} of {scope}")
        names = [f if isinstance(f, str) else f.get("filename") for f in body.get("Files") or []]
        return [Attachment(unid=unid, name=n, fetch=self._fetcher(scope, unid, n))
                for n in names if n]

    def _fetcher(self, scope: str, unid: str, name: str):
        def chunks() -> Iterator[bytes]:
            response = self._get(f"/attachments/{unid}/{quote(name, safe='')}",
                                 {"dataSource": scope}, f"attachment {name} of {unid}", raw=True)
            with response:
                while chunk := response.read(1 << 20):
                    yield chunk

        return chunks
