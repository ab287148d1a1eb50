"""The REST content the tableau head lists as elements, and how each is addressed.

Refs have two parts after the source, as a SQL head's schema.table: an extract table is
``tab."<site>/datasources/<name>"."<schema>.<table>"`` (or ``workbooks``), a view's summary
data ``tab."<site>/views/<workbook>"."<view>"``; ``<site>`` is the site's content URL,
``default`` for the Default site. EXTRACT lays them out as folders (``path_parts``).
``elements.path`` keeps what a read needs (a reopened workspace rebuilds elements from the
catalog alone): the site, the LUID, and for an extract the package member and the table, as
``sites/<site>/datasources/<luid>/content/<member>/<schema>/<table>``, each piece
percent-encoded.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, unquote

EXTRACT_KIND = "extract"  # elements.kind of a table inside a .hyper extract
VIEW_DATA_KIND = "view data"  # elements.kind of a view's summary data (CSV)
CONTENT_KINDS = (EXTRACT_KIND, VIEW_DATA_KIND)


def site_label(content_url: str | None) -> str:
    return content_url or "default"


@dataclass(frozen=True)
class ContentRef:
    site: str  # content URL ('' for the Default site)
    kind: str  # 'datasource', 'workbook' or 'view'
    luid: str
    member: str | None = None  # Data/Extracts/….hyper inside the package
    schema: str | None = None
    table: str | None = None

    @property
    def path(self) -> str:
        tail = ["data"] if self.kind == "view" else \
            ["content", self.member or "", self.schema or "", self.table or ""]
        return "/".join(quote(p, safe="") for p in ["sites", self.site, f"{self.kind}s",
                                                     self.luid, *tail])

    @classmethod
    def parse(cls, path: str) -> "ContentRef":
        parts = [unquote(p) for p in path.split("/")]
        if len(parts) == 5 and parts[2] == "views" and parts[4] == "data":
            return cls(parts[1], "view", parts[3])
        if len(parts) == 8 and parts[2] in ("datasources", "workbooks") and parts[4] == "content":
            return cls(parts[1], parts[2][:-1], parts[3], parts[5] or None, parts[6] or None,
                       parts[7] or None)
        raise ValueError(f"not the path of Tableau content: {path}")


class UniqueNames:
    """Names within one site and kind made unique: Tableau allows two datasources of the same
    name in different projects; the second one is told apart by its LUID's first characters."""

    def __init__(self):
        self._seen: set[tuple[str, ...]] = set()

    def __call__(self, scope: tuple[str, ...], name: str, luid: str) -> str:
        key = (*scope, name.lower())
        if key not in self._seen:
            self._seen.add(key)
            return name
        return f"{name} ({luid[:8]})"


def arrow_to_duckdb(arrow_type) -> str:
    """The DuckDB type of a column pyarrow's CSV reader inferred (a view's summary data)."""
    import pyarrow as pa

    if pa.types.is_boolean(arrow_type):
        return "BOOLEAN"
    if pa.types.is_integer(arrow_type):
        return "BIGINT"
    if pa.types.is_floating(arrow_type):
        return "DOUBLE"
    if pa.types.is_date(arrow_type):
        return "DATE"
    if pa.types.is_timestamp(arrow_type):
        return "TIMESTAMP"
    return "VARCHAR"


def read_csv(data: bytes, columns=None):
    """A view's summary data as an Arrow table: types inferred, or the catalog's ``columns``
    (``hydra.heads.base.Column``) when the element was described before."""
    import io

    import pyarrow as pa
    import pyarrow.csv as pacsv

    from .extracts import arrow_type

    convert = pacsv.ConvertOptions(strings_can_be_null=True)
    if columns:
        convert = pacsv.ConvertOptions(
            strings_can_be_null=True,
            column_types={c.name: arrow_type(c.type) for c in columns})
    if not data.strip():
        return pa.table({})
    return pacsv.read_csv(io.BytesIO(data), convert_options=convert)
