"""EXTRACT and RECONCILE the simulator's wide table through the sap head, in a ``hydra``
subprocess, and compare every extracted value with the simulator's source.

The simulated system (fakes/sap/wide.py: 200 fields, 3,014 characters a row, composite key
MANDT, DOCNR, ITEM) is saved in a DuckDB file that the subprocess's ``pyrfc`` opens
(fakes/sap/pythonpath, ``HYDRA_SAP_SIM``). Hydra attaches it, extracts the table to Parquet in
parallel key ranges, and reconciles it in a second process; then the Parquet files' per-column
checksums (the sum of hash(key, value), see wide_check.py) are compared with the source's,
normalised the way the head must convert them. Prints one JSON line: rows, each process's
seconds and peak RSS, whether RECONCILE passed, the columns whose values differ.

    python tests/heads/sap/extract_check.py --rows 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TESTS = HERE.parents[1]
sys.path.insert(0, str(TESTS))
sys.path.insert(0, str(HERE))

from wide_check import _normalised, _sums_sql  # noqa: E402 - a script beside this one


def hydra_env(system_file: Path, password: str = "secret") -> dict[str, str]:
    """The environment of a ``hydra`` subprocess whose ``pyrfc`` is the simulator."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(TESTS / "fakes" / "sap" / "pythonpath"), str(TESTS), env.get("PYTHONPATH", "")])
    env["HYDRA_SAP_SIM"] = str(system_file)
    env["SAP_PW"] = password
    return env


def run_hydra(workspace: Path, script: str, env: dict[str, str]) -> dict:
    """``hydra workspace -c script``: exit code, output, seconds and the process's own peak RSS
    (``wait4`` gives the rusage of that one child)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "hydra", str(workspace), "-c", script],
                                stdout=out, stderr=err, text=True, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        out.seek(0), err.seek(0)
        text = out.read() + err.read()
    return {"exit": proc.returncode, "output": text, "seconds": round(seconds, 1),
            "peak_rss_mib": round(usage.ru_maxrss / 1024)}


def run(rows: int, workers: int = 2, folder: Path | None = None) -> dict:
    """Build the system, EXTRACT in one hydra process and RECONCILE in another (each with its
    own time and peak memory), then compare the Parquet files with the source."""
    import duckdb

    from fakes.sap import SapSystem
    from fakes.sap.wide import declare_wide_table

    folder = Path(folder or tempfile.mkdtemp(prefix="hydra-sap-extract-"))
    system_file = folder / "sap.duckdb"
    system = SapSystem(str(system_file))
    system.add_user("RFC_USER", "secret")
    declared = declare_wide_table(system, "ZWIDE", rows=rows)
    system.close()
    out, workspace, env = folder / "out", folder / "ws.hydra", hydra_env(system_file)
    attach = ("ATTACH 'sap://RFC_USER@sap-app.client.com/00?client=100' AS erp"
              " (PASSWORD_ENV 'SAP_PW', TABLES 'ZWIDE');")
    extract = run_hydra(workspace, f"{attach} EXTRACT erp.ZWIDE TO '{out}' (WORKERS {workers});",
                        env)
    result = {"rows": rows, "workers": workers, "extract": extract}
    if extract["exit"] != 0:
        return result
    reconcile = run_hydra(workspace, "RECONCILE LAST;", env)
    result["reconcile"] = reconcile
    result["reconciled"] = reconcile["exit"] == 0 and "all passed" in reconcile["output"]
    for step in (extract, reconcile):
        step["output"] = step["output"].strip()[-400:]
    names = [f.name for f in declared]
    files = sorted(str(p) for p in out.rglob("*.parquet"))
    result["files"] = len(files)
    target = duckdb.connect().execute(
        _sums_sql([f'"{n}"' for n in names], f"read_parquet({files!r})")).fetchall()[0]
    source_db = SapSystem.open(str(system_file))
    by_name = {f.name: f for f in declared}
    source = source_db.sql(_sums_sql([_normalised(by_name[n]) for n in names], '"ZWIDE"')
                           ).fetchall()[0]
    source_db.close()
    result["target_rows"], result["source_rows"] = int(target[0]), int(source[0])
    result["mismatched_columns"] = [n for n, ours, theirs in zip(names, target[1:], source[1:],
                                                                 strict=True)
                                    if int(ours or 0) != int(theirs or 0)]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--folder", type=Path, default=None)
    args = parser.parse_args()
    print(json.dumps(run(args.rows, args.workers, args.folder)))


if __name__ == "__main__":
    main()
