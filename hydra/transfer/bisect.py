"""Bisection: when RECONCILE finds that the two ends differ, say where and by how many rows.

Both ends are asked the same questions, each computed by its own engine: per key range, the row
count and the order-independent checksum (ranges pushed down to the source as predicates). Ranges
that agree are done. A range whose rows are all at one end is counted whole (its rows are missing
at the target, or only at the target) and not split further, so a lost part of a million rows
costs no more than a lost row. Other ranges that differ are cut into ``BUCKETS`` and asked again,
down to ``LEAF_ROWS``; there, each end's (key, row hash) pairs are compared in DuckDB, which
counts every row missing, extra or changed exactly. The detail names every differing key range
(adjacent ranges merged, each cut to the first and last differing key) and the true counts.

Limits, so that a table that differs everywhere does not take forever: ``MAX_QUERIES`` range
questions per end (then the ranges that still differ are not split further, but compared row by
row as they are) and ``ROW_DIFF_ROWS`` rows compared one by one; past those, the ranges not
compared are counted from their totals at both ends, and the counts say "at least".
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from hydra.transfer.common import checksum_sql, is_integer, q, row_hash_sql

BUCKETS = 16
LEAF_ROWS = 4096  # compare rows one by one below this many rows in a range
RANGES_PER_QUERY = 64  # ranges asked about in one query (one CASE branch each)
MAX_QUERIES = 24  # range questions per end
ROW_DIFF_ROWS = 2_000_000  # (key, hash) pairs compared one by one: 16 bytes each at each end
MAX_SPANS = 20  # key ranges listed in the detail (all are counted)
MAX_ROWS_NAMED = 10
UNKEYED_ROWS = 200_000  # without a key: compare row hashes one by one up to this many rows


class KeyScale:
    """Maps a key column to whole numbers for range bisection: integers as they are, dates as
    days and timestamps as microseconds since 1970; ranges are written back in the key's type so
    that a head can push them down."""

    def __init__(self, name: str, type_: str):
        self.name, self.type = name, type_.upper()
        self.k = q(name)
        if is_integer(self.type):
            self.kind = "integer"
        elif self.type == "DATE":
            self.kind = "date"
        elif self.type.startswith("TIMESTAMP"):
            self.kind = "timestamp"
        else:
            self.kind = None

    @property
    def number(self) -> str:
        """The key as a HUGEINT (wide enough for any BIGINT key's offsets)."""
        if self.kind == "date":
            return f"(({self.k} - DATE '1970-01-01')::HUGEINT)"
        if self.kind == "timestamp":
            return f"(epoch_us({self.k})::HUGEINT)"
        return f"({self.k}::HUGEINT)"

    def literal(self, n: int) -> str:
        if self.kind == "date":
            return f"DATE '{self.show(n)}'"
        if self.kind == "timestamp":
            return f"CAST('{self.show(n)}' AS {self.type})"
        return str(n)

    def show(self, n: int) -> str:
        if self.kind == "date":
            return (dt.date(1970, 1, 1) + dt.timedelta(days=n)).isoformat()
        if self.kind == "timestamp":
            stamp = dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=n)
            return stamp.isoformat(sep=" ") + ("+00" if "TIME ZONE" in self.type or "TZ" in self.type else "")
        return str(n)

    def between(self, lo: int, hi: int) -> str:
        return f"{self.k} BETWEEN {self.literal(lo)} AND {self.literal(hi)}"

    def any_of(self, ranges) -> str:
        return " OR ".join(f"({self.between(lo, hi)})" for lo, hi in ranges)

    def span(self, lo: int, hi: int) -> str:
        return f"{self.name} {self.show(lo)}" if lo == hi else f"{self.name} {self.show(lo)}..{self.show(hi)}"


@dataclass
class Found:
    """A key range that differs, and how."""

    lo: int
    hi: int
    first: int  # the smallest and largest key that differs in it
    last: int
    missing: int = 0
    extra: int = 0
    changed: int = 0
    exact: bool = True  # False: counted from the range totals only (at least this many)
    whole: bool = False  # every row of the range is at one end only
    # runs of consecutive differing keys (no agreeing key between): (first, last, from the range's
    # first key, to its last key); None = the range is one run, first..last, from end to end
    runs: list | None = None
    samples: dict | None = None  # a few keys of each kind found by the row comparison

    def key_runs(self) -> list[tuple]:
        return self.runs if self.runs is not None else [(self.first, self.last, True, True)]


def sub_range(lo: int, hi: int, b: int) -> tuple[int, int]:
    """Bounds of bucket ``b`` of ``lo..hi`` (the inverse of ``(n - lo) * BUCKETS // width``)."""
    width = hi - lo + 1
    if width <= BUCKETS:
        return lo + b, lo + b
    return lo + -(-b * width // BUCKETS), lo + -(-(b + 1) * width // BUCKETS) - 1


def bucket_sql(scale: KeyScale, ranges) -> str:
    """One bucket number per row: range index × BUCKETS + the bucket within the range."""
    n = scale.number
    branches = []
    for i, (lo, hi) in enumerate(ranges):
        width = hi - lo + 1
        within = f"(({n} - {lo}) * {BUCKETS} // {width})" if width > BUCKETS else f"({n} - {lo})"
        branches.append(f"WHEN {n} BETWEEN {lo} AND {hi} THEN {i * BUCKETS} + {within}")
    return f"CASE {' '.join(branches)} END"


def bisect(source, target, item, columns) -> str:
    """Name the key ranges, then the rows, that differ between the two ends."""
    types = dict(columns)
    key = (item.key or [None])[0]
    if not key or key not in types:
        return unkeyed(source, target, columns,
                       "no key to bisect on (no declared key, no id column, no integer column)")
    scale = KeyScale(key, types[key])
    if scale.kind is None:
        return unkeyed(source, target, columns, f"key {key} is {types[key]}: cannot bisect by range")
    how = f"key {key} ({item.key_note or 'the element key'})"
    n = scale.number
    ends = (source, target)
    bounds = [side.query(f"min({n}), max({n}), count(*) FILTER (WHERE {scale.k} IS NULL)") for side in ends]
    notes = []
    if bounds[0][0][2] or bounds[1][0][2]:
        figures = f"count(*), {checksum_sql(columns)}"
        null_rows = [side.query(figures, f"{scale.k} IS NULL") for side in ends]
        if null_rows[0] != null_rows[1]:
            notes.append(f"rows whose {key} is NULL differ ({null_rows[0][0][0]} at the source, "
                         f"{null_rows[1][0][0]} at the target)")
    lows = [int(b[0][0]) for b in bounds if b[0][0] is not None]
    highs = [int(b[0][1]) for b in bounds if b[0][1] is not None]
    if not lows:
        return f"{how}: " + ("; ".join(notes) or "both ends are empty")
    found, leaves = explore(source, target, scale, columns, min(lows), max(highs))
    found += compare_rows(source, target, scale, leaves)
    return f"{how}: " + describe(source, target, scale, columns, found, notes)


def explore(source, target, scale: KeyScale, columns, lo: int, hi: int):
    """Ranges that differ, split level by level: (ranges counted whole, leaves to compare row by row
    as (lo, hi, rows at the source, rows at the target, smallest key, largest key))."""
    n = scale.number
    figures = f"count(*), {checksum_sql(columns)}, min({n}), max({n})"
    found: list[Found] = []
    leaves: list[tuple] = []
    pending = [(lo, hi)]
    queries = 0
    while pending:
        chunk, pending = pending[:RANGES_PER_QUERY], pending[RANGES_PER_QUERY:]
        queries += 1
        last_level = queries >= MAX_QUERIES  # out of questions: what differs now is compared as it is
        select = f"{bucket_sql(scale, chunk)} AS __hydra_bucket, {figures}"
        at = [{row[0]: row[1:] for row in side.query(select, scale.any_of(chunk), "GROUP BY __hydra_bucket")}
              for side in (source, target)]
        for b in sorted(set(at[0]) | set(at[1])):
            s, t = at[0].get(b), at[1].get(b)
            if s is not None and t is not None and s[:2] == t[:2]:
                continue
            a, z = chunk[b // BUCKETS]
            sub_lo, sub_hi = sub_range(a, z, b % BUCKETS)
            if t is None:  # every row of the range is missing at the target
                found.append(Found(sub_lo, sub_hi, int(s[2]), int(s[3]), missing=s[0], whole=True))
            elif s is None:  # every row of the range is only at the target
                found.append(Found(sub_lo, sub_hi, int(t[2]), int(t[3]), extra=t[0], whole=True))
            elif max(s[0], t[0]) <= LEAF_ROWS or sub_lo == sub_hi or last_level:
                leaves.append((sub_lo, sub_hi, s[0], t[0], min(s[2], t[2]), max(s[3], t[3])))
            else:
                pending.append((sub_lo, sub_hi))
    return found, leaves


def compare_rows(source, target, scale: KeyScale, leaves) -> list[Found]:
    """Compare the (key, row hash) pairs of each leaf at both ends; ranges past ROW_DIFF_ROWS
    are counted from their totals only."""
    import duckdb

    found, budget, compared = [], ROW_DIFF_ROWS, []
    for lo, hi, s_rows, t_rows, first, last in sorted(leaves):
        rows = max(s_rows, t_rows)
        if rows <= budget:
            budget -= rows
            compared.append((lo, hi))
        else:
            found.append(Found(lo, hi, first, last, missing=max(s_rows - t_rows, 0),
                               extra=max(t_rows - s_rows, 0), exact=False))
    con = duckdb.connect()
    try:
        for start in range(0, len(compared), RANGES_PER_QUERY):
            chunk = compared[start:start + RANGES_PER_QUERY]
            pairs = f"{scale.number}::HUGEINT AS n, {row_hash_sql(source.columns)} AS h"
            con.register("__src", source.arrow(pairs, scale.any_of(chunk)))
            con.register("__tgt", target.arrow(pairs, scale.any_of(chunk)))
            found += _row_diff(con, chunk)
            con.unregister("__src")
            con.unregister("__tgt")
    finally:
        con.close()
    return found


def _row_diff(con, chunk) -> list[Found]:
    """Per range of ``chunk``: rows only at the source (missing) and only at the target (extra),
    by (key, row hash) — a key with both is a changed row — and the runs of differing keys."""
    leaves = ", ".join(f"({i}, {lo}::HUGEINT, {hi}::HUGEINT)" for i, (lo, hi) in enumerate(chunk))
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE __keys AS
        WITH s AS (SELECT n, h, count(*) AS c FROM __src GROUP BY n, h),
             t AS (SELECT n, h, count(*) AS c FROM __tgt GROUP BY n, h),
             d AS (SELECT coalesce(s.n, t.n) AS n, coalesce(s.c, 0) - coalesce(t.c, 0) AS diff
                   FROM s FULL JOIN t ON s.n = t.n AND s.h = t.h),
             k AS (SELECT n, sum(greatest(diff, 0)) AS missing, sum(greatest(-diff, 0)) AS extra
                   FROM d GROUP BY n),
             leaves(i, lo, hi) AS (VALUES {leaves})
        SELECT leaves.i, k.n, k.missing, k.extra, row_number() OVER (PARTITION BY leaves.i ORDER BY k.n) AS pos,
               count(*) OVER (PARTITION BY leaves.i) AS total
        FROM k JOIN leaves ON k.n BETWEEN leaves.lo AND leaves.hi""")
    totals = con.execute("""
        SELECT i, min(n), max(n), sum(missing) FILTER (WHERE extra = 0), sum(extra) FILTER (WHERE missing = 0),
               count(*) FILTER (WHERE missing > 0 AND extra > 0)
        FROM __keys WHERE missing > 0 OR extra > 0 GROUP BY i ORDER BY i""").fetchall()
    runs: dict[int, list] = {}
    for i, first, last, from_start, to_end in con.execute("""
            SELECT i, min(n), max(n), min(pos) = 1, max(pos) = max(total) FROM (
                SELECT i, n, pos, total, pos - row_number() OVER (PARTITION BY i ORDER BY n) AS run
                FROM __keys WHERE missing > 0 OR extra > 0) GROUP BY i, run ORDER BY i, 2""").fetchall():
        runs.setdefault(i, []).append((int(first), int(last), from_start, to_end))
    samples: dict[int, dict] = {}
    for i, kind, n in con.execute(f"""
            SELECT i, kind, n FROM (
                SELECT i, n, CASE WHEN extra = 0 THEN 'missing' WHEN missing = 0 THEN 'extra' ELSE 'changed' END AS kind
                FROM __keys WHERE missing > 0 OR extra > 0)
            QUALIFY row_number() OVER (PARTITION BY i, kind ORDER BY n) <= {MAX_ROWS_NAMED}
            ORDER BY i, n""").fetchall():
        samples.setdefault(i, {}).setdefault(kind, []).append(int(n))
    con.execute("DROP TABLE __keys")
    found = []
    for i, first, last, missing, extra, changed in totals:
        lo, hi = chunk[i]
        found.append(Found(lo, hi, int(first), int(last), int(missing or 0), int(extra or 0), int(changed),
                           runs=runs[i], samples=samples.get(i, {})))
    return found


def describe(source, target, scale: KeyScale, columns, found: list[Found], notes: list[str]) -> str:
    if not found:
        return "; ".join(notes) or "counts and checksums agree on every key range"
    spans = merge(found)
    shown = ", ".join(scale.span(a, b) for a, b in spans[:MAX_SPANS])
    if len(spans) > MAX_SPANS:
        shown += f" and {len(spans) - MAX_SPANS:,} more"
    parts = [f"key ranges that differ: {shown}"]
    exact = all(f.exact for f in found)
    at_least = "" if exact else "at least "
    missing, extra, changed = (sum(getattr(f, a) for f in found) for a in ("missing", "extra", "changed"))
    named = name_rows(source, target, scale, columns, found)
    if missing:
        parts.append(f"{at_least}{missing:,} row{'s' * (missing != 1)} missing at the target: " + named["missing"])
    if extra:
        parts.append(f"{at_least}{extra:,} row{'s' * (extra != 1)} only at the target: " + named["extra"])
    if changed:
        parts.append(f"{changed:,} row{'s' * (changed != 1)} changed: {scale.name} in " + named["changed"])
    if not exact:
        rough = [f for f in found if not f.exact]
        parts.append(f"{len(rough):,} range{'s' * (len(rough) != 1)} differ throughout and were not compared "
                     f"row by row (over {ROW_DIFF_ROWS:,} rows)")
    if not (missing or extra or changed):
        parts.append("no differing rows found")
    return "; ".join(parts + notes)


def merge(found: list[Found]) -> list[tuple[int, int]]:
    """The runs of differing keys, joined across adjacent ranges when a run reaches the end of
    its range and the next one starts at the start of the next."""
    spans: list[list] = []  # [first, last, open: reaches the end of its range]
    previous_hi = None
    for f in sorted(found, key=lambda f: f.lo):
        for n, (first, last, from_start, to_end) in enumerate(f.key_runs()):
            joins = (n == 0 and spans and spans[-1][2] and from_start and previous_hi is not None
                     and f.lo == previous_hi + 1)
            if joins:
                spans[-1][1], spans[-1][2] = last, to_end
            else:
                spans.append([first, last, to_end])
        previous_hi = f.hi
    return [(first, last) for first, last, _ in spans]


def name_rows(source, target, scale: KeyScale, columns, found: list[Found]) -> dict[str, str]:
    """The first rows of each kind, in key order, as text."""
    text = "CAST(struct_pack(" + ", ".join(f"{q(c)} := {q(c)}" for c, _ in columns) + ") AS VARCHAR)"
    n = scale.number
    first_rows = f"ORDER BY 1 LIMIT {MAX_ROWS_NAMED}"
    texts: dict[str, list] = {"missing": [], "extra": []}  # rows of ranges counted whole
    keys: dict[str, list] = {"missing": [], "extra": [], "changed": []}  # keys the row comparison found
    for f in sorted(found, key=lambda f: f.lo):
        if f.whole:  # the first rows of the range, at the end that has them
            kind, side = ("missing", source) if f.missing else ("extra", target)
            if len(texts[kind]) + len(keys[kind]) < MAX_ROWS_NAMED:
                texts[kind] += [t for _, t in side.query(f"{n}, {text}", scale.between(f.lo, f.hi), first_rows)]
        else:
            for kind, found_keys in (f.samples or {}).items():
                keys[kind] += found_keys
    shown = {"changed": ", ".join(scale.show(k) for k in sorted(keys["changed"])[:MAX_ROWS_NAMED])}
    for kind, side in (("missing", source), ("extra", target)):
        rows = texts[kind]
        wanted = keys[kind][:MAX_ROWS_NAMED]
        if wanted:  # rows the comparison found, by key, at the end that has them
            within = f"{scale.k} IN ({', '.join(scale.literal(k) for k in wanted)})"  # pushed down
            rows += [t for _, t in side.query(f"{n}, {text}", within, "ORDER BY 1")]
        shown[kind] = "; ".join(_short(t) for t in rows[:MAX_ROWS_NAMED])
    return shown


def unkeyed(source, target, columns, why: str) -> str:
    """Without a usable key: compare row hashes directly when the element is small enough."""
    sizes = source.query("count(*)") + target.query("count(*)")
    if max(r[0] for r in sizes) > UNKEYED_ROWS:
        return f"{why}; too many rows to compare one by one"
    row_hash = row_hash_sql(columns)
    text = "CAST(struct_pack(" + ", ".join(f"{q(n)} := {q(n)}" for n, _ in columns) + ") AS VARCHAR)"
    src, tgt = source.query(f"{row_hash}, {text}"), target.query(f"{row_hash}, {text}")
    text_of = {h: t for h, t in src + tgt}
    missing = list((Counter(h for h, _ in src) - Counter(h for h, _ in tgt)).elements())
    extra = list((Counter(h for h, _ in tgt) - Counter(h for h, _ in src)).elements())
    parts = []
    if missing:
        parts.append(f"{len(missing):,} row{'s' * (len(missing) != 1)} missing at the target: " +
                     "; ".join(_short(text_of[h]) for h in missing[:MAX_ROWS_NAMED]))
    if extra:
        parts.append(f"{len(extra):,} row{'s' * (len(extra) != 1)} only at the target: " +
                     "; ".join(_short(text_of[h]) for h in extra[:MAX_ROWS_NAMED]))
    return f"{why}; compared row by row: " + ("; ".join(parts) or "no differing rows found")


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
