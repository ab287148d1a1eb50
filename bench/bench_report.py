"""REPORT of a big engagement: 5,000 elements, 50 of them extracted and reconciled.

The workspace is built for real: a folder of 5,000 small CSV files attached, 50 of them profiled,
marked, extracted to Parquet (so 50 element manifests and a run manifest exist) and reconciled.
Then, in this one process:

* Hydra: ``REPORT TO 'report.html'`` (and ``.md``): the whole report, charts, manifests read;
* baseline: pandas writing the same three tables (``elements``, ``transfers``, ``reconciliations``)
  as plain HTML tables (``DataFrame.to_html``) — the least a hand-made report would do.

The goal (issue 21): under 2 s and under 5 MB. Each is timed best of ``--repeat`` runs (the
first run pays matplotlib's import: it is reported apart).

    python bench/bench_report.py [--elements 5000] [--transfers 50] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time


def make_files(folder: str, count: int) -> None:
    rng = random.Random(21)
    for i in range(count):
        sub = os.path.join(folder, f"batch {i // 500:02d}")
        os.makedirs(sub, exist_ok=True)
        with open(os.path.join(sub, f"file_{i:05d}.csv"), "w") as fh:
            fh.write("id,name,amount,day\n")
            for r in range(rng.randint(5, 60)):
                fh.write(f"{r},name {r},{rng.random() * 100:.2f},2024-01-{1 + r % 28:02d}\n")


def build_workspace(folder: str, elements: int = 5000, transfers: int = 50) -> str:
    """A workspace in ``folder`` with ``elements`` CSV files attached, ``transfers`` of them
    profiled, extracted and reconciled; returns its path. Runs statements as the shell does."""
    import io

    from hydra.shell.session import Session
    from hydra.statements.workspace import Workspace

    data = os.path.join(folder, "data")
    make_files(data, elements)
    path = os.path.join(folder, "big.duckdb")
    ws = Workspace.open(path)
    session = Session(ws, fmt="csv", out=io.StringIO(), err=io.StringIO())
    chosen = ", ".join(f'f."batch {i // 500:02d}/file_{i:05d}.csv"' for i in range(0, elements, elements // transfers))
    for statement in (f"ATTACH '{data}' AS f", f"PROFILE {chosen}", f"MARK {chosen}",
                      f"EXTRACT MARKED TO '{os.path.join(folder, 'out')}'", "RECONCILE LAST"):
        session.run_text(statement, origin="bench")
    ws.close()
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--elements", type=int, default=5000)
    parser.add_argument("--transfers", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from hydra.statements.workspace import Workspace

    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        path = build_workspace(folder, args.elements, args.transfers)
        print(f"workspace: {args.elements:,} elements, {args.transfers} extracted and reconciled "
              f"(built in {time.perf_counter() - started:.0f} s)")
        ws = Workspace.open(path, read_only=True)

        def hydra(name: str) -> float:
            target = os.path.join(folder, name)
            started = time.perf_counter()
            ws.execute(f"REPORT TO '{target}'")
            return time.perf_counter() - started

        def baseline() -> float:
            started = time.perf_counter()
            with open(os.path.join(folder, "baseline.html"), "w") as fh:
                for table in ("elements", "transfers", "reconciliations"):
                    fh.write(ws.con.execute(f"SELECT * FROM {table}").df().to_html())
            return time.perf_counter() - started

        first = hydra("first.html")
        html = min(hydra("report.html") for _ in range(args.repeat))
        markdown = min(hydra("report.md") for _ in range(args.repeat))
        base = min(baseline() for _ in range(args.repeat))
        ws.close()
        size = os.path.getsize(os.path.join(folder, "report.html"))
        md_size = os.path.getsize(os.path.join(folder, "report.md"))
        print(f"REPORT html: {html:.2f} s (first, importing matplotlib: {first:.2f} s), {size / 1e6:.2f} MB "
              f"(limits 2 s, 5 MB)")
        print(f"REPORT md:   {markdown:.2f} s, {md_size / 1e6:.2f} MB")
        print(f"pandas to_html of the three tables: {base:.2f} s")
        print(f"ratio html / baseline: {html / base:.2f}x; md / baseline: {markdown / base:.2f}x")
        print(f"load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
        if first > 2 or size > 5e6:
            sys.exit(1)


if __name__ == "__main__":
    main()
