"""SAP EXTRACT benchmark: the simulator's wide table (200 fields, 3,014 characters a row,
composite key; tests/fakes/sap/wide.py) extracted to Parquet and reconciled by ``hydra``
processes through the sap head, checked value by value against the simulator's source
(tests/heads/sap/extract_check.py).

    python bench/bench_sap_extract.py [--rows 1000000] [--workers 2]

Baseline, measured in the same run: the head's reader alone (``hydra.heads.sap.reader``, the
same key ranges on as many threads, batches dropped; tests/heads/sap/wide_check.py
``--no-check``), so ``extract / read`` is what Hydra's EXTRACT adds (Parquet, checksums,
manifest) to reading the table. Each step runs in its own process and reports its own peak RSS;
the table's row text is 3 GB at 1M rows. The simulator formats every row in DuckDB in-process,
so absolute rates say little about a real SAP system.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECKS = ROOT / "tests" / "heads" / "sap"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="hydra-bench-sap-") as folder:
        extract = json.loads(subprocess.run(
            [sys.executable, str(CHECKS / "extract_check.py"), "--rows", str(args.rows),
             "--workers", str(args.workers), "--folder", folder],
            capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1])
    read = json.loads(subprocess.run(
        [sys.executable, str(CHECKS / "wide_check.py"), "--rows", str(args.rows), "--parts",
         str(args.workers), "--no-check"],
        capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1])
    seconds = extract.get("extract", {}).get("seconds")
    print(json.dumps({
        "rows": args.rows, "workers": args.workers,
        "extract_seconds": seconds,
        "extract_peak_rss_mib": extract.get("extract", {}).get("peak_rss_mib"),
        "reconcile_seconds": extract.get("reconcile", {}).get("seconds"),
        "reconcile_peak_rss_mib": extract.get("reconcile", {}).get("peak_rss_mib"),
        "reconciled": extract.get("reconciled"),
        "values_equal_source": extract.get("mismatched_columns") == []
        and extract.get("target_rows") == extract.get("source_rows") == args.rows,
        "read_seconds": read["seconds"], "read_peak_rss_mib": read["peak_rss_after_mib"],
        "extract_over_read": round(seconds / read["seconds"], 2) if seconds else None,
        "load_before": [round(x, 1) for x in load_before],
        "load_after": [round(x, 1) for x in os.getloadavg()],
    }))


if __name__ == "__main__":
    main()
