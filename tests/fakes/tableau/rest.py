"""A local Tableau Server REST API (read-only endpoints) over real HTTP on 127.0.0.1.

It answers, for the estate of ``estate.py``, the calls a read-only inventory and extract makes
(``reference/tableau/README.md``): sign-in with a personal access token or a user name and password
(one site per sign-in; the token goes back in ``X-Tableau-Auth``), sign-out, server info, sites,
projects, workbooks (+ views, connections, content), datasources (+ connections, content), views
(+ summary data as CSV), users, jobs (``filter=jobType:eq:…``; one job with its notes) and
extract-refresh tasks. Responses are ``<tsResponse xmlns="http://tableau.com/api">`` documents
built with lxml that validate against ``ts-api_3_29.xsd`` (``test_tableau_fakes.py`` checks each
kind); errors are ``<error code><summary/><detail/></error>`` with the HTTP status of the code's
first three digits.

Decisions where the published material is silent or contradicts the wire:
- Lists the XSD pairs with ``<pagination>`` (sites, projects, workbooks, datasources, users) are
  paged with ``pageSize`` (1…1000, default 100) and ``pageNumber``; ``<views>``,
  ``<backgroundJobs>``, ``<connections>`` and ``<tasks>`` stand alone in the XSD, so they come
  whole, without ``<pagination>`` (tableauserverclient's pager then takes the one page).
- ``restApiVersion`` is sent as ``3.29`` as real servers do (tableauserverclient puts it in its
  URLs); the XSD's pattern for it expects a build number. That one value is the only deviation.
- Sign-in to a site that does not exist fails like a wrong credential (401001), as on a real
  server; a request naming an unknown site id gets 404000.
- An expired token is 401 with code 401002 ("Unauthorized Access"), the code Tableau Server
  returns for a token it no longer accepts (tableau/server-client-python issue 1351).
- A personal access token holds one session at a time: signing in with it again ends its
  previous session (Tableau's knowledge base on PAT sign-ins), so a walk over every site has to
  go one site after the other.

Switches for tests: ``expire_tokens(after, every_sign_in)`` makes tokens expire mid-walk;
``set_content(luid, path)`` serves a given file as a workbook's or datasource's content. Every
request is logged (``log``) so a test can assert that only GETs followed the sign-in.
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from .estate import Datasource, Estate, Job, Site, User, Workbook

NS = "http://tableau.com/api"
API_VERSION = "3.29"
PRODUCT_VERSION, BUILD = "2026.2.0", "20262.26.0410.1234"
PAGED = {"sites", "projects", "workbooks", "datasources", "users"}
CHUNK = 1 << 20  # content is copied from disk in 1 MiB pieces: never whole in memory


class ApiError(Exception):
    def __init__(self, code: str, summary: str, detail: str):
        super().__init__(detail)
        self.code, self.summary, self.detail = code, summary, detail

    @property
    def status(self) -> int:
        return int(self.code[:3])


NO_CREDENTIALS = ("401000", "Unauthorized Access", "No authentication credentials were provided")
EXPIRED = ("401002", "Unauthorized Access", "Invalid authentication credentials were provided.")
SIGNIN_FAILED = ("401001", "Signin Error", "Error signing in to Tableau Server")


@dataclass
class Logged:
    method: str
    path: str  # after /api/<version>
    query: dict[str, list[str]]
    status: int = 0
    authenticated: bool = False


@dataclass
class Session:
    token: str
    site: Site
    user: User
    remaining: int | None = None  # requests left before the token expires; None: never
    expired: bool = False
    by_token: bool = False  # signed in with the personal access token


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def el(tag: str, attrs: dict | None = None, *children, text: str | None = None):
    """An element in the API's namespace; attributes that are None are left out."""
    from lxml import etree

    node = etree.Element(f"{{{NS}}}{tag}", nsmap={None: NS})
    for key, value in (attrs or {}).items():
        if (value := _text(value)) is not None:
            node.set(key, value)
    for child in children:
        if child is not None:
            node.append(child)
    node.text = text
    return node


def document(*children) -> bytes:
    from lxml import etree

    return etree.tostring(el("tsResponse", None, *children), xml_declaration=True,
                          encoding="UTF-8")


@dataclass
class TableauServer:
    """The server; ``start()`` returns its URL (``http://127.0.0.1:<port>``)."""

    estate: Estate
    content_dir: Path | None = None
    sessions: dict[str, Session] = field(default_factory=dict)
    log: list[Logged] = field(default_factory=list)
    content: dict[str, Path] = field(default_factory=dict)
    token_budget: int | None = None  # given to every new session (see expire_tokens)
    url: str = ""

    def __post_init__(self):
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._own_dir: tempfile.TemporaryDirectory | None = None

    # --- life cycle ---------------------------------------------------------------------------

    def start(self) -> str:
        if self.content_dir is None:
            self._own_dir = tempfile.TemporaryDirectory(prefix="tableau-content-")
            self.content_dir = Path(self._own_dir.name)
        server = self

        class Handler(_Handler):
            tableau = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        return self.url

    def stop(self) -> None:
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._own_dir:
            self._own_dir.cleanup()

    # --- switches for tests -------------------------------------------------------------------

    def expire_tokens(self, after: int = 0, every_sign_in: bool = False) -> None:
        """Live tokens expire after ``after`` more requests each; with ``every_sign_in`` so do
        the tokens of later sign-ins (a session that can never finish its walk)."""
        with self._lock:
            for session in self.sessions.values():
                session.remaining = after
            self.token_budget = after if every_sign_in else None

    def set_content(self, luid: str, path: Path) -> None:
        self.content[luid] = Path(path)

    def record(self, entry: Logged) -> None:
        with self._lock:
            self.log.append(entry)

    def requests_after_sign_in(self) -> list[Logged]:
        first = next((i for i, r in enumerate(self.log) if r.path == "/auth/signin"), len(self.log))
        return self.log[first + 1:]

    # --- authentication -----------------------------------------------------------------------

    def sign_in(self, body: bytes) -> bytes:
        from lxml import etree

        def child(node, name: str):  # requests are usually sent without the namespace
            return next(c for c in node if etree.QName(c).localname == name)

        try:
            creds = child(etree.fromstring(body), "credentials")
            site_url = child(creds, "site").get("contentUrl", "")
        except (etree.XMLSyntaxError, StopIteration) as err:
            raise ApiError("400000", "Bad Request", "The sign-in request is malformed") from err
        e = self.estate
        by_token = (creds.get("personalAccessTokenName") == e.token_name
                    and creds.get("personalAccessTokenSecret") == e.token_secret)
        by_password = creds.get("name") == e.username and creds.get("password") == e.password
        site = next((s for s in e.sites if s.content_url.lower() == site_url.lower()), None)
        if not (by_token or by_password) or site is None:
            raise ApiError(*SIGNIN_FAILED)
        user = next(u for u in e.users if u.site == site and u.system_user.name == e.username)
        session = Session(uuid.uuid4().hex + "|" + site.luid, site, user, self.token_budget,
                          by_token=by_token)
        with self._lock:
            if by_token:  # one session per personal access token: the older one ends
                for other in self.sessions.values():
                    other.expired = other.expired or other.by_token
            self.sessions[session.token] = session
        return document(el("credentials", {"token": session.token,
                                           "estimatedTimeToExpiration": "239:59:59"},
                           el("site", {"id": site.luid, "contentUrl": site.content_url}),
                           el("user", {"id": user.luid})))

    def session(self, token: str | None) -> Session:
        if not token:
            raise ApiError(*NO_CREDENTIALS)
        with self._lock:
            session = self.sessions.get(token)
            if session is None or session.expired:
                raise ApiError(*EXPIRED)
            if session.remaining is not None:
                if session.remaining <= 0:
                    session.expired = True
                    raise ApiError(*EXPIRED)
                session.remaining -= 1
            return session

    def sign_out(self, token: str | None) -> None:
        with self._lock:
            self.sessions.pop(token or "", None)

    # --- content --------------------------------------------------------------------------------

    def content_path(self, obj: Workbook | Datasource, include_extract: bool) -> Path:
        from . import hyper

        if obj.luid in self.content and include_extract:
            return self.content[obj.luid]
        name = obj.file_name if include_extract else f"no-extract-{obj.file_name}"
        path = self.content_dir / obj.site.content_url / name
        with self._lock:  # one build per file, even when two downloads race
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                hyper.build_package(path, obj, include_extract=include_extract)
        return path


def page(items: list, query: dict[str, list[str]]) -> tuple[list, object]:
    def number(key: str, default: int) -> int:
        try:
            return int(query.get(key, [default])[0])
        except ValueError:
            return -1

    size, number_ = number("pageSize", 100), number("pageNumber", 1)
    if not 1 <= size <= 1000:
        raise ApiError("400007", "Bad Request", f"Page size {size} is not between 1 and 1000")
    if number_ < 1:
        raise ApiError("400006", "Bad Request", f"Page number {number_} is not a positive integer")
    start = (number_ - 1) * size
    pagination = el("pagination", {"pageNumber": number_, "pageSize": size,
                                   "totalAvailable": len(items)})
    return items[start:start + size], pagination


def parse_filter(expression: str) -> list[tuple[str, str, list[str]]]:
    """``jobType:eq:refresh_extracts,status:in:[Failed,Success]`` -> [(field, op, values)]."""
    out, depth, start = [], 0, 0
    parts = []
    for i, ch in enumerate(expression + ","):
        depth += ch == "["
        depth -= ch == "]"
        if ch == "," and depth == 0:
            parts.append(expression[start:i])
            start = i + 1
    for part in filter(None, parts):
        try:
            field_, op, value = part.split(":", 2)
        except ValueError as err:
            raise ApiError("400000", "Bad Request", f"Invalid filter '{part}'") from err
        values = value.strip("[]").split(",") if op == "in" else [value]
        if op not in ("eq", "in"):
            raise ApiError("400000", "Bad Request", f"Filter operator '{op}' is not supported")
        out.append((field_, op, values))
    return out


class _Handler(BaseHTTPRequestHandler):
    tableau: TableauServer
    protocol_version = "HTTP/1.1"  # keep-alive, as requests expects of a real server

    def log_message(self, format, *args):  # noqa: A002 - quiet: the server keeps its own log
        pass

    def do_GET(self):
        self._serve("GET")

    def do_POST(self):
        self._serve("POST")

    def do_PUT(self):
        self._serve("PUT")

    def do_DELETE(self):
        self._serve("DELETE")

    def do_PATCH(self):
        self._serve("PATCH")

    def _serve(self, method: str) -> None:
        split = urlsplit(self.path)
        parts = [unquote(p) for p in split.path.split("/") if p]
        query = parse_qs(split.query)
        entry = Logged(method, "/" + "/".join(parts[2:]), query)
        self.tableau.record(entry)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            if len(parts) < 3 or parts[0] != "api":
                raise ApiError("404000", "Resource Not Found", f"Unknown resource {split.path}")
            self._route(method, parts[2:], query, body, entry)
        except ApiError as err:
            entry.status = err.status
            self._send(err.status, document(el("error", {"code": err.code},
                                               el("summary", text=err.summary),
                                               el("detail", text=err.detail))))

    def _send(self, status: int, payload: bytes,
              content_type: str = "application/xml;charset=utf-8") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _route(self, method, parts, query, body, entry: Logged) -> None:
        server = self.tableau
        if parts == ["serverInfo"] and method == "GET":
            entry.status = 200
            return self._send(200, server_info())
        if parts == ["auth", "signin"] and method == "POST":
            payload = server.sign_in(body)
            entry.status = 200
            return self._send(200, payload)
        session = server.session(self.headers.get("X-Tableau-Auth"))
        entry.authenticated = True
        if parts == ["auth", "signout"] and method == "POST":
            server.sign_out(self.headers.get("X-Tableau-Auth"))
            entry.status = 204
            return self._send(204, b"")
        if method != "GET":
            raise ApiError("405000", "Method Not Allowed",
                           f"{method} is not served by this read-only simulation")
        if parts == ["sites"]:
            items, pagination = page(server.estate.sites, query)
            entry.status = 200
            return self._send(200, document(pagination, el("sites", None, *map(site_el, items))))
        if len(parts) < 3 or parts[0] != "sites":
            raise ApiError("404000", "Resource Not Found", f"Unknown resource /{'/'.join(parts)}")
        site = next((s for s in server.estate.sites if s.luid == parts[1]), None)
        if site is None:
            raise ApiError("404000", "Resource Not Found", f"Site '{parts[1]}' could not be found.")
        if site != session.site:
            raise ApiError("403000", "Forbidden",
                           "The site in the URI is not the site of the credentials token")
        resource = SiteResources(server, site)
        result = resource.answer(parts[2:], query)
        entry.status = 200
        if isinstance(result, Path):
            return self._stream(result)
        if isinstance(result, str):
            return self._send(200, result.encode(), "text/csv;charset=utf-8")
        return self._send(200, result)

    def _stream(self, path: Path) -> None:
        kind = "tableau_workbook" if path.suffix.startswith(".twb") else "tableau_datasource"
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(path.stat().st_size))
        self.send_header("Content-Disposition", f'name="{kind}"; filename="{path.name}"')
        self.end_headers()
        with path.open("rb") as f:
            shutil.copyfileobj(f, self.wfile, CHUNK)


def server_info() -> bytes:
    settings = el("serverSettings", None, el("oAuthEnabled", text="false"),
                  el("sheetImageMaxAgeFloor", text="1"), el("sheetImageMaxAgeCeiling", text="60"),
                  el("offlineInteractionSupportedPhase", text="0"))
    return document(el("serverInfo", None,
                       el("productVersion", {"build": BUILD}, text=PRODUCT_VERSION),
                       el("prepConductorVersion", text=BUILD),
                       el("restApiVersion", text=API_VERSION),
                       el("platform", text="linux"), settings))


# --- the estate as XML elements ------------------------------------------------------------------


def site_el(s: Site):
    return el("site", {"id": s.luid, "name": s.name, "contentUrl": s.content_url,
                       "adminMode": "ContentAndUsers", "state": "Active"})


def owner_el(u: User):
    return el("owner", {"id": u.luid, "name": u.system_user.name})


def project_ref(obj):
    return el("project", {"id": obj.project.luid, "name": obj.project.name})


def tags_el():
    return el("tags")


def workbook_el(w: Workbook, with_views: bool = False):
    views = el("views", None, *(view_el(w, v, nested=False) for v in w.views)) if with_views \
        else None
    return el("workbook", {
        "id": w.luid, "name": w.name, "description": w.description, "contentUrl": w.content_url,
        "webpageUrl": f"https://tableau.client.com/#/site/{w.site.content_url}/workbooks/{w.id}",
        "showTabs": True, "size": w.size, "createdAt": w.created_at, "updatedAt": w.updated_at,
        "defaultViewId": w.views[0].luid if w.views else None, "hasExtracts": bool(w.extract),
    }, project_ref(w), owner_el(w.owner), tags_el(), views)


def view_el(w: Workbook, v, nested: bool = True):
    children = (el("workbook", {"id": w.luid, "name": w.name}), owner_el(w.owner),
                project_ref(w), tags_el()) if nested else (owner_el(w.owner), tags_el())
    return el("view", {"id": v.luid, "name": v.name,
                       "contentUrl": f"{w.content_url}/sheets/{v.name.replace(' ', '')}",
                       "createdAt": w.created_at, "updatedAt": w.updated_at,
                       "sheetType": v.sheet_type, "viewUrlName": v.name.replace(" ", "")},
              *children)


def datasource_el(d: Datasource):
    c = d.connections[0]
    return el("datasource", {
        "id": d.luid, "name": d.name, "description": d.description, "contentUrl": d.content_url,
        "type": c.dbclass, "createdAt": d.created_at, "updatedAt": d.updated_at,
        "isCertified": d.certified, "hasExtracts": bool(d.extract), "size": d.size,
        "databaseName": c.dbname, "serverName": c.server or None,
        "webpageUrl": f"https://tableau.client.com/#/site/{d.site.content_url}/datasources/{d.id}",
    }, project_ref(d), owner_el(d.owner), tags_el())


def connection_el(owner: Workbook | Datasource, c, estate: Estate):
    published = None
    if c.dbclass == "sqlproxy":  # a workbook's link to a published datasource
        ds = next(d for d in estate.datasources
                  if d.content_url == c.dbname and d.site == owner.site)
        published = el("datasource", {"id": ds.luid, "name": ds.name})
    elif isinstance(owner, Datasource):
        published = el("datasource", {"id": owner.luid, "name": owner.name})
    return el("connection", {"id": c.luid, "type": c.dbclass, "serverAddress": c.server or None,
                             "serverPort": c.port, "userName": c.username or None,
                             "embedPassword": c.embed_password,
                             "queryTaggingEnabled": False}, published)


def user_el(u: User):
    return el("user", {"id": u.luid, "name": u.system_user.name, "siteRole": u.site_role,
                       "lastLogin": u.last_login, "fullName": u.system_user.full_name,
                       "email": u.system_user.email, "authSetting": "ServerDefault"})


def project_el(p):
    return el("project", {"id": p.luid, "name": p.name, "description": p.description,
                          "contentPermissions": "ManagedByOwner",
                          "parentProjectId": p.parent.luid if p.parent else None,
                          "topLevelProject": p.parent is None},
              el("owner", {"id": p.owner.luid}))


def target_el(obj):
    tag = "workbook" if isinstance(obj, Workbook) else "datasource"
    return el(tag, {"id": obj.luid, "name": obj.name})


def background_job_el(j: Job):
    return el("backgroundJob", {
        "id": j.luid, "jobType": j.rest_job_type, "status": j.rest_status, "priority": 50,
        "createdAt": j.created_at, "startedAt": j.started_at, "endedAt": j.completed_at,
        "title": j.target.name if j.target else None,
        "subtitle": ("Workbook" if isinstance(j.target, Workbook) else "Data Source")
        if j.target else None})


def job_el(j: Job):
    detail = None
    if j.job_type in ("RefreshExtracts", "IncrementExtracts") and j.target:
        detail = el("extractRefreshJob", None, el("notes", text=j.notes or ""), target_el(j.target))
    return el("job", {"id": j.luid, "mode": "Asynchronous", "type": "RefreshExtract",
                      "progress": 100 if j.completed_at else 0, "createdAt": j.created_at,
                      "startedAt": j.started_at, "completedAt": j.completed_at,
                      "finishCode": j.finish_code}, detail)


def task_el(t):
    s = t.schedule
    schedule = el("schedule", {"id": s.luid, "name": s.name, "state": "Active", "priority": 50,
                               "type": "Extract", "frequency": s.frequency,
                               "nextRunAt": s.next_run_at, "executionOrder": "Parallel"})
    refresh = el("extractRefresh", {
        "id": t.luid, "priority": t.priority, "consecutiveFailedCount": t.consecutive_failures,
        "type": "IncrementalRefresh" if t.incremental else "FullRefresh",
        "incremental": t.incremental}, schedule, target_el(t.target))
    return el("task", None, refresh)


def view_csv(w: Workbook, v, query: dict[str, list[str]]) -> str:
    """A view's summary data: a few rows that depend on the view, filtered by ``vf_<field>``."""
    rows = [{"Region": region, "Category": category, "Sales": str(100 * v.id + 7 * n),
             "Quantity": str(n + v.index)}
            for n, (region, category) in enumerate(
                [(r, c) for r in ("North", "South", "East") for c in ("Tech", "Office")], start=1)]
    for key, values in query.items():
        if key.startswith("vf_"):
            rows = [r for r in rows if r.get(key[3:]) in values]
    out = io.StringIO()
    writer = csv.DictWriter(out, ["Region", "Category", "Sales", "Quantity"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


@dataclass
class SiteResources:
    """Answers ``/sites/{site}/…`` for one site: XML bytes, CSV text, or a content file path."""

    server: TableauServer
    site: Site

    def answer(self, parts: list[str], query: dict[str, list[str]]):
        e = self.server.estate
        kind, rest = parts[0], parts[1:]
        if kind == "projects" and not rest:
            items, pagination = page(e.on(self.site, e.projects), query)
            return document(pagination, el("projects", None, *map(project_el, items)))
        if kind == "users" and not rest:
            items, pagination = page(e.on(self.site, e.users), query)
            return document(pagination, el("users", None, *map(user_el, items)))
        if kind == "workbooks":
            return self.workbooks(rest, query)
        if kind == "datasources":
            return self.datasources(rest, query)
        if kind == "views":
            return self.views(rest, query)
        if kind == "jobs":
            return self.jobs(rest, query)
        if kind == "tasks" and rest == ["extractRefreshes"]:
            tasks = e.on(self.site, e.tasks)
            return document(el("tasks", None, *map(task_el, tasks)))
        raise ApiError("404000", "Resource Not Found", f"Unknown resource {'/'.join(parts)}")

    def _find(self, items, luid: str, code: str, what: str):
        found = next((i for i in items if i.luid == luid), None)
        if found is None:
            raise ApiError(code, "Resource Not Found", f"{what} '{luid}' could not be found.")
        return found

    def workbooks(self, rest, query):
        e = self.server.estate
        workbooks = e.on(self.site, e.workbooks)
        if not rest:
            items, pagination = page(workbooks, query)
            return document(pagination, el("workbooks", None, *map(workbook_el, items)))
        w = self._find(workbooks, rest[0], "404006", "Workbook")
        sub = rest[1:]
        if not sub:
            return document(workbook_el(w, with_views=True))
        if sub == ["views"]:
            return document(el("views", None, *(view_el(w, v, nested=False) for v in w.views)))
        if sub == ["connections"]:
            return document(el("connections", None,
                               *(connection_el(w, c, e) for c in w.connections)))
        if sub == ["content"]:
            return self.server.content_path(w, _include_extract(query))
        raise ApiError("404000", "Resource Not Found", f"Unknown resource {'/'.join(sub)}")

    def datasources(self, rest, query):
        e = self.server.estate
        datasources = e.on(self.site, e.datasources)
        if not rest:
            items, pagination = page(datasources, query)
            return document(pagination, el("datasources", None, *map(datasource_el, items)))
        d = self._find(datasources, rest[0], "404011", "Datasource")
        sub = rest[1:]
        if not sub:
            return document(datasource_el(d))
        if sub == ["connections"]:
            return document(el("connections", None,
                               *(connection_el(d, c, e) for c in d.connections)))
        if sub == ["content"]:
            return self.server.content_path(d, _include_extract(query))
        raise ApiError("404000", "Resource Not Found", f"Unknown resource {'/'.join(sub)}")

    def views(self, rest, query):
        pairs = self.server.estate.views(self.site)
        if not rest:
            return document(el("views", None, *(view_el(w, v) for w, v in pairs)))
        found = next(((w, v) for w, v in pairs if v.luid == rest[0]), None)
        if found is None:
            raise ApiError("404000", "Resource Not Found", f"View '{rest[0]}' could not be found.")
        if rest[1:] == []:
            return document(view_el(*found))
        if rest[1:] == ["data"]:
            return view_csv(*found, query)
        raise ApiError("404000", "Resource Not Found", f"Unknown resource {'/'.join(rest)}")

    def jobs(self, rest, query):
        e = self.server.estate
        jobs = e.on(self.site, e.jobs)
        if rest:
            return document(job_el(self._find(jobs, rest[0], "404000", "Job")))
        for field_, _, values in parse_filter(",".join(query.get("filter", []))):
            attribute = {"jobType": "rest_job_type", "status": "rest_status"}.get(field_)
            if attribute is None:
                raise ApiError("400000", "Bad Request", f"Cannot filter jobs on '{field_}'")
            jobs = [j for j in jobs if getattr(j, attribute) in values]
        return document(el("backgroundJobs", None, *map(background_job_el, jobs)))


def _include_extract(query) -> bool:
    return query.get("includeExtract", ["true"])[0].lower() != "false"
