"""The fixed cost of a command: EXTRACT of a 1-row table against ``SELECT 1``, whole commands.

    python bench/bench_fixed_cost.py [-n 15] [--pg postgresql://postgres@127.0.0.1:5432/postgres]
                                     [--csv-rows 3000000] [--no-csv]

Part 1 times, interleaved, the medians of (each a new ``hydra ws.duckdb -c …`` process, start to exit):

* ``SELECT 1`` on the workspace;
* ``EXTRACT f."one.csv" TO …`` (a 1-row CSV through the files head);
* ``EXTRACT pg.public.one TO …`` (a 1-row PostgreSQL table through the SQL head), when ``--pg`` answers.

The goal (issue 18): each EXTRACT at most 0.3 s more than ``SELECT 1``.

Part 2 times a 3M-row CSV EXTRACT as a whole command against
``python -c "import duckdb; duckdb.sql(\\"COPY (FROM read_csv('…')) TO '….parquet'\\")"`` (goal ≤ 1.2×).

Like an installed wheel, hydra's modules get compiled bytecode (a cache in a temporary folder),
whatever ``PYTHONDONTWRITEBYTECODE`` says. The load average is printed with the figures: on a busy
machine every figure swings, the ratios less.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

GOAL_EXTRA = 0.3
GOAL_CSV = 1.2


def _run(cmd: list[str], env: dict) -> float:
    started = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.decode()[-800:]}")
    return elapsed


def _interleaved(commands: dict[str, list[str]], env: dict, runs: int, warmup: int = 1) -> dict[str, list[float]]:
    for cmd in commands.values():
        for _ in range(warmup):
            _run(cmd, env)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):  # alternate, so drift in the machine's load hits every command alike
        for name, cmd in commands.items():
            times[name].append(_run(cmd, env))
    return times


def _pg_table(url: str) -> str | None:
    """A fresh database with a 1-row table; its URL (None when PostgreSQL does not answer)."""
    try:
        import psycopg
    except ImportError:
        return None
    name = f"hydra_bench_fixed_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(url, autocommit=True) as con:
            con.execute(f'CREATE DATABASE "{name}"')
    except Exception as err:  # noqa: BLE001 - a benchmark without PostgreSQL times the rest
        print(f"PostgreSQL not used: {err}")
        return None
    db = url.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(db, autocommit=True) as con:
        con.execute("CREATE TABLE one (id int PRIMARY KEY, v text); INSERT INTO one VALUES (1, 'a')")
    return db


def _drop(url: str, db: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{db.rsplit("/", 1)[1]}" WITH (FORCE)')


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-n", "--runs", type=int, default=15)
    p.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    p.add_argument("--csv-rows", type=int, default=3_000_000)
    p.add_argument("--csv-runs", type=int, default=3)
    p.add_argument("--no-csv", action="store_true", help="skip part 2 (the 3M-row CSV)")
    p.add_argument("--dir", default=None)
    args = p.parse_args(argv)
    python = sys.executable
    hydra = os.path.join(os.path.dirname(python), "hydra")
    if not os.path.exists(hydra):
        hydra = shutil.which("hydra") or "hydra"
    work = args.dir or tempfile.mkdtemp(prefix="hydra-bench-fixed-")
    os.makedirs(work, exist_ok=True)
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    env["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), "hydra-bench-pycache")
    ws = os.path.join(work, "ws.duckdb")
    one = os.path.join(work, "one.csv")
    with open(one, "w") as f:
        f.write("id,v\n1,a\n")
    db = _pg_table(args.pg)
    status = 0
    try:
        attach = f"ATTACH '{one}' AS f;" + (f" ATTACH '{db}' AS pg;" if db else "")
        _run([hydra, ws, "-c", attach], env)
        commands = {
            "SELECT 1": [hydra, ws, "-c", "SELECT 1"],
            "EXTRACT 1-row CSV": [hydra, ws, "-c", f"EXTRACT f.\"one.csv\" TO '{work}/out-csv' (OVERWRITE true)"],
        }
        if db:
            commands["EXTRACT 1-row PostgreSQL"] = [hydra, ws, "-c",
                                                    f"EXTRACT pg.public.one TO '{work}/out-pg' (OVERWRITE true)"]
        load = os.getloadavg()[0]
        times = _interleaved(commands, env, args.runs)
        base = statistics.median(times["SELECT 1"])
        print(f"fixed cost, {args.runs} interleaved runs each (load average {load:.1f} → {os.getloadavg()[0]:.1f}):")
        for name, values in times.items():
            median = statistics.median(values)
            extra = median - base
            verdict = "" if name == "SELECT 1" else \
                f"   +{extra:.2f} s over SELECT 1 (goal ≤ {GOAL_EXTRA}) {'PASS' if extra <= GOAL_EXTRA else 'FAIL'}"
            status |= bool(verdict) and extra > GOAL_EXTRA
            print(f"  {name:<26} median {median:6.2f} s   min {min(values):6.2f} s{verdict}")
        if not args.no_csv:
            status |= _csv(args, hydra, python, ws, work, env)
    finally:
        if db:
            _drop(args.pg, db)
        if not args.dir:
            shutil.rmtree(work, ignore_errors=True)
    return int(bool(status))


def _csv(args, hydra: str, python: str, ws: str, work: str, env: dict) -> bool:
    import duckdb

    big = os.path.join(work, "big.csv")
    if not os.path.exists(big):
        con = duckdb.connect()
        con.execute(f"""COPY (SELECT i AS id, 'customer_' || (i % 100000) AS name, round(i * 1.37, 2) AS amount,
                        (i % 97) / 7.0 AS ratio, DATE '2020-01-01' + (i % 1500)::INTEGER AS day,
                        CASE WHEN i % 10 = 0 THEN NULL ELSE 'category_' || (i % 13) END AS category,
                        TIMESTAMP '2021-01-01' + INTERVAL (i) SECOND AS ts, md5(i::VARCHAR) AS digest
                        FROM range({args.csv_rows}) t(i)) TO '{big}' (HEADER)""")
        con.close()
    _run([hydra, ws, "-c", f"ATTACH '{big}' AS big"], env)
    commands = {
        "duckdb COPY (python -c)": [python, "-c", f"import duckdb; duckdb.sql(\"COPY (FROM read_csv('{big}')) "
                                                  f"TO '{work}/big.parquet'\")"],
        "hydra EXTRACT": [hydra, ws, "-c", f"EXTRACT big.\"big.csv\" TO '{work}/out-big' (OVERWRITE true)"],
    }
    load = os.getloadavg()[0]
    times = _interleaved(commands, env, args.csv_runs, warmup=0)
    medians = {name: statistics.median(v) for name, v in times.items()}
    ratio = medians["hydra EXTRACT"] / medians["duckdb COPY (python -c)"]
    print(f"{args.csv_rows:,}-row CSV to Parquet, whole commands, {args.csv_runs} interleaved runs "
          f"(load average {load:.1f} → {os.getloadavg()[0]:.1f}):")
    for name, median in medians.items():
        print(f"  {name:<26} median {median:6.2f} s   min {min(times[name]):6.2f} s")
    print(f"  ratio {ratio:.2f} (goal ≤ {GOAL_CSV}) {'PASS' if ratio <= GOAL_CSV else 'FAIL'}")
    return ratio > GOAL_CSV


if __name__ == "__main__":
    sys.exit(main())
