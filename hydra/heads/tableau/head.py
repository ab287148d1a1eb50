"""The tableau head: a Tableau Server through its REST API, its repository database, or both.

    ATTACH 'tableau+https://tableau.client.com' AS tab
        (SITE 'finance' | '*', TOKEN_NAME 'hydra', TOKEN_ENV 'TAB_PAT'
         | USER 'admin', PASSWORD_ENV 'TAB_PW',
         [REPOSITORY 'postgresql://readonly:${TAB_REPO_PW}@tableau.client.com:8060/workgroup',]
         [EXTRACTS false,] [VERIFY false,] [TIMEOUT 60])
    ATTACH 'tableau+postgresql://readonly:${TAB_REPO_PW}@tableau.client.com:8060/workgroup' AS tab

A head made of two inner heads, each element read by the one that owns it (``owner``):

* the repository (``workgroup``, PostgreSQL) is the SQL head itself (``self.repository``): its
  tables and views are elements (``tab.public.workbooks``) read, split and reconciled by it. The
  relations the repository user may not read (the ``tableau`` user reads only the ``_*`` views)
  are listed with the reason in ``elements.error``, and ATTACH says in one line how many;
* the published content is ``rest_head.RestHead`` (``self.rest``): every table of every extract
  (``tab."finance/datasources/Ledger"."Extract.Ledger"``) and every view's summary data
  (``tab."default/views/Regional Sales".Overview``).

The virtual tables (``tableau_*``) come from either path, or both (``merge``). Read-only: only
GETs after a sign-in, a sign-out at close; repository sessions are read-only transactions.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from hydra.heads.base import Element, Head, HeadError, Option
from hydra.heads.composite import CompositeHead

from .content import CONTENT_KINDS
from .errors import TableauConnectionError, TableauError
from .rows import TABLES, Row

REPOSITORY_PORT, REPOSITORY_DATABASE = 8060, "workgroup"
REST_OPTIONS = (
    Option("SITE", str, help="the site's content URL ('' the Default site, '*' every site)"),
    Option("TOKEN_NAME", str, help="the personal access token's name"),
    Option("TOKEN_ENV", str, help="the environment variable holding the token's secret"),
    Option("USER", str, help="the user to sign in as (instead of a token)"),
    Option("PASSWORD_ENV", str, help="the environment variable holding USER's password"),
    Option("VERIFY", bool, help="check the server's TLS certificate (default true)"),
    Option("TIMEOUT", int, help="seconds a REST request may take (default 60)"),
    Option("EXTRACTS", bool, help="list the extracts' tables (ATTACH downloads each package once; "
                                  "default true)"),
)
SQL_OPTIONS = ("BULK", "BATCH_ROWS")  # passed through to the repository's SQL head


def _sql_options() -> tuple[Option, ...]:
    from hydra.heads.sql.head import SqlHead

    return tuple(o for o in SqlHead.attach_options if o.name in SQL_OPTIONS)


class TableauHead(CompositeHead):
    kind = "tableau"
    schemes = ("tableau+https", "tableau+http", "tableau+postgresql", "tableau+postgres")
    tables = tuple(TABLES)
    attach_options = (
        *REST_OPTIONS,
        Option("REPOSITORY", str, help="the repository's URL, postgresql://readonly:${PW}@server:"
                                       "8060/workgroup, read beside REST"),
        *_sql_options(),
    )
    #: content refs are "<site>/datasources/<name>": EXTRACT makes folders of them (the
    #: repository's schema.table parts have no '/', so they are laid out as by the SQL head)
    path_parts = True
    #: where downloads go: the workspace's folder (set by the workspace), else the system's temp
    work_folder: str | None = None

    def __init__(self, name: str, uri: str, options: Mapping[str, str] | None = None):
        super().__init__(name, uri, options)
        scheme, _, rest = uri.partition("://")
        backend = scheme.lower().split("+", 1)[1] if "+" in scheme else ""
        self.rest_spec = None
        repository = self.options.get("REPOSITORY")
        if backend in ("https", "http"):
            self.rest_spec = self._rest_spec(f"{backend}://{rest}")
        elif backend in ("postgresql", "postgres"):
            given = sorted(set(self.options) & ({o.name for o in REST_OPTIONS} | {"REPOSITORY"}))
            if given:
                raise HeadError(f"{name}: {given[0]} belongs to the REST form: ATTACH "
                                "'tableau+https://server' … (REPOSITORY 'postgresql://…')")
            repository = f"postgresql://{rest}"
        else:
            raise HeadError(f"{name}: a Tableau URI is tableau+https://server or "
                            "tableau+postgresql://user@server:8060/workgroup")
        try:
            self.repository_url = _repository_url(repository) if repository else None
        except HeadError as err:
            raise HeadError(f"{name}: {err}") from None
        self.repository = None  # the SQL head over the repository, once open (in ``inner``)
        self.rest = None  # the RestHead over the published content, once open (in ``inner``)
        self.attach_note: str | None = None  # one line the workspace shows after ATTACH
        self._repository_mode: str | None = None
        self._unreadable: dict[tuple[str, ...], str] = {}
        self._repository_rows: dict[str, list[Row]] | None = None

    def _rest_spec(self, server: str):
        from .rest import RestSpec

        opt = self.option
        if not (opt("TOKEN_NAME") or opt("USER")):
            raise HeadError(f"{self.name}: Tableau REST needs TOKEN_NAME with TOKEN_ENV (a "
                            "personal access token), or USER with PASSWORD_ENV")
        return RestSpec(server.rstrip("/"), opt("SITE", ""), opt("TOKEN_NAME"),
                        opt("TOKEN_ENV"), opt("USER"), opt("PASSWORD_ENV"),
                        opt("VERIFY", True), float(opt("TIMEOUT", 60)))

    # -- life cycle -----------------------------------------------------------------------------

    def open(self) -> None:
        from .rest_head import RestHead

        self.close()  # REFRESH opens the same head again
        if self.repository_url:
            self._open_repository()
        if self.rest_spec is not None:
            self.rest = RestHead(self.name, self.rest_spec, self.option("EXTRACTS", True),
                                 self.work_folder)
            self.rest.open()
        self.inner = [h for h in (self.repository, self.rest) if h is not None]

    def close(self) -> None:
        super().close()
        self.rest = self.repository = None

    def _open_repository(self) -> None:
        from sqlalchemy.engine import make_url

        from hydra.heads.sql.head import SqlHead

        from .repository import access_mode, connect_error, relation_access

        url = make_url(self.repository_url)
        inner = SqlHead(self.name, self.repository_url,
                        {k: v for k, v in self.options.items() if k in SQL_OPTIONS})
        try:
            inner.open()
        except HeadError as err:
            raise self._error(connect_error(err, url.host, url.port, url.username)) from None
        try:
            with inner.engine.connect() as conn:
                relations = relation_access(conn)
        except Exception as err:  # noqa: BLE001 - a driver error, made one line
            inner.close()
            raise self._error(TableauError(f"cannot list the repository's relations: "
                                           f"{self.clean(str(err))}")) from None
        self._repository_mode = access_mode(relations)
        if self._repository_mode is None:
            inner.close()
            raise self._error(TableauConnectionError(
                f"repository user '{url.username}' can read neither the repository's tables nor "
                "its _* views: the admin enables access for 'readonly' (or 'tableau')"))
        self._unreadable = {(r.schema, r.name): r.reason for r in relations if not r.readable}
        if self._unreadable:
            self.attach_note = (
                f"repository user '{url.username}' cannot read {len(self._unreadable)} of "
                f"{len(relations)} tables and views (it reads only the _* views; 'readonly' "
                "reads them all): they are listed with the reason in elements.error")
        self.repository = inner

    # -- errors -------------------------------------------------------------------------------

    def clean(self, message: str) -> str:
        """One line, the URIs' secrets masked."""
        from hydra.core.errors import one_line
        from hydra.core.secrets import mask_secrets, uri_secrets

        secrets = uri_secrets(self.uri) + uri_secrets(self.repository_url or "")
        return mask_secrets(one_line(Exception(message)), secrets)

    def _error(self, err: HeadError) -> HeadError:
        """The same error, masked, its one line starting with the source's name."""
        text = self.clean(str(err))
        prefix = f"{self.name}: "
        return type(err)(text if text.startswith(prefix) else prefix + text)

    # -- catalog --------------------------------------------------------------------------------

    def enumerate(self) -> Iterable[Element]:
        elements: list[Element] = []
        self._repository_rows = None
        if self.repository is not None:
            from .repository import inventory

            for el in self.call(self.repository, "enumerate"):
                reason = self._unreadable.get(tuple(el.parts))
                if reason:
                    el.error, el.note = reason, None
                elements.append(el)
            try:
                with self.repository.engine.connect() as conn:
                    self._repository_rows = inventory(conn, self.name, self._repository_mode)
            except Exception as err:  # noqa: BLE001 - a driver error, made one line
                raise self._error(TableauError(f"cannot read the repository's inventory: "
                                               f"{self.clean(str(err))}")) from None
        if self.rest is not None:
            elements.extend(self.call(self.rest, "enumerate"))
        return elements

    def head_tables(self) -> Mapping[str, Iterable[Mapping[str, Any]]]:
        from .merge import merge

        rest_rows = self.rest.head_tables() if self.rest is not None else None
        return merge(rest_rows, self._repository_rows) or {}

    # -- the composite's hooks: each element to the inner head that owns it ------------------

    def owner(self, element: Element) -> Head:
        """The REST head for extract tables and view data, the SQL head for the repository's
        relations (told apart by ``kind``, which the catalog keeps)."""
        if element.kind in CONTENT_KINDS:
            if self.rest is None:
                raise HeadError(f"{self.name}: Tableau content is read through REST: ATTACH "
                                "'tableau+https://server' (…, REPOSITORY '…') to read it")
            return self.rest
        if self.repository is None:
            raise HeadError(f"{self.name}: the repository is not attached: give REPOSITORY "
                            "'postgresql://readonly:${PW}@server:8060/workgroup'")
        if element.error:
            raise HeadError(f"{self.name}: {element.error}")
        return self.repository

    def call(self, inner: Head, method: str, *args: Any) -> Any:
        """``inner.method(*args)``, its error masked and starting with the source's name."""
        try:
            return getattr(inner, method)(*args)
        except HeadError as err:
            raise self._error(err) from None


def _repository_url(url: str) -> str:
    """The repository's SQLAlchemy URL: ``tableau+`` dropped, Tableau's port and database
    filled in when not written."""
    from sqlalchemy.engine import make_url

    from hydra.core.secrets import MASK

    if url.lower().startswith("tableau+"):
        url = url[len("tableau+"):]
    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - SQLAlchemy raises several kinds for a bad URL
        raise HeadError("REPOSITORY must be a URL: postgresql://readonly:${PW}@server:8060/"
                        "workgroup") from None
    if parsed.password == MASK:
        raise HeadError("the repository's password was not stored: DETACH and ATTACH again "
                        "with it written as ${ENV_VAR} in REPOSITORY")
    if parsed.get_backend_name() not in ("postgresql", "postgres"):
        raise HeadError("the Tableau repository is PostgreSQL: REPOSITORY 'postgresql://…'")
    parsed = parsed.set(port=parsed.port or REPOSITORY_PORT,
                        database=parsed.database or REPOSITORY_DATABASE)
    return parsed.render_as_string(hide_password=False)
