"""The dialect description: what the detector found, what the reader follows, what a user overrides.

Plain data on purpose: ``Dialect.to_dict()`` is JSON (it goes into the catalog and the manifest),
``Dialect.from_dict()`` reads it back, and ``dialect.override(delimiter=';', header=2)`` replaces
pieces the way the ATTACH options will (DELIMITER, HEADER n, ENCODING, SKIP n, NULLS, QUOTE, ESCAPE,
FOOTER n). Line counts are physical lines (what ``wc -l`` counts, plus a last line without a
newline); ``header`` counts records (a header cell may hold a quoted newline).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace

# DuckDB's names for the types the reader produces
BIGINT, DOUBLE, BOOLEAN, DATE, TIMESTAMP, VARCHAR = "BIGINT", "DOUBLE", "BOOLEAN", "DATE", "TIMESTAMP", "VARCHAR"
TYPES = (BIGINT, DOUBLE, BOOLEAN, DATE, TIMESTAMP, VARCHAR)


@dataclass
class ColumnSpec:
    """One column: its name, the type it is read as and how its text is parsed."""

    name: str
    type: str = VARCHAR
    thousands: str | None = None      # thousands separator removed before parsing numbers (',', '.', ' ', "'")
    decimal: str = "."                # decimal mark of DOUBLE columns
    formats: list[str] = field(default_factory=list)  # strptime formats of DATE/TIMESTAMP columns, tried in order
    note: str | None = None           # why the column is text, or how it was typed (columns.note)

    def __post_init__(self):
        if self.type not in TYPES:
            raise ValueError(f"unknown column type {self.type!r} (one of {', '.join(TYPES)})")


@dataclass
class Dialect:
    """How to read one delimited file."""

    encoding: str = "utf-8"           # Python codec name: utf-8, utf-8-sig, utf-16-le, utf-16-be, cp1252, latin-1
    bom: int = 0                      # bytes of byte-order mark at the start of the file (skipped, not a line)
    fallback_encoding: str | None = None  # codec for the lines that are not valid in `encoding` (a UTF-8 file
                                      # with a few Windows-1252 lines from an old system), None to reject them
    delimiter: str = ","
    quote: str = '"'                  # '': quotes are ordinary characters
    escape: str = ""                  # '': a quote inside a quoted field is doubled (""); '\\': backslash escapes
    skip: int = 0                     # physical lines before the header (titles, banners, `sep=;`)
    header: int = 1                   # records of header (0: none, 2: a header spread over two lines)
    footer: int = 0                   # physical lines after the data (totals, "end of report")
    nulls: list[str] = field(default_factory=lambda: [""])  # field texts read as NULL (after trimming spaces)
    columns: list[ColumnSpec] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the detector saw and chose, for the user

    @property
    def width(self) -> int:
        return len(self.columns)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Dialect":
        data = dict(data)
        data["columns"] = [ColumnSpec(**c) for c in data.get("columns", [])]
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown dialect keys: {', '.join(sorted(unknown))}")
        return cls(**data)

    def override(self, **pieces) -> "Dialect":
        """A copy with some pieces replaced (None values are ignored: "not given")."""
        return replace(self, **{k: v for k, v in pieces.items() if v is not None})


# what a user may set (the future ATTACH/REFRESH options), and the dialect field each one sets
OVERRIDABLE = ("encoding", "delimiter", "quote", "escape", "skip", "header", "footer", "nulls")
