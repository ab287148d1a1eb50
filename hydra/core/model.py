"""What Hydra knows about a source's data: its elements, their columns, and figures about them.

Plain data shared by every layer: heads produce it, the catalog stores and rebuilds it, reads and
transfers consume it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass
class Column:
    """One column of an element, as the ``columns`` virtual table shows it."""

    name: str
    type: str  # the DuckDB type Hydra reads it as, e.g. 'DECIMAL(18,2)', 'VARCHAR'
    source_type: str | None = None  # the type as the source names it, e.g. 'numeric(18,2)'
    nullable: bool | None = None
    note: str | None = None  # say here when a conversion is lossy (e.g. 'money read as DECIMAL')


@dataclass
class Element:
    """One data element of a source: a table, a view, a file, a dataset, a Notes view…

    ``parts`` are the identifiers after the source name in the element's ref, so an element
    ``("public", "orders")`` of source ``crm`` has the ref ``crm.public.orders``, and a file
    ``("sub dir/cities.csv",)`` of source ``f`` has the ref ``f."sub dir/cities.csv"``.

    A reopened workspace rebuilds elements from the catalog (``elements``/``columns``), so a head
    must be able to read an element from these fields alone: keep what you need in ``path``.
    """

    parts: tuple[str, ...]
    kind: str  # 'table', 'view', 'materialized view', 'csv', 'parquet', 'json', 'dataset', …
    path: str | None = None  # the element's address in the source's own terms
    row_count: int | None = None
    row_count_exact: bool = False  # True when row_count is exact (Parquet metadata), not estimated
    size_bytes: int | None = None
    modified_at: datetime | None = None
    columns: list[Column] | None = None  # None when unknown until read
    key: list[str] | None = None  # a primary/unique key, used to split big reads and to bisect
    error: str | None = None  # the element is listed but could not be read or parsed
    note: str | None = None  # what a read may not show as the source holds it (hidden rows, columns…)

    @property
    def name(self) -> str:
        return self.parts[-1]


@dataclass
class Aggregates:
    """Figures a source computes about one element (``PROFILE``/``RECONCILE``).

    ``columns`` maps a column name to a dict with any of ``null_count``, ``distinct_count``,
    ``min_value``, ``max_value``, ``sum_value``, ``mean_value`` (min/max as text).
    """

    row_count: int
    columns: dict[str, dict[str, Any]]
    method: str  # how they were computed, e.g. 'postgresql aggregate query'
    distinct_approximate: bool = False
