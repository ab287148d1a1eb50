"""Tableau Server's REST API through tableauserverclient (TSC): sign-in, the site walk, the
inventory as virtual-table rows, and streamed content downloads.

One sign-in reaches one site, and a personal access token holds one session at a time, so
``SITE '*'`` walks the sites one after the other: sign in to the Default site, list the sites,
then sign out and in again per site. Only GETs follow a sign-in (and the sign-out at the end).

A token that expires mid-walk (401) is answered by signing in again once and repeating the
request; if the repeated request is refused too, the walk stops with one clean line.
Secrets are read from the environment at sign-in and kept nowhere; no error names them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from hydra.core.errors import one_line

from .errors import TableauConnectionError, TableauError
from .rows import Row, duration, empty_inventory, row

T = TypeVar("T")
PAGE_SIZE = 1000  # the API's maximum: the fewest round trips per list
DOWNLOAD_CHUNK = 1 << 20
REFRESH_JOB_TYPES = ("refresh_extracts", "increment_extracts")


@dataclass(frozen=True)
class RestSpec:
    """Where and how to sign in. Secrets are named by their environment variable, not held."""

    server: str  # https://tableau.client.com
    site: str = ""  # a site's content URL ('' is the Default site); '*' walks every site
    token_name: str | None = None
    token_env: str | None = None  # environment variable holding the token's secret
    user: str | None = None
    password_env: str | None = None  # environment variable holding the user's password
    verify: bool = True  # TLS certificate check
    timeout: float = 60.0

    def auth(self, site: str):
        """A TSC credentials object for ``site``, with the secret read from the environment now."""
        import tableauserverclient as TSC

        if self.token_name:
            return TSC.PersonalAccessTokenAuth(self.token_name, self._secret(self.token_env,
                                                                             "TOKEN_ENV"), site)
        if self.user:
            return TSC.TableauAuth(self.user, self._secret(self.password_env, "PASSWORD_ENV"),
                                   site)
        raise TableauError("Tableau needs TOKEN_NAME with TOKEN_ENV, or USER with PASSWORD_ENV")

    @staticmethod
    def _secret(variable: str | None, option: str) -> str:
        if not variable:
            raise TableauError(f"Tableau sign-in needs {option} (the environment variable that "
                               "holds the secret)")
        value = os.environ.get(variable)
        if not value:
            raise TableauError(f"environment variable {variable} (named by {option}) is not set")
        return value

    @property
    def who(self) -> str:
        return f"token '{self.token_name}'" if self.token_name else f"user '{self.user}'"


@dataclass(frozen=True)
class SiteRef:
    site_id: str
    name: str
    content_url: str
    state: str | None = None


def _is_unauthorized(err: BaseException) -> bool:
    from tableauserverclient.server.endpoint.exceptions import NotSignedInError, XMLError

    code = str(getattr(err, "code", "") or "")
    return isinstance(err, NotSignedInError) or (isinstance(err, XMLError) and
                                                 code.startswith("401"))


class SiteSession:
    """A TSC server signed in to one site; every call goes through ``call`` (expiry, errors)."""

    def __init__(self, spec: RestSpec, site: str, source: str):
        self.spec, self.site, self.source = spec, site, source
        self.server = None
        self.site_id: str | None = None

    # --- sign-in and the one re-sign-in ------------------------------------------------------

    def sign_in(self) -> "SiteSession":
        import requests
        import tableauserverclient as TSC

        # a fresh sign-in after an expiry reuses the server object: every endpoint the walk
        # holds keeps working with the new token
        server = self.server
        try:
            if server is None:
                server = TSC.Server(self.spec.server)
                server.add_http_options({"verify": self.spec.verify, "timeout": self.spec.timeout})
                server.use_server_version()  # an unauthenticated GET of serverInfo
            server.auth.sign_in(self.spec.auth(self.site))
        except TableauError:
            raise
        except requests.exceptions.RequestException as err:
            raise TableauConnectionError(
                f"cannot reach Tableau Server at {self.spec.server}: {_reason(err)}") from err
        except Exception as err:  # noqa: BLE001 - TSC raises several families; each is one line
            if _is_unauthorized(err):
                raise TableauConnectionError(self._refused()) from err
            raise TableauError(f"Tableau sign-in to {self._where()} failed: "
                               f"{_tsc_reason(err)}") from err
        self.server, self.site_id = server, server.site_id
        return self

    def _where(self) -> str:
        return f"{self.spec.server} site '{self.site}'" if self.site else \
            f"{self.spec.server} (Default site)"

    def _refused(self) -> str:
        return (f"Tableau refused the sign-in of {self.spec.who} to {self._where()} (401001): "
                "wrong, expired or revoked credentials, or no such site")

    def sign_out(self) -> None:
        if self.server is None:
            return
        try:
            self.server.auth.sign_out()
        except Exception:  # noqa: BLE001 - a failed sign-out must not hide the work done
            pass
        finally:
            self.server = None

    def call(self, what: str, fn: Callable[[], T]) -> T:
        """Run one request; on an expired token sign in again once and repeat it."""
        import requests

        for attempt in (1, 2):
            try:
                return fn()
            except requests.exceptions.RequestException as err:
                raise TableauConnectionError(f"lost Tableau Server at {self.spec.server} while "
                                             f"reading {what}: {_reason(err)}") from err
            except TableauError:
                raise
            except Exception as err:  # noqa: BLE001 - TSC's errors, made one line below
                if not _is_unauthorized(err):
                    raise TableauError(f"Tableau {self._where()}: cannot read {what}: "
                                       f"{_tsc_reason(err)}") from err
                if attempt == 2:
                    raise TableauConnectionError(
                        f"Tableau session on {self._where()} expired while reading {what}, and "
                        f"the request was refused again after a fresh sign-in "
                        f"({getattr(err, 'code', '401')}); stopped") from err
                self.sign_in()
        raise AssertionError("unreachable")

    # --- lists ---------------------------------------------------------------------------------

    def pages(self, what: str, endpoint_get: Callable, req_options=None) -> list:
        """Every item of a list endpoint, page by page (each page retried on its own)."""
        import tableauserverclient as TSC

        options = req_options or TSC.RequestOptions()
        options.pagesize = PAGE_SIZE
        options.pagenumber = 1
        items: list = []
        while True:
            got, pagination = self.call(what, lambda: endpoint_get(options))
            items.extend(got)
            if pagination.total_available is None:  # a list the API does not page
                return items
            if pagination.page_number * pagination.page_size >= pagination.total_available:
                return items
            options.pagenumber = pagination.page_number + 1

    def sites(self) -> list[SiteRef]:
        return [SiteRef(s.id, s.name, s.content_url or "", s.state)
                for s in self.pages("sites", lambda o: self.server.sites.get(o))]

    def inventory(self, site_name: str | None = None) -> dict[str, list[Row]]:
        """Every virtual table's rows for this site (``tableau_events`` stays empty: REST has no
        history of events)."""
        out = empty_inventory()
        srv, site = self.server, self.site
        add = lambda table, **values: out[table].append(  # noqa: E731
            row(table, self.source, "rest", site, **values))
        users = self.pages("users", lambda o: srv.users.get(o))
        user_names = {u.id: u.name for u in users}
        for u in users:
            add("tableau_users", user_id=u.id, user_name=u.name, full_name=u.fullname,
                email=u.email, site_role=u.site_role, last_login=u.last_login)
        add("tableau_sites", site_id=self.site_id, site_name=site_name, state=None)
        projects = self.pages("projects", lambda o: srv.projects.get(o))
        for p in projects:
            add("tableau_projects", project_id=p.id, project_name=p.name,
                description=p.description, parent_project_id=p.parent_id, owner_id=p.owner_id,
                owner_name=user_names.get(p.owner_id))
        workbooks = self.pages("workbooks", lambda o: srv.workbooks.get(o))
        for w in workbooks:
            add("tableau_workbooks", workbook_id=w.id, workbook_name=w.name,
                content_url=w.content_url, project_id=w.project_id, project_name=w.project_name,
                owner_id=w.owner_id, owner_name=user_names.get(w.owner_id), size_bytes=w.size,
                has_extract=w.has_extracts, description=w.description, created_at=w.created_at,
                updated_at=w.updated_at)
        workbook_names = {w.id: w.name for w in workbooks}
        for v in self.pages("views", lambda o: srv.views.get(o)):
            add("tableau_views", view_id=v.id, view_name=v.name, content_url=v.content_url,
                sheet_type=v.sheet_type, workbook_id=v.workbook_id,
                workbook_name=workbook_names.get(v.workbook_id),
                owner_name=user_names.get(v.owner_id), created_at=v.created_at,
                updated_at=v.updated_at)
        datasources = self.pages("datasources", lambda o: srv.datasources.get(o))
        for d in datasources:
            add("tableau_datasources", datasource_id=d.id, datasource_name=d.name,
                content_url=d.content_url, dbclass=d.datasource_type, project_id=d.project_id,
                project_name=d.project_name, owner_id=d.owner_id,
                owner_name=user_names.get(d.owner_id), has_extract=d.has_extracts,
                certified=d.certified, size_bytes=d.size, description=d.description,
                created_at=d.created_at, updated_at=d.updated_at)
        for owner_type, owners, endpoint in (("workbook", workbooks, srv.workbooks),
                                             ("datasource", datasources, srv.datasources)):
            for owner in owners:
                # TSC fetches on first access of .connections: that GET is inside the call
                connections = self.call(
                    f"the connections of {owner_type} '{owner.name}'",
                    lambda e=endpoint, o=owner: (e.populate_connections(o), o.connections)[1])
                for c in connections:
                    add("tableau_connections", connection_id=c.id, owner_type=owner_type,
                        owner_id=owner.id, owner_name=owner.name, dbclass=c.connection_type,
                        server=c.server_address or None, port=_int(c.server_port),
                        username=c.username or None, embedded_password=c.embed_password,
                        published_datasource_id=c.datasource_id,
                        published_datasource_name=c.datasource_name)
        out["tableau_extract_refreshes"] = self.extract_refreshes(workbooks, datasources)
        for t in self.call("extract refresh tasks", lambda: srv.tasks.get())[0]:
            add("tableau_refresh_tasks", task_id=t.id, target_type=t.target.type,
                target_id=t.target.id,
                schedule_name=t.schedule_item.name if t.schedule_item else None,
                next_run_at=t.schedule_item.next_run_at if t.schedule_item else None,
                priority=t.priority, incremental=t.task_type == "IncrementalRefresh",
                consecutive_failures=t.consecutive_failed_count)
        return out

    def extract_refreshes(self, workbooks: list, datasources: list) -> list[Row]:
        """Refresh jobs (``jobType`` refresh/increment): one more GET per failed or cancelled
        job for its error text and target; the others name their target by title."""
        import tableauserverclient as TSC

        options = TSC.RequestOptions()
        options.filter.add(TSC.Filter("jobType", TSC.RequestOptions.Operator.In,
                                      list(REFRESH_JOB_TYPES)))
        jobs = self.pages("extract refresh jobs", lambda o: self.server.jobs.get(req_options=o),
                          options)
        by_name: dict[tuple[str, str], list[str]] = {}
        for kind, items in (("workbook", workbooks), ("datasource", datasources)):
            for item in items:
                by_name.setdefault((kind, item.name), []).append(item.id)
        rows = []
        for j in jobs:
            target_type = "workbook" if (j.subtitle or "").lower() == "workbook" else "datasource"
            ids = by_name.get((target_type, j.title), [])
            target_id = ids[0] if len(ids) == 1 else None
            error = None
            if j.status in ("Failed", "Cancelled"):
                detail = self.call(f"job {j.id}", lambda i=j.id: self.server.jobs.get_by_id(i))
                error = "; ".join(n for n in detail.notes or [] if n) or None
                target_id = detail.workbook_id or detail.datasource_id or target_id
            rows.append(row("tableau_extract_refreshes", self.source, "rest", self.site,
                            job_id=j.id, job_type=j.type, target_type=target_type,
                            target_id=target_id, target_name=j.title, created_at=j.created_at,
                            started_at=j.started_at, finished_at=j.ended_at,
                            duration_seconds=duration(j.started_at, j.ended_at),
                            status=j.status, error=error))
        return rows

    # --- content ---------------------------------------------------------------------------------

    def download(self, kind: str, luid: str, folder: Path,
                 on_size: Callable[[int | None, str], None] | None = None,
                 include_extract: bool = True) -> Path:
        """Stream a workbook's or datasource's content (``kind`` 'workbook' | 'datasource') to a
        new file in ``folder``; ``on_size(bytes, file name)`` is told the size before any byte
        is written. The caller removes the file (``extracts.Package`` does)."""
        import tempfile

        url = f"{self.server.baseurl}/sites/{self.site_id}/{kind}s/{luid}/content"
        params = {} if include_extract else {"includeExtract": "False"}

        def fetch() -> Path:
            response = self.server.session.get(
                url, params=params, stream=True, timeout=self.spec.timeout,
                verify=self.spec.verify, headers={"X-Tableau-Auth": self.server.auth_token})
            with response:
                if response.status_code != 200:
                    _raise_for(response, self.server.namespace, url)
                name = _filename(response.headers.get("Content-Disposition", ""), luid)
                size = response.headers.get("Content-Length")
                if on_size:
                    on_size(int(size) if size else None, name)
                suffix = Path(name).suffix
                fd, path = tempfile.mkstemp(prefix="hydra-tableau-", suffix=suffix, dir=folder)
                try:
                    with os.fdopen(fd, "wb") as f:
                        for chunk in response.iter_content(DOWNLOAD_CHUNK):
                            f.write(chunk)
                except BaseException:
                    os.unlink(path)
                    raise
                return Path(path)

        return self.call(f"the content of {kind} {luid}", fetch)

    def view_data(self, view_luid: str, filters: dict[str, str] | None = None) -> bytes:
        """A view's summary data as CSV bytes (``vf_<field>=value`` filters)."""
        url = f"{self.server.baseurl}/sites/{self.site_id}/views/{view_luid}/data"
        params = {f"vf_{k}": v for k, v in (filters or {}).items()}

        def fetch() -> bytes:
            response = self.server.session.get(
                url, params=params, timeout=self.spec.timeout, verify=self.spec.verify,
                headers={"X-Tableau-Auth": self.server.auth_token})
            if response.status_code != 200:
                _raise_for(response, self.server.namespace, url)
            return response.content

        return self.call(f"the data of view {view_luid}", fetch)


class TableauRest:
    """The REST side of a tableau source: which sites to walk, and the walk itself."""

    def __init__(self, spec: RestSpec, source: str):
        self.spec, self.source = spec, source

    @contextmanager
    def session(self, site: str) -> Iterator[SiteSession]:
        """Signed in to ``site`` for the duration; an unknown site is named as such."""
        session = SiteSession(self.spec, site, self.source)
        try:
            session.sign_in()
        except TableauConnectionError as err:
            if site and "401001" in str(err):
                self._explain_refusal(site, err)
            raise
        try:
            yield session
        finally:
            session.sign_out()

    def _explain_refusal(self, site: str, refusal: TableauConnectionError) -> None:
        """Sign-in to a named site was refused: if the same credentials open the Default site,
        the site is unknown or not theirs; say which sites they do reach."""
        probe = SiteSession(self.spec, "", self.source)
        try:
            probe.sign_in()
        except TableauError:
            return  # the credentials themselves are refused: the first message stands
        try:
            reachable = probe.sites()
        except TableauError:
            reachable = []
        finally:
            probe.sign_out()
        if site.lower() not in {s.content_url.lower() for s in reachable}:
            names = ", ".join(f"'{s.content_url}'" for s in reachable) or "none listed"
            raise TableauError(f"Tableau site '{site}' does not exist on {self.spec.server} "
                               f"or {self.spec.who} is not a member (sites it reaches: "
                               f"{names})") from refusal

    def walk(self) -> Iterator[tuple[SiteRef | None, SiteSession]]:
        """(site, session) for the one site asked, or for every site with ``SITE '*'``: one
        sign-in per site, each signed out before the next."""
        if self.spec.site != "*":
            with self.session(self.spec.site) as s:
                yield None, s
            return
        with self.session("") as first:
            sites = first.sites()
            default = next((s for s in sites if s.content_url == ""), None)
            if default is not None:
                yield default, first
        for site in sites:
            if site.content_url != "":
                with self.session(site.content_url) as s:
                    yield site, s

    def inventory(self, each: Callable[[SiteSession, dict[str, list[Row]]], None] | None = None
                  ) -> dict[str, list[Row]]:
        """Every virtual table's rows over the walk; ``each(session, rows)`` is called for each
        site while still signed in to it (the head lists the site's content elements there)."""
        out = empty_inventory()
        for site, session in self.walk():
            part = session.inventory(site.name if site else None)
            if site is not None:
                part["tableau_sites"][0].update(site_name=site.name, state=site.state)
            if each is not None:
                each(session, part)
            for table, rows in part.items():
                out[table].extend(rows)
        return out


def _int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _reason(err: BaseException) -> str:
    """One line for a transport error, without the library's wrapping."""
    text = str(err)
    for marker in ("Connection refused", "Name or service not known", "timed out",
                   "No route to host", "certificate verify failed"):
        if marker in text:
            return marker.lower() if marker != "Name or service not known" else \
                "host name not found"
    return one_line(err)


def _tsc_reason(err: BaseException) -> str:
    code, summary, detail = (getattr(err, k, None) for k in ("code", "summary", "detail"))
    if code or summary:
        return f"{summary or 'error'} ({code}): {detail or ''}".rstrip(": ")
    return one_line(err)


def _raise_for(response, namespace, url: str) -> None:
    from tableauserverclient.server.endpoint.exceptions import (
        FailedSignInError,
        ServerResponseError,
    )

    cls = FailedSignInError if response.status_code == 401 else ServerResponseError
    try:
        raise cls.from_response(response.content, namespace, url)
    except ValueError:
        raise ServerResponseError(str(response.status_code), "HTTP error", "", url) from None


def _filename(disposition: str, fallback: str) -> str:
    from email.message import Message

    message = Message()
    message["Content-Disposition"] = disposition
    return Path(message.get_filename() or fallback).name
