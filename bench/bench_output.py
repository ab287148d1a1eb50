"""Output benchmark: piping a 2M-row, mixed-type query out of ``hydra`` as CSV and JSON Lines,
against DuckDB writing the same rows itself (``COPY (query) TO '/dev/stdout'``), in the same run;
then table mode as the shell shows it (``.maxrows 100``).

    python bench/bench_output.py [--rows 2000000] [-n 3] [--other PATH]

Every format asks DuckDB for each value's text in the query that feeds the output (issue 11),
so Python only joins strings. Reports, per format, the median wall time and the peak RSS of the
``hydra`` process, and the ratio to DuckDB's COPY. ``--other PATH`` also runs the Hydra of
another checkout (e.g. ``git worktree add /tmp/main main``) on the same query, for a before/after.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

QUERY = ("SELECT i, 'row ' || i AS label, i * 1.5 AS x, (i % 1000)::DECIMAL(10,2) / 7 AS amount, "
         "TIMESTAMP '2024-01-01' + to_seconds(i) AS at, INTERVAL (i % 400) DAY AS span, "
         "CASE WHEN i % 10 = 0 THEN NULL ELSE [i, i + 1] END AS pair FROM range({rows}) t(i)")


# runs start here, so that ``python -m hydra`` imports the installed Hydra (or --other's), not the
# one in the current folder
NEUTRAL = tempfile.gettempdir()


def run(cmd: list[str], env: dict | None = None) -> float:
    """Wall seconds of one run, its output thrown away."""
    started = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, check=True, cwd=NEUTRAL)
    return time.perf_counter() - started


def measure(label: str, cmd: list[str], repeat: int, env: dict | None = None) -> float:
    times = [run(cmd, env) for _ in range(repeat)]
    median = statistics.median(times)
    print(f"{label:<40} median {median:6.2f} s   min {min(times):6.2f} s   peak RSS {_peak_alone(cmd, env):5d} MiB")
    return median


def _peak_alone(cmd: list[str], env: dict | None) -> int:
    probe = ("import resource, subprocess, sys, os\n"
             "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)\n"
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)")
    out = subprocess.run([sys.executable, "-c", probe, *cmd], capture_output=True, text=True, env=env, check=True,
                         cwd=NEUTRAL)
    return int(out.stdout.strip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("-n", type=int, default=3, help="runs per command (median reported)")
    parser.add_argument("--other", metavar="PATH", help="a checkout of another Hydra to compare")
    args = parser.parse_args(argv)
    query = QUERY.format(rows=args.rows)
    print(f"{args.rows:,} rows of: {query}\nload average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores\n")
    hydra = [sys.executable, "-m", "hydra", ":memory:"]
    for fmt, copy_format in (("csv", "csv"), ("jsonl", "json")):
        baseline = measure(f"DuckDB COPY … (FORMAT {copy_format})", [
            sys.executable, "-c",
            f"import duckdb; duckdb.connect().execute(\"COPY ({query}) TO '/dev/stdout' (FORMAT {copy_format})\")"],
            args.n)
        ours = measure(f"hydra --format {fmt}", [*hydra, "--format", fmt, "-c", query], args.n)
        print(f"{'':<40} ratio hydra / DuckDB COPY: {ours / baseline:.2f}")
        if args.other:
            env = dict(os.environ, PYTHONPATH=os.path.abspath(args.other))
            other = measure(f"other hydra --format {fmt}", [*hydra, "--format", fmt, "-c", query], args.n, env)
            print(f"{'':<40} ratio hydra / other hydra: {ours / other:.2f}")
        print()
    # table mode as the shell shows it: every row is read, the first and last 50 are shown
    table = [*hydra, "--format", "table", "-c", ".maxrows 100", "-c", query]
    ours = measure("hydra --format table (.maxrows 100)", table, args.n)
    if args.other:
        other = measure("other hydra --format table (.maxrows 100)", table, args.n,
                        dict(os.environ, PYTHONPATH=os.path.abspath(args.other)))
        print(f"{'':<40} ratio hydra / other hydra: {ours / other:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
