"""Attach a folder of many small CSV files, against DuckDB sniffing the same files directly.

Baseline: one DuckDB connection running ``sniff_csv`` on every file in turn (what a user would
script by hand). Hydra: ``ATTACH '<folder>' AS f`` (walk, sniff, estimate rows, write the catalog).
Both run in this one process, on the same files, after a warm-up pass over the page cache.

    python bench/bench_files_attach.py [--files 10000]
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time

import duckdb

from hydra.statements.workspace import Workspace


def make_files(folder: str, count: int) -> list[str]:
    rng = random.Random(7)
    paths = []
    for i in range(count):
        sub = os.path.join(folder, f"batch {i // 1000:02d}")
        os.makedirs(sub, exist_ok=True)
        path = os.path.join(sub, f"file_{i:05d}.csv")
        with open(path, "w") as fh:
            fh.write("id,name,amount,day\n")
            for r in range(rng.randint(5, 40)):
                fh.write(f"{r},name {r},{rng.random() * 100:.2f},2024-01-{1 + r % 28:02d}\n")
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        paths = make_files(folder, args.files)
        for p in paths:  # warm the page cache for both contenders
            with open(p, "rb") as fh:
                fh.read()

        con = duckdb.connect()
        started = time.perf_counter()
        for p in paths:
            con.execute("SELECT Columns FROM sniff_csv(?)", [p]).fetchone()
        baseline = time.perf_counter() - started

        ws = Workspace.open(":memory:")
        started = time.perf_counter()
        ws.execute(f"ATTACH '{folder}' AS f")
        hydra = time.perf_counter() - started
        listed = ws.query("SELECT count(*) FROM elements")[0][0]
        ws.close()

    print(f"files: {args.files}, listed by hydra: {listed}")
    print(f"duckdb sniff_csv, one file at a time: {baseline:.2f} s")
    print(f"hydra ATTACH:                         {hydra:.2f} s")
    print(f"ratio hydra / sniff_csv:              {hydra / baseline:.2f}x")


if __name__ == "__main__":
    main()
