"""Benchmark: EXTRACT of a Tableau extract through the tableau head, against pantab's own read.

    python bench/bench_tableau_extract.py [--rows 1000000] [--repeat 3]

Builds a .tdsx holding a ``--rows``-row .hyper (``Extract.Extract``: bigint, text with NULLs,
double, numeric(18,2), date, timestamp, bool) and serves it as a published datasource from the
REST simulation (``tests/fakes/tableau/rest.py``, real HTTP on 127.0.0.1). Each run is a fresh
process; reported are the best wall time and the peak resident memory added (VmHWM minus VmRSS
before, the peak reset first):

- hydra: ``EXTRACT tab."default/datasources/Orders"."Extract.Extract" TO '…'`` in a workspace
  attached beforehand (not timed): the download streamed to disk, the .hyper copied out of the
  zip, Hyper's Arrow stream, and the Parquet files written by DuckDB, with EXTRACT's checksum;
- pantab: ``pantab.frame_from_hyper(<the same .hyper, already on disk>, return_type="pyarrow")``,
  the whole table read into Arrow and nothing written: the baseline the issue names.

The ratio is hydra's time over pantab's, measured in the same run.
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
REF = 'tab."default/datasources/Orders"."Extract.Extract"'

RUN = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path

    method, arg, folder = sys.argv[1], sys.argv[2], Path(sys.argv[3])

    def status(key):
        for line in open("/proc/self/status"):
            if line.startswith(key):
                return int(line.split()[1])

    if method == "hydra":
        from hydra.statements.workspace import Workspace
        ws = Workspace.open(str(folder / "ws.duckdb"))
        ws.execute(f"ATTACH 'tableau+{arg}' AS tab (SITE '', TOKEN_NAME 'hydra', "
                   "TOKEN_ENV 'BENCH_TAB_PAT')")
    else:
        import pantab
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before = status("VmRSS:")
    start = time.perf_counter()
    if method == "hydra":
        rows = ws.execute(f"EXTRACT {sys.argv[4]} TO '{folder / 'out'}'").rows[0][2]
    else:
        rows = pantab.frame_from_hyper(arg, table=("Extract", "Extract"),
                                       return_type="pyarrow").num_rows
    seconds = time.perf_counter() - start
    print(json.dumps({"rows": rows, "seconds": seconds,
                      "growth_mb": (status("VmHWM:") - before) / 1024}))
""")


def run(method: str, arg: str, folder: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    folder.mkdir(parents=True)
    out = subprocess.run([sys.executable, "-c", RUN, method, arg, str(folder), REF],
                         capture_output=True, text=True, env=env, check=False)
    if out.returncode:
        raise SystemExit(f"{method} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "tests"))
    from fakes.tableau import hyper
    from fakes.tableau.estate import build_estate
    from fakes.tableau.rest import TableauServer

    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"({os.cpu_count()} CPUs)")
    estate = build_estate()
    os.environ["BENCH_TAB_PAT"] = estate.token_secret
    with tempfile.TemporaryDirectory(prefix="bench-tableau-extract-") as tmp:
        tmp = Path(tmp)
        extract = hyper.big_extract(tmp / "Extract.hyper", args.rows)
        package = hyper.package_for("Big", tmp / "Big.tdsx", extract)
        print(f"extract: {args.rows:,} rows, {extract.stat().st_size / 2**20:.1f} MiB .hyper, "
              f"{package.stat().st_size / 2**20:.1f} MiB .tdsx")
        server = TableauServer(estate, tmp / "content")
        server.start()
        server.set_content(estate.datasource("Orders").luid, package)
        best: dict[str, dict] = {}
        try:
            for n in range(args.repeat):
                for method, arg in (("hydra", server.url), ("pantab", str(extract))):
                    result = run(method, arg, tmp / f"{method}-{n}")
                    assert result["rows"] == args.rows, result
                    keep = best.get(method)
                    if keep is None or result["seconds"] < keep["seconds"]:
                        best[method] = {**result, "growth_mb": max(
                            result["growth_mb"], (keep or result)["growth_mb"])}
        finally:
            server.stop()
        print(f"{'method':<8} {'seconds':>8} {'peak +MB':>9}")
        for method, r in best.items():
            print(f"{method:<8} {r['seconds']:>8.2f} {r['growth_mb']:>9.1f}")
        h, p = best["hydra"], best["pantab"]
        print(f"hydra EXTRACT / pantab read: time {h['seconds'] / p['seconds']:.2f}x, "
              f"peak memory {h['growth_mb'] / p['growth_mb']:.2f}x")
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
