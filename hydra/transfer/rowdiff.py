"""The rows that differ between two sides, found by key-range bisection (``RECONCILE … AGAINST``).

Each side computes, per key range, its row count and the sum of its rows' hashes
(``hydra.core.digest``: the same number in PostgreSQL, MySQL/MariaDB and DuckDB) in its own
engine. Ranges that agree are done; ranges that differ are cut into ``BUCKETS`` and asked again
(up to ``RANGES_PER_QUERY`` ranges in one GROUP BY query), until a range holds at most
``LEAF_ROWS`` rows; there each side gives its (key, hash) pairs, and the keys whose hash differs
are fetched whole from both sides and compared column by column (floating-point columns within
their tolerance, so a value within it that crossed a tolerance step is no difference). Only the
leaves' pairs and the differing rows leave a database.

The first level is asked with the figures, in the same query, with as many buckets as make leaves
of a dense key at once (``first_buckets``, up to 65,536): with 100 differing rows in 1M, the
figures query is the only full scan at each side. Both sides are asked each question at the same
time (one thread each: the work is in the databases).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from hydra.core.digest import Norm, int_div, row_hash_sql, text_sql, value_sql

BUCKETS = 64  # 16 cost one more level (one more scan of the differing ranges) at 1M rows: 100 scattered
# differences leave no bucket of 16 agreeing, and a level of 64 costs the same one scan as a level of 16
MAX_FIRST_BUCKETS = 65_536
LEAF_ROWS = 256  # (key, hash) pairs read per side per differing leaf; one more level costs one more scan
RANGES_PER_QUERY = 64
FETCH_KEYS = 500  # keys in one IN (…) list
MAX_DIFFERENCES = 100_000  # rows fetched and listed; past it, the rest are counted only


@dataclass
class Pair:
    """One compared column: its name at each side and how it is normalised at each side."""

    left: str
    right: str
    left_norm: Norm
    right_norm: Norm


@dataclass
class Differences:
    missing_left: list = field(default_factory=list)  # keys only at the right
    missing_right: list = field(default_factory=list)  # keys only at the left
    changed: list = field(default_factory=list)  # (key, [left column names])
    rows: dict = field(default_factory=dict)  # key -> (left values or None, right values or None)
    null_keys: str | None = None  # rows whose key is NULL, when they differ
    counted_only: int = 0  # differing rows past MAX_DIFFERENCES, not listed
    queries: int = 0
    columns: list = field(default_factory=list)  # the left names of the values in ``rows``


def hash_sql(side, pairs: list[Pair], right: bool) -> str:
    texts = [text_sql(side.dialect, side.quote(p.right if right else p.left), p.right_norm if right else p.left_norm)
             for p in pairs]
    return row_hash_sql(side.dialect, texts)


def whole(side, pairs: list[Pair], right: bool) -> str:
    """count(*) and the sum of the row hashes, as SQL (added to the figures query)."""
    return f"COUNT(*), SUM({hash_sql(side, pairs, right)})"


def key_bounds(left, right, key: tuple[str, str], pairs: list[Pair]) -> tuple[int | None, int | None, str | None]:
    """The smallest and largest key at either side, and a note when the rows whose key is NULL differ."""
    sides = ((left, key[0], False), (right, key[1], True))
    bounds = both(sides, lambda side, k, _: side.rows(
        f"SELECT MIN({side.quote(k)}), MAX({side.quote(k)}), COUNT(*) - COUNT({side.quote(k)}) "
        f"FROM {side.table} AS t{side.where()}")[0])
    note = None
    if bounds[0][2] or bounds[1][2]:
        nulls = both(sides, lambda side, k, r: side.rows(
            f"SELECT COUNT(*), SUM({hash_sql(side, pairs, r)}) FROM {side.table} AS t"
            f"{side.where(f'{side.quote(k)} IS NULL')}")[0])
        if _norm(nulls[0]) != _norm(nulls[1]):
            note = (f"rows whose key is NULL differ ({nulls[0][0]} at the left, {nulls[1][0]} at the right): "
                    f"not compared row by row")
    lows = [int(b[0]) for b in bounds if b[0] is not None]
    highs = [int(b[1]) for b in bounds if b[1] is not None]
    return (min(lows), max(highs), note) if lows else (None, None, note)


def first_level_sql(side, key: str, lo: int, hi: int) -> str:
    """The bucket of each row in the first level of ``lo..hi`` (NULL for a NULL key): the figures
    query groups by it, so that the first level costs no scan of its own."""
    return _bucket_sql(side.dialect, side.quote(key), [(lo, hi)], first_buckets(lo, hi))


def diff(left, right, key: tuple[str, str], pairs: list[Pair], lo: int | None, hi: int | None,
         first: tuple[dict, dict] | None = None, null_note: str | None = None) -> Differences:
    """``key``: the key column's name at the left and at the right (an integer at both), whose
    values lie in ``lo..hi``; ``first``: each side's {bucket: (count, hash sum)} of the first
    level, when the figures query computed them."""
    out = Differences(null_keys=null_note)
    sides = ((left, key[0], False), (right, key[1], True))
    if lo is None:
        return out
    leaves = _explore(sides, pairs, lo, hi, out, first)
    _compare_leaves(sides, pairs, leaves, out)
    return out


def both(sides, fn) -> list:
    """``fn(side, key, is_right)`` at both sides at once (each side has its own connection)."""
    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(lambda args: fn(*args), sides))


def _ranges_sql(kq: str, ranges) -> str:
    return " OR ".join(f"({kq} BETWEEN {lo} AND {hi})" for lo, hi in ranges)


def _bucket_sql(dialect: str, kq: str, ranges, buckets: int = BUCKETS) -> str:
    """The bucket of each row: range index × BUCKETS + its bucket within the range. The key is
    widened to 64 bits first (an INTEGER key times BUCKETS would overflow past 33M); keys past
    ±1.4·10¹⁷ would overflow BIGINT in turn."""
    wide = {"postgresql": f"CAST({kq} AS bigint)", "mysql": f"CAST({kq} AS SIGNED)",
            "duckdb": f"CAST({kq} AS BIGINT)"}[dialect]
    branches = []
    for i, (lo, hi) in enumerate(ranges):
        width = hi - lo + 1
        within = int_div(dialect, f"({wide} - {lo}) * {buckets}", str(width)) if width > buckets else f"({kq} - {lo})"
        branches.append(f"WHEN {kq} BETWEEN {lo} AND {hi} THEN {i * buckets} + {within}")
    return f"CASE {' '.join(branches)} END"


def sub_range(lo: int, hi: int, b: int, buckets: int = BUCKETS) -> tuple[int, int]:
    """Bounds of bucket ``b`` of ``lo..hi`` (the inverse of ``(n - lo) * buckets // width``)."""
    width = hi - lo + 1
    if width <= buckets:
        return lo + b, lo + b
    return lo + -(-b * width // buckets), lo + -(-(b + 1) * width // buckets) - 1


def first_buckets(lo: int, hi: int) -> int:
    """The first level's fan-out: enough buckets that a dense key's buckets are leaves at once
    (``LEAF_ROWS`` rows each), so that the figures query is the only full scan. Measured on 1M
    rows, PostgreSQL against MariaDB, 100 differing rows: 64 buckets then a second level took
    two full scans per side (52 s); one level of 4,096, one scan. The groups cost nothing
    that matters (at most ``MAX_FIRST_BUCKETS`` rows of three numbers come back)."""
    return max(BUCKETS, min(MAX_FIRST_BUCKETS, -(-(hi - lo + 1) // LEAF_ROWS)))


def _explore(sides, pairs, lo: int, hi: int, out: Differences, first=None) -> list[tuple[int, int]]:
    pending, leaves = [(lo, hi)], []
    while pending:
        chunk, pending = pending[:RANGES_PER_QUERY], pending[RANGES_PER_QUERY:]
        if first is not None:  # asked with the figures
            at, first = [{b: v for b, v in level.items() if b is not None} for level in first], None
            _split(chunk, at, pending, leaves, first_buckets(lo, hi))
            continue

        def ask(side, k, is_right, chunk=chunk):
            kq = side.quote(k)
            sql = (f"SELECT {_bucket_sql(side.dialect, kq, chunk)} AS b, COUNT(*), SUM({hash_sql(side, pairs, is_right)}) "
                   f"FROM {side.table} AS t{side.where(_ranges_sql(kq, chunk))} GROUP BY 1")
            return {int(b): _norm((n, h)) for b, n, h in side.rows(sql)}

        at = both(sides, ask)
        out.queries += 2
        _split(chunk, at, pending, leaves)
    return leaves


def _split(chunk, at, pending: list, leaves: list, buckets: int = BUCKETS) -> None:
    """The buckets that differ: leaves when small enough, else ranges to ask about again."""
    for b in sorted(set(at[0]) | set(at[1])):
        s, t = at[0].get(b), at[1].get(b)
        if s == t:
            continue
        a, z = chunk[b // buckets]
        sub = sub_range(a, z, b % buckets, buckets)
        rows = max((s or (0,))[0], (t or (0,))[0])
        (leaves if rows <= LEAF_ROWS or sub[0] == sub[1] else pending).append(sub)


def _compare_leaves(sides, pairs, leaves, out: Differences) -> None:
    only_left, only_right, candidates = [], [], []
    for start in range(0, len(leaves), RANGES_PER_QUERY):
        chunk = leaves[start:start + RANGES_PER_QUERY]
        def pairs_of(side, k, is_right, chunk=chunk):
            kq = side.quote(k)
            rows = side.rows(f"SELECT {kq}, {hash_sql(side, pairs, is_right)} FROM {side.table} AS t"
                             f"{side.where(_ranges_sql(kq, chunk))}")
            side.rows_read += len(rows)
            return {int(key): int(h) for key, h in rows}

        found = both(sides, pairs_of)
        out.queries += 2
        a, b = found
        only_left += [k for k in a if k not in b]
        only_right += [k for k in b if k not in a]
        candidates += [k for k in a if k in b and a[k] != b[k]]
    listed = sorted(only_left) + sorted(only_right) + sorted(candidates)
    keep = set(listed[:MAX_DIFFERENCES])
    out.counted_only = len(listed) - len(keep)
    wanted = [sorted(keep & set(candidates) | keep & set(own)) for own in (only_left, only_right)]
    values = both([(*side, keys) for side, keys in zip(sides, wanted)],
                  lambda side, k, is_right, keys: _fetch(side, k, pairs, is_right, keys))
    out.missing_right = sorted(k for k in only_left if k in keep)
    out.missing_left = sorted(k for k in only_right if k in keep)
    for k in out.missing_right:
        out.rows[k] = (values[0].get(k), None)
    for k in out.missing_left:
        out.rows[k] = (None, values[1].get(k))
    for k in sorted(keep & set(candidates)):
        lv, rv = values[0].get(k), values[1].get(k)
        changed = [p.left for p, x, y in zip(pairs, lv, rv) if not same(p.left_norm, x, y)]
        if changed:
            out.changed.append((k, changed))
            out.rows[k] = (lv, rv)


def _fetch(side, k: str, pairs: list[Pair], is_right: bool, keys: list[int]) -> dict:
    """The rows of ``keys``, each column as its comparable value (floats as numbers, the rest as
    canonical text)."""
    kq = side.quote(k)
    exprs = []
    for p in pairs:
        name, norm = (p.right, p.right_norm) if is_right else (p.left, p.left_norm)
        column = side.quote(name)
        exprs.append(value_sql(side.dialect, column, norm) if norm.kind == "float" else
                     text_sql(side.dialect, column, norm))
    found = {}
    for start in range(0, len(keys), FETCH_KEYS):
        chunk = keys[start:start + FETCH_KEYS]
        within = f"{kq} IN ({', '.join(str(x) for x in chunk)})"
        rows = side.rows(f"SELECT {kq}, {', '.join(exprs)} FROM {side.table} AS t{side.where(within)}")
        side.rows_read += len(rows)
        found.update({int(r[0]): tuple(r[1:]) for r in rows})
    return found


def same(norm: Norm, a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if norm.kind == "float":
        return abs(float(a) - float(b)) <= norm.tolerance
    return str(a) == str(b)


def _norm(figures) -> tuple[int, int]:
    n, h = figures
    return int(n or 0), int(h or 0)
