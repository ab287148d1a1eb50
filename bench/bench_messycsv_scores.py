"""Scores of hydra.messycsv against DuckDB's lenient read_csv on the polluted CSV corpus, per kind.

    python bench/bench_messycsv_scores.py [--rows 40] [--seed 7] [--details]

Builds the corpus of tests/support/csv_corpus.py (clean tables polluted one way at a time), reads every
file with Hydra's detector + reader and with DuckDB ``read_csv(strict_mode=false, ignore_errors=true,
null_padding=true)`` in the same run, and prints the mean header, record and cell F1 of each per
pollution kind, then overall. Not a timing: the numbers do not depend on the machine's load.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))

from support import csv_corpus  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--details", action="store_true", help="one line per file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        results = csv_corpus.score_corpus(folder, csv_corpus.build(args.rows, args.seed))
    if args.details:
        for r in results:
            h, d = r["hydra"], r["duckdb"]
            print(f"{r['file']:<40} hydra rec {h['record'].f1:.3f} cell {h['cell'].f1:.3f}   "
                  f"duckdb rec {d['record'].f1:.3f} cell {d['cell'].f1:.3f}")
        print()
    table = csv_corpus.by_kind(results)
    print(f"{'pollution kind':<22} {'header F1':>17} {'record F1':>17} {'cell F1':>17}")
    print(f"{'':<22} {'hydra':>8} {'duckdb':>8} {'hydra':>8} {'duckdb':>8} {'hydra':>8} {'duckdb':>8}")

    def cell(row, key):
        return f"{row[key]:8.3f}" if key in row else f"{'n/a':>8}"

    for kind, row in table.items():
        print(f"{kind:<22} " + " ".join(cell(row, f"{r}_{lvl}") for lvl in ("header", "record", "cell")
                                        for r in ("hydra", "duckdb")))
    overall = {}
    for row in table.values():
        for key, value in row.items():
            overall.setdefault(key, []).append(value)
    overall = {k: sum(v) / len(v) for k, v in overall.items()}
    keys = [f"{r}_{lvl}" for lvl in ("header", "record", "cell") for r in ("hydra", "duckdb")]
    print(f"{'OVERALL (mean of kinds)':<22} " + " ".join(cell(overall, key) for key in keys))
    worse = [k for k, row in table.items() if row["hydra_record"] < row["duckdb_record"] - 1e-9]
    print(f"\nfiles: {len(results)}; kinds where Hydra's record F1 is below DuckDB's: {', '.join(worse) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
