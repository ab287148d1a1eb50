"""Start-up benchmark: ``hydra :memory: -c "SELECT 1"`` against ``python -c "import duckdb"``.

Hyperfine-like: runs both commands alternately N times (after warm-up runs), reports each one's
median, min and spread, and the ratio of the medians. The issue asks for a ratio of at most 1.5.

    python bench/bench_startup.py [-n 30] [--hydra PATH] [--python PATH]

Exit status 0 when the ratio passes, 1 when it does not (so it can gate a CI job if wanted).
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

LIMIT = 1.5


def _time(cmd: list[str], env: dict) -> float:
    started = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    return elapsed


def _hydra_path(python: str) -> str:
    beside = os.path.join(os.path.dirname(python), "hydra")
    return beside if os.path.exists(beside) else (shutil.which("hydra") or "hydra")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-n", "--runs", type=int, default=30)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--python", default=sys.executable)
    p.add_argument("--hydra", default=None, help="the hydra executable (default: next to --python)")
    p.add_argument("--sql", default="SELECT 1")
    p.add_argument("--no-bytecode-cache", action="store_true",
                   help="keep PYTHONDONTWRITEBYTECODE as set (default: use a bytecode cache in a temporary "
                        "folder, as an installed package has compiled .pyc files)")
    args = p.parse_args(argv)
    hydra = args.hydra or _hydra_path(args.python)
    env = dict(os.environ)
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    if not args.no_bytecode_cache:
        # an editable checkout with PYTHONDONTWRITEBYTECODE=1 recompiles hydra's modules on every
        # start (~15 ms); pip compiles .pyc files when it installs a wheel, so measure like that
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), "hydra-bench-pycache")
        print(f"bytecode cache: {env['PYTHONPYCACHEPREFIX']} (--no-bytecode-cache to measure without)")
    else:
        print(f"PYTHONDONTWRITEBYTECODE={env.get('PYTHONDONTWRITEBYTECODE', '')!r}")
    commands = {
        "import duckdb": [args.python, "-c", "import duckdb"],
        f'hydra -c "{args.sql}"': [hydra, ":memory:", "-c", args.sql],
    }
    for cmd in commands.values():
        for _ in range(args.warmup):
            _time(cmd, env)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):  # alternate, so drift in machine load hits both alike
        for name, cmd in commands.items():
            times[name].append(_time(cmd, env))
    medians = {}
    for name, values in times.items():
        medians[name] = statistics.median(values)
        q = statistics.quantiles(values, n=4) if len(values) >= 4 else [min(values), 0, max(values)]
        print(f"{name:<28} median {medians[name] * 1000:7.1f} ms   min {min(values) * 1000:7.1f} ms   "
              f"IQR {q[0] * 1000:6.1f}–{q[2] * 1000:6.1f} ms   ({len(values)} runs)")
    base, ours = medians.values()
    ratio = ours / base
    verdict = "PASS" if ratio <= LIMIT else "FAIL"
    fastest = min(times[list(commands)[1]]) / min(times[list(commands)[0]])
    print(f"ratio of medians (hydra / import duckdb): {ratio:.2f}  (limit {LIMIT})  {verdict}")
    print(f"ratio of fastest runs (less sensitive to a busy machine): {fastest:.2f}")
    return 0 if ratio <= LIMIT else 1


if __name__ == "__main__":
    sys.exit(main())
