"""Benchmark: reading a Tableau extract (.hyper) to Arrow — Hydra's reader against pantab's.

    python bench/bench_tableau_hyper.py [--rows 1000000] [--repeat 3] [--iterate]

Builds one extract (``Extract.Extract``: bigint, text with NULLs, double, numeric(18,2), date,
timestamp, bool) with the Hyper API, then reads the whole table in a fresh process per method
and run, and reports the best wall time and the peak resident memory the read added (VmHWM
after the read minus VmRSS before it, the peak reset just before; kB from /proc):

- hydra: ``hydra.heads.tableau.extracts.HyperExtract.read`` — Hyper writes an Arrow stream file
  (``COPY … WITH (FORMAT arrowstream)``) that is read back batch by batch;
- pantab: ``pantab.frame_from_hyper(…, return_type="pyarrow")``, the whole table at once (the
  baseline the issue names);
- pantab-stream: ``return_type="stream"`` with ``chunk_size=65536``;
- hyper-api (with ``--iterate``): iterating the Hyper API's result rows in Python.

Ratios are Hydra's time and memory over pantab's, measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

READ = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path

    method, path, workdir = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])

    def status(key):
        for line in open("/proc/self/status"):
            if line.startswith(key):
                return int(line.split()[1])

    import pyarrow as pa
    import pantab
    from hydra.heads.tableau import extracts
    from tableauhyperapi import Connection

    with extracts.hyper_process() as process:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        before = status("VmRSS:")
        start = time.perf_counter()
        rows = 0
        if method == "hydra":
            with extracts.HyperExtract(path, workdir, process) as hyper:
                table = hyper.table("Extract", "Extract")
                for batch in hyper.read(table):
                    rows += batch.num_rows
        elif method == "pantab":
            rows = pantab.frame_from_hyper(path, table=("Extract", "Extract"),
                                           return_type="pyarrow").num_rows
        elif method == "pantab-stream":
            stream = pantab.frame_from_hyper(path, table=("Extract", "Extract"),
                                             return_type="stream", chunk_size=65536)
            for batch in pa.RecordBatchReader.from_stream(stream):
                rows += batch.num_rows
        elif method == "hyper-api":
            with Connection(process.endpoint, str(path)) as con:
                with con.execute_query('SELECT * FROM "Extract"."Extract"') as result:
                    for _ in result:
                        rows += 1
        seconds = time.perf_counter() - start
        print(json.dumps({"rows": rows, "seconds": seconds,
                          "growth_mb": (status("VmHWM:") - before) / 1024}))
""")


def build(path: Path, rows: int) -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    from fakes.tableau.hyper import big_extract

    big_extract(path, rows)


def run(method: str, path: Path, workdir: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", READ, method, str(path), str(workdir)],
                         capture_output=True, text=True, env=env, check=False)
    if out.returncode:
        raise SystemExit(f"{method} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--iterate", action="store_true", help="also time the Hyper API's rows")
    args = parser.parse_args()
    methods = ["hydra", "pantab", "pantab-stream"] + (["hyper-api"] if args.iterate else [])
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"({os.cpu_count()} CPUs)")
    with tempfile.TemporaryDirectory(prefix="bench-tableau-") as tmp:
        path = Path(tmp) / "Extract.hyper"
        build(path, args.rows)
        print(f"extract: {args.rows:,} rows, {path.stat().st_size / 2**20:.1f} MiB .hyper")
        best: dict[str, dict] = {}
        for _ in range(args.repeat):
            for method in methods:
                result = run(method, path, Path(tmp))
                assert result["rows"] == args.rows, result
                keep = best.get(method)
                if keep is None or result["seconds"] < keep["seconds"]:
                    best[method] = {**result, "growth_mb": max(result["growth_mb"],
                                                               (keep or result)["growth_mb"])}
        print(f"{'method':<14} {'seconds':>8} {'peak +MB':>9}")
        for method in methods:
            r = best[method]
            print(f"{method:<14} {r['seconds']:>8.2f} {r['growth_mb']:>9.1f}")
        h, p = best["hydra"], best["pantab"]
        print(f"hydra / pantab: time {h['seconds'] / p['seconds']:.2f}x, "
              f"peak memory {h['growth_mb'] / p['growth_mb']:.2f}x")
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
