"""Read the simulator's wide table (fakes/sap/wide.py: 200 fields, 3,014 characters a row,
composite key) through hydra.heads.sap and compare every value with the simulator's source.

The table is read in two key ranges on two threads, as a parallel EXTRACT reads it. Run as a
script so that its peak memory is its own: it prints one JSON line with the rows read,
whether each column's checksum matched, the read time and the peak RSS before and after the
read. A column's checksum is the sum of hash(key, value) over its rows, computed by DuckDB on
the Arrow batches the reader yields and on the source table with the values normalised the way
the reader must convert them (CHAR without trailing blanks, DATS 00000000 → NULL …); a wrong,
missing, duplicated or misplaced (wrong key) value changes its column's sum.

    python tests/heads/sap/wide_check.py --rows 1000000
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(TESTS))


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _normalised(field) -> str:
    """The source value as the reader must deliver it."""
    col = f'"{field.name}"'
    kind = field.kind
    if kind == "char":
        return f"rtrim(coalesce({col}, ''), ' ')"
    if kind == "numc":
        return f"coalesce({col}, '')"
    if kind == "dats":
        return (f"CASE WHEN coalesce({col}, '00000000') IN ('00000000', '') THEN NULL"
                f" ELSE strptime({col}, '%Y%m%d')::DATE END")
    if kind == "tims":
        return f"strptime(coalesce(nullif({col}, ''), '000000'), '%H%M%S')::TIME"
    if kind == "raw":
        return f"coalesce({col}, ''::BLOB)"
    return f"coalesce({col}, CAST(0 AS {field.storage}))"


def _sums_sql(value_sqls: list[str], source: str) -> str:
    key = '"MANDT", "DOCNR", "ITEM"'
    sums = ", ".join(f"sum(hash({key}, {v})::HUGEINT)" for v in value_sqls)
    return f"SELECT count(*), {sums} FROM {source}"


def run(rows: int, page_bytes: int | None = None, check: bool = True, parts: int = 2) -> dict:
    """Read the table in ``parts`` key ranges on as many threads (as a parallel EXTRACT does)."""
    from concurrent.futures import ThreadPoolExecutor

    import duckdb
    import pyarrow as pa

    from fakes.sap import SapSystem
    from fakes.sap.pyrfc_api import module
    from fakes.sap.wide import declare_wide_table

    system = SapSystem()
    system.add_user("RFC_USER", "secret")
    declared = declare_wide_table(system, "ZWIDE", rows=rows)
    sys.modules["pyrfc"] = module(system)

    from hydra.heads.sap import catalog, reader, rfc

    conn = rfc.connect(system.logon_params())
    fields, _ = catalog.table_fields(conn, "ZWIDE")
    counts, _ = catalog.row_counts(conn, ["ZWIDE"])
    options = {"page_bytes": page_bytes} if page_bytes else {}
    plan = reader.plan_read(conn, "ZWIDE", fields, **options)
    ranges = reader.split_keys(conn, plan, parts)
    names = [f.name for f in fields]
    read_sql = _sums_sql([f'"{n}"' for n in names], "batch")

    def read_part(bounds) -> tuple[list[int], int]:
        part_conn, checker = rfc.connect(system.logon_params()), duckdb.connect()
        totals, batches = [0] * (len(names) + 1), 0
        for batch in reader.read_table(part_conn, "ZWIDE", fields, plan=plan, low=bounds[0],
                                       high=bounds[1], expected_rows=counts["ZWIDE"] // parts):
            batches += 1
            if not check:
                totals[0] += batch.num_rows
                continue
            checker.register("batch", pa.Table.from_batches([batch]))
            for i, value in enumerate(checker.execute(read_sql).fetchall()[0]):
                totals[i] += int(value or 0)
            checker.unregister("batch")
        return totals, batches

    rss_before = _peak_rss_mib()
    started = time.perf_counter()
    with ThreadPoolExecutor(len(ranges)) as pool:
        results = list(pool.map(read_part, ranges))
    seconds = time.perf_counter() - started
    totals = [sum(column) for column in zip(*(r[0] for r in results), strict=True)]
    result = {"rows": totals[0], "parts": len(ranges), "batches": sum(r[1] for r in results),
              "seconds": round(seconds, 1), "rows_per_second": round(totals[0] / seconds),
              "calls": len(system.calls), "peak_rss_before_mib": round(rss_before),
              "peak_rss_after_mib": round(_peak_rss_mib())}
    if check:
        by_name = {f.name: f for f in declared}
        source = system.sql(_sums_sql([_normalised(by_name[n]) for n in names], '"ZWIDE"')
                            ).fetchall()[0]
        result["source_rows"] = int(source[0])
        result["mismatched_columns"] = [n for n, ours, theirs
                                        in zip(names, totals[1:], source[1:], strict=True)
                                        if ours != int(theirs or 0)]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--page-bytes", type=int, default=None)
    parser.add_argument("--parts", type=int, default=2, help="key ranges read in parallel")
    parser.add_argument("--no-check", action="store_true", help="only read, for timing")
    args = parser.parse_args()
    print(json.dumps(run(args.rows, args.page_bytes, not args.no_check, args.parts)))


if __name__ == "__main__":
    main()
