"""What a report is made of, independent of how it is written (HTML or Markdown).

A section function (``sections.py``) reads the workspace and returns a ``Section`` of blocks —
``Text``, ``Facts``, ``Table``, ``Chart`` — and each renderer knows how to draw every block. So a
new section is one function, and both formats show it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# tones: how a line or a section should read at a glance
OK, FAIL, WARN, INFO = "ok", "fail", "warn", "info"


@dataclass(frozen=True)
class Approx:
    """A figure that is an estimate (a catalog's row count): shown as ``≈ 1,234``."""

    value: int


@dataclass
class Column:
    title: str
    # how values are shown: text, code (refs, hashes: kept whole), path (paths, SQL: may break anywhere),
    # count, bytes, seconds, time, status, percent
    kind: str = "text"


@dataclass
class Table:
    columns: list[Column]
    rows: list[tuple]
    caption: str | None = None  # a heading above the table
    collapsed: str | None = None  # when set, the table is folded under this summary line
    empty: str = "None."  # said instead of an empty table
    note: str | None = None  # a line under the table (how many rows were left out, …)


@dataclass
class Chart:
    """A horizontal bar chart: one bar per label, or (``series``) stacked bars per label."""

    key: str  # unique in the report: an id for the page and its test
    title: str
    labels: list[str]
    values: list[float] = field(default_factory=list)
    series: dict[str, list[float]] | None = None  # name -> one value per label (stacked)
    unit: str = "count"  # count or bytes: how the values are written


@dataclass
class Text:
    text: str
    tone: str = INFO


@dataclass
class Facts:
    """Label: value lines (the run's facts)."""

    items: list[tuple[str, Any]]


@dataclass
class Section:
    key: str  # the anchor of the section
    title: str
    lead: str | None = None  # one plain sentence saying what the section shows
    blocks: list = field(default_factory=list)
    tone: str = INFO


@dataclass
class Step:
    """One stage of the engagement on the first screen: found, profiled, marked, extracted, reconciled."""

    label: str
    count: int
    note: str
    tone: str = INFO


@dataclass
class Headline:
    text: str  # "7 elements, 211 checks, all passed", or the failures
    detail: str
    tone: str
    steps: list[Step]
    attention: list[Text]  # what needs a look, failures first


@dataclass
class Report:
    title: str
    subtitle: str
    headline: Headline
    sections: list[Section]
    written_at: str
    notes: list[str] = field(default_factory=list)  # shown small under the title (scope, unreachable targets)
