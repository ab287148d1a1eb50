"""The head contract: everything a connector ("head") implements, in one file.

A head is one attached source. Hydra creates it with ``Head(name, uri, options)`` (no I/O in the
constructor), calls ``open()``, then ``enumerate()`` to fill the catalog (``elements``/``columns``)
and ``head_tables()`` to fill the head's own virtual tables (``s3_objects``, …). When a statement
reads an element, Hydra asks for either a DuckDB-native scan (``scan_sql``) or an Arrow
``RecordBatchReader`` (``read``) with whatever could be pushed down.

What you must write: ``enumerate`` and ``read`` (abstract). Everything else is optional, and has
ONE convention for "not supported": the method returns None (or False for ``can_filter``), never
raises ``NotImplementedError``. A head that pushes nothing down needs no pushdown code at all.

Rules every head keeps:

* **Read-only.** A head only ever reads from its source, and uses the source's read-only switch
  where one exists.
* **Errors** leave the head as ``HeadError`` (or a subclass) with one clear line of text and no
  secrets in it. Wrap driver errors; never let a password into a message.
* **Pushdown speaks Quals.** Hydra turns the user's WHERE conjuncts into ``Qual(column, op,
  values)`` (``hydra.core.quals``) and offers each to ``can_filter``; ``read`` gets the accepted
  ones, ``split`` returns ranges as Qual lists. ``to_sql(quals, dialect)`` and ``to_arrow(quals,
  schema)`` translate them for a source that speaks SQL or reads through Arrow.
* **Pushdown is a hint.** DuckDB re-applies the whole statement, so a head may return more columns
  and more rows than asked. The one exception is ``limit``: Hydra passes it only when every
  conjunct was accepted by ``can_filter``, and a head that accepts a Qual must apply it exactly.
* **System columns are declared.** A column that is not the data of the source's table, but one
  the head adds to its rows (a Notes document's ``@unid``, a view entry's ``@position``) or an
  item the source reserves for its own bookkeeping (a Notes document's ``Form``, the table's own
  name in every row), is named in ``system_columns``. Every other column of an element is the
  source's, named and ordered as the source has it: the contract suite
  (``tests/heads/test_contract.py``) checks that rule on the columns left once the system ones
  are set aside, wherever they stand. A head whose rows are exactly the source's declares none.
* **Options are declared** (``attach_options = (Option("REGION", str, help=…), …)``): the core rejects
  unknown options and values of the wrong type, keeps ``secret`` ones out of the workspace, and
  builds ATTACH's help from them. ``self.option("REGION")`` reads one as its type.
* **Cheap imports.** Import drivers (sqlalchemy, boto3, pyarrow…) inside methods, not at module
  top: Hydra's start-up time is part of its user interface.

A new head is one package (``hydra/heads/<kind>/`` or your own), its DDL files
``tables/<table>.sql`` beside the head's module for any head tables (every column commented; the
``source`` column, which Hydra fills with the source's name, comes first), and an entry point in
the ``hydra.heads`` group (see ``pyproject.toml``). ``hydra/heads/files/head.py`` is the model head;
``hydra/heads/composite.py`` builds a head out of others (RDS → SQL).
"""

from __future__ import annotations

import sys
from abc import ABC, abstractmethod
from typing import IO, TYPE_CHECKING, Any, Callable, ClassVar, Iterable, Mapping

from hydra.core.errors import HydraError
from hydra.core.model import Aggregates, Column, Element
from hydra.core.options import Option
from hydra.core.quals import Qual

if TYPE_CHECKING:  # imported for type hints only; pyarrow is heavy at start-up
    import pyarrow as pa

__all__ = ["Aggregates", "Column", "Element", "Head", "HeadConnectionError", "HeadError", "Option", "Qual",
           "SqlSession", "parse_bool"]


#: the folder of an extracted element that holds its files (``Head.files``), apart from its parts
FILES_FOLDER = "files"


class HeadError(HydraError):
    """A head could not do what was asked (bad URI, unreachable source, unreadable element…)."""


class HeadConnectionError(HeadError):
    """The source could not be reached or refused the credentials."""


class Head(ABC):
    """Base class of every head. ``enumerate`` and ``read`` are yours to write; override the rest
    where your source can do better than the safe defaults."""

    #: the name users write in ``ATTACH … (TYPE kind)`` and that ``sources.kind`` shows
    kind: ClassVar[str] = ""
    #: URI schemes this head claims, e.g. ``("s3",)``; a plain path falls to ``claims_path``
    schemes: ClassVar[tuple[str, ...]] = ()
    #: head-specific virtual tables it fills; each one's DDL is ``tables/<table>.sql`` in the head's
    #: own package (shipped as package data, so a third-party head brings its tables), see ``table_ddl``
    tables: ClassVar[tuple[str, ...]] = ()
    #: the options ``ATTACH … (NAME value, …)`` accepts besides TYPE: the core validates them,
    #: keeps the secret ones out of the workspace, and builds ATTACH's help from them
    attach_options: ClassVar[tuple[Option, ...]] = ()
    #: the names (compared in lower case) of the columns this head adds to the source's own, or
    #: that the source reserves for its bookkeeping: see "System columns" above
    system_columns: ClassVar[frozenset[str]] = frozenset()
    #: True when an element's parts are ``/``-separated paths (files, object keys): EXTRACT then
    #: keeps their folders in the target layout; otherwise each part is one folder name
    path_parts: ClassVar[bool] = False
    #: how many small elements PROFILE and EXTRACT may read at once, whole and in batches
    #: (``hydra/transfer/small.py``): reading a small object from a store is mostly waiting on a
    #: request, and such reads can be many; 0 (the default) reads elements one per worker, as a
    #: database wants (each read is a connection and a query to it)
    small_reads: ClassVar[int] = 0

    def __init__(self, name: str, uri: str, options: Mapping[str, str] | None = None):
        """No I/O here: the workspace may create a head only to check its arguments. ``options``
        (names upper case, values as written) were checked against ``attach_options`` by the core."""
        self.name = name
        self.uri = uri  # secrets already expanded from ${ENV_VARS}; never store or print it
        self.options = {str(k).upper(): v for k, v in (options or {}).items()}

    def option(self, name: str, default: Any = None) -> Any:
        """The value of an ATTACH option as its declared type, or ``default`` when not given."""
        value = self.options.get(name)
        if value is None:
            return default
        declared = {o.name: o for o in type(self).attach_options}.get(name)
        if declared is None:
            return value
        from hydra.core.options import OptionError

        try:
            return declared.parse(value)
        except OptionError as err:
            raise HeadError(str(err)) from None

    @classmethod
    def secret_values(cls, options: Mapping[str, Any]) -> list[str]:
        """The values of the secret options among ``options`` (to mask in any message)."""
        secret = {o.name for o in cls.attach_options if o.secret}
        return [str(v) for k, v in options.items() if k.upper() in secret and v]

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

    @classmethod
    def holds(cls, uri: str, target: str) -> bool:
        """Whether writing at ``target`` (a local folder or an ``s3://`` URI, where EXTRACT would
        write) writes inside the source attached as ``uri``: EXTRACT refuses it, since Hydra never
        writes to a source. A head whose data lives on a server keeps this default."""
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

    def open(self) -> None:  # noqa: B027 - optional: a source with nothing to connect to
        """Connect and check credentials. Raise ``HeadConnectionError`` with one clear line."""

    def close(self) -> None:  # noqa: B027 - optional: a source with nothing to release
        """Release connections. Must be safe to call twice."""

    # -- catalog --------------------------------------------------------------------------------

    @abstractmethod
    def enumerate(self) -> Iterable[Element]:
        """Every element of the source, cheaply: catalog figures, no full reads. An element that
        cannot be described is still listed, with its ``error``."""

    def head_tables(self) -> Mapping[str, pa.Table]:
        """This head's own virtual tables, keyed by table name, as Arrow tables whose columns are
        named as in the table's DDL (missing ones are NULL; ``source`` is filled in by Hydra)."""
        return {}

    def schema(self, element: Element) -> list[Column] | None:
        """The columns of one element (asked when ``enumerate`` left ``columns`` as None).
        None = unknown until read."""
        return None

    # -- data -----------------------------------------------------------------------------------

    def scan_sql(self, element: Element) -> str | None:
        """A DuckDB table expression that reads the element natively (e.g. ``read_csv('…')``).

        None = read through ``read``. A native scan lets DuckDB do its own pushdown and
        parallel parsing, and is what makes file extraction as fast as DuckDB itself.
        """
        return None

    def can_filter(self, element: Element, qual: Qual) -> bool:
        """Whether ``read`` will apply this Qual exactly as DuckDB would. Default: nothing is
        pushed."""
        return False

    @abstractmethod
    def read(
        self,
        element: Element,
        columns: list[str] | None = None,
        quals: list[Qual] | None = None,
        limit: int | None = None,
    ) -> pa.RecordBatchReader:
        """Stream the element as Arrow record batches.

        ``columns``: the columns needed (None = all; [] = none, only the rows count). ``quals``:
        Quals accepted by ``can_filter`` (or returned by ``split``), to apply ANDed. ``limit``:
        given only when every conjunct of the query was accepted.
        """

    def files(self, element: Element) -> Iterable[tuple[str, Callable[[IO[bytes]], Any]]] | None:
        """Optional: files that belong with the element's rows (a Notes database's attachments),
        as (a relative path, a function that writes the file's bytes to a binary file object).
        EXTRACT writes them as they are under ``FILES_FOLDER`` in the element's folder and lists
        each in the manifest with its SHA-256; RECONCILE checks them. None = the element has none."""
        return None

    def split(self, element: Element, parts: int) -> list[list[Qual]] | None:
        """Qual lists that partition the element into about ``parts`` disjoint ranges (on
        ``element.key``), each read with ``read(…, quals=range)``, so big elements are read in
        parallel. None = do not split."""
        return None

    def aggregates(self, element: Element, columns: list[Column]) -> Aggregates | None:
        """Exact figures computed by the source engine itself. None = not supported, and Hydra
        aggregates the stream in DuckDB instead."""
        return None

    def sql_session(self, element: Element) -> SqlSession | None:
        """Optional: a read-only session on the source, in one consistent snapshot held until
        ``close``, where ``RECONCILE … AGAINST …`` runs its figures and per-key-range digests in
        the source's own SQL (``hydra.core.digest``), so that only the ranges that differ are
        read. None = not supported: DuckDB computes them over the element's read stream."""
        return None

    def count(self, element: Element) -> tuple[int, str] | None:
        """The element's exact row count taken independently of ``read``/``scan_sql`` (the
        file's own metadata, another parser), and how it was taken. RECONCILE compares the rows
        read with it, so a reader that drops rows silently is caught. None = not supported."""
        return None

    def accounting(self, element: Element, rows: int) -> dict | None:
        """Optional, for files read record by record: where every line of the element went in the
        whole read that just yielded ``rows`` rows, as ``{"lines", "loaded", "rejected", "skipped",
        …, "rejects": [{line, offset, lines, raw, reason, action}, …]}`` (loaded + rejected +
        skipped = lines, checked). Raises ``HeadError`` when the rows do not add up. None = not
        applicable. EXTRACT's manifest, PROFILE and RECONCILE report it; ``rejects`` fill the table."""
        return None

    def fall_back(self, element: Element) -> bool:
        """Optional: the native scan (``scan_sql``) of the element failed. True when the head reads
        it another way (``read``) from now on, and the caller may read it again once (a clean-looking
        CSV with a malformed row that DuckDB's strict reader refuses). Default: no other way."""
        return False

    @classmethod
    def refresh_options(cls, stored: dict[str, str], given: dict[str, str]) -> dict[str, str]:
        """The source's options after ``REFRESH name (OPTION value, …)``: by default the given ones
        replace the stored ones."""
        return {**stored, **given}

    def reads_every_row(self, element: Element) -> bool:
        """False when a read of the element may skip rows it cannot parse instead of failing
        (a lenient CSV reader): EXTRACT and PROFILE then check the rows read against ``count``."""
        return True


class SqlSession(ABC):
    """A read-only SQL session on one element (``Head.sql_session``)."""

    dialect: str  # one of hydra.core.digest.DIALECTS: the SQL the statements are written in
    table: str  # the element as a FROM item
    snapshot: str  # how the session sees one moment, e.g. "repeatable read, read only transaction"

    @abstractmethod
    def quote(self, name: str) -> str:
        """A column name quoted for the dialect."""

    @abstractmethod
    def rows(self, sql: str) -> list[tuple]:
        """Run one SELECT in the session's snapshot; raises HeadError (one line, no secrets)."""

    @abstractmethod
    def close(self) -> None:
        """End the snapshot and the session."""


def parse_bool(value: str | bool | None, default: bool = False) -> bool:
    """Read an ATTACH option as a boolean ('true', 'yes', '1', 'on')."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on", "y", "t")
