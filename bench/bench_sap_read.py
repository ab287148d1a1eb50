"""SAP read benchmark: the simulator's wide table (200 fields, 3,014 characters a row, composite
key; tests/fakes/sap/wide.py) read through hydra.heads.sap.reader as bounded Arrow batches.

    python bench/bench_sap_read.py [--rows 1000000] [--also 100000] [--materialize]

Each measurement runs in its own process, so its peak RSS is its own:
- hydra: ``read_table`` over the whole table (rows/s, peak RSS above the process after set-up);
- calls: the baseline, measured in the same run — the very RFC calls Hydra made (recorded, then
  replayed), answers dropped: the simulator's own cost, so ``hydra / calls`` is what parsing,
  stitching and typing add;
- ``--also N``: the Hydra read at another size, to show that memory does not grow with rows;
- ``--materialize``: the time to store every value of the table instead of generating it
  (needs about 3 GB of memory at 1M rows).
The simulator runs in-process (DuckDB formats every row), so absolute rates say little about a
real SAP system; the ratio and the memory figures are the point.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _system(rows: int):
    from fakes.sap import SapSystem
    from fakes.sap.pyrfc_api import module
    from fakes.sap.wide import declare_wide_table

    system = SapSystem()
    system.add_user("RFC_USER", "secret")
    started = time.perf_counter()
    declare_wide_table(system, "ZWIDE", rows=rows)
    created = time.perf_counter() - started
    sys.modules["pyrfc"] = module(system)
    return system, created


def phase_hydra(rows: int, calls_file: str | None) -> dict:
    system, created = _system(rows)
    from hydra.heads.sap import catalog, reader, rfc

    conn = rfc.connect(system.logon_params())
    fields, _ = catalog.table_fields(conn, "ZWIDE")
    counts, _ = catalog.row_counts(conn, ["ZWIDE"])
    system.calls.clear()
    before, started, cpu = _peak_mib(), time.perf_counter(), time.process_time()
    n = batches = 0
    for batch in reader.read_table(conn, "ZWIDE", fields, expected_rows=counts["ZWIDE"]):
        n += batch.num_rows
        batches += 1
    seconds = time.perf_counter() - started
    if calls_file:
        with open(calls_file, "w") as out:
            json.dump([[c.function, c.params] for c in system.calls], out)
    return {"rows": n, "batches": batches, "calls": len(system.calls), "seconds": seconds,
            "cpu_seconds": time.process_time() - cpu, "created_seconds": created,
            "peak_before_mib": before, "peak_after_mib": _peak_mib()}


def phase_calls(rows: int, calls_file: str) -> dict:
    system, _ = _system(rows)
    with open(calls_file) as f:
        calls = json.load(f)
    conn = system.connect(**system.logon_params())
    before, started, cpu = _peak_mib(), time.perf_counter(), time.process_time()
    for function, params in calls:
        conn.call(function, **params)
    return {"calls": len(calls), "seconds": time.perf_counter() - started,
            "cpu_seconds": time.process_time() - cpu, "peak_before_mib": before,
            "peak_after_mib": _peak_mib()}


def phase_materialize(rows: int) -> dict:
    from fakes.sap import SapSystem
    from fakes.sap.wide import declare_wide_table

    system = SapSystem()
    started = time.perf_counter()
    declare_wide_table(system, "ZWIDE", rows=rows, stored=True)
    return {"seconds": time.perf_counter() - started, "peak_after_mib": _peak_mib()}


def _run(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--also", type=int, default=100_000, help="a second size (0: none)")
    p.add_argument("--materialize", action="store_true")
    p.add_argument("--phase", choices=["hydra", "calls", "materialize"], help=argparse.SUPPRESS)
    p.add_argument("--calls-file", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.phase == "hydra":
        print(json.dumps(phase_hydra(args.rows, args.calls_file)))
        return 0
    if args.phase == "calls":
        print(json.dumps(phase_calls(args.rows, args.calls_file)))
        return 0
    if args.phase == "materialize":
        print(json.dumps(phase_materialize(args.rows)))
        return 0

    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        calls_file = str(Path(tmp) / "calls.json")
        hydra = _run("--phase", "hydra", "--rows", str(args.rows), "--calls-file", calls_file)
        calls = _run("--phase", "calls", "--rows", str(args.rows), "--calls-file", calls_file)
    text_gb = args.rows * 3014 / 1e9
    print(f"wide table: {args.rows:,} rows x 200 fields ({text_gb:.1f} GB of row text), "
          f"generated in {hydra['created_seconds']:.1f} s")
    print(f"hydra read: {hydra['rows']:,} rows in {hydra['batches']} batches, {hydra['calls']}"
          f" calls, {hydra['seconds']:.1f} s ({hydra['rows'] / hydra['seconds']:,.0f} rows/s,"
          f" {hydra['cpu_seconds']:.1f} s CPU)")
    print(f"baseline (the same calls, answers dropped): {calls['seconds']:.1f} s"
          f" ({calls['cpu_seconds']:.1f} s CPU)")
    print(f"ratio hydra / calls: {hydra['seconds'] / calls['seconds']:.2f} wall,"
          f" {hydra['cpu_seconds'] / calls['cpu_seconds']:.2f} CPU")
    grew = hydra["peak_after_mib"] - hydra["peak_before_mib"]
    print(f"peak RSS: hydra {hydra['peak_after_mib']:.0f} MiB (+{grew:.0f} for the read),"
          f" calls {calls['peak_after_mib']:.0f} MiB"
          f" (+{calls['peak_after_mib'] - calls['peak_before_mib']:.0f})")
    if args.also:
        other = _run("--phase", "hydra", "--rows", str(args.also))
        print(f"hydra read at {args.also:,} rows: peak RSS {other['peak_after_mib']:.0f} MiB"
              f" (+{other['peak_after_mib'] - other['peak_before_mib']:.0f} for the read),"
              f" {other['rows'] / other['seconds']:,.0f} rows/s")
    if args.materialize:
        stored = _run("--phase", "materialize", "--rows", str(args.rows))
        print(f"materializing every value instead: {stored['seconds']:.1f} s,"
              f" peak RSS {stored['peak_after_mib']:.0f} MiB")
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
