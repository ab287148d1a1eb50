"""Reading one table through RFC_READ_TABLE (or a wider variant) as bounded Arrow record batches.

The function returns a whole answer at once, in no particular order, in rows of at most 512
characters (reference/sap/RFC_READ_TABLE.md). So:
- **field groups**: the selected fields are split into groups that fit in a row, each with the
  key fields, one call a group; the groups are stitched by key — sorted by key and checked to hold
  the same keys — never by position;
- **key ranges**: a table with a key is read in ranges ``low <= key < high`` written in OPTIONS.
  A probe asks for one more row than a page holds (``ROWCOUNT``), with only the key fields; when
  the range holds more, it is cut at the median of the keys the probe returned (or, on the first
  cut with a row count, at as many quantiles as pages are expected) and each half is probed
  again. Every range is read by WHERE, so a page never depends on the order rows come in;
- **ROWSKIPS** only for a table without key, and then with a note: the order is the database's,
  so a table that changes while it is read may page unstably;
- **bounded pages**: a page holds at most ``page_bytes`` of row text (and ``max_page_rows``
  rows), whatever the table's size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterator, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from . import abap
from .catalog import ROW_WIDTHS, SapField
from .convert import FixedRows, Slot, arrow_type, convert
from .rfc import Connection, SapError, call

# 32 MiB of row text a page: at most about 100 MiB of Python strings, Arrow text and typed
# columns at once (measured with bench/bench_sap_read.py on the 3,005-character wide table)
DEFAULT_PAGE_BYTES = 32 << 20
MAX_PAGE_ROWS = 50_000
RETRIES = 3  # re-reads of a range whose field groups disagree (the table changed meanwhile)
MAX_CUT_DEPTH = 64

Bound = tuple[str, ...]  # a key as ABAP literal texts, in key-field order
_NUMBERS = ("P", "F", "b", "s", "I", "8")


@dataclass
class ReadPlan:
    table: str
    function: str
    row_width: int
    columns: list[SapField]  # the fields returned, in order
    keys: list[SapField]
    widths: dict[str, int]  # output width of every field read (keys included)
    groups: list[list[str]]  # field names of each call, keys first
    page_rows: int
    notes: list[str] = field(default_factory=list)

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([pa.field(f.name, arrow_type(f)) for f in self.columns])


def plan_read(conn: Connection, table: str, fields: Sequence[SapField], *,
              columns: Sequence[str] | None = None, function: str = "RFC_READ_TABLE",
              row_width: int | None = None, page_bytes: int = DEFAULT_PAGE_BYTES,
              max_page_rows: int = MAX_PAGE_ROWS) -> ReadPlan:
    """Which fields to read in which calls, and how many rows a page holds. ``fields``: the
    table's fields (``catalog.table_fields``); ``columns``: the ones wanted (None: every field
    the function can return)."""
    row_width = row_width or ROW_WIDTHS.get(function, 512)
    by_name = {f.name: f for f in fields}
    if columns is None:
        selected = [f for f in fields if f.supported]
    else:
        unknown = [c for c in columns if c not in by_name]
        if unknown:
            raise SapError(f"SAP table {table} has no field {', '.join(unknown)}")
        selected = [by_name[c] for c in columns]
    for f in selected:
        if not f.supported:
            raise SapError(f"SAP table {table}: {f.name} is {f.datatype}, which {function}"
                           " cannot return")
    keys = [f for f in fields if f.key]
    wanted = keys + [f for f in selected if not f.key]
    answer = call(conn, function, table=table, QUERY_TABLE=table, NO_DATA="X",
                  FIELDS=[{"FIELDNAME": f.name} for f in wanted])
    widths = {row["FIELDNAME"]: int(row["LENGTH"]) for row in answer["FIELDS"]}
    notes = []
    for f in wanted:
        if f.inttype == "X" and widths[f.name] < 2 * f.length:
            raise SapError(f"SAP table {table}: {function} cuts RAW {f.name} to"
                           f" {widths[f.name] // 2} of {f.length} bytes")
        if f.inttype == "P" and widths[f.name] < f.length + (2 if f.decimals else 1):
            notes.append(f"{f.name} may overflow its {widths[f.name]} characters in {function}:"
                         " such rows are reported as errors")
    groups = field_groups([(f.name, widths[f.name]) for f in wanted if not f.key],
                          [(f.name, widths[f.name]) for f in keys], row_width, table, function)
    if not keys:
        if len(groups) > 1:
            raise SapError(f"SAP table {table} has no key and its fields are wider than"
                           f" {row_width} characters: the field groups cannot be stitched;"
                           " select fewer columns")
        notes.append(f"{table} has no key: read with ROWSKIPS, which may page unstably while the"
                     " table changes")
    row_text = sum(widths.values()) or 1
    page_rows = max(1, min(max_page_rows, page_bytes // row_text))
    return ReadPlan(table, function, row_width, list(selected), keys, widths, groups, page_rows,
                    notes)


def field_groups(fields: Sequence[tuple[str, int]], keys: Sequence[tuple[str, int]],
                 row_width: int, table: str = "", function: str = "RFC_READ_TABLE"
                 ) -> list[list[str]]:
    """Field names for each call, in field order: the keys, then as many fields as fit in
    ``row_width`` characters (no delimiter is used: fields are cut at their offsets)."""
    key_width = sum(width for _, width in keys)
    key_names = [name for name, _ in keys]
    if key_width > row_width:
        raise SapError(f"SAP table {table}: its key is wider than {function}'s"
                       f" {row_width}-character row")
    groups: list[list[str]] = []
    current: list[str] = []
    used = key_width
    for name, width in fields:
        if key_width + width > row_width:
            raise SapError(f"SAP table {table}: {name} and the key are wider than {function}'s"
                           f" {row_width}-character row")
        if current and used + width > row_width:
            groups.append(key_names + current)
            current, used = [], key_width
        current.append(name)
        used += width
    if current or not groups:
        groups.append(key_names + current)
    return groups


# -- reading ---------------------------------------------------------------------------------
def read_table(conn: Connection, table: str, fields: Sequence[SapField], *,
               columns: Sequence[str] | None = None, where: Sequence[str] = (),
               function: str = "RFC_READ_TABLE", row_width: int | None = None,
               low: Bound | None = None, high: Bound | None = None,
               expected_rows: int | None = None, page_bytes: int = DEFAULT_PAGE_BYTES,
               max_page_rows: int = MAX_PAGE_ROWS,
               plan: ReadPlan | None = None) -> Iterator[pa.RecordBatch]:
    """The rows of ``table`` with the selected ``columns`` as record batches of at most
    ``plan.page_rows`` rows. ``where``: OPTIONS words (``abap.translate(…).words``) the rows must
    satisfy; ``low``/``high``: key bounds (``split_keys``) for one part of a parallel read;
    ``expected_rows``: the table's row count when known, to cut fewer ranges."""
    plan = plan or plan_read(conn, table, fields, columns=columns, function=function,
                             row_width=row_width, page_bytes=page_bytes,
                             max_page_rows=max_page_rows)
    if not plan.keys:
        yield from _read_by_rowskips(conn, plan, list(where))
        return
    yield from _read_by_key_ranges(conn, plan, list(where), low, high, expected_rows)


def _read_by_rowskips(conn: Connection, plan: ReadPlan,
                      where: list[str]) -> Iterator[pa.RecordBatch]:
    skip = 0
    while True:
        answer = _call_group(conn, plan, plan.groups[0], where, rowcount=plan.page_rows,
                             rowskips=skip)
        n = answer.count
        if n:
            page = f"in the page from row {skip + 1}"
            yield _typed_batch(plan, answer.raw, label=lambda i, page=page: page)
        if n < plan.page_rows:
            return
        skip += n


def _read_by_key_ranges(conn: Connection, plan: ReadPlan, where: list[str], low: Bound | None,
                        high: Bound | None, expected_rows: int | None
                        ) -> Iterator[pa.RecordBatch]:
    names = [k.name for k in plan.keys]
    one_group = len(plan.groups) == 1
    # (low, high, depth of cuts, attempts); a range popped is read or cut, in key order
    pending: list[tuple[Bound | None, Bound | None, int, int]] = [(low, high, 0, 0)]
    while pending:
        lo, hi, depth, attempt = pending.pop()
        conditions = _conditions(plan, where, lo, hi)
        # the probe: with a single group it is the read itself, else only the keys
        probe = _call_group(conn, plan, plan.groups[0] if one_group else names, conditions,
                            rowcount=plan.page_rows + 1)
        count = probe.count
        if count == 0:
            continue
        if count > plan.page_rows:
            if depth >= MAX_CUT_DEPTH:  # halving 2**64 rows takes fewer cuts: the order is off
                raise SapError(f"SAP table {plan.table}: its key ranges do not shrink when cut;"
                               " the system seems to order keys differently")
            parts = 2
            if depth == 0 and expected_rows:
                parts = max(2, min(count // 2, math.ceil(expected_rows / (0.7 * plan.page_rows))))
            cuts = _cut_points(plan, probe.raw, parts)
            if not cuts:
                raise SapError(f"SAP table {plan.table}: more than {plan.page_rows} rows share"
                               " one key; the range cannot be cut")
            bounds = [lo, *cuts, hi]
            for part in reversed(range(len(bounds) - 1)):  # popped in key order
                pending.append((bounds[part], bounds[part + 1], depth + 1, 0))
            continue
        groups = [probe] if one_group else []
        for group in plan.groups[len(groups):]:
            raw = _call_group(conn, plan, group, conditions, rowcount=plan.page_rows + 1)
            groups.append(raw)
            if raw.count > plan.page_rows:
                break  # the range grew since the probe
        stitched = _stitch(plan, groups)
        if stitched is None:
            if attempt + 1 >= RETRIES:
                raise SapError(f"SAP table {plan.table} kept changing while it was read"
                               f" (range {lo} to {hi}); try again")
            pending.append((lo, hi, depth, attempt + 1))
            continue
        yield stitched


def _conditions(plan: ReadPlan, where: list[str], lo: Bound | None,
                hi: Bound | None) -> list[str]:
    try:
        return abap.conjunction([where, abap.key_range([k.name for k in plan.keys], lo, hi)])
    except abap.Unexpressible as err:
        raise SapError(f"SAP table {plan.table}: a key value does not fit in an OPTIONS line"
                       f" ({err})") from err


@dataclass
class _Answer:
    keys: pa.Array  # each row's key text, in key order
    count: int
    raw: dict[str, pa.Array]  # each field's text, rows in key order


def _call_group(conn: Connection, plan: ReadPlan, names: Sequence[str], where: list[str],
                rowcount: int, rowskips: int = 0) -> _Answer:
    """One call: the raw text of each field in ``names``, rows sorted by key."""
    params = {"QUERY_TABLE": plan.table, "DELIMITER": "", "NO_DATA": "",
              "FIELDS": [{"FIELDNAME": n} for n in names],
              "OPTIONS": [{"TEXT": line} for line in abap.wrap(where)],
              "ROWCOUNT": rowcount}
    if rowskips:
        params["ROWSKIPS"] = rowskips
    answer = call(conn, plan.function, table=plan.table, **params)
    by_name = {f.name: f for f in [*plan.keys, *plan.columns]}
    slots = [Slot(by_name[row["FIELDNAME"]], int(row["OFFSET"]), int(row["LENGTH"]))
             for row in answer["FIELDS"]]
    key_width = sum(s.width for s in slots if s.field.key)  # the keys come first
    rows = FixedRows([row["WA"] for row in answer["DATA"]],
                     max((s.offset + s.width for s in slots), default=0), key_width)
    del answer  # the client's row dicts are the biggest thing held: let them go now
    return _Answer(rows.keys, len(rows), rows.fields(slots))


def _stitch(plan: ReadPlan, groups: list[_Answer]) -> pa.RecordBatch | None:
    """The groups joined by key into one typed batch (each is sorted by key: they must hold the
    same keys); None when they do not (the table changed between the calls)."""
    first = groups[0]
    for other in groups[1:]:
        if other.count != first.count or not other.keys.equals(first.keys):
            return None
    merged: dict[str, pa.Array] = {}
    for group in groups:
        for name, values in group.raw.items():
            merged.setdefault(name, values)
    return _typed_batch(plan, merged, label=_key_label([k.name for k in plan.keys], merged))


def _typed_batch(plan: ReadPlan, raw: dict[str, pa.Array], label) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays([convert(raw[f.name], f, label) for f in plan.columns],
                                      schema=plan.schema)


def _key_label(names: list[str], raw: dict[str, pa.Array]):
    def label(i: int) -> str:
        return ", ".join(f"{n}={raw[n][i].as_py().strip()}" for n in names)
    return label


# -- key bounds ------------------------------------------------------------------------------------
def key_literal(text: str, f: SapField) -> str:
    """A key field's raw text as the literal OPTIONS compares it with."""
    if f.inttype in _NUMBERS:
        text = text.strip()
        return "-" + text[:-1] if text.endswith("-") else text
    if f.inttype == "C":
        return text.rstrip(" ")
    return text


def _cut_points(plan: ReadPlan, probe: dict[str, pa.Array], parts: int) -> list[Bound]:
    """Up to ``parts - 1`` distinct keys at quantiles of the probe's keys, in key order (each
    becomes the low bound of the next range, so each range holds at least one probed key)."""
    label = _key_label([k.name for k in plan.keys], probe)
    # numbers sort by value; every other key type by its fixed-width text, which is the
    # database's order (a DATS 00000000 first, where a NULL date would sort last)
    typed = pa.table({f"k{i}": convert(probe[k.name], k, label) if k.inttype in _NUMBERS
                      else probe[k.name] for i, k in enumerate(plan.keys)})
    order = pc.sort_indices(typed, [(f"k{i}", "ascending") for i in range(len(plan.keys))])
    raw_keys = [probe[k.name].take(order).to_pylist() for k in plan.keys]
    count = len(raw_keys[0])
    cuts: list[Bound] = []
    for part in range(1, parts):
        row = count * part // parts
        bound = tuple(key_literal(col[row], k) for col, k in zip(raw_keys, plan.keys,
                                                                  strict=True))
        first = tuple(key_literal(col[0], k) for col, k in zip(raw_keys, plan.keys, strict=True))
        if bound != first and (not cuts or bound != cuts[-1]):
            cuts.append(bound)
    return cuts


def split_keys(conn: Connection, plan: ReadPlan, parts: int, where: Sequence[str] = (),
               sample_rows: int = 10_000) -> list[tuple[Bound | None, Bound | None]]:
    """``parts`` key ranges covering the table, cut at quantiles of a sample of keys, for a
    parallel read (each part: ``read_table(low=…, high=…)``). The ranges always cover every row;
    a biased sample only makes the parts uneven."""
    if not plan.keys or parts <= 1:
        return [(None, None)]
    names = [k.name for k in plan.keys]
    probe = _call_group(conn, plan, names, list(where), rowcount=sample_rows)
    cuts = _cut_points(plan, probe.raw, min(parts, max(1, probe.count)))
    bounds = [None, *cuts, None]
    return [(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]


def split_field(plan: ReadPlan) -> SapField | None:
    """The key field a parallel read is split on: the first that is not the client (a logon
    sees one client's rows only), when its values compare alike in ABAP and in DuckDB once
    converted (text, digits, integers; not DATS, whose 00000000 is NULL to DuckDB)."""
    for key in plan.keys:
        if key.datatype == "CLNT":
            continue
        return key if key.inttype in ("C", "N", "b", "s", "I", "8") else None
    return None


def field_cuts(conn: Connection, plan: ReadPlan, key: SapField, parts: int,
               where: Sequence[str] = (), sample_rows: int = 10_000) -> list[str]:
    """Up to ``parts - 1`` distinct values of ``key`` (as literal texts, in order) that cut a
    sample of the table's keys into parts of similar size. Ranges on one field are disjoint and
    cover every row whatever the sample; a biased sample (a system that returns rows in key order)
    only makes them uneven."""
    probe = _call_group(conn, plan, [key.name], list(where), rowcount=sample_rows)
    if not probe.count:
        return []
    raw = probe.raw[key.name]
    if key.inttype in _NUMBERS:
        label = _key_label([key.name], probe.raw)
        values = pc.unique(convert(raw, key, label)).sort().to_pylist()
        texts = [str(v) for v in values]
    else:
        texts = sorted(set(key_literal(t, key) for t in raw.to_pylist()))
    cuts = [texts[len(texts) * i // parts] for i in range(1, parts)]
    return list(dict.fromkeys(c for c in cuts if c != texts[0]))  # in order, each once
