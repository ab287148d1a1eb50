"""RECONCILE … AGAINST …: compare any two elements Hydra can read, down to the rows that differ.

``RECONCILE crm.public.orders AGAINST wh.analytics.orders (KEY 'order_id', …)`` compares the left
element with the right one; ``RECONCILE MARKED AGAINST wh.*`` pairs the marked elements with the
right selection's by element name (the last part of the ref, without regard to case) and says
which did not pair.

Per pair, each side is asked in its own engine (``hydra.transfer.sides``: the source's SQL in one
snapshot where the head has a SQL session, DuckDB over the read stream where not), in one query:
the row count, per column the null count, min, max and (numbers) sum of the column's normalised
value (``hydra.core.digest``), and the sum of the row hashes. Then the rows: when the row hashes
differ, key-range bisection (``hydra.transfer.rowdiff``) names the rows missing at the left,
missing at the right and changed (with the columns that changed) — into ``differences`` and, with
``PARQUET '<file>'``, a Parquet file.

Options (every column named by its left name): KEY (an integer column at both sides; default:
the left element's key, a column named id, or the first integer column), COLUMNS (default: every
column both sides have, by name), MAP 'left=right, …', TOLERANCE 'column=absolute, …' (compared
as floating point within it), WHERE (DuckDB SQL, applied at both sides), PRECISION s|ms|us
(timestamps truncated to it, default us), TRIM true|false (text blanks, default true).
"""

from __future__ import annotations

import json
import time
import uuid
from decimal import Decimal, InvalidOperation

from hydra.core.digest import PRECISIONS, Norm, binary_text, value_sql
from hydra.core.errors import HydraError, StatementError, one_line
from hydra.core.statement import Result
from hydra.heads.base import parse_bool
from hydra.transfer.common import is_float, is_integer, items_for
from hydra.transfer.rowdiff import Differences, Pair, both, diff, first_level_sql, key_bounds, whole
from hydra.transfer.sides import open_side

OPTIONS = ("KEY", "COLUMNS", "MAP", "TOLERANCE", "WHERE", "PRECISION", "TRIM", "PARQUET")
MAX_KEYS_NAMED = 10
COLUMNS = ["left", "right", "status", "checks", "failed", "missing_left", "missing_right", "changed",
           "rows_read_left", "rows_read_right", "detail", "seconds"]


def parse_options(options: dict[str, str]) -> dict:
    unknown = sorted(set(options) - set(OPTIONS))
    if "AGAINST" in unknown:
        raise StatementError("RECONCILE … AGAINST <ref>: both sides are read as they are now; the option "
                             "(AGAINST NOW) is for RECONCILE of an extract")
    if unknown:
        raise StatementError(f"RECONCILE … AGAINST: unknown option {unknown[0]}; accepted: {', '.join(OPTIONS)}")
    precision = options.get("PRECISION", "us").lower()
    if precision not in PRECISIONS:
        raise StatementError(f"RECONCILE … AGAINST: PRECISION takes s, ms or us, not {options['PRECISION']}")
    tolerance = {}
    for name, value in _assignments(options.get("TOLERANCE"), "TOLERANCE").items():
        try:
            tolerance[name] = float(value)
        except ValueError:
            raise StatementError(f"RECONCILE … AGAINST: TOLERANCE {name}={value}: not a number") from None
        if not tolerance[name] > 0:
            raise StatementError(f"RECONCILE … AGAINST: TOLERANCE {name}={value}: must be more than 0")
    columns = [c.strip() for c in options["COLUMNS"].split(",") if c.strip()] if options.get("COLUMNS") else None
    return {"key": options.get("KEY"), "columns": columns, "map": _assignments(options.get("MAP"), "MAP"),
            "tolerance": tolerance, "where": options.get("WHERE") or None, "precision": precision,
            "trim": parse_bool(options.get("TRIM"), True), "parquet": options.get("PARQUET")}


def _assignments(text: str | None, option: str) -> dict[str, str]:
    out = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        name, eq, value = part.partition("=")
        if not eq or not name.strip() or not value.strip():
            raise StatementError(f"RECONCILE … AGAINST: {option} takes 'column=value, …', not {part.strip()!r}")
        out[name.strip().lower()] = value.strip()
    return out


# -- pairs --------------------------------------------------------------------------------------


def pair_items(ws, left_selection, right_selection):
    """(pairs, unpaired lines): one pair when each side selects one element, else by name."""
    lefts = items_for(ws, left_selection)
    rights = items_for(ws, right_selection, marked_filters=False)
    if not lefts:
        raise StatementError("RECONCILE … AGAINST: the left selection is empty (nothing marked?)")
    if len(lefts) == 1 and len(rights) == 1:
        return [(lefts[0], rights[0])], []
    by_name: dict[str, list] = {}
    for item in rights:
        by_name.setdefault(item.element.parts[-1].lower(), []).append(item)
    pairs, unpaired, used = [], [], set()
    for item in lefts:
        found = by_name.get(item.element.parts[-1].lower(), [])
        if len(found) == 1:
            pairs.append((item, found[0]))
            used.add(found[0].ref)
        else:
            why = "no element of that name at the right" if not found else \
                f"{len(found)} elements of that name at the right ({', '.join(f.ref for f in found[:3])})"
            unpaired.append((item.ref, None, why))
    unpaired += [(None, item.ref, "no element of that name at the left") for item in rights if item.ref not in used]
    return pairs, unpaired


# -- normalisation ------------------------------------------------------------------------------


def _family(type_: str) -> tuple[str, int]:
    t = type_.upper().strip()
    if is_integer(t):
        return "int", 0
    if t.startswith(("DECIMAL", "NUMERIC")):  # DuckDB's DECIMAL alone is DECIMAL(18,3)
        args = t.partition("(")[2].rstrip(")").split(",")
        return "decimal", int(args[1]) if len(args) == 2 and args[1].strip().isdigit() else (0 if "(" in t else 3)
    if is_float(t):
        return "float", 0
    if t.startswith("TIMESTAMP") or t == "DATETIME":
        return ("timestamptz" if "TIME ZONE" in t or t == "TIMESTAMPTZ" else "timestamp"), 0
    if t == "DATE":
        return "date", 0
    if t == "BOOLEAN":
        return "bool", 0
    if t in ("VARCHAR", "TEXT", "STRING") or t.startswith(("VARCHAR", "CHAR")):
        return "text", 0
    return "other", 0


def choose_norms(name: str, left_type: str, right_type: str, options: dict) -> tuple[Norm, Norm]:
    """How a column pair is compared, from both sides' types (DuckDB types) and the options."""
    (a, a_scale), (b, b_scale) = _family(left_type), _family(right_type)
    kinds = {a, b}
    tolerance = options["tolerance"].get(name.lower())
    if tolerance is not None and kinds <= {"int", "decimal", "float"}:
        norm = Norm("float", tolerance=tolerance)
        return norm, norm
    if kinds <= {"int", "decimal"} or (kinds <= {"int", "decimal", "float"} and "decimal" in kinds):
        norm = Norm("number", scale=max(a_scale, b_scale))
        return norm, norm
    if kinds <= {"int", "float"}:
        norm = Norm("float")
        return norm, norm
    if kinds <= {"timestamp", "timestamptz"}:
        return (Norm("timestamp", precision=options["precision"], zoned=a == "timestamptz"),
                Norm("timestamp", precision=options["precision"], zoned=b == "timestamptz"))
    if len(kinds) == 2 and "text" in kinds and kinds & {"timestamp", "timestamptz"}:
        # a file's column of timestamps read as text (mixed spellings, offsets): read as timestamps
        return (Norm("timestamp", precision=options["precision"], zoned=a != "timestamp", parse=a == "text"),
                Norm("timestamp", precision=options["precision"], zoned=b != "timestamp", parse=b == "text"))
    if kinds == {"date"}:
        return Norm("date"), Norm("date")
    if kinds <= {"bool", "int"} and "bool" in kinds:
        return Norm("bool"), Norm("bool")
    if kinds <= {"text"} or "text" in kinds:
        norm = Norm("text", trim=options["trim"])
        return norm, norm
    return Norm("other"), Norm("other")


def choose_pairs(ws, left, right, options: dict) -> tuple[list[Pair], str, list[str]]:
    """The compared columns, the key (left name) and notes on the columns left out."""
    left_columns = [c for c in ws.columns_of(left.source, left.element)
                    if left.columns is None or c.name in left.columns]
    right_columns = {c.name.lower(): c for c in ws.columns_of(right.source, right.element)}
    by_left = {c.name.lower(): c for c in left_columns}
    mapping = options["map"]
    for name in mapping:
        if name not in by_left:
            raise HydraError(f"MAP {name}=…: {left.ref} has no column {name}")
    wanted = [c.lower() for c in options["columns"]] if options["columns"] else None
    for name in wanted or ():
        if name not in by_left:
            raise HydraError(f"COLUMNS: {left.ref} has no column {name}")
    key = (options["key"] or (left.key or [None])[0] or "").lower() or None
    if options["key"] and key not in by_left:
        raise HydraError(f"KEY {options['key']}: {left.ref} has no column {options['key']}")
    pairs, notes = [], []
    for c in left_columns:
        low = c.name.lower()
        if wanted is not None and low not in wanted and low != key:
            continue
        other = right_columns.get(mapping.get(low, low).lower())
        if other is None:
            if wanted is not None or low in mapping or low == key:
                raise HydraError(f"{right.ref} has no column {mapping.get(low, c.name)} to compare with "
                                 f"{left.ref}'s {c.name}")
            notes.append(f"{c.name} (not at the right)")
            continue
        left_norm, right_norm = choose_norms(low, c.type, other.type, options)
        pairs.append(Pair(c.name, other.name, left_norm, right_norm))
    paired = {p.right.lower() for p in pairs}
    notes += [f"{c.name} (only at the right)" for n, c in right_columns.items() if n not in paired and wanted is None]
    key_pair = next((p for p in pairs if p.left.lower() == key), None)
    if key_pair is not None and not (is_integer(by_left[key].type) and is_integer(right_columns[key_pair.right.lower()].type)):
        notes.append(f"key {key_pair.left} is not an integer at both sides: rows are not bisected")
        key_pair = None
    return pairs, key_pair, notes


# -- figures ------------------------------------------------------------------------------------


def figures(side, pairs: list[Pair], right: bool, bucket: str | None = None) -> tuple[dict, dict | None]:
    """One query: the row count, the row-hash sum, per column nulls, min, max, sum; with
    ``bucket`` (SQL: the first level of the bisection), computed per bucket and combined here
    (each figure combines exactly), the buckets' (count, hash sum) returned too."""
    selects, layout = [whole(side, pairs, right)], []
    for p in pairs:
        name, norm = (p.right, p.right_norm) if right else (p.left, p.left_norm)
        v = value_sql(side.dialect, side.quote(name), norm)
        selects.append(f"COUNT({v})")
        layout.append((p.left, "values"))
        if norm.kind in ("number", "float"):
            selects += [f"MIN({v})", f"MAX({v})", f"SUM({v})"]
            layout += [(p.left, "min"), (p.left, "max"), (p.left, "sum")]
        elif norm.kind != "other":
            selects += [f"MIN({binary_text(side.dialect, v)})", f"MAX({binary_text(side.dialect, v)})"]
            layout += [(p.left, "min"), (p.left, "max")]
    if bucket is None:
        rows = [(None, *r) for r in side.rows(f"SELECT {', '.join(selects)} FROM {side.table} AS t{side.where()}")]
    else:
        rows = side.rows(f"SELECT {bucket} AS b, {', '.join(selects)} FROM {side.table} AS t{side.where()} GROUP BY 1")
    out = {"row_count": 0, "hash": 0, "columns": {p.left: {} for p in pairs}}
    levels = {}
    for b, count, hashed, *values in rows:
        out["row_count"] += int(count)
        out["hash"] += int(hashed or 0)
        if b is not None:
            levels[int(b)] = (int(count), int(hashed or 0))
        for (name, figure), value in zip(layout, values):
            value = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
            out["columns"][name][figure] = _combine(figure, out["columns"][name].get(figure), value)
    for name in out["columns"]:  # a side without rows still has each figure, NULL
        for _, figure in (x for x in layout if x[0] == name):
            out["columns"][name].setdefault(figure, 0 if figure == "values" else None)
    return out, (levels if bucket is not None else None)


def _combine(figure: str, so_far, value):
    if value is None:
        return so_far
    if so_far is None:
        return value
    if figure in ("values", "sum"):
        return so_far + value
    return min(so_far, value) if figure == "min" else max(so_far, value)


def compare_figures(pairs: list[Pair], left: dict, right: dict) -> list[dict]:
    checks = [{"check": "row_count", "source": left["row_count"], "target": right["row_count"],
               "status": "pass" if left["row_count"] == right["row_count"] else "fail"}]
    for p in pairs:
        a, b = left["columns"][p.left], right["columns"][p.left]
        how = p.left_norm.describe() if p.left_norm == p.right_norm else \
            f"{p.left_norm.describe()} (left), {p.right_norm.describe()} (right)"
        if p.left != p.right:
            how += f"; right column {p.right}"
        checks.append({"check": f"null_count({p.left})", "source": left["row_count"] - int(a["values"]),
                       "target": right["row_count"] - int(b["values"]), "detail": how})
        checks[-1]["status"] = "pass" if checks[-1]["source"] == checks[-1]["target"] else "fail"
        for figure in ("min", "max", "sum"):
            if figure not in a:
                continue
            x, y = a[figure], b[figure]
            ok = _agree(p.left_norm, figure, x, y, max(int(a["values"]), int(b["values"])))
            checks.append({"check": f"{figure}({p.left})", "source": x, "target": y, "detail": how,
                           "status": "pass" if ok else "fail"})
    return checks


def _agree(norm: Norm, figure: str, x, y, values: int) -> bool:
    if x is None or y is None:
        return x is None and y is None
    if norm.kind == "float":
        allowed = norm.tolerance * (values if figure == "sum" else 1)
        return abs(float(x) - float(y)) <= allowed + 1e-12 * max(abs(float(x)), abs(float(y)))
    if norm.kind == "number":
        try:
            return Decimal(str(x)) == Decimal(str(y))
        except InvalidOperation:
            return str(x) == str(y)
    return str(x) == str(y)


# -- one pair -----------------------------------------------------------------------------------


def reconcile_pair(ws, left, right, options: dict) -> tuple[list[dict], Differences | None, tuple, str | None]:
    """(checks, differences, rows read (left, right), key column) of one pair."""
    pairs, key_pair, notes = choose_pairs(ws, left, right, options)
    renames = {p.left: p.right for p in pairs if p.left != p.right}
    filters = [f for f in (left.filter, options["where"]) if f]
    sides = []
    try:
        sides.append(open_side(ws, left, [p.left for p in pairs], filters, {}))
        right_filters = [options["where"]] if options["where"] else []
        sides.append(open_side(ws, right, [p.right for p in pairs], right_filters, renames))
        l_side, r_side = sides
        described = "; ".join(f"{p.left}: {p.left_norm.describe()}" + (f" / {p.right_norm.describe()}"
                                                                       if p.left_norm != p.right_norm else "")
                              for p in pairs)
        checks = [{"check": "columns", "source": ", ".join(p.left for p in pairs),
                   "target": ", ".join(p.right for p in pairs), "status": "pass",
                   "detail": described + ("; left out: " + ", ".join(notes) if notes else "")},
                  {"check": "snapshot", "source": l_side.snapshot, "target": r_side.snapshot, "status": "pass",
                   "detail": f"left: {l_side.method}; right: {r_side.method}"}]
        lo = hi = null_note = None
        if key_pair is not None:
            lo, hi, null_note = key_bounds(l_side, r_side, (key_pair.left, key_pair.right), pairs)
        first = None if lo is None else (key_pair.left, key_pair.right)
        (lf, l_level), (rf, r_level) = both(
            ((l_side, first and first[0], False), (r_side, first and first[1], True)),
            lambda side, k, right: figures(side, pairs, right, k and first_level_sql(side, k, lo, hi)))
        checks += compare_figures(pairs, lf, rf)
        same_rows = (lf["row_count"], lf["hash"]) == (rf["row_count"], rf["hash"])
        differences = None
        if same_rows:
            checks.append({"check": "rows", "source": lf["hash"], "target": rf["hash"], "status": "pass",
                           "detail": "the sums of the row hashes agree"})
        elif key_pair is None:
            checks.append({"check": "rows", "source": lf["hash"], "target": rf["hash"], "status": "fail",
                           "detail": "the sums of the row hashes differ; no integer key at both sides to "
                                     "bisect on (KEY '<column>')"})
        else:
            differences = diff(l_side, r_side, (key_pair.left, key_pair.right), pairs, lo, hi,
                               None if l_level is None else (l_level, r_level), null_note)
            differences.columns = [p.left for p in pairs]
            checks.append(rows_check(lf, rf, differences, key_pair.left))
        return checks, differences, (l_side.rows_read, r_side.rows_read), key_pair.left if key_pair else None
    finally:
        for side in sides:
            side.close()


def rows_check(lf: dict, rf: dict, d: Differences, key: str) -> dict:
    parts = []
    for label, keys in (("missing at the left", d.missing_left), ("missing at the right", d.missing_right)):
        if keys:
            shown = ", ".join(str(k) for k in keys[:MAX_KEYS_NAMED]) + (" …" if len(keys) > MAX_KEYS_NAMED else "")
            parts.append(f"{len(keys):,} row{'s' * (len(keys) != 1)} {label}: {key} {shown}")
    if d.changed:
        shown = ", ".join(f"{k} ({', '.join(cols)})" for k, cols in d.changed[:MAX_KEYS_NAMED])
        parts.append(f"{len(d.changed):,} row{'s' * (len(d.changed) != 1)} changed: {key} {shown}"
                     + (" …" if len(d.changed) > MAX_KEYS_NAMED else ""))
    if d.counted_only:
        parts.append(f"{d.counted_only:,} more differing rows not listed")
    if d.null_keys:
        parts.append(d.null_keys)
    differ = bool(d.missing_left or d.missing_right or d.changed or d.counted_only or d.null_keys)
    if not differ:
        parts.append("every row agrees once normalised (hashes differed within a tolerance)")
    return {"check": "rows", "source": lf["hash"], "target": rf["hash"], "status": "fail" if differ else "pass",
            "detail": "; ".join(parts) + f" ({d.queries} range queries)"}


# -- the statement ------------------------------------------------------------------------------


def reconcile_against(ws, left_selection, right_selection, raw_options: dict[str, str]) -> Result:
    from hydra.core.clock import now

    options = parse_options(raw_options)
    pairs, unpaired = pair_items(ws, left_selection, right_selection)
    run_id = "R" + now().strftime("%Y%m%dT%H%M%S%f")[:-3] + "-" + uuid.uuid4().hex[:6]
    summary, total, failed, differing = [], 0, 0, 0
    for left, right in pairs:
        started = time.perf_counter()
        differences, read, key = None, (None, None), None
        try:
            checks, differences, read, key = reconcile_pair(ws, left, right, options)
        except HydraError as err:
            checks = [{"check": "error", "status": "fail", "detail": str(err)}]
        except Exception as err:  # noqa: BLE001 - one pair's problem is reported, the others go on
            checks = [{"check": "error", "status": "fail", "detail": one_line(err)}]
        checked_at = now()
        _record(ws, run_id, left, right, checks, differences, key, checked_at,
                differences.columns if differences else [])
        bad = [c for c in checks if c["status"] == "fail"]
        total, failed = total + len(checks), failed + len(bad)
        d = differences or Differences()
        differing += len(d.missing_left) + len(d.missing_right) + len(d.changed)
        first = next((c for c in bad if c["check"] == "rows"), bad[0] if bad else None)
        summary.append((left.ref, right.ref, "fail" if bad else "pass", len(checks), len(bad), len(d.missing_left),
                        len(d.missing_right), len(d.changed), read[0], read[1],
                        None if first is None else f"{first['check']}: " + (first.get("detail") or
                                                                           f"{first.get('source')} / {first.get('target')}"),
                        round(time.perf_counter() - started, 3)))
    for left_ref, right_ref, why in unpaired:
        if left_ref is not None:
            ws.con.execute("INSERT INTO reconciliations (run_id, source, ref, check_name, source_value, target_value, "
                           "status, detail, checked_at) VALUES (?, ?, ?, 'pairing', ?, NULL, 'fail', ?, ?)",
                           [run_id, left_ref.split(".")[0], left_ref, left_ref, why, now()])
        summary.append((left_ref, right_ref, "unpaired", 0, 1 if left_ref else 0, None, None, None, None, None, why, 0.0))
    if options["parquet"] and pairs:
        _write_parquet(ws, run_id, options["parquet"])
    lonely = [u for u in unpaired if u[0] is not None]
    elements_failed = sum(1 for s in summary if s[2] == "fail") + len(lonely)
    message = (f"RECONCILE {run_id}: {len(pairs)} pair{'s' * (len(pairs) != 1)}, {total} checks, "
               + (f"{failed} FAILED (SELECT * FROM reconciliations WHERE run_id = '{run_id}' AND status = 'fail')"
                  if failed else "all passed"))
    if differing:
        message += f"; {differing:,} rows differ (SELECT * FROM differences WHERE run_id = '{run_id}')"
    if unpaired:
        message += "; not paired: " + ", ".join(left or right for left, right, _ in unpaired)
    failure = None
    if failed or lonely:
        failure = (f"RECONCILE {run_id}: {failed} of {total} checks failed in {elements_failed} of "
                   f"{len(pairs) + len(lonely)} pairs" + (f", {len(lonely)} not paired" if lonely else ""))
    return Result(columns=COLUMNS, rows=summary, message=message, failure=failure)


def _record(ws, run_id, left, right, checks, differences, key, checked_at, names) -> None:
    ws.con.executemany(
        "INSERT INTO reconciliations (run_id, source, ref, check_name, source_value, target_value, "
        "status, detail, checked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(run_id, left.source, left.ref, c["check"], _text(c.get("source")), _text(c.get("target")), c["status"],
          c.get("detail"), checked_at) for c in checks])
    if not differences or not differences.rows:
        return
    changed = dict(differences.changed)
    rows = []
    for k, (lv, rv) in sorted(differences.rows.items()):
        kind = "missing_left" if lv is None else "missing_right" if rv is None else "changed"
        rows.append((run_id, left.ref, right.ref, key, str(k), kind, changed.get(k), _values(names, lv),
                     _values(names, rv), checked_at))
    ws.con.executemany("INSERT INTO differences (run_id, left_ref, right_ref, key_column, key_value, kind, "
                       "changed_columns, left_values, right_values, found_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       rows)


def _values(names: list[str], values) -> str | None:
    return None if values is None else json.dumps({n: None if v is None else str(v) for n, v in zip(names, values)})


def _write_parquet(ws, run_id: str, path: str) -> None:
    from hydra.core.sqltext import sql_string

    try:
        ws.con.execute(f"COPY (SELECT * FROM differences WHERE run_id = {sql_string(run_id)} ORDER BY left_ref, "
                       f"key_value) TO {sql_string(path)} (FORMAT parquet)")
    except Exception as err:  # noqa: BLE001 - the checks are recorded; the file is what failed
        raise HydraError(f"RECONCILE {run_id}: the checks are in reconciliations, but the Parquet file "
                         f"{path} could not be written: {one_line(err)}") from None


def _text(value):
    if value is None:
        return None
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
