"""A head made of other heads: ``CompositeHead`` delegates, explicitly, to inner heads.

Some sources are several sources at once: an RDS instance is a SQL database found through the
AWS API (RDS → SQL); a Tableau site is a repository database, a REST API and Hyper extracts. A
composite head opens its inner heads in ``open`` (``self.inner``, in order), lists the elements of
all of them, merges their head tables with its own, and hands every per-element call to the inner
head that owns the element (``owner``). Nothing is forwarded implicitly: a method a composite
does not delegate here is the base class's "not supported".

A reopened workspace rebuilds elements from the catalog without enumerating again, so ``owner``
must tell the owner from the element alone (its ``kind``, its first part, its ``path``…). The
default suits one inner head.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Mapping

from hydra.heads.base import Aggregates, Column, Element, Head, HeadError, Qual

if TYPE_CHECKING:
    import pyarrow as pa


class CompositeHead(Head):
    """Base class of a head built from inner heads. Subclasses fill ``self.inner`` in ``open``
    and, with more than one inner head, override ``owner``."""

    def __init__(self, name: str, uri: str, options: Mapping[str, str] | None = None):
        super().__init__(name, uri, options)
        self.inner: list[Head] = []

    # -- hooks ------------------------------------------------------------------------------------

    def owner(self, element: Element) -> Head:
        """The inner head that owns (lists and reads) ``element``. Default: the one inner head."""
        if len(self.inner) != 1:
            raise HeadError(f"{self.name}: no head reads {'.'.join(element.parts)}")
        return self.inner[0]

    def clean(self, message: str) -> str:
        """An inner head's error message as this head shows it (e.g. with more secrets masked)."""
        return message

    def own_tables(self) -> Mapping[str, pa.Table]:
        """The composite's own head tables (the inner heads' are added to them)."""
        return {}

    # -- delegation -------------------------------------------------------------------------------

    def call(self, inner: Head, method: str, *args: Any) -> Any:
        """``inner.method(*args)``, its errors passed through ``clean``."""
        try:
            return getattr(inner, method)(*args)
        except HeadError as exc:
            raise type(exc)(self.clean(str(exc))) from None

    def on(self, element: Element, method: str, *args: Any) -> Any:
        """``method(element, *args)`` of the head that owns ``element``."""
        try:
            inner = self.owner(element)
        except HeadError as exc:
            raise type(exc)(self.clean(str(exc))) from None
        return self.call(inner, method, element, *args)

    def close(self) -> None:
        inner, self.inner = self.inner, []
        for head in inner:
            head.close()

    def enumerate(self) -> Iterable[Element]:
        return [element for head in self.inner for element in self.call(head, "enumerate")]

    def head_tables(self) -> Mapping[str, pa.Table]:
        tables = dict(self.own_tables())
        for head in self.inner:
            tables.update(self.call(head, "head_tables"))
        return tables

    def schema(self, element: Element) -> list[Column] | None:
        return self.on(element, "schema")

    def scan_sql(self, element: Element) -> str | None:
        return self.on(element, "scan_sql")

    def can_filter(self, element: Element, qual: Qual) -> bool:
        try:
            return self.on(element, "can_filter", qual)
        except HeadError:
            return False

    def read(self, element: Element, columns: list[str] | None = None, quals: list[Qual] | None = None,
             limit: int | None = None) -> pa.RecordBatchReader:
        return self.on(element, "read", columns, quals, limit)

    def split(self, element: Element, parts: int) -> list[list[Qual]] | None:
        return self.on(element, "split", parts)

    def aggregates(self, element: Element, columns: list[Column]) -> Aggregates | None:
        return self.on(element, "aggregates", columns)

    def count(self, element: Element) -> tuple[int, str] | None:
        return self.on(element, "count")

    def reads_every_row(self, element: Element) -> bool:
        return self.on(element, "reads_every_row")
