"""The head contract: everything a connector ("head") implements, in one file.

A head is one attached source. Hydra creates it with ``Head(name, uri, options)`` (no I/O in the
constructor), calls ``open()``, then ``enumerate()`` to fill the catalog (``elements``/``columns``)
and ``head_tables()`` to fill the head's own virtual tables (``s3_objects``, …). When a statement
reads an element, Hydra asks for either a DuckDB-native scan (``scan_sql``) or an Arrow
``RecordBatchReader`` (``read``) with whatever could be pushed down.

Rules every head keeps:

* **Read-only.** A head only ever reads from its source, and uses the source's read-only switch
  where one exists.
* **Errors** leave the head as ``HeadError`` (or a subclass) with one clear line of text and no
  secrets in it. Wrap driver errors; never let a password into a message.
* **Pushdown is a hint.** DuckDB re-applies the whole statement, so a head may return more columns
  and more rows than asked. The one exception is ``limit``: Hydra passes it only when every
  predicate was accepted by ``can_filter``, and a head that accepts a predicate must apply it exactly.
* **Cheap imports.** Import drivers (sqlalchemy, boto3, pyarrow…) inside methods, not at module
  top: Hydra's start-up time is part of its user interface.

A new head is one module plus its DDL files under ``virtual_tables/`` for any head tables, and an
entry point in the ``hydra.heads`` group (see ``pyproject.toml``). ``hydra/heads/files.py`` is the
model head.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, ClassVar, Iterable, Mapping

from hydra.core.errors import HydraError
from hydra.core.model import Aggregates, Column, Element  # noqa: F401 - part of the contract a head reads

if TYPE_CHECKING:  # imported for type hints only; pyarrow and sqlglot are heavy at start-up
    import pyarrow as pa
    from sqlglot import exp


class HeadError(HydraError):
    """A head could not do what was asked (bad URI, unreachable source, unreadable element…)."""


class HeadConnectionError(HeadError):
    """The source could not be reached or refused the credentials."""


class Head:
    """Base class of every head. Override what your source can do; the rest has safe defaults."""

    #: the name users write in ``ATTACH … (TYPE kind)`` and that ``sources.kind`` shows
    kind: ClassVar[str] = ""
    #: URI schemes this head claims, e.g. ``("s3",)``; a plain path falls to ``claims_path``
    schemes: ClassVar[tuple[str, ...]] = ()
    #: head-specific virtual tables it fills; each one's DDL is ``tables/<table>.sql`` in the head's
    #: own package (shipped as package data, so a third-party head brings its tables), see ``table_ddl``
    tables: ClassVar[tuple[str, ...]] = ()
    #: the sqlglot dialect that predicates are transpiled to, when the head accepts them
    dialect: ClassVar[str | None] = None
    #: option names accepted in ``ATTACH … (OPTION value, …)`` (upper case), besides TYPE
    options_allowed: ClassVar[tuple[str, ...]] = ()
    #: option names whose values are secrets: never stored, never shown
    secret_options: ClassVar[tuple[str, ...]] = ()
    #: True when an element's parts are ``/``-separated paths (files, object keys): EXTRACT then
    #: keeps their folders in the target layout; otherwise each part is one folder name
    path_parts: ClassVar[bool] = False
    #: how many small elements PROFILE and EXTRACT may read at once, whole and in batches
    #: (``hydra/transfer/small.py``): reading a small object from a store is mostly waiting on a
    #: request, and such reads can be many; 0 (the default) reads elements one per worker, as a
    #: database wants (each read is a connection and a query to it)
    small_reads: ClassVar[int] = 0

    def __init__(self, name: str, uri: str, options: Mapping[str, str] | None = None):
        """No I/O here: the workspace may create a head only to check its arguments."""
        self.name = name
        self.uri = uri  # secrets already expanded from ${ENV_VARS}; never store or print it
        self.options = dict(options or {})

    # -- choosing a head ------------------------------------------------------------------------

    @classmethod
    def claims_path(cls, uri: str) -> bool:
        """True when a scheme-less ``uri`` (a local path) belongs to this head."""
        return False

    @classmethod
    def claims_scheme(cls, scheme: str) -> bool:
        """True when this head serves a URI scheme not listed in ``schemes`` (asked only when no
        head lists it), e.g. any installed SQLAlchemy dialect."""
        return False

    @staticmethod
    def redact(uri: str) -> str:
        """The URI as it may be stored and shown: passwords masked. Override for odd URI shapes."""
        from hydra.core.secrets import redact_uri

        return redact_uri(uri)

    @classmethod
    def table_ddl(cls, table: str) -> str:
        """The DDL of one of this head's tables: ``tables/<table>.sql`` beside the head's module
        (read with importlib.resources, so it works from a wheel or a zip)."""
        from importlib import resources

        package = sys.modules[cls.__module__].__package__ or cls.__module__
        return (resources.files(package) / "tables" / f"{table}.sql").read_text(encoding="utf-8")

    # -- life cycle -----------------------------------------------------------------------------

    def open(self) -> None:
        """Connect and check credentials. Raise ``HeadConnectionError`` with one clear line."""

    def close(self) -> None:
        """Release connections. Must be safe to call twice."""

    # -- catalog --------------------------------------------------------------------------------

    def enumerate(self) -> Iterable[Element]:
        """Every element of the source, cheaply: catalog figures, no full reads."""
        raise NotImplementedError

    def head_tables(self) -> Mapping[str, Iterable[Mapping[str, Any]]]:
        """Rows for this head's own virtual tables, keyed by table name (``source`` is filled in)."""
        return {}

    def schema(self, element: Element) -> list[Column]:
        """The columns of one element (called when ``enumerate`` left ``columns`` as None)."""
        raise HeadError(f"{self.kind} head cannot describe {element.path or element.name}")

    # -- data -----------------------------------------------------------------------------------

    def scan_sql(self, element: Element) -> str | None:
        """A DuckDB table expression that reads the element natively (e.g. ``read_csv('…')``).

        Return None to be read through ``read``. A native scan lets DuckDB do its own pushdown and
        parallel parsing, and is what makes file extraction as fast as DuckDB itself.
        """
        return None

    def can_filter(self, element: Element, predicate: exp.Expression) -> bool:
        """Whether ``read`` will apply this predicate (a sqlglot expression in DuckDB's dialect,
        column names unqualified) exactly. Default: no predicates are pushed."""
        return False

    def read(
        self,
        element: Element,
        columns: list[str] | None = None,
        predicates: list[exp.Expression] | None = None,
        limit: int | None = None,
    ) -> pa.RecordBatchReader:
        """Stream the element as Arrow record batches.

        ``columns``: the columns needed (None = all). ``predicates``: conjuncts accepted by
        ``can_filter``. ``limit``: given only when every predicate of the query was accepted.
        """
        raise NotImplementedError

    def split(self, element: Element, parts: int) -> list[list[exp.Expression]] | None:
        """Optional: predicate lists that partition the element into ``parts`` disjoint ranges
        (on ``element.key``) so big elements can be read in parallel. None = do not split."""
        return None

    def aggregates(self, element: Element, columns: list[Column]) -> Aggregates | None:
        """Optional: exact figures computed by the source engine itself. None = not supported,
        and Hydra aggregates the stream in DuckDB instead."""
        return None

    def count(self, element: Element) -> tuple[int, str] | None:
        """Optional: the element's exact row count taken independently of ``read``/``scan_sql``
        (the file's own metadata, another parser), and how it was taken. RECONCILE compares the
        rows read with it, so a reader that drops rows silently is caught. None = not supported."""
        return None

    def reads_every_row(self, element: Element) -> bool:
        """False when a read of the element may skip rows it cannot parse instead of failing
        (a lenient CSV reader): EXTRACT and PROFILE then check the rows read against ``count``."""
        return True


def parse_bool(value: str | bool | None, default: bool = False) -> bool:
    """Read an ATTACH option as a boolean ('true', 'yes', '1', 'on')."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on", "y", "t")
