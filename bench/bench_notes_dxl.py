"""DXL benchmark: a large Notes export parsed as a stream, in bounded memory.

    python bench/bench_notes_dxl.py [--size 256M,2G] [--path export.dxl] [--keep] [--only head]

Writes a DXL export of ``--size`` bytes (default 2 GB; '200M' for a quick run) with the test
fixtures' streaming writer: two forms of documents with every common item type, rich text, and a
64 kB attachment every 40 documents (about half the bytes are attachments' base64). Then, each in
a fresh process so that peak RSS is its own:

* baseline: lxml's iterparse over the file, clearing each document (the least any streaming
  parse of DXL can cost);
* pass 1: Hydra's parse into documents, learning every form's columns (what ATTACH needs);
* pass 2: Hydra's parse streaming the largest form's rows into Arrow record batches (one
  element's read);
* attachments: Hydra's parse keeping file data, every attachment decoded to a file with its
  SHA-256 (what EXTRACT of the attachments does);
* head: ATTACH through the notes head into a workspace file (one parse: every form's columns,
  notes_docs spilled and streamed in), then ATTACH + EXTRACT of every element (each form, view and
  the attachments: one parse per element, WORKERS 1).

Prints throughput, peak RSS (and it as a share of the file) and the ratio of each pass's time to
the baseline's. Bounded memory is the point: peak RSS must not follow the file size. Given two
sizes or more (``--size 256M,2G``, the default), each export is written, measured and deleted in
turn, and the end compares them: for each pass, how much its peak RSS grew against how much the
file grew (bounded: a few MiB of RSS for GiBs of file).
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

ROOT = Path(__file__).resolve().parent.parent

_PRELUDE = """
import faulthandler, json, resource, sys, time
faulthandler.enable()  # a native crash (SIGABRT, SIGSEGV) prints every thread's Python stack
path = sys.argv[1]
def report(documents, **extra):
    print(json.dumps({"seconds": time.perf_counter() - started, "documents": documents,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      **extra}))
"""

PASSES = {
    "baseline: lxml iterparse + clear": """
from lxml import etree
started = time.perf_counter()
n = 0
for _, el in etree.iterparse(path, tag="{*}document", huge_tree=True):
    n += 1
    el.clear()
    parent = el.getparent()
    while el.getprevious() is not None:
        del parent[0]
report(n)
""",
    "pass 1: documents + form columns": """
from hydra.heads.notes import dxl, forms
from hydra.heads.notes.model import Document
started = time.perf_counter()
learner = forms.SchemaLearner()
n = 0
for e in dxl.parse(path):
    if isinstance(e, Document):
        learner.add(e)
        n += 1
schemas = learner.schemas()
report(n, forms={k: len(v.columns) for k, v in schemas.items()})
""",
    "pass 2: largest form -> Arrow batches": """
from hydra.heads.notes import dxl, forms
from hydra.heads.notes.model import Document
docs = lambda: (e for e in dxl.parse(path) if isinstance(e, Document))
schemas = forms.learn_schemas(docs())  # pass 1, not timed here
form = max(schemas.values(), key=lambda s: s.documents)
started = time.perf_counter()
rows = 0
for batch in forms.form_batches(docs(), form):
    rows += batch.num_rows
report(rows, form=form.form)
""",
    "attachments: decoded to files + SHA-256": """
import os, tempfile
from hydra.heads.notes import dxl
from hydra.heads.notes.model import Document
started = time.perf_counter()
n = files = size = 0
with tempfile.TemporaryDirectory() as out:
    for e in dxl.parse(path, keep_file_data=True):
        if isinstance(e, Document):
            n += 1
            for a in e.attachments:
                with open(os.path.join(out, "f"), "wb") as fp:
                    size += a.save(fp)[0]
                files += 1
report(n, attachments=files, attachment_mb=size / 2**20)
""",
    "head: ATTACH (catalog + notes_docs)": """
import tempfile
from hydra.statements.workspace import Workspace
with tempfile.TemporaryDirectory() as folder:
    ws = Workspace.open(folder + "/ws.duckdb")
    started = time.perf_counter()
    ws.execute(f"ATTACH '{path}' AS notes (TYPE notes)")
    (docs,), = ws.query("SELECT count(*) FROM notes_docs")
    report(docs)
    ws.close()
""",
    "head: ATTACH + EXTRACT forms + attachments": """
import tempfile
from hydra.statements.workspace import Workspace
with tempfile.TemporaryDirectory() as folder:
    ws = Workspace.open(folder + "/ws.duckdb")
    started = time.perf_counter()
    ws.execute(f"ATTACH '{path}' AS notes (TYPE notes)")
    attached = time.perf_counter() - started
    message = ws.execute(f"EXTRACT notes.* TO '{folder}/out' (WORKERS 1)").message
    (rows,), = ws.query("SELECT sum(rows) FROM transfers")
    report(rows, attach_s=round(attached, 1), extract=message.split(":", 1)[1].strip())
    ws.close()
""",
}


def parse_size(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    text = text.strip().upper().removesuffix("B")
    return int(float(text[:-1]) * units[text[-1]]) if text[-1] in units else int(text)


def run(code: str, path: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", _PRELUDE + code, str(path)], capture_output=True,
                         text=True, cwd=ROOT)
    if out.returncode:
        raise SystemExit(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", default="256M,2G",
                   help="export sizes, e.g. 200M or 256M,2G (default 256M,2G)")
    p.add_argument("--path", help="where to write the export (default: a temporary file)")
    p.add_argument("--keep", action="store_true", help="keep the export (reused if it exists)")
    p.add_argument("--only", action="append", default=[],
                   help="run only the passes whose name contains this (repeatable); the "
                        "baseline always runs")
    args = p.parse_args(argv)

    sys.path.insert(0, str(ROOT / "tests"))
    from fakes.domino.dxl import write_large

    sizes = [parse_size(s) for s in args.size.split(",")]
    if args.path and len(sizes) > 1:
        raise SystemExit("--path takes one --size")
    peaks: dict[int, dict[str, float]] = {}
    for size in sizes:
        peaks[size] = measure(args, size, write_large)
    if len(sizes) > 1:
        small, large = min(peaks), max(peaks)
        grown = (large - small) / 2**20
        print(f"peak RSS growth from {small / 2**20:,.0f} MiB to {large / 2**20:,.0f} MiB of DXL "
              f"({grown:,.0f} MiB more file):")
        for name, peak in peaks[large].items():
            more = peak - peaks[small][name]
            print(f"  {name:42s} {peaks[small][name]:6.0f} -> {peak:6.0f} MiB  "
                  f"({more:+.0f} MiB, {more / grown:+.1%} of the file's growth)")
    return 0


def measure(args, size: int, write_large) -> dict[str, float]:
    """Write an export of ``size`` bytes, run the passes on it, delete it; the peak RSS (MiB) of
    each pass."""
    peaks = {}
    tmp = None
    if args.path:
        path = Path(args.path)
    else:
        tmp = tempfile.mkdtemp(prefix="hydra-bench-dxl-")
        path = Path(tmp) / "export.dxl"
    try:
        if not (args.keep and path.exists() and path.stat().st_size >= size):
            started = time.perf_counter()
            written = write_large(path, size)
            print(f"wrote {written['bytes'] / 2**20:,.0f} MiB: {written['documents']:,} documents, "
                  f"{written['attachments']:,} attachments "
                  f"({written['attachment_bytes'] / 2**20:,.0f} MiB) "
                  f"in {time.perf_counter() - started:.0f} s", flush=True)
        mib = path.stat().st_size / 2**20
        print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())} "
              f"on {os.cpu_count()} CPUs", flush=True)
        baseline = None
        for name, code in PASSES.items():
            if args.only and not name.startswith("baseline") and not any(
                    o in name for o in args.only):
                continue
            result = run(code, path)
            seconds = result.pop("seconds")
            baseline = baseline or seconds
            extra = {k: v for k, v in result.items() if k not in ("documents", "peak_rss_mb")}
            peak = peaks[name] = result["peak_rss_mb"]
            print(f"{name:42s} {seconds:7.1f} s  {mib / seconds:6.1f} MiB/s  "
                  f"peak RSS {peak:6.0f} MiB ({peak / mib:5.1%} of the file)  "
                  f"{seconds / baseline:4.2f}x baseline"
                  f"  ({result['documents']:,} rows{', ' + json.dumps(extra) if extra else ''})",
                  flush=True)
        print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    finally:
        if tmp and not args.keep:
            path.unlink(missing_ok=True)
            os.rmdir(tmp)
    return peaks


if __name__ == "__main__":
    sys.exit(main())
